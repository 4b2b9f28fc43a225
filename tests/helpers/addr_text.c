/* addr_text.c - see addr_text.h. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_text.h"

static void add(char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add(char *out, size_t outlen, const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out + n, outlen - n, fmt, ap);
	va_end(ap);
}

static void add_addr(char *out, size_t outlen, int family, const void *a, bool first)
{
	char text[INET6_ADDRSTRLEN];

	if (inet_ntop(family, a, text, sizeof(text)) == NULL) {
		snprintf(text, sizeof(text), "?family%d", family);
	}
	add(out, outlen, "%s%s", first ? "" : ",", text);
}

const char *addr_status_name(enum nss_status s)
{
	switch (s) {
	case NSS_STATUS_SUCCESS:
		return "SUCCESS";
	case NSS_STATUS_NOTFOUND:
		return "NOTFOUND";
	case NSS_STATUS_TRYAGAIN:
		return "TRYAGAIN";
	case NSS_STATUS_UNAVAIL:
		return "UNAVAIL";
	default:
		return "OTHER";
	}
}

void addr_text_hostent(char *out, size_t outlen, const struct hostent *h)
{
	out[0] = 0;
	add(out, outlen, "name=%s aliases=", h->h_name);
	for (char **a = h->h_aliases; *a; a++) {
		add(out, outlen, "%s%s", a == h->h_aliases ? "" : ",", *a);
	}
	add(out, outlen, " type=%d len=%d addrs=", h->h_addrtype, h->h_length);
	for (char **a = h->h_addr_list; *a; a++) {
		add_addr(out, outlen, h->h_addrtype, *a, a == h->h_addr_list);
	}
}

void addr_text_tuples(char *out, size_t outlen, const struct gaih_addrtuple *t)
{
	out[0] = 0;
	add(out, outlen, "name=%s addrs=", t && t->name ? t->name : "(null)");
	for (const struct gaih_addrtuple *p = t; p; p = p->next) {
		if (p != t && p->name) {
			add(out, outlen, "[name %s]", p->name);
		}
		add_addr(out, outlen, p->family, p->addr, p == t);
		if (p->scopeid) {
			add(out, outlen, "%%%u", p->scopeid);
		}
	}
}

void addr_text_result(char *out, size_t outlen, const struct sc_addr_result *r, int family)
{
	out[0] = 0;
	if (family == AF_UNSPEC) {
		add(out, outlen, "name=%s addrs=", r->name ? r->name : "(null)");
		if (r->naliases) {
			add(out, outlen, "[%u aliases]", r->naliases);
		}
		for (unsigned i = 0; i < r->naddr; i++) {
			add_addr(out, outlen, r->addr[i].family, r->addr[i].addr, i == 0);
		}
		return;
	}
	add(out, outlen, "name=%s aliases=", r->name ? r->name : "(null)");
	for (unsigned i = 0; i < r->naliases; i++) {
		add(out, outlen, "%s%s", i ? "," : "", r->aliases[i]);
	}
	/* As a hostent would say it: one family, that family's length. */
	family = r->naddr ? r->addr[0].family : family;
	add(out, outlen, " type=%d len=%d addrs=", family, family == AF_INET ? 4 : 16);
	for (unsigned i = 0; i < r->naddr; i++) {
		if (r->addr[i].family != family) {
			add(out, outlen, "[mixed]");
		}
		add_addr(out, outlen, r->addr[i].family, r->addr[i].addr, i == 0);
	}
}

void addr_text_line(char *out, size_t outlen, enum nss_status s, int herrno, int32_t ttl,
		    const char *answer)
{
	if (ttl == INT32_MAX) {
		snprintf(out, outlen, "%s h_errno=%d ttl=- | %s", addr_status_name(s), herrno,
			 answer);
	} else {
		snprintf(out, outlen, "%s h_errno=%d ttl=%d | %s", addr_status_name(s), herrno,
			 (int)ttl, answer);
	}
}

enum nss_status addr_status_of(int r)
{
	switch (r) {
	case 0:
		return NSS_STATUS_SUCCESS;
	case -ENOENT:
		return NSS_STATUS_NOTFOUND;
	case -EAGAIN:
		return NSS_STATUS_TRYAGAIN;
	default:
		return NSS_STATUS_UNAVAIL;
	}
}

void addr_zone_load(struct dnsd *d)
{
	/* sip.test: negative answers live 5 s (SOA MINIMUM). */
	dnsd_zone(d, "sip.test", 5);
	dnsd_add(d, "sip1.sip.test", ns_t_a, 300, "127.0.0.11");     /* dual stack */
	dnsd_add(d, "sip1.sip.test", ns_t_aaaa, 300, "::1");
	dnsd_add(d, "sip2.sip.test", ns_t_a, 300, "127.0.0.12");     /* IPv4 only */
	dnsd_add(d, "multi.sip.test", ns_t_a, 300, "127.0.0.31");    /* answer order */
	dnsd_add(d, "multi.sip.test", ns_t_a, 250, "127.0.0.32");
	dnsd_add(d, "multi.sip.test", ns_t_a, 300, "127.0.0.33");
	dnsd_add(d, "multi.sip.test", ns_t_aaaa, 300, "2001:db8::31");
	dnsd_add(d, "multi.sip.test", ns_t_aaaa, 300, "2001:db8::32");
	dnsd_add(d, "v6only.sip.test", ns_t_aaaa, 300, "2001:db8::61");
	/* A chain of two CNAMEs: aliases, canonical name, smallest TTL. */
	dnsd_add(d, "alias.sip.test", ns_t_cname, 600, "alias2.sip.test");
	dnsd_add(d, "alias2.sip.test", ns_t_cname, 120, "sip1.sip.test");
	/* CNAME to a name that does not exist: NXDOMAIN with a CNAME. */
	dnsd_add(d, "dangling.sip.test", ns_t_cname, 300, "nx.sip.test");
	/* CNAME out of the server's zones: the answer is the CNAME alone. */
	dnsd_add(d, "cnameout.sip.test", ns_t_cname, 300, "host.elsewhere.test");
	/* CNAME to a name that is no host name: not an alias, but its
	 * address counts. */
	dnsd_add(d, "weird.sip.test", ns_t_cname, 300, "we!rd.sip.test");
	dnsd_add(d, "we!rd.sip.test", ns_t_a, 300, "127.0.0.71");
	/* CNAME to an IPv4-only name: AAAA is NODATA after a CNAME. */
	dnsd_add(d, "v4alias.sip.test", ns_t_cname, 300, "sip2.sip.test");
	/* Only AAAA here, only A in other.test: the pair search stops at
	 * the first candidate with either. */
	dnsd_add(d, "half.sip.test", ns_t_aaaa, 300, "2001:db8::5");
	/* In the hosts file of some tests with another address. */
	dnsd_add(d, "foo.sip.test", ns_t_a, 300, "127.0.0.6");
	/* Expiry tests. */
	dnsd_add(d, "short.sip.test", ns_t_a, 1, "127.0.0.41");
	dnsd_action(d, "servfail.sip.test", 0, DNSD_SERVFAIL);
	dnsd_action(d, "refused.sip.test", 0, DNSD_REFUSED);
	dnsd_action(d, "drop.sip.test", 0, DNSD_DROP);
	/* SERVFAIL for AAAA only: the pair still answers with A. */
	dnsd_add(d, "aaaafail.sip.test", ns_t_a, 300, "127.0.0.51");
	dnsd_action(d, "aaaafail.sip.test", ns_t_aaaa, DNSD_SERVFAIL);
	/* The other way round, and after a NXDOMAIN: glibc's pair reads a
	 * SERVFAIL half as absent and lets the other half decide. */
	dnsd_add(d, "afail.sip.test", ns_t_aaaa, 300, "2001:db8::52");
	dnsd_action(d, "afail.sip.test", ns_t_a, DNSD_SERVFAIL);
	dnsd_action(d, "nxfail.sip.test", ns_t_aaaa, DNSD_SERVFAIL);
	dnsd_action(d, "nxfail2.sip.test", ns_t_a, DNSD_REFUSED);
	/* One half unanswered. */
	dnsd_add(d, "adrop.sip.test", ns_t_aaaa, 300, "2001:db8::53");
	dnsd_action(d, "adrop.sip.test", ns_t_a, DNSD_DROP);
	dnsd_add(d, "aaaadrop.sip.test", ns_t_a, 300, "127.0.0.53");
	dnsd_action(d, "aaaadrop.sip.test", ns_t_aaaa, DNSD_DROP);

	dnsd_zone(d, "other.test", 5);
	dnsd_add(d, "half.other.test", ns_t_a, 300, "192.0.2.5");
	dnsd_add(d, "onlyother.other.test", ns_t_a, 300, "192.0.2.6");

	/* Reverse: 127.0.0.0/24 and ::1. */
	dnsd_zone(d, "0.0.127.in-addr.arpa", 5);
	dnsd_add(d, "11.0.0.127.in-addr.arpa", ns_t_ptr, 300, "sip1.sip.test");
	dnsd_add(d, "12.0.0.127.in-addr.arpa", ns_t_ptr, 300, "sip2.sip.test");
	/* RFC 2317: a classless delegation is a CNAME to the PTR. */
	dnsd_add(d, "13.0.0.127.in-addr.arpa", ns_t_cname, 200, "13.sub.0.0.127.in-addr.arpa");
	dnsd_add(d, "13.sub.0.0.127.in-addr.arpa", ns_t_ptr, 300, "backup.sip.test");
	/* A PTR target that is no host name. */
	dnsd_add(d, "14.0.0.127.in-addr.arpa", ns_t_ptr, 300, "bad!.sip.test");
	/* Two PTRs: the first one is the name. */
	dnsd_add(d, "15.0.0.127.in-addr.arpa", ns_t_ptr, 300, "first.sip.test");
	dnsd_add(d, "15.0.0.127.in-addr.arpa", ns_t_ptr, 300, "second.sip.test");
	dnsd_zone(d, "ip6.arpa", 5);
	dnsd_add(d, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
		 ns_t_ptr, 300, "sip1.sip.test");
}

static void *glibc_fn(const char *name)
{
	void *f = dlvsym(RTLD_DEFAULT, name, "GLIBC_PRIVATE");

	if (f == NULL) {
		fprintf(stderr, "addr_text: %s not found in libc\n", name);
		abort();
	}
	return f;
}

addr_byname3_fn *addr_glibc_byname3(void)
{
	return (addr_byname3_fn *)glibc_fn("_nss_dns_gethostbyname3_r");
}

addr_byname4_fn *addr_glibc_byname4(void)
{
	return (addr_byname4_fn *)glibc_fn("_nss_dns_gethostbyname4_r");
}

addr_byaddr2_fn *addr_glibc_byaddr2(void)
{
	return (addr_byaddr2_fn *)glibc_fn("_nss_dns_gethostbyaddr2_r");
}

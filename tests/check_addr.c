/*
 * check_addr.c - address lookups (shim/sc_addr.c) through a real core.
 *
 * Each test runs in its own process (CK_FORK) with a core of its own: a
 * sipcache.conf, hosts file and cache file in a private directory
 * (SIPCACHE_CONF), and a DNS server in a thread of the test
 * (helpers/addr_dnsd.h) that the thread's resolver state points at.
 *
 * The oracle is glibc's own nss_dns, called in the same process against
 * the same server: for every name of the zone (CNAME chains, dangling and
 * out-of-zone CNAMEs, names that are no host names, NODATA, NXDOMAIN,
 * SERVFAIL, REFUSED, timeouts, search lists, HOSTALIASES) and every
 * family, our answer must be nss_dns's, as whole text (status, h_errno,
 * TTL, name, aliases, addresses in order), on the miss and again on the
 * hit, and the hit must send nothing to the server.
 *
 * Then what nss_dns has no part in: the hosts file in each order, the
 * `family' policy, the max_ttl clamp of the reported TTL, serve-stale.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../shim/sc.h"
#include "helpers/addr_dnsd.h"
#include "helpers/addr_text.h"

static char dir[64];
static struct dnsd *dns;
static struct sc_core *core;
static const struct sc_real real = {
	.res_nquery = res_nquery,
	.res_query = res_query,
};

static const char default_hosts[] = "127.0.0.1 localhost\n";

/* --- the world of one test --------------------------------------------- */

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * A core configured with hosts_order `order', extra sipcache.conf lines
 * `extra' and the hosts file `hosts'; search list "sip.test other.test",
 * ndots 1, a 1 s timeout and one attempt.
 */
static void world(const char *order, const char *extra, const char *hosts)
{
	char conf[2048], path[128];

	snprintf(conf, sizeof(conf),
		 "cache_file = %s/cache.tdb\n"
		 "hosts_file = %s/hosts\n"
		 "hosts_order = %s\n"
		 "log = off\n"
		 "%s",
		 dir, dir, order, extra ? extra : "");
	write_file("sipcache.conf", conf);
	write_file("hosts", hosts ? hosts : default_hosts);
	snprintf(path, sizeof(path), "%s/sipcache.conf", dir);
	setenv("SIPCACHE_CONF", path, 1);
	unsetenv("SIPCACHE_DISABLE");
	setenv("RESOLV_MULTI", "on", 1);
	setenv("LOCALDOMAIN", "sip.test other.test", 1);
	setenv("RES_OPTIONS", "ndots:1", 1);
	unsetenv("HOSTALIASES");

	ck_assert_int_eq(res_init(), 0);
	dnsd_use(dns, &_res, 1, 1);
	core = sc_core_get(&real);
	ck_assert_msg(core != NULL, "no core for %s", conf);
}

static void setup(void)
{
	sc_log_setup(SC_LOG_OFF, LOG_ERR);
	snprintf(dir, sizeof(dir), "/tmp/check_addr.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	dns = dnsd_start();
	addr_zone_load(dns);
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	dnsd_stop(dns);
	dns = NULL;
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	}
	if (d) {
		closedir(d);
	}
	rmdir(dir);
}

/* --- answers as text ------------------------------------------------------ */

static void ours_name(char *out, const char *name, int af, unsigned sources)
{
	struct sc_addr_result *r = malloc(sizeof(*r));
	char answer[ADDR_TEXT_MAX] = "";
	int herrno = -7, rc;

	ck_assert_ptr_nonnull(r);
	memset(r, 0xa5, sizeof(*r));   /* poison: nothing may be read unset */
	rc = sc_addr_by_name(core, name, af, sources, r, &herrno);
	if (rc == 0) {
		addr_text_result(answer, sizeof(answer), r, af);
	} else {
		ck_assert_msg(r->naddr == 0 && r->name == NULL, "%s: failure with an answer", name);
	}
	addr_text_line(out, ADDR_TEXT_MAX, addr_status_of(rc), herrno,
		       r->has_ttl ? r->ttl : INT32_MAX, answer);
	free(r);
}

static void ours_addr(char *out, int af, const void *addr, unsigned sources)
{
	struct sc_addr_result *r = malloc(sizeof(*r));
	char answer[ADDR_TEXT_MAX] = "";
	int herrno = -7, rc;

	ck_assert_ptr_nonnull(r);
	memset(r, 0xa5, sizeof(*r));
	rc = sc_addr_by_addr(core, af, addr, sources, r, &herrno);
	if (rc == 0) {
		addr_text_result(answer, sizeof(answer), r, r->addr[0].family);
	}
	addr_text_line(out, ADDR_TEXT_MAX, addr_status_of(rc), herrno,
		       r->has_ttl ? r->ttl : INT32_MAX, answer);
	free(r);
}

/*
 * nss_dns for one name: gethostbyname4_r for AF_UNSPEC, else
 * gethostbyname2_r's rule (the name must pass res_hnok, else NOTFOUND
 * without a query) in front of gethostbyname3_r for the TTL.
 */
static void glibc_name(char *out, const char *name, int af)
{
	static char buf[65536];
	char answer[ADDR_TEXT_MAX] = "";
	int err = 0, herr = -7;
	int32_t ttl = INT32_MAX;
	enum nss_status s;

	if (af == AF_UNSPEC) {
		struct gaih_addrtuple *pat = NULL;

		s = addr_glibc_byname4()(name, &pat, buf, sizeof(buf), &err, &herr, &ttl);
		if (s == NSS_STATUS_SUCCESS) {
			addr_text_tuples(answer, sizeof(answer), pat);
		}
	} else if (!res_hnok(name)) {
		s = NSS_STATUS_NOTFOUND;
		herr = HOST_NOT_FOUND;
	} else {
		struct hostent h;
		char *canon = NULL;

		s = addr_glibc_byname3()(name, af, &h, buf, sizeof(buf), &err, &herr, &ttl, &canon);
		if (s == NSS_STATUS_SUCCESS) {
			addr_text_hostent(answer, sizeof(answer), &h);
			ck_assert_str_eq(canon, h.h_name);
		}
	}
	addr_text_line(out, ADDR_TEXT_MAX, s, herr, ttl, answer);
}

static void glibc_addr(char *out, int af, const void *addr)
{
	static char buf[65536];
	char answer[ADDR_TEXT_MAX] = "";
	int err = 0, herr = -7;
	int32_t ttl = INT32_MAX;
	struct hostent h;
	enum nss_status s;

	s = addr_glibc_byaddr2()(addr, af == AF_INET ? 4 : 16, af, &h, buf, sizeof(buf), &err,
				 &herr, &ttl);
	if (s == NSS_STATUS_SUCCESS) {
		addr_text_hostent(answer, sizeof(answer), &h);
	}
	addr_text_line(out, ADDR_TEXT_MAX, s, herr, ttl, answer);
}

/* The number after "ttl=" (INT32_MAX for "-"), and the line with it
 * replaced by `*'. */
static int32_t split_ttl(const char *line, char *rest, size_t restlen)
{
	const char *t = strstr(line, " ttl=");
	const char *end;
	int32_t ttl;

	ck_assert_ptr_nonnull(t);
	t += 5;
	ttl = *t == '-' ? INT32_MAX : (int32_t)strtol(t, NULL, 10);
	end = strchr(t, ' ');
	ck_assert_ptr_nonnull(end);
	snprintf(rest, restlen, "%.*sttl=*%s", (int)(t - 5 - line + 1), line, end);
	return ttl;
}

/*
 * A hit gives the miss's answer, its TTL no higher: records are served
 * with at most the entry's remaining lifetime, which for a "no data"
 * after a CNAME is the negative TTL (5 s here), not the CNAME's.
 */
static void assert_same_but_older(const char *hit, const char *miss, const char *what)
{
	char a[ADDR_TEXT_MAX], b[ADDR_TEXT_MAX];
	int32_t th = split_ttl(hit, a, sizeof(a)), tm = split_ttl(miss, b, sizeof(b));

	ck_assert_msg(strcmp(a, b) == 0, "%s: hit [%s] miss [%s]", what, hit, miss);
	ck_assert_msg(th <= tm, "%s: TTL %d on the hit, %d on the miss", what, th, tm);
	ck_assert_msg((tm == INT32_MAX) == (th == INT32_MAX), "%s: TTL %d on the hit, %d on the miss",
		      what, th, tm);
}

static const char *af_name(int af)
{
	return af == AF_INET ? "AF_INET" : af == AF_INET6 ? "AF_INET6" : "AF_UNSPEC";
}

/*
 * nss_dns's answer, then ours twice (the miss, the hit): the same text,
 * the miss sending what nss_dns sent, the hit `hit_queries' queries
 * (0 when everything the lookup needs is cacheable; -1: not checked;
 * ANY_COUNT: no count checked at all).
 */
#define ANY_COUNT (-2)

static void same_as_glibc(const char *name, int af, int hit_queries)
{
	char g[ADDR_TEXT_MAX], miss[ADDR_TEXT_MAX], hit[ADDR_TEXT_MAX], what[300];
	unsigned q0, q1, q2, q3;

	snprintf(what, sizeof(what), "%s %s", name, af_name(af));
	/* A cold cache: the miss must be one. */
	ck_assert_int_ge(sc_cache_flush(sc_core_cache(core)), 0);
	q0 = dnsd_count(dns, 0);
	glibc_name(g, name, af);
	q1 = dnsd_count(dns, 0);
	ours_name(miss, name, af, SC_ADDR_DNS);
	q2 = dnsd_count(dns, 0);
	ours_name(hit, name, af, SC_ADDR_DNS);
	q3 = dnsd_count(dns, 0);

	ck_assert_msg(strcmp(miss, g) == 0, "%s:\n  glibc [%s]\n  ours  [%s]", what, g, miss);
	assert_same_but_older(hit, miss, what);
	ck_assert_msg(hit_queries == ANY_COUNT || q2 - q1 == q1 - q0,
		      "%s: %u queries, glibc sent %u", what, q2 - q1, q1 - q0);
	if (hit_queries >= 0) {
		ck_assert_msg(q3 - q2 == (unsigned)hit_queries, "%s: the hit sent %u queries", what,
			      q3 - q2);
	}
}

static void same_addr_as_glibc(const char *text, int hit_queries)
{
	unsigned char a[16];
	char g[ADDR_TEXT_MAX], miss[ADDR_TEXT_MAX], hit[ADDR_TEXT_MAX];
	int af = strchr(text, ':') ? AF_INET6 : AF_INET;
	unsigned q0, q1, q2, q3;

	ck_assert_int_eq(inet_pton(af, text, a), 1);
	ck_assert_int_ge(sc_cache_flush(sc_core_cache(core)), 0);
	q0 = dnsd_count(dns, 0);
	glibc_addr(g, af, a);
	q1 = dnsd_count(dns, 0);
	ours_addr(miss, af, a, SC_ADDR_DNS);
	q2 = dnsd_count(dns, 0);
	ours_addr(hit, af, a, SC_ADDR_DNS);
	q3 = dnsd_count(dns, 0);

	ck_assert_msg(strcmp(miss, g) == 0, "%s:\n  glibc [%s]\n  ours  [%s]", text, g, miss);
	assert_same_but_older(hit, miss, text);
	ck_assert_msg(q2 - q1 == q1 - q0, "%s: %u queries, glibc sent %u", text, q2 - q1, q1 - q0);
	if (hit_queries >= 0) {
		ck_assert_msg(q3 - q2 == (unsigned)hit_queries, "%s: the hit sent %u queries", text,
			      q3 - q2);
	}
}

static void assert_name(const char *name, int af, unsigned sources, const char *expected)
{
	char out[ADDR_TEXT_MAX];

	ours_name(out, name, af, sources);
	ck_assert_msg(strcmp(out, expected) == 0, "%s %s:\n  expected [%s]\n  got      [%s]", name,
		      af_name(af), expected, out);
}

/* --- nss_dns, name by name -------------------------------------------------- */

static const int families[] = { AF_INET, AF_INET6, AF_UNSPEC };

/* Every answer here is cacheable: the hit asks nothing. */
static const char *const cached_names[] = {
	"sip1.sip.test",
	"SIP1.Sip.Test",       /* the caller's spelling comes back */
	"sip1.sip.test.",      /* as is, no search */
	"sip2.sip.test",       /* AAAA: NODATA */
	"multi.sip.test",      /* order, smallest TTL */
	"v6only.sip.test",
	"alias.sip.test",      /* two CNAMEs: aliases, canonical name, TTL */
	"ALIAS.sip.test",
	"dangling.sip.test",   /* NXDOMAIN after a CNAME */
	"weird.sip.test",      /* CNAME to a name that is no host name */
	"v4alias.sip.test",    /* AAAA: a CNAME, then nothing */
	"nx.sip.test",         /* NXDOMAIN, then the search list */
	"sip1",                /* search list: sip1.sip.test */
	"half",                /* the pair stops at the first domain */
	"half.sip.test",
	"bad!name.sip.test",   /* no host name: no query at all */
	"-lead.sip.test",
	"",
};

START_TEST(test_byname_like_nss_dns)
{
	world("files-first", NULL, NULL);
	for (unsigned i = 0; i < SC_ARRAY_SIZE(cached_names); i++) {
		for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
			same_as_glibc(cached_names[i], families[f], 0);
		}
	}
}
END_TEST

/* Failures that are never cached: each lookup asks again, and gets
 * nss_dns's status for them. */
START_TEST(test_byname_failures_like_nss_dns)
{
	world("files-first", NULL, NULL);
	for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
		same_as_glibc("servfail.sip.test", families[f], -1);
		same_as_glibc("refused.sip.test", families[f], -1);
		/* A NXDOMAIN in both domains, then REFUSED for "nx" itself. */
		same_as_glibc("nx", families[f], -1);
		/* Found in the second domain of the search list (AAAA: no
		 * data there, then REFUSED for the name alone). */
		same_as_glibc("onlyother", families[f], -1);
	}
	/* A CNAME alone, its target out of the server's zones: an
	 * incomplete chain, which the cache does not keep. */
	for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
		same_as_glibc("cnameout.sip.test", families[f], -1);
	}
	/* SERVFAIL for AAAA only: A answers; AAAA is asked again. */
	same_as_glibc("aaaafail.sip.test", AF_INET, 0);
	same_as_glibc("aaaafail.sip.test", AF_INET6, -1);
	same_as_glibc("aaaafail.sip.test", AF_UNSPEC, -1);
	for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
		same_as_glibc("afail.sip.test", families[f], -1);
		same_as_glibc("nxfail.sip.test", families[f], -1);
		same_as_glibc("nxfail2.sip.test", families[f], -1);
	}
}
END_TEST

/* No answer at all: nss_dns's statuses after a timeout (the name is
 * tried as is, then searched: the result mixes both). */
START_TEST(test_byname_timeout_like_nss_dns)
{
	world("files-first", NULL, NULL);
	for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
		char g[ADDR_TEXT_MAX], o[ADDR_TEXT_MAX];

		glibc_name(g, "drop.sip.test", families[f]);
		ours_name(o, "drop.sip.test", families[f], SC_ADDR_DNS);
		ck_assert_msg(strcmp(g, o) == 0, "drop %s:\n  glibc [%s]\n  ours  [%s]",
			      af_name(families[f]), g, o);
	}
	/* One half unanswered: glibc's pair fails when A is the silent
	 * one (we do not ask AAAA then) and answers with A when AAAA is.
	 * (Query counts differ: glibc retransmits the pair.) */
	for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
		same_as_glibc("adrop.sip.test", families[f], ANY_COUNT);
		same_as_glibc("aaaadrop.sip.test", families[f], ANY_COUNT);
	}
	/* Without a search list the timeout is the final word: UNAVAIL
	 * with TRY_AGAIN, and for the pair after one timeout, not two. */
	_res.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
		char g[ADDR_TEXT_MAX], o[ADDR_TEXT_MAX];
		int64_t t0;

		glibc_name(g, "drop.sip.test", families[f]);
		t0 = sc_now_mono_ms();
		ours_name(o, "drop.sip.test", families[f], SC_ADDR_DNS);
		ck_assert_msg(strcmp(g, o) == 0, "drop %s:\n  glibc [%s]\n  ours  [%s]",
			      af_name(families[f]), g, o);
		ck_assert_msg(strncmp(o, "UNAVAIL h_errno=2 ", 18) == 0, "%s", o);
		ck_assert_int_lt(sc_now_mono_ms() - t0, 1900);
	}
}
END_TEST

START_TEST(test_byname_hostaliases_like_nss_dns)
{
	world("files-first", NULL, NULL);
	write_file("aliases", "myalias sip1.sip.test\nother alias.sip.test\n");
	{
		char p[128];

		snprintf(p, sizeof(p), "%s/aliases", dir);
		setenv("HOSTALIASES", p, 1);
	}
	for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
		same_as_glibc("myalias", families[f], 0);
		same_as_glibc("other", families[f], 0);
	}
	assert_name("myalias", AF_UNSPEC, SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=300 | name=sip1.sip.test addrs=127.0.0.11,::1");
}
END_TEST

/* `search = no' is res_nsearch without RES_DNSRCH and RES_DEFNAMES. */
START_TEST(test_byname_search_off)
{
	char g[ADDR_TEXT_MAX], o[ADDR_TEXT_MAX];
	unsigned long options;

	world("files-first", "search = no\n", NULL);
	for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
		options = _res.options;
		_res.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
		glibc_name(g, "half", families[f]);
		_res.options = options;
		ours_name(o, "half", families[f], SC_ADDR_DNS);
		ck_assert_msg(strcmp(g, o) == 0, "half %s:\n  glibc [%s]\n  ours  [%s]",
			      af_name(families[f]), g, o);
	}
	/* "half" alone: REFUSED by the server, a failed exchange for
	 * libresolv. */
	assert_name("half", AF_UNSPEC, SC_ADDR_DNS, "UNAVAIL h_errno=2 ttl=- | ");
}
END_TEST

/* --- nss_dns, address by address ------------------------------------------- */

START_TEST(test_byaddr_like_nss_dns)
{
	world("files-first", NULL, NULL);
	same_addr_as_glibc("127.0.0.11", 0);
	same_addr_as_glibc("127.0.0.12", 0);
	same_addr_as_glibc("127.0.0.13", 0);          /* RFC 2317 CNAME */
	same_addr_as_glibc("127.0.0.14", 0);          /* target no host name */
	same_addr_as_glibc("127.0.0.15", 0);          /* two PTRs: the first */
	same_addr_as_glibc("127.0.0.99", 0);          /* NXDOMAIN */
	same_addr_as_glibc("::1", 0);                 /* ip6.arpa nibbles */
	same_addr_as_glibc("::ffff:127.0.0.11", 0);   /* mapped: asked as IPv4 */
	same_addr_as_glibc("::127.0.0.12", 0);        /* compatible: IPv4 too */
	same_addr_as_glibc("2001:db8::5", -1);        /* REFUSED: not cached */
	same_addr_as_glibc("192.0.2.1", -1);
}
END_TEST

/* --- the hosts file ---------------------------------------------------------- */

/*
 * The core answers res_query A/AAAA from the hosts file too, for every
 * name it is asked (search candidates included), which nss_dns never
 * does: keep that apart here, these tests are about sc_addr's own use of
 * the file (see the note in sc_addr.c).
 */
#define HOSTS_APART "hosts_in_res_query = no\n"

static const char foo_hosts[] =
	"127.0.0.1 localhost\n"
	"127.0.0.5 foo.sip.test foo\n"
	"2001:db8::55 foo.sip.test\n"
	"127.0.0.7 hostsonly.sip.test hostsonly\n";

START_TEST(test_hosts_files_first)
{
	unsigned char a[4] = { 127, 0, 0, 5 };
	char out[ADDR_TEXT_MAX], g[ADDR_TEXT_MAX];

	world("files-first", HOSTS_APART, foo_hosts);
	dnsd_reset(dns);
	assert_name("foo.sip.test", AF_INET, SC_ADDR_FILES | SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=- | name=foo.sip.test aliases=foo type=2 len=4 "
		    "addrs=127.0.0.5");
	assert_name("foo", AF_INET, SC_ADDR_FILES | SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=- | name=foo.sip.test aliases=foo type=2 len=4 "
		    "addrs=127.0.0.5");
	assert_name("foo.sip.test", AF_INET6, SC_ADDR_FILES | SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=- | name=foo.sip.test aliases= type=10 len=16 "
		    "addrs=2001:db8::55");
	/* gethostbyname4_r: every line's address, no aliases. */
	assert_name("foo.sip.test", AF_UNSPEC, SC_ADDR_FILES | SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=- | name=foo.sip.test addrs=127.0.0.5,2001:db8::55");
	ours_addr(out, AF_INET, a, SC_ADDR_FILES | SC_ADDR_DNS);
	ck_assert_str_eq(out, "SUCCESS h_errno=0 ttl=- | name=foo.sip.test aliases=foo type=2 "
			      "len=4 addrs=127.0.0.5");
	ck_assert_uint_eq(dnsd_count(dns, 0), 0);
	/* "foo" has no IPv6 line (the alias is on the IPv4 one): DNS then,
	 * where nss_dns would search foo.sip.test and find no AAAA. */
	glibc_name(g, "foo", AF_INET6);
	ours_name(out, "foo", AF_INET6, SC_ADDR_FILES | SC_ADDR_DNS);
	ck_assert_str_eq(out, g);
	dnsd_reset(dns);

	/* Without SC_ADDR_FILES (glibc's `files' ran first): DNS. */
	assert_name("foo.sip.test", AF_INET, SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=300 | name=foo.sip.test aliases= type=2 len=4 "
		    "addrs=127.0.0.6");
	ck_assert_uint_eq(dnsd_count(dns, ns_t_a), 1);
	/* The file's name as given: no search list, no trailing dot. */
	assert_name("hostsonly.sip.test.", AF_INET, SC_ADDR_FILES | SC_ADDR_DNS,
		    "NOTFOUND h_errno=1 ttl=- | ");
}
END_TEST

START_TEST(test_hosts_dns_first)
{
	unsigned char a[4] = { 127, 0, 0, 7 };
	char out[ADDR_TEXT_MAX];

	world("dns-first", HOSTS_APART, foo_hosts);
	assert_name("foo.sip.test", AF_INET, SC_ADDR_FILES | SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=300 | name=foo.sip.test aliases= type=2 len=4 "
		    "addrs=127.0.0.6");
	/* DNS says NXDOMAIN: the file answers, after the query. */
	dnsd_reset(dns);
	assert_name("hostsonly.sip.test", AF_INET, SC_ADDR_FILES | SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=- | name=hostsonly.sip.test aliases=hostsonly type=2 "
		    "len=4 addrs=127.0.0.7");
	ck_assert_uint_gt(dnsd_count(dns, ns_t_a), 0);
	/* Not in the file either: DNS's failure, its TTL untouched. */
	assert_name("nx.sip.test", AF_UNSPEC, SC_ADDR_FILES | SC_ADDR_DNS,
		    "NOTFOUND h_errno=1 ttl=- | ");
	/* A PTR that DNS lacks. */
	ours_addr(out, AF_INET, a, SC_ADDR_FILES | SC_ADDR_DNS);
	ck_assert_str_eq(out, "SUCCESS h_errno=0 ttl=- | name=hostsonly.sip.test "
			      "aliases=hostsonly type=2 len=4 addrs=127.0.0.7");
}
END_TEST

START_TEST(test_hosts_never)
{
	world("never", HOSTS_APART, foo_hosts);
	assert_name("hostsonly.sip.test", AF_INET, SC_ADDR_FILES | SC_ADDR_DNS,
		    "NOTFOUND h_errno=1 ttl=- | ");
	assert_name("foo.sip.test", AF_INET, SC_ADDR_FILES | SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=300 | name=foo.sip.test aliases= type=2 len=4 "
		    "addrs=127.0.0.6");
}
END_TEST

/* An answer bigger than a result holds is not cut: libc must answer. */
START_TEST(test_hosts_too_big)
{
	char hosts[4096] = "127.0.0.8 big.sip.test";
	char out[ADDR_TEXT_MAX];

	for (int i = 0; i < SC_HOSTS_MAXALIAS + 5; i++) {
		snprintf(hosts + strlen(hosts), sizeof(hosts) - strlen(hosts), " a%d", i);
	}
	strcat(hosts, "\n");
	world("files-first", NULL, hosts);
	ours_name(out, "big.sip.test", AF_INET, SC_ADDR_FILES | SC_ADDR_DNS);
	ck_assert_msg(strncmp(out, "UNAVAIL ", 8) == 0, "%s", out);
	/* gethostbyname4_r has no aliases to overflow. */
	assert_name("big.sip.test", AF_UNSPEC, SC_ADDR_FILES | SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=- | name=big.sip.test addrs=127.0.0.8");
}
END_TEST

/* --- the family policy --------------------------------------------------------- */

START_TEST(test_family_ipv4)
{
	world("files-first", "family = ipv4\n", "127.0.0.1 localhost\n::1 localhost\n");
	dnsd_reset(dns);
	assert_name("sip1.sip.test", AF_UNSPEC, SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=300 | name=sip1.sip.test addrs=127.0.0.11");
	ck_assert_uint_eq(dnsd_count(dns, ns_t_aaaa), 0);
	assert_name("sip1.sip.test", AF_INET6, SC_ADDR_DNS, "NOTFOUND h_errno=4 ttl=- | ");
	ck_assert_uint_eq(dnsd_count(dns, 0), 1);
	/* One family, as gethostbyname4_r with RES_NOAAAA: its rules. */
	assert_name("v6only.sip.test", AF_UNSPEC, SC_ADDR_DNS, "NOTFOUND h_errno=4 ttl=- | ");
	assert_name("localhost", AF_UNSPEC, SC_ADDR_FILES | SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=- | name=localhost addrs=127.0.0.1");
}
END_TEST

START_TEST(test_family_ipv6)
{
	world("files-first", "family = ipv6\n", "127.0.0.1 localhost\n::1 localhost\n");
	dnsd_reset(dns);
	assert_name("sip1.sip.test", AF_UNSPEC, SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=300 | name=sip1.sip.test addrs=::1");
	ck_assert_uint_eq(dnsd_count(dns, ns_t_a), 0);
	assert_name("sip1.sip.test", AF_INET, SC_ADDR_DNS, "NOTFOUND h_errno=4 ttl=- | ");
	ck_assert_uint_eq(dnsd_count(dns, 0), 1);
	assert_name("localhost", AF_UNSPEC, SC_ADDR_FILES | SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=- | name=localhost addrs=::1");
}
END_TEST

START_TEST(test_family_prefer_ipv6)
{
	world("files-first", "family = prefer-ipv6\n",
	      "127.0.0.1 localhost\n127.0.0.2 localhost\n::1 localhost\n");
	assert_name("multi.sip.test", AF_UNSPEC, SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=250 | name=multi.sip.test "
		    "addrs=2001:db8::31,2001:db8::32,127.0.0.31,127.0.0.32,127.0.0.33");
	/* Only A: still found. */
	assert_name("sip2.sip.test", AF_UNSPEC, SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=300 | name=sip2.sip.test addrs=127.0.0.12");
	/* One family asked: the policy orders nothing. */
	assert_name("multi.sip.test", AF_INET, SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=250 | name=multi.sip.test aliases= type=2 len=4 "
		    "addrs=127.0.0.31,127.0.0.32,127.0.0.33");
	assert_name("localhost", AF_UNSPEC, SC_ADDR_FILES | SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=- | name=localhost addrs=::1,127.0.0.1,127.0.0.2");
}
END_TEST

/* --- TTLs ---------------------------------------------------------------------- */

/* max_ttl bounds the reported TTL on the miss too (callers such as nscd
 * cache on their own); min_ttl does not raise it. */
START_TEST(test_ttl_clamped)
{
	unsigned char a[4] = { 127, 0, 0, 11 };
	char out[ADDR_TEXT_MAX];

	world("files-first", "max_ttl = 100\nmin_ttl = 50\n", NULL);
	for (int i = 0; i < 2; i++) {
		assert_name("sip1.sip.test", AF_INET, SC_ADDR_DNS,
			    "SUCCESS h_errno=0 ttl=100 | name=sip1.sip.test aliases= type=2 len=4 "
			    "addrs=127.0.0.11");
		assert_name("alias.sip.test", AF_UNSPEC, SC_ADDR_DNS,
			    "SUCCESS h_errno=0 ttl=100 | name=sip1.sip.test addrs=127.0.0.11,::1");
		assert_name("short.sip.test", AF_INET, SC_ADDR_DNS,
			    "SUCCESS h_errno=0 ttl=1 | name=short.sip.test aliases= type=2 len=4 "
			    "addrs=127.0.0.41");
		ours_addr(out, AF_INET, a, SC_ADDR_DNS);
		ck_assert_str_eq(out, "SUCCESS h_errno=0 ttl=100 | name=sip1.sip.test aliases= "
				      "type=2 len=4 addrs=127.0.0.11");
	}
}
END_TEST

/* Upstream silent after expiry: the expired answer is served (RFC 8767),
 * its TTL at most the stale TTL, after one unanswered query. */
START_TEST(test_serve_stale)
{
	int64_t t0;

	world("files-first", NULL, NULL);
	assert_name("short.sip.test", AF_INET, SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=1 | name=short.sip.test aliases= type=2 len=4 "
		    "addrs=127.0.0.41");
	usleep(2200 * 1000);
	dnsd_action(dns, "short.sip.test", 0, DNSD_DROP);
	dnsd_reset(dns);
	t0 = sc_now_mono_ms();
	assert_name("short.sip.test", AF_INET, SC_ADDR_DNS,
		    "SUCCESS h_errno=0 ttl=1 | name=short.sip.test aliases= type=2 len=4 "
		    "addrs=127.0.0.41");
	ck_assert_int_ge(sc_now_mono_ms() - t0, 900);
	ck_assert_uint_eq(dnsd_count(dns, ns_t_a), 1);
}
END_TEST

/* --- the first level of results ------------------------------------------------ */

/*
 * sc_addr.c keeps whole results per thread for the current wall-clock
 * second, checked against the change counters of the cache keys they
 * came from, the marks, the hosts file and the resolver state.  Each test
 * below fills it (a lookup served by the cache), changes one of those
 * inputs and proves the very next lookup sees the change.  All of it must
 * happen within one second, or the copy would have lapsed anyway and the
 * test would prove nothing: each round starts just after a second begins
 * and is repeated when it ran over.
 */
#define L1_ROUNDS 5

static int64_t second_start(void)
{
	int64_t s = sc_now();

	while (sc_now() == s) {
		usleep(1000);
	}
	return sc_now();
}

static void cache_store_from_server(const char *name, uint16_t type)
{
	unsigned char ans[512], wire[SC_DNS_MAXNAME];
	struct sc_msg *m = malloc(sizeof(*m));
	struct sc_key key;
	int n;

	ck_assert_ptr_nonnull(m);
	n = res_query(name, ns_c_in, type, ans, sizeof(ans));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(sc_dns_parse(ans, (size_t)n, m), 0);
	ck_assert_int_gt(sc_dns_name_from_text(name, wire, sizeof(wire)), 0);
	ck_assert_int_eq(sc_key_make(&key, wire, type, ns_c_in), 0);
	ck_assert_int_eq(sc_cache_put(sc_core_cache(core), &key, m, 300, 0, sc_now()), 0);
	free(m);
}

/* Fill: a miss (stored), then a hit, which the first level keeps. */
static void l1_fill(const char *name, int af, unsigned sources, char *out)
{
	char again[ADDR_TEXT_MAX];

	ours_name(out, name, af, sources);
	ours_name(again, name, af, sources);
	ck_assert_str_eq(again, out);
}

START_TEST(test_l1_flush)
{
	char before[ADDR_TEXT_MAX], kept[ADDR_TEXT_MAX], after[ADDR_TEXT_MAX], g[ADDR_TEXT_MAX];
	int64_t s0;
	int round;

	world("files-first", NULL, NULL);
	for (round = 0; round < L1_ROUNDS; round++) {
		dnsd_del(dns, "l1.sip.test", 0);
		dnsd_add(dns, "l1.sip.test", ns_t_a, 300, "127.0.0.31");
		ck_assert_int_ge(sc_cache_flush(sc_core_cache(core)), 0);
		s0 = second_start();
		l1_fill("l1.sip.test", AF_UNSPEC, SC_ADDR_DNS, before);
		ck_assert_ptr_nonnull(strstr(before, "addrs=127.0.0.31"));
		/* The server changes; the cache (and its first level) does not. */
		dnsd_del(dns, "l1.sip.test", ns_t_a);
		dnsd_add(dns, "l1.sip.test", ns_t_a, 300, "127.0.0.32");
		dnsd_reset(dns);
		ours_name(kept, "l1.sip.test", AF_UNSPEC, SC_ADDR_DNS);
		ck_assert_str_eq(kept, before);
		ck_assert_uint_eq(dnsd_count(dns, 0), 0);
		/* A flush: the next lookup asks again and sees the change. */
		ck_assert_int_ge(sc_cache_flush(sc_core_cache(core)), 0);
		ours_name(after, "l1.sip.test", AF_UNSPEC, SC_ADDR_DNS);
		ck_assert_uint_eq(dnsd_count(dns, 0), 2);
		glibc_name(g, "l1.sip.test", AF_UNSPEC);
		ck_assert_str_eq(after, g);
		ck_assert_ptr_nonnull(strstr(after, "addrs=127.0.0.32"));
		if (sc_now() == s0) {
			break;
		}
	}
	ck_assert_int_lt(round, L1_ROUNDS);
}
END_TEST

START_TEST(test_l1_store)
{
	char before[ADDR_TEXT_MAX], after[ADDR_TEXT_MAX], g[ADDR_TEXT_MAX];
	int64_t s0;
	int round;

	world("files-first", NULL, NULL);
	for (round = 0; round < L1_ROUNDS; round++) {
		dnsd_del(dns, "l1s.sip.test", 0);
		dnsd_add(dns, "l1s.sip.test", ns_t_a, 300, "127.0.0.33");
		ck_assert_int_ge(sc_cache_flush(sc_core_cache(core)), 0);
		s0 = second_start();
		/* One family: the path through sc_core_search. */
		l1_fill("l1s.sip.test", AF_INET, SC_ADDR_DNS, before);
		ck_assert_ptr_nonnull(strstr(before, "addrs=127.0.0.33"));
		dnsd_del(dns, "l1s.sip.test", ns_t_a);
		dnsd_add(dns, "l1s.sip.test", ns_t_a, 300, "127.0.0.34");
		/* A store over the entry (another process's miss, say). */
		cache_store_from_server("l1s.sip.test", ns_t_a);
		dnsd_reset(dns);
		ours_name(after, "l1s.sip.test", AF_INET, SC_ADDR_DNS);
		ck_assert_uint_eq(dnsd_count(dns, 0), 0);
		glibc_name(g, "l1s.sip.test", AF_INET);
		ck_assert_str_eq(after, g);
		ck_assert_ptr_nonnull(strstr(after, "addrs=127.0.0.34"));
		if (sc_now() == s0) {
			break;
		}
	}
	ck_assert_int_lt(round, L1_ROUNDS);
}
END_TEST

START_TEST(test_l1_mark)
{
	char before[ADDR_TEXT_MAX], after[ADDR_TEXT_MAX], expected[ADDR_TEXT_MAX];
	char *p;
	int64_t s0;
	int round;

	world("files-first", NULL, NULL);
	dnsd_add(dns, "l1m.sip.test", ns_t_a, 300, "127.0.0.41");
	dnsd_add(dns, "l1m.sip.test", ns_t_a, 300, "127.0.0.42");
	for (round = 0; round < L1_ROUNDS; round++) {
		sc_marks_up(sc_core_cache(core), NULL, sc_now());
		ck_assert_int_ge(sc_cache_flush(sc_core_cache(core)), 0);
		s0 = second_start();
		l1_fill("l1m.sip.test", AF_UNSPEC, SC_ADDR_DNS, before);
		p = strstr(before, "addrs=127.0.0.41,127.0.0.42");
		ck_assert_ptr_nonnull(p);
		/* Marked down: dropped while an unmarked address remains. */
		ck_assert_int_eq(sc_marks_down(sc_core_cache(core), "127.0.0.41", 60, sc_now()), 0);
		ours_name(after, "l1m.sip.test", AF_UNSPEC, SC_ADDR_DNS);
		snprintf(expected, sizeof(expected), "%.*saddrs=127.0.0.42", (int)(p - before),
			 before);
		ck_assert_str_eq(after, expected);
		/* Kept with the mark applied, then the mark lifted. */
		ours_name(after, "l1m.sip.test", AF_UNSPEC, SC_ADDR_DNS);
		ck_assert_str_eq(after, expected);
		ck_assert_int_eq(sc_marks_up(sc_core_cache(core), "127.0.0.41", sc_now()), 0);
		ours_name(after, "l1m.sip.test", AF_UNSPEC, SC_ADDR_DNS);
		ck_assert_str_eq(after, before);
		if (sc_now() == s0) {
			break;
		}
	}
	ck_assert_int_lt(round, L1_ROUNDS);
}
END_TEST

/*
 * The hosts file is checked at most once a second: the check before the
 * copy is taken must be under a second old, the one after it due, and
 * both copies in the same wall-clock second.
 */
START_TEST(test_l1_hosts)
{
	char before[ADDR_TEXT_MAX], after[ADDR_TEXT_MAX];
	int64_t s0, t0;
	int round;

	world("files-first", NULL, default_hosts);
	dnsd_add(dns, "l1h.sip.test", ns_t_a, 300, "127.0.0.51");
	for (round = 0; round < L1_ROUNDS; round++) {
		write_file("hosts", default_hosts);
		ck_assert_int_ge(sc_cache_flush(sc_core_cache(core)), 0);
		usleep(1100 * 1000);
		/* 300 ms before a second begins: a lookup checks the file. */
		second_start();
		usleep(700 * 1000);
		assert_name("localhost", AF_INET, SC_ADDR_FILES | SC_ADDR_DNS,
			    "SUCCESS h_errno=0 ttl=- | name=localhost aliases= type=2 len=4 "
			    "addrs=127.0.0.1");
		t0 = sc_now_mono_ms();
		s0 = second_start();
		l1_fill("l1h.sip.test", AF_INET, SC_ADDR_FILES | SC_ADDR_DNS, before);
		ck_assert_ptr_nonnull(strstr(before, "addrs=127.0.0.51"));
		write_file("hosts", "127.0.0.1 localhost\n127.0.0.52 l1h.sip.test\n");
		while (sc_now_mono_ms() - t0 < 1050) {
			usleep(1000);
		}
		ours_name(after, "l1h.sip.test", AF_INET, SC_ADDR_FILES | SC_ADDR_DNS);
		ck_assert_str_eq(after, "SUCCESS h_errno=0 ttl=- | name=l1h.sip.test aliases= "
					"type=2 len=4 addrs=127.0.0.52");
		if (sc_now() == s0) {
			break;
		}
	}
	ck_assert_int_lt(round, L1_ROUNDS);
}
END_TEST

/* The thread's resolver options decide what the core may serve: without
 * RES_RECURSE it passes the question to libresolv, uncached. */
START_TEST(test_l1_resolver_state)
{
	char before[ADDR_TEXT_MAX], after[ADDR_TEXT_MAX];
	int64_t s0;
	int round;

	world("files-first", NULL, NULL);
	dnsd_add(dns, "l1r.sip.test", ns_t_a, 300, "127.0.0.61");
	for (round = 0; round < L1_ROUNDS; round++) {
		_res.options |= RES_RECURSE;
		ck_assert_int_ge(sc_cache_flush(sc_core_cache(core)), 0);
		s0 = second_start();
		l1_fill("l1r.sip.test", AF_UNSPEC, SC_ADDR_DNS, before);
		_res.options &= ~(unsigned long)RES_RECURSE;
		dnsd_reset(dns);
		ours_name(after, "l1r.sip.test", AF_UNSPEC, SC_ADDR_DNS);
		ck_assert_uint_eq(dnsd_count(dns, 0), 2);
		ck_assert_str_eq(after, before);
		if (sc_now() == s0) {
			break;
		}
	}
	ck_assert_int_lt(round, L1_ROUNDS);
}
END_TEST

/* A copy holds for its second only: the TTL a hit reports (nscd caches
 * by it) is the entry's remaining life, one less each second. */
START_TEST(test_l1_ttl_ages)
{
	char before[ADDR_TEXT_MAX], after[ADDR_TEXT_MAX], expected[ADDR_TEXT_MAX];
	const char *p;
	int64_t s0;
	int round;

	world("files-first", NULL, NULL);
	for (round = 0; round < L1_ROUNDS; round++) {
		ck_assert_int_ge(sc_cache_flush(sc_core_cache(core)), 0);
		s0 = second_start();
		l1_fill("sip2.sip.test", AF_INET, SC_ADDR_DNS, before);
		p = strstr(before, "ttl=300 ");
		ck_assert_ptr_nonnull(p);
		if (sc_now() != s0) {
			continue;
		}
		second_start();
		ours_name(after, "sip2.sip.test", AF_INET, SC_ADDR_DNS);
		snprintf(expected, sizeof(expected), "%.*sttl=299%s", (int)(p - before), before,
			 p + strlen("ttl=300"));
		ck_assert_str_eq(after, expected);
		if (sc_now() == s0 + 1) {
			break;
		}
	}
	ck_assert_int_lt(round, L1_ROUNDS);
}
END_TEST

/* A kept copy counts what the lookup through the cache counts. */
START_TEST(test_l1_counts)
{
	struct sc_stats_snapshot a, b, c;
	char out[ADDR_TEXT_MAX], hit[ADDR_TEXT_MAX];
	struct sc_stats *st;
	int64_t s0;
	int round;

	world("files-first", NULL, NULL);
	st = sc_core_stats(core);
	ck_assert_ptr_nonnull(st);
	for (round = 0; round < L1_ROUNDS; round++) {
		ck_assert_int_ge(sc_cache_flush(sc_core_cache(core)), 0);
		s0 = second_start();
		ours_name(out, "sip2.sip.test", AF_UNSPEC, SC_ADDR_DNS);   /* miss */
		sc_stats_read(st, &a);
		ours_name(hit, "sip2.sip.test", AF_UNSPEC, SC_ADDR_DNS);   /* cache */
		ck_assert_str_eq(hit, out);
		sc_stats_read(st, &b);
		ours_name(hit, "sip2.sip.test", AF_UNSPEC, SC_ADDR_DNS);   /* kept */
		ck_assert_str_eq(hit, out);
		sc_stats_read(st, &c);
		/* A positive A hit and a negative AAAA hit, each time. */
		ck_assert_uint_eq(b.c[SC_STAT_HITS] - a.c[SC_STAT_HITS], 2);
		ck_assert_uint_eq(b.c[SC_STAT_NEGATIVE_HITS] - a.c[SC_STAT_NEGATIVE_HITS], 1);
		for (int i = 0; i < SC_STAT__MAX; i++) {
			ck_assert_uint_eq(c.c[i] - b.c[i], b.c[i] - a.c[i]);
		}
		for (int i = 0; i < SC_STYPE__MAX; i++) {
			ck_assert_uint_eq(c.type_hits[i] - b.type_hits[i],
					  b.type_hits[i] - a.type_hits[i]);
			ck_assert_uint_eq(c.type_misses[i] - b.type_misses[i],
					  b.type_misses[i] - a.type_misses[i]);
		}
		if (sc_now() == s0) {
			break;
		}
	}
	ck_assert_int_lt(round, L1_ROUNDS);
}
END_TEST

/* --- arguments ------------------------------------------------------------------ */

START_TEST(test_bad_family)
{
	struct sc_addr_result *r = malloc(sizeof(*r));
	unsigned char a[16] = { 0 };
	int herrno = -7;

	world("files-first", NULL, NULL);
	ck_assert_int_eq(sc_addr_by_name(core, "sip1.sip.test", AF_UNIX, SC_ADDR_DNS, r, &herrno),
			 -EAFNOSUPPORT);
	ck_assert_int_eq(herrno, NO_DATA);
	ck_assert_int_eq(sc_addr_by_addr(core, AF_UNIX, a, SC_ADDR_DNS, r, &herrno),
			 -EAFNOSUPPORT);
	ck_assert_int_eq(herrno, NETDB_INTERNAL);
	ck_assert_uint_eq(dnsd_count(dns, 0), 0);
	free(r);
}
END_TEST

/* The table the NSS module finds in the preload. */
START_TEST(test_ops_table)
{
	ck_assert_uint_eq(sipcache_core_ops_v1.size, sizeof(struct sc_core_ops));
	ck_assert_ptr_eq(sipcache_core_ops_v1.get, sc_core_get);
	ck_assert_ptr_eq(sipcache_core_ops_v1.enter, sc_core_enter);
	ck_assert_ptr_eq(sipcache_core_ops_v1.leave, sc_core_leave);
	ck_assert_ptr_eq(sipcache_core_ops_v1.addr_by_name, sc_addr_by_name);
	ck_assert_ptr_eq(sipcache_core_ops_v1.addr_by_addr, sc_addr_by_addr);
	ck_assert_ptr_eq(sipcache_core_ops_v1.nss_sources, sc_addr_nss_sources);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("nss_dns");
	TCase *th = tcase_create("hosts");
	TCase *tp = tcase_create("policy");
	TCase *tl = tcase_create("first level");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_byname_like_nss_dns);
	tcase_add_test(tc, test_byname_failures_like_nss_dns);
	tcase_add_test(tc, test_byname_timeout_like_nss_dns);
	tcase_add_test(tc, test_byname_hostaliases_like_nss_dns);
	tcase_add_test(tc, test_byname_search_off);
	tcase_add_test(tc, test_byaddr_like_nss_dns);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(th, setup, teardown);
	tcase_set_timeout(th, 30);
	tcase_add_test(th, test_hosts_files_first);
	tcase_add_test(th, test_hosts_dns_first);
	tcase_add_test(th, test_hosts_never);
	tcase_add_test(th, test_hosts_too_big);
	suite_add_tcase(s, th);

	tcase_add_checked_fixture(tp, setup, teardown);
	tcase_set_timeout(tp, 30);
	tcase_add_test(tp, test_family_ipv4);
	tcase_add_test(tp, test_family_ipv6);
	tcase_add_test(tp, test_family_prefer_ipv6);
	tcase_add_test(tp, test_ttl_clamped);
	tcase_add_test(tp, test_serve_stale);
	tcase_add_test(tp, test_bad_family);
	tcase_add_test(tp, test_ops_table);
	suite_add_tcase(s, tp);

	tcase_add_checked_fixture(tl, setup, teardown);
	tcase_set_timeout(tl, 60);
	tcase_add_test(tl, test_l1_flush);
	tcase_add_test(tl, test_l1_store);
	tcase_add_test(tl, test_l1_mark);
	tcase_add_test(tl, test_l1_hosts);
	tcase_add_test(tl, test_l1_resolver_state);
	tcase_add_test(tl, test_l1_counts);
	tcase_add_test(tl, test_l1_ttl_ages);
	suite_add_tcase(s, tl);

	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

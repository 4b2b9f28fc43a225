/*
 * sc_sip.c - RFC 3263 target selection, ENUM, "does this domain's SIP
 * SRV point at this host".  Used by sipcachectl (resolve, enum, serves),
 * never on the hit path; every DNS question goes through sc_core_query,
 * so these lookups use the cache and fill it like any client's.
 *
 * RFC 3263 section 4, as implemented (sc_sip_resolve):
 *
 *   TARGET   the maddr parameter if present, else the host.
 *   numeric  an IP address: no DNS at all.  Transport: the transport
 *            parameter, else UDP for sip:, TLS for sips:; port: the
 *            URI's, else 5060 (5061 for TLS).
 *   port     a name with an explicit port: A/AAAA of the name only (the
 *            port says which server; SRV would override it).
 *   transport=  SRV of that transport (_sip._udp, _sip._tcp, _sips._tcp
 *            for TLS and for sips: over TCP, _sip._sctp, _sips._sctp),
 *            then the name's A/AAAA when there is no SRV RRset.
 *   NAPTR    otherwise.  Usable records: flags "s", empty regexp, a
 *            service SIP+D2U/D2T/D2S or SIPS+D2T/D2S (for a sips: URI
 *            only SIPS ones: "SIPS only TLS"), a transport the client
 *            allows, a replacement that is not the root.  Ordered by
 *            order, then preference, then the client's preference for
 *            the transport (RFC 3263 leaves ties of equal order and
 *            preference to the client), then as received; with
 *            `ignore_rfc' the client's preference comes first, as with
 *            Kamailio's dns_naptr_ignore_rfc.  Each usable record, in
 *            that order, contributes the targets of its SRV RRset: the
 *            list is what a client would try, first to last.
 *   no NAPTR SRV of every transport the client allows (for sips: TLS
 *            ones only), highest preference first; equal preferences
 *            keep Kamailio's order udp, tcp, tls, sctp.
 *   no SRV   when no SRV RRset was found at all: A/AAAA of the name, UDP
 *            (TLS for sips:), port 5060 (5061).  An SRV RRset whose only
 *            target is "." says the service is "decidedly not available"
 *            (RFC 2782): it counts as found, so no A fallback happens.
 *   SRV      RFC 2782 order (sc_srv_rfc2782, the same draw as served
 *            answers), "." targets skipped, each target's A then AAAA
 *            (the configured `family' decides which and in which order),
 *            one list entry per address; a target without any address
 *            is listed with none, so the operator sees it.
 *   marks    targets marked down (sc_marks) stay in the list, flagged,
 *            after all the others (stable).
 *
 * Names from URIs are taken as fully qualified: RFC 3263 resolves the
 * domain as written, and a search list would silently resolve another
 * domain.  A CNAME at any step is followed (sc_srv_rrset).
 *
 * ENUM (RFC 6116, DDDS RFC 3402/3403): the number's digits reversed
 * under each suffix in turn until one has NAPTR records; records sorted
 * by order then preference; a terminal rule ("u") rewrites the
 * application unique string ("+" and the digits) with its substitution
 * expression, a non-terminal one (empty flags) names the next domain to
 * ask (bounded depth); once an order produced a result, later orders are
 * not considered (RFC 3403 4.1) unless SC_ENUM_ALL.  The substitution
 * expression is applied with POSIX regcomp/regexec (REG_EXTENDED, plus
 * REG_ICASE for the "i" flag) and the result is the replacement with
 * its back references filled in, the reading of every ENUM client (an
 * ENUM regexp matches the whole string anyway: "!^.*$!...!").
 *
 * Serves (mass virtual hosting): the SRV RRsets a SIP client could use
 * for the domain (those its SIP NAPTRs name, and the five standard
 * ones), every target's A and AAAA, compared with this host's addresses
 * from getifaddrs().  An address inside the prefix of a loopback
 * interface counts as ours: the kernel accepts the whole 127.0.0.0/8 as
 * local, so SIP servers bound to 127.0.0.11 answer there.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sc.h"

#define SIP_PORT 5060
#define SIPS_PORT 5061
#define ANSWER_MAX 65536   /* a whole DNS message */
#define ENUM_DEPTH 4       /* non-terminal NAPTR rules followed */
#define ENUM_DEFAULT_SUFFIX "e164.arpa"

static inline uint16_t get16(const unsigned char *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static const char *const transport_names[SC_SIP__TRANSPORTS] = {
	[SC_SIP_UDP] = "udp",
	[SC_SIP_TCP] = "tcp",
	[SC_SIP_TLS] = "tls",
	[SC_SIP_SCTP] = "sctp",
	[SC_SIP_TLS_SCTP] = "tls-sctp",
};

/* SRV service and protocol labels of each transport (RFC 3263 4.2). */
static const char *const srv_prefix[SC_SIP__TRANSPORTS] = {
	[SC_SIP_UDP] = "_sip._udp",
	[SC_SIP_TCP] = "_sip._tcp",
	[SC_SIP_TLS] = "_sips._tcp",
	[SC_SIP_SCTP] = "_sip._sctp",
	[SC_SIP_TLS_SCTP] = "_sips._sctp",
};

const char *sc_sip_transport_name(enum sc_sip_transport t)
{
	return (unsigned)t < SC_SIP__TRANSPORTS ? transport_names[t] : "?";
}

void sc_sip_prefs_default(struct sc_sip_prefs *p)
{
	p->pref[SC_SIP_UDP] = 30;
	p->pref[SC_SIP_TCP] = 20;
	p->pref[SC_SIP_TLS] = 10;
	p->pref[SC_SIP_SCTP] = 20;
	/* Kamailio has no DTLS/TLS over SCTP: off unless asked for. */
	p->pref[SC_SIP_TLS_SCTP] = -1;
	p->ignore_rfc = false;
}

static bool is_tls(enum sc_sip_transport t)
{
	return t == SC_SIP_TLS || t == SC_SIP_TLS_SCTP;
}

static uint16_t default_port(enum sc_sip_transport t)
{
	return is_tls(t) ? SIPS_PORT : SIP_PORT;
}

/* ------------------------------------------------------------------ */
/* URIs                                                                */

/* A host name as RFC 3261 spells one (letters, digits, '-', '.'; '_'
 * tolerated, as resolvers do).  Anything else (blanks, '/', '%'
 * escapes) is refused rather than sent to DNS as a strange name. */
static bool hostname_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0) {
		return false;
	}
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_')) {
			return false;
		}
	}
	return true;
}

/* host [ ":" port ] of `s' (n bytes) into ret->host/family/addr/port. */
static int parse_hostport(const char *s, size_t n, bool allow_port, struct sc_sip_uri *ret)
{
	const char *host = s, *port = NULL;
	size_t hlen = n;

	if (n > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', n);

		if (end == NULL) {
			return -EINVAL;
		}
		host = s + 1;
		hlen = (size_t)(end - host);
		if ((size_t)(end - s) + 1 < n) {
			if (end[1] != ':') {
				return -EINVAL;
			}
			port = end + 2;
		}
		if (hlen == 0 || hlen >= sizeof(ret->host)) {
			return -EINVAL;
		}
		memcpy(ret->host, host, hlen);
		ret->host[hlen] = '\0';
		if (inet_pton(AF_INET6, ret->host, ret->addr) != 1) {
			return -EINVAL;
		}
		ret->family = AF_INET6;
	} else {
		const char *colon = memchr(s, ':', n);

		if (colon) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
		}
		if (!hostname_ok(host, hlen) || hlen >= sizeof(ret->host)) {
			return -EINVAL;
		}
		memcpy(ret->host, host, hlen);
		ret->host[hlen] = '\0';
		ret->family = inet_pton(AF_INET, ret->host, ret->addr) == 1 ? AF_INET : AF_UNSPEC;
	}
	if (port) {
		unsigned long v = 0;
		const char *p;

		if (!allow_port || port >= s + n) {
			return -EINVAL;
		}
		for (p = port; p < s + n; p++) {
			if (*p < '0' || *p > '9' || (v = v * 10 + (unsigned long)(*p - '0')) > 65535) {
				return -EINVAL;
			}
		}
		if (v == 0) {
			return -EINVAL;
		}
		ret->port = (uint16_t)v;
	}
	return 0;
}

/*
 * The transport parameter (RFC 3261 19.1.1, case-insensitive).  For a
 * sips: URI it names the layer under TLS: transport=tcp is TLS over TCP,
 * which is what RFC 3263 4.1 means by "TCP for a SIPS URI".
 */
static int transport_of(const char *v, size_t n, bool sips)
{
	if (n == 3 && strncasecmp(v, "udp", 3) == 0) {
		/* There is no TLS over UDP in RFC 3261: sips: with UDP is
		 * an error, not a downgrade. */
		return sips ? -EINVAL : SC_SIP_UDP;
	}
	if (n == 3 && strncasecmp(v, "tcp", 3) == 0) {
		return sips ? SC_SIP_TLS : SC_SIP_TCP;
	}
	if (n == 3 && strncasecmp(v, "tls", 3) == 0) {
		return SC_SIP_TLS;   /* the deprecated spelling of sips */
	}
	if (n == 4 && strncasecmp(v, "sctp", 4) == 0) {
		return sips ? SC_SIP_TLS_SCTP : SC_SIP_SCTP;
	}
	return -EINVAL;   /* ws, wss, ...: not resolved by RFC 3263 */
}

/*
 * Only what RFC 3263 needs is read: scheme, host, port, transport and
 * maddr.  The user part, other parameters and headers are skipped, not
 * checked: sipcachectl resolves URIs copied from traces, and a parameter
 * we do not know must not make the target unresolvable.
 */
int sc_sip_uri_parse(const char *uri, struct sc_sip_uri *ret)
{
	const char *p, *at, *end, *q, *hp_end;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->transport = -1;
	ret->family = AF_UNSPEC;
	if (uri == NULL) {
		return -EINVAL;
	}
	if (strncasecmp(uri, "sips:", 5) == 0) {
		ret->sips = true;
		p = uri + 5;
	} else if (strncasecmp(uri, "sip:", 4) == 0) {
		p = uri + 4;
	} else {
		return -EINVAL;
	}
	/*
	 * Headers start at the first '?' that follows the host; a user
	 * part may itself hold '?' and ';' (RFC 3261 user-unreserved), but
	 * never '@' unescaped: the userinfo ends at the first '@' before
	 * the headers (an '@' in a header value is not taken for one).
	 */
	end = p + strcspn(p, "?");
	at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		if (at == p) {
			return -EINVAL;   /* "sip:@host": a userinfo without a user */
		}
		p = at + 1;
		end = p + strcspn(p, "?");
	}
	hp_end = p + strcspn(p, ";?");
	if (hp_end > end) {
		hp_end = end;
	}
	r = parse_hostport(p, (size_t)(hp_end - p), true, ret);
	if (r < 0) {
		return r;
	}
	/* Parameters: ;name[=value], names case-insensitive. */
	for (q = hp_end; q < end && *q == ';';) {
		const char *name = q + 1, *pend = name + strcspn(name, ";?");
		const char *eq = memchr(name, '=', (size_t)(pend - name));
		const char *val = eq ? eq + 1 : pend;
		size_t nlen = (size_t)((eq ? eq : pend) - name), vlen = (size_t)(pend - val);

		if (pend > end) {
			pend = end;
		}
		if (nlen == 9 && strncasecmp(name, "transport", 9) == 0) {
			r = transport_of(val, vlen, ret->sips);
			if (r < 0) {
				return r;
			}
			ret->transport = r;
		} else if (nlen == 5 && strncasecmp(name, "maddr", 5) == 0) {
			/* RFC 3263 4: maddr, when present, is the TARGET. */
			struct sc_sip_uri m;
			uint16_t port = ret->port;

			memset(&m, 0, sizeof(m));
			if (parse_hostport(val, vlen, false, &m) < 0) {
				return -EINVAL;
			}
			memcpy(ret->host, m.host, sizeof(ret->host));
			memcpy(ret->addr, m.addr, sizeof(ret->addr));
			ret->family = m.family;
			ret->port = port;
		}
		q = pend;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* lookups                                                             */

struct answer {
	unsigned char buf[ANSWER_MAX];
	struct sc_msg m;
	unsigned idx[SC_DNS_MAXRR];
	unsigned n;            /* records of the RRset asked for */
};

struct sip_ctx {
	struct sc_core *core;
	struct sc_sip_result *res;
	const struct sc_sip_prefs *prefs;
	struct sc_rng *rng;
	bool any_srv;          /* an SRV RRset was found */
	int failure;           /* a lookup failed: -EAGAIN */
	unsigned queries;
};

/*
 * One question through the core.  0 with the RRset answering it (which
 * may be empty when the answer is only a CNAME chain), -ENOENT
 * (NXDOMAIN), -ENODATA, -EAGAIN (timeout, SERVFAIL...: recorded in the
 * context), -EBADMSG (an answer our parser refuses), -ENOMEM.
 */
static int lookup(struct sip_ctx *x, const unsigned char *name, uint16_t type,
		  struct answer **ret)
{
	char text[SC_DNS_MAXTEXT];
	struct sc_query q;
	struct answer *a;
	int n, herrno = 0, r;

	*ret = NULL;
	if (sc_dns_name_to_text(name, text, sizeof(text)) < 0) {
		return -EINVAL;
	}
	a = malloc(sizeof(*a));
	if (a == NULL) {
		return -ENOMEM;
	}
	/* A/AAAA of targets as a client's res_query gets them: the hosts
	 * file may answer, in the configured order. */
	q = (struct sc_query){ .name = text, .class = SC_C_IN, .type = type,
			       .answer = a->buf, .anslen = (int)sizeof(a->buf), .hosts = true,
			       .raw = true };
	x->queries++;
	n = sc_core_query(x->core, &q, &herrno);
	if (n < 0) {
		switch (herrno) {
		case HOST_NOT_FOUND:
			r = -ENOENT;
			break;
		case NO_DATA:
			r = -ENODATA;
			break;
		default:
			/* TRY_AGAIN, NO_RECOVERY, a network error: nothing
			 * was learnt about the name. */
			r = -EAGAIN;
			x->failure = -EAGAIN;
			break;
		}
		goto fail;
	}
	if ((size_t)n > sizeof(a->buf)) {
		n = (int)sizeof(a->buf);
	}
	/* What the core hands over is what the caller of res_query would
	 * get: an answer our parser refuses (it was not cached either) or
	 * one to another question is no answer here. */
	if (sc_dns_parse(a->buf, (size_t)n, &a->m) < 0 || a->m.qdcount != 1 ||
	    a->m.qtype != type || !sc_dns_name_equal(a->buf + SC_DNS_HDRLEN, name)) {
		r = -EBADMSG;
		goto fail;
	}
	r = sc_srv_rrset(&a->m, type, a->idx, SC_DNS_MAXRR, NULL);
	if (r < 0) {
		goto fail;
	}
	a->n = (unsigned)r;
	*ret = a;
	return 0;

fail:
	free(a);
	return r;
}

/* ------------------------------------------------------------------ */
/* results                                                             */

/* A <character-string> as a zone file writes it, quoted. */
static size_t string_text(const unsigned char *s, char *out, size_t room)
{
	size_t o = 0, i;

	if (room < 3) {
		return 0;
	}
	out[o++] = '"';
	for (i = 0; i < s[0] && o + 6 < room; i++) {
		unsigned char c = s[1 + i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, room - o, "\\%03u", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

/* Copy `s' into out (outlen), cut with "..." when it does not fit. */
static void copy_cut(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(s);

	if (n < outlen) {
		memcpy(out, s, n + 1);
		return;
	}
	memcpy(out, s, outlen - 4);
	memcpy(out + outlen - 4, "...", 4);
}

/* "OWNER NAPTR ..." / "OWNER SRV ..." of record i of `a'. */
static void record_text(const struct answer *a, unsigned i, char *out, size_t outlen)
{
	const struct sc_rr *rr = &a->m.rr[i];
	const unsigned char *b = a->m.buf, *rd = b + rr->rdata_off;
	unsigned char owner[SC_DNS_MAXNAME], name[SC_DNS_MAXNAME];
	char otext[SC_DNS_MAXTEXT], ntext[SC_DNS_MAXTEXT], f[3][1100];
	char text[2 * SC_DNS_MAXTEXT + 3 * 1100 + 64];
	size_t p;
	unsigned k;

	out[0] = '\0';
	if (sc_dns_name_expand(b, a->m.len, rr->name_off, owner, NULL) < 0 ||
	    sc_dns_name_to_text(owner, otext, sizeof(otext)) < 0) {
		return;
	}
	if (rr->type == SC_T_SRV) {
		if (sc_dns_name_expand(b, a->m.len, rr->rdata_off + 6u, name, NULL) < 0 ||
		    sc_dns_name_to_text(name, ntext, sizeof(ntext)) < 0) {
			return;
		}
		snprintf(text, sizeof(text), "%s SRV %u %u %u %s", otext, get16(rd), get16(rd + 2),
			 get16(rd + 4), ntext);
	} else {
		p = (size_t)rr->rdata_off + 4;
		for (k = 0; k < 3; k++) {
			string_text(b + p, f[k], sizeof(f[k]));
			p += 1u + b[p];
		}
		if (sc_dns_name_expand(b, a->m.len, p, name, NULL) < 0 ||
		    sc_dns_name_to_text(name, ntext, sizeof(ntext)) < 0) {
			return;
		}
		snprintf(text, sizeof(text), "%s NAPTR %u %u %s %s %s %s", otext, get16(rd),
			 get16(rd + 2), f[0], f[1], f[2], ntext);
	}
	copy_cut(out, outlen, text);
}

/* A record that may lead to targets: listed in res->via with the first
 * target it gives, not before (a NAPTR whose SRV does not exist led
 * nowhere). */
struct via_ref {
	const struct answer *a;
	unsigned idx;
	unsigned via;           /* 1 + index in res->via, 0: not yet */
};

/* 1 + index of the record's text in res->via (added once); 0 when full. */
static unsigned add_via(struct sip_ctx *x, const struct answer *a, unsigned i)
{
	struct sc_sip_result *res = x->res;
	char text[SC_SIP_VIALEN];
	unsigned k;

	record_text(a, i, text, sizeof(text));
	for (k = 0; k < res->nvia; k++) {
		if (strcmp(res->via[k], text) == 0) {
			return k + 1;
		}
	}
	if (res->nvia == SC_SIP_MAXVIA) {
		return 0;
	}
	memcpy(res->via[res->nvia], text, sizeof(text));
	return ++res->nvia;
}

static void add_target(struct sip_ctx *x, enum sc_sip_transport t, const char *host,
		       uint16_t port, int family, const void *addr, struct via_ref *naptr,
		       struct via_ref *srv)
{
	struct sc_sip_result *res = x->res;
	struct sc_sip_target *tg;

	if (res->n == SC_SIP_MAXTARGETS) {
		res->truncated = true;
		return;
	}
	if (naptr && naptr->a && naptr->via == 0) {
		naptr->via = add_via(x, naptr->a, naptr->idx);
	}
	if (srv && srv->a && srv->via == 0) {
		srv->via = add_via(x, srv->a, srv->idx);
	}
	tg = &res->t[res->n++];
	memset(tg, 0, offsetof(struct sc_sip_target, host));
	tg->transport = t;
	tg->port = port;
	tg->family = family;
	if (family == AF_INET || family == AF_INET6) {
		memcpy(tg->addr, addr, family == AF_INET ? 4 : 16);
	}
	tg->naptr = naptr ? naptr->via : 0;
	tg->srv = srv ? srv->via : 0;
	snprintf(tg->host, sizeof(tg->host), "%s", host);
}

int sc_sip_target_format(const struct sc_sip_target *t, char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN] = "-";
	int n;

	if (t->family == AF_INET || t->family == AF_INET6) {
		inet_ntop(t->family, t->addr, addr, sizeof(addr));
	}
	n = snprintf(out, outlen, "%s %s %u %s%s", sc_sip_transport_name(t->transport), t->host,
		     t->port, addr, t->down ? " down" : "");
	return n < 0 || (size_t)n >= outlen ? -ENOSPC : n;
}

/* ------------------------------------------------------------------ */
/* RFC 3263 steps                                                      */

/*
 * Addresses of `name' for the list: the configured family decides which
 * types and in which order (any: A then AAAA).  With `both', A and AAAA
 * whatever the configuration (serves: any address may be ours).
 */
static void addresses(struct sip_ctx *x, const unsigned char *name, enum sc_sip_transport t,
		      uint16_t port, struct via_ref *naptr, struct via_ref *srv, bool both)
{
	enum sc_family fam = both ? SC_FAMILY_ANY : sc_core_conf(x->core)->family;
	uint16_t types[2];
	unsigned ntypes = 0, i, k, found = 0;
	bool failed = false;
	char text[SC_DNS_MAXTEXT];

	switch (fam) {
	case SC_FAMILY_IPV4:
		types[ntypes++] = SC_T_A;
		break;
	case SC_FAMILY_IPV6:
		types[ntypes++] = SC_T_AAAA;
		break;
	case SC_FAMILY_PREFER_IPV6:
		types[ntypes++] = SC_T_AAAA;
		types[ntypes++] = SC_T_A;
		break;
	default:
		types[ntypes++] = SC_T_A;
		types[ntypes++] = SC_T_AAAA;
		break;
	}
	if (sc_dns_name_to_text(name, text, sizeof(text)) < 0) {
		return;
	}
	for (i = 0; i < ntypes; i++) {
		struct answer *a;
		int r = lookup(x, name, types[i], &a);

		if (r < 0) {
			failed |= r != -ENOENT && r != -ENODATA;
			continue;
		}
		for (k = 0; k < a->n; k++) {
			const struct sc_rr *rr = &a->m.rr[a->idx[k]];

			add_target(x, t, text, port, types[i] == SC_T_A ? AF_INET : AF_INET6,
				   a->m.buf + rr->rdata_off, naptr, srv);
			found++;
		}
		free(a);
	}
	/* An SRV target is listed without an address when DNS says it has
	 * none (the operator sees the broken record); the URI's own host
	 * without an address is no target at all; and when a lookup failed
	 * nobody knows, so the failure is reported instead. */
	if (found == 0 && !failed && srv != NULL) {
		add_target(x, t, text, port, AF_UNSPEC, NULL, naptr, srv);
	}
}

/* The targets of the SRV RRset of `name', in RFC 2782 order. */
static void srv_targets(struct sip_ctx *x, const unsigned char *name, enum sc_sip_transport t,
			struct via_ref *naptr, bool both)
{
	struct sc_srv_pick pick[SC_DNS_MAXRR];
	struct answer *a;
	unsigned char target[SC_DNS_MAXNAME];
	unsigned i;

	if (lookup(x, name, SC_T_SRV, &a) < 0) {
		return;
	}
	if (a->n > 0) {
		x->any_srv = true;
	}
	for (i = 0; i < a->n; i++) {
		const unsigned char *rd = a->m.buf + a->m.rr[a->idx[i]].rdata_off;

		pick[i].prio = get16(rd);
		pick[i].weight = get16(rd + 2);
		pick[i].idx = a->idx[i];
	}
	sc_srv_rfc2782(pick, a->n, x->rng);
	for (i = 0; i < a->n; i++) {
		const struct sc_rr *rr = &a->m.rr[pick[i].idx];
		struct via_ref via = { .a = a, .idx = pick[i].idx };

		if (sc_dns_name_expand(a->m.buf, a->m.len, rr->rdata_off + 6u, target, NULL) <= 1) {
			continue;   /* "." or unreadable: no server there */
		}
		addresses(x, target, t, get16(a->m.buf + rr->rdata_off + 4), naptr, &via, both);
	}
	free(a);
}

/* `prefix' (e.g. "_sip._udp") and `name' joined, in wire form. */
static int srv_name(const char *prefix, const unsigned char *name, unsigned char *out)
{
	unsigned char p[SC_DNS_MAXNAME];
	int pl = sc_dns_name_from_text(prefix, p, sizeof(p));
	size_t nl = sc_dns_name_len(name);

	if (pl < 1 || nl == 0 || (size_t)pl - 1 + nl > SC_DNS_MAXNAME) {
		return -EINVAL;
	}
	memcpy(out, p, (size_t)pl - 1);
	memcpy(out + pl - 1, name, nl);
	return 0;
}

/* Transport of a NAPTR's service field (<character-string> at `s'), -1
 * when it is not one of RFC 3263's. */
static int naptr_transport(const unsigned char *s, bool sips_only)
{
	static const struct {
		const char *service;
		enum sc_sip_transport t;
		bool sips;
	} services[] = {
		{ "SIP+D2U", SC_SIP_UDP, false },
		{ "SIP+D2T", SC_SIP_TCP, false },
		{ "SIP+D2S", SC_SIP_SCTP, false },
		{ "SIPS+D2T", SC_SIP_TLS, true },
		{ "SIPS+D2S", SC_SIP_TLS_SCTP, true },
	};
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(services); i++) {
		size_t n = strlen(services[i].service);

		if (s[0] == n && strncasecmp((const char *)s + 1, services[i].service, n) == 0) {
			return sips_only && !services[i].sips ? -1 : (int)services[i].t;
		}
	}
	return -1;
}

struct naptr_pick {
	uint16_t order, pref;
	int client;            /* the client's preference for the transport */
	unsigned idx;          /* record, also the tie-break (as received) */
	enum sc_sip_transport t;
	unsigned char repl[SC_DNS_MAXNAME];
};

/*
 * RFC 3263 4.1: the lowest order first, then the lowest preference
 * (RFC 3403 4.1); "the client MAY use its own preference" among records
 * of equal order and preference, which is where the client's transport
 * preference comes in.  The last key keeps the order received, so the
 * result never depends on qsort's instability.
 */
static int naptr_cmp_rfc(const void *a, const void *b)
{
	const struct naptr_pick *x = a, *y = b;

	if (x->order != y->order) {
		return x->order < y->order ? -1 : 1;
	}
	if (x->pref != y->pref) {
		return x->pref < y->pref ? -1 : 1;
	}
	if (x->client != y->client) {
		return x->client > y->client ? -1 : 1;
	}
	return (x->idx > y->idx) - (x->idx < y->idx);
}

static int naptr_cmp_client(const void *a, const void *b)
{
	const struct naptr_pick *x = a, *y = b;

	if (x->client != y->client) {
		return x->client > y->client ? -1 : 1;
	}
	return naptr_cmp_rfc(a, b);
}

/*
 * The usable SIP NAPTR records of `name' in the order a client uses them
 * (see the top).  With `all_transports', the client's preferences do
 * not filter (serves).  Returns the count; *ret is malloc'ed.
 */
static int sip_naptrs(struct sip_ctx *x, const unsigned char *name, bool sips,
		      bool all_transports, struct answer **ret_a, struct naptr_pick **ret)
{
	struct naptr_pick *v;
	struct answer *a;
	unsigned i, n = 0;
	int r;

	*ret = NULL;
	*ret_a = NULL;
	r = lookup(x, name, SC_T_NAPTR, &a);
	if (r < 0) {
		return 0;
	}
	v = malloc((a->n ? a->n : 1) * sizeof(*v));
	if (v == NULL) {
		free(a);
		return -ENOMEM;
	}
	for (i = 0; i < a->n; i++) {
		const struct sc_rr *rr = &a->m.rr[a->idx[i]];
		const unsigned char *b = a->m.buf;
		size_t p = (size_t)rr->rdata_off + 4, flags, services, regexp;
		int t;

		flags = p;
		services = flags + 1 + b[flags];
		regexp = services + 1 + b[services];
		p = regexp + 1 + b[regexp];
		/* RFC 3263 4.1: "s" records with an empty regexp, whose
		 * replacement is the SRV name of one transport. */
		if (b[flags] != 1 || (b[flags + 1] | 0x20) != 's' || b[regexp] != 0) {
			continue;
		}
		t = naptr_transport(b + services, sips);
		if (t < 0 || (!all_transports && x->prefs->pref[t] < 0)) {
			continue;
		}
		if (sc_dns_name_expand(b, a->m.len, p, v[n].repl, NULL) <= 1) {
			continue;
		}
		v[n].order = get16(b + rr->rdata_off);
		v[n].pref = get16(b + rr->rdata_off + 2);
		v[n].client = x->prefs->pref[t];
		v[n].idx = a->idx[i];
		v[n].t = (enum sc_sip_transport)t;
		n++;
	}
	qsort(v, n, sizeof(*v), x->prefs->ignore_rfc ? naptr_cmp_client : naptr_cmp_rfc);
	*ret = v;
	*ret_a = a;
	return (int)n;
}

/* Transports in the client's order of preference (ties: udp, tcp, tls,
 * sctp, tls-sctp), the allowed ones only.  Returns the count. */
static unsigned transports_by_pref(const struct sc_sip_prefs *p, bool sips,
				   enum sc_sip_transport *out)
{
	unsigned n = 0, i, j;

	for (i = 0; i < SC_SIP__TRANSPORTS; i++) {
		if (p->pref[i] < 0 || (sips && !is_tls((enum sc_sip_transport)i))) {
			continue;
		}
		for (j = n; j > 0 && p->pref[out[j - 1]] < p->pref[i]; j--) {
			out[j] = out[j - 1];
		}
		out[j] = (enum sc_sip_transport)i;
		n++;
	}
	return n;
}

/*
 * Put the marked targets last, keeping the order within each group.  Here
 * every target has a port, so address marks with a port apply too (in a
 * served A answer they cannot: it has no port).  Marked targets are not
 * dropped from the list: `resolve' is for the operator, who wants to see
 * what the marks do.
 */
static void apply_marks(struct sip_ctx *x)
{
	struct sc_sip_result *res = x->res;
	const struct sc_marks *ms;
	int64_t now = sc_now();
	struct sc_sip_target *tmp;
	unsigned i, k, ndown = 0;

	ms = sc_marks_current(sc_core_cache(x->core), now);
	if (ms == NULL) {
		return;
	}
	for (i = 0; i < res->n; i++) {
		struct sc_sip_target *t = &res->t[i];
		unsigned char name[SC_DNS_MAXNAME];

		t->down = (sc_dns_name_from_text(t->host, name, sizeof(name)) > 0 &&
			   sc_marks_name_down(ms, name, t->port, now)) ||
			  sc_marks_addr_down(ms, t->family, t->addr, t->port, now);
		ndown += t->down;
	}
	if (ndown == 0 || ndown == res->n || (tmp = malloc(ndown * sizeof(*tmp))) == NULL) {
		return;
	}
	for (i = 0, k = 0; i < res->n; i++) {
		if (res->t[i].down) {
			tmp[k++] = res->t[i];
		} else {
			res->t[i - k] = res->t[i];
		}
	}
	memcpy(&res->t[res->n - ndown], tmp, ndown * sizeof(*tmp));
	free(tmp);
}

static int finish(struct sip_ctx *x)
{
	x->res->queries = x->queries;
	if (x->res->n > 0) {
		return (int)x->res->n;
	}
	return x->failure ? x->failure : -ENOENT;
}

int sc_sip_resolve(struct sc_core *core, const char *uri, const struct sc_sip_prefs *prefs,
		   struct sc_rng *rng, struct sc_sip_result *ret)
{
	struct sc_sip_prefs defaults;
	struct sip_ctx x = { .core = core, .res = ret };
	unsigned char name[SC_DNS_MAXNAME], sname[SC_DNS_MAXNAME];
	struct sc_sip_uri u;
	enum sc_sip_transport t, order[SC_SIP__TRANSPORTS];
	unsigned i, n;
	int r;

	memset(ret, 0, offsetof(struct sc_sip_result, t));
	ret->nvia = 0;
	if (prefs == NULL) {
		sc_sip_prefs_default(&defaults);
		prefs = &defaults;
	}
	x.prefs = prefs;
	x.rng = rng ? rng : sc_rng_thread();
	r = sc_sip_uri_parse(uri, &u);
	if (r < 0) {
		return r;
	}
	t = u.transport >= 0 ? (enum sc_sip_transport)u.transport
			     : u.sips ? SC_SIP_TLS : SC_SIP_UDP;
	if (u.family != AF_UNSPEC) {
		/* A numeric TARGET: no DNS at all (RFC 3263 4.1, 4.2). */
		add_target(&x, t, u.host, u.port ? u.port : default_port(t), u.family, u.addr, NULL, NULL);
		goto done;
	}
	if (sc_dns_name_from_text(u.host, name, sizeof(name)) <= 1) {
		return -EINVAL;
	}
	if (u.port) {
		addresses(&x, name, t, u.port, NULL, NULL, false);
		goto done;
	}
	if (u.transport >= 0) {
		if (srv_name(srv_prefix[t], name, sname) == 0) {
			srv_targets(&x, sname, t, NULL, false);
		}
	} else {
		struct naptr_pick *v;
		struct answer *a;

		r = sip_naptrs(&x, name, u.sips, false, &a, &v);
		if (r < 0) {
			return r;
		}
		for (i = 0; i < (unsigned)r; i++) {
			struct via_ref via = { .a = a, .idx = v[i].idx };

			srv_targets(&x, v[i].repl, v[i].t, &via, false);
		}
		free(v);
		free(a);
		if (r == 0) {
			/* No usable NAPTR: an SRV query per transport. */
			n = transports_by_pref(prefs, u.sips, order);
			for (i = 0; i < n; i++) {
				if (srv_name(srv_prefix[order[i]], name, sname) == 0) {
					srv_targets(&x, sname, order[i], NULL, false);
				}
			}
		}
	}
	if (!x.any_srv) {
		/* No SRV RRset at all: the name's own addresses. */
		if (u.transport < 0) {
			t = u.sips ? SC_SIP_TLS : SC_SIP_UDP;
		}
		addresses(&x, name, t, default_port(t), NULL, NULL, false);
	}
done:
	apply_marks(&x);
	return finish(&x);
}

/* ------------------------------------------------------------------ */
/* ENUM                                                                */

/*
 * RFC 6116 2.4: only the digits of a full E.164 number, country code
 * included, make the domain; a number without '+' may be a national one,
 * and guessing its country would look up somebody else's number.
 */
int sc_enum_domain(const char *number, const char *suffix, char *out, size_t outlen,
		   char *aus)
{
	char digits[16];
	size_t nd = 0, o = 0, i, sl;
	bool plus = false;
	const char *s;

	if (number == NULL) {
		return -EINVAL;
	}
	for (s = number; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (!plus || nd == 15) {
				return -EINVAL;   /* no country code, or too long */
			}
			digits[nd++] = *s;
		} else if (*s == '+') {
			if (plus || nd > 0) {
				return -EINVAL;
			}
			plus = true;
		} else if (strchr(" \t-.()", *s) == NULL) {
			return -EINVAL;
		}
	}
	if (nd == 0) {
		return -EINVAL;
	}
	if (suffix == NULL || suffix[0] == '\0') {
		suffix = ENUM_DEFAULT_SUFFIX;
	}
	sl = strlen(suffix);
	if (suffix[sl - 1] == '.') {
		sl--;
	}
	if (sl == 0 || nd * 2 + sl + 1 > outlen) {
		return -ENOSPC;
	}
	for (i = nd; i-- > 0;) {
		out[o++] = digits[i];
		out[o++] = '.';
	}
	memcpy(out + o, suffix, sl);
	o += sl;
	out[o] = '\0';
	if (aus) {
		aus[0] = '+';
		memcpy(aus + 1, digits, nd);
		aus[nd + 1] = '\0';
	}
	return (int)o;
}

/*
 * The ERE or the replacement of a substitution expression: from `i' to
 * the next unescaped delimiter.  In the ERE an escaped delimiter becomes
 * the delimiter itself, a back reference is refused, and every other
 * escape is kept for regcomp; the replacement is kept raw (its escapes
 * are read when it is applied).
 * Returns the index of the closing delimiter, -EINVAL if there is none.
 */
static int subst_part(const char *re, size_t relen, size_t i, char delim, bool unescape,
		      char *out, size_t outlen)
{
	size_t o = 0;

	for (; i < relen; i++) {
		char c = re[i];

		/* A NUL, escaped or not, would cut the string regcomp and the
		 * replacement see: refused. */
		if (c == '\0' || o + 2 >= outlen || (c == '\\' && i + 1 < relen && re[i + 1] == '\0')) {
			return -EINVAL;
		}
		if (c == '\\' && i + 1 < relen) {
			if (re[i + 1] == delim && unescape) {
				out[o++] = delim;
			} else if (unescape && re[i + 1] >= '1' && re[i + 1] <= '9') {
				/* A back reference inside the ERE: glibc
				 * accepts them (POSIX EREs have none), and
				 * they make matching exponential.  A record
				 * must not be able to hang us. */
				return -EINVAL;
			} else {
				out[o++] = c;
				out[o++] = re[i + 1];
			}
			i++;
			continue;
		}
		if (c == delim) {
			out[o] = '\0';
			return (int)i;
		}
		out[o++] = c;
	}
	return -EINVAL;
}

/*
 * Would glibc's regcomp build a tree of more than ERE_MAX_NODES nodes
 * for `ere'?  It copies the subexpression under each '+' (as "aa*") and
 * under each interval {m,n} (n copies), so stacked or nested repetitions
 * grow exponentially: "a++++...+" or "((a+)+)+..." of a few dozen bytes
 * took gigabytes here (found by fuzz_naptr).  A record must not be able
 * to do that to sipcachectl, so the size is estimated first, with the
 * same rules: atoms count one, groups the sum of their parts, and a
 * repetition multiplies what it applies to.  Stacked repetitions ("a**",
 * "a{4}*"; POSIX leaves them undefined) are refused outright, and so is an
 * ERE with more than ERE_MAX_REPS of them, or one copying by '+' or an
 * interval something that matches the empty string ("()", "a?", "a*",
 * "(x|)"): regcomp's epsilon closures explode on those (a run of stars,
 * or "((a?){85}){3,}", took seconds; all found by fuzz_naptr).  ENUM
 * regexps are tiny ("^\+1(.*)$"), far below every bound.
 */
#define ERE_MAX_NODES 2000
#define ERE_MAX_DEPTH 32
#define ERE_MAX_REPS 16    /* repetition operators in one ERE */

static bool ere_too_big(const char *ere)
{
	/* Per open group: its size so far, whether its current branch so
	 * far matches the empty string, whether a branch already did. */
	uint64_t sum[ERE_MAX_DEPTH + 1];
	bool branch_null[ERE_MAX_DEPTH + 1], group_null[ERE_MAX_DEPTH + 1];
	uint64_t last = 0;          /* size of the element a repetition applies to */
	bool last_null = false;     /* that element matches the empty string */
	bool before_null = true;    /* the branch, before that element */
	unsigned depth = 0, reps = 0;
	bool after_rep = false;
	const char *p = ere;

	sum[0] = 0;
	branch_null[0] = true;
	group_null[0] = false;
	while (*p) {
		uint64_t copies = 0;   /* 0: not a repetition */
		bool zero = false;     /* an interval with a lower bound of 0 */
		bool rep = *p == '*' || *p == '?' || *p == '+' || *p == '{';

		if (rep && (after_rep || ++reps > ERE_MAX_REPS)) {
			return true;
		}
		after_rep = rep;
		switch (*p) {
		case '(':
			if (depth == ERE_MAX_DEPTH) {
				return true;
			}
			depth++;
			sum[depth] = 0;
			branch_null[depth] = true;
			group_null[depth] = false;
			last = 0;
			last_null = false;
			p++;
			continue;
		case ')':
			if (depth == 0) {
				break;   /* a lone ')' is an ordinary character */
			}
			/* A group is a node of its own around its parts. */
			last = sum[depth] + 1;
			last_null = group_null[depth] || branch_null[depth];
			depth--;
			sum[depth] += last;
			before_null = branch_null[depth];
			branch_null[depth] = before_null && last_null;
			p++;
			goto check;
		case '|':
			group_null[depth] |= branch_null[depth];
			branch_null[depth] = true;
			last = 0;
			last_null = false;
			p++;
			continue;
		case '*':
		case '?':
			/* a single node around the element: no copy, but now
			 * it matches the empty string */
			last_null = true;
			branch_null[depth] = before_null;
			sum[depth] += 1;
			p++;
			goto check;
		case '+':
			copies = 2;   /* "a+" is built as "aa*" */
			p++;
			break;
		case '{': {
			/*
			 * {m}, {m,}, {m,n}, {,n}: as many copies as the larger
			 * bound.  Anything else after an unescaped '{' is
			 * refused rather than guessed at: glibc reads more
			 * than digits there ("\\0" counts as a 0), and a
			 * misread bound is an unbounded tree.
			 */
			unsigned long m = 0, n;
			const char *q = p + 1;

			while (*q >= '0' && *q <= '9' && m <= 255) {
				m = m * 10 + (unsigned long)(*q++ - '0');
			}
			n = m;
			if (*q == ',') {
				q++;
				if (*q == '}') {
					n = m + 1;
				} else {
					n = 0;
					while (*q >= '0' && *q <= '9' && n <= 255) {
						n = n * 10 + (unsigned long)(*q++ - '0');
					}
				}
			}
			if (*q != '}' || q == p + 1 || m > 255 || n > 256) {
				return true;
			}
			copies = (n > m ? n : m) ? (n > m ? n : m) : 1;
			zero = m == 0;
			p = q + 1;
			break;
		}
		default:
			break;
		}
		if (copies) {
			/* Copies of something that matches the empty string
			 * are what make regcomp's epsilon closures explode
			 * ("((a?){85}){3,}" took over a second). */
			if ((copies > 1 && last_null) || last > ERE_MAX_NODES ||
			    copies > ERE_MAX_NODES) {
				return true;
			}
			sum[depth] += last * (copies - 1);
			last *= copies;
			last_null |= zero;   /* {0,n} may match nothing */
			branch_null[depth] = before_null && last_null;
		} else {
			/* an atom: a character, an escape, a bracket expression */
			if (*p == '\\' && p[1]) {
				p += 2;
			} else if (*p == '[') {
				p++;
				p += *p == '^';
				p += *p == ']';
				while (*p && *p != ']') {
					if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
						const char *close = strchr(p + 2, p[1]);

						p = close && close[1] == ']' ? close + 2 : p + 1;
						continue;
					}
					p++;
				}
				p += *p == ']';
			} else {
				p++;
			}
			sum[depth] += 1;
			last = 1;
			last_null = false;
			before_null = branch_null[depth];
			branch_null[depth] = false;
		}
check:
		if (sum[depth] > ERE_MAX_NODES) {
			return true;
		}
	}
	return false;
}

int sc_naptr_regexp(const char *re, size_t relen, const char *subject, char *out,
		    size_t outlen)
{
	char ere[512], repl[512];
	regmatch_t pm[10];
	regex_t rx;
	size_t o = 0, i;
	int end, flags = REG_EXTENDED, r;
	char delim;

	if (relen < 3 || outlen == 0) {
		return -EINVAL;
	}
	/* RFC 3402 3.2: any delimiter but a digit, the flag 'i' and the
	 * escape character itself. */
	delim = re[0];
	if (delim == '\\' || delim == 'i' || delim == '\0' || (delim >= '0' && delim <= '9')) {
		return -EINVAL;
	}
	end = subst_part(re, relen, 1, delim, true, ere, sizeof(ere));
	if (end < 0) {
		return -EINVAL;
	}
	end = subst_part(re, relen, (size_t)end + 1, delim, false, repl, sizeof(repl));
	if (end < 0) {
		return -EINVAL;
	}
	for (i = (size_t)end + 1; i < relen; i++) {
		if (re[i] != 'i') {
			return -EINVAL;
		}
		flags |= REG_ICASE;
	}
	if (ere_too_big(ere) || regcomp(&rx, ere, flags) != 0) {
		return -EINVAL;
	}
	/*
	 * The result is the replacement with its back references filled
	 * in, not the subject with the match replaced (sed): RFC 3402's
	 * examples and every ENUM client read it so, and ENUM regexps
	 * anchor the whole string ("^.*$") anyway.
	 */
	r = regexec(&rx, subject, SC_ARRAY_SIZE(pm), pm, 0);
	if (r != 0) {
		regfree(&rx);
		return r == REG_NOMATCH ? -ENOENT : -EINVAL;
	}
	for (i = 0; repl[i]; i++) {
		const char *piece = repl + i;
		size_t plen = 1;

		if (repl[i] == '\\') {
			char c = repl[++i];

			if (c == '\0') {
				regfree(&rx);   /* cannot happen: subst_part pairs escapes */
				return -EINVAL;
			}
			if (c >= '1' && c <= '9') {
				unsigned k = (unsigned)(c - '0');

				/* A reference to a group the ERE does not
				 * have is an error in the record. */
				if (k > rx.re_nsub) {
					regfree(&rx);
					return -EINVAL;
				}
				piece = subject + pm[k].rm_so;
				plen = pm[k].rm_so < 0 ? 0 : (size_t)(pm[k].rm_eo - pm[k].rm_so);
			} else {
				/* \<delimiter>, \\: the character itself */
				piece = repl + i;
			}
		}
		if (o + plen >= outlen) {
			regfree(&rx);
			return -ENOSPC;
		}
		memcpy(out + o, piece, plen);
		o += plen;
	}
	regfree(&rx);
	out[o] = '\0';
	return (int)o;
}

/*
 * Is the NAPTR service field (<character-string> at `s') an ENUM one
 * (RFC 6116 "E2U+type[:subtype][+...]", or RFC 2916's "type+E2U"), of
 * enumservice type `want' when not NULL?
 */
static bool enum_service(const unsigned char *s, const char *want)
{
	char f[256], *tok, *save = NULL;
	bool e2u_first, e2u_last;
	size_t n = s[0], wl = want ? strlen(want) : 0;

	memcpy(f, s + 1, n);
	f[n] = '\0';
	e2u_first = n >= 4 && strncasecmp(f, "E2U+", 4) == 0;
	e2u_last = n >= 4 && strcasecmp(f + n - 4, "+E2U") == 0;
	if (!e2u_first && !e2u_last) {
		return false;
	}
	if (want == NULL) {
		return true;
	}
	for (tok = strtok_r(f, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
		size_t tl = strcspn(tok, ":");

		if (strcasecmp(tok, "E2U") != 0 && tl == wl && strncasecmp(tok, want, wl) == 0) {
			return true;
		}
	}
	return false;
}

struct enum_rule {
	uint16_t order, pref;
	unsigned idx;
};

static int enum_rule_cmp(const void *a, const void *b)
{
	const struct enum_rule *x = a, *y = b;

	if (x->order != y->order) {
		return x->order < y->order ? -1 : 1;
	}
	if (x->pref != y->pref) {
		return x->pref < y->pref ? -1 : 1;
	}
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The rules of `domain', into ret.  Returns the number of NAPTR records
 * found there (0: none, try another suffix) or -errno. */
static int enum_naptr(struct sip_ctx *x, const unsigned char *domain, const char *service,
		      unsigned flags, unsigned depth, struct sc_enum_result *ret)
{
	struct enum_rule *rules;
	struct answer *a;
	char dtext[SC_DNS_MAXTEXT];
	unsigned i, before = ret->n;
	int r, records;
	bool have_order = false;
	uint16_t cut = 0;

	r = lookup(x, domain, SC_T_NAPTR, &a);
	if (r < 0) {
		return r == -ENOMEM ? r : 0;
	}
	records = (int)a->n;
	rules = malloc((a->n ? a->n : 1) * sizeof(*rules));
	if (rules == NULL || sc_dns_name_to_text(domain, dtext, sizeof(dtext)) < 0) {
		free(rules);
		free(a);
		return -ENOMEM;
	}
	for (i = 0; i < a->n; i++) {
		const unsigned char *rd = a->m.buf + a->m.rr[a->idx[i]].rdata_off;

		rules[i] = (struct enum_rule){ .order = get16(rd), .pref = get16(rd + 2),
					       .idx = a->idx[i] };
	}
	qsort(rules, a->n, sizeof(*rules), enum_rule_cmp);
	for (i = 0; i < a->n; i++) {
		const struct sc_rr *rr = &a->m.rr[rules[i].idx];
		const unsigned char *b = a->m.buf;
		size_t fl = (size_t)rr->rdata_off + 4, sv, rx, rp;
		unsigned char repl[SC_DNS_MAXNAME];
		char uri[sizeof(ret->e[0].uri)];
		int n;

		/* RFC 3403 4.1: once an order gave a result, the rules of
		 * later orders are not considered. */
		if (have_order && rules[i].order != cut && !(flags & SC_ENUM_ALL)) {
			break;
		}
		sv = fl + 1 + b[fl];
		rx = sv + 1 + b[sv];
		rp = rx + 1 + b[rx];
		if (!enum_service(b + sv, service) ||
		    sc_dns_name_expand(b, a->m.len, rp, repl, NULL) < 0) {
			continue;
		}
		if (b[fl] == 1 && (b[fl + 1] | 0x20) == 'u') {
			/* Terminal: the regexp gives the URI; the
			 * replacement must be the root. */
			if (repl[0] != 0 || b[rx] == 0) {
				continue;
			}
			n = sc_naptr_regexp((const char *)b + rx + 1, b[rx], ret->aus, uri, sizeof(uri));
			if (n < 0) {
				continue;
			}
			if (ret->n == SC_ENUM_MAX) {
				ret->truncated = true;
				break;
			}
			ret->e[ret->n].order = rules[i].order;
			ret->e[ret->n].pref = rules[i].pref;
			memcpy(ret->e[ret->n].service, b + sv + 1, b[sv]);
			ret->e[ret->n].service[b[sv]] = '\0';
			memcpy(ret->e[ret->n].uri, uri, (size_t)n + 1);
			snprintf(ret->e[ret->n].domain, sizeof(ret->e[ret->n].domain), "%s", dtext);
			ret->n++;
		} else if (b[fl] == 0 && b[rx] == 0 && repl[0] != 0 && depth < ENUM_DEPTH) {
			/* Non-terminal: the rules continue at the
			 * replacement. */
			r = enum_naptr(x, repl, service, flags, depth + 1, ret);
			if (r < 0 && r != -ENOENT) {
				free(rules);
				free(a);
				return r;
			}
		}
		if (ret->n > before && !have_order) {
			have_order = true;
			cut = rules[i].order;
		}
	}
	free(rules);
	free(a);
	return records;
}

int sc_sip_enum(struct sc_core *core, const char *number, const char *const *suffixes,
		unsigned nsuffixes, const char *service, unsigned flags,
		struct sc_enum_result *ret)
{
	static const char *const defaults[] = { ENUM_DEFAULT_SUFFIX };
	struct sip_ctx x = { .core = core };
	char text[SC_DNS_MAXTEXT];
	unsigned char domain[SC_DNS_MAXNAME];
	unsigned i;
	int r;

	memset(ret, 0, offsetof(struct sc_enum_result, e));
	if (suffixes == NULL || nsuffixes == 0) {
		suffixes = defaults;
		nsuffixes = 1;
	}
	/* The number itself is checked once, whatever the suffixes. */
	r = sc_enum_domain(number, NULL, text, sizeof(text), ret->aus);
	if (r < 0) {
		return r;
	}
	for (i = 0; i < nsuffixes; i++) {
		if (sc_enum_domain(number, suffixes[i], text, sizeof(text), NULL) < 0 ||
		    sc_dns_name_from_text(text, domain, sizeof(domain)) <= 1) {
			return -EINVAL;
		}
		r = enum_naptr(&x, domain, service, flags, 0, ret);
		if (r < 0) {
			return r;
		}
		if (r > 0) {
			break;   /* this suffix has the number: the others are not asked */
		}
	}
	if (ret->n > 0) {
		return (int)ret->n;
	}
	return x.failure ? x.failure : -ENOENT;
}

/* ------------------------------------------------------------------ */
/* serves                                                              */

static unsigned prefix_len(const struct sockaddr *mask)
{
	const unsigned char *b;
	unsigned n = 0, i, len;

	if (mask == NULL) {
		return 0;
	}
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)(const void *)mask)->sin_addr;
		len = 4;
	} else if (mask->sa_family == AF_INET6) {
		b = ((const struct sockaddr_in6 *)(const void *)mask)->sin6_addr.s6_addr;
		len = 16;
	} else {
		return 0;
	}
	for (i = 0; i < len; i++) {
		n += (unsigned)__builtin_popcount(b[i]);
	}
	return n;
}

/*
 * getifaddrs() gives every address of every interface, down ones too: an
 * interface being down does not make the host stop being the domain's
 * server in DNS, which is what `serves' is about.
 */
int sc_sip_local_addrs(struct sc_sip_local *ret)
{
	struct ifaddrs *ifa, *i;

	ret->n = 0;
	if (getifaddrs(&ifa) != 0) {
		return -errno;
	}
	for (i = ifa; i && ret->n < SC_SIP_MAXLOCAL; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;

		if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
			continue;
		}
		ret->a[ret->n].family = sa->sa_family;
		if (sa->sa_family == AF_INET) {
			memcpy(ret->a[ret->n].addr,
			       &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		} else {
			memcpy(ret->a[ret->n].addr,
			       ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr, 16);
		}
		ret->a[ret->n].prefix = prefix_len(i->ifa_netmask);
		ret->a[ret->n].loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
		ret->n++;
	}
	freeifaddrs(ifa);
	return 0;
}

static bool same_prefix(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0) {
		return false;
	}
	return rest == 0 || ((a[full] ^ b[full]) & (0xff00u >> rest) & 0xff) == 0;
}

bool sc_sip_is_local(const struct sc_sip_local *local, int family, const void *addr)
{
	size_t alen = family == AF_INET ? 4 : 16;
	unsigned i;

	if (family != AF_INET && family != AF_INET6) {
		return false;
	}
	for (i = 0; i < local->n; i++) {
		if (local->a[i].family != family) {
			continue;
		}
		if (memcmp(local->a[i].addr, addr, alen) == 0 ||
		    (local->a[i].loopback && same_prefix(local->a[i].addr, addr, local->a[i].prefix))) {
			return true;
		}
	}
	return false;
}

int sc_sip_serves(struct sc_core *core, const char *domain, const struct sc_sip_local *local,
		  struct sc_sip_result *ret)
{
	static const enum sc_sip_transport standard[] = {
		SC_SIP_UDP, SC_SIP_TCP, SC_SIP_TLS, SC_SIP_SCTP, SC_SIP_TLS_SCTP,
	};
	struct sc_sip_prefs prefs;
	struct sip_ctx x = { .core = core, .res = ret, .prefs = &prefs };
	struct sc_sip_local *mine = NULL;
	unsigned char name[SC_DNS_MAXNAME];
	struct {
		unsigned char name[SC_DNS_MAXNAME];
		enum sc_sip_transport t;
		struct via_ref via;
	} *srvs;
	struct naptr_pick *v = NULL;
	struct answer *a = NULL;
	unsigned nsrv = 0, i, k;
	bool yes = false;
	int r;

	memset(ret, 0, offsetof(struct sc_sip_result, t));
	ret->nvia = 0;
	sc_sip_prefs_default(&prefs);
	x.rng = sc_rng_thread();
	if (domain == NULL || sc_dns_name_from_text(domain, name, sizeof(name)) <= 1) {
		return -EINVAL;
	}
	if (local == NULL) {
		mine = malloc(sizeof(*mine));
		if (mine == NULL) {
			return -ENOMEM;
		}
		r = sc_sip_local_addrs(mine);
		if (r < 0) {
			free(mine);
			return r;
		}
		local = mine;
	}
	srvs = malloc((SC_DNS_MAXRR + SC_ARRAY_SIZE(standard)) * sizeof(*srvs));
	if (srvs == NULL) {
		free(mine);
		return -ENOMEM;
	}
	/*
	 * The SRV names a SIP client could be sent to: the NAPTRs' (any SIP
	 * transport, whatever our own preferences: another server's client
	 * may prefer it), then the standard ones, each once.  Both address
	 * families are looked up whatever `family' says: the question is
	 * whether the domain leads here, not how we would connect.
	 */
	r = sip_naptrs(&x, name, false, true, &a, &v);
	for (i = 0; r > 0 && i < (unsigned)r; i++) {
		memcpy(srvs[nsrv].name, v[i].repl, sc_dns_name_len(v[i].repl));
		srvs[nsrv].t = v[i].t;
		srvs[nsrv].via = (struct via_ref){ .a = a, .idx = v[i].idx };
		nsrv++;
	}
	free(v);
	for (i = 0; i < SC_ARRAY_SIZE(standard); i++) {
		if (srv_name(srv_prefix[standard[i]], name, srvs[nsrv].name) < 0) {
			continue;
		}
		for (k = 0; k < nsrv && !sc_dns_name_equal(srvs[k].name, srvs[nsrv].name); k++) {
		}
		if (k == nsrv) {
			srvs[nsrv].t = standard[i];
			srvs[nsrv].via = (struct via_ref){ .a = NULL };
			nsrv++;
		}
	}
	for (i = 0; i < nsrv; i++) {
		srv_targets(&x, srvs[i].name, srvs[i].t, &srvs[i].via, true);
	}
	free(a);
	for (i = 0; i < ret->n; i++) {
		ret->t[i].local = sc_sip_is_local(local, ret->t[i].family, ret->t[i].addr);
		yes |= ret->t[i].local;
	}
	free(srvs);
	free(mine);
	ret->queries = x.queries;
	if (yes) {
		return 1;
	}
	return ret->n == 0 && x.failure ? x.failure : 0;
}

/*
 * sc_addr.c - address lookups: gethostbyname*, getaddrinfo, gethostbyaddr.
 *
 * The NSS module and the preload's address functions both come here, so
 * that a name resolves to the same addresses whichever front end asked.
 * The answer is the one glibc 2.36 would give with `hosts: files dns'
 * (or `dns files', per the configured order), the DNS part served through
 * the core (sc_core_search/sc_core_query: cached, stored on a miss,
 * served stale when upstream fails):
 *
 *   sc_addr_by_name()   nss_files' then nss_dns' gethostbyname3_r (one
 *                       family: A or AAAA) or gethostbyname4_r (AF_UNSPEC:
 *                       A and AAAA, as getaddrinfo asks);
 *   sc_addr_by_addr()   their gethostbyaddr2_r (PTR).
 *
 * What nss_dns does with an answer, and so what we do (dns-host.c,
 * getanswer_r and gaih_getanswer_slice; read it before changing anything
 * here, the rules are not the obvious ones):
 *
 *   - the question name must look like a host name (res_hnok: letters,
 *     digits, `-' and `_', no leading `-'), else "not found";
 *   - the answer section is read in order; every CNAME, whatever its
 *     owner, moves the "expected" name to its target; an address record
 *     counts only when owned by the expected name at that point;
 *   - gethostbyname3_r: the question name and every CNAME target that
 *     looks like a host name form a list; the last one is h_name, the
 *     others are h_aliases.  An answer with records but no usable address
 *     is TRYAGAIN with NO_RECOVERY (and errno ENOENT), not NOTFOUND;
 *   - gethostbyname4_r: the canonical name is the last host-name-like
 *     CNAME target seen before the first address; no aliases; an answer
 *     without address is NOTFOUND;
 *   - the TTL reported is the smallest of the CNAME and address records
 *     of the answer, and 0 for an answer without address.  Ours is also
 *     bounded by max_ttl: callers that cache (nscd) must not keep a name
 *     longer than the operator allows, even from a miss, which hands
 *     back the upstream answer untouched.
 *
 * Where we knowingly differ from nss_dns, all at the edges: a name that
 * is no host name is refused before any query by every entry point (its
 * gethostbyname3_r asks first and refuses after); records of a class
 * other than IN are skipped by 4_r's rules too; a TTL with the top bit
 * set counts as 0 (RFC 2181), not as huge; an answer that our stricter
 * parser refuses is handed back to libc (-EBADMSG) rather than read.
 *
 * AF_UNSPEC and the search list.  nss_dns asks A and AAAA as one pair per
 * search candidate (T_QUERY_A_AND_AAAA): the first candidate for which
 * either type has an answer wins, and both answers come from it.  Two
 * independent searches could take A from one candidate and AAAA from
 * another (a name with only AAAA in the first search domain and only A
 * in the second), so search_pair() below walks the candidates itself,
 * with res_nsearch's rules (sc_core_search's, kept in step), asking both
 * types of each candidate through sc_core_querydomain.  One family alone
 * goes through sc_core_search directly.
 *
 * glibc's pair also has its own reading of failures (res_send.c): a
 * SERVFAIL or REFUSED half counts as absent and the other half decides
 * alone; pair_candidate() reproduces it.  When the first question gets
 * no response at all, the second is not asked: glibc sends both at once
 * and a silent server fails them together, so asking the second after
 * the first timed out would only double the wait.
 *
 * The hosts file comes first or last as the configured order says, and
 * only when the front end asks for it (SC_ADDR_FILES): the NSS module
 * leaves it out when glibc's own `files' ran before it.  The name is
 * looked up as given (nss_files applies no search list).
 *
 * One known difference: with hosts_in_res_query (the default) the core
 * answers an A/AAAA question from the hosts file too, per question, so a
 * search candidate ("sip1" -> "sip1.example.com") or a name with its
 * trailing dot that only the hosts file knows resolves through our DNS
 * step where nss_dns would have asked DNS.  struct sc_query has no way to
 * ask the core for DNS alone; a flag there would close the gap.
 *
 * The family policy (`family' in sipcache.conf, Kamailio's dns_cache_flags)
 * narrows or orders what is asked: ipv4 asks A only, ipv6 AAAA only (a
 * lookup of the other family is then "no data" without a query);
 * prefer-ipv6 asks AAAA first for AF_UNSPEC, so its addresses come first.
 * Hosts-file answers for AF_UNSPEC are filtered and ordered the same way.
 *
 * Buffers.  An answer can be 64 KiB and a parsed message is 8 KiB, too
 * much for the stack of a thread of somebody else's program: both live in
 * one malloc'd block per call, and the two answers of a pair share the
 * answer buffer (the first is taken apart before the second is asked).
 * Results hold their strings in their own pool, so they outlive the
 * block and the hosts file's generation.
 *
 * Errors come back as -errno with the h_errno nss_dns would report; the
 * table is in sc.h.  errno is not preserved here: the front ends save and
 * restore it around the whole call.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc.h"

/* The core's upstream buffer is this big: an answer never arrives cut. */
#define ADDR_ANSWER_MAX 65536

/* Longest host name nss_dns accepts in text (MAXHOSTNAMELEN + 1). */
#define HNAME_MAX 257

struct addr_work {
	struct sc_msg msg;
	unsigned char answer[ADDR_ANSWER_MAX];
};

/*
 * A result being built.  `names' is gethostbyname3_r's list (question
 * name, then CNAME targets): its last entry becomes the name, the others
 * the aliases, once the answer has been read.
 */
struct build {
	struct sc_addr_result *r;
	const struct sc_conf *conf;
	bool tuples;        /* gethostbyname4_r's rules, else 3_r's */
	bool canon_done;    /* tuples: the canonical name is set */
	unsigned nnames;
	const char *names[SC_ADDR_MAXALIAS + 1];
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static void result_reset(struct sc_addr_result *r)
{
	r->name = NULL;
	r->naliases = 0;
	r->naddr = 0;
	r->ttl = INT32_MAX;
	r->has_ttl = false;
	r->from_hosts = false;
	r->pool_used = 0;
}

/* Copy `s' into the result's pool.  NULL when it does not fit. */
static const char *pool_add(struct sc_addr_result *r, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (n > sizeof(r->pool) - r->pool_used) {
		return NULL;
	}
	p = r->pool + r->pool_used;
	memcpy(p, s, n);
	r->pool_used += n;
	return p;
}

static int add_addr(struct sc_addr_result *r, int family, const void *addr)
{
	struct sc_hosts_addr *a;

	if (r->naddr >= SC_ADDR_MAX) {
		return -E2BIG;
	}
	a = &r->addr[r->naddr++];
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->addr, addr, family == AF_INET ? 4 : 16);
	return 0;
}

/*
 * res_hnok on a wire name: every label made of letters, digits, `-' and
 * `_', the first label not starting with `-' (so that a name cannot pass
 * for a command-line option).  The root passes.
 */
static bool wire_hnok(const unsigned char *w)
{
	size_t i = 0;

	if (w[0] > 0 && w[1] == '-') {
		return false;
	}
	while (w[i] != 0) {
		size_t end = i + 1 + w[i];

		for (i++; i < end; i++) {
			unsigned char c = w[i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') || c == '-' || c == '_')) {
				return false;
			}
		}
	}
	return true;
}

/* res_hnok on text: visible ASCII only, a valid name, then the above. */
static bool text_hnok(const char *name)
{
	unsigned char w[SC_DNS_MAXNAME];
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++) {
		if (*p <= ' ' || *p > '~') {
			return false;
		}
	}
	return sc_dns_name_from_text(name, w, sizeof(w)) > 0 && wire_hnok(w);
}

/* Text form of a host-name-like wire name, into the pool (NULL: no room,
 * or a name nss_dns's buffer would not hold). */
static const char *pool_add_wire(struct sc_addr_result *r, const unsigned char *w)
{
	char text[SC_DNS_MAXTEXT];
	int n = sc_dns_name_to_text(w, text, sizeof(text));

	if (n < 0 || n >= HNAME_MAX) {
		return NULL;
	}
	return pool_add(r, text);
}

static void ttl_lower(struct sc_addr_result *r, uint32_t wire_ttl)
{
	/* RFC 2181 8: a TTL with the top bit set is 0 (the cache serves
	 * such records with TTL 0 too, so a hit and a miss agree). */
	uint32_t t = sc_policy_rr_ttl(wire_ttl);

	r->has_ttl = true;
	if ((uint32_t)r->ttl > t) {
		r->ttl = (int32_t)t;
	}
}

/*
 * Not longer than the cache keeps it: a miss hands back the upstream
 * answer untouched (res_query's contract), but a TTL reported here goes
 * to callers that cache on their own (nscd), and max_ttl is the
 * operator's word on how long any of them may keep the name.
 */
static void ttl_clamp(struct sc_addr_result *r, const struct sc_conf *conf,
		      const unsigned char *qname)
{
	struct sc_ttl_limits lim;

	if (!r->has_ttl) {
		return;
	}
	sc_policy_limits(conf, qname, &lim);
	if ((uint32_t)r->ttl > lim.max_ttl) {
		r->ttl = (int32_t)lim.max_ttl;
	}
}

static int addr_len(uint16_t qtype)
{
	return qtype == SC_T_A ? 4 : 16;
}

/* ------------------------------------------------------------------ */
/* reading one answer                                                  */

/*
 * Take the addresses of one positive answer (`len' bytes, the response to
 * a `qtype' question) into the result, by nss_dns's rules (see the top of
 * the file).  Returns the number of addresses taken, -ENOENT when nss_dns
 * would not look at the records at all (question name not a host name;
 * for 4_r also an empty answer section), -EBADMSG when our parser refuses
 * the message (the caller lets libc answer: nss_dns's parser is laxer),
 * -E2BIG when the result cannot hold it.
 */
static int take_answer(struct build *b, struct sc_msg *m, const unsigned char *buf,
		       size_t len, uint16_t qtype)
{
	unsigned char qname[SC_DNS_MAXNAME], expected[SC_DNS_MAXNAME];
	unsigned char owner[SC_DNS_MAXNAME], canon[SC_DNS_MAXNAME];
	struct sc_addr_result *r = b->r;
	const char *s;
	int taken = 0;
	unsigned i;

	if (sc_dns_parse(buf, len, m) < 0 || m->qdcount != 1 ||
	    sc_dns_name_expand(buf, len, SC_DNS_HDRLEN, qname, NULL) < 0) {
		return -EBADMSG;
	}
	if (b->tuples) {
		if (m->ancount == 0 || !wire_hnok(qname)) {
			return -ENOENT;
		}
	} else {
		/* 3_r: the question name heads the alias list; "no
		 * negative caching" (TTL 0) when it cannot. */
		if (SC_DNS_RCODE(m->flags) == SC_RCODE_NXDOMAIN || !wire_hnok(qname)) {
			r->has_ttl = true;
			r->ttl = 0;
			return -ENOENT;
		}
		if (b->nnames > SC_ADDR_MAXALIAS || (s = pool_add_wire(r, qname)) == NULL) {
			return -E2BIG;
		}
		b->names[b->nnames++] = s;
	}
	memcpy(expected, qname, sizeof(qname));
	memcpy(canon, qname, sizeof(qname));

	for (i = 0; i < m->nrr && m->rr[i].section == SC_SEC_AN; i++) {
		const struct sc_rr *rr = &m->rr[i];

		if (rr->class != SC_C_IN) {
			continue;
		}
		if (rr->type == SC_T_CNAME || rr->type == qtype) {
			ttl_lower(r, rr->ttl);
		}
		if (rr->type == SC_T_CNAME) {
			/* No check of the owner: nss_dns has none
			 * ("historic precedent"), and we give its answer. */
			if (sc_dns_name_expand(buf, len, rr->rdata_off, expected, NULL) < 0) {
				return -EBADMSG;
			}
			if (!wire_hnok(expected)) {
				continue;
			}
			if (b->tuples) {
				if (!b->canon_done) {
					memcpy(canon, expected, sizeof(expected));
				}
			} else {
				/* An alias that will not fit is an answer we
				 * cannot give whole: let libc give it. */
				if (b->nnames > SC_ADDR_MAXALIAS ||
				    (s = pool_add_wire(r, expected)) == NULL) {
					return -E2BIG;
				}
				b->names[b->nnames++] = s;
			}
		} else if (rr->type == qtype && rr->rdlen == addr_len(qtype)) {
			if (sc_dns_name_expand(buf, len, rr->name_off, owner, NULL) < 0) {
				return -EBADMSG;
			}
			if (!sc_dns_name_equal(owner, expected)) {
				continue;
			}
			if (add_addr(r, qtype == SC_T_A ? AF_INET : AF_INET6,
				     buf + rr->rdata_off) < 0) {
				return -E2BIG;
			}
			if (b->tuples && !b->canon_done) {
				if ((r->name = pool_add_wire(r, canon)) == NULL) {
					return -E2BIG;
				}
				b->canon_done = true;
			}
			taken++;
		}
	}
	ttl_clamp(r, b->conf, qname);
	return taken;
}

/* 3_r: the list's last name is h_name, the others are the aliases. */
static void finish_names(struct build *b)
{
	unsigned i;

	if (b->tuples || b->nnames == 0) {
		return;
	}
	b->r->name = b->names[b->nnames - 1];
	b->r->naliases = b->nnames - 1;
	for (i = 0; i + 1 < b->nnames; i++) {
		b->r->aliases[i] = b->names[i];
	}
}

/*
 * A failed search, the way nss_dns reads it (errno first, then h_errno):
 * no server configured (ESRCH) is "try again"; out of descriptors is an
 * internal error; refused or timed out means the service is unavailable;
 * anything else (NXDOMAIN, no data, FORMERR...) is "not found"
 * with h_errno saying which.
 */
static int search_failed(int err, int herrno, int *ret_herrno)
{
	switch (err) {
	case ESRCH:
		*ret_herrno = TRY_AGAIN;
		return -EAGAIN;
	case EMFILE:
	case ENFILE:
		*ret_herrno = NETDB_INTERNAL;
		return -err;
	case ECONNREFUSED:
	case ETIMEDOUT:
		*ret_herrno = herrno;
		return -err;
	default:
		*ret_herrno = herrno;
		return -ENOENT;
	}
}

/* ------------------------------------------------------------------ */
/* DNS: one family                                                     */

static int dns_one(struct sc_core *core, struct addr_work *w, struct build *b,
		   const char *name, uint16_t qtype, int *ret_herrno)
{
	struct sc_query q = {
		.name = name,
		.class = SC_C_IN,
		.type = qtype,
		.answer = w->answer,
		.anslen = (int)sizeof(w->answer),
		.statp = NULL,    /* the thread's _res, as nss_dns uses */
	};
	int n, herrno, r;

	n = sc_core_search(core, &q, &herrno);
	if (n < 0) {
		return search_failed(errno, herrno, ret_herrno);
	}
	if ((size_t)n > sizeof(w->answer)) {
		*ret_herrno = NO_RECOVERY;
		return -EBADMSG;
	}
	r = take_answer(b, &w->msg, w->answer, (size_t)n, qtype);
	if (r == -ENOENT) {
		*ret_herrno = HOST_NOT_FOUND;
		return r;
	}
	if (r < 0) {
		*ret_herrno = NO_RECOVERY;
		return r;
	}
	if (r == 0) {
		/* Records, but no address of the expected name: 4_r says
		 * "not found"; 3_r "try again" with NO_RECOVERY and TTL 0
		 * (its way of asking nscd not to cache it). */
		if (b->tuples) {
			*ret_herrno = HOST_NOT_FOUND;
			return -ENOENT;
		}
		b->r->has_ttl = true;
		b->r->ttl = 0;
		*ret_herrno = NO_RECOVERY;
		return -EAGAIN;
	}
	finish_names(b);
	*ret_herrno = NETDB_SUCCESS;
	return 0;
}

/* ------------------------------------------------------------------ */
/* DNS: A and AAAA as one pair per search candidate                    */

struct pair {
	struct sc_core *core;
	struct addr_work *w;
	struct build *b;
	const uint16_t *types;   /* two, in the order of the answer */
	int first_rcode;         /* rcode of the first answer of a candidate */
	int slice_herrno;        /* h_errno of the last response read */
};

/*
 * One candidate name (`name' + "." + `domain', or `name' alone): both
 * types in turn, each positive answer taken into the result at once.
 * Returns 1 when either type had an answer (the candidate wins), else -1
 * with *ret_herrno and errno as glibc's pair query leaves them.
 *
 * How glibc combines the two (res_send.c send_dg, res_query.c): a
 * SERVFAIL, REFUSED or NOTIMP response, like no response at all, counts
 * as absent (libresolv reports such a single query as a failed exchange:
 * TRY_AGAIN, errno ETIMEDOUT or ECONNREFUSED).  When one half is absent,
 * the other decides alone (a response was had: errno 0); when both are,
 * the exchange failed (TRY_AGAIN, errno as the last one left it); when
 * both are negative, the first one's h_errno wins unless it is "no data".
 */
static int pair_candidate(struct pair *p, const char *name, const char *domain,
			  int *ret_herrno)
{
	struct sc_query q = {
		.name = name,
		.class = SC_C_IN,
		.answer = p->w->answer,
		.anslen = (int)sizeof(p->w->answer),
		.statp = NULL,
	};
	int herr[2] = { TRY_AGAIN, TRY_AGAIN };
	bool positive = false, absent[2] = { true, true };
	unsigned i, before;
	int n, r;

	p->first_rcode = SC_RCODE_NOERROR;
	p->slice_herrno = NETDB_SUCCESS;
	for (i = 0; i < 2; i++) {
		/* libresolv resets the rcode it later looks at. */
		memset(p->w->answer, 0, SC_DNS_HDRLEN);
		q.type = p->types[i];
		n = sc_core_querydomain(p->core, &q, domain, &herr[i]);
		if (i == 0 && (p->w->answer[2] & (SC_DNS_QR >> 8))) {
			p->first_rcode = p->w->answer[3] & 0x0f;
		}
		if (n > 0) {
			if ((size_t)n > sizeof(p->w->answer)) {
				*ret_herrno = NO_RECOVERY;
				return -EBADMSG;
			}
			positive = true;
			absent[i] = false;
			/* An answer nss_dns would skip (-ENOENT) leaves the
			 * other half to decide. */
			before = p->b->r->naddr;
			r = take_answer(p->b, &p->w->msg, p->w->answer, (size_t)n, p->types[i]);
			if (r == -E2BIG || r == -EBADMSG) {
				*ret_herrno = NO_RECOVERY;
				return r;
			}
			p->slice_herrno = p->b->r->naddr > before ? NETDB_SUCCESS : HOST_NOT_FOUND;
			continue;
		}
		absent[i] = herr[i] == TRY_AGAIN;
		if (!absent[i]) {
			/* nss_dns reads a negative response too: "not found". */
			p->slice_herrno = HOST_NOT_FOUND;
		}
		if (i == 0 && absent[0] && !(p->w->answer[2] & (SC_DNS_QR >> 8))) {
			/* No server answered at all: glibc sends both at
			 * once and they time out together; asking the
			 * second now would double the wait. */
			*ret_herrno = TRY_AGAIN;
			return -1;
		}
	}
	if (positive) {
		return 1;
	}
	if (absent[0] && absent[1]) {
		*ret_herrno = TRY_AGAIN;
		return -1;
	}
	errno = 0;
	if (absent[0] || absent[1]) {
		*ret_herrno = absent[0] ? herr[1] : herr[0];
	} else {
		*ret_herrno = herr[0] == NO_DATA ? herr[1] : herr[0];
	}
	return -1;
}

/* HOSTALIASES, read by libresolv itself (it knows the file's rules and
 * ignores the variable under RES_NOALIASES). */
static bool user_alias(const char *name, char *out, size_t outlen)
{
	const char *a;

	/* secure_getenv: never open a file named by a less privileged
	 * caller (ld.so drops the variable for setuid programs anyway). */
	if (secure_getenv("HOSTALIASES") == NULL) {
		return false;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	a = res_hostalias(&_res, name, out, outlen);
#pragma GCC diagnostic pop
	if (a && a != out) {
		snprintf(out, outlen, "%s", a);
	}
	return a != NULL;
}

/*
 * res_nsearch over pairs: glibc 2.36 __res_context_search, rule for rule
 * (and sc_core_search's reading of it, `search = no' included), with a
 * candidate succeeding when either of its two answers is positive.
 * Returns 1, or -1 with *ret_herrno; errno as libresolv leaves it.
 */
static int search_pair(struct pair *p, const char *name, int *ret_herrno)
{
	struct __res_state *st;
	unsigned dots = 0;
	bool trailing_dot, tried_as_is = false, searched = false, root_on_list = false;
	int got_nodata = 0, got_servfail = 0, saved_herrno = -1, herrno = HOST_NOT_FOUND, r;
	char alias[NS_MAXDNAME];
	unsigned long options;
	const char *cp;

	if (!(_res.options & RES_INIT)) {
		res_init();
	}
	st = &_res;
	options = st->options;
	if (!sc_core_conf(p->core)->search) {
		options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	}
	errno = 0;
	for (cp = name; *cp; cp++) {
		dots += *cp == '.';
	}
	trailing_dot = cp > name && cp[-1] == '.';

	if (dots == 0 && user_alias(name, alias, sizeof(alias))) {
		return pair_candidate(p, alias, NULL, ret_herrno);
	}

	/* pair_candidate: 1 found, -1 not, below: a result we cannot give. */
	if (dots >= (unsigned)st->ndots || trailing_dot) {
		r = pair_candidate(p, name, NULL, &herrno);
		if (r != -1) {
			return r;
		}
		if (trailing_dot) {
			*ret_herrno = herrno;
			return -1;
		}
		saved_herrno = herrno;
		tried_as_is = true;
	}

	if ((!dots && (options & RES_DEFNAMES)) ||
	    (dots && !trailing_dot && (options & RES_DNSRCH))) {
		bool done = false;
		unsigned i;

		for (i = 0; !done && i < MAXDNSRCH + 1 && st->dnsrch[i]; i++) {
			const char *dname = st->dnsrch[i];

			searched = true;
			if (dname[0] == '.') {
				dname++;
			}
			if (dname[0] == '\0') {
				root_on_list = true;
			}
			r = pair_candidate(p, name, dname, &herrno);
			if (r != -1) {
				return r;
			}
			if (errno == ECONNREFUSED) {
				*ret_herrno = TRY_AGAIN;
				return -1;
			}
			switch (herrno) {
			case NO_DATA:
				got_nodata++;
				break;
			case HOST_NOT_FOUND:
				break;
			case TRY_AGAIN:
				/* SERVFAIL (of the first answer, as libresolv
				 * looks at its first buffer): next domain. */
				if (p->first_rcode == SC_RCODE_SERVFAIL) {
					got_servfail++;
					break;
				}
				done = true;
				break;
			default:
				done = true;
			}
			if (!(options & RES_DNSRCH)) {
				done = true;
			}
		}
	}

	if ((dots || !searched || !(options & RES_NOTLDQUERY)) &&
	    !(tried_as_is || root_on_list)) {
		r = pair_candidate(p, name, NULL, &herrno);
		if (r != -1) {
			return r;
		}
	}

	if (saved_herrno != -1) {
		herrno = saved_herrno;
	} else if (got_nodata) {
		herrno = NO_DATA;
	} else if (got_servfail) {
		herrno = TRY_AGAIN;
	}
	*ret_herrno = herrno;
	return -1;
}

static int dns_pair(struct sc_core *core, struct addr_work *w, struct build *b,
		    const char *name, const uint16_t types[2], int *ret_herrno)
{
	struct pair p = { .core = core, .w = w, .b = b, .types = types };
	int r;

	r = search_pair(&p, name, ret_herrno);
	if (r == -E2BIG || r == -EBADMSG) {
		return r;
	}
	if (r < 0) {
		return search_failed(errno, *ret_herrno, ret_herrno);
	}
	if (b->r->naddr == 0) {
		/* Only CNAMEs, or addresses of other names. */
		*ret_herrno = HOST_NOT_FOUND;
		return -ENOENT;
	}
	/*
	 * nss_dns leaves h_errno as its reading of the last response set
	 * it, even on success: HOST_NOT_FOUND when A answered and AAAA was
	 * "no data" (a wart its comments own up to; callers ignore h_errno
	 * on success, but an exact copy costs nothing).
	 */
	*ret_herrno = p.slice_herrno;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the hosts file                                                      */

struct hosts_ctx {
	struct sc_addr_result *r;
	int family;
	enum sc_family policy;
	const void *addr;     /* by address: the address asked */
};

static int hosts_copy_names(struct sc_addr_result *r, const struct sc_hosts_result *res,
			    bool aliases)
{
	unsigned i;

	if ((r->name = pool_add(r, res->name)) == NULL) {
		return -E2BIG;
	}
	if (!aliases) {
		return 0;
	}
	if (res->naliases > SC_ADDR_MAXALIAS) {
		return -E2BIG;
	}
	for (i = 0; i < res->naliases; i++) {
		if ((r->aliases[i] = pool_add(r, res->aliases[i])) == NULL) {
			return -E2BIG;
		}
	}
	r->naliases = res->naliases;
	return 0;
}

static int hosts_name_fn(const struct sc_hosts_result *res, void *priv)
{
	struct hosts_ctx *h = priv;
	struct sc_addr_result *r = h->r;
	unsigned pass, i;
	int e;

	/* gethostbyname4_r has no aliases; 3_r gives the line's. */
	e = hosts_copy_names(r, res, h->family != AF_UNSPEC);
	if (e < 0) {
		return e;
	}
	/* For one family the lookup itself picked the lines; for both, the
	 * policy keeps one family or puts IPv6 first. */
	for (pass = 0; pass < 2; pass++) {
		int want = AF_UNSPEC;

		if (h->family == AF_UNSPEC) {
			switch (h->policy) {
			case SC_FAMILY_IPV4:
				want = AF_INET;
				break;
			case SC_FAMILY_IPV6:
				want = AF_INET6;
				break;
			case SC_FAMILY_PREFER_IPV6:
				want = pass == 0 ? AF_INET6 : AF_INET;
				break;
			default:
				break;
			}
		}
		for (i = 0; i < res->naddr; i++) {
			if (want != AF_UNSPEC && res->addr[i].family != want) {
				continue;
			}
			if (add_addr(r, res->addr[i].family, res->addr[i].addr) < 0) {
				return -E2BIG;
			}
		}
		if (h->family != AF_UNSPEC || h->policy != SC_FAMILY_PREFER_IPV6) {
			break;
		}
	}
	if (r->naddr == 0) {
		r->name = NULL;
		r->naliases = 0;
		r->pool_used = 0;
		return -ENOENT;
	}
	r->from_hosts = true;
	return 0;
}

static int hosts_by_name(struct sc_core *core, const char *name, int family,
			 struct sc_addr_result *ret, int *ret_herrno)
{
	struct hosts_ctx h = {
		.r = ret,
		.family = family,
		.policy = sc_core_conf(core)->family,
	};
	int r;

	result_reset(ret);
	r = sc_core_hosts_lookup(core, name, family, sc_core_hosts_multi(core),
				 hosts_name_fn, &h);
	if (r == 0) {
		sc_stats_inc(sc_core_stats(core), SC_STAT_HOSTS_HITS);
		*ret_herrno = NETDB_SUCCESS;
		return 0;
	}
	result_reset(ret);
	*ret_herrno = r == -ENOENT ? HOST_NOT_FOUND : NO_RECOVERY;
	return r;
}

static int hosts_addr_fn(const struct sc_hosts_result *res, void *priv)
{
	struct hosts_ctx *h = priv;
	int e;

	e = hosts_copy_names(h->r, res, true);
	if (e == 0) {
		/* gethostbyaddr returns the address asked. */
		e = add_addr(h->r, h->family, h->addr);
	}
	if (e == 0) {
		h->r->from_hosts = true;
	}
	return e;
}

static int hosts_by_addr(struct sc_core *core, int family, const void *addr,
			 struct sc_addr_result *ret, int *ret_herrno)
{
	struct hosts_ctx h = { .r = ret, .family = family, .addr = addr };
	int r;

	result_reset(ret);
	r = sc_core_hosts_addr(core, family, addr, hosts_addr_fn, &h);
	if (r == 0) {
		sc_stats_inc(sc_core_stats(core), SC_STAT_HOSTS_HITS);
		*ret_herrno = NETDB_SUCCESS;
		return 0;
	}
	result_reset(ret);
	*ret_herrno = r == -ENOENT ? HOST_NOT_FOUND : NO_RECOVERY;
	return r;
}

/* ------------------------------------------------------------------ */
/* by name                                                             */

/* The record types to ask, in answer order; 0 of them: the policy
 * rules the family out. */
static unsigned types_for(int family, enum sc_family policy, uint16_t types[2])
{
	switch (family) {
	case AF_INET:
		types[0] = SC_T_A;
		return policy == SC_FAMILY_IPV6 ? 0 : 1;
	case AF_INET6:
		types[0] = SC_T_AAAA;
		return policy == SC_FAMILY_IPV4 ? 0 : 1;
	default:
		break;
	}
	switch (policy) {
	case SC_FAMILY_IPV4:
		types[0] = SC_T_A;
		return 1;
	case SC_FAMILY_IPV6:
		types[0] = SC_T_AAAA;
		return 1;
	case SC_FAMILY_PREFER_IPV6:
		types[0] = SC_T_AAAA;
		types[1] = SC_T_A;
		return 2;
	default:
		types[0] = SC_T_A;
		types[1] = SC_T_AAAA;
		return 2;
	}
}

static int dns_by_name(struct sc_core *core, const char *name, int family,
		       const uint16_t *types, unsigned ntypes,
		       struct sc_addr_result *ret, int *ret_herrno)
{
	struct build b = {
		.r = ret,
		.conf = sc_core_conf(core),
		.tuples = family == AF_UNSPEC,
	};
	struct addr_work *w;
	int r;

	result_reset(ret);
	/* nss_dns asks nothing for a name that cannot be a host name. */
	if (!text_hnok(name)) {
		*ret_herrno = HOST_NOT_FOUND;
		return -ENOENT;
	}
	w = malloc(sizeof(*w));
	if (w == NULL) {
		*ret_herrno = NETDB_INTERNAL;
		return -ENOMEM;
	}
	if (ntypes == 2) {
		r = dns_pair(core, w, &b, name, types, ret_herrno);
	} else {
		r = dns_one(core, w, &b, name, types[0], ret_herrno);
	}
	free(w);
	if (r < 0) {
		/* A failure reports no name nor address; the TTL stays, as
		 * nss_dns may have lowered *ttlp on the way. */
		ret->name = NULL;
		ret->naliases = 0;
		ret->naddr = 0;
	}
	return r;
}

int sc_addr_by_name(struct sc_core *core, const char *name, int family, unsigned sources,
		    struct sc_addr_result *ret, int *ret_herrno)
{
	enum sc_hosts_order order = sc_core_hosts_order(core);
	bool files = (sources & SC_ADDR_FILES) && order != SC_HOSTS_NEVER;
	uint16_t types[2];
	unsigned ntypes;
	int r, rh;

	result_reset(ret);
	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC) {
		/* What nss_dns's gethostbyname3_r says. */
		*ret_herrno = NO_DATA;
		return -EAFNOSUPPORT;
	}
	ntypes = types_for(family, sc_core_conf(core)->family, types);
	if (ntypes == 0) {
		/* The policy leaves nothing to ask for this family. */
		*ret_herrno = NO_DATA;
		return -ENOENT;
	}

	if (files && order == SC_HOSTS_FILES_FIRST) {
		r = hosts_by_name(core, name, family, ret, ret_herrno);
		if (r != -ENOENT) {
			return r;   /* found, or a hosts file we cannot use */
		}
	}
	if (sources & SC_ADDR_DNS) {
		r = dns_by_name(core, name, family, types, ntypes, ret, ret_herrno);
		if (r == 0) {
			return 0;
		}
	} else {
		*ret_herrno = HOST_NOT_FOUND;
		r = -ENOENT;
	}
	if (files && order == SC_HOSTS_DNS_FIRST) {
		/* `dns files': the file answers whatever DNS did not.  When
		 * it has nothing either, DNS's failure is the answer. */
		int32_t ttl = ret->ttl;
		bool has_ttl = ret->has_ttl;
		int herrno;

		rh = hosts_by_name(core, name, family, ret, &herrno);
		if (rh != -ENOENT) {
			*ret_herrno = herrno;
			return rh;
		}
		ret->ttl = ttl;
		ret->has_ttl = has_ttl;
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* by address                                                          */

/*
 * nss_dns asks IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible
 * (::a.b.c.d, but not ::1) addresses as the IPv4 address, and then
 * reports the answer as IPv4.
 */
static const unsigned char *unmap(int *family, const unsigned char *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char zero[12];
	static const unsigned char one[4] = { 0, 0, 0, 1 };

	if (*family == AF_INET6 &&
	    (memcmp(a, mapped, 12) == 0 ||
	     (memcmp(a, zero, 12) == 0 && memcmp(a + 12, one, 4) != 0))) {
		*family = AF_INET;
		return a + 12;
	}
	return a;
}

static void ptr_name(int family, const unsigned char *a, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int i;

	if (family == AF_INET) {
		snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
		return;
	}
	for (i = 15; i >= 0 && o + 4 < outlen; i--) {
		out[o++] = hex[a[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[a[i] >> 4];
		out[o++] = '.';
	}
	snprintf(out + o, outlen - o, "ip6.arpa");
}

/*
 * The PTR answer by nss_dns's getanswer_ptr: CNAMEs move the expected
 * name (RFC 2317 classless delegations are CNAMEs), the first PTR owned
 * by it gives the name, which must be a host name.
 */
static int take_ptr(struct sc_addr_result *r, const struct sc_conf *conf, struct sc_msg *m,
		    const unsigned char *buf, size_t len, int *ret_herrno)
{
	unsigned char qname[SC_DNS_MAXNAME], expected[SC_DNS_MAXNAME];
	unsigned char owner[SC_DNS_MAXNAME], target[SC_DNS_MAXNAME];
	unsigned i;

	if (sc_dns_parse(buf, len, m) < 0 || m->qdcount != 1 ||
	    sc_dns_name_expand(buf, len, SC_DNS_HDRLEN, qname, NULL) < 0) {
		*ret_herrno = NO_RECOVERY;
		return -EBADMSG;
	}
	memcpy(expected, qname, sizeof(qname));
	for (i = 0; i < m->nrr && m->rr[i].section == SC_SEC_AN; i++) {
		const struct sc_rr *rr = &m->rr[i];

		if (rr->class != SC_C_IN) {
			continue;
		}
		if (rr->type == SC_T_CNAME || rr->type == SC_T_PTR) {
			ttl_lower(r, rr->ttl);
			ttl_clamp(r, conf, qname);
		}
		if (rr->type == SC_T_CNAME) {
			if (sc_dns_name_expand(buf, len, rr->rdata_off, expected, NULL) < 0) {
				*ret_herrno = NO_RECOVERY;
				return -EBADMSG;
			}
			continue;
		}
		if (rr->type != SC_T_PTR ||
		    sc_dns_name_expand(buf, len, rr->name_off, owner, NULL) < 0 ||
		    !sc_dns_name_equal(owner, expected)) {
			continue;
		}
		if (sc_dns_name_expand(buf, len, rr->rdata_off, target, NULL) < 0 ||
		    !wire_hnok(target)) {
			/* nss_dns: unavailable, not "no such name". */
			*ret_herrno = NO_RECOVERY;
			return -EBADMSG;
		}
		if ((r->name = pool_add_wire(r, target)) == NULL) {
			*ret_herrno = NO_RECOVERY;
			return -E2BIG;
		}
		*ret_herrno = NETDB_SUCCESS;
		return 0;
	}
	/* No PTR of the name asked. */
	r->has_ttl = true;
	r->ttl = 0;
	*ret_herrno = NO_RECOVERY;
	return -EAGAIN;
}

static int dns_by_addr(struct sc_core *core, int family, const unsigned char *addr,
		       struct sc_addr_result *ret, int *ret_herrno)
{
	char qname[80];
	struct addr_work *w;
	struct sc_query q;
	int n, herrno, r;

	result_reset(ret);
	addr = unmap(&family, addr);
	ptr_name(family, addr, qname, sizeof(qname));
	w = malloc(sizeof(*w));
	if (w == NULL) {
		*ret_herrno = NETDB_INTERNAL;
		return -ENOMEM;
	}
	q = (struct sc_query){
		.name = qname,
		.class = SC_C_IN,
		.type = SC_T_PTR,
		.answer = w->answer,
		.anslen = (int)sizeof(w->answer),
		.statp = NULL,
	};
	/* res_query, not res_search: the name is absolute already. */
	n = sc_core_query(core, &q, &herrno);
	if (n < 0) {
		/* nss_dns: unavailable when refused, else not found, with
		 * h_errno as it came (a timeout is "not found" here). */
		*ret_herrno = herrno;
		r = errno == ECONNREFUSED ? -ECONNREFUSED : -ENOENT;
	} else if ((size_t)n > sizeof(w->answer)) {
		*ret_herrno = NO_RECOVERY;
		r = -EBADMSG;
	} else {
		r = take_ptr(ret, sc_core_conf(core), &w->msg, w->answer, (size_t)n, ret_herrno);
	}
	free(w);
	if (r == 0) {
		r = add_addr(ret, family, addr);
	} else {
		ret->name = NULL;
		ret->naddr = 0;
	}
	return r;
}

int sc_addr_by_addr(struct sc_core *core, int family, const void *addr, unsigned sources,
		    struct sc_addr_result *ret, int *ret_herrno)
{
	enum sc_hosts_order order = sc_core_hosts_order(core);
	bool files = (sources & SC_ADDR_FILES) && order != SC_HOSTS_NEVER;
	int r, rh, herrno;

	result_reset(ret);
	if (family != AF_INET && family != AF_INET6) {
		*ret_herrno = NETDB_INTERNAL;
		return -EAFNOSUPPORT;
	}
	if (files && order == SC_HOSTS_FILES_FIRST) {
		r = hosts_by_addr(core, family, addr, ret, ret_herrno);
		if (r != -ENOENT) {
			return r;
		}
	}
	if (sources & SC_ADDR_DNS) {
		r = dns_by_addr(core, family, addr, ret, ret_herrno);
		if (r == 0) {
			return 0;
		}
	} else {
		*ret_herrno = HOST_NOT_FOUND;
		r = -ENOENT;
	}
	if (files && order == SC_HOSTS_DNS_FIRST) {
		int32_t ttl = ret->ttl;
		bool has_ttl = ret->has_ttl;

		rh = hosts_by_addr(core, family, addr, ret, &herrno);
		if (rh != -ENOENT) {
			*ret_herrno = herrno;
			return rh;
		}
		ret->ttl = ttl;
		ret->has_ttl = has_ttl;
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* for front ends                                                      */

unsigned sc_addr_nss_sources(const struct sc_core *core)
{
	const struct sc_nsswitch *ns = sc_core_nsswitch(core);

	/* glibc ran `files' already when it comes before us: reading the
	 * file again could only repeat its "not found". */
	if (ns->found && ns->pos_files >= 0 && ns->pos_sipcache >= 0 &&
	    ns->pos_files < ns->pos_sipcache) {
		return SC_ADDR_DNS;
	}
	return SC_ADDR_DNS | SC_ADDR_FILES;
}

/*
 * The table a process's other front end finds with dlsym (see sc.h):
 * default visibility so that the preload's version script can export
 * it; the NSS module's script keeps it local.
 */
__attribute__((visibility("default")))
const struct sc_core_ops sipcache_core_ops_v1 = {
	.size = sizeof(struct sc_core_ops),
	.get = sc_core_get,
	.enter = sc_core_enter,
	.leave = sc_core_leave,
	.addr_by_name = sc_addr_by_name,
	.addr_by_addr = sc_addr_by_addr,
	.nss_sources = sc_addr_nss_sources,
};

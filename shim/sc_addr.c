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
 * a work area allocated once per thread (freed by a pthread key
 * destructor when the thread exits), and the two answers of a pair share
 * the answer buffer (the first is taken apart before the second is
 * asked).  The recursion guard keeps a thread from entering twice; a busy
 * flag makes sure of it (a nested call would malloc its own).  Results
 * hold their strings in their own pool, so they outlive the area and the
 * hosts file's generation.
 *
 * A first level of whole results.  A hit through the core costs two
 * sc_core_querydomain() calls (name to key, the core's own first level,
 * the answer copied and TTL-patched), take_answer()'s parse of the copy
 * and a hosts-file lookup: ~8,000 instructions to hand back the same
 * addresses again.  So each thread keeps a small direct-mapped table of
 * sc_addr_by_name() successes keyed by (name as spelled, family,
 * sources), and serves a copy while everything the result was made of is
 * provably unchanged -- the rules of sc_cache.c's first level, applied to
 * every cache entry the lookup consulted:
 *
 *   - each cache key asked (every candidate of the search, both halves
 *     of a pair, negative answers included) has the change counter
 *     (sc_stats_gen: bumped by every store, delete, flush, eviction,
 *     sweep and rebuild) it had *before* it was asked; after the lookup
 *     each is checked unchanged and found in the cache, fresh: so every
 *     answer came from the cache (a miss stores and bumps, an answer
 *     that was not stored is not in the cache), and none changed since;
 *   - the marks generation is unchanged (a mark drops addresses from
 *     served A/AAAA answers; every new mark and every `up' changes the
 *     generation, and which marks are alive depends only on the second,
 *     which the next rule fixes);
 *   - the hosts file's generation is unchanged when it was consulted;
 *   - the thread's resolver state (options, ndots, search list) is the
 *     one the lookup ran with, and HOSTALIASES is still unset for a name
 *     without dots (the alias file would decide the question);
 *   - the wall-clock second is the one of the lookup.  This is stricter
 *     than "the TTL lasts" on purpose: a hit reports TTLs lowered to the
 *     entry's remaining life, which changes every second (nscd caches by
 *     it), and an entry that was fresh in this second stays fresh in it.
 *     A hot name costs one full lookup per thread and second.
 *
 * A hit counts what the full lookup would have counted (hits per type,
 * negative hits, hosts hits), sets errno as it left it, and checks the
 * cache handle as the core does (sc_cache_revalidate).  Failures are
 * never kept: they are rare on a hot path and their errno/h_errno rules
 * are the intricate ones.  Without a stats file there is no first level.
 * The configuration is read once per process, so it needs no check.
 *
 * Errors come back as -errno with the h_errno nss_dns would report; the
 * table is in sc.h.  errno is not preserved here: the front ends save and
 * restore it around the whole call.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tdb.h>

#include "sc.h"

/* The core's upstream buffer is this big: an answer never arrives cut. */
#define ADDR_ANSWER_MAX 65536

/* Longest host name nss_dns accepts in text (MAXHOSTNAMELEN + 1). */
#define HNAME_MAX 257

struct addr_work {
	struct sc_msg msg;
	unsigned char answer[ADDR_ANSWER_MAX];
};

/* First level: slots per thread, cache keys per result. */
#define L1A_SLOTS 64
#define L1A_MAXDEPS 16

/* A cache key a lookup is about to ask, with its change counter. */
struct rec_dep {
	struct sc_key key;
	uint32_t hash;
	uint16_t type;
	uint64_t gen;
};

/* What a full lookup consulted, recorded for the first level. */
struct rec {
	bool on;            /* recording */
	bool ok;            /* everything consulted can be checked again */
	bool hosts_used;
	unsigned ndeps;
	struct sc_stats *stats;
	struct rec_dep dep[L1A_MAXDEPS];
};

/* A stored key, checked on every first-level hit. */
struct l1a_dep {
	uint64_t gen;
	uint32_t hash;
	uint16_t type;
	bool negative;      /* a negative hit: counted as one */
};

/* One kept result; one malloc'd block, its arrays after the header. */
struct l1a_value {
	uint32_t hash;
	int family;
	unsigned sources;
	int64_t second;             /* sc_now() of the lookup */
	const struct sc_stats *stats;
	uint64_t marks_gen;
	uint64_t hosts_gen;
	bool hosts_used;
	bool dotless;               /* HOSTALIASES could apply */
	bool errno_zero;            /* the lookup left errno 0 (else as found) */
	int herrno;
	/* the result */
	int32_t ttl;
	bool has_ttl;
	bool from_hosts;
	int name_off;               /* in pool; -1: no name */
	unsigned naliases, naddr, ndeps;
	size_t pool_used;
	const struct l1a_dep *dep;
	const struct sc_hosts_addr *addr;
	const uint16_t *alias_off;
	const char *pool;
	const char *qname;          /* the name asked, as spelled */
};

/* The resolver state a kept result depends on (the search rules). */
struct res_snap {
	unsigned long options;
	unsigned ndots;
	char *dnsrch[MAXDNSRCH + 1];
	char defdname[sizeof(((struct __res_state *)0)->defdname)];
};

struct addr_thread {
	bool work_busy, result_busy;
	struct addr_work w;
	struct rec rec;
	struct res_snap snap;
	bool snap_valid;
	struct l1a_value *slot[L1A_SLOTS];
	struct sc_addr_result result;   /* sc_addr_result_get() */
};

/*
 * A result being built.  `names' is gethostbyname3_r's list (question
 * name, then CNAME targets): its last entry becomes the name, the others
 * the aliases, once the answer has been read.
 */
struct build {
	struct sc_addr_result *r;
	const struct sc_conf *conf;
	struct rec *rec;    /* the first level's record, or NULL */
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
/* the thread's work area                                              */

static __thread struct addr_thread *addr_tls;
static pthread_key_t addr_key;
static pthread_once_t addr_once = PTHREAD_ONCE_INIT;
static bool addr_key_ok;

static void l1a_clear(struct addr_thread *t)
{
	unsigned i;

	for (i = 0; i < L1A_SLOTS; i++) {
		free(t->slot[i]);
		t->slot[i] = NULL;
	}
}

static void addr_thread_free(void *p)
{
	struct addr_thread *t = p;

	l1a_clear(t);
	free(t);
	addr_tls = NULL;
}

static void addr_key_init(void)
{
	/* The destructor frees a thread's area when the thread exits. */
	addr_key_ok = pthread_key_create(&addr_key, addr_thread_free) == 0;
}

/*
 * This thread's area, allocated on first use; NULL without memory (the
 * callers then malloc per call, as before).  After fork() the child's
 * thread keeps its copy, which is as valid there: the cache file and the
 * counters it is checked against are shared.
 */
static struct addr_thread *addr_thread_get(void)
{
	struct addr_thread *t = addr_tls;

	if (t == NULL) {
		pthread_once(&addr_once, addr_key_init);
		if (!addr_key_ok) {
			return NULL;
		}
		t = calloc(1, sizeof(*t));
		if (t == NULL || pthread_setspecific(addr_key, t) != 0) {
			free(t);
			return NULL;
		}
		addr_tls = t;
	}
	return t;
}

/* The work area for one lookup: the thread's, unless it is in use. */
static struct addr_work *work_get(struct addr_thread *t)
{
	if (t && !t->work_busy) {
		t->work_busy = true;
		return &t->w;
	}
	return malloc(sizeof(struct addr_work));
}

static void work_put(struct addr_thread *t, struct addr_work *w)
{
	if (t && w == &t->w) {
		t->work_busy = false;
		return;
	}
	free(w);
}

struct sc_addr_result *sc_addr_result_get(void)
{
	struct addr_thread *t = addr_thread_get();

	if (t && !t->result_busy) {
		t->result_busy = true;
		return &t->result;
	}
	return malloc(sizeof(struct sc_addr_result));
}

void sc_addr_result_put(struct sc_addr_result *r)
{
	struct addr_thread *t = addr_tls;

	if (t && r == &t->result) {
		t->result_busy = false;
		return;
	}
	free(r);
}

/* ------------------------------------------------------------------ */
/* recording what a lookup consults (for the first level)             */

/*
 * The core passes a question to libresolv uncached under these options
 * (sc_core.c, options_cacheable): its answer is then no cache entry's.
 */
static bool rec_options_ok(unsigned long options, uint16_t type)
{
	if (!(options & RES_RECURSE) || (options & RES_USE_DNSSEC)) {
		return false;
	}
#ifdef RES_NOAAAA
	if ((options & RES_NOAAAA) && type == SC_T_AAAA) {
		return false;
	}
#else
	(void)type;
#endif
	return true;
}

/*
 * `name' (+ "." + `domain') is about to be asked for `type': note its
 * key and the key's change counter, read before the question so that a
 * store made while it is asked can only make the copy look older.
 */
static void rec_add(struct rec *rec, const char *name, const char *domain, uint16_t type)
{
	unsigned char wire[SC_DNS_MAXNAME];
	char text[NS_MAXDNAME];
	struct rec_dep *d;
	TDB_DATA k;

	if (rec == NULL || !rec->on || !rec->ok) {
		return;
	}
	if (rec->ndeps >= L1A_MAXDEPS || !rec_options_ok(_res.options, type)) {
		rec->ok = false;
		return;
	}
	if (domain) {
		if ((size_t)snprintf(text, sizeof(text), "%s.%s", name, domain) >= sizeof(text)) {
			rec->ok = false;
			return;
		}
		name = text;
	}
	d = &rec->dep[rec->ndeps];
	if (sc_dns_name_from_text(name, wire, sizeof(wire)) < 0 ||
	    sc_key_make(&d->key, wire, type, SC_C_IN) < 0) {
		/* The core passes such a name to libresolv: not cached. */
		rec->ok = false;
		return;
	}
	k.dptr = d->key.buf;
	k.dsize = d->key.len;
	d->hash = sc_cache_tdb_hash(&k);
	d->type = type;
	d->gen = sc_stats_gen(rec->stats, d->hash);
	rec->ndeps++;
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

/*
 * sc_core_search walks candidates we do not see.  A name with a dot that
 * res_nsearch asks as given first (at least ndots dots, or a trailing
 * dot) and that answers as given consulted that one key: it is recorded,
 * and dns_one checks afterwards which name answered.  Anything else
 * (short names, names the search list completed) is not kept.
 */
static void rec_one(struct rec *rec, const char *name, uint16_t qtype)
{
	unsigned dots = 0;
	const char *cp;
	bool trailing;

	if (rec == NULL || !rec->on) {
		return;
	}
	for (cp = name; *cp; cp++) {
		dots += *cp == '.';
	}
	trailing = cp > name && cp[-1] == '.';
	if (!(_res.options & RES_INIT) || dots == 0 ||
	    (dots < (unsigned)_res.ndots && !trailing)) {
		rec->ok = false;
		return;
	}
	rec_add(rec, name, NULL, qtype);
}

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

	rec_one(b->rec, name, qtype);
	n = sc_core_search(core, &q, &herrno);
	if (n < 0) {
		return search_failed(errno, herrno, ret_herrno);
	}
	if (b->rec && b->rec->on && b->rec->ok) {
		/* The name as given must be the candidate that answered:
		 * then it is the only key the search consulted. */
		unsigned char qn[SC_DNS_MAXNAME];

		if (b->rec->ndeps != 1 || (size_t)n > sizeof(w->answer) ||
		    sc_dns_name_expand(w->answer, (size_t)n, SC_DNS_HDRLEN, qn, NULL) < 0 ||
		    !sc_dns_name_equal(qn, b->rec->dep[0].key.buf)) {
			b->rec->ok = false;
		}
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
		rec_add(p->b->rec, name, domain, p->types[i]);
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

static int dns_by_name(struct sc_core *core, struct addr_thread *t, const char *name,
		       int family, const uint16_t *types, unsigned ntypes,
		       struct sc_addr_result *ret, int *ret_herrno)
{
	struct build b = {
		.r = ret,
		.conf = sc_core_conf(core),
		.rec = t ? &t->rec : NULL,
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
	w = work_get(t);
	if (w == NULL) {
		*ret_herrno = NETDB_INTERNAL;
		return -ENOMEM;
	}
	if (ntypes == 2) {
		r = dns_pair(core, w, &b, name, types, ret_herrno);
	} else {
		r = dns_one(core, w, &b, name, types[0], ret_herrno);
	}
	work_put(t, w);
	if (r < 0) {
		/* A failure reports no name nor address; the TTL stays, as
		 * nss_dns may have lowered *ttlp on the way. */
		ret->name = NULL;
		ret->naliases = 0;
		ret->naddr = 0;
	}
	return r;
}

/* The whole lookup (the first level missed). */
static int by_name_full(struct sc_core *core, struct addr_thread *t, const char *name,
			int family, unsigned sources, const uint16_t *types, unsigned ntypes,
			struct sc_addr_result *ret, int *ret_herrno)
{
	enum sc_hosts_order order = sc_core_hosts_order(core);
	bool files = (sources & SC_ADDR_FILES) && order != SC_HOSTS_NEVER;
	int r, rh;

	if (files && order == SC_HOSTS_FILES_FIRST) {
		if (t) {
			t->rec.hosts_used = true;
		}
		r = hosts_by_name(core, name, family, ret, ret_herrno);
		if (r != -ENOENT) {
			return r;   /* found, or a hosts file we cannot use */
		}
	}
	if (sources & SC_ADDR_DNS) {
		r = dns_by_name(core, t, name, family, types, ntypes, ret, ret_herrno);
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

		if (t) {
			t->rec.hosts_used = true;
		}
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
/* the first level of results (see the top of the file)                */

static uint32_t l1a_hash(const char *name, int family, unsigned sources)
{
	/* FNV-1a over the name as spelled: the result's names keep the
	 * caller's spelling, so "Sip1" and "sip1" are different keys. */
	uint32_t h = 2166136261u ^ (uint32_t)family ^ (sources << 8);
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++) {
		h = (h ^ *p) * 16777619u;
	}
	return h;
}

static void snap_take(struct res_snap *sn)
{
	memset(sn, 0, sizeof(*sn));
	sn->options = _res.options;
	sn->ndots = _res.ndots;
	memcpy(sn->dnsrch, _res.dnsrch, sizeof(sn->dnsrch));
	memcpy(sn->defdname, _res.defdname, sizeof(sn->defdname));
}

/* Is the thread's resolver state the one of the kept results?  The
 * search list lives in defdname (glibc's res_init puts dnsrch there);
 * pointers and bytes both compared, so a program's own list counts too. */
static bool snap_same(const struct res_snap *sn)
{
	return sn->options == _res.options && sn->ndots == _res.ndots &&
	       memcmp(sn->dnsrch, _res.dnsrch, sizeof(sn->dnsrch)) == 0 &&
	       memcmp(sn->defdname, _res.defdname, sizeof(sn->defdname)) == 0;
}

static bool dotless(const char *name)
{
	return strchr(name, '.') == NULL;
}

/* Serve a kept copy of (name, family, sources) when still valid. */
static bool l1a_serve(struct addr_thread *t, struct sc_core *core, const char *name,
		      int family, unsigned sources, uint32_t hash,
		      struct sc_addr_result *ret, int *ret_herrno)
{
	const struct l1a_value *v = t->slot[hash % L1A_SLOTS];
	struct sc_stats *st;
	unsigned i;

	if (v == NULL || v->hash != hash || v->family != family || v->sources != sources ||
	    strcmp(v->qname, name) != 0) {
		return false;
	}
	st = sc_core_stats(core);
	if (v->second != sc_now() || st == NULL || st != v->stats || !t->snap_valid ||
	    !(_res.options & RES_INIT) || !snap_same(&t->snap) ||
	    sc_stats_marks_gen(st) != v->marks_gen) {
		return false;
	}
	for (i = 0; i < v->ndeps; i++) {
		if (sc_stats_gen(st, v->dep[i].hash) != v->dep[i].gen) {
			return false;
		}
	}
	if (v->hosts_used && sc_core_hosts_generation(core) != v->hosts_gen) {
		return false;
	}
	if (v->dotless && secure_getenv("HOSTALIASES") != NULL) {
		return false;
	}
	/* The core checks its handle before every cache lookup: a cache
	 * closed under us means upstream answers from now on. */
	if (sc_cache_revalidate(sc_core_cache(core), sc_now_mono_ms()) != 0) {
		return false;
	}

	/* The copy, then what the full lookup would have counted. */
	memcpy(ret->pool, v->pool, v->pool_used);
	ret->pool_used = v->pool_used;
	ret->name = v->name_off < 0 ? NULL : ret->pool + v->name_off;
	ret->naliases = v->naliases;
	for (i = 0; i < v->naliases; i++) {
		ret->aliases[i] = ret->pool + v->alias_off[i];
	}
	ret->naddr = v->naddr;
	memcpy(ret->addr, v->addr, v->naddr * sizeof(*v->addr));
	ret->ttl = v->ttl;
	ret->has_ttl = v->has_ttl;
	ret->from_hosts = v->from_hosts;
	for (i = 0; i < v->ndeps; i++) {
		sc_stats_inc(st, SC_STAT_HITS);
		sc_stats_inc_type(st, v->dep[i].type, true);
		if (v->dep[i].negative) {
			sc_stats_inc(st, SC_STAT_NEGATIVE_HITS);
		}
	}
	if (v->from_hosts) {
		sc_stats_inc(st, SC_STAT_HOSTS_HITS);
	}
	if (v->errno_zero) {
		errno = 0;
	}
	*ret_herrno = v->herrno;
	return true;
}

/*
 * Keep a successful result, if everything it was made of can be checked
 * again (see the top of the file).  `second', `marks_gen' and `hosts_gen'
 * were read before the lookup; errno_zero: it left errno 0 (else errno
 * is what it was on entry).
 */
static void l1a_fill(struct addr_thread *t, struct sc_core *core, const char *name,
		     int family, unsigned sources, uint32_t hash, int64_t second,
		     uint64_t marks_gen, uint64_t hosts_gen, bool errno_zero,
		     const struct sc_addr_result *res, int herrno)
{
	struct rec *rec = &t->rec;
	struct sc_cache *cache = sc_core_cache(core);
	struct l1a_dep deps[L1A_MAXDEPS];
	size_t namelen = strlen(name) + 1, size, off_dep, off_addr, off_alias, off_pool, off_name;
	struct l1a_value *v;
	unsigned char *blob;
	unsigned i;

	if (!rec->ok || rec->stats == NULL || cache == NULL || sc_now() != second ||
	    !(_res.options & RES_INIT) || sc_stats_marks_gen(rec->stats) != marks_gen ||
	    (dotless(name) && secure_getenv("HOSTALIASES") != NULL)) {
		return;
	}
	if (res->name && (res->name < res->pool || res->name >= res->pool + res->pool_used)) {
		return;
	}
	for (i = 0; i < res->naliases; i++) {
		if (res->aliases[i] < res->pool || res->aliases[i] >= res->pool + res->pool_used) {
			return;
		}
	}
	/*
	 * Every key asked: unchanged since before it was asked, and there
	 * now, fresh.  So the lookup read that very entry (a miss would
	 * have stored and bumped the counter; an answer that could not be
	 * stored is not there), and it still holds.  The answer buffer is
	 * free again: the copies land there.
	 */
	for (i = 0; i < rec->ndeps; i++) {
		const struct rec_dep *d = &rec->dep[i];
		struct sc_hit hit;

		if (sc_stats_gen(rec->stats, d->hash) != d->gen ||
		    sc_cache_get(cache, &d->key, second, 0, 0, d->key.buf, t->w.answer,
				 sizeof(t->w.answer), &hit) != 0 ||
		    hit.stale || hit.remaining == 0 ||
		    sc_stats_gen(rec->stats, d->hash) != d->gen) {
			return;
		}
		deps[i].gen = d->gen;
		deps[i].hash = d->hash;
		deps[i].type = d->type;
		deps[i].negative = (hit.flags & SC_ENTRY_NEGATIVE) != 0;
	}

	off_dep = (sizeof(*v) + 7) & ~(size_t)7;
	off_addr = off_dep + rec->ndeps * sizeof(struct l1a_dep);
	off_alias = off_addr + res->naddr * sizeof(struct sc_hosts_addr);
	off_pool = off_alias + res->naliases * sizeof(uint16_t);
	off_name = off_pool + res->pool_used;
	size = off_name + namelen;
	blob = malloc(size);
	if (blob == NULL) {
		return;
	}
	v = (struct l1a_value *)(void *)blob;
	memset(v, 0, sizeof(*v));
	v->hash = hash;
	v->family = family;
	v->sources = sources;
	v->second = second;
	v->stats = rec->stats;
	v->marks_gen = marks_gen;
	v->hosts_gen = hosts_gen;
	v->hosts_used = rec->hosts_used;
	v->dotless = dotless(name);
	v->errno_zero = errno_zero;
	v->herrno = herrno;
	v->ttl = res->ttl;
	v->has_ttl = res->has_ttl;
	v->from_hosts = res->from_hosts;
	v->name_off = res->name ? (int)(res->name - res->pool) : -1;
	v->naliases = res->naliases;
	v->naddr = res->naddr;
	v->ndeps = rec->ndeps;
	v->pool_used = res->pool_used;
	memcpy(blob + off_dep, deps, rec->ndeps * sizeof(struct l1a_dep));
	memcpy(blob + off_addr, res->addr, res->naddr * sizeof(struct sc_hosts_addr));
	for (i = 0; i < res->naliases; i++) {
		uint16_t o = (uint16_t)(res->aliases[i] - res->pool);

		memcpy(blob + off_alias + i * sizeof(uint16_t), &o, sizeof(o));
	}
	memcpy(blob + off_pool, res->pool, res->pool_used);
	memcpy(blob + off_name, name, namelen);
	v->dep = (const struct l1a_dep *)(const void *)(blob + off_dep);
	v->addr = (const struct sc_hosts_addr *)(const void *)(blob + off_addr);
	v->alias_off = (const uint16_t *)(const void *)(blob + off_alias);
	v->pool = (const char *)blob + off_pool;
	v->qname = (const char *)blob + off_name;

	/* Kept results hold for the resolver state they were made with. */
	if (!t->snap_valid || !snap_same(&t->snap)) {
		l1a_clear(t);
		snap_take(&t->snap);
		t->snap_valid = true;
	}
	free(t->slot[hash % L1A_SLOTS]);
	t->slot[hash % L1A_SLOTS] = v;
}

int sc_addr_by_name(struct sc_core *core, const char *name, int family, unsigned sources,
		    struct sc_addr_result *ret, int *ret_herrno)
{
	struct addr_thread *t;
	struct sc_stats *st = sc_core_stats(core);
	uint64_t marks_gen = 0, hosts_gen = 0;
	int64_t second = 0;
	uint16_t types[2];
	unsigned ntypes;
	uint32_t hash = 0;
	int r, entry_errno = errno;

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

	t = addr_thread_get();
	if (t && (t->rec.on || t->work_busy)) {
		t = NULL;   /* nested: no first level, a work area of its own */
	}
	if (t && st) {
		hash = l1a_hash(name, family, sources);
		if (l1a_serve(t, core, name, family, sources, hash, ret, ret_herrno)) {
			return 0;
		}
		result_reset(ret);
		/* Read before the lookup: a change during it shows later. */
		second = sc_now();
		marks_gen = sc_stats_marks_gen(st);
		if ((sources & SC_ADDR_FILES) && sc_core_hosts_order(core) != SC_HOSTS_NEVER) {
			hosts_gen = sc_core_hosts_generation(core);
		}
		t->rec.on = true;
		t->rec.ok = true;
		t->rec.hosts_used = false;
		t->rec.ndeps = 0;
		t->rec.stats = st;
	}
	r = by_name_full(core, t, name, family, sources, types, ntypes, ret, ret_herrno);
	if (t && t->rec.on) {
		int e = errno;

		t->rec.on = false;
		if (r == 0 && (e == 0 || e == entry_errno)) {
			l1a_fill(t, core, name, family, sources, hash, second, marks_gen,
				 hosts_gen, e == 0, ret, *ret_herrno);
		}
		errno = e;
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
	struct addr_thread *t;
	struct addr_work *w;
	struct sc_query q;
	int n, herrno, r;

	result_reset(ret);
	addr = unmap(&family, addr);
	ptr_name(family, addr, qname, sizeof(qname));
	t = addr_thread_get();
	w = work_get(t);
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
	work_put(t, w);
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

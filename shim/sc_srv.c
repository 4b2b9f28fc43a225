/*
 * sc_srv.c - served-answer ordering, target marks, related records.
 *
 * Pure functions on one DNS message; no cache, no upstream.
 *
 * Hit path: sc_srv_apply().  A served SRV answer can be put in RFC 2782
 * order (srv_order = rfc2782) so that a client that takes the first
 * record gets load balancing, and SRV or A/AAAA answers can have marked
 * targets (sipcachectl down) put last or dropped.  Only the records that
 * answer the question move: the SRV (or A, AAAA) records of class IN
 * owned by the question name, or by the end of a CNAME chain from it in
 * the answer section.  CNAMEs, other records and the other sections keep
 * their places.
 *
 * Why the message is written anew rather than its records swapped in
 * place.  Names in a message are compressed with pointers to earlier
 * bytes, and real answers point into the records that move: Knot writes
 * the owner of each additional A record as a pointer into the RDATA of
 * the SRV record naming it (see the captures in tests/check_srv.c), and
 * an old server may compress the second SRV target against the first.
 * Swapping records leaves such pointers aimed at other bytes, or forward,
 * which our parser refuses (and other parsers read as another name);
 * dropping a record leaves them aimed at nothing.  So the message is
 * written again, record by record in the new order, header and question
 * copied, every name written by mirroring the original's own compression
 * (see "writing a message anew" below): labels are copied once each, and
 * pointers are re-aimed at the new place of what they pointed to, or,
 * when that is not written yet (moved later, or dropped), replaced by
 * those labels.  RDATA is copied byte for byte except the names inside
 * it, for the types whose names our parser knows (it refuses pointers
 * into any other RDATA); a message holding a type that older servers
 * compressed but we treat as opaque (RP, AFSDB, ...) is left alone.
 * Every name reads exactly as before, byte for byte, and the result is
 * never longer than the original, except past 16 KiB where pointers
 * cannot reach; a result that does not fit the caller's buffer leaves
 * the message as it was.  The unit tests check, for the captured answers
 * and thousands of random messages, orders and marks, that sc_dns_parse
 * and libresolv read the result as the same records (fewer, when marked
 * ones are dropped), and that it never grows.
 *
 * Cost: the strict parse (kept: it is what makes every later step safe on
 * any input), the scan for the RRset, the draws, and one pass copying the
 * message, in a per-thread work area allocated once (no malloc per hit).
 * Measured here (2 cores, gcc -O2): 0.38 us for Knot's 222-byte
 * two-record SRV answer with its six additional records, 0.3 us of it
 * the parse; 25 ns when there is nothing to do.  An answer of one record
 * costs a header check.
 *
 * RFC 2782 selection, and where it departs from the RFC's words.  Within
 * a priority the RFC sums the weights of the records not yet placed,
 * draws a number in [0, sum] *inclusive* and takes the first record
 * whose running sum reaches it, with the weight-0 records first.  Read
 * literally, the inclusive bound gives the first nonzero record one
 * extra chance: weights 1:3 give 40%:60%, not the 25%:75% operators
 * configure.  Kamailio's balancing gives 25%:75%, and so do we: the extra
 * value of the draw is only spent when there are weight-0 records, and
 * then on them (one chance in sum + 1, the RFC's "very small chance",
 * taken by one of them at random); the other values select among the
 * nonzero records in exact proportion to their weights.  When every
 * remaining weight is 0 the choice is uniform.
 *
 * Miss path: sc_srv_related() hands the core the records of the
 * additional section that belong to the chain (SRV of the NAPTR
 * replacements, A/AAAA of SRV targets) as standalone answers to store
 * under their own keys; sc_srv_chain() lists the next questions of the
 * chain for prefetch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "sc.h"

#define RR_FIXED 10      /* type, class, TTL, RDLENGTH */
#define PTR_MAX 0x4000   /* pointers reach the first 16 KiB only */
#define CNAME_HOPS 16    /* a longer chain in one answer is not followed */

static inline uint16_t get16(const unsigned char *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline void put16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* ------------------------------------------------------------------ */
/* random numbers                                                      */

void sc_rng_seed(struct sc_rng *r, uint64_t seed)
{
	/* xorshift's one forbidden state is 0. */
	r->s = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

static uint32_t rng_next32(struct sc_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	/* The high half of the product is the well-mixed part. */
	return (uint32_t)((x * 0x2545f4914f6cdd1dULL) >> 32);
}

uint32_t sc_rng_below(struct sc_rng *r, uint32_t n)
{
	uint64_t m;
	uint32_t low;

	if (n == 0) {
		return 0;
	}
	/*
	 * Multiply and keep the high word (Lemire), rejecting the few low
	 * words that would make some results more likely than others: the
	 * draw is exactly uniform, which the statistical tests rely on.
	 */
	m = (uint64_t)rng_next32(r) * n;
	low = (uint32_t)m;
	if (low < n) {
		uint32_t floor = (uint32_t)-n % n;

		while (low < floor) {
			m = (uint64_t)rng_next32(r) * n;
			low = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

/*
 * The thread's generator.  A child of fork() inherits its parent's state
 * and would draw the same numbers: SIP servers fork their workers after
 * start-up, and all of them would send their next request to the same
 * target.  An atfork handler bumps a generation; a thread whose seed is
 * of an older generation reseeds (one getrandom per thread per fork).
 */
static unsigned rng_fork_gen = 1;
static pthread_once_t rng_once = PTHREAD_ONCE_INIT;
static __thread struct sc_rng thread_rng;
static __thread unsigned thread_rng_gen;

static void rng_atfork_child(void)
{
	__atomic_add_fetch(&rng_fork_gen, 1, __ATOMIC_RELAXED);
}

static void rng_register(void)
{
	/* Without the handler, children draw like their parent: worse
	 * balancing, never a wrong answer. */
	pthread_atfork(NULL, NULL, rng_atfork_child);
}

struct sc_rng *sc_rng_thread(void)
{
	unsigned gen;

	pthread_once(&rng_once, rng_register);
	gen = __atomic_load_n(&rng_fork_gen, __ATOMIC_RELAXED);
	if (thread_rng_gen != gen) {
		uint64_t seed = 0;

		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
			/* Early boot: anything that differs per thread and
			 * per process will do for load balancing. */
			seed = (uint64_t)(uintptr_t)&thread_rng * 0x9e3779b97f4a7c15ULL ^
			       (uint64_t)getpid() << 32 ^ (uint64_t)sc_now_mono_ms();
		}
		sc_rng_seed(&thread_rng, seed);
		thread_rng_gen = gen;
	}
	return &thread_rng;
}

/* ------------------------------------------------------------------ */
/* RFC 2782 order                                                      */

/* Stable insertion sort by priority: answers are small, and equal
 * priorities keep the server's order for the draws below. */
static void sort_by_prio(struct sc_srv_pick *v, unsigned n)
{
	unsigned i, j;

	for (i = 1; i < n; i++) {
		struct sc_srv_pick x = v[i];

		for (j = i; j > 0 && v[j - 1].prio > x.prio; j--) {
			v[j] = v[j - 1];
		}
		v[j] = x;
	}
}

/* Order v[0..n), all of one priority: repeated weighted draws. */
static void order_weights(struct sc_srv_pick *v, unsigned n, struct sc_rng *rng)
{
	unsigned pos, i;

	for (pos = 0; pos + 1 < n; pos++) {
		uint32_t sum = 0, r;
		unsigned zeros = 0, pick = pos;

		for (i = pos; i < n; i++) {
			sum += v[i].weight;   /* at most 512 * 65535: no overflow */
			zeros += v[i].weight == 0;
		}
		if (sum == 0) {
			/* Only weight-0 records left: any order, so a fair
			 * one. */
			pick = pos + sc_rng_below(rng, n - pos);
		} else {
			/* One extra value of the draw when there are
			 * weight-0 records: theirs (see the top). */
			r = sc_rng_below(rng, sum + (zeros ? 1 : 0));
			if (zeros && r == 0) {
				unsigned k = sc_rng_below(rng, zeros);

				for (i = pos; i < n; i++) {
					if (v[i].weight == 0 && k-- == 0) {
						pick = i;
						break;
					}
				}
			} else {
				uint32_t run = 0;

				r -= zeros ? 1 : 0;   /* now in [0, sum) */
				for (i = pos; i < n; i++) {
					run += v[i].weight;
					if (run > r) {
						pick = i;
						break;
					}
				}
			}
		}
		if (pick != pos) {
			struct sc_srv_pick x = v[pick];

			/* Shift rather than swap: the records not yet placed
			 * keep their relative order, so the draw depends on
			 * the random numbers only, never on earlier swaps. */
			memmove(&v[pos + 1], &v[pos], (pick - pos) * sizeof(*v));
			v[pos] = x;
		}
	}
}

void sc_srv_rfc2782(struct sc_srv_pick *v, unsigned n, struct sc_rng *rng)
{
	unsigned a, b;

	sort_by_prio(v, n);
	for (a = 0; a < n; a = b) {
		for (b = a + 1; b < n && v[b].prio == v[a].prio; b++) {
		}
		order_weights(v + a, b - a, rng);
	}
}

/* ------------------------------------------------------------------ */
/* the RRset answering the question                                    */

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/*
 * Is the name stored at `off' in `m' equal to the uncompressed `want',
 * up to ASCII case?  Walked in place (no copy): the hit path compares
 * every answer owner.  `m' was validated, but each step is bounded.
 */
static bool stored_name_equal(const struct sc_msg *m, size_t off, const unsigned char *want)
{
	const unsigned char *b = m->buf;
	unsigned hops = 0;

	/* The usual owner: a pointer to the question name, when that is
	 * the name wanted. */
	if (off + 1 < m->len && b[off] == 0xc0 && b[off + 1] == SC_DNS_HDRLEN &&
	    want == b + SC_DNS_HDRLEN) {
		return true;
	}
	for (;;) {
		unsigned c, i;

		if (off >= m->len) {
			return false;
		}
		c = b[off];
		if ((c & 0xc0) == 0xc0) {
			if (off + 1 >= m->len || ++hops > 127) {
				return false;
			}
			off = (size_t)(c & 0x3f) << 8 | b[off + 1];
			continue;
		}
		if (c != *want || c > 63 || off + 1 + c > m->len) {
			return false;
		}
		if (c == 0) {
			return true;
		}
		for (i = 1; i <= c; i++) {
			if (lower(b[off + i]) != lower(want[i])) {
				return false;
			}
		}
		off += 1u + c;
		want += 1u + c;
	}
}

int sc_srv_rrset(const struct sc_msg *m, uint16_t type, unsigned *ret_idx, unsigned max,
		 unsigned char *ret_owner)
{
	unsigned char name[SC_DNS_MAXNAME];
	const unsigned char *want;
	unsigned i, n = 0, hops, an;

	if (m->qdcount != 1) {
		return 0;
	}
	/* The question name is stored uncompressed: compared in place. */
	want = m->buf + SC_DNS_HDRLEN;
	an = m->ancount < m->nrr ? m->ancount : m->nrr;
	if (an > SC_DNS_MAXRR) {
		an = SC_DNS_MAXRR;
	}
	/*
	 * Follow the chain the way a resolver hands it over: each CNAME
	 * owned by the current name moves us to its target.  Bounded, and
	 * a loop just stops at some name of it.
	 */
	if (type != SC_T_CNAME) {
		for (hops = 0; hops < CNAME_HOPS; hops++) {
			bool moved = false;

			for (i = 0; i < an; i++) {
				const struct sc_rr *rr = &m->rr[i];

				if (rr->type != SC_T_CNAME || rr->class != SC_C_IN ||
				    !stored_name_equal(m, rr->name_off, want)) {
					continue;
				}
				if (sc_dns_name_expand(m->buf, m->len, rr->rdata_off, name, NULL) < 0) {
					return 0;
				}
				want = name;
				moved = true;
				break;
			}
			if (!moved) {
				break;
			}
		}
	}
	for (i = 0; i < an; i++) {
		const struct sc_rr *rr = &m->rr[i];

		if (rr->type != type || rr->class != SC_C_IN ||
		    !stored_name_equal(m, rr->name_off, want)) {
			continue;
		}
		if (n == max) {
			return -E2BIG;
		}
		ret_idx[n++] = i;
	}
	if (ret_owner) {
		/* As the first record spells it, or the name looked for. */
		if (n == 0 || sc_dns_name_expand(m->buf, m->len, m->rr[ret_idx[0]].name_off, ret_owner,
						 NULL) < 0) {
			memcpy(ret_owner, want, sc_dns_name_len(want));
		}
	}
	return (int)n;
}

/* ------------------------------------------------------------------ */
/* writing a message anew                                              */

/*
 * The writer mirrors the original's own compression.  Each label of the
 * source is copied at most once, and `map' remembers where it landed
 * (source offset -> output offset + 1, for the first 16 KiB, which is all
 * a pointer can reach).  A name is written by walking its stored form:
 *   - a label whose source position is already in the map has been
 *     written (this name shares a suffix with one written before): a
 *     pointer to that copy ends the name;
 *   - any other label is copied, and mapped;
 *   - a pointer is followed, and the walk goes on at its target: when the
 *     target was written, the first step above points there; when it was
 *     not (its record now comes later, or was dropped), its labels are
 *     written here, inline, and mapped, so that the record's own name
 *     later points to them instead.
 * Every name reads exactly as in the original, byte for byte (case
 * included).  Every source label is written at most once, and each name
 * ends in one terminator as before: the result is never longer than the
 * original, except past 16 KiB of output, where pointers cannot reach
 * and labels may have to be written twice.  Names that were stored plain
 * (RFC 2782 forbids compressing SRV targets) stay plain, unless another
 * name already wrote their labels, which only old servers' compression
 * of targets against each other can cause.  The cost is a copy of the
 * name's bytes and one array lookup per label: no expansion, no hashing.
 */
struct emit {
	const unsigned char *src;
	size_t srclen;
	uint16_t *map;      /* srclen entries (at most PTR_MAX), zeroed */
	unsigned char *out;
	size_t cap, len;
};

static int emit_bytes(struct emit *e, const void *p, size_t n)
{
	if (n > e->cap - e->len) {
		return -EMSGSIZE;
	}
	memcpy(e->out + e->len, p, n);
	e->len += n;
	return 0;
}

/*
 * Write the name stored at source offset `off'; *ret_next (may be NULL)
 * gets the source offset past its stored form.  The source was validated
 * by sc_dns_parse, but every step is bounded anyway.
 */
static int emit_name(struct emit *e, size_t off, size_t *ret_next)
{
	const unsigned char *s = e->src;
	size_t p = off, next = 0;
	unsigned hops = 0;

	for (;;) {
		unsigned c;

		if (p >= e->srclen) {
			return -EBADMSG;
		}
		if (p < PTR_MAX && e->map[p] != 0) {
			unsigned char ptr[2];

			put16(ptr, 0xc000u | (e->map[p] - 1u));
			if (emit_bytes(e, ptr, 2) < 0) {
				return -EMSGSIZE;
			}
			break;
		}
		c = s[p];
		if (c == 0) {
			if (emit_bytes(e, "", 1) < 0) {
				return -EMSGSIZE;
			}
			if (hops == 0) {
				next = p + 1;
			}
			break;
		}
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= e->srclen || ++hops > 127) {
				return -EBADMSG;
			}
			if (hops == 1) {
				next = p + 2;
			}
			p = (size_t)(c & 0x3f) << 8 | s[p + 1];
			continue;
		}
		if (c > 63 || p + 1 + c > e->srclen) {
			return -EBADMSG;
		}
		if (p < PTR_MAX && e->len < PTR_MAX) {
			e->map[p] = (uint16_t)(e->len + 1);
		}
		if (emit_bytes(e, s + p, 1u + c) < 0) {
			return -EMSGSIZE;
		}
		p += 1u + c;
	}
	if (hops == 0 && next == 0) {
		/* Ended on a label written before: skip the rest of the
		 * stored form to find where the name ends. */
		size_t q = off;

		while (q < e->srclen && s[q] != 0 && (s[q] & 0xc0) != 0xc0) {
			q += 1u + s[q];
		}
		next = q < e->srclen && s[q] != 0 ? q + 2 : q + 1;
	}
	if (ret_next) {
		*ret_next = next;
	}
	return 0;
}

/* Types older servers compressed names in but our parser treats as
 * opaque (RFC 3597 4: MD, MF, MB, MG, MR, MINFO, RP, AFSDB, RT, SIG, PX,
 * NXT; and KX, A6, DNAME): their RDATA may hold pointers we would not
 * move along. */
static bool opaque_with_names(uint16_t type)
{
	switch (type) {
	case 3: case 4: case 7: case 8: case 9: case 14: case 17: case 18:
	case 21: case 24: case 26: case 30: case 36: case 38: case 39:
		return true;
	default:
		return false;
	}
}

static int emit_rr(struct emit *e, const struct sc_rr *rr)
{
	const unsigned char *b = e->src;
	size_t p = rr->rdata_off, next, rdstart;
	unsigned i;
	int r;

	r = emit_name(e, rr->name_off, NULL);
	if (r < 0) {
		return r;
	}
	/* type, class, TTL as they are; RDLENGTH patched below */
	if (emit_bytes(e, b + rr->ttl_off - 4, RR_FIXED) < 0) {
		return -EMSGSIZE;
	}
	rdstart = e->len;
	switch (rr->type) {
	case SC_T_NS:
	case SC_T_CNAME:
	case SC_T_PTR:
		r = emit_name(e, p, NULL);
		break;
	case SC_T_MX:
		r = emit_bytes(e, b + p, 2);
		if (r == 0) {
			r = emit_name(e, p + 2, NULL);
		}
		break;
	case SC_T_SRV:
		r = emit_bytes(e, b + p, 6);
		if (r == 0) {
			r = emit_name(e, p + 6, NULL);
		}
		break;
	case SC_T_NAPTR:
		/* order, preference, then three strings, then the name */
		next = p + 4;
		for (i = 0; i < 3; i++) {
			next += 1u + b[next];
		}
		r = emit_bytes(e, b + p, next - p);
		if (r == 0) {
			r = emit_name(e, next, NULL);
		}
		break;
	case SC_T_SOA:
		r = emit_name(e, p, &next);
		if (r == 0) {
			r = emit_name(e, next, &next);
		}
		if (r == 0) {
			r = emit_bytes(e, b + next, 20);
		}
		break;
	default:
		r = emit_bytes(e, b + p, rr->rdlen);
		break;
	}
	if (r < 0) {
		return r;
	}
	if (e->len - rdstart > UINT16_MAX) {
		return -EMSGSIZE;
	}
	put16(e->out + rdstart - 2, e->len - rdstart);
	return 0;
}

/*
 * Write `m' into e->out with the records `order[0..n)' (indices into
 * m->rr) as its ancount, nscount, arcount records.  Returns the length.
 */
static int emit_msg(struct emit *e, const struct sc_msg *m, const unsigned *order,
		    unsigned an, unsigned ns, unsigned ar)
{
	size_t qend = SC_DNS_HDRLEN + (size_t)m->qname_len + 4, i;
	int r;

	if (qend > e->cap || m->qdcount != 1) {
		return -EMSGSIZE;
	}
	memset(e->map, 0, (m->len < PTR_MAX ? m->len : PTR_MAX) * sizeof(*e->map));
	/* Header (new counts) and question as they are: the question
	 * keeps its place, so its labels map to themselves. */
	memcpy(e->out, m->buf, qend);
	put16(e->out + 6, an);
	put16(e->out + 8, ns);
	put16(e->out + 10, ar);
	e->len = qend;
	for (i = SC_DNS_HDRLEN; i < qend - 5; i += 1u + m->buf[i]) {
		e->map[i] = (uint16_t)(i + 1);
	}
	for (i = 0; i < (size_t)an + ns + ar; i++) {
		r = emit_rr(e, &m->rr[order[i]]);
		if (r < 0) {
			return r;
		}
	}
	return (int)e->len;
}

/* ------------------------------------------------------------------ */
/* the per-thread work area                                            */

struct srv_work {
	struct sc_msg m;
	unsigned idx[SC_DNS_MAXRR];
	unsigned order[SC_DNS_MAXRR];
	struct sc_srv_pick pick[SC_DNS_MAXRR];
	bool marked[SC_DNS_MAXRR];
	uint16_t map[PTR_MAX];
	unsigned char *copy;
	size_t cap;
};

static __thread struct srv_work *thread_work;
static pthread_key_t work_key;
static pthread_once_t work_once = PTHREAD_ONCE_INIT;
static bool work_key_ok;

static void work_free(void *p)
{
	struct srv_work *w = p;

	free(w->copy);
	free(w);
}

static void work_key_init(void)
{
	/* The destructor frees a thread's area when the thread exits. */
	work_key_ok = pthread_key_create(&work_key, work_free) == 0;
}

static struct srv_work *work_get(size_t need)
{
	struct srv_work *w = thread_work;

	if (w == NULL) {
		pthread_once(&work_once, work_key_init);
		if (!work_key_ok) {
			return NULL;
		}
		w = calloc(1, sizeof(*w));
		if (w == NULL || pthread_setspecific(work_key, w) != 0) {
			free(w);
			return NULL;
		}
		thread_work = w;
	}
	if (w->cap < need) {
		/* Grows in 4 KiB steps: a thread reallocates at most a
		 * few times in its life. */
		size_t cap = (need + 4095) & ~(size_t)4095;
		unsigned char *p = realloc(w->copy, cap);

		if (p == NULL) {
			return NULL;
		}
		w->copy = p;
		w->cap = cap;
	}
	return w;
}

/* ------------------------------------------------------------------ */
/* hit path                                                            */

/* Type of the only question, from the raw message (uncompressed name);
 * 0 when it cannot be read. */
static uint16_t raw_qtype(const unsigned char *msg, size_t len)
{
	size_t p = SC_DNS_HDRLEN;

	while (p < len && msg[p] != 0) {
		if (msg[p] > 63) {
			return 0;
		}
		p += 1u + msg[p];
	}
	if (p + 5 > len) {
		return 0;
	}
	return get16(msg + p + 1);
}

/* Is record i of w->m marked?  Fills its pick entry too. */
static bool pick_fill(struct srv_work *w, unsigned k, unsigned i, const struct sc_marks *marks,
		      int64_t now)
{
	const struct sc_rr *rr = &w->m.rr[i];
	const unsigned char *rd = w->m.buf + rr->rdata_off;
	unsigned char target[SC_DNS_MAXNAME];

	w->pick[k].idx = i;
	w->pick[k].prio = 0;
	w->pick[k].weight = 0;
	switch (rr->type) {
	case SC_T_SRV:
		w->pick[k].prio = get16(rd);
		w->pick[k].weight = get16(rd + 2);
		return marks && sc_dns_name_expand(w->m.buf, w->m.len, rr->rdata_off + 6u,
						   target, NULL) > 0 &&
		       sc_marks_name_down(marks, target, get16(rd + 4), now);
	case SC_T_A:
		return marks && sc_marks_addr_down(marks, AF_INET, rd, 0, now);
	case SC_T_AAAA:
		return marks && sc_marks_addr_down(marks, AF_INET6, rd, 0, now);
	default:
		return false;
	}
}

/*
 * srv_order = rfc2782-weights: clients that re-sort SRV records by priority
 * and then weight, highest first, with a stable sort (Kamailio without its
 * DNS cache: get_record() in its resolver), undo any order we serve unless
 * the weights agree with it.  So within each priority the weights of the
 * served records, the same multiset, are written back in decreasing order
 * along the drawn order: such a client then follows the draw, and the
 * shares of the first record stay those of the original weights.  In place
 * (weights are fixed-size fields), on the message as it will be served.
 */
static void reweight(struct srv_work *w, unsigned char *msg, size_t len)
{
	uint16_t wt[SC_DNS_MAXRR];
	unsigned i, j, k, n;
	int r;

	if (sc_dns_parse(msg, len, &w->m) < 0) {
		return;
	}
	r = sc_srv_rrset(&w->m, SC_T_SRV, w->idx, SC_DNS_MAXRR, NULL);
	if (r < 2) {
		return;
	}
	n = (unsigned)r;
	for (i = 0; i < n; i = j) {
		uint16_t prio = get16(msg + w->m.rr[w->idx[i]].rdata_off);

		for (j = i; j < n && get16(msg + w->m.rr[w->idx[j]].rdata_off) == prio; j++) {
			uint16_t v = get16(msg + w->m.rr[w->idx[j]].rdata_off + 2);

			/* insertion into wt[i..j), largest first */
			for (k = j; k > i && wt[k - 1] < v; k--) {
				wt[k] = wt[k - 1];
			}
			wt[k] = v;
		}
		for (k = i; k < j; k++) {
			put16(msg + w->m.rr[w->idx[k]].rdata_off + 2, wt[k]);
		}
	}
}

int sc_srv_apply(unsigned char *msg, size_t len, size_t bufsize, unsigned flags,
		 const struct sc_marks *marks, int64_t now, struct sc_rng *rng)
{
	struct srv_work *w;
	struct emit e;
	unsigned n, i, k, nmarked = 0, nkeep, an, slot;
	bool order, identity = true;
	uint16_t qtype;
	int r;

	if (len < SC_DNS_HDRLEN || len > bufsize || len > SC_DNS_MAXMSG) {
		return -EINVAL;
	}
	/* Cheap exits first: one question, two answers at least. */
	if (get16(msg + 4) != 1 || get16(msg + 6) < 2) {
		return (int)len;
	}
	if (marks && marks->n == 0) {
		marks = NULL;
	}
	qtype = raw_qtype(msg, len);
	order = qtype == SC_T_SRV && (flags & SC_SRV_ORDER);
	if (!order && (marks == NULL || (qtype != SC_T_SRV && qtype != SC_T_A &&
					 qtype != SC_T_AAAA))) {
		return (int)len;
	}
	if (rng == NULL) {
		rng = sc_rng_thread();
	}
	w = work_get(len);
	if (w == NULL) {
		return -ENOMEM;
	}
	memcpy(w->copy, msg, len);
	r = sc_dns_parse(w->copy, len, &w->m);
	if (r < 0) {
		return r;
	}
	r = sc_srv_rrset(&w->m, qtype, w->idx, SC_DNS_MAXRR, NULL);
	if (r < 2) {
		return r < 0 ? r : (int)len;
	}
	n = (unsigned)r;
	for (i = 0; i < w->m.nrr; i++) {
		if (opaque_with_names(w->m.rr[i].type)) {
			return -ENOTSUP;
		}
	}

	/* Unmarked records first, marked ones after them, each group in
	 * the server's order for now. */
	for (i = 0, k = 0; i < n; i++) {
		w->marked[i] = pick_fill(w, k, w->idx[i], marks, now);
		if (!w->marked[i]) {
			k++;
		}
	}
	nmarked = n - k;
	if (nmarked > 0) {
		for (i = 0; i < n; i++) {
			if (w->marked[i]) {
				pick_fill(w, k++, w->idx[i], NULL, now);
			}
		}
	}
	/* Dropped while an unmarked alternative remains; when every record
	 * is marked, all are kept (an answer of marked targets beats none). */
	nkeep = n;
	if ((flags & SC_SRV_DROP) && nmarked > 0 && nmarked < n) {
		nkeep = n - nmarked;
	}
	if (order) {
		unsigned unmarked = n - nmarked;

		if (unmarked > 0) {
			sc_srv_rfc2782(w->pick, unmarked, rng);
		}
		if (nkeep > unmarked) {
			sc_srv_rfc2782(w->pick + unmarked, nkeep - unmarked, rng);
		}
	}
	for (i = 0; i < n; i++) {
		if (i >= nkeep || w->pick[i].idx != w->idx[i]) {
			identity = false;
			break;
		}
	}
	if (identity) {
		if (order && (flags & SC_SRV_REWEIGHT)) {
			reweight(w, msg, len);
		}
		return (int)len;
	}

	/* The answer section: each slot of the RRset takes the next record
	 * of the new order; slots past the kept ones disappear. */
	an = w->m.ancount;
	for (i = 0, k = 0, slot = 0; i < an; i++) {
		if (slot < n && w->idx[slot] == i) {
			if (slot < nkeep) {
				w->order[k++] = w->pick[slot].idx;
			}
			slot++;
		} else {
			w->order[k++] = i;
		}
	}
	an = k;
	for (i = w->m.ancount; i < w->m.nrr; i++) {
		w->order[k++] = i;
	}

	e.src = w->copy;
	e.srclen = len;
	e.map = w->map;
	e.out = msg;
	e.cap = bufsize < SC_DNS_MAXMSG ? bufsize : SC_DNS_MAXMSG;
	r = emit_msg(&e, &w->m, w->order, an, w->m.nscount, w->m.arcount);
	if (r < 0) {
		/* Serve it as it was rather than half rewritten. */
		memcpy(msg, w->copy, len);
	} else if (order && (flags & SC_SRV_REWEIGHT)) {
		reweight(w, msg, (size_t)r);
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* miss path: related records, chain                                   */

struct want {
	unsigned char name[SC_DNS_MAXNAME];
	uint16_t type;
};

struct related_ctx {
	struct want *w;
	unsigned n, cap;
};

static int want_add(struct related_ctx *c, const unsigned char *name, uint16_t type)
{
	unsigned i;

	for (i = 0; i < c->n; i++) {
		if (c->w[i].type == type && sc_dns_name_equal(c->w[i].name, name)) {
			return 0;
		}
	}
	if (c->n == c->cap) {
		unsigned cap = c->cap ? c->cap * 2 : 16;
		struct want *nw = realloc(c->w, cap * sizeof(*nw));

		if (nw == NULL) {
			return -ENOMEM;
		}
		c->w = nw;
		c->cap = cap;
	}
	memcpy(c->w[c->n].name, name, sc_dns_name_len(name));
	c->w[c->n].type = type;
	c->n++;
	return 1;
}

/* The single-character flags field of a NAPTR at `rd' is `flag' (any
 * case)?  Sets *ret_repl to the offset of the replacement. */
static bool naptr_flag(const struct sc_msg *m, const struct sc_rr *rr, char flag,
		       size_t *ret_services, size_t *ret_repl)
{
	const unsigned char *b = m->buf;
	size_t p = (size_t)rr->rdata_off + 4;
	bool ok = b[p] == 1 && (b[p + 1] | 0x20) == (flag | 0x20);

	p += 1u + b[p];
	*ret_services = p;
	p += 1u + b[p];
	p += 1u + b[p];
	*ret_repl = p;
	return ok;
}

/* A SIP service of RFC 3263 (SIP+D2x, SIPS+D2x) in the <character-string>
 * at `p'. */
static bool sip_service(const unsigned char *p)
{
	size_t n = p[0];

	return (n == 7 && strncasecmp((const char *)p + 1, "SIP+D2", 6) == 0) ||
	       (n == 8 && strncasecmp((const char *)p + 1, "SIPS+D2", 7) == 0);
}

/*
 * Add what the answer's chain asks next: SRV of "S" NAPTR replacements
 * (SIP services only when `sip_only'), A and AAAA of SRV targets.  The
 * SRV of `srvs' (indices into m->rr, e.g. additional ones) count too.
 */
static int chain_wants(const struct sc_msg *m, struct related_ctx *c, bool sip_only)
{
	unsigned idx[SC_DNS_MAXRR];
	unsigned char name[SC_DNS_MAXNAME];
	int n, i, r;

	if (m->qtype == SC_T_NAPTR) {
		n = sc_srv_rrset(m, SC_T_NAPTR, idx, SC_DNS_MAXRR, NULL);
		for (i = 0; i < n; i++) {
			size_t services, repl;

			if (!naptr_flag(m, &m->rr[idx[i]], 's', &services, &repl) ||
			    (sip_only && !sip_service(m->buf + services)) ||
			    sc_dns_name_expand(m->buf, m->len, repl, name, NULL) <= 1) {
				continue;
			}
			r = want_add(c, name, SC_T_SRV);
			if (r < 0) {
				return r;
			}
		}
	} else if (m->qtype == SC_T_SRV) {
		n = sc_srv_rrset(m, SC_T_SRV, idx, SC_DNS_MAXRR, NULL);
		for (i = 0; i < n; i++) {
			/* "." is "decidedly not available": nothing to ask */
			if (sc_dns_name_expand(m->buf, m->len, m->rr[idx[i]].rdata_off + 6u, name,
					       NULL) <= 1) {
				continue;
			}
			if ((r = want_add(c, name, SC_T_A)) < 0 ||
			    (r = want_add(c, name, SC_T_AAAA)) < 0) {
				return r;
			}
		}
	}
	return 0;
}

int sc_srv_chain(const struct sc_msg *m,
		 int (*fn)(const unsigned char *name, uint16_t type, void *priv), void *priv)
{
	struct related_ctx c = { .w = NULL };
	unsigned i;
	int r, calls = 0;

	if (m->qdcount != 1 || SC_DNS_RCODE(m->flags) != SC_RCODE_NOERROR) {
		return 0;
	}
	r = chain_wants(m, &c, true);
	for (i = 0; r == 0 && i < c.n; i++) {
		calls++;
		if (fn(c.w[i].name, c.w[i].type, priv) != 0) {
			break;
		}
	}
	free(c.w);
	return r < 0 ? r : calls;
}

/*
 * One standalone answer: the question (name, type, IN) and the
 * additional records `idx[0..n)' of `m', owners pointing to the question,
 * names in RDATA written out in full (RFC 2782 and 3403 forbid
 * compressing them).  Returns its length.
 */
static int build_related(const struct sc_msg *m, const unsigned char *name, uint16_t type,
			 const unsigned *idx, unsigned n, unsigned char *out, size_t cap)
{
	struct emit e = { .out = out, .cap = cap };
	unsigned char hdr[SC_DNS_HDRLEN];
	uint16_t flags;
	size_t qlen = sc_dns_name_len(name);
	unsigned i;
	int r;

	/* The header of the answer they came in, AA included: a cache
	 * serves stored answers with the header they arrived with, and these
	 * records came from the same server in the same answer, so a client
	 * sees what asking that server directly gives.  TC and the rcode of
	 * the original never apply here. */
	flags = (uint16_t)(SC_DNS_QR | (m->flags & (SC_DNS_AA | SC_DNS_RD | SC_DNS_RA)));
	put16(hdr, m->id);
	put16(hdr + 2, flags);
	put16(hdr + 4, 1);
	put16(hdr + 6, n);
	put16(hdr + 8, 0);
	put16(hdr + 10, 0);
	if (emit_bytes(&e, hdr, sizeof(hdr)) < 0 || emit_bytes(&e, name, qlen) < 0) {
		return -EMSGSIZE;
	}
	put16(hdr, type);
	put16(hdr + 2, SC_C_IN);
	if (emit_bytes(&e, hdr, 4) < 0) {
		return -EMSGSIZE;
	}
	for (i = 0; i < n; i++) {
		const struct sc_rr *rr = &m->rr[idx[i]];
		const unsigned char *b = m->buf;
		size_t p = rr->rdata_off, rdstart;
		unsigned char owner[2], tname[SC_DNS_MAXNAME];
		int tl;

		put16(owner, 0xc000u | SC_DNS_HDRLEN);
		if (emit_bytes(&e, owner, 2) < 0 || emit_bytes(&e, b + rr->ttl_off - 4, RR_FIXED) < 0) {
			return -EMSGSIZE;
		}
		rdstart = e.len;
		if (rr->type == SC_T_SRV) {
			tl = sc_dns_name_expand(b, m->len, p + 6, tname, NULL);
			if (tl < 0) {
				return tl;
			}
			r = emit_bytes(&e, b + p, 6);
			if (r == 0) {
				r = emit_bytes(&e, tname, (size_t)tl);
			}
		} else {
			r = emit_bytes(&e, b + p, rr->rdlen);
		}
		if (r < 0) {
			return r;
		}
		put16(e.out + rdstart - 2, e.len - rdstart);
	}
	return (int)e.len;
}

int sc_srv_related(const struct sc_msg *m,
		   int (*fn)(const struct sc_msg *ans, void *priv), void *priv)
{
	struct related_ctx c = { .w = NULL };
	unsigned char *buf = NULL;
	unsigned *idx = NULL;
	struct sc_msg *ans = NULL;
	unsigned char owner[SC_DNS_MAXNAME], name[SC_DNS_MAXNAME];
	unsigned i, j, k, first_ar, nrr;
	int r, passed = 0;

	if (m->qdcount != 1 || (m->flags & SC_DNS_TC) ||
	    SC_DNS_RCODE(m->flags) != SC_RCODE_NOERROR || m->arcount == 0 ||
	    (m->qtype != SC_T_NAPTR && m->qtype != SC_T_SRV) || m->qclass != SC_C_IN) {
		return 0;
	}
	nrr = m->nrr < SC_DNS_MAXRR ? m->nrr : SC_DNS_MAXRR;
	first_ar = (unsigned)m->ancount + m->nscount;
	buf = malloc(SC_DNS_MAXMSG);
	idx = malloc(SC_DNS_MAXRR * sizeof(*idx));
	ans = malloc(sizeof(*ans));
	if (buf == NULL || idx == NULL || ans == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = chain_wants(m, &c, false);
	if (r < 0) {
		goto out;
	}
	/*
	 * The list grows while it is walked: the SRV records of a NAPTR's
	 * replacement, once found in the additional section, add their
	 * targets' A and AAAA (the whole chain in one answer, as BIND
	 * sends it).
	 */
	for (i = 0; i < c.n; i++) {
		memcpy(owner, c.w[i].name, sc_dns_name_len(c.w[i].name));
		for (j = first_ar, k = 0; j < nrr; j++) {
			const struct sc_rr *rr = &m->rr[j];

			if (rr->type != c.w[i].type || rr->class != SC_C_IN ||
			    sc_dns_name_expand(m->buf, m->len, rr->name_off, name, NULL) < 0 ||
			    !sc_dns_name_equal(name, owner)) {
				continue;
			}
			idx[k++] = j;
			if (rr->type == SC_T_SRV &&
			    sc_dns_name_expand(m->buf, m->len, rr->rdata_off + 6u, name, NULL) > 1) {
				if ((r = want_add(&c, name, SC_T_A)) < 0 ||
				    (r = want_add(&c, name, SC_T_AAAA)) < 0) {
					goto out;
				}
			}
		}
		if (k == 0) {
			continue;
		}
		r = build_related(m, owner, c.w[i].type, idx, k, buf, SC_DNS_MAXMSG);
		if (r < 0) {
			goto out;
		}
		r = sc_dns_parse(buf, (size_t)r, ans);
		if (r < 0) {
			/* Cannot happen for records that parsed in `m'; never
			 * hand over what we would not accept. */
			continue;
		}
		r = fn(ans, priv);
		if (r < 0) {
			goto out;
		}
		passed++;
	}
	r = passed;
out:
	free(c.w);
	free(buf);
	free(idx);
	free(ans);
	return r;
}

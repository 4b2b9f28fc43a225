/*
 * sc_marks.c - target marks: `sipcachectl down TARGET [SECONDS]' / `up'.
 *
 * A mark says "this target is down": a host name (matched against SRV
 * targets, on any port or one port) or an address (matched against A and
 * AAAA records).  Served answers put marked targets last or drop them
 * while an unmarked alternative remains (sc_srv_apply): failover for
 * servers that have none, host-wide, like reSIProcate's grey/black list
 * but shared by every process.  Marks are operator actions only: nothing
 * in the lookup path ever sets one (one failed request of one process
 * must not take a target away from all).
 *
 * Storage.  The whole set is one internal record of the cache file
 * (key SC_KEY_INTERNAL "marks"), so it is shared by every process, kept
 * across restarts and flushes (flushes leave internal records alone),
 * and read in one lookup.  Each mark carries its expiry: an expired mark
 * is ignored by readers at once and dropped by the next writer, so marks
 * expire by themselves without anybody sweeping.
 *
 *	struct set_hdr   checksum of what follows, magic "SCM1", count
 *	per mark         expiry (int64), port, kind, data length, data
 *	                 (wire name in lower case, or 4 or 16 address bytes)
 *
 * Writers (sipcachectl, rare) read, modify and store the record.  Two of
 * them at once would lose one change, so they hold a short lease in the
 * stats file (sc_stats_marks_lock: a compare-and-swap, freed after 5 s if
 * its holder died); tdb's own locks are not reachable through the cache's
 * interface, and a lock file would be one more file to trust.  After the
 * store, the writer bumps the marks generation in the stats file.  (A
 * cache opened without its stats file has neither: writers are then not
 * serialised, and readers re-read once a second.)
 *
 * How a hit learns the marks cheaply.  Each thread keeps a parsed copy of
 * the set and the generation it was read at.  sc_marks_current() loads
 * the generation (one atomic load of a shared cache line that changes
 * only when an operator acts) and, when it is unchanged, returns the
 * copy, or NULL when no mark in it is alive: a hit with no marks costs
 * that load and a comparison.  When it changed, the thread re-reads the
 * record (one tdb lookup, no malloc after the first).  The generation
 * also holds the cache's epoch, bumped by flushes, sweeps and the rebuild
 * of the file, so a thread never keeps the marks of a file that was
 * replaced.  Without a stats file there is no generation, and a thread
 * re-reads at most once a second.
 *
 * Text forms (sc_mark_parse): "host", "host:port", "192.0.2.1",
 * "192.0.2.1:5060", "2001:db8::1", "[2001:db8::1]:5060".  An IPv6
 * address with a port needs the brackets, as in a SIP URI; a host name
 * never contains ':', so the forms cannot be confused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc.h"

#define MARKS_KEY "marks"
#define MARKS_MAGIC 0x53434d31u   /* "SCM1" */
#define MARKS_SEED 0x6d61726b73736574ULL
#define ENTRY_FIXED 12            /* expires 8, port 2, kind 1, len 1 */
#define RAW_MAX (sizeof(struct set_hdr) + SC_MARKS_MAX * (ENTRY_FIXED + SC_DNS_MAXNAME))
#define WRITE_WAIT_MS 2000        /* how long a writer waits for the lease */
#define REREAD_MS 1000            /* without a stats file */

struct set_hdr {
	uint64_t checksum;        /* of everything after it */
	uint32_t magic;
	uint32_t count;
};

/* ------------------------------------------------------------------ */
/* text                                                                */

static int parse_port(const char *s, uint16_t *ret)
{
	unsigned long v = 0;

	if (*s == '\0') {
		return -EINVAL;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9') {
			return -EINVAL;
		}
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535) {
			return -EINVAL;
		}
	}
	if (v == 0) {
		return -EINVAL;
	}
	*ret = (uint16_t)v;
	return 0;
}

int sc_mark_parse(const char *text, struct sc_mark *ret)
{
	char host[SC_DNS_MAXTEXT];
	const char *colon, *end;
	size_t n;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (text == NULL || text[0] == '\0') {
		return -EINVAL;
	}
	if (text[0] == '[') {
		/* [IPv6] or [IPv6]:port */
		end = strchr(text, ']');
		if (end == NULL || (size_t)(end - text - 1) >= sizeof(host)) {
			return -EINVAL;
		}
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = '\0';
		if (inet_pton(AF_INET6, host, ret->addr) != 1) {
			return -EINVAL;
		}
		ret->kind = SC_MARK_IPV6;
		if (end[1] == '\0') {
			return 0;
		}
		return end[1] == ':' ? parse_port(end + 2, &ret->port) : -EINVAL;
	}
	/* Two colons or more: a bare IPv6 address, never with a port. */
	colon = strchr(text, ':');
	if (colon && strchr(colon + 1, ':')) {
		if (inet_pton(AF_INET6, text, ret->addr) != 1) {
			return -EINVAL;
		}
		ret->kind = SC_MARK_IPV6;
		return 0;
	}
	n = colon ? (size_t)(colon - text) : strlen(text);
	if (n == 0 || n >= sizeof(host)) {
		return -EINVAL;
	}
	memcpy(host, text, n);
	host[n] = '\0';
	if (colon && parse_port(colon + 1, &ret->port) < 0) {
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, ret->addr) == 1) {
		ret->kind = SC_MARK_IPV4;
		return 0;
	}
	/* A name: not the root, which no SRV target worth marking is. */
	r = sc_dns_name_from_text(host, ret->name, sizeof(ret->name));
	if (r <= 1) {
		return -EINVAL;
	}
	sc_dns_name_lower(ret->name);
	ret->kind = SC_MARK_NAME;
	return 0;
}

int sc_mark_format(const struct sc_mark *m, char *out, size_t outlen)
{
	char host[SC_DNS_MAXTEXT];
	int n;

	switch (m->kind) {
	case SC_MARK_NAME:
		if (sc_dns_name_to_text(m->name, host, sizeof(host)) < 0) {
			return -EINVAL;
		}
		break;
	case SC_MARK_IPV4:
		inet_ntop(AF_INET, m->addr, host, sizeof(host));
		break;
	case SC_MARK_IPV6:
		inet_ntop(AF_INET6, m->addr, host, sizeof(host));
		if (m->port) {
			n = snprintf(out, outlen, "[%s]:%u", host, m->port);
			return n < 0 || (size_t)n >= outlen ? -ENOSPC : n;
		}
		break;
	default:
		return -EINVAL;
	}
	if (m->port) {
		n = snprintf(out, outlen, "%s:%u", host, m->port);
	} else {
		n = snprintf(out, outlen, "%s", host);
	}
	return n < 0 || (size_t)n >= outlen ? -ENOSPC : n;
}

/* Same target (kind, port, name or address)? */
static bool same_target(const struct sc_mark *a, const struct sc_mark *b)
{
	if (a->kind != b->kind || a->port != b->port) {
		return false;
	}
	switch (a->kind) {
	case SC_MARK_NAME:
		return sc_dns_name_equal(a->name, b->name);
	case SC_MARK_IPV4:
		return memcmp(a->addr, b->addr, 4) == 0;
	default:
		return memcmp(a->addr, b->addr, 16) == 0;
	}
}

/* ------------------------------------------------------------------ */
/* the record                                                          */

static size_t data_len(const struct sc_mark *m)
{
	switch (m->kind) {
	case SC_MARK_NAME:
		return sc_dns_name_len(m->name);
	case SC_MARK_IPV4:
		return 4;
	default:
		return 16;
	}
}

static size_t encode(const struct sc_marks *set, unsigned char *buf)
{
	struct set_hdr h = { .magic = MARKS_MAGIC, .count = set->n };
	size_t p = sizeof(h);
	unsigned i;

	for (i = 0; i < set->n; i++) {
		const struct sc_mark *m = &set->m[i];
		size_t dl = data_len(m);

		memcpy(buf + p, &m->expires, 8);
		memcpy(buf + p + 8, &m->port, 2);
		buf[p + 10] = m->kind;
		buf[p + 11] = (unsigned char)dl;
		memcpy(buf + p + ENTRY_FIXED, m->kind == SC_MARK_NAME ? m->name : m->addr, dl);
		p += ENTRY_FIXED + dl;
	}
	memcpy(buf, &h, sizeof(h));
	h.checksum = sc_checksum(buf + 8, p - 8, MARKS_SEED);
	memcpy(buf, &h.checksum, 8);
	return p;
}

/* Every byte checked: the record is shared, and a damaged one must read
 * as "no marks", never as a mark on something else. */
static int decode(const unsigned char *buf, size_t len, struct sc_marks *ret)
{
	struct set_hdr h;
	size_t p = sizeof(h);
	unsigned i;

	ret->n = 0;
	if (len < sizeof(h)) {
		return -EBADMSG;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic != MARKS_MAGIC || h.count > SC_MARKS_MAX ||
	    sc_checksum(buf + 8, len - 8, MARKS_SEED) != h.checksum) {
		return -EBADMSG;
	}
	for (i = 0; i < h.count; i++) {
		struct sc_mark *m = &ret->m[i];
		size_t dl;

		if (len - p < ENTRY_FIXED) {
			return -EBADMSG;
		}
		memset(m, 0, sizeof(*m));
		memcpy(&m->expires, buf + p, 8);
		memcpy(&m->port, buf + p + 8, 2);
		m->kind = buf[p + 10];
		dl = buf[p + 11];
		if (len - p - ENTRY_FIXED < dl) {
			return -EBADMSG;
		}
		switch (m->kind) {
		case SC_MARK_NAME:
			memcpy(m->name, buf + p + ENTRY_FIXED, dl);
			if (dl == 0 || sc_dns_name_len(m->name) != dl) {
				return -EBADMSG;
			}
			break;
		case SC_MARK_IPV4:
		case SC_MARK_IPV6:
			if (dl != (m->kind == SC_MARK_IPV4 ? 4u : 16u)) {
				return -EBADMSG;
			}
			memcpy(m->addr, buf + p + ENTRY_FIXED, dl);
			break;
		default:
			return -EBADMSG;
		}
		p += ENTRY_FIXED + dl;
	}
	if (p != len) {
		return -EBADMSG;
	}
	ret->n = h.count;
	return 0;
}

/* Read the set; a missing record is an empty set. */
static int load(struct sc_cache *c, struct sc_marks *ret, unsigned char *raw)
{
	size_t len = 0;
	int r;

	ret->n = 0;
	r = sc_cache_get_internal(c, MARKS_KEY, sizeof(MARKS_KEY) - 1, raw, RAW_MAX, &len);
	if (r == -ENOENT) {
		return 0;
	}
	if (r < 0) {
		return r;
	}
	if (len > RAW_MAX) {
		return -EBADMSG;   /* we never write that much */
	}
	return decode(raw, len, ret);
}

/* ------------------------------------------------------------------ */
/* writers                                                             */

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Read, change with `fn', store; under the writers' lease.  `fn' sees the
 * live marks only (expired ones are dropped here) and returns 0 to store,
 * or -errno to store nothing.
 */
static int modify(struct sc_cache *c, int64_t now,
		  int (*fn)(struct sc_marks *set, void *priv), void *priv)
{
	struct sc_stats *st = sc_cache_stats(c);
	struct sc_marks *set = malloc(sizeof(*set));
	unsigned char *raw = malloc(RAW_MAX);
	int64_t deadline = sc_now_mono_ms() + WRITE_WAIT_MS;
	unsigned i, k;
	int r;

	if (set == NULL || raw == NULL) {
		r = -ENOMEM;
		goto out_free;
	}
	while (!sc_stats_marks_lock(st, sc_now())) {
		if (sc_now_mono_ms() > deadline) {
			r = -EBUSY;
			goto out_free;
		}
		sleep_ms(5);
	}
	r = load(c, set, raw);
	if (r == -EBADMSG) {
		/* A damaged set is replaced: the operator is re-marking. */
		set->n = 0;
		r = 0;
	}
	if (r < 0) {
		goto out;
	}
	for (i = 0, k = 0; i < set->n; i++) {
		if (set->m[i].expires > now) {
			set->m[k++] = set->m[i];
		}
	}
	set->n = k;
	r = fn(set, priv);
	if (r < 0) {
		goto out;
	}
	r = sc_cache_put_internal(c, MARKS_KEY, sizeof(MARKS_KEY) - 1, raw, encode(set, raw));
	if (r == 0) {
		/* After the store is complete: a reader that sees the new
		 * generation finds the new set. */
		sc_stats_marks_bump(st);
	}
out:
	sc_stats_marks_unlock(st);
out_free:
	free(set);
	free(raw);
	return r;
}

struct down_ctx {
	struct sc_mark mark;
};

static int down_fn(struct sc_marks *set, void *priv)
{
	struct down_ctx *d = priv;
	unsigned i;

	for (i = 0; i < set->n; i++) {
		if (same_target(&set->m[i], &d->mark)) {
			set->m[i].expires = d->mark.expires;
			return 0;
		}
	}
	if (set->n == SC_MARKS_MAX) {
		return -ENOSPC;
	}
	set->m[set->n++] = d->mark;
	return 0;
}

int sc_marks_down(struct sc_cache *c, const char *target, uint32_t seconds, int64_t now)
{
	struct down_ctx *d;
	int r;

	if (seconds == 0 || seconds > SC_MARKS_MAX_SECONDS) {
		return -EINVAL;
	}
	d = malloc(sizeof(*d));
	if (d == NULL) {
		return -ENOMEM;
	}
	r = sc_mark_parse(target, &d->mark);
	if (r == 0) {
		d->mark.expires = now + seconds;
		r = modify(c, now, down_fn, d);
	}
	free(d);
	return r;
}

struct up_ctx {
	struct sc_mark mark;
	bool all;
};

static int up_fn(struct sc_marks *set, void *priv)
{
	struct up_ctx *u = priv;
	unsigned i, k, before = set->n;

	if (u->all) {
		set->n = 0;
		return before ? 0 : -ENOENT;
	}
	for (i = 0, k = 0; i < set->n; i++) {
		if (!same_target(&set->m[i], &u->mark)) {
			set->m[k++] = set->m[i];
		}
	}
	set->n = k;
	return k < before ? 0 : -ENOENT;
}

int sc_marks_up(struct sc_cache *c, const char *target, int64_t now)
{
	struct up_ctx *u = calloc(1, sizeof(*u));
	int r = 0;

	if (u == NULL) {
		return -ENOMEM;
	}
	u->all = target == NULL;
	if (!u->all) {
		r = sc_mark_parse(target, &u->mark);
	}
	if (r == 0) {
		r = modify(c, now, up_fn, u);
	}
	free(u);
	return r;
}

static int by_expiry(const void *a, const void *b)
{
	const struct sc_mark *x = a, *y = b;

	return (x->expires > y->expires) - (x->expires < y->expires);
}

int sc_marks_list(struct sc_cache *c, int64_t now, struct sc_marks *ret)
{
	unsigned char *raw = malloc(RAW_MAX);
	unsigned i, k;
	int r;

	ret->n = 0;
	if (raw == NULL) {
		return -ENOMEM;
	}
	r = load(c, ret, raw);
	free(raw);
	if (r < 0) {
		ret->n = 0;
		return r;
	}
	for (i = 0, k = 0; i < ret->n; i++) {
		if (ret->m[i].expires > now) {
			ret->m[k++] = ret->m[i];
		}
	}
	ret->n = k;
	qsort(ret->m, ret->n, sizeof(ret->m[0]), by_expiry);
	return 0;
}

/* ------------------------------------------------------------------ */
/* readers: the hit path                                               */

struct marks_copy {
	const struct sc_cache *cache;  /* whose marks these are */
	bool valid;                     /* read at generation `gen' */
	bool failed;                    /* the last read failed */
	uint64_t gen;
	int64_t read_ms;
	int64_t last_expiry;            /* no mark alive from then on */
	struct sc_marks set;
};

static __thread struct marks_copy *thread_marks;
static pthread_key_t marks_key;
static pthread_once_t marks_once = PTHREAD_ONCE_INIT;
static bool marks_key_ok;

static void marks_key_init(void)
{
	/* The destructor frees a thread's copy when the thread exits. */
	marks_key_ok = pthread_key_create(&marks_key, free) == 0;
}

static struct marks_copy *marks_copy_get(void)
{
	struct marks_copy *m = thread_marks;

	if (m == NULL) {
		pthread_once(&marks_once, marks_key_init);
		if (!marks_key_ok) {
			return NULL;
		}
		m = calloc(1, sizeof(*m));
		if (m == NULL || pthread_setspecific(marks_key, m) != 0) {
			free(m);
			return NULL;
		}
		thread_marks = m;
	}
	return m;
}

/* Within a second of `then' (a clock that went back counts as not). */
static bool within_a_second(int64_t now_ms, int64_t then)
{
	return now_ms >= then && now_ms - then < REREAD_MS;
}

const struct sc_marks *sc_marks_current(struct sc_cache *c, int64_t now)
{
	struct sc_stats *st = sc_cache_stats(c);
	struct marks_copy *m = marks_copy_get();
	unsigned char *raw;
	uint64_t gen = 0;
	int64_t now_ms;
	unsigned i;
	int r;

	if (m == NULL) {
		return NULL;
	}
	/* The common case: one atomic load (two words) and a compare. */
	if (st) {
		gen = sc_stats_marks_gen(st);
		if (m->valid && m->cache == c && m->gen == gen) {
			goto out;
		}
	}
	now_ms = sc_now_mono_ms();
	if (m->cache == c && within_a_second(now_ms, m->read_ms) &&
	    (m->failed || (st == NULL && m->valid))) {
		/* No generation to go by, or the last read failed (a lock
		 * held too long): once a second at most, or every hit
		 * would wait for that lock. */
		goto out;
	}
	/*
	 * The generation was loaded before the record is read: a change
	 * landing in between bumps it again, and the next hit re-reads.
	 * The buffer is only needed now, after an operator's change.
	 */
	m->cache = c;
	m->read_ms = now_ms;
	raw = malloc(RAW_MAX);
	r = raw ? load(c, &m->set, raw) : -ENOMEM;
	free(raw);
	if (r < 0 && r != -EBADMSG) {
		/* Fail open: answers go out unchanged for now. */
		m->valid = false;
		m->failed = true;
		m->set.n = 0;
		m->last_expiry = 0;
		goto out;
	}
	if (r == -EBADMSG) {
		m->set.n = 0;   /* a damaged set marks nothing */
	}
	m->valid = true;
	m->failed = false;
	m->gen = gen;
	m->last_expiry = 0;
	for (i = 0; i < m->set.n; i++) {
		if (m->set.m[i].expires > m->last_expiry) {
			m->last_expiry = m->set.m[i].expires;
		}
	}
out:
	return now < m->last_expiry ? &m->set : NULL;
}

bool sc_marks_name_down(const struct sc_marks *ms, const unsigned char *name, uint16_t port,
			int64_t now)
{
	unsigned i;

	if (ms == NULL) {
		return false;
	}
	for (i = 0; i < ms->n; i++) {
		const struct sc_mark *m = &ms->m[i];

		if (m->kind == SC_MARK_NAME && m->expires > now &&
		    (m->port == 0 || m->port == port) && sc_dns_name_equal(m->name, name)) {
			return true;
		}
	}
	return false;
}

bool sc_marks_addr_down(const struct sc_marks *ms, int family, const void *addr,
			uint16_t port, int64_t now)
{
	uint8_t kind = family == AF_INET ? SC_MARK_IPV4 : SC_MARK_IPV6;
	size_t alen = family == AF_INET ? 4 : 16;
	unsigned i;

	if (ms == NULL || (family != AF_INET && family != AF_INET6)) {
		return false;
	}
	for (i = 0; i < ms->n; i++) {
		const struct sc_mark *m = &ms->m[i];

		if (m->kind == kind && m->expires > now && (m->port == 0 || m->port == port) &&
		    memcmp(m->addr, addr, alen) == 0) {
			return true;
		}
	}
	return false;
}

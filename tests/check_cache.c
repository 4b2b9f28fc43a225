/*
 * check_cache.c - the shared TDB cache (shim/sc_cache.c, sc_stats.c).
 *
 * Store, hit (byte by byte), expiry, serve-stale window, truncation,
 * persistence across reopen, visibility across processes, eviction,
 * damaged records, flushes, counters, trust checks, fork.
 */
#include <arpa/nameser.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <tdb.h>
#include <unistd.h>

#include "../shim/sc.h"
#include "helpers/testmsg.h"
#include "helpers/tmpcache.h"

#define NOW 1800000000

static struct tmpcache tc;
static struct sc_msg msg;

static void setup(void)
{
	tmpcache_new(&tc, 1024);
}

static void teardown(void)
{
	tmpcache_free(&tc);
}

static void key_of(struct sc_key *k, const char *name, uint16_t type)
{
	unsigned char wire[SC_DNS_MAXNAME];

	ck_assert_int_gt(sc_dns_name_from_text(name, wire, sizeof(wire)), 0);
	ck_assert_int_eq(sc_key_make(k, wire, type, ns_c_in), 0);
}

/* An SRV answer with two TTLs (300, 120) and an A in additional (60). */
static void srv_answer(struct tmsg *t, const char *qname)
{
	tmsg_begin(t, 0x1234, qname, ns_t_srv, ns_r_noerror);
	tmsg_srv(t, 0, qname, 300, 10, 60, 5060, "a.example.com");
	tmsg_srv(t, 0, qname, 120, 20, 0, 5060, "b.example.com");
	tmsg_a(t, 2, "a.example.com", 60, "127.0.0.2");
}

static void put(const struct tmsg *t, const char *name, uint16_t type,
		uint32_t lifetime, int64_t now)
{
	struct sc_key k;

	key_of(&k, name, type);
	ck_assert_int_eq(sc_dns_parse(t->buf, t->len, &msg), 0);
	ck_assert_int_eq(sc_cache_put(tc.c, &k, &msg, lifetime, 0, now), 0);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The expected served copy: ID patched, question spelled `qname', every
 * TTL min(stored, cap). Built with the parse of the original only to find
 * the TTL fields. */
static void expected(const struct tmsg *t, uint16_t id, const char *qname, uint32_t cap,
		     unsigned char *out)
{
	unsigned char wire[SC_DNS_MAXNAME];
	unsigned i;
	int n;

	memcpy(out, t->buf, t->len);
	out[0] = id >> 8;
	out[1] = id & 0xff;
	n = sc_dns_name_from_text(qname, wire, sizeof(wire));
	memcpy(out + 12, wire, (size_t)n);
	ck_assert_int_eq(sc_dns_parse(t->buf, t->len, &msg), 0);
	for (i = 0; i < msg.nrr; i++) {
		uint32_t ttl = get32(t->buf + msg.rr[i].ttl_off);

		if (ttl > cap) {
			ttl = cap;
		}
		out[msg.rr[i].ttl_off] = ttl >> 24;
		out[msg.rr[i].ttl_off + 1] = (ttl >> 16) & 0xff;
		out[msg.rr[i].ttl_off + 2] = (ttl >> 8) & 0xff;
		out[msg.rr[i].ttl_off + 3] = ttl & 0xff;
	}
}

static int get(const char *name, uint16_t type, int64_t now, uint32_t max_stale,
	       uint16_t id, unsigned char *out, size_t outlen, struct sc_hit *hit)
{
	unsigned char wire[SC_DNS_MAXNAME];
	struct sc_key k;

	key_of(&k, name, type);
	ck_assert_int_gt(sc_dns_name_from_text(name, wire, sizeof(wire)), 0);
	memset(out, 0xa5, outlen);
	memset(hit, 0x5a, sizeof(*hit));
	return sc_cache_get(tc.c, &k, now, max_stale, id, wire, out, outlen, hit);
}

/* The sweep lease: one sweeper at a time; a holder that died does not
 * stop eviction for the lease's 30 s. */
START_TEST(test_sweep_lease_of_dead_holder)
{
	struct sc_stats *st = sc_cache_stats(tc.c);
	int status;
	pid_t pid;

	ck_assert_ptr_nonnull(st);
	ck_assert(sc_stats_sweep_begin(st, NOW));
	ck_assert(!sc_stats_sweep_begin(st, NOW + 1));   /* ours, held */
	sc_stats_sweep_end(st);
	/* A child takes it and dies without giving it back. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		_exit(sc_stats_sweep_begin(st, NOW) ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(sc_stats_sweep_begin(st, NOW + 1));
	/* Held by a live process (us): nobody else gets it. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		_exit(sc_stats_sweep_begin(st, NOW + 2) ? 1 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	sc_stats_sweep_end(st);
}
END_TEST

START_TEST(test_miss_on_empty)
{
	unsigned char out[512];
	struct sc_hit hit;

	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit),
			 -ENOENT);
}
END_TEST

START_TEST(test_hit_rewritten_byte_by_byte)
{
	unsigned char out[1024], want[1024];
	struct tmsg t;
	struct sc_hit hit;

	srv_answer(&t, "_sip._udp.example.com");
	put(&t, "_sip._udp.example.com", ns_t_srv, 100, NOW);

	/* 30 s later, another spelling, another ID. */
	ck_assert_int_eq(get("_SIP._UDP.Example.COM", ns_t_srv, NOW + 30, 0, 0xbeef, out,
			     sizeof(out), &hit), 0);
	expected(&t, 0xbeef, "_SIP._UDP.Example.COM", 70, want);
	ck_assert_uint_eq(hit.len, t.len);
	ck_assert_uint_eq(hit.written, t.len);
	ck_assert_mem_eq(out, want, t.len);
	ck_assert_uint_eq(out[t.len], 0xa5);   /* nothing past the answer */
	ck_assert_uint_eq(hit.remaining, 70);
	ck_assert(!hit.stale);
	ck_assert_uint_eq(hit.rcode, 0);
	ck_assert_uint_eq(hit.ancount, 2);
	/* The TTLs themselves: 300 -> 70, 120 -> 70, 60 stays 60. */
	ck_assert_int_eq(sc_dns_parse(out, hit.written, &msg), 0);
	ck_assert_uint_eq(msg.rr[0].ttl, 70);
	ck_assert_uint_eq(msg.rr[1].ttl, 70);
	ck_assert_uint_eq(msg.rr[2].ttl, 60);
}
END_TEST

START_TEST(test_expiry_and_stale_window)
{
	unsigned char out[1024], want[1024];
	struct tmsg t;
	struct sc_hit hit;

	srv_answer(&t, "_sip._udp.example.com");
	put(&t, "_sip._udp.example.com", ns_t_srv, 100, NOW);

	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW + 99, 0, 7, out, sizeof(out), &hit), 0);
	ck_assert_uint_eq(hit.remaining, 1);
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW + 100, 0, 7, out, sizeof(out), &hit),
			 -ENOENT);
	/* Within serve_stale: served with the RFC 8767 TTL, marked stale. */
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW + 1000, 3600, 7, out, sizeof(out),
			     &hit), 0);
	ck_assert(hit.stale);
	ck_assert_uint_eq(hit.remaining, 0);
	expected(&t, 7, "_sip._udp.example.com", SC_STALE_TTL, want);
	ck_assert_mem_eq(out, want, t.len);
	/* Beyond it: a miss. */
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW + 100 + 3600, 3600, 7, out,
			     sizeof(out), &hit), -ENOENT);
	/* Clock stepped back before the store: expired. */
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW - 5, 0, 7, out, sizeof(out), &hit),
			 -ENOENT);
}
END_TEST

START_TEST(test_truncated_copy)
{
	unsigned char out[1024], want[1024];
	struct tmsg t;
	struct sc_hit hit;
	size_t n;

	srv_answer(&t, "_sip._udp.example.com");
	put(&t, "_sip._udp.example.com", ns_t_srv, 100, NOW);
	expected(&t, 9, "_sip._udp.example.com", 100, want);
	for (n = 0; n <= t.len; n++) {
		ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 9, out, n, &hit), 0);
		ck_assert_uint_eq(hit.written, n);
		ck_assert_uint_eq(hit.len, t.len);
		ck_assert_mem_eq(out, want, n);
	}
}
END_TEST

START_TEST(test_persists_across_reopen)
{
	unsigned char out[1024];
	struct tmsg t;
	struct sc_hit hit;

	srv_answer(&t, "_sip._udp.example.com");
	put(&t, "_sip._udp.example.com", ns_t_srv, 100, NOW);
	sc_cache_close(tc.c);
	tc.c = tmpcache_open(&tc, 1024);
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW + 1, 0, 9, out, sizeof(out), &hit),
			 0);
	ck_assert_uint_eq(hit.len, t.len);
}
END_TEST

START_TEST(test_visible_across_processes)
{
	unsigned char out[1024];
	struct tmsg t;
	struct sc_hit hit;
	pid_t pid;
	int status;

	/* A forked writer with its own open of the file... */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sc_key k;
		struct sc_cache *c;

		/* tdb refuses a second open of a file per process, and a
		 * forked child inherits the parent's list: drop it first. */
		sc_cache_close(tc.c);
		c = tmpcache_open(&tc, 1024);
		srv_answer(&t, "_sip._tcp.example.com");
		key_of(&k, "_sip._tcp.example.com", ns_t_srv);
		if (sc_dns_parse(t.buf, t.len, &msg) != 0 ||
		    sc_cache_put(c, &k, &msg, 100, 0, NOW) != 0) {
			_exit(1);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* ...is seen by this process's already open handle. */
	ck_assert_int_eq(get("_sip._tcp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit), 0);
	srv_answer(&t, "_sip._tcp.example.com");
	ck_assert_uint_eq(hit.len, t.len);

	/* And the other way round: we store, a forked reader finds it. */
	srv_answer(&t, "_sips._tcp.example.com");
	put(&t, "_sips._tcp.example.com", ns_t_srv, 100, NOW);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sc_cache_fork_child(tc.c);   /* reopen lazily on next use */
		_exit(get("_sips._tcp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit) == 0 &&
		      hit.len == t.len ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent's handle still works after the child reopened its own. */
	ck_assert_int_eq(get("_sips._tcp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit), 0);
}
END_TEST

START_TEST(test_negative_entry)
{
	unsigned char out[512];
	struct tmsg t;
	struct sc_hit hit;
	struct sc_key k;

	tmsg_begin(&t, 1, "nope.example.com", ns_t_naptr, ns_r_nxdomain);
	tmsg_soa(&t, "example.com", 30, 30);
	key_of(&k, "nope.example.com", ns_t_naptr);
	ck_assert_int_eq(sc_dns_parse(t.buf, t.len, &msg), 0);
	ck_assert_int_eq(sc_cache_put(tc.c, &k, &msg, 30,
				      SC_ENTRY_NEGATIVE | SC_ENTRY_NXDOMAIN, NOW), 0);
	ck_assert_int_eq(get("nope.example.com", ns_t_naptr, NOW + 10, 0, 2, out, sizeof(out), &hit), 0);
	ck_assert_uint_eq(hit.flags, SC_ENTRY_NEGATIVE | SC_ENTRY_NXDOMAIN);
	ck_assert_uint_eq(hit.rcode, ns_r_nxdomain);
	ck_assert_uint_eq(hit.ancount, 0);
	/* The SOA's TTL is lowered like any other. */
	ck_assert_int_eq(sc_dns_parse(out, hit.written, &msg), 0);
	ck_assert_uint_eq(msg.rr[0].ttl, 20);
}
END_TEST

START_TEST(test_types_and_classes_are_distinct)
{
	unsigned char out[512];
	struct tmsg a, aaaa;
	struct sc_hit hit;

	tmsg_begin(&a, 1, "h.example.com", ns_t_a, ns_r_noerror);
	tmsg_a(&a, 0, "h.example.com", 300, "127.0.0.9");
	tmsg_begin(&aaaa, 1, "h.example.com", ns_t_aaaa, ns_r_noerror);
	tmsg_aaaa(&aaaa, 0, "h.example.com", 300, "::1");
	put(&a, "h.example.com", ns_t_a, 300, NOW);
	put(&aaaa, "h.example.com", ns_t_aaaa, 300, NOW);
	ck_assert_int_eq(get("h.example.com", ns_t_a, NOW, 0, 1, out, sizeof(out), &hit), 0);
	ck_assert_uint_eq(hit.len, a.len);
	ck_assert_int_eq(get("h.example.com", ns_t_aaaa, NOW, 0, 1, out, sizeof(out), &hit), 0);
	ck_assert_uint_eq(hit.len, aaaa.len);
	ck_assert_int_eq(get("h.example.com", ns_t_txt, NOW, 0, 1, out, sizeof(out), &hit), -ENOENT);
}
END_TEST

/*
 * A raw tdb handle on the cache file, in a forked child: tdb refuses a
 * second open of a file in one process, and the child inherits the
 * parent's list of open files, so drop our handle first.
 */
static struct tdb_context *raw_open_in_child(void)
{
	int flags = TDB_INCOMPATIBLE_HASH |
		    (tdb_runtime_check_for_robust_mutexes() ? TDB_MUTEX_LOCKING : 0);

	sc_cache_close(tc.c);
	tc.c = NULL;
	return tdb_open_ex(tc.path, 0, flags, O_RDWR, 0, NULL, sc_cache_tdb_hash);
}

/* Write raw bytes under a key from another process. */
static void raw_store(const struct sc_key *k, const void *val, size_t len)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct tdb_context *t = raw_open_in_child();
		TDB_DATA key = { .dptr = (unsigned char *)k->buf, .dsize = k->len };
		TDB_DATA v = { .dptr = (unsigned char *)val, .dsize = len };

		_exit(t && tdb_store(t, key, v, TDB_REPLACE) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Writes that bypass sc_cache do not bump the change counters, so
	 * this thread's first-level copy would still be served: bump. */
	sc_stats_epoch_bump(sc_cache_stats(tc.c));
}

START_TEST(test_damaged_record_is_a_miss_and_removed)
{
	unsigned char out[1024], val[2048];
	struct tmsg t;
	struct sc_hit hit;
	struct sc_key k;
	size_t len = 0;
	int i;

	srv_answer(&t, "_sip._udp.example.com");
	put(&t, "_sip._udp.example.com", ns_t_srv, 100, NOW);
	key_of(&k, "_sip._udp.example.com", ns_t_srv);

	/* Read the stored value through a child with a raw tdb handle. */
	{
		int pfd[2];
		pid_t pid;

		ck_assert_int_eq(pipe(pfd), 0);
		pid = fork();
		if (pid == 0) {
			struct tdb_context *tt = raw_open_in_child();
			TDB_DATA key = { .dptr = k.buf, .dsize = k.len };
			TDB_DATA v = tt ? tdb_fetch(tt, key) : (TDB_DATA){ 0 };

			_exit(v.dptr && write(pfd[1], v.dptr, v.dsize) == (ssize_t)v.dsize ? 0 : 1);
		}
		close(pfd[1]);
		for (;;) {
			ssize_t n = read(pfd[0], val + len, sizeof(val) - len);

			if (n <= 0) {
				break;
			}
			len += (size_t)n;
		}
		close(pfd[0]);
		waitpid(pid, NULL, 0);
	}
	ck_assert_uint_gt(len, t.len);

	/* Byte flips all over the stored value must be caught. */
	for (i = 0; i < (int)len; i += 7) {
		unsigned char bad[2048];

		memcpy(bad, val, len);
		bad[i] ^= 0x10;
		raw_store(&k, bad, len);
		ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out),
				     &hit), -EBADMSG);
		/* ...and it is gone. */
		ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out),
				     &hit), -ENOENT);
	}
	/* Truncated and zero-length values too. */
	raw_store(&k, val, len - 1);
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit),
			 -EBADMSG);
	raw_store(&k, val, 0);
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit),
			 -EBADMSG);
	/* The original value, put back, is good again. */
	raw_store(&k, val, len);
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit), 0);
	{
		struct sc_stats_snapshot s;

		sc_stats_read(sc_cache_stats(tc.c), &s);
		ck_assert_uint_ge(s.c[SC_STAT_CORRUPT], 3);
	}
}
END_TEST

static int count_fn(const struct sc_entry_view *e, void *priv)
{
	(void)e;
	(*(int *)priv)++;
	return 0;
}

static int count_entries(void)
{
	int n = 0;

	ck_assert_int_ge(sc_cache_traverse(tc.c, count_fn, &n), 0);
	return n;
}

START_TEST(test_flush_all_and_by_name)
{
	unsigned char out[512];
	struct tmsg t;
	struct sc_hit hit;
	char mark[8];
	size_t len;

	tmsg_begin(&t, 1, "a.example.com", ns_t_a, ns_r_noerror);
	tmsg_a(&t, 0, "a.example.com", 300, "127.0.0.1");
	put(&t, "a.example.com", ns_t_a, 300, NOW);
	tmsg_begin(&t, 1, "a.example.com", ns_t_aaaa, ns_r_noerror);
	tmsg_aaaa(&t, 0, "a.example.com", 300, "::1");
	put(&t, "a.example.com", ns_t_aaaa, 300, NOW);
	tmsg_begin(&t, 1, "b.example.com", ns_t_a, ns_r_noerror);
	tmsg_a(&t, 0, "b.example.com", 300, "127.0.0.2");
	put(&t, "b.example.com", ns_t_a, 300, NOW);
	/* "a.example.com" must not take "aa.example.com" or "x.a.example.com" with it */
	tmsg_begin(&t, 1, "x.a.example.com", ns_t_a, ns_r_noerror);
	tmsg_a(&t, 0, "x.a.example.com", 300, "127.0.0.3");
	put(&t, "x.a.example.com", ns_t_a, 300, NOW);
	ck_assert_int_eq(sc_cache_put_internal(tc.c, "mark", 4, "down", 4), 0);
	ck_assert_int_eq(count_entries(), 4);

	{
		unsigned char wire[SC_DNS_MAXNAME];

		ck_assert_int_gt(sc_dns_name_from_text("A.Example.Com.", wire, sizeof(wire)), 0);
		ck_assert_int_eq(sc_cache_flush_name(tc.c, wire), 2);
	}
	ck_assert_int_eq(get("a.example.com", ns_t_a, NOW, 0, 1, out, sizeof(out), &hit), -ENOENT);
	ck_assert_int_eq(get("a.example.com", ns_t_aaaa, NOW, 0, 1, out, sizeof(out), &hit), -ENOENT);
	ck_assert_int_eq(get("b.example.com", ns_t_a, NOW, 0, 1, out, sizeof(out), &hit), 0);
	ck_assert_int_eq(get("x.a.example.com", ns_t_a, NOW, 0, 1, out, sizeof(out), &hit), 0);

	ck_assert_int_eq(sc_cache_flush(tc.c), 2);
	ck_assert_int_eq(count_entries(), 0);
	/* Operator state (marks) survives a flush of answers. */
	ck_assert_int_eq(sc_cache_get_internal(tc.c, "mark", 4, mark, sizeof(mark), &len), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(mark, "down", 4);
	{
		struct sc_stats_snapshot s;

		sc_stats_read(sc_cache_stats(tc.c), &s);
		ck_assert_int_eq(s.entries, 0);
		ck_assert_int_eq(s.bytes, 0);
	}
}
END_TEST

START_TEST(test_eviction_expired_first_then_nearest_expiry)
{
	struct tmpcache small;
	struct sc_stats_snapshot s;
	unsigned char out[512], wire[SC_DNS_MAXNAME];
	struct sc_hit hit;
	struct sc_key k;
	char name[64];
	int i;

	tmpcache_free(&tc);
	tmpcache_new(&small, 20);
	tc = small;

	/* 10 entries already expired at NOW+1000, then 20 live ones whose
	 * lifetimes grow with i. */
	for (i = 0; i < 30; i++) {
		struct tmsg t;
		uint32_t life = i < 10 ? 10 : 2000 + (uint32_t)i * 100;

		snprintf(name, sizeof(name), "h%d.example.com", i);
		tmsg_begin(&t, 1, name, ns_t_a, ns_r_noerror);
		tmsg_a(&t, 0, name, life, "127.0.0.1");
		key_of(&k, name, ns_t_a);
		ck_assert_int_eq(sc_dns_parse(t.buf, t.len, &msg), 0);
		ck_assert_int_eq(sc_cache_put(tc.c, &k, &msg, life, 0, NOW + (i < 10 ? 0 : 1000)), 0);
	}
	/* The bound holds: swept to 90% of 20 when the 21st arrived, and
	 * again as needed. */
	ck_assert_int_le(count_entries(), 20);
	sc_stats_read(sc_cache_stats(tc.c), &s);
	ck_assert_int_eq(s.entries, count_entries());
	ck_assert_uint_ge(s.c[SC_STAT_EVICTIONS], 10);
	/* The longest-lived ones are still there; the expired ones are not. */
	for (i = 25; i < 30; i++) {
		snprintf(name, sizeof(name), "h%d.example.com", i);
		ck_assert_int_gt(sc_dns_name_from_text(name, wire, sizeof(wire)), 0);
		ck_assert_int_eq(get(name, ns_t_a, NOW + 1000, 0, 1, out, sizeof(out), &hit), 0);
	}
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "h%d.example.com", i);
		ck_assert_int_eq(get(name, ns_t_a, NOW + 1000, 100000, 1, out, sizeof(out), &hit),
				 -ENOENT);
	}
	/* Explicit eviction down to 5 keeps the 5 with the latest expiry. */
	ck_assert_int_gt(sc_cache_evict(tc.c, NOW + 1000, 5), 0);
	ck_assert_int_eq(count_entries(), 5);
	for (i = 25; i < 30; i++) {
		snprintf(name, sizeof(name), "h%d.example.com", i);
		ck_assert_int_eq(get(name, ns_t_a, NOW + 1000, 0, 1, out, sizeof(out), &hit), 0);
	}
}
END_TEST

/* A first-level (per-thread) copy is never served after another process
 * changed or removed the entry. */
START_TEST(test_first_level_follows_other_processes)
{
	unsigned char out[1024];
	struct sc_hit hit;
	struct tmsg t, t2;
	pid_t pid;
	int status, i;

	srv_answer(&t, "_sip._udp.example.com");
	put(&t, "_sip._udp.example.com", ns_t_srv, 100, NOW);
	/* Twice: the second comes from the first level. */
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out),
				     &hit), 0);
		ck_assert_uint_eq(hit.len, t.len);
	}
	/* Another process replaces the entry with a shorter answer. */
	tmsg_begin(&t2, 0x1234, "_sip._udp.example.com", ns_t_srv, ns_r_noerror);
	tmsg_srv(&t2, 0, "_sip._udp.example.com", 300, 10, 60, 5060, "c.example.com");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sc_key k;
		struct sc_cache *c;

		sc_cache_close(tc.c);
		c = tmpcache_open(&tc, 1024);
		key_of(&k, "_sip._udp.example.com", ns_t_srv);
		_exit(sc_dns_parse(t2.buf, t2.len, &msg) == 0 &&
		      sc_cache_put(c, &k, &msg, 100, 0, NOW) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit), 0);
	ck_assert_uint_eq(hit.len, t2.len);
	ck_assert_uint_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit), 0);
	ck_assert_uint_eq(hit.len, t2.len);

	/* Another process flushes: the next lookup here misses. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sc_cache *c;

		sc_cache_close(tc.c);
		c = tmpcache_open(&tc, 1024);
		_exit(sc_cache_flush(c) == 1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit),
			 -ENOENT);
	/* Expiry is checked on the first level as well. */
	put(&t, "_sip._udp.example.com", ns_t_srv, 100, NOW);
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit), 0);
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW + 100, 0, 1, out, sizeof(out),
			     &hit), -ENOENT);
}
END_TEST

/* A sweep removes every expired entry, even when the bound would be met
 * without removing them all; it removes no live entry then. */
START_TEST(test_sweep_removes_all_expired)
{
	struct sc_key k;
	char name[64];
	int i;

	for (i = 0; i < 15; i++) {
		struct tmsg t;
		uint32_t life = i < 5 ? 10 : 5000;

		snprintf(name, sizeof(name), "e%d.example.com", i);
		tmsg_begin(&t, 1, name, ns_t_a, ns_r_noerror);
		tmsg_a(&t, 0, name, life, "127.0.0.1");
		key_of(&k, name, ns_t_a);
		ck_assert_int_eq(sc_dns_parse(t.buf, t.len, &msg), 0);
		ck_assert_int_eq(sc_cache_put(tc.c, &k, &msg, life, 0, NOW), 0);
	}
	ck_assert_int_eq(count_entries(), 15);
	/* Kept for serve-stale: with room to spare, nothing goes. */
	sc_cache_close(tc.c);
	{
		struct sc_cache_opts o = { .path = tc.path, .max_entries = 1024, .create = true,
					   .group = (gid_t)-1, .keep_stale = 3600 };

		ck_assert_int_eq(sc_cache_open(&tc.c, &o), 0);
	}
	ck_assert_int_eq(sc_cache_evict(tc.c, NOW + 100, 18), 0);
	ck_assert_int_eq(count_entries(), 15);
	/* Short of room, the expired ones go first, the live ones stay. */
	ck_assert_int_eq(sc_cache_evict(tc.c, NOW + 100, 12), 3);
	ck_assert_int_eq(count_entries(), 12);
	/* Beyond the window they are useless: all go, room or not. */
	ck_assert_int_eq(sc_cache_evict(tc.c, NOW + 100 + 3600, 18), 2);
	ck_assert_int_eq(count_entries(), 10);
}
END_TEST

START_TEST(test_counters_shared)
{
	struct sc_stats_snapshot s;
	struct tmsg t;
	pid_t pid;
	int status;

	tmsg_begin(&t, 1, "a.example.com", ns_t_a, ns_r_noerror);
	tmsg_a(&t, 0, "a.example.com", 300, "127.0.0.1");
	put(&t, "a.example.com", ns_t_a, 300, NOW);
	put(&t, "a.example.com", ns_t_a, 300, NOW);   /* replace: still one entry */
	sc_stats_inc(sc_cache_stats(tc.c), SC_STAT_HITS);
	sc_stats_inc_type(sc_cache_stats(tc.c), ns_t_srv, true);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sc_cache *c;
		int i;

		sc_cache_close(tc.c);
		c = tmpcache_open(&tc, 1024);
		for (i = 0; i < 1000; i++) {
			sc_stats_inc(sc_cache_stats(c), SC_STAT_HITS);
		}
		_exit(0);   /* counters are in the file: no exit handler needed */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	sc_stats_read(sc_cache_stats(tc.c), &s);
	ck_assert_uint_eq(s.c[SC_STAT_HITS], 1001);
	ck_assert_uint_eq(s.c[SC_STAT_STORES], 2);
	ck_assert_uint_eq(s.type_hits[SC_STYPE_SRV], 1);
	ck_assert_int_eq(s.entries, 1);
	ck_assert_int_gt(s.bytes, (int64_t)t.len);
	ck_assert_str_eq(sc_stats_name(SC_STAT_NEGATIVE_HITS), "negative_hits");
	ck_assert_str_eq(sc_stats_type_name(sc_stats_type_index(ns_t_naptr)), "NAPTR");
	sc_stats_reset(sc_cache_stats(tc.c));
	sc_stats_read(sc_cache_stats(tc.c), &s);
	ck_assert_uint_eq(s.c[SC_STAT_HITS], 0);
}
END_TEST

START_TEST(test_untrusted_files_refused)
{
	struct sc_cache_opts o = { .path = tc.path, .max_entries = 100, .create = true,
				   .group = (gid_t)-1 };
	struct sc_cache *c;
	char link[160];

	sc_cache_close(tc.c);
	tc.c = NULL;

	/* World-writable file: refused, and not a byte of it touched. */
	ck_assert_int_eq(chmod(tc.path, 0666), 0);
	{
		struct stat before, after;
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "cp -p %s %s.copy", tc.path, tc.path);
		ck_assert_int_eq(system(cmd), 0);
		ck_assert_int_eq(stat(tc.path, &before), 0);
		ck_assert_int_eq(sc_cache_open(&c, &o), -EPERM);
		ck_assert_int_eq(stat(tc.path, &after), 0);
		ck_assert_int_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
		snprintf(cmd, sizeof(cmd), "cmp -s %s %s.copy", tc.path, tc.path);
		ck_assert_int_eq(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "%s.copy", tc.path);
		unlink(cmd);
	}
	ck_assert_int_eq(chmod(tc.path, 0664), 0);
	ck_assert_int_eq(sc_cache_open(&c, &o), 0);
	sc_cache_close(c);

	/* Group-writable by a group that is not trusted. */
	ck_assert_int_eq(chown(tc.path, 0, 100), 0);
	ck_assert_int_eq(sc_cache_open(&c, &o), -EPERM);
	o.group = 100;   /* ...unless it is the configured group */
	ck_assert_int_eq(sc_cache_open(&c, &o), 0);
	sc_cache_close(c);
	o.group = (gid_t)-1;
	ck_assert_int_eq(chown(tc.path, 0, 0), 0);

	/* Owned by somebody else. */
	ck_assert_int_eq(chown(tc.path, 65534, 0), 0);
	ck_assert_int_eq(sc_cache_open(&c, &o), -EPERM);
	ck_assert_int_eq(chown(tc.path, 0, 0), 0);

	/* World-writable directory. */
	ck_assert_int_eq(chmod(tc.dir, 0777), 0);
	ck_assert_int_eq(sc_cache_open(&c, &o), -EPERM);
	ck_assert_int_eq(chmod(tc.dir, 0755), 0);

	/* A symlink in place of the file. */
	snprintf(link, sizeof(link), "%s/link.tdb", tc.dir);
	ck_assert_int_eq(symlink(tc.path, link), 0);
	o.path = link;
	ck_assert_int_eq(sc_cache_open(&c, &o), -ELOOP);
	unlink(link);

	/* Relative path. */
	o.path = "cache.tdb";
	ck_assert_int_eq(sc_cache_open(&c, &o), -EINVAL);
}
END_TEST

START_TEST(test_created_group_writable_despite_umask)
{
	struct stat st;

	tmpcache_free(&tc);
	umask(022);
	tmpcache_new(&tc, 100);
	ck_assert_int_eq(stat(tc.path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0664);
	{
		char stats[160];

		snprintf(stats, sizeof(stats), "%s.stats", tc.path);
		ck_assert_int_eq(stat(stats, &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0664);
	}
}
END_TEST

START_TEST(test_replaced_file_followed)
{
	unsigned char out[1024];
	struct sc_hit hit;
	struct tmsg t;
	char tmp[160];

	srv_answer(&t, "_sip._udp.example.com");
	put(&t, "_sip._udp.example.com", ns_t_srv, 100, NOW);

	ck_assert_int_eq(sc_cache_revalidate(tc.c, 100000), 0);
	/* Within a second: not checked again. */
	snprintf(tmp, sizeof(tmp), "%s.new", tc.path);
	ck_assert_int_eq(link(tc.path, tmp), 0);
	ck_assert_int_eq(unlink(tc.path), 0);
	{
		int fd = open(tc.path, O_CREAT | O_WRONLY, 0664);

		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	ck_assert_int_eq(sc_cache_revalidate(tc.c, 100500), 0);
	/* The old file still answers: not checked again yet. */
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit), 0);
	/* A second later the handle follows the path to the new, empty
	 * file (an empty file is turned into a fresh cache). */
	ck_assert_int_eq(sc_cache_revalidate(tc.c, 101001), 0);
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit),
			 -ENOENT);
	put(&t, "_sip._udp.example.com", ns_t_srv, 100, NOW);
	sc_cache_close(tc.c);
	tc.c = tmpcache_open(&tc, 1024);
	ck_assert_int_eq(get("_sip._udp.example.com", ns_t_srv, NOW, 0, 1, out, sizeof(out), &hit), 0);
	unlink(tmp);
}
END_TEST

START_TEST(test_descriptor_closed_under_us)
{
	unsigned char out[512];
	struct sc_hit hit;
	int fd;

	struct stat cst;

	/* A daemon closing every descriptor (here: the cache's, found by
	 * inode; Check's own must stay), then opening something else. */
	ck_assert_int_eq(stat(tc.path, &cst), 0);
	for (fd = 3; fd < 1024; fd++) {
		struct stat st;

		if (fstat(fd, &st) == 0 && st.st_dev == cst.st_dev && st.st_ino == cst.st_ino) {
			close(fd);
		}
	}
	fd = open("/dev/null", O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sc_cache_revalidate(tc.c, 200000), -EBADF);
	/* From then on the handle refuses work instead of touching the fd. */
	ck_assert_int_eq(get("a.example.com", ns_t_a, NOW, 0, 1, out, sizeof(out), &hit), -EBADF);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cache");
	TCase *tc_core = tcase_create("cache");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc_core, setup, teardown);
	tcase_set_timeout(tc_core, 60);
	tcase_add_test(tc_core, test_miss_on_empty);
	tcase_add_test(tc_core, test_sweep_lease_of_dead_holder);
	tcase_add_test(tc_core, test_hit_rewritten_byte_by_byte);
	tcase_add_test(tc_core, test_expiry_and_stale_window);
	tcase_add_test(tc_core, test_truncated_copy);
	tcase_add_test(tc_core, test_persists_across_reopen);
	tcase_add_test(tc_core, test_visible_across_processes);
	tcase_add_test(tc_core, test_negative_entry);
	tcase_add_test(tc_core, test_types_and_classes_are_distinct);
	tcase_add_test(tc_core, test_damaged_record_is_a_miss_and_removed);
	tcase_add_test(tc_core, test_flush_all_and_by_name);
	tcase_add_test(tc_core, test_eviction_expired_first_then_nearest_expiry);
	tcase_add_test(tc_core, test_first_level_follows_other_processes);
	tcase_add_test(tc_core, test_sweep_removes_all_expired);
	tcase_add_test(tc_core, test_counters_shared);
	tcase_add_test(tc_core, test_untrusted_files_refused);
	tcase_add_test(tc_core, test_created_group_writable_despite_umask);
	tcase_add_test(tc_core, test_replaced_file_followed);
	tcase_add_test(tc_core, test_descriptor_closed_under_us);
	suite_add_tcase(s, tc_core);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

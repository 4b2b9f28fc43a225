/*
 * check_marks.c - target marks (shim/sc_marks.c): the text forms, down/up
 * and expiry in a real cache file, the set seen by other processes,
 * concurrent writers that lose nothing, the lease of a dead writer, the
 * per-thread copy of the hit path (re-read only when the generation
 * moves), damaged records.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../shim/sc.h"
#include "helpers/tmpcache.h"

#define NOW 1800000000

static struct tmpcache tc;
static struct sc_marks list;

static void setup(void)
{
	tmpcache_new(&tc, 1024);
}

static void teardown(void)
{
	tmpcache_free(&tc);
}

/* The live marks as "TARGET EXPIRY" lines, soonest first. */
static const char *listing(struct sc_cache *c, int64_t now)
{
	static char out[8192];
	size_t o = 0;
	unsigned i;

	ck_assert_int_eq(sc_marks_list(c, now, &list), 0);
	out[0] = '\0';
	for (i = 0; i < list.n; i++) {
		char t[SC_DNS_MAXTEXT + 16];

		ck_assert_int_gt(sc_mark_format(&list.m[i], t, sizeof(t)), 0);
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s +%lld\n", t,
				      (long long)(list.m[i].expires - now));
	}
	return out;
}

/* ------------------------------------------------------------------ */
/* text                                                                */

START_TEST(test_parse_and_format)
{
	static const struct {
		const char *in, *out;
		int kind;
		unsigned port;
	} ok[] = {
		{ "sip1.example.com", "sip1.example.com", SC_MARK_NAME, 0 },
		{ "SIP1.Example.COM.", "sip1.example.com", SC_MARK_NAME, 0 },
		{ "sip1.example.com:5060", "sip1.example.com:5060", SC_MARK_NAME, 5060 },
		{ "localhost:65535", "localhost:65535", SC_MARK_NAME, 65535 },
		{ "192.0.2.1", "192.0.2.1", SC_MARK_IPV4, 0 },
		{ "192.0.2.1:5061", "192.0.2.1:5061", SC_MARK_IPV4, 5061 },
		{ "2001:db8::1", "2001:db8::1", SC_MARK_IPV6, 0 },
		{ "2001:DB8:0::1", "2001:db8::1", SC_MARK_IPV6, 0 },
		{ "[2001:db8::1]", "2001:db8::1", SC_MARK_IPV6, 0 },
		{ "[2001:db8::1]:5060", "[2001:db8::1]:5060", SC_MARK_IPV6, 5060 },
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1", SC_MARK_IPV6, 0 },
	};
	static const char *const bad[] = {
		"", ":", ":5060", "host:", "host:0", "host:65536", "host:50x", "host:-1",
		".", "a..b", "[2001:db8::1", "[2001:db8::1]x", "[2001:db8::1]:", "[192.0.2.1]",
		"2001:db8::1:5060x", "192.0.2.1:", "host:5060:1",
	};
	struct sc_mark m;
	char text[SC_DNS_MAXTEXT + 16];
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(ok); i++) {
		memset(&m, 0x5a, sizeof(m));
		ck_assert_msg(sc_mark_parse(ok[i].in, &m) == 0, "%s", ok[i].in);
		ck_assert_int_eq(m.kind, ok[i].kind);
		ck_assert_uint_eq(m.port, ok[i].port);
		ck_assert_int_eq(m.expires, 0);
		ck_assert_int_eq(sc_mark_format(&m, text, sizeof(text)), (int)strlen(ok[i].out));
		ck_assert_str_eq(text, ok[i].out);
		/* Too small a buffer: -ENOSPC, never a cut target. */
		ck_assert_int_eq(sc_mark_format(&m, text, strlen(ok[i].out)), -ENOSPC);
	}
	for (i = 0; i < SC_ARRAY_SIZE(bad); i++) {
		ck_assert_msg(sc_mark_parse(bad[i], &m) == -EINVAL, "%s accepted", bad[i]);
	}
	ck_assert_int_eq(sc_mark_parse(NULL, &m), -EINVAL);
}
END_TEST

START_TEST(test_matching)
{
	struct sc_marks ms = { .n = 0 };
	unsigned char name[SC_DNS_MAXNAME], a4[4], a6[16];

	ck_assert_int_eq(sc_mark_parse("sip1.example.com", &ms.m[ms.n]), 0);
	ms.m[ms.n++].expires = NOW + 10;
	ck_assert_int_eq(sc_mark_parse("sip2.example.com:5061", &ms.m[ms.n]), 0);
	ms.m[ms.n++].expires = NOW + 10;
	ck_assert_int_eq(sc_mark_parse("192.0.2.1", &ms.m[ms.n]), 0);
	ms.m[ms.n++].expires = NOW + 10;
	ck_assert_int_eq(sc_mark_parse("192.0.2.2:5060", &ms.m[ms.n]), 0);
	ms.m[ms.n++].expires = NOW + 10;
	ck_assert_int_eq(sc_mark_parse("2001:db8::1", &ms.m[ms.n]), 0);
	ms.m[ms.n++].expires = NOW - 1;   /* expired */

	ck_assert_int_gt(sc_dns_name_from_text("SIP1.example.COM", name, sizeof(name)), 0);
	ck_assert(sc_marks_name_down(&ms, name, 5060, NOW));
	ck_assert(sc_marks_name_down(&ms, name, 9, NOW));
	ck_assert(sc_marks_name_down(&ms, name, 5060, NOW + 9));
	ck_assert(!sc_marks_name_down(&ms, name, 5060, NOW + 10));
	ck_assert_int_gt(sc_dns_name_from_text("sip2.example.com", name, sizeof(name)), 0);
	ck_assert(sc_marks_name_down(&ms, name, 5061, NOW));
	ck_assert(!sc_marks_name_down(&ms, name, 5060, NOW));
	ck_assert_int_gt(sc_dns_name_from_text("x.sip1.example.com", name, sizeof(name)), 0);
	ck_assert(!sc_marks_name_down(&ms, name, 5060, NOW));
	ck_assert(!sc_marks_name_down(NULL, name, 5060, NOW));

	inet_pton(AF_INET, "192.0.2.1", a4);
	ck_assert(sc_marks_addr_down(&ms, AF_INET, a4, 0, NOW));
	ck_assert(sc_marks_addr_down(&ms, AF_INET, a4, 5060, NOW));
	inet_pton(AF_INET, "192.0.2.2", a4);
	ck_assert(sc_marks_addr_down(&ms, AF_INET, a4, 5060, NOW));
	/* port 0: an answer without a port only sees every-port marks */
	ck_assert(!sc_marks_addr_down(&ms, AF_INET, a4, 0, NOW));
	inet_pton(AF_INET6, "2001:db8::1", a6);
	ck_assert(!sc_marks_addr_down(&ms, AF_INET6, a6, 0, NOW));
	ck_assert(!sc_marks_addr_down(&ms, AF_UNSPEC, a6, 0, NOW));
	/* the name mark is no address mark */
	ck_assert(!sc_marks_addr_down(&ms, AF_INET6, name, 0, NOW));
}
END_TEST

/* ------------------------------------------------------------------ */
/* down, up, expiry                                                    */

START_TEST(test_down_list_up_expire)
{
	ck_assert_str_eq(listing(tc.c, NOW), "");
	ck_assert_int_eq(sc_marks_down(tc.c, "sip1.example.com", 60, NOW), 0);
	ck_assert_int_eq(sc_marks_down(tc.c, "192.0.2.7:5060", 30, NOW), 0);
	ck_assert_int_eq(sc_marks_down(tc.c, "Sip1.Example.Com:5060", 90, NOW), 0);
	ck_assert_str_eq(listing(tc.c, NOW),
			 "192.0.2.7:5060 +30\n"
			 "sip1.example.com +60\n"
			 "sip1.example.com:5060 +90\n");
	/* The same target again: a new expiry, not a second mark. */
	ck_assert_int_eq(sc_marks_down(tc.c, "SIP1.example.com.", 10, NOW), 0);
	ck_assert_str_eq(listing(tc.c, NOW),
			 "sip1.example.com +10\n"
			 "192.0.2.7:5060 +30\n"
			 "sip1.example.com:5060 +90\n");
	/* Marks expire by themselves. */
	ck_assert_str_eq(listing(tc.c, NOW + 30), "sip1.example.com:5060 +60\n");
	ck_assert_int_eq(sc_marks_up(tc.c, "192.0.2.7:5060", NOW + 30), -ENOENT);
	/* A write drops what expired by its time. */
	ck_assert_int_eq(sc_marks_down(tc.c, "other.example.com", 100, NOW + 20), 0);
	ck_assert_str_eq(listing(tc.c, NOW),
			 "192.0.2.7:5060 +30\n"
			 "sip1.example.com:5060 +90\n"
			 "other.example.com +120\n");
	ck_assert_int_eq(sc_marks_up(tc.c, "sip1.example.com:5060", NOW + 30), 0);
	ck_assert_int_eq(sc_marks_up(tc.c, "sip1.example.com:5060", NOW + 30), -ENOENT);
	ck_assert_str_eq(listing(tc.c, NOW), "other.example.com +120\n");
	/* All up. */
	ck_assert_int_eq(sc_marks_up(tc.c, NULL, NOW), 0);
	ck_assert_str_eq(listing(tc.c, NOW), "");
	ck_assert_int_eq(sc_marks_up(tc.c, NULL, NOW), -ENOENT);
}
END_TEST

START_TEST(test_bad_requests_change_nothing)
{
	ck_assert_int_eq(sc_marks_down(tc.c, "keep.example.com", 60, NOW), 0);
	ck_assert_int_eq(sc_marks_down(tc.c, "a.example.com", 0, NOW), -EINVAL);
	ck_assert_int_eq(sc_marks_down(tc.c, "a.example.com", SC_MARKS_MAX_SECONDS + 1, NOW),
			 -EINVAL);
	ck_assert_int_eq(sc_marks_down(tc.c, "a.example.com", SC_MARKS_MAX_SECONDS, NOW), 0);
	ck_assert_int_eq(sc_marks_down(tc.c, "host:0", 60, NOW), -EINVAL);
	ck_assert_int_eq(sc_marks_up(tc.c, "[::1", NOW), -EINVAL);
	ck_assert_str_eq(listing(tc.c, NOW), "keep.example.com +60\na.example.com +31622400\n");
}
END_TEST

START_TEST(test_capacity)
{
	char t[64];
	unsigned i;

	for (i = 0; i < SC_MARKS_MAX; i++) {
		snprintf(t, sizeof(t), "h%u.example.com", i);
		ck_assert_int_eq(sc_marks_down(tc.c, t, i < 10 ? 10 : 100, NOW), 0);
	}
	ck_assert_int_eq(sc_marks_down(tc.c, "one.too.many", 60, NOW), -ENOSPC);
	/* Re-marking a held target still works when full. */
	ck_assert_int_eq(sc_marks_down(tc.c, "h20.example.com", 50, NOW), 0);
	/* Expired marks make room. */
	ck_assert_int_eq(sc_marks_down(tc.c, "one.too.many", 60, NOW + 10), 0);
	ck_assert_int_eq(sc_marks_list(tc.c, NOW + 10, &list), 0);
	ck_assert_uint_eq(list.n, SC_MARKS_MAX - 10 + 1);
	/* Long names fit: the largest set round-trips. */
	ck_assert_int_eq(sc_marks_up(tc.c, NULL, NOW), 0);
	for (i = 0; i < SC_MARKS_MAX; i++) {
		/* 3 + 3 * 64 + 59 + 1 = 255 bytes of wire name */
		char longname[300];
		size_t o = (size_t)snprintf(longname, sizeof(longname), "%02u", i);
		unsigned l;

		for (l = 0; l < 4; l++) {
			unsigned len = l < 3 ? 63 : 58;

			longname[o++] = '.';
			memset(longname + o, 'a' + (int)l, len);
			o += len;
		}
		snprintf(longname + o, sizeof(longname) - o, ":5060");
		ck_assert_int_eq(sc_marks_down(tc.c, longname, 60, NOW), 0);
	}
	ck_assert_int_eq(sc_marks_list(tc.c, NOW, &list), 0);
	ck_assert_uint_eq(list.n, SC_MARKS_MAX);
	ck_assert_uint_eq(sc_dns_name_len(list.m[63].name), 255);
}
END_TEST

/* ------------------------------------------------------------------ */
/* sharing                                                             */

/* Another process (its own handle, as another server would have) marks;
 * this one sees it at its next hit, and sees it go. */
START_TEST(test_seen_by_other_process)
{
	const struct sc_marks *ms;
	int64_t now = sc_now();
	unsigned char name[SC_DNS_MAXNAME];
	pid_t pid;
	int st;

	ck_assert_int_gt(sc_dns_name_from_text("sip9.example.com", name, sizeof(name)), 0);
	ck_assert_ptr_null(sc_marks_current(tc.c, now));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sc_cache *c;

		/* tdb refuses a second open of a file per process, and a
		 * forked child inherits the parent's list: drop it first. */
		sc_cache_close(tc.c);
		c = tmpcache_open(&tc, 1024);
		_exit(sc_marks_down(c, "sip9.example.com", 60, now) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(st, 0);
	ms = sc_marks_current(tc.c, now);
	ck_assert_ptr_nonnull(ms);
	ck_assert(sc_marks_name_down(ms, name, 5060, now));

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sc_cache *c;

		sc_cache_close(tc.c);
		c = tmpcache_open(&tc, 1024);
		_exit(sc_marks_up(c, "sip9.example.com", now) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(st, 0);
	ck_assert_ptr_null(sc_marks_current(tc.c, now));
}
END_TEST

/*
 * The hit path reads the record only when the generation moved: a
 * record changed behind the generation's back (written raw) is not seen
 * until the generation moves.  And an expiry is seen at once, without
 * any read.
 */
START_TEST(test_current_rereads_only_on_new_generation)
{
	const struct sc_marks *ms;
	struct sc_marks *saved = malloc(sizeof(*saved));
	unsigned char raw[4096];
	size_t len = 0;

	ck_assert_ptr_nonnull(saved);
	ck_assert_int_eq(sc_marks_down(tc.c, "a.example.com", 60, NOW), 0);
	ck_assert_int_eq(sc_cache_get_internal(tc.c, "marks", 5, raw, sizeof(raw), &len), 0);
	ck_assert_int_eq(sc_marks_down(tc.c, "b.example.com", 60, NOW), 0);
	ms = sc_marks_current(tc.c, NOW);
	ck_assert_ptr_nonnull(ms);
	ck_assert_uint_eq(ms->n, 2);
	/* Put the one-mark record back without a new generation. */
	ck_assert_int_eq(sc_cache_put_internal(tc.c, "marks", 5, raw, len), 0);
	ms = sc_marks_current(tc.c, NOW);
	ck_assert_uint_eq(ms->n, 2);
	/* The generation moves (a flush bumps the epoch): re-read. */
	ck_assert_int_ge(sc_cache_flush(tc.c), 0);
	ms = sc_marks_current(tc.c, NOW);
	ck_assert_ptr_nonnull(ms);
	ck_assert_uint_eq(ms->n, 1);
	/* Flushes keep the marks (internal records stay). */
	ck_assert_str_eq(listing(tc.c, NOW), "a.example.com +60\n");
	/* Expiry needs no read. */
	ck_assert_ptr_nonnull(sc_marks_current(tc.c, NOW + 59));
	ck_assert_ptr_null(sc_marks_current(tc.c, NOW + 60));
	free(saved);
}
END_TEST

/* Writers in several processes at once lose nothing: the lease.  They
 * start together (a pipe closed by the parent), so their reads and
 * writes interleave: without the lease, runs here lost 14 to 32 of the
 * 60 marks in most attempts. */
START_TEST(test_concurrent_writers)
{
	enum { PROCS = 4, EACH = 15 };
	pid_t pid[PROCS];
	int go[2];
	unsigned p, i;
	int st;

	ck_assert_int_eq(pipe(go), 0);
	for (p = 0; p < PROCS; p++) {
		pid[p] = fork();
		ck_assert_int_ge(pid[p], 0);
		if (pid[p] == 0) {
			struct sc_cache *c;
			char byte;
			int bad = 0;

			sc_cache_close(tc.c);
			c = tmpcache_open(&tc, 1024);
			close(go[1]);
			if (read(go[0], &byte, 1) != 0) {
				_exit(100);
			}
			for (i = 0; i < EACH; i++) {
				char t[64];

				snprintf(t, sizeof(t), "p%u-%u.example.com", p, i);
				bad += sc_marks_down(c, t, 600, NOW) != 0;
			}
			_exit(bad);
		}
	}
	close(go[0]);
	usleep(100000);   /* every child waiting on the pipe */
	close(go[1]);
	for (p = 0; p < PROCS; p++) {
		ck_assert_int_eq(waitpid(pid[p], &st, 0), pid[p]);
		ck_assert_int_eq(WEXITSTATUS(st), 0);
	}
	ck_assert_int_eq(sc_marks_list(tc.c, NOW, &list), 0);
	ck_assert_uint_eq(list.n, PROCS * EACH);
}
END_TEST

/* A writer that died holding the lease blocks others for its lease
 * (5 s) at most: meanwhile writers give up after 2 s with -EBUSY. */
START_TEST(test_dead_writer_lease)
{
	struct sc_stats *st = sc_cache_stats(tc.c);
	int64_t t0;

	ck_assert_ptr_nonnull(st);
	ck_assert(sc_stats_marks_lock(st, sc_now()));
	ck_assert(!sc_stats_marks_lock(st, sc_now()));
	t0 = sc_now_mono_ms();
	ck_assert_int_eq(sc_marks_down(tc.c, "x.example.com", 60, NOW), -EBUSY);
	ck_assert_int_ge(sc_now_mono_ms() - t0, 1900);
	ck_assert_str_eq(listing(tc.c, NOW), "");
	/* A lease from a clock far ahead (stepped back since) is free. */
	sc_stats_marks_unlock(st);
	ck_assert(sc_stats_marks_lock(st, sc_now() + 3600));
	ck_assert_int_eq(sc_marks_down(tc.c, "x.example.com", 60, NOW), 0);
	/* Past its end, too. */
	ck_assert(sc_stats_marks_lock(st, sc_now() - 10));
	ck_assert_int_eq(sc_marks_down(tc.c, "y.example.com", 60, NOW), 0);
	ck_assert_str_eq(listing(tc.c, NOW), "x.example.com +60\ny.example.com +60\n");
}
END_TEST

/* A damaged record marks nothing and is replaced by the next write. */
START_TEST(test_damaged_record)
{
	unsigned char raw[4096];
	size_t len = 0;

	ck_assert_int_eq(sc_marks_down(tc.c, "a.example.com", 60, NOW), 0);
	ck_assert_int_eq(sc_cache_get_internal(tc.c, "marks", 5, raw, sizeof(raw), &len), 0);
	raw[len - 3] ^= 0x20;   /* one bit of a name: the checksum catches it */
	ck_assert_int_eq(sc_cache_put_internal(tc.c, "marks", 5, raw, len), 0);
	ck_assert_int_eq(sc_cache_flush(tc.c), 0);   /* a new generation */
	ck_assert_int_eq(sc_marks_list(tc.c, NOW, &list), -EBADMSG);
	ck_assert_uint_eq(list.n, 0);
	ck_assert_ptr_null(sc_marks_current(tc.c, NOW));
	/* Too short, too long, wrong magic: all damaged. */
	ck_assert_int_eq(sc_cache_put_internal(tc.c, "marks", 5, raw, 7), 0);
	ck_assert_int_eq(sc_marks_list(tc.c, NOW, &list), -EBADMSG);
	ck_assert_int_eq(sc_marks_down(tc.c, "b.example.com", 60, NOW), 0);
	ck_assert_str_eq(listing(tc.c, NOW), "b.example.com +60\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("marks");
	TCase *tc_text = tcase_create("text");
	TCase *tc_store = tcase_create("store");
	SRunner *sr;
	int failed;

	tcase_add_test(tc_text, test_parse_and_format);
	tcase_add_test(tc_text, test_matching);
	suite_add_tcase(s, tc_text);

	tcase_add_checked_fixture(tc_store, setup, teardown);
	tcase_set_timeout(tc_store, 60);
	tcase_add_test(tc_store, test_down_list_up_expire);
	tcase_add_test(tc_store, test_bad_requests_change_nothing);
	tcase_add_test(tc_store, test_capacity);
	tcase_add_test(tc_store, test_seen_by_other_process);
	tcase_add_test(tc_store, test_current_rereads_only_on_new_generation);
	tcase_add_test(tc_store, test_concurrent_writers);
	tcase_add_test(tc_store, test_dead_writer_lease);
	tcase_add_test(tc_store, test_damaged_record);
	suite_add_tcase(s, tc_store);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

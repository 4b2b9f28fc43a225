/*
 * check_faults.c - the cache file under faults (shim/sc_cache.c).
 *
 * A broken cache must never break its host: every case here ends with an
 * answer, a clean miss or a clean refusal, never a crash or a hang, and
 * the file valid afterwards (or refused).  Locks held by dead or stopped
 * processes use a forked agent, as tdb's own tests do.
 */
#include <arpa/nameser.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <tdb.h>
#include <time.h>
#include <unistd.h>

#include "../shim/sc.h"
#include "helpers/testmsg.h"
#include "helpers/tmpcache.h"

#define NOW 1800000000

static struct tmpcache tc;
static __thread struct sc_msg msg;   /* threads of a test store at once */

static void setup(void)
{
	tmpcache_new(&tc, 1024);
}

static void teardown(void)
{
	tmpcache_free(&tc);
}

/*
 * No ck_assert in these helpers: they run in worker threads and in
 * children forked from threaded parents, where Check's own reporting lock
 * may be held by another thread at fork time.  Errors are returned.
 */
static int key_of(struct sc_key *k, const char *name, uint16_t type)
{
	unsigned char wire[SC_DNS_MAXNAME];

	if (sc_dns_name_from_text(name, wire, sizeof(wire)) <= 0) {
		return -EINVAL;
	}
	return sc_key_make(k, wire, type, ns_c_in);
}

static int put_a(struct sc_cache *c, const char *name, const char *ip)
{
	struct tmsg t;
	struct sc_key k;

	tmsg_begin(&t, 1, name, ns_t_a, ns_r_noerror);
	tmsg_a(&t, 0, name, 300, ip);
	if (key_of(&k, name, ns_t_a) < 0 || sc_dns_parse(t.buf, t.len, &msg) < 0) {
		return -EINVAL;
	}
	return sc_cache_put(c, &k, &msg, 300, 0, NOW);
}

static int get_a(struct sc_cache *c, const char *name)
{
	unsigned char wire[SC_DNS_MAXNAME], out[512];
	struct sc_hit hit;
	struct sc_key k;

	if (key_of(&k, name, ns_t_a) < 0 || sc_dns_name_from_text(name, wire, sizeof(wire)) <= 0) {
		return -EINVAL;
	}
	return sc_cache_get(c, &k, NOW, 0, 1, wire, out, sizeof(out), &hit);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sc_cache *open_path(const char *path, int *ret)
{
	struct sc_cache_opts o = { .path = path, .max_entries = 1024, .create = true,
				   .group = (gid_t)-1 };
	struct sc_cache *c = NULL;

	*ret = sc_cache_open(&c, &o);
	return *ret == 0 ? c : NULL;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0664);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

START_TEST(test_zero_length_file_becomes_a_cache)
{
	struct sc_cache *c;
	int r;

	sc_cache_close(tc.c);
	tc.c = NULL;
	write_file(tc.path, "", 0);
	c = open_path(tc.path, &r);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(put_a(c, "a.example.com", "127.0.0.1"), 0);
	ck_assert_int_eq(get_a(c, "a.example.com"), 0);
	tc.c = c;
}
END_TEST

START_TEST(test_garbage_file_refused_cleanly)
{
	unsigned char junk[8192];
	struct sc_cache *c;
	unsigned i;
	int r;

	sc_cache_close(tc.c);
	tc.c = NULL;
	for (i = 0; i < sizeof(junk); i++) {
		junk[i] = (unsigned char)(i * 7 + 3);
	}
	write_file(tc.path, junk, sizeof(junk));
	/* Not a tdb, and not empty: never overwritten, never used. */
	c = open_path(tc.path, &r);
	ck_assert_ptr_null(c);
	ck_assert_int_lt(r, 0);
	{
		struct stat st;

		ck_assert_int_eq(stat(tc.path, &st), 0);
		ck_assert_int_eq(st.st_size, (off_t)sizeof(junk));
	}
}
END_TEST

START_TEST(test_truncated_file_no_crash)
{
	struct stat st;
	struct sc_cache *c;
	char name[64];
	int i, r, found = 0;

	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "h%d.example.com", i);
		ck_assert_int_eq(put_a(tc.c, name, "127.0.0.1"), 0);
	}
	sc_cache_close(tc.c);
	tc.c = NULL;
	ck_assert_int_eq(stat(tc.path, &st), 0);
	ck_assert_int_eq(truncate(tc.path, st.st_size / 2), 0);

	/* Either refused at open, or usable with damaged parts reading as
	 * misses; check names the damage and --repair-style deletion works. */
	c = open_path(tc.path, &r);
	if (c == NULL) {
		ck_assert_int_lt(r, 0);
		return;
	}
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "h%d.example.com", i);
		r = get_a(c, name);
		ck_assert(r == 0 || r == -ENOENT || r == -EBADMSG || r == -EIO);
		found += r == 0;
	}
	ck_assert_int_lt(found, 200);
	ck_assert_int_ne(sc_cache_check(c, false), 0);
	tc.c = c;
}
END_TEST

START_TEST(test_wrong_value_version_is_a_miss)
{
	/* A value written by a future layout (another magic) reads as a
	 * miss and is dropped, never parsed as ours. */
	struct sc_key k;
	pid_t pid;
	int status;

	ck_assert_int_eq(put_a(tc.c, "a.example.com", "127.0.0.1"), 0);
	ck_assert_int_eq(key_of(&k, "a.example.com", ns_t_a), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int flags = TDB_INCOMPATIBLE_HASH |
			    (tdb_runtime_check_for_robust_mutexes() ? TDB_MUTEX_LOCKING : 0);
		struct tdb_context *t;
		TDB_DATA key = { .dptr = k.buf, .dsize = k.len }, v;

		sc_cache_close(tc.c);
		t = tdb_open_ex(tc.path, 0, flags, O_RDWR, 0, NULL, sc_cache_tdb_hash);
		v = t ? tdb_fetch(t, key) : (TDB_DATA){ 0 };
		if (v.dptr == NULL || v.dsize < 16) {
			_exit(1);
		}
		v.dptr[8] ^= 0x0f;   /* the magic, after the checksum field */
		_exit(tdb_store(t, key, v, TDB_REPLACE) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	sc_stats_epoch_bump(sc_cache_stats(tc.c));
	ck_assert_int_eq(get_a(tc.c, "a.example.com"), -EBADMSG);
	ck_assert_int_eq(get_a(tc.c, "a.example.com"), -ENOENT);
}
END_TEST

/*
 * An agent process that takes the chain lock of `name' with its own raw
 * tdb handle and then signals readiness on a pipe and waits.
 */
static pid_t lock_agent(const char *name, int *ret_ready)
{
	int pfd[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int flags = TDB_INCOMPATIBLE_HASH |
			    (tdb_runtime_check_for_robust_mutexes() ? TDB_MUTEX_LOCKING : 0);
		struct tdb_context *t;
		struct sc_key k;
		TDB_DATA key;

		close(pfd[0]);
		sc_cache_close(tc.c);
		t = tdb_open_ex(tc.path, 0, flags, O_RDWR, 0, NULL, sc_cache_tdb_hash);
		if (t == NULL || key_of(&k, name, ns_t_a) < 0) {
			_exit(1);
		}
		key = (TDB_DATA){ .dptr = k.buf, .dsize = k.len };
		if (tdb_chainlock(t, key) != 0) {
			_exit(1);
		}
		c = 'x';
		if (write(pfd[1], &c, 1) != 1) {
			_exit(1);
		}
		for (;;) {
			pause();
		}
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	*ret_ready = pfd[0];
	return pid;
}

START_TEST(test_lock_holder_killed)
{
	int64_t t0;
	pid_t pid;
	int fd;

	ck_assert_int_eq(put_a(tc.c, "a.example.com", "127.0.0.1"), 0);
	pid = lock_agent("a.example.com", &fd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	/* Robust mutexes: the dead owner's lock is recovered, at once. */
	t0 = mono_ms();
	sc_stats_epoch_bump(sc_cache_stats(tc.c));   /* go to the file */
	ck_assert_int_eq(get_a(tc.c, "a.example.com"), 0);
	ck_assert_int_eq(put_a(tc.c, "a.example.com", "127.0.0.2"), 0);
	ck_assert_int_lt(mono_ms() - t0, 1000);
	ck_assert_int_eq(sc_cache_check(tc.c, false), 0);
}
END_TEST

START_TEST(test_lock_holder_stopped_is_bounded)
{
	int64_t t0, took;
	pid_t pid;
	int fd, r;

	ck_assert_int_eq(put_a(tc.c, "a.example.com", "127.0.0.1"), 0);
	sc_stats_epoch_bump(sc_cache_stats(tc.c));   /* no first-level copy */
	pid = lock_agent("a.example.com", &fd);
	kill(pid, SIGSTOP);
	t0 = mono_ms();
	r = get_a(tc.c, "a.example.com");
	took = mono_ms() - t0;
	ck_assert_int_eq(r, -ETIMEDOUT);
	/* Bounded: the default wait is 200 ms; allow for a busy machine. */
	ck_assert_int_ge(took, 150);
	ck_assert_int_lt(took, 2000);
	/* Other names are not held up. */
	ck_assert_int_eq(put_a(tc.c, "b.example.com", "127.0.0.2"), 0);
	ck_assert_int_eq(get_a(tc.c, "b.example.com"), 0);
	kill(pid, SIGKILL);
	kill(pid, SIGCONT);
	waitpid(pid, NULL, 0);
	close(fd);
	ck_assert_int_eq(get_a(tc.c, "a.example.com"), 0);
}
END_TEST

/* Disk full: a 64 KiB tmpfs, in a private mount namespace of a child. */
START_TEST(test_disk_full)
{
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct tmpcache small;
		struct sc_cache *c;
		char name[64];
		int i, r = 0, stored = 0;

		sc_cache_close(tc.c);
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
			_exit(77);
		}
		snprintf(small.dir, sizeof(small.dir), "%s", tc.dir);
		if (mount("tmpfs", small.dir, "tmpfs", 0, "size=96k,mode=0755") != 0) {
			_exit(77);
		}
		snprintf(small.path, sizeof(small.path), "%s/cache.tdb", small.dir);
		c = open_path(small.path, &r);
		if (c == NULL) {
			_exit(2);
		}
		for (i = 0; i < 5000; i++) {
			snprintf(name, sizeof(name), "host-number-%d.example.com", i);
			r = put_a(c, name, "127.0.0.1");
			if (r < 0) {
				break;
			}
			stored++;
		}
		/* The store fails cleanly; what is in there still answers;
		 * the file is sound. */
		if (r != -ENOSPC) {
			fprintf(stderr, "disk full: store returned %d after %d\n", r, stored);
			_exit(3);
		}
		if (stored == 0 || get_a(c, "host-number-0.example.com") != 0) {
			_exit(4);
		}
		if (sc_cache_check(c, false) != 0) {
			_exit(5);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* A process that cannot open the file read-write never reads it. */
START_TEST(test_not_writable_means_uncached)
{
	pid_t pid;
	int status;

	ck_assert_int_eq(put_a(tc.c, "a.example.com", "127.0.0.1"), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sc_cache *c;
		int r;

		sc_cache_close(tc.c);
		if (setgid(65534) != 0 || setuid(65534) != 0) {
			_exit(77);
		}
		c = open_path(tc.path, &r);
		_exit(c == NULL && r == -EACCES ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/*
 * fork() from a parent whose other threads are in the middle of lookups.
 * The messages are built before any thread starts: libresolv's
 * res_mkquery takes a global lock that glibc does not reset in a forked
 * child, so building them in the threads would deadlock the test's own
 * children (a glibc limitation that sipcache's lookup path avoids).
 */
#define NAMES 50
static volatile int stop_threads;
static struct tmsg prebuilt[NAMES + 1];
static struct sc_key prekey[NAMES + 1];

static void prebuild(void)
{
	char name[64];
	int i;

	for (i = 0; i <= NAMES; i++) {
		if (i < NAMES) {
			snprintf(name, sizeof(name), "t%d.example.com", i);
		} else {
			snprintf(name, sizeof(name), "child.example.com");
		}
		tmsg_begin(&prebuilt[i], 1, name, ns_t_a, ns_r_noerror);
		tmsg_a(&prebuilt[i], 0, name, 300, "127.0.0.1");
		ck_assert_int_eq(key_of(&prekey[i], name, ns_t_a), 0);
	}
}

static int put_pre(int i)
{
	if (sc_dns_parse(prebuilt[i].buf, prebuilt[i].len, &msg) < 0) {
		return -EINVAL;
	}
	return sc_cache_put(tc.c, &prekey[i], &msg, 300, 0, NOW);
}

static int get_pre(int i)
{
	unsigned char out[512];
	struct sc_hit hit;

	return sc_cache_get(tc.c, &prekey[i], NOW, 0, 1, prekey[i].buf, out, sizeof(out), &hit);
}

static void *lookup_thread(void *arg)
{
	int i = 0;

	(void)arg;
	while (!__atomic_load_n(&stop_threads, __ATOMIC_RELAXED)) {
		int n = i++ % NAMES;

		get_pre(n);
		if (i % 7 == 0) {
			put_pre(n);
		}
	}
	return NULL;
}

START_TEST(test_fork_from_threaded_parent)
{
	pthread_t th[4];
	int i, round;

	prebuild();
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_create(&th[i], NULL, lookup_thread, NULL), 0);
	}
	for (round = 0; round < 20; round++) {
		pid_t pid;
		int status;

		sc_cache_fork_prepare(tc.c);
		pid = fork();
		if (pid == 0) {
			sc_cache_fork_child(tc.c);
			_exit(put_pre(NAMES) == 0 && get_pre(NAMES) == 0 &&
			      get_pre(1) != -EBADF ? 0 : 1);
		}
		sc_cache_fork_parent(tc.c);
		ck_assert_int_ge(pid, 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	__atomic_store_n(&stop_threads, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
	}
	ck_assert_int_eq(get_a(tc.c, "child.example.com"), 0);
	ck_assert_int_eq(sc_cache_check(tc.c, false), 0);
}
END_TEST

/* Lookups in several processes and threads while another one flushes. */
START_TEST(test_lookups_during_flushes)
{
	pid_t kids[3];
	int i, status;

	prebuild();
	for (i = 0; i < NAMES; i++) {
		ck_assert_int_eq(put_pre(i), 0);
	}
	for (i = 0; i < 3; i++) {
		kids[i] = fork();
		ck_assert_int_ge(kids[i], 0);
		if (kids[i] == 0) {
			pthread_t th[2];
			int j;

			sc_cache_close(tc.c);
			tc.c = tmpcache_open(&tc, 1024);
			for (j = 0; j < 2; j++) {
				pthread_create(&th[j], NULL, lookup_thread, NULL);
			}
			sleep(2);
			__atomic_store_n(&stop_threads, 1, __ATOMIC_RELAXED);
			for (j = 0; j < 2; j++) {
				pthread_join(th[j], NULL);
			}
			_exit(sc_cache_check(tc.c, false) == 0 ? 0 : 1);
		}
	}
	{
		int64_t end = mono_ms() + 2000;
		int flushes = 0;

		while (mono_ms() < end) {
			ck_assert_int_ge(sc_cache_flush(tc.c), 0);
			flushes++;
		}
		ck_assert_int_gt(flushes, 3);
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	ck_assert_int_eq(sc_cache_check(tc.c, false), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("faults");
	TCase *tc_core = tcase_create("faults");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc_core, setup, teardown);
	tcase_set_timeout(tc_core, 60);
	tcase_add_test(tc_core, test_zero_length_file_becomes_a_cache);
	tcase_add_test(tc_core, test_garbage_file_refused_cleanly);
	tcase_add_test(tc_core, test_truncated_file_no_crash);
	tcase_add_test(tc_core, test_wrong_value_version_is_a_miss);
	tcase_add_test(tc_core, test_lock_holder_killed);
	tcase_add_test(tc_core, test_lock_holder_stopped_is_bounded);
	tcase_add_test(tc_core, test_disk_full);
	tcase_add_test(tc_core, test_not_writable_means_uncached);
	tcase_add_test(tc_core, test_fork_from_threaded_parent);
	tcase_add_test(tc_core, test_lookups_during_flushes);
	suite_add_tcase(s, tc_core);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * check_ctl.c - the parts of the core that exist for sipcachectl:
 * sc_cache_rebuild() and sc_cache_check(c, true) on a file whose tdb
 * structure is damaged (shim/sc_cache.c, "rebuild"), and the read-only
 * stats mapping (sc_stats_open_readonly, shim/sc_stats.c).
 *
 * Files are damaged the way a crash or a bad disk would: bytes of a tdb
 * record header overwritten in place, a header whose version is wrong, an
 * empty file; and a file that is no cache at all.  Every rebuilt file is
 * checked entry by entry (the answers served from it, byte for byte, with
 * their remaining lifetimes), for its owner and mode, and for what it must
 * not contain.  And the man pages of the tool and the file: every key the
 * parser accepts and every command are documented.
 */
#include <arpa/nameser.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../shim/sc.h"
#include "helpers/testmsg.h"
#include "helpers/tmpcache.h"

#define NOW 1800000000
#define NAMES 12

static struct tmpcache tc;
static struct sc_msg msg;

/*
 * tdb 1.4.8's tdb_rescue() does not free its table of the records it
 * found when it succeeds (lib/tdb/common/rescue.c): not ours to fix, and
 * LeakSanitizer's verdict on our own code is kept for everything else.
 * (Default visibility: the sanitizer runtime looks it up dynamically.)
 */
const char *__lsan_default_suppressions(void) __attribute__((visibility("default")));
const char *__lsan_default_suppressions(void)
{
	return "leak:tdb_rescue\n";
}

const char *__lsan_default_options(void) __attribute__((visibility("default")));
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

static void setup(void)
{
	tmpcache_new(&tc, 1024);
}

static void teardown(void)
{
	tmpcache_free(&tc);
}

static void name_of(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "host%u.example.com", i);
}

static void key_of(struct sc_key *k, const char *name, uint16_t type)
{
	unsigned char wire[SC_DNS_MAXNAME];

	ck_assert_int_gt(sc_dns_name_from_text(name, wire, sizeof(wire)), 0);
	ck_assert_int_eq(sc_key_make(k, wire, type, ns_c_in), 0);
}

/* The answer stored for host<i>: A 127.0.0.<i+1>, TTL 300. */
static void answer_of(struct tmsg *t, unsigned i)
{
	char name[64], ip[32];

	name_of(name, sizeof(name), i);
	snprintf(ip, sizeof(ip), "127.0.0.%u", i + 1);
	tmsg_begin(t, (uint16_t)(0x100 + i), name, ns_t_a, ns_r_noerror);
	tmsg_a(t, 0, name, 300, ip);
}

static void fill(struct sc_cache *c)
{
	struct tmsg t;
	struct sc_key k;
	char name[64];
	unsigned i;

	for (i = 0; i < NAMES; i++) {
		name_of(name, sizeof(name), i);
		answer_of(&t, i);
		key_of(&k, name, ns_t_a);
		ck_assert_int_eq(sc_dns_parse(t.buf, t.len, &msg), 0);
		/* Stored at different times: remaining lifetimes differ. */
		ck_assert_int_eq(sc_cache_put(c, &k, &msg, 300, 0, NOW - (int64_t)i), 0);
	}
	ck_assert_int_eq(sc_cache_put_internal(c, "mark", 4, "down-until", 10), 0);
}

/* host<i> served from `c' at NOW+10: the stored answer with ID 7 and TTL
 * 300 - i - 10, byte for byte; -ENOENT when absent. */
static int expect_served(struct sc_cache *c, unsigned i)
{
	unsigned char out[512], wire[SC_DNS_MAXNAME];
	struct sc_hit hit;
	struct tmsg t;
	struct sc_key k;
	char name[64];
	int r;

	name_of(name, sizeof(name), i);
	key_of(&k, name, ns_t_a);
	ck_assert_int_gt(sc_dns_name_from_text(name, wire, sizeof(wire)), 0);
	r = sc_cache_get(c, &k, NOW + 10, 0, 7, wire, out, sizeof(out), &hit);
	if (r < 0) {
		return r;
	}
	answer_of(&t, i);
	ck_assert_uint_eq(hit.len, t.len);
	ck_assert_uint_eq(hit.remaining, 300 - i - 10);
	ck_assert_int_eq(sc_dns_parse(out, hit.written, &msg), 0);
	ck_assert_uint_eq(msg.id, 7);
	ck_assert_uint_eq(msg.rr[0].ttl, 300 - i - 10);
	/* Apart from ID and TTL, what was stored. */
	ck_assert_mem_eq(out + 2, t.buf + 2, msg.rr[0].ttl_off - 2);
	ck_assert_mem_eq(out + msg.rr[0].ttl_off + 4, t.buf + msg.rr[0].ttl_off + 4,
			 t.len - msg.rr[0].ttl_off - 4);
	return 0;
}

/* Overwrite `len' bytes at `off' from the first occurrence of the key of
 * host<i> in the file (the tdb key; the stored question comes after it),
 * checking what was there when `expect' is given. */
static void poke_near_key(const char *path, unsigned i, long off, const void *bytes,
			  size_t len, const void *expect)
{
	struct sc_key k;
	char name[64];
	unsigned char *data, old[16];
	struct stat st;
	long at = -1, p;
	int fd;

	name_of(name, sizeof(name), i);
	key_of(&k, name, ns_t_a);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	data = malloc((size_t)st.st_size);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(pread(fd, data, (size_t)st.st_size, 0), st.st_size);
	for (p = 0; p + (long)k.len <= st.st_size; p++) {
		if (memcmp(data + p, k.buf, k.len) == 0) {
			at = p;
			break;
		}
	}
	free(data);
	ck_assert_int_ge(at, 0);
	if (expect) {
		ck_assert_int_eq(pread(fd, old, len, at + off), (ssize_t)len);
		ck_assert_mem_eq(old, expect, len);
	}
	ck_assert_int_eq(pwrite(fd, bytes, len, at + off), (ssize_t)len);
	close(fd);
}

/* tdb's record header ends with its magic, just before the key. */
static void break_record_magic(const char *path, unsigned i)
{
	static const unsigned char magic[4] = { 0x99, 0x19, 0x01, 0x26 }; /* 0x26011999 */
	static const unsigned char junk[4] = { 0xde, 0xad, 0xbe, 0xef };

	poke_near_key(path, i, -4, junk, sizeof(junk), magic);
}

static ino_t inode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_ino;
}

static struct sc_cache_opts opts(void)
{
	return (struct sc_cache_opts){ .path = tc.path, .max_entries = 1024, .group = (gid_t)-1 };
}

static char mark[32];

static size_t get_mark(struct sc_cache *c)
{
	size_t len = 0;

	memset(mark, 0, sizeof(mark));
	if (sc_cache_get_internal(c, "mark", 4, mark, sizeof(mark), &len) < 0) {
		return 0;
	}
	return len;
}

/* ------------------------------------------------------------------ */

START_TEST(test_rebuild_of_a_sound_file_keeps_everything)
{
	struct sc_cache_opts o = opts();
	unsigned kept = 99, dropped = 99, i;
	ino_t before;

	fill(tc.c);
	sc_cache_close(tc.c);
	tc.c = NULL;
	ck_assert_int_eq(chmod(tc.path, 0660), 0);
	before = inode_of(tc.path);

	ck_assert_int_eq(sc_cache_rebuild(&o, &kept, &dropped), 0);
	ck_assert_uint_eq(kept, NAMES + 1);   /* and the mark */
	ck_assert_uint_eq(dropped, 0);
	ck_assert_uint_ne(inode_of(tc.path), before);
	{
		struct stat st;

		ck_assert_int_eq(stat(tc.path, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0660);  /* as the old one */
		ck_assert_uint_eq(st.st_uid, geteuid());
	}
	tc.c = tmpcache_open(&tc, 1024);
	ck_assert_int_eq(sc_cache_check(tc.c, false), 0);
	for (i = 0; i < NAMES; i++) {
		ck_assert_int_eq(expect_served(tc.c, i), 0);
	}
	ck_assert_uint_eq(get_mark(tc.c), 10);
	ck_assert_str_eq(mark, "down-until");
}
END_TEST

START_TEST(test_rebuild_of_a_broken_structure_keeps_the_good_records)
{
	struct sc_cache_opts o = opts();
	unsigned kept = 0, dropped = 0, i;
	int r;

	fill(tc.c);
	break_record_magic(tc.path, 5);
	ck_assert_int_eq(sc_cache_check(tc.c, false), -EBADMSG);
	/* This process has it open: rebuilding by path is refused. */
	ck_assert_int_eq(sc_cache_rebuild(&o, &kept, &dropped), -EBUSY);
	sc_cache_close(tc.c);
	tc.c = NULL;

	r = sc_cache_rebuild(&o, &kept, &dropped);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(kept, NAMES);   /* all but host5, and the mark */
	tc.c = tmpcache_open(&tc, 1024);
	ck_assert_int_eq(sc_cache_check(tc.c, false), 0);
	for (i = 0; i < NAMES; i++) {
		ck_assert_int_eq(expect_served(tc.c, i), i == 5 ? -ENOENT : 0);
	}
	ck_assert_uint_eq(get_mark(tc.c), 10);
	ck_assert_int_eq(sc_cache_recount(tc.c), 0);
	{
		struct sc_stats_snapshot s;

		sc_stats_read(sc_cache_stats(tc.c), &s);
		ck_assert_int_eq(s.entries, NAMES - 1);
	}
}
END_TEST

START_TEST(test_rebuild_drops_records_that_fail_their_checksum)
{
	struct sc_cache_opts o = opts();
	unsigned kept = 0, dropped = 0, i;
	unsigned char flip = 0x7f;

	fill(tc.c);
	sc_cache_close(tc.c);
	tc.c = NULL;
	/* The last byte of host3's stored answer (its address): the record
	 * itself stays a valid tdb record, its checksum fails. */
	{
		struct sc_key k;

		key_of(&k, "host3.example.com", ns_t_a);
		/* Key, then the value: header (32 bytes), one TTL offset, the
		 * message (12 + question 23 + answer 16 bytes). */
		poke_near_key(tc.path, 3, (long)k.len + 32 + 2 + 50, &flip, 1, NULL);
	}
	ck_assert_int_eq(sc_cache_rebuild(&o, &kept, &dropped), 0);
	ck_assert_uint_eq(kept, NAMES);
	ck_assert_uint_eq(dropped, 1);
	tc.c = tmpcache_open(&tc, 1024);
	for (i = 0; i < NAMES; i++) {
		ck_assert_int_eq(expect_served(tc.c, i), i == 3 ? -ENOENT : 0);
	}
}
END_TEST

START_TEST(test_check_repair_rebuilds_and_the_handle_follows)
{
	unsigned i;
	ino_t before;
	int r;

	fill(tc.c);
	before = inode_of(tc.path);
	break_record_magic(tc.path, 2);
	ck_assert_int_eq(sc_cache_check(tc.c, false), -EBADMSG);
	r = sc_cache_check(tc.c, true);
	ck_assert_int_ge(r, 1);
	ck_assert_uint_ne(inode_of(tc.path), before);
	/* The same handle now reads and writes the new file. */
	ck_assert_int_eq(sc_cache_check(tc.c, false), 0);
	for (i = 0; i < NAMES; i++) {
		ck_assert_int_eq(expect_served(tc.c, i), i == 2 ? -ENOENT : 0);
	}
	ck_assert_uint_eq(get_mark(tc.c), 10);
	{
		struct sc_stats_snapshot s;

		sc_stats_read(sc_cache_stats(tc.c), &s);
		ck_assert_int_eq(s.entries, NAMES - 1);   /* recounted */
	}
	/* Another handle (another process) sees what this one stores. */
	{
		struct tmsg t;
		struct sc_key k;
		pid_t pid;
		int status;

		answer_of(&t, 2);
		key_of(&k, "host2.example.com", ns_t_a);
		ck_assert_int_eq(sc_dns_parse(t.buf, t.len, &msg), 0);
		ck_assert_int_eq(sc_cache_put(tc.c, &k, &msg, 300, 0, NOW - 2), 0);
		pid = fork();
		if (pid == 0) {
			struct sc_cache *c2;
			struct sc_cache_opts o = opts();

			/* Another process's handle: tdb refuses a second open
			 * of the file while the inherited one is there. */
			sc_cache_close(tc.c);
			_exit(sc_cache_open(&c2, &o) == 0 && expect_served(c2, 2) == 0 ? 0 : 1);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}
END_TEST

START_TEST(test_rebuild_of_unopenable_files)
{
	struct sc_cache_opts o = opts();
	unsigned kept = 99, dropped = 99;
	static const unsigned char zero[4];
	int fd;

	fill(tc.c);
	sc_cache_close(tc.c);
	tc.c = NULL;
	/* The version word after tdb's 32-byte magic field. */
	fd = open(tc.path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, zero, sizeof(zero), 32), 4);
	close(fd);
	{
		struct sc_cache *c;

		ck_assert_int_lt(sc_cache_open(&c, &o), 0);
	}
	ck_assert_int_eq(sc_cache_rebuild(&o, &kept, &dropped), 0);
	ck_assert_uint_eq(kept, 0);
	ck_assert_uint_eq(dropped, 0);
	tc.c = tmpcache_open(&tc, 1024);
	ck_assert_int_eq(sc_cache_check(tc.c, false), 0);
	ck_assert_int_eq(expect_served(tc.c, 0), -ENOENT);
	sc_cache_close(tc.c);
	tc.c = NULL;

	/* Empty. */
	fd = open(tc.path, O_RDWR | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(sc_cache_rebuild(&o, &kept, &dropped), 0);
	tc.c = tmpcache_open(&tc, 1024);
	ck_assert_int_eq(sc_cache_check(tc.c, false), 0);
}
END_TEST

START_TEST(test_rebuild_never_replaces_a_foreign_file)
{
	struct sc_cache_opts o = opts();
	static const char text[] = "127.0.0.1 localhost\n";
	char buf[64];
	struct stat a, b;
	unsigned kept = 99;
	int fd;

	sc_cache_close(tc.c);
	tc.c = NULL;
	fd = open(tc.path, O_RDWR | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	ck_assert_int_eq(stat(tc.path, &a), 0);
	ck_assert_int_eq(sc_cache_rebuild(&o, &kept, NULL), -ENOTRECOVERABLE);
	ck_assert_uint_eq(kept, 99);
	ck_assert_int_eq(stat(tc.path, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	fd = open(tc.path, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(text) - 1);
	close(fd);
	ck_assert_mem_eq(buf, text, sizeof(text) - 1);

	/* Missing, a directory, a symbolic link: not ours to replace. */
	ck_assert_int_eq(unlink(tc.path), 0);
	ck_assert_int_eq(sc_cache_rebuild(&o, NULL, NULL), -ENOENT);
	ck_assert_int_eq(symlink("/etc/hosts", tc.path), 0);
	ck_assert_int_eq(sc_cache_rebuild(&o, NULL, NULL), -EPERM);
	ck_assert_int_eq(unlink(tc.path), 0);
	o.path = "relative/cache.tdb";
	ck_assert_int_eq(sc_cache_rebuild(&o, NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(test_rebuild_keeps_the_owner_or_changes_nothing)
{
	struct sc_cache_opts o = opts();
	struct stat a, b;
	char dir[128];
	int n = 0;

	if (geteuid() != 0) {
		return;   /* chown to another user needs root */
	}
	fill(tc.c);
	sc_cache_close(tc.c);
	tc.c = NULL;
	/* Owned by another user: a new file with that owner is not one
	 * this process would trust, so nothing is replaced. */
	ck_assert_int_eq(chown(tc.path, 65534, 0), 0);
	ck_assert_int_eq(stat(tc.path, &a), 0);
	ck_assert_int_eq(sc_cache_rebuild(&o, NULL, NULL), -EPERM);
	ck_assert_int_eq(stat(tc.path, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	ck_assert_uint_eq(b.st_uid, 65534);
	/* No temporary file left behind. */
	{
		char cmd[256];
		FILE *p;

		snprintf(dir, sizeof(dir), "%s", tc.dir);
		snprintf(cmd, sizeof(cmd), "ls -A %s | grep -c rebuild", dir);
		p = popen(cmd, "r");
		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(fscanf(p, "%d", &n), 1);
		pclose(p);
	}
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(chown(tc.path, 0, 0), 0);
}
END_TEST

static int sentinel;

START_TEST(test_stats_read_only)
{
	struct sc_stats *ro = NULL;
	struct sc_stats_snapshot w, r;
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s.stats", tc.path);
	sc_stats_inc(sc_cache_stats(tc.c), SC_STAT_HITS);
	sc_stats_inc(sc_cache_stats(tc.c), SC_STAT_HITS);
	sc_stats_inc_type(sc_cache_stats(tc.c), ns_t_srv, false);
	sc_stats_set_gauge(sc_cache_stats(tc.c), 7, 700);

	ck_assert_int_eq(sc_stats_open_readonly(&ro, path, (gid_t)-1), 0);
	sc_stats_read(sc_cache_stats(tc.c), &w);
	sc_stats_read(ro, &r);
	ck_assert_mem_eq(&w, &r, sizeof(w));
	ck_assert_uint_eq(r.c[SC_STAT_HITS], 2);
	ck_assert_uint_eq(r.type_misses[SC_STYPE_SRV], 1);
	ck_assert_int_eq(r.entries, 7);
	/* Live: a writer's increment shows through the read-only map. */
	sc_stats_inc(sc_cache_stats(tc.c), SC_STAT_MISSES);
	sc_stats_read(ro, &r);
	ck_assert_uint_eq(r.c[SC_STAT_MISSES], 1);
	sc_stats_close(ro);

	/* A file the open cannot write: readable all the same. */
	ck_assert_int_eq(chmod(path, 0444), 0);
	ck_assert_int_eq(sc_stats_open_readonly(&ro, path, (gid_t)-1), 0);
	sc_stats_close(ro);
	ck_assert_int_eq(chmod(path, 0644), 0);

	/* Missing, short (another layout), not trusted. */
	ro = (struct sc_stats *)&sentinel;   /* untouched on failure */
	ck_assert_int_eq(sc_stats_open_readonly(&ro, "/nonexistent/x.stats", (gid_t)-1), -ENOENT);
	ck_assert_ptr_eq(ro, (struct sc_stats *)&sentinel);
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "SCS2", 4), 4);
	close(fd);
	ck_assert_int_eq(sc_stats_open_readonly(&ro, path, (gid_t)-1), -EBADMSG);
	ck_assert_int_eq(chmod(path, 0666), 0);
	ck_assert_int_eq(sc_stats_open_readonly(&ro, path, (gid_t)-1), -EPERM);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the man pages                                                       */

static char *read_page(const char *rel)
{
	const char *dir = getenv("SC_SRCDIR");
	char path[PATH_MAX];
	struct stat st;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : ".", rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "cannot open %s (run from the top of the tree or set SC_SRCDIR)",
		      path);
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = calloc(1, (size_t)st.st_size + 2);
	ck_assert_ptr_nonnull(buf);
	buf[0] = '\n';   /* every line, the first too, follows a newline */
	ck_assert_int_eq(read(fd, buf + 1, (size_t)st.st_size), st.st_size);
	close(fd);
	return buf;
}

/* Every key the parser accepts has its own entry in sipcache.conf(5),
 * and so do both environment variables. */
START_TEST(test_conf_page_lists_every_key)
{
	char *page = read_page("docs/sipcache.conf.5"), want[128];
	unsigned i;

	for (i = 0; sc_conf_key(i) != NULL; i++) {
		snprintf(want, sizeof(want), "\n.BI %s \" = ", sc_conf_key(i));
		ck_assert_msg(strstr(page, want) != NULL, "sipcache.conf(5) lacks key %s",
			      sc_conf_key(i));
	}
	ck_assert_uint_ge(i, 20);
	ck_assert_ptr_nonnull(strstr(page, "\n.BI SIPCACHE_CONF= path\n"));
	ck_assert_ptr_nonnull(strstr(page, "\n.B SIPCACHE_DISABLE=1\n"));
	ck_assert_ptr_nonnull(strstr(page, "secure\\-execution mode"));
	free(page);
}
END_TEST

START_TEST(test_ctl_page_lists_every_command)
{
	static const char *const commands[] = {
		"flush", "stats", "dump", "get", "check", "resolve", "enum", "serves", "down", "up",
	};
	static const char *const sections[] = {
		"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "EXIT STATUS",
		"ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO",
	};
	char *page = read_page("ctl/sipcachectl.8"), want[64];
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(commands); i++) {
		snprintf(want, sizeof(want), "\n.TP\n.BR %s ", commands[i]);
		ck_assert_msg(strstr(page, want) != NULL, "sipcachectl(8) lacks %s", commands[i]);
	}
	for (i = 0; i < SC_ARRAY_SIZE(sections); i++) {
		snprintf(want, sizeof(want), "\n.SH %s\n", sections[i]);
		ck_assert_msg(strstr(page, want) != NULL, "sipcachectl(8) lacks %s", sections[i]);
	}
	free(page);
	page = read_page("docs/sipcache.7");
	ck_assert_ptr_nonnull(strstr(page, "\nhosts: files sipcache dns\n"));
	ck_assert_ptr_nonnull(strstr(page, "\nEnvironment=LD_PRELOAD=libsipcache\\-preload.so\n"));
	ck_assert_ptr_nonnull(strstr(page, "\nSupplementaryGroups=sipcache\n"));
	ck_assert_ptr_nonnull(strstr(page, "\n.SH SECURITY\n"));
	free(page);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc_rebuild = tcase_create("rebuild");
	TCase *tc_stats = tcase_create("stats");
	TCase *tc_docs = tcase_create("docs");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc_rebuild, setup, teardown);
	tcase_set_timeout(tc_rebuild, 30);
	tcase_add_test(tc_rebuild, test_rebuild_of_a_sound_file_keeps_everything);
	tcase_add_test(tc_rebuild, test_rebuild_of_a_broken_structure_keeps_the_good_records);
	tcase_add_test(tc_rebuild, test_rebuild_drops_records_that_fail_their_checksum);
	tcase_add_test(tc_rebuild, test_check_repair_rebuilds_and_the_handle_follows);
	tcase_add_test(tc_rebuild, test_rebuild_of_unopenable_files);
	tcase_add_test(tc_rebuild, test_rebuild_never_replaces_a_foreign_file);
	tcase_add_test(tc_rebuild, test_rebuild_keeps_the_owner_or_changes_nothing);
	suite_add_tcase(s, tc_rebuild);
	tcase_add_checked_fixture(tc_stats, setup, teardown);
	tcase_add_test(tc_stats, test_stats_read_only);
	suite_add_tcase(s, tc_stats);
	tcase_add_test(tc_docs, test_conf_page_lists_every_key);
	tcase_add_test(tc_docs, test_ctl_page_lists_every_command);
	suite_add_tcase(s, tc_docs);

	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

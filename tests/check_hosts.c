/*
 * check_hosts.c - the hosts file module (shim/sc_hosts.c).
 *
 * Four groups:
 *   parse   semantics on buffers, whole answers compared as text in
 *           getent's format (see helpers/hosts_glibc.h);
 *   file    reading, change detection, throttling, failures;
 *   scale   a 100k-line file;
 *   glibc   our answers against glibc's for the same file, in a private
 *           mount namespace (root): getent (the public path: gethostbyname2,
 *           getaddrinfo, gethostbyaddr) on every fixture, and nss_files'
 *           own entry points in-process, exact order, on the fixtures and
 *           on randomly generated files; host.conf `multi' on and off.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../shim/sc.h"
#include "helpers/hosts_glibc.h"

#ifndef FIXTURE_DIR
#define FIXTURE_DIR "tests/fixtures/hosts"
#endif

static char tmpdir[64];
static char hpath[128];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_hosts.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(hpath, sizeof(hpath), "%s/hosts", tmpdir);
	sc_log_setup(SC_LOG_OFF, LOG_ERR);
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	if (d == NULL) {
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (unlink(p) < 0) {
			rm_tree(p);
		}
	}
	closedir(d);
	rmdir(dir);
}

static void teardown(void)
{
	rm_tree(tmpdir);
}

/* --- small helpers --------------------------------------------------- */

static struct sc_hosts *parse(const char *text)
{
	struct sc_hosts *h = (struct sc_hosts *)0x1;

	ck_assert_int_eq(sc_hosts_parse_buf(&h, text, strlen(text)), 0);
	ck_assert_ptr_nonnull(h);
	return h;
}

static struct sc_hosts *parse_len(const char *text, size_t len)
{
	struct sc_hosts *h = NULL;

	ck_assert_int_eq(sc_hosts_parse_buf(&h, text, len), 0);
	return h;
}

/*
 * Expected text: pairs (address, "name alias...") up to NULL, each line
 * formatted "%-15s %s\n" as getent's print_hosts() does.
 */
static char *lines(const char *addr, ...)
{
	static char buf[8][4096];
	static unsigned which;
	char *out = buf[which++ % 8];
	size_t n = 0;
	va_list ap;

	out[0] = '\0';
	va_start(ap, addr);
	for (const char *a = addr; a != NULL; a = va_arg(ap, const char *)) {
		const char *rest = va_arg(ap, const char *);

		n += (size_t)snprintf(out + n, 4096 - n, "%-15s %s\n", a, rest);
	}
	va_end(ap);
	return out;
}

/* Our answer as text ("" when not found: check the return value too). */
static int q(struct sc_hosts *h, const char *name, int af, bool multi,
	     char *out, size_t outlen)
{
	struct hstr s = { 0 };
	int r = hosts_text_ours(h, name, af, multi, &s);

	snprintf(out, outlen, "%s", s.p ? s.p : "");
	hstr_free(&s);
	return r;
}

static int qa(struct sc_hosts *h, int af, const char *addr, char *out,
	      size_t outlen)
{
	unsigned char a[16];
	struct hstr s = { 0 };
	int r;

	ck_assert_int_eq(inet_pton(af, addr, a), 1);
	r = hosts_text_ours_addr(h, af, a, &s);
	snprintf(out, outlen, "%s", s.p ? s.p : "");
	hstr_free(&s);
	return r;
}

#define CHECK_NAME(h, name, af, multi, expect)                                 \
	do {                                                                   \
		char got_[8192];                                               \
		ck_assert_int_eq(q((h), (name), (af), (multi), got_, sizeof(got_)), 0); \
		ck_assert_str_eq(got_, (expect));                              \
	} while (0)

#define CHECK_NONAME(h, name, af, multi)                                       \
	do {                                                                   \
		char got_[8192];                                               \
		ck_assert_int_eq(q((h), (name), (af), (multi), got_, sizeof(got_)), -ENOENT); \
	} while (0)

#define CHECK_ADDR(h, af, addr, expect)                                        \
	do {                                                                   \
		char got_[8192];                                               \
		ck_assert_int_eq(qa((h), (af), (addr), got_, sizeof(got_)), 0); \
		ck_assert_str_eq(got_, (expect));                              \
	} while (0)

#define CHECK_NOADDR(h, af, addr)                                              \
	do {                                                                   \
		char got_[8192];                                               \
		ck_assert_int_eq(qa((h), (af), (addr), got_, sizeof(got_)), -ENOENT); \
	} while (0)

static const int all_af[] = { AF_INET, AF_INET6, AF_UNSPEC };

/* Not found under any family, with or without multi. */
static void check_absent(struct sc_hosts *h, const char *name)
{
	for (size_t i = 0; i < SC_ARRAY_SIZE(all_af); i++) {
		CHECK_NONAME(h, name, all_af[i], false);
		CHECK_NONAME(h, name, all_af[i], true);
	}
}

/* --- parse ----------------------------------------------------------- */

START_TEST(test_first_line_wins)
{
	struct sc_hosts *h = parse("10.0.0.1 pbx.example pbx\n"
				   "10.0.0.2 pbx.example pbx2\n");

	CHECK_NAME(h, "pbx", AF_INET, false,
		   lines("10.0.0.1", "pbx.example pbx", NULL));
	CHECK_NAME(h, "pbx2", AF_INET, false,
		   lines("10.0.0.2", "pbx.example pbx2", NULL));
	/* multi: addresses of every line, aliases appended, the same name
	 * not repeated. */
	CHECK_NAME(h, "pbx.example", AF_INET, true,
		   lines("10.0.0.1", "pbx.example pbx pbx2",
			 "10.0.0.2", "pbx.example pbx pbx2", NULL));
	CHECK_NAME(h, "pbx.example", AF_UNSPEC, true,
		   lines("10.0.0.1", "pbx.example", "10.0.0.2", "", NULL));
	CHECK_NAME(h, "pbx.example", AF_UNSPEC, false,
		   lines("10.0.0.1", "pbx.example", NULL));
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_case_insensitive)
{
	struct sc_hosts *h = parse("10.0.0.1 PBX.example Alias\n"
				   "10.0.0.2 pbx.EXAMPLE other\n");

	/* Matched in any case; answered in the file's spelling. */
	CHECK_NAME(h, "pbx.example", AF_INET, false,
		   lines("10.0.0.1", "PBX.example Alias", NULL));
	CHECK_NAME(h, "ALIAS", AF_INET, false,
		   lines("10.0.0.1", "PBX.example Alias", NULL));
	/* multi compares the names case-sensitively (strcmp) when deciding
	 * whether a further line's name becomes an alias. */
	CHECK_NAME(h, "Pbx.Example", AF_INET, true,
		   lines("10.0.0.1", "PBX.example Alias other pbx.EXAMPLE",
			 "10.0.0.2", "PBX.example Alias other pbx.EXAMPLE", NULL));
	CHECK_NONAME(h, "pbx.example.", AF_INET, false);
	CHECK_NONAME(h, "pbx", AF_INET, false);
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_multi_aliases_like_glibc)
{
	/* gethostbyname3_multi: first line's aliases, then for each further
	 * line all its aliases (duplicates kept) and its name if different. */
	struct sc_hosts *h = parse("10.0.0.1 a.example x y\n"
				   "10.0.0.9 unrelated.example\n"
				   "10.0.0.2 b.example a.example x\n"
				   "10.0.0.3 a.example y\n");

	CHECK_NAME(h, "a.example", AF_INET, true,
		   lines("10.0.0.1", "a.example x y a.example x b.example y",
			 "10.0.0.2", "a.example x y a.example x b.example y",
			 "10.0.0.3", "a.example x y a.example x b.example y",
			 NULL));
	CHECK_NAME(h, "x", AF_INET, true,
		   lines("10.0.0.1", "a.example x y a.example x b.example",
			 "10.0.0.2", "a.example x y a.example x b.example",
			 NULL));
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_family_views)
{
	struct sc_hosts *h = parse("10.0.0.1 h\n"
				   "2001:db8::1 h h6\n"
				   "::ffff:10.0.0.3 h\n"
				   "::1 h\n"
				   "fe80::1 h\n");

	/* AF_INET: v4-mapped and ::1 lines answer as IPv4, other IPv6 lines
	 * do not exist. */
	CHECK_NAME(h, "h", AF_INET, true,
		   lines("10.0.0.1", "h", "10.0.0.3", "h", "127.0.0.1", "h", NULL));
	CHECK_NONAME(h, "h6", AF_INET, true);
	/* AF_INET6: IPv4 lines do not exist (no mapping). */
	CHECK_NAME(h, "h", AF_INET6, true,
		   lines("2001:db8::1", "h h6", "::ffff:10.0.0.3", "h h6",
			 "::1", "h h6", "fe80::1", "h h6", NULL));
	CHECK_NAME(h, "h", AF_INET6, false, lines("2001:db8::1", "h h6", NULL));
	/* AF_UNSPEC (gethostbyname4_r): every line, its own family. */
	CHECK_NAME(h, "h", AF_UNSPEC, true,
		   lines("10.0.0.1", "h", "2001:db8::1", "", "::ffff:10.0.0.3", "",
			 "::1", "", "fe80::1", "", NULL));
	CHECK_NAME(h, "h6", AF_UNSPEC, true, lines("2001:db8::1", "h", NULL));
	sc_hosts_close(h);

	h = parse("::1 lo\n127.0.0.1 lo x\n");
	CHECK_NAME(h, "lo", AF_INET, false, lines("127.0.0.1", "lo", NULL));
	CHECK_NAME(h, "lo", AF_UNSPEC, false, lines("::1", "lo", NULL));
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_result_fields)
{
	struct sc_hosts *h = parse("192.0.2.1 a.example b c\n2001:db8::5 a.example\n");
	struct sc_hosts_result r;
	static const unsigned char v4[4] = { 192, 0, 2, 1 };
	unsigned char v6[16];

	memset(&r, 0xa5, sizeof(r));
	ck_assert_int_eq(sc_hosts_by_name(h, "A.EXAMPLE", AF_UNSPEC, true, &r), 0);
	ck_assert_str_eq(r.name, "a.example");
	ck_assert_uint_eq(r.naddr, 2);
	ck_assert_int_eq(r.addr[0].family, AF_INET);
	ck_assert_mem_eq(r.addr[0].addr, v4, 4);
	for (int i = 4; i < 16; i++) {
		ck_assert_uint_eq(r.addr[0].addr[i], 0);
	}
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::5", v6), 1);
	ck_assert_int_eq(r.addr[1].family, AF_INET6);
	ck_assert_mem_eq(r.addr[1].addr, v6, 16);
	ck_assert_uint_eq(r.naliases, 2);
	ck_assert_str_eq(r.aliases[0], "b");
	ck_assert_str_eq(r.aliases[1], "c");

	/* Lookups make no syscall and leave errno alone. */
	errno = 4242;
	ck_assert_int_eq(sc_hosts_by_name(h, "b", AF_INET, false, &r), 0);
	ck_assert_int_eq(sc_hosts_by_name(h, "nope", AF_INET, false, &r), -ENOENT);
	ck_assert_int_eq(sc_hosts_by_addr(h, AF_INET, v4, &r), 0);
	ck_assert_int_eq(errno, 4242);

	ck_assert_int_eq(sc_hosts_by_name(h, "b", AF_UNIX, false, &r), -EAFNOSUPPORT);
	ck_assert_int_eq(sc_hosts_by_addr(h, AF_UNIX, v4, &r), -EAFNOSUPPORT);
	sc_hosts_close(h);
	sc_hosts_close(NULL);
}
END_TEST

START_TEST(test_by_addr)
{
	struct sc_hosts *h = parse("::1 foo\n"
				   "127.0.0.1 bar\n"
				   "10.0.0.1 a x\n"
				   "10.0.0.1 b\n"
				   "::ffff:10.0.0.1 c\n"
				   "::ffff:10.0.0.5 m\n"
				   "10.0.0.5 n\n"
				   "2001:DB8::1 v6 v6b\n"
				   "2001:db8::1 v6later\n");

	/* First line wins; an AF_INET query also sees ::1 (as 127.0.0.1)
	 * and v4-mapped lines, as nss_files reads lines for AF_INET. */
	CHECK_ADDR(h, AF_INET, "127.0.0.1", lines("127.0.0.1", "foo", NULL));
	CHECK_ADDR(h, AF_INET6, "::1", lines("::1", "foo", NULL));
	CHECK_ADDR(h, AF_INET, "10.0.0.1", lines("10.0.0.1", "a x", NULL));
	CHECK_ADDR(h, AF_INET6, "::ffff:10.0.0.1", lines("::ffff:10.0.0.1", "c", NULL));
	CHECK_ADDR(h, AF_INET, "10.0.0.5", lines("10.0.0.5", "m", NULL));
	CHECK_ADDR(h, AF_INET6, "2001:db8::1", lines("2001:db8::1", "v6 v6b", NULL));
	/* An IPv6 query never sees IPv4 lines. */
	CHECK_NOADDR(h, AF_INET6, "::ffff:127.0.0.1");
	CHECK_NOADDR(h, AF_INET6, "::ffff:10.0.0.9");
	CHECK_NOADDR(h, AF_INET, "10.0.0.2");
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_malformed_lines_skipped)
{
	static const char *const bad[] = {
		"1.2.3 short.example",          /* inet_aton shorthand */
		"01.2.3.4 leadingzero.example", /* inet_pton: no leading 0 */
		"0x7f.0.0.1 hex.example",
		"10.0.0.256 big.example",
		"1.2.3.4.5 five.example",
		"10.0.0.1/24 cidr.example",
		"fe80::1%lo zone.example",      /* no zone index */
		"2001:db8::g badv6.example",
		"[2001:db8::1] bracket.example",
		"localhost name.example",
		"::ffff:1.2.3 badmapped.example",
	};
	struct hstr s = { 0 };
	struct sc_hosts *h;

	for (size_t i = 0; i < SC_ARRAY_SIZE(bad); i++) {
		hstr_add(&s, "%s\n10.0.0.%zu good%zu\n", bad[i], i + 1, i);
	}
	h = parse(s.p);
	for (size_t i = 0; i < SC_ARRAY_SIZE(bad); i++) {
		char name[64], addr[32];

		sscanf(strchr(bad[i], ' ') + 1, "%63s", name);
		check_absent(h, name);
		snprintf(name, sizeof(name), "good%zu", i);
		snprintf(addr, sizeof(addr), "10.0.0.%zu", i + 1);
		CHECK_NAME(h, name, AF_INET, true, lines(addr, name, NULL));
	}
	hstr_free(&s);
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_comments_and_whitespace)
{
	struct sc_hosts *h = parse("# 10.0.0.99 commented.example\n"
				   "   # 10.0.0.98 indented-comment.example\n"
				   "\n"
				   " \t \n"
				   "10.0.0.1 a # b\n"
				   "10.0.0.2 c#d e\n"
				   "10.0.0.3#f\n"
				   "\t 10.0.0.4\t\tg\t h \n"
				   "10.0.0.5\vvt\fff\n"
				   "10.0.0.6 #only.example\n");

	check_absent(h, "commented.example");
	check_absent(h, "indented-comment.example");
	check_absent(h, "b");
	check_absent(h, "d");
	check_absent(h, "e");
	check_absent(h, "f");
	check_absent(h, "only.example");
	CHECK_NAME(h, "a", AF_INET, true, lines("10.0.0.1", "a", NULL));
	CHECK_NAME(h, "c", AF_INET, true, lines("10.0.0.2", "c", NULL));
	CHECK_NAME(h, "h", AF_INET, true, lines("10.0.0.4", "g h", NULL));
	CHECK_NAME(h, "ff", AF_INET, true, lines("10.0.0.5", "vt ff", NULL));
	/* An address alone (or followed by a comment) is a line with an
	 * empty name, as in nss_files. */
	CHECK_ADDR(h, AF_INET, "10.0.0.3", lines("10.0.0.3", "", NULL));
	CHECK_ADDR(h, AF_INET, "10.0.0.6", lines("10.0.0.6", "", NULL));
	CHECK_NAME(h, "", AF_INET, false, lines("10.0.0.3", "", NULL));
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_crlf)
{
	struct sc_hosts *h = parse("10.0.0.1 crlf.example crlf\r\n"
				   "\r\n"
				   "10.0.0.2\r\n"
				   "10.0.0.3 x.example \r\n"
				   "2001:db8::4 crlf.example v6\r\n");

	CHECK_NAME(h, "crlf", AF_INET, true,
		   lines("10.0.0.1", "crlf.example crlf", NULL));
	CHECK_NAME(h, "crlf.example", AF_INET6, true,
		   lines("2001:db8::4", "crlf.example v6", NULL));
	CHECK_NAME(h, "x.example", AF_INET, true, lines("10.0.0.3", "x.example", NULL));
	CHECK_ADDR(h, AF_INET, "10.0.0.2", lines("10.0.0.2", "", NULL));
	check_absent(h, "crlf\r");
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_glibc_unterminated_line_wart)
{
	/*
	 * glibc 2.36's __nss_readline moves an indented line left without
	 * its NUL; where no '\n' cuts the line (last line without newline,
	 * line with a NUL byte) the last k characters appear twice.  glibc
	 * answers "tailil"; so do we (the glibc group checks it for real).
	 */
	static const char text[] = "10.0.0.1 first.example\n"
				   "\t10.0.0.8 nul\0ignored after the nul\n"
				   "10.0.0.6 x.example\0y.example\n"
				   "10.0.0.7 next.example\n"
				   "  10.0.0.9 tail";
	struct sc_hosts *h = parse_len(text, sizeof(text) - 1);

	CHECK_NAME(h, "tailil", AF_INET, false, lines("10.0.0.9", "tailil", NULL));
	check_absent(h, "tail");
	CHECK_NAME(h, "null", AF_INET, false, lines("10.0.0.8", "null", NULL));
	check_absent(h, "nul");
	check_absent(h, "ignored");
	CHECK_NAME(h, "x.example", AF_INET, false, lines("10.0.0.6", "x.example", NULL));
	check_absent(h, "y.example");
	CHECK_NAME(h, "next.example", AF_INET, false,
		   lines("10.0.0.7", "next.example", NULL));
	sc_hosts_close(h);

	/* Terminated by a newline, the same line is read as written. */
	h = parse("  10.0.0.9 tail\n");
	CHECK_NAME(h, "tail", AF_INET, false, lines("10.0.0.9", "tail", NULL));
	sc_hosts_close(h);
	/* The repeated tail is the last k bytes of the line, whitespace
	 * included when k exceeds the text: 12 + 9 bytes read as
	 * "1.2.3.4 x" "   " "1.2.3.4 x". */
	h = parse("            1.2.3.4 x");
	CHECK_NAME(h, "x", AF_INET, false, lines("1.2.3.4", "x 1.2.3.4 x", NULL));
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_long_lines)
{
	struct hstr s = { 0 };
	struct sc_hosts *h;
	struct sc_hosts_result r;
	char *longname = malloc(200001);

	/* No line length limit: 100000 aliases on one line, and a
	 * 200000-character name. */
	hstr_add(&s, "10.0.0.1 many.example");
	for (int i = 0; i < 100000; i++) {
		hstr_add(&s, " a%d", i);
	}
	hstr_add(&s, "\n10.0.0.2 ");
	memset(longname, 'n', 200000);
	longname[200000] = '\0';
	hstr_add(&s, "%s few\n10.0.0.3 after.example\n", longname);
	h = parse(s.p);

	/* More aliases than a result holds: -E2BIG (the caller lets libc
	 * answer), except for AF_UNSPEC where aliases are informative. */
	ck_assert_int_eq(sc_hosts_by_name(h, "a99999", AF_INET, false, &r), -E2BIG);
	ck_assert_int_eq(sc_hosts_by_addr(h, AF_INET, "\x0a\x00\x00\x01", &r), -E2BIG);
	ck_assert_int_eq(sc_hosts_by_name(h, "A99999", AF_UNSPEC, true, &r), 0);
	ck_assert_str_eq(r.name, "many.example");
	ck_assert_uint_eq(r.naddr, 1);
	ck_assert_uint_eq(r.naliases, SC_HOSTS_MAXALIAS);
	ck_assert_str_eq(r.aliases[SC_HOSTS_MAXALIAS - 1], "a63");

	ck_assert_int_eq(sc_hosts_by_name(h, longname, AF_INET, false, &r), 0);
	ck_assert_str_eq(r.name, longname);
	ck_assert_str_eq(r.aliases[0], "few");
	CHECK_NAME(h, "after.example", AF_INET, true,
		   lines("10.0.0.3", "after.example", NULL));
	sc_hosts_close(h);
	hstr_free(&s);
	free(longname);
}
END_TEST

START_TEST(test_too_many_addresses)
{
	struct hstr s = { 0 };
	struct sc_hosts *h;
	struct sc_hosts_result r;

	for (int i = 0; i <= SC_HOSTS_MAXADDR; i++) {
		hstr_add(&s, "10.0.%d.%d many.example\n", i / 200, i % 200 + 1);
	}
	h = parse(s.p);
	ck_assert_int_eq(sc_hosts_by_name(h, "many.example", AF_INET, true, &r), -E2BIG);
	ck_assert_int_eq(sc_hosts_by_name(h, "many.example", AF_UNSPEC, true, &r), -E2BIG);
	ck_assert_int_eq(sc_hosts_by_name(h, "many.example", AF_INET, false, &r), 0);
	ck_assert_uint_eq(r.naddr, 1);
	sc_hosts_close(h);

	/* Exactly SC_HOSTS_MAXADDR fit. */
	h = parse(strchr(s.p, '\n') + 1);
	ck_assert_int_eq(sc_hosts_by_name(h, "many.example", AF_INET, true, &r), 0);
	ck_assert_uint_eq(r.naddr, SC_HOSTS_MAXADDR);
	ck_assert_uint_eq(r.addr[SC_HOSTS_MAXADDR - 1].addr[3], SC_HOSTS_MAXADDR % 200 + 1);
	sc_hosts_close(h);
	hstr_free(&s);
}
END_TEST

START_TEST(test_empty_and_odd_inputs)
{
	struct sc_hosts *h;
	struct sc_hosts_result r;

	h = parse_len("", 0);
	check_absent(h, "localhost");
	check_absent(h, "");
	ck_assert_int_eq(sc_hosts_by_addr(h, AF_INET, "\x7f\0\0\1", &r), -ENOENT);
	/* Never refreshed: no path. */
	ck_assert(!sc_hosts_refresh_due(h, INT64_MAX));
	ck_assert_int_eq(sc_hosts_refresh(h, INT64_MAX), 0);
	sc_hosts_close(h);

	{
		static const char odd[] = "\0\0\n\n#\n \n\xff\xfe 1.2.3.4\n"
					  "\xff 10.0.0.1 \xc3\xa9\n";

		h = parse_len(odd, sizeof(odd) - 1);
		check_absent(h, "1.2.3.4");
		check_absent(h, "10.0.0.1");
		check_absent(h, "\xc3\xa9");
		sc_hosts_close(h);
	}
	/* Bytes above 0x7f are neither space nor folded. */
	h = parse("10.0.0.1 \xc3\xa9\xa0x\n");
	CHECK_NAME(h, "\xc3\xa9\xa0x", AF_INET, false,
		   lines("10.0.0.1", "\xc3\xa9\xa0x", NULL));
	check_absent(h, "\xc3\x89\xa0x");
	sc_hosts_close(h);

	/* Only the address: no newline at all. */
	h = parse("10.1.1.1");
	CHECK_ADDR(h, AF_INET, "10.1.1.1", lines("10.1.1.1", "", NULL));
	sc_hosts_close(h);

	/* A name listed twice on a line matches that line once. */
	h = parse("10.0.0.1 a a A\n10.0.0.2 b a\n");
	CHECK_NAME(h, "a", AF_INET, true,
		   lines("10.0.0.1", "a a A a b", "10.0.0.2", "a a A a b", NULL));
	sc_hosts_close(h);
}
END_TEST

/* --- file ------------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
	ck_assert_int_eq(hosts_write_str(path, text), 0);
}

/* Make the file look modified an hour ago, so it is not "racy". */
static void age(const char *path)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 3600;
	ts[1] = ts[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static const char *answer(struct sc_hosts *h, const char *name)
{
	static char buf[4][256];
	static unsigned which;
	char *out = buf[which++ % 4];
	int r = q(h, name, AF_INET, false, out, 256);

	if (r != 0) {
		snprintf(out, 256, "error %d", r);
	}
	return out;
}

static struct sc_hosts *open_hosts(const char *path)
{
	struct sc_hosts *h = NULL;

	ck_assert_int_eq(sc_hosts_open(&h, path), 0);
	ck_assert_ptr_nonnull(h);
	return h;
}

START_TEST(test_open_reads_file)
{
	struct sc_hosts *h;

	write_file(hpath, "10.0.0.1 a.example\n");
	errno = 777;
	h = open_hosts(hpath);
	ck_assert_int_eq(errno, 777);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.1", "a.example", NULL));
	ck_assert_uint_eq(sc_hosts_generation(h), 1);
	sc_hosts_close(h);

	ck_assert_int_eq(sc_hosts_open(&h, ""), -EINVAL);
}
END_TEST

START_TEST(test_throttle_and_mtime_change)
{
	struct sc_hosts *h;
	int64_t t0;

	write_file(hpath, "10.0.0.1 a.example\n");
	age(hpath);
	h = open_hosts(hpath);
	t0 = sc_now_mono_ms();

	/* Rewritten in place, same size: within the second after the last
	 * check nothing is looked at, the old answer is served. */
	write_file(hpath, "10.0.0.2 a.example\n");
	ck_assert(!sc_hosts_refresh_due(h, t0 + 500));
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 500), 0);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.1", "a.example", NULL));
	/* A second later the change is seen. */
	ck_assert(sc_hosts_refresh_due(h, t0 + 1000));
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 1000), 0);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.2", "a.example", NULL));
	ck_assert_uint_eq(sc_hosts_generation(h), 2);
	/* And the window restarts from that check. */
	write_file(hpath, "10.0.0.3 a.example\n");
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 1999), 0);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.2", "a.example", NULL));
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 2000), 0);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.3", "a.example", NULL));
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_unchanged_not_reread)
{
	struct sc_hosts *h;
	int64_t t0;

	write_file(hpath, "10.0.0.1 a.example\n");
	age(hpath);
	h = open_hosts(hpath);
	t0 = sc_now_mono_ms();
	for (int i = 1; i <= 5; i++) {
		ck_assert_int_eq(sc_hosts_refresh(h, t0 + i * 1000), 0);
	}
	ck_assert_uint_eq(sc_hosts_generation(h), 1);
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_racy_file_read_again)
{
	struct sc_hosts *h;
	int64_t t0;

	/* Modified just now: a second write in the same clock tick would not
	 * show in the file's identity, so the next check reads it again. */
	write_file(hpath, "10.0.0.1 a.example\n");
	h = open_hosts(hpath);
	t0 = sc_now_mono_ms();
	ck_assert_uint_eq(sc_hosts_generation(h), 1);
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 1000), 0);
	ck_assert_uint_eq(sc_hosts_generation(h), 2);
	/* Once it is old, identity alone decides. */
	age(hpath);
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 2000), 0);
	ck_assert_uint_eq(sc_hosts_generation(h), 3); /* ctime changed */
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 3000), 0);
	ck_assert_uint_eq(sc_hosts_generation(h), 3);
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_replaced_by_rename)
{
	struct sc_hosts *h;
	struct stat st;
	struct timespec ts[2];
	char tmp[160];
	int64_t t0;

	write_file(hpath, "10.0.0.1 a.example\n");
	age(hpath);
	h = open_hosts(hpath);
	t0 = sc_now_mono_ms();
	ck_assert_int_eq(stat(hpath, &st), 0);

	/* Same size and same mtime: only the inode (and ctime) differ. */
	snprintf(tmp, sizeof(tmp), "%s/hosts.new", tmpdir);
	write_file(tmp, "10.0.0.9 a.example\n");
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, tmp, ts, 0), 0);
	ck_assert_int_eq(rename(tmp, hpath), 0);
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 1000), 0);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.9", "a.example", NULL));
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_same_size_same_mtime_in_place)
{
	struct sc_hosts *h;
	struct stat st;
	struct timespec ts[2];
	int64_t t0;

	write_file(hpath, "10.0.0.1 a.example\n");
	age(hpath);
	h = open_hosts(hpath);
	t0 = sc_now_mono_ms();
	ck_assert_int_eq(stat(hpath, &st), 0);
	/* `cp -p'-like: new bytes, old mtime restored; ctime tells. */
	write_file(hpath, "10.0.0.7 a.example\n");
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, hpath, ts, 0), 0);
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 1000), 0);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.7", "a.example", NULL));
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_deleted_then_recreated)
{
	struct sc_hosts *h;
	int64_t t0;

	write_file(hpath, "10.0.0.1 a.example\n");
	age(hpath);
	h = open_hosts(hpath);
	t0 = sc_now_mono_ms();
	ck_assert_int_eq(unlink(hpath), 0);
	/* Within the window: still the old contents. */
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 10), 0);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.1", "a.example", NULL));
	/* Gone: nss_files answers nothing from a missing file, nor do we. */
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 1000), 0);
	ck_assert_str_eq(answer(h, "a.example"), "error -2");
	ck_assert_uint_eq(sc_hosts_generation(h), 2);
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 2000), 0);
	ck_assert_uint_eq(sc_hosts_generation(h), 2);
	write_file(hpath, "10.0.0.2 a.example\n");
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 3000), 0);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.2", "a.example", NULL));
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_missing_at_open)
{
	struct sc_hosts *h = open_hosts(hpath);
	struct sc_hosts_result r;
	int64_t t0 = sc_now_mono_ms();

	ck_assert_int_eq(sc_hosts_by_name(h, "a.example", AF_INET, false, &r), -ENOENT);
	ck_assert_int_eq(sc_hosts_by_addr(h, AF_INET, "\x0a\0\0\1", &r), -ENOENT);
	ck_assert_uint_eq(sc_hosts_generation(h), 0);
	write_file(hpath, "10.0.0.1 a.example\n");
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 1000), 0);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.1", "a.example", NULL));
	sc_hosts_close(h);

	/* A path through a file (ENOTDIR) is missing too. */
	snprintf(hpath + strlen(hpath), sizeof(hpath) - strlen(hpath), "/x");
	h = open_hosts(hpath);
	ck_assert_int_eq(sc_hosts_by_name(h, "a.example", AF_INET, false, &r), -ENOENT);
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_unreadable_keeps_old)
{
	struct sc_hosts *h;
	int64_t t0;

	write_file(hpath, "10.0.0.1 a.example\n");
	age(hpath);
	h = open_hosts(hpath);
	t0 = sc_now_mono_ms();
	/* Replaced by something that cannot be read (a directory): the
	 * error is reported and the old contents stay in service. */
	ck_assert_int_eq(unlink(hpath), 0);
	ck_assert_int_eq(mkdir(hpath, 0755), 0);
	errno = 31337;
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 1000), -EISDIR);
	ck_assert_int_eq(errno, 31337);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.1", "a.example", NULL));
	ck_assert_uint_eq(sc_hosts_generation(h), 1);
	/* Not retried within the window. */
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 1500), 0);
	ck_assert_int_eq(rmdir(hpath), 0);
	write_file(hpath, "10.0.0.5 a.example\n");
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 2000), 0);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.5", "a.example", NULL));
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_unloadable_at_open)
{
	struct sc_hosts *h;
	struct sc_hosts_result r;
	int64_t t0;
	int fd;

	/* A directory: lookups say why, so that the caller lets libc answer. */
	ck_assert_int_eq(mkdir(hpath, 0755), 0);
	h = open_hosts(hpath);
	t0 = sc_now_mono_ms();
	ck_assert_int_eq(sc_hosts_by_name(h, "a.example", AF_INET, false, &r), -EISDIR);
	ck_assert_int_eq(sc_hosts_by_addr(h, AF_INET, "\x0a\0\0\1", &r), -EISDIR);
	ck_assert_int_eq(rmdir(hpath), 0);

	/* Over the size bound (sparse: costs nothing). */
	fd = open(hpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)SC_HOSTS_MAXSIZE + 1), 0);
	close(fd);
	ck_assert_int_eq(sc_hosts_refresh(h, t0 + 1000), -EFBIG);
	ck_assert_int_eq(sc_hosts_by_name(h, "a.example", AF_INET, false, &r), -EFBIG);
	sc_hosts_close(h);
	h = open_hosts(hpath);
	ck_assert_int_eq(sc_hosts_by_name(h, "a.example", AF_INET, false, &r), -EFBIG);
	sc_hosts_close(h);

	/* At the bound it loads. */
	fd = open(hpath, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "10.0.0.1 a.example\n", 19), 19);
	ck_assert_int_eq(ftruncate(fd, (off_t)SC_HOSTS_MAXSIZE), 0);
	close(fd);
	h = open_hosts(hpath);
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.1", "a.example", NULL));
	sc_hosts_close(h);
}
END_TEST

START_TEST(test_fifo_does_not_block)
{
	struct sc_hosts *h;
	struct sc_hosts_result r;

	/* A FIFO in place of the file must not hang the host process. */
	ck_assert_int_eq(mkfifo(hpath, 0644), 0);
	alarm(5);
	h = open_hosts(hpath);
	ck_assert_int_eq(sc_hosts_by_name(h, "a.example", AF_INET, false, &r), -EINVAL);
	alarm(0);
	sc_hosts_close(h);
}
END_TEST

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d) != NULL) {
		n++;
	}
	closedir(d);
	return n;
}

START_TEST(test_no_descriptor_kept)
{
	struct sc_hosts *h;
	int before = count_fds();
	int64_t t0;

	write_file(hpath, "10.0.0.1 a.example\n");
	h = open_hosts(hpath);
	t0 = sc_now_mono_ms();
	for (int i = 1; i <= 3; i++) {
		char text[64];

		snprintf(text, sizeof(text), "10.0.0.%d a.example\n", i);
		write_file(hpath, text);
		ck_assert_int_eq(sc_hosts_refresh(h, t0 + i * 1000), 0);
	}
	ck_assert_str_eq(answer(h, "a.example"), lines("10.0.0.3", "a.example", NULL));
	ck_assert_int_eq(count_fds(), before);
	sc_hosts_close(h);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/* --- scale ----------------------------------------------------------- */

/* Bytes malloc'd, big (mmapped) blocks included. */
static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

START_TEST(test_100k_lines)
{
	const int n = 100000;
	struct hstr s = { 0 };
	struct sc_hosts *h;
	struct sc_hosts_result r;
	struct timespec a, b;
	size_t before, after;

	for (int i = 0; i < n; i++) {
		if (i % 10 == 9) {
			hstr_add(&s, "2001:db8::%x:%x host%d.example.org host%d # v6\n",
				 i >> 16, i & 0xffff, i, i);
		} else {
			hstr_add(&s, "10.%d.%d.%d\thost%d.example.org host%d\n",
				 i >> 16, (i >> 8) & 255, i & 255, i, i);
		}
	}
	write_file(hpath, s.p);
	before = heap_used();
	clock_gettime(CLOCK_MONOTONIC, &a);
	h = open_hosts(hpath);
	clock_gettime(CLOCK_MONOTONIC, &b);
	after = heap_used();
	fprintf(stderr, "check_hosts: %d lines (%zu bytes) loaded in %.1f ms, %.1f MB\n",
		n, s.len,
		(double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6,
		(double)(after - before) / 1e6);
	/* Bounded memory: the copy plus a few dozen bytes per line.  (Under
	 * ASan, malloc is not glibc's and mallinfo2 sees nothing.) */
	ck_assert_uint_ge(after, before);
	ck_assert_uint_lt(after - before, s.len + (size_t)n * 160);

	for (int i = 0; i < n; i += 997) {
		char name[32], upper[32];
		unsigned char v4[4] = { 10, (unsigned char)(i >> 16),
					(unsigned char)((i >> 8) & 255),
					(unsigned char)(i & 255) };

		snprintf(name, sizeof(name), "host%d", i);
		snprintf(upper, sizeof(upper), "HOST%d.EXAMPLE.ORG", i);
		ck_assert_int_eq(sc_hosts_by_name(h, upper, AF_UNSPEC, true, &r), 0);
		ck_assert_uint_eq(r.naddr, 1);
		ck_assert_uint_eq(r.naliases, 1);
		ck_assert_str_eq(r.aliases[0], name);
		if (i % 10 == 9) {
			ck_assert_int_eq(r.addr[0].family, AF_INET6);
			ck_assert_int_eq(sc_hosts_by_name(h, name, AF_INET, true, &r), -ENOENT);
		} else {
			ck_assert_int_eq(r.addr[0].family, AF_INET);
			ck_assert_mem_eq(r.addr[0].addr, v4, 4);
			ck_assert_int_eq(sc_hosts_by_addr(h, AF_INET, v4, &r), 0);
			ck_assert_str_eq(r.aliases[0], name);
		}
	}
	ck_assert_int_eq(sc_hosts_by_name(h, "host100000", AF_UNSPEC, true, &r), -ENOENT);
	sc_hosts_close(h);
	hstr_free(&s);
}
END_TEST

/* --- glibc ----------------------------------------------------------- */

static void ns_enter(const char *hostconf)
{
	char err[512], path[160];

	snprintf(path, sizeof(path), "%s/host.conf", tmpdir);
	write_file(path, hostconf);
	if (hosts_ns_enter(tmpdir, err, sizeof(err)) < 0) {
		ck_abort_msg("cannot set up the glibc comparison: %s", err);
	}
}

/* Put `text' in /etc/hosts (of our namespace) and check it is there. */
static void put_hosts(const char *text, size_t len)
{
	char *back = malloc(len + 1);
	int fd;
	ssize_t n;

	ck_assert_int_eq(hosts_write(hpath, text, len), 0);
	fd = open("/etc/hosts", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, back, len + 1);
	close(fd);
	ck_assert_msg(n == (ssize_t)len && memcmp(back, text, len) == 0,
		      "/etc/hosts in the namespace is not our file");
	free(back);
}

static char *read_fixture(const char *name, size_t *ret_len)
{
	char path[512];
	struct stat st;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, name);
	fd = open(path, O_RDONLY);
	ck_assert_msg(fd >= 0, "fixture %s: %s (run from the top directory)",
		      path, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*ret_len = (size_t)st.st_size;
	return buf;
}

static const char *const fixtures[] = {
	"basic.hosts", "multi.hosts", "malformed.hosts", "crlf.hosts",
	"wart.hosts", "wart-wide.hosts",
};

/* A set of query keys. */
struct keys {
	char **k;
	size_t n, cap;
};

static void keys_add(struct keys *ks, const char *s, size_t len)
{
	for (size_t i = 0; i < ks->n; i++) {
		if (strlen(ks->k[i]) == len && memcmp(ks->k[i], s, len) == 0) {
			return;
		}
	}
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 64;
		ks->k = realloc(ks->k, ks->cap * sizeof(*ks->k));
	}
	ks->k[ks->n++] = strndup(s, len);
}

static void keys_free(struct keys *ks)
{
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->k[i]);
	}
	free(ks->k);
	memset(ks, 0, sizeof(*ks));
}

/* Every word of the text (split at whitespace, '#', NUL), as written, in
 * lower and in upper case. */
static void keys_from_text(struct keys *ks, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		char *w;

		while (j < len && !strchr(" \t\n\v\f\r#", text[j]) && text[j] != '\0') {
			j++;
		}
		if (j > i) {
			keys_add(ks, text + i, j - i);
			w = strndup(text + i, j - i);
			for (char *p = w; *p; p++) {
				*p = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
			}
			keys_add(ks, w, j - i);
			for (char *p = w; *p; p++) {
				*p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
			}
			keys_add(ks, w, j - i);
			free(w);
		}
		i = j + 1;
	}
}

/* Would libc's front ends treat this key as a numeric address instead of
 * asking NSS (digits-and-dots, IPv6 literals, scope ids)? */
static bool numeric_like(const char *k)
{
	struct in_addr a;

	return inet_aton(k, &a) != 0 || strchr(k, ':') != NULL ||
	       strchr(k, '%') != NULL || k[strspn(k, "0123456789.")] == '\0';
}

/* The addresses to ask by-address lookups about: each valid address in
 * the keys, under each family view nss_files has of it. */
struct addr_q {
	int af;
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];
};

static size_t addrs_from_keys(const struct keys *ks, struct addr_q *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ks->n && n + 2 < max; i++) {
		unsigned char a[16];

		if (inet_pton(AF_INET, ks->k[i], a) > 0) {
			out[n].af = AF_INET;
			memcpy(out[n].a, a, 4);
			n++;
			/* and its v4-mapped form, which no IPv4 line answers */
			out[n].af = AF_INET6;
			memset(out[n].a, 0, 16);
			out[n].a[10] = out[n].a[11] = 0xff;
			memcpy(out[n].a + 12, a, 4);
			n++;
		} else if (inet_pton(AF_INET6, ks->k[i], a) > 0) {
			out[n].af = AF_INET6;
			memcpy(out[n].a, a, 16);
			n++;
			if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a)) {
				out[n].af = AF_INET;
				memcpy(out[n].a, a + 12, 4);
				n++;
			}
		}
	}
	out[n].af = AF_INET;
	memcpy(out[n].a, "\x7f\0\0\1", 4);
	n++;
	for (size_t i = 0; i < n; i++) {
		inet_ntop(out[i].af, out[i].a, out[i].text, sizeof(out[i].text));
	}
	return n;
}

/* What `getent hosts KEY' prints, computed from our module. */
static int ours_getent_hosts(struct sc_hosts *h, const char *key, bool multi,
			     struct hstr *out)
{
	unsigned char a[16];
	int r;

	if (inet_pton(AF_INET6, key, a) > 0) {
		/* libc answers `::' itself (gethostbyaddr's PREPROCESS). */
		if (IN6_IS_ADDR_UNSPECIFIED((struct in6_addr *)a)) {
			return -ENOENT;
		}
		return hosts_text_ours_addr(h, AF_INET6, a, out);
	}
	if (inet_pton(AF_INET, key, a) > 0) {
		return hosts_text_ours_addr(h, AF_INET, a, out);
	}
	r = hosts_text_ours(h, key, AF_INET6, multi, out);
	if (r == -ENOENT) {
		r = hosts_text_ours(h, key, AF_INET, multi, out);
	}
	return r;
}

/*
 * What `getent ahosts*' prints, from our module: for AF_UNSPEC
 * gethostbyname4_r, for AF_INET and AF_INET6 (+AI_V4MAPPED: IPv4 answers
 * mapped when there is no IPv6 one) gethostbyname3_r of that family; the
 * canonical name is the answer's name either way.  getaddrinfo's own rule
 * (generate_addrinfo): with AI_V4MAPPED and no AI_ALL, v4-mapped addresses
 * are dropped from an IPv6 answer, even when the file holds them as IPv6.
 */
static int ours_getent_ahosts(struct sc_hosts *h, const char *key, int af,
			      bool multi, struct hstr *out)
{
	struct sc_hosts_result *r = malloc(sizeof(*r));
	struct sc_hosts_result *r4 = malloc(sizeof(*r4));
	bool first = true;
	int e;

	e = sc_hosts_by_name(h, key, af, multi, r);
	if (af == AF_INET6 && e == 0) {
		unsigned n = 0;

		for (unsigned i = 0; i < r->naddr; i++) {
			if (!IN6_IS_ADDR_V4MAPPED((struct in6_addr *)r->addr[i].addr)) {
				r->addr[n++] = r->addr[i];
			}
		}
		r->naddr = n;
		if (n == 0) {
			e = -ENOENT; /* EAI_NONAME */
		}
	} else if (af == AF_INET6 && e == -ENOENT) {
		/* AI_V4MAPPED: IPv4 answers, mapped, when no IPv6 one. */
		e = sc_hosts_by_name(h, key, AF_INET, multi, r4);
		if (e == 0) {
			r->name = r4->name;
			r->naddr = r4->naddr;
			for (unsigned i = 0; i < r4->naddr; i++) {
				r->addr[i].family = AF_INET6;
				memset(r->addr[i].addr, 0, 16);
				r->addr[i].addr[10] = r->addr[i].addr[11] = 0xff;
				memcpy(r->addr[i].addr + 12, r4->addr[i].addr, 4);
			}
		}
	}
	if (e == 0) {
		for (unsigned i = 0; i < r->naddr; i++) {
			static const char *const st[] = { "STREAM", "DGRAM", "RAW" };
			char buf[INET6_ADDRSTRLEN];

			inet_ntop(r->addr[i].family, r->addr[i].addr, buf, sizeof(buf));
			for (int j = 0; j < 3; j++) {
				hstr_add(out, "%-15s %-6s %s\n", buf, st[j],
					 first ? r->name : "");
				first = false;
			}
		}
	}
	free(r);
	free(r4);
	return e;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * getaddrinfo sorts its answers (RFC 6724, by the routes of the machine),
 * so ahosts output is compared as the sorted lines without the canonical
 * name, plus the canonical name (which glibc moves to the new first line).
 */
static void normalise_ahosts(const char *text, struct hstr *out)
{
	char *copy = strdup(text), *save = NULL, *line;
	char **v = NULL, *canon = NULL;
	size_t n = 0;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char addr[64] = "", type[16] = "";
		int used = 0;

		sscanf(line, "%63s %15s %n", addr, type, &used);
		if (used > 0 && line[used] != '\0') {
			free(canon);
			canon = strdup(line + used);
		}
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n] = malloc(strlen(addr) + strlen(type) + 2);
		sprintf(v[n], "%s %s", addr, type);
		n++;
	}
	if (n > 1) {
		qsort(v, n, sizeof(*v), cmp_str);
	}
	hstr_add(out, "canonical name: %s\n", canon ? canon : "(none)");
	for (size_t i = 0; i < n; i++) {
		hstr_add(out, "%s\n", v[i]);
		free(v[i]);
	}
	free(v);
	free(canon);
	free(copy);
}

static void compare_getent(int ours_r, const char *ours_text, bool ahosts,
			   unsigned *count, const char *arg0, ...)
{
	struct hstr got = { 0 }, a = { 0 }, b = { 0 };
	int status = -1;
	char cmd[512] = "";
	char *argv[8];
	size_t argc = 0;
	va_list ap;

	va_start(ap, arg0);
	for (const char *x = arg0; x != NULL && argc < 7; x = va_arg(ap, const char *)) {
		argv[argc++] = (char *)x;
	}
	va_end(ap);
	argv[argc] = NULL;
	for (int i = 0; argv[i]; i++) {
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s'%s'",
			 i ? " " : "", argv[i]);
	}
	ck_assert_int_eq(hosts_run(argv, &got, &status), 0);
	ck_assert_msg(status == 0 || status == 2, "%s: exit status %d", cmd, status);
	ck_assert_msg((status == 0) == (ours_r == 0),
		      "%s: getent %s, we %d\n--- getent:\n%s--- ours:\n%s", cmd,
		      status == 0 ? "found it" : "did not", ours_r,
		      got.p ? got.p : "", ours_text ? ours_text : "");
	if (ahosts) {
		normalise_ahosts(got.p ? got.p : "", &a);
		normalise_ahosts(ours_text ? ours_text : "", &b);
		ck_assert_msg(strcmp(a.p, b.p) == 0, "%s\n--- getent:\n%s--- ours:\n%s",
			      cmd, a.p, b.p);
	} else {
		ck_assert_msg(strcmp(got.p ? got.p : "", ours_text ? ours_text : "") == 0,
			      "%s\n--- getent:\n%s--- ours:\n%s", cmd,
			      got.p ? got.p : "", ours_text ? ours_text : "");
	}
	(*count)++;
	hstr_free(&got);
	hstr_free(&a);
	hstr_free(&b);
}

/*
 * The public path, through getent: gethostbyname2 (hosts NAME),
 * getaddrinfo (ahosts, ahostsv4, ahostsv6; without AI_ADDRCONFIG, which
 * depends on the machine's interfaces, and without IDN), gethostbyaddr
 * (hosts ADDR); every fixture, host.conf `multi' off and on.
 */
START_TEST(test_glibc_getent_fixtures)
{
	static const struct {
		const char *cmd;
		int af;
	} ah[] = {
		{ "ahosts", AF_UNSPEC },
		{ "ahostsv4", AF_INET },
		{ "ahostsv6", AF_INET6 },
	};
	char hostconf[160];
	unsigned count = 0;

	ns_enter("multi on\n");
	snprintf(hostconf, sizeof(hostconf), "%s/host.conf", tmpdir);
	for (int multi = 0; multi <= 1; multi++) {
		write_file(hostconf, multi ? "multi on\n" : "multi off\n");
		for (size_t f = 0; f < SC_ARRAY_SIZE(fixtures); f++) {
			struct keys ks = { 0 };
			struct addr_q aq[256];
			size_t len, naq;
			char *text = read_fixture(fixtures[f], &len);
			struct sc_hosts *h = parse_len(text, len);

			put_hosts(text, len);
			keys_from_text(&ks, text, len);
			keys_add(&ks, "absent.example", 14);
			naq = addrs_from_keys(&ks, aq, SC_ARRAY_SIZE(aq));
			for (size_t i = 0; i < ks.n; i++) {
				const char *k = ks.k[i];
				struct hstr o = { 0 };
				int r;

				if (numeric_like(k)) {
					continue;
				}
				r = ours_getent_hosts(h, k, multi, &o);
				compare_getent(r, o.p, false, &count, "getent",
					       "hosts", k, NULL);
				hstr_free(&o);
				for (size_t j = 0; j < SC_ARRAY_SIZE(ah); j++) {
					r = ours_getent_ahosts(h, k, ah[j].af, multi, &o);
					compare_getent(r, o.p, true, &count, "getent",
						       "--no-idn", "--no-addrconfig",
						       ah[j].cmd, k, NULL);
					hstr_free(&o);
				}
			}
			for (size_t i = 0; i < naq; i++) {
				struct hstr o = { 0 };
				int r = ours_getent_hosts(h, aq[i].text, multi, &o);

				compare_getent(r, o.p, false, &count, "getent",
					       "hosts", aq[i].text, NULL);
				hstr_free(&o);
			}
			sc_hosts_close(h);
			keys_free(&ks);
			free(text);
		}
	}
	fprintf(stderr, "check_hosts: %u getent answers compared\n", count);
}
END_TEST

/*
 * Compare every key (as a name, three families) and every address with
 * nss_files' own entry points, answers in order and in full.  Returns the
 * number of comparisons.
 */
static unsigned compare_nss(const char *text, size_t len, struct keys *ks,
			    bool multi, const char *what)
{
	struct sc_hosts *h = parse_len(text, len);
	struct addr_q aq[512];
	size_t naq;
	unsigned count = 0;

	put_hosts(text, len);
	naq = addrs_from_keys(ks, aq, SC_ARRAY_SIZE(aq));
	for (size_t i = 0; i < ks->n; i++) {
		for (size_t j = 0; j < SC_ARRAY_SIZE(all_af); j++) {
			struct hstr a = { 0 }, b = { 0 };
			int rg = hosts_text_glibc(ks->k[i], all_af[j], &a);
			int ro = hosts_text_ours(h, ks->k[i], all_af[j], multi, &b);

			ck_assert_msg(rg == ro && strcmp(a.p ? a.p : "", b.p ? b.p : "") == 0,
				      "%s: name '%s' af %d multi %d: glibc %d, ours %d\n"
				      "--- glibc:\n%s--- ours:\n%s--- file:\n%.*s",
				      what, ks->k[i], all_af[j], multi, rg, ro,
				      a.p ? a.p : "", b.p ? b.p : "", (int)len, text);
			hstr_free(&a);
			hstr_free(&b);
			count++;
		}
	}
	for (size_t i = 0; i < naq; i++) {
		struct hstr a = { 0 }, b = { 0 };
		int rg = hosts_text_glibc_addr(aq[i].af, aq[i].a, &a);
		int ro = hosts_text_ours_addr(h, aq[i].af, aq[i].a, &b);

		ck_assert_msg(rg == ro && strcmp(a.p ? a.p : "", b.p ? b.p : "") == 0,
			      "%s: address %s: glibc %d, ours %d\n"
			      "--- glibc:\n%s--- ours:\n%s--- file:\n%.*s",
			      what, aq[i].text, rg, ro, a.p ? a.p : "",
			      b.p ? b.p : "", (int)len, text);
		hstr_free(&a);
		hstr_free(&b);
		count++;
	}
	sc_hosts_close(h);
	return count;
}

static void glibc_fixtures(bool multi)
{
	unsigned count = 0;

	ns_enter(multi ? "multi on\n" : "multi off\n");
	for (size_t f = 0; f < SC_ARRAY_SIZE(fixtures); f++) {
		struct keys ks = { 0 };
		size_t len;
		char *text = read_fixture(fixtures[f], &len);

		keys_from_text(&ks, text, len);
		keys_add(&ks, "absent.example", 14);
		keys_add(&ks, "", 0);
		/* what glibc makes of the unterminated lines (see the wart
		 * test) */
		keys_add(&ks, "tail.examplele", 14);
		keys_add(&ks, "nul.examplee", 12);
		keys_add(&ks, "x", 1);
		count += compare_nss(text, len, &ks, multi, fixtures[f]);
		keys_free(&ks);
		free(text);
	}
	fprintf(stderr, "check_hosts: %u nss_files answers compared (multi %s)\n",
		count, multi ? "on" : "off");
}

START_TEST(test_glibc_nss_fixtures_multi_on)
{
	glibc_fixtures(true);
}
END_TEST

START_TEST(test_glibc_nss_fixtures_multi_off)
{
	glibc_fixtures(false);
}
END_TEST

/* --- random files ---------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: reproducible from the seed printed on failure. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32) % n;
}

static const char *pick(const char *const *v, size_t n)
{
	return v[rnd((uint32_t)n)];
}
#define PICK(v) pick((v), SC_ARRAY_SIZE(v))

static const char *const r_addr[] = {
	"10.0.0.1", "10.0.0.2", "10.0.0.3", "127.0.0.1", "::1",
	"::ffff:10.0.0.1", "::ffff:10.0.0.9", "2001:db8::1", "2001:DB8::1",
	"fe80::1", "::", "0.0.0.0", "255.255.255.255",
	"1.2.3", "010.0.0.1", "10.0.0.256", "fe80::1%lo", "x", "10.0.0.1/8",
	"::ffff:1.2.3", "1.2.3.4.5", "0x0a.0.0.1",
};
static const char *const r_name[] = {
	"a", "A", "b.example", "B.Example", "sip", "SIP", "c", "d-e",
	"\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89", "sip.example", "SIP.EXAMPLE",
	"localhost", "LocalHost",
};
static const char *const r_space[] = { " ", "\t", "  ", " \t", "\r", "\v", "\f" };
static const char *const r_lead[] = { "", "", "", " ", "\t", "  ", "\r", "\v\f", " \t " };

static void put(char *buf, size_t *n, size_t max, const char *s)
{
	size_t l = strlen(s);

	if (*n + l < max) {
		memcpy(buf + *n, s, l);
		*n += l;
	}
}

static size_t gen_file(char *buf, size_t max)
{
	size_t n = 0;
	unsigned nlines = 1 + rnd(12);

#define PUT(s) put(buf, &n, max, (s))
	for (unsigned i = 0; i < nlines; i++) {
		bool last = i + 1 == nlines;
		uint32_t kind = rnd(20);

		PUT(PICK(r_lead));
		if (kind == 0) {
			PUT("# ");
			PUT(PICK(r_addr));
			PUT(" ");
			PUT(PICK(r_name));
		} else if (kind == 1) {
			/* blank */
		} else {
			unsigned nalias = rnd(4);

			PUT(PICK(r_addr));
			if (rnd(8) != 0) {
				PUT(PICK(r_space));
				PUT(PICK(r_name));
				for (unsigned j = 0; j < nalias; j++) {
					PUT(PICK(r_space));
					PUT(PICK(r_name));
				}
			}
			if (rnd(5) == 0) {
				PUT(PICK(r_space));
			}
			if (rnd(6) == 0) {
				PUT(rnd(2) ? " #" : "#");
				PUT(PICK(r_name));
			}
		}
		if (rnd(12) == 0 && n + 1 < max) {
			buf[n++] = '\0'; /* a NUL byte, then junk */
			PUT(PICK(r_name));
		}
		if (last && rnd(3) == 0) {
			break; /* no final newline */
		}
		PUT(rnd(4) == 0 ? "\r\n" : "\n");
	}
#undef PUT
	return n;
}

/* Names glibc enumerates (gethostent: the lines it reads for AF_INET). */
static void keys_from_gethostent(struct keys *ks)
{
	struct hostent he, *res;
	char buf[65536];
	int herr;

	sethostent(0);
	while (gethostent_r(&he, buf, sizeof(buf), &res, &herr) == 0 && res != NULL) {
		keys_add(ks, he.h_name, strlen(he.h_name));
		for (char **a = he.h_aliases; *a != NULL; a++) {
			keys_add(ks, *a, strlen(*a));
		}
	}
	endhostent();
}

/* Names we answer with (so a name only we invent is caught too). */
static void keys_from_ours(struct keys *ks, const char *text, size_t len)
{
	struct sc_hosts *h = parse_len(text, len);
	struct sc_hosts_result r;
	size_t n = ks->n;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < SC_ARRAY_SIZE(all_af); j++) {
			if (sc_hosts_by_name(h, ks->k[i], all_af[j], true, &r) != 0) {
				continue;
			}
			keys_add(ks, r.name, strlen(r.name));
			for (unsigned a = 0; a < r.naliases; a++) {
				keys_add(ks, r.aliases[a], strlen(r.aliases[a]));
			}
		}
	}
	sc_hosts_close(h);
}

static void glibc_random(bool multi)
{
	const char *env = getenv("CHECK_HOSTS_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5ca1ab1e0ddba11ULL + multi;
	unsigned iters = getenv("CHECK_HOSTS_ITERS") ? (unsigned)atoi(getenv("CHECK_HOSTS_ITERS")) : 400;
	unsigned count = 0;
	char buf[4096];

	ns_enter(multi ? "multi on\n" : "multi off\n");
	for (unsigned it = 0; it < iters; it++) {
		struct keys ks = { 0 };
		char what[64];
		size_t len;

		rng_state = seed + it * 0x9e3779b97f4a7c15ULL;
		if (rng_state == 0) {
			rng_state = 1;
		}
		len = gen_file(buf, sizeof(buf));
		put_hosts(buf, len);
		for (size_t i = 0; i < SC_ARRAY_SIZE(r_name); i++) {
			keys_add(&ks, r_name[i], strlen(r_name[i]));
		}
		keys_from_text(&ks, buf, len);
		keys_add(&ks, "", 0);
		keys_from_gethostent(&ks);
		keys_from_ours(&ks, buf, len);
		snprintf(what, sizeof(what), "seed %#llx iteration %u",
			 (unsigned long long)seed, it);
		count += compare_nss(buf, len, &ks, multi, what);
		keys_free(&ks);
	}
	fprintf(stderr, "check_hosts: %u files, %u nss_files answers compared (multi %s)\n",
		iters, count, multi ? "on" : "off");
}

START_TEST(test_glibc_random_multi_on)
{
	glibc_random(true);
}
END_TEST

START_TEST(test_glibc_random_multi_off)
{
	glibc_random(false);
}
END_TEST

/* Through sc_hosts_open() too: the file path, not only the buffer path. */
START_TEST(test_glibc_fixture_via_file)
{
	struct keys ks = { 0 };
	size_t len;
	char *text = read_fixture("multi.hosts", &len);
	struct sc_hosts *h;

	ns_enter("multi on\n");
	put_hosts(text, len);
	h = open_hosts(hpath);
	keys_from_text(&ks, text, len);
	for (size_t i = 0; i < ks.n; i++) {
		for (size_t j = 0; j < SC_ARRAY_SIZE(all_af); j++) {
			struct hstr a = { 0 }, b = { 0 };
			int rg = hosts_text_glibc(ks.k[i], all_af[j], &a);
			int ro = hosts_text_ours(h, ks.k[i], all_af[j], true, &b);

			ck_assert_int_eq(rg, ro);
			ck_assert_str_eq(a.p ? a.p : "", b.p ? b.p : "");
			hstr_free(&a);
			hstr_free(&b);
		}
	}
	sc_hosts_close(h);
	keys_free(&ks);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hosts");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_first_line_wins);
	tcase_add_test(tc, test_case_insensitive);
	tcase_add_test(tc, test_multi_aliases_like_glibc);
	tcase_add_test(tc, test_family_views);
	tcase_add_test(tc, test_result_fields);
	tcase_add_test(tc, test_by_addr);
	tcase_add_test(tc, test_malformed_lines_skipped);
	tcase_add_test(tc, test_comments_and_whitespace);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_glibc_unterminated_line_wart);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_too_many_addresses);
	tcase_add_test(tc, test_empty_and_odd_inputs);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_reads_file);
	tcase_add_test(tc, test_throttle_and_mtime_change);
	tcase_add_test(tc, test_unchanged_not_reread);
	tcase_add_test(tc, test_racy_file_read_again);
	tcase_add_test(tc, test_replaced_by_rename);
	tcase_add_test(tc, test_same_size_same_mtime_in_place);
	tcase_add_test(tc, test_deleted_then_recreated);
	tcase_add_test(tc, test_missing_at_open);
	tcase_add_test(tc, test_unreadable_keeps_old);
	tcase_add_test(tc, test_unloadable_at_open);
	tcase_add_test(tc, test_fifo_does_not_block);
	tcase_add_test(tc, test_no_descriptor_kept);
	suite_add_tcase(s, tc);

	tc = tcase_create("scale");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_100k_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("glibc");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_glibc_nss_fixtures_multi_on);
	tcase_add_test(tc, test_glibc_nss_fixtures_multi_off);
	tcase_add_test(tc, test_glibc_fixture_via_file);
	tcase_add_test(tc, test_glibc_random_multi_on);
	tcase_add_test(tc, test_glibc_random_multi_off);
	tcase_add_test(tc, test_glibc_getent_fixtures);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

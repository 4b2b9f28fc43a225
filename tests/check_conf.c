/*
 * check_conf.c - sipcache.conf and nsswitch.conf parsing (shim/sc_conf.c).
 *
 * Run from the top of the tree (make does): fixtures and the shipped
 * sipcache.conf are found relative to it, or to $SC_SRCDIR.
 *
 * The binary doubles as the probe of the secure-execution test: run as
 * `check_conf --conf-probe' it prints what sc_conf_path() and
 * sc_conf_disabled_by_env() say, and whether the kernel started it in
 * secure-execution mode (AT_SECURE).
 */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "../shim/sc.h"

#ifndef SC_DEFAULT_CACHE_FILE
#define SC_DEFAULT_CACHE_FILE "/var/cache/sipcache/cache.tdb"
#endif

extern char **environ;

static char err[512];
static struct sc_conf conf;

/* A flat temporary directory of the running test, removed at exit even
 * when a failed assertion ends the (forked) test early. */
static char cleanup_dir[PATH_MAX + 32];

static void remove_flat_dir(const char *dir)
{
	char path[PATH_MAX * 2];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL) {
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	}
	closedir(d);
	rmdir(dir);
}

static void cleanup_at_exit(void)
{
	if (cleanup_dir[0] != '\0') {
		remove_flat_dir(cleanup_dir);
		cleanup_dir[0] = '\0';
	}
}

static void cleanup_register(const char *dir)
{
	snprintf(cleanup_dir, sizeof(cleanup_dir), "%s", dir);
	atexit(cleanup_at_exit);
}

static const char *srcdir(void)
{
	const char *d = getenv("SC_SRCDIR");

	return d != NULL && d[0] != '\0' ? d : ".";
}

static const char *src_path(const char *rel)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", srcdir(), rel);
	return buf;
}

/* Parse `text' as "t.conf" over `c', with `err' poisoned first. */
static int parse_into(struct sc_conf *c, const char *text)
{
	memset(err, 'X', sizeof(err));
	return sc_conf_parse(c, "t.conf", text, strlen(text), err, sizeof(err));
}

/* Parse over the defaults; the text must be accepted. */
static void parse_ok(const char *text)
{
	int r;

	sc_conf_defaults(&conf);
	r = parse_into(&conf, text);
	ck_assert_msg(r == 0, "parse of <%s> failed: %d %s", text, r, err);
	ck_assert_str_eq(err, "");
}

/* A configuration unlike the defaults, to prove errors leave it alone. */
static void base_conf(struct sc_conf *c)
{
	sc_conf_defaults(c);
	c->min_ttl = 7;
	c->max_ttl = 700;
	c->family = SC_FAMILY_IPV4;
	snprintf(c->group, sizeof(c->group), "%s", "base");
}

/* ------------------------------------------------------------------ */
/* defaults and the key list                                           */
/* ------------------------------------------------------------------ */

START_TEST(test_defaults)
{
	memset(&conf, 0xa5, sizeof(conf));
	sc_conf_defaults(&conf);
	ck_assert_str_eq(conf.cache_file, SC_DEFAULT_CACHE_FILE);
	ck_assert_uint_eq(conf.max_entries, 65536);
	ck_assert_uint_eq(conf.min_ttl, 0);
	ck_assert_uint_eq(conf.max_ttl, 86400);
	ck_assert_uint_eq(conf.negative_ttl, 60);
	ck_assert_uint_eq(conf.serve_stale, 3600);
	ck_assert_str_eq(conf.hosts_file, "/etc/hosts");
	ck_assert_int_eq(conf.hosts_order, SC_HOSTS_AUTO);
	ck_assert(conf.hosts_in_res_query);
	ck_assert_uint_eq(conf.nns, 0);
	ck_assert_int_eq(conf.timeout, -1);
	ck_assert_int_eq(conf.attempts, -1);
	ck_assert(conf.search);
	ck_assert_int_eq(conf.family, SC_FAMILY_ANY);
	ck_assert_int_eq(conf.srv_order, SC_SRV_KEEP);
	ck_assert(conf.prefetch);
	ck_assert_str_eq(conf.group, "sipcache");
	ck_assert_int_eq(conf.log, SC_LOG_SYSLOG);
	ck_assert_int_eq(conf.log_level, LOG_WARNING);
	ck_assert_uint_eq(conf.npolicy, 0);
}
END_TEST

START_TEST(test_defaults_are_deterministic)
{
	static struct sc_conf a, b;

	/* Whatever was in memory before, two default configurations are
	 * byte for byte equal (padding and unused slots included): the
	 * no-partial-state tests below compare with memcmp. */
	memset(&a, 0x00, sizeof(a));
	memset(&b, 0xff, sizeof(b));
	sc_conf_defaults(&a);
	sc_conf_defaults(&b);
	ck_assert(memcmp(&a, &b, sizeof(a)) == 0);
}
END_TEST

START_TEST(test_empty_and_comment_only)
{
	static struct sc_conf def;

	sc_conf_defaults(&def);
	parse_ok("");
	ck_assert(memcmp(&conf, &def, sizeof(def)) == 0);
	parse_ok("\n\n   \n\t\n# only a comment\n   # indented comment\n");
	ck_assert(memcmp(&conf, &def, sizeof(def)) == 0);
}
END_TEST

START_TEST(test_key_list)
{
	static const char *const expected[] = {
		"cache_file", "max_entries", "min_ttl", "max_ttl",
		"negative_ttl", "serve_stale", "policy", "hosts_file",
		"hosts_order", "hosts_in_res_query", "nameserver", "timeout",
		"attempts", "search", "family", "srv_order", "prefetch",
		"group", "log", "log_level",
	};
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(expected); i++) {
		ck_assert_ptr_nonnull(sc_conf_key(i));
		ck_assert_str_eq(sc_conf_key(i), expected[i]);
	}
	ck_assert_ptr_null(sc_conf_key(i));
	ck_assert_ptr_null(sc_conf_key(1000));
}
END_TEST

/* ------------------------------------------------------------------ */
/* good values                                                         */
/* ------------------------------------------------------------------ */

static void set_in4(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, a, &sin->sin_addr), 1);
}

static void set_in6(struct sockaddr_storage *ss, const char *a, uint16_t port,
		    uint32_t scope)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_scope_id = scope;
	ck_assert_int_eq(inet_pton(AF_INET6, a, &sin6->sin6_addr), 1);
}

/* The whole expected result of tests/fixtures/conf/all-keys.conf. */
static void all_keys_expected(struct sc_conf *e)
{
	static const unsigned char sip_example_com[] =
		"\3sip\7example\3com";
	static const unsigned char sip_udp_example_net[] =
		"\4_sip\4_udp\7example\3net";

	sc_conf_defaults(e);
	snprintf(e->cache_file, sizeof(e->cache_file), "%s", "/run/sipcache-test/cache.tdb");
	e->max_entries = 1024;
	e->min_ttl = 30;
	e->max_ttl = 7200;
	e->negative_ttl = 0;
	e->serve_stale = 86400;
	e->npolicy = 2;
	memcpy(e->policy[0].suffix, sip_example_com, sizeof(sip_example_com));
	e->policy[0].min_ttl = 300;
	e->policy[0].max_ttl = 3600;
	e->policy[0].negative_ttl = -1;
	memcpy(e->policy[1].suffix, sip_udp_example_net, sizeof(sip_udp_example_net));
	e->policy[1].min_ttl = -1;
	e->policy[1].max_ttl = -1;
	e->policy[1].negative_ttl = 10;
	snprintf(e->hosts_file, sizeof(e->hosts_file), "%s", "/etc/hosts.sip");
	e->hosts_order = SC_HOSTS_DNS_FIRST;
	e->hosts_in_res_query = false;
	e->nns = 3;
	set_in4(&e->ns[0], "192.0.2.53", 53);
	set_in6(&e->ns[1], "2001:db8::53", 5353, 0);
	set_in4(&e->ns[2], "198.51.100.7", 5300);
	e->timeout = 2;
	e->attempts = 3;
	e->search = false;
	e->family = SC_FAMILY_PREFER_IPV6;
	e->srv_order = SC_SRV_RFC2782;
	e->prefetch = false;
	snprintf(e->group, sizeof(e->group), "%s", "voip");
	e->log = SC_LOG_STDERR;
	e->log_level = LOG_DEBUG;
}

START_TEST(test_load_all_keys)
{
	static struct sc_conf expected;
	int r;

	all_keys_expected(&expected);
	sc_conf_defaults(&conf);
	memset(err, 'X', sizeof(err));
	r = sc_conf_load(&conf, src_path("tests/fixtures/conf/all-keys.conf"),
			 err, sizeof(err));
	ck_assert_msg(r == 0, "%d %s", r, err);
	ck_assert_str_eq(err, "");
	/* Field by field for readable failures, then the whole struct. */
	ck_assert_str_eq(conf.cache_file, expected.cache_file);
	ck_assert_uint_eq(conf.max_entries, expected.max_entries);
	ck_assert_uint_eq(conf.min_ttl, expected.min_ttl);
	ck_assert_uint_eq(conf.max_ttl, expected.max_ttl);
	ck_assert_uint_eq(conf.negative_ttl, expected.negative_ttl);
	ck_assert_uint_eq(conf.serve_stale, expected.serve_stale);
	ck_assert_uint_eq(conf.npolicy, expected.npolicy);
	ck_assert_str_eq(conf.hosts_file, expected.hosts_file);
	ck_assert_int_eq(conf.hosts_order, expected.hosts_order);
	ck_assert_int_eq(conf.hosts_in_res_query, expected.hosts_in_res_query);
	ck_assert_uint_eq(conf.nns, expected.nns);
	ck_assert_int_eq(conf.timeout, expected.timeout);
	ck_assert_int_eq(conf.attempts, expected.attempts);
	ck_assert_int_eq(conf.search, expected.search);
	ck_assert_int_eq(conf.family, expected.family);
	ck_assert_int_eq(conf.srv_order, expected.srv_order);
	ck_assert_int_eq(conf.prefetch, expected.prefetch);
	ck_assert_str_eq(conf.group, expected.group);
	ck_assert_int_eq(conf.log, expected.log);
	ck_assert_int_eq(conf.log_level, expected.log_level);
	ck_assert(memcmp(conf.ns, expected.ns, sizeof(conf.ns)) == 0);
	ck_assert(memcmp(conf.policy, expected.policy, sizeof(conf.policy)) == 0);
	ck_assert(memcmp(&conf, &expected, sizeof(conf)) == 0);
}
END_TEST

START_TEST(test_durations)
{
	static const struct {
		const char *text;
		uint32_t secs;
	} cases[] = {
		{ "0", 0 }, { "1", 1 }, { "90", 90 }, { "90s", 90 },
		{ "15m", 900 }, { "2h", 7200 }, { "1d", 86400 },
		{ "007", 7 }, { "2147483647", 2147483647u },
		{ "2147483647s", 2147483647u }, { "24855d", 2147472000u },
		{ "35791394m", 2147483640u },
	};
	char line[128];
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(cases); i++) {
		snprintf(line, sizeof(line), "serve_stale = %s\n", cases[i].text);
		parse_ok(line);
		ck_assert_msg(conf.serve_stale == cases[i].secs, "%s -> %u",
			      cases[i].text, conf.serve_stale);
	}
	parse_ok("min_ttl = 1m\nmax_ttl = 1m\nnegative_ttl = 5s\n");
	ck_assert_uint_eq(conf.min_ttl, 60);
	ck_assert_uint_eq(conf.max_ttl, 60);
	ck_assert_uint_eq(conf.negative_ttl, 5);
}
END_TEST

START_TEST(test_booleans_and_words)
{
	static const char *const yes[] = { "yes", "YES", "true", "True", "on", "ON", "1" };
	static const char *const no[] = { "no", "No", "false", "FALSE", "off", "Off", "0" };
	char line[128];
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(yes); i++) {
		snprintf(line, sizeof(line), "search = %s\nprefetch = %s\n", no[i], no[i]);
		parse_ok(line);
		ck_assert(!conf.search);
		ck_assert(!conf.prefetch);
		snprintf(line, sizeof(line), "hosts_in_res_query = %s\n", yes[i]);
		sc_conf_defaults(&conf);
		conf.hosts_in_res_query = false;
		ck_assert_int_eq(parse_into(&conf, line), 0);
		ck_assert(conf.hosts_in_res_query);
	}
	parse_ok("hosts_order = FILES-FIRST\nfamily = IPv6\nsrv_order = RFC2782\n"
		 "log = Off\nlog_level = Notice\n");
	ck_assert_int_eq(conf.hosts_order, SC_HOSTS_FILES_FIRST);
	ck_assert_int_eq(conf.family, SC_FAMILY_IPV6);
	ck_assert_int_eq(conf.srv_order, SC_SRV_RFC2782);
	ck_assert_int_eq(conf.log, SC_LOG_OFF);
	ck_assert_int_eq(conf.log_level, LOG_NOTICE);
	parse_ok("hosts_order = never\nfamily = ipv4\nlog_level = err\n");
	ck_assert_int_eq(conf.hosts_order, SC_HOSTS_NEVER);
	ck_assert_int_eq(conf.family, SC_FAMILY_IPV4);
	ck_assert_int_eq(conf.log_level, LOG_ERR);
	parse_ok("hosts_order = auto\nfamily = any\nlog_level = info\nlog = syslog\n");
	ck_assert_int_eq(conf.hosts_order, SC_HOSTS_AUTO);
	ck_assert_int_eq(conf.log_level, LOG_INFO);
	ck_assert_int_eq(conf.log, SC_LOG_SYSLOG);
}
END_TEST

START_TEST(test_numbers_at_bounds)
{
	parse_ok("max_entries = 16\ntimeout = 1\nattempts = 1\n");
	ck_assert_uint_eq(conf.max_entries, 16);
	ck_assert_int_eq(conf.timeout, 1);
	ck_assert_int_eq(conf.attempts, 1);
	parse_ok("max_entries = 16777216\ntimeout = 30\nattempts = 5\n");
	ck_assert_uint_eq(conf.max_entries, 16777216);
	ck_assert_int_eq(conf.timeout, 30);
	ck_assert_int_eq(conf.attempts, 5);
	/* The explicit spelling of the default. */
	sc_conf_defaults(&conf);
	conf.timeout = 9;
	conf.attempts = 4;
	ck_assert_int_eq(parse_into(&conf, "timeout = resolv.conf\nattempts = RESOLV.CONF\n"), 0);
	ck_assert_int_eq(conf.timeout, -1);
	ck_assert_int_eq(conf.attempts, -1);
}
END_TEST

START_TEST(test_paths_and_group)
{
	parse_ok("cache_file = /a#b\nhosts_file = /etc/hosts # trailing comment\n"
		 "group = _sip.voice-1\n");
	ck_assert_str_eq(conf.cache_file, "/a#b");
	ck_assert_str_eq(conf.hosts_file, "/etc/hosts");
	ck_assert_str_eq(conf.group, "_sip.voice-1");
	parse_ok("group = abcdefghijklmnopqrstuvwxyz012345\n"); /* 32 bytes */
	ck_assert_str_eq(conf.group, "abcdefghijklmnopqrstuvwxyz012345");
}
END_TEST

START_TEST(test_parse_over_existing_values)
{
	static struct sc_conf expected;
	const char *text = "max_ttl = 800\nnameserver = 192.0.2.2\n";

	/* Keys not in the file keep the caller's values; the first
	 * nameserver line replaces the inherited list, later ones append. */
	base_conf(&conf);
	conf.nns = 2;
	set_in4(&conf.ns[0], "192.0.2.100", 53);
	set_in4(&conf.ns[1], "192.0.2.101", 53);
	conf.npolicy = 1;
	conf.policy[0].suffix[0] = 0;
	conf.policy[0].min_ttl = 1;
	conf.policy[0].max_ttl = conf.policy[0].negative_ttl = -1;
	expected = conf;
	expected.max_ttl = 800;
	expected.nns = 1;
	set_in4(&expected.ns[0], "192.0.2.2", 53);
	ck_assert_int_eq(parse_into(&conf, text), 0);
	ck_assert(memcmp(&conf, &expected, sizeof(conf)) == 0);

	/* And a policy line replaces inherited policies. */
	ck_assert_int_eq(parse_into(&conf, "policy = example.org max_ttl=9\n"), 0);
	ck_assert_uint_eq(conf.npolicy, 1);
	ck_assert(memcmp(conf.policy[0].suffix, "\7example\3org", 13) == 0);
	ck_assert_int_eq(conf.policy[0].max_ttl, 9);
	ck_assert_uint_eq(conf.nns, 1); /* untouched this time */
}
END_TEST

/* ------------------------------------------------------------------ */
/* syntax: comments, CRLF, whitespace                                  */
/* ------------------------------------------------------------------ */

START_TEST(test_whitespace_and_comments)
{
	parse_ok("  min_ttl\t=\t5  # five\n"
		 "#max_ttl = 1\n"
		 "\tmax_ttl=600\n"
		 "\n"
		 "serve_stale = 9\t#\ttab comment\n");
	ck_assert_uint_eq(conf.min_ttl, 5);
	ck_assert_uint_eq(conf.max_ttl, 600);
	ck_assert_uint_eq(conf.serve_stale, 9);
	ck_assert_uint_eq(conf.negative_ttl, 60);
}
END_TEST

START_TEST(test_hash_without_blank_is_value)
{
	base_conf(&conf);
	ck_assert_int_eq(parse_into(&conf, "negative_ttl =7#x\n"), -EINVAL);
	ck_assert_str_eq(err, "t.conf:1: negative_ttl: invalid duration '7#x': "
			 "expected seconds, or a number with suffix s, m, h or d, "
			 "at most 2147483647 seconds");
}
END_TEST

START_TEST(test_crlf_bom_and_last_line)
{
	parse_ok("\xef\xbb\xbfmin_ttl = 5\r\n\r\nmax_ttl = 10\r\n# c\r\nsearch = no");
	ck_assert_uint_eq(conf.min_ttl, 5);
	ck_assert_uint_eq(conf.max_ttl, 10);
	ck_assert(!conf.search);
	parse_ok("group = voip\r");
	ck_assert_str_eq(conf.group, "voip");
}
END_TEST

START_TEST(test_lone_cr_is_an_error)
{
	base_conf(&conf);
	ck_assert_int_eq(parse_into(&conf, "min_ttl = 5\rmax_ttl = 6\n"), -EINVAL);
	ck_assert_str_eq(err, "t.conf:1: min_ttl: control character 0x0d in line "
			 "(only tabs, and CR before the line end, are allowed)");
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = "min_ttl = 5\nmax_ttl = 6\0\n";
	struct sc_conf before;

	base_conf(&conf);
	before = conf;
	memset(err, 'X', sizeof(err));
	ck_assert_int_eq(sc_conf_parse(&conf, "t.conf", text, sizeof(text) - 1,
				       err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t.conf:2: max_ttl: control character 0x00 in line "
			 "(only tabs, and CR before the line end, are allowed)");
	ck_assert(memcmp(&conf, &before, sizeof(conf)) == 0);
}
END_TEST

START_TEST(test_line_length_bound)
{
	static char text[8300], expected[128];
	size_t n;

	/* Exactly 8192 bytes before the newline: accepted. */
	memset(text, 'x', sizeof(text));
	text[0] = '#';
	text[8192] = '\n';
	text[8193] = '\0';
	parse_ok(text);
	/* Same with CRLF: the CR is part of the line end. */
	text[8192] = '\r';
	text[8193] = '\n';
	text[8194] = '\0';
	parse_ok(text);
	/* 8193: refused, named by the first word of the line. */
	text[8192] = 'x';
	text[8193] = '\n';
	text[8194] = '\0';
	sc_conf_defaults(&conf);
	ck_assert_int_eq(parse_into(&conf, text), -EINVAL);
	snprintf(expected, sizeof(expected), "t.conf:1: #%.47s...: line longer "
		 "than 8192 bytes", text + 1);
	ck_assert_str_eq(err, expected);

	n = (size_t)snprintf(text, sizeof(text), "min_ttl = 1\ncache_file = /");
	memset(text + n, 'p', 8200);
	strcpy(text + n + 8200, "\n");
	ck_assert_int_eq(parse_into(&conf, text), -EINVAL);
	ck_assert_str_eq(err, "t.conf:2: cache_file: line longer than 8192 bytes");
}
END_TEST

/* ------------------------------------------------------------------ */
/* errors: exact messages, nothing applied                             */
/* ------------------------------------------------------------------ */

#define DUR "expected seconds, or a number with suffix s, m, h or d, at most 2147483647 seconds"
#define BOOL "expected yes, no, true, false, on, off, 1 or 0"
#define NSADDR "expected IPv4, IPv4:PORT, IPv6, [IPv6]:PORT (PORT 1-65535) or resolv.conf"
#define PATHMSG "expected an absolute path to a file, shorter than 4096 bytes"
#define GROUPMSG "expected up to 32 letters, digits, '_', '.' or '-', starting with a letter or '_'"
#define POLSUF "expected a domain name, then one or more of min_ttl=N, max_ttl=N, negative_ttl=N"
#define POLITEM "expected min_ttl=N, max_ttl=N or negative_ttl=N, without spaces around '='"
#define UNKNOWN "unknown key (every key is listed in sipcache.conf(5) and the shipped /etc/sipcache.conf)"
#define ONEVAL "(values contain no spaces; '#' after a space starts a comment)"

static const struct bad_case {
	const char *text;
	const char *msg;
} bad_cases[] = {
	/* syntax */
	{ "foo = 1\n", "t.conf:1: foo: " UNKNOWN },
	{ "Cache_File = /x\n", "t.conf:1: Cache_File: " UNKNOWN },
	{ "cache_file /x\n", "t.conf:1: cache_file: expected 'key = value'" },
	{ "cache_file\n", "t.conf:1: cache_file: expected 'key = value'" },
	{ "= 5\n", "t.conf:1: (no key): expected 'key = value'" },
	{ "cache file = /x\n", "t.conf:1: cache: expected 'key = value'" },
	{ "min_ttl =\n", "t.conf:1: min_ttl: missing value after '='" },
	{ "min_ttl = # comment\n", "t.conf:1: min_ttl: missing value after '='" },
	{ "min_ttl = 1 2\n", "t.conf:1: min_ttl: expected one value, found '1 2' " ONEVAL },
	{ "min_ttl = 1\x01\n", "t.conf:1: min_ttl: control character 0x01 in line "
	  "(only tabs, and CR before the line end, are allowed)" },
	{ "\n# c\n\nmax_ttl = 1\x7f\n", "t.conf:4: max_ttl: control character 0x7f in line "
	  "(only tabs, and CR before the line end, are allowed)" },
	{ "\x01key = 1\n", "t.conf:1: ?key: control character 0x01 in line "
	  "(only tabs, and CR before the line end, are allowed)" },
	{ "0123456789012345678901234567890123456789012345678901234567890123456789 = 1\n",
	  "t.conf:1: 012345678901234567890123456789012345678901234567...: " UNKNOWN },
	/* duplicates */
	{ "min_ttl = 1\nmin_ttl = 1\n", "t.conf:2: min_ttl: already set on line 1 "
	  "(only nameserver and policy may repeat)" },
	{ "search = yes\n\n# x\nsearch = no\n", "t.conf:4: search: already set on "
	  "line 1 (only nameserver and policy may repeat)" },
	{ "timeout = resolv.conf\ntimeout = 2\n", "t.conf:2: timeout: already set "
	  "on line 1 (only nameserver and policy may repeat)" },
	/* paths */
	{ "cache_file = relative/x\n", "t.conf:1: cache_file: invalid path 'relative/x': " PATHMSG },
	{ "cache_file = /var/cache/\n", "t.conf:1: cache_file: invalid path '/var/cache/': " PATHMSG },
	{ "hosts_file = hosts\n", "t.conf:1: hosts_file: invalid path 'hosts': " PATHMSG },
	{ "hosts_file = /\n", "t.conf:1: hosts_file: invalid path '/': " PATHMSG },
	/* counts */
	{ "max_entries = 15\n", "t.conf:1: max_entries: invalid value '15': expected an integer from 16 to 16777216" },
	{ "max_entries = 16777217\n", "t.conf:1: max_entries: invalid value '16777217': expected an integer from 16 to 16777216" },
	{ "max_entries = -1\n", "t.conf:1: max_entries: invalid value '-1': expected an integer from 16 to 16777216" },
	{ "max_entries = +100\n", "t.conf:1: max_entries: invalid value '+100': expected an integer from 16 to 16777216" },
	{ "max_entries = 0x100\n", "t.conf:1: max_entries: invalid value '0x100': expected an integer from 16 to 16777216" },
	{ "max_entries = 1e3\n", "t.conf:1: max_entries: invalid value '1e3': expected an integer from 16 to 16777216" },
	{ "max_entries = 99999999999999999999999\n", "t.conf:1: max_entries: invalid value '99999999999999999999999': expected an integer from 16 to 16777216" },
	/* durations */
	{ "min_ttl = 5x\n", "t.conf:1: min_ttl: invalid duration '5x': " DUR },
	{ "min_ttl = s\n", "t.conf:1: min_ttl: invalid duration 's': " DUR },
	{ "min_ttl = 5ss\n", "t.conf:1: min_ttl: invalid duration '5ss': " DUR },
	{ "max_ttl = 2147483648\n", "t.conf:1: max_ttl: invalid duration '2147483648': " DUR },
	{ "max_ttl = 24856d\n", "t.conf:1: max_ttl: invalid duration '24856d': " DUR },
	{ "max_ttl = 35791395m\n", "t.conf:1: max_ttl: invalid duration '35791395m': " DUR },
	{ "negative_ttl = -5\n", "t.conf:1: negative_ttl: invalid duration '-5': " DUR },
	{ "serve_stale = 1H\n", "t.conf:1: serve_stale: invalid duration '1H': " DUR },
	{ "serve_stale = 1.5h\n", "t.conf:1: serve_stale: invalid duration '1.5h': " DUR },
	{ "serve_stale = 10 s\n", "t.conf:1: serve_stale: expected one value, found '10 s' " ONEVAL },
	/* min <= max, checked after the whole file */
	{ "min_ttl = 100\n# c\nmax_ttl = 50\n", "t.conf:3: max_ttl: min_ttl 100 is "
	  "greater than max_ttl 50 (min_ttl must be at most max_ttl)" },
	{ "max_ttl = 50\nsearch = no\nmin_ttl = 100\nprefetch = no\n", "t.conf:3: min_ttl: "
	  "min_ttl 100 is greater than max_ttl 50 (min_ttl must be at most max_ttl)" },
	/* against the inherited max_ttl 700 of base_conf() */
	{ "search = no\nmin_ttl = 701\n", "t.conf:2: min_ttl: min_ttl 701 is greater "
	  "than max_ttl 700 (min_ttl must be at most max_ttl)" },
	/* booleans and enumerations */
	{ "hosts_in_res_query = maybe\n", "t.conf:1: hosts_in_res_query: invalid value 'maybe': " BOOL },
	{ "search = 2\n", "t.conf:1: search: invalid value '2': " BOOL },
	{ "prefetch = nope\n", "t.conf:1: prefetch: invalid value 'nope': " BOOL },
	{ "hosts_order = files\n", "t.conf:1: hosts_order: invalid value 'files': expected auto, files-first, dns-first or never" },
	{ "family = ipv46\n", "t.conf:1: family: invalid value 'ipv46': expected any, ipv4, ipv6 or prefer-ipv6" },
	{ "srv_order = random\n", "t.conf:1: srv_order: invalid value 'random': expected keep, rfc2782 or rfc2782-weights" },
	{ "log = file\n", "t.conf:1: log: invalid value 'file': expected syslog, stderr or off" },
	{ "log_level = warn\n", "t.conf:1: log_level: invalid value 'warn': expected err, warning, notice, info or debug" },
	{ "log_level = 4\n", "t.conf:1: log_level: invalid value '4': expected err, warning, notice, info or debug" },
	/* resolv.conf-or-number */
	{ "timeout = 0\n", "t.conf:1: timeout: invalid value '0': expected an integer from 1 to 30, or resolv.conf" },
	{ "timeout = 31\n", "t.conf:1: timeout: invalid value '31': expected an integer from 1 to 30, or resolv.conf" },
	{ "attempts = 6\n", "t.conf:1: attempts: invalid value '6': expected an integer from 1 to 5, or resolv.conf" },
	{ "attempts = resolv\n", "t.conf:1: attempts: invalid value 'resolv': expected an integer from 1 to 5, or resolv.conf" },
	/* group */
	{ "group = 1000\n", "t.conf:1: group: invalid group name '1000': " GROUPMSG },
	{ "group = -bad\n", "t.conf:1: group: invalid group name '-bad': " GROUPMSG },
	{ "group = sip$\n", "t.conf:1: group: invalid group name 'sip$': " GROUPMSG },
	{ "group = gr\xc3\xbcn\n", "t.conf:1: group: invalid group name 'gr\xc3\xbcn': " GROUPMSG },
	{ "group = abcdefghijklmnopqrstuvwxyz0123456\n", "t.conf:1: group: invalid group "
	  "name 'abcdefghijklmnopqrstuvwxyz0123456': " GROUPMSG },
	/* nameservers */
	{ "nameserver = 1.2.3\n", "t.conf:1: nameserver: invalid address '1.2.3': " NSADDR },
	{ "nameserver = example.com\n", "t.conf:1: nameserver: invalid address 'example.com': " NSADDR },
	{ "nameserver = 1.2.3.4:0\n", "t.conf:1: nameserver: invalid address '1.2.3.4:0': " NSADDR },
	{ "nameserver = 1.2.3.4:65536\n", "t.conf:1: nameserver: invalid address '1.2.3.4:65536': " NSADDR },
	{ "nameserver = 1.2.3.4:\n", "t.conf:1: nameserver: invalid address '1.2.3.4:': " NSADDR },
	{ "nameserver = 1.2.3.4:53x\n", "t.conf:1: nameserver: invalid address '1.2.3.4:53x': " NSADDR },
	{ "nameserver = [1.2.3.4]:53\n", "t.conf:1: nameserver: invalid address '[1.2.3.4]:53': " NSADDR },
	{ "nameserver = [::1\n", "t.conf:1: nameserver: invalid address '[::1': " NSADDR },
	{ "nameserver = [::1]53\n", "t.conf:1: nameserver: invalid address '[::1]53': " NSADDR },
	{ "nameserver = [::1]:\n", "t.conf:1: nameserver: invalid address '[::1]:': " NSADDR },
	{ "nameserver = ::g\n", "t.conf:1: nameserver: invalid address '::g': " NSADDR },
	{ "nameserver = fe80::1%0\n", "t.conf:1: nameserver: invalid address 'fe80::1%0': " NSADDR },
	{ "nameserver = fe80::1%\n", "t.conf:1: nameserver: invalid address 'fe80::1%': unknown interface after '%'" },
	{ "nameserver = fe80::1%nosuchif9\n", "t.conf:1: nameserver: invalid address "
	  "'fe80::1%nosuchif9': unknown interface after '%'" },
	{ "nameserver = 192.0.2.1\nnameserver = 192.0.2.1:53\n", "t.conf:2: nameserver: "
	  "'192.0.2.1:53' is already listed on line 1" },
	{ "nameserver = ::1\nnameserver = [::1]:53\n", "t.conf:2: nameserver: "
	  "'[::1]:53' is already listed on line 1" },
	{ "nameserver = 192.0.2.1\nnameserver = 192.0.2.2\nnameserver = 192.0.2.3\n"
	  "nameserver = 192.0.2.4\n", "t.conf:4: nameserver: too many nameservers: at most 3" },
	{ "nameserver = resolv.conf\nnameserver = 192.0.2.1\n", "t.conf:2: nameserver: "
	  "'192.0.2.1' cannot be combined with 'nameserver = resolv.conf' (line 1)" },
	{ "nameserver = 192.0.2.1\nnameserver = resolv.conf\n", "t.conf:2: nameserver: "
	  "'resolv.conf' cannot be combined with other nameserver lines (line 1)" },
	/* policies */
	{ "policy = example.com\n", "t.conf:1: policy: no TTL given: expected one or "
	  "more of min_ttl=N, max_ttl=N, negative_ttl=N after the suffix" },
	{ "policy = min_ttl=5\n", "t.conf:1: policy: invalid suffix 'min_ttl=5': " POLSUF },
	{ "policy = a..b min_ttl=5\n", "t.conf:1: policy: invalid suffix 'a..b': " POLSUF },
	{ "policy = a\\ min_ttl=5\n", "t.conf:1: policy: invalid suffix 'a\\': " POLSUF },
	{ "policy = 0123456789012345678901234567890123456789012345678901234567890123.com min_ttl=5\n",
	  "t.conf:1: policy: invalid suffix '012345678901234567890123456789012345678901234567...': " POLSUF },
	{ "policy = example.com ttl=5\n", "t.conf:1: policy: invalid item 'ttl': " POLITEM },
	{ "policy = example.com min_ttl = 5\n", "t.conf:1: policy: invalid item 'min_ttl': " POLITEM },
	{ "policy = example.com min_ttl\n", "t.conf:1: policy: invalid item 'min_ttl': " POLITEM },
	{ "policy = example.com min_ttl=5x\n", "t.conf:1: policy: invalid min_ttl '5x': " DUR },
	{ "policy = example.com negative_ttl=\n", "t.conf:1: policy: invalid negative_ttl '': " DUR },
	{ "policy = example.com min_ttl=1 min_ttl=2\n", "t.conf:1: policy: min_ttl given twice on one line" },
	{ "policy = example.com min_ttl=10 max_ttl=5\n", "t.conf:1: policy: min_ttl 10 is greater than max_ttl 5" },
	{ "policy = Example.COM. min_ttl=1\npolicy = example.com max_ttl=5\n",
	  "t.conf:2: policy: a policy for this suffix is already set on line 1" },
	{ "max_ttl = 60\npolicy = example.com min_ttl=120\n", "t.conf:2: policy: the policy "
	  "of line 2 gets min_ttl 120, greater than its max_ttl 60 (min_ttl must be at most max_ttl)" },
	{ "policy = example.com min_ttl=120\n\nmax_ttl = 60\n", "t.conf:3: max_ttl: the policy "
	  "of line 1 gets min_ttl 120, greater than its max_ttl 60 (min_ttl must be at most max_ttl)" },
	{ "max_ttl = 1000\npolicy = example.com max_ttl=10\nmin_ttl = 20\n", "t.conf:3: min_ttl: "
	  "the policy of line 2 gets min_ttl 20, greater than its max_ttl 10 (min_ttl must be at most max_ttl)" },
};

START_TEST(test_bad_value)
{
	const struct bad_case *bc = &bad_cases[_i];
	struct sc_conf before;
	int r;

	base_conf(&conf);
	before = conf;
	r = parse_into(&conf, bc->text);
	ck_assert_msg(r == -EINVAL, "<%s>: %d", bc->text, r);
	ck_assert_str_eq(err, bc->msg);
	/* Nothing of the lines before the bad one is applied. */
	ck_assert_msg(memcmp(&conf, &before, sizeof(conf)) == 0, "<%s> changed c", bc->text);
}
END_TEST

START_TEST(test_error_after_good_lines_applies_nothing)
{
	static struct sc_conf before;
	const char *text =
		"cache_file = /x/y.tdb\nmax_entries = 100\nnameserver = 192.0.2.1\n"
		"policy = example.com min_ttl=1\nfamily = ipv6\nlog = stderr\n"
		"log_level = bogus\n";

	base_conf(&conf);
	before = conf;
	ck_assert_int_eq(parse_into(&conf, text), -EINVAL);
	ck_assert_str_eq(err, "t.conf:7: log_level: invalid value 'bogus': expected "
			 "err, warning, notice, info or debug");
	ck_assert(memcmp(&conf, &before, sizeof(conf)) == 0);
}
END_TEST

START_TEST(test_error_buffer_bounds)
{
	char small[16];
	struct sc_conf before;

	base_conf(&conf);
	before = conf;
	/* NULL buffer: still the right code, nothing written anywhere. */
	ck_assert_int_eq(sc_conf_parse(&conf, "t.conf", "foo = 1\n", 8, NULL, 0), -EINVAL);
	/* A short buffer is cut, NUL-terminated, and nothing past it touched. */
	memset(small, 'X', sizeof(small));
	ck_assert_int_eq(sc_conf_parse(&conf, "t.conf", "foo = 1\n", 8, small, 8), -EINVAL);
	ck_assert_str_eq(small, "t.conf:");
	ck_assert_int_eq(small[8], 'X');
	memset(small, 'X', sizeof(small));
	ck_assert_int_eq(sc_conf_parse(&conf, "t.conf", "foo = 1\n", 8, small, 14), -EINVAL);
	ck_assert_str_eq(small, "t.conf:1: foo");
	ck_assert_int_eq(small[14], 'X');
	ck_assert(memcmp(&conf, &before, sizeof(conf)) == 0);
	/* The path given is the one named. */
	memset(err, 'X', sizeof(err));
	ck_assert_int_eq(sc_conf_parse(&conf, "/etc/other.conf", "\nfoo = 1\n", 9,
				       err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/etc/other.conf:2: foo: " UNKNOWN);
	/* On success the buffer is emptied. */
	memset(err, 'X', sizeof(err));
	ck_assert_int_eq(sc_conf_parse(&conf, "t.conf", "", 0, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
}
END_TEST

/* ------------------------------------------------------------------ */
/* nameserver forms                                                    */
/* ------------------------------------------------------------------ */

START_TEST(test_nameserver_forms)
{
	static const struct {
		const char *text;
		int family;
		const char *addr;
		uint16_t port;
		uint32_t scope;
	} cases[] = {
		{ "192.0.2.1", AF_INET, "192.0.2.1", 53, 0 },
		{ "192.0.2.1:5353", AF_INET, "192.0.2.1", 5353, 0 },
		{ "127.0.0.1:1", AF_INET, "127.0.0.1", 1, 0 },
		{ "10.0.0.1:65535", AF_INET, "10.0.0.1", 65535, 0 },
		{ "2001:db8::1", AF_INET6, "2001:db8::1", 53, 0 },
		{ "::1", AF_INET6, "::1", 53, 0 },
		/* A bare IPv6 address takes no port: these are addresses. */
		{ "::1:53", AF_INET6, "::1:53", 53, 0 },
		{ "[2001:db8::1]:5300", AF_INET6, "2001:db8::1", 5300, 0 },
		{ "[::1]", AF_INET6, "::1", 53, 0 },
		{ "::ffff:192.0.2.7", AF_INET6, "::ffff:192.0.2.7", 53, 0 },
		{ "fe80::1%3", AF_INET6, "fe80::1", 53, 3 },
		{ "[fe80::1%7]:54", AF_INET6, "fe80::1", 54, 7 },
	};
	struct sockaddr_storage want;
	char line[128];
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(cases); i++) {
		snprintf(line, sizeof(line), "nameserver = %s\n", cases[i].text);
		parse_ok(line);
		ck_assert_uint_eq(conf.nns, 1);
		if (cases[i].family == AF_INET) {
			set_in4(&want, cases[i].addr, cases[i].port);
		} else {
			set_in6(&want, cases[i].addr, cases[i].port, cases[i].scope);
		}
		ck_assert_msg(memcmp(&conf.ns[0], &want, sizeof(want)) == 0,
			      "%s parsed wrong", cases[i].text);
	}
}
END_TEST

START_TEST(test_nameserver_interface_scope)
{
	struct sockaddr_storage want;
	unsigned idx = if_nametoindex("lo");

	ck_assert_uint_ne(idx, 0);
	parse_ok("nameserver = fe80::53%lo\n");
	set_in6(&want, "fe80::53", 53, idx);
	ck_assert(memcmp(&conf.ns[0], &want, sizeof(want)) == 0);
}
END_TEST

START_TEST(test_nameserver_list)
{
	struct sockaddr_storage want[3];

	parse_ok("nameserver = 192.0.2.1\n# between\nnameserver = [2001:db8::2]:5353\n"
		 "nameserver = 192.0.2.1:54\n");
	ck_assert_uint_eq(conf.nns, 3);
	set_in4(&want[0], "192.0.2.1", 53);
	set_in6(&want[1], "2001:db8::2", 5353, 0);
	set_in4(&want[2], "192.0.2.1", 54);
	ck_assert(memcmp(conf.ns, want, sizeof(want)) == 0);

	/* resolv.conf: the explicit default, and it drops an inherited list. */
	sc_conf_defaults(&conf);
	conf.nns = 1;
	set_in4(&conf.ns[0], "192.0.2.9", 53);
	ck_assert_int_eq(parse_into(&conf, "nameserver = resolv.conf\n"), 0);
	ck_assert_uint_eq(conf.nns, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* policies                                                            */
/* ------------------------------------------------------------------ */

START_TEST(test_policy_lines)
{
	parse_ok("policy = SIP.Example.COM. min_ttl=5m max_ttl=1h negative_ttl=0\n"
		 "policy\t=\texample.com\tmax_ttl=60   # comment\n"
		 "policy = a\\.b.example min_ttl=1\n"
		 "policy = . negative_ttl=30\n");
	ck_assert_uint_eq(conf.npolicy, 4);
	ck_assert(memcmp(conf.policy[0].suffix, "\3sip\7example\3com", 17) == 0);
	ck_assert_int_eq(conf.policy[0].min_ttl, 300);
	ck_assert_int_eq(conf.policy[0].max_ttl, 3600);
	ck_assert_int_eq(conf.policy[0].negative_ttl, 0);
	ck_assert(memcmp(conf.policy[1].suffix, "\7example\3com", 13) == 0);
	ck_assert_int_eq(conf.policy[1].min_ttl, -1);
	ck_assert_int_eq(conf.policy[1].max_ttl, 60);
	ck_assert_int_eq(conf.policy[1].negative_ttl, -1);
	/* An escaped dot is part of the label. */
	ck_assert(memcmp(conf.policy[2].suffix, "\3a.b\7example", 13) == 0);
	ck_assert_int_eq(conf.policy[3].suffix[0], 0);
	ck_assert_int_eq(conf.policy[3].negative_ttl, 30);
}
END_TEST

START_TEST(test_policy_limit)
{
	static char text[4096];
	size_t n = 0;
	int i;

	for (i = 0; i < SC_CONF_MAXPOLICY; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "policy = d%d.example min_ttl=%d\n", i, i);
	}
	parse_ok(text);
	ck_assert_uint_eq(conf.npolicy, SC_CONF_MAXPOLICY);
	ck_assert_int_eq(conf.policy[31].min_ttl, 31);
	snprintf(text + n, sizeof(text) - n, "policy = one.more min_ttl=1\n");
	base_conf(&conf);
	ck_assert_int_eq(parse_into(&conf, text), -EINVAL);
	ck_assert_str_eq(err, "t.conf:33: policy: too many policy lines: at most 32");
}
END_TEST

START_TEST(test_policy_for_longest_suffix)
{
	const struct sc_name_policy *p;

	parse_ok("policy = example.com min_ttl=1\n"
		 "policy = sip.example.com min_ttl=2\n"
		 "policy = _udp.sip.example.com min_ttl=3\n"
		 "policy = net min_ttl=4\n");
	/* The longest wins, whatever the order of the lines. */
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\4_sip\4_udp\3sip\7example\3com");
	ck_assert_ptr_eq(p, &conf.policy[2]);
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\4_sip\4_tcp\3sip\7example\3com");
	ck_assert_ptr_eq(p, &conf.policy[1]);
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\3sip\7example\3com");
	ck_assert_ptr_eq(p, &conf.policy[1]);
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\7example\3com");
	ck_assert_ptr_eq(p, &conf.policy[0]);
	/* Any case. */
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\3WWW\3SiP\7EXAMPLE\3CoM");
	ck_assert_ptr_eq(p, &conf.policy[1]);
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\7example\3NET");
	ck_assert_ptr_eq(p, &conf.policy[3]);
	/* Only on label boundaries. */
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\12badexample\3com");
	ck_assert_ptr_null(p);
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\5xxsip\7example\3com");
	ck_assert_ptr_eq(p, &conf.policy[0]);
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\7example\3org");
	ck_assert_ptr_null(p);
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\3com");
	ck_assert_ptr_null(p);
	p = sc_conf_policy_for(&conf, (const unsigned char *)"");
	ck_assert_ptr_null(p);
	/* Malformed names match nothing. */
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\100xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\3net");
	ck_assert_ptr_null(p);
	ck_assert_ptr_null(sc_conf_policy_for(&conf, NULL));
}
END_TEST

START_TEST(test_policy_for_root_and_long_names)
{
	static unsigned char name[256];
	const struct sc_name_policy *p;
	size_t n = 0;
	int i;

	parse_ok("policy = . min_ttl=1\npolicy = net min_ttl=2\n");
	p = sc_conf_policy_for(&conf, (const unsigned char *)"\7example\3org");
	ck_assert_ptr_eq(p, &conf.policy[0]);
	p = sc_conf_policy_for(&conf, (const unsigned char *)"");
	ck_assert_ptr_eq(p, &conf.policy[0]);
	/* 255 bytes, the longest name: 3 labels of 63, one of 61, root. */
	for (i = 0; i < 3; i++) {
		name[n++] = 63;
		memset(name + n, 'a', 63);
		n += 63;
	}
	name[n++] = 57;
	memset(name + n, 'b', 57);
	n += 57;
	memcpy(name + n, "\3net", 5);
	n += 5;
	ck_assert_uint_eq(n, 255);
	p = sc_conf_policy_for(&conf, name);
	ck_assert_ptr_eq(p, &conf.policy[1]);
	/* One byte more: not a name. */
	name[192] = 58;
	memset(name + 193, 'b', 58);
	memcpy(name + 251, "\3net", 5);
	p = sc_conf_policy_for(&conf, name);
	ck_assert_ptr_null(p);
	/* No policy at all. */
	sc_conf_defaults(&conf);
	ck_assert_ptr_null(sc_conf_policy_for(&conf, (const unsigned char *)"\3net"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* the environment, and secure-execution mode                          */
/* ------------------------------------------------------------------ */

START_TEST(test_env_conf_path)
{
	unsetenv("SIPCACHE_CONF");
	ck_assert_str_eq(sc_conf_path(), SC_CONF_PATH);
	ck_assert_str_eq(sc_conf_path(), "/etc/sipcache.conf");
	setenv("SIPCACHE_CONF", "/tmp/other.conf", 1);
	ck_assert_str_eq(sc_conf_path(), "/tmp/other.conf");
	setenv("SIPCACHE_CONF", "", 1);
	ck_assert_str_eq(sc_conf_path(), "/etc/sipcache.conf");
}
END_TEST

START_TEST(test_env_disable)
{
	static const struct {
		const char *v;
		bool disabled;
	} cases[] = {
		{ "1", true }, { "yes", true }, { "true", true }, { "ON", true },
		{ "0", false }, { "no", false }, { "", false }, { "2", false },
		{ "bogus", false }, { " 1", false },
	};
	size_t i;

	unsetenv("SIPCACHE_DISABLE");
	ck_assert(!sc_conf_disabled_by_env());
	for (i = 0; i < SC_ARRAY_SIZE(cases); i++) {
		setenv("SIPCACHE_DISABLE", cases[i].v, 1);
		ck_assert_msg(sc_conf_disabled_by_env() == cases[i].disabled,
			      "SIPCACHE_DISABLE=%s", cases[i].v);
	}
}
END_TEST

/* Run `exe --conf-probe' with SIPCACHE_CONF and SIPCACHE_DISABLE set;
 * returns its output. */
static void run_probe(const char *exe, char *out, size_t outlen)
{
	char *argv[] = { (char *)exe, (char *)"--conf-probe", NULL };
	char *envp[256];
	size_t n = 0, len = 0;
	int pipefd[2], status;
	ssize_t r;
	pid_t pid;
	char **e;

	envp[n++] = (char *)"SIPCACHE_CONF=/nonexistent/probe.conf";
	envp[n++] = (char *)"SIPCACHE_DISABLE=1";
	for (e = environ; *e != NULL && n + 1 < SC_ARRAY_SIZE(envp); e++) {
		if (strncmp(*e, "SIPCACHE_", 9) != 0) {
			envp[n++] = *e;
		}
	}
	envp[n] = NULL;
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execve(exe, argv, envp);
		_exit(127);
	}
	close(pipefd[1]);
	while (len + 1 < outlen && (r = read(pipefd[0], out + len, outlen - 1 - len)) > 0) {
		len += (size_t)r;
	}
	out[len] = '\0';
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "probe %s failed: status %d, output <%s>", exe, status, out);
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in, outfd, r = 0;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		return -errno;
	}
	outfd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (outfd < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(outfd, buf, (size_t)n) != n) {
			r = -EIO;
			break;
		}
	}
	if (n < 0) {
		r = -errno;
	}
	close(in);
	if (close(outfd) != 0 && r == 0) {
		r = -errno;
	}
	return r;
}

/*
 * Proof that both variables are read through secure_getenv(): a copy of
 * this binary is made set-user-ID (to nobody, when we are root) or
 * set-group-ID (to a supplementary group of ours otherwise) and run with
 * SIPCACHE_CONF and SIPCACHE_DISABLE set.  The kernel starts such a
 * program in secure-execution mode (AT_SECURE = 1, which the probe
 * reports, so the test cannot pass without it), and there the variables
 * must be ignored; the same copy without the mode bit must honour them.
 * The copy goes on a file system without `nosuid'.
 */
START_TEST(test_env_ignored_in_secure_execution)
{
	char exe[PATH_MAX], dir[PATH_MAX + 32], probe[PATH_MAX + 64], out[512];
	const char *cands[3];
	gid_t groups[256];
	gid_t sgid = (gid_t)-1;
	struct statvfs vfs;
	ssize_t n;
	int i, ng;
	char *slash;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	cands[0] = exe;      /* the build directory, cut below */
	cands[1] = "/tmp";
	cands[2] = "/var/tmp";
	slash = strrchr(exe, '/');
	ck_assert_ptr_nonnull(slash);
	dir[0] = '\0';
	for (i = 0; i < 3; i++) {
		char base[PATH_MAX];

		snprintf(base, sizeof(base), "%s", cands[i]);
		if (i == 0) {
			base[slash - exe] = '\0';
		}
		if (statvfs(base, &vfs) != 0 || (vfs.f_flag & ST_NOSUID)) {
			continue;
		}
		snprintf(dir, sizeof(dir), "%s/conf-probe.XXXXXX", base);
		if (mkdtemp(dir) != NULL) {
			break;
		}
		dir[0] = '\0';
	}
	ck_assert_msg(dir[0] != '\0', "no writable file system without nosuid");
	cleanup_register(dir);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(probe, sizeof(probe), "%s/probe", dir);
	ck_assert_int_eq(copy_file(exe, probe), 0);

	/* Control: not secure, the variables count. */
	run_probe(probe, out, sizeof(out));
	ck_assert_str_eq(out, "secure=0 path=/nonexistent/probe.conf disabled=1\n");

	if (geteuid() == 0) {
		ck_assert_int_eq(chown(probe, 65534, 65534), 0);
		ck_assert_int_eq(chmod(probe, 04755), 0);
	} else {
		ng = getgroups(SC_ARRAY_SIZE(groups), groups);
		for (i = 0; i < ng; i++) {
			if (groups[i] != getgid()) {
				sgid = groups[i];
				break;
			}
		}
		if (sgid == (gid_t)-1) {
			fprintf(stderr, "check_conf: secure-execution test NOT RUN: "
				"needs root or a supplementary group\n");
			return;
		}
		ck_assert_int_eq(chown(probe, (uid_t)-1, sgid), 0);
		ck_assert_int_eq(chmod(probe, 02755), 0);
	}
	run_probe(probe, out, sizeof(out));
	ck_assert_str_eq(out, "secure=1 path=/etc/sipcache.conf disabled=0\n");
}
END_TEST

static int conf_probe(void)
{
	/* _exit: no atexit handlers, so no leak check (LeakSanitizer cannot
	 * ptrace a set-user-ID process and would fail the run). */
	printf("secure=%lu path=%s disabled=%d\n", getauxval(AT_SECURE),
	       sc_conf_path(), sc_conf_disabled_by_env());
	fflush(stdout);
	_exit(0);
}

/* ------------------------------------------------------------------ */
/* loading files                                                       */
/* ------------------------------------------------------------------ */

static char tmpdir[PATH_MAX];

static void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_conf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	cleanup_register(tmpdir);
}

static void tmp_teardown(void)
{
	cleanup_at_exit();
}

static const char *tmp_file(const char *name, const void *data, size_t len)
{
	static char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		n++;
	}
	closedir(d);
	return n;
}

START_TEST(test_load_file)
{
	const char *path = tmp_file("a.conf", "min_ttl = 3\n", 12);

	sc_conf_defaults(&conf);
	memset(err, 'X', sizeof(err));
	ck_assert_int_eq(sc_conf_load(&conf, path, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(conf.min_ttl, 3);
}
END_TEST

START_TEST(test_load_errors_name_the_file)
{
	char expected[PATH_MAX + 128];
	struct sc_conf before;
	const char *path = tmp_file("bad.conf", "# x\nmin_ttl = 3\nmin_ttl = 4\n", 28);
	int fds = count_fds();

	base_conf(&conf);
	before = conf;
	ck_assert_int_eq(sc_conf_load(&conf, path, err, sizeof(err)), -EINVAL);
	snprintf(expected, sizeof(expected), "%s:3: min_ttl: already set on line 2 "
		 "(only nameserver and policy may repeat)", path);
	ck_assert_str_eq(err, expected);
	ck_assert(memcmp(&conf, &before, sizeof(conf)) == 0);
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(test_load_missing_and_odd_files)
{
	char path[PATH_MAX + 64], expected[PATH_MAX + 128];
	struct sc_conf before;
	int fds = count_fds();

	base_conf(&conf);
	before = conf;
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	memset(err, 'X', sizeof(err));
	ck_assert_int_eq(sc_conf_load(&conf, path, err, sizeof(err)), -ENOENT);
	snprintf(expected, sizeof(expected), "%s: No such file or directory", path);
	ck_assert_str_eq(err, expected);

	ck_assert_int_eq(sc_conf_load(&conf, tmpdir, err, sizeof(err)), -EISDIR);
	snprintf(expected, sizeof(expected), "%s: Is a directory", tmpdir);
	ck_assert_str_eq(err, expected);

	/* A FIFO with no writer: an open for reading would block forever
	 * without O_NONBLOCK; it must be refused at once. */
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	alarm(5);
	ck_assert_int_eq(sc_conf_load(&conf, path, err, sizeof(err)), -EINVAL);
	alarm(0);
	snprintf(expected, sizeof(expected), "%s: not a regular file", path);
	ck_assert_str_eq(err, expected);

	ck_assert(memcmp(&conf, &before, sizeof(conf)) == 0);
	ck_assert_int_eq(count_fds(), fds);

	/* /dev/null: an empty configuration. */
	ck_assert_int_eq(sc_conf_load(&conf, "/dev/null", err, sizeof(err)), 0);
	ck_assert(memcmp(&conf, &before, sizeof(conf)) == 0);
}
END_TEST

START_TEST(test_load_size_bound)
{
	static char big[1024 * 1024 + 1];
	char expected[PATH_MAX + 128];
	const char *path;
	size_t i;

	/* Exactly 1 MiB of comment lines: read. */
	for (i = 0; i < sizeof(big) - 1; i += 64) {
		memset(big + i, '#', 63);
		big[i + 63] = '\n';
	}
	path = tmp_file("max.conf", big, sizeof(big) - 1);
	sc_conf_defaults(&conf);
	ck_assert_int_eq(sc_conf_load(&conf, path, err, sizeof(err)), 0);
	/* One byte more: refused. */
	big[sizeof(big) - 1] = '\n';
	path = tmp_file("big.conf", big, sizeof(big));
	memset(err, 'X', sizeof(err));
	ck_assert_int_eq(sc_conf_load(&conf, path, err, sizeof(err)), -EFBIG);
	snprintf(expected, sizeof(expected), "%s: larger than 1048576 bytes", path);
	ck_assert_str_eq(err, expected);
	/* The same through a device that reports no size. */
	ck_assert_int_eq(sc_conf_load(&conf, "/dev/zero", err, sizeof(err)), -EFBIG);
	ck_assert_str_eq(err, "/dev/zero: larger than 1048576 bytes");
}
END_TEST

/* ------------------------------------------------------------------ */
/* the shipped sipcache.conf                                           */
/* ------------------------------------------------------------------ */

static char *read_all(const char *path, size_t *ret_len)
{
	static char buf[256 * 1024];
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "cannot open %s (run from the top of the tree "
		      "or set SC_SRCDIR)", path);
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
	}
	close(fd);
	ck_assert_uint_lt(len, sizeof(buf) - 1);
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

/* Is `line' (up to its newline) "#KEY = ..." for a lower-case KEY?  With
 * `indent', "#<blanks>KEY = ..." (an example).  Returns the key length. */
static size_t commented_setting(const char *line, bool indent)
{
	size_t i = 1, k;

	if (line[0] != '#') {
		return 0;
	}
	if (indent) {
		if (line[i] != ' ' && line[i] != '\t') {
			return 0;
		}
		while (line[i] == ' ' || line[i] == '\t') {
			i++;
		}
	}
	k = i;
	while ((line[i] >= 'a' && line[i] <= 'z') || line[i] == '_') {
		i++;
	}
	if (i == k || strncmp(line + i, " = ", 3) != 0) {
		return 0;
	}
	return i;
}

START_TEST(test_shipped_conf_defaults)
{
	static struct sc_conf def, shipped;
	static char uncommented[256 * 1024];
	size_t len, n = 0;
	char *text, *line, *nl;
	int r;

	text = read_all(src_path("sipcache.conf"), &len);

	/* As shipped, everything is commented out. */
	sc_conf_defaults(&def);
	sc_conf_defaults(&shipped);
	memset(err, 'X', sizeof(err));
	r = sc_conf_parse(&shipped, "sipcache.conf", text, len, err, sizeof(err));
	ck_assert_msg(r == 0, "%s", err);
	ck_assert(memcmp(&shipped, &def, sizeof(def)) == 0);

	/* Uncomment every "#key = value" line: the defaults, said aloud. */
	for (line = text; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		if (commented_setting(line, false) > 0) {
			line++;
		}
		memcpy(uncommented + n, line, (size_t)(nl - line) + 1);
		n += (size_t)(nl - line) + 1;
	}
	uncommented[n] = '\0';
	memset(&shipped, 0x5a, sizeof(shipped));
	sc_conf_defaults(&shipped);
	memset(err, 'X', sizeof(err));
	r = sc_conf_parse(&shipped, "sipcache.conf", uncommented, n, err, sizeof(err));
	ck_assert_msg(r == 0, "%s", err);
	ck_assert_str_eq(shipped.cache_file, def.cache_file);
	ck_assert_uint_eq(shipped.max_entries, def.max_entries);
	ck_assert_uint_eq(shipped.min_ttl, def.min_ttl);
	ck_assert_uint_eq(shipped.max_ttl, def.max_ttl);
	ck_assert_uint_eq(shipped.negative_ttl, def.negative_ttl);
	ck_assert_uint_eq(shipped.serve_stale, def.serve_stale);
	ck_assert_str_eq(shipped.hosts_file, def.hosts_file);
	ck_assert_int_eq(shipped.hosts_order, def.hosts_order);
	ck_assert_int_eq(shipped.hosts_in_res_query, def.hosts_in_res_query);
	ck_assert_uint_eq(shipped.nns, def.nns);
	ck_assert_int_eq(shipped.timeout, def.timeout);
	ck_assert_int_eq(shipped.attempts, def.attempts);
	ck_assert_int_eq(shipped.search, def.search);
	ck_assert_int_eq(shipped.family, def.family);
	ck_assert_int_eq(shipped.srv_order, def.srv_order);
	ck_assert_int_eq(shipped.prefetch, def.prefetch);
	ck_assert_str_eq(shipped.group, def.group);
	ck_assert_int_eq(shipped.log, def.log);
	ck_assert_int_eq(shipped.log_level, def.log_level);
	ck_assert_uint_eq(shipped.npolicy, def.npolicy);
	ck_assert(memcmp(&shipped, &def, sizeof(def)) == 0);
}
END_TEST

START_TEST(test_shipped_conf_lists_every_key)
{
	char *text, *line, *nl, ex[1024];
	size_t len, klen;
	unsigned i, examples = 0;
	bool has_default, has_example;
	const char *key;

	text = read_all(src_path("sipcache.conf"), &len);
	for (i = 0; (key = sc_conf_key(i)) != NULL; i++) {
		has_default = has_example = false;
		for (line = text; *line != '\0'; line = nl + 1) {
			nl = strchr(line, '\n');
			klen = commented_setting(line, false);
			if (klen == 1 + strlen(key) && strncmp(line + 1, key, strlen(key)) == 0) {
				ck_assert_msg(!has_default, "%s: two default lines", key);
				has_default = true;
			}
			klen = commented_setting(line, true);
			if (klen > strlen(key) && strncmp(line + klen - strlen(key), key,
							  strlen(key)) == 0 &&
			    !isalpha((unsigned char)line[klen - strlen(key) - 1]) &&
			    line[klen - strlen(key) - 1] != '_') {
				has_example = true;
			}
		}
		/* `policy' has no default value to show: examples instead. */
		if (strcmp(key, "policy") == 0) {
			ck_assert_msg(!has_default && has_example,
				      "policy: expected example lines only");
		} else {
			ck_assert_msg(has_default, "key %s has no '#%s = DEFAULT' line "
				      "in the shipped sipcache.conf", key, key);
		}
	}

	/* Every example, uncommented, is accepted on its own. */
	for (line = text; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (commented_setting(line, true) == 0) {
			continue;
		}
		line++;
		while (*line == ' ' || *line == '\t') {
			line++;
		}
		snprintf(ex, sizeof(ex), "%.*s", (int)(nl - line), line);
		sc_conf_defaults(&conf);
		memset(err, 'X', sizeof(err));
		ck_assert_msg(parse_into(&conf, ex) == 0, "example <%s>: %s", ex, err);
		examples++;
	}
	ck_assert_uint_ge(examples, 2);
}
END_TEST

/* ------------------------------------------------------------------ */
/* nsswitch.conf                                                       */
/* ------------------------------------------------------------------ */

#define NS_NONE { false, -1, -1, -1, false }

static const struct ns_case {
	const char *text;
	size_t len;             /* 0: strlen(text) */
	int ret;
	struct sc_nsswitch want;
	enum sc_hosts_order order;
} ns_cases[] = {
	{ "hosts: files dns\n", 0, 0, { true, 0, 1, -1, false }, SC_HOSTS_FILES_FIRST },
	{ "hosts:          files mdns4_minimal [NOTFOUND=return] dns myhostname\n", 0, 0,
	  { true, 0, 2, -1, true }, SC_HOSTS_FILES_FIRST },
	{ "hosts: dns files\n", 0, 0, { true, 1, 0, -1, false }, SC_HOSTS_DNS_FIRST },
	{ "hosts: files sipcache dns\n", 0, 0, { true, 0, 2, 1, false }, SC_HOSTS_FILES_FIRST },
	{ "hosts: sipcache files dns\n", 0, 0, { true, 1, 2, 0, false }, SC_HOSTS_DNS_FIRST },
	{ "hosts: files sipcache\n", 0, 0, { true, 0, -1, 1, false }, SC_HOSTS_FILES_FIRST },
	{ "hosts: sipcache files\n", 0, 0, { true, 1, -1, 0, false }, SC_HOSTS_DNS_FIRST },
	{ "hosts: dns sipcache files\n", 0, 0, { true, 2, 0, 1, false }, SC_HOSTS_DNS_FIRST },
	{ "hosts: sipcache dns\n", 0, 0, { true, -1, 1, 0, false }, SC_HOSTS_NEVER },
	{ "hosts: dns\n", 0, 0, { true, -1, 0, -1, false }, SC_HOSTS_NEVER },
	{ "hosts: files\n", 0, 0, { true, 0, -1, -1, false }, SC_HOSTS_FILES_FIRST },
	{ "hosts: myhostname files\n", 0, 0, { true, 1, -1, -1, true }, SC_HOSTS_FILES_FIRST },
	{ "hosts:\n", 0, 0, { true, -1, -1, -1, false }, SC_HOSTS_NEVER },
	/* no hosts line: glibc's default "files dns" */
	{ "", 0, 0, NS_NONE, SC_HOSTS_FILES_FIRST },
	{ "passwd: files\ngroup: files\n", 0, 0, NS_NONE, SC_HOSTS_FILES_FIRST },
	{ "# hosts: dns\n#hosts: dns\n", 0, 0, NS_NONE, SC_HOSTS_FILES_FIRST },
	{ "Hosts: dns\n", 0, 0, NS_NONE, SC_HOSTS_FILES_FIRST },
	{ "hosts_: dns\n", 0, 0, NS_NONE, SC_HOSTS_FILES_FIRST },
	/* comments only hide a whole line */
	{ "#hosts: dns\nhosts: files dns\n", 0, 0, { true, 0, 1, -1, false }, SC_HOSTS_FILES_FIRST },
	/* glibc 2.36: `#' after the name is a source called "#" and dns is
	 * still consulted (strace shows libnss_#.so.2 tried, then port 53) */
	{ "hosts: files # dns\n", 0, 0, { true, 0, 2, -1, true }, SC_HOSTS_FILES_FIRST },
	{ "hosts: dns #files\n", 0, 0, { true, -1, 0, -1, true }, SC_HOSTS_NEVER },
	/* the last hosts line wins */
	{ "hosts: dns\nhosts: files\n", 0, 0, { true, 0, -1, -1, false }, SC_HOSTS_FILES_FIRST },
	{ "hosts: files\nnetworks: files\n  hosts:dns files  \n", 0, 0,
	  { true, 1, 0, -1, false }, SC_HOSTS_DNS_FIRST },
	/* a last line without newline is ignored by glibc */
	{ "hosts: files\nhosts: dns", 0, 0, { true, 0, -1, -1, false }, SC_HOSTS_FILES_FIRST },
	{ "hosts: dns", 0, 0, NS_NONE, SC_HOSTS_FILES_FIRST },
	/* the colon is optional; any blanks; CR is a blank */
	{ "hosts files dns\n", 0, 0, { true, 0, 1, -1, false }, SC_HOSTS_FILES_FIRST },
	{ "  hosts\t:\t dns\tfiles \r\n", 0, 0, { true, 1, 0, -1, false }, SC_HOSTS_DNS_FIRST },
	{ "hosts::files\n", 0, 0, { true, 0, -1, -1, false }, SC_HOSTS_FILES_FIRST },
	/* module names are case-sensitive; the first occurrence counts */
	{ "hosts: DNS files\n", 0, 0, { true, 1, -1, -1, true }, SC_HOSTS_FILES_FIRST },
	{ "hosts: files dns files\n", 0, 0, { true, 0, 1, -1, false }, SC_HOSTS_FILES_FIRST },
	/* actions are skipped, in every spelling glibc takes */
	{ "hosts: files[!NOTFOUND=return]dns\n", 0, 0, { true, 0, 1, -1, false }, SC_HOSTS_FILES_FIRST },
	{ "hosts: dns [ NOTFOUND = return  unavail=Continue ] files\n", 0, 0,
	  { true, 1, 0, -1, false }, SC_HOSTS_DNS_FIRST },
	{ "hosts: files [success=merge TRYAGAIN=return] dns\n", 0, 0,
	  { true, 0, 1, -1, false }, SC_HOSTS_FILES_FIRST },
	/* an action where a source should be ends the list, silently */
	{ "hosts: [NOTFOUND=return] files\n", 0, 0, { true, -1, -1, -1, false }, SC_HOSTS_NEVER },
	{ "hosts: dns [NOTFOUND=return] [UNAVAIL=return] files\n", 0, 0,
	  { true, -1, 0, -1, false }, SC_HOSTS_NEVER },
	/* malformed actions on a known database: glibc drops the file */
	{ "hosts: files [NOTFOUND=return dns\n", 0, -EINVAL, { true, -1, -1, -1, false }, SC_HOSTS_NEVER },
	{ "hosts: files [] dns\n", 0, -EINVAL, { true, -1, -1, -1, false }, SC_HOSTS_NEVER },
	{ "hosts: files [! NOTFOUND=return] dns\n", 0, -EINVAL, { true, -1, -1, -1, false }, SC_HOSTS_NEVER },
	{ "hosts: files [NOTFOUND=stop] dns\n", 0, -EINVAL, { true, -1, -1, -1, false }, SC_HOSTS_NEVER },
	{ "hosts: files [FOUND=return] dns\n", 0, -EINVAL, { true, -1, -1, -1, false }, SC_HOSTS_NEVER },
	{ "hosts: files [NOTFOUND return] dns\n", 0, -EINVAL, { true, -1, -1, -1, false }, SC_HOSTS_NEVER },
	{ "passwd: files [bogus]\nhosts: files dns\n", 0, -EINVAL,
	  { true, -1, -1, -1, false }, SC_HOSTS_NEVER },
	{ "hosts: files dns\nshadow: files [x=y]\n", 0, -EINVAL,
	  { true, -1, -1, -1, false }, SC_HOSTS_NEVER },
	/* ... but lines of databases glibc does not know are never parsed */
	{ "sudoers: files [bogus]\nhosts: files dns\n", 0, 0, { true, 0, 1, -1, false }, SC_HOSTS_FILES_FIRST },
	/* a NUL ends the line as glibc sees it (a C string) */
	{ "hosts: files\0 dns\n", 18, 0, { true, 0, -1, -1, false }, SC_HOSTS_FILES_FIRST },
	{ "hosts\0: dns\n", 12, 0, NS_NONE, SC_HOSTS_FILES_FIRST },
	{ "hosts\n", 0, 0, { true, -1, -1, -1, false }, SC_HOSTS_NEVER },
};

START_TEST(test_nsswitch_case)
{
	const struct ns_case *nc = &ns_cases[_i];
	size_t len = nc->len ? nc->len : strlen(nc->text);
	struct sc_nsswitch ns;
	int r;

	memset(&ns, 0x5a, sizeof(ns));
	r = sc_nsswitch_parse(&ns, nc->text, len);
	ck_assert_msg(r == nc->ret, "case %d: returned %d", _i, r);
	ck_assert_msg(ns.found == nc->want.found, "case %d: found", _i);
	ck_assert_msg(ns.pos_files == nc->want.pos_files, "case %d: files %d", _i, ns.pos_files);
	ck_assert_msg(ns.pos_dns == nc->want.pos_dns, "case %d: dns %d", _i, ns.pos_dns);
	ck_assert_msg(ns.pos_sipcache == nc->want.pos_sipcache, "case %d: sipcache %d", _i,
		      ns.pos_sipcache);
	ck_assert_msg(ns.other_sources == nc->want.other_sources, "case %d: other", _i);
	ck_assert_msg(sc_hosts_order_resolve(SC_HOSTS_AUTO, &ns) == nc->order,
		      "case %d: order %d", _i, sc_hosts_order_resolve(SC_HOSTS_AUTO, &ns));
}
END_TEST

START_TEST(test_hosts_order_resolve)
{
	static const enum sc_hosts_order fixed[] = {
		SC_HOSTS_FILES_FIRST, SC_HOSTS_DNS_FIRST, SC_HOSTS_NEVER,
	};
	struct sc_nsswitch dns_only = { true, -1, 0, -1, false };
	struct sc_nsswitch files_dns = { true, 0, 1, -1, false };
	size_t i;

	/* A configured order is kept whatever nsswitch.conf says. */
	for (i = 0; i < SC_ARRAY_SIZE(fixed); i++) {
		ck_assert_int_eq(sc_hosts_order_resolve(fixed[i], &dns_only), fixed[i]);
		ck_assert_int_eq(sc_hosts_order_resolve(fixed[i], &files_dns), fixed[i]);
		ck_assert_int_eq(sc_hosts_order_resolve(fixed[i], NULL), fixed[i]);
	}
	/* No information: glibc's default "files dns". */
	ck_assert_int_eq(sc_hosts_order_resolve(SC_HOSTS_AUTO, NULL), SC_HOSTS_FILES_FIRST);
}
END_TEST

START_TEST(test_nsswitch_files)
{
	struct sc_nsswitch ns;

	memset(&ns, 0x5a, sizeof(ns));
	ck_assert_int_eq(sc_nsswitch_load(&ns, src_path("tests/fixtures/conf/nsswitch-debian12.conf")), 0);
	ck_assert(ns.found);
	ck_assert_int_eq(ns.pos_files, 0);
	ck_assert_int_eq(ns.pos_dns, 1);
	ck_assert_int_eq(ns.pos_sipcache, -1);
	ck_assert(!ns.other_sources);

	memset(&ns, 0x5a, sizeof(ns));
	ck_assert_int_eq(sc_nsswitch_load(&ns, src_path("tests/fixtures/conf/nsswitch-resolved-mdns.conf")), 0);
	ck_assert(ns.found);
	ck_assert_int_eq(ns.pos_files, 2);
	ck_assert_int_eq(ns.pos_dns, 6);
	ck_assert_int_eq(ns.pos_sipcache, 5);
	ck_assert(ns.other_sources);
	ck_assert_int_eq(sc_hosts_order_resolve(SC_HOSTS_AUTO, &ns), SC_HOSTS_FILES_FIRST);

	memset(&ns, 0x5a, sizeof(ns));
	ck_assert_int_eq(sc_nsswitch_load(&ns, src_path("tests/fixtures/conf/nsswitch-crlf.conf")), 0);
	ck_assert(ns.found);
	ck_assert_int_eq(ns.pos_files, 0);
	ck_assert_int_eq(ns.pos_sipcache, 1);
	ck_assert_int_eq(ns.pos_dns, 2);
	ck_assert(!ns.other_sources);

	/* Unreadable: glibc's defaults, and the error. */
	memset(&ns, 0x5a, sizeof(ns));
	ck_assert_int_eq(sc_nsswitch_load(&ns, "/nonexistent/nsswitch.conf"), -ENOENT);
	ck_assert(!ns.found);
	ck_assert_int_eq(ns.pos_files, -1);
	ck_assert_int_eq(ns.pos_dns, -1);
	ck_assert_int_eq(ns.pos_sipcache, -1);
	ck_assert(!ns.other_sources);
	ck_assert_int_eq(sc_hosts_order_resolve(SC_HOSTS_AUTO, &ns), SC_HOSTS_FILES_FIRST);
	memset(&ns, 0x5a, sizeof(ns));
	ck_assert_int_eq(sc_nsswitch_load(&ns, "/"), -EISDIR);
	ck_assert(!ns.found);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s;
	TCase *tc;
	SRunner *sr;
	int failed;

	if (argc == 2 && strcmp(argv[1], "--conf-probe") == 0) {
		return conf_probe();
	}

	s = suite_create("conf");

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_defaults_are_deterministic);
	tcase_add_test(tc, test_empty_and_comment_only);
	tcase_add_test(tc, test_key_list);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, test_load_all_keys);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_booleans_and_words);
	tcase_add_test(tc, test_numbers_at_bounds);
	tcase_add_test(tc, test_paths_and_group);
	tcase_add_test(tc, test_parse_over_existing_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("syntax");
	tcase_add_test(tc, test_whitespace_and_comments);
	tcase_add_test(tc, test_hash_without_blank_is_value);
	tcase_add_test(tc, test_crlf_bom_and_last_line);
	tcase_add_test(tc, test_lone_cr_is_an_error);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_line_length_bound);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_bad_value, 0, (int)SC_ARRAY_SIZE(bad_cases));
	tcase_add_test(tc, test_error_after_good_lines_applies_nothing);
	tcase_add_test(tc, test_error_buffer_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("nameserver");
	tcase_add_test(tc, test_nameserver_forms);
	tcase_add_test(tc, test_nameserver_interface_scope);
	tcase_add_test(tc, test_nameserver_list);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_test(tc, test_policy_lines);
	tcase_add_test(tc, test_policy_limit);
	tcase_add_test(tc, test_policy_for_longest_suffix);
	tcase_add_test(tc, test_policy_for_root_and_long_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("env");
	tcase_add_test(tc, test_env_conf_path);
	tcase_add_test(tc, test_env_disable);
	tcase_add_test(tc, test_env_ignored_in_secure_execution);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_errors_name_the_file);
	tcase_add_test(tc, test_load_missing_and_odd_files);
	tcase_add_test(tc, test_load_size_bound);
	suite_add_tcase(s, tc);

	tc = tcase_create("shipped");
	tcase_add_test(tc, test_shipped_conf_defaults);
	tcase_add_test(tc, test_shipped_conf_lists_every_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("nsswitch");
	tcase_add_loop_test(tc, test_nsswitch_case, 0, (int)SC_ARRAY_SIZE(ns_cases));
	tcase_add_test(tc, test_hosts_order_resolve);
	tcase_add_test(tc, test_nsswitch_files);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * check_nss.c - the NSS module (nss/nss_sipcache.c) as glibc sees it.
 *
 * The module under test is the one the build made ($(O)/nss next to
 * $(O)/tests), reached two ways: dlopen + dlsym of its six entry points
 * (systemd's test-nss style), and glibc's own NSS through
 * __nss_configure_lookup("hosts", "sipcache"), for which the test
 * re-executes itself once with LD_LIBRARY_PATH pointing at the module.
 *
 * DNS comes from a server thread of the test (helpers/addr_dnsd.h), which
 * the thread's resolver state points at; glibc's nss_dns, in-process
 * against the same server, is the oracle for status, h_errno, errno, TTL
 * and the whole answer.  Protocol details checked on their own: buffers
 * from 0 bytes up (ERANGE until it fits, nothing written past the end,
 * unaligned buffers), errno poisoned before every call and kept on
 * success and "not found", UNAVAIL whenever the cache cannot be used.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <nss.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../shim/sc.h"
#include "helpers/addr_dnsd.h"
#include "helpers/addr_text.h"

#define POISON_ERRNO 4242
#define MODULE "libnss_sipcache.so.2"

static char module_dir[PATH_MAX];
static char dir[64];
static struct dnsd *dns;
static void *module;

typedef enum nss_status byname_fn(const char *, struct hostent *, char *, size_t, int *, int *);
typedef enum nss_status byname2_fn(const char *, int, struct hostent *, char *, size_t, int *,
				   int *);
typedef enum nss_status byaddr_fn(const void *, socklen_t, int, struct hostent *, char *, size_t,
				  int *, int *);

static addr_byname4_fn *m4;
static addr_byname3_fn *m3;
static byname2_fn *m2;
static byname_fn *m1;
static addr_byaddr2_fn *ma2;
static byaddr_fn *ma1;

/* --- the world of one test ------------------------------------------------ */

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static void *sym(const char *name)
{
	void *p = dlsym(module, name);

	ck_assert_msg(p != NULL, "%s: %s", name, dlerror());
	return p;
}

/* sipcache.conf with `extra', the module loaded, _res at our server. */
static void world(const char *extra, const char *hosts)
{
	char conf[2048], path[PATH_MAX + 64];

	snprintf(conf, sizeof(conf),
		 "cache_file = %s/cache.tdb\n"
		 "hosts_file = %s/hosts\n"
		 "hosts_order = files-first\n"
		 "hosts_in_res_query = no\n"
		 "log = off\n"
		 "%s",
		 dir, dir, extra ? extra : "");
	write_file("sipcache.conf", conf);
	write_file("hosts", hosts ? hosts : "127.0.0.1 localhost\n");
	snprintf(path, sizeof(path), "%s/sipcache.conf", dir);
	setenv("SIPCACHE_CONF", path, 1);
	setenv("RESOLV_MULTI", "on", 1);
	setenv("LOCALDOMAIN", "sip.test other.test", 1);
	setenv("RES_OPTIONS", "ndots:1", 1);
	ck_assert_int_eq(res_init(), 0);
	dnsd_use(dns, &_res, 1, 1);

	snprintf(path, sizeof(path), "%s/%s", module_dir, MODULE);
	module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(module != NULL, "%s (build it first: make all)", dlerror());
	m4 = (addr_byname4_fn *)sym("_nss_sipcache_gethostbyname4_r");
	m3 = (addr_byname3_fn *)sym("_nss_sipcache_gethostbyname3_r");
	m2 = (byname2_fn *)sym("_nss_sipcache_gethostbyname2_r");
	m1 = (byname_fn *)sym("_nss_sipcache_gethostbyname_r");
	ma2 = (addr_byaddr2_fn *)sym("_nss_sipcache_gethostbyaddr2_r");
	ma1 = (byaddr_fn *)sym("_nss_sipcache_gethostbyaddr_r");
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_nss.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	unsetenv("SIPCACHE_DISABLE");
	unsetenv("HOSTALIASES");
	dns = dnsd_start();
	addr_zone_load(dns);
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	dnsd_stop(dns);
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	}
	if (d) {
		closedir(d);
	}
	chmod(dir, 0755);
	rmdir(dir);
}

/* --- one call, as text ------------------------------------------------------- */

/*
 * "STATUS errno=E h_errno=H ttl=T | answer" for a call through either
 * module (`ours' or glibc's nss_dns), errno poisoned before it and read
 * back through errnop == &errno, as glibc calls.
 */
static void call_name(char *out, bool ours, const char *name, int af)
{
	static char buf[65536];
	char answer[ADDR_TEXT_MAX - 256] = "", line[ADDR_TEXT_MAX - 64];
	int herr = -7, err;
	int32_t ttl = INT32_MAX;
	enum nss_status s;

	errno = POISON_ERRNO;
	if (af == AF_UNSPEC) {
		struct gaih_addrtuple *pat = NULL;

		s = (ours ? m4 : addr_glibc_byname4())(name, &pat, buf, sizeof(buf), &errno, &herr,
						       &ttl);
		err = errno;
		if (s == NSS_STATUS_SUCCESS) {
			addr_text_tuples(answer, sizeof(answer), pat);
		}
	} else if (!ours && !res_hnok(name)) {
		/* nss_dns's 2_r check, which our 3_r makes too. */
		s = NSS_STATUS_NOTFOUND;
		herr = HOST_NOT_FOUND;
		err = errno;
	} else {
		struct hostent h;
		char *canon = (char *)0x1;

		s = (ours ? m3 : addr_glibc_byname3())(name, af, &h, buf, sizeof(buf), &errno, &herr,
						       &ttl, &canon);
		err = errno;
		if (s == NSS_STATUS_SUCCESS) {
			addr_text_hostent(answer, sizeof(answer), &h);
			ck_assert_ptr_eq(canon, h.h_name);
		}
	}
	addr_text_line(line, sizeof(line), s, herr, ttl, answer);
	snprintf(out, ADDR_TEXT_MAX, "errno=%d %s", err, line);
}

static void call_addr(char *out, bool ours, int af, const void *addr)
{
	static char buf[65536];
	char answer[ADDR_TEXT_MAX - 256] = "", line[ADDR_TEXT_MAX - 64];
	int herr = -7, err;
	int32_t ttl = INT32_MAX;
	struct hostent h;
	enum nss_status s;

	errno = POISON_ERRNO;
	s = (ours ? ma2 : addr_glibc_byaddr2())(addr, af == AF_INET ? 4 : 16, af, &h, buf,
						sizeof(buf), &errno, &herr, &ttl);
	err = errno;
	if (s == NSS_STATUS_SUCCESS) {
		addr_text_hostent(answer, sizeof(answer), &h);
	}
	addr_text_line(line, sizeof(line), s, herr, ttl, answer);
	snprintf(out, ADDR_TEXT_MAX, "errno=%d %s", err, line);
}

/*
 * glibc's line with the errno our module promises: the caller's, kept on
 * SUCCESS and NOTFOUND (nss_dns clobbers it on some of those paths:
 * res_search clears errno), except that h_errno TRY_AGAIN comes with
 * EAGAIN, as from nss_dns.  One more: where nss_dns gives up on an answer
 * it cannot use (UNAVAIL, NO_RECOVERY) its errno is whatever res_query
 * left, 0; ours says why (EBADMSG).
 */
static void expected_from_glibc(char *out, const char *g)
{
	const char *rest = strchr(g, ' ') + 1;

	if (strncmp(rest, "SUCCESS ", 8) == 0 ||
	    (strncmp(rest, "NOTFOUND ", 9) == 0 && strncmp(g, "errno=11 ", 9) != 0)) {
		snprintf(out, ADDR_TEXT_MAX, "errno=%d %s", POISON_ERRNO, rest);
	} else if (strncmp(g, "errno=0 UNAVAIL h_errno=3 ", 26) == 0) {
		snprintf(out, ADDR_TEXT_MAX, "errno=%d %s", EBADMSG, rest);
	} else if (strncmp(rest, "UNAVAIL h_errno=", 16) == 0 && strchr("124", rest[16]) &&
		   rest[17] == ' ') {
		/* No server answered: TRYAGAIN, not UNAVAIL (so that the
		 * next source does not ask the same servers again). */
		snprintf(out, ADDR_TEXT_MAX, "%.*sTRYAGAIN %s", (int)(rest - g), g, rest + 8);
	} else {
		snprintf(out, ADDR_TEXT_MAX, "%s", g);
	}
}

/* "ttl=N" of a line (INT32_MAX for "-"), the line without it in `rest'. */
static long split_ttl(const char *line, char *rest, size_t restlen)
{
	const char *t = strstr(line, " ttl="), *end = strchr(t + 1, ' ');

	snprintf(rest, restlen, "%.*s%s", (int)(t - line), line, end);
	return t[5] == '-' ? INT32_MAX : atol(t + 5);
}

/* Equal but for the TTL, which may only be lower in `ours' (the cache
 * serves at most the remaining lifetime). */
static void assert_same_ttl_le(const char *ours, const char *expected, const char *what)
{
	char a[ADDR_TEXT_MAX], b[ADDR_TEXT_MAX];
	long to = split_ttl(ours, a, sizeof(a)), te = split_ttl(expected, b, sizeof(b));

	ck_assert_msg(strcmp(a, b) == 0 && to <= te && (to == INT32_MAX) == (te == INT32_MAX),
		      "%s:\n  expected [%s]\n  ours     [%s]", what, expected, ours);
}

/* The miss, then the hit: both glibc's line (TTL no higher on the hit). */
static void same_as_glibc(const char *name, int af)
{
	char g[ADDR_TEXT_MAX], e[ADDR_TEXT_MAX], miss[ADDR_TEXT_MAX], hit[ADDR_TEXT_MAX];
	const char *what = af == AF_INET ? "AF_INET" : af == AF_INET6 ? "AF_INET6" : "AF_UNSPEC";

	char label[300];

	snprintf(label, sizeof(label), "%s %s", name, what);
	call_name(g, false, name, af);
	call_name(miss, true, name, af);
	call_name(hit, true, name, af);
	expected_from_glibc(e, g);
	/* The "miss" may hit what an earlier family's lookup stored
	 * (check_addr compares TTLs exactly on a cold cache). */
	assert_same_ttl_le(miss, e, label);
	assert_same_ttl_le(hit, miss, label);
}

static void same_addr_as_glibc(const char *text)
{
	unsigned char a[16];
	char g[ADDR_TEXT_MAX], e[ADDR_TEXT_MAX], o[ADDR_TEXT_MAX];
	int af = strchr(text, ':') ? AF_INET6 : AF_INET;

	ck_assert_int_eq(inet_pton(af, text, a), 1);
	call_addr(g, false, af, a);
	call_addr(o, true, af, a);
	expected_from_glibc(e, g);
	ck_assert_msg(strcmp(o, e) == 0, "%s:\n  expected [%s]\n  ours     [%s]", text, e, o);
}

/* --- nss_dns's answers -------------------------------------------------------- */

static const int families[] = { AF_INET, AF_INET6, AF_UNSPEC };

static const char *const names[] = {
	"sip1.sip.test", "SIP1.sip.TEST", "sip2.sip.test", "multi.sip.test",
	"v6only.sip.test", "alias.sip.test", "dangling.sip.test", "cnameout.sip.test",
	"weird.sip.test", "v4alias.sip.test", "nx.sip.test", "sip1", "half", "onlyother",
	"servfail.sip.test", "refused.sip.test", "aaaafail.sip.test", "afail.sip.test",
	"nxfail.sip.test", "bad!name.sip.test", "-lead.sip.test", "sip1.sip.test.",
};

START_TEST(test_byname_like_nss_dns)
{
	world(NULL, NULL);
	for (unsigned i = 0; i < SC_ARRAY_SIZE(names); i++) {
		for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
			same_as_glibc(names[i], families[f]);
		}
	}
}
END_TEST

START_TEST(test_byname_timeout_like_nss_dns)
{
	world(NULL, NULL);
	_res.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
		char g[ADDR_TEXT_MAX], o[ADDR_TEXT_MAX];

		call_name(g, false, "drop.sip.test", families[f]);
		call_name(o, true, "drop.sip.test", families[f]);
		/* nss_dns: UNAVAIL (so `dns' after us would ask again);
		 * ours TRYAGAIN, with nss_dns's TRY_AGAIN and EAGAIN. */
		ck_assert_str_eq(g, "errno=11 UNAVAIL h_errno=2 ttl=- | ");
		ck_assert_str_eq(o, "errno=11 TRYAGAIN h_errno=2 ttl=- | ");
	}
}
END_TEST

START_TEST(test_byaddr_like_nss_dns)
{
	static const char *const addrs[] = {
		"127.0.0.11", "127.0.0.13", "127.0.0.14", "127.0.0.15", "127.0.0.99",
		"::1", "::ffff:127.0.0.11", "::127.0.0.12", "2001:db8::5",
	};

	world(NULL, NULL);
	for (unsigned i = 0; i < SC_ARRAY_SIZE(addrs); i++) {
		same_addr_as_glibc(addrs[i]);
	}
}
END_TEST

/* _r and 2_r are 3_r without TTL and canonical name. */
START_TEST(test_thin_entry_points)
{
	static char b1[4096], b2[4096];
	char t1[ADDR_TEXT_MAX], t2[ADDR_TEXT_MAX];
	unsigned char a[4] = { 127, 0, 0, 13 };
	struct hostent h1, h2;
	int e1, e2, h1e = -7, h2e = -7;

	world(NULL, NULL);
	ck_assert_int_eq(m1("alias.sip.test", &h1, b1, sizeof(b1), &e1, &h1e), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(m3("alias.sip.test", AF_INET, &h2, b2, sizeof(b2), &e2, &h2e, NULL, NULL),
			 NSS_STATUS_SUCCESS);
	addr_text_hostent(t1, sizeof(t1), &h1);
	addr_text_hostent(t2, sizeof(t2), &h2);
	ck_assert_str_eq(t1, t2);
	ck_assert_str_eq(t1, "name=sip1.sip.test aliases=alias.sip.test,alias2.sip.test type=2 "
			     "len=4 addrs=127.0.0.11");
	ck_assert_int_eq(m2("alias.sip.test", AF_INET6, &h1, b1, sizeof(b1), &e1, &h1e),
			 NSS_STATUS_SUCCESS);
	addr_text_hostent(t1, sizeof(t1), &h1);
	ck_assert_str_eq(t1, "name=sip1.sip.test aliases=alias.sip.test,alias2.sip.test type=10 "
			     "len=16 addrs=::1");
	ck_assert_int_eq(m1("nx.sip.test", &h1, b1, sizeof(b1), &e1, &h1e), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(h1e, HOST_NOT_FOUND);
	ck_assert_int_eq(ma1(a, 4, AF_INET, &h1, b1, sizeof(b1), &e1, &h1e), NSS_STATUS_SUCCESS);
	addr_text_hostent(t1, sizeof(t1), &h1);
	ck_assert_str_eq(t1, "name=backup.sip.test aliases= type=2 len=4 addrs=127.0.0.13");
}
END_TEST

/* --- buffers -------------------------------------------------------------------- */

#define TAIL 64

/* Every pointer of a hostent lies inside the buffer. */
static void assert_inside(const struct hostent *h, const char *buf, size_t len)
{
#define INSIDE(p, n) ck_assert_msg((const char *)(p) >= buf && (const char *)(p) + (n) <= buf + len, \
				   "pointer outside the buffer")
	INSIDE(h->h_name, strlen(h->h_name) + 1);
	for (char **a = h->h_aliases;; a++) {
		INSIDE(a, sizeof(*a));
		if (*a == NULL) {
			break;
		}
		INSIDE(*a, strlen(*a) + 1);
	}
	for (char **a = h->h_addr_list;; a++) {
		INSIDE(a, sizeof(*a));
		if (*a == NULL) {
			break;
		}
		INSIDE(*a, (size_t)h->h_length);
	}
	ck_assert_uint_eq((uintptr_t)h->h_aliases % sizeof(char *), 0);
	ck_assert_uint_eq((uintptr_t)h->h_addr_list % sizeof(char *), 0);
#undef INSIDE
}

enum which { BY4, BY3, BYADDR };

/*
 * nss-mdns's test: grow the buffer from 0, expecting TRYAGAIN with
 * ERANGE/NETDB_INTERNAL until it fits, the bytes past its end untouched
 * each time, errno the caller's once it succeeds; then the answer must be
 * `expected' and lie within the buffer.  `skew' misaligns the buffer.
 */
static void grow(enum which w, const char *name, int af, const void *addr, const char *expected,
		 size_t skew)
{
	char *mem = malloc(4096 + TAIL + 16);
	char text[ADDR_TEXT_MAX];
	size_t len, fitted = 0;

	ck_assert_ptr_nonnull(mem);
	for (len = 0; len < 4096 && !fitted; len++) {
		char *buf = mem + skew;
		struct hostent h;
		struct gaih_addrtuple *pat = NULL;
		int err = -7, herr = -7;
		int32_t ttl = INT32_MAX;
		enum nss_status s;

		memset(mem, 0xa5, 4096 + TAIL + 16);
		errno = POISON_ERRNO;
		switch (w) {
		case BY4:
			s = m4(name, &pat, buf, len, &errno, &herr, &ttl);
			break;
		case BY3:
			s = m3(name, af, &h, buf, len, &errno, &herr, &ttl, NULL);
			break;
		default:
			s = ma2(addr, af == AF_INET ? 4 : 16, af, &h, buf, len, &errno, &herr, &ttl);
			break;
		}
		err = errno;
		for (size_t i = len; i < len + TAIL; i++) {
			ck_assert_msg((unsigned char)buf[i] == 0xa5,
				      "%s: buffer of %zu: byte %zu written", name, len, i);
		}
		if (s == NSS_STATUS_TRYAGAIN) {
			ck_assert_int_eq(err, ERANGE);
			ck_assert_int_eq(herr, NETDB_INTERNAL);
			ck_assert_int_eq(ttl, INT32_MAX);
			continue;
		}
		ck_assert_msg(s == NSS_STATUS_SUCCESS, "%s: status %d at %zu bytes", name, s, len);
		ck_assert_int_eq(err, POISON_ERRNO);
		if (w == BY4) {
			addr_text_tuples(text, sizeof(text), pat);
			for (const struct gaih_addrtuple *t = pat; t; t = t->next) {
				ck_assert((const char *)t >= buf &&
					  (const char *)(t + 1) <= buf + len);
				ck_assert_uint_eq((uintptr_t)t % _Alignof(struct gaih_addrtuple), 0);
			}
			ck_assert((const char *)pat->name >= buf &&
				  pat->name + strlen(pat->name) + 1 <= buf + len);
		} else {
			addr_text_hostent(text, sizeof(text), &h);
			assert_inside(&h, buf, len);
		}
		ck_assert_str_eq(text, expected);
		fitted = len;
	}
	ck_assert_msg(fitted > 0, "%s never fitted", name);
	free(mem);
}

START_TEST(test_buffer_sizes)
{
	unsigned char a13[4] = { 127, 0, 0, 13 }, a6[16] = { [15] = 1 };

	world(NULL, "127.0.0.1 localhost\n127.0.0.5 foo.sip.test foo f00\n");
	for (size_t skew = 0; skew < 8; skew += 3) {
		grow(BY3, "alias.sip.test", AF_INET, NULL,
		     "name=sip1.sip.test aliases=alias.sip.test,alias2.sip.test type=2 len=4 "
		     "addrs=127.0.0.11", skew);
		grow(BY3, "multi.sip.test", AF_INET6, NULL,
		     "name=multi.sip.test aliases= type=10 len=16 addrs=2001:db8::31,2001:db8::32",
		     skew);
		grow(BY4, "multi.sip.test", AF_UNSPEC, NULL,
		     "name=multi.sip.test addrs=127.0.0.31,127.0.0.32,127.0.0.33,2001:db8::31,"
		     "2001:db8::32", skew);
		grow(BY4, "alias.sip.test", AF_UNSPEC, NULL,
		     "name=sip1.sip.test addrs=127.0.0.11,::1", skew);
		grow(BYADDR, "127.0.0.13", AF_INET, a13,
		     "name=backup.sip.test aliases= type=2 len=4 addrs=127.0.0.13", skew);
		grow(BYADDR, "::1", AF_INET6, a6, "name=sip1.sip.test aliases= type=10 len=16 addrs=::1",
		     skew);
	}
}
END_TEST

/* The hosts file (when nsswitch.conf does not run `files' before us):
 * aliases through the same buffer protocol, no TTL. */
START_TEST(test_buffer_sizes_hosts)
{
	struct sc_nsswitch ns;
	unsigned char a5[4] = { 127, 0, 0, 5 };

	sc_nsswitch_load(&ns, "/etc/nsswitch.conf");
	if (ns.found && ns.pos_files >= 0 && ns.pos_sipcache >= 0 && ns.pos_files < ns.pos_sipcache) {
		/* glibc's `files' comes first here: the module leaves the
		 * file to it (integration tests cover that case). */
		return;
	}
	world(NULL, "127.0.0.1 localhost\n127.0.0.5 foo.sip.test foo f00\n");
	grow(BY3, "foo", AF_INET, NULL,
	     "name=foo.sip.test aliases=foo,f00 type=2 len=4 addrs=127.0.0.5", 1);
	grow(BY4, "f00", AF_UNSPEC, NULL, "name=foo.sip.test addrs=127.0.0.5", 0);
	grow(BYADDR, "127.0.0.5", AF_INET, a5,
	     "name=foo.sip.test aliases=foo,f00 type=2 len=4 addrs=127.0.0.5", 5);
	ck_assert_uint_eq(dnsd_count(dns, 0), 0);
}
END_TEST

/* --- when the cache cannot be used: UNAVAIL, so `dns' answers -------------------- */

static void assert_unavailable(void)
{
	static char buf[4096];
	unsigned char a[4] = { 127, 0, 0, 11 };
	struct gaih_addrtuple *pat = NULL;
	struct hostent h;
	int err, herr;

	err = herr = -7;
	ck_assert_int_eq(m4("sip1.sip.test", &pat, buf, sizeof(buf), &err, &herr, NULL),
			 NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(err, ENOENT);
	ck_assert_int_eq(herr, NO_RECOVERY);
	err = herr = -7;
	ck_assert_int_eq(m3("sip1.sip.test", AF_INET, &h, buf, sizeof(buf), &err, &herr, NULL, NULL),
			 NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(err, ENOENT);
	ck_assert_int_eq(herr, NO_RECOVERY);
	err = herr = -7;
	ck_assert_int_eq(m1("sip1.sip.test", &h, buf, sizeof(buf), &err, &herr), NSS_STATUS_UNAVAIL);
	err = herr = -7;
	ck_assert_int_eq(ma1(a, 4, AF_INET, &h, buf, sizeof(buf), &err, &herr), NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(err, ENOENT);
	ck_assert_int_eq(herr, NO_RECOVERY);
	/* Nothing asked upstream: the next source does that. */
	ck_assert_uint_eq(dnsd_count(dns, 0), 0);
}

START_TEST(test_unavailable_untrusted_cache)
{
	/* A directory anybody may write: anybody could poison the cache. */
	ck_assert_int_eq(chmod(dir, 0777), 0);
	world(NULL, NULL);
	assert_unavailable();
}
END_TEST

START_TEST(test_unavailable_disabled)
{
	world(NULL, NULL);
	setenv("SIPCACHE_DISABLE", "1", 1);
	assert_unavailable();
}
END_TEST

START_TEST(test_unavailable_bad_config)
{
	world("no_such_key = 1\n", NULL);
	assert_unavailable();
}
END_TEST

START_TEST(test_bad_arguments)
{
	static char buf[4096];
	unsigned char a[16] = { 0 };
	struct hostent h;
	int err = -7, herr = -7;

	world(NULL, NULL);
	/* nss_dns's answers, word for word. */
	ck_assert_int_eq(m3("sip1.sip.test", AF_UNIX, &h, buf, sizeof(buf), &err, &herr, NULL, NULL),
			 NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(err, EAFNOSUPPORT);
	ck_assert_int_eq(herr, NO_DATA);
	err = herr = -7;
	ck_assert_int_eq(ma2(a, 4, AF_INET6, &h, buf, sizeof(buf), &err, &herr, NULL),
			 NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(err, EAFNOSUPPORT);
	ck_assert_int_eq(herr, NETDB_INTERNAL);
	err = herr = -7;
	ck_assert_int_eq(ma2(a, 16, AF_UNIX, &h, buf, sizeof(buf), &err, &herr, NULL),
			 NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(err, EAFNOSUPPORT);
	/* A buffer too small for the address list: ERANGE before asking. */
	err = herr = -7;
	ck_assert_int_eq(ma2(a, 4, AF_INET, &h, buf, 15, &err, &herr, NULL), NSS_STATUS_TRYAGAIN);
	ck_assert_int_eq(err, ERANGE);
	ck_assert_int_eq(herr, NETDB_INTERNAL);
	ck_assert_uint_eq(dnsd_count(dns, 0), 0);
}
END_TEST

/* TTLs: lowered only, never raised (nscd passes INT32_MAX). */
START_TEST(test_ttl_only_lowered)
{
	static char buf[4096];
	struct hostent h;
	int err, herr;
	int32_t ttl = 42;

	world("max_ttl = 100\n", NULL);
	ck_assert_int_eq(m3("sip1.sip.test", AF_INET, &h, buf, sizeof(buf), &err, &herr, &ttl, NULL),
			 NSS_STATUS_SUCCESS);
	ck_assert_int_eq(ttl, 42);
	ttl = INT32_MAX;
	ck_assert_int_eq(m3("sip1.sip.test", AF_INET, &h, buf, sizeof(buf), &err, &herr, &ttl, NULL),
			 NSS_STATUS_SUCCESS);
	ck_assert_int_eq(ttl, 100);
}
END_TEST

/* --- threads and fork ---------------------------------------------------------------- */

static const char *const mt_names[] = { "sip1.sip.test", "alias.sip.test", "multi.sip.test",
					"nx.sip.test" };
static char mt_expected[4][ADDR_TEXT_MAX];

static void *mt_worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char *buf = malloc(4096);
	char text[ADDR_TEXT_MAX];

	/* Each thread its own resolver state, pointed at our server. */
	dnsd_use(dns, &_res, 1, 1);
	for (int i = 0; i < 300; i++) {
		unsigned k = (seed + (unsigned)i * 7u) % 4;
		struct gaih_addrtuple *pat = NULL;
		int err, herr;
		enum nss_status st;

		errno = POISON_ERRNO;
		st = m4(mt_names[k], &pat, buf, 4096, &errno, &herr, NULL);
		if (st == NSS_STATUS_SUCCESS) {
			addr_text_tuples(text, sizeof(text), pat);
		} else {
			snprintf(text, sizeof(text), "%s h_errno=%d", addr_status_name(st), herr);
		}
		err = errno;
		if (strcmp(text, mt_expected[k]) != 0 || err != POISON_ERRNO) {
			free(buf);
			return strdup(text);
		}
	}
	free(buf);
	return NULL;
}

/* Eight threads at once on one core: every answer whole and right. */
START_TEST(test_threads)
{
	pthread_t t[8];

	world(NULL, NULL);
	for (unsigned k = 0; k < 4; k++) {
		static char buf[4096];
		struct gaih_addrtuple *pat = NULL;
		int err, herr;
		enum nss_status st = m4(mt_names[k], &pat, buf, sizeof(buf), &err, &herr, NULL);

		if (st == NSS_STATUS_SUCCESS) {
			addr_text_tuples(mt_expected[k], ADDR_TEXT_MAX, pat);
		} else {
			snprintf(mt_expected[k], ADDR_TEXT_MAX, "%s h_errno=%d", addr_status_name(st),
				 herr);
		}
	}
	ck_assert_str_eq(mt_expected[3], "NOTFOUND h_errno=1");
	dnsd_reset(dns);
	for (unsigned i = 0; i < 8; i++) {
		ck_assert_int_eq(pthread_create(&t[i], NULL, mt_worker, (void *)(uintptr_t)i), 0);
	}
	for (unsigned i = 0; i < 8; i++) {
		void *bad;

		ck_assert_int_eq(pthread_join(t[i], &bad), 0);
		ck_assert_msg(bad == NULL, "thread %u got [%s]", i, (char *)bad);
	}
	/* All of it from the cache. */
	ck_assert_uint_eq(dnsd_count(dns, 0), 0);
}
END_TEST

/* A child of a process that used the module looks up through it (its
 * core reopens the file), and so does the parent afterwards. */
START_TEST(test_fork)
{
	static char buf[4096];
	char text[ADDR_TEXT_MAX];
	struct gaih_addrtuple *pat = NULL;
	int err, herr, status;
	pid_t pid;

	world(NULL, NULL);
	ck_assert_int_eq(m4("sip1.sip.test", &pat, buf, sizeof(buf), &err, &herr, NULL),
			 NSS_STATUS_SUCCESS);
	dnsd_reset(dns);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		enum nss_status st = m4("alias.sip.test", &pat, buf, sizeof(buf), &err, &herr, NULL);

		if (st != NSS_STATUS_SUCCESS) {
			_exit(1);
		}
		addr_text_tuples(text, sizeof(text), pat);
		_exit(strcmp(text, "name=sip1.sip.test addrs=127.0.0.11,::1") == 0 ? 0 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status %d", status);
	/* The child's lookup went to the shared cache file... */
	ck_assert_uint_eq(dnsd_count(dns, 0), 2);
	/* ...where the parent finds it. */
	dnsd_reset(dns);
	ck_assert_int_eq(m4("alias.sip.test", &pat, buf, sizeof(buf), &err, &herr, NULL),
			 NSS_STATUS_SUCCESS);
	addr_text_tuples(text, sizeof(text), pat);
	ck_assert_str_eq(text, "name=sip1.sip.test addrs=127.0.0.11,::1");
	ck_assert_uint_eq(dnsd_count(dns, 0), 0);
}
END_TEST

/* --- through glibc: __nss_configure_lookup ----------------------------------------- */

extern int __nss_configure_lookup(const char *dbname, const char *service_line);

static void gai_text(char *out, size_t outlen, const char *name, int family, int flags)
{
	struct addrinfo hints = { .ai_family = family, .ai_flags = flags,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int r = getaddrinfo(name, "5060", &hints, &res);
	size_t n;

	n = (size_t)snprintf(out, outlen, "%d", r);
	for (struct addrinfo *p = r == 0 ? res : NULL; p; p = p->ai_next) {
		char host[NI_MAXHOST];

		getnameinfo(p->ai_addr, p->ai_addrlen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
		n += (size_t)snprintf(out + n, outlen - n, " %s", host);
		if (p->ai_canonname) {
			n += (size_t)snprintf(out + n, outlen - n, "(%s)", p->ai_canonname);
		}
	}
	if (r == 0) {
		freeaddrinfo(res);
	}
}

static void ghbn_text(char *out, size_t outlen, const char *name, int af)
{
	static char buf[8192];
	struct hostent h, *hp = NULL;
	int herr = -7, r;

	r = gethostbyname2_r(name, af, &h, buf, sizeof(buf), &hp, &herr);
	if (hp) {
		addr_text_hostent(out, outlen, hp);
	} else {
		snprintf(out, outlen, "r=%d h_errno=%d", r, herr);
	}
}

static void ghba_text(char *out, size_t outlen, const char *text)
{
	static char buf[8192];
	unsigned char a[16];
	int af = strchr(text, ':') ? AF_INET6 : AF_INET;
	struct hostent h, *hp = NULL;
	int herr = -7, r;

	ck_assert_int_eq(inet_pton(af, text, a), 1);
	r = gethostbyaddr_r(a, af == AF_INET ? 4 : 16, af, &h, buf, sizeof(buf), &hp, &herr);
	if (hp) {
		addr_text_hostent(out, outlen, hp);
	} else {
		snprintf(out, outlen, "r=%d h_errno=%d", r, herr);
	}
}

/* The public functions give the same with `hosts: sipcache' as with
 * `hosts: dns', and the second time with no query. */
START_TEST(test_public_functions)
{
	static const char *const lookups[] = {
		"sip1.sip.test", "alias.sip.test", "multi.sip.test", "v6only.sip.test",
		"sip2.sip.test", "nx.sip.test", "half", "dangling.sip.test",
	};
	static const char *const addrs[] = { "127.0.0.11", "127.0.0.13", "::1", "127.0.0.99" };
	char d[ADDR_TEXT_MAX], s1[ADDR_TEXT_MAX], s2[ADDR_TEXT_MAX];

	world(NULL, NULL);
	for (unsigned i = 0; i < SC_ARRAY_SIZE(lookups); i++) {
		static const int fl[] = { 0, AI_CANONNAME };

		for (unsigned f = 0; f < SC_ARRAY_SIZE(families); f++) {
			for (unsigned k = 0; k < 2; k++) {
				ck_assert_int_eq(__nss_configure_lookup("hosts", "dns"), 0);
				gai_text(d, sizeof(d), lookups[i], families[f], fl[k]);
				ck_assert_int_eq(__nss_configure_lookup("hosts", "sipcache"), 0);
				gai_text(s1, sizeof(s1), lookups[i], families[f], fl[k]);
				dnsd_reset(dns);
				gai_text(s2, sizeof(s2), lookups[i], families[f], fl[k]);
				ck_assert_msg(strcmp(d, s1) == 0 && strcmp(d, s2) == 0,
					      "getaddrinfo %s %d %d:\n  dns      [%s]\n  sipcache [%s]"
					      "\n  again    [%s]", lookups[i], families[f], fl[k], d,
					      s1, s2);
				ck_assert_msg(dnsd_count(dns, 0) == 0, "getaddrinfo %s: %u queries",
					      lookups[i], dnsd_count(dns, 0));
			}
		}
		for (unsigned f = 0; f < 2; f++) {
			ck_assert_int_eq(__nss_configure_lookup("hosts", "dns"), 0);
			ghbn_text(d, sizeof(d), lookups[i], families[f]);
			ck_assert_int_eq(__nss_configure_lookup("hosts", "sipcache"), 0);
			ghbn_text(s1, sizeof(s1), lookups[i], families[f]);
			ck_assert_msg(strcmp(d, s1) == 0, "gethostbyname2_r %s:\n  dns      [%s]\n"
				      "  sipcache [%s]", lookups[i], d, s1);
		}
	}
	for (unsigned i = 0; i < SC_ARRAY_SIZE(addrs); i++) {
		ck_assert_int_eq(__nss_configure_lookup("hosts", "dns"), 0);
		ghba_text(d, sizeof(d), addrs[i]);
		ck_assert_int_eq(__nss_configure_lookup("hosts", "sipcache"), 0);
		ghba_text(s1, sizeof(s1), addrs[i]);
		ck_assert_msg(strcmp(d, s1) == 0, "gethostbyaddr_r %s:\n  dns      [%s]\n"
			      "  sipcache [%s]", addrs[i], d, s1);
	}
}
END_TEST

/* `sipcache [NOTFOUND=return] dns' with an unusable cache: dns answers. */
START_TEST(test_public_fallback)
{
	char d[ADDR_TEXT_MAX], s[ADDR_TEXT_MAX];

	ck_assert_int_eq(chmod(dir, 0777), 0);
	world(NULL, NULL);
	ck_assert_int_eq(__nss_configure_lookup("hosts", "dns"), 0);
	gai_text(d, sizeof(d), "alias.sip.test", AF_UNSPEC, AI_CANONNAME);
	ck_assert_int_eq(__nss_configure_lookup("hosts", "sipcache [NOTFOUND=return] dns"), 0);
	dnsd_reset(dns);
	gai_text(s, sizeof(s), "alias.sip.test", AF_UNSPEC, AI_CANONNAME);
	ck_assert_str_eq(s, d);
	ck_assert_str_eq(s, "0 ::1(sip1.sip.test) 127.0.0.11");
	ck_assert_uint_eq(dnsd_count(dns, 0), 2);
}
END_TEST

/* Our NOTFOUND ends the lookup: `dns' is not asked again. */
START_TEST(test_public_notfound_returns)
{
	char s[ADDR_TEXT_MAX];

	world(NULL, NULL);
	_res.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	ck_assert_int_eq(__nss_configure_lookup("hosts", "sipcache [NOTFOUND=return] dns"), 0);
	gai_text(s, sizeof(s), "nx.sip.test", AF_UNSPEC, 0);
	ck_assert_str_eq(s, "-2");    /* EAI_NONAME */
	ck_assert_uint_eq(dnsd_count(dns, 0), 2);
	dnsd_reset(dns);
	gai_text(s, sizeof(s), "nx.sip.test", AF_UNSPEC, 0);
	ck_assert_str_eq(s, "-2");
	ck_assert_uint_eq(dnsd_count(dns, 0), 0);
}
END_TEST

/* No server answers: TRYAGAIN, and with `[!UNAVAIL=return]' `dns' does
 * not send the same questions again. */
START_TEST(test_public_timeout_not_doubled)
{
	char d[ADDR_TEXT_MAX], s1[ADDR_TEXT_MAX];
	unsigned nd;

	world(NULL, NULL);
	_res.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	ck_assert_int_eq(__nss_configure_lookup("hosts", "dns"), 0);
	gai_text(d, sizeof(d), "drop.sip.test", AF_INET, 0);
	nd = dnsd_count(dns, 0);
	ck_assert_str_eq(d, "-3");    /* EAI_AGAIN */
	ck_assert_int_eq(__nss_configure_lookup("hosts", "sipcache [!UNAVAIL=return] dns"), 0);
	dnsd_reset(dns);
	gai_text(s1, sizeof(s1), "drop.sip.test", AF_INET, 0);
	ck_assert_str_eq(s1, d);
	ck_assert_uint_eq(dnsd_count(dns, 0), nd);
}
END_TEST

/* Re-run with LD_LIBRARY_PATH at the module, for glibc's own dlopen. */
static void find_module(char *argv0)
{
	char exe[PATH_MAX], *ld;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0) {
		perror("readlink /proc/self/exe");
		exit(EXIT_FAILURE);
	}
	exe[n] = 0;
	snprintf(module_dir, sizeof(module_dir), "%s/../nss", dirname(exe));
	ld = getenv("LD_LIBRARY_PATH");
	if (ld == NULL || strcmp(ld, module_dir) != 0) {
		char *args[] = { argv0, NULL };

		setenv("LD_LIBRARY_PATH", module_dir, 1);
		execv("/proc/self/exe", args);
		perror("execv");
		exit(EXIT_FAILURE);
	}
}

int main(int argc, char **argv)
{
	Suite *s = suite_create("nss");
	TCase *tc = tcase_create("nss_dns");
	TCase *tb = tcase_create("protocol");
	TCase *tg = tcase_create("glibc");
	SRunner *sr;
	int failed;

	(void)argc;
	find_module(argv[0]);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_byname_like_nss_dns);
	tcase_add_test(tc, test_byname_timeout_like_nss_dns);
	tcase_add_test(tc, test_byaddr_like_nss_dns);
	tcase_add_test(tc, test_thin_entry_points);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tb, setup, teardown);
	tcase_set_timeout(tb, 60);
	tcase_add_test(tb, test_buffer_sizes);
	tcase_add_test(tb, test_buffer_sizes_hosts);
	tcase_add_test(tb, test_unavailable_untrusted_cache);
	tcase_add_test(tb, test_unavailable_disabled);
	tcase_add_test(tb, test_unavailable_bad_config);
	tcase_add_test(tb, test_bad_arguments);
	tcase_add_test(tb, test_ttl_only_lowered);
	tcase_add_test(tb, test_threads);
	tcase_add_test(tb, test_fork);
	suite_add_tcase(s, tb);

	tcase_add_checked_fixture(tg, setup, teardown);
	tcase_set_timeout(tg, 60);
	tcase_add_test(tg, test_public_functions);
	tcase_add_test(tg, test_public_fallback);
	tcase_add_test(tg, test_public_notfound_returns);
	tcase_add_test(tg, test_public_timeout_not_doubled);
	suite_add_tcase(s, tg);

	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

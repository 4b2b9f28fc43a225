/*
 * check_core.c - sc_core_query, sc_core_querydomain and sc_core_search
 * against a scripted upstream.
 *
 * The core's struct sc_real is filled with fake res_nquery/res_query
 * functions that answer from a table of canned responses (built with
 * libresolv by tests/helpers/testmsg.c, not by our own code) the way
 * libresolv reports them: length or -1, h_errno and statp->res_h_errno,
 * errno, the response left in the buffer for negative answers.  They
 * count the calls, so each test proves what reached "upstream".  Each
 * test runs in a process of its own (CK_FORK) with a configuration and
 * cache file of its own (SIPCACHE_CONF), so the process-wide core starts
 * fresh every time.  The integration tests compare the same paths with
 * real glibc against a real server; these cover what a real server will
 * not do on request: a malformed answer libresolv accepts, SERVFAIL, an
 * exact upstream errno, and the state at each step.
 */
#include <arpa/nameser.h>
#include <check.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../shim/sc.h"
#include "helpers/testmsg.h"

/* ------------------------------------------------------------------ */
/* the scripted upstream                                               */

enum fake_mode {
	FAKE_ANSWER,    /* the response, with libresolv's verdict */
	FAKE_REFUSED,   /* no server: ECONNREFUSED, TRY_AGAIN */
	FAKE_GARBAGE,   /* bytes libresolv returns as a success */
};

struct fake {
	char name[256];
	int type;
	enum fake_mode mode;
	unsigned char msg[8192];
	size_t len;
	unsigned calls;
	int errno_seen;   /* errno when last called */
};

static struct fake fakes[16];
static unsigned nfakes;
static unsigned unexpected;

static struct fake *fake_add(const char *name, int type, enum fake_mode mode,
			     const struct tmsg *m)
{
	struct fake *f = &fakes[nfakes++];

	ck_assert_uint_le(nfakes, SC_ARRAY_SIZE(fakes));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->type = type;
	f->mode = mode;
	if (m) {
		memcpy(f->msg, m->buf, m->len);
		f->len = m->len;
	}
	return f;
}

static void set_herrno(struct __res_state *st, int v)
{
	st->res_h_errno = v;
	h_errno = v;
}

static int fake_nquery(struct __res_state *st, const char *name, int class, int type,
		       unsigned char *answer, int anslen)
{
	size_t n = strlen(name);
	unsigned i;

	(void)class;
	if (n > 0 && name[n - 1] == '.') {
		n--;
	}
	for (i = 0; i < nfakes; i++) {
		struct fake *f = &fakes[i];
		unsigned rcode, ancount;

		if (f->type != type || strlen(f->name) != n || strncasecmp(f->name, name, n) != 0) {
			continue;
		}
		f->calls++;
		f->errno_seen = errno;
		answer[3] &= 0xf0;   /* as libresolv does before it asks */
		if (f->mode == FAKE_REFUSED) {
			errno = ECONNREFUSED;
			set_herrno(st, TRY_AGAIN);
			return -1;
		}
		memcpy(answer, f->msg, f->len < (size_t)anslen ? f->len : (size_t)anslen);
		errno = 0;
		if (f->mode == FAKE_GARBAGE) {
			return (int)f->len;
		}
		rcode = f->msg[3] & 0x0f;
		ancount = (unsigned)(f->msg[6] << 8 | f->msg[7]);
		if (rcode == ns_r_noerror && ancount > 0) {
			return (int)f->len;
		}
		set_herrno(st, rcode == ns_r_nxdomain ? HOST_NOT_FOUND :
			       rcode == ns_r_servfail ? TRY_AGAIN :
			       rcode == ns_r_noerror ? NO_DATA : NO_RECOVERY);
		return -1;
	}
	unexpected++;
	errno = ECONNREFUSED;
	set_herrno(st, TRY_AGAIN);
	return -1;
}

static int fake_query(const char *name, int class, int type, unsigned char *answer, int anslen)
{
	return fake_nquery(&_res, name, class, type, answer, anslen);
}

static const struct sc_real fake_real = { .res_nquery = fake_nquery, .res_query = fake_query };

/* ------------------------------------------------------------------ */
/* a core of our own                                                   */

static char dir[64], conf_path[128];
static struct __res_state state;

/* Write the configuration (cache in a fresh directory, hosts file,
 * files first, logging off, then `extra') and set the core up. */
static struct sc_core *core_with(const char *extra)
{
	char path[256];
	struct sc_core *core;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/sc-core-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/hosts", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "127.0.0.99 h.test hh\n::1 h6.test\n");
	fclose(f);
	snprintf(conf_path, sizeof(conf_path), "%s/sipcache.conf", dir);
	f = fopen(conf_path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "cache_file = %s/cache.tdb\nhosts_file = %s/hosts\nhosts_order = files-first\n"
		   "log = off\n%s\n", dir, dir, extra ? extra : "");
	fclose(f);
	setenv("SIPCACHE_CONF", conf_path, 1);
	unsetenv("SIPCACHE_DISABLE");
	unsetenv("HOSTALIASES");
	core = sc_core_get(&fake_real);
	ck_assert_ptr_nonnull(core);

	/* A resolver state of our own: no search list, ndots 1. */
	memset(&state, 0, sizeof(state));
	ck_assert_int_eq(res_ninit(&state), 0);
	state.ndots = 1;
	state.dnsrch[0] = NULL;
	state.options &= ~(unsigned long)(RES_USE_EDNS0 | RES_USE_DNSSEC | RES_TRUSTAD);
	return core;
}

static void teardown(void)
{
	char cmd[128];

	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "could not remove %s\n", dir);
		}
	}
}

/* One question through sc_core_query on `state'. */
static int ask(struct sc_core *core, const char *name, int type, unsigned char *buf, int len,
	       int *ret_herrno)
{
	struct sc_query q = {
		.name = name, .class = ns_c_in, .type = type, .answer = buf, .anslen = len,
		.statp = &state, .hosts = true,
	};

	*ret_herrno = -12345;
	memset(buf, 0xa5, (size_t)len);
	return sc_core_query(core, &q, ret_herrno);
}

/* `hit' is `miss' (ID aside) with the TTL of its one record, an SOA at
 * the end (22 bytes of RDATA here), lowered to at most `cap'. */
static void assert_soa_ttl_lowered(const unsigned char *hit, const unsigned char *miss,
				   size_t len, uint32_t cap)
{
	size_t ttl = len - 46 - 6;   /* RDATA 46: ns.test. hostmaster.test. + 20 */
	uint32_t t = (uint32_t)hit[ttl] << 24 | (uint32_t)hit[ttl + 1] << 16 |
		     (uint32_t)hit[ttl + 2] << 8 | hit[ttl + 3];

	ck_assert_mem_eq(hit + 2, miss + 2, ttl - 2);
	ck_assert_mem_eq(hit + ttl + 4, miss + ttl + 4, len - ttl - 4);
	ck_assert_uint_le(t, cap);
	ck_assert_uint_ge(t, cap - 1);
}

static void a_answer(struct tmsg *m, const char *name, uint32_t ttl, const char *ip)
{
	tmsg_begin(m, 0x1111, name, ns_t_a, ns_r_noerror);
	tmsg_flags(m, 0x0400);   /* AA */
	tmsg_a(m, 0, name, ttl, ip);
}

/* ------------------------------------------------------------------ */
/* tests                                                               */

START_TEST(test_miss_then_hit)
{
	struct sc_core *core = core_with(NULL);
	unsigned char miss[512], hit[512];
	struct tmsg m;
	struct fake *f;
	int n1, n2, he;

	a_answer(&m, "a.test", 300, "192.0.2.1");
	f = fake_add("a.test", ns_t_a, FAKE_ANSWER, &m);

	errno = 1234;
	n1 = ask(core, "a.test", ns_t_a, miss, sizeof(miss), &he);
	ck_assert_int_eq(n1, (int)m.len);
	ck_assert_int_eq(he, 0);
	ck_assert_int_eq(errno, 0);              /* as after a libresolv success */
	ck_assert_int_eq(f->errno_seen, 1234);   /* the caller's errno reached it */
	ck_assert_mem_eq(miss, m.buf, m.len);    /* upstream's bytes, untouched */

	errno = 1234;
	n2 = ask(core, "A.Test", ns_t_a, hit, sizeof(hit), &he);
	ck_assert_uint_eq(f->calls, 1);          /* the hit asked nobody */
	ck_assert_int_eq(n2, n1);
	ck_assert_int_eq(he, 0);
	ck_assert_int_eq(errno, 0);
	/* The question in the caller's spelling, the rest as stored. */
	ck_assert_mem_eq(hit + 12, "\001A\004Test", 8);
	ck_assert_mem_eq(hit + 2, miss + 2, 10);
	ck_assert_mem_eq(hit + 20, miss + 20, (size_t)n1 - 20);
	ck_assert_uint_eq(unexpected, 0);
}
END_TEST

START_TEST(test_negative_cached_with_response)
{
	struct sc_core *core = core_with(NULL);
	unsigned char b1[512], b2[512];
	struct tmsg nx, nodata;
	struct fake *f1, *f2;
	int he;

	tmsg_begin(&nx, 1, "nx.test", ns_t_a, ns_r_nxdomain);
	tmsg_soa(&nx, "test", 60, 5);
	f1 = fake_add("nx.test", ns_t_a, FAKE_ANSWER, &nx);
	tmsg_begin(&nodata, 1, "a.test", ns_t_aaaa, ns_r_noerror);
	tmsg_soa(&nodata, "test", 60, 5);
	f2 = fake_add("a.test", ns_t_aaaa, FAKE_ANSWER, &nodata);

	ck_assert_int_eq(ask(core, "nx.test", ns_t_a, b1, sizeof(b1), &he), -1);
	ck_assert_int_eq(he, HOST_NOT_FOUND);
	ck_assert_mem_eq(b1, nx.buf, nx.len);    /* the response is in the buffer */
	ck_assert_int_eq(ask(core, "nx.test", ns_t_a, b2, sizeof(b2), &he), -1);
	ck_assert_int_eq(he, HOST_NOT_FOUND);
	/* The same response, the SOA's TTL (60) lowered to the entry's
	 * remaining lifetime (its MINIMUM, 5: RFC 2308). */
	assert_soa_ttl_lowered(b2, b1, nx.len, 5);
	ck_assert_uint_eq(b2[nx.len], 0xa5);     /* nothing written past it */
	ck_assert_uint_eq(f1->calls, 1);

	ck_assert_int_eq(ask(core, "a.test", ns_t_aaaa, b1, sizeof(b1), &he), -1);
	ck_assert_int_eq(he, NO_DATA);
	ck_assert_int_eq(ask(core, "a.test", ns_t_aaaa, b2, sizeof(b2), &he), -1);
	ck_assert_int_eq(he, NO_DATA);
	assert_soa_ttl_lowered(b2, b1, nodata.len, 5);
	ck_assert_uint_eq(f2->calls, 1);
}
END_TEST

START_TEST(test_failure_not_cached_then_stale)
{
	struct sc_core *core = core_with("max_ttl = 1");
	unsigned char b[512];
	struct tmsg m, servfail;
	struct fake *f;
	int n, he;

	/* SERVFAIL: returned as it came, never stored. */
	tmsg_begin(&servfail, 1, "sf.test", ns_t_a, ns_r_servfail);
	f = fake_add("sf.test", ns_t_a, FAKE_ANSWER, &servfail);
	ck_assert_int_eq(ask(core, "sf.test", ns_t_a, b, sizeof(b), &he), -1);
	ck_assert_int_eq(he, TRY_AGAIN);
	ck_assert_int_eq(ask(core, "sf.test", ns_t_a, b, sizeof(b), &he), -1);
	ck_assert_uint_eq(f->calls, 2);

	/* A positive answer kept 1 s, then upstream goes away. */
	a_answer(&m, "a.test", 300, "192.0.2.1");
	f = fake_add("a.test", ns_t_a, FAKE_ANSWER, &m);
	n = ask(core, "a.test", ns_t_a, b, sizeof(b), &he);
	ck_assert_int_eq(n, (int)m.len);
	sleep(2);
	f->mode = FAKE_REFUSED;
	state.res_h_errno = 4242;
	h_errno = 4343;
	errno = 1234;
	n = ask(core, "a.test", ns_t_a, b, sizeof(b), &he);
	ck_assert_int_eq(n, (int)m.len);         /* served stale: a success */
	ck_assert_uint_eq(f->calls, 2);          /* after upstream was tried */
	ck_assert_int_eq(he, 0);
	ck_assert_int_eq(errno, 0);
	/* h_errno as a success leaves it, not as the failed try set it. */
	ck_assert_int_eq(state.res_h_errno, 4242);
	ck_assert_int_eq(h_errno, 4343);
	/* TTL 30 at most (RFC 8767): the record said 300. */
	ck_assert_uint_eq((unsigned)(b[n - 10] << 24 | b[n - 9] << 16 | b[n - 8] << 8 | b[n - 7]), 30);
}
END_TEST

START_TEST(test_failure_without_stale)
{
	struct sc_core *core = core_with("serve_stale = 0");
	unsigned char b[512];
	int he;

	fake_add("down.test", ns_t_a, FAKE_REFUSED, NULL);
	errno = 1234;
	ck_assert_int_eq(ask(core, "down.test", ns_t_a, b, sizeof(b), &he), -1);
	ck_assert_int_eq(he, TRY_AGAIN);
	ck_assert_int_eq(errno, ECONNREFUSED);   /* the failure's own errno */
	/* libresolv's only write to the buffer: the rcode cleared. */
	ck_assert_uint_eq(b[3], 0xa0);
	ck_assert_uint_eq(b[2], 0xa5);
	ck_assert_uint_eq(b[4], 0xa5);
}
END_TEST

START_TEST(test_malformed_passed_untouched)
{
	struct sc_core *core = core_with(NULL);
	unsigned char b[512];
	struct tmsg m;
	struct fake *f;
	int he;

	/* An answer with a record running past the end (ancount says 2). */
	a_answer(&m, "bad.test", 300, "192.0.2.1");
	m.buf[7] = 2;
	f = fake_add("bad.test", ns_t_a, FAKE_GARBAGE, &m);
	ck_assert_int_eq(ask(core, "bad.test", ns_t_a, b, sizeof(b), &he), (int)m.len);
	ck_assert_int_eq(he, 0);
	ck_assert_mem_eq(b, m.buf, m.len);
	ck_assert_int_eq(ask(core, "bad.test", ns_t_a, b, sizeof(b), &he), (int)m.len);
	ck_assert_uint_eq(f->calls, 2);          /* never cached */
}
END_TEST

START_TEST(test_truncation_like_libresolv)
{
	struct sc_core *core = core_with(NULL);
	unsigned char b[2048];
	struct tmsg small, big;
	char ip[32];
	int i, he, pass;

	a_answer(&small, "s.test", 300, "192.0.2.1");   /* 44 bytes */
	tmsg_begin(&big, 1, "big.test", ns_t_a, ns_r_noerror);
	for (i = 0; i < 40; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", i + 1);
		tmsg_a(&big, 0, "big.test", 300, ip);
	}
	ck_assert_uint_gt(big.len, 512);
	fake_add("s.test", ns_t_a, FAKE_ANSWER, &small);
	fake_add("big.test", ns_t_a, FAKE_ANSWER, &big);
	for (pass = 0; pass < 2; pass++) {   /* miss, then hit */
		memset(b, 0xa5, sizeof(b));
		/* Under the UDP limit: recvfrom cuts, the buffer size comes back. */
		ck_assert_int_eq(ask(core, "s.test", ns_t_a, b, 20, &he), 20);
		ck_assert_uint_eq(b[20], 0xa5);
		ck_assert_uint_eq(b[2] & 0x02, 0);
		/* Over it: TCP, TC set in the copy, the full length back. */
		memset(b, 0xa5, sizeof(b));
		ck_assert_int_eq(ask(core, "big.test", ns_t_a, b, 100, &he), (int)big.len);
		ck_assert_uint_eq(b[2] & 0x02, 0x02);
		ck_assert_uint_eq(b[100], 0xa5);
		ck_assert_int_eq(he, 0);
	}
}
END_TEST

START_TEST(test_options_passed_through)
{
	struct sc_core *core = core_with(NULL);
	unsigned char b[512];
	struct tmsg m;
	struct fake *f;
	int he;

	a_answer(&m, "a.test", 300, "192.0.2.1");
	f = fake_add("a.test", ns_t_a, FAKE_ANSWER, &m);
	state.options |= RES_USE_DNSSEC;
	ask(core, "a.test", ns_t_a, b, sizeof(b), &he);
	ask(core, "a.test", ns_t_a, b, sizeof(b), &he);
	ck_assert_uint_eq(f->calls, 2);
	state.options &= ~(unsigned long)(RES_USE_DNSSEC | RES_RECURSE);
	ask(core, "a.test", ns_t_a, b, sizeof(b), &he);
	ck_assert_uint_eq(f->calls, 3);
	/* Nothing of theirs was stored: a plain caller misses. */
	state.options |= RES_RECURSE;
	ask(core, "a.test", ns_t_a, b, sizeof(b), &he);
	ck_assert_uint_eq(f->calls, 4);
	ask(core, "a.test", ns_t_a, b, sizeof(b), &he);
	ck_assert_uint_eq(f->calls, 4);
}
END_TEST

START_TEST(test_ad_bit_for_trusting_callers_only)
{
	struct sc_core *core = core_with(NULL);
	unsigned char b[512];
	struct tmsg m;
	int he;

	a_answer(&m, "a.test", 300, "192.0.2.1");
	tmsg_flags(&m, 0x0020);   /* AD, as stored by a trust-ad caller */
	fake_add("a.test", ns_t_a, FAKE_ANSWER, &m);
	state.options |= RES_TRUSTAD;
	ask(core, "a.test", ns_t_a, b, sizeof(b), &he);
	ck_assert_uint_eq(b[3] & 0x20, 0x20);
	ask(core, "a.test", ns_t_a, b, sizeof(b), &he);   /* hit */
	ck_assert_uint_eq(b[3] & 0x20, 0x20);
	state.options &= ~(unsigned long)RES_TRUSTAD;
	ask(core, "a.test", ns_t_a, b, sizeof(b), &he);   /* hit */
	ck_assert_uint_eq(b[3] & 0x20, 0);
}
END_TEST

START_TEST(test_hosts_only_when_asked)
{
	struct sc_core *core = core_with(NULL);
	struct sc_query q = { .name = "h.test", .class = ns_c_in, .type = ns_t_a, .statp = &state };
	unsigned char b[512];
	struct tmsg m;
	struct fake *f;
	ns_msg msg;
	ns_rr rr;
	int n, he;

	a_answer(&m, "h.test", 300, "192.0.2.7");
	f = fake_add("h.test", ns_t_a, FAKE_ANSWER, &m);
	/* The res_* front end: files first, the file answers (TTL 0). */
	n = ask(core, "h.test", ns_t_a, b, sizeof(b), &he);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(f->calls, 0);
	ck_assert_int_eq(ns_initparse(b, n, &msg), 0);
	ck_assert_int_eq(ns_msg_count(msg, ns_s_an), 1);
	ck_assert_int_eq(ns_parserr(&msg, ns_s_an, 0, &rr), 0);
	ck_assert_uint_eq(ns_rr_ttl(rr), 0);
	ck_assert_mem_eq(ns_rr_rdata(rr), "\177\0\0\143", 4);
	/* An address lookup's DNS question: DNS's answer. */
	q.answer = b;
	q.anslen = sizeof(b);
	n = sc_core_query(core, &q, &he);
	ck_assert_int_eq(n, (int)m.len);
	ck_assert_uint_eq(f->calls, 1);
	ck_assert_mem_eq(b + n - 4, "\300\0\2\7", 4);
}
END_TEST

START_TEST(test_search_leaves_herrno_like_libresolv)
{
	struct sc_core *core = core_with(NULL);
	struct sc_query q = { .class = ns_c_in, .type = ns_t_a, .statp = &state, .hosts = true };
	unsigned char b[512];
	struct tmsg nodata, nx, ok;
	int n, he;

	tmsg_begin(&nodata, 1, "x.one.test", ns_t_a, ns_r_noerror);
	tmsg_soa(&nodata, "test", 60, 5);
	fake_add("x.one.test", ns_t_a, FAKE_ANSWER, &nodata);
	a_answer(&ok, "x.two.test", 300, "192.0.2.2");
	fake_add("x.two.test", ns_t_a, FAKE_ANSWER, &ok);
	tmsg_begin(&nx, 1, "y.one.test", ns_t_a, ns_r_nxdomain);
	tmsg_soa(&nx, "test", 60, 5);
	fake_add("y.one.test", ns_t_a, FAKE_ANSWER, &nx);
	fake_add("y.two.test", ns_t_a, FAKE_ANSWER, &nx);
	fake_add("y", ns_t_a, FAKE_ANSWER, &nx);

	state.dnsrch[0] = (char *)"one.test";
	state.dnsrch[1] = (char *)"two.test";
	state.dnsrch[2] = NULL;
	state.options |= RES_DEFNAMES | RES_DNSRCH;
	q.answer = b;
	q.anslen = sizeof(b);

	/* x.one.test is NODATA, x.two.test answers: a success that leaves
	 * h_errno at NO_DATA, as res_nsearch does. */
	q.name = "x";
	n = sc_core_search(core, &q, &he);
	ck_assert_int_eq(n, (int)ok.len);
	ck_assert_int_eq(he, NO_DATA);
	/* Nothing anywhere: HOST_NOT_FOUND (three candidates asked). */
	q.name = "y";
	ck_assert_int_eq(sc_core_search(core, &q, &he), -1);
	ck_assert_int_eq(he, HOST_NOT_FOUND);
	/* A dotted name answered as is: HOST_NOT_FOUND left from the start. */
	q.name = "x.two.test";
	ck_assert_int_eq(sc_core_search(core, &q, &he), (int)ok.len);
	ck_assert_int_eq(he, HOST_NOT_FOUND);
	ck_assert_uint_eq(unexpected, 0);
}
END_TEST

START_TEST(test_search_stops_when_refused)
{
	struct sc_core *core = core_with(NULL);
	struct sc_query q = { .name = "z", .class = ns_c_in, .type = ns_t_a, .statp = &state };
	unsigned char b[512];
	struct fake *f1, *f2;
	int he;

	f1 = fake_add("z.one.test", ns_t_a, FAKE_REFUSED, NULL);
	f2 = fake_add("z.two.test", ns_t_a, FAKE_REFUSED, NULL);
	state.dnsrch[0] = (char *)"one.test";
	state.dnsrch[1] = (char *)"two.test";
	state.dnsrch[2] = NULL;
	state.options |= RES_DEFNAMES | RES_DNSRCH;
	q.answer = b;
	q.anslen = sizeof(b);
	ck_assert_int_eq(sc_core_search(core, &q, &he), -1);
	ck_assert_int_eq(he, TRY_AGAIN);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_uint_eq(f1->calls, 1);
	ck_assert_uint_eq(f2->calls, 0);
}
END_TEST

START_TEST(test_querydomain_bounds)
{
	struct sc_core *core = core_with(NULL);
	struct sc_query q = { .class = ns_c_in, .type = ns_t_a, .statp = &state };
	unsigned char b[512];
	char longname[NS_MAXDNAME + 8];
	int he;

	q.answer = b;
	q.anslen = sizeof(b);
	/* libresolv refuses an empty name with a NULL domain... */
	q.name = "";
	he = 0;
	ck_assert_int_eq(sc_core_querydomain(core, &q, NULL, &he), -1);
	ck_assert_int_eq(he, NO_RECOVERY);
	/* ...and a name and domain longer than MAXDNAME together. */
	memset(longname, 'a', 1020);
	longname[1020] = '\0';
	q.name = longname;
	ck_assert_int_eq(sc_core_querydomain(core, &q, "test", &he), -1);
	ck_assert_int_eq(he, NO_RECOVERY);
	ck_assert_uint_eq(unexpected, 0);   /* nothing was asked */
}
END_TEST

START_TEST(test_fork_both_keep_working)
{
	struct sc_core *core = core_with(NULL);
	unsigned char b[512];
	struct tmsg m1, m2;
	struct fake *f1, *f2;
	int he, status;
	pid_t pid;

	a_answer(&m1, "a.test", 300, "192.0.2.1");
	f1 = fake_add("a.test", ns_t_a, FAKE_ANSWER, &m1);
	a_answer(&m2, "b.test", 300, "192.0.2.2");
	f2 = fake_add("b.test", ns_t_a, FAKE_ANSWER, &m2);
	ck_assert_int_eq(ask(core, "a.test", ns_t_a, b, sizeof(b), &he), (int)m1.len);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* The child's first use reopens the file: a hit, then a
		 * miss stored for the parent to find. */
		int ok = ask(core, "a.test", ns_t_a, b, sizeof(b), &he) == (int)m1.len &&
			 f1->calls == 1 &&
			 ask(core, "b.test", ns_t_a, b, sizeof(b), &he) == (int)m2.len &&
			 f2->calls == 1;

		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(ask(core, "a.test", ns_t_a, b, sizeof(b), &he), (int)m1.len);
	ck_assert_int_eq(ask(core, "b.test", ns_t_a, b, sizeof(b), &he), (int)m2.len);
	ck_assert_uint_eq(f1->calls, 1);
	ck_assert_uint_eq(f2->calls, 0);   /* the child's store, seen here */
}
END_TEST

START_TEST(test_disabled_by_env)
{
	setenv("SIPCACHE_DISABLE", "1", 1);
	ck_assert_ptr_null(sc_core_get(&fake_real));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("core");
	TCase *tq = tcase_create("query");
	TCase *ts = tcase_create("search");
	TCase *tp = tcase_create("process");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tq, NULL, teardown);
	tcase_add_checked_fixture(ts, NULL, teardown);
	tcase_add_checked_fixture(tp, NULL, teardown);
	tcase_set_timeout(tq, 30);
	tcase_add_test(tq, test_miss_then_hit);
	tcase_add_test(tq, test_negative_cached_with_response);
	tcase_add_test(tq, test_failure_not_cached_then_stale);
	tcase_add_test(tq, test_failure_without_stale);
	tcase_add_test(tq, test_malformed_passed_untouched);
	tcase_add_test(tq, test_truncation_like_libresolv);
	tcase_add_test(tq, test_options_passed_through);
	tcase_add_test(tq, test_ad_bit_for_trusting_callers_only);
	tcase_add_test(tq, test_hosts_only_when_asked);
	tcase_add_test(ts, test_search_leaves_herrno_like_libresolv);
	tcase_add_test(ts, test_search_stops_when_refused);
	tcase_add_test(ts, test_querydomain_bounds);
	tcase_add_test(tp, test_fork_both_keep_working);
	tcase_add_test(tp, test_disabled_by_env);
	suite_add_tcase(s, tq);
	suite_add_tcase(s, ts);
	suite_add_tcase(s, tp);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

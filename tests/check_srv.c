/*
 * check_srv.c - served-answer ordering, marks on answers, related records
 * (shim/sc_srv.c).
 *
 * Oracles, so that the module is not checked against itself:
 *   - answers captured from Knot (the captures of check_dns.c), whose
 *     additional records point into the RDATA of the SRV records that
 *     move;
 *   - libresolv (ns_initparse, ns_parserr, ns_sprintrr) reads every
 *     message we write: the records of the result, as zone-file text,
 *     must be those of the input, as a multiset, and in the expected
 *     order where the order is known;
 *   - messages built with libresolv's dn_comp (helpers/testmsg.c) or
 *     byte by byte (the builder below, for compression no modern server
 *     emits).
 *
 * The statistical tests use a fixed seed, so they are reproducible and
 * cannot flake; their bounds are also five standard deviations of the
 * binomial count, so that another seed (or another generator) passes
 * them too, except with probability below 1e-6 per bound, while a
 * skewed draw (the RFC's literal 40%:60% for 1:3) fails by dozens of
 * deviations.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../shim/sc.h"
#include "helpers/testmsg.h"
#include "helpers/tmpcache.h"

#define NOW 1800000000

/* ------------------------------------------------------------------ */
/* helpers                                                             */

/* Check's ck_assert_* cost a round trip to the runner on every call;
 * this one only talks to Check on failure (hot loops). */
__attribute__((format(printf, 2, 3)))
static void require(bool ok, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	if (ok) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ck_abort_msg("%s", why);
}

static size_t unhex(const char *hex, unsigned char *out, size_t outlen)
{
	size_t n = 0;

	while (hex[0] != 0 && hex[1] != 0) {
		unsigned v;

		ck_assert_int_eq(sscanf(hex, "%2x", &v), 1);
		ck_assert_uint_lt(n, outlen);
		out[n++] = (unsigned char)v;
		hex += 2;
	}
	return n;
}

/* Answers captured from knotd 3.2.6 (see check_dns.c for the zone). */
static const char srv_tcp_edns[] =     /* _sip._tcp.sip.test SRV, EDNS */
	"100385000001000200000006045f736970045f74637003736970047465737400"
	"00210001c00c0021000100000e100017000a003c13c40670726f787931037369"
	"70047465737400c00c0021000100000e1000170014002813c40670726f787932"
	"03736970047465737400c0360001000100000e100004c000020ac036001c0001"
	"00000e10001020010db8000000000000000000000010c0590001000100000e10"
	"0004c0000214c0590001000100000e100004c0000215c059001c000100000e10"
	"001020010db800000000000000000000002000002904d0000000000000";
static const char srv_tls_edns[] =     /* _sips._tcp.sip.test SRV, EDNS */
	"101285000001000200000006055f73697073045f746370037369700474657374"
	"0000210001c00c0021000100000e100017000a002813c50670726f7879320373"
	"6970047465737400c00c0021000100000e100017000a003c13c50670726f7879"
	"3103736970047465737400c0370001000100000e100004c0000214c037000100"
	"0100000e100004c0000215c037001c000100000e10001020010db80000000000"
	"00000000000020c05a0001000100000e100004c000020ac05a001c000100000e"
	"10001020010db800000000000000000000001000002904d0000000000000";
static const char srv_udp[] =          /* _sip._udp.sip.test SRV */
	"100485000001000100000002045f736970045f75647003736970047465737400"
	"00210001c00c002100010000012c0017000a006413c40670726f787931037369"
	"70047465737400c0360001000100000e100004c000020ac036001c000100000e"
	"10001020010db8000000000000000000000010";
static const char naptr_cap[] =        /* sip.test NAPTR */
	"1001850000010003000000000373697004746573740000230001c00c00230001"
	"00000e100025000a0032017308534950532b44325400055f73697073045f7463"
	"7003736970047465737400c00c0023000100000e100023001400320173075349"
	"502b44325400045f736970045f74637003736970047465737400c00c00230001"
	"00000e100023001e00320173075349502b44325500045f736970045f75647003"
	"736970047465737400";
static const char a_proxy2[] =         /* proxy2.sip.test A: two records */
	"1005850000010002000000000670726f78793203736970047465737400000100"
	"01c00c0001000100000e100004c0000214c00c0001000100000e100004c00002"
	"15";
static const char cname_www[] =        /* www.sip.test A: CNAME, then A */
	"100785000001000200000000037777770373697004746573740000010001c00c"
	"0005000100000e1000090670726f787931c010c02a0001000100000e100004c0"
	"00020a";

/*
 * libresolv's reading of a message as text: a header line, then one
 * line per record, "SECTION OWNER TTL CLASS TYPE RDATA" (ns_sprintrr,
 * blanks squeezed).  Fails the test when libresolv cannot read it.
 */
struct txt {
	char s[65536];
	unsigned nlines;
	char *line[600];
};

/* Runs of blanks to one space, none at the ends. */
static void squeeze(char *s)
{
	char *o = s, *i = s;
	bool blank = false;

	for (; *i; i++) {
		if (*i == ' ' || *i == '\t' || *i == '\n') {
			blank = o != s;
			continue;
		}
		if (blank) {
			*o++ = ' ';
			blank = false;
		}
		*o++ = *i;
	}
	*o = '\0';
}

static void render(const unsigned char *buf, size_t len, struct txt *t)
{
	static const char *const secname[] = { "an", "ns", "ar" };
	static const ns_sect sects[] = { ns_s_an, ns_s_ns, ns_s_ar };
	size_t o = 0;
	ns_msg h;
	unsigned s;
	int k;

	t->nlines = 0;
	require(ns_initparse(buf, (int)len, &h) == 0, "libresolv cannot read the message");
	o += (size_t)snprintf(t->s + o, sizeof(t->s) - o, "flags=0x%04x qd=%d an=%d ns=%d ar=%d\n",
			      ns_msg_getflag(h, ns_f_qr) << 15 | ns_msg_getflag(h, ns_f_aa) << 10 |
				      ns_msg_getflag(h, ns_f_tc) << 9 | ns_msg_getflag(h, ns_f_rd) << 8 |
				      ns_msg_getflag(h, ns_f_ra) << 7 | ns_msg_getflag(h, ns_f_rcode),
			      ns_msg_count(h, ns_s_qd), ns_msg_count(h, ns_s_an),
			      ns_msg_count(h, ns_s_ns), ns_msg_count(h, ns_s_ar));
	for (s = 0; s < 3; s++) {
		for (k = 0; k < ns_msg_count(h, sects[s]); k++) {
			char line[2048];
			ns_rr rr;

			require(ns_parserr(&h, sects[s], k, &rr) == 0, "ns_parserr %s %d", secname[s], k);
			if (ns_rr_type(rr) == ns_t_opt) {
				snprintf(line, sizeof(line), ". OPT size=%u", ns_rr_class(rr));
			} else {
				/* Deprecated with the rest of the old API, but it is
				 * libresolv's own zone-file text of a record. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
				require(ns_sprintrr(&h, &rr, NULL, NULL, line, sizeof(line)) > 0,
					"ns_sprintrr %s %d", secname[s], k);
#pragma GCC diagnostic pop
				squeeze(line);
				/* ns_sprintrr writes TTLs as "1H": put the number. */
				{
					char rest[2048];
					size_t a = strcspn(line, " ");
					size_t b = a + 1 + strcspn(line + a + 1, " ");

					snprintf(rest, sizeof(rest), "%s", line + b);
					snprintf(line + a, sizeof(line) - a, " %u%s", ns_rr_ttl(rr), rest);
				}
			}
			require(t->nlines < SC_ARRAY_SIZE(t->line), "too many records");
			t->line[t->nlines++] = t->s + o;
			o += (size_t)snprintf(t->s + o, sizeof(t->s) - o, "%s %s\n", secname[s], line);
			require(o < sizeof(t->s), "text too long");
		}
	}
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The records as a sorted list: equal for equal multisets. */
static void sorted(const struct txt *t, char *out, size_t outlen)
{
	char *lines[600];
	size_t o = 0;
	unsigned i;

	memcpy(lines, t->line, t->nlines * sizeof(lines[0]));
	qsort(lines, t->nlines, sizeof(lines[0]), line_cmp);
	out[0] = '\0';
	for (i = 0; i < t->nlines; i++) {
		size_t l = strcspn(lines[i], "\n");

		require(o + l + 2 < outlen, "sorted text too long");
		memcpy(out + o, lines[i], l);
		o += l;
		out[o++] = '\n';
		out[o] = '\0';
	}
}

/* The whole message must be what we accept and what libresolv reads. */
static void valid(const unsigned char *buf, size_t len)
{
	static struct sc_msg m;
	static struct txt t;

	require(sc_dns_parse(buf, len, &m) == 0, "sc_dns_parse refuses the result");
	render(buf, len, &t);
}

/* Same records (as text, any order) and same header but the counts. */
static void same_records(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	static struct txt ta, tb;
	static char sa[65536], sb[65536];

	valid(b, blen);
	render(a, alen, &ta);
	render(b, blen, &tb);
	sorted(&ta, sa, sizeof(sa));
	sorted(&tb, sb, sizeof(sb));
	require(strcmp(sa, sb) == 0, "records differ:\n%s---\n%s", sa, sb);
	require(memcmp(a, b, 4) == 0, "ID or flags changed");
}

static struct sc_marks marks;

/*
 * `b' holds the records of `a', less some answer SRV records whose
 * targets are marked (all marks here are name marks for every port),
 * and at least one unmarked SRV remains when any was there.
 */
static void subset_dropping_marked(const unsigned char *a, size_t alen, const unsigned char *b,
				   size_t blen)
{
	static struct txt ta, tb;
	static char sa[65536], sb[65536];
	char *p, *q;
	unsigned kept_unmarked = 0, had_unmarked = 0;

	valid(b, blen);
	render(a, alen, &ta);
	render(b, blen, &tb);
	sorted(&ta, sa, sizeof(sa));
	sorted(&tb, sb, sizeof(sb));
	/* Walk both sorted lists: every line of b is in a; the lines only
	 * in a are answer SRV records of marked targets. */
	for (p = sa, q = sb; *p;) {
		size_t lp = strcspn(p, "\n"), lq = strcspn(q, "\n");
		bool srv = strncmp(p, "an ", 3) == 0 && strstr(p, " SRV ") && strstr(p, " SRV ") < p + lp;

		if (srv) {
			unsigned char target[SC_DNS_MAXNAME];
			char name[300];
			const char *t = p + lp;

			while (t > p && t[-1] != ' ') {
				t--;
			}
			snprintf(name, sizeof(name), "%.*s", (int)(p + lp - t), t);
			require(sc_dns_name_from_text(name, target, sizeof(target)) > 0, "target %s", name);
			if (!sc_marks_name_down(&marks, target, 0, NOW)) {
				had_unmarked++;
				kept_unmarked += *q && lp == lq && memcmp(p, q, lp) == 0;
			}
		}
		if (*q && lp == lq && memcmp(p, q, lp) == 0) {
			p += lp + 1;
			q += lq + 1;
			continue;
		}
		require(srv, "dropped a record that is not an answer SRV: %.*s", (int)lp, p);
		p += lp + 1;
	}
	require(*q == '\0', "a record that was not there: %s", q);
	require(had_unmarked == 0 || kept_unmarked == had_unmarked, "an unmarked SRV was dropped");
	require(memcmp(a, b, 4) == 0, "ID or flags changed");
}

static void mark(const char *target, int64_t expires)
{
	ck_assert_uint_lt(marks.n, SC_MARKS_MAX);
	ck_assert_int_eq(sc_mark_parse(target, &marks.m[marks.n]), 0);
	marks.m[marks.n].expires = expires;
	marks.n++;
}

/* A byte-by-byte builder, for compression no modern server writes. */
struct mb {
	unsigned char b[65536];
	size_t n, rd;
};

static void mb_u16(struct mb *m, unsigned v)
{
	m->b[m->n++] = (unsigned char)(v >> 8);
	m->b[m->n++] = (unsigned char)v;
}

static void mb_u32(struct mb *m, uint32_t v)
{
	mb_u16(m, v >> 16);
	mb_u16(m, v & 0xffff);
}

/* Labels of dotted `text' (no trailing dot), then the root when `end'. */
static size_t mb_labels(struct mb *m, const char *text, bool end)
{
	size_t at = m->n;

	while (*text) {
		size_t l = strcspn(text, ".");

		m->b[m->n++] = (unsigned char)l;
		memcpy(m->b + m->n, text, l);
		m->n += l;
		text += l + (text[l] == '.');
	}
	if (end) {
		m->b[m->n++] = 0;
	}
	return at;
}

static void mb_ptr(struct mb *m, size_t off)
{
	mb_u16(m, 0xc000u | (unsigned)off);
}

static void mb_header(struct mb *m, unsigned an, unsigned ns, unsigned ar, const char *qname,
		      uint16_t qtype)
{
	m->n = 0;
	mb_u16(m, 0x4242);
	mb_u16(m, 0x8180);
	mb_u16(m, 1);
	mb_u16(m, an);
	mb_u16(m, ns);
	mb_u16(m, ar);
	mb_labels(m, qname, true);
	mb_u16(m, qtype);
	mb_u16(m, ns_c_in);
}

/* After the owner: type, class, TTL, RDLENGTH (patched by mb_end). */
static void mb_rr(struct mb *m, uint16_t type, uint32_t ttl)
{
	mb_u16(m, type);
	mb_u16(m, ns_c_in);
	mb_u32(m, ttl);
	mb_u16(m, 0);
	m->rd = m->n;
}

static void mb_end(struct mb *m)
{
	size_t l = m->n - m->rd;

	m->b[m->rd - 2] = (unsigned char)(l >> 8);
	m->b[m->rd - 1] = (unsigned char)l;
}

/* NAPTR RDATA: order, preference, flags, services, regexp, replacement. */
static size_t naptr_rdata(unsigned char *out, unsigned order, unsigned pref, const char *flags,
			  const char *services, const char *regexp, const char *repl)
{
	const char *s[3] = { flags, services, regexp };
	size_t n = 4;
	unsigned i;
	int r;

	out[0] = (unsigned char)(order >> 8);
	out[1] = (unsigned char)order;
	out[2] = (unsigned char)(pref >> 8);
	out[3] = (unsigned char)pref;
	for (i = 0; i < 3; i++) {
		out[n++] = (unsigned char)strlen(s[i]);
		memcpy(out + n, s[i], strlen(s[i]));
		n += strlen(s[i]);
	}
	r = ns_name_pton(repl, out + n, 256);
	ck_assert_int_ge(r, 0);
	while (out[n] != 0) {
		n += 1u + out[n];
	}
	return n + 1;
}

/* The first answer record's line (libresolv's text). */
static void first_answer(const unsigned char *buf, size_t len, char *out, size_t outlen)
{
	static struct txt t;

	render(buf, len, &t);
	require(t.nlines > 0, "no records");
	snprintf(out, outlen, "%.*s", (int)strcspn(t.line[0], "\n"), t.line[0]);
}

/* ------------------------------------------------------------------ */
/* RFC 2782 draws                                                      */

/* How often each record comes first in `draws' orders of v. */
static void first_counts(const struct sc_srv_pick *v, unsigned n, unsigned draws, uint64_t seed,
			 unsigned *counts)
{
	struct sc_srv_pick w[16];
	struct sc_rng rng;
	unsigned i, d;

	sc_rng_seed(&rng, seed);
	memset(counts, 0, n * sizeof(*counts));
	for (d = 0; d < draws; d++) {
		bool seen[16] = { false };

		memcpy(w, v, n * sizeof(*v));
		sc_srv_rfc2782(w, n, &rng);
		counts[w[0].idx]++;
		/* Always a permutation. */
		for (i = 0; i < n; i++) {
			require(w[i].idx < n && !seen[w[i].idx], "not a permutation");
			seen[w[i].idx] = true;
		}
	}
}

/* |count - draws*p| within 5 binomial standard deviations. */
static void within_5_sigma(unsigned count, unsigned draws, double p, const char *what)
{
	double mean = draws * p, sigma = sqrt(draws * p * (1 - p));

	ck_assert_msg(fabs(count - mean) <= 5 * sigma,
		      "%s: %u of %u, expected %.1f +- %.1f (5 sigma)", what, count, draws, mean,
		      5 * sigma);
}

START_TEST(test_rng_below_uniform)
{
	struct sc_rng rng;
	unsigned c[6] = { 0 }, i;

	sc_rng_seed(&rng, 42);
	ck_assert_uint_eq(sc_rng_below(&rng, 0), 0);
	for (i = 0; i < 1000; i++) {
		require(sc_rng_below(&rng, 1) == 0, "below(1)");
	}
	for (i = 0; i < 60000; i++) {
		uint32_t v = sc_rng_below(&rng, 6);

		require(v < 6, "below(6) gave %u", v);
		c[v]++;
	}
	for (i = 0; i < 6; i++) {
		within_5_sigma(c[i], 60000, 1.0 / 6, "face");
	}
	/* The same seed, the same numbers; another seed, others. */
	{
		struct sc_rng a, b;
		unsigned same = 0;

		sc_rng_seed(&a, 7);
		sc_rng_seed(&b, 7);
		for (i = 0; i < 100; i++) {
			require(sc_rng_below(&a, 1000000) == sc_rng_below(&b, 1000000), "not reproducible");
		}
		sc_rng_seed(&b, 8);
		for (i = 0; i < 100; i++) {
			same += sc_rng_below(&a, 1000000) == sc_rng_below(&b, 1000000);
		}
		ck_assert_uint_lt(same, 3);
	}
}
END_TEST

/*
 * DESIGN.md's example: weights 1:3 give 25%:75% (Kamailio's balancing),
 * not the RFC's literal 40%:60%.  10,000 draws: sigma = 43.3, so the
 * bound is 2500 +- 217, and 40% (4000) is 35 sigmas away.
 */
START_TEST(test_one_to_three_is_25_75)
{
	const struct sc_srv_pick v[2] = { { 10, 1, 0 }, { 10, 3, 1 } };
	const struct sc_srv_pick zone[2] = { { 10, 30, 0 }, { 10, 10, 1 } };
	unsigned c[2];

	first_counts(v, 2, 10000, 0x5eed, c);
	within_5_sigma(c[0], 10000, 0.25, "weight 1 of 1:3");
	ck_assert_uint_eq(c[0] + c[1], 10000);
	ck_assert_uint_lt(c[0], 3000);   /* nowhere near 40% */
	/* The same split whatever the order and scale (the zones' 10:30). */
	first_counts(zone, 2, 10000, 0x5eed2, c);
	within_5_sigma(c[1], 10000, 0.25, "weight 10 of 30:10");
}
END_TEST

START_TEST(test_three_weights_and_second_place)
{
	const struct sc_srv_pick v[3] = { { 1, 1, 0 }, { 1, 2, 1 }, { 1, 7, 2 } };
	struct sc_srv_pick w[3];
	struct sc_rng rng;
	unsigned c[3], second_given_7_first = 0, n7 = 0, d;

	first_counts(v, 3, 10000, 99, c);
	within_5_sigma(c[0], 10000, 0.1, "weight 1 of 1:2:7");
	within_5_sigma(c[1], 10000, 0.2, "weight 2 of 1:2:7");
	within_5_sigma(c[2], 10000, 0.7, "weight 7 of 1:2:7");
	/* After the first draw the rest is drawn again: given 7 first, the
	 * 2 comes second with 2/3. */
	sc_rng_seed(&rng, 100);
	for (d = 0; d < 10000; d++) {
		memcpy(w, v, sizeof(w));
		sc_srv_rfc2782(w, 3, &rng);
		if (w[0].idx == 2) {
			n7++;
			second_given_7_first += w[1].idx == 1;
		}
	}
	within_5_sigma(second_given_7_first, n7, 2.0 / 3, "weight 2 second after 7");
}
END_TEST

/*
 * Weight 0 (RFC 2782): placed first before each draw, chosen only when
 * the draw gives 0, one chance in (sum + 1): 1/41 for 0, 10, 30; the
 * others keep exact proportions among themselves (10/41, 30/41).
 */
START_TEST(test_weight_zero)
{
	const struct sc_srv_pick v[3] = { { 5, 10, 0 }, { 5, 0, 1 }, { 5, 30, 2 } };
	const struct sc_srv_pick zeros[4] = { { 0, 0, 0 }, { 0, 0, 1 }, { 0, 0, 2 }, { 0, 0, 3 } };
	const struct sc_srv_pick one[2] = { { 0, 1, 0 }, { 0, 0, 1 } };
	unsigned c[4], i;

	first_counts(v, 3, 10000, 1234, c);
	within_5_sigma(c[1], 10000, 1.0 / 41, "weight 0 first");
	ck_assert_uint_gt(c[1], 0);   /* a small chance, not none */
	within_5_sigma(c[0], 10000, 10.0 / 41, "weight 10 first");
	within_5_sigma(c[2], 10000, 30.0 / 41, "weight 30 first");
	/* Only weight 0: a fair choice. */
	first_counts(zeros, 4, 10000, 77, c);
	for (i = 0; i < 4; i++) {
		within_5_sigma(c[i], 10000, 0.25, "all weights 0");
	}
	/* Weights 1 and 0: the 0 wins half the time (1 in 1 + 1). */
	first_counts(one, 2, 10000, 78, c);
	within_5_sigma(c[1], 10000, 0.5, "weight 0 against 1");
}
END_TEST

START_TEST(test_priorities_first)
{
	const struct sc_srv_pick v[6] = {
		{ 20, 5, 0 }, { 10, 1, 1 }, { 30, 0, 2 }, { 10, 99, 3 }, { 20, 5, 4 }, { 0, 0, 5 },
	};
	struct sc_srv_pick w[6];
	struct sc_rng rng;
	unsigned d, i;

	sc_rng_seed(&rng, 5);
	for (d = 0; d < 2000; d++) {
		memcpy(w, v, sizeof(w));
		sc_srv_rfc2782(w, 6, &rng);
		require(w[0].idx == 5, "priority 0 first");
		require((w[1].idx == 1 || w[1].idx == 3) && (w[2].idx == 1 || w[2].idx == 3),
			"priority 10 next");
		require((w[3].idx == 0 || w[3].idx == 4) && (w[4].idx == 0 || w[4].idx == 4),
			"priority 20 next");
		require(w[5].idx == 2, "priority 30 last");
		for (i = 1; i < 6; i++) {
			require(w[i - 1].prio <= w[i].prio, "priorities ascending");
		}
	}
	/* n = 0 and 1 are fine. */
	sc_srv_rfc2782(w, 0, &rng);
	memcpy(w, v, sizeof(w));
	sc_srv_rfc2782(w, 1, &rng);
	ck_assert_uint_eq(w[0].idx, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* sc_srv_apply: ordering served answers                               */

/*
 * Knot's answer for _sips._tcp: two records of priority 10, weights 40
 * (proxy2, first as sent) and 60 (proxy1), and additional records whose
 * owners are pointers into the SRV targets.  Every order we produce must
 * read as the same records; proxy1 comes first 60% of the time.
 */
START_TEST(test_order_capture)
{
	static unsigned char orig[4096], buf[4096];
	size_t len = unhex(srv_tls_edns, orig, sizeof(orig));
	struct sc_rng rng;
	unsigned d, proxy1 = 0, changed = 0;
	char first[512];

	sc_rng_seed(&rng, 2024);
	for (d = 0; d < 10000; d++) {
		int r;

		memcpy(buf, orig, len);
		r = sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng);
		require(r > 0, "apply: %d", r);
		/* Never longer: every suffix is written once. */
		require((size_t)r <= len, "grew from %zu to %d", len, r);
		if (d < 2000) {
			same_records(orig, len, buf, (size_t)r);
		}
		if (memcmp(buf, orig, len) != 0 || (size_t)r != len) {
			changed++;
		}
		first_answer(buf, (size_t)r, first, sizeof(first));
		proxy1 += strstr(first, "proxy1") != NULL;
	}
	within_5_sigma(proxy1, 10000, 0.6, "proxy1 (weight 60) first");
	/* The message is rewritten when the order changed, and only then:
	 * proxy1 first means a new order. */
	ck_assert_uint_eq(changed, proxy1);
}
END_TEST

/* The whole text of one reordering, as we expect it. */
START_TEST(test_order_whole_answer)
{
	static unsigned char buf[4096];
	static struct txt t;
	char first[512];
	size_t len = 0;
	struct sc_rng rng;
	int r = 0, tries;

	/* Draw until proxy1 comes first (60% per try). */
	for (tries = 0; tries < 64; tries++) {
		len = unhex(srv_tls_edns, buf, sizeof(buf));
		sc_rng_seed(&rng, (uint64_t)tries + 1);
		r = sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng);
		ck_assert_int_gt(r, 0);
		first_answer(buf, (size_t)r, first, sizeof(first));
		if (strstr(first, "proxy1")) {
			break;
		}
	}
	ck_assert_int_lt(tries, 64);
	render(buf, (size_t)r, &t);
	ck_assert_str_eq(t.s,
		"flags=0x8500 qd=1 an=2 ns=0 ar=6\n"
		"an _sips._tcp.sip.test. 3600 IN SRV 10 60 5061 proxy1.sip.test.\n"
		"an _sips._tcp.sip.test. 3600 IN SRV 10 40 5061 proxy2.sip.test.\n"
		"ar proxy2.sip.test. 3600 IN A 192.0.2.20\n"
		"ar proxy2.sip.test. 3600 IN A 192.0.2.21\n"
		"ar proxy2.sip.test. 3600 IN AAAA 2001:db8::20\n"
		"ar proxy1.sip.test. 3600 IN A 192.0.2.10\n"
		"ar proxy1.sip.test. 3600 IN AAAA 2001:db8::10\n"
		"ar . OPT size=1232\n");
	/* Same length: the owners of the additional records became
	 * pointers to the targets' new places, no name was written twice. */
	ck_assert_uint_eq((size_t)r, len);
	{
		unsigned char target[SC_DNS_MAXNAME];

		/* The first target is now written in full where proxy2's was. */
		ck_assert_int_eq(sc_dns_name_expand(buf, len, 12 + 21 + 4 + 12 + 6, target, NULL), 17);
		ck_assert_mem_eq(target, "\006proxy1\003sip\004test", 17);
		ck_assert_uint_eq(buf[12 + 21 + 4 + 12 + 6], 6);
	}
}
END_TEST

/*
 * srv_order = rfc2782-weights: the draw as with SC_SRV_ORDER, and within a
 * priority the weights, the same values, decrease along the served order,
 * so that a client that re-sorts by priority then weight (highest first,
 * stable: Kamailio without its DNS cache) keeps the draw.
 */
START_TEST(test_reweight_follows_the_draw)
{
	static unsigned char orig[4096], buf[4096];
	size_t len = unhex(srv_tls_edns, orig, sizeof(orig));
	struct sc_rng rng;
	unsigned d, proxy1 = 0;

	sc_rng_seed(&rng, 77);
	for (d = 0; d < 10000; d++) {
		static struct sc_msg m;
		char first[512];
		unsigned idx[8];
		uint16_t w0, w1;
		int r, n;

		memcpy(buf, orig, len);
		r = sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER | SC_SRV_REWEIGHT, NULL, NOW,
				 &rng);
		require(r > 0, "apply: %d", r);
		require(sc_dns_parse(buf, (size_t)r, &m) == 0, "reweighted answer refused");
		n = sc_srv_rrset(&m, SC_T_SRV, idx, 8, NULL);
		require(n == 2, "rrset %d", n);
		w0 = (uint16_t)(buf[m.rr[idx[0]].rdata_off + 2] << 8 | buf[m.rr[idx[0]].rdata_off + 3]);
		w1 = (uint16_t)(buf[m.rr[idx[1]].rdata_off + 2] << 8 | buf[m.rr[idx[1]].rdata_off + 3]);
		/* The same weights, largest first, whichever target drew first. */
		require(w0 == 60 && w1 == 40, "weights %u %u", w0, w1);
		first_answer(buf, (size_t)r, first, sizeof(first));
		proxy1 += strstr(first, "proxy1") != NULL;
	}
	/* The draw itself still follows the original weights 60:40. */
	within_5_sigma(proxy1, 10000, 0.6, "proxy1 (weight 60) first, reweighted");
}
END_TEST

/* What must leave the message alone, byte for byte, without a copy. */
START_TEST(test_apply_leaves_alone)
{
	static unsigned char orig[4096], buf[4096];
	struct sc_rng rng;
	size_t len;

	sc_rng_seed(&rng, 1);
	/* One record: nothing to order. */
	len = unhex(srv_udp, orig, sizeof(orig));
	memcpy(buf, orig, len);
	memset(buf + len, 0xa5, 64);
	ck_assert_int_eq(sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER | SC_SRV_DROP, NULL, NOW,
				      &rng), (int)len);
	ck_assert_mem_eq(buf, orig, len);
	ck_assert_uint_eq(buf[len], 0xa5);
	/* Priorities 10 then 20 as sent: RFC 2782 order is the same. */
	len = unhex(srv_tcp_edns, orig, sizeof(orig));
	memcpy(buf, orig, len);
	ck_assert_int_eq(sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng),
			 (int)len);
	ck_assert_mem_eq(buf, orig, len);
	/* Ordering off (srv_order = keep) and no marks. */
	len = unhex(srv_tls_edns, orig, sizeof(orig));
	memcpy(buf, orig, len);
	ck_assert_int_eq(sc_srv_apply(buf, len, sizeof(buf), 0, NULL, NOW, &rng), (int)len);
	ck_assert_mem_eq(buf, orig, len);
	/* NAPTR answers are never reordered, A answers only by marks. */
	len = unhex(naptr_cap, orig, sizeof(orig));
	memcpy(buf, orig, len);
	ck_assert_int_eq(sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng),
			 (int)len);
	ck_assert_mem_eq(buf, orig, len);
	len = unhex(a_proxy2, orig, sizeof(orig));
	memcpy(buf, orig, len);
	ck_assert_int_eq(sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng),
			 (int)len);
	ck_assert_mem_eq(buf, orig, len);
	/* Marks that match nothing, or expired ones. */
	memset(&marks, 0, sizeof(marks));
	mark("192.0.2.99", NOW + 60);
	mark("192.0.2.20", NOW - 1);
	ck_assert_int_eq(sc_srv_apply(buf, len, sizeof(buf), SC_SRV_DROP, &marks, NOW, &rng),
			 (int)len);
	ck_assert_mem_eq(buf, orig, len);
	/* Bad arguments. */
	ck_assert_int_eq(sc_srv_apply(buf, 5, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng), -EINVAL);
	ck_assert_int_eq(sc_srv_apply(buf, len, len - 1, SC_SRV_ORDER, NULL, NOW, &rng), -EINVAL);
}
END_TEST

/*
 * A CNAME before the SRV records, SRV records of another owner and an
 * RRset of mixed priorities: only the SRVs of the chain's end move, into
 * the places they had; the others keep theirs.
 */
START_TEST(test_order_cname_and_other_owner)
{
	static struct tmsg m;
	static unsigned char buf[8192];
	static struct txt t;
	struct sc_rng rng;
	unsigned d;
	int r;

	tmsg_begin(&m, 7, "_sip._udp.a.test", ns_t_srv, ns_r_noerror);
	tmsg_cname(&m, 0, "_sip._udp.a.test", 60, "_sip._udp.b.test");
	tmsg_srv(&m, 0, "_sip._udp.b.test", 60, 20, 0, 5060, "late.b.test");
	tmsg_srv(&m, 0, "_sip._udp.other.test", 60, 0, 0, 5060, "stay.other.test");
	tmsg_srv(&m, 0, "_sip._udp.b.test", 60, 10, 0, 5060, "early.b.test");
	tmsg_a(&m, 2, "late.b.test", 60, "192.0.2.1");
	tmsg_a(&m, 2, "early.b.test", 60, "192.0.2.2");
	sc_rng_seed(&rng, 3);
	for (d = 0; d < 50; d++) {
		memcpy(buf, m.buf, m.len);
		r = sc_srv_apply(buf, m.len, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng);
		ck_assert_int_gt(r, 0);
		same_records(m.buf, m.len, buf, (size_t)r);
		render(buf, (size_t)r, &t);
		ck_assert_str_eq(t.s,
			"flags=0x8180 qd=1 an=4 ns=0 ar=2\n"
			"an _sip._udp.a.test. 60 IN CNAME _sip._udp.b.test.\n"
			"an _sip._udp.b.test. 60 IN SRV 10 0 5060 early.b.test.\n"
			"an _sip._udp.other.test. 60 IN SRV 0 0 5060 stay.other.test.\n"
			"an _sip._udp.b.test. 60 IN SRV 20 0 5060 late.b.test.\n"
			"ar late.b.test. 60 IN A 192.0.2.1\n"
			"ar early.b.test. 60 IN A 192.0.2.2\n");
	}
}
END_TEST

/*
 * Old servers compressed SRV targets against each other.  Here the
 * second target ("b" + a pointer into the first) must come first: its
 * labels are then written out in full, and the first target, written
 * after it, points to them.  Same names, same length, so it fits a
 * buffer of the original's size.
 */
START_TEST(test_order_compressed_targets)
{
	static struct mb m;
	static unsigned char buf[4096];
	static struct txt t;
	size_t t1, a1;
	struct sc_rng rng;
	int r;

	mb_header(&m, 2, 0, 2, "_sip._udp.x.test", ns_t_srv);
	mb_ptr(&m, 12);
	mb_rr(&m, ns_t_srv, 300);
	mb_u16(&m, 10), mb_u16(&m, 0), mb_u16(&m, 5060);
	t1 = mb_labels(&m, "a.foo.example", true);
	mb_end(&m);
	mb_ptr(&m, 12);
	mb_rr(&m, ns_t_srv, 300);
	mb_u16(&m, 0), mb_u16(&m, 0), mb_u16(&m, 5061);
	mb_labels(&m, "b", false);
	mb_ptr(&m, t1 + 2);              /* "foo.example" inside the first */
	mb_end(&m);
	mb_ptr(&m, t1);                  /* a.foo.example A */
	mb_rr(&m, ns_t_a, 60);
	mb_u32(&m, 0xc0000201);
	mb_end(&m);
	mb_ptr(&m, t1 + 2);              /* foo.example A */
	mb_rr(&m, ns_t_a, 60);
	mb_u32(&m, 0xc0000202);
	mb_end(&m);
	valid(m.b, m.n);

	sc_rng_seed(&rng, 9);
	memcpy(buf, m.b, m.n);
	memset(buf + m.n, 0xa5, 64);
	r = sc_srv_apply(buf, m.n, m.n, SC_SRV_ORDER, NULL, NOW, &rng);
	ck_assert_int_eq(r, (int)m.n);
	ck_assert_uint_eq(buf[m.n], 0xa5);
	same_records(m.b, m.n, buf, (size_t)r);
	render(buf, (size_t)r, &t);
	ck_assert_str_eq(t.s,
		"flags=0x8180 qd=1 an=2 ns=0 ar=2\n"
		"an _sip._udp.x.test. 300 IN SRV 0 0 5061 b.foo.example.\n"
		"an _sip._udp.x.test. 300 IN SRV 10 0 5060 a.foo.example.\n"
		"ar a.foo.example. 60 IN A 192.0.2.1\n"
		"ar foo.example. 60 IN A 192.0.2.2\n");
	/* The first target is now "a" and a pointer to the second's. */
	a1 = 12 + 18 + 4 + 12 + 6 + 15 + 12 + 6;
	ck_assert_mem_eq(buf + a1, "\001a\300", 3);
	ck_assert_uint_eq(buf[a1 + 3], 12 + 18 + 4 + 12 + 6 + 2);
}
END_TEST

/*
 * Past 16 KiB pointers cannot reach: 70 SRV records with long targets in
 * reverse priority order, and an A record whose owner points to the
 * first target.  Reordered, that target is written beyond 16 KiB, so the
 * A record's owner must be spelled out: the message grows, which a buffer
 * of the original's size cannot take (-EMSGSIZE, the answer untouched);
 * with room it reads as the same records.
 */
START_TEST(test_order_beyond_pointer_reach)
{
	static struct mb m;
	static unsigned char buf[65536];
	static char name[256];
	size_t first = 0;
	struct sc_rng rng;
	unsigned i;
	int r;

	mb_header(&m, 70, 0, 1, "_sip._udp.x.test", ns_t_srv);
	for (i = 0; i < 70; i++) {
		size_t at;

		/* four labels of 60 bytes and a number: 248 bytes of name */
		snprintf(name, sizeof(name), "%0*u.%0*u.%0*u.%0*u.t%02u", 60, i, 60, i, 60, i, 60, i, i);
		mb_ptr(&m, 12);
		mb_rr(&m, ns_t_srv, 300);
		mb_u16(&m, 100 - i), mb_u16(&m, 0), mb_u16(&m, 5060);
		at = mb_labels(&m, name, true);
		if (i == 0) {
			first = at;
		}
		mb_end(&m);
	}
	mb_ptr(&m, first);
	mb_rr(&m, ns_t_a, 60);
	mb_u32(&m, 0xc0000201);
	mb_end(&m);
	ck_assert_uint_gt(m.n, 0x4000);
	valid(m.b, m.n);

	sc_rng_seed(&rng, 1);
	memcpy(buf, m.b, m.n);
	r = sc_srv_apply(buf, m.n, m.n, SC_SRV_ORDER, NULL, NOW, &rng);
	ck_assert_int_eq(r, -EMSGSIZE);
	ck_assert_mem_eq(buf, m.b, m.n);
	r = sc_srv_apply(buf, m.n, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng);
	ck_assert_int_gt(r, (int)m.n);
	same_records(m.b, m.n, buf, (size_t)r);
}
END_TEST

/*
 * Property: for messages of every shape we can build (dn_comp
 * compression of owners, mixed case, CNAMEs, authority SOA and NS, MX and
 * TXT in additional, an OPT), thousands of random orders and random mark
 * sets all read as the same records (fewer, when marked ones are
 * dropped), and never grow.
 */
START_TEST(test_random_orders_and_marks_stay_valid)
{
	static struct tmsg m;
	static unsigned char buf[8192];
	static char targets[8][64];
	struct sc_rng gen, rng;
	unsigned round, i;

	sc_rng_seed(&gen, 31337);
	sc_rng_seed(&rng, 4242);
	for (round = 0; round < 400; round++) {
		unsigned n = 2 + sc_rng_below(&gen, 7), flags;
		const char *owner = sc_rng_below(&gen, 2) ? "_SIP._udp.Example.TEST" : "_sip._tcp.example.test";
		unsigned char opt[11] = { 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0 };

		tmsg_begin(&m, (uint16_t)round, owner, ns_t_srv, ns_r_noerror);
		for (i = 0; i < n; i++) {
			snprintf(targets[i], sizeof(targets[i]), "%s%u.%s",
				 sc_rng_below(&gen, 2) ? "Sip" : "sip", i,
				 sc_rng_below(&gen, 3) ? "example.test" : "elsewhere.example");
			tmsg_srv(&m, 0, owner, 60 + i, (uint16_t)sc_rng_below(&gen, 3) * 10,
				 (uint16_t)sc_rng_below(&gen, 4) * 10, (uint16_t)(5060 + i), targets[i]);
		}
		tmsg_soa(&m, "example.test", 60, 5);
		for (i = 0; i < n; i++) {
			char ip[32];

			snprintf(ip, sizeof(ip), "192.0.2.%u", i + 1);
			tmsg_a(&m, 2, targets[i], 30, ip);
			if (sc_rng_below(&gen, 2)) {
				tmsg_aaaa(&m, 2, targets[i], 30, "2001:db8::7");
			}
		}
		tmsg_cname(&m, 2, "alias.example.test", 30, targets[0]);
		/* OPT last, owned by the root, spelled in place */
		memcpy(m.buf + m.len, opt, sizeof(opt));
		m.len += sizeof(opt);
		m.buf[11]++;
		valid(m.buf, m.len);

		memset(&marks, 0, sizeof(marks));
		for (i = 0; i < n; i++) {
			if (sc_rng_below(&gen, 4) == 0) {
				mark(targets[i], NOW + 10);
			}
		}
		for (i = 0; i < 25; i++) {
			int r;

			flags = SC_SRV_ORDER | (sc_rng_below(&gen, 2) ? SC_SRV_DROP : 0);
			memcpy(buf, m.buf, m.len);
			r = sc_srv_apply(buf, m.len, sizeof(buf), flags, marks.n ? &marks : NULL, NOW, &rng);
			require(r > 0 && (size_t)r <= m.len, "round %u: apply %d (len %zu)", round, r,
				m.len);
			subset_dropping_marked(m.buf, m.len, buf, (size_t)r);
		}
	}
}
END_TEST

/*
 * The same property under the compression old servers used: every SRV
 * target either plain or a label of its own followed by a pointer to a
 * random label of an earlier target or of the question, additional
 * owners pointing to random labels of the targets.  Whatever the order
 * and whatever is dropped, the result reads as the same records and is
 * never longer.
 */
START_TEST(test_random_compression_never_grows)
{
	static struct mb m;
	static unsigned char buf[8192];
	struct sc_rng gen, rng;
	unsigned round, i, k;

	sc_rng_seed(&gen, 777);
	sc_rng_seed(&rng, 778);
	for (round = 0; round < 300; round++) {
		size_t labels[64];
		unsigned nlabels = 0, n = 2 + sc_rng_below(&gen, 6), nar = sc_rng_below(&gen, 6);

		mb_header(&m, n, 0, nar, "_sip._udp.q.example", ns_t_srv);
		/* the question's labels may be pointed to */
		for (k = 12; m.b[k] != 0; k += 1u + m.b[k]) {
			labels[nlabels++] = k;
		}
		for (i = 0; i < n; i++) {
			char l[16];
			size_t at;

			mb_ptr(&m, 12);
			mb_rr(&m, ns_t_srv, 300);
			mb_u16(&m, sc_rng_below(&gen, 3)), mb_u16(&m, sc_rng_below(&gen, 3) * 5);
			mb_u16(&m, 5060);
			snprintf(l, sizeof(l), "t%u", i);
			if (sc_rng_below(&gen, 3) == 0 || nlabels == 0) {
				at = mb_labels(&m, sc_rng_below(&gen, 2) ? "x.y.example" : "z.example", true);
				(void)at;
				/* record where this plain name's labels start */
				for (k = at; m.b[k] != 0; k += 1u + m.b[k]) {
					labels[nlabels++] = k;
				}
			} else {
				at = mb_labels(&m, l, false);
				labels[nlabels++] = at;
				mb_ptr(&m, labels[sc_rng_below(&gen, nlabels - 1)]);
			}
			mb_end(&m);
			require(nlabels < 60, "labels");
		}
		for (i = 0; i < nar; i++) {
			mb_ptr(&m, labels[sc_rng_below(&gen, nlabels)]);
			mb_rr(&m, ns_t_a, 60);
			mb_u32(&m, 0xc0000200u + i);
			mb_end(&m);
		}
		valid(m.b, m.n);
		for (i = 0; i < 20; i++) {
			unsigned flags = SC_SRV_ORDER | (sc_rng_below(&gen, 2) ? SC_SRV_DROP : 0);
			int r;

			memset(&marks, 0, sizeof(marks));
			if (sc_rng_below(&gen, 2)) {
				mark("x.y.example", NOW + 10);
			}
			if (sc_rng_below(&gen, 2)) {
				mark("t0.q.example", NOW + 10);
			}
			memcpy(buf, m.b, m.n);
			r = sc_srv_apply(buf, m.n, m.n, flags, &marks, NOW, &rng);
			require(r > 0, "round %u: apply %d", round, r);
			subset_dropping_marked(m.b, m.n, buf, (size_t)r);
		}
	}
}
END_TEST

/* Nothing we cannot move: an RP record (names older servers compress,
 * opaque to our parser) leaves the answer as it was. */
START_TEST(test_opaque_type_with_names_refused)
{
	static struct tmsg m;
	static unsigned char buf[4096];
	unsigned char rp[64];
	struct sc_rng rng;
	int n;

	tmsg_begin(&m, 1, "_sip._udp.example.test", ns_t_srv, ns_r_noerror);
	tmsg_srv(&m, 0, "_sip._udp.example.test", 60, 20, 0, 5060, "b.example.test");
	tmsg_srv(&m, 0, "_sip._udp.example.test", 60, 10, 0, 5060, "a.example.test");
	n = ns_name_pton("x.example.test", rp, sizeof(rp));
	ck_assert_int_ge(n, 0);
	rp[16] = 0;   /* txt-dname: the root */
	tmsg_rr(&m, 2, "example.test", ns_t_rp, 60, rp, 17);
	memcpy(buf, m.buf, m.len);
	sc_rng_seed(&rng, 1);
	ck_assert_int_eq(sc_srv_apply(buf, m.len, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng),
			 -ENOTSUP);
	ck_assert_mem_eq(buf, m.buf, m.len);
	/* Garbage is refused, untouched. */
	buf[m.len - 3] = 0xff;
	buf[7] = 9;
	ck_assert_int_eq(sc_srv_apply(buf, m.len, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng),
			 -EBADMSG);
}
END_TEST

/* The hit path allocates nothing once the thread's area exists. */
START_TEST(test_no_malloc_per_call)
{
	static unsigned char orig[4096], buf[4096];
	size_t len = unhex(srv_tls_edns, orig, sizeof(orig));
	struct mallinfo2 before, after;
	struct sc_rng rng;
	unsigned d;

	sc_rng_seed(&rng, 11);
	memcpy(buf, orig, len);
	ck_assert_int_gt(sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng), 0);
	before = mallinfo2();
	for (d = 0; d < 1000; d++) {
		memcpy(buf, orig, len);
		require(sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER, NULL, NOW, &rng) > 0, "apply");
	}
	after = mallinfo2();
	ck_assert_uint_eq(after.uordblks, before.uordblks);
	ck_assert_uint_eq(after.hblkhd, before.hblkhd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* marks on served answers                                             */

/*
 * Knot's _sip._tcp answer: proxy1 (priority 10), proxy2 (20).  proxy1
 * marked: last without SC_SRV_DROP, gone with it; the additional record
 * whose owner pointed into proxy1's dropped RDATA now spells its name.
 */
START_TEST(test_marks_srv_last_or_dropped)
{
	static unsigned char orig[4096], buf[4096];
	static struct txt t;
	size_t len = unhex(srv_tcp_edns, orig, sizeof(orig));
	struct sc_rng rng;
	int r;

	sc_rng_seed(&rng, 1);
	memset(&marks, 0, sizeof(marks));
	mark("PROXY1.sip.test.", NOW + 30);   /* any case, trailing dot */

	memcpy(buf, orig, len);
	r = sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER, &marks, NOW, &rng);
	ck_assert_int_gt(r, 0);
	same_records(orig, len, buf, (size_t)r);
	render(buf, (size_t)r, &t);
	ck_assert_str_eq(t.s,
		"flags=0x8500 qd=1 an=2 ns=0 ar=6\n"
		"an _sip._tcp.sip.test. 3600 IN SRV 20 40 5060 proxy2.sip.test.\n"
		"an _sip._tcp.sip.test. 3600 IN SRV 10 60 5060 proxy1.sip.test.\n"
		"ar proxy1.sip.test. 3600 IN A 192.0.2.10\n"
		"ar proxy1.sip.test. 3600 IN AAAA 2001:db8::10\n"
		"ar proxy2.sip.test. 3600 IN A 192.0.2.20\n"
		"ar proxy2.sip.test. 3600 IN A 192.0.2.21\n"
		"ar proxy2.sip.test. 3600 IN AAAA 2001:db8::20\n"
		"ar . OPT size=1232\n");
	/* Without SC_SRV_ORDER the marks still apply. */
	memcpy(buf, orig, len);
	r = sc_srv_apply(buf, len, sizeof(buf), 0, &marks, NOW, &rng);
	render(buf, (size_t)r, &t);
	ck_assert_int_eq(strncmp(t.line[0], "an _sip._tcp.sip.test. 3600 IN SRV 20 40 5060 proxy2", 52), 0);

	memcpy(buf, orig, len);
	r = sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER | SC_SRV_DROP, &marks, NOW, &rng);
	ck_assert_int_gt(r, 0);
	valid(buf, (size_t)r);
	render(buf, (size_t)r, &t);
	ck_assert_str_eq(t.s,
		"flags=0x8500 qd=1 an=1 ns=0 ar=6\n"
		"an _sip._tcp.sip.test. 3600 IN SRV 20 40 5060 proxy2.sip.test.\n"
		"ar proxy1.sip.test. 3600 IN A 192.0.2.10\n"
		"ar proxy1.sip.test. 3600 IN AAAA 2001:db8::10\n"
		"ar proxy2.sip.test. 3600 IN A 192.0.2.20\n"
		"ar proxy2.sip.test. 3600 IN A 192.0.2.21\n"
		"ar proxy2.sip.test. 3600 IN AAAA 2001:db8::20\n"
		"ar . OPT size=1232\n");
	ck_assert_int_lt(r, (int)len);

	/* After the mark expired: untouched. */
	memcpy(buf, orig, len);
	ck_assert_int_eq(sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER | SC_SRV_DROP, &marks,
				      NOW + 30, &rng), (int)len);
	ck_assert_mem_eq(buf, orig, len);
}
END_TEST

START_TEST(test_marks_srv_port_and_all_marked)
{
	static unsigned char orig[4096], buf[4096];
	static struct txt t;
	size_t len = unhex(srv_tcp_edns, orig, sizeof(orig));
	struct sc_rng rng;
	int r;

	sc_rng_seed(&rng, 1);
	/* Another port: not this target. */
	memset(&marks, 0, sizeof(marks));
	mark("proxy1.sip.test:5061", NOW + 30);
	memcpy(buf, orig, len);
	ck_assert_int_eq(sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER | SC_SRV_DROP, &marks,
				      NOW, &rng), (int)len);
	ck_assert_mem_eq(buf, orig, len);
	/* Its port: dropped. */
	mark("proxy1.sip.test:5060", NOW + 30);
	memcpy(buf, orig, len);
	r = sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER | SC_SRV_DROP, &marks, NOW, &rng);
	render(buf, (size_t)r, &t);
	ck_assert_uint_eq(t.nlines, 7);
	ck_assert_int_eq(strncmp(t.line[0], "an _sip._tcp.sip.test. 3600 IN SRV 20 40 5060 proxy2", 52), 0);
	/* Every target marked: none dropped (an answer of marked targets
	 * beats none), priority order kept. */
	mark("proxy2.sip.test", NOW + 30);
	memcpy(buf, orig, len);
	ck_assert_int_eq(sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER | SC_SRV_DROP, &marks,
				      NOW, &rng), (int)len);
	ck_assert_mem_eq(buf, orig, len);
}
END_TEST

/* A answers: marked addresses last, or dropped; address marks with a
 * port do not apply (an A answer has no port); AAAA alike. */
START_TEST(test_marks_addresses)
{
	static unsigned char orig[4096], buf[4096];
	static struct tmsg m;
	static struct txt t;
	size_t len = unhex(a_proxy2, orig, sizeof(orig));
	struct sc_rng rng;
	int r;

	sc_rng_seed(&rng, 1);
	memset(&marks, 0, sizeof(marks));
	mark("192.0.2.20:5060", NOW + 30);
	memcpy(buf, orig, len);
	ck_assert_int_eq(sc_srv_apply(buf, len, sizeof(buf), SC_SRV_DROP, &marks, NOW, &rng),
			 (int)len);
	mark("192.0.2.20", NOW + 30);
	memcpy(buf, orig, len);
	r = sc_srv_apply(buf, len, sizeof(buf), 0, &marks, NOW, &rng);
	render(buf, (size_t)r, &t);
	ck_assert_str_eq(t.s,
		"flags=0x8500 qd=1 an=2 ns=0 ar=0\n"
		"an proxy2.sip.test. 3600 IN A 192.0.2.21\n"
		"an proxy2.sip.test. 3600 IN A 192.0.2.20\n");
	memcpy(buf, orig, len);
	r = sc_srv_apply(buf, len, sizeof(buf), SC_SRV_DROP, &marks, NOW, &rng);
	render(buf, (size_t)r, &t);
	ck_assert_str_eq(t.s,
		"flags=0x8500 qd=1 an=1 ns=0 ar=0\n"
		"an proxy2.sip.test. 3600 IN A 192.0.2.21\n");
	ck_assert_int_eq(r, (int)len - 16);

	/* Through a CNAME: the chain stays, the addresses at its end move. */
	tmsg_begin(&m, 3, "www.example.test", ns_t_aaaa, ns_r_noerror);
	tmsg_cname(&m, 0, "www.example.test", 60, "host.example.test");
	tmsg_aaaa(&m, 0, "host.example.test", 60, "2001:db8::1");
	tmsg_aaaa(&m, 0, "host.example.test", 60, "2001:db8::2");
	tmsg_aaaa(&m, 0, "host.example.test", 60, "2001:db8::3");
	memset(&marks, 0, sizeof(marks));
	mark("[2001:db8::1]", NOW + 30);
	mark("2001:db8::2", NOW + 30);
	memcpy(buf, m.buf, m.len);
	r = sc_srv_apply(buf, m.len, sizeof(buf), SC_SRV_DROP, &marks, NOW, &rng);
	render(buf, (size_t)r, &t);
	ck_assert_str_eq(t.s,
		"flags=0x8180 qd=1 an=2 ns=0 ar=0\n"
		"an www.example.test. 60 IN CNAME host.example.test.\n"
		"an host.example.test. 60 IN AAAA 2001:db8::3\n");
	memcpy(buf, m.buf, m.len);
	r = sc_srv_apply(buf, m.len, sizeof(buf), 0, &marks, NOW, &rng);
	render(buf, (size_t)r, &t);
	ck_assert_str_eq(t.s,
		"flags=0x8180 qd=1 an=4 ns=0 ar=0\n"
		"an www.example.test. 60 IN CNAME host.example.test.\n"
		"an host.example.test. 60 IN AAAA 2001:db8::3\n"
		"an host.example.test. 60 IN AAAA 2001:db8::1\n"
		"an host.example.test. 60 IN AAAA 2001:db8::2\n");
	/* An IPv4 mark never matches an IPv6 record and the reverse. */
	memset(&marks, 0, sizeof(marks));
	mark("192.0.2.1", NOW + 30);
	memcpy(buf, m.buf, m.len);
	ck_assert_int_eq(sc_srv_apply(buf, m.len, sizeof(buf), SC_SRV_DROP, &marks, NOW, &rng),
			 (int)m.len);
}
END_TEST

/* The shared marks reach the hit path: down in the cache file, read
 * through sc_marks_current, applied by sc_srv_apply. */
START_TEST(test_marks_from_cache_file)
{
	static unsigned char orig[4096], buf[4096];
	static struct txt t;
	struct tmpcache tc;
	size_t len = unhex(srv_tcp_edns, orig, sizeof(orig));
	const struct sc_marks *ms;
	struct sc_rng rng;
	int64_t now = sc_now();
	int r;

	tmpcache_new(&tc, 1024);
	sc_rng_seed(&rng, 1);
	ck_assert_ptr_null(sc_marks_current(tc.c, now));
	ck_assert_int_eq(sc_marks_down(tc.c, "proxy1.sip.test", 60, now), 0);
	ms = sc_marks_current(tc.c, now);
	ck_assert_ptr_nonnull(ms);
	memcpy(buf, orig, len);
	r = sc_srv_apply(buf, len, sizeof(buf), SC_SRV_ORDER | SC_SRV_DROP, ms, now, &rng);
	render(buf, (size_t)r, &t);
	ck_assert_uint_eq(t.nlines, 7);
	ck_assert_int_eq(strncmp(t.line[0], "an _sip._tcp.sip.test. 3600 IN SRV 20 40 5060 proxy2", 52), 0);
	tmpcache_free(&tc);
}
END_TEST

/* ------------------------------------------------------------------ */
/* sc_srv_rrset                                                        */

START_TEST(test_rrset)
{
	static unsigned char buf[4096];
	static struct sc_msg m;
	unsigned idx[8];
	unsigned char owner[SC_DNS_MAXNAME];
	char text[SC_DNS_MAXTEXT];
	size_t len;

	len = unhex(cname_www, buf, sizeof(buf));
	ck_assert_int_eq(sc_dns_parse(buf, len, &m), 0);
	ck_assert_int_eq(sc_srv_rrset(&m, ns_t_a, idx, 8, owner), 1);
	ck_assert_uint_eq(idx[0], 1);
	ck_assert_int_gt(sc_dns_name_to_text(owner, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "proxy1.sip.test");
	ck_assert_int_eq(sc_srv_rrset(&m, ns_t_aaaa, idx, 8, owner), 0);
	ck_assert_int_eq(sc_srv_rrset(&m, ns_t_cname, idx, 8, NULL), 1);
	ck_assert_uint_eq(idx[0], 0);

	len = unhex(srv_tcp_edns, buf, sizeof(buf));
	ck_assert_int_eq(sc_dns_parse(buf, len, &m), 0);
	ck_assert_int_eq(sc_srv_rrset(&m, ns_t_srv, idx, 8, NULL), 2);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[1], 1);
	ck_assert_int_eq(sc_srv_rrset(&m, ns_t_srv, idx, 1, NULL), -E2BIG);
	/* Additional records never answer the question. */
	ck_assert_int_eq(sc_srv_rrset(&m, ns_t_a, idx, 8, NULL), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* related records                                                     */

struct collected {
	unsigned n;
	char text[16][2048];
	int stop_after;    /* return -EIO on this call (1-based); 0: never */
};

static int collect(const struct sc_msg *ans, void *priv)
{
	struct collected *c = priv;
	struct txt *t = malloc(sizeof(*t));
	char q[SC_DNS_MAXTEXT];

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_lt(c->n, 16);
	ck_assert_uint_eq(ans->qdcount, 1);
	ck_assert_int_gt(sc_dns_name_to_text(ans->buf + SC_DNS_HDRLEN, q, sizeof(q)), 0);
	render(ans->buf, ans->len, t);
	snprintf(c->text[c->n], sizeof(c->text[c->n]), "qd %.300s %u\n%.1700s", q, ans->qtype, t->s);
	free(t);
	c->n++;
	if (c->stop_after && (int)c->n == c->stop_after) {
		return -EIO;
	}
	return 0;
}

/* Knot's SRV answer: the targets' A and AAAA, one answer per (name,
 * type), each with its own TTLs, the header flags of the answer they came
 * in (AA included: what asking that server gives), no OPT. */
START_TEST(test_related_from_knot_srv)
{
	static unsigned char buf[4096];
	static struct sc_msg m;
	static struct collected c;
	size_t len = unhex(srv_tcp_edns, buf, sizeof(buf));

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(sc_dns_parse(buf, len, &m), 0);
	ck_assert_int_eq(sc_srv_related(&m, collect, &c), 4);
	ck_assert_uint_eq(c.n, 4);
	ck_assert_str_eq(c.text[0],
		"qd proxy1.sip.test 1\n"
		"flags=0x8500 qd=1 an=1 ns=0 ar=0\n"
		"an proxy1.sip.test. 3600 IN A 192.0.2.10\n");
	ck_assert_str_eq(c.text[1],
		"qd proxy1.sip.test 28\n"
		"flags=0x8500 qd=1 an=1 ns=0 ar=0\n"
		"an proxy1.sip.test. 3600 IN AAAA 2001:db8::10\n");
	ck_assert_str_eq(c.text[2],
		"qd proxy2.sip.test 1\n"
		"flags=0x8500 qd=1 an=2 ns=0 ar=0\n"
		"an proxy2.sip.test. 3600 IN A 192.0.2.20\n"
		"an proxy2.sip.test. 3600 IN A 192.0.2.21\n");
	ck_assert_str_eq(c.text[3],
		"qd proxy2.sip.test 28\n"
		"flags=0x8500 qd=1 an=1 ns=0 ar=0\n"
		"an proxy2.sip.test. 3600 IN AAAA 2001:db8::20\n");
	/* The callback's error stops the walk and is returned. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	ck_assert_int_eq(sc_srv_related(&m, collect, &c), -EIO);
	ck_assert_uint_eq(c.n, 2);
}
END_TEST

/*
 * A NAPTR answer as BIND sends it: the SRV of the replacements and the
 * targets' addresses in the additional section, along with records that
 * belong to no step of the chain (poison, as far as the cache is
 * concerned): an A for the NAPTR owner, an SRV not named by any NAPTR,
 * an A of a name no SRV names, a TXT, and an A in the authority
 * section.  Only the chain comes out, each answer storable.
 */
START_TEST(test_related_from_naptr_chain_only)
{
	static struct tmsg t;
	static struct sc_msg m;
	static struct collected c;
	unsigned char rd[512];
	size_t n;
	unsigned i;

	tmsg_begin(&t, 9, "example.test", ns_t_naptr, ns_r_noerror);
	n = naptr_rdata(rd, 10, 50, "s", "SIPS+D2T", "", "_sips._tcp.example.test");
	tmsg_rr(&t, 0, "example.test", ns_t_naptr, 3600, rd, n);
	n = naptr_rdata(rd, 20, 50, "S", "SIP+D2U", "", "_sip._udp.example.test");
	tmsg_rr(&t, 0, "example.test", ns_t_naptr, 3600, rd, n);
	n = naptr_rdata(rd, 30, 50, "u", "E2U+sip", "!^.*$!sip:x@y!", ".");
	tmsg_rr(&t, 0, "example.test", ns_t_naptr, 3600, rd, n);
	tmsg_a(&t, 1, "ns.example.test", 60, "192.0.2.200");
	tmsg_srv(&t, 2, "_sips._tcp.example.test", 600, 0, 0, 5061, "tls.example.test");
	tmsg_srv(&t, 2, "_sip._udp.example.test", 500, 10, 1, 5060, "a.example.test");
	tmsg_srv(&t, 2, "_sip._udp.example.test", 400, 10, 3, 5060, "b.example.test");
	tmsg_srv(&t, 2, "_sip._tcp.example.test", 600, 0, 0, 5060, "evil.example.test");
	tmsg_a(&t, 2, "example.test", 60, "192.0.2.66");
	tmsg_a(&t, 2, "a.example.test", 300, "192.0.2.1");
	tmsg_a(&t, 2, "evil.example.test", 300, "192.0.2.66");
	tmsg_aaaa(&t, 2, "b.example.test", 200, "2001:db8::2");
	tmsg_a(&t, 2, "tls.example.test", 100, "192.0.2.5");
	tmsg_a(&t, 2, "unrelated.example.test", 100, "192.0.2.67");
	tmsg_rr(&t, 2, "tls.example.test", ns_t_txt, 100, "\003abc", 4);
	ck_assert_int_eq(sc_dns_parse(t.buf, t.len, &m), 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(sc_srv_related(&m, collect, &c), 5);
	ck_assert_str_eq(c.text[0],
		"qd _sips._tcp.example.test 33\n"
		"flags=0x8180 qd=1 an=1 ns=0 ar=0\n"
		"an _sips._tcp.example.test. 600 IN SRV 0 0 5061 tls.example.test.\n");
	ck_assert_str_eq(c.text[1],
		"qd _sip._udp.example.test 33\n"
		"flags=0x8180 qd=1 an=2 ns=0 ar=0\n"
		"an _sip._udp.example.test. 500 IN SRV 10 1 5060 a.example.test.\n"
		"an _sip._udp.example.test. 400 IN SRV 10 3 5060 b.example.test.\n");
	ck_assert_str_eq(c.text[2],
		"qd tls.example.test 1\n"
		"flags=0x8180 qd=1 an=1 ns=0 ar=0\n"
		"an tls.example.test. 100 IN A 192.0.2.5\n");
	ck_assert_str_eq(c.text[3],
		"qd a.example.test 1\n"
		"flags=0x8180 qd=1 an=1 ns=0 ar=0\n"
		"an a.example.test. 300 IN A 192.0.2.1\n");
	ck_assert_str_eq(c.text[4],
		"qd b.example.test 28\n"
		"flags=0x8180 qd=1 an=1 ns=0 ar=0\n"
		"an b.example.test. 200 IN AAAA 2001:db8::2\n");
	for (i = 0; i < c.n; i++) {
		ck_assert_ptr_null(strstr(c.text[i], "evil"));
		ck_assert_ptr_null(strstr(c.text[i], "192.0.2.66"));
		ck_assert_ptr_null(strstr(c.text[i], "unrelated"));
	}

	/* Truncated, or an error rcode: nothing is taken. */
	t.buf[2] |= 0x02;
	ck_assert_int_eq(sc_dns_parse(t.buf, t.len, &m), 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(sc_srv_related(&m, collect, &c), 0);
	t.buf[2] &= (unsigned char)~0x02;
	t.buf[3] |= 0x02;
	ck_assert_int_eq(sc_dns_parse(t.buf, t.len, &m), 0);
	ck_assert_int_eq(sc_srv_related(&m, collect, &c), 0);
	ck_assert_uint_eq(c.n, 0);
}
END_TEST

/* A related answer stores and hits like an answer from upstream, with
 * its own lifetime: the smallest TTL of its own records. */
struct store_ctx {
	struct sc_cache *c;
	unsigned stored;
};

static int store(const struct sc_msg *ans, void *priv)
{
	struct store_ctx *s = priv;
	struct sc_ttl_limits lim = { .min_ttl = 0, .max_ttl = 86400, .negative_ttl = 60 };
	struct sc_key k;
	uint32_t lifetime;

	ck_assert_int_eq(sc_policy_classify(ans, &lim, &lifetime), SC_VERDICT_POSITIVE);
	ck_assert_int_eq(sc_key_make(&k, ans->buf + SC_DNS_HDRLEN, ans->qtype, ans->qclass), 0);
	ck_assert_int_eq(sc_cache_put(s->c, &k, ans, lifetime, 0, NOW), 0);
	s->stored++;
	return 0;
}

START_TEST(test_related_stored_and_served)
{
	static unsigned char buf[4096], out[4096];
	static struct sc_msg m;
	static struct txt t;
	struct tmpcache tc;
	struct store_ctx s;
	unsigned char name[SC_DNS_MAXNAME];
	struct sc_key k;
	struct sc_hit hit;
	size_t len = unhex(srv_udp, buf, sizeof(buf));

	tmpcache_new(&tc, 1024);
	s.c = tc.c;
	s.stored = 0;
	ck_assert_int_eq(sc_dns_parse(buf, len, &m), 0);
	ck_assert_int_eq(sc_srv_related(&m, store, &s), 2);
	ck_assert_uint_eq(s.stored, 2);
	ck_assert_int_gt(sc_dns_name_from_text("proxy1.sip.test", name, sizeof(name)), 0);
	ck_assert_int_eq(sc_key_make(&k, name, ns_t_aaaa, ns_c_in), 0);
	ck_assert_int_eq(sc_cache_get(tc.c, &k, NOW + 100, 0, 0x7777, name, out, sizeof(out), &hit),
			 0);
	ck_assert_uint_eq(hit.remaining, 3500);
	render(out, hit.written, &t);
	ck_assert_str_eq(t.s,
		"flags=0x8500 qd=1 an=1 ns=0 ar=0\n"
		"an proxy1.sip.test. 3500 IN AAAA 2001:db8::10\n");
	tmpcache_free(&tc);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the chain (prefetch)                                                */

struct chain_seen {
	unsigned n;
	char text[16][300];
	unsigned stop;
};

static int chain_fn(const unsigned char *name, uint16_t type, void *priv)
{
	struct chain_seen *c = priv;
	char text[SC_DNS_MAXTEXT];

	ck_assert_int_gt(sc_dns_name_to_text(name, text, sizeof(text)), 0);
	ck_assert_uint_lt(c->n, 16);
	snprintf(c->text[c->n++], sizeof(c->text[0]), "%.200s %u", text, type);
	return c->stop && c->n == c->stop;
}

START_TEST(test_chain_next_questions)
{
	static unsigned char buf[4096];
	static struct sc_msg m;
	static struct tmsg t;
	struct chain_seen c;
	unsigned char rd[512];
	size_t len, n;

	memset(&c, 0, sizeof(c));
	len = unhex(naptr_cap, buf, sizeof(buf));
	ck_assert_int_eq(sc_dns_parse(buf, len, &m), 0);
	ck_assert_int_eq(sc_srv_chain(&m, chain_fn, &c), 3);
	ck_assert_str_eq(c.text[0], "_sips._tcp.sip.test 33");
	ck_assert_str_eq(c.text[1], "_sip._tcp.sip.test 33");
	ck_assert_str_eq(c.text[2], "_sip._udp.sip.test 33");

	memset(&c, 0, sizeof(c));
	len = unhex(srv_tcp_edns, buf, sizeof(buf));
	ck_assert_int_eq(sc_dns_parse(buf, len, &m), 0);
	ck_assert_int_eq(sc_srv_chain(&m, chain_fn, &c), 4);
	ck_assert_str_eq(c.text[0], "proxy1.sip.test 1");
	ck_assert_str_eq(c.text[1], "proxy1.sip.test 28");
	ck_assert_str_eq(c.text[2], "proxy2.sip.test 1");
	ck_assert_str_eq(c.text[3], "proxy2.sip.test 28");
	/* fn stops the walk. */
	memset(&c, 0, sizeof(c));
	c.stop = 1;
	ck_assert_int_eq(sc_srv_chain(&m, chain_fn, &c), 1);

	/* Not SIP services, the root target, a repeated target: skipped. */
	tmsg_begin(&t, 1, "example.test", ns_t_naptr, ns_r_noerror);
	n = naptr_rdata(rd, 10, 10, "u", "E2U+sip", "!^.*$!sip:a@b!", ".");
	tmsg_rr(&t, 0, "example.test", ns_t_naptr, 60, rd, n);
	n = naptr_rdata(rd, 20, 10, "s", "X-FOO+D2T", "", "_foo._tcp.example.test");
	tmsg_rr(&t, 0, "example.test", ns_t_naptr, 60, rd, n);
	ck_assert_int_eq(sc_dns_parse(t.buf, t.len, &m), 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(sc_srv_chain(&m, chain_fn, &c), 0);
	tmsg_begin(&t, 1, "_sip._udp.example.test", ns_t_srv, ns_r_noerror);
	tmsg_srv(&t, 0, "_sip._udp.example.test", 60, 0, 0, 0, ".");
	tmsg_srv(&t, 0, "_sip._udp.example.test", 60, 0, 0, 5060, "x.example.test");
	tmsg_srv(&t, 0, "_sip._udp.example.test", 60, 1, 0, 5062, "X.example.test");
	ck_assert_int_eq(sc_dns_parse(t.buf, t.len, &m), 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(sc_srv_chain(&m, chain_fn, &c), 2);
	ck_assert_str_eq(c.text[0], "x.example.test 1");
	ck_assert_str_eq(c.text[1], "x.example.test 28");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("srv");
	TCase *tc_draw = tcase_create("rfc2782");
	TCase *tc_apply = tcase_create("apply");
	TCase *tc_marks = tcase_create("marks");
	TCase *tc_rel = tcase_create("related");
	SRunner *sr;
	int failed;

	tcase_add_test(tc_draw, test_rng_below_uniform);
	tcase_add_test(tc_draw, test_one_to_three_is_25_75);
	tcase_add_test(tc_draw, test_three_weights_and_second_place);
	tcase_add_test(tc_draw, test_weight_zero);
	tcase_add_test(tc_draw, test_priorities_first);
	suite_add_tcase(s, tc_draw);

	tcase_set_timeout(tc_apply, 120);
	tcase_add_test(tc_apply, test_order_capture);
	tcase_add_test(tc_apply, test_order_whole_answer);
	tcase_add_test(tc_apply, test_reweight_follows_the_draw);
	tcase_add_test(tc_apply, test_apply_leaves_alone);
	tcase_add_test(tc_apply, test_order_cname_and_other_owner);
	tcase_add_test(tc_apply, test_order_compressed_targets);
	tcase_add_test(tc_apply, test_order_beyond_pointer_reach);
	tcase_add_test(tc_apply, test_random_orders_and_marks_stay_valid);
	tcase_add_test(tc_apply, test_random_compression_never_grows);
	tcase_add_test(tc_apply, test_opaque_type_with_names_refused);
	tcase_add_test(tc_apply, test_no_malloc_per_call);
	tcase_add_test(tc_apply, test_rrset);
	suite_add_tcase(s, tc_apply);

	tcase_add_test(tc_marks, test_marks_srv_last_or_dropped);
	tcase_add_test(tc_marks, test_marks_srv_port_and_all_marked);
	tcase_add_test(tc_marks, test_marks_addresses);
	tcase_add_test(tc_marks, test_marks_from_cache_file);
	suite_add_tcase(s, tc_marks);

	tcase_add_test(tc_rel, test_related_from_knot_srv);
	tcase_add_test(tc_rel, test_related_from_naptr_chain_only);
	tcase_add_test(tc_rel, test_related_stored_and_served);
	tcase_add_test(tc_rel, test_chain_next_questions);
	suite_add_tcase(s, tc_rel);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

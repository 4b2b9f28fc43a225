/*
 * check_dns.c - DNS wire format (shim/sc_dns.c).
 *
 * Oracles, so that the module is not checked against itself:
 *   - answers captured from a real server (knotd 3.2.6, zone below),
 *     compared as whole text against what the zone says;
 *   - libresolv (ns_initparse/ns_parserr, dn_expand, ns_name_ntop,
 *     ns_name_pton, res_mkquery) on the same inputs;
 *   - messages assembled byte by byte by the small builder below, which
 *     shares no code with sc_dns.c.
 *
 * The zone the captures came from (knotd on 127.0.0.1@53530, UDP, RD set,
 * EDNS with a 1232-byte payload where the fixture name says so):
 *
 *   $ORIGIN sip.test.
 *   $TTL 3600
 *   @   SOA ns1 hostmaster 2024010102 7200 900 1209600 300
 *   @   NS  ns1
 *   ns1 A   192.0.2.53
 *   @   NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.sip.test.
 *   @   NAPTR 20 50 "s" "SIP+D2T" "" _sip._tcp.sip.test.
 *   @   NAPTR 30 50 "s" "SIP+D2U" "" _sip._udp.sip.test.
 *   _sips._tcp SRV 10 60 5061 proxy1 / SRV 10 40 5061 proxy2
 *   _sip._tcp  SRV 10 60 5060 proxy1 / SRV 20 40 5060 proxy2
 *   _sip._udp  300 SRV 10 100 5060 proxy1
 *   proxy1 A 192.0.2.10 / AAAA 2001:db8::10
 *   proxy2 A 192.0.2.20 / A 192.0.2.21 / AAAA 2001:db8::20
 *   www    CNAME proxy1
 *   alias  CNAME www
 *   txt    TXT "v=spf1 -all" "second string" ""
 *   Mixed  A 192.0.2.99
 *   4.3.2.1.5.5.5.1.e164 NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:+15551234@sip.test!" .
 *   big    A 198.51.100.1 ... 198.51.100.40   (too big for 512 bytes: TC)
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <check.h>
#include <errno.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../shim/sc.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static size_t unhex(const char *hex, unsigned char *out, size_t outlen)
{
	size_t n = 0;

	while (hex[0] != 0 && hex[1] != 0) {
		unsigned v;

		ck_assert_msg(sscanf(hex, "%2x", &v) == 1, "bad hex at %s", hex);
		ck_assert_uint_lt(n, outlen);
		out[n++] = (unsigned char)v;
		hex += 2;
	}
	ck_assert_msg(hex[0] == 0, "odd hex");
	return n;
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * An assertion for hot loops: Check's ck_assert_* record their location
 * through the forked runner on every call, which costs more than what
 * the loops below test.  This one only talks to Check on failure.
 */
__attribute__((format(printf, 2, 3)))
static void require(bool ok, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	if (ok) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ck_abort_msg("%s", why);
}

/* Deterministic PRNG (xorshift64*): reproducible "random" cases. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/*
 * A message builder written for the tests: plain labels from dotted text
 * (no escapes), explicit pointers, records with RDLENGTH patched at the
 * end.
 */
struct mb {
	unsigned char b[70000];
	size_t n;
	size_t rdlen_at;
};

static void mb_u8(struct mb *m, unsigned v)
{
	ck_assert_uint_lt(m->n, sizeof(m->b));
	m->b[m->n++] = (unsigned char)v;
}

static void mb_u16(struct mb *m, unsigned v)
{
	mb_u8(m, v >> 8 & 0xff);
	mb_u8(m, v & 0xff);
}

static void mb_u32(struct mb *m, uint32_t v)
{
	mb_u16(m, v >> 16);
	mb_u16(m, v & 0xffff);
}

static void mb_raw(struct mb *m, const void *p, size_t len)
{
	ck_assert_uint_le(m->n + len, sizeof(m->b));
	memcpy(m->b + m->n, p, len);
	m->n += len;
}

static void mb_hex(struct mb *m, const char *hex)
{
	m->n += unhex(hex, m->b + m->n, sizeof(m->b) - m->n);
}

static void mb_hdr(struct mb *m, unsigned id, unsigned flags, unsigned qd,
		   unsigned an, unsigned ns, unsigned ar)
{
	m->n = 0;
	mb_u16(m, id);
	mb_u16(m, flags);
	mb_u16(m, qd);
	mb_u16(m, an);
	mb_u16(m, ns);
	mb_u16(m, ar);
}

/* Labels of "a.b.c" without the root; returns where they start. */
static size_t mb_labels(struct mb *m, const char *dotted)
{
	size_t at = m->n;
	const char *s = dotted;

	while (*s != 0) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		mb_u8(m, (unsigned)l);
		mb_raw(m, s, l);
		s += l;
		if (*s == '.') {
			s++;
		}
	}
	return at;
}

static size_t mb_name(struct mb *m, const char *dotted)
{
	size_t at = mb_labels(m, dotted);

	mb_u8(m, 0);
	return at;
}

static void mb_ptr(struct mb *m, unsigned off)
{
	mb_u16(m, 0xc000 | off);
}

static void mb_question(struct mb *m, const char *name, unsigned type)
{
	mb_name(m, name);
	mb_u16(m, type);
	mb_u16(m, SC_C_IN);
}

/* Fixed part of a record (owner already written); RDLENGTH by mb_rdend. */
static void mb_rr(struct mb *m, unsigned type, unsigned class, uint32_t ttl)
{
	mb_u16(m, type);
	mb_u16(m, class);
	mb_u32(m, ttl);
	m->rdlen_at = m->n;
	mb_u16(m, 0);
}

static void mb_rdend(struct mb *m)
{
	size_t l = m->n - m->rdlen_at - 2;

	m->b[m->rdlen_at] = (unsigned char)(l >> 8);
	m->b[m->rdlen_at + 1] = (unsigned char)l;
}

static void mb_set_count(struct mb *m, int which, unsigned v)
{
	m->b[4 + 2 * which] = (unsigned char)(v >> 8);
	m->b[5 + 2 * which] = (unsigned char)v;
}

static struct sc_msg msg; /* 8 KiB: static, not on the stack */

static int parse(const struct mb *m)
{
	return sc_dns_parse(m->b, m->n, &msg);
}

/* Wire name from dotted text without escapes (independent of
 * sc_dns_name_from_text); returns its length. */
static size_t wire(const char *dotted, unsigned char *out)
{
	struct mb *m = malloc(sizeof(*m));
	size_t n;

	ck_assert_ptr_nonnull(m);
	m->n = 0;
	if (strcmp(dotted, ".") != 0) {
		mb_labels(m, dotted);
	}
	mb_u8(m, 0);
	n = m->n;
	memcpy(out, m->b, n);
	free(m);
	return n;
}

/* ------------------------------------------------------------------ */
/* Rendering a parsed message as text, for whole-answer comparisons    */
/* ------------------------------------------------------------------ */

struct txt {
	char s[8192];
	size_t n;
};

__attribute__((format(printf, 2, 3)))
static void tput(struct txt *t, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(t->s + t->n, sizeof(t->s) - t->n, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(r, 0);
	ck_assert_uint_lt(t->n + (size_t)r, sizeof(t->s));
	t->n += (size_t)r;
}

/* The name at `off' through sc_dns_name_expand and sc_dns_name_to_text. */
static size_t tname(struct txt *t, const struct sc_msg *m, size_t off)
{
	unsigned char w[SC_DNS_MAXNAME];
	char s[SC_DNS_MAXTEXT];
	size_t next = 0;
	int r;

	r = sc_dns_name_expand(m->buf, m->len, off, w, &next);
	ck_assert_int_gt(r, 0);
	ck_assert_int_eq(sc_dns_name_to_text(w, s, sizeof(s)), (int)strlen(s));
	tput(t, "%s", s);
	return next;
}

static size_t tstring(struct txt *t, const unsigned char *p)
{
	unsigned i;

	tput(t, " \"");
	for (i = 1; i <= p[0]; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			tput(t, "\\%c", p[i]);
		} else if (p[i] < 0x20 || p[i] >= 0x7f) {
			tput(t, "\\%03u", p[i]);
		} else {
			tput(t, "%c", p[i]);
		}
	}
	tput(t, "\"");
	return 1u + p[0];
}

static const char *tname_type(uint16_t type, char *buf)
{
	static const struct {
		uint16_t t;
		const char *s;
	} names[] = {
		{ SC_T_A, "A" },     { SC_T_NS, "NS" },     { SC_T_CNAME, "CNAME" },
		{ SC_T_SOA, "SOA" }, { SC_T_PTR, "PTR" },   { SC_T_MX, "MX" },
		{ SC_T_TXT, "TXT" }, { SC_T_AAAA, "AAAA" }, { SC_T_SRV, "SRV" },
		{ SC_T_NAPTR, "NAPTR" }, { SC_T_OPT, "OPT" },
	};
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(names); i++) {
		if (names[i].t == type) {
			return names[i].s;
		}
	}
	sprintf(buf, "TYPE%u", type);
	return buf;
}

static void render(const struct sc_msg *m, struct txt *t)
{
	static const char *sec[] = { "an", "ns", "ar" };
	const unsigned char *b = m->buf;
	char tb[16];
	unsigned i;

	t->n = 0;
	t->s[0] = 0;
	tput(t, "id=0x%04x flags=0x%04x qd=%u an=%u ns=%u ar=%u\n", m->id,
	     m->flags, m->qdcount, m->ancount, m->nscount, m->arcount);
	if (m->qdcount == 1) {
		tput(t, "qd ");
		tname(t, m, SC_DNS_HDRLEN);
		tput(t, " %s %s\n", m->qclass == SC_C_IN ? "IN" : "?",
		     tname_type(m->qtype, tb));
	}
	for (i = 0; i < m->nrr; i++) {
		const struct sc_rr *rr = &m->rr[i];
		const unsigned char *rd = b + rr->rdata_off;
		char a[INET6_ADDRSTRLEN];
		size_t p;
		int k;

		tput(t, "%s ", sec[rr->section]);
		tname(t, m, rr->name_off);
		if (rr->type == SC_T_OPT) {
			tput(t, " OPT size=%u ext=0x%08x opts=%u\n", rr->class,
			     rr->ttl, rr->rdlen);
			continue;
		}
		tput(t, " %u %s %s", rr->ttl, rr->class == SC_C_IN ? "IN" : "?",
		     tname_type(rr->type, tb));
		switch (rr->type) {
		case SC_T_A:
		case SC_T_AAAA:
			inet_ntop(rr->type == SC_T_A ? AF_INET : AF_INET6, rd, a, sizeof(a));
			tput(t, " %s", a);
			break;
		case SC_T_NS:
		case SC_T_CNAME:
		case SC_T_PTR:
			tput(t, " ");
			tname(t, m, rr->rdata_off);
			break;
		case SC_T_MX:
			tput(t, " %u ", rd16(rd));
			tname(t, m, rr->rdata_off + 2u);
			break;
		case SC_T_SRV:
			tput(t, " %u %u %u ", rd16(rd), rd16(rd + 2), rd16(rd + 4));
			tname(t, m, rr->rdata_off + 6u);
			break;
		case SC_T_NAPTR:
			tput(t, " %u %u", rd16(rd), rd16(rd + 2));
			p = 4;
			for (k = 0; k < 3; k++) {
				p += tstring(t, rd + p);
			}
			tput(t, " ");
			tname(t, m, rr->rdata_off + p);
			break;
		case SC_T_SOA:
			tput(t, " ");
			p = tname(t, m, rr->rdata_off);
			tput(t, " ");
			p = tname(t, m, p);
			tput(t, " %u %u %u %u %u", rd32(b + p), rd32(b + p + 4),
			     rd32(b + p + 8), rd32(b + p + 12), rd32(b + p + 16));
			break;
		case SC_T_TXT:
			for (p = 0; p < rr->rdlen;) {
				p += tstring(t, rd + p);
			}
			break;
		default:
			tput(t, " \\# %u", rr->rdlen);
			for (p = 0; p < rr->rdlen; p++) {
				tput(t, "%s%02x", p ? "" : " ", rd[p]);
			}
			break;
		}
		tput(t, "\n");
	}
}

/* ------------------------------------------------------------------ */
/* Captured answers                                                    */
/* ------------------------------------------------------------------ */

struct fixture {
	const char *name;
	const char *qname;
	uint16_t qtype;
	const char *hex;
};

static const struct fixture fixtures[] = {
	{ "naptr", "sip.test", SC_T_NAPTR,
	  "1001850000010003000000000373697004746573740000230001c00c00230001"
	  "00000e100025000a0032017308534950532b44325400055f73697073045f7463"
	  "7003736970047465737400c00c0023000100000e100023001400320173075349"
	  "502b44325400045f736970045f74637003736970047465737400c00c00230001"
	  "00000e100023001e00320173075349502b44325500045f736970045f75647003"
	  "736970047465737400" },
	{ "naptr_edns", "sip.test", SC_T_NAPTR,
	  "1002850000010003000000010373697004746573740000230001c00c00230001"
	  "00000e100025000a0032017308534950532b44325400055f73697073045f7463"
	  "7003736970047465737400c00c0023000100000e100023001400320173075349"
	  "502b44325400045f736970045f74637003736970047465737400c00c00230001"
	  "00000e100023001e00320173075349502b44325500045f736970045f75647003"
	  "73697004746573740000002904d0000000000000" },
	{ "srv_tcp_edns", "_sip._tcp.sip.test", SC_T_SRV,
	  "100385000001000200000006045f736970045f74637003736970047465737400"
	  "00210001c00c0021000100000e100017000a003c13c40670726f787931037369"
	  "70047465737400c00c0021000100000e1000170014002813c40670726f787932"
	  "03736970047465737400c0360001000100000e100004c000020ac036001c0001"
	  "00000e10001020010db8000000000000000000000010c0590001000100000e10"
	  "0004c0000214c0590001000100000e100004c0000215c059001c000100000e10"
	  "001020010db800000000000000000000002000002904d0000000000000" },
	{ "srv_udp", "_sip._udp.sip.test", SC_T_SRV,
	  "100485000001000100000002045f736970045f75647003736970047465737400"
	  "00210001c00c002100010000012c0017000a006413c40670726f787931037369"
	  "70047465737400c0360001000100000e100004c000020ac036001c000100000e"
	  "10001020010db8000000000000000000000010" },
	{ "a_proxy2", "proxy2.sip.test", SC_T_A,
	  "1005850000010002000000000670726f78793203736970047465737400000100"
	  "01c00c0001000100000e100004c0000214c00c0001000100000e100004c00002"
	  "15" },
	{ "aaaa_proxy1", "proxy1.sip.test", SC_T_AAAA,
	  "1006850000010001000000000670726f78793103736970047465737400001c00"
	  "01c00c001c000100000e10001020010db8000000000000000000000010" },
	{ "cname_www", "www.sip.test", SC_T_A,
	  "100785000001000200000000037777770373697004746573740000010001c00c"
	  "0005000100000e1000090670726f787931c010c02a0001000100000e100004c0"
	  "00020a" },
	{ "cname_chain", "alias.sip.test", SC_T_A,
	  "10088500000100030000000105616c6961730373697004746573740000010001"
	  "c00c0005000100000e10000603777777c012c02c0005000100000e1000090670"
	  "726f787931c012c03e0001000100000e100004c000020a00002904d000000000"
	  "0000" },
	{ "txt", "txt.sip.test", SC_T_TXT,
	  "100985000001000100000000037478740373697004746573740000100001c00c"
	  "0010000100000e10001b0b763d73706631202d616c6c0d7365636f6e64207374"
	  "72696e6700" },
	{ "nxdomain", "nonexistent.sip.test", SC_T_A,
	  "100a850300010000000100000b6e6f6e6578697374656e740373697004746573"
	  "740000010001c018000600010000012c0027036e7331c0180a686f73746d6173"
	  "746572c01878a3f17600001c2000000384001275000000012c" },
	{ "nodata_aaaa", "ns1.sip.test", SC_T_AAAA,
	  "100b85000001000000010001036e733103736970047465737400001c0001c010"
	  "000600010000012c0023c00c0a686f73746d6173746572c01078a3f17600001c"
	  "2000000384001275000000012c00002904d0000000000000" },
	{ "enum_naptr", "4.3.2.1.5.5.5.1.e164.sip.test", SC_T_NAPTR,
	  "100c850000010001000000000134013301320131013501350135013104653136"
	  "340373697004746573740000230001c00c0023000100000e10002d0064000a01"
	  "75074532552b7369701d215e2e2a24217369703a2b3135353531323334407369"
	  "702e746573742100" },
	{ "soa", "sip.test", SC_T_SOA,
	  "100d850000010001000000000373697004746573740000060001c00c00060001"
	  "00000e100027036e7331c00c0a686f73746d6173746572c00c78a3f17600001c"
	  "2000000384001275000000012c" },
	{ "ns", "sip.test", SC_T_NS,
	  "100e850000010001000000010373697004746573740000020001c00c00020001"
	  "00000e100006036e7331c00cc0260001000100000e100004c0000235" },
	{ "mixed_case", "MiXeD.SiP.TeSt", SC_T_A,
	  "100f85000001000100000000054d695865440353695004546553740000010001"
	  "c00c0001000100000e100004c0000263" },
	{ "nodata_mx", "sip.test", SC_T_MX,
	  "10108500000100000001000003736970047465737400000f0001c00c00060001"
	  "0000012c0027036e7331c00c0a686f73746d6173746572c00c78a3f17600001c"
	  "2000000384001275000000012c" },
	{ "refused", "example.com", SC_T_A,
	  "101181050001000000000000076578616d706c6503636f6d0000010001" },
	{ "srv_tls_edns", "_sips._tcp.sip.test", SC_T_SRV,
	  "101285000001000200000006055f73697073045f746370037369700474657374"
	  "0000210001c00c0021000100000e100017000a002813c50670726f7879320373"
	  "6970047465737400c00c0021000100000e100017000a003c13c50670726f7879"
	  "3103736970047465737400c0370001000100000e100004c0000214c037000100"
	  "0100000e100004c0000215c037001c000100000e10001020010db80000000000"
	  "00000000000020c05a0001000100000e100004c000020ac05a001c000100000e"
	  "10001020010db800000000000000000000001000002904d0000000000000" },
	{ "big_tc", "big.sip.test", SC_T_A,
	  "101387000001000000000000036269670373697004746573740000010001" },
};

#define SOA_RDATA "ns1.sip.test hostmaster.sip.test 2024010102 7200 900 1209600 300"
#define OPT_1232 "ar . OPT size=1232 ext=0x00000000 opts=0\n"

/* What each capture must read as, written from the zone. */
static const char *const fixture_text[] = {
	/* naptr */
	"id=0x1001 flags=0x8500 qd=1 an=3 ns=0 ar=0\n"
	"qd sip.test IN NAPTR\n"
	"an sip.test 3600 IN NAPTR 10 50 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.sip.test\n"
	"an sip.test 3600 IN NAPTR 20 50 \"s\" \"SIP+D2T\" \"\" _sip._tcp.sip.test\n"
	"an sip.test 3600 IN NAPTR 30 50 \"s\" \"SIP+D2U\" \"\" _sip._udp.sip.test\n",
	/* naptr_edns */
	"id=0x1002 flags=0x8500 qd=1 an=3 ns=0 ar=1\n"
	"qd sip.test IN NAPTR\n"
	"an sip.test 3600 IN NAPTR 10 50 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.sip.test\n"
	"an sip.test 3600 IN NAPTR 20 50 \"s\" \"SIP+D2T\" \"\" _sip._tcp.sip.test\n"
	"an sip.test 3600 IN NAPTR 30 50 \"s\" \"SIP+D2U\" \"\" _sip._udp.sip.test\n"
	OPT_1232,
	/* srv_tcp_edns */
	"id=0x1003 flags=0x8500 qd=1 an=2 ns=0 ar=6\n"
	"qd _sip._tcp.sip.test IN SRV\n"
	"an _sip._tcp.sip.test 3600 IN SRV 10 60 5060 proxy1.sip.test\n"
	"an _sip._tcp.sip.test 3600 IN SRV 20 40 5060 proxy2.sip.test\n"
	"ar proxy1.sip.test 3600 IN A 192.0.2.10\n"
	"ar proxy1.sip.test 3600 IN AAAA 2001:db8::10\n"
	"ar proxy2.sip.test 3600 IN A 192.0.2.20\n"
	"ar proxy2.sip.test 3600 IN A 192.0.2.21\n"
	"ar proxy2.sip.test 3600 IN AAAA 2001:db8::20\n"
	OPT_1232,
	/* srv_udp */
	"id=0x1004 flags=0x8500 qd=1 an=1 ns=0 ar=2\n"
	"qd _sip._udp.sip.test IN SRV\n"
	"an _sip._udp.sip.test 300 IN SRV 10 100 5060 proxy1.sip.test\n"
	"ar proxy1.sip.test 3600 IN A 192.0.2.10\n"
	"ar proxy1.sip.test 3600 IN AAAA 2001:db8::10\n",
	/* a_proxy2 */
	"id=0x1005 flags=0x8500 qd=1 an=2 ns=0 ar=0\n"
	"qd proxy2.sip.test IN A\n"
	"an proxy2.sip.test 3600 IN A 192.0.2.20\n"
	"an proxy2.sip.test 3600 IN A 192.0.2.21\n",
	/* aaaa_proxy1 */
	"id=0x1006 flags=0x8500 qd=1 an=1 ns=0 ar=0\n"
	"qd proxy1.sip.test IN AAAA\n"
	"an proxy1.sip.test 3600 IN AAAA 2001:db8::10\n",
	/* cname_www */
	"id=0x1007 flags=0x8500 qd=1 an=2 ns=0 ar=0\n"
	"qd www.sip.test IN A\n"
	"an www.sip.test 3600 IN CNAME proxy1.sip.test\n"
	"an proxy1.sip.test 3600 IN A 192.0.2.10\n",
	/* cname_chain */
	"id=0x1008 flags=0x8500 qd=1 an=3 ns=0 ar=1\n"
	"qd alias.sip.test IN A\n"
	"an alias.sip.test 3600 IN CNAME www.sip.test\n"
	"an www.sip.test 3600 IN CNAME proxy1.sip.test\n"
	"an proxy1.sip.test 3600 IN A 192.0.2.10\n"
	OPT_1232,
	/* txt */
	"id=0x1009 flags=0x8500 qd=1 an=1 ns=0 ar=0\n"
	"qd txt.sip.test IN TXT\n"
	"an txt.sip.test 3600 IN TXT \"v=spf1 -all\" \"second string\" \"\"\n",
	/* nxdomain */
	"id=0x100a flags=0x8503 qd=1 an=0 ns=1 ar=0\n"
	"qd nonexistent.sip.test IN A\n"
	"ns sip.test 300 IN SOA " SOA_RDATA "\n",
	/* nodata_aaaa */
	"id=0x100b flags=0x8500 qd=1 an=0 ns=1 ar=1\n"
	"qd ns1.sip.test IN AAAA\n"
	"ns sip.test 300 IN SOA " SOA_RDATA "\n"
	OPT_1232,
	/* enum_naptr */
	"id=0x100c flags=0x8500 qd=1 an=1 ns=0 ar=0\n"
	"qd 4.3.2.1.5.5.5.1.e164.sip.test IN NAPTR\n"
	"an 4.3.2.1.5.5.5.1.e164.sip.test 3600 IN NAPTR 100 10 \"u\" \"E2U+sip\" "
	"\"!^.*$!sip:+15551234@sip.test!\" .\n",
	/* soa */
	"id=0x100d flags=0x8500 qd=1 an=1 ns=0 ar=0\n"
	"qd sip.test IN SOA\n"
	"an sip.test 3600 IN SOA " SOA_RDATA "\n",
	/* ns */
	"id=0x100e flags=0x8500 qd=1 an=1 ns=0 ar=1\n"
	"qd sip.test IN NS\n"
	"an sip.test 3600 IN NS ns1.sip.test\n"
	"ar ns1.sip.test 3600 IN A 192.0.2.53\n",
	/* mixed_case: owners compressed to the question read as asked */
	"id=0x100f flags=0x8500 qd=1 an=1 ns=0 ar=0\n"
	"qd MiXeD.SiP.TeSt IN A\n"
	"an MiXeD.SiP.TeSt 3600 IN A 192.0.2.99\n",
	/* nodata_mx */
	"id=0x1010 flags=0x8500 qd=1 an=0 ns=1 ar=0\n"
	"qd sip.test IN MX\n"
	"ns sip.test 300 IN SOA " SOA_RDATA "\n",
	/* refused */
	"id=0x1011 flags=0x8105 qd=1 an=0 ns=0 ar=0\n"
	"qd example.com IN A\n",
	/* srv_tls_edns: Knot keeps an RRset in canonical RDATA order
	 * (RFC 4034 6.3), not in zone order, so weight 40 comes first */
	"id=0x1012 flags=0x8500 qd=1 an=2 ns=0 ar=6\n"
	"qd _sips._tcp.sip.test IN SRV\n"
	"an _sips._tcp.sip.test 3600 IN SRV 10 40 5061 proxy2.sip.test\n"
	"an _sips._tcp.sip.test 3600 IN SRV 10 60 5061 proxy1.sip.test\n"
	"ar proxy2.sip.test 3600 IN A 192.0.2.20\n"
	"ar proxy2.sip.test 3600 IN A 192.0.2.21\n"
	"ar proxy2.sip.test 3600 IN AAAA 2001:db8::20\n"
	"ar proxy1.sip.test 3600 IN A 192.0.2.10\n"
	"ar proxy1.sip.test 3600 IN AAAA 2001:db8::10\n"
	OPT_1232,
	/* big_tc */
	"id=0x1013 flags=0x8700 qd=1 an=0 ns=0 ar=0\n"
	"qd big.sip.test IN A\n",
};

static unsigned char fx_buf[4096];
static size_t fx_len;

static void load_fixture(int i)
{
	fx_len = unhex(fixtures[i].hex, fx_buf, sizeof(fx_buf));
}

/*
 * libresolv's reading of the same bytes must agree with ours, record by
 * record: owner text (dn_expand), type, class, TTL, RDATA position and
 * length.  Returns the number of records compared.
 */
static unsigned agree_with_libresolv(const unsigned char *buf, size_t len,
				     const struct sc_msg *m)
{
	static const ns_sect sects[] = { ns_s_an, ns_s_ns, ns_s_ar };
	ns_msg h;
	unsigned i = 0, s;
	int k;

	require(ns_initparse(buf, (int)len, &h) == 0, "ns_initparse refuses what we accept");
	require(ns_msg_count(h, ns_s_qd) == m->qdcount, "qdcount");
	for (s = 0; s < 3; s++) {
		for (k = 0; k < ns_msg_count(h, sects[s]); k++, i++) {
			const struct sc_rr *rr = &m->rr[i];
			unsigned char w[SC_DNS_MAXNAME];
			char ours[SC_DNS_MAXTEXT];
			ns_rr r;

			require(ns_parserr(&h, sects[s], k, &r) == 0, "ns_parserr rr %u", i);
			require(rr->section == s, "rr %u: section %u", i, rr->section);
			require(rr->type == ns_rr_type(r), "rr %u: type %u", i, rr->type);
			require(rr->class == ns_rr_class(r), "rr %u: class %u", i, rr->class);
			require(rr->ttl == ns_rr_ttl(r), "rr %u: ttl %u", i, rr->ttl);
			require(rr->rdlen == ns_rr_rdlen(r), "rr %u: rdlen %u", i, rr->rdlen);
			require(buf + rr->rdata_off == ns_rr_rdata(r), "rr %u: rdata at %u", i,
				rr->rdata_off);
			/* The TTL field sits just before RDLENGTH. */
			require(rr->ttl_off + 6u == rr->rdata_off, "rr %u: ttl_off %u", i, rr->ttl_off);
			require(rd32(buf + rr->ttl_off) == rr->ttl, "rr %u: ttl field", i);
			require(sc_dns_name_expand(buf, len, rr->name_off, w, NULL) > 0,
				"rr %u: owner does not expand", i);
			require(sc_dns_name_to_text(w, ours, sizeof(ours)) >= 0, "rr %u: to_text", i);
			/* (ns_rr_name spells the root "."; dn_expand gives "") */
			require(strcmp(ours, ns_rr_name(r)) == 0, "rr %u: owner \"%s\" vs \"%s\"",
				i, ours, ns_rr_name(r));
		}
	}
	require(i == m->nrr, "nrr %u, libresolv %u", m->nrr, i);
	return i;
}

/* ------------------------------------------------------------------ */
/* Parse: real answers                                                 */
/* ------------------------------------------------------------------ */

START_TEST(test_fixture_reads_as_zone)
{
	struct txt *t = malloc(sizeof(*t));

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(SC_ARRAY_SIZE(fixtures), SC_ARRAY_SIZE(fixture_text));
	load_fixture(_i);
	memset(&msg, 0x5a, sizeof(msg));
	ck_assert_int_eq(sc_dns_parse(fx_buf, fx_len, &msg), 0);
	ck_assert_ptr_eq(msg.buf, fx_buf);
	ck_assert_uint_eq(msg.len, fx_len);
	ck_assert_uint_eq(msg.qtype, fixtures[_i].qtype);
	ck_assert_uint_eq(msg.qclass, SC_C_IN);
	ck_assert_uint_eq(msg.qname_len, strlen(fixtures[_i].qname) + 2);
	render(&msg, t);
	ck_assert_str_eq(t->s, fixture_text[_i]);
	agree_with_libresolv(fx_buf, fx_len, &msg);
	free(t);
}
END_TEST

/* Every strict prefix of a valid answer is malformed (the counts promise
 * more), and so is the answer with any byte appended.  Each prefix sits in
 * a heap block of exactly its size, so that under ASan a read one byte too
 * far is a failure even when the verdict would not change. */
START_TEST(test_fixture_prefixes_and_trailing)
{
	size_t n;

	load_fixture(_i);
	for (n = 0; n < fx_len; n++) {
		unsigned char *p = malloc(n ? n : 1);

		ck_assert_ptr_nonnull(p);
		memcpy(p, fx_buf, n);
		require(sc_dns_parse(p, n, &msg) == -EBADMSG, "%s: prefix %zu accepted",
			fixtures[_i].name, n);
		/* and names cut anywhere neither expand nor over-read */
		for (size_t off = 0; off < n; off++) {
			unsigned char w[SC_DNS_MAXNAME];
			size_t next = 0;

			if (sc_dns_name_expand(p, n, off, w, &next) > 0) {
				require(next <= n, "%s: next %zu past %zu", fixtures[_i].name, next, n);
			}
		}
		free(p);
	}
	fx_buf[fx_len] = 0;
	ck_assert_int_eq(sc_dns_parse(fx_buf, fx_len + 1, &msg), -EBADMSG);
	ck_assert_int_eq(sc_dns_parse(fx_buf, fx_len, &msg), 0);
}
END_TEST

/* Whatever single bit is flipped, our verdict is consistent with
 * libresolv's: when we accept, libresolv parses the same records. */
START_TEST(test_fixture_mutations_agree)
{
	size_t i;
	unsigned accepted = 0, rejected = 0;

	load_fixture(_i);
	for (i = 0; i < fx_len; i++) {
		unsigned char orig = fx_buf[i];
		unsigned bit;

		for (bit = 0; bit < 8; bit++) {
			fx_buf[i] = (unsigned char)(orig ^ (1u << bit));
			if (sc_dns_parse(fx_buf, fx_len, &msg) == 0) {
				agree_with_libresolv(fx_buf, fx_len, &msg);
				accepted++;
			} else {
				rejected++;
			}
		}
		fx_buf[i] = orig;
	}
	/* Both outcomes happen (flipping a TTL bit is harmless, flipping a
	 * count is not). */
	ck_assert_uint_gt(accepted, 0);
	ck_assert_uint_gt(rejected, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Parse: compression                                                  */
/* ------------------------------------------------------------------ */

static struct mb mbuf;

/* Question "www.sip.test" A at 12 ("sip.test" at 16); records follow at 30. */
static void base_msg(unsigned an, unsigned ns, unsigned ar)
{
	mb_hdr(&mbuf, 0x4242, 0x8180, 1, an, ns, ar);
	mb_question(&mbuf, "www.sip.test", SC_T_A);
}

START_TEST(test_compression_chain_accepted)
{
	unsigned char w[SC_DNS_MAXNAME], expect[SC_DNS_MAXNAME];
	size_t rd, next = 0;
	int r;

	/* www.sip.test CNAME foo.<ptr sip.test>;
	 * foo.sip.test (ptr into the CNAME's RDATA) A;
	 * bar.<ptr foo.sip.test> A: two hops. */
	base_msg(3, 0, 0);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, SC_T_CNAME, SC_C_IN, 60);
	rd = mbuf.n;
	mb_labels(&mbuf, "foo");
	mb_ptr(&mbuf, 16);
	mb_rdend(&mbuf);
	mb_ptr(&mbuf, (unsigned)rd);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 60);
	mb_hex(&mbuf, "c0000201");
	mb_rdend(&mbuf);
	mb_labels(&mbuf, "bar");
	mb_ptr(&mbuf, (unsigned)rd);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 60);
	mb_hex(&mbuf, "c0000202");
	mb_rdend(&mbuf);
	ck_assert_int_eq(parse(&mbuf), 0);
	ck_assert_uint_eq(msg.nrr, 3);
	agree_with_libresolv(mbuf.b, mbuf.n, &msg);

	r = sc_dns_name_expand(mbuf.b, mbuf.n, msg.rr[2].name_off, w, &next);
	ck_assert_int_eq(r, (int)wire("bar.foo.sip.test", expect));
	ck_assert_mem_eq(w, expect, (size_t)r);
	ck_assert_uint_eq(next, msg.rr[2].name_off + 6u);
	r = sc_dns_name_expand(mbuf.b, mbuf.n, rd, w, &next);
	ck_assert_int_eq(r, (int)wire("foo.sip.test", expect));
	ck_assert_mem_eq(w, expect, (size_t)r);
	ck_assert_uint_eq(next, rd + 6);
}
END_TEST

/*
 * Each case: an answer whose owner is spelled as given after the question
 * "www.sip.test" (at 12; "sip.test" at 16, "test" at 20, its root at 25,
 * the question's end and the owner at 30).
 */
struct name_case {
	const char *what;
	const char *owner_hex;  /* raw owner bytes */
	int expect;
	int libresolv_ok;       /* dn_expand accepts it (we are stricter) */
};

static const struct name_case name_cases[] = {
	{ "pointer to the question", "c00c", 0, 1 },
	{ "pointer to a suffix of the question", "03616263c010", 0, 1 },
	{ "labels then root", "03616263047465737400", 0, 1 },
	{ "pointer to itself (loop)", "c01e", -EBADMSG, 0 },
	{ "pointer forward (to the 00 of the type)", "c020", -EBADMSG, 1 },
	{ "pointer into the header", "c002", -EBADMSG, 0 },
	{ "pointer to offset 0", "c000", -EBADMSG, 0 },
	{ "pointer out of the message", "c3ff", -EBADMSG, 0 },
	{ "pointer to the name's own first label", "0161c01e", -EBADMSG, 0 },
	{ "label type 0x40", "41616263c00c", -EBADMSG, 0 },
	{ "label type 0x80", "81616263c00c", -EBADMSG, 0 },
	{ "label length 64 (0x40)", "40", -EBADMSG, 0 },
	{ "label past the end", "3f6161", -EBADMSG, 0 },
};

/* The owner at 30, then an A record's fixed part and RDATA. */
START_TEST(test_name_cases)
{
	const struct name_case *c = &name_cases[_i];
	char dn[NS_MAXDNAME];
	int lr;

	base_msg(1, 0, 0);
	ck_assert_uint_eq(mbuf.n, 30);
	mb_hex(&mbuf, c->owner_hex);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 60);
	mb_hex(&mbuf, "c0000201");
	mb_rdend(&mbuf);
	ck_assert_msg(parse(&mbuf) == c->expect, "%s: got %d", c->what, parse(&mbuf));
	lr = dn_expand(mbuf.b, mbuf.b + mbuf.n, mbuf.b + 30, dn, sizeof(dn));
	ck_assert_msg((lr >= 0) == (c->libresolv_ok || c->expect == 0),
		      "%s: dn_expand %d", c->what, lr);
	if (c->expect == 0) {
		agree_with_libresolv(mbuf.b, mbuf.n, &msg);
	}
}
END_TEST

/* A pointer into the header is refused even where the header bytes read
 * as a name: with ID 0x00xx, offset 0 holds a root label, which
 * dn_expand takes. */
START_TEST(test_pointer_into_header_reading_root)
{
	unsigned char w[SC_DNS_MAXNAME];
	char dn[NS_MAXDNAME];

	base_msg(1, 0, 0);
	mbuf.b[0] = 0;
	mb_ptr(&mbuf, 0);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 60);
	mb_hex(&mbuf, "c0000201");
	mb_rdend(&mbuf);
	ck_assert_int_eq(dn_expand(mbuf.b, mbuf.b + mbuf.n, mbuf.b + 30, dn, sizeof(dn)), 2);
	ck_assert_str_eq(dn, "");
	ck_assert_int_eq(sc_dns_name_expand(mbuf.b, mbuf.n, 30, w, NULL), -EBADMSG);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	/* the root spelled in place instead: fine */
	mbuf.b[30] = 0;
	memmove(mbuf.b + 31, mbuf.b + 32, mbuf.n - 32);
	mbuf.n--;
	ck_assert_int_eq(parse(&mbuf), 0);
}
END_TEST

/* A forward pointer that libresolv follows happily: dn_expand reads it,
 * we refuse it, in the parser and in sc_dns_name_expand. */
START_TEST(test_forward_pointer_libresolv_accepts)
{
	unsigned char w[SC_DNS_MAXNAME];
	char dn[NS_MAXDNAME];
	size_t fwd;

	/* The owner points into its own RDATA: TXT "a" "" reads, as a
	 * name, "a" and the root. */
	base_msg(1, 0, 0);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, SC_T_TXT, SC_C_IN, 60);
	fwd = mbuf.n;
	mb_hex(&mbuf, "016100");
	mb_rdend(&mbuf);
	ck_assert_int_eq(parse(&mbuf), 0);      /* as a control */
	mbuf.b[30] = (unsigned char)(0xc0 | fwd >> 8);
	mbuf.b[31] = (unsigned char)fwd;
	ck_assert_int_ge(dn_expand(mbuf.b, mbuf.b + mbuf.n, mbuf.b + 30, dn, sizeof(dn)), 0);
	ck_assert_str_eq(dn, "a");
	ck_assert_int_eq(sc_dns_name_expand(mbuf.b, mbuf.n, 30, w, NULL), -EBADMSG);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
}
END_TEST

/*
 * What a pointer leads to must end before the stretch of name that
 * pointed: here the owner is a lone pointer to 2 bytes before itself,
 * where an opaque RDATA ends with 03 'x', so that the label "x\xc0<p>"
 * runs over the pointer itself and then finds a root in the type field.
 * dn_expand reads "x\192\NNN"; we refuse.
 */
START_TEST(test_pointer_target_overlapping_name)
{
	unsigned char w[SC_DNS_MAXNAME];
	char dn[NS_MAXDNAME];
	size_t owner;

	base_msg(2, 0, 0);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, 99, SC_C_IN, 60);
	mb_hex(&mbuf, "aaaa0378");
	mb_rdend(&mbuf);
	owner = mbuf.n;
	mb_ptr(&mbuf, (unsigned)owner - 2);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 60);
	mb_hex(&mbuf, "c0000201");
	mb_rdend(&mbuf);
	ck_assert_int_eq(dn_expand(mbuf.b, mbuf.b + mbuf.n, mbuf.b + owner, dn, sizeof(dn)), 2);
	ck_assert_int_eq(sc_dns_name_expand(mbuf.b, mbuf.n, owner, w, NULL), -EBADMSG);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);

	/* Control: the first record made a CNAME to "y" + a pointer to
	 * the question, and the owner pointing at that name, which ends
	 * before the owner begins: accepted. */
	mbuf.b[33] = SC_T_CNAME;
	memcpy(mbuf.b + owner - 4, "\x01y\xc0\x0c", 4);
	mbuf.b[owner + 1] = (unsigned char)(owner - 4);
	ck_assert_int_eq(parse(&mbuf), 0);
	ck_assert_int_eq(sc_dns_name_expand(mbuf.b, mbuf.n, owner, w, NULL), 16);
	ck_assert_mem_eq(w, "\x01y\x03www\x03sip\x04test\x00", 16);
}
END_TEST

/* Hops are bounded even when each goes strictly backwards: 127 pass,
 * 128 do not.  Record i's owner is a lone pointer to record i-1's, and
 * record 0's points at the question: expanding record i takes i+1 hops. */
START_TEST(test_pointer_chain_hops)
{
	unsigned char w[SC_DNS_MAXNAME];
	unsigned i, nrec = _i ? 128 : 127;
	size_t prev = 12, owner = 0;

	base_msg(nrec, 0, 0);
	for (i = 0; i < nrec; i++) {
		owner = mbuf.n;
		mb_ptr(&mbuf, (unsigned)prev);
		mb_rr(&mbuf, SC_T_A, SC_C_IN, 1);
		mb_hex(&mbuf, "01020304");
		mb_rdend(&mbuf);
		prev = owner;
	}
	ck_assert_int_eq(parse(&mbuf), nrec <= 127 ? 0 : -EBADMSG);
	ck_assert_int_eq(sc_dns_name_expand(mbuf.b, mbuf.n, owner, w, NULL),
			 nrec <= 127 ? 14 : -EBADMSG);
	if (nrec <= 127) {
		agree_with_libresolv(mbuf.b, mbuf.n, &msg);
	}
}
END_TEST

/*
 * The parser only follows pointers to where an earlier name had a label.
 * A pointer into a TTL field (here TTL 0x01610000 reads as the name "a")
 * passes the strictly-backwards rule, and sc_dns_name_expand, which has
 * no record of where names were, follows it; but the rewrite patches TTLs,
 * which would silently turn that owner into another name.  Refused.
 */
START_TEST(test_pointer_into_ttl_refused)
{
	unsigned char w[SC_DNS_MAXNAME];
	size_t ttl_at;

	base_msg(2, 0, 0);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 0x01610000);
	ttl_at = mbuf.n - 6;
	mb_hex(&mbuf, "c0000201");
	mb_rdend(&mbuf);
	mb_ptr(&mbuf, (unsigned)ttl_at);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 60);
	mb_hex(&mbuf, "c0000202");
	mb_rdend(&mbuf);
	ck_assert_int_eq(sc_dns_name_expand(mbuf.b, mbuf.n, mbuf.n - 16, w, NULL), 3);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	/* a label before the TTL, walking into it: refused too */
	mbuf.b[ttl_at - 1] = 0x04;              /* class low byte: label 4 */
	mbuf.b[mbuf.n - 15] = (unsigned char)(ttl_at - 1);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
}
END_TEST

/* The price of that rule: a name inside the RDATA of a type we do not
 * parse cannot be pointed at (that answer is then not cached). */
START_TEST(test_pointer_into_opaque_rdata_refused)
{
	size_t rd;

	base_msg(2, 0, 0);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, 39 /* DNAME */, SC_C_IN, 60);
	rd = mbuf.n;
	mb_labels(&mbuf, "other");
	mb_ptr(&mbuf, 16);
	mb_rdend(&mbuf);
	mb_ptr(&mbuf, (unsigned)rd);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 60);
	mb_hex(&mbuf, "c0000202");
	mb_rdend(&mbuf);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	/* the same name in a CNAME is a name we walked: fine */
	mbuf.b[33] = SC_T_CNAME;
	ck_assert_int_eq(parse(&mbuf), 0);
	agree_with_libresolv(mbuf.b, mbuf.n, &msg);
}
END_TEST

/* Names up to 255 bytes pass, 256 do not, however they are compressed. */
START_TEST(test_name_length_limits)
{
	unsigned char w[SC_DNS_MAXNAME];
	char l63[64], big[300];
	size_t rd;

	memset(l63, 'a', 63);
	l63[63] = 0;
	/* 63+1 times 3 = 192, + "b" x 61 + 1 = 254, + root = 255 */
	snprintf(big, sizeof(big), "%s.%s.%s.%.61s", l63, l63, l63, l63);
	mb_hdr(&mbuf, 1, 0x8180, 1, 1, 0, 0);
	mb_question(&mbuf, big, SC_T_A);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 1);
	mb_hex(&mbuf, "01020304");
	mb_rdend(&mbuf);
	ck_assert_int_eq(parse(&mbuf), 0);
	ck_assert_uint_eq(msg.qname_len, 255);
	ck_assert_int_eq(sc_dns_name_expand(mbuf.b, mbuf.n, 12, w, NULL), 255);

	/* 256: one more byte in the last label */
	snprintf(big, sizeof(big), "%s.%s.%s.%.62s", l63, l63, l63, l63);
	mb_hdr(&mbuf, 1, 0x8180, 1, 0, 0, 0);
	mb_question(&mbuf, big, SC_T_A);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	ck_assert_int_eq(sc_dns_name_expand(mbuf.b, mbuf.n, 12, w, NULL), -EBADMSG);

	/* 256 through compression: "xy." (3 bytes) + a 253-byte suffix. */
	snprintf(big, sizeof(big), "%s.%s.%s.%.59s", l63, l63, l63, l63);
	mb_hdr(&mbuf, 1, 0x8180, 1, 1, 0, 0);
	mb_question(&mbuf, big, SC_T_A);
	ck_assert_uint_eq(mbuf.n - 12 - 4, 253);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, SC_T_CNAME, SC_C_IN, 1);
	rd = mbuf.n;
	mb_labels(&mbuf, "x");          /* 2 + 253 = 255: fine */
	mb_ptr(&mbuf, 12);
	mb_rdend(&mbuf);
	ck_assert_int_eq(parse(&mbuf), 0);
	ck_assert_int_eq(sc_dns_name_expand(mbuf.b, mbuf.n, rd, w, NULL), 255);
	mb_hdr(&mbuf, 1, 0x8180, 1, 1, 0, 0);
	mb_question(&mbuf, big, SC_T_A);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, SC_T_CNAME, SC_C_IN, 1);
	rd = mbuf.n;
	mb_labels(&mbuf, "xy");         /* 3 + 253 = 256 */
	mb_ptr(&mbuf, 12);
	mb_rdend(&mbuf);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	ck_assert_int_eq(sc_dns_name_expand(mbuf.b, mbuf.n, rd, w, NULL), -EBADMSG);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Parse: RDATA by type                                                */
/* ------------------------------------------------------------------ */

/* One answer record owned by the question (sip.test at 12, "test" at
 * 16) with the RDATA given in hex. */
struct rdata_case {
	const char *what;
	uint16_t type, class;
	const char *rdata;
	int expect;
};

#define N_PROXY "0570726f7879c00c"   /* proxy.<sip.test> */
#define N_ROOT "00"

static const struct rdata_case rdata_cases[] = {
	{ "A 4", SC_T_A, SC_C_IN, "c0000201", 0 },
	{ "A 3", SC_T_A, SC_C_IN, "c00002", -EBADMSG },
	{ "A 5", SC_T_A, SC_C_IN, "c000020100", -EBADMSG },
	{ "A 0", SC_T_A, SC_C_IN, "", -EBADMSG },
	{ "A of class CH is opaque", SC_T_A, 3, "0263680000ab", 0 },
	{ "AAAA 16", SC_T_AAAA, SC_C_IN, "20010db8000000000000000000000010", 0 },
	{ "AAAA 15", SC_T_AAAA, SC_C_IN, "20010db80000000000000000000000", -EBADMSG },
	{ "AAAA 17", SC_T_AAAA, SC_C_IN, "20010db800000000000000000000001000", -EBADMSG },
	{ "AAAA 4", SC_T_AAAA, SC_C_IN, "c0000201", -EBADMSG },
	{ "CNAME", SC_T_CNAME, SC_C_IN, N_PROXY, 0 },
	{ "CNAME root", SC_T_CNAME, SC_C_IN, N_ROOT, 0 },
	{ "CNAME + 1 byte", SC_T_CNAME, SC_C_IN, N_PROXY "00", -EBADMSG },
	{ "CNAME empty", SC_T_CNAME, SC_C_IN, "", -EBADMSG },
	{ "CNAME name past RDATA", SC_T_CNAME, SC_C_IN, "0570726f7879", -EBADMSG },
	{ "CNAME uncompressed", SC_T_CNAME, SC_C_IN, "0570726f787903736970047465737400", 0 },
	{ "CNAME uncompressed + 1", SC_T_CNAME, SC_C_IN, "0570726f78790373697004746573740000", -EBADMSG },
	{ "NS", SC_T_NS, SC_C_IN, N_PROXY, 0 },
	{ "NS + 1", SC_T_NS, SC_C_IN, N_PROXY "00", -EBADMSG },
	{ "NS short", SC_T_NS, SC_C_IN, "0570726f78", -EBADMSG },
	{ "PTR", SC_T_PTR, SC_C_IN, N_PROXY, 0 },
	{ "PTR + 1", SC_T_PTR, SC_C_IN, N_PROXY "00", -EBADMSG },
	{ "PTR pointer cut", SC_T_PTR, SC_C_IN, "0570726f7879c0", -EBADMSG },
	{ "MX", SC_T_MX, SC_C_IN, "000a" N_PROXY, 0 },
	{ "MX root", SC_T_MX, SC_C_IN, "0000" N_ROOT, 0 },
	{ "MX no name", SC_T_MX, SC_C_IN, "000a", -EBADMSG },
	{ "MX 1 byte", SC_T_MX, SC_C_IN, "00", -EBADMSG },
	{ "MX + 1", SC_T_MX, SC_C_IN, "000a" N_PROXY "00", -EBADMSG },
	{ "SRV", SC_T_SRV, SC_C_IN, "000a003c13c4" N_PROXY, 0 },
	{ "SRV root target", SC_T_SRV, SC_C_IN, "000000000000" N_ROOT, 0 },
	{ "SRV 5 fixed", SC_T_SRV, SC_C_IN, "000a003c13", -EBADMSG },
	{ "SRV no target", SC_T_SRV, SC_C_IN, "000a003c13c4", -EBADMSG },
	{ "SRV + 1", SC_T_SRV, SC_C_IN, "000a003c13c4" N_PROXY "00", -EBADMSG },
	{ "SRV target past RDATA", SC_T_SRV, SC_C_IN, "000a003c13c40570726f78", -EBADMSG },
	{ "NAPTR", SC_T_NAPTR, SC_C_IN,
	  "000a0032" "0173" "075349502b443254" "00" N_PROXY, 0 },
	{ "NAPTR + 2 after the root", SC_T_NAPTR, SC_C_IN,
	  "00640032" "0175" "074532552b736970" "03216121" N_ROOT "0000", -EBADMSG },
	{ "NAPTR regexp, root replacement", SC_T_NAPTR, SC_C_IN,
	  "00640032" "0175" "074532552b736970" "03216121" N_ROOT, 0 },
	{ "NAPTR no replacement", SC_T_NAPTR, SC_C_IN,
	  "000a0032" "0173" "075349502b443254" "00", -EBADMSG },
	{ "NAPTR two strings only", SC_T_NAPTR, SC_C_IN,
	  "000a0032" "0173" "075349502b443254", -EBADMSG },
	{ "NAPTR string past RDATA", SC_T_NAPTR, SC_C_IN,
	  "000a0032" "0173" "ff5349502b443254" "00" N_PROXY, -EBADMSG },
	{ "NAPTR + 1", SC_T_NAPTR, SC_C_IN,
	  "000a0032" "0173" "075349502b443254" "00" N_PROXY "00", -EBADMSG },
	{ "NAPTR 3 fixed", SC_T_NAPTR, SC_C_IN, "000a00", -EBADMSG },
	{ "SOA", SC_T_SOA, SC_C_IN,
	  N_PROXY "0a686f73746d6173746572c00c"
	  "78a3f17600001c2000000384001275000000012c", 0 },
	{ "SOA 19", SC_T_SOA, SC_C_IN,
	  N_PROXY "0a686f73746d6173746572c00c"
	  "78a3f17600001c2000000384001275000000012c"
	  "" /* 21 */ "00", -EBADMSG },
	{ "SOA 21", SC_T_SOA, SC_C_IN,
	  N_PROXY "0a686f73746d6173746572c00c"
	  "78a3f17600001c2000000384001275000000", -EBADMSG },
	{ "SOA one name", SC_T_SOA, SC_C_IN,
	  N_PROXY "78a3f17600001c2000000384001275000000012c", -EBADMSG },
	{ "TXT", SC_T_TXT, SC_C_IN, "0161", 0 },
	{ "TXT empty string", SC_T_TXT, SC_C_IN, "00", 0 },
	{ "TXT three", SC_T_TXT, SC_C_IN, "01610000026263", 0 },
	{ "TXT no string", SC_T_TXT, SC_C_IN, "", -EBADMSG },
	{ "TXT string past RDATA", SC_T_TXT, SC_C_IN, "0361", -EBADMSG },
	{ "TXT second past RDATA", SC_T_TXT, SC_C_IN, "01610261", -EBADMSG },
	{ "unknown type, any length", 99, SC_C_IN, "ffffffffffff", 0 },
	{ "unknown type, empty", 99, SC_C_IN, "", 0 },
	{ "OPT in the answer section", SC_T_OPT, 1232, "", -EBADMSG },
};

START_TEST(test_rdata_cases)
{
	const struct rdata_case *c = &rdata_cases[_i];
	int r;

	mb_hdr(&mbuf, 7, 0x8180, 1, 1, 0, 0);
	mb_question(&mbuf, "sip.test", c->type);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, c->type, c->class, 300);
	mb_hex(&mbuf, c->rdata);
	mb_rdend(&mbuf);
	r = parse(&mbuf);
	ck_assert_msg(r == c->expect, "%s: got %d, want %d", c->what, r, c->expect);
	if (r == 0) {
		ck_assert_uint_eq(msg.rr[0].rdlen, strlen(c->rdata) / 2);
		agree_with_libresolv(mbuf.b, mbuf.n, &msg);
	}
	/* The same RDATA followed by another record: a name running past
	 * RDATA must not be rescued by the bytes after it. */
	mb_set_count(&mbuf, 1, 2);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 300);
	mb_hex(&mbuf, "c0000201");
	mb_rdend(&mbuf);
	r = parse(&mbuf);
	ck_assert_msg(r == c->expect, "%s + record: got %d", c->what, r);
}
END_TEST

/* RDLENGTH running past the end of the message, for each type. */
START_TEST(test_rdata_truncated)
{
	static const uint16_t types[] = { SC_T_A, SC_T_AAAA, SC_T_CNAME, SC_T_MX,
					  SC_T_SRV, SC_T_NAPTR, SC_T_SOA, SC_T_TXT, 99 };
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(types); i++) {
		mb_hdr(&mbuf, 7, 0x8180, 1, 1, 0, 0);
		mb_question(&mbuf, "sip.test", types[i]);
		mb_ptr(&mbuf, 12);
		mb_rr(&mbuf, types[i], SC_C_IN, 300);
		mb_hex(&mbuf, "0000000000");
		mb_rdend(&mbuf);
		mbuf.b[mbuf.n - 6] = 6;     /* RDLENGTH 6, 5 bytes there */
		ck_assert_int_eq(parse(&mbuf), -EBADMSG);
		/* and a record cut inside its fixed part */
		mbuf.n -= 8;
		ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Parse: header, counts, OPT                                          */
/* ------------------------------------------------------------------ */

START_TEST(test_header_and_counts)
{
	unsigned char b[64];

	memset(b, 0, sizeof(b));
	ck_assert_int_eq(sc_dns_parse(b, 0, &msg), -EBADMSG);
	ck_assert_int_eq(sc_dns_parse(b, 11, &msg), -EBADMSG);
	/* A bare header is a complete, if useless, message. */
	b[0] = 0xab;
	b[1] = 0xcd;
	b[2] = 0x81;
	b[3] = 0x83;
	ck_assert_int_eq(sc_dns_parse(b, 12, &msg), 0);
	ck_assert_uint_eq(msg.id, 0xabcd);
	ck_assert_uint_eq(msg.flags, 0x8183);
	ck_assert_uint_eq(msg.nrr, 0);
	ck_assert_uint_eq(msg.qname_len, 0);
	ck_assert_int_eq(sc_dns_parse(b, 13, &msg), -EBADMSG);

	/* qdcount 2, with two good questions */
	mb_hdr(&mbuf, 1, 0x8180, 2, 0, 0, 0);
	mb_question(&mbuf, "a.test", SC_T_A);
	mb_question(&mbuf, "b.test", SC_T_A);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	mb_set_count(&mbuf, 0, 1);
	mbuf.n -= 12;
	ck_assert_int_eq(parse(&mbuf), 0);

	/* Huge counts in a small message: refused up front. */
	mb_hdr(&mbuf, 1, 0x8180, 1, 65535, 0, 0);
	mb_question(&mbuf, "a.test", SC_T_A);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	mb_hdr(&mbuf, 1, 0x8180, 65535, 65535, 65535, 65535);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	mb_hdr(&mbuf, 1, 0x8180, 0, 0, 0, 1);
	mb_hex(&mbuf, "00" "0029" "04d0" "00000000" "00");   /* 10 of 11 */
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	mb_hex(&mbuf, "00");
	ck_assert_int_eq(parse(&mbuf), 0);   /* the smallest record: OPT */

	/* Longer than any DNS message, though well formed: offsets would
	 * not fit in 16 bits. */
	mb_hdr(&mbuf, 1, 0x8180, 0, 1, 0, 0);
	mb_u8(&mbuf, 0);
	mb_rr(&mbuf, 99, SC_C_IN, 1);
	mbuf.n += SC_DNS_MAXMSG - mbuf.n;
	mb_rdend(&mbuf);
	ck_assert_int_eq(parse(&mbuf), 0);
	mb_u8(&mbuf, 0);
	mb_rdend(&mbuf);
	ck_assert_uint_eq(mbuf.n, SC_DNS_MAXMSG + 1);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
}
END_TEST

static void opt(struct mb *m, const char *owner_hex, const char *rdata_hex)
{
	mb_hex(m, owner_hex);
	mb_rr(m, SC_T_OPT, 1232, 0x00008000);
	mb_hex(m, rdata_hex);
	mb_rdend(m);
}

START_TEST(test_opt_rules)
{
	uint16_t offs[8];

	/* one OPT in the additional section, after another record */
	base_msg(1, 0, 2);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 60);
	mb_hex(&mbuf, "c0000201");
	mb_rdend(&mbuf);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 70);
	mb_hex(&mbuf, "c0000202");
	mb_rdend(&mbuf);
	opt(&mbuf, "00", "000a00080102030405060708");   /* a COOKIE */
	ck_assert_int_eq(parse(&mbuf), 0);
	ck_assert_uint_eq(msg.nrr, 3);
	ck_assert_uint_eq(msg.rr[2].type, SC_T_OPT);
	ck_assert_uint_eq(msg.rr[2].section, SC_SEC_AR);
	ck_assert_uint_eq(msg.rr[2].ttl, 0x8000);
	/* its TTL field is not a lifetime */
	ck_assert_int_eq(sc_dns_ttl_offsets(&msg, offs, 8), 2);
	ck_assert_uint_eq(offs[0], msg.rr[0].ttl_off);
	ck_assert_uint_eq(offs[1], msg.rr[1].ttl_off);
	agree_with_libresolv(mbuf.b, mbuf.n, &msg);

	/* OPT in the answer and authority sections */
	base_msg(1, 0, 0);
	opt(&mbuf, "00", "");
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	base_msg(0, 1, 0);
	opt(&mbuf, "00", "");
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	/* two OPTs */
	base_msg(0, 0, 2);
	opt(&mbuf, "00", "");
	opt(&mbuf, "00", "");
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	/* owner not the root, or the root through a pointer */
	base_msg(0, 0, 1);
	opt(&mbuf, "c00c", "");
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	base_msg(0, 0, 1);
	opt(&mbuf, "c019", "");      /* 25: the question's root byte */
	ck_assert_uint_eq(mbuf.b[25], 0);
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	base_msg(0, 0, 1);
	opt(&mbuf, "00", "");
	ck_assert_int_eq(parse(&mbuf), 0);
	/* options must fill the RDATA */
	base_msg(0, 0, 1);
	opt(&mbuf, "00", "000a000801020304050607");
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	base_msg(0, 0, 1);
	opt(&mbuf, "00", "000a00");
	ck_assert_int_eq(parse(&mbuf), -EBADMSG);
	base_msg(0, 0, 1);
	opt(&mbuf, "00", "000a0000" "000c0002abcd");
	ck_assert_int_eq(parse(&mbuf), 0);
}
END_TEST

/* More than SC_DNS_MAXRR records: -E2BIG, but only for a well-formed
 * message; a malformed one stays -EBADMSG. */
START_TEST(test_too_many_records)
{
	static unsigned char big[70000];
	static struct sc_rdata rd[SC_DNS_MAXRR + 1];
	unsigned char q[64];
	unsigned char a[4] = { 10, 0, 0, 1 };
	unsigned i;
	int n;

	for (i = 0; i < SC_ARRAY_SIZE(rd); i++) {
		rd[i].data = a;
		rd[i].len = 4;
	}
	wire("many.test", q);
	n = sc_dns_build_answer(big, sizeof(big), 9, 0, q, SC_T_A, SC_C_IN, 60,
				rd, SC_DNS_MAXRR);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(sc_dns_parse(big, (size_t)n, &msg), 0);
	ck_assert_uint_eq(msg.nrr, SC_DNS_MAXRR);
	ck_assert_uint_eq(msg.rr[SC_DNS_MAXRR - 1].ttl, 60);

	n = sc_dns_build_answer(big, sizeof(big), 9, 0, q, SC_T_A, SC_C_IN, 60,
				rd, SC_DNS_MAXRR + 1);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(sc_dns_parse(big, (size_t)n, &msg), -E2BIG);
	/* the last record broken: malformed wins */
	big[n - 5] = 5;
	ck_assert_int_eq(sc_dns_parse(big, (size_t)n, &msg), -EBADMSG);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

/* Our text form of `w' equals ns_name_ntop's, and reads back to `w'. */
static void check_ntop(const unsigned char *w, size_t wlen)
{
	char ours[SC_DNS_MAXTEXT], theirs[SC_DNS_MAXTEXT + 16];
	unsigned char back[SC_DNS_MAXNAME + 1];
	int r, t;

	r = sc_dns_name_to_text(w, ours, sizeof(ours));
	t = ns_name_ntop(w, theirs, sizeof(theirs));
	require(t >= 0, "ns_name_ntop failed");
	require(r == (int)strlen(theirs) && strcmp(ours, theirs) == 0,
		"to_text %d \"%s\", ns_name_ntop \"%s\"", r, ours, theirs);
	memset(back, 0xee, sizeof(back));
	require(sc_dns_name_from_text(ours, back, SC_DNS_MAXNAME) == (int)wlen,
		"\"%s\" does not read back", ours);
	require(memcmp(back, w, wlen) == 0 && back[wlen] == 0xee, "\"%s\" reads back wrong", ours);
	require(sc_dns_name_len(w) == wlen, "name_len of \"%s\"", ours);
}

START_TEST(test_to_text_every_byte)
{
	unsigned char w[8];
	unsigned c;

	for (c = 0; c < 256; c++) {
		w[0] = 1;
		w[1] = (unsigned char)c;
		w[2] = 2;
		w[3] = 'x';
		w[4] = (unsigned char)c;
		w[5] = 0;
		check_ntop(w, 6);
	}
	w[0] = 0;
	check_ntop(w, 1);
}
END_TEST

static size_t random_name(unsigned char *w, int alphabet)
{
	size_t n = 0;
	unsigned labels = rnd() % 8;

	while (labels-- > 0) {
		unsigned l = 1 + rnd() % 63, i;

		if (n + 1 + l + 1 > SC_DNS_MAXNAME) {
			break;
		}
		w[n++] = (unsigned char)l;
		for (i = 0; i < l; i++) {
			/* letters, digits and the odd specials, or anything */
			w[n++] = alphabet ? (unsigned char)"aZ9-_.\\\"$@ ;()"[rnd() % 14]
					  : (unsigned char)rnd();
		}
	}
	w[n++] = 0;
	return n;
}

START_TEST(test_to_text_random_agrees)
{
	unsigned char w[SC_DNS_MAXNAME];
	unsigned i;

	for (i = 0; i < 20000; i++) {
		size_t n = random_name(w, i & 1);

		check_ntop(w, n);
	}
}
END_TEST

/* Grow the output buffer from 0: -ENOSPC until it fits exactly, and
 * never a byte written past the size given. */
START_TEST(test_to_text_buffer_sizes)
{
	/* ending in a plain byte, an escaped one, a \\DDD one */
	static const char *const texts[] = { ".", "a", "sip.test", "a\\.b.\\000\\255.x\\\"y",
					     "x.\\@", "x\\255" };
	unsigned char w[SC_DNS_MAXNAME];
	char out[64];
	unsigned i;
	size_t sz;

	for (i = 0; i < SC_ARRAY_SIZE(texts); i++) {
		size_t want = strlen(texts[i]);

		ck_assert_int_gt(sc_dns_name_from_text(texts[i], w, sizeof(w)), 0);
		for (sz = 0; sz <= want + 1; sz++) {
			int r;

			memset(out, 0x7e, sizeof(out));
			r = sc_dns_name_to_text(w, out, sz);
			if (sz <= want) {
				ck_assert_int_eq(r, -ENOSPC);
			} else {
				ck_assert_int_eq(r, (int)want);
				ck_assert_str_eq(out, texts[i]);
			}
			ck_assert_uint_eq((unsigned char)out[sz], 0x7e);
		}
	}
	/* the longest name's text fits SC_DNS_MAXTEXT exactly */
	{
		char big[SC_DNS_MAXTEXT + 1];
		size_t n = 0, k;

		for (k = 0; k < 4; k++) {
			unsigned l = k < 3 ? 63 : 61, j;

			w[n++] = (unsigned char)l;
			for (j = 0; j < l; j++) {
				w[n++] = 0x01;
			}
		}
		w[n++] = 0;
		ck_assert_uint_eq(n, SC_DNS_MAXNAME);
		ck_assert_int_eq(sc_dns_name_to_text(w, big, SC_DNS_MAXTEXT), SC_DNS_MAXTEXT - 1);
		ck_assert_int_eq(sc_dns_name_to_text(w, big, SC_DNS_MAXTEXT - 1), -ENOSPC);
	}
}
END_TEST

START_TEST(test_to_text_invalid)
{
	unsigned char w[300];
	char out[SC_DNS_MAXTEXT];

	/* a pointer, label types 0x40 and 0x80 */
	memcpy(w, "\x01" "a" "\xc0\x0c", 4);
	ck_assert_int_eq(sc_dns_name_to_text(w, out, sizeof(out)), -EINVAL);
	memcpy(w, "\x41" "a", 2);
	ck_assert_int_eq(sc_dns_name_to_text(w, out, sizeof(out)), -EINVAL);
	memcpy(w, "\x81" "a", 2);
	ck_assert_int_eq(sc_dns_name_to_text(w, out, sizeof(out)), -EINVAL);
	/* 256 bytes: ns_name_ntop prints it, we refuse */
	memset(w, 0, sizeof(w));
	w[0] = 63;
	w[64] = 63;
	w[128] = 63;
	w[192] = 62;
	memset(w + 193, 'a', 62);
	ck_assert_uint_eq(w[255], 0);
	ck_assert_int_eq(sc_dns_name_to_text(w, out, sizeof(out)), -EINVAL);
	ck_assert_uint_eq(sc_dns_name_len(w), 0);
	w[192] = 61;
	w[254] = 0;
	ck_assert_uint_eq(sc_dns_name_len(w), 255);
}
END_TEST

struct pton_case {
	const char *text;
	const char *wire_hex;   /* NULL: invalid */
};

static const struct pton_case pton_cases[] = {
	{ "", "00" },
	{ ".", "00" },
	{ "..", NULL },
	{ "www", "0377777700" },
	{ "www.", "0377777700" },
	{ "WwW.Sip.Test.", "03577757035369700454657374" "00" },
	{ ".www", NULL },
	{ "www..", NULL },
	{ "www..sip", NULL },
	{ "www\\.sip", "077777772e73697000" },
	{ "\\000", "010000" },
	{ "\\255x", "02ff7800" },
	{ "\\256", NULL },
	{ "\\0", NULL },
	{ "\\01", NULL },
	{ "\\01x", NULL },
	{ "\\0641", "02403100" },
	{ "\\", NULL },
	{ "a\\", NULL },
	{ "\\\\", "015c00" },
	{ "\\a\\B", "02614200" },
	{ "a.\\.", "0161012e00" },
	{ "\\..", "012e00" },
};

START_TEST(test_from_text_cases)
{
	const struct pton_case *c = &pton_cases[_i];
	unsigned char ours[SC_DNS_MAXNAME + 1], theirs[NS_MAXCDNAME + 16], want[300];
	int r, t;

	memset(ours, 0xee, sizeof(ours));
	r = sc_dns_name_from_text(c->text, ours, SC_DNS_MAXNAME);
	t = ns_name_pton(c->text, theirs, sizeof(theirs));
	if (c->wire_hex == NULL) {
		ck_assert_msg(r == -EINVAL, "\"%s\": %d", c->text, r);
		ck_assert_int_eq(t, -1);
		return;
	}
	ck_assert_msg(r == (int)unhex(c->wire_hex, want, sizeof(want)), "\"%s\": %d", c->text, r);
	ck_assert_mem_eq(ours, want, (size_t)r);
	ck_assert_uint_eq(ours[SC_DNS_MAXNAME], 0xee);
	ck_assert_int_ge(t, 0);
	ck_assert_mem_eq(theirs, want, (size_t)r);
}
END_TEST

START_TEST(test_from_text_limits)
{
	char text[1200];
	unsigned char w[SC_DNS_MAXNAME + 8];
	size_t i;
	int r;

	/* label of 63 ok, 64 not; also written as 63 escapes */
	memset(text, 'a', 64);
	text[63] = 0;
	ck_assert_int_eq(sc_dns_name_from_text(text, w, sizeof(w)), 65);
	text[63] = 'a';
	text[64] = 0;
	ck_assert_int_eq(sc_dns_name_from_text(text, w, sizeof(w)), -EINVAL);
	text[0] = 0;
	for (i = 0; i < 63; i++) {
		strcat(text, "\\046");
	}
	ck_assert_int_eq(sc_dns_name_from_text(text, w, sizeof(w)), 65);
	ck_assert_uint_eq(w[1], '.');
	strcat(text, "\\046");
	ck_assert_int_eq(sc_dns_name_from_text(text, w, sizeof(w)), -EINVAL);

	/* 255 bytes ok, 256 not: 3 x 63 + 61 or 62 */
	memset(text, 0, sizeof(text));
	for (i = 0; i < 3; i++) {
		memset(text + i * 64, 'b', 63);
		text[i * 64 + 63] = '.';
	}
	memset(text + 192, 'c', 61);
	ck_assert_int_eq(sc_dns_name_from_text(text, w, sizeof(w)), 255);
	strcat(text, ".");
	ck_assert_int_eq(sc_dns_name_from_text(text, w, sizeof(w)), 255);
	text[253] = 'c';
	text[254] = 0;
	ck_assert_int_eq(sc_dns_name_from_text(text, w, sizeof(w)), -EINVAL);
	ck_assert_int_eq(ns_name_pton(text, w, sizeof(w)), -1);
	/* 254 + a label of 1 would be 256 too */
	text[253] = '.';
	text[254] = 'x';
	text[255] = 0;
	ck_assert_int_eq(sc_dns_name_from_text(text, w, sizeof(w)), -EINVAL);

	/* Output sizes: -ENOSPC below the length, nothing past outlen. */
	for (i = 0; i <= 20; i++) {
		memset(w, 0xee, sizeof(w));
		r = sc_dns_name_from_text("sip.example.com", w, i);
		ck_assert_int_eq(r, i < 17 ? -ENOSPC : 17);
		ck_assert_uint_eq(w[i], 0xee);
		if (i < 17) {
			/* nothing written at all */
			ck_assert_uint_eq(w[0], 0xee);
		}
	}
	/* invalid beats no room */
	ck_assert_int_eq(sc_dns_name_from_text("a..b", w, 2), -EINVAL);
}
END_TEST

/* Random strings over a nasty alphabet: exactly ns_name_pton's verdict
 * and bytes. */
START_TEST(test_from_text_random_agrees)
{
	static const char alpha[] = "ab.\\0129Z5";
	char text[400];
	unsigned char ours[SC_DNS_MAXNAME], theirs[1200];
	unsigned i, ok = 0;

	for (i = 0; i < 200000; i++) {
		unsigned len = rnd() % (i % 16 == 0 ? 300 : 24), k;
		int r, t;

		for (k = 0; k < len; k++) {
			/* long names need long runs of letters */
			text[k] = (i % 16 == 0 && rnd() % 8) ? 'x' : alpha[rnd() % (sizeof(alpha) - 1)];
		}
		text[len] = 0;
		r = sc_dns_name_from_text(text, ours, sizeof(ours));
		t = ns_name_pton(text, theirs, sizeof(theirs));
		if (t < 0) {
			require(r == -EINVAL, "\"%s\": ours %d, pton failed", text, r);
			continue;
		}
		require(r > 0, "\"%s\": ours %d, pton ok", text, r);
		require(memcmp(ours, theirs, (size_t)r) == 0, "\"%s\": bytes differ", text);
		ok++;
	}
	ck_assert_uint_gt(ok, 1000);
}
END_TEST

/* Our expansion equals dn_expand's on every name of every capture, and
 * the offset past it equals dn_expand's consumed length. */
START_TEST(test_expand_agrees_with_dn_expand)
{
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(fixtures); i++) {
		size_t off;
		unsigned names = 0;

		load_fixture((int)i);
		/* try every offset: where dn_expand and we both succeed, the
		 * text and length agree; where we succeed dn_expand does */
		for (off = 0; off < fx_len; off++) {
			unsigned char w[SC_DNS_MAXNAME];
			char ours[SC_DNS_MAXTEXT], dn[NS_MAXDNAME];
			size_t next = 0;
			int r, t;

			r = sc_dns_name_expand(fx_buf, fx_len, off, w, &next);
			t = dn_expand(fx_buf, fx_buf + fx_len, fx_buf + off, dn, sizeof(dn));
			if (r < 0) {
				continue;
			}
			require(t >= 0, "%s@%zu: dn_expand refuses", fixtures[i].name, off);
			require(next == off + (size_t)t, "%s@%zu: next", fixtures[i].name, off);
			require(sc_dns_name_to_text(w, ours, sizeof(ours)) >= 0, "to_text");
			/* dn_expand spells the root "" */
			require(strcmp(strcmp(ours, ".") == 0 ? "" : ours, dn) == 0,
				"%s@%zu: \"%s\" vs \"%s\"", fixtures[i].name, off, ours, dn);
			require(sc_dns_name_len(w) == (size_t)r, "name_len");
			names++;
		}
		ck_assert_uint_gt(names, 2);
	}
	/* NULL ret_next; offset at or past the end */
	{
		unsigned char w[SC_DNS_MAXNAME];

		load_fixture(0);
		ck_assert_int_eq(sc_dns_name_expand(fx_buf, fx_len, 12, w, NULL), 10);
		ck_assert_int_eq(sc_dns_name_expand(fx_buf, fx_len, fx_len, w, NULL), -EBADMSG);
		ck_assert_int_eq(sc_dns_name_expand(fx_buf, 12, 12, w, NULL), -EBADMSG);
	}
}
END_TEST

START_TEST(test_lower_equal_subdomain)
{
	unsigned char a[SC_DNS_MAXNAME], b[SC_DNS_MAXNAME], c[SC_DNS_MAXNAME];
	unsigned char x[SC_DNS_MAXNAME];
	size_t n;

	n = wire("Sip.EXAMPLE.com", a);
	wire("sip.example.com", b);
	ck_assert(sc_dns_name_equal(a, b));
	ck_assert(sc_dns_name_equal(b, a));
	ck_assert(memcmp(a, b, n) != 0);
	sc_dns_name_lower(a);
	ck_assert_mem_eq(a, b, n);

	/* only ASCII letters fold: '@' (0x40) vs '`' (0x60), 0xC1 vs 0xE1 */
	ck_assert(!sc_dns_name_equal((const unsigned char *)"\x01@", (const unsigned char *)"\x01`"));
	memcpy(x, "\x02\xc1[\x00", 4);
	sc_dns_name_lower(x);
	ck_assert_mem_eq(x, "\x02\xc1[\x00", 4);
	ck_assert(!sc_dns_name_equal((const unsigned char *)"\x01\xc1", (const unsigned char *)"\x01\xe1"));
	/* same text, different label split */
	wire("ab.c", a);
	memcpy(b, "\x01" "a" "\x02" "bc" "\x00", 6);
	ck_assert(!sc_dns_name_equal(a, b));
	/* prefix */
	wire("sip.example", a);
	wire("sip.example.com", b);
	ck_assert(!sc_dns_name_equal(a, b));
	ck_assert(!sc_dns_name_equal(b, a));

	wire("example.COM", c);
	ck_assert(sc_dns_name_is_subdomain(b, c));
	ck_assert(sc_dns_name_is_subdomain(c, c));
	ck_assert(!sc_dns_name_is_subdomain(c, b));
	wire(".", x);
	ck_assert(sc_dns_name_is_subdomain(b, x));
	ck_assert(sc_dns_name_is_subdomain(x, x));
	ck_assert(!sc_dns_name_is_subdomain(x, c));
	/* label-aligned only */
	wire("xexample.com", a);
	ck_assert(!sc_dns_name_is_subdomain(a, c));
	wire("sip.xexample.com", a);
	ck_assert(!sc_dns_name_is_subdomain(a, c));
	/* Not valid names (a 64th label starting at byte 254): never
	 * equal, not even to themselves, and nothing touched past the 255
	 * bytes a name may have (the blocks are exactly that big). */
	{
		unsigned char *l1 = calloc(1, 255), *l2 = calloc(1, 255);

		ck_assert_ptr_nonnull(l1);
		ck_assert_ptr_nonnull(l2);
		l1[0] = l1[64] = l1[128] = 63;
		l1[192] = 61;
		l1[254] = 63;
		memcpy(l2, l1, 255);
		ck_assert(!sc_dns_name_equal(l1, l2));
		ck_assert(!sc_dns_name_is_subdomain(l1, l2));
		sc_dns_name_lower(l1);
		free(l1);
		free(l2);
	}
	wire("e164.arpa", c);
	wire("4.3.2.1.E164.Arpa", a);
	ck_assert(sc_dns_name_is_subdomain(a, c));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Build                                                               */
/* ------------------------------------------------------------------ */

/* Our query is byte for byte res_mkquery's (ID aside, which it
 * randomises). */
START_TEST(test_build_query_matches_res_mkquery)
{
	static const struct {
		const char *name;
		uint16_t type;
	} q[] = {
		{ "sip.test", SC_T_NAPTR }, { "_sip._udp.example.com", SC_T_SRV },
		{ "a", SC_T_A }, { "MiXeD.CaSe.Org", SC_T_AAAA },
	};
	unsigned char ours[512], theirs[512], w[SC_DNS_MAXNAME];
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(q); i++) {
		int r, t;

		ck_assert_int_gt(sc_dns_name_from_text(q[i].name, w, sizeof(w)), 0);
		t = res_mkquery(QUERY, q[i].name, C_IN, q[i].type, NULL, 0, NULL,
				theirs, sizeof(theirs));
		ck_assert_int_gt(t, 0);
		r = sc_dns_build_query(ours, sizeof(ours), rd16(theirs), SC_DNS_RD, w,
				       q[i].type, SC_C_IN);
		ck_assert_int_eq(r, t);
		/* res_mkquery sets RD (RES_RECURSE) and maybe AD: compare the
		 * flags separately, then the rest */
		ck_assert_uint_eq(rd16(ours + 2), SC_DNS_RD);
		ck_assert_uint_eq(rd16(theirs + 2) & ~0x0020u, SC_DNS_RD);
		ck_assert_mem_eq(ours + 4, theirs + 4, (size_t)r - 4);
		ck_assert_mem_eq(ours, theirs, 2);
	}
}
END_TEST

START_TEST(test_build_query_sizes)
{
	unsigned char out[64], w[SC_DNS_MAXNAME];
	size_t sz;
	int n = (int)wire("sip.test", w);

	for (sz = 0; sz <= 12 + (size_t)n + 4; sz++) {
		int r;

		memset(out, 0x5a, sizeof(out));
		r = sc_dns_build_query(out, sz, 0x1234, 0, w, SC_T_A, SC_C_IN);
		if (sz < 12 + (size_t)n + 4) {
			ck_assert_int_eq(r, -EMSGSIZE);
			ck_assert_uint_eq(out[0], 0x5a);
		} else {
			ck_assert_int_eq(r, 12 + n + 4);
			ck_assert_int_eq(sc_dns_parse(out, (size_t)r, &msg), 0);
			ck_assert_uint_eq(msg.id, 0x1234);
			ck_assert_uint_eq(msg.flags, 0);
			ck_assert_uint_eq(msg.qtype, SC_T_A);
		}
		ck_assert_uint_eq(out[sz], 0x5a);
	}
	ck_assert_int_eq(sc_dns_build_query(out, sizeof(out), 1, 0,
					    (const unsigned char *)"\xc0\x0c", 1, 1), -EINVAL);
}
END_TEST

/* The hosts-file answer, written out by hand, byte for byte. */
START_TEST(test_build_answer_bytes)
{
	static const unsigned char a1[4] = { 192, 0, 2, 10 }, a2[4] = { 192, 0, 2, 11 };
	const struct sc_rdata rd[2] = { { a1, 4 }, { a2, 4 } };
	unsigned char out[128], w[SC_DNS_MAXNAME];
	size_t want;
	int r;

	wire("Proxy.sip.test", w);
	memset(out, 0x5a, sizeof(out));
	r = sc_dns_build_answer(out, sizeof(out), 0xbeef, 0, w, SC_T_A, SC_C_IN, 300, rd, 2);
	mb_hdr(&mbuf, 0xbeef, 0x8180, 1, 2, 0, 0);
	mb_question(&mbuf, "Proxy.sip.test", SC_T_A);
	mb_hex(&mbuf, "c00c" "0001" "0001" "0000012c" "0004" "c000020a");
	mb_hex(&mbuf, "c00c" "0001" "0001" "0000012c" "0004" "c000020b");
	want = mbuf.n;
	ck_assert_int_eq(r, (int)want);
	ck_assert_mem_eq(out, mbuf.b, want);
	ck_assert_uint_eq(out[want], 0x5a);
	ck_assert_int_eq(sc_dns_parse(out, want, &msg), 0);
	agree_with_libresolv(out, want, &msg);

	/* every size below fails without writing; the exact one works */
	for (size_t sz = 0; sz < want; sz++) {
		memset(out, 0x5a, sizeof(out));
		ck_assert_int_eq(sc_dns_build_answer(out, sz, 1, 0, w, SC_T_A, SC_C_IN,
						     300, rd, 2), -EMSGSIZE);
		ck_assert_uint_eq(out[0], 0x5a);
	}
	ck_assert_int_eq(sc_dns_build_answer(out, want, 0xbeef, 0, w, SC_T_A, SC_C_IN,
					     300, rd, 2), (int)want);

	/* a bad name, too many records: nothing written */
	memset(out, 0x5a, sizeof(out));
	ck_assert_int_eq(sc_dns_build_answer(out, sizeof(out), 1, 0,
					     (const unsigned char *)"\x01" "a" "\xc0\x0c", SC_T_A,
					     SC_C_IN, 300, rd, 2), -EINVAL);
	ck_assert_int_eq(sc_dns_build_answer(out, sizeof(out), 1, 0, w, SC_T_A, SC_C_IN,
					     300, rd, 65536), -EMSGSIZE);
	ck_assert_uint_eq(out[0], 0x5a);

	/* no records, rcode kept, with QR RD RA on top */
	r = sc_dns_build_answer(out, sizeof(out), 7, SC_RCODE_NXDOMAIN, w, SC_T_AAAA,
				SC_C_IN, 0, NULL, 0);
	ck_assert_int_eq(r, 12 + 16 + 4);
	ck_assert_int_eq(sc_dns_parse(out, (size_t)r, &msg), 0);
	ck_assert_uint_eq(msg.flags, 0x8183);
	ck_assert_uint_eq(msg.ancount, 0);
	ck_assert_uint_eq(msg.qtype, SC_T_AAAA);
}
END_TEST

START_TEST(test_build_answer_round_trip)
{
	static unsigned char out[70000];
	unsigned char w[SC_DNS_MAXNAME], addrs[40][16];
	struct sc_rdata rd[40];
	unsigned n, i;

	wire("_sip._udp.sip.test", w);
	for (n = 0; n <= 40; n += 13) {
		int r;

		for (i = 0; i < n; i++) {
			memset(addrs[i], (int)i, 16);
			rd[i].data = addrs[i];
			rd[i].len = 16;
		}
		r = sc_dns_build_answer(out, sizeof(out), (uint16_t)n, 0, w, SC_T_AAAA,
					SC_C_IN, 3600 + n, rd, n);
		ck_assert_int_gt(r, 0);
		ck_assert_int_eq(sc_dns_parse(out, (size_t)r, &msg), 0);
		ck_assert_uint_eq(msg.nrr, n);
		ck_assert_uint_eq(msg.qname_len, 20);
		for (i = 0; i < n; i++) {
			ck_assert_uint_eq(msg.rr[i].ttl, 3600 + n);
			ck_assert_uint_eq(msg.rr[i].rdlen, 16);
			ck_assert_uint_eq(msg.rr[i].name_off, 12 + 20 + 4 + 28 * i);
			ck_assert_mem_eq(out + msg.rr[i].rdata_off, addrs[i], 16);
		}
		agree_with_libresolv(out, (size_t)r, &msg);
	}
	/* beyond 65535 bytes */
	{
		static unsigned char blob[65535];

		rd[0].data = blob;
		rd[0].len = 65535;
		ck_assert_int_eq(sc_dns_build_answer(out, sizeof(out), 1, 0, w, 99, SC_C_IN,
						     1, rd, 1), -EMSGSIZE);
		rd[0].len = 65535 - 12 - 20 - 4 - 12;
		ck_assert_int_eq(sc_dns_build_answer(out, sizeof(out), 1, 0, w, 99, SC_C_IN,
						     1, rd, 1), 65535);
		ck_assert_int_eq(sc_dns_parse(out, 65535, &msg), 0);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* TTL offsets and rewrite                                             */
/* ------------------------------------------------------------------ */

/* TTL offsets as libresolv sees them (the field 6 bytes before RDATA),
 * OPT excluded. */
static unsigned libresolv_ttl_offsets(const unsigned char *buf, size_t len,
				      uint16_t *off)
{
	static const ns_sect sects[] = { ns_s_an, ns_s_ns, ns_s_ar };
	ns_msg h;
	unsigned n = 0, s;
	int k;

	ck_assert_int_eq(ns_initparse(buf, (int)len, &h), 0);
	for (s = 0; s < 3; s++) {
		for (k = 0; k < ns_msg_count(h, sects[s]); k++) {
			ns_rr r;

			ck_assert_int_eq(ns_parserr(&h, sects[s], k, &r), 0);
			if (ns_rr_type(r) != ns_t_opt) {
				off[n++] = (uint16_t)(ns_rr_rdata(r) - buf - 6);
			}
		}
	}
	return n;
}

START_TEST(test_ttl_offsets)
{
	uint16_t ours[64], theirs[64];
	int n;
	unsigned t;

	load_fixture(_i);
	ck_assert_int_eq(sc_dns_parse(fx_buf, fx_len, &msg), 0);
	t = libresolv_ttl_offsets(fx_buf, fx_len, theirs);
	memset(ours, 0xff, sizeof(ours));
	n = sc_dns_ttl_offsets(&msg, ours, 64);
	ck_assert_int_eq(n, (int)t);
	ck_assert_mem_eq(ours, theirs, t * sizeof(uint16_t));
	ck_assert_uint_eq(ours[t], 0xffff);
	if (t > 0) {
		ck_assert_int_eq(sc_dns_ttl_offsets(&msg, ours, t - 1), -E2BIG);
	}
	ck_assert_int_eq(sc_dns_ttl_offsets(&msg, ours, t), (int)t);
}
END_TEST

/* The caller's spelling of a name: same labels, case flipped at random. */
static void respell(unsigned char *w)
{
	size_t i = 0;

	while (w[i] != 0) {
		size_t l = w[i], j;

		for (j = 1; j <= l; j++) {
			unsigned char c = w[i + j];

			if (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && (rnd() & 1)) {
				w[i + j] = c ^ 0x20;
			}
		}
		i += 1 + l;
	}
}

/* The expected rewrite, built without sc_dns_rewrite nor our parser. */
static void expected_rewrite(const unsigned char *in, size_t len, uint16_t id,
			     const unsigned char *qname, size_t qlen, uint32_t cap,
			     unsigned char *out)
{
	uint16_t off[64];
	unsigned n, i;

	memcpy(out, in, len);
	out[0] = (unsigned char)(id >> 8);
	out[1] = (unsigned char)id;
	if (qname != NULL) {
		memcpy(out + 12, qname, qlen);
	}
	n = libresolv_ttl_offsets(in, len, off);
	for (i = 0; i < n; i++) {
		uint32_t ttl = rd32(in + off[i]);

		if (ttl > 0x7fffffffu) {
			ttl = 0;
		}
		if (ttl > cap) {
			ttl = cap;
		}
		out[off[i]] = (unsigned char)(ttl >> 24);
		out[off[i] + 1] = (unsigned char)(ttl >> 16);
		out[off[i] + 2] = (unsigned char)(ttl >> 8);
		out[off[i] + 3] = (unsigned char)ttl;
	}
}

START_TEST(test_rewrite_whole)
{
	static const uint32_t caps[] = { 0, 1, 299, 300, 301, 3599, 3600, 86400, UINT32_MAX };
	unsigned char stored[4096], out[4200], want[4096], qn[SC_DNS_MAXNAME];
	uint16_t offs[64];
	unsigned c;
	size_t qlen;

	load_fixture(_i);
	memcpy(stored, fx_buf, fx_len);
	ck_assert_int_eq(sc_dns_parse(stored, fx_len, &msg), 0);
	qlen = wire(fixtures[_i].qname, qn);
	respell(qn);
	for (c = 0; c < SC_ARRAY_SIZE(caps); c++) {
		struct sc_rewrite rw = { .id = (uint16_t)(0xa000 + c), .qname = qn,
					 .ttl_cap = caps[c], .ttl_off = offs };
		int n = sc_dns_ttl_offsets(&msg, offs, 64);

		ck_assert_int_ge(n, 0);
		rw.nttl = (unsigned)n;
		memset(out, 0x77, sizeof(out));
		ck_assert_uint_eq(sc_dns_rewrite(stored, fx_len, &rw, out, sizeof(out)), fx_len);
		expected_rewrite(stored, fx_len, rw.id, qn, qlen, caps[c], want);
		ck_assert_mem_eq(out, want, fx_len);
		ck_assert_uint_eq(out[fx_len], 0x77);
		/* the stored copy is untouched */
		ck_assert_mem_eq(stored, fx_buf, fx_len);
		/* and the result is still the same message */
		ck_assert_int_eq(sc_dns_parse(out, fx_len, &msg), 0);
		ck_assert_uint_eq(msg.id, rw.id);
		ck_assert_int_eq(sc_dns_parse(stored, fx_len, &msg), 0);
		/* in place gives the same bytes */
		memcpy(want, stored, fx_len);
		ck_assert_uint_eq(sc_dns_rewrite(want, fx_len, &rw, want, fx_len), fx_len);
		ck_assert_mem_eq(want, out, fx_len);
	}
}
END_TEST

/* A short buffer holds exactly the prefix of the full rewrite, whatever
 * its size, and nothing past it is written. */
START_TEST(test_rewrite_truncated)
{
	unsigned char full[4096], out[4200], qn[SC_DNS_MAXNAME];
	uint16_t offs[64];
	struct sc_rewrite rw = { .id = 0x5151, .qname = qn, .ttl_cap = 77, .ttl_off = offs };
	size_t sz;
	int n;

	load_fixture(_i);
	ck_assert_int_eq(sc_dns_parse(fx_buf, fx_len, &msg), 0);
	wire(fixtures[_i].qname, qn);
	respell(qn);
	n = sc_dns_ttl_offsets(&msg, offs, 64);
	ck_assert_int_ge(n, 0);
	rw.nttl = (unsigned)n;
	ck_assert_uint_eq(sc_dns_rewrite(fx_buf, fx_len, &rw, full, sizeof(full)), fx_len);
	for (sz = 0; sz <= fx_len + 2; sz++) {
		size_t w;

		memset(out, 0x33, sizeof(out));
		w = sc_dns_rewrite(fx_buf, fx_len, &rw, sz ? out : NULL, sz);
		ck_assert_uint_eq(w, sz < fx_len ? sz : fx_len);
		if (w > 0) {
			ck_assert_mem_eq(out, full, w);
		}
		ck_assert_uint_eq(out[w], 0x33);
		ck_assert_uint_eq(out[sz], 0x33);
	}
}
END_TEST

START_TEST(test_rewrite_ttl_rules)
{
	unsigned char out[256], w[SC_DNS_MAXNAME];
	uint16_t offs[8];
	struct sc_rewrite rw = { .id = 1, .qname = NULL, .ttl_cap = 1000, .ttl_off = offs };
	size_t len;
	unsigned i;

	/* TTLs: 0, 999, 1000, 1001, 0x7fffffff, 0x80000000, 0xffffffff */
	static const uint32_t ttl[] = { 0, 999, 1000, 1001, 0x7fffffffu, 0x80000000u, 0xffffffffu };
	static const uint32_t want[] = { 0, 999, 1000, 1000, 1000, 0, 0 };

	mb_hdr(&mbuf, 1, 0x8180, 1, SC_ARRAY_SIZE(ttl), 0, 1);
	mb_question(&mbuf, "sip.test", SC_T_A);
	for (i = 0; i < SC_ARRAY_SIZE(ttl); i++) {
		mb_ptr(&mbuf, 12);
		mb_rr(&mbuf, SC_T_A, SC_C_IN, ttl[i]);
		mb_hex(&mbuf, "c0000201");
		mb_rdend(&mbuf);
	}
	opt(&mbuf, "00", "");   /* EDNS flags 0x00008000 (DO): kept */
	len = mbuf.n;
	ck_assert_int_eq(parse(&mbuf), 0);
	ck_assert_int_eq(sc_dns_ttl_offsets(&msg, offs, 8), (int)SC_ARRAY_SIZE(ttl));
	rw.nttl = SC_ARRAY_SIZE(ttl);
	ck_assert_uint_eq(sc_dns_rewrite(mbuf.b, len, &rw, out, sizeof(out)), len);
	for (i = 0; i < SC_ARRAY_SIZE(ttl); i++) {
		ck_assert_uint_eq(rd32(out + offs[i]), want[i]);
	}
	/* the question is kept when qname is NULL, the OPT TTL always */
	ck_assert_mem_eq(out + 12, mbuf.b + 12, 10);
	ck_assert_uint_eq(rd32(out + msg.rr[SC_ARRAY_SIZE(ttl)].ttl_off), 0x8000);
	/* everything else byte for byte */
	for (i = 0; i < SC_ARRAY_SIZE(ttl); i++) {
		memcpy(out + offs[i], mbuf.b + offs[i], 4);
	}
	ck_assert_mem_eq(out + 2, mbuf.b + 2, len - 2);

	/* A name that is not the stored one, even of the same length, is
	 * not patched in (the cache key guarantees a match; a bug there
	 * must not turn this into an answer for another name). */
	wire("sip.tesu", w);
	rw.qname = w;
	sc_dns_rewrite(mbuf.b, len, &rw, out, sizeof(out));
	ck_assert_mem_eq(out + 12, mbuf.b + 12, 10);
	wire("SIP.TEST", w);
	sc_dns_rewrite(mbuf.b, len, &rw, out, sizeof(out));
	ck_assert_mem_eq(out + 12, w, 10);
	wire("sip.tes", w);       /* shorter */
	sc_dns_rewrite(mbuf.b, len, &rw, out, sizeof(out));
	ck_assert_mem_eq(out + 12, mbuf.b + 12, 10);
	wire("SIP.test.x", w);    /* longer */
	sc_dns_rewrite(mbuf.b, len, &rw, out, sizeof(out));
	ck_assert_mem_eq(out + 12, mbuf.b + 12, 10);

	/* no question in the stored message: nothing to respell, even if
	 * its first record's owner looks like the name */
	mb_hdr(&mbuf, 1, 0x8180, 0, 1, 0, 0);
	mb_name(&mbuf, "sip.test");
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 1);
	mb_hex(&mbuf, "c0000201");
	mb_rdend(&mbuf);
	ck_assert_int_eq(parse(&mbuf), 0);
	wire("SIP.TEST", w);
	rw.nttl = 0;
	ck_assert_uint_eq(sc_dns_rewrite(mbuf.b, mbuf.n, &rw, out, sizeof(out)), mbuf.n);
	ck_assert_mem_eq(out + 2, mbuf.b + 2, mbuf.n - 2);
	rw.nttl = SC_ARRAY_SIZE(ttl);

}
END_TEST

/* The question is respelled exactly when the two bytes are equal up to
 * ASCII case, for every pair of byte values, in every lane of the words
 * the comparison works in (a 10-byte label puts byte k at name offset
 * k + 1, message offset k + 13).  The other bytes differ in case between
 * the stored name and the caller's, 'Z' and 'A' among them, so that a
 * byte of one lane disturbing the next (a carry) shows. */
START_TEST(test_rewrite_qname_every_byte_pair)
{
	unsigned char stored[64], out[64], qn[16], orig_q[16];
	struct sc_rewrite rw = { .id = 0, .qname = qn, .ttl_cap = 0, .ttl_off = NULL, .nttl = 0 };
	unsigned k, c, d;
	size_t len;

	mb_hdr(&mbuf, 0, 0x8180, 1, 0, 0, 0);
	mb_question(&mbuf, "aZzAmMqQiZ", SC_T_A);
	len = mbuf.n;
	memcpy(stored, mbuf.b, len);
	wire("AzZaMmQqIz", orig_q);
	memcpy(qn, orig_q, 12);
	for (k = 0; k < 10; k++) {
		for (c = 0; c < 256; c++) {
			stored[13 + k] = (unsigned char)c;
			for (d = 0; d < 256; d++) {
				bool same = c == d || ((c ^ d) == 0x20 && (c | 0x20) >= 'a' &&
						       (c | 0x20) <= 'z');

				qn[1 + k] = (unsigned char)d;
				sc_dns_rewrite(stored, len, &rw, out, sizeof(out));
				require(memcmp(out + 12, same ? qn : stored + 12, 12) == 0,
					"byte %u: %02x vs %02x", k, c, d);
			}
		}
		stored[13 + k] = mbuf.b[13 + k];
		qn[1 + k] = orig_q[1 + k];
	}
}
END_TEST

/* A stored message cut short (in place, as the fuzz target does it):
 * whatever lies wholly inside is patched, the rest left alone, nothing
 * read past it. */
START_TEST(test_rewrite_stored_cut_short)
{
	unsigned char qn[SC_DNS_MAXNAME], *p;
	uint16_t offs[64];
	struct sc_rewrite rw = { .id = 0x9999, .qname = qn, .ttl_cap = 5, .ttl_off = offs };
	size_t k;
	int n;

	load_fixture(2);                        /* srv_tcp_edns */
	ck_assert_int_eq(sc_dns_parse(fx_buf, fx_len, &msg), 0);
	n = sc_dns_ttl_offsets(&msg, offs, 64);
	ck_assert_int_gt(n, 2);
	rw.nttl = (unsigned)n;
	wire("_SIP._TCP.SIP.TEST", qn);
	for (k = 13; k < fx_len; k++) {
		unsigned i;

		p = malloc(k);
		ck_assert_ptr_nonnull(p);
		memcpy(p, fx_buf, k);
		ck_assert_uint_eq(sc_dns_rewrite(p, k, &rw, p, k), k);
		require(p[0] == 0x99 && p[1] == 0x99, "id at %zu", k);
		/* the question only when all of it is there */
		require(memcmp(p + 12, k >= 32 ? qn : fx_buf + 12, k >= 32 ? 20 : k - 12) == 0,
			"question at %zu", k);
		for (i = 0; i < rw.nttl; i++) {
			if (offs[i] + 4u <= k) {
				require(rd32(p + offs[i]) == 5, "ttl %u at %zu", i, k);
			} else if (offs[i] < k) {
				require(memcmp(p + offs[i], fx_buf + offs[i], k - offs[i]) == 0,
					"cut ttl %u at %zu", i, k);
			}
		}
		free(p);
	}
}
END_TEST

/* Offsets whose 4 bytes do not lie inside the stored message are skipped
 * (the stored copy sits in a buffer of exactly its size: ASan sees any
 * read past it). */
START_TEST(test_rewrite_offsets_outside)
{
	uint16_t offs[5];
	struct sc_rewrite rw = { .id = 0x0102, .qname = NULL, .ttl_cap = 1000, .ttl_off = offs };
	unsigned char *stored, out[128];
	size_t len;

	mb_hdr(&mbuf, 0x0102, 0x8180, 1, 1, 0, 0);
	mb_question(&mbuf, "sip.test", SC_T_A);
	mb_ptr(&mbuf, 12);
	mb_rr(&mbuf, SC_T_A, SC_C_IN, 3600);
	mb_hex(&mbuf, "c0fe0201");
	mb_rdend(&mbuf);
	len = mbuf.n;
	stored = malloc(len);
	ck_assert_ptr_nonnull(stored);
	memcpy(stored, mbuf.b, len);
	offs[0] = (uint16_t)(len - 3);
	offs[1] = (uint16_t)(len - 1);
	offs[2] = (uint16_t)len;
	offs[3] = 60000;
	offs[4] = UINT16_MAX;
	rw.nttl = 5;
	memset(out, 0x44, sizeof(out));
	ck_assert_uint_eq(sc_dns_rewrite(stored, len, &rw, out, sizeof(out)), len);
	ck_assert_mem_eq(out, stored, len);
	ck_assert_uint_eq(out[len], 0x44);
	/* while the one real TTL is patched */
	offs[0] = (uint16_t)(len - 4 - 6);
	rw.nttl = 1;
	ck_assert_uint_eq(sc_dns_rewrite(stored, len, &rw, out, sizeof(out)), len);
	ck_assert_uint_eq(rd32(out + len - 10), 1000);
	free(stored);
}
END_TEST

/* ------------------------------------------------------------------ */

int main(void)
{
	Suite *s = suite_create("dns");
	TCase *tc;
	SRunner *sr;
	int failed, nfx = (int)SC_ARRAY_SIZE(fixtures);

	tc = tcase_create("parse_real");
	tcase_add_loop_test(tc, test_fixture_reads_as_zone, 0, nfx);
	tcase_add_loop_test(tc, test_fixture_prefixes_and_trailing, 0, nfx);
	tcase_add_loop_test(tc, test_fixture_mutations_agree, 0, nfx);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_names");
	tcase_add_test(tc, test_compression_chain_accepted);
	tcase_add_loop_test(tc, test_name_cases, 0, (int)SC_ARRAY_SIZE(name_cases));
	tcase_add_test(tc, test_pointer_into_header_reading_root);
	tcase_add_test(tc, test_forward_pointer_libresolv_accepts);
	tcase_add_test(tc, test_pointer_target_overlapping_name);
	tcase_add_loop_test(tc, test_pointer_chain_hops, 0, 2);
	tcase_add_test(tc, test_pointer_into_ttl_refused);
	tcase_add_test(tc, test_pointer_into_opaque_rdata_refused);
	tcase_add_test(tc, test_name_length_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_rdata");
	tcase_add_loop_test(tc, test_rdata_cases, 0, (int)SC_ARRAY_SIZE(rdata_cases));
	tcase_add_test(tc, test_rdata_truncated);
	tcase_add_test(tc, test_header_and_counts);
	tcase_add_test(tc, test_opt_rules);
	tcase_add_test(tc, test_too_many_records);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_to_text_every_byte);
	tcase_add_test(tc, test_to_text_random_agrees);
	tcase_add_test(tc, test_to_text_buffer_sizes);
	tcase_add_test(tc, test_to_text_invalid);
	tcase_add_loop_test(tc, test_from_text_cases, 0, (int)SC_ARRAY_SIZE(pton_cases));
	tcase_add_test(tc, test_from_text_limits);
	tcase_add_test(tc, test_from_text_random_agrees);
	tcase_add_test(tc, test_expand_agrees_with_dn_expand);
	tcase_add_test(tc, test_lower_equal_subdomain);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_add_test(tc, test_build_query_matches_res_mkquery);
	tcase_add_test(tc, test_build_query_sizes);
	tcase_add_test(tc, test_build_answer_bytes);
	tcase_add_test(tc, test_build_answer_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("rewrite");
	tcase_add_loop_test(tc, test_ttl_offsets, 0, nfx);
	tcase_add_loop_test(tc, test_rewrite_whole, 0, nfx);
	tcase_add_loop_test(tc, test_rewrite_truncated, 0, nfx);
	tcase_add_test(tc, test_rewrite_ttl_rules);
	tcase_add_test(tc, test_rewrite_offsets_outside);
	tcase_add_test(tc, test_rewrite_stored_cut_short);
	tcase_add_test(tc, test_rewrite_qname_every_byte_pair);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

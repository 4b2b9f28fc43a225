/*
 * check_sip.c - RFC 3263 target selection, ENUM and "serves"
 * (shim/sc_sip.c), through the real core.
 *
 * The core (sc_core_get) runs for real: configuration file, cache file,
 * stores and hits.  Only its upstream is replaced, by an in-process
 * server answering from tests/integration/zones/rfc3263.test.zone and
 * e164.arpa.zone (helpers/sip_zone.c, built on libresolv), the zones Knot
 * serves in tests/integration/test_sip_resolve.sh, which expects the same
 * lists.  Each test forks (CK_FORK), so each gets a core of its own.
 *
 * Whole results are compared as text: one line per target
 * ("TRANSPORT HOST PORT ADDRESS"), then the records that led there.
 *
 * With arguments, this binary is the integration tests' driver instead
 * (see main): the same functions against the system's resolver.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <check.h>
#include <errno.h>
#include <math.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../shim/sc.h"
#include "helpers/sip_zone.h"

static struct sipzone *zone;
static char dir[64];
static struct sc_core *core;
static struct sc_sip_result res;

static void setup(void)
{
	char a[512], b[512];
	const char *paths[2];

	paths[0] = sipzone_path("rfc3263.test.zone", a, sizeof(a));
	paths[1] = sipzone_path("e164.arpa.zone", b, sizeof(b));
	zone = sipzone_load(paths, 2);
	sipzone_use(zone);
	snprintf(dir, sizeof(dir), "/tmp/sc-sip-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	core = NULL;
}

static void teardown(void)
{
	char cmd[128];

	/* Each test is a child of its own (CK_FORK): nothing else to close. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	sipzone_free(zone);
}

/* The process's core, over a configuration of our own plus `extra'. */
static void core_up(const char *extra)
{
	static const struct sc_real real = {
		.res_nquery = sipzone_res_nquery,
		.res_query = sipzone_res_query,
	};
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sipcache.conf", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "cache_file = %s/cache.tdb\nhosts_order = never\nlog = off\n%s\n", dir,
		extra ? extra : "");
	fclose(f);
	ck_assert_int_eq(setenv("SIPCACHE_CONF", path, 1), 0);
	core = sc_core_get(&real);
	ck_assert_ptr_nonnull(core);
}

/* A result as text: targets, then the records they came from.  (No
 * ck_assert here: the driver uses it outside any test.) */
static const char *text(const struct sc_sip_result *r)
{
	static char out[16384];
	size_t o = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < r->n && o < sizeof(out) - 2048; i++) {
		char line[SC_DNS_MAXTEXT + 64];

		if (sc_sip_target_format(&r->t[i], line, sizeof(line)) < 0) {
			snprintf(line, sizeof(line), "(unprintable)");
		}
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", line);
		if (r->t[i].naptr) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, " [%u]", r->t[i].naptr);
		}
		if (r->t[i].srv) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, " [%u]", r->t[i].srv);
		}
		o += (size_t)snprintf(out + o, sizeof(out) - o, "\n");
	}
	for (i = 0; i < r->nvia && o < sizeof(out) - SC_SIP_VIALEN - 16; i++) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, "[%u] %s\n", i + 1, r->via[i]);
	}
	return out;
}

static int resolve(const char *uri)
{
	struct sc_rng rng;

	sc_rng_seed(&rng, 1);
	memset(&res, 0x5a, sizeof(res));
	return sc_sip_resolve(core, uri, NULL, &rng, &res);
}

/* ------------------------------------------------------------------ */
/* URIs                                                                */

START_TEST(test_uri_parse)
{
	static const struct {
		const char *uri;
		bool sips;
		const char *host;
		int family;
		unsigned port;
		int transport;
	} ok[] = {
		{ "sip:example.com", false, "example.com", AF_UNSPEC, 0, -1 },
		{ "SIP:Example.COM", false, "Example.COM", AF_UNSPEC, 0, -1 },
		{ "sips:alice@example.com:5071", true, "example.com", AF_UNSPEC, 5071, -1 },
		{ "sip:alice:secret@example.com;transport=TCP", false, "example.com", AF_UNSPEC, 0,
		  SC_SIP_TCP },
		{ "sips:example.com;transport=tcp", true, "example.com", AF_UNSPEC, 0, SC_SIP_TLS },
		{ "sips:example.com;transport=sctp", true, "example.com", AF_UNSPEC, 0, SC_SIP_TLS_SCTP },
		{ "sip:example.com;transport=tls", false, "example.com", AF_UNSPEC, 0, SC_SIP_TLS },
		{ "sip:example.com;lr;transport=udp;foo=bar", false, "example.com", AF_UNSPEC, 0,
		  SC_SIP_UDP },
		{ "sip:192.0.2.1", false, "192.0.2.1", AF_INET, 0, -1 },
		{ "sip:bob@192.0.2.1:5062", false, "192.0.2.1", AF_INET, 5062, -1 },
		{ "sip:[2001:db8::1]", false, "2001:db8::1", AF_INET6, 0, -1 },
		{ "sips:[2001:db8::1]:5071;transport=tcp", true, "2001:db8::1", AF_INET6, 5071,
		  SC_SIP_TLS },
		{ "sip:a@example.com;maddr=192.0.2.9", false, "192.0.2.9", AF_INET, 0, -1 },
		{ "sip:a@example.com:5070;maddr=proxy.example.net", false, "proxy.example.net",
		  AF_UNSPEC, 5070, -1 },
		{ "sip:example.com?subject=a@b", false, "example.com", AF_UNSPEC, 0, -1 },
		{ "sip:+15550100;phone-context=x@gw.example.com;user=phone", false,
		  "gw.example.com", AF_UNSPEC, 0, -1 },
	};
	static const char *const bad[] = {
		"", "example.com", "tel:+15550100", "http://example.com", "sip:", "sip:@example.com",
		"sip:example.com:", "sip:example.com:0", "sip:example.com:65536", "sip:example.com:50x",
		"sip:[2001:db8::1", "sip:[nothost]", "sip:[2001:db8::1]x", "sip:exa mple.com",
		"sips:example.com;transport=udp", "sip:example.com;transport=ws",
		"sip:example.com;maddr=", "sip:example.com;maddr=a:5060",
	};
	struct sc_sip_uri u;
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(ok); i++) {
		memset(&u, 0x5a, sizeof(u));
		ck_assert_msg(sc_sip_uri_parse(ok[i].uri, &u) == 0, "%s", ok[i].uri);
		ck_assert_msg(u.sips == ok[i].sips, "%s: sips", ok[i].uri);
		ck_assert_str_eq(u.host, ok[i].host);
		ck_assert_int_eq(u.family, ok[i].family);
		ck_assert_uint_eq(u.port, ok[i].port);
		ck_assert_msg(u.transport == ok[i].transport, "%s: transport %d", ok[i].uri,
			      u.transport);
	}
	for (i = 0; i < SC_ARRAY_SIZE(bad); i++) {
		ck_assert_msg(sc_sip_uri_parse(bad[i], &u) == -EINVAL, "%s accepted", bad[i]);
	}
	ck_assert_int_eq(sc_sip_uri_parse(NULL, &u), -EINVAL);
	inet_pton(AF_INET6, "2001:db8::1", &u);
	ck_assert_int_eq(sc_sip_uri_parse("sip:[2001:db8::1]", &u), 0);
	{
		unsigned char want[16];

		inet_pton(AF_INET6, "2001:db8::1", want);
		ck_assert_mem_eq(u.addr, want, 16);
	}
	ck_assert_str_eq(sc_sip_transport_name(SC_SIP_TLS_SCTP), "tls-sctp");
	ck_assert_str_eq(sc_sip_transport_name((enum sc_sip_transport)9), "?");
}
END_TEST

/* ------------------------------------------------------------------ */
/* RFC 3263                                                            */

/* RFC 3263 4.1's example: NAPTR order decides the transport. */
START_TEST(test_naptr_orders)
{
	core_up(NULL);
	ck_assert_int_eq(resolve("sip:rfc3263.test"), 6);
	ck_assert_str_eq(text(&res),
		"tls tls1.rfc3263.test 5061 192.0.2.5 [1] [2]\n"
		"tcp p1.rfc3263.test 5060 192.0.2.1 [3] [4]\n"
		"tcp p1.rfc3263.test 5060 2001:db8::1 [3] [4]\n"
		"udp p1.rfc3263.test 5060 192.0.2.1 [5] [6]\n"
		"udp p1.rfc3263.test 5060 2001:db8::1 [5] [6]\n"
		"udp p2.rfc3263.test 5060 192.0.2.2 [5] [7]\n"
		"[1] rfc3263.test NAPTR 50 50 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.rfc3263.test\n"
		"[2] _sips._tcp.rfc3263.test SRV 0 0 5061 tls1.rfc3263.test\n"
		"[3] rfc3263.test NAPTR 90 50 \"s\" \"SIP+D2T\" \"\" _sip._tcp.rfc3263.test\n"
		"[4] _sip._tcp.rfc3263.test SRV 0 0 5060 p1.rfc3263.test\n"
		"[5] rfc3263.test NAPTR 100 50 \"s\" \"SIP+D2U\" \"\" _sip._udp.rfc3263.test\n"
		"[6] _sip._udp.rfc3263.test SRV 10 0 5060 p1.rfc3263.test\n"
		"[7] _sip._udp.rfc3263.test SRV 20 0 5060 p2.rfc3263.test\n");
	/*
	 * Twelve lookups: one NAPTR, three SRV, A and AAAA of four targets
	 * (p1 twice).  Upstream, each question at most once: the cache
	 * answers the repeated ones (and, when the core stores related
	 * records, the addresses that came in the SRV answers).
	 */
	ck_assert_uint_eq(res.queries, 1 + 3 + 4 * 2);
	ck_assert_uint_eq(sipzone_count(zone, NULL, ns_t_naptr), 1);
	ck_assert_uint_eq(sipzone_count(zone, NULL, ns_t_srv), 3);
	ck_assert_uint_eq(sipzone_max(zone), 1);
	ck_assert_uint_le(sipzone_count(zone, NULL, 0), 1 + 3 + 3 * 2);
	/* Everything again: from the cache, nothing upstream. */
	sipzone_reset(zone);
	ck_assert_int_eq(resolve("sip:rfc3263.test"), 6);
	ck_assert_uint_eq(sipzone_count(zone, NULL, 0), 0);
	/* sips: only TLS. */
	ck_assert_int_eq(resolve("sips:bob@rfc3263.test"), 1);
	ck_assert_str_eq(text(&res),
		"tls tls1.rfc3263.test 5061 192.0.2.5 [1] [2]\n"
		"[1] rfc3263.test NAPTR 50 50 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.rfc3263.test\n"
		"[2] _sips._tcp.rfc3263.test SRV 0 0 5061 tls1.rfc3263.test\n");
}
END_TEST

/* Equal orders: the NAPTR preference; equal both: the client's. */
START_TEST(test_naptr_preferences)
{
	struct sc_sip_prefs p;
	struct sc_rng rng;

	core_up(NULL);
	ck_assert_int_eq(resolve("sip:eq.rfc3263.test"), 2);
	ck_assert_str_eq(text(&res),
		"tcp t.eq.rfc3263.test 5060 192.0.2.22 [1] [2]\n"
		"udp u.eq.rfc3263.test 5060 192.0.2.21 [3] [4]\n"
		"[1] eq.rfc3263.test NAPTR 10 10 \"s\" \"SIP+D2T\" \"\" _sip._tcp.eq.rfc3263.test\n"
		"[2] _sip._tcp.eq.rfc3263.test SRV 0 0 5060 t.eq.rfc3263.test\n"
		"[3] eq.rfc3263.test NAPTR 10 20 \"s\" \"SIP+D2U\" \"\" _sip._udp.eq.rfc3263.test\n"
		"[4] _sip._udp.eq.rfc3263.test SRV 0 0 5060 u.eq.rfc3263.test\n");
	/* Kamailio's defaults: udp 30, tcp 20, tls 10. */
	ck_assert_int_eq(resolve("sip:tie.rfc3263.test"), 3);
	ck_assert_str_eq(text(&res),
		"udp u.tie.rfc3263.test 5060 192.0.2.25 [1] [2]\n"
		"tcp t.tie.rfc3263.test 5060 192.0.2.24 [3] [4]\n"
		"tls s.tie.rfc3263.test 5061 192.0.2.23 [5] [6]\n"
		"[1] tie.rfc3263.test NAPTR 10 10 \"s\" \"SIP+D2U\" \"\" _sip._udp.tie.rfc3263.test\n"
		"[2] _sip._udp.tie.rfc3263.test SRV 0 0 5060 u.tie.rfc3263.test\n"
		"[3] tie.rfc3263.test NAPTR 10 10 \"s\" \"SIP+D2T\" \"\" _sip._tcp.tie.rfc3263.test\n"
		"[4] _sip._tcp.tie.rfc3263.test SRV 0 0 5060 t.tie.rfc3263.test\n"
		"[5] tie.rfc3263.test NAPTR 10 10 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.tie.rfc3263.test\n"
		"[6] _sips._tcp.tie.rfc3263.test SRV 0 0 5061 s.tie.rfc3263.test\n");
	/* The client's own preferences; a negative one is never used. */
	sc_sip_prefs_default(&p);
	p.pref[SC_SIP_TLS] = 50;
	p.pref[SC_SIP_UDP] = -1;
	sc_rng_seed(&rng, 1);
	ck_assert_int_eq(sc_sip_resolve(core, "sip:tie.rfc3263.test", &p, &rng, &res), 2);
	ck_assert_str_eq(res.t[0].host, "s.tie.rfc3263.test");
	ck_assert_str_eq(res.t[1].host, "t.tie.rfc3263.test");
	/* RFC order beats the client's preference (udp 30 > tcp 20)... */
	sc_sip_prefs_default(&p);
	ck_assert_int_eq(sc_sip_resolve(core, "sip:eq.rfc3263.test", &p, &rng, &res), 2);
	ck_assert_int_eq(res.t[0].transport, SC_SIP_TCP);
	/* ...unless told to ignore the RFC, as Kamailio's default is. */
	p.ignore_rfc = true;
	ck_assert_int_eq(sc_sip_resolve(core, "sip:eq.rfc3263.test", &p, &rng, &res), 2);
	ck_assert_int_eq(res.t[0].transport, SC_SIP_UDP);
	ck_assert_int_eq(res.t[1].transport, SC_SIP_TCP);
}
END_TEST

/* No NAPTR: an SRV query per transport, in the client's order; SRV
 * priorities and weights; an RFC 2782 draw per resolution. */
START_TEST(test_srv_fallback_and_weights)
{
	struct sc_rng rng;
	unsigned d, w3 = 0;

	core_up(NULL);
	ck_assert_int_eq(resolve("sip:srvonly.rfc3263.test"), 2);
	ck_assert_str_eq(text(&res),
		"udp s.srvonly.rfc3263.test 5060 192.0.2.41 [1]\n"
		"tcp s.srvonly.rfc3263.test 5070 192.0.2.41 [2]\n"
		"[1] _sip._udp.srvonly.rfc3263.test SRV 0 0 5060 s.srvonly.rfc3263.test\n"
		"[2] _sip._tcp.srvonly.rfc3263.test SRV 0 0 5070 s.srvonly.rfc3263.test\n");
	/* udp (30), tcp (20), sctp (20), tls (10): four SRV questions. */
	ck_assert_uint_eq(sipzone_count(zone, NULL, ns_t_srv), 4);
	ck_assert_uint_eq(sipzone_count(zone, "_sip._sctp.srvonly.rfc3263.test", ns_t_srv), 1);
	ck_assert_uint_eq(sipzone_count(zone, "_sips._sctp.srvonly.rfc3263.test", ns_t_srv), 0);

	ck_assert_int_eq(resolve("sip:weights.rfc3263.test"), 3);
	ck_assert_str_eq(res.t[2].host, "backup.weights.rfc3263.test");
	ck_assert(strcmp(res.t[0].host, "w1.weights.rfc3263.test") == 0 ||
		  strcmp(res.t[0].host, "w3.weights.rfc3263.test") == 0);
	ck_assert_str_ne(res.t[0].host, res.t[1].host);
	/* Weights 10:30, 2000 resolutions (from the cache): the 30 first
	 * 75% of the time; sigma 19.4, bound 5 sigma. */
	sc_rng_seed(&rng, 77);
	for (d = 0; d < 2000; d++) {
		ck_assert_int_eq(sc_sip_resolve(core, "sip:weights.rfc3263.test", NULL, &rng, &res), 3);
		w3 += strcmp(res.t[0].host, "w3.weights.rfc3263.test") == 0;
	}
	ck_assert_msg(fabs(w3 - 1500.0) <= 5 * sqrt(2000 * 0.75 * 0.25), "w3 first %u of 2000", w3);
}
END_TEST

/* Missing records, and when the A/AAAA of the domain is used. */
START_TEST(test_missing_records)
{
	core_up(NULL);
	/* Neither NAPTR nor SRV: the name's addresses, UDP 5060. */
	ck_assert_int_eq(resolve("sip:aonly.rfc3263.test"), 2);
	ck_assert_str_eq(text(&res),
		"udp aonly.rfc3263.test 5060 192.0.2.51\n"
		"udp aonly.rfc3263.test 5060 2001:db8::51\n");
	ck_assert_int_eq(resolve("sips:aonly.rfc3263.test"), 2);
	ck_assert_str_eq(text(&res),
		"tls aonly.rfc3263.test 5061 192.0.2.51\n"
		"tls aonly.rfc3263.test 5061 2001:db8::51\n");
	/* A NAPTR naming a missing SRV, then one naming an SRV that exists:
	 * the domain's own A is not used. */
	ck_assert_int_eq(resolve("sip:gone.rfc3263.test"), 1);
	ck_assert_str_eq(text(&res),
		"udp p2.rfc3263.test 5060 192.0.2.2 [1] [2]\n"
		"[1] gone.rfc3263.test NAPTR 20 10 \"s\" \"SIP+D2U\" \"\" _sip._udp.gone.rfc3263.test\n"
		"[2] _sip._udp.gone.rfc3263.test SRV 0 0 5060 p2.rfc3263.test\n");
	/* Only a missing SRV: no SRV RRset at all, so the A record. */
	ck_assert_int_eq(resolve("sip:lost.rfc3263.test"), 1);
	ck_assert_str_eq(text(&res), "udp lost.rfc3263.test 5060 192.0.2.61\n");
	/* Target ".": decidedly not available, and no A fallback. */
	ck_assert_int_eq(resolve("sip:closed.rfc3263.test"), -ENOENT);
	ck_assert_uint_eq(res.n, 0);
	ck_assert_uint_eq(sipzone_count(zone, "closed.rfc3263.test", ns_t_a), 0);
	/* A target without address is listed without; a CNAME is followed. */
	ck_assert_int_eq(resolve("sip:noaddr.rfc3263.test"), 2);
	ck_assert_str_eq(text(&res),
		"udp ghost.noaddr.rfc3263.test 5060 - [1]\n"
		"udp alias.noaddr.rfc3263.test 5062 192.0.2.2 [2]\n"
		"[1] _sip._udp.noaddr.rfc3263.test SRV 10 0 5060 ghost.noaddr.rfc3263.test\n"
		"[2] _sip._udp.noaddr.rfc3263.test SRV 20 0 5062 alias.noaddr.rfc3263.test\n");
	/* NAPTRs a SIP client must ignore: as if there were none. */
	ck_assert_int_eq(resolve("sip:odd.rfc3263.test"), 2);
	ck_assert_str_eq(text(&res),
		"udp p1.rfc3263.test 5060 192.0.2.1 [1]\n"
		"udp p1.rfc3263.test 5060 2001:db8::1 [1]\n"
		"[1] _sip._udp.odd.rfc3263.test SRV 0 0 5060 p1.rfc3263.test\n");
	/* sips: with only SIP NAPTRs: the TLS SRV. */
	ck_assert_int_eq(resolve("sips:sipsonly.rfc3263.test"), 1);
	ck_assert_str_eq(text(&res),
		"tls tls1.rfc3263.test 5061 192.0.2.5 [1]\n"
		"[1] _sips._tcp.sipsonly.rfc3263.test SRV 0 0 5061 tls1.rfc3263.test\n");
	/* Nothing at all. */
	ck_assert_int_eq(resolve("sip:nx.rfc3263.test"), -ENOENT);
	/* Outside every zone: REFUSED, a failure, not an answer. */
	ck_assert_int_eq(resolve("sip:example.com"), -EAGAIN);
}
END_TEST

/* Transport parameter, explicit port, numeric hosts, maddr. */
START_TEST(test_uri_shortcuts)
{
	core_up(NULL);
	ck_assert_int_eq(resolve("sip:explicit.rfc3263.test;transport=tcp"), 2);
	ck_assert_str_eq(text(&res),
		"tcp p1.rfc3263.test 5080 192.0.2.1 [1]\n"
		"tcp p1.rfc3263.test 5080 2001:db8::1 [1]\n"
		"[1] _sip._tcp.explicit.rfc3263.test SRV 0 0 5080 p1.rfc3263.test\n");
	ck_assert_uint_eq(sipzone_count(zone, NULL, ns_t_naptr), 0);
	/* A port: no NAPTR, no SRV. */
	sipzone_reset(zone);
	ck_assert_int_eq(resolve("sip:explicit.rfc3263.test:5070"), 1);
	ck_assert_str_eq(text(&res), "udp explicit.rfc3263.test 5070 192.0.2.91\n");
	ck_assert_uint_eq(sipzone_count(zone, NULL, ns_t_naptr) + sipzone_count(zone, NULL, ns_t_srv),
			  0);
	ck_assert_int_eq(resolve("sips:explicit.rfc3263.test:5070"), 1);
	ck_assert_str_eq(text(&res), "tls explicit.rfc3263.test 5070 192.0.2.91\n");
	/* sips over TCP without a TLS SRV: the name's address, 5061. */
	ck_assert_int_eq(resolve("sips:explicit.rfc3263.test;transport=tcp"), 1);
	ck_assert_str_eq(text(&res), "tls explicit.rfc3263.test 5061 192.0.2.91\n");
	/* Numeric: no DNS at all. */
	sipzone_reset(zone);
	ck_assert_int_eq(resolve("sip:192.0.2.7"), 1);
	ck_assert_str_eq(text(&res), "udp 192.0.2.7 5060 192.0.2.7\n");
	ck_assert_int_eq(resolve("sip:192.0.2.7;transport=sctp"), 1);
	ck_assert_str_eq(text(&res), "sctp 192.0.2.7 5060 192.0.2.7\n");
	ck_assert_int_eq(resolve("sips:[2001:db8::9]:5071"), 1);
	ck_assert_str_eq(text(&res), "tls 2001:db8::9 5071 2001:db8::9\n");
	ck_assert_int_eq(resolve("sip:alice@rfc3263.test;maddr=192.0.2.8"), 1);
	ck_assert_str_eq(text(&res), "udp 192.0.2.8 5060 192.0.2.8\n");
	ck_assert_uint_eq(sipzone_count(zone, NULL, 0), 0);
	ck_assert_uint_eq(res.queries, 0);
	ck_assert_int_eq(resolve("sip:"), -EINVAL);
}
END_TEST

/* The configured family: which address types, in which order. */
START_TEST(test_family_ipv6)
{
	core_up("family = ipv6");
	ck_assert_int_eq(resolve("sip:rfc3263.test"), 4);
	ck_assert_str_eq(text(&res),
		"tls tls1.rfc3263.test 5061 - [1] [2]\n"
		"tcp p1.rfc3263.test 5060 2001:db8::1 [3] [4]\n"
		"udp p1.rfc3263.test 5060 2001:db8::1 [5] [6]\n"
		"udp p2.rfc3263.test 5060 - [5] [7]\n"
		"[1] rfc3263.test NAPTR 50 50 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.rfc3263.test\n"
		"[2] _sips._tcp.rfc3263.test SRV 0 0 5061 tls1.rfc3263.test\n"
		"[3] rfc3263.test NAPTR 90 50 \"s\" \"SIP+D2T\" \"\" _sip._tcp.rfc3263.test\n"
		"[4] _sip._tcp.rfc3263.test SRV 0 0 5060 p1.rfc3263.test\n"
		"[5] rfc3263.test NAPTR 100 50 \"s\" \"SIP+D2U\" \"\" _sip._udp.rfc3263.test\n"
		"[6] _sip._udp.rfc3263.test SRV 10 0 5060 p1.rfc3263.test\n"
		"[7] _sip._udp.rfc3263.test SRV 20 0 5060 p2.rfc3263.test\n");
	ck_assert_uint_eq(sipzone_count(zone, NULL, ns_t_a), 0);
}
END_TEST

START_TEST(test_family_prefer_ipv6)
{
	core_up("family = prefer-ipv6");
	ck_assert_int_eq(resolve("sip:aonly.rfc3263.test"), 2);
	ck_assert_str_eq(text(&res),
		"udp aonly.rfc3263.test 5060 2001:db8::51\n"
		"udp aonly.rfc3263.test 5060 192.0.2.51\n");
}
END_TEST

/* A failing server: NAPTR SERVFAIL falls back to SRV; everything
 * failing is -EAGAIN, not "no such target". */
START_TEST(test_server_failures)
{
	core_up(NULL);
	sipzone_servfail(zone, "rfc3263.test", ns_t_naptr);
	ck_assert_int_eq(resolve("sip:rfc3263.test"), 6);
	ck_assert_str_eq(text(&res),
		"udp p1.rfc3263.test 5060 192.0.2.1 [1]\n"
		"udp p1.rfc3263.test 5060 2001:db8::1 [1]\n"
		"udp p2.rfc3263.test 5060 192.0.2.2 [2]\n"
		"tcp p1.rfc3263.test 5060 192.0.2.1 [3]\n"
		"tcp p1.rfc3263.test 5060 2001:db8::1 [3]\n"
		"tls tls1.rfc3263.test 5061 192.0.2.5 [4]\n"
		"[1] _sip._udp.rfc3263.test SRV 10 0 5060 p1.rfc3263.test\n"
		"[2] _sip._udp.rfc3263.test SRV 20 0 5060 p2.rfc3263.test\n"
		"[3] _sip._tcp.rfc3263.test SRV 0 0 5060 p1.rfc3263.test\n"
		"[4] _sips._tcp.rfc3263.test SRV 0 0 5061 tls1.rfc3263.test\n");
	sipzone_servfail(zone, "aonly.rfc3263.test", 0);
	ck_assert_int_eq(resolve("sip:aonly.rfc3263.test"), -EAGAIN);
	ck_assert_int_eq(resolve("sip:aonly.rfc3263.test:5060"), -EAGAIN);
}
END_TEST

/*
 * Marked targets stay listed, flagged, after the others.  The marks used
 * here are ones the core's hit path leaves alone (it drops marked SRV
 * targets while another remains, and marked addresses of A answers, but
 * an SRV answer whose only target is marked is kept, and an address mark
 * with a port says nothing about an A answer), so this shows what
 * sc_sip_resolve itself does.
 */
START_TEST(test_marks_in_resolve)
{
	int64_t now = sc_now();

	core_up(NULL);
	ck_assert_int_eq(sc_marks_down(sc_core_cache(core), "tls1.rfc3263.test:5061", 60, now), 0);
	ck_assert_int_eq(sc_marks_down(sc_core_cache(core), "192.0.2.1:5060", 60, now), 0);
	ck_assert_int_eq(resolve("sip:rfc3263.test"), 6);
	ck_assert_str_eq(text(&res),
		"tcp p1.rfc3263.test 5060 2001:db8::1 [3] [4]\n"
		"udp p1.rfc3263.test 5060 2001:db8::1 [5] [6]\n"
		"udp p2.rfc3263.test 5060 192.0.2.2 [5] [7]\n"
		"tls tls1.rfc3263.test 5061 192.0.2.5 down [1] [2]\n"
		"tcp p1.rfc3263.test 5060 192.0.2.1 down [3] [4]\n"
		"udp p1.rfc3263.test 5060 192.0.2.1 down [5] [6]\n"
		"[1] rfc3263.test NAPTR 50 50 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.rfc3263.test\n"
		"[2] _sips._tcp.rfc3263.test SRV 0 0 5061 tls1.rfc3263.test\n"
		"[3] rfc3263.test NAPTR 90 50 \"s\" \"SIP+D2T\" \"\" _sip._tcp.rfc3263.test\n"
		"[4] _sip._tcp.rfc3263.test SRV 0 0 5060 p1.rfc3263.test\n"
		"[5] rfc3263.test NAPTR 100 50 \"s\" \"SIP+D2U\" \"\" _sip._udp.rfc3263.test\n"
		"[6] _sip._udp.rfc3263.test SRV 10 0 5060 p1.rfc3263.test\n"
		"[7] _sip._udp.rfc3263.test SRV 20 0 5060 p2.rfc3263.test\n");
	/* A mark for another port does not apply. */
	ck_assert_int_eq(sc_marks_up(sc_core_cache(core), NULL, now), 0);
	ck_assert_int_eq(sc_marks_down(sc_core_cache(core), "tls1.rfc3263.test:5060", 60, now), 0);
	ck_assert_int_eq(resolve("sip:rfc3263.test"), 6);
	ck_assert(!res.t[0].down);
	ck_assert_str_eq(res.t[0].host, "tls1.rfc3263.test");
	/* Expired: nothing is marked any more. */
	ck_assert_int_eq(sc_marks_down(sc_core_cache(core), "192.0.2.2", 1, now - 5), 0);
	ck_assert_int_eq(resolve("sip:rfc3263.test"), 6);
	ck_assert_str_eq(res.t[5].host, "p2.rfc3263.test");
	ck_assert(!res.t[5].down);
}
END_TEST

/* ------------------------------------------------------------------ */
/* ENUM                                                                */

START_TEST(test_enum_domain)
{
	char out[256], aus[20];

	ck_assert_int_eq(sc_enum_domain("+1 (555) 010-0", NULL, out, sizeof(out), aus), 25);
	ck_assert_str_eq(out, "0.0.1.0.5.5.5.1.e164.arpa");
	ck_assert_str_eq(aus, "+15550100");
	ck_assert_int_gt(sc_enum_domain("+44.20.7946.0000", "e164.example.", out, sizeof(out), NULL),
			 0);
	ck_assert_str_eq(out, "0.0.0.0.6.4.9.7.0.2.4.4.e164.example");
	ck_assert_int_gt(sc_enum_domain("+123456789012345", NULL, out, sizeof(out), aus), 0);
	ck_assert_str_eq(aus, "+123456789012345");
	ck_assert_int_eq(sc_enum_domain("+1234567890123456", NULL, out, sizeof(out), aus), -EINVAL);
	ck_assert_int_eq(sc_enum_domain("5550100", NULL, out, sizeof(out), aus), -EINVAL);
	ck_assert_int_eq(sc_enum_domain("+", NULL, out, sizeof(out), aus), -EINVAL);
	ck_assert_int_eq(sc_enum_domain("++1", NULL, out, sizeof(out), aus), -EINVAL);
	ck_assert_int_eq(sc_enum_domain("+1+2", NULL, out, sizeof(out), aus), -EINVAL);
	ck_assert_int_eq(sc_enum_domain("+1x", NULL, out, sizeof(out), aus), -EINVAL);
	ck_assert_int_eq(sc_enum_domain("+15550100", NULL, out, 25, aus), -ENOSPC);
	ck_assert_int_eq(sc_enum_domain("+15550100", NULL, out, 26, aus), 25);
}
END_TEST

START_TEST(test_naptr_regexp)
{
	static const struct {
		const char *re, *subject, *out;
		int r;
	} cases[] = {
		{ "!^.*$!sip:info@sip.test!", "+15550100", "sip:info@sip.test", 17 },
		{ "!^\\+1(555)(.*)$!sip:\\2@\\1.example!", "+15550199", "sip:0199@555.example", 20 },
		{ "#^\\+(.*)$#sip:\\1@x;user=phone#", "+15550198", "sip:15550198@x;user=phone", 25 },
		/* an escaped delimiter in the ERE and in the replacement */
		{ "!^\\+1555(0197)$!sip:\\1\\!x@y!i", "+15550197", "sip:0197!x@y", 12 },
		{ "/^a\\/b(.)$/\\1\\//", "a/bc", "c/", 2 },
		/* case: only with the i flag */
		{ "/^ABC$/ok/i", "abc", "ok", 2 },
		{ "/^ABC$/ok/", "abc", NULL, -ENOENT },
		/* an optional group that did not take part: empty */
		{ "!^(a)?(b)$!<\\1|\\2>!", "b", "<|b>", 4 },
		/* \\ is a backslash */
		{ "!^(.*)$!a\\\\b!", "x", "a\\b", 3 },
		{ "!x!!", "x", "", 0 },
		/* malformed */
		{ "", "x", NULL, -EINVAL },
		{ "!a", "a", NULL, -EINVAL },
		{ "!abc", "a", NULL, -EINVAL },
		{ "!a!b", "a", NULL, -EINVAL },
		{ "!a!b!x", "a", NULL, -EINVAL },
		{ "!a!b!ii", "a", "b", 1 },
		{ "1a1b1", "a", NULL, -EINVAL },
		{ "iaibi", "a", NULL, -EINVAL },
		{ "\\a\\b\\", "a", NULL, -EINVAL },
		{ "!(!x!", "a", NULL, -EINVAL },
		{ "!^(a)$!\\2!", "a", NULL, -EINVAL },
		/* back references belong in the replacement only: in the ERE
		 * (a glibc extension) they would make matching exponential */
		{ "!^(a*)*\\1$!x!", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", NULL, -EINVAL },
		/* repetitions that would make regcomp build an exponential
		 * tree (found by fuzz_naptr: gigabytes) are refused... */
		{ "!8a++++++++++++++++++++++++++++++++++++++++!x!", "8aa", NULL, -EINVAL },
		{ "!((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)!x!", "a", NULL, -EINVAL },
		{ "!(a{200}){200}!x!", "a", NULL, -EINVAL },
		{ "!(a{2,}){2,}(b{3,9}){9}!x!", "a", NULL, -ENOENT },
		/* stacked repetitions (undefined in POSIX; a run of stars took
		 * regcomp seconds), or too many of them */
		{ "!a**!x!", "a", NULL, -EINVAL },
		{ "!E{4}*!x!", "EEEE", NULL, -EINVAL },
		{ "!a+?!x!", "a", NULL, -EINVAL },
		{ "!a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*!x!", "abc", "x", 1 },
		{ "!a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*q*!x!", "abc", NULL, -EINVAL },
		{ "!((((((((a*)*)*)*)*)*)*)*)!x!", "aa", "x", 1 },
		/* ...while real ENUM expressions stay far below the bound */
		{ "!^\\+1([0-9]{3})([0-9]{7})$!sip:\\2@\\1.example!", "+15550100123",
		  "sip:0100123@555.example", 23 },
		{ "!^\\+(([[:digit:]]{1,3})[0-9]+)$!tel:+\\1;cc=\\2!", "+4930", "tel:+4930;cc=493",
		  16 },
		{ "!^(a+)+$!x!", "aaaa", "x", 1 },
		/* anything but a plain interval after '{' is refused (found by
		 * fuzz_naptr: glibc reads "\\0" there as a digit) */
		{ "!a{!x!", "a{", NULL, -EINVAL },
		{ "!6{16\\065}!x!", "6", NULL, -EINVAL },
		{ "!a{,3}!x!", "a", "x", 1 },
		{ "!a{300}!x!", "a", NULL, -EINVAL },
		{ "!a\\{!x!", "a{", "x", 1 },
		/* copies of what matches the empty string (found by
		 * fuzz_naptr: "((){85}){3,}" took regcomp seconds) */
		{ "!((){85}){3,}!x!", "a", NULL, -EINVAL },
		{ "!((a?){85}){3}!x!", "a", NULL, -EINVAL },
		{ "!(a*)+!x!", "a", NULL, -EINVAL },
		{ "!((x|){5}!x!", "x", NULL, -EINVAL },
		{ "!(x|)+!x!", "x", NULL, -EINVAL },
		{ "!(a{0,3}b?){2}!x!", "a", NULL, -EINVAL },
		{ "!(a{0,3}b){2}!x!", "aabab", "x", 1 },
		{ "!((a){100}){7}!x!", "a", NULL, -ENOENT },
		{ "!((a){250}){7}!x!", "a", NULL, -EINVAL },
		{ "!(.*)(.*)(.*)!x!", "a", "x", 1 },
		{ "!^a$!x!", "b", NULL, -ENOENT },
	};
	char out[64];
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(cases); i++) {
		int r;

		memset(out, 0x5a, sizeof(out));
		r = sc_naptr_regexp(cases[i].re, strlen(cases[i].re), cases[i].subject, out,
				    sizeof(out));
		ck_assert_msg(r == cases[i].r, "%s on %s: %d, expected %d", cases[i].re,
			      cases[i].subject, r, cases[i].r);
		if (cases[i].out) {
			ck_assert_str_eq(out, cases[i].out);
		}
	}
	/* The length given is the length used: a NUL inside is refused. */
	ck_assert_int_eq(sc_naptr_regexp("!a!b!\0garbage", 5, "a", out, sizeof(out)), 1);
	ck_assert_int_eq(sc_naptr_regexp("!a\0!b!", 6, "a", out, sizeof(out)), -EINVAL);
	/* found by fuzz_naptr: an escaped NUL in the replacement */
	ck_assert_int_eq(sc_naptr_regexp("!^(a)?(b)$!<\\\0|\\2>!", 19, "b", out, sizeof(out)),
			 -EINVAL);
	ck_assert_int_eq(sc_naptr_regexp("!a\\\0!b!", 7, "a", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(sc_naptr_regexp("!^.*$!0123456789!", 17, "a", out, 10), -ENOSPC);
	ck_assert_int_eq(sc_naptr_regexp("!^.*$!0123456789!", 17, "a", out, 11), 10);
}
END_TEST

static const char *enum_text(const struct sc_enum_result *r)
{
	static char out[8192];
	size_t o = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < r->n && o < sizeof(out); i++) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%u %u %s %s %s\n", r->e[i].order,
				      r->e[i].pref, r->e[i].service, r->e[i].uri, r->e[i].domain);
	}
	return out;
}

START_TEST(test_enum)
{
	static struct sc_enum_result er;
	static const char *const both[] = { "e164.arpa", "e164.rfc3263.test." };

	core_up(NULL);
	ck_assert_int_eq(sc_sip_enum(core, "+1 555 0100", NULL, 0, NULL, 0, &er), 1);
	ck_assert_str_eq(er.aus, "+15550100");
	ck_assert_str_eq(enum_text(&er),
		"100 10 E2U+sip sip:info@sip.test 0.0.1.0.5.5.5.1.e164.arpa\n");
	/* Orders: the first order with a result ends it (RFC 3403)... */
	ck_assert_int_eq(sc_sip_enum(core, "+15550101", NULL, 0, "sip", 0, &er), 1);
	ck_assert_str_eq(enum_text(&er),
		"10 10 E2U+sip sip:0101@sip2.sip.test 1.0.1.0.5.5.5.1.e164.arpa\n");
	/* ...unless every order is asked for. */
	ck_assert_int_eq(sc_sip_enum(core, "+15550101", NULL, 0, "sip", SC_ENUM_ALL, &er), 2);
	ck_assert_str_eq(enum_text(&er),
		"10 10 E2U+sip sip:0101@sip2.sip.test 1.0.1.0.5.5.5.1.e164.arpa\n"
		"20 10 E2U+sip sip:0101@sip.test 1.0.1.0.5.5.5.1.e164.arpa\n");
	/* The second suffix, when the first has nothing; back references;
	 * a service filter. */
	sipzone_reset(zone);
	ck_assert_int_eq(sc_sip_enum(core, "+1-555-0199", both, 2, NULL, 0, &er), 2);
	ck_assert_str_eq(enum_text(&er),
		"10 10 E2U+sip sip:0199@555.rfc3263.test 9.9.1.0.5.5.5.1.e164.rfc3263.test\n"
		"10 20 E2U+email:mailto mailto:info@rfc3263.test 9.9.1.0.5.5.5.1.e164.rfc3263.test\n");
	ck_assert_uint_eq(sipzone_count(zone, "9.9.1.0.5.5.5.1.e164.arpa", ns_t_naptr), 1);
	ck_assert_int_eq(sc_sip_enum(core, "+1-555-0199", both, 2, "sip", 0, &er), 1);
	ck_assert_int_eq(sc_sip_enum(core, "+1-555-0199", both, 2, "mailto", 0, &er), -ENOENT);
	ck_assert_int_eq(sc_sip_enum(core, "+1-555-0199", both, 2, "email", 0, &er), 1);
	ck_assert_str_eq(er.e[0].uri, "mailto:info@rfc3263.test");
	/* Nothing asked twice: the cache answered. */
	ck_assert_uint_eq(sipzone_count(zone, NULL, ns_t_naptr), 2);
	/* A non-terminal rule to another domain. */
	ck_assert_int_eq(sc_sip_enum(core, "+15550198", both, 2, "sip", 0, &er), 1);
	ck_assert_str_eq(enum_text(&er),
		"10 10 E2U+sip sip:15550198@next.rfc3263.test;user=phone next.e164.rfc3263.test\n");
	/* Upper-case flag and service, an escaped delimiter. */
	ck_assert_int_eq(sc_sip_enum(core, "+15550197", both, 2, "sip", 0, &er), 1);
	ck_assert_str_eq(er.e[0].uri, "sip:0197!x@rfc3263.test");
	/* None, bad numbers. */
	ck_assert_int_eq(sc_sip_enum(core, "+15559999", both, 2, NULL, 0, &er), -ENOENT);
	ck_assert_int_eq(sc_sip_enum(core, "5550100", NULL, 0, NULL, 0, &er), -EINVAL);
	ck_assert_int_eq(sc_sip_enum(core, "+15550199", both, 1, NULL, 0, &er), -ENOENT);
}
END_TEST

/* ------------------------------------------------------------------ */
/* serves                                                              */

static void local_add(struct sc_sip_local *l, const char *addr, unsigned prefix, bool loopback)
{
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;

	l->a[l->n].family = fam;
	ck_assert_int_eq(inet_pton(fam, addr, l->a[l->n].addr), 1);
	l->a[l->n].prefix = prefix;
	l->a[l->n].loopback = loopback;
	l->n++;
}

START_TEST(test_is_local)
{
	struct sc_sip_local l = { .n = 0 };
	unsigned char a[16];

	local_add(&l, "127.0.0.1", 8, true);
	local_add(&l, "::1", 128, true);
	local_add(&l, "192.0.2.250", 24, false);
	local_add(&l, "2001:db8::250", 64, false);
	inet_pton(AF_INET, "127.0.0.81", a);
	ck_assert(sc_sip_is_local(&l, AF_INET, a));
	inet_pton(AF_INET, "128.0.0.1", a);
	ck_assert(!sc_sip_is_local(&l, AF_INET, a));
	inet_pton(AF_INET, "192.0.2.250", a);
	ck_assert(sc_sip_is_local(&l, AF_INET, a));
	/* Not a loopback interface: its neighbours are not us. */
	inet_pton(AF_INET, "192.0.2.251", a);
	ck_assert(!sc_sip_is_local(&l, AF_INET, a));
	inet_pton(AF_INET6, "::1", a);
	ck_assert(sc_sip_is_local(&l, AF_INET6, a));
	inet_pton(AF_INET6, "::2", a);
	ck_assert(!sc_sip_is_local(&l, AF_INET6, a));
	inet_pton(AF_INET6, "2001:db8::250", a);
	ck_assert(sc_sip_is_local(&l, AF_INET6, a));
	inet_pton(AF_INET6, "2001:db8::251", a);
	ck_assert(!sc_sip_is_local(&l, AF_INET6, a));
	ck_assert(!sc_sip_is_local(&l, AF_UNSPEC, a));
	/* An odd prefix length (a /9 loopback) is bit-exact. */
	l.n = 0;
	local_add(&l, "10.0.0.1", 9, true);
	inet_pton(AF_INET, "10.127.255.255", a);
	ck_assert(sc_sip_is_local(&l, AF_INET, a));
	inet_pton(AF_INET, "10.128.0.0", a);
	ck_assert(!sc_sip_is_local(&l, AF_INET, a));
}
END_TEST

/* This host: getifaddrs, loopback among them. */
START_TEST(test_local_addrs)
{
	struct sc_sip_local l;
	unsigned char a[4];
	unsigned i;
	bool lo = false;

	ck_assert_int_eq(sc_sip_local_addrs(&l), 0);
	for (i = 0; i < l.n; i++) {
		inet_pton(AF_INET, "127.0.0.1", a);
		if (l.a[i].family == AF_INET && memcmp(l.a[i].addr, a, 4) == 0) {
			lo = l.a[i].loopback && l.a[i].prefix == 8;
		}
	}
	ck_assert_msg(lo, "127.0.0.1/8 on a loopback interface");
	inet_pton(AF_INET, "127.0.0.81", a);
	ck_assert(sc_sip_is_local(&l, AF_INET, a));
}
END_TEST

START_TEST(test_serves)
{
	struct sc_sip_local l = { .n = 0 };
	unsigned i, nlocal = 0;

	core_up(NULL);
	local_add(&l, "127.0.0.1", 8, true);
	local_add(&l, "192.0.2.250", 24, false);
	/* After a resolution: nothing of it is left in the result. */
	ck_assert_int_eq(resolve("sip:rfc3263.test"), 6);
	ck_assert_int_eq(sc_sip_serves(core, "local.rfc3263.test", &l, &res), 1);
	ck_assert_str_eq(text(&res),
		"udp here.local.rfc3263.test 5060 127.0.0.81 [1]\n"
		"tcp p1.rfc3263.test 5060 192.0.2.1 [2]\n"
		"tcp p1.rfc3263.test 5060 2001:db8::1 [2]\n"
		"[1] _sip._udp.local.rfc3263.test SRV 0 0 5060 here.local.rfc3263.test\n"
		"[2] _sip._tcp.local.rfc3263.test SRV 0 0 5060 p1.rfc3263.test\n");
	for (i = 0; i < res.n; i++) {
		nlocal += res.t[i].local;
	}
	ck_assert_uint_eq(nlocal, 1);
	ck_assert(res.t[0].local);
	ck_assert_int_eq(sc_sip_serves(core, "remote.rfc3263.test", &l, &res), 0);
	ck_assert_uint_eq(res.n, 1);
	ck_assert(!res.t[0].local);
	/* Through the NAPTRs too: the SRV names they give count. */
	local_add(&l, "192.0.2.5", 32, false);
	ck_assert_int_eq(sc_sip_serves(core, "rfc3263.test", &l, &res), 1);
	for (i = 0, nlocal = 0; i < res.n; i++) {
		nlocal += res.t[i].local;
	}
	ck_assert_uint_eq(nlocal, 1);
	/* No SIP SRV at all: no. */
	ck_assert_int_eq(sc_sip_serves(core, "aonly.rfc3263.test", &l, &res), 0);
	ck_assert_uint_eq(res.n, 0);
	ck_assert_int_eq(sc_sip_serves(core, "", &l, &res), -EINVAL);
	/* This host's own addresses: 127.0.0.81 is on loopback's /8. */
	ck_assert_int_eq(sc_sip_serves(core, "local.rfc3263.test", NULL, &res), 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the integration tests' driver                                       */

/*
 *   check_sip resolve URI          the list, then the records, as text
 *   check_sip first URI N          N resolutions: "HOST COUNT" of the
 *                                  first target, by host
 *   check_sip enum NUMBER [SUFFIX...]
 *   check_sip serves DOMAIN        "yes" or "no", then the targets
 *   check_sip down TARGET SECONDS  a mark, as `sipcachectl down' sets it
 *   check_sip up TARGET
 * through the system's resolver and /etc/sipcache.conf, as sipcachectl
 * would.  Exit 0, 1 (nothing found, "no"), 2 (error).
 */
static int driver(int argc, char **argv)
{
	static const struct sc_real real = { .res_nquery = res_nquery, .res_query = res_query };
	static struct sc_sip_result r;
	static struct sc_enum_result er;
	struct sc_core *c;
	unsigned i;
	int n;

	c = sc_core_get(&real);
	if (c == NULL) {
		fprintf(stderr, "check_sip: no core (configuration or cache file)\n");
		return 2;
	}
	if (strcmp(argv[1], "resolve") == 0 && argc == 3) {
		n = sc_sip_resolve(c, argv[2], NULL, NULL, &r);
		if (n < 0) {
			fprintf(stderr, "check_sip: %s: %s\n", argv[2], strerror(-n));
			return n == -ENOENT ? 1 : 2;
		}
		fputs(text(&r), stdout);
		return 0;
	}
	if (strcmp(argv[1], "first") == 0 && argc == 4) {
		static char hosts[SC_SIP_MAXTARGETS][SC_DNS_MAXTEXT];
		static unsigned counts[SC_SIP_MAXTARGETS];
		unsigned nh = 0, k, d, times = (unsigned)atoi(argv[3]);

		for (d = 0; d < times; d++) {
			n = sc_sip_resolve(c, argv[2], NULL, NULL, &r);
			if (n <= 0) {
				return 2;
			}
			for (k = 0; k < nh && strcmp(hosts[k], r.t[0].host) != 0; k++) {
			}
			if (k == nh) {
				snprintf(hosts[nh++], sizeof(hosts[0]), "%s", r.t[0].host);
			}
			counts[k]++;
		}
		for (k = 0; k < nh; k++) {
			printf("%s %u\n", hosts[k], counts[k]);
		}
		return 0;
	}
	if (strcmp(argv[1], "enum") == 0 && argc >= 3) {
		n = sc_sip_enum(c, argv[2], (const char *const *)argv + 3, (unsigned)argc - 3, NULL, 0,
				&er);
		if (n < 0) {
			fprintf(stderr, "check_sip: %s: %s\n", argv[2], strerror(-n));
			return n == -ENOENT ? 1 : 2;
		}
		fputs(enum_text(&er), stdout);
		return 0;
	}
	if (strcmp(argv[1], "serves") == 0 && argc == 3) {
		n = sc_sip_serves(c, argv[2], NULL, &r);
		if (n < 0) {
			fprintf(stderr, "check_sip: %s: %s\n", argv[2], strerror(-n));
			return 2;
		}
		printf("%s\n", n ? "yes" : "no");
		for (i = 0; i < r.n; i++) {
			char line[SC_DNS_MAXTEXT + 64];

			sc_sip_target_format(&r.t[i], line, sizeof(line));
			printf("%s%s\n", line, r.t[i].local ? " local" : "");
		}
		return n ? 0 : 1;
	}
	if (strcmp(argv[1], "down") == 0 && argc == 4) {
		n = sc_marks_down(sc_core_cache(c), argv[2], (uint32_t)atoi(argv[3]), sc_now());
		return n < 0 ? 2 : 0;
	}
	if (strcmp(argv[1], "up") == 0 && argc == 3) {
		n = sc_marks_up(sc_core_cache(c), argv[2], sc_now());
		return n == -ENOENT ? 1 : n < 0 ? 2 : 0;
	}
	fprintf(stderr, "usage: check_sip [resolve URI | first URI N | enum NUMBER [SUFFIX...] | "
			"serves DOMAIN | down TARGET SECONDS | up TARGET]\n");
	return 2;
}

int main(int argc, char **argv)
{
	Suite *s = suite_create("sip");
	TCase *tc_text = tcase_create("text");
	TCase *tc_dns = tcase_create("dns");
	SRunner *sr;
	int failed;

	if (argc > 1) {
		return driver(argc, argv);
	}
	tcase_add_test(tc_text, test_uri_parse);
	tcase_add_test(tc_text, test_enum_domain);
	tcase_add_test(tc_text, test_naptr_regexp);
	tcase_add_test(tc_text, test_is_local);
	tcase_add_test(tc_text, test_local_addrs);
	suite_add_tcase(s, tc_text);

	tcase_add_checked_fixture(tc_dns, setup, teardown);
	tcase_set_timeout(tc_dns, 60);
	tcase_add_test(tc_dns, test_naptr_orders);
	tcase_add_test(tc_dns, test_naptr_preferences);
	tcase_add_test(tc_dns, test_srv_fallback_and_weights);
	tcase_add_test(tc_dns, test_missing_records);
	tcase_add_test(tc_dns, test_uri_shortcuts);
	tcase_add_test(tc_dns, test_family_ipv6);
	tcase_add_test(tc_dns, test_family_prefer_ipv6);
	tcase_add_test(tc_dns, test_server_failures);
	tcase_add_test(tc_dns, test_marks_in_resolve);
	tcase_add_test(tc_dns, test_enum);
	tcase_add_test(tc_dns, test_serves);
	suite_add_tcase(s, tc_dns);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* check_policy.c - what is cached and for how long (shim/sc_policy.c). */
#include <arpa/nameser.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../shim/sc.h"
#include "helpers/testmsg.h"

static const struct sc_ttl_limits lim_default = { .min_ttl = 0, .max_ttl = 86400, .negative_ttl = 60 };

static enum sc_verdict classify(const struct tmsg *t, const struct sc_ttl_limits *lim,
				uint32_t *life)
{
	static struct sc_msg m;

	ck_assert_int_eq(sc_dns_parse(t->buf, t->len, &m), 0);
	*life = 12345;   /* poison */
	return sc_policy_classify(&m, lim, life);
}

START_TEST(test_clamp_edges)
{
	ck_assert_uint_eq(sc_policy_ttl(5, 30, 3600), 30);
	ck_assert_uint_eq(sc_policy_ttl(30, 30, 3600), 30);
	ck_assert_uint_eq(sc_policy_ttl(3600, 30, 3600), 3600);
	ck_assert_uint_eq(sc_policy_ttl(3601, 30, 3600), 3600);
	ck_assert_uint_eq(sc_policy_ttl(0, 0, 86400), 0);
	ck_assert_uint_eq(sc_policy_ttl(UINT32_MAX, 0, 86400), 86400);
	ck_assert_uint_eq(sc_policy_ttl(UINT32_MAX, 0, UINT32_MAX), UINT32_MAX);
	/* RFC 2181 8: top bit set means zero. */
	ck_assert_uint_eq(sc_policy_rr_ttl(0x80000000u), 0);
	ck_assert_uint_eq(sc_policy_rr_ttl(0xffffffffu), 0);
	ck_assert_uint_eq(sc_policy_rr_ttl(0x7fffffffu), 0x7fffffffu);
}
END_TEST

START_TEST(test_positive_smallest_answer_ttl)
{
	struct tmsg t;
	uint32_t life;

	tmsg_begin(&t, 1, "_sip._udp.example.com", ns_t_srv, ns_r_noerror);
	tmsg_srv(&t, 0, "_sip._udp.example.com", 300, 10, 60, 5060, "a.example.com");
	tmsg_srv(&t, 0, "_sip._udp.example.com", 120, 10, 20, 5060, "b.example.com");
	/* Additional records do not bound the lifetime of the answer. */
	tmsg_a(&t, 2, "a.example.com", 5, "127.0.0.2");
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_POSITIVE);
	ck_assert_uint_eq(life, 120);
}
END_TEST

START_TEST(test_positive_clamped)
{
	struct tmsg t;
	struct sc_ttl_limits lim = { .min_ttl = 600, .max_ttl = 3600, .negative_ttl = 60 };
	uint32_t life;

	tmsg_begin(&t, 1, "a.example.com", ns_t_a, ns_r_noerror);
	tmsg_a(&t, 0, "a.example.com", 5, "127.0.0.2");
	ck_assert_int_eq(classify(&t, &lim, &life), SC_VERDICT_POSITIVE);
	ck_assert_uint_eq(life, 600);

	tmsg_begin(&t, 1, "a.example.com", ns_t_a, ns_r_noerror);
	tmsg_a(&t, 0, "a.example.com", 999999, "127.0.0.2");
	ck_assert_int_eq(classify(&t, &lim, &life), SC_VERDICT_POSITIVE);
	ck_assert_uint_eq(life, 3600);
}
END_TEST

START_TEST(test_ttl_zero_not_stored_unless_floor)
{
	struct tmsg t;
	struct sc_ttl_limits floor = { .min_ttl = 10, .max_ttl = 3600, .negative_ttl = 60 };
	uint32_t life;

	tmsg_begin(&t, 1, "a.example.com", ns_t_a, ns_r_noerror);
	tmsg_a(&t, 0, "a.example.com", 0, "127.0.0.2");
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NOSTORE);
	ck_assert_uint_eq(life, 0);
	ck_assert_int_eq(classify(&t, &floor, &life), SC_VERDICT_POSITIVE);
	ck_assert_uint_eq(life, 10);

	/* Top bit set: zero, not two billion seconds. */
	tmsg_begin(&t, 1, "a.example.com", ns_t_a, ns_r_noerror);
	tmsg_a(&t, 0, "a.example.com", 0x80000010u, "127.0.0.2");
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NOSTORE);
}
END_TEST

START_TEST(test_cname_chain_shortest_link)
{
	struct tmsg t;
	uint32_t life;

	tmsg_begin(&t, 1, "www.example.com", ns_t_a, ns_r_noerror);
	tmsg_cname(&t, 0, "www.example.com", 30, "host.example.com");
	tmsg_a(&t, 0, "host.example.com", 3600, "127.0.0.3");
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_POSITIVE);
	ck_assert_uint_eq(life, 30);
}
END_TEST

START_TEST(test_cname_without_target_type_is_bounded_by_soa)
{
	struct tmsg t;
	uint32_t life;

	tmsg_begin(&t, 1, "www.example.com", ns_t_aaaa, ns_r_noerror);
	tmsg_cname(&t, 0, "www.example.com", 3600, "host.example.com");
	tmsg_soa(&t, "example.com", 3600, 45);
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_POSITIVE);
	ck_assert_uint_eq(life, 45);

	/* Without an SOA there is nothing that says how long: not stored. */
	tmsg_begin(&t, 1, "www.example.com", ns_t_aaaa, ns_r_noerror);
	tmsg_cname(&t, 0, "www.example.com", 3600, "host.example.com");
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NOSTORE);
}
END_TEST

START_TEST(test_nxdomain_rfc2308)
{
	struct tmsg t;
	uint32_t life;

	/* min(SOA TTL, MINIMUM) = 30, under the cap of 60 */
	tmsg_begin(&t, 1, "nope.example.com", ns_t_naptr, ns_r_nxdomain);
	tmsg_soa(&t, "example.com", 30, 300);
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NXDOMAIN);
	ck_assert_uint_eq(life, 30);

	tmsg_begin(&t, 1, "nope.example.com", ns_t_naptr, ns_r_nxdomain);
	tmsg_soa(&t, "example.com", 3000, 20);
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NXDOMAIN);
	ck_assert_uint_eq(life, 20);

	/* capped by negative_ttl */
	tmsg_begin(&t, 1, "nope.example.com", ns_t_naptr, ns_r_nxdomain);
	tmsg_soa(&t, "example.com", 3000, 3000);
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NXDOMAIN);
	ck_assert_uint_eq(life, 60);
}
END_TEST

START_TEST(test_nodata)
{
	struct tmsg t;
	uint32_t life;

	tmsg_begin(&t, 1, "a.example.com", ns_t_aaaa, ns_r_noerror);
	tmsg_soa(&t, "example.com", 3600, 15);
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NODATA);
	ck_assert_uint_eq(life, 15);
}
END_TEST

START_TEST(test_negative_disabled_or_unproven)
{
	struct tmsg t;
	struct sc_ttl_limits off = { .min_ttl = 0, .max_ttl = 86400, .negative_ttl = 0 };
	uint32_t life;

	tmsg_begin(&t, 1, "nope.example.com", ns_t_a, ns_r_nxdomain);
	tmsg_soa(&t, "example.com", 30, 30);
	ck_assert_int_eq(classify(&t, &off, &life), SC_VERDICT_NOSTORE);

	/* No SOA (a referral looks like this too): not cached. */
	tmsg_begin(&t, 1, "nope.example.com", ns_t_a, ns_r_nxdomain);
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NOSTORE);

	/* An SOA of an unrelated zone proves nothing about the name. */
	tmsg_begin(&t, 1, "nope.example.com", ns_t_a, ns_r_nxdomain);
	tmsg_soa(&t, "attacker.net", 30, 30);
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NOSTORE);

	/* A child zone's SOA is not an ancestor either. */
	tmsg_begin(&t, 1, "example.com", ns_t_a, ns_r_nxdomain);
	tmsg_soa(&t, "sub.example.com", 30, 30);
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NOSTORE);
}
END_TEST

START_TEST(test_failures_never_cached)
{
	static const unsigned rcodes[] = { ns_r_servfail, ns_r_refused, ns_r_formerr,
					   ns_r_notimpl, 6, 9 };
	struct tmsg t;
	uint32_t life;
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(rcodes); i++) {
		tmsg_begin(&t, 1, "a.example.com", ns_t_a, rcodes[i]);
		tmsg_soa(&t, "example.com", 30, 30);
		ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NOSTORE);
	}
	/* Truncated: a partial RRset. */
	tmsg_begin(&t, 1, "a.example.com", ns_t_a, ns_r_noerror);
	tmsg_a(&t, 0, "a.example.com", 300, "127.0.0.2");
	tmsg_flags(&t, SC_DNS_TC);
	ck_assert_int_eq(classify(&t, &lim_default, &life), SC_VERDICT_NOSTORE);
}
END_TEST

START_TEST(test_remaining)
{
	int64_t stale;

	ck_assert_uint_eq(sc_policy_remaining(1000, 60, 1000, &stale), 60);
	ck_assert_uint_eq(sc_policy_remaining(1000, 60, 1059, &stale), 1);
	ck_assert_uint_eq(sc_policy_remaining(1000, 60, 1060, &stale), 0);
	ck_assert_int_eq(stale, 0);
	ck_assert_uint_eq(sc_policy_remaining(1000, 60, 1100, &stale), 0);
	ck_assert_int_eq(stale, 40);
	/* Clock stepped back: expired, and not counted as long stale. */
	stale = 77;
	ck_assert_uint_eq(sc_policy_remaining(1000, 60, 999, &stale), 0);
	ck_assert_int_eq(stale, 0);
	/* Far ends: no overflow. */
	ck_assert_uint_eq(sc_policy_remaining(INT64_MAX - 10, UINT32_MAX, INT64_MAX, &stale),
			  UINT32_MAX - 10);
	ck_assert_uint_eq(sc_policy_remaining(0, UINT32_MAX, INT64_MAX, &stale), 0);
	ck_assert_int_eq(stale, INT64_MAX - UINT32_MAX);
}
END_TEST

START_TEST(test_limits_per_suffix)
{
	static struct sc_conf c;
	struct sc_ttl_limits lim;
	unsigned char name[SC_DNS_MAXNAME];

	sc_conf_defaults(&c);
	c.npolicy = 1;
	ck_assert_int_gt(sc_dns_name_from_text("trunk.example", c.policy[0].suffix,
					       sizeof(c.policy[0].suffix)), 0);
	c.policy[0].min_ttl = 3600;
	c.policy[0].max_ttl = -1;
	c.policy[0].negative_ttl = 5;

	ck_assert_int_gt(sc_dns_name_from_text("SIP.Trunk.Example", name, sizeof(name)), 0);
	sc_policy_limits(&c, name, &lim);
	ck_assert_uint_eq(lim.min_ttl, 3600);
	ck_assert_uint_eq(lim.max_ttl, c.max_ttl);
	ck_assert_uint_eq(lim.negative_ttl, 5);

	ck_assert_int_gt(sc_dns_name_from_text("other.example", name, sizeof(name)), 0);
	sc_policy_limits(&c, name, &lim);
	ck_assert_uint_eq(lim.min_ttl, c.min_ttl);
	ck_assert_uint_eq(lim.negative_ttl, c.negative_ttl);

	/* A floor above the global ceiling does not invert the interval. */
	c.max_ttl = 60;
	ck_assert_int_gt(sc_dns_name_from_text("a.trunk.example", name, sizeof(name)), 0);
	sc_policy_limits(&c, name, &lim);
	ck_assert_uint_eq(lim.min_ttl, 60);
	ck_assert_uint_eq(lim.max_ttl, 60);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_clamp_edges);
	tcase_add_test(tc, test_positive_smallest_answer_ttl);
	tcase_add_test(tc, test_positive_clamped);
	tcase_add_test(tc, test_ttl_zero_not_stored_unless_floor);
	tcase_add_test(tc, test_cname_chain_shortest_link);
	tcase_add_test(tc, test_cname_without_target_type_is_bounded_by_soa);
	tcase_add_test(tc, test_nxdomain_rfc2308);
	tcase_add_test(tc, test_nodata);
	tcase_add_test(tc, test_negative_disabled_or_unproven);
	tcase_add_test(tc, test_failures_never_cached);
	tcase_add_test(tc, test_remaining);
	tcase_add_test(tc, test_limits_per_suffix);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

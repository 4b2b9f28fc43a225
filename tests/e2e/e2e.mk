# tests/e2e/e2e.mk - included by the top Makefile.
#
#   make check-e2e        end-to-end tests: a real Kamailio relaying real SIP
#                         traffic under this build's preload (root)
#   make demo             Kamailio with and without sipcache, side by side:
#                         installs what is missing, builds, shows, cleans up
#   make bench-kamailio   Kamailio throughput and DNS queries per request:
#                         no cache, Kamailio's own cache, sipcache
#                         (bench/kamailio/RESULTS.md)
#
# All three run as root: they create private namespaces
# (tests/lib/world.sh), install Debian packages when missing (kamailio,
# sip-tester, knot, unbound) and start every server themselves, by pid.

E2E_TESTS = $(sort $(wildcard tests/e2e/test_*.sh))
# Each test is bounded (tests/run-integration kills it after this many
# seconds); the longest takes about a minute on an idle machine.
E2E_TIMEOUT ?= 300

# The same runner as the integration tests: PASS/FAIL/SKIP per test, a
# failed test's output and the logs of its world, exit status 1 on failure.
check-e2e: all
	O=$(O) SIPCACHE_TEST_TIMEOUT=$(E2E_TIMEOUT) tests/run-integration $(E2E_TESTS)

# The demo builds by itself, after installing what the build needs.
demo:
	@O=$(O) tests/e2e/demo.sh

bench-kamailio: all
	O=$(O) bench/kamailio/run

.PHONY: check-e2e demo bench-kamailio

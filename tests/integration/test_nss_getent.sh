#!/bin/bash
# test_nss_getent.sh - libnss_sipcache.so.2 installed where glibc looks for
# NSS modules, `hosts: files sipcache [NOTFOUND=return] dns', against Knot:
#
#  - getent hosts / ahosts / ahostsv4 / ahostsv6 (gethostbyname2,
#    gethostbyaddr, getaddrinfo) print exactly what they print with
#    `hosts: files dns', for every kind of name of the zone, reverse
#    names and a 40-address answer that only fits over TCP;
#  - the second time, from other processes, no query reaches Knot;
#  - negative answers are NOTFOUND (exit status 2, `dns' not asked) and
#    cached;
#  - with the cache file unusable (its directory writable by all), the
#    module answers UNAVAIL and `dns' answers, uncached, with one log line.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"

module=$WORLD_BUILD/nss/libnss_sipcache.so.2
[ -e "$module" ] || world_fail "$module missing: build it first (make all)"
if nm -D "$module" | grep -q __asan_init; then
	world_skip "the module is built with sanitizers; getent cannot load it"
fi
libdir=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

world_begin nss_getent
# The fixture's negative TTL (5 s) would expire during a round of
# lookups: here negative answers live 10 minutes (SOA TTL and MINIMUM),
# within negative_ttl.
sed -e 's/^@\t\t60\tSOA/@\t\t600\tSOA/' -e 's/^\t\t\t\t5 )  /\t\t\t\t600 )/' \
	"$WORLD_ZONES/sip.test.zone" >"$WORLD_DIR/sip.test.zone"
grep -q '600 )' "$WORLD_DIR/sip.test.zone" || world_fail "could not raise the negative TTL"
sed -e 's/ 86400 5$/ 86400 600/' -e 's/^@\t60\tSOA/@\t600\tSOA/' \
	"$WORLD_ZONES/0.0.127.in-addr.arpa.zone" >"$WORLD_DIR/0.0.127.in-addr.arpa.zone"
grep -q ' 86400 600$' "$WORLD_DIR/0.0.127.in-addr.arpa.zone" ||
	world_fail "could not raise the reverse zone's negative TTL"
world_zone "$WORLD_DIR/sip.test.zone"
world_zone "$WORLD_DIR/0.0.127.in-addr.arpa.zone"
world_dns_start
world_sipcache_conf "negative_ttl = 600"
# Addresses beyond loopback, so that AI_ADDRCONFIG lets ahostsv4 and
# ahostsv6 ask (README: with loopback only they fail without a query).
world_addrconfig inet inet6
# The module where glibc's dlopen("libnss_sipcache.so.2") finds it.
world_overlay "$libdir"
world_run install -m 0644 "$module" "$libdir/libnss_sipcache.so.2"
world_hosts "127.0.0.1 localhost" "127.0.1.1 world" "::1 localhost ip6-localhost" \
	"127.0.0.99 hostsonly.sip.test hostsonly"

# Every lookup, as `getent ...' arguments, one per line.
lookups='hosts sip1.sip.test
hosts sip2.sip.test
hosts SIP1.Sip.Test
hosts alias.sip.test
hosts multi.sip.test
hosts v4only.sip.test
hosts v6only.sip.test
hosts x.wild.sip.test
hosts big.sip.test
hosts nx.sip.test
hosts hostsonly.sip.test
hosts localhost
hosts 127.0.0.11
hosts 127.0.0.13
hosts 127.0.0.200
hosts ::1
ahosts sip1.sip.test
ahosts alias.sip.test
ahosts multi.sip.test
ahosts big.sip.test
ahosts v6only.sip.test
ahosts nx.sip.test
ahosts hostsonly
ahostsv4 sip1.sip.test
ahostsv4 alias.sip.test
ahostsv4 v6only.sip.test
ahostsv6 sip1.sip.test
ahostsv6 v4only.sip.test
ahostsv6 alias.sip.test'

# All of them; for each its output, then its exit status.
run_all() {
	local args out st
	while read -r args; do
		echo "== getent $args"
		st=0
		# shellcheck disable=SC2086 # the words of one lookup
		out=$(world_run getent $args) || st=$?
		if [ -n "$out" ]; then
			printf '%s\n' "$out" | world_squeeze
		fi
		echo "exit status $st"
	done <<<"$lookups"
}

# --- without the module -------------------------------------------------------------
world_nsswitch_hosts files dns
expected=$(run_all)
world_log "with files dns: $(world_dns_count) queries"
world_assert_match '^127\.0\.1\.40 ' "$expected" "big.sip.test over TCP"
world_assert_match '^exit status 2$' "$expected" "a lookup that fails"

# --- with it --------------------------------------------------------------------------
world_nsswitch_hosts files sipcache '[NOTFOUND=return]' dns
world_dns_reset
world_assert_eq "$expected" "$(run_all)" "getent with the module (cache empty)"
first=$(world_dns_count)
world_log "with the module, empty cache: $first queries"
[ "$first" -gt 0 ] || world_fail "the first round sent no query"
[ -s "$WORLD_DIR/cache/cache.tdb" ] || world_fail "no cache file was made"

world_dns_reset
world_assert_eq "$expected" "$(run_all)" "getent with the module (cache full)"
world_dns_assert_count 0 "" "queries of the second round (other processes, all cached)"

# A referral (no SOA, so no negative TTL: RFC 2308 section 5) is not
# cached: asked each time, answered as `dns' would.
# (No AA, no RA: libresolv takes it for a lame server and asks again,
# each attempt, each type.)
world_nsswitch_hosts files dns
world_dns_reset
world_assert_status 2 world_run getent hosts away.sip.test
n_away=$(world_dns_count)
world_nsswitch_hosts files sipcache '[!UNAVAIL=return]' dns
for round in 1 2; do
	world_dns_reset
	world_assert_status 2 world_run getent hosts away.sip.test
	world_dns_assert_count "$n_away" "" "queries for a referral, round $round"
done
# The module says TRYAGAIN (no server gave an answer): `[NOTFOUND=return]'
# goes on to `dns', which asks the same again (docs/nss.md).
world_nsswitch_hosts files sipcache '[NOTFOUND=return]' dns
world_dns_reset
world_assert_status 2 world_run getent hosts away.sip.test
world_dns_assert_count "$((2 * n_away))" "" "queries for a referral, sipcache then dns"

# Negative answers: NOTFOUND returns (exit 2) without asking `dns'.
world_dns_reset
world_assert_status 2 world_run getent hosts fresh-nx.sip.test
# AAAA then A (gethostbyname2 for each family), nothing from `dns'.
world_dns_assert_count 2 "" "queries of a new NXDOMAIN"
world_assert_status 2 world_run getent ahosts fresh-nx.sip.test
world_assert_status 2 world_run getent hosts fresh-nx.sip.test
world_dns_assert_count 2 "" "queries after the NXDOMAIN was cached"
world_assert_eq 2 "$(world_dns_counter 'response-code[NXDOMAIN]')" "NXDOMAIN answers"

# A record changed on the server: the cache still answers the old one.
world_dns_set sip.test. sip2 300 A 127.0.0.99
world_assert_eq "127.0.0.12 sip2.sip.test" \
	"$(world_run getent hosts sip2.sip.test | world_squeeze)" "cached answer after a change"
world_dns_unset sip.test. sip2 A
world_dns_set sip.test. sip2 300 A 127.0.0.12

# --- the cache unusable: UNAVAIL, `dns' answers ------------------------------------------
chmod 0777 "$WORLD_DIR/cache"
world_dns_reset
out=$(world_run getent ahosts sip1.sip.test 2>"$WORLD_LOGS/unavail.err" | world_squeeze)
world_assert_eq "$(printf '%s\n' "$expected" |
	sed -n '/^== getent ahosts sip1.sip.test$/,/^exit status/p' | sed '1d;$d')" "$out" \
	"getent ahosts with the cache unusable"
world_dns_assert_count 2 "" "queries with the cache unusable (dns asked)"
world_assert_match 'uncached' "$(cat "$WORLD_LOGS/unavail.err")" "the log line"
world_dns_reset
world_run getent ahosts sip1.sip.test >/dev/null 2>&1
world_dns_assert_count 2 "" "queries with the cache unusable, again"
chmod 0755 "$WORLD_DIR/cache"

# Back to normal: cached again.
world_dns_reset
world_assert_eq "$expected" "$(run_all)" "getent with the cache usable again"
world_dns_assert_count 0

world_end
echo "PASS: test_nss_getent"

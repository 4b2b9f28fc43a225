#!/bin/bash
# shellcheck disable=SC2054 # commas belong to arguments (NAME,DOMAIN; flag lists)
# test_preload_cache.sh - what the cache does, seen through the preload
# and counted at the server:
#   1. NXDOMAIN and NODATA are cached for their negative lifetime (the
#      zone's 5 s, or negative_ttl when lower), then asked again;
#   2. positive answers expire with their TTL (short.sip.test: 2 s), and
#      min_ttl / max_ttl clamp that lifetime;
#   3. serve-stale: with the server stopped, an expired answer is served
#      (TTL 30) while serve_stale allows; without one, or with
#      serve_stale = 0, the caller gets exactly glibc's failure, for a
#      stopped server (refused at once) and a frozen one (timeout);
#   4. the hosts file answers res_query A/AAAA in nsswitch's order
#      (hosts_in_res_query), and not at all when that is off;
#   5. `nameserver = 127.0.0.1:5353' sends misses to a server on another
#      port than resolv.conf's;
#   6. SIPCACHE_DISABLE=1: preloaded but a pure pass-through, nothing
#      written.
# Each configuration is a file of its own (SIPCACHE_CONF) with its own
# cache file, so that one part cannot see another's entries.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"

# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"
RES=$WORLD_BUILD/tests/progs/preload_res
[ -e "$RES" ] || world_fail "$RES missing: build with make progs"

world_begin preload_cache
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start

# conf NAME LINE...: a configuration with a cache of its own.
conf() {
	local name=$1
	shift
	{
		echo "cache_file = $WORLD_DIR/cache/$name.tdb"
		echo "log = stderr"
		echo "prefetch = no"   # the counts here are of the questions asked
		printf '%s\n' "$@"
	} >"$WORLD_DIR/$name.conf"
}
# pre NAME ARGS...: preload_res under configuration NAME.
pre() {
	local name=$1
	shift
	world_run env SIPCACHE_CONF="$WORLD_DIR/$name.conf" "${PRELOAD_VARS[@]}" "$RES" "$@"
}
plain() { world_run "$RES" "$@"; }
# asks N WHAT CONF ARGS...: the run sends exactly N queries.
asks() {
	local n=$1 what=$2
	shift 2
	world_dns_reset
	pre "$@" >/dev/null
	world_dns_assert_count "$n" "" "$what"
}

# --- 1. negative caching ----------------------------------------------------------

conf neg
asks 2 "NXDOMAIN and NODATA, first time" neg res_query nx.sip.test A res_query v4only.sip.test AAAA
asks 0 "NXDOMAIN and NODATA within 5 s" neg res_query nx.sip.test A res_query v4only.sip.test AAAA
world_assert_eq "$(plain res_query nx.sip.test A res_query v4only.sip.test AAAA)" \
	"$(pre neg res_query nx.sip.test A res_query v4only.sip.test AAAA)" "negative hits as glibc answers"
sleep 6
asks 2 "NXDOMAIN and NODATA after 6 s" neg res_query nx.sip.test A res_query v4only.sip.test AAAA

# (Lifetimes count in whole seconds of the wall clock: a lifetime of 2
# is at least one full second, enough for "at once".)
conf negcap "negative_ttl = 2"
asks 1 "NXDOMAIN, negative_ttl 2" negcap res_query nx.sip.test A
asks 0 "NXDOMAIN, negative_ttl 2, at once" negcap res_query nx.sip.test A
sleep 3
asks 1 "NXDOMAIN, negative_ttl 2, after 3 s" negcap res_query nx.sip.test A

conf negoff "negative_ttl = 0"
asks 1 "NXDOMAIN, negative_ttl 0" negoff res_query nx.sip.test A
asks 1 "NXDOMAIN, negative_ttl 0, again" negoff res_query nx.sip.test A

# --- 2. expiry and clamping --------------------------------------------------------------

conf ttl
asks 1 "short.sip.test (TTL 2)" ttl res_query short.sip.test A
asks 0 "short.sip.test within its TTL" ttl res_query short.sip.test A
sleep 3
asks 1 "short.sip.test after 3 s" ttl res_query short.sip.test A

conf minttl "min_ttl = 10"
asks 1 "short.sip.test, min_ttl 10" minttl res_query short.sip.test A
sleep 3
asks 0 "short.sip.test, min_ttl 10, after 3 s" minttl res_query short.sip.test A
# The record's own TTL is what the caller sees (never more than stored).
world_assert_match '^ an short.sip.test. [0-2] IN A 127.0.0.41$' \
	"$(pre minttl -t res_query short.sip.test A)" "TTL served for a clamped entry"

conf maxttl "max_ttl = 2"
asks 1 "sip1.sip.test (TTL 300), max_ttl 2" maxttl res_query sip1.sip.test A
asks 0 "sip1.sip.test, max_ttl 2, at once" maxttl res_query sip1.sip.test A
sleep 3
asks 1 "sip1.sip.test, max_ttl 2, after 3 s" maxttl res_query sip1.sip.test A

conf policy "policy = sip.test max_ttl=1"
asks 1 "per-domain policy" policy res_query sip2.sip.test A
sleep 2
asks 1 "per-domain policy, after 2 s" policy res_query sip2.sip.test A

# --- 3. serve-stale and the error path -------------------------------------------------------

# max_ttl 2: sip1.sip.test (TTL 300) expires after 2 s like short.sip.test
# (TTL 2), so that the stale TTL cap (30) shows on the first.
conf stale "serve_stale = 1h" "max_ttl = 2"
conf nostale "serve_stale = 0"
pre stale res_query sip1.sip.test A res_nsearch short.sip.test A >/dev/null
pre nostale res_query short.sip.test A >/dev/null
sleep 3
world_dns_stop
out=$(pre stale -t res_query sip1.sip.test A res_nsearch short.sip.test A)
world_assert_match '^res_query sip1.sip.test A: ret 4[0-9] errno 0 h_errno 777 _res.res_h_errno 666 ' \
	"$out" "stale answer: a success, h_errno untouched"
world_assert_match '^ an sip1.sip.test. 30 IN A 127.0.0.11$' "$out" "stale answer: TTL 30 (RFC 8767)"
world_assert_match '^res_nsearch short.sip.test A: ret 4[0-9] errno 0 h_errno 1 ' "$out" \
	"stale answer through res_nsearch"
world_assert_match '^ an short.sip.test. [0-2] IN A 127.0.0.41$' "$out" \
	"stale answer: never more than the record's own TTL"
# No stale answer: the caller gets glibc's failure, field for field.
for c in nostale stale; do
	args=(res_query short.sip.test A res_search never.sip.test A res_nquery sip2.sip.test AAAA)
	[ $c = stale ] && args=(res_query never.sip.test A res_nsearch sip2.sip.test AAAA)
	expect=$(plain "${args[@]}")
	world_assert_match 'errno 111 h_errno 2 ' "$expect" "glibc: server stopped"
	world_assert_eq "$expect" "$(pre $c "${args[@]}")" "server stopped, $c, nothing to serve"
done
world_dns_start
# A frozen server: the same failure after the same timeout.
pre nostale res_query sip2.sip.test A >/dev/null
world_dns_freeze
start=$(world_now_ms)
expect=$(plain res_query txt.sip.test TXT)
glibc_ms=$(($(world_now_ms) - start))
world_assert_match 'errno 110 h_errno 2 ' "$expect" "glibc: server frozen"
start=$(world_now_ms)
world_assert_eq "$expect" "$(pre nostale res_query txt.sip.test TXT)" "server frozen"
ours_ms=$(($(world_now_ms) - start))
world_assert_le "$ours_ms" $((glibc_ms + 1500)) "time to fail through the preload (ms)"
world_dns_thaw

# --- 4. hosts file order for res_query --------------------------------------------------------

world_hosts "127.0.0.1 localhost" "127.0.0.98 sip2.sip.test" "::1 v4only.sip.test" \
	"127.0.0.97 onlyhosts.sip.test"
conf hosts
a() { pre hosts res_query "$1" A | awk '$1 == "an" { print $NF }' | sort | tr '\n' ' '; }
aaaa() { pre hosts res_query "$1" AAAA | awk '$1 == "an" { print $NF }' | tr '\n' ' '; }
# files dns: the file wins, without a query.
world_dns_reset
world_assert_eq "127.0.0.98 " "$(a sip2.sip.test)" "files dns: sip2 from the file"
world_assert_eq "::1 " "$(aaaa v4only.sip.test)" "files dns: v4only AAAA from the file"
world_assert_eq "127.0.0.97 " "$(a onlyhosts.sip.test)" "files dns: a name only in the file"
world_dns_assert_count 0 "" "files dns: answers from the file"
world_assert_match 'ret 4[0-9] errno 0 h_errno 777 ' "$(pre hosts res_query sip2.sip.test A)" \
	"hosts answer: a success"
# dns files: DNS wins; what DNS does not know, the file answers.
world_nsswitch_hosts "dns files"
rm -f "$WORLD_DIR"/cache/hosts.tdb*
world_assert_eq "127.0.0.12 " "$(a sip2.sip.test)" "dns files: sip2 from DNS"
world_assert_eq "127.0.0.97 " "$(a onlyhosts.sip.test)" "dns files: NXDOMAIN, then the file"
world_assert_eq "::1 " "$(aaaa v4only.sip.test)" "dns files: NODATA, then the file"
world_assert_eq "127.0.0.97 " "$(a onlyhosts.sip.test)" "dns files: the file after a cached NXDOMAIN"
# hosts_in_res_query = no: DNS only, whatever the order.
world_nsswitch_hosts "files dns"
conf nohosts "hosts_in_res_query = no"
world_assert_eq "$(plain res_query sip2.sip.test A res_query onlyhosts.sip.test A)" \
	"$(pre nohosts res_query sip2.sip.test A res_query onlyhosts.sip.test A)" \
	"hosts_in_res_query = no: glibc's answers"
world_hosts

# --- 5. nameserver = ADDR:PORT ------------------------------------------------------------------

world_dns_stop
WORLD_DNS_LISTEN="127.0.0.1@5353"
world_dns_start
conf port "nameserver = 127.0.0.1:5353"
world_assert_match 'errno 111 h_errno 2 ' "$(plain res_query sip1.sip.test A)" \
	"glibc: nothing on port 53"
world_dns_reset
out=$(pre port res_query sip1.sip.test A res_nsearch _sip._udp.sip.test SRV)
world_assert_match '^ an sip1.sip.test. TTL IN A 127.0.0.11$' "$out" "answer from port 5353"
world_assert_match '^ an _sip._udp.sip.test. TTL IN SRV 10 10 5060 sip1.sip.test.$' "$out" \
	"SRV from port 5353"
world_dns_assert_count 2 "" "queries at port 5353"
world_dns_reset
pre port res_query sip1.sip.test A res_nsearch _sip._udp.sip.test SRV >/dev/null
world_dns_assert_count 0 "" "queries at port 5353, hit"
world_dns_stop
unset WORLD_DNS_LISTEN
world_dns_start

# --- 6. preloaded but disabled ------------------------------------------------------------------

conf off
args=(res_query sip1.sip.test A res_search _sip._tcp.sip.test SRV res_nquery nx.sip.test A)
expect=$(plain "${args[@]}")
world_dns_reset
for run in 1 2; do
	world_assert_eq "$expect" "$(world_run env SIPCACHE_DISABLE=1 SIPCACHE_CONF="$WORLD_DIR/off.conf" \
		"${PRELOAD_VARS[@]}" "$RES" "${args[@]}")" "SIPCACHE_DISABLE=1, run $run"
done
world_dns_assert_count 6 "" "SIPCACHE_DISABLE=1: every question upstream, both runs"
[ ! -e "$WORLD_DIR/cache/off.tdb" ] || world_fail "SIPCACHE_DISABLE=1 created the cache file"
# A configuration sipcache cannot use is the same pass-through.
printf 'no_such_key = 1\n' >"$WORLD_DIR/bad.conf"
world_assert_eq "$expect" "$(world_run env SIPCACHE_CONF="$WORLD_DIR/bad.conf" \
	"${PRELOAD_VARS[@]}" "$RES" "${args[@]}" 2>/dev/null)" "bad configuration: pass-through"

world_end

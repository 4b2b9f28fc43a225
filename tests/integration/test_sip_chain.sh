#!/bin/bash
# test_sip_chain.sh - the SIP-aware lookup path, through the preload and
# counted at the server (DESIGN.md "SIP-aware behaviour"):
#   1. related records: the A/AAAA of SRV targets that come in the
#      additional section of an SRV answer are stored as entries of their
#      own, so the next lookups of the call send nothing;
#   2. chain prefetch: with prefetch = yes a NAPTR miss resolves the rest
#      of the RFC 3263 chain at once (SRV of each SIP replacement, the
#      addresses of their targets); with prefetch = no it does not; the
#      caller's own answer is what glibc gives either way;
#   3. srv_order = rfc2782: the first record of served SRV answers follows
#      the weights (1:3 gives 25%:75%) within the best priority; with
#      srv_order = keep the order never changes;
#   4. target marks: a target marked down with sipcachectl is dropped from
#      SRV answers while another remains, and comes back with `up'.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"
RES=$WORLD_BUILD/tests/progs/preload_res
FIRST=$WORLD_BUILD/tests/progs/sip_first
CTL=$WORLD_BUILD/ctl/sipcachectl
for p in "$RES" "$FIRST" "$CTL"; do
	[ -e "$p" ] || world_fail "$p missing: build with make all progs"
done

world_begin sip_chain
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start

conf() {
	local name=$1
	shift
	{
		echo "cache_file = $WORLD_DIR/cache/$name.tdb"
		echo "log = stderr"
		printf '%s\n' "$@"
	} >"$WORLD_DIR/$name.conf"
}
pre() {
	local name=$1
	shift
	world_run env SIPCACHE_CONF="$WORLD_DIR/$name.conf" "${PRELOAD_VARS[@]}" "$@"
}
asks() {   # asks N TYPE WHAT CONF CMD...: CMD sends exactly N queries of TYPE
	local n=$1 type=$2 what=$3
	shift 3
	world_dns_reset
	pre "$@" >/dev/null
	world_dns_assert_count "$n" "$type" "$what"
}

# --- 1. related records ------------------------------------------------------

conf related "prefetch = no"
asks 1 SRV "SRV miss" related "$RES" res_query _sip._udp.sip.test SRV
asks 0 "" "A of the SRV targets, from the additional section" related \
	"$RES" res_query sip1.sip.test A res_query sip2.sip.test A res_query backup.sip.test A
world_assert_eq "$(world_run "$RES" res_query sip2.sip.test A)" \
	"$(pre related "$RES" res_query sip2.sip.test A)" "a related entry served as glibc answers"
# A NAPTR answer carries no additional records (Knot): nothing related.
asks 1 NAPTR "NAPTR miss, no prefetch" related "$RES" res_query sip.test NAPTR
asks 1 SRV "SRV of a NAPTR replacement still asked without prefetch" related \
	"$RES" res_query _sip._tcp.sip.test SRV

# --- 2. chain prefetch -------------------------------------------------------

conf prefetch "prefetch = yes" "family = ipv4"
world_dns_reset
pre prefetch "$RES" res_query sip.test NAPTR >/dev/null
world_dns_assert_count 1 NAPTR "the NAPTR itself"
world_dns_assert_count 3 SRV "SRV of the three SIP replacements, prefetched"
world_dns_assert_count 0 AAAA "family = ipv4: no AAAA prefetched"
# The rest of the call, from another process: all hits.
asks 0 "" "SRV and A after the prefetch" prefetch "$RES" \
	res_query _sips._tcp.sip.test SRV res_query _sip._tcp.sip.test SRV \
	res_query _sip._udp.sip.test SRV res_query sip1.sip.test A \
	res_query sip2.sip.test A res_query backup.sip.test A
world_assert_eq "$(world_run "$RES" res_query sip.test NAPTR)" \
	"$(pre prefetch "$RES" res_query sip.test NAPTR)" "the NAPTR answer as glibc gives it"

conf prefetch6 "prefetch = yes" "family = any"
world_dns_reset
pre prefetch6 "$RES" res_query _sip._udp.sip.test SRV >/dev/null
world_dns_assert_count 1 SRV "the SRV itself"
# sip1 has its AAAA in the additional section; sip2 and backup have none,
# so family = any asks their AAAA (NODATA, cached as negative).
world_dns_assert_count 2 AAAA "AAAA of targets without one in the additional section"
asks 0 "" "AAAA after the prefetch" prefetch6 "$RES" \
	res_query sip1.sip.test AAAA res_query sip2.sip.test AAAA res_query backup.sip.test AAAA

# --- 3. RFC 2782 order of served SRV answers ----------------------------------

conf keep "srv_order = keep" "prefetch = no"
out=$(pre keep "$FIRST" _sip._udp.sip.test 400)
firsts=$(echo "$out" | awk '$1 == "first" && $3 > 0' | wc -l)
world_assert_eq 1 "$firsts" "srv_order = keep: always the same first record"

conf rfc "srv_order = rfc2782" "prefetch = no"
N=4000
out=$(pre rfc "$FIRST" _sip._udp.sip.test $N)
world_log "$out"
n1=$(echo "$out" | awk '$1 == "first" && $2 == "sip1.sip.test" { print $3 }')
n2=$(echo "$out" | awk '$1 == "first" && $2 == "sip2.sip.test" { print $3 }')
nb=$(echo "$out" | awk '$1 == "first" && $2 == "backup.sip.test" { print $3 }')
world_assert_eq 0 "$nb" "the priority-20 backup is never first"
# Weights 10:30 -> sip1 first with p = 1/4: mean 1000, sigma 27.4 for
# N = 4000.  Six sigma either way (+-164) cannot flake in practice, and
# still tells 25% from the 40% of a draw with inclusive bounds.
world_assert_eq $N $((n1 + n2)) "every answer starts with sip1 or sip2"
[ "$n1" -ge 836 ] && [ "$n1" -le 1164 ] ||
	world_fail "sip1 first $n1 times of $N: not within 25% +- 6 sigma (836..1164)"
world_assert_eq "$(echo "$out" | grep '^seen ')" "seen backup.sip.test $N
seen sip1.sip.test $N
seen sip2.sip.test $N" "every record is still served each time"

# --- 4. target marks ------------------------------------------------------------

conf marks "prefetch = no"
pre marks "$RES" res_query _sip._udp.sip.test SRV >/dev/null
world_dns_reset
world_run env SIPCACHE_CONF="$WORLD_DIR/marks.conf" "$CTL" down sip2.sip.test 60 >/dev/null
out=$(pre marks "$FIRST" _sip._udp.sip.test 50)
world_assert_eq "seen backup.sip.test 50
seen sip1.sip.test 50" "$(echo "$out" | grep '^seen ')" "a marked target is dropped"
world_run env SIPCACHE_CONF="$WORLD_DIR/marks.conf" "$CTL" up sip2.sip.test >/dev/null
out=$(pre marks "$FIRST" _sip._udp.sip.test 50)
world_assert_match "seen sip2.sip.test 50" "$out" "the target is back after up"
world_dns_assert_count 0 SRV "marks are applied to cached answers: no query"

world_end

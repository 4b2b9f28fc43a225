#!/bin/bash
# test_kamailio_srv_order.sh - `srv_order = rfc2782' turns a Kamailio
# without its own DNS cache into a load balancer across SRV targets:
#   1. without the setting (srv_order = keep), every request goes to the
#      same target, the one Kamailio ranks first;
#   2. eq.e2e.test, two targets of equal priority and weight: the order
#      sipcache serves reaches Kamailio, and the traffic splits 50:50;
#   3. e2e.test, weights 10 and 30 at priority 10 (and a backup at
#      priority 20): with srv_order = rfc2782 every request still goes to
#      the weight-30 target (Kamailio re-sorts, below); with
#      srv_order = rfc2782-weights the traffic splits 25:75, and the
#      backup gets nothing.
# Traffic is counted at the UAS of each target (sipp).  Bounds: 5
# standard deviations of the binomial count (a fair draw falls outside
# with probability below 1e-6).
#
# Kamailio's resolver (5.6.3, core/resolve.c get_record()) inserts SRV
# records into its list sorted by priority, then by weight, highest
# first, and takes the first target that resolves: with its cache off it
# never draws by weight itself, and it reorders what it is served, so the
# order of the served answer decides only among records of equal priority
# and weight (part 2).  rfc2782-weights also rewrites the weights of a
# priority to decrease along the drawn order, so that the sort keeps the
# draw (part 3).
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=lib/e2e.sh
. "$(dirname "$0")/lib/e2e.sh"

CHILDREN=4
N=400

world_begin kamailio_srv_order
e2e_init
world_zone "$E2E_ZONE"
world_dns_start

# within_sigma COUNT N P WHAT: COUNT is within 5 standard deviations of
# N*P (P in percent).
within_sigma() {
	local count=$1 n=$2 p=$3 what=$4 lo hi
	read -r lo hi < <(awk -v n="$n" -v p="$p" 'BEGIN {
		m = n * p / 100; s = sqrt(n * p / 100 * (1 - p / 100))
		lo = m - 5 * s; hi = m + 5 * s
		printf "%d %d\n", (lo < 0 ? 0 : lo), hi + 0.999 }')
	if [ "$count" -lt "$lo" ] || [ "$count" -gt "$hi" ]; then
		world_fail "$what: $count of $n, expected $p% ($lo..$hi)"
	fi
}

# --- 1. srv_order = keep ----------------------------------------------------------

e2e_kamailio_start kam --preload -A CHILDREN=$CHILDREN
e2e_uas_start 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.41 127.0.0.42
e2e_uac e2e.test 100 100
e2e_assert_answered 100 "e2e.test, srv_order = keep"
e2e_uac eq.e2e.test 100 100
e2e_assert_answered 100 "eq.e2e.test, srv_order = keep"
e2e_uas_stop
world_assert_eq "127.0.0.11=0 127.0.0.12=100 127.0.0.13=0 127.0.0.41=100 127.0.0.42=0" \
	"$E2E_UAS_TEXT" "requests per target with srv_order = keep"
e2e_kamailio_stop kam

# --- the setting, and whether the lookup path applies it yet ------------------------

e2e_sipcache_conf "srv_order = rfc2782"
e2e_have_srv_order _sip._udp.e2e.test ||
	world_fail "srv_order = rfc2782: sipcachectl get _sip._udp.e2e.test SRV is always" \
		"[$(e2e_srv_targets _sip._udp.e2e.test)]"

e2e_kamailio_start kam --preload -A CHILDREN=$CHILDREN

# --- 2. equal weights: 50:50 ----------------------------------------------------------

e2e_uas_start 127.0.0.41 127.0.0.42
e2e_uac eq.e2e.test $N 100
e2e_assert_answered $N "eq.e2e.test, srv_order = rfc2782"
e2e_uas_stop
world_log "eq.e2e.test, weights 20:20: $E2E_UAS_TEXT"
world_assert_eq $N "$E2E_UAS_TOTAL" "requests counted at the targets of eq.e2e.test"
within_sigma "${E2E_UAS[127.0.0.41]}" $N 50 "eq.e2e.test: requests to e1 (weight 20 of 40)"

# --- 3. weights 10:30, and the backup -------------------------------------------------

# Order alone: Kamailio's sort by weight puts b first whatever we serve.
e2e_uas_start 127.0.0.11 127.0.0.12 127.0.0.13
e2e_uac e2e.test 100 100
e2e_assert_answered 100 "e2e.test, srv_order = rfc2782"
e2e_uas_stop
world_assert_eq "127.0.0.11=0 127.0.0.12=100 127.0.0.13=0" "$E2E_UAS_TEXT" \
	"srv_order = rfc2782: Kamailio re-sorts by weight"
world_assert_eq "" "$(e2e_kamailio_crashes kam)" "crashed Kamailio processes"
e2e_kamailio_stop kam

# With the weights rewritten along the draw.
e2e_sipcache_conf "srv_order = rfc2782-weights"
e2e_kamailio_start kam --preload -A CHILDREN=$CHILDREN
e2e_uas_start 127.0.0.11 127.0.0.12 127.0.0.13
e2e_uac e2e.test $N 100
e2e_assert_answered $N "e2e.test, srv_order = rfc2782-weights"
e2e_uas_stop
world_log "e2e.test, weights 10:30, backup: $E2E_UAS_TEXT"
world_assert_eq 0 "${E2E_UAS[127.0.0.13]}" "requests to the backup (priority 20)"
within_sigma "${E2E_UAS[127.0.0.11]}" $N 25 "e2e.test: requests to a (weight 10 of 40)"
world_assert_eq "" "$(e2e_kamailio_crashes kam)" "crashed Kamailio processes"
e2e_kamailio_stop kam

world_end

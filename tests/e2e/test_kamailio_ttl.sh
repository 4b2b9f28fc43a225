#!/bin/bash
# test_kamailio_ttl.sh - Kamailio under sipcache's preload when answers
# expire and when the DNS server goes away (short.e2e.test: TTL 2 s on
# every record):
#   1. refreshes: 12 s of traffic (25 requests/s, 4 workers): each record
#      is asked again after it expires, about once per TTL and not once
#      per worker or per request (bounded both ways), and every request
#      is answered;
#   2. serve-stale: the server is stopped while requests flow; they keep
#      being relayed, to the same target, from the expired answers
#      (sipcachectl stats counts them as stale_served);
#   3. the control: the same Kamailio without sipcache, server still
#      down, fails every request (Kamailio answers 478), so part 2 really
#      was sipcache's doing.
# Parts 2 and 3 run Kamailio with dns_try_naptr=off: lookups fail there
# (part 3), and Kamailio 5.6.3 crashes a worker when a NAPTR lookup fails
# with its DNS cache off (shared/TESTING.md).
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=lib/e2e.sh
. "$(dirname "$0")/lib/e2e.sh"

CHILDREN=4
TTL=2
UAS=(127.0.0.21 127.0.0.22)

world_begin kamailio_ttl
e2e_init
world_zone "$E2E_ZONE"
world_dns_start

# --- 1. refreshes ------------------------------------------------------------

e2e_kamailio_start kam --preload -A LOGREQ -A CHILDREN=$CHILDREN
e2e_uas_start "${UAS[@]}"
world_dns_reset
e2e_uac short.e2e.test 300 25
e2e_assert_answered 300 "12 s of requests, TTL $TTL s"
secs=$(((E2E_UAC_MS + 999) / 1000))
naptr=$(world_dns_count NAPTR)
srv=$(world_dns_count SRV)
a=$(world_dns_count A)
total=$(world_dns_count)
world_log "$secs s, TTL $TTL s: NAPTR $naptr, SRV $srv, A $a, all $total queries for 300 requests"
# Asked again once expired: at least one query per TTL-and-a-second
# (expiry is checked in whole seconds) ...
min=$((secs / (TTL + 1)))
world_assert_le "$min" "$naptr" "NAPTR refreshes in $secs s"
world_assert_le "$min" "$srv" "SRV refreshes in $secs s"
# ... and not per request or per worker: at most one per TTL, plus the
# first, and twice that for the requests of several workers meeting the
# same expiry.  Without sipcache it would be 300 each.
max=$((2 * (secs / TTL + 1)))
world_assert_le "$naptr" "$max" "NAPTR queries in $secs s"
world_assert_le "$srv" "$max" "SRV queries in $secs s"
# Every name of the chain (NAPTR, SRV, A and AAAA of two targets) at most
# that often.
world_assert_le "$total" $((6 * max)) "queries in $secs s"
e2e_uas_stop
world_assert_eq "127.0.0.21=300 127.0.0.22=0" "$E2E_UAS_TEXT" "requests per target"
world_assert_eq "" "$(e2e_kamailio_crashes kam)" "crashed Kamailio processes"
e2e_kamailio_stop kam

# --- 2. serve-stale: the server stops mid-run -----------------------------------

e2e_kamailio_start kam --preload -A LOGREQ -A NONAPTR -A CHILDREN=$CHILDREN
e2e_uas_start "${UAS[@]}"
e2e_uac short.e2e.test 20 20
e2e_assert_answered 20 "warm-up, server up"
stale0=0
if [ -n "$E2E_CTL" ]; then
	stale0=$(e2e_stat stale_served)
fi
# 10 s of requests; the server goes away after 2 s, so the answers
# expire (2 s) with no server to refresh them, several times over.
e2e_kamailio_mark kam
e2e_uac_bg short.e2e.test 250 25
sleep 2
world_dns_stop
e2e_uac_wait
e2e_assert_answered 250 "requests while the server is down"
e2e_uas_stop
world_assert_eq "127.0.0.21=270 127.0.0.22=0" "$E2E_UAS_TEXT" "requests per target"
world_assert_eq "" "$(e2e_kamailio_crashes kam)" "crashed Kamailio processes"
if [ -n "$E2E_CTL" ]; then
	stale=$(e2e_stat stale_served)
	world_log "stale answers served: $((stale - stale0))"
	# The SRV and the A record expire every 2 s for 8 s.
	world_assert_le $((stale0 + 4)) "$stale" "stale answers served with the server down"
	world_assert_le 1 "$(e2e_stat upstream_errors)" "upstream errors with the server down"
fi
e2e_kamailio_stop kam

# --- 3. the control: no sipcache, server down ------------------------------------

e2e_kamailio_start kam -A LOGREQ -A NONAPTR -A CHILDREN=$CHILDREN
e2e_uas_start "${UAS[@]}"
e2e_uac short.e2e.test 10 10
world_assert_eq "0 10" "$E2E_OK $E2E_FAIL" "requests answered / failed without sipcache, server down"
e2e_uas_stop
world_assert_eq "127.0.0.21=0 127.0.0.22=0" "$E2E_UAS_TEXT" "requests relayed without sipcache, server down"
world_assert_match 'SIP/2.0 478' "$(cat "$E2E_WORK"/uac-*.err 2>/dev/null)" \
	"Kamailio's answer without sipcache, server down"
world_assert_eq "" "$(e2e_kamailio_crashes kam)" "crashed Kamailio processes"
e2e_kamailio_stop kam

world_end

#!/bin/bash
# test_kamailio_down.sh - `sipcachectl down TARGET' steers a running
# Kamailio (its own DNS cache off) away from a SIP server, with no change
# to Kamailio or to DNS:
#   1. unmarked: every request goes to b (priority 10, weight 30);
#   2. b marked down: the traffic moves to a (the other target of
#      priority 10), at once, in every worker;
#   3. a marked down too: to c, the backup (priority 20);
#   4. `up --all': back to b;
#   5. a mark for 4 s expires by itself: back to b without any command.
# No NAPTR or SRV query reaches the server in parts 2 to 5 (the marks act
# on cached answers), and every request is answered.
#
# Kamailio (5.6.3, core/resolve.c get_record()) sorts the SRV records it
# is served by priority, then weight, highest first: a marked record that
# sipcache only moved to the end of the answer would come first again
# when it has the best priority and weight, as b does here.  So this
# passes only when marked targets are left out of the served answer while
# others remain.
#
# Skipped (77) while `sipcachectl get' shows that the lookup path does not
# apply marks yet.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=lib/e2e.sh
. "$(dirname "$0")/lib/e2e.sh"

CHILDREN=4
UAS=(127.0.0.11 127.0.0.12 127.0.0.13)

world_begin kamailio_down
e2e_init
world_zone "$E2E_ZONE"
world_dns_start
[ -n "$E2E_CTL" ] || world_fail "sipcachectl is not built: run make"

# run_phase WHAT EXPECTED: 100 requests, every one answered; EXPECTED
# is the count per target.
run_phase() {
	e2e_uas_start "${UAS[@]}"
	e2e_uac e2e.test 100 100
	e2e_assert_answered 100 "$1"
	e2e_uas_stop
	world_assert_eq "$2" "$E2E_UAS_TEXT" "requests per target, $1"
}

e2e_kamailio_start kam --preload -A CHILDREN=$CHILDREN

# --- 1. unmarked -------------------------------------------------------------------

run_phase "no mark" "127.0.0.11=0 127.0.0.12=100 127.0.0.13=0"

if ! e2e_have_marks _sip._udp.e2e.test b.e2e.test; then
	world_skip "waiting for target marks in the lookup path" \
		"(sipcachectl get _sip._udp.e2e.test SRV ignores sipcachectl down b.e2e.test)"
fi

# --- 2. b down ----------------------------------------------------------------------

world_dns_reset
e2e_ctl down b.e2e.test 120
world_assert_eq 0 "$E2E_CTL_ST" "sipcachectl down b.e2e.test: $E2E_CTL_OUT"
run_phase "b down" "127.0.0.11=100 127.0.0.12=0 127.0.0.13=0"

# --- 3. a down too --------------------------------------------------------------------

e2e_ctl down a.e2e.test 120
world_assert_eq 0 "$E2E_CTL_ST" "sipcachectl down a.e2e.test: $E2E_CTL_OUT"
run_phase "a and b down" "127.0.0.11=0 127.0.0.12=0 127.0.0.13=100"

# --- 4. up --all ---------------------------------------------------------------------------

e2e_ctl up --all
world_assert_eq 0 "$E2E_CTL_ST" "sipcachectl up --all: $E2E_CTL_OUT"
run_phase "marks removed" "127.0.0.11=0 127.0.0.12=100 127.0.0.13=0"

# --- 5. a mark that expires --------------------------------------------------------------

e2e_ctl down b.e2e.test 4
world_assert_eq 0 "$E2E_CTL_ST" "sipcachectl down b.e2e.test 4: $E2E_CTL_OUT"
e2e_uas_start "${UAS[@]}"
e2e_uac e2e.test 20 100
e2e_assert_answered 20 "b down for 4 s"
e2e_uas_stop
world_assert_eq "127.0.0.11=20 127.0.0.12=0 127.0.0.13=0" "$E2E_UAS_TEXT" \
	"requests per target, b down for 4 s"
sleep 5
run_phase "b's mark expired" "127.0.0.11=0 127.0.0.12=100 127.0.0.13=0"

# Marks act on cached answers: no NAPTR or SRV query.  The addresses of
# a and c, which Kamailio never needed before, may be asked once each
# (none once the A records of the SRV answer are cached).
world_dns_assert_count 0 NAPTR "NAPTR queries while marks came and went"
world_dns_assert_count 0 SRV "SRV queries while marks came and went"
world_assert_le "$(world_dns_count)" 2 "queries while marks came and went"
world_assert_eq "" "$(e2e_kamailio_crashes kam)" "crashed Kamailio processes"
e2e_kamailio_stop kam

world_end

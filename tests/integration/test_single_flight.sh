#!/bin/bash
# test_single_flight.sh - cross-process single flight: when N processes
# miss the same question at the same moment, one query reaches the server
# and the others are served its answer from the cache; a waiter whose
# leader gives no answer asks upstream itself, after a bounded wait.
#
# The moment is made real by freezing the server (world_dns_freeze: bound,
# silent): every process misses and either sends its query or waits; the
# server is thawed well within the resolver timeout (1 s) and answers what
# it received.  Without single flight it receives N queries.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"
RES=$WORLD_BUILD/tests/progs/preload_res
[ -e "$RES" ] || world_fail "$RES missing: build with make progs"

world_begin single_flight
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start
world_sipcache_conf

N=8
# many NAME TYPE: N processes under the preload ask NAME at once, while
# the server is frozen for 400 ms; prints their answers, one file each.
many() {
	local i pids=()
	world_dns_reset
	world_dns_freeze
	for i in $(seq 1 $N); do
		world_run env "${PRELOAD_VARS[@]}" "$RES" res_query "$1" "$2" >"$WORLD_DIR/out.$i" &
		pids+=($!)
	done
	sleep 0.4
	world_dns_thaw
	wait "${pids[@]}"   # (a bare `wait' would wait for the world too)
}

many multi.sip.test A
world_dns_assert_count 1 A "$N processes missing multi.sip.test A at once"
expect=$(world_run "$RES" res_query multi.sip.test A)
for i in $(seq 1 $N); do
	world_assert_eq "$expect" "$(cat "$WORLD_DIR/out.$i")" "process $i's answer"
done

# A negative answer is shared the same way.
many nx.sip.test TXT
world_dns_assert_count 1 TXT "$N processes missing a NXDOMAIN at once"

# Nothing to store (REFUSED, outside the zones): the waiters' bound runs
# out, or the leader's slot is released without an answer; each then asks
# itself, and gets glibc's own answer.
world_dns_reset
expect=$(world_run "$RES" res_query refused.example.com A)
each=$(world_dns_count A)   # what glibc sends for it (it retries REFUSED)
many refused.example.com A
sent=$(world_dns_count A)
world_assert_le 1 "$sent" "REFUSED: asked at least once"
world_assert_le "$sent" $((N * each)) "REFUSED: at most what $N processes without sipcache send"
for i in $(seq 1 $N); do
	world_assert_eq "$expect" "$(cat "$WORLD_DIR/out.$i")" "process $i's REFUSED answer"
done

world_end

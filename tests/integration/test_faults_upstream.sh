#!/bin/bash
# test_faults_upstream.sh - the upstream server down, frozen, or answering
# garbage, through the preload in real processes:
#   1. garbage: a server of ours (tests/progs/faults_dnsd.c) answers
#      truncated messages, wrong IDs, wrong questions, wrong classes and
#      types, compression loops, bad RDLENGTHs, trailing bytes, rcodes
#      (SERVFAIL, REFUSED, FORMERR, NOTIMP), NXDOMAIN without SOA, TC with
#      no TCP answer, a bad opcode, no QR bit, and records of other names
#      (poisoning attempts).  Each question is asked twice in a process
#      and in two processes, with res_query and getent: the caller sees
#      exactly what it sees without sipcache (return value, errno,
#      h_errno, the buffer), the server receives every question again
#      (nothing of it was cached), and the name the poisoners aimed at
#      is answered by its own server afterwards; a slow server's answer
#      and an answer that follows a blind spoofer's datagram (another
#      ID) are the server's, and cached;
#   2. the server stopped (refused at once) and frozen (timeouts): the
#      same errors as without sipcache, in bounded time;
# and afterwards the cache file is sound (sipcachectl check) and holds
# only what was cacheable.
set -eu
# One attempt of one second: a dropped reply costs a timeout, and each
# of the dropped kinds (wrongid, wrongq, wrongclass, wrongtype) is asked
# eight times; with attempts:2 the test took 106 s of its 120.
WORLD_RES_OPTIONS="timeout:1 attempts:1"
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"

RES=$WORLD_BUILD/tests/progs/preload_res
DNSD=$WORLD_BUILD/tests/progs/faults_dnsd
CTL=$WORLD_BUILD/ctl/sipcachectl
for f in "$RES" "$DNSD" "$CTL"; do
	[ -e "$f" ] || world_fail "$f missing: build with make all progs"
done

world_begin faults_upstream
# serve_stale only ever serves what was cached: nothing of this test.
world_sipcache_conf
world_spawn dnsd "$DNSD"
n=0
until grep -q ready "$WORLD_LOGS/dnsd.log"; do
	[ $n -lt 100 ] || world_fail "faults_dnsd did not start: $(cat "$WORLD_LOGS/dnsd.log")"
	sleep 0.05
	n=$((n + 1))
done

# received NAME TYPE: how many times the server got this question.
received() {
	grep -ci "^[a-z]* $1 $2\$" "$WORLD_LOGS/dnsd.log" || :
}
plain() { world_run -t 60 "$RES" "$@"; }
pre() { world_run -t 60 env "${PRELOAD_VARS[@]}" "$RES" "$@"; }

# --- 1. garbage --------------------------------------------------------------------

bad=(trunc header wrongid wrongq wrongclass wrongtype loop rdlen trailing unrelated
	servfail refused formerr notimp nxnosoa tc badopcode noqr)
# FAULTS_UPSTREAM_ONLY="wrongid loop": only those (when chasing one).
if [ -n "${FAULTS_UPSTREAM_ONLY:-}" ]; then
	read -r -a bad <<<"$FAULTS_UPSTREAM_ONLY"
fi
for b in "${bad[@]}"; do
	name=$b.bad.test
	before=$(received "$name" 1)
	want=$(plain -r 2 res_query "$name" A)
	sent_plain=$(($(received "$name" 1) - before))
	world_assert_eq "$want" "$(pre -r 2 res_query "$name" A)" "$b: res_query through the preload"
	world_assert_eq "$want" "$(pre -r 2 res_query "$name" A)" "$b: res_query, second process"
	sent_pre=$(($(received "$name" 1) - before - sent_plain))
	# Every ask of both processes reached the server, as without us.
	world_assert_eq "$((2 * sent_plain))" "$sent_pre" "$b: questions received (nothing cached)"
	world_assert_eq "$(world_run getent hosts "$name"; echo "status $?")" \
		"$(world_run env "${PRELOAD_VARS[@]}" getent hosts "$name"; echo "status $?")" \
		"$b: getent hosts through the preload"
done

# The poisoners' name: answered by its own server, not from the cache.
want=$(plain res_query srvpoison.bad.test SRV)
world_assert_eq "$want" "$(pre res_query srvpoison.bad.test SRV)" "srvpoison: SRV through the preload"
before=$(received victim.bad.test 1)
want=$(plain res_query victim.bad.test A)
world_assert_match '192\.0\.2\.99' "$want" "victim: the server's answer (sanity)"
world_assert_eq "$want" "$(pre res_query victim.bad.test A)" "victim: through the preload"
world_assert_eq 2 "$(($(received victim.bad.test 1) - before))" "victim: asked, not taken from the cache"
world_assert_eq "$(plain res_query ok.bad.test A)" "$(pre res_query ok.bad.test A)" "ok: through the preload"

# TC over UDP, the answer over TCP: cached, once.
want=$(plain -r 2 res_query tcok.bad.test A)
before=$(received tcok.bad.test 1)
world_assert_eq "$want" "$(pre -r 2 res_query tcok.bad.test A)" "tcok: through the preload"
world_assert_eq 2 "$(($(received tcok.bad.test 1) - before))" "tcok: UDP then TCP, then from the cache"

# A slow server (400 ms, within the timeout): its answer, cached.
want=$(plain -r 2 res_query slow.bad.test A)
world_assert_match '192\.0\.2\.1' "$want" "slow: the server's answer (sanity)"
before=$(received slow.bad.test 1)
world_assert_eq "$want" "$(pre -r 2 res_query slow.bad.test A)" "slow: through the preload"
world_assert_eq "$want" "$(pre -r 2 res_query slow.bad.test A)" "slow: second process"
world_assert_eq 1 "$(($(received slow.bad.test 1) - before))" "slow: asked once, then from the cache"

# A blind spoofer first (another ID, 6.6.6.6), the server's answer 100 ms
# later: libresolv drops the first; what is cached is the second.
want=$(plain -r 2 res_query spoof.bad.test A)
world_assert_match '192\.0\.2\.1' "$want" "spoof: glibc takes the server's answer (sanity)"
before=$(received spoof.bad.test 1)
world_assert_eq "$want" "$(pre -r 2 res_query spoof.bad.test A)" "spoof: through the preload"
world_assert_eq "$want" "$(pre -r 2 res_query spoof.bad.test A)" "spoof: second process"
world_assert_eq 1 "$(($(received spoof.bad.test 1) - before))" "spoof: asked once, then from the cache"

# --- 2. server stopped, then frozen ----------------------------------------------------------

world_stop dnsd || :
for i in 1 2; do
	want=$(plain -r 2 res_query "ok-down$i.bad.test" A res_query "ok-down$i.bad.test" SRV)
	world_assert_match 'ret -1' "$want" "server down: glibc fails (sanity)"
	world_assert_eq "$want" "$(pre -r 2 res_query "ok-down$i.bad.test" A res_query "ok-down$i.bad.test" SRV)" \
		"server down: res_query through the preload"
done
world_assert_eq "$(world_run getent ahosts ok-down3.bad.test; echo "status $?")" \
	"$(world_run env "${PRELOAD_VARS[@]}" getent ahosts ok-down3.bad.test; echo "status $?")" \
	"server down: getent ahosts"

world_spawn dnsd "$DNSD"
n=0
until [ "$(grep -c ready "$WORLD_LOGS/dnsd.log")" -ge 2 ]; do
	[ $n -lt 100 ] || world_fail "faults_dnsd did not restart"
	sleep 0.05
	n=$((n + 1))
done
world_signal dnsd STOP
want=$(plain res_query ok-frozen.bad.test A)
world_assert_match 'ret -1' "$want" "server frozen: glibc times out (sanity)"
start=$(world_now_ms)
got=$(pre res_query ok-frozen.bad.test A)
took=$(($(world_now_ms) - start))
world_assert_eq "$want" "$got" "server frozen: res_query through the preload"
# timeout:1 attempts:1: about 1 s; never a hang (the bound is loose: the
# machine is shared).
world_assert_le "$took" 15000 "server frozen: milliseconds the lookup took"
world_assert_eq "$(world_run getent hosts ok-frozen2.bad.test; echo "status $?")" \
	"$(world_run env "${PRELOAD_VARS[@]}" getent hosts ok-frozen2.bad.test; echo "status $?")" \
	"server frozen: getent hosts"
world_signal dnsd CONT

# --- the cache file afterwards ------------------------------------------------------------

world_run "$CTL" check >"$WORLD_DIR/check.out" 2>&1 ||
	world_fail "sipcachectl check: $(cat "$WORLD_DIR/check.out")"
dump=$(world_run "$CTL" dump) || world_fail "sipcachectl dump failed"
for b in "${bad[@]}" ok-down ok-frozen; do
	if printf '%s\n' "$dump" | grep -qi "^${b}[.0-9-]"; then
		world_fail "$b.bad.test was cached: $dump"
	fi
done
world_assert_match 'ok\.bad\.test' "$dump" "the cacheable answers are there (sanity)"

world_end

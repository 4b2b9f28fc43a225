#!/bin/bash
# test_faults_kill.sh - writers killed with SIGKILL in the middle of their
# work on the cache file, through the preload in real processes
# (tests/progs/faults_writer.c: threads that do little else than miss,
# store, evict and hit):
#   1. rounds of three writers, each killed at a random moment a few
#      milliseconds into its run, one after the other: with a chain lock
#      held, a record half-written, the free list or the hash table being
#      changed, an eviction sweep under way, the file being grown; every
#      answer any writer got before it died was the server's;
#   2. every few rounds, and at the end, the file is sound (sipcachectl
#      check), or damaged in tdb's structure as a kill half-way through
#      tdb_store damages it (e.g. a record on no hash chain: nothing a
#      lookup reads), and the rounds after that run on the damaged file;
#      at the end `check --repair' makes it sound, with no leftovers of a
#      rebuild;
#   3. afterwards the cache still works for a new process, at full speed:
#      its answers are glibc's own, a second ask is a hit (nothing reaches
#      the server), nobody waits on a lock a dead writer held (robust
#      mutexes: the lookups of a process take milliseconds, not the 200 ms
#      lock timeout each).
# (tests/check_faults.c kills a lock holder that is idle; this kills
# processes that are busy writing.)
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"

WRITER=$WORLD_BUILD/tests/progs/faults_writer
RES=$WORLD_BUILD/tests/progs/preload_res
CTL=$WORLD_BUILD/ctl/sipcachectl
for f in "$WRITER" "$RES" "$CTL"; do
	[ -e "$f" ] || world_fail "$f missing: build with make all progs"
done
ROUNDS=${FAULTS_KILL_ROUNDS:-40}

world_begin faults_kill
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start
# 64 entries: stores overflow it within a round, so kills also land in
# eviction sweeps (a traverse that deletes under the chain locks).
world_sipcache_conf "max_entries = 64"

# The killer runs inside the world, so that a kill comes within a
# millisecond of when it was meant to (a world_signal costs an nsenter).
# Arguments: ROUNDS, then the environment that injects the preload.
cat >"$WORLD_DIR/killer.sh" <<EOF
set -u
rounds=\$1
shift
kills=0
for r in \$(seq 1 "\$rounds"); do
	pids=""
	for k in 1 2 3; do
		env "\$@" "$WRITER" -t 2 "k\$r-\$k" wild.sip.test 127.0.0.71 \
			sip1.sip.test=127.0.0.11 sip2.sip.test=127.0.0.12 \
			backup.sip.test=127.0.0.13 v4only.sip.test=127.0.0.61 \
			short.sip.test=127.0.0.41 >"$WORLD_DIR/w.\$r.\$k.out" 2>&1 &
		pids="\$pids \$!"
	done
	# Until each has had answers (so the kill finds it at work), at most
	# 10 s: a writer that cannot get going is a hang.
	n=0
	until [ "\$(cat "$WORLD_DIR"/w.\$r.[123].out 2>/dev/null | grep -c '^started')" = 3 ]; do
		if [ \$n -ge 1000 ] || grep -qs '^wrong' "$WORLD_DIR"/w.\$r.[123].out; then
			break
		fi
		sleep 0.01
		n=\$((n + 1))
	done
	for p in \$pids; do
		sleep "0.0\$((RANDOM % 10))\$((RANDOM % 10))"
		kill -KILL "\$p" 2>/dev/null && kills=\$((kills + 1))
	done
	wait 2>/dev/null
	if grep -h '^wrong\|Sanitizer\|runtime error' "$WORLD_DIR"/w.\$r.[123].out; then
		echo "round \$r: a wrong answer"
		exit 1
	fi
	if [ "\$(cat "$WORLD_DIR"/w.\$r.[123].out | grep -c '^started')" != 3 ]; then
		cat "$WORLD_DIR"/w.\$r.[123].out
		echo "round \$r: a writer did not start within 10 s"
		exit 1
	fi
	# Every tenth round, what sipcachectl check says of the file: sound,
	# or damaged the way a killed writer damages it (below).  The rounds
	# that follow a damage run on the damaged file.
	if [ \$((r % 10)) = 0 ]; then
		if "$CTL" check >"$WORLD_DIR/check.\$r.out" 2>&1; then
			echo "round \$r: sound"
		elif grep -q "damaged: tdb's own structure" "$WORLD_DIR/check.\$r.out"; then
			echo "round \$r: damaged"
		else
			cat "$WORLD_DIR/check.\$r.out"
			echo "round \$r: sipcachectl check failed"
			exit 1
		fi
	fi
done
echo "kills \$kills"
EOF

world_log "faults_kill: $ROUNDS rounds of 3 writers"
out=$(world_run -t 100 bash "$WORLD_DIR/killer.sh" "$ROUNDS" "${PRELOAD_VARS[@]}" 2>&1) ||
	world_fail "killer: $out"
world_assert_eq "kills $((3 * ROUNDS))" "$(printf '%s\n' "$out" | grep '^kills')" \
	"writers killed while at work"

# The file is sound, or damaged in tdb's structure the way a kill leaves
# it: for example a writer killed between two writes of tdb_store leaves
# a record it had taken from the free list, header written, key not
# (tdb_check: "Record offset N has incorrect hash"), on no hash chain, so
# no lookup ever reads it.  (sipcachectl check cannot tell that from
# worse damage: the writers' answers above, right after every damage
# seen, are what shows the damage harmless.)  Then `check --repair' must
# rebuild it from its good records, and the file be sound.
world_log "faults_kill: $(printf '%s\n' "$out" | grep '^round' | tr '\n' ' ')"
if ! world_run "$CTL" check >"$WORLD_DIR/check.out" 2>&1; then
	world_assert_match "damaged: tdb's own structure" "$(cat "$WORLD_DIR/check.out")" \
		"what sipcachectl check says of the file"
	world_run "$CTL" check --repair >"$WORLD_DIR/repair.out" 2>&1 ||
		world_fail "sipcachectl check --repair: $(cat "$WORLD_DIR/repair.out")"
	world_log "faults_kill: repaired: $(cat "$WORLD_DIR/repair.out")"
	world_run "$CTL" check >"$WORLD_DIR/check.out" 2>&1 ||
		world_fail "sipcachectl check after --repair: $(cat "$WORLD_DIR/check.out")"
fi
world_assert_eq "cache.tdb cache.tdb.stats" "$(cd "$WORLD_DIR/cache" && ls | tr '\n' ' ' | sed 's/ $//')" \
	"files in the cache directory"
# stat NAME: a counter of sipcachectl stats (the first NAME of the JSON:
# the per-type objects that follow have "hits" and "misses" too).
stat() {
	world_run "$CTL" stats --json | grep -o "\"$1\": *[0-9]*" | head -n 1 | grep -o '[0-9]*$'
}
for k in stores evictions; do
	v=$(stat "$k")
	[ "${v:-0}" -gt 0 ] || world_fail "the writers counted no $k"
done

# A new process: glibc's answers, the second ask a hit, no lock waits.
# The file is emptied first: with max_entries = 64 and the writers'
# entries filling it, each store of the new process starts a sweep that
# may evict another of its own fresh entries (same expiry second) before
# it is asked again, and the count of hits below would be luck.
world_run "$CTL" flush >/dev/null || world_fail "sipcachectl flush before the new process"
names=(sip1.sip.test sip2.sip.test multi.sip.test alias.sip.test k1-1-0.wild.sip.test)
args=()
for n in "${names[@]}"; do
	args+=(res_query "$n" A)
done
want=$(world_run -t 30 "$RES" -r 2 "${args[@]}")
world_assert_match '127\.0\.0\.71' "$want" "the answers without sipcache (sanity)"
hits0=$(stat hits)
start=$(world_now_ms)
got=$(world_run -t 30 env "${PRELOAD_VARS[@]}" "$RES" -r 2 "${args[@]}")
took=$(($(world_now_ms) - start))
world_assert_eq "$want" "$got" "each name twice through the preload"
hits1=$(stat hits)
world_assert_le "${#names[@]}" "$((hits1 - hits0))" "hits of the new process"
# Ten lookups, half of them misses: far below one lock timeout each.
world_assert_le "$took" 1500 "milliseconds for the new process's lookups"

world_run "$CTL" check >"$WORLD_DIR/check.out" 2>&1 ||
	world_fail "sipcachectl check at the end: $(cat "$WORLD_DIR/check.out")"
world_end

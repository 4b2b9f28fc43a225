#!/bin/bash
# test_faults_fd.sh - the cache's descriptor closed and its number reused
# under us, by a server that daemonises the rude way (close every
# descriptor, open its own log file), through the preload in a real
# process (tests/progs/faults_daemon.c):
#   1. closeall: lookups at once after the close (within the second in
#      which the cache does not look at its descriptor), misses that store
#      and make tdb grow the file, then more after a pause;
#   2. the same while another process has grown the file past what this
#      one has mapped (a hit beyond the map makes tdb re-map the file
#      through the descriptor);
#   3. fork: the child of a server closes everything and opens its log;
#      the child's first lookup reopens the cache (after fork), which must
#      not close or take the server's file.
# Expected every time: the server's file holds exactly what the server
# wrote into it (checksum), every answer is the one the same program gets
# without sipcache, and the cache file is sound afterwards
# (sipcachectl check).
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"

DAEMON=$WORLD_BUILD/tests/progs/faults_daemon
CTL=$WORLD_BUILD/ctl/sipcachectl
[ -e "$DAEMON" ] || world_fail "$DAEMON missing: build with make progs"
[ -e "$CTL" ] || world_fail "$CTL missing: build with make all"

world_begin faults_fd
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start
# A small hash table (1031 chains): the file grows every few dozen stores, so
# that growth happens inside the window the test aims at.
world_sipcache_conf "max_entries = 1000"
CACHE=$WORLD_DIR/cache/cache.tdb
names=(sip1.sip.test sip2.sip.test multi.sip.test nx.sip.test alias.sip.test)

# stranger FILE: a server's file of 1 MiB (more than the cache file: were
# tdb to re-map through the reused descriptor, it would find enough bytes
# there to go on), known content.
stranger() {
	awk 'BEGIN { for (i = 0; i < 32768; i++) printf "server log %021d\n", i }' >"$1"
}

# expect_file FILE TAG LINES: what FILE must hold after the server wrote
# LINES log lines into it.
expect_sum() {
	local tag=$2 n=$3 k
	{
		cat "$1"
		for k in $(seq 1 "$n"); do
			echo "$tag line $k"
		done
	} | sha256sum
}

# run_case WHAT ARGS...: faults_daemon ARGS without and with the preload;
# same answers, the server's file intact, the cache sound.
run_case() {
	local what=$1 mode=$2 tag=$3 lines=3 plain pre want got
	shift 3
	stranger "$WORLD_DIR/plain.log"
	stranger "$WORLD_DIR/pre.log"
	want=$(expect_sum "$WORLD_DIR/pre.log" "$tag" "$lines")
	plain=$(world_run -t 60 "$DAEMON" "$@" "$mode" "$WORLD_DIR/plain.log" "$tag" "${names[@]}" \
		2>"$WORLD_DIR/plain.err") || world_fail "$what: without sipcache: $(cat "$WORLD_DIR/plain.err")"
	pre=$(world_run -t 60 env "${PRELOAD_VARS[@]}" "$DAEMON" "$@" "$mode" "$WORLD_DIR/pre.log" "$tag" \
		"${names[@]}" 2>"$WORLD_DIR/pre.err") ||
		world_fail "$what: with the preload: $(cat "$WORLD_DIR/pre.err")"
	world_assert_match 'multi.sip.test: 127.0.0.31 127.0.0.32' "$plain" "$what: answers (sanity)"
	world_assert_eq "$plain" "$pre" "$what: answers with the preload"
	got=$(sha256sum <"$WORLD_DIR/pre.log")
	if [ "$got" != "$want" ]; then
		cmp "$WORLD_DIR/pre.log" <(cat "$WORLD_DIR/plain.log") >&2 || :
		tail -c 300 "$WORLD_DIR/pre.log" | od -c | tail -n 12 >&2
		world_fail "$what: the server's file was changed by somebody else than the server"
	fi
	# The lookups that matter ran while the cache still trusted its
	# descriptor (else the test proves nothing).
	world_assert_match '^window [1-9]' "$(grep '^window' "$WORLD_DIR/pre.err")" \
		"$what: lookups within the first second after the close"
	if grep -v '^window' "$WORLD_DIR/pre.err" | grep -qi 'sanitizer\|runtime error'; then
		world_fail "$what: $(cat "$WORLD_DIR/pre.err")"
	fi
	world_run "$CTL" check >"$WORLD_DIR/check.out" 2>&1 ||
		world_fail "$what: sipcachectl check: $(cat "$WORLD_DIR/check.out")"
}

# --- 1. closeall ------------------------------------------------------------------

rm -f "$CACHE"*
run_case "closeall" closeall c1 -n 120

# --- 2. closeall after another process grew the file -------------------------------

rm -f "$CACHE"*
run_case "closeall, file grown by another process" closeall c2 -n 40 -G 300

# --- 3. fork, then close everything in the child -----------------------------------

rm -f "$CACHE"*
run_case "fork" fork f1 -n 120

world_end

#!/bin/bash
# test_preload_closeall.sh - a server that closes every descriptor it did
# not open (Kamailio's daemonize() closes 3 to 31 after its first
# lookups) keeps its cache: the preload's close(), closefrom(),
# close_range() and dup2() let sipcache close the cache file itself while
# the number is still its own, and the next lookup opens the file again
# (tests/progs/closeall.c).  For each way of closing:
#   - the answers are those the same program gets without sipcache;
#   - after the close, and in a child forked after it, every lookup is a
#     hit: one query per name reached the server in all, from the lookups
#     before the close;
#   - the server's own file, opened at the cache's old number, holds
#     exactly the three lines the server wrote;
#   - nothing was logged (no "running uncached"), and the cache file is
#     sound (sipcachectl check).
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"

PROG=$WORLD_BUILD/tests/progs/closeall
CTL=$WORLD_BUILD/ctl/sipcachectl
[ -x "$PROG" ] || world_fail "$PROG missing: build with make progs"

world_begin preload_closeall
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start
world_sipcache_conf
CACHE=$WORLD_DIR/cache/cache.tdb
names=(sip1.sip.test multi.sip.test alias.sip.test nx.sip.test)

for mode in close closefrom close_range dup2; do
	: >"$WORLD_DIR/plain.log"
	plain=$(world_run -t 60 "$PROG" "$mode" "$WORLD_DIR/plain.log" "${names[@]}" \
		2>"$WORLD_DIR/plain.err") || world_fail "$mode: without sipcache: $(cat "$WORLD_DIR/plain.err")"
	world_assert_match '^multi\.sip\.test: 127\.0\.0\.31 127\.0\.0\.32' "$plain" "$mode: answers (sanity)"
	world_assert_eq "cache open: no" "$(printf '%s\n' "$plain" | tail -n 1)" "$mode: without sipcache"

	rm -f "$CACHE" "$CACHE.stats"
	: >"$WORLD_DIR/pre.log"
	world_dns_reset
	pre=$(world_run -t 60 env "${PRELOAD_VARS[@]}" "$PROG" "$mode" "$WORLD_DIR/pre.log" "${names[@]}" \
		2>"$WORLD_DIR/pre.err") || world_fail "$mode: with the preload: $(cat "$WORLD_DIR/pre.err")"
	world_assert_eq "$(printf '%s\n' "$plain" | sed '$d')" "$(printf '%s\n' "$pre" | sed '$d')" \
		"$mode: answers with the preload"
	world_assert_eq "cache open: yes" "$(printf '%s\n' "$pre" | tail -n 1)" \
		"$mode: the cache file open again after the close"
	world_dns_assert_count "${#names[@]}" "" "$mode: queries (one per name, before the close)"
	world_assert_eq "line 1
line 2
line 3" "$(cat "$WORLD_DIR/pre.log")" "$mode: the server's file"
	world_assert_eq "" "$(cat "$WORLD_DIR/pre.err")" "$mode: messages of the preload"
	world_run "$CTL" check >"$WORLD_DIR/check.out" 2>&1 ||
		world_fail "$mode: sipcachectl check: $(cat "$WORLD_DIR/check.out")"
done

world_end

#!/bin/bash
# test_preload_procs.sh - the preload inside real processes:
#   1. threads: many threads at once, hits and misses mixed, every answer
#      checked; the server sees each miss (and no more than one query per
#      thread for a name they all miss together), then nothing;
#   2. fork: children forked while threads look names up keep working
#      (each reopens the cache), and so does the parent;
#   3. real programs: getent (gethostbyname2, getaddrinfo) and python3's
#      socket module give the same answers with and without the preload,
#      and the second run of each sends nothing to the server;
#   4. preloaded but disabled (SIPCACHE_DISABLE=1): address lookups pass
#      through untouched, every time, and no cache file is created;
#   5. the NSS module in the same process: it uses the preload's core (one
#      open of the cache file), and the answers are glibc's.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"

STRESS=$WORLD_BUILD/tests/progs/preload_stress
[ -e "$STRESS" ] || world_fail "$STRESS missing: build with make progs"
PY=/usr/bin/python3
[ -x "$PY" ] || world_require python3 python3-minimal
[ -x "$PY" ] || PY=$(command -v python3)

world_begin preload_procs
world_zone "$WORLD_ZONES/sip.test.zone"
world_zone "$WORLD_ZONES/0.0.127.in-addr.arpa.zone"
world_dns_start
CACHE=$WORLD_DIR/cache

# --- 1. threads ------------------------------------------------------------------------

names=(sip1.sip.test=127.0.0.11 sip2.sip.test=127.0.0.12 backup.sip.test=127.0.0.13
	nx.sip.test=NXDOMAIN alias.sip.test=127.0.0.11 multi.sip.test=127.0.0.31
	x.wild.sip.test=127.0.0.71 ns.sip.test=127.0.0.1)
threads=16 iters=400
world_dns_reset
out=$(world_run -t 120 env "${PRELOAD_VARS[@]}" "$STRESS" -t $threads -i $iters -u "${names[@]}")
# Every fourth question of each thread is a name nobody asked: a miss.
unique=$((threads * iters / 4))
world_assert_eq "ok $((threads * iters)) $unique" "$out" "threads, hits and misses"
# The main thread asked each name once before the threads started; then
# each unique name is one query, and nothing else goes out.
world_dns_assert_count "$((unique + ${#names[@]}))" "" "queries for $threads threads"
world_dns_reset
world_assert_eq "ok $((threads * iters)) 0" \
	"$(world_run -t 120 env "${PRELOAD_VARS[@]}" "$STRESS" -t $threads -i $iters "${names[@]}")" \
	"threads, hits only"
# (nx.sip.test's negative answer lives 5 s: on a slow run it may expire.)
world_assert_le "$(world_dns_count)" 1 "queries of the hits-only run"

# --- 2. fork -------------------------------------------------------------------------------

world_dns_reset
world_assert_eq "ok $((4 * 300)) 300" \
	"$(world_run -t 120 env "${PRELOAD_VARS[@]}" "$STRESS" -t 4 -i 300 -u -f 20 "${names[@]}")" \
	"20 children forked while 4 threads look up"
sent=$(world_dns_count)
world_assert_le 300 "$sent" "fork: the new misses go out"
world_assert_le "$sent" 301 "fork: nothing else goes out"

# --- 3. real programs --------------------------------------------------------------------------

world_addrconfig inet inet6
lookups=(
	"hosts sip1.sip.test" "hosts alias.sip.test" "hosts multi.sip.test" "hosts v6only.sip.test"
	"ahosts sip1.sip.test" "ahosts multi.sip.test" "ahostsv4 alias.sip.test"
	"ahostsv6 v4only.sip.test" "ahosts nx.sip.test" "hosts nx.sip.test"
	"hosts 127.0.0.12" "hosts 127.0.0.250"
)
# getent_all CMD...: every lookup as `CMD... getent LOOKUP', whole output
# and exit status.
getent_all() {
	local l
	for l in "${lookups[@]}"; do
		# shellcheck disable=SC2086
		echo "getent $l: $("$@" getent $l 2>&1 | world_squeeze; echo "status ${PIPESTATUS[0]}")"
	done
}
pre() { world_run env "${PRELOAD_VARS[@]}" "$@"; }
rm -f "$CACHE"/cache.tdb*
world_dns_reset
expect_getent=$(getent_all world_run)
getent_sent=$(world_dns_count)
world_assert_match 'getent ahosts multi.sip.test: 127.0.0.31 STREAM multi.sip.test' "$expect_getent" \
	"getent in the world (sanity)"
world_assert_eq "$expect_getent" "$(getent_all pre)" "getent through the preload (miss)"
world_dns_reset
world_assert_eq "$expect_getent" "$(getent_all pre)" "getent through the preload (hit)"
world_dns_assert_count 0 "" "getent, second run"

pyprog='
import socket, sys
for name in sys.argv[1:]:
    try:
        r = socket.getaddrinfo(name, 5060, type=socket.SOCK_DGRAM)
        print(name, [(f.name, a[0]) for f, _, _, _, a in r])
    except socket.gaierror as e:
        print(name, "gaierror", e.errno)
    try:
        print(name, socket.gethostbyname_ex(name))
    except OSError as e:
        print(name, "herror", e.args[0])
'
pynames=(sip1.sip.test alias.sip.test multi.sip.test v6only.sip.test nx.sip.test sip2)
world_dns_reset
expect_py=$(world_run "$PY" -c "$pyprog" "${pynames[@]}")
# sip2 is a bare label and there is no search list here: it goes to the
# root, which this world refuses, and REFUSED is never cached.
refused_py=$(world_dns_counter 'response-code[REFUSED]')
world_assert_match "multi.sip.test \[\('AF_INET', '127.0.0.31'\)" "$expect_py" "python3 in the world (sanity)"
rm -f "$CACHE"/cache.tdb*
world_assert_eq "$expect_py" "$(pre "$PY" -c "$pyprog" "${pynames[@]}")" "python3 through the preload (miss)"
world_dns_reset
world_assert_eq "$expect_py" "$(pre "$PY" -c "$pyprog" "${pynames[@]}")" "python3 through the preload (hit)"
world_dns_assert_count "$refused_py" "" "python3, second run (the REFUSED ones only)"

# --- 4. preloaded but disabled ----------------------------------------------------------------

rm -f "$CACHE"/cache.tdb*
for run in 1 2; do
	world_dns_reset
	world_assert_eq "$expect_getent" "$(getent_all world_run env SIPCACHE_DISABLE=1 "${PRELOAD_VARS[@]}")" \
		"getent, SIPCACHE_DISABLE=1, run $run"
	world_dns_assert_count "$getent_sent" "" "getent, SIPCACHE_DISABLE=1, run $run"
	world_assert_eq "$expect_py" "$(world_run env SIPCACHE_DISABLE=1 "${PRELOAD_VARS[@]}" \
		"$PY" -c "$pyprog" "${pynames[@]}")" "python3, SIPCACHE_DISABLE=1, run $run"
done
[ ! -e "$CACHE/cache.tdb" ] || world_fail "SIPCACHE_DISABLE=1 created the cache file"

# --- 5. the NSS module in the same process -------------------------------------------------------

module=$WORLD_BUILD/nss/libnss_sipcache.so.2
if [ -e "$module" ] && ! nm -D "$module" | grep -q __asan_init &&
    [ "${PRELOAD_VARS[0]}" = "LD_PRELOAD=$PRELOAD" ]; then
	libdir=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
	world_overlay "$libdir"
	world_run install -m 0644 "$module" "$libdir/libnss_sipcache.so.2"
	world_nsswitch_hosts "files sipcache dns"
	rm -f "$CACHE"/cache.tdb*
	expect=$(getent_all world_run)
	# What the module alone sends once its cache is warm: the names
	# it reports not found go on to `dns' (NOTFOUND continues).
	world_dns_reset
	getent_all world_run >/dev/null
	module_sent=$(world_dns_count)
	rm -f "$CACHE"/cache.tdb*
	# The preload leaves address lookups to glibc when sipcache is in
	# the hosts line; the module must then find the preload's core
	# (sipcache_core_ops_v1) rather than open the file a second time,
	# which tdb refuses (EBUSY): one core, one open, no such complaint.
	out=$(getent_all pre)
	world_assert_eq "$expect" "$out" "getent, preload and module (first run)"
	world_dns_reset
	world_assert_eq "$expect" "$(getent_all pre)" "getent, preload and module (second run)"
	world_dns_assert_count "$module_sent" "" "preload and module, second run (as the module alone)"
	if printf '%s\n' "$out" | grep -qi 'busy'; then
		world_fail "a second open of the cache file: $out"
	fi
	world_nsswitch_hosts "files dns"
else
	world_log "NSS module not built (or sanitized): part 5 skipped"
fi

world_end

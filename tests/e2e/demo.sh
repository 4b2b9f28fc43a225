#!/bin/bash
# tests/e2e/demo.sh - `make demo': what sipcache does, shown on a real SIP
# server, in about a minute, on a fresh Debian 12 machine (as root).
#
#   1. installs the Debian packages it needs when missing (apt-get);
#   2. builds sipcache (make all, quietly; the log is kept on failure);
#   3. in a private world (tests/lib/world.sh: network, mount and pid
#      namespaces with Knot as the DNS server, nothing reaches the host's
#      network or files), runs a real Kamailio relaying SIP OPTIONS sent by
#      sipp to the domain bench.e2e.test, first without sipcache, then
#      with sipcache's LD_PRELOAD shim; each RUNS times COUNT requests;
#   4. prints a table (requests per second, DNS queries per request as
#      counted at the DNS server), then `sipcachectl stats' and
#      `sipcachectl resolve sip:bench.e2e.test';
#   5. tears the world down.
# Exit status 0 when all of it worked; otherwise 1 with the end of the log.
#
# How: the script runs itself a second time (`demo.sh --world') for step 3
# and 4, with the world's own messages going to a log file, so that the
# screen shows only what a newcomer needs.  Settings: RUNS (3), COUNT
# (2000), O= (the build directory, as for make).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-3}
COUNT=${COUNT:-2000}
DOMAIN=bench.e2e.test
# What the demo needs, by Debian package: build, DNS server, SIP.
DEMO_PKGS="gcc make pkg-config libtdb-dev knot knot-dnsutils kamailio sip-tester
	iproute2 util-linux procps python3"

# --- the world part (demo.sh --world) ------------------------------------------

demo_world() {
	# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
	. "$top/tests/lib/world.sh"
	# shellcheck source-path=SCRIPTDIR source=lib/e2e.sh
	. "$top/tests/e2e/lib/e2e.sh"
	local cfg run q cold
	local -A rps=() qs=() med=() qpr=()

	world_begin demo
	e2e_init
	world_zone "$E2E_ZONE"
	world_dns_start
	e2e_uas_start 127.0.0.31
	E2E_UAC_LIMIT=50

	for cfg in without with; do
		if [ $cfg = without ]; then
			e2e_kamailio_start kam
		else
			rm -f "$WORLD_DIR"/cache/cache.tdb*
			e2e_kamailio_start kam --preload
		fi
		world_dns_reset
		e2e_uac "$DOMAIN" 1 1
		e2e_assert_answered 1 "the first request, $cfg sipcache"
		cold=$(world_dns_count)
		if [ $cfg = with ]; then
			printf '      the first request filled the empty cache: %s DNS queries\n' "$cold"
		fi
		for run in $(seq "$RUNS"); do
			world_dns_reset
			e2e_uac "$DOMAIN" "$COUNT" 50000
			e2e_assert_answered "$COUNT" "run $run $cfg sipcache"
			q=$(world_dns_count)
			rps[$cfg]+="$E2E_UAC_RPS"$'\n'
			qs[$cfg]+="$q"$'\n'
			printf '      run %d: %5d requests/s, %5d DNS queries for %d requests\n' \
				"$run" "$E2E_UAC_RPS" "$q" "$COUNT"
		done
		med[$cfg]=$(printf '%s' "${rps[$cfg]}" | sort -n |
			awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
		qpr[$cfg]=$(printf '%s' "${qs[$cfg]}" |
			awk -v n="$COUNT" '{ s += $1 } END { printf "%.2f", s / NR / n }')
		e2e_kamailio_stop kam
		if [ $cfg = without ]; then
			echo "[4/5] Kamailio with sipcache (LD_PRELOAD=libsipcache-preload.so), $RUNS x $COUNT requests"
		fi
	done
	e2e_uas_stop

	echo
	echo "Results: median of $RUNS runs of $COUNT SIP requests each"
	echo
	printf '  %-20s %12s %24s\n' "Kamailio" "requests/s" "DNS queries per request"
	printf '  %-20s %12s %24s\n' "without sipcache" "${med[without]}" "${qpr[without]}"
	printf '  %-20s %12s %24s\n' "with sipcache" "${med[with]}" "${qpr[with]}"
	echo
	awk -v a="${med[with]}" -v b="${med[without]}" -v qa="${qpr[with]}" -v qb="${qpr[without]}" 'BEGIN {
		printf "  With sipcache: %.1fx the requests per second, and DNS queries per request\n", a / b
		printf "  down from %s to %s: the answers come from the cache file that every\n", qb, qa
		printf "  Kamailio process shares.\n" }'
	# The point of it all: if sipcache did not cache, say so and fail.
	if [ "${qpr[with]}" != 0.00 ]; then
		world_fail "with sipcache, DNS queries still went out (${qpr[with]} per request)"
	fi

	echo
	echo "[5/5] What sipcache saw"
	if [ -n "$E2E_CTL" ]; then
		echo
		echo "\$ sipcachectl stats"
		e2e_ctl stats
		[ "$E2E_CTL_ST" = 0 ] || world_fail "sipcachectl stats: status $E2E_CTL_ST: $E2E_CTL_OUT"
		printf '%s\n' "$E2E_CTL_OUT" | sed -e 's/^./  &/'
		echo
		echo "\$ sipcachectl resolve sip:$DOMAIN     (RFC 3263: where a SIP request for it goes)"
		e2e_ctl resolve "sip:$DOMAIN"
		[ "$E2E_CTL_ST" = 0 ] || world_fail "sipcachectl resolve: status $E2E_CTL_ST: $E2E_CTL_OUT"
		printf '%s\n' "$E2E_CTL_OUT" | sed -e 's/^./  &/'
	else
		echo "  (sipcachectl is not built yet: no statistics to show)"
	fi
	world_end
}

if [ "${1:-}" = --world ]; then
	demo_world
	exit 0
fi

# --- the outer part: header, packages, build, then the world -----------------------

cat <<EOF
sipcache demo
=============
A real Kamailio SIP proxy relays SIP requests (OPTIONS, sent by sipp) to the
SIP domain $DOMAIN. For each request Kamailio, with its own DNS cache off
as legacy servers run, asks DNS for NAPTR, SRV and A records (RFC 3263).
Everything runs in a private network namespace with its own DNS server (Knot):
nothing reaches this host's network or configuration.

The same Kamailio runs twice: without sipcache, then with sipcache's
LD_PRELOAD shim, which answers those lookups from a cache file shared by every
process. The DNS server counts the queries that reach it.

EOF

if [ "$(id -u)" != 0 ]; then
	echo "make demo: run it as root (it installs packages and creates namespaces)" >&2
	exit 1
fi
log=$(mktemp /tmp/sipcache-demo.XXXXXX.log)
fail() {
	echo "FAILED: $*"
	echo "--- the end of $log:"
	tail -n 40 "$log"
	exit 1
}

printf '[1/5] Debian packages: '
missing=
for p in $DEMO_PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "all there"
else
	echo "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	if ! apt-get install -y -q --no-install-recommends $missing >>"$log" 2>&1; then
		apt-get update -q >>"$log" 2>&1 || :
		apt-get install -y -q --no-install-recommends $missing >>"$log" 2>&1 ||
			fail "apt-get install$missing"
	fi
fi

build=${O:-.}
printf '[2/5] Building sipcache (make all%s): ' "${O:+ O=$O}"
t0=$(date +%s)
if ! ${MAKE:-make} -C "$top" ${O:+O="$O"} all >>"$log" 2>&1; then
	fail "the build"
fi
echo "done in $(($(date +%s) - t0)) s"

echo "[3/5] Kamailio without sipcache, $RUNS x $COUNT requests"
st=0
O=$build RUNS=$RUNS COUNT=$COUNT bash "$0" --world 2>>"$log" || st=$?
if [ "$st" != 0 ]; then
	fail "the demo (exit status $st)"
fi
rm -f "$log"
echo
echo "Cleaned up: Kamailio, sipp, Knot and the namespace are gone."

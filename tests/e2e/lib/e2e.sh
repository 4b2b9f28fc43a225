# shellcheck shell=bash disable=SC2016,SC2034,SC2119,SC2120
# (SC2016: the sh -c scripts run inside the world, expanded there.
#  SC2034: E2E_* variables are for the scripts that source this.
#  SC2119/SC2120: optional arguments.)
#
# tests/e2e/lib/e2e.sh - a real Kamailio relaying real SIP traffic inside
# a world of tests/lib/world.sh, for the end-to-end tests
# (tests/e2e/test_*.sh), the demo (tests/e2e/demo.sh) and the Kamailio
# benchmark (bench/kamailio/run).  Source it after world.sh; call e2e_init
# after world_begin.
#
#	world_begin kamailio
#	e2e_init
#	world_zone "$E2E_ZONE"; world_dns_start
#	e2e_kamailio_start kam --preload -A LOGREQ   # Kamailio under sipcache
#	e2e_uas_start 127.0.0.11 127.0.0.12         # sipp sinks (SRV targets)
#	e2e_uac e2e.test 100 50                     # 100 OPTIONS at 50/s
#	e2e_assert_answered 100
#	e2e_uas_stop                                # E2E_UAS[ip]: requests each got
#
# The pieces:
#   - Kamailio 5.6.3 (Debian's package) with tests/e2e/kamailio.cfg: every
#     request is relayed statefully to the host of its Request-URI, a SIP
#     domain, so every request makes a worker resolve it (RFC 3263:
#     NAPTR, SRV, A).  Its own DNS cache is off unless -A KAMCACHE, so a
#     worker resolves through libresolv, which is what our preload
#     intercepts.  Started in the foreground (-DD) under world_spawn, so
#     it is stopped by pid (SIGTERM; its workers _exit()).
#   - sipp (Debian's sip-tester): a UAS per SRV target address, each a
#     sink answering 200 to every OPTIONS; its statistics file counts the
#     requests Kamailio sent there.  The UAC sends a bounded number of
#     OPTIONS at a bounded rate to Kamailio (127.0.0.1:5060) and its exit
#     status and statistics say how many got their 200.
#   - the zone tests/e2e/zones/e2e.test.zone, served by the world's Knot.
#
# Readiness: Kamailio binds its socket before it forks its workers, and a
# request that arrives early waits in the socket, so e2e_kamailio_start
# waits for the socket, then sends one OPTIONS that Kamailio answers
# itself (Request-URI sip:127.0.0.1, "myself": no DNS), proving that a
# worker runs the script.  Only then may a test reset the query counters.

E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_DIR=$(cd "$E2E_LIB/.." && pwd)
E2E_ZONE=$E2E_DIR/zones/e2e.test.zone
E2E_CFG=$E2E_DIR/kamailio.cfg
E2E_SIPP_DIR=$E2E_DIR/sipp
# Kamailio's address; every UAS listens on its own 127.0.0.x at this port.
E2E_SIP_ADDR=127.0.0.1
E2E_SIP_PORT=5060
E2E_UAC_PORT=5070
# Kamailio's shared memory, MB: a finished transaction is kept 5 s (tm's
# wait timer, for retransmissions), so at a few thousand requests per
# second 64 MB runs out (tm: "out of mem", and the request gets a 500).
: "${E2E_KAM_SHM:=256}"
# Every sipp UAC run is bounded by this many seconds beyond its own
# schedule (count / rate).
: "${E2E_UAC_SLACK:=30}"

# e2e_init: after world_begin.  Installs Kamailio and sipp when missing
# (Debian packages kamailio, sip-tester), finds this build's preload and
# sipcachectl.
e2e_init() {
	[ "$WORLD_ACTIVE" = 1 ] || world_fail "e2e_init: call world_begin first"
	world_require kamailio kamailio
	world_require sipp sip-tester
	world_require ss iproute2
	world_require python3 python3
	E2E_PRELOAD=$WORLD_BUILD/preload/libsipcache-preload.so
	[ -f "$E2E_PRELOAD" ] || world_fail "$E2E_PRELOAD is missing: run make"
	# The same injection as the integration tests (a sanitizer build
	# needs its runtime preloaded first).
	# shellcheck source-path=SCRIPTDIR source=../../helpers/preload_world.sh
	. "$WORLD_TOP/tests/helpers/preload_world.sh"
	E2E_CTL=$WORLD_BUILD/ctl/sipcachectl
	if [ ! -x "$E2E_CTL" ]; then
		E2E_CTL=
	fi
	E2E_WORK=$WORLD_DIR/e2e
	mkdir -p "$E2E_WORK"
	e2e_sipcache_conf
	E2E_UAC_SEQ=0
	E2E_UAS_LIST=
	declare -gA E2E_UAS=()
	declare -gA E2E_KAM_MARK=()
}

# e2e_sipcache_conf [LINE...]: the world's sipcache.conf (world_sipcache_conf)
# with the defaults an operator gets (prefetch = yes, which the
# integration tests turn off to count queries of their own), then LINEs.
e2e_sipcache_conf() {
	world_sipcache_conf "prefetch = yes" "$@"
}

# --- Kamailio ---------------------------------------------------------------

# e2e_kamailio_start NAME [--preload] [--port PORT] [--env VAR=VALUE]...
# [-A DEFINE]...: Kamailio with tests/e2e/kamailio.cfg, spawned as NAME
# (log in $WORLD_LOGS/NAME.log), listening on 127.0.0.1:PORT (default
# 5060), ready when this returns.  --preload injects this build's
# libsipcache-preload.so with SIPCACHE_CONF naming the world's
# sipcache.conf, and checks that every Kamailio process mapped it.
# e2e_uac sends to the Kamailio started last, or to E2E_TARGET_PORT.
e2e_kamailio_start() {
	local name=${1:?e2e_kamailio_start NAME [--preload] [-A DEFINE]...}
	local preload=0 envs=() defs=() i nprocs pids p how port=$E2E_SIP_PORT
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--preload) preload=1 ;;
		--port) port=$2; shift ;;
		--env) envs+=("$2"); shift ;;
		-A) defs+=(-A "$2"); shift ;;
		*) world_fail "e2e_kamailio_start: unknown argument $1" ;;
		esac
		shift
	done
	if [ $preload = 1 ]; then
		envs+=("${PRELOAD_VARS[@]}" "SIPCACHE_CONF=/etc/sipcache.conf")
	fi
	mkdir -p "$E2E_WORK/$name"
	defs+=(-A "LISTEN=udp:$E2E_SIP_ADDR:$port")
	# -DD: the main process stays in the foreground (the pid world_spawn
	# knows) and forks the workers; -E: log to stderr (NAME.log); -Y: a
	# runtime directory of this world's.
	world_spawn "$name" env "${envs[@]}" kamailio -f "$E2E_CFG" -DD -E \
		-Y "$E2E_WORK/$name" -m "$E2E_KAM_SHM" -M 8 "${defs[@]}"
	# The socket first: the workers are forked after it is bound.
	i=0
	until world_run -t 5 ss -Hlun 2>/dev/null |
	    grep -q " $E2E_SIP_ADDR:$port "; do
		if ! world_running "$name" || [ $i -ge 200 ]; then
			world_fail "Kamailio ($name) did not bind $E2E_SIP_ADDR:$port:" \
				"$(tail -n 20 "$WORLD_LOGS/$name.log")"
		fi
		sleep 0.05
		i=$((i + 1))
	done
	# Then a request it answers itself, proving a worker is up.
	E2E_TARGET_PORT=$port
	e2e_uac "$E2E_SIP_ADDR:$port" 1 10
	if [ "$E2E_OK" != 1 ]; then
		world_fail "Kamailio ($name) did not answer its own OPTIONS:" \
			"$(tail -n 20 "$WORLD_LOGS/$name.log")"
	fi
	# Every process has forked by now: all of them must hold our code.
	nprocs=$(sed -n 's/.*processes (at least): \([0-9]*\) .*/\1/p' \
		"$WORLD_LOGS/$name.log" | tail -n 1)
	pids=$(e2e_kamailio_pids "$name")
	if [ $preload = 1 ]; then
		for p in $pids; do
			world_run -t 5 grep -q libsipcache-preload "/proc/$p/maps" ||
				world_fail "Kamailio process $p ($name) runs without the preload"
		done
	fi
	if [ $preload = 1 ]; then
		how="under sipcache's preload"
	else
		how="without sipcache"
	fi
	world_log "Kamailio $name up, $how: $(echo "$pids" | wc -w) processes" \
		"(${nprocs:-?} announced)"
	E2E_KAM_MARK[$name]=$(wc -l <"$WORLD_LOGS/$name.log")
}

# e2e_kamailio_pids NAME: pids (inside the world) of the main process and
# its children.
e2e_kamailio_pids() {
	local main
	main=$(world_pid "$1") || return 1
	world_run -t 5 sh -c 'echo "$1"; pgrep -P "$1" || :' e2e "$main" | xargs
}

# e2e_kamailio_stop NAME: SIGTERM by pid; Kamailio must exit 0.
e2e_kamailio_stop() {
	local st=0
	world_stop "$1" 10 || st=$?
	if [ "$st" != 0 ]; then
		world_fail "Kamailio ($1) exited with status $st:" \
			"$(tail -n 20 "$WORLD_LOGS/$1.log")"
	fi
}

# e2e_kamailio_mark NAME: the log lines from now on are the ones
# e2e_kamailio_workers and e2e_kamailio_log look at.
e2e_kamailio_mark() {
	E2E_KAM_MARK[$1]=$(wc -l <"$WORLD_LOGS/$1.log")
}

# e2e_kamailio_log NAME: the log of NAME since the last mark.
e2e_kamailio_log() {
	tail -n "+$((${E2E_KAM_MARK[$1]:-0} + 1))" "$WORLD_LOGS/$1.log"
}

# e2e_kamailio_workers NAME: how many distinct worker processes relayed a
# request since the mark (needs -A LOGREQ).
e2e_kamailio_workers() {
	e2e_kamailio_log "$1" | sed -n 's/.* e2e request pid=\([0-9]*\) .*/\1/p' |
		sort -u | wc -l
}

# e2e_kamailio_crashes NAME: lines of the log since the mark saying a
# process died: Kamailio's main process logs each child it reaps (a worker
# killed by SIGSEGV, or by SIGABRT from a sanitizer) and then stops the
# whole server; sanitizer reports go to the same log.
e2e_kamailio_crashes() {
	e2e_kamailio_log "$1" | grep -E 'child process [0-9]+ (exited|stopped)|terminating due to SIGCHLD|ERROR: (Address|Undefined)Sanitizer|runtime error:' || :
}

# --- sipp --------------------------------------------------------------------

# e2e_uas_start IP...: one sipp sink per address, on port 5060, each
# answering 200 to every OPTIONS.  Counts start at zero.
e2e_uas_start() {
	local ip n
	for ip in "$@"; do
		n=uas${ip//./_}
		rm -f "$E2E_WORK/$n.csv"
		# sipp's screens go to a file of their own: they would
		# drown the logs a failed test prints.
		world_spawn "$n" sh -c 'out=$1; shift; exec "$@" >"$out"' e2e \
			"$E2E_WORK/$n.screen" sipp -sf "$E2E_SIPP_DIR/uas.xml" -i "$ip" \
			-p "$E2E_SIP_PORT" -nostdin -trace_stat -stf "$E2E_WORK/$n.csv" \
			-fd 1 -trace_err -error_file "$WORLD_LOGS/$n.err.log"
		E2E_UAS_LIST="$E2E_UAS_LIST $ip"
	done
	for ip in "$@"; do
		n=0
		until world_run -t 5 ss -Hlun 2>/dev/null | grep -q " $ip:$E2E_SIP_PORT "; do
			if [ $n -ge 200 ] || ! world_running "uas${ip//./_}"; then
				world_fail "the UAS on $ip did not start:" \
					"$(tail -n 20 "$WORLD_LOGS/uas${ip//./_}.log")"
			fi
			sleep 0.05
			n=$((n + 1))
		done
	done
}

# e2e_uas_stop: stop every UAS (sipp writes its final statistics on
# SIGTERM); E2E_UAS[IP] gets the requests each received, E2E_UAS_TOTAL
# their sum, E2E_UAS_TEXT "IP=N ..." for messages.
e2e_uas_stop() {
	local ip n st count
	E2E_UAS=()
	E2E_UAS_TOTAL=0
	E2E_UAS_TEXT=
	for ip in $E2E_UAS_LIST; do
		n=uas${ip//./_}
		st=0
		world_stop "$n" 5 || st=$?
		if [ "$st" != 0 ]; then
			world_fail "the UAS on $ip exited with status $st"
		fi
		count=$(e2e__csv_last "$E2E_WORK/$n.csv" 'IncomingCall(C)') ||
			world_fail "no statistics from the UAS on $ip"
		E2E_UAS[$ip]=$count
		E2E_UAS_TOTAL=$((E2E_UAS_TOTAL + count))
		E2E_UAS_TEXT="$E2E_UAS_TEXT $ip=$count"
	done
	E2E_UAS_TEXT=${E2E_UAS_TEXT# }
	E2E_UAS_LIST=
}

# The value of column $2 in the last row of sipp's statistics file $1.
e2e__csv_last() {
	[ -s "$1" ] || return 1
	awk -F';' -v col="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		{ last = $c }
		END { if (!c || last == "") exit 1; print last }' "$1"
}

# e2e_uac HOST COUNT RATE [sipp options...]: COUNT OPTIONS requests for
# sip:HOST to Kamailio, RATE per second, at most E2E_UAC_LIMIT (default
# 50) in flight.  Sets E2E_OK (200 received), E2E_FAIL (anything else, or
# nothing within 5 s), E2E_UAC_ST (sipp's exit status: 0 when every call
# succeeded), E2E_UAC_MS (wall-clock milliseconds of the run) and
# E2E_UAC_RPS (COUNT / seconds).  Never fails by itself.
e2e_uac() {
	local host=$1 count=$2 rate=$3 n bound t0 t1
	shift 3
	E2E_UAC_SEQ=$((E2E_UAC_SEQ + 1))
	n=$E2E_WORK/uac-$E2E_UAC_SEQ
	# The schedule plus slack: a hung Kamailio fails the run, not the
	# whole test by its outer timeout.
	bound=$((count / rate + E2E_UAC_SLACK))
	t0=$(world_now_ms)
	E2E_UAC_ST=0
	world_run -t $((bound + 10)) sipp -sf "$E2E_SIPP_DIR/uac.xml" \
		-i "$E2E_SIP_ADDR" -p "$E2E_UAC_PORT" -s "$host" \
		-m "$count" -r "$rate" -l "${E2E_UAC_LIMIT:-50}" \
		-nostdin -timeout "${bound}s" -timeout_error \
		-trace_stat -stf "$n.csv" -fd 1 \
		-trace_err -error_file "$n.err" \
		"$@" "$E2E_SIP_ADDR:${E2E_TARGET_PORT:-$E2E_SIP_PORT}" >"$n.out" 2>&1 ||
		E2E_UAC_ST=$?
	t1=$(world_now_ms)
	E2E_UAC_MS=$((t1 - t0))
	if [ "$E2E_UAC_MS" -le 0 ]; then
		E2E_UAC_MS=1
	fi
	E2E_UAC_RPS=$((count * 1000 / E2E_UAC_MS))
	E2E_OK=$(e2e__csv_last "$n.csv" 'SuccessfulCall(C)') || E2E_OK=0
	E2E_FAIL=$(e2e__csv_last "$n.csv" 'FailedCall(C)') || E2E_FAIL=$count
	# A summary per run in the logs, and sipp's own words on failure.
	{
		printf 'uac run %s: sip:%s count=%s rate=%s: ok=%s failed=%s status=%s %sms\n' \
			"$E2E_UAC_SEQ" "$host" "$count" "$rate" "$E2E_OK" "$E2E_FAIL" \
			"$E2E_UAC_ST" "$E2E_UAC_MS"
		if [ "$E2E_UAC_ST" != 0 ] || [ "$E2E_OK" != "$count" ]; then
			tail -n 30 "$n.out"
			[ -s "$n.err" ] && tail -n 60 "$n.err"
		fi
	} >>"$WORLD_LOGS/sipp.log" 2>&1
	return 0
}

# e2e_uac_bg HOST COUNT RATE [sipp options...]: e2e_uac in the
# background, so that the test can change the world while requests flow
# (stop the DNS server mid-run); e2e_uac_wait collects its results into
# the same variables.  One at a time.
e2e_uac_bg() {
	# The run's number is taken here, in the test's shell: the
	# background subshell's increment would be lost.
	E2E_UAC_SEQ=$((E2E_UAC_SEQ + 1))
	E2E_UAC_BG_FILE=$E2E_WORK/uac-bg-$E2E_UAC_SEQ.result
	(
		E2E_UAC_SEQ=$((E2E_UAC_SEQ + 1000))
		e2e_uac "$@"
		echo "$E2E_OK $E2E_FAIL $E2E_UAC_ST $E2E_UAC_MS $E2E_UAC_RPS" \
			>"$E2E_UAC_BG_FILE.tmp"
		mv "$E2E_UAC_BG_FILE.tmp" "$E2E_UAC_BG_FILE"
	) &
	E2E_UAC_BG_PID=$!
}

e2e_uac_wait() {
	local r
	wait "$E2E_UAC_BG_PID" || :
	r=$(cat "$E2E_UAC_BG_FILE" 2>/dev/null) ||
		world_fail "the background UAC left no result"
	read -r E2E_OK E2E_FAIL E2E_UAC_ST E2E_UAC_MS E2E_UAC_RPS <<<"$r"
}

# e2e_assert_answered COUNT [WHAT]: the last e2e_uac run got COUNT 200s
# and no failure.
e2e_assert_answered() {
	local what=${2:-requests}
	if [ "$E2E_OK" != "$1" ] || [ "$E2E_FAIL" != 0 ] || [ "$E2E_UAC_ST" != 0 ]; then
		world_fail "$what: $1 sent, $E2E_OK answered 200, $E2E_FAIL failed" \
			"(sipp status $E2E_UAC_ST; see sipp.log)"
	fi
}

# --- sipcachectl ------------------------------------------------------------

# e2e_ctl ARGS...: this build's sipcachectl inside the world, with the
# world's sipcache.conf; output in E2E_CTL_OUT, status in E2E_CTL_ST.
e2e_ctl() {
	[ -n "$E2E_CTL" ] || world_fail "sipcachectl is not built"
	E2E_CTL_ST=0
	E2E_CTL_OUT=$(world_run -t 20 "$E2E_CTL" --config /etc/sipcache.conf "$@" 2>&1) ||
		E2E_CTL_ST=$?
}

# e2e_stat KEY: one counter of `sipcachectl stats --json'.
e2e_stat() {
	e2e_ctl stats --json
	[ "$E2E_CTL_ST" = 0 ] || world_fail "sipcachectl stats --json: status $E2E_CTL_ST: $E2E_CTL_OUT"
	printf '%s\n' "$E2E_CTL_OUT" | python3 -c '
import json, sys
v = json.load(sys.stdin)[sys.argv[1]]
print(v if v is not None else 0)' "$1" ||
		world_fail "no counter $1 in: $E2E_CTL_OUT"
}

# --- what the SIP-aware lookup path can do yet ---------------------------------

# e2e_srv_targets NAME: the targets of the SRV answer for NAME as
# sipcachectl get serves it (through the cache, as a hit would be), in
# order, one line.
e2e_srv_targets() {
	e2e_ctl get --short "$1" SRV
	[ "$E2E_CTL_ST" = 0 ] || world_fail "sipcachectl get $1 SRV: status $E2E_CTL_ST: $E2E_CTL_OUT"
	printf '%s\n' "$E2E_CTL_OUT" | awk 'NF == 4 { sub(/\.$/, "", $4); print $4 }' | xargs
}

# e2e_have_srv_order NAME: true when served SRV answers for NAME come in
# more than one order over 40 lookups (srv_order = rfc2782 must be in
# the world's sipcache.conf, and NAME's top priority must hold records of
# weights that make each first at least a quarter of the time: 40 draws
# all alike then happen with probability below 1e-5).  Needs sipcachectl.
e2e_have_srv_order() {
	local i firsts=
	[ -n "$E2E_CTL" ] || return 1
	for i in $(seq 40); do
		firsts="$firsts
$(e2e_srv_targets "$1" | cut -d' ' -f1)"
	done
	[ "$(printf '%s\n' "$firsts" | sed '/^$/d' | sort -u | wc -l)" -ge 2 ]
}

# e2e_have_marks NAME TARGET: true when marking TARGET down (a host name
# of one of NAME's SRV records, not the last one) moves it to the end of
# the served answer, or out of it.  The mark is removed again.
e2e_have_marks() {
	local before after
	[ -n "$E2E_CTL" ] || return 1
	before=$(e2e_srv_targets "$1")
	e2e_ctl down "$2" 30
	[ "$E2E_CTL_ST" = 0 ] || world_fail "sipcachectl down $2: status $E2E_CTL_ST: $E2E_CTL_OUT"
	after=$(e2e_srv_targets "$1")
	e2e_ctl up "$2"
	[ "$E2E_CTL_ST" = 0 ] || world_fail "sipcachectl up $2: status $E2E_CTL_ST: $E2E_CTL_OUT"
	world_log "SRV targets of $1: [$before]; with $2 marked down: [$after]"
	case " $after " in
	*" $2 "*) [ "${after##* }" = "$2" ] && [ "$after" != "$before" ] ;;
	*) [ -n "$after" ] ;;
	esac
}

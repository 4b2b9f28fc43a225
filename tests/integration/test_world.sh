#!/bin/bash
# test_world.sh - proves the harness (tests/lib/world.sh) before any test
# of sipcache relies on it:
#   1. the world is isolated: its own /etc files, hostname and network,
#      and the host's files are untouched (checksums before, during and
#      after); an overlay keeps our files when the lower file is replaced
#      by rename, the trap that single-file bind mounts fall into;
#   2. Knot answers every RRset of every fixture zone exactly as the zone
#      holds it, and the protocol cases (NXDOMAIN, NODATA, referral,
#      REFUSED, truncation, additional records) as whole answers;
#   3. the query counters are exact, by protocol and by type;
#   4. glibc in the world resolves through our server (getent hosts,
#      ahosts; AI_ADDRCONFIG in a loopback-only world; hosts file and
#      nsswitch order; search list; reverse), with exact query counts;
#   5. a stopped server makes lookups fail at once, a frozen one within
#      the configured timeout, never later;
#   6. processes are stopped by pid, world_run is bounded, a second world
#      can run at the same time with its own port 53;
#   7. world_end leaves no process, namespace, mount or file behind.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"

# What of the host the world must never change.
host_state() {
	local f
	for f in /etc/resolv.conf /etc/nsswitch.conf /etc/hosts \
	    /etc/host.conf /etc/gai.conf /etc/sipcache.conf; do
		if [ -e "$f" ]; then
			sha256sum "$f"
		else
			echo "absent $f"
		fi
	done
	if [ -e /etc/netns ]; then
		ls -la /etc/netns
	fi
	ip netns list
	hostname
}

before=$(host_state)

world_begin world
for z in sip.test e164.arpa 0.0.127.in-addr.arpa; do
	world_zone "$WORLD_ZONES/$z.zone"
done
world_dns_start
world_dns_assert_count 0 "" "queries counted right after start"

# --- 1. isolation -----------------------------------------------------------------

world_assert_eq "# written by world_resolv (world)
nameserver 127.0.0.1
options timeout:1 attempts:2" "$(world_run cat /etc/resolv.conf)" "resolv.conf in the world"
world_assert_eq "hosts: files dns" \
	"$(world_run grep '^hosts:' /etc/nsswitch.conf)" "nsswitch.conf hosts line"
world_assert_eq "127.0.0.1 localhost
127.0.1.1 world
::1 localhost ip6-localhost ip6-loopback" "$(world_run cat /etc/hosts)" "hosts"
world_assert_eq "# written by world_sipcache_conf (world)
cache_file = $WORLD_DIR/cache/cache.tdb
log = stderr
prefetch = no" "$(world_run cat /etc/sipcache.conf)" "sipcache.conf"
world_assert_eq world "$(world_run hostname)" "hostname in the world"
world_assert_eq "lo" "$(world_run ip -o link show | awk -F': ' '{ print $2 }')" \
	"interfaces in the world"
# /run is private: no nscd socket of the host can answer for DNS.
world_assert_eq "tmpfs world-run" "$(world_run findmnt -n -o FSTYPE,SOURCE /run | world_squeeze)" "/run"
world_assert_eq "overlay world-overlay" "$(world_run findmnt -n -o FSTYPE,SOURCE /etc | world_squeeze)" "/etc"
world_assert_eq "$before" "$(host_state)" "host state while the world is up"

# Why an overlay on /etc and not a bind mount of /etc/resolv.conf: replace
# the lower file by rename, as resolvconf or a DHCP client does on a host.
# The world keeps seeing its own file.  (On a scratch directory, never on
# the host's /etc.)
scratch=$WORLD_DIR/scratch
mkdir "$scratch"
echo "host 1" >"$scratch/resolv.conf"
world_overlay "$scratch"
world_run sh -c "echo world >'$scratch/resolv.conf.new' &&
	mv '$scratch/resolv.conf.new' '$scratch/resolv.conf'"
echo "host 2" >"$scratch/resolv.conf.tmp"
mv "$scratch/resolv.conf.tmp" "$scratch/resolv.conf"
world_assert_eq world "$(world_run cat "$scratch/resolv.conf")" \
	"world's file after the host replaced the lower one"
world_assert_eq "host 2" "$(cat "$scratch/resolv.conf")" "host's file"

# --- 2. Knot serves the fixtures ------------------------------------------------------

# Every RRset of every zone, as the server holds it (knotc zone-read: not
# a query, not counted), must come back whole from a query for it.
declare -A sent=()
nsent=0
for z in sip.test. e164.arpa. 0.0.127.in-addr.arpa.; do
	zr=$(world_knotc zone-read "$z" | sed 's/^\[[^]]*\] //')
	[ -n "$zr" ] || world_fail "zone-read $z returned nothing"
	while read -r owner type; do
		expect=$(printf '%s\n' "$zr" |
			awk -v o="$owner" -v t="$type" '$1 == o && $3 == t' | sort)
		# NS below the apex is a delegation: a referral, in authority.
		sec=an
		if [ "$type" = NS ] && [ "$owner" != "$z" ]; then
			sec=ns
		fi
		got=$(world_dig_answer "$owner" "$type" +bufsize=1232 |
			awk -v s="$sec" '$1 == s { sub(/^[a-z]+ /, ""); sub(/ IN /, " "); print }' |
			sort)
		world_assert_eq "$expect" "$got" "$owner $type from the server"
		sent[$type]=$((${sent[$type]:-0} + 1))
		nsent=$((nsent + 1))
	done < <(printf '%s\n' "$zr" | awk '{ print $1, $3 }' | sort -u)
done
# Every kind of record of the brief is there.
for type in SOA NS A AAAA CNAME TXT SRV NAPTR PTR; do
	[ "${sent[$type]:-0}" -gt 0 ] || world_fail "no $type record in the fixtures"
done
world_dns_assert_count "$nsent" "" "one query per RRset"
for type in "${!sent[@]}"; do
	world_dns_assert_count "${sent[$type]}" "$type"
done
world_assert_eq "$nsent" "$(world_dns_counter 'request-protocol[udp4]')" "UDP/IPv4 queries"

# The protocol cases, as whole answers.
check_answer() {
	local name=$1 type=$2 expect=$3
	shift 3
	world_assert_eq "$expect" "$(world_dig_answer "$name" "$type" "$@")" "answer to $name $type $*"
}
world_dns_reset
check_answer sip.test NAPTR "status NOERROR
flags qr aa rd
an sip.test. 3600 IN NAPTR 10 50 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.sip.test.
an sip.test. 3600 IN NAPTR 20 50 \"s\" \"SIP+D2T\" \"\" _sip._tcp.sip.test.
an sip.test. 3600 IN NAPTR 30 50 \"s\" \"SIP+D2U\" \"\" _sip._udp.sip.test."
check_answer _sip._udp.sip.test SRV "status NOERROR
flags qr aa rd
an _sip._udp.sip.test. 600 IN SRV 10 10 5060 sip1.sip.test.
an _sip._udp.sip.test. 600 IN SRV 10 30 5060 sip2.sip.test.
an _sip._udp.sip.test. 600 IN SRV 20 0 5060 backup.sip.test.
ad sip1.sip.test. 300 IN A 127.0.0.11
ad sip1.sip.test. 300 IN AAAA ::1
ad sip2.sip.test. 300 IN A 127.0.0.12
ad backup.sip.test. 300 IN A 127.0.0.13"
check_answer alias.sip.test AAAA "status NOERROR
flags qr aa rd
an alias.sip.test. 300 IN CNAME alias2.sip.test.
an alias2.sip.test. 300 IN CNAME sip1.sip.test.
an sip1.sip.test. 300 IN AAAA ::1"
check_answer nx.sip.test A "status NXDOMAIN
flags qr aa rd
ns sip.test. 5 IN SOA ns.sip.test. hostmaster.sip.test. 2024010101 3600 600 86400 5"
check_answer v4only.sip.test AAAA "status NOERROR
flags qr aa rd
ns sip.test. 5 IN SOA ns.sip.test. hostmaster.sip.test. 2024010101 3600 600 86400 5"
check_answer sip1.sip.test NAPTR "status NOERROR
flags qr aa rd
ns sip.test. 5 IN SOA ns.sip.test. hostmaster.sip.test. 2024010101 3600 600 86400 5"
check_answer host.away.sip.test A "status NOERROR
flags qr rd
ns away.sip.test. 300 IN NS ns.away.invalid."
check_answer sip.example.com A "status REFUSED
flags qr rd"
check_answer caller.wild.sip.test A "status NOERROR
flags qr aa rd
an caller.wild.sip.test. 300 IN A 127.0.0.71"
check_answer short.sip.test A "status NOERROR
flags qr aa rd
an short.sip.test. 2 IN A 127.0.0.41"
# Without EDNS the forty addresses do not fit in 512 bytes: TC, no
# records (+ignore: kdig does not retry over TCP).
check_answer big.sip.test A "status NOERROR
flags qr aa tc rd" +ignore
world_dns_assert_count 11 "" "queries of the protocol cases"
world_dns_assert_count 6 A
world_dns_assert_count 2 AAAA
world_dns_assert_count 2 NAPTR
world_dns_assert_count 1 SRV
world_assert_eq "1 1" "$(world_dns_counter 'response-code[REFUSED]') $(world_dns_counter 'response-code[NXDOMAIN]')" \
	"REFUSED and NXDOMAIN answers"

# --- 3. exact counts, by protocol -----------------------------------------------------

# 60 queries in one kdig run, three protocols, several types.
world_dns_reset
args=()
for _ in $(seq 1 20); do
	args+=(sip1.sip.test A "_sip._udp.sip.test" SRV)
done
world_run kdig @127.0.0.1 +retry=0 +timeout=2 +short "${args[@]}" >/dev/null
args6=() argstcp=()
for _ in $(seq 1 10); do
	args6+=(sip.test NAPTR)
	argstcp+=(txt.sip.test TXT)
done
if [ "$WORLD_IPV6" = 1 ]; then
	world_run kdig -6 @::1 +retry=0 +timeout=2 +short "${args6[@]}" >/dev/null
	by_proto="40 10 10 0"
else
	world_run kdig @127.0.0.1 +retry=0 +timeout=2 +short "${args6[@]}" >/dev/null
	by_proto="50 0 10 0"
fi
world_run kdig @127.0.0.1 +tcp +retry=0 +timeout=2 +short "${argstcp[@]}" >/dev/null
world_dns_assert_count 60
world_dns_assert_count 20 A
world_dns_assert_count 20 SRV
world_dns_assert_count 10 NAPTR
world_dns_assert_count 10 TXT
world_dns_assert_count 0 AAAA
world_assert_eq "$by_proto" "$(world_dns_counter 'request-protocol[udp4]') $(world_dns_counter 'request-protocol[udp6]') $(world_dns_counter 'request-protocol[tcp4]') $(world_dns_counter 'request-protocol[tcp6]')" \
	"queries by protocol (udp4 udp6 tcp4 tcp6)"
# One lookup, two queries: truncated over UDP, then TCP.
world_dns_reset
world_assert_eq "$(seq -f '127.0.1.%g' 1 40)" \
	"$(world_run kdig @127.0.0.1 +retry=0 +short big.sip.test A 2>/dev/null | grep -v '^$')" \
	"addresses of big.sip.test"
world_assert_eq "1 1" "$(world_dns_counter 'request-protocol[udp4]') $(world_dns_counter 'request-protocol[tcp4]')" \
	"UDP then TCP for a truncated answer"

# --- 4. glibc resolves through the world ------------------------------------------------

# getent hosts: gethostbyname2(AF_INET6), then AF_INET if that failed.
world_dns_reset
world_assert_eq "::1 sip1.sip.test" \
	"$(world_run getent hosts sip1.sip.test | world_squeeze)" "getent hosts sip1"
world_dns_assert_count 1 AAAA
world_dns_assert_count 1
world_dns_reset
world_assert_eq "127.0.0.61 v4only.sip.test" \
	"$(world_run getent hosts v4only.sip.test | world_squeeze)" "getent hosts v4only"
world_dns_assert_count 1 AAAA "AAAA (NODATA)"
world_dns_assert_count 1 A
world_dns_assert_count 2
world_dns_reset
world_assert_eq "::1 sip1.sip.test alias.sip.test alias2.sip.test" \
	"$(world_run getent hosts alias.sip.test | world_squeeze)" "getent hosts alias"
world_dns_assert_count 1
world_dns_reset
world_assert_eq "127.0.0.31 STREAM multi.sip.test
127.0.0.31 DGRAM
127.0.0.31 RAW
127.0.0.32 STREAM
127.0.0.32 DGRAM
127.0.0.32 RAW
127.0.0.33 STREAM
127.0.0.33 DGRAM
127.0.0.33 RAW
127.0.0.34 STREAM
127.0.0.34 DGRAM
127.0.0.34 RAW" "$(world_run getent -A ahostsv4 multi.sip.test | world_squeeze)" "getent -A ahostsv4 multi"
world_dns_assert_count 1 A
world_dns_assert_count 1
world_dns_reset
world_assert_eq "127.0.0.11 sip1.sip.test" \
	"$(world_run getent hosts 127.0.0.11 | world_squeeze)" "getent hosts 127.0.0.11 (PTR)"
world_dns_assert_count 1 PTR
world_dns_assert_count 1

# AI_ADDRCONFIG in a loopback-only world: glibc counts no address but
# 127.0.0.1 and ::1, so it sees neither family.  AF_UNSPEC is then not
# narrowed (both A and AAAA are asked), while AF_INET fails at once
# without a query.
world_dns_reset
world_assert_eq "::1 STREAM sip1.sip.test
::1 DGRAM
::1 RAW
127.0.0.11 STREAM
127.0.0.11 DGRAM
127.0.0.11 RAW" "$(world_run getent ahosts sip1.sip.test | world_squeeze)" \
	"getent ahosts sip1 (loopback only)"
world_dns_assert_count 1 A
world_dns_assert_count 1 AAAA
world_dns_reset
world_assert_status 2 world_run getent ahostsv4 sip1.sip.test
world_dns_assert_count 0 "" "queries of an AF_INET+AI_ADDRCONFIG lookup in a loopback-only world"
world_assert_eq "127.0.0.11 STREAM sip1.sip.test" \
	"$(world_run getent -A ahostsv4 sip1.sip.test | world_squeeze | head -n 1)" \
	"getent --no-addrconfig ahostsv4 sip1"
world_dns_assert_count 1 A
# With an IPv4 address, AF_UNSPEC narrows to IPv4: one query.
world_addrconfig inet
world_dns_reset
world_assert_eq "127.0.0.11 STREAM sip1.sip.test" \
	"$(world_run getent ahosts sip1.sip.test | world_squeeze | head -n 1)" \
	"getent ahosts sip1 (IPv4 configured)"
world_dns_assert_count 1 "" "queries of AF_UNSPEC with IPv4 only configured"
world_dns_assert_count 1 A
if [ "$WORLD_IPV6" = 1 ]; then
	world_addrconfig inet6
	world_dns_reset
	world_assert_eq 6 "$(world_run getent ahosts sip1.sip.test | wc -l)" \
		"addresses x socket types with both families configured"
	world_dns_assert_count 2
fi
world_addrconfig none

# The hosts file and the order of nsswitch.conf.
world_hosts "127.0.0.1 localhost" "127.0.0.99 hostsonly.sip.test" \
	"127.0.0.98 sip2.sip.test"
world_dns_reset
world_assert_eq "127.0.0.98 STREAM sip2.sip.test" \
	"$(world_run getent ahosts sip2.sip.test | world_squeeze | head -n 1)" \
	"hosts file before DNS"
world_assert_eq "127.0.0.99 STREAM hostsonly.sip.test" \
	"$(world_run getent ahosts hostsonly.sip.test | world_squeeze | head -n 1)" \
	"getent ahosts of a hosts file entry"
world_dns_assert_count 0 "" "queries of getaddrinfo for names of the hosts file"
# gethostbyname2(AF_INET6) finds no IPv6 entry in the file and asks DNS
# (NXDOMAIN); AF_INET then finds the file's entry.
world_assert_eq "127.0.0.99 hostsonly.sip.test" \
	"$(world_run getent hosts hostsonly.sip.test | world_squeeze)" "getent hosts of a hosts file entry"
world_dns_assert_count 1 AAAA
world_dns_assert_count 1
world_nsswitch_hosts dns
world_dns_reset
world_assert_status 2 world_run getent hosts hostsonly.sip.test
world_dns_assert_count 2 "" "queries with hosts: dns (AAAA and A, NXDOMAIN)"
world_assert_eq 2 "$(world_dns_counter 'response-code[NXDOMAIN]')" "NXDOMAIN answers"
world_nsswitch_hosts files dns
world_hosts

# A search list, from WORLD_RES_SEARCH.
WORLD_RES_SEARCH=sip.test world_resolv
world_dns_reset
world_assert_eq "::1 sip1.sip.test" \
	"$(world_run getent hosts sip1 | world_squeeze)" "getent hosts sip1 (search sip.test)"
world_dns_assert_count 1
world_resolv

# A nameserver where nothing listens: refused at once, nothing reaches ours.
world_resolv 127.0.0.2
world_dns_reset
world_assert_status 2 world_run -t 5 getent hosts sip1.sip.test
world_dns_assert_count 0
world_resolv

# Records changed on the running server.
world_dns_reset
world_dns_set sip.test. added 300 A 127.0.0.77
world_assert_eq "127.0.0.77" "$(world_run kdig @127.0.0.1 +short added.sip.test A)" "added record"
world_dns_unset sip.test. added
world_assert_eq "status NXDOMAIN" \
	"$(world_dig_answer added.sip.test A | head -n 1)" "removed record"
world_dns_assert_count 2

# A zone added to the running server (world_zone restarts it).
# shellcheck disable=SC2016 # a zone file's $TTL, not a variable
printf '%s\n' '$TTL 60' \
	'@ SOA ns.sip.test. hostmaster.sip.test. 1 3600 600 86400 5' \
	'@ NS ns.sip.test.' 'host A 127.0.0.88' >"$WORLD_DIR/extra.test.zone"
world_zone "$WORLD_DIR/extra.test.zone"
world_assert_eq "127.0.0.88" "$(world_run kdig @127.0.0.1 +short host.extra.test A)" \
	"record of a zone added while running"
world_assert_eq "127.0.0.11" "$(world_run kdig @127.0.0.1 +short sip1.sip.test A)" \
	"the other zones after the restart"
world_dns_assert_count 2 "" "queries since the restart"

# --- 5. failures end within the configured timeout --------------------------------------

# Stopped: nothing listens, the kernel refuses at once.
world_dns_stop
t0=$(world_now_ms)
world_assert_status 2 world_run -t 5 getent hosts sip1.sip.test
world_log "lookup with the server stopped failed after $(($(world_now_ms) - t0)) ms"
world_dns_start
world_dns_assert_count 0 "" "counters after a restart"
world_assert_eq "::1 sip1.sip.test" \
	"$(world_run getent hosts sip1.sip.test | world_squeeze)" "after the restart"

# Frozen: the socket is open but silent.  A and AAAA go out in parallel;
# with timeout:1 attempts:2 the lookup gives up after 2 s: not sooner (the
# timeout is what ends it), and never much later (bounded by world_run).
world_dns_reset
world_dns_freeze
t0=$(world_now_ms)
world_assert_status 2 world_run -t 8 getent ahosts sip1.sip.test
elapsed=$(($(world_now_ms) - t0))
world_log "lookup with the server frozen failed after $elapsed ms"
world_assert_le 1900 "$elapsed" "ms before a lookup against a frozen server failed"
world_dns_thaw
# The four queries (A and AAAA, twice) waited in the socket: answered and
# counted now.
n=0
while [ "$(world_dns_count)" -lt 4 ] && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
world_dns_assert_count 4 "" "queries sent to the frozen server"
world_dns_assert_count 2 A
world_dns_assert_count 2 AAAA

# --- 6. processes ------------------------------------------------------------------------

world_spawn sleeper sleep 600
world_running sleeper || world_fail "sleeper not running"
world_assert_ok world_run kill -0 "$(world_pid sleeper)"
st=0
world_stop sleeper || st=$?
world_assert_eq 143 "$st" "status of a process stopped by SIGTERM"
if world_running sleeper; then
	world_fail "sleeper still running"
fi
world_spawn stubborn sh -c 'trap "" TERM; while :; do sleep 1; done'
st=0
world_stop stubborn 1 || st=$?
world_assert_eq 137 "$st" "status of a process that ignored SIGTERM"

# A process that exits by itself is reaped, with its status, when its
# name is reused.
world_spawn brief sh -c 'echo hello; exit 3'
n=0
while world_running brief && [ $n -lt 100 ]; do
	sleep 0.05
	n=$((n + 1))
done
world_spawn brief sleep 600
world_assert_eq "hello
[world] brief exited with status 3" "$(cat "$WORLD_LOGS/brief.log")" "log of a process that exited"
world_running brief || world_fail "second brief not running"

t0=$(world_now_ms)
world_assert_status 124 world_run -t 1 sleep 30 2>/dev/null
world_assert_le "$(($(world_now_ms) - t0))" 5000 "ms taken by world_run -t 1 sleep 30"

# A daemon the test forgets: it must die with the world.
world_run sh -c 'setsid sleep 601 </dev/null >/dev/null 2>&1 &'
world_assert_match '^[0-9]+$' "$(world_run pgrep -f 'sleep 601')" "the forgotten daemon"

# A second world at the same time, with its own Knot on 127.0.0.1:53.
world_dns_reset
other=$(bash -c '
	set -eu
	. "$1"
	world_begin other
	world_zone "$WORLD_ZONES/sip.test.zone"
	world_dns_start
	world_run kdig @127.0.0.1 +short sip2.sip.test A
	world_dns_count
	world_end' other "$WORLD_LIB/world.sh" 2>"$WORLD_LOGS/other-world.log") ||
	world_fail "the second world failed: $(cat "$WORLD_LOGS/other-world.log")"
world_assert_eq "127.0.0.12
1" "$other" "answer and count in the second world"
world_dns_assert_count 0 "" "queries of the other world seen by this one"

# --- 7. nothing is left -----------------------------------------------------------------

# world_at_end functions run while the world is still up.
hookout=$(mktemp /tmp/sipcache-test-world-hook.XXXXXX)
save_at_end() {
	printf '%s %s\n' "$1" "$(world_run hostname)" >"$hookout"
}
world_at_end save_at_end

dir=$WORLD_DIR
holder=$WORLD_HOLDER
world_end
world_assert_eq "0 world" "$(cat "$hookout")" "what the world_at_end function saw"
rm -f "$hookout"
if kill -0 "$holder" 2>/dev/null; then
	world_fail "the holder $holder survived world_end"
fi
world_assert_eq "" "$(world_leftovers)" "processes left in the world's namespaces"
if grep -F -- "$dir" /proc/self/mountinfo; then
	world_fail "mounts of the world left on the host"
fi
if [ "$WORLD_KEEP" = 0 ] && [ -e "$dir" ]; then
	world_fail "work directory $dir left behind"
fi
world_assert_eq "" "$(pgrep -f 'sleep 601' || :)" "the forgotten daemon after world_end"
world_assert_eq "$before" "$(host_state)" "host state after the test"
echo "PASS: test_world"

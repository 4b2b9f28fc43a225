#!/bin/bash
# test_ctl_sip.sh - the SIP commands of sipcachectl against a real server
# (Knot) serving sip.test (NAPTR -> SRV -> A/AAAA) and e164.arpa:
#   1. resolve: the whole RFC 3263 list for sip: and sips: URIs (NAPTR
#      order, SRV priorities, weights as a set within a priority, every
#      address), each target with the NAPTR and SRV records that led to
#      it; numeric hosts, explicit ports, a name without records; the
#      lookups go through the cache (the second resolve sends nothing to
#      the server) and fill it (dump lists the chain);
#   2. enum: the first order's URI, --all, several suffixes, no record;
#   3. serves: yes for sip.test (its targets are 127.0.0.x, this host's),
#      no for a name without SIP records, --quiet;
#   4. down/up: a mark is seen by another process (resolve lists the
#      target last, flagged), listed by `down', expires by itself, is
#      removed by `up' (twice: exit 1), `up --all'.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/ctl_world.sh
. "$(dirname "$0")/../helpers/ctl_world.sh"

world_begin ctl_sip
for z in sip.test e164.arpa; do
	world_zone "$WORLD_ZONES/$z.zone"
done
world_dns_start
ctl_setup

# One transport's four targets of sip.test, in a valid RFC 2782 order:
# sip1 (weight 10, two addresses: A then AAAA) and sip2 (weight 30) in
# either order within priority 10, then backup (priority 20).
check_group() {
	local group=$1 t=$2 port=$3 what=$4
	local a="$t sip1.sip.test $port 127.0.0.11
$t sip1.sip.test $port ::1
$t sip2.sip.test $port 127.0.0.12" b
	b="$t sip2.sip.test $port 127.0.0.12
$t sip1.sip.test $port 127.0.0.11
$t sip1.sip.test $port ::1"
	case $group in
	"$a
$t backup.sip.test $port 127.0.0.13" | "$b
$t backup.sip.test $port 127.0.0.13") ;;
	*) world_fail "$what: not an RFC 2782 order of sip.test's $t targets: [$group]" ;;
	esac
}

# --- 1. resolve ---------------------------------------------------------------------

world_dns_reset
ctl_expect 0 resolve sip:alice@sip.test
world_assert_match '^;; sip:alice@sip\.test: 12 targets \([0-9]+ lookups\)$' "$CTL_OUT" "resolve header"
queries=$(world_dns_count)
world_assert_le 1 "$queries" "queries of the first resolve"
targets=$(printf '%s\n' "$CTL_OUT" | grep -E '^[0-9]+ ' | cut -d' ' -f2-)
world_assert_eq "1 2 3 4 5 6 7 8 9 10 11 12" \
	"$(printf '%s\n' "$CTL_OUT" | grep -E '^[0-9]+ ' | cut -d' ' -f1 | xargs)" "numbering"
check_group "$(printf '%s\n' "$targets" | sed -n 1,4p)" tls 5061 "resolve, NAPTR order 10"
check_group "$(printf '%s\n' "$targets" | sed -n 5,8p)" tcp 5060 "resolve, NAPTR order 20"
check_group "$(printf '%s\n' "$targets" | sed -n 9,12p)" udp 5060 "resolve, NAPTR order 30"
# Each target, then the NAPTR and the SRV record that led to it.
python3 - "$WORLD_DIR/ctl.out" <<'EOF' || world_fail "records of resolve"
import re, sys
lines = open(sys.argv[1]).read().splitlines()[1:]
naptr = {"tls": '10 50 "s" "SIPS+D2T" "" _sips._tcp.sip.test',
         "tcp": '20 50 "s" "SIP+D2T" "" _sip._tcp.sip.test',
         "udp": '30 50 "s" "SIP+D2U" "" _sip._udp.sip.test'}
srv = {"tls": "_sips._tcp.sip.test", "tcp": "_sip._tcp.sip.test", "udp": "_sip._udp.sip.test"}
weight = {"sip1": "10 10", "sip2": "10 30", "backup": "20 0"}
assert len(lines) == 36, len(lines)
for i in range(0, 36, 3):
    m = re.match(r"^\d+ (\w+) (\w+)\.sip\.test (\d+) \S+$", lines[i])
    assert m, lines[i]
    t, host, port = m.groups()
    assert lines[i + 1].strip() == "sip.test NAPTR " + naptr[t], lines[i + 1]
    want = "%s SRV %s %s %s.sip.test" % (srv[t], weight[host], port, host)
    assert lines[i + 2].strip() == want, (lines[i + 2], want)
    assert lines[i + 1].startswith("    ") and lines[i + 2].startswith("    ")
EOF
# Through the cache: the same resolve again asks the server nothing, and
# the chain is in the cache.
world_dns_reset
ctl_expect 0 resolve --short sip:alice@sip.test
world_dns_assert_count 0 "" "queries of the second resolve"
world_assert_eq 12 "$(printf '%s\n' "$CTL_OUT" | wc -l)" "resolve --short"
check_group "$(printf '%s\n' "$CTL_OUT" | sed -n 9,12p)" udp 5060 "resolve --short"
ctl_expect 0 dump
chain=$(printf '%s\n' "$CTL_OUT" | awk '$4 == "positive" { print $1, $2 }')
for e in "sip.test. NAPTR" "_sips._tcp.sip.test. SRV" "_sip._tcp.sip.test. SRV" \
    "_sip._udp.sip.test. SRV" "sip1.sip.test. A" "sip1.sip.test. AAAA" "sip2.sip.test. A" \
    "backup.sip.test. A"; do
	printf '%s\n' "$chain" | grep -qxF "$e" || world_fail "resolve did not cache $e: $chain"
done

ctl_expect 0 resolve --short sips:bob@sip.test
world_assert_eq 4 "$(printf '%s\n' "$CTL_OUT" | wc -l)" "sips: TLS targets only"
check_group "$CTL_OUT" tls 5061 "sips:"
ctl_expect 0 resolve sip:127.0.0.1:5080\;transport=tcp
world_assert_eq ";; sip:127.0.0.1:5080;transport=tcp: 1 target (0 lookups)
1 tcp 127.0.0.1 5080 127.0.0.1" "$CTL_OUT" "numeric host"
# An explicit port: the name's addresses only.
ctl_expect 0 resolve --short sip:sip1.sip.test:5070
world_assert_eq "udp sip1.sip.test 5070 127.0.0.11
udp sip1.sip.test 5070 ::1" "$CTL_OUT" "explicit port"
# A name without NAPTR, SRV or address: no target at all (exit 1).
ctl_expect 1 resolve --short sip:nx.sip.test
world_assert_eq "" "$CTL_OUT" "name without records"

# --- 2. enum ------------------------------------------------------------------------

ctl_expect 0 enum +15550101
world_assert_eq "10 10 E2U+sip sip:0101@sip2.sip.test
    1.0.1.0.5.5.5.1.e164.arpa NAPTR" "$CTL_OUT" "enum, first order"
ctl_expect 0 enum --all '+1 555 010-1'
world_assert_eq "10 10 E2U+sip sip:0101@sip2.sip.test
    1.0.1.0.5.5.5.1.e164.arpa NAPTR
20 10 E2U+sip sip:0101@sip.test
    1.0.1.0.5.5.5.1.e164.arpa NAPTR" "$CTL_OUT" "enum --all"
ctl_expect 0 enum +15550100 nx.sip.test e164.arpa
world_assert_eq "100 10 E2U+sip sip:info@sip.test
    0.0.1.0.5.5.5.1.e164.arpa NAPTR" "$CTL_OUT" "enum, second suffix"
ctl_expect 1 enum +15550199
world_assert_match 'none found' "$CTL_ERR" "enum without records"

# --- 3. serves ----------------------------------------------------------------------

ctl_expect 0 serves sip.test
world_assert_eq "sip.test: yes: its SIP service points at this host" \
	"$(printf '%s\n' "$CTL_OUT" | head -n 1)" "serves sip.test"
world_assert_eq 0 "$(printf '%s\n' "$CTL_OUT" | sed 1d | grep -vc ' local$' || :)" \
	"every target of sip.test is local"
world_assert_le 4 "$(printf '%s\n' "$CTL_OUT" | sed 1d | wc -l)" "targets of serves"
ctl_expect 1 serves nx.sip.test
world_assert_eq "nx.sip.test: no: none of its SIP targets is this host" "$CTL_OUT" "serves nx"
ctl_expect 0 serves --quiet sip.test
world_assert_eq "" "$CTL_OUT" "serves --quiet"
ctl_expect 1 serves -q nx.sip.test

# --- 4. down, up --------------------------------------------------------------------

ctl_expect 0 down
world_assert_eq "" "$CTL_OUT" "no marks"
ctl_expect 0 down sip2.sip.test 60
world_assert_eq "marked sip2.sip.test down for 60 s, in every process" "$CTL_OUT" "down"
ctl_expect 0 down
world_assert_match '^sip2\.sip\.test down until [0-9-]+ [0-9:]+ \((60|59) s left\)$' "$CTL_OUT" \
	"down lists the mark"
# Another process sees it: sip2 last, flagged, in every transport.
ctl_expect 0 resolve --short sip:sip.test
world_assert_eq "tls sip2.sip.test 5061 127.0.0.12 down
tcp sip2.sip.test 5060 127.0.0.12 down
udp sip2.sip.test 5060 127.0.0.12 down" "$(printf '%s\n' "$CTL_OUT" | tail -n 3)" \
	"resolve with sip2 down"
world_assert_eq 0 "$(printf '%s\n' "$CTL_OUT" | head -n 9 | grep -c 'sip2\|down' || :)" \
	"the others first"
ctl_expect 0 up sip2.sip.test
world_assert_eq "sip2.sip.test is up again, in every process" "$CTL_OUT" "up"
ctl_expect 1 up sip2.sip.test
world_assert_match 'is not marked down' "$CTL_ERR" "up twice"
ctl_expect 0 resolve --short sip:sip.test
world_assert_eq 0 "$(printf '%s\n' "$CTL_OUT" | grep -c ' down$' || :)" "resolve after up"
# Expiry by itself (the clock counts whole seconds: a 3 s mark lives
# more than 2 s), and --all.
ctl_expect 0 down '[::1]:5061' 3
ctl_expect 0 down 127.0.0.13
ctl_expect 0 down
world_assert_eq 2 "$(printf '%s\n' "$CTL_OUT" | wc -l)" "two marks"
world_assert_match '^\[::1\]:5061 down until .* \([23] s left\)$' "$CTL_OUT" "the 3 s mark"
sleep 3.1
ctl_expect 0 down
world_assert_match '^127\.0\.0\.13 down until' "$CTL_OUT" "the 3 s mark expired"
world_assert_eq 1 "$(printf '%s\n' "$CTL_OUT" | wc -l)" "one mark left"
ctl_expect 0 up --all
world_assert_eq "removed every mark" "$CTL_OUT" "up --all"
ctl_expect 0 down
world_assert_eq "" "$CTL_OUT" "no marks after up --all"
ctl_expect 0 up --all
world_assert_eq "no target was marked down" "$CTL_OUT" "up --all without marks"

world_end

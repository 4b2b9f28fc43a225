#!/bin/bash
# test_sip_resolve.sh - RFC 3263 target selection, ENUM, "serves" and
# target marks (shim/sc_sip.c, sc_srv.c, sc_marks.c) against Knot.
#
# Knot serves zones/rfc3263.test.zone (the RFC 3263 cases, listed at its
# top), e164.arpa.zone and sip.test.zone.  The library is driven through
# tests/check_sip's driver mode (the functions sipcachectl resolve, enum,
# serves, down and up call), with the system's resolver and
# /etc/sipcache.conf, so the lookups go through the real core and cache
# file.  The expected lists are those tests/check_sip.c expects from the
# same zone through its in-process server: the two must agree.
#
#   1. every URI of the zone resolves to its expected ordered list, whole;
#   2. Knot's counters: the first resolution asks each question at most
#      once, a second one asks nothing (the cache answers every step);
#   3. SRV weights 10:30 over 2000 resolutions: the 30 comes first 75% of
#      the time (bound: 5 standard deviations, 97; a fair draw falls
#      outside with probability below 1e-6; the RFC's literal 40%:60%
#      would miss it by 13 of them);
#   4. ENUM under e164.arpa and a second suffix, order cut, back
#      references, a non-terminal rule;
#   5. serves: a domain whose SRV target is on loopback's 127.0.0.0/8 is
#      ours, one pointing elsewhere is not;
#   6. a mark set by one process is seen by the next one, and expires.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"

drv=$WORLD_BUILD/tests/check_sip
if [ ! -x "$drv" ]; then
	world_log "building $drv"
	make -C "$WORLD_TOP" O="${O:-.}" "$drv" >&2 ||
		world_fail "cannot build $drv"
fi

world_begin sip_resolve
for z in rfc3263.test e164.arpa sip.test; do
	world_zone "$WORLD_ZONES/$z.zone"
done
world_dns_start

sip() {
	world_run "$drv" "$@"
}

# --- 1, 2: lists, whole, and what reached Knot -------------------------------

world_assert_eq 'tls tls1.rfc3263.test 5061 192.0.2.5 [1] [2]
tcp p1.rfc3263.test 5060 192.0.2.1 [3] [4]
tcp p1.rfc3263.test 5060 2001:db8::1 [3] [4]
udp p1.rfc3263.test 5060 192.0.2.1 [5] [6]
udp p1.rfc3263.test 5060 2001:db8::1 [5] [6]
udp p2.rfc3263.test 5060 192.0.2.2 [5] [7]
[1] rfc3263.test NAPTR 50 50 "s" "SIPS+D2T" "" _sips._tcp.rfc3263.test
[2] _sips._tcp.rfc3263.test SRV 0 0 5061 tls1.rfc3263.test
[3] rfc3263.test NAPTR 90 50 "s" "SIP+D2T" "" _sip._tcp.rfc3263.test
[4] _sip._tcp.rfc3263.test SRV 0 0 5060 p1.rfc3263.test
[5] rfc3263.test NAPTR 100 50 "s" "SIP+D2U" "" _sip._udp.rfc3263.test
[6] _sip._udp.rfc3263.test SRV 10 0 5060 p1.rfc3263.test
[7] _sip._udp.rfc3263.test SRV 20 0 5060 p2.rfc3263.test' \
	"$(sip resolve sip:rfc3263.test)" "sip:rfc3263.test"
# One NAPTR, three SRV; A and AAAA of the three targets at most once each
# (fewer when the core stores the addresses Knot puts in the additional
# section of SRV answers as entries of their own).
world_dns_assert_count 1 NAPTR
world_dns_assert_count 3 SRV
world_assert_le "$(world_dns_count A)" 3 "A queries"
world_assert_le "$(world_dns_count AAAA)" 3 "AAAA queries"
world_assert_le "$(world_dns_count)" 10 "queries"
# Another process, the same question: all from the cache file.
world_dns_reset
sip resolve sip:rfc3263.test >/dev/null
world_dns_assert_count 0

world_assert_eq 'tls tls1.rfc3263.test 5061 192.0.2.5 [1] [2]
[1] rfc3263.test NAPTR 50 50 "s" "SIPS+D2T" "" _sips._tcp.rfc3263.test
[2] _sips._tcp.rfc3263.test SRV 0 0 5061 tls1.rfc3263.test' \
	"$(sip resolve sips:bob@rfc3263.test)" "sips: only TLS"

world_assert_eq 'tcp t.eq.rfc3263.test 5060 192.0.2.22 [1] [2]
udp u.eq.rfc3263.test 5060 192.0.2.21 [3] [4]
[1] eq.rfc3263.test NAPTR 10 10 "s" "SIP+D2T" "" _sip._tcp.eq.rfc3263.test
[2] _sip._tcp.eq.rfc3263.test SRV 0 0 5060 t.eq.rfc3263.test
[3] eq.rfc3263.test NAPTR 10 20 "s" "SIP+D2U" "" _sip._udp.eq.rfc3263.test
[4] _sip._udp.eq.rfc3263.test SRV 0 0 5060 u.eq.rfc3263.test' \
	"$(sip resolve sip:eq.rfc3263.test)" "equal NAPTR orders"

world_assert_eq 'udp u.tie.rfc3263.test 5060 192.0.2.25 [1] [2]
tcp t.tie.rfc3263.test 5060 192.0.2.24 [3] [4]
tls s.tie.rfc3263.test 5061 192.0.2.23 [5] [6]
[1] tie.rfc3263.test NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.tie.rfc3263.test
[2] _sip._udp.tie.rfc3263.test SRV 0 0 5060 u.tie.rfc3263.test
[3] tie.rfc3263.test NAPTR 10 10 "s" "SIP+D2T" "" _sip._tcp.tie.rfc3263.test
[4] _sip._tcp.tie.rfc3263.test SRV 0 0 5060 t.tie.rfc3263.test
[5] tie.rfc3263.test NAPTR 10 10 "s" "SIPS+D2T" "" _sips._tcp.tie.rfc3263.test
[6] _sips._tcp.tie.rfc3263.test SRV 0 0 5061 s.tie.rfc3263.test' \
	"$(sip resolve sip:tie.rfc3263.test)" "equal order and preference"

world_dns_reset
world_assert_eq 'udp s.srvonly.rfc3263.test 5060 192.0.2.41 [1]
tcp s.srvonly.rfc3263.test 5070 192.0.2.41 [2]
[1] _sip._udp.srvonly.rfc3263.test SRV 0 0 5060 s.srvonly.rfc3263.test
[2] _sip._tcp.srvonly.rfc3263.test SRV 0 0 5070 s.srvonly.rfc3263.test' \
	"$(sip resolve sip:srvonly.rfc3263.test)" "no NAPTR"
# NAPTR (NODATA), then udp, tcp, sctp, tls: four SRV questions.
world_dns_assert_count 1 NAPTR
world_dns_assert_count 4 SRV

world_assert_eq 'udp aonly.rfc3263.test 5060 192.0.2.51
udp aonly.rfc3263.test 5060 2001:db8::51' \
	"$(sip resolve sip:aonly.rfc3263.test)" "neither NAPTR nor SRV"
world_assert_eq 'udp p2.rfc3263.test 5060 192.0.2.2 [1] [2]
[1] gone.rfc3263.test NAPTR 20 10 "s" "SIP+D2U" "" _sip._udp.gone.rfc3263.test
[2] _sip._udp.gone.rfc3263.test SRV 0 0 5060 p2.rfc3263.test' \
	"$(sip resolve sip:gone.rfc3263.test)" "first NAPTR leads nowhere"
world_assert_eq 'udp lost.rfc3263.test 5060 192.0.2.61' \
	"$(sip resolve sip:lost.rfc3263.test)" "no SRV RRset at all"
world_assert_status 1 sip resolve sip:closed.rfc3263.test
world_assert_eq 'udp ghost.noaddr.rfc3263.test 5060 - [1]
udp alias.noaddr.rfc3263.test 5062 192.0.2.2 [2]
[1] _sip._udp.noaddr.rfc3263.test SRV 10 0 5060 ghost.noaddr.rfc3263.test
[2] _sip._udp.noaddr.rfc3263.test SRV 20 0 5062 alias.noaddr.rfc3263.test' \
	"$(sip resolve sip:noaddr.rfc3263.test)" "target without address, CNAME target"
world_assert_eq 'udp p1.rfc3263.test 5060 192.0.2.1 [1]
udp p1.rfc3263.test 5060 2001:db8::1 [1]
[1] _sip._udp.odd.rfc3263.test SRV 0 0 5060 p1.rfc3263.test' \
	"$(sip resolve sip:odd.rfc3263.test)" "NAPTRs to ignore"
world_assert_eq 'tls tls1.rfc3263.test 5061 192.0.2.5 [1]
[1] _sips._tcp.sipsonly.rfc3263.test SRV 0 0 5061 tls1.rfc3263.test' \
	"$(sip resolve sips:sipsonly.rfc3263.test)" "sips: without SIPS NAPTR"

world_dns_reset
world_assert_eq 'tcp p1.rfc3263.test 5080 192.0.2.1 [1]
tcp p1.rfc3263.test 5080 2001:db8::1 [1]
[1] _sip._tcp.explicit.rfc3263.test SRV 0 0 5080 p1.rfc3263.test' \
	"$(sip resolve 'sip:explicit.rfc3263.test;transport=tcp')" "transport parameter"
world_dns_assert_count 0 NAPTR
world_dns_reset
world_assert_eq 'udp explicit.rfc3263.test 5070 192.0.2.91' \
	"$(sip resolve sip:explicit.rfc3263.test:5070)" "explicit port"
world_dns_assert_count 0 SRV
world_dns_assert_count 0 NAPTR
world_assert_eq 'tls explicit.rfc3263.test 5061 192.0.2.91' \
	"$(sip resolve 'sips:explicit.rfc3263.test;transport=tcp')" "sips over TCP, no TLS SRV"
world_dns_reset
world_assert_eq 'udp 192.0.2.7 5060 192.0.2.7' "$(sip resolve sip:192.0.2.7)" "numeric"
world_assert_eq 'tls 2001:db8::9 5071 2001:db8::9' \
	"$(sip resolve 'sips:[2001:db8::9]:5071')" "numeric IPv6"
world_dns_assert_count 0
world_assert_status 1 sip resolve sip:nx.rfc3263.test
world_assert_status 2 sip resolve sip:example.com
world_assert_status 2 sip resolve 'sips:x.rfc3263.test;transport=udp'

# --- 3: weights ----------------------------------------------------------------

out=$(sip first sip:weights.rfc3263.test 2000)
w3=$(printf '%s\n' "$out" | awk '$1 == "w3.weights.rfc3263.test" { print $2 }')
w1=$(printf '%s\n' "$out" | awk '$1 == "w1.weights.rfc3263.test" { print $2 }')
world_log "first of weights 10:30 over 2000: w1 ${w1:-0}, w3 ${w3:-0}"
world_assert_eq 2000 "$((${w1:-0} + ${w3:-0}))" "the backup (priority 20) never first"
world_assert_le 1403 "${w3:-0}" "weight 30 first (75% of 2000, -5 sigma)"
world_assert_le "${w3:-0}" 1597 "weight 30 first (75% of 2000, +5 sigma)"

# --- 4: ENUM -------------------------------------------------------------------

world_assert_eq '100 10 E2U+sip sip:info@sip.test 0.0.1.0.5.5.5.1.e164.arpa' \
	"$(sip enum '+1 555 0100')" "ENUM under e164.arpa"
world_assert_eq '10 10 E2U+sip sip:0101@sip2.sip.test 1.0.1.0.5.5.5.1.e164.arpa' \
	"$(sip enum +15550101)" "ENUM: the first order only"
world_dns_reset
world_assert_eq '10 10 E2U+sip sip:0199@555.rfc3263.test 9.9.1.0.5.5.5.1.e164.rfc3263.test
10 20 E2U+email:mailto mailto:info@rfc3263.test 9.9.1.0.5.5.5.1.e164.rfc3263.test' \
	"$(sip enum +1-555-0199 e164.arpa e164.rfc3263.test)" "ENUM: second suffix"
world_dns_assert_count 2 NAPTR
world_assert_eq '10 10 E2U+sip sip:15550198@next.rfc3263.test;user=phone next.e164.rfc3263.test' \
	"$(sip enum +15550198 e164.rfc3263.test)" "ENUM: non-terminal rule"
world_assert_eq '10 10 E2U+SIP sip:0197!x@rfc3263.test 7.9.1.0.5.5.5.1.e164.rfc3263.test' \
	"$(sip enum +15550197 e164.rfc3263.test)" "ENUM: escaped delimiter, i flag"
world_assert_status 1 sip enum +15559999 e164.arpa e164.rfc3263.test

# --- 5: serves -----------------------------------------------------------------

world_assert_eq 'yes
udp here.local.rfc3263.test 5060 127.0.0.81 local
tcp p1.rfc3263.test 5060 192.0.2.1
tcp p1.rfc3263.test 5060 2001:db8::1' \
	"$(sip serves local.rfc3263.test)" "serves: a target on loopback"
world_assert_status 1 sip serves remote.rfc3263.test >/dev/null
world_assert_status 0 sip serves sip.test >/dev/null

# --- 6: marks, across processes, expiring ----------------------------------------

# An address mark with a port: resolve lists flag it; served A answers are
# left alone by it (they have no port), so what this shows is resolve's.
sip down 192.0.2.2:5060 2
world_assert_eq 'udp p1.rfc3263.test 5060 192.0.2.1 [1]
udp p1.rfc3263.test 5060 2001:db8::1 [1]
udp p2.rfc3263.test 5060 192.0.2.2 down [2]' \
	"$(sip resolve 'sip:rfc3263.test;transport=udp' | grep -v '^\[')" "marked, seen by another process"
sleep 3
world_assert_eq 'udp p1.rfc3263.test 5060 192.0.2.1
udp p1.rfc3263.test 5060 2001:db8::1
udp p2.rfc3263.test 5060 192.0.2.2' \
	"$(sip resolve 'sip:rfc3263.test;transport=udp' | grep -v '^\[' | sed 's/ \[.*//')" \
	"the mark expired"
sip down 192.0.2.1 60
world_assert_match '^udp p1.rfc3263.test 5060 192.0.2.1 down' \
	"$(sip resolve 'sip:rfc3263.test;transport=udp')" "an address mark"
world_assert_ok sip up 192.0.2.1
world_assert_status 1 sip up 192.0.2.1

world_end

#!/bin/bash
# shellcheck disable=SC2054 # commas belong to arguments (NAME,DOMAIN; flag lists)
# test_preload_addr.sh - the address lookups through libsipcache-preload.so:
# getaddrinfo, gethostbyname, gethostbyname2, gethostbyname_r,
# gethostbyname2_r, gethostbyaddr, gethostbyaddr_r.
#
# For each of a set of lookups, everything the caller sees through the
# preload equals what glibc alone gives (tests/progs/preload_addr prints
# it all: return values, errno, h_errno, whole hostents and addrinfo
# lists in order, the smallest buffer the _r forms accept and what the
# smaller ones returned, writes outside the buffer), on a miss and on a
# hit; the hit, from another process, sends no query to the server.
# Then the same with the things that change glibc's answer: the search
# list, AI_ADDRCONFIG with and without non-loopback addresses (the RFC
# 6724 sort then has an interface list to use), `hosts: dns files', names
# in /etc/hosts; and the failures: NXDOMAIN, NODATA, a stopped server.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"

# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"
ADDR=$WORLD_BUILD/tests/progs/preload_addr
[ -e "$ADDR" ] || world_fail "$ADDR missing: build with make progs"

WORLD_RES_SEARCH="sip.test"
world_begin preload_addr
world_zone "$WORLD_ZONES/sip.test.zone"
world_zone "$WORLD_ZONES/0.0.127.in-addr.arpa.zone"
world_hosts "127.0.0.1 localhost" "127.0.1.1 world" \
	"::1 localhost ip6-localhost ip6-loopback" \
	"127.0.0.99 hosted.sip.test hosted" \
	"127.0.0.98 sip2.sip.test"
world_dns_start
CACHE=$WORLD_DIR/cache

plain() { world_run "$ADDR" "$@"; }
pre() { world_run env "${PRELOAD_VARS[@]}" "$ADDR" "$@"; }
fresh_cache() { rm -f "$CACHE"/cache.tdb "$CACHE"/cache.tdb.stats; }

# compare WHAT CALLS...: glibc's output, then the preload's on a miss and
# on a hit (each a new process).  With HITS=1 set, the hit must send no
# query but those that are never cached: the REFUSED ones (names outside
# every zone, reached through the search list), as many as glibc sent.
compare() {
	local what=$1 expect refused
	shift
	world_dns_reset
	expect=$(plain "$@")
	refused=$(world_dns_counter 'response-code[REFUSED]')
	fresh_cache
	world_assert_eq "$expect" "$(pre "$@")" "$what (miss)"
	world_dns_reset
	world_assert_eq "$expect" "$(pre "$@")" "$what (hit)"
	if [ -n "${HITS:-}" ]; then
		world_dns_assert_count "$refused" "" "$what: queries of the hit"
	fi
}

# Every name kind once per call: dual-stack, IPv4 only, IPv6 only, CNAME
# chain, four addresses, forty (TCP), NXDOMAIN, a referral, a wildcard.
names="sip1.sip.test v4only.sip.test v6only.sip.test alias.sip.test multi.sip.test
	big.sip.test nx.sip.test caller.wild.sip.test"
calls=()
for n in $names; do
	calls+=(ghbn "$n" -- ghbn2 "$n" inet -- ghbn2 "$n" inet6 --)
	calls+=(gai "$n" - unspec 0 0 0 -- gai "$n" 5060 inet 0 0 0 --)
	calls+=(gai "$n" sip inet6 dgram 0 v4mapped -- gai "$n" - inet6 stream 0 v4mapped,all --)
	calls+=(gai "$n" - unspec stream 6 canonname -- gai "$n" - inet 0 0 canonname --)
	calls+=(gai "$n" - inet6 0 0 0 --)
done
HITS=1 compare "every lookup of every name" "${calls[@]}"

# The _r forms: buffers from small to enough.  Below a bound derived from
# /etc/hosts (five times its size, plus 128) the preload leaves them to
# glibc, because nss_files reads the file into the buffer first; above it
# the preload answers, and must fail (ERANGE) and succeed at the very
# sizes glibc does: big.sip.test's answer needs more than the bound.
calls=()
for n in $names; do
	calls+=(ghbnr "$n" 0 -- ghbn2r "$n" inet6 0 -- ghbnr "$n" 600 -- ghbn2r "$n" inet6 600 --)
done
compare "gethostbyname_r and gethostbyname2_r, buffer sizes" "${calls[@]}"
HITS=1 compare "gethostbyname_r with a buffer that fits" \
	ghbnr sip1.sip.test 2048 -- ghbnr alias.sip.test 2048 -- ghbn2r v6only.sip.test inet6 2048 -- \
	ghbnr nx.sip.test 2048 -- ghbn2r v4only.sip.test inet6 2048 -- ghbnr big.sip.test 2048

# With a one-line hosts file the bound is 228 bytes, below what
# big.sip.test (40 addresses) needs: the preload itself must then say
# ERANGE up to the very size at which glibc succeeds, and write nothing
# outside the buffer on the way.
world_hosts "127.0.0.1 localhost"
calls=()
for n in big.sip.test multi.sip.test alias.sip.test; do
	calls+=(ghbnr "$n" 200 -- ghbn2r "$n" inet 200 --)
done
expect=$(plain "${calls[@]}")
world_assert_match '^ghbnr big.sip.test: buflen 5[0-9][0-9]: ret 0 ' "$expect" \
	"big.sip.test needs 500 bytes or more (sanity)"
compare "gethostbyname_r, the preload's own ERANGE" "${calls[@]}"
world_hosts "127.0.0.1 localhost" "127.0.1.1 world" \
	"::1 localhost ip6-localhost ip6-loopback" \
	"127.0.0.99 hosted.sip.test hosted" \
	"127.0.0.98 sip2.sip.test"

# Reverse lookups (0.0.127.in-addr.arpa: 127.0.0.11 -> sip1 ...).
HITS=1 compare "gethostbyaddr" ghba 127.0.0.11 -- ghba 127.0.0.12 -- ghba 127.0.0.250 -- \
	ghba ::ffff:127.0.0.13 -- ghbar 127.0.0.11 2048 -- ghbar 127.0.0.250 2048

# Short names and the search list (search sip.test).
HITS=1 compare "search list" ghbn sip1 -- gai multi - unspec 0 0 canonname -- \
	gai alias 5060 inet6 0 0 v4mapped -- ghbn2 v6only inet6 -- gai nothere - unspec 0 0 0

# Names in /etc/hosts (glibc's nss_files answers them; sip2.sip.test is
# in both, and the file wins in `files dns').
compare "hosts file" ghbn hosted.sip.test -- ghbn hosted -- gai hosted.sip.test - unspec 0 0 0 -- \
	ghbn sip2.sip.test -- gai sip2.sip.test 5060 inet 0 0 canonname -- ghbnr sip2.sip.test 0

# Hints: no hints at all (AI_ADDRCONFIG|AI_V4MAPPED), AI_ADDRCONFIG,
# AI_PASSIVE, numeric services, bad services, socket types and protocols.
gai_hints=(
	gai sip1.sip.test - - 0 0 0 --
	gai sip1.sip.test 5060 unspec 0 0 addrconfig --
	gai sip1.sip.test 5060 inet6 0 0 addrconfig --
	gai multi.sip.test 5060 inet 0 0 addrconfig,canonname --
	gai sip1.sip.test 5060 unspec dgram 17 passive --
	gai sip1.sip.test 5060 unspec 0 0 numericserv --
	gai sip1.sip.test sip unspec 0 0 numericserv --
	gai sip1.sip.test nosuchservice unspec 0 0 0 --
	gai sip1.sip.test sip unspec raw 0 0 --
	gai sip1.sip.test 5060 unspec stream 17 0 --
	gai sip1.sip.test 5060 unspec 0 132 0 --
	gai sip1.sip.test - 99 0 0 0 --
	gai sip1.sip.test - unspec 0 0 4096 --
	gai 127.0.0.11 5060 unspec 0 0 0 --
	gai ::1 - inet6 0 0 0 --
	gai sip1.sip.test - unspec 0 0 numerichost
)
compare "getaddrinfo hints, loopback only" "${gai_hints[@]}"
# With non-loopback addresses AI_ADDRCONFIG narrows AF_UNSPEC, and the
# sort sees an interface list (prefix lengths, indexes).
world_addrconfig inet
compare "getaddrinfo hints, IPv4 configured" "${gai_hints[@]}"
world_addrconfig inet6
compare "getaddrinfo hints, IPv4 and IPv6 configured" "${gai_hints[@]}" -- \
	gai multi.sip.test - unspec 0 0 0 -- gai sip1.sip.test - inet6 0 0 v4mapped,all
world_addrconfig none
world_addrconfig inet6
compare "getaddrinfo hints, IPv6 configured" "${gai_hints[@]}"
world_addrconfig none

# `hosts: dns files': DNS first; what DNS has not, the file answers.
world_nsswitch_hosts "dns files"
compare "dns files" ghbn sip2.sip.test -- ghbn hosted.sip.test -- ghbn nx.sip.test -- \
	gai sip2.sip.test - unspec 0 0 0 -- gai hosted.sip.test - inet 0 0 0 -- \
	gai sip1.sip.test - unspec 0 0 canonname -- ghbnr alias.sip.test 700
# Sources the preload does not emulate: libc answers, the same way.
world_nsswitch_hosts "files myhostname dns"
compare "files myhostname dns" ghbn sip1.sip.test -- ghbn world -- gai world - unspec 0 0 0
world_nsswitch_hosts "files dns"

# host.conf `reorder' and a resolv.conf sortlist rewrite glibc's answers:
# the preload leaves those to glibc.
printf 'multi on\nreorder on\n' | world_write_etc host.conf
compare "host.conf reorder" ghbn multi.sip.test -- gai multi.sip.test - inet 0 0 0
printf 'multi on\n' | world_write_etc host.conf
WORLD_RES_OPTIONS="timeout:1 attempts:2" world_resolv
{
	echo "nameserver 127.0.0.1"
	echo "search sip.test"
	echo "sortlist 127.0.0.33/255.255.255.255"
	echo "options timeout:1 attempts:2"
} | world_write_etc resolv.conf
compare "resolv.conf sortlist" ghbn multi.sip.test -- ghbnr multi.sip.test 700
world_resolv

# A stopped server: what glibc says when nothing answers and nothing is
# cached (names not asked before in this world's cache).
fresh_cache
world_dns_stop
expect=$(plain ghbn backup.sip.test -- ghbn2 backup.sip.test inet6 -- ghbnr backup.sip.test 700 -- \
	gai backup.sip.test - unspec 0 0 0 -- gai backup.sip.test - inet 0 0 0 -- \
	gai backup.sip.test 5060 inet6 0 0 v4mapped -- ghba 127.0.0.13)
world_assert_match 'ghbn backup.sip.test: NULL errno 11 h_errno 2' "$expect" "glibc with no server"
world_assert_eq "$expect" "$(pre ghbn backup.sip.test -- ghbn2 backup.sip.test inet6 -- \
	ghbnr backup.sip.test 700 -- gai backup.sip.test - unspec 0 0 0 -- \
	gai backup.sip.test - inet 0 0 0 -- gai backup.sip.test 5060 inet6 0 0 v4mapped -- \
	ghba 127.0.0.13)" "no server, nothing cached"
world_dns_start

world_end

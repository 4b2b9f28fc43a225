#!/bin/bash
# shellcheck disable=SC2054 # commas belong to arguments (NAME,DOMAIN; flag lists)
# test_preload_res.sh - the res_* family through libsipcache-preload.so:
#   1. the preload binds both symbol versions a binary may reference:
#      res_query@GLIBC_2.34 (libc) and __res_query@GLIBC_2.2.5 (the
#      libresolv names of binaries built before glibc 2.34);
#   2. for every entry point (res_query, res_search, res_querydomain and
#      the res_n* forms, in both spellings) and a set of questions (NAPTR,
#      SRV, A, AAAA, a CNAME chain, TXT, NXDOMAIN, NODATA, search-list
#      names), everything the caller sees through the preload (return
#      value, errno, h_errno, _res.res_h_errno, the state's res_h_errno,
#      the bytes written, the whole answer but TTLs and ID) equals what
#      glibc alone gives, on a miss and on a hit;
#   3. the miss sends exactly the queries glibc sends; the hit, from
#      another process, sends none (counted at Knot);
#   4. answers longer than the caller's buffer are cut as libresolv cuts
#      them (UDP: buffer size returned; TCP: TC set, full length);
#   5. caller options that change the answer (DNSSEC, no recursion, no
#      AAAA) are passed through, never cached;
#   6. HOSTALIASES is honoured by res_search as by libresolv.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"

# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"
RES=$WORLD_BUILD/tests/progs/preload_res
[ -e "$RES" ] || world_fail "$RES missing: build with make progs"

# --- 1. symbol versions ---------------------------------------------------------

# The program references both versions of every name...
refs=$(objdump -T "$RES" | awk '$NF ~ /res_n?(query|search|querydomain)$/ { print $(NF-1), $NF }' | sort)
world_assert_eq "(GLIBC_2.2.5) __res_nquery
(GLIBC_2.2.5) __res_nquerydomain
(GLIBC_2.2.5) __res_nsearch
(GLIBC_2.2.5) __res_query
(GLIBC_2.2.5) __res_querydomain
(GLIBC_2.2.5) __res_search
(GLIBC_2.34) res_nquery
(GLIBC_2.34) res_nquerydomain
(GLIBC_2.34) res_nsearch
(GLIBC_2.34) res_query
(GLIBC_2.34) res_querydomain
(GLIBC_2.34) res_search" "$refs" "versioned references of preload_res"
# ...and the preload defines them unversioned (anonymous node), which
# satisfies a reference to any version.
defs=$(objdump -T "$PRELOAD" | awk '$4 == ".text" && $NF ~ /res_/ { print $(NF-1), $NF }' | sort)
world_assert_eq "Base __res_nquery
Base __res_nquerydomain
Base __res_nsearch
Base __res_query
Base __res_querydomain
Base __res_search
Base res_nquery
Base res_nquerydomain
Base res_nsearch
Base res_query
Base res_querydomain
Base res_search" "$defs" "res_* definitions of the preload"
# Every resolver name a real legacy server references is defined here
# (Kamailio 5.6.3: res_search@GLIBC_2.34, gethostbyname, gethostbyname2,
# gethostbyaddr, getaddrinfo, freeaddrinfo; its __res_init, __res_state
# and getnameinfo are not lookups of a name and stay glibc's).
exports=$(objdump -T "$PRELOAD" | awk '$4 == ".text" { print $NF }')
bin=/usr/sbin/kamailio
if [ -x "$bin" ]; then
	for sym in $(objdump -T "$bin" | awk '$3 == "*UND*" || $2 == "*UND*" { print $NF }' |
		grep -E '^(__)?res_n?(query|search|querydomain)$|^gethostby|^(free)?addrinfo$|^getaddrinfo$'); do
		printf '%s\n' "$exports" | grep -qx -- "$sym" ||
			world_fail "$bin references $sym, which the preload does not define"
	done
fi

# The dynamic linker says where each reference binds (bound at start with
# LD_BIND_NOW; without arguments the program asks nothing and exits 2).
bindings=$(env LD_BIND_NOW=1 "${PRELOAD_VARS[@]}" LD_DEBUG=bindings "$RES" 2>&1 |
	sed -n 's/.*binding file [^ ]*preload_res \[0\] to \([^ ]*\) \[0\]: normal symbol `\([^'"'"']*\)'"'"' \[\(GLIBC_[0-9.]*\)\].*/\2 \3 \1/p' |
	awk '$1 ~ /res_n?(query|search|querydomain)$/ { n = split($3, p, "/"); print $1, $2, p[n] }' | sort)
world_assert_eq "__res_nquery GLIBC_2.2.5 libsipcache-preload.so
__res_nquerydomain GLIBC_2.2.5 libsipcache-preload.so
__res_nsearch GLIBC_2.2.5 libsipcache-preload.so
__res_query GLIBC_2.2.5 libsipcache-preload.so
__res_querydomain GLIBC_2.2.5 libsipcache-preload.so
__res_search GLIBC_2.2.5 libsipcache-preload.so
res_nquery GLIBC_2.34 libsipcache-preload.so
res_nquerydomain GLIBC_2.34 libsipcache-preload.so
res_nsearch GLIBC_2.34 libsipcache-preload.so
res_query GLIBC_2.34 libsipcache-preload.so
res_querydomain GLIBC_2.34 libsipcache-preload.so
res_search GLIBC_2.34 libsipcache-preload.so" "$bindings" "where the dynamic linker binds each reference"

# --- the world ----------------------------------------------------------------------

WORLD_RES_SEARCH="sip.test"
world_begin preload_res
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start
CACHE=$WORLD_DIR/cache

# The same program with and without the preload.
plain() { world_run "$RES" "$@"; }
pre() { world_run env "${PRELOAD_VARS[@]}" "$RES" "$@"; }
fresh_cache() { rm -f "$CACHE"/cache.tdb "$CACHE"/cache.tdb.stats; }

# --- 2, 3. every entry point, miss then hit ----------------------------------------

# One question of each kind, none asked twice in one process (so that
# glibc's and our query counts compare one to one).
questions=(
	sip.test NAPTR
	_sip._udp.sip.test SRV
	sip1.sip.test A
	sip1.sip.test AAAA
	alias.sip.test A
	txt.sip.test TXT
	nx.sip.test A
	v4only.sip.test AAAA
	sip1.sip.test NAPTR
	caller.wild.sip.test A
)
# Names for the search list (search sip.test, ndots 1): a bare label, a
# dotted name that exists only below the search domain, and one that
# exists nowhere.
search_questions=(
	sip2 A
	v6only AAAA
	_sip._tcp SRV
	nothere A
	short.x A
)
# querydomain: NAME,DOMAIN (`-': NULL domain).
domain_questions=(
	sip1,sip.test A
	_sips._tcp,sip.test SRV
	nx,sip.test A
	sip.test.,- NAPTR
	backup.sip.test,- A
)

for call in res_query res_search res_querydomain res_nquery res_nsearch res_nquerydomain; do
	for spelling in "$call" "old_$call"; do
		args=()
		case $call in
		*querydomain) qs=("${domain_questions[@]}") ;;
		*search) qs=("${questions[@]}" "${search_questions[@]}") ;;
		*) qs=("${questions[@]}") ;;
		esac
		for ((i = 0; i < ${#qs[@]}; i += 2)); do
			args+=("$spelling" "${qs[i]}" "${qs[i + 1]}")
		done

		world_dns_reset
		expect=$(plain "${args[@]}")
		sent=$(world_dns_count)
		refused=$(world_dns_counter 'response-code[REFUSED]')
		[ "$sent" -gt 0 ] || world_fail "$spelling: glibc sent no query?"

		fresh_cache
		world_dns_reset
		world_assert_eq "$expect" "$(pre "${args[@]}")" "$spelling through the preload (miss)"
		# At most glibc's queries: the A/AAAA of SRV targets came in
		# the additional section of the SRV answer asked before them
		# and are stored as entries of their own (related records,
		# counted exactly in test_sip_chain.sh).
		world_assert_le "$(world_dns_count)" "$sent" "$spelling: queries of the miss"

		world_dns_reset
		world_assert_eq "$expect" "$(pre "${args[@]}")" "$spelling through the preload (hit)"
		# REFUSED (names outside every zone, which the search
		# reaches) is a failure, never cached: only those go out.
		world_dns_assert_count "$refused" "" "$spelling: queries of the hit"
		world_log "$spelling: $((${#qs[@]} / 2)) questions, $sent queries, identical"
	done
done

# A referral (the `away' delegation: NOERROR, no answer, no AA, NS in
# authority) is a lame answer to libresolv, which tries the next server
# and fails with TRY_AGAIN (ETIMEDOUT): an upstream failure, never cached,
# and the same failure through the preload.
world_dns_reset
expect=$(plain res_query host.away.sip.test A res_nquery host.away.sip.test A)
sent=$(world_dns_count)
world_assert_match 'ret -1 errno 110 h_errno 2 ' "$expect" "glibc: a referral fails"
for run in miss again; do
	world_dns_reset
	world_assert_eq "$expect" "$(pre res_query host.away.sip.test A res_nquery host.away.sip.test A)" \
		"referral through the preload ($run)"
	world_dns_assert_count "$sent" "" "referral: never cached ($run)"
done

# Hits carry the remaining lifetime: never above the zone's TTL, and it
# goes down.  (TXT 300 s, NAPTR 3600 s.)
fresh_cache
pre -t res_query txt.sip.test TXT res_query sip.test NAPTR >/dev/null
sleep 2
ttls=$(pre -t res_query txt.sip.test TXT res_query sip.test NAPTR | awk '$1 == "an" { print $3 }' | sort -u | tr '\n' ' ')
world_assert_match '^(29[0-8]) (35[0-9][0-9]) $' "$ttls" "TTLs of TXT (300) and NAPTR (3600) after 2 s"

# --- 4. truncation --------------------------------------------------------------------

# big.sip.test: 40 A records, 670 bytes.  Over UDP without EDNS it is TC,
# so glibc retries over TCP and copies what fits, TC set, returning the
# full length; sip.test NAPTR (169 bytes) into 100 bytes is cut by
# recvfrom and returns 100.  Each size, miss and hit, like glibc.
for size in 100 300 512 669 670 4096; do
	args=(-b "$size" res_query big.sip.test A res_query sip.test NAPTR res_search multi.sip.test A)
	expect=$(plain "${args[@]}")
	fresh_cache
	world_assert_eq "$expect" "$(pre "${args[@]}")" "answers cut to $size bytes (miss)"
	world_assert_eq "$expect" "$(pre "${args[@]}")" "answers cut to $size bytes (hit)"
done
world_assert_match 'big.sip.test A: ret 670 .* used 100$' "$(plain -b 100 res_query big.sip.test A)" \
	"glibc's TCP truncation (sanity)"
world_assert_match ' flags qr aa tc rd ' "$(plain -b 100 res_query big.sip.test A)" "TC in the cut copy"

# --- 5. options that change the answer: passed through ---------------------------------

fresh_cache
for opt in dnssec norecurse noaaaa; do
	args=(-o "$opt" res_query sip1.sip.test AAAA res_nquery sip2.sip.test A)
	world_dns_reset
	expect=$(plain "${args[@]}")
	sent=$(world_dns_count)
	for run in 1 2; do
		world_dns_reset
		world_assert_eq "$expect" "$(pre "${args[@]}")" "option $opt through the preload ($run)"
		if [ "$opt" = noaaaa ] && [ $run = 2 ]; then
			# The AAAA is libresolv's own NODATA, passed through
			# each time; the A is cacheable and now a hit.
			world_dns_assert_count $((sent - 1)) "" "option $opt: run $run"
		else
			world_dns_assert_count "$sent" "" "option $opt: run $run"
		fi
	done
done
# ...and nothing of theirs was stored: a plain AAAA after noaaaa is a
# real answer, from the server.
world_dns_reset
world_assert_eq "$(plain res_query sip1.sip.test AAAA)" "$(pre res_query sip1.sip.test AAAA)" \
	"AAAA after a noaaaa caller"
world_dns_assert_count 2 AAAA "AAAA questions (plain, then a miss of the preload)"
# edns0 and trust-ad only change the query: cached, and equal.
args=(-o edns0,trust-ad res_query sip1.sip.test A res_search _sip._udp.sip.test SRV)
expect=$(plain "${args[@]}")
fresh_cache
world_assert_eq "$expect" "$(pre "${args[@]}")" "edns0,trust-ad (miss)"
world_assert_eq "$expect" "$(pre "${args[@]}")" "edns0,trust-ad (hit)"

# --- 6. HOSTALIASES ------------------------------------------------------------------------

printf 'pbx sip2.sip.test\n' >"$WORLD_DIR/aliases"
expect=$(world_run env HOSTALIASES="$WORLD_DIR/aliases" "$RES" res_search pbx A res_nsearch pbx A)
world_assert_match 'an sip2.sip.test. TTL IN A 127.0.0.12' "$expect" "libresolv's alias"
fresh_cache
world_assert_eq "$expect" \
	"$(world_run env HOSTALIASES="$WORLD_DIR/aliases" "${PRELOAD_VARS[@]}" "$RES" res_search pbx A res_nsearch pbx A)" \
	"HOSTALIASES through the preload"

world_end

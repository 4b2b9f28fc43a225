#!/bin/bash
# test_kamailio_cache.sh - a real Kamailio 5.6.3 relaying real SIP traffic
# (sipp) to a SIP domain, with and without sipcache's preload:
#   1. without sipcache (Kamailio's own cache off): every request is
#      answered, and costs exactly one NAPTR, one SRV and one A query at
#      the server: the legacy behaviour sipcache is for (and proof that
#      this Kamailio really resolves through libresolv per request);
#   2. under the preload, cold cache, several workers: the first request
#      asks each question once (NAPTR, SRV, the targets' addresses); the
#      next 400, spread over the workers, ask nothing: one upstream query
#      per name, not per worker, because the cache file is shared;
#   3. the counters of sipcachectl stats saw those hits;
#   4. Kamailio restarted: the cache is still warm, nothing goes out.
# Every request is answered, by the SRV target Kamailio picks (b: priority
# 10, highest weight), in every part.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=lib/e2e.sh
. "$(dirname "$0")/lib/e2e.sh"

CHILDREN=4
UAS=(127.0.0.11 127.0.0.12 127.0.0.13)

world_begin kamailio_cache
e2e_init
world_zone "$E2E_ZONE"
world_dns_start

# --- 1. without sipcache ------------------------------------------------------

e2e_kamailio_start kam -A LOGREQ -A CHILDREN=$CHILDREN
e2e_uas_start "${UAS[@]}"
world_dns_reset
e2e_uac e2e.test 40 40
e2e_assert_answered 40 "without sipcache"
world_dns_assert_count 40 NAPTR
world_dns_assert_count 40 SRV
world_dns_assert_count 40 A
world_dns_assert_count 120 "" "queries for 40 requests without sipcache"
e2e_uas_stop
world_assert_eq "127.0.0.11=0 127.0.0.12=40 127.0.0.13=0" "$E2E_UAS_TEXT" \
	"requests per target without sipcache"
e2e_kamailio_stop kam

# --- 2. under sipcache: the cache is shared by every worker ---------------------

rm -f "$WORLD_DIR"/cache/cache.tdb*
e2e_kamailio_start kam --preload -A LOGREQ -A CHILDREN=$CHILDREN
e2e_uas_start "${UAS[@]}"
world_dns_reset
e2e_uac e2e.test 1 1
e2e_assert_answered 1 "first request under sipcache"
# The chain, once: NAPTR, SRV, and at most the A and AAAA of each of the
# three targets (the SRV answer carries their A records; prefetch may
# ask for what it lacks).
world_dns_assert_count 1 NAPTR
world_dns_assert_count 1 SRV
world_assert_le "$(world_dns_count A)" 3 "A queries of the first request"
world_assert_le "$(world_dns_count AAAA)" 3 "AAAA queries of the first request"
cold=$(world_dns_count)
world_log "first request under sipcache: $cold queries (NAPTR $(world_dns_count NAPTR)," \
	"SRV $(world_dns_count SRV), A $(world_dns_count A), AAAA $(world_dns_count AAAA))"
world_assert_le "$cold" 8 "queries of the first request"

world_dns_reset
e2e_kamailio_mark kam
e2e_uac e2e.test 400 200
e2e_assert_answered 400 "warm, under sipcache"
world_dns_assert_count 0 "" "queries for 400 requests once warm"
workers=$(e2e_kamailio_workers kam)
world_log "400 requests relayed by $workers of $CHILDREN workers, 0 queries"
# A cache per process would have sent one NAPTR per worker.
world_assert_le 2 "$workers" "workers that relayed the 400 requests"
e2e_uas_stop
world_assert_eq "127.0.0.11=0 127.0.0.12=401 127.0.0.13=0" "$E2E_UAS_TEXT" \
	"requests per target under sipcache"
world_assert_eq "" "$(e2e_kamailio_crashes kam)" "crashed Kamailio processes"

# --- 3. what sipcachectl stats saw ---------------------------------------------------

if [ -n "$E2E_CTL" ]; then
	# Each warm request is a NAPTR and an SRV hit (res_search) and an
	# address hit (gethostbyname): at least two hits per request.
	hits=$(e2e_stat hits)
	world_log "sipcachectl stats: $hits hits, $(e2e_stat misses) misses"
	world_assert_le 800 "$hits" "hits after 401 requests"
	world_assert_le "$(e2e_stat misses)" "$cold" "misses after 401 requests"
	world_assert_eq 0 "$(e2e_stat upstream_errors)" "upstream errors"
else
	world_log "sipcachectl not built: its counters not checked"
fi

# --- 4. Kamailio restarted: the cache is still warm --------------------------------

e2e_kamailio_stop kam
e2e_kamailio_start kam --preload -A LOGREQ -A CHILDREN=$CHILDREN
e2e_uas_start "${UAS[@]}"
world_dns_reset
e2e_kamailio_mark kam
e2e_uac e2e.test 200 200
e2e_assert_answered 200 "after Kamailio's restart"
world_dns_assert_count 0 "" "queries after Kamailio's restart"
e2e_uas_stop
world_assert_eq "127.0.0.11=0 127.0.0.12=200 127.0.0.13=0" "$E2E_UAS_TEXT" \
	"requests per target after the restart"
world_assert_eq "" "$(e2e_kamailio_crashes kam)" "crashed Kamailio processes"
e2e_kamailio_stop kam

world_end

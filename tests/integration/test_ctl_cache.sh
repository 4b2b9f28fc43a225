#!/bin/bash
# test_ctl_cache.sh - sipcachectl against a cache filled through real
# lookups answered by a real server (Knot), in a private world:
#   1. get: a miss goes upstream (one query at the server) and is stored,
#      the same question again is a hit (no query); every answer, whole,
#      equals what kdig gets from the server (TTLs aside): A, AAAA, NAPTR,
#      SRV with additional records, TXT, a CNAME chain, NXDOMAIN, NODATA,
#      REFUSED, the hosts file; exit statuses; --short; a stale answer
#      served while the server is frozen;
#   2. dump and dump --json: every entry with kind, state, TTL, lifetime,
#      parsed and checked;
#   3. stats --json: exact deltas of every counter over known lookups,
#      per type, entries against dump, the hit ratio; --reset;
#   4. flush NAME TYPE, flush NAME, flush: the counts, the entries gone,
#      the next lookup upstream again;
#   5. a long-running process under the preload sees each kind of flush
#      at its next lookup (a record changed at the server behind a cached
#      answer shows up right after the flush, not before);
#   6. flushes while a process looks a name up 3000 times: every answer
#      whole, and the file sound afterwards;
#   7. --config, usage errors (the SIP commands' too), --help per
#      command, --version, exit codes.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/ctl_world.sh
. "$(dirname "$0")/../helpers/ctl_world.sh"

world_begin ctl_cache
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start
ctl_setup

# --- 1. get -------------------------------------------------------------------------

# (kdig's own queries count at the server too: counts are asserted
# before each comparison with kdig.)
world_dns_reset
ctl_expect 0 get sip1.sip.test
world_dns_assert_count 1 A "A queries after the first get"
world_assert_match '^;; SOURCE: upstream, stored in the cache for 300 s$' "$CTL_OUT" "first get"
miss=$(ctl_get_answer)
ctl_expect 0 get sip1.sip.test A
world_dns_assert_count 1 A "A queries after the second get (a hit)"
world_assert_match '^;; SOURCE: cache, (300|299) s left$' "$CTL_OUT" "second get"
exp=$(dig_answer sip1.sip.test A)
world_assert_eq "$exp" "$miss" "sip1.sip.test A, first get"
world_assert_eq "$exp" "$(ctl_get_answer)" "sip1.sip.test A, from the cache"

# Every kind of answer, as a miss and then as a hit, against kdig.
for q in "sip1.sip.test AAAA" "sip.test NAPTR" "_sip._udp.sip.test SRV" \
    "txt.sip.test TXT" "alias.sip.test A" "multi.sip.test A"; do
	# shellcheck disable=SC2086
	set -- $q
	world_dns_reset
	ctl_expect 0 get "$1" "$2"
	world_assert_match '^;; SOURCE: upstream, stored' "$CTL_OUT" "get $q (miss)"
	miss=$(ctl_get_answer)
	ctl_expect 0 get "$1" "$2"
	world_dns_assert_count 1 "" "queries for get $q twice"
	world_assert_match '^;; SOURCE: cache, ' "$CTL_OUT" "get $q (hit)"
	exp=$(dig_answer "$1" "$2")
	world_assert_eq "$exp" "$miss" "get $q (miss)"
	world_assert_eq "$exp" "$(ctl_get_answer)" "get $q (hit)"
done

# Negative answers: exit 1, the server's authority section; cached.
ctl_expect 1 get nx.sip.test A
world_assert_eq "$(dig_answer nx.sip.test A)" "$(ctl_get_answer)" "NXDOMAIN"
world_assert_match '^;; SOURCE: upstream, stored in the cache for 5 s$' "$CTL_OUT" "NXDOMAIN"
ctl_expect 1 get nx.sip.test A
world_assert_match '^;; SOURCE: cache \(negative answer\), [0-9] s left$' "$CTL_OUT" "NXDOMAIN hit"
world_assert_eq "$(dig_answer nx.sip.test A)" "$(ctl_get_answer)" "NXDOMAIN from the cache"
ctl_expect 1 get v4only.sip.test AAAA
world_assert_eq "$(dig_answer v4only.sip.test AAAA)" "$(ctl_get_answer)" "NODATA"
# REFUSED (outside the world's zones): a failure, never stored.
ctl_expect 1 get www.example.com A
world_assert_eq "$(dig_answer www.example.com A)" "$(ctl_get_answer)" "REFUSED"
world_assert_match '^;; SOURCE: upstream, not stored' "$CTL_OUT" "REFUSED"
# The hosts file comes first (nsswitch `files dns'): no query at all.
world_dns_reset
ctl_expect 0 get localhost A
world_assert_match '^;; SOURCE: hosts file /etc/hosts' "$CTL_OUT" "localhost"
world_assert_match $'^localhost\\.\t0\tIN\tA\t127\\.0\\.0\\.1$' "$CTL_OUT" "localhost"
world_dns_assert_count 0 "" "queries for a hosts-file name"

ctl_expect 0 get --short multi.sip.test
world_assert_eq "127.0.0.31
127.0.0.32
127.0.0.33
127.0.0.34" "$(printf '%s\n' "$CTL_OUT" | sort)" "get --short"
ctl_expect 0 get _sip._udp.sip.test SRV -s
world_assert_eq "10 10 5060 sip1.sip.test.
10 30 5060 sip2.sip.test.
20 0 5060 backup.sip.test." "$CTL_OUT" "get SRV --short"
ctl_expect 1 get --short nx.sip.test
world_assert_eq "" "$CTL_OUT" "get --short of NXDOMAIN"
world_assert_match 'HOST_NOT_FOUND' "$CTL_ERR" "get --short of NXDOMAIN"
ctl_expect 0 get sip.test TYPE35 -s
world_assert_match '^10 50 "s" "SIPS\+D2T" "" _sips\._tcp\.sip\.test\.$' "$CTL_OUT" "TYPE35"

# A stale answer: `short' lives 2 s; with the server frozen the expired
# answer is served (serve_stale), and get says so.
ctl_expect 0 get short.sip.test A
sleep 2.2
world_dns_freeze
ctl_expect 0 get short.sip.test A
world_dns_thaw
world_assert_match '^;; SOURCE: cache, stale: upstream failed' "$CTL_OUT" "stale get"
# (TTLs of a stale answer: at most 30, RFC 8767; the stored ones were 2.)
world_assert_match $'^short\\.sip\\.test\\.\t([0-9]|[12][0-9]|30)\tIN\tA\t127\\.0\\.0\\.41$' "$CTL_OUT" \
	"stale get"

# --- 2. dump ------------------------------------------------------------------------

# The negative answers live 5 s: flushed and asked again, they are
# stored anew and fresh for the listings below (a hit could be a second
# from expiry on a slow machine).
ctl_expect 0 flush nx.sip.test A
ctl_expect 0 flush v4only.sip.test AAAA
ctl_expect 1 get nx.sip.test A
world_assert_match '^;; SOURCE: upstream, stored' "$CTL_OUT" "nx.sip.test A after its flush"
ctl_expect 1 get v4only.sip.test AAAA
world_assert_match '^;; SOURCE: upstream, stored' "$CTL_OUT" "v4only.sip.test AAAA after its flush"
ctl_expect 0 dump
rows=$(printf '%s\n' "$CTL_OUT" | sed 1d | sed '$d' | awk '{ print $1, $2, $3, $4, $6 }')
# backup and sip2 A: the related records of the SRV answer, entries of
# their own (sip1's A and AAAA were asked, and came with it too).
world_assert_eq "_sip._udp.sip.test. SRV IN positive fresh
alias.sip.test. A IN positive fresh
backup.sip.test. A IN positive fresh
multi.sip.test. A IN positive fresh
nx.sip.test. A IN NXDOMAIN fresh
short.sip.test. A IN positive stale
sip.test. NAPTR IN positive fresh
sip1.sip.test. A IN positive fresh
sip1.sip.test. AAAA IN positive fresh
sip2.sip.test. A IN positive fresh
txt.sip.test. TXT IN positive fresh
v4only.sip.test. AAAA IN NODATA fresh" "$rows" "dump rows"
world_assert_eq "NAME TYPE CLASS KIND TTL STATE SIZE" \
	"$(printf '%s\n' "$CTL_OUT" | head -n 1 | world_squeeze)" "dump header"
world_assert_eq "12 entries: 10 positive, 2 negative; 11 fresh, 1 stale, 0 expired" \
	"$(printf '%s\n' "$CTL_OUT" | tail -n 1)" "dump summary"

ctl_expect 0 dump --json
printf '%s\n' "$CTL_OUT" >"$WORLD_DIR/dump.json"
python3 - "$WORLD_DIR/dump.json" "$CTL_CACHE" <<'EOF' || world_fail "dump --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["cache_file"] == sys.argv[2], d["cache_file"]
assert d["serve_stale"] == 3600
want = {  # name, type: kind, lifetime, answers
    ("sip1.sip.test.", "A"): ("positive", 300, 1),
    ("sip1.sip.test.", "AAAA"): ("positive", 300, 1),
    ("sip.test.", "NAPTR"): ("positive", 3600, 3),
    ("_sip._udp.sip.test.", "SRV"): ("positive", 600, 3),
    ("txt.sip.test.", "TXT"): ("positive", 300, 1),
    ("alias.sip.test.", "A"): ("positive", 300, 3),
    ("multi.sip.test.", "A"): ("positive", 300, 4),
    ("nx.sip.test.", "A"): ("NXDOMAIN", 5, 0),
    ("v4only.sip.test.", "AAAA"): ("NODATA", 5, 0),
    ("short.sip.test.", "A"): ("positive", 2, 1),
    # related records of the SRV answer (its additional section)
    ("sip2.sip.test.", "A"): ("positive", 300, 1),
    ("backup.sip.test.", "A"): ("positive", 300, 1),
}
got = {(e["name"], e["type"]): e for e in d["entries"]}
assert set(got) == set(want), sorted(set(got) ^ set(want))
codes = {"A": 1, "AAAA": 28, "NAPTR": 35, "SRV": 33, "TXT": 16}
for k, (kind, lifetime, answers) in want.items():
    e = got[k]
    assert e["class"] == "IN" and e["type_code"] == codes[k[1]], e
    assert e["kind"] == kind and e["negative"] == (kind != "positive"), e
    assert e["rcode"] == (3 if kind == "NXDOMAIN" else 0), e
    assert e["answers"] == answers, e
    assert e["lifetime"] == lifetime, e
    assert e["expires_at"] == e["stored_at"] + lifetime, e
    assert e["size"] > 12, e
    if k[0] == "short.sip.test.":
        assert e["state"] == "stale" and e["ttl"] == 0 and e["expired_for"] >= 0, e
    else:
        assert e["state"] == "fresh" and 0 < e["ttl"] <= lifetime, e
        assert e["ttl"] == e["expires_at"] - d["now"], e
        assert e["expired_for"] == 0, e
# sorted by name, then type code
keys = [(e["name"], e["type_code"]) for e in d["entries"]]
assert keys == sorted(keys), keys
EOF

# --- 3. stats -----------------------------------------------------------------------

stats_json() {
	ctl_expect 0 stats --json
	printf '%s\n' "$CTL_OUT" >"$WORLD_DIR/$1.json"
}
ctl_expect 0 flush nx.sip.test
stats_json before
ctl_expect 0 get sip1.sip.test A                 # hit, A
ctl_expect 1 get nx.sip.test A                   # miss, stored
ctl_expect 1 get nx.sip.test A                   # negative hit, A (5 s)
ctl_expect 0 get sip2.sip.test A                 # hit, A: came with the SRV answer
ctl_expect 0 get _sip._tcp.sip.test SRV          # miss, stored
ctl_expect 0 get _sip._tcp.sip.test SRV          # hit, SRV
ctl_expect 1 get refused.example.com A           # miss, upstream error
stats_json after
ctl_expect 0 dump --json
printf '%s\n' "$CTL_OUT" >"$WORLD_DIR/dump2.json"
python3 - "$WORLD_DIR" <<'EOF' || world_fail "stats --json"
import json, sys
w = sys.argv[1]
b = json.load(open(w + "/before.json"))
a = json.load(open(w + "/after.json"))
dump = json.load(open(w + "/dump2.json"))
want = {"hits": 4, "misses": 3, "negative_hits": 1, "stale_served": 0,
        "upstream_errors": 1, "evictions": 0, "stores": 2, "hosts_hits": 0,
        "corrupt": 0}
for k, v in want.items():
    assert a[k] - b[k] == v, (k, b[k], a[k], v)
assert a["entries"] == len(dump["entries"]) == b["entries"] + 2, (a["entries"], b["entries"])
assert a["bytes"] > b["bytes"] > 0
for k in ("hits", "misses", "negative_hits", "stale_served", "upstream_errors",
          "evictions", "entries", "bytes"):
    assert isinstance(a[k], int) and a[k] >= 0, k
assert abs(a["hit_ratio"] - a["hits"] / (a["hits"] + a["misses"])) < 1e-6
assert b["stale_served"] >= 1 and b["upstream_errors"] >= 1   # section 1
t = {k: (a["types"][k]["hits"] - b["types"][k]["hits"],
         a["types"][k]["misses"] - b["types"][k]["misses"]) for k in a["types"]}
assert t == {"A": (3, 2), "AAAA": (0, 0), "SRV": (1, 1), "NAPTR": (0, 0),
             "CNAME": (0, 0), "PTR": (0, 0), "TXT": (0, 0), "other": (0, 0)}, t
x = a["types"]["SRV"]
assert abs(x["hit_ratio"] - x["hits"] / (x["hits"] + x["misses"])) < 1e-6
assert a["types"]["CNAME"]["hit_ratio"] is None
EOF
ctl_expect 0 stats
world_assert_match "^hits +$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hits"])' "$WORLD_DIR/after.json")\$" \
	"$CTL_OUT" "stats text"
world_assert_match '^hit_ratio +[0-9]+\.[0-9]%$' "$CTL_OUT" "stats text"
world_assert_match '^SRV +[0-9]+ +[0-9]+ +[0-9.]+%$' "$CTL_OUT" "stats text per type"
ctl_expect 0 stats --reset
stats_json reset
python3 - "$WORLD_DIR" <<'EOF' || world_fail "stats --reset"
import json, sys
r = json.load(open(sys.argv[1] + "/reset.json"))
a = json.load(open(sys.argv[1] + "/after.json"))
for k in ("hits", "misses", "negative_hits", "stale_served", "upstream_errors",
          "evictions", "stores", "hosts_hits", "corrupt"):
    assert r[k] == 0, (k, r[k])
assert r["hit_ratio"] is None
assert all(v["hits"] == 0 and v["misses"] == 0 for v in r["types"].values())
assert r["entries"] == a["entries"] and r["bytes"] == a["bytes"]   # gauges stay
EOF

# --- 4. flush -----------------------------------------------------------------------

world_dns_reset
ctl_expect 0 flush sip1.sip.test A
world_assert_eq "flushed 1 entry of sip1.sip.test. A" "$CTL_OUT" "flush NAME TYPE"
ctl_expect 0 dump
world_assert_eq "1" "$(printf '%s\n' "$CTL_OUT" | grep -c '^sip1\.sip\.test\. ')" \
	"sip1 entries left (AAAA)"
ctl_expect 0 flush sip1.sip.test A
world_assert_eq "flushed 0 entries of sip1.sip.test. A" "$CTL_OUT" "flush of what is not cached"
ctl_expect 0 get sip1.sip.test A
world_assert_match '^;; SOURCE: upstream' "$CTL_OUT" "get after flush NAME TYPE"
world_dns_assert_count 1 A "queries after flush NAME TYPE"
ctl_expect 0 flush SIP1.Sip.Test.
world_assert_eq "flushed 2 entries of sip1.sip.test." "$CTL_OUT" "flush NAME (any case)"
ctl_expect 0 dump --json
n=$(printf '%s\n' "$CTL_OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))')
world_assert_eq 0 "$(printf '%s\n' "$CTL_OUT" | grep -c '"sip1\.sip\.test\."' || :)" "sip1 after flush NAME"
ctl_expect 0 flush
world_assert_eq "flushed $n entries" "$CTL_OUT" "flush (all)"
ctl_expect 0 dump
world_assert_eq "0 entries: 0 positive, 0 negative; 0 fresh, 0 stale, 0 expired" \
	"$(printf '%s\n' "$CTL_OUT" | tail -n 1)" "dump after flush"
ctl_expect 0 stats --json
world_assert_match '"entries": 0, "bytes": 0,' "$CTL_OUT" "gauges after flush"
ctl_expect 0 flush
world_assert_eq "flushed 0 entries" "$CTL_OUT" "flush of an empty cache"

# --- 5. a running process sees each flush at its next lookup ------------------------

lookups_start
world_dns_reset
lookups_ask sip2.sip.test A
world_assert_eq "sip2.sip.test A ok 127.0.0.12" "$LOOKUP" "running process, first lookup"
world_dns_assert_count 1 A "the running process's first lookup"
lookups_ask sip2.sip.test A
world_dns_assert_count 1 A "the running process's second lookup (a hit)"

# The server changes; the cached answer hides it until a flush.
world_dns_set sip.test sip2 300 A 127.0.0.99
lookups_ask sip2.sip.test A
world_assert_eq "sip2.sip.test A ok 127.0.0.12" "$LOOKUP" "cached answer before the flush"
ctl_expect 0 flush sip2.sip.test A
world_assert_eq "flushed 1 entry of sip2.sip.test. A" "$CTL_OUT" "flush NAME TYPE"
lookups_ask sip2.sip.test A
world_assert_eq "sip2.sip.test A ok 127.0.0.12,127.0.0.99" "$LOOKUP" "after flush NAME TYPE"
world_dns_assert_count 2 A "queries after flush NAME TYPE"

world_dns_unset sip.test sip2 A 127.0.0.99
lookups_ask sip2.sip.test A
world_assert_eq "sip2.sip.test A ok 127.0.0.12,127.0.0.99" "$LOOKUP" "before flush NAME"
ctl_expect 0 flush sip2.sip.test
lookups_ask sip2.sip.test A
world_assert_eq "sip2.sip.test A ok 127.0.0.12" "$LOOKUP" "after flush NAME"
world_dns_assert_count 3 A "queries after flush NAME"

world_dns_set sip.test sip2 300 A 127.0.0.98
lookups_ask sip2.sip.test A
world_assert_eq "sip2.sip.test A ok 127.0.0.12" "$LOOKUP" "before flush"
ctl_expect 0 flush
lookups_ask sip2.sip.test A
world_assert_eq "sip2.sip.test A ok 127.0.0.12,127.0.0.98" "$LOOKUP" "after flush (all)"
world_dns_assert_count 4 A "queries after flush (all)"
world_dns_unset sip.test sip2 A 127.0.0.98

# --- 6. flushes during lookups ------------------------------------------------------

# Lookups for 3 s in the running process while flushes run: every answer
# whole (one distinct answer, all four addresses), none failed.
printf 'for 3000 multi.sip.test A\n' >&"$LOOKUPS_FD"
LOOKUPS_SEQ=$((LOOKUPS_SEQ + 1))
flushes=0
while ! grep -q "^$LOOKUPS_SEQ " "$WORLD_LOGS/lookups.log"; do
	ctl_expect 0 flush
	flushes=$((flushes + 1))
	[ $flushes -lt 1000 ] || world_fail "3 s of lookups did not end"
done
line=$(grep "^$LOOKUPS_SEQ " "$WORLD_LOGS/lookups.log")
world_assert_match "^$LOOKUPS_SEQ for 3000 n=[0-9]+ ok=[0-9]+ fail=0 answers=1\|127\.0\.0\.31,127\.0\.0\.32,127\.0\.0\.33,127\.0\.0\.34\$" \
	"$line" "lookups during $flushes flushes"
world_log "lookups during $flushes flushes: $line"
world_assert_le 5 "$flushes" "flushes during the lookups"
lookups_stop
ctl_expect 0 check
world_assert_match '^.*: OK, [0-9]+ (entry|entries)$' "$CTL_OUT" "check after the flushes"

# --- 7. configuration, usage, help --------------------------------------------------

mkdir -m 0755 "$WORLD_DIR/alt"
printf 'cache_file = %s/alt/cache.tdb\n' "$WORLD_DIR" >"$WORLD_DIR/alt.conf"
ctl_expect 0 --config "$WORLD_DIR/alt.conf" get sip2.sip.test
world_assert_match '^;; SOURCE: upstream, stored' "$CTL_OUT" "--config get"
[ -f "$WORLD_DIR/alt/cache.tdb" ] || world_fail "--config: the other cache file was not used"
ctl_expect 0 dump -c "$WORLD_DIR/alt.conf"
world_assert_match '^sip2\.sip\.test\. +A +IN +positive' "$CTL_OUT" "dump -c (after the command)"
ctl_expect 0 dump
world_assert_eq 0 "$(printf '%s\n' "$CTL_OUT" | grep -c '^sip2' || :)" "the default cache is another one"
ctl_expect 2 --config "$WORLD_DIR/missing.conf" stats
world_assert_match 'missing\.conf: no such configuration file' "$CTL_ERR" "missing --config"
printf 'cache_file = %s/alt/cache.tdb\nmax_entries = lots\n' "$WORLD_DIR" >"$WORLD_DIR/bad.conf"
ctl_expect 3 -c "$WORLD_DIR/bad.conf" flush
world_assert_match 'bad\.conf:2: max_entries' "$CTL_ERR" "invalid configuration"
world_assert_match 'runs uncached' "$CTL_ERR" "invalid configuration"

ctl_expect 2
world_assert_match '^Usage: sipcachectl ' "$CTL_ERR" "no command"
ctl_expect 2 frobnicate
world_assert_match "unknown command 'frobnicate'" "$CTL_ERR" "unknown command"
ctl_expect 2 --frob
ctl_expect 2 flush a.b A extra
world_assert_match "unexpected argument 'extra'" "$CTL_ERR" "flush with 3 operands"
ctl_expect 2 flush sip.test BOGUS
world_assert_match "'BOGUS' is not a record type" "$CTL_ERR" "bad type"
ctl_expect 2 flush 'a..b'
world_assert_match "is not a domain name" "$CTL_ERR" "bad name"
ctl_expect 2 get
world_assert_match "missing argument" "$CTL_ERR" "get without a name"
ctl_expect 2 get sip.test ANY
ctl_expect 2 stats --xml
world_assert_match "unknown option '--xml'" "$CTL_ERR" "unknown option"
world_assert_match "Try 'sipcachectl stats --help'" "$CTL_ERR" "unknown option"
ctl_expect 2 dump extra
ctl_expect 0 --version
world_assert_match '^sipcachectl \(sipcache\) [0-9]+\.[0-9]+\.[0-9]+$' "$CTL_OUT" "--version"
ctl_expect 0 --help
world_assert_match '^Usage: sipcachectl \[--config FILE\]' "$CTL_OUT" "--help"
for c in flush stats dump get check resolve enum serves down up; do
	ctl_expect 0 "$c" --help
	world_assert_match "^Usage: sipcachectl \\[--config FILE\\] $c( |\$)" "$CTL_OUT" "$c --help"
	world_assert_match "^  -c, --config FILE" "$CTL_OUT" "$c --help"
	ctl_expect 0 help "$c"
	world_assert_match "^Usage: sipcachectl \\[--config FILE\\] $c( |\$)" "$CTL_OUT" "help $c"
	[ "$(printf '%s\n' "$CTL_OUT" | awk '{ if (length($0) > 80) n++ } END { print n + 0 }')" = 0 ] ||
		world_fail "$c --help has lines longer than 80 columns"
done

# The SIP commands' arguments (their results: test_ctl_sip.sh).
ctl_expect 2 resolve http://sip.test
world_assert_match 'is not a SIP URI' "$CTL_ERR" "resolve http:"
ctl_expect 2 resolve sip:
ctl_expect 2 resolve
ctl_expect 2 enum 12ab
world_assert_match 'is not an E.164 number' "$CTL_ERR" "enum 12ab"
ctl_expect 2 enum +1234567890123456
ctl_expect 2 enum +15550100 'bad..suffix'
ctl_expect 2 serves 'a..b'
ctl_expect 2 down sip1.sip.test:0
ctl_expect 2 down sip1.sip.test 5x
world_assert_match 'is not a duration' "$CTL_ERR" "down 5x"
ctl_expect 2 down sip1.sip.test 0
ctl_expect 2 down '[::1' 30
ctl_expect 2 up
ctl_expect 2 up --all sip1.sip.test

world_end

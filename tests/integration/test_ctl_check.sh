#!/bin/bash
# test_ctl_check.sh - sipcachectl check [--repair] on a cache filled
# through real lookups, damaged in each way it can be:
#   1. a sound file: exit 0, the entry count;
#   2. one record's bytes changed (fails its checksum): exit 1 naming the
#      count; --repair drops it (exit 0), the others stay;
#   3. tdb's own structure broken (a record header's magic) while a
#      process under the preload has the file open: exit 1; --repair
#      rebuilds the file from the good records (new inode, same owner and
#      mode), the running process follows the new file within a second
#      (its next lookups hit and store there);
#   4. a header tdb cannot open (bad version), an empty file: exit 1,
#      get says to repair, --repair rebuilds an empty cache;
#   5. a file that does not start like a tdb file: never replaced.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/ctl_world.sh
. "$(dirname "$0")/../helpers/ctl_world.sh"

world_begin ctl_check
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start
ctl_setup

for q in "sip1.sip.test A" "sip1.sip.test AAAA" "sip.test NAPTR" "txt.sip.test TXT" \
    "multi.sip.test A" "_sip._udp.sip.test SRV"; do
	# shellcheck disable=SC2086
	ctl_expect 0 get $q
done

# The names in the dump, one `NAME TYPE' per line.
dumped() {
	ctl_expect 0 dump
	printf '%s\n' "$CTL_OUT" | sed 1d | sed '$d' | awk '{ print $1, $2 }'
}

# poke FILE FIND OFFSET BYTES [EXPECT]: write BYTES (hex) at OFFSET from
# the first occurrence of FIND (hex) in FILE; EXPECT (hex) must be there
# before.  (A key occurs twice in the file: as the tdb key, then in the
# question section of the stored answer; the first one is the key.)
poke() {
	python3 - "$@" <<'EOF'
import sys
path, find, off, new = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3]), bytes.fromhex(sys.argv[4])
expect = bytes.fromhex(sys.argv[5]) if len(sys.argv) > 5 else None
data = open(path, "rb").read()
at = data.find(find)
if at < 0:
    sys.exit("poke: %s is not in the file" % sys.argv[2])
at += off
if expect is not None and data[at:at + len(expect)] != expect:
    sys.exit("poke: found %s, expected %s" % (data[at:at + len(expect)].hex(), expect.hex()))
with open(path, "r+b") as f:
    f.seek(at)
    f.write(new)
EOF
}

# Keys as the cache stores them: wire name, type, class IN.
key_txt=03747874037369700474657374000010 key_txt=${key_txt}0001
key_multi=056d756c7469037369700474657374000001 key_multi=${key_multi}0001

# --- 1. sound -----------------------------------------------------------------------

ctl_expect 0 check
# 6 answers asked for, and the A records of sip2 and backup that came
# with the SRV answer (related records, stored on their own).
world_assert_eq "$CTL_CACHE: OK, 8 entries" "$CTL_OUT" "check of a sound file"

# --- 2. a damaged record ------------------------------------------------------------

# "second string" in the TXT answer: the value's checksum no longer holds.
poke "$CTL_CACHE" "$key_txt" 0 "" || world_fail "the TXT entry's key is not in the file"
python3 - "$CTL_CACHE" "$key_txt" <<'EOF' || world_fail "cannot damage the TXT record"
import sys
path, key = sys.argv[1], bytes.fromhex(sys.argv[2])
data = bytearray(open(path, "rb").read())
at = data.find(b"second string", data.find(key))
assert at > 0
data[at] ^= 0x20
open(path, "r+b").write(data)
EOF
ctl_expect 1 check
world_assert_match "^$CTL_CACHE: 1 damaged record .*Run 'sipcachectl check --repair'" "$CTL_OUT" \
	"check of a damaged record"
ctl_expect 0 check --repair
world_assert_eq "$CTL_CACHE: dropped 1 damaged record
$CTL_CACHE: OK, 7 entries" "$CTL_OUT" "check --repair of a damaged record"
world_assert_eq "_sip._udp.sip.test. SRV
backup.sip.test. A
multi.sip.test. A
sip.test. NAPTR
sip1.sip.test. A
sip1.sip.test. AAAA
sip2.sip.test. A" "$(dumped)" "entries after the repair"
ctl_expect 0 stats --json
world_assert_match '"entries": 7,' "$CTL_OUT" "entries gauge after the repair"

# --- 3. tdb's structure, with a process holding the file ----------------------------

lookups_start
lookups_ask sip1.sip.test A
world_assert_eq "sip1.sip.test A ok 127.0.0.11" "$LOOKUP" "running process before"
owner_mode=$(stat -c '%a %U:%G' "$CTL_CACHE")
inode=$(stat -c %i "$CTL_CACHE")
# The record header (next, rec_len, key_len, data_len, full_hash, magic)
# just before the key: its magic TDB_MAGIC 0x26011999 becomes garbage.
poke "$CTL_CACHE" "$key_multi" -4 deadbeef 99190126 ||
	world_fail "cannot damage the header of the multi record"
ctl_expect 1 check
world_assert_match "tdb's own structure is broken.*check --repair" "$CTL_OUT" "check of a broken tdb"
ctl_expect 0 check --repair
world_assert_match "^rebuilt $CTL_CACHE: 6 records kept, 0 dropped; running processes follow" \
	"$CTL_OUT" "rebuild"
world_assert_ne "$inode" "$(stat -c %i "$CTL_CACHE")" "inode after the rebuild"
world_assert_eq "$owner_mode" "$(stat -c '%a %U:%G' "$CTL_CACHE")" "owner and mode after the rebuild"
ctl_expect 0 check
world_assert_eq "$CTL_CACHE: OK, 6 entries" "$CTL_OUT" "check after the rebuild"
world_assert_eq "_sip._udp.sip.test. SRV
backup.sip.test. A
sip.test. NAPTR
sip1.sip.test. A
sip1.sip.test. AAAA
sip2.sip.test. A" "$(dumped)" "entries kept by the rebuild"
[ -z "$(find "$WORLD_DIR/cache" -name '*.rebuild.*')" ] || world_fail "a rebuild file was left"
# The running process follows the new file: a new answer it stores is
# in the new file, and what was kept is a hit there.
sleep 1.1
world_dns_reset
lookups_ask v4only.sip.test A
world_assert_eq "v4only.sip.test A ok 127.0.0.61" "$LOOKUP" "running process after the rebuild"
lookups_ask sip1.sip.test A
world_assert_eq "sip1.sip.test A ok 127.0.0.11" "$LOOKUP" "running process, a kept entry"
world_dns_assert_count 1 A "queries of the running process after the rebuild"
world_assert_match '^v4only\.sip\.test\. A$' "$(dumped)" "the running process's store, in the new file"
lookups_stop

# --- 4. headers tdb refuses ---------------------------------------------------------

# The version word after the 32-byte magic field.
poke "$CTL_CACHE" 5444422066696c650a 32 00000000 ||
	world_fail "cannot damage the version"
ctl_expect 1 check
world_assert_match "^$CTL_CACHE: damaged: it cannot be opened" "$CTL_OUT" "check of a bad header"
ctl_expect 3 get sip1.sip.test A
world_assert_match "damaged or not a sipcache cache file.*check --repair" "$CTL_ERR" \
	"get with a damaged file"
ctl_expect 0 check --repair
world_assert_match "^rebuilt $CTL_CACHE: 0 records kept, 0 dropped" "$CTL_OUT" "rebuild of a bad header"
ctl_expect 0 check
world_assert_eq "$CTL_CACHE: OK, 0 entries" "$CTL_OUT" "check after the rebuild of a bad header"
ctl_expect 0 get sip1.sip.test A
world_assert_match '^;; SOURCE: upstream, stored' "$CTL_OUT" "get after the rebuild"

: >"$CTL_CACHE"
ctl_expect 1 check
world_assert_match "cannot be opened" "$CTL_OUT" "check of an empty file"
ctl_expect 0 check --repair
ctl_expect 0 check
world_assert_eq "$CTL_CACHE: OK, 0 entries" "$CTL_OUT" "check after the rebuild of an empty file"

# --- 5. not a tdb file: never replaced ----------------------------------------------

printf '127.0.0.1 localhost\n' >"$CTL_CACHE"
before=$(file_state "$CTL_CACHE")
ctl_expect 1 check
ctl_expect 3 check --repair
world_assert_match "does not start like a tdb file.*left alone" "$CTL_ERR" "repair of a foreign file"
world_assert_eq "$before" "$(file_state "$CTL_CACHE")" "a foreign file after check --repair"

# --- 6. no file yet: check says so, check --repair creates it -------------------------

rm -f "$CTL_CACHE" "$CTL_CACHE.stats"
ctl_expect 0 check
world_assert_match "does not exist yet: nothing to check" "$CTL_OUT" "check of a missing file"
[ ! -e "$CTL_CACHE" ] || world_fail "check (without --repair) created $CTL_CACHE"
ctl_expect 0 check --repair
world_assert_eq "$CTL_CACHE: created, empty" "$CTL_OUT" "check --repair of a missing file"
world_assert_eq "0 0 664" "$(stat -c '%u %g %a' "$CTL_CACHE")" "owner, group and mode of the new file"
ctl_expect 0 check
world_assert_eq "$CTL_CACHE: OK, 0 entries" "$CTL_OUT" "check of the new file"
# A process under the preload uses it: its first lookup is stored.
ctl_expect 0 get sip1.sip.test A
world_assert_match '^;; SOURCE: upstream, stored' "$CTL_OUT" "get into the new file"
ctl_expect 0 check
world_assert_eq "$CTL_CACHE: OK, 1 entry" "$CTL_OUT" "check after a store into the new file"

world_end

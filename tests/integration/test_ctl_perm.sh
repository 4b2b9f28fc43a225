#!/bin/bash
# test_ctl_perm.sh - who may use sipcachectl on the cache:
#   1. a user who may not write the cache (nobody, no groups) is refused
#      by every command that reads or changes it, with a message saying
#      "permission denied" and what to do, exit status 3, and the cache
#      file, the stats file and the directory are left exactly as they
#      were (checksum, size, mode, owner, inode, mtime);
#   2. the same user may read the counters (stats), which equal root's;
#   3. a member of the configured group (`group' in sipcache.conf) may
#      change it: flush works for them and the entry is gone;
#   4. an untrusted cache (world-writable) is refused even to root, with
#      the fix in the message, and left alone.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/ctl_world.sh
. "$(dirname "$0")/../helpers/ctl_world.sh"

world_begin ctl_perm
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start
ctl_setup

# Where an unprivileged user can run it (the build tree may be private).
mkdir -m 0755 "$WORLD_DIR/bin"
install -m 0755 "$CTL" "$WORLD_DIR/bin/sipcachectl"
CTL_BIN=$WORLD_DIR/bin/sipcachectl

# A cache filled through real lookups, as root.
ctl_expect 0 get sip1.sip.test A
ctl_expect 0 get sip.test NAPTR
ctl_expect 1 get nx.sip.test A
ctl_expect 0 stats --json
root_stats=$CTL_OUT

state() {
	file_state "$CTL_CACHE" "$CTL_CACHE.stats"
	stat -c '%a %U:%G' "$WORLD_DIR/cache"
	ls -A "$WORLD_DIR/cache"
}
before=$(state)
world_assert_match 'cache\.tdb\.stats' "$before" "the stats file exists"

# --- 1. refused, and nothing changes ------------------------------------------------

CTL_AS=(setpriv --reuid nobody --regid nogroup --clear-groups)
for args in "flush" "flush sip1.sip.test" "flush sip1.sip.test A" "dump" "dump --json" \
    "check" "check --repair" "get sip1.sip.test" "get new.sip.test A" "stats --reset"; do
	# shellcheck disable=SC2086
	ctl_expect 3 $args
	world_assert_eq "" "$CTL_OUT" "stdout of '$args' as nobody"
	world_assert_match "^sipcachectl ${args%% *}: .*: permission denied: only root and members of group 'sipcache' may use the cache file" \
		"$CTL_ERR" "'$args' as nobody"
	world_assert_match 'run as root or as a member of .sipcache.\.  Nothing was changed\.$' \
		"$CTL_ERR" "'$args' as nobody"
	world_assert_eq "$before" "$(state)" "the cache after '$args' as nobody"
done
# Target marks change the cache too: refused the same way once wired.
for args in "down sip1.sip.test 60" "up sip1.sip.test"; do
	# shellcheck disable=SC2086
	ctl_run $args
	case $CTL_ST in
	2) world_assert_match 'not available in this build' "$CTL_ERR" "$args" ;;
	3) world_assert_match 'permission denied' "$CTL_ERR" "$args as nobody" ;;
	*) world_fail "'$args' as nobody: exit status $CTL_ST: $CTL_ERR" ;;
	esac
	world_assert_eq "$before" "$(state)" "the cache after '$args' as nobody"
done

# --- 2. the counters are readable -----------------------------------------------------

ctl_expect 0 stats --json
world_assert_eq "$root_stats" "$CTL_OUT" "stats as nobody"
ctl_expect 0 stats
world_assert_match '^entries +3$' "$CTL_OUT" "stats text as nobody"
world_assert_eq "$before" "$(state)" "the cache after stats as nobody"
CTL_AS=()

# --- 3. a member of the configured group may change it ------------------------------

world_run groupadd -g 4321 sctest
world_sipcache_conf "group = sctest"
chgrp sctest "$WORLD_DIR/cache" "$CTL_CACHE" "$CTL_CACHE.stats" 2>/dev/null ||
	chgrp 4321 "$WORLD_DIR/cache" "$CTL_CACHE" "$CTL_CACHE.stats"
chmod 2775 "$WORLD_DIR/cache"
chmod 0664 "$CTL_CACHE" "$CTL_CACHE.stats"
CTL_AS=(setpriv --reuid nobody --regid nogroup --groups 4321)
ctl_expect 0 flush sip1.sip.test A
world_assert_eq "flushed 1 entry of sip1.sip.test. A" "$CTL_OUT" "flush by a member of the group"
ctl_expect 0 dump
world_assert_eq 0 "$(printf '%s\n' "$CTL_OUT" | grep -c '^sip1\.sip\.test\. ' || :)" \
	"sip1 after the group member's flush"
ctl_expect 0 check
# Without the group: refused again, by name of the group now configured.
CTL_AS=(setpriv --reuid nobody --regid nogroup --clear-groups)
before=$(state)
ctl_expect 3 flush
world_assert_match "members of group 'sctest'" "$CTL_ERR" "flush as nobody, group sctest"
world_assert_eq "$before" "$(state)" "the cache after a refused flush"
CTL_AS=()

# --- 4. an untrusted file is refused, even to root ------------------------------------

chmod 0666 "$CTL_CACHE"
before=$(state)
ctl_expect 3 flush
world_assert_match 'not trusted: the file and its directory must be owned by root' \
	"$CTL_ERR" "flush of a world-writable cache"
world_assert_match 'chmod 0664 FILE' "$CTL_ERR" "the fix"
world_assert_eq "$before" "$(state)" "the untrusted cache after the refused flush"
ctl_expect 3 check --repair
world_assert_eq "$before" "$(state)" "the untrusted cache after a refused repair"
chmod 0664 "$CTL_CACHE"
ctl_expect 0 check

world_end

#!/bin/bash
# test_faults_cachedir.sh - a cache that may not, or must not, be used,
# through the preload in real processes:
#   1. the cache directory read-only (a read-only mount), no cache file:
#      nothing created, every question reaches the server, the answers
#      are glibc's, at most one log line per process;
#   2. an existing cache file on a read-only mount: not read either (tdb
#      takes no locks on a read-only open: a half-written record could be
#      served), so an answer changed at the server is seen at once; the
#      file is left as it was;
#   3. a process that may not write the file (nobody, no groups): the
#      same;
#   4. a file or directory that must not be trusted: owned by another
#      user, writable by all, group-writable for a group other than the
#      configured one, the file a symlink: the cached (stale) answer is
#      never served, the file is never written, even for root;
#   5. secure-execution mode: a set-user-ID program (the NSS module's
#      path: glibc refuses LD_PRELOAD paths there) ignores SIPCACHE_CONF
#      and SIPCACHE_DISABLE; run by root (not secure) it obeys them.
# Afterwards the file is sound (sipcachectl check).
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"

RES=$WORLD_BUILD/tests/progs/preload_res
CTL=$WORLD_BUILD/ctl/sipcachectl
MODULE=$WORLD_BUILD/nss/libnss_sipcache.so.2
for f in "$RES" "$CTL"; do
	[ -e "$f" ] || world_fail "$f missing: build with make all progs"
done

world_begin faults_cachedir
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start
DIR=$WORLD_DIR/cache
CACHE=$DIR/cache.tdb

# Programs an unprivileged user can run (the build tree may be private).
mkdir -m 0755 "$WORLD_DIR/bin"
install -m 0755 "$RES" "$WORLD_DIR/bin/preload_res"
install -m 0644 "$PRELOAD" "$WORLD_DIR/bin/libsipcache-preload.so"
RES=$WORLD_DIR/bin/preload_res
PRELOAD_VARS[0]=${PRELOAD_VARS[0]/$PRELOAD/$WORLD_DIR/bin/libsipcache-preload.so}
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# The answer of fresh.sip.test changes at the server: a cached copy would
# show the old one.
FRESH=
set_fresh() {
	if [ -n "$FRESH" ]; then
		world_dns_unset sip.test fresh A "$FRESH"
	fi
	world_dns_set sip.test fresh 300 A "$1"
	FRESH=$1
}
plain() { world_run -t 30 "$RES" "$@"; }
pre() { world_run -t 30 env "${PRELOAD_VARS[@]}" "$RES" "$@" 2>"$WORLD_DIR/pre.err"; }
# uncached WHAT [PREFIX...]: ask fresh.sip.test twice in each of two
# processes; every question reaches the server, the answer is glibc's
# (with the current address), at most one log line per process.
uncached() {
	local what=$1 want n
	shift
	want=$(plain -r 2 res_query fresh.sip.test A)
	world_dns_reset
	for n in 1 2; do
		world_assert_eq "$want" "$(world_run -t 30 "$@" env "${PRELOAD_VARS[@]}" "$RES" -r 2 \
			res_query fresh.sip.test A 2>"$WORLD_DIR/pre.err")" "$what: answers, process $n"
		world_assert_le "$(grep -c sipcache "$WORLD_DIR/pre.err" || :)" 1 "$what: log lines"
	done
	world_dns_assert_count 4 A "$what: every question asked upstream"
}
state() {
	{
		stat -c '%s %a %U:%G %i %Y' "$CACHE" "$CACHE.stats" 2>/dev/null || :
		sha256sum "$CACHE" "$CACHE.stats" 2>/dev/null || :
		ls -A "$DIR"
	} | sed "s|$DIR|DIR|g"
}
# fill ADDR: a cache (as root, normal) holding fresh.sip.test -> ADDR,
# then the server changes it.
fill() {
	rm -f "$CACHE" "$CACHE.stats"
	set_fresh "$1"
	pre res_query fresh.sip.test A >/dev/null
	set_fresh "$2"
}

# --- 1. read-only directory, no file ---------------------------------------------------

set_fresh 127.0.0.77
world_run mount -t tmpfs -o ro,mode=0755 sipcache-ro "$DIR"
uncached "read-only directory"
world_assert_eq "" "$(world_run ls -A "$DIR")" "read-only directory: nothing created"
world_assert_eq "$(world_run getent hosts fresh.sip.test; echo "status $?")" \
	"$(world_run env "${PRELOAD_VARS[@]}" getent hosts fresh.sip.test 2>/dev/null; echo "status $?")" \
	"read-only directory: getent hosts"
world_run umount "$DIR"

# --- 2. the file on a read-only mount -----------------------------------------------------

fill 127.0.0.77 127.0.0.78
world_assert_match '127\.0\.0\.77' "$(pre res_query fresh.sip.test A)" "a cache that works (sanity)"
before=$(state)
world_run sh -ec 'mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"' world "$DIR"
uncached "file on a read-only mount"
world_run umount "$DIR"
world_assert_eq "$before" "$(state)" "file on a read-only mount: left alone"

# --- 3. a reader who may not write --------------------------------------------------------

fill 127.0.0.77 127.0.0.78
chmod 0755 "$WORLD_DIR"
before=$(state)
uncached "reader without write access" "${NOBODY[@]}"
world_assert_eq "$before" "$(state)" "reader without write access: file left alone"

# --- 4. files that must not be trusted -----------------------------------------------------

# (gid 4322: no group of the configuration, nor root's)
# untrusted WHAT SETUP UNDO: the cache holds the old answer; after SETUP
# root must not use it; UNDO puts it right and the old answer is back
# (it really was the cache being refused, not something else).
untrusted() {
	local what=$1 setup=$2 undo=$3
	fill 127.0.0.77 127.0.0.78
	eval "$setup"
	before=$(state)
	uncached "$what"
	world_assert_eq "$before" "$(state)" "$what: file left alone"
	eval "$undo"
	world_assert_match '127\.0\.0\.77' "$(pre res_query fresh.sip.test A)" "$what: trusted again after the fix"
}
untrusted "file owned by another user" 'chown 65534 "$CACHE"' 'chown 0 "$CACHE"'
untrusted "file writable by all" 'chmod 0666 "$CACHE"' 'chmod 0664 "$CACHE"'
untrusted "file group-writable for another group" 'chgrp 4322 "$CACHE"; chmod 0664 "$CACHE"' \
	'chgrp 0 "$CACHE"'
untrusted "directory writable by all" 'chmod 0777 "$DIR"' 'chmod 0755 "$DIR"'
untrusted "directory owned by another user" 'chown 65534 "$DIR"' 'chown 0 "$DIR"'
untrusted "cache file a symlink" \
	'mv "$CACHE" "$DIR/real.tdb"; mv "$CACHE.stats" "$DIR/real.tdb.stats"; ln -s real.tdb "$CACHE"; ln -s real.tdb.stats "$CACHE.stats"' \
	'rm "$CACHE" "$CACHE.stats"; mv "$DIR/real.tdb" "$CACHE"; mv "$DIR/real.tdb.stats" "$CACHE.stats"'

# --- 5. secure-execution mode ---------------------------------------------------------------

if [ -e "$MODULE" ] && ! nm -D "$MODULE" | grep -q __asan_init; then
	libdir=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
	world_overlay "$libdir"
	world_run install -m 0644 "$MODULE" "$libdir/libnss_sipcache.so.2"
	world_nsswitch_hosts "files sipcache dns"
	# A set-user-ID root getent, and a configuration the caller would
	# like it to use instead: another cache file, in a directory where
	# a root process would create it.
	install -m 4755 "$(command -v getent)" "$WORLD_DIR/bin/getent-suid"
	mkdir -m 0755 "$WORLD_DIR/other"
	printf 'cache_file = %s/other/cache.tdb\n' "$WORLD_DIR" >"$WORLD_DIR/bin/other.conf"
	chmod 0644 "$WORLD_DIR/bin/other.conf"
	# Set-group-ID, as the packages install it: a file created by a
	# process running with the caller's group gets the directory's.
	chmod 2755 "$DIR"
	set_fresh 127.0.0.79
	suid() { world_run "$@" "$WORLD_DIR/bin/getent-suid" hosts fresh.sip.test; }
	# Not secure (run by root): both variables are obeyed.
	rm -f "$CACHE" "$CACHE.stats"
	world_assert_match '127\.0\.0\.79' "$(suid env SIPCACHE_CONF="$WORLD_DIR/bin/other.conf")" \
		"not secure, SIPCACHE_CONF: answer"
	[ -e "$WORLD_DIR/other/cache.tdb" ] && [ ! -e "$CACHE" ] ||
		world_fail "not secure: SIPCACHE_CONF was not obeyed"
	rm -f "$WORLD_DIR/other/"cache.tdb*
	world_assert_match '127\.0\.0\.79' "$(suid env SIPCACHE_DISABLE=1)" "not secure, SIPCACHE_DISABLE: answer"
	[ ! -e "$CACHE" ] || world_fail "not secure: SIPCACHE_DISABLE=1 was not obeyed (cache created)"
	# Secure (AT_SECURE: run by nobody): each ignored; the system's
	# configuration and cache are used.
	world_assert_match '127\.0\.0\.79' \
		"$(suid "${NOBODY[@]}" env SIPCACHE_CONF="$WORLD_DIR/bin/other.conf")" \
		"secure mode, SIPCACHE_CONF: answer"
	world_assert_eq "" "$(ls -A "$WORLD_DIR/other")" "secure mode: SIPCACHE_CONF ignored"
	world_assert_match 'fresh\.sip\.test' "$(world_run "$CTL" dump)" \
		"secure mode, SIPCACHE_CONF: the answer went into the system's cache"
	rm -f "$CACHE" "$CACHE.stats"
	world_assert_match '127\.0\.0\.79' "$(suid "${NOBODY[@]}" env SIPCACHE_DISABLE=1)" \
		"secure mode, SIPCACHE_DISABLE: answer"
	world_assert_match 'fresh\.sip\.test' "$(world_run "$CTL" dump)" \
		"secure mode: SIPCACHE_DISABLE ignored (the answer went into the system's cache)"
	world_nsswitch_hosts "files dns"
else
	world_log "NSS module not built (or sanitized): part 5 skipped"
fi

# --- the file afterwards -------------------------------------------------------------------

fill 127.0.0.77 127.0.0.78
world_run "$CTL" check >"$WORLD_DIR/check.out" 2>&1 ||
	world_fail "sipcachectl check: $(cat "$WORLD_DIR/check.out")"

world_end

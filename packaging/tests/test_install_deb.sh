#!/bin/bash
# packaging/tests/test_install_deb.sh - the .deb packages installed,
# used, removed and purged, the way an operator would.
#
# Where: in a private world (tests/lib/world.sh: network, mount, pid and
# uts namespaces, Knot on 127.0.0.1:53) with overlays on /etc, /usr and
# /var, so that dpkg installs into this machine's real system (its libc,
# its dpkg database, adduser, ldconfig) while every change lands in the
# namespace's tmpfs and vanishes with it: the host's nsswitch.conf,
# groups and dpkg database are never touched (checked at the end).  A
# debootstrap chroot would test the same scripts at the cost of minutes
# and the network.
#
# What: dpkg -i of sipcache and libnss-sipcache; the group, the cache
# directory (root:sipcache 2775, through dpkg-statoverride), the
# conffile, the hosts line of nsswitch.conf; `getent hosts' answered
# through the installed module against Knot (first lookup one query,
# second none, answers still served with Knot stopped); the preload of
# the sipcache package serving the same cache file; remove, reinstall,
# an upgrade that respects an administrator's edit, and purge giving
# back nsswitch.conf byte for byte.
set -eu
# shellcheck disable=SC2016 # dpkg-query formats: ${...} is dpkg-query's
# shellcheck source-path=SCRIPTDIR source=../../tests/lib/world.sh
. "$(dirname "$0")/../../tests/lib/world.sh"

top=$WORLD_TOP
pkgdir=${SIPCACHE_PKG_DIR:-$top/build/pkg}
debver=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb_main=$pkgdir/deb/sipcache_${debver}_$arch.deb
deb_nss=$pkgdir/deb/libnss-sipcache_${debver}_$arch.deb
for f in "$deb_main" "$deb_nss"; do
	[ -f "$f" ] || world_fail "$f missing: build the packages first (make deb)"
done
preload=/usr/lib/$multiarch/libsipcache-preload.so

# What must not change on the host.
host_state() {
	sha256sum /etc/nsswitch.conf /etc/group /etc/gshadow 2>&1
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' sipcache libnss-sipcache 2>&1 || :
	ls -d /var/cache/sipcache "/usr/lib/$multiarch/libnss_sipcache.so.2" 2>&1 || :
}
before_host=$(host_state)

world_begin pkg_deb
world_overlay /usr /var
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start

# nsswitch.conf as Debian ships it (files only for the other databases,
# so nothing reaches the host's daemons), with what a careless editor
# would change: a tab before dns, trailing blanks on other lines.
nsswitch_before='# /etc/nsswitch.conf
#
# Example configuration of GNU Name Service Switch functionality.
# If you have the `glibc-doc-reference'"'"' and `info'"'"' packages installed, try:
# `info libc "Name Service Switch"'"'"' for information about this file.

passwd:         files
group:          files
shadow:         files
gshadow:        files

hosts:          files	dns
networks:       files 

protocols:      files
services:       files
ethers:         files
rpc:            files	

netgroup:       files'
printf '%s\n' "$nsswitch_before" | world_write_etc nsswitch.conf
world_run cat /etc/nsswitch.conf >"$WORLD_DIR/nsswitch.before"
nsswitch_added=${nsswitch_before/"files	dns"/"files	sipcache [!UNAVAIL=return] dns"}
[ "$nsswitch_added" != "$nsswitch_before" ] || world_fail "test bug: no hosts line to expect"
# The package's own /etc/sipcache.conf, not the world's.
world_run rm -f /etc/sipcache.conf

world_assert_status 2 world_run getent group sipcache
world_assert_status 1 world_run test -e /var/cache/sipcache

# dpkg, quietly into the log; its output is the diagnostic on failure.
dpkg_() {
	world_log "dpkg $*"
	if ! world_run -t 180 env DEBIAN_FRONTEND=noninteractive dpkg "$@" \
		>>"$WORLD_LOGS/dpkg.log" 2>&1; then
		tail -n 30 "$WORLD_LOGS/dpkg.log" >&2
		world_fail "dpkg $* failed"
	fi
}
nsswitch_now() {
	world_run cat /etc/nsswitch.conf >"$WORLD_DIR/nsswitch.now"
}
# assert_nsswitch EXPECTED WHAT: the file, byte for byte.
assert_nsswitch() {
	printf '%s\n' "$1" >"$WORLD_DIR/nsswitch.expected"
	nsswitch_now
	if ! cmp -s "$WORLD_DIR/nsswitch.expected" "$WORLD_DIR/nsswitch.now"; then
		diff -u --label expected --label actual \
			"$WORLD_DIR/nsswitch.expected" "$WORLD_DIR/nsswitch.now" >&2 || :
		world_fail "nsswitch.conf $2"
	fi
}

# --- install ---------------------------------------------------------------------

dpkg_ -i "$deb_main" "$deb_nss"
world_assert_eq "ii libnss-sipcache
ii sipcache" "$(world_run dpkg-query -W -f='${db:Status-Abbrev}${Package}\n' sipcache libnss-sipcache | world_squeeze | sort)" \
	"package states"

# The group: a system group (below FIRST_UID of adduser.conf).
group=$(world_run getent group sipcache) || world_fail "no group sipcache after install"
world_assert_match '^sipcache:x:[0-9]+:$' "$group" "group entry"
gid=$(echo "$group" | cut -d: -f3)
world_assert_le "$gid" 999 "gid of the system group sipcache"

world_assert_eq "root:sipcache 2775 directory" \
	"$(world_run stat -c '%U:%G %a %F' /var/cache/sipcache)" "/var/cache/sipcache"
world_assert_eq "root sipcache 2775 /var/cache/sipcache" \
	"$(world_run dpkg-statoverride --list /var/cache/sipcache)" "statoverride of the cache directory"
world_run cat /etc/sipcache.conf >"$WORLD_DIR/sipcache.conf.installed"
cmp -s "$top/sipcache.conf" "$WORLD_DIR/sipcache.conf.installed" ||
	world_fail "/etc/sipcache.conf is not the shipped sipcache.conf"
world_assert_match '^ /etc/sipcache\.conf [0-9a-f]{32}$' \
	"$(world_run dpkg-query -W -f='${Conffiles}\n' sipcache)" "conffiles of sipcache"
world_assert_status 1 world_run test -e /etc/nsswitch.conf.nss.libnss-sipcache-will-install
assert_nsswitch "$nsswitch_added" "after install"
# The postinst created the cache file as root, before any lookup, in the
# setgid directory: group sipcache, writable by the group.
world_assert_eq "root:sipcache 664" \
	"$(world_run stat -c '%U:%G %a' /var/cache/sipcache/cache.tdb)" "the cache file after install"

# --- lookups through the installed module --------------------------------------

# First lookup: one AAAA query (glibc asks AAAA first); the second is a
# hit in the shared cache: nothing reaches Knot.
world_dns_reset
world_assert_eq "::1 sip1.sip.test" \
	"$(world_run getent hosts sip1.sip.test | world_squeeze)" "getent hosts sip1 (miss)"
world_dns_assert_count 1 AAAA
world_dns_assert_count 1
world_assert_eq "::1 sip1.sip.test" \
	"$(world_run getent hosts sip1.sip.test | world_squeeze)" "getent hosts sip1 (hit)"
world_dns_assert_count 1 "" "queries after a cached lookup"
# A name with no AAAA: NODATA then A.  The second time the negative AAAA
# answer comes from the cache too, and [!UNAVAIL=return] keeps glibc from
# asking `dns' again after sipcache's NOTFOUND.
world_dns_reset
world_assert_eq "127.0.0.61 v4only.sip.test" \
	"$(world_run getent hosts v4only.sip.test | world_squeeze)" "getent hosts v4only (miss)"
world_dns_assert_count 1 AAAA
world_dns_assert_count 1 A
world_assert_eq "127.0.0.61 v4only.sip.test" \
	"$(world_run getent hosts v4only.sip.test | world_squeeze)" "getent hosts v4only (hit)"
world_dns_assert_count 2 "" "queries after the cached lookups of v4only"
# The cache file the lookups used: still root's.
world_assert_eq "root:sipcache 664" \
	"$(world_run stat -c '%U:%G %a' /var/cache/sipcache/cache.tdb)" "the cache file"
# With Knot stopped the module still answers, from the cache.
world_dns_stop
world_assert_eq "::1 sip1.sip.test" \
	"$(world_run getent hosts sip1.sip.test | world_squeeze)" "getent hosts sip1 (server stopped)"

if world_run test -x /usr/sbin/sipcachectl; then
	world_assert_match '"hits"' "$(world_run sipcachectl stats --json)" "sipcachectl stats --json"
fi

# --- remove the module: nsswitch.conf as before; the preload still works ----------

dpkg_ -r libnss-sipcache
assert_nsswitch "$nsswitch_before" "after remove of libnss-sipcache (byte for byte)"
world_assert_status 1 world_run test -e "/usr/lib/$multiarch/libnss_sipcache.so.2"
# No module, no server: glibc fails...
world_assert_status 2 world_run getent hosts sip1.sip.test
# ...and the preload of the sipcache package serves the cache file the
# module filled.
world_assert_eq "::1 sip1.sip.test" \
	"$(world_run env LD_PRELOAD="$preload" getent hosts sip1.sip.test | world_squeeze)" \
	"getent hosts sip1 under the preload (server stopped)"
world_dns_start

# --- reinstall, upgrade ---------------------------------------------------------------

# Removed but not purged, installed again: a new installation, the entry
# comes back.
dpkg_ -i "$deb_nss"
assert_nsswitch "$nsswitch_added" "after reinstalling libnss-sipcache"
# The same version again is an upgrade: nothing changes...
dpkg_ -i "$deb_nss"
assert_nsswitch "$nsswitch_added" "after an upgrade of libnss-sipcache"
# ...and an entry the administrator took out stays out.
printf '%s\n' "$nsswitch_before" | world_write_etc nsswitch.conf
dpkg_ -i "$deb_nss"
assert_nsswitch "$nsswitch_before" "after an upgrade (administrator had removed sipcache)"
printf '%s\n' "$nsswitch_added" | world_write_etc nsswitch.conf
# An upgrade of sipcache keeps the directory's group and mode.
dpkg_ -i "$deb_main"
world_assert_eq "root:sipcache 2775" \
	"$(world_run stat -c '%U:%G %a' /var/cache/sipcache)" "/var/cache/sipcache after an upgrade"

# --- purge --------------------------------------------------------------------------

dpkg_ --purge libnss-sipcache sipcache
assert_nsswitch "$nsswitch_before" "after purge (byte for byte)"
cmp -s "$WORLD_DIR/nsswitch.before" "$WORLD_DIR/nsswitch.now" ||
	world_fail "nsswitch.conf after purge differs from the file before install"
world_assert_eq "" "$(world_run dpkg-query -W -f='${db:Status-Abbrev}' sipcache libnss-sipcache 2>/dev/null | tr -d ' ')" \
	"package states after purge"
world_assert_status 1 world_run test -e /var/cache/sipcache
world_assert_status 1 world_run test -e /etc/sipcache.conf
world_assert_status 1 world_run test -e "$preload"
world_assert_eq "" "$(world_run dpkg-statoverride --list /var/cache/sipcache || :)" \
	"statoverride after purge"
# The group stays (Debian keeps system groups: files may still be
# owned by it).
world_assert_ok world_run getent group sipcache

world_end
world_assert_eq "$before_host" "$(host_state)" "host state after the test"
echo "PASS: test_install_deb"

#!/bin/bash
# packaging/tests/test_packages.sh - what the built packages contain.
#
# The .deb and .rpm files of `make deb' and `make rpm' (in
# $SIPCACHE_PKG_DIR, default build/pkg) against the Contract of
# DESIGN.md: every installed path, its mode, nothing else; the NSS
# module and sipcachectl required once their sources exist, every man
# page whose source exists; the same files in both packagings (the libdir
# aside); /etc/sipcache.conf a conffile equal to the shipped one; the
# maintainer scripts and RPM scriptlets carrying exactly the nsswitch.conf
# editor of packaging/nsswitch-edit; lintian without errors.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
pkgdir=${SIPCACHE_PKG_DIR:-$top/build/pkg}
version=$(sed -n 's/^VERSION = *//p' Makefile)
debver=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
rpmarch=$(rpm --eval '%{_arch}')
rpmlibdir=$(rpm --eval '%{_libdir}')
tmp=$(mktemp -d /tmp/sipcache-test-packages.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# expect_eq EXPECTED ACTUAL WHAT: a diff when they differ.
expect_eq() {
	if [ "$1" != "$2" ]; then
		fail "$3 differs (- expected, + actual):"
		diff -u --label expected --label actual <(printf '%s\n' "$1") <(printf '%s\n' "$2") >&2 || :
	fi
}

deb_main=$pkgdir/deb/sipcache_${debver}_$arch.deb
deb_nss=$pkgdir/deb/libnss-sipcache_${debver}_$arch.deb
rpm_main=$pkgdir/rpm/RPMS/$rpmarch/sipcache-$version-1.$rpmarch.rpm
rpm_nss=$pkgdir/rpm/RPMS/$rpmarch/nss-sipcache-$version-1.$rpmarch.rpm
for f in "$deb_main" "$deb_nss" "$rpm_main" "$rpm_nss"; do
	if [ ! -f "$f" ]; then
		echo "FAIL: $f missing: build the packages first (make deb rpm, or make check-packaging)" >&2
		exit 1
	fi
done
[ "${debver%-*}" = "$version" ] || fail "debian/changelog is at $debver, the Makefile at $version"

# --- what the Contract wants, from what exists in the tree -----------------------

# One line per installed file: MODE PATH, LIBDIR standing for the libdir.
{
	echo "644 /etc/sipcache.conf"
	echo "644 LIBDIR/libsipcache-preload.so"
	if [ -f ctl/sipcachectl.c ]; then
		echo "755 /usr/sbin/sipcachectl"
	fi
	for page in ctl/*.[1-8] docs/*.[1-8]; do
		[ -e "$page" ] || continue
		echo "644 /usr/share/man/man${page##*.}/${page##*/}.gz"
	done
} | sort >"$tmp/want.main"
if [ -f nss/nss_sipcache.c ]; then
	echo "644 LIBDIR/libnss_sipcache.so.2" >"$tmp/want.nss"
else
	: >"$tmp/want.nss"
fi
for page in sipcachectl.8 sipcache.conf.5 sipcache.7; do
	if [ ! -e "ctl/$page" ] && [ ! -e "docs/$page" ]; then
		echo "note: the Contract's man page $page has no source yet (ctl/ or docs/)" >&2
	fi
done

# --- Debian ----------------------------------------------------------------------

# deb_files DEB: MODE PATH of every file and symlink, docs and lintian
# overrides aside (they are per-package housekeeping, not the Contract).
deb_files() {
	dpkg-deb --fsys-tarfile "$1" | tar -tvf - |
		awk '$1 !~ /^d/ { m = $1; p = $6; sub(/^\./, "", p); print m, p }' |
		grep -v -e ' /usr/share/doc/' -e ' /usr/share/lintian/overrides/' |
		while read -r m p; do
			# drwxr-xr-x -> 755
			printf '%s %s\n' "$(echo "$m" | awk '{
				s = 0; v = 0
				for (i = 2; i <= 10; i++) {
					c = substr($1, i, 1)
					b = (c != "-" && c != "S" && c != "T") ? 1 : 0
					v = v * 2 + b
				}
				printf "%o", v }')" "$p"
		done | sed "s|/usr/lib/$multiarch/|LIBDIR/|" | sort
}
expect_eq "$(cat "$tmp/want.main")" "$(deb_files "$deb_main")" "files of $(basename "$deb_main")"
expect_eq "$(cat "$tmp/want.nss")" "$(deb_files "$deb_nss")" "files of $(basename "$deb_nss")"

# The cache directory is shipped (dpkg -S finds its owner); its group and
# mode come from postinst (dpkg-statoverride), see test_install_deb.sh.
dpkg-deb -c "$deb_main" | grep -q ' \./var/cache/sipcache/$' ||
	fail "sipcache.deb does not ship /var/cache/sipcache/"
expect_eq "/etc/sipcache.conf" "$(dpkg-deb --ctrl-tarfile "$deb_main" | tar -xOf - ./conffiles)" \
	"conffiles of sipcache.deb"
dpkg-deb --fsys-tarfile "$deb_main" | tar -xOf - ./etc/sipcache.conf >"$tmp/conf.deb"
cmp -s sipcache.conf "$tmp/conf.deb" || fail "/etc/sipcache.conf of the .deb is not the shipped sipcache.conf"

# Control fields of the split.
field() { dpkg-deb -f "$1" "$2"; }
expect_eq "same" "$(field "$deb_nss" Multi-Arch)" "Multi-Arch of libnss-sipcache"
expect_eq "allowed" "$(field "$deb_main" Multi-Arch)" "Multi-Arch of sipcache"
case ", $(field "$deb_nss" Depends), " in
*", sipcache:any (= $debver), "*) ;;
*) fail "libnss-sipcache does not depend on sipcache:any (= $debver): $(field "$deb_nss" Depends)" ;;
esac
case ", $(field "$deb_main" Depends), " in
*", adduser, "* | *", adduser ("*) ;;
*) fail "sipcache does not depend on adduser (postinst uses addgroup): $(field "$deb_main" Depends)" ;;
esac

# Maintainer scripts: the editor between the scissors, byte for byte,
# and shell that dash parses.
sed -n '/^# ---8<---/,/^# --->8---/p' packaging/nsswitch-edit >"$tmp/fn.sh"
mkdir -p "$tmp/ctrl.nss" "$tmp/ctrl.main"
dpkg-deb -e "$deb_nss" "$tmp/ctrl.nss"
dpkg-deb -e "$deb_main" "$tmp/ctrl.main"
for s in postinst postrm; do
	sed -n '/^# ---8<---/,/^# --->8---/p' "$tmp/ctrl.nss/$s" >"$tmp/fn.$s"
	cmp -s "$tmp/fn.sh" "$tmp/fn.$s" || fail "libnss-sipcache $s does not carry packaging/nsswitch-edit"
	grep -q '^#NSSWITCH_EDIT#' "$tmp/ctrl.nss/$s" && fail "libnss-sipcache $s: #NSSWITCH_EDIT# left in"
done
for s in "$tmp"/ctrl.nss/preinst "$tmp"/ctrl.nss/postinst "$tmp"/ctrl.nss/postrm \
	"$tmp"/ctrl.main/postinst "$tmp"/ctrl.main/postrm; do
	[ -x "$s" ] || fail "${s#"$tmp"/ctrl.} missing or not executable"
	dash -n "$s" || fail "${s#"$tmp"/ctrl.}: dash cannot parse it"
	grep -q '#DEBHELPER#' "$s" && fail "${s#"$tmp"/ctrl.}: #DEBHELPER# left in"
done
grep -q 'activate-noawait ldconfig' "$tmp/ctrl.main/triggers" ||
	fail "sipcache has no ldconfig trigger for libsipcache-preload.so"

# The NSS module exports glibc's entry points and nothing else.
if [ -s "$tmp/want.nss" ]; then
	mkdir -p "$tmp/nss"
	dpkg-deb -x "$deb_nss" "$tmp/nss"
	so=$tmp/nss/usr/lib/$multiarch/libnss_sipcache.so.2
	expect_eq "libnss_sipcache.so.2" "$(objdump -p "$so" | awk '$1 == "SONAME" { print $2 }')" "SONAME of the NSS module"
	bad=$(nm -D --defined-only "$so" | awk '{ print $3 }' | grep -v '^_nss_sipcache_' || :)
	expect_eq "" "$bad" "symbols the NSS module exports beyond _nss_sipcache_*"
	# Built with Debian's hardening flags: full RELRO.
	readelf -d "$so" | grep -q 'BIND_NOW' || fail "the NSS module is not linked with -z now"
fi

# lintian: no error (warnings and notes are shown).  As root, lintian
# warns about itself on stderr: that line is dropped.
if ! lintian --fail-on error "$pkgdir/deb/sipcache_${debver}_$arch.changes" \
	>"$tmp/lintian" 2>"$tmp/lintian.err"; then
	fail "lintian found errors"
fi
grep -v 'running with root privileges' "$tmp/lintian.err" >&2 || :
cat "$tmp/lintian" >&2
if grep -q '^E: ' "$tmp/lintian"; then
	fail "lintian: $(grep -c '^E: ' "$tmp/lintian") error(s)"
fi

# --- RPM ------------------------------------------------------------------------------

# rpm_files RPM: MODE PATH of every file (not directories), docs, the
# build-id links rpmbuild adds for executables and %ghost files (the
# cache, made at run time) and the license file (%license) aside.  Man pages without a compression
# suffix: brp-compress gzips them on the distributions the RPM is for,
# while Debian's rpm 4.18 runs its brp-compress (`read -d', a bashism)
# with dash and leaves them as they are.
rpm_files() {
	rpm -qp --queryformat '[%{FILEMODES:octal} %{FILENAMES} %{FILEFLAGS:fflags}\n]' "$1" 2>/dev/null |
		awk '$1 !~ /^4/ && $3 !~ /g/ { print substr($1, length($1) - 2), $2 }' |
		grep -v -e ' /usr/share/doc/' -e ' /usr/share/licenses/' -e ' /usr/lib/\.build-id/' |
		sed -e "s|^\([0-7]*\) $rpmlibdir/|\1 LIBDIR/|" -e 's|^\([0-7]* /usr/share/man/.*\)\.gz$|\1|' | sort
}
sed 's|\.gz$||' "$tmp/want.main" >"$tmp/want.main.rpm"
expect_eq "$(cat "$tmp/want.main.rpm")" "$(rpm_files "$rpm_main")" "files of $(basename "$rpm_main")"
expect_eq "$(cat "$tmp/want.nss")" "$(rpm_files "$rpm_nss")" "files of $(basename "$rpm_nss")"
# The same files in both packagings (LIBDIR aside: /usr/lib64 there).
expect_eq "$({ deb_files "$deb_main"; deb_files "$deb_nss"; } | sed 's|\.gz$||')" \
	"$(rpm_files "$rpm_main"; rpm_files "$rpm_nss")" "files of the .deb and the .rpm"

# The cache directory with its group and mode, the conffile.
expect_eq "2775 root sipcache /var/cache/sipcache" \
	"$(rpm -qp --queryformat '[%{FILEMODES:octal} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILENAMES}\n]' "$rpm_main" 2>/dev/null |
		grep ' /var/cache/sipcache$' | sed 's/^4\([0-7]*\) /\1 /')" "/var/cache/sipcache of the rpm"
expect_eq "/etc/sipcache.conf" "$(rpm -qp --configfiles "$rpm_main" 2>/dev/null)" "config files of the rpm"
expect_eq "664 root sipcache /var/cache/sipcache/cache.tdb
664 root sipcache /var/cache/sipcache/cache.tdb.stats" \
	"$(rpm -qp --queryformat '[%{FILEMODES:octal} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILENAMES} %{FILEFLAGS:fflags}\n]' "$rpm_main" 2>/dev/null |
		awk '$5 ~ /g/ { print substr($1, length($1) - 2), $2, $3, $4 }' | sort)" "%ghost files of the rpm (the cache)"
expect_eq "/etc/sipcache.conf noreplace" \
	"$(rpm -qp --queryformat '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$rpm_main" 2>/dev/null |
		awk '$1 == "/etc/sipcache.conf" { print $1, ($2 ~ /n/ ? "noreplace" : $2) }')" \
	"%config(noreplace) of /etc/sipcache.conf"
rpm2archive - <"$rpm_main" | tar -xzOf - ./etc/sipcache.conf >"$tmp/conf.rpm"
cmp -s sipcache.conf "$tmp/conf.rpm" || fail "/etc/sipcache.conf of the rpm is not the shipped sipcache.conf"
case $(rpm -qp --requires "$rpm_nss" 2>/dev/null | tr '\n' ' ') in
*"sipcache$(rpm --eval '%{?_isa}') = $version-1 "*) ;;
*) fail "nss-sipcache does not require sipcache of its version" ;;
esac

# Scriptlets: %pre creates the group; %post and %postun carry the editor.
rpm -qp --scripts "$rpm_main" 2>/dev/null | grep -q 'groupadd -r sipcache' ||
	fail "the sipcache rpm's %pre does not create the group"
rpm -qp --scripts "$rpm_nss" 2>/dev/null >"$tmp/scripts"
awk '/^postinstall scriptlet/ { f = 1; next } /scriptlet/ { f = 0 } f' "$tmp/scripts" >"$tmp/post"
awk '/^postuninstall scriptlet/ { f = 1; next } /scriptlet/ { f = 0 } f' "$tmp/scripts" >"$tmp/postun"
for s in post postun; do
	sed -n '/^# ---8<---/,/^# --->8---/p' "$tmp/$s" | cmp -s "$tmp/fn.sh" - ||
		fail "nss-sipcache %$s does not carry packaging/nsswitch-edit"
	dash -n "$tmp/$s" || fail "nss-sipcache %$s: dash cannot parse it"
done
grep -q 'nsswitch_edit add /etc/nsswitch.conf' "$tmp/post" || fail "%post does not add to nsswitch.conf"
grep -q 'nsswitch_edit remove /etc/nsswitch.conf' "$tmp/postun" || fail "%postun does not remove from nsswitch.conf"
grep -q 'authselect apply-changes' "$tmp/post" || fail "%post ignores authselect"

if [ "$fails" != 0 ]; then
	echo "test_packages: $fails failure(s)" >&2
	exit 1
fi
echo "test_packages: the packages hold what the Contract says"

#!/bin/bash
# packaging/tests/test_nsswitch_edit.sh - packaging/nsswitch-edit, the
# hosts: line editor of both packagings, on the nsswitch.conf files
# operators have (Debian, Ubuntu, Fedora with authselect, hand-written).
#
# For every case: `add' gives exactly the expected file, a second `add'
# changes nothing (not even the mtime), `check' agrees, and `remove' gives
# back the original byte for byte.  Run as a command with dash (the
# /bin/sh of Debian), and as embedded in the maintainer scripts (the part
# between the scissors, sourced under `set -e').  No root needed.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
edit=$top/packaging/nsswitch-edit
tmp=$(mktemp -d /tmp/sipcache-nsswitch-edit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
ncases=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# The function alone, as debian/rules and the spec embed it.
sed -n '/^# ---8<---/,/^# --->8---/p' "$edit" >"$tmp/fn.sh"
[ -s "$tmp/fn.sh" ] || { echo "FAIL: no scissors in $edit" >&2; exit 1; }
if grep -n '%' "$tmp/fn.sh" >&2; then
	fail "the embedded function has a percent sign: rpm would expand it"
fi

# run MODE OP FILE: the editor as a command (dash) or embedded.
run() {
	case $1 in
	cmd) dash "$edit" "$2" "$3" ;;
	embedded)
		# shellcheck disable=SC2016 # expanded by the inner dash
		dash -c 'set -e; . "$1"; nsswitch_edit "$2" "$3"' sh "$tmp/fn.sh" "$2" "$3"
		;;
	esac
}

# same FILE EXPECTED WHAT: FILE holds exactly the bytes of EXPECTED.
same() {
	if ! cmp -s "$1" "$2"; then
		fail "$3:"
		diff -u --label expected --label actual <(od -c "$2") <(od -c "$1") | head -n 20 >&2
		return 1
	fi
}

# case NAME INPUT EXPECTED-AFTER-ADD [NOTE-REGEX]: one file, both modes.
# EXPECTED = INPUT means that add must leave it alone (NOTE-REGEX: what it
# says on stderr then).
case_() {
	local name=$1 input=$2 expect=$3 note=${4:-} mode f st
	ncases=$((ncases + 1))
	for mode in cmd embedded; do
		f=$tmp/$mode/nsswitch.conf
		rm -rf "${tmp:?}/$mode"
		mkdir -p "$tmp/$mode"
		printf '%s' "$input" >"$f"
		printf '%s' "$input" >"$tmp/$mode.orig"
		printf '%s' "$expect" >"$tmp/$mode.expect"
		touch -d '2001-02-03 04:05:06' "$f"
		st=0
		run "$mode" add "$f" 2>"$tmp/$mode.err" || st=$?
		[ "$st" = 0 ] || fail "$name ($mode): add exited $st: $(cat "$tmp/$mode.err")"
		same "$f" "$tmp/$mode.expect" "$name ($mode): after add" || continue
		if [ -n "$note" ]; then
			grep -Eq -- "$note" "$tmp/$mode.err" ||
				fail "$name ($mode): add said [$(cat "$tmp/$mode.err")], expected /$note/"
		elif [ -s "$tmp/$mode.err" ]; then
			fail "$name ($mode): add said [$(cat "$tmp/$mode.err")]"
		fi
		if [ "$input" = "$expect" ] &&
		    [ "$(stat -c %Y "$f")" != "$(date -d '2001-02-03 04:05:06' +%s)" ]; then
			fail "$name ($mode): add rewrote a file it did not change"
		fi
		# Idempotent: a second add is a no-op, down to the mtime.
		touch -d '2001-02-03 04:05:06' "$f"
		run "$mode" add "$f" 2>/dev/null || fail "$name ($mode): second add failed"
		same "$f" "$tmp/$mode.expect" "$name ($mode): after a second add" || continue
		[ "$(stat -c %Y "$f")" = "$(date -d '2001-02-03 04:05:06' +%s)" ] ||
			fail "$name ($mode): the second add rewrote the file"
		# check: 0 exactly when the line glibc uses names sipcache.
		st=0
		run "$mode" check "$f" || st=$?
		case $expect in
		*"sipcache [!UNAVAIL=return] dns"*) [ "$st" = 0 ] || fail "$name ($mode): check says $st after add" ;;
		esac
		# remove restores the original, byte for byte.
		st=0
		run "$mode" remove "$f" 2>"$tmp/$mode.err" || st=$?
		[ "$st" = 0 ] || fail "$name ($mode): remove exited $st: $(cat "$tmp/$mode.err")"
		case $input in
		*sipcache*) ;;
		*) same "$f" "$tmp/$mode.orig" "$name ($mode): after remove" || continue ;;
		esac
		st=0
		run "$mode" check "$f" || st=$?
		[ "$st" = 1 ] || fail "$name ($mode): check says $st after remove"
		# remove is idempotent too.
		cp "$f" "$tmp/$mode.removed"
		run "$mode" remove "$f" || fail "$name ($mode): second remove failed"
		same "$f" "$tmp/$mode.removed" "$name ($mode): after a second remove" || :
	done
}

deb_head=$'# /etc/nsswitch.conf\n#\n# Example configuration of GNU Name Service Switch functionality.\n\npasswd:         files systemd\ngroup:          files systemd\nshadow:         files\ngshadow:        files\n\n'
deb_tail=$'networks:       files\n\nprotocols:      db files\nservices:       db files\nethers:         db files\nrpc:            db files\n\nnetgroup:       nis\n'

case_ "Debian 12" \
	"${deb_head}hosts:          files dns"$'\n'"$deb_tail" \
	"${deb_head}hosts:          files sipcache [!UNAVAIL=return] dns"$'\n'"$deb_tail"
case_ "Ubuntu with mdns and myhostname" \
	$'hosts:          files mdns4_minimal [NOTFOUND=return] dns myhostname\n' \
	$'hosts:          files mdns4_minimal [NOTFOUND=return] sipcache [!UNAVAIL=return] dns myhostname\n'
case_ "Fedora with resolved" \
	$'passwd:     files sss systemd\nhosts:      files myhostname mdns4_minimal [NOTFOUND=return] resolve [!UNAVAIL=return] dns\n' \
	$'passwd:     files sss systemd\nhosts:      files myhostname mdns4_minimal [NOTFOUND=return] resolve [!UNAVAIL=return] sipcache [!UNAVAIL=return] dns\n'
case_ "tabs around dns are kept" \
	$'hosts:\tfiles\tdns\t\n' \
	$'hosts:\tfiles\tsipcache [!UNAVAIL=return] dns\t\n'
case_ "dns with actions, no blank before the bracket" \
	$'hosts: files dns[NOTFOUND=return] nis\n' \
	$'hosts: files sipcache [!UNAVAIL=return] dns[NOTFOUND=return] nis\n'
case_ "dns first" \
	$'hosts: dns files\n' \
	$'hosts: sipcache [!UNAVAIL=return] dns files\n'
case_ "no colon, leading blanks (glibc accepts both)" \
	$'  hosts files dns\n' \
	$'  hosts files sipcache [!UNAVAIL=return] dns\n'
case_ "colon without a blank" \
	$'hosts:dns\n' \
	$'hosts:sipcache [!UNAVAIL=return] dns\n'
case_ "CRLF line ends" \
	$'passwd: files\r\nhosts: files dns\r\nnetworks: files\r\n' \
	$'passwd: files\r\nhosts: files sipcache [!UNAVAIL=return] dns\r\nnetworks: files\r\n'
case_ "a comment after the sources" \
	$'hosts: files dns # see resolv.conf\n' \
	$'hosts: files sipcache [!UNAVAIL=return] dns # see resolv.conf\n'
case_ "dns only inside the comment" \
	$'hosts: files myhostname # dns is off here\n' \
	$'hosts: files myhostname # dns is off here\n' "no dns source"
case_ "mdns4 is not dns" \
	$'hosts: files mdns4\n' \
	$'hosts: files mdns4\n' "no dns source"
case_ "no hosts line" \
	$'passwd: files\ngroup: files\n' \
	$'passwd: files\ngroup: files\n' "no hosts: line"
case_ "empty file" "" "" "no hosts: line"
case_ "commented and misspelt hosts lines are not hosts lines" \
	$'#hosts: files dns\nHosts: files dns\nhostsx: files dns\n' \
	$'#hosts: files dns\nHosts: files dns\nhostsx: files dns\n' "no hosts: line"
case_ "the last hosts line is the one glibc uses" \
	$'hosts: files dns\npasswd: files\nhosts: files dns\n' \
	$'hosts: files dns\npasswd: files\nhosts: files sipcache [!UNAVAIL=return] dns\n'
case_ "a last line without a newline is never read by glibc" \
	$'hosts: files dns\nhosts: dns' \
	$'hosts: files sipcache [!UNAVAIL=return] dns\nhosts: dns'
case_ "no newline at the end of a file edited elsewhere" \
	$'hosts: files dns\nnetworks: files' \
	$'hosts: files sipcache [!UNAVAIL=return] dns\nnetworks: files'
case_ "other lines keep trailing blanks (dh_installnss strips them)" \
	$'passwd: files \nhosts: files dns\nnetgroup: nis\t\n' \
	$'passwd: files \nhosts: files sipcache [!UNAVAIL=return] dns\nnetgroup: nis\t\n'
case_ "already there: nothing changes" \
	$'hosts: files sipcache dns\n' \
	$'hosts: files sipcache dns\n'

# remove: forms an administrator may have written by hand.
remove_case() {
	local name=$1 input=$2 expect=$3 mode f
	ncases=$((ncases + 1))
	for mode in cmd embedded; do
		f=$tmp/$mode/nsswitch.conf
		rm -rf "${tmp:?}/$mode"
		mkdir -p "$tmp/$mode"
		printf '%s' "$input" >"$f"
		printf '%s' "$expect" >"$tmp/$mode.expect"
		run "$mode" remove "$f" || fail "$name ($mode): remove failed"
		same "$f" "$tmp/$mode.expect" "$name ($mode): after remove" || :
	done
}
remove_case "between others, with its blanks" \
	$'hosts: files sipcache  dns\n' $'hosts: files dns\n'
remove_case "with actions of its own" \
	$'hosts: files sipcache [NOTFOUND=return] [TRYAGAIN=continue] dns\n' $'hosts: files dns\n'
remove_case "last on the line" \
	$'hosts: files dns sipcache\n' $'hosts: files dns\n'
remove_case "last, before a comment" \
	$'hosts: files dns sipcache [NOTFOUND=return] # cached\n' $'hosts: files dns # cached\n'
remove_case "first on the line" \
	$'hosts: sipcache files dns\n' $'hosts: files dns\n'
remove_case "twice, and on every hosts line" \
	$'hosts: sipcache dns\nhosts: files sipcache sipcache dns\n' $'hosts: dns\nhosts: files dns\n'
remove_case "in a comment, or as part of a name: kept" \
	$'hosts: files nosipcache dns # sipcache was here\n' $'hosts: files nosipcache dns # sipcache was here\n'
remove_case "other databases are not touched" \
	$'passwd: files sipcache\nhosts: files sipcache dns\n' $'passwd: files sipcache\nhosts: files dns\n'

# The file itself: owner, group and mode kept, a symlink followed and
# kept, a missing file left missing.
ncases=$((ncases + 1))
mkdir -p "$tmp/attr/real"
printf 'hosts: files dns\n' >"$tmp/attr/real/nsswitch.conf"
chmod 0640 "$tmp/attr/real/nsswitch.conf"
if [ "$(id -u)" = 0 ]; then
	chown 1:2 "$tmp/attr/real/nsswitch.conf"
fi
before=$(stat -c '%u:%g %a' "$tmp/attr/real/nsswitch.conf")
ln -s real/nsswitch.conf "$tmp/attr/nsswitch.conf"
dash "$edit" add "$tmp/attr/nsswitch.conf" || fail "add through a symlink failed"
[ -L "$tmp/attr/nsswitch.conf" ] || fail "the symlink was replaced"
[ "$(cat "$tmp/attr/real/nsswitch.conf")" = "hosts: files sipcache [!UNAVAIL=return] dns" ] ||
	fail "the target of the symlink was not edited: $(cat "$tmp/attr/real/nsswitch.conf")"
[ "$(stat -c '%u:%g %a' "$tmp/attr/real/nsswitch.conf")" = "$before" ] ||
	fail "owner or mode changed: $before -> $(stat -c '%u:%g %a' "$tmp/attr/real/nsswitch.conf")"
[ -z "$(find "$tmp/attr" -name '.nsswitch-edit.*')" ] || fail "a temporary file was left behind"
st=0
dash "$edit" add "$tmp/attr/missing.conf" 2>/dev/null || st=$?
if [ "$st" != 0 ] || [ -e "$tmp/attr/missing.conf" ]; then
	fail "add on a missing file: status $st"
fi
st=0
dash "$edit" check "$tmp/attr/missing.conf" || st=$?
[ "$st" = 1 ] || fail "check on a missing file: status $st"
st=0
dash "$edit" frobnicate "$tmp/attr/nsswitch.conf" 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "an unknown operation: status $st"

# A directory we cannot write into: an error, the file untouched.
if [ "$(id -u)" != 0 ]; then
	:
else
	ncases=$((ncases + 1))
	# nobody must reach the file, only not write next to it.
	chmod 0755 "$tmp"
	mkdir -p "$tmp/ro"
	printf 'hosts: files dns\n' >"$tmp/ro/nsswitch.conf"
	chmod 0555 "$tmp/ro"
	st=0
	setpriv --reuid=65534 --regid=65534 --clear-groups dash "$edit" add "$tmp/ro/nsswitch.conf" 2>/dev/null || st=$?
	[ "$st" = 1 ] || fail "add in a read-only directory: status $st, expected 1"
	[ "$(cat "$tmp/ro/nsswitch.conf")" = "hosts: files dns" ] || fail "file changed in a read-only directory"
	chmod 0755 "$tmp/ro"
fi

if [ "$fails" != 0 ]; then
	echo "test_nsswitch_edit: $fails failure(s) in $ncases cases" >&2
	exit 1
fi
echo "test_nsswitch_edit: $ncases cases passed"

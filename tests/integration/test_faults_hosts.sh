#!/bin/bash
# test_faults_hosts.sh - the hosts file huge, malformed, too big to load,
# or replaced while processes read it, through the preload (address
# lookups read the hosts file as nss_files does):
#   1. 100,000 lines: getent hosts/ahostsv4 for names at the start, the
#      middle, the end, an alias and a missing name give glibc's answers;
#   2. malformed: binary garbage, NUL bytes, a line of 1 MiB, 300
#      aliases, bad and scoped addresses, CRLF, tabs, a line without a
#      name, duplicates: glibc's answers for every name;
#   3. bigger than sipcache loads (32 MiB): glibc answers, the same;
#   4. replaced while threads of several processes look names up: by
#      rename (editors, configuration tools), every answer is one that
#      one version of the file gives; rewritten in place (truncate, then
#      write), one that a version or its missing lines give, as for glibc
#      itself.  Nothing crashes or hangs.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source-path=SCRIPTDIR source=../helpers/preload_world.sh
. "$(dirname "$0")/../helpers/preload_world.sh"

LOOP=$WORLD_BUILD/tests/progs/faults_hosts
[ -e "$LOOP" ] || world_fail "$LOOP missing: build with make progs"

world_begin faults_hosts
world_zone "$WORLD_ZONES/sip.test.zone"
world_dns_start
# (ahostsv4 needs an IPv4 address besides loopback: AI_ADDRCONFIG)
world_addrconfig inet

# same_getent WHAT NAME...: getent hosts and ahostsv4 of each NAME, with
# and without the preload, whole output and status; sipcache may say
# once why it leaves the file to glibc (log = stderr), no more.
same_getent() {
	local what=$1 n db want got
	shift
	for n in "$@"; do
		for db in hosts ahostsv4; do
			want=$(world_run -t 60 getent "$db" "$n" 2>&1; echo "status $?")
			got=$(world_run -t 60 env "${PRELOAD_VARS[@]}" getent "$db" "$n" \
				2>"$WORLD_DIR/getent.err"; echo "status $?")
			world_assert_eq "$want" "$got" "$what: getent $db $n"
			world_assert_le "$(grep -c . "$WORLD_DIR/getent.err" || :)" 1 \
				"$what: getent $db $n: lines on stderr"
		done
	done
}

# --- 1. huge ---------------------------------------------------------------------------

{
	echo "127.0.0.1 localhost"
	awk 'BEGIN { for (i = 1; i <= 100000; i++)
		printf "10.%d.%d.%d host%d.big.test alias%d\n", int(i / 65536), int(i / 256) % 256, i % 256, i, i }'
} | world_write_etc hosts
same_getent "100k lines" host1.big.test host50000.big.test host100000.big.test alias77777 \
	missing.big.test sip1.sip.test

# --- 2. malformed ----------------------------------------------------------------------------

{
	echo "127.0.0.1 localhost"
	awk 'BEGIN { srand(7); for (l = 0; l < 50; l++) { s = ""; for (i = 0; i < 80; i++)
		s = s sprintf("%c", int(rand() * 254) + 1); print s } }'
	printf '10.9.0.1 before-nul.hosts.test\0 hidden.hosts.test\n'
	printf '10.9.0.2 after-nul.hosts.test\n'
	awk 'BEGIN { printf "10.9.0.3 long.hosts.test"; for (i = 0; i < 65536; i++) printf " x%d", i; printf "\n" }'
	awk 'BEGIN { printf "10.9.0.4 many.hosts.test"; for (i = 0; i < 300; i++) printf " alias%d.hosts.test", i; printf "\n" }'
	printf '::ffff:10.9.0.5 mapped.hosts.test\n'
	printf 'fe80::1%%lo scoped.hosts.test\n'
	printf '10.9.0.6\ttab.hosts.test\t\ttab2.hosts.test\n'
	printf '10.9.0.7 crlf.hosts.test\r\n'
	printf '10.9.0.8\n'
	printf 'notanaddress bad.hosts.test\n'
	printf '10.9.0.256 bad2.hosts.test\n'
	printf '10.9.0.9 dup.hosts.test\n10.9.0.10 dup.hosts.test DUP.hosts.test\n'
	printf '   10.9.0.11 indented.hosts.test # comment.hosts.test\n'
	printf '10.9.0.12 last.hosts.test'
} | world_write_etc hosts
same_getent "malformed" before-nul.hosts.test hidden.hosts.test after-nul.hosts.test \
	long.hosts.test x65535 many.hosts.test alias299.hosts.test mapped.hosts.test \
	scoped.hosts.test tab.hosts.test tab2.hosts.test crlf.hosts.test bad.hosts.test \
	bad2.hosts.test dup.hosts.test DUP.hosts.test indented.hosts.test comment.hosts.test \
	last.hosts.test

# --- 3. too big to load ------------------------------------------------------------------------

{
	echo "127.0.0.1 localhost"
	awk 'BEGIN { for (i = 0; i < 760000; i++) printf "10.8.%d.%d filler%d.hosts.test # ........\n", int(i / 256) % 256, i % 256, i }'
	echo "10.8.255.255 end.hosts.test"
} | world_write_etc hosts
world_assert_le $((32 << 20)) "$(world_run stat -c %s /etc/hosts)" "hosts file size (sanity)"
same_getent "33 MiB" end.hosts.test filler5.hosts.test sip1.sip.test

# --- 4. replaced while read ----------------------------------------------------------------------

filler=$(awk 'BEGIN { for (i = 0; i < 3000; i++) printf "10.7.%d.%d f%d.hosts.test\n", int(i / 256), i % 256, i }')
# Version A and B; the lines that matter first.  For in-place rewrites
# they carry no aliases: a reader may see the file cut anywhere, and a
# cut alias would be an answer of its own.
printf '127.0.0.1 localhost\n10.1.0.1 alpha.hosts.test a1\n10.1.0.2 beta.hosts.test\n%s\n' \
	"$filler" >"$WORLD_DIR/hosts.A"
printf '127.0.0.1 localhost\n10.2.0.1 alpha.hosts.test a2\n10.2.0.3 beta.hosts.test b2\n%s\n' \
	"$filler" >"$WORLD_DIR/hosts.B"
printf '127.0.0.1 localhost\n10.1.0.1 alpha.hosts.test\n10.1.0.2 beta.hosts.test\n%s\n' \
	"$filler" >"$WORLD_DIR/hosts.C"
printf '127.0.0.1 localhost\n10.2.0.1 alpha.hosts.test\n10.2.0.3 beta.hosts.test\n%s\n' \
	"$filler" >"$WORLD_DIR/hosts.D"
printf '127.0.0.1 localhost\n' >"$WORLD_DIR/hosts.E"
names=(alpha.hosts.test beta.hosts.test a1 a2 b2 gamma.hosts.test)

# answers VERSION...: the set of answers faults_hosts gets from each
# stable version, with and without the preload (they must agree).
answers() {
	local v want got
	for v in "$@"; do
		world_run cp "$WORLD_DIR/hosts.$v" /etc/hosts
		want=$(world_run -t 60 "$LOOP" -t 1 -d 1 "${names[@]}" 2>/dev/null)
		got=$(world_run -t 60 env "${PRELOAD_VARS[@]}" "$LOOP" -t 1 -d 1 "${names[@]}" 2>/dev/null)
		world_assert_eq "$want" "$got" "version $v, stable: answers with the preload"
		printf '%s\n' "$want"
	done | sort -u
}
# while_replaced HOW ALLOWED VERSION...: three preloaded processes of four
# threads look up for 6 s while the file is replaced HOW (rename or
# rewrite) by each VERSION in turn; every answer in ALLOWED.
while_replaced() {
	local how=$1 allowed=$2 i got extra
	shift 2
	rm -f "$WORLD_DIR/stop"
	cat >"$WORLD_DIR/writer.sh" <<EOF
n=0
while [ ! -e "$WORLD_DIR/stop" ]; do
	for v in $*; do
		case $how in
		rename) cp "$WORLD_DIR/hosts.\$v" /etc/.hosts.new && mv -f /etc/.hosts.new /etc/hosts ;;
		rewrite) cat "$WORLD_DIR/hosts.\$v" >/etc/hosts ;;
		esac
		n=\$((n + 1))
	done
done
echo "replaced \$n times"
EOF
	world_spawn writer sh "$WORLD_DIR/writer.sh"
	for i in 1 2 3; do
		world_spawn "reader$i" env "${PRELOAD_VARS[@]}" "$LOOP" -t 4 -d 6 "${names[@]}"
	done
	for i in 1 2 3; do
		n=0
		while world_running "reader$i" && [ $n -lt 600 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		world_stop "reader$i" 1 || world_fail "$how: reader $i failed: $(cat "$WORLD_LOGS/reader$i.log")"
	done
	touch "$WORLD_DIR/stop"
	n=0
	while world_running writer && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	world_stop writer 1 || :
	world_log "$how: $(grep replaced "$WORLD_LOGS/writer.log" | tail -n 1)," \
		"$(grep -h lookups "$WORLD_LOGS"/reader*.log | tr '\n' ' ')"
	got=$(cat "$WORLD_LOGS"/reader*.log | grep -v '^lookups\|^\[world\]' | sort -u)
	extra=$(comm -23 <(printf '%s\n' "$got") <(printf '%s\n' "$allowed"))
	if [ -n "$extra" ]; then
		world_fail "$how: answers no version of the file gives: $extra"
	fi
	rm -f "$WORLD_LOGS"/reader*.log "$WORLD_LOGS/writer.log"
}

allowed=$(answers A B)
world_assert_match '^ghbn alpha.hosts.test: alpha.hosts.test a1 = 10.1.0.1$' "$allowed" "version A (sanity)"
while_replaced rename "$allowed" A B
allowed=$(answers C D E)
while_replaced rewrite "$allowed" C D

world_end

# shellcheck shell=bash disable=SC2016,SC2034,SC2119,SC2120
# (SC2016: the sh -c scripts run inside the world, expanded there.
#  SC2034: the WORLD_* variables are for the tests that source this.
#  SC2119/SC2120: optional arguments.)
#
# tests/lib/world.sh - a private DNS world for one integration test.
#
# Sourced by tests/integration/test_*.sh (bash).  A test gets a machine of
# its own, made of Linux namespaces, in which the resolver configuration,
# NSS configuration, hosts file and sipcache.conf are the test's, and a
# real authoritative server (Knot) answers on 127.0.0.1:53 and ::1:53:
#
#	. "$(dirname "$0")/../lib/world.sh"
#	world_begin nsswitch
#	world_zone "$WORLD_ZONES/sip.test.zone"
#	world_dns_start
#	world_assert_eq "::1 sip1.sip.test" \
#		"$(world_run getent hosts sip1.sip.test | world_squeeze)"
#	world_dns_assert_count 1 AAAA
#	world_end
#
# Design
# ------
# The world is one `unshare --net --mount --pid --uts --fork` process tree.
# Its first process (pid 1 of the new pid namespace) only sleeps; the
# library enters the namespaces with nsenter for every command it runs
# there (world_run, world_spawn).  Why these namespaces:
#
#  - net: only `lo' exists, so the resolver can reach nothing but our own
#    server on 127.0.0.1/::1, and port 53 is free for it.
#  - mount: /etc gets an overlay whose upper layer (a tmpfs) holds our
#    resolv.conf, nsswitch.conf, hosts and sipcache.conf.  TESTING.md
#    names two ways; we take the overlay, not `ip netns' with
#    /etc/netns/NAME: that one bind-mounts single files over /etc/FILE,
#    and when anything on the host replaces such a file by rename (dhcp
#    clients, resolvconf, package upgrades do) the kernel detaches the
#    mounts on the replaced file, in every namespace, and the test
#    silently sees the host's resolver.  Names in an overlaid directory
#    are looked up in our upper layer first at every open, so a rename on
#    the host cannot reach our files (test_world.sh shows it).  `ip netns' also needs
#    global names (/run/netns/NAME, /etc/netns/NAME) that two runs at once
#    could clash on and a killed run leaves behind; we create no name at
#    all.  /run gets a fresh tmpfs too, so that nothing talks to the
#    host's daemons through their sockets: glibc asks nscd through
#    /run/nscd/socket before NSS when that socket exists, which would
#    answer from the host's resolver.
#  - pid: when pid 1 of the namespace dies the kernel kills every process
#    in it, including anything a test daemonised and forgot.  Cleanup is
#    therefore one kill of one pid, and it cannot leave a server holding
#    the network namespace alive.
#  - uts: a hostname without a dot ("world").  glibc derives a default
#    search domain from the hostname when resolv.conf has none, which
#    would send extra queries on a host named like ci.example.com and make
#    query counts depend on the machine.
#
# Nothing survives the test: the holder runs under `setpriv --pdeathsig
# KILL' and `unshare --kill-child', so even when the test shell itself is
# SIGKILLed, its death kills unshare, whose death kills pid 1, whose death
# kills the namespace.  On a normal exit, the EXIT trap stops the
# processes the test spawned (by pid, politely first), kills the holder,
# then checks that no process is left in any of the world's namespaces
# and no mount of the world is visible on the host.  The work directory
# (/tmp/sipcache-world.NAME.XXXXXX: logs, zones, Knot's files) is removed
# when the test passed and kept, with its logs printed, when it failed.
#
# Rules for tests
#  - Call world_* from the test's main shell, not from $(...) or a pipeline
#    subshell, because the world's state and its background jobs belong to
#    that shell.  The read-only ones are fine in $(...): world_run,
#    world_dig, world_dig_answer, world_dns_count, world_dns_counter,
#    world_dns_stats, world_pid, world_running, world_leftovers,
#    world_squeeze.
#  - Run tests as root.  Use `set -eu'; a failed command then fails the
#    test and the exit trap reports where.
#  - Exit 0 on pass, 1 on failure, 77 (world_skip) only when a prerequisite
#    truly cannot exist on this machine, with the reason.
#
# Query counting: Knot's mod-stats module counts every request it
# receives, by protocol and by QTYPE, in the last stage of processing,
# before the reply is sent, so a client that got its answer is already
# counted: world_dns_count is exact
# (TESTING.md: this is how a test proves a cache hit sent nothing
# upstream).  Counts are relative to the last world_dns_reset, which
# world_dns_start does once the zones are loaded; loading is checked with
# `knotc zone-read', which is not a DNS query and is not counted.

# --- settings a test may change before world_begin --------------------------

# Every world_run command is killed after this many seconds.
: "${WORLD_RUN_TIMEOUT:=30}"
# The `options' line world_resolv writes: failures end in about 2 s.
: "${WORLD_RES_OPTIONS:=timeout:1 attempts:2}"
# Keep the work directory even when the test passes.
: "${WORLD_KEEP:=0}"
# Where work directories are made.
: "${WORLD_TMPDIR:=/tmp}"

# --- paths --------------------------------------------------------------------

WORLD_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORLD_TOP=$(cd "$WORLD_LIB/../.." && pwd)
WORLD_ZONES=$WORLD_TOP/tests/integration/zones
# Build outputs (O= of the Makefile, relative to the top or absolute).
case ${O:-.} in
/*) WORLD_BUILD=$O ;;
*) WORLD_BUILD=$WORLD_TOP/${O:-.} ;;
esac
WORLD_BUILD=${WORLD_BUILD%/.}
PATH=$PATH:/usr/sbin:/sbin
export PATH

# State of the world of this shell (one world per test shell).
WORLD_ACTIVE=0
WORLD_ENDING=0
WORLD_OWNER=
WORLD_NAME=
WORLD_DIR=
WORLD_LOGS=
WORLD_HOLDER=
WORLD_NS_NET=''
WORLD_NS_MNT=''
WORLD_NS_PID=''
WORLD_NS_UTS=''
WORLD_IPV6=0
WORLD_SPAWNED=
WORLD_ZONE_LIST=
WORLD_AT_END=

# --- messages and assertions ----------------------------------------------------

# Where the caller of a world_* function is, for messages: the first frame
# outside this file.
world__where() {
	local i=1
	while [ "$i" -lt "${#BASH_SOURCE[@]}" ]; do
		if [ "${BASH_SOURCE[$i]}" != "${BASH_SOURCE[0]}" ]; then
			echo "${BASH_SOURCE[$i]##*/}:${BASH_LINENO[$((i - 1))]}"
			return 0
		fi
		i=$((i + 1))
	done
	echo "?"
}

world_log() {
	printf '[world %s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2
}

# world_fail MESSAGE...: the test failed; exit 1 (the trap cleans up).
world_fail() {
	printf 'FAIL: %s: %s\n' "$(world__where)" "$*" >&2
	exit 1
}

# world_skip REASON...: a prerequisite truly cannot exist here; exit 77.
world_skip() {
	printf 'SKIP: %s\n' "$*" >&2
	exit 77
}

# world_assert_eq EXPECTED ACTUAL [WHAT]: whole values, a diff when they
# span several lines.
world_assert_eq() {
	local exp=$1 act=$2 what=${3:-value}
	if [ "$exp" = "$act" ]; then
		return 0
	fi
	case $exp$act in
	*"
"*)
		printf '%s: %s differs (- expected, + actual):\n' \
			"$(world__where)" "$what" >&2
		diff -u --label expected --label actual \
			<(printf '%s\n' "$exp") <(printf '%s\n' "$act") >&2 || :
		world_fail "$what differs"
		;;
	esac
	world_fail "$what: expected [$exp], got [$act]"
}

world_assert_ne() {
	local unexp=$1 act=$2 what=${3:-value}
	if [ "$unexp" = "$act" ]; then
		world_fail "$what: expected anything but [$act]"
	fi
}

# world_assert_match REGEX ACTUAL [WHAT]: some line of ACTUAL matches the
# extended regex.
world_assert_match() {
	local re=$1 act=$2 what=${3:-value}
	if ! printf '%s\n' "$act" | grep -Eq -- "$re"; then
		world_fail "$what: [$act] does not match /$re/"
	fi
}

# world_assert_status STATUS CMD...: CMD exits with exactly STATUS.
world_assert_status() {
	local exp=$1 st=0
	shift
	"$@" || st=$?
	if [ "$st" != "$exp" ]; then
		world_fail "exit status $st, expected $exp: $*"
	fi
}

world_assert_ok() {
	world_assert_status 0 "$@"
}

# world_assert_le A B [WHAT]: integers, A <= B.
world_assert_le() {
	if ! [ "$1" -le "$2" ]; then
		world_fail "${3:-value}: $1 is not <= $2"
	fi
}

# Collapse runs of blanks into one space and drop trailing blanks: glibc
# and kdig align columns.
world_squeeze() {
	sed -e 's/[[:blank:]][[:blank:]]*/ /g' -e 's/ $//'
}

# Milliseconds since the epoch, for elapsed-time bounds.
world_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# world_require COMMAND PACKAGE: install PACKAGE (Debian) when COMMAND is
# missing.  A package that cannot be installed is a failure, not a skip:
# the prerequisite can exist, this machine just lacks it.
world_require() {
	local cmd=$1 pkg=$2
	if command -v "$cmd" >/dev/null 2>&1; then
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		world_fail "$cmd missing: run as root or apt-get install $pkg"
	fi
	world_log "installing $pkg for $cmd"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends "$pkg" >&2; then
		apt-get update -q >&2 || :
		apt-get install -y -q --no-install-recommends "$pkg" >&2 ||
			world_fail "cannot install $pkg (needed for $cmd)"
	fi
	command -v "$cmd" >/dev/null 2>&1 ||
		world_fail "$pkg installed but $cmd still missing"
}

# --- the world ------------------------------------------------------------------

# world_begin NAME: create the namespaces and the default files.
world_begin() {
	local name=${1:?world_begin NAME} i err

	if [ "$WORLD_ACTIVE" = 1 ]; then
		world_fail "world_begin: a world is already running in this shell"
	fi
	case $name in
	*[!A-Za-z0-9_-]*) world_fail "world_begin: $name: letters, digits, _ and - only" ;;
	esac
	if [ "$(id -u)" != 0 ]; then
		world_fail "integration tests run as root (namespaces, mounts)"
	fi
	world_require unshare util-linux
	world_require nsenter util-linux
	world_require setpriv util-linux
	world_require ip iproute2
	world_require knotd knot
	world_require kdig knot-dnsutils
	world_require pgrep procps

	# A kernel without these cannot host the world at all: that, and
	# only that, is a skip.
	if ! err=$(unshare --net --mount --pid --uts --fork true 2>&1); then
		world_skip "cannot create namespaces here: $err"
	fi
	if ! grep -qw overlay /proc/filesystems; then
		world_skip "this kernel has no overlay filesystem"
	fi

	WORLD_NAME=$name
	WORLD_OWNER=$BASHPID
	WORLD_DIR=$(mktemp -d "$WORLD_TMPDIR/sipcache-world.$name.XXXXXX")
	# Readable by all: the servers under test may drop privileges.
	chmod 0755 "$WORLD_DIR"
	WORLD_LOGS=$WORLD_DIR/logs
	mkdir -p "$WORLD_LOGS" "$WORLD_DIR/run" "$WORLD_DIR/ns" \
		"$WORLD_DIR/zones" "$WORLD_DIR/knot/db" "$WORLD_DIR/cache"
	WORLD_ACTIVE=1
	WORLD_SPAWNED=
	WORLD_ZONE_LIST=
	WORLD_AT_END=
	trap 'world__on_exit' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# With `set -e' a failing command ends the test; say where.
	trap 'world__on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR

	# pid 1 of the namespace: a shell that sleeps.  As pid 1 it adopts
	# orphans; waiting for its foreground sleep, the shell reaps any
	# child, adopted ones included, so no zombie lingers.
	setpriv --pdeathsig KILL -- \
		unshare --net --mount --pid --uts --fork --kill-child=KILL \
		--mount-proc --propagation private -- \
		sh -c 'touch "$1"; while :; do sleep 3600; done' world \
		"$WORLD_DIR/run/holder.ready" \
		</dev/null >"$WORLD_LOGS/holder.log" 2>&1 &
	WORLD_HOLDER=$!
	i=0
	while [ ! -e "$WORLD_DIR/run/holder.ready" ]; do
		if ! kill -0 "$WORLD_HOLDER" 2>/dev/null || [ $i -ge 100 ]; then
			world_fail "the namespace holder did not start:" \
				"$(cat "$WORLD_LOGS/holder.log")"
		fi
		sleep 0.05
		i=$((i + 1))
	done
	WORLD_NS_NET=$(readlink "/proc/$WORLD_HOLDER/ns/net")
	WORLD_NS_MNT=$(readlink "/proc/$WORLD_HOLDER/ns/mnt")
	WORLD_NS_UTS=$(readlink "/proc/$WORLD_HOLDER/ns/uts")
	WORLD_NS_PID=$(readlink "/proc/$WORLD_HOLDER/ns/pid_for_children")
	if [ "$WORLD_NS_NET" = "$(readlink /proc/self/ns/net)" ]; then
		world_fail "the holder is not in a network namespace of its own"
	fi

	world_run -t 10 sh -ec '
		ip link set lo up
		hostname world
		# /run: private and empty (no nscd, no host daemons).
		mount -t tmpfs -o mode=0755,nosuid,nodev world-run /run
		mkdir -m 1777 /run/lock
	' || world_fail "cannot set up the namespace"
	world_overlay /etc

	# ::1 exists on lo unless IPv6 is disabled in this kernel.
	if world_run ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
		WORLD_IPV6=1
	else
		WORLD_IPV6=0
		world_log "no IPv6 on lo: the world is IPv4 only"
	fi

	world_resolv
	world_nsswitch_hosts "files dns"
	world_hosts
	world_sipcache_conf
	world_log "world $WORLD_NAME up in $WORLD_DIR (holder $WORLD_HOLDER)"
}

# world_overlay DIR...: make DIR writable inside the world only: an
# overlay whose upper layer is a tmpfs of the mount namespace (so it works
# when /tmp itself is an overlay, and vanishes with the namespace).  World
# begins with /etc; tests may add others (a libdir to install an NSS
# module into, /var/cache for the default cache path).
world_overlay() {
	local d key
	world__need_world
	for d in "$@"; do
		case $d in
		/*) ;;
		*) world_fail "world_overlay: $d: absolute path expected" ;;
		esac
		key=$(printf '%s' "$d" | tr -c 'A-Za-z0-9' '_')
		world_run -t 10 sh -ec '
			top=$1 dir=$2
			mkdir -p "$top"
			mount -t tmpfs -o mode=0755 world-overlay "$top"
			mkdir "$top/upper" "$top/work"
			mount -t overlay -o "lowerdir=$dir,upperdir=$top/upper,workdir=$top/work" \
				world-overlay "$dir"
		' world "$WORLD_DIR/ns/$key" "$d" ||
			world_fail "cannot mount an overlay on $d"
	done
}

# world_run [-t SECONDS] CMD...: run CMD inside, bounded by timeout (exit
# status 124 when it ran out of time).  The resolver's environment
# variables are dropped so that the world's files alone decide.
world_run() {
	local t=$WORLD_RUN_TIMEOUT st=0
	if [ "${1:-}" = -t ]; then
		t=$2
		shift 2
	fi
	world__need_world
	timeout -k 2 "$t" \
		nsenter --target "$WORLD_HOLDER" --net --mount --uts \
		--pid="/proc/$WORLD_HOLDER/ns/pid_for_children" --wd="$PWD" -- \
		env -u RES_OPTIONS -u LOCALDOMAIN -u HOSTALIASES "$@" || st=$?
	case $st in
	124) printf '%s: world_run: timed out after %ss: %s\n' \
		"$(world__where)" "$t" "$*" >&2 ;;
	137) printf '%s: world_run: killed (timed out after %ss?): %s\n' \
		"$(world__where)" "$t" "$*" >&2 ;;
	esac
	return "$st"
}

# world_spawn NAME CMD...: start a long-running CMD inside, in the
# background, output in $WORLD_LOGS/NAME.log.  Stopped by world_stop NAME
# or at the end of the world.
world_spawn() {
	local name=${1:?world_spawn NAME CMD...} i=0 host
	shift
	world__need_world
	case $name in
	"" | *[!A-Za-z0-9_-]*) world_fail "world_spawn: $name: letters, digits, _ and - only" ;;
	esac
	if world_running "$name"; then
		world_fail "world_spawn: $name is already running"
	fi
	# An earlier process of this name that exited by itself: reap it.
	if [ -e "$WORLD_DIR/run/$name.host" ]; then
		world__stop "$name" 0 || :
	fi
	rm -f "$WORLD_DIR/run/$name.pid"
	# nsenter forks the command into the pid namespace and waits for it,
	# so nsenter's pid (ours to wait for) lives exactly as long as the
	# command; the command writes its own pid inside the namespace, the
	# one to signal it with.
	nsenter --target "$WORLD_HOLDER" --net --mount --uts \
		--pid="/proc/$WORLD_HOLDER/ns/pid_for_children" --wd="$PWD" -- \
		env -u RES_OPTIONS -u LOCALDOMAIN -u HOSTALIASES \
		sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
		"$WORLD_DIR/run/$name.pid" "$@" \
		</dev/null >>"$WORLD_LOGS/$name.log" 2>&1 &
	host=$!
	echo "$host" >"$WORLD_DIR/run/$name.host"
	WORLD_SPAWNED="$name $WORLD_SPAWNED"
	while [ ! -s "$WORLD_DIR/run/$name.pid" ]; do
		if world__gone "$host" || [ $i -ge 100 ]; then
			world_fail "world_spawn: $name did not start:" \
				"$(tail -n 20 "$WORLD_LOGS/$name.log")"
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

# world_pid NAME: the pid of a spawned process inside the world.
world_pid() {
	cat "$WORLD_DIR/run/$1.pid" 2>/dev/null
}

# world_running NAME: true while the spawned process runs.
world_running() {
	local host
	host=$(cat "$WORLD_DIR/run/$1.host" 2>/dev/null) || return 1
	! world__gone "$host"
}

# world_signal NAME SIGNAL: send SIGNAL to a spawned process, by its pid.
world_signal() {
	local pid host
	pid=$(world_pid "$1") || world_fail "world_signal: no process $1"
	host=$(cat "$WORLD_DIR/run/$1.host")
	world_run -t 5 kill -s "$2" "$pid" || return $?
	# nsenter mirrors a stop of its child by stopping itself, and only
	# reaps it again once continued (see world__stop).
	case $2 in
	CONT | SIGCONT | 18) kill -s CONT "$host" 2>/dev/null || : ;;
	esac
}

# world_stop NAME [GRACE]: SIGTERM, GRACE seconds (default 5), then
# SIGKILL; the exit status goes to the log.  Returns the exit status of
# the process (143 for death by SIGTERM, ...); fails the test when the
# process cannot be stopped.
world_stop() {
	local st=0
	world__stop "$@" || st=$?
	if [ "$st" = 255 ]; then
		world_fail "world_stop: cannot stop $1"
	fi
	return "$st"
}

# The work of world_stop, without failing the test (world_end uses it).
world__stop() {
	local name=$1 grace=${2:-5} host pid st=0
	host=$(cat "$WORLD_DIR/run/$name.host" 2>/dev/null) || {
		echo "world_stop: no process $name" >&2
		return 255
	}
	pid=$(world_pid "$name")
	if ! world__gone "$host"; then
		# A stopped process (world_dns_freeze) acts on SIGTERM only
		# once continued.  SIGCONT goes to nsenter too: nsenter stops
		# itself when its child stops, and continues the child when
		# it is continued itself; a stopped nsenter reaps nothing.
		kill -s CONT "$host" 2>/dev/null || :
		world_run -t 5 kill -s CONT "$pid" 2>/dev/null || :
		world_run -t 5 kill -s TERM "$pid" 2>/dev/null || :
		if ! world__wait_gone "$host" "$grace"; then
			world_log "$name (pid $pid) ignored SIGTERM for ${grace}s: SIGKILL"
			world_run -t 5 kill -s KILL "$pid" 2>/dev/null || :
			if ! world__wait_gone "$host" 5; then
				echo "world_stop: $name (pid $pid) survived SIGKILL" >&2
				return 255
			fi
		fi
	fi
	wait "$host" 2>/dev/null || st=$?
	echo "[world] $name exited with status $st" >>"$WORLD_LOGS/$name.log"
	rm -f "$WORLD_DIR/run/$name.pid" "$WORLD_DIR/run/$name.host"
	world__forget "$name"
	return "$st"
}

world__forget() {
	local n rest=
	for n in $WORLD_SPAWNED; do
		if [ "$n" != "$1" ]; then
			rest="$rest$n "
		fi
	done
	WORLD_SPAWNED=$rest
}

# True when host pid $1 has exited (gone, or a zombie not yet waited for).
world__gone() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[ "${stat%% *}" = Z ]
}

world__wait_gone() {
	local host=$1 n=$(($2 * 20))
	while [ "$n" -gt 0 ]; do
		if world__gone "$host"; then
			return 0
		fi
		sleep 0.05
		n=$((n - 1))
	done
	world__gone "$host"
}

world__need_world() {
	if [ "$WORLD_ACTIVE" != 1 ]; then
		world_fail "no world: call world_begin first"
	fi
}

# Every process (host pid and command) in one of the world's namespaces.
world_leftovers() {
	local p ns
	for p in /proc/[0-9]*; do
		for ns in net mnt uts pid; do
			case $(readlink "$p/ns/$ns" 2>/dev/null) in
			"$WORLD_NS_NET" | "$WORLD_NS_MNT" | "$WORLD_NS_UTS" | "$WORLD_NS_PID")
				printf '%s %s\n' "${p#/proc/}" \
					"$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
				break
				;;
			esac
		done
	done
}

# world_end [STATUS]: tear the world down.  STATUS (default 0) is the
# test's verdict so far: on failure the logs are printed and kept.
# Returns nonzero when something of the world survived.
world_end() {
	local status=${1:-0} name left n st bad=0

	if [ "$WORLD_ACTIVE" != 1 ] || [ "$BASHPID" != "$WORLD_OWNER" ] ||
	    [ "$WORLD_ENDING" = 1 ]; then
		return 0
	fi
	# Once: a failure while ending must not end the world again from
	# the exit trap.
	WORLD_ENDING=1
	for name in $WORLD_AT_END; do
		( "$name" "$status" ) || :
	done
	if [ "$status" != 0 ] && [ "$status" != 77 ]; then
		world__snapshot
	fi
	# Services first, politely and by pid, so that they flush their logs.
	for name in $WORLD_SPAWNED; do
		st=0
		world__stop "$name" 3 || st=$?
		if [ "$st" = 255 ]; then
			bad=1
		fi
	done
	# Then the namespace: the holder's death kills pid 1 (pdeathsig),
	# which kills every process of the pid namespace.
	kill -s KILL "$WORLD_HOLDER" 2>/dev/null || :
	wait "$WORLD_HOLDER" 2>/dev/null || :
	WORLD_ACTIVE=0
	WORLD_ENDING=0
	n=100
	while left=$(world_leftovers) && [ -n "$left" ] && [ $n -gt 0 ]; do
		sleep 0.05
		n=$((n - 1))
	done
	if [ -n "$left" ]; then
		printf 'FAIL: processes left in the world %s:\n%s\n' \
			"$WORLD_NAME" "$left" >&2
		for name in $(printf '%s\n' "$left" | cut -d' ' -f1); do
			kill -s KILL "$name" 2>/dev/null || :
		done
		bad=1
	fi
	# The mount namespace was private: no mount of ours may show here.
	if grep -F -- "$WORLD_DIR" /proc/self/mountinfo >&2; then
		printf 'FAIL: mounts of the world %s visible on the host\n' \
			"$WORLD_NAME" >&2
		bad=1
	fi
	if [ "$status" = 0 ] && [ $bad = 0 ] && [ "$WORLD_KEEP" = 0 ]; then
		rm -rf "$WORLD_DIR"
	else
		world__print_logs
	fi
	return $bad
}

# world_at_end FUNCTION: call FUNCTION STATUS when the world ends, while
# it is still up (STATUS: the test's exit status so far), e.g. to save a
# server's statistics into $WORLD_LOGS on failure.  It runs in a subshell:
# it can look and save, not change the test's state, and its failure
# does not stop the cleanup.
world_at_end() {
	world__need_world
	WORLD_AT_END="$WORLD_AT_END $1"
}

# On failure, what the world looked like, into the logs.
world__snapshot() {
	local f
	{
		for f in resolv.conf nsswitch.conf hosts sipcache.conf; do
			echo "== /etc/$f"
			world_run -t 5 cat "/etc/$f" 2>&1
		done
		echo "== addresses"
		world_run -t 5 ip addr 2>&1
		echo "== sockets"
		world_run -t 5 ss -tuanp 2>&1
		echo "== processes"
		world_run -t 5 ps -ef 2>&1
	} >"$WORLD_LOGS/world-at-failure.log" 2>&1 || :
}

world__print_logs() {
	local f
	echo "--- logs of world $WORLD_NAME, kept in $WORLD_DIR" >&2
	for f in "$WORLD_LOGS"/*.log; do
		[ -s "$f" ] || continue
		echo "--- ${f##*/} (last 200 lines)" >&2
		tail -n 200 "$f" >&2
	done
	echo "--- end of logs of world $WORLD_NAME" >&2
}

world__on_exit() {
	local status=$? bad=0
	trap - ERR
	world_end "$status" || bad=$?
	if [ "$status" = 0 ] && [ "$bad" != 0 ]; then
		status=1
	fi
	exit "$status"
}

world__on_err() {
	local src=${BASH_SOURCE[1]:-} text
	case $- in
	*e*)
		# The line of the test, not the last command bash ran (that
		# may be deep inside a world_* function).
		text=$(sed -n "$2{s/^[[:blank:]]*//;p;}" "$src" 2>/dev/null) || text=$3
		printf 'FAIL: %s:%s: exit status %s: %s\n' \
			"${src##*/}" "$2" "$1" "${text:-$3}" >&2
		;;
	esac
}

# --- files of the world ------------------------------------------------------------

# world_write_etc FILE: install stdin as /etc/FILE inside the world.  The
# new file is renamed into place, as an editor or resolvconf would do:
# readers see the old or the new file, never half of one, and a symlink
# at that name (resolv.conf often is one) is replaced, not followed out
# of the overlay.
world_write_etc() {
	local f=${1:?world_write_etc FILE}
	case $f in
	*/* | .*) world_fail "world_write_etc: $f: a plain name in /etc expected" ;;
	esac
	world_run -t 10 sh -ec 'cat >"/etc/.world.$1.tmp"
		chmod 0644 "/etc/.world.$1.tmp"
		mv -f "/etc/.world.$1.tmp" "/etc/$1"' world "$f" ||
		world_fail "cannot write /etc/$f in the world"
}

# world_resolv [NAMESERVER...]: resolv.conf with these nameservers
# (default 127.0.0.1), `options $WORLD_RES_OPTIONS', and a `search' line
# only when WORLD_RES_SEARCH is set.
world_resolv() {
	local ns
	[ $# -gt 0 ] || set -- 127.0.0.1
	{
		echo "# written by world_resolv ($WORLD_NAME)"
		for ns in "$@"; do
			echo "nameserver $ns"
		done
		if [ -n "${WORLD_RES_SEARCH:-}" ]; then
			echo "search $WORLD_RES_SEARCH"
		fi
		if [ -n "$WORLD_RES_OPTIONS" ]; then
			echo "options $WORLD_RES_OPTIONS"
		fi
	} | world_write_etc resolv.conf
}

# world_nsswitch_hosts SOURCES: nsswitch.conf with `hosts: SOURCES'; the
# other databases use files only (nothing reaches the host's daemons).
world_nsswitch_hosts() {
	printf '%s\n' \
		"# written by world_nsswitch_hosts ($WORLD_NAME)" \
		"passwd: files" "group: files" "shadow: files" "gshadow: files" \
		"hosts: $*" \
		"networks: files" "protocols: files" "services: files" \
		"ethers: files" "rpc: files" "netgroup: files" |
		world_write_etc nsswitch.conf
}

# world_hosts [LINE...]: /etc/hosts; the default holds localhost and the
# world's hostname only, so that nothing the test asks is answered from
# the host's hosts file.
world_hosts() {
	if [ $# = 0 ]; then
		set -- "127.0.0.1 localhost" "127.0.1.1 world" \
			"::1 localhost ip6-localhost ip6-loopback"
	fi
	printf '%s\n' "$@" | world_write_etc hosts
}

# world_sipcache_conf [LINE...]: /etc/sipcache.conf: the cache file in the
# work directory (never the host's /var/cache/sipcache), logs on stderr,
# then the given `key = value' lines.
world_sipcache_conf() {
	{
		echo "# written by world_sipcache_conf ($WORLD_NAME)"
		echo "cache_file = $WORLD_DIR/cache/cache.tdb"
		echo "log = stderr"
		# Tests count the queries that reach the server: chain prefetch
		# (default yes) would add its own; it has tests of its own
		# (test_sip_chain.sh), which pass `prefetch = yes'.
		case " $* " in
		*"prefetch"*) ;;
		*) echo "prefetch = no" ;;
		esac
		if [ $# -gt 0 ]; then
			printf '%s\n' "$@"
		fi
	} | world_write_etc sipcache.conf
}

# world_addrconfig FAMILY...: give lo a non-loopback address of each
# FAMILY (inet: 192.0.2.1, inet6: 2001:db8::1; both documentation
# addresses), or `none' to remove them.  Why: glibc's getaddrinfo with
# AI_ADDRCONFIG counts addresses other than 127.0.0.1 and ::1 only
# (sysdeps/unix/sysv/linux/check_pf.c), so in a loopback-only world an
# AF_INET or AF_INET6 lookup with AI_ADDRCONFIG fails at once, sending no
# query, while AF_UNSPEC asks for both A and AAAA.  Adding the address to
# lo needs no dummy or veth driver.
world_addrconfig() {
	local f
	for f in "$@"; do
		case $f in
		inet) world_run ip addr replace 192.0.2.1/32 dev lo ;;
		inet6) world_run ip -6 addr replace 2001:db8::1/128 dev lo ;;
		none)
			world_run ip addr del 192.0.2.1/32 dev lo 2>/dev/null || :
			world_run ip -6 addr del 2001:db8::1/128 dev lo 2>/dev/null || :
			;;
		*) world_fail "world_addrconfig: inet, inet6 or none, not $f" ;;
		esac || world_fail "world_addrconfig $f failed"
	done
}

# --- the authoritative server -------------------------------------------------------

# world_zone FILE [ORIGIN]: serve FILE; ORIGIN defaults to the file name
# without `.zone' (sip.test.zone -> sip.test.).  Restarts a running
# server.
world_zone() {
	local file=${1:?world_zone FILE [ORIGIN]} origin=${2:-}
	world__need_world
	[ -r "$file" ] || world_fail "world_zone: cannot read $file"
	if [ -z "$origin" ]; then
		origin=${file##*/}
		origin=${origin%.zone}
	fi
	origin=${origin%.}.
	cp "$file" "$WORLD_DIR/zones/${origin}zone"
	case " $WORLD_ZONE_LIST " in
	*" $origin "*) ;;
	*) WORLD_ZONE_LIST="$WORLD_ZONE_LIST $origin" ;;
	esac
	if world_running knotd; then
		world_dns_restart
	fi
}

# Knot's configuration, all state in the work directory.
world__knot_conf() {
	local z listen="127.0.0.1@53"
	if [ "$WORLD_IPV6" = 1 ]; then
		listen="$listen, ::1@53"
	fi
	cat <<EOF
# written by world_dns_start ($WORLD_NAME)
server:
    rundir: "$WORLD_DIR/knot"
    listen: [ ${WORLD_DNS_LISTEN:-$listen} ]
    # One thread of each kind: starts fast, and is plenty for tests.
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "$WORLD_DIR/knot/knot.sock"
database:
    storage: "$WORLD_DIR/knot/db"
log:
  - target: stderr
    any: info
mod-stats:
  - id: world
    request-protocol: on
    server-operation: on
    query-type: on
    response-code: on
    reply-nodata: on
template:
  - id: default
    storage: "$WORLD_DIR/zones"
    # Global, so that queries outside our zones (REFUSED) count too.
    global-module: mod-stats/world
    # The fixtures are read-only inputs: never write them back, keep no
    # journal, so a restart serves the fixture again.
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
EOF
	for z in $WORLD_ZONE_LIST; do
		printf '  - domain: %s\n    file: %szone\n' "$z" "$z"
	done
}

# knotc against the world's server (it listens on a socket in the work
# directory, reachable from the host).
world_knotc() {
	timeout -k 2 15 knotc -t 10 -c "$WORLD_DIR/knot/knot.conf" "$@"
}

# world_dns_start: Knot on 127.0.0.1:53 and ::1:53 (or WORLD_DNS_LISTEN,
# Knot syntax: "127.0.0.2@53, ::1@5353"), serving the world_zone files;
# returns when every zone is loaded, with the counters at zero.
world_dns_start() {
	local z i out
	world__need_world
	[ -n "$WORLD_ZONE_LIST" ] || world_fail "world_dns_start: no zone (world_zone)"
	if world_running knotd; then
		world_fail "world_dns_start: the server is already running"
	fi
	world__knot_conf >"$WORLD_DIR/knot/knot.conf"
	out=$(world_knotc conf-check 2>&1) ||
		world_fail "knot configuration rejected: $out"
	# Zone errors are clearer from zone-check than from a server log.
	out=$(world_knotc zone-check 2>&1) ||
		world_fail "zone check failed: $out"
	world_spawn knotd knotd -c "$WORLD_DIR/knot/knot.conf"
	for z in $WORLD_ZONE_LIST; do
		i=0
		until world_knotc zone-read "$z" @ SOA >/dev/null 2>&1; do
			if ! world_running knotd || [ $i -ge 100 ]; then
				world_fail "knotd did not load $z:" \
					"$(tail -n 20 "$WORLD_LOGS/knotd.log")"
			fi
			sleep 0.05
			i=$((i + 1))
		done
	done
	world_dns_reset
}

world_dns_stop() {
	world_stop knotd || world_fail "knotd exited with status $?"
}

world_dns_restart() {
	world_dns_stop
	world_dns_start
}

# Freeze/thaw: the server keeps its sockets but answers nothing, so
# clients time out (a stopped server is refused at once instead).
# Queries sent meanwhile are answered, and counted, after the thaw.
world_dns_freeze() {
	world_signal knotd STOP || world_fail "cannot stop knotd"
}

world_dns_thaw() {
	world_signal knotd CONT || world_fail "cannot continue knotd"
}

# The raw counters, `name value' per line (Knot omits zeros).
world_dns_stats() {
	local out
	out=$(world_knotc stats mod-stats) || return 1
	printf '%s\n' "$out" |
		sed -n 's/^mod-stats\.\([^ ]*\) = \([0-9]*\)$/\1 \2/p'
}

# world_dns_reset: counts from now on.  Knot 3.2 cannot clear its
# counters, so this keeps a baseline that world_dns_count subtracts.
world_dns_reset() {
	local s
	s=$(world_dns_stats) || world_fail "cannot read the server's counters"
	printf '%s\n' "$s" >"$WORLD_DIR/knot/stats.base"
}

# world_dns_counter COUNTER: the change of one mod-stats counter since the
# last reset, e.g. 'request-protocol[tcp4]', 'response-code[NXDOMAIN]'.
world_dns_counter() {
	local key=$1 cur base now was
	cur=$(world_dns_stats) || {
		echo "world_dns_counter: cannot read the counters" >&2
		return 1
	}
	base=$(cat "$WORLD_DIR/knot/stats.base") || return 1
	now=$(printf '%s\n' "$cur" | world__sum "$key")
	was=$(printf '%s\n' "$base" | world__sum "$key")
	if [ "$now" -lt "$was" ]; then
		echo "world_dns_counter: $key went back from $was to $now" \
			"(server restarted without world_dns_reset?)" >&2
		return 1
	fi
	echo $((now - was))
}

# Sum of the counters named $1 ('request-protocol[*]' sums all protocols).
world__sum() {
	awk -v k="$1" '
		BEGIN { n = 0; star = (substr(k, length(k) - 2) == "[*]") }
		star && index($1, substr(k, 1, length(k) - 2)) == 1 { n += $2 }
		!star && $1 == k { n += $2 }
		END { print n }'
}

# world_dns_count [TYPE]: queries the server received since the last
# reset: all of them (every request over every protocol), or those of one
# QTYPE (A, AAAA, SRV, NAPTR, ...; Knot counts types 1-65, 99-110 and
# 255-260 by name and the rest as `other').
world_dns_count() {
	local t=${1:-}
	case $t in
	"") world_dns_counter 'request-protocol[*]' ;;
	# A misspelt type would count 0 for ever: only names Knot counts.
	A | NS | CNAME | SOA | PTR | HINFO | MX | TXT | AAAA | LOC | SRV | \
	NAPTR | CERT | DNAME | DS | SSHFP | RRSIG | NSEC | DNSKEY | TLSA | \
	SVCB | HTTPS | SPF | ANY | URI | CAA | other)
		world_dns_counter "query-type[$t]"
		;;
	*) echo "world_dns_count: no counter for type '$t'" >&2; return 1 ;;
	esac
}

# world_dns_assert_count N [TYPE] [WHAT]
world_dns_assert_count() {
	local exp=$1 t=${2:-} act
	act=$(world_dns_count "$t") || world_fail "cannot count queries"
	world_assert_eq "$exp" "$act" "${3:-queries${t:+ of type $t}} received by the server"
}

# world_dns_set ZONE OWNER TTL TYPE RDATA...: add a record to the served
# zone (Knot raises the SOA serial), e.g. to prove a later answer came
# from a cache.  world_dns_unset ZONE OWNER [TYPE [RDATA]] removes.
# Neither survives world_dns_restart.
world_dns_set() {
	world__dns_txn "$1" zone-set "$@"
}

world_dns_unset() {
	world__dns_txn "$1" zone-unset "$@"
}

world__dns_txn() {
	local zone=$1 op=$2 out
	shift 2
	out=$(world_knotc zone-begin "$zone" 2>&1) ||
		world_fail "zone-begin $zone: $out"
	if ! out=$(world_knotc "$op" "$@" 2>&1); then
		world_knotc zone-abort "$zone" >/dev/null 2>&1 || :
		world_fail "$op $*: $out"
	fi
	out=$(world_knotc zone-commit "$zone" 2>&1) ||
		world_fail "zone-commit $zone: $out"
}

# --- clients ---------------------------------------------------------------------------

# world_dig ARGS...: kdig inside the world against our server, one try.
world_dig() {
	world_run -t 10 kdig @127.0.0.1 +retry=0 +timeout=2 "$@"
}

# world_dig_answer NAME TYPE [ARGS...]: the whole answer as stable text:
#	status NOERROR flags qr aa rd
#	an NAME TTL IN TYPE RDATA      (answer; ns: authority; ad: additional)
# Blanks are squeezed; the random message id is left out.
world_dig_answer() {
	local out
	out=$(world_dig "$@") || return $?
	printf '%s\n' "$out" | awk '
		/^;; ->>HEADER<<-/ {
			s = $0; sub(/.*status: /, "", s); sub(/;.*/, "", s)
			print "status " s
		}
		/^;; Flags:/ {
			f = $0; sub(/^;; Flags: /, "", f); sub(/;.*/, "", f)
			print "flags " f
		}
		/^;; ANSWER SECTION:/ { sec = "an"; next }
		/^;; AUTHORITY SECTION:/ { sec = "ns"; next }
		/^;; ADDITIONAL SECTION:/ { sec = "ad"; next }
		/^;; EDNS PSEUDOSECTION:/ { sec = ""; next }
		/^;;/ || /^$/ { if ($0 ~ /^$/) sec = ""; next }
		sec != "" { $1 = $1; print sec " " $0 }'
}

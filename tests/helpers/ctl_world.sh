# shellcheck shell=bash disable=SC2034
# (SC2034: CTL_* variables are for the tests that source this.)
#
# tests/helpers/ctl_world.sh - helpers of the sipcachectl integration
# tests (tests/integration/test_ctl_*.sh), sourced after tests/lib/world.sh
# and world_begin:
#
#	ctl_setup                     the build's sipcachectl, lookups program
#	                              and preload; fails when one is missing
#	ctl_run ARGS...               run sipcachectl in the world: $CTL_OUT,
#	                              $CTL_ERR, $CTL_ST
#	ctl_expect STATUS ARGS...     the same, and the exit status must be STATUS
#	ctl_get_answer                $CTL_OUT of `get' as world_dig_answer
#	                              prints an answer, TTLs masked
#	dig_answer NAME TYPE          world_dig_answer with TTLs masked
#	lookups_start / lookups_stop  a long-running process under the preload
#	lookups_ask LINE              one command to it (see tests/progs/
#	                              ctl_lookups.c); its answer in $LOOKUP
#	file_state FILE...            checksum, size, mode, owner, inode, mtime

ctl_setup() {
	CTL=$WORLD_BUILD/ctl/sipcachectl
	CTL_LOOKUPS=$WORLD_BUILD/tests/progs/ctl_lookups
	CTL_PRELOAD=$WORLD_BUILD/preload/libsipcache-preload.so
	[ -x "$CTL" ] || world_fail "$CTL is missing: run make"
	[ -x "$CTL_LOOKUPS" ] || world_fail "$CTL_LOOKUPS is missing: run make progs"
	[ -f "$CTL_PRELOAD" ] || world_fail "$CTL_PRELOAD is missing: run make"
	CTL_CACHE=$WORLD_DIR/cache/cache.tdb
	CTL_AS=()
	LOOKUPS_SEQ=0
	LOOKUPS_FD=
}

# ctl_run ARGS...: sipcachectl ARGS inside the world, as root unless the
# array CTL_AS holds a prefix (setpriv ...).  Never fails by itself.
ctl_run() {
	CTL_ST=0
	world_run "${CTL_AS[@]}" "${CTL_BIN:-$CTL}" "$@" >"$WORLD_DIR/ctl.out" \
		2>"$WORLD_DIR/ctl.err" || CTL_ST=$?
	CTL_OUT=$(cat "$WORLD_DIR/ctl.out")
	CTL_ERR=$(cat "$WORLD_DIR/ctl.err")
}

ctl_expect() {
	local exp=$1
	shift
	ctl_run "$@"
	if [ "$CTL_ST" != "$exp" ]; then
		printf -- '--- stdout of sipcachectl %s:\n%s\n--- stderr:\n%s\n' \
			"$*" "$CTL_OUT" "$CTL_ERR" >&2
		world_fail "sipcachectl $*: exit status $CTL_ST, expected $exp"
	fi
}

# TTLs differ between a hit (lowered to the remaining lifetime) and the
# server's answer: mask them, compare everything else.
ctl__mask_ttl() {
	awk '$1 == "an" || $1 == "ns" || $1 == "ad" { $3 = "TTL" } { print }'
}

# The answer of a `get' in $CTL_OUT, as world_dig_answer prints one.
ctl_get_answer() {
	printf '%s\n' "$CTL_OUT" | awk '
		/^;; ->>HEADER<<-/ {
			s = $0; sub(/.*status: /, "", s); sub(/,.*/, "", s)
			print "status " s
		}
		/^;; flags:/ {
			f = $0; sub(/^;; flags: /, "", f); sub(/;.*/, "", f)
			print "flags " f
		}
		/^;; ANSWER SECTION:/ { sec = "an"; next }
		/^;; AUTHORITY SECTION:/ { sec = "ns"; next }
		/^;; ADDITIONAL SECTION:/ { sec = "ad"; next }
		/^;/ || /^$/ { if ($0 ~ /^$/) sec = ""; next }
		sec != "" { $1 = $1; print sec " " $0 }' | ctl__mask_ttl
}

dig_answer() {
	world_dig_answer "$@" | ctl__mask_ttl
}

# --- a long-running process whose lookups go through sipcache -------------

lookups_start() {
	local fifo=$WORLD_DIR/lookups.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	world_spawn lookups env LD_PRELOAD="$CTL_PRELOAD" "$CTL_LOOKUPS" "$fifo"
	# Read-write: never blocks, whether or not the reader opened it yet.
	exec {LOOKUPS_FD}<>"$fifo"
	LOOKUPS_SEQ=0
}

lookups_ask() {
	local line i=0
	LOOKUPS_SEQ=$((LOOKUPS_SEQ + 1))
	printf '%s\n' "$*" >&"$LOOKUPS_FD"
	until line=$(grep -m1 "^$LOOKUPS_SEQ " "$WORLD_LOGS/lookups.log"); do
		if ! world_running lookups; then
			world_fail "the lookups process exited: $(tail -n 20 "$WORLD_LOGS/lookups.log")"
		fi
		if [ $i -ge 1200 ]; then
			world_fail "the lookups process did not answer '$*' within 60 s"
		fi
		sleep 0.05
		i=$((i + 1))
	done
	LOOKUP=${line#* }
}

lookups_stop() {
	exec {LOOKUPS_FD}>&-
	LOOKUPS_FD=
	world_stop lookups || world_fail "the lookups process failed (status $?)"
}

# file_state FILE...: what must not change when a change is refused.
file_state() {
	local f
	for f in "$@"; do
		if [ -e "$f" ]; then
			printf '%s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" \
				"$(stat -c '%s %a %U:%G %i %Y.%y' "$f")"
		else
			echo "absent $f"
		fi
	done
}

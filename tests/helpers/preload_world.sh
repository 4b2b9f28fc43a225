# shellcheck shell=bash disable=SC2034
# tests/helpers/preload_world.sh - sourced by tests/integration/test_preload_*.sh
# after tests/lib/world.sh: where the preload of this build is, and how to
# inject it.
#
#   PRELOAD        the libsipcache-preload.so of $WORLD_BUILD
#   PRELOAD_VARS   environment assignments that inject it, for
#                  `world_run env "${PRELOAD_VARS[@]}" CMD...'
#
# A sanitizer build (make O=build/asan SAN=address,undefined) links the
# preload against libasan, whose runtime must come first in the process:
# it is then preloaded ahead of the preload, so that the integration tests
# run the sanitized code inside real programs (leak reports are off: the
# programs are not ours).

PRELOAD=$WORLD_BUILD/preload/libsipcache-preload.so
[ -e "$PRELOAD" ] || world_fail "$PRELOAD missing: build with make all progs"
PRELOAD_VARS=("LD_PRELOAD=$PRELOAD")
if nm -D "$PRELOAD" 2>/dev/null | grep -q ' U __asan_init'; then
	preload_asan=$(ldd "$PRELOAD" | awk '$1 ~ /^libasan\.so/ { print $3 }')
	[ -n "$preload_asan" ] || world_fail "sanitized preload without libasan?"
	PRELOAD_VARS=("LD_PRELOAD=$preload_asan $PRELOAD" "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
		"UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
fi

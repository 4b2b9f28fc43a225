#!/bin/bash
# test_faults_flush.sh - many processes and threads looking names up
# through the real front ends (the preload; the NSS module alone) while
# another process flushes the cache and marks targets down, every answer
# checked against the authoritative server's, the cache file sound
# afterwards: `make stress' (tests/stress/run, which explains it all),
# shorter.  STRESS_SECONDS etc. as for make stress.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
exec "$top/tests/stress/run" -d "${STRESS_SECONDS:-10}" -p "${STRESS_PROCS:-3}" \
	-t "${STRESS_THREADS:-4}" ${STRESS_SEED:+-s "$STRESS_SEED"}

/*
 * sc_util.c - clocks and checksums.
 *
 * Clocks: the hit path must make no syscall.  CLOCK_REALTIME_COARSE and
 * CLOCK_MONOTONIC_COARSE are served by the vDSO on Linux (a memory read of
 * the kernel's last tick, resolution one jiffy), which is all a cache with
 * one-second TTLs needs.
 *
 * Checksum: every stored value carries one, verified on each hit, so a
 * record torn by a writer killed mid-store, or damaged on disk, reads as a
 * miss instead of a wrong answer.  It has to cost little next to the copy
 * it guards (a 200-byte SRV answer): 8 bytes per step with a multiply-mix
 * in the style of wyhash/xxh64.  It detects damage; it is not a MAC (the
 * trust model in docs/SECURITY.md relies on file permissions, not on it).
 */
#include <string.h>

#include "sc.h"

int64_t sc_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) != 0) {
		return (int64_t)time(NULL);
	}
	return (int64_t)ts.tv_sec;
}

int64_t sc_now_mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
	}
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t sc_checksum(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *s = p;
	const uint64_t k1 = 0xa0761d6478bd642fULL, k2 = 0xe7037ed1a0b428dbULL;
	uint64_t h = seed ^ mix(len ^ k1, k2);
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, s, 8);
		h = mix(h ^ w ^ k1, k2);
		s += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, s, len);
	h = mix(h ^ w ^ k2, k1 ^ len);
	return mix(h, k2);
}

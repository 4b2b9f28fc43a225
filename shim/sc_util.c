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

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

/*
 * 16 bytes per multiply (two words folded into one 64x64->128 product, as
 * wyhash does), so the dependency chain is half as long as a word-at-a-time
 * loop: a 200-byte SRV value costs about a dozen multiplies.
 */
uint64_t sc_checksum(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *s = p;
	const uint64_t k1 = 0xa0761d6478bd642fULL, k2 = 0xe7037ed1a0b428dbULL;
	const uint64_t k3 = 0x8ebc6af09c88c6e3ULL;
	uint64_t h = seed ^ k1 ^ len;
	uint64_t a = 0, b = 0;
	size_t n = len;

	while (n > 16) {
		h = mix(load64(s) ^ k2, load64(s + 8) ^ h);
		s += 16;
		n -= 16;
	}
	if (n >= 8) {
		a = load64(s);
		b = load64(s + n - 8);   /* overlaps `a' when n < 16 */
	} else if (n > 0) {
		memcpy(&a, s, n);
	}
	return mix(k3 ^ len, mix(a ^ k2, b ^ h));
}

/*
 * fuzz_rewrite.c - libFuzzer target for sc_dns_rewrite, the hit path.
 *
 * Input layout (the seeds in corpus/rewrite/ follow it):
 *   bytes 0-1  output buffer size (big endian), taken modulo len + 64
 *   bytes 2-3  the caller's query ID
 *   bytes 4-7  TTL cap
 *   byte  8    bit 0: pass the question name, re-cased by the bits of
 *              byte 9 onwards; bit 1: rewrite in place; bit 2: use TTL
 *              offsets taken from the input instead of the parser's
 *   then       the stored message
 *
 * For a message the parser accepts: the output buffer is a heap block of
 * exactly the size given (ASan sees any write past it), the return is
 * min(len, size), and the bytes are the prefix of the full rewrite,
 * which is checked field by field against the stored message.  With
 * offsets from the input (what a corrupt cache record could hold), the
 * rewrite must still neither read nor write outside its buffers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../shim/sc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_rewrite: %s:%d: %s\n",         \
				__FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

#define PREFIX 9

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sc_msg m;
	static uint16_t offs[SC_DNS_MAXRR];
	static unsigned char full[SC_DNS_MAXMSG];
	unsigned char qn[SC_DNS_MAXNAME];
	const unsigned char *msg;
	unsigned char *stored, *out;
	struct sc_rewrite rw;
	size_t len, outlen, w, i;
	uint8_t mode;
	int n;

	if (size < PREFIX) {
		return 0;
	}
	msg = data + PREFIX;
	len = size - PREFIX;
	if (sc_dns_parse(msg, len, &m) != 0) {
		return 0;
	}
	outlen = ((size_t)data[0] << 8 | data[1]) % (len + 64);
	mode = data[8];
	rw.id = (uint16_t)(data[2] << 8 | data[3]);
	rw.ttl_cap = get32(data + 4);
	rw.qname = NULL;
	if ((mode & 1) && m.qdcount == 1) {
		/* the caller's spelling: same name, case from the input */
		memcpy(qn, msg + SC_DNS_HDRLEN, m.qname_len);
		for (i = 0; i < m.qname_len; i++) {
			unsigned char c = qn[i] | 0x20;

			if (c >= 'a' && c <= 'z' && (data[9 + i % (size - 9)] & 1)) {
				qn[i] ^= 0x20;
			}
		}
		rw.qname = qn;
	}
	rw.ttl_off = offs;
	if (mode & 4) {
		/* arbitrary offsets, as a damaged record could hold */
		n = 0;
		for (i = PREFIX; i + 1 < size && n < 64; i += 2) {
			offs[n++] = (uint16_t)(data[i] << 8 | data[i + 1]);
		}
	} else {
		n = sc_dns_ttl_offsets(&m, offs, SC_DNS_MAXRR);
		CHECK(n >= 0);
	}
	rw.nttl = (unsigned)n;

	/* The stored copy in a block of exactly its size. */
	stored = malloc(len);
	CHECK(stored != NULL);
	memcpy(stored, msg, len);

	/* The full rewrite, as the reference. */
	CHECK(sc_dns_rewrite(stored, len, &rw, full, sizeof(full)) == len);
	CHECK(memcmp(stored, msg, len) == 0);

	if (mode & 2) {
		/* in place: a buffer of min(len, outlen) holding the stored
		 * bytes, patched where it lies */
		size_t k = outlen < len ? outlen : len;

		out = malloc(k ? k : 1);
		CHECK(out != NULL);
		memcpy(out, stored, k);
		w = sc_dns_rewrite(out, k, &rw, out, k);
		CHECK(w == k);
		/* A stored message cut short is only patched where whole
		 * fields remain, so compare only the uncut case; and only
		 * with the parser's offsets: overlapping ones (from the
		 * input) read bytes already patched when in place. */
		if (k == len && !(mode & 4)) {
			CHECK(memcmp(out, full, k) == 0);
		}
	} else {
		out = malloc(outlen ? outlen : 1);
		CHECK(out != NULL);
		w = sc_dns_rewrite(stored, len, &rw, out, outlen);
		CHECK(w == (outlen < len ? outlen : len));
		CHECK(memcmp(out, full, w) == 0);
	}
	free(out);

	/* The reference itself, field by field, when the offsets are the
	 * parser's: the ID, the question, each TTL, nothing else. */
	if (!(mode & 4)) {
		unsigned j;

		CHECK(full[0] == (rw.id >> 8) && full[1] == (rw.id & 0xff));
		if (rw.qname != NULL) {
			CHECK(memcmp(full + SC_DNS_HDRLEN, qn, m.qname_len) == 0);
			memcpy(full + SC_DNS_HDRLEN, msg + SC_DNS_HDRLEN, m.qname_len);
		}
		for (j = 0; j < m.nrr; j++) {
			uint32_t ttl = m.rr[j].ttl;

			if (m.rr[j].type == SC_T_OPT) {
				CHECK(get32(full + m.rr[j].ttl_off) == ttl);
				continue;
			}
			if (ttl & 0x80000000u) {
				ttl = 0;
			}
			if (ttl > rw.ttl_cap) {
				ttl = rw.ttl_cap;
			}
			CHECK(get32(full + m.rr[j].ttl_off) == ttl);
			memcpy(full + m.rr[j].ttl_off, msg + m.rr[j].ttl_off, 4);
		}
		CHECK(memcmp(full + 2, msg + 2, len - 2) == 0);
	}
	free(stored);
	return 0;
}

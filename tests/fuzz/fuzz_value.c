/*
 * fuzz_value.c - libFuzzer target for the stored-value decoder and the hit
 * path (sc_cache_value_serve: value_decode, then what sc_cache_get does
 * with a record read from the file).
 *
 * A record of the cache file is input we did not write in this process:
 * another process wrote it (perhaps killed half-way), the disk may have
 * damaged it, and any member of the trusted group may have forged it.  Of
 * that last one we cannot refuse the content (the group may poison the
 * cache: docs/SECURITY.md), but no value of any content may make the hit
 * path read or write outside the record or the caller's buffer, or serve
 * something else than the documented rewrite of the stored message.
 *
 * Input layout (the seeds in corpus/value/ follow it; numbers big endian):
 *   byte  0     bit 0: put the right checksum into the value before use
 *               (else the fuzzer would hardly ever get past the 64-bit
 *               check); bit 1: pass the caller's question name (the
 *               stored one, re-cased from the input); bit 2: round-trip
 *               mode (below); bit 3: serve stale (max_stale from bytes
 *               5-8, else 0)
 *   bytes 1-2   caller's buffer size, taken modulo (payload length + 64)
 *   bytes 3-4   caller's query ID
 *   bytes 5-8   max_stale; round-trip mode: also the lifetime
 *   bytes 9-12  round-trip mode: age of the entry (signed seconds)
 *   then        the payload: a stored value (layout in docs/cache.md,
 *               host byte order: the seeds are little endian), or in
 *               round-trip mode a DNS message
 *
 * Checked, for any value: the result is 0, -ENOENT or -EBADMSG, and it is
 * what the layout of docs/cache.md says (an independent decoder below:
 * magic, lengths, checksum, every TTL offset inside the message, expiry);
 * on a hit the caller's buffer (a heap block of exactly its size: ASan
 * sees any write past it) holds the prefix of sc_dns_rewrite() of the
 * stored message with the caller's ID, name and the TTL cap (remaining
 * lifetime, or SC_STALE_TTL when stale), and the hit's fields say what
 * the message header says.
 *
 * Round-trip mode: a message that sc_dns_parse() accepts is encoded as
 * sc_cache_put() stores it; it must then be served (or be expired, as the
 * policy says), parse again, with the same records and no TTL above the
 * cap; and every truncation or single-byte change of the value must be
 * refused (-EBADMSG), as a torn write or a damaged sector would be.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../shim/sc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_value: %s:%d: %s\n",           \
				__FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

#define PREFIX 13
#define NOW ((int64_t)1800000000)

/* The layout of docs/cache.md, written out again on purpose: if
 * sc_cache.c drifts from its documentation, the round trip fails. */
struct value_hdr {
	uint64_t checksum;
	uint32_t magic;
	uint16_t flags;
	uint16_t nttl;
	int64_t stored_at;
	uint32_t lifetime;
	uint32_t msglen;
};
#define HDR ((size_t)32)
#define MAGIC 0x53435631u   /* "SCV1" */
/* sc_cache.c's CHECKSUM_SEED: a private constant, copied.  A wrong copy
 * makes every round trip fail at once, so it cannot drift silently. */
#define SEED 0x5349504341434845ULL

_Static_assert(sizeof(struct value_hdr) == HDR, "value header is 32 bytes");

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t checksum_of(const unsigned char *v, size_t len)
{
	return sc_checksum(v + 8, len - 8, SEED);
}

/* What docs/cache.md says of a value: 0 valid (header, offsets and
 * message located), -EBADMSG otherwise. */
static int decode(const unsigned char *v, size_t len, struct value_hdr *h,
		  uint16_t *offs, const unsigned char **msg)
{
	unsigned i;

	if (len < HDR) {
		return -EBADMSG;
	}
	memcpy(h, v, HDR);
	/* stored_at: seconds since 1970 (sc_now), far from the int64 ends */
	if (h->magic != MAGIC || h->stored_at < 0 || h->stored_at > INT64_MAX / 4 ||
	    h->msglen < SC_DNS_HDRLEN || h->msglen > SC_DNS_MAXMSG ||
	    h->nttl > SC_DNS_MAXRR || len != HDR + 2u * h->nttl + h->msglen ||
	    checksum_of(v, len) != h->checksum) {
		return -EBADMSG;
	}
	memcpy(offs, v + HDR, 2u * h->nttl);
	for (i = 0; i < h->nttl; i++) {
		if (offs[i] < SC_DNS_HDRLEN || (size_t)offs[i] + 4 > h->msglen) {
			return -EBADMSG;
		}
	}
	*msg = v + HDR + 2u * h->nttl;
	return 0;
}

struct call {
	size_t outlen;
	uint16_t id;
	uint32_t max_stale;
	const unsigned char *qname;
};

/*
 * Serve `v' (a heap block of exactly `len' bytes) into a heap block of
 * exactly c->outlen bytes and check everything against decode().  Returns
 * the result; `full' (SC_DNS_MAXMSG bytes, may be NULL) gets the whole
 * rewrite the reference computes.
 */
static int serve_and_check(const unsigned char *v, size_t len, const struct call *c,
			   unsigned char *full)
{
	static uint16_t offs[SC_DNS_MAXRR];
	static unsigned char ref[SC_DNS_MAXMSG];
	struct value_hdr h;
	const unsigned char *msg = NULL;
	struct sc_hit hit;
	struct sc_rewrite rw;
	unsigned char *out;
	uint32_t remaining;
	int64_t stale_for = 0;
	int want, r;
	size_t n;

	out = malloc(c->outlen ? c->outlen : 1);
	CHECK(out != NULL);
	memset(out, 0xa5, c->outlen);
	memset(&hit, 0x5a, sizeof(hit));
	r = sc_cache_value_serve(v, len, NOW, c->max_stale, c->id, c->qname, out, c->outlen, &hit);

	want = decode(v, len, &h, offs, &msg);
	if (want == 0) {
		remaining = sc_policy_remaining(h.stored_at, h.lifetime, NOW, &stale_for);
		if (remaining == 0 && (c->max_stale == 0 || stale_for >= (int64_t)c->max_stale)) {
			want = -ENOENT;
		}
	}
	CHECK(r == want);
	if (r != 0) {
		/* Nothing served, nothing written. */
		for (n = 0; n < c->outlen; n++) {
			CHECK(out[n] == 0xa5);
		}
		free(out);
		return r;
	}

	rw.id = c->id;
	rw.qname = c->qname;
	rw.ttl_cap = remaining ? remaining : SC_STALE_TTL;
	rw.ttl_off = offs;
	rw.nttl = h.nttl;
	CHECK(sc_dns_rewrite(msg, h.msglen, &rw, ref, sizeof(ref)) == h.msglen);
	n = h.msglen < c->outlen ? h.msglen : c->outlen;
	CHECK(hit.written == n);
	CHECK(memcmp(out, ref, n) == 0);
	for (; n < c->outlen; n++) {
		CHECK(out[n] == 0xa5);
	}
	CHECK(hit.len == h.msglen);
	CHECK(hit.flags == h.flags);
	CHECK(hit.rcode == (msg[3] & 0x0f));
	CHECK(hit.ancount == (uint16_t)(msg[6] << 8 | msg[7]));
	CHECK(hit.remaining == remaining);
	CHECK(hit.stale == (remaining == 0));
	if (full) {
		memcpy(full, ref, h.msglen);
	}
	free(out);
	return 0;
}

/* The stored question name, re-cased by the input, when there is one. */
static const unsigned char *caller_qname(const unsigned char *msg, size_t msglen,
					 const uint8_t *data, size_t size,
					 unsigned char qn[SC_DNS_MAXNAME + 1])
{
	size_t l = msglen - SC_DNS_HDRLEN, i, n;

	if (l > SC_DNS_MAXNAME) {
		l = SC_DNS_MAXNAME;
	}
	memset(qn, 0, SC_DNS_MAXNAME + 1);
	memcpy(qn, msg + SC_DNS_HDRLEN, l);
	n = sc_dns_name_len(qn);
	if (n == 0) {
		/* No name there: a caller's name that cannot match. */
		memcpy(qn, "\3sip\4test", 10);
		return qn;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = qn[i] | 0x20;

		if (ch >= 'a' && ch <= 'z' && (data[i % size] & 0x10)) {
			qn[i] ^= 0x20;
		}
	}
	return qn;
}

/* Raw mode: the payload is a value. */
static void value_mode(const uint8_t *data, size_t size)
{
	unsigned char qn[SC_DNS_MAXNAME + 1];
	size_t len = size - PREFIX;
	unsigned char *v;
	struct call c;

	v = malloc(len ? len : 1);
	CHECK(v != NULL);
	memcpy(v, data + PREFIX, len);
	if ((data[0] & 1) && len >= HDR) {
		uint64_t sum = checksum_of(v, len);

		memcpy(v, &sum, 8);
	}
	c.outlen = ((size_t)data[1] << 8 | data[2]) % (len + 64);
	c.id = (uint16_t)(data[3] << 8 | data[4]);
	c.max_stale = (data[0] & 8) ? get32(data + 5) : 0;
	c.qname = NULL;
	if ((data[0] & 2) && len >= HDR + SC_DNS_HDRLEN) {
		struct value_hdr h;
		size_t moff;

		memcpy(&h, v, HDR);
		moff = HDR + 2u * h.nttl;
		if (h.nttl <= SC_DNS_MAXRR && moff + SC_DNS_HDRLEN < len) {
			c.qname = caller_qname(v + moff, len - moff, data, size, qn);
		}
	}
	serve_and_check(v, len, &c, NULL);
	free(v);
}

/* Round-trip mode: the payload is a message; store it as sc_cache_put()
 * does and serve it back. */
static void roundtrip_mode(const uint8_t *data, size_t size)
{
	static struct sc_msg m, m2;
	static uint16_t offs[SC_DNS_MAXRR];
	static unsigned char full[SC_DNS_MAXMSG];
	unsigned char qn[SC_DNS_MAXNAME + 1];
	const unsigned char *msg = data + PREFIX;
	size_t mlen = size - PREFIX, len, i;
	struct value_hdr h;
	unsigned char *v, *t;
	struct call c;
	int n, r;

	if (sc_dns_parse(msg, mlen, &m) != 0) {
		return;
	}
	n = sc_dns_ttl_offsets(&m, offs, SC_DNS_MAXRR);
	CHECK(n >= 0);
	memset(&h, 0, sizeof(h));
	h.magic = MAGIC;
	h.flags = (uint16_t)(data[3] & 7);   /* SC_ENTRY_* bits */
	h.nttl = (uint16_t)n;
	h.lifetime = get32(data + 5) % (7 * 86400) + 1;
	/* An age up to NOW (stored_at >= 0, as sc_now() gives), or a
	 * negative one: stored in the future (a clock stepped back). */
	h.stored_at = NOW - (int32_t)get32(data + 9) % NOW;
	h.msglen = (uint32_t)mlen;
	len = HDR + 2u * (size_t)n + mlen;
	v = malloc(len);
	CHECK(v != NULL);
	memcpy(v, &h, HDR);
	memcpy(v + HDR, offs, 2u * (size_t)n);
	memcpy(v + HDR + 2u * (size_t)n, msg, mlen);
	h.checksum = checksum_of(v, len);
	memcpy(v, &h.checksum, 8);

	c.outlen = ((size_t)data[1] << 8 | data[2]) % (mlen + 64);
	c.id = (uint16_t)(data[3] << 8 | data[4]);
	c.max_stale = (data[0] & 8) ? get32(data + 5) : 0;
	c.qname = (data[0] & 2) && m.qdcount == 1 ? caller_qname(msg, mlen, data, size, qn) : NULL;
	r = serve_and_check(v, len, &c, full);
	/* The value was made by the rules: only expiry can refuse it. */
	CHECK(r == 0 || r == -ENOENT);
	if (r == 0) {
		/* A valid stored answer serves a valid answer: same records,
		 * the caller's ID, no TTL above what is left of its life. */
		CHECK(sc_dns_parse(full, mlen, &m2) == 0);
		CHECK(m2.nrr == m.nrr && m2.qdcount == m.qdcount && m2.flags == m.flags);
		CHECK(m2.id == c.id);
		for (i = 0; i < m.nrr; i++) {
			CHECK(m2.rr[i].type == m.rr[i].type && m2.rr[i].rdlen == m.rr[i].rdlen);
			CHECK(memcmp(full + m.rr[i].rdata_off, msg + m.rr[i].rdata_off,
				     m.rr[i].rdlen) == 0);
			if (m.rr[i].type != SC_T_OPT) {
				uint32_t cap = sc_policy_remaining(h.stored_at, h.lifetime, NOW, NULL);

				CHECK(m2.rr[i].ttl <= (cap ? cap : SC_STALE_TTL));
			}
		}
	}

	/* Damage: a torn value (any shorter length) and any one byte changed
	 * are refused.  Bounded work per input: a few of each. */
	c.max_stale = UINT32_MAX;
	c.qname = NULL;
	for (i = 0; i < 4; i++) {
		size_t cut = (get32(data + 9) + i * 7919u) % len;

		t = malloc(cut ? cut : 1);
		CHECK(t != NULL);
		memcpy(t, v, cut);
		CHECK(serve_and_check(t, cut, &c, NULL) == -EBADMSG);
		free(t);
	}
	for (i = 0; i < 8; i++) {
		size_t at = (get32(data + 5) + i * 104729u) % len;
		unsigned char bit = (unsigned char)(1u << ((data[4] + i) & 7));

		v[at] ^= bit;
		CHECK(serve_and_check(v, len, &c, NULL) == -EBADMSG);
		v[at] ^= bit;
	}
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < PREFIX) {
		return 0;
	}
	if (data[0] & 4) {
		roundtrip_mode(data, size);
	} else {
		value_mode(data, size);
	}
	return 0;
}

/*
 * fuzz_naptr.c - libFuzzer target for what sc_sip.c and sc_srv.c do with
 * data from DNS: NAPTR substitution expressions (sc_naptr_regexp), and
 * the related records, chain and served-answer rewriting of any message
 * our parser accepts (sc_srv_related, sc_srv_chain, sc_srv_apply).
 *
 * Input layout (the seeds in corpus/naptr/ follow it):
 *   byte 0     bit 0 set: regexp mode; clear: message mode
 *   regexp mode
 *     byte 1   length L of the substitution expression
 *     then     L bytes of expression, then the subject (cut at a NUL,
 *              at most 64 bytes: an ENUM subject is "+" and 15 digits)
 *     byte 0 bits 1-7: the output buffer size
 *   message mode
 *     byte 0   bit 1: SC_SRV_ORDER, bit 2: SC_SRV_DROP, bit 3: mark the
 *              first SRV target, bit 4: mark the first A address
 *     byte 1   room past the message in the output buffer
 *     then     the message
 *
 * Checked: results are NUL-terminated strings of the length returned,
 * within the buffer (a heap block of exactly that size: ASan sees any
 * write past it), or one of the documented errors; related answers are
 * one question and its own records, nothing else; sc_srv_apply leaves a
 * message our parser accepts, with as many records (fewer only when
 * dropping), within the buffer, or fails leaving the input untouched.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../shim/sc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_naptr: %s:%d: %s\n",           \
				__FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

#define NOW 1800000000

static void regexp_mode(const uint8_t *data, size_t size)
{
	char subject[65];
	size_t relen, slen, outlen;
	char *re, *out;
	int r;

	if (size < 2) {
		return;
	}
	relen = data[1];
	if (relen > size - 2) {
		relen = size - 2;
	}
	slen = size - 2 - relen;
	if (slen > 64) {
		slen = 64;
	}
	memcpy(subject, data + 2 + relen, slen);
	subject[slen] = '\0';
	outlen = (size_t)(data[0] >> 1) + 1;
	re = malloc(relen ? relen : 1);
	out = malloc(outlen);
	CHECK(re && out);
	memcpy(re, data + 2, relen);
	r = sc_naptr_regexp(re, relen, subject, out, outlen);
	CHECK(r == -EINVAL || r == -ENOENT || r == -ENOSPC || r >= 0);
	if (r >= 0) {
		CHECK((size_t)r < outlen);
		CHECK(strlen(out) == (size_t)r);
	}
	free(re);
	free(out);
}

static int related_fn(const struct sc_msg *ans, void *priv)
{
	unsigned char q[SC_DNS_MAXNAME], owner[SC_DNS_MAXNAME];
	unsigned i;

	(void)priv;
	CHECK(ans->qdcount == 1 && ans->ancount >= 1 && ans->nscount == 0 && ans->arcount == 0);
	CHECK(ans->qtype == SC_T_SRV || ans->qtype == SC_T_A || ans->qtype == SC_T_AAAA);
	CHECK(sc_dns_name_expand(ans->buf, ans->len, SC_DNS_HDRLEN, q, NULL) > 0);
	for (i = 0; i < ans->nrr; i++) {
		CHECK(ans->rr[i].type == ans->qtype && ans->rr[i].class == SC_C_IN);
		CHECK(sc_dns_name_expand(ans->buf, ans->len, ans->rr[i].name_off, owner, NULL) > 0);
		CHECK(sc_dns_name_equal(owner, q));
	}
	return 0;
}

static int chain_fn(const unsigned char *name, uint16_t type, void *priv)
{
	(void)priv;
	CHECK(sc_dns_name_len(name) > 1);
	CHECK(type == SC_T_SRV || type == SC_T_A || type == SC_T_AAAA);
	return 0;
}

static void message_mode(const uint8_t *data, size_t size)
{
	static struct sc_msg m, m2;
	static struct sc_marks marks;
	const uint8_t *msg = data + 2;
	size_t len = size - 2, cap;
	unsigned flags = 0, i;
	struct sc_rng rng;
	unsigned char *buf;
	int r;

	if (size < 2 + SC_DNS_HDRLEN || sc_dns_parse(msg, len, &m) != 0) {
		return;
	}
	r = sc_srv_related(&m, related_fn, NULL);
	CHECK(r >= 0);
	r = sc_srv_chain(&m, chain_fn, NULL);
	CHECK(r >= 0);

	flags |= (data[0] & 2) ? SC_SRV_ORDER : 0;
	flags |= (data[0] & 4) ? SC_SRV_DROP : 0;
	marks.n = 0;
	for (i = 0; i < m.nrr && i < SC_DNS_MAXRR; i++) {
		struct sc_mark *k = &marks.m[marks.n];

		if ((data[0] & 8) && m.rr[i].type == SC_T_SRV && marks.n < 2 &&
		    sc_dns_name_expand(msg, len, m.rr[i].rdata_off + 6u, k->name, NULL) > 1) {
			sc_dns_name_lower(k->name);
			k->kind = SC_MARK_NAME;
			k->port = 0;
			k->expires = NOW + 1;
			marks.n++;
		} else if ((data[0] & 16) && m.rr[i].type == SC_T_A && m.rr[i].class == SC_C_IN &&
			   marks.n < 2) {
			memcpy(k->addr, msg + m.rr[i].rdata_off, 4);
			k->kind = SC_MARK_IPV4;
			k->port = 0;
			k->expires = NOW + 1;
			marks.n++;
		}
	}
	cap = len + data[1];
	buf = malloc(cap);
	CHECK(buf);
	memcpy(buf, msg, len);
	sc_rng_seed(&rng, (uint64_t)size * 2654435761u);
	r = sc_srv_apply(buf, len, cap, flags, &marks, NOW, &rng);
	if (r < 0) {
		CHECK(r == -EMSGSIZE || r == -ENOTSUP || r == -ENOMEM);
		CHECK(memcmp(buf, msg, len) == 0);
	} else {
		CHECK((size_t)r <= cap);
		CHECK(sc_dns_parse(buf, (size_t)r, &m2) == 0);
		CHECK(m2.qdcount == m.qdcount && m2.nscount == m.nscount && m2.arcount == m.arcount);
		CHECK(m2.ancount <= m.ancount);
		CHECK((flags & SC_SRV_DROP) || m2.ancount == m.ancount);
		CHECK(memcmp(buf, msg, 4) == 0);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	if (data[0] & 1) {
		regexp_mode(data, size);
	} else {
		message_mode(data, size);
	}
	return 0;
}

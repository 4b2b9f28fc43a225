/*
 * fuzz_dns.c - libFuzzer target for sc_dns_parse and the name functions.
 *
 * The input is a DNS message.  Whatever it is, parsing and expanding names
 * at any offset must stay inside it (libFuzzer hands us an exactly sized
 * heap copy: ASan sees a read one byte too far).  When the parser accepts
 * it, the invariants the cache relies on must hold:
 *   - every offset recorded is inside the message, and fields sit where
 *     the wire format puts them (owner, type, class, TTL, RDLENGTH, RDATA);
 *   - every name expands (owners, question, names in RDATA), round-trips
 *     through text, and reads as libresolv reads it;
 *   - libresolv (ns_initparse/ns_parserr) parses the same records: we are
 *     only ever stricter than it;
 *   - sc_dns_ttl_offsets succeeds, and a rewrite of the whole message
 *     (new ID, the question re-cased, TTLs capped) parses to the same
 *     structure with exactly the expected TTLs.
 * A broken invariant aborts, which libFuzzer reports as a crash.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../shim/sc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_dns: %s:%d: %s\n", __FILE__,   \
				__LINE__, #cond);                            \
			abort();                                             \
		}                                                            \
	} while (0)

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The name at `off' expands, stays within `end', reads back from text,
 * and libresolv's dn_expand agrees.  Returns the offset past it. */
static size_t check_name(const unsigned char *buf, size_t len, size_t off, size_t end)
{
	unsigned char w[SC_DNS_MAXNAME], back[SC_DNS_MAXNAME];
	char text[SC_DNS_MAXTEXT], dn[NS_MAXDNAME];
	size_t next = 0;
	int r, t;

	r = sc_dns_name_expand(buf, len, off, w, &next);
	CHECK(r > 0 && r <= SC_DNS_MAXNAME);
	CHECK(next > off && next <= end);
	CHECK(sc_dns_name_len(w) == (size_t)r);
	t = sc_dns_name_to_text(w, text, sizeof(text));
	CHECK(t > 0 && (size_t)t == strlen(text));
	CHECK(sc_dns_name_from_text(text, back, sizeof(back)) == r);
	CHECK(memcmp(back, w, (size_t)r) == 0);
	CHECK(sc_dns_name_equal(back, w));
	t = dn_expand(buf, buf + len, buf + off, dn, sizeof(dn));
	CHECK(t >= 0 && off + (size_t)t == next);
	CHECK(strcmp(strcmp(text, ".") == 0 ? "" : text, dn) == 0);
	return next;
}

/* Names inside RDATA, for the types whose layout the parser checks. */
static void check_rdata_names(const struct sc_msg *m, const struct sc_rr *rr)
{
	const unsigned char *b = m->buf;
	size_t rd = rr->rdata_off, end = rd + rr->rdlen, p;
	int i;

	switch (rr->type) {
	case SC_T_NS:
	case SC_T_CNAME:
	case SC_T_PTR:
		CHECK(check_name(b, m->len, rd, end) == end);
		break;
	case SC_T_MX:
		CHECK(check_name(b, m->len, rd + 2, end) == end);
		break;
	case SC_T_SRV:
		CHECK(check_name(b, m->len, rd + 6, end) == end);
		break;
	case SC_T_NAPTR:
		p = rd + 4;
		for (i = 0; i < 3; i++) {
			CHECK(p < end);
			p += 1u + b[p];
		}
		CHECK(check_name(b, m->len, p, end) == end);
		break;
	case SC_T_SOA:
		p = check_name(b, m->len, rd, end);
		p = check_name(b, m->len, p, end);
		CHECK(p + 20 == end);
		break;
	case SC_T_A:
		CHECK(rr->class != SC_C_IN || rr->rdlen == 4);
		break;
	case SC_T_AAAA:
		CHECK(rr->class != SC_C_IN || rr->rdlen == 16);
		break;
	default:
		break;
	}
}

/* libresolv reads the same records. */
static void check_libresolv(const struct sc_msg *m)
{
	static const ns_sect sects[] = { ns_s_an, ns_s_ns, ns_s_ar };
	ns_msg h;
	unsigned i = 0, s;
	int k;

	CHECK(ns_initparse(m->buf, (int)m->len, &h) == 0);
	for (s = 0; s < 3; s++) {
		for (k = 0; k < ns_msg_count(h, sects[s]); k++, i++) {
			const struct sc_rr *rr = &m->rr[i];
			ns_rr r;

			CHECK(ns_parserr(&h, sects[s], k, &r) == 0);
			CHECK(rr->type == ns_rr_type(r));
			CHECK(rr->class == ns_rr_class(r));
			CHECK(rr->ttl == ns_rr_ttl(r));
			CHECK(rr->rdlen == ns_rr_rdlen(r));
			CHECK(m->buf + rr->rdata_off == ns_rr_rdata(r));
		}
	}
	CHECK(i == m->nrr);
}

static void check_accepted(const uint8_t *data, size_t size, const struct sc_msg *m)
{
	static struct sc_msg m2;
	static uint16_t offs[SC_DNS_MAXRR];
	static unsigned char out[SC_DNS_MAXMSG];
	unsigned char qn[SC_DNS_MAXNAME];
	struct sc_rewrite rw;
	size_t pos = SC_DNS_HDRLEN;
	unsigned i, nopt = 0;
	uint32_t cap;
	int n;

	CHECK(m->buf == data && m->len == size);
	CHECK(m->id == get16(data) && m->flags == get16(data + 2));
	CHECK(m->qdcount <= 1);
	CHECK(m->nrr == (unsigned)m->ancount + m->nscount + m->arcount);
	CHECK(m->nrr <= SC_DNS_MAXRR);
	if (m->qdcount == 1) {
		/* the question name is never compressed */
		CHECK(check_name(data, size, pos, size) == pos + m->qname_len);
		CHECK(sc_dns_name_expand(data, size, pos, qn, NULL) == m->qname_len);
		pos += m->qname_len;
		CHECK(m->qtype == get16(data + pos) && m->qclass == get16(data + pos + 2));
		pos += 4;
	} else {
		CHECK(m->qname_len == 0);
	}
	for (i = 0; i < m->nrr; i++) {
		const struct sc_rr *rr = &m->rr[i];
		size_t next;

		/* records are contiguous and in order */
		CHECK(rr->name_off == pos);
		next = check_name(data, size, rr->name_off, size);
		CHECK(next + 4 == rr->ttl_off);
		CHECK(rr->type == get16(data + next) && rr->class == get16(data + next + 2));
		CHECK(rr->ttl == get32(data + rr->ttl_off));
		CHECK(rr->ttl_off + 6u == rr->rdata_off);
		CHECK(rr->rdlen == get16(data + rr->rdata_off - 2));
		CHECK((size_t)rr->rdata_off + rr->rdlen <= size);
		CHECK(rr->section == (i < m->ancount ? SC_SEC_AN :
				      i < (unsigned)m->ancount + m->nscount ? SC_SEC_NS : SC_SEC_AR));
		if (rr->type == SC_T_OPT) {
			CHECK(rr->section == SC_SEC_AR && data[rr->name_off] == 0);
			nopt++;
		}
		check_rdata_names(m, rr);
		pos = (size_t)rr->rdata_off + rr->rdlen;
	}
	CHECK(pos == size);
	CHECK(nopt <= 1);
	check_libresolv(m);

	n = sc_dns_ttl_offsets(m, offs, SC_DNS_MAXRR);
	CHECK(n == (int)(m->nrr - nopt));

	/* Rewrite the whole message: a new ID, the question in upper case,
	 * TTLs capped by a value taken from the input. */
	if (m->qdcount == 1) {
		for (i = 0; i < m->qname_len; i++) {
			if (qn[i] >= 'a' && qn[i] <= 'z') {
				qn[i] = (unsigned char)(qn[i] - 32);
			}
		}
	}
	cap = size >= 16 ? get32(data + size - 4) : 3600;
	rw.id = (uint16_t)~m->id;
	rw.qname = m->qdcount == 1 ? qn : NULL;
	rw.ttl_cap = cap;
	rw.ttl_off = offs;
	rw.nttl = (unsigned)n;
	CHECK(sc_dns_rewrite(data, size, &rw, out, sizeof(out)) == size);
	CHECK(sc_dns_parse(out, size, &m2) == 0);
	CHECK(m2.id == (uint16_t)~m->id && m2.flags == m->flags);
	CHECK(m2.nrr == m->nrr && m2.qdcount == m->qdcount && m2.ancount == m->ancount &&
	      m2.nscount == m->nscount && m2.arcount == m->arcount);
	CHECK(m2.qname_len == m->qname_len && m2.qtype == m->qtype && m2.qclass == m->qclass);
	if (m->qdcount == 1) {
		CHECK(memcmp(out + SC_DNS_HDRLEN, qn, m->qname_len) == 0);
	}
	for (i = 0; i < m->nrr; i++) {
		const struct sc_rr *a = &m->rr[i], *b = &m2.rr[i];
		uint32_t want = a->ttl;

		CHECK(a->type == b->type && a->class == b->class && a->name_off == b->name_off &&
		      a->ttl_off == b->ttl_off && a->rdata_off == b->rdata_off &&
		      a->rdlen == b->rdlen && a->section == b->section);
		if (a->type != SC_T_OPT) {
			if (want & 0x80000000u) {
				want = 0;
			}
			if (want > cap) {
				want = cap;
			}
		}
		CHECK(b->ttl == want);
		CHECK(memcmp(out + a->rdata_off, data + a->rdata_off, a->rdlen) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sc_msg m;
	unsigned char w[SC_DNS_MAXNAME];
	size_t next, off;
	int r;

	r = sc_dns_parse(data, size, &m);
	CHECK(r == 0 || r == -EBADMSG || r == -E2BIG);
	if (r == 0) {
		check_accepted(data, size, &m);
	} else if (r == -E2BIG) {
		/* only ever said of a well-formed message */
		CHECK(ns_initparse(data, (int)size, &(ns_msg){ 0 }) == 0);
	}

	/* Names anywhere, accepted message or not: no read outside, and
	 * whatever we expand, dn_expand reads the same. */
	for (off = 0; off < size && off < 64; off++) {
		next = 0;
		r = sc_dns_name_expand(data, size, off, w, &next);
		CHECK(r == -EBADMSG || (r > 0 && next > off && next <= size));
		if (r > 0) {
			check_name(data, size, off, size);
		}
	}

	/* The input as presentation text: from_text agrees with
	 * ns_name_pton and reads back through to_text. */
	if (size < 1100) {
		char text[1100];
		unsigned char ours[SC_DNS_MAXNAME], theirs[NS_MAXCDNAME + 8];
		char back[SC_DNS_MAXTEXT];
		int t;

		memcpy(text, data, size);
		text[size] = 0;
		r = sc_dns_name_from_text(text, ours, sizeof(ours));
		t = ns_name_pton(text, theirs, sizeof(theirs));
		CHECK((r > 0) == (t >= 0));
		CHECK(r > 0 || r == -EINVAL);
		if (r > 0) {
			CHECK(memcmp(ours, theirs, (size_t)r) == 0);
			CHECK(sc_dns_name_to_text(ours, back, sizeof(back)) >= 0);
			CHECK(sc_dns_name_from_text(back, w, sizeof(w)) == r);
			CHECK(memcmp(w, ours, (size_t)r) == 0);
		}
	}
	return 0;
}

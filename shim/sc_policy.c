/*
 * sc_policy.c - what may be cached, and for how long.
 *
 * Every front end asks here, so the rules are made once:
 *
 * Positive answers (NOERROR with records in the answer section) live for
 * the smallest TTL among their answer records (RFC 2181 5.2: an RRset has
 * one TTL; a CNAME chain is only as fresh as its shortest link), clamped to
 * [min_ttl, max_ttl].  A TTL with the top bit set counts as zero (RFC 2181
 * 8).  A lifetime of zero means "do not store": the answer is served once
 * and forgotten, which is what a TTL of 0 asks for.
 *
 * Negative answers (NXDOMAIN, and NOERROR without answers = NODATA) live
 * for min(SOA TTL, SOA MINIMUM) of the SOA in the authority section (RFC
 * 2308 5), capped by negative_ttl; negative_ttl = 0 disables negative
 * caching.  Without an SOA a negative answer is not cached (RFC 2308 5:
 * "SHOULD NOT"), which also keeps referrals out of the cache.  The SOA must
 * own an ancestor of the question: records unrelated to the question are
 * never trusted for anything.
 *
 * A CNAME answer without a record of the asked type behind it is a positive
 * answer for libresolv (ancount > 0, res_query succeeds) but a NODATA for
 * the target; it is kept for the shorter of both lifetimes.
 *
 * Never cached: truncated answers (TC: a partial RRset), SERVFAIL, REFUSED,
 * FORMERR, NOTIMP and unknown rcodes (failures are not facts about the
 * name), non-QUERY opcodes, answers without exactly one question.
 *
 * Time is wall-clock seconds (sc_now()): the file outlives reboots.  A
 * clock stepped back before an entry's store time makes it expired, so a
 * step can shorten a lifetime but never extend one.
 */
#include <errno.h>
#include <string.h>

#include "sc.h"

void sc_policy_limits(const struct sc_conf *c, const unsigned char *qname,
		      struct sc_ttl_limits *ret)
{
	const struct sc_name_policy *p = qname ? sc_conf_policy_for(c, qname) : NULL;

	ret->min_ttl = c->min_ttl;
	ret->max_ttl = c->max_ttl;
	ret->negative_ttl = c->negative_ttl;
	if (p == NULL) {
		return;
	}
	if (p->min_ttl >= 0) {
		ret->min_ttl = (uint32_t)p->min_ttl;
	}
	if (p->max_ttl >= 0) {
		ret->max_ttl = (uint32_t)p->max_ttl;
	}
	if (p->negative_ttl >= 0) {
		ret->negative_ttl = (uint32_t)p->negative_ttl;
	}
	/* An override of one bound must not invert the interval. */
	if (ret->min_ttl > ret->max_ttl) {
		ret->min_ttl = ret->max_ttl;
	}
}

uint32_t sc_policy_rr_ttl(uint32_t wire_ttl)
{
	return (wire_ttl & 0x80000000u) ? 0 : wire_ttl;
}

uint32_t sc_policy_ttl(uint32_t ttl, uint32_t min, uint32_t max)
{
	if (ttl < min) {
		ttl = min;
	}
	if (ttl > max) {
		ttl = max;
	}
	return ttl;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * RFC 2308 negative lifetime from the first SOA of the authority section
 * that owns an ancestor of (or the) question name.  Returns 0 and the
 * lifetime, or -ENOENT when there is none.
 */
static int negative_ttl(const struct sc_msg *m, const unsigned char *qname,
			uint32_t *ret_ttl)
{
	unsigned char owner[SC_DNS_MAXNAME], name[SC_DNS_MAXNAME];
	unsigned i;

	for (i = 0; i < m->nrr; i++) {
		const struct sc_rr *rr = &m->rr[i];
		size_t next;
		uint32_t minimum;

		if (rr->section != SC_SEC_NS || rr->type != SC_T_SOA) {
			continue;
		}
		if (sc_dns_name_expand(m->buf, m->len, rr->name_off, owner, NULL) < 0 ||
		    !sc_dns_name_is_subdomain(qname, owner)) {
			continue;
		}
		/* RDATA: MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM. */
		if (sc_dns_name_expand(m->buf, m->len, rr->rdata_off, name, &next) < 0 ||
		    sc_dns_name_expand(m->buf, m->len, next, name, &next) < 0 ||
		    next + 20 > (size_t)rr->rdata_off + rr->rdlen) {
			continue;
		}
		minimum = sc_policy_rr_ttl(get32(m->buf + next + 16));
		*ret_ttl = sc_policy_rr_ttl(rr->ttl);
		if (minimum < *ret_ttl) {
			*ret_ttl = minimum;
		}
		return 0;
	}
	return -ENOENT;
}

enum sc_verdict sc_policy_classify(const struct sc_msg *m,
				   const struct sc_ttl_limits *lim,
				   uint32_t *ret_lifetime)
{
	const unsigned char *qname = m->buf + SC_DNS_HDRLEN;
	uint32_t answer_ttl = UINT32_MAX, neg = 0;
	bool have_type = false, have_neg;
	unsigned rcode = SC_DNS_RCODE(m->flags);
	unsigned i;

	*ret_lifetime = 0;
	if (m->qdcount != 1 || !(m->flags & SC_DNS_QR) || (m->flags & SC_DNS_TC) ||
	    (m->flags & 0x7800u) != 0) {   /* opcode must be QUERY */
		return SC_VERDICT_NOSTORE;
	}
	if (rcode != SC_RCODE_NOERROR && rcode != SC_RCODE_NXDOMAIN) {
		return SC_VERDICT_NOSTORE;
	}
	for (i = 0; i < m->nrr && m->rr[i].section == SC_SEC_AN; i++) {
		uint32_t t = sc_policy_rr_ttl(m->rr[i].ttl);

		if (t < answer_ttl) {
			answer_ttl = t;
		}
		if (m->rr[i].type == m->qtype) {
			have_type = true;
		}
	}
	have_neg = negative_ttl(m, qname, &neg) == 0;
	if (have_neg && neg > lim->negative_ttl) {
		neg = lim->negative_ttl;
	}

	if (rcode == SC_RCODE_NOERROR && m->ancount > 0) {
		uint32_t life = sc_policy_ttl(answer_ttl, lim->min_ttl, lim->max_ttl);

		if (!have_type && m->qtype != SC_T_CNAME && m->qtype != 255) {
			/* CNAME without the asked type behind it: NODATA for
			 * the target, so the negative rules bound it too. */
			if (!have_neg || lim->negative_ttl == 0) {
				return SC_VERDICT_NOSTORE;
			}
			if (neg < life) {
				life = neg;
			}
		}
		*ret_lifetime = life;
		return life > 0 ? SC_VERDICT_POSITIVE : SC_VERDICT_NOSTORE;
	}

	/* NXDOMAIN or NODATA. */
	if (!have_neg || lim->negative_ttl == 0) {
		return SC_VERDICT_NOSTORE;
	}
	if (answer_ttl < neg) {
		/* A CNAME chain leading to the negative answer. */
		neg = answer_ttl;
	}
	*ret_lifetime = neg;
	if (neg == 0) {
		return SC_VERDICT_NOSTORE;
	}
	return rcode == SC_RCODE_NXDOMAIN ? SC_VERDICT_NXDOMAIN : SC_VERDICT_NODATA;
}

uint32_t sc_policy_remaining(int64_t stored_at, uint32_t lifetime,
			     int64_t now, int64_t *ret_stale_for)
{
	int64_t age;

	if (ret_stale_for) {
		*ret_stale_for = 0;
	}
	if (now < stored_at) {
		return 0;   /* clock stepped back: expired, not stale for long */
	}
	age = now - stored_at;
	if (age < (int64_t)lifetime) {
		return (uint32_t)((int64_t)lifetime - age);
	}
	if (ret_stale_for) {
		*ret_stale_for = age - (int64_t)lifetime;
	}
	return 0;
}

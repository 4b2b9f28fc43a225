/*
 * sc_dns.c - DNS wire format: validate, names, build, rewrite.
 *
 * Two very different paths run through this file.
 *
 * The miss path (sc_dns_parse) sees every answer before it is stored.  A
 * stored answer is later served to many processes by copying and patching
 * it blindly, so anything that gets past the parser is trusted for its
 * whole lifetime: the parser is deliberately stricter than any resolver
 * library.  What it does not like is not an error for the caller; the
 * answer is passed through untouched and simply not cached.
 *
 * The hit path (sc_dns_rewrite) must cost about a memcpy.  It never parses:
 * it patches the ID, the spelling of the question name and the TTL fields
 * at offsets the parser recorded when the answer was stored.
 *
 * Why the parser is hand-written rather than built on libresolv.
 * DESIGN.md asks for ns_initparse/ns_parserr/dn_expand where they fit.
 * Here they do not:
 *   - ns_initparse skips names with ns_name_skip, which looks at no
 *     pointer target at all, and checks no RDATA;
 *   - dn_expand (ns_name_unpack) accepts pointers that point forward or
 *     into the name being read, and detects loops only once it has read
 *     as many bytes as the message holds;
 *   - neither checks RDLENGTH against the type (an A record of 5 bytes, an
 *     SRV whose target runs past its RDATA, trailing bytes after the last
 *     record all pass);
 *   - ns_parserr expands every owner name into a caller buffer and hands
 *     back no offset of the TTL field, which is what a hit needs.
 * Using them would cost a second walk of the message for the checks and
 * the offsets anyway.  So the walk below is one pass, records offsets as
 * it goes, and libresolv serves as the oracle instead: the unit tests and
 * the fuzz target check that whatever we accept, libresolv parses to the
 * same records and names.
 *
 * Name compression, the strict rule.  A pointer must point strictly
 * before the first byte of the stretch of name being read (the name's own
 * start, then the previous pointer's target), at or after the header, and
 * the labels found there must end before that same point.  Real
 * compressors only ever point at names they wrote earlier, which lie
 * wholly before the name being written, so no real answer breaks the
 * rule.  In exchange every jump strictly lowers the window, which makes
 * loops impossible and bounds the work by the message length; the hop
 * bound is on top of that, as the brief asks.
 *
 * The parser goes one step further: a pointer must land where an earlier
 * name of the message had a label (a bitmap of those positions, 2 KiB on
 * the stack, only as much of it cleared as the message needs).  Without
 * it, a crafted answer could point into a TTL field, or walk through one
 * from a label before it; the rewrite on the hit path patches TTLs, so it
 * would then serve a different name, or a malformed message, from an
 * entry that was valid when stored.  The price: a pointer to a name inside
 * the RDATA of a type we treat as opaque is refused (that answer is then
 * simply not cached).  Compressors point at owners and at the names of
 * the types checked below, which is what SIP lookups receive.
 *
 * Queries and answers are written by hand as well: res_nmkquery would
 * want a resolver state and the name in text, and the bytes are trivial;
 * the unit tests compare our query with res_mkquery's byte for byte.
 *
 * Names in presentation form are converted by hand too: the conversion
 * to wire form runs on every lookup (the cache key is the wire name), and
 * ns_name_pton clobbers errno and folds "too long" and "no room" into one
 * EMSGSIZE.  Both directions follow ns_name_pton/ns_name_ntop to the
 * byte, which the unit tests check against libresolv itself.
 */
#include <errno.h>
#include <string.h>

#include "sc.h"

/*
 * A legitimate name has at most 127 labels, and a compressor emits each
 * name as labels followed by one pointer, so no real name needs more
 * jumps than it has labels.
 */
#define SC_DNS_MAXHOPS 127

/* Pointers carry 14 bits: only the first 16 KiB can be pointed at. */
#define SEEN_MAX 0x4000

/* Fixed part of a resource record after its owner: type, class, TTL,
 * RDLENGTH. */
#define RR_FIXED 10
/* Smallest possible question and record: root name plus fixed fields. */
#define QD_MIN (1 + 4)
#define RR_MIN (1 + RR_FIXED)

static inline uint16_t get16(const unsigned char *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static inline void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* DNS compares names in ASCII only (RFC 4343): no locale, no table. */
static inline unsigned char lc(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/*
 * Walk the (possibly compressed) name at `off'.  The name as stored must
 * end by `end' (the RDATA end for names inside RDATA, else the message
 * length).  With `out', the expanded name is written there (at most
 * SC_DNS_MAXNAME bytes).  With `seen' (the parser's bitmap), the positions
 * of this name's own labels are recorded, and pointers must land on one
 * recorded before.  Returns the expanded wire length and sets *ret_next
 * past the stored form; -EBADMSG on any fault.
 */
static int name_walk(const unsigned char *buf, size_t off, size_t end,
		     unsigned char *out, unsigned char *seen, size_t *ret_next)
{
	size_t pos = off;     /* next byte to read */
	size_t stretch = off; /* start of the stretch being read: pointers
			       * must go strictly below it */
	size_t next = 0;      /* past the stored form: set at the end or
			       * at the first pointer */
	size_t wlen = 0;      /* expanded length so far, root excluded */
	unsigned hops = 0;

	for (;;) {
		unsigned c;
		size_t target;

		if (pos >= end) {
			return -EBADMSG;
		}
		/* Record where this name's own labels are; those read
		 * after a jump belong to an earlier name, recorded then. */
		if (seen != NULL && hops == 0 && pos < SEEN_MAX) {
			seen[pos >> 3] |= (unsigned char)(1u << (pos & 7));
		}
		c = buf[pos];
		switch (c & 0xc0) {
		case 0x00:
			if (c == 0) {
				if (out != NULL) {
					out[wlen] = 0;
				}
				if (hops == 0) {
					next = pos + 1;
				}
				*ret_next = next;
				return (int)(wlen + 1);
			}
			/* The label, and the byte after it, must be inside
			 * the window; the latter is checked on the next
			 * turn. */
			if (c >= end - pos) {
				return -EBADMSG;
			}
			/* Keep room for the root label: 255 in all. */
			if (wlen + 1 + c + 1 > SC_DNS_MAXNAME) {
				return -EBADMSG;
			}
			if (out != NULL) {
				memcpy(out + wlen, buf + pos, 1 + c);
			}
			wlen += 1 + c;
			pos += 1 + c;
			break;
		case 0xc0:
			if (end - pos < 2) {
				return -EBADMSG;
			}
			target = (size_t)(c & 0x3f) << 8 | buf[pos + 1];
			/* Strictly backwards, never into the header. */
			if (target >= stretch || target < SC_DNS_HDRLEN) {
				return -EBADMSG;
			}
			if (seen != NULL && !(seen[target >> 3] & (1u << (target & 7)))) {
				return -EBADMSG;
			}
			if (++hops > SC_DNS_MAXHOPS) {
				return -EBADMSG;
			}
			if (hops == 1) {
				next = pos + 2;
			}
			/* What we jump to must end before the stretch we
			 * jumped from began: it was written earlier. */
			end = stretch;
			stretch = target;
			pos = target;
			break;
		default:
			/* 0x40 (extended label types, RFC 6891 retired
			 * them) and 0x80 (reserved): never in a real
			 * answer. */
			return -EBADMSG;
		}
	}
}

/* A name stored within [off, end); *ret_next past it. */
static int name_skip(const unsigned char *buf, unsigned char *seen, size_t off,
		     size_t end, size_t *ret_next)
{
	int r = name_walk(buf, off, end, NULL, seen, ret_next);

	return r < 0 ? r : 0;
}

/* A <character-string> (RFC 1035 3.3): length byte and that many bytes,
 * within [off, end). */
static int string_skip(const unsigned char *buf, size_t off, size_t end,
		       size_t *ret_next)
{
	if (off >= end || buf[off] >= end - off) {
		return -EBADMSG;
	}
	*ret_next = off + 1 + buf[off];
	return 0;
}

/* Exactly one name filling [off, end). */
static int name_fills(const unsigned char *buf, unsigned char *seen, size_t off,
		      size_t end)
{
	size_t next;

	if (name_skip(buf, seen, off, end, &next) < 0 || next != end) {
		return -EBADMSG;
	}
	return 0;
}

/*
 * Check the RDATA at [rd, rdend) against its type.  Types not listed are
 * opaque to us (RFC 3597): only their RDLENGTH, already checked against
 * the message, matters.
 */
static int rdata_check(const unsigned char *buf, unsigned char *seen,
		       uint16_t type, uint16_t class, size_t rd, size_t rdend)
{
	size_t p = rd;
	int i;

	switch (type) {
	case SC_T_A:
	case SC_T_AAAA:
		/* The address formats are those of class IN; other classes
		 * (CHAOS A records hold a name and an address) stay
		 * opaque. */
		if (class != SC_C_IN) {
			return 0;
		}
		return rdend - rd == (type == SC_T_A ? 4u : 16u) ? 0 : -EBADMSG;
	case SC_T_NS:
	case SC_T_CNAME:
	case SC_T_PTR:
		return name_fills(buf, seen, rd, rdend);
	case SC_T_MX:
		/* preference, exchange */
		if (rdend - rd < 2) {
			return -EBADMSG;
		}
		return name_fills(buf, seen, rd + 2, rdend);
	case SC_T_SRV:
		/* priority, weight, port, target.  RFC 2782 forbids
		 * compressing the target, but old servers did it and
		 * libresolv reads it: accepted, under the same rules. */
		if (rdend - rd < 6) {
			return -EBADMSG;
		}
		return name_fills(buf, seen, rd + 6, rdend);
	case SC_T_NAPTR:
		/* order, preference, flags, services, regexp, replacement
		 * (RFC 3403 4.1) */
		if (rdend - rd < 4) {
			return -EBADMSG;
		}
		p = rd + 4;
		for (i = 0; i < 3; i++) {
			if (string_skip(buf, p, rdend, &p) < 0) {
				return -EBADMSG;
			}
		}
		return name_fills(buf, seen, p, rdend);
	case SC_T_SOA:
		/* mname, rname, then serial, refresh, retry, expire and
		 * minimum: the last one is what RFC 2308 negative caching
		 * reads, so the 20 bytes must be exactly there. */
		if (name_skip(buf, seen, p, rdend, &p) < 0 ||
		    name_skip(buf, seen, p, rdend, &p) < 0) {
			return -EBADMSG;
		}
		return rdend - p == 20 ? 0 : -EBADMSG;
	case SC_T_TXT:
		/* One or more strings, nothing left over (RFC 1035 3.3.14). */
		if (p == rdend) {
			return -EBADMSG;
		}
		while (p < rdend) {
			if (string_skip(buf, p, rdend, &p) < 0) {
				return -EBADMSG;
			}
		}
		return 0;
	case SC_T_OPT:
		/* Options as {code, length, data}, exactly filling the
		 * RDATA (RFC 6891 6.1.2). */
		while (p < rdend) {
			if (rdend - p < 4 || get16(buf + p + 2) > rdend - p - 4) {
				return -EBADMSG;
			}
			p += 4 + get16(buf + p + 2);
		}
		return 0;
	default:
		return 0;
	}
}

int sc_dns_parse(const unsigned char *buf, size_t len, struct sc_msg *ret)
{
	unsigned char seen[SEEN_MAX / 8];
	size_t pos = SC_DNS_HDRLEN, next;
	unsigned total, i, nopt = 0;
	int r;

	/* Offsets are kept in 16 bits; a DNS message never exceeds that
	 * (TCP frames it with a 16-bit length). */
	if (len < SC_DNS_HDRLEN || len > SC_DNS_MAXMSG) {
		return -EBADMSG;
	}
	ret->buf = buf;
	ret->len = len;
	ret->id = get16(buf);
	ret->flags = get16(buf + 2);
	ret->qdcount = get16(buf + 4);
	ret->ancount = get16(buf + 6);
	ret->nscount = get16(buf + 8);
	ret->arcount = get16(buf + 10);
	ret->qname_len = 0;
	ret->qtype = 0;
	ret->qclass = 0;

	/* Every resolver sends exactly one question; several are
	 * undefined (RFC 9619), and a cache entry answers one. */
	if (ret->qdcount > 1) {
		return -EBADMSG;
	}
	total = (unsigned)ret->ancount + ret->nscount + ret->arcount;
	ret->nrr = total;
	/* Counts that the message cannot hold are refused before the walk:
	 * an ancount of 65535 in 40 bytes costs nothing. */
	if ((size_t)ret->qdcount * QD_MIN + (size_t)total * RR_MIN >
	    len - SC_DNS_HDRLEN) {
		return -EBADMSG;
	}

	memset(seen, 0, (len < SEEN_MAX ? len + 7 : SEEN_MAX) / 8);

	if (ret->qdcount == 1) {
		/* The question name is the first name of the message:
		 * there is nothing before it to point to, so it is
		 * necessarily uncompressed, which the rewrite relies on. */
		r = name_skip(buf, seen, pos, len, &next);
		if (r < 0) {
			return r;
		}
		if (len - next < 4) {
			return -EBADMSG;
		}
		ret->qname_len = (uint16_t)(next - pos);
		ret->qtype = get16(buf + next);
		ret->qclass = get16(buf + next + 2);
		pos = next + 4;
	}

	for (i = 0; i < total; i++) {
		struct sc_rr rr;
		size_t rd;

		rr.name_off = (uint16_t)pos;
		r = name_skip(buf, seen, pos, len, &next);
		if (r < 0) {
			return r;
		}
		if (len - next < RR_FIXED) {
			return -EBADMSG;
		}
		rr.type = get16(buf + next);
		rr.class = get16(buf + next + 2);
		rr.ttl_off = (uint16_t)(next + 4);
		rr.ttl = get32(buf + next + 4);
		rr.rdlen = get16(buf + next + 8);
		rd = next + RR_FIXED;
		if (rr.rdlen > len - rd) {
			return -EBADMSG;
		}
		rr.rdata_off = (uint16_t)rd;
		if (i < ret->ancount) {
			rr.section = SC_SEC_AN;
		} else if (i < (unsigned)ret->ancount + ret->nscount) {
			rr.section = SC_SEC_NS;
		} else {
			rr.section = SC_SEC_AR;
		}
		/* OPT is a pseudo-record of the additional section, owned
		 * by the root, one per message (RFC 6891 6.1.1); its TTL
		 * field holds EDNS flags, which is why ttl_offsets skips
		 * it.  The root must be spelled in place, not pointed to. */
		if (rr.type == SC_T_OPT &&
		    (rr.section != SC_SEC_AR || buf[pos] != 0 || ++nopt > 1)) {
			return -EBADMSG;
		}
		r = rdata_check(buf, seen, rr.type, rr.class, rd, rd + rr.rdlen);
		if (r < 0) {
			return r;
		}
		/* Past the limit the walk goes on, so that -E2BIG is only
		 * ever said of a well-formed message. */
		if (i < SC_DNS_MAXRR) {
			ret->rr[i] = rr;
		}
		pos = rd + rr.rdlen;
	}

	/* Bytes after the last record mean the counts lie. */
	if (pos != len) {
		return -EBADMSG;
	}
	if (total > SC_DNS_MAXRR) {
		return -E2BIG;
	}
	return 0;
}

int sc_dns_name_expand(const unsigned char *buf, size_t len, size_t off,
		       unsigned char *out, size_t *ret_next)
{
	size_t next;
	int r;

	if (len > SC_DNS_MAXMSG || off >= len) {
		return -EBADMSG;
	}
	r = name_walk(buf, off, len, out, NULL, &next);
	if (r >= 0 && ret_next != NULL) {
		*ret_next = next;
	}
	return r;
}

/*
 * Length of the uncompressed wire name `wire', or -EINVAL when it has a
 * pointer or reserved label type, or runs past SC_DNS_MAXNAME bytes.
 */
static int name_check(const unsigned char *wire)
{
	size_t n = 0;

	while (wire[n] != 0) {
		if (wire[n] > 63 || n + 1 + wire[n] + 1 > SC_DNS_MAXNAME) {
			return -EINVAL;
		}
		n += 1 + wire[n];
	}
	return (int)n + 1;
}

int sc_dns_name_from_text(const char *text, unsigned char *out,
			  size_t outlen)
{
	unsigned char tmp[SC_DNS_MAXNAME];
	/* Build in place when the caller's buffer surely fits, else in
	 * tmp, so that "too long" and "no room" stay distinct errors. */
	unsigned char *w = outlen >= SC_DNS_MAXNAME ? out : tmp;
	const unsigned char *s = (const unsigned char *)text;
	size_t label = 0;  /* index of the current label's length byte */
	size_t n = 1;      /* bytes used in w */
	unsigned c;

	/* ns_name_pton reads "." and "" alike as the root. */
	if (s[0] == '.' && s[1] == 0) {
		s++;
	}
	while ((c = *s++) != 0) {
		if (c == '.') {
			/* An empty label only makes sense as the root. */
			if (n - label - 1 == 0) {
				return -EINVAL;
			}
			w[label] = (unsigned char)(n - label - 1);
			if (*s == 0) {
				break;   /* trailing dot: fully qualified */
			}
			/* The next byte's own check keeps n within bounds. */
			label = n++;
			continue;
		}
		if (c == '\\') {
			c = *s++;
			if (c >= '0' && c <= '9') {
				/* \DDD: exactly three digits, at most 255. */
				if (s[0] < '0' || s[0] > '9' ||
				    s[1] < '0' || s[1] > '9') {
					return -EINVAL;
				}
				c = (c - '0') * 100 + (unsigned)(s[0] - '0') * 10 +
				    (unsigned)(s[1] - '0');
				s += 2;
				if (c > 255) {
					return -EINVAL;
				}
			} else if (c == 0) {
				return -EINVAL;  /* trailing backslash */
			}
		}
		/* One byte of label; keep room for the root label. */
		if (n - label > 63 || n + 1 >= SC_DNS_MAXNAME) {
			return -EINVAL;
		}
		w[n++] = (unsigned char)c;
	}
	if (n - label - 1 > 0) {
		/* Last label of a name written without the trailing dot. */
		w[label] = (unsigned char)(n - label - 1);
		w[n++] = 0;
	} else {
		w[label] = 0;   /* the root, or after a trailing dot */
	}
	if (n > outlen) {
		return -ENOSPC;
	}
	if (w != out) {
		memcpy(out, w, n);
	}
	return (int)n;
}

/* ns_name_ntop's quoting: zone-file metacharacters get a backslash... */
static inline bool special(unsigned char c)
{
	switch (c) {
	case '"':
	case '.':
	case ';':
	case '\\':
	case '(':
	case ')':
	case '@':
	case '$':
		return true;
	default:
		return false;
	}
}

/* ...and bytes that are not visible ASCII are written as \DDD. */
static inline bool printable(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

int sc_dns_name_to_text(const unsigned char *wire, char *out, size_t outlen)
{
	size_t i = 0, o = 0;
	int r;

	/* Unlike ns_name_ntop, refuse names longer than 255 bytes: they
	 * cannot have come from a valid message. */
	r = name_check(wire);
	if (r < 0) {
		return r;
	}
	if (wire[0] == 0) {
		if (outlen < 2) {
			return -ENOSPC;
		}
		out[0] = '.';
		out[1] = 0;
		return 1;
	}
	while (wire[i] != 0) {
		size_t l = wire[i++];

		if (o > 0) {
			if (o + 1 >= outlen) {
				return -ENOSPC;
			}
			out[o++] = '.';
		}
		for (; l > 0; l--, i++) {
			unsigned char c = wire[i];

			/* Each branch keeps room for the final NUL. */
			if (special(c)) {
				if (o + 2 >= outlen) {
					return -ENOSPC;
				}
				out[o++] = '\\';
				out[o++] = (char)c;
			} else if (!printable(c)) {
				if (o + 4 >= outlen) {
					return -ENOSPC;
				}
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			} else {
				if (o + 1 >= outlen) {
					return -ENOSPC;
				}
				out[o++] = (char)c;
			}
		}
	}
	out[o] = 0;
	return (int)o;
}

size_t sc_dns_name_len(const unsigned char *wire)
{
	int r = name_check(wire);

	return r < 0 ? 0 : (size_t)r;
}

void sc_dns_name_lower(unsigned char *wire)
{
	size_t i = 0;

	/* Walk by labels so that length bytes are never touched (they are
	 * below 64, hence never letters, but that is luck, not design). */
	while (i < SC_DNS_MAXNAME && wire[i] != 0 && wire[i] <= 63) {
		size_t end = i + 1 + wire[i];

		if (end >= SC_DNS_MAXNAME) {
			return;
		}
		for (i++; i < end; i++) {
			wire[i] = lc(wire[i]);
		}
	}
}

bool sc_dns_name_equal(const unsigned char *a, const unsigned char *b)
{
	size_t i = 0;

	/* The length check below keeps i inside the 255 bytes. */
	for (;;) {
		size_t l = a[i];

		if (l != b[i] || l > 63) {
			return false;
		}
		if (l == 0) {
			return true;
		}
		if (i + 1 + l >= SC_DNS_MAXNAME) {
			return false;
		}
		for (i++; l > 0; l--, i++) {
			if (lc(a[i]) != lc(b[i])) {
				return false;
			}
		}
	}
}

/* Number of labels of a valid uncompressed name, or -1. */
static int name_labels(const unsigned char *wire)
{
	size_t i = 0;
	int n = 0;

	while (wire[i] != 0) {
		if (wire[i] > 63 || i + 1 + wire[i] + 1 > SC_DNS_MAXNAME) {
			return -1;
		}
		i += 1 + wire[i];
		n++;
	}
	return n;
}

bool sc_dns_name_is_subdomain(const unsigned char *name,
			      const unsigned char *suffix)
{
	int nl = name_labels(name), sl = name_labels(suffix);
	size_t i = 0;

	if (nl < 0 || sl < 0 || nl < sl) {
		return false;
	}
	/* Compare label-aligned: "xexample.com" is not below
	 * "example.com", only "x.example.com" is. */
	for (; nl > sl; nl--) {
		i += 1 + name[i];
	}
	return sc_dns_name_equal(name + i, suffix);
}

int sc_dns_build_query(unsigned char *buf, size_t buflen, uint16_t id,
		       uint16_t flags, const unsigned char *qname,
		       uint16_t qtype, uint16_t qclass)
{
	int qlen = name_check(qname);
	size_t need;

	if (qlen < 0) {
		return qlen;
	}
	need = SC_DNS_HDRLEN + (size_t)qlen + 4;
	if (need > buflen) {
		return -EMSGSIZE;
	}
	put16(buf, id);
	put16(buf + 2, flags);
	put16(buf + 4, 1);
	put16(buf + 6, 0);
	put16(buf + 8, 0);
	put16(buf + 10, 0);
	memcpy(buf + SC_DNS_HDRLEN, qname, (size_t)qlen);
	put16(buf + SC_DNS_HDRLEN + qlen, qtype);
	put16(buf + SC_DNS_HDRLEN + qlen + 2, qclass);
	return (int)need;
}

int sc_dns_build_answer(unsigned char *buf, size_t buflen, uint16_t id,
			uint16_t flags, const unsigned char *qname,
			uint16_t qtype, uint16_t qclass, uint32_t ttl,
			const struct sc_rdata *rd, unsigned n)
{
	int qlen = name_check(qname);
	size_t need, p;
	unsigned i;

	if (qlen < 0) {
		return qlen;
	}
	if (n > UINT16_MAX) {
		return -EMSGSIZE;
	}
	/* Size first, then fill: nothing is written when it cannot fit. */
	need = SC_DNS_HDRLEN + (size_t)qlen + 4;
	for (i = 0; i < n && need <= SC_DNS_MAXMSG; i++) {
		need += 2 + RR_FIXED + rd[i].len;
	}
	if (need > buflen || need > SC_DNS_MAXMSG) {
		return -EMSGSIZE;
	}
	/* What res_query returns from a recursive server: a response (QR)
	 * to a recursive query (RD) from a server that recursed (RA).
	 * Whatever else the caller passes (the rcode) is kept. */
	put16(buf, id);
	put16(buf + 2, (uint16_t)(flags | SC_DNS_QR | SC_DNS_RD | SC_DNS_RA));
	put16(buf + 4, 1);
	put16(buf + 6, (uint16_t)n);
	put16(buf + 8, 0);
	put16(buf + 10, 0);
	memcpy(buf + SC_DNS_HDRLEN, qname, (size_t)qlen);
	p = SC_DNS_HDRLEN + (size_t)qlen;
	put16(buf + p, qtype);
	put16(buf + p + 2, qclass);
	p += 4;
	for (i = 0; i < n; i++) {
		/* Owner: a pointer to the question name at offset 12. */
		put16(buf + p, 0xc000 | SC_DNS_HDRLEN);
		put16(buf + p + 2, qtype);
		put16(buf + p + 4, qclass);
		put32(buf + p + 6, ttl);
		put16(buf + p + 10, rd[i].len);
		p += 2 + RR_FIXED;
		if (rd[i].len > 0) {
			memcpy(buf + p, rd[i].data, rd[i].len);
		}
		p += rd[i].len;
	}
	return (int)p;
}

int sc_dns_ttl_offsets(const struct sc_msg *m, uint16_t *ret_off, unsigned max)
{
	unsigned i, n = 0;

	for (i = 0; i < m->nrr && i < SC_DNS_MAXRR; i++) {
		if (m->rr[i].type == SC_T_OPT) {
			continue;
		}
		if (n >= max) {
			return -E2BIG;
		}
		ret_off[n++] = m->rr[i].ttl_off;
	}
	return (int)n;
}

/*
 * ASCII lower-casing of 8 bytes at once (SWAR): a byte gets 0x20 added
 * when it is 'A'..'Z', exactly as lc() does; bytes from 0x80 up are left
 * alone (the high bit is masked off for the range test, then required
 * clear), and so are label lengths, which are below 0x40.
 */
static inline uint64_t lc8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t t = x & (0x7f * ones);
	uint64_t ge_a = t + (0x80 - 'A') * ones;     /* bit 7: t >= 'A' */
	uint64_t gt_z = t + (0x80 - 'Z' - 1) * ones; /* bit 7: t > 'Z' */
	uint64_t upper = ge_a & ~gt_z & ~x & (0x80 * ones);

	return x | upper >> 2;
}

/*
 * Put the caller's spelling of the question name over the stored one.
 * Only done when the two are the same name up to case: the cache key
 * guarantees it, but a wrong name of the same length would silently turn
 * the answer into an answer for another name, so the bytes are checked,
 * eight at a time (a short walk of the caller's labels and three words
 * for a typical SIP name; no parse of the stored message).
 */
static void qname_patch(const unsigned char *stored, size_t len,
			const unsigned char *qname, unsigned char *out,
			size_t n)
{
	const unsigned char *s = stored + SC_DNS_HDRLEN;
	size_t l = 0, i;

	/* (the caller copied more than the header: n > 12, len >= n) */
	if (get16(stored + 4) != 1) {
		return;
	}
	while (qname[l] != 0) {
		if (qname[l] > 63 || l + 1 + qname[l] + 1 > SC_DNS_MAXNAME) {
			return;
		}
		l += 1 + qname[l];
	}
	l++;
	if (l > len - SC_DNS_HDRLEN) {
		return;
	}
	/* Equal after folding means equal label lengths (never folded)
	 * and equal letters up to case: the stored name is that name. */
	for (i = 0; i < l; i += 8) {
		uint64_t a = 0, b = 0;

		if (l - i >= 8) {
			memcpy(&a, s + i, 8);
			memcpy(&b, qname + i, 8);
		} else {
			memcpy(&a, s + i, l - i);
			memcpy(&b, qname + i, l - i);
		}
		if (lc8(a) != lc8(b)) {
			return;
		}
	}
	memcpy(out + SC_DNS_HDRLEN, qname, l < n - SC_DNS_HDRLEN ? l : n - SC_DNS_HDRLEN);
}

size_t sc_dns_rewrite(const unsigned char *stored, size_t len,
		      const struct sc_rewrite *rw, unsigned char *out,
		      size_t outlen)
{
	size_t n = len < outlen ? len : outlen;
	unsigned char v[4];
	unsigned i;

	if (n == 0) {
		return 0;
	}
	/* stored == out rewrites in place. */
	if (out != stored) {
		memcpy(out, stored, n);
	}
	/* Each patch writes what the full rewrite would hold in the bytes
	 * that were copied: a short buffer gets a prefix of the answer the
	 * caller would have seen with a large one, like a short read. */
	put16(v, rw->id);
	memcpy(out, v, n < 2 ? n : 2);
	if (rw->qname != NULL && n > SC_DNS_HDRLEN) {
		qname_patch(stored, len, rw->qname, out, n);
	}
	for (i = 0; i < rw->nttl; i++) {
		size_t off = rw->ttl_off[i];
		uint32_t ttl;

		if (off >= n || len - off < 4) {
			continue;
		}
		ttl = get32(stored + off);
		/* RFC 2181 8: a TTL with the top bit set means zero. */
		if (ttl & 0x80000000u) {
			ttl = 0;
		}
		if (ttl > rw->ttl_cap) {
			ttl = rw->ttl_cap;
		}
		if (n - off >= 4) {
			put32(out + off, ttl);
		} else {
			put32(v, ttl);
			memcpy(out + off, v, n - off);
		}
	}
	return n;
}

/*
 * ctl_text.c - how sipcachectl writes DNS data: type and class names,
 * records in zone-file presentation (as dig and kdig print an answer
 * section), and JSON strings.
 *
 * Records come from messages that shim/sc_dns.c has validated (every
 * RDLENGTH checked against its type, every name within bounds), so the
 * formatting below can trust the layout; it still never reads past
 * RDLENGTH, and a record whose RDATA does not read as its type is printed
 * in the RFC 3597 generic form (\# LENGTH HEX) rather than guessed at.
 *
 * The presentation follows what kdig 3.2 prints, so that an integration
 * test can compare `sipcachectl get' with `kdig' answer for answer:
 * names with their trailing dot, character-strings quoted with `"' and
 * `\' escaped and bytes outside printable ASCII as \DDD (RFC 1035 5.1).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
	{ "A", 1 },        { "NS", 2 },       { "CNAME", 5 },    { "SOA", 6 },
	{ "PTR", 12 },     { "HINFO", 13 },   { "MX", 15 },      { "TXT", 16 },
	{ "AAAA", 28 },    { "LOC", 29 },     { "SRV", 33 },     { "NAPTR", 35 },
	{ "DNAME", 39 },   { "OPT", 41 },     { "DS", 43 },      { "SSHFP", 44 },
	{ "RRSIG", 46 },   { "NSEC", 47 },    { "DNSKEY", 48 },  { "TLSA", 52 },
	{ "SVCB", 64 },    { "HTTPS", 65 },   { "SPF", 99 },     { "ANY", 255 },
	{ "URI", 256 },    { "CAA", 257 },
};

const char *ctl_type_name(uint16_t type, char buf[CTL_TYPE_NAMELEN])
{
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(types); i++) {
		if (types[i].type == type) {
			return types[i].name;
		}
	}
	snprintf(buf, CTL_TYPE_NAMELEN, "TYPE%u", type);
	return buf;
}

static int parse_u16(const char *s, uint16_t *ret)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)s[0])) {
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535) {
		return -EINVAL;
	}
	*ret = (uint16_t)v;
	return 0;
}

int ctl_type_parse(const char *s, uint16_t *ret)
{
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(types); i++) {
		if (strcasecmp(s, types[i].name) == 0) {
			*ret = types[i].type;
			return 0;
		}
	}
	if (strncasecmp(s, "TYPE", 4) == 0) {
		s += 4;
	}
	/* Type 0 is reserved and OPT (41) is no question one can ask. */
	if (parse_u16(s, ret) < 0 || *ret == 0 || *ret == SC_T_OPT) {
		return -EINVAL;
	}
	return 0;
}

const char *ctl_class_name(uint16_t class, char buf[CTL_TYPE_NAMELEN])
{
	switch (class) {
	case 1:
		return "IN";
	case 3:
		return "CH";
	case 4:
		return "HS";
	default:
		snprintf(buf, CTL_TYPE_NAMELEN, "CLASS%u", class);
		return buf;
	}
}

int ctl_name_text(const unsigned char *wire, char *out, size_t outlen)
{
	int n = sc_dns_name_to_text(wire, out, outlen);

	if (n < 0) {
		return n;
	}
	if (strcmp(out, ".") == 0) {
		return n;
	}
	if ((size_t)n + 2 > outlen) {
		return -ENOSPC;
	}
	out[n++] = '.';
	out[n] = '\0';
	return n;
}

int ctl_name_parse(const char *text, unsigned char *out)
{
	/* An empty argument is a mistake on a command line, not the root. */
	if (text[0] == '\0') {
		return -EINVAL;
	}
	return sc_dns_name_from_text(text, out, SC_DNS_MAXNAME) < 0 ? -EINVAL : 0;
}

/* ------------------------------------------------------------------ */
/* RDATA                                                               */

/* Cursor over one record's RDATA. */
struct rd {
	const struct sc_msg *m;
	size_t pos, end;
	bool bad;
};

static unsigned rd_u8(struct rd *r)
{
	if (r->pos + 1 > r->end) {
		r->bad = true;
		return 0;
	}
	return r->m->buf[r->pos++];
}

static unsigned rd_u16(struct rd *r)
{
	unsigned v;

	if (r->pos + 2 > r->end) {
		r->bad = true;
		return 0;
	}
	v = (unsigned)r->m->buf[r->pos] << 8 | r->m->buf[r->pos + 1];
	r->pos += 2;
	return v;
}

static unsigned long rd_u32(struct rd *r)
{
	unsigned long v = (unsigned long)rd_u16(r) << 16;

	return v | rd_u16(r);
}

/* A domain name (compression allowed: the message is at hand). */
static void rd_name(struct rd *r, char *out, size_t outlen)
{
	unsigned char wire[SC_DNS_MAXNAME];
	size_t next;

	out[0] = '\0';
	if (r->bad || sc_dns_name_expand(r->m->buf, r->m->len, r->pos, wire, &next) < 0 ||
	    next > r->end || ctl_name_text(wire, out, outlen) < 0) {
		r->bad = true;
		return;
	}
	r->pos = next;
}

/* A <character-string>, quoted, into a memory stream. */
static void rd_string(struct rd *r, FILE *f)
{
	unsigned n = rd_u8(r), i;

	if (r->bad || r->pos + n > r->end) {
		r->bad = true;
		return;
	}
	fputc('"', f);
	for (i = 0; i < n; i++) {
		unsigned char c = r->m->buf[r->pos + i];

		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20 || c >= 0x7f) {
			fprintf(f, "\\%03u", c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
	r->pos += n;
}

/* The RDATA of `rr' in presentation form into `f'; false when it does not
 * read as its type (the caller then prints the generic form). */
static bool rdata_typed(FILE *f, const struct sc_msg *m, const struct sc_rr *rr)
{
	struct rd r = { .m = m, .pos = rr->rdata_off, .end = (size_t)rr->rdata_off + rr->rdlen };
	char a[SC_DNS_MAXTEXT + 1], b[SC_DNS_MAXTEXT + 1];
	char ip[INET6_ADDRSTRLEN];
	unsigned p1, p2, p3;

	if (rr->class != SC_C_IN && (rr->type == SC_T_A || rr->type == SC_T_AAAA)) {
		return false;   /* addresses are IN's; other classes' are not */
	}
	switch (rr->type) {
	case SC_T_A:
	case SC_T_AAAA:
		if (rr->rdlen != (rr->type == SC_T_A ? 4 : 16) ||
		    inet_ntop(rr->type == SC_T_A ? AF_INET : AF_INET6, m->buf + rr->rdata_off,
			      ip, sizeof(ip)) == NULL) {
			return false;
		}
		fputs(ip, f);
		return true;
	case SC_T_NS:
	case SC_T_CNAME:
	case SC_T_PTR:
	case 39: /* DNAME */
		rd_name(&r, a, sizeof(a));
		if (r.bad || r.pos != r.end) {
			return false;
		}
		fputs(a, f);
		return true;
	case SC_T_MX:
		p1 = rd_u16(&r);
		rd_name(&r, a, sizeof(a));
		if (r.bad || r.pos != r.end) {
			return false;
		}
		fprintf(f, "%u %s", p1, a);
		return true;
	case SC_T_SOA: {
		unsigned long v[5];
		unsigned i;

		rd_name(&r, a, sizeof(a));
		rd_name(&r, b, sizeof(b));
		for (i = 0; i < 5; i++) {
			v[i] = rd_u32(&r);
		}
		if (r.bad || r.pos != r.end) {
			return false;
		}
		fprintf(f, "%s %s %lu %lu %lu %lu %lu", a, b, v[0], v[1], v[2], v[3], v[4]);
		return true;
	}
	case SC_T_TXT:
	case 99: /* SPF */
		if (rr->rdlen == 0) {
			return false;
		}
		while (!r.bad && r.pos < r.end) {
			if (r.pos > rr->rdata_off) {
				fputc(' ', f);
			}
			rd_string(&r, f);
		}
		return !r.bad;
	case SC_T_SRV:
		p1 = rd_u16(&r);
		p2 = rd_u16(&r);
		p3 = rd_u16(&r);
		rd_name(&r, a, sizeof(a));
		if (r.bad || r.pos != r.end) {
			return false;
		}
		fprintf(f, "%u %u %u %s", p1, p2, p3, a);
		return true;
	case SC_T_NAPTR:
		p1 = rd_u16(&r);
		p2 = rd_u16(&r);
		fprintf(f, "%u %u ", p1, p2);
		rd_string(&r, f);     /* flags */
		fputc(' ', f);
		rd_string(&r, f);     /* services */
		fputc(' ', f);
		rd_string(&r, f);     /* regexp */
		rd_name(&r, a, sizeof(a));
		if (r.bad || r.pos != r.end) {
			return false;
		}
		fprintf(f, " %s", a);
		return true;
	default:
		return false;
	}
}

void ctl_rr_print(FILE *f, const struct sc_msg *m, const struct sc_rr *rr, bool rdata_only)
{
	unsigned char wire[SC_DNS_MAXNAME];
	char name[SC_DNS_MAXTEXT + 1], tb[CTL_TYPE_NAMELEN], cb[CTL_TYPE_NAMELEN];
	char *text = NULL;
	size_t textlen = 0;
	FILE *mem;
	bool ok;

	/* RDATA first, into memory: a type whose RDATA does not parse must
	 * not leave half a line behind. */
	mem = open_memstream(&text, &textlen);
	if (mem == NULL) {
		return;
	}
	ok = rdata_typed(mem, m, rr);
	if (!ok) {
		unsigned i;

		rewind(mem);
		fprintf(mem, "\\# %u", rr->rdlen);
		if (rr->rdlen) {
			fputc(' ', mem);
		}
		for (i = 0; i < rr->rdlen; i++) {
			fprintf(mem, "%02X", m->buf[rr->rdata_off + i]);
		}
	}
	/* rewind() does not cut the stream: end it where we stopped. */
	fputc('\0', mem);
	fclose(mem);
	if (rdata_only) {
		fprintf(f, "%s\n", text);
		free(text);
		return;
	}
	if (sc_dns_name_expand(m->buf, m->len, rr->name_off, wire, NULL) < 0 ||
	    ctl_name_text(wire, name, sizeof(name)) < 0) {
		snprintf(name, sizeof(name), "?");
	}
	fprintf(f, "%s\t%u\t%s\t%s\t%s\n", name, sc_policy_rr_ttl(rr->ttl),
		ctl_class_name(rr->class, cb), ctl_type_name(rr->type, tb), text);
	free(text);
}

void ctl_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else {
			/* Bytes from 0x80 pass as they are: names are ASCII
			 * (sc_dns_name_to_text escapes the rest as \DDD), and
			 * a UTF-8 path stays a valid UTF-8 string. */
			fputc(c, f);
		}
	}
	fputc('"', f);
}

int ctl_message_length(const unsigned char *buf, size_t len)
{
	const unsigned char *eom = buf + len, *p;
	unsigned qd, counts[3], i;
	int n;

	if (len < SC_DNS_HDRLEN) {
		return -EBADMSG;
	}
	qd = (unsigned)buf[4] << 8 | buf[5];
	for (i = 0; i < 3; i++) {
		counts[i] = (unsigned)buf[6 + 2 * i] << 8 | buf[7 + 2 * i];
	}
	p = buf + SC_DNS_HDRLEN;
	/* libresolv's own walk of sections (ns_skiprr), the one our callers'
	 * libresolv used to accept the message. */
	n = ns_skiprr(p, eom, ns_s_qd, (int)qd);
	if (n < 0) {
		return -EBADMSG;
	}
	p += n;
	for (i = 0; i < 3; i++) {
		n = ns_skiprr(p, eom, (ns_sect)(ns_s_an + i), (int)counts[i]);
		if (n < 0) {
			return -EBADMSG;
		}
		p += n;
	}
	return (int)(p - buf);
}

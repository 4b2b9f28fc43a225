/* sip_zone.c - see sip_zone.h.  Aborts on misuse: it is test code. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sip_zone.h"
#include "testmsg.h"

#define MAXZONES 8
#define MAXCOUNT 2048
#define MAXFAIL 32
#define MAXTOK 64

struct zrr {
	unsigned char owner[NS_MAXCDNAME];   /* wire, lower case */
	char owner_text[NS_MAXDNAME];        /* absolute, as written */
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	unsigned char rdata[1200];
};

struct zcount {
	unsigned char name[NS_MAXCDNAME];
	uint16_t type;
	unsigned n;
};

struct sipzone {
	struct zrr *rr;
	unsigned nrr, cap;
	unsigned nzones;
	unsigned char origin[MAXZONES][NS_MAXCDNAME];
	char origin_text[MAXZONES][NS_MAXDNAME];
	unsigned soa[MAXZONES];              /* index of each zone's SOA */
	unsigned ncount;
	struct zcount count[MAXCOUNT];
	unsigned nfail;
	struct {
		unsigned char name[NS_MAXCDNAME];
		uint16_t type;
	} fail[MAXFAIL];
};

static struct sipzone *current;

static void die(const char *what, const char *detail) __attribute__((noreturn));

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "sip_zone: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

/* ------------------------------------------------------------------ */
/* names                                                               */

static size_t wire_len(const unsigned char *w)
{
	size_t n = 0;

	while (w[n] != 0) {
		n += 1u + w[n];
	}
	return n + 1;
}

static void wire_lower(unsigned char *w)
{
	size_t i = 0;

	while (w[i] != 0) {
		size_t l = w[i], k;

		for (k = 1; k <= l; k++) {
			w[i + k] = (unsigned char)tolower(w[i + k]);
		}
		i += 1 + l;
	}
}

/* Text to lower-case wire (libresolv's reading of escapes). */
static void to_wire(const char *text, unsigned char *out)
{
	if (ns_name_pton(text, out, NS_MAXCDNAME) < 0) {
		die("bad name", text);
	}
	wire_lower(out);
}

static bool wire_eq(const unsigned char *a, const unsigned char *b)
{
	size_t n = wire_len(a);

	return n == wire_len(b) && memcmp(a, b, n) == 0;
}

/* Is `name' at or below `suffix' (both lower-case wire)? */
static bool wire_under(const unsigned char *name, const unsigned char *suffix)
{
	size_t nl = wire_len(name), sl = wire_len(suffix), i = 0;

	while (nl - i > sl) {
		i += 1u + name[i];
	}
	return nl - i == sl && memcmp(name + i, suffix, sl) == 0;
}

/* ------------------------------------------------------------------ */
/* zone files                                                          */

struct tok {
	char s[1100];
	size_t len;
	bool quoted;
};

struct parser {
	struct sipzone *z;
	const char *path;
	char origin[NS_MAXDNAME];
	uint32_t ttl;
	char owner[sizeof(((struct tok *)0)->s)];
	int zone;
};

static void absolute(const struct parser *p, const char *name, char *out)
{
	char buf[2 * sizeof(((struct tok *)0)->s) + NS_MAXDNAME];
	size_t n = strlen(name);

	if (strcmp(name, "@") == 0) {
		snprintf(buf, sizeof(buf), "%s", p->origin);
	} else if (n > 0 && name[n - 1] == '.') {
		snprintf(buf, sizeof(buf), "%s", name);
	} else {
		snprintf(buf, sizeof(buf), "%s.%s", name, p->origin);
	}
	if (strlen(buf) >= NS_MAXDNAME) {
		die("name too long", name);
	}
	memcpy(out, buf, strlen(buf) + 1);
}

static size_t put_name(const struct parser *p, const char *text, unsigned char *out)
{
	char abs[NS_MAXDNAME];
	unsigned char w[NS_MAXCDNAME];
	size_t n;

	absolute(p, text, abs);
	if (ns_name_pton(abs, w, sizeof(w)) < 0) {
		die("bad name in rdata", abs);
	}
	n = wire_len(w);
	memcpy(out, w, n);
	return n;
}

static unsigned long number(const struct tok *t)
{
	char *end;
	unsigned long v = strtoul(t->s, &end, 10);

	if (t->quoted || *end != '\0' || t->len == 0) {
		die("number expected", t->s);
	}
	return v;
}

static void put16(unsigned char *p, unsigned long v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, unsigned long v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void add_record(struct parser *p, const char *owner, const char *type,
		       const struct tok *rd, unsigned nrd, uint32_t ttl)
{
	struct sipzone *z = p->z;
	struct zrr *r;
	size_t n = 0;
	unsigned i;

	if (z->nrr == z->cap) {
		z->cap = z->cap ? z->cap * 2 : 64;
		z->rr = realloc(z->rr, z->cap * sizeof(*z->rr));
		if (z->rr == NULL) {
			die("out of memory", NULL);
		}
	}
	r = &z->rr[z->nrr];
	memset(r, 0, sizeof(*r));
	absolute(p, owner, r->owner_text);
	to_wire(r->owner_text, r->owner);
	r->ttl = ttl;
	if (strcasecmp(type, "A") == 0 || strcasecmp(type, "AAAA") == 0) {
		bool v4 = strcasecmp(type, "A") == 0;

		r->type = v4 ? ns_t_a : ns_t_aaaa;
		if (nrd != 1 || inet_pton(v4 ? AF_INET : AF_INET6, rd[0].s, r->rdata) != 1) {
			die("bad address", rd[0].s);
		}
		n = v4 ? 4 : 16;
	} else if (strcasecmp(type, "NS") == 0 || strcasecmp(type, "CNAME") == 0 ||
		   strcasecmp(type, "PTR") == 0) {
		r->type = strcasecmp(type, "NS") == 0 ? ns_t_ns :
			  strcasecmp(type, "CNAME") == 0 ? ns_t_cname : ns_t_ptr;
		n = put_name(p, rd[0].s, r->rdata);
	} else if (strcasecmp(type, "SOA") == 0) {
		r->type = ns_t_soa;
		if (nrd != 7) {
			die("SOA needs 7 fields", owner);
		}
		n = put_name(p, rd[0].s, r->rdata);
		n += put_name(p, rd[1].s, r->rdata + n);
		for (i = 2; i < 7; i++, n += 4) {
			put32(r->rdata + n, number(&rd[i]));
		}
		z->soa[p->zone] = z->nrr;
	} else if (strcasecmp(type, "SRV") == 0) {
		r->type = ns_t_srv;
		if (nrd != 4) {
			die("SRV needs 4 fields", owner);
		}
		for (i = 0; i < 3; i++) {
			put16(r->rdata + 2 * i, number(&rd[i]));
		}
		n = 6 + put_name(p, rd[3].s, r->rdata + 6);
	} else if (strcasecmp(type, "NAPTR") == 0) {
		r->type = ns_t_naptr;
		if (nrd != 6) {
			die("NAPTR needs 6 fields", owner);
		}
		put16(r->rdata, number(&rd[0]));
		put16(r->rdata + 2, number(&rd[1]));
		n = 4;
		for (i = 2; i < 5; i++) {
			if (rd[i].len > 255) {
				die("string too long", rd[i].s);
			}
			r->rdata[n++] = (unsigned char)rd[i].len;
			memcpy(r->rdata + n, rd[i].s, rd[i].len);
			n += rd[i].len;
		}
		n += put_name(p, rd[5].s, r->rdata + n);
	} else if (strcasecmp(type, "TXT") == 0) {
		r->type = ns_t_txt;
		for (i = 0; i < nrd; i++) {
			r->rdata[n++] = (unsigned char)rd[i].len;
			memcpy(r->rdata + n, rd[i].s, rd[i].len);
			n += rd[i].len;
		}
	} else {
		die("type not supported", type);
	}
	r->rdlen = (uint16_t)n;
	z->nrr++;
}

static bool is_number(const struct tok *t)
{
	size_t i;

	if (t->quoted || t->len == 0) {
		return false;
	}
	for (i = 0; i < t->len; i++) {
		if (!isdigit((unsigned char)t->s[i])) {
			return false;
		}
	}
	return true;
}

static void line(struct parser *p, struct tok *t, unsigned n, bool blank_owner)
{
	unsigned i = 0;
	uint32_t ttl = p->ttl;

	if (n == 0) {
		return;
	}
	if (!t[0].quoted && strcmp(t[0].s, "$ORIGIN") == 0) {
		absolute(p, t[1].s, p->origin);
		if (p->zone < 0) {
			struct sipzone *z = p->z;

			if (z->nzones == MAXZONES) {
				die("too many zones", p->path);
			}
			p->zone = (int)z->nzones++;
			snprintf(z->origin_text[p->zone], NS_MAXDNAME, "%s", p->origin);
			to_wire(p->origin, z->origin[p->zone]);
		}
		return;
	}
	if (!t[0].quoted && strcmp(t[0].s, "$TTL") == 0) {
		p->ttl = (uint32_t)number(&t[1]);
		return;
	}
	if (p->zone < 0) {
		die("record before $ORIGIN", p->path);
	}
	if (!blank_owner) {
		snprintf(p->owner, sizeof(p->owner), "%s", t[i++].s);
	}
	for (; i < n; i++) {
		if (is_number(&t[i])) {
			ttl = (uint32_t)number(&t[i]);
		} else if (strcasecmp(t[i].s, "IN") != 0) {
			break;
		}
	}
	if (i >= n) {
		die("no type", p->owner);
	}
	add_record(p, p->owner, t[i].s, t + i + 1, n - i - 1, ttl);
}

static void parse(struct sipzone *z, const char *path, const char *buf)
{
	struct parser p = { .z = z, .path = path, .ttl = 3600, .zone = -1 };
	struct tok *t = calloc(MAXTOK, sizeof(*t));
	unsigned n = 0, depth = 0;
	bool blank_owner = false, at_line_start = true;
	const char *s = buf;

	if (t == NULL) {
		die("out of memory", NULL);
	}
	for (;;) {
		char c = *s;

		if (at_line_start) {
			blank_owner = c == ' ' || c == '\t';
			at_line_start = false;
		}
		if (c == '\0' || (c == '\n' && depth == 0)) {
			line(&p, t, n, blank_owner);
			n = 0;
			if (c == '\0') {
				break;
			}
			s++;
			at_line_start = true;
			continue;
		}
		if (c == ';') {
			s += strcspn(s, "\n");
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			s++;
			continue;
		}
		if (c == '(' || c == ')') {
			depth += c == '(' ? 1 : (unsigned)-1;
			s++;
			continue;
		}
		if (n == MAXTOK) {
			die("line too long", path);
		}
		memset(&t[n], 0, sizeof(t[n]));
		if (c == '"') {
			/* A string: \X is X, \DDD the byte DDD. */
			t[n].quoted = true;
			for (s++; *s && *s != '"'; s++) {
				unsigned char v = (unsigned char)*s;

				if (*s == '\\') {
					if (isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
					    isdigit((unsigned char)s[3])) {
						v = (unsigned char)((s[1] - '0') * 100 + (s[2] - '0') * 10 +
								    (s[3] - '0'));
						s += 3;
					} else {
						v = (unsigned char)*++s;
					}
				}
				if (t[n].len + 1 >= sizeof(t[n].s)) {
					die("string too long", path);
				}
				t[n].s[t[n].len++] = (char)v;
			}
			if (*s == '"') {
				s++;
			}
		} else {
			while (*s && !strchr(" \t\r\n;()\"", *s)) {
				if (t[n].len + 1 >= sizeof(t[n].s)) {
					die("token too long", path);
				}
				t[n].s[t[n].len++] = *s++;
			}
		}
		t[n].s[t[n].len] = '\0';
		n++;
	}
	free(t);
}

struct sipzone *sipzone_load(const char *const *paths, unsigned n)
{
	struct sipzone *z = calloc(1, sizeof(*z));
	unsigned i;

	if (z == NULL) {
		die("out of memory", NULL);
	}
	for (i = 0; i < n; i++) {
		FILE *f = fopen(paths[i], "r");
		char *buf;
		long len;

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) != 0) {
			die("cannot read", paths[i]);
		}
		buf = calloc(1, (size_t)len + 1);
		if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
			die("cannot read", paths[i]);
		}
		fclose(f);
		parse(z, paths[i], buf);
		free(buf);
	}
	return z;
}

void sipzone_free(struct sipzone *z)
{
	if (current == z) {
		current = NULL;
	}
	free(z->rr);
	free(z);
}

/* ------------------------------------------------------------------ */
/* answers                                                             */

static int zone_of(const struct sipzone *z, const unsigned char *name)
{
	int best = -1;
	unsigned i;

	for (i = 0; i < z->nzones; i++) {
		if (wire_under(name, z->origin[i]) &&
		    (best < 0 || wire_len(z->origin[i]) > wire_len(z->origin[best]))) {
			best = (int)i;
		}
	}
	return best;
}

static bool exists(const struct sipzone *z, const unsigned char *name)
{
	unsigned i;

	for (i = 0; i < z->nrr; i++) {
		if (wire_under(z->rr[i].owner, name)) {
			return true;
		}
	}
	return false;
}

static void count(struct sipzone *z, const unsigned char *name, uint16_t type)
{
	unsigned i;

	for (i = 0; i < z->ncount; i++) {
		if (z->count[i].type == type && wire_eq(z->count[i].name, name)) {
			z->count[i].n++;
			return;
		}
	}
	if (z->ncount == MAXCOUNT) {
		die("too many distinct questions", NULL);
	}
	memcpy(z->count[z->ncount].name, name, wire_len(name));
	z->count[z->ncount].type = type;
	z->count[z->ncount].n = 1;
	z->ncount++;
}

int sipzone_answer(struct sipzone *z, const char *qname, uint16_t qtype, unsigned char *buf,
		   size_t buflen, unsigned *ret_rcode)
{
	static struct tmsg m;
	unsigned char name[NS_MAXCDNAME], q[NS_MAXCDNAME];
	unsigned an[64], nan = 0, i, k, hop;
	unsigned rcode = ns_r_noerror;
	bool found = false;
	int zone;

	to_wire(qname, q);
	count(z, q, qtype);
	memcpy(name, q, wire_len(q));
	zone = zone_of(z, name);
	for (i = 0; i < z->nfail; i++) {
		if (wire_eq(z->fail[i].name, q) && (z->fail[i].type == 0 || z->fail[i].type == qtype)) {
			rcode = ns_r_servfail;
		}
	}
	if (zone < 0 && rcode == ns_r_noerror) {
		rcode = ns_r_refused;
	}
	if (rcode != ns_r_noerror) {
		tmsg_begin(&m, 0x5a5a, qname, qtype, rcode);
		goto out;
	}
	/* The chain, as an authoritative server follows it in its zones. */
	for (hop = 0; hop < 8 && !found; hop++) {
		unsigned cname = z->nrr;

		for (i = 0; i < z->nrr; i++) {
			if (!wire_eq(z->rr[i].owner, name)) {
				continue;
			}
			if (z->rr[i].type == qtype) {
				an[nan++] = i;
				found = true;
			} else if (z->rr[i].type == ns_t_cname) {
				cname = i;
			}
		}
		if (found || cname == z->nrr || qtype == ns_t_cname) {
			break;
		}
		an[nan++] = cname;
		memcpy(name, z->rr[cname].rdata, z->rr[cname].rdlen);
		wire_lower(name);
		if (zone_of(z, name) < 0) {
			break;
		}
	}
	if (!found && zone_of(z, name) >= 0) {
		rcode = exists(z, name) ? ns_r_noerror : ns_r_nxdomain;
	}
	tmsg_begin(&m, 0x5a5a, qname, qtype, rcode);
	tmsg_flags(&m, 0x0400);   /* AA */
	for (i = 0; i < nan; i++) {
		const struct zrr *r = &z->rr[an[i]];

		tmsg_rr(&m, 0, r->owner_text, r->type, r->ttl, r->rdata, r->rdlen);
	}
	if (!found && zone_of(z, name) >= 0) {
		const struct zrr *soa = &z->rr[z->soa[zone_of(z, name)]];

		tmsg_rr(&m, 1, soa->owner_text, soa->type, soa->ttl, soa->rdata, soa->rdlen);
	}
	if (found && qtype == ns_t_srv) {
		/* Knot's additional records: the targets' addresses. */
		for (i = 0; i < nan; i++) {
			const struct zrr *r = &z->rr[an[i]];
			unsigned char target[NS_MAXCDNAME];

			if (r->type != ns_t_srv) {
				continue;
			}
			memcpy(target, r->rdata + 6, wire_len(r->rdata + 6));
			wire_lower(target);
			for (k = 0; k < z->nrr; k++) {
				const struct zrr *a = &z->rr[k];

				if ((a->type == ns_t_a || a->type == ns_t_aaaa) &&
				    wire_eq(a->owner, target)) {
					tmsg_rr(&m, 2, a->owner_text, a->type, a->ttl, a->rdata,
						a->rdlen);
				}
			}
		}
	}
out:
	if (m.len > buflen) {
		die("answer does not fit", qname);
	}
	memcpy(buf, m.buf, m.len);
	*ret_rcode = rcode;
	return (int)m.len;
}

void sipzone_servfail(struct sipzone *z, const char *name, uint16_t type)
{
	if (z->nfail == MAXFAIL) {
		die("too many failures", name);
	}
	to_wire(name, z->fail[z->nfail].name);
	z->fail[z->nfail].type = type;
	z->nfail++;
}

unsigned sipzone_count(struct sipzone *z, const char *name, uint16_t type)
{
	unsigned char w[NS_MAXCDNAME];
	unsigned i, n = 0;

	if (name) {
		to_wire(name, w);
	}
	for (i = 0; i < z->ncount; i++) {
		if ((name == NULL || wire_eq(z->count[i].name, w)) &&
		    (type == 0 || z->count[i].type == type)) {
			n += z->count[i].n;
		}
	}
	return n;
}

unsigned sipzone_max(struct sipzone *z)
{
	unsigned i, n = 0;

	for (i = 0; i < z->ncount; i++) {
		n = z->count[i].n > n ? z->count[i].n : n;
	}
	return n;
}

void sipzone_reset(struct sipzone *z)
{
	z->ncount = 0;
}

void sipzone_use(struct sipzone *z)
{
	current = z;
}

static int query(const char *dname, int class, int type, unsigned char *answer, int anslen,
		 int *ret_herrno)
{
	static unsigned char buf[8192];
	unsigned rcode;
	int n;

	if (current == NULL) {
		die("sipzone_use() first", NULL);
	}
	if (class != ns_c_in || type < 0 || type > 0xffff) {
		*ret_herrno = NO_RECOVERY;
		return -1;
	}
	n = sipzone_answer(current, dname, (uint16_t)type, buf, sizeof(buf), &rcode);
	memcpy(answer, buf, (size_t)n < (size_t)anslen ? (size_t)n : (size_t)anslen);
	if (rcode == ns_r_noerror && (buf[6] | buf[7]) != 0) {
		*ret_herrno = 0;
		return n;
	}
	/* libresolv's reading of the response (res_query.c). */
	*ret_herrno = rcode == ns_r_nxdomain ? HOST_NOT_FOUND :
		      rcode == ns_r_servfail ? TRY_AGAIN :
		      rcode == ns_r_noerror ? NO_DATA : NO_RECOVERY;
	return -1;
}

int sipzone_res_query(const char *dname, int class, int type, unsigned char *answer,
		      int anslen)
{
	int herrno, n = query(dname, class, type, answer, anslen, &herrno);

	if (n < 0) {
		h_errno = herrno;
	}
	return n;
}

int sipzone_res_nquery(res_state statp, const char *dname, int class, int type,
		       unsigned char *answer, int anslen)
{
	int herrno, n = query(dname, class, type, answer, anslen, &herrno);

	if (n < 0) {
		statp->res_h_errno = herrno;
		h_errno = herrno;
	}
	return n;
}

const char *sipzone_path(const char *name, char *buf, size_t buflen)
{
	const char *env = getenv("SIPCACHE_TEST_ZONES");
	char dir[512];
	const char *slash;

	if (env && env[0]) {
		snprintf(buf, buflen, "%s/%s", env, name);
		return buf;
	}
	/* __FILE__ is tests/helpers/sip_zone.c as the Makefile compiles it:
	 * the zones are two levels up, then integration/zones. */
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	slash = strrchr(dir, '/');
	if (slash) {
		dir[slash - dir] = '\0';
		slash = strrchr(dir, '/');
	}
	if (slash) {
		dir[slash - dir] = '\0';
		snprintf(buf, buflen, "%s/integration/zones/%s", dir, name);
	} else {
		snprintf(buf, buflen, "tests/integration/zones/%s", name);
	}
	return buf;
}

/*
 * faults_stress - one process of `make stress' (tests/stress/run): threads
 * asking questions through whatever front end the process has (the
 * preload, the NSS module, or none), each answer checked against the
 * authoritative server's.
 *
 *   faults_stress [-t THREADS] [-d SECONDS] [-s SEED] [-S SERVER]
 *                 [-m MARKABLE]... [-w WILD] [-q] QUESTION...
 *
 * QUESTION is NAME/TYPE (TYPE: A, AAAA, SRV, NAPTR, TXT, CNAME, MX, NS,
 * SOA, PTR or a number), asked with res_query, res_nquery (a state per
 * thread) or res_search, the name in random letter case; or addr/NAME,
 * asked with getaddrinfo (AF_UNSPEC) or gethostbyname_r.  With -w WILD
 * (a wildcard domain such as wild.sip.test), one question in eight is a
 * name below it that nobody asked before: a miss, and a store.
 *
 * The reference.  Before the threads start, every question is sent once
 * to SERVER (default 127.0.0.1, port 53) by this program itself, over a
 * plain UDP socket with EDNS (4096 bytes), which no front end intercepts:
 * the authoritative answer.  (Names below WILD are asked the same way
 * when they come up.)  An answer through the front end must then have:
 *   - the rcode of the reference (NXDOMAIN: -1 with HOST_NOT_FOUND;
 *     NOERROR without records of the type: -1 with NO_DATA);
 *   - the question as the caller spelt it, letter for letter;
 *   - the same answer section, as a set of records (owner, class, type,
 *     RDATA, each as text; names compared without case), TTLs and order
 *     aside;
 *   - every TTL no higher than the reference's;
 *   - for addr/NAME: the addresses of the reference's A and AAAA answers
 *     (getaddrinfo) or A answer (gethostbyname_r, with the end of the
 *     CNAME chain as h_name).
 * Records whose target (SRV) or address (A, AAAA) is one of the MARKABLE
 * targets (what `sipcachectl down' marks during the run) may be missing
 * while another remains: marked targets may be dropped from served
 * answers.  Nothing else may differ.
 *
 * Prints `ok LOOKUPS' (or `FAIL LOOKUPS FAILURES' and the first failures,
 * each with both answers) and exits 0 or 1.  -q: only failures.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <execinfo.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXQ 256
#define MAXRR 128
#define RRTEXT 600
#define MAXFAIL_SHOWN 10

enum kind {
	K_RES,   /* a res_* call */
	K_ADDR,  /* getaddrinfo / gethostbyname_r */
};

/* An answer reduced to what is compared. */
struct rrset {
	int rcode;           /* -1: no answer at all (reference failed) */
	int n;
	char rr[MAXRR][RRTEXT];   /* "owner class type rdata", lower case */
	uint32_t ttl[MAXRR];
};

struct question {
	enum kind kind;
	char name[256];
	int type;
	struct rrset ref;          /* K_RES: the reference */
	struct rrset ref_a, ref_aaaa;   /* K_ADDR */
};

static struct question qs[MAXQ];
static int nq;
static const char *markable[16];
static int nmarkable;
static const char *wild;
static struct sockaddr_in server;
static int duration = 10, quiet;
static unsigned seed;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long lookups, failures;

/* ------------------------------------------------------------------ */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&lock);
	if (failures++ < MAXFAIL_SHOWN) {
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		fflush(stdout);
	}
	pthread_mutex_unlock(&lock);
}

static uint32_t rnd(uint64_t *s)
{
	/* xorshift64*: per thread, no lock */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 0x2545F4914F6CDD1DULL) >> 32);
}

static void lower(char *s)
{
	for (; *s; s++) {
		*s = (char)tolower((unsigned char)*s);
	}
}

static int type_of(const char *t)
{
	static const struct {
		const char *name;
		int type;
	} types[] = {
		{ "A", ns_t_a }, { "AAAA", ns_t_aaaa }, { "SRV", ns_t_srv },
		{ "NAPTR", ns_t_naptr }, { "TXT", ns_t_txt }, { "CNAME", ns_t_cname },
		{ "MX", ns_t_mx }, { "NS", ns_t_ns }, { "SOA", ns_t_soa }, { "PTR", ns_t_ptr },
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcasecmp(t, types[i].name) == 0) {
			return types[i].type;
		}
	}
	return atoi(t);
}

/* snprintf at *o, never past len (a long record just fails the check). */
static void app(char *out, size_t *o, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void app(char *out, size_t *o, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*o >= len) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(out + *o, len - *o, fmt, ap);
	va_end(ap);
	*o += n > 0 ? (size_t)n : 0;
}

/* Append a name of the message at `p' (compressed or not), lower case,
 * with its trailing dot.  Returns the bytes it took at `p', or -1. */
static int put_name(const ns_msg *m, const unsigned char *p, char *out, size_t *o, size_t len)
{
	char name[NS_MAXDNAME];
	int n = dn_expand(ns_msg_base(*m), ns_msg_end(*m), p, name, sizeof(name));

	if (n < 0) {
		return -1;
	}
	app(out, o, len, " %s.", name[0] ? name : "");
	return n;
}

/* Character strings (TXT, NAPTR): each quoted, bytes as they are. */
static int put_string(const unsigned char *p, const unsigned char *end, char *out, size_t *o,
		      size_t len)
{
	if (p >= end || p + 1 + *p > end) {
		return -1;
	}
	app(out, o, len, " \"%.*s\"", *p, (const char *)p + 1);
	return 1 + *p;
}

/* "owner class type rdata", names in lower case: what is compared. */
static int rr_text(const ns_msg *m, const ns_rr *rr, char *out, size_t len)
{
	const unsigned char *p = ns_rr_rdata(*rr), *end = p + ns_rr_rdlen(*rr);
	char addr[INET6_ADDRSTRLEN];
	size_t o = 0;
	int n, k;

	app(out, &o, len, "%s. %d %d", ns_rr_name(*rr), ns_rr_class(*rr), ns_rr_type(*rr));
	switch (ns_rr_type(*rr)) {
	case ns_t_a:
	case ns_t_aaaa:
		if (!inet_ntop(ns_rr_type(*rr) == ns_t_a ? AF_INET : AF_INET6, p, addr,
			       sizeof(addr))) {
			return -1;
		}
		app(out, &o, len, " %s", addr);
		break;
	case ns_t_cname:
	case ns_t_ns:
	case ns_t_ptr:
		if (put_name(m, p, out, &o, len) < 0) {
			return -1;
		}
		break;
	case ns_t_mx:
		app(out, &o, len, " %u", ns_get16(p));
		if (put_name(m, p + 2, out, &o, len) < 0) {
			return -1;
		}
		break;
	case ns_t_srv:
		app(out, &o, len, " %u %u %u", ns_get16(p), ns_get16(p + 2),
				      ns_get16(p + 4));
		if (put_name(m, p + 6, out, &o, len) < 0) {
			return -1;
		}
		break;
	case ns_t_naptr:
		app(out, &o, len, " %u %u", ns_get16(p), ns_get16(p + 2));
		p += 4;
		for (k = 0; k < 3; k++) {
			if ((n = put_string(p, end, out, &o, len)) < 0) {
				return -1;
			}
			p += n;
		}
		if (put_name(m, p, out, &o, len) < 0) {
			return -1;
		}
		break;
	case ns_t_txt:
		while (p < end) {
			if ((n = put_string(p, end, out, &o, len)) < 0) {
				return -1;
			}
			p += n;
		}
		break;
	case ns_t_soa:
		if ((n = put_name(m, p, out, &o, len)) < 0) {
			return -1;
		}
		p += n;
		if ((n = put_name(m, p, out, &o, len)) < 0 || p + n + 20 != end) {
			return -1;
		}
		p += n;
		for (k = 0; k < 5; k++) {
			app(out, &o, len, " %lu", (unsigned long)ns_get32(p + 4 * k));
		}
		break;
	default:
		for (; p < end; p++) {
			app(out, &o, len, "%s%02x", p == ns_rr_rdata(*rr) ? " " : "",
					      *p);
		}
		break;
	}
	if (o >= len) {
		return -1;
	}
	lower(out);
	return 0;
}

/* The answer section of `msg' as a set of records in text.  Returns the
 * rcode, or -2 when the message does not parse. */
static int reduce(const unsigned char *msg, int len, struct rrset *ret)
{
	ns_msg m;
	ns_rr rr;
	int i;

	ret->n = 0;
	if (ns_initparse(msg, len, &m) < 0) {
		return -2;
	}
	ret->rcode = ns_msg_getflag(m, ns_f_rcode);
	for (i = 0; i < ns_msg_count(m, ns_s_an) && ret->n < MAXRR; i++) {
		if (ns_parserr(&m, ns_s_an, i, &rr) < 0 ||
		    rr_text(&m, &rr, ret->rr[ret->n], RRTEXT) < 0) {
			return -2;
		}
		ret->ttl[ret->n] = ns_rr_ttl(rr);
		ret->n++;
	}
	return ret->rcode;
}

/* The authoritative answer, over our own socket: nothing intercepts it. */
static int reference(const char *name, int type, struct rrset *ret)
{
	unsigned char q[512], a[4096];
	int qlen, fd, n, tries;
	struct pollfd p;

	ret->rcode = -1;
	ret->n = 0;
	/* res_mkquery is not interposed: it only builds bytes. */
	qlen = res_mkquery(ns_o_query, name, ns_c_in, type, NULL, 0, NULL, q, sizeof(q));
	if (qlen < 0 || qlen + 11 > (int)sizeof(q)) {
		return -1;
	}
	/* EDNS0, 4096 bytes: the whole answer over UDP. */
	q[11] = 1;
	memcpy(q + qlen, "\0\0\x29\x10\0\0\0\0\0\0\0", 11);
	qlen += 11;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	for (tries = 0; tries < 5; tries++) {
		if (sendto(fd, q, (size_t)qlen, 0, (struct sockaddr *)&server, sizeof(server)) != qlen) {
			break;
		}
		p.fd = fd;
		p.events = POLLIN;
		while (poll(&p, 1, 2000) == 1) {
			n = (int)recv(fd, a, sizeof(a), 0);
			if (n >= 12 && a[0] == q[0] && a[1] == q[1]) {
				close(fd);
				return reduce(a, n, ret) < 0 ? -1 : 0;
			}
		}
	}
	close(fd);
	return -1;
}

/* ------------------------------------------------------------------ */
/* comparison                                                          */

static int in_set(const struct rrset *s, const char *rr)
{
	int i;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->rr[i], rr) == 0) {
			return i;
		}
	}
	return -1;
}

/* May this reference record be missing (its target marked down)? */
static int droppable(const char *rr)
{
	const char *type, *last;
	int i;

	/* "owner 1 type rdata...": SRV (33), A (1), AAAA (28) */
	type = strchr(rr, ' ');
	type = type ? strchr(type + 1, ' ') : NULL;
	if (type == NULL) {
		return 0;
	}
	type++;
	if (strncmp(type, "33 ", 3) != 0 && strncmp(type, "1 ", 2) != 0 &&
	    strncmp(type, "28 ", 3) != 0) {
		return 0;
	}
	last = strrchr(rr, ' ') + 1;
	for (i = 0; i < nmarkable; i++) {
		size_t n = strlen(markable[i]);

		if (strncasecmp(last, markable[i], n) == 0 &&
		    (last[n] == '\0' || (last[n] == '.' && last[n + 1] == '\0'))) {
			return 1;
		}
	}
	return 0;
}

static void show(char *out, size_t outlen, const struct rrset *s)
{
	size_t o = 0;
	int i;

	app(out, &o, outlen, "rcode %d, %d records", s->rcode, s->n);
	for (i = 0; i < s->n; i++) {
		app(out, &o, outlen, "\n\t\t%s (ttl %u)", s->rr[i], s->ttl[i]);
	}
}

/* Compare an answer set with the reference; "" when it is right. */
static void compare(const struct rrset *got, const struct rrset *ref, char *why, size_t len)
{
	int i, kept = 0, dropped = 0;

	why[0] = '\0';
	if (got->rcode != ref->rcode) {
		snprintf(why, len, "rcode %d, reference %d", got->rcode, ref->rcode);
		return;
	}
	for (i = 0; i < got->n; i++) {
		int k = in_set(ref, got->rr[i]);

		if (k < 0) {
			snprintf(why, len, "record not in the reference: %s", got->rr[i]);
			return;
		}
		if (got->ttl[i] > ref->ttl[k]) {
			snprintf(why, len, "TTL %u above the server's %u: %s", got->ttl[i],
				 ref->ttl[k], got->rr[i]);
			return;
		}
		if (in_set(got, got->rr[i]) != i) {
			snprintf(why, len, "record twice: %s", got->rr[i]);
			return;
		}
	}
	for (i = 0; i < ref->n; i++) {
		if (in_set(got, ref->rr[i]) >= 0) {
			kept++;
		} else if (droppable(ref->rr[i])) {
			dropped++;
		} else {
			snprintf(why, len, "record missing: %s", ref->rr[i]);
			return;
		}
	}
	if (dropped > 0 && kept == 0) {
		snprintf(why, len, "every record dropped");
	}
}

/* ------------------------------------------------------------------ */
/* the questions                                                       */

static void recase(char *name, uint64_t *s)
{
	for (; *name; name++) {
		if (isalpha((unsigned char)*name) && (rnd(s) & 1)) {
			*name = (char)(islower((unsigned char)*name) ? toupper((unsigned char)*name)
								     : tolower((unsigned char)*name));
		}
	}
}

static void ask_res(const char *who, const struct question *qn, const struct rrset *ref,
		    const char *name, struct __res_state *st, uint64_t *s)
{
	unsigned char ans[8192];
	char spelt[256], why[512], a[4096], b[4096];
	struct rrset got;
	int n, herr, how = (int)(rnd(s) % 3);

	snprintf(spelt, sizeof(spelt), "%s", name);
	recase(spelt, s);
	h_errno = 0;
	st->res_h_errno = 0;
	switch (how) {
	case 0:
		n = res_query(spelt, ns_c_in, qn->type, ans, sizeof(ans));
		herr = h_errno;
		break;
	case 1:
		n = res_nquery(st, spelt, ns_c_in, qn->type, ans, sizeof(ans));
		herr = st->res_h_errno;
		break;
	default:
		n = res_search(spelt, ns_c_in, qn->type, ans, sizeof(ans));
		herr = h_errno;
		break;
	}
	if (n < 0) {
		/* libresolv: NXDOMAIN -> HOST_NOT_FOUND, no records -> NO_DATA */
		int want = ref->rcode == ns_r_nxdomain ? HOST_NOT_FOUND :
			   ref->rcode == ns_r_noerror && ref->n == 0 ? NO_DATA : -1;

		if (herr != want) {
			show(b, sizeof(b), ref);
			fail("%s %s/%d (call %d): failed with h_errno %d; reference %s\n", who,
			     spelt, qn->type, how, herr, b);
		}
		return;
	}
	if (n > (int)sizeof(ans)) {
		n = (int)sizeof(ans);
	}
	if (reduce(ans, n, &got) < 0) {
		fail("%s %s/%d (call %d): unparsable answer of %d bytes\n", who, spelt, qn->type,
		     how, n);
		return;
	}
	if (ref->rcode == ns_r_noerror && ref->n == 0) {
		fail("%s %s/%d (call %d): an answer of %d records where the server has none\n",
		     who, spelt, qn->type, how, got.n);
		return;
	}
	/* The question, as the caller spelt it (dn_expand keeps case). */
	{
		char qname[NS_MAXDNAME];

		if (n < 12 || dn_expand(ans, ans + n, ans + 12, qname, sizeof(qname)) < 0 ||
		    strcmp(qname, spelt) != 0) {
			fail("%s %s/%d (call %d): question spelt '%s'\n", who, spelt, qn->type, how,
			     qname);
			return;
		}
	}
	compare(&got, ref, why, sizeof(why));
	if (why[0]) {
		show(a, sizeof(a), &got);
		show(b, sizeof(b), ref);
		fail("%s %s/%d (call %d): %s\n\tgot %s\n\treference %s\n", who, spelt, qn->type,
		     how, why, a, b);
	}
}

/* The addresses of the reference's answers, as "in a ADDR" texts. */
static void addr_ref(const struct question *qn, int v6, struct rrset *ret)
{
	const struct rrset *srcs[2] = { &qn->ref_a, &qn->ref_aaaa };
	int i, k;

	ret->n = 0;
	ret->rcode = 0;
	for (k = 0; k < (v6 ? 2 : 1); k++) {
		for (i = 0; i < srcs[k]->n; i++) {
			const char *t = strchr(srcs[k]->rr[i], ' ');

			if (t && (strncmp(t, " 1 1 ", 5) == 0 || strncmp(t, " 1 28 ", 6) == 0)) {
				snprintf(ret->rr[ret->n], RRTEXT, "x%s", t);
				ret->ttl[ret->n] = UINT32_MAX;
				ret->n++;
			}
		}
	}
}

/* The end of the reference's CNAME chain (h_name). */
static void chain_end(const struct rrset *ref, const char *name, char *out, size_t len)
{
	char cur[300];
	int i, moved = 1;

	snprintf(cur, sizeof(cur), "%.254s.", name);
	lower(cur);
	while (moved) {
		moved = 0;
		for (i = 0; i < ref->n; i++) {
			size_t n = strlen(cur);

			if (strncmp(ref->rr[i], cur, n) == 0 &&
			    strncmp(ref->rr[i] + n, " 1 5 ", 5) == 0) {
				snprintf(cur, sizeof(cur), "%s", ref->rr[i] + n + 5);
				moved = 1;
			}
		}
	}
	snprintf(out, len, "%.*s", (int)strlen(cur) - 1, cur);
}

static void ask_addr(const char *who, const struct question *qn, uint64_t *s)
{
	struct rrset want, got;
	char why[512], a[4096], b[4096];
	int how = (int)(rnd(s) % 2), i;

	got.n = 0;
	got.rcode = 0;
	if (how == 0) {
		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
		struct addrinfo *res = NULL, *r;
		int e;

		addr_ref(qn, 1, &want);
		e = getaddrinfo(qn->name, NULL, &hints, &res);
		if (want.n == 0) {
			if (e != EAI_NONAME && e != EAI_NODATA) {
				fail("%s getaddrinfo %s: %d (%s), expected no address\n", who, qn->name,
				     e, gai_strerror(e));
			}
			if (e == 0) {
				freeaddrinfo(res);
			}
			return;
		}
		if (e != 0) {
			fail("%s getaddrinfo %s: %d (%s)\n", who, qn->name, e, gai_strerror(e));
			return;
		}
		for (r = res; r && got.n < MAXRR; r = r->ai_next) {
			char text[INET6_ADDRSTRLEN];

			if (r->ai_family == AF_INET) {
				inet_ntop(AF_INET, &((struct sockaddr_in *)r->ai_addr)->sin_addr, text,
					  sizeof(text));
				snprintf(got.rr[got.n], RRTEXT, "x 1 1 %s", text);
			} else {
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)r->ai_addr)->sin6_addr,
					  text, sizeof(text));
				snprintf(got.rr[got.n], RRTEXT, "x 1 28 %s", text);
			}
			got.ttl[got.n] = 0;
			if (in_set(&got, got.rr[got.n]) < 0) {
				got.n++;
			}
		}
		freeaddrinfo(res);
	} else {
		struct hostent he, *hp = NULL;
		char buf[16384], end[256];
		int err = 0, herr = 0;

		addr_ref(qn, 0, &want);
		err = gethostbyname_r(qn->name, &he, buf, sizeof(buf), &hp, &herr);
		if (want.n == 0) {
			if (hp != NULL) {
				fail("%s gethostbyname_r %s: an answer, expected none\n", who, qn->name);
			}
			return;
		}
		if (hp == NULL) {
			fail("%s gethostbyname_r %s: error %d h_errno %d\n", who, qn->name, err, herr);
			return;
		}
		chain_end(&qn->ref_a, qn->name, end, sizeof(end));
		if (strcasecmp(hp->h_name, end) != 0) {
			fail("%s gethostbyname_r %s: h_name %s, expected %s\n", who, qn->name,
			     hp->h_name, end);
		}
		for (i = 0; hp->h_addr_list[i] && got.n < MAXRR; i++) {
			char text[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, hp->h_addr_list[i], text, sizeof(text));
			snprintf(got.rr[got.n], RRTEXT, "x 1 1 %s", text);
			got.ttl[got.n] = 0;
			got.n++;
		}
	}
	compare(&got, &want, why, sizeof(why));
	if (why[0]) {
		show(a, sizeof(a), &got);
		show(b, sizeof(b), &want);
		fail("%s %s %s: %s\n\tgot %s\n\treference %s\n", who,
		     how == 0 ? "getaddrinfo" : "gethostbyname_r", qn->name, why, a, b);
	}
}

/* A name below the wildcard that nobody asked: its reference (into the
 * thread's `ref'), then the question through the front end. */
static void ask_wild(const char *who, long t, long i, struct __res_state *st, uint64_t *s,
		     struct rrset *ref)
{
	struct question q = { .kind = K_RES, .type = ns_t_a };

	snprintf(q.name, sizeof(q.name), "s%ld-%ld-%ld.%s", (long)getpid(), t, i, wild);
	if (reference(q.name, ns_t_a, ref) < 0) {
		fail("%s %s: no reference answer from the server\n", who, q.name);
		return;
	}
	ask_res(who, &q, ref, q.name, st, s);
}

static void *worker(void *arg)
{
	long t = (long)arg, done = 0, i = 0;
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + (uint64_t)t * 7919 + 1;
	struct __res_state st;
	struct timespec end, now;
	struct rrset *wild_ref = malloc(sizeof(*wild_ref));
	char who[32];

	snprintf(who, sizeof(who), "[%ld.%ld]", (long)getpid(), t);
	if (wild_ref == NULL) {
		fail("%s out of memory\n", who);
		return NULL;
	}
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0) {
		fail("%s res_ninit failed\n", who);
		free(wild_ref);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += duration;
	do {
		const struct question *qn;

		if (wild && rnd(&s) % 8 == 0) {
			ask_wild(who, t, i++, &st, &s, wild_ref);
		} else {
			qn = &qs[rnd(&s) % (uint32_t)nq];
			if (qn->kind == K_RES) {
				ask_res(who, qn, &qn->ref, qn->name, &st, &s);
			} else {
				ask_addr(who, qn, &s);
			}
		}
		done++;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	res_nclose(&st);
	free(wild_ref);
	pthread_mutex_lock(&lock);
	lookups += done;
	pthread_mutex_unlock(&lock);
	return NULL;
}

/*
 * A crash says where, on stderr (the run's log): the frames as
 * backtrace_symbols_fd() gives them (`libsipcache-preload.so(+0x1234)':
 * addr2line -f -e the library 0x1234), then the signal is raised again
 * so the exit status is the crash's.  Only async-signal-safe calls, on
 * an alternate stack (a stack overflow is a crash too); backtrace() is
 * called once in main() first so that it need not load libgcc here.
 */
static void crash_handler(int sig)
{
	static const char msg[] = "faults_stress: fatal signal, backtrace:\n";
	void *frames[64];
	int n;

	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing to do about it */
	}
	n = backtrace(frames, 64);
	backtrace_symbols_fd(frames, n, 2);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void crash_handler_install(void)
{
	static char altstack[65536];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;
	void *frame;

	backtrace(&frame, 1);
	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = crash_handler;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
}

int main(int argc, char **argv)
{
	int threads = 4, c, i;
	const char *srv = "127.0.0.1";
	pthread_t tid[256];

	/* The preload, if any, is loaded already.  Whatever we start (the
	 * sanitizers' symbolizer) must not load it: a ThreadSanitizer build
	 * of it cannot load into a program without TSan's runtime. */
	unsetenv("LD_PRELOAD");
	/* Not under a sanitizer: it has its own reports, and handlers. */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#if defined(__has_feature)
#if !__has_feature(address_sanitizer) && !__has_feature(thread_sanitizer)
	crash_handler_install();
#endif
#else
	crash_handler_install();
#endif
#endif
	seed = (unsigned)getpid();
	while ((c = getopt(argc, argv, "t:d:s:S:m:w:q")) != -1) {
		switch (c) {
		case 't':
			threads = atoi(optarg);
			break;
		case 'd':
			duration = atoi(optarg);
			break;
		case 's':
			seed = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'S':
			srv = optarg;
			break;
		case 'm':
			if (nmarkable < 16) {
				markable[nmarkable++] = optarg;
			}
			break;
		case 'w':
			wild = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc || threads < 1 || threads > 256 || argc - optind > MAXQ) {
		goto usage;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	server.sin_family = AF_INET;
	server.sin_port = htons(53);
	if (inet_pton(AF_INET, srv, &server.sin_addr) != 1) {
		goto usage;
	}
	for (i = optind; i < argc; i++) {
		struct question *q = &qs[nq];
		const char *slash = strrchr(argv[i], '/');

		if (slash == NULL || slash == argv[i] || (size_t)(slash - argv[i]) >= sizeof(q->name)) {
			goto usage;
		}
		if (strncmp(argv[i], "addr/", 5) == 0) {
			q->kind = K_ADDR;
			snprintf(q->name, sizeof(q->name), "%s", argv[i] + 5);
			if (reference(q->name, ns_t_a, &q->ref_a) < 0 ||
			    reference(q->name, ns_t_aaaa, &q->ref_aaaa) < 0) {
				fprintf(stderr, "faults_stress: no reference for %s\n", argv[i]);
				return 1;
			}
		} else {
			q->kind = K_RES;
			snprintf(q->name, sizeof(q->name), "%.*s", (int)(slash - argv[i]), argv[i]);
			q->type = type_of(slash + 1);
			if (q->type <= 0 || reference(q->name, q->type, &q->ref) < 0) {
				fprintf(stderr, "faults_stress: no reference for %s\n", argv[i]);
				return 1;
			}
		}
		nq++;
	}
	for (i = 0; i < threads; i++) {
		if (pthread_create(&tid[i], NULL, worker, (void *)(long)i) != 0) {
			fprintf(stderr, "faults_stress: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
	}
	if (failures) {
		printf("FAIL %ld %ld\n", lookups, failures);
		return 1;
	}
	if (!quiet) {
		printf("ok %ld\n", lookups);
	}
	return 0;
usage:
	fprintf(stderr, "usage: faults_stress [-t THREADS] [-d SECONDS] [-s SEED] [-S SERVER] "
			"[-m MARKABLE]... [-w WILD] [-q] NAME/TYPE|addr/NAME...\n");
	return 2;
}

/*
 * preload_res - call one res_* entry point per question and print all a
 * caller can see, as stable text, so that a run under the preload can be
 * compared with a run without it (tests/integration/test_preload_*.sh).
 *
 *   preload_res [-b BUFSIZE] [-t] [-r N] [-o OPT[,OPT...]] CALL NAME TYPE ...
 *
 * CALL is res_query, res_search, res_querydomain, res_nquery, res_nsearch,
 * res_nquerydomain (the GLIBC_2.34 names of libc), or the same prefixed
 * with `old_' (old_res_query...): those are bound to __res_query@GLIBC_2.2.5
 * & co (x86_64; the first version of other ABIs), the references of a
 * binary built against glibc before 2.34.  For
 * the querydomain calls NAME is NAME,DOMAIN (DOMAIN `-': NULL).  TYPE is a
 * mnemonic (A, AAAA, SRV, NAPTR, TXT, CNAME, SOA, NS, MX, PTR, ANY) or a
 * number.  -b: answer buffer size (default 4096); -t: print TTLs (else
 * `TTL'); -r: ask each question N times in this process; -o: resolver
 * options set on both _res and the res_n* state (edns0, trust-ad, dnssec,
 * norecurse, noaaaa, usevc, nodnsrch, nodefnames, notldquery, ndots:N).
 *
 * Before each call errno, h_errno, _res.res_h_errno and the state's
 * res_h_errno are poisoned and the buffer filled with 0xa5; afterwards
 * the line `ret' shows them all, `used' the length of the buffer written
 * (up to the last byte that is not the poison), then the message: header
 * (the ID is left out: it is random) and every record that lies whole in
 * the buffer.  Exit status 0 (the lookups' results are in the output).
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define POISON 0xa5
#define POISON_ERRNO 1234
#define POISON_HERRNO 777
#define POISON_RES_HERRNO 666
#define POISON_STATE_HERRNO 555

/* The pre-2.34 spellings, at their old version (libresolv's before 2.34,
 * compat symbols of libc since): what an old binary references. */
int old_res_query(const char *, int, int, unsigned char *, int);
int old_res_search(const char *, int, int, unsigned char *, int);
int old_res_querydomain(const char *, const char *, int, int, unsigned char *, int);
int old_res_nquery(res_state, const char *, int, int, unsigned char *, int);
int old_res_nsearch(res_state, const char *, int, int, unsigned char *, int);
int old_res_nquerydomain(res_state, const char *, const char *, int, int, unsigned char *, int);
#if defined(__aarch64__)
#define OLD "GLIBC_2.17"
#elif defined(__i386__)
#define OLD "GLIBC_2.2"
#else
#define OLD "GLIBC_2.2.5"   /* x86_64 */
#endif
__asm__(".symver old_res_query, __res_query@" OLD);
__asm__(".symver old_res_search, __res_search@" OLD);
__asm__(".symver old_res_querydomain, __res_querydomain@" OLD);
__asm__(".symver old_res_nquery, __res_nquery@" OLD);
__asm__(".symver old_res_nsearch, __res_nsearch@" OLD);
__asm__(".symver old_res_nquerydomain, __res_nquerydomain@" OLD);

static struct __res_state state;
static int show_ttl;

static const struct {
	const char *name;
	int type;
} types[] = {
	{ "A", ns_t_a }, { "AAAA", ns_t_aaaa }, { "SRV", ns_t_srv }, { "NAPTR", ns_t_naptr },
	{ "TXT", ns_t_txt }, { "CNAME", ns_t_cname }, { "SOA", ns_t_soa }, { "NS", ns_t_ns },
	{ "MX", ns_t_mx }, { "PTR", ns_t_ptr }, { "ANY", ns_t_any },
};

static int parse_type(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcasecmp(s, types[i].name) == 0) {
			return types[i].type;
		}
	}
	return atoi(s);
}

static void usage(void)
{
	fprintf(stderr, "usage: preload_res [-b BUFSIZE] [-t] [-r N] [-o OPTS] CALL NAME TYPE ...\n");
	exit(2);
}

static void set_options(struct __res_state *st, const char *opts)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", opts);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "edns0") == 0) {
			st->options |= RES_USE_EDNS0;
		} else if (strcmp(tok, "trust-ad") == 0) {
			st->options |= RES_TRUSTAD;
		} else if (strcmp(tok, "dnssec") == 0) {
			st->options |= RES_USE_DNSSEC;
		} else if (strcmp(tok, "norecurse") == 0) {
			st->options &= ~(unsigned long)RES_RECURSE;
		} else if (strcmp(tok, "noaaaa") == 0) {
			st->options |= RES_NOAAAA;
		} else if (strcmp(tok, "usevc") == 0) {
			st->options |= RES_USEVC;
		} else if (strcmp(tok, "nodnsrch") == 0) {
			st->options &= ~(unsigned long)RES_DNSRCH;
		} else if (strcmp(tok, "nodefnames") == 0) {
			st->options &= ~(unsigned long)RES_DEFNAMES;
		} else if (strcmp(tok, "notldquery") == 0) {
			st->options |= RES_NOTLDQUERY;
		} else if (strncmp(tok, "ndots:", 6) == 0) {
			st->ndots = (unsigned)atoi(tok + 6);
		} else {
			fprintf(stderr, "preload_res: unknown option %s\n", tok);
			exit(2);
		}
	}
}

/* Length of the message at buf (at most max bytes): walk it like a
 * parser would; -1 when it does not fit in max.  ret_whole: records that
 * fit entirely. */
static int message_end(const unsigned char *buf, int max, int *ret_nrr_fit)
{
	const unsigned char *p = buf + NS_HFIXEDSZ, *end = buf + max;
	int i, n, qd, nrr;

	*ret_nrr_fit = 0;
	if (max < NS_HFIXEDSZ) {
		return -1;
	}
	qd = ns_get16(buf + 4);
	nrr = ns_get16(buf + 6) + ns_get16(buf + 8) + ns_get16(buf + 10);
	for (i = 0; i < qd; i++) {
		n = dn_skipname(p, end);
		if (n < 0 || p + n + 4 > end) {
			return -1;
		}
		p += n + 4;
	}
	for (i = 0; i < nrr; i++) {
		n = dn_skipname(p, end);
		if (n < 0 || p + n + 10 > end) {
			return -1;
		}
		n += 10 + ns_get16(p + n + 8);
		if (p + n > end) {
			return -1;
		}
		p += n;
		(*ret_nrr_fit)++;
	}
	return (int)(p - buf);
}

static void squeeze(char *s)
{
	char *w = s;
	int blank = 0;

	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			blank = 1;
			continue;
		}
		if (blank && w != s) {
			*w++ = ' ';
		}
		blank = 0;
		*w++ = *s;
	}
	*w = '\0';
}

static const char *rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	};
	static char other[16];

	if (rcode >= 0 && rcode < 6) {
		return names[rcode];
	}
	snprintf(other, sizeof(other), "RCODE%d", rcode);
	return other;
}

/* Print the message in buf: header, question, each record that fits. */
static void print_message(const unsigned char *buf, int avail)
{
	static const char *const secname[] = { "qd", "an", "ns", "ar" };
	int end, nfit, flags, sec, i, r;
	ns_msg msg;

	if (avail < NS_HFIXEDSZ) {
		printf(" no header\n");
		return;
	}
	flags = ns_get16(buf + 2);
	printf(" header opcode %d rcode %s flags%s%s%s%s%s%s%s qd %d an %d ns %d ar %d\n",
	       (flags >> 11) & 0xf, rcode_name(flags & 0xf),
	       flags & 0x8000 ? " qr" : "", flags & 0x0400 ? " aa" : "",
	       flags & 0x0200 ? " tc" : "", flags & 0x0100 ? " rd" : "",
	       flags & 0x0080 ? " ra" : "", flags & 0x0020 ? " ad" : "",
	       flags & 0x0010 ? " cd" : "",
	       ns_get16(buf + 4), ns_get16(buf + 6), ns_get16(buf + 8), ns_get16(buf + 10));
	end = message_end(buf, avail, &nfit);
	if (end < 0) {
		printf(" cut: %d whole records of %d\n", nfit,
		       ns_get16(buf + 6) + ns_get16(buf + 8) + ns_get16(buf + 10));
		return;
	}
	if (ns_initparse(buf, end, &msg) < 0) {
		printf(" unparsable\n");
		return;
	}
	for (sec = 0; sec < 4; sec++) {
		for (i = 0; i < ns_msg_count(msg, (ns_sect)sec); i++) {
			char text[4096], name[NS_MAXDNAME];
			ns_rr rr;
			unsigned long ttl;

			if (ns_parserr(&msg, (ns_sect)sec, i, &rr) < 0) {
				printf(" %s %d: unparsable\n", secname[sec], i);
				continue;
			}
			if (sec == 0) {
				printf(" qd %s. class %d type %d\n", ns_rr_name(rr),
				       ns_rr_class(rr), ns_rr_type(rr));
				continue;
			}
			if (ns_rr_type(rr) == ns_t_opt) {
				printf(" %s OPT udp %d\n", secname[sec], ns_rr_class(rr));
				continue;
			}
			ttl = ns_rr_ttl(rr);
			rr.ttl = 0;
			/* libresolv's own presentation of each type (deprecated
			 * with the rest of the old API, still the reference). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
			r = ns_sprintrr(&msg, &rr, NULL, NULL, text, sizeof(text));
#pragma GCC diagnostic pop
			if (r < 0) {
				printf(" %s %s. %d %d: unprintable\n", secname[sec], ns_rr_name(rr),
				       ns_rr_class(rr), ns_rr_type(rr));
				continue;
			}
			squeeze(text);
			/* text: "owner 0 CLASS TYPE rdata": replace the 0. */
			snprintf(name, sizeof(name), "%s", ns_rr_name(rr));
			{
				char *rest = strchr(text, ' ');

				rest = rest ? strchr(rest + 1, ' ') : NULL;
				if (show_ttl) {
					printf(" %s %s. %lu%s\n", secname[sec], name, ttl, rest ? rest : "");
				} else {
					printf(" %s %s. TTL%s\n", secname[sec], name, rest ? rest : "");
				}
			}
		}
	}
}

static int call(const char *fn, const char *name, int type, unsigned char *buf, int buflen)
{
	int old = strncmp(fn, "old_", 4) == 0;
	const char *f = old ? fn + 4 : fn;
	char nm[1100], *domain = NULL;

	snprintf(nm, sizeof(nm), "%s", name);
	if (strstr(f, "querydomain")) {
		char *comma = strchr(nm, ',');

		if (comma == NULL) {
			fprintf(stderr, "preload_res: %s needs NAME,DOMAIN\n", fn);
			exit(2);
		}
		*comma = '\0';
		domain = strcmp(comma + 1, "-") == 0 ? NULL : comma + 1;
	}
	if (strcmp(f, "res_query") == 0) {
		return (old ? old_res_query : res_query)(nm, ns_c_in, type, buf, buflen);
	} else if (strcmp(f, "res_search") == 0) {
		return (old ? old_res_search : res_search)(nm, ns_c_in, type, buf, buflen);
	} else if (strcmp(f, "res_querydomain") == 0) {
		return (old ? old_res_querydomain : res_querydomain)(nm, domain, ns_c_in, type, buf,
								      buflen);
	} else if (strcmp(f, "res_nquery") == 0) {
		return (old ? old_res_nquery : res_nquery)(&state, nm, ns_c_in, type, buf, buflen);
	} else if (strcmp(f, "res_nsearch") == 0) {
		return (old ? old_res_nsearch : res_nsearch)(&state, nm, ns_c_in, type, buf, buflen);
	} else if (strcmp(f, "res_nquerydomain") == 0) {
		return (old ? old_res_nquerydomain : res_nquerydomain)(&state, nm, domain, ns_c_in,
								        type, buf, buflen);
	}
	fprintf(stderr, "preload_res: unknown call %s\n", fn);
	exit(2);
}

int main(int argc, char **argv)
{
	int buflen = 4096, repeat = 1, c, i, r;
	const char *opts = NULL;
	unsigned char *buf;

	while ((c = getopt(argc, argv, "b:tr:o:")) != -1) {
		switch (c) {
		case 'b':
			buflen = atoi(optarg);
			break;
		case 't':
			show_ttl = 1;
			break;
		case 'r':
			repeat = atoi(optarg);
			break;
		case 'o':
			opts = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc || (argc - optind) % 3 != 0) {
		usage();
	}
	if (res_init() != 0 || res_ninit(&state) != 0) {
		fprintf(stderr, "preload_res: res_init failed\n");
		return 1;
	}
	if (opts) {
		set_options(&_res, opts);
		set_options(&state, opts);
	}
	buf = malloc(buflen > 0 ? (size_t)buflen : 1);
	if (buf == NULL) {
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (r = 0; r < repeat; r++) {
		for (i = optind; i < argc; i += 3) {
			int type = parse_type(argv[i + 2]), ret, e, he, rhe, she, used, avail;

			memset(buf, POISON, (size_t)buflen);
			_res.res_h_errno = POISON_RES_HERRNO;
			state.res_h_errno = POISON_STATE_HERRNO;
			h_errno = POISON_HERRNO;
			errno = POISON_ERRNO;
			ret = call(argv[i], argv[i + 1], type, buf, buflen);
			e = errno;
			he = h_errno;
			rhe = _res.res_h_errno;
			she = state.res_h_errno;
			for (used = buflen; used > 0 && buf[used - 1] == POISON; used--) {
			}
			printf("%s %s %s: ret %d errno %d h_errno %d _res.res_h_errno %d "
			       "state.res_h_errno %d used %d\n", argv[i], argv[i + 1], argv[i + 2],
			       ret, e, he, rhe, she, used);
			/* A negative answer is in the buffer too, as libresolv
			 * leaves it; print what there is. */
			avail = ret > 0 ? (ret < buflen ? ret : buflen) : used;
			if (avail > 0) {
				print_message(buf, avail);
			}
		}
	}
	free(buf);
	return 0;
}

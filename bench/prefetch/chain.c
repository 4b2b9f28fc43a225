/*
 * bench/prefetch/chain.c - what chain prefetch does to the latency of a
 * SIP server's RFC 3263 lookups (bench/prefetch/run).
 *
 *	chain FIRST COUNT SUFFIX
 *
 * For each domain dI.SUFFIX, I from FIRST to FIRST+COUNT-1, one at a time
 * and each new to every cache, the lookups a SIP server makes to send one
 * request there, through res_query() as Kamailio does:
 *
 *	NAPTR dI                  -> the replacement of the most preferred
 *	                             SIP+D2U record: _sip._udp.dI
 *	SRV _sip._udp.dI          -> the first target
 *	A target                  -> the address the request goes to
 *
 * then, as a server failing over would, the rest of the chain: the SRV of
 * every other replacement and the A and AAAA of every target.  One line
 * per domain, times in microseconds (CLOCK_MONOTONIC):
 *
 *	naptr first all
 *
 * naptr: the NAPTR lookup alone; first: NAPTR, SRV and A, the time to the
 * first request's destination; all: the whole chain.  Every answer is
 * checked (rcode, record counts); any failure exits 1, so that a figure
 * is never that of an error path.  Benchmark tooling, not part of sipcache.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXNAMES 8

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int ask(const char *name, int type, unsigned char *buf, int size, ns_msg *m)
{
	int n = res_query(name, C_IN, type, buf, size);

	if (n < 0) {
		return -1;
	}
	if (ns_initparse(buf, n, m) < 0) {
		fprintf(stderr, "chain: %s type %d: answer does not parse\n", name, type);
		exit(1);
	}
	return ns_msg_count(*m, ns_s_an);
}

/* The replacements of the SIP NAPTR records, the D2U one first. */
static int naptr_targets(ns_msg *m, char out[][NS_MAXDNAME])
{
	int n = 0, i, an = ns_msg_count(*m, ns_s_an);
	ns_rr rr;

	for (i = 0; i < an && n < MAXNAMES; i++) {
		const unsigned char *p, *end;
		char service[64];
		int j, len;

		if (ns_parserr(m, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_naptr) {
			continue;
		}
		p = ns_rr_rdata(rr) + 4;
		end = ns_rr_rdata(rr) + ns_rr_rdlen(rr);
		/* flags, services, regexp: three character strings */
		for (j = 0; j < 3; j++) {
			len = *p;
			if (j == 1) {
				snprintf(service, sizeof(service), "%.*s", len, p + 1);
			}
			p += 1 + len;
		}
		if (p >= end || ns_name_uncompress(ns_msg_base(*m), ns_msg_end(*m), p,
						   out[n], NS_MAXDNAME) < 0) {
			fprintf(stderr, "chain: bad NAPTR record\n");
			exit(1);
		}
		if (strcasecmp(service, "SIP+D2U") == 0 && n > 0) {
			char tmp[NS_MAXDNAME];

			memcpy(tmp, out[0], sizeof(tmp));
			memcpy(out[0], out[n], sizeof(tmp));
			memcpy(out[n], tmp, sizeof(tmp));
		}
		n++;
	}
	return n;
}

static int srv_targets(ns_msg *m, char out[][NS_MAXDNAME])
{
	int n = 0, i, an = ns_msg_count(*m, ns_s_an);
	ns_rr rr;

	for (i = 0; i < an && n < MAXNAMES; i++) {
		if (ns_parserr(m, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_srv) {
			continue;
		}
		if (ns_name_uncompress(ns_msg_base(*m), ns_msg_end(*m), ns_rr_rdata(rr) + 6,
				       out[n], NS_MAXDNAME) < 0) {
			fprintf(stderr, "chain: bad SRV record\n");
			exit(1);
		}
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned char buf[4096];
	char repl[MAXNAMES][NS_MAXDNAME], tgt[MAXNAMES][NS_MAXDNAME];
	char name[NS_MAXDNAME];
	long first, count, i;
	ns_msg m;

	if (argc != 4) {
		fprintf(stderr, "usage: chain FIRST COUNT SUFFIX\n");
		return 2;
	}
	first = atol(argv[1]);
	count = atol(argv[2]);
	if (count < 1 || count > 100000) {
		fprintf(stderr, "chain: COUNT must be 1 to 100000\n");
		return 2;
	}
	for (i = first; i < first + count; i++) {
		double t0, t_naptr, t_first, t_all;
		int nr, nt, r, t;

		snprintf(name, sizeof(name), "d%ld.%s", i, argv[3]);
		t0 = now_us();
		if (ask(name, ns_t_naptr, buf, sizeof(buf), &m) < 1) {
			fprintf(stderr, "chain: NAPTR %s: no answer\n", name);
			return 1;
		}
		t_naptr = now_us();
		nr = naptr_targets(&m, repl);
		if (nr < 1 || ask(repl[0], ns_t_srv, buf, sizeof(buf), &m) < 1) {
			fprintf(stderr, "chain: SRV %s: no answer\n", nr ? repl[0] : name);
			return 1;
		}
		nt = srv_targets(&m, tgt);
		if (nt < 1 || ask(tgt[0], ns_t_a, buf, sizeof(buf), &m) < 1) {
			fprintf(stderr, "chain: A %s: no answer\n", nt ? tgt[0] : repl[0]);
			return 1;
		}
		t_first = now_us();
		/* Failing over: every other SRV, every target's addresses. */
		for (r = 0; r < nr; r++) {
			if (r > 0 && ask(repl[r], ns_t_srv, buf, sizeof(buf), &m) < 1) {
				fprintf(stderr, "chain: SRV %s: no answer\n", repl[r]);
				return 1;
			}
			if (r > 0) {
				nt = srv_targets(&m, tgt);
			} else {
				/* the first SRV answer again (a hit either way) */
				ask(repl[0], ns_t_srv, buf, sizeof(buf), &m);
				nt = srv_targets(&m, tgt);
			}
			for (t = 0; t < nt; t++) {
				if (ask(tgt[t], ns_t_a, buf, sizeof(buf), &m) < 1) {
					fprintf(stderr, "chain: A %s: no answer\n", tgt[t]);
					return 1;
				}
				/* AAAA: no data in this zone (h_errno NO_DATA) */
				ask(tgt[t], ns_t_aaaa, buf, sizeof(buf), &m);
			}
		}
		t_all = now_us();
		printf("%.1f %.1f %.1f\n", t_naptr - t0, t_first - t0, t_all - t0);
	}
	return 0;
}

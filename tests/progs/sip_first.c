/*
 * sip_first - ask one SRV question N times with res_query and count which
 * target comes first (and which targets appear at all), to see the
 * order a naive client (one that takes the first record) would follow.
 *
 *   sip_first NAME N
 *
 * Prints "first TARGET COUNT" and "seen TARGET COUNT" lines, sorted, and
 * "answers N".  Exit 1 when a lookup fails.
 */
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXT 16

struct tally {
	char name[NS_MAXDNAME];
	unsigned first, seen;
};

static struct tally t[MAXT];
static unsigned nt;

static struct tally *find(const char *name)
{
	unsigned i;

	for (i = 0; i < nt; i++) {
		if (strcmp(t[i].name, name) == 0) {
			return &t[i];
		}
	}
	if (nt == MAXT) {
		fprintf(stderr, "sip_first: too many targets\n");
		exit(1);
	}
	snprintf(t[nt].name, sizeof(t[nt].name), "%s", name);
	return &t[nt++];
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct tally *)a)->name, ((const struct tally *)b)->name);
}

int main(int argc, char **argv)
{
	unsigned char ans[4096];
	long n, i;

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: sip_first NAME N\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		int len = res_query(argv[1], ns_c_in, ns_t_srv, ans, sizeof(ans));
		ns_msg msg;
		ns_rr rr;
		int j, first = 1;

		if (len < 0 || ns_initparse(ans, len, &msg) < 0) {
			fprintf(stderr, "sip_first: lookup %ld failed (h_errno %d)\n", i, h_errno);
			return 1;
		}
		for (j = 0; j < ns_msg_count(msg, ns_s_an); j++) {
			char target[NS_MAXDNAME];

			if (ns_parserr(&msg, ns_s_an, j, &rr) < 0) {
				return 1;
			}
			if (ns_rr_type(rr) != ns_t_srv) {
				continue;
			}
			if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 6, target,
				      sizeof(target)) < 0) {
				return 1;
			}
			if (first) {
				find(target)->first++;
				first = 0;
			}
			find(target)->seen++;
		}
	}
	qsort(t, nt, sizeof(t[0]), by_name);
	for (i = 0; i < (long)nt; i++) {
		printf("first %s %u\n", t[i].name, t[i].first);
	}
	for (i = 0; i < (long)nt; i++) {
		printf("seen %s %u\n", t[i].name, t[i].seen);
	}
	printf("answers %ld\n", n);
	return 0;
}

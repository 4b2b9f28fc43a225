/*
 * ctl_lookups - a long-running process that looks names up with
 * res_query() when told to, for the sipcachectl integration tests
 * (tests/integration/test_ctl_*.sh).  Run under the preload, its lookups
 * go through sipcache like those of a legacy SIP server's worker: the
 * tests change the cache with sipcachectl between two lookups and see
 * whether this process sees the change at its next one.
 *
 *   ctl_lookups FIFO
 *
 * Reads commands, one per line, from FIFO (opened once: the test keeps
 * the writing end open) until end of file:
 *
 *   NAME TYPE          one res_query(); prints one line:
 *                      SEQ NAME TYPE ok RDATA[,RDATA...]   (sorted) or
 *                      SEQ NAME TYPE fail h_errno=N
 *   repeat N NAME TYPE N lookups in a row; prints one line:
 *                      SEQ repeat N ok=K fail=F answers=A|SET|...
 *                      where A is the number of distinct answers (sorted
 *                      RDATA sets) among the successful ones, each listed
 *                      after a `|' (a flush during the loop must never
 *                      show a partial answer);
 *   for MS NAME TYPE   lookups in a row for MS milliseconds; prints:
 *                      SEQ for MS n=N ok=K fail=F answers=A|SET|...
 *
 * Output is flushed after each line.  RDATA are printed for A and AAAA
 * (addresses) and, for other types, as `rr' counts only.  Exit status 0
 * at end of file, 2 for a bad command line.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAXANS 64
#define MAXDISTINCT 8

static int parse_type(const char *s)
{
	if (strcasecmp(s, "A") == 0) {
		return ns_t_a;
	}
	if (strcasecmp(s, "AAAA") == 0) {
		return ns_t_aaaa;
	}
	if (strcasecmp(s, "SRV") == 0) {
		return ns_t_srv;
	}
	if (strcasecmp(s, "NAPTR") == 0) {
		return ns_t_naptr;
	}
	return atoi(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * One lookup; on success `out' gets the sorted, comma-separated RDATA of
 * the answer records of the type asked (addresses), or "rr=N".  Returns 0
 * or -1 with *ret_herrno.
 */
static int lookup(const char *name, int type, char *out, size_t outlen, int *ret_herrno)
{
	unsigned char ans[4096];
	char text[MAXANS][INET6_ADDRSTRLEN];
	char *sorted[MAXANS];
	ns_msg msg;
	ns_rr rr;
	int n, i, count = 0;
	size_t used = 0;

	out[0] = '\0';
	h_errno = 0;
	n = res_query(name, ns_c_in, type, ans, sizeof(ans));
	if (n < 0) {
		*ret_herrno = h_errno;
		return -1;
	}
	if (n > (int)sizeof(ans) || ns_initparse(ans, n, &msg) < 0) {
		*ret_herrno = -1;
		return -1;
	}
	for (i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			*ret_herrno = -1;
			return -1;
		}
		if ((int)ns_rr_type(rr) != type || count == MAXANS) {
			continue;
		}
		if ((type == ns_t_a && ns_rr_rdlen(rr) == 4) ||
		    (type == ns_t_aaaa && ns_rr_rdlen(rr) == 16)) {
			inet_ntop(type == ns_t_a ? AF_INET : AF_INET6, ns_rr_rdata(rr), text[count],
				  sizeof(text[count]));
		} else {
			snprintf(text[count], sizeof(text[count]), "rr");
		}
		sorted[count] = text[count];
		count++;
	}
	qsort(sorted, (size_t)count, sizeof(sorted[0]), cmp_str);
	for (i = 0; i < count; i++) {
		int w = snprintf(out + used, outlen - used, "%s%s", i ? "," : "", sorted[i]);

		if (w < 0 || (size_t)w >= outlen - used) {
			break;
		}
		used += (size_t)w;
	}
	if (count == 0) {
		snprintf(out, outlen, "-");
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct tally {
	long n, ok, fail;
	unsigned nd;
	char distinct[MAXDISTINCT][2048];
};

static void tally_one(struct tally *t, const char *name, int type)
{
	char answer[2048];
	int herrno;
	unsigned d;

	t->n++;
	if (lookup(name, type, answer, sizeof(answer), &herrno) < 0) {
		t->fail++;
		return;
	}
	t->ok++;
	for (d = 0; d < t->nd && strcmp(t->distinct[d], answer) != 0; d++) {
	}
	if (d == t->nd && t->nd < MAXDISTINCT) {
		snprintf(t->distinct[t->nd++], sizeof(t->distinct[0]), "%s", answer);
	}
}

static void tally_print(const struct tally *t)
{
	unsigned d;

	printf("ok=%ld fail=%ld answers=%u", t->ok, t->fail, t->nd);
	for (d = 0; d < t->nd; d++) {
		printf("|%s", t->distinct[d]);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	char line[1024], name[512], tname[32], answer[2048];
	unsigned long seq = 0;
	FILE *in;

	if (argc != 2) {
		fprintf(stderr, "usage: ctl_lookups FIFO\n");
		return 2;
	}
	in = fopen(argv[1], "r");
	if (in == NULL) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof(line), in)) {
		long count;
		int herrno, type;

		seq++;
		if (sscanf(line, "repeat %ld %511s %31s", &count, name, tname) == 3) {
			struct tally t = { .n = 0 };
			long i;

			type = parse_type(tname);
			for (i = 0; i < count; i++) {
				tally_one(&t, name, type);
			}
			printf("%lu repeat %ld ", seq, count);
			tally_print(&t);
		} else if (sscanf(line, "for %ld %511s %31s", &count, name, tname) == 3) {
			struct tally t = { .n = 0 };
			long long end = now_ms() + count;

			type = parse_type(tname);
			while (now_ms() < end) {
				tally_one(&t, name, type);
			}
			printf("%lu for %ld n=%ld ", seq, count, t.n);
			tally_print(&t);
		} else if (sscanf(line, "%511s %31s", name, tname) == 2) {
			type = parse_type(tname);
			if (lookup(name, type, answer, sizeof(answer), &herrno) < 0) {
				printf("%lu %s %s fail h_errno=%d\n", seq, name, tname, herrno);
			} else {
				printf("%lu %s %s ok %s\n", seq, name, tname, answer);
			}
		} else {
			printf("%lu bad command\n", seq);
		}
		fflush(stdout);
	}
	return 0;
}

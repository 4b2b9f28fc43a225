/*
 * sipbench - one resolver call, timed over repeated runs, in one or more
 * processes at once.  The measuring half of `make bench' (bench/run
 * starts the world, the servers and the alternatives, and compares).
 *
 *   sipbench [-n OPS] [-r RUNS] [-w WARM] [-P PROCS] [-I] [-e EXPECT] [-v]
 *            [-F FORMAT -C COUNT | -F FORMAT -U BASE] res TYPE [NAME...]
 *   sipbench ... gai [NAME...]
 *
 * `res TYPE' calls res_query(NAME, C_IN, TYPE) (TYPE: A, AAAA, SRV,
 * NAPTR or a number); `gai' calls getaddrinfo(NAME, NULL, {AF_UNSPEC,
 * SOCK_DGRAM, IPPROTO_UDP}) and freeaddrinfo().  Whatever answers them
 * (glibc alone, the preload, the NSS module, nscd, a server) is decided
 * by the environment and the world's files, not here: the same binary
 * measures every alternative.
 *
 * Names: the NAMEs in turn; or, with -F FORMAT -C COUNT, the COUNT names
 * FORMAT gives for 0..COUNT-1 (one %u), visited in a scattered order
 * (a stride prime to COUNT) so that neighbours in the file are not
 * neighbours in time, each process starting at its own share of the
 * list and going on through it run after run; or, with -F FORMAT -U
 * BASE, a new name for every call (each process, run and warm-up has
 * indices of its own from BASE on): every call is a miss.  Names are
 * made before the clock starts.
 *
 * The first call is made in the parent before it forks the PROCS
 * processes, as a forking server (Kamailio) resolves names while it reads
 * its configuration: the children inherit the parent's sipcache, set up.
 * With -I each process makes that call itself instead, after the fork
 * (a server that starts its workers first).  Each process then makes
 * WARM calls (the caches fill), then RUNS times: all processes wait at a barrier, each
 * makes OPS calls between two readings of CLOCK_MONOTONIC.  Every call is
 * checked (res: a NOERROR answer with records; gai: success with EXPECT
 * results when -e is given), and, when one fixed NAME is asked, compared
 * with the first answer, taken before anything is timed (res: the same
 * length, flags and section counts; gai: the same addresses, in any
 * order).  One wrong answer fails the whole run (exit 1): a fast wrong
 * answer is not a result.  A process that fails or dies ends the others
 * (they would wait at the barrier for ever).
 *
 * Output, one line (bench/run parses it):
 *
 *   result op=res type=SRV procs=2 ops=20000 runs=11 ns_median=... \
 *          ns_min=... ns_max=... ops_s_median=... ops_s_min=... ops_s_max=...
 *
 * ns_*: nanoseconds per call as one process sees it (each run: the mean
 * over the processes); ops_s_*: calls per second of all processes
 * together (each run: PROCS x OPS over the time from the first start to
 * the last end).  Medians over the runs.  With PROCS > 1 (and no -U),
 * a second line
 *
 *   pairs procs=2 runs=11 ratio_median=... ratio_min=... ratio_max=...
 *
 * gives the calls per second of all processes over those of process 0
 * alone in a run just before (see paired()).  With -v the answer to the
 * first call is printed first, as `answer ...' lines (records without
 * their TTL, addresses in order), so the driver can check that every
 * alternative answered the same.
 *
 * For instruction counts, run it under
 *	valgrind --tool=callgrind --collect-atstart=no --toggle-collect=bench_ops
 * with one process: only the timed loop (bench_ops) is counted, not the
 * set-up or the warm-up.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ANSLEN 4096
#define MAXPROCS 16
#define MAXRUNS 101

enum op {
	OP_RES,
	OP_GAI,
};

struct job {
	enum op op;
	int type;                 /* res: QTYPE */
	int expect;               /* gai: results expected, -1: any */
	unsigned ops, runs, warm, procs;
	bool verbose;
	bool apart;               /* -I: no call before the fork */
	/* names: a fixed list visited in turn, or made per run (unique) */
	const char *format;
	bool unique;
	unsigned long base;       /* unique: first index */
	char **names;
	unsigned nnames;
	/* The first answer, which every later one must match (one fixed
	 * name only; set before the processes fork).  res: its length and
	 * header bytes 2-11 (flags, rcode, the four counts: not the id);
	 * gai: how many addresses, and a sum of their hashes (any order:
	 * a resolver may rotate an RRset). */
	bool have_ref;
	int ref_len;
	unsigned char ref_hdr[10];
	int ref_naddr;
	uint64_t ref_sum;
};

/* What the processes share: the barrier and the clock readings. */
struct shared {
	pthread_barrier_t barrier;
	struct timespec t0[MAXPROCS][MAXRUNS];
	struct timespec t1[MAXPROCS][MAXRUNS];
	/* With PROCS > 1: process 0 alone, just before each run of all. */
	struct timespec s0[MAXRUNS];
	struct timespec s1[MAXRUNS];
	int failed[MAXPROCS];
};

static unsigned char answer[ANSLEN];

static void usage(void)
{
	fprintf(stderr,
		"usage: sipbench [-n OPS] [-r RUNS] [-w WARM] [-P PROCS] [-I] [-e EXPECT] [-v]\n"
		"                [-F FORMAT (-C COUNT | -U BASE)] (res TYPE | gai) [NAME...]\n");
	exit(2);
}

static int parse_type(const char *s)
{
	static const struct {
		const char *name;
		int type;
	} types[] = {
		{ "A", ns_t_a }, { "AAAA", ns_t_aaaa }, { "SRV", ns_t_srv },
		{ "NAPTR", ns_t_naptr }, { "TXT", ns_t_txt }, { "PTR", ns_t_ptr },
	};
	char *end;
	long v;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcasecmp(s, types[i].name) == 0) {
			return types[i].type;
		}
	}
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v <= 0 || v > 65535) {
		return -1;
	}
	return (int)v;
}

static unsigned parse_uint(const char *s, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v > max) {
		usage();
	}
	return (unsigned)v;
}

/* FORMAT with its one %u replaced by `i' (checked in main()). */
static char *make_name(const char *format, unsigned long i)
{
	const char *pc = strstr(format, "%u");
	char *s;

	if (asprintf(&s, "%.*s%lu%s", (int)(pc - format), format, i, pc + 2) < 0) {
		perror("asprintf");
		exit(1);
	}
	return s;
}

/*
 * The COUNT names of FORMAT in a scattered order: index i*stride mod
 * COUNT, with a stride prime to COUNT so that every name comes once.
 */
static void make_scattered(struct job *j, unsigned count)
{
	static const unsigned strides[] = { 7919, 7907, 7901, 1 };
	unsigned stride = 1, i;
	size_t s;

	for (s = 0; s < sizeof(strides) / sizeof(strides[0]); s++) {
		if (count % strides[s] != 0 || strides[s] == 1) {
			stride = strides[s];
			break;
		}
	}
	j->names = calloc(count, sizeof(*j->names));
	if (j->names == NULL) {
		perror("calloc");
		exit(1);
	}
	for (i = 0; i < count; i++) {
		j->names[i] = make_name(j->format, (unsigned long)(((uint64_t)i * stride) % count));
	}
	j->nnames = count;
}

/* Unique names for run `run' of process `p' (run == runs: the warm-up). */
static void make_unique(struct job *j, unsigned p, unsigned run, unsigned n)
{
	unsigned long first = j->base + ((unsigned long)p * (j->runs + 1) + run) * j->ops;
	unsigned i;

	for (i = 0; i < j->nnames; i++) {
		free(j->names[i]);
		j->names[i] = NULL;
	}
	for (i = 0; i < n; i++) {
		j->names[i] = make_name(j->format, first + i);
	}
}

/* ------------------------------------------------------------------ */
/* the calls                                                          */

static void print_answer(const struct job *j, const unsigned char *ans, int len,
			 const struct addrinfo *ai)
{
	char text[4096], addr[INET6_ADDRSTRLEN];
	ns_msg m;
	ns_rr rr;
	int i;

	if (j->op == OP_GAI) {
		for (; ai != NULL; ai = ai->ai_next) {
			const void *a = ai->ai_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr
				: (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr;

			inet_ntop(ai->ai_family, a, addr, sizeof(addr));
			printf("answer %s\n", addr);
		}
		return;
	}
	if (ns_initparse(ans, len, &m) < 0) {
		printf("answer unparsable\n");
		return;
	}
	for (i = 0; i < ns_msg_count(m, ns_s_an); i++) {
		int ok;

		/* ns_sprintrr is deprecated (glibc keeps it for old
		 * programs); it is exactly dig's presentation, which is
		 * what a comparison of answers wants. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		ok = ns_parserr(&m, ns_s_an, i, &rr) == 0 &&
		     ns_sprintrr(&m, &rr, NULL, NULL, text, sizeof(text)) > 0;
#pragma GCC diagnostic pop
		if (ok) {
			/* owner TTL class type rdata: the TTL goes (it falls
			 * with time, and differs between caches). */
			char *p = strpbrk(text, " \t"), *q;

			if (p != NULL) {
				q = p + strspn(p, " \t");
				q += strcspn(q, " \t");
				memmove(p, q, strlen(q) + 1);
			}
			/* Blanks squeezed: ns_sprintrr pads to columns,
			 * which moved with the TTL's width. */
			for (p = q = text; *q != '\0'; q++) {
				if ((*q == ' ' || *q == '\t') && (p == text || p[-1] == ' ')) {
					continue;
				}
				*p++ = *q == '\t' ? ' ' : *q;
			}
			*p = '\0';
			printf("answer %s\n", text);
		}
	}
}

/* One res_query, checked: a NOERROR answer with records. */
static int __attribute__((noinline)) call_res(const struct job *j, const char *name)
{
	int n = res_query(name, ns_c_in, j->type, answer, sizeof(answer));

	if (n < NS_HFIXEDSZ || n > (int)sizeof(answer) || (answer[3] & 0x0f) != 0 ||
	    (answer[6] << 8 | answer[7]) == 0) {
		return -1;
	}
	if (j->have_ref && (n != j->ref_len || memcmp(answer + 2, j->ref_hdr, sizeof(j->ref_hdr)) != 0)) {
		return -1;
	}
	return n;
}

/* FNV-1a of one address (family and bytes): summed over the results, a
 * fingerprint of the set that does not depend on its order. */
static uint64_t addr_hash(const struct addrinfo *ai)
{
	const unsigned char *a;
	uint64_t h = 14695981039346656037ull ^ (uint64_t)ai->ai_family;
	size_t len, i;

	if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
		a = (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr;
		len = 16;
	} else if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
		a = (const unsigned char *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr;
		len = 4;
	} else {
		return 0;
	}
	for (i = 0; i < len; i++) {
		h = (h ^ a[i]) * 1099511628211ull;
	}
	return h;
}

/* One getaddrinfo, checked: success, EXPECT results. */
static int __attribute__((noinline)) call_gai(const struct job *j, const char *name,
					      struct addrinfo **keep)
{
	static const struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP,
	};
	struct addrinfo *res = NULL, *ai;
	uint64_t sum = 0;
	int n = 0, rc;

	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		uint64_t h = addr_hash(ai);

		if (h == 0) {
			n = -1;
			break;
		}
		sum += h;
		n++;
	}
	if (keep != NULL) {
		*keep = res;
	} else {
		freeaddrinfo(res);
	}
	if (n < 0 || (j->expect >= 0 && n != j->expect) ||
	    (j->have_ref && (n != j->ref_naddr || sum != j->ref_sum))) {
		return -1;
	}
	return n;
}

static int call(const struct job *j, const char *name)
{
	return j->op == OP_RES ? call_res(j, name) : call_gai(j, name, NULL);
}

/*
 * The timed loop: `n' calls over the names, from name `*k' on (left at
 * the next one, so that the runs go on through the whole list).  Its own
 * function, so that callgrind counts exactly this
 * (--toggle-collect=bench_ops).  Returns the number of failed calls.
 */
unsigned bench_ops(const struct job *j, unsigned n, unsigned *k);
unsigned __attribute__((noinline)) bench_ops(const struct job *j, unsigned n, unsigned *k)
{
	unsigned i, next = *k, bad = 0;

	for (i = 0; i < n; i++) {
		if (call(j, j->names[next]) < 0) {
			bad++;
		}
		if (++next == j->nnames) {
			next = 0;
		}
	}
	*k = next;
	return bad;
}

/* The first call, checked and kept as the reference of the later ones
 * when there is one name. */
static void first_call(struct job *j, const char *name)
{
	struct addrinfo *ai = NULL, *a;
	int n;

	if (j->op == OP_RES) {
		n = call_res(j, name);
		if (n < 0) {
			fprintf(stderr, "sipbench: %s: res_query failed or gave no answer "
				"(returned %d, h_errno %d, errno %d)\n", name, n, h_errno, errno);
			exit(1);
		}
		if (j->verbose) {
			print_answer(j, answer, n, NULL);
		}
		if (j->nnames == 1) {
			j->ref_len = n;
			memcpy(j->ref_hdr, answer + 2, sizeof(j->ref_hdr));
			j->have_ref = true;
		}
		return;
	}
	n = call_gai(j, name, &ai);
	if (n >= 0 && j->nnames == 1) {
		j->ref_naddr = n;
		j->ref_sum = 0;
		for (a = ai; a != NULL; a = a->ai_next) {
			j->ref_sum += addr_hash(a);
		}
		j->have_ref = true;
	}
	if (n < 0) {
		fprintf(stderr, "sipbench: %s: getaddrinfo failed or gave the wrong count\n", name);
		if (ai) {
			print_answer(j, NULL, 0, ai);
			freeaddrinfo(ai);
		}
		exit(1);
	}
	if (j->verbose) {
		print_answer(j, NULL, 0, ai);
	}
	freeaddrinfo(ai);
}

/* ------------------------------------------------------------------ */
/* processes, runs, statistics                                        */

static int64_t ns_between(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Of `v', sorted in place. */
static double median(double *v, unsigned n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * With more than one process (and names that may be asked again), each
 * run of all the processes is preceded by a run of process 0 alone: the
 * speed of a virtual machine's CPUs drifts by a factor of two within
 * seconds when its host is busy, so the ratio of two separate medians
 * (1 process, then 2) can say anything; the ratio within each pair of
 * runs, 10 ms apart, says how the processes scale.
 */
static bool paired(const struct job *j)
{
	return j->procs > 1 && !j->unique;
}

/* Process `p': warm up, then every run between barriers (when there
 * are other processes to wait for). */
static int worker(struct job *j, struct shared *sh, unsigned p)
{
	unsigned r, w;
	unsigned bad = 0;
	/* With many names, each process starts at its own share of the
	 * list: processes of a host ask different names at a time, not the
	 * same ones in lockstep (which would contend on the same hash
	 * chains and say nothing about how hits scale). */
	unsigned k = j->unique ? 0 : (unsigned)((uint64_t)p * j->nnames / j->procs);

	if (j->apart && !j->unique) {
		/* -I: this process sets sipcache up (and takes its reference
		 * answer) itself; one process shows it. */
		j->verbose = j->verbose && p == 0;
		first_call(j, j->names[0]);
	}
	if (j->unique) {
		/* The warm-up also sets sipcache up: with new names, so
		 * that the timed runs still miss. */
		w = j->warm < j->ops ? j->warm : j->ops;
		make_unique(j, p, j->runs, w);
		for (r = 0; r < w; r++) {
			if (call(j, j->names[r]) < 0) {
				bad++;
			}
		}
	} else {
		for (w = 0; w < j->warm; w++) {
			if (call(j, j->names[w % j->nnames]) < 0) {
				bad++;
			}
		}
	}
	for (r = 0; r < j->runs; r++) {
		if (j->unique) {
			make_unique(j, p, r, j->ops);
			k = 0;
		}
		if (j->procs > 1) {
			pthread_barrier_wait(&sh->barrier);
			if (paired(j)) {
				/* Process 0 alone first, the others waiting:
				 * the one-process rate of this very moment. */
				if (p == 0) {
					clock_gettime(CLOCK_MONOTONIC, &sh->s0[r]);
					bad += bench_ops(j, j->ops, &k);
					clock_gettime(CLOCK_MONOTONIC, &sh->s1[r]);
				}
				pthread_barrier_wait(&sh->barrier);
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &sh->t0[p][r]);
		bad += bench_ops(j, j->ops, &k);
		clock_gettime(CLOCK_MONOTONIC, &sh->t1[p][r]);
	}
	if (bad > 0) {
		fprintf(stderr, "sipbench: process %u: %u calls failed\n", p, bad);
		sh->failed[p] = 1;
		return 1;
	}
	return 0;
}

/*
 * Wait for the `n' children in `pids'.  When one fails or dies, the others
 * are killed (by pid: they may be waiting at the barrier for it, for
 * ever) and still reaped.  Returns 1 when any failed.
 */
static int reap(const pid_t *pids, unsigned n)
{
	bool done[MAXPROCS] = { false };
	unsigned left = n, p, k;
	int failed = 0, status;
	pid_t pid;

	while (left > 0) {
		pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR) {
				continue;
			}
			perror("waitpid");
			return 1;
		}
		for (p = 0; p < n && (done[p] || pids[p] != pid); p++) {
		}
		if (p == n) {
			continue;
		}
		done[p] = true;
		left--;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			if (!failed) {
				fprintf(stderr, "sipbench: process %u %s %d: ending the others\n", p,
					WIFEXITED(status) ? "exited with" : "killed by signal",
					WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
				for (k = 0; k < n; k++) {
					if (!done[k]) {
						kill(pids[k], SIGKILL);
					}
				}
			}
			failed = 1;
		}
	}
	return failed;
}

static void report(const struct job *j, const struct shared *sh)
{
	double ns[MAXRUNS], ops_s[MAXRUNS], ns_sorted[MAXRUNS], ops_sorted[MAXRUNS];
	double pair[MAXRUNS];
	unsigned r, p;

	for (r = 0; r < j->runs; r++) {
		const struct timespec *first = &sh->t0[0][r], *last = &sh->t1[0][r];
		double sum = 0;

		for (p = 0; p < j->procs; p++) {
			sum += (double)ns_between(&sh->t0[p][r], &sh->t1[p][r]) / j->ops;
			if (ns_between(&sh->t0[p][r], first) > 0) {
				first = &sh->t0[p][r];
			}
			if (ns_between(last, &sh->t1[p][r]) > 0) {
				last = &sh->t1[p][r];
			}
		}
		ns[r] = sum / j->procs;
		ops_s[r] = (double)j->procs * j->ops * 1e9 / (double)ns_between(first, last);
		if (paired(j)) {
			pair[r] = ops_s[r] / ((double)j->ops * 1e9 / (double)ns_between(&sh->s0[r], &sh->s1[r]));
		}
	}
	memcpy(ns_sorted, ns, sizeof(double) * j->runs);
	memcpy(ops_sorted, ops_s, sizeof(double) * j->runs);
	qsort(ns_sorted, j->runs, sizeof(double), cmp_double);
	qsort(ops_sorted, j->runs, sizeof(double), cmp_double);
	printf("result op=%s type=%d procs=%u ops=%u runs=%u ns_median=%.1f ns_min=%.1f "
	       "ns_max=%.1f ops_s_median=%.0f ops_s_min=%.0f ops_s_max=%.0f\n",
	       j->op == OP_RES ? "res" : "gai", j->op == OP_RES ? j->type : 0, j->procs,
	       j->ops, j->runs, median(ns_sorted, j->runs), ns_sorted[0],
	       ns_sorted[j->runs - 1], median(ops_sorted, j->runs), ops_sorted[0],
	       ops_sorted[j->runs - 1]);
	if (paired(j)) {
		qsort(pair, j->runs, sizeof(double), cmp_double);
		printf("pairs procs=%u runs=%u ratio_median=%.3f ratio_min=%.3f ratio_max=%.3f\n",
		       j->procs, j->runs, median(pair, j->runs), pair[0], pair[j->runs - 1]);
	}
}

int main(int argc, char **argv)
{
	struct job j = {
		.expect = -1, .ops = 10000, .runs = 11, .warm = 200, .procs = 1,
	};
	pid_t pids[MAXPROCS];
	pthread_barrierattr_t ba;
	struct shared *sh;
	unsigned count = 0, p;
	int c, failed = 0;

	while ((c = getopt(argc, argv, "n:r:w:P:Ie:vF:C:U:")) != -1) {
		switch (c) {
		case 'n':
			j.ops = parse_uint(optarg, 100000000);
			break;
		case 'r':
			j.runs = parse_uint(optarg, MAXRUNS);
			break;
		case 'w':
			j.warm = parse_uint(optarg, 100000000);
			break;
		case 'P':
			j.procs = parse_uint(optarg, MAXPROCS);
			break;
		case 'e':
			j.expect = (int)parse_uint(optarg, 1000);
			break;
		case 'I':
			j.apart = true;
			break;
		case 'v':
			j.verbose = true;
			break;
		case 'F':
			j.format = optarg;
			break;
		case 'C':
			count = parse_uint(optarg, 10000000);
			break;
		case 'U':
			j.unique = true;
			j.base = parse_uint(optarg, 1000000000);
			break;
		default:
			usage();
		}
	}
	if (j.ops == 0 || j.runs == 0 || j.procs == 0 || optind >= argc) {
		usage();
	}
	if (strcmp(argv[optind], "res") == 0) {
		j.op = OP_RES;
		if (++optind >= argc || (j.type = parse_type(argv[optind])) < 0) {
			usage();
		}
	} else if (strcmp(argv[optind], "gai") == 0) {
		j.op = OP_GAI;
	} else {
		usage();
	}
	optind++;
	if (j.format != NULL) {
		/* One %u and no other conversion. */
		const char *pc = strchr(j.format, '%');

		if (optind != argc || pc == NULL || pc[1] != 'u' || strchr(pc + 1, '%') != NULL ||
		    j.unique == (count > 0)) {
			usage();
		}
		if (j.unique) {
			j.names = calloc(j.ops, sizeof(*j.names));
			if (j.names == NULL) {
				perror("calloc");
				return 1;
			}
			j.nnames = j.ops;
		} else {
			make_scattered(&j, count);
		}
	} else {
		if (optind >= argc || count > 0 || j.unique) {
			usage();
		}
		j.names = argv + optind;
		j.nnames = (unsigned)(argc - optind);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* The first answer, checked (and shown with -v), before anything is
	 * timed: a setup that answers wrongly stops here.  In the parent,
	 * so that each child starts with what its parent's program would
	 * have: sipcache set up before a fork, as in a forking server (with
	 * -I, in each process: worker()). */
	if (!j.unique && !j.apart) {
		first_call(&j, j.names[0]);
	}
	if (j.procs == 1) {
		/* In this process: nothing to synchronise, and callgrind
		 * follows no child. */
		failed = worker(&j, sh, 0);
	} else {
		pthread_barrierattr_init(&ba);
		pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
		if (pthread_barrier_init(&sh->barrier, &ba, j.procs) != 0) {
			fprintf(stderr, "sipbench: pthread_barrier_init failed\n");
			return 1;
		}
		for (p = 0; p < j.procs; p++) {
			pid_t pid = fork();

			if (pid < 0) {
				unsigned k;

				perror("fork");
				/* The others would wait at the barrier for
				 * ever: end them. */
				for (k = 0; k < p; k++) {
					kill(pids[k], SIGKILL);
				}
				return 1;
			}
			if (pid == 0) {
				_exit(worker(&j, sh, p));
			}
			pids[p] = pid;
		}
		failed = reap(pids, j.procs);
	}
	for (p = 0; p < j.procs; p++) {
		failed |= sh->failed[p];
	}
	if (failed) {
		fprintf(stderr, "sipbench: wrong answers or a failed process: no result\n");
	} else {
		report(&j, sh);
	}
	if (j.format != NULL) {
		for (p = 0; p < j.nnames; p++) {
			free(j.names[p]);
		}
		free(j.names);
	}
	munmap(sh, sizeof(*sh));
	return failed ? 1 : 0;
}

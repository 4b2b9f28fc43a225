/*
 * preload_stress - many lookups at once, each answer checked, for the
 * thread and fork tests of the preload (tests/integration/test_preload_procs.sh).
 *
 *   preload_stress [-t THREADS] [-i ITERS] [-f FORKS] [-u] NAME=EXPECT ...
 *
 * Each of THREADS threads asks ITERS questions, cycling through the NAMEs
 * from an offset of its own, alternately with res_query (the thread's
 * _res) and res_nquery (a state of its own), and checks each answer: EXPECT
 * is the first address of the A answer (a.b.c.d), or NXDOMAIN.  With -u,
 * every fourth question is instead a name nobody asked before
 * (uPID-T-I.nx.sip.test, NXDOMAIN): a miss that must reach the server.  With
 * -f, the main thread forks FORKS children while the threads run; each
 * child (one thread: the one that forked) asks every NAME twice and checks
 * the answers, then exits; the parent waits for each.  The main thread
 * asks every NAME once before it starts the threads (see main()).
 *
 * Prints `ok LOOKUPS UNIQUE' (lookups done, unique names asked) and exits
 * 0 when every answer was right; otherwise prints each wrong one and
 * exits 1.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct expect {
	const char *name;
	const char *addr;   /* NULL: NXDOMAIN */
};

static struct expect *names;
static int nnames, iters = 100, unique;
static int failures;
static long lookups, uniques;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *who, const char *name, const char *what)
{
	pthread_mutex_lock(&lock);
	failures++;
	printf("FAIL %s %s: %s\n", who, name, what);
	pthread_mutex_unlock(&lock);
}

/* Ask `name' A and compare with `addr' (NULL: NXDOMAIN expected). */
static void check(const char *who, struct __res_state *st, const char *name, const char *addr)
{
	unsigned char ans[2048];
	char got[INET_ADDRSTRLEN], msg[256];
	ns_msg m;
	ns_rr rr;
	int n, i, herr;

	h_errno = 0;
	n = st ? res_nquery(st, name, ns_c_in, ns_t_a, ans, sizeof(ans))
	       : res_query(name, ns_c_in, ns_t_a, ans, sizeof(ans));
	herr = st ? st->res_h_errno : h_errno;
	if (addr == NULL) {
		if (n != -1 || herr != HOST_NOT_FOUND) {
			snprintf(msg, sizeof(msg), "expected NXDOMAIN, got %d h_errno %d", n, herr);
			fail(who, name, msg);
		}
		return;
	}
	if (n < 0) {
		snprintf(msg, sizeof(msg), "failed: h_errno %d errno %d", herr, errno);
		fail(who, name, msg);
		return;
	}
	if (ns_initparse(ans, n, &m) < 0) {
		fail(who, name, "unparsable answer");
		return;
	}
	for (i = 0; i < ns_msg_count(m, ns_s_an); i++) {
		if (ns_parserr(&m, ns_s_an, i, &rr) == 0 && ns_rr_type(rr) == ns_t_a &&
		    ns_rr_rdlen(rr) == 4) {
			inet_ntop(AF_INET, ns_rr_rdata(rr), got, sizeof(got));
			if (strcmp(got, addr) != 0) {
				snprintf(msg, sizeof(msg), "expected %s, got %s", addr, got);
				fail(who, name, msg);
			}
			return;
		}
	}
	fail(who, name, "no A record in the answer");
}

static void *worker(void *arg)
{
	long t = (long)arg, done = 0, mine = 0;
	struct __res_state st;
	char who[32], uname[64];
	int i;

	snprintf(who, sizeof(who), "thread %ld", t);
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0) {
		fail(who, "-", "res_ninit failed");
		return NULL;
	}
	for (i = 0; i < iters; i++) {
		struct __res_state *use = (i & 1) ? &st : NULL;

		if (unique && i % 4 == 3) {
			snprintf(uname, sizeof(uname), "u%ld-%ld-%d.nx.sip.test", (long)getpid(), t, i);
			check(who, use, uname, NULL);
			mine++;
		} else {
			const struct expect *e = &names[(i + t) % nnames];

			check(who, use, e->name, e->addr);
		}
		done++;
	}
	res_nclose(&st);
	pthread_mutex_lock(&lock);
	lookups += done;
	uniques += mine;
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* In a child: every name twice (a miss or a hit, then a hit). */
static int child(int k)
{
	char who[32];
	int i, r;

	snprintf(who, sizeof(who), "child %d", k);
	for (r = 0; r < 2; r++) {
		for (i = 0; i < nnames; i++) {
			check(who, NULL, names[i].name, names[i].addr);
		}
	}
	fflush(stdout);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	int threads = 4, forks = 0, c, i;
	pthread_t *tids;

	while ((c = getopt(argc, argv, "t:i:f:u")) != -1) {
		switch (c) {
		case 't':
			threads = atoi(optarg);
			break;
		case 'i':
			iters = atoi(optarg);
			break;
		case 'f':
			forks = atoi(optarg);
			break;
		case 'u':
			unique = 1;
			break;
		default:
			fprintf(stderr, "usage: preload_stress [-t N] [-i N] [-f N] [-u] NAME=EXPECT...\n");
			return 2;
		}
	}
	nnames = argc - optind;
	if (nnames <= 0 || threads <= 0) {
		return 2;
	}
	names = calloc((size_t)nnames, sizeof(*names));
	tids = calloc((size_t)threads, sizeof(*tids));
	if (names == NULL || tids == NULL) {
		return 1;
	}
	for (i = 0; i < nnames; i++) {
		char *eq = strchr(argv[optind + i], '=');

		if (eq == NULL) {
			return 2;
		}
		*eq = '\0';
		names[i].name = argv[optind + i];
		names[i].addr = strcmp(eq + 1, "NXDOMAIN") == 0 ? NULL : eq + 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/*
	 * Before any thread runs: set up the main thread's _res (the
	 * children use it) and ask every NAME once, so that the children
	 * find them all in the cache.  A child must not need libresolv:
	 * glibc takes a process-wide lock to read its configuration, and a
	 * child forked while another thread held it waits for ever, with or
	 * without sipcache (measured: glibc 2.36 resets no such lock at
	 * fork).  Hits never touch libresolv, so with sipcache the children
	 * of a threaded server are safe where glibc alone is not.
	 */
	if (res_init() != 0) {
		fprintf(stderr, "res_init failed\n");
		return 1;
	}
	for (i = 0; i < nnames; i++) {
		check("main", NULL, names[i].name, names[i].addr);
	}
	for (i = 0; i < threads; i++) {
		if (pthread_create(&tids[i], NULL, worker, (void *)(long)i) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < forks; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			fail("main", "-", "fork failed");
			break;
		}
		if (pid == 0) {
			_exit(child(i));
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fail("main", "-", "a child failed");
		}
	}
	for (i = 0; i < threads; i++) {
		pthread_join(tids[i], NULL);
	}
	if (failures) {
		printf("failures %d\n", failures);
		return 1;
	}
	printf("ok %ld %ld\n", lookups, uniques);
	return 0;
}

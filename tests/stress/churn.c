/*
 * churn - the cache file under processes that come and go, for
 * `make stress' (tests/stress/stress.mk).
 *
 *   churn [-r ROUNDS] [-p PROCS] [-t THREADS] [-n LOOKUPS] [-m MAX_ENTRIES] DIR
 *
 * Each round, in a fresh cache file DIR/churn.tdb with a small bound
 * (max_entries, default 64: evictions all the time):
 *   - PROCS processes of THREADS threads each look LOOKUPS names up
 *     (sc_cache_get) and store those that miss (sc_cache_put), so that
 *     stores, evictions (a traverse of the file) and hits interleave
 *     across processes;
 *   - one more process opens the cache, writes an internal record (as
 *     `sipcachectl down' does) and closes it again, over and over, as
 *     short-lived tools and cron jobs do;
 *   - another opens it once and flushes it every 10 ms, as `sipcachectl
 *     flush' in a loop would.
 * Then every process must have exited 0 (no signal), and sc_cache_check
 * must find the file sound.  Prints `round N: ok' or what went wrong, and
 * exits 1 after the first bad round.
 *
 * This is the core alone (shim/libsipcache.a), no front end: when it
 * fails, the cache or tdb is at fault, not the lookup around it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../shim/sc.h"

static struct sc_cache_opts opts;
static char path[PATH_MAX];
static int nthreads = 4, nlookups = 4000, proc;
static volatile sig_atomic_t stop;

struct worker {
	struct sc_cache *c;
	long t;
	int failed;
};

/* Look names up; store the misses (each name is looked up again later:
 * hits of the tdb path and of the first level). */
static void *lookups(void *arg)
{
	struct worker *w = arg;
	struct sc_msg *m = malloc(sizeof(*m));
	unsigned char msg[512], out[512], q[SC_DNS_MAXNAME];
	const struct sc_rdata rd = { .data = "\x7f\x00\x00\x01", .len = 4 };
	int i;

	if (m == NULL) {
		w->failed = 1;
		return NULL;
	}
	for (i = 0; i < nlookups; i++) {
		char name[64];
		struct sc_key key;
		struct sc_hit hit;
		int len, r;

		snprintf(name, sizeof(name), "n%d-%ld-%d.churn.test", proc, w->t, i % 300);
		if (sc_dns_name_from_text(name, q, sizeof(q)) < 0 ||
		    (len = sc_dns_build_answer(msg, sizeof(msg), 1, 0x8180, q, SC_T_A, SC_C_IN, 300,
					       &rd, 1)) < 0 ||
		    sc_dns_parse(msg, (size_t)len, m) != 0 ||
		    sc_key_make(&key, q, SC_T_A, SC_C_IN) != 0) {
			w->failed = 1;
			break;
		}
		r = sc_cache_get(w->c, &key, sc_now(), 0, 7, q, out, sizeof(out), &hit);
		if (r == 0 && (hit.written < SC_DNS_HDRLEN || out[0] != 0 || out[1] != 7)) {
			fprintf(stderr, "churn: %s: a hit with a wrong answer\n", name);
			w->failed = 1;
			break;
		}
		if (r != 0) {
			sc_cache_put(w->c, &key, m, 300, 0, sc_now());
		}
	}
	free(m);
	return NULL;
}

static int looker(void)
{
	struct worker w[64];
	pthread_t tid[64];
	struct sc_cache *c;
	int i, failed = 0;

	if (sc_cache_open(&c, &opts) < 0) {
		return 2;
	}
	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .c = c, .t = i };
		if (pthread_create(&tid[i], NULL, lookups, &w[i]) != 0) {
			return 3;
		}
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(tid[i], NULL);
		failed |= w[i].failed;
	}
	sc_cache_close(c);
	return failed ? 1 : 0;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Open, write, close, until told to stop. */
static int opener(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 2000000 };
	unsigned n = 0;

	while (!stop) {
		struct sc_cache *c;

		if (sc_cache_open(&c, &opts) == 0) {
			sc_cache_put_internal(c, "churn", 5, &n, sizeof(n));
			sc_cache_close(c);
		}
		n++;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int flusher(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 10000000 };
	struct sc_cache *c;

	if (sc_cache_open(&c, &opts) < 0) {
		return 2;
	}
	while (!stop) {
		sc_cache_flush(c);
		nanosleep(&ts, NULL);
	}
	sc_cache_close(c);
	return 0;
}

static pid_t start(int (*fn)(void), int k)
{
	pid_t pid = fork();

	if (pid == 0) {
		proc = k;
		_exit(fn());
	}
	return pid;
}

/* 0 when the child exited 0; prints what happened otherwise. */
static int reap(pid_t pid, const char *what)
{
	int st;

	if (waitpid(pid, &st, 0) != pid) {
		fprintf(stderr, "churn: waitpid: %s\n", strerror(errno));
		return -1;
	}
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "churn: %s (pid %ld) killed by signal %d\n", what, (long)pid,
			WTERMSIG(st));
		return -1;
	}
	if (WEXITSTATUS(st) != 0) {
		fprintf(stderr, "churn: %s (pid %ld) exited %d\n", what, (long)pid, WEXITSTATUS(st));
		return -1;
	}
	return 0;
}

static int round_once(int nprocs)
{
	pid_t pids[64], op, fl;
	struct sc_cache *c;
	int i, bad = 0, r;

	unlink(path);
	{
		char stats[PATH_MAX + 8];

		snprintf(stats, sizeof(stats), "%s.stats", path);
		unlink(stats);
	}
	/* Created here, so the others only open it. */
	if (sc_cache_open(&c, &opts) < 0) {
		fprintf(stderr, "churn: cannot create %s\n", path);
		return -1;
	}
	sc_cache_close(c);
	op = start(opener, 100);
	fl = start(flusher, 101);
	for (i = 0; i < nprocs; i++) {
		pids[i] = start(looker, i);
	}
	for (i = 0; i < nprocs; i++) {
		bad |= reap(pids[i], "a looking-up process");
	}
	kill(op, SIGTERM);
	kill(fl, SIGTERM);
	bad |= reap(op, "the opening process");
	bad |= reap(fl, "the flushing process");
	if (sc_cache_open(&c, &opts) < 0) {
		fprintf(stderr, "churn: the file cannot be opened afterwards\n");
		return -1;
	}
	r = sc_cache_check(c, false);
	sc_cache_close(c);
	if (r != 0) {
		fprintf(stderr, "churn: sc_cache_check: %d (%s)\n", r, r < 0 ? strerror(-r) : "bad records");
		bad = -1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	int rounds = 10, nprocs = 4, c, i;
	struct sigaction sa = { .sa_handler = on_term };

	opts.max_entries = 64;
	while ((c = getopt(argc, argv, "r:p:t:n:m:")) != -1) {
		switch (c) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'p':
			nprocs = atoi(optarg);
			break;
		case 't':
			nthreads = atoi(optarg);
			break;
		case 'n':
			nlookups = atoi(optarg);
			break;
		case 'm':
			opts.max_entries = (uint32_t)atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || nprocs < 1 || nprocs > 64 || nthreads < 1 || nthreads > 64) {
		goto usage;
	}
	snprintf(path, sizeof(path), "%s/churn.tdb", argv[optind]);
	opts.path = path;
	opts.create = true;
	opts.group = (gid_t)-1;
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i <= rounds; i++) {
		if (round_once(nprocs) != 0) {
			printf("round %d: FAILED\n", i);
			return 1;
		}
		printf("round %d: ok\n", i);
	}
	return 0;
usage:
	fprintf(stderr, "usage: churn [-r ROUNDS] [-p PROCS] [-t THREADS] [-n LOOKUPS] "
			"[-m MAX_ENTRIES] DIR\n");
	return 2;
}

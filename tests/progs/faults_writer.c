/*
 * faults_writer - a process that does little else than store answers in
 * the cache, to be killed with SIGKILL at a random moment, for
 * tests/integration/test_faults_kill.sh.
 *
 *   faults_writer [-t THREADS] [-n NAMES] TAG DOMAIN ADDR [NAME=ADDR...]
 *
 * THREADS threads (default 2) ask, with res_query (A), names nobody asked
 * before, TAG-T-I.DOMAIN for I = 0, 1, ... (a wildcard of DOMAIN answers
 * ADDR): each a miss, an upstream query and a store; under a small
 * max_entries also an eviction sweep now and then.  After each new name
 * the thread asks again one of its last NAMES names (default 16), and one
 * of the NAME=ADDR pairs in turn (names whose one A record differs from
 * name to name: an answer served from another name's record shows): a
 * hit, or a miss and a store again when an eviction removed it.  Every
 * answer must hold exactly its address: anything else is printed (`wrong
 * NAME: ...') and the program exits 1 at once.  It runs until it is
 * killed; `started' on stdout once every thread has had its first answer.
 *
 * Under the preload, most of a thread's time is the store and the lookup
 * in the cache file (the server is on the loopback), so a SIGKILL lands
 * in the middle of a tdb write often: with a chain lock held, a record
 * half-written, the free list being changed, the file being grown.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXFIXED 16

static const char *tag, *domain;
static struct in_addr want;
static unsigned nkeep = 16, nfixed;
static char fixed_name[MAXFIXED][256];
static struct in_addr fixed_addr[MAXFIXED];
static atomic_uint nready;

/* The A records of an answer must be exactly `addr' (each name has one). */
static int check_answer(const char *name, const unsigned char *buf, int len,
			const struct in_addr *addr)
{
	ns_msg msg;
	ns_rr rr;
	int i, n, found = 0;

	if (len < 0) {
		printf("wrong %s: res_query failed, h_errno %d\n", name, h_errno);
		return -1;
	}
	if (ns_initparse(buf, len, &msg) < 0) {
		printf("wrong %s: the answer does not parse (%d bytes)\n", name, len);
		return -1;
	}
	n = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < n; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			printf("wrong %s: record %d does not parse\n", name, i);
			return -1;
		}
		if (ns_rr_type(rr) != ns_t_a) {
			continue;
		}
		if (ns_rr_rdlen(rr) != 4 || memcmp(ns_rr_rdata(rr), addr, 4) != 0) {
			char a[INET_ADDRSTRLEN] = "?";

			if (ns_rr_rdlen(rr) == 4) {
				inet_ntop(AF_INET, ns_rr_rdata(rr), a, sizeof(a));
			}
			printf("wrong %s: A %s\n", name, a);
			return -1;
		}
		found++;
	}
	if (found != 1) {
		printf("wrong %s: %d A records\n", name, found);
		return -1;
	}
	return 0;
}

static int ask(const char *name, const struct in_addr *addr)
{
	unsigned char buf[1024];
	int len;

	len = res_query(name, ns_c_in, ns_t_a, buf, sizeof(buf));
	return check_answer(name, buf, len, addr);
}

static void *writer(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg, seed = t + 1, i;
	char name[256];

	for (i = 0;; i++) {
		snprintf(name, sizeof(name), "%s-%u-%u.%s", tag, t, i, domain);
		if (ask(name, &want) < 0) {
			fflush(stdout);
			_exit(1);
		}
		if (i == 0) {
			atomic_fetch_add(&nready, 1);
		}
		snprintf(name, sizeof(name), "%s-%u-%u.%s", tag, t,
			 i - (unsigned)rand_r(&seed) % (i < nkeep ? i + 1 : nkeep), domain);
		if (ask(name, &want) < 0 ||
		    (nfixed > 0 && ask(fixed_name[(i + t) % nfixed], &fixed_addr[(i + t) % nfixed]) < 0)) {
			fflush(stdout);
			_exit(1);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned nthreads = 2, i;
	pthread_t th;
	int o;

	while ((o = getopt(argc, argv, "t:n:")) != -1) {
		switch (o) {
		case 't':
			nthreads = (unsigned)atoi(optarg);
			break;
		case 'n':
			nkeep = (unsigned)atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind < 3 || nthreads == 0 || nthreads > 64 || nkeep == 0 ||
	    inet_pton(AF_INET, argv[optind + 2], &want) != 1) {
		goto usage;
	}
	for (i = (unsigned)optind + 3; i < (unsigned)argc; i++) {
		const char *eq = strchr(argv[i], '=');

		if (eq == NULL || nfixed == MAXFIXED || (size_t)(eq - argv[i]) >= sizeof(fixed_name[0]) ||
		    inet_pton(AF_INET, eq + 1, &fixed_addr[nfixed]) != 1) {
			goto usage;
		}
		memcpy(fixed_name[nfixed], argv[i], (size_t)(eq - argv[i]));
		fixed_name[nfixed][eq - argv[i]] = '\0';
		nfixed++;
	}
	tag = argv[optind];
	domain = argv[optind + 1];
	if (res_init() != 0) {
		fprintf(stderr, "faults_writer: res_init failed\n");
		return 2;
	}
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&th, NULL, writer, (void *)(uintptr_t)i) != 0) {
			fprintf(stderr, "faults_writer: pthread_create: %s\n", strerror(errno));
			return 2;
		}
	}
	while (atomic_load(&nready) < nthreads) {
		usleep(1000);
	}
	printf("started\n");
	fflush(stdout);
	for (;;) {
		pause();
	}
usage:
	fprintf(stderr, "usage: faults_writer [-t THREADS] [-n NAMES] TAG DOMAIN ADDR [NAME=ADDR...]\n");
	return 2;
}

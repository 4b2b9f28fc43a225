/*
 * faults_hosts - look names up in a loop while the hosts file changes
 * under the process, for tests/integration/test_faults_hosts.sh.
 *
 *   faults_hosts [-t THREADS] [-d SECONDS] NAME...
 *
 * THREADS threads (default 4) ask each NAME in turn for SECONDS (default
 * 5), with gethostbyname_r (AF_INET) and getaddrinfo (AF_INET), and
 * collect every distinct answer.  An answer is one line:
 *
 *   ghbn NAME: CANONICAL [ALIAS...] = ADDR...      (gethostbyname_r)
 *   ghbn NAME: h_errno N
 *   gai NAME: ADDR...                              (getaddrinfo)
 *   gai NAME: error N
 *
 * Output: each distinct answer once, sorted, then `lookups N' on stderr.
 * The test compares the set with the answers the file's versions give.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXSEEN 256

static char **names;
static int nnames, duration = 5;
static char *seen[MAXSEEN];
static int nseen, overflow;
static long lookups;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void record(const char *text)
{
	int i;

	pthread_mutex_lock(&lock);
	lookups++;
	for (i = 0; i < nseen; i++) {
		if (strcmp(seen[i], text) == 0) {
			pthread_mutex_unlock(&lock);
			return;
		}
	}
	if (nseen < MAXSEEN) {
		seen[nseen++] = strdup(text);
	} else {
		overflow = 1;
	}
	pthread_mutex_unlock(&lock);
}

static void ask(const char *name)
{
	char buf[65536], text[8192], addr[INET_ADDRSTRLEN];
	struct hostent he, *hp = NULL;
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res, *r;
	size_t o;
	int err, herr = 0, i;

	err = gethostbyname_r(name, &he, buf, sizeof(buf), &hp, &herr);
	if (hp == NULL) {
		snprintf(text, sizeof(text), "ghbn %s: h_errno %d", name, herr);
	} else {
		o = (size_t)snprintf(text, sizeof(text), "ghbn %s: %s", name, hp->h_name);
		for (i = 0; hp->h_aliases[i] && o < sizeof(text); i++) {
			o += (size_t)snprintf(text + o, sizeof(text) - o, " %s", hp->h_aliases[i]);
		}
		if (o < sizeof(text)) {
			o += (size_t)snprintf(text + o, sizeof(text) - o, " =");
		}
		for (i = 0; hp->h_addr_list[i] && o < sizeof(text); i++) {
			inet_ntop(AF_INET, hp->h_addr_list[i], addr, sizeof(addr));
			o += (size_t)snprintf(text + o, sizeof(text) - o, " %s", addr);
		}
	}
	record(text);

	err = getaddrinfo(name, NULL, &hints, &res);
	if (err != 0) {
		snprintf(text, sizeof(text), "gai %s: error %d", name, err);
	} else {
		o = (size_t)snprintf(text, sizeof(text), "gai %s:", name);
		for (r = res; r && o < sizeof(text); r = r->ai_next) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)r->ai_addr)->sin_addr, addr,
				  sizeof(addr));
			o += (size_t)snprintf(text + o, sizeof(text) - o, " %s", addr);
		}
		freeaddrinfo(res);
	}
	record(text);
}

static void *worker(void *arg)
{
	struct timespec end, now;
	int i = (int)(long)arg;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += duration;
	do {
		ask(names[i++ % nnames]);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	pthread_t tid[64];
	int threads = 4, c, i;

	while ((c = getopt(argc, argv, "t:d:")) != -1) {
		switch (c) {
		case 't':
			threads = atoi(optarg);
			break;
		case 'd':
			duration = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc || threads < 1 || threads > 64) {
		goto usage;
	}
	names = argv + optind;
	nnames = argc - optind;
	for (i = 0; i < threads; i++) {
		if (pthread_create(&tid[i], NULL, worker, (void *)(long)i) != 0) {
			return 1;
		}
	}
	for (i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
	}
	qsort(seen, (size_t)nseen, sizeof(seen[0]), cmp);
	for (i = 0; i < nseen; i++) {
		printf("%s\n", seen[i]);
	}
	fprintf(stderr, "lookups %ld\n", lookups);
	return overflow ? 1 : 0;
usage:
	fprintf(stderr, "usage: faults_hosts [-t THREADS] [-d SECONDS] NAME...\n");
	return 2;
}

/*
 * closeall - a server that closes every descriptor it did not open, the
 * way Kamailio's daemonize() does, between lookups; for
 * tests/integration/test_preload_closeall.sh.
 *
 *   closeall MODE STRANGER NAME...
 *
 * Asks the A records of each NAME (res_query), then closes descriptors
 * from 3 up by MODE:
 *   close        close() of 3 to 1023, one by one
 *   closefrom    closefrom(3)
 *   close_range  close_range(3, ~0U, 0)
 *   dup2         dup2() of /dev/null onto the cache file's descriptor
 *                (found in /proc/self/fd; without sipcache: onto 3)
 * then opens STRANGER (O_WRONLY | O_APPEND: the lowest free number, the
 * cache's old one), writes "line 1", asks each NAME again, writes
 * "line 2", forks a child that asks each NAME once more (its parent's
 * reopened cache, reopened again after fork), and writes "line 3".
 *
 * Output, in order: `NAME: ADDR...' (sorted) or `NAME: error H_ERRNO'
 * per lookup; then `cache open: yes|no' (whether a descriptor of this
 * process names a file called cache.tdb at the end).  Exit 0, or 1 when a
 * step failed (a message on stderr says which).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ask(const char *name)
{
	unsigned char buf[4096];
	char addrs[64][INET_ADDRSTRLEN], *v[64];
	ns_msg m;
	ns_rr rr;
	int n, i, k = 0;

	n = res_query(name, ns_c_in, ns_t_a, buf, sizeof(buf));
	if (n < 0) {
		printf("%s: error %d\n", name, h_errno);
		return;
	}
	if (ns_initparse(buf, n, &m) < 0) {
		printf("%s: unparsable\n", name);
		return;
	}
	for (i = 0; i < ns_msg_count(m, ns_s_an) && k < 64; i++) {
		if (ns_parserr(&m, ns_s_an, i, &rr) == 0 && ns_rr_type(rr) == ns_t_a &&
		    ns_rr_rdlen(rr) == 4) {
			inet_ntop(AF_INET, ns_rr_rdata(rr), addrs[k], sizeof(addrs[k]));
			v[k] = addrs[k];
			k++;
		}
	}
	qsort(v, k, sizeof(v[0]), cmp_str);
	printf("%s:", name);
	for (i = 0; i < k; i++) {
		printf(" %s", v[i]);
	}
	printf("\n");
}

/* The descriptor naming a file called cache.tdb, or -1. */
static int cache_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char link[300], target[PATH_MAX];
	int fd = -1, dfd = d ? dirfd(d) : -1;
	ssize_t n;

	if (d == NULL) {
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == dfd) {
			continue;
		}
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 9) {
			continue;
		}
		target[n] = '\0';
		if (strcmp(target + n - 9, "cache.tdb") == 0) {
			fd = atoi(e->d_name);
		}
	}
	closedir(d);
	return fd;
}

static void line(int fd, int k)
{
	char s[32];
	int n = snprintf(s, sizeof(s), "line %d\n", k);

	if (write(fd, s, n) != n) {
		perror("closeall: write");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *mode;
	int i, fd, st;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: closeall MODE STRANGER NAME...\n");
		return 2;
	}
	mode = argv[1];
	for (i = 3; i < argc; i++) {
		ask(argv[i]);
	}
	fflush(stdout);
	if (strcmp(mode, "close") == 0) {
		for (fd = 3; fd < 1024; fd++) {
			close(fd);
		}
	} else if (strcmp(mode, "closefrom") == 0) {
		closefrom(3);
	} else if (strcmp(mode, "close_range") == 0) {
		if (close_range(3, ~0U, 0) != 0) {
			perror("closeall: close_range");
			return 1;
		}
	} else if (strcmp(mode, "dup2") == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		int target = cache_fd();

		if (null < 0 || dup2(null, target < 0 ? 3 : target) < 0) {
			perror("closeall: dup2");
			return 1;
		}
		close(null);
	} else {
		fprintf(stderr, "closeall: unknown MODE %s\n", mode);
		return 2;
	}
	fd = open(argv[2], O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		perror("closeall: open STRANGER");
		return 1;
	}
	line(fd, 1);
	for (i = 3; i < argc; i++) {
		ask(argv[i]);
	}
	fflush(stdout);
	line(fd, 2);
	pid = fork();
	if (pid < 0) {
		perror("closeall: fork");
		return 1;
	}
	if (pid == 0) {
		for (i = 3; i < argc; i++) {
			ask(argv[i]);
		}
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "closeall: the child failed\n");
		return 1;
	}
	line(fd, 3);
	printf("cache open: %s\n", cache_fd() >= 0 ? "yes" : "no");
	return 0;
}

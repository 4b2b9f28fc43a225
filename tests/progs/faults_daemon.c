/*
 * faults_daemon - a server that daemonises the rude way, for
 * tests/integration/test_faults_fd.sh.
 *
 *   faults_daemon [-G GROW] [-n N] MODE STRANGER TAG NAME...
 *
 * Many servers, when they detach, close every descriptor they did not
 * open themselves and then open their own files (a log, a pid file),
 * which get the lowest free numbers: the number the cache file had.  A
 * library that goes on using its descriptor then writes into the
 * server's file.  This program does exactly that, with res_query(), and
 * prints every answer it gets so that a run under the preload can be
 * compared with a run without it.
 *
 * MODE
 *   closeall  ask each NAME (A), find the cache's descriptor number F (a
 *             link to ".../cache.tdb" in /proc/self/fd; F is -1 and any
 *             number will do without sipcache), close every descriptor
 *             from 3 up, open STRANGER (O_RDWR|O_APPEND) at F, write a
 *             log line into it, then at once (within the second in which
 *             the cache checks nothing) ask each NAME again and N new
 *             names TAG-I.wild.sip.test (misses: stores, file growth),
 *             write a second line, wait 1.2 s, ask them all again (the
 *             cache has had its chance to notice), write a third line.
 *   fork      ask each NAME, then fork(); the child does the closeall
 *             sequence above (a child reopens the cache at its first
 *             lookup: that reopen must not take the server's file); the
 *             parent waits for it, then asks each NAME again.
 * -G GROW     (closeall) before closing, a child asks GROW new names
 *             TAG-gI.wild.sip.test, so the file grows past what this
 *             process has mapped, and the names asked after the close
 *             include some of those (a hit beyond our map makes tdb
 *             re-map the file through the descriptor).
 *
 * Output: one line per lookup, `NAME: ADDR...' (the A records, sorted) or
 * `NAME: error H_ERRNO', in order, then `window N' (how many of the
 * lookups after the close ran within 900 ms of the first lookup, on
 * stderr: it differs between runs).  The log lines written into STRANGER
 * are `TAG line K\n'; the test knows what the file must hold afterwards.
 * Exit 0, or 1 when a step failed (a message says which).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *tag;
static int64_t t_first;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Ask NAME A and print the answer as one line. */
static void ask(const char *name)
{
	unsigned char ans[4096];
	char addrs[64][INET_ADDRSTRLEN];
	char *sorted[64];
	int n, i, k = 0;
	ns_msg m;
	ns_rr rr;

	if (t_first == 0) {
		t_first = now_ms();
	}
	h_errno = 0;
	n = res_query(name, ns_c_in, ns_t_a, ans, sizeof(ans));
	if (n < 0) {
		printf("%s: error %d\n", name, h_errno);
		return;
	}
	if (ns_initparse(ans, n, &m) < 0) {
		printf("%s: unparsable answer of %d bytes\n", name, n);
		return;
	}
	for (i = 0; i < ns_msg_count(m, ns_s_an) && k < 64; i++) {
		if (ns_parserr(&m, ns_s_an, i, &rr) == 0 && ns_rr_type(rr) == ns_t_a &&
		    ns_rr_rdlen(rr) == 4) {
			inet_ntop(AF_INET, ns_rr_rdata(rr), addrs[k], sizeof(addrs[k]));
			sorted[k] = addrs[k];
			k++;
		}
	}
	qsort(sorted, (size_t)k, sizeof(sorted[0]), cmp_str);
	printf("%s:", name);
	for (i = 0; i < k; i++) {
		printf(" %s", sorted[i]);
	}
	printf("\n");
}

/* The descriptor of the cache file, or -1. */
static int cache_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fd = -1;

	if (d == NULL) {
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[300], target[4096];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0) {
			continue;
		}
		target[n] = '\0';
		n = (ssize_t)strlen(target);
		if (n >= 10 && strcmp(target + n - 10, "/cache.tdb") == 0) {
			fd = atoi(e->d_name);
		}
	}
	closedir(d);
	return fd;
}

static int log_line(int fd, int k)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s line %d\n", tag, k);

	if (write(fd, line, (size_t)n) != n) {
		fprintf(stderr, "faults_daemon: write into the stranger (fd %d): %s\n", fd,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Close everything but stdio, as a detaching server does, and open its
 * own file at the cache's old number.  Returns that descriptor. */
static int daemonise(const char *stranger)
{
	int f = cache_fd(), fd;

	fflush(stdout);
	if (close_range(3, ~0U, 0) != 0) {
		for (fd = 3; fd < 4096; fd++) {
			close(fd);
		}
	}
	fd = open(stranger, O_RDWR | O_APPEND);
	if (fd < 0) {
		fprintf(stderr, "faults_daemon: %s: %s\n", stranger, strerror(errno));
		return -1;
	}
	if (f >= 0 && fd != f) {
		if (dup2(fd, f) != f) {
			fprintf(stderr, "faults_daemon: dup2: %s\n", strerror(errno));
			return -1;
		}
		close(fd);
		fd = f;
	}
	/* Servers lock their pid file (or log) against a second copy of
	 * themselves: a POSIX lock on the whole file, held for life. */
	if (lockf(fd, F_LOCK, 0) != 0) {
		fprintf(stderr, "faults_daemon: lockf: %s\n", strerror(errno));
		return -1;
	}
	return fd;
}

/*
 * Is our lock on the whole of `fd' still whole?  POSIX locks belong to the
 * process: anybody in it who locks and unlocks a byte range of the same
 * file (tdb does, through a descriptor it thinks is its own) punches a
 * hole in ours.  A child (another process) tries every byte.  Returns the
 * number of bytes it could lock (0: intact), or -1.
 */
static long lock_holes(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END), off;
	int st, p[2];
	long holes = 0;
	pid_t pid;

	if (size < 0 || pipe(p) != 0) {
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		for (off = 0; off < size; off++) {
			struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
					    .l_start = off, .l_len = 1 };

			if (fcntl(fd, F_SETLK, &fl) == 0) {
				holes++;
			}
		}
		_exit(write(p[1], &holes, sizeof(holes)) == sizeof(holes) ? 0 : 1);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &holes, sizeof(holes)) != sizeof(holes) ||
	    waitpid(pid, &st, 0) != pid || st != 0) {
		holes = -1;
	}
	close(p[0]);
	return holes;
}

/* After the close: the names again, new ones, the log lines, a pause,
 * everything again.  Returns 0 or -1. */
static int after_close(int fd, char **names, int nnames, int nnew, int grow)
{
	char name[256];
	int i, window = 0;
	long holes;

	if (log_line(fd, 1) < 0) {
		return -1;
	}
	for (i = 0; i < nnames; i++) {
		ask(names[i]);
		window += now_ms() - t_first < 900;
	}
	for (i = 0; i < grow; i += 7) {
		snprintf(name, sizeof(name), "%s-g%d.wild.sip.test", tag, i);
		ask(name);
		window += now_ms() - t_first < 900;
	}
	for (i = 0; i < nnew; i++) {
		snprintf(name, sizeof(name), "%s-%d.wild.sip.test", tag, i);
		ask(name);
		window += now_ms() - t_first < 900;
	}
	if (log_line(fd, 2) < 0) {
		return -1;
	}
	fprintf(stderr, "window %d\n", window);
	usleep(1200 * 1000);
	for (i = 0; i < nnames; i++) {
		ask(names[i]);
	}
	for (i = 0; i < nnew; i++) {
		snprintf(name, sizeof(name), "%s-%d.wild.sip.test", tag, i);
		ask(name);
	}
	if (log_line(fd, 3) < 0) {
		return -1;
	}
	fflush(stdout);
	holes = lock_holes(fd);
	if (holes != 0) {
		fprintf(stderr, "faults_daemon: our lock on the whole file has %ld bytes missing\n",
			holes);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode, *stranger;
	int nnew = 50, grow = 0, c, i, fd, st;
	char **names;
	int nnames;
	pid_t pid;

	while ((c = getopt(argc, argv, "G:n:")) != -1) {
		switch (c) {
		case 'G':
			grow = atoi(optarg);
			break;
		case 'n':
			nnew = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind < 4) {
		goto usage;
	}
	mode = argv[optind];
	stranger = argv[optind + 1];
	tag = argv[optind + 2];
	names = argv + optind + 3;
	nnames = argc - optind - 3;
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (i = 0; i < nnames; i++) {
		ask(names[i]);
	}
	if (strcmp(mode, "closeall") == 0) {
		if (grow > 0) {
			/* Another process grows the file meanwhile. */
			pid = fork();
			if (pid == 0) {
				char name[256];

				for (i = 0; i < grow; i++) {
					snprintf(name, sizeof(name), "%s-g%d.wild.sip.test", tag, i);
					ask(name);
				}
				fflush(stdout);
				_exit(0);
			}
			if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0) {
				fprintf(stderr, "faults_daemon: growing child failed\n");
				return 1;
			}
		}
		fd = daemonise(stranger);
		if (fd < 0 || after_close(fd, names, nnames, nnew, grow) < 0) {
			return 1;
		}
		return 0;
	}
	if (strcmp(mode, "fork") == 0) {
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			fd = daemonise(stranger);
			_exit(fd < 0 || after_close(fd, names, nnames, nnew, 0) < 0 ? 1 : 0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid) {
			fprintf(stderr, "faults_daemon: fork/wait: %s\n", strerror(errno));
			return 1;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "faults_daemon: child ended with status %#x\n", st);
			return 1;
		}
		for (i = 0; i < nnames; i++) {
			ask(names[i]);
		}
		return 0;
	}
usage:
	fprintf(stderr, "usage: faults_daemon [-G GROW] [-n N] closeall|fork STRANGER TAG NAME...\n");
	return 2;
}

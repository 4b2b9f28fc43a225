/*
 * bench/kamailio/dnsdelay.c - a UDP DNS relay that adds a fixed round-trip
 * time, so that the Kamailio benchmark can place its resolver "a network
 * away" on a machine that has only loopback and no netem.
 *
 *	dnsdelay LISTEN-ADDR LISTEN-PORT UPSTREAM-ADDR UPSTREAM-PORT RTT-US
 *
 * Every query received on LISTEN is held RTT/2 microseconds, then sent to
 * UPSTREAM; every answer is held RTT/2, then sent back to the client that
 * asked.  Nothing is cached, nothing is changed but the message ID (see
 * below), so the server behind still counts every query.
 *
 * Design, and why:
 *  - One thread, two sockets, one queue.  The delay is the same for every
 *    packet, so packets fall due in the order they arrived: the queue is a
 *    ring in arrival order, and the only timer is that of its head.
 *  - ppoll(), not poll(): a LAN round trip is a fraction of a millisecond,
 *    below poll()'s resolution.
 *  - Message IDs are rewritten on the way up (a counter) and restored on
 *    the way down: clients choose IDs at random and independently, and
 *    two of them in flight with one ID would otherwise get each other's
 *    answers.  The ID of an answer finds its client in a table indexed by
 *    our ID.
 *  - A full queue drops the packet, as a congested link would; the client
 *    retries.  The count of drops is printed on SIGTERM so that the
 *    benchmark can tell whether the relay was the bottleneck.
 *
 * Benchmark tooling, not part of sipcache: it runs as root inside the
 * benchmark's private network namespace only.
 */
#define _GNU_SOURCE   /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RING 8192          /* packets held at once */
#define MAXMSG 4096        /* larger answers are truncated over UDP anyway */

struct held {
	int64_t due;           /* monotonic microseconds */
	int up;                /* 1: query to upstream, 0: answer to a client */
	struct sockaddr_in to;
	uint16_t len;
	unsigned char msg[MAXMSG];
};

struct client {
	struct sockaddr_in addr;
	uint16_t id;           /* the client's own message ID */
	int used;
};

static struct held ring[RING];
static unsigned head, count;
static struct client clients[65536];
static volatile sig_atomic_t stop;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int open_socket(const char *addr, int port, struct sockaddr_in *ret)
{
	int fd;

	memset(ret, 0, sizeof(*ret));
	ret->sin_family = AF_INET;
	ret->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &ret->sin_addr) != 1) {
		fprintf(stderr, "dnsdelay: %s: not an IPv4 address\n", addr);
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("dnsdelay: socket");
	}
	return fd;
}

/* Queue a packet due in `delay' microseconds; 0, or -1 when full. */
static int hold(const unsigned char *msg, size_t len, int up, const struct sockaddr_in *to,
		int64_t delay)
{
	struct held *h;

	if (count == RING) {
		return -1;
	}
	h = &ring[(head + count) % RING];
	h->due = now_us() + delay;
	h->up = up;
	h->to = *to;
	h->len = (uint16_t)len;
	memcpy(h->msg, msg, len);
	count++;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in laddr, uaddr, any, from;
	unsigned char buf[MAXMSG];
	unsigned long forwarded = 0, answered = 0, dropped = 0, stray = 0;
	uint16_t next_id = 0;
	int64_t half;
	int lfd, ufd;
	struct sigaction sa;

	if (argc != 6) {
		fprintf(stderr, "usage: dnsdelay LISTEN-ADDR LISTEN-PORT UPSTREAM-ADDR "
				"UPSTREAM-PORT RTT-US\n");
		return 2;
	}
	half = atoll(argv[5]) / 2;
	lfd = open_socket(argv[1], atoi(argv[2]), &laddr);
	ufd = open_socket(argv[3], atoi(argv[4]), &uaddr);
	if (lfd < 0 || ufd < 0) {
		return 1;
	}
	if (bind(lfd, (struct sockaddr *)&laddr, sizeof(laddr)) != 0) {
		perror("dnsdelay: bind");
		return 1;
	}
	/* The upstream socket gets any local port: answers come back there. */
	memset(&any, 0, sizeof(any));
	any.sin_family = AF_INET;
	any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ufd, (struct sockaddr *)&any, sizeof(any)) != 0) {
		perror("dnsdelay: bind upstream");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("dnsdelay: %s:%s -> %s:%s, round trip +%lld us\n", argv[1], argv[2],
	       argv[3], argv[4], (long long)(2 * half));
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd[2] = { { lfd, POLLIN, 0 }, { ufd, POLLIN, 0 } };
		struct timespec ts, *tp = NULL;
		int64_t now;
		ssize_t n;
		socklen_t fl;

		if (count > 0) {
			int64_t wait = ring[head].due - now_us();

			if (wait < 0) {
				wait = 0;
			}
			ts.tv_sec = wait / 1000000;
			ts.tv_nsec = (wait % 1000000) * 1000;
			tp = &ts;
		}
		if (ppoll(pfd, 2, tp, NULL) < 0 && errno != EINTR) {
			perror("dnsdelay: ppoll");
			return 1;
		}
		/* Queries: a new ID each, the client remembered under it. */
		for (;;) {
			fl = sizeof(from);
			n = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n < 0) {
				break;
			}
			if (n < 12) {
				continue;
			}
			next_id++;
			clients[next_id].addr = from;
			clients[next_id].id = (uint16_t)(buf[0] << 8 | buf[1]);
			clients[next_id].used = 1;
			buf[0] = (unsigned char)(next_id >> 8);
			buf[1] = (unsigned char)next_id;
			if (hold(buf, (size_t)n, 1, &uaddr, half) < 0) {
				dropped++;
			}
		}
		/* Answers: back to whoever asked, with the client's ID. */
		for (;;) {
			struct client *c;

			fl = sizeof(from);
			n = recvfrom(ufd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n < 0) {
				break;
			}
			if (n < 12) {
				continue;
			}
			c = &clients[buf[0] << 8 | buf[1]];
			if (!c->used) {
				stray++;
				continue;
			}
			c->used = 0;
			buf[0] = (unsigned char)(c->id >> 8);
			buf[1] = (unsigned char)c->id;
			if (hold(buf, (size_t)n, 0, &c->addr, half) < 0) {
				dropped++;
			}
		}
		/* Whatever fell due. */
		now = now_us();
		while (count > 0 && ring[head].due <= now) {
			struct held *h = &ring[head];

			sendto(h->up ? ufd : lfd, h->msg, h->len, 0, (struct sockaddr *)&h->to,
			       sizeof(h->to));
			if (h->up) {
				forwarded++;
			} else {
				answered++;
			}
			head = (head + 1) % RING;
			count--;
		}
	}
	printf("dnsdelay: %lu queries forwarded, %lu answers returned, %lu dropped, "
	       "%lu stray answers\n", forwarded, answered, dropped, stray);
	return 0;
}

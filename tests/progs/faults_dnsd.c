/*
 * faults_dnsd - a DNS server that answers wrongly on purpose, for
 * tests/integration/test_faults_upstream.sh.
 *
 *   faults_dnsd [-a ADDR] [-p PORT]
 *
 * Listens on ADDR (127.0.0.1) port PORT (53), UDP and TCP, and answers
 * each question according to the first label of its name (the rest of
 * the name does not matter; a label may carry a suffix after `-', e.g.
 * trunc-2.bad.test, so that a test can ask fresh names):
 *
 *   ok          a plain answer: A 192.0.2.1, TTL 300 (AAAA: NODATA with an
 *               SOA, negative TTL 60)
 *   victim      A 192.0.2.99: the name the others try to poison
 *   trunc       the ok answer cut in the middle of its record (no TC bit)
 *   header      a header alone, claiming one question and one answer
 *   wrongid     the ok answer with another ID
 *   wrongq      the ok answer to another question name (victim.bad.test)
 *   wrongclass  the ok answer with the question's class changed to CH
 *   wrongtype   the ok answer with the question's type changed to MX
 *   loop        an answer record whose owner is a compression loop
 *   rdlen       an A record with 5 bytes of RDATA
 *   trailing    the ok answer and one byte more
 *   unrelated   the ok answer, plus in every section records of another
 *               name: victim.bad.test A 6.6.6.6 (answer, additional) and
 *               an NS (authority): a poisoning attempt
 *   srvpoison   (SRV) one SRV record to target ok.bad.test, and in the
 *               additional section A records of the target (related) and
 *               of victim.bad.test (6.6.6.6: unrelated)
 *   servfail, refused, formerr, notimp
 *               that rcode, question echoed, nothing else
 *   nxnosoa     NXDOMAIN without SOA (no negative TTL: not cacheable)
 *   tc          over UDP the TC bit and no record; over TCP: the
 *               connection is closed without an answer
 *   tcok        over UDP the TC bit; over TCP the ok answer
 *   badopcode   the ok answer with opcode 2 (STATUS)
 *   noqr        the ok answer without the QR bit
 *   slow        (UDP) the ok answer 400 ms late: a slow server, within
 *               the resolver's timeout
 *   spoof       (UDP) at once a datagram with another ID that answers
 *               6.6.6.6 (a blind spoofing attempt, dropped by libresolv),
 *               then 100 ms later the ok answer
 *   other names REFUSED
 *
 * Every question received is logged on stdout: `PROTO NAME TYPE', one
 * line each, so the test can count what reached the server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXMSG 4096

struct msg {
	unsigned char b[MAXMSG];
	size_t n;
};

static void put8(struct msg *m, unsigned v)
{
	if (m->n < MAXMSG) {
		m->b[m->n++] = (unsigned char)v;
	}
}

static void put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

static void put_bytes(struct msg *m, const void *p, size_t n)
{
	if (m->n + n <= MAXMSG) {
		memcpy(m->b + m->n, p, n);
		m->n += n;
	}
}

/* "victim.bad.test" -> wire */
static void put_name(struct msg *m, const char *text)
{
	while (*text) {
		size_t l = strcspn(text, ".");

		put8(m, (unsigned)l);
		put_bytes(m, text, l);
		text += l;
		if (*text == '.') {
			text++;
		}
	}
	put8(m, 0);
}

static void rr_a(struct msg *m, const char *owner, uint32_t ttl, const char *addr)
{
	struct in_addr a;

	inet_pton(AF_INET, addr, &a);
	if (owner) {
		put_name(m, owner);
	} else {
		put16(m, 0xc00c);   /* the question */
	}
	put16(m, 1);
	put16(m, 1);
	put32(m, ttl);
	put16(m, 4);
	put_bytes(m, &a, 4);
}

static void header(struct msg *m, unsigned id, unsigned flags, unsigned qd, unsigned an,
		   unsigned ns, unsigned ar)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

/* The question of `q' (its wire bytes), or 0 when it has none. */
static size_t question(const unsigned char *q, size_t n, char *name, size_t namelen,
		       unsigned *type, unsigned *class)
{
	size_t p = 12, o = 0;

	if (n < 17 || (q[4] << 8 | q[5]) != 1) {
		return 0;
	}
	while (p < n && q[p] != 0) {
		unsigned l = q[p];

		if (l > 63 || p + 1 + l >= n || o + l + 2 > namelen) {
			return 0;
		}
		memcpy(name + o, q + p + 1, l);
		o += l;
		name[o++] = '.';
		p += 1 + l;
	}
	if (p + 5 > n) {
		return 0;
	}
	name[o ? o - 1 : 0] = '\0';
	*type = (unsigned)(q[p + 1] << 8 | q[p + 2]);
	*class = (unsigned)(q[p + 3] << 8 | q[p + 4]);
	return p + 5 - 12;
}

static void soa(struct msg *m)
{
	put_name(m, "bad.test");
	put16(m, 6);
	put16(m, 1);
	put32(m, 60);
	put16(m, 0);   /* patched below */
	{
		size_t at = m->n;

		put_name(m, "ns.bad.test");
		put_name(m, "hostmaster.bad.test");
		put32(m, 1);
		put32(m, 3600);
		put32(m, 600);
		put32(m, 86400);
		put32(m, 60);
		m->b[at - 2] = (unsigned char)((m->n - at) >> 8);
		m->b[at - 1] = (unsigned char)((m->n - at) & 0xff);
	}
}

/* The answer to `q'.  *drop: send nothing (TCP: close).  Over UDP, `pre'
 * (when not empty) goes first, and the answer *delay_ms later. */
static void answer(const unsigned char *q, size_t n, int tcp, struct msg *m, int *drop,
		   struct msg *pre, unsigned *delay_ms)
{
	char name[256], label[64];
	unsigned type = 0, class = 0, id;
	size_t qlen = question(q, n, name, sizeof(name), &type, &class);
	const unsigned char *qwire = q + 12;

	*drop = 0;
	pre->n = 0;
	*delay_ms = 0;
	if (qlen == 0) {
		*drop = 1;
		return;
	}
	id = (unsigned)(q[0] << 8 | q[1]);
	printf("%s %s %u\n", tcp ? "tcp" : "udp", name, type);
	fflush(stdout);
	snprintf(label, sizeof(label), "%.*s", (int)strcspn(name, ".-"), name);

#define ECHO_QUESTION() put_bytes(m, qwire, qlen)
	if (strcasecmp(label, "spoof") == 0) {
		header(pre, (id + 0x5a5a) & 0xffff, 0x8580, 1, 1, 0, 0);
		put_bytes(pre, qwire, qlen);
		rr_a(pre, NULL, 3600, "6.6.6.6");
		*delay_ms = 100;
	} else if (strcasecmp(label, "slow") == 0) {
		*delay_ms = 400;
	}
	if (strcasecmp(label, "ok") == 0 || strcasecmp(label, "victim") == 0 ||
	    strcasecmp(label, "slow") == 0 || strcasecmp(label, "spoof") == 0 ||
	    (strcasecmp(label, "tcok") == 0 && tcp)) {
		const char *addr = strcasecmp(label, "victim") == 0 ? "192.0.2.99" : "192.0.2.1";

		if (type == 1) {
			header(m, id, 0x8580, 1, 1, 0, 0);
			ECHO_QUESTION();
			rr_a(m, NULL, 300, addr);
		} else {
			header(m, id, 0x8580, 1, 0, 1, 0);
			ECHO_QUESTION();
			soa(m);
		}
	} else if (strcasecmp(label, "trunc") == 0) {
		header(m, id, 0x8580, 1, 1, 0, 0);
		ECHO_QUESTION();
		rr_a(m, NULL, 300, "192.0.2.1");
		m->n -= 7;
	} else if (strcasecmp(label, "header") == 0) {
		header(m, id, 0x8580, 1, 1, 0, 0);
	} else if (strcasecmp(label, "wrongid") == 0) {
		header(m, (id + 1) & 0xffff, 0x8580, 1, 1, 0, 0);
		ECHO_QUESTION();
		rr_a(m, NULL, 300, "192.0.2.1");
	} else if (strcasecmp(label, "wrongq") == 0) {
		header(m, id, 0x8580, 1, 1, 0, 0);
		put_name(m, "victim.bad.test");
		put16(m, type);
		put16(m, class);
		rr_a(m, NULL, 300, "6.6.6.6");
	} else if (strcasecmp(label, "wrongclass") == 0 || strcasecmp(label, "wrongtype") == 0) {
		header(m, id, 0x8580, 1, 1, 0, 0);
		ECHO_QUESTION();
		if (strcasecmp(label, "wrongclass") == 0) {
			m->b[m->n - 1] = 3;   /* CH */
		} else {
			m->b[m->n - 4] = 0;
			m->b[m->n - 3] = 15;  /* MX */
		}
		rr_a(m, NULL, 300, "192.0.2.1");
	} else if (strcasecmp(label, "loop") == 0) {
		header(m, id, 0x8580, 1, 1, 0, 0);
		ECHO_QUESTION();
		/* an owner that points at itself */
		put16(m, 0xc000 | (unsigned)m->n);
		put16(m, 1);
		put16(m, 1);
		put32(m, 300);
		put16(m, 4);
		put32(m, 0xc0000201);
	} else if (strcasecmp(label, "rdlen") == 0) {
		header(m, id, 0x8580, 1, 1, 0, 0);
		ECHO_QUESTION();
		put16(m, 0xc00c);
		put16(m, 1);
		put16(m, 1);
		put32(m, 300);
		put16(m, 5);
		put32(m, 0xc0000201);
		put8(m, 0);
	} else if (strcasecmp(label, "trailing") == 0) {
		header(m, id, 0x8580, 1, 1, 0, 0);
		ECHO_QUESTION();
		rr_a(m, NULL, 300, "192.0.2.1");
		put8(m, 0);
	} else if (strcasecmp(label, "unrelated") == 0) {
		header(m, id, 0x8580, 1, 2, 1, 1);
		ECHO_QUESTION();
		rr_a(m, NULL, 300, "192.0.2.1");
		rr_a(m, "victim.bad.test", 3600, "6.6.6.6");
		put_name(m, "victim.bad.test");
		put16(m, 2);
		put16(m, 1);
		put32(m, 3600);
		put16(m, 13);
		put_name(m, "ns.evil.test");
		rr_a(m, "victim.bad.test", 3600, "6.6.6.6");
	} else if (strcasecmp(label, "srvpoison") == 0) {
		header(m, id, 0x8580, 1, type == 33 ? 1 : 0, 0, type == 33 ? 2 : 0);
		ECHO_QUESTION();
		if (type == 33) {
			size_t at;

			put16(m, 0xc00c);
			put16(m, 33);
			put16(m, 1);
			put32(m, 600);
			put16(m, 0);
			at = m->n;
			put16(m, 10);
			put16(m, 10);
			put16(m, 5060);
			put_name(m, "ok.bad.test");
			m->b[at - 1] = (unsigned char)(m->n - at);
			rr_a(m, "ok.bad.test", 300, "192.0.2.1");
			rr_a(m, "victim.bad.test", 3600, "6.6.6.6");
		}
	} else if (strcasecmp(label, "servfail") == 0 || strcasecmp(label, "refused") == 0 ||
		   strcasecmp(label, "formerr") == 0 || strcasecmp(label, "notimp") == 0) {
		unsigned rcode = strcasecmp(label, "servfail") == 0 ? 2 :
				 strcasecmp(label, "refused") == 0 ? 5 :
				 strcasecmp(label, "formerr") == 0 ? 1 : 4;

		header(m, id, 0x8180 | rcode, 1, 0, 0, 0);
		ECHO_QUESTION();
	} else if (strcasecmp(label, "nxnosoa") == 0) {
		header(m, id, 0x8583, 1, 0, 0, 0);
		ECHO_QUESTION();
	} else if (strcasecmp(label, "tc") == 0 || strcasecmp(label, "tcok") == 0) {
		if (tcp) {
			*drop = 1;
			return;
		}
		header(m, id, 0x8780, 1, 0, 0, 0);
		ECHO_QUESTION();
	} else if (strcasecmp(label, "badopcode") == 0) {
		header(m, id, 0x9580, 1, 1, 0, 0);
		ECHO_QUESTION();
		rr_a(m, NULL, 300, "192.0.2.1");
	} else if (strcasecmp(label, "noqr") == 0) {
		header(m, id, 0x0580, 1, 1, 0, 0);
		ECHO_QUESTION();
		rr_a(m, NULL, 300, "192.0.2.1");
	} else {
		header(m, id, 0x8185, 1, 0, 0, 0);
		ECHO_QUESTION();
	}
#undef ECHO_QUESTION
}

static void serve_tcp(int fd)
{
	unsigned char q[MAXMSG + 2];
	struct msg m, pre;
	size_t got = 0, want = 2;
	unsigned delay_ms;
	int drop;

	/* One question per connection, read in full; 2 s at most. */
	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 2000) != 1) {
			return;
		}
		r = read(fd, q + got, want - got);
		if (r <= 0) {
			return;
		}
		got += (size_t)r;
		if (got == 2) {
			want = 2 + (size_t)(q[0] << 8 | q[1]);
			if (want > sizeof(q)) {
				return;
			}
		}
	}
	answer(q + 2, got - 2, 1, &m, &drop, &pre, &delay_ms);
	if (!drop) {
		unsigned char len[2] = { (unsigned char)(m.n >> 8), (unsigned char)m.n };

		if (write(fd, len, 2) != 2 || write(fd, m.b, m.n) != (ssize_t)m.n) {
			return;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };
	int u, t, c, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while ((c = getopt(argc, argv, "a:p:")) != -1) {
		switch (c) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &sin.sin_addr) != 1) {
				return 2;
			}
			break;
		case 'p':
			sin.sin_port = htons((uint16_t)atoi(optarg));
			break;
		default:
			fprintf(stderr, "usage: faults_dnsd [-a ADDR] [-p PORT]\n");
			return 2;
		}
	}
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u < 0 || t < 0) {
		perror("socket");
		return 1;
	}
	setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(u, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    bind(t, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(t, 16) != 0) {
		perror("bind");
		return 1;
	}
	fprintf(stderr, "faults_dnsd: ready\n");
	for (;;) {
		struct pollfd p[2] = { { .fd = u, .events = POLLIN }, { .fd = t, .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			perror("poll");
			return 1;
		}
		if (p[0].revents & POLLIN) {
			unsigned char q[MAXMSG];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(u, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
			struct msg m, pre;
			unsigned delay_ms;
			int drop;

			if (n > 0) {
				answer(q, (size_t)n, 0, &m, &drop, &pre, &delay_ms);
				if (pre.n > 0) {
					sendto(u, pre.b, pre.n, 0, (struct sockaddr *)&from, fl);
				}
				if (!drop) {
					/* One question at a time: the tests
					 * ask one after the other. */
					if (delay_ms) {
						usleep(delay_ms * 1000);
					}
					sendto(u, m.b, m.n, 0, (struct sockaddr *)&from, fl);
				}
			}
		}
		if (p[1].revents & POLLIN) {
			int fd = accept4(t, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				serve_tcp(fd);
				close(fd);
			}
		}
	}
}

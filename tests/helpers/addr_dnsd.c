/* addr_dnsd.c - see addr_dnsd.h. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr_dnsd.h"
#include "testmsg.h"

#define DNSD_MAXRR 256
#define DNSD_MAXRULE 32
#define DNSD_MAXZONE 8

struct drr {
	char owner[256];
	uint16_t type;
	uint32_t ttl;
	char data[256];
};

struct drule {
	char owner[256];
	uint16_t type;
	enum dnsd_action action;
};

struct dzone {
	char origin[256];
	uint32_t neg_ttl;
};

struct dnsd {
	int fd;
	int stop[2];
	uint16_t port;
	pthread_t thread;
	pthread_mutex_t lock;
	unsigned nrr, nrule, nzone;
	struct drr rr[DNSD_MAXRR];
	struct drule rule[DNSD_MAXRULE];
	struct dzone zone[DNSD_MAXZONE];
	unsigned count_all, count_a, count_aaaa, count_ptr, count_other;
};

static void die(const char *what)
{
	fprintf(stderr, "addr_dnsd: %s: %s\n", what, strerror(errno));
	abort();
}

/* Names compared without case and without a trailing dot. */
static void norm(char *out, const char *in)
{
	size_t n = strlen(in);

	if (n >= 256) {
		die("name too long");
	}
	if (n > 0 && in[n - 1] == '.') {
		n--;
	}
	for (size_t i = 0; i < n; i++) {
		out[i] = (char)tolower((unsigned char)in[i]);
	}
	out[n] = 0;
}

static bool below(const char *name, const char *origin)
{
	size_t n = strlen(name), o = strlen(origin);

	return n == o ? strcmp(name, origin) == 0
		      : n > o && name[n - o - 1] == '.' && strcmp(name + n - o, origin) == 0;
}

static const struct dzone *zone_of(struct dnsd *d, const char *name)
{
	const struct dzone *best = NULL;

	for (unsigned i = 0; i < d->nzone; i++) {
		if (below(name, d->zone[i].origin) &&
		    (best == NULL || strlen(d->zone[i].origin) > strlen(best->origin))) {
			best = &d->zone[i];
		}
	}
	return best;
}

static bool exists(struct dnsd *d, const char *name)
{
	for (unsigned i = 0; i < d->nrr; i++) {
		if (strcmp(d->rr[i].owner, name) == 0) {
			return true;
		}
	}
	return false;
}

static const struct drr *find(struct dnsd *d, const char *name, uint16_t type, unsigned from)
{
	for (unsigned i = from; i < d->nrr; i++) {
		if (strcmp(d->rr[i].owner, name) == 0 && d->rr[i].type == type) {
			return &d->rr[i];
		}
	}
	return NULL;
}

static void add_name_rr(struct tmsg *m, const char *owner, uint16_t type, uint32_t ttl,
			const char *target)
{
	unsigned char rd[NS_MAXCDNAME];
	size_t len = 0;

	if (ns_name_pton(target, rd, sizeof(rd)) < 0) {
		die("bad target");
	}
	while (rd[len] != 0) {
		len += rd[len] + 1;
	}
	tmsg_rr(m, 0, owner, type, ttl, rd, len + 1);
}

static void add_rr(struct tmsg *m, const char *owner, const struct drr *r)
{
	switch (r->type) {
	case ns_t_a:
		tmsg_a(m, 0, owner, r->ttl, r->data);
		break;
	case ns_t_aaaa:
		tmsg_aaaa(m, 0, owner, r->ttl, r->data);
		break;
	default:
		add_name_rr(m, owner, r->type, r->ttl, r->data);
		break;
	}
}

/* The response to (qname as asked, qtype), or 0 bytes: drop it. */
static size_t respond(struct dnsd *d, uint16_t id, const char *asked, uint16_t qtype,
		      struct tmsg *m)
{
	char name[256], owner[NS_MAXDNAME];
	const struct dzone *z;
	const struct drr *r;
	int hops;

	norm(name, asked);
	for (unsigned i = 0; i < d->nrule; i++) {
		if (strcmp(d->rule[i].owner, name) == 0 &&
		    (d->rule[i].type == 0 || d->rule[i].type == qtype)) {
			switch (d->rule[i].action) {
			case DNSD_DROP:
				return 0;
			case DNSD_SERVFAIL:
				tmsg_begin(m, id, asked, qtype, ns_r_servfail);
				return m->len;
			case DNSD_REFUSED:
				tmsg_begin(m, id, asked, qtype, ns_r_refused);
				return m->len;
			case DNSD_ANSWER:
				break;
			}
		}
	}
	z = zone_of(d, name);
	if (z == NULL) {
		tmsg_begin(m, id, asked, qtype, ns_r_refused);
		return m->len;
	}
	tmsg_begin(m, id, asked, qtype, ns_r_noerror);
	tmsg_flags(m, 0x0400);   /* AA */
	/* The first owner is the question name as asked (a server
	 * compresses it to the question); later ones as in the zone. */
	snprintf(owner, sizeof(owner), "%s", asked);
	for (hops = 0; hops < 16 && qtype != ns_t_cname; hops++) {
		r = find(d, name, ns_t_cname, 0);
		if (r == NULL) {
			break;
		}
		add_rr(m, owner, r);
		norm(name, r->data);
		snprintf(owner, sizeof(owner), "%s", r->data);
		if (zone_of(d, name) == NULL) {
			return m->len;   /* out of our zones: the client goes on */
		}
	}
	if (find(d, name, qtype, 0) == NULL) {
		m->buf[3] = (m->buf[3] & 0xf0) | (exists(d, name) ? ns_r_noerror : ns_r_nxdomain);
		tmsg_soa(m, zone_of(d, name)->origin, 60, zone_of(d, name)->neg_ttl);
		return m->len;
	}
	for (unsigned i = 0; (r = find(d, name, qtype, i)) != NULL; i = (unsigned)(r - d->rr) + 1) {
		add_rr(m, owner, r);
	}
	return m->len;
}

static void count(struct dnsd *d, uint16_t qtype)
{
	d->count_all++;
	switch (qtype) {
	case ns_t_a:
		d->count_a++;
		break;
	case ns_t_aaaa:
		d->count_aaaa++;
		break;
	case ns_t_ptr:
		d->count_ptr++;
		break;
	default:
		d->count_other++;
		break;
	}
}

static void *serve(void *arg)
{
	struct dnsd *d = arg;
	static __thread struct tmsg m;

	for (;;) {
		struct pollfd p[2] = { { .fd = d->fd, .events = POLLIN },
				       { .fd = d->stop[0], .events = POLLIN } };
		unsigned char q[4096];
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		char qname[NS_MAXDNAME];
		ssize_t n;
		size_t len;
		int nl;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			die("poll");
		}
		if (p[1].revents) {
			return NULL;
		}
		n = recvfrom(d->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
		if (n < 12 || (q[2] & 0x80) || q[4] != 0 || q[5] != 1) {
			continue;
		}
		nl = dn_expand(q, q + n, q + 12, qname, sizeof(qname));
		if (nl < 0 || 12 + nl + 4 > n) {
			continue;
		}
		uint16_t qtype = (uint16_t)(q[12 + nl] << 8 | q[13 + nl]);
		uint16_t id = (uint16_t)(q[0] << 8 | q[1]);

		pthread_mutex_lock(&d->lock);
		count(d, qtype);
		len = respond(d, id, qname, qtype, &m);
		pthread_mutex_unlock(&d->lock);
		if (len > 0) {
			/* RD as asked. */
			m.buf[2] = (unsigned char)((m.buf[2] & ~0x01) | (q[2] & 0x01));
			sendto(d->fd, m.buf, len, 0, (struct sockaddr *)&from, fromlen);
		}
	}
}

struct dnsd *dnsd_start(void)
{
	struct dnsd *d = calloc(1, sizeof(*d));
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	if (d == NULL) {
		die("calloc");
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(d->fd, (struct sockaddr *)&sin, &sl) < 0 ||
	    pipe2(d->stop, O_CLOEXEC) < 0) {
		die("socket");
	}
	d->port = ntohs(sin.sin_port);
	pthread_mutex_init(&d->lock, NULL);
	if (pthread_create(&d->thread, NULL, serve, d) != 0) {
		die("pthread_create");
	}
	return d;
}

void dnsd_stop(struct dnsd *d)
{
	if (d == NULL) {
		return;
	}
	if (write(d->stop[1], "x", 1) != 1) {
		die("write");
	}
	pthread_join(d->thread, NULL);
	close(d->fd);
	close(d->stop[0]);
	close(d->stop[1]);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

uint16_t dnsd_port(const struct dnsd *d)
{
	return d->port;
}

void dnsd_zone(struct dnsd *d, const char *origin, uint32_t neg_ttl)
{
	pthread_mutex_lock(&d->lock);
	if (d->nzone >= DNSD_MAXZONE) {
		die("too many zones");
	}
	norm(d->zone[d->nzone].origin, origin);
	d->zone[d->nzone].neg_ttl = neg_ttl;
	d->nzone++;
	pthread_mutex_unlock(&d->lock);
}

void dnsd_add(struct dnsd *d, const char *owner, uint16_t type, uint32_t ttl,
	      const char *data)
{
	struct drr *r;

	pthread_mutex_lock(&d->lock);
	if (d->nrr >= DNSD_MAXRR) {
		die("too many records");
	}
	r = &d->rr[d->nrr++];
	norm(r->owner, owner);
	r->type = type;
	r->ttl = ttl;
	snprintf(r->data, sizeof(r->data), "%s", data);
	pthread_mutex_unlock(&d->lock);
}

void dnsd_del(struct dnsd *d, const char *owner, uint16_t type)
{
	char name[256];
	unsigned i, o = 0;

	norm(name, owner);
	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->nrr; i++) {
		if (strcmp(d->rr[i].owner, name) == 0 && (type == 0 || d->rr[i].type == type)) {
			continue;
		}
		d->rr[o++] = d->rr[i];
	}
	d->nrr = o;
	pthread_mutex_unlock(&d->lock);
}

void dnsd_action(struct dnsd *d, const char *owner, uint16_t type, enum dnsd_action a)
{
	pthread_mutex_lock(&d->lock);
	if (d->nrule >= DNSD_MAXRULE) {
		die("too many rules");
	}
	norm(d->rule[d->nrule].owner, owner);
	d->rule[d->nrule].type = type;
	d->rule[d->nrule].action = a;
	d->nrule++;
	pthread_mutex_unlock(&d->lock);
}

unsigned dnsd_count(struct dnsd *d, uint16_t type)
{
	unsigned n;

	pthread_mutex_lock(&d->lock);
	switch (type) {
	case 0:
		n = d->count_all;
		break;
	case ns_t_a:
		n = d->count_a;
		break;
	case ns_t_aaaa:
		n = d->count_aaaa;
		break;
	case ns_t_ptr:
		n = d->count_ptr;
		break;
	default:
		n = d->count_other;
		break;
	}
	pthread_mutex_unlock(&d->lock);
	return n;
}

void dnsd_reset(struct dnsd *d)
{
	pthread_mutex_lock(&d->lock);
	d->count_all = d->count_a = d->count_aaaa = d->count_ptr = d->count_other = 0;
	pthread_mutex_unlock(&d->lock);
}

void dnsd_use(struct dnsd *d, struct __res_state *st, int timeout, int attempts)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (!(st->options & RES_INIT) && res_ninit(st) != 0) {
		die("res_ninit");
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(d->port);
	st->nsaddr_list[0] = sin;
	st->nscount = 1;
	st->retrans = timeout;
	st->retry = attempts;
}

/* testmsg.c - see testmsg.h. Aborts the test on misuse: it is test code. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testmsg.h"

static void die(const char *what)
{
	fprintf(stderr, "testmsg: %s\n", what);
	abort();
}

void tmsg_begin(struct tmsg *m, uint16_t id, const char *qname, uint16_t qtype,
		unsigned rcode)
{
	int n;

	memset(m, 0, sizeof(*m));
	n = res_mkquery(ns_o_query, qname, ns_c_in, qtype, NULL, 0, NULL, m->buf,
			sizeof(m->buf));
	if (n < 0) {
		die("res_mkquery");
	}
	m->len = (size_t)n;
	m->buf[0] = id >> 8;
	m->buf[1] = id & 0xff;
	m->buf[2] = 0x81;                  /* QR, RD */
	m->buf[3] = 0x80 | (rcode & 0x0f); /* RA, rcode */
	/* dn_comp's list: the message start, then names to point at. */
	m->dnptrs[0] = m->buf;
	m->dnptrs[1] = m->buf + 12;
	m->dnptrs[2] = NULL;
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (v >> 8) & 0xff;
	p[1] = v & 0xff;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static int comp(struct tmsg *m, const char *name, unsigned char *at, size_t room)
{
	return dn_comp(name, at, (int)room, (unsigned char **)m->dnptrs,
		       (unsigned char **)&m->dnptrs[63]);
}

void tmsg_rr(struct tmsg *m, int section, const char *owner, uint16_t type,
	     uint32_t ttl, const void *rdata, size_t rdlen)
{
	unsigned char *p = m->buf + m->len;
	int n;

	if (section < m->section) {
		die("sections out of order");
	}
	m->section = section;
	n = comp(m, owner, p, sizeof(m->buf) - m->len);
	if (n < 0 || m->len + n + 10 + rdlen > sizeof(m->buf)) {
		die("record does not fit");
	}
	p += n;
	put16(p, type);
	put16(p + 2, ns_c_in);
	put32(p + 4, ttl);
	put16(p + 8, (unsigned)rdlen);
	memcpy(p + 10, rdata, rdlen);
	m->len += n + 10 + rdlen;
	/* ancount, nscount, arcount at 6, 8, 10 */
	{
		unsigned char *cnt = m->buf + 6 + 2 * section;

		put16(cnt, ((unsigned)cnt[0] << 8 | cnt[1]) + 1);
	}
}

void tmsg_a(struct tmsg *m, int section, const char *owner, uint32_t ttl, const char *ip)
{
	unsigned char a[4];

	if (inet_pton(AF_INET, ip, a) != 1) {
		die("bad IPv4");
	}
	tmsg_rr(m, section, owner, ns_t_a, ttl, a, 4);
}

void tmsg_aaaa(struct tmsg *m, int section, const char *owner, uint32_t ttl, const char *ip)
{
	unsigned char a[16];

	if (inet_pton(AF_INET6, ip, a) != 1) {
		die("bad IPv6");
	}
	tmsg_rr(m, section, owner, ns_t_aaaa, ttl, a, 16);
}

/* Names inside RDATA are written uncompressed (RFC 2782, RFC 3597 style). */
static size_t name_wire(const char *name, unsigned char *out, size_t room)
{
	size_t len = 0;

	if (ns_name_pton(name, out, room) < 0) {
		die("bad name");
	}
	while (out[len] != 0) {
		len += out[len] + 1;
	}
	return len + 1;
}

void tmsg_cname(struct tmsg *m, int section, const char *owner, uint32_t ttl, const char *target)
{
	unsigned char rd[NS_MAXCDNAME];

	tmsg_rr(m, section, owner, ns_t_cname, ttl, rd, name_wire(target, rd, sizeof(rd)));
}

void tmsg_srv(struct tmsg *m, int section, const char *owner, uint32_t ttl,
	      uint16_t prio, uint16_t weight, uint16_t port, const char *target)
{
	unsigned char rd[6 + NS_MAXCDNAME];

	put16(rd, prio);
	put16(rd + 2, weight);
	put16(rd + 4, port);
	tmsg_rr(m, section, owner, ns_t_srv, ttl, rd,
		6 + name_wire(target, rd + 6, sizeof(rd) - 6));
}

void tmsg_soa(struct tmsg *m, const char *zone, uint32_t ttl, uint32_t minimum)
{
	unsigned char rd[2 * NS_MAXCDNAME + 20];
	char mname[300], rname[300];
	size_t n;

	snprintf(mname, sizeof(mname), "ns.%s", zone);
	snprintf(rname, sizeof(rname), "hostmaster.%s", zone);
	n = name_wire(mname, rd, sizeof(rd));
	n += name_wire(rname, rd + n, sizeof(rd) - n);
	put32(rd + n, 2026112201);  /* serial */
	put32(rd + n + 4, 3600);
	put32(rd + n + 8, 600);
	put32(rd + n + 12, 86400);
	put32(rd + n + 16, minimum);
	tmsg_rr(m, 1, zone, ns_t_soa, ttl, rd, n + 20);
}

void tmsg_flags(struct tmsg *m, uint16_t set)
{
	m->buf[2] |= set >> 8;
	m->buf[3] |= set & 0xff;
}

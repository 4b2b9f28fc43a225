/*
 * testmsg.h - build DNS responses for tests, independently of shim/sc_dns.c
 * (with libresolv's res_mkquery and dn_comp), so that tests of our parser
 * and cache do not check our code against itself.
 */
#ifndef TESTMSG_H
#define TESTMSG_H

#include <stddef.h>
#include <stdint.h>

struct tmsg {
	unsigned char buf[8192];
	size_t len;
	const unsigned char *dnptrs[64];
	int section;   /* last section appended to: 0 an, 1 ns, 2 ar */
};

/* A response to (qname, qtype, IN) with the given ID and rcode, QR RD RA. */
void tmsg_begin(struct tmsg *m, uint16_t id, const char *qname, uint16_t qtype,
		unsigned rcode);
/* Append a record; sections must be appended in order. */
void tmsg_rr(struct tmsg *m, int section, const char *owner, uint16_t type,
	     uint32_t ttl, const void *rdata, size_t rdlen);
void tmsg_a(struct tmsg *m, int section, const char *owner, uint32_t ttl, const char *ip);
void tmsg_aaaa(struct tmsg *m, int section, const char *owner, uint32_t ttl, const char *ip);
void tmsg_cname(struct tmsg *m, int section, const char *owner, uint32_t ttl, const char *target);
void tmsg_srv(struct tmsg *m, int section, const char *owner, uint32_t ttl,
	      uint16_t prio, uint16_t weight, uint16_t port, const char *target);
/* SOA in the authority section with the given TTL and MINIMUM. */
void tmsg_soa(struct tmsg *m, const char *zone, uint32_t ttl, uint32_t minimum);
/* Set header flag bits (host order) on top of what is there. */
void tmsg_flags(struct tmsg *m, uint16_t set);

#endif

/*
 * addr_dnsd.h - a small authoritative DNS server inside the test process,
 * for the address-lookup tests (check_addr, check_nss).
 *
 * Why: those tests compare our answers with glibc's nss_dns, called in the
 * same process against the same server, for CNAME chains, NODATA,
 * NXDOMAIN, SERVFAIL, timeouts and search lists, and count the queries
 * that reach the server to prove cache hits.  A thread serving UDP on
 * 127.0.0.1 at an ephemeral port needs no root and no Knot; the thread's
 * resolver state (_res) is pointed at it with dnsd_use(), which both
 * glibc's nss_dns and the core's misses (res_query on _res) follow.
 *
 * Answers are built with libresolv (tests/helpers/testmsg.c), not with
 * shim/sc_dns.c, so the code under test is not its own oracle.  UDP only:
 * keep answers under 512 bytes.  Aborts on misuse: it is test code.
 */
#ifndef ADDR_DNSD_H
#define ADDR_DNSD_H

#include <resolv.h>
#include <stdint.h>

struct dnsd;

enum dnsd_action {
	DNSD_ANSWER,    /* from the records (the default) */
	DNSD_SERVFAIL,
	DNSD_REFUSED,
	DNSD_DROP,      /* no response at all: the client times out */
};

/* Serve on 127.0.0.1, a port the kernel picks. */
struct dnsd *dnsd_start(void);
void dnsd_stop(struct dnsd *d);
uint16_t dnsd_port(const struct dnsd *d);

/* Names at or below `origin' are ours (others get REFUSED); negative
 * answers carry its SOA (TTL 60, MINIMUM `neg_ttl'). */
void dnsd_zone(struct dnsd *d, const char *origin, uint32_t neg_ttl);
/*
 * A record: A ("192.0.2.1"), AAAA ("2001:db8::1"), CNAME and PTR (a
 * target name).  An owner with a CNAME is followed (chains, targets in
 * other zones of ours) the way an authoritative server answers.
 */
void dnsd_add(struct dnsd *d, const char *owner, uint16_t type, uint32_t ttl,
	      const char *data);
/* Remove records of `owner' (of `type', or all when type is 0). */
void dnsd_del(struct dnsd *d, const char *owner, uint16_t type);
/* How to treat questions for `owner' (`type', or any when 0). */
void dnsd_action(struct dnsd *d, const char *owner, uint16_t type, enum dnsd_action a);

/* Questions received (of `type', or all when 0) since the last reset. */
unsigned dnsd_count(struct dnsd *d, uint16_t type);
void dnsd_reset(struct dnsd *d);

/*
 * Point `st' (res_init()ed here when needed; &_res for the thread's
 * state) at the server: one nameserver, 127.0.0.1:port, and the given
 * retransmission timeout (seconds) and attempts.
 */
void dnsd_use(struct dnsd *d, struct __res_state *st, int timeout, int attempts);

#endif

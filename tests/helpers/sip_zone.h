/*
 * sip_zone.h - an authoritative "server" inside the test process that
 * answers from zone files, for the SIP tests (check_sip).
 *
 * Why: sc_sip.c resolves through the core (sc_core_query), whose misses
 * call the libresolv functions of struct sc_real.  Giving the core
 * sipzone_res_query/sipzone_res_nquery instead of libc's makes the whole
 * path real (cache file, stores, hits) while every answer comes from
 * the zone files of tests/integration/zones/, the very files Knot serves in the
 * integration tests, so both levels check the same cases.  Every
 * question is counted, to prove what the cache answered.
 *
 * What is read of a zone file: $ORIGIN, $TTL, comments, parentheses,
 * blank owners, relative names and "@", optional TTL and class IN, the
 * types A, AAAA, NS, CNAME, PTR, SOA, SRV, NAPTR, TXT with zone-file
 * escapes in strings.  Answers follow Knot's (TESTING.md): CNAME chains
 * inside our zones, NXDOMAIN/NODATA with the zone's SOA, the A/AAAA of
 * SRV targets in the additional section, none for NAPTR; names outside
 * every zone get REFUSED.  Built with libresolv (testmsg.c), not with
 * shim/sc_dns.c.  Aborts on misuse: it is test code.
 */
#ifndef SIP_ZONE_H
#define SIP_ZONE_H

#include <resolv.h>
#include <stdint.h>

struct sipzone;

/* Load zone files (the origin of each is its first $ORIGIN). */
struct sipzone *sipzone_load(const char *const *paths, unsigned n);
void sipzone_free(struct sipzone *z);

/* The answer to (qname, IN, qtype) into buf; returns its length and
 * *ret_rcode. */
int sipzone_answer(struct sipzone *z, const char *qname, uint16_t qtype, unsigned char *buf,
		   size_t buflen, unsigned *ret_rcode);

/* Make questions to `name' (any type when 0) fail: SERVFAIL. */
void sipzone_servfail(struct sipzone *z, const char *name, uint16_t type);

/* Questions received (of `name', any when NULL; of `type', any when 0). */
unsigned sipzone_count(struct sipzone *z, const char *name, uint16_t type);
/* How many times the most asked (name, type) was asked. */
unsigned sipzone_max(struct sipzone *z);
void sipzone_reset(struct sipzone *z);

/* The zone set the two functions below answer from. */
void sipzone_use(struct sipzone *z);
/* res_query/res_nquery look-alikes: the response in `answer' (cut to
 * anslen), its length on success, -1 with h_errno (and
 * statp->res_h_errno) HOST_NOT_FOUND, NO_DATA or TRY_AGAIN otherwise. */
int sipzone_res_query(const char *dname, int class, int type, unsigned char *answer,
		      int anslen);
int sipzone_res_nquery(res_state statp, const char *dname, int class, int type,
		       unsigned char *answer, int anslen);

/* tests/integration/zones/NAME, found from the source tree (or
 * $SIPCACHE_TEST_ZONES). */
const char *sipzone_path(const char *name, char *buf, size_t buflen);

#endif

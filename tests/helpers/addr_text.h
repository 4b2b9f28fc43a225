/*
 * addr_text.h - address answers as whole text, and the DNS zone of the
 * address-lookup tests (check_addr, check_nss).
 *
 * Every way an answer can come back (a hostent from gethostbyname3_r, a
 * gaih_addrtuple list from gethostbyname4_r, our struct sc_addr_result)
 * is printed in one format, so that glibc's nss_dns and our code can be
 * compared with one string comparison:
 *
 *   STATUS h_errno=N ttl=T | name=NAME aliases=A,B addrs=ADDR,ADDR
 *
 * (4_r lists have no aliases; `ttl=-' when the TTL was not touched).
 */
#ifndef ADDR_TEXT_H
#define ADDR_TEXT_H

#include <netdb.h>
#include <nss.h>
#include <stddef.h>
#include <stdint.h>

#include "../../shim/sc.h"
#include "addr_dnsd.h"

#define ADDR_TEXT_MAX 8192

const char *addr_status_name(enum nss_status s);
/* The answer part, after `|'. */
void addr_text_hostent(char *out, size_t outlen, const struct hostent *h);
void addr_text_tuples(char *out, size_t outlen, const struct gaih_addrtuple *t);
void addr_text_result(char *out, size_t outlen, const struct sc_addr_result *r, int family);
/* The whole line. */
void addr_text_line(char *out, size_t outlen, enum nss_status s, int herrno, int32_t ttl,
		    const char *answer);

/* The NSS status sc.h's table gives for a return value of sc_addr_*. */
enum nss_status addr_status_of(int r);

/*
 * The zones every address test serves (sip.test, other.test and the
 * reverse zones); what each name is for is written next to it in
 * addr_text.c.
 */
void addr_zone_load(struct dnsd *d);

/* glibc's nss_dns entry points, in-process (GLIBC_PRIVATE in libc). */
typedef enum nss_status addr_byname3_fn(const char *, int, struct hostent *, char *, size_t,
					int *, int *, int32_t *, char **);
typedef enum nss_status addr_byname4_fn(const char *, struct gaih_addrtuple **, char *,
					size_t, int *, int *, int32_t *);
typedef enum nss_status addr_byaddr2_fn(const void *, socklen_t, int, struct hostent *,
					char *, size_t, int *, int *, int32_t *);
addr_byname3_fn *addr_glibc_byname3(void);
addr_byname4_fn *addr_glibc_byname4(void);
addr_byaddr2_fn *addr_glibc_byaddr2(void);

#endif

/*
 * preload.c - the libc names libsipcache-preload.so answers.
 *
 * Injected with LD_PRELOAD into an unmodified program, this file defines
 * the resolver entry points a legacy SIP server calls and hands each call
 * to the core (shim/sc_core.c, shim/sc_addr.c), which answers from the
 * shared cache or asks upstream through the real function (real.c).
 * Everything the core decides; this file only translates between the
 * libc calling conventions and the core's (the address lookups through
 * addr.c and gai.c, which build the hostent and addrinfo results glibc
 * would build), and passes a call through to the real function whenever
 * sipcache is not to touch it:
 *
 *   - the core is unavailable (SIPCACHE_DISABLE=1, a bad configuration, a
 *     cache file that is missing, untrusted or not writable): sc_core_get()
 *     returns NULL and every call goes straight to libc;
 *   - the call comes from inside sipcache itself (the per-thread guard of
 *     sc_core_enter(), shared with the NSS module): a group lookup over
 *     LDAP while the core opens its cache, say, must not re-enter it.
 *
 * Symbol versions.  Binaries built against glibc 2.34 or later reference
 * res_query@GLIBC_2.34 (libc); older ones __res_query@GLIBC_2.2.5
 * (libresolv), because <resolv.h> then renamed res_query to __res_query.
 * Both spellings are defined here, and preload.map exports them from an
 * anonymous version node: an unversioned definition satisfies a reference
 * to any version (elf/dl-lookup.c, check_match), so both kinds of binary
 * bind to us.  A named node would not match either and silently stop the
 * interposition.
 *
 * errno and h_errno.  The core leaves errno as libresolv would (0 after a
 * response, the error of a failed exchange: see sc_core.c) and reports
 * h_errno; here it is stored the way libresolv's RES_SET_H_ERRNO does, in
 * the thread's h_errno and in the state's res_h_errno (the caller's statp
 * for res_n*, the thread's _res otherwise), on failure only for
 * res_query and res_querydomain (a success leaves both untouched), always
 * for res_search (it sets HOST_NOT_FOUND before it starts and never
 * clears it).  The set-up of the core on the first call may touch errno;
 * it is put back before the lookup proper starts.
 */
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stddef.h>

#include "preload.h"

/* Older <resolv.h> renamed these with macros; we define both spellings. */
#undef res_query
#undef res_search
#undef res_querydomain
#undef res_nquery
#undef res_nsearch
#undef res_nquerydomain

#define SC_EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------------ */
/* the res_* family                                                    */

enum res_op {
	RES_OP_QUERY,
	RES_OP_SEARCH,
	RES_OP_QUERYDOMAIN,
};

struct res_call {
	enum res_op op;
	struct __res_state *statp;   /* NULL: res_query & co, the thread's _res */
	const char *name;
	const char *domain;          /* res_querydomain */
	int class, type;
	unsigned char *answer;
	int anslen;
};

/* libresolv's RES_SET_H_ERRNO. */
static void set_herrno(struct __res_state *statp, int herrno)
{
	(statp ? statp : &_res)->res_h_errno = herrno;
	h_errno = herrno;
}

static int res_pass(const struct res_call *c)
{
	const struct preload_real *r = preload_real();

	switch (c->op) {
	case RES_OP_QUERY:
		if (c->statp ? r->res_nquery == NULL : r->res_query == NULL) {
			break;
		}
		return c->statp ? r->res_nquery(c->statp, c->name, c->class, c->type,
						c->answer, c->anslen)
				: r->res_query(c->name, c->class, c->type, c->answer, c->anslen);
	case RES_OP_SEARCH:
		if (c->statp ? r->res_nsearch == NULL : r->res_search == NULL) {
			break;
		}
		return c->statp ? r->res_nsearch(c->statp, c->name, c->class, c->type,
						 c->answer, c->anslen)
				: r->res_search(c->name, c->class, c->type, c->answer, c->anslen);
	case RES_OP_QUERYDOMAIN:
		if (c->statp ? r->res_nquerydomain == NULL : r->res_querydomain == NULL) {
			break;
		}
		return c->statp ? r->res_nquerydomain(c->statp, c->name, c->domain, c->class,
						      c->type, c->answer, c->anslen)
				: r->res_querydomain(c->name, c->domain, c->class, c->type,
						     c->answer, c->anslen);
	}
	/* No resolver in this process at all: what libresolv reports when
	 * it cannot get a context. */
	set_herrno(c->statp, NETDB_INTERNAL);
	errno = ENOSYS;
	return -1;
}

static int res_call(const struct res_call *c)
{
	struct sc_query q = {
		.name = c->name, .class = c->class, .type = c->type,
		.answer = c->answer, .anslen = c->anslen, .statp = c->statp,
		.hosts = true,
	};
	struct sc_core *core;
	int saved = errno, herrno = NETDB_INTERNAL, r;

	if (!sc_core_enter()) {
		return res_pass(c);
	}
	core = sc_core_get(preload_sc_real());
	errno = saved;
	if (core == NULL) {
		sc_core_leave();
		return res_pass(c);
	}
	switch (c->op) {
	case RES_OP_QUERY:
		r = sc_core_query(core, &q, &herrno);
		break;
	case RES_OP_SEARCH:
		r = sc_core_search(core, &q, &herrno);
		break;
	default:
		r = sc_core_querydomain(core, &q, c->domain, &herrno);
		break;
	}
	sc_core_leave();
	if (r < 0 || c->op == RES_OP_SEARCH) {
		set_herrno(c->statp, herrno);
	}
	return r;
}

/* The spellings of binaries built against glibc before 2.34 (no header
 * declares them any more). */
int __res_query(const char *, int, int, unsigned char *, int);
int __res_search(const char *, int, int, unsigned char *, int);
int __res_querydomain(const char *, const char *, int, int, unsigned char *, int);
int __res_nquery(res_state, const char *, int, int, unsigned char *, int);
int __res_nsearch(res_state, const char *, int, int, unsigned char *, int);
int __res_nquerydomain(res_state, const char *, const char *, int, int, unsigned char *, int);

static int call(enum res_op op, res_state statp, const char *name, const char *domain,
		int class, int type, unsigned char *answer, int anslen)
{
	struct res_call c = {
		.op = op, .statp = statp, .name = name, .domain = domain,
		.class = class, .type = type, .answer = answer, .anslen = anslen,
	};

	return res_call(&c);
}

SC_EXPORT int res_query(const char *dname, int class, int type, unsigned char *answer,
			int anslen)
{
	return call(RES_OP_QUERY, NULL, dname, NULL, class, type, answer, anslen);
}

SC_EXPORT int __res_query(const char *dname, int class, int type, unsigned char *answer,
			  int anslen)
{
	return call(RES_OP_QUERY, NULL, dname, NULL, class, type, answer, anslen);
}

SC_EXPORT int res_search(const char *dname, int class, int type, unsigned char *answer,
			 int anslen)
{
	return call(RES_OP_SEARCH, NULL, dname, NULL, class, type, answer, anslen);
}

SC_EXPORT int __res_search(const char *dname, int class, int type, unsigned char *answer,
			   int anslen)
{
	return call(RES_OP_SEARCH, NULL, dname, NULL, class, type, answer, anslen);
}

SC_EXPORT int res_querydomain(const char *name, const char *domain, int class, int type,
			      unsigned char *answer, int anslen)
{
	return call(RES_OP_QUERYDOMAIN, NULL, name, domain, class, type, answer, anslen);
}

SC_EXPORT int __res_querydomain(const char *name, const char *domain, int class, int type,
				unsigned char *answer, int anslen)
{
	return call(RES_OP_QUERYDOMAIN, NULL, name, domain, class, type, answer, anslen);
}

SC_EXPORT int res_nquery(res_state statp, const char *dname, int class, int type,
			 unsigned char *answer, int anslen)
{
	return call(RES_OP_QUERY, statp, dname, NULL, class, type, answer, anslen);
}

SC_EXPORT int __res_nquery(res_state statp, const char *dname, int class, int type,
			   unsigned char *answer, int anslen)
{
	return call(RES_OP_QUERY, statp, dname, NULL, class, type, answer, anslen);
}

SC_EXPORT int res_nsearch(res_state statp, const char *dname, int class, int type,
			  unsigned char *answer, int anslen)
{
	return call(RES_OP_SEARCH, statp, dname, NULL, class, type, answer, anslen);
}

SC_EXPORT int __res_nsearch(res_state statp, const char *dname, int class, int type,
			    unsigned char *answer, int anslen)
{
	return call(RES_OP_SEARCH, statp, dname, NULL, class, type, answer, anslen);
}

SC_EXPORT int res_nquerydomain(res_state statp, const char *name, const char *domain,
			       int class, int type, unsigned char *answer, int anslen)
{
	return call(RES_OP_QUERYDOMAIN, statp, name, domain, class, type, answer, anslen);
}

SC_EXPORT int __res_nquerydomain(res_state statp, const char *name, const char *domain,
				 int class, int type, unsigned char *answer, int anslen)
{
	return call(RES_OP_QUERYDOMAIN, statp, name, domain, class, type, answer, anslen);
}

/* ------------------------------------------------------------------ */
/* address lookups                                                     */

/*
 * addr.c and gai.c answer when they can; otherwise (false) the call goes
 * to the real function untouched.  errno is saved here and put back
 * before a pass-through, so the real function starts from the caller's.
 */

static struct preload_static byname_static = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct preload_static byname2_static = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct preload_static byaddr_static = { .lock = PTHREAD_MUTEX_INITIALIZER };

SC_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			  struct addrinfo **res)
{
	const struct preload_real *r = preload_real();
	int rc;

	if (preload_getaddrinfo(node, service, hints, res, &rc)) {
		return rc;
	}
	if (r->getaddrinfo == NULL) {
		return EAI_SYSTEM;
	}
	return r->getaddrinfo(node, service, hints, res);
}

SC_EXPORT void freeaddrinfo(struct addrinfo *ai)
{
	preload_freeaddrinfo(ai);
}

SC_EXPORT struct hostent *gethostbyname(const char *name)
{
	const struct preload_real *r = preload_real();
	struct hostent *he;

	if (preload_byname(name, AF_INET, &byname_static, &he)) {
		return he;
	}
	return r->gethostbyname ? r->gethostbyname(name) : NULL;
}

SC_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	const struct preload_real *r = preload_real();
	struct hostent *he;

	if (preload_byname(name, af, &byname2_static, &he)) {
		return he;
	}
	return r->gethostbyname2 ? r->gethostbyname2(name, af) : NULL;
}

SC_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
			      struct hostent **result, int *h_errnop)
{
	const struct preload_real *r = preload_real();
	int rc;

	if (preload_byname_r(name, AF_INET, ret, buf, buflen, result, h_errnop, &rc)) {
		return rc;
	}
	return r->gethostbyname_r ? r->gethostbyname_r(name, ret, buf, buflen, result, h_errnop)
				  : ENOSYS;
}

SC_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
			       size_t buflen, struct hostent **result, int *h_errnop)
{
	const struct preload_real *r = preload_real();
	int rc;

	if (preload_byname_r(name, af, ret, buf, buflen, result, h_errnop, &rc)) {
		return rc;
	}
	return r->gethostbyname2_r ? r->gethostbyname2_r(name, af, ret, buf, buflen, result,
							 h_errnop)
				   : ENOSYS;
}

SC_EXPORT struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type)
{
	const struct preload_real *r = preload_real();
	struct hostent *he;

	if (preload_byaddr(addr, len, type, &byaddr_static, &he)) {
		return he;
	}
	return r->gethostbyaddr ? r->gethostbyaddr(addr, len, type) : NULL;
}

SC_EXPORT int gethostbyaddr_r(const void *addr, socklen_t len, int type, struct hostent *ret,
			      char *buf, size_t buflen, struct hostent **result, int *h_errnop)
{
	const struct preload_real *r = preload_real();
	int rc;

	if (preload_byaddr_r(addr, len, type, ret, buf, buflen, result, h_errnop, &rc)) {
		return rc;
	}
	return r->gethostbyaddr_r ? r->gethostbyaddr_r(addr, len, type, ret, buf, buflen, result,
						       h_errnop)
				  : ENOSYS;
}

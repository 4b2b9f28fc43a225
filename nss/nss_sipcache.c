/*
 * nss_sipcache.c - libnss_sipcache.so.2: glibc's NSS `hosts' ABI over the
 * sipcache core.
 *
 * Thin glue: every decision is in shim/ (sc_addr.c).  Here: the one core
 * of the process (the preload's when it is loaded, see sc.h), the
 * recursion guard, and glibc's NSS protocol, to the letter of nss_dns:
 * the status, *errnop and *h_errnop of each outcome, the buffer sized
 * exactly before anything is written (TRYAGAIN/ERANGE/NETDB_INTERNAL when
 * it is short, so that glibc grows it and calls again), errno as the
 * caller had it on success and on "not found".
 *
 * UNAVAIL means "ask the next source": when sipcache is disabled,
 * misconfigured or its cache file unusable (sc_core_get() is NULL), for a
 * lookup made from inside sipcache itself, and for an answer the core
 * cannot represent.  `hosts: files sipcache [!UNAVAIL=return] dns' then
 * lets `dns' answer those, uncached, and returns everything else: our
 * answers, our negative answers, and our TRYAGAIN when no server
 * answered (the one place where we differ from nss_dns, which says
 * UNAVAIL there and so has `dns' ask the same servers again).
 *
 * _r and 2_r are 3_r (systemd's nss-resolve does the same); 3_r and 4_r
 * check the name like nss_dns does (res_hnok) in sc_addr.c.
 */
#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <nss.h>
#include <pthread.h>
#include <resolv.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "../shim/sc.h"

#define NSS_EXPORT __attribute__((visibility("default")))

enum nss_status _nss_sipcache_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,
					       char *buffer, size_t buflen, int *errnop,
					       int *h_errnop, int32_t *ttlp) NSS_EXPORT;
enum nss_status _nss_sipcache_gethostbyname3_r(const char *name, int af, struct hostent *result,
					       char *buffer, size_t buflen, int *errnop,
					       int *h_errnop, int32_t *ttlp, char **canonp) NSS_EXPORT;
enum nss_status _nss_sipcache_gethostbyname2_r(const char *name, int af, struct hostent *result,
					       char *buffer, size_t buflen, int *errnop,
					       int *h_errnop) NSS_EXPORT;
enum nss_status _nss_sipcache_gethostbyname_r(const char *name, struct hostent *result,
					      char *buffer, size_t buflen, int *errnop,
					      int *h_errnop) NSS_EXPORT;
enum nss_status _nss_sipcache_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
					       struct hostent *result, char *buffer, size_t buflen,
					       int *errnop, int *h_errnop, int32_t *ttlp) NSS_EXPORT;
enum nss_status _nss_sipcache_gethostbyaddr_r(const void *addr, socklen_t len, int af,
					      struct hostent *result, char *buffer, size_t buflen,
					      int *errnop, int *h_errnop) NSS_EXPORT;

/* ------------------------------------------------------------------ */
/* the process's core                                                  */

static pthread_once_t bind_once = PTHREAD_ONCE_INIT;
static const struct sc_core_ops *ops;
static struct sc_real real;
static int real_given;

/*
 * The preload's table when it is loaded (one core, one open of the cache
 * file per process), else ours.  libc's own res_query/res_nquery for
 * misses, looked up in libc itself: the global scope would give us the
 * preload's interposers, a detour through a guard on every miss.
 */
static void bind_core(void)
{
	const struct sc_core_ops *o = dlsym(RTLD_DEFAULT, SC_CORE_OPS_SYMBOL);
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);

	if (o && o != &sipcache_core_ops_v1 && o->size >= sizeof(*o)) {
		ops = o;
	} else {
		ops = &sipcache_core_ops_v1;
	}
	if (libc) {
		real.res_nquery = (int (*)(struct __res_state *, const char *, int, int,
					   unsigned char *, int))dlsym(libc, "res_nquery");
		real.res_query = (int (*)(const char *, int, int, unsigned char *,
					  int))dlsym(libc, "res_query");
	}
	if (real.res_nquery == NULL || real.res_query == NULL) {
		real.res_nquery = res_nquery;
		real.res_query = res_query;
	}
}

/* The core for one lookup, with the guard held; NULL: answer UNAVAIL. */
static struct sc_core *core_begin(void)
{
	struct sc_core *core;

	pthread_once(&bind_once, bind_core);
	/* A lookup from inside sipcache (its set-up resolving a group over
	 * LDAP, say) must not come back in: the next source answers it. */
	if (!ops->enter()) {
		return NULL;
	}
	/* `real' is copied once by the core: later calls pass NULL and
	 * skip the core's lock. */
	core = ops->get(__atomic_load_n(&real_given, __ATOMIC_ACQUIRE) ? NULL : &real);
	if (core == NULL) {
		ops->leave();
		return NULL;
	}
	__atomic_store_n(&real_given, 1, __ATOMIC_RELEASE);
	return core;
}

static enum nss_status unavailable(int *errnop, int *h_errnop)
{
	*errnop = ENOENT;
	*h_errnop = NO_RECOVERY;
	return NSS_STATUS_UNAVAIL;
}

/*
 * One outcome of sc_addr_* into glibc's three channels, as nss_dns sets
 * them (table in sc.h).  errno is the caller's again on success and
 * "not found"; *errnop, which is &errno when glibc calls, is written
 * only where nss_dns writes it.
 */
static enum nss_status translate(int r, int herrno, int saved_errno, int *errnop,
				 int *h_errnop)
{
	switch (r) {
	case 0:
		errno = saved_errno;
		*h_errnop = herrno;
		return NSS_STATUS_SUCCESS;
	case -ENOENT:
		errno = saved_errno;
		*h_errnop = herrno;
		if (herrno == TRY_AGAIN) {
			*errnop = EAGAIN;
		}
		return NSS_STATUS_NOTFOUND;
	case -EAGAIN:
		errno = saved_errno;
		*h_errnop = herrno;
		*errnop = herrno == TRY_AGAIN ? EAGAIN : ENOENT;
		return NSS_STATUS_TRYAGAIN;
	case -ERANGE:
		/* glibc grows the buffer and calls again. */
		*errnop = ERANGE;
		*h_errnop = NETDB_INTERNAL;
		return NSS_STATUS_TRYAGAIN;
	case -ETIMEDOUT:
	case -ECONNREFUSED:
		/*
		 * No server answered (and nothing stale to serve).  nss_dns
		 * says UNAVAIL here; so would we, `dns' would then send the
		 * same questions to the same servers and double the wait.
		 * This is a temporary failure, TRYAGAIN's very meaning, and
		 * `[!UNAVAIL=return]' after us stops on it (docs/nss.md).
		 */
		errno = saved_errno;
		*h_errnop = herrno;
		if (herrno == TRY_AGAIN) {
			*errnop = EAGAIN;
		}
		return NSS_STATUS_TRYAGAIN;
	default:
		*errnop = -r;
		*h_errnop = herrno;
		return NSS_STATUS_UNAVAIL;
	}
}

static void ttl_report(int32_t *ttlp, const struct sc_addr_result *res)
{
	if (ttlp && res->has_ttl && *ttlp > res->ttl) {
		*ttlp = res->ttl;
	}
}

/* ------------------------------------------------------------------ */
/* filling the caller's buffer                                         */

/* Bytes to skip at `buffer' so that pointers stored there are aligned
 * (glibc's buffers are, a direct caller's may not be). */
static size_t align_pad(const char *buffer, size_t align)
{
	return (align - (uintptr_t)buffer % align) % align;
}

/*
 * A hostent in `buffer': pointer arrays first (aligned), then the
 * addresses, then the strings.  -ERANGE, with nothing written, when it
 * does not fit.
 */
static int fill_hostent(const struct sc_addr_result *res, int af, struct hostent *result,
			char *buffer, size_t buflen)
{
	size_t alen = af == AF_INET ? 4 : 16;
	size_t pad = align_pad(buffer, alignof(char *));
	size_t need, used, n;
	char **aliases, **addrs;
	unsigned i;

	need = pad + (res->naliases + 1 + res->naddr + 1) * sizeof(char *) + res->naddr * alen +
	       strlen(res->name) + 1;
	for (i = 0; i < res->naliases; i++) {
		need += strlen(res->aliases[i]) + 1;
	}
	if (buflen < need) {
		return -ERANGE;
	}

	used = pad;
	aliases = (char **)(void *)(buffer + used);
	used += (res->naliases + 1) * sizeof(char *);
	addrs = (char **)(void *)(buffer + used);
	used += (res->naddr + 1) * sizeof(char *);
	for (i = 0; i < res->naddr; i++) {
		addrs[i] = buffer + used;
		memcpy(addrs[i], res->addr[i].addr, alen);
		used += alen;
	}
	addrs[res->naddr] = NULL;
	n = strlen(res->name) + 1;
	result->h_name = memcpy(buffer + used, res->name, n);
	used += n;
	for (i = 0; i < res->naliases; i++) {
		n = strlen(res->aliases[i]) + 1;
		aliases[i] = memcpy(buffer + used, res->aliases[i], n);
		used += n;
	}
	aliases[res->naliases] = NULL;
	assert(used == need);

	result->h_aliases = aliases;
	result->h_addrtype = af;
	result->h_length = (int)alen;
	result->h_addr_list = addrs;
	return 0;
}

/* gethostbyname4_r's list: the tuples, then the canonical name, which
 * only the first tuple carries. */
static int fill_tuples(const struct sc_addr_result *res, struct gaih_addrtuple **pat,
		       char *buffer, size_t buflen)
{
	size_t pad = align_pad(buffer, alignof(struct gaih_addrtuple));
	size_t n = strlen(res->name) + 1;
	size_t need = pad + res->naddr * sizeof(struct gaih_addrtuple) + n;
	struct gaih_addrtuple *t;
	char *canon;
	unsigned i;

	if (buflen < need) {
		return -ERANGE;
	}
	t = (struct gaih_addrtuple *)(void *)(buffer + pad);
	canon = memcpy(buffer + pad + res->naddr * sizeof(*t), res->name, n);
	assert(canon + n == buffer + need);
	for (i = 0; i < res->naddr; i++) {
		t[i].next = i + 1 < res->naddr ? &t[i + 1] : NULL;
		t[i].name = i == 0 ? canon : NULL;
		t[i].family = res->addr[i].family;
		memcpy(t[i].addr, res->addr[i].addr, res->addr[i].family == AF_INET ? 4 : 16);
		if (res->addr[i].family == AF_INET) {
			memset((char *)t[i].addr + 4, 0, 12);
		}
		t[i].scopeid = 0;
	}
	*pat = t;
	return 0;
}

/* ------------------------------------------------------------------ */
/* entry points                                                        */

enum nss_status _nss_sipcache_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,
					       char *buffer, size_t buflen, int *errnop,
					       int *h_errnop, int32_t *ttlp)
{
	int saved_errno = errno, herrno = NETDB_INTERNAL, r;
	struct sc_addr_result *res;
	struct sc_core *core;

	core = core_begin();
	if (core == NULL) {
		return unavailable(errnop, h_errnop);
	}
	res = sc_addr_result_get();
	if (res == NULL) {
		ops->leave();
		return translate(-ENOMEM, NETDB_INTERNAL, saved_errno, errnop, h_errnop);
	}
	r = ops->addr_by_name(core, name, AF_UNSPEC, ops->nss_sources(core), res, &herrno);
	ops->leave();
	if (r == 0) {
		r = fill_tuples(res, pat, buffer, buflen);
	}
	if (r != -ERANGE) {
		ttl_report(ttlp, res);
	}
	sc_addr_result_put(res);
	return translate(r, herrno, saved_errno, errnop, h_errnop);
}

enum nss_status _nss_sipcache_gethostbyname3_r(const char *name, int af, struct hostent *result,
					       char *buffer, size_t buflen, int *errnop,
					       int *h_errnop, int32_t *ttlp, char **canonp)
{
	int saved_errno = errno, herrno = NETDB_INTERNAL, r;
	struct sc_addr_result *res;
	struct sc_core *core;

	if (af != AF_INET && af != AF_INET6) {
		/* nss_dns's answer, before any lookup. */
		*errnop = EAFNOSUPPORT;
		*h_errnop = NO_DATA;
		return NSS_STATUS_UNAVAIL;
	}
	core = core_begin();
	if (core == NULL) {
		return unavailable(errnop, h_errnop);
	}
	res = sc_addr_result_get();
	if (res == NULL) {
		ops->leave();
		return translate(-ENOMEM, NETDB_INTERNAL, saved_errno, errnop, h_errnop);
	}
	r = ops->addr_by_name(core, name, af, ops->nss_sources(core), res, &herrno);
	ops->leave();
	if (r == 0) {
		r = fill_hostent(res, af, result, buffer, buflen);
	}
	if (r == 0 && canonp) {
		*canonp = result->h_name;
	}
	if (r != -ERANGE) {
		ttl_report(ttlp, res);
	}
	sc_addr_result_put(res);
	return translate(r, herrno, saved_errno, errnop, h_errnop);
}

enum nss_status _nss_sipcache_gethostbyname2_r(const char *name, int af, struct hostent *result,
					       char *buffer, size_t buflen, int *errnop,
					       int *h_errnop)
{
	return _nss_sipcache_gethostbyname3_r(name, af, result, buffer, buflen, errnop, h_errnop,
					      NULL, NULL);
}

enum nss_status _nss_sipcache_gethostbyname_r(const char *name, struct hostent *result,
					      char *buffer, size_t buflen, int *errnop,
					      int *h_errnop)
{
	return _nss_sipcache_gethostbyname3_r(name, AF_INET, result, buffer, buflen, errnop,
					      h_errnop, NULL, NULL);
}

enum nss_status _nss_sipcache_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
					       struct hostent *result, char *buffer, size_t buflen,
					       int *errnop, int *h_errnop, int32_t *ttlp)
{
	int saved_errno = errno, herrno = NETDB_INTERNAL, r;
	struct sc_addr_result *res;
	struct sc_core *core;

	/* nss_dns claims room for the address list before anything else:
	 * a buffer too small for it is ERANGE whatever the answer. */
	if (buflen < align_pad(buffer, alignof(char *)) + 2 * sizeof(char *)) {
		*errnop = ERANGE;
		*h_errnop = NETDB_INTERNAL;
		return NSS_STATUS_TRYAGAIN;
	}
	if ((af != AF_INET || len != 4) && (af != AF_INET6 || len != 16)) {
		*errnop = EAFNOSUPPORT;
		*h_errnop = NETDB_INTERNAL;
		return NSS_STATUS_UNAVAIL;
	}
	core = core_begin();
	if (core == NULL) {
		return unavailable(errnop, h_errnop);
	}
	res = sc_addr_result_get();
	if (res == NULL) {
		ops->leave();
		return translate(-ENOMEM, NETDB_INTERNAL, saved_errno, errnop, h_errnop);
	}
	r = ops->addr_by_addr(core, af, addr, ops->nss_sources(core), res, &herrno);
	ops->leave();
	if (r == 0) {
		/* A mapped IPv6 address comes back as IPv4, as from nss_dns. */
		r = fill_hostent(res, res->addr[0].family, result, buffer, buflen);
	}
	if (r != -ERANGE) {
		ttl_report(ttlp, res);
	}
	sc_addr_result_put(res);
	return translate(r, herrno, saved_errno, errnop, h_errnop);
}

enum nss_status _nss_sipcache_gethostbyaddr_r(const void *addr, socklen_t len, int af,
					      struct hostent *result, char *buffer, size_t buflen,
					      int *errnop, int *h_errnop)
{
	return _nss_sipcache_gethostbyaddr2_r(addr, len, af, result, buffer, buflen, errnop,
					      h_errnop, NULL);
}

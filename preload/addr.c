/*
 * addr.c - gethostbyname*() and gethostbyaddr*() the way glibc answers
 * them, from the core's address lookups (shim/sc_addr.c).
 *
 * The core decides what a name resolves to (nss_files then nss_dns, or
 * the other way round, as glibc 2.36 would, served from the cache).  What
 * is left for this file is what glibc's NSS wrapper (nss/getXXbyYY_r.c)
 * and nss_dns do with that answer in the caller's memory:
 *
 *   - the layout of the caller's buffer, which decides the smallest size
 *     that works (everything else gets ERANGE).  nss_dns fills it with
 *     glibc's alloc_buffer: the question name and each CNAME target as
 *     strings, then each address aligned to 4, then the address array and
 *     the alias array aligned to 8 (gethostbyname3_r); for PTR, the two
 *     address pointers first, then the name, then the address.  The same
 *     is done here, byte for byte from the caller's pointer, so the same
 *     sizes fail.  (A CNAME after an address record would interleave the
 *     strings differently in glibc; servers send the chain first.)
 *   - nss_files runs first in `files dns' and reads the hosts file line by
 *     line into the same buffer: a buffer too small for its longest line
 *     is ERANGE before DNS is asked.  That size is not known without
 *     parsing the file as nss_files does, so below a safe bound (five
 *     times the size of /etc/hosts, plus room for its line structure) the
 *     call goes to libc, which gives its own answer.
 *   - the return value, *h_errnop, errno and the thread's h_errno, as the
 *     wrapper combines the modules' statuses.  The values were measured on
 *     glibc 2.36 and read in getXXbyYY_r.c and dns-host.c: a success or a
 *     "not found" returns 0 with errno 0; a server that cannot be reached
 *     is EAGAIN with TRY_AGAIN; nss_dns's res_search leaves the thread's
 *     h_errno at HOST_NOT_FOUND after a success (PTR lookups use res_query,
 *     which leaves it alone).
 *
 * Everything this file cannot reproduce goes to libc, which answers as
 * it always did (with its own network queries, uncached):
 *   - answers from the hosts file: nss_files' own answer, exact and
 *     without network either;
 *   - numeric names ("10.1.2.3", "::1"): libc converts them without NSS;
 *   - a `hosts:' line with other sources (mdns, myhostname, ldap...) or
 *     with sipcache itself (the NSS module answers there), or without dns;
 *   - host.conf `reorder' or `trim' (or their RESOLV_* variables) and a
 *     resolv.conf `sortlist': they rewrite glibc's answer;
 *   - failures other than "not found" and "no server answered" when the
 *     hosts file comes second (`dns files'): glibc then asks the file,
 *     and its verdict depends on statuses this file does not see.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "preload.h"

/* nss_files reads /etc/hosts, whatever sipcache.conf's hosts_file says. */
#define GLIBC_HOSTS "/etc/hosts"
#define GLIBC_HOSTCONF "/etc/host.conf"

/* ------------------------------------------------------------------ */
/* when to answer at all                                               */

static pthread_once_t hconf_once = PTHREAD_ONCE_INIT;
static bool hconf_rewrites;

/*
 * host.conf's `reorder' and `trim' change gethostbyname's answers (glibc
 * reads the file once per process, as here).  Any mention of them, in the
 * file or in glibc's environment variables, sends address lookups to libc.
 */
static void hconf_read(void)
{
	const char *path = getenv("RESOLV_HOST_CONF");
	char line[1024];
	FILE *f;

	if (getenv("RESOLV_REORDER") || getenv("RESOLV_TRIM_OVERRIDE") ||
	    getenv("RESOLV_ADD_TRIM_DOMAINS")) {
		hconf_rewrites = true;
		return;
	}
	f = fopen(path ? path : GLIBC_HOSTCONF, "rce");
	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " \t");

		if (strncasecmp(p, "reorder", 7) == 0 || strncasecmp(p, "trim", 4) == 0) {
			hconf_rewrites = true;
		}
	}
	fclose(f);
}

bool preload_addr_enter(struct addr_gate *g)
{
	const struct sc_nsswitch *ns;
	enum sc_hosts_order order;

	pthread_once(&hconf_once, hconf_read);
	if (hconf_rewrites || !sc_core_enter()) {
		return false;
	}
	g->core = sc_core_get(preload_sc_real());
	if (g->core == NULL) {
		goto pass;
	}
	ns = sc_core_nsswitch(g->core);
	if (ns->found && (ns->other_sources || ns->pos_sipcache >= 0 || ns->pos_dns < 0)) {
		goto pass;
	}
	/* resolv.conf's sortlist reorders nss_dns's IPv4 answers. */
	if (!(_res.options & RES_INIT) && res_init() != 0) {
		goto pass;
	}
	if (_res.nsort > 0) {
		goto pass;
	}
	order = sc_core_hosts_order(g->core);
	g->sources = SC_ADDR_DNS | (order == SC_HOSTS_NEVER ? 0 : SC_ADDR_FILES);
	g->files_first = order == SC_HOSTS_FILES_FIRST;
	return true;

pass:
	sc_core_leave();
	return false;
}

void preload_addr_leave(void)
{
	sc_core_leave();
}

/*
 * A buffer size at which nss_files surely reads every line of the hosts
 * file: its parser needs 8 bytes of alignment, 32 of its own data, the
 * line with its newline and NUL plus one byte (fgets truncation marker),
 * then an 8-aligned array of one pointer per alias and a NULL, where an
 * alias takes at least two bytes of the line: at most 5 x line + 64.  The
 * file's size bounds its longest line.  Checked at most once a second,
 * so that a hit makes no syscall.
 */
size_t preload_files_bound(void)
{
	static int64_t checked_ms = -1000000;
	static size_t bound;
	int64_t now = sc_now_mono_ms();
	struct stat st;

	if (now - __atomic_load_n(&checked_ms, __ATOMIC_RELAXED) >= 1000 ||
	    now < __atomic_load_n(&checked_ms, __ATOMIC_RELAXED)) {
		size_t b = stat(GLIBC_HOSTS, &st) == 0 ? (size_t)st.st_size * 5 + 128 : 0;

		__atomic_store_n(&bound, b, __ATOMIC_RELAXED);
		__atomic_store_n(&checked_ms, now, __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&bound, __ATOMIC_RELAXED);
}

/* Names libc converts itself, without NSS (__nss_hostname_digits_dots). */
static bool numeric_name(const char *name)
{
	if (strchr(name, ':')) {
		return true;
	}
	return name[0] >= '0' && name[0] <= '9' && name[strspn(name, "0123456789.")] == '\0';
}

/* ------------------------------------------------------------------ */
/* glibc's alloc_buffer over the caller's buffer                       */

struct abuf {
	uintptr_t cur, end;
	bool failed;
};

static void *ab_take(struct abuf *b, size_t size, size_t align)
{
	uintptr_t p = (b->cur + align - 1) & ~(uintptr_t)(align - 1);

	if (b->failed || p < b->cur || p + size < p || p + size > b->end) {
		b->failed = true;
		return NULL;
	}
	b->cur = p + size;
	return (void *)p;
}

static char *ab_string(struct abuf *b, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ab_take(b, n, 1);

	if (p) {
		memcpy(p, s, n);
	}
	return p;
}

/* ------------------------------------------------------------------ */
/* by name                                                             */

/*
 * The hostent nss_dns's gethostbyname3_r makes of `res' in `buf' (see the
 * top of this file).  false: the buffer is too small (nss_dns: ERANGE).
 */
static bool fill_byname(const struct sc_addr_result *res, int af, struct hostent *he,
			char *buf, size_t buflen)
{
	struct abuf b = { (uintptr_t)buf, (uintptr_t)buf + buflen, false };
	size_t alen = af == AF_INET ? 4 : 16;
	char *names[SC_ADDR_MAXALIAS + 1];
	char *addrs[SC_ADDR_MAX];
	char **addr_list, **alias_list;
	unsigned i, nnames = 0;

	for (i = 0; i < res->naliases; i++) {
		names[nnames++] = ab_string(&b, res->aliases[i]);
	}
	names[nnames++] = ab_string(&b, res->name);
	for (i = 0; i < res->naddr; i++) {
		addrs[i] = ab_take(&b, 0, 4);
		if (ab_take(&b, alen, 1)) {
			memcpy(addrs[i], res->addr[i].addr, alen);
		}
	}
	addr_list = ab_take(&b, (res->naddr + 1) * sizeof(char *), sizeof(char *));
	alias_list = ab_take(&b, nnames * sizeof(char *), sizeof(char *));
	if (b.failed) {
		return false;
	}
	memcpy(addr_list, addrs, res->naddr * sizeof(char *));
	addr_list[res->naddr] = NULL;
	memcpy(alias_list, names, (nnames - 1) * sizeof(char *));
	alias_list[nnames - 1] = NULL;
	he->h_name = names[nnames - 1];
	he->h_aliases = alias_list;
	he->h_addrtype = af;
	he->h_length = (int)alen;
	he->h_addr_list = addr_list;
	return true;
}

static void set_h_errno_res(int v)
{
	/* What nss_dns's res_search leaves: the thread's h_errno and
	 * _res.res_h_errno (RES_SET_H_ERRNO on the thread's state). */
	_res.res_h_errno = v;
	h_errno = v;
}

bool preload_byname_r(const char *name, int af, struct hostent *he, char *buf, size_t buflen,
		      struct hostent **result, int *h_errnop, int *ret_rc)
{
	struct sc_addr_result *res;
	struct addr_gate g;
	int saved = errno, herrno = NETDB_INTERNAL, r;
	bool done = false;

	if (name == NULL || he == NULL || result == NULL || h_errnop == NULL ||
	    (af != AF_INET && af != AF_INET6) || numeric_name(name)) {
		return false;
	}
	if (!preload_addr_enter(&g)) {
		return false;
	}
	/* nss_files reads the whole file into this buffer first. */
	if (g.files_first && buflen < preload_files_bound()) {
		preload_addr_leave();
		return false;
	}
	res = sc_addr_result_get();
	if (res == NULL) {
		preload_addr_leave();
		errno = saved;
		return false;
	}
	r = sc_addr_by_name(g.core, name, af, g.sources, res, &herrno);
	preload_addr_leave();

	if (r == 0 && !res->from_hosts) {
		set_h_errno_res(HOST_NOT_FOUND);
		if (fill_byname(res, af, he, buf, buflen)) {
			*result = he;
			*h_errnop = NETDB_SUCCESS;
			*ret_rc = 0;
		} else {
			*result = NULL;
			*h_errnop = NETDB_INTERNAL;
			*ret_rc = ERANGE;
		}
		done = true;
	} else if (r == -ENOENT && g.files_first) {
		/* "Not found" (NXDOMAIN, no data): 0 and no result. */
		set_h_errno_res(herrno);
		*result = NULL;
		*h_errnop = herrno;
		*ret_rc = 0;
		done = true;
	} else if ((r == -ETIMEDOUT || r == -ECONNREFUSED) && g.files_first) {
		/* No server answered (and nothing stale to serve). */
		set_h_errno_res(TRY_AGAIN);
		*result = NULL;
		*h_errnop = TRY_AGAIN;
		*ret_rc = EAGAIN;
		done = true;
	}
	sc_addr_result_put(res);
	if (!done) {
		errno = saved;
		return false;
	}
	errno = *ret_rc;
	return true;
}

bool preload_byname(const char *name, int af, struct preload_static *st,
		    struct hostent **ret)
{
	struct hostent *result = NULL;
	int herr = 0, rc = 0;
	bool done = false;
	size_t want;

	/* A call from inside sipcache (the set-up's group lookup over LDAP,
	 * say) must not wait for the lock its own thread holds. */
	if (!sc_core_enter()) {
		return false;
	}
	sc_core_leave();
	pthread_mutex_lock(&st->lock);
	/* No ERANGE is visible here: glibc grows its buffer until the
	 * answer fits, so a buffer at least as large as its own start is
	 * all that matters (and the hosts file must fit, as above). */
	want = preload_files_bound();
	if (want < 1024) {
		want = 1024;
	}
	for (;;) {
		if (st->len < want) {
			char *nb = realloc(st->buf, want);

			if (nb == NULL) {
				break;
			}
			st->buf = nb;
			st->len = want;
		}
		done = preload_byname_r(name, af, &st->he, st->buf, st->len, &result, &herr, &rc);
		if (!done || rc != ERANGE || want > (1u << 20)) {
			break;
		}
		want *= 2;
	}
	pthread_mutex_unlock(&st->lock);
	if (!done || rc == ERANGE) {
		return false;
	}
	/* glibc copies a nonzero *h_errnop into h_errno; a success leaves
	 * what res_search set. */
	if (herr != 0) {
		h_errno = herr;
	}
	*ret = result;
	return true;
}

/* ------------------------------------------------------------------ */
/* by address                                                          */

/* nss_dns's gethostbyaddr2_r layout: the two address pointers first, then
 * the name, then the address aligned to 4. */
static bool fill_byaddr(const struct sc_addr_result *res, struct hostent *he, char *buf,
			size_t buflen)
{
	struct abuf b = { (uintptr_t)buf, (uintptr_t)buf + buflen, false };
	int af = res->addr[0].family;
	size_t alen = af == AF_INET ? 4 : 16;
	char **array, *name, *addr;

	array = ab_take(&b, 2 * sizeof(char *), sizeof(char *));
	name = ab_string(&b, res->name);
	addr = ab_take(&b, 0, 4);
	if (ab_take(&b, alen, 1)) {
		memcpy(addr, res->addr[0].addr, alen);
	}
	if (b.failed) {
		return false;
	}
	array[0] = addr;
	array[1] = NULL;
	he->h_name = name;
	he->h_aliases = &array[1];
	he->h_addrtype = af;
	he->h_length = (int)alen;
	he->h_addr_list = array;
	return true;
}

bool preload_byaddr_r(const void *addr, socklen_t len, int af, struct hostent *he, char *buf,
		      size_t buflen, struct hostent **result, int *h_errnop, int *ret_rc)
{
	static const unsigned char any6[16];
	struct sc_addr_result *res;
	struct addr_gate g;
	int saved = errno, herrno = NETDB_INTERNAL, r;
	bool done = false;

	if (addr == NULL || he == NULL || result == NULL || h_errnop == NULL ||
	    !((af == AF_INET && len == 4) || (af == AF_INET6 && len == 16)) ||
	    (af == AF_INET6 && memcmp(addr, any6, 16) == 0)) {
		/* Odd lengths, other families and `::' (which libc turns
		 * down itself) are libc's. */
		return false;
	}
	if (!preload_addr_enter(&g)) {
		return false;
	}
	if ((g.files_first && buflen < preload_files_bound()) || buflen < 2 * sizeof(char *)) {
		/* nss_dns wants its two pointers before it asks anything. */
		preload_addr_leave();
		return false;
	}
	res = sc_addr_result_get();
	if (res == NULL) {
		preload_addr_leave();
		errno = saved;
		return false;
	}
	r = sc_addr_by_addr(g.core, af, addr, g.sources, res, &herrno);
	preload_addr_leave();

	if (r == 0 && !res->from_hosts && res->naddr > 0 && res->name) {
		/* res_query (no search): a success leaves h_errno alone. */
		if (fill_byaddr(res, he, buf, buflen)) {
			*result = he;
			*h_errnop = NETDB_SUCCESS;
			*ret_rc = 0;
		} else {
			*result = NULL;
			*h_errnop = NETDB_INTERNAL;
			*ret_rc = ERANGE;
		}
		done = true;
	} else if (r == -ENOENT && g.files_first) {
		set_h_errno_res(herrno);
		*result = NULL;
		*h_errnop = herrno;
		*ret_rc = 0;
		done = true;
	} else if (r == -EAGAIN && g.files_first && herrno != NETDB_INTERNAL) {
		/* An answer without a usable PTR record. */
		*result = NULL;
		*h_errnop = herrno;
		*ret_rc = EAGAIN;
		done = true;
	}
	sc_addr_result_put(res);
	if (!done) {
		errno = saved;
		return false;
	}
	errno = *ret_rc;
	return true;
}

bool preload_byaddr(const void *addr, socklen_t len, int af, struct preload_static *st,
		    struct hostent **ret)
{
	struct hostent *result = NULL;
	int herr = 0, rc = 0;
	bool done = false;
	size_t want;

	if (!sc_core_enter()) {
		return false;   /* from inside sipcache: see preload_byname */
	}
	sc_core_leave();
	pthread_mutex_lock(&st->lock);
	want = preload_files_bound();
	if (want < 1024) {
		want = 1024;
	}
	for (;;) {
		if (st->len < want) {
			char *nb = realloc(st->buf, want);

			if (nb == NULL) {
				break;
			}
			st->buf = nb;
			st->len = want;
		}
		done = preload_byaddr_r(addr, len, af, &st->he, st->buf, st->len, &result, &herr,
					&rc);
		if (!done || rc != ERANGE || want > (1u << 20)) {
			break;
		}
		want *= 2;
	}
	pthread_mutex_unlock(&st->lock);
	if (!done || rc == ERANGE) {
		return false;
	}
	if (herr != 0) {
		h_errno = herr;
	}
	*ret = result;
	return true;
}

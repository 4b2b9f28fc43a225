/*
 * preload.h - what preload.c (the libc names) and real.c (the next
 * definitions of those names) share.  Internal to the preload; never
 * installed.
 */
#ifndef SC_PRELOAD_H
#define SC_PRELOAD_H

#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "../shim/sc.h"

struct __res_state;

/*
 * The next definition of every name the preload defines: libc's (or an
 * interposer loaded after us).  A member is NULL when no such definition
 * exists; the caller then fails the way libc fails for lack of resources.
 */
struct preload_real {
	int (*res_query)(const char *dname, int class, int type,
			 unsigned char *answer, int anslen);
	int (*res_search)(const char *dname, int class, int type,
			  unsigned char *answer, int anslen);
	int (*res_querydomain)(const char *name, const char *domain, int class,
			       int type, unsigned char *answer, int anslen);
	int (*res_nquery)(struct __res_state *statp, const char *dname, int class,
			  int type, unsigned char *answer, int anslen);
	int (*res_nsearch)(struct __res_state *statp, const char *dname, int class,
			   int type, unsigned char *answer, int anslen);
	int (*res_nquerydomain)(struct __res_state *statp, const char *name,
				const char *domain, int class, int type,
				unsigned char *answer, int anslen);

	int (*getaddrinfo)(const char *node, const char *service,
			   const struct addrinfo *hints, struct addrinfo **res);
	void (*freeaddrinfo)(struct addrinfo *ai);
	struct hostent *(*gethostbyname)(const char *name);
	struct hostent *(*gethostbyname2)(const char *name, int af);
	int (*gethostbyname_r)(const char *name, struct hostent *ret, char *buf,
			       size_t buflen, struct hostent **result, int *h_errnop);
	int (*gethostbyname2_r)(const char *name, int af, struct hostent *ret,
				char *buf, size_t buflen, struct hostent **result,
				int *h_errnop);
	struct hostent *(*gethostbyaddr)(const void *addr, socklen_t len, int type);
	int (*gethostbyaddr_r)(const void *addr, socklen_t len, int type,
			       struct hostent *ret, char *buf, size_t buflen,
			       struct hostent **result, int *h_errnop);
};

/* ------------------------------------------------------------------ */
/* addr.c: gethostbyname*, gethostbyaddr*                              */

/* The gate every address lookup passes: whether the core may answer it
 * at all (see addr.c).  On true the recursion guard is held: call
 * preload_addr_leave(). */
struct addr_gate {
	struct sc_core *core;
	unsigned sources;      /* SC_ADDR_* for sc_addr_by_*() */
	bool files_first;      /* glibc reads the hosts file before DNS */
};
bool preload_addr_enter(struct addr_gate *g);
void preload_addr_leave(void);
/* A buffer size at which nss_files surely reads all of /etc/hosts. */
size_t preload_files_bound(void);

/*
 * Each returns true when it answered, with every output (return code in
 * *ret_rc, *result, *h_errnop, errno, h_errno) as glibc's would be; false
 * when libc must answer instead (errno and h_errno are then unchanged).
 */
bool preload_byname_r(const char *name, int af, struct hostent *he, char *buf, size_t buflen,
		      struct hostent **result, int *h_errnop, int *ret_rc);
bool preload_byaddr_r(const void *addr, socklen_t len, int af, struct hostent *he, char *buf,
		      size_t buflen, struct hostent **result, int *h_errnop, int *ret_rc);

/* The storage of a non-reentrant function (one per function, as glibc). */
struct preload_static {
	pthread_mutex_t lock;
	struct hostent he;
	char *buf;
	size_t len;
};
bool preload_byname(const char *name, int af, struct preload_static *st, struct hostent **ret);
bool preload_byaddr(const void *addr, socklen_t len, int af, struct preload_static *st,
		    struct hostent **ret);

/* ------------------------------------------------------------------ */
/* gai.c: getaddrinfo                                                  */

bool preload_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			 struct addrinfo **pai, int *ret_rc);
/* Frees lists of either getaddrinfo: both allocate alike. */
void preload_freeaddrinfo(struct addrinfo *ai);

/* ------------------------------------------------------------------ */
/* real.c                                                              */

/* Bound on first use (pthread_once), never in a constructor. */
const struct preload_real *preload_real(void);
/* The libresolv functions the core calls on a miss: the real ones. */
const struct sc_real *preload_sc_real(void);

#endif /* SC_PRELOAD_H */

/*
 * real.c - the next definition of every name the preload defines.
 *
 * Bound once, on first use (pthread_once), never in a constructor: a
 * constructor runs before the program's own libraries are initialised,
 * and in some programs (those that dlopen us, or link us first) before
 * libc is ready for dlsym.
 *
 * Where each name is found, first match wins:
 *   1. dlsym(RTLD_NEXT, name): the definition after ours in the lookup
 *      order, libc's on glibc 2.34 and later (res_query@@GLIBC_2.34).
 *   2. for the res_* family, the __res_* spelling at its old version with
 *      dlvsym(): glibc 2.34 moved the resolver into libc and keeps the
 *      old names only as compat symbols (__res_query@GLIBC_2.2.5), which
 *      plain dlsym() never returns.
 *   3. dlopen("libresolv.so.2") and the __res_* spelling: glibc before
 *      2.34, where a program that does not link libresolv has no
 *      resolver loaded at all.
 * Never our own definitions: the core calls these on a miss, and our own
 * res_query would recurse into the core.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "preload.h"

/* The version libresolv's __res_* names had before glibc 2.34 (the
 * first node of the architecture's ABI); they live on at it as compat
 * symbols of libc. */
#if defined(__x86_64__) && !defined(__ILP32__)
#define OLD_RESOLV_VERSION "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define OLD_RESOLV_VERSION "GLIBC_2.17"
#elif defined(__i386__)
#define OLD_RESOLV_VERSION "GLIBC_2.2"
#else
#define OLD_RESOLV_VERSION "GLIBC_2.2.5"   /* others: step 3 finds them */
#endif

static struct preload_real real;
static struct sc_real sc_real_fns;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* What we bind, by member offset: one loop instead of one block each. */
static const struct {
	const char *name;
	size_t off;
	bool resolver;   /* has a __res_* spelling in libresolv */
} names[] = {
	{ "res_query", offsetof(struct preload_real, res_query), true },
	{ "res_search", offsetof(struct preload_real, res_search), true },
	{ "res_querydomain", offsetof(struct preload_real, res_querydomain), true },
	{ "res_nquery", offsetof(struct preload_real, res_nquery), true },
	{ "res_nsearch", offsetof(struct preload_real, res_nsearch), true },
	{ "res_nquerydomain", offsetof(struct preload_real, res_nquerydomain), true },
	{ "getaddrinfo", offsetof(struct preload_real, getaddrinfo), false },
	{ "freeaddrinfo", offsetof(struct preload_real, freeaddrinfo), false },
	{ "gethostbyname", offsetof(struct preload_real, gethostbyname), false },
	{ "gethostbyname2", offsetof(struct preload_real, gethostbyname2), false },
	{ "gethostbyname_r", offsetof(struct preload_real, gethostbyname_r), false },
	{ "gethostbyname2_r", offsetof(struct preload_real, gethostbyname2_r), false },
	{ "gethostbyaddr", offsetof(struct preload_real, gethostbyaddr), false },
	{ "gethostbyaddr_r", offsetof(struct preload_real, gethostbyaddr_r), false },
};

static void *bind_one(const char *name, bool resolver)
{
	static void *libresolv;
	char old[64];
	void *p;

	p = dlsym(RTLD_NEXT, name);
	if (p || !resolver) {
		return p;
	}
	snprintf(old, sizeof(old), "__%s", name);
	p = dlvsym(RTLD_NEXT, old, OLD_RESOLV_VERSION);
	if (p) {
		return p;
	}
	if (libresolv == NULL) {
		libresolv = dlopen("libresolv.so.2", RTLD_LAZY | RTLD_LOCAL);
	}
	if (libresolv == NULL) {
		return NULL;
	}
	p = dlsym(libresolv, old);
	return p ? p : dlsym(libresolv, name);
}

static void real_bind(void)
{
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(names); i++) {
		void *p = bind_one(names[i].name, names[i].resolver);

		/* dlsym gives an object pointer; the member is a function
		 * pointer of the same size (POSIX requires it to convert). */
		memcpy((char *)&real + names[i].off, &p, sizeof(p));
	}
	sc_real_fns.res_nquery = real.res_nquery;
	sc_real_fns.res_query = real.res_query;
}

const struct preload_real *preload_real(void)
{
	pthread_once(&real_once, real_bind);
	return &real;
}

const struct sc_real *preload_sc_real(void)
{
	pthread_once(&real_once, real_bind);
	return &sc_real_fns;
}

/*
 * nss_call - call one hosts entry point of an NSS module directly, the way
 * glibc does, and print what it returned; for the integration tests
 * (tests/integration/test_nss_*.sh), which need what getent cannot show:
 * the TTL of gethostbyname3_r/4_r, h_errno and errno.
 *
 *   nss_call MODULE byname3 NAME inet|inet6
 *   nss_call MODULE byname4 NAME
 *   nss_call MODULE byaddr2 ADDRESS
 *   nss_call res res_query NAME      (res_query A, as an application would:
 *                                     under the preload, its core answers)
 *
 * MODULE is an NSS service name: "sipcache" is dlopen()ed by its file
 * name as glibc would (libnss_sipcache.so.2, from the library path);
 * "dns" is glibc's nss_dns, built into libc 2.34+.  Several calls may be
 * given one after the other, separated by "--".  One line per call:
 *
 *   MODULE: STATUS errno=E h_errno=H ttl=T | ANSWER
 *
 * then "cache_fds=N": how many descriptors of this process are open on a
 * file named cache.tdb (one core per process: the preload's and the
 * module's must share one open).  errno is poisoned before each call.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <nss.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POISON 4242

typedef enum nss_status byname3_fn(const char *, int, struct hostent *, char *, size_t, int *,
				   int *, int32_t *, char **);
typedef enum nss_status byname4_fn(const char *, struct gaih_addrtuple **, char *, size_t,
				   int *, int *, int32_t *);
typedef enum nss_status byaddr2_fn(const void *, socklen_t, int, struct hostent *, char *,
				   size_t, int *, int *, int32_t *);

static char buf[65536];

static const char *status_name(enum nss_status s)
{
	switch (s) {
	case NSS_STATUS_SUCCESS:
		return "SUCCESS";
	case NSS_STATUS_NOTFOUND:
		return "NOTFOUND";
	case NSS_STATUS_TRYAGAIN:
		return "TRYAGAIN";
	case NSS_STATUS_UNAVAIL:
		return "UNAVAIL";
	default:
		return "OTHER";
	}
}

static void *entry(const char *module, const char *fn)
{
	char name[128];
	void *p;

	snprintf(name, sizeof(name), "_nss_%s_%s", module, fn);
	if (strcmp(module, "dns") == 0) {
		p = dlvsym(RTLD_DEFAULT, name, "GLIBC_PRIVATE");
	} else {
		char lib[128];
		void *h;

		snprintf(lib, sizeof(lib), "libnss_%s.so.2", module);
		h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL) {
			fprintf(stderr, "nss_call: %s\n", dlerror());
			exit(2);
		}
		p = dlsym(h, name);
	}
	if (p == NULL) {
		fprintf(stderr, "nss_call: %s: not found\n", name);
		exit(2);
	}
	return p;
}

static void print_addr(int family, const void *a, int first)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, a, text, sizeof(text));
	printf("%s%s", first ? "" : ",", text);
}

static void print_hostent(const struct hostent *h)
{
	printf("name=%s aliases=", h->h_name);
	for (char **a = h->h_aliases; *a; a++) {
		printf("%s%s", a == h->h_aliases ? "" : ",", *a);
	}
	printf(" addrs=");
	for (char **a = h->h_addr_list; *a; a++) {
		print_addr(h->h_addrtype, *a, a == h->h_addr_list);
	}
}

static void head(const char *module, enum nss_status s, int err, int herr, int32_t ttl)
{
	printf("%s: %s errno=%d h_errno=%d ", module, status_name(s), err, herr);
	if (ttl == INT32_MAX) {
		printf("ttl=- | ");
	} else {
		printf("ttl=%d | ", (int)ttl);
	}
}

/* One call; returns the number of arguments it used. */
static int call(const char *module, char **argv, int argc)
{
	int err, herr = -7;
	int32_t ttl = INT32_MAX;
	enum nss_status s;

	if (argc >= 3 && strcmp(argv[0], "byname3") == 0) {
		int af = strcmp(argv[2], "inet6") == 0 ? AF_INET6 : AF_INET;
		byname3_fn *f = (byname3_fn *)entry(module, "gethostbyname3_r");
		struct hostent h;
		char *canon = NULL;

		errno = POISON;
		s = f(argv[1], af, &h, buf, sizeof(buf), &errno, &herr, &ttl, &canon);
		err = errno;
		head(module, s, err, herr, ttl);
		if (s == NSS_STATUS_SUCCESS) {
			print_hostent(&h);
		}
		printf("\n");
		return 3;
	}
	if (argc >= 2 && strcmp(argv[0], "byname4") == 0) {
		byname4_fn *f = (byname4_fn *)entry(module, "gethostbyname4_r");
		struct gaih_addrtuple *pat = NULL;

		errno = POISON;
		s = f(argv[1], &pat, buf, sizeof(buf), &errno, &herr, &ttl);
		err = errno;
		head(module, s, err, herr, ttl);
		if (s == NSS_STATUS_SUCCESS) {
			printf("name=%s addrs=", pat->name);
			for (struct gaih_addrtuple *t = pat; t; t = t->next) {
				print_addr(t->family, t->addr, t == pat);
			}
		}
		printf("\n");
		return 2;
	}
	if (argc >= 2 && strcmp(argv[0], "byaddr2") == 0) {
		byaddr2_fn *f = (byaddr2_fn *)entry(module, "gethostbyaddr2_r");
		unsigned char a[16];
		int af = strchr(argv[1], ':') ? AF_INET6 : AF_INET;
		struct hostent h;

		if (inet_pton(af, argv[1], a) != 1) {
			fprintf(stderr, "nss_call: %s: not an address\n", argv[1]);
			exit(2);
		}
		errno = POISON;
		s = f(a, af == AF_INET ? 4 : 16, af, &h, buf, sizeof(buf), &errno, &herr, &ttl);
		err = errno;
		head(module, s, err, herr, ttl);
		if (s == NSS_STATUS_SUCCESS) {
			print_hostent(&h);
		}
		printf("\n");
		return 2;
	}
	if (argc >= 2 && strcmp(argv[0], "res_query") == 0) {
		int n = res_query(argv[1], C_IN, T_A, (unsigned char *)buf, (int)sizeof(buf));

		printf("res_query: %d h_errno=%d\n", n, h_errno);
		return 2;
	}
	fprintf(stderr, "usage: nss_call MODULE byname3 NAME inet|inet6 | byname4 NAME | "
			"byaddr2 ADDRESS | res res_query NAME [-- ...]\n");
	exit(2);
}

static int cache_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)) != NULL) {
		char link[300], target[4096];
		ssize_t len;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = 0;
			n += len >= 9 && strcmp(target + len - 9, "cache.tdb") == 0;
		}
	}
	if (d) {
		closedir(d);
	}
	return n;
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i + 1 < argc) {
		const char *module = argv[i++];

		i += call(module, argv + i, argc - i);
		if (i < argc && strcmp(argv[i], "--") == 0) {
			i++;
		}
	}
	if (i != argc) {
		call("", argv + argc, 0);   /* usage */
	}
	printf("cache_fds=%d\n", cache_fds());
	return 0;
}

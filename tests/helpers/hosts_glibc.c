/*
 * hosts_glibc.c - glibc's nss_files as an oracle for hosts-file answers.
 * See hosts_glibc.h.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <nss.h>
#include <resolv.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hosts_glibc.h"

void hstr_add(struct hstr *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = s->cap - s->len;

		va_start(ap, fmt);
		n = vsnprintf(s->p ? s->p + s->len : NULL, s->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			abort();
		}
		if (s->p != NULL && (size_t)n < room) {
			s->len += (size_t)n;
			return;
		}
		s->cap = (s->len + (size_t)n + 1) * 2;
		s->p = realloc(s->p, s->cap);
		if (s->p == NULL) {
			abort();
		}
		s->p[s->len] = '\0';
	}
}

void hstr_free(struct hstr *s)
{
	free(s->p);
	s->p = NULL;
	s->len = s->cap = 0;
}

int hosts_write(const char *path, const void *buf, size_t len)
{
	const char *p = buf;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		return -errno;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			int r = -errno;

			close(fd);
			return r;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0) {
		return -errno;
	}
	return 0;
}

int hosts_write_str(const char *path, const char *s)
{
	return hosts_write(path, s, strlen(s));
}

static int ensure(const char *dir, const char *name, const char *def,
		  char *path, size_t pathlen)
{
	struct stat st;

	snprintf(path, pathlen, "%s/%s", dir, name);
	if (stat(path, &st) == 0) {
		return 0;
	}
	return hosts_write_str(path, def);
}

int hosts_ns_enter(const char *dir, char *err, size_t errlen)
{
	static const struct {
		const char *name, *def, *target;
	} files[] = {
		{ "hosts", "", "/etc/hosts" },
		{ "host.conf", "multi on\n", "/etc/host.conf" },
		{ "nsswitch.conf", "hosts: files\n", "/etc/nsswitch.conf" },
	};
	char path[4096];
	int r;

	if (unshare(CLONE_NEWNS) < 0) {
		r = -errno;
		snprintf(err, errlen, "unshare(CLONE_NEWNS): %s (needs root)",
			 strerror(-r));
		return r;
	}
	/* Our mounts must not propagate to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		r = -errno;
		snprintf(err, errlen, "make / private: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		r = ensure(dir, files[i].name, files[i].def, path, sizeof(path));
		if (r < 0) {
			snprintf(err, errlen, "create %s: %s", path, strerror(-r));
			return r;
		}
		if (mount(path, files[i].target, NULL, MS_BIND, NULL) < 0) {
			r = -errno;
			snprintf(err, errlen, "bind %s on %s: %s", path,
				 files[i].target, strerror(-r));
			return r;
		}
	}
	/* Nothing may have read host.conf yet in this process; RESOLV_*
	 * variables would override it. */
	unsetenv("RESOLV_MULTI");
	unsetenv("RESOLV_REORDER");
	unsetenv("RESOLV_HOST_CONF");
	unsetenv("RESOLV_TRIM_DOMAINS");
	unsetenv("RESOLV_SPOOF_CHECK");
	unsetenv("LOCALDOMAIN");
	return 0;
}

static void fmt_line(struct hstr *out, int af, const void *addr,
		     const char *name, const char *const *aliases, size_t nalias)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(af, addr, buf, sizeof(buf)) == NULL) {
		snprintf(buf, sizeof(buf), "<af %d>", af);
	}
	hstr_add(out, "%-15s %s", buf, name);
	for (size_t i = 0; i < nalias; i++) {
		hstr_add(out, " %s", aliases[i]);
	}
	hstr_add(out, "\n");
}

static void fmt_result(const struct sc_hosts_result *r, bool unspec,
		       struct hstr *out)
{
	for (unsigned i = 0; i < r->naddr; i++) {
		if (unspec) {
			fmt_line(out, r->addr[i].family, r->addr[i].addr,
				 i == 0 ? r->name : "", NULL, 0);
		} else {
			fmt_line(out, r->addr[i].family, r->addr[i].addr,
				 r->name, r->aliases, r->naliases);
		}
	}
}

int hosts_text_ours(struct sc_hosts *h, const char *name, int af, bool multi,
		    struct hstr *out)
{
	struct sc_hosts_result *r = malloc(sizeof(*r));
	int e;

	if (r == NULL) {
		return -ENOMEM;
	}
	e = sc_hosts_by_name(h, name, af, multi, r);
	if (e == 0) {
		fmt_result(r, af == AF_UNSPEC, out);
	}
	free(r);
	return e;
}

int hosts_text_ours_addr(struct sc_hosts *h, int af, const void *addr,
			 struct hstr *out)
{
	struct sc_hosts_result *r = malloc(sizeof(*r));
	int e;

	if (r == NULL) {
		return -ENOMEM;
	}
	e = sc_hosts_by_addr(h, af, addr, r);
	if (e == 0) {
		fmt_result(r, false, out);
	}
	free(r);
	return e;
}

typedef enum nss_status byname2_fn(const char *, int, struct hostent *,
				   char *, size_t, int *, int *);
typedef enum nss_status byname4_fn(const char *, struct gaih_addrtuple **,
				   char *, size_t, int *, int *, int32_t *);
typedef enum nss_status byaddr_fn(const void *, socklen_t, int,
				  struct hostent *, char *, size_t, int *,
				  int *);

static void *nss_files_fn(const char *name)
{
	static bool inited;

	if (!inited) {
		/* Reads host.conf (once per process) and resolv.conf. */
		res_init();
		inited = true;
	}
	return dlvsym(RTLD_DEFAULT, name, "GLIBC_PRIVATE");
}

static int status_to_errno(enum nss_status st, int err)
{
	switch (st) {
	case NSS_STATUS_SUCCESS:
		return 0;
	case NSS_STATUS_NOTFOUND:
		return -ENOENT;
	case NSS_STATUS_TRYAGAIN:
		return err == ERANGE ? -ERANGE : -EAGAIN;
	default:
		return -EIO;
	}
}

static void fmt_hostent(const struct hostent *he, struct hstr *out)
{
	size_t nalias = 0;

	while (he->h_aliases[nalias] != NULL) {
		nalias++;
	}
	for (size_t i = 0; he->h_addr_list[i] != NULL; i++) {
		fmt_line(out, he->h_addrtype, he->h_addr_list[i], he->h_name,
			 (const char *const *)he->h_aliases, nalias);
	}
}

int hosts_text_glibc(const char *name, int af, struct hstr *out)
{
	size_t len = 1024;
	int r;

	for (;;) {
		char *buf = malloc(len);
		int err = 0, herr = 0;
		enum nss_status st;

		if (buf == NULL) {
			return -ENOMEM;
		}
		if (af == AF_UNSPEC) {
			byname4_fn *f4 = (byname4_fn *)nss_files_fn("_nss_files_gethostbyname4_r");
			struct gaih_addrtuple *at = NULL;

			if (f4 == NULL) {
				free(buf);
				return -ENOSYS;
			}
			st = f4(name, &at, buf, len, &err, &herr, NULL);
			r = status_to_errno(st, err);
			if (r == 0) {
				for (; at != NULL; at = at->next) {
					fmt_line(out, at->family, at->addr,
						 at->name ? at->name : "", NULL, 0);
				}
			}
		} else {
			byname2_fn *f2 = (byname2_fn *)nss_files_fn("_nss_files_gethostbyname2_r");
			struct hostent he;

			if (f2 == NULL) {
				free(buf);
				return -ENOSYS;
			}
			st = f2(name, af, &he, buf, len, &err, &herr);
			r = status_to_errno(st, err);
			if (r == 0) {
				fmt_hostent(&he, out);
			}
		}
		free(buf);
		if (r != -ERANGE || len > (256u << 20)) {
			return r;
		}
		len *= 2;
	}
}

int hosts_text_glibc_addr(int af, const void *addr, struct hstr *out)
{
	byaddr_fn *f = (byaddr_fn *)nss_files_fn("_nss_files_gethostbyaddr_r");
	socklen_t alen = af == AF_INET ? 4 : 16;
	size_t len = 1024;
	int r;

	if (f == NULL) {
		return -ENOSYS;
	}
	for (;;) {
		char *buf = malloc(len);
		int err = 0, herr = 0;
		struct hostent he;

		if (buf == NULL) {
			return -ENOMEM;
		}
		r = status_to_errno(f(addr, alen, af, &he, buf, len, &err, &herr), err);
		if (r == 0) {
			fmt_hostent(&he, out);
		}
		free(buf);
		if (r != -ERANGE || len > (256u << 20)) {
			return r;
		}
		len *= 2;
	}
}

int hosts_run(char *const argv[], struct hstr *out, int *ret_status)
{
	int pfd[2], st;
	pid_t pid;
	char buf[4096];
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(pfd[0]);
		close(pfd[1]);
		return r;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		if (nul >= 0) {
			dup2(nul, 0);
		}
		dup2(pfd[1], 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			break;
		}
		hstr_add(out, "%.*s", (int)n, buf);
	}
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			return -errno;
		}
	}
	*ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

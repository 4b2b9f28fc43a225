/*
 * hosts_glibc.h - glibc's nss_files as an oracle for hosts-file answers.
 *
 * Answers are compared as whole text.  The format is getent's
 * print_hosts(): one line per address, "%-15s %s" (address, name) then
 * " alias" for each alias.  For AF_UNSPEC (gethostbyname4_r, which has no
 * aliases) the first line carries the canonical name and the others none,
 * in the order the module returns them.
 *
 * glibc reads /etc/hosts, /etc/host.conf and /etc/nsswitch.conf only, so
 * hosts_ns_enter() moves the calling process into a private mount
 * namespace where those are bind mounts of files in a directory of ours
 * (root only).  Rewrite them in place (hosts_write), never by rename: a
 * bind mount follows the inode.  host.conf (`multi') is read once per
 * process, at the first resolver use: write it before calling anything.
 */
#ifndef HOSTS_GLIBC_H
#define HOSTS_GLIBC_H

#include <stdbool.h>
#include <stddef.h>

#include "../../shim/sc.h"

/* A growable string. */
struct hstr {
	char *p;
	size_t len, cap;
};
void hstr_add(struct hstr *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void hstr_free(struct hstr *s);

/*
 * Enter a private mount namespace where /etc/hosts, /etc/host.conf and
 * /etc/nsswitch.conf are `dir'/hosts, `dir'/host.conf and
 * `dir'/nsswitch.conf (created when missing: empty, "multi on",
 * "hosts: files").  Returns 0 or -errno with `err' saying which step.
 */
int hosts_ns_enter(const char *dir, char *err, size_t errlen);
/* Replace the contents of `path' in place (same inode). */
int hosts_write(const char *path, const void *buf, size_t len);
int hosts_write_str(const char *path, const char *s);

/*
 * Our answers as text (into `out', appended).  0, or the module's error.
 * by_name with AF_UNSPEC uses the gethostbyname4_r format.
 */
int hosts_text_ours(struct sc_hosts *h, const char *name, int af, bool multi,
		    struct hstr *out);
int hosts_text_ours_addr(struct sc_hosts *h, int af, const void *addr,
			 struct hstr *out);

/*
 * glibc's own nss_files answers (the GLIBC_PRIVATE _nss_files_* entry
 * points, in-process): gethostbyname2_r for AF_INET/AF_INET6,
 * gethostbyname4_r for AF_UNSPEC, gethostbyaddr_r.  They honour host.conf's
 * `multi' once res_init() has read it (done here).  0, -ENOENT (not
 * found), -EIO (unavailable), -ENOSYS (entry point missing).
 */
int hosts_text_glibc(const char *name, int af, struct hstr *out);
int hosts_text_glibc_addr(int af, const void *addr, struct hstr *out);

/*
 * Run argv (argv[0] found in PATH) with stdin from /dev/null, capturing
 * stdout into `out'; *ret_status gets the exit status (or 128 + signal).
 * Returns 0 or -errno.
 */
int hosts_run(char *const argv[], struct hstr *out, int *ret_status);

#endif /* HOSTS_GLIBC_H */

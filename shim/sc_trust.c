/*
 * sc_trust.c - may this file be shared with us?
 *
 * The cache is read by root daemons and written by every process in the
 * `sipcache' group, so whoever can write it can poison every reader.  A
 * file or directory is trusted when:
 *   - it is what we expect (a regular file, or a directory) and not a
 *     symbolic link (callers open with O_NOFOLLOW and use lstat);
 *   - it is owned by root or by our own effective uid;
 *   - nobody but its owner and one trusted group may write it: not
 *     world-writable, and group-writable only for gid 0, the configured
 *     group, or the owner's own group when the owner is us.
 * Anything else: the process runs uncached (see docs/SECURITY.md).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sc.h"

int sc_trust_stat(const struct stat *st, bool dir, gid_t group)
{
	uid_t euid = geteuid();

	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode)) {
		return -EPERM;
	}
	if (st->st_uid != 0 && st->st_uid != euid) {
		return -EPERM;
	}
	if (st->st_mode & S_IWOTH) {
		return -EPERM;
	}
	if ((st->st_mode & S_IWGRP) && st->st_gid != 0 &&
	    (group == (gid_t)-1 || st->st_gid != group) &&
	    !(st->st_uid == euid && st->st_gid == getegid())) {
		return -EPERM;
	}
	return 0;
}

int sc_trust_parent_dir(const char *path, gid_t group)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t n;

	if (path[0] != '/' || slash == NULL) {
		return -EINVAL;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		return -ENAMETOOLONG;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (lstat(dir, &st) != 0) {
		return -errno;
	}
	return sc_trust_stat(&st, true, group);
}

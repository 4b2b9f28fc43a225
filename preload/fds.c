/*
 * fds.c - close(), dup2(), dup3(), close_range(), closefrom(): the cache
 * file's descriptor in a process that closes descriptors it did not open.
 *
 * Daemons close every descriptor above 2 when they start (Kamailio's
 * daemonize() closes 3 to 31, -DD or not), usually after their first
 * lookups, so after the cache file was opened.  Left alone, the number
 * is soon reused for a socket of theirs, and from then on the tdb context
 * can never be closed (tdb_close would close their socket) nor the file
 * opened again (tdb refuses a second open of one file in a process): the
 * process would run uncached for its whole life, and its forked workers
 * with it.
 *
 * So the calls that close descriptors ask the core first
 * (sc_core_fds_closing): when the cache's descriptor is among those to be
 * closed, the core closes its tdb context right then, while the number is
 * still its own (that close is the one the caller asked for), and opens
 * the file again by path at the next lookup.  The caller sees exactly
 * what it asked: the number closed, or replaced by dup2.  Any other
 * descriptor costs two atomic loads.  A program that closes descriptors
 * behind libc's back (syscall(SYS_close)) still meets the check of
 * sc_cache.c, which never touches a descriptor that is no longer the
 * cache's: that process runs uncached.
 *
 * The next definitions are bound with dlsym on first use, without
 * pthread_once: close() is called everywhere, also from code that runs
 * while another thread (or this one) binds the resolver names; two
 * threads binding at once store the same pointer.  A call made while
 * this thread binds (dlsym calling close would be one) goes to the
 * system call directly.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"

#define SC_EXPORT __attribute__((visibility("default")))

static __thread bool binding;

static void *next_fn(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (p == NULL && !binding) {
		binding = true;
		p = dlsym(RTLD_NEXT, name);
		binding = false;
		__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	}
	return p;
}

static void *real_close, *real_dup2, *real_dup3, *real_close_range, *real_closefrom;

SC_EXPORT int close(int fd)
{
	int (*fn)(int) = (int (*)(int))next_fn(&real_close, "close");

	if (sc_core_fds_closing(fd, fd)) {
		return 0;
	}
	return fn ? fn(fd) : (int)syscall(SYS_close, fd);
}

/* dup2 and dup3 close `newfd' only when they succeed: never for a bad
 * `oldfd', never when the two are equal. */
static void closing_one(int oldfd, int newfd)
{
	if (oldfd != newfd && newfd >= 0 && fcntl(oldfd, F_GETFD) != -1) {
		sc_core_fds_closing(newfd, newfd);
	}
}

SC_EXPORT int dup2(int oldfd, int newfd)
{
	int (*fn)(int, int) = (int (*)(int, int))next_fn(&real_dup2, "dup2");

	closing_one(oldfd, newfd);
	return fn ? fn(oldfd, newfd) : (int)syscall(SYS_dup2, oldfd, newfd);
}

SC_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int (*fn)(int, int, int) = (int (*)(int, int, int))next_fn(&real_dup3, "dup3");

	closing_one(oldfd, newfd);
	return fn ? fn(oldfd, newfd, flags) : (int)syscall(SYS_dup3, oldfd, newfd, flags);
}

SC_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int (*fn)(unsigned int, unsigned int, int) =
		(int (*)(unsigned int, unsigned int, int))next_fn(&real_close_range,
								  "close_range");

	/* CLOSE_RANGE_CLOEXEC closes nothing now; first > last is EINVAL. */
	if (!(flags & CLOSE_RANGE_CLOEXEC) && first <= last && first <= INT_MAX) {
		sc_core_fds_closing((int)first, last > INT_MAX ? INT_MAX : (int)last);
	}
	return fn ? fn(first, last, flags) : (int)syscall(SYS_close_range, first, last, flags);
}

SC_EXPORT void closefrom(int lowfd)
{
	void (*fn)(int) = (void (*)(int))next_fn(&real_closefrom, "closefrom");

	if (lowfd >= 0) {
		sc_core_fds_closing(lowfd, INT_MAX);
	}
	if (fn) {
		fn(lowfd);
	} else {
		syscall(SYS_close_range, (unsigned int)(lowfd < 0 ? 0 : lowfd), ~0u, 0);
	}
}

/*
 * sc_cache.c - the shared cache file.
 *
 * One TDB file per host (cache_file), opened read-write by every process
 * that uses sipcache, memory-mapped by tdb.  Its neighbour CACHE_FILE.stats
 * holds the counters (sc_stats.c).
 *
 * Records.  Key: the question name in lower-cased, uncompressed wire form,
 * then QTYPE and QCLASS in network order (sc_key_make).  Keys of our own
 * records (target marks, metadata) start with 0xff, which no wire name can.
 * Value: a fixed header, the TTL offsets of the message, the message:
 *
 *	struct value_hdr   checksum (of all the bytes after it), magic,
 *	                   flags, nttl, stored_at, lifetime, msglen
 *	uint16_t ttl_off[nttl]   host order, unaligned in the map
 *	unsigned char msg[msglen]   the answer as received, validated
 *
 * The message is kept exactly as upstream sent it, with its original TTLs
 * and ID.  Everything a hit needs was worked out when it was stored
 * (validation, the verdict, the lifetime, where the TTLs are), so a hit is:
 * one chain lock, a header check, a checksum, a memcpy to the caller and a
 * few 16- and 32-bit patches (sc_dns_rewrite).  No malloc, no write to the
 * file, no syscall.  The file is host-local: host byte order.
 *
 * A value that fails a check (magic, lengths, checksum, a TTL offset
 * outside the message) reads as a miss and is deleted: a writer killed in
 * the middle of a store, or a damaged disk, costs one upstream query.
 *
 * Locking.  tdb's fcntl locks: the kernel releases those of a holder
 * killed with SIGKILL.  Not tdb's robust mutexes (TDB_MUTEX_LOCKING),
 * which tdb supports only with TDB_CLEAR_IF_FIRST and which broke hash
 * chains under concurrent evictions here (see open_tdb); the per-thread
 * first level keeps most hits away from tdb's locks anyway.  A holder
 * that is stopped (SIGSTOP) must not hang lookups: the
 * chain lock is taken with a non-blocking attempt, retried with backoff for
 * lock_timeout_ms, then the lookup bypasses the cache (-ETIMEDOUT).
 *
 * Threads and fork.  A tdb_context is not thread-safe (its lock records
 * and error state are per context), so one mutex per process serialises
 * our calls into it; tdb refuses a second open of the same file in one
 * process, and closing any descriptor of the file would drop our fcntl
 * locks, so there is exactly one context per process.  After fork() the
 * child must not use the parent's descriptor offsets or locks:
 * sc_cache_fork_child() marks the context and the next call reopens it.
 *
 * Bounded size.  Stores count entries in the stats gauge; when a store
 * takes the count past max_entries, that process (holding the sweep lease,
 * so only one sweeps at a time) traverses the file, removes the entries
 * expired beyond the serve-stale window (useless), then the oldest expired,
 * then those nearest expiry, down to 90% of the bound.  Hits never evict.
 *
 * First level.  The tdb path of a hit costs about 1,400 instructions
 * inside tdb (the chain lock twice, the chain walk).  So each thread keeps
 * a small direct-mapped table of the entries it served (key, TTL offsets,
 * message, lifetime), valid while the change counter of the key's bucket
 * in the stats file is what it was when the copy was taken: every store,
 * delete, flush and eviction bumps it after the write is complete (with
 * release ordering), and the copy is taken after reading it (acquire), so
 * a copy can only ever be older than the counter says, never newer.  A hit
 * in the table is a hash, two atomic loads, a memcmp and the rewrite; it
 * serves only fresh entries (stale ones go through tdb, which also checks
 * the lifetime).  Without a stats file there is no first level.
 *
 * Descriptor hygiene.  Daemons that close every descriptor when they
 * detach can close ours; the number may then be reused for another file.
 * sc_cache_revalidate() (at most once a second, from the core) compares
 * the descriptor's and the path's device and inode with what we opened and
 * reopens or gives up instead of ever writing through a stranger's fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <tdb.h>

#include "sc.h"

#define VALUE_MAGIC 0x53435631u /* "SCV1" */
#define CHECKSUM_SEED 0x5349504341434845ULL
#define DEFAULT_LOCK_TIMEOUT_MS 200

struct value_hdr {
	uint64_t checksum;        /* of everything that follows it */
	uint32_t magic;
	uint16_t flags;
	uint16_t nttl;
	int64_t stored_at;
	uint32_t lifetime;
	uint32_t msglen;
};

struct sc_cache {
	pthread_mutex_t lock;     /* serialises use of `tdb' in this process */
	uint64_t id;              /* unique per handle, for first-level copies */
	struct tdb_context *tdb;
	struct sc_stats *stats;
	char *path;
	uint32_t max_entries;
	uint32_t keep_stale;      /* serve_stale: how long expired entries matter */
	gid_t group;
	int lock_timeout_ms;
	dev_t dev;
	ino_t ino;
	bool need_reopen;         /* forked: reopen before the next use */
	bool broken;              /* unusable until reopened by the caller */
	bool detached;            /* closed for the host (sc_cache_fd_closing):
				   * opened again by path at the next use */
	int fd_hint;              /* tdb's descriptor, -1: none (atomic; a
				   * hint for sc_cache_fd_peek, checked again
				   * under `lock') */
	int64_t last_check_ms;
};

/* Handle ids, so that first-level copies never outlive their handle. */
static uint64_t next_cache_id;

int sc_key_make(struct sc_key *ret, const unsigned char *qname,
		uint16_t qtype, uint16_t qclass)
{
	size_t n = sc_dns_name_len(qname);

	if (n == 0 || n > SC_DNS_MAXNAME) {
		return -EINVAL;
	}
	memcpy(ret->buf, qname, n);
	sc_dns_name_lower(ret->buf);
	ret->buf[n] = qtype >> 8;
	ret->buf[n + 1] = qtype & 0xff;
	ret->buf[n + 2] = qclass >> 8;
	ret->buf[n + 3] = qclass & 0xff;
	ret->len = n + 4;
	return 0;
}

static TDB_DATA key_data(const struct sc_key *k)
{
	return (TDB_DATA){ .dptr = (unsigned char *)k->buf, .dsize = k->len };
}

/* The checksum covers the value from just after its own field. */
static uint64_t value_checksum(const unsigned char *value, size_t len)
{
	const size_t skip = sizeof(((struct value_hdr *)0)->checksum);

	return sc_checksum(value + skip, len - skip, CHECKSUM_SEED);
}

/*
 * Check a stored value and locate its parts.  Everything is read through
 * memcpy: tdb gives no alignment for values.  Returns 0 or -EBADMSG.
 */
static int value_decode(const unsigned char *p, size_t len, struct value_hdr *ret_hdr,
			const unsigned char **ret_off, const unsigned char **ret_msg)
{
	struct value_hdr h;
	const unsigned char *off, *msg;
	unsigned i;

	if (len < sizeof(h)) {
		return -EBADMSG;
	}
	memcpy(&h, p, sizeof(h));
	/* stored_at: sc_now() seconds; anything else is forged and would
	 * overflow the expiry arithmetic (sc_policy_remaining, eviction). */
	if (h.magic != VALUE_MAGIC || h.stored_at < 0 || h.stored_at > INT64_MAX / 4 ||
	    h.msglen < SC_DNS_HDRLEN ||
	    h.msglen > SC_DNS_MAXMSG || h.nttl > SC_DNS_MAXRR ||
	    len != sizeof(h) + (size_t)h.nttl * 2 + h.msglen) {
		return -EBADMSG;
	}
	off = p + sizeof(h);
	msg = off + (size_t)h.nttl * 2;
	if (value_checksum(p, len) != h.checksum) {
		return -EBADMSG;
	}
	for (i = 0; i < h.nttl; i++) {
		uint16_t o;

		memcpy(&o, off + 2 * i, 2);
		if (o < SC_DNS_HDRLEN || (size_t)o + 4 > h.msglen) {
			return -EBADMSG;
		}
	}
	*ret_hdr = h;
	*ret_off = off;
	*ret_msg = msg;
	return 0;
}

/* ------------------------------------------------------------------ */
/* open, close, fork                                                   */

static void tdb_log(struct tdb_context *tdb, enum tdb_debug_level level,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void tdb_log(struct tdb_context *tdb, enum tdb_debug_level level,
		    const char *fmt, ...)
{
	va_list ap;

	(void)tdb;
	(void)level;
	/* tdb reports ordinary conditions (a missing file) as errors; our
	 * callers log the faults that matter, once.  Keep tdb's words for
	 * debugging only. */
	va_start(ap, fmt);
	sc_logv(LOG_DEBUG, "tdb", fmt, ap);
	va_end(ap);
}

static int tdb_errno(struct tdb_context *tdb)
{
	switch (tdb_error(tdb)) {
	case TDB_SUCCESS:
		return 0;
	case TDB_ERR_NOEXIST:
		return -ENOENT;
	case TDB_ERR_EXISTS:
		return -EEXIST;
	case TDB_ERR_OOM:
		return -ENOMEM;
	case TDB_ERR_LOCK:
	case TDB_ERR_LOCK_TIMEOUT:
		return -EAGAIN;
	case TDB_ERR_RDONLY:
		return -EROFS;
	case TDB_ERR_CORRUPT:
		return -EBADMSG;
	case TDB_ERR_EINVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/*
 * tdb's hash function: ours rather than tdb's Jenkins hash.  A hit hashes
 * its key twice (the bounded chain lock, then tdb_parse_record), and
 * Jenkins costs about 190 instructions for a 25-byte key against about 20
 * here.  The file can then only be opened with this function: tdbtool and
 * tdbdump refuse it ("was not created with ... hash function"), which is
 * one reason sipcachectl has its own dump and check.
 */
unsigned int sc_cache_tdb_hash(TDB_DATA *key)
{
	uint64_t h = sc_checksum(key->dptr, key->dsize, 0x7369706361636865ULL);

	return (unsigned int)(h ^ (h >> 32));
}

/* Hash size fixed at creation: about two records per chain at the bound. */
static int hash_size_for(uint32_t max_entries)
{
	static const int primes[] = { 131, 1031, 8209, 32771, 131101, 524309 };
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(primes) - 1; i++) {
		if ((uint32_t)primes[i] * 2 >= max_entries) {
			break;
		}
	}
	return primes[i];
}

/*
 * tdb's on-disk header (tdb_private.h), read before tdb maps anything.
 * With mutex locking tdb maps the mutex area at the start of the file with
 * a size computed from the header's hash size, whatever the file's size:
 * a truncated file would raise SIGBUS in our host process at the first
 * lock.  And tdb_open() with O_CREAT silently re-initialises any file that
 * does not start with tdb's magic: a cache_file pointing at the wrong file
 * must be refused, never wiped.  So the file is checked first.
 */
struct tdb_disk_header {
	char magic_food[32];
	uint32_t version, hash_size, rwlocks, recovery_start, sequence_number;
	uint32_t magic1_hash, magic2_hash, feature_flags, mutex_size;
	uint32_t reserved[25];
};

struct tdb_mutexes_layout {   /* tdb's struct tdb_mutexes */
	struct tdb_disk_header hdr;
	pthread_mutex_t allrecord_mutex;
	short int allrecord_lock;
	pthread_mutex_t hashchains[1];
};

#define TDB_DISK_MAGIC "TDB file\n"
#define TDB_DISK_VERSION (0x26011967 + 6)
#define TDB_DISK_FEATURE_MUTEX 0x1u
#define TDB_DISK_MAX_HASH (1u << 24)

/* Wait (bounded) for a read lock on tdb's OPEN_LOCK byte, then drop it. */
static int open_lock_wait(int fd)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	int64_t deadline = sc_now_mono_ms() + 2000;

	while (fcntl(fd, F_SETLK, &fl) != 0) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000000 };

		if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
			return -errno;
		}
		if (sc_now_mono_ms() > deadline) {
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
	fl.l_type = F_UNLCK;
	fcntl(fd, F_SETLK, &fl);
	return 0;
}

/* 0 for a whole tdb file, 1 for an empty file, -EPERM for a file we may
 * not trust (checked before tdb writes anything into it), -EBADMSG for
 * anything else (never to be opened), or -errno (-ENOENT: no file).
 * *ret_mutex: the file was created with tdb's mutex locking. */
static int check_file(const char *path, gid_t group, bool *ret_mutex)
{
	struct tdb_disk_header h;
	struct stat st;
	uint64_t need;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EBADMSG;
		goto out;
	}
	r = sc_trust_stat(&st, false, group);
	if (r < 0) {
		goto out;
	}
	/*
	 * A file being created by another process is empty, then partly
	 * written, until tdb drops its OPEN_LOCK (a write lock on byte 0):
	 * read it only under a read lock of that byte, waited for within a
	 * bound.  (Our own descriptor: closing it drops no lock of ours, we
	 * hold none on this file before tdb opens it.)
	 */
	r = open_lock_wait(fd);
	if (r < 0) {
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size == 0) {
		r = 1;
		goto out;
	}
	r = -EBADMSG;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic_food, TDB_DISK_MAGIC, sizeof(TDB_DISK_MAGIC)) != 0 ||
	    h.version != TDB_DISK_VERSION || h.hash_size == 0 || h.hash_size > TDB_DISK_MAX_HASH) {
		goto out;
	}
	need = sizeof(h) + ((uint64_t)h.hash_size + 1) * 4;
	*ret_mutex = h.feature_flags & TDB_DISK_FEATURE_MUTEX;
	if (h.feature_flags & TDB_DISK_FEATURE_MUTEX) {
		uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
		uint64_t mutex = sizeof(struct tdb_mutexes_layout) +
				 (uint64_t)h.hash_size * sizeof(pthread_mutex_t);

		need += (mutex + page - 1) / page * page;
	}
	if ((uint64_t)st.st_size >= need) {
		r = 0;
	}
out:
	close(fd);
	return r;
}

static int open_tdb(struct sc_cache *c, bool create)
{
	struct tdb_logging_context log = { .log_fn = tdb_log };
	int tdb_flags = TDB_INCOMPATIBLE_HASH | TDB_NOSYNC;
	int open_flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW;
	bool created = false;
	struct stat st;
	int r, tries;

	r = sc_trust_parent_dir(c->path, c->group);
	if (r < 0) {
		return r;
	}
	for (tries = 0; tries < 2; tries++) {
		int flags = open_flags;
		bool mutex = false;

		r = check_file(c->path, c->group, &mutex);
		/*
		 * fcntl locks, not tdb's robust mutexes: under concurrent
		 * stores, deletes and eviction sweeps from many processes,
		 * files with mutex locking (which tdb documents as valid only
		 * with TDB_CLEAR_IF_FIRST, impossible for a cache shared by
		 * processes that come and go) ended up with broken hash
		 * chains (make stress-churn).  A file created with mutexes by
		 * an earlier build can only be opened with them: used as it
		 * is until `sipcachectl check --repair' rebuilds it.
		 */
		tdb_flags &= ~TDB_MUTEX_LOCKING;
		if (r == 0 && mutex && tdb_runtime_check_for_robust_mutexes()) {
			tdb_flags |= TDB_MUTEX_LOCKING;
		}
		if (r == -ENOENT && create) {
			/* New: ours to create, and only if nobody else just
			 * did (then check theirs). */
			flags |= O_CREAT | O_EXCL;
		} else if (r == 1 && create) {
			/* Empty (a creator died before writing the header, or
			 * an operator emptied it): initialise it. */
			flags |= O_CREAT;
		} else if (r == 1) {
			return -EBADMSG;
		} else if (r < 0) {
			return r;
		}
		c->tdb = tdb_open_ex(c->path, hash_size_for(c->max_entries), tdb_flags,
				     flags, 0664, &log, sc_cache_tdb_hash);
		if (c->tdb != NULL) {
			created = flags & O_CREAT;
			break;
		}
		if (errno != EEXIST) {
			/* EINVAL here also means "created with another
			 * locking scheme or hash": not ours to use. */
			return errno ? -errno : -EIO;
		}
	}
	if (c->tdb == NULL) {
		return -EAGAIN;
	}
	/* Check what we actually opened (no race with a swapped path). */
	if (fstat(tdb_fd(c->tdb), &st) != 0) {
		r = -errno;
		goto fail;
	}
	if (created && st.st_uid == geteuid() && (st.st_mode & 0777) != 0664) {
		/* Created under a restrictive umask: the group that shares
		 * the cache must be able to write it. */
		if (fchmod(tdb_fd(c->tdb), 0664) == 0) {
			st.st_mode = (st.st_mode & ~0777u) | 0664;
		}
	}
	r = sc_trust_stat(&st, false, c->group);
	if (r < 0) {
		goto fail;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	__atomic_store_n(&c->fd_hint, tdb_fd(c->tdb), __ATOMIC_RELEASE);
	return 0;

fail:
	tdb_close(c->tdb);
	c->tdb = NULL;
	return r;
}

int sc_cache_open(struct sc_cache **ret, const struct sc_cache_opts *o)
{
	struct sc_cache *c;
	char stats_path[PATH_MAX];
	int r;

	if (o->path == NULL || o->path[0] != '/') {
		return -EINVAL;
	}
	if ((size_t)snprintf(stats_path, sizeof(stats_path), "%s.stats", o->path) >=
	    sizeof(stats_path)) {
		return -ENAMETOOLONG;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->id = __atomic_add_fetch(&next_cache_id, 1, __ATOMIC_RELAXED);
	c->fd_hint = -1;
	c->max_entries = o->max_entries ? o->max_entries : 65536;
	c->keep_stale = o->keep_stale;
	c->group = o->group;
	c->lock_timeout_ms = o->open_timeout_ms > 0 ? o->open_timeout_ms
						    : DEFAULT_LOCK_TIMEOUT_MS;
	c->path = strdup(o->path);
	if (c->path == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	r = open_tdb(c, o->create);
	if (r < 0) {
		goto fail;
	}
	/* Counters are a convenience: a cache without them still works. */
	r = sc_stats_open(&c->stats, stats_path, o->create, c->group);
	if (r < 0) {
		SC_LOG_FAULT(SC_FAULT_STATS, LOG_WARNING, "%s: %s", stats_path, strerror(-r));
		c->stats = NULL;
	}
	*ret = c;
	return 0;

fail:
	free(c->path);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return r;
}

void sc_cache_close(struct sc_cache *c)
{
	if (c == NULL) {
		return;
	}
	if (c->tdb) {
		tdb_close(c->tdb);
	}
	sc_stats_close(c->stats);
	pthread_mutex_destroy(&c->lock);
	free(c->path);
	free(c);
}

struct sc_stats *sc_cache_stats(struct sc_cache *c)
{
	return c->stats;
}

void sc_cache_fork_prepare(struct sc_cache *c)
{
	pthread_mutex_lock(&c->lock);
}

void sc_cache_fork_parent(struct sc_cache *c)
{
	pthread_mutex_unlock(&c->lock);
}

void sc_cache_fork_child(struct sc_cache *c)
{
	/* The child has one thread: the mutex copy is ours to reset. */
	pthread_mutex_init(&c->lock, NULL);
	c->need_reopen = true;
}

/* Forget the tdb context: its descriptor is no longer ours to use. */
static void lose_tdb(struct sc_cache *c)
{
	__atomic_store_n(&c->fd_hint, -1, __ATOMIC_RELEASE);
	c->tdb = NULL;
	c->broken = true;
}

int sc_cache_fd_peek(const struct sc_cache *c)
{
	return __atomic_load_n(&c->fd_hint, __ATOMIC_ACQUIRE);
}

/*
 * The process is about to close descriptors lo..hi (close, dup2 onto
 * them, close_range, closefrom): a daemon closing every descriptor it did
 * not open itself, as Kamailio does at start-up, after its first lookups.
 * When ours is among them, close the tdb context now, while the
 * descriptor is still ours (tdb_close closes it: the close the process
 * asked for), and open the file again by path at the next use.  Waiting
 * would be worse: once the process reuses the number for a socket, the
 * context can never be closed (it would close the socket) nor the file
 * opened again (tdb refuses a second open of a file in one process).
 */
bool sc_cache_fd_closing(struct sc_cache *c, int lo, int hi)
{
	bool closed = false;
	struct stat st;
	int fd;

	pthread_mutex_lock(&c->lock);
	if (c->tdb == NULL || c->broken || c->detached) {
		goto out;
	}
	fd = tdb_fd(c->tdb);
	if (fd < lo || fd > hi) {
		goto out;
	}
	if (fstat(fd, &st) != 0 || st.st_dev != c->dev || st.st_ino != c->ino) {
		/* Not ours any more (closed behind our back before): never
		 * touch it. */
		lose_tdb(c);
		goto out;
	}
	__atomic_store_n(&c->fd_hint, -1, __ATOMIC_RELEASE);
	tdb_close(c->tdb);
	c->tdb = NULL;
	c->detached = true;
	c->need_reopen = false;
	/* First-level copies stay valid (same file, the counters tell), but
	 * a new handle id is the cheap way to be sure. */
	__atomic_store_n(&c->id, __atomic_add_fetch(&next_cache_id, 1, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
	closed = true;
out:
	pthread_mutex_unlock(&c->lock);
	return closed;
}

/*
 * Open the file again by path after sc_cache_fd_closing() closed it for
 * the host: trust checks and all, as at first.
 */
static int reattach(struct sc_cache *c)
{
	int r = open_tdb(c, true);

	c->detached = false;
	c->need_reopen = false;
	if (r < 0) {
		c->broken = true;
		SC_LOG_FAULT(SC_FAULT_CACHE_OPEN, LOG_ERR,
			     "%s: reopen after the process closed its descriptors failed: %s; "
			     "running uncached", c->path, strerror(-r));
	}
	return r;
}

static int do_reopen(struct sc_cache *c)
{
	struct stat st;

	if (c->detached && !c->broken) {
		return reattach(c);
	}
	if (c->tdb == NULL) {
		return -EBADF;
	}
	/* tdb_reopen() closes the descriptor it holds: a forked child that
	 * closed everything and opened files of its own may have one of
	 * them under that number.  Then the handle is dead, never closed. */
	if (fstat(tdb_fd(c->tdb), &st) != 0 || st.st_dev != c->dev || st.st_ino != c->ino) {
		SC_LOG_FAULT(SC_FAULT_CACHE_FD, LOG_ERR,
			     "%s: cache descriptor closed or replaced; running uncached", c->path);
		lose_tdb(c);
		return -EBADF;
	}
	if (tdb_reopen(c->tdb) != 0) {
		/* tdb_reopen closed the context on failure. */
		lose_tdb(c);
		SC_LOG_FAULT(SC_FAULT_CACHE_OPEN, LOG_ERR, "%s: reopen failed: %s",
			     c->path, strerror(errno));
		return -EIO;
	}
	if (fstat(tdb_fd(c->tdb), &st) == 0) {
		c->dev = st.st_dev;
		c->ino = st.st_ino;
	}
	__atomic_store_n(&c->fd_hint, tdb_fd(c->tdb), __ATOMIC_RELEASE);
	c->need_reopen = false;
	return 0;
}

int sc_cache_reopen(struct sc_cache *c)
{
	int r;

	pthread_mutex_lock(&c->lock);
	r = do_reopen(c);
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Called with c->lock held before every use. */
/*
 * Called with c->lock held before every use of the tdb context, i.e. on
 * every path but a first-level hit.  The descriptor is checked each time
 * (one fstat): a daemon may have closed it and opened a file of its own
 * under the same number since our last look, and tdb writes through it
 * (stores, growth) and re-maps through it (a record beyond the map):
 * writing into that file, or walking its bytes as hash chains, is never
 * acceptable, not even for the second until sc_cache_revalidate looks.
 */
static int ready(struct sc_cache *c)
{
	struct stat st;

	if (c->detached && !c->broken) {
		return reattach(c);
	}
	if (c->broken || c->tdb == NULL) {
		return -EBADF;
	}
	if (c->need_reopen) {
		return do_reopen(c);
	}
	if (fstat(tdb_fd(c->tdb), &st) != 0 || st.st_dev != c->dev || st.st_ino != c->ino) {
		SC_LOG_FAULT(SC_FAULT_CACHE_FD, LOG_ERR,
			     "%s: cache descriptor closed or replaced; running uncached", c->path);
		/* Never tdb_close(): it would close a stranger's descriptor. */
		lose_tdb(c);
		return -EBADF;
	}
	return 0;
}

int sc_cache_revalidate(struct sc_cache *c, int64_t now_ms)
{
	struct stat fst, pst;
	int r = 0;

	pthread_mutex_lock(&c->lock);
	if (now_ms - c->last_check_ms < 1000 && now_ms >= c->last_check_ms) {
		goto out;
	}
	c->last_check_ms = now_ms;
	r = ready(c);
	if (r < 0) {
		goto out;
	}
	if (fstat(tdb_fd(c->tdb), &fst) != 0 || fst.st_dev != c->dev || fst.st_ino != c->ino) {
		/*
		 * Our descriptor was closed under us, maybe reused for some
		 * other file.  Never touch it again: tdb_close() would close
		 * a stranger's descriptor, so leak the context instead and
		 * report the cache unusable.  The core reopens by path.
		 */
		SC_LOG_FAULT(SC_FAULT_CACHE_FD, LOG_ERR,
			     "%s: cache descriptor closed or replaced; running uncached",
			     c->path);
		lose_tdb(c);
		r = -EBADF;
		goto out;
	}
	if (stat(c->path, &pst) != 0 || pst.st_dev != c->dev || pst.st_ino != c->ino) {
		/*
		 * The file was replaced (rebuilt by `sipcachectl check
		 * --repair') or removed (an operator clearing the cache):
		 * follow the path.  Our descriptor was just verified, so
		 * closing it is safe; every user of `c' holds c->lock.
		 */
		__atomic_store_n(&c->fd_hint, -1, __ATOMIC_RELEASE);
		tdb_close(c->tdb);
		c->tdb = NULL;
		r = open_tdb(c, true);
		/* Other threads' first-level copies are of the old file. */
		__atomic_store_n(&c->id, __atomic_add_fetch(&next_cache_id, 1, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
		sc_stats_epoch_bump(c->stats);
		if (r < 0) {
			c->broken = true;
			SC_LOG_FAULT(SC_FAULT_CACHE_OPEN, LOG_ERR,
				     "%s: reopen after replacement failed: %s; running uncached",
				     c->path, strerror(-r));
		}
	}
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* ------------------------------------------------------------------ */
/* locks                                                               */

/*
 * Take the chain lock of `key' without ever blocking for more than
 * lock_timeout_ms: a process stopped while holding it must not stop us.
 */
static int chainlock_bounded(struct sc_cache *c, TDB_DATA key)
{
	int64_t deadline = 0;
	unsigned spins = 0;

	for (;;) {
		struct timespec ts;

		if (tdb_chainlock_nonblock(c->tdb, key) == 0) {
			return 0;
		}
		if (tdb_error(c->tdb) != TDB_ERR_LOCK && errno != EBUSY &&
		    errno != EAGAIN && errno != EACCES) {
			return tdb_errno(c->tdb);
		}
		if (deadline == 0) {
			deadline = sc_now_mono_ms() + c->lock_timeout_ms;
		} else if (sc_now_mono_ms() > deadline) {
			SC_LOG_FAULT(SC_FAULT_CACHE_LOCK, LOG_WARNING,
				     "%s: lock held for over %d ms; bypassing the cache",
				     c->path, c->lock_timeout_ms);
			return -ETIMEDOUT;
		}
		if (spins++ < 16) {
			sched_yield();
			continue;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = spins < 64 ? 50000 : 1000000;
		nanosleep(&ts, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* first level: per-thread copies of served entries                   */

#define L1_SLOTS 128

struct l1_entry {
	unsigned char *blob;      /* key, TTL offsets (2-aligned), message */
	uint64_t gen;             /* sc_stats_gen() before the copy was read */
	uint64_t cache_id;
	int64_t stored_at;
	uint32_t hash;
	uint32_t lifetime;
	uint32_t msglen;
	uint16_t keylen;
	uint16_t nttl;
	uint16_t flags;
};

struct l1_table {
	struct l1_entry slot[L1_SLOTS];
};

static __thread struct l1_table *l1_table;
static pthread_key_t l1_key;
static pthread_once_t l1_once = PTHREAD_ONCE_INIT;
static bool l1_key_ok;

static void l1_free(void *p)
{
	struct l1_table *t = p;
	unsigned i;

	for (i = 0; i < L1_SLOTS; i++) {
		free(t->slot[i].blob);
	}
	free(t);
}

static void l1_key_init(void)
{
	/* The destructor frees a thread's table when the thread exits. */
	l1_key_ok = pthread_key_create(&l1_key, l1_free) == 0;
}

static struct l1_table *l1_get(void)
{
	struct l1_table *t = l1_table;

	if (t == NULL) {
		pthread_once(&l1_once, l1_key_init);
		if (!l1_key_ok) {
			return NULL;
		}
		t = calloc(1, sizeof(*t));
		if (t == NULL || pthread_setspecific(l1_key, t) != 0) {
			free(t);
			return NULL;
		}
		l1_table = t;
	}
	return t;
}

static size_t l1_off_pos(size_t keylen)
{
	return (keylen + 1) & ~(size_t)1;
}

/* Copy a fresh value into the thread's slot (on the first tdb hit of a
 * key in this thread; never on a first-level hit). */
static void l1_fill(struct l1_entry *e, const struct sc_cache *c, const struct sc_key *k,
		    uint32_t hash, uint64_t gen, const struct value_hdr *h,
		    const unsigned char *off, const unsigned char *msg)
{
	size_t pos = l1_off_pos(k->len);
	unsigned char *blob = malloc(pos + (size_t)h->nttl * 2 + h->msglen);

	if (blob == NULL) {
		return;
	}
	memcpy(blob, k->buf, k->len);
	memcpy(blob + pos, off, (size_t)h->nttl * 2);
	memcpy(blob + pos + (size_t)h->nttl * 2, msg, h->msglen);
	free(e->blob);
	e->blob = blob;
	e->gen = gen;
	e->cache_id = __atomic_load_n(&c->id, __ATOMIC_RELAXED);
	e->stored_at = h->stored_at;
	e->hash = hash;
	e->lifetime = h->lifetime;
	e->msglen = h->msglen;
	e->keylen = (uint16_t)k->len;
	e->nttl = h->nttl;
	e->flags = h->flags;
}

static void fill_hit(struct sc_hit *hit, const unsigned char *msg, uint32_t msglen,
		     uint16_t flags, uint32_t remaining)
{
	hit->len = msglen;
	hit->flags = flags;
	hit->rcode = msg[3] & 0x0f;
	hit->ancount = (uint16_t)(msg[6] << 8 | msg[7]);
	hit->remaining = remaining;
	hit->stale = remaining == 0;
}

/* Serve from the first level if it holds a valid, fresh copy of `k'. */
static bool l1_serve(const struct l1_entry *e, const struct sc_cache *c, const struct sc_key *k,
		     uint32_t hash, uint64_t gen, int64_t now, uint16_t id,
		     const unsigned char *qname, unsigned char *out, size_t outlen,
		     struct sc_hit *ret)
{
	struct sc_rewrite rw;
	uint32_t remaining;
	size_t pos;

	if (e->blob == NULL || e->hash != hash || e->gen != gen ||
	    e->cache_id != __atomic_load_n(&c->id, __ATOMIC_RELAXED) ||
	    e->keylen != k->len || memcmp(e->blob, k->buf, k->len) != 0) {
		return false;
	}
	remaining = sc_policy_remaining(e->stored_at, e->lifetime, now, NULL);
	if (remaining == 0) {
		return false;
	}
	pos = l1_off_pos(e->keylen);
	rw.id = id;
	rw.qname = qname;
	rw.ttl_cap = remaining;
	rw.ttl_off = (const uint16_t *)(const void *)(e->blob + pos);
	rw.nttl = e->nttl;
	ret->written = sc_dns_rewrite(e->blob + pos + (size_t)e->nttl * 2, e->msglen, &rw,
				      out, outlen);
	fill_hit(ret, e->blob + pos + (size_t)e->nttl * 2, e->msglen, e->flags, remaining);
	return true;
}

/* ------------------------------------------------------------------ */
/* hit path                                                            */

struct get_ctx {
	const struct sc_cache *c;
	const struct sc_key *k;
	struct l1_entry *l1;      /* slot to fill on a fresh hit, or NULL */
	uint32_t hash;
	uint64_t gen;
	int64_t now;
	uint32_t max_stale;
	uint16_t id;
	const unsigned char *qname;
	unsigned char *out;
	size_t outlen;
	struct sc_hit *hit;
	int result;
};

static int get_parser(TDB_DATA key, TDB_DATA data, void *priv)
{
	struct get_ctx *g = priv;
	uint16_t offs[SC_DNS_MAXRR];
	const unsigned char *off, *msg;
	struct value_hdr h;
	struct sc_rewrite rw;
	uint32_t remaining;
	int64_t stale_for;

	(void)key;
	if (value_decode(data.dptr, data.dsize, &h, &off, &msg) < 0) {
		g->result = -EBADMSG;
		return 0;
	}
	remaining = sc_policy_remaining(h.stored_at, h.lifetime, g->now, &stale_for);
	if (remaining == 0 && (g->max_stale == 0 || stale_for >= (int64_t)g->max_stale)) {
		g->result = -ENOENT;
		return 0;
	}
	memcpy(offs, off, (size_t)h.nttl * 2);
	rw.id = g->id;
	rw.qname = g->qname;
	rw.ttl_cap = remaining ? remaining : SC_STALE_TTL;
	rw.ttl_off = offs;
	rw.nttl = h.nttl;
	g->hit->written = sc_dns_rewrite(msg, h.msglen, &rw, g->out, g->outlen);
	fill_hit(g->hit, msg, h.msglen, h.flags, remaining);
	if (g->l1 && remaining > 0) {
		l1_fill(g->l1, g->c, g->k, g->hash, g->gen, &h, off, msg);
	}
	g->result = 0;
	return 0;
}

int sc_cache_get(struct sc_cache *c, const struct sc_key *k, int64_t now,
		 uint32_t max_stale, uint16_t id, const unsigned char *qname,
		 unsigned char *out, size_t outlen, struct sc_hit *ret)
{
	struct get_ctx g = {
		.c = c, .k = k, .now = now, .max_stale = max_stale, .id = id, .qname = qname,
		.out = out, .outlen = outlen, .hit = ret, .result = -ENOENT,
	};
	TDB_DATA key = key_data(k);
	struct l1_table *t;
	int r;

	g.hash = sc_cache_tdb_hash(&key);
	if (c->stats && (t = l1_get()) != NULL) {
		g.l1 = &t->slot[(g.hash >> 12) % L1_SLOTS];
		g.gen = sc_stats_gen(c->stats, g.hash);
		if (l1_serve(g.l1, c, k, g.hash, g.gen, now, id, qname, out, outlen, ret)) {
			return 0;
		}
	}

	pthread_mutex_lock(&c->lock);
	r = ready(c);
	if (r < 0) {
		goto out;
	}
	r = chainlock_bounded(c, key);
	if (r < 0) {
		goto out;
	}
	if (tdb_parse_record(c->tdb, key, get_parser, &g) != 0) {
		r = tdb_error(c->tdb) == TDB_ERR_NOEXIST ? -ENOENT : tdb_errno(c->tdb);
	} else {
		r = g.result;
	}
	if (r == -EBADMSG) {
		/* Torn or damaged: forget it, count it, log it once. */
		tdb_delete(c->tdb, key);
		sc_stats_gen_bump(c->stats, g.hash);
		sc_stats_add_gauge(c->stats, -1, 0);
		sc_stats_inc(c->stats, SC_STAT_CORRUPT);
		SC_LOG_FAULT(SC_FAULT_CACHE_CORRUPT, LOG_WARNING,
			     "%s: a damaged record was dropped", c->path);
	}
	tdb_chainunlock(c->tdb, key);
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* The same parser on a value given by the caller: what a record of any
 * content read from the file would make of the hit path. */
int sc_cache_value_serve(const void *value, size_t len, int64_t now, uint32_t max_stale,
			 uint16_t id, const unsigned char *qname, unsigned char *out,
			 size_t outlen, struct sc_hit *ret)
{
	struct get_ctx g = {
		.now = now, .max_stale = max_stale, .id = id, .qname = qname,
		.out = out, .outlen = outlen, .hit = ret, .result = -ENOENT,
	};
	TDB_DATA key = { .dptr = NULL, .dsize = 0 };
	TDB_DATA data = { .dptr = (unsigned char *)value, .dsize = len };

	get_parser(key, data, &g);
	return g.result;
}

/* ------------------------------------------------------------------ */
/* miss path                                                           */

/*
 * Did a store fail for want of space?  Neither tdb's error code nor errno
 * survive its clean-up after fallocate() says ENOSPC, and tdb grows the
 * file by a quarter at least, so the disk need not be quite full: call it
 * full when the free space is below what the growth would take.
 */
static bool short_of_space(struct sc_cache *c, size_t len)
{
	struct statvfs vfs;
	struct stat st;
	uint64_t avail;

	if (fstatvfs(tdb_fd(c->tdb), &vfs) != 0 || fstat(tdb_fd(c->tdb), &st) != 0) {
		return false;
	}
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	return avail < (uint64_t)st.st_size / 4 + len + 65536;
}

static int size_parser(TDB_DATA key, TDB_DATA data, void *priv)
{
	(void)key;
	*(size_t *)priv = data.dsize;
	return 0;
}

int sc_cache_put(struct sc_cache *c, const struct sc_key *k,
		 const struct sc_msg *m, uint32_t lifetime, uint16_t flags,
		 int64_t now)
{
	uint16_t offs[SC_DNS_MAXRR];
	struct value_hdr h;
	TDB_DATA key = key_data(k), val;
	size_t old_size = 0, len;
	unsigned char *buf;
	bool existed;
	int n, r;

	if (lifetime == 0 || m->len > SC_DNS_MAXMSG || m->len < SC_DNS_HDRLEN) {
		return -EINVAL;
	}
	n = sc_dns_ttl_offsets(m, offs, SC_ARRAY_SIZE(offs));
	if (n < 0) {
		return n;
	}
	/* One contiguous value, so that a hit checks it in one pass. */
	len = sizeof(h) + (size_t)n * 2 + m->len;
	buf = malloc(len);
	if (buf == NULL) {
		return -ENOMEM;
	}
	memset(&h, 0, sizeof(h));
	h.magic = VALUE_MAGIC;
	h.flags = flags;
	h.nttl = (uint16_t)n;
	h.stored_at = now;
	h.lifetime = lifetime;
	h.msglen = (uint32_t)m->len;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), offs, (size_t)n * 2);
	memcpy(buf + sizeof(h) + (size_t)n * 2, m->buf, m->len);
	h.checksum = value_checksum(buf, len);
	memcpy(buf, &h.checksum, sizeof(h.checksum));
	val = (TDB_DATA){ .dptr = buf, .dsize = len };

	pthread_mutex_lock(&c->lock);
	r = ready(c);
	if (r < 0) {
		goto out;
	}
	r = chainlock_bounded(c, key);
	if (r < 0) {
		goto out;
	}
	existed = tdb_parse_record(c->tdb, key, size_parser, &old_size) == 0;
	if (tdb_store(c->tdb, key, val, TDB_REPLACE) != 0) {
		r = tdb_errno(c->tdb);
		if (r == 0 || r == -ENOENT) {
			r = -EIO;
		}
		if (short_of_space(c, len)) {
			r = -ENOSPC;
		}
		SC_LOG_FAULT(SC_FAULT_CACHE_WRITE, LOG_WARNING, "%s: store failed: %s",
			     c->path, strerror(-r));
		tdb_chainunlock(c->tdb, key);
		goto out;
	}
	tdb_chainunlock(c->tdb, key);
	sc_stats_gen_bump(c->stats, sc_cache_tdb_hash(&key));
	sc_stats_inc(c->stats, SC_STAT_STORES);
	sc_stats_add_gauge(c->stats, existed ? 0 : 1, (int64_t)len - (int64_t)old_size);
	r = 0;
	if (!existed && c->stats) {
		if (sc_stats_entries(c->stats) > (int64_t)c->max_entries) {
			pthread_mutex_unlock(&c->lock);
			free(buf);
			sc_cache_evict(c, now, c->max_entries - c->max_entries / 10);
			return 0;
		}
	}
out:
	pthread_mutex_unlock(&c->lock);
	free(buf);
	return r;
}

int sc_cache_delete(struct sc_cache *c, const struct sc_key *k)
{
	TDB_DATA key = key_data(k);
	size_t old_size = 0;
	int r;

	pthread_mutex_lock(&c->lock);
	r = ready(c);
	if (r < 0) {
		goto out;
	}
	if (tdb_parse_record(c->tdb, key, size_parser, &old_size) != 0) {
		r = -ENOENT;
		goto out;
	}
	if (tdb_delete(c->tdb, key) != 0) {
		r = tdb_errno(c->tdb);
		goto out;
	}
	sc_stats_gen_bump(c->stats, sc_cache_tdb_hash(&key));
	sc_stats_add_gauge(c->stats, -1, -(int64_t)old_size);
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* ------------------------------------------------------------------ */
/* traversals: flush, dump, evict, check                               */

static bool is_internal(TDB_DATA key)
{
	return key.dsize > 0 && key.dptr[0] == SC_KEY_INTERNAL;
}

struct flush_ctx {
	const unsigned char *name;   /* NULL: every DNS entry */
	size_t namelen;
	int removed;
	int failed;
};

static int flush_fn(struct tdb_context *tdb, TDB_DATA key, TDB_DATA data, void *priv)
{
	struct flush_ctx *f = priv;

	(void)data;
	if (is_internal(key)) {
		return 0;
	}
	if (f->name && (key.dsize != f->namelen + 4 || memcmp(key.dptr, f->name, f->namelen) != 0)) {
		return 0;
	}
	/* A write traverse may delete the record it is visiting.  Another
	 * process may have deleted it since the traverse read it (tdb then
	 * only marks it dead): gone is what we wanted, not a failure. */
	if (tdb_delete(tdb, key) == 0) {
		f->removed++;
	} else if (tdb_error(tdb) != TDB_ERR_NOEXIST) {
		f->failed++;
	}
	return 0;
}

static int flush(struct sc_cache *c, const unsigned char *name)
{
	struct flush_ctx f = { .name = NULL };
	unsigned char lname[SC_DNS_MAXNAME];
	int r;

	if (name) {
		f.namelen = sc_dns_name_len(name);
		if (f.namelen == 0 || f.namelen > SC_DNS_MAXNAME) {
			return -EINVAL;
		}
		memcpy(lname, name, f.namelen);
		sc_dns_name_lower(lname);
		f.name = lname;
	}
	pthread_mutex_lock(&c->lock);
	r = ready(c);
	if (r < 0) {
		goto out;
	}
	if (tdb_traverse(c->tdb, flush_fn, &f) < 0) {
		r = tdb_errno(c->tdb);
		goto out;
	}
	r = f.failed ? -EIO : f.removed;
	sc_stats_epoch_bump(c->stats);
out:
	pthread_mutex_unlock(&c->lock);
	if (r >= 0) {
		/* Recount exactly rather than trust the gauge. */
		sc_cache_recount(c);
	}
	return r;
}

int sc_cache_flush(struct sc_cache *c)
{
	return flush(c, NULL);
}

int sc_cache_flush_name(struct sc_cache *c, const unsigned char *qname)
{
	return flush(c, qname);
}

static int view_of(TDB_DATA key, TDB_DATA data, struct sc_entry_view *v)
{
	const unsigned char *off, *msg;
	struct value_hdr h;
	size_t n;

	if (key.dsize < 5) {
		return -EBADMSG;
	}
	n = sc_dns_name_len(key.dptr);
	if (n == 0 || n + 4 != key.dsize) {
		return -EBADMSG;
	}
	if (value_decode(data.dptr, data.dsize, &h, &off, &msg) < 0) {
		return -EBADMSG;
	}
	v->qname = key.dptr;
	v->qtype = (uint16_t)(key.dptr[n] << 8 | key.dptr[n + 1]);
	v->qclass = (uint16_t)(key.dptr[n + 2] << 8 | key.dptr[n + 3]);
	v->flags = h.flags;
	v->stored_at = h.stored_at;
	v->lifetime = h.lifetime;
	v->msg = msg;
	v->msglen = h.msglen;
	return 0;
}

struct traverse_ctx {
	int (*fn)(const struct sc_entry_view *e, void *priv);
	void *priv;
	int visited;
};

static int traverse_fn(struct tdb_context *tdb, TDB_DATA key, TDB_DATA data, void *priv)
{
	struct traverse_ctx *t = priv;
	struct sc_entry_view v;

	(void)tdb;
	if (is_internal(key) || view_of(key, data, &v) < 0) {
		return 0;
	}
	t->visited++;
	return t->fn(&v, t->priv);
}

int sc_cache_traverse(struct sc_cache *c,
		      int (*fn)(const struct sc_entry_view *e, void *priv),
		      void *priv)
{
	struct traverse_ctx t = { .fn = fn, .priv = priv };
	int r;

	pthread_mutex_lock(&c->lock);
	r = ready(c);
	if (r == 0 && tdb_traverse_read(c->tdb, traverse_fn, &t) < 0) {
		r = tdb_errno(c->tdb);
	}
	pthread_mutex_unlock(&c->lock);
	return r < 0 ? r : t.visited;
}

/* Eviction: collect (key, expiry) of every entry, then delete. */
struct victim {
	int64_t expires;      /* INT64_MIN: damaged, goes first */
	uint32_t size;
	uint16_t keylen;
	unsigned char key[SC_KEY_MAX];
};

struct evict_ctx {
	struct victim *v;
	size_t n, cap;
	bool oom;
};

static int collect_fn(struct tdb_context *tdb, TDB_DATA key, TDB_DATA data, void *priv)
{
	struct evict_ctx *e = priv;
	struct sc_entry_view view;
	struct victim *v;

	(void)tdb;
	if (is_internal(key) || key.dsize > SC_KEY_MAX) {
		return 0;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 1024;
		struct victim *nv = realloc(e->v, cap * sizeof(*nv));

		if (nv == NULL) {
			e->oom = true;
			return 1;
		}
		e->v = nv;
		e->cap = cap;
	}
	v = &e->v[e->n++];
	v->keylen = (uint16_t)key.dsize;
	memcpy(v->key, key.dptr, key.dsize);
	v->size = (uint32_t)data.dsize;
	if (view_of(key, data, &view) < 0) {
		v->expires = INT64_MIN;
	} else {
		v->expires = view.stored_at + view.lifetime;
	}
	return 0;
}

static int by_expiry(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	return (x->expires > y->expires) - (x->expires < y->expires);
}

static int sweep(struct sc_cache *c, int64_t now, uint32_t target, bool evict)
{
	struct evict_ctx e = { .v = NULL };
	int64_t bytes = 0;
	size_t i, left;
	int removed = 0, r;

	if (!sc_stats_sweep_begin(c->stats, now)) {
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	r = ready(c);
	if (r < 0) {
		goto out;
	}
	if (tdb_traverse_read(c->tdb, collect_fn, &e) < 0 || e.oom) {
		r = e.oom ? -ENOMEM : tdb_errno(c->tdb);
		goto out;
	}
	if (e.n > 1) {
		qsort(e.v, e.n, sizeof(*e.v), by_expiry);
	}
	left = e.n;
	for (i = 0; i < e.n; i++) {
		TDB_DATA key = { .dptr = e.v[i].key, .dsize = e.v[i].keylen };

		/* Entries expired beyond the serve-stale window are of no
		 * use: always removed.  Then oldest expiry first, down to the
		 * target, so that stale answers still in the window survive
		 * while there is room. */
		bool useless = e.v[i].expires == INT64_MIN ||
			       e.v[i].expires + (int64_t)c->keep_stale <= now;

		if (!evict || (!useless && left <= target)) {
			break;
		}
		if (tdb_delete(c->tdb, key) == 0) {
			removed++;
			left--;
		}
	}
	for (; i < e.n; i++) {
		bytes += e.v[i].size;
	}
	sc_stats_set_gauge(c->stats, (int64_t)left, bytes);
	for (i = 0; i < (size_t)removed; i++) {
		sc_stats_inc(c->stats, SC_STAT_EVICTIONS);
	}
	if (removed > 0) {
		sc_stats_epoch_bump(c->stats);
	}
	r = removed;
out:
	pthread_mutex_unlock(&c->lock);
	sc_stats_sweep_end(c->stats);
	free(e.v);
	return r;
}

int sc_cache_evict(struct sc_cache *c, int64_t now, uint32_t target)
{
	return sweep(c, now, target, true);
}

int sc_cache_recount(struct sc_cache *c)
{
	return sweep(c, sc_now(), UINT32_MAX, false);
}

struct check_ctx {
	int bad;
	bool repair;
};

static int check_fn(struct tdb_context *tdb, TDB_DATA key, TDB_DATA data, void *priv)
{
	struct check_ctx *k = priv;
	struct sc_entry_view v;

	if (is_internal(key) || view_of(key, data, &v) == 0) {
		return 0;
	}
	k->bad++;
	if (k->repair) {
		tdb_delete(tdb, key);
	}
	return 0;
}

static int check_rebuild(struct sc_cache *c);

int sc_cache_check(struct sc_cache *c, bool repair)
{
	struct check_ctx k = { .repair = repair };
	int r;

	pthread_mutex_lock(&c->lock);
	r = ready(c);
	if (r < 0) {
		goto out;
	}
	/* tdb's own structure first: free lists, chains, record magic. */
	if (tdb_check(c->tdb, NULL, NULL) != 0) {
		r = repair ? check_rebuild(c) : -EBADMSG;
		goto out;
	}
	if (tdb_traverse(c->tdb, check_fn, &k) < 0) {
		r = tdb_errno(c->tdb);
		goto out;
	}
	if (k.bad > 0 && repair) {
		sc_stats_epoch_bump(c->stats);
	}
	r = k.bad;
out:
	pthread_mutex_unlock(&c->lock);
	if (repair && r > 0) {
		sc_cache_recount(c);
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* rebuild                                                             */

/*
 * When tdb's own structure is damaged (tdb_check fails: a hash chain or
 * the free list points into garbage, a record header is torn), the file is
 * not mended in place: writing into it could spread the damage, and no
 * chain walk can be trusted to find every record.  Instead the records
 * that tdb can still find and that pass our own checks are copied into a
 * new file beside it, which gets the old file's owner, group and mode and
 * is renamed over it.  rename() is atomic, so an opener finds the old file
 * or the new one, never none; processes holding the old one notice within
 * a second (sc_cache_revalidate compares the inode at the path with their
 * own) and follow.  Anything they store into the old file meanwhile is
 * lost, which costs a cache one upstream query.
 *
 * Finding the records: a sound file is walked with tdb_traverse_read,
 * which sees exactly the live records.  A damaged one goes through
 * tdb_rescue, which scans the whole file for anything shaped like a live
 * record (deleted and free records have other magic numbers, so a flushed
 * answer is not brought back); it may report a key twice, and then the
 * copy stored last (the larger stored_at) wins.
 *
 * What is never done: replacing a file that does not start like a tdb
 * file (cache_file pointing at the wrong file must never cost that file),
 * or giving the new file an owner other than the old one's: a non-root
 * rebuild of a root-owned file fails with -EPERM before anything changes.
 */

#define TDB_FILE_MAGIC "TDB file\n"

struct rebuild_ctx {
	struct tdb_context *dst;
	unsigned kept, dropped;
	int err;
};

static int stored_at_parser(TDB_DATA key, TDB_DATA data, void *priv)
{
	struct value_hdr h;

	(void)key;
	if (data.dsize >= sizeof(h)) {
		memcpy(&h, data.dptr, sizeof(h));
		*(int64_t *)priv = h.stored_at;
	}
	return 0;
}

static void rebuild_copy(TDB_DATA key, TDB_DATA data, void *priv)
{
	struct rebuild_ctx *b = priv;
	struct sc_entry_view v;
	int64_t have = INT64_MIN;
	bool dup;

	if (b->err) {
		return;
	}
	if (key.dsize == 0 || key.dsize > SC_KEY_MAX) {
		b->dropped++;
		return;
	}
	dup = tdb_parse_record(b->dst, key, stored_at_parser, &have) == 0;
	if (is_internal(key)) {
		/* Our own records (marks) carry no checksum: keep the first
		 * copy found. */
		if (dup) {
			b->dropped++;
			return;
		}
	} else if (view_of(key, data, &v) < 0) {
		b->dropped++;
		return;
	} else if (dup) {
		b->dropped++;   /* one of the two copies goes */
		if (have >= v.stored_at) {
			return;
		}
		b->kept--;      /* counted again below */
	}
	if (tdb_store(b->dst, key, data, TDB_REPLACE) != 0) {
		b->err = tdb_errno(b->dst);
		if (b->err == 0) {
			b->err = -EIO;
		}
		return;
	}
	b->kept++;
}

static int rebuild_walk(struct tdb_context *tdb, TDB_DATA key, TDB_DATA data, void *priv)
{
	struct rebuild_ctx *b = priv;

	(void)tdb;
	rebuild_copy(key, data, b);
	return b->err ? -1 : 0;
}

/*
 * Copy what `src' holds (NULL: nothing) into a new file and rename it over
 * `path', whose lstat is `old'.  The caller checked that `path' is a cache
 * file in a trusted directory.
 */
static int rebuild_file(const char *path, const struct stat *old, struct tdb_context *src,
			uint32_t max_entries, gid_t group, unsigned *ret_kept,
			unsigned *ret_dropped)
{
	struct tdb_logging_context log = { .log_fn = tdb_log };
	int tdb_flags = TDB_INCOMPATIBLE_HASH | TDB_NOSYNC;   /* as open_tdb() */
	struct rebuild_ctx b = { .dst = NULL };
	char tmp[PATH_MAX];
	struct stat st;
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.rebuild.%ld", path, (long)getpid()) >=
	    sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	/* Ours by its name (our pid): a leftover of a rebuild killed midway. */
	unlink(tmp);
	/* 0600 until it is whole and has its final owner: nobody opens it
	 * before the rename. */
	b.dst = tdb_open_ex(tmp, hash_size_for(max_entries), tdb_flags,
			    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600, &log,
			    sc_cache_tdb_hash);
	if (b.dst == NULL) {
		return errno ? -errno : -EIO;
	}
	fd = tdb_fd(b.dst);
	if (src) {
		if (tdb_check(src, NULL, NULL) == 0) {
			if (tdb_traverse_read(src, rebuild_walk, &b) < 0 && b.err == 0) {
				/* Damage the check missed: what is left
				 * through the rescue (copies found twice are
				 * told apart by stored_at). */
				tdb_rescue(src, rebuild_copy, &b);
			}
		} else if (tdb_rescue(src, rebuild_copy, &b) != 0 && b.err == 0) {
			b.err = tdb_errno(src) ? tdb_errno(src) : -EIO;
		}
	}
	if (b.err) {
		r = b.err;
		goto fail;
	}
	if (fchown(fd, old->st_uid, old->st_gid) != 0) {
		r = -EPERM;
		goto fail;
	}
	if (fchmod(fd, old->st_mode & 0664) != 0 || fstat(fd, &st) != 0) {
		r = -errno;
		goto fail;
	}
	r = sc_trust_stat(&st, false, group);
	if (r < 0) {
		goto fail;
	}
	/* Whole on disk before it takes the name (TDB_NOSYNC skips it). */
	if (fsync(fd) != 0 || rename(tmp, path) != 0) {
		r = -errno;
		goto fail;
	}
	tdb_close(b.dst);
	if (ret_kept) {
		*ret_kept = b.kept;
	}
	if (ret_dropped) {
		*ret_dropped = b.dropped;
	}
	return 0;

fail:
	tdb_close(b.dst);
	unlink(tmp);
	return r;
}

/* May `path' be replaced by a rebuild?  Only an empty file or one that
 * starts like a tdb file; *ret_st gets its lstat. */
static int rebuild_allowed(const char *path, gid_t group, struct stat *ret_st)
{
	char magic[sizeof(TDB_FILE_MAGIC) - 1];
	int fd, r;

	r = sc_trust_parent_dir(path, group);
	if (r < 0) {
		return r;
	}
	if (lstat(path, ret_st) != 0) {
		return -errno;
	}
	if (!S_ISREG(ret_st->st_mode)) {
		return -EPERM;
	}
	if (ret_st->st_size == 0) {
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		return -errno;
	}
	r = pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, TDB_FILE_MAGIC, sizeof(magic)) == 0 ? 0 : -ENOTRECOVERABLE;
	close(fd);
	return r;
}

int sc_cache_rebuild(const struct sc_cache_opts *o, unsigned *ret_kept, unsigned *ret_dropped)
{
	struct tdb_logging_context log = { .log_fn = tdb_log };
	struct tdb_context *src;
	struct stat st;
	int r;

	if (o->path == NULL || o->path[0] != '/') {
		return -EINVAL;
	}
	r = rebuild_allowed(o->path, o->group, &st);
	if (r < 0) {
		return r;
	}
	/*
	 * Read-only: tdb then takes no lock and maps no mutex area, so a
	 * file too short for the area its header announces cannot fault
	 * (SIGBUS) here.  Writers of a damaged file may race with the scan;
	 * a torn value fails its checksum and is dropped.  A header too
	 * damaged to open leaves nothing to copy: the new file is empty.
	 */
	src = tdb_open_ex(o->path, 0, TDB_INCOMPATIBLE_HASH, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0,
			  &log, sc_cache_tdb_hash);
	if (src == NULL && errno == EBUSY) {
		return -EBUSY;   /* the caller has it open */
	}
	r = rebuild_file(o->path, &st, src, o->max_entries ? o->max_entries : 65536, o->group,
			 ret_kept, ret_dropped);
	if (src) {
		tdb_close(src);
	}
	return r;
}

/*
 * sc_cache_check(c, true) on a file whose tdb structure is damaged: the
 * same rebuild from our own open context, then the handle moves to the
 * new file.  Called with c->lock held.  Counts the damage as at least one
 * bad record.
 */
static int check_rebuild(struct sc_cache *c)
{
	unsigned kept = 0, dropped = 0;
	struct stat st;
	int r;

	r = rebuild_allowed(c->path, c->group, &st);
	if (r == 0) {
		r = rebuild_file(c->path, &st, c->tdb, c->max_entries, c->group, &kept, &dropped);
	}
	if (r < 0) {
		return r;
	}
	__atomic_store_n(&c->fd_hint, -1, __ATOMIC_RELEASE);
	tdb_close(c->tdb);
	c->tdb = NULL;
	r = open_tdb(c, false);
	/* Other threads' first-level copies are of the old file. */
	__atomic_store_n(&c->id, __atomic_add_fetch(&next_cache_id, 1, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
	sc_stats_epoch_bump(c->stats);
	if (r < 0) {
		c->broken = true;
		return r;
	}
	return dropped > 0 ? (int)dropped : 1;
}

/* ------------------------------------------------------------------ */
/* internal records                                                    */

static int internal_key(const void *key, size_t klen, unsigned char *buf, TDB_DATA *ret)
{
	if (klen + 1 > SC_KEY_MAX) {
		return -EINVAL;
	}
	buf[0] = SC_KEY_INTERNAL;
	memcpy(buf + 1, key, klen);
	*ret = (TDB_DATA){ .dptr = buf, .dsize = klen + 1 };
	return 0;
}

int sc_cache_put_internal(struct sc_cache *c, const void *key, size_t klen,
			  const void *val, size_t vlen)
{
	unsigned char buf[SC_KEY_MAX];
	TDB_DATA k, v = { .dptr = (unsigned char *)val, .dsize = vlen };
	int r;

	r = internal_key(key, klen, buf, &k);
	if (r < 0) {
		return r;
	}
	pthread_mutex_lock(&c->lock);
	r = ready(c);
	if (r == 0 && tdb_store(c->tdb, k, v, TDB_REPLACE) != 0) {
		r = tdb_errno(c->tdb);
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

struct internal_ctx {
	void *val;
	size_t vlen;
	size_t len;
};

static int internal_parser(TDB_DATA key, TDB_DATA data, void *priv)
{
	struct internal_ctx *i = priv;

	(void)key;
	i->len = data.dsize;
	memcpy(i->val, data.dptr, data.dsize < i->vlen ? data.dsize : i->vlen);
	return 0;
}

int sc_cache_get_internal(struct sc_cache *c, const void *key, size_t klen,
			  void *val, size_t vlen, size_t *ret_len)
{
	unsigned char buf[SC_KEY_MAX];
	struct internal_ctx i = { .val = val, .vlen = vlen };
	TDB_DATA k;
	int r;

	r = internal_key(key, klen, buf, &k);
	if (r < 0) {
		return r;
	}
	pthread_mutex_lock(&c->lock);
	r = ready(c);
	if (r < 0) {
		goto out;
	}
	r = chainlock_bounded(c, k);
	if (r < 0) {
		goto out;
	}
	if (tdb_parse_record(c->tdb, k, internal_parser, &i) != 0) {
		r = -ENOENT;
	} else if (ret_len) {
		*ret_len = i.len;
	}
	tdb_chainunlock(c->tdb, k);
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

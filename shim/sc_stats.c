/*
 * sc_stats.c - shared counters that cost no lock and no syscall.
 *
 * The counters (hits, misses, ...) of every process using the cache live
 * in a small file beside it (CACHE_FILE.stats), mapped MAP_SHARED.  They
 * are written as they change, not at exit: SIP servers' workers leave with
 * _exit() and their destructors never run.
 *
 * A hit increments one counter with one relaxed atomic add.  To keep the
 * processes of a host from bouncing one cache line between cores on every
 * hit, the counters are split in SHARDS cache-line-aligned copies; each
 * thread picks a shard once (from its pid and the address of its TLS) and
 * readers add the shards up.  Counters only grow; a reset zeroes them.
 *
 * Two gauges (entries, bytes) are adjusted by stores and deletes and set
 * exactly by each eviction sweep, which also corrects any drift from races
 * between processes.  The file also holds the sweep lease, so that one
 * process at a time sweeps the cache.
 *
 * The marks of sipcachectl down/up (sc_marks.c) live in the cache file;
 * here are the generation that tells every thread when to re-read them
 * (so that a hit learns "no change" from one atomic load) and the lease
 * that keeps two writers from losing each other's change.
 *
 * Single flight.  When many processes miss the same question at once (16
 * SIP workers after a flush), one asks upstream and the others wait for
 * its answer in the cache: the one that claims the question's slot in the
 * flight table (a compare-and-swap of its key hash) leads; the others
 * see the claim and wait, bounded; a claim whose process is gone, or older
 * than the caller's bound, is taken over.  No lock, no syscall but
 * kill(pid, 0) on a claim that looks abandoned.
 *
 * It also carries the change counters that let each thread keep a private
 * copy of the entries it serves (see sc_cache.c, "first level"): a writer
 * bumps the counter of the key's bucket after its store or delete is
 * complete; a reader that finds the counter as it was when it copied the
 * entry knows the entry has not changed since.  The file carries no
 * answers: damage to it can skew numbers, or at worst make a process
 * serve its private copy of an entry that was deleted.  It is
 * still checked like the cache (owner, mode) by sc_cache_open().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sc.h"

#define STATS_MAGIC 0x53435332u /* "SCS2" */
#define STATS_SHARDS 16
#define STATS_FLIGHTS 256       /* questions in flight at once, host-wide */
#define STATS_FLIGHT_PROBES 8
#define STATS_SWEEP_LEASE 30    /* seconds a crashed sweeper blocks others */
#define STATS_MARKS_LEASE 5     /* seconds a crashed marks writer blocks others */

struct stats_shard {
	uint64_t c[SC_STAT__MAX];
	uint64_t type_hits[SC_STYPE__MAX];
	uint64_t type_misses[SC_STYPE__MAX];
} __attribute__((aligned(64)));

struct stats_file {
	uint32_t magic;
	uint32_t size;
	int64_t entries;
	int64_t bytes;
	int64_t sweep_until;        /* lease: nobody else sweeps before this */
	/* Target marks (sc_marks.c): the writers' lease and the generation
	 * each change bumps.  They took bytes of the former padding, which
	 * older files hold as zeros: no lease, generation 0. */
	int64_t marks_until;
	uint32_t marks_gen;
	/* The sweeper's pid (0: unknown, as in older files), so that a lease
	 * whose holder died is taken over at once rather than after
	 * STATS_SWEEP_LEASE seconds without eviction host-wide. */
	int32_t sweep_pid;
	unsigned char pad[16];
	struct stats_shard shard[STATS_SHARDS];
	/* Change counters for the per-thread first level (sc_cache.c):
	 * bumped after every write, per bucket of key hashes, and all at
	 * once through the epoch. */
	uint32_t epoch __attribute__((aligned(64)));
	uint32_t gen[SC_STATS_GEN_BUCKETS];
	/* Questions in flight upstream (single flight, sc_core.c): a small
	 * open-addressed table of key hashes, claimed by compare-and-swap.
	 * Appended: a file of the previous layout grows to it, zero-filled,
	 * which reads as an empty table. */
	struct stats_flight {
		uint64_t key;       /* 0: free */
		int64_t since_ms;   /* CLOCK_MONOTONIC of the claim; 0: being set */
		int32_t pid;
		uint32_t pad;
	} flight[STATS_FLIGHTS] __attribute__((aligned(64)));
};

struct sc_stats {
	struct stats_file *f;
};

static __thread int shard_index = -1;

/* In a fork child: the one thread left picks its shard again (from the
 * child's pid), so that the workers a server forks after its first
 * lookups do not all bounce their parent's shard between them. */
void sc_stats_fork_child(void)
{
	shard_index = -1;
}

static struct stats_shard *my_shard(struct sc_stats *s)
{
	if (shard_index < 0) {
		uintptr_t h = (uintptr_t)&shard_index ^ ((uintptr_t)getpid() * 2654435761u);

		shard_index = (int)((h >> 12 ^ h >> 6) % STATS_SHARDS);
	}
	return &s->f->shard[shard_index];
}

int sc_stats_open(struct sc_stats **ret, const char *path, bool create,
		  gid_t group)
{
	struct sc_stats *s = NULL;
	struct stat st;
	void *map;
	int fd, r;

	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0664);
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto fail;
	}
	r = sc_trust_stat(&st, false, group);
	if (r < 0) {
		goto fail;
	}
	if ((size_t)st.st_size < sizeof(struct stats_file)) {
		/* New (or from an older layout): a zero-filled file is a
		 * valid set of zero counters once the magic is set. */
		if (!create) {
			r = -ENOENT;
			goto fail;
		}
		if (ftruncate(fd, sizeof(struct stats_file)) != 0) {
			r = -errno;
			goto fail;
		}
		/* Ours to set up: the group sharing the cache writes the
		 * counters too, whatever our umask. */
		if (st.st_uid == geteuid() && (st.st_mode & 0777) != 0664) {
			fchmod(fd, 0664);
		}
	}
	map = mmap(NULL, sizeof(struct stats_file), PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	close(fd);
	fd = -1;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		munmap(map, sizeof(struct stats_file));
		return -ENOMEM;
	}
	s->f = map;
	{
		uint32_t zero = 0;

		/* First user stamps the layout; others check it.  A file
		 * of another layout (an older sipcache) only holds numbers:
		 * whoever may create the file starts it afresh. */
		if (!__atomic_compare_exchange_n(&s->f->magic, &zero, STATS_MAGIC, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
		    zero != STATS_MAGIC) {
			if (!create) {
				sc_stats_close(s);
				return -EBADMSG;
			}
			memset(s->f, 0, sizeof(*s->f));
			__atomic_store_n(&s->f->magic, STATS_MAGIC, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&s->f->size, (uint32_t)sizeof(struct stats_file),
				 __ATOMIC_RELAXED);
	}
	*ret = s;
	return 0;

fail:
	close(fd);
	return r;
}

/*
 * Read-only: counters are plain numbers, safe to read without any lock,
 * so users who may not write the cache (a monitoring agent) can still see
 * them.  The file is never created, resized or stamped from here.
 */
int sc_stats_open_readonly(struct sc_stats **ret, const char *path, gid_t group)
{
	struct sc_stats *s;
	struct stat st;
	void *map;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto fail;
	}
	r = sc_trust_stat(&st, false, group);
	if (r < 0) {
		goto fail;
	}
	if ((size_t)st.st_size < sizeof(struct stats_file)) {
		r = -EBADMSG;
		goto fail;
	}
	map = mmap(NULL, sizeof(struct stats_file), PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	close(fd);
	if (__atomic_load_n(&((struct stats_file *)map)->magic, __ATOMIC_ACQUIRE) != STATS_MAGIC) {
		munmap(map, sizeof(struct stats_file));
		return -EBADMSG;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		munmap(map, sizeof(struct stats_file));
		return -ENOMEM;
	}
	s->f = map;
	*ret = s;
	return 0;

fail:
	close(fd);
	return r;
}

void sc_stats_close(struct sc_stats *s)
{
	if (s == NULL) {
		return;
	}
	munmap(s->f, sizeof(struct stats_file));
	free(s);
}

void sc_stats_inc(struct sc_stats *s, enum sc_stat what)
{
	if (s == NULL) {
		return;
	}
	__atomic_fetch_add(&my_shard(s)->c[what], 1, __ATOMIC_RELAXED);
}

enum sc_stat_type sc_stats_type_index(uint16_t qtype)
{
	switch (qtype) {
	case SC_T_A:
		return SC_STYPE_A;
	case SC_T_AAAA:
		return SC_STYPE_AAAA;
	case SC_T_SRV:
		return SC_STYPE_SRV;
	case SC_T_NAPTR:
		return SC_STYPE_NAPTR;
	case SC_T_CNAME:
		return SC_STYPE_CNAME;
	case SC_T_PTR:
		return SC_STYPE_PTR;
	case SC_T_TXT:
		return SC_STYPE_TXT;
	default:
		return SC_STYPE_OTHER;
	}
}

void sc_stats_inc_type(struct sc_stats *s, uint16_t qtype, bool hit)
{
	struct stats_shard *sh;

	if (s == NULL) {
		return;
	}
	sh = my_shard(s);
	if (hit) {
		__atomic_fetch_add(&sh->type_hits[sc_stats_type_index(qtype)], 1, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_add(&sh->type_misses[sc_stats_type_index(qtype)], 1, __ATOMIC_RELAXED);
	}
}

void sc_stats_add_gauge(struct sc_stats *s, int64_t entries, int64_t bytes)
{
	if (s == NULL) {
		return;
	}
	__atomic_fetch_add(&s->f->entries, entries, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->f->bytes, bytes, __ATOMIC_RELAXED);
}

int64_t sc_stats_entries(const struct sc_stats *s)
{
	int64_t n = s ? __atomic_load_n(&s->f->entries, __ATOMIC_RELAXED) : 0;

	return n < 0 ? 0 : n;   /* drifts below zero in a race with a sweep */
}

void sc_stats_set_gauge(struct sc_stats *s, int64_t entries, int64_t bytes)
{
	if (s == NULL) {
		return;
	}
	__atomic_store_n(&s->f->entries, entries, __ATOMIC_RELAXED);
	__atomic_store_n(&s->f->bytes, bytes, __ATOMIC_RELAXED);
}

void sc_stats_read(const struct sc_stats *s, struct sc_stats_snapshot *ret)
{
	unsigned i, j;

	memset(ret, 0, sizeof(*ret));
	if (s == NULL) {
		return;
	}
	for (i = 0; i < STATS_SHARDS; i++) {
		const struct stats_shard *sh = &s->f->shard[i];

		for (j = 0; j < SC_STAT__MAX; j++) {
			ret->c[j] += __atomic_load_n(&sh->c[j], __ATOMIC_RELAXED);
		}
		for (j = 0; j < SC_STYPE__MAX; j++) {
			ret->type_hits[j] += __atomic_load_n(&sh->type_hits[j], __ATOMIC_RELAXED);
			ret->type_misses[j] += __atomic_load_n(&sh->type_misses[j], __ATOMIC_RELAXED);
		}
	}
	ret->entries = __atomic_load_n(&s->f->entries, __ATOMIC_RELAXED);
	ret->bytes = __atomic_load_n(&s->f->bytes, __ATOMIC_RELAXED);
	/* Gauges are adjusted without a lock and may drift below zero in a
	 * race with a sweep; never show that. */
	if (ret->entries < 0) {
		ret->entries = 0;
	}
	if (ret->bytes < 0) {
		ret->bytes = 0;
	}
}

void sc_stats_reset(struct sc_stats *s)
{
	unsigned i, j;

	if (s == NULL) {
		return;
	}
	for (i = 0; i < STATS_SHARDS; i++) {
		struct stats_shard *sh = &s->f->shard[i];

		for (j = 0; j < SC_STAT__MAX; j++) {
			__atomic_store_n(&sh->c[j], 0, __ATOMIC_RELAXED);
		}
		for (j = 0; j < SC_STYPE__MAX; j++) {
			__atomic_store_n(&sh->type_hits[j], 0, __ATOMIC_RELAXED);
			__atomic_store_n(&sh->type_misses[j], 0, __ATOMIC_RELAXED);
		}
	}
}

bool sc_stats_sweep_begin(struct sc_stats *s, int64_t now)
{
	int64_t until;

	if (s == NULL) {
		return true;
	}
	until = __atomic_load_n(&s->f->sweep_until, __ATOMIC_ACQUIRE);
	if (until > now && until <= now + STATS_SWEEP_LEASE) {
		int32_t pid = __atomic_load_n(&s->f->sweep_pid, __ATOMIC_RELAXED);

		/* Somebody is sweeping, unless it died doing so (killed,
		 * crashed): then the lease is ours to take. */
		if (!(pid > 0 && kill(pid, 0) != 0 && errno == ESRCH)) {
			return false;
		}
	}
	/* A lease in the far future comes from a stepped clock: take it. */
	if (!__atomic_compare_exchange_n(&s->f->sweep_until, &until, now + STATS_SWEEP_LEASE,
					 false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		return false;
	}
	__atomic_store_n(&s->f->sweep_pid, (int32_t)getpid(), __ATOMIC_RELAXED);
	return true;
}

void sc_stats_sweep_end(struct sc_stats *s)
{
	if (s == NULL) {
		return;
	}
	__atomic_store_n(&s->f->sweep_pid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->f->sweep_until, 0, __ATOMIC_RELEASE);
}

const char *sc_stats_name(enum sc_stat what)
{
	static const char *const names[SC_STAT__MAX] = {
		[SC_STAT_HITS] = "hits",
		[SC_STAT_MISSES] = "misses",
		[SC_STAT_NEGATIVE_HITS] = "negative_hits",
		[SC_STAT_STALE_SERVED] = "stale_served",
		[SC_STAT_UPSTREAM_ERRORS] = "upstream_errors",
		[SC_STAT_EVICTIONS] = "evictions",
		[SC_STAT_STORES] = "stores",
		[SC_STAT_HOSTS_HITS] = "hosts_hits",
		[SC_STAT_CORRUPT] = "corrupt",
	};

	return (unsigned)what < SC_STAT__MAX ? names[what] : "?";
}

const char *sc_stats_type_name(enum sc_stat_type t)
{
	static const char *const names[SC_STYPE__MAX] = {
		[SC_STYPE_A] = "A",
		[SC_STYPE_AAAA] = "AAAA",
		[SC_STYPE_SRV] = "SRV",
		[SC_STYPE_NAPTR] = "NAPTR",
		[SC_STYPE_CNAME] = "CNAME",
		[SC_STYPE_PTR] = "PTR",
		[SC_STYPE_TXT] = "TXT",
		[SC_STYPE_OTHER] = "other",
	};

	return (unsigned)t < SC_STYPE__MAX ? names[t] : "?";
}

uint64_t sc_stats_gen(const struct sc_stats *s, uint32_t hash)
{
	uint32_t epoch = __atomic_load_n(&s->f->epoch, __ATOMIC_ACQUIRE);
	uint32_t gen = __atomic_load_n(&s->f->gen[hash % SC_STATS_GEN_BUCKETS], __ATOMIC_ACQUIRE);

	return (uint64_t)epoch << 32 | gen;
}

void sc_stats_gen_bump(struct sc_stats *s, uint32_t hash)
{
	if (s == NULL) {
		return;
	}
	__atomic_fetch_add(&s->f->gen[hash % SC_STATS_GEN_BUCKETS], 1, __ATOMIC_RELEASE);
}

void sc_stats_epoch_bump(struct sc_stats *s)
{
	if (s == NULL) {
		return;
	}
	__atomic_fetch_add(&s->f->epoch, 1, __ATOMIC_RELEASE);
}

/*
 * Marks generation: the epoch (bumped by flushes, sweeps and the rebuild
 * of the cache file, which may drop the marks record) in the high half,
 * the count of changes of the mark set in the low half, so that either
 * makes a thread re-read its copy.
 */
uint64_t sc_stats_marks_gen(const struct sc_stats *s)
{
	uint32_t epoch = __atomic_load_n(&s->f->epoch, __ATOMIC_ACQUIRE);
	uint32_t gen = __atomic_load_n(&s->f->marks_gen, __ATOMIC_ACQUIRE);

	return (uint64_t)epoch << 32 | gen;
}

void sc_stats_marks_bump(struct sc_stats *s)
{
	if (s == NULL) {
		return;
	}
	__atomic_fetch_add(&s->f->marks_gen, 1, __ATOMIC_RELEASE);
}

/* The sweep lease's rules: a lease past its end, or absurdly far ahead
 * (a clock stepped back), is free. */
bool sc_stats_marks_lock(struct sc_stats *s, int64_t now)
{
	int64_t until;

	if (s == NULL) {
		return true;
	}
	until = __atomic_load_n(&s->f->marks_until, __ATOMIC_ACQUIRE);
	if (until > now && until <= now + STATS_MARKS_LEASE) {
		return false;
	}
	return __atomic_compare_exchange_n(&s->f->marks_until, &until,
					   now + STATS_MARKS_LEASE, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

void sc_stats_marks_unlock(struct sc_stats *s)
{
	if (s == NULL) {
		return;
	}
	__atomic_store_n(&s->f->marks_until, 0, __ATOMIC_RELEASE);
}

static struct stats_flight *flight_slot(struct sc_stats *s, uint64_t key, unsigned i)
{
	return &s->f->flight[(key + i) % STATS_FLIGHTS];
}

/* A claim nobody is working on any more: its owner is gone, or it is
 * older than what a waiter is prepared to wait. */
static bool flight_abandoned(const struct stats_flight *f, int64_t now_ms, int64_t stale_ms)
{
	int64_t since = __atomic_load_n(&f->since_ms, __ATOMIC_ACQUIRE);
	int32_t pid = __atomic_load_n(&f->pid, __ATOMIC_RELAXED);

	if (since == 0) {
		return false;   /* being claimed right now */
	}
	if (now_ms - since > stale_ms || now_ms < since) {
		return true;
	}
	return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

static void flight_own(struct stats_flight *f, int64_t now_ms)
{
	__atomic_store_n(&f->pid, (int32_t)getpid(), __ATOMIC_RELAXED);
	__atomic_store_n(&f->since_ms, now_ms > 0 ? now_ms : 1, __ATOMIC_RELEASE);
}

int sc_stats_flight_begin(struct sc_stats *s, uint64_t key, int64_t now_ms, int64_t stale_ms)
{
	unsigned i;

	if (s == NULL) {
		return -1;
	}
	key |= 1;   /* never 0, the free mark */
	for (i = 0; i < STATS_FLIGHT_PROBES; i++) {
		struct stats_flight *f = flight_slot(s, key, i);
		uint64_t k = __atomic_load_n(&f->key, __ATOMIC_ACQUIRE);

		if (k == key) {
			int64_t since = __atomic_load_n(&f->since_ms, __ATOMIC_ACQUIRE);

			if (!flight_abandoned(f, now_ms, stale_ms)) {
				return 0;
			}
			/* Take the abandoned claim over (one taker wins). */
			if (since != 0 && __atomic_compare_exchange_n(&f->since_ms, &since, 0, false,
								      __ATOMIC_ACQ_REL,
								      __ATOMIC_ACQUIRE)) {
				flight_own(f, now_ms);
				return 1;
			}
			return 0;
		}
		if (k == 0) {
			uint64_t zero = 0;

			if (__atomic_compare_exchange_n(&f->key, &zero, key, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				flight_own(f, now_ms);
				return 1;
			}
			if (zero == key) {
				return 0;   /* somebody claimed it just now */
			}
		} else if (flight_abandoned(f, now_ms, stale_ms)) {
			/* Another question's abandoned claim: free it, so
			 * that the table cannot fill up with dead claims. */
			__atomic_compare_exchange_n(&f->key, &k, 0, false, __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE);
		}
	}
	return -1;   /* table crowded here: ask upstream without coordination */
}

bool sc_stats_flight_active(struct sc_stats *s, uint64_t key, int64_t now_ms, int64_t stale_ms)
{
	unsigned i;

	if (s == NULL) {
		return false;
	}
	key |= 1;
	for (i = 0; i < STATS_FLIGHT_PROBES; i++) {
		struct stats_flight *f = flight_slot(s, key, i);

		if (__atomic_load_n(&f->key, __ATOMIC_ACQUIRE) == key) {
			return !flight_abandoned(f, now_ms, stale_ms);
		}
	}
	return false;
}

void sc_stats_flight_end(struct sc_stats *s, uint64_t key)
{
	unsigned i;

	if (s == NULL) {
		return;
	}
	key |= 1;
	for (i = 0; i < STATS_FLIGHT_PROBES; i++) {
		struct stats_flight *f = flight_slot(s, key, i);
		uint64_t k = key;

		if (__atomic_load_n(&f->key, __ATOMIC_ACQUIRE) == key &&
		    __atomic_load_n(&f->pid, __ATOMIC_RELAXED) == (int32_t)getpid()) {
			__atomic_store_n(&f->since_ms, 0, __ATOMIC_RELAXED);
			__atomic_compare_exchange_n(&f->key, &k, 0, false, __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE);
			return;
		}
	}
}

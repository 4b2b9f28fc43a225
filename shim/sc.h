/*
 * sc.h - internal interface of the sipcache core (shim/).
 *
 * Never installed: the only ABIs sipcache exports are glibc's (the NSS
 * module's _nss_sipcache_* entry points and the libc/libresolv names the
 * preload interposes).  Both front ends and sipcachectl link the core as a
 * static archive built with hidden visibility.
 *
 * Conventions (tdb, systemd):
 *   - functions return 0 (or a length) on success and -errno on failure;
 *   - output parameters are called ret_*;
 *   - nothing in shim/ prints, exits or aborts: it runs inside somebody
 *     else's process.  Faults are reported through sc_log().
 *
 * Module map (one concern per file):
 *   sc_core.c     one core per process; one question: hosts, cache, upstream
 *   sc_addr.c     address lookups (gethostbyname*, getaddrinfo, NSS)
 *   sc_log.c      logging, once per failure kind
 *   sc_util.c     clocks, checksums, small helpers
 *   sc_conf.c     /etc/sipcache.conf, nsswitch.conf `hosts:' order
 *   sc_dns.c      DNS wire format: parse/validate, names, build, rewrite
 *   sc_policy.c   what to cache and for how long (TTL clamping, RFC 2308)
 *   sc_cache.c    the shared TDB cache file
 *   sc_stats.c    shared lock-free counters beside the cache file
 *   sc_hosts.c    the hosts file, with nss_files semantics
 *   sc_trust.c    may a shared file be trusted (owner, mode)
 *   sc_srv.c      served-answer order, marks applied, related records
 *   sc_marks.c    target marks (sipcachectl down/up), shared
 *   sc_sip.c      RFC 3263 selection, ENUM, serves (sipcachectl)
 */
#ifndef SC_H
#define SC_H

#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <syslog.h>
#include <time.h>

#define SC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* sc_log.c                                                            */
/* ------------------------------------------------------------------ */

enum sc_log_target {
	SC_LOG_SYSLOG,
	SC_LOG_STDERR,
	SC_LOG_OFF,
};

/*
 * Failure kinds: each is logged at most once per process, so a broken
 * cache costs one line in the host's log, not one per lookup.
 */
enum sc_fault {
	SC_FAULT_CONF,          /* configuration unreadable or invalid */
	SC_FAULT_CACHE_OPEN,    /* cache file cannot be opened or trusted */
	SC_FAULT_CACHE_CORRUPT, /* a record or the file failed its checks */
	SC_FAULT_CACHE_WRITE,   /* store failed (disk full, read-only...) */
	SC_FAULT_CACHE_LOCK,    /* lock not obtained in bounded time */
	SC_FAULT_CACHE_FD,      /* our descriptor was closed or replaced */
	SC_FAULT_STATS,         /* stats file unusable */
	SC_FAULT_HOSTS,         /* hosts file unreadable */
	SC_FAULT_UPSTREAM,      /* upstream resolver setup failed */
	SC_FAULT__MAX
};

/* level is a syslog level (LOG_ERR ... LOG_DEBUG); default LOG_WARNING */
void sc_log_setup(enum sc_log_target target, int level);
void sc_log(int level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sc_logv(int level, const char *func, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Log only the first occurrence of `fault' in this process. */
void sc_log_fault(enum sc_fault fault, int level, const char *func,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Forget which faults were logged (tests; after the cache is rebuilt). */
void sc_log_fault_reset(void);

#define SC_LOG(level, ...) sc_log((level), __func__, __VA_ARGS__)
#define SC_LOG_FAULT(fault, level, ...) \
	sc_log_fault((fault), (level), __func__, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* sc_util.c                                                           */
/* ------------------------------------------------------------------ */

/*
 * Wall-clock seconds from the vDSO coarse clock: no syscall.  The cache
 * file outlives processes and reboots, so lifetimes are kept in wall-clock
 * time; sc_policy.c handles steps of that clock.
 */
int64_t sc_now(void);
/* Monotonic milliseconds, coarse (vDSO): for bounded waits and throttles. */
int64_t sc_now_mono_ms(void);
/* 64-bit checksum of a byte range (not cryptographic: detects torn and
 * corrupt records, nothing more). */
uint64_t sc_checksum(const void *p, size_t len, uint64_t seed);

/* ------------------------------------------------------------------ */
/* sc_trust.c                                                          */
/* ------------------------------------------------------------------ */

struct stat;
/* 0 when a file (or directory) so described may be shared with us,
 * -EPERM otherwise; `group' is the trusted group or (gid_t)-1. */
int sc_trust_stat(const struct stat *st, bool dir, gid_t group);
/* The same for the directory holding `path' (absolute), by lstat. */
int sc_trust_parent_dir(const char *path, gid_t group);

/* ------------------------------------------------------------------ */
/* sc_conf.c                                                           */
/* ------------------------------------------------------------------ */

#define SC_CONF_PATH "/etc/sipcache.conf"
#define SC_CONF_MAXNS 3      /* like MAXNS in <resolv.h> */
#define SC_CONF_MAXPOLICY 32 /* per-suffix TTL overrides */

enum sc_hosts_order {
	SC_HOSTS_AUTO,
	SC_HOSTS_FILES_FIRST,
	SC_HOSTS_DNS_FIRST,
	SC_HOSTS_NEVER,
};

enum sc_family {
	SC_FAMILY_ANY,
	SC_FAMILY_IPV4,
	SC_FAMILY_IPV6,
	SC_FAMILY_PREFER_IPV6,
};

enum sc_srv_order {
	SC_SRV_KEEP,
	SC_SRV_RFC2782,
	SC_SRV_RFC2782_WEIGHTS,  /* and weights rewritten along the order */
};

/*
 * Per-suffix override of the TTL policy: `policy = SUFFIX key=N ...' with
 * keys min_ttl, max_ttl, negative_ttl.  The longest matching suffix wins.
 * A field left unset (-1) inherits the global value.
 */
struct sc_name_policy {
	unsigned char suffix[256]; /* wire format, lower case */
	int64_t min_ttl, max_ttl, negative_ttl;
};

struct sc_conf {
	char cache_file[PATH_MAX];
	uint32_t max_entries;
	uint32_t min_ttl, max_ttl, negative_ttl, serve_stale;
	char hosts_file[PATH_MAX];
	enum sc_hosts_order hosts_order;
	bool hosts_in_res_query;
	unsigned nns;                 /* 0: the nameservers of resolv.conf */
	struct sockaddr_storage ns[SC_CONF_MAXNS];
	int timeout;                  /* seconds; -1: from resolv.conf */
	int attempts;                 /* -1: from resolv.conf */
	bool search;
	enum sc_family family;
	enum sc_srv_order srv_order;
	bool prefetch;
	char group[64];
	enum sc_log_target log;
	int log_level;                /* syslog level */
	unsigned npolicy;
	struct sc_name_policy policy[SC_CONF_MAXPOLICY];
};

void sc_conf_defaults(struct sc_conf *c);
/*
 * Parse `path' over the values already in `c'.  Returns 0, -ENOENT when the
 * file does not exist (c unchanged), -EINVAL for a bad line with `err'
 * holding "PATH:LINE: KEY: reason", or another -errno when unreadable.
 * After any error `c' is exactly as it was (nothing of the file applied)
 * and `err' holds a message ("PATH: reason" for the file as a whole).
 */
int sc_conf_load(struct sc_conf *c, const char *path, char *err, size_t errlen);
/* Same, from memory (`path' only names the source in messages). */
int sc_conf_parse(struct sc_conf *c, const char *path, const char *buf,
		  size_t len, char *err, size_t errlen);
/* SIPCACHE_CONF (secure_getenv: ignored in secure-execution mode) or the
 * fixed path. */
const char *sc_conf_path(void);
/* SIPCACHE_DISABLE=1 (secure_getenv). */
bool sc_conf_disabled_by_env(void);
/* The policy entry whose suffix is the longest match of `name' (wire,
 * any case), or NULL. */
const struct sc_name_policy *sc_conf_policy_for(const struct sc_conf *c,
						 const unsigned char *name);
/* Name of the i-th key the parser accepts, NULL past the last (tests keep
 * the shipped sipcache.conf in step with it; sipcachectl may list them). */
const char *sc_conf_key(unsigned i);

/* What the `hosts:' line of nsswitch.conf says. */
struct sc_nsswitch {
	bool found;         /* a hosts: line was there */
	int pos_files;      /* position (0-based) of each source, -1: absent */
	int pos_dns;
	int pos_sipcache;
	bool other_sources; /* anything else (myhostname, mdns, ldap...) */
};
/* Read as glibc 2.36 reads it (last hosts line wins, ...).  -EINVAL when
 * glibc would reject the file (then *ret: found, no source); when the
 * file is unreadable, -errno and *ret: not found (glibc's "files dns"). */
int sc_nsswitch_load(struct sc_nsswitch *ret, const char *path);
int sc_nsswitch_parse(struct sc_nsswitch *ret, const char *buf, size_t len);
/* Effective hosts/DNS order: the configured one unless AUTO. */
enum sc_hosts_order sc_hosts_order_resolve(enum sc_hosts_order configured,
					   const struct sc_nsswitch *ns);

/* ------------------------------------------------------------------ */
/* sc_dns.c                                                            */
/* ------------------------------------------------------------------ */

#define SC_DNS_HDRLEN 12
#define SC_DNS_MAXNAME 255 /* wire length, root label included */
#define SC_DNS_MAXMSG 65535
#define SC_DNS_MAXRR 512   /* more records: parsed as -E2BIG, not cached */
#define SC_DNS_MAXTEXT 1004 /* longest presentation name, NUL included */

/* Types and classes we look at (values of RFC 1035 and successors). */
enum {
	SC_T_A = 1,
	SC_T_NS = 2,
	SC_T_CNAME = 5,
	SC_T_SOA = 6,
	SC_T_PTR = 12,
	SC_T_MX = 15,
	SC_T_TXT = 16,
	SC_T_AAAA = 28,
	SC_T_SRV = 33,
	SC_T_NAPTR = 35,
	SC_T_OPT = 41,
	SC_C_IN = 1,
};

enum sc_rcode {
	SC_RCODE_NOERROR = 0,
	SC_RCODE_FORMERR = 1,
	SC_RCODE_SERVFAIL = 2,
	SC_RCODE_NXDOMAIN = 3,
	SC_RCODE_NOTIMP = 4,
	SC_RCODE_REFUSED = 5,
};

/* Header flag bits, host order (as in the second 16-bit word). */
#define SC_DNS_QR 0x8000u
#define SC_DNS_AA 0x0400u
#define SC_DNS_TC 0x0200u
#define SC_DNS_RD 0x0100u
#define SC_DNS_RA 0x0080u
#define SC_DNS_RCODE(flags) ((flags) & 0x000fu)

enum sc_section {
	SC_SEC_AN,
	SC_SEC_NS,
	SC_SEC_AR,
};

/* One resource record of a parsed message, by offsets into the message. */
struct sc_rr {
	uint16_t type, class;
	uint32_t ttl;        /* as on the wire (may have the top bit set) */
	uint16_t name_off;   /* owner name (possibly compressed) */
	uint16_t ttl_off;    /* offset of the 32-bit TTL field */
	uint16_t rdata_off;
	uint16_t rdlen;
	uint8_t section;     /* enum sc_section */
};

/* A validated message.  Points into the buffer it was parsed from. */
struct sc_msg {
	const unsigned char *buf;
	size_t len;
	uint16_t id, flags;
	uint16_t qdcount, ancount, nscount, arcount;
	/* question (when qdcount == 1): the name is at SC_DNS_HDRLEN */
	uint16_t qname_len;  /* wire length of the question name */
	uint16_t qtype, qclass;
	unsigned nrr;        /* ancount + nscount + arcount */
	struct sc_rr rr[SC_DNS_MAXRR];
};

/*
 * Parse and validate a whole message: header, at most one question,
 * every record of every section, name compression (pointers only backwards
 * into already-seen data, bounded hops, label and name lengths), RDLENGTH
 * against the type (A, AAAA, CNAME, PTR, NS, SRV, NAPTR, SOA, TXT, MX,
 * OPT), no trailing bytes.  Returns 0, -EBADMSG when malformed, -E2BIG
 * when it holds more than SC_DNS_MAXRR records.
 */
int sc_dns_parse(const unsigned char *buf, size_t len, struct sc_msg *ret);

/*
 * Expand the (possibly compressed) name at `off' in `buf' into
 * uncompressed wire form in `out' (SC_DNS_MAXNAME bytes).  Returns the
 * wire length of the expanded name; *ret_next (may be NULL) gets the
 * offset just past the name as stored at `off'.  -EBADMSG on any fault.
 */
int sc_dns_name_expand(const unsigned char *buf, size_t len, size_t off,
		       unsigned char *out, size_t *ret_next);
/* Presentation ("sip.example.com" or with a trailing dot, RFC 1035
 * escapes allowed; "" and "." are the root) to uncompressed wire.  Returns
 * wire length, -EINVAL, or -ENOSPC when it does not fit `outlen'. */
int sc_dns_name_from_text(const char *text, unsigned char *out, size_t outlen);
/* Wire to presentation, no trailing dot (root is "."), escapes as
 * ns_name_ntop.  Returns the string length or -ENOSPC/-EINVAL. */
int sc_dns_name_to_text(const unsigned char *wire, char *out, size_t outlen);
/* Wire length of an uncompressed, valid name (0 when not valid). */
size_t sc_dns_name_len(const unsigned char *wire);
/* ASCII lower-casing of an uncompressed wire name, in place. */
void sc_dns_name_lower(unsigned char *wire);
/* Case-insensitive comparison of uncompressed wire names. */
bool sc_dns_name_equal(const unsigned char *a, const unsigned char *b);
/* Is `name' equal to or below `suffix' (both uncompressed wire)? */
bool sc_dns_name_is_subdomain(const unsigned char *name,
			      const unsigned char *suffix);

/* A query with one question; flags e.g. SC_DNS_RD.  Returns its length or
 * -EMSGSIZE (-EINVAL: qname is not a valid uncompressed name). */
int sc_dns_build_query(unsigned char *buf, size_t buflen, uint16_t id,
		       uint16_t flags, const unsigned char *qname,
		       uint16_t qtype, uint16_t qclass);

/* An answer: header (QR, RD, RA, rcode from `flags'), the question, and
 * `n' records of type qtype/qclass owned by the question name (compressed
 * to it), each with the given TTL and RDATA.  Used for hosts-file answers
 * to res_query.  Returns its length or -EMSGSIZE (-EINVAL: bad qname). */
struct sc_rdata {
	const void *data;
	uint16_t len;
};
int sc_dns_build_answer(unsigned char *buf, size_t buflen, uint16_t id,
			uint16_t flags, const unsigned char *qname,
			uint16_t qtype, uint16_t qclass, uint32_t ttl,
			const struct sc_rdata *rd, unsigned n);

/* Offsets of every TTL field of `m' that carries a lifetime (all records
 * but OPT, whose TTL field holds EDNS flags).  Returns the count, or
 * -E2BIG when more than `max'. */
int sc_dns_ttl_offsets(const struct sc_msg *m, uint16_t *ret_off, unsigned max);

/*
 * Copy a stored answer for a new query, patching on the way:
 *   - the ID,
 *   - the question name, in the caller's spelling (same wire length: the
 *     cache key is the lower-cased name), so names compressed against it
 *     read as the caller wrote them,
 *   - every TTL at `ttl_off[]' to min(stored TTL, ttl_cap) (a stored TTL
 *     with the top bit set counts as 0, RFC 2181 8).
 * Copies min(len, outlen) bytes; patches that fall beyond the copy are
 * skipped (the copied bytes are always a prefix of the full rewrite).  The
 * question is patched only when `qname' is the stored name up to case.
 * `out' may be `stored' (in place).  Returns the number of bytes written.
 * Never fails: the stored message was validated when it was stored.
 */
struct sc_rewrite {
	uint16_t id;
	const unsigned char *qname;   /* wire, caller's case; NULL: keep */
	uint32_t ttl_cap;
	const uint16_t *ttl_off;
	unsigned nttl;
};
size_t sc_dns_rewrite(const unsigned char *stored, size_t len,
		      const struct sc_rewrite *rw, unsigned char *out,
		      size_t outlen);

/* ------------------------------------------------------------------ */
/* sc_policy.c                                                         */
/* ------------------------------------------------------------------ */

/* Effective TTL limits for one name (global config, per-suffix override). */
struct sc_ttl_limits {
	uint32_t min_ttl, max_ttl, negative_ttl;
};
void sc_policy_limits(const struct sc_conf *c, const unsigned char *qname,
		      struct sc_ttl_limits *ret);

/* RFC 2181 8: a TTL with the top bit set is treated as zero. */
uint32_t sc_policy_rr_ttl(uint32_t wire_ttl);
/* Clamp a positive lifetime to [min, max]. */
uint32_t sc_policy_ttl(uint32_t ttl, uint32_t min, uint32_t max);

enum sc_verdict {
	SC_VERDICT_POSITIVE,  /* NOERROR with answers */
	SC_VERDICT_NXDOMAIN,  /* negative: name does not exist */
	SC_VERDICT_NODATA,    /* negative: name exists, no record of type */
	SC_VERDICT_NOSTORE,   /* never cached: TC, SERVFAIL, REFUSED, ... */
};

/*
 * Decide whether and for how long a validated response to the question it
 * carries may be stored.  *ret_lifetime gets the lifetime in seconds
 * (never 0 for a storable verdict: lifetime 0 is NOSTORE).
 */
enum sc_verdict sc_policy_classify(const struct sc_msg *m,
				   const struct sc_ttl_limits *lim,
				   uint32_t *ret_lifetime);

/*
 * Remaining lifetime of an entry stored at `stored_at' for `lifetime'
 * seconds, at `now'.  Returns > 0 when fresh; 0 when expired, and then
 * *ret_stale_for gets how many seconds ago it expired.  A clock stepped
 * back before `stored_at' makes the entry expired (it is refetched rather
 * than trusted for an unknown time).
 */
uint32_t sc_policy_remaining(int64_t stored_at, uint32_t lifetime,
			     int64_t now, int64_t *ret_stale_for);

/* TTL put on records served stale (RFC 8767 4 recommends 30 s). */
#define SC_STALE_TTL 30

/* ------------------------------------------------------------------ */
/* sc_stats.c                                                          */
/* ------------------------------------------------------------------ */

enum sc_stat {
	SC_STAT_HITS,
	SC_STAT_MISSES,
	SC_STAT_NEGATIVE_HITS,
	SC_STAT_STALE_SERVED,
	SC_STAT_UPSTREAM_ERRORS,
	SC_STAT_EVICTIONS,
	SC_STAT_STORES,
	SC_STAT_HOSTS_HITS,
	SC_STAT_CORRUPT,
	SC_STAT__MAX
};

/* Per record type counters: hits and misses of these types. */
enum sc_stat_type {
	SC_STYPE_A,
	SC_STYPE_AAAA,
	SC_STYPE_SRV,
	SC_STYPE_NAPTR,
	SC_STYPE_CNAME,
	SC_STYPE_PTR,
	SC_STYPE_TXT,
	SC_STYPE_OTHER,
	SC_STYPE__MAX
};

struct sc_stats;   /* a mapping of the shared stats file */

struct sc_stats_snapshot {
	uint64_t c[SC_STAT__MAX];
	uint64_t type_hits[SC_STYPE__MAX];
	uint64_t type_misses[SC_STYPE__MAX];
	int64_t entries;   /* gauge: records in the cache */
	int64_t bytes;     /* gauge: bytes of stored values */
};

/* Map (creating when allowed) the stats file `path'. */
int sc_stats_open(struct sc_stats **ret, const char *path, bool create,
		  gid_t group);
/* Map it read-only, for readers who may not write it (sipcachectl stats):
 * only sc_stats_read() and sc_stats_close() may be used on the result.
 * -ENOENT, -EBADMSG when it is not a stats file of this layout. */
int sc_stats_open_readonly(struct sc_stats **ret, const char *path, gid_t group);
void sc_stats_close(struct sc_stats *s);
/* Lock-free, no syscall: an atomic add in a per-process shard. */
void sc_stats_inc(struct sc_stats *s, enum sc_stat what);
void sc_stats_inc_type(struct sc_stats *s, uint16_t qtype, bool hit);
void sc_stats_add_gauge(struct sc_stats *s, int64_t entries, int64_t bytes);
void sc_stats_set_gauge(struct sc_stats *s, int64_t entries, int64_t bytes);
void sc_stats_read(const struct sc_stats *s, struct sc_stats_snapshot *ret);
/* The entries gauge alone (what every store compares with max_entries):
 * one load instead of summing every shard. */
int64_t sc_stats_entries(const struct sc_stats *s);
void sc_stats_reset(struct sc_stats *s);
/* Only one process sweeps the cache at a time: a lease in the stats file. */
bool sc_stats_sweep_begin(struct sc_stats *s, int64_t now);
/* pthread_atfork child handler: the thread's counter shard is chosen anew. */
void sc_stats_fork_child(void);
void sc_stats_sweep_end(struct sc_stats *s);
enum sc_stat_type sc_stats_type_index(uint16_t qtype);
/* Change counters (see sc_cache.c, "first level"): the value for a key
 * hash, read with acquire; bumped (release) after a write completes. */
#define SC_STATS_GEN_BUCKETS 4096
uint64_t sc_stats_gen(const struct sc_stats *s, uint32_t hash);
/*
 * Single flight of upstream questions, host-wide (key: a hash of the
 * cache key).  begin: 1 when the caller leads (asks upstream, stores,
 * then calls end), 0 when another thread or process is asking (wait for
 * its answer in the cache, at most stale_ms), -1 when the table has no
 * room (ask without coordination).  active: is a live claim still there?
 */
int sc_stats_flight_begin(struct sc_stats *s, uint64_t key, int64_t now_ms, int64_t stale_ms);
bool sc_stats_flight_active(struct sc_stats *s, uint64_t key, int64_t now_ms, int64_t stale_ms);
void sc_stats_flight_end(struct sc_stats *s, uint64_t key);
void sc_stats_gen_bump(struct sc_stats *s, uint32_t hash);
void sc_stats_epoch_bump(struct sc_stats *s);
const char *sc_stats_name(enum sc_stat what);       /* "hits", ... */
const char *sc_stats_type_name(enum sc_stat_type t); /* "A", ... */

/* ------------------------------------------------------------------ */
/* sc_cache.c                                                          */
/* ------------------------------------------------------------------ */

/* Key: lower-cased uncompressed wire name, then type and class. */
#define SC_KEY_MAX (SC_DNS_MAXNAME + 4)
struct sc_key {
	unsigned char buf[SC_KEY_MAX];
	size_t len;
};
/* Keys of sipcache's own records (marks, metadata) start with this byte,
 * which no wire name can start with (a label length is at most 63). */
#define SC_KEY_INTERNAL 0xff

int sc_key_make(struct sc_key *ret, const unsigned char *qname,
		uint16_t qtype, uint16_t qclass);

/* Entry flags (stored). */
#define SC_ENTRY_NEGATIVE 0x0001u  /* NXDOMAIN or NODATA */
#define SC_ENTRY_NXDOMAIN 0x0002u
#define SC_ENTRY_TCP      0x0004u  /* arrived over TCP (longer than UDP) */

struct sc_cache;

struct sc_cache_opts {
	const char *path;
	uint32_t max_entries;
	bool create;          /* create the file (and stats) when missing */
	gid_t group;          /* trusted group, (gid_t)-1: none */
	uint32_t keep_stale;  /* serve_stale: expired entries kept that long */
	int open_timeout_ms;  /* bound on waiting for a lock; 0: default */
};
int sc_cache_open(struct sc_cache **ret, const struct sc_cache_opts *o);
void sc_cache_close(struct sc_cache *c);
/* The hash function the file is built with (tdb_open_ex's hash_fn):
 * anything opening the file raw must pass it. */
struct TDB_DATA;
unsigned int sc_cache_tdb_hash(struct TDB_DATA *key);
/* Reopen the file (new descriptor and map), e.g. after fork. */
int sc_cache_reopen(struct sc_cache *c);
/* pthread_atfork handlers: the child reopens lazily at its next call. */
void sc_cache_fork_prepare(struct sc_cache *c);
void sc_cache_fork_parent(struct sc_cache *c);
void sc_cache_fork_child(struct sc_cache *c);
/* tdb's descriptor, or -1 (a hint, read without the lock). */
int sc_cache_fd_peek(const struct sc_cache *c);
/* The process is about to close descriptors lo..hi: when the cache's is
 * among them, close it now (true: it is closed) and open the file again
 * by path at the next use.  See sc_cache.c. */
bool sc_cache_fd_closing(struct sc_cache *c, int lo, int hi);
/*
 * At most once a second: is our descriptor still the file we opened, and
 * is that file still at its path?  When the path now names another file
 * (rebuilt, or removed), the handle follows it (reopens, creating it).
 * 0: usable; -EBADF: our descriptor was closed or replaced under us, the
 * handle is dead for good (its descriptor number belongs to somebody
 * else now, so it is never closed or used again); other -errno: the
 * reopen failed and the handle is dead.
 */
int sc_cache_revalidate(struct sc_cache *c, int64_t now_ms);
struct sc_stats *sc_cache_stats(struct sc_cache *c);

/* What a lookup found. */
struct sc_hit {
	size_t len;          /* full length of the stored answer */
	size_t written;      /* bytes copied to the caller's buffer */
	uint16_t flags;      /* SC_ENTRY_* */
	uint16_t rcode;
	uint16_t ancount;
	uint32_t remaining;  /* seconds of life left (0 when stale) */
	bool stale;
};

/*
 * Look `k' up and, when found usable, copy the stored answer rewritten for
 * the caller (`rw': ID, question spelling; TTL offsets and cap are filled
 * in here) into `out'.  No malloc, no write to the file, no syscall.
 * `max_stale' is how many seconds past expiry an entry is still usable
 * (0: only fresh ones).  Returns 0 on a hit, -ENOENT on a miss (absent or
 * expired beyond max_stale), -EBADMSG when the record failed its checks
 * (it is then removed).
 */
int sc_cache_get(struct sc_cache *c, const struct sc_key *k, int64_t now,
		 uint32_t max_stale, uint16_t id, const unsigned char *qname,
		 unsigned char *out, size_t outlen, struct sc_hit *ret);

/* Store a validated response under `k' for `lifetime' seconds from
 * `now'.  Enforces max_entries (eviction happens here, on the miss path). */
int sc_cache_put(struct sc_cache *c, const struct sc_key *k,
		 const struct sc_msg *m, uint32_t lifetime, uint16_t flags,
		 int64_t now);
int sc_cache_delete(struct sc_cache *c, const struct sc_key *k);
/* Remove every DNS entry (internal records such as marks stay).
 * Returns the number removed. */
int sc_cache_flush(struct sc_cache *c);
/* Remove every entry of `qname' (wire), whatever its type and class. */
int sc_cache_flush_name(struct sc_cache *c, const unsigned char *qname);

/* A read-only view of one entry, for dump and check. */
struct sc_entry_view {
	const unsigned char *qname;   /* wire, lower case */
	uint16_t qtype, qclass;
	uint16_t flags;
	int64_t stored_at;
	uint32_t lifetime;
	const unsigned char *msg;
	size_t msglen;
};
/* Calls fn for each DNS entry (not internal records); fn returns nonzero
 * to stop.  Returns the number visited or -errno. */
int sc_cache_traverse(struct sc_cache *c,
		      int (*fn)(const struct sc_entry_view *e, void *priv),
		      void *priv);

/* Remove every entry expired for longer than keep_stale, then evict down
 * to `target' entries: oldest expiry first (so expired ones go before
 * live ones); sets the entries/bytes gauges to the exact count.
 * Returns the number of entries removed. */
int sc_cache_evict(struct sc_cache *c, int64_t now, uint32_t target);
/* Recount entries and bytes into the gauges, removing nothing. */
int sc_cache_recount(struct sc_cache *c);

/* Verify every record; with `repair', drop bad ones (or rebuild the
 * file when tdb itself is damaged, as sc_cache_rebuild does, counting at
 * least one bad record).  Returns the number of bad records; -EBADMSG
 * without `repair' when tdb itself is damaged. */
int sc_cache_check(struct sc_cache *c, bool repair);
/*
 * Rebuild the file at o->path, even one too damaged to open (sipcachectl
 * check --repair): copy every record tdb can still find that passes its
 * checks into a new file with the old one's owner, group and mode, and
 * rename it over the old one; processes follow within a second
 * (sc_cache_revalidate).  This process must not have the file open
 * (-EBUSY).  Nothing is replaced on error: -EPERM when the new file cannot
 * get the old one's owner or would not be trusted, -ENOTRECOVERABLE when
 * the file does not start like a tdb file (never replaced: cache_file may
 * name the wrong file), -ENOENT.  *ret_kept, *ret_dropped: records copied
 * and left behind (either may be NULL).  The stats gauges are not
 * touched: sc_cache_recount() the new file.
 */
int sc_cache_rebuild(const struct sc_cache_opts *o, unsigned *ret_kept, unsigned *ret_dropped);

/* Internal records (marks etc.): raw access under SC_KEY_INTERNAL keys. */
int sc_cache_put_internal(struct sc_cache *c, const void *key, size_t klen,
			  const void *val, size_t vlen);
int sc_cache_get_internal(struct sc_cache *c, const void *key, size_t klen,
			  void *val, size_t vlen, size_t *ret_len);

/*
 * The hit path on one stored value, without a file (the stored-value fuzz
 * target, tests/fuzz/fuzz_value.c): `value' holds `len' bytes as tdb
 * would hand them over; they get the checks of a record read from the
 * file, then the rewrite into `out', exactly as sc_cache_get() serves
 * them (no first level).  Returns 0, -ENOENT (expired beyond max_stale)
 * or -EBADMSG (the value fails its checks).
 */
int sc_cache_value_serve(const void *value, size_t len, int64_t now, uint32_t max_stale,
			 uint16_t id, const unsigned char *qname, unsigned char *out,
			 size_t outlen, struct sc_hit *ret);

/* ------------------------------------------------------------------ */
/* sc_hosts.c                                                          */
/* ------------------------------------------------------------------ */

/*
 * The hosts file, parsed once into an index, re-read when it changes
 * (checked at most once a second).  Lookups give glibc 2.36 nss_files'
 * answers for the same file: first matching line wins for gethostbyname*,
 * names and aliases compared case-insensitively (ASCII), IPv4 and IPv6
 * lines, `#' comments, CRLF, long lines, malformed lines skipped.
 *
 * Locking: lookups only read `h' (run them under the read side of a
 * rwlock); sc_hosts_refresh() replaces the contents (write side).
 * sc_hosts_refresh_due() is a plain read, so the write lock need only be
 * taken when a check is due.  Result strings point into `h' and stay valid
 * until the generation changes.
 */
struct sc_hosts;

#define SC_HOSTS_MAXADDR 64
#define SC_HOSTS_MAXALIAS 64
#define SC_HOSTS_MAXSIZE (32 << 20) /* bigger files are not loaded: -EFBIG */

struct sc_hosts_result {
	const char *name;               /* canonical (first name on the line) */
	unsigned naliases;
	const char *aliases[SC_HOSTS_MAXALIAS];
	unsigned naddr;
	struct sc_hosts_addr {
		int family;             /* AF_INET or AF_INET6 */
		unsigned char addr[16]; /* 4 or 16 bytes used, rest zero */
	} addr[SC_HOSTS_MAXADDR];
};

/*
 * Open and read `path'.  Fails only for lack of memory (or an empty path):
 * a missing file gives an empty handle (nss_files finds nothing either);
 * a file that cannot be read or exceeds SC_HOSTS_MAXSIZE gives a handle
 * whose lookups return that error until a refresh reads it.
 */
int sc_hosts_open(struct sc_hosts **ret, const char *path);
/* The same from memory, never refreshed (tests, fuzzing).  -EFBIG. */
int sc_hosts_parse_buf(struct sc_hosts **ret, const char *buf, size_t len);
void sc_hosts_close(struct sc_hosts *h);
/* Is a check of the file due at `now_ms'?  No syscall, no write. */
bool sc_hosts_refresh_due(const struct sc_hosts *h, int64_t now_ms);
/* Re-read if the file changed (device, inode, size, mtime, ctime); checks
 * at most once a second (`now' from sc_now_mono_ms()).  Returns 0, or
 * -errno if it cannot be read (the old contents are kept).  A deleted file
 * empties the contents (returns 0), as nss_files would answer nothing. */
int sc_hosts_refresh(struct sc_hosts *h, int64_t now_ms);
/* Changes each time the contents are replaced (earlier results dangle). */
uint64_t sc_hosts_generation(const struct sc_hosts *h);
/*
 * By name, as nss_files does for one family: AF_INET or AF_INET6 for
 * gethostbyname{,2,3}_r (and getaddrinfo with that family), AF_UNSPEC for
 * gethostbyname4_r (getaddrinfo AF_UNSPEC: each line's own family, in file
 * order, no v4-mapping).  `multi' is host.conf's `multi on' (Debian's
 * default; RESOLV_MULTI overrides it): off, the first matching line is the
 * answer; on, every matching line's address is appended and, for AF_INET
 * and AF_INET6, its aliases and differing name too (gethostbyname3_multi).
 * For AF_INET, `::1' and `::ffff:a.b.c.d' lines answer as IPv4; for
 * AF_INET6, IPv4 lines do not exist.  No trailing-dot or search-list
 * handling: the name is compared as given.  Returns 0, -ENOENT, -E2BIG
 * when the answer exceeds SC_HOSTS_MAXADDR or (except for AF_UNSPEC,
 * whose aliases are informative and truncated) SC_HOSTS_MAXALIAS,
 * -EAFNOSUPPORT, or the error that kept the file from being loaded at all.
 * On any error but -ENOENT the caller should let libc answer.
 */
int sc_hosts_by_name(struct sc_hosts *h, const char *name, int family,
		     bool multi, struct sc_hosts_result *ret);
/*
 * By address (gethostbyaddr_r): the first line whose address, read for
 * `family', equals `addr' (4 or 16 bytes).  As in nss_files an AF_INET
 * query also finds `::ffff:a.b.c.d' and (as 127.0.0.1) `::1' lines, an
 * AF_INET6 query never finds IPv4 lines.  libc itself answers the IPv6
 * unspecified address `::' with not-found before asking any module.
 * Returns as sc_hosts_by_name().
 */
int sc_hosts_by_addr(struct sc_hosts *h, int family, const void *addr,
		     struct sc_hosts_result *ret);

/* ------------------------------------------------------------------ */
/* sc_core.c                                                           */
/* ------------------------------------------------------------------ */

struct __res_state;

/*
 * The libresolv functions a miss calls.  Front ends fill this: the preload
 * with the next definitions after itself (dlsym RTLD_NEXT), never its own
 * (that would recurse); the NSS module and sipcachectl with libc's.
 */
struct sc_real {
	int (*res_nquery)(struct __res_state *statp, const char *dname, int class,
			  int type, unsigned char *answer, int anslen);
	int (*res_query)(const char *dname, int class, int type,
			 unsigned char *answer, int anslen);
};

struct sc_core;

/*
 * The process's core, set up on first use from `real' (copied once; later
 * callers may pass NULL).  NULL means "pass through": disabled by
 * SIPCACHE_DISABLE, a bad configuration, or a cache file that is missing,
 * untrusted or not writable (one log line says which).
 */
struct sc_core *sc_core_get(const struct sc_real *real);
const struct sc_conf *sc_core_conf(const struct sc_core *core);
enum sc_hosts_order sc_core_hosts_order(const struct sc_core *core);
const struct sc_nsswitch *sc_core_nsswitch(const struct sc_core *core);
bool sc_core_hosts_multi(const struct sc_core *core);
struct sc_stats *sc_core_stats(struct sc_core *core);
struct sc_cache *sc_core_cache(struct sc_core *core);

/* Recursion guard, per thread, shared by every front end in the process:
 * false when this thread is already inside sipcache (pass through then). */
bool sc_core_enter(void);
void sc_core_leave(void);

/*
 * For the preload's close(), dup2(), dup3(), close_range(), closefrom():
 * the process is about to close descriptors lo..hi.  True when the cache
 * file's descriptor was among them and sipcache closed it itself (the
 * caller then must not close that number again); the file is opened
 * again at the next lookup.  Cheap when it is not: two atomic loads.
 */
bool sc_core_fds_closing(int lo, int hi);

/*
 * One question with res_nquery() semantics: `statp' is the caller's state
 * (res_n* functions) or NULL for the thread's _res (res_query and
 * friends).  Returns the answer length (which may exceed anslen, the way
 * libresolv reports an answer truncated to the buffer) or -1, with
 * *ret_herrno set as libresolv sets h_errno (0 on success); the answer
 * buffer holds the response for negative answers, as with libresolv.
 */
struct sc_query {
	const char *name;
	int class, type;
	unsigned char *answer;
	int anslen;
	struct __res_state *statp;
	/* The hosts file may answer A/AAAA (hosts_in_res_query, in the
	 * configured order): set by the res_* front end only.  Address
	 * lookups (sc_addr.c) consult the file themselves, and a DNS
	 * question of theirs must get DNS's answer. */
	bool hosts;
	/* 0 for a caller's question; 1.. for the core's own prefetch of the
	 * rest of an RFC 3263 chain (not counted as misses, never reordered,
	 * prefetching no further than PREFETCH_DEPTH). */
	unsigned depth;
	/* A library caller (sc_sip.c) that wants the records as stored: no
	 * RFC 2782 order, marked targets not dropped (it flags them). */
	bool raw;
};
int sc_core_query(struct sc_core *core, const struct sc_query *q, int *ret_herrno);
/* res_nquerydomain(): name + "." + domain, or the name as given when
 * domain is NULL. */
int sc_core_querydomain(struct sc_core *core, const struct sc_query *q,
			const char *domain, int *ret_herrno);
/* res_nsearch(): glibc's search-list, ndots and HOSTALIASES rules;
 * `search = no' in the configuration turns the search list off.
 * *ret_herrno is h_errno as libresolv leaves it, on success too:
 * res_nsearch() sets HOST_NOT_FOUND first and never clears it, so a
 * success reports HOST_NOT_FOUND or the error of the last candidate that
 * failed (test the return value, not *ret_herrno, for success).
 * All three leave errno as libresolv does: 0 when a response was had
 * (hit, hosts file, upstream answer), the error of a failed exchange. */
int sc_core_search(struct sc_core *core, const struct sc_query *q, int *ret_herrno);

/*
 * The hosts file, under the core's lock, re-read when due: `fn' sees the
 * result (valid only during the call) and its return value is returned.
 * -ENOENT when the name (address) is not there or the hosts file is not
 * used (hosts_order = never).
 */
int sc_core_hosts_lookup(struct sc_core *core, const char *name, int family, bool multi,
			 int (*fn)(const struct sc_hosts_result *res, void *priv), void *priv);
int sc_core_hosts_addr(struct sc_core *core, int family, const void *addr,
		       int (*fn)(const struct sc_hosts_result *res, void *priv), void *priv);
/* The hosts file's generation (sc_hosts_generation), re-read first when
 * due as a lookup would; 0 when the file is not used.  For sc_addr.c's
 * first level. */
uint64_t sc_core_hosts_generation(struct sc_core *core);

/* ------------------------------------------------------------------ */
/* sc_addr.c: address lookups for gethostbyname*, getaddrinfo and NSS   */
/* ------------------------------------------------------------------ */

/*
 * Both front ends call these with the recursion guard held
 * (sc_core_enter, or ops->enter) and errno saved: they may change errno,
 * and they never print.  See the top of sc_addr.c for the rules
 * (glibc 2.36 nss_files + nss_dns, answer for answer).
 */

#define SC_ADDR_MAX 128                   /* addresses in one result */
#define SC_ADDR_MAXALIAS SC_HOSTS_MAXALIAS /* aliases (CNAME owners, hosts) */
#define SC_ADDR_POOL 8192                 /* bytes of names in one result */

struct sc_addr_result {
	const char *name;        /* canonical name (h_name; 4_r's first tuple) */
	unsigned naliases;       /* h_aliases; always 0 for AF_UNSPEC */
	const char *aliases[SC_ADDR_MAXALIAS];
	unsigned naddr;
	struct sc_hosts_addr addr[SC_ADDR_MAX];  /* in the order glibc gives */
	/*
	 * What nss_dns reports through gethostbyname3_r/4_r's and
	 * gethostbyaddr2_r's ttlp: when has_ttl, lower *ttlp to ttl (the
	 * smallest CNAME/address TTL of the answer, already lowered to the
	 * cache's remaining lifetime on a hit; 0 for an answer without a
	 * usable address, nss_dns's "do not cache").  Answers from the
	 * hosts file have none (nss_files leaves *ttlp alone).
	 */
	int32_t ttl;
	bool has_ttl;
	bool from_hosts;
	size_t pool_used;
	char pool[SC_ADDR_POOL]; /* the strings above live here */
};

/* Which sources sc_addr_by_name() consults: the NSS module leaves out the
 * hosts file when `files' precedes `sipcache' (glibc read it already). */
#define SC_ADDR_FILES  0x1u
#define SC_ADDR_DNS    0x2u

/*
 * Addresses of `name' for `family' (AF_INET or AF_INET6 as
 * gethostbyname3_r gives them, with aliases; AF_UNSPEC as
 * gethostbyname4_r, A then AAAA, no aliases), through the hosts file in
 * the configured order (the name as given) and the cache (A and AAAA, the
 * search list as nss_dns applies it: an AF_UNSPEC pair is searched as one
 * question), with the configuration's `family' policy (ipv4/ipv6: the
 * other family is "no data" without a query; prefer-ipv6: AAAA first).
 *
 * Returns, with *ret_herrno always set, and the NSS status it stands for:
 *   0             found                       SUCCESS      NETDB_SUCCESS (AF_UNSPEC:
 *                                                           HOST_NOT_FOUND when
 *                                                           the last response
 *                                                           had no address)
 *   -ENOENT       NXDOMAIN, no data, SERVFAIL  NOTFOUND     HOST_NOT_FOUND,
 *                 or REFUSED... (h_errno says)              NO_DATA, TRY_AGAIN,
 *                                                           NO_RECOVERY
 *   -EAGAIN       no server configured, or     TRYAGAIN     TRY_AGAIN (errno
 *                 (one family) an answer with               EAGAIN) or
 *                 no usable address                         NO_RECOVERY (ENOENT)
 *   -ETIMEDOUT,   no server answered           UNAVAIL      TRY_AGAIN (EAGAIN)
 *   -ECONNREFUSED                              (the NSS module says TRYAGAIN:
 *                                              nss_sipcache.c explains)
 *   -EMFILE, -ENFILE                           UNAVAIL      NETDB_INTERNAL
 *   -EAFNOSUPPORT family not AF_INET/INET6/UNSPEC, UNAVAIL  NO_DATA
 *   anything else (-ENOMEM, -E2BIG: more than a result holds, -EBADMSG:
 *                 an answer our parser refuses, a hosts-file error):
 *                 let libc answer instead (NSS: UNAVAIL, so `dns' does).
 * On failure ret->name, aliases and addresses are empty; ttl/has_ttl
 * still say what nss_dns would have done to *ttlp.
 */
int sc_addr_by_name(struct sc_core *core, const char *name, int family, unsigned sources,
		    struct sc_addr_result *ret, int *ret_herrno);
/*
 * PTR lookups (gethostbyaddr2_r): `addr' holds 4 (AF_INET) or 16
 * (AF_INET6) bytes.  Hosts file in the configured order (its line's name
 * and aliases), then the cache: ADDR.in-addr.arpa or the ip6.arpa nibble
 * name (res_query, no search list), CNAMEs followed (RFC 2317).  As in
 * nss_dns, an IPv4-mapped or -compatible IPv6 address is asked, and
 * answered (ret->addr[0].family), as IPv4.  Returns as sc_addr_by_name,
 * except that a timeout is -ENOENT (nss_dns: NOTFOUND) and a PTR target
 * that is not a host name is -EBADMSG (nss_dns: UNAVAIL).
 */
int sc_addr_by_addr(struct sc_core *core, int family, const void *addr, unsigned sources,
		    struct sc_addr_result *ret, int *ret_herrno);
/* The sources an NSS module should pass: SC_ADDR_FILES unless `files'
 * precedes `sipcache' in nsswitch.conf's hosts line. */
unsigned sc_addr_nss_sources(const struct sc_core *core);
/*
 * A result to pass to sc_addr_by_*(): the thread's own (allocated once,
 * freed at thread exit), or a malloc'd one when that is in use; NULL
 * without memory.  Give it back with sc_addr_result_put() once read.
 * Each copy of the core (preload, NSS module) has its own.
 */
struct sc_addr_result *sc_addr_result_get(void);
void sc_addr_result_put(struct sc_addr_result *r);

/*
 * One core per process.  The preload exports its table under this name
 * (preload.map); the NSS module looks for it with dlsym(RTLD_DEFAULT) and
 * uses it when present, its own copy of the core otherwise, so a process
 * with both opens the cache file once and counts each lookup once.
 *
 * For the preload: the table is defined in sc_addr.c (default
 * visibility); list `sipcache_core_ops_v1;' in preload.map's global
 * section.  sc_addr.o comes from the static archive, so it is linked in
 * only when the preload references something of it (sc_addr_by_name
 * does).  The NSS module calls, per lookup: enter() (false: a nested
 * lookup from inside sipcache, it answers UNAVAIL), get(real), then
 * nss_sources() and addr_by_*, then leave().  Fields are only ever
 * appended; a user checks `size' before using a field.
 */
#define SC_CORE_OPS_SYMBOL "sipcache_core_ops_v1"
struct sc_core_ops {
	size_t size;   /* sizeof(struct sc_core_ops) of the exporter */
	struct sc_core *(*get)(const struct sc_real *real);
	bool (*enter)(void);
	void (*leave)(void);
	int (*addr_by_name)(struct sc_core *core, const char *name, int family,
			    unsigned sources, struct sc_addr_result *ret, int *ret_herrno);
	int (*addr_by_addr)(struct sc_core *core, int family, const void *addr,
			    unsigned sources, struct sc_addr_result *ret, int *ret_herrno);
	unsigned (*nss_sources)(const struct sc_core *core);
};
/* This copy's table (default visibility; only the preload's map exports it). */
extern const struct sc_core_ops sipcache_core_ops_v1;

/* ------------------------------------------------------------------ */
/* sc_sip.c / sc_srv.c / sc_marks.c                                    */
/* ------------------------------------------------------------------ */

/*
 * What makes the cache SIP-aware (docs/sip.md):
 *   sc_srv.c    pure functions on one message: RFC 2782 ordering and
 *               target marks applied to a served answer (hit path), the
 *               related records of a NAPTR/SRV answer and the next
 *               questions of its RFC 3263 chain (miss path);
 *   sc_marks.c  `down'/`up' target marks, shared through the cache file;
 *   sc_sip.c    RFC 3263 target selection, ENUM, "serves" (sipcachectl).
 */

/* Random source of the RFC 2782 draw: xorshift64*, not for secrets. */
struct sc_rng {
	uint64_t s;
};
void sc_rng_seed(struct sc_rng *r, uint64_t seed);
/* Uniform in [0, n); 0 when n is 0. */
uint32_t sc_rng_below(struct sc_rng *r, uint32_t n);
/* This thread's generator: seeded from the kernel on first use, and
 * again in a child after fork() (forked workers must not draw alike). */
struct sc_rng *sc_rng_thread(void);

/* --- target marks (sc_marks.c) ------------------------------------- */

#define SC_MARKS_MAX 64                 /* marks held at once */
#define SC_MARKS_DEFAULT_SECONDS 300    /* `down TARGET' without SECONDS */
#define SC_MARKS_MAX_SECONDS (366 * 86400)

enum sc_mark_kind {
	SC_MARK_NAME,   /* a host name: SRV targets */
	SC_MARK_IPV4,   /* an address: A answers (and resolve lists) */
	SC_MARK_IPV6,
};

struct sc_mark {
	int64_t expires;                  /* wall clock (sc_now) */
	uint16_t port;                    /* 0: every port */
	uint8_t kind;                     /* enum sc_mark_kind */
	unsigned char addr[16];           /* IPV4: 4 bytes used */
	unsigned char name[SC_DNS_MAXNAME]; /* NAME: wire, lower case */
};

struct sc_marks {
	unsigned n;
	struct sc_mark m[SC_MARKS_MAX];
};

/* "host", "host:port", "192.0.2.1", "192.0.2.1:5060", "2001:db8::1",
 * "[2001:db8::1]:5060" (a trailing dot on a host is allowed).  0 or
 * -EINVAL; `expires' is left 0. */
int sc_mark_parse(const char *text, struct sc_mark *ret);
/* The same forms back; length or -ENOSPC. */
int sc_mark_format(const struct sc_mark *m, char *out, size_t outlen);
/* Mark `target' down for `seconds' (1..SC_MARKS_MAX_SECONDS) from `now',
 * replacing an earlier mark of the same target.  -EINVAL, -ENOSPC (the
 * set is full), -EBUSY (another writer held the set for over 2 s), or
 * the cache's error. */
int sc_marks_down(struct sc_cache *c, const char *target, uint32_t seconds, int64_t now);
/* Remove the mark of `target' (NULL: every mark).  -ENOENT when there
 * was none (expired marks count as none). */
int sc_marks_up(struct sc_cache *c, const char *target, int64_t now);
/* The marks alive at `now', soonest expiry first.  0 or -errno. */
int sc_marks_list(struct sc_cache *c, int64_t now, struct sc_marks *ret);
/*
 * Hit path: this thread's copy of the marks, NULL when none is alive.
 * Re-read from the cache file only when the marks generation in the
 * stats file changed (or, without a stats file, at most once a second):
 * otherwise two atomic loads, no lock, no syscall, no malloc.  Valid
 * until this thread's next call.
 */
const struct sc_marks *sc_marks_current(struct sc_cache *c, int64_t now);
/* Is this SRV target (wire name, any case) at `port' marked at `now'? */
bool sc_marks_name_down(const struct sc_marks *ms, const unsigned char *name,
			uint16_t port, int64_t now);
/* Is this address marked?  `port' 0 matches only marks for every port
 * (A/AAAA answers carry no port). */
bool sc_marks_addr_down(const struct sc_marks *ms, int family, const void *addr,
			uint16_t port, int64_t now);

/* Defined in sc_stats.c: the marks generation (changes with every change
 * of the mark set and every flush or rebuild of the cache) and the lease
 * that serialises writers of the set across processes. */
uint64_t sc_stats_marks_gen(const struct sc_stats *s);
void sc_stats_marks_bump(struct sc_stats *s);
bool sc_stats_marks_lock(struct sc_stats *s, int64_t now);
void sc_stats_marks_unlock(struct sc_stats *s);

/* --- served answers, related records (sc_srv.c) -------------------- */

#define SC_SRV_ORDER 0x1u  /* RFC 2782 order for SRV answers (srv_order) */
#define SC_SRV_DROP  0x2u  /* marked records dropped while an unmarked one
			    * remains; without it they only go last */
#define SC_SRV_REWEIGHT 0x4u /* with SC_SRV_ORDER: within each priority, the
			      * weights (the same multiset) rewritten to
			      * decrease along the served order, for clients
			      * that re-sort by priority, then weight */

/*
 * Hit path.  `msg' holds a whole answer as served to the caller (`len'
 * bytes; `bufsize' is the caller's buffer).  For an SRV answer, with
 * SC_SRV_ORDER, the SRV records answering the question (owned by the
 * question name or the end of its CNAME chain) are put in RFC 2782
 * order; with live marks, marked SRV targets (SRV) or marked addresses
 * (A, AAAA) go last, or are dropped (SC_SRV_DROP) while an unmarked
 * record remains.  No other record moves.  The message is written anew
 * (its compression pointers re-aimed, see sc_srv.c), so it stays valid
 * however records move, and never grows below 16 KiB.  Returns the new
 * length (`len' when nothing changed; never more than bufsize), or
 * -errno with `msg' unchanged: -EBADMSG/-E2BIG (our
 * parser refuses it), -ENOTSUP (it holds a type with names we do not
 * know how to move), -EMSGSIZE (the result would not fit), -ENOMEM.
 * No malloc but once per thread (a work area).
 */
int sc_srv_apply(unsigned char *msg, size_t len, size_t bufsize, unsigned flags,
		 const struct sc_marks *marks, int64_t now, struct sc_rng *rng);

/* RFC 2782 order of `n' SRV records, in place: by priority, then within
 * a priority by repeated weighted draws, weight 0 first with one chance
 * in (sum of weights + 1) per draw, the others in proportion to their
 * weights (1:3 is 25%:75%).  `idx' is the caller's. */
struct sc_srv_pick {
	uint16_t prio, weight;
	unsigned idx;
};
void sc_srv_rfc2782(struct sc_srv_pick *v, unsigned n, struct sc_rng *rng);

/*
 * The records of `type' that answer the question of `m': class IN, owned
 * by the question name or, when the answer section holds a CNAME chain
 * from it, by its end.  Their indices in m->rr (message order) go to
 * ret_idx; the owner (wire, as spelled in the message) to ret_owner when
 * not NULL.  Returns the count, or -E2BIG when more than `max'.
 */
int sc_srv_rrset(const struct sc_msg *m, uint16_t type, unsigned *ret_idx, unsigned max,
		 unsigned char *ret_owner);

/*
 * Miss path: the related records of a NAPTR or SRV answer, each (name,
 * type) handed to `fn' as a standalone answer of its own (the question,
 * the records in the order received with their own TTLs, nothing else),
 * ready for sc_policy_classify() and sc_cache_put().  Related means: in
 * the additional section, class IN, and SRV owned by the replacement of
 * an "S" NAPTR of the answer, or A/AAAA owned by a target of an SRV of
 * the answer (or of such an additional SRV).  Nothing else is taken:
 * unrelated records are a poisoning vector.  Answers with TC or an
 * rcode are skipped.  Returns the number of answers passed, or the
 * first negative value `fn' returned, or -ENOMEM.
 */
int sc_srv_related(const struct sc_msg *m,
		   int (*fn)(const struct sc_msg *ans, void *priv), void *priv);

/*
 * Miss path, for prefetch: the next questions of the RFC 3263 chain
 * after this answer: SRV of the replacement of each "S" NAPTR whose
 * service is SIP's (SIP+D2x, SIPS+D2x), or A and AAAA of each SRV target
 * ("." excluded), each (name, type) once.  `fn' returns nonzero to stop.
 * Returns the number of calls.
 */
int sc_srv_chain(const struct sc_msg *m,
		 int (*fn)(const unsigned char *name, uint16_t type, void *priv), void *priv);

/* --- RFC 3263 selection, ENUM, serves (sc_sip.c) ------------------- */

enum sc_sip_transport {
	SC_SIP_UDP,
	SC_SIP_TCP,
	SC_SIP_TLS,       /* TLS over TCP */
	SC_SIP_SCTP,
	SC_SIP_TLS_SCTP,  /* TLS over SCTP (SIPS+D2S) */
	SC_SIP__TRANSPORTS
};
/* "udp", "tcp", "tls", "sctp", "tls-sctp" */
const char *sc_sip_transport_name(enum sc_sip_transport t);

/*
 * Client preferences, as Kamailio's dns_udp_pref, dns_tcp_pref,
 * dns_tls_pref, dns_sctp_pref: a transport with a negative value is never
 * chosen from NAPTR or SRV records.  By default (RFC 3263) they only
 * break ties of NAPTR order and preference, and order the SRV queries
 * made when there is no NAPTR; with `ignore_rfc' (Kamailio's
 * dns_naptr_ignore_rfc) they come before the NAPTR order.
 */
struct sc_sip_prefs {
	int pref[SC_SIP__TRANSPORTS];
	bool ignore_rfc;
};
/* Kamailio's defaults: udp 30, tcp 20, tls 10, sctp 20; tls-sctp off. */
void sc_sip_prefs_default(struct sc_sip_prefs *p);

struct sc_sip_uri {
	bool sips;
	char host[SC_DNS_MAXTEXT];   /* as written, brackets removed */
	int family;                  /* AF_INET/AF_INET6: numeric host */
	unsigned char addr[16];
	uint16_t port;               /* 0: none given */
	int transport;               /* enum sc_sip_transport, -1: none */
};
/* sip: or sips: URI, user part, parameters (transport=, maddr= which
 * replaces the host, RFC 3263 4) and headers.  0 or -EINVAL (also for
 * sips with transport=udp, and unknown transports). */
int sc_sip_uri_parse(const char *uri, struct sc_sip_uri *ret);

#define SC_SIP_MAXTARGETS 64
#define SC_SIP_MAXVIA 32
#define SC_SIP_VIALEN 640

struct sc_sip_target {
	enum sc_sip_transport transport;
	uint16_t port;
	int family;                  /* AF_INET, AF_INET6; AF_UNSPEC: the
				      * name has no address */
	unsigned char addr[16];
	bool down;                   /* marked (sc_marks): listed last */
	bool local;                  /* sc_sip_serves: an address of ours */
	unsigned naptr, srv;         /* 1 + index in via[] of the record
				      * that led here; 0: none */
	char host[SC_DNS_MAXTEXT];   /* the name resolved (or the numeric
				      * host) */
};

struct sc_sip_result {
	unsigned n;
	bool truncated;              /* more than SC_SIP_MAXTARGETS */
	unsigned queries;            /* lookups made (cache or upstream) */
	struct sc_sip_target t[SC_SIP_MAXTARGETS];
	unsigned nvia;
	char via[SC_SIP_MAXVIA][SC_SIP_VIALEN]; /* "OWNER TYPE RDATA" */
};

/*
 * RFC 3263 4 for `uri': the ordered list of (transport, host, port,
 * address) a client should try, with the NAPTR and SRV records that
 * led to each.  Numeric host, explicit port, transport parameter, NAPTR
 * (order, preference, the client's `prefs'; SIPS URIs only TLS), SRV for
 * each supported transport when there is no usable NAPTR, RFC 2782
 * order (`rng', NULL: this thread's), A/AAAA per the configured family
 * (any: A then AAAA), the domain's A/AAAA when no SRV RRset exists
 * (never when one says "."), marked targets last.  Every lookup goes
 * through sc_core_query (cache, then upstream, results stored).
 * Returns the number of targets; -EINVAL (bad URI), -ENOENT (none),
 * -EAGAIN (none, and a lookup failed: timeout, SERVFAIL).
 */
int sc_sip_resolve(struct sc_core *core, const char *uri, const struct sc_sip_prefs *prefs,
		   struct sc_rng *rng, struct sc_sip_result *ret);
/* "udp sip1.example.com 5060 192.0.2.1" (address "-" when none, " down"
 * when marked).  Length or -ENOSPC. */
int sc_sip_target_format(const struct sc_sip_target *t, char *out, size_t outlen);

/* --- ENUM ----------------------------------------------------------- */

#define SC_ENUM_MAX 32
#define SC_ENUM_ALL 0x1u   /* keep every order (RFC 3403 stops at the
			    * first order that gave a result) */

struct sc_enum_entry {
	uint16_t order, pref;
	char service[256];           /* e.g. "E2U+sip" */
	char uri[1024];              /* the regexp applied to the number */
	char domain[SC_DNS_MAXTEXT]; /* owner of the NAPTR */
};

struct sc_enum_result {
	unsigned n;
	bool truncated;
	char aus[20];                /* "+15550100": what the regexps saw */
	struct sc_enum_entry e[SC_ENUM_MAX];
};

/* "+1 (555) 010-0" -> "0.1.0.5.5.5.1.SUFFIX" (visual separators - . ( )
 * and blanks ignored; '+' and 1..15 digits required).  Length or
 * -EINVAL/-ENOSPC.  `aus' (20 bytes, may be NULL) gets "+digits". */
int sc_enum_domain(const char *number, const char *suffix, char *out, size_t outlen,
		   char *aus);
/*
 * RFC 3402 substitution expression `re' (`relen' bytes, as in the NAPTR:
 * delimiter, POSIX ERE, delimiter, replacement with \1..\9, delimiter,
 * optional flag i) applied to `subject'.  Length of the result, -EINVAL
 * (malformed; or an ERE we refuse so that a record cannot hang or
 * exhaust the caller: back references inside it, NUL bytes, repetitions
 * that would make regcomp build a huge tree or explode its epsilon
 * closures; see sc_sip.c), -ENOENT (no match),
 * -ENOSPC.
 */
int sc_naptr_regexp(const char *re, size_t relen, const char *subject, char *out,
		    size_t outlen);
/*
 * ENUM (RFC 6116): NAPTR of the number under each suffix in turn (NULL or
 * 0 suffixes: e164.arpa) until one has records; terminal ("u") rules
 * with an E2U service (of enumservice type `service' when not NULL, e.g.
 * "sip") rewritten by their regexp, non-terminal ones ("" flags)
 * followed (4 levels at most), by order then preference.  Returns the
 * number of entries; -EINVAL, -ENOENT, -EAGAIN as sc_sip_resolve.
 */
int sc_sip_enum(struct sc_core *core, const char *number, const char *const *suffixes,
		unsigned nsuffixes, const char *service, unsigned flags,
		struct sc_enum_result *ret);

/* --- serves --------------------------------------------------------- */

#define SC_SIP_MAXLOCAL 64
struct sc_sip_local {
	unsigned n;
	struct {
		int family;
		unsigned char addr[16];
		unsigned prefix;      /* netmask length */
		bool loopback;        /* the whole prefix is ours (127/8) */
	} a[SC_SIP_MAXLOCAL];
};
/* This host's addresses (getifaddrs).  0 or -errno. */
int sc_sip_local_addrs(struct sc_sip_local *ret);
/* Is `addr' one of `local' (an interface address, or inside the prefix
 * of a loopback interface, which the kernel treats as local)? */
bool sc_sip_is_local(const struct sc_sip_local *local, int family, const void *addr);
/*
 * Mass virtual hosting: do the SIP SRV records of `domain' (those named
 * by its SIP NAPTRs, and _sip._udp, _sip._tcp, _sips._tcp, _sip._sctp,
 * _sips._sctp) point at this host?  Every target address found goes to
 * ret (marked `local' when it is one of `local'; NULL: this host's).
 * Returns 1 (yes), 0 (no), or -EINVAL, -EAGAIN (no answer, a lookup
 * failed).
 */
int sc_sip_serves(struct sc_core *core, const char *domain, const struct sc_sip_local *local,
		  struct sc_sip_result *ret);

#endif /* SC_H */

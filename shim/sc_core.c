/*
 * sc_core.c - one sipcache per process, and the lookup of one question.
 *
 * Both front ends (the preload and the NSS module) and sipcachectl reach
 * the cache through here, so every decision is made once:
 *
 *   sc_core_get()       the process's core, set up on first use (never in
 *                       a constructor: the host's environment, NSS and
 *                       resolver must be usable first), or NULL for
 *                       "pass everything through": disabled by
 *                       SIPCACHE_DISABLE, bad configuration, cache file
 *                       missing, untrusted or not writable.
 *   sc_core_query()     res_nquery(): hosts file (when it comes first,
 *                       hosts_in_res_query is on and the caller is the
 *                       res_* front end: q->hosts), cache, upstream,
 *                       store, serve-stale; returns exactly what libresolv
 *                       would.  Address lookups (sc_addr.c) read the
 *                       hosts file themselves, in nss_files' way: their
 *                       DNS questions must get DNS's answers.
 *   sc_core_querydomain(), sc_core_search()
 *                       res_nquerydomain() and res_nsearch(): glibc's
 *                       search-list rules, each candidate name cached on
 *                       its own (a NXDOMAIN for "sip.example.com.corp" is
 *                       as cacheable as the final answer).
 *
 * One core per process, even when the preload and the NSS module are both
 * loaded: the NSS module asks for the preload's core first (see nss/).
 * The set-up runs once (pthread_once, under init_lock so that a fork()
 * waits for it: see "Fork" below), and puts back the process's SIGCHLD
 * disposition, which tdb's robust-mutex probe replaces.
 * The recursion guard (sc_core_enter) is thread-local and shared by both:
 * anything that re-enters a resolver function from inside sipcache (a
 * group lookup over LDAP, say) passes straight through.
 *
 * Upstream.  A miss asks the real libresolv (struct sc_real, filled by the
 * front end: the preload's are the next definitions after itself, never
 * its own) with the caller's resolver state, into a 64 KiB buffer so the
 * whole answer can be stored, then hands the caller what libresolv would
 * have put in its buffer.  When the configuration sets nameserver,
 * timeout or attempts, a private per-thread state initialised from
 * resolv.conf and overridden from the configuration is used instead, with
 * the caller's options.
 *
 * Truncation, the libresolv way.  An answer longer than the caller's
 * buffer arrives in libresolv either over UDP, where recvfrom() cuts it
 * and res_query returns the buffer size, or, when longer than the UDP
 * limit (512 bytes, or the EDNS size glibc advertises: the buffer size
 * clamped to [512, 1200]), over TCP, where glibc copies what fits, sets TC
 * in the copy and returns the full length.  deliver() does the same.
 *
 * Failures.  A network error, timeout, SERVFAIL or REFUSED is never stored
 * and never turned into a negative answer; when serve_stale allows, the
 * expired answer is served instead (RFC 8767, TTL 30 at most), otherwise
 * the failure is returned unchanged, down to the one byte libresolv
 * writes into the caller's buffer before it asks (the rcode, cleared).
 * What libresolv accepted but our stricter parser refuses is handed on
 * untouched and never stored.
 *
 * errno and h_errno, the libresolv way (measured on glibc 2.36, and read
 * in res_send.c and res_query.c).  A lookup that got a response leaves
 * errno 0: send_dg() clears it once the socket is ready, and res_nsearch()
 * clears it before it starts.  A failed exchange leaves the errno of the
 * failure (ECONNREFUSED, ETIMEDOUT...).  So a hit, a hosts-file answer and
 * a stale answer set errno to 0, an upstream call starts from the errno
 * the caller had (our own bookkeeping may have changed it) and its errno
 * is what the caller gets.  h_errno: res_nquery() sets it only on failure
 * (a stale or hosts-file answer after a failed try puts back what the
 * failed real call set);
 * res_nsearch() sets HOST_NOT_FOUND before it starts and never clears it,
 * so a search that succeeds leaves HOST_NOT_FOUND or the error of the last
 * candidate that failed; sc_core_search() reports that value, and the
 * front end stores it as libresolv would (h_errno and statp->res_h_errno).
 *
 * What is never cached (passed straight to the real function): questions
 * libresolv would refuse, and callers whose options change what the
 * server is asked or what the answer holds, so that an answer fetched for
 * them would be wrong for another process or the reverse: no RES_RECURSE
 * (no recursion: a resolver's partial view), RES_USE_DNSSEC (DO bit:
 * signatures in the answer), and AAAA under RES_NOAAAA (libresolv makes
 * up a NODATA answer locally; caching it would hide every AAAA record
 * from the rest of the host).  The AD bit of a served answer is cleared
 * unless the caller trusts it (RES_TRUSTAD), as libresolv's mask_ad_bit()
 * does for answers off the wire.  (The OPT record of an EDNS0 caller's
 * answer is stored with it and served to every caller; clients skip it.)
 *
 * Search.  sc_core_search() is glibc 2.36's __res_context_search rule for
 * rule, with libresolv's own HOSTALIASES reading; it walks statp->dnsrch,
 * which holds the first six domains of resolv.conf's search line (glibc
 * itself walks them all).
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sc.h"

#define UPSTREAM_BUFSIZE 65536
#define PREFETCH_DEPTH 2        /* NAPTR -> SRV -> A/AAAA */
#define EDNS_BUFFER_SIZE 1200   /* glibc's RESOLV_EDNS_BUFFER_SIZE */
#define NSSWITCH_PATH "/etc/nsswitch.conf"
#define HOSTCONF_PATH "/etc/host.conf"

struct sc_core {
	struct sc_conf conf;
	struct sc_nsswitch nsswitch;
	enum sc_hosts_order hosts_order;
	bool hosts_multi;
	bool override_upstream;
	gid_t group;
	struct sc_real real;
	struct sc_cache *cache;
	pthread_rwlock_t hosts_lock;
	struct sc_hosts *hosts;
};

static pthread_once_t core_once = PTHREAD_ONCE_INIT;
static struct sc_core *the_core;
static struct sc_real init_real;
static bool init_real_set;
static __thread unsigned core_depth;

/* ------------------------------------------------------------------ */
/* set-up                                                              */

/*
 * host.conf's `multi' (and RESOLV_MULTI, which glibc reads with getenv):
 * whether nss_files returns every matching line or the first.  Read the
 * way glibc's res_hconf.c does, for the one keyword that matters here.
 */
static bool read_hosts_multi(void)
{
	const char *env = getenv("RESOLV_MULTI"), *path;
	char buf[4096];
	bool multi = false;
	FILE *f;

	/* RESOLV_HOST_CONF names another file, as for glibc (ld.so
	 * removes it from the environment of setuid programs). */
	path = getenv("RESOLV_HOST_CONF");
	f = fopen(path ? path : HOSTCONF_PATH, "rce");
	if (f) {
		while (fgets(buf, sizeof(buf), f)) {
			char *p = buf + strspn(buf, " \t");

			if (strncasecmp(p, "multi", 5) == 0 && strchr(" \t", p[5]) && p[5]) {
				p += 5 + strspn(p + 5, " \t");
				multi = strncasecmp(p, "on", 2) == 0;
			}
		}
		fclose(f);
	}
	if (env) {
		multi = strcasecmp(env, "on") == 0;
	}
	return multi;
}

static gid_t lookup_group(const char *name)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (name[0] == '\0' || getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || res == NULL) {
		return (gid_t)-1;
	}
	return gr.gr_gid;
}

/*
 * Fork.  The handlers are registered before the set-up runs, and the
 * set-up runs under init_lock, which the prepare handler takes: a fork()
 * in one thread while another is setting the core up waits for the
 * set-up to finish, so the child inherits either no core or a whole one.
 * (Otherwise pthread_once would run the set-up again in the child, over
 * the half-done state of the parent's thread, and tdb refuses to open the
 * file there.)  The set-up itself must therefore never call
 * pthread_atfork(): the forking thread holds libc's atfork lock while it
 * waits for init_lock.  init_lock is recursive because the set-up forks
 * too: tdb_runtime_check_for_robust_mutexes() probes the mutexes in a
 * child process, on the first open in each process.  The child reopens
 * the cache lazily, at its first lookup (sc_cache_fork_child).
 */
static pthread_mutex_t init_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static bool atfork_ok;

static void atfork_prepare(void)
{
	pthread_mutex_lock(&init_lock);
	if (the_core) {
		pthread_rwlock_wrlock(&the_core->hosts_lock);
		sc_cache_fork_prepare(the_core->cache);
	}
}

static void atfork_parent(void)
{
	if (the_core) {
		sc_cache_fork_parent(the_core->cache);
		pthread_rwlock_unlock(&the_core->hosts_lock);
	}
	pthread_mutex_unlock(&init_lock);
}

static void atfork_child(void)
{
	pthread_mutexattr_t a;

	if (the_core) {
		sc_cache_fork_child(the_core->cache);
		pthread_rwlock_init(&the_core->hosts_lock, NULL);
	}
	sc_stats_fork_child();
	/* Held by the forking thread, whose id the child's thread does not
	 * share: a fresh recursive mutex, not an unlock. */
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&init_lock, &a);
	pthread_mutexattr_destroy(&a);
}

static void atfork_register(void)
{
	atfork_ok = pthread_atfork(atfork_prepare, atfork_parent, atfork_child) == 0;
}

static void core_init(void)
{
	struct sigaction sigchld;
	bool have_sigchld;
	struct sc_core *core;
	struct sc_cache_opts o;
	char err[512];
	int r;

	if (sc_conf_disabled_by_env()) {
		return;
	}
	core = calloc(1, sizeof(*core));
	if (core == NULL) {
		return;
	}
	core->real = init_real;
	sc_conf_defaults(&core->conf);
	err[0] = '\0';
	r = sc_conf_load(&core->conf, sc_conf_path(), err, sizeof(err));
	if (r < 0 && r != -ENOENT) {
		SC_LOG_FAULT(SC_FAULT_CONF, LOG_ERR, "%s; passing lookups through uncached",
			     err[0] ? err : strerror(-r));
		goto fail;
	}
	sc_log_setup(core->conf.log, core->conf.log_level);

	sc_nsswitch_load(&core->nsswitch, NSSWITCH_PATH);
	core->hosts_order = sc_hosts_order_resolve(core->conf.hosts_order, &core->nsswitch);
	core->hosts_multi = read_hosts_multi();
	core->override_upstream = core->conf.nns > 0 || core->conf.timeout > 0 ||
				  core->conf.attempts > 0;
	core->group = lookup_group(core->conf.group);

	memset(&o, 0, sizeof(o));
	o.path = core->conf.cache_file;
	o.max_entries = core->conf.max_entries;
	o.create = true;
	o.group = core->group;
	o.keep_stale = core->conf.serve_stale;
	/*
	 * The first tdb open in a process runs tdb's robust-mutex probe,
	 * which forks a child and installs its own SIGCHLD handler for
	 * good (plain sa_handler, chaining to the old one).  In somebody
	 * else's process that would drop an SA_SIGINFO handler or
	 * SA_NOCLDWAIT, and turn an ignored SIGCHLD (children reaped by the
	 * kernel) into zombies.  The probe has waited for its child when it
	 * returns: put the host's disposition back.
	 */
	have_sigchld = sigaction(SIGCHLD, NULL, &sigchld) == 0;
	r = sc_cache_open(&core->cache, &o);
	if (have_sigchld) {
		sigaction(SIGCHLD, &sigchld, NULL);
	}
	if (r < 0) {
		SC_LOG_FAULT(SC_FAULT_CACHE_OPEN, LOG_WARNING,
			     "%s: %s; passing lookups through uncached",
			     core->conf.cache_file, strerror(-r));
		goto fail;
	}
	pthread_rwlock_init(&core->hosts_lock, NULL);
	if (core->hosts_order != SC_HOSTS_NEVER &&
	    sc_hosts_open(&core->hosts, core->conf.hosts_file) < 0) {
		core->hosts = NULL;
	}
	if (!atfork_ok) {
		/* Without the handlers a child would share our descriptor
		 * and locks: run uncached rather than risk it. */
		sc_hosts_close(core->hosts);
		sc_cache_close(core->cache);
		goto fail;
	}
	__atomic_store_n(&the_core, core, __ATOMIC_RELEASE);
	return;

fail:
	free(core);
}

/*
 * pthread_once() marks the set-up done only after this returns, so a fork
 * just after the unlock below gives a child that runs the set-up again
 * (glibc restarts a once-routine interrupted by fork) over a core it
 * already holds: init_ran, inherited with the rest, says it ran.
 */
static bool init_ran;

static void core_init_locked(void)
{
	pthread_mutex_lock(&init_lock);
	if (!init_ran) {
		core_init();
		init_ran = true;
	}
	pthread_mutex_unlock(&init_lock);
}

struct sc_core *sc_core_get(const struct sc_real *real)
{
	/*
	 * `real' is copied once, before the set-up runs (under
	 * pthread_once).  Front ends pass it on every call, so the copy is
	 * guarded by a flag read without the lock: after the first call a
	 * lookup takes no lock here (a mutex per lookup would bounce one
	 * cache line between every thread of a busy server).
	 */
	if (real && real->res_nquery && real->res_query &&
	    !__atomic_load_n(&init_real_set, __ATOMIC_ACQUIRE)) {
		static pthread_mutex_t real_lock = PTHREAD_MUTEX_INITIALIZER;

		pthread_mutex_lock(&real_lock);
		if (!init_real_set) {
			init_real = *real;
			__atomic_store_n(&init_real_set, true, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&real_lock);
	}
	if (!__atomic_load_n(&init_real_set, __ATOMIC_ACQUIRE)) {
		return NULL;   /* nobody told us how to ask upstream */
	}
	pthread_once(&atfork_once, atfork_register);
	pthread_once(&core_once, core_init_locked);
	return __atomic_load_n(&the_core, __ATOMIC_ACQUIRE);
}

const struct sc_conf *sc_core_conf(const struct sc_core *core)
{
	return &core->conf;
}

enum sc_hosts_order sc_core_hosts_order(const struct sc_core *core)
{
	return core->hosts_order;
}

const struct sc_nsswitch *sc_core_nsswitch(const struct sc_core *core)
{
	return &core->nsswitch;
}

struct sc_stats *sc_core_stats(struct sc_core *core)
{
	return sc_cache_stats(core->cache);
}

struct sc_cache *sc_core_cache(struct sc_core *core)
{
	return core->cache;
}

bool sc_core_enter(void)
{
	if (core_depth > 0) {
		return false;
	}
	core_depth++;
	return true;
}

void sc_core_leave(void)
{
	core_depth--;
}

bool sc_core_fds_closing(int lo, int hi)
{
	struct sc_core *core = __atomic_load_n(&the_core, __ATOMIC_ACQUIRE);
	bool closed;
	int fd;

	if (core == NULL || core->cache == NULL) {
		return false;
	}
	fd = sc_cache_fd_peek(core->cache);
	if (fd < 0 || fd < lo || fd > hi) {
		return false;
	}
	/* tdb_close() inside calls close(): it must pass straight through. */
	if (!sc_core_enter()) {
		return false;
	}
	closed = sc_cache_fd_closing(core->cache, lo, hi);
	sc_core_leave();
	return closed;
}

/* ------------------------------------------------------------------ */
/* hosts file                                                          */

/* Re-read the hosts file when due (at most once a second). */
static void hosts_refresh(struct sc_core *core)
{
	int64_t now = sc_now_mono_ms();

	if (core->hosts == NULL || !sc_hosts_refresh_due(core->hosts, now)) {
		return;
	}
	pthread_rwlock_wrlock(&core->hosts_lock);
	if (sc_hosts_refresh(core->hosts, now) < 0) {
		SC_LOG_FAULT(SC_FAULT_HOSTS, LOG_WARNING, "%s: cannot be read",
			     core->conf.hosts_file);
	}
	pthread_rwlock_unlock(&core->hosts_lock);
}

int sc_core_hosts_lookup(struct sc_core *core, const char *name, int family, bool multi,
			 int (*fn)(const struct sc_hosts_result *res, void *priv), void *priv)
{
	struct sc_hosts_result *res;
	int r;

	if (core->hosts == NULL) {
		return -ENOENT;
	}
	hosts_refresh(core);
	res = malloc(sizeof(*res));
	if (res == NULL) {
		return -ENOMEM;
	}
	pthread_rwlock_rdlock(&core->hosts_lock);
	r = sc_hosts_by_name(core->hosts, name, family, multi, res);
	if (r == 0) {
		r = fn(res, priv);
	}
	pthread_rwlock_unlock(&core->hosts_lock);
	free(res);
	return r;
}

int sc_core_hosts_addr(struct sc_core *core, int family, const void *addr,
		       int (*fn)(const struct sc_hosts_result *res, void *priv), void *priv)
{
	struct sc_hosts_result *res;
	int r;

	if (core->hosts == NULL) {
		return -ENOENT;
	}
	hosts_refresh(core);
	res = malloc(sizeof(*res));
	if (res == NULL) {
		return -ENOMEM;
	}
	pthread_rwlock_rdlock(&core->hosts_lock);
	r = sc_hosts_by_addr(core->hosts, family, addr, res);
	if (r == 0) {
		r = fn(res, priv);
	}
	pthread_rwlock_unlock(&core->hosts_lock);
	free(res);
	return r;
}

uint64_t sc_core_hosts_generation(struct sc_core *core)
{
	uint64_t gen;

	if (core->hosts == NULL) {
		return 0;
	}
	/* Refreshed first, as a lookup would be: a first level keyed on
	 * the generation then sees a changed file at the same moment a
	 * lookup would. */
	hosts_refresh(core);
	pthread_rwlock_rdlock(&core->hosts_lock);
	gen = sc_hosts_generation(core->hosts);
	pthread_rwlock_unlock(&core->hosts_lock);
	return gen;
}

bool sc_core_hosts_multi(const struct sc_core *core)
{
	return core->hosts_multi;
}

/* ------------------------------------------------------------------ */
/* answers for the caller                                              */

/* A query ID for answers we make up or serve: any value is what the
 * caller would see from libresolv (it picks a random one). */
static uint16_t next_id(void)
{
	static __thread uint32_t x;

	if (x == 0) {
		x = (uint32_t)(uintptr_t)&x ^ (uint32_t)sc_now_mono_ms() ^ 0x9e3779b9u;
	}
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return (uint16_t)x;
}

static unsigned long caller_options(const struct sc_query *q)
{
	return q->statp ? q->statp->options : _res.options;
}

/*
 * `len' bytes of answer were produced for a buffer of `anslen' and
 * min(len, anslen) copied into it: return what libresolv would, and set TC
 * in the copy when it would have had to come over TCP.
 */
static int deliver(const struct sc_query *q, size_t len)
{
	size_t udp_limit = 512;

	if (len <= (size_t)q->anslen) {
		return (int)len;
	}
	if (caller_options(q) & (RES_USE_EDNS0 | RES_USE_DNSSEC)) {
		udp_limit = q->anslen < 512 ? 512 :
			    q->anslen > EDNS_BUFFER_SIZE ? EDNS_BUFFER_SIZE : (size_t)q->anslen;
	}
	if (len > udp_limit) {
		if (q->anslen > 2) {
			q->answer[2] |= SC_DNS_TC >> 8;
		}
		return (int)len;
	}
	return q->anslen;
}

/* h_errno for a (possibly truncated) answer, glibc's __res_context_query
 * rules; 0 for success. */
static int answer_herrno(unsigned rcode, unsigned ancount)
{
	if (rcode == SC_RCODE_NOERROR && ancount > 0) {
		return 0;
	}
	switch (rcode) {
	case SC_RCODE_NXDOMAIN:
		return HOST_NOT_FOUND;
	case SC_RCODE_SERVFAIL:
		return TRY_AGAIN;
	case SC_RCODE_NOERROR:
		return NO_DATA;
	default:
		return NO_RECOVERY;
	}
}

static int finish(const struct sc_query *q, size_t len, unsigned rcode, unsigned ancount,
		  int *ret_herrno)
{
	int n = deliver(q, len);

	*ret_herrno = answer_herrno(rcode, ancount);
	return *ret_herrno ? -1 : n;
}

/* The end of a well-formed message that starts at buf: libresolv returns
 * -1 for negative answers, so their length must be found by walking. */
static int message_length(const unsigned char *buf, size_t max)
{
	unsigned char name[SC_DNS_MAXNAME];
	size_t off = SC_DNS_HDRLEN;
	unsigned i, n;

	if (max < SC_DNS_HDRLEN) {
		return -EBADMSG;
	}
	if ((buf[4] << 8 | buf[5]) > 1) {
		return -EBADMSG;
	}
	if (buf[5] == 1) {
		if (sc_dns_name_expand(buf, max, off, name, &off) < 0 || off + 4 > max) {
			return -EBADMSG;
		}
		off += 4;
	}
	n = (unsigned)(buf[6] << 8 | buf[7]) + (unsigned)(buf[8] << 8 | buf[9]) +
	    (unsigned)(buf[10] << 8 | buf[11]);
	for (i = 0; i < n; i++) {
		if (sc_dns_name_expand(buf, max, off, name, &off) < 0 || off + 10 > max) {
			return -EBADMSG;
		}
		off += 10 + (size_t)(buf[off + 8] << 8 | buf[off + 9]);
		if (off > max) {
			return -EBADMSG;
		}
	}
	return (int)off;
}

/* ------------------------------------------------------------------ */
/* upstream                                                            */

/* Per-thread resolver state for configured nameservers/timeout/attempts. */
static __thread struct __res_state *override_state;

static void override_free(void *p)
{
	struct __res_state *st = p;

	if (st) {
		res_nclose(st);
		free(st);
	}
}

static pthread_key_t override_key;
static pthread_once_t override_key_once = PTHREAD_ONCE_INIT;

static void override_key_init(void)
{
	/* The destructor frees a thread's state when the thread exits. */
	pthread_key_create(&override_key, override_free);
}

static struct __res_state *override_get(struct sc_core *core, unsigned long options)
{
	struct __res_state *st = override_state;
	unsigned i;

	if (st == NULL) {
		pthread_once(&override_key_once, override_key_init);
		st = calloc(1, sizeof(*st));
		if (st == NULL || res_ninit(st) != 0) {
			free(st);
			SC_LOG_FAULT(SC_FAULT_UPSTREAM, LOG_ERR,
				     "cannot set up a resolver state; using the caller's");
			return NULL;
		}
		if (core->conf.nns > 0) {
			for (i = 0; i < (unsigned)st->nscount && i < MAXNS; i++) {
				if (st->_u._ext.nsaddrs[i]) {
					free(st->_u._ext.nsaddrs[i]);
					st->_u._ext.nsaddrs[i] = NULL;
				}
			}
			for (i = 0; i < core->conf.nns; i++) {
				const struct sockaddr_storage *ss = &core->conf.ns[i];

				if (ss->ss_family == AF_INET) {
					memcpy(&st->nsaddr_list[i], ss, sizeof(struct sockaddr_in));
				} else {
					struct sockaddr_in6 *sa6 = malloc(sizeof(*sa6));

					if (sa6 == NULL) {
						override_free(st);
						return NULL;
					}
					memcpy(sa6, ss, sizeof(*sa6));
					/* glibc keeps IPv6 servers out of line,
					 * with the inline slot's family 0. */
					memset(&st->nsaddr_list[i], 0, sizeof(st->nsaddr_list[i]));
					st->_u._ext.nsaddrs[i] = sa6;
				}
			}
			st->nscount = (int)core->conf.nns;
		}
		if (core->conf.timeout > 0) {
			st->retrans = core->conf.timeout;
		}
		if (core->conf.attempts > 0) {
			st->retry = core->conf.attempts;
		}
		override_state = st;
		pthread_setspecific(override_key, st);
	}
	st->options = options | RES_INIT;
	return st;
}

/*
 * Ask upstream into buf.  Returns the response length, or -1 with
 * *ret_herrno; then buf may still hold a response (negative answers),
 * whose length is returned in *ret_len (0: none).
 */
static int upstream(struct sc_core *core, const struct sc_query *q, unsigned char *buf,
		    size_t *ret_len, int *ret_herrno)
{
	struct __res_state *st = q->statp;
	int n;

	/*
	 * Nothing but the reply may ever be read from buf as part of it.
	 * glibc matches a reply's question against the query reading up to
	 * the end of the answer *buffer*, not of the reply (send_dg:
	 * __libc_res_queriesmatch(..., ans + anssiz)); and the length of a
	 * negative reply is found by walking it (message_length).  Bytes
	 * no name can be read from (0x80: a label type that does not exist)
	 * make a reply that claims more than it holds end at its end in
	 * both: glibc takes it as it does in a caller's buffer of garbage,
	 * and we never complete it with what an earlier reply left here.
	 * The header stays zero: without QR nothing is taken for a reply.
	 */
	memset(buf, 0, SC_DNS_HDRLEN);
	memset(buf + SC_DNS_HDRLEN, 0x80, UPSTREAM_BUFSIZE - SC_DNS_HDRLEN);
	if (core->override_upstream) {
		struct __res_state *o = override_get(core, caller_options(q));

		if (o) {
			st = o;
		}
	}
	if (st) {
		n = core->real.res_nquery(st, q->name, q->class, q->type, buf, UPSTREAM_BUFSIZE);
		*ret_herrno = st->res_h_errno;
	} else {
		n = core->real.res_query(q->name, q->class, q->type, buf, UPSTREAM_BUFSIZE);
		*ret_herrno = h_errno;
	}
	if (n > UPSTREAM_BUFSIZE) {
		/* Cut by TCP truncation: not a whole answer. */
		*ret_len = UPSTREAM_BUFSIZE;
		return n;
	}
	if (n >= 0) {
		*ret_len = (size_t)n;
		return n;
	}
	/* Negative answers come back as -1 with the response in buf.  (A
	 * DNS message is at most 65535 bytes: one less than the buffer.) */
	if (buf[2] & (SC_DNS_QR >> 8)) {
		int len = message_length(buf, SC_DNS_MAXMSG);

		*ret_len = len > 0 ? (size_t)len : 0;
	} else {
		*ret_len = 0;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* one question                                                        */

struct hosts_answer_ctx {
	const struct sc_query *q;
	const unsigned char *qname;
	uint16_t qtype;
	int len;
};

static int hosts_answer_fn(const struct sc_hosts_result *res, void *priv)
{
	struct hosts_answer_ctx *h = priv;
	struct sc_rdata rd[SC_HOSTS_MAXADDR];
	unsigned char *buf;
	unsigned i, n = 0;
	int len;

	for (i = 0; i < res->naddr; i++) {
		if ((h->qtype == SC_T_A) != (res->addr[i].family == AF_INET)) {
			continue;
		}
		rd[n].data = res->addr[i].addr;
		rd[n].len = h->qtype == SC_T_A ? 4 : 16;
		n++;
	}
	if (n == 0) {
		return -ENOENT;
	}
	buf = malloc(UPSTREAM_BUFSIZE);
	if (buf == NULL) {
		return -ENOMEM;
	}
	/* TTL 0: the file is re-read within a second of a change, so an
	 * answer from it must not be kept longer by the caller either. */
	len = sc_dns_build_answer(buf, UPSTREAM_BUFSIZE, next_id(), SC_DNS_RD | SC_DNS_RA,
				  h->qname, h->qtype, SC_C_IN, 0, rd, n);
	if (len > 0) {
		memcpy(h->q->answer, buf, (size_t)len < (size_t)h->q->anslen ? (size_t)len
									   : (size_t)h->q->anslen);
		h->len = len;
	}
	free(buf);
	return len > 0 ? 0 : len;
}

/* Answer A/AAAA from the hosts file; -ENOENT when it has nothing. */
static int query_hosts(struct sc_core *core, const struct sc_query *q,
		       const unsigned char *qname, int *ret_herrno)
{
	struct hosts_answer_ctx h = { .q = q, .qname = qname, .qtype = (uint16_t)q->type };
	char name[NS_MAXDNAME];
	int r;

	if (!q->hosts || !core->conf.hosts_in_res_query || q->class != C_IN ||
	    (q->type != T_A && q->type != T_AAAA) ||
	    sc_dns_name_to_text(qname, name, sizeof(name)) < 0) {
		return -ENOENT;
	}
	r = sc_core_hosts_lookup(core, name, q->type == T_A ? AF_INET : AF_INET6,
				 core->hosts_multi, hosts_answer_fn, &h);
	if (r < 0) {
		return r;
	}
	sc_stats_inc(sc_core_stats(core), SC_STAT_HOSTS_HITS);
	*ret_herrno = 0;
	return deliver(q, (size_t)h.len);
}

/* Does `m' answer the question we asked? (RFC 5452: never store what
 * does not match what was asked.) */
static bool answers_question(const struct sc_msg *m, const unsigned char *qname,
			     const struct sc_query *q)
{
	return m->qdcount == 1 && m->qtype == q->type && m->qclass == q->class &&
	       (m->flags & SC_DNS_QR) &&
	       sc_dns_name_equal(m->buf + SC_DNS_HDRLEN, qname);
}

/*
 * Options under which an answer is neither taken from the cache nor
 * stored: what the server is asked, or what its answer holds, differs
 * from what every other caller gets (see the top of this file).
 */
static bool options_cacheable(unsigned long options, int type)
{
	if (!(options & RES_RECURSE) || (options & RES_USE_DNSSEC)) {
		return false;
	}
#ifdef RES_NOAAAA
	if ((options & RES_NOAAAA) && type == T_AAAA) {
		return false;
	}
#else
	(void)type;
#endif
	return true;
}

/*
 * SIP-aware serving (docs/sip.md): an SRV answer in RFC 2782 order when
 * srv_order = rfc2782, and marked targets (sipcachectl down) last, or
 * dropped while an unmarked record remains, in SRV and A/AAAA answers.
 * Only a whole answer in the caller's buffer is touched; `len' is its
 * length, the new length is returned.  Without marks and with srv_order =
 * keep this costs two atomic loads (sc_marks_current).
 */
static size_t served_order(struct sc_core *core, const struct sc_query *q, size_t len,
			   int64_t now)
{
	const struct sc_marks *marks;
	unsigned flags = 0;
	int r;

	if (q->class != C_IN || (q->type != T_SRV && q->type != T_A && q->type != T_AAAA) ||
	    len > (size_t)q->anslen || q->depth > 0 || q->raw) {
		return len;
	}
	if (q->type == T_SRV && core->conf.srv_order == SC_SRV_RFC2782) {
		flags |= SC_SRV_ORDER;
	} else if (q->type == T_SRV && core->conf.srv_order == SC_SRV_RFC2782_WEIGHTS) {
		flags |= SC_SRV_ORDER | SC_SRV_REWEIGHT;
	}
	marks = sc_marks_current(core->cache, now);
	if (marks) {
		flags |= SC_SRV_DROP;
	}
	if (flags == 0) {
		return len;
	}
	r = sc_srv_apply(q->answer, len, (size_t)q->anslen, flags, marks, now, sc_rng_thread());
	return r > 0 ? (size_t)r : len;
}

static int serve_hit(struct sc_core *core, const struct sc_query *q, const struct sc_hit *hit,
		     int64_t now, int *ret_herrno)
{
	struct sc_stats *st = sc_core_stats(core);
	size_t len = hit->len;

	if (hit->stale) {
		sc_stats_inc(st, SC_STAT_STALE_SERVED);
	} else {
		sc_stats_inc(st, SC_STAT_HITS);
		sc_stats_inc_type(st, (uint16_t)q->type, true);
		if (hit->flags & SC_ENTRY_NEGATIVE) {
			sc_stats_inc(st, SC_STAT_NEGATIVE_HITS);
		}
	}
	/* Stored as received by whichever process asked first: the AD bit
	 * is only shown to callers that trust it (libresolv's mask_ad_bit). */
	if (hit->written > 3 && !(caller_options(q) & RES_TRUSTAD)) {
		q->answer[3] &= (unsigned char)~0x20u;
	}
	if (hit->written == hit->len && !(hit->flags & SC_ENTRY_NEGATIVE)) {
		len = served_order(core, q, len, now);
	}
	errno = 0;   /* a response was had: libresolv leaves errno 0 */
	return finish(q, len, hit->rcode, hit->ancount, ret_herrno);
}

/* The hosts file answering res_query: errno as for any response. */
static int serve_hosts(struct sc_core *core, const struct sc_query *q,
		       const unsigned char *qname, int *ret_herrno)
{
	int r = query_hosts(core, q, qname, ret_herrno);

	if (r >= 0) {
		errno = 0;
	}
	return r;
}

/*
 * Single flight (miss path): when several threads or processes miss the
 * same question at once (16 SIP workers after a flush, or after a popular
 * entry expired), the first claims it in the stats file's flight table
 * and asks upstream; the others wait for its answer to appear in the
 * cache, polling with backoff, for at most one resolver timeout (the
 * state's retrans, within [100 ms, 5 s]): a leader that is slow, failed
 * without an answer to store, or died, costs them that wait at most, then
 * they ask upstream themselves.  No lock is held while waiting.
 */
static uint64_t flight_key(const struct sc_key *key)
{
	return sc_checksum(key->buf, key->len, 0x666c69676874ULL);
}

static int64_t flight_bound_ms(const struct sc_query *q)
{
	const struct __res_state *st = q->statp ? q->statp : &_res;
	int64_t ms = (int64_t)st->retrans * 1000;

	return ms < 100 ? 100 : ms > 5000 ? 5000 : ms;
}

static int flight_begin(struct sc_core *core, const struct sc_query *q, const struct sc_key *key)
{
	return sc_stats_flight_begin(sc_core_stats(core), flight_key(key), sc_now_mono_ms(),
				     flight_bound_ms(q));
}

static void flight_end(struct sc_core *core, const struct sc_key *key)
{
	sc_stats_flight_end(sc_core_stats(core), flight_key(key));
}

/* 0 with the answer in q->answer (and *ret_hit) once the leader stored
 * it; -ENOENT when the caller should ask upstream itself. */
static int flight_wait(struct sc_core *core, const struct sc_query *q, const struct sc_key *key,
		       const unsigned char *qname, int64_t now, struct sc_hit *ret_hit)
{
	int64_t start = sc_now_mono_ms(), bound = flight_bound_ms(q);
	uint64_t fk = flight_key(key);
	long sleep_ns = 200000;

	for (;;) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = sleep_ns };
		bool active;
		int64_t t;

		nanosleep(&ts, NULL);
		if (sleep_ns < 2000000) {
			sleep_ns *= 2;
		}
		t = sc_now_mono_ms();
		active = sc_stats_flight_active(sc_core_stats(core), fk, t, bound);
		if (sc_cache_get(core->cache, key, now, 0, next_id(), qname, q->answer,
				 (size_t)q->anslen, ret_hit) == 0) {
			return 0;
		}
		if (!active || t - start >= bound) {
			return -ENOENT;
		}
	}
}

/*
 * Related records (miss path): the additional records of a NAPTR or SRV
 * answer that belong to its RFC 3263 chain (SRV of NAPTR replacements,
 * A/AAAA of SRV targets; sc_srv_related takes nothing else) become
 * entries of their own, each with its own TTL, so the next steps of the
 * same call hit.  Stored only when the cache holds no fresh answer for
 * that question already: an additional section never overrides an
 * authoritative answer that was asked for.
 */
struct related_ctx {
	struct sc_core *core;
	int64_t now;
	int stored;
};

static int store_related_fn(const struct sc_msg *ans, void *priv)
{
	struct related_ctx *x = priv;
	const unsigned char *qname = ans->buf + SC_DNS_HDRLEN;
	unsigned char probe[SC_DNS_HDRLEN];
	struct sc_ttl_limits lim;
	struct sc_key key;
	struct sc_hit hit;
	uint32_t lifetime;

	if (sc_key_make(&key, qname, ans->qtype, ans->qclass) < 0) {
		return 0;
	}
	sc_policy_limits(&x->core->conf, qname, &lim);
	if (sc_policy_classify(ans, &lim, &lifetime) != SC_VERDICT_POSITIVE) {
		return 0;
	}
	if (sc_cache_get(x->core->cache, &key, x->now, 0, 0, NULL, probe, sizeof(probe),
			 &hit) == 0) {
		return 0;
	}
	if (sc_cache_put(x->core->cache, &key, ans, lifetime, 0, x->now) == 0) {
		x->stored++;
	}
	return 0;
}

static void store_related(struct sc_core *core, const struct sc_msg *m, int64_t now)
{
	struct related_ctx x = { .core = core, .now = now };

	sc_srv_related(m, store_related_fn, &x);
}

/*
 * Chain prefetch (prefetch = yes): a NAPTR or SRV miss resolves the rest
 * of the RFC 3263 chain at once (SRV of SIP NAPTR replacements, then A
 * and/or AAAA of SRV targets, per `family'), so that the next lookups of
 * the same call hit.  Only what the cache does not hold is asked, each
 * through the same caller's resolver state, one after the other: this
 * adds the missing steps' round trips to the first lookup (measured by
 * bench/prefetch/run, figures in docs/sip.md), and never more than
 * PREFETCH_DEPTH levels.
 */
struct prefetch_ctx {
	struct sc_core *core;
	const struct sc_query *q;
	unsigned char *buf;
};

static int prefetch_fn(const unsigned char *name, uint16_t type, void *priv)
{
	struct prefetch_ctx *x = priv;
	enum sc_family fam = x->core->conf.family;
	unsigned char probe[SC_DNS_HDRLEN];
	char text[SC_DNS_MAXTEXT];
	struct sc_query pq;
	struct sc_key key;
	struct sc_hit hit;
	int herrno;

	if ((type == SC_T_AAAA && fam == SC_FAMILY_IPV4) ||
	    (type == SC_T_A && fam == SC_FAMILY_IPV6)) {
		return 0;
	}
	if (sc_key_make(&key, name, type, SC_C_IN) < 0 ||
	    sc_dns_name_to_text(name, text, sizeof(text)) < 0) {
		return 0;
	}
	if (sc_cache_get(x->core->cache, &key, sc_now(), 0, 0, NULL, probe, sizeof(probe),
			 &hit) == 0) {
		return 0;   /* held already (perhaps just stored as related) */
	}
	pq = *x->q;
	pq.name = text;
	pq.type = type;
	pq.class = SC_C_IN;
	pq.answer = x->buf;
	pq.anslen = UPSTREAM_BUFSIZE;
	pq.hosts = false;
	pq.depth = x->q->depth + 1;
	sc_core_query(x->core, &pq, &herrno);
	return 0;
}

static void prefetch_chain(struct sc_core *core, const struct sc_query *q, const struct sc_msg *m)
{
	struct prefetch_ctx x = { .core = core, .q = q };
	int saved_errno = errno, saved_h = h_errno;
	struct __res_state *st = q->statp ? q->statp : &_res;
	int saved_res_h = st->res_h_errno;

	x.buf = malloc(UPSTREAM_BUFSIZE);
	if (x.buf == NULL) {
		return;
	}
	sc_srv_chain(m, prefetch_fn, &x);
	free(x.buf);
	/* What the caller sees is its own question's outcome only. */
	errno = saved_errno;
	h_errno = saved_h;
	st->res_h_errno = saved_res_h;
}

int sc_core_query(struct sc_core *core, const struct sc_query *q, int *ret_herrno)
{
	unsigned char qname[SC_DNS_MAXNAME];
	struct sc_stats *stats = sc_core_stats(core);
	struct sc_msg *m = NULL;
	unsigned char *buf = NULL;
	struct sc_key key;
	struct sc_hit hit;
	size_t len = 0;
	bool cache_ok;
	int64_t now;
	int n, r, herrno = NO_RECOVERY, flight = -1;
	int caller_errno = errno, up_errno, caller_h, caller_res_h;

	if (q->statp == NULL && !(_res.options & RES_INIT) && res_init() != 0) {
		goto passthrough;
	}
	if (q->statp && !(q->statp->options & RES_INIT)) {
		goto passthrough;   /* libresolv's own error for an unset state */
	}
	if (!options_cacheable(caller_options(q), q->type)) {
		goto passthrough;
	}
	if (q->anslen < 0 || q->class < 0 || q->class > 0xffff || q->type < 0 ||
	    q->type > 0xffff || sc_dns_name_from_text(q->name, qname, sizeof(qname)) < 0 ||
	    sc_key_make(&key, qname, (uint16_t)q->type, (uint16_t)q->class) < 0) {
		/* Let libresolv give its own error for what it rejects. */
		goto passthrough;
	}
	if (core->hosts_order == SC_HOSTS_FILES_FIRST) {
		r = serve_hosts(core, q, qname, ret_herrno);
		if (r >= 0) {
			return r;
		}
	}

	/* The cache. */
	r = sc_cache_revalidate(core->cache, sc_now_mono_ms());
	cache_ok = r == 0;
	now = sc_now();
	if (cache_ok) {
		r = sc_cache_get(core->cache, &key, now, 0, next_id(), qname, q->answer,
				 (size_t)q->anslen, &hit);
		if (r == 0) {
			/* `dns files': what DNS denies, the hosts file may
			 * still answer, as on the miss path below. */
			if ((hit.flags & SC_ENTRY_NEGATIVE) &&
			    core->hosts_order == SC_HOSTS_DNS_FIRST) {
				r = serve_hosts(core, q, qname, ret_herrno);
				if (r >= 0) {
					return r;
				}
			}
			return serve_hit(core, q, &hit, now, ret_herrno);
		}
		/* A lock we could not get in time: do not try to store. */
		cache_ok = r == -ENOENT || r == -EBADMSG;
	}
	if (q->depth == 0) {
		sc_stats_inc(stats, SC_STAT_MISSES);
		sc_stats_inc_type(stats, (uint16_t)q->type, false);
	}

	/* Somebody else asking the same question right now: wait for it. */
	flight = cache_ok ? flight_begin(core, q, &key) : -1;
	if (flight == 0) {
		r = flight_wait(core, q, &key, qname, now, &hit);
		if (r == 0) {
			return serve_hit(core, q, &hit, now, ret_herrno);
		}
		flight = flight_begin(core, q, &key);
	}

	/* Upstream. */
	buf = malloc(UPSTREAM_BUFSIZE);
	m = malloc(sizeof(*m));
	if (buf == NULL || m == NULL) {
		free(buf);
		free(m);
		if (flight == 1) {
			flight_end(core, &key);
		}
		goto passthrough;
	}
	/* A stale or hosts-file answer after a failed exchange is a
	 * success: the caller must find h_errno as a success leaves it, not
	 * as the failed real call set it. */
	caller_h = h_errno;
	caller_res_h = (q->statp ? q->statp : &_res)->res_h_errno;
	/* libresolv clears the rcode in the caller's buffer before it asks
	 * (hp->rcode = NOERROR): after a failed exchange that is all the
	 * buffer holds, and the caller can see it. */
	if (q->anslen > 3) {
		q->answer[3] &= 0xf0;
	}
	errno = caller_errno;
	n = upstream(core, q, buf, &len, &herrno);
	up_errno = errno;
	/* Only a reply libresolv accepted (ID and question checked): after
	 * a failed exchange buf may still hold one it dropped. */
	if (cache_ok && (n >= 0 || herrno == HOST_NOT_FOUND || herrno == NO_DATA) &&
	    len >= SC_DNS_HDRLEN && sc_dns_parse(buf, len, m) == 0 &&
	    answers_question(m, qname, q)) {
		struct sc_ttl_limits lim;
		uint32_t lifetime;
		enum sc_verdict v;

		sc_policy_limits(&core->conf, qname, &lim);
		v = sc_policy_classify(m, &lim, &lifetime);
		if (v != SC_VERDICT_NOSTORE) {
			uint16_t flags = v == SC_VERDICT_POSITIVE ? 0 :
					 v == SC_VERDICT_NXDOMAIN ? (SC_ENTRY_NEGATIVE | SC_ENTRY_NXDOMAIN)
								  : SC_ENTRY_NEGATIVE;

			sc_cache_put(core->cache, &key, m, lifetime, flags, now);
		}
		if (v == SC_VERDICT_POSITIVE && q->class == C_IN &&
		    (q->type == T_NAPTR || q->type == T_SRV)) {
			store_related(core, m, now);
			if (core->conf.prefetch && q->depth < PREFETCH_DEPTH) {
				prefetch_chain(core, q, m);
			}
		}
	}
	if (flight == 1) {
		flight_end(core, &key);   /* what could be stored is stored */
	}
	/*
	 * libresolv's verdict decides what the caller gets: an answer it
	 * accepted, or a negative answer, goes to the caller as it came
	 * (stored or not: an answer our stricter parser refused is passed
	 * on untouched, never cached).  Anything else is a failure of
	 * upstream: timeout, network error, SERVFAIL, REFUSED...
	 */
	if (n >= 0 || herrno == HOST_NOT_FOUND || herrno == NO_DATA) {
		goto answer;
	}
	sc_stats_inc(stats, SC_STAT_UPSTREAM_ERRORS);
	if (core->hosts_order == SC_HOSTS_DNS_FIRST) {
		r = serve_hosts(core, q, qname, ret_herrno);
		if (r >= 0) {
			goto restore_h;
		}
	}
	if (cache_ok && core->conf.serve_stale > 0 &&
	    sc_cache_get(core->cache, &key, now, core->conf.serve_stale, next_id(), qname,
			 q->answer, (size_t)q->anslen, &hit) == 0) {
		r = serve_hit(core, q, &hit, now, ret_herrno);
		goto restore_h;
	}

answer:
	if (n < 0 && core->hosts_order == SC_HOSTS_DNS_FIRST &&
	    (herrno == HOST_NOT_FOUND || herrno == NO_DATA)) {
		/* `dns files': the hosts file answers what DNS does not. */
		r = serve_hosts(core, q, qname, ret_herrno);
		if (r >= 0) {
			goto restore_h;
		}
	}
	if (len > 0) {
		memcpy(q->answer, buf, len < (size_t)q->anslen ? len : (size_t)q->anslen);
	}
	if (n >= 0) {
		/* Longer than our 64 KiB buffer (cut over TCP): libresolv
		 * returns the full length, so do we. */
		size_t full = (size_t)n > len ? (size_t)n : len;

		r = deliver(q, served_order(core, q, full, now));
		*ret_herrno = 0;
	} else {
		r = -1;
		*ret_herrno = herrno;
	}
	errno = up_errno;
	goto out_ret;

restore_h:
	h_errno = caller_h;
	(q->statp ? q->statp : &_res)->res_h_errno = caller_res_h;
out_ret:
	free(buf);
	free(m);
	return r;

passthrough:
	errno = caller_errno;
	if (q->statp) {
		n = core->real.res_nquery(q->statp, q->name, q->class, q->type, q->answer, q->anslen);
		*ret_herrno = q->statp->res_h_errno;
	} else {
		n = core->real.res_query(q->name, q->class, q->type, q->answer, q->anslen);
		*ret_herrno = h_errno;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* querydomain and search: glibc 2.36 res_query.c, rule for rule       */

int sc_core_querydomain(struct sc_core *core, const struct sc_query *q, const char *domain,
			int *ret_herrno)
{
	struct sc_query longq = *q;
	char nbuf[NS_MAXDNAME];
	size_t n, d;

	n = strlen(q->name);
	if (domain == NULL) {
		/*
		 * The name as given (a trailing dot means the same to the
		 * query).  libresolv decrements the length before its bound
		 * check, so an empty name wraps and is refused the same way
		 * as a too long one.
		 */
		if (n == 0 || n - 1 >= NS_MAXDNAME - 1) {
			*ret_herrno = NO_RECOVERY;
			return -1;
		}
	} else {
		d = strlen(domain);
		if (n + d + 1 >= NS_MAXDNAME) {
			*ret_herrno = NO_RECOVERY;
			return -1;
		}
		memcpy(nbuf, q->name, n);
		nbuf[n] = '.';
		memcpy(nbuf + n + 1, domain, d + 1);
		longq.name = nbuf;
	}
	return sc_core_query(core, &longq, ret_herrno);
}

/*
 * libresolv's own reading of HOSTALIASES, so that an alias is exactly
 * what it would use (deprecated with the rest of the old API, but it is
 * the one place that knows the file's rules).
 */
static bool user_alias(struct __res_state *st, const char *name, char *out, size_t outlen)
{
	const char *r;

	if (getenv("HOSTALIASES") == NULL) {
		return false;   /* the usual case: no file to open */
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	r = res_hostalias(st, name, out, outlen);
#pragma GCC diagnostic pop
	if (r && r != out) {
		snprintf(out, outlen, "%s", r);
	}
	return r != NULL;
}

int sc_core_search(struct sc_core *core, const struct sc_query *q, int *ret_herrno)
{
	struct __res_state *st;
	unsigned dots = 0;
	bool trailing_dot = false, tried_as_is = false, searched = false, root_on_list = false;
	int got_nodata = 0, got_servfail = 0, saved_herrno = -1, ret, herrno;
	int left = HOST_NOT_FOUND;
	char alias[NS_MAXDNAME];
	unsigned long options;
	const char *cp;

	if (q->statp == NULL && !(_res.options & RES_INIT)) {
		res_init();
	}
	st = q->statp ? q->statp : &_res;
	options = st->options;
	errno = 0;
	/*
	 * `left' is h_errno as libresolv leaves it: HOST_NOT_FOUND before
	 * anything is asked, then the error of each candidate that fails;
	 * a success does not clear it.
	 */
	for (cp = q->name; *cp; cp++) {
		dots += *cp == '.';
	}
	trailing_dot = cp > q->name && cp[-1] == '.';
	if (!core->conf.search) {
		options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	}

	/* A name without dots may be a user alias (HOSTALIASES; libresolv
	 * itself ignores it under RES_NOALIASES and in setuid programs). */
	if (dots == 0 && user_alias(st, q->name, alias, sizeof(alias))) {
		struct sc_query aq = *q;

		aq.name = alias;
		ret = sc_core_query(core, &aq, &herrno);
		*ret_herrno = ret < 0 ? herrno : left;
		return ret;
	}

	if (dots >= st->ndots || trailing_dot) {
		ret = sc_core_querydomain(core, q, NULL, &herrno);
		if (ret < 0) {
			left = herrno;
		}
		if (ret > 0 || trailing_dot) {
			*ret_herrno = left;
			return ret;
		}
		saved_herrno = herrno;
		tried_as_is = true;
	}

	if ((!dots && (options & RES_DEFNAMES)) || (dots && !trailing_dot && (options & RES_DNSRCH))) {
		unsigned i;
		bool done = false;

		for (i = 0; !done && i < MAXDNSRCH + 1 && st->dnsrch[i]; i++) {
			const char *dname = st->dnsrch[i];

			searched = true;
			if (dname[0] == '.') {
				dname++;
			}
			if (dname[0] == '\0') {
				root_on_list = true;
			}
			ret = sc_core_querydomain(core, q, dname, &herrno);
			if (ret < 0) {
				left = herrno;
			}
			if (ret > 0) {
				*ret_herrno = left;
				return ret;
			}
			if (errno == ECONNREFUSED) {
				*ret_herrno = TRY_AGAIN;
				return -1;
			}
			switch (herrno) {
			case NO_DATA:
				got_nodata++;
				break;
			case HOST_NOT_FOUND:
				break;
			case TRY_AGAIN:
				/* SERVFAIL: the next domain may do better. */
				if (q->anslen >= SC_DNS_HDRLEN &&
				    (q->answer[3] & 0x0f) == SC_RCODE_SERVFAIL) {
					got_servfail++;
					break;
				}
				done = true;
				break;
			default:
				done = true;
			}
			if (!(options & RES_DNSRCH)) {
				done = true;
			}
		}
	}

	if ((dots || !searched || !(options & RES_NOTLDQUERY)) && !(tried_as_is || root_on_list)) {
		ret = sc_core_querydomain(core, q, NULL, &herrno);
		if (ret < 0) {
			left = herrno;
		}
		if (ret > 0) {
			*ret_herrno = left;
			return ret;
		}
	}

	if (saved_herrno != -1) {
		left = saved_herrno;
	} else if (got_nodata) {
		left = NO_DATA;
	} else if (got_servfail) {
		left = TRY_AGAIN;
	}
	*ret_herrno = left;
	return -1;
}

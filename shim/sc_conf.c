/*
 * sc_conf.c - /etc/sipcache.conf and the `hosts:' line of nsswitch.conf.
 *
 * The configuration is read inside somebody else's process (a SIP server,
 * nscd, any program that resolves a name), usually from a constructor or
 * the first lookup.  That shapes everything here:
 *
 *   - No stdio.  The file is read with open(O_CLOEXEC)+read into a bounded
 *     buffer (SC_CONF_MAXFILE); a FILE would take the stdio lock, which a
 *     child forked by a threaded parent may inherit held.  O_NONBLOCK on
 *     the open so that a FIFO or a terminal named by SIPCACHE_CONF cannot
 *     hang the host process; only regular files and character devices
 *     (/dev/null: "run with the defaults") are read.
 *   - No partial state.  A file is parsed into a private copy of the
 *     configuration, which replaces the caller's only once the whole file
 *     and the checks across keys (min_ttl <= max_ttl) passed.  After any
 *     error the caller's `struct sc_conf' is exactly what it was before the
 *     call, so a front end that falls back to pass-through, or keeps the
 *     configuration it had, never runs with half a file applied.
 *   - Strict.  An unknown key, a bad value or a repeated key is an error
 *     naming the file, the line and the key, and saying what is accepted:
 *     "PATH:LINE: KEY: reason".  Operators get one line in syslog and an
 *     uncached (never a wrongly cached) host; a typo must not silently turn
 *     into a default.  Errors about the file as a whole have the form
 *     "PATH: reason".
 *
 * Syntax: `key = value' lines.  Whitespace around tokens is ignored; `#'
 * starts a comment at the start of a line or after whitespace (so a value
 * such as a path may contain `#'); blank lines are skipped; CRLF line ends
 * and a leading UTF-8 byte order mark (both left by Windows editors) are
 * tolerated; other control characters, NUL bytes and lines longer than
 * SC_CONF_MAXLINE bytes are errors.  Keys are case-sensitive; the words of
 * booleans and enumerations are not.  `nameserver' and `policy' repeat;
 * their first line in a file replaces the list inherited from the values
 * the caller passed in, later lines append.
 *
 * nsswitch.conf is read to learn whether the hosts file comes before DNS
 * (DESIGN.md: `hosts_order = auto').  Its parser reproduces what glibc 2.36
 * (nss/nss_database.c, nss/nss_action_parse.c) does with the file, quirks
 * included, because the point is to predict what NSS will do, not what the
 * file seems to say:
 *   - the last `hosts' line wins; the database name is case-sensitive and
 *     the colon after it is optional;
 *   - `#' is a comment only where it hides a database name (a line
 *     starting with it); after `hosts:' it is read as a source named `#...'
 *     and the sources after it are still consulted;
 *   - a final line without a newline is ignored (getline() reports EOF
 *     with it and the loop stops before processing it);
 *   - a malformed `[STATUS=ACTION]' item on the line of any database glibc
 *     knows makes glibc drop the whole file and resolve nothing through
 *     NSS; lines of databases glibc does not know are never parsed.
 * Each behaviour was checked against the installed glibc with strace on
 * getent under a private mount of /etc/nsswitch.conf.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sc.h"

#ifndef SC_DEFAULT_CACHE_FILE
#define SC_DEFAULT_CACHE_FILE "/var/cache/sipcache/cache.tdb"
#endif

/* Bounds.  The shipped file is a few KiB; a megabyte is a mistake (a log
 * or a binary named by SIPCACHE_CONF), and reading it whole into someone
 * else's process must stay cheap. */
#define SC_CONF_MAXFILE (1024 * 1024)
#define SC_CONF_MAXLINE 8192 /* bytes, line end excluded; > PATH_MAX + key */

/* Values of the numeric keys.  TTLs are 31-bit (RFC 2181 8). */
#define DURATION_MAX 2147483647u
#define MAX_ENTRIES_MIN 16u
#define MAX_ENTRIES_MAX 16777216u
#define TIMEOUT_MIN 1       /* resolv.conf's bounds (RES_MAXRETRANS 30, */
#define TIMEOUT_MAX 30      /* RES_MAXRETRY 5 in <resolv.h>) */
#define ATTEMPTS_MIN 1
#define ATTEMPTS_MAX 5
#define GROUP_NAME_MAX 32   /* Linux's limit on group names */

/* The word that stands for "take it from /etc/resolv.conf". */
#define FROM_RESOLV_CONF "resolv.conf"

/* ------------------------------------------------------------------ */
/* reading a file                                                      */
/* ------------------------------------------------------------------ */

/*
 * Read `path' whole into a malloc'd buffer (NUL-terminated, for the
 * nsswitch parser's convenience; *ret_len excludes it).  Returns 0 or
 * -errno: -EISDIR for a directory, -EINVAL for something that is neither a
 * regular file nor a character device, -EFBIG beyond SC_CONF_MAXFILE.
 */
static int read_bounded(const char *path, char **ret_buf, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL, *nbuf;
	size_t cap, len = 0;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
		r = -EINVAL;
		goto fail;
	}
	/* Size from fstat as a first guess only: the file may change while
	 * we read, and devices report 0.  One byte more than the limit tells
	 * "exactly at the limit" from "over it". */
	cap = 4096;
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		cap = (size_t)st.st_size < SC_CONF_MAXFILE ?
			(size_t)st.st_size + 2 : SC_CONF_MAXFILE + 2;
	}
	buf = malloc(cap);
	if (buf == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	for (;;) {
		if (len + 1 == cap) {
			if (cap >= SC_CONF_MAXFILE + 2) {
				r = -EFBIG;
				goto fail;
			}
			cap = cap * 2 > SC_CONF_MAXFILE + 2 ?
				SC_CONF_MAXFILE + 2 : cap * 2;
			nbuf = realloc(buf, cap);
			if (nbuf == NULL) {
				r = -ENOMEM;
				goto fail;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			r = -errno;
			goto fail;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
		if (len > SC_CONF_MAXFILE) {
			r = -EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;

fail:
	free(buf);
	close(fd);
	return r;
}

/* ------------------------------------------------------------------ */
/* the key table                                                       */
/* ------------------------------------------------------------------ */

enum key_type {
	KT_PATH,        /* absolute path, into a char[PATH_MAX] */
	KT_COUNT,       /* uint32_t within [min, max] */
	KT_DURATION,    /* uint32_t seconds, s/m/h/d suffixes */
	KT_BOOL,
	KT_ENUM,        /* one of `words', stored as its index in an int-sized enum */
	KT_RESOLV_INT,  /* int within [min, max], or resolv.conf (-1) */
	KT_NAMESERVER,
	KT_GROUP,
	KT_LOG_LEVEL,
	KT_POLICY,
};

struct conf_key {
	const char *name;
	enum key_type type;
	size_t off;                  /* of the field in struct sc_conf */
	uint32_t min, max;           /* KT_COUNT, KT_RESOLV_INT */
	const char *const *words;    /* KT_ENUM: NULL-terminated, by value */
	const char *accepted;        /* KT_ENUM: for messages */
};

static const char *const hosts_order_words[] = {
	[SC_HOSTS_AUTO] = "auto",
	[SC_HOSTS_FILES_FIRST] = "files-first",
	[SC_HOSTS_DNS_FIRST] = "dns-first",
	[SC_HOSTS_NEVER] = "never",
	NULL
};
static const char *const family_words[] = {
	[SC_FAMILY_ANY] = "any",
	[SC_FAMILY_IPV4] = "ipv4",
	[SC_FAMILY_IPV6] = "ipv6",
	[SC_FAMILY_PREFER_IPV6] = "prefer-ipv6",
	NULL
};
static const char *const srv_order_words[] = {
	[SC_SRV_KEEP] = "keep",
	[SC_SRV_RFC2782] = "rfc2782",
	[SC_SRV_RFC2782_WEIGHTS] = "rfc2782-weights",
	NULL
};
static const char *const log_words[] = {
	[SC_LOG_SYSLOG] = "syslog",
	[SC_LOG_STDERR] = "stderr",
	[SC_LOG_OFF] = "off",
	NULL
};

#define F(field) offsetof(struct sc_conf, field)

/* The order is the order of the shipped sipcache.conf. */
static const struct conf_key conf_keys[] = {
	{ "cache_file", KT_PATH, F(cache_file), 0, 0, NULL, NULL },
	{ "max_entries", KT_COUNT, F(max_entries), MAX_ENTRIES_MIN, MAX_ENTRIES_MAX, NULL, NULL },
	{ "min_ttl", KT_DURATION, F(min_ttl), 0, 0, NULL, NULL },
	{ "max_ttl", KT_DURATION, F(max_ttl), 0, 0, NULL, NULL },
	{ "negative_ttl", KT_DURATION, F(negative_ttl), 0, 0, NULL, NULL },
	{ "serve_stale", KT_DURATION, F(serve_stale), 0, 0, NULL, NULL },
	{ "policy", KT_POLICY, 0, 0, 0, NULL, NULL },
	{ "hosts_file", KT_PATH, F(hosts_file), 0, 0, NULL, NULL },
	{ "hosts_order", KT_ENUM, F(hosts_order), 0, 0, hosts_order_words,
	  "auto, files-first, dns-first or never" },
	{ "hosts_in_res_query", KT_BOOL, F(hosts_in_res_query), 0, 0, NULL, NULL },
	{ "nameserver", KT_NAMESERVER, 0, 0, 0, NULL, NULL },
	{ "timeout", KT_RESOLV_INT, F(timeout), TIMEOUT_MIN, TIMEOUT_MAX, NULL, NULL },
	{ "attempts", KT_RESOLV_INT, F(attempts), ATTEMPTS_MIN, ATTEMPTS_MAX, NULL, NULL },
	{ "search", KT_BOOL, F(search), 0, 0, NULL, NULL },
	{ "family", KT_ENUM, F(family), 0, 0, family_words,
	  "any, ipv4, ipv6 or prefer-ipv6" },
	{ "srv_order", KT_ENUM, F(srv_order), 0, 0, srv_order_words,
	  "keep, rfc2782 or rfc2782-weights" },
	{ "prefetch", KT_BOOL, F(prefetch), 0, 0, NULL, NULL },
	{ "group", KT_GROUP, F(group), 0, 0, NULL, NULL },
	{ "log", KT_ENUM, F(log), 0, 0, log_words, "syslog, stderr or off" },
	{ "log_level", KT_LOG_LEVEL, F(log_level), 0, 0, NULL, NULL },
};

#undef F

#define NKEYS SC_ARRAY_SIZE(conf_keys)

/* The enums are stored through an int: make sure they are int-sized. */
_Static_assert(sizeof(enum sc_hosts_order) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sc_family) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sc_srv_order) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sc_log_target) == sizeof(int), "enum size");

const char *sc_conf_key(unsigned i)
{
	return i < NKEYS ? conf_keys[i].name : NULL;
}

/* ------------------------------------------------------------------ */
/* defaults, environment                                               */
/* ------------------------------------------------------------------ */

void sc_conf_defaults(struct sc_conf *c)
{
	/* Zero first: padding and unused array slots compare equal between
	 * two default configurations (tests and the fuzzer rely on it). */
	memset(c, 0, sizeof(*c));
	snprintf(c->cache_file, sizeof(c->cache_file), "%s", SC_DEFAULT_CACHE_FILE);
	c->max_entries = 65536;
	c->min_ttl = 0;
	c->max_ttl = 86400;
	c->negative_ttl = 60;
	c->serve_stale = 3600;
	snprintf(c->hosts_file, sizeof(c->hosts_file), "%s", "/etc/hosts");
	c->hosts_order = SC_HOSTS_AUTO;
	c->hosts_in_res_query = true;
	c->nns = 0;
	c->timeout = -1;
	c->attempts = -1;
	c->search = true;
	c->family = SC_FAMILY_ANY;
	c->srv_order = SC_SRV_KEEP;
	c->prefetch = true;
	snprintf(c->group, sizeof(c->group), "%s", "sipcache");
	c->log = SC_LOG_SYSLOG;
	c->log_level = LOG_WARNING;
	c->npolicy = 0;
}

/*
 * Both variables go through secure_getenv(): in a setuid, setgid or
 * file-capability program the environment belongs to a less privileged
 * caller, who must not pick the configuration (a cache file, nameservers)
 * nor switch the cache off for it.
 */
const char *sc_conf_path(void)
{
	const char *p = secure_getenv("SIPCACHE_CONF");

	if (p == NULL || p[0] == '\0') {
		return SC_CONF_PATH;
	}
	return p;
}

static int parse_bool_word(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* The contract says SIPCACHE_DISABLE=1; the other true words of the
 * configuration's booleans are accepted too, since turning the cache off
 * is the safe direction to be lenient in. */
bool sc_conf_disabled_by_env(void)
{
	const char *v = secure_getenv("SIPCACHE_DISABLE");
	bool b = false;

	if (v == NULL || parse_bool_word(v, &b) < 0) {
		return false;
	}
	return b;
}

/* ------------------------------------------------------------------ */
/* the parser                                                          */
/* ------------------------------------------------------------------ */

/* Everything a parse works on, allocated once (the configuration alone is
 * some 17 KiB: too much for the stack of a thread we do not own). */
struct parser {
	struct sc_conf c;                  /* the copy being built */
	const char *path;
	unsigned lineno;
	char *err;
	size_t errlen;
	unsigned seen[NKEYS];              /* line of the key in this file; 0: not */
	unsigned min_line, max_line;       /* lines of min_ttl and max_ttl */
	unsigned ns_line[SC_CONF_MAXNS];
	unsigned policy_line[SC_CONF_MAXPOLICY];
	char line[SC_CONF_MAXLINE + 1];
};

/* `s' shortened for a message: at most outlen - 1 bytes, ending in
 * "..." when cut. */
static const char *shorten(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s);

	if (n < outlen) {
		return s;
	}
	snprintf(out, outlen, "%.*s...", (int)(outlen - 4), s);
	return out;
}

#define SHORT_LEN 52

static int perr(struct parser *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Write "PATH:LINE: KEY: reason" to the caller's buffer; returns -EINVAL. */
static int perr(struct parser *p, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err == NULL || p->errlen == 0) {
		return -EINVAL;
	}
	n = snprintf(p->err, p->errlen, "%s:%u: %s: ", p->path, p->lineno, key);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void file_error(char *err, size_t errlen, const char *path, int r)
{
	const char *desc;

	if (err == NULL || errlen == 0) {
		return;
	}
	switch (r) {
	case -EFBIG:
		snprintf(err, errlen, "%s: larger than %u bytes", path,
			 (unsigned)SC_CONF_MAXFILE);
		break;
	case -EINVAL:
		snprintf(err, errlen, "%s: not a regular file", path);
		break;
	default:
		/* strerrordesc_np: no locale, no static buffer (strerror may
		 * use either, and we run in a foreign process). */
		desc = strerrordesc_np(-r);
		snprintf(err, errlen, "%s: %s", path, desc ? desc : "unknown error");
		break;
	}
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Unsigned decimal, digits only (no sign, no spaces, no hex: strtoul
 * accepts all three).  -ERANGE past `max'. */
static int parse_uint(const char *s, uint64_t max, uint64_t *ret, const char **ret_end)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s)) {
		return -EINVAL;
	}
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max) {
			return -ERANGE;
		}
	}
	*ret = v;
	*ret_end = s;
	return 0;
}

/* "90", "90s", "15m", "2h", "1d": seconds, at most DURATION_MAX. */
static int parse_duration(const char *s, uint32_t *ret)
{
	const char *end;
	uint64_t v, mult = 1;

	if (parse_uint(s, DURATION_MAX, &v, &end) < 0) {
		return -EINVAL;
	}
	switch (*end) {
	case '\0':
		break;
	case 's':
		mult = 1;
		end++;
		break;
	case 'm':
		mult = 60;
		end++;
		break;
	case 'h':
		mult = 3600;
		end++;
		break;
	case 'd':
		mult = 86400;
		end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end != '\0' || v * mult > DURATION_MAX) {
		return -EINVAL;
	}
	*ret = (uint32_t)(v * mult);
	return 0;
}

#define DURATION_ACCEPTED \
	"expected seconds, or a number with suffix s, m, h or d, " \
	"at most 2147483647 seconds"

static int set_path(struct parser *p, const struct conf_key *k, const char *v)
{
	char *dst = (char *)&p->c + k->off;
	char sb[SHORT_LEN];

	/* Relative paths would resolve against the working directory of
	 * whichever process loads us; a trailing slash names a directory. */
	if (v[0] != '/' || v[strlen(v) - 1] == '/' || strlen(v) >= PATH_MAX) {
		return perr(p, k->name, "invalid path '%s': expected an absolute "
			    "path to a file, shorter than %d bytes",
			    shorten(v, sb, sizeof(sb)), PATH_MAX);
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int set_count(struct parser *p, const struct conf_key *k, const char *v)
{
	const char *end;
	uint64_t n;
	char sb[SHORT_LEN];

	if (parse_uint(v, k->max, &n, &end) < 0 || *end != '\0' || n < k->min) {
		return perr(p, k->name, "invalid value '%s': expected an integer "
			    "from %u to %u", shorten(v, sb, sizeof(sb)),
			    (unsigned)k->min, (unsigned)k->max);
	}
	memcpy((char *)&p->c + k->off, &(uint32_t){ (uint32_t)n }, sizeof(uint32_t));
	return 0;
}

static int set_duration(struct parser *p, const struct conf_key *k, const char *v)
{
	uint32_t d;
	char sb[SHORT_LEN];

	if (parse_duration(v, &d) < 0) {
		return perr(p, k->name, "invalid duration '%s': " DURATION_ACCEPTED,
			    shorten(v, sb, sizeof(sb)));
	}
	memcpy((char *)&p->c + k->off, &d, sizeof(d));
	return 0;
}

static int set_bool(struct parser *p, const struct conf_key *k, const char *v)
{
	bool b;
	char sb[SHORT_LEN];

	if (parse_bool_word(v, &b) < 0) {
		return perr(p, k->name, "invalid value '%s': expected yes, no, "
			    "true, false, on, off, 1 or 0",
			    shorten(v, sb, sizeof(sb)));
	}
	memcpy((char *)&p->c + k->off, &b, sizeof(b));
	return 0;
}

static int set_enum(struct parser *p, const struct conf_key *k, const char *v)
{
	char sb[SHORT_LEN];
	int i;

	for (i = 0; k->words[i] != NULL; i++) {
		if (strcasecmp(v, k->words[i]) == 0) {
			memcpy((char *)&p->c + k->off, &i, sizeof(i));
			return 0;
		}
	}
	return perr(p, k->name, "invalid value '%s': expected %s",
		    shorten(v, sb, sizeof(sb)), k->accepted);
}

static int set_resolv_int(struct parser *p, const struct conf_key *k, const char *v)
{
	const char *end;
	uint64_t n;
	int i;
	char sb[SHORT_LEN];

	/* -1 tells the upstream module to keep what res_ninit() read from
	 * resolv.conf's options line. */
	if (strcasecmp(v, FROM_RESOLV_CONF) == 0) {
		i = -1;
	} else if (parse_uint(v, k->max, &n, &end) == 0 && *end == '\0' &&
		   n >= k->min) {
		i = (int)n;
	} else {
		return perr(p, k->name, "invalid value '%s': expected an integer "
			    "from %u to %u, or " FROM_RESOLV_CONF,
			    shorten(v, sb, sizeof(sb)), (unsigned)k->min,
			    (unsigned)k->max);
	}
	memcpy((char *)&p->c + k->off, &i, sizeof(i));
	return 0;
}

/* Group names as Debian's adduser takes them by default: a letter or `_'
 * first, then letters, digits, `_', `.', `-'; at most 32 bytes.  No
 * numeric GIDs: the cache module looks the name up. */
static int set_group(struct parser *p, const struct conf_key *k, const char *v)
{
	size_t i, n = strlen(v);
	char sb[SHORT_LEN];
	bool ok = n > 0 && n <= GROUP_NAME_MAX &&
		(isalpha((unsigned char)v[0]) || v[0] == '_');

	for (i = 0; ok && i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		ok = isascii(ch) && (isalnum(ch) || ch == '_' || ch == '.' || ch == '-');
	}
	if (!ok) {
		return perr(p, k->name, "invalid group name '%s': expected up to "
			    "32 letters, digits, '_', '.' or '-', starting with a "
			    "letter or '_'", shorten(v, sb, sizeof(sb)));
	}
	memcpy(p->c.group, v, n + 1);
	return 0;
}

static int set_log_level(struct parser *p, const struct conf_key *k, const char *v)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "err", LOG_ERR },
		{ "warning", LOG_WARNING },
		{ "notice", LOG_NOTICE },
		{ "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};
	char sb[SHORT_LEN];
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(levels); i++) {
		if (strcasecmp(v, levels[i].name) == 0) {
			p->c.log_level = levels[i].level;
			return 0;
		}
	}
	return perr(p, k->name, "invalid value '%s': expected err, warning, "
		    "notice, info or debug", shorten(v, sb, sizeof(sb)));
}

/*
 * ADDR[:PORT] as an operator writes it: IPv4, IPv4:PORT, IPv6 (bare, no
 * port: the colons are the address's), [IPv6]:PORT, [IPv6].  An IPv6
 * address may carry a %SCOPE (interface name or index), as in resolv.conf,
 * for link-local resolvers.  Port 53 unless given.  `s' is modified.
 */
static int parse_sockaddr(char *s, struct sockaddr_storage *ret)
{
	char *addr = s, *port = NULL, *scope, *close_br, *colon;
	struct sockaddr_in *sin = (struct sockaddr_in *)ret;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ret;
	uint64_t portnum = 53, idx;
	const char *end;

	memset(ret, 0, sizeof(*ret));
	if (s[0] == '[') {
		close_br = strchr(s, ']');
		if (close_br == NULL) {
			return -EINVAL;
		}
		*close_br = '\0';
		addr = s + 1;
		if (close_br[1] == ':') {
			port = close_br + 2;
		} else if (close_br[1] != '\0') {
			return -EINVAL;
		}
		if (strchr(addr, ':') == NULL) {
			/* Brackets are for IPv6 only. */
			return -EINVAL;
		}
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			/* Exactly one colon: IPv4:PORT. */
			*colon = '\0';
			port = colon + 1;
		}
	}
	/* Port 0 cannot be asked; names of services ("domain") are not
	 * taken: getservbyname() would be an NSS call from inside NSS. */
	if (port != NULL) {
		if (parse_uint(port, 65535, &portnum, &end) < 0 || *end != '\0' ||
		    portnum == 0) {
			return -EINVAL;
		}
	}
	if (strchr(addr, ':') == NULL) {
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
			return -EINVAL;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)portnum);
		return 0;
	}
	scope = strchr(addr, '%');
	if (scope != NULL) {
		*scope++ = '\0';
		if (parse_uint(scope, UINT32_MAX, &idx, &end) == 0 && *end == '\0') {
			if (idx == 0) {
				return -EINVAL;
			}
		} else {
			idx = if_nametoindex(scope);
			if (idx == 0) {
				return -ENODEV;
			}
		}
		sin6->sin6_scope_id = (uint32_t)idx;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1) {
		return -EINVAL;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)portnum);
	return 0;
}

static bool sockaddr_equal(const struct sockaddr_storage *a,
			   const struct sockaddr_storage *b)
{
	/* parse_sockaddr zeroes the whole storage first, so bytes compare. */
	return memcmp(a, b, sizeof(*a)) == 0;
}

static int set_nameserver(struct parser *p, const struct conf_key *k,
			  unsigned first_line, char *v)
{
	struct sockaddr_storage ss;
	char sb[SHORT_LEN], orig[SHORT_LEN];
	unsigned i;
	int r;

	/* The first nameserver line of a file replaces the inherited list. */
	if (first_line == 0) {
		p->c.nns = 0;
	}
	/* parse_sockaddr() cuts `v' up: keep it whole for messages. */
	snprintf(orig, sizeof(orig), "%s", shorten(v, sb, sizeof(sb)));
	if (strcasecmp(v, FROM_RESOLV_CONF) == 0) {
		/* "nameserver = resolv.conf" is the explicit default; mixing
		 * it with addresses would mean nothing clear. */
		if (first_line != 0) {
			return perr(p, k->name, "'" FROM_RESOLV_CONF "' cannot be "
				    "combined with other nameserver lines (line %u)",
				    first_line);
		}
		return 0;
	}
	if (first_line != 0 && p->c.nns == 0) {
		return perr(p, k->name, "'%s' cannot be combined with "
			    "'nameserver = " FROM_RESOLV_CONF "' (line %u)",
			    orig, first_line);
	}
	r = parse_sockaddr(v, &ss);
	if (r == -ENODEV) {
		return perr(p, k->name, "invalid address '%s': unknown interface "
			    "after '%%'", orig);
	}
	if (r < 0) {
		return perr(p, k->name, "invalid address '%s': expected IPv4, "
			    "IPv4:PORT, IPv6, [IPv6]:PORT (PORT 1-65535) or "
			    FROM_RESOLV_CONF, orig);
	}
	/* resolv.conf takes a repeated server and silently drops a fourth;
	 * both are mistakes (a list meant to fail over that does not, a
	 * server that is never asked), so both are refused here. */
	for (i = 0; i < p->c.nns; i++) {
		if (sockaddr_equal(&p->c.ns[i], &ss)) {
			return perr(p, k->name, "'%s' is already listed on line %u",
				    orig, p->ns_line[i]);
		}
	}
	if (p->c.nns == SC_CONF_MAXNS) {
		return perr(p, k->name, "too many nameservers: at most %d",
			    SC_CONF_MAXNS);
	}
	p->ns_line[p->c.nns] = p->lineno;
	p->c.ns[p->c.nns++] = ss;
	return 0;
}

/* Wire length of a valid uncompressed name (suffixes we stored). */
static size_t wire_len(const unsigned char *w)
{
	size_t n = 0;

	while (w[n] != 0) {
		n += (size_t)w[n] + 1;
	}
	return n + 1;
}

static void wire_lower(unsigned char *w)
{
	size_t i, n = wire_len(w);

	/* Label length bytes are at most 63, below 'A' (65): lower-casing
	 * every byte of the name leaves them alone. */
	for (i = 0; i < n; i++) {
		if (w[i] >= 'A' && w[i] <= 'Z') {
			w[i] = (unsigned char)(w[i] - 'A' + 'a');
		}
	}
}

/*
 * `policy = SUFFIX key=N [key=N...]'.  The suffix is stored lower-cased in
 * uncompressed wire form, the form lookups see, so that matching is a
 * byte comparison of name tails.  libresolv's ns_name_pton does the text
 * to wire step (escapes, label and name lengths) as every resolver does.
 */
static int set_policy(struct parser *p, const struct conf_key *k,
		      unsigned first_line, char *v)
{
	static const char *const names[] = { "min_ttl", "max_ttl", "negative_ttl" };
	struct sc_name_policy np;
	char *tok, *save = NULL, *eq, sb[SHORT_LEN];
	int64_t *fields[3];
	uint32_t d;
	bool any = false;
	unsigned i;
	size_t j;

	if (first_line == 0) {
		p->c.npolicy = 0;
	}
	memset(&np, 0, sizeof(np));
	np.min_ttl = np.max_ttl = np.negative_ttl = -1;
	fields[0] = &np.min_ttl;
	fields[1] = &np.max_ttl;
	fields[2] = &np.negative_ttl;

	tok = strtok_r(v, " \t", &save);
	/* A suffix with `=' is almost surely a forgotten suffix. */
	if (tok == NULL || strchr(tok, '=') != NULL ||
	    ns_name_pton(tok, np.suffix, sizeof(np.suffix)) < 0) {
		return perr(p, k->name, "invalid suffix '%s': expected a domain "
			    "name, then one or more of min_ttl=N, max_ttl=N, "
			    "negative_ttl=N", tok ? shorten(tok, sb, sizeof(sb)) : "");
	}
	wire_lower(np.suffix);
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		eq = strchr(tok, '=');
		if (eq != NULL) {
			*eq = '\0';
		}
		for (j = 0; j < SC_ARRAY_SIZE(names); j++) {
			if (strcmp(tok, names[j]) == 0) {
				break;
			}
		}
		if (eq == NULL || j == SC_ARRAY_SIZE(names)) {
			return perr(p, k->name, "invalid item '%s': expected "
				    "min_ttl=N, max_ttl=N or negative_ttl=N, "
				    "without spaces around '='",
				    shorten(tok, sb, sizeof(sb)));
		}
		if (*fields[j] >= 0) {
			return perr(p, k->name, "%s given twice on one line",
				    names[j]);
		}
		if (parse_duration(eq + 1, &d) < 0) {
			return perr(p, k->name, "invalid %s '%s': " DURATION_ACCEPTED,
				    names[j], shorten(eq + 1, sb, sizeof(sb)));
		}
		*fields[j] = d;
		any = true;
	}
	if (!any) {
		return perr(p, k->name, "no TTL given: expected one or more of "
			    "min_ttl=N, max_ttl=N, negative_ttl=N after the suffix");
	}
	if (np.min_ttl >= 0 && np.max_ttl >= 0 && np.min_ttl > np.max_ttl) {
		return perr(p, k->name, "min_ttl %lld is greater than max_ttl %lld",
			    (long long)np.min_ttl, (long long)np.max_ttl);
	}
	/* Two lines for one suffix: which should win is a guess, and
	 * sc_conf_policy_for() would silently pick the first.  Refused.
	 * (Suffixes are lower-cased wire, so "Example.COM." meets
	 * "example.com" here.) */
	for (i = 0; i < p->c.npolicy; i++) {
		if (memcmp(p->c.policy[i].suffix, np.suffix, wire_len(np.suffix)) == 0) {
			return perr(p, k->name, "a policy for this suffix is already "
				    "set on line %u", p->policy_line[i]);
		}
	}
	if (p->c.npolicy == SC_CONF_MAXPOLICY) {
		return perr(p, k->name, "too many policy lines: at most %d",
			    SC_CONF_MAXPOLICY);
	}
	p->policy_line[p->c.npolicy] = p->lineno;
	p->c.policy[p->c.npolicy++] = np;
	return 0;
}

/* The first word of a raw line, made printable, for messages about lines
 * that have no well-formed key. */
static const char *line_key(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i = 0, o = 0;

	while (i < n && is_blank(s[i])) {
		i++;
	}
	for (; i < n && !is_blank(s[i]) && s[i] != '=' && o + 1 < outlen; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	out[o] = '\0';
	if (o == 0) {
		return "(no key)";
	}
	if (o + 1 == outlen && i < n && !is_blank(s[i]) && s[i] != '=' && outlen > 4) {
		memcpy(out + outlen - 4, "...", 4);
	}
	return out;
}

/* One line, without its line end: `raw' is `n' bytes, not terminated. */
static int parse_line(struct parser *p, const char *raw, size_t n)
{
	char kb[SHORT_LEN], *s, *key, *val, *eq, *end;
	const struct conf_key *k = NULL;
	unsigned first;
	size_t i;
	int r;

	if (n > SC_CONF_MAXLINE) {
		return perr(p, line_key(raw, n, kb, sizeof(kb)),
			    "line longer than %u bytes", (unsigned)SC_CONF_MAXLINE);
	}
	/* Control characters have no business in this file; a NUL would
	 * silently end a value early in the string functions below, and
	 * others would be written into syslog with our messages. */
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)raw[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			return perr(p, line_key(raw, n, kb, sizeof(kb)),
				    "control character 0x%02x in line (only tabs, "
				    "and CR before the line end, are allowed)", ch);
		}
	}
	memcpy(p->line, raw, n);
	p->line[n] = '\0';
	s = p->line;

	/* Comment: `#' at the start or after a blank. */
	for (i = 0; i < n; i++) {
		if (s[i] == '#' && (i == 0 || is_blank(s[i - 1]))) {
			s[i] = '\0';
			n = i;
			break;
		}
	}
	while (n > 0 && is_blank(s[n - 1])) {
		s[--n] = '\0';
	}
	while (is_blank(*s)) {
		s++;
	}
	if (*s == '\0') {
		return 0;
	}

	/* The first `=' splits: values never contain one except in policy
	 * items, which come after it. */
	eq = strchr(s, '=');
	if (eq == NULL) {
		return perr(p, line_key(s, strlen(s), kb, sizeof(kb)),
			    "expected 'key = value'");
	}
	*eq = '\0';
	key = s;
	end = eq;
	while (end > key && is_blank(end[-1])) {
		*--end = '\0';
	}
	val = eq + 1;
	while (is_blank(*val)) {
		val++;
	}
	if (key[0] == '\0' || strpbrk(key, " \t") != NULL) {
		return perr(p, line_key(p->line, strlen(p->line), kb, sizeof(kb)),
			    "expected 'key = value'");
	}
	/* Keys are matched exactly (case included), as nscd.conf and
	 * unbound.conf do: "Min_TTL" is a typo worth reporting. */
	for (i = 0; i < NKEYS; i++) {
		if (strcmp(key, conf_keys[i].name) == 0) {
			k = &conf_keys[i];
			break;
		}
	}
	if (k == NULL) {
		return perr(p, shorten(key, kb, sizeof(kb)), "unknown key (every key "
			    "is listed in sipcache.conf(5) and the shipped "
			    "/etc/sipcache.conf)");
	}
	if (val[0] == '\0') {
		return perr(p, k->name, "missing value after '='");
	}
	/* Values are single words: "min_ttl = 10 s" or a path with a
	 * stray word after it is an error, not a silent truncation. */
	if (k->type != KT_POLICY && strpbrk(val, " \t") != NULL) {
		return perr(p, k->name, "expected one value, found '%s' (values "
			    "contain no spaces; '#' after a space starts a comment)",
			    shorten(val, kb, sizeof(kb)));
	}
	if (p->seen[i] != 0 && k->type != KT_POLICY && k->type != KT_NAMESERVER) {
		return perr(p, k->name, "already set on line %u (only nameserver "
			    "and policy may repeat)", p->seen[i]);
	}

	first = p->seen[i];
	switch (k->type) {
	case KT_PATH:
		r = set_path(p, k, val);
		break;
	case KT_COUNT:
		r = set_count(p, k, val);
		break;
	case KT_DURATION:
		r = set_duration(p, k, val);
		break;
	case KT_BOOL:
		r = set_bool(p, k, val);
		break;
	case KT_ENUM:
		r = set_enum(p, k, val);
		break;
	case KT_RESOLV_INT:
		r = set_resolv_int(p, k, val);
		break;
	case KT_NAMESERVER:
		r = set_nameserver(p, k, first, val);
		break;
	case KT_GROUP:
		r = set_group(p, k, val);
		break;
	case KT_LOG_LEVEL:
		r = set_log_level(p, k, val);
		break;
	case KT_POLICY:
		r = set_policy(p, k, first, val);
		break;
	default:
		r = perr(p, k->name, "internal error: unhandled key type");
		break;
	}
	if (r < 0) {
		return r;
	}
	if (first == 0) {
		p->seen[i] = p->lineno;
	}
	if (strcmp(k->name, "min_ttl") == 0) {
		p->min_line = p->lineno;
	} else if (strcmp(k->name, "max_ttl") == 0) {
		p->max_line = p->lineno;
	}
	return 0;
}

/*
 * Checks across lines, once the whole file is read: the clamp interval
 * must not be empty, globally and for every policy with what it inherits.
 * The error names the later of the lines involved (the one to fix, most
 * often; and the one a reader reaches last); line 0 means "inherited from
 * the values passed in", which cannot conflict by itself.
 */
static int check_whole(struct parser *p)
{
	unsigned i, line;

	if (p->c.min_ttl > p->c.max_ttl) {
		p->lineno = p->min_line > p->max_line ? p->min_line : p->max_line;
		return perr(p, p->min_line > p->max_line ? "min_ttl" : "max_ttl",
			    "min_ttl %u is greater than max_ttl %u (min_ttl must "
			    "be at most max_ttl)", p->c.min_ttl, p->c.max_ttl);
	}
	for (i = 0; i < p->c.npolicy; i++) {
		const struct sc_name_policy *np = &p->c.policy[i];
		int64_t mn = np->min_ttl >= 0 ? np->min_ttl : (int64_t)p->c.min_ttl;
		int64_t mx = np->max_ttl >= 0 ? np->max_ttl : (int64_t)p->c.max_ttl;

		if (mn <= mx) {
			continue;
		}
		line = p->policy_line[i];
		if (np->min_ttl < 0 && p->min_line > line) {
			line = p->min_line;
		}
		if (np->max_ttl < 0 && p->max_line > line) {
			line = p->max_line;
		}
		p->lineno = line;
		return perr(p, line == p->policy_line[i] ? "policy" :
			    (np->min_ttl < 0 ? "min_ttl" : "max_ttl"),
			    "the policy of line %u gets min_ttl %lld, greater than "
			    "its max_ttl %lld (min_ttl must be at most max_ttl)",
			    p->policy_line[i], (long long)mn, (long long)mx);
	}
	return 0;
}

int sc_conf_parse(struct sc_conf *c, const char *path, const char *buf,
		  size_t len, char *err, size_t errlen)
{
	struct parser *p;
	size_t pos = 0, end, n;
	int r = 0;

	if (err != NULL && errlen > 0) {
		err[0] = '\0';
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		if (err != NULL && errlen > 0) {
			snprintf(err, errlen, "%s: out of memory", path);
		}
		return -ENOMEM;
	}
	p->c = *c;
	p->path = path;
	p->err = err;
	p->errlen = errlen;

	/* A UTF-8 byte order mark, as some editors write it. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		pos = 3;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);

		end = nl != NULL ? (size_t)(nl - buf) : len;
		n = end - pos;
		if (n > 0 && buf[pos + n - 1] == '\r') {
			n--;
		}
		p->lineno++;
		r = parse_line(p, buf + pos, n);
		if (r < 0) {
			goto fail;
		}
		pos = end + 1;
	}
	r = check_whole(p);
	if (r < 0) {
		goto fail;
	}
	/* Only now, with the whole file and the checks across lines passed,
	 * does the caller see any of it. */
	*c = p->c;
	free(p);
	return 0;

fail:
	free(p);
	return r;
}

int sc_conf_load(struct sc_conf *c, const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int r;

	if (err != NULL && errlen > 0) {
		err[0] = '\0';
	}
	r = read_bounded(path, &buf, &len);
	if (r < 0) {
		file_error(err, errlen, path, r);
		return r;
	}
	r = sc_conf_parse(c, path, buf, len, err, errlen);
	free(buf);
	return r;
}

/*
 * Longest suffix match of `name' against the policies.  Each candidate is
 * a tail of the name that starts on a label boundary, so one walk over the
 * labels marks the boundaries, and each policy costs one comparison of
 * its own length.  A malformed name (label over 63, name over 255, no
 * root label within bounds) matches nothing.
 */
const struct sc_name_policy *sc_conf_policy_for(const struct sc_conf *c,
						 const unsigned char *name)
{
	bool boundary[SC_DNS_MAXNAME + 1];
	unsigned char lower[SC_DNS_MAXNAME];
	const struct sc_name_policy *best = NULL;
	size_t n = 0, best_len = 0, slen, t, i;

	if (c->npolicy == 0 || name == NULL) {
		return NULL;
	}
	memset(boundary, 0, sizeof(boundary));
	/* The name comes from our own callers (a question already
	 * validated), but a bad one must still not send us past 255 bytes. */
	for (;;) {
		if (n >= SC_DNS_MAXNAME || name[n] > 63) {
			return NULL;
		}
		boundary[n] = true;
		if (name[n] == 0) {
			break;
		}
		n += (size_t)name[n] + 1;
	}
	n++;
	for (i = 0; i < n; i++) {
		lower[i] = name[i] >= 'A' && name[i] <= 'Z' ?
			(unsigned char)(name[i] - 'A' + 'a') : name[i];
	}
	for (i = 0; i < c->npolicy; i++) {
		slen = wire_len(c->policy[i].suffix);
		if (slen > n || slen <= best_len) {
			continue;
		}
		t = n - slen;
		if (boundary[t] && memcmp(lower + t, c->policy[i].suffix, slen) == 0) {
			best = &c->policy[i];
			best_len = slen;
		}
	}
	return best;
}

/* ------------------------------------------------------------------ */
/* nsswitch.conf                                                       */
/* ------------------------------------------------------------------ */

/* glibc's own test (isspace in the C locale), not our blanks. */
static bool ns_space(char ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/* The databases glibc 2.36 knows (nss/databases.def); only their lines
 * are parsed, and so only their syntax errors count. */
static bool ns_known_database(const char *s, size_t n)
{
	static const char *const dbs[] = {
		"aliases", "ethers", "group", "group_compat", "gshadow",
		"hosts", "initgroups", "netgroup", "networks", "passwd",
		"passwd_compat", "protocols", "publickey", "rpc", "services",
		"shadow", "shadow_compat",
	};
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(dbs); i++) {
		if (strlen(dbs[i]) == n && memcmp(dbs[i], s, n) == 0) {
			return true;
		}
	}
	return false;
}

static bool ns_word(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/*
 * One `[!STATUS=ACTION ...]' item, `*pos' just past the `['.  The grammar
 * and its failures are those of nss_action_parse(): a status word is one
 * of SUCCESS, NOTFOUND, UNAVAIL, TRYAGAIN, an action one of RETURN,
 * CONTINUE, MERGE (both case-insensitive); an empty item, a missing `=' or
 * `]' is an error.
 */
static int ns_action(const char *s, size_t len, size_t *pos)
{
	size_t i = *pos, w;

	while (i < len && ns_space(s[i])) {
		i++;
	}
	do {
		if (i < len && s[i] == '!') {
			i++;
		}
		w = i;
		while (i < len && !ns_space(s[i]) && s[i] != '=' && s[i] != ']') {
			i++;
		}
		if (!ns_word(s + w, i - w, "SUCCESS") && !ns_word(s + w, i - w, "UNAVAIL") &&
		    !ns_word(s + w, i - w, "NOTFOUND") && !ns_word(s + w, i - w, "TRYAGAIN")) {
			return -EINVAL;
		}
		while (i < len && ns_space(s[i])) {
			i++;
		}
		if (i >= len || s[i] != '=') {
			return -EINVAL;
		}
		i++;
		while (i < len && ns_space(s[i])) {
			i++;
		}
		w = i;
		while (i < len && !ns_space(s[i]) && s[i] != '=' && s[i] != ']') {
			i++;
		}
		if (!ns_word(s + w, i - w, "RETURN") && !ns_word(s + w, i - w, "CONTINUE") &&
		    !ns_word(s + w, i - w, "MERGE")) {
			return -EINVAL;
		}
		while (i < len && ns_space(s[i])) {
			i++;
		}
	} while (i < len && s[i] != ']');
	if (i >= len) {
		return -EINVAL;
	}
	*pos = i + 1;
	return 0;
}

/*
 * The source list of one line (`s', `len' bytes).  With `ret' NULL only
 * the syntax is checked (a database other than hosts).
 */
static int ns_sources(const char *s, size_t len, struct sc_nsswitch *ret)
{
	size_t i = 0, w;
	int idx = 0, r;

	if (ret != NULL) {
		ret->found = true;
		ret->pos_files = ret->pos_dns = ret->pos_sipcache = -1;
		ret->other_sources = false;
	}
	for (;;) {
		while (i < len && ns_space(s[i])) {
			i++;
		}
		if (i >= len) {
			return 0;
		}
		w = i;
		while (i < len && !ns_space(s[i]) && s[i] != '[') {
			i++;
		}
		if (i == w) {
			/* A `[' where a source name should be: glibc stops
			 * reading the list there, without an error. */
			return 0;
		}
		if (ret != NULL) {
			/* Module names are case-sensitive (libnss_NAME.so.2);
			 * the first occurrence is the one that decides. */
			if (i - w == 5 && memcmp(s + w, "files", 5) == 0) {
				if (ret->pos_files < 0) {
					ret->pos_files = idx;
				}
			} else if (i - w == 3 && memcmp(s + w, "dns", 3) == 0) {
				if (ret->pos_dns < 0) {
					ret->pos_dns = idx;
				}
			} else if (i - w == 8 && memcmp(s + w, "sipcache", 8) == 0) {
				if (ret->pos_sipcache < 0) {
					ret->pos_sipcache = idx;
				}
			} else {
				ret->other_sources = true;
			}
		}
		idx++;
		while (i < len && ns_space(s[i])) {
			i++;
		}
		if (i < len && s[i] == '[') {
			i++;
			r = ns_action(s, len, &i);
			if (r < 0) {
				return r;
			}
		}
	}
}

static void ns_not_found(struct sc_nsswitch *ret)
{
	ret->found = false;
	ret->pos_files = ret->pos_dns = ret->pos_sipcache = -1;
	ret->other_sources = false;
}

/*
 * Returns 0, or -EINVAL when a line of a database glibc knows is malformed:
 * glibc then ignores the whole file and resolves no host through NSS, and
 * *ret says so (found, no source at all).  Without a hosts line, *ret has
 * found == false: glibc then uses its default, "files dns".
 */
int sc_nsswitch_parse(struct sc_nsswitch *ret, const char *buf, size_t len)
{
	struct sc_nsswitch hosts;
	size_t pos = 0, i, n, name;
	const char *line, *nl, *nul;
	bool is_hosts;
	int r;

	ns_not_found(&hosts);
	while (pos < len) {
		nl = memchr(buf + pos, '\n', len - pos);
		if (nl == NULL) {
			/* glibc: the last line without a newline is ignored. */
			break;
		}
		line = buf + pos;
		n = (size_t)(nl - line) + 1;
		pos += n;
		/* glibc treats the line as a C string: a NUL ends it early
		 * (and then the newline is not part of it). */
		nul = memchr(line, '\0', n);
		if (nul != NULL) {
			n = (size_t)(nul - line);
		}

		i = 0;
		while (i < n && ns_space(line[i])) {
			i++;
		}
		name = i;
		while (i < n && !ns_space(line[i]) && line[i] != ':') {
			i++;
		}
		if (i >= n || i == name) {
			/* No separator after the name: glibc skips the line. */
			continue;
		}
		if (!ns_known_database(line + name, i - name)) {
			continue;
		}
		is_hosts = i - name == 5 && memcmp(line + name, "hosts", 5) == 0;

		while (i < n && (ns_space(line[i]) || line[i] == ':')) {
			i++;
		}
		r = ns_sources(line + i, n - i, is_hosts ? &hosts : NULL);
		if (r < 0) {
			ret->found = true;
			ret->pos_files = ret->pos_dns = ret->pos_sipcache = -1;
			ret->other_sources = false;
			return r;
		}
	}
	*ret = hosts;
	return 0;
}

int sc_nsswitch_load(struct sc_nsswitch *ret, const char *path)
{
	char *buf;
	size_t len;
	int r;

	r = read_bounded(path, &buf, &len);
	if (r < 0) {
		/* glibc uses its defaults when the file cannot be read. */
		ns_not_found(ret);
		return r;
	}
	r = sc_nsswitch_parse(ret, buf, len);
	free(buf);
	return r;
}

/*
 * `auto': the hosts file first when `files' comes before DNS on the hosts
 * line, as NSS itself would answer.  The sipcache module counts as DNS (it
 * answers from the DNS cache), so "files sipcache dns" is files-first and
 * "sipcache files" is dns-first.  No `files' at all: the hosts file is
 * never used, as NSS never reads it either.  No hosts line (or no
 * nsswitch.conf): glibc's default "files dns", so files-first.
 */
enum sc_hosts_order sc_hosts_order_resolve(enum sc_hosts_order configured,
					   const struct sc_nsswitch *ns)
{
	int dns;

	if (configured != SC_HOSTS_AUTO) {
		return configured;
	}
	if (ns == NULL || !ns->found) {
		return SC_HOSTS_FILES_FIRST;
	}
	/* Covers the malformed file too (-EINVAL, found, no source):
	 * glibc then reads no hosts file through NSS, nor do we. */
	if (ns->pos_files < 0) {
		return SC_HOSTS_NEVER;
	}
	dns = ns->pos_dns;
	if (ns->pos_sipcache >= 0 && (dns < 0 || ns->pos_sipcache < dns)) {
		dns = ns->pos_sipcache;
	}
	if (dns < 0 || ns->pos_files < dns) {
		return SC_HOSTS_FILES_FIRST;
	}
	return SC_HOSTS_DNS_FIRST;
}

/*
 * ctl_cache.c - the commands that work on the cache file itself: flush,
 * stats, dump and check.
 *
 * Every change goes through shim/sc_cache.c, under tdb's locks, exactly
 * as a lookup's store does, so it is safe while other processes look
 * names up, and visible to them at their next lookup: deletes and flushes
 * bump the change counters that retire each thread's private copies.
 * Nothing here writes the file in any other way; the one exception is the
 * rebuild of `check --repair', which replaces the file as a whole
 * (sc_cache_rebuild) and which processes follow by its path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const char *entries_word(long n)
{
	return n == 1 ? "entry" : "entries";
}

/* ------------------------------------------------------------------ */
/* flush                                                               */

int ctl_cmd_flush(struct ctl *ctl, int argc, char **argv)
{
	unsigned char qname[SC_DNS_MAXNAME];
	char name[SC_DNS_MAXTEXT + 1], tb[CTL_TYPE_NAMELEN];
	struct sc_cache *c;
	struct sc_key k;
	uint16_t type = 0;
	int status, i, n, r;

	i = ctl_parse(ctl, argc, argv, NULL, 0, 0, 2, &status);
	if (i < 0) {
		return status;
	}
	n = argc - i;
	if (n >= 1 && ctl_name_parse(argv[i], qname) < 0) {
		return ctl_usage(ctl, "'%s' is not a domain name", argv[i]);
	}
	if (n >= 1) {
		/* Shown as the cache keys it: names are case-insensitive. */
		sc_dns_name_lower(qname);
		if (ctl_name_text(qname, name, sizeof(name)) < 0) {
			return ctl_usage(ctl, "'%s' is not a domain name", argv[i]);
		}
	}
	if (n == 2 && ctl_type_parse(argv[i + 1], &type) < 0) {
		return ctl_usage(ctl, "'%s' is not a record type (A, AAAA, SRV, NAPTR, ..., "
				 "TYPEnnn)", argv[i + 1]);
	}
	status = ctl_load_conf(ctl);
	if (status != CTL_OK) {
		return status;
	}
	r = ctl_cache_open(ctl, &c);
	if (r == -ENOENT) {
		/* Nothing is cached anywhere: what was asked holds. */
		printf("flushed 0 entries: %s does not exist (nothing is cached)\n",
		       ctl->conf.cache_file);
		return CTL_OK;
	}
	if (r < 0) {
		return ctl_cache_failed(ctl, ctl->conf.cache_file, r);
	}
	if (n == 0) {
		r = sc_cache_flush(c);
		if (r >= 0) {
			printf("flushed %d %s\n", r, entries_word(r));
		}
	} else if (n == 1) {
		r = sc_cache_flush_name(c, qname);
		if (r >= 0) {
			printf("flushed %d %s of %s\n", r, entries_word(r), name);
		}
	} else {
		r = sc_key_make(&k, qname, type, SC_C_IN);
		if (r == 0) {
			r = sc_cache_delete(c, &k);
		}
		if (r == 0 || r == -ENOENT) {
			printf("flushed %d %s of %s %s\n", r == 0, entries_word(r == 0), name,
			       ctl_type_name(type, tb));
			r = 0;
		}
	}
	sc_cache_close(c);
	if (r < 0) {
		ctl_err(ctl, "%s: the flush failed: %s", ctl->conf.cache_file, strerror(-r));
		return r == -EBADMSG || r == -EIO ? ctl_cache_failed(ctl, ctl->conf.cache_file, r)
						  : CTL_UNUSABLE;
	}
	return CTL_OK;
}

/* ------------------------------------------------------------------ */
/* stats                                                               */

/* hits / (hits + misses), or -1 when nothing was asked yet. */
static double ratio(uint64_t hits, uint64_t misses)
{
	return hits + misses ? (double)hits / (double)(hits + misses) : -1.0;
}

static void print_ratio_json(double r)
{
	if (r < 0) {
		fputs("null", stdout);
	} else {
		printf("%.6f", r);
	}
}

static void print_ratio_text(double r, int width)
{
	char buf[32];

	if (r < 0) {
		snprintf(buf, sizeof(buf), "-");
	} else {
		snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * r);
	}
	printf("%*s", width, buf);
}

static void stats_json(const struct ctl *ctl, const struct sc_stats_snapshot *s)
{
	unsigned i;

	printf("{\"cache_file\": ");
	ctl_json_string(stdout, ctl->conf.cache_file);
	for (i = 0; i < SC_STAT__MAX; i++) {
		printf(", \"%s\": %llu", sc_stats_name((enum sc_stat)i),
		       (unsigned long long)s->c[i]);
	}
	printf(", \"entries\": %lld, \"bytes\": %lld, \"hit_ratio\": ", (long long)s->entries,
	       (long long)s->bytes);
	print_ratio_json(ratio(s->c[SC_STAT_HITS], s->c[SC_STAT_MISSES]));
	printf(", \"types\": {");
	for (i = 0; i < SC_STYPE__MAX; i++) {
		printf("%s\"%s\": {\"hits\": %llu, \"misses\": %llu, \"hit_ratio\": ",
		       i ? ", " : "", sc_stats_type_name((enum sc_stat_type)i),
		       (unsigned long long)s->type_hits[i], (unsigned long long)s->type_misses[i]);
		print_ratio_json(ratio(s->type_hits[i], s->type_misses[i]));
		printf("}");
	}
	printf("}}\n");
}

static void stats_text(const struct ctl *ctl, const struct sc_stats_snapshot *s)
{
	unsigned i;

	printf("%-16s %s\n", "cache_file", ctl->conf.cache_file);
	printf("%-16s %lld\n", "entries", (long long)s->entries);
	printf("%-16s %lld\n", "bytes", (long long)s->bytes);
	for (i = 0; i < SC_STAT__MAX; i++) {
		printf("%-16s %llu\n", sc_stats_name((enum sc_stat)i), (unsigned long long)s->c[i]);
	}
	printf("%-16s ", "hit_ratio");
	print_ratio_text(ratio(s->c[SC_STAT_HITS], s->c[SC_STAT_MISSES]), 0);
	printf("\n\n%-8s %12s %12s %10s\n", "type", "hits", "misses", "hit_ratio");
	for (i = 0; i < SC_STYPE__MAX; i++) {
		printf("%-8s %12llu %12llu ", sc_stats_type_name((enum sc_stat_type)i),
		       (unsigned long long)s->type_hits[i], (unsigned long long)s->type_misses[i]);
		print_ratio_text(ratio(s->type_hits[i], s->type_misses[i]), 10);
		printf("\n");
	}
}

int ctl_cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	bool json = false, reset = false;
	const struct ctl_flag flags[] = {
		{ "json", 'j', &json },
		{ "reset", 'r', &reset },
	};
	struct sc_stats_snapshot snap;
	struct sc_stats *s = NULL;
	char path[PATH_MAX];
	int status, r;

	if (ctl_parse(ctl, argc, argv, flags, SC_ARRAY_SIZE(flags), 0, 0, &status) < 0) {
		return status;
	}
	status = ctl_load_conf(ctl);
	if (status != CTL_OK) {
		return status;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s.stats", ctl->conf.cache_file) >=
	    sizeof(path)) {
		return ctl_cache_failed(ctl, ctl->conf.cache_file, -ENAMETOOLONG);
	}
	/*
	 * Read-only, so that anyone who may read the counters sees them; a
	 * reset writes them, with the same rights as any other change.
	 */
	r = reset ? sc_stats_open(&s, path, false, ctl->group)
		  : sc_stats_open_readonly(&s, path, ctl->group);
	if (r == -ENOENT && !reset) {
		/* No process has counted anything yet: zeros are the truth. */
		ctl_err(ctl, "note: %s does not exist yet: every counter is 0", path);
		memset(&snap, 0, sizeof(snap));
	} else if (r < 0) {
		if (r == -EBADMSG) {
			ctl_err(ctl, "%s: not a stats file of this version of sipcache; remove it "
				"and the next lookup starts it afresh", path);
			return CTL_UNUSABLE;
		}
		return ctl_cache_failed(ctl, path, r);
	} else {
		sc_stats_read(s, &snap);
	}
	if (json) {
		stats_json(ctl, &snap);
	} else {
		stats_text(ctl, &snap);
	}
	if (reset) {
		sc_stats_reset(s);
	}
	sc_stats_close(s);
	return CTL_OK;
}

/* ------------------------------------------------------------------ */
/* dump                                                                */

struct dump_entry {
	char *name;                  /* presentation, trailing dot */
	uint16_t type, class, flags;
	uint16_t rcode, ancount;
	int64_t stored_at;
	uint32_t lifetime;
	size_t size;
};

struct dump_ctx {
	struct dump_entry *e;
	size_t n, cap;
	int err;
};

static int dump_collect(const struct sc_entry_view *v, void *priv)
{
	struct dump_ctx *d = priv;
	char name[SC_DNS_MAXTEXT + 1];
	struct dump_entry *e;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 256;
		struct dump_entry *ne = realloc(d->e, cap * sizeof(*ne));

		if (ne == NULL) {
			d->err = -ENOMEM;
			return 1;
		}
		d->e = ne;
		d->cap = cap;
	}
	if (ctl_name_text(v->qname, name, sizeof(name)) < 0) {
		snprintf(name, sizeof(name), "?");
	}
	e = &d->e[d->n];
	e->name = strdup(name);
	if (e->name == NULL) {
		d->err = -ENOMEM;
		return 1;
	}
	e->type = v->qtype;
	e->class = v->qclass;
	e->flags = v->flags;
	/* The stored message was validated: its header is there. */
	e->rcode = v->msglen >= SC_DNS_HDRLEN ? v->msg[3] & 0x0f : 0;
	e->ancount = v->msglen >= SC_DNS_HDRLEN ? (uint16_t)(v->msg[6] << 8 | v->msg[7]) : 0;
	e->stored_at = v->stored_at;
	e->lifetime = v->lifetime;
	e->size = v->msglen;
	d->n++;
	return 0;
}

static int by_name_type(const void *a, const void *b)
{
	const struct dump_entry *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r == 0) {
		r = (x->type > y->type) - (x->type < y->type);
	}
	if (r == 0) {
		r = (x->class > y->class) - (x->class < y->class);
	}
	return r;
}

static const char *kind_of(const struct dump_entry *e)
{
	if (!(e->flags & SC_ENTRY_NEGATIVE)) {
		return "positive";
	}
	return e->flags & SC_ENTRY_NXDOMAIN ? "NXDOMAIN" : "NODATA";
}

/* fresh; stale: expired, still served while upstream fails (serve_stale);
 * expired: beyond that, waiting for the next sweep. */
static const char *state_of(const struct ctl *ctl, const struct dump_entry *e, int64_t now,
			    uint32_t *ret_ttl, int64_t *ret_expired_for)
{
	int64_t stale_for = 0;

	*ret_ttl = sc_policy_remaining(e->stored_at, e->lifetime, now, &stale_for);
	*ret_expired_for = *ret_ttl ? 0 : stale_for;
	if (*ret_ttl > 0) {
		return "fresh";
	}
	return stale_for < (int64_t)ctl->conf.serve_stale ? "stale" : "expired";
}

static void dump_json(const struct ctl *ctl, const struct dump_ctx *d, int64_t now)
{
	char tb[CTL_TYPE_NAMELEN], cb[CTL_TYPE_NAMELEN];
	size_t i;

	printf("{\"cache_file\": ");
	ctl_json_string(stdout, ctl->conf.cache_file);
	printf(", \"now\": %lld, \"serve_stale\": %u, \"entries\": [", (long long)now,
	       ctl->conf.serve_stale);
	for (i = 0; i < d->n; i++) {
		const struct dump_entry *e = &d->e[i];
		int64_t expired_for;
		uint32_t ttl;
		const char *state = state_of(ctl, e, now, &ttl, &expired_for);

		printf("%s\n  {\"name\": ", i ? "," : "");
		ctl_json_string(stdout, e->name);
		printf(", \"type\": \"%s\", \"type_code\": %u, \"class\": \"%s\", "
		       "\"kind\": \"%s\", \"negative\": %s, \"rcode\": %u, \"answers\": %u, "
		       "\"ttl\": %u, \"lifetime\": %u, \"stored_at\": %lld, \"expires_at\": %lld, "
		       "\"expired_for\": %lld, \"state\": \"%s\", \"size\": %zu}",
		       ctl_type_name(e->type, tb), e->type, ctl_class_name(e->class, cb),
		       kind_of(e), e->flags & SC_ENTRY_NEGATIVE ? "true" : "false", e->rcode,
		       e->ancount, ttl, e->lifetime, (long long)e->stored_at,
		       (long long)(e->stored_at + e->lifetime), (long long)expired_for, state,
		       e->size);
	}
	printf("%s]}\n", d->n ? "\n" : "");
}

static void dump_text(const struct ctl *ctl, const struct dump_ctx *d, int64_t now)
{
	char tb[CTL_TYPE_NAMELEN], cb[CTL_TYPE_NAMELEN];
	unsigned long counts[5] = { 0 };   /* negative, fresh, stale, expired */
	int width = 4;
	size_t i;

	for (i = 0; i < d->n; i++) {
		int len = (int)strlen(d->e[i].name);

		if (len > width) {
			width = len;
		}
	}
	if (width > 60) {
		width = 60;   /* longer names push their own line out */
	}
	printf("%-*s %-6s %-5s %-8s %8s %-7s %6s\n", width, "NAME", "TYPE", "CLASS", "KIND",
	       "TTL", "STATE", "SIZE");
	for (i = 0; i < d->n; i++) {
		const struct dump_entry *e = &d->e[i];
		int64_t expired_for;
		uint32_t ttl;
		const char *state = state_of(ctl, e, now, &ttl, &expired_for);

		printf("%-*s %-6s %-5s %-8s %8u %-7s %6zu\n", width, e->name,
		       ctl_type_name(e->type, tb), ctl_class_name(e->class, cb), kind_of(e), ttl,
		       state, e->size);
		counts[0] += (e->flags & SC_ENTRY_NEGATIVE) != 0;
		counts[state[0] == 'f' ? 1 : state[0] == 's' ? 2 : 3]++;
	}
	printf("%zu %s: %zu positive, %lu negative; %lu fresh, %lu stale, %lu expired\n", d->n,
	       entries_word((long)d->n), d->n - counts[0], counts[0], counts[1], counts[2],
	       counts[3]);
}

int ctl_cmd_dump(struct ctl *ctl, int argc, char **argv)
{
	bool json = false;
	const struct ctl_flag flags[] = {
		{ "json", 'j', &json },
	};
	struct dump_ctx d = { .e = NULL };
	struct sc_cache *c;
	int64_t now;
	int status, r;
	size_t i;

	if (ctl_parse(ctl, argc, argv, flags, SC_ARRAY_SIZE(flags), 0, 0, &status) < 0) {
		return status;
	}
	status = ctl_load_conf(ctl);
	if (status != CTL_OK) {
		return status;
	}
	r = ctl_cache_open(ctl, &c);
	if (r == -ENOENT) {
		ctl_err(ctl, "note: %s does not exist yet: nothing is cached", ctl->conf.cache_file);
	} else if (r < 0) {
		return ctl_cache_failed(ctl, ctl->conf.cache_file, r);
	} else {
		r = sc_cache_traverse(c, dump_collect, &d);
		sc_cache_close(c);
		if (r < 0 || d.err < 0) {
			r = d.err < 0 ? d.err : r;
			status = r == -ENOMEM ? CTL_UNUSABLE : ctl_cache_failed(ctl, ctl->conf.cache_file, r);
			if (r == -ENOMEM) {
				ctl_err(ctl, "out of memory after %zu entries", d.n);
			}
			goto out;
		}
	}
	/* One clock reading for the whole listing. */
	now = sc_now();
	if (d.n > 1) {
		qsort(d.e, d.n, sizeof(*d.e), by_name_type);
	}
	if (json) {
		dump_json(ctl, &d, now);
	} else {
		dump_text(ctl, &d, now);
	}
	status = CTL_OK;
out:
	for (i = 0; i < d.n; i++) {
		free(d.e[i].name);
	}
	free(d.e);
	return status;
}

/* ------------------------------------------------------------------ */
/* check                                                               */

static int count_fn(const struct sc_entry_view *v, void *priv)
{
	(void)v;
	(void)priv;
	return 0;
}

/* Rebuild, then make the gauges of the new file exact. */
static int rebuild(struct ctl *ctl)
{
	struct sc_cache_opts o;
	struct sc_cache *c;
	unsigned kept = 0, dropped = 0;
	int r;

	ctl_cache_opts(ctl, &o);
	r = sc_cache_rebuild(&o, &kept, &dropped);
	if (r == -ENOTRECOVERABLE) {
		ctl_err(ctl, "%s does not start like a tdb file: it may not be a cache file at "
			"all, so it is left alone.  If cache_file in %s is right, remove the "
			"file (the next lookup creates a new one).", ctl->conf.cache_file,
			ctl->conf_path);
		return CTL_UNUSABLE;
	}
	if (r == -EPERM) {
		ctl_err(ctl, "%s: cannot rebuild: the new file must have the old one's owner, "
			"which only root can give it; run as root.  Nothing was changed.",
			ctl->conf.cache_file);
		return CTL_UNUSABLE;
	}
	if (r < 0) {
		ctl_err(ctl, "%s: the rebuild failed: %s; nothing was changed",
			ctl->conf.cache_file, strerror(-r));
		return r == -EACCES ? ctl_cache_failed(ctl, ctl->conf.cache_file, r) : CTL_UNUSABLE;
	}
	printf("rebuilt %s: %u records kept, %u dropped; running processes follow within a "
	       "second\n", ctl->conf.cache_file, kept, dropped);
	r = ctl_cache_open(ctl, &c);
	if (r < 0) {
		return ctl_cache_failed(ctl, ctl->conf.cache_file, r);
	}
	sc_cache_recount(c);
	r = sc_cache_check(c, false);
	sc_cache_close(c);
	if (r != 0) {
		ctl_err(ctl, "%s: still damaged after the rebuild (%s)", ctl->conf.cache_file,
			r < 0 ? strerror(-r) : "bad records");
		return CTL_UNUSABLE;
	}
	return CTL_OK;
}

/*
 * check --repair of a file that does not exist: create it, empty.  The
 * first process to look a name up creates the file otherwise, and the
 * file is then its owner's; when that is a service user, root and every
 * other user distrust the file and run uncached (a file must be owned by
 * root or by the reader).  The packages run this as root at installation.
 */
static int create(struct ctl *ctl)
{
	struct sc_cache_opts o;
	struct sc_cache *c;
	int r;

	r = sc_trust_parent_dir(ctl->conf.cache_file, ctl->group);
	if (r < 0) {
		return ctl_cache_failed(ctl, ctl->conf.cache_file, r);
	}
	ctl_cache_opts(ctl, &o);
	o.create = true;
	r = sc_cache_open(&c, &o);
	if (r < 0) {
		return ctl_cache_failed(ctl, ctl->conf.cache_file, r);
	}
	r = sc_cache_check(c, false);
	sc_cache_close(c);
	if (r != 0) {
		ctl_err(ctl, "%s: damaged right after its creation (%s)", ctl->conf.cache_file,
			r < 0 ? strerror(-r) : "bad records");
		return CTL_UNUSABLE;
	}
	printf("%s: created, empty\n", ctl->conf.cache_file);
	return CTL_OK;
}

int ctl_cmd_check(struct ctl *ctl, int argc, char **argv)
{
	bool repair = false;
	const struct ctl_flag flags[] = {
		{ "repair", 'r', &repair },
	};
	const char *path;
	struct sc_cache *c;
	int status, r, n;

	if (ctl_parse(ctl, argc, argv, flags, SC_ARRAY_SIZE(flags), 0, 0, &status) < 0) {
		return status;
	}
	status = ctl_load_conf(ctl);
	if (status != CTL_OK) {
		return status;
	}
	path = ctl->conf.cache_file;
	r = ctl_cache_open(ctl, &c);
	if (r == -ENOENT && repair) {
		return create(ctl);
	}
	if (r == -ENOENT) {
		printf("%s does not exist yet: nothing to check (the first lookup creates it; "
		       "'sipcachectl check --repair' creates it now)\n", path);
		return CTL_OK;
	}
	if (r == -EBADMSG || r == -EIO || r == -EINVAL) {
		/* tdb cannot even open it: its header is gone or torn. */
		if (!repair) {
			printf("%s: damaged: it cannot be opened (%s); every process runs "
			       "uncached.  Run 'sipcachectl check --repair' to rebuild it.\n",
			       path, strerror(-r));
			return CTL_FALSE;
		}
		return rebuild(ctl);
	}
	if (r < 0) {
		return ctl_cache_failed(ctl, path, r);
	}
	r = sc_cache_check(c, false);
	if (r == -EBADMSG) {
		sc_cache_close(c);
		if (!repair) {
			printf("%s: damaged: tdb's own structure is broken.  Run 'sipcachectl "
			       "check --repair' to rebuild the file from its good records.\n", path);
			return CTL_FALSE;
		}
		return rebuild(ctl);
	}
	if (r > 0 && repair) {
		n = r;
		r = sc_cache_check(c, true);
		if (r >= 0) {
			printf("%s: dropped %d damaged %s\n", path, n, n == 1 ? "record" : "records");
			r = sc_cache_check(c, false);
		}
	}
	if (r < 0) {
		sc_cache_close(c);
		ctl_err(ctl, "%s: the check failed: %s", path, strerror(-r));
		return CTL_UNUSABLE;
	}
	if (r > 0) {
		sc_cache_close(c);
		printf("%s: %d damaged %s (they read as misses and are dropped when met).  Run "
		       "'sipcachectl check --repair' to drop them now.\n", path, r,
		       r == 1 ? "record" : "records");
		return CTL_FALSE;
	}
	if (repair) {
		/* The gauges drift with races between processes: exact now. */
		sc_cache_recount(c);
	}
	n = sc_cache_traverse(c, count_fn, NULL);
	sc_cache_close(c);
	printf("%s: OK, %d %s\n", path, n < 0 ? 0 : n, entries_word(n));
	return CTL_OK;
}

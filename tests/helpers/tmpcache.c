/* tmpcache.c - see tmpcache.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpcache.h"

struct sc_cache *tmpcache_open(const struct tmpcache *t, uint32_t max_entries)
{
	struct sc_cache_opts o = {
		.path = t->path,
		.max_entries = max_entries,
		.create = true,
		.group = (gid_t)-1,
	};
	struct sc_cache *c;
	int r = sc_cache_open(&c, &o);

	if (r < 0) {
		fprintf(stderr, "tmpcache: open %s: %d\n", t->path, r);
		abort();
	}
	return c;
}

void tmpcache_new(struct tmpcache *t, uint32_t max_entries)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/sc-test-XXXXXX");
	if (mkdtemp(t->dir) == NULL || chmod(t->dir, 0755) != 0) {
		abort();
	}
	snprintf(t->path, sizeof(t->path), "%s/cache.tdb", t->dir);
	t->c = tmpcache_open(t, max_entries);
}

void tmpcache_free(struct tmpcache *t)
{
	char p[160];

	if (t->c) {
		sc_cache_close(t->c);
		t->c = NULL;
	}
	unlink(t->path);
	snprintf(p, sizeof(p), "%s.stats", t->path);
	unlink(p);
	rmdir(t->dir);
}

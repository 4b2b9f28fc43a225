/* tmpcache.h - a cache file in a fresh private directory, for tests. */
#ifndef TMPCACHE_H
#define TMPCACHE_H

#include "../../shim/sc.h"

struct tmpcache {
	char dir[64];
	char path[128];
	struct sc_cache *c;
};

/* mkdtemp under /tmp (mode 0755) and open a cache of `max_entries' there
 * (creating it); aborts on failure. */
void tmpcache_new(struct tmpcache *t, uint32_t max_entries);
/* Open another handle on the same file (e.g. in a forked child). */
struct sc_cache *tmpcache_open(const struct tmpcache *t, uint32_t max_entries);
/* Close and remove everything. */
void tmpcache_free(struct tmpcache *t);

#endif

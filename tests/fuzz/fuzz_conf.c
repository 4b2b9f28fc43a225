/*
 * fuzz_conf.c - libFuzzer target for shim/sc_conf.c.
 *
 * The same input is given to sc_conf_parse() (over the defaults) and to
 * sc_nsswitch_parse(), and the results are checked against what the
 * parsers promise, so that the fuzzer finds wrong answers and not only
 * crashes:
 *   - on success, every field is within the bounds its key allows, the
 *     clamp intervals are not empty, and every policy is found again by
 *     sc_conf_policy_for() for its own suffix and for a name below it;
 *   - on failure, the return is -EINVAL, the configuration is exactly the
 *     defaults it was given, and the message is "fuzz.conf:LINE: ..." or
 *     "fuzz.conf: ..." and fits the buffer, also a tiny one;
 *   - nsswitch: positions are distinct, below the number of sources, and
 *     all -1 when no hosts line was found.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../shim/sc.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define CHECK(cond) do { if (!(cond)) { __builtin_trap(); } } while (0)

static size_t wire_len(const unsigned char *w)
{
	size_t n = 0;

	while (w[n] != 0) {
		CHECK(w[n] <= 63);
		CHECK(n + w[n] + 1 < 255);
		n += (size_t)w[n] + 1;
	}
	return n + 1;
}

static void check_policy(const struct sc_conf *c, unsigned i)
{
	const struct sc_name_policy *np = &c->policy[i];
	unsigned char below[256];
	size_t n = wire_len(np->suffix), j;
	int64_t mn, mx;

	for (j = 0; j < n; j++) {
		CHECK(!(np->suffix[j] >= 'A' && np->suffix[j] <= 'Z'));
	}
	CHECK(np->min_ttl >= -1 && np->min_ttl <= 2147483647);
	CHECK(np->max_ttl >= -1 && np->max_ttl <= 2147483647);
	CHECK(np->negative_ttl >= -1 && np->negative_ttl <= 2147483647);
	CHECK(np->min_ttl >= 0 || np->max_ttl >= 0 || np->negative_ttl >= 0);
	mn = np->min_ttl >= 0 ? np->min_ttl : (int64_t)c->min_ttl;
	mx = np->max_ttl >= 0 ? np->max_ttl : (int64_t)c->max_ttl;
	CHECK(mn <= mx);
	/* Suffixes are unique, so a suffix finds its own policy... */
	CHECK(sc_conf_policy_for(c, np->suffix) == np);
	/* ...and so does a name one label below it, in upper case. */
	if (n + 2 <= 255) {
		below[0] = 1;
		below[1] = 'Q';
		memcpy(below + 2, np->suffix, n);
		for (j = 2; j < n + 2; j++) {
			if (below[j] >= 'a' && below[j] <= 'z') {
				below[j] = (unsigned char)(below[j] - 'a' + 'A');
			}
		}
		/* Length bytes were copied too: only letters changed. */
		CHECK(sc_conf_policy_for(c, below) == np);
	}
}

static void check_conf(const unsigned char *data, size_t size)
{
	static struct sc_conf c, def;
	char err[256], tiny[6];
	unsigned i, j;
	int r;

	sc_conf_defaults(&def);
	c = def;
	memset(err, 'X', sizeof(err));
	r = sc_conf_parse(&c, "fuzz.conf", (const char *)data, size, err, sizeof(err));
	CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (r < 0) {
		CHECK(r == -EINVAL);
		CHECK(memcmp(&c, &def, sizeof(c)) == 0);
		CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
		/* The message names a line and a key, then a reason. */
		CHECK(err[10] >= '1' && err[10] <= '9');
		CHECK(strstr(err + 10, ": ") != NULL);
		memset(tiny, 'X', sizeof(tiny));
		r = sc_conf_parse(&c, "fuzz.conf", (const char *)data, size, tiny, 5);
		CHECK(r == -EINVAL);
		CHECK(memcmp(tiny, "fuzz", 5) == 0 && tiny[5] == 'X');
		CHECK(memcmp(&c, &def, sizeof(c)) == 0);
		return;
	}
	CHECK(r == 0);
	CHECK(err[0] == '\0');
	CHECK(c.cache_file[0] == '/' && strlen(c.cache_file) < PATH_MAX);
	CHECK(c.hosts_file[0] == '/' && strlen(c.hosts_file) < PATH_MAX);
	CHECK(c.max_entries >= 16 && c.max_entries <= 16777216);
	CHECK(c.min_ttl <= c.max_ttl);
	CHECK(c.max_ttl <= 2147483647u && c.negative_ttl <= 2147483647u &&
	      c.serve_stale <= 2147483647u);
	CHECK(c.hosts_order >= SC_HOSTS_AUTO && c.hosts_order <= SC_HOSTS_NEVER);
	CHECK(c.family >= SC_FAMILY_ANY && c.family <= SC_FAMILY_PREFER_IPV6);
	CHECK(c.srv_order == SC_SRV_KEEP || c.srv_order == SC_SRV_RFC2782);
	CHECK(c.log >= SC_LOG_SYSLOG && c.log <= SC_LOG_OFF);
	CHECK(c.log_level == LOG_ERR || c.log_level == LOG_WARNING ||
	      c.log_level == LOG_NOTICE || c.log_level == LOG_INFO ||
	      c.log_level == LOG_DEBUG);
	CHECK(c.timeout == -1 || (c.timeout >= 1 && c.timeout <= 30));
	CHECK(c.attempts == -1 || (c.attempts >= 1 && c.attempts <= 5));
	CHECK(c.group[0] != '\0' && strlen(c.group) <= 32);
	CHECK(c.nns <= SC_CONF_MAXNS);
	for (i = 0; i < c.nns; i++) {
		CHECK(c.ns[i].ss_family == AF_INET || c.ns[i].ss_family == AF_INET6);
		for (j = 0; j < i; j++) {
			CHECK(memcmp(&c.ns[i], &c.ns[j], sizeof(c.ns[i])) != 0);
		}
	}
	CHECK(c.npolicy <= SC_CONF_MAXPOLICY);
	for (i = 0; i < c.npolicy; i++) {
		check_policy(&c, i);
	}
}

static void check_nsswitch(const unsigned char *data, size_t size)
{
	struct sc_nsswitch ns;
	enum sc_hosts_order o;
	int r;

	memset(&ns, 0x5a, sizeof(ns));
	r = sc_nsswitch_parse(&ns, (const char *)data, size);
	CHECK(r == 0 || r == -EINVAL);
	CHECK(ns.found == true || ns.found == false);
	if (!ns.found || r < 0) {
		CHECK(ns.pos_files == -1 && ns.pos_dns == -1 && ns.pos_sipcache == -1);
		CHECK(!ns.other_sources);
	}
	CHECK(ns.pos_files >= -1 && (size_t)(ns.pos_files + 1) <= size);
	CHECK(ns.pos_dns >= -1 && (size_t)(ns.pos_dns + 1) <= size);
	CHECK(ns.pos_sipcache >= -1 && (size_t)(ns.pos_sipcache + 1) <= size);
	CHECK(ns.pos_files < 0 || (ns.pos_files != ns.pos_dns &&
				   ns.pos_files != ns.pos_sipcache));
	CHECK(ns.pos_dns < 0 || ns.pos_dns != ns.pos_sipcache);
	o = sc_hosts_order_resolve(SC_HOSTS_AUTO, &ns);
	CHECK(o == SC_HOSTS_FILES_FIRST || o == SC_HOSTS_DNS_FIRST || o == SC_HOSTS_NEVER);
	CHECK((o == SC_HOSTS_NEVER) == (ns.found && ns.pos_files < 0));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	check_conf(data, size);
	check_nsswitch(data, size);
	return 0;
}

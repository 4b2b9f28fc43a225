/*
 * ctl_sip.c - the SIP commands: resolve SIP-URI, enum NUMBER, serves
 * DOMAIN, down [TARGET [SECONDS]], up TARGET.
 *
 * They are the operator's view of the SIP library of the core
 * (shim/sc_sip.c: RFC 3263 target selection, ENUM, the virtual-hosting
 * check; shim/sc_marks.c: target marks).  resolve, enum and serves ask
 * their questions through the core like any process using sipcache (the
 * cache first, upstream on a miss, answers stored), so they show what a
 * SIP server on this host would get, and warm the cache for it.  down and
 * up change the mark set in the cache file, which every process reads at
 * its next SRV or address answer.
 *
 * Exit statuses follow the rest of the tool: 0 a result (serves: yes), 1
 * none (serves: no), 2 a bad argument, 3 the cache cannot be used.
 */
#include <ctype.h>
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

/* Seconds, or a number with s, m, h or d (as in sipcache.conf). */
static int parse_seconds(const char *s, unsigned long *ret)
{
	unsigned long v, mul = 1;
	char *end;

	if (!isdigit((unsigned char)s[0])) {
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno) {
		return -EINVAL;
	}
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1]) {
		return -EINVAL;
	}
	if (v == 0 || v > SC_MARKS_MAX_SECONDS / mul) {
		return -EINVAL;
	}
	*ret = v * mul;
	return 0;
}

/* What a lookup failure of the SIP library means, for 1-status results. */
static int no_result(const struct ctl *ctl, const char *what, int r)
{
	if (r == -EAGAIN) {
		ctl_err(ctl, "%s: none found, and a lookup failed (the upstream resolver timed "
			"out or answered SERVFAIL): try again", what);
	} else if (r == -ENOENT) {
		ctl_err(ctl, "%s: none found", what);
	} else {
		ctl_err(ctl, "%s: %s", what, strerror(-r));
	}
	return CTL_FALSE;
}

static void print_targets(const struct sc_sip_result *res, bool with_via, bool numbered)
{
	char line[SC_DNS_MAXTEXT + 128];
	unsigned i;

	for (i = 0; i < res->n; i++) {
		const struct sc_sip_target *t = &res->t[i];

		if (sc_sip_target_format(t, line, sizeof(line)) < 0) {
			snprintf(line, sizeof(line), "?");
		}
		if (numbered) {
			printf("%u ", i + 1);
		}
		printf("%s%s\n", line, t->local ? " local" : "");
		/* The records that led here, indented: `grep -v "^ "' keeps
		 * the list alone. */
		if (with_via && t->naptr > 0 && t->naptr <= res->nvia) {
			printf("    %s\n", res->via[t->naptr - 1]);
		}
		if (with_via && t->srv > 0 && t->srv <= res->nvia) {
			printf("    %s\n", res->via[t->srv - 1]);
		}
	}
	if (res->truncated) {
		printf(";; more than %d targets: the rest is not shown\n", SC_SIP_MAXTARGETS);
	}
}

/* ------------------------------------------------------------------ */
/* resolve                                                             */

int ctl_cmd_resolve(struct ctl *ctl, int argc, char **argv)
{
	bool short_form = false;
	const struct ctl_flag flags[] = {
		{ "short", 's', &short_form },
	};
	struct sc_sip_result *res;
	struct sc_sip_prefs prefs;
	struct sc_sip_uri uri;
	struct sc_core *core;
	int status, i, r;

	i = ctl_parse(ctl, argc, argv, flags, SC_ARRAY_SIZE(flags), 1, 1, &status);
	if (i < 0) {
		return status;
	}
	if (sc_sip_uri_parse(argv[i], &uri) < 0) {
		return ctl_usage(ctl, "'%s' is not a SIP URI: expected sip:[USER@]HOST[:PORT]"
				 "[;PARAMS] or sips:...", argv[i]);
	}
	status = ctl_core(ctl, &core);
	if (status != CTL_OK) {
		return status;
	}
	res = malloc(sizeof(*res));
	if (res == NULL) {
		ctl_err(ctl, "out of memory");
		return CTL_UNUSABLE;
	}
	sc_sip_prefs_default(&prefs);
	r = sc_sip_resolve(core, argv[i], &prefs, NULL, res);
	if (r == -EINVAL) {
		free(res);
		return ctl_usage(ctl, "'%s' is not a SIP URI this resolver accepts", argv[i]);
	}
	if (r < 0) {
		free(res);
		return no_result(ctl, argv[i], r);
	}
	if (!short_form) {
		printf(";; %s: %u %s (%u lookups)\n", argv[i], res->n,
		       res->n == 1 ? "target" : "targets", res->queries);
	}
	print_targets(res, !short_form, !short_form);
	/* A target whose name has no address is listed (the operator should
	 * see it) but cannot be tried: without any other, nothing can. */
	for (r = 0; r < (int)res->n; r++) {
		if (res->t[r].family != AF_UNSPEC) {
			break;
		}
	}
	status = r < (int)res->n ? CTL_OK : CTL_FALSE;
	free(res);
	return status;
}

/* ------------------------------------------------------------------ */
/* enum                                                                */

int ctl_cmd_enum(struct ctl *ctl, int argc, char **argv)
{
	bool all = false;
	const struct ctl_flag flags[] = {
		{ "all", 'a', &all },
	};
	char domain[SC_DNS_MAXTEXT];
	struct sc_enum_result *res;
	struct sc_core *core;
	int status, i, j, r;
	unsigned k;

	i = ctl_parse(ctl, argc, argv, flags, SC_ARRAY_SIZE(flags), 1, 1 + 8, &status);
	if (i < 0) {
		return status;
	}
	if (sc_enum_domain(argv[i], "e164.arpa", domain, sizeof(domain), NULL) < 0) {
		return ctl_usage(ctl, "'%s' is not an E.164 number: expected +DIGITS (1 to 15 "
				 "digits; blanks, '-', '.', '(' and ')' allowed)", argv[i]);
	}
	for (j = i + 1; j < argc; j++) {
		unsigned char wire[SC_DNS_MAXNAME];

		if (ctl_name_parse(argv[j], wire) < 0) {
			return ctl_usage(ctl, "'%s' is not a domain name (an ENUM suffix)", argv[j]);
		}
	}
	status = ctl_core(ctl, &core);
	if (status != CTL_OK) {
		return status;
	}
	res = malloc(sizeof(*res));
	if (res == NULL) {
		ctl_err(ctl, "out of memory");
		return CTL_UNUSABLE;
	}
	r = sc_sip_enum(core, argv[i], argc - i > 1 ? (const char *const *)argv + i + 1 : NULL,
			(unsigned)(argc - i - 1), NULL, all ? SC_ENUM_ALL : 0, res);
	if (r == -EINVAL) {
		free(res);
		return ctl_usage(ctl, "'%s' is not an E.164 number", argv[i]);
	}
	if (r < 0) {
		free(res);
		return no_result(ctl, argv[i], r);
	}
	/* ORDER PREF SERVICE URI, then where the rule was found. */
	for (k = 0; k < res->n; k++) {
		const struct sc_enum_entry *e = &res->e[k];

		printf("%u %u %s %s\n    %s NAPTR\n", e->order, e->pref, e->service, e->uri,
		       e->domain);
	}
	if (res->truncated) {
		printf(";; more than %d rules: the rest is not shown\n", SC_ENUM_MAX);
	}
	free(res);
	return CTL_OK;
}

/* ------------------------------------------------------------------ */
/* serves                                                              */

int ctl_cmd_serves(struct ctl *ctl, int argc, char **argv)
{
	bool quiet = false;
	const struct ctl_flag flags[] = {
		{ "quiet", 'q', &quiet },
	};
	unsigned char wire[SC_DNS_MAXNAME];
	struct sc_sip_result *res;
	struct sc_core *core;
	int status, i, r;

	i = ctl_parse(ctl, argc, argv, flags, SC_ARRAY_SIZE(flags), 1, 1, &status);
	if (i < 0) {
		return status;
	}
	if (ctl_name_parse(argv[i], wire) < 0) {
		return ctl_usage(ctl, "'%s' is not a domain name", argv[i]);
	}
	status = ctl_core(ctl, &core);
	if (status != CTL_OK) {
		return status;
	}
	res = malloc(sizeof(*res));
	if (res == NULL) {
		ctl_err(ctl, "out of memory");
		return CTL_UNUSABLE;
	}
	r = sc_sip_serves(core, argv[i], NULL, res);
	if (r == -EINVAL) {
		free(res);
		return ctl_usage(ctl, "'%s' is not a domain name", argv[i]);
	}
	if (r < 0) {
		free(res);
		/* No answer is no "no": say so, and exit as for no. */
		return no_result(ctl, argv[i], r);
	}
	if (!quiet) {
		printf("%s: %s\n", argv[i], r ? "yes: its SIP service points at this host"
					    : "no: none of its SIP targets is this host");
		print_targets(res, false, false);
	}
	free(res);
	return r ? CTL_OK : CTL_FALSE;
}

/* ------------------------------------------------------------------ */
/* down, up                                                            */

static int marks_failed(const struct ctl *ctl, const char *target, int r)
{
	switch (r) {
	case -ENOSPC:
		ctl_err(ctl, "%s: the set of marks is full (%d): remove some with 'sipcachectl "
			"up'", target, SC_MARKS_MAX);
		return CTL_UNUSABLE;
	case -EBUSY:
		ctl_err(ctl, "%s: another process is changing the marks: try again", target);
		return CTL_UNUSABLE;
	default:
		return ctl_cache_failed(ctl, ctl->conf.cache_file, r);
	}
}

static void print_marks(const struct sc_marks *ms, int64_t now)
{
	char text[SC_DNS_MAXTEXT + 16], when[64];
	unsigned i;

	for (i = 0; i < ms->n; i++) {
		time_t t = (time_t)ms->m[i].expires;
		struct tm tm;

		if (sc_mark_format(&ms->m[i], text, sizeof(text)) < 0) {
			snprintf(text, sizeof(text), "?");
		}
		if (localtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0) {
			snprintf(when, sizeof(when), "%lld", (long long)ms->m[i].expires);
		}
		printf("%s down until %s (%lld s left)\n", text, when,
		       (long long)(ms->m[i].expires - now));
	}
}

int ctl_cmd_down(struct ctl *ctl, int argc, char **argv)
{
	unsigned long seconds = SC_MARKS_DEFAULT_SECONDS;
	struct sc_marks ms;
	struct sc_mark m;
	struct sc_cache *c;
	int64_t now;
	int status, i, r;

	i = ctl_parse(ctl, argc, argv, NULL, 0, 0, 2, &status);
	if (i < 0) {
		return status;
	}
	if (argc - i >= 1 && sc_mark_parse(argv[i], &m) < 0) {
		return ctl_usage(ctl, "'%s' is not a target: expected HOST, HOST:PORT, an "
				 "address, ADDRESS:PORT or [IPv6]:PORT", argv[i]);
	}
	if (argc - i == 2 && parse_seconds(argv[i + 1], &seconds) < 0) {
		return ctl_usage(ctl, "'%s' is not a duration: expected seconds, or a number "
				 "with s, m, h or d (90, 15m, 2h), at most %d days", argv[i + 1],
				 SC_MARKS_MAX_SECONDS / 86400);
	}
	status = ctl_load_conf(ctl);
	if (status != CTL_OK) {
		return status;
	}
	r = ctl_cache_open(ctl, &c);
	if (r == -ENOENT && argc == i) {
		return CTL_OK;   /* no cache: no marks to list */
	}
	if (r < 0) {
		return ctl_cache_failed(ctl, ctl->conf.cache_file, r);
	}
	now = sc_now();
	if (argc == i) {
		/* Without a target: the marks alive now. */
		r = sc_marks_list(c, now, &ms);
		if (r == 0) {
			print_marks(&ms, now);
		}
	} else {
		r = sc_marks_down(c, argv[i], (uint32_t)seconds, now);
		if (r == 0) {
			char text[SC_DNS_MAXTEXT + 16];

			if (sc_mark_format(&m, text, sizeof(text)) < 0) {
				snprintf(text, sizeof(text), "%s", argv[i]);
			}
			printf("marked %s down for %lu s, in every process\n", text, seconds);
		}
	}
	sc_cache_close(c);
	return r < 0 ? marks_failed(ctl, argc > i ? argv[i] : "marks", r) : CTL_OK;
}

int ctl_cmd_up(struct ctl *ctl, int argc, char **argv)
{
	bool all = false;
	const struct ctl_flag flags[] = {
		{ "all", 'a', &all },
	};
	struct sc_mark m;
	struct sc_cache *c;
	int status, i, r;

	i = ctl_parse(ctl, argc, argv, flags, SC_ARRAY_SIZE(flags), 0, 1, &status);
	if (i < 0) {
		return status;
	}
	if (all != (argc == i)) {
		return ctl_usage(ctl, all ? "--all takes no target" : "missing argument: up TARGET");
	}
	if (!all && sc_mark_parse(argv[i], &m) < 0) {
		return ctl_usage(ctl, "'%s' is not a target: expected HOST, HOST:PORT, an "
				 "address, ADDRESS:PORT or [IPv6]:PORT", argv[i]);
	}
	status = ctl_load_conf(ctl);
	if (status != CTL_OK) {
		return status;
	}
	r = ctl_cache_open(ctl, &c);
	if (r == -ENOENT) {
		r = all ? 0 : -ENOENT;   /* no cache: nothing is marked */
		c = NULL;
	} else if (r < 0) {
		return ctl_cache_failed(ctl, ctl->conf.cache_file, r);
	} else {
		r = sc_marks_up(c, all ? NULL : argv[i], sc_now());
		sc_cache_close(c);
	}
	if (r == -ENOENT) {
		if (all) {
			printf("no target was marked down\n");
			return CTL_OK;
		}
		ctl_err(ctl, "%s is not marked down", argv[i]);
		return CTL_FALSE;
	}
	if (r < 0) {
		return marks_failed(ctl, all ? "marks" : argv[i], r);
	}
	if (all) {
		printf("removed every mark\n");
	} else {
		printf("%s is up again, in every process\n", argv[i]);
	}
	return CTL_OK;
}

/*
 * ctl_get.c - `sipcachectl get NAME [TYPE]': one question through the
 * core, exactly as res_query() asks it in any process using sipcache
 * (hosts file, cache, upstream through libc's libresolv, store), printed
 * the way dig prints an answer.
 *
 * Where the answer came from is told by looking before and after: the
 * hosts file (when it comes first and answers A/AAAA), a fresh entry in
 * the cache before the question (a hit), otherwise upstream, and then
 * whether the answer is now stored, or whether an expired entry was
 * served because upstream failed.  The core itself does not report its
 * path (that would cost the hit path of every process), and these looks
 * are what an operator would do by hand with dump.  They can only be
 * wrong about an entry that expires or is replaced by another process in
 * the microseconds between them.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define ANSWER_SIZE 65536

enum source {
	FROM_HOSTS,
	FROM_CACHE,
	FROM_UPSTREAM,
};

struct hosts_probe {
	int family;
	bool found;
};

static int hosts_probe_fn(const struct sc_hosts_result *res, void *priv)
{
	struct hosts_probe *p = priv;
	unsigned i;

	for (i = 0; i < res->naddr; i++) {
		p->found |= res->addr[i].family == p->family;
	}
	return 0;
}

/* Would the core answer this from the hosts file before the cache? */
static bool answered_by_hosts(struct sc_core *core, const unsigned char *qname, uint16_t type)
{
	struct hosts_probe p = { .family = type == SC_T_A ? AF_INET : AF_INET6 };
	char name[SC_DNS_MAXTEXT];

	if (sc_core_hosts_order(core) != SC_HOSTS_FILES_FIRST ||
	    !sc_core_conf(core)->hosts_in_res_query || (type != SC_T_A && type != SC_T_AAAA) ||
	    sc_dns_name_to_text(qname, name, sizeof(name)) < 0) {
		return false;
	}
	sc_core_hosts_lookup(core, name, p.family, sc_core_hosts_multi(core), hosts_probe_fn, &p);
	return p.found;
}

/* Look at the entry without serving anything (copies nothing). */
static bool peek(struct sc_core *core, const struct sc_key *k, uint32_t max_stale,
		 struct sc_hit *ret)
{
	unsigned char none[1];

	return sc_cache_get(sc_core_cache(core), k, sc_now(), max_stale, 0, NULL, none, 0,
			    ret) == 0;
}

static const char *herrno_text(int herrno)
{
	switch (herrno) {
	case HOST_NOT_FOUND:
		return "HOST_NOT_FOUND";
	case TRY_AGAIN:
		return "TRY_AGAIN";
	case NO_RECOVERY:
		return "NO_RECOVERY";
	case NO_DATA:
		return "NO_DATA";
	default:
		return "NETDB_INTERNAL";
	}
}

static const char *rcode_text(unsigned rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
	};

	return rcode < SC_ARRAY_SIZE(names) ? names[rcode] : "RCODE?";
}

static void print_flags(uint16_t flags)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} bits[] = {
		{ SC_DNS_QR, "qr" }, { SC_DNS_AA, "aa" }, { SC_DNS_TC, "tc" },
		{ SC_DNS_RD, "rd" }, { SC_DNS_RA, "ra" }, { 0x0020, "ad" }, { 0x0010, "cd" },
	};
	const char *sep = "";
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(bits); i++) {
		if (flags & bits[i].bit) {
			printf("%s%s", sep, bits[i].name);
			sep = " ";
		}
	}
}

static void print_message(const struct sc_msg *m, bool short_form)
{
	static const char *const titles[] = { "ANSWER", "AUTHORITY", "ADDITIONAL" };
	unsigned i, sec;

	if (short_form) {
		for (i = 0; i < m->nrr; i++) {
			if (m->rr[i].section == SC_SEC_AN) {
				ctl_rr_print(stdout, m, &m->rr[i], true);
			}
		}
		return;
	}
	printf(";; ->>HEADER<<- opcode: QUERY, status: %s, id: %u\n",
	       rcode_text(SC_DNS_RCODE(m->flags)), m->id);
	printf(";; flags: ");
	print_flags(m->flags);
	printf("; QUERY: %u, ANSWER: %u, AUTHORITY: %u, ADDITIONAL: %u\n", m->qdcount,
	       m->ancount, m->nscount, m->arcount);
	for (sec = SC_SEC_AN; sec <= SC_SEC_AR; sec++) {
		bool title = false;

		for (i = 0; i < m->nrr; i++) {
			/* OPT is no record but EDNS signalling (dig shows it
			 * as a pseudosection; it says nothing here). */
			if (m->rr[i].section != sec || m->rr[i].type == SC_T_OPT) {
				continue;
			}
			if (!title) {
				printf("\n;; %s SECTION:\n", titles[sec]);
				title = true;
			}
			ctl_rr_print(stdout, m, &m->rr[i], false);
		}
	}
}

static void print_source(enum source src, const struct sc_hit *before, bool stale_served,
			 bool stored, const struct sc_hit *after, const struct sc_conf *conf)
{
	switch (src) {
	case FROM_HOSTS:
		printf(";; SOURCE: hosts file %s (TTL 0)\n", conf->hosts_file);
		break;
	case FROM_CACHE:
		printf(";; SOURCE: cache%s, %u s left\n",
		       before->flags & SC_ENTRY_NEGATIVE ? " (negative answer)" : "",
		       before->remaining);
		break;
	case FROM_UPSTREAM:
		if (stale_served) {
			printf(";; SOURCE: cache, stale: upstream failed, the expired answer is "
			       "served with TTLs of at most %d s (serve_stale)\n", SC_STALE_TTL);
		} else if (stored) {
			printf(";; SOURCE: upstream, stored in the cache for %u s\n",
			       after->remaining);
		} else {
			printf(";; SOURCE: upstream, not stored (a failure, a TTL of 0, or an "
			       "answer sipcache never caches)\n");
		}
		break;
	}
}

int ctl_cmd_get(struct ctl *ctl, int argc, char **argv)
{
	bool short_form = false;
	const struct ctl_flag flags[] = {
		{ "short", 's', &short_form },
	};
	char name[SC_DNS_MAXTEXT + 1], tb[CTL_TYPE_NAMELEN];
	unsigned char qname[SC_DNS_MAXNAME];
	struct sc_hit before = { .len = 0 }, after = { .len = 0 };
	unsigned char *answer = NULL;
	struct sc_msg *m = NULL;
	bool stale_served = false, stored = false;
	struct sc_query q;
	struct sc_core *core;
	enum source src;
	struct sc_key k;
	uint16_t type = SC_T_A;
	int status, i, n, len, herrno = 0;

	i = ctl_parse(ctl, argc, argv, flags, SC_ARRAY_SIZE(flags), 1, 2, &status);
	if (i < 0) {
		return status;
	}
	if (ctl_name_parse(argv[i], qname) < 0 || ctl_name_text(qname, name, sizeof(name)) < 0) {
		return ctl_usage(ctl, "'%s' is not a domain name", argv[i]);
	}
	if (argc - i == 2 && ctl_type_parse(argv[i + 1], &type) < 0) {
		return ctl_usage(ctl, "'%s' is not a record type (A, AAAA, SRV, NAPTR, ..., "
				 "TYPEnnn)", argv[i + 1]);
	}
	if (type == 255) {
		return ctl_usage(ctl, "ANY is not a question sipcache answers (RFC 8482)");
	}
	status = ctl_core(ctl, &core);
	if (status != CTL_OK) {
		return status;
	}
	if (sc_key_make(&k, qname, type, SC_C_IN) < 0) {
		return ctl_usage(ctl, "'%s' is not a domain name", argv[i]);
	}

	if (answered_by_hosts(core, qname, type)) {
		src = FROM_HOSTS;
	} else if (peek(core, &k, 0, &before)) {
		src = FROM_CACHE;
	} else {
		src = FROM_UPSTREAM;
	}
	answer = calloc(1, ANSWER_SIZE);
	m = malloc(sizeof(*m));
	if (answer == NULL || m == NULL) {
		ctl_err(ctl, "out of memory");
		status = CTL_UNUSABLE;
		goto out;
	}
	/* As the res_* front end asks: the hosts file may answer A/AAAA. */
	q = (struct sc_query){
		.name = argv[i], .class = SC_C_IN, .type = type, .answer = answer,
		.anslen = ANSWER_SIZE, .statp = NULL, .hosts = true,
	};
	n = sc_core_query(core, &q, &herrno);
	if (src == FROM_UPSTREAM) {
		stored = peek(core, &k, 0, &after);
		/* Served stale: upstream failed, yet an answer came, from an
		 * entry past its lifetime. */
		stale_served = !stored && n >= 0 && ctl->conf.serve_stale > 0 &&
			       peek(core, &k, ctl->conf.serve_stale, &after) && after.stale;
	}

	/* A negative answer comes back as -1 with the response in the
	 * buffer, as libresolv gives it; a failure leaves it untouched. */
	len = n >= 0 ? (n < ANSWER_SIZE ? n : ANSWER_SIZE) : -1;
	if (len < 0 && (answer[2] & (SC_DNS_QR >> 8))) {
		len = ctl_message_length(answer, ANSWER_SIZE);
	}
	if (!short_form) {
		printf("; <<>> sipcachectl %s <<>> %s %s\n", SC_VERSION, name,
		       ctl_type_name(type, tb));
		print_source(src, &before, stale_served, stored, &after, &ctl->conf);
	}
	if (len >= SC_DNS_HDRLEN && sc_dns_parse(answer, (size_t)len, m) == 0) {
		print_message(m, short_form);
	} else if (!short_form) {
		printf(";; no response: %s (the upstream resolver did not answer, or refused)\n",
		       herrno_text(herrno));
	}
	if (n < 0) {
		if (short_form) {
			ctl_err(ctl, "%s %s: %s", name, ctl_type_name(type, tb), herrno_text(herrno));
		}
		status = CTL_FALSE;
		goto out;
	}
	status = CTL_OK;
out:
	free(answer);
	free(m);
	return status;
}

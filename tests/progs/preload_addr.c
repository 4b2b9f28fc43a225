/*
 * preload_addr - call one address-lookup entry point per question and
 * print all a caller can see, as stable text, so that a run under the
 * preload can be compared with a run without it
 * (tests/integration/test_preload_addr.sh).
 *
 *   preload_addr CALL ARGS... [-- CALL ARGS...]...
 *
 *   gai NODE SERVICE FAMILY SOCKTYPE PROTOCOL FLAGS
 *        getaddrinfo; `-' for a NULL node or service, or for no hints at
 *        all in FAMILY; FAMILY unspec|inet|inet6|NUMBER; SOCKTYPE
 *        0|stream|dgram|raw|NUMBER; PROTOCOL a number; FLAGS `0' or a
 *        comma list of canonname, numerichost, addrconfig, v4mapped,
 *        all, passive, numericserv, idn, or a number
 *   ghbn NAME                   gethostbyname
 *   ghbn2 NAME FAMILY           gethostbyname2
 *   ghbnr NAME START            gethostbyname_r, buffer START, START+1...
 *   ghbn2r NAME FAMILY START    gethostbyname2_r, the same
 *   ghba ADDR                   gethostbyaddr (ADDR textual, v4 or v6)
 *   ghbar ADDR START            gethostbyaddr_r, buffer from START up
 *
 * Before each call errno and h_errno are poisoned.  The _r calls are
 * made with buffers of START, START+1, ... bytes (each the tail of a
 * 16-aligned allocation poisoned around it) until the answer is not
 * ERANGE; the output gives the smallest size that worked, what the
 * ERANGE calls returned, and whether any call wrote outside its buffer.
 * A hostent is printed whole: name, aliases, type, length, addresses;
 * an addrinfo list entry by entry.  Exit status 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define POISON_ERRNO 1234
#define POISON_HERRNO 777
#define GUARD 64
#define MAXBUF 65536

static const char *family_name(int f)
{
	static char buf[16];

	switch (f) {
	case AF_INET:
		return "inet";
	case AF_INET6:
		return "inet6";
	case AF_UNSPEC:
		return "unspec";
	}
	snprintf(buf, sizeof(buf), "%d", f);
	return buf;
}

static int parse_family(const char *s)
{
	if (strcmp(s, "unspec") == 0) {
		return AF_UNSPEC;
	}
	if (strcmp(s, "inet") == 0) {
		return AF_INET;
	}
	if (strcmp(s, "inet6") == 0) {
		return AF_INET6;
	}
	return atoi(s);
}

static int parse_socktype(const char *s)
{
	if (strcmp(s, "stream") == 0) {
		return SOCK_STREAM;
	}
	if (strcmp(s, "dgram") == 0) {
		return SOCK_DGRAM;
	}
	if (strcmp(s, "raw") == 0) {
		return SOCK_RAW;
	}
	return atoi(s);
}

static int parse_flags(const char *s)
{
	static const struct {
		const char *name;
		int flag;
	} names[] = {
		{ "canonname", AI_CANONNAME }, { "numerichost", AI_NUMERICHOST },
		{ "addrconfig", AI_ADDRCONFIG }, { "v4mapped", AI_V4MAPPED },
		{ "all", AI_ALL }, { "passive", AI_PASSIVE },
		{ "numericserv", AI_NUMERICSERV }, { "idn", AI_IDN },
	};
	char buf[256], *tok, *save = NULL;
	int flags = 0;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (strcmp(tok, names[i].name) == 0) {
				flags |= names[i].flag;
				break;
			}
		}
		if (i == sizeof(names) / sizeof(names[0])) {
			flags |= atoi(tok);
		}
	}
	return flags;
}

static void print_hostent(const struct hostent *h)
{
	char a[INET6_ADDRSTRLEN];
	int i;

	printf(" h_name %s\n", h->h_name ? h->h_name : "(null)");
	for (i = 0; h->h_aliases && h->h_aliases[i]; i++) {
		printf(" h_alias %s\n", h->h_aliases[i]);
	}
	printf(" h_addrtype %s h_length %d\n", family_name(h->h_addrtype), h->h_length);
	for (i = 0; h->h_addr_list && h->h_addr_list[i]; i++) {
		if (h->h_length == 4 || h->h_length == 16) {
			inet_ntop(h->h_length == 4 ? AF_INET : AF_INET6, h->h_addr_list[i], a,
				  sizeof(a));
		} else {
			snprintf(a, sizeof(a), "(length %d)", h->h_length);
		}
		printf(" h_addr %s\n", a);
	}
}

static void print_ai(const struct addrinfo *ai)
{
	char host[INET6_ADDRSTRLEN];
	int port = -1;

	for (; ai; ai = ai->ai_next) {
		host[0] = '\0';
		if (ai->ai_family == AF_INET && ai->ai_addrlen == sizeof(struct sockaddr_in)) {
			const struct sockaddr_in *s = (const void *)ai->ai_addr;

			inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
			port = ntohs(s->sin_port);
		} else if (ai->ai_family == AF_INET6 &&
			   ai->ai_addrlen == sizeof(struct sockaddr_in6)) {
			const struct sockaddr_in6 *s = (const void *)ai->ai_addr;

			inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
			port = ntohs(s->sin6_port);
			if (s->sin6_scope_id || s->sin6_flowinfo) {
				printf(" scope %u flow %u\n", s->sin6_scope_id, s->sin6_flowinfo);
			}
		}
		printf(" ai flags %d family %s socktype %d protocol %d addrlen %u addr %s port %d"
		       " canonname %s\n", ai->ai_flags, family_name(ai->ai_family),
		       ai->ai_socktype, ai->ai_protocol, (unsigned)ai->ai_addrlen, host, port,
		       ai->ai_canonname ? ai->ai_canonname : "(null)");
	}
}

static const char *dash(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

static int parse_addr(const char *text, unsigned char *out, int *ret_family)
{
	if (inet_pton(AF_INET, text, out) == 1) {
		*ret_family = AF_INET;
		return 4;
	}
	if (inet_pton(AF_INET6, text, out) == 1) {
		*ret_family = AF_INET6;
		return 16;
	}
	fprintf(stderr, "preload_addr: bad address %s\n", text);
	exit(2);
}

enum rcall { R_BYNAME, R_BYNAME2, R_BYADDR };

/* One _r call with a buffer of `len' bytes placed at the end of a
 * poisoned region; *ret_smashed when a byte outside it changed. */
static int call_r(enum rcall c, const char *name, int af, const unsigned char *addr, int alen,
		  unsigned char *region, size_t len, struct hostent *he, struct hostent **res,
		  int *herr, int *ret_smashed)
{
	char *buf = (char *)region + GUARD;
	size_t i;
	int r;

	memset(region, 0x5a, GUARD + len + GUARD);
	errno = POISON_ERRNO;
	h_errno = POISON_HERRNO;
	*herr = POISON_HERRNO;
	*res = (struct hostent *)(uintptr_t)1;
	switch (c) {
	case R_BYNAME:
		r = gethostbyname_r(name, he, buf, len, res, herr);
		break;
	case R_BYNAME2:
		r = gethostbyname2_r(name, af, he, buf, len, res, herr);
		break;
	default:
		r = gethostbyaddr_r(addr, (socklen_t)alen, af, he, buf, len, res, herr);
		break;
	}
	*ret_smashed = 0;
	for (i = 0; i < GUARD; i++) {
		if (region[i] != 0x5a || region[GUARD + len + i] != 0x5a) {
			*ret_smashed = 1;
		}
	}
	return r;
}

static void run_r(enum rcall c, const char *label, const char *name, int af,
		  const unsigned char *addr, int alen, size_t start)
{
	static unsigned char region[GUARD + MAXBUF + GUARD] __attribute__((aligned(16)));
	struct hostent he, *res;
	int r, e, herr, smashed, any_smashed = 0, first_erange = 1;
	size_t len;

	for (len = start; len <= MAXBUF; len++) {
		r = call_r(c, name, af, addr, alen, region, len, &he, &res, &herr, &smashed);
		e = errno;
		any_smashed |= smashed;
		if (r == ERANGE) {
			if (first_erange) {
				printf("%s: ERANGE from %zu: ret %d errno %d h_errno %d result %s\n",
				       label, len, r, e, herr, res ? "set" : "NULL");
				first_erange = 0;
			}
			continue;
		}
		printf("%s: buflen %zu: ret %d errno %d h_errno %d result %s%s\n", label, len,
		       r, e, herr, res == NULL ? "NULL" : res == &he ? "ok" : "other",
		       any_smashed ? " SMASHED" : "");
		if (res == &he) {
			print_hostent(&he);
		}
		return;
	}
	printf("%s: ERANGE up to %d\n", label, MAXBUF);
}

int main(int argc, char **argv)
{
	int i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (i < argc) {
		const char *call = argv[i];
		int e, he;

		if (strcmp(call, "--") == 0) {
			i++;
			continue;
		}
		if (strcmp(call, "gai") == 0 && i + 6 < argc) {
			struct addrinfo hints, *res = NULL;
			const char *fam = argv[i + 3];
			int r;

			memset(&hints, 0, sizeof(hints));
			hints.ai_family = parse_family(fam);
			hints.ai_socktype = parse_socktype(argv[i + 4]);
			hints.ai_protocol = atoi(argv[i + 5]);
			hints.ai_flags = parse_flags(argv[i + 6]);
			errno = POISON_ERRNO;
			h_errno = POISON_HERRNO;
			r = getaddrinfo(dash(argv[i + 1]), dash(argv[i + 2]),
					strcmp(fam, "-") == 0 ? NULL : &hints, &res);
			e = errno;
			he = h_errno;
			printf("gai %s %s %s %s %s %s: ret %d (%s) errno %d h_errno %d\n",
			       argv[i + 1], argv[i + 2], fam, argv[i + 4], argv[i + 5], argv[i + 6],
			       r, gai_strerror(r), e, he);
			if (r == 0) {
				print_ai(res);
				freeaddrinfo(res);
			}
			i += 7;
		} else if (strcmp(call, "ghbn") == 0 && i + 1 < argc) {
			struct hostent *h;

			errno = POISON_ERRNO;
			h_errno = POISON_HERRNO;
			h = gethostbyname(argv[i + 1]);
			e = errno;
			he = h_errno;
			printf("ghbn %s: %s errno %d h_errno %d\n", argv[i + 1], h ? "found" : "NULL",
			       e, he);
			if (h) {
				print_hostent(h);
			}
			i += 2;
		} else if (strcmp(call, "ghbn2") == 0 && i + 2 < argc) {
			struct hostent *h;

			errno = POISON_ERRNO;
			h_errno = POISON_HERRNO;
			h = gethostbyname2(argv[i + 1], parse_family(argv[i + 2]));
			e = errno;
			he = h_errno;
			printf("ghbn2 %s %s: %s errno %d h_errno %d\n", argv[i + 1], argv[i + 2],
			       h ? "found" : "NULL", e, he);
			if (h) {
				print_hostent(h);
			}
			i += 3;
		} else if (strcmp(call, "ghbnr") == 0 && i + 2 < argc) {
			char label[512];

			snprintf(label, sizeof(label), "ghbnr %s", argv[i + 1]);
			run_r(R_BYNAME, label, argv[i + 1], AF_INET, NULL, 0,
			      (size_t)atol(argv[i + 2]));
			i += 3;
		} else if (strcmp(call, "ghbn2r") == 0 && i + 3 < argc) {
			char label[512];

			snprintf(label, sizeof(label), "ghbn2r %s %s", argv[i + 1], argv[i + 2]);
			run_r(R_BYNAME2, label, argv[i + 1], parse_family(argv[i + 2]), NULL, 0,
			      (size_t)atol(argv[i + 3]));
			i += 4;
		} else if (strcmp(call, "ghba") == 0 && i + 1 < argc) {
			unsigned char addr[16];
			struct hostent *h;
			int af, len = parse_addr(argv[i + 1], addr, &af);

			errno = POISON_ERRNO;
			h_errno = POISON_HERRNO;
			h = gethostbyaddr(addr, (socklen_t)len, af);
			e = errno;
			he = h_errno;
			printf("ghba %s: %s errno %d h_errno %d\n", argv[i + 1], h ? "found" : "NULL",
			       e, he);
			if (h) {
				print_hostent(h);
			}
			i += 2;
		} else if (strcmp(call, "ghbar") == 0 && i + 2 < argc) {
			unsigned char addr[16];
			char label[512];
			int af, len = parse_addr(argv[i + 1], addr, &af);

			snprintf(label, sizeof(label), "ghbar %s", argv[i + 1]);
			run_r(R_BYADDR, label, NULL, af, addr, len, (size_t)atol(argv[i + 2]));
			i += 3;
		} else {
			fprintf(stderr, "preload_addr: bad call at %s\n", call);
			return 2;
		}
	}
	return 0;
}

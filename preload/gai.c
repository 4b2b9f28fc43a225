/*
 * gai.c - getaddrinfo() the way glibc 2.36 answers it, from the core's
 * address lookups (shim/sc_addr.c).
 *
 * glibc's getaddrinfo (sysdeps/posix/getaddrinfo.c) is a pipeline; each
 * stage is reproduced here, or borrowed from glibc itself:
 *
 *   1. hints: flags, family; AI_ADDRCONFIG narrows AF_UNSPEC to the
 *      family the host has non-loopback addresses of, or fails at once
 *      (the interface list comes from netlink, as in check_pf.c);
 *   2. the service and the socket types (get_servtuples): borrowed.  The
 *      real getaddrinfo is asked for the numeric address 0.0.0.0 with the
 *      caller's service, socket type and protocol; its list says which
 *      (socktype, protocol, port) tuples each address gets, in glibc's
 *      order, and its errors (EAI_SERVICE, EAI_SOCKTYPE...) are glibc's.
 *      For a NULL or numeric service the tuples follow from the hints
 *      alone, so each thread remembers the last few (a named service is
 *      read from /etc/services through NSS, which may change: asked each
 *      time);
 *   3. the addresses, through the NSS function glibc would call for these
 *      hints: gethostbyname2_r for AF_INET without AI_CANONNAME,
 *      gethostbyname4_r (A and AAAA together) for AF_UNSPEC,
 *      gethostbyname3_r per family otherwise, with the AI_V4MAPPED and
 *      AI_ALL rules.  The core answers each as nss_files + nss_dns would;
 *      the error codes, errno and h_errno follow from the NSS statuses the
 *      way get_nss_addresses() and try_simple_gethostbyname() turn them
 *      into EAI_* (measured against glibc in test_preload_addr.sh);
 *   4. the list: one entry per address and tuple, each allocated as glibc
 *      allocates it (one block holding the addrinfo and its sockaddr, the
 *      canonical name apart), so that either freeaddrinfo frees it;
 *   5. with more than one address, the RFC 3484/6724 sort (rfc3484_sort):
 *      the source address the kernel would pick for each destination (a
 *      UDP connect, as glibc does), the interface flags and prefix lengths
 *      from netlink, the default label, precedence and scope tables, and
 *      glibc's merge sort, so that even ties come out in glibc's order.
 *
 * What goes to libc instead (it answers as always, uncached): numeric
 * hosts and a NULL host (nothing to resolve), AI_NUMERICHOST, AI_IDN for
 * a name that is not ASCII and AI_CANONIDN for a canonical name with
 * A-labels or capitals (libidn2 would convert them; ASCII names pass
 * through glibc's IDN code unchanged, getent sets both flags), families
 * other than AF_INET, AF_INET6 and AF_UNSPEC,
 * unknown flags, an /etc/gai.conf with any directive (its tables would
 * change the sort), answers from the hosts file (nss_files answers them
 * without network), and whatever addr.c's gate sends to libc (see there).
 *
 * The sort needs what glibc's needs: the kernel's source address for
 * each distinct destination (a UDP connect) and the interface list (a
 * netlink dump, also behind AI_ADDRCONFIG).  glibc asks on every call;
 * here each thread keeps both for at most a second (struct sort_cache),
 * so a repeated lookup makes no syscall, and a change of the host's
 * addresses or routes is seen up to a second late (docs/preload.md).
 * Answers with one address skip the sort, as in glibc.
 *
 * Nothing is allocated per call but the list handed to the caller: the
 * addresses found, the remembered tuples and the sort's knowledge live in
 * a per-thread area (struct gai_thread, freed when the thread exits).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"

#define GLIBC_GAICONF "/etc/gai.conf"

/* glibc accepts and ignores the old IDN flags. */
#define DEPRECATED_AI_IDN 0x0300
/* Flags handled here; anything else goes to libc. */
#define HANDLED_FLAGS (AI_PASSIVE | AI_CANONNAME | AI_ADDRCONFIG | AI_V4MAPPED | AI_ALL | \
		       AI_NUMERICSERV | AI_IDN | AI_CANONIDN | DEPRECATED_AI_IDN)

/* ------------------------------------------------------------------ */
/* gai.conf                                                            */

static pthread_once_t gaiconf_once = PTHREAD_ONCE_INIT;
static bool gaiconf_custom;

/* glibc reads gai.conf once; any directive in it (label, precedence,
 * scopev4, reload) changes the sort, so then libc sorts. */
static void gaiconf_read(void)
{
	char line[1024];
	FILE *f = fopen(GLIBC_GAICONF, "rce");

	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " \t\r\n");

		if (*p != '\0' && *p != '#') {
			gaiconf_custom = true;
		}
	}
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* interfaces (check_pf.c)                                             */

/* One address of the host, as glibc's struct in6addrinfo. */
struct ifaddr6 {
	uint8_t flags;        /* IFA_DEPRECATED_OR_OPTIMISTIC / HOMEADDRESS */
	uint8_t prefixlen;
	uint32_t index;
	uint32_t addr[4];     /* IPv4 as ::ffff:a.b.c.d */
};
#define IF_DEPRECATED 1
#define IF_HOMEADDRESS 2

struct ifinfo {
	bool seen_ipv4, seen_ipv6;
	size_t n;
	struct ifaddr6 *list;   /* NULL unless a non-loopback IPv6 exists */
};

static int ifaddr_cmp(const void *a, const void *b)
{
	return memcmp(((const struct ifaddr6 *)a)->addr, ((const struct ifaddr6 *)b)->addr,
		      sizeof(((const struct ifaddr6 *)a)->addr));
}

/*
 * The RTM_GETADDR dump check_pf.c makes: seen_ipv4 for an IPv4 address
 * other than 127.0.0.1, seen_ipv6 for one other than ::1, and the list
 * kept (sorted) only when seen_ipv6.  On any failure, glibc assumes both
 * families and no list.
 */
static void ifinfo_get(struct ifinfo *ret)
{
	struct {
		struct nlmsghdr nlh;
		struct rtgenmsg g;
		char pad[3];
	} req;
	struct sockaddr_nl nl;
	socklen_t nllen = sizeof(nl);
	char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t cap = 0;
	bool done = false;
	uint32_t pid;
	int fd;

	memset(ret, 0, sizeof(*ret));
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		goto fail;
	}
	memset(&nl, 0, sizeof(nl));
	nl.nl_family = AF_NETLINK;
	if (bind(fd, (struct sockaddr *)&nl, sizeof(nl)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&nl, &nllen) != 0) {
		goto fail;
	}
	pid = nl.nl_pid;
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = RTM_GETADDR;
	req.nlh.nlmsg_flags = NLM_F_ROOT | NLM_F_MATCH | NLM_F_REQUEST;
	req.nlh.nlmsg_seq = (uint32_t)time(NULL);
	req.g.rtgen_family = AF_UNSPEC;
	memset(&nl, 0, sizeof(nl));
	nl.nl_family = AF_NETLINK;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0) {
		goto fail;
	}
	while (!done) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &nl, .msg_namelen = sizeof(nl), .msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t len = recvmsg(fd, &msg, 0);
		struct nlmsghdr *h;

		if (len < 0 || (msg.msg_flags & MSG_TRUNC)) {
			goto fail;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			struct ifaddrmsg *ifa;
			struct rtattr *rta;
			const void *local = NULL, *address = NULL;
			size_t alen;

			if (nl.nl_pid != 0 || h->nlmsg_pid != pid || h->nlmsg_seq != req.nlh.nlmsg_seq) {
				continue;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				continue;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				goto fail;
			}
			if (h->nlmsg_type != RTM_NEWADDR) {
				continue;
			}
			ifa = NLMSG_DATA(h);
			if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) {
				continue;
			}
			alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa));
			for (rta = IFA_RTA(ifa); RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
				if (rta->rta_type == IFA_LOCAL) {
					local = RTA_DATA(rta);
				} else if (rta->rta_type == IFA_ADDRESS) {
					address = RTA_DATA(rta);
					break;
				}
			}
			if (address == NULL) {
				address = local;
			}
			if (address != NULL) {
				if (ifa->ifa_family == AF_INET) {
					uint32_t a;

					memcpy(&a, address, 4);
					ret->seen_ipv4 |= a != htonl(INADDR_LOOPBACK);
				} else {
					ret->seen_ipv6 |= !IN6_IS_ADDR_LOOPBACK(
						(const struct in6_addr *)address);
				}
			}
			if (ret->n == cap) {
				struct ifaddr6 *nl6;

				cap = cap ? 2 * cap : 32;
				nl6 = realloc(ret->list, cap * sizeof(*nl6));
				if (nl6 == NULL) {
					goto fail;
				}
				ret->list = nl6;
			}
			{
				struct ifaddr6 *e = &ret->list[ret->n++];

				e->flags = ((ifa->ifa_flags & (IFA_F_DEPRECATED | IFA_F_OPTIMISTIC))
						    ? IF_DEPRECATED : 0) |
					   ((ifa->ifa_flags & IFA_F_HOMEADDRESS) ? IF_HOMEADDRESS : 0);
				e->prefixlen = ifa->ifa_prefixlen;
				e->index = ifa->ifa_index;
				if (address == NULL) {
					/* glibc copies from a NULL pointer here;
					 * the kernel always sends one of both. */
					memset(e->addr, 0, sizeof(e->addr));
				} else if (ifa->ifa_family == AF_INET) {
					e->addr[0] = 0;
					e->addr[1] = 0;
					e->addr[2] = htonl(0xffff);
					memcpy(&e->addr[3], address, 4);
				} else {
					memcpy(e->addr, address, sizeof(e->addr));
				}
			}
		}
	}
	close(fd);
	if (!ret->seen_ipv6) {
		free(ret->list);
		ret->list = NULL;
		ret->n = 0;
	} else {
		qsort(ret->list, ret->n, sizeof(*ret->list), ifaddr_cmp);
	}
	return;

fail:
	if (fd >= 0) {
		close(fd);
	}
	free(ret->list);
	memset(ret, 0, sizeof(*ret));
	ret->seen_ipv4 = true;   /* unknown: glibc assumes both */
	ret->seen_ipv6 = true;
}

/*
 * check_native.c: an interface is "native" unless it is a tunnel; one
 * that cannot be found (or an index not on the list) counts as not
 * native, glibc's default.
 */
static int if_native(uint32_t index)
{
	struct ifreq ifr;
	int fd, native = 0;

	if (index == 0xffffffffu) {
		return 0;
	}

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = (int)index;
	if (ioctl(fd, SIOCGIFNAME, &ifr) == 0 && ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) {
		int t = ifr.ifr_hwaddr.sa_family;

		native = t != ARPHRD_TUNNEL6 && t != ARPHRD_TUNNEL && t != ARPHRD_SIT;
	}
	close(fd);
	return native;
}

/* ------------------------------------------------------------------ */
/* the sort (rfc3484_sort with the default tables)                     */

struct sortres {
	struct addrinfo *dest;
	struct sockaddr_in6 src;   /* or a sockaddr_in */
	bool got_src;
	uint8_t flags;
	uint8_t prefixlen;
	uint32_t index;
	int native;
	/* What the rules look up, worked out once per entry rather than in
	 * every comparison (they depend on the two addresses alone), and
	 * kept with the source address (struct src_entry). */
	int dscope, sscope, dlabel, slabel, dprec;
	bool same_as_prev;          /* the previous entry's address */
	struct src_entry *cached;   /* valid while its stamp is `stamp' */
	unsigned stamp;
};

struct prefix {
	uint8_t p[16];
	unsigned bits;
	int val;
};

static const struct prefix labels[] = {
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128, 0 },
	{ { 0x20, 0x02 }, 16, 2 },
	{ { 0 }, 96, 3 },
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, 4 },
	{ { 0xfe, 0xc0 }, 10, 5 },
	{ { 0xfc, 0x00 }, 7, 6 },
	{ { 0x20, 0x01, 0, 0 }, 32, 7 },
	{ { 0 }, 0, 1 },
};

static const struct prefix precedences[] = {
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128, 50 },
	{ { 0x20, 0x02 }, 16, 30 },
	{ { 0 }, 96, 20 },
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, 10 },
	{ { 0 }, 0, 40 },
};

/* An address of either family as the 16 bytes glibc matches prefixes on
 * (IPv4 mapped). */
static void as_v6(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	}
}

static int match_prefix(const struct sockaddr *sa, const struct prefix *list, int dflt)
{
	uint8_t a[16];
	size_t i;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
		return dflt;
	}
	as_v6(sa, a);
	for (i = 0;; i++) {
		unsigned bits = list[i].bits, k = 0;

		while (bits >= 8 && list[i].p[k] == a[k]) {
			k++;
			bits -= 8;
		}
		if (bits < 8 && (list[i].p[k < 16 ? k : 15] & (0xff00 >> bits)) ==
				    (a[k < 16 ? k : 15] & (0xff00 >> bits))) {
			return list[i].val;
		}
	}
}

static int scope_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_MULTICAST(a)) {
			return a->s6_addr[1] & 0xf;
		}
		if (IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_LOOPBACK(a)) {
			return 2;
		}
		return IN6_IS_ADDR_SITELOCAL(a) ? 5 : 14;
	}
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);

		if ((a & 0xffff0000u) == 0xa9fe0000u || (a & 0xff000000u) == 0x7f000000u) {
			return 2;
		}
		return 14;
	}
	return 15;
}

/* glibc's fls(): leading zero bits, 32 for 0. */
static int lead0(uint32_t a)
{
	int n = 0;

	while (n < 32 && !(a & (0x80000000u >> n))) {
		n++;
	}
	return n;
}

/* The IPv4 netmask of rule 9, as glibc computes it on x86: a shift by 32
 * (prefixlen 0, when no list was kept) is a shift by 0. */
static uint32_t mask_of(unsigned prefixlen)
{
	return 0xffffffffu << ((32 - prefixlen) & 31);
}

struct sortctx {
	struct sortres *r;
	size_t n;
};

static int rule9(const struct sortres *a1, const struct sortres *a2)
{
	int b1 = 0, b2 = 0;

	if (a1->dest->ai_family == AF_INET) {
		const struct sockaddr_in *d1 = (const void *)a1->dest->ai_addr;
		const struct sockaddr_in *d2 = (const void *)a2->dest->ai_addr;
		const struct sockaddr_in *s1 = (const void *)&a1->src;
		const struct sockaddr_in *s2 = (const void *)&a2->src;
		uint32_t dd1 = ntohl(d1->sin_addr.s_addr), ss1 = ntohl(s1->sin_addr.s_addr);
		uint32_t dd2 = ntohl(d2->sin_addr.s_addr), ss2 = ntohl(s2->sin_addr.s_addr);
		uint32_t m1 = mask_of(a1->prefixlen), m2 = mask_of(a2->prefixlen);

		if ((ss1 & m1) == (dd1 & m1)) {
			b1 = lead0(dd1 ^ ss1);
		}
		if ((ss2 & m2) == (dd2 & m2)) {
			b2 = lead0(dd2 ^ ss2);
		}
	} else if (a1->dest->ai_family == AF_INET6) {
		const uint32_t *d1 = ((const struct sockaddr_in6 *)(const void *)a1->dest->ai_addr)
					     ->sin6_addr.s6_addr32;
		const uint32_t *d2 = ((const struct sockaddr_in6 *)(const void *)a2->dest->ai_addr)
					     ->sin6_addr.s6_addr32;
		const uint32_t *s1 = a1->src.sin6_addr.s6_addr32;
		const uint32_t *s2 = a2->src.sin6_addr.s6_addr32;
		int i;

		for (i = 0; i < 4; i++) {
			if (d1[i] != s1[i] || d2[i] != s2[i]) {
				break;
			}
		}
		if (i < 4) {
			b1 = lead0(ntohl(d1[i] ^ s1[i]));
			b2 = lead0(ntohl(d2[i] ^ s2[i]));
		}
	}
	return b1 > b2 ? -1 : b1 < b2 ? 1 : 0;
}

static int rfc6724_cmp(size_t i1, size_t i2, struct sortctx *c)
{
	struct sortres *a1 = &c->r[i1], *a2 = &c->r[i2];
	int ds1, ds2, v1, v2;

	/* Rule 1: avoid unusable destinations. */
	if (a1->got_src != a2->got_src) {
		return a1->got_src ? -1 : 1;
	}
	/* Rule 2: prefer matching scope. */
	ds1 = a1->dscope;
	ds2 = a2->dscope;
	if (a1->got_src) {
		v1 = ds1 == a1->sscope;
		v2 = ds2 == a2->sscope;
		if (v1 != v2) {
			return v1 ? -1 : 1;
		}
		/* Rule 3: avoid deprecated addresses. */
		v1 = a1->flags & IF_DEPRECATED;
		v2 = a2->flags & IF_DEPRECATED;
		if (!v1 != !v2) {
			return v1 ? 1 : -1;
		}
		/* Rule 4: prefer home addresses. */
		v1 = a1->flags & IF_HOMEADDRESS;
		v2 = a2->flags & IF_HOMEADDRESS;
		if (!v1 != !v2) {
			return v1 ? -1 : 1;
		}
		/* Rule 5: prefer matching label. */
		v1 = a1->dlabel == a1->slabel;
		v2 = a2->dlabel == a2->slabel;
		if (v1 != v2) {
			return v1 ? -1 : 1;
		}
	}
	/* Rule 6: prefer higher precedence. */
	v1 = a1->dprec;
	v2 = a2->dprec;
	if (v1 != v2) {
		return v1 > v2 ? -1 : 1;
	}
	/* Rule 7: prefer native transport (only across interfaces). */
	if (a1->got_src && a1->index != a2->index) {
		size_t i;

		if (a1->native == -1) {
			a1->native = if_native(a1->index);
			for (i = 0; i < c->n; i++) {
				if (c->r[i].index == a1->index) {
					c->r[i].native = a1->native;
				}
			}
		}
		if (a2->native == -1) {
			a2->native = if_native(a2->index);
			for (i = 0; i < c->n; i++) {
				if (c->r[i].index == a2->index) {
					c->r[i].native = a2->native;
				}
			}
		}
		if (a1->native != a2->native) {
			return a1->native ? -1 : 1;
		}
	}
	/* Rule 8: prefer smaller scope. */
	if (ds1 != ds2) {
		return ds1 < ds2 ? -1 : 1;
	}
	/* Rule 9: longest matching prefix, within one family. */
	if (a1->got_src && a1->dest->ai_family == a2->dest->ai_family) {
		v1 = rule9(a1, a2);
		if (v1 != 0) {
			return v1;
		}
	}
	/* Rule 10: keep the order the services gave. */
	return i1 < i2 ? -1 : 1;
}

/* glibc's qsort_r for small arrays: a top-down merge sort taking from the
 * left run on ties (msort.c), so the comparisons, and therefore the
 * result, are glibc's whatever the rules' quirks. */
static void merge_sort(size_t *b, size_t n, size_t *tmp, struct sortctx *c)
{
	size_t n1 = n / 2, n2 = n - n1, *b1 = b, *b2 = b + n1, *t = tmp;

	if (n <= 1) {
		return;
	}
	merge_sort(b1, n1, tmp, c);
	merge_sort(b2, n2, tmp, c);
	while (n1 > 0 && n2 > 0) {
		if (rfc6724_cmp(*b1, *b2, c) <= 0) {
			*t++ = *b1++;
			n1--;
		} else {
			*t++ = *b2++;
			n2--;
		}
	}
	if (n1 > 0) {
		memcpy(t, b1, n1 * sizeof(*b1));
	}
	memcpy(b, tmp, (n - n2) * sizeof(*b));
}

/*
 * What the sort learns from the kernel, kept per thread for at most
 * SORT_CACHE_MS: the interface list (the netlink dump) and the source
 * address chosen for a destination (a UDP connect).  glibc asks again on
 * every call; an address added to or removed from the host is seen here
 * up to a second later (docs/preload.md).  Kept in gai_thread (below).
 */
#define SORT_CACHE_MS 1000
#define SRC_CACHE 8

struct src_entry {
	int64_t at_ms;              /* sc_now_mono_ms() of the connect */
	bool used;
	int family;                 /* the destination */
	unsigned char addr[16];
	uint16_t port;
	int af_in, af_out;          /* the socket's family before and after */
	bool got_src;
	struct sockaddr_in6 src;    /* or a sockaddr_in */
	unsigned stamp;             /* changes when the slot is reused */
	/* The sort's lookups for this destination and its source (struct
	 * sortres), once the first sort that used the entry made them. */
	bool rules;
	int dscope, sscope, dlabel, slabel, dprec;
};

struct sort_cache {
	bool ifi_valid;
	int64_t ifi_at_ms;
	struct ifinfo ifi;          /* its list owned here */
	unsigned src_next;
	struct src_entry src[SRC_CACHE];
};

static bool cache_fresh(int64_t at_ms, int64_t now_ms)
{
	return now_ms >= at_ms && now_ms - at_ms < SORT_CACHE_MS;
}

/* The interface list: the thread's copy while fresh, else a new dump
 * (into `local' when there is no thread state). */
static const struct ifinfo *ifinfo_of(struct sort_cache *sc, struct ifinfo *local)
{
	int64_t now;

	if (sc == NULL) {
		ifinfo_get(local);
		return local;
	}
	now = sc_now_mono_ms();
	if (!sc->ifi_valid || !cache_fresh(sc->ifi_at_ms, now)) {
		free(sc->ifi.list);
		ifinfo_get(&sc->ifi);
		sc->ifi_at_ms = now;
		sc->ifi_valid = true;
	}
	return &sc->ifi;
}

static void dest_of(const struct addrinfo *q, unsigned char addr[16], uint16_t *port)
{
	memset(addr, 0, 16);
	if (q->ai_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)q->ai_addr;

		memcpy(addr, &s->sin6_addr, 16);
		*port = s->sin6_port;
	} else {
		const struct sockaddr_in *s = (const void *)q->ai_addr;

		memcpy(addr, &s->sin_addr, 4);
		*port = s->sin_port;
	}
}

static struct src_entry *src_find(struct sort_cache *sc, const struct addrinfo *q, int af,
				  int64_t now)
{
	unsigned char addr[16];
	uint16_t port;
	unsigned i;

	if (sc == NULL) {
		return NULL;
	}
	dest_of(q, addr, &port);
	for (i = 0; i < SRC_CACHE; i++) {
		struct src_entry *e = &sc->src[i];

		if (e->used && cache_fresh(e->at_ms, now) && e->family == q->ai_family &&
		    e->af_in == af && e->port == port && memcmp(e->addr, addr, 16) == 0) {
			return e;
		}
	}
	return NULL;
}

static struct src_entry *src_keep(struct sort_cache *sc, const struct addrinfo *q, int af_in,
				  int af_out, bool got_src, const struct sockaddr_in6 *src,
				  int64_t now)
{
	struct src_entry *e;

	if (sc == NULL) {
		return NULL;
	}
	e = &sc->src[sc->src_next++ % SRC_CACHE];
	e->stamp++;
	e->rules = false;
	e->used = true;
	e->at_ms = now;
	e->family = q->ai_family;
	dest_of(q, e->addr, &e->port);
	e->af_in = af_in;
	e->af_out = af_out;
	e->got_src = got_src;
	e->src = *src;
	return e;
}

/* glibc's try_connect(): the kernel's choice of source address. */
static bool source_of(int *fdp, int *afp, struct sockaddr_in6 *src, const struct addrinfo *q)
{
	socklen_t sl = sizeof(*src);

	for (;;) {
		if (*fdp != -1 && connect(*fdp, q->ai_addr, q->ai_addrlen) == 0 &&
		    getsockname(*fdp, (struct sockaddr *)src, &sl) == 0) {
			return true;
		}
		if (errno == EAFNOSUPPORT && *afp == AF_INET6 && q->ai_family == AF_INET) {
			if (*fdp != -1) {
				close(*fdp);
			}
			*afp = AF_INET;
			*fdp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_IP);
			continue;
		}
		return false;
	}
}

#define SORT_SMALL 16

/* Sort the list at *head (nresults entries, naddrs > 1) as glibc does. */
static int sort_list(struct addrinfo **head, size_t nresults, const struct ifinfo *ifi,
		     struct sort_cache *sc)
{
	int64_t now = sc_now_mono_ms();
	/* A few results (the usual case) sort on the stack, 1.3 KiB. */
	struct sortres r_small[SORT_SMALL];
	size_t order_small[2 * SORT_SMALL];
	bool small = nresults <= SORT_SMALL;
	struct sortres *r = small ? r_small : calloc(nresults, sizeof(*r));
	size_t *order = small ? order_small : calloc(2 * nresults, sizeof(*order));
	struct sortctx c = { r, nresults };
	struct addrinfo *q, *last = NULL;
	char *canon = NULL;
	int fd = -1, af = AF_UNSPEC, fd_af = AF_UNSPEC;
	bool have_sock = false;
	size_t i;

	if (r == NULL || order == NULL) {
		free(r);
		free(order);
		return -ENOMEM;
	}
	if (small) {
		memset(r, 0, nresults * sizeof(*r));
	}
	for (i = 0, q = *head; q; i++, last = q, q = q->ai_next) {
		r[i].dest = q;
		r[i].native = -1;
		order[i] = i;
		if (last && last->ai_addrlen == q->ai_addrlen &&
		    memcmp(last->ai_addr, q->ai_addr, q->ai_addrlen) == 0) {
			/* Same address, another protocol: same answer. */
			r[i].same_as_prev = true;
			r[i].src = r[i - 1].src;
			r[i].got_src = r[i - 1].got_src;
			r[i].flags = r[i - 1].flags;
			r[i].prefixlen = r[i - 1].prefixlen;
			r[i].index = r[i - 1].index;
		} else {
			struct src_entry *e;
			bool made;
			int af_in;

			r[i].index = 0xffffffffu;
			/* The socket glibc would use: a new one at first, after
			 * a socket() that failed, and when an IPv6 destination
			 * follows an IPv4 socket.  Only its family matters to
			 * the answer (the kernel routes each connect on its
			 * own), so a kept answer stands for the connect and a
			 * socket is made only when one is needed. */
			if (!have_sock || (af == AF_INET && q->ai_family == AF_INET6)) {
				af = q->ai_family;
				have_sock = true;
			}
			af_in = af;
			e = src_find(sc, q, af, now);
			if (e) {
				r[i].got_src = e->got_src;
				r[i].src = e->src;
				af = e->af_out;
			} else {
				if (fd != -1 && fd_af != af) {
					close(fd);
					fd = -1;
				}
				if (fd == -1) {
					fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_IP);
					fd_af = af;
				} else {
					struct sockaddr sa = { .sa_family = AF_UNSPEC };

					connect(fd, &sa, sizeof(sa));
				}
				made = fd != -1;
				r[i].got_src = source_of(&fd, &af, &r[i].src, q);
				fd_af = af;
				have_sock = fd != -1;
				/* Kept only when every socket could be made:
				 * that is what a kept answer stands for. */
				if (made && have_sock) {
					e = src_keep(sc, q, af_in, af, r[i].got_src, &r[i].src, now);
				}
			}
			if (e) {
				r[i].cached = e;
				r[i].stamp = e->stamp;
			}
			if (r[i].got_src) {
				if (ifi->list) {
					struct ifaddr6 key, *found;

					if (q->ai_family == AF_INET && af == AF_INET) {
						const struct sockaddr_in *s = (const void *)&r[i].src;

						key.addr[0] = 0;
						key.addr[1] = 0;
						key.addr[2] = htonl(0xffff);
						/* lo: the source may differ from
						 * the interface's address. */
						key.addr[3] = (ntohl(s->sin_addr.s_addr) & 0xff000000u) ==
								      0x7f000000u
								      ? htonl(0x7f000001)
								      : s->sin_addr.s_addr;
					} else {
						memcpy(key.addr, &r[i].src.sin6_addr, 16);
					}
					found = bsearch(&key, ifi->list, ifi->n, sizeof(*ifi->list),
							ifaddr_cmp);
					if (found) {
						r[i].flags = found->flags;
						r[i].prefixlen = found->prefixlen;
						r[i].index = found->index;
					}
				}
				if (q->ai_family == AF_INET && af == AF_INET6) {
					/* An IPv6 socket answered for IPv4. */
					struct sockaddr_in *sin = (void *)&r[i].src;
					uint32_t a = r[i].src.sin6_addr.s6_addr32[3];

					sin->sin_family = AF_INET;
					memcpy(&sin->sin_addr, &a, 4);
				}
			}
		}
		if (q->ai_canonname) {
			canon = q->ai_canonname;
			q->ai_canonname = NULL;
		}
	}
	if (fd != -1) {
		close(fd);
	}
	for (i = 0; i < nresults; i++) {
		const struct sockaddr *d = r[i].dest->ai_addr, *sa = (const void *)&r[i].src;
		struct src_entry *e = r[i].cached;

		if (r[i].same_as_prev) {
			r[i].dscope = r[i - 1].dscope;
			r[i].sscope = r[i - 1].sscope;
			r[i].dlabel = r[i - 1].dlabel;
			r[i].slabel = r[i - 1].slabel;
			r[i].dprec = r[i - 1].dprec;
			continue;
		}
		if (e && e->stamp != r[i].stamp) {
			e = NULL;   /* its slot went to a later destination */
		}
		if (e && e->rules) {
			r[i].dscope = e->dscope;
			r[i].sscope = e->sscope;
			r[i].dlabel = e->dlabel;
			r[i].slabel = e->slabel;
			r[i].dprec = e->dprec;
			continue;
		}
		r[i].dscope = scope_of(d);
		r[i].sscope = scope_of(sa);
		r[i].dlabel = match_prefix(d, labels, INT_MAX);
		r[i].slabel = match_prefix(sa, labels, INT_MAX);
		r[i].dprec = match_prefix(d, precedences, 0);
		if (e) {
			/* The same destination gives the same source, after
			 * the same conversion: the same lookups. */
			e->dscope = r[i].dscope;
			e->sscope = r[i].sscope;
			e->dlabel = r[i].dlabel;
			e->slabel = r[i].slabel;
			e->dprec = r[i].dprec;
			e->rules = true;
		}
	}
	merge_sort(order, nresults, order + nresults, &c);
	q = *head = r[order[0]].dest;
	for (i = 1; i < nresults; i++) {
		q = q->ai_next = r[order[i]].dest;
	}
	q->ai_next = NULL;
	(*head)->ai_canonname = canon;
	if (!small) {
		free(r);
		free(order);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the lookup                                                          */

struct tuple {
	int family;
	unsigned char addr[16];
};

struct found {
	struct tuple t[SC_ADDR_MAX * 2];
	unsigned n;
	char *canon;        /* malloc'd */
	bool got_ipv6;
};

/*
 * The (socktype, protocol, port) tuples of step 2, as glibc's list for
 * 0.0.0.0 gave them.  glibc knows at most 7 socket types.
 */
#define SVC_MAX 16
struct svc_tuple {
	int socktype;
	int protocol;
	uint16_t port;     /* network order */
};

struct svc_list {
	unsigned n;
	struct svc_tuple t[SVC_MAX];
};

/*
 * One remembered step 2.  Only a NULL or numeric service is kept: its
 * tuples follow from the hints alone (glibc's own table), where a named
 * one is read from /etc/services through NSS on every call and may
 * change.  `errno_set' and `errno_val': what the real call did to errno
 * (glibc's name lookups start from there), done again on a hit.
 */
#define SVC_CACHE 4
struct svc_entry {
	bool used;
	bool has_service;
	char service[16];
	int flags, socktype, protocol;
	bool errno_set;
	int errno_val;
	struct svc_list list;
};

/*
 * Per-thread state of getaddrinfo (allocated once, freed when the thread
 * exits): `struct found' is 5 KiB and was calloc'd per call, the
 * remembered service tuples.  `busy' keeps a nested call (a signal
 * handler) off it: that one mallocs its own.
 */
struct gai_thread {
	bool busy;
	unsigned svc_next;
	struct svc_entry svc[SVC_CACHE];
	struct sort_cache sort;
	struct found f;
};

/* initial-exec: the preload is loaded at start-up (LD_PRELOAD), never
 * dlopen()ed, so its TLS is static and a plain %fs access. */
static __thread struct gai_thread *gai_tls __attribute__((tls_model("initial-exec")));
static pthread_key_t gai_key;
static pthread_once_t gai_once = PTHREAD_ONCE_INIT;
static bool gai_key_ok;

static void gai_thread_free(void *p)
{
	struct gai_thread *t = p;

	free(t->sort.ifi.list);
	free(t);
	gai_tls = NULL;
}

static void gai_key_init(void)
{
	gai_key_ok = pthread_key_create(&gai_key, gai_thread_free) == 0;
}

/* The thread's state, marked busy; NULL when in use or without memory. */
static struct gai_thread *gai_thread_take(void)
{
	struct gai_thread *t = gai_tls;

	if (t == NULL) {
		pthread_once(&gai_once, gai_key_init);
		if (!gai_key_ok) {
			return NULL;
		}
		t = calloc(1, sizeof(*t));
		if (t == NULL || pthread_setspecific(gai_key, t) != 0) {
			free(t);
			return NULL;
		}
		gai_tls = t;
	}
	if (t->busy) {
		return NULL;
	}
	t->busy = true;
	return t;
}

static void gai_thread_give(struct gai_thread *t)
{
	if (t) {
		t->busy = false;
	}
}

/* glibc reads a service as a port when strtoul() takes all of it. */
static bool svc_keepable(const char *service)
{
	size_t i;

	if (service == NULL) {
		return true;
	}
	for (i = 0; service[i]; i++) {
		if (service[i] < '0' || service[i] > '9') {
			return false;
		}
	}
	return i > 0 && i < sizeof(((struct svc_entry *)0)->service);
}

static struct svc_entry *svc_find(struct gai_thread *t, const char *service,
				  const struct addrinfo *th)
{
	unsigned i;

	for (i = 0; t && i < SVC_CACHE; i++) {
		struct svc_entry *e = &t->svc[i];

		if (e->used && e->flags == th->ai_flags && e->socktype == th->ai_socktype &&
		    e->protocol == th->ai_protocol && e->has_service == (service != NULL) &&
		    (service == NULL || strcmp(e->service, service) == 0)) {
			return e;
		}
	}
	return NULL;
}

/*
 * Step 2: the tuples for the caller's service and hints.  Returns 0, an
 * EAI_* code of glibc's (a service error, reported before any lookup), or
 * 1 when the list is beyond what we hold (libc answers).
 */
static int services(struct gai_thread *t, const char *service, const struct addrinfo *req,
		    struct svc_list *ret)
{
	const struct preload_real *real = preload_real();
	struct addrinfo th, *tmpl = NULL, *s;
	struct svc_entry *e;
	int before, after, rc;

	memset(&th, 0, sizeof(th));
	th.ai_flags = (req->ai_flags & (AI_NUMERICSERV | AI_PASSIVE)) | AI_NUMERICHOST;
	th.ai_family = AF_INET;
	th.ai_socktype = req->ai_socktype;
	th.ai_protocol = req->ai_protocol;
	e = svc_find(t, service, &th);
	if (e) {
		*ret = e->list;
		if (e->errno_set) {
			errno = e->errno_val;
		}
		return 0;
	}
	before = errno;
	rc = real->getaddrinfo("0.0.0.0", service, &th, &tmpl);
	after = errno;
	if (rc != 0) {
		return rc;
	}
	ret->n = 0;
	for (s = tmpl; s; s = s->ai_next) {
		if (ret->n == SVC_MAX) {
			rc = 1;
			break;
		}
		ret->t[ret->n].socktype = s->ai_socktype;
		ret->t[ret->n].protocol = s->ai_protocol;
		ret->t[ret->n].port = ((const struct sockaddr_in *)(const void *)s->ai_addr)->sin_port;
		ret->n++;
	}
	real->freeaddrinfo(tmpl);
	errno = after;
	if (rc == 0 && t && svc_keepable(service)) {
		e = &t->svc[t->svc_next++ % SVC_CACHE];
		e->used = true;
		e->has_service = service != NULL;
		if (service) {
			strcpy(e->service, service);
		}
		e->flags = th.ai_flags;
		e->socktype = th.ai_socktype;
		e->protocol = th.ai_protocol;
		e->errno_set = after != before;
		e->errno_val = after;
		e->list = *ret;
	}
	return rc;
}

/* One NSS call's outcome, as get_nss_addresses sees it. */
enum outcome {
	OUT_SUCCESS,
	OUT_NOTFOUND,     /* herrno says HOST_NOT_FOUND or NO_DATA */
	OUT_UNAVAIL,      /* no server answered: TRY_AGAIN, errno EAGAIN */
	OUT_PASS,         /* not ours to answer: libc */
};

static enum outcome ask(struct addr_gate *g, const char *name, int family,
			struct sc_addr_result *res, int *ret_herrno)
{
	int r = sc_addr_by_name(g->core, name, family, g->sources, res, ret_herrno);

	if (r == 0) {
		return res->from_hosts ? OUT_PASS : OUT_SUCCESS;
	}
	if (!g->files_first) {
		/* `dns files': the file's verdict follows a failure. */
		return OUT_PASS;
	}
	if (r == -ENOENT) {
		return OUT_NOTFOUND;
	}
	if (r == -ETIMEDOUT || r == -ECONNREFUSED) {
		*ret_herrno = TRY_AGAIN;
		return OUT_UNAVAIL;
	}
	return OUT_PASS;
}

/* Append res's addresses; AF_INET ones mapped when the caller asked
 * AF_INET6 (convert_hostent_to_gaih_addrtuple). */
static void add_found(struct found *f, const struct sc_addr_result *res, int req_family)
{
	unsigned i;

	for (i = 0; i < res->naddr && f->n < SC_ARRAY_SIZE(f->t); i++) {
		struct tuple *t = &f->t[f->n++];

		memset(t, 0, sizeof(*t));
		if (res->addr[i].family == AF_INET && req_family == AF_INET6) {
			t->family = AF_INET6;
			t->addr[10] = t->addr[11] = 0xff;
			memcpy(t->addr + 12, res->addr[i].addr, 4);
		} else {
			t->family = res->addr[i].family;
			memcpy(t->addr, res->addr[i].addr, 16);
		}
	}
}

/*
 * The addresses of `name' for `req' (step 3 of the top comment).
 * Returns 0 with *f filled, a negative EAI_* code (with errno and h_errno
 * as glibc leaves them), or 1: libc must answer.  errno on entry is what
 * glibc's lookups would start from.
 */
static int resolve(struct addr_gate *g, const char *name, const struct addrinfo *req,
		   struct found *f)
{
	struct sc_addr_result *res = sc_addr_result_get();
	bool canon = req->ai_flags & AI_CANONNAME;
	int herrno = 0, rc = 0, no_data = 0, no_inet6_data = 0, entry;
	bool any = false;
	enum outcome o;

	if (res == NULL) {
		return 1;
	}
	if (req->ai_family == AF_INET && !canon) {
		/* try_simple_gethostbyname: gethostbyname2_r's wrapper, with
		 * the thread's h_errno as *h_errnop. */
		o = ask(g, name, AF_INET, res, &herrno);
		switch (o) {
		case OUT_SUCCESS:
			add_found(f, res, AF_INET);
			h_errno = NETDB_SUCCESS;
			errno = 0;
			break;
		case OUT_NOTFOUND:
			h_errno = herrno;
			errno = 0;
			rc = herrno == NO_DATA ? EAI_NODATA : EAI_NONAME;
			break;
		case OUT_UNAVAIL:
			h_errno = TRY_AGAIN;
			errno = EAGAIN;
			rc = EAI_AGAIN;
			break;
		default:
			rc = 1;
		}
		goto out;
	}
	if (req->ai_family == AF_UNSPEC) {
		/* gethostbyname4_r: A and AAAA together, no aliases. */
		entry = errno;
		o = ask(g, name, AF_UNSPEC, res, &herrno);
		switch (o) {
		case OUT_SUCCESS: {
			unsigned i;
			bool v6 = false;

			add_found(f, res, AF_UNSPEC);
			for (i = 0; i < res->naddr; i++) {
				v6 |= res->addr[i].family == AF_INET6;
			}
			/* The AAAA half is read last and sets h_errno. */
			h_errno = v6 ? NETDB_SUCCESS : HOST_NOT_FOUND;
			errno = 0;
			if (canon && res->name) {
				f->canon = strdup(res->name);
				if (f->canon == NULL) {
					rc = 1;
				}
			}
			break;
		}
		case OUT_NOTFOUND:
			h_errno = herrno;
			errno = entry;   /* nss_dns puts it back */
			rc = herrno == NO_DATA ? EAI_NODATA : EAI_NONAME;
			break;
		case OUT_UNAVAIL:
			h_errno = TRY_AGAIN;
			errno = EAGAIN;
			rc = EAI_AGAIN;
			break;
		default:
			rc = 1;
		}
		goto out;
	}

	/* gethostbyname3_r (gethostbyname2_r without AI_CANONNAME), once
	 * per family: AF_INET6, then AF_INET when asked, or mapped. */
	if (req->ai_family == AF_INET6) {
		entry = errno;
		o = ask(g, name, AF_INET6, res, &herrno);
		if (o == OUT_PASS) {
			rc = 1;
			goto out;
		}
		h_errno = herrno;
		if (o == OUT_SUCCESS) {
			add_found(f, res, AF_INET6);
			f->got_ipv6 = true;
			any = true;
			h_errno = NETDB_SUCCESS;
			errno = 0;
			if (canon && res->name && (f->canon = strdup(res->name)) == NULL) {
				rc = 1;
				goto out;
			}
		} else {
			no_data = herrno == TRY_AGAIN ? EAI_AGAIN : herrno == NO_DATA;
			/* nss_dns puts back the errno it was called with */
			errno = herrno == TRY_AGAIN ? EAGAIN : entry;
		}
		no_inet6_data = no_data;
	}
	if (req->ai_family == AF_INET ||
	    ((req->ai_flags & AI_V4MAPPED) && ((req->ai_flags & AI_ALL) || !f->got_ipv6))) {
		entry = errno;
		o = ask(g, name, AF_INET, res, &herrno);
		if (o == OUT_PASS) {
			rc = 1;
			goto out;
		}
		h_errno = herrno;
		no_data = 0;
		if (o == OUT_SUCCESS) {
			add_found(f, res, req->ai_family);
			any = true;
			h_errno = NETDB_SUCCESS;
			errno = 0;
			if (canon && f->canon == NULL && res->name &&
			    (f->canon = strdup(res->name)) == NULL) {
				rc = 1;
				goto out;
			}
		} else {
			no_data = herrno == TRY_AGAIN ? EAI_AGAIN : herrno == NO_DATA;
			/* nss_dns puts back the errno it was called with */
			errno = herrno == TRY_AGAIN ? EAGAIN : entry;
		}
		if (req->ai_family == AF_INET) {
			no_inet6_data = no_data;
		}
	}
	if (any) {
		if (canon && f->canon == NULL && (f->canon = strdup(name)) == NULL) {
			rc = 1;
		}
		goto out;
	}
	if (no_data != 0 && no_inet6_data != 0) {
		rc = no_data == EAI_AGAIN && no_inet6_data == EAI_AGAIN ? EAI_AGAIN : EAI_NODATA;
	} else {
		rc = EAI_NONAME;
	}

out:
	sc_addr_result_put(res);
	if (rc > 0) {
		free(f->canon);
		f->canon = NULL;
	}
	return rc;
}

/* Build the list: one entry per tuple (step 4). */
static int generate(const struct addrinfo *req, const struct found *f,
		    const struct svc_list *svc, struct addrinfo **ret, size_t *ret_n,
		    unsigned *ret_naddrs)
{
	struct addrinfo **tail = ret;
	char *canon = f->canon;
	unsigned i;

	*ret = NULL;
	*ret_n = 0;
	*ret_naddrs = 0;
	for (i = 0; i < f->n; i++) {
		const struct tuple *t = &f->t[i];
		size_t socklen = t->family == AF_INET6 ? sizeof(struct sockaddr_in6)
						       : sizeof(struct sockaddr_in);
		unsigned k;

		if (t->family == AF_INET6 && f->got_ipv6 &&
		    (req->ai_flags & (AI_V4MAPPED | AI_ALL)) == AI_V4MAPPED &&
		    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)t->addr)) {
			continue;
		}
		for (k = 0; k < svc->n; k++) {
			const struct svc_tuple *s = &svc->t[k];
			struct addrinfo *ai = malloc(sizeof(*ai) + socklen);
			uint16_t port = s->port;

			if (ai == NULL) {
				return EAI_MEMORY;
			}
			memset(ai, 0, sizeof(*ai) + socklen);
			ai->ai_flags = req->ai_flags;
			ai->ai_family = t->family;
			ai->ai_socktype = s->socktype;
			ai->ai_protocol = s->protocol;
			ai->ai_addrlen = (socklen_t)socklen;
			ai->ai_addr = (struct sockaddr *)(ai + 1);
			ai->ai_canonname = canon;
			canon = NULL;
			if (t->family == AF_INET6) {
				struct sockaddr_in6 *sin6 = (void *)ai->ai_addr;

				sin6->sin6_family = AF_INET6;
				sin6->sin6_port = port;
				memcpy(&sin6->sin6_addr, t->addr, 16);
			} else {
				struct sockaddr_in *sin = (void *)ai->ai_addr;

				sin->sin_family = AF_INET;
				sin->sin_port = port;
				memcpy(&sin->sin_addr, t->addr, 4);
			}
			*tail = ai;
			tail = &ai->ai_next;
			(*ret_n)++;
		}
		(*ret_naddrs)++;
	}
	if (canon) {
		/* No entry took it (no tuple): glibc frees it. */
		free(canon);
	}
	return 0;
}

/*
 * AI_IDN and AI_CANONIDN change nothing for a name that is ASCII (glibc's
 * idna.c copies it) and a canonical name without A-labels (libidn2 gives
 * LDH labels back as they are; upper case is left to libc, in case).
 */
static bool ascii(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s >= 0x80) {
			return false;
		}
	}
	return true;
}

static bool idn_neutral(const char *s)
{
	const char *p;

	for (p = s; *p; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			return false;
		}
	}
	return ascii(s) && strstr(s, "xn--") == NULL;
}

static bool numeric_host(const char *name)
{
	struct in_addr a4;
	struct in6_addr a6;
	const char *p;

	/* A character no numeric form has (inet_aton: digits, hex with
	 * 0x, dots, then anything after white space; inet_pton: hex
	 * digits, colons, dots; a scope: `%') settles it without the two
	 * parsers: a host name nearly always has one. */
	for (p = name; *p; p++) {
		char c = *p;

		if (c == ' ' || (c >= '\t' && c <= '\r')) {
			break;
		}
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == 'x' || c == 'X' || c == '.' || c == ':' || c == '%')) {
			return false;
		}
	}
	/* inet_aton accepts every form glibc's text_to_binary_address
	 * does for IPv4 (and a little more, which only sends more to
	 * libc); a `%' is an IPv6 scope. */
	return inet_aton(name, &a4) != 0 || inet_pton(AF_INET6, name, &a6) == 1 ||
	       strchr(name, '%') != NULL;
}

/* The same layout as glibc's, so either freeaddrinfo frees it. */
void preload_freeaddrinfo(struct addrinfo *ai)
{
	while (ai) {
		struct addrinfo *next = ai->ai_next;

		free(ai->ai_canonname);
		free(ai);
		ai = next;
	}
}

bool preload_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			 struct addrinfo **pai, int *ret_rc)
{
	static const struct addrinfo default_hints = {
		.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG,
		.ai_family = AF_UNSPEC,
	};
	const struct preload_real *real = preload_real();
	struct addrinfo req, *list = NULL;
	struct ifinfo ifi_local = { .seen_ipv4 = true, .seen_ipv6 = true };
	const struct ifinfo *ifi = NULL;
	struct addr_gate g;
	struct gai_thread *t;
	struct svc_list svc;
	struct found *f;
	int saved = errno, saved_h = h_errno, rc;
	size_t nresults;
	unsigned naddrs;

	if (node == NULL || (node[0] == '*' && node[1] == '\0') || pai == NULL ||
	    real->getaddrinfo == NULL) {
		return false;
	}
	req = hints ? *hints : default_hints;
	if ((req.ai_flags & ~HANDLED_FLAGS) ||
	    (req.ai_family != AF_UNSPEC && req.ai_family != AF_INET && req.ai_family != AF_INET6) ||
	    numeric_host(node) || ((req.ai_flags & AI_IDN) && !ascii(node))) {
		return false;
	}
	pthread_once(&gaiconf_once, gaiconf_read);
	if (gaiconf_custom) {
		return false;
	}
	if (!preload_addr_enter(&g)) {
		return false;
	}
	/* The thread's state (NULL when nested: then malloc'd per call). */
	t = gai_thread_take();

	/* 1. AI_ADDRCONFIG. */
	if (req.ai_flags & AI_ADDRCONFIG) {
		ifi = ifinfo_of(t ? &t->sort : NULL, &ifi_local);
		if (req.ai_family == AF_UNSPEC && (ifi->seen_ipv4 || ifi->seen_ipv6)) {
			if (ifi->seen_ipv4 != ifi->seen_ipv6) {
				req.ai_family = ifi->seen_ipv4 ? AF_INET : AF_INET6;
			}
		} else if ((req.ai_family == AF_INET && !ifi->seen_ipv4) ||
			   (req.ai_family == AF_INET6 && !ifi->seen_ipv6)) {
			rc = EAI_NONAME;
			goto answered;
		}
	}

	/* 2. The service, by glibc itself (remembered when numeric). */
	rc = services(t, service, &req, &svc);
	if (rc > 0) {
		goto pass;
	}
	if (rc != 0) {
		/* A service error: glibc reports it before any lookup. */
		goto answered;
	}

	/* 3. The addresses.  Only n, canon and got_ipv6 need a value:
	 * the tuples are written before they are read. */
	f = t ? &t->f : malloc(sizeof(*f));
	if (f == NULL) {
		goto pass;
	}
	f->n = 0;
	f->canon = NULL;
	f->got_ipv6 = false;
	/* errno as the service lookup left it: glibc's name lookups start
	 * from there too. */
	rc = resolve(&g, node, &req, f);
	if (rc == 0 && (req.ai_flags & (AI_CANONNAME | AI_CANONIDN)) == (AI_CANONNAME | AI_CANONIDN) &&
	    !idn_neutral(f->canon ? f->canon : node)) {
		free(f->canon);
		rc = 1;
	}
	if (rc > 0) {
		if (t == NULL) {
			free(f);
		}
		goto pass;
	}
	if (rc == 0) {
		/* 4. The list. */
		int e = errno;

		rc = generate(&req, f, &svc, &list, &nresults, &naddrs);
		errno = e;
		if (rc == 0 && list == NULL) {
			rc = EAI_NONAME;
		}
		if (rc == 0 && naddrs > 1) {
			/* 5. The sort. */
			if (ifi == NULL) {
				ifi = ifinfo_of(t ? &t->sort : NULL, &ifi_local);
			}
			if (sort_list(&list, nresults, ifi, t ? &t->sort : NULL) < 0) {
				rc = EAI_MEMORY;
			}
		}
		if (rc != 0) {
			preload_freeaddrinfo(list);
			list = NULL;
		}
	}
	if (t == NULL) {
		free(f);
	}

answered:
	gai_thread_give(t);
	preload_addr_leave();
	free(ifi_local.list);
	if (rc == 0) {
		*pai = list;
	}
	*ret_rc = rc;
	return true;

pass:
	gai_thread_give(t);
	preload_addr_leave();
	free(ifi_local.list);
	errno = saved;
	h_errno = saved_h;
	return false;
}

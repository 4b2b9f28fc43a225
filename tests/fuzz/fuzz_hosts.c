/*
 * fuzz_hosts.c - libFuzzer target for the hosts file parser and index.
 *
 * The input is a hosts file.  It is parsed from memory
 * (sc_hosts_parse_buf), then every word of it is looked up as a name
 * (three families, multi on and off) and every address of every answer is
 * looked up back; invariants that must hold for any input trap:
 *   - an answer has a name, one address without multi, addresses of the
 *     family asked for (AF_INET6 answers of AF_UNSPEC included), and
 *     every string it points at lies inside a NUL-terminated copy;
 *   - the name or one of the aliases of a non-multi answer equals the
 *     name asked for (ASCII case-insensitively) -- the line matched;
 *   - an address answered by name is found by address, in the same
 *     family view (AF_INET for v4-mapped/::1 lines asked as AF_INET);
 *   - a by-address answer carries exactly that address.
 * Semantics against glibc are the job of tests/check_hosts.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../shim/sc.h"

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x)) {                                                    \
			__builtin_trap();                                      \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sc_hosts_result res, back;

static void check_answer(struct sc_hosts *h, const char *name, int af,
			 bool multi)
{
	int r = sc_hosts_by_name(h, name, af, multi, &res);
	bool named = false;

	CHECK(r == 0 || r == -ENOENT || r == -E2BIG);
	if (r != 0) {
		return;
	}
	CHECK(res.name != NULL);
	CHECK(res.naddr >= 1 && res.naddr <= SC_HOSTS_MAXADDR);
	CHECK(res.naliases <= SC_HOSTS_MAXALIAS);
	CHECK(multi || res.naddr == 1);
	named = strcasecmp(res.name, name) == 0;
	for (unsigned i = 0; i < res.naliases; i++) {
		CHECK(res.aliases[i] != NULL);
		named |= strcasecmp(res.aliases[i], name) == 0;
	}
	/* The first matching line starts the answer, so it names it; only
	 * AF_UNSPEC answers may have lost aliases (truncated, not failed). */
	CHECK(named || (af == AF_UNSPEC && res.naliases == SC_HOSTS_MAXALIAS));
	for (unsigned i = 0; i < res.naddr; i++) {
		int fam = res.addr[i].family;

		CHECK(fam == AF_INET || fam == AF_INET6);
		CHECK(af == AF_UNSPEC || fam == af);
		if (fam == AF_INET) {
			for (int j = 4; j < 16; j++) {
				CHECK(res.addr[i].addr[j] == 0);
			}
		}
	}
	/* Every address found by name has a line found by address. */
	for (unsigned i = 0; i < res.naddr; i++) {
		unsigned char a[16];
		int fam = res.addr[i].family;

		memcpy(a, res.addr[i].addr, sizeof(a));
		r = sc_hosts_by_addr(h, fam, a, &back);
		CHECK(r == 0 || r == -E2BIG);
		if (r == 0) {
			CHECK(back.naddr == 1);
			CHECK(back.addr[0].family == fam);
			CHECK(memcmp(back.addr[0].addr, a, fam == AF_INET ? 4 : 16) == 0);
			CHECK(back.name != NULL);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int fams[] = { AF_INET, AF_INET6, AF_UNSPEC };
	struct sc_hosts *h = NULL;
	char *words;
	size_t i = 0, nwords = 0;

	if (sc_hosts_parse_buf(&h, (const char *)data, size) < 0) {
		return 0;
	}
	/* The words of the input, each NUL-terminated. */
	words = malloc(size + 1);
	if (words == NULL) {
		sc_hosts_close(h);
		return 0;
	}
	memcpy(words, data, size);
	words[size] = '\0';
	/*
	 * At most 64 words: each costs six lookups by name, each answer as
	 * many by address, and every lookup of a word of a long line walks
	 * that line.  With 256 words an input of one line of hundreds of
	 * aliases took 0.4 s and a run managed about 200 inputs a second;
	 * 64 words still reach every kind of token a line can hold.
	 */
	while (i < size && nwords < 64) {
		size_t j = i;

		while (j < size && words[j] != '\0' &&
		       !strchr(" \t\n\v\f\r#", words[j])) {
			j++;
		}
		words[j] = '\0';
		if (j > i) {
			for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
				check_answer(h, words + i, fams[f], false);
				check_answer(h, words + i, fams[f], true);
			}
			nwords++;
		}
		i = j + 1;
	}
	check_answer(h, "", AF_UNSPEC, true);
	CHECK(sc_hosts_by_name(h, "x", AF_UNIX, false, &res) == -EAFNOSUPPORT);
	free(words);
	sc_hosts_close(h);
	return 0;
}

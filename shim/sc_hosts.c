/*
 * sc_hosts.c - the hosts file, answered exactly as glibc's nss_files does.
 *
 * Why a module of its own: the front ends answer address lookups (and,
 * with hosts_in_res_query, res_query A/AAAA) from the hosts file when the
 * configured order puts it first.  Applications cannot tell us from
 * nss_files, so the answers must be the ones glibc 2.36 gives for the same
 * file, byte for byte, warts included; and a hit must cost no syscall,
 * where nss_files re-reads the whole file on every lookup.
 *
 * Design
 * ------
 * The file is read once into one malloc'd copy (`text') and parsed in
 * place, the way nss_files parses its line buffer: tokens are NUL
 * terminated inside the copy, so every string handed out points into it.
 * Each usable line becomes a `struct hline' (its address, the address
 * family it has when parsed for AF_UNSPEC, and the offset of its name,
 * which is followed in `text' by its aliases, compacted to one NUL
 * between each).  Two open-addressing hash tables index the lines:
 *
 *   names:     ASCII-lower-cased name or alias -> the lines carrying it,
 *              in file order (a line appears once per name even when it
 *              lists the name twice), so a lookup is a hash probe and a
 *              walk of a short list;
 *   addresses: (family, address) -> the first line nss_files would return
 *              for gethostbyaddr of it.
 *
 * nss_files parses a line differently for each requested family (see
 * line_view()), so the per-family answer is computed at lookup time from
 * the one parse: no family-specific copies.
 *
 * Change detection (sc_hosts_refresh): at most once a second the path is
 * stat()ed and compared with the identity of the file we read (device,
 * inode, size, mtime and ctime with nanoseconds).  A change of any of them
 * re-reads the file; editors replace it by rename (new inode), `cp' and
 * shell redirections rewrite it in place (new mtime/ctime, maybe same
 * size).  A file modified within a second of our read may have been
 * modified again within the same clock tick without any visible change of
 * identity (git's "racy" problem), so such a file is read once more at
 * the next check.  When the new read fails the old contents stay in
 * service; when the file is gone (ENOENT) the contents are dropped,
 * because nss_files then answers nothing from the file either and the
 * operator who deleted an entry expects it gone.
 *
 * Locking rule (the caller's job; no lock in here): lookups only read the
 * handle, so any number may run at once (read side of the core's rwlock);
 * sc_hosts_refresh() replaces the contents and must run alone (write
 * side).  sc_hosts_refresh_due() is a plain read, so the core can take the
 * write lock only when a check is due.  Strings in a result stay valid
 * until the next refresh that changes the generation.
 *
 * Bounds: the file may be at most SC_HOSTS_MAXSIZE bytes (beyond, it is
 * not loaded and lookups return -EFBIG so the caller lets libc answer);
 * memory is the copy plus about 28 bytes per line and 40 per name.  Lines
 * have no length limit, as in glibc (nss_files retries a long line with a
 * doubled buffer until it fits).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sc.h"

#define RECHECK_MS 1000
#define NONE UINT32_MAX
#define ASLOT_V6 0x80000000u /* address slot bit: an AF_INET6 key */

/* One line that nss_files accepts for at least one family. */
struct hline {
	uint32_t name;          /* offset of h_name in text; aliases follow */
	uint32_t nalias;
	uint8_t family;         /* AF_INET or AF_INET6: as parsed for AF_UNSPEC */
	uint8_t as_v4;          /* IPv6 line also read for AF_INET: V4_* */
	unsigned char addr[16]; /* 4 bytes used for AF_INET */
};

enum {
	V4_NONE,
	V4_MAPPED,   /* ::ffff:a.b.c.d -> a.b.c.d */
	V4_LOOPBACK, /* ::1 -> 127.0.0.1 */
};

/* A distinct name (compared ASCII-case-insensitively). */
struct hkey {
	uint32_t hash;
	uint32_t name;          /* offset in text of one spelling of it */
	uint32_t head, tail;    /* postings, in file order */
};

struct hpost {
	uint32_t line;
	uint32_t next;
};

/* One parsed copy of the file.  Immutable once built. */
struct htable {
	char *text;
	size_t textlen;
	struct hline *line;
	uint32_t nline;
	struct hkey *key;
	uint32_t nkey;
	struct hpost *post;
	uint32_t npost;
	uint32_t *kslot;        /* key index + 1; 0: empty */
	uint32_t kmask;
	uint32_t *aslot;        /* line index + 1, ASLOT_V6 bit; 0: empty */
	uint32_t amask;
};

/* What we know of the file the current contents came from. */
struct hid {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

struct sc_hosts {
	char *path;             /* NULL: parsed from memory, never refreshed */
	struct htable *t;       /* NULL: no contents (no file, or not loaded) */
	int err;                /* < 0: never loaded, lookups report it */
	bool have_id;           /* `id' describes the file `t' came from */
	bool racy;              /* read again at the next check regardless */
	struct hid id;
	int64_t checked_ms;
	uint64_t generation;
};

static const unsigned char loopback4[4] = { 127, 0, 0, 1 };

/*
 * isspace() of the C locale.  nss_files uses the process locale's
 * isspace(), which for every locale glibc ships (UTF-8 or 8-bit) adds
 * nothing in the ASCII range and no byte above it, so the fixed set is the
 * same answer without a locale lookup per byte.
 */
static inline bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline unsigned char ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/*
 * nss_files compares with strcasecmp(), i.e. tolower() of the locale; like
 * DNS (RFC 4343) we fold ASCII only, which is the same in every locale but
 * Turkish-like ones, and keeps the index independent of the locale.
 */
static bool name_eq(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	for (;; x++, y++) {
		if (ascii_lower(*x) != ascii_lower(*y)) {
			return false;
		}
		if (*x == '\0') {
			return true;
		}
	}
}

static inline uint32_t mix32(uint32_t h)
{
	/* murmur3's finaliser: the probe index is the low bits. */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t name_hash(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t h = 2166136261u; /* FNV-1a of the lower-cased bytes */

	for (; *p != '\0'; p++) {
		h = (h ^ ascii_lower(*p)) * 16777619u;
	}
	return mix32(h);
}

static uint32_t addr_hash(int family, const unsigned char *a)
{
	size_t n = family == AF_INET ? 4 : 16;
	uint32_t h = 2166136261u ^ (uint32_t)family;

	for (size_t i = 0; i < n; i++) {
		h = (h ^ a[i]) * 16777619u;
	}
	return mix32(h);
}

/* Smallest power of two >= 2 * n: load factor at most one half, so that a
 * miss (the common case: most names a SIP server resolves are not in the
 * hosts file) stops after a couple of probes. */
static int slots_for(size_t n, uint32_t *ret_mask)
{
	size_t s = 8;

	while (s < 2 * n) {
		if (s > (size_t)UINT32_MAX / 4) {
			return -EFBIG;
		}
		s <<= 1;
	}
	*ret_mask = (uint32_t)(s - 1);
	return 0;
}

/*
 * The address nss_files returns for line `ln' when the lookup is for
 * `family', or NULL when nss_files skips the line for that family.  This
 * is files-hosts.c's parser: it calls inet_pton() for the requested family;
 * for AF_INET it then accepts an IPv6 address only when it is v4-mapped
 * (answered as the IPv4 address) or ::1 (answered as 127.0.0.1); for
 * AF_INET6 an IPv4 line is never accepted (the RES_USE_INET6 mapping was
 * removed in glibc 2.26; res_use_inet6() is constant false), and for AF_UNSPEC
 * (gethostbyname4_r) each line keeps its own family, unmapped.
 */
static const unsigned char *line_view(const struct hline *ln, int family,
				      int *ret_family)
{
	switch (family) {
	case AF_INET:
		*ret_family = AF_INET;
		if (ln->family == AF_INET) {
			return ln->addr;
		}
		if (ln->as_v4 == V4_MAPPED) {
			return ln->addr + 12;
		}
		if (ln->as_v4 == V4_LOOPBACK) {
			return loopback4;
		}
		return NULL;
	case AF_INET6:
		*ret_family = AF_INET6;
		return ln->family == AF_INET6 ? ln->addr : NULL;
	default:
		*ret_family = ln->family;
		return ln->addr;
	}
}

static void table_free(struct htable *t)
{
	if (t == NULL) {
		return;
	}
	free(t->text);
	free(t->line);
	free(t->key);
	free(t->post);
	free(t->kslot);
	free(t->aslot);
	free(t);
}

/*
 * Parse one line, [s, e) in text, `e' being its '\n' or the end of the
 * data, into `ret'.  Returns true when nss_files would accept the line.
 *
 * Lines reach nss_files' parser through __nss_readline(): fgets() (so a
 * NUL byte ends the C string early), leading whitespace skipped, empty
 * lines and lines starting with '#' dropped.  When it skips leading
 * whitespace it shifts the line with memmove(buf, p, strlen(p)), which
 * moves the characters but not their terminating NUL: a line that is not
 * cut by a '\n' afterwards (the last line of a file without a final
 * newline, or a line with a NUL byte in it) keeps its last k characters a
 * second time, k being the number of whitespace bytes skipped.  glibc
 * then answers "tailil" for an indented last line "  1.2.3.4 tail".  We
 * do the same move, so the answers stay glibc's.
 *
 * The parser proper (files-hosts.c and files-parse.c) then cuts the line
 * at the first '#' or '\n', takes the address up to the first whitespace,
 * the name after it (possibly empty: "1.2.3.4" alone is a line with an
 * empty name) and the remaining whitespace-separated words as aliases.
 */
static bool parse_line(char *text, char *s, char *e, struct hline *ret)
{
	char *z = memchr(s, '\0', (size_t)(e - s));
	/* Is the line's string cut by its '\n' (no NUL before it, not EOF)? */
	bool has_nl = z == NULL && *e == '\n';
	char *str_end = z != NULL ? z : e;
	char *end, *p, *a, *tok, *dst;
	size_t k = 0, n;
	unsigned char addr[16];

	while (s + k < str_end && is_space((unsigned char)s[k])) {
		k++;
	}
	if (s + k == str_end || s[k] == '#') {
		return false;
	}
	if (has_nl) {
		s += k;
		end = e;
	} else {
		/* glibc's memmove without the NUL; *str_end is a NUL. */
		memmove(s, s + k, (size_t)(str_end - s) - k);
		end = str_end;
	}
	p = memchr(s, '#', (size_t)(end - s));
	if (p != NULL) {
		end = p;
	}

	/* The address: nonempty, since the line starts with neither space
	 * nor '#'.  Terminate it in place for inet_pton(). */
	a = s;
	for (p = s; p < end && !is_space((unsigned char)*p); p++) {
	}
	tok = p;
	while (p < end && is_space((unsigned char)*p)) {
		p++;
	}
	*tok = '\0';
	/*
	 * libc's own inet_pton(), the function nss_files calls: strict
	 * dotted quads (no "1.2.3" shorthand, no octal or hex, no leading
	 * zeros: inet_aton() would take those), no IPv6 zone index.  Tried
	 * as IPv4 first, as gethostbyname4_r does for AF_UNSPEC; no string
	 * parses as both.
	 */
	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET, a, addr) > 0) {
		ret->family = AF_INET;
		memcpy(ret->addr, addr, 4);
	} else if (inet_pton(AF_INET6, a, addr) > 0) {
		ret->family = AF_INET6;
		memcpy(ret->addr, addr, 16);
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr)) {
			ret->as_v4 = V4_MAPPED;
		} else if (IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)addr)) {
			ret->as_v4 = V4_LOOPBACK;
		}
	} else {
		/* nss_files: "Illegal address: ignore line." */
		return false;
	}

	/*
	 * Name and aliases, compacted to the start of the line with one NUL
	 * after each, so that aliases can be listed from the name alone.
	 * The writer never passes the reader: it starts where the (already
	 * consumed) address was, and each word it writes was followed by at
	 * least one separator it drops.
	 */
	dst = s;
	ret->name = (uint32_t)(dst - text);
	for (bool first = true; first || p < end; first = false) {
		tok = p;
		while (p < end && !is_space((unsigned char)*p)) {
			p++;
		}
		n = (size_t)(p - tok);
		while (p < end && is_space((unsigned char)*p)) {
			p++;
		}
		if (!first && n == 0) {
			break;
		}
		memmove(dst, tok, n);
		dst[n] = '\0';
		dst += n + 1;
		if (!first) {
			ret->nalias++;
		}
	}
	return true;
}

static inline const char *next_str(const char *s)
{
	return s + strlen(s) + 1;
}

/* Insert `name' (a string in text) for line `li'. */
static void key_add(struct htable *t, const char *name, uint32_t li)
{
	uint32_t h = name_hash(name), i, ki;
	struct hkey *k;

	for (i = h & t->kmask; t->kslot[i] != 0; i = (i + 1) & t->kmask) {
		k = &t->key[t->kslot[i] - 1];
		if (k->hash == h && name_eq(name, t->text + k->name)) {
			/* A line listing one name twice matches once. */
			if (t->post[k->tail].line == li) {
				return;
			}
			t->post[t->npost] = (struct hpost){ li, NONE };
			t->post[k->tail].next = t->npost;
			k->tail = t->npost++;
			return;
		}
	}
	ki = t->nkey++;
	t->key[ki] = (struct hkey){ h, (uint32_t)(name - t->text), t->npost,
				    t->npost };
	t->post[t->npost++] = (struct hpost){ li, NONE };
	t->kslot[i] = ki + 1;
}

/* Insert line `li' under its address viewed as `family', unless an earlier
 * line already has it (gethostbyaddr returns the first). */
static void addr_add(struct htable *t, uint32_t li, int family)
{
	int fam;
	const unsigned char *a = line_view(&t->line[li], family, &fam);
	uint32_t tag = family == AF_INET6 ? ASLOT_V6 : 0, i, v;
	size_t n = family == AF_INET ? 4 : 16;

	if (a == NULL) {
		return;
	}
	for (i = addr_hash(family, a) & t->amask; (v = t->aslot[i]) != 0;
	     i = (i + 1) & t->amask) {
		const unsigned char *b;

		if ((v & ASLOT_V6) != tag) {
			continue;
		}
		b = line_view(&t->line[(v & ~ASLOT_V6) - 1], family, &fam);
		if (memcmp(a, b, n) == 0) {
			return;
		}
	}
	t->aslot[i] = (li + 1) | tag;
}

/*
 * Build a table from `text' (len bytes plus a NUL at text[len]), which it
 * takes over, freed on failure too.
 */
static int table_build(struct htable **ret, char *text, size_t len)
{
	struct htable *t = calloc(1, sizeof(*t));
	size_t maxline = 1, ntok = 0, naddr = 0, pos = 0;
	int r = -ENOMEM;

	if (t == NULL) {
		free(text);
		return -ENOMEM;
	}
	t->text = text;
	t->textlen = len;
	for (const char *p = text;
	     (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL; p++) {
		maxline++;
	}
	t->line = malloc(maxline * sizeof(*t->line));
	if (t->line == NULL) {
		goto fail;
	}

	while (pos < len) {
		char *s = text + pos;
		char *nl = memchr(s, '\n', len - pos);
		char *e = nl != NULL ? nl : text + len;
		struct hline *ln = &t->line[t->nline];

		pos = (size_t)(e - text) + 1;
		if (!parse_line(text, s, e, ln)) {
			continue;
		}
		ntok += 1 + ln->nalias;
		naddr += ln->as_v4 != V4_NONE ? 2 : 1;
		t->nline++;
	}

	/* Every name and alias may be a distinct key and a posting. */
	r = slots_for(ntok, &t->kmask);
	if (r < 0) {
		goto fail;
	}
	r = slots_for(naddr, &t->amask);
	if (r < 0) {
		goto fail;
	}
	r = -ENOMEM;
	t->key = malloc((ntok ? ntok : 1) * sizeof(*t->key));
	t->post = malloc((ntok ? ntok : 1) * sizeof(*t->post));
	t->kslot = calloc((size_t)t->kmask + 1, sizeof(*t->kslot));
	t->aslot = calloc((size_t)t->amask + 1, sizeof(*t->aslot));
	if (t->key == NULL || t->post == NULL || t->kslot == NULL ||
	    t->aslot == NULL) {
		goto fail;
	}

	for (uint32_t li = 0; li < t->nline; li++) {
		const struct hline *ln = &t->line[li];
		const char *name = text + ln->name;

		key_add(t, name, li);
		for (uint32_t j = 0; j < ln->nalias; j++) {
			name = next_str(name);
			key_add(t, name, li);
		}
		addr_add(t, li, ln->family);
		if (ln->as_v4 != V4_NONE) {
			addr_add(t, li, AF_INET);
		}
	}

	/* Give back what the upper bounds over-reserved (duplicate names,
	 * malformed lines); failure to shrink is harmless. */
	if (t->nline < maxline) {
		void *p = realloc(t->line, (t->nline ? t->nline : 1) * sizeof(*t->line));
		if (p != NULL) {
			t->line = p;
		}
	}
	if (t->nkey < ntok) {
		void *p = realloc(t->key, (t->nkey ? t->nkey : 1) * sizeof(*t->key));
		if (p != NULL) {
			t->key = p;
		}
	}
	*ret = t;
	return 0;

fail:
	table_free(t);
	return r;
}

static void set_contents(struct sc_hosts *h, struct htable *t)
{
	table_free(h->t);
	h->t = t;
	h->err = 0;
	h->generation++;
}

static void id_from_stat(struct hid *id, const struct stat *st)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtim = st->st_mtim;
	id->ctim = st->st_ctim;
}

static bool id_same(const struct hid *a, const struct hid *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtim.tv_sec == b->mtim.tv_sec &&
	       a->mtim.tv_nsec == b->mtim.tv_nsec &&
	       a->ctim.tv_sec == b->ctim.tv_sec &&
	       a->ctim.tv_nsec == b->ctim.tv_nsec;
}

/*
 * Modified within a second of now: a second modification may follow in
 * the same clock tick and leave the identity unchanged.  A modification
 * time far in the future is not racy (it would otherwise make us re-read
 * the file at every check, forever).
 */
static bool id_racy(const struct hid *id)
{
	int64_t now = sc_now();

	return (int64_t)id->mtim.tv_sec >= now - 1 &&
	       (int64_t)id->mtim.tv_sec <= now + 1;
}

/* The file disappeared: answer from nothing, as nss_files does. */
static void hosts_gone(struct sc_hosts *h)
{
	if (h->t != NULL || h->have_id || h->err != 0) {
		set_contents(h, NULL);
	}
	h->have_id = false;
	h->racy = false;
}

static int hosts_failed(struct sc_hosts *h, int r)
{
	SC_LOG_FAULT(SC_FAULT_HOSTS, LOG_WARNING, "%s: %s%s", h->path,
		     strerror(-r),
		     h->t != NULL ? " (keeping its previous contents)" : "");
	if (h->t == NULL) {
		h->err = r;
	}
	return r;
}

/* Read the file and make it the contents.  On failure the contents in
 * service stay. */
static int hosts_load(struct sc_hosts *h)
{
	struct stat st, st2;
	struct htable *t;
	char *buf = NULL;
	size_t want, got = 0;
	bool changed = false;
	int fd, r;

	/* O_NONBLOCK: a FIFO put in the file's place must not hang the host
	 * process (it is refused below anyway). */
	fd = open(h->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT || r == -ENOTDIR) {
			hosts_gone(h);
			return 0;
		}
		return hosts_failed(h, r);
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto fail;
	}
	if (st.st_size > SC_HOSTS_MAXSIZE) {
		r = -EFBIG;
		goto fail;
	}
	want = (size_t)st.st_size;
	/* One spare byte to notice growth during the read, one for a NUL. */
	buf = malloc(want + 2);
	if (buf == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	while (got <= want) {
		ssize_t n = read(fd, buf + got, want + 1 - got);

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
		got += (size_t)n;
	}
	if (got != want) {
		/* Written while we read it: use what we got (nss_files would
		 * too), and read it again at the next check. */
		changed = true;
		if (got > want) {
			got = want;
		}
	}
	if (fstat(fd, &st2) < 0 || st2.st_mtim.tv_sec != st.st_mtim.tv_sec ||
	    st2.st_mtim.tv_nsec != st.st_mtim.tv_nsec) {
		changed = true;
	}
	close(fd);
	fd = -1;
	buf[got] = '\0';

	r = table_build(&t, buf, got);
	buf = NULL;
	if (r < 0) {
		return hosts_failed(h, r);
	}
	set_contents(h, t);
	id_from_stat(&h->id, &st);
	h->have_id = true;
	h->racy = changed || id_racy(&h->id);
	return 0;

fail:
	free(buf);
	if (fd >= 0) {
		close(fd);
	}
	return hosts_failed(h, r);
}

int sc_hosts_open(struct sc_hosts **ret, const char *path)
{
	struct sc_hosts *h;
	int saved = errno;

	if (path == NULL || path[0] == '\0') {
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		return -ENOMEM;
	}
	h->path = strdup(path);
	if (h->path == NULL) {
		free(h);
		return -ENOMEM;
	}
	/* A file that cannot be read now is not a failure to open: lookups
	 * report it and the next refresh tries again. */
	(void)hosts_load(h);
	h->checked_ms = sc_now_mono_ms();
	*ret = h;
	errno = saved;
	return 0;
}

int sc_hosts_parse_buf(struct sc_hosts **ret, const char *buf, size_t len)
{
	struct sc_hosts *h;
	struct htable *t;
	char *text;
	int r;

	if (len > SC_HOSTS_MAXSIZE) {
		return -EFBIG;
	}
	h = calloc(1, sizeof(*h));
	text = malloc(len + 1);
	if (h == NULL || text == NULL) {
		free(h);
		free(text);
		return -ENOMEM;
	}
	if (len > 0) {
		memcpy(text, buf, len);
	}
	text[len] = '\0';
	r = table_build(&t, text, len);
	if (r < 0) {
		free(h);
		return r;
	}
	set_contents(h, t);
	*ret = h;
	return 0;
}

void sc_hosts_close(struct sc_hosts *h)
{
	if (h == NULL) {
		return;
	}
	table_free(h->t);
	free(h->path);
	free(h);
}

bool sc_hosts_refresh_due(const struct sc_hosts *h, int64_t now_ms)
{
	/* A clock that went backwards (only a caller's mistake with a
	 * monotonic clock) makes a check due rather than stalling it. */
	/* Read without the core's lock (a cheap test before taking it for
	 * writing): atomic, as sc_hosts_refresh() stores it. */
	int64_t checked = __atomic_load_n(&h->checked_ms, __ATOMIC_RELAXED);

	return h->path != NULL && (now_ms < checked || now_ms - checked >= RECHECK_MS);
}

int sc_hosts_refresh(struct sc_hosts *h, int64_t now_ms)
{
	struct stat st;
	struct hid id;
	int saved = errno, r = 0;

	if (!sc_hosts_refresh_due(h, now_ms)) {
		return 0;
	}
	__atomic_store_n(&h->checked_ms, now_ms, __ATOMIC_RELAXED);
	if (stat(h->path, &st) < 0) {
		r = -errno;
		if (r == -ENOENT || r == -ENOTDIR) {
			hosts_gone(h);
			r = 0;
		} else {
			r = hosts_failed(h, r);
		}
		goto out;
	}
	id_from_stat(&id, &st);
	if (h->have_id && !h->racy && id_same(&h->id, &id)) {
		goto out;
	}
	r = hosts_load(h);
out:
	errno = saved;
	return r;
}

uint64_t sc_hosts_generation(const struct sc_hosts *h)
{
	return h->generation;
}

static const struct hkey *key_find(const struct htable *t, const char *name)
{
	uint32_t h = name_hash(name), i;

	for (i = h & t->kmask; t->kslot[i] != 0; i = (i + 1) & t->kmask) {
		const struct hkey *k = &t->key[t->kslot[i] - 1];

		if (k->hash == h && name_eq(name, t->text + k->name)) {
			return k;
		}
	}
	return NULL;
}

static int add_addr(struct sc_hosts_result *r, int family,
		    const unsigned char *a)
{
	struct sc_hosts_addr *out;

	if (r->naddr == SC_HOSTS_MAXADDR) {
		return -E2BIG;
	}
	out = &r->addr[r->naddr++];
	out->family = family;
	memset(out->addr, 0, sizeof(out->addr));
	memcpy(out->addr, a, family == AF_INET ? 4 : 16);
	return 0;
}

static int add_alias(struct sc_hosts_result *r, const char *s, bool strict)
{
	if (r->naliases == SC_HOSTS_MAXALIAS) {
		return strict ? -E2BIG : 0;
	}
	r->aliases[r->naliases++] = s;
	return 0;
}

static int add_line_aliases(struct sc_hosts_result *r, const char *name,
			    uint32_t nalias, bool strict)
{
	const char *s = name;
	int e;

	for (uint32_t j = 0; j < nalias; j++) {
		s = next_str(s);
		e = add_alias(r, s, strict);
		if (e < 0) {
			return e;
		}
	}
	return 0;
}

int sc_hosts_by_name(struct sc_hosts *h, const char *name, int family,
		     bool multi, struct sc_hosts_result *ret)
{
	const struct htable *t = h->t;
	const struct hkey *k;
	/* gethostbyname4_r reports no aliases, so for AF_UNSPEC they are
	 * informative: truncated rather than failing the lookup. */
	bool strict = family != AF_UNSPEC;
	bool found = false;
	int e;

	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC) {
		return -EAFNOSUPPORT;
	}
	if (t == NULL) {
		return h->err < 0 ? h->err : -ENOENT;
	}
	k = key_find(t, name);
	if (k == NULL) {
		return -ENOENT;
	}
	for (uint32_t p = k->head; p != NONE; p = t->post[p].next) {
		const struct hline *ln = &t->line[t->post[p].line];
		const char *lname = t->text + ln->name;
		const unsigned char *a;
		int fam;

		/* A line nss_files cannot parse for this family does not
		 * exist for it: the next one may match. */
		a = line_view(ln, family, &fam);
		if (a == NULL) {
			continue;
		}
		if (!found) {
			/* The first matching line gives the answer's name
			 * and starts its alias list. */
			found = true;
			ret->name = lname;
			ret->naliases = 0;
			ret->naddr = 0;
			e = add_addr(ret, fam, a);
			if (e == 0) {
				e = add_line_aliases(ret, lname, ln->nalias, strict);
			}
			if (e < 0) {
				return e;
			}
			if (!multi) {
				break;
			}
			continue;
		}
		/*
		 * `multi on' (host.conf): gethostbyname3_multi() appends
		 * each further matching line's address and all its aliases
		 * (duplicates kept: "the user's problem"), then its name when
		 * that differs, case-sensitively, from the first line's.
		 * gethostbyname4_r appends only the address.
		 */
		e = add_addr(ret, fam, a);
		if (e == 0) {
			e = add_line_aliases(ret, lname, ln->nalias, strict);
		}
		if (e == 0 && strcmp(lname, ret->name) != 0) {
			e = add_alias(ret, lname, strict);
		}
		if (e < 0) {
			return e;
		}
	}
	return found ? 0 : -ENOENT;
}

int sc_hosts_by_addr(struct sc_hosts *h, int family, const void *addr,
		     struct sc_hosts_result *ret)
{
	const struct htable *t = h->t;
	uint32_t tag, i, v;
	size_t n;
	int fam, e;

	if (family == AF_INET) {
		tag = 0;
		n = 4;
	} else if (family == AF_INET6) {
		tag = ASLOT_V6;
		n = 16;
	} else {
		return -EAFNOSUPPORT;
	}
	if (t == NULL) {
		return h->err < 0 ? h->err : -ENOENT;
	}
	for (i = addr_hash(family, addr) & t->amask; (v = t->aslot[i]) != 0;
	     i = (i + 1) & t->amask) {
		const struct hline *ln;
		const unsigned char *a;

		if ((v & ASLOT_V6) != tag) {
			continue;
		}
		ln = &t->line[(v & ~ASLOT_V6) - 1];
		a = line_view(ln, family, &fam);
		if (memcmp(a, addr, n) != 0) {
			continue;
		}
		ret->name = t->text + ln->name;
		ret->naliases = 0;
		ret->naddr = 0;
		e = add_addr(ret, fam, a);
		if (e == 0) {
			e = add_line_aliases(ret, ret->name, ln->nalias, true);
		}
		return e;
	}
	return -ENOENT;
}

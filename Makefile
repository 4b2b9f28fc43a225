# sipcache - one build, one entry point.
#
#   make                 build everything
#   make check           install missing Debian packages, then run every test
#   make install DESTDIR=... PREFIX=/usr
#   make clean
#
# Objects go under $(O) (default: in the tree).  The sanitizer, clang and
# fuzzing builds of `make check' use their own O= below build/.

VERSION = 0.1.0

PREFIX ?= /usr
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
LIBDIR ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/sipcache
SYSCONFDIR ?= /etc
CACHEDIR ?= /var/cache/sipcache

O ?= .
CFLAGS ?= -O2 -g
SAN ?=
WERROR ?=

WARNFLAGS = -Wall -Wextra -Wshadow -Wpointer-arith -Wwrite-strings \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef \
	-Wvla -Wimplicit-fallthrough $(if $(WERROR),-Werror)
SANFLAGS = $(if $(SAN),-fsanitize=$(SAN) -fno-sanitize-recover=all \
	-fno-omit-frame-pointer)

PKG_CONFIG ?= pkg-config
TDB_CFLAGS = $(shell $(PKG_CONFIG) --cflags tdb 2>/dev/null)
TDB_LIBS = $(shell $(PKG_CONFIG) --libs tdb 2>/dev/null || echo -ltdb)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck)

CPPFLAGS_ALL = -D_GNU_SOURCE -DSC_VERSION='"$(VERSION)"' \
	-DSC_DEFAULT_CACHE_FILE='"$(CACHEDIR)/cache.tdb"' $(CPPFLAGS)
CFLAGS_ALL = -std=gnu11 -fPIC -fvisibility=hidden $(WARNFLAGS) \
	$(TDB_CFLAGS) $(SANFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)
LDLIBS_ALL = $(TDB_LIBS) -lresolv -lpthread -ldl

SHIM_SRC = $(sort $(wildcard shim/*.c))
SHIM_OBJ = $(SHIM_SRC:%.c=$(O)/%.o)
SHIM_LIB = $(O)/shim/libsipcache.a

# Front ends are built once their sources exist.
NSS_SO = $(if $(wildcard nss/nss_sipcache.c),$(O)/nss/libnss_sipcache.so.2)
PRELOAD_SO = $(if $(wildcard preload/preload.c),$(O)/preload/libsipcache-preload.so)
CTL_BIN = $(if $(wildcard ctl/sipcachectl.c),$(O)/ctl/sipcachectl)
PRODUCTS = $(NSS_SO) $(PRELOAD_SO) $(CTL_BIN)

all: $(SHIM_LIB) $(PRODUCTS)

$(O)/%.o: %.c shim/sc.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(SHIM_LIB): $(SHIM_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/nss/libnss_sipcache.so.2: $(patsubst %.c,$(O)/%.o,$(wildcard nss/*.c)) $(SHIM_LIB) nss/nss_sipcache.map
	$(CC) -shared -Wl,-z,defs -Wl,-z,now -Wl,-soname,$(@F) \
		-Wl,--version-script=nss/nss_sipcache.map $(LDFLAGS_ALL) \
		-o $@ $(filter %.o %.a,$^) $(LDLIBS_ALL)

$(O)/preload/libsipcache-preload.so: $(patsubst %.c,$(O)/%.o,$(wildcard preload/*.c)) $(SHIM_LIB) preload/preload.map
	$(CC) -shared -Wl,-z,defs -Wl,-soname,$(@F) \
		-Wl,--version-script=preload/preload.map $(LDFLAGS_ALL) \
		-o $@ $(filter %.o %.a,$^) $(LDLIBS_ALL)

$(O)/ctl/sipcachectl: $(patsubst %.c,$(O)/%.o,$(wildcard ctl/*.c)) $(SHIM_LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o %.a,$^) $(LDLIBS_ALL)

include tests/tests.mk
include tests/e2e/e2e.mk
include packaging/packaging.mk
include tests/stress/stress.mk
include bench/bench.mk

# What chain prefetch costs the first lookup and saves later
# (bench/prefetch/run; docs/sip.md quotes it).
bench-prefetch: all
	O=$(O) bench/prefetch/run
.PHONY: bench-prefetch

# ---------------------------------------------------------------------------
# install

install: all
	install -d -m 0755 $(DESTDIR)$(LIBDIR) $(DESTDIR)$(SBINDIR)
	$(if $(NSS_SO),install -m 0644 $(NSS_SO) $(DESTDIR)$(LIBDIR)/libnss_sipcache.so.2)
	$(if $(PRELOAD_SO),install -m 0644 $(PRELOAD_SO) $(DESTDIR)$(LIBDIR)/libsipcache-preload.so)
	$(if $(CTL_BIN),install -m 0755 $(CTL_BIN) $(DESTDIR)$(SBINDIR)/sipcachectl)
	install -D -m 0644 sipcache.conf $(DESTDIR)$(SYSCONFDIR)/sipcache.conf
	for page in $(wildcard ctl/*.[1-8] docs/*.[1-8]); do \
		sect=$${page##*.}; \
		install -D -m 0644 $$page $(DESTDIR)$(MANDIR)/man$$sect/$${page##*/} || exit 1; \
	done
	install -d -m 2775 $(DESTDIR)$(CACHEDIR)

# ---------------------------------------------------------------------------
# packages and release

dist:
	git archive --prefix=sipcache-$(VERSION)/ -o sipcache-$(VERSION).tar.gz HEAD

# ---------------------------------------------------------------------------

clean:
	rm -rf build
	find $(wildcard shim nss preload ctl tests bench) \( -name '*.o' -o -name '*.d' \
		-o -name '*.a' -o -name '*.so' -o -name '*.so.*' \) -delete
	rm -f ctl/sipcachectl $(TEST_BINS_CLEAN)

.PHONY: all install dist clean
.DELETE_ON_ERROR:

-include $(wildcard $(foreach d,shim nss preload ctl tests tests/helpers tests/fuzz tests/progs,$(O)/$(d)/*.d))

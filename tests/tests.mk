# tests/tests.mk - included by the top Makefile.
#
#   make check             deps, then every test (what CI runs)
#   make check-unit        Check unit tests in this build (O=, SAN=)
#   make check-build       warning-free builds with gcc and clang
#   make check-fuzz-replay every fuzz target over its seed corpus
#   make check-integration tests against a real DNS server (root)
#   make check-e2e         a real Kamailio under the preload, real SIP load (root)
#   make check-packaging   deb and rpm built, installed and removed (root)
#   make fuzz              each fuzz target for FUZZ_SECONDS (default 60)

UNIT_SRC = $(sort $(wildcard tests/check_*.c))
UNIT_BINS = $(UNIT_SRC:tests/%.c=$(O)/tests/%)
HELPER_SRC = $(sort $(wildcard tests/helpers/*.c))
HELPER_OBJ = $(HELPER_SRC:%.c=$(O)/%.o)
HELPER_LIB = $(O)/tests/helpers/libtesthelpers.a
TEST_BINS_CLEAN = $(UNIT_SRC:%.c=%)

FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_O = build/fuzz
FUZZ_SECONDS ?= 60

$(HELPER_LIB): $(HELPER_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/tests/helpers/%.o: tests/helpers/%.c shim/sc.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/tests/check_%: tests/check_%.c $(HELPER_LIB) $(SHIM_LIB) shim/sc.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(CHECK_CFLAGS) -MMD -MP \
		$(LDFLAGS_ALL) -o $@ $< $(HELPER_LIB) $(SHIM_LIB) \
		$(CHECK_LIBS) $(LDLIBS_ALL)

# Every unit test binary runs, even after a failure; the target fails if
# any did.  Check runs each test in a forked child (CK_FORK).
check-unit: $(UNIT_BINS) all
	@O=$(O) SAN='$(SAN)' tests/run-unit $(UNIT_BINS)

unit-bins: $(UNIT_BINS)

check-build:
	$(MAKE) O=build/gcc CC=gcc WERROR=1 all unit-bins
	$(MAKE) O=build/clang CC=clang WERROR=1 all unit-bins

# --- programs the integration tests run (plain libc clients) ---------------

PROG_SRC = $(sort $(wildcard tests/progs/*.c))
PROG_BINS = $(PROG_SRC:tests/progs/%.c=$(O)/tests/progs/%)

$(O)/tests/progs/%: tests/progs/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -MMD -MP $(LDFLAGS_ALL) -o $@ $< \
		-lresolv -lpthread

progs: $(PROG_BINS)

# `make install DESTDIR=...' against the Contract's layout.
check-install: all
	O=$(O) CC=$(CC) tests/check-install

# Real DNS server, namespaces, the front ends from this build: as root.
check-integration: all progs
	O=$(O) tests/run-integration

# --- fuzzing: clang, libFuzzer, ASan+UBSan ----------------------------------

$(O)/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(SHIM_LIB) shim/sc.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -fsanitize=fuzzer $(LDFLAGS_ALL) \
		-o $@ $< $(SHIM_LIB) $(LDLIBS_ALL)

fuzz-bins: $(FUZZ_NAMES:%=$(O)/tests/fuzz/fuzz_%)

check-fuzz-replay:
	$(MAKE) O=$(FUZZ_O) CC=clang SAN=address,undefined \
		CFLAGS='-O1 -g -fsanitize=fuzzer-no-link' fuzz-bins
	@tests/fuzz/run replay $(FUZZ_O) $(FUZZ_NAMES)

fuzz:
	$(MAKE) O=$(FUZZ_O) CC=clang SAN=address,undefined \
		CFLAGS='-O1 -g -fsanitize=fuzzer-no-link' fuzz-bins
	@tests/fuzz/run fuzz $(FUZZ_O) $(FUZZ_NAMES) -- $(FUZZ_SECONDS)

# --- the whole suite ----------------------------------------------------------

deps:
	@tests/install-deps

# Sub-makes, so that pkg-config runs after `deps' installed it.
check: deps
	$(MAKE) all
	$(MAKE) check-build
	$(MAKE) check-unit
	$(MAKE) O=build/asan SAN=address,undefined check-unit
	$(MAKE) check-fuzz-replay
	$(MAKE) check-install
	$(MAKE) check-integration
	$(MAKE) check-e2e
	$(MAKE) check-packaging
	@echo "sipcache: all tests passed"

.PHONY: unit-bins progs check-install check-integration check check-unit check-build check-fuzz-replay fuzz fuzz-bins deps

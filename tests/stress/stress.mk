# tests/stress/stress.mk - included by the top Makefile, after tests/tests.mk.
#
#   make stress       first the cache core alone (tests/stress/churn.c:
#                     processes of threads storing, evicting and hitting
#                     while others flush and come and go, the file checked
#                     after each round; STRESS_CHURN_ROUNDS, 5), then
#                     processes x threads of lookups through the preload and
#                     the NSS module while others flush the cache and mark
#                     targets down, every answer checked against the
#                     authoritative server's, then `sipcachectl check'
#                     (root: a private DNS world, tests/lib/world.sh).
#                     STRESS_SECONDS (30), STRESS_PROCS (4), STRESS_THREADS (8),
#                     STRESS_SEED (default: the time)
#   make check-tsan   every unit test and the stress run (short) built with
#                     clang -fsanitize=thread; a report fails it.  Reports
#                     from inside libc and libtdb are suppressed only where
#                     tests/stress/tsan.supp says why.

STRESS_SECONDS ?= 30
STRESS_PROCS ?= 4
STRESS_THREADS ?= 8
STRESS_SEED ?=
STRESS_CHURN_ROUNDS ?= 5
TSAN_O = build/tsan
TSAN_STRESS_SECONDS ?= 10

# churn links the core (no front end: a failure is the cache's or tdb's);
# the other programs (tests/progs/faults_stress.c, preload_stress.c) are
# built by `make progs'.
$(O)/tests/stress/churn: tests/stress/churn.c $(SHIM_LIB) shim/sc.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -MMD -MP $(LDFLAGS_ALL) -o $@ $< \
		$(SHIM_LIB) $(LDLIBS_ALL)

stress-bins: all progs $(O)/tests/stress/churn

# churn [ROUNDS]: the churn program in a directory of its own, removed
# afterwards; bounded (a hang is a failure).
define stress_churn
	d=$$(mktemp -d /tmp/sipcache-churn.XXXXXX) && \
	timeout -k 5 $$((30 * $(1) + 30)) $(O)/tests/stress/churn -r $(1) $$d; \
	st=$$?; rm -rf $$d; [ $$st = 0 ] || { echo "stress: churn failed ($$st)" >&2; exit 1; }
endef

stress: stress-bins
	$(call stress_churn,$(STRESS_CHURN_ROUNDS))
	O=$(O) tests/stress/run -d $(STRESS_SECONDS) -p $(STRESS_PROCS) \
		-t $(STRESS_THREADS) $(if $(STRESS_SEED),-s $(STRESS_SEED))

# clang's TSan runtime is static: it is linked into each executable, and
# the preload and the NSS module (instrumented, no runtime of their own)
# bind to the one of the program they are loaded into; hence -z undefs,
# which overrides the -z defs of their link.  Its shared runtime
# (-shared-libsan) crashes at start-up with clang 14 here, so programs
# that are not ours (getent, python3) cannot be run under TSan: the
# integration part is the stress run, whose programs are all built here.
check-tsan:
	$(MAKE) O=$(TSAN_O) CC=clang SAN=thread CFLAGS='-O1 -g' \
		LDFLAGS='-Wl,-z,undefs' stress-bins unit-bins
	TSAN_OPTIONS="halt_on_error=1:exitcode=66:suppressions=$(CURDIR)/tests/stress/tsan.supp" \
		O=$(TSAN_O) SAN=thread tests/run-unit $(UNIT_SRC:tests/%.c=$(TSAN_O)/tests/%)
	TSAN_OPTIONS="halt_on_error=1:exitcode=66:suppressions=$(CURDIR)/tests/stress/tsan.supp" \
		$(MAKE) --no-print-directory O=$(TSAN_O) CC=clang SAN=thread CFLAGS='-O1 -g' \
		LDFLAGS='-Wl,-z,undefs' STRESS_CHURN_ROUNDS=1 stress-churn
	O=$(TSAN_O) tests/stress/run -T -d $(TSAN_STRESS_SECONDS) -p 2 -t 4

# The churn part of `make stress' alone.
stress-churn: $(O)/tests/stress/churn
	$(call stress_churn,$(STRESS_CHURN_ROUNDS))

.PHONY: stress stress-bins stress-churn check-tsan

# bench/bench.mk - included by the top Makefile.
#
#   make bench          every benchmark, sipcache beside unbound, nscd, nss
#                       files and the authoritative server, in a private
#                       world (as root); the report is printed and kept in
#                       build/bench/report.txt (bench/run tells the rest)
#   make bench-bins     only build the client, $(O)/bench/sipbench
#
# BENCH_RUNS, BENCH_QUICK=1, BENCH_ONLY, BENCH_SIZES, BENCH_OUT are read by
# bench/run.  Benchmark an optimised build without sanitizers (the
# default CFLAGS); bench/run refuses a sanitized one.

BENCH_BIN = $(O)/bench/sipbench

$(O)/bench/sipbench: bench/sipbench.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -MMD -MP $(LDFLAGS_ALL) -o $@ $< \
		-lresolv -lpthread

bench-bins: $(BENCH_BIN)

bench: all $(BENCH_BIN)
	O=$(O) bench/run

.PHONY: bench bench-bins

-include $(wildcard $(O)/bench/*.d)

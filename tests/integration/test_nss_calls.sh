#!/bin/bash
# test_nss_calls.sh - the module's entry points called directly, beside
# glibc's nss_dns in the same process (tests/progs/nss_call), against Knot:
#
#  - gethostbyname3_r/4_r and gethostbyaddr2_r give nss_dns's status,
#    h_errno, answer and TTL (errno: the caller's, kept on success);
#  - max_ttl bounds the TTL they report, on a miss as on a hit;
#  - the hosts file is read by the module only when glibc's `files' does
#    not run before it (sc_addr_nss_sources) and the order says so;
#  - in a setuid program the environment is not honoured
#    (SIPCACHE_DISABLE, SIPCACHE_CONF: secure_getenv);
#  - with the preload in the process, the module uses the preload's core:
#    one open of the cache file.
set -eu
# shellcheck source-path=SCRIPTDIR source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"

module=$WORLD_BUILD/nss/libnss_sipcache.so.2
prog=$WORLD_BUILD/tests/progs/nss_call
preload=$WORLD_BUILD/preload/libsipcache-preload.so
[ -e "$module" ] || world_fail "$module missing: build it first (make all)"
[ -x "$prog" ] || world_fail "$prog missing: build it first (make progs)"
if nm -D "$module" | grep -q __asan_init; then
	world_skip "the module is built with sanitizers; nss_call cannot load it"
fi
libdir=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

world_begin nss_calls
world_zone "$WORLD_ZONES/sip.test.zone"
world_zone "$WORLD_ZONES/0.0.127.in-addr.arpa.zone"
world_dns_start
world_overlay "$libdir"
world_run install -m 0644 "$module" "$libdir/libnss_sipcache.so.2"
world_hosts "127.0.0.1 localhost" "127.0.1.1 world" "127.0.0.99 hostsonly.sip.test hostsonly"
world_nsswitch_hosts files sipcache '[!UNAVAIL=return]' dns

# One call through both modules: sipcache's line must be dns's, but for
# errno on success (nss_dns leaves res_search's 0; we keep the caller's).
calls='byname3 sip1.sip.test inet
byname3 sip1.sip.test inet6
byname3 alias.sip.test inet
byname3 alias.sip.test inet6
byname3 multi.sip.test inet
byname3 v4only.sip.test inet6
byname3 nx.sip.test inet
byname3 big.sip.test inet
byname4 sip1.sip.test
byname4 alias.sip.test
byname4 v6only.sip.test
byname4 nx.sip.test
byname4 big.sip.test
byaddr2 127.0.0.11
byaddr2 127.0.0.12
byaddr2 127.0.0.200'

compare() {
	local args d s td ts
	while read -r args; do
		# shellcheck disable=SC2086 # the words of one call
		d=$(world_run "$prog" dns $args | sed -n 's/^dns: //p')
		# shellcheck disable=SC2086
		s=$(world_run "$prog" sipcache $args | sed -n 's/^sipcache: //p')
		case $s in
		SUCCESS*)
			world_assert_match '^SUCCESS errno=4242 ' "$s" "errno after $args"
			d=$(printf '%s' "$d" | sed 's/^SUCCESS errno=[0-9]* /SUCCESS errno=4242 /')
			;;
		esac
		# An earlier call may have cached what this one needs: its
		# TTL is then the entry's remaining lifetime, a bit lower.
		td=$(printf '%s' "$d" | sed -n 's/.* ttl=\([0-9]*\) .*/\1/p')
		ts=$(printf '%s' "$s" | sed -n 's/.* ttl=\([0-9]*\) .*/\1/p')
		if [ -n "$td" ] && [ -n "$ts" ] && [ "$ts" -le "$td" ] && [ "$ts" -ge $((td - 10)) ]; then
			s=$(printf '%s' "$s" | sed "s/ ttl=$ts / ttl=$td /")
		fi
		world_assert_eq "$d" "$s" "$args"
	done <<<"$calls"
}

# A miss: the upstream TTLs as nss_dns reports them.
world_dns_reset
compare
world_assert_eq "SUCCESS errno=4242 h_errno=0 ttl=* | name=sip1.sip.test aliases=alias.sip.test,alias2.sip.test addrs=127.0.0.11" \
	"$(world_run "$prog" sipcache byname3 alias.sip.test inet | sed -n 's/^sipcache: //p' |
		sed 's/ttl=[0-9]* /ttl=* /')" "alias.sip.test through the module"

# --- max_ttl: the reported TTL is bounded, hit or miss --------------------------------
world_sipcache_conf "max_ttl = 60"
out=$(world_run "$prog" sipcache byname3 sip1.sip.test inet -- sipcache byname4 alias.sip.test \
	-- sipcache byaddr2 127.0.0.11 -- sipcache byname3 backup.sip.test inet -- dns byname3 backup.sip.test inet)
world_assert_eq "sipcache: SUCCESS errno=4242 h_errno=0 ttl=60 | name=sip1.sip.test aliases= addrs=127.0.0.11
sipcache: SUCCESS errno=4242 h_errno=0 ttl=60 | name=sip1.sip.test addrs=127.0.0.11,::1
sipcache: SUCCESS errno=4242 h_errno=0 ttl=60 | name=sip1.sip.test aliases= addrs=127.0.0.11
sipcache: SUCCESS errno=4242 h_errno=0 ttl=60 | name=backup.sip.test aliases= addrs=127.0.0.13
dns: SUCCESS errno=0 h_errno=0 ttl=300 | name=backup.sip.test aliases= addrs=127.0.0.13
cache_fds=1" "$out" "TTLs with max_ttl = 60"
world_sipcache_conf

# --- which sources the module reads ---------------------------------------------------------
# `files' before us: glibc read the file, the module does not.
world_assert_eq "NOTFOUND errno=4242 h_errno=1 ttl=- | " \
	"$(world_run "$prog" sipcache byname3 hostsonly.sip.test inet | sed -n 's/^sipcache: //p')" \
	"hostsonly with files before sipcache"
# Us before `files': the order is dns-first, DNS says NXDOMAIN, the file
# answers (what `files' after us would have said).
world_nsswitch_hosts sipcache '[!UNAVAIL=return]' files dns
world_assert_eq "SUCCESS errno=4242 h_errno=0 ttl=- | name=hostsonly.sip.test aliases=hostsonly addrs=127.0.0.99" \
	"$(world_run "$prog" sipcache byname3 hostsonly.sip.test inet | sed -n 's/^sipcache: //p')" \
	"hostsonly with sipcache before files"
# No `files' at all: no hosts file, unless the configuration says so.
world_nsswitch_hosts sipcache '[!UNAVAIL=return]' dns
world_assert_eq "NOTFOUND errno=4242 h_errno=1 ttl=- | " \
	"$(world_run "$prog" sipcache byname3 hostsonly.sip.test inet | sed -n 's/^sipcache: //p')" \
	"hostsonly without files"
world_sipcache_conf "hosts_order = files-first"
world_dns_reset
world_assert_eq "SUCCESS errno=4242 h_errno=0 ttl=- | name=hostsonly.sip.test addrs=127.0.0.99" \
	"$(world_run "$prog" sipcache byname4 hostsonly.sip.test | sed -n 's/^sipcache: //p')" \
	"hostsonly with hosts_order = files-first"
world_dns_assert_count 0 "" "queries for a name the hosts file answered"
world_sipcache_conf
world_nsswitch_hosts files sipcache '[!UNAVAIL=return]' dns

# --- the environment, honoured or not ----------------------------------------------------------
world_assert_eq "sipcache: UNAVAIL errno=2 h_errno=3 ttl=- | " \
	"$(world_run env SIPCACHE_DISABLE=1 "$prog" sipcache byname3 sip1.sip.test inet | head -n 1)" \
	"SIPCACHE_DISABLE=1"
# A setuid-root copy run by nobody (AT_SECURE): both variables ignored.
world_run install -m 4755 "$prog" "$WORLD_DIR/nss_call_suid"
nobody_run() {
	world_run setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all -- "$@"
}
printf 'cache_file = /nonexistent/cache.tdb\n' >"$WORLD_DIR/other.conf"
chmod 0644 "$WORLD_DIR/other.conf"
world_assert_eq "sipcache: SUCCESS errno=4242 h_errno=0 ttl=300 | name=sip2.sip.test aliases= addrs=127.0.0.12" \
	"$(nobody_run env SIPCACHE_DISABLE=1 SIPCACHE_CONF="$WORLD_DIR/other.conf" \
		"$WORLD_DIR/nss_call_suid" sipcache byname3 sip2.sip.test inet | head -n 1 |
		sed 's/ttl=[0-9]*/ttl=300/')" \
	"a setuid program with SIPCACHE_DISABLE and SIPCACHE_CONF set"
# The same environment without setuid: honoured (other.conf's cache
# cannot be opened: UNAVAIL).
world_assert_eq "sipcache: UNAVAIL errno=2 h_errno=3 ttl=- | " \
	"$(nobody_run env SIPCACHE_CONF="$WORLD_DIR/other.conf" "$prog" sipcache byname3 sip2.sip.test inet 2>/dev/null |
		head -n 1)" "SIPCACHE_CONF without setuid"

# --- with the preload: one core, one open of the cache file -----------------------------------
if [ -e "$preload" ] && ! nm -D "$preload" | grep -q __asan_init; then
	nm -D --defined-only "$preload" | grep -q ' sipcache_core_ops_v1$' ||
		world_fail "the preload does not export sipcache_core_ops_v1"
	# res_query (the preload's core opens the file), then the module:
	# with two cores its own open of the same file would fail (tdb
	# refuses a second open in one process) and it would say UNAVAIL.
	out=$(world_run env LD_PRELOAD="$preload" "$prog" res res_query sip1.sip.test -- \
		sipcache byname4 sip1.sip.test -- sipcache byaddr2 127.0.0.12)
	world_assert_match '^res_query: [0-9]+ h_errno=' "$out" "res_query under the preload"
	world_assert_match '^sipcache: SUCCESS errno=4242 h_errno=0 ttl=[0-9]+ \| name=sip1.sip.test addrs=127.0.0.11,::1$' \
		"$out" "the module under the preload"
	world_assert_match '^sipcache: SUCCESS .* name=sip2.sip.test ' "$out" "byaddr under the preload"
	world_assert_match '^cache_fds=1$' "$out" "descriptors open on the cache file"
else
	world_log "no (plain) preload in $WORLD_BUILD: the shared-core check is not run"
fi

world_end
echo "PASS: test_nss_calls"

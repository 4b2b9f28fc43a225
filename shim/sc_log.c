/*
 * sc_log.c - logging from inside somebody else's process.
 *
 * sipcache runs in SIP servers, nscd and every program that resolves a
 * name.  It must never flood their logs nor change their syslog identity:
 * we never call openlog() (that would rename the host's messages), we
 * prefix our own lines with "sipcache:", and each failure kind (enum
 * sc_fault) is logged once per process.  Nothing here is on the hit path.
 *
 * The target and level are set once from the configuration; until then
 * warnings and worse go to syslog, which is what a daemon would see.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sc.h"

static enum sc_log_target log_target = SC_LOG_SYSLOG;
static int log_level = LOG_WARNING;
static unsigned fault_seen; /* bit per enum sc_fault, atomically set */

void sc_log_setup(enum sc_log_target target, int level)
{
	__atomic_store_n(&log_target, target, __ATOMIC_RELAXED);
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

void sc_logv(int level, const char *func, const char *fmt, va_list ap)
{
	enum sc_log_target target = __atomic_load_n(&log_target, __ATOMIC_RELAXED);
	char msg[512];
	int saved = errno;

	if (target == SC_LOG_OFF || level > __atomic_load_n(&log_level, __ATOMIC_RELAXED)) {
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (target == SC_LOG_STDERR) {
		/* One write(2), so that lines of threads do not interleave. */
		char line[600];
		int n = snprintf(line, sizeof(line), "sipcache[%ld]: %s: %s\n",
				 (long)getpid(), func, msg);
		if (n > 0) {
			ssize_t w = write(STDERR_FILENO, line,
					  (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
			(void)w;
		}
	} else {
		syslog(level, "sipcache: %s: %s", func, msg);
	}
	errno = saved;
}

void sc_log(int level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sc_logv(level, func, fmt, ap);
	va_end(ap);
}

void sc_log_fault(enum sc_fault fault, int level, const char *func,
		  const char *fmt, ...)
{
	unsigned bit = 1u << fault;
	va_list ap;

	if (__atomic_fetch_or(&fault_seen, bit, __ATOMIC_RELAXED) & bit) {
		return;
	}
	va_start(ap, fmt);
	sc_logv(level, func, fmt, ap);
	va_end(ap);
}

void sc_log_fault_reset(void)
{
	__atomic_store_n(&fault_seen, 0, __ATOMIC_RELAXED);
}

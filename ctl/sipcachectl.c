/*
 * sipcachectl - the operator's control tool for the sipcache cache.
 *
 *	sipcachectl [--config FILE] [--verbose] COMMAND [ARGS...]
 *
 * The commands work on the shared cache file named by sipcache.conf, the
 * same file every process using sipcache maps, so what they change takes
 * effect in every process at its next lookup, without a restart: a flush
 * bumps the change counters in the stats file, which retire every
 * process's private copies (shim/sc_cache.c, "first level").
 *
 * This file: the command table, option parsing, the configuration,
 * opening the cache and saying what its errors mean.  The commands live in
 * ctl_cache.c (flush, stats, dump, check), ctl_get.c (get) and ctl_sip.c
 * (resolve, enum, serves, down, up); see ctl.h.
 *
 * Conventions (sipcachectl(8)): messages go to stderr and say what to do;
 * exit status 0 done, 1 not found / false, 2 usage, 3 the cache cannot be
 * used.  The cache file is opened as every process opens it, read-write
 * (tdb takes no locks on a read-only open, so a reader could see a record
 * half written), after the same trust checks, made before tdb touches the
 * file.  The commands that work on the file never create it (no file:
 * nothing cached, nothing to do); those that look names up go through
 * the core, which creates it as any process would.  Only the counters
 * (stats) are read without write access: plain numbers in their own file.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

static const char *const prog = "sipcachectl";

static const struct ctl_cmd commands[] = {
	{ "flush", "[NAME [TYPE]]", "remove answers, in every process at once",
	  "Without NAME, remove every cached answer.  With NAME, every answer for that\n"
	  "name (all types, positive and negative).  With NAME and TYPE, that one\n"
	  "answer (class IN).  Target marks (down/up) are kept.  Every process using\n"
	  "the cache sees the change at its next lookup.  Prints how many entries went;\n"
	  "exits 0 even when there was nothing to remove.\n",
	  ctl_cmd_flush },
	{ "stats", "[--json] [--reset]", "counters of every process using the cache",
	  "Hits, misses, negative hits, stale answers served, upstream errors,\n"
	  "evictions, stores, hosts-file answers, damaged records dropped, entries and\n"
	  "bytes in the cache, the hit ratio (hits / (hits + misses)), and hits and\n"
	  "misses per record type.  Readable by anyone who may read the stats file.\n"
	  "\n"
	  "  -j, --json   one JSON object instead of text\n"
	  "  -r, --reset  set the counters to zero after printing them (needs write\n"
	  "               access, like flush)\n",
	  ctl_cmd_stats },
	{ "dump", "[--json]", "list every cached answer",
	  "One line per entry: name, type, class, kind (positive, NXDOMAIN, NODATA),\n"
	  "remaining TTL, state (fresh; stale: expired but still served while the\n"
	  "upstream resolver fails, within serve_stale; expired: waiting to be swept)\n"
	  "and size in bytes, sorted by name and type.\n"
	  "\n"
	  "  -j, --json   one JSON object with an `entries' array\n",
	  ctl_cmd_dump },
	{ "get", "[--short] NAME [TYPE]", "look a name up through the cache, like dig",
	  "Asks the question (TYPE defaults to A, class IN) as res_query() in any\n"
	  "process using sipcache would: hosts file, cache, upstream resolver.  Prints\n"
	  "where the answer came from and the answer's sections as dig does; a miss\n"
	  "is stored in the cache like any other.  Exits 0 with an answer, 1 for\n"
	  "NXDOMAIN, no data or a failure of the upstream resolver.\n"
	  "\n"
	  "  -s, --short  print the RDATA of the answer section only\n",
	  ctl_cmd_get },
	{ "check", "[--repair]", "verify the cache file, or rebuild it",
	  "Checks tdb's own structure and every record.  Exits 0 when the file is\n"
	  "sound, 1 when damage was found.  With --repair, drops damaged records, or,\n"
	  "when tdb's structure itself is damaged, copies every good record into a\n"
	  "new file and renames it over the old one (processes follow within a\n"
	  "second), then exits 0 when the file is sound; a file that does not exist\n"
	  "yet is created, empty (as root, so that every process trusts it).\n"
	  "\n"
	  "  -r, --repair  repair what is found\n",
	  ctl_cmd_check },
	{ "resolve", "[--short] SIP-URI", "RFC 3263 targets of a SIP or SIPS URI",
	  "The ordered list of targets (transport, host, port, address) the RFC 3263\n"
	  "process gives for the URI, one per line, each followed (indented) by the\n"
	  "NAPTR and SRV records that led to it.  Targets marked down come last,\n"
	  "flagged `down'.  Lookups go through the cache.  Exits 0 when a target has\n"
	  "an address, 1 otherwise.\n"
	  "\n"
	  "  -s, --short  the targets only, without numbers and records\n",
	  ctl_cmd_resolve },
	{ "enum", "[--all] NUMBER [SUFFIX...]", "ENUM lookup of an E.164 number",
	  "Looks up the NAPTR records of NUMBER (+ and digits) under each SUFFIX in\n"
	  "turn (default e164.arpa) and prints the URIs their regular expressions\n"
	  "give, by order and preference: ORDER PREF SERVICE URI, then the domain of\n"
	  "the rule.  Exits 0 with a URI, 1 without.\n"
	  "\n"
	  "  -a, --all    every order, not only the first that gave a URI\n",
	  ctl_cmd_enum },
	{ "serves", "[--quiet] DOMAIN", "does DOMAIN's SIP service point here?",
	  "Exits 0 when a SIP SRV target of DOMAIN (through its NAPTR records, and\n"
	  "_sip._udp, _sip._tcp, _sips._tcp, _sip._sctp, _sips._sctp) resolves to an\n"
	  "address of this host, 1 when none does: the mass virtual hosting check.\n"
	  "Prints the verdict and every target found (`local' when it is ours).\n"
	  "\n"
	  "  -q, --quiet  print nothing; the exit status says it\n",
	  ctl_cmd_serves },
	{ "down", "[TARGET [SECONDS]]", "mark a target down for every process",
	  "TARGET is a host name, HOST:PORT, an address, ADDRESS:PORT or\n"
	  "[IPv6]:PORT.  Served SRV answers (for a name) and A/AAAA answers (for an\n"
	  "address) put it last, or leave it out while another remains, until\n"
	  "SECONDS (default 300; suffixes s, m, h, d) have passed or `up' is run.\n"
	  "Without TARGET, lists the marks in force.\n",
	  ctl_cmd_down },
	{ "up", "TARGET | --all", "remove the down mark of a target",
	  "Removes the mark `down' set on TARGET (written the same way).  Exits 1\n"
	  "when TARGET was not marked.\n"
	  "\n"
	  "  -a, --all    remove every mark\n",
	  ctl_cmd_up },
};

/* ------------------------------------------------------------------ */
/* messages                                                            */

static void vmessage(const struct ctl *ctl, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void vmessage(const struct ctl *ctl, const char *fmt, va_list ap)
{
	fflush(stdout);
	if (ctl && ctl->cmd) {
		fprintf(stderr, "%s %s: ", prog, ctl->cmd->name);
	} else {
		fprintf(stderr, "%s: ", prog);
	}
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ctl_err(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(ctl, fmt, ap);
	va_end(ap);
}

int ctl_usage(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(ctl, fmt, ap);
	va_end(ap);
	if (ctl && ctl->cmd) {
		fprintf(stderr, "Try '%s %s --help'.\n", prog, ctl->cmd->name);
	} else {
		fprintf(stderr, "Try '%s --help'.\n", prog);
	}
	return CTL_USAGE;
}

int ctl_finish(const struct ctl *ctl, int status)
{
	/* A dump into a full disk must not look like a success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_err(ctl, "cannot write the output: %s", strerror(errno));
		return status == CTL_OK ? CTL_FALSE : status;
	}
	return status;
}

/* ------------------------------------------------------------------ */
/* help                                                                */

static void print_usage(FILE *f)
{
	unsigned i;

	fprintf(f,
		"Usage: %s [--config FILE] [--verbose] COMMAND [ARGS...]\n"
		"\n"
		"Control the sipcache DNS cache shared by every process of this host.\n"
		"\n"
		"Commands:\n", prog);
	for (i = 0; i < SC_ARRAY_SIZE(commands); i++) {
		fprintf(f, "  %-7s %-26s %s\n", commands[i].name, commands[i].args,
			commands[i].summary);
	}
	fprintf(f,
		"\n"
		"Options:\n"
		"  -c, --config FILE  read FILE instead of %s\n"
		"  -v, --verbose      show what the cache library logs, on stderr\n"
		"  -h, --help         this help; `%s COMMAND --help' for one command\n"
		"  -V, --version      the version\n"
		"\n"
		"Exit status: 0 done, 1 not found / false, 2 usage, 3 the cache cannot be\n"
		"used.  See sipcachectl(8), sipcache.conf(5), sipcache(7).\n",
		SC_CONF_PATH, prog);
}

static void print_command_help(const struct ctl_cmd *cmd)
{
	printf("Usage: %s [--config FILE] %s %s\n\n%c%s.\n\n%s", prog, cmd->name, cmd->args,
	       toupper((unsigned char)cmd->summary[0]), cmd->summary + 1, cmd->help);
	printf("\nCommon options:\n"
	       "  -c, --config FILE  read FILE instead of %s\n"
	       "  -h, --help         this help\n", SC_CONF_PATH);
}

static const struct ctl_cmd *find_command(const char *name)
{
	unsigned i;

	for (i = 0; i < SC_ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, name) == 0) {
			return &commands[i];
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* options                                                             */

#define MAX_FLAGS 8

int ctl_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_flag *flags,
	      unsigned nflags, int min, int max, int *ret_status)
{
	struct option longopts[MAX_FLAGS + 3];
	char shortopts[2 * MAX_FLAGS + 8];
	size_t ns = 0;
	unsigned i;
	int c, idx, operands;

	if (nflags > MAX_FLAGS) {
		abort();   /* a programming error in the command table */
	}
	/* `+': stop at the first operand only with POSIXLY_CORRECT; by
	 * default GNU getopt permutes, so `get NAME --short' works too. */
	ns += (size_t)snprintf(shortopts, sizeof(shortopts), ":hc:");
	longopts[0] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[1] = (struct option){ "config", required_argument, NULL, 'c' };
	for (i = 0; i < nflags; i++) {
		longopts[2 + i] = (struct option){ flags[i].name, no_argument, NULL,
						   flags[i].letter ? flags[i].letter
								   : 0x100 + (int)i };
		if (flags[i].letter) {
			shortopts[ns++] = (char)flags[i].letter;
		}
	}
	shortopts[ns] = '\0';
	longopts[2 + nflags] = (struct option){ NULL, 0, NULL, 0 };

	optind = 0;   /* GNU: reinitialise (the global options used it) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		switch (c) {
		case 'h':
			print_command_help(ctl->cmd);
			*ret_status = CTL_OK;
			return -1;
		case 'c':
			ctl->conf_path = optarg;
			ctl->conf_given = true;
			break;
		case ':':
			*ret_status = ctl_usage(ctl, "option '%s' needs an argument",
						argv[optind - 1]);
			return -1;
		case '?':
			if (optopt) {
				*ret_status = ctl_usage(ctl, "unknown option '-%c'", optopt);
			} else {
				*ret_status = ctl_usage(ctl, "unknown option '%s'",
							argv[optind - 1]);
			}
			return -1;
		default:
			for (i = 0; i < nflags; i++) {
				if (c == (flags[i].letter ? flags[i].letter : 0x100 + (int)i)) {
					*flags[i].value = true;
				}
			}
			break;
		}
	}
	operands = argc - optind;
	if (operands < min) {
		*ret_status = ctl_usage(ctl, "missing argument: %s %s", ctl->cmd->name,
					ctl->cmd->args);
		return -1;
	}
	if (operands > max) {
		*ret_status = ctl_usage(ctl, "unexpected argument '%s'", argv[optind + max]);
		return -1;
	}
	return optind;
}

/* ------------------------------------------------------------------ */
/* configuration and the cache file                                    */

int ctl_load_conf(struct ctl *ctl)
{
	struct group gr, *res = NULL;
	char err[512], buf[4096];
	int r;

	if (ctl->conf_loaded) {
		return CTL_OK;
	}
	sc_conf_defaults(&ctl->conf);
	if (ctl->conf_path == NULL) {
		ctl->conf_path = sc_conf_path();
	}
	err[0] = '\0';
	r = sc_conf_load(&ctl->conf, ctl->conf_path, err, sizeof(err));
	if (r == -ENOENT && !ctl->conf_given) {
		/* As in every process: no file means the defaults. */
		r = 0;
	}
	if (r == -ENOENT) {
		return ctl_usage(ctl, "%s: no such configuration file", ctl->conf_path);
	}
	if (r < 0) {
		ctl_err(ctl, "%s", err[0] ? err : strerror(-r));
		ctl_err(ctl, "fix %s: until then every process using sipcache runs uncached",
			ctl->conf_path);
		return CTL_UNUSABLE;
	}
	ctl->group = (gid_t)-1;
	if (ctl->conf.group[0] &&
	    getgrnam_r(ctl->conf.group, &gr, buf, sizeof(buf), &res) == 0 && res) {
		ctl->group = gr.gr_gid;
	}
	ctl->conf_loaded = true;
	return CTL_OK;
}

void ctl_cache_opts(const struct ctl *ctl, struct sc_cache_opts *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->path = ctl->conf.cache_file;
	ret->max_entries = ctl->conf.max_entries;
	ret->create = false;
	ret->group = ctl->group;
	ret->keep_stale = ctl->conf.serve_stale;
}

int ctl_cache_open(struct ctl *ctl, struct sc_cache **ret)
{
	struct sc_cache_opts o;
	struct stat st;
	int r;

	/*
	 * Trust first, by lstat, before tdb opens anything: opening a tdb
	 * file read-write may write to it (tdb initialises the mutex area
	 * when it finds no other opener), and a file nobody should trust
	 * is left exactly as it is.
	 */
	r = sc_trust_parent_dir(ctl->conf.cache_file, ctl->group);
	if (r < 0) {
		return r;
	}
	if (lstat(ctl->conf.cache_file, &st) != 0) {
		return -errno;
	}
	r = sc_trust_stat(&st, false, ctl->group);
	if (r < 0) {
		return r;
	}
	ctl_cache_opts(ctl, &o);
	return sc_cache_open(ret, &o);
}

int ctl_cache_failed(const struct ctl *ctl, const char *path, int r)
{
	const char *group = ctl->conf.group[0] ? ctl->conf.group : "root";

	switch (r) {
	case -ENOENT:
		ctl_err(ctl, "%s: no such file: no process has used the cache yet (the first "
			"lookup through sipcache creates it), or cache_file in %s names "
			"another file", path, ctl->conf_path);
		break;
	case -EACCES:
	case -EROFS:
		ctl_err(ctl, "%s: permission denied: only root and members of group '%s' may "
			"use the cache file (reading it takes its locks, which needs write "
			"access); run as root or as a member of '%s'.  Nothing was changed.",
			path, group, group);
		break;
	case -EPERM:
	case -ELOOP:
		ctl_err(ctl, "%s: not trusted: the file and its directory must be owned by "
			"root and writable only by root and group '%s', and the file must "
			"not be a symbolic link; every process finding it otherwise runs "
			"uncached.  Fix it as root: chown root:%s FILE DIR; chmod 0664 FILE; "
			"chmod 2775 DIR", path, group, group);
		break;
	case -EBADMSG:
	case -EIO:
	case -EINVAL:
	case -ENOTRECOVERABLE:
		ctl_err(ctl, "%s: damaged or not a sipcache cache file; every process runs "
			"uncached until it is rebuilt: run '%s check --repair' as root", path,
			prog);
		break;
	case -EAGAIN:
	case -ETIMEDOUT:
	case -EBUSY:
		ctl_err(ctl, "%s: busy: another process holds a lock on it; try again", path);
		break;
	default:
		ctl_err(ctl, "%s: %s", path, strerror(-r));
		break;
	}
	return CTL_UNUSABLE;
}

int ctl_core(struct ctl *ctl, struct sc_core **ret)
{
	/* Misses are asked through libc's libresolv, as by the NSS module. */
	static const struct sc_real real = { .res_nquery = res_nquery, .res_query = res_query };
	struct sc_cache *c;
	int status, r;

	status = ctl_load_conf(ctl);
	if (status != CTL_OK) {
		return status;
	}
	if (sc_conf_disabled_by_env()) {
		ctl_err(ctl, "SIPCACHE_DISABLE is set in this environment: lookups here would "
			"not use the cache; unset it");
		return CTL_UNUSABLE;
	}
	/* The core reads its configuration from SIPCACHE_CONF: make it ours. */
	if (ctl->conf_given && setenv("SIPCACHE_CONF", ctl->conf_path, 1) != 0) {
		ctl_err(ctl, "cannot set SIPCACHE_CONF: %s", strerror(errno));
		return CTL_UNUSABLE;
	}
	*ret = sc_core_get(&real);
	/* The core set the log up from the configuration: ours again. */
	if (ctl->verbose) {
		sc_log_setup(SC_LOG_STDERR, LOG_DEBUG);
	} else {
		sc_log_setup(SC_LOG_OFF, LOG_ERR);
	}
	if (*ret != NULL) {
		return CTL_OK;
	}
	/* The core only says "pass through"; our own open says why. */
	r = ctl_cache_open(ctl, &c);
	if (r == 0) {
		sc_cache_close(c);
		ctl_err(ctl, "sipcache cannot be used in this process (its log line says why: "
			"run with --verbose)");
		return CTL_UNUSABLE;
	}
	return ctl_cache_failed(ctl, ctl->conf.cache_file, r);
}

/* ------------------------------------------------------------------ */
/* main                                                                */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { .group = (gid_t)-1 };
	const struct ctl_cmd *cmd;
	int c;

	opterr = 0;
	/* `+': options up to the command name are ours, the rest its own. */
	while ((c = getopt_long(argc, argv, "+:c:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctl.conf_path = optarg;
			ctl.conf_given = true;
			break;
		case 'v':
			ctl.verbose = true;
			break;
		case 'h':
			print_usage(stdout);
			return ctl_finish(&ctl, CTL_OK);
		case 'V':
			printf("%s (sipcache) %s\n", prog, SC_VERSION);
			return ctl_finish(&ctl, CTL_OK);
		case ':':
			return ctl_usage(&ctl, "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt) {
				return ctl_usage(&ctl, "unknown option '-%c'", optopt);
			}
			return ctl_usage(&ctl, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		print_usage(stderr);
		return CTL_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 >= argc) {
			print_usage(stdout);
			return ctl_finish(&ctl, CTL_OK);
		}
		cmd = find_command(argv[optind + 1]);
		if (cmd == NULL) {
			return ctl_usage(&ctl, "unknown command '%s'", argv[optind + 1]);
		}
		print_command_help(cmd);
		return ctl_finish(&ctl, CTL_OK);
	}
	cmd = find_command(argv[optind]);
	if (cmd == NULL) {
		return ctl_usage(&ctl, "unknown command '%s'", argv[optind]);
	}
	ctl.cmd = cmd;
	/* The cache library logs through sc_log; a command reports its own
	 * errors, so its log is only wanted when asked for. */
	if (ctl.verbose) {
		sc_log_setup(SC_LOG_STDERR, LOG_DEBUG);
	} else {
		sc_log_setup(SC_LOG_OFF, LOG_ERR);
	}
	return ctl_finish(&ctl, cmd->run(&ctl, argc - optind, argv + optind));
}

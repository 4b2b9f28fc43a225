/*
 * ctl.h - internal interface of sipcachectl (the files of ctl/).
 *
 *   sipcachectl.c  main: global options, the command table, configuration,
 *                  opening the cache, messages and exit statuses
 *   ctl_cache.c    flush, stats, dump, check: the cache file itself
 *   ctl_get.c      get: one question through the core, printed like dig
 *   ctl_sip.c      resolve, enum, serves, down, up: the SIP library
 *   ctl_text.c     presentation: record types, resource records, JSON
 *
 * Unlike shim/, this is a program of its own: it prints, and exits with
 * one of the statuses below (sipcachectl(8), EXIT STATUS).
 */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "../shim/sc.h"

#ifndef SC_VERSION
#define SC_VERSION "unknown"   /* the Makefile passes the release's */
#endif

enum ctl_status {
	CTL_OK = 0,        /* done; the answer exists; the file is sound */
	CTL_FALSE = 1,     /* not found, no, damage found */
	CTL_USAGE = 2,     /* bad command line, or not available in this build */
	CTL_UNUSABLE = 3,  /* the cache (or its configuration) cannot be used */
};

struct ctl_cmd;

struct ctl {
	const char *conf_path;        /* --config FILE, or sc_conf_path() */
	bool conf_given;              /* --config was given */
	bool conf_loaded;
	bool verbose;                 /* --verbose: the core's log on stderr */
	struct sc_conf conf;
	gid_t group;                  /* conf.group's gid, (gid_t)-1: none */
	const struct ctl_cmd *cmd;    /* the subcommand running */
};

struct ctl_cmd {
	const char *name;
	const char *args;             /* operands, for the synopsis */
	const char *summary;          /* one line, for the command list */
	const char *help;             /* the rest of `CMD --help' */
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

/* A boolean option of a subcommand (--json, --repair...). */
struct ctl_flag {
	const char *name;
	int letter;                   /* short option, 0: none */
	bool *value;
};

/* sipcachectl.c */
void ctl_err(const struct ctl *ctl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A usage error: the message, a pointer to --help; returns CTL_USAGE. */
int ctl_usage(const struct ctl *ctl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Options of the running subcommand: --help, --config FILE and `flags'.
 * Returns the index in argv of the first operand, or -1 with the exit
 * status in *ret_status (--help: CTL_OK; a bad option: CTL_USAGE).
 * Operands outside [min, max] are a usage error too.
 */
int ctl_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_flag *flags,
	      unsigned nflags, int min, int max, int *ret_status);
/* Read the configuration once; CTL_OK or the status after a message. */
int ctl_load_conf(struct ctl *ctl);
/* Options for sc_cache_open() from the configuration (never creates). */
void ctl_cache_opts(const struct ctl *ctl, struct sc_cache_opts *ret);
/* Open the cache file.  0, or -errno; nothing printed. */
int ctl_cache_open(struct ctl *ctl, struct sc_cache **ret);
/* The process's core, for the commands that look names up (get,
 * resolve, enum, serves); CTL_OK, or the status after a message. */
int ctl_core(struct ctl *ctl, struct sc_core **ret);
/* Say what an error of the cache file means and what to do about it;
 * returns the exit status (CTL_UNUSABLE). */
int ctl_cache_failed(const struct ctl *ctl, const char *path, int r);
/* Close stdout, reporting a write error (a full disk, a closed pipe). */
int ctl_finish(const struct ctl *ctl, int status);

/* ctl_cache.c */
int ctl_cmd_flush(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_stats(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_dump(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_check(struct ctl *ctl, int argc, char **argv);

/* ctl_get.c */
int ctl_cmd_get(struct ctl *ctl, int argc, char **argv);

/* ctl_sip.c */
int ctl_cmd_resolve(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_enum(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_serves(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_down(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_up(struct ctl *ctl, int argc, char **argv);

/* ctl_text.c */
#define CTL_TYPE_NAMELEN 16
/* "A", "NAPTR", "TYPE65280". */
const char *ctl_type_name(uint16_t type, char buf[CTL_TYPE_NAMELEN]);
/* A mnemonic (any case), TYPEnnn (RFC 3597) or a number; 0 or -EINVAL. */
int ctl_type_parse(const char *s, uint16_t *ret);
const char *ctl_class_name(uint16_t class, char buf[CTL_TYPE_NAMELEN]);
/* An uncompressed wire name in presentation form with its trailing dot
 * ("." for the root).  Returns the length or -errno. */
int ctl_name_text(const unsigned char *wire, char *out, size_t outlen);
/* A name given on the command line: presentation to wire; -EINVAL. */
int ctl_name_parse(const char *text, unsigned char *out);
/* One record of a parsed message, as a line of a zone file:
 * NAME<tab>TTL<tab>CLASS<tab>TYPE<tab>RDATA (or RDATA alone). */
void ctl_rr_print(FILE *f, const struct sc_msg *m, const struct sc_rr *rr, bool rdata_only);
/* A JSON string, quoted and escaped. */
void ctl_json_string(FILE *f, const char *s);
/* Wire length of the DNS message at the start of buf (at most len bytes):
 * header, question and every record; -EBADMSG when it does not fit. */
int ctl_message_length(const unsigned char *buf, size_t len);

#endif /* CTL_H */

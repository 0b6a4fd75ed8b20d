/*
 * cli: the program's frame.  Each command lives in its own file (tmux's
 * cmd-*.c, git's builtin/) as one entry that owns its usage, summary and
 * help text; commands.c lists the entries.  Only this layer prints errors
 * and exits.
 */
#ifndef FERRY_AGENT_CLI_H
#define FERRY_AGENT_CLI_H

#include <stdio.h>

#include "agent/server.h"
#include "util/err.h"

struct conf;

struct cli {
	const char *config_path;	/* -c FILE, or NULL */
	int json;			/* --json */
	int log_format_set;		/* --log-format given: it wins */
	struct conf *conf;		/* loaded by cli_conf() */
	struct server server;		/* filled by cli_server() */
	int server_ready;
	struct err server_err;		/* why it could not be filled */
};

struct cli_cmd {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage;		/* arguments after the name */
	const char *summary;
	const char *help;		/* options, one per line */
	const char *pending;		/* not built yet: what will bring it */
};

/* The table, NULL-terminated, in the order `ferry --help` lists it. */
extern const struct cli_cmd *const cli_commands[];
const struct cli_cmd *cli_find(const char *name);
void cli_print_help(const struct cli_cmd *c, FILE *out);
void cli_print_usage(FILE *out);

int cli_main(int argc, char **argv);
/* Runs a command by its table entry (help, pending, getopt reset). */
int cli_dispatch(struct cli *cli, int argc, char **argv);

/* Loads the configuration once; FX_USAGE errors name FILE:LINE. */
int cli_conf(struct cli *cli, struct err *e) __attribute__((warn_unused_result));
/* Loads it and raises the first problem among what the command uses:
 * uses is a space-separated list of sections ("backup offsite") and keys
 * ("server.connect_timeout").  A problem elsewhere does not stop it. */
int cli_conf_for(struct cli *cli, const char *uses, struct err *e)
	__attribute__((warn_unused_result));
/* The configuration's [server] as transport options (loads it first,
 * needs [server] and the compose keys, resolves host through
 * ssh_config); NULL with e set. */
const struct xport_opts *cli_server(struct cli *cli, struct err *e);
/* The same [server] before the check that ferry can follow its route
 * (`ferry config` shows a route it cannot use yet). */
const struct server *cli_server_resolved(struct cli *cli, struct err *e);
/* -q: result lines ("ok ...", "archive: ...") are left out too; errors,
 * --json output and what a command was asked to show (list's table, a
 * dry run's plan, config) are not. */
int cli_quiet(void);
/* stdout, or with -q a stream that drops what is written (for reports
 * that library code writes to a FILE). */
FILE *cli_results(void);
/* A stream that drops what is written to it (stdout when none can be
 * made): for results nobody is to see, under --json say. */
FILE *cli_nowhere(void);
/* Prints "ferry: MESSAGE" and returns the error's exit code. */
int cli_fail(const struct err *e);
/* Prints "ferry: CMD: MESSAGE (see ...)" and returns FX_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* getopt_long's complaint, worded as every usage error ("ferry CMD:
 * ..."): ch is getopt's '?' or ':' (optstrings start with ':'). */
int cli_bad_option(const char *cmd, int ch, int argc, char **argv);
/* A bounded number option: 0, or -1 after printing a usage error naming
 * it (the caller exits FX_USAGE). */
int cli_num(const char *cmd, const char *opt, const char *s, long long min,
	    long long max, long long *out);

/* Takes the global options (-q, -v, --json, --log-format, --config) out
 * of argv[1..], up to "--"; cmd names the command in a usage error.
 * 0, or -1 after saying why. */
int cli_take_globals(struct cli *cli, const char *cmd, int *argc, char **argv);

/* The multi-call names (deploy-to-dev, remote-logs, backup-dev-data): the
 * old scripts' interfaces; -1 when argv0 is none of them. */
int legacy_run(struct cli *cli, const char *argv0, int argc, char **argv);
/* 1 when name is one of them. */
int legacy_is_name(const char *name);

#endif

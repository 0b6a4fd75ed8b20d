/*
 * cli: command-line dispatch.  Subcommands are table entries (git's
 * builtin/, tmux's cmd-*.c); only this layer prints errors and exits.
 */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include "agent/err.h"

struct conf;

struct cli {
	const char *config_path;	/* -c FILE, or NULL */
	int json;			/* --json */
	struct conf *conf;		/* loaded by cli_conf() */
};

struct cli_cmd {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage;		/* arguments after the name */
	const char *summary;
	const char *help;		/* options, one per line */
};

int cli_main(int argc, char **argv);

/* Loads the configuration once; FX_USAGE errors name FILE:LINE. */
int cli_conf(struct cli *cli, struct err *e) __attribute__((warn_unused_result));
/* Prints "ferry: MESSAGE" and returns the error's exit code. */
int cli_fail(const struct err *e);
/* Prints a usage error for cmd and returns FX_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Subcommands implemented elsewhere (cmd_*.c). */
int cmd_config(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_deploy(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);
int cmd_prune(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);

#endif

/*
 * The old scripts' names, as links to ferry, with their flags:
 *   deploy-to-dev [--build] [--service NAME] [--type TYPE]   ferry deploy
 *   remote-logs [-f] [-n NUM] [SERVICE]                      ferry logs
 *   backup-dev-data                                          ferry backup
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent/cli.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/value.h"

static const char *legacy_name;

static const struct option help_opt[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

/* ferry's own -q and -v work under the old names too (cron runs
 * backup-dev-data -q); 1 when ch was one of them. */
static int global_opt(int ch)
{
	if (ch == 'q')
		log_set_level(LOG_QUIET);
	else if (ch == 'v')
		log_set_level(log_get_level() >= LOG_VERBOSE ? LOG_DEBUG :
			      LOG_VERBOSE);
	return ch == 'q' || ch == 'v';
}

static int legacy_deploy(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "build", no_argument, NULL, 'b' },
		{ "service", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct strlist args = STRLIST_INIT;
	int ch, r;

	strlist_add(&args, "deploy");
	while ((ch = getopt_long(argc, argv, "+:c:hqv", opts, NULL)) != -1) {
		if (global_opt(ch))
			continue;
		switch (ch) {
		case 'b':
			strlist_add(&args, "--build");
			break;
		case 's':
			strlist_add(&args, "--service");
			strlist_add(&args, optarg);
			break;
		case 't':
			strlist_add(&args, "--type");
			strlist_add(&args, optarg);
			break;
		case 'c':
			cli->config_path = optarg;
			break;
		case 'h':
			printf("usage: deploy-to-dev [--build] [--service NAME] "
			       "[--type TYPE] [-q|-v]\n(ferry deploy)\n");
			strlist_release(&args);
			return FX_OK;
		default:
			strlist_release(&args);
			return cli_bad_option(legacy_name, ch, argc, argv);
		}
	}
	if (optind < argc) {
		strlist_release(&args);
		return cli_usage_error("deploy-to-dev", "unexpected argument '%s'",
				       argv[optind]);
	}
	r = cli_dispatch(cli, (int)args.n, args.v);
	strlist_release(&args);
	return r;
}

static int legacy_logs(struct cli *cli, int argc, char **argv)
{
	struct strlist args = STRLIST_INIT;
	long long num;
	int ch, r;

	strlist_add(&args, "logs");
	while ((ch = getopt_long(argc, argv, "+:c:fn:hqv", help_opt, NULL)) != -1) {
		if (global_opt(ch))
			continue;
		switch (ch) {
		case 'f':
			strlist_add(&args, "-f");
			break;
		case 'n':
			if (value_int(optarg, 0, 100000000, &num) < 0) {
				strlist_release(&args);
				return cli_usage_error("remote-logs", "-n takes a "
						       "number of lines, not '%s'",
						       optarg);
			}
			strlist_add(&args, "-n");
			strlist_add(&args, optarg);
			break;
		case 'c':
			cli->config_path = optarg;
			break;
		case 'h':
			printf("usage: remote-logs [-q|-v] [-f] [-n NUM] [SERVICE]\n"
			       "(ferry logs)\n");
			strlist_release(&args);
			return FX_OK;
		default:
			strlist_release(&args);
			return cli_bad_option(legacy_name, ch, argc, argv);
		}
	}
	if (argc - optind > 1) {
		strlist_release(&args);
		return cli_usage_error("remote-logs", "takes at most one SERVICE");
	}
	if (optind < argc)
		strlist_add(&args, argv[optind]);
	r = cli_dispatch(cli, (int)args.n, args.v);
	strlist_release(&args);
	return r;
}

static int legacy_backup(struct cli *cli, int argc, char **argv)
{
	char *args[] = { "backup", NULL };
	int ch;

	while ((ch = getopt_long(argc, argv, "+:c:hqv", help_opt, NULL)) != -1) {
		if (global_opt(ch))
			continue;
		if (ch == 'c') {
			cli->config_path = optarg;
		} else if (ch == 'h') {
			printf("usage: backup-dev-data [-q|-v]\n(ferry backup)\n");
			return FX_OK;
		} else {
			return cli_bad_option("backup-dev-data", ch, argc, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("backup-dev-data",
				       "unexpected argument '%s'", argv[optind]);
	return cli_dispatch(cli, 1, args);
}

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} legacy[] = {
	{ "deploy-to-dev", legacy_deploy },
	{ "remote-logs", legacy_logs },
	{ "backup-dev-data", legacy_backup },
};

int legacy_run(struct cli *cli, const char *argv0, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
		if (strcmp(argv0, legacy[i].name))
			continue;
		legacy_name = legacy[i].name;
		/* README: global options work under the old names too. */
		if (cli_take_globals(cli, legacy_name, &argc, argv) < 0)
			return FX_USAGE;
		opterr = 0;
		return legacy[i].run(cli, argc, argv);
	}
	return -1;
}

int legacy_is_name(const char *name)
{
	for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
		if (!strcmp(name, legacy[i].name))
			return 1;
	return 0;
}

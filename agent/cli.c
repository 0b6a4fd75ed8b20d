#include "agent/cli.h"

#include <archive.h>
#include <curl/curl.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <libssh2.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "agent/buf.h"
#include "agent/log.h"
#include "conf/conf.h"
#include "conf/value.h"

static int cmd_pending(struct cli *cli, int argc, char **argv);

static const struct cli_cmd commands[] = {
	{ "deploy", cmd_deploy,
	  "[--build] [--service NAME]... [--type GROUP] [--dry-run] [--no-up] "
	  "[--checksum]",
	  "sync the project to the server and start it",
	  "  --build           build images on the server first\n"
	  "  --service NAME    deploy only this service (repeatable)\n"
	  "  --type GROUP      deploy the services of [group.GROUP]\n"
	  "  -n, --dry-run     show what would change (rsync-style), change nothing\n"
	  "  --no-up           stop after syncing the files\n"
	  "  -c, --checksum    compare contents, not sizes and times\n" },
	{ "up", cmd_pending, "[SERVICE...]", "start services (compose up -d)", "" },
	{ "down", cmd_pending, "", "stop the project (compose down)", "" },
	{ "ps", cmd_pending, "[SERVICE...]", "show service status", "" },
	{ "logs", cmd_pending, "[-f] [-n NUM] [SERVICE...]",
	  "show service logs",
	  "  -f, --follow      keep streaming new lines\n"
	  "  -n, --tail NUM    start with the last NUM lines\n" },
	{ "exec", cmd_pending, "SERVICE -- CMD...",
	  "run a command in a service container", "" },
	{ "backup", cmd_backup, "[--only COMPONENT,...] [--fail-fast] [--json]",
	  "take a backup archive of the server's data",
	  "  --only LIST       only these components (postgres; minio, redis,\n"
	  "                    neo4j, logs, files arrive later)\n"
	  "  --fail-fast       stop at the first failing component, publish nothing\n"
	  "exit 5 when the archive was written but a component failed; 7 when\n"
	  "another backup holds the lock\n" },
	{ "restore", cmd_restore, "ARCHIVE|--latest [--only postgres] "
	  "[--db SRC=DST]... [--clean] [--jobs N]",
	  "restore an archive into the configured server",
	  "  --latest          the newest archive\n"
	  "  --offsite         take the archive from [offsite] (streamed)\n"
	  "  --only LIST       only these components (postgres)\n"
	  "  --db SRC=DST      restore database SRC as DST (repeat); only these\n"
	  "  --clean           drop and recreate target databases first\n"
	  "  --jobs N          parallel sessions (default: [postgres] jobs)\n"
	  "  --globals         create the archive's roles first\n"
	  "  --target-url URL  restore into this server (libpq URL; password\n"
	  "                    from PGPASSWORD or ~/.pgpass)\n"
	  "refuses (exit 1, nothing changed) a target database that has user\n"
	  "tables unless --clean; exit 6 when the archive is damaged\n" },
	{ "list", cmd_list, "[--json] [--offsite]",
	  "list archives, newest first, with what keeps them",
	  "  --json            print them as JSON\n"
	  "  --offsite         the off-site copies in [offsite] url\n" },
	{ "verify", cmd_verify, "ARCHIVE|--latest|--all [--offsite] [--json]",
	  "check archives against their manifests",
	  "  --latest          the newest archive\n"
	  "  --all             every archive\n"
	  "  --offsite         the off-site copies (downloaded, decrypted)\n"
	  "exit 6 naming the first bad member on any mismatch or damage\n" },
	{ "prune", cmd_prune, "[--dry-run]",
	  "delete archives the retention policy no longer keeps",
	  "  --dry-run         say what would go, delete nothing\n"
	  "off-site copies are pruned too when [offsite] is configured\n" },
	{ "daemon", cmd_pending, "", "run scheduled jobs in the foreground", "" },
	{ "schedule", cmd_pending, "next|print|install ...",
	  "show or install the backup schedule", "" },
	{ "check", cmd_check, "[--json]",
	  "check that every configured part is reachable",
	  "  --json            print the rows as JSON\n"
	  "exit 0 only when every row is ok; 3 when SSH itself fails\n" },
	{ "config", cmd_config, "[--json]",
	  "print the effective configuration and where each value comes from",
	  "  --json            print it as JSON\n" },
	{ "history", cmd_pending, "[--json]", "show past deploys", "" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: ferry [-c FILE] [-v|-q] [--json] COMMAND [ARGS]\n"
		"\n"
		"Deploy a docker compose project over SSH; back up, verify and\n"
		"restore its data.\n"
		"\n"
		"options:\n"
		"  -c, --config FILE  config file (default: $FERRY_CONFIG, ./ferry.ini,\n"
		"                     ~/.config/ferry/ferry.ini, /etc/ferry/ferry.ini)\n"
		"  -v, --verbose      say more (twice: debug)\n"
		"  -q, --quiet        only errors\n"
		"      --json         machine-readable output where supported\n"
		"  -h, --help         this help; COMMAND --help for a command's\n"
		"  -V, --version      version and library versions\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"exit codes: 0 ok, 1 failure, 2 usage or config error, 3 connection/\n"
		"authentication/host-key error, 4 remote command failed, 5 partial\n"
		"backup, 6 verification failed, 7 lock held.  See ferry(1).\n");
}

static void print_cmd_help(const struct cli_cmd *c, FILE *out)
{
	fprintf(out, "usage: ferry %s %s\n\n%s\n", c->name, c->usage, c->summary);
	if (c->help && *c->help)
		fprintf(out, "\n%s", c->help);
}

static void print_version(void)
{
	printf("ferry %s\n", FERRY_VERSION);
	printf("libssh2 %s, libpq %d, %s, %s, zstd %s\n",
	       libssh2_version(0), PQlibVersion(), curl_version(),
	       archive_version_string(), ZSTD_versionString());
}

int cli_fail(const struct err *e)
{
	char *masked = log_mask(e->msg[0] ? e->msg : "failed");

	fprintf(stderr, "ferry: %s\n", masked);
	free(masked);
	return err_exit(e);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ferry: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'ferry %s%s--help')\n", cmd ? cmd : "",
		cmd ? " " : "");
	return FX_USAGE;
}

int cli_conf(struct cli *cli, struct err *e)
{
	if (cli->conf)
		return 0;
	return conf_load(&cli->conf, cli->config_path, e);
}

static int cmd_pending(struct cli *cli, int argc, char **argv)
{
	struct err e = ERR_INIT;

	(void)argc;
	if (cli_conf(cli, &e) < 0)
		return cli_fail(&e);
	err_set(&e, FX_FAIL, "%s: not available in ferry %s yet", argv[0],
		FERRY_VERSION);
	return cli_fail(&e);
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

static int dispatch(struct cli *cli, int argc, char **argv)
{
	const struct cli_cmd *c = find_cmd(argv[0]);

	if (!c) {
		fprintf(stderr, "ferry: unknown command '%s' (see 'ferry --help')\n",
			argv[0]);
		return FX_USAGE;
	}
	if (wants_help(argc, argv)) {
		print_cmd_help(c, stdout);
		return FX_OK;
	}
	optind = 0;	/* glibc: re-initialise getopt for the subcommand */
	return c->run(cli, argc, argv);
}

/* ---- multi-call names: the old scripts' interfaces -------------------- */

static const struct option help_opt[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int legacy_deploy(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "build", no_argument, NULL, 'b' },
		{ "service", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct strlist args = STRLIST_INIT;
	int ch, r;

	strlist_add(&args, "deploy");
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
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
			       "[--type TYPE]\n(ferry deploy)\n");
			strlist_release(&args);
			return FX_OK;
		default:
			strlist_release(&args);
			return FX_USAGE;
		}
	}
	if (optind < argc) {
		strlist_release(&args);
		return cli_usage_error("deploy-to-dev", "unexpected argument '%s'",
				       argv[optind]);
	}
	r = dispatch(cli, (int)args.n, args.v);
	strlist_release(&args);
	return r;
}

static int legacy_logs(struct cli *cli, int argc, char **argv)
{
	struct strlist args = STRLIST_INIT;
	long long num;
	int ch, r;

	strlist_add(&args, "logs");
	while ((ch = getopt_long(argc, argv, "+c:fn:h", help_opt, NULL)) != -1) {
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
			printf("usage: remote-logs [-f] [-n NUM] [SERVICE]\n"
			       "(ferry logs)\n");
			strlist_release(&args);
			return FX_OK;
		default:
			strlist_release(&args);
			return FX_USAGE;
		}
	}
	if (argc - optind > 1) {
		strlist_release(&args);
		return cli_usage_error("remote-logs", "takes at most one SERVICE");
	}
	if (optind < argc)
		strlist_add(&args, argv[optind]);
	r = dispatch(cli, (int)args.n, args.v);
	strlist_release(&args);
	return r;
}

static int legacy_backup(struct cli *cli, int argc, char **argv)
{
	char *args[] = { "backup", NULL };
	int ch;

	while ((ch = getopt_long(argc, argv, "+c:h", help_opt, NULL)) != -1) {
		if (ch == 'c') {
			cli->config_path = optarg;
		} else if (ch == 'h') {
			printf("usage: backup-dev-data\n(ferry backup)\n");
			return FX_OK;
		} else {
			return FX_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("backup-dev-data",
				       "unexpected argument '%s'", argv[optind]);
	return dispatch(cli, 1, args);
}

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} legacy[] = {
	{ "deploy-to-dev", legacy_deploy },
	{ "remote-logs", legacy_logs },
	{ "backup-dev-data", legacy_backup },
};

/* ---- main ------------------------------------------------------------- */

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base = strrchr(argv[0], '/');
	int ch, verbose = 0;

	base = base ? base + 1 : argv[0];
	for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
		if (!strcmp(base, legacy[i].name))
			return legacy[i].run(cli, argc, argv);

	while ((ch = getopt_long(argc, argv, "+c:vqhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cli->config_path = optarg;
			break;
		case 'v':
			log_set_level(++verbose >= 2 ? LOG_DEBUG : LOG_VERBOSE);
			break;
		case 'q':
			log_set_level(LOG_QUIET);
			break;
		case 'j':
			cli->json = 1;
			break;
		case 'h':
			print_usage(stdout);
			return FX_OK;
		case 'V':
			print_version();
			return FX_OK;
		default:
			fprintf(stderr, "(see 'ferry --help')\n");
			return FX_USAGE;
		}
	}
	if (optind >= argc) {
		print_usage(stderr);
		return FX_USAGE;
	}
	return dispatch(cli, argc - optind, argv + optind);
}

int cli_main(int argc, char **argv)
{
	struct cli cli = { 0 };
	int r;

	signal(SIGPIPE, SIG_IGN);
	/* Names (tables, keys, paths) are UTF-8 bytes end to end; libarchive
	 * needs a UTF-8 ctype to write and read them in pax headers. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = run(&cli, argc, argv);
	conf_free(cli.conf);
	log_forget_secrets();
	curl_global_cleanup();
	return r;
}

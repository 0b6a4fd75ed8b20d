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

#include "conf/conf.h"
#include "util/buf.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/value.h"

const struct cli_cmd *cli_find(const char *name)
{
	for (const struct cli_cmd *const *c = cli_commands; *c; c++)
		if (!strcmp((*c)->name, name))
			return *c;
	return NULL;
}

void cli_print_usage(FILE *out)
{
	fprintf(out,
		"usage: ferry [-c FILE] [-v|-q] [--json] [--log-format text|json] COMMAND [ARGS]\n"
		"\n"
		"Deploy a docker compose project over SSH; back up, verify and\n"
		"restore its data.\n"
		"\n"
		"options (before or after the command):\n"
		"  -c, --config FILE  config file (default: $FERRY_CONFIG, ./ferry.ini,\n"
		"                     ~/.config/ferry/ferry.ini, /etc/ferry/ferry.ini)\n"
		"  -v, --verbose      say more (twice: debug)\n"
		"  -q, --quiet        only errors\n"
		"      --json         machine-readable output where supported\n"
		"      --log-format F text (default) or json: stderr as JSON lines\n"
		"  -h, --help         this help; 'ferry help COMMAND' for a command's\n"
		"  -V, --version      version and library versions\n"
		"\n"
		"commands:\n");
	for (const struct cli_cmd *const *c = cli_commands; *c; c++)
		fprintf(out, "  %-10s %s%s\n", (*c)->name, (*c)->summary,
			(*c)->pending ? " (not built yet)" : "");
	fprintf(out,
		"\n"
		"exit codes: 0 ok, 1 failure, 2 usage or config error, 3 connection/\n"
		"authentication/host-key error, 4 remote command failed, 5 partial\n"
		"backup, 6 verification failed, 7 lock held.  See ferry(1).\n");
}

void cli_print_help(const struct cli_cmd *c, FILE *out)
{
	fprintf(out, "usage: ferry %s%s%s\n\n%s\n", c->name, *c->usage ? " " : "",
		c->usage, c->summary);
	if (c->pending)
		fprintf(out, "\nnot built yet in ferry %s: %s brings it\n",
			FERRY_VERSION, c->pending);
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

int cli_quiet(void)
{
	return log_get_level() == LOG_QUIET;
}

static ssize_t drop(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	(void)buf;
	return (ssize_t)size;
}

FILE *cli_nowhere(void)
{
	static FILE *none;
	static const cookie_io_functions_t io = { NULL, drop, NULL, NULL };

	if (!none)
		none = fopencookie(NULL, "w", io);
	return none ? none : stdout;
}

FILE *cli_results(void)
{
	return cli_quiet() ? cli_nowhere() : stdout;
}

int cli_fail(const struct err *e)
{
	log_error("%s", e->msg[0] ? e->msg : "failed");
	return err_exit(e);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	/* Under an old script's name the hint is that name: `ferry
	 * deploy-to-dev` is no command. */
	if (cmd && legacy_is_name(cmd))
		log_error_in(cmd, "%s (see '%s --help')", buf_str(&b), cmd);
	else
		log_error_in(cmd, "%s (see 'ferry %s%s--help')", buf_str(&b),
			     cmd ? cmd : "", cmd ? " " : "");
	buf_release(&b);
	return FX_USAGE;
}

/* --log-format's value; -1 naming it when it is neither. */
static int set_log_format(struct cli *cli, const char *cmd, const char *v)
{
	enum log_format f;

	if (log_parse_format(v, &f) < 0) {
		cli_usage_error(cmd, "--log-format '%s': expected text or json",
				v);
		return -1;
	}
	log_set_format(f);
	cli->log_format_set = 1;
	return 0;
}

int cli_bad_option(const char *cmd, int ch, int argc, char **argv)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	char shortopt[3] = { '-', (char)optopt, '\0' };

	/* A short option may sit in a cluster (-xv): name the letter. */
	if (optopt > 0 && optopt < 128 && strncmp(arg, "--", 2))
		arg = shortopt;
	if (ch == ':')
		return cli_usage_error(cmd, "option '%s' needs a value", arg);
	return cli_usage_error(cmd, "unknown option '%s'", arg);
}

int cli_num(const char *cmd, const char *opt, const char *s, long long min,
	    long long max, long long *out)
{
	if (value_int(s, min, max, out) < 0) {
		cli_usage_error(cmd, "%s '%s': expected a whole number from %lld "
				"to %lld", opt, s, min, max);
		return -1;
	}
	return 0;
}

int cli_conf(struct cli *cli, struct err *e)
{
	struct err le = ERR_INIT;
	enum log_format f;

	if (cli->conf)
		return 0;
	if (conf_load(&cli->conf, cli->config_path, e) < 0)
		return -1;
	/* [log] takes effect from here on; an earlier error had only the
	 * command line to go by.  A bad [log] value is said, not fatal:
	 * `ferry config` must still get to list every problem. */
	if (conf_need(cli->conf, "log", NULL, &le) < 0) {
		log_warn("%s; logging as text to stderr", le.msg);
		return 0;
	}
	if (!cli->log_format_set &&
	    log_parse_format(conf_str(cli->conf, "log", "format"), &f) == 0)
		log_set_format(f);
	if (conf_num(cli->conf, "log", "syslog"))
		log_set_syslog(1);
	return 0;
}

int cli_conf_for(struct cli *cli, const char *uses, struct err *e)
{
	struct strlist items = STRLIST_INIT;
	int r;

	if ((r = cli_conf(cli, e)) < 0)
		return r;
	for (const char *p = uses; *p;) {
		size_t n = strcspn(p, " ");

		if (n)
			strlist_add_take(&items, xstrndup(p, n));
		p += n + (p[n] == ' ');
	}
	for (size_t i = 0; i < items.n && r == 0; i++) {
		char *dot = strchr(items.v[i], '.');

		/* "group.*" is a section; "server.port" one key. */
		if (dot && strcmp(dot, ".*"))
			*dot++ = '\0';
		else
			dot = NULL;
		r = conf_need(cli->conf, items.v[i], dot, e);
	}
	strlist_release(&items);
	return r;
}

const struct server *cli_server_resolved(struct cli *cli, struct err *e)
{
	/* What server_init() reads. */
	if (cli_conf_for(cli, "server project.remote_dir deploy.compose "
			 "deploy.compose_dir deploy.compose_files "
			 "deploy.project_name", e) < 0)
		return NULL;
	if (!cli->server_ready) {
		server_init(&cli->server, cli->conf);
		cli->server_ready = 1;
		if (server_ssh_config(&cli->server, cli->conf,
				      &cli->server_err) < 0 &&
		    !cli->server_err.code)
			cli->server_err.code = FX_USAGE;
	}
	if (cli->server_err.code) {
		*e = cli->server_err;
		return NULL;
	}
	return &cli->server;
}

const struct xport_opts *cli_server(struct cli *cli, struct err *e)
{
	const struct server *s = cli_server_resolved(cli, e);

	return s ? &s->xo : NULL;
}

static int run_pending(const struct cli_cmd *c)
{
	struct err e = ERR_INIT;

	err_set(&e, FX_FAIL, "%s: not built yet in ferry %s (%s brings it)",
		c->name, FERRY_VERSION, c->pending);
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

/*
 * Global options may follow the command too (ferry list -q): they are
 * taken out of argv before the command parses it.  Only the ones no command
 * uses for itself are taken (-c means --checksum to deploy), and nothing
 * after "--".
 */
/* -c FILE after the command: deploy keeps -c as --checksum, and the old
 * scripts' names parse their own -c. */
static int own_c(const char *cmd)
{
	return strcmp(cmd, "deploy") && !legacy_is_name(cmd);
}

int cli_take_globals(struct cli *cli, const char *cmd, int *argc, char **argv)
{
	int out = 1, i;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			log_set_level(LOG_QUIET);
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			log_set_level(log_get_level() >= LOG_VERBOSE ? LOG_DEBUG :
				      LOG_VERBOSE);
		} else if (!strcmp(a, "-vv")) {
			log_set_level(LOG_DEBUG);
		} else if (!strcmp(a, "--json")) {
			cli->json = 1;
		} else if (!strncmp(a, "--log-format=", 13)) {
			if (set_log_format(cli, cmd, a + 13) < 0)
				return -1;
		} else if (!strcmp(a, "--log-format")) {
			if (i + 1 >= *argc) {
				cli_usage_error(cmd, "option '--log-format' "
						"needs a value");
				return -1;
			}
			if (set_log_format(cli, cmd, argv[++i]) < 0)
				return -1;
		} else if (!strncmp(a, "--config=", 9)) {
			cli->config_path = a + 9;
		} else if (!strcmp(a, "--config") ||
			   (!strcmp(a, "-c") && own_c(cmd))) {
			if (i + 1 >= *argc) {
				cli_usage_error(cmd, "option '%s' needs a "
						"value", a);
				return -1;
			}
			cli->config_path = argv[++i];
		} else {
			argv[out++] = argv[i];
		}
	}
	for (; i < *argc; i++)
		argv[out++] = argv[i];
	argv[out] = NULL;
	*argc = out;
	return 0;
}

int cli_dispatch(struct cli *cli, int argc, char **argv)
{
	const struct cli_cmd *c = cli_find(argv[0]);

	if (!c) {
		log_error("unknown command '%s' (see 'ferry --help')", argv[0]);
		return FX_USAGE;
	}
	log_set_component(c->name);
	if (cli_take_globals(cli, c->name, &argc, argv) < 0)
		return FX_USAGE;
	if (wants_help(argc, argv)) {
		cli_print_help(c, stdout);
		return FX_OK;
	}
	/* Every command with JSON output lists --json in its usage; the
	 * others would print text where a script expects JSON. */
	if (cli->json && !strstr(c->usage, "--json"))
		return cli_usage_error(c->name, "--json is not supported by "
				       "'%s'", c->name);
	if (c->pending)
		return run_pending(c);
	optind = 0;	/* glibc: re-initialise getopt for the command */
	opterr = 0;	/* cli_bad_option() words the complaint */
	return c->run(cli, argc, argv);
}

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
		{ "log-format", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base = strrchr(argv[0], '/');
	int ch, verbose = 0, r;

	base = base ? base + 1 : argv[0];
	r = legacy_run(cli, base, argc, argv);
	if (r >= 0)
		return r;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:vqhV", opts, NULL)) != -1) {
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
			cli_print_usage(stdout);
			return FX_OK;
		case 'V':
			print_version();
			return FX_OK;
		case 'L':
			if (set_log_format(cli, NULL, optarg) < 0)
				return FX_USAGE;
			break;
		default:
			return cli_bad_option(NULL, ch, argc, argv);
		}
	}
	if (optind >= argc) {
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);

		if (mem) {
			cli_print_usage(mem);
			fclose(mem);
			log_block(text);
			free(text);
		}
		return FX_USAGE;
	}
	return cli_dispatch(cli, argc - optind, argv + optind);
}

/* A value with a problem that a command read without declaring it: the
 * user still gets the value's message and exit 2, never a wrong value. */
static void unchecked_value(const char *msg)
{
	struct err e = ERR_INIT;

	err_set(&e, FX_USAGE, "%s", msg);
	exit(cli_fail(&e));
}

int cli_main(int argc, char **argv)
{
	struct cli cli = { 0 };
	int r;

	conf_on_unchecked(unchecked_value);
	signal(SIGPIPE, SIG_IGN);
	/* Names (tables, keys, paths) are UTF-8 bytes end to end; libarchive
	 * needs a UTF-8 ctype to write and read them in pax headers. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = run(&cli, argc, argv);
	if (cli.server_ready)
		server_release(&cli.server);
	conf_free(cli.conf);
	log_forget_secrets();
	curl_global_cleanup();
	return r;
}

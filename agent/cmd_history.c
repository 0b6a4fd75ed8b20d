/* ferry history [-n N] [--json]: past deploys, newest first, from the
 * server's <remote_dir>/.ferry/deploys.jsonl (deploy/history.c). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "agent/cli.h"
#include "conf/conf.h"
#include "deploy/history.h"
#include "net/xport.h"

static void human_size(json_int_t n, char *out, size_t len)
{
	static const char *const unit[] = { "B", "KB", "MB", "GB", "TB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void print_table(json_t *arr)
{
	size_t i;
	json_t *r;

	if (!json_array_size(arr)) {
		printf("no deploys recorded yet\n");
		return;
	}
	printf("%-20s  %-12s%4s %8s  %-22s %-13s %-30s %s\n", "TIME", "RESULT",
	       "EXIT", "DURATION", "BY", "COMMIT", "CHANGES", "SERVICES");
	json_array_foreach(arr, i, r) {
		const char *when = "", *result = "", *user = "", *host = "";
		const char *commit = NULL, *error = NULL;
		json_int_t sent = 0, deleted = 0, bytes = 0, code = 0;
		double secs = 0;
		int dirty = 0;
		json_t *svc = NULL, *s;
		char who[128], rev[32], changes[64], size[32];
		size_t k;

		json_unpack(r, "{s?s, s?s, s?s, s?s, s?b, s?I, s?I, s?I, "
			    "s?o, s?F, s?s, s?I, s?s}", "time", &when, "user", &user,
			    "host", &host, "commit", &commit,
			    "dirty", &dirty, "sent", &sent, "deleted", &deleted,
			    "bytes", &bytes, "services", &svc, "duration", &secs,
			    "result", &result, "exit", &code, "error", &error);
		snprintf(who, sizeof(who), "%s@%s", user, host);
		snprintf(rev, sizeof(rev), "%.7s%s", commit ? commit : "-",
			 commit && dirty ? "+dirty" : "");
		human_size(bytes, size, sizeof(size));
		snprintf(changes, sizeof(changes), "%lld sent (%s), %lld deleted",
			 (long long)sent, size, (long long)deleted);
		printf("%-20s  %-12s%4lld %7.1fs  %-22s %-13s %-30s ", when,
		       result, (long long)code, secs, who, rev, changes);
		if (json_is_null(svc))
			printf("none");	/* --no-up */
		else if (!json_array_size(svc))
			printf("all");
		json_array_foreach(svc, k, s)
			printf("%s%s", k ? "," : "", json_string_value(s));
		putchar('\n');
		if (error)
			printf("%22s%s\n", "", error);
	}
}

static int cmd_history(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const struct xport_opts *server;
	const char *rdir;
	struct xport *x = NULL;
	struct err e = ERR_INIT;
	json_t *arr = NULL;
	long long n = 0;
	int ch, code = FX_OK;

	while ((ch = getopt_long(argc, argv, ":n:", opts, NULL)) != -1) {
		if (ch == 'j')
			cli->json = 1;
		else if (ch == 'n') {
			if (cli_num("history", "-n", optarg, 1, 1000000000, &n))
				return FX_USAGE;
		} else
			return cli_bad_option("history", ch, argc, argv);
	}
	if (optind < argc)
		return cli_usage_error("history", "unexpected argument '%s'",
				       argv[optind]);
	if (!(server = cli_server(cli, &e)))
		return cli_fail(&e);
	rdir = conf_str(cli->conf, "project", "remote_dir");
	if (!rdir || !*rdir) {
		err_set(&e, FX_USAGE, "%s: [project] remote_dir is not set: there "
			"is no deploy history to read", conf_path(cli->conf));
		return cli_fail(&e);
	}
	if (xport_open(&x, server, &e) < 0 ||
	    history_read(x, rdir, (long)n, &arr, &e) < 0) {
		code = cli_fail(&e);
		goto out;
	}
	if (cli->json) {
		json_dumpf(arr, stdout, HISTORY_JSON_REAL | JSON_INDENT(2) |
			   JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		print_table(arr);
	}
out:
	json_decref(arr);
	xport_close(x);
	return code;
}

const struct cli_cmd cmd_history_entry = {
	"history", cmd_history, "[-n N] [--json]",
	"show past deploys, newest first",
	"  -n N              only the last N deploys\n"
	"  --json            the records as a JSON array: time, user, host,\n"
	"                    commit, dirty, sent, deleted, bytes, services,\n"
	"                    duration, result, exit (and error)\n"
	"read from <remote_dir>/.ferry/deploys.jsonl on the server\n",
	NULL,
};

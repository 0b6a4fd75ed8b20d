/*
 * ferry deploy: sync the project to the server, then `compose up -d` there
 * (the compose options, health gate and deploy lock come with the deploy
 * operations issue).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cli.h"
#include "util/log.h"
#include "net/compose.h"
#include "net/xport.h"
#include "conf/conf.h"
#include "deploy/sync.h"

static int compose_up(struct xport *x, const struct compose_opts *co,
		      int build, const struct strlist *services, struct err *e)
{
	struct strlist args = STRLIST_INIT;
	struct compose *c = NULL;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1;

	if (compose_open(&c, x, co, e) < 0)
		return -1;
	strlist_add(&args, "up");
	strlist_add(&args, "-d");
	if (build)
		strlist_add(&args, "--build");
	for (size_t i = 0; i < services->n; i++)
		strlist_add(&args, services->v[i]);
	io.out_fd = STDOUT_FILENO;
	io.err_fd = STDERR_FILENO;
	r = compose_run(c, (const char *const *)args.v, &io, &st, e);
	if (r == 0 && (!st.exited || st.code != 0)) {
		char why[64];

		r = err_set(e, FX_REMOTE, "%s up on %s failed (%s)",
			    compose_prefix(c), xport_name(x),
			    proc_status_text(&st, why, sizeof(why)));
	}
	compose_free(c);
	strlist_release(&args);
	return r;
}

static int cmd_deploy(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-up", no_argument, NULL, 'N' },
		{ "checksum", no_argument, NULL, 'c' },
		{ "build", no_argument, NULL, 'b' },
		{ "service", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "adopt", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct sync_opts o = { 0 };
	struct strlist services = STRLIST_INIT;
	struct sync_stats st;
	const struct xport_opts *server;
	struct xport *x = NULL;
	struct err e = ERR_INIT;
	int ch, no_up = 0, build = 0, code = FX_OK;

	while ((ch = getopt_long(argc, argv, ":nc", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o.dry_run = 1;
			break;
		case 'N':
			no_up = 1;
			break;
		case 'A':
			o.adopt = 1;
			break;
		case 'c':
			o.checksum = 1;
			break;
		case 'b':
			build = 1;
			break;
		case 's':
			strlist_add(&services, optarg);
			break;
		case 't':
			strlist_release(&services);
			return cli_usage_error("deploy", "--type needs [group.%s], "
					       "which ferry %s does not read yet",
					       optarg, FERRY_VERSION);
		default:
			strlist_release(&services);
			return cli_bad_option("deploy", ch, argc, argv);
		}
	}
	for (; optind < argc; optind++)
		strlist_add(&services, argv[optind]);
	if (cli_conf_for(cli, "project deploy", &e) < 0 ||
	    !(server = cli_server(cli, &e)) || xport_open(&x, server, &e) < 0)
		goto fail;
	o.itemize = o.dry_run || log_get_level() >= LOG_VERBOSE ? stdout : NULL;
	if (sync_run(cli->conf, x, &o, &st, &e) < 0)
		goto fail;
	if (!cli_quiet() || o.dry_run)
		printf("%s%zu entries to send (%llu bytes), %zu to delete, %zu "
		       "unchanged, %.1fs\n", o.dry_run ? "dry run: " : "",
		       st.files, (unsigned long long)st.bytes, st.deleted,
		       st.unchanged, st.seconds);
	fflush(stdout);
	if (st.foreign)
		log_warn("%s exists and holds files ferry did not put there (no "
			 ".ferry/ in it), so nothing was deleted%s; if it is the "
			 "project's directory, run 'ferry deploy --adopt' once: "
			 "from then on server files that are not in the local "
			 "tree are deleted", conf_str(cli->conf, "project",
						      "remote_dir"),
			 o.dry_run ? " (dry run)" : "");
	if (!o.dry_run && !no_up &&
	    compose_up(x, &cli->server.co, build, &services, &e) < 0)
		goto fail;
	goto out;
fail:
	code = cli_fail(&e);
out:
	xport_close(x);
	strlist_release(&services);
	return code;
}

const struct cli_cmd cmd_deploy_entry = {
	"deploy", cmd_deploy,
	"[--build] [--service NAME]... [--type GROUP] [--dry-run] [--no-up] "
	"[--checksum] [--adopt]",
	"sync the project to the server and start it",
	"  --build           build images on the server first\n"
	"  --service NAME    deploy only this service (repeatable)\n"
	"  --type GROUP      deploy the services of [group.GROUP]\n"
	"  -n, --dry-run     show what would change (rsync-style), change nothing\n"
	"  --no-up           stop after syncing the files\n"
	"  -c, --checksum    compare contents, not sizes and times\n"
	"  --adopt           manage an existing remote_dir ferry did not create\n"
	"                    (until then nothing in it is deleted)\n",
	NULL,
};

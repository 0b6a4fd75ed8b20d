/* ferry backup [--only COMPONENT,...] [--fail-fast] */
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "agent/cmd_prune.h"
#include "agent/sigguard.h"
#include "agent/job.h"
#include "backup/backup.h"
#include "backup/component.h"
#include "conf/conf.h"
#include "util/escape.h"
#include "util/jtext.h"
#include "util/log.h"

/* What a run reads: [backup], [notify], the sections of the components it
 * will run (--only's, or every configured one) and [offsite] when
 * configured.  A problem anywhere else does not stop it. */
static int need_conf(struct cli *cli, const struct strlist *only,
		     struct err *e)
{
	if (cli_conf_for(cli, "backup notify", e) < 0)
		return -1;
	for (const struct component *k = components; k->name; k++) {
		int used = !only->n && conf_has_section(cli->conf, k->section);

		for (size_t i = 0; i < only->n; i++)
			used |= !strcmp(only->v[i], k->name);
		if (used && conf_need(cli->conf, k->section, NULL, e) < 0)
			return -1;
	}
	if (conf_has_section(cli->conf, "offsite"))
		return cli_conf_for(cli, "offsite", e);
	return 0;
}

/* The summary as one document, whatever the outcome (res NULL: the run
 * did not start). */
static void print_json(const struct backup_result *res, json_t *comps,
		       int code, const struct err *e)
{
	char *error = code && e->msg[0] ? log_mask(e->msg) : NULL;
	json_t *j = json_pack("{s:s, s:s, s:i, s:s?, s:o?, s:I, s:i, s:f, "
			      "s:O?, s:o?}",
		"job", "backup", "status", job_status_name(code), "exit", code,
		"archive", res ? res->archive : NULL,
		"size", res && res->archive ?
		json_integer((json_int_t)res->size) : NULL,
		"members", (json_int_t)(res ? res->members : 0),
		"failed", res ? res->failed : 0,
		"seconds", res ? res->seconds : 0.0,
		"components", comps, "error", jtext_new(error));

	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
		   JSON_REAL_PRECISION(9));
	putchar('\n');
	json_decref(j);
	free(error);
}

/* The run's record, which a signal may have to write in the main
 * thread's place. */
struct run_guard {
	pthread_mutex_t mu;
	struct job *job;	/* once begun */
	int ended;		/* job_end() was called */
};

/* On the guard thread: an interrupted run says so and is recorded as
 * such; then the signal ends ferry, and sigclean removes the partial
 * archive (nothing is published). */
static void on_signal(void *ctx, int sig)
{
	struct run_guard *g = ctx;
	struct err e = ERR_INIT;

	pthread_mutex_lock(&g->mu);
	if (!g->ended) {
		err_set(&e, 128 + sig, "backup: interrupted by SIG%s; nothing "
			"was published", sigabbrev_np(sig) ? sigabbrev_np(sig) :
			"?");
		log_error("%s", e.msg);
		if (g->job)
			job_end(g->job, 128 + sig, &e);
		g->ended = 1;
	}
	pthread_mutex_unlock(&g->mu);
}

/* The main thread's job_end(), unless a signal's came first. */
static void end_once(struct run_guard *g, int code, const struct err *e)
{
	pthread_mutex_lock(&g->mu);
	if (!g->ended && g->job)
		job_end(g->job, code, e);
	g->ended = 1;
	pthread_mutex_unlock(&g->mu);
}

static int cmd_backup(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "only", required_argument, NULL, 'o' },
		{ "fail-fast", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct strlist only = STRLIST_INIT;
	struct backup_opts o = { .only = &only };
	struct backup_result res;
	struct err e = ERR_INIT;
	struct job job;
	struct run_guard g = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };
	int ch, r, code, guarded;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			strlist_split(&only, optarg);
			/* An empty "$VAR" is not "everything". */
			if (!only.n) {
				strlist_release(&only);
				return cli_usage_error("backup", "--only: no "
						       "component named");
			}
			break;
		case 'f':
			o.fail_fast = 1;
			break;
		case 'j':
			cli->json = 1;
			break;
		default:
			strlist_release(&only);
			return cli_bad_option("backup", ch, argc, argv);
		}
	}
	if (optind < argc) {
		strlist_release(&only);
		return cli_usage_error("backup", "unexpected argument '%s'",
				       argv[optind]);
	}
	/* An option's bad value is an option error: "ferry backup: ...". */
	for (size_t i = 0; i < only.n; i++) {
		if (!component_find(only.v[i])) {
			cli_usage_error("backup", "--only: unknown component '%s' "
					"(known: postgres, minio, redis, neo4j, "
					"logs, files)", only.v[i]);
			strlist_release(&only);
			return FX_USAGE;
		}
	}
	/* Before any thread: they inherit the blocked signals. */
	guarded = sigguard_start(on_signal, &g) == 0;
	/* The per-component lines are results: -q and --json drop them. */
	o.report = cli->json || cli_quiet() ? NULL : stdout;
	o.server = need_conf(cli, &only, &e) < 0 ? NULL : cli_server(cli, &e);
	o.compose = o.server ? &cli->server.co : NULL;
	if (!o.server) {
		strlist_release(&only);
		if (cli->json)
			print_json(NULL, NULL, e.code ? e.code : FX_FAIL, &e);
		code = cli_fail(&e);
		goto out;
	}
	/* Notified and recorded the same however it was started: by hand,
	 * from cron or by ferry daemon. */
	job_begin(&job, cli->conf, "backup");
	pthread_mutex_lock(&g.mu);
	g.job = &job;
	pthread_mutex_unlock(&g.mu);
	r = backup_run(cli->conf, &o, &res, &e);
	strlist_release(&only);
	code = r < 0 ? err_exit(&e) : r;
	if (res.archive)
		job_set_archive(&job, res.archive, res.size);
	/* After a partial archive too: it takes no retention slot, so the
	 * prune cannot delete a complete one for it.  A failed prune is a
	 * warning; the archive is safe.  Its lines go where the report
	 * goes, not into -q's silence or ahead of --json's document. */
	if ((code == FX_OK || code == FX_PARTIAL) &&
	    conf_num(cli->conf, "backup", "prune_after_backup")) {
		struct err pe = ERR_INIT;

		if (prune_job(cli->conf, 0, o.report ? o.report : cli_nowhere(),
			      &pe) < 0)
			log_warn("prune after backup: %s", pe.msg);
	}
	if (cli->json) {
		print_json(&res, job.components, code, &e);
	} else if (r >= 0 && !cli_quiet()) {
		char *name = esc_str(res.archive);

		printf("%s: %llu bytes, %zu member%s, %.1fs%s\n", name,
		       (unsigned long long)res.size, res.members,
		       res.members == 1 ? "" : "s", res.seconds,
		       res.failed ? " (partial)" : "");
		free(name);
	}
	end_once(&g, code, &e);
	free(res.archive);
	code = code ? cli_fail(&e) : FX_OK;
out:
	/* After a signal this waits for the guard, which ends ferry. */
	if (guarded)
		sigguard_stop();
	return code;
}

const struct cli_cmd cmd_backup_entry = {
	"backup", cmd_backup, "[--only COMPONENT,...] [--fail-fast] [--json]",
	"take a backup archive of the server's data",
	"  --only LIST       only these components (postgres, minio, redis,\n"
	"                    neo4j, logs, files)\n"
	"  --fail-fast       stop at the first failing component, publish nothing\n"
	"exit 5 when the archive was written but a component failed; 7 when\n"
	"another backup holds the lock\n",
	NULL,
};

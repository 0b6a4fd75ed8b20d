/* ferry backup [--only COMPONENT,...] [--fail-fast] */
#include <errno.h>
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
#include "backup/offsite.h"
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
 * thread's place, and what it needs to tell the truth there. */
struct run_guard {
	pthread_mutex_t mu;
	const struct conf *conf;
	struct job *job;	/* once begun */
	char *archive;		/* published, once in place (owned) */
	uint64_t size;
	int running;		/* in backup_run() */
	int copied;		/* its off-site copy was made */
	int sig;		/* a signal's report has begun */
	int ended;		/* job_end() was called */
};

/* backup_run()'s publish step: the rename under the guard's lock, so a
 * signal's report and the rename never cross.  Either the archive is in
 * place and the report names it, or the report came first and nothing is
 * published (sigclean removes the partial file). */
static int publish(void *arg, const char *from, const char *to,
		   uint64_t size, struct err *e)
{
	struct run_guard *g = arg;
	int rc = 0;

	pthread_mutex_lock(&g->mu);
	if (g->sig) {
		rc = err_set(e, 128 + g->sig, "interrupted before publishing");
	} else if (rename(from, to) < 0) {
		rc = err_set(e, FX_FAIL, "rename %s: %s", to, strerror(errno));
	} else {
		g->archive = xstrdup(to);
		g->size = size;
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}

/* On the guard thread: an interrupted run says so, and what it had
 * published, and is recorded as such; then the signal ends ferry, and
 * sigclean removes a partial archive. */
static void on_signal(void *ctx, int sig)
{
	struct run_guard *g = ctx;
	struct err e = ERR_INIT;
	const char *abbr = sigabbrev_np(sig) ? sigabbrev_np(sig) : "?";
	char *name;

	pthread_mutex_lock(&g->mu);
	if (g->ended)
		goto out;
	g->sig = sig;
	name = g->archive ? esc_str(g->archive) : NULL;
	if (!name)
		err_set(&e, 128 + sig, "backup: interrupted by SIG%s; nothing "
			"was published", abbr);
	else if (offsite_configured(g->conf) && (g->running || !g->copied))
		err_set(&e, 128 + sig, "backup: interrupted by SIG%s%s; %s was "
			"published, its off-site copy was not made", abbr,
			g->running ? " during the off-site copy" : "", name);
	else
		err_set(&e, 128 + sig, "backup: interrupted by SIG%s; %s was "
			"published", abbr, name);
	free(name);
	log_error("%s", e.msg);
	if (g->job) {
		/* The main thread sets it only when no signal came first. */
		if (g->archive && !g->job->archive)
			job_set_archive(g->job, g->archive, g->size);
		job_end(g->job, 128 + sig, &e);
	}
	g->ended = 1;
out:
	pthread_mutex_unlock(&g->mu);
}

/* The main thread's job_end(), unless a signal's came first; 1 then (the
 * guard has said it all and ends ferry). */
static int end_once(struct run_guard *g, int code, const struct err *e)
{
	int signalled;

	pthread_mutex_lock(&g->mu);
	signalled = g->ended;
	if (!g->ended && g->job)
		job_end(g->job, code, e);
	g->ended = 1;
	pthread_mutex_unlock(&g->mu);
	return signalled;
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
	struct run_guard g = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct backup_opts o = { .only = &only, .publish = publish,
				 .publish_arg = &g };
	struct backup_result res;
	struct err e = ERR_INIT;
	struct job job;
	json_t *comps;
	int ch, r, code, guarded, signalled;

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
	g.conf = cli->conf;
	g.job = &job;
	g.running = 1;
	pthread_mutex_unlock(&g.mu);
	r = backup_run(cli->conf, &o, &res, &e);
	strlist_release(&only);
	code = r < 0 ? err_exit(&e) : r;
	pthread_mutex_lock(&g.mu);
	g.running = 0;
	/* The only failure after the publish is the off-site copy's. */
	g.copied = res.archive && r >= 0 && offsite_configured(cli->conf);
	if (res.archive && !g.sig)
		job_set_archive(&job, res.archive, res.size);
	signalled = g.sig;
	pthread_mutex_unlock(&g.mu);
	/* The guard reports this run and ends ferry: no second word (on
	 * the rename that its removal of the partial file failed, say). */
	if (signalled)
		goto out;
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
		pthread_mutex_lock(&g.mu);
		comps = g.ended ? NULL : json_deep_copy(job.components);
		pthread_mutex_unlock(&g.mu);
		print_json(&res, comps, code, &e);
		json_decref(comps);
	} else if (r >= 0 && !cli_quiet()) {
		char *name = esc_str(res.archive);

		printf("%s: %llu bytes, %zu member%s, %.1fs%s\n", name,
		       (unsigned long long)res.size, res.members,
		       res.members == 1 ? "" : "s", res.seconds,
		       res.failed ? " (partial)" : "");
		free(name);
	}
	signalled = end_once(&g, code, &e);
	free(res.archive);
	if (signalled)
		goto out;
	code = code ? cli_fail(&e) : FX_OK;
out:
	/* After a signal this waits for the guard, which ends ferry. */
	if (guarded)
		sigguard_stop();
	free(g.archive);
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

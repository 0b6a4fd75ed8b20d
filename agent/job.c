#include "agent/job.h"

#include <stdlib.h>
#include <string.h>

#include "agent/notify.h"
#include "agent/state.h"
#include "backup/repo.h"
#include "util/buf.h"
#include "util/cron.h"
#include "util/elapsed.h"
#include "util/err.h"
#include "util/jtext.h"
#include "util/log.h"

const char *const job_names[] = { "backup", "prune", "verify", NULL };

const char *job_status_name(int code)
{
	return code == 0 ? "ok" : code == FX_PARTIAL ? "partial" : "failed";
}

void job_begin(struct job *j, const struct conf *c, const char *name)
{
	memset(j, 0, sizeof(*j));
	j->conf = c;
	j->name = name;
	j->started = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &j->t0);
	notify_start(c, name);
}

void job_set_archive(struct job *j, const char *archive, uint64_t size)
{
	char *side;
	json_t *m;

	free(j->archive);
	json_decref(j->components);
	j->archive = xstrdup(archive);
	j->size = size;
	side = repo_sidecar_path(archive);
	m = json_load_file(side, 0, NULL);
	free(side);
	j->components = json_object();
	if (m) {
		json_t *comps = json_object_get(m, "components"), *v;
		const char *k;

		/* Only what a consumer needs of each: status and error. */
		json_object_foreach(comps, k, v) {
			json_t *err = json_object_get(v, "error");

			json_object_set_new(j->components, k, json_pack("{s:O, s:O?}",
				"status", json_object_get(v, "status"),
				"error", json_is_string(err) ? err : NULL));
		}
		json_decref(m);
	}
}

json_t *job_report_json(const struct job_report *r)
{
	char started[21], finished[21];

	cron_utc(r->started, started);
	cron_utc(r->finished, finished);
	/* The error may quote a server's file name in any bytes: jtext
	 * escapes what is not UTF-8, where "s" would lose the record. */
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:f, s:o?, s:o?, s:o, s:o?}",
		"job", r->job, "status", r->status, "exit", r->exit,
		"started", started, "finished", finished,
		"duration", (double)(long long)(r->duration * 1000 + 0.5) / 1000,
		"archive", jtext_new(r->archive),
		"size", r->archive ? json_integer((json_int_t)r->size) : NULL,
		"components", r->components ? json_deep_copy(r->components) :
		json_object(),
		"error", jtext_new(r->error));
}

char *job_report_text(const struct job_report *r)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s %s", r->job, r->status);
	if (r->exit)
		buf_printf(&b, " (exit %d)", r->exit);
	if (r->archive)
		buf_printf(&b, ": %s, %llu bytes,", r->archive,
			   (unsigned long long)r->size);
	buf_printf(&b, " in %.1fs", r->duration);
	if (r->error)
		buf_printf(&b, ": %s", r->error);
	return buf_detach(&b, NULL);
}

void job_end_report(const struct conf *c, const struct job_report *r)
{
	struct err e = ERR_INIT;

	if (!c)
		return;
	if (state_record(c, r, &e) < 0)
		log_warn("cannot record the %s run: %s", r->job, e.msg);
	err_clear(&e);
	if (state_write_metrics(c, &e) < 0)
		log_warn("metrics file: %s", e.msg);
	notify_finish(c, r);
}

void job_end(struct job *j, int code, const struct err *e)
{
	struct job_report r;
	/* What leaves the machine is masked as the logs are. */
	char *error = code && e && e->msg[0] ? log_mask(e->msg) : NULL;

	memset(&r, 0, sizeof(r));
	r.job = j->name;
	r.exit = code;
	r.status = job_status_name(code);
	r.error = error;
	r.started = j->started;
	r.finished = time(NULL);
	r.duration = elapsed_since(&j->t0);
	r.archive = j->archive;
	r.size = j->size;
	r.components = j->components;
	job_end_report(j->conf, &r);
	free(error);
	free(j->archive);
	json_decref(j->components);
	memset(j, 0, sizeof(*j));
}

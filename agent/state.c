#include "agent/state.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/job.h"
#include "conf/conf.h"
#include "util/buf.h"
#include "util/cron.h"
#include "util/jtext.h"
#include "util/outfile.h"

char *state_path(const struct conf *c, const char *job)
{
	return xstrfmt("%s/.ferry-last-%s.json", conf_str(c, "backup", "dir"),
		       job);
}

json_t *state_load(const struct conf *c, const char *job)
{
	char *path = state_path(c, job);
	json_t *j = json_load_file(path, 0, NULL);

	free(path);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

time_t state_time(json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));
	time_t t;

	return s && cron_parse_utc(s, &t) == 0 ? t : 0;
}

/* Keys the previous record had that this run does not replace. */
static void carry_over(json_t *rec, json_t *prev, const struct job_report *r)
{
	char when[21];

	if (r->exit == 0) {
		cron_utc(r->finished, when);
		json_object_set_new(rec, "last_success", json_string(when));
	} else if (json_object_get(prev, "last_success")) {
		json_object_set(rec, "last_success",
				json_object_get(prev, "last_success"));
	}
	if (r->archive && !strcmp(r->job, "backup")) {
		/* The report's own "archive": masked, and kept when the
		 * path is not UTF-8 (json_string() would drop it). */
		json_object_set(rec, "last_archive",
				json_object_get(rec, "archive"));
		json_object_set_new(rec, "last_archive_bytes",
				    json_integer((json_int_t)r->size));
	} else if (json_object_get(prev, "last_archive")) {
		json_object_set(rec, "last_archive",
				json_object_get(prev, "last_archive"));
		json_object_set(rec, "last_archive_bytes",
				json_object_get(prev, "last_archive_bytes"));
	}
}

int state_record(const struct conf *c, const struct job_report *r,
		 struct err *e)
{
	json_t *prev = state_load(c, r->job), *rec = job_report_json(r);
	char *path = state_path(c, r->job), *text;
	int rc = -1;

	carry_over(rec, prev, r);
	text = jtext_dumps(rec, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			   JSON_REAL_PRECISION(9), path, e);
	if (!text)
		goto out;
	if (outfile_mkdirs(conf_str(c, "backup", "dir"), 0700) < 0) {
		/* outfile_write() below says why */
	}
	rc = outfile_write(path, text, 0600, e);
out:
	free(text);
	free(path);
	json_decref(rec);
	json_decref(prev);
	return rc;
}

static void metric_head(struct buf *b, const char *name, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* One gauge per job that has a record and the value. */
static void per_job(struct buf *b, json_t *const recs[], const char *name,
		    const char *help, const char *key)
{
	int head = 0;

	for (size_t i = 0; job_names[i]; i++) {
		json_t *v;
		double x;

		if (!recs[i])
			continue;
		v = json_object_get(recs[i], key);
		if (!strcmp(key, "finished") || !strcmp(key, "last_success")) {
			time_t t = state_time(recs[i], key);

			if (!t)
				continue;
			x = (double)t;
		} else if (!strcmp(key, "status")) {
			x = json_integer_value(json_object_get(recs[i], "exit")) == 0;
		} else if (json_is_number(v)) {
			x = json_number_value(v);
		} else {
			continue;
		}
		if (!head++)
			metric_head(b, name, help);
		buf_printf(b, "%s{job=\"%s\"} %.15g\n", name, job_names[i], x);
	}
}

static void components(struct buf *b, json_t *backup)
{
	json_t *comps = json_object_get(backup, "components"), *v;
	const char *k;
	int head = 0;

	json_object_foreach(comps, k, v) {
		const char *st = json_string_value(json_object_get(v, "status"));

		if (!head++)
			metric_head(b, "ferry_component_status", "1 when the "
				    "component was backed up in the last backup, "
				    "0 when it failed");
		/* Component names are ferry's own ([a-z0-9]). */
		buf_printf(b, "ferry_component_status{component=\"%s\"} %d\n", k,
			   st && !strcmp(st, "ok"));
	}
}

int state_write_metrics(const struct conf *c, struct err *e)
{
	const char *path = conf_str(c, "notify", "metrics_file");
	json_t *recs[8] = { NULL };
	struct buf b = BUF_INIT;
	json_t *bytes;
	size_t n = 0;
	int r;

	if (!path)
		return 0;
	for (; job_names[n]; n++)
		recs[n] = state_load(c, job_names[n]);
	per_job(&b, recs, "ferry_last_run_timestamp_seconds",
		"Unix time the job's last run ended.", "finished");
	per_job(&b, recs, "ferry_last_success_timestamp_seconds",
		"Unix time the job's last successful run ended.", "last_success");
	per_job(&b, recs, "ferry_last_run_success",
		"1 when the job's last run succeeded, else 0.", "status");
	per_job(&b, recs, "ferry_last_run_exit_code",
		"Exit code of the job's last run.", "exit");
	per_job(&b, recs, "ferry_last_run_duration_seconds",
		"How long the job's last run took.", "duration");
	bytes = json_object_get(recs[0], "last_archive_bytes");
	if (json_is_integer(bytes)) {
		metric_head(&b, "ferry_last_archive_bytes",
			    "Size of the last archive a backup wrote.");
		buf_printf(&b, "ferry_last_archive_bytes %lld\n",
			   (long long)json_integer_value(bytes));
	}
	components(&b, recs[0]);
	r = outfile_write(path, buf_str(&b), 0644, e);
	for (size_t i = 0; i < n; i++)
		json_decref(recs[i]);
	buf_release(&b);
	return r;
}

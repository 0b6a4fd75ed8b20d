#include "agent/job.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The daemon's pipe (JOB_REPORT_FD_ENV): -2 until looked up, -1 none. */
static int daemon_fd = -2;

/* Once, from the first job_begin() (the main thread, before a signal
 * guard can end a job). */
static void daemon_fd_init(void)
{
	const char *s = getenv(JOB_REPORT_FD_ENV);
	char *end;
	long fd;

	if (daemon_fd != -2)
		return;
	daemon_fd = -1;
	if (!s)
		return;
	errno = 0;
	fd = strtol(s, &end, 10);
	if (errno || end == s || *end || fd < 3 || fd > INT_MAX ||
	    fcntl((int)fd, F_GETFD) < 0)
		return;
	/* Not for the programs the job runs (ssh, pg_dump): only a line of
	 * ours may reach the daemon. */
	(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	daemon_fd = (int)fd;
}

/* Tells the daemon that this run of job is reported. */
static void tell_daemon(const char *job)
{
	char line[32];
	int n;

	if (daemon_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s\n", job);
	/* A daemon gone makes EPIPE (SIGPIPE is ignored): nothing to tell. */
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(daemon_fd, line, (size_t)n) != n)
		log_debug("cannot tell ferry daemon about the %s run: %s", job,
			  strerror(errno));
}

const char *job_status_name(int code)
{
	return code == 0 ? "ok" : code == FX_PARTIAL ? "partial" : "failed";
}

/* s masked as the logs are, as JSON text (NULL for NULL). */
static json_t *masked_text(const char *s)
{
	char *m = s ? log_mask(s) : NULL;
	json_t *j = jtext_new(m);

	free(m);
	return j;
}

/* A copy of v with every string in it masked: a component's error may
 * quote what a server answered to a secret. */
static json_t *masked_copy(json_t *v)
{
	const char *k;
	json_t *x, *out;
	size_t i;

	if (json_is_string(v))
		return masked_text(json_string_value(v));
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, k, x)
			json_object_set_new(out, k, masked_copy(x));
		return out;
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, x)
			json_array_append_new(out, masked_copy(x));
		return out;
	}
	return json_deep_copy(v);
}

void job_begin(struct job *j, const struct conf *c, const char *name)
{
	daemon_fd_init();
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

			json_object_set_new(j->components, k, json_pack("{s:O, s:o?}",
				"status", json_object_get(v, "status"),
				"error", json_is_string(err) ?
				masked_copy(err) : NULL));
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
	 * escapes what is not UTF-8, where "s" would lose the record.  What
	 * the report carries leaves the machine: masked, every string of it,
	 * wherever it came from (a component's error from the manifest). */
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:f, s:o?, s:o?, s:o, s:o?}",
		"job", r->job, "status", r->status, "exit", r->exit,
		"started", started, "finished", finished,
		"duration", (double)(long long)(r->duration * 1000 + 0.5) / 1000,
		"archive", masked_text(r->archive),
		"size", r->archive ? json_integer((json_int_t)r->size) : NULL,
		"components", r->components ? masked_copy(r->components) :
		json_object(),
		"error", masked_text(r->error));
}

char *job_report_text(const struct job_report *r)
{
	struct buf b = BUF_INIT;
	char *text;

	buf_printf(&b, "%s %s", r->job, r->status);
	if (r->exit)
		buf_printf(&b, " (exit %d)", r->exit);
	if (r->archive)
		buf_printf(&b, ": %s, %llu bytes,", r->archive,
			   (unsigned long long)r->size);
	buf_printf(&b, " in %.1fs", r->duration);
	if (r->error)
		buf_printf(&b, ": %s", r->error);
	text = log_mask(buf_str(&b));
	buf_release(&b);
	return text;
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
	tell_daemon(r->job);
}

void job_end(struct job *j, int code, const struct err *e)
{
	struct job_report r;
	const char *error = code && e && e->msg[0] ? e->msg : NULL;

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
	free(j->archive);
	json_decref(j->components);
	memset(j, 0, sizeof(*j));
}

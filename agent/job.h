/*
 * job: one run of a backup, prune or verify, however it was started (by
 * hand, from cron, by ferry daemon): job_begin() sends the start ping,
 * job_end() records the run in the state file, rewrites the metrics file
 * and sends the result's notifications.  Nothing here can fail the run:
 * a notification or a file that cannot be written is logged as a warning.
 * Every string a report carries (the error, the archive, each component's
 * error) is masked as the logs are: it leaves the machine.
 *
 * A job run by ferry daemon finds JOB_REPORT_FD_ENV set to a pipe's write
 * end and writes "JOB\n" there once it has recorded and notified a run of
 * JOB, so that the daemon reports a run itself only when the job could
 * not (killed, or ended before job_begin()).
 */
#ifndef FERRY_AGENT_JOB_H
#define FERRY_AGENT_JOB_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

struct conf;
struct err;

#define JOB_REPORT_FD_ENV "FERRY_REPORT_FD"

/* The jobs, in the order status and the metrics list them. */
extern const char *const job_names[];

struct job {
	const struct conf *conf;	/* NULL: nothing is recorded or sent */
	const char *name;		/* "backup", "prune", "verify" */
	time_t started;
	struct timespec t0;
	/* Filled by the caller before job_end() when it has them. */
	char *archive;			/* owned */
	uint64_t size;
	json_t *components;		/* owned: { "postgres": { "status": ...} } */
};

/* The result of one run, as the webhook, the state file and --json show
 * it.  status: "ok", "partial" (FX_PARTIAL) or "failed". */
struct job_report {
	const char *job, *status, *error;	/* error NULL when ok */
	int exit;
	time_t started, finished;
	double duration;
	const char *archive;			/* NULL when none */
	uint64_t size;
	json_t *components;			/* borrowed, may be NULL */
};

void job_begin(struct job *j, const struct conf *c, const char *name);
/* Takes the archive's components (status, masked error) from its sidecar
 * manifest. */
void job_set_archive(struct job *j, const char *archive, uint64_t size);
/* code: the run's exit code; e its error when code is not 0.  Releases j. */
void job_end(struct job *j, int code, const struct err *e);
/* Records and notifies r as job_end() does (the daemon's report of a
 * child that could not make its own). */
void job_end_report(const struct conf *c, const struct job_report *r);

/* { "job", "status", "exit", "started", "finished", "duration", "archive",
 *   "size", "components", "error" }, every string masked; caller decrefs. */
json_t *job_report_json(const struct job_report *r);
/* "backup ok: ARCHIVE, N bytes, 3.2s" or "backup failed (exit 3) after
 * 0.4s: ERROR", masked; caller frees. */
char *job_report_text(const struct job_report *r);
const char *job_status_name(int code);

#endif

/*
 * state: what ferry remembers of its runs, for ferry status and the
 * metrics file.  Each job's last run is one JSON file in the backup
 * directory, <dir>/.ferry-last-<job>.json (0600), replaced atomically
 * after every run, by hand, from cron or by the daemon alike:
 *
 *   the job's report (job_report_json()) plus
 *   "last_success": "2026-11-23T03:15:04Z"  the end of the last good run,
 *   "last_archive": "...", "last_archive_bytes": N  (backup: the last
 *                                                  archive written)
 * carried over from the previous file when this run did not set them.
 *
 * [notify] metrics_file is Prometheus text (node_exporter's textfile
 * collector), rewritten atomically (0644) from the three files:
 *   ferry_last_run_timestamp_seconds{job}     end of the last run
 *   ferry_last_success_timestamp_seconds{job} end of the last good run
 *   ferry_last_run_success{job}               1 ok, 0 failed
 *   ferry_last_run_exit_code{job}
 *   ferry_last_run_duration_seconds{job}
 *   ferry_last_archive_bytes                  the last archive's size
 *   ferry_component_status{component}         1 ok, 0 failed (last backup)
 */
#ifndef FERRY_AGENT_STATE_H
#define FERRY_AGENT_STATE_H

#include <jansson.h>
#include <time.h>

#include "util/err.h"

struct conf;
struct job_report;

/* <backup dir>/.ferry-last-<job>.json; caller frees. */
char *state_path(const struct conf *c, const char *job);
/* The job's last run, or NULL when there is none (or it is unreadable). */
json_t *state_load(const struct conf *c, const char *job);
int state_record(const struct conf *c, const struct job_report *r,
		 struct err *e) __attribute__((warn_unused_result));
int state_write_metrics(const struct conf *c, struct err *e)
	__attribute__((warn_unused_result));
/* A record's time field ("2026-11-23T03:15:04Z") as time_t; 0 if absent. */
time_t state_time(json_t *rec, const char *key);

#endif

/*
 * notify: tells the outside world about runs, per [notify]:
 *   ping_url     healthchecks.io style: POST URL/start when a run starts,
 *                URL when it succeeds, URL/fail when it fails, the run's
 *                summary as the body;
 *   webhook_url  POST of the run's report as JSON (job_report_json());
 *   on           always (default), or failure: only failed runs notify.
 * Each request is bounded by [notify] timeout and tried three times; one
 * that still fails is logged as a warning and changes nothing else.
 */
#ifndef FERRY_AGENT_NOTIFY_H
#define FERRY_AGENT_NOTIFY_H

struct conf;
struct job_report;

void notify_start(const struct conf *c, const char *job);
void notify_finish(const struct conf *c, const struct job_report *r);

#endif

/*
 * sched: [schedule] as jobs, and when each is due.  The daemon, status and
 * `schedule print` read the same table; the daemon's clock handling is
 * here, apart from its signals and children, so tests can drive it.
 *
 * A job is due when its next fire time has passed.  After it ran, its next
 * fire time is the first one after the run ended: slots missed while it ran,
 * while the machine slept or across a clock jump forward run once, not once
 * each.  A clock set back a little (< 3 h) runs nothing twice; set back
 * more, the plan starts again from the new time (as cronie does).
 */
#ifndef FERRY_AGENT_SCHED_H
#define FERRY_AGENT_SCHED_H

#include <time.h>

#include "util/cron.h"
#include "util/err.h"

struct conf;

enum { SCHED_BACKUP, SCHED_PRUNE, SCHED_VERIFY, SCHED_N };

struct sched_job {
	const char *name;	/* "backup", "prune", "verify" */
	const char *expr;	/* as configured; NULL: not scheduled */
	struct cron cron;	/* valid when expr is and !after_backup */
	int after_backup;	/* prune = after-backup */
};

struct sched {
	struct sched_job job[SCHED_N];
	/* the daemon's clock */
	time_t next[SCHED_N];	/* 0: none */
	time_t seen;		/* the latest time looked at */
};

/* From c's [schedule]; FX_USAGE naming FILE:LINE for a schedule that
 * cannot work (prune = after-backup without a backup schedule). */
int sched_load(struct sched *s, const struct conf *c, struct err *e)
	__attribute__((warn_unused_result));
void sched_release(struct sched *s);
/* 1 when some job has a schedule of its own. */
int sched_any(const struct sched *s);

/* The jobs' first fire times after now. */
void sched_start(struct sched *s, time_t now);
/* A job due at now (its index), or -1; notices a clock set back. */
int sched_due(struct sched *s, time_t now);
/* Job i ran and ended at `ended`: its next fire time. */
void sched_ran(struct sched *s, int i, time_t ended);
/* The earliest next fire time; 0 when nothing is scheduled. */
time_t sched_wake(const struct sched *s);

/* The longest gap, in seconds, between the next 32 fire times after now
 * (a backup's interval, for max_age's default); 0 on failure. */
long long sched_interval(const struct cron *c, time_t now);

#endif

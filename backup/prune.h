/*
 * prune: which archives a retention policy keeps, with restic's "forget"
 * semantics on the archives' UTC times:
 *   keep_last N       the N newest;
 *   keep_hourly N ... walk newest to oldest and keep the newest archive of
 *   keep_yearly N     each of the N most recent hours/days/ISO weeks/months/
 *                     years that have one.
 * The union is kept, and the newest archive always.  With every count at 0
 * there is no policy and everything is kept.
 */
#ifndef FERRY_PRUNE_H
#define FERRY_PRUNE_H

#include <stddef.h>
#include <time.h>

enum { KEEP_LAST, KEEP_HOURLY, KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY,
       KEEP_YEARLY, KEEP_N };

struct prune_policy {
	long long keep[KEEP_N];
};

struct prune_item {
	time_t t;
	int keep;		/* result */
	char reason[160];	/* "keep_daily (2026-11-20)", ... or why it goes */
};

/* items must be sorted newest first; fills keep and reason. */
void prune_plan(struct prune_item *items, size_t n,
		const struct prune_policy *p);
/* The config key of rule i ("keep_daily"). */
const char *prune_rule_name(int i);

#endif

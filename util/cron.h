/*
 * cron: five-field cron expressions and their fire times, as Vixie cron and
 * cronie read them.
 *
 *   [CRON_TZ=Zone] MIN HOUR DOM MON DOW   or   [CRON_TZ=Zone] @daily ...
 *
 * Fields take lists (1,5), ranges (1-5), steps (* /15, 1-30/2, 5/10 = 5-max
 * by 10), month and weekday names (jan, mon; any case), 0 and 7 for Sunday
 * (and "sun" ending a range: fri-sun);
 * @hourly @daily @midnight @weekly @monthly @yearly @annually stand for
 * their five fields.  When day-of-month and day-of-week are both restricted
 * (neither field starts with '*'), a day matching either is a match.
 *
 * Fire times are instants: the expression is read in its zone (CRON_TZ=, or
 * the process's TZ), and across daylight-saving changes every matching wall
 * time fires exactly once: a time in a skipped hour fires at the jump (the
 * first instant after it), a time in a repeated hour at its first
 * occurrence.  Unlike cronie, this holds for every job, not only for those
 * with a fixed hour and minute.
 */
#ifndef FERRY_UTIL_CRON_H
#define FERRY_UTIL_CRON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/err.h"

struct cron {
	uint64_t minute;	/* bit n: minute n (0-59) */
	uint32_t hour;		/* 0-23 */
	uint32_t dom;		/* 1-31 */
	uint32_t month;		/* 1-12 */
	uint32_t dow;		/* 0-6, 0 is Sunday */
	int dom_star, dow_star;	/* the field starts with '*' */
	char *zone;		/* CRON_TZ=; NULL: the process's TZ */
};

#define CRON_INIT { 0, 0, 0, 0, 0, 0, 0, NULL }

/* Parses expr into c (released first); FX_USAGE with the reason ("minute
 * field '61': 61 is out of range 0-59", "unknown time zone 'Mars/Base'",
 * "never matches a date") worded to follow "bad cron expression 'EXPR': ".
 * An expression that matches no date in 400 years is refused. */
int cron_parse(const char *expr, struct cron *c, struct err *e)
	__attribute__((warn_unused_result));
void cron_release(struct cron *c);

/* The first fire time strictly after `after`; 0, or -1 when there is none
 * within 400 years (cron_parse refuses such expressions).  Not
 * thread-safe: it sets TZ to the expression's zone while it runs. */
int cron_next(const struct cron *c, time_t after, time_t *next)
	__attribute__((warn_unused_result));

/* The next n fire times after `after` into next[]; how many were found
 * (n unless there are no more). */
size_t cron_next_n(const struct cron *c, time_t after, time_t *next, size_t n);

/* "2026-11-23T03:15:00Z" (UTC) <-> time_t; parsing takes exactly that form
 * and returns 0 or -1. */
void cron_utc(time_t t, char out[21]);
int cron_parse_utc(const char *s, time_t *t);

#endif

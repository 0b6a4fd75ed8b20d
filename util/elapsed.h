/*
 * elapsed: seconds on the monotonic clock, for the times ferry reports
 * (a backup's, a restore phase's, a sync's progress).
 */
#ifndef FERRY_UTIL_ELAPSED_H
#define FERRY_UTIL_ELAPSED_H

#include <time.h>

/* Seconds since t0, which clock_gettime(CLOCK_MONOTONIC) filled. */
double elapsed_since(const struct timespec *t0);

#endif

/*
 * progress: one line on stderr that a long transfer rewrites in place
 * (deploy's send, backup, restore, verify, off-site uploads and downloads):
 *
 *   backup  412.3 MiB  38.2 MiB/s
 *   verify  1.2 GiB / 3.4 GiB  35%  88.1 MiB/s  ETA 26s
 *
 * Only when stderr is a terminal and -q was not given: a log, a pipe or
 * cron never sees it.  The rate is smoothed (an exponential average over
 * the last few seconds), and the ETA is hidden until it means something
 * (some seconds in and some bytes done), so it does not open at 1,154 s
 * because the first bytes came after a slow connect.
 *
 * One thread updates a meter; progress_format() is pure, for the tests.
 */
#ifndef FERRY_UTIL_PROGRESS_H
#define FERRY_UTIL_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/buf.h"

struct progress {
	int on;			/* drawing at all */
	const char *label;	/* "backup", "verify", ... (not copied) */
	uint64_t total;		/* 0: unknown (no percentage, no ETA) */
	uint64_t done;
	size_t items, nitems;	/* "12/40 entries" when nitems > 0 */
	const char *unit;	/* what items are ("entries") */
	double rate;		/* smoothed bytes per second; 0: none yet */
	double wbytes, wtime;	/* its decaying sums */
	uint64_t sample_done;	/* done at the last rate sample */
	struct timespec t0, sample, drawn;
	int shown;		/* something is on the line */
};

/* Starts a meter; it draws only when stderr is a TTY and the log level
 * is not quiet. */
void progress_start(struct progress *p, const char *label, uint64_t total);
/* A count of items beside the bytes ("3/40 entries"). */
void progress_set_items(struct progress *p, size_t items, size_t nitems,
			const char *unit);
/* done is cumulative; redraws at most four times a second. */
void progress_update(struct progress *p, uint64_t done);
void progress_add(struct progress *p, uint64_t n);
/* Draws the final state (average rate) and ends the line. */
void progress_end(struct progress *p);
/* Clears the line without a final state (on a failure: the error that
 * follows starts on a clean line). */
void progress_abort(struct progress *p);

/* Clears a progress line that is on the terminal, so that a log line
 * printed next starts at the left (log.c calls it); the meter redraws at
 * its next update. */
void progress_interrupt(void);

/* The line for these figures (no "\r"): elapsed in seconds. */
void progress_format(struct buf *out, const char *label, uint64_t done,
		     uint64_t total, double rate, double elapsed,
		     size_t items, size_t nitems, const char *unit);
/* The ETA in seconds, or -1 while it would mean nothing. */
double progress_eta(uint64_t done, uint64_t total, double rate,
		    double elapsed);
/* Adds a sample (bytes over dt seconds) to the decaying sums *wbytes and
 * *wtime and returns the rate they give: recent seconds weigh most, and
 * a slow start fades within a few seconds. */
double progress_smooth(double *wbytes, double *wtime, uint64_t bytes,
		       double dt);

/* "512 B", "1.4 MiB", "3.0 GiB" (binary units, one decimal). */
void units_bytes(struct buf *out, uint64_t n);
/* "42s", "3m05s", "2h01m". */
void units_duration(struct buf *out, double seconds);

#endif

#include "util/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/elapsed.h"
#include "util/log.h"

/* How far back the rate looks (seconds), how often it is sampled and the
 * line redrawn, and when an ETA starts to mean something. */
#define RATE_WINDOW 5.0
#define SAMPLE_EVERY 0.5
#define DRAW_EVERY 0.25
#define ETA_AFTER 3.0
#define ETA_MIN_DONE 0.02

/* A meter's line is on the terminal, unfinished. */
static volatile int dirty;

void progress_interrupt(void)
{
	if (dirty) {
		fputs("\r\033[K", stderr);
		dirty = 0;
	}
}

void units_bytes(struct buf *out, uint64_t n)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	size_t i = 0;

	if (n < 1024) {
		buf_printf(out, "%llu B", (unsigned long long)n);
		return;
	}
	v /= 1024;
	while (v >= 1023.95 && i + 1 < sizeof(unit) / sizeof(*unit)) {
		v /= 1024;
		i++;
	}
	buf_printf(out, "%.1f %s", v, unit[i]);
}

void units_duration(struct buf *out, double seconds)
{
	long s = seconds < 0 ? 0 : (long)(seconds + 0.5);

	if (s < 60)
		buf_printf(out, "%lds", s);
	else if (s < 3600)
		buf_printf(out, "%ldm%02lds", s / 60, s % 60);
	else
		buf_printf(out, "%ldh%02ldm", s / 3600, s % 3600 / 60);
}

double progress_smooth(double *wbytes, double *wtime, uint64_t bytes,
		       double dt)
{
	/* What came before fades by window/(window+dt) per sample, about
	 * e^(-dt/window): bytes and time both, so a sample weighs by how
	 * long it lasted. */
	double keep = RATE_WINDOW / (RATE_WINDOW + (dt > 0 ? dt : 0));

	if (dt > 0) {
		*wbytes = *wbytes * keep + (double)bytes;
		*wtime = *wtime * keep + dt;
	}
	return *wtime > 0 ? *wbytes / *wtime : 0;
}

double progress_eta(uint64_t done, uint64_t total, double rate,
		    double elapsed)
{
	if (!total || done >= total || rate <= 0 || elapsed < ETA_AFTER ||
	    (double)done < ETA_MIN_DONE * (double)total)
		return -1;
	return (double)(total - done) / rate;
}

void progress_format(struct buf *out, const char *label, uint64_t done,
		     uint64_t total, double rate, double elapsed,
		     size_t items, size_t nitems, const char *unit)
{
	double eta = progress_eta(done, total, rate, elapsed);

	buf_printf(out, "%s  ", label);
	if (nitems)
		buf_printf(out, "%zu/%zu %s  ", items, nitems, unit ? unit : "");
	units_bytes(out, done);
	if (total) {
		buf_addstr(out, " / ");
		units_bytes(out, total);
		buf_printf(out, "  %d%%", (int)(done >= total ? 100 :
						(double)done * 100 / (double)total));
	}
	if (rate > 0) {
		buf_addstr(out, "  ");
		units_bytes(out, (uint64_t)rate);
		buf_addstr(out, "/s");
	}
	if (eta >= 0) {
		buf_addstr(out, "  ETA ");
		units_duration(out, eta);
	}
}

void progress_start(struct progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->label = label;
	p->total = total;
	p->on = log_get_level() > LOG_QUIET && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	p->sample = p->t0;
	p->drawn = p->t0;
}

void progress_set_items(struct progress *p, size_t items, size_t nitems,
			const char *unit)
{
	p->items = items;
	p->nitems = nitems;
	p->unit = unit;
}

static void draw(struct progress *p, int final)
{
	struct buf line = BUF_INIT;
	double el = elapsed_since(&p->t0);

	progress_format(&line, p->label, p->done, p->total,
			p->rate > 0 ? p->rate : el > 0 ? (double)p->done / el : 0,
			final ? 0 : el, p->items, p->nitems, p->unit);
	/* \033[K clears what a longer earlier line left. */
	fprintf(stderr, "\r%s\033[K%s", buf_str(&line), final ? "\n" : "");
	fflush(stderr);
	buf_release(&line);
	p->shown = !final;
	dirty = !final;
	clock_gettime(CLOCK_MONOTONIC, &p->drawn);
}

void progress_update(struct progress *p, uint64_t done)
{
	double dt;

	p->done = done;
	if (!p->on)
		return;
	dt = elapsed_since(&p->sample);
	if (dt >= SAMPLE_EVERY) {
		p->rate = progress_smooth(&p->wbytes, &p->wtime,
					  p->done - p->sample_done, dt);
		p->sample_done = p->done;
		clock_gettime(CLOCK_MONOTONIC, &p->sample);
	}
	/* Nothing for a transfer done within a second: no flicker. */
	if (elapsed_since(&p->t0) >= 1.0 && elapsed_since(&p->drawn) >= DRAW_EVERY)
		draw(p, 0);
}

void progress_add(struct progress *p, uint64_t n)
{
	progress_update(p, p->done + n);
}

void progress_end(struct progress *p)
{
	/* Always a last line, as deploy has shown: what moved, how fast. */
	if (p->on) {
		p->rate = 0;	/* the final line shows the average */
		draw(p, 1);
	}
	p->on = 0;
}

void progress_abort(struct progress *p)
{
	if (p->on && p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		dirty = 0;
	}
	p->shown = 0;
	p->on = 0;
}

#include "backup/probe.h"

#include <string.h>
#include <time.h>

#include "backup/fetch.h"
#include "net/xport.h"
#include "util/elapsed.h"
#include "util/proc.h"

#define MARK "ferry-link\n"
#define STR_(x) #x
#define STR(x) STR_(x)

int probe_run(struct xport *x, const char *script, int rate, struct buf *out,
	      double *bps, struct err *e)
{
	struct fetch_cmd *f = NULL;
	struct buf cmd = BUF_INIT, eb = BUF_INIT;
	struct proc_status st;
	struct timespec t0 = { 0, 0 };
	char chunk[16384], tmp[64];
	size_t first = 0, after = 0;	/* after the mark: in its chunk, all */
	double secs = 0;
	int marked = 0, r = -1;
	ssize_t n = -1;

	*bps = 0;
	buf_reset(out);
	buf_printf(&cmd, "%s\n", script);
	if (rate)
		buf_addstr(&cmd, "printf '" MARK "'; head -c " STR(PROBE_BYTES)
			   " /dev/zero");
	if (fetch_start(x, buf_str(&cmd), FETCH_PLAIN, NULL, &f, e) < 0)
		goto out;
	while ((n = fetch_read(f, chunk, sizeof(chunk), e)) > 0) {
		const char *m;

		if (marked) {
			after += (size_t)n;
			/* Timed to its last byte, not to the end of the
			 * command: the exit and the channel's close would
			 * count as link time, a fast link's most of it. */
			if (after >= PROBE_BYTES && secs == 0)
				secs = elapsed_since(&t0);
			continue;
		}
		buf_add(out, chunk, (size_t)n);
		if ((m = strstr(buf_str(out), MARK))) {
			first = after = out->len - (size_t)(m - out->p) -
					strlen(MARK);
			buf_setlen(out, (size_t)(m - out->p));
			clock_gettime(CLOCK_MONOTONIC, &t0);
			marked = 1;
		} else if (out->len > (64u << 10)) {
			n = err_set(e, FX_REMOTE, "the server's answer is not "
				    "the probe's");
			break;
		}
	}
out:
	if (fetch_end(f, n == 0, &eb, &st, e) == 0) {
		if (!st.exited || st.code)
			err_set(e, FX_REMOTE, "%s", proc_status_text(&st, tmp,
								     sizeof(tmp)));
		else
			r = 0;
	}
	/* The chunk that held the marker started the clock: not timed. */
	if (r == 0 && after - first > PROBE_BYTES / 2 && secs > 0)
		*bps = (double)(after - first) / secs;
	buf_release(&cmd);
	buf_release(&eb);
	return r;
}

int probe_has(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *s = text; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : s)
		if (!strncmp(s, line, n) && (s[n] == '\n' || !s[n]))
			return 1;
	return 0;
}

char *probe_field(const char *text, const char *prefix)
{
	const char *found = NULL;
	size_t n = strlen(prefix);

	for (const char *s = text; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : s)
		if (!strncmp(s, prefix, n))
			found = s + n;
	return found ? xstrndup(found, strcspn(found, "\n")) : NULL;
}

int probe_slow(double bps, struct buf *why)
{
	if (bps >= PROBE_FAST_LINK) {
		buf_printf(why, "the link carries %.1f MB/s, over %d MB/s: "
			   "faster than compressing on the server pays for",
			   bps / 1e6, PROBE_FAST_LINK / 1000000);
		return 0;
	}
	/* A sample that did not come back whole says nothing: compress. */
	if (bps > 0)
		buf_printf(why, "the link carries %.1f MB/s, under %d MB/s",
			   bps / 1e6, PROBE_FAST_LINK / 1000000);
	else
		buf_addstr(why, "the link could not be timed");
	return 1;
}

int probe_ask(struct xport *x, const char *script, const char *who,
	      const char *tool, int want, struct buf *out, double *bps,
	      char **why, struct err *e)
{
	struct err pe = ERR_INIT;

	if (probe_run(x, script, !want, out, bps, &pe) == 0)
		return 1;
	if (want) {
		*e = pe;
		return err_wrap(e, "%stransfer = server: looking for %s", who,
				tool);
	}
	*why = xstrfmt("the server could not be asked for %s (%s)", tool,
		       pe.msg);
	return 0;
}

int probe_decide(struct xport *x, const char *who, const char *missing,
		 int want, double bps, char **why, struct buf *lead,
		 struct err *e)
{
	if (missing && want)
		return err_set(e, FX_REMOTE, "%stransfer = server: no %s on %s",
			       who, missing, xport_name(x));
	if (missing) {
		*why = xstrfmt("no %s on the server", missing);
		return 0;
	}
	if (want) {
		buf_addstr(lead, "transfer = server");
		return 1;
	}
	if (!probe_slow(bps, lead)) {
		*why = buf_detach(lead, NULL);
		return 0;
	}
	return 1;
}

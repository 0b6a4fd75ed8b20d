/* backup/probe.c on this machine (host = local): the script's lines come
 * back without the rate sample, the sample is timed, a failing script is
 * an error, and what the choice makes of it; the lines are read whole;
 * the 25 MB/s turn, in words. */
#include "backup/probe.h"
#include "tests/unit/t.h"

#include <stdlib.h>

#include "net/xport.h"
#include "util/buf.h"

static void run(struct xport *x)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	double bps = -1;

	T_OK(probe_run(x, "echo psql; echo 'ctr abc 6380'", 1, &out, &bps,
		       &e) == 0, "a probe with the rate sample runs");
	T_STREQ(buf_str(&out), "psql\nctr abc 6380\n", "its lines, without "
		"the marker or the sample");
	T_OK(bps > 0, "the sample was timed");
	T_OK(probe_run(x, "echo zstd", 0, &out, &bps, &e) == 0 && bps == 0 &&
	     !strcmp(buf_str(&out), "zstd\n"), "without the sample: no rate");
	err_clear(&e);
	T_OK(probe_run(x, "echo half; exit 3", 1, &out, &bps, &e) < 0 &&
	     e.code == FX_REMOTE && bps == 0, "a failing script: FX_REMOTE, "
	     "no rate");
	buf_release(&out);
}

/* A server that cannot be asked: auto keeps to the tunnel and says why;
 * transfer = server fails naming what it looked for. */
static void ask(struct xport *x)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	double bps = -1;
	char *why = NULL;

	T_OK(probe_ask(x, "echo psql", "", "psql", 0, &out, &bps, &why,
		       &e) == 1 && why == NULL &&
	     !strcmp(buf_str(&out), "psql\n"), "probe_ask: the answer");
	T_OK(probe_ask(x, "exit 3", "", "psql", 0, &out, &bps, &why,
		       &e) == 0 && e.code == 0, "auto, not asked: the tunnel");
	T_OK(why && !strncmp(why, "the server could not be asked for psql (",
			     40), "... and why");
	free(why);
	why = NULL;
	T_OK(probe_ask(x, "exit 3", "redis: ", "redis-cli", 1, &out, &bps,
		       &why, &e) < 0 && e.code == FX_REMOTE && why == NULL,
	     "transfer = server, not asked: FX_REMOTE");
	T_OK(!strncmp(e.msg, "redis: transfer = server: looking for "
		      "redis-cli: ", 48), "... naming what it looked for");
	buf_release(&out);
}

static void lines(void)
{
	const char *t = "psql\nzstd\nbin /usr/lib/postgresql/15/bin/psql\n"
			"bin /usr/lib/postgresql/16/bin/psql\nctr abc 6380";
	char *f;

	T_OK(probe_has(t, "psql") && probe_has(t, "zstd") &&
	     !probe_has(t, "gzip") && !probe_has(t, "zst") &&
	     !probe_has(t, "bin"), "probe_has: whole lines only");
	f = probe_field(t, "bin ");
	T_STREQ(f, "/usr/lib/postgresql/16/bin/psql", "probe_field: the last "
		"line with the prefix");
	free(f);
	f = probe_field(t, "ctr ");
	T_STREQ(f, "abc 6380", "probe_field: the last line, without a newline");
	free(f);
	T_OK(probe_field(t, "redis-cli") == NULL, "probe_field: none");
}

static void slow(void)
{
	struct buf why = BUF_INIT;

	T_OK(!probe_slow(70e6, &why), "70 MB/s: not slow");
	T_STREQ(buf_str(&why), "the link carries 70.0 MB/s, over 25 MB/s: "
		"faster than compressing on the server pays for", "... and why");
	buf_reset(&why);
	T_OK(probe_slow(12.5e6, &why), "12.5 MB/s: slow");
	T_STREQ(buf_str(&why), "the link carries 12.5 MB/s, under 25 MB/s",
		"... and why");
	buf_reset(&why);
	T_OK(probe_slow(0, &why), "no sample: compress");
	T_STREQ(buf_str(&why), "the link could not be timed", "... and says so");
	buf_release(&why);
}

int main(void)
{
	struct xport_opts xo = { 0 };
	struct xport *x = NULL;
	struct err e = ERR_INIT;

	xo.local = 1;
	if (xport_open(&x, &xo, &e) < 0) {
		printf("not ok - setup: %s\n", e.msg);
		return 1;
	}
	run(x);
	ask(x);
	lines();
	slow();
	xport_close(x);
	return T_DONE();
}

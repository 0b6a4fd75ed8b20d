/* util/progress.c's pure parts: sizes, durations, the smoothed rate, when
 * an ETA is shown, the line itself.  No clocks: figures are given. */
#include "util/progress.h"
#include "tests/unit/t.h"

#include <stdlib.h>

static char *bytes(uint64_t n)
{
	struct buf b = BUF_INIT;

	units_bytes(&b, n);
	return buf_detach(&b, NULL);
}

static char *dur(double s)
{
	struct buf b = BUF_INIT;

	units_duration(&b, s);
	return buf_detach(&b, NULL);
}

#define CHECK_STR(expr, want, name) do {	\
	char *got_ = (expr);			\
	T_STREQ(got_, want, name);		\
	free(got_);				\
} while (0)

static void units(void)
{
	CHECK_STR(bytes(0), "0 B", "0 bytes");
	CHECK_STR(bytes(1023), "1023 B", "under a KiB");
	CHECK_STR(bytes(1024), "1.0 KiB", "one KiB");
	CHECK_STR(bytes(1468006), "1.4 MiB", "1.4 MiB");
	CHECK_STR(bytes(1048575), "1.0 MiB", "rounds up into the next unit");
	CHECK_STR(bytes(3ull << 30), "3.0 GiB", "GiB");
	CHECK_STR(bytes(5ull << 40), "5.0 TiB", "TiB");
	CHECK_STR(dur(0), "0s", "0s");
	CHECK_STR(dur(42.4), "42s", "seconds");
	CHECK_STR(dur(185), "3m05s", "minutes");
	CHECK_STR(dur(7260), "2h01m", "hours");
}

static void eta(void)
{
	uint64_t total = 1000ull << 20;
	double rate = 0, wb = 0, wt = 0;

	T_OK(progress_eta(100ull << 20, total, 50e6, 1.0) < 0,
	     "no ETA in the first seconds");
	T_OK(progress_eta(100ull << 20, total, 50e6, 3.0) > 0,
	     "an ETA after three seconds");
	T_OK(progress_eta(1ull << 20, total, 50e6, 10.0) < 0,
	     "no ETA before 2% is done");
	T_OK(progress_eta(500ull << 20, 0, 50e6, 10.0) < 0, "no ETA without a total");
	T_OK(progress_eta(500ull << 20, total, 0, 10.0) < 0, "no ETA without a rate");
	{
		double t = progress_eta(500ull << 20, total, 1048576 * 50.0, 10.0);

		T_OK(t > 9.9 && t < 10.1, "ETA = what is left / rate");
	}
	/* The first half second brought 4 KiB (a slow connect), then
	 * 50 MiB/s: the average from the start would promise a long wait;
	 * the smoothed rate is near 50 MiB/s by the time an ETA shows. */
	rate = progress_smooth(&wb, &wt, 4096, 0.5);
	T_OK(rate > 8191 && rate < 8193, "first sample taken as is");
	for (int i = 0; i < 6; i++)
		rate = progress_smooth(&wb, &wt, 25ull << 20, 0.5);
	T_OK(rate > 1048576 * 40.0 && rate <= 1048576 * 50.0,
	     "the rate is near 50 MiB/s after three seconds");
	{
		/* 850 MiB left at 50 MiB/s: 17 s. */
		double t = progress_eta(150ull << 20, total, rate, 3.5);

		T_OK(t > 17 && t < 21, "the ETA does not open at 1,154 s");
	}
	for (int i = 0; i < 40; i++)
		rate = progress_smooth(&wb, &wt, 5ull << 20, 0.5);
	T_OK(rate > 1048576 * 9.5 && rate < 1048576 * 10.5,
	     "a slowdown shows within seconds");
	T_OK(progress_smooth(&wb, &wt, 0, 0) == rate, "no time: no change");
}

static void line(void)
{
	struct buf b = BUF_INIT;

	progress_format(&b, "verify", 1ull << 20, 2ull << 20, 1048576, 10, 0, 0,
			NULL);
	T_STREQ(buf_str(&b), "verify  1.0 MiB / 2.0 MiB  50%  1.0 MiB/s  ETA 1s",
		"a line with a total");
	buf_reset(&b);
	progress_format(&b, "backup", 5ull << 30, 0, 40 * 1048576.0, 60, 0, 0, NULL);
	T_STREQ(buf_str(&b), "backup  5.0 GiB  40.0 MiB/s", "a line without a total");
	buf_reset(&b);
	progress_format(&b, "deploy", 512, 1024, 0, 0.1, 3, 40, "entries");
	T_STREQ(buf_str(&b), "deploy  3/40 entries  512 B / 1.0 KiB  50%",
		"a line with items, no rate yet");
	buf_release(&b);
}

int main(void)
{
	units();
	eta();
	line();
	return T_DONE();
}

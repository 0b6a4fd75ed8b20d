/* backup/prune.c: restic's forget rules on archive times. */
#include "backup/prune.h"
#include "tests/unit/t.h"

#include <stdlib.h>

static time_t at(int y, int mo, int d, int h)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	return timegm(&tm);
}

static int kept(const struct prune_item *it, size_t n)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += it[i].keep;
	return k;
}

int main(void)
{
	struct prune_item it[40];
	struct prune_policy p = { { 0 } };
	size_t n = 0;

	/* Every 6 hours for 10 days, newest first. */
	for (int d = 10; d >= 1; d--)
		for (int h = 18; h >= 0; h -= 6)
			it[n++].t = at(2026, 11, d, h);
	prune_plan(it, n, &p);
	T_OK(kept(it, n) == (int)n, "no policy keeps everything");

	p.keep[KEEP_LAST] = 3;
	prune_plan(it, n, &p);
	T_OK(kept(it, n) == 3 && it[0].keep && it[1].keep && it[2].keep &&
	     !it[3].keep, "keep_last 3 keeps the three newest");
	T_STREQ(it[0].reason, "keep_last", "the reason names the rule");

	p.keep[KEEP_LAST] = 0;
	p.keep[KEEP_DAILY] = 7;
	prune_plan(it, n, &p);
	T_OK(kept(it, n) == 7, "keep_daily 7 keeps seven");
	T_OK(it[0].keep && it[4].keep && !it[1].keep,
	     "keep_daily keeps each day's newest");
	T_STREQ(it[4].reason, "keep_daily (2026-11-09)", "daily reason names the day");

	p.keep[KEEP_DAILY] = 0;
	p.keep[KEEP_WEEKLY] = 1;
	prune_plan(it, n, &p);
	T_OK(kept(it, n) == 1 && it[0].keep, "keep_weekly 1 keeps the newest");

	p.keep[KEEP_WEEKLY] = 0;
	p.keep[KEEP_HOURLY] = 1;
	p.keep[KEEP_MONTHLY] = 2;
	prune_plan(it, n, &p);
	T_OK(kept(it, n) == 1 && it[0].keep, "rules overlap: the union");

	/* The newest archive is kept even when no rule would. */
	p = (struct prune_policy){ { 0 } };
	p.keep[KEEP_YEARLY] = 0;
	p.keep[KEEP_LAST] = 0;
	p.keep[KEEP_HOURLY] = 0;
	n = 1;
	it[0].t = at(2026, 1, 1, 0);
	prune_plan(it, 1, &p);
	T_OK(it[0].keep, "a single archive is kept");
	T_STREQ(prune_rule_name(KEEP_MONTHLY), "keep_monthly", "rule names");
	return T_DONE();
}

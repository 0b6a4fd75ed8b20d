/* util/cron.c's parser and agent/sched.c's clock: missed slots run once,
 * a clock set back runs nothing twice. */
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "agent/sched.h"
#include "conf/conf.h"
#include "util/cron.h"

static time_t at(const char *s)
{
	time_t t = 0;

	if (cron_parse_utc(s, &t) < 0)
		abort();
	return t;
}

static const char *utc(time_t t)
{
	static char out[4][21];
	static int i;

	i = (i + 1) % 4;
	cron_utc(t, out[i]);
	return out[i];
}

static void parsing(void)
{
	static const struct { const char *expr, *why; } bad[] = {
		{ "61 * * * *", "minute field '61': 61 is out of range 0-59" },
		{ "* * * *", "too few fields" },
		{ "0 0 30 2 *", "never matches a date" },
		{ "5-1 * * * *", "range 5-1 runs backwards" },
		{ "*/0 * * * *", "step 0 is out of range" },
		{ "@reboot", "unknown '@reboot'" },
		{ "CRON_TZ=../etc/passwd 0 3 * * *", "unknown time zone" },
		{ "0 0 * * funday", "day-of-week field 'funday'" },
	};
	struct cron c = CRON_INIT;
	struct err e = ERR_INIT;
	time_t t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[128];

		err_clear(&e);
		snprintf(name, sizeof(name), "refused: '%s'", bad[i].expr);
		T_OK(cron_parse(bad[i].expr, &c, &e) < 0 &&
		     strstr(e.msg, bad[i].why) && e.code == FX_USAGE, name);
	}
	T_OK(cron_parse("0 0 * * 7", &c, &e) == 0 && c.dow == 1, "7 is Sunday");
	T_OK(cron_parse("0 0 * * fri-sun", &c, &e) == 0 && c.dow == 0x61,
	     "fri-sun: Friday, Saturday, Sunday");
	T_OK(cron_parse("5/20 * * * *", &c, &e) == 0 &&
	     c.minute == ((1ULL << 5) | (1ULL << 25) | (1ULL << 45)), "N/step");
	T_OK(cron_parse("@weekly", &c, &e) == 0 && c.dow == 1 && c.minute == 1 &&
	     c.hour == 1, "@weekly");
	T_OK(cron_parse("CRON_TZ=UTC 0 12 13 * 5", &c, &e) == 0 &&
	     cron_next(&c, at("2024-09-01T00:00:00Z"), &t) == 0, "parses");
	T_STREQ(utc(t), "2024-09-06T12:00:00Z", "Friday or the 13th: a Friday first");
	T_OK(cron_parse("CRON_TZ=UTC 0 12 */2 * 5", &c, &e) == 0 &&
	     cron_next(&c, at("2024-09-01T00:00:00Z"), &t) == 0, "parses");
	T_STREQ(utc(t), "2024-09-13T12:00:00Z",
		"a '*' step in day-of-month: Vixie's AND (an odd day and a Friday)");
	cron_release(&c);
}

static struct conf *load(const char *text)
{
	struct conf *c = NULL;
	struct err e = ERR_INIT;

	if (conf_load_string(&c, text, "t.ini", &e) < 0) {
		printf("# %s\n", e.msg);
		return NULL;
	}
	return c;
}

static void clock_plan(void)
{
	struct conf *c = load("[server]\nhost = local\n[schedule]\n"
			      "backup = CRON_TZ=UTC */10 * * * *\n"
			      "prune = after-backup\n"
			      "verify = CRON_TZ=UTC 0 4 * * *\n");
	struct sched s;
	struct err e = ERR_INIT;
	time_t t0 = at("2026-01-05T03:01:00Z");

	if (!c || sched_load(&s, c, &e) < 0) {
		T_OK(0, "sched loads");
		conf_free(c);
		return;
	}
	sched_start(&s, t0);
	T_STREQ(utc(sched_wake(&s)), "2026-01-05T03:10:00Z", "first wake");
	T_OK(s.next[SCHED_PRUNE] == 0, "after-backup prune has no time of its own");
	T_OK(sched_due(&s, t0 + 60) == -1, "nothing due before the slot");
	/* Asleep for 70 minutes: seven backup slots and the verify passed. */
	T_OK(sched_due(&s, at("2026-01-05T04:11:30Z")) == SCHED_BACKUP,
	     "after a suspend the backup is due");
	sched_ran(&s, SCHED_BACKUP, at("2026-01-05T04:12:00Z"));
	T_OK(sched_due(&s, at("2026-01-05T04:12:00Z")) == SCHED_VERIFY,
	     "then the missed verify");
	sched_ran(&s, SCHED_VERIFY, at("2026-01-05T04:12:05Z"));
	T_OK(sched_due(&s, at("2026-01-05T04:12:05Z")) == -1,
	     "each missed job ran once, not once per missed slot");
	T_STREQ(utc(s.next[SCHED_BACKUP]), "2026-01-05T04:20:00Z",
		"the backup's next slot is after the run");
	T_STREQ(utc(s.next[SCHED_VERIFY]), "2026-01-06T04:00:00Z",
		"the verify's next slot is tomorrow");
	/* A job longer than its interval skips the slots it overran. */
	sched_ran(&s, SCHED_BACKUP, at("2026-01-05T04:45:10Z"));
	T_STREQ(utc(s.next[SCHED_BACKUP]), "2026-01-05T04:50:00Z",
		"an overrun skips its slots");
	/* The clock set back an hour: nothing runs twice. */
	T_OK(sched_due(&s, at("2026-01-05T03:50:00Z")) == -1,
	     "clock set back: nothing due");
	T_STREQ(utc(s.next[SCHED_BACKUP]), "2026-01-05T04:50:00Z",
		"clock set back: the plan stands");
	/* Set back a day: the plan starts again from the new time. */
	T_OK(sched_due(&s, at("2026-01-04T03:05:00Z")) == -1, "set back a day");
	T_STREQ(utc(s.next[SCHED_BACKUP]), "2026-01-04T03:10:00Z",
		"set back a day: planned from the new time");
	T_OK(sched_interval(&s.job[SCHED_BACKUP].cron, t0) == 600,
	     "interval of */10: 600 s");
	sched_release(&s);
	conf_free(c);

	c = load("[server]\nhost = local\n[schedule]\nprune = after-backup\n");
	err_clear(&e);
	T_OK(c && sched_load(&s, c, &e) < 0 && strstr(e.msg, "t.ini:4: prune = "
						       "after-backup"),
	     "after-backup without a backup schedule: refused with file:line");
	conf_free(c);
}

int main(void)
{
	parsing();
	clock_plan();
	return T_DONE();
}

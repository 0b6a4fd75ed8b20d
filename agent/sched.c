#include "agent/sched.h"

#include <string.h>

#include "conf/conf.h"

/* A clock set back further than this starts the plan again. */
#define BIG_JUMP (3 * 3600)

static const char *const names[SCHED_N] = { "backup", "prune", "verify" };

int sched_load(struct sched *s, const struct conf *c, struct err *e)
{
	memset(s, 0, sizeof(*s));
	/* A bad expression is a config error naming its file:line. */
	if (conf_need(c, "schedule", NULL, e) < 0)
		return -1;
	for (int i = 0; i < SCHED_N; i++) {
		struct sched_job *j = &s->job[i];

		j->name = names[i];
		j->expr = conf_str(c, "schedule", names[i]);
		if (!j->expr)
			continue;
		if (i == SCHED_PRUNE && !strcmp(j->expr, "after-backup")) {
			j->after_backup = 1;
			continue;
		}
		/* conf checked it already; this cannot fail but is checked. */
		if (cron_parse(j->expr, &j->cron, e) < 0) {
			err_wrap(e, "%s: %s in [schedule]", conf_origin(c,
				 "schedule", names[i]), names[i]);
			sched_release(s);
			return -1;
		}
	}
	if (s->job[SCHED_PRUNE].after_backup && !s->job[SCHED_BACKUP].expr) {
		err_set(e, FX_USAGE, "%s: prune = after-backup in [schedule] "
			"needs a backup schedule (backup = ...)",
			conf_origin(c, "schedule", "prune"));
		sched_release(s);
		return -1;
	}
	return 0;
}

void sched_release(struct sched *s)
{
	for (int i = 0; i < SCHED_N; i++)
		cron_release(&s->job[i].cron);
}

static int has_cron(const struct sched_job *j)
{
	return j->expr && !j->after_backup;
}

int sched_any(const struct sched *s)
{
	for (int i = 0; i < SCHED_N; i++)
		if (has_cron(&s->job[i]))
			return 1;
	return 0;
}

static void plan(struct sched *s, int i, time_t after)
{
	if (!has_cron(&s->job[i]) ||
	    cron_next(&s->job[i].cron, after, &s->next[i]) < 0)
		s->next[i] = 0;
}

void sched_start(struct sched *s, time_t now)
{
	s->seen = now;
	for (int i = 0; i < SCHED_N; i++)
		plan(s, i, now);
}

int sched_due(struct sched *s, time_t now)
{
	if (now + BIG_JUMP < s->seen)
		sched_start(s, now);
	if (now > s->seen)
		s->seen = now;
	for (int i = 0; i < SCHED_N; i++)
		if (s->next[i] && s->next[i] <= now)
			return i;
	return -1;
}

void sched_ran(struct sched *s, int i, time_t ended)
{
	if (ended > s->seen)
		s->seen = ended;
	plan(s, i, ended > s->next[i] ? ended : s->next[i]);
}

time_t sched_wake(const struct sched *s)
{
	time_t w = 0;

	for (int i = 0; i < SCHED_N; i++)
		if (s->next[i] && (!w || s->next[i] < w))
			w = s->next[i];
	return w;
}

long long sched_interval(const struct cron *c, time_t now)
{
	time_t t[33];
	long long longest = 0;

	if (cron_next_n(c, now, t, 33) != 33)
		return 0;
	for (int i = 1; i < 33; i++)
		if (t[i] - t[i - 1] > longest)
			longest = t[i] - t[i - 1];
	return longest;
}

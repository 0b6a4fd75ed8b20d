#include "backup/prune.h"

#include <stdio.h>
#include <string.h>

static const char *const names[KEEP_N] = {
	"keep_last", "keep_hourly", "keep_daily", "keep_weekly",
	"keep_monthly", "keep_yearly",
};

/* strftime formats whose output names the bucket of each rule. */
static const char *const buckets[KEEP_N] = {
	NULL, "%Y-%m-%d %H:00", "%Y-%m-%d", "%G-W%V", "%Y-%m", "%Y",
};

const char *prune_rule_name(int i)
{
	return names[i];
}

static void append(struct prune_item *it, const char *text)
{
	size_t len = strlen(it->reason);

	snprintf(it->reason + len, sizeof(it->reason) - len, "%s%s",
		 len ? ", " : "", text);
}

/* The formats come from the constant table above. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void bucket_of(int rule, const struct tm *tm, char *out, size_t len)
{
	strftime(out, len, buckets[rule], tm);
}
#pragma GCC diagnostic pop

void prune_plan(struct prune_item *items, size_t n,
		const struct prune_policy *p)
{
	char last[KEEP_N][32] = { { 0 } };
	long long left[KEEP_N];
	int any = 0;

	for (int r = 0; r < KEEP_N; r++) {
		left[r] = p->keep[r];
		any |= p->keep[r] > 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct prune_item *it = &items[i];
		struct tm tm;

		it->keep = 0;
		it->reason[0] = '\0';
		gmtime_r(&it->t, &tm);
		for (int r = 0; r < KEEP_N; r++) {
			char val[32], text[64];

			if (left[r] <= 0)
				continue;
			if (r == KEEP_LAST)
				snprintf(val, sizeof(val), "#%zu", i);
			else
				bucket_of(r, &tm, val, sizeof(val));
			if (!strcmp(val, last[r]))
				continue;
			memcpy(last[r], val, sizeof(val));
			left[r]--;
			it->keep = 1;
			if (r == KEEP_LAST)
				snprintf(text, sizeof(text), "keep_last");
			else
				snprintf(text, sizeof(text), "%s (%s)", names[r], val);
			append(it, text);
		}
		if (i == 0 && !it->keep) {
			it->keep = 1;
			append(it, "newest archive");
		}
		if (!any) {
			it->keep = 1;
			snprintf(it->reason, sizeof(it->reason),
				 "no retention policy");
		}
		if (!it->keep)
			snprintf(it->reason, sizeof(it->reason),
				 "no retention rule keeps it");
	}
}

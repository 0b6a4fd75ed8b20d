/* backup/prune.c: restic's forget rules on archive times; backup/
 * retention.c: those rules per group of archives, and what is not counted;
 * the verify record retention reads (backup/repo.c). */
#include "backup/prune.h"
#include "backup/repo.h"
#include "backup/retention.h"
#include "util/buf.h"
#include "tests/unit/t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A manifest of the components in names ("postgres minio"), each ok but
 * those marked "!name" (failed, making it partial); extra is merged in. */
static json_t *manifest(const char *names, const char *extra)
{
	json_t *m = json_pack("{s:i, s:s, s:{}}", "format", 1, "status", "ok",
			      "components");
	char *copy = strdup(names), *save = NULL;

	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		int bad = *w == '!';

		json_object_set_new(json_object_get(m, "components"), w + bad,
				    json_pack("{s:s}", "status", bad ? "failed" : "ok"));
		if (bad)
			json_object_set_new(m, "status", json_string("partial"));
	}
	free(copy);
	if (extra) {
		json_t *x = json_loads(extra, 0, NULL);

		json_object_update(m, x);
		json_decref(x);
	}
	return m;
}

static void entry(struct repo_entry *r, time_t t, json_t *m)
{
	memset(r, 0, sizeof(*r));
	r->t = t;
	r->manifest = m;
}

static void release(struct repo_entry *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_decref(l[i].manifest);
		json_decref(l[i].verify);
	}
}

/* The trial's first defect: --only runs beside full ones. */
static void groups(void)
{
	struct prune_policy p = { { 0 } };
	struct repo_entry l[5];
	struct retention_item *it;
	char *g;

	p.keep[KEEP_LAST] = 2;
	p.keep[KEEP_DAILY] = 3;
	entry(&l[0], at(2026, 11, 20, 3), manifest("redis files", NULL));
	entry(&l[1], at(2026, 11, 20, 2), manifest("minio", NULL));
	entry(&l[2], at(2026, 11, 20, 1),
	      manifest("postgres minio redis files", NULL));
	it = retention_apply(&p, l, 3);
	T_OK(it[2].keep && it[2].counted,
	     "two --only backups do not push the only full one out");
	T_STREQ(it[2].group, "files,minio,postgres,redis",
		"a group is its components, sorted");
	T_STREQ(it[1].reason, "minio: keep_last, keep_daily (2026-11-20)",
		"with several groups the reason names the group");
	retention_free(it, 3);

	/* Each group gets the whole policy: keep_last 1 keeps one of each. */
	p.keep[KEEP_LAST] = 1;
	p.keep[KEEP_DAILY] = 0;
	entry(&l[3], at(2026, 11, 19, 1),
	      manifest("files postgres redis minio", NULL));
	entry(&l[4], at(2026, 11, 18, 1), manifest("files redis", NULL));
	it = retention_apply(&p, l, 5);
	T_OK(it[0].keep && it[1].keep && it[2].keep && !it[3].keep &&
	     !it[4].keep, "keep_last applies per group");
	T_STREQ(it[4].group, "files,redis",
		"the order --only names them in makes no other group");
	T_STREQ(it[3].reason, "files,minio,postgres,redis: no retention rule "
		"keeps it", "what goes names its group");
	retention_free(it, 5);
	release(l, 5);

	/* One group reads as it always did. */
	entry(&l[0], at(2026, 11, 20, 3), manifest("postgres", NULL));
	entry(&l[1], at(2026, 11, 20, 2), manifest("postgres", NULL));
	it = retention_apply(&p, l, 2);
	T_STREQ(it[0].reason, "keep_last", "one group: no group in the reason");
	T_STREQ(it[0].label, "", "one group: no label");
	T_OK(!it[1].keep, "one group: keep_last 1 keeps one");
	retention_free(it, 2);
	release(l, 2);

	/* A partial run stays in the group of what it was asked for. */
	entry(&l[0], at(2026, 11, 20, 3), manifest("postgres !minio", NULL));
	entry(&l[1], at(2026, 11, 20, 2), manifest("minio postgres", NULL));
	entry(&l[2], at(2026, 11, 20, 1), manifest("minio postgres", NULL));
	it = retention_apply(&p, l, 3);
	T_STREQ(it[0].group, "minio,postgres",
		"a failed component still counts for the group");
	T_OK(it[0].keep && it[1].keep && !it[2].keep,
	     "a partial run takes no slot from its group's complete ones");
	retention_free(it, 3);
	release(l, 3);

	g = retention_group(NULL);
	T_OK(!g, "no manifest: no group");
	free(g);
}

/* The trial's second defect: archives not known good. */
static void not_counted(void)
{
	struct prune_policy p = { { 0 } };
	struct repo_entry l[6];
	struct retention_item *it;

	p.keep[KEEP_LAST] = 1;
	p.keep[KEEP_DAILY] = 1;
	entry(&l[0], at(2026, 11, 23, 1), NULL);
	entry(&l[1], at(2026, 11, 22, 3),
	      manifest("postgres", "{\"verify_error\": \"damaged\"}"));
	entry(&l[2], at(2026, 11, 22, 2),
	      manifest("postgres", "{\"verify_error\": \"damaged\"}"));
	entry(&l[3], at(2026, 11, 22, 1), json_pack("{s:i}", "format", 1));
	entry(&l[4], at(2026, 11, 21, 1), manifest("postgres", NULL));
	entry(&l[5], at(2026, 11, 10, 1), manifest("postgres", NULL));
	l[0].verify = json_pack("{s:s}", "verify_error", "not a ferry archive");
	it = retention_apply(&p, l, 6);
	T_OK(it[4].keep && !it[5].keep,
	     "failed and unreadable archives fill no keep_* slot");
	T_STREQ(it[4].reason, "keep_last, keep_daily (2026-11-21)",
		"the good one is kept by the rules");
	T_OK(it[1].keep && !it[1].counted && it[2].keep && !it[2].counted,
	     "failed verify: kept, not counted");
	T_STREQ(it[1].reason, "verify failed: not counted, kept for inspection",
		"failed verify: the reason says so");
	T_OK(it[0].keep && !it[0].counted && !it[0].group && it[3].keep &&
	     !it[3].counted, "no manifest: kept, not counted");
	T_STREQ(it[0].reason, "no manifest: not counted, kept",
		"no manifest: the reason says so");
	T_STREQ(it[3].reason, "no manifest: not counted, kept",
		"a manifest without components is none");
	T_STREQ(repo_verify_error(&l[0]), "not a ferry archive",
		"a manifest-less archive's verify record is read");
	retention_free(it, 6);

	/* With no policy everything stays, and still says why. */
	p = (struct prune_policy){ { 0 } };
	it = retention_apply(&p, l, 6);
	T_STREQ(it[4].reason, "no retention policy", "no policy: as before");
	T_STREQ(it[1].reason, "verify failed: not counted, kept for inspection",
		"no policy: a failed one still says so");
	retention_free(it, 6);
	release(l, 6);
}

/* The verify record of an archive without a manifest, through a scan. */
static void record(void)
{
	char dir[] = "/tmp/test_prune.XXXXXX", *arc, *side, *rec;
	struct repo_entry *l = NULL;
	struct err e = ERR_INIT;
	size_t n = 0;
	json_t *found = manifest("postgres", NULL);
	FILE *f;

	if (!mkdtemp(dir)) {
		printf("skip - verify record: no temporary directory\n");
		json_decref(found);
		return;
	}
	arc = xstrfmt("%s/app-20261120T010000Z.tar.zst", dir);
	side = repo_sidecar_path(arc);
	rec = repo_verify_path(arc);
	f = fopen(arc, "w");
	if (f) {
		fputs("garbage", f);
		fclose(f);
	}
	repo_mark_verified(arc, "bad", 0, NULL);
	T_OK(access(rec, F_OK) != 0, "no record beside a file not ours");
	repo_mark_verified(arc, "bad", 1, NULL);
	T_OK(repo_scan(dir, "app", &l, &n, &e) == 0 && n == 1 &&
	     !l[0].manifest && repo_verify_error(&l[0]) &&
	     !strcmp(repo_verify_error(&l[0]), "bad"),
	     "a failed verify of a manifest-less archive is recorded");
	repo_free(l, n);
	repo_mark_verified(arc, "unsafe member '\xff\xfe'", 1, NULL);
	T_OK(repo_scan(dir, "app", &l, &n, &e) == 0 && n == 1 &&
	     repo_verify_error(&l[0]) &&
	     strstr(repo_verify_error(&l[0]), "\\377"),
	     "an error naming bytes JSON cannot hold is recorded, escaped");
	repo_free(l, n);
	f = fopen(arc, "a");
	if (f) {
		fputs("more", f);
		fclose(f);
	}
	T_OK(repo_scan(dir, "app", &l, &n, &e) == 0 && n == 1 &&
	     !repo_verify_error(&l[0]),
	     "a record of another file (its size) is not this one's");
	repo_free(l, n);
	repo_mark_verified(arc, NULL, 1, found);
	T_OK(repo_scan(dir, "app", &l, &n, &e) == 0 && n == 1 &&
	     l[0].manifest && repo_verified(&l[0]) && access(rec, F_OK) != 0,
	     "a passing verify puts the manifest it read back beside it");
	repo_free(l, n);
	unlink(arc);
	unlink(side);
	unlink(rec);
	rmdir(dir);
	free(arc);
	free(side);
	free(rec);
	json_decref(found);
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
	groups();
	not_counted();
	record();
	return T_DONE();
}

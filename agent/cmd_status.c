/*
 * ferry status [--json]: each job's last run (from the state files, so runs
 * by hand, from cron and by the daemon alike), its next fire time, and the
 * newest archive's age.  Exit 1 when the newest good archive (manifest
 * status ok) is older than [schedule] max_age, default twice the backup
 * schedule's longest interval, or when there is none: a monitoring check
 * can call it as it is.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "agent/job.h"
#include "agent/sched.h"
#include "agent/state.h"
#include "backup/repo.h"
#include "conf/conf.h"
#include "util/buf.h"
#include "util/cron.h"
#include "util/log.h"

/* "3d 4h", "2h 5m", "40s": the two largest units. */
static void age_text(long long s, struct buf *b)
{
	static const struct { long long n; const char *u; } units[] = {
		{ 86400, "d" }, { 3600, "h" }, { 60, "m" }, { 1, "s" } };
	int shown = 0;

	if (s < 0)
		s = 0;
	for (size_t i = 0; i < 4 && shown < 2; i++) {
		if (s < units[i].n && !(i == 3 && !shown))
			continue;
		buf_printf(b, "%s%lld%s", shown ? " " : "", s / units[i].n,
			   units[i].u);
		s %= units[i].n;
		shown++;
		if (!s)
			break;
	}
}

struct newest {
	char *path;
	time_t t;
	const char *status;	/* the manifest's, or "unknown" */
	time_t good;		/* newest archive whose status is ok; 0: none */
};

static void find_newest(const struct conf *c, struct newest *nw)
{
	struct repo_entry *list = NULL;
	struct err e = ERR_INIT;
	size_t n = 0;

	memset(nw, 0, sizeof(*nw));
	if (repo_scan_conf(c, &list, &n, &e) < 0)
		return;	/* no backup dir yet: no archive */
	for (size_t i = 0; i < n; i++) {
		const char *st = json_string_value(json_object_get(
				list[i].manifest, "status"));

		if (i == 0) {
			nw->path = xstrdup(list[i].path);
			nw->t = list[i].t;
			nw->status = st && !strcmp(st, "ok") ? "ok" :
				st && !strcmp(st, "partial") ? "partial" : "unknown";
		}
		if (st && !strcmp(st, "ok")) {
			nw->good = list[i].t;
			break;
		}
	}
	repo_free(list, n);
}

static json_t *job_json(const struct sched_job *j, json_t *last, time_t next)
{
	char when[21];

	cron_utc(next, when);
	return json_pack("{s:s?, s:s?, s:O?}", "schedule", j->expr,
			 "next", j->after_backup ? "after-backup" : next ? when :
			 NULL, "last", last);
}

static void job_text(const struct sched_job *j, json_t *last, time_t next)
{
	const char *status = json_string_value(json_object_get(last, "status"));
	const char *fin = json_string_value(json_object_get(last, "finished"));
	const char *arch = json_string_value(json_object_get(last, "archive"));
	const char *err = json_string_value(json_object_get(last, "error"));
	json_t *dur = json_object_get(last, "duration");
	char when[21] = "-", dtext[32] = "-";

	if (next)
		cron_utc(next, when);
	if (json_is_number(dur))
		snprintf(dtext, sizeof(dtext), "%.1fs", json_number_value(dur));
	printf("%-7s %-21s %-8s %9s  %-21s %s\n", j->name, fin ? fin : "never",
	       status ? status : "-", dtext,
	       j->after_backup ? "after backup" : when,
	       err ? err : arch ? repo_base(arch) : "");
}

static int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct err e = ERR_INIT;
	struct newest nw;
	struct sched s;
	json_t *jobs = json_object();
	time_t now = time(NULL);
	long long max_age = 0;	/* seconds; 0: no limit */
	int ch, stale;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'j') {
			json_decref(jobs);
			return cli_bad_option("status", ch, argc, argv);
		}
		cli->json = 1;
	}
	if (optind < argc) {
		json_decref(jobs);
		return cli_usage_error("status", "unexpected argument '%s'",
				       argv[optind]);
	}
	if (cli_conf_for(cli, "backup.dir", &e) < 0 ||
	    sched_load(&s, cli->conf, &e) < 0) {
		json_decref(jobs);
		return cli_fail(&e);
	}
	sched_start(&s, now);
	if (conf_is_set(cli->conf, "schedule", "max_age"))
		max_age = conf_num(cli->conf, "schedule", "max_age") / 1000;
	else if (s.job[SCHED_BACKUP].expr)
		max_age = 2 * sched_interval(&s.job[SCHED_BACKUP].cron, now);
	find_newest(cli->conf, &nw);
	stale = max_age > 0 && (!nw.good || now - nw.good > max_age);
	if (!cli->json)
		printf("%-7s %-21s %-8s %9s  %-21s %s\n", "JOB", "LAST RUN (UTC)",
		       "RESULT", "DURATION", "NEXT (UTC)", "ARCHIVE / ERROR");
	for (int i = 0; i < SCHED_N; i++) {
		json_t *last = state_load(cli->conf, job_names[i]);

		if (cli->json)
			json_object_set_new(jobs, job_names[i],
					    job_json(&s.job[i], last, s.next[i]));
		else
			job_text(&s.job[i], last, s.next[i]);
		json_decref(last);
	}
	if (cli->json) {
		char t[21], g[21];
		json_t *doc;

		cron_utc(nw.t, t);
		cron_utc(nw.good, g);
		doc = json_pack("{s:o, s:o?, s:o?, s:o?, s:b}", "jobs", jobs,
			"newest_archive", nw.path ? json_pack("{s:s, s:s, s:I, s:s}",
				"archive", nw.path, "time", t, "age",
				(json_int_t)(now - nw.t), "status", nw.status) : NULL,
			"newest_good", nw.good ? json_pack("{s:s, s:I}", "time", g,
				"age", (json_int_t)(now - nw.good)) : NULL,
			"max_age", max_age ? json_integer(max_age) : NULL,
			"stale", stale);
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			   JSON_REAL_PRECISION(9));
		putchar('\n');
		json_decref(doc);
	} else {
		struct buf age = BUF_INIT, lim = BUF_INIT;

		json_decref(jobs);
		age_text(now - nw.t, &age);
		age_text(max_age, &lim);
		if (nw.path)
			printf("\nnewest archive: %s (%s), %s old", repo_base(nw.path),
			       nw.status, buf_str(&age));
		else
			printf("\nno archive in %s", conf_str(cli->conf, "backup",
							      "dir"));
		if (max_age)
			printf("; max_age %s", buf_str(&lim));
		putchar('\n');
		buf_release(&age);
		buf_release(&lim);
	}
	if (stale) {
		struct buf age = BUF_INIT, lim = BUF_INIT;

		age_text(now - nw.good, &age);
		age_text(max_age, &lim);
		if (nw.good)
			log_error("the newest good backup is %s old, older than "
				  "max_age %s", buf_str(&age), buf_str(&lim));
		else
			log_error("no good backup in %s (max_age %s)",
				  conf_str(cli->conf, "backup", "dir"), buf_str(&lim));
		buf_release(&age);
		buf_release(&lim);
	}
	free(nw.path);
	sched_release(&s);
	return stale ? FX_FAIL : FX_OK;
}

const struct cli_cmd cmd_status_entry = {
	"status", cmd_status, "[--json]",
	"last run of each job, next fire times, the newest archive's age",
	"  --json            print it as one JSON document\n"
	"exit 1 when the newest good backup is older than [schedule] max_age\n"
	"(default: twice the backup schedule's interval) or there is none\n",
	NULL,
};

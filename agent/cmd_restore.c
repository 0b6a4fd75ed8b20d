/*
 * ferry restore ARCHIVE|--latest [--only postgres] [--db SRC=DST]...
 *
 * SIGINT, SIGTERM or SIGHUP stop the restore as a failure does: the guard
 * thread (agent/sigguard.c) asks the run to stop and waits, at most
 * UNDO_MAX_S, while the main thread's failure path undoes what this
 * restore made (databases and buckets it created, staged files) and
 * prints what it did; then the signal ends ferry.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/cli.h"
#include "agent/sigguard.h"
#include "util/log.h"
#include "conf/conf.h"
#include "restore/member.h"
#include "restore/restore.h"
#include "restore/restorer.h"

/* Below sigguard's own alarm (15 s), which ends ferry without a word. */
#define UNDO_MAX_S 10

struct guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct restore_stop stop;
	int done;		/* the main thread has said how it ended */
	int gave_up;		/* the guard spoke instead */
};

static void on_signal(void *ctx, int sig)
{
	struct guard *g = ctx;
	struct timespec until;
	int r = 0;

	restore_stop(&g->stop, sig);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += UNDO_MAX_S;
	pthread_mutex_lock(&g->mu);
	while (!g->done && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&g->cv, &g->mu, &until);
	if (!g->done) {
		struct err why = ERR_INIT;

		/* A dead connection holds the undoing: say what is known. */
		g->gave_up = 1;
		if (rs_stopped(&g->stop, &why) == 0)
			err_set(&why, FX_FAIL, "interrupted");
		if (restore_changed(&g->stop))
			log_error("restore: %s; undoing it did not finish within "
				  "%ds (is the server reachable?): what this "
				  "restore created may be left incomplete",
				  why.msg, UNDO_MAX_S);
		else
			log_error("restore: %s; nothing was changed", why.msg);
	}
	pthread_mutex_unlock(&g->mu);
}

/* The main thread's last word, unless the guard gave up waiting for it. */
static int finish(struct guard *g, const struct err *e)
{
	int code = FX_OK;

	pthread_mutex_lock(&g->mu);
	if (e->code && !g->gave_up)
		code = cli_fail(e);
	g->done = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	return code;
}

/* --db and --bucket as a whole: SRC=DST each, no SRC twice, no two
 * into one DST (the second would fail half-way, or win silently).  The
 * first fault, as a usage error; 0 when there is none. */
static int map_fault(const char *flag, const struct strlist *map)
{
	for (size_t i = 0; i < map->n; i++) {
		const char *a = map->v[i], *eq = strchr(a, '=');
		size_t sl = eq ? (size_t)(eq - a) : 0;

		if (!eq || !sl || !eq[1])
			return cli_usage_error("restore", "%s %s: expected "
					       "SRC=DST", flag, a);
		for (size_t j = 0; j < i; j++) {
			const char *b = map->v[j], *beq = strchr(b, '=');

			if ((size_t)(beq - b) == sl && !strncmp(a, b, sl))
				return cli_usage_error("restore", "%s %s and "
					"%s: %.*s given twice", flag, b, a,
					(int)sl, a);
			if (!strcmp(beq + 1, eq + 1))
				return cli_usage_error("restore", "%s %s and "
					"%s: two into %s", flag, b, a, eq + 1);
		}
	}
	return 0;
}

/* 1 when what is restored takes in one of the components named. */
static int restores_any(const struct strlist *only, const char *a,
			const char *b)
{
	if (!only->n)
		return 1;
	for (size_t i = 0; i < only->n; i++)
		if (!strcmp(only->v[i], a) || (b && !strcmp(only->v[i], b)))
			return 1;
	return 0;
}

/* What the options say alone, before any config or archive is read:
 * the first fault, as a usage error; 0 when there is none. */
static int args_fault(const struct restore_opts *o, const struct strlist *only)
{
	struct stat st;
	int r;

	if ((r = map_fault("--db", o->dbmap)) ||
	    (r = map_fault("--bucket", o->bucketmap)))
		return r;
	if (o->dbmap->n && !restores_any(only, "postgres", "neo4j"))
		return cli_usage_error("restore", "--db names databases of "
				       "postgres and neo4j, which --only leaves "
				       "out");
	if (o->bucketmap->n && !restores_any(only, "minio", NULL))
		return cli_usage_error("restore", "--bucket names buckets of "
				       "minio, which --only leaves out");
	if (o->to && !*o->to)
		return cli_usage_error("restore", "--to: empty directory name");
	for (size_t i = 0; o->to && only && i < only->n; i++)
		if (!restorer_to_dir(only->v[i]))
			return cli_usage_error("restore", "--to DIR: %s cannot "
					       "be restored into a directory",
					       only->v[i]);
	if (o->archive && !*o->archive)
		return cli_usage_error("restore", "empty archive name");
	if (o->archive && !o->offsite && stat(o->archive, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		return cli_usage_error("restore", "%s is a directory, not an "
				       "archive", o->archive);
	return 0;
}

static int cmd_restore(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "latest", no_argument, NULL, 'l' },
		{ "offsite", no_argument, NULL, 'o' },
		{ "only", required_argument, NULL, 'O' },
		{ "db", required_argument, NULL, 'd' },
		{ "clean", no_argument, NULL, 'c' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "globals", no_argument, NULL, 'g' },
		{ "target-url", required_argument, NULL, 't' },
		{ "bucket", required_argument, NULL, 'b' },
		{ "to", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct strlist only = STRLIST_INIT, dbmap = STRLIST_INIT;
	struct strlist bucketmap = STRLIST_INIT;
	struct buf need = BUF_INIT;
	struct restore_opts o = { 0 };
	struct guard g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
			   { 0, 0 }, 0, 0 };
	struct err e = ERR_INIT;
	int ch, code = FX_USAGE, guarded = 0;
	long long jobs;

	o.only = &only;
	o.dbmap = &dbmap;
	o.bucketmap = &bucketmap;
	o.report = cli_quiet() ? NULL : stdout;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': o.latest = 1; break;
		case 'o': o.offsite = 1; break;
		case 'O':
			strlist_split(&only, optarg);
			/* An empty "$VAR" is not "everything" (with --clean!). */
			if (!only.n) {
				cli_usage_error("restore", "--only: no component "
						"named");
				goto out;
			}
			break;
		case 'd': strlist_add(&dbmap, optarg); break;
		case 'c': o.clean = 1; break;
		case 'g': o.globals = 1; break;
		case 't': o.target_url = optarg; break;
		case 'b': strlist_add(&bucketmap, optarg); break;
		case 'T': o.to = optarg; break;
		case 'j':
			if (cli_num("restore", "--jobs", optarg, 1, 64, &jobs) < 0)
				goto out;
			o.jobs = (int)jobs;
			break;
		default:
			cli_bad_option("restore", ch, argc, argv);
			goto out;
		}
	}
	for (size_t i = 0; i < only.n; i++)
		if (!restorer_find(only.v[i])) {
			cli_usage_error("restore", "--only: unknown component "
					"'%s' (known: postgres, minio, redis, "
					"neo4j, logs, files)", only.v[i]);
			goto out;
		}
	if (o.latest + (optind < argc) != 1 || argc - optind > 1) {
		cli_usage_error("restore", "give one ARCHIVE or --latest");
		goto out;
	}
	o.archive = optind < argc ? argv[optind] : NULL;
	if (args_fault(&o, &only))
		goto out;
	if (o.target_url)
		log_add_secret(o.target_url);
	/* before any thread: they inherit the blocked signals */
	if (sigguard_start(on_signal, &g) == 0) {
		guarded = 1;
		o.stop = &g.stop;
	}
	/* The archive is found through [backup] (or [offsite]); a section
	 * of a component not restored may be broken without stopping it
	 * (redis and neo4j check their own). */
	buf_addstr(&need, "backup");
	if (o.offsite)
		buf_addstr(&need, " offsite");
	if (restores_any(&only, "postgres", NULL))
		buf_addstr(&need, " postgres");
	if (restores_any(&only, "minio", NULL))
		buf_addstr(&need, " minio");
	o.server = cli_conf_for(cli, buf_str(&need), &e) < 0 ? NULL :
		cli_server(cli, &e);
	o.compose = o.server ? &cli->server.co : NULL;
	if (o.server && restore_run(cli->conf, &o, &e) == 0)
		err_clear(&e);
	else if (!e.code)
		e.code = FX_FAIL;
	code = finish(&g, &e);
out:
	/* After a signal this waits for the guard, which ends ferry. */
	if (guarded)
		sigguard_stop();
	strlist_release(&only);
	strlist_release(&dbmap);
	strlist_release(&bucketmap);
	buf_release(&need);
	return code;
}

const struct cli_cmd cmd_restore_entry = {
	"restore", cmd_restore, "ARCHIVE|--latest [--offsite] [--only LIST] "
	"[--db SRC=DST]... [--bucket SRC=DST]... [--clean] [--jobs N] "
	"[--globals] [--target-url URL] [--to DIR]",
	"restore an archive into the configured server",
	"  --latest          the newest archive that holds complete what is\n"
	"                    restored (newer ones are named, and why)\n"
	"  --offsite         take the archive from [offsite] (streamed)\n"
	"  --only LIST       only these components (postgres, minio, redis,\n"
	"                    neo4j, files, logs)\n"
	"  --db SRC=DST      restore database SRC as DST (repeat); only these\n"
	"  --bucket SRC=DST  restore bucket SRC into DST (repeat); only these\n"
	"  --clean           drop and recreate target databases first; empty\n"
	"                    target buckets; replace the keys of the server's Redis\n"
	"                    and files already under --to DIR\n"
	"  --jobs N          parallel sessions or transfers (default: [postgres]\n"
	"                    jobs, [minio] jobs)\n"
	"  --globals         create the archive's roles first (neo4j dump mode:\n"
	"                    load the system database too)\n"
	"  --target-url URL  restore into this server (libpq URL; password\n"
	"                    from PGPASSWORD or ~/.pgpass)\n"
	"  --to DIR          write redis (dump.rdb), files and logs into DIR\n"
	"                    (DIR/<component>/ when several) instead of the\n"
	"                    server; refuses paths that would leave DIR\n"
	"refuses (exit 1, nothing changed) a target database that has user\n"
	"tables, a target bucket that holds objects, a Redis that has keys, or\n"
	"files already under --to DIR, unless --clean; checks every target\n"
	"before changing any; exit 6 when the archive is damaged; SIGINT or\n"
	"SIGTERM undo what a failure undoes, then end ferry\n",
	NULL,
};

/*
 * ferry deploy: under the server's deploy lock, sync the project, check
 * the files it requires, run compose for all or the selected services
 * (pull, build, up -d --remove-orphans), wait at the health gate, and
 * append the run to the server's deploy history.  The lock is released on
 * every way out, signals included (agent/sigguard.c).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops.h"
#include "agent/sigguard.h"
#include "conf/conf.h"
#include "deploy/dlock.h"
#include "deploy/health.h"
#include "deploy/history.h"
#include "deploy/remote.h"
#include "deploy/sync.h"
#include "util/elapsed.h"
#include "util/log.h"
#include "util/shquote.h"
#include "util/value.h"

struct deploy_args {
	struct sync_opts sync;
	struct strlist services;	/* --service, SERVICE..., --type's */
	struct strlist groups;		/* --type */
	struct dlock_opts lock;
	int no_up, build, pull;
};

/* One run, shared with the signal guard. */
struct run {
	pthread_mutex_t mu;
	struct dlock lock;
	struct history_rec rec;
	struct timespec t0;
	int synced;
};

static void args_release(struct deploy_args *a)
{
	strlist_release(&a->services);
	strlist_release(&a->groups);
}

/* 0, or the exit code of a usage error already printed. */
static int parse_args(struct cli *cli, int argc, char **argv,
		      struct deploy_args *a)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-up", no_argument, NULL, 'N' },
		{ "checksum", no_argument, NULL, 'c' },
		{ "build", no_argument, NULL, 'b' },
		{ "pull", no_argument, NULL, 'p' },
		{ "service", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "lock-wait", required_argument, NULL, 'w' },
		{ "force-unlock", no_argument, NULL, 'F' },
		{ "adopt", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	(void)cli;
	while ((ch = getopt_long(argc, argv, ":nc", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			a->sync.dry_run = 1;
			break;
		case 'N':
			a->no_up = 1;
			break;
		case 'c':
			a->sync.checksum = 1;
			break;
		case 'b':
			a->build = 1;
			break;
		case 'p':
			a->pull = 1;
			break;
		case 's':
			ops_add_unique(&a->services, optarg);
			break;
		case 't':
			ops_add_unique(&a->groups, optarg);
			break;
		case 'w':
			if (value_duration_ms(optarg, &a->lock.wait_ms) < 0)
				return cli_usage_error("deploy", "--lock-wait takes "
						       "a duration such as 30s or "
						       "5m, not '%s'", optarg);
			break;
		case 'F':
			a->lock.force = 1;
			break;
		case 'A':
			a->sync.adopt = 1;
			break;
		default:
			return cli_bad_option("deploy", ch, argc, argv);
		}
	}
	for (; optind < argc; optind++)
		ops_add_unique(&a->services, argv[optind]);
	return 0;
}

static void on_signal(void *ctx, int sig)
{
	struct run *r = ctx;
	struct err e = ERR_INIT;
	char *line, why[48];

	/* Held to the end: the main thread must not release it again. */
	pthread_mutex_lock(&r->mu);
	if (!r->lock.held)
		return;
	snprintf(why, sizeof(why), "interrupted by signal %d (%s)", sig,
		 strsignal(sig));
	r->rec.result = "interrupted";
	r->rec.exit_code = 128 + sig;
	r->rec.error = why;
	r->rec.seconds = elapsed_since(&r->t0);
	line = history_line(&r->rec);
	if (dlock_release(&r->lock, r->synced || !r->lock.created_dir ? line :
			  NULL, !r->synced, &e) < 0)
		fprintf(stderr, "ferry: deploy: %s; the deploy lock may be left "
			"on the server\n", e.msg);
	else
		fprintf(stderr, "ferry: deploy: %s; the deploy lock is released\n",
			why);
	free(line);
}

/*
 * How to make the required file path that is missing on the server, whose
 * example (path.example and the like) is there or NULL.  A path the
 * deploy leaves out (walk's rules) is made on the server; any other is
 * sent from local_dir, and one made only on the server is deleted by the
 * next sync when this tree is synced with deletions.
 */
static void required_advice(const struct conf *c, struct sync_walk *w,
			    int deletes, const char *path, const char *example,
			    struct err *e)
{
	const char *rdir = conf_str(c, "project", "remote_dir");
	const char *ldir = conf_str(c, "project", "local_dir");

	if (sync_walk_excluded(w, path)) {
		err_append(e, ": create it there");
		if (example)
			err_append(e, " (cp %s/%s %s/%s, then fill it in)", rdir,
				   example, rdir, path);
		err_append(e, "; ferry does not send it (.env files and "
			   "excluded paths stay on the server)");
		return;
	}
	err_append(e, ": create it %sin %s", deletes ? "" : "there or ", ldir);
	if (example)
		err_append(e, " (cp %s %s, then fill it in)", example, path);
	if (deletes)
		err_append(e, " and deploy again: it is not excluded, so ferry "
			   "sends it, and deletes one made only on the server");
	else
		err_append(e, "; it is not excluded, so the next deploy sends "
			   "one made locally");
}

/* Every [deploy] require path must exist under remote_dir; w is the
 * deploy's walk (which paths it sends), deletes whether this sync deletes
 * what is not in the local tree. */
static int check_required(struct xport *x, const struct conf *c,
			  struct sync_walk *w, int deletes, struct err *e)
{
	const char *rdir = conf_str(c, "project", "remote_dir");
	struct strlist req = STRLIST_INIT, missing = STRLIST_INIT;
	struct buf cmd = BUF_INIT, out = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1;

	conf_list(c, "deploy", "require", &req);
	if (!req.n)
		return 0;
	buf_addstr(&cmd, "cd -- ");
	sh_quote_path(&cmd, rdir);
	buf_addstr(&cmd, " || exit 3; for f in");
	for (size_t i = 0; i < req.n; i++) {
		buf_addch(&cmd, ' ');
		sh_quote(&cmd, req.v[i]);
	}
	buf_addstr(&cmd, "; do [ -e \"$f\" ] && continue; printf '%s' \"$f\"; "
		   "for s in .example .sample .dist .template; do "
		   "[ -e \"$f$s\" ] && { printf '\\t%s' \"$f$s\"; break; }; done; "
		   "printf '\\n'; done");
	io.out = &out;
	if (xport_run(x, buf_str(&cmd), &io, &st, e) < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		err_set(e, FX_REMOTE, "cannot check the required files in %s on %s",
			rdir, xport_name(x));
		goto out;
	}
	strlist_split(&missing, buf_str(&out));
	if (missing.n) {
		char *tab = strchr(missing.v[0], '\t');

		if (tab)
			*tab++ = '\0';
		err_set(e, FX_FAIL, "required file %s is missing in %s on %s",
			missing.v[0], rdir, xport_name(x));
		required_advice(c, w, deletes, missing.v[0], tab, e);
		for (size_t i = 1; i < missing.n; i++) {
			missing.v[i][strcspn(missing.v[i], "\t")] = '\0';
			err_append(e, "%s%s", i == 1 ? "; also missing: " : ", ",
				   missing.v[i]);
		}
		goto out;
	}
	r = 0;
out:
	strlist_release(&req);
	strlist_release(&missing);
	buf_release(&cmd);
	buf_release(&out);
	return r;
}

/* compose pull, build, up and the health gate. */
static int compose_steps(struct ops *o, const struct conf *c,
			 const struct deploy_args *a, struct err *e)
{
	static const char *const pull[] = { "pull", NULL };
	static const char *const build[] = { "build", NULL };
	static const char *const up[] = { "up", "-d", "--remove-orphans", NULL };
	struct strlist all = STRLIST_INIT, urls = STRLIST_INIT;
	struct strlist failing = STRLIST_INIT;
	struct health_opts h;
	struct timespec t0;
	int r = -1;

	/* Named services are checked when compose refuses them
	 * (ops_explain); the gate needs every service up started when none
	 * is named. */
	if (compose_open(&o->c, o->x, &o->cli->server.co, e) < 0)
		goto out;
	if ((a->pull && ops_compose(o, pull, &a->services, e) < 0) ||
	    (a->build && ops_compose(o, build, &a->services, e) < 0) ||
	    ops_compose(o, up, &a->services, e) < 0) {
		ops_explain(o, &a->services, e);
		goto out;
	}
	/* Only what up started: a service of a profile not enabled has no
	 * container to wait for. */
	if (!a->services.n && compose_up_services(o->c, &all, e) < 0)
		goto out;
	conf_list(c, "deploy", "health_url", &urls);
	h.services = a->services.n ? &a->services : &all;
	h.urls = &urls;
	h.timeout_ms = conf_num(c, "deploy", "health_timeout");
	h.interval_ms = conf_num(c, "deploy", "health_interval");
	if (!h.services->n && !urls.n) {
		r = 0;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (health_wait(o->c, o->x, &h, &failing, e) < 0) {
		if (e->code != FX_CONN)
			ops_show_logs(o, failing.n ? &failing : h.services, 50);
		goto out;
	}
	if (!cli_quiet())
		printf("health: ok after %.1fs (%zu service%s, %zu URL%s)\n",
		       elapsed_since(&t0), h.services->n,
		       h.services->n == 1 ? "" : "s", urls.n,
		       urls.n == 1 ? "" : "s");
	r = 0;
out:
	strlist_release(&all);
	strlist_release(&urls);
	strlist_release(&failing);
	return r;
}

static void print_summary(const struct conf *c, const struct sync_opts *o,
			  const struct sync_stats *st)
{
	if (!cli_quiet() || o->dry_run)
		printf("%s%zu entr%s to send (%llu bytes), %zu to delete, %zu "
		       "unchanged, %.1fs\n", o->dry_run ? "dry run: " : "",
		       st->files, st->files == 1 ? "y" : "ies",
		       (unsigned long long)st->bytes, st->deleted,
		       st->unchanged, st->seconds);
	fflush(stdout);
	if (st->foreign)
		log_warn("%s exists and holds files ferry did not put there (it was "
			 "not empty when ferry first came), so nothing was "
			 "deleted%s; if it is the "
			 "project's directory, run 'ferry deploy --adopt' once: "
			 "from then on server files that are not in the local "
			 "tree are deleted", conf_str(c, "project", "remote_dir"),
			 o->dry_run ? " (dry run)" : "");
}

/* --dry-run: the sync's plan; no lock, no history, no compose. */
static int dry_run(struct ops *o, const struct deploy_args *a, struct err *e)
{
	struct sync_opts so = a->sync;
	struct sync_stats st;

	so.itemize = stdout;
	if (sync_run(o->cli->conf, o->x, &so, NULL, &st, e) < 0)
		return -1;
	print_summary(o->cli->conf, &so, &st);
	if (!a->no_up) {
		printf("dry run: then compose%s%s up -d --remove-orphans",
		       a->pull ? " pull," : "", a->build ? " build," : "");
		for (size_t i = 0; i < a->services.n; i++)
			printf(" %s", a->services.v[i]);
		printf(" and the health gate\n");
	}
	return 0;
}

/* A step that failed because the session died failed for that reason
 * alone: exit 3, saying what the deploy was doing and how the connection
 * ended (a step that already says so keeps its words). */
static int step_failed(struct xport *x, const char *doing, struct err *e)
{
	const char *lost = xport_lost(x);

	if (!lost)
		return -1;
	if (e->code == FX_CONN && strstr(e->msg, "deploy: "))
		return -1;
	return err_set(e, FX_CONN, "deploy: %s: %s", doing, lost);
}

static int lock_reply(void *ctx, struct buf *out, struct err *e)
{
	return dlock_prelude_reply(ctx, out, e);
}

static int deploy(struct ops *o, struct run *run, struct deploy_args *a,
		  struct err *e)
{
	const struct conf *c = o->cli->conf;
	struct sync_stats st;
	const char *rdir = conf_str(c, "project", "remote_dir");
	struct remote_prelude pre = { NULL, lock_reply, &run->lock };
	struct buf sh = BUF_INIT;
	struct sync_walk *walk;
	struct timespec t0;
	int r;

	if (sync_walk_start(c, &walk, e) < 0)
		return -1;
	/* The lock's first attempt rides in the listing's exec. */
	dlock_prelude(&run->lock, o->x, rdir, &a->lock, &sh);
	/* the release's session opens now, not after the last step */
	dlock_release_early(&run->lock, o->x);
	pre.text = buf_str(&sh);
	a->sync.prelude = &pre;
	a->sync.itemize = log_get_level() >= LOG_VERBOSE ? stdout : NULL;
	r = sync_run(c, o->x, &a->sync, walk, &st, e);
	a->sync.prelude = NULL;
	buf_release(&sh);
	if (r == 1) {
		/* Held (or that attempt failed): the lock's own steps wait
		 * for it, or say what is wrong. */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (dlock_take(&run->lock, o->x, rdir, &a->lock, e) < 0) {
			sync_walk_free(walk);
			return step_failed(o->x, "taking the deploy lock", e);
		}
		/* After waiting for another deploy, the tree is walked
		 * again: it may have changed meanwhile. */
		if (elapsed_since(&t0) > 2.0) {
			sync_walk_free(walk);
			if (sync_walk_start(c, &walk, e) < 0)
				return -1;
		}
		r = sync_run(c, o->x, &a->sync, walk, &st, e);
	}
	if (r < 0) {
		sync_walk_free(walk);
		return step_failed(o->x, "syncing files", e);
	}
	pthread_mutex_lock(&run->mu);
	run->synced = 1;
	run->rec.sent = st.files;
	run->rec.deleted = st.deleted;
	run->rec.bytes = st.bytes;
	pthread_mutex_unlock(&run->mu);
	print_summary(c, &a->sync, &st);
	if (a->no_up) {
		sync_walk_free(walk);
		return 0;
	}
	/* the walk's rules tell how a missing required file is made */
	r = check_required(o->x, c, walk, conf_num(c, "deploy", "delete") &&
			   !st.foreign, e);
	sync_walk_free(walk);
	if (r < 0)
		return step_failed(o->x, "checking the required files", e);
	if (compose_steps(o, c, a, e) < 0)
		return step_failed(o->x, "starting the services", e);
	return 0;
}

/*
 * The session died holding the server's deploy lock.  A server that
 * closed the connection (its sshd killed or restarted) is most likely
 * up: one fresh connection, with a short connect timeout, releases the
 * lock and records the run.  After silence the link is likely gone and
 * trying would only delay the exit; then the lock stays, and the next
 * deploy from this machine takes it over as stale.
 */
#define RELEASE_CONNECT_MS 2000

static struct xport *reconnect_for_lock(struct ops *o)
{
	struct xport_opts xo = o->cli->server.xo;
	struct xport *x = NULL;
	struct err re = ERR_INIT;

	if (xport_lost_silent(o->x))
		return NULL;
	if (xo.ssh.connect_timeout_ms <= 0 ||
	    xo.ssh.connect_timeout_ms > RELEASE_CONNECT_MS)
		xo.ssh.connect_timeout_ms = RELEASE_CONNECT_MS;
	if (xport_open(&x, &xo, &re) < 0) {
		log_verbose("deploy: connecting again to release the lock: %s",
			    re.msg);
		return NULL;
	}
	return x;
}

/* The history line and the lock's release; a locked-out run is recorded
 * too, without touching the holder's lock. */
static void finish(struct ops *o, struct run *run, const struct err *e)
{
	const char *rdir = conf_str(o->cli->conf, "project", "remote_dir");
	struct xport *fresh = NULL;
	struct err re = ERR_INIT;
	char *line;

	pthread_mutex_lock(&run->mu);
	run->rec.result = !e->code ? "ok" : e->code == FX_LOCKED ? "locked" :
		"failed";
	run->rec.exit_code = e->code ? err_exit(e) : 0;
	run->rec.error = e->code ? e->msg : NULL;
	run->rec.seconds = elapsed_since(&run->t0);
	line = history_line(&run->rec);
	if (run->lock.held && xport_lost(o->x) &&
	    !(fresh = reconnect_for_lock(o))) {
		run->lock.held = 0;
		log_warn("deploy: the deploy lock stays in %s/.ferry on %s (the "
			 "connection is lost): the next deploy from this machine "
			 "takes it over; from elsewhere, use --force-unlock", rdir,
			 xport_name(o->x));
	}
	if (fresh)
		run->lock.x = fresh;
	if (run->lock.held) {
		/* A failed first sync leaves no .ferry of ours behind. */
		int nothing = !run->synced && run->lock.created_dir;

		if (dlock_release(&run->lock, nothing ? NULL : line, nothing,
				  &re) < 0)
			log_warn("deploy: %s; remove %s/.ferry/deploy.lock on %s "
				 "or use --force-unlock", re.msg, rdir,
				 xport_name(o->x));
	} else if (e->code == FX_LOCKED &&
		   history_append(o->x, rdir, line, &re) < 0) {
		log_verbose("deploy: history: %s", re.msg);
	}
	if (fresh)
		run->lock.x = o->x;
	pthread_mutex_unlock(&run->mu);
	xport_close(fresh);
	free(line);
}

static int cmd_deploy(struct cli *cli, int argc, char **argv)
{
	struct deploy_args a = { .services = STRLIST_INIT,
				 .groups = STRLIST_INIT };
	struct run run = { PTHREAD_MUTEX_INITIALIZER, DLOCK_INIT, { 0 },
			   { 0, 0 }, 0 };
	struct ops o = OPS_INIT;
	struct err e = ERR_INIT;
	const char *rdir;
	int code, guarded = 0;

	if ((code = parse_args(cli, argc, argv, &a)) != 0)
		goto out;
	if (cli_conf_for(cli, "project deploy", &e) < 0 || !cli_server(cli, &e))
		goto fail;
	o.cli = cli;
	for (size_t i = 0; i < a.groups.n; i++)
		if (ops_group(cli->conf, a.groups.v[i], &a.services, &e) < 0)
			goto fail;
	rdir = conf_str(cli->conf, "project", "remote_dir");
	if (ops_need_remote_dir(cli->conf, &e) < 0 || remote_dir_ok(rdir, &e) < 0)
		goto fail;
	a.lock.stale_ms = conf_num(cli->conf, "deploy", "lock_stale");
	if (a.sync.dry_run) {
		if (xport_open(&o.x, &cli->server.xo, &e) < 0 ||
		    dry_run(&o, &a, &e) < 0)
			goto fail;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &run.t0);
	run.rec.time = time(NULL);
	run.rec.git = history_git_start(conf_str(cli->conf, "project",
						 "local_dir"));
	run.rec.services = &a.services;
	run.rec.no_up = a.no_up;
	/* before any thread: they inherit the blocked signals */
	if (sigguard_start(on_signal, &run) == 0)
		guarded = 1;
	if (xport_open(&o.x, &cli->server.xo, &e) < 0)
		goto fail;
	if (deploy(&o, &run, &a, &e) < 0 && !e.code)
		e.code = FX_FAIL;
	finish(&o, &run, &e);
	if (!e.code) {
		if (!cli_quiet())
			printf("deployed in %.1fs\n", elapsed_since(&run.t0));
		goto out;
	}
fail:
	code = cli_fail(&e);
out:
	/* an early release still waiting (lock never taken, or lost) */
	pthread_mutex_lock(&run.mu);
	dlock_abandon(&run.lock);
	pthread_mutex_unlock(&run.mu);
	ops_close(&o);
	if (guarded)
		sigguard_stop();
	dlock_free(&run.lock);
	history_git_free(run.rec.git);
	args_release(&a);
	return code;
}

const struct cli_cmd cmd_deploy_entry = {
	"deploy", cmd_deploy,
	"[--build] [--pull] [--service NAME]... [--type GROUP] [--no-up] "
	"[--dry-run] [--checksum] [--lock-wait DURATION] [--force-unlock] "
	"[--adopt] [SERVICE...]",
	"sync the project to the server and start it",
	"  --build           build the services' images on the server first\n"
	"  --pull            pull their images first\n"
	"  --service NAME    deploy only this service (repeatable; or name them\n"
	"                    as arguments)\n"
	"  --type GROUP      the services of [group.GROUP]\n"
	"  --no-up           stop after syncing the files\n"
	"  -n, --dry-run     show what would change (rsync-style), change nothing\n"
	"                    (no lock, no history)\n"
	"  -c, --checksum    compare contents, not sizes and times\n"
	"  --lock-wait D     wait up to D (30s, 5m) for another deploy's lock\n"
	"  --force-unlock    remove the deploy lock left by another run first\n"
	"  --adopt           manage an existing remote_dir ferry did not create\n"
	"                    (until then nothing in it is deleted)\n"
	"after the sync: the [deploy] require files must exist, then compose up\n"
	"-d --remove-orphans, then the health gate: every selected container\n"
	"running (and healthy where it has a healthcheck) and every health_url\n"
	"answering 2xx within health_timeout; each run is recorded (ferry history)\n"
	"exit 1 when a required file is missing, 2 for an unknown service or\n"
	"group, 4 when compose or the health gate fails, 7 when another deploy\n"
	"holds the lock\n",
	NULL,
};

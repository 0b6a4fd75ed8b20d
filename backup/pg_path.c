/*
 * pg_path: which path a backup's or a restore's table data takes
 * (pg_xfer.h): what the server has, found by one exec, and the link's
 * rate where it matters; beside that exec, the psql a backup will most
 * likely want is started, to be taken or ended unused.
 */
#include "backup/pg_xfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "net/xport.h"
#include "backup/probe.h"
#include "conf/conf.h"

const char *pgx_name(const struct pgx *p)
{
	if (!p->server)
		return "tunnel";
	return p->codec == ZP_ZSTD ? "server (zstd)" : "server (gzip)";
}

int pgx_wants(const struct pgx *p, long long bytes)
{
	return p->server && (p->all || bytes >= p->small);
}

void pgx_release(struct pgx *p)
{
	free(p->why);
	free(p->ctr);
	free(p->psql);
	p->why = p->ctr = p->psql = NULL;
}

/* What the server has: one line per tool found ("zjobs": a zstd that
 * compresses in jobs of a given size, without overlap, so that
 * util/zcut.c can cut its frame), "ctr ID" for a running container that publishes
 * PostgreSQL's port and has psql inside, "bin PATH" for each versioned
 * psql, "cpus N" for the server's cores.  The sample that follows times
 * the link: for a backup that takes the server path whatever the link,
 * it still sizes the tables that go through the tunnel instead
 * (pgx_choose). */
static char *probe_script(int port)
{
	return xstrfmt(
		"for t in psql zstd gzip; do command -v $t >/dev/null 2>&1 && "
		"echo $t; done; zstd -q -T0 -B1048576 --zstd=ovlog=1 -c "
		"</dev/null >/dev/null 2>&1 && echo zjobs; "
		"if ! command -v psql >/dev/null 2>&1 && "
		"command -v docker >/dev/null 2>&1; then for c in $(docker ps -q "
		"--filter publish=%d 2>/dev/null); do docker exec $c sh -c "
		"'command -v psql' >/dev/null 2>&1 && { echo ctr $c; break; }; "
		"done; fi; for b in " PSQL_BINS "; do "
		"[ -x \"$b\" ] && echo \"bin $b\"; done; "
		"echo \"cpus $(nproc 2>/dev/null || "
		"getconf _NPROCESSORS_ONLN 2>/dev/null)\"; true", port);
}

/* What reaching PostgreSQL takes, whichever the path. */
static void fill(struct pgx *p, const struct conf *conf, struct xport *x)
{
	memset(p, 0, sizeof(*p));
	p->x = x;
	p->host = conf_str(conf, "postgres", "host");
	p->port = (int)conf_num(conf, "postgres", "port");
	p->user = conf_str(conf, "postgres", "user");
	p->password = conf_str(conf, "postgres", "password");
	p->timeout_s = conf_num(conf, "server", "connect_timeout") / 1000 + 1;
}

/* The server's cores as the probe found them; 0: not known. */
static int cpus(const char *have)
{
	char *v = probe_field(have, "cpus ");
	long n = v ? strtol(v, NULL, 10) : 0;

	free(v);
	return n > 0 && n < 100000 ? (int)n : 0;
}

int pgx_backup_jobs(const struct pgx *p, const struct conf *conf)
{
	int jobs = (int)conf_num(conf, "postgres", "jobs");

	/* One psql's COPY and its zstd -T0 keep two cores busy: on a
	 * smaller server a second COPY only shares them, with more work
	 * for both (bench/pg_slow: 3.5 s for 14 tables with one, 3.8 s
	 * with two, on two cores). */
	if (p->server && p->cpus > 0 && p->cpus < PGX_CPUS_A_COPY * 2 &&
	    !conf_is_set(conf, "postgres", "jobs"))
		return 1;
	/* Every table on the server: more would only wait. */
	if (p->server && p->all && jobs > PGX_EXEC_JOBS)
		return PGX_EXEC_JOBS;
	return jobs;
}

/* Says, for check and the manifest, where fewer sessions copy on the
 * server than `jobs` says: one on a small server when jobs is not set,
 * PGX_EXEC_JOBS at most. */
static void why_jobs(struct pgx *p, const struct conf *conf)
{
	int jobs = pgx_backup_jobs(p, conf);
	long long set = conf_num(conf, "postgres", "jobs");
	char *why;

	if (jobs == 1 && set > 1)
		why = xstrfmt("%s; one table at a time (jobs not set): one "
			      "psql and its zstd keep the server's %d core%s "
			      "busy", p->why, p->cpus, p->cpus == 1 ? "" : "s");
	else if (jobs < set)
		why = xstrfmt("%s; %d sessions, not %lld (sshd allows 10 "
			      "sessions a connection by default)", p->why, jobs,
			      set);
	else if (p->server && jobs > PGX_EXEC_JOBS)
		why = xstrfmt("%s; %d of the %d sessions copy on the server "
			      "(sshd allows 10 sessions a connection by "
			      "default), the others take the tables that go "
			      "through the tunnel", p->why, PGX_EXEC_JOBS, jobs);
	else
		return;
	free(p->why);
	p->why = why;
}

int pgx_choose(struct pgx *p, const struct conf *conf, struct xport *x,
	       int backup, struct err *e)
{
	const char *mode = conf_str(conf, "postgres", "transfer");
	int want = !strcmp(mode, "server");
	struct buf have = BUF_INIT, rate = BUF_INIT;
	const char *missing = NULL;
	char *script;
	int rc = 0;

	fill(p, conf, x);
	if (!x) {
		p->why = xstrdup("a target URL: libpq straight to it");
		return 0;
	}
	if (!strcmp(mode, "tunnel")) {
		p->why = xstrdup("transfer = tunnel");
		return 0;
	}
	if (!want && xport_is_local(x)) {
		p->why = xstrdup("host = local: libpq straight to PostgreSQL, no "
				 "link to spare");
		return 0;
	}
	script = probe_script(p->port);
	rc = probe_ask(x, script, "", "psql", want, &have, &p->link_bps,
		       &p->why, e);
	free(script);
	if (rc <= 0)
		goto out;
	/* Debian's /usr/bin/psql is a Perl wrapper that picks a version:
	 * a tenth of a second a table saved by naming the newest itself. */
	p->psql = probe_field(buf_str(&have), "bin ");
	p->ctr = probe_field(buf_str(&have), "ctr ");
	p->cpus = cpus(buf_str(&have));
	if (!probe_has(buf_str(&have), "psql") && !p->ctr)
		missing = xport_is_local(x) ? "psql" : "psql (on the host or in "
			"a container publishing the port)";
	else if (probe_has(buf_str(&have), "zstd"))
		p->codec = ZP_ZSTD;
	else if (probe_has(buf_str(&have), "gzip"))
		p->codec = ZP_GZIP;
	else
		missing = "zstd or gzip";
	p->cuts = !missing && p->codec == ZP_ZSTD &&
		  probe_has(buf_str(&have), "zjobs");
	/* Kept frames cost ferry a fraction of the tunnel's decryption and
	 * compression, on any link (bench/pg_slow). */
	if (!(backup && p->cuts && !want) &&
	    (rc = probe_decide(x, "", missing, want, p->link_bps, &p->why,
				&rate, e)) <= 0)
		goto out;
	rc = 0;
	p->server = 1;
	p->all = want;
	/* Each table on the server path waits for its own psql to start and
	 * connect there and for its zstd to end: 0.2-0.35 s between one
	 * table's COPY and the next on bench/pg_slow's server, in which the
	 * tunnel carries a table of this size. */
	p->small = PGX_SMALL;
	if (p->link_bps * PGX_START_S > PGX_SMALL_MAX)
		p->small = PGX_SMALL_MAX;
	else if (p->link_bps * PGX_START_S > PGX_SMALL)
		p->small = (long long)(p->link_bps * PGX_START_S) >> 20 << 20;
	if (want)
		p->why = xstrfmt("transfer = server: psql%s%s, %s on the server%s",
				 p->ctr ? " in container " : "", p->ctr ? p->ctr :
				 "", p->codec == ZP_ZSTD ? "zstd" : "gzip",
				 backup && p->cuts ? "; the archive keeps what "
				 "the server's zstd compressed" : "");
	else if (backup && p->cuts)
		p->why = xstrfmt("psql%s%s and zstd on the server: the archive "
				 "keeps what the server's zstd compressed, "
				 "whatever the link; tables under %lld MiB go "
				 "through the tunnel (the link carries %.1f MB/s)",
				 p->ctr ? " in container " : "", p->ctr ? p->ctr :
				 "", p->small >> 20, p->link_bps / 1e6);
	else
		p->why = xstrfmt("%s: psql%s%s and %s on the server; tables "
				 "under %lld MiB go through the tunnel",
				 buf_str(&rate), p->ctr ? " in container " : "",
				 p->ctr ? p->ctr : "", p->codec == ZP_ZSTD ?
				 "zstd" : "gzip", p->small >> 20);
	if (backup)
		why_jobs(p, conf);
out:
	buf_release(&have);
	buf_release(&rate);
	return rc;
}

/* A guessed psql fits the chosen path when it is the one start_first
 * would start: the host's psql, into zstd in jobs. */
static int guess_fits(const struct pgx *p)
{
	return p->server && !p->ctr && p->codec == ZP_ZSTD && p->cuts;
}

static void *guess_main(void *arg)
{
	struct pgx_probe *q = arg;
	struct pgx g;
	struct err e = ERR_INIT;

	fill(&g, q->conf, q->x);
	g.codec = ZP_ZSTD;
	g.cuts = 1;
	g.guessed = 1;
	if (pgx_out_spawn(&g, q->guess_db, q->guess_cut, &q->guess, &e) < 0) {
		pgx_out_discard(q->guess);
		q->guess = NULL;
	}
	return NULL;
}

static void guess_join(struct pgx_probe *q)
{
	if (q->guessing)
		pthread_join(q->gtid, NULL);
	q->guessing = 0;
}

static void *probe_main(void *arg)
{
	struct pgx_probe *q = arg;
	struct pgx_out *guess;

	q->rc = pgx_choose(q->p, q->conf, q->x, q->backup, &q->e);
	guess_join(q);
	guess = q->guess;
	q->guess = NULL;
	if (guess && (q->rc < 0 || !guess_fits(q->p))) {
		/* No psql of that name, or another path: it ends at once. */
		log_debug("postgres: the psql started beside the probe is not "
			  "the chosen path's: ended unused");
		pgx_out_discard(guess);
		guess = NULL;
	}
	if (q->rc < 0)
		return NULL;
	log_verbose("postgres: transfer %s: %s", pgx_name(q->p), q->p->why);
	if (q->then)
		q->then(q->p, guess, q->arg);
	else
		pgx_out_discard(guess);
	return NULL;
}

/* Whether a backup's probe is likely to choose the guessed path: only a
 * remote server, and not when the configuration rules it out. */
static int worth_guessing(const struct conf *conf, struct xport *x,
			  int backup, const char *db, size_t cut)
{
	return backup && db && x && !xport_is_local(x) &&
	       cut >= PGX_JOB_MIN &&
	       strcmp(conf_str(conf, "postgres", "transfer"), "tunnel");
}

void pgx_probe_start(struct pgx_probe *q, struct pgx *p,
		     const struct conf *conf, struct xport *x, int backup,
		     const char *guess_db, size_t guess_cut,
		     void (*then)(struct pgx *p, struct pgx_out *guess,
				  void *arg), void *arg)
{
	*q = (struct pgx_probe){ .p = p, .conf = conf, .x = x,
				 .backup = backup, .guess_db = guess_db,
				 .guess_cut = guess_cut, .then = then,
				 .arg = arg, .e = ERR_INIT };
	if (worth_guessing(conf, x, backup, guess_db, guess_cut) &&
	    pthread_create(&q->gtid, NULL, guess_main, q) == 0)
		q->guessing = 1;
	if (pthread_create(&q->tid, NULL, probe_main, q) == 0)
		q->running = 1;
	else
		probe_main(q);
}

void pgx_probe_join(struct pgx_probe *q)
{
	if (q->running)
		pthread_join(q->tid, NULL);
	q->running = 0;
}

int pgx_probe_wait(struct pgx_probe *q, struct err *e)
{
	pgx_probe_join(q);
	if (q->rc < 0)
		*e = q->e;
	return q->rc;
}

/*
 * The postgres restorer: for each database of the archive (or each
 * --db SRC=DST), in the order the archive holds them:
 *
 *   the targets checked (begin), then created (act, once every
 *   component's targets were checked: pg_dbs.c);
 *   globals.sql when asked; pre-data.sql item by item; the tables' COPY
 *   streams on a pool of sessions; post-data.sql phase by phase (indexes
 *   and foreign keys in parallel); row counts against the manifest;
 *   ANALYZE, which goes on while the next database is restored.
 *
 * Nothing a member carries runs or commits before the member matched the
 * manifest: a script is read whole and run in checked(), a table's COPY
 * transaction commits in checked() after its last part.  After a failure,
 * the databases this restore created are dropped again, and the ones it
 * could not drop (--clean emptied them, or they existed) are named as
 * incomplete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/elapsed.h"
#include "util/escape.h"
#include "util/log.h"
#include "net/xport.h"
#include "conf/conf.h"
#include "restore/pg_analyze.h"
#include "restore/pg_copy.h"
#include "restore/pg_dbs.h"
#include "restore/pg_items.h"
#include "restore/pg_restore.h"

#define SCRIPT_MAX (512u << 20)
#define CHUNK (256u * 1024)

struct pgr {
	struct rs_ctx *x;
	struct xport *xp;
	struct pg_target tg;
	struct pgx xf;		/* how the COPY data travels */
	struct pgx_probe probe;	/* choosing xf while the targets are checked */
	struct pgx_in *spare;	/* psql started ahead for spare_db */
	struct pgdb *spare_db;
	struct pgdb *d;
	size_t nd;
	int jobs;
	struct pgdb *cur;	/* the database being restored */
	PGconn *c;
	struct copy_pool *pool;
	/* The last database's ANALYZE runs while the next one is restored:
	 * its tables are done, and the next database takes no lock of it.
	 * Its tables are shared out over up to `jobs` sessions. */
	struct pgdb *analyzing;
	struct pg_analyze an;
	/* What the member just read staged, for checked() to run. */
	enum { PEND_NONE, PEND_GLOBALS, PEND_PRE, PEND_POST, PEND_END } pend;
	struct pgdb *pend_db;
	struct pgdb_table *pend_table;
	struct buf pend_text;
};

/* psql on the server for the first database with a table on the server
 * path, started while the targets are checked and created: it waits for
 * its password and costs nothing if it is never used. */
static void start_spare(struct pgr *p)
{
	struct err e = ERR_INIT;

	for (size_t i = 0; p->xf.server && i < p->nd; i++) {
		struct pgdb *d = &p->d[i];
		size_t j = 0;

		while (d->selected && j < d->nt && !pgx_wants(&p->xf,
							      d->t[j].bytes))
			j++;
		if (!d->selected || j == d->nt)
			continue;
		if (pgx_in_spawn(&p->xf, d->dst, &p->spare, &e) < 0) {
			log_verbose("postgres %s: psql not started ahead: %s",
				    d->dst, e.msg);
			pgx_in_discard(p->spare);
			p->spare = NULL;
		}
		p->spare_db = d;
		return;
	}
}

/* Run by the probe's thread once the path is chosen. */
static void then_spare(struct pgx *xf, struct pgx_out *guess, void *arg)
{
	(void)xf;
	(void)guess;	/* a restore's probe guesses nothing */
	start_spare(arg);
}

static int pgr_begin(struct rs_ctx *x, json_t *detail, void **out,
		     struct err *e)
{
	struct pgr *p = xcalloc(1, sizeof(*p));
	const struct conf *c = x->conf;

	*out = p;
	p->x = x;
	p->jobs = x->o->jobs > 0 ? x->o->jobs : (int)conf_num(c, "postgres", "jobs");
	if (!(p->d = pgdb_select(json_object_get(detail, "databases"),
				 json_object_get(detail, "failed_databases"),
				 x->manifest, x->o->dbmap, &p->nd, e)))
		return -1;
	if (!p->nd)
		return err_set(e, FX_FAIL, "the archive holds no database to "
			       "restore");
	if (x->o->target_url) {
		pg_target_url(&p->tg, x->o->target_url);
	} else {
		if ((conf_num(c, "postgres", "tunnel") ||
		     strcmp(conf_str(c, "postgres", "transfer"), "tunnel")) &&
		    xport_open(&p->xp, x->o->server, e) < 0)
			return -1;
		if (pg_target_conf(&p->tg, c, p->xp, e) < 0)
			return -1;
	}
	pgx_probe_start(&p->probe, &p->xf, c, x->o->target_url ? NULL : p->xp,
			0, NULL, 0, then_spare, p);
	/* Only transfer = server can fail to be had (and has no link to
	 * time): known before anything is created.  Otherwise the probe and
	 * CREATE DATABASE overlap. */
	if (!strcmp(conf_str(c, "postgres", "transfer"), "server") &&
	    pgx_probe_wait(&p->probe, e) < 0)
		return -1;
	return pgdb_check(p->d, p->nd, &p->tg, x->o->clean, e);
}

/* Once every component's targets were checked. */
static int pgr_act(void *state, struct err *e)
{
	struct pgr *p = state;

	if (pgdb_create(p->d, p->nd, &p->tg, p->x->o->clean, p->xp, e) < 0)
		return -1;
	return pgx_probe_wait(&p->probe, e);
}

static void copied(void *arg, size_t tag, long long rows)
{
	((struct pgdb_table *)tag)->got = rows;
	(void)arg;
}

static int fail_db(struct pgr *p, struct err *e)
{
	if (p->cur)
		err_wrap(e, "restore into %s failed", p->cur->dst);
	return -1;
}

static int pre_data(struct pgr *p, struct pgdb *d, const struct buf *text,
		    struct err *e)
{
	struct items it = { 0 };
	int rc = -1;

	p->cur = d;
	clock_gettime(CLOCK_MONOTONIC, &d->t0);
	log_verbose("postgres: restoring %s into %s", d->src, d->dst);
	if (items_parse(text->p, text->len, "pre-data.sql", &it, e) < 0)
		goto out;
	if (!(p->c = pg_open(&p->tg, d->dst, e)) ||
	    pg_exec(p->c, "SET check_function_bodies = false", d->dst, e) < 0 ||
	    items_run(p->c, d->dst, it.v, it.n, e) < 0 ||
	    copy_pool_new(&p->pool, &p->tg, d->dst, p->jobs, copied, p, e) < 0)
		goto out;
	copy_pool_server(p->pool, &p->xf, p->spare_db == d ? p->spare : NULL);
	if (p->spare_db == d)
		p->spare = NULL;
	d->state = 1;
	rc = 0;
out:
	items_free(&it);
	return rc;
}

static int data(struct pgr *p, struct pgdb *d, struct rs_member *m,
		struct err *e)
{
	int last = 0;
	struct pgdb_table *t = pgdb_table(d, m->name, &last);
	ssize_t n;

	if (!t || d->state != 1)
		return err_set(e, FX_VERIFY, "member '%s' is not a table of "
			       "the manifest or comes out of order", m->name);
	/* Parts of other tables may come between (a parallel backup wrote
	 * them): each table keeps its own slot until its last part. */
	if (t->slot < 0 &&
	    copy_pool_begin(p->pool, t->qname, t->cols, t->bytes, (size_t)t,
			    &t->slot, e) < 0)
		return -1;
	for (;;) {
		void *chunk = xmalloc(CHUNK);

		n = rs_read(m, chunk, CHUNK, e);
		if (n <= 0) {
			free(chunk);
			break;
		}
		if (copy_pool_write(p->pool, t->slot, chunk, (size_t)n, e) < 0)
			return -1;
	}
	if (n < 0)
		return -1;
	if (last) {
		p->pend = PEND_END;
		p->pend_table = t;
	}
	return 0;
}

/* Phases whose items do not depend on each other run on several sessions. */
static int parallel_phase(const char *phase)
{
	return !strcmp(phase, "index") || !strcmp(phase, "fk");
}

/* Waits for the ANALYZE in flight, if any, then reports its database. */
static int analyze_wait(struct pgr *p, struct err *e)
{
	struct pgdb *d = p->analyzing;

	if (!d)
		return 0;
	p->analyzing = NULL;
	if (pga_wait(&p->an, d->dst, e) < 0) {
		p->cur = d;	/* the database the failure is about */
		return -1;
	}
	d->state = 3;
	log_verbose("postgres %s: ANALYZE %.1fs (%d table%s on %d session%s)",
		    d->dst, elapsed_since(&d->analyze_t0), p->an.tables,
		    p->an.tables == 1 ? "" : "s", p->an.used, p->an.used == 1 ?
		    "" : "s");
	if (p->x->o->report) {
		/* Database names may hold any byte but NUL. */
		char *src = esc_str(d->src), *dst = esc_str(d->dst);

		fprintf(p->x->o->report, "postgres %s -> %s: %zu table%s, %lld "
			"rows (as the manifest says), %.1fs\n", src, dst,
			d->nt, d->nt == 1 ? "" : "s", d->rows,
			elapsed_since(&d->t0));
		free(src);
		free(dst);
	}
	return 0;
}

/* ses[0] is p->c: the sessions the ANALYZE takes are its own now. */
static int analyze_start(struct pgr *p, struct pgdb *d, PGconn **ses, int n,
			 struct err *e)
{
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &d->analyze_t0);
	rc = pga_start(&p->an, p->c, ses, n, &p->tg, d->dst, e);
	if (!ses[0])
		p->c = NULL;
	if (rc < 0)
		return -1;
	/* With nothing sent, analyze_wait() finds no result and reports. */
	p->analyzing = d;
	d->state = 2;
	return 0;
}

/* The end of the phase that begins at item i. */
static size_t phase_end(const struct items *it, size_t i)
{
	size_t j = i;

	while (j < it->n && !strcmp(it->v[j].phase, it->v[i].phase))
		j++;
	return j;
}

/* The most items of one parallel phase: how many sessions it can use. */
static size_t widest_phase(const struct items *it)
{
	size_t most = 0;

	for (size_t i = 0, j; i < it->n; i = j) {
		j = phase_end(it, i);
		if (parallel_phase(it->v[i].phase) && j - i > most)
			most = j - i;
	}
	return most;
}

static int post_data(struct pgr *p, struct pgdb *d, const struct buf *text,
		     struct err *e)
{
	struct items it = { 0 };
	struct timespec t;
	/* The parallel phases' sessions: this one and the ones opened while
	 * the last table's data is still on its way. */
	PGconn *ses[ITEMS_JOBS_MAX] = { p->c };
	int jobs = p->jobs < ITEMS_JOBS_MAX ? p->jobs : ITEMS_JOBS_MAX;
	int rc = -1;

	if (items_parse(text->p, text->len, "post-data.sql", &it, e) < 0)
		goto out;
	for (size_t k = 1, want = widest_phase(&it); k < (size_t)jobs &&
	     k < want; k++)
		if (!(ses[k] = pg_open(&p->tg, d->dst, e)))
			goto out;
	if (copy_pool_wait(p->pool, e) < 0)
		goto out;
	log_verbose("postgres %s: pre-data and data %.1fs", d->dst,
		    elapsed_since(&d->t0));
	for (size_t i = 0; i < it.n;) {
		size_t j = phase_end(&it, i);

		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((parallel_phase(it.v[i].phase) && jobs > 1 ?
		     items_run_parallel(&p->tg, d->dst, jobs, ses, it.v + i,
					j - i, e) :
		     items_run(p->c, d->dst, it.v + i, j - i, e)) < 0)
			goto out;
		log_verbose("postgres %s: %zu %s item%s %.1fs", d->dst, j - i,
			    it.v[i].phase, j - i == 1 ? "" : "s",
			    elapsed_since(&t));
		i = j;
	}
	if (pgdb_counted(d, e) < 0 || analyze_wait(p, e) < 0 ||
	    analyze_start(p, d, ses, jobs, e) < 0)
		goto out;
	rc = 0;
out:
	items_free(&it);
	copy_pool_free(p->pool);
	p->pool = NULL;
	for (int k = 1; k < jobs; k++)
		PQfinish(ses[k]);
	PQfinish(p->c);
	p->c = NULL;
	return rc;
}

static int globals(struct pgr *p, const struct buf *text, struct err *e)
{
	struct items it = { 0 };
	PGconn *c = NULL;
	int rc = -1;

	if (items_parse(text->p, text->len, "globals.sql", &it, e) < 0 ||
	    !(c = pg_open(&p->tg, "postgres", e)) ||
	    items_run(c, "globals", it.v, it.n, e) < 0)
		goto out;
	rc = 0;
out:
	PQfinish(c);
	items_free(&it);
	return rc;
}

/* A script is read whole now and run once it matched the manifest. */
static int stage(struct pgr *p, struct rs_member *m, int what,
		 struct pgdb *d, struct err *e)
{
	buf_wipe(&p->pend_text);	/* globals may hold password hashes */
	if (rs_slurp(m, &p->pend_text, SCRIPT_MAX, e) < 0)
		return -1;
	p->pend = what;
	p->pend_db = d;
	return 1;
}

static int pgr_member(void *state, struct rs_member *m, struct err *e)
{
	struct pgr *p = state;
	const char *rest, *slash;
	struct pgdb *d = NULL;

	if (strncmp(m->name, "postgres/", 9))
		return 0;
	rest = m->name + 9;
	if (!strcmp(rest, "globals.sql"))
		return p->x->o->globals ? stage(p, m, PEND_GLOBALS, NULL, e) : 1;
	if (!(slash = strchr(rest, '/')))
		return 0;
	for (size_t i = 0; i < p->nd && !d; i++)
		if (strlen(p->d[i].part) == (size_t)(slash - rest) &&
		    !strncmp(p->d[i].part, rest, (size_t)(slash - rest)))
			d = &p->d[i];
	if (!d || !d->selected)
		return 1;
	rest = slash + 1;
	if (!strcmp(rest, "pre-data.sql"))
		return stage(p, m, PEND_PRE, d, e);
	if (!strcmp(rest, "post-data.sql")) {
		if (d->state != 1)
			return err_set(e, FX_VERIFY, "member '%s' comes before "
				       "its pre-data", m->name);
		return stage(p, m, PEND_POST, d, e);
	}
	if (!strncmp(rest, "data/", 5))
		return data(p, d, m, e) < 0 ? fail_db(p, e) : 1;
	return 0;
}

/* The member matched the manifest: run or commit what it staged. */
static int pgr_checked(void *state, struct err *e)
{
	struct pgr *p = state;
	int what = p->pend, rc = 0;

	p->pend = PEND_NONE;
	switch (what) {
	case PEND_GLOBALS:
		rc = globals(p, &p->pend_text, e);
		break;
	case PEND_PRE:
		rc = pre_data(p, p->pend_db, &p->pend_text, e);
		break;
	case PEND_POST:
		rc = post_data(p, p->pend_db, &p->pend_text, e);
		break;
	case PEND_END:
		rc = copy_pool_end(p->pool, p->pend_table->slot, e);
		break;
	}
	buf_wipe(&p->pend_text);
	return rc < 0 ? fail_db(p, e) : 0;
}

/* Drops the databases this restore created and did not finish; names the
 * ones it changed but cannot drop. */
static void pgr_abandon(void *state, struct err *e)
{
	struct pgr *p = state;
	struct buf dropped = BUF_INIT, left = BUF_INIT, done = BUF_INIT;
	struct buf unanalyzed = BUF_INIT;
	PGconn *admin = NULL;

	/* libpq's "server closed the connection" is the tunnel's loss. */
	if (p->xp && xport_lost(p->xp)) {
		if (p->cur)
			err_set(e, FX_CONN, "restore into %s failed: %s",
				p->cur->dst, xport_lost(p->xp));
		else
			err_set(e, FX_CONN, "%s", xport_lost(p->xp));
	}
	/* Our own sessions first: a database in use cannot be dropped. */
	copy_pool_free(p->pool);
	p->pool = NULL;
	pgx_in_discard(p->spare);
	p->spare = NULL;
	PQfinish(p->c);
	p->c = NULL;
	pga_close(&p->an);
	p->analyzing = NULL;
	for (size_t i = 0; i < p->nd; i++) {
		struct pgdb *d = &p->d[i];
		struct err de = ERR_INIT;

		if (!d->selected || (!d->created && !d->cleaned && !d->state))
			continue;
		/* Its data is all in and counted: dropping it would lose a
		 * good copy for want of its statistics. */
		if (d->state >= 2) {
			struct buf *b = d->state == 3 ? &done : &unanalyzed;

			buf_printf(b, "%s%s", b->len ? ", " : "", d->dst);
			continue;
		}
		if (d->created) {
			if (!admin)
				admin = pg_open(&p->tg, strcmp(d->dst, "postgres") ?
						"postgres" : "template1", &de);
			if (admin && pgdb_drop(admin, d->dst, &de) == 0) {
				buf_printf(&dropped, "%s%s", dropped.len ? ", " : "",
					   d->dst);
				d->created = 0;
			}
			if (!d->created)
				continue;
			log_warn("could not drop %s again: %s", d->dst, de.msg);
		}
		buf_printf(&left, "%s%s", left.len ? ", " : "", d->dst);
	}
	if (dropped.len)
		err_append(e, "; dropped again what this restore created: %s",
			   buf_str(&dropped));
	if (left.len)
		err_append(e, "; left incomplete%s: %s", p->x->o->clean ?
			   " (--clean had emptied it)" : "", buf_str(&left));
	if (unanalyzed.len)
		err_append(e, "; restored, but not analyzed (run ANALYZE "
			   "there): %s", buf_str(&unanalyzed));
	if (done.len)
		err_append(e, "; restored completely before the failure: %s",
			   buf_str(&done));
	PQfinish(admin);
	buf_release(&dropped);
	buf_release(&left);
	buf_release(&done);
	buf_release(&unanalyzed);
}

static int pgr_end(void *state, struct err *e)
{
	struct pgr *p = state;

	if (analyze_wait(p, e) < 0)
		return fail_db(p, e);
	for (size_t i = 0; i < p->nd; i++)
		if (p->d[i].selected && p->d[i].state != 3)
			return err_set(e, FX_VERIFY, "the archive ended before "
				       "database %s was complete", p->d[i].src);
	return 0;
}

static void pgr_free(void *state)
{
	struct pgr *p = state;

	if (!p)
		return;
	pgx_probe_join(&p->probe);	/* its thread reads p->d */
	copy_pool_free(p->pool);
	pgx_in_discard(p->spare);
	PQfinish(p->c);
	pga_close(&p->an);
	pgdb_free(p->d, p->nd);
	buf_wipe(&p->pend_text);
	pg_target_release(&p->tg);
	pgx_release(&p->xf);
	if (p->xp)
		xport_close(p->xp);
	free(p);
}

const struct restorer pg_restorer = {
	"postgres", pgr_begin, pgr_act, pgr_member, pgr_checked, pgr_end, pgr_abandon,
	pgr_free,
};

/*
 * The postgres component.  Per database: every table is locked ACCESS
 * SHARE before the snapshot is taken (LOCK takes no snapshot, so what the
 * snapshot shows cannot change under the backup), the schema is generated
 * from the catalogs (pg_schema), and the tables are copied with COPY ... TO
 * STDOUT by `jobs` connections sharing one exported snapshot, each stream
 * going straight into the archive:
 *
 *   postgres/globals.sql                  roles
 *   postgres/<db>/pre-data.sql            before the data
 *   postgres/<db>/data/<schema>.<table>.copy
 *   postgres/<db>/post-data.sql           after it
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "backup/archive.h"
#include "backup/component.h"
#include "backup/pg_conn.h"
#include "backup/pg_data.h"
#include "backup/pg_globals.h"
#include "backup/pg_schema.h"
#include "backup/pg_xfer.h"
#include "conf/conf.h"

/* "a", "b" for COPY's column list ("" for none). */
static char *column_list(json_t *names)
{
	struct buf b = BUF_INIT;
	json_t *name;
	size_t i;

	json_array_foreach(names, i, name) {
		char *q = pg_quote_ident(json_string_value(name) ?: "");

		buf_printf(&b, "%s%s", i ? ", " : "", q);
		free(q);
	}
	return buf_detach(&b, NULL);
}

/* The tables to copy, largest first so parallel copies end together. */
static int list_tables(PGconn *c, struct dbrun *run, struct err *e)
{
	PGresult *r = pg_query(c,
		"SELECT n.nspname, c.relname, (SELECT json_agg(a.attname ORDER BY "
		"a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND "
		"a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''), "
		"c.relpages::bigint * current_setting('block_size')::bigint "
		"FROM pg_class c "
		"JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' "
		"AND n.nspname !~ '^pg_' AND NOT EXISTS (SELECT 1 FROM pg_depend "
		"x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid "
		"AND x.deptype = 'e') ORDER BY c.relpages DESC, 1, 2",
		run->db, e);

	if (!r)
		return -1;
	run->n = run->end = (size_t)PQntuples(r);
	run->t = xcalloc(run->n + 1, sizeof(*run->t));
	for (size_t i = 0; i < run->n; i++) {
		run->t[i].schema = xstrdup(PQgetvalue(r, (int)i, 0));
		run->t[i].name = xstrdup(PQgetvalue(r, (int)i, 1));
		run->t[i].columns = PQgetisnull(r, (int)i, 2) ? NULL :
			json_loads(PQgetvalue(r, (int)i, 2), 0, NULL);
		if (!run->t[i].columns)
			run->t[i].columns = json_array();
		run->t[i].cols = column_list(run->t[i].columns);
		run->t[i].size = pg_num(PQgetvalue(r, (int)i, 3), 0);
	}
	PQclear(r);
	return 0;
}

/* LOCK in batches: one round trip per hundred tables. */
static int lock_tables(PGconn *c, struct dbrun *run, struct err *e)
{
	struct buf sql = BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < run->n && rc == 0; i += 100) {
		buf_reset(&sql);
		buf_addstr(&sql, "LOCK TABLE ");
		for (size_t j = i; j < run->n && j < i + 100; j++) {
			char *qs = PQescapeIdentifier(c, run->t[j].schema,
						      strlen(run->t[j].schema));
			char *qt = PQescapeIdentifier(c, run->t[j].name,
						      strlen(run->t[j].name));

			buf_printf(&sql, "%s%s.%s", j > i ? ", " : "", qs, qt);
			PQfreemem(qs);
			PQfreemem(qt);
		}
		buf_addstr(&sql, " IN ACCESS SHARE MODE");
		rc = pg_exec(c, buf_str(&sql), run->db, e);
	}
	buf_release(&sql);
	return rc;
}

/* After a LOCK that timed out: who holds what it waited for (where
 * pg_stat_activity lets this role see it), for the error message. */
static void lock_holders(PGconn *c, struct err *e)
{
	PGresult *r;

	PQclear(PQexec(c, "ROLLBACK"));
	r = PQexec(c, "SELECT format('%s held by pid %s (user %s, application "
		   "%s, %s since %s)', l.relation::regclass, l.pid, "
		   "coalesce(a.usename, '?'), coalesce(nullif(a.application_name, "
		   "''), '?'), coalesce(a.state, '?'), coalesce(to_char(a.xact_start "
		   "AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS UTC'), '?')) "
		   "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
		   "WHERE l.locktype = 'relation' AND l.granted AND l.mode = "
		   "'AccessExclusiveLock' AND l.pid <> pg_backend_pid() AND "
		   "l.database = (SELECT oid FROM pg_database WHERE datname = "
		   "current_database()) ORDER BY l.pid LIMIT 3");
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		for (int i = 0; i < PQntuples(r); i++)
			err_append(e, "%s %s", i ? ";" : "; blocked by", PQgetvalue(r, i, 0));
	PQclear(r);
}

static int add_script(struct bk_ctx *ctx, const char *db, const char *what,
		      const struct buf *b, struct err *e)
{
	char *pdb = component_member_part(db);
	char *name = xstrfmt("postgres/%s/%s", pdb, what);
	int rc = arc_add(ctx->arc, name, b->p ? b->p : "", b->len, e);

	free(pdb);
	free(name);
	return rc;
}

/* A helper's session, opened on a thread of its own so that they all
 * connect at once: one after the other, on a slow link each waited
 * behind the streams of those before (12 sessions at 5 Mbit: the last
 * ones timed out). */
struct opening {
	struct worker *w;
	const struct pg_target *tg;
	const char *db, *sql;
	struct err e;
};

static void *open_one(void *arg)
{
	struct opening *o = arg;

	if ((o->w->c = pg_open(o->tg, o->db, &o->e)) &&
	    pg_exec(o->w->c, o->sql, o->db, &o->e) < 0) {
		PQfinish(o->w->c);
		o->w->c = NULL;
	}
	return NULL;
}

/* Opens w[1..jobs-1]'s sessions, joined to snap, before any table is
 * read: a refusal still fails the run while the COPY begun ahead can be
 * cancelled.  On failure the caller closes those that opened. */
static int open_helpers(struct worker *w, size_t jobs,
			const struct pg_target *tg, const char *db,
			const char *snap, struct err *e)
{
	struct opening *o = xcalloc(jobs, sizeof(*o));
	pthread_t *tid = xcalloc(jobs, sizeof(*tid));
	char *sql = xstrfmt("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
			    "SET TRANSACTION SNAPSHOT '%s'", snap);
	size_t i, n = 1;
	int rc = 0;

	for (i = 1; i < jobs; i++) {
		o[i] = (struct opening){ &w[i], tg, db, sql, ERR_INIT };
		if (pthread_create(&tid[i], NULL, open_one, &o[i]) != 0) {
			err_set(&o[i].e, FX_FAIL, "postgres %s: cannot start a "
				"thread for a session", db);
			break;
		}
		n = i + 1;
	}
	for (i = 1; i < n; i++)
		pthread_join(tid[i], NULL);
	for (i = 1; i < jobs && !rc; i++)
		if (o[i].e.code) {
			*e = o[i].e;
			rc = -1;
		}
	free(sql);
	free(tid);
	free(o);
	return rc;
}

/* c: a session already open in db, spare: a psql on the server already
 * started in db, or NULL each: taken over here either way. */
static int backup_db(struct bk_ctx *ctx, const struct pg_target *tg,
		     struct pgx_probe *probe, const char *db, PGconn *c,
		     struct pgx_out *spare, json_t *dbs, struct err *e)
{
	struct pgx *xf = probe->p;
	const struct conf *conf = ctx->conf;
	struct dbrun run = { .ctx = ctx, .db = db, .xf = xf };
	struct worker *w = NULL;
	struct buf pre = BUF_INIT, post = BUF_INIT, sql = BUF_INIT;
	json_t *info = NULL, *tables = json_array(), *unsup = json_array();
	size_t jobs = 1, started = 0;
	char *snap = NULL;
	int rc = -1;

	pthread_mutex_init(&run.mu, NULL);
	if (!c && !(c = pg_open(tg, db, e)))
		goto out;
	if (list_tables(c, &run, e) < 0 || pgx_probe_wait(probe, e) < 0)
		goto out;
	jobs = (size_t)pgx_backup_jobs(xf, conf);
	if (jobs > run.n)
		jobs = run.n ? run.n : 1;
	log_verbose("postgres %s: %zu table%s on %zu session%s", db, run.n,
		    run.n == 1 ? "" : "s", jobs, jobs == 1 ? "" : "s");
	if (xf->server && jobs > PGX_EXEC_JOBS)
		log_verbose("postgres %s: %d of them copy on the server (sshd "
			    "allows 10 sessions a connection by default), the "
			    "others take the tables that go through the tunnel",
			    db, PGX_EXEC_JOBS);
	/* Two exec channels a worker then, and sshd's MaxSessions is 10 by
	 * default: the next database's psql started ahead needs one too. */
	run.spares = jobs <= PGX_SPARE_JOBS;
	/* The largest table's psql connects while the tables are locked. */
	if (run.n && pgx_wants(xf, run.t[0].size)) {
		run.t[0].ahead = spare;
		spare = NULL;
		if (!run.t[0].ahead &&
		    pgx_out_spawn(xf, db, arc_part_size(ctx->arc),
				  &run.t[0].ahead, e) < 0)
			goto out;
	}
	buf_printf(&sql, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
		   "SET LOCAL lock_timeout = %lld",
		   conf_num(conf, "postgres", "lock_timeout"));
	if (pg_exec(c, buf_str(&sql), db, e) < 0 || lock_tables(c, &run, e) < 0) {
		err_wrap(e, "locking the tables of %s", db);
		lock_holders(c, e);
		goto out;
	}
	/* Every other session, here or on the server, joins this one's
	 * snapshot: taken now, the first statement after the locks. */
	if (jobs > 1 || xf->server) {
		PGresult *r = pg_query(c, "SELECT pg_export_snapshot()", db, e);

		if (!r)
			goto out;
		snap = xstrdup(PQgetvalue(r, 0, 0));
		run.snap = snap;
		PQclear(r);
	}
	if (run.n && run.t[0].ahead && pgdata_start_ahead(&run, c, &run.t[0], e) < 0)
		goto out;
	if (!(info = pg_db_info(c, db, e)) ||
	    pgs_dump(c, (int)conf_num(conf, "postgres", "owners"), &pre, &post,
		     unsup, e) < 0 || add_script(ctx, db, "pre-data.sql", &pre, e) < 0)
		goto out;
	for (size_t i = 0; i < json_array_size(unsup); i++) {
		json_t *u = json_array_get(unsup, i);

		log_warn("postgres %s: not backed up: %s %s (ferry does not "
			 "reproduce this kind of object)", db,
			 json_string_value(json_object_get(u, "kind")),
			 json_string_value(json_object_get(u, "name")));
	}
	w = xcalloc(jobs, sizeof(*w));
	w[0].run = &run;
	w[0].c = c;
	for (size_t i = 1; i < jobs; i++) {
		w[i].run = &run;
		w[i].tunnel = xf->server && i >= PGX_EXEC_JOBS;
	}
	if (jobs > 1 && open_helpers(w, jobs, tg, db, snap, e) < 0)
		goto join;
	for (size_t i = 1; i < jobs; i++) {
		if (pthread_create(&w[i].tid, NULL, pgdata_helper, &w[i]) != 0) {
			err_set(e, FX_FAIL, "postgres %s: cannot start a thread "
				"for a session", db);
			goto join;
		}
		started = i;
	}
	pgdata_work(&w[0], 0);
join:
	if (started + 1 < jobs)
		pgdata_fail(&run, e);
	for (size_t i = 1; i <= started; i++)
		pthread_join(w[i].tid, NULL);
	for (size_t i = 1; i < jobs; i++)
		if (w[i].c)
			PQfinish(w[i].c);
	if (run.failed) {
		*e = run.err;
		goto out;
	}
	for (size_t i = 0; i < run.n; i++) {
		json_array_append_new(tables, run.t[i].result);
		run.t[i].result = NULL;
	}
	if (add_script(ctx, db, "post-data.sql", &post, e) < 0 ||
	    pg_exec(c, "COMMIT", db, e) < 0)
		goto out;
	json_object_set_new(info, "tables", tables);
	json_object_set_new(info, "unsupported", unsup);
	json_object_set_new(dbs, db, info);
	tables = unsup = info = NULL;
	rc = 0;
out:
	pgx_out_discard(spare);
	pgdata_cancel_ahead(&run, c);
	for (size_t i = 0; i < run.n; i++) {
		pgx_out_discard(run.t[i].ahead);
		free(run.t[i].schema);
		free(run.t[i].name);
		free(run.t[i].cols);
		json_decref(run.t[i].columns);
		json_decref(run.t[i].result);
	}
	free(run.t);
	free(w);
	free(snap);
	json_decref(info);
	json_decref(tables);
	json_decref(unsup);
	buf_release(&pre);
	buf_release(&post);
	buf_release(&sql);
	pthread_mutex_destroy(&run.mu);
	PQfinish(c);
	return rc;
}

/* "all" in dbs becomes every database that takes connections. */
static int list_databases(PGconn *c, struct strlist *dbs, struct err *e)
{
	PGresult *r;

	if (dbs->n != 1 || strcmp(dbs->v[0], "all"))
		return 0;
	strlist_release(dbs);
	if (!(r = pg_query(c, "SELECT datname FROM pg_database WHERE "
			   "datallowconn AND NOT datistemplate ORDER BY 1",
			   "list databases", e)))
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		strlist_add(dbs, PQgetvalue(r, i, 0));
	PQclear(r);
	return 0;
}

static int backup_globals(struct bk_ctx *ctx, PGconn *c, struct err *e)
{
	struct buf g = BUF_INIT;
	int rc = -1;

	if (pg_globals(c, (int)conf_num(ctx->conf, "postgres",
					"include_passwords"), &g, e) == 0)
		rc = arc_add(ctx->arc, "postgres/globals.sql", buf_str(&g), g.len, e);
	buf_wipe(&g);
	return rc;
}

static void summarize(struct bk_ctx *ctx, json_t *dbs)
{
	size_t ntab = 0, k;
	long long rows = 0;
	const char *name;
	json_t *db, *t;

	json_object_foreach(dbs, name, db) {
		json_array_foreach(json_object_get(db, "tables"), k, t) {
			rows += json_integer_value(json_object_get(t, "rows"));
			ntab++;
		}
	}
	if (ctx->summary)
		buf_printf(ctx->summary, "%zu database%s, %zu table%s, %lld rows",
			   json_object_size(dbs), json_object_size(dbs) == 1 ?
			   "" : "s", ntab, ntab == 1 ? "" : "s", rows);
}

/* The first named database's psql, started by the probe's thread. */
struct first {
	const char *db;
	size_t cut;
	struct pgx_out *ahead;
};

static void start_first(struct pgx *xf, struct pgx_out *guess, void *arg)
{
	struct first *f = arg;
	struct err e = ERR_INIT;

	/* The probe's guess is this psql, connected already. */
	if (guess) {
		log_debug("postgres %s: the psql started beside the probe is "
			  "taken", f->db);
		f->ahead = guess;
		return;
	}
	/* A failure here is met again, and said, by backup_db's own. */
	if (f->db && xf->server &&
	    pgx_out_spawn(xf, f->db, f->cut, &f->ahead, &e) < 0) {
		pgx_out_discard(f->ahead);
		f->ahead = NULL;
	}
}

int pg_backup(struct bk_ctx *ctx, json_t *detail, struct err *e)
{
	struct pg_target t;
	struct pgx xf = { 0 };
	struct pgx_probe probe = { 0 };
	struct first first = { 0 };
	struct err pe = ERR_INIT;	/* met again, and said, in backup_db */
	const char *cdb = "postgres";	/* c's database */
	int named;			/* the list names its databases */
	struct strlist dbs = STRLIST_INIT;
	json_t *jdbs = json_object(), *failed = json_object();
	PGconn *c = NULL;
	int rc = -1;

	if (pg_target_conf(&t, ctx->conf, ctx->x, e) < 0)
		goto out;
	/* The parts' size is fixed up front (for `jobs` streams, whatever
	 * a database's table count), so that the server's zstd can be
	 * started before the tables are known. */
	arc_set_streams(ctx->arc, (unsigned)conf_num(ctx->conf, "postgres",
						     "jobs"));
	conf_list(ctx->conf, "postgres", "databases", &dbs);
	named = dbs.n && strcmp(dbs.v[0], "all");
	/* The path's one exec on the server runs while the sessions below
	 * connect and read the globals; a psql for the first named
	 * database's largest table starts beside it (or after it, when the
	 * probe chose another flavour of the server path) and connects
	 * while its tables are listed and locked (ended unused if the table
	 * does not take the server path). */
	first.db = named ? dbs.v[0] : NULL;
	first.cut = arc_part_size(ctx->arc);
	pgx_probe_start(&probe, &xf, ctx->conf, ctx->x, 1, first.db, first.cut,
			start_first, &first);
	/* One session for the list, the globals and the first database
	 * when the list names it: each session costs a backend and round
	 * trips on a distant link.  A first database that cannot be
	 * connected to for another reason than its absence ends the run,
	 * as a lost link would in the loop below. */
	if (named)
		cdb = dbs.v[0];
	c = pg_open(&t, cdb, e);
	/* A first database the server does not have fails alone, below,
	 * like any other: the list and the globals come from the
	 * maintenance database instead. */
	if (!c && named && e->code == FX_FAIL) {
		err_clear(e);
		cdb = "postgres";
		c = pg_open(&t, cdb, e);
	}
	if (!c)
		goto out;
	if (list_databases(c, &dbs, e) < 0)
		goto out;
	/* Listed only now: its psql starts here, once the path is known. */
	if (!named && dbs.n && pgx_probe_wait(&probe, &pe) == 0) {
		first.db = dbs.v[0];
		start_first(&xf, NULL, &first);
	}
	if (backup_globals(ctx, c, e) < 0)
		goto out;
	json_object_set_new(detail, "globals", json_string("postgres/globals.sql"));
	/* A database that fails (a lock not granted, say) fails alone: the
	 * others still land, and the component reports what it missed. */
	for (size_t i = 0; i < dbs.n; i++) {
		struct err de = ERR_INIT;
		struct pgx_out *ahead = NULL;
		PGconn *own = NULL;
		int r;

		if (c && !strcmp(dbs.v[i], cdb)) {
			own = c;
			c = NULL;
		}
		if (i == 0) {
			pgx_probe_join(&probe);
			ahead = first.ahead;
			first.ahead = NULL;
		}
		/* backup_db takes own and ahead */
		r = backup_db(ctx, &t, &probe, dbs.v[i], own, ahead, jdbs, &de);
		if (r == 0)
			continue;
		json_object_set_new(failed, dbs.v[i], json_string(de.msg));
		if (json_object_size(failed) == 1)
			*e = de;
		else
			err_append(e, "; %s", de.msg);
		/* A lost connection fails every database the same way. */
		if (de.code == FX_CONN)
			break;
	}
	/* How the data came (the archive is the same either way). */
	if (dbs.n && xf.why)
		json_object_set_new(detail, "transfer",
				    json_string(pgx_name(&xf)));
	rc = json_object_size(failed) ? -1 : 0;
	ctx->landed = json_object_size(jdbs) > 0;
	summarize(ctx, jdbs);
out:
	/* Before what the probe's thread reads (first.db is in dbs) goes. */
	pgx_probe_join(&probe);
	json_object_set_new(detail, "databases", jdbs);
	if (json_object_size(failed))
		json_object_set(detail, "failed_databases", failed);
	json_decref(failed);
	PQfinish(c);
	strlist_release(&dbs);
	pg_target_release(&t);
	pgx_out_discard(first.ahead);
	pgx_release(&xf);
	return rc;
}

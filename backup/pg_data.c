#include "backup/pg_data.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "backup/archive.h"
#include "backup/component.h"
#include "backup/pg_conn.h"
#include "backup/pg_xfer.h"

int pgdata_fail(struct dbrun *run, const struct err *e)
{
	int first;

	pthread_mutex_lock(&run->mu);
	if ((first = !run->failed))
		run->err = *e;
	run->failed = 1;
	pthread_mutex_unlock(&run->mu);
	return first;
}

struct sink {
	struct dbrun *run;
	struct arc_stream *s;
	long long rows;
	struct err *e;
	unsigned frames;	/* the server's zstd frames */
};

/* COPY text has one line per row: embedded newlines are escaped. */
static int to_stream(void *arg, const void *data, size_t len)
{
	struct sink *k = arg;
	const char *p = data, *end = p + len;

	if (k->run->failed)
		return -1;
	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		k->rows++;
		p++;
	}
	return arc_stream_write(k->s, data, len, k->e);
}

static int to_frame(void *arg, const void *frame, size_t len)
{
	struct sink *k = arg;

	k->frames++;
	arc_stream_frame(k->s, frame, len);
	return 0;
}

/* t's schema and name quoted for SQL on c, or the reason they are not
 * (an encoding c rejects); *qs and *qt are PQfreemem's. */
static int quote_table(PGconn *c, const char *db, const struct table *t,
		       char **qs, char **qt, struct err *e)
{
	*qs = PQescapeIdentifier(c, t->schema, strlen(t->schema));
	*qt = PQescapeIdentifier(c, t->name, strlen(t->name));
	if (*qs && *qt)
		return 0;
	return err_set(e, FX_FAIL, "postgres %s: COPY %s.%s: %.*s", db,
		       t->schema, t->name, pg_errlen(PQerrorMessage(c)),
		       PQerrorMessage(c));
}

/* t's lock (NOWAIT: the leader holds one, DDL may queue behind it) and
 * its COPY, by column names, as SQL ending in ";\n" each. */
static char *lock_sql(const char *qs, const char *qt)
{
	return xstrfmt("LOCK TABLE %s.%s IN ACCESS SHARE MODE NOWAIT;\n", qs,
		       qt);
}

static char *copy_sql(const struct table *t, const char *qs, const char *qt)
{
	return xstrfmt("COPY %s.%s%s%s%s TO STDOUT;", qs, qt,
		       *t->cols ? " (" : "", t->cols, *t->cols ? ")" : "");
}

/* How psql on the server joins the snapshot: its application_name is
 * named after it, so that pgdata_cancel_ahead finds it. */
static char *join_sql(const struct dbrun *run)
{
	return xstrfmt("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n"
		       "SET TRANSACTION SNAPSHOT '%s';\nSET application_name "
		       "= 'ferry %s';\n", run->snap, run->snap);
}

/* What psql on the server runs for t alone: a transaction that joins
 * the snapshot, the table's lock, its COPY. */
static char *server_script(const struct dbrun *run, const struct table *t,
			   const char *qs, const char *qt)
{
	char *join = join_sql(run), *lock = lock_sql(qs, qt);
	char *copy = copy_sql(t, qs, qt);
	char *s = xstrfmt("%s%s%s\nCOMMIT;\n", join, lock, copy);

	free(join);
	free(lock);
	free(copy);
	return s;
}

void pgdata_cancel_ahead(struct dbrun *run, PGconn *c)
{
	const char *name;
	char *app;
	PGresult *r;
	size_t i;

	for (i = 0; i < run->n && !run->t[i].ahead; i++)
		;
	if (!run->ahead_started || (i == run->n && !run->failed) || !c)
		return;
	/* The failure may have aborted c's transaction; the snapshot is
	 * not needed any more. */
	PQclear(PQexec(c, "ROLLBACK"));
	app = xstrfmt("ferry %s", run->snap);
	name = app;
	r = PQexecParams(c, "SELECT pg_cancel_backend(pid) FROM "
			 "pg_stat_activity WHERE application_name = $1", 1,
			 NULL, &name, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK ||
	    (PQntuples(r) < 1 && i < run->n))
		log_debug("postgres %s: the COPYs started ahead were not "
			  "cancelled: they run to their ends", run->db);
	PQclear(r);
	free(app);
}

int pgdata_start_ahead(struct dbrun *run, PGconn *c, struct table *t,
		       struct err *e)
{
	char *qs, *qt, *script = NULL;
	char *what = xstrfmt("COPY %s.%s", t->schema, t->name);
	int rc = quote_table(c, run->db, t, &qs, &qt, e);

	if (rc == 0) {
		script = server_script(run, t, qs, qt);
		rc = pgx_out_start(t->ahead, run->db, script, what, e);
	}
	run->ahead_started = 1;
	PQfreemem(qs);
	PQfreemem(qt);
	free(script);
	free(what);
	return rc;
}

enum { TAKE_ANY, TAKE_SERVER, TAKE_TUNNEL };

/* Whether a table is left and takes the server path (mu held). */
static int next_on_server(const struct dbrun *run)
{
	return run->next < run->end && pgx_wants(run->xf, run->t[run->next].size);
}

/* The next table, or NULL; TAKE_SERVER: only one for the server path,
 * TAKE_TUNNEL: only one for the tunnel, the smallest left (tables are
 * biggest first, so those for the server path come first). */
static struct table *take(struct dbrun *run, int which)
{
	struct table *t = NULL;

	pthread_mutex_lock(&run->mu);
	if (run->failed || run->next == run->end)
		;
	else if (which == TAKE_TUNNEL)
		t = pgx_wants(run->xf, run->t[run->end - 1].size) ? NULL :
		    &run->t[--run->end];
	else if (which == TAKE_ANY || next_on_server(run))
		t = &run->t[run->next++];
	pthread_mutex_unlock(&run->mu);
	return t;
}

/* t's lock and COPY for w's chain o (pgx_out_send_copy). */
static int chain_send(struct worker *w, struct pgx_out *o, struct table *t,
		      struct err *e)
{
	char *qs, *qt, *what = xstrfmt("COPY %s.%s", t->schema, t->name);
	char *lock = NULL, *copy = NULL;
	int rc;

	if ((rc = quote_table(w->c, w->run->db, t, &qs, &qt, e)) < 0)
		goto out;
	lock = lock_sql(qs, qt);
	copy = copy_sql(t, qs, qt);
	rc = pgx_out_send_copy(o, w->run->db, lock, copy, what, e);
out:
	PQfreemem(qs);
	PQfreemem(qt);
	free(what);
	free(lock);
	free(copy);
	return rc;
}

/* A chain's start on o: its transaction joins the snapshot, then t. */
static int chain_open(struct worker *w, struct pgx_out *o, struct table *t,
		      struct err *e)
{
	char *join = join_sql(w->run);
	int rc = pgx_out_send(o, w->run->db, join, e) < 0 ||
		 chain_send(w, o, t, e) < 0 ? -1 : 0;

	free(join);
	return rc;
}

/* pgx_out_on_end's: the table after this one starts on the psql kept
 * ready, while this one's last jobs are still compressed and sent (0.1
 * to 0.3 s a table otherwise, on either side of the wire). */
static void start_next(void *arg)
{
	struct worker *w = arg;
	struct err e = ERR_INIT;
	struct table *t;
	int r;

	if (!w->spare || !(t = take(w->run, TAKE_SERVER)))
		return;
	t->ahead = w->spare;
	w->spare = NULL;
	w->next = t;
	/* Its own COPY then reports the failure, as its psql's. */
	if (pgx_chains(w->run->xf)) {
		t->chained = 1;
		w->run->ahead_started = 1;
		r = chain_open(w, t->ahead, t, &e) < 0;
	} else {
		r = pgdata_start_ahead(w->run, w->c, t, &e) < 0;
	}
	if (r)
		log_debug("%s", e.msg);
	else
		log_debug("postgres %s: COPY %s.%s started while the table "
			  "before still arrives", w->run->db, t->schema,
			  t->name);
}

/* A psql connected ahead for the next table, when one is to come. */
static void keep_spare(struct worker *w)
{
	struct dbrun *run = w->run;
	struct err e = ERR_INIT;
	int more;

	pthread_mutex_lock(&run->mu);
	more = run->spares && next_on_server(run);
	pthread_mutex_unlock(&run->mu);
	if (!more || w->spare)
		return;
	if ((pgx_chains(run->xf) ? pgx_out_chain : pgx_out_spawn)(run->xf,
			run->db, arc_part_size(run->ctx->arc), &w->spare, &e) < 0) {
		log_debug("postgres %s: no psql kept ready: %s", run->db,
			  e.msg);
		pgx_out_discard(w->spare);
		w->spare = NULL;
	}
}

/* The table by psql on the server, in a transaction that joins the
 * snapshot; its output arrives compressed and is decoded here. */
static int copy_server(struct worker *w, struct table *t, const char *qs,
		       const char *qt, const char *member, long long *rows,
		       uint64_t *bytes, struct err *e)
{
	struct dbrun *run = w->run;
	struct sink k = { run, NULL, 0, e, 0 };
	struct pgx_out *o = t->ahead;
	char *what = xstrfmt("COPY %s.%s", t->schema, t->name);
	char *script = server_script(run, t, qs, qt);
	int rc = -1, r;

	t->ahead = NULL;
	if (arc_stream_begin(run->ctx->arc, member, &k.s, e) < 0 ||
	    (!o && pgx_out_spawn(run->xf, run->db,
				 arc_part_size(run->ctx->arc), &o, e) < 0))
		goto out;
	/* pgx_copy_out reports a psql that did not take it, with its
	 * words.  The COPY runs on the server while the next psql
	 * connects. */
	if (pgx_out_start(o, run->db, script, what, e) < 0)
		err_clear(e);
	keep_spare(w);
	if (w->spare)
		pgx_out_on_end(o, start_next, w);
	r = pgx_copy_out(run->xf, o, run->db, script, what, to_stream,
			 to_frame, &k, e);
	o = NULL;	/* pgx_copy_out freed it */
	if (r < 0)
		goto out;
	log_debug("postgres %s: %s: %u of %u parts kept as the server's "
		  "zstd compressed them", run->db, what, arc_stream_kept(k.s),
		  k.frames);
	if (run->failed) {
		err_set(e, FX_FAIL, "stopped: another table failed");
		goto out;
	}
	rc = arc_stream_end(k.s, bytes, e);
	k.s = NULL;
	*rows = k.rows;
out:
	pgx_out_discard(o);
	arc_stream_abort(k.s);
	free(what);
	free(script);
	return rc;
}

/* The archive member of db's table t. */
static char *member_of(const char *db, const struct table *t)
{
	char *pdb = component_member_part(db), *ps = component_member_part(t->schema);
	char *pt = component_member_part(t->name);
	char *m = xstrfmt("postgres/%s/data/%s.%s.copy", pdb, ps, pt);

	free(pdb);
	free(ps);
	free(pt);
	return m;
}

/* t is in the archive: its manifest entry. */
static void table_done(const struct dbrun *run, struct table *t,
		       const char *member, long long rows, uint64_t bytes)
{
	t->result = json_pack("{s:s, s:s, s:O, s:I, s:I, s:s}", "schema",
			      t->schema, "table", t->name, "columns", t->columns,
			      "rows", (json_int_t)rows, "bytes", (json_int_t)bytes,
			      "member", member);
	log_verbose("postgres %s: %s.%s: %lld rows", run->db, t->schema,
		    t->name, rows);
}

/* A run of server-path tables on one psql (pgx_out_chain): cur's data
 * arrives while next's script waits in psql's stdin, so that psql goes
 * from one table to the next without waiting for ferry. */
struct chain {
	struct worker *w;
	struct pgx_out *o;
	struct table *cur, *next;
	char *member;		/* cur's */
	struct sink k;		/* cur's */
	int done;		/* COMMIT sent: no table is left */
	unsigned n;		/* tables ended */
};

/* rc of a send to the chain's psql.  One that stopped reading has ended
 * (a table's COPY failed): pgx_copy_out reports why, in psql's words. */
static int chain_sent(struct chain *ch, int rc, struct err *e)
{
	if (rc < 0 && e->code == FX_REMOTE) {
		err_clear(e);
		ch->done = 1;
		pgx_out_close(ch->o);
		rc = 0;
	}
	return rc;
}

/* The next table after those sent, or the end of the transaction. */
static int chain_more(struct chain *ch, struct err *e)
{
	int rc;

	if (ch->done)
		return 0;
	if ((ch->next = take(ch->w->run, TAKE_SERVER))) {
		rc = chain_send(ch->w, ch->o, ch->next, e);
	} else {
		ch->done = 1;
		rc = pgx_out_send(ch->o, ch->w->run->db, "COMMIT;\n", e);
		pgx_out_close(ch->o);
	}
	return chain_sent(ch, rc, e);
}

static int chain_begin(struct chain *ch, struct err *e)
{
	struct dbrun *run = ch->w->run;

	ch->k = (struct sink){ run, NULL, 0, e, 0 };
	free(ch->member);
	ch->member = ch->cur ? member_of(run->db, ch->cur) : NULL;
	return ch->cur ? arc_stream_begin(run->ctx->arc, ch->member, &ch->k.s,
					  e) : 0;
}

static int chain_stream(void *arg, const void *data, size_t len)
{
	struct chain *ch = arg;

	if (!ch->cur) {
		err_set(ch->k.e, FX_REMOTE, "postgres %s: psql on the server "
			"sent data after its last table", ch->w->run->db);
		return -1;
	}
	return to_stream(&ch->k, data, len);
}

static int chain_frame(void *arg, const void *frame, size_t len)
{
	struct chain *ch = arg;

	return ch->cur ? to_frame(&ch->k, frame, len) : 0;
}

/* cur has ended (pgx_out_on_mark's): it goes into the archive, next
 * follows it, and another table is sent. */
static int chain_mark(void *arg, const void *data, size_t len)
{
	struct chain *ch = arg;
	struct dbrun *run = ch->w->run;
	struct err *e = ch->k.e;
	uint64_t bytes = 0;

	(void)data;
	(void)len;
	if (!ch->cur)
		return -1;
	log_debug("postgres %s: COPY %s.%s: %u of %u parts kept as the "
		  "server's zstd compressed them", run->db, ch->cur->schema,
		  ch->cur->name, arc_stream_kept(ch->k.s), ch->k.frames);
	if (run->failed)
		return err_set(e, FX_FAIL, "stopped: another table failed");
	if (arc_stream_end(ch->k.s, &bytes, e) < 0) {
		ch->k.s = NULL;
		return -1;
	}
	ch->k.s = NULL;
	table_done(run, ch->cur, ch->member, ch->k.rows, bytes);
	ch->n++;
	ch->cur = ch->next;
	ch->next = NULL;
	if (chain_begin(ch, e) < 0)
		return -1;
	return ch->cur ? chain_more(ch, e) : 0;
}

/* t and the server-path tables after it, as long as any is left, on one
 * psql that joins the snapshot once. */
static int copy_chain(struct worker *w, struct table *t, struct err *e)
{
	struct dbrun *run = w->run;
	struct chain ch = { .w = w, .cur = t };
	char *what = xstrfmt("COPY %s.%s", t->schema, t->name);
	int rc = -1;

	/* Started already (start_next), or on the psql kept ready. */
	ch.o = t->ahead ? t->ahead : w->spare;
	if (t->ahead)
		t->ahead = NULL;
	else
		w->spare = NULL;
	if (!ch.o && pgx_out_chain(run->xf, run->db,
				   arc_part_size(run->ctx->arc), &ch.o, e) < 0)
		goto out;
	if (chain_begin(&ch, e) < 0)
		goto out;
	/* A psql that stopped reading is reported by pgx_copy_out, with
	 * its words. */
	if ((!t->chained &&
	     chain_sent(&ch, chain_open(w, ch.o, t, e), e) < 0) ||
	    chain_more(&ch, e) < 0)
		goto out;
	pgx_out_on_mark(ch.o, chain_mark);
	rc = pgx_copy_out(run->xf, ch.o, run->db, NULL, what, chain_stream,
			  chain_frame, &ch, e);
	ch.o = NULL;	/* pgx_copy_out freed it */
	if (rc == 0 && ch.cur)
		rc = err_set(e, FX_REMOTE, "postgres %s: COPY %s.%s: psql on "
			     "the server stopped reading", run->db,
			     ch.cur->schema, ch.cur->name);
	if (rc == 0)
		log_debug("postgres %s: %u table%s copied by one psql", run->db,
			  ch.n, ch.n == 1 ? "" : "s");
out:
	pgx_out_discard(ch.o);
	arc_stream_abort(ch.k.s);
	free(ch.member);
	free(what);
	return rc;
}

static void copy_failed(struct err *e, const char *db, const struct table *t,
			PGconn *c)
{
	err_set(e, FX_FAIL, "postgres %s: COPY %s.%s: %.*s", db, t->schema,
		t->name, pg_errlen(PQerrorMessage(c)), PQerrorMessage(c));
}

static int copy_table(struct worker *w, struct table *t, int nowait,
		      struct err *e)
{
	struct dbrun *run = w->run;
	PGconn *c = w->c;
	const char *db = run->db;
	char *qs = NULL, *qt = NULL, *sql = NULL, *member = member_of(db, t);
	struct arc_stream *s = NULL;
	long long rows = 0;
	uint64_t bytes = 0;
	PGresult *r;
	char *row;
	int n, rc = -1;

	if (quote_table(c, db, t, &qs, &qt, e) < 0)
		goto out;
	if (pgx_wants(run->xf, t->size)) {
		if (copy_server(w, t, qs, qt, member, &rows, &bytes, e) < 0)
			goto out;
		goto done;
	}
	/* A helper's lock must not queue behind DDL that queued behind the
	 * leader's lock: that would wait forever, so fail now (as pg_dump). */
	if (nowait) {
		sql = lock_sql(qs, qt);
		if (pg_exec(c, sql, db, e) < 0) {
			err_wrap(e, "table %s.%s is wanted by another session "
				 "(DDL during the backup?)", t->schema, t->name);
			goto out;
		}
		free(sql);
	}
	/* Columns by name, as pg_dump does: a partition attached with its
	 * columns in another order still restores into the right ones. */
	sql = copy_sql(t, qs, qt);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		copy_failed(e, db, t, c);
		PQclear(r);
		goto out;
	}
	PQclear(r);
	if (arc_stream_begin(run->ctx->arc, member, &s, e) < 0)
		goto drain;
	/* libpq hands over one row per call. */
	while ((n = PQgetCopyData(c, &row, 0)) > 0) {
		int wr = arc_stream_write(s, row, (size_t)n, e);

		PQfreemem(row);
		if (wr < 0 || run->failed)
			goto drain;
		rows++;
	}
	r = PQgetResult(c);
	if (n == -2 || PQresultStatus(r) != PGRES_COMMAND_OK) {
		copy_failed(e, db, t, c);
		PQclear(r);
		goto drain;
	}
	PQclear(r);
	rc = arc_stream_end(s, &bytes, e);
	s = NULL;
	if (rc < 0)
		goto drain;
done:
	rc = 0;
	table_done(run, t, member, rows, bytes);
	goto out;
drain:
	/* Stop the server's side of the COPY and leave the session usable. */
	{
		PGcancel *cn = PQgetCancel(c);
		char buf[256];

		if (cn) {
			PQcancel(cn, buf, sizeof(buf));
			PQfreeCancel(cn);
		}
		while ((n = PQgetCopyData(c, &row, 0)) > 0)
			PQfreemem(row);
		while ((r = PQgetResult(c)))
			PQclear(r);
	}
	rc = -1;
out:
	arc_stream_abort(s);
	PQfreemem(qs);
	PQfreemem(qt);
	free(sql);
	free(member);
	return rc;
}

void pgdata_work(struct worker *w, int nowait)
{
	struct dbrun *run = w->run;
	struct err e = ERR_INIT;

	for (;;) {
		struct table *t = w->next;
		int chain;

		w->next = NULL;
		if (run->failed ||
		    (!t && !(t = take(run, w->tunnel ? TAKE_TUNNEL : TAKE_ANY))))
			break;
		/* Begun on a chain's psql, or to begin one. */
		chain = t->ahead ? t->chained :
			pgx_wants(run->xf, t->size) && pgx_chains(run->xf);
		if ((chain ? copy_chain(w, t, &e) :
		     copy_table(w, t, nowait, &e)) < 0) {
			/* The other workers' COPYs on the server are cut short
			 * now: each would otherwise stream to its end (psql
			 * drains a COPY whose output is gone) while its worker
			 * reads it to end that psql. */
			if (pgdata_fail(run, &e) && run->xf->server)
				pgdata_cancel_ahead(run, w->c);
			break;
		}
	}
	/* A next table started but not read keeps its psql in t->ahead,
	 * where the run cancels and ends it. */
	pgx_out_discard(w->spare);
	w->spare = NULL;
}

void *pgdata_helper(void *arg)
{
	pgdata_work(arg, 1);
	return NULL;
}


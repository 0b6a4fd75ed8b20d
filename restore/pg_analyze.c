#include "restore/pg_analyze.h"

#include "util/buf.h"

/*
 * What ANALYZE takes for what the restore created, biggest first: the
 * user's tables and materialized views, partitioned ones whole (naming
 * one takes in its partitions, which are not named again).  A bare
 * ANALYZE would also sample the system catalogs, 0.1 s of a one-table
 * restore that the template's statistics already cover.
 */
static const char analyze_q[] =
	"SELECT c.oid, CASE c.relkind WHEN "
	"'p' THEN (SELECT coalesce(sum(pg_relation_size(t.relid)), 0) FROM "
	"pg_partition_tree(c.oid) t) ELSE pg_relation_size(c.oid) END AS size "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
	"c.relkind IN ('r', 'm', 'p') AND NOT c.relispartition AND "
	"c.relpersistence <> 't' AND n.nspname NOT IN ('pg_catalog', "
	"'information_schema') AND n.nspname !~ '^pg_toast' ORDER BY size "
	"DESC, c.oid";

/* The transaction-level advisory lock a session holds on the i-th table
 * it analyzes: (this, i). */
#define PGA_LOCK 0x66657279	/* "fery" */

static int failed(struct err *e, const char *db, const char *msg)
{
	return err_set(e, FX_FAIL, "postgres %s: ANALYZE: %.*s", db,
		       pg_errlen(msg), msg);
}

/*
 * Every session walks the same list, biggest first, and analyzes each
 * table whose advisory lock it gets: a session takes the next table as
 * soon as it is free, whatever each one costs (which is not its size:
 * 14 text tables, 1.28 s against 1.42 s when shared out by bytes up
 * front).  One ANALYZE keeps one core busy, and the tables do not lock
 * each other.  Each session's ANALYZEs are one transaction, the DO's.
 */
int pga_start(struct pg_analyze *a, PGconn *c, PGconn **ses, int n,
	      const struct pg_target *tg, const char *db, struct err *e)
{
	PGresult *r = PQexec(c, analyze_q);
	struct buf sql = BUF_INIT;
	int k = 0, rc = -1;

	a->n = a->tables = a->used = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		failed(e, db, PQresultErrorMessage(r));
		goto out;
	}
	a->tables = PQntuples(r);
	k = a->tables < n ? a->tables : n;
	/* Oids are digits: nothing in the list needs quoting. */
	buf_addstr(&sql, "DO $ferry$ DECLARE t oid[] := '{");
	for (int i = 0; i < a->tables; i++)
		buf_printf(&sql, "%s%s", i ? "," : "", PQgetvalue(r, i, 0));
	buf_printf(&sql, "}'; BEGIN FOR i IN 1 .. %d LOOP IF "
		   "pg_try_advisory_xact_lock(%d, i) THEN EXECUTE "
		   "format('ANALYZE %%s', t[i]::regclass); END IF; END LOOP; "
		   "END $ferry$", a->tables, PGA_LOCK);
	for (int i = 0; i < k; i++) {
		PGconn *s = ses[i] ? ses[i] : pg_open(tg, db, e);

		if (!s)
			goto out;
		a->ses[a->n++] = s;
		ses[i] = NULL;
		if (!PQsendQuery(s, buf_str(&sql))) {
			failed(e, db, PQerrorMessage(s));
			goto out;
		}
	}
	a->used = k;
	rc = 0;
out:
	buf_release(&sql);
	PQclear(r);
	return rc;
}

int pga_wait(struct pg_analyze *a, const char *db, struct err *e)
{
	int rc = 0;

	for (int i = 0; i < a->n; i++) {
		PGresult *r;

		while ((r = PQgetResult(a->ses[i]))) {
			ExecStatusType st = PQresultStatus(r);

			if (st != PGRES_COMMAND_OK && !rc)
				rc = failed(e, db, *PQresultErrorMessage(r) ?
					    PQresultErrorMessage(r) :
					    PQresStatus(st));
			PQclear(r);
		}
	}
	pga_close(a);
	return rc;
}

void pga_close(struct pg_analyze *a)
{
	for (int i = 0; i < a->n; i++)
		PQfinish(a->ses[i]);
	a->n = 0;
}

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
	"SELECT format('%I.%I', n.nspname, c.relname), CASE c.relkind WHEN "
	"'p' THEN (SELECT coalesce(sum(pg_relation_size(t.relid)), 0) FROM "
	"pg_partition_tree(c.oid) t) ELSE pg_relation_size(c.oid) END AS size "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
	"c.relkind IN ('r', 'm', 'p') AND NOT c.relispartition AND "
	"c.relpersistence <> 't' AND n.nspname NOT IN ('pg_catalog', "
	"'information_schema') AND n.nspname !~ '^pg_toast' ORDER BY size "
	"DESC, 1";

static int failed(struct err *e, const char *db, const char *msg)
{
	return err_set(e, FX_FAIL, "postgres %s: ANALYZE: %.*s", db,
		       pg_errlen(msg), msg);
}

/*
 * Each table goes to the session with the fewest bytes so far (then the
 * fewest tables, for empty ones): tables do not lock each other, and one
 * ANALYZE keeps one core busy (14 text tables: 2.1 s on one session,
 * 1.2 s on two).
 */
int pga_start(struct pg_analyze *a, PGconn *c, PGconn **ses, int n,
	      const struct pg_target *tg, const char *db, struct err *e)
{
	PGresult *r = PQexec(c, analyze_q);
	struct buf sql[ITEMS_JOBS_MAX];
	long long load[ITEMS_JOBS_MAX] = { 0 };
	int count[ITEMS_JOBS_MAX] = { 0 };
	int k = 0, rc = -1;

	a->n = a->tables = a->used = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		failed(e, db, PQresultErrorMessage(r));
		goto out;
	}
	a->tables = PQntuples(r);
	k = a->tables < n ? a->tables : n;
	for (int i = 0; i < k; i++)
		buf_init(&sql[i]);
	for (int i = 0; i < a->tables; i++) {
		int s = 0;

		for (int j = 1; j < k; j++)
			if (load[j] < load[s] ||
			    (load[j] == load[s] && count[j] < count[s]))
				s = j;
		buf_addstr(&sql[s], sql[s].len ? ", " : "ANALYZE ");
		buf_addstr(&sql[s], PQgetvalue(r, i, 0));
		load[s] += pg_num(PQgetvalue(r, i, 1), 0);
		count[s]++;
	}
	for (int i = 0; i < k; i++) {
		PGconn *s = ses[i] ? ses[i] : pg_open(tg, db, e);

		if (!s)
			goto out;
		a->ses[a->n++] = s;
		ses[i] = NULL;
		if (!PQsendQuery(s, buf_str(&sql[i]))) {
			failed(e, db, PQerrorMessage(s));
			goto out;
		}
	}
	a->used = k;
	rc = 0;
out:
	for (int i = 0; i < k; i++)
		buf_release(&sql[i]);
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

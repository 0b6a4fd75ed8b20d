/*
 * The postgres component: every table of every database, each through
 * COPY ... TO STDOUT straight into the archive, inside one REPEATABLE READ
 * snapshot per database with every table locked ACCESS SHARE first (as
 * pg_dump does), so concurrent DDL waits or fails instead of producing an
 * inconsistent copy.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/buf.h"
#include "agent/log.h"
#include "agent/xport.h"
#include "backup/archive.h"
#include "backup/component.h"
#include "conf/conf.h"

struct pg_target {
	char *host;
	char port[16];
	const char *user;
	const char *password;
	char timeout[24];
};

static PGconn *pg_open(const struct pg_target *t, const char *db,
		       struct err *e)
{
	const char *keys[] = { "host", "port", "user", "password", "dbname",
			       "connect_timeout", "application_name", NULL };
	const char *vals[] = { t->host, t->port, t->user, t->password, db,
			       t->timeout, "ferry", NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 0);

	if (PQstatus(c) != CONNECTION_OK) {
		const char *msg = PQerrorMessage(c);

		err_set(e, FX_CONN, "postgres %s: %.*s", db,
			(int)strcspn(msg, "\n"), msg);
		PQfinish(c);
		return NULL;
	}
	return c;
}

static int exec_ok(PGconn *c, const char *sql, const char *db, struct err *e)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
		 PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok) {
		const char *msg = PQerrorMessage(c);

		err_set(e, FX_FAIL, "postgres %s: %.*s (in: %.80s)", db,
			(int)strcspn(msg, "\n"), msg, sql);
	}
	PQclear(r);
	return ok ? 0 : -1;
}

static int list_databases(const struct pg_target *t, const struct conf *conf,
			  struct strlist *dbs, struct err *e)
{
	PGresult *r;
	PGconn *c;
	int rc = 0;

	conf_list(conf, "postgres", "databases", dbs);
	if (!(dbs->n == 1 && !strcmp(dbs->v[0], "all")))
		return 0;
	strlist_release(dbs);
	c = pg_open(t, "postgres", e);
	if (!c)
		return -1;
	r = PQexec(c, "SELECT datname FROM pg_database WHERE datallowconn "
		   "AND NOT datistemplate ORDER BY 1");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = err_set(e, FX_FAIL, "postgres: list databases: %s",
			     PQerrorMessage(c));
	for (int i = 0; rc == 0 && i < PQntuples(r); i++)
		strlist_add(dbs, PQgetvalue(r, i, 0));
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int copy_table(struct bk_ctx *ctx, PGconn *c, const char *db,
		      const char *schema, const char *table, json_t *tables,
		      struct err *e)
{
	char *qs = PQescapeIdentifier(c, schema, strlen(schema));
	char *qt = PQescapeIdentifier(c, table, strlen(table));
	char *pdb = component_member_part(db), *ps = component_member_part(schema);
	char *pt = component_member_part(table);
	char *sql = xstrfmt("COPY %s.%s TO STDOUT", qs, qt);
	char *member = xstrfmt("postgres/%s/data/%s.%s.copy", pdb, ps, pt);
	struct arc_stream *s = NULL;
	long long rows = 0;
	uint64_t bytes = 0;
	PGresult *r;
	char *row;
	int n, rc = -1;

	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		err_set(e, FX_FAIL, "postgres %s: COPY %s.%s: %s", db, schema,
			table, PQerrorMessage(c));
		PQclear(r);
		goto out;
	}
	PQclear(r);
	if (arc_stream_begin(ctx->arc, member, &s, e) < 0)
		goto out;
	/* libpq hands over one row per call. */
	while ((n = PQgetCopyData(c, &row, 0)) > 0) {
		int w = arc_stream_write(s, row, (size_t)n, e);

		PQfreemem(row);
		if (w < 0)
			goto drain;
		rows++;
	}
	if (n == -2) {
		err_set(e, FX_FAIL, "postgres %s: COPY %s.%s: %s", db, schema,
			table, PQerrorMessage(c));
		goto drain;
	}
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		err_set(e, FX_FAIL, "postgres %s: COPY %s.%s: %s", db, schema,
			table, PQerrorMessage(c));
		PQclear(r);
		goto drain;
	}
	PQclear(r);
	if (arc_stream_end(s, &bytes, e) < 0) {
		s = NULL;
		goto drain;
	}
	s = NULL;
	json_array_append_new(tables, json_pack("{s:s, s:s, s:I, s:I, s:s}",
		"schema", schema, "table", table, "rows", (json_int_t)rows,
		"bytes", (json_int_t)bytes, "member", member));
	log_verbose("postgres %s: %s.%s: %lld rows", db, schema, table, rows);
	rc = 0;
	goto out;
drain:
	/* Leave the connection usable for the error path's cleanup. */
	while ((r = PQgetResult(c)))
		PQclear(r);
out:
	arc_stream_abort(s);
	PQfreemem(qs);
	PQfreemem(qt);
	free(pdb);
	free(ps);
	free(pt);
	free(sql);
	free(member);
	return rc;
}

static int backup_db(struct bk_ctx *ctx, const struct pg_target *t,
		     const char *db, json_t *dbs, struct err *e)
{
	json_t *tables = json_array();
	PGresult *r = NULL;
	PGconn *c;
	int rc = -1;

	c = pg_open(t, db, e);
	if (!c) {
		json_decref(tables);
		return -1;
	}
	if (exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", db,
		    e) < 0 ||
	    exec_ok(c, "SET LOCAL lock_timeout = '30s'", db, e) < 0)
		goto out;
	r = PQexec(c, "SELECT n.nspname, c.relname FROM pg_class c "
		   "JOIN pg_namespace n ON n.oid = c.relnamespace "
		   "WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' "
		   "AND n.nspname !~ '^pg_' ORDER BY 1, 2");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		err_set(e, FX_FAIL, "postgres %s: list tables: %s", db,
			PQerrorMessage(c));
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		const char *s = PQgetvalue(r, i, 0), *tb = PQgetvalue(r, i, 1);
		char *qs = PQescapeIdentifier(c, s, strlen(s));
		char *qt = PQescapeIdentifier(c, tb, strlen(tb));
		char *sql = xstrfmt("LOCK TABLE %s.%s IN ACCESS SHARE MODE", qs, qt);
		int lr = exec_ok(c, sql, db, e);

		PQfreemem(qs);
		PQfreemem(qt);
		free(sql);
		if (lr < 0)
			goto out;
	}
	for (int i = 0; i < PQntuples(r); i++)
		if (copy_table(ctx, c, db, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
			       tables, e) < 0)
			goto out;
	if (exec_ok(c, "COMMIT", db, e) < 0)
		goto out;
	json_object_set_new(dbs, db, json_pack("{s:o}", "tables", tables));
	tables = NULL;
	rc = 0;
out:
	PQclear(r);
	json_decref(tables);
	PQfinish(c);
	return rc;
}

int pg_backup(struct bk_ctx *ctx, json_t *detail, struct err *e)
{
	const struct conf *conf = ctx->conf;
	struct pg_target t = { 0 };
	struct strlist dbs = STRLIST_INIT;
	json_t *jdbs = json_object();
	int port = (int)conf_num(conf, "postgres", "port"), rc = -1;

	t.user = conf_str(conf, "postgres", "user");
	t.password = conf_str(conf, "postgres", "password");
	snprintf(t.timeout, sizeof(t.timeout), "%lld",
		 conf_num(conf, "server", "connect_timeout") / 1000 + 1);
	if (conf_num(conf, "postgres", "tunnel") && !xport_is_local(ctx->x)) {
		if (xport_forward(ctx->x, conf_str(conf, "postgres", "host"), port,
				  &t.host, &port, e) < 0)
			goto out;
	} else {
		t.host = xstrdup(conf_str(conf, "postgres", "host"));
	}
	snprintf(t.port, sizeof(t.port), "%d", port);
	if (list_databases(&t, conf, &dbs, e) < 0)
		goto out;
	for (size_t i = 0; i < dbs.n; i++)
		if (backup_db(ctx, &t, dbs.v[i], jdbs, e) < 0)
			goto out;
	rc = 0;
out:
	json_object_set_new(detail, "databases", jdbs);
	strlist_release(&dbs);
	free(t.host);
	return rc;
}

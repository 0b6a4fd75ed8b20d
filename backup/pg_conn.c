#include "backup/pg_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "net/xport.h"
#include "backup/component.h"
#include "backup/pg_xfer.h"
#include "conf/conf.h"

/* PGSSLMODE asks for TLS whatever the transport. */
static int wants_tls(void)
{
	const char *m = getenv("PGSSLMODE");

	return m && (!strcmp(m, "require") || !strcmp(m, "verify-ca") ||
		     !strcmp(m, "verify-full"));
}

int pg_target_conf(struct pg_target *t, const struct conf *conf,
		   struct xport *x, struct err *e)
{
	const char *host = conf_str(conf, "postgres", "host");
	int port = (int)conf_num(conf, "postgres", "port");
	char name[32];

	memset(t, 0, sizeof(*t));
	t->user = conf_str(conf, "postgres", "user");
	t->password = conf_str(conf, "postgres", "password");
	snprintf(t->timeout, sizeof(t->timeout), "%lld",
		 conf_num(conf, "server", "connect_timeout") / 1000 + 1);
	snprintf(t->port, sizeof(t->port), "%d", port);
	if (!x || !conf_num(conf, "postgres", "tunnel") || xport_is_local(x)) {
		t->host = xstrdup(host);
		return 0;
	}
	t->via = xstrfmt(" (%s:%d through the SSH tunnel)", host, port);
	/* libpq never negotiates TLS on a Unix socket. */
	if (wants_tls()) {
		if (xport_forward(x, host, port, &t->host, &port, e) < 0)
			return -1;
		snprintf(t->port, sizeof(t->port), "%d", port);
		return 0;
	}
	/* A Unix socket, named as libpq looks for one in a host directory:
	 * cheaper than loopback TCP for every byte, and no other local user
	 * can use the tunnel. */
	snprintf(name, sizeof(name), ".s.PGSQL.%d", port);
	return xport_forward_unix(x, host, port, name, &t->host, e);
}

void pg_target_url(struct pg_target *t, const char *url)
{
	memset(t, 0, sizeof(*t));
	t->url = xstrdup(url);
	snprintf(t->timeout, sizeof(t->timeout), "10");
}

void pg_target_release(struct pg_target *t)
{
	free(t->url);
	free(t->host);
	free(t->via);
	t->url = t->host = t->via = NULL;
}

int pg_errlen(const char *msg)
{
	return (int)strcspn(msg, "\n");
}

long long pg_num(const char *s, long long bad)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	return (end == s || *end || errno) ? bad : v;
}

char *pg_quote_ident(const char *name)
{
	struct buf b = BUF_INIT;

	buf_addch(&b, '"');
	for (; *name; name++) {
		if (*name == '"')
			buf_addch(&b, '"');
		buf_addch(&b, *name);
	}
	buf_addch(&b, '"');
	return buf_detach(&b, NULL);
}

const char *pg_sqlstate(const PGresult *r)
{
	const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

static PGconn *connect_db(const struct pg_target *t, const char *db)
{
	/* With a URL, libpq expands the first dbname and lets the later
	 * entries override it: the database is always ours to choose. */
	const char *keys[9], *vals[9];
	int n = 0;

	if (t->url) {
		keys[n] = "dbname", vals[n++] = t->url;
	} else {
		keys[n] = "host", vals[n++] = t->host;
		keys[n] = "port", vals[n++] = t->port;
		keys[n] = "user", vals[n++] = t->user;
		if (t->password)
			keys[n] = "password", vals[n++] = t->password;
	}
	keys[n] = "dbname", vals[n++] = db;
	keys[n] = "connect_timeout", vals[n++] = t->timeout;
	keys[n] = "application_name", vals[n++] = "ferry";
	keys[n] = "options", vals[n++] = PG_SESSION_OPTIONS;
	keys[n] = NULL, vals[n] = NULL;
	return PQconnectdbParams(keys, vals, t->url != NULL);
}

/* Why c's server will not let a session into db: "" when it will,
 * NULL when c cannot say. */
static const char *db_unusable(PGconn *c, const char *db)
{
	const char *const params[1] = { db };
	PGresult *r = PQexecParams(c, "SELECT datallowconn FROM pg_database "
				   "WHERE datname = $1", 1, NULL, params, NULL,
				   NULL, 0);
	const char *why = NULL;

	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		why = !PQntuples(r) ? "does not exist" :
		      strcmp(PQgetvalue(r, 0, 0), "t") ?
		      "does not allow connections" : "";
	PQclear(r);
	return why;
}

/* Whether the server, reached in its maintenance database, will not let
 * a session into db: asked only after a connection to db was refused,
 * so that a misspelt name is a bad name, not a lost link. */
static int db_refused(const struct pg_target *t, const char *db)
{
	PGconn *c;
	const char *why = NULL;

	if (!strcmp(db, "postgres"))
		return 0;
	c = connect_db(t, "postgres");
	if (PQstatus(c) == CONNECTION_OK)
		why = db_unusable(c, db);
	PQfinish(c);
	return why && *why;
}

PGconn *pg_open(const struct pg_target *t, const char *db, struct err *e)
{
	PGconn *c = connect_db(t, db);

	if (PQstatus(c) != CONNECTION_OK) {
		const char *msg = PQerrorMessage(c);
		/* The server itself refused (a lost or silent link never
		 * says FATAL): it may only lack the database.  A server
		 * that speaks another language keeps FX_CONN. */
		int refused = strstr(msg, "FATAL:") != NULL;

		err_set(e, refused && db_refused(t, db) ? FX_FAIL : FX_CONN,
			"postgres %s%s: %.*s", db, t->via ? t->via : "",
			pg_errlen(msg), msg);
		PQfinish(c);
		return NULL;
	}
	PQsetClientEncoding(c, "UTF8");
	return c;
}

int pg_exec(PGconn *c, const char *sql, const char *what, struct err *e)
{
	PGresult *r = PQexec(c, sql);
	int st = PQresultStatus(r), ok;

	ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok) {
		const char *msg = PQerrorMessage(c);

		err_set(e, FX_FAIL, "postgres %s: %.*s", what, pg_errlen(msg),
			msg);
	}
	PQclear(r);
	return ok ? 0 : -1;
}

PGresult *pg_query(PGconn *c, const char *sql, const char *what,
		   struct err *e)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *msg = PQerrorMessage(c);

		err_set(e, FX_FAIL, "postgres %s: %.*s", what, pg_errlen(msg),
			msg);
		PQclear(r);
		return NULL;
	}
	return r;
}

int pg_check(struct bk_ctx *ctx, struct buf *detail, struct err *e)
{
	struct strlist dbs = STRLIST_INIT;
	struct pg_target t;
	struct pgx xf = { 0 };
	const char *db;
	PGconn *c = NULL;
	int r = -1;

	conf_list(ctx->conf, "postgres", "databases", &dbs);
	db = dbs.n && strcmp(dbs.v[0], "all") ? dbs.v[0] : "postgres";
	if (pg_target_conf(&t, ctx->conf, ctx->x, e) < 0)
		goto out;
	c = pg_open(&t, db, e);
	if (!c)
		goto out;
	buf_printf(detail, "PostgreSQL %s, database %s",
		   PQparameterStatus(c, "server_version"), PQdb(c));
	/* A backup connects to every one it names: each must be there. */
	for (size_t i = 1; i < dbs.n; i++) {
		const char *why = db_unusable(c, dbs.v[i]);

		if (why && *why) {
			err_set(e, FX_FAIL, "postgres: database %s %s on the "
				"server ([postgres] databases)", dbs.v[i], why);
			goto out;
		}
	}
	/* Which way a backup's data will travel, and why. */
	if (pgx_choose(&xf, ctx->conf, ctx->x, 1, e) < 0)
		goto out;
	buf_printf(detail, "; transfer: %s (%s)", pgx_name(&xf), xf.why);
	r = 0;
out:
	pgx_release(&xf);
	PQfinish(c);
	pg_target_release(&t);
	strlist_release(&dbs);
	return r;
}

/*
 * pg_conn: how ferry reaches PostgreSQL, shared by backup and restore: the
 * configured server (through an SSH tunnel when [postgres] tunnel says so) or
 * a connection URL, and the few libpq calls every caller needs with errors
 * that name the database and the statement.
 */
#ifndef FERRY_PG_CONN_H
#define FERRY_PG_CONN_H

#include <libpq-fe.h>

#include "util/err.h"

struct conf;
struct xport;

/* ferry's session settings, as libpq's options (and PGOPTIONS for psql on
 * the server): the same COPY text whichever way it travels. */
#define PG_SESSION_OPTIONS "-c search_path= -c TimeZone=UTC " \
	"-c statement_timeout=0 -c idle_in_transaction_session_timeout=0 " \
	"-c DateStyle=ISO -c extra_float_digits=3 " \
	"-c client_min_messages=warning"

struct pg_target {
	char *url;		/* --target-url: a libpq URL or conninfo */
	char *host;
	char port[16];
	const char *user;
	const char *password;
	char timeout[24];
	char *via;		/* " (host:port through ...)" for errors, or NULL */
};

/* [postgres] of conf, tunnelled through x when configured (x may be NULL
 * for host = local). */
int pg_target_conf(struct pg_target *t, const struct conf *conf,
		   struct xport *x, struct err *e)
	__attribute__((warn_unused_result));
/* A URL; the password comes from PGPASSWORD or ~/.pgpass, never argv. */
void pg_target_url(struct pg_target *t, const char *url);
void pg_target_release(struct pg_target *t);

/* A session on db with ferry's settings (search_path '', UTC, no
 * statement timeout); on failure FX_FAIL when the server has no such
 * database, else FX_CONN. */
PGconn *pg_open(const struct pg_target *t, const char *db, struct err *e);

/* A command or query that returns no rows we need; what names it. */
int pg_exec(PGconn *c, const char *sql, const char *what, struct err *e)
	__attribute__((warn_unused_result));
/* A query's rows, or NULL with e set; caller PQclear()s. */
PGresult *pg_query(PGconn *c, const char *sql, const char *what,
		   struct err *e);
/* The first line of libpq's last error. */
int pg_errlen(const char *msg);
/* s as a whole decimal integer, or bad when it is not one. */
long long pg_num(const char *s, long long bad);
/* "name" with embedded quotes doubled (always quoted, so always right);
 * caller frees. */
char *pg_quote_ident(const char *name);
/* The server's SQLSTATE of r ("" when none). */
const char *pg_sqlstate(const PGresult *r);

#endif

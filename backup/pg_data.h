/*
 * pg_data: one database's tables copied into the archive, by the
 * sessions (or, on the server path, psql on the server) that share the
 * database's exported snapshot; pg_backup.c sets the run up.
 */
#ifndef FERRY_PG_DATA_H
#define FERRY_PG_DATA_H

#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>

#include "util/err.h"

struct bk_ctx;
struct pgx;
struct pgx_out;

struct table {
	char *schema, *name;
	char *cols;		/* quoted column list, "" when none */
	json_t *columns;	/* the same as names, for the manifest */
	json_t *result;		/* its manifest entry once copied */
	long long size;		/* on disk as relpages says, to choose its
				 * path (pg_relation_size() would take a
				 * lock before the lock_timeout is set) */
	struct pgx_out *ahead;	/* its psql on the server, started early */
	int chained;		/* ahead is a chain's (pgx_out_chain) */
};

/* One database's copy, shared by its worker threads. */
struct dbrun {
	struct bk_ctx *ctx;
	const char *db;
	const struct pgx *xf;	/* how the data travels */
	const char *snap;	/* the exported snapshot, or NULL */
	struct table *t;	/* biggest first */
	size_t n, next, end;	/* t[next..end) are left */
	pthread_mutex_t mu;
	int failed;
	struct err err;		/* the first failure */
	int ahead_started;	/* a COPY began before its worker read it */
	int spares;		/* each worker may keep a psql ready */
};

struct worker {
	struct dbrun *run;
	PGconn *c;
	pthread_t tid;
	struct pgx_out *spare;	/* psql connected for the next table */
	int tunnel;		/* takes only tables for the tunnel (from
				 * the end: the server's take the biggest) */
	struct table *next;	/* taken, its COPY started on that psql */
};

/* The first failure is the run's (1: this one); the other workers stop
 * at their next table or piece. */
int pgdata_fail(struct dbrun *run, const struct err *e);
/* t's COPY begins on t->ahead (given run->snap) before its worker reads
 * it: the largest table's while the catalogs are read, the next table's
 * while the last one's output still arrives.  What it sends meanwhile
 * waits in the channel. */
int pgdata_start_ahead(struct dbrun *run, PGconn *c, struct table *t,
		       struct err *e) __attribute__((warn_unused_result));
/* On a failure before such COPYs were read, or once the run failed:
 * cancels every COPY on the server that joined the snapshot, from c
 * (ending c's transaction), so that discarding them does not wait for
 * whole tables to stream. */
void pgdata_cancel_ahead(struct dbrun *run, PGconn *c);
/* Copies tables off the run until none is left or one failed; nowait: a
 * helper's session, whose locks must not queue.  Whatever w had ready is
 * ended or handed back to the run's tables (for pgdata_cancel_ahead). */
void pgdata_work(struct worker *w, int nowait);
/* pgdata_work(arg, 1) for pthread_create. */
void *pgdata_helper(void *arg);

#endif

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
};

/* One database's copy, shared by its worker threads. */
struct dbrun {
	struct bk_ctx *ctx;
	const char *db;
	const struct pgx *xf;	/* how the data travels */
	const char *snap;	/* the exported snapshot, or NULL */
	struct table *t;
	size_t n, next;
	pthread_mutex_t mu;
	int failed;
	struct err err;		/* the first failure */
	int ahead_started;	/* t[0]'s COPY began before the catalogs */
};

struct worker {
	struct dbrun *run;
	PGconn *c;
	pthread_t tid;
};

/* The first failure is the run's; the other workers stop at their next
 * table or piece. */
void pgdata_fail(struct dbrun *run, const struct err *e);
/* The largest table's COPY begins on the server while the catalogs are
 * read (t->ahead, given run->snap): what it sends meanwhile waits in the
 * channel. */
int pgdata_start_ahead(struct dbrun *run, PGconn *c, struct table *t,
		       struct err *e) __attribute__((warn_unused_result));
/* On a failure before that COPY was read: cancels it from c (ending c's
 * transaction), so that discarding it does not wait for the whole table
 * to stream. */
void pgdata_cancel_ahead(struct dbrun *run, PGconn *c);
/* Copies tables off the run until none is left or one failed; nowait: a
 * helper's session, whose locks must not queue. */
void pgdata_work(struct worker *w, int nowait);
/* pgdata_work(arg, 1) for pthread_create. */
void *pgdata_helper(void *arg);

#endif

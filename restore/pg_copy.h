/*
 * pg_copy: COPY ... FROM STDIN on a pool of connections.  The archive is
 * one stream, so the reader hands each table's bytes to a worker thread
 * with its own session; workers run their COPYs side by side.  A table
 * split into parts may be interleaved with others (a parallel backup wrote
 * it so): when every worker waits for more of its table, the pool opens
 * one more session rather than deadlock, so it never needs more than the
 * backup had.
 */
#ifndef FERRY_PG_COPY_H
#define FERRY_PG_COPY_H

#include <stddef.h>

#include "util/err.h"
#include "backup/pg_conn.h"
#include "backup/pg_xfer.h"

struct copy_pool;

/* done(arg, tag, rows) is called from a worker when a table's COPY ends. */
typedef void (*copy_done_fn)(void *arg, size_t tag, long long rows);

int copy_pool_new(struct copy_pool **out, const struct pg_target *t,
		  const char *db, int jobs, copy_done_fn done, void *arg,
		  struct err *e) __attribute__((warn_unused_result));
/* Tables the transfer path wants (pgx_wants(xf, bytes)) go to psql on
 * the server instead of this pool's own sessions; xf (NULL: none) must
 * outlive the pool.  spare (NULL: none), a pgx_in_spawn for this
 * database, serves the first such table; the pool owns it. */
void copy_pool_server(struct copy_pool *p, const struct pgx *xf,
		      struct pgx_in *spare);
/* Starts COPY into table (quoted, qualified) and its columns (" (a, b)" or
 * ""), bytes of COPY text long; *slot names it afterwards. */
int copy_pool_begin(struct copy_pool *p, const char *table, const char *cols,
		    long long bytes, size_t tag, int *slot, struct err *e)
	__attribute__((warn_unused_result));
/* Hands over data (malloc'd; the pool frees it). */
int copy_pool_write(struct copy_pool *p, int slot, void *data, size_t n,
		    struct err *e) __attribute__((warn_unused_result));
/* No more data for the slot's table. */
int copy_pool_end(struct copy_pool *p, int slot, struct err *e)
	__attribute__((warn_unused_result));
/* Waits until every COPY is over; the first failure, if any. */
int copy_pool_wait(struct copy_pool *p, struct err *e)
	__attribute__((warn_unused_result));
/* Stops the workers (failed COPYs are rolled back by the server). */
void copy_pool_free(struct copy_pool *p);

#endif

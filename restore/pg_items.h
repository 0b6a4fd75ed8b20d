/*
 * pg_items: running the items of a ferry SQL script (pg_schema's format)
 * one by one, or a phase's items on several sessions at once, with errors
 * that name the object and the statement.
 */
#ifndef FERRY_PG_ITEMS_H
#define FERRY_PG_ITEMS_H

#include "backup/pg_conn.h"
#include "backup/pg_schema.h"

struct items {
	struct pgs_item *v;
	size_t n;
};

/* Cuts text (which must outlive the items) into items; what names it. */
int items_parse(const char *text, size_t len, const char *what,
		struct items *out, struct err *e)
	__attribute__((warn_unused_result));
void items_free(struct items *it);

/* Runs v[0..n) in order on c. */
int items_run(PGconn *c, const char *db, const struct pgs_item *v, size_t n,
	      struct err *e) __attribute__((warn_unused_result));
#define ITEMS_JOBS_MAX 64

/* The same on up to jobs sessions to db at once (the items of one phase,
 * which do not depend on each other).  ses[0..jobs) are the sessions: a
 * NULL one is opened when needed and left there for the next phase; the
 * caller closes them. */
int items_run_parallel(const struct pg_target *t, const char *db, int jobs,
		       PGconn **ses, const struct pgs_item *v, size_t n,
		       struct err *e) __attribute__((warn_unused_result));

#endif

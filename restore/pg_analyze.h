/*
 * pg_analyze: a restored database's closing ANALYZE, its tables shared
 * out over several sessions; it goes on while the next database is
 * restored (pg_restore.c).
 */
#ifndef FERRY_PG_ANALYZE_H
#define FERRY_PG_ANALYZE_H

#include <libpq-fe.h>

#include "util/err.h"
#include "restore/pg_items.h"

struct pg_analyze {
	PGconn *ses[ITEMS_JOBS_MAX];	/* each with its statement sent */
	int n;
	int tables, used;	/* what the last start shared out */
};

/* Sends the ANALYZE of db's tables (listed on c) over ses[0..n), opening
 * the NULL ones on tg; the sessions it takes are NULL in ses afterwards
 * (c may be one of them).  Nothing to analyze: nothing sent. */
int pga_start(struct pg_analyze *a, PGconn *c, PGconn **ses, int n,
	      const struct pg_target *tg, const char *db, struct err *e)
	__attribute__((warn_unused_result));
/* Waits for every session's result and ends them; the first failure in
 * e, naming db. */
int pga_wait(struct pg_analyze *a, const char *db, struct err *e)
	__attribute__((warn_unused_result));
/* Ends the sessions without waiting (a failed restore). */
void pga_close(struct pg_analyze *a);

#endif

/*
 * pg_dbs: the databases a postgres restore works on.  What the archive
 * holds (each database's tables, their members and row counts), which of
 * them --db selected and under what names, and their targets: every one
 * checked before any is touched, then created from template0 with the
 * source's encoding, locale, comment and settings (--clean: dropped and
 * created again).
 */
#ifndef FERRY_RESTORE_PG_DBS_H
#define FERRY_RESTORE_PG_DBS_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "util/buf.h"
#include "util/err.h"
#include "backup/pg_conn.h"

struct xport;

struct pgdb_table {
	char *qname;		/* "schema"."table" */
	char *cols;		/* " (a, b)" or "" */
	char *member;
	unsigned nparts;	/* 0: one member under its own name */
	long long want, got;
	long long bytes;	/* of COPY text, to choose its path */
	int slot;		/* its COPY's slot once started, else -1 */
};

struct pgdb {
	const char *src;	/* the archive's name (in its manifest) */
	char *dst, *part;	/* the target's name; src as a member path */
	json_t *info;
	struct pgdb_table *t;
	size_t nt;
	int selected, exists, state;	/* state: 0 new, 1 pre done, 2 data
					 * and indexes done, 3 analyzed too */
	int created, cleaned;		/* by this restore; after --clean */
	long long rows;
	struct timespec t0, analyze_t0;
};

/* The manifest's databases (dbs, as its "databases"; failed, its
 * "failed_databases"), selected by map ("SRC=DST"; NULL or empty: all,
 * under their own names).  NULL and e set on a bad or unknown --db. */
struct pgdb *pgdb_select(json_t *dbs, json_t *failed, json_t *manifest,
			 const struct strlist *map, size_t *n, struct err *e);
/* Checks every selected target, changing nothing: user tables there are
 * refused unless clean. */
int pgdb_check(struct pgdb *d, size_t n, const struct pg_target *tg,
	       int clean, struct err *e) __attribute__((warn_unused_result));
/* After pgdb_check(): creates them (clean: drops those that exist
 * first).  xp (NULL: none) is the tunnel the sessions go through: a
 * CREATE cut off by its loss is counted as made. */
int pgdb_create(struct pgdb *d, size_t n, const struct pg_target *tg,
		int clean, struct xport *xp, struct err *e)
	__attribute__((warn_unused_result));
/* DROP DATABASE name on admin, WITH (FORCE) where the server has it. */
int pgdb_drop(PGconn *admin, const char *name, struct err *e)
	__attribute__((warn_unused_result));
/* The table of d whose data member is name (after "postgres/<db>/"),
 * with *last set when it is the table's last part; NULL: none. */
struct pgdb_table *pgdb_table(struct pgdb *d, const char *name, int *last);
/* Every table got the rows the manifest says (adds them up in d->rows). */
int pgdb_counted(struct pgdb *d, struct err *e)
	__attribute__((warn_unused_result));
void pgdb_free(struct pgdb *d, size_t n);

#endif

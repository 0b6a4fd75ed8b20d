/*
 * pg_schema: a database's schema generated from its catalogs (no pg_dump
 * binary), as two SQL scripts a restore runs around the data:
 *
 *   pre-data.sql   schemas, extensions, types, functions, sequences, tables,
 *                  views, materialized views, comments — in dependency
 *                  order (pg_depend, topologically sorted);
 *   post-data.sql  constraints, indexes, foreign keys, triggers, rules,
 *                  row-level security, statistics objects, then the
 *                  REFRESHes, sequence values, and ownership and grants.
 *
 * Both are plain SQL (psql -f runs them) cut into items, each headed by
 *
 *   -- ferry-item <n> <phase> <kind>: <name>
 *
 * with n counting from 1, so a restore can run them one by one, in
 * parallel where the phase allows, and name the object a failure is about.
 * Phases: pre; index, attach, fk, post, refresh, seqval, acl.
 *
 * Everything the catalogs hold that ferry does not reproduce is reported in
 * unsupported ([{kind, name}]) instead of being dropped silently.
 */
#ifndef FERRY_PG_SCHEMA_H
#define FERRY_PG_SCHEMA_H

#include <jansson.h>
#include <libpq-fe.h>

#include "util/buf.h"
#include "util/err.h"

#define PGS_ITEM_TAG "-- ferry-item "

/* c is inside the backup's snapshot with search_path = ''. */
int pgs_dump(PGconn *c, int owners, struct buf *pre, struct buf *post,
	     json_t *unsupported, struct err *e)
	__attribute__((warn_unused_result));

/* One item of a script, as pgs_next() finds it (pointers into the text). */
struct pgs_item {
	unsigned long n;
	char phase[16];
	const char *label;	/* "<kind>: <name>" up to the end of line */
	size_t label_len;
	const char *sql;
	size_t sql_len;
};

/* Iterates the items of text: *pos starts at 0; returns 1 with *it filled,
 * 0 at the end, -1 when text is not a ferry script. */
int pgs_next(const char *text, size_t len, size_t *pos, struct pgs_item *it);

#endif

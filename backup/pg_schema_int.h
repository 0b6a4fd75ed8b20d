/*
 * Shared by the pg_schema*.c files: the SQL fragments that pick user
 * objects, and the item writer.
 */
#ifndef FERRY_PG_SCHEMA_INT_H
#define FERRY_PG_SCHEMA_INT_H

#include "backup/pg_schema.h"

/* A namespace alias n that holds user objects. */
#define USER_NS "n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
/* The object is not made by another one: a member of an extension, or a
 * function or cast that CREATE TYPE made (a table's internal dependency on
 * its own partition key does not count). */
#define NOT_EXT(cat, oid) \
	" NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '" cat \
	"'::regclass AND x.objid = " oid " AND (x.deptype = 'e' OR (x.deptype " \
	"= 'i' AND x.refobjid <> " oid "))) "
/* Only: not a member of an extension. */
#define NOT_EXT_MEMBER(cat, oid) \
	" NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '" cat \
	"'::regclass AND x.objid = " oid " AND x.deptype = 'e') "
/* A COMMENT ON ... IS ... statement after a newline, or '' without one. */
#define COMMENT_SQL(what, desc) \
	"CASE WHEN " desc " IS NOT NULL THEN format(E'\\nCOMMENT ON %s IS %L;', " \
	what ", " desc ") ELSE '' END "

/* A pg_proc p's kind word and signature (aggregates without arguments: *). */
#define PROC_WORD "CASE p.prokind WHEN 'a' THEN 'AGGREGATE' WHEN 'p' " \
	"THEN 'PROCEDURE' ELSE 'FUNCTION' END"
#define PROC_SIG "format('%I.%I(%s)', n.nspname, p.proname, CASE WHEN " \
	"p.prokind = 'a' AND p.pronargs = 0 THEN '*' ELSE " \
	"pg_get_function_identity_arguments(p.oid) END)"

struct pgs_out {
	struct buf *b;
	unsigned long n;
};

void pgs_emit(struct pgs_out *o, const char *phase, const char *kind,
	      const char *name, const char *sql);

struct pgs_ctx {
	PGconn *c;
	int version;		/* server_version_num */
	int owners;
	json_t *unsupported;
};

/* Runs sql (a query of user objects) and reports its failure in e. */
PGresult *pgs_query(struct pgs_ctx *x, const char *sql, const char *what,
		    struct err *e);

/* sql with every token replaced by val (version-dependent SQL). */
char *pgs_subst(const char *sql, const char *token, const char *val);

/* CREATE TABLE for every user table, into the object graph. */
struct pgs_graph;
int pgs_tables(struct pgs_ctx *x, struct pgs_graph *g, struct err *e);
/* Adds one object; deps is "classid:oid ..." of extra dependencies or NULL. */
void pgs_graph_add(struct pgs_graph *g, unsigned classid, unsigned oid,
		   const char *kind, const char *name, const char *sql,
		   const char *deps);

/* Everything after the data. */
int pgs_post(struct pgs_ctx *x, struct pgs_out *o, struct err *e);
int pgs_acl(struct pgs_ctx *x, struct pgs_out *o, struct err *e);
int pgs_unsupported(struct pgs_ctx *x, struct err *e);

#endif

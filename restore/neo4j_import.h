/*
 * neo4j_import: the state of a cypher-mode restore, shared by its steps
 * (restore/neo4j_import.c) and its batches (restore/neo4j_batch.c).
 */
#ifndef FERRY_RESTORE_NEO4J_IMPORT_H
#define FERRY_RESTORE_NEO4J_IMPORT_H

#include <jansson.h>
#include <time.h>

#include "util/buf.h"
#include "util/err.h"
#include "restore/neo4j_restore.h"

struct neo4j;
struct xport;

#define NI_LABEL "`__FerryImport`"
#define NI_IDKEY "`__ferry_id`"
#define NI_MARKER "`__FerryImportBatch`"
#define NI_TMP_INDEX "ferry_import_id"
#define NI_TMP_UNIQUE "ferry_import_batch"
#define NI_PART_MAX (64u << 20)
#define NI_BATCH_BYTES (4u << 20)
#define NI_SEND_TRIES 4

enum { ST_NEW, ST_SCHEMA, ST_DONE };
enum { PEND_NONE, PEND_SCHEMA, PEND_NODES, PEND_RELS };

struct idb {
	struct nr_target *t;
	char *dir;			/* "neo4j/<src>/" */
	unsigned parts[2];		/* nodes, relationships: 0 = one member */
	int state, touched, cleaned;
	struct strlist made;		/* constraints this restore created */
	json_t *indexes;		/* created at the end */
	struct buf carry;		/* a line cut at a part's end */
	long long done[2], bytes;	/* nodes, relationships restored */
	struct timespec t0;
};

/* Rows of one shape (labels or type, and typed keys) in a batch. */
struct group {
	char *sig, *stmt;
	json_t *rows;
};

struct imp {
	struct rs_ctx *x;
	struct xport *xp;
	struct neo4j *n;
	struct nr_target *tg;
	struct idb *d;
	size_t nd;
	long long batch_rows, timeout_s, batch_no;
	/* the batch being filled */
	struct group *g;
	size_t ng, rows, bytes;
	/* what the member just read staged */
	int pend, pend_last;
	struct idb *pend_db;
	struct buf text;
};

/* One read statement on db (retried); *res may be NULL. */
int ni_run(struct imp *p, const char *db, const char *text, json_t *params,
	   json_t **res, struct err *e) __attribute__((warn_unused_result));
/* The first column of the first row, as an integer. */
long long ni_count(json_t *res);

/* The complete lines of p->text (after what d carried) into batches of
 * p->batch_rows, each run in one transaction; the last line cut at the
 * part's end is carried to the next.  last: the member's last part. */
int ni_lines(struct imp *p, struct idb *d, int rels, int last, struct err *e)
	__attribute__((warn_unused_result));
/* Drops the batch being gathered. */
void ni_groups_free(struct imp *p);

#endif

/*
 * component: one source of data (postgres, minio, redis, neo4j, logs,
 * files), as one table entry: how it is backed up and how `ferry check`
 * tests it.  A component writes its members under its own folder and
 * describes them in its manifest detail; a failure is returned, recorded in
 * the manifest, and the run goes on with the others.  The way back is
 * restore/restorer.c's table.
 */
#ifndef FERRY_BACKUP_COMPONENT_H
#define FERRY_BACKUP_COMPONENT_H

#include <jansson.h>

#include "util/buf.h"
#include "util/err.h"

struct conf;
struct xport;
struct arc;
struct compose_opts;

struct bk_ctx {
	const struct conf *conf;
	struct xport *x;
	struct arc *arc;	/* NULL for a check */
	const struct compose_opts *compose;	/* compose on the server */
	struct buf *summary;	/* what it backed up, for the run's report
				 * ("2 databases, 41 tables, 1200 rows") */
	int landed;		/* set by a component that failed but whose
				 * archived part is good and restorable (the
				 * databases that were not locked) */
};

struct component {
	const char *name;
	const char *section;	/* configured when the file has it */
	int (*run)(struct bk_ctx *ctx, json_t *detail, struct err *e);
	/* One cheap, authenticated round trip for `ferry check`: detail says
	 * what answered ("PostgreSQL 16.2, database app").  NULL: no row. */
	int (*check)(struct bk_ctx *ctx, struct buf *detail, struct err *e);
	const char *row;	/* check's row name (default: name) */
};

/* The table of components, NULL-name terminated. */
extern const struct component components[];
const struct component *component_find(const char *name);
/* How many components the table holds. */
size_t component_count(void);

/* "a/b%c" -> "a%2Fb%25c": a name that is safe as one archive path part. */
char *component_member_part(const char *name);
/* "a//b/../.env" -> "a/b/%2E./.env": a path as archive path parts, each
 * part kept as it is but for '%', control bytes, bytes that are not
 * UTF-8 ("bad\377" -> "bad%FF") and the "." and ".." parts, which are
 * escaped. */
char *component_member_path(const char *path);

int pg_backup(struct bk_ctx *ctx, json_t *detail, struct err *e);
int pg_check(struct bk_ctx *ctx, struct buf *detail, struct err *e);
int redis_check(struct bk_ctx *ctx, struct buf *detail, struct err *e);
int minio_check(struct bk_ctx *ctx, struct buf *detail, struct err *e);
int neo4j_check(struct bk_ctx *ctx, struct buf *detail, struct err *e);
int minio_backup(struct bk_ctx *ctx, json_t *detail, struct err *e);
int redis_backup(struct bk_ctx *ctx, json_t *detail, struct err *e);
int logs_backup(struct bk_ctx *ctx, json_t *detail, struct err *e);
int logs_check(struct bk_ctx *ctx, struct buf *detail, struct err *e);
int files_backup(struct bk_ctx *ctx, json_t *detail, struct err *e);
int files_check(struct bk_ctx *ctx, struct buf *detail, struct err *e);
int neo4j_backup(struct bk_ctx *ctx, json_t *detail, struct err *e);

#endif

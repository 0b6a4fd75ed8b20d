/*
 * component: one source of data in a backup run (postgres now; minio,
 * redis, neo4j, logs and files later).  A component writes its members under
 * its own folder and describes them in its manifest detail; a failure is
 * returned, recorded in the manifest, and the run goes on with the others.
 */
#ifndef FERRY_COMPONENT_H
#define FERRY_COMPONENT_H

#include <jansson.h>

#include "agent/err.h"

struct conf;
struct xport;
struct arc;

struct bk_ctx {
	const struct conf *conf;
	struct xport *x;
	struct arc *arc;
};

struct component {
	const char *name;
	const char *section;	/* configured when the file has it */
	int (*run)(struct bk_ctx *ctx, json_t *detail, struct err *e);
};

/* The table of components, NULL-name terminated. */
extern const struct component components[];
const struct component *component_find(const char *name);

/* "a/b%c" -> "a%2Fb%25c": a name that is safe as one archive path part. */
char *component_member_part(const char *name);

int pg_backup(struct bk_ctx *ctx, json_t *detail, struct err *e);

#endif

/*
 * neo4j_int: the neo4j component's two ways of backing up, behind
 * neo4j_backup() (backup/neo4j.c).  Each fills the component's manifest
 * detail with "databases".
 */
#ifndef FERRY_BACKUP_NEO4J_INT_H
#define FERRY_BACKUP_NEO4J_INT_H

#include <jansson.h>

#include "util/err.h"

struct bk_ctx;

/* mode = cypher: nodes, relationships and schema over the HTTP API. */
int neo4j_export(struct bk_ctx *ctx, json_t *detail, struct err *e)
	__attribute__((warn_unused_result));
/* mode = dump: neo4j-admin database dump with the service stopped. */
int neo4j_dump_backup(struct bk_ctx *ctx, json_t *detail, struct err *e)
	__attribute__((warn_unused_result));

#endif

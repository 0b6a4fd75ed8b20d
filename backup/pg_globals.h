/*
 * pg_globals: the cluster-wide part of a PostgreSQL backup (roles), as a
 * pg_schema-style script of "globals" items, and what the cluster keeps
 * of each database outside it.
 */
#ifndef FERRY_PG_GLOBALS_H
#define FERRY_PG_GLOBALS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "util/buf.h"
#include "util/err.h"

int pg_globals(PGconn *c, int passwords, struct buf *out, struct err *e)
	__attribute__((warn_unused_result));
/* What a restore needs to create db as it was: encoding, locale, comment
 * and the settings made with ALTER DATABASE / ALTER ROLE ... IN DATABASE
 * ({"encoding", "collate", "ctype"[, "comment"][, "settings"]}). */
json_t *pg_db_info(PGconn *c, const char *db, struct err *e);

#endif

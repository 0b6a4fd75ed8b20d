/*
 * pg_globals: the cluster-wide part of a PostgreSQL backup (roles), as a
 * pg_schema-style script of "globals" items.
 */
#ifndef FERRY_PG_GLOBALS_H
#define FERRY_PG_GLOBALS_H

#include <libpq-fe.h>

#include "util/buf.h"
#include "util/err.h"

int pg_globals(PGconn *c, int passwords, struct buf *out, struct err *e)
	__attribute__((warn_unused_result));

#endif

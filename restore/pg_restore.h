/*
 * pg_restore: the postgres restorer's table entry (see restorer.h).
 */
#ifndef FERRY_RESTORE_PG_RESTORE_H
#define FERRY_RESTORE_PG_RESTORE_H

#include "restore/restorer.h"

extern const struct restorer pg_restorer;

#endif

/*
 * redis_restore: the redis restorer's table entry (see restorer.h).
 */
#ifndef FERRY_RESTORE_REDIS_RESTORE_H
#define FERRY_RESTORE_REDIS_RESTORE_H

#include "restore/restorer.h"

extern const struct restorer redis_restorer;

#endif

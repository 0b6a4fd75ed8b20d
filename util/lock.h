/*
 * lock: an exclusive, advisory lock on a file (flock), holding the owner's
 * pid and start time so a refused caller can say who holds it.  The kernel
 * drops the lock when the process dies, so a crash never leaves it stale.
 */
#ifndef FERRY_UTIL_LOCK_H
#define FERRY_UTIL_LOCK_H

#include "util/err.h"

struct lock {
	int fd;			/* -1 when not held */
	char *path;
};

#define LOCK_INIT { -1, NULL }

/* Takes the lock at path without waiting; FX_LOCKED naming the holder when
 * another process has it. */
int lock_take(struct lock *l, const char *path, struct err *e)
	__attribute__((warn_unused_result));
void lock_release(struct lock *l);
/* 1 if some process holds the lock at path, 0 if not (or no file). */
int lock_is_held(const char *path);

#endif

/*
 * redis: what the redis component shares with its restorer.
 */
#ifndef FERRY_BACKUP_REDIS_H
#define FERRY_BACKUP_REDIS_H

#include "util/err.h"

struct conf;
struct xport;

/* The configured Redis through x's tunnel, authenticated ([redis] user,
 * password), with bounded retries (util/retry.h): the socket, or -1. */
int redis_connect(const struct conf *c, struct xport *x, struct err *e);

#endif

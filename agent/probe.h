/*
 * probe: one cheap, authenticated round trip to each kind of service, for
 * `ferry check`.  Each fills detail with what it learnt ("PostgreSQL 15.8")
 * or returns -1 with the reason in e.  host:port are as reachable from here
 * (already tunnelled).
 */
#ifndef FERRY_PROBE_H
#define FERRY_PROBE_H

#include "agent/buf.h"
#include "agent/err.h"

struct probe_target {
	const char *host;
	int port;
	const char *user;
	const char *password;
	const char *database;
	long long timeout_ms;
};

int probe_postgres(const struct probe_target *t, struct buf *detail,
		   struct err *e);
int probe_redis(const struct probe_target *t, struct buf *detail,
		struct err *e);
/* url: the S3 endpoint rewritten to host:port; user/password are the
 * access and secret keys; database is the region. */
int probe_s3(const char *url, const struct probe_target *t,
	     struct buf *detail, struct err *e);
int probe_neo4j(const char *url, const struct probe_target *t,
		struct buf *detail, struct err *e);

#endif

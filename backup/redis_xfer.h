/*
 * redis_xfer: how the RDB crosses the wire.  Either the replication
 * stream through the SSH tunnel (the "tunnel" path), or `redis-cli --rdb -`
 * on the server, on the host or inside the container that publishes
 * Redis' port, its output compressed there by zstd (else gzip) on its way
 * to ferry (the "server" path).  Redis compresses long strings with LZF,
 * but keys, numbers, short values and encodings it leaves plain: zstd
 * still takes a third to a half off.  The password travels on the
 * command's stdin (REDISCLI_AUTH), never in its command line.
 *
 * [redis] transfer = auto | tunnel | server chooses, as [postgres]
 * transfer does (backup/probe.h): auto takes the server path when
 * redis-cli and a compressor are there and the measured link is slow.
 */
#ifndef FERRY_BACKUP_REDIS_XFER_H
#define FERRY_BACKUP_REDIS_XFER_H

#include "backup/fetch.h"
#include "net/rdb.h"
#include "util/err.h"

struct conf;
struct xport;

struct rdx {
	int server;		/* 1: the server path */
	enum fetch_codec codec;
	char *why;		/* why this path, for check and -v */
	char *ctr;		/* redis-cli's container, or NULL: the host */
	char *ctr_port;		/* Redis' port inside that container */
	double link_bps;	/* measured for auto; 0: not */
};

/* Chooses the path for conf's [redis] on x.  FX_REMOTE when transfer =
 * server cannot be had. */
int rdx_choose(struct rdx *r, const struct conf *conf, struct xport *x,
	       struct err *e) __attribute__((warn_unused_result));
/* "tunnel", "server (zstd)" or "server (gzip)", for the manifest. */
const char *rdx_name(const struct rdx *r);
void rdx_release(struct rdx *r);

/* The server path: runs redis-cli --rdb - and copies its RDB through
 * rdb_copy() into sink.  *diskless: whether the master sent the diskless
 * form. */
int rdx_copy(const struct rdx *r, const struct conf *conf, struct xport *x,
	     int (*sink)(void *, const void *, size_t, struct err *),
	     void *sink_arg, struct rdb_info *info, int *diskless,
	     struct err *e) __attribute__((warn_unused_result));

#endif

/*
 * neo4j_admin: neo4j-admin in a one-off container of the compose service
 * that runs Neo4j, on the same data volume, while the service is stopped
 * (Neo4j 5 Community dumps and loads only an offline database, and
 * stopping Neo4j inside its container stops the container):
 *
 *   compose stop -t SECONDS SERVICE          (if it is running)
 *   compose run --rm --no-deps -T --entrypoint neo4j-admin SERVICE \
 *       database dump --to-stdout DB | zstd   (or load --from-stdin ...)
 *   compose start SERVICE                    (also after a failure)
 *
 * Used by the dump-mode backup (backup/neo4j_dump.c) and its restore
 * (restore/neo4j_load.c).
 */
#ifndef FERRY_BACKUP_NEO4J_ADMIN_H
#define FERRY_BACKUP_NEO4J_ADMIN_H

#include "util/buf.h"
#include "util/err.h"

struct xport;
struct compose;
struct compose_opts;
struct conf;

enum nadmin_codec { NADMIN_NONE, NADMIN_GZIP, NADMIN_ZSTD };

struct nadmin {
	struct xport *x;
	struct compose *co;
	const char *service;
	long long timeout_ms;	/* stop's grace; the longest silence */
	enum nadmin_codec codec;	/* streams compressed on the server */
	int was_running;	/* when nadmin_stop() looked */
	int stopped;		/* by nadmin_stop(), not started since */
};

/* Compose on x (co from the program), [neo4j] service, timeout and
 * compress (auto: zstd, else gzip, else none, as the server has them). */
int nadmin_open(struct nadmin *a, struct xport *x,
		const struct compose_opts *co, const struct conf *c,
		struct err *e) __attribute__((warn_unused_result));
void nadmin_close(struct nadmin *a);

/* Stops the service if it runs (remembering that it did). */
int nadmin_stop(struct nadmin *a, struct err *e)
	__attribute__((warn_unused_result));
/* Starts it again if nadmin_stop() stopped it. */
int nadmin_start(struct nadmin *a, struct err *e)
	__attribute__((warn_unused_result));

/* The shell command running "neo4j-admin database ARGS..." in a one-off
 * container, appended to out. */
void nadmin_cmdline(struct nadmin *a, const char *const *args,
		    struct buf *out);

/* "zstd -q -c" / "gzip -c" for the server's side of a stream, or NULL. */
const char *nadmin_compressor(const struct nadmin *a);
const char *nadmin_decompressor(const struct nadmin *a);

/* 1 when neo4j-admin's output says the database needs recovery (it was
 * not shut down cleanly). */
int nadmin_unclean(const char *text);

#endif

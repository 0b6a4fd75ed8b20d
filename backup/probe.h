/*
 * probe: what the server has for the sources' exec paths, asked in one
 * exec, and how fast the link is.  The script prints a line per thing it
 * found; with rate, the exec then sends PROBE_BYTES zero bytes, timed as
 * they arrive: the link's speed as a stream would see it, encryption and
 * this machine's CPU included.
 *
 * The exec paths (psql's COPY, redis-cli's RDB) compress on the server;
 * on a fast link ferry keeps to the tunnel instead: there compressing
 * twice (the server's zstd, then the archive's) costs more than the wire
 * saves.  PROBE_FAST_LINK is where that turns (bench/pg_slow, bench/redis).
 */
#ifndef FERRY_BACKUP_PROBE_H
#define FERRY_BACKUP_PROBE_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

struct xport;

#define PROBE_BYTES 1048576
#define PROBE_FAST_LINK 25000000	/* bytes/s */

/* Runs script; its output into out.  *bps: the link's rate when rate was
 * asked and the sample came back whole, else 0.  FX_REMOTE when the
 * script fails. */
int probe_run(struct xport *x, const char *script, int rate, struct buf *out,
	      double *bps, struct err *e) __attribute__((warn_unused_result));
/* Whether text has line as a whole line. */
int probe_has(const char *text, const char *line);
/* The rest of the last line that starts with prefix, or NULL (free it). */
char *probe_field(const char *text, const char *prefix);
/* Whether auto should compress on the server at this rate, and why, in
 * words: "the link carries 70.0 MB/s, over 25 MB/s: ...". */
int probe_slow(double bps, struct buf *why);
/* Runs script (probe_run; the rate asked unless want, transfer = server)
 * for who's path choice: 1 with the server's answer in out; 0 with *why
 * set when the server could not be asked, so auto keeps to the tunnel;
 * -1 with e when want needs tool and the server could not be asked. */
int probe_ask(struct xport *x, const char *script, const char *who,
	      const char *tool, int want, struct buf *out, double *bps,
	      char **why, struct err *e);
/* The path, once the tools are known (missing: what is not there, or
 * NULL): -1 with e (FX_REMOTE, prefixed by who) when transfer = server
 * (want) lacks one; 0 with *why set for the tunnel; 1 for the server
 * path, with what led there in lead ("transfer = server" or the rate). */
int probe_decide(struct xport *x, const char *who, const char *missing,
		 int want, double bps, char **why, struct buf *lead,
		 struct err *e);

#endif

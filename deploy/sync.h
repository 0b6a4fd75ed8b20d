/*
 * sync: make the server's copy of the project equal to the local tree, as
 * `rsync -a --delete` with the excludes would, over one SSH connection and
 * with nothing on the server but sh, find and tar:
 *   1. list the server's tree in one exec (deploy/remote.c);
 *   2. compare (size or mtime, or --checksum);
 *   3. send new and changed entries as one tar stream (zstd/gzip/none) into
 *      a staging folder on the server, then rename each into place (per
 *      file, atomic: every file is old or new, never half-written);
 *   4. delete what is gone locally, except anything the excludes match.
 */
#ifndef FERRY_SYNC_H
#define FERRY_SYNC_H

#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

struct conf;
struct xport;
struct remote_prelude;

struct sync_opts {
	int dry_run;
	int checksum;
	int adopt;		/* let ferry manage a tree it did not create */
	FILE *itemize;		/* rsync-style change lines, or NULL */
	/* run in the listing's exec (deploy/remote.h), or NULL */
	const struct remote_prelude *prelude;
};

struct sync_stats {
	size_t files;		/* entries sent */
	uint64_t bytes;		/* file bytes sent */
	size_t deleted;
	size_t unchanged;
	double seconds;
	int foreign;		/* remote_dir is not ferry's: nothing deleted */
};

/* The local side's walk, started early (before the deploy lock) so that
 * it runs beside the lock and the server's listing; sync_run() waits for
 * it.  A config error in the exclude rules fails here. */
struct sync_walk;
int sync_walk_start(const struct conf *c, struct sync_walk **out,
		    struct err *e) __attribute__((warn_unused_result));
void sync_walk_free(struct sync_walk *w);
/* Does a deploy leave path (relative to local_dir, as [deploy] require
 * names it) out, by the walk's rules (built-ins, exclude, ignore files)?
 * A path outside the tree (absolute, or with "..") is never sent: 1.
 * Waits for the walk. */
int sync_walk_excluded(struct sync_walk *w, const char *path);

/* walk: from sync_walk_start() (still the caller's to free, and reusable
 * after a 1), or NULL for one of its own.  1: the prelude stopped the
 * listing (remote_scan()), nothing done. */
int sync_run(const struct conf *c, struct xport *x, const struct sync_opts *o,
	     struct sync_walk *walk, struct sync_stats *st, struct err *e)
	__attribute__((warn_unused_result));

#endif

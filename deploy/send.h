/*
 * send: new and changed entries as one tar stream (libarchive) into the
 * server's tar, unpacked into a staging folder inside remote_dir and then
 * renamed into place entry by entry (by one perl process, or the shell
 * where there is no perl), so no file is ever half-written under its final
 * name.  Staging left by an interrupted run is removed by the next remote
 * scan.
 */
#ifndef FERRY_SEND_H
#define FERRY_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "deploy/tree.h"

struct xport;

enum send_codec { CODEC_NONE, CODEC_GZIP, CODEC_ZSTD };

struct send_list {
	const struct fentry **v;
	size_t n;
};

struct send_lists {
	struct send_list send;		/* local entries to ship */
	struct send_list retype;	/* remote entries removed first */
	struct send_list chmod;		/* local dirs whose mode changes */
	struct send_list del;		/* remote entries removed last */
};

/* One exec: ship, place, chmod, delete.  rdir must be the physical path
 * the remote scan reported. */
int send_entries(struct xport *x, const char *local_root, const char *rdir,
		 const struct send_lists *l, enum send_codec codec,
		 uint64_t *bytes, struct err *e)
	__attribute__((warn_unused_result));

#endif

/*
 * member: one archive member as a restorer reads it.  Everything read goes
 * through rs_read(), which hashes it, so the driver can compare the member
 * with the manifest once the restorer is done with it.
 */
#ifndef FERRY_RESTORE_MEMBER_H
#define FERRY_RESTORE_MEMBER_H

#include <archive.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/sha256.h"

struct restore_stop;

struct rs_member {
	const char *name;
	struct archive *a;
	struct sha256 *md;
	uint64_t size;
	const struct restore_stop *stop;	/* NULL: none */
};

/* -1 with e set ("interrupted by SIGINT") once s (NULL: never) was
 * stopped, else 0. */
int rs_stopped(const struct restore_stop *s, struct err *e)
	__attribute__((warn_unused_result));
/* Up to n bytes of the member; 0 at its end; -1 with e set (FX_VERIFY,
 * or the stop's error). */
ssize_t rs_read(struct rs_member *m, void *buf, size_t n, struct err *e);
/* The whole member into out, refusing more than max bytes. */
int rs_slurp(struct rs_member *m, struct buf *out, size_t max, struct err *e)
	__attribute__((warn_unused_result));

#endif

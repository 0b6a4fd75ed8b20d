/*
 * zout: a zstd-compressing writer into a file descriptor, multi-threaded
 * with small jobs (1 MiB) so memory stays bounded.  Used under libarchive
 * (archives, deploy streams) instead of libarchive's own zstd filter, which
 * cannot bound zstd's worker memory.  Into a regular file it starts the
 * write-out as it goes, so that a closing fsync has little left to wait.
 */
#ifndef FERRY_UTIL_ZOUT_H
#define FERRY_UTIL_ZOUT_H

#include <stddef.h>

struct zout;

/* threads <= 0: all cores.  NULL if zstd refuses the level. */
struct zout *zout_new(int fd, int level, int threads, int checksum);
/* 0, or -1 with the reason in zout_error(). */
int zout_write(struct zout *z, const void *buf, size_t len);
/* Ends the frame. */
int zout_end(struct zout *z);
/* Ends the frame if anything was written since the last end, then writes
 * buf as it is: whole zstd frames compressed elsewhere, which the stream
 * takes up as the next of its frames. */
int zout_raw(struct zout *z, const void *buf, size_t len);
const char *zout_error(const struct zout *z);
void zout_free(struct zout *z);

#endif

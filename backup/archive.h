/*
 * archive: the writing side of a backup archive: a pax tar written by
 * libarchive, compressed by libzstd (multi-threaded, memory bounded, with
 * frame checksums), into a file descriptor the caller owns.  Every member's
 * size and SHA-256 are computed while it streams through, never by reading
 * the archive back.
 *
 * Data of unknown length (a table's COPY output) is written with
 * arc_stream_*(): up to ARC_PART bytes are buffered; a stream that fits is
 * one member under its own name, a longer one becomes members NAME.part-0000,
 * NAME.part-0001, ... in order (cat them to get the file back).  So memory
 * stays bounded whatever the size and no temporary file is ever written.
 *
 * Where a part's data arrived already compressed as exactly one zstd frame
 * (a table compressed on the server, cut at the part size), the archive
 * takes that frame as it is (arc_stream_frame): the zstd stream is then
 * several frames in a row, which every zstd decoder reads as one.
 *
 * Members are queued to one writer thread (hashing and compressing there,
 * so a producer goes on producing) and written in the order queued; a write
 * error comes back from a later call.  Streams may be written from several
 * threads at once (one stream per thread): parts of different streams can
 * interleave, each stream's own parts staying in order.
 */
#ifndef FERRY_ARCHIVE_H
#define FERRY_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/err.h"

#define ARC_PART (8u << 20)
#define ARC_PART_MIN (256u << 10)
#define ARC_BUDGET (16u << 20)	/* all parts in memory at once */

struct arc;
struct arc_stream;

/* One member as written: name, size, SHA-256 (hex). */
struct arc_member {
	char *name;
	uint64_t size;
	char sha256[65];
};

/* Writes to fd (not closed by arc_*).  level: zstd level; threads: 0 = all
 * cores. */
int arc_create(struct arc **out, int fd, int level, int threads, time_t mtime,
	       struct err *e) __attribute__((warn_unused_result));
/* A member from memory. */
int arc_add(struct arc *a, const char *name, const void *data, size_t len,
	    struct err *e) __attribute__((warn_unused_result));

int arc_stream_begin(struct arc *a, const char *name, struct arc_stream **out,
		     struct err *e) __attribute__((warn_unused_result));
int arc_stream_write(struct arc_stream *s, const void *data, size_t len,
		     struct err *e) __attribute__((warn_unused_result));
/* Flushes the rest; *size gets the stream's total length.  Frees s. */
int arc_stream_end(struct arc_stream *s, uint64_t *size, struct err *e)
	__attribute__((warn_unused_result));
/* The plain bytes written to s since the last call (or since it began)
 * are exactly what this zstd frame decodes to (frame NULL: a frame that
 * was not kept; the boundary still counts).  Where they make up the whole
 * of one part, the archive takes the frame as it is instead of
 * compressing them again; the part's size and SHA-256 are still those of
 * the plain bytes. */
void arc_stream_frame(struct arc_stream *s, const void *frame, size_t len);
/* How many of s's parts so far (the last one once it ends) went into the
 * archive as frames given to arc_stream_frame.  Call before ..._end. */
unsigned arc_stream_kept(const struct arc_stream *s);
/* The part size streams are cut at (after arc_set_streams). */
size_t arc_part_size(const struct arc *a);
/* Up to n streams will be open at once: parts shrink (from ARC_PART) so
 * that their buffers stay within ARC_BUDGET.  Call before streaming. */
void arc_set_streams(struct arc *a, unsigned n);
/* Drops a stream after a failure (nothing more is written). */
void arc_stream_abort(struct arc_stream *s);

/* Waits until every queued member is written; the first write error. */
int arc_sync(struct arc *a, struct err *e) __attribute__((warn_unused_result));
/* The members written so far, in order (arc_sync() first). */
const struct arc_member *arc_members(const struct arc *a, size_t *n);
/* Ends the archive and flushes it to fd (no fsync: the caller does). */
int arc_finish(struct arc *a, struct err *e) __attribute__((warn_unused_result));
/* Frees a (after arc_finish() or on failure). */
void arc_free(struct arc *a);

#endif

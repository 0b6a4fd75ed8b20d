/*
 * zpipe: the codecs of a compressed stream that crosses the wire (a
 * server-side `zstd -3` or `gzip` in front of psql): a decoder fed with
 * whatever bytes arrive, handing out the plain bytes as they come, and a
 * gzip encoder into a descriptor (zstd's is zout).
 */
#ifndef FERRY_UTIL_ZPIPE_H
#define FERRY_UTIL_ZPIPE_H

#include <stddef.h>

enum zpipe_codec { ZP_ZSTD, ZP_GZIP };

/* Receives plain bytes; non-zero stops the feed (zpipe_feed returns -1). */
typedef int (*zpipe_sink)(void *ctx, const void *data, size_t len);

/* Receives one whole zstd frame as it came, after its plain bytes went
 * to the sink (NULL when it was not kept); non-zero stops the feed. */
typedef int (*zpipe_frame)(void *ctx, const void *frame, size_t len);

/* Receives a skippable frame's payload (util/zcut.h); non-zero stops
 * the feed. */
typedef int (*zpipe_mark)(void *ctx, const void *data, size_t len);

struct zdec;

struct zdec *zdec_new(enum zpipe_codec codec);
/* Decodes in; sink gets every plain byte.  0, or -1: bad data (the
 * reason in zdec_error()) or the sink said stop. */
int zdec_feed(struct zdec *z, const void *in, size_t len, zpipe_sink sink,
	      void *ctx);
/* Before the first byte: each zstd frame of up to max bytes is also
 * handed to frame (with the sink's ctx) when it ends, as it came, and a
 * frame a multi-threaded zstd wrote in jobs of cut plain bytes is handed
 * out job by job, each framed again (util/zcut.h): whoever stores the
 * plain bytes compressed may store these instead. */
void zdec_keep_frames(struct zdec *z, zpipe_frame frame, size_t max,
		      size_t cut);
/* After zdec_keep_frames: mark gets each skippable frame between frames
 * (with the sink's ctx), in its place among the plain bytes. */
void zdec_on_mark(struct zdec *z, zpipe_mark mark);
/* 0 when the input ended at the end of a whole frame (a cut stream is
 * an error, not a short file). */
int zdec_end(struct zdec *z);
const char *zdec_error(const struct zdec *z);
void zdec_free(struct zdec *z);

struct zgz;

/* gzip (level 1..9) into fd (not closed here). */
struct zgz *zgz_new(int fd, int level);
int zgz_write(struct zgz *z, const void *buf, size_t len);
int zgz_end(struct zgz *z);
void zgz_free(struct zgz *z);

#endif

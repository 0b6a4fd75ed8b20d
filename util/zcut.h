/*
 * zcut: decoding a zstd stream while handing out its parts as frames of
 * their own, so that whoever stores the plain bytes compressed can store
 * these instead of compressing them again.
 *
 * The stream is walked unit by unit (a frame's header, each block, its
 * checksum), each unit going to the decoder whole, so the plain size of
 * every block is known.  A part ends where a frame ends, or where a
 * frame reaches cut plain bytes at a block's boundary: that is where a
 * multi-threaded zstd started a new job (`zstd -T0 -B cut` with no
 * overlap, `--zstd=ovlog=1`), and a job's blocks need nothing before
 * them.  Such a part is framed again (a header, its blocks, the last one
 * marked last, a checksum of its own) and decoded once alone before it
 * is handed out; whatever does not decode alone to the same bytes is
 * handed out as NULL, and the stream is not cut again.
 *
 * A skippable frame between frames is a mark the sender put there (psql
 * on the server ends each table of a run with one): with a mark callback
 * it is handed to it, with its payload, in its place among the plain
 * bytes; without one it is skipped, as zstd itself does.
 */
#ifndef FERRY_UTIL_ZCUT_H
#define FERRY_UTIL_ZCUT_H

#include <stddef.h>

#include "util/zpipe.h"

struct zcut;

/* Parts over max compressed bytes go out as NULL; cut 0: frames only. */
struct zcut *zcut_new(zpipe_frame frame, size_t max, size_t cut);
/* As zdec_feed: sink gets every plain byte, frame (with the same ctx)
 * each part after its plain bytes.  *at_end: the last byte fed ended a
 * frame.  0, or -1 with the reason in why. */
int zcut_feed(struct zcut *c, const void *in, size_t len, zpipe_sink sink,
	      void *ctx, int *at_end, char *why, size_t whylen);
/* Before the first byte: mark gets each skippable frame's payload (of up
 * to ZCUT_MARK_MAX bytes; a larger one is skipped). */
#define ZCUT_MARK_MAX 4096u
void zcut_on_mark(struct zcut *c, zpipe_mark mark);
void zcut_free(struct zcut *c);

#endif

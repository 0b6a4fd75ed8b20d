#include "util/zcut.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>
#include <zstd.h>

#include "util/buf.h"

#define OUT (128u * 1024)
#define ZMAGIC 0xFD2FB528u
#define SKIPPABLE(m) (((m) & 0xFFFFFFF0u) == 0x184D2A50u)
#define BLOCK_MAX (128u << 10)

/* What the unit being collected is; W_OFF: the stream is not one zstd
 * knows how to walk (a skippable frame nobody takes, damage), so the
 * decoder takes the rest as it comes and says what is wrong with it.
 * W_SKIPH, W_SKIP: a skippable frame's header and payload, for mark. */
enum { W_MAGIC, W_HEAD, W_BHDR, W_BODY, W_SUM, W_SKIPH, W_SKIP, W_OFF };

struct zcut {
	ZSTD_DCtx *d;		/* the stream's decoder */
	ZSTD_DCtx *alone;	/* a part's own, to check it */
	unsigned char *out;
	zpipe_frame frame;
	zpipe_mark mark;
	size_t max, cut;
	int st;
	size_t need;		/* the unit's size */
	struct buf unit;
	struct buf head;	/* the frame's header, as it came */
	unsigned char fhd, wd;	/* its descriptor and window */
	int cuttable, last, nocut;
	struct buf part;	/* the part's blocks */
	struct buf out_frame;	/* the frame handed out (kept: no page faults) */
	size_t last_bh;		/* where its last block's header is */
	int first;		/* the part began with its frame */
	int over;		/* its blocks outgrew max */
	unsigned long long plain;
	XXH64_state_t *xh;	/* of the part's plain bytes */
	XXH64_state_t *xa;	/* of what the part decodes to alone */
};

struct zcut *zcut_new(zpipe_frame frame, size_t max, size_t cut)
{
	struct zcut *c = xcalloc(1, sizeof(*c));

	c->d = ZSTD_createDCtx();
	c->xh = XXH64_createState();
	c->xa = XXH64_createState();
	if (!c->d || !c->xh || !c->xa) {
		zcut_free(c);
		return NULL;
	}
	c->out = xmalloc(OUT);
	c->frame = frame;
	c->max = max;
	c->cut = cut;
	c->need = 5;	/* magic and frame header descriptor */
	XXH64_reset(c->xh, 0);
	return c;
}

/* Decodes n bytes; the plain ones go to the sink and, while walking,
 * count towards the part. */
static int dec(struct zcut *c, const void *p, size_t n, zpipe_sink sink,
	       void *ctx, int *at_end, char *why, size_t whylen)
{
	ZSTD_inBuffer ib = { p, n, 0 };
	ZSTD_outBuffer ob;
	size_t r;

	if (!n)
		return 0;
	do {
		ob = (ZSTD_outBuffer){ c->out, OUT, 0 };
		r = ZSTD_decompressStream(c->d, &ob, &ib);
		if (ZSTD_isError(r)) {
			snprintf(why, whylen, "zstd: %s", ZSTD_getErrorName(r));
			return -1;
		}
		*at_end = r == 0;
		if (!ob.pos)
			continue;
		XXH64_update(c->xh, c->out, ob.pos);
		c->plain += ob.pos;
		if (sink(ctx, c->out, ob.pos))
			return -1;
		/* At a frame's end (0) all is out: another call would look
		 * for the next frame. */
	} while (ib.pos < ib.size || (r && ob.pos == ob.size));
	return 0;
}

/* The part as a frame of its own: a header with a checksum and no
 * content size, its blocks (the last one marked last), the checksum. */
static void reframe(const struct zcut *c, struct buf *f)
{
	unsigned char head[6] = { 0x28, 0xB5, 0x2F, 0xFD, 0x04, c->wd };
	uint64_t h = XXH64_digest(c->xh);
	unsigned char sum[4] = { (unsigned char)h, (unsigned char)(h >> 8),
				 (unsigned char)(h >> 16),
				 (unsigned char)(h >> 24) };
	size_t at;

	buf_add(f, head, sizeof(head));
	at = f->len;
	buf_add(f, c->part.p, c->part.len);
	((unsigned char *)f->p)[at + c->last_bh] |= 1;
	buf_add(f, sum, sizeof(sum));
}

/* Whether f decodes alone to the part's plain bytes. */
static int alone_ok(struct zcut *c, const struct buf *f)
{
	ZSTD_inBuffer ib = { f->p, f->len, 0 };
	ZSTD_outBuffer ob;
	unsigned long long n = 0;
	size_t r;

	if (c->alone)
		ZSTD_DCtx_reset(c->alone, ZSTD_reset_session_only);
	else if (!(c->alone = ZSTD_createDCtx()))
		return 0;
	XXH64_reset(c->xa, 0);
	do {
		ob = (ZSTD_outBuffer){ c->out, OUT, 0 };
		r = ZSTD_decompressStream(c->alone, &ob, &ib);
		if (ZSTD_isError(r) || (n += ob.pos) > c->plain)
			return 0;
		XXH64_update(c->xa, c->out, ob.pos);
	} while (r && (ib.pos < ib.size || ob.pos == ob.size));
	/* Nothing may follow the frame's end. */
	return r == 0 && ib.pos == ib.size && n == c->plain &&
	       XXH64_digest(c->xa) == XXH64_digest(c->xh);
}

/* Hands the part out; ends: it ends its frame (c->unit holds the
 * frame's checksum, if any). */
static int emit(struct zcut *c, int ends, void *ctx)
{
	struct buf *f = &c->out_frame;
	int r;

	buf_reset(f);
	if (c->over || (!c->first && c->nocut)) {
		r = c->frame(ctx, NULL, 0);
	} else if (c->first && ends) {	/* a whole frame, as it came */
		buf_add(f, c->head.p, c->head.len);
		buf_add(f, c->part.p, c->part.len);
		buf_add(f, c->unit.p, c->unit.len);
		r = c->frame(ctx, f->p, f->len);
	} else {
		reframe(c, f);
		if (!alone_ok(c, f)) {
			/* Not a job's boundary: the server's zstd does not
			 * cut its stream, so neither is it cut again. */
			c->nocut = 1;
			r = c->frame(ctx, NULL, 0);
		} else {
			r = c->frame(ctx, f->p, f->len);
		}
	}
	buf_reset(&c->part);
	c->first = c->over = 0;
	c->plain = 0;
	XXH64_reset(c->xh, 0);
	return r ? -1 : 0;
}

/* The frame header's size from its first five bytes. */
static size_t head_size(unsigned char fhd)
{
	static const size_t did[4] = { 0, 1, 2, 4 };
	int single = fhd >> 5 & 1, fcs = fhd >> 6;

	return 5 + !single + did[fhd & 3] +
	       (fcs ? (size_t)1 << fcs : (size_t)single);
}

/* The unit in c->unit is whole: takes it and sets up the next one.
 * 1: the next one is whole already (it has no bytes). */
static int step(struct zcut *c, zpipe_sink sink, void *ctx, int *at_end,
		char *why, size_t whylen)
{
	const unsigned char *u = (const unsigned char *)c->unit.p;
	unsigned h, type;
	uint32_t m;

	switch (c->st) {
	case W_MAGIC:
		m = (uint32_t)(u[0] | u[1] << 8 | u[2] << 16 |
			       (uint32_t)u[3] << 24);
		if (SKIPPABLE(m) && c->mark) {
			c->need = 8;
			c->st = W_SKIPH;
			return 0;
		}
		if (m != ZMAGIC) {
			c->st = W_OFF;
			return dec(c, u, c->unit.len, sink, ctx, at_end, why,
				   whylen);
		}
		c->fhd = u[4];
		c->need = head_size(c->fhd);
		c->st = W_HEAD;
		return c->unit.len >= c->need;
	case W_HEAD:
		buf_reset(&c->head);
		buf_add(&c->head, u, c->unit.len);
		c->wd = c->fhd & 0x20 ? 0 : u[5];
		/* A part of a frame is framed again without a dictionary or
		 * a content size, with the frame's window. */
		c->cuttable = !(c->fhd & 0x20) && !(c->fhd & 3) && c->cut;
		c->first = 1;
		c->st = W_BHDR;
		c->need = 3;
		return dec(c, u, c->unit.len, sink, ctx, at_end, why, whylen);
	case W_BHDR:
		h = u[0] | u[1] << 8 | (unsigned)u[2] << 16;
		type = h >> 1 & 3;
		if (type == 3 || h >> 3 > BLOCK_MAX) {
			c->st = W_OFF;
			return dec(c, u, c->unit.len, sink, ctx, at_end, why,
				   whylen);
		}
		if (c->cuttable && !c->nocut && c->plain == c->cut &&
		    emit(c, 0, ctx) < 0)
			return -1;
		c->last = h & 1;
		c->last_bh = c->part.len;
		if (!c->over)
			buf_add(&c->part, u, 3);
		c->st = W_BODY;
		c->need = type == 1 ? 1 : h >> 3;
		if (dec(c, u, 3, sink, ctx, at_end, why, whylen) < 0)
			return -1;
		return c->need == 0;
	case W_BODY:
		/* With the header and checksum it would hand out. */
		if (!c->over && (c->first ? c->head.len : 6) + c->part.len +
		    c->unit.len + 4 > c->max) {
			c->over = 1;
			buf_release(&c->part);
		}
		if (!c->over)
			buf_add(&c->part, u, c->unit.len);
		c->st = c->last ? W_SUM : W_BHDR;
		c->need = c->last ? (c->fhd & 4 ? 4 : 0) : 3;
		if (dec(c, u, c->unit.len, sink, ctx, at_end, why, whylen) < 0)
			return -1;
		return c->need == 0;
	case W_SUM:
		if (dec(c, u, c->unit.len, sink, ctx, at_end, why, whylen) < 0 ||
		    emit(c, 1, ctx) < 0)
			return -1;
		c->st = W_MAGIC;
		c->need = 5;
		return 0;
	case W_SKIPH:
		c->need = u[4] | u[5] << 8 | u[6] << 16 | (size_t)u[7] << 24;
		if (c->need > ZCUT_MARK_MAX) {
			c->st = W_OFF;
			return dec(c, u, c->unit.len, sink, ctx, at_end, why,
				   whylen);
		}
		c->st = W_SKIP;
		return c->need == 0;
	case W_SKIP:
		c->st = W_MAGIC;
		c->need = 5;
		*at_end = 1;	/* between frames again */
		if (c->mark(ctx, u, c->unit.len)) {
			snprintf(why, whylen, "stopped at a mark");
			return -1;
		}
		return 0;
	}
	return 0;
}

int zcut_feed(struct zcut *c, const void *in, size_t len, zpipe_sink sink,
	      void *ctx, int *at_end, char *why, size_t whylen)
{
	const unsigned char *p = in;

	while (len) {
		size_t n;
		int r;

		if (c->st == W_OFF)
			return dec(c, p, len, sink, ctx, at_end, why, whylen);
		n = c->need - c->unit.len < len ? c->need - c->unit.len : len;
		buf_add(&c->unit, p, n);
		p += n;
		len -= n;
		while (c->st != W_OFF && c->unit.len >= c->need) {
			int was = c->st;

			r = step(c, sink, ctx, at_end, why, whylen);
			if (r < 0)
				return -1;
			/* A header's first five bytes stay: it is one unit. */
			if (was != W_MAGIC ||
			    (c->st != W_HEAD && c->st != W_SKIPH))
				buf_reset(&c->unit);
			if (!r)
				break;
		}
	}
	return 0;
}

void zcut_on_mark(struct zcut *c, zpipe_mark mark)
{
	c->mark = mark;
}

void zcut_free(struct zcut *c)
{
	if (!c)
		return;
	ZSTD_freeDCtx(c->d);
	ZSTD_freeDCtx(c->alone);
	XXH64_freeState(c->xh);
	XXH64_freeState(c->xa);
	buf_release(&c->unit);
	buf_release(&c->head);
	buf_release(&c->part);
	buf_release(&c->out_frame);
	free(c->out);
	free(c);
}

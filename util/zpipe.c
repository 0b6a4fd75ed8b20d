#include "util/zpipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "util/buf.h"
#include "util/fdio.h"
#include "util/zcut.h"

#define OUT (128u * 1024)

struct zdec {
	enum zpipe_codec codec;
	ZSTD_DCtx *zs;
	z_stream gz;
	int gz_open;
	int at_end;		/* the last byte fed ended a frame */
	unsigned char *out;
	struct zcut *cut;	/* keeping frames: see zdec_keep_frames */
	char why[160];
};

struct zdec *zdec_new(enum zpipe_codec codec)
{
	struct zdec *z = xcalloc(1, sizeof(*z));

	z->codec = codec;
	z->out = xmalloc(OUT);
	z->at_end = 1;
	if (codec == ZP_ZSTD) {
		z->zs = ZSTD_createDCtx();
	} else {
		/* 15 + 32: zlib or gzip headers, told apart by zlib. */
		z->gz_open = inflateInit2(&z->gz, 15 + 32) == Z_OK;
	}
	if (codec == ZP_ZSTD ? !z->zs : !z->gz_open) {
		zdec_free(z);
		return NULL;
	}
	return z;
}

static int feed_zstd(struct zdec *z, const void *in, size_t len,
		     zpipe_sink sink, void *ctx)
{
	ZSTD_inBuffer ib = { in, len, 0 };

	if (z->cut)
		return zcut_feed(z->cut, in, len, sink, ctx, &z->at_end, z->why,
				 sizeof(z->why));
	while (ib.pos < ib.size) {
		ZSTD_outBuffer ob = { z->out, OUT, 0 };
		size_t r = ZSTD_decompressStream(z->zs, &ob, &ib);

		if (ZSTD_isError(r)) {
			snprintf(z->why, sizeof(z->why), "zstd: %s",
				 ZSTD_getErrorName(r));
			return -1;
		}
		z->at_end = r == 0;
		if (ob.pos && sink(ctx, z->out, ob.pos))
			return -1;
	}
	return 0;
}

static int feed_gzip(struct zdec *z, const void *in, size_t len,
		     zpipe_sink sink, void *ctx)
{
	z->gz.next_in = (unsigned char *)in;
	z->gz.avail_in = (unsigned)len;
	while (z->gz.avail_in) {
		int r;

		/* gzip members may follow each other (gzip -c a b). */
		if (z->at_end && z->gz.total_in)
			inflateReset(&z->gz);
		z->gz.next_out = z->out;
		z->gz.avail_out = OUT;
		r = inflate(&z->gz, Z_NO_FLUSH);
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
			snprintf(z->why, sizeof(z->why), "gzip: %s",
				 z->gz.msg ? z->gz.msg : "bad data");
			return -1;
		}
		z->at_end = r == Z_STREAM_END;
		if (OUT - z->gz.avail_out &&
		    sink(ctx, z->out, OUT - z->gz.avail_out))
			return -1;
	}
	return 0;
}

int zdec_feed(struct zdec *z, const void *in, size_t len, zpipe_sink sink,
	      void *ctx)
{
	if (!len)
		return 0;
	z->at_end = 0;
	return z->codec == ZP_ZSTD ? feed_zstd(z, in, len, sink, ctx) :
		feed_gzip(z, in, len, sink, ctx);
}

void zdec_keep_frames(struct zdec *z, zpipe_frame frame, size_t max,
		      size_t cut)
{
	if (z->codec == ZP_ZSTD && !z->cut)
		z->cut = zcut_new(frame, max, cut);
}

void zdec_on_mark(struct zdec *z, zpipe_mark mark)
{
	if (z->cut)
		zcut_on_mark(z->cut, mark);
}

int zdec_end(struct zdec *z)
{
	if (z->at_end)
		return 0;
	snprintf(z->why, sizeof(z->why), "the compressed stream was cut off");
	return -1;
}

const char *zdec_error(const struct zdec *z)
{
	return z->why;
}

void zdec_free(struct zdec *z)
{
	if (!z)
		return;
	if (z->zs)
		ZSTD_freeDCtx(z->zs);
	if (z->gz_open)
		inflateEnd(&z->gz);
	zcut_free(z->cut);
	free(z->out);
	free(z);
}

struct zgz {
	z_stream s;
	int fd;
	unsigned char *out;
};

struct zgz *zgz_new(int fd, int level)
{
	struct zgz *z = xcalloc(1, sizeof(*z));

	z->fd = fd;
	z->out = xmalloc(OUT);
	/* 15 + 16: a gzip header, as `gzip -d` wants. */
	if (deflateInit2(&z->s, level, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(z->out);
		free(z);
		return NULL;
	}
	return z;
}

static int gz_pump(struct zgz *z, int flush)
{
	int r;

	do {
		z->s.next_out = z->out;
		z->s.avail_out = OUT;
		r = deflate(&z->s, flush);
		if (r == Z_STREAM_ERROR)
			return -1;
		if (fd_write_all(z->fd, z->out, OUT - z->s.avail_out) < 0)
			return -1;
	} while (z->s.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
	return 0;
}

int zgz_write(struct zgz *z, const void *buf, size_t len)
{
	z->s.next_in = (unsigned char *)buf;
	z->s.avail_in = (unsigned)len;
	return gz_pump(z, Z_NO_FLUSH);
}

int zgz_end(struct zgz *z)
{
	z->s.next_in = NULL;
	z->s.avail_in = 0;
	return gz_pump(z, Z_FINISH);
}

void zgz_free(struct zgz *z)
{
	if (!z)
		return;
	deflateEnd(&z->s);
	free(z->out);
	free(z);
}

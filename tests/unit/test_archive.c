/* archive: a stream whose data arrives as the server's zstd frames (one
 * per part) keeps those frames in the archive as they came, and one that
 * arrives as a multi-threaded zstd's frame keeps each job, framed again
 * (util/zcut.c); frames that do not line up with the parts, jobs that do
 * not decode alone, or frames a plain decoder could not take are
 * compressed again.  Either way the archive reads back (libarchive, as
 * tar --zstd would) to the same members. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "t.h"
#include "backup/archive.h"
#include "util/buf.h"
#include "util/zout.h"
#include "util/zpipe.h"

#define PART (256u << 10)	/* ARC_PART_MIN: arc_set_streams(a, 100) */
#define JOB (512u << 10)	/* zstd's smallest job: arc_set_streams(a, 30) */

static void slurp(int fd, struct buf *out)
{
	char chunk[65536];
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(out, chunk, (size_t)n);
}

/* plain[from, to) as one zstd frame, as `zstd -3 -q -c` writes it
 * (checksum: zstd's CLI default), or without one. */
static void frame(const struct buf *plain, size_t from, size_t to, int sum,
		  struct buf *out)
{
	char tmpl[] = "/tmp/ferry-arc-XXXXXX";
	int fd = mkstemp(tmpl);
	struct zout *z = zout_new(fd, 3, 1, sum);

	unlink(tmpl);
	if (zout_write(z, plain->p + from, to - from) < 0 || zout_end(z) < 0)
		printf("not ok - zout\n");
	zout_free(z);
	slurp(fd, out);
	close(fd);
}

struct feed {
	struct arc_stream *s;
	struct err *e;
	unsigned frames, kept;
};

static int to_stream(void *ctx, const void *data, size_t len)
{
	struct feed *f = ctx;

	return arc_stream_write(f->s, data, len, f->e);
}

static int to_frame(void *ctx, const void *data, size_t len)
{
	struct feed *f = ctx;

	f->frames++;
	arc_stream_frame(f->s, data, len);
	return 0;
}

/* The archive's members, concatenated, and how many there were. */
static int read_back(const struct buf *arc, struct buf *data, int *members)
{
	struct archive *r = archive_read_new();
	struct archive_entry *ent;
	char chunk[65536];
	la_ssize_t n;
	int rc = 0;

	*members = 0;
	archive_read_support_filter_zstd(r);
	archive_read_support_format_tar(r);
	if (archive_read_open_memory(r, arc->p, arc->len) != ARCHIVE_OK)
		rc = -1;
	while (!rc && archive_read_next_header(r, &ent) == ARCHIVE_OK) {
		(*members)++;
		while ((n = archive_read_data(r, chunk, sizeof(chunk))) > 0)
			buf_add(data, chunk, (size_t)n);
		if (n < 0)
			rc = -1;
	}
	archive_read_free(r);
	return rc;
}

/* The archive of the stream wire (as zdec takes it, cutting at cut) in
 * parts of part bytes: it must read back to plain; want_frames parts
 * handed out by zdec, want_kept of them kept.  1 when written. */
static int run(const char *name, const struct buf *plain,
	       const struct buf *wire, size_t part, size_t cut, size_t max,
	       unsigned want_frames, unsigned want_kept, struct buf *arcb)
{
	struct buf back = BUF_INIT;
	struct err e = ERR_INIT;
	struct feed f = { NULL, &e, 0, 0 };
	struct zdec *z = zdec_new(ZP_ZSTD);
	char tmpl[] = "/tmp/ferry-arc-XXXXXX", label[200];
	int fd = mkstemp(tmpl), members = 0, ok = 1;
	size_t nparts = (plain->len + part - 1) / part;
	struct arc *a = NULL;
	uint64_t size = 0;

	unlink(tmpl);
	zdec_keep_frames(z, to_frame, max, cut);
	ok = arc_create(&a, fd, 3, 2, 0, &e) == 0;
	if (ok) {
		arc_set_streams(a, (unsigned)((16u << 20) / part - 2));
		ok = arc_stream_begin(a, "t.copy", &f.s, &e) == 0;
	}
	/* In pieces of odd sizes, as the channel hands them over. */
	for (size_t at = 0; ok && at < wire->len; at += 4099)
		ok = zdec_feed(z, wire->p + at, wire->len - at < 4099 ?
			       wire->len - at : 4099, to_stream, &f) == 0;
	if (ok)
		f.kept = arc_stream_kept(f.s);
	ok = ok && zdec_end(z) == 0 && arc_stream_end(f.s, &size, &e) == 0 &&
	     arc_finish(a, &e) == 0;
	arc_free(a);
	slurp(fd, arcb);
	close(fd);
	snprintf(label, sizeof(label), "%s: written", name);
	T_OK(ok && size == plain->len, label);
	snprintf(label, sizeof(label), "%s: %u of %u frames kept", name,
		 want_kept, want_frames);
	if (f.frames != want_frames || f.kept != want_kept)
		printf("# %u frames seen, %u kept\n", f.frames, f.kept);
	T_OK(f.frames == want_frames && f.kept == want_kept, label);
	snprintf(label, sizeof(label), "%s: reads back to the same bytes in "
		 "%zu parts", name, nparts);
	T_OK(read_back(arcb, &back, &members) == 0 && back.len == plain->len &&
	     !memcmp(back.p, plain->p, plain->len) && members == (int)nparts,
	     label);
	zdec_free(z);
	buf_release(&back);
	return ok;
}

/*
 * cuts: where the server's frames end (the last at plain->len); sum: the
 * frames carry checksums; max: zdec's limit on a kept frame.  The frames
 * that line up (the last want_kept) must be in the archive byte for byte.
 */
static void frames(const char *name, const struct buf *plain,
		   const size_t *cuts, size_t ncuts, int sum, size_t max,
		   unsigned want_kept)
{
	struct buf wire = BUF_INIT, arcb = BUF_INIT, one = BUF_INIT;
	char label[200];
	int inside = 1;
	size_t from = 0;

	for (size_t i = 0; i < ncuts; i++) {
		buf_reset(&one);
		frame(plain, from, cuts[i], sum, &one);
		buf_add(&wire, one.p, one.len);
		from = cuts[i];
	}
	run(name, plain, &wire, PART, 0, max, (unsigned)ncuts, want_kept,
	    &arcb);
	from = 0;
	for (size_t i = 0; i < ncuts && want_kept; i++) {
		buf_reset(&one);
		frame(plain, from, cuts[i], sum, &one);
		if (i >= ncuts - want_kept)
			inside &= memmem(arcb.p, arcb.len, one.p, one.len) != NULL;
		from = cuts[i];
	}
	if (want_kept) {
		snprintf(label, sizeof(label), "%s: the archive holds them as "
			 "they came", name);
		T_OK(inside, label);
	}
	buf_release(&wire);
	buf_release(&arcb);
	buf_release(&one);
}

/* plain as one frame of a zstd with workers threads (0: none) in jobs of
 * JOB bytes, overlapping (zstd's default) or not, cut at JOB. */
static void jobs(const char *name, const struct buf *plain, int workers,
		 int overlap, unsigned want_kept)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	struct buf wire = BUF_INIT, arcb = BUF_INIT;
	size_t n = ZSTD_compressBound(plain->len);

	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	if (workers) {
		ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, workers);
		ZSTD_CCtx_setParameter(c, ZSTD_c_jobSize, JOB);
		ZSTD_CCtx_setParameter(c, ZSTD_c_overlapLog, overlap ? 0 : 1);
	}
	buf_grow(&wire, n);
	{
		ZSTD_outBuffer ob = { wire.p, n, 0 };
		ZSTD_inBuffer ib = { NULL, 0, 0 };

		/* As `zstd` reads stdin: 64 KiB at a time, the size unknown. */
		for (size_t at = 0; at < plain->len; at += 65536) {
			ib = (ZSTD_inBuffer){ plain->p + at, plain->len - at <
					      65536 ? plain->len - at : 65536, 0 };
			while (ib.pos < ib.size)
				ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_continue);
		}
		ib = (ZSTD_inBuffer){ NULL, 0, 0 };
		while (ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end) > 0)
			;
		wire.len = ob.pos;
	}
	run(name, plain, &wire, JOB, JOB, ZSTD_compressBound(JOB),
	    (unsigned)((plain->len + JOB - 1) / JOB), want_kept, &arcb);
	ZSTD_freeCCtx(c);
	buf_release(&wire);
	buf_release(&arcb);
}

int main(void)
{
	struct buf plain = BUF_INIT, big = BUF_INIT;
	size_t aligned[] = { PART, 2 * PART, 2 * PART + 5000 };
	size_t odd[] = { 100000, PART, 2 * PART, 2 * PART + 5000 };
	size_t shifted[] = { PART + 1, 2 * PART + 5000 };
	size_t whole[] = { 2 * PART + 5000 };

	for (int i = 0; big.len < 2 * JOB + 5000; i++)
		buf_printf(&big, "%d\tchapter %d\tthe dragon by the river %x\n",
			   i, i % 97, (unsigned)i * 2654435761u);
	buf_setlen(&big, 2 * JOB + 5000);
	buf_add(&plain, big.p, 2 * PART + 5000);

	frames("frames on the parts", &plain, aligned, 3, 1,
	       ZSTD_compressBound(PART), 3);
	/* The first part is two frames: compressed again; the rest line up. */
	frames("a part made of two frames", &plain, odd, 4, 1,
	       ZSTD_compressBound(PART), 2);
	frames("frames across the parts", &plain, shifted, 2, 1,
	       ZSTD_compressBound(PART), 0);
	frames("one frame for three parts", &plain, whole, 1, 1,
	       ZSTD_compressBound(3 * PART), 0);
	frames("frames without a checksum", &plain, aligned, 3, 0,
	       ZSTD_compressBound(PART), 0);
	/* Over zdec's limit (all but the short last one): handed over as
	 * NULL, still a boundary. */
	frames("frames over the limit", &plain, aligned, 3, 1, 1000, 1);

	jobs("jobs without overlap", &big, 2, 0, 3);
	/* The first job is the frame's start; the second needs the first. */
	jobs("jobs that overlap", &big, 2, 1, 1);
	jobs("one thread, no jobs", &big, 0, 0, 1);
	buf_release(&plain);
	buf_release(&big);
	return T_DONE();
}

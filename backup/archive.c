#include "backup/archive.h"

#include <archive.h>
#include <pthread.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "util/buf.h"
#include "util/laclose.h"
#include "util/progress.h"
#include "util/sha256.h"
#include "util/zout.h"

struct pool {
	unsigned char *v[8];
	size_t n, size;
};

struct arc {
	struct archive *w;
	struct zout *z;
	int fd;
	time_t mtime;
	struct arc_member *m;
	size_t n, cap;
	char werr[256];		/* the write callback's failure */
	int raw;		/* the member's data went in as its frame */
	int cut;		/* abandoned: nothing more goes to zstd */
	/* Members are written by one writer thread, in the order they are
	 * queued, so whoever produces data (a COPY reader) goes on reading
	 * while the last part is hashed and compressed. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t writer;
	int started, quit, busy, failed;
	struct ajob *head, *tail;
	size_t queued;
	struct err err;		/* the writer's first failure */
	size_t part;		/* stream part size */
	/* Written parts, and the frames that came with them, wait here for
	 * the next ones: a fresh buffer of a megabyte or more is mmapped,
	 * and faulting its pages in cost more CPU than filling it (a third of
	 * ferry's time on 150 MB of COPY text; the frames, 20,000 page
	 * faults of 28 MB).  Buffers are made only when none waits, so there
	 * are never more than were in use at once. */
	struct pool parts, frames;
	struct progress pg;	/* tar bytes written, on a terminal */
};

struct ajob {
	struct ajob *next;
	char *name;
	unsigned char *data;
	size_t len, cap;	/* cap: a stream part's size, else 0 */
	unsigned char *frame;	/* data as one zstd frame, or NULL */
	size_t frame_len, frame_cap;	/* frame_cap: a pooled frame's */
};

#define QUEUE_MAX 1

struct arc_stream {
	struct arc *a;
	char *name;
	unsigned char *buf;
	size_t len, cap;
	unsigned part;		/* parts written so far */
	uint64_t total;
	uint64_t frame_from;	/* where the source's current frame began */
	unsigned char *frame;	/* the buffered part as one frame, or NULL */
	size_t frame_len, frame_cap;
	unsigned kept;		/* parts queued with their frames */
};

static la_ssize_t write_cb(struct archive *w, void *ud, const void *buf,
			   size_t len)
{
	struct arc *a = ud;

	if (a->cut) {
		archive_set_error(w, ECANCELED, "the archive was abandoned");
		return -1;
	}
	if (a->raw) {
		progress_add(&a->pg, len);
		return (la_ssize_t)len;
	}
	if (zout_write(a->z, buf, len) < 0) {
		snprintf(a->werr, sizeof(a->werr), "%s", zout_error(a->z));
		archive_set_error(w, EIO, "%s", a->werr);
		return -1;
	}
	progress_add(&a->pg, len);
	return (la_ssize_t)len;
}

static int lib_err(struct arc *a, struct err *e, const char *what)
{
	return err_set(e, FX_FAIL, "archive %s: %s", what,
		       a->werr[0] ? a->werr : archive_error_string(a->w) ?
		       archive_error_string(a->w) : "libarchive error");
}

int arc_create(struct arc **out, int fd, int level, int threads, time_t mtime,
	       struct err *e)
{
	struct arc *a = xcalloc(1, sizeof(*a));

	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	arc_set_streams(a, 1);

	a->fd = fd;
	a->mtime = mtime;
	a->w = archive_write_new();
	if (!a->w) {
		free(a);
		return err_set(e, FX_FAIL, "archive: out of memory");
	}
	/* libarchive writes the pax tar; libzstd compresses it (zout), so the
	 * workers' memory is bounded (libarchive's filter cannot). */
	a->z = zout_new(fd, level, threads, 1);
	if (!a->z) {
		snprintf(a->werr, sizeof(a->werr), "zstd: cannot use level %d",
			 level);
		goto fail;
	}
	if (archive_write_set_format_pax_restricted(a->w) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a->w) != ARCHIVE_OK)
		goto fail;
	/* Unblocked: each header reaches zstd before the raw frame that may
	 * follow it (see write_member). */
	archive_write_set_bytes_per_block(a->w, 0);
	archive_write_set_bytes_in_last_block(a->w, 1);
	if (archive_write_open2(a->w, a, NULL, write_cb, NULL, NULL) != ARCHIVE_OK)
		goto fail;
	progress_start(&a->pg, "backup", 0);
	*out = a;
	return 0;
fail:
	lib_err(a, e, "setup");
	arc_free(a);
	return -1;
}

static struct arc_member *add_member(struct arc *a, const char *name)
{
	struct arc_member *m;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->m = xrealloc(a->m, a->cap * sizeof(*a->m));
	}
	m = &a->m[a->n++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	return m;
}

/* A member whose data came as one zstd frame: the header and the padding
 * go through zstd as ever, the frame between them as it is (tar reads the
 * concatenated frames as one stream); libarchive is handed the data only
 * to count it. */
static int write_raw(struct arc *a, const void *data, size_t len,
		     const struct ajob *j)
{
	la_ssize_t n;

	if (zout_raw(a->z, j->frame, j->frame_len) < 0) {
		snprintf(a->werr, sizeof(a->werr), "%s", zout_error(a->z));
		return -1;
	}
	a->raw = 1;
	n = archive_write_data(a->w, data, len);
	a->raw = 0;
	return n == (la_ssize_t)len ? 0 : -1;
}

static int write_member(struct arc *a, const char *name, const void *data,
			size_t len, const struct ajob *j, struct err *e)
{
	struct archive_entry *ent = archive_entry_new();
	char hex[65];
	struct arc_member *m;
	int r = -1;

	sha256_hex(data, len, hex);
	archive_entry_set_pathname_utf8(ent, name);
	archive_entry_set_size(ent, (la_int64_t)len);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0600);
	archive_entry_set_mtime(ent, a->mtime, 0);
	if (archive_write_header(a->w, ent) != ARCHIVE_OK) {
		lib_err(a, e, name);
		goto out;
	}
	if (j && j->frame) {
		if (write_raw(a, data, len, j) < 0) {
			lib_err(a, e, name);
			goto out;
		}
	} else if (len && archive_write_data(a->w, data, len) !=
		   (la_ssize_t)len) {
		lib_err(a, e, name);
		goto out;
	}
	if (archive_write_finish_entry(a->w) != ARCHIVE_OK) {
		lib_err(a, e, name);
		goto out;
	}
	pthread_mutex_lock(&a->mu);
	m = add_member(a, name);
	m->size = len;
	memcpy(m->sha256, hex, sizeof(hex));
	pthread_mutex_unlock(&a->mu);
	r = 0;
out:
	archive_entry_free(ent);
	return r;
}

static unsigned char *pool_get(struct arc *a, struct pool *pl, size_t size)
{
	unsigned char *p = NULL;

	pthread_mutex_lock(&a->mu);
	if (pl->n > 0 && pl->size == size)
		p = pl->v[--pl->n];
	pthread_mutex_unlock(&a->mu);
	return p ? p : xmalloc(size);
}

/* Under a->mu.  size 0: not the pool's (freed).  NULL: nothing (a part
 * without a frame still carries the last frame's size). */
static void pool_put_locked(struct pool *pl, unsigned char *p, size_t size)
{
	if (!p)
		return;
	if (pl->n > 0 && pl->size != size)
		while (pl->n > 0)
			free(pl->v[--pl->n]);
	if (size && pl->n < sizeof(pl->v) / sizeof(pl->v[0])) {
		pl->size = size;
		pl->v[pl->n++] = p;
	} else {
		free(p);
	}
}

static void pool_free(struct pool *pl)
{
	while (pl->n > 0)
		free(pl->v[--pl->n]);
}

static void *writer_main(void *arg)
{
	struct arc *a = arg;
	struct err e = ERR_INIT;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		struct ajob *j;
		int r = 0, skip;

		while (!a->head && !a->quit)
			pthread_cond_wait(&a->cv, &a->mu);
		if (!a->head)
			break;
		j = a->head;
		a->head = j->next;
		if (!a->head)
			a->tail = NULL;
		a->busy = 1;
		skip = a->failed;
		pthread_mutex_unlock(&a->mu);
		if (!skip)
			r = write_member(a, j->name, j->data, j->len, j, &e);
		pthread_mutex_lock(&a->mu);
		if (r < 0 && !a->failed) {
			a->failed = 1;
			a->err = e;
		}
		a->queued--;
		a->busy = 0;
		free(j->name);
		pool_put_locked(&a->frames, j->frame, j->frame_cap);
		pool_put_locked(&a->parts, j->data, j->cap);
		free(j);
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* Queues a member; data is the queue's now.  Waits while the queue is full;
 * the writer's failure, if any, is returned here. */
static int enqueue(struct arc *a, const char *name, void *data, size_t len,
		   size_t cap, unsigned char *frame, size_t frame_len,
		   size_t frame_cap, struct err *e)
{
	struct ajob *j = xcalloc(1, sizeof(*j));
	int rc = 0;

	j->name = xstrdup(name);
	j->data = data;
	j->len = len;
	j->cap = cap;
	j->frame = frame;
	j->frame_len = frame_len;
	j->frame_cap = frame_cap;
	pthread_mutex_lock(&a->mu);
	if (!a->started) {
		if (pthread_create(&a->writer, NULL, writer_main, a) != 0) {
			a->failed = 1;
			err_set(&a->err, FX_FAIL, "archive: cannot start a thread");
		} else {
			a->started = 1;
		}
	}
	while (a->queued >= QUEUE_MAX && !a->failed)
		pthread_cond_wait(&a->cv, &a->mu);
	if (a->failed) {
		*e = a->err;
		rc = -1;
		free(j->name);
		pool_put_locked(&a->frames, j->frame, j->frame_cap);
		pool_put_locked(&a->parts, j->data, j->cap);
		free(j);
	} else {
		if (a->tail)
			a->tail->next = j;
		else
			a->head = j;
		a->tail = j;
		a->queued++;
		pthread_cond_signal(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int arc_add(struct arc *a, const char *name, const void *data, size_t len,
	    struct err *e)
{
	void *copy = xmalloc(len ? len : 1);

	if (len)	/* data may be NULL then */
		memcpy(copy, data, len);
	return enqueue(a, name, copy, len, 0, NULL, 0, 0, e);
}

int arc_sync(struct arc *a, struct err *e)
{
	int rc;

	pthread_mutex_lock(&a->mu);
	while ((a->queued || a->busy) && !a->failed)
		pthread_cond_wait(&a->cv, &a->mu);
	rc = a->failed ? -1 : 0;
	if (rc)
		*e = a->err;
	pthread_mutex_unlock(&a->mu);
	return rc;
}

/* Ends the writer thread; with drop, what is still queued is not written. */
static void stop_writer(struct arc *a, int drop)
{
	pthread_mutex_lock(&a->mu);
	a->quit = 1;
	if (drop && !a->failed) {
		a->failed = 1;
		err_set(&a->err, FX_FAIL, "archive: abandoned");
	}
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	if (a->started)
		pthread_join(a->writer, NULL);
	a->started = 0;
}

void arc_set_streams(struct arc *a, unsigned n)
{
	/* Every stream holds one part, the writer one more and the queue
	 * one: all of them share ARC_BUDGET. */
	size_t part = ARC_BUDGET / (n + 2);

	a->part = part > ARC_PART ? ARC_PART : part < ARC_PART_MIN ?
		  ARC_PART_MIN : part;
}

int arc_stream_begin(struct arc *a, const char *name, struct arc_stream **out,
		     struct err *e)
{
	struct arc_stream *s = xcalloc(1, sizeof(*s));

	(void)e;
	s->a = a;
	s->name = xstrdup(name);
	*out = s;
	return 0;
}

static int flush_part(struct arc_stream *s, int last, struct err *e)
{
	char *name;
	int r;

	/* A stream that fits in one part keeps its plain name. */
	if (last && s->part == 0)
		name = xstrdup(s->name);
	else
		name = xstrfmt("%s.part-%04u", s->name, s->part);
	s->kept += s->frame != NULL;
	r = enqueue(s->a, name, s->buf, s->len, s->buf ? s->cap : 0,
		    s->frame, s->frame_len, s->frame_cap, e);
	s->buf = NULL;
	s->frame = NULL;
	free(name);
	s->part++;
	s->len = 0;
	return r;
}

static void drop_frame(struct arc_stream *s)
{
	pthread_mutex_lock(&s->a->mu);
	pool_put_locked(&s->a->frames, s->frame, s->frame_cap);
	pthread_mutex_unlock(&s->a->mu);
	s->frame = NULL;
}

int arc_stream_write(struct arc_stream *s, const void *data, size_t len,
		     struct err *e)
{
	const unsigned char *p = data;

	while (len > 0) {
		size_t room, n;

		if (!s->buf) {
			s->cap = s->a->part;
			s->buf = pool_get(s->a, &s->a->parts, s->cap);
		}
		room = s->cap - s->len;
		if (room == 0) {
			if (flush_part(s, 0, e) < 0)
				return -1;
			continue;
		}
		if (s->frame)	/* the part is more than the frame now */
			drop_frame(s);
		n = len < room ? len : room;
		memcpy(s->buf + s->len, p, n);
		s->len += n;
		s->total += n;
		p += n;
		len -= n;
	}
	return 0;
}

int arc_stream_end(struct arc_stream *s, uint64_t *size, struct err *e)
{
	int r = 0;

	/* The last part, even when empty: an empty table is still a file. */
	if (s->len > 0 || s->part == 0)
		r = flush_part(s, 1, e);
	if (size)
		*size = s->total;
	arc_stream_abort(s);
	return r;
}

/* What a decoder that reads only the archive can take as one of its
 * frames: a zstd frame (RFC 8878) of exactly len bytes with a checksum of
 * its own, no dictionary, and a window within the default limit that
 * zstd's CLI and tar --zstd keep to.  libzstd's stable API does not say
 * all of that, so the frame header's first two bytes are read here. */
static int frame_fits(const unsigned char *f, size_t len)
{
	unsigned fhd, wd;

	if (len < 6 || f[0] != 0x28 || f[1] != 0xb5 || f[2] != 0x2f ||
	    f[3] != 0xfd)
		return 0;
	fhd = f[4];
	wd = f[5];
	/* single segment (no window byte), reserved bit, dictionary id */
	if ((fhd & 0x20) || (fhd & 0x08) || (fhd & 0x03) || !(fhd & 0x04))
		return 0;
	return 10 + (wd >> 3) < 27 &&
	       ZSTD_findFrameCompressedSize(f, len) == len;
}

void arc_stream_frame(struct arc_stream *s, const void *frame, size_t len)
{
	uint64_t from = s->frame_from;
	/* Frames come from parts of s->a->part bytes: pooled at that bound. */
	size_t bound = ZSTD_compressBound(s->a->part);

	s->frame_from = s->total;
	if (!frame || !s->buf || !s->len || from != s->total - s->len ||
	    !frame_fits(frame, len))
		return;
	if (s->frame)
		drop_frame(s);
	s->frame_cap = len <= bound ? bound : 0;
	s->frame = s->frame_cap ? pool_get(s->a, &s->a->frames, bound) :
		   xmalloc(len);
	memcpy(s->frame, frame, len);
	s->frame_len = len;
}

unsigned arc_stream_kept(const struct arc_stream *s)
{
	return s->kept + (s->frame != NULL);
}

size_t arc_part_size(const struct arc *a)
{
	return a->part;
}

void arc_stream_abort(struct arc_stream *s)
{
	if (!s)
		return;
	free(s->frame);
	free(s->buf);
	free(s->name);
	free(s);
}

const struct arc_member *arc_members(const struct arc *a, size_t *n)
{
	*n = a->n;
	return a->m;
}

int arc_finish(struct arc *a, struct err *e)
{
	if (arc_sync(a, e) < 0)
		return -1;
	stop_writer(a, 0);
	if (archive_write_close(a->w) != ARCHIVE_OK)
		return lib_err(a, e, "close");
	if (zout_end(a->z) < 0) {
		snprintf(a->werr, sizeof(a->werr), "%s", zout_error(a->z));
		return lib_err(a, e, "close");
	}
	progress_end(&a->pg);
	return 0;
}

void arc_free(struct arc *a)
{
	if (!a)
		return;
	/* The writer goes first: libarchive and zstd are not thread-safe. */
	stop_writer(a, 1);
	progress_abort(&a->pg);
	la_close_free(a->w, &a->cut);
	for (struct ajob *j = a->head, *next; j; j = next) {
		next = j->next;
		free(j->name);
		free(j->frame);
		free(j->data);
		free(j);
	}
	zout_free(a->z);
	pool_free(&a->parts);
	pool_free(&a->frames);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	for (size_t i = 0; i < a->n; i++)
		free(a->m[i].name);
	free(a->m);
	free(a);
}

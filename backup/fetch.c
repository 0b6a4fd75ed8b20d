#include "backup/fetch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "backup/archive.h"
#include "net/xport.h"
#include "net/xport_fs.h"

#define CHUNK (256u << 10)
#define ERR_HEAD 3072
#define ERR_TAIL 1024
#define TRAILER "ferry-exit:"

enum fetch_codec fetch_codec(struct xport *x)
{
	struct buf out = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	struct err ignored = ERR_INIT;
	enum fetch_codec c = FETCH_PLAIN;

	if (xport_is_local(x))
		return c;
	io.out = &out;
	if (xport_run(x, "for t in zstd gzip; do command -v $t >/dev/null "
		      "2>&1 && echo $t && break; done", &io, &st, &ignored) == 0) {
		if (!strncmp(buf_str(&out), "zstd", 4))
			c = FETCH_ZSTD;
		else if (!strncmp(buf_str(&out), "gzip", 4))
			c = FETCH_GZIP;
	}
	buf_release(&out);
	return c;
}

const char *fetch_codec_name(enum fetch_codec c)
{
	return c == FETCH_ZSTD ? "zstd" : c == FETCH_GZIP ? "gzip" : "none";
}

int fetch_file(struct xport *x, const char *path, uint64_t offset,
	       int whole_lines, struct arc *a, const char *member,
	       uint64_t *bytes, struct err *e)
{
	struct xfile *f = NULL;
	struct arc_stream *s = NULL;
	struct err ignored = ERR_INIT;
	char *chunk = xmalloc(CHUNK);
	int skipping = whole_lines && offset > 0, r = -1;
	ssize_t n;

	*bytes = 0;
	if (xport_fopen(x, path, 0, 0, &f, e) < 0 ||
	    (offset && xport_fseek(f, offset, e) < 0) ||
	    arc_stream_begin(a, member, &s, e) < 0)
		goto out;
	while ((n = xport_fread(f, chunk, CHUNK, e)) > 0) {
		char *p = chunk;

		if (skipping) {
			char *nl = memchr(chunk, '\n', (size_t)n);

			if (!nl)
				continue;
			skipping = 0;
			n -= nl + 1 - chunk;
			p = nl + 1;
		}
		if (arc_stream_write(s, p, (size_t)n, e) < 0)
			goto out;
	}
	if (n < 0)
		goto out;
	r = arc_stream_end(s, bytes, e);
	s = NULL;
out:
	arc_stream_abort(s);
	xport_fclose(f, &ignored);
	free(chunk);
	return r;
}

/* ---- a command's output ------------------------------------------------ */

/* stderr, drained on its own thread so a chatty command cannot block on
 * it while stdout is read: the first ERR_HEAD bytes and the last
 * ERR_TAIL. */
struct drain {
	int fd;
	struct buf head;
	char tail[ERR_TAIL];
	size_t ntail, total;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	char chunk[4096];
	ssize_t n;

	while ((n = read(d->fd, chunk, sizeof(chunk))) > 0 ||
	       (n < 0 && errno == EINTR)) {
		size_t k = n > 0 ? (size_t)n : 0;

		if (d->head.len < ERR_HEAD)
			buf_add(&d->head, chunk, k < ERR_HEAD - d->head.len ? k :
				ERR_HEAD - d->head.len);
		d->total += k;
		if (k >= ERR_TAIL) {
			memcpy(d->tail, chunk + k - ERR_TAIL, ERR_TAIL);
			d->ntail = ERR_TAIL;
		} else {
			size_t keep = d->ntail + k > ERR_TAIL ? ERR_TAIL - k :
				      d->ntail;

			memmove(d->tail, d->tail + d->ntail - keep, keep);
			memcpy(d->tail + keep, chunk, k);
			d->ntail = keep + k;
		}
	}
	return NULL;
}

static void drain_result(struct drain *d, struct buf *out)
{
	buf_reset(out);
	if (d->total <= ERR_HEAD) {
		buf_add(out, d->head.p, d->head.len);
		return;
	}
	buf_add(out, d->head.p, d->head.len);
	buf_addstr(out, "\n...\n");
	buf_add(out, d->tail, d->ntail);
}

/* "ferry-exit:N" at the end of stderr: the command's status, in st, and
 * gone from what the caller sees. */
static void take_trailer(struct buf *errout, struct proc_status *st)
{
	char *t = NULL, *q = errout->p;
	int code;

	while (q && (q = strstr(q, TRAILER)))
		t = q++;
	if (!t || sscanf(t + strlen(TRAILER), "%d", &code) != 1)
		return;
	st->exited = 1;
	st->code = code;
	st->signal[0] = '\0';
	while (t > errout->p && (t[-1] == '\n' || t[-1] == '\r'))
		t--;
	buf_setlen(errout, (size_t)(t - errout->p));
}

static int plain_copy(int fd, struct arc_stream *s, struct err *e)
{
	char *chunk = xmalloc(CHUNK);
	ssize_t n;
	int r = 0;

	while ((n = read(fd, chunk, CHUNK)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && arc_stream_write(s, chunk, (size_t)n, e) < 0) {
			r = -1;
			break;
		}
	if (r == 0 && n < 0)
		r = err_set(e, FX_CONN, "reading the server's output: %s",
			    strerror(errno));
	free(chunk);
	return r;
}

static int unpacked(struct arc_stream *s, const void *p, size_t n,
		    struct err *e)
{
	return n ? arc_stream_write(s, p, n, e) : 0;
}

static int zstd_copy(int fd, struct arc_stream *s, struct err *e)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	char *in = xmalloc(CHUNK), *out = xmalloc(CHUNK);
	size_t hint = 0;
	ssize_t n;
	int r = -1;

	while ((n = read(fd, in, CHUNK)) > 0 || (n < 0 && errno == EINTR)) {
		ZSTD_inBuffer ib = { in, n > 0 ? (size_t)n : 0, 0 };
		ZSTD_outBuffer ob;

		/* Until the input is used up and the output no longer fills
		 * the buffer (then nothing is held back). */
		do {
			ob = (ZSTD_outBuffer){ out, CHUNK, 0 };
			hint = ZSTD_decompressStream(z, &ob, &ib);
			if (ZSTD_isError(hint)) {
				err_set(e, FX_REMOTE, "the server's zstd output is "
					"damaged: %s", ZSTD_getErrorName(hint));
				goto out;
			}
			if (unpacked(s, out, ob.pos, e) < 0)
				goto out;
		} while (ib.pos < ib.size || ob.pos == ob.size);
	}
	if (n < 0)
		err_set(e, FX_CONN, "reading the server's output: %s",
			strerror(errno));
	else if (hint)
		err_set(e, FX_REMOTE, "the server's zstd output ended early");
	else
		r = 0;
out:
	ZSTD_freeDStream(z);
	free(in);
	free(out);
	return r;
}

static int gzip_copy(int fd, struct arc_stream *s, struct err *e)
{
	z_stream z = { 0 };
	unsigned char *in = xmalloc(CHUNK), *out = xmalloc(CHUNK);
	int zr = Z_OK, seen = 0, r = -1;
	ssize_t n;

	/* 16: the gzip wrapper, not zlib's. */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		err_set(e, FX_FAIL, "zlib: cannot start inflate");
		free(in);
		free(out);
		return -1;
	}
	while ((n = read(fd, in, CHUNK)) > 0 || (n < 0 && errno == EINTR)) {
		if (n <= 0 || zr == Z_STREAM_END)
			continue;	/* nothing follows gzip's one member */
		z.next_in = in;
		z.avail_in = (uInt)n;
		seen = 1;
		do {
			z.next_out = out;
			z.avail_out = CHUNK;
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				err_set(e, FX_REMOTE, "the server's gzip output is "
					"damaged: %s", z.msg ? z.msg : "inflate");
				goto out;
			}
			if (unpacked(s, out, CHUNK - z.avail_out, e) < 0)
				goto out;
		} while (zr != Z_STREAM_END && (z.avail_in || !z.avail_out));
	}
	if (n < 0)
		err_set(e, FX_CONN, "reading the server's output: %s",
			strerror(errno));
	else if (seen && zr != Z_STREAM_END)
		err_set(e, FX_REMOTE, "the server's gzip output ended early");
	else
		r = 0;
out:
	inflateEnd(&z);
	free(in);
	free(out);
	return r;
}

int fetch_exec(struct xport *x, const char *cmd, enum fetch_codec codec,
	       struct arc *a, const char *member, uint64_t *bytes,
	       struct buf *errout, struct proc_status *st, struct err *e)
{
	struct xproc *p = NULL;
	struct arc_stream *s = NULL;
	struct drain d = { -1, BUF_INIT, { 0 }, 0, 0 };
	struct buf full = BUF_INIT;
	pthread_t tid;
	int in = -1, out = -1, started = 0, r = -1;

	*bytes = 0;
	/* The pipeline's status would be the compressor's: the command's
	 * own comes back as the last line of stderr. */
	buf_printf(&full, "{ (%s\n); echo \"" TRAILER "$?\" >&2; }", cmd);
	if (codec == FETCH_ZSTD)
		buf_addstr(&full, " | zstd -q -c -3");
	else if (codec == FETCH_GZIP)
		buf_addstr(&full, " | gzip -c -1");
	if (xport_spawn(x, buf_str(&full), &p, &in, &out, &d.fd, e) < 0)
		goto out;
	close(in);
	if (pthread_create(&tid, NULL, drain_main, &d) != 0) {
		err_set(e, FX_FAIL, "cannot start a thread");
		goto out;
	}
	started = 1;
	if (arc_stream_begin(a, member, &s, e) < 0 ||
	    (codec == FETCH_ZSTD ? zstd_copy(out, s, e) :
	     codec == FETCH_GZIP ? gzip_copy(out, s, e) :
	     plain_copy(out, s, e)) < 0)
		goto out;
	r = arc_stream_end(s, bytes, e);
	s = NULL;
out:
	arc_stream_abort(s);
	if (out >= 0)
		close(out);
	if (started)
		pthread_join(tid, NULL);
	if (d.fd >= 0)
		close(d.fd);
	if (p && xproc_wait(p, st, r < 0 ? NULL : e) < 0)
		r = -1;
	drain_result(&d, errout);
	take_trailer(errout, st);
	buf_release(&d.head);
	buf_release(&full);
	return r;
}

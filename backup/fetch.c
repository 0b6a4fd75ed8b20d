#include "backup/fetch.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "backup/archive.h"
#include "net/xport.h"
#include "net/xport_fs.h"
#include "util/escape.h"
#include "util/fdio.h"

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

void fetch_blame(struct arc *a, const char *comp, const char *path,
		 struct err *e)
{
	struct err ae = ERR_INIT;
	char *shown;

	if (a && arc_sync(a, &ae) < 0) {
		*e = ae;
		err_wrap(e, "%s", comp);
		return;
	}
	shown = esc_str(path);
	/* The transport's own error may already name the file. */
	if (strstr(e->msg, shown))
		err_wrap(e, "%s", comp);
	else
		err_wrap(e, "%s: %s", comp, shown);
	free(shown);
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

/* The command's stdout, decoded as it is read. */
struct fetch_cmd {
	struct xproc *p;
	enum fetch_codec codec;
	int in, out;
	long long timeout_ms;
	struct drain d;
	pthread_t tid;
	int started;
	unsigned char *inbuf;	/* compressed input, [ipos, ilen) unused */
	size_t ipos, ilen;
	int eof;		/* out has ended */
	int pending;		/* the decoder may hold output without input */
	size_t hint;		/* zstd: 0 at the end of a frame */
	int zr;			/* gzip: inflate's last result */
	int seen;		/* gzip: some input came */
	ZSTD_DStream *zd;
	z_stream zg;
};

/* Reads stdout, waiting at most timeout_ms for a byte. */
static ssize_t out_read(struct fetch_cmd *f, void *buf, size_t n,
			struct err *e)
{
	struct pollfd pf = { f->out, POLLIN, 0 };
	ssize_t got;
	int r;

	for (;;) {
		if (f->timeout_ms > 0) {
			r = poll(&pf, 1, f->timeout_ms > INT_MAX ? INT_MAX :
				 (int)f->timeout_ms);
			if (r < 0 && errno == EINTR)
				continue;
			if (r == 0)
				return err_set(e, FX_CONN, "timed out: no data "
					       "from the server for %lld s",
					       f->timeout_ms / 1000);
		}
		got = read(f->out, buf, n);
		if (got >= 0 || errno != EINTR)
			break;
	}
	if (got < 0)
		return err_set(e, FX_CONN, "reading the server's output: %s",
			       strerror(errno));
	return got;
}

/* More compressed input: 0, or 1 at its end. */
static int refill(struct fetch_cmd *f, struct err *e)
{
	ssize_t n = out_read(f, f->inbuf, CHUNK, e);

	if (n < 0)
		return -1;
	f->ipos = 0;
	f->ilen = (size_t)n;
	f->eof = n == 0;
	return f->eof;
}

static ssize_t zstd_read(struct fetch_cmd *f, void *buf, size_t n,
			 struct err *e)
{
	for (;;) {
		ZSTD_inBuffer ib;
		ZSTD_outBuffer ob = { buf, n, 0 };
		int r;

		if (f->ipos == f->ilen && !f->pending) {
			if ((r = refill(f, e)) < 0)
				return -1;
			if (r)
				return f->hint ? err_set(e, FX_REMOTE, "the "
					"server's zstd output ended early") : 0;
		}
		ib = (ZSTD_inBuffer){ f->inbuf, f->ilen, f->ipos };
		f->hint = ZSTD_decompressStream(f->zd, &ob, &ib);
		if (ZSTD_isError(f->hint))
			return err_set(e, FX_REMOTE, "the server's zstd output "
				       "is damaged: %s",
				       ZSTD_getErrorName(f->hint));
		f->ipos = ib.pos;
		/* A full output buffer may leave more behind. */
		f->pending = ob.pos == ob.size;
		if (ob.pos)
			return (ssize_t)ob.pos;
	}
}

static ssize_t gzip_read(struct fetch_cmd *f, void *buf, size_t n,
			 struct err *e)
{
	for (;;) {
		int r;

		if (f->zr == Z_STREAM_END) {
			/* Nothing follows gzip's one member: drain to EOF. */
			while ((r = refill(f, e)) == 0)
				;
			return r < 0 ? -1 : 0;
		}
		if (f->ipos == f->ilen && !f->pending) {
			if ((r = refill(f, e)) < 0)
				return -1;
			if (r)
				return !f->seen ? 0 : err_set(e,
					FX_REMOTE, "the server's gzip output "
					"ended early");
		}
		f->seen = 1;
		f->zg.next_in = f->inbuf + f->ipos;
		f->zg.avail_in = (uInt)(f->ilen - f->ipos);
		f->zg.next_out = buf;
		f->zg.avail_out = (uInt)n;
		f->zr = inflate(&f->zg, Z_NO_FLUSH);
		if (f->zr != Z_OK && f->zr != Z_STREAM_END && f->zr != Z_BUF_ERROR)
			return err_set(e, FX_REMOTE, "the server's gzip output "
				       "is damaged: %s", f->zg.msg ? f->zg.msg :
				       "inflate");
		f->ipos = f->ilen - f->zg.avail_in;
		f->pending = f->zg.avail_out == 0;
		if (n - f->zg.avail_out)
			return (ssize_t)(n - f->zg.avail_out);
	}
}

ssize_t fetch_read(struct fetch_cmd *f, void *buf, size_t n, struct err *e)
{
	if (n > UINT_MAX)
		n = UINT_MAX;
	if (f->codec == FETCH_ZSTD)
		return zstd_read(f, buf, n, e);
	if (f->codec == FETCH_GZIP)
		return gzip_read(f, buf, n, e);
	return out_read(f, buf, n, e);
}

int fetch_start(struct xport *x, const char *cmd, enum fetch_codec codec,
		const struct fetch_opts *o, struct fetch_cmd **out,
		struct err *e)
{
	static const struct fetch_opts none = { NULL, 0, 0 };
	struct fetch_cmd *f = xcalloc(1, sizeof(*f));
	struct buf full = BUF_INIT;
	int r = -1;

	if (!o)
		o = &none;
	*out = f;
	f->codec = codec;
	f->in = f->out = f->d.fd = -1;
	f->timeout_ms = o->timeout_ms;
	f->inbuf = xmalloc(CHUNK);
	if (codec == FETCH_ZSTD)
		f->zd = ZSTD_createDStream();
	/* 16: the gzip wrapper, not zlib's. */
	if (codec == FETCH_GZIP && inflateInit2(&f->zg, 16 + MAX_WBITS) != Z_OK) {
		f->codec = FETCH_PLAIN;
		return err_set(e, FX_FAIL, "zlib: cannot start inflate");
	}
	/* The pipeline's status would be the compressor's: the command's
	 * own comes back as the last line of stderr. */
	buf_printf(&full, "{ (%s\n); echo \"" TRAILER "$?\" >&2; }", cmd);
	if (codec == FETCH_ZSTD)
		buf_addstr(&full, " | zstd -q -c -3");
	else if (codec == FETCH_GZIP)
		buf_addstr(&full, " | gzip -c -1");
	if (xport_spawn(x, buf_str(&full), &f->p, &f->in, &f->out, &f->d.fd,
			e) < 0)
		goto out;
	if (o->input && (fd_write_all(f->in, o->input, strlen(o->input)) < 0 ||
			 fd_write_all(f->in, "\n", 1) < 0)) {
		err_set(e, FX_REMOTE, "the command on the server did not read "
			"its input");
		goto out;
	}
	if (pthread_create(&f->tid, NULL, drain_main, &f->d) != 0) {
		err_set(e, FX_FAIL, "cannot start a thread");
		goto out;
	}
	f->started = 1;
	r = 0;
out:
	if (f->in >= 0 && !o->hold_input) {
		close(f->in);
		f->in = -1;
	}
	buf_release(&full);
	return r;
}

int fetch_end(struct fetch_cmd *f, int ok, struct buf *errout,
	      struct proc_status *st, struct err *e)
{
	int r = ok ? 0 : -1;

	if (!f)
		return r;
	if (f->in >= 0)
		close(f->in);
	if (f->out >= 0)
		close(f->out);
	if (f->started)
		pthread_join(f->tid, NULL);
	if (f->d.fd >= 0)
		close(f->d.fd);
	memset(st, 0, sizeof(*st));
	if (f->p && xproc_wait(f->p, st, ok ? e : NULL) < 0)
		r = -1;
	drain_result(&f->d, errout);
	take_trailer(errout, st);
	buf_release(&f->d.head);
	if (f->zd)
		ZSTD_freeDStream(f->zd);
	if (f->codec == FETCH_GZIP)
		inflateEnd(&f->zg);
	free(f->inbuf);
	free(f);
	return r;
}

int fetch_exec(struct xport *x, const char *cmd, enum fetch_codec codec,
	       struct arc *a, const char *member, uint64_t *bytes,
	       struct buf *errout, struct proc_status *st, struct err *e)
{
	struct fetch_cmd *f = NULL;
	struct arc_stream *s = NULL;
	char *chunk = xmalloc(CHUNK);
	ssize_t n = -1;
	int r = -1;

	*bytes = 0;
	if (fetch_start(x, cmd, codec, NULL, &f, e) < 0 ||
	    arc_stream_begin(a, member, &s, e) < 0)
		goto out;
	while ((n = fetch_read(f, chunk, CHUNK, e)) > 0)
		if (arc_stream_write(s, chunk, (size_t)n, e) < 0)
			goto out;
	if (n == 0) {
		r = arc_stream_end(s, bytes, e);
		s = NULL;
	}
out:
	arc_stream_abort(s);
	free(chunk);
	return fetch_end(f, r == 0, errout, st, e) < 0 ? -1 : r;
}

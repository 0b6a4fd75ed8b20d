#include "deploy/send.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/buf.h"
#include "agent/fdio.h"
#include "agent/log.h"
#include "agent/shquote.h"
#include "agent/xport.h"

#define CHUNK (64u * 1024)

/*
 * Unpack into staging, then: directories (created, modes applied), then
 * every other entry renamed over its final name (rename(2): atomic; GNU mv
 * batches a directory's files in one process), then directory mtimes,
 * deepest first.  Entries whose type changes were removed beforehand.
 */
static const char script[] =
	"set -e; cd -- \"$D\"; S=.ferry/stage-$$; mkdir -p \"$S\"; "
	"trap 'cd -- \"$D\" && rm -rf -- \"$S\"' EXIT HUP INT TERM; "
	"$DEC | tar -xpf - -C \"$S\"; cd \"$S\"; "
	"find . -mindepth 1 -type d -print0 | xargs -0 -r sh -c 'for d; do "
	"mkdir -p -- \"$0/$d\"; chmod \"$(stat -c %a -- \"$d\")\" -- \"$0/$d\"; "
	"done' \"$D\"; "
	"if mv --version 2>/dev/null | grep -q GNU; then "
	"{ printf '.\\0'; find . -mindepth 1 -type d -print0; } | "
	"xargs -0 -r sh -c 'for d; do find \"$d\" -mindepth 1 -maxdepth 1 "
	"! -type d -exec mv -f -t \"$0/$d\" -- {} +; done' \"$D\"; "
	"else find . -mindepth 1 ! -type d -print0 | xargs -0 -r sh -c "
	"'for f; do mv -f -- \"$f\" \"$0/$f\"; done' \"$D\"; fi; "
	"find . -mindepth 1 -depth -type d -print0 | xargs -0 -r sh -c 'for d; "
	"do touch -r \"$d\" -- \"$0/$d\"; done' \"$D\"";

struct drain {
	int fd;
	struct buf text;
};

/* The server's output must be read while we write, or a chatty tar could
 * block both sides. */
static void *drain_main(void *arg)
{
	struct drain *d = arg;
	char chunk[4096];
	ssize_t n;

	while ((n = read(d->fd, chunk, sizeof(chunk))) > 0)
		if (d->text.len < 65536)
			buf_add(&d->text, chunk, (size_t)n);
	return NULL;
}

static la_ssize_t to_fd(struct archive *a, void *ud, const void *buf,
			size_t len)
{
	(void)a;
	return fd_write_all(*(int *)ud, buf, len) < 0 ? -1 : (la_ssize_t)len;
}

/* Progress on a terminal only: files, bytes, rate, ETA on stderr. */
struct progress {
	int on;
	size_t files, nfiles;
	uint64_t total;
	struct timespec t0, last;
};

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
		(double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void show(struct progress *pg, uint64_t bytes, int final)
{
	double el, rate;

	if (!pg->on || (!final && since(&pg->last) < 0.25))
		return;
	clock_gettime(CLOCK_MONOTONIC, &pg->last);
	el = since(&pg->t0);
	rate = el > 0 ? (double)bytes / el : 0;
	fprintf(stderr, "\r%zu/%zu entries, %.1f/%.1f MB, %.1f MB/s, ETA %.0fs   %s",
		pg->files, pg->nfiles, (double)bytes / 1e6, (double)pg->total / 1e6,
		rate / 1e6, rate > 0 ? (double)(pg->total - bytes) / rate : 0.0,
		final ? "\n" : "");
}

static int add_file(struct archive *a, const char *local, const struct fentry *f,
		    unsigned char *chunk, uint64_t *bytes, struct progress *pg,
		    struct err *e)
{
	uint64_t left = f->size;
	int fd = open(local, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(e, FX_FAIL, "read %s: %s", local, strerror(errno));
	while (left > 0) {
		ssize_t n = read(fd, chunk, left < CHUNK ? (size_t)left : CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Shrunk while we read: pad to the size announced. */
			log_warn("%s changed while being sent", local);
			memset(chunk, 0, CHUNK);
			n = (ssize_t)(left < CHUNK ? left : CHUNK);
		}
		if (archive_write_data(a, chunk, (size_t)n) != n) {
			close(fd);
			return err_set(e, FX_CONN, "send %s: %s", f->path,
				       archive_error_string(a));
		}
		left -= (uint64_t)n;
		*bytes += (uint64_t)n;
		show(pg, *bytes, 0);
	}
	close(fd);
	return 0;
}

static int write_entries(struct archive *a, const char *root,
			 const struct fentry *const *items, size_t n,
			 uint64_t *bytes, struct err *e)
{
	unsigned char *chunk = xmalloc(CHUNK);
	struct progress pg = { isatty(STDERR_FILENO), 0, n, 0, { 0, 0 }, { 0, 0 } };
	int r = 0;

	for (size_t i = 0; i < n; i++)
		pg.total += items[i]->type == 'f' ? items[i]->size : 0;
	clock_gettime(CLOCK_MONOTONIC, &pg.t0);

	for (size_t i = 0; i < n && r == 0; i++) {
		const struct fentry *f = items[i];
		struct archive_entry *ent = archive_entry_new();
		char *local = xstrfmt("%s/%s", root, f->path);

		archive_entry_set_pathname_utf8(ent, f->path);
		archive_entry_set_perm(ent, f->mode);
		archive_entry_set_mtime(ent, f->mtime, 0);
		if (f->type == 'd') {
			archive_entry_set_filetype(ent, AE_IFDIR);
		} else if (f->type == 'l') {
			archive_entry_set_filetype(ent, AE_IFLNK);
			archive_entry_set_symlink_utf8(ent, f->link);
		} else {
			archive_entry_set_filetype(ent, AE_IFREG);
			archive_entry_set_size(ent, (la_int64_t)f->size);
		}
		if (archive_write_header(a, ent) != ARCHIVE_OK)
			r = err_set(e, FX_CONN, "send %s: %s", f->path,
				    archive_error_string(a));
		else if (f->type == 'f')
			r = add_file(a, local, f, chunk, bytes, &pg, e);
		archive_entry_free(ent);
		free(local);
		pg.files++;
	}
	if (r == 0)
		show(&pg, *bytes, 1);
	free(chunk);
	return r;
}

int send_entries(struct xport *x, const char *local_root, const char *rdir,
		 const struct fentry *const *items, size_t n,
		 enum send_codec codec, uint64_t *bytes, struct err *e)
{
	static const char *const dec[] = { "cat", "gzip -dc", "zstd -dcq" };
	struct drain dout = { -1, BUF_INIT }, derr = { -1, BUF_INIT };
	struct buf cmd = BUF_INIT;
	struct archive *a = NULL;
	struct xproc *p = NULL;
	struct proc_status st;
	pthread_t to, te;
	int in = -1, r = -1, wr;

	*bytes = 0;
	buf_addstr(&cmd, "D=");
	sh_quote(&cmd, rdir);
	buf_printf(&cmd, "; DEC='%s'; ", dec[codec]);
	buf_addstr(&cmd, script);
	if (xport_spawn(x, buf_str(&cmd), &p, &in, &dout.fd, &derr.fd, e) < 0)
		goto out;
	pthread_create(&to, NULL, drain_main, &dout);
	pthread_create(&te, NULL, drain_main, &derr);
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (codec == CODEC_ZSTD)
		archive_write_add_filter_zstd(a);
	else if (codec == CODEC_GZIP)
		archive_write_add_filter_gzip(a);
	archive_write_set_bytes_in_last_block(a, 1);
	wr = archive_write_open2(a, &in, NULL, to_fd, NULL, NULL) == ARCHIVE_OK ?
		write_entries(a, local_root, items, n, bytes, e) :
		err_set(e, FX_FAIL, "archive: %s", archive_error_string(a));
	if (wr == 0 && archive_write_close(a) != ARCHIVE_OK)
		wr = err_set(e, FX_CONN, "send: %s", archive_error_string(a));
	archive_write_free(a);
	close(in);
	pthread_join(to, NULL);
	pthread_join(te, NULL);
	close(dout.fd);
	close(derr.fd);
	if (xproc_wait(p, &st, wr < 0 ? NULL : e) < 0 || wr < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		char why[64];

		err_set(e, FX_REMOTE, "unpacking on the server failed (%s): %.300s",
			proc_status_text(&st, why, sizeof(why)),
			buf_str(&derr.text));
		goto out;
	}
	r = 0;
out:
	buf_release(&cmd);
	buf_release(&dout.text);
	buf_release(&derr.text);
	return r;
}

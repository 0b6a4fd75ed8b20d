#include "deploy/send.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/escape.h"
#include "util/fdio.h"
#include "util/laclose.h"
#include "util/progress.h"
#include "util/shquote.h"
#include "net/xport.h"
#include "util/zout.h"

#define CHUNK (64u * 1024)

/*
 * Placing the unpacked stage, in one perl process where the server has perl
 * (Debian's and Ubuntu's perl-base is essential; most other systems ship
 * it): the stream's own lists sit in $S/.ferry (retype, chmod, delete:
 * NUL-separated, paths as "./path", chmod as "MODE\0./path" pairs).  Remove
 * what changes type; then place entries top-down: an entry whose target
 * does not exist yet -- a whole new directory included -- is renamed into
 * place in one step, an existing directory is descended into, and anything
 * else is renamed over its target (rename(2): atomic, so every file is old
 * or new, never half-written); a stage directory emptied so goes at once,
 * which leaves the trap's rm -rf nothing to walk.  Last, mode changes of
 * existing directories, deletions, and the stage's own lists: the trap
 * finds no stage and starts no rm.  One process for every directory the
 * change touches: a change scattered over 250 directories cost 250 mv
 * processes (most of a deploy's time on a busy server) in the shell
 * version below.
 */
static const char place_pl[] =
	"use strict; my $S = $ARGV[0]; "
	"sub fail { print STDERR \"ferry: $_[0]: $!\\n\"; exit 1 } "
	"sub names { opendir(my $h, $_[0]) or fail($_[0]); "
	"my @n = grep { !/^\\.\\.?\\z/ } readdir $h; closedir $h; @n } "
	"sub list { open(my $h, '<', \"$S/.ferry/$_[0]\") or return (); "
	"local $/; my $t = <$h>; defined $t ? split(/\\0/, $t) : () } "
	/* rm -rf: a missing entry is no error (ENOTDIR: a parent is now a
	 * file, as rm -f counts it) */
	"sub gone { my $p = shift; unless (lstat $p) { "
	"return if $!{ENOENT} || $!{ENOTDIR}; "
	"fail($p) } if (-d _) { gone(\"$p/$_\") for names($p); "
	"rmdir $p or fail($p) } else { unlink $p or fail($p) } } "
	"sub place { my ($dir, $top) = @_; for (names(\"$S/$dir\")) { "
	"next if $top && $_ eq '.ferry'; "
	"my ($s, $t) = (\"$S/$dir/$_\", \"$dir/$_\"); "
	"if (lstat($s) && -d _ && lstat($t) && -d _) { place($t, 0); rmdir $s } "
	"else { rename($s, $t) or fail($t) } } } "
	"gone($_) for list('retype'); place('.', 1); "
	"my @c = list('chmod'); "
	"while (my ($m, $p) = splice(@c, 0, 2)) { chmod(oct($m), $p) or fail($p) } "
	"gone($_) for list('delete'); gone($S);";

/*
 * Unpack into staging, then place (above).  Without perl, the same steps
 * in the shell: GNU mv takes a directory's worth in one process, other mvs
 * one entry each.  One exec does it all.
 */
static const char script[] =
	"set -e; cd -- \"$D\"; S=\"$D/.ferry/stage-$$\"; mkdir -p \"$S\"; "
	/* the test first: perl leaves no stage, and rm is one more process;
	 * PIPE: our stderr is gone once the client is (killed, cut off) */
	"trap '[ ! -e \"$S\" ] || rm -rf -- \"$S\"' EXIT HUP INT TERM PIPE; "
	"$DEC | tar -xpf - -C \"$S\"; "
	/* tar takes a stream cut between two members (the client killed,
	 * the connection closed) for a whole one: only the last member
	 * tells that everything came */
	"if [ ! -e \"$S/.ferry/end\" ]; then "
	"echo 'ferry: the file stream ended early' >&2; exit 1; fi; "
	"if command -v perl >/dev/null 2>&1; then "
	"perl -e \"$P\" -- \"$S\"; exit 0; fi; M=\"$S.meta\"; "
	"if [ -d \"$S/.ferry\" ]; then mv \"$S/.ferry\" \"$M\"; else mkdir \"$M\"; fi; "
	"trap 'rm -rf -- \"$S\" \"$M\"' EXIT HUP INT TERM PIPE; "
	"run() { f=\"$M/$1\"; shift; if [ -s \"$f\" ]; then xargs -0 -r \"$@\" <\"$f\"; fi; }; "
	"run retype rm -rf --; "
	"G=; if mv --version 2>/dev/null | grep -q GNU; then G=1; fi; "
	"place() { local dir=\"$1\" e n t; set --; "
	"for e in \"$S/$dir\"/* \"$S/$dir\"/.[!.]* \"$S/$dir\"/..?*; do "
	"[ -e \"$e\" ] || [ -L \"$e\" ] || continue; n=${e#\"$S/\"}; "
	"t=\"$D/$n\"; if [ -d \"$e\" ] && [ ! -L \"$e\" ] && [ -d \"$t\" ] && "
	"[ ! -L \"$t\" ]; then place \"$n\"; elif [ -n \"$G\" ]; then "
	"set -- \"$@\" \"$e\"; else mv -f -- \"$e\" \"$t\"; fi; done; "
	"if [ $# -gt 0 ]; then mv -f -t \"$D/$dir\" -- \"$@\"; fi; }; "
	"place .; run chmod -n 2 chmod; run delete rm -rf --";

/* The server's stdout and stderr (the first 64 KiB of each kept). */
struct drain {
	int fd[2];
	struct buf text[2];
};

/* The server's output must be read while we write, or a chatty tar could
 * block both sides. */
static void *drain_main(void *arg)
{
	struct drain *d = arg;
	char chunk[4096];

	while (d->fd[0] >= 0 || d->fd[1] >= 0) {
		struct pollfd pfd[2] = { { d->fd[0], POLLIN, 0 },
					 { d->fd[1], POLLIN, 0 } };

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (d->fd[i] < 0 || !pfd[i].revents)
				continue;
			n = read(d->fd[i], chunk, sizeof(chunk));
			if (n <= 0) {
				close(d->fd[i]);
				d->fd[i] = -1;
			} else {
				buf_add_capped(&d->text[i], chunk, (size_t)n);
			}
		}
	}
	return NULL;
}

struct sink {
	int fd;
	struct zout *z;		/* zstd here, multi-threaded; NULL: as is */
	int cut;		/* failed: nothing more goes to the server */
	int broke;		/* a write failed: the server's side ended? */
};

static la_ssize_t to_sink(struct archive *a, void *ud, const void *buf,
			  size_t len)
{
	struct sink *k = ud;
	int r;

	if (k->cut) {
		archive_set_error(a, ECANCELED, "the stream was cut");
		return -1;
	}
	r = k->z ? zout_write(k->z, buf, len) : fd_write_all(k->fd, buf, len);
	if (r < 0) {
		k->broke = 1;
		archive_set_error(a, EIO, "%s", k->z ? zout_error(k->z) :
				  strerror(errno));
		return -1;
	}
	return (la_ssize_t)len;
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
			/* The header announced the size of the scan: a file
			 * cut short since can only be padded, and a padded
			 * file is neither old nor new.  The stream ends here
			 * without its end mark, so nothing is placed. */
			int err = n < 0 ? errno : 0;

			close(fd);
			if (err)
				return err_set(e, FX_FAIL, "read %s: %s", local,
					       strerror(err));
			return err_set(e, FX_FAIL, "%s shrank while being sent "
				       "(%llu of %llu bytes): nothing was placed; "
				       "deploy again", local,
				       (unsigned long long)(f->size - left),
				       (unsigned long long)f->size);
		}
		if (archive_write_data(a, chunk, (size_t)n) != n) {
			close(fd);
			return err_set(e, FX_CONN, "send %s: %s", f->path,
				       archive_error_string(a));
		}
		left -= (uint64_t)n;
		*bytes += (uint64_t)n;
		progress_update(pg, *bytes);
	}
	close(fd);
	return 0;
}

/* A small member under .ferry/ in the stage: a list, or the end mark. */
static int add_meta(struct archive *a, const char *name, const void *data,
		    size_t len, struct err *e)
{
	struct archive_entry *ent = archive_entry_new();
	char *path = xstrfmt(".ferry/%s", name);
	int r = 0;

	archive_entry_set_pathname(ent, path);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0600);
	archive_entry_set_size(ent, (la_int64_t)len);
	if (archive_write_header(a, ent) != ARCHIVE_OK ||
	    (len && archive_write_data(a, data, len) != (la_ssize_t)len))
		r = err_set(e, FX_CONN, "send: %s", archive_error_string(a));
	archive_entry_free(ent);
	free(path);
	return r;
}

/* A NUL-separated list as the member .ferry/NAME ("MODE\0./path\0" pairs
 * for chmod). */
static int add_list(struct archive *a, const char *name,
		    const struct send_list *l, int modes, struct err *e)
{
	struct buf b = BUF_INIT;
	int r;

	if (!l->n)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		if (modes)
			buf_printf(&b, "%o%c", l->v[i]->mode, 0);
		buf_printf(&b, "./%s%c", l->v[i]->path, 0);
	}
	r = add_meta(a, name, b.p, b.len, e);
	buf_release(&b);
	return r;
}

/* The exact bytes of the entry's names: UTF-8 ones as such, others as
 * the pax "hdrcharset=BINARY" form, which GNU tar writes back byte for
 * byte (libarchive refuses a UTF-8 name that is not UTF-8). */
static void set_names(struct archive_entry *ent, const struct fentry *f)
{
	if (esc_utf8(f->path))
		archive_entry_set_pathname_utf8(ent, f->path);
	else
		archive_entry_copy_pathname(ent, f->path);
	if (f->type != 'l')
		return;
	if (esc_utf8(f->link))
		archive_entry_set_symlink_utf8(ent, f->link);
	else
		archive_entry_copy_symlink(ent, f->link);
}

static int write_entries(struct archive *a, const char *root,
			 const struct fentry *const *items, size_t n,
			 uint64_t *bytes, struct err *e)
{
	unsigned char *chunk = xmalloc(CHUNK);
	struct progress pg;
	uint64_t total = 0;
	int r = 0;

	for (size_t i = 0; i < n; i++)
		total += items[i]->type == 'f' ? items[i]->size : 0;
	progress_start(&pg, "deploy", total);
	progress_set_items(&pg, 0, n, "entries");

	for (size_t i = 0; i < n && r == 0; i++) {
		const struct fentry *f = items[i];
		struct archive_entry *ent = archive_entry_new();
		char *local = xstrfmt("%s/%s", root, f->path);

		set_names(ent, f);
		archive_entry_set_perm(ent, f->mode);
		archive_entry_set_mtime(ent, f->mtime, 0);
		if (f->type == 'd') {
			archive_entry_set_filetype(ent, AE_IFDIR);
		} else if (f->type == 'l') {
			archive_entry_set_filetype(ent, AE_IFLNK);
		} else {
			archive_entry_set_filetype(ent, AE_IFREG);
			archive_entry_set_size(ent, (la_int64_t)f->size);
		}
		/* ARCHIVE_WARN: a name that is not UTF-8 went as binary. */
		if (archive_write_header(a, ent) < ARCHIVE_WARN)
			r = err_set(e, FX_CONN, "send %s: %s", f->path,
				    archive_error_string(a));
		else if (f->type == 'f')
			r = add_file(a, local, f, chunk, bytes, &pg, e);
		archive_entry_free(ent);
		free(local);
		progress_set_items(&pg, i + 1, n, "entries");
	}
	if (r == 0)
		progress_end(&pg);
	else
		progress_abort(&pg);
	free(chunk);
	return r;
}

/*
 * Up to this much, one zstd thread: workers hold their output until a
 * 1 MiB job is done, so the wire idles while a small change is read (the
 * scattered bench's 250 files: ~10 ms later on the server); one thread
 * streams as it reads.
 */
#define SMALL_SEND (4u << 20)

static uint64_t send_bytes(const struct send_list *l)
{
	uint64_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i]->type == 'f' ? l->v[i]->size : 0;
	return n;
}

int send_entries(struct xport *x, const char *local_root, const char *rdir,
		 const struct send_lists *l, enum send_codec codec,
		 uint64_t *bytes, struct err *e)
{
	static const char *const dec[] = { "cat", "gzip -dc", "zstd -dcq" };
	struct drain dr = { { -1, -1 }, { BUF_LIMITED(65536), BUF_LIMITED(65536) } };
	struct buf cmd = BUF_INIT;
	struct archive *a = NULL;
	struct xproc *p = NULL;
	struct proc_status st;
	struct sink sink = { -1, NULL, 0, 0 };
	pthread_t drainer;
	int in = -1, r = -1, wr;

	*bytes = 0;
	buf_addstr(&cmd, "D=");
	sh_quote(&cmd, rdir);
	buf_printf(&cmd, "; DEC='%s'; P=", dec[codec]);
	sh_quote(&cmd, place_pl);
	buf_addstr(&cmd, "; ");
	buf_addstr(&cmd, script);
	if (xport_spawn(x, buf_str(&cmd), &p, &in, &dr.fd[0], &dr.fd[1], e) < 0)
		goto out;
	if (pthread_create(&drainer, NULL, drain_main, &dr) != 0) {
		err_set(e, FX_FAIL, "send: cannot start a thread");
		close(in);
		close(dr.fd[0]);
		close(dr.fd[1]);
		xproc_wait(p, &st, NULL);	/* the error is the thread's */
		goto out;
	}
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	sink.fd = in;
	if (codec == CODEC_ZSTD)
		sink.z = zout_new(in, 3, send_bytes(&l->send) < SMALL_SEND ? 1 : 0,
				  0);
	else if (codec == CODEC_GZIP)
		archive_write_add_filter_gzip(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open2(a, &sink, NULL, to_sink, NULL, NULL) != ARCHIVE_OK)
		wr = err_set(e, FX_FAIL, "archive: %s", archive_error_string(a));
	else if ((wr = add_list(a, "retype", &l->retype, 0, e)) == 0 &&
		 (wr = add_list(a, "chmod", &l->chmod, 1, e)) == 0 &&
		 (wr = add_list(a, "delete", &l->del, 0, e)) == 0)
		wr = write_entries(a, local_root, l->send.v, l->send.n, bytes, e);
	if (wr == 0)
		wr = add_meta(a, "end", NULL, 0, e);
	if (wr == 0 && archive_write_close(a) != ARCHIVE_OK)
		wr = err_set(e, FX_CONN, "send: %s", archive_error_string(a));
	if (wr == 0 && sink.z && zout_end(sink.z) < 0)
		wr = err_set(e, FX_CONN, "send: %s", zout_error(sink.z));
	/* After a failure the close's padding and trailer must not reach
	 * the server: the stream ends without its end mark. */
	la_close_free(a, &sink.cut);
	zout_free(sink.z);
	close(in);
	pthread_join(drainer, NULL);
	if (xproc_wait(p, &st, wr < 0 ? NULL : e) < 0 ||
	    (wr < 0 && !sink.broke))
		goto out;
	/* Our write broke because the server's side ended first: its exit
	 * and its words say why, not "broken pipe". */
	if (!st.exited || st.code != 0) {
		char why[64];

		err_set(e, FX_REMOTE, "unpacking on the server failed (%s): %.300s",
			proc_status_text(&st, why, sizeof(why)),
			buf_str(&dr.text[1]));
		goto out;
	}
	if (wr < 0)
		goto out;
	r = 0;
out:
	/* A broken pipe or a short stream is the connection's doing. */
	if (r < 0 && xport_lost(x))
		err_set(e, FX_CONN, "deploy: sending files: %s", xport_lost(x));
	buf_release(&cmd);
	buf_release(&dr.text[0]);
	buf_release(&dr.text[1]);
	return r;
}

#include "net/xport_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/shquote.h"

struct xfile {
	struct ssh_file *sf;	/* over SFTP */
	int fd;			/* local */
	int write;
	char *path;
};

struct xdir {
	struct ssh_dir *sd;	/* over SFTP */
	DIR *dir;		/* local */
	char *path;
};

static void local_stat(const struct stat *sb, struct ssh_stat *st)
{
	st->size = (uint64_t)sb->st_size;
	st->mode = sb->st_mode;
	st->mtime = (long long)sb->st_mtime;
}

char *xport_path(struct xport *x, const char *path)
{
	const char *home = getenv("HOME");

	if (strcmp(path, "~") && strncmp(path, "~/", 2))
		return xstrdup(path);
	/* The SFTP server resolves relative paths from the login directory. */
	if (!xport_is_local(x))
		return xstrdup(path[1] ? path + 2 : ".");
	return xstrfmt("%s%s", home && *home ? home : ".", path + 1);
}

int xport_lstat(struct xport *x, const char *path, struct ssh_stat *st,
		int *missing, struct err *e)
{
	struct stat sb;

	if (!xport_is_local(x))
		return ssh_sftp_lstat(xport_ssh(x), path, st, missing, e);
	*missing = 0;
	if (lstat(path, &sb) < 0) {
		*missing = errno == ENOENT || errno == ENOTDIR;
		return err_set(e, FX_FAIL, "stat %s: %s", path, strerror(errno));
	}
	local_stat(&sb, st);
	return 0;
}

int xport_readlink(struct xport *x, const char *path, struct buf *out,
		   struct err *e)
{
	char target[4096];
	ssize_t n;

	buf_reset(out);
	if (!xport_is_local(x)) {
		if (ssh_sftp_readlink(xport_ssh(x), path, target, sizeof(target),
				      e) < 0)
			return -1;
		buf_addstr(out, target);
		return 0;
	}
	n = readlink(path, target, sizeof(target));
	if (n < 0 || (size_t)n >= sizeof(target))
		return err_set(e, FX_FAIL, "readlink %s: %s", path, n < 0 ?
			       strerror(errno) : "target too long");
	buf_add(out, target, (size_t)n);
	return 0;
}

int xport_opendir(struct xport *x, const char *path, struct xdir **out,
		  struct err *e)
{
	struct xdir *d = xcalloc(1, sizeof(*d));

	d->path = xstrdup(path);
	if (!xport_is_local(x)) {
		if (ssh_sftp_opendir(xport_ssh(x), path, &d->sd, e) < 0)
			goto fail;
	} else if (!(d->dir = opendir(path))) {
		err_set(e, FX_FAIL, "list %s: %s", path, strerror(errno));
		goto fail;
	}
	*out = d;
	return 0;
fail:
	free(d->path);
	free(d);
	return -1;
}

int xport_readdir(struct xdir *d, struct buf *name, struct ssh_stat *st,
		  struct err *e)
{
	for (;;) {
		const char *n;

		if (d->sd) {
			char entry[1024];
			int is_link, r;

			r = ssh_sftp_readdir(d->sd, entry, sizeof(entry), st,
					     &is_link, e);
			if (r <= 0)
				return r;
			buf_reset(name);
			buf_addstr(name, entry);
		} else {
			struct dirent *de;
			struct stat sb;

			errno = 0;
			if (!(de = readdir(d->dir)))
				return errno ? err_set(e, FX_FAIL, "list %s: %s",
						       d->path, strerror(errno)) : 0;
			if (fstatat(dirfd(d->dir), de->d_name, &sb,
				    AT_SYMLINK_NOFOLLOW) < 0)
				continue;	/* gone since the listing */
			buf_reset(name);
			buf_addstr(name, de->d_name);
			local_stat(&sb, st);
		}
		n = buf_str(name);
		if (strcmp(n, ".") && strcmp(n, ".."))
			return 1;
	}
}

void xport_closedir(struct xdir *d)
{
	struct err ignored = ERR_INIT;

	if (!d)
		return;
	if (d->sd)
		ssh_sftp_closedir(d->sd, &ignored);
	if (d->dir)
		closedir(d->dir);
	free(d->path);
	free(d);
}

int xport_fopen(struct xport *x, const char *path, int write, int mode,
		struct xfile **out, struct err *e)
{
	struct xfile *f = xcalloc(1, sizeof(*f));

	f->fd = -1;
	f->write = write;
	f->path = xstrdup(path);
	if (!xport_is_local(x)) {
		if (ssh_sftp_open(xport_ssh(x), path, write, mode, &f->sf, e) < 0)
			goto fail;
	} else {
		f->fd = open(path, write ? O_WRONLY | O_CREAT | O_TRUNC |
			     O_CLOEXEC : O_RDONLY | O_CLOEXEC, mode);
		if (f->fd < 0) {
			err_set(e, FX_FAIL, "open %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	*out = f;
	return 0;
fail:
	free(f->path);
	free(f);
	return -1;
}

int xport_fseek(struct xfile *f, uint64_t offset, struct err *e)
{
	if (f->sf)
		return ssh_sftp_seek(f->sf, offset, e);
	if (lseek(f->fd, (off_t)offset, SEEK_SET) < 0)
		return err_set(e, FX_FAIL, "seek %s: %s", f->path,
			       strerror(errno));
	return 0;
}

ssize_t xport_fread(struct xfile *f, void *buf, size_t n, struct err *e)
{
	ssize_t got;

	if (f->sf)
		return ssh_sftp_read(f->sf, buf, n, e);
	while ((got = read(f->fd, buf, n)) < 0 && errno == EINTR)
		;
	if (got < 0)
		return err_set(e, FX_FAIL, "read %s: %s", f->path,
			       strerror(errno));
	return got;
}

int xport_fwrite(struct xfile *f, const void *buf, size_t n, struct err *e)
{
	if (f->sf)
		return ssh_sftp_write(f->sf, buf, n, e);
	if (fd_write_all(f->fd, buf, n) < 0)
		return err_set(e, FX_FAIL, "write %s: %s", f->path,
			       strerror(errno));
	return 0;
}

int xport_fclose(struct xfile *f, struct err *e)
{
	int r = 0;

	if (!f)
		return 0;
	if (f->sf) {
		struct err ignored = ERR_INIT;

		if (f->write && ssh_sftp_fsync(f->sf, e) < 0) {
			ssh_sftp_close(f->sf, &ignored);
			r = -1;
		} else {
			r = ssh_sftp_close(f->sf, e);
		}
	} else {
		if (f->write && fsync(f->fd) < 0)
			r = err_set(e, FX_FAIL, "write %s: %s", f->path,
				    strerror(errno));
		if (close(f->fd) < 0 && r == 0)
			r = err_set(e, FX_FAIL, "write %s: %s", f->path,
				    strerror(errno));
	}
	free(f->path);
	free(f);
	return r;
}

int xport_rename(struct xport *x, const char *from, const char *to,
		 struct err *e)
{
	struct buf cmd = BUF_INIT, errout = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1;

	if (xport_is_local(x)) {
		if (rename(from, to) < 0)
			return err_set(e, FX_FAIL, "rename %s: %s", to,
				       strerror(errno));
		return 0;
	}
	/* SFTP v3's rename refuses to replace; mv does it with rename(2). */
	buf_addstr(&cmd, "mv -f -- ");
	sh_quote(&cmd, from);
	buf_addch(&cmd, ' ');
	sh_quote(&cmd, to);
	io.err = &errout;
	if (xport_run(x, buf_str(&cmd), &io, &st, e) < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		err_set(e, FX_REMOTE, "rename %s on %s: %s", to, xport_name(x),
			errout.len ? buf_str(&errout) : "mv failed");
		goto out;
	}
	r = 0;
out:
	buf_release(&cmd);
	buf_release(&errout);
	return r;
}

int xport_unlink(struct xport *x, const char *path, struct err *e)
{
	if (!xport_is_local(x))
		return ssh_sftp_unlink(xport_ssh(x), path, e);
	if (unlink(path) < 0)
		return err_set(e, FX_FAIL, "remove %s: %s", path,
			       strerror(errno));
	return 0;
}

/* ---- globs ------------------------------------------------------------- */

static int magic(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strchr("*?[\\", s[i]))
			return 1;
	return 0;
}

/* prefix + "/" + name (no doubled slash after a root "/"). */
static void join(struct buf *b, const char *name, size_t n)
{
	if (b->len && b->p[b->len - 1] != '/')
		buf_addch(b, '/');
	buf_add(b, name, n);
}

/* Matches rest (components separated by '/') under prefix. */
static int walk(struct xport *x, struct buf *prefix, const char *rest,
		struct strlist *out, struct err *e)
{
	struct ssh_stat st;
	struct xdir *d = NULL;
	struct buf name = BUF_INIT;
	size_t keep = prefix->len, n;
	char *comp = NULL;
	int missing, r = 0;

	while (*rest == '/')
		rest++;
	if (!*rest) {
		/* A literal path exists, or a matched one was listed. */
		if (xport_lstat(x, buf_str(prefix), &st, &missing, e) == 0)
			strlist_add(out, buf_str(prefix));
		else if (missing)
			err_clear(e);
		else
			r = -1;
		return r;
	}
	n = strcspn(rest, "/");
	if (!magic(rest, n)) {
		join(prefix, rest, n);
		r = walk(x, prefix, rest + n, out, e);
		buf_setlen(prefix, keep);
		return r;
	}
	/* A directory that is not there matches nothing; one that cannot be
	 * read is an error the user must hear about. */
	if (xport_lstat(x, keep ? buf_str(prefix) : ".", &st, &missing, e) < 0) {
		if (missing)
			err_clear(e);
		return missing ? 0 : -1;
	}
	if (!S_ISDIR(st.mode) && !S_ISLNK(st.mode))
		return 0;
	if (xport_opendir(x, keep ? buf_str(prefix) : ".", &d, e) < 0)
		return -1;
	comp = xstrndup(rest, n);
	while ((r = xport_readdir(d, &name, &st, e)) > 0) {
		if (fnmatch(comp, buf_str(&name), FNM_PERIOD) != 0)
			continue;
		/* Only a directory (or a link to one) has more to match. */
		if (rest[n] && !S_ISDIR(st.mode) && !S_ISLNK(st.mode))
			continue;
		join(prefix, name.p, name.len);
		r = walk(x, prefix, rest + n, out, e);
		buf_setlen(prefix, keep);
		if (r < 0)
			break;
	}
	xport_closedir(d);
	free(comp);
	buf_release(&name);
	return r < 0 ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int xport_glob(struct xport *x, const char *pattern, struct strlist *out,
	       struct err *e)
{
	struct buf prefix = BUF_INIT;
	struct strlist found = STRLIST_INIT;
	char *p = xport_path(x, pattern);
	int r;

	if (*p == '/')
		buf_addch(&prefix, '/');
	r = walk(x, &prefix, p, &found, e);
	if (r == 0 && found.n) {
		qsort(found.v, found.n, sizeof(*found.v), cmp_str);
		for (size_t i = 0; i < found.n; i++)
			strlist_add(out, found.v[i]);
	}
	strlist_release(&found);
	buf_release(&prefix);
	free(p);
	return r;
}

/*
 * SFTP calls, each run on the I/O thread as one request.  libssh2 pipelines
 * reads and writes internally, so large buffers move at link speed.
 */
#include "net/ssh_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum sftp_op { OP_OPEN, OP_READ, OP_WRITE, OP_FSYNC, OP_CLOSE, OP_STAT,
	       OP_UNLINK, OP_MKDIR, OP_OPENDIR, OP_READDIR, OP_READLINK,
	       OP_LSTAT, OP_SEEK };

struct ssh_file {
	struct ssh *s;
	LIBSSH2_SFTP_HANDLE *h;
	char *path;
};

struct sftp_req {
	struct ssh_req r;
	enum sftp_op op;
	const char *path;
	struct ssh_file *f;
	long flags;
	uint64_t offset;	/* seek */
	int mode;
	void *buf;
	size_t len;
	ssize_t n;		/* bytes moved by read/write */
	LIBSSH2_SFTP_ATTRIBUTES attrs;
	unsigned long fx;	/* SFTP status code of a failure */
};

/* A directory handle is a file handle opened another way. */
struct ssh_dir {
	struct ssh_file f;
};

static const char *fx_text(unsigned long fx)
{
	switch (fx) {
	case LIBSSH2_FX_NO_SUCH_FILE:
	case LIBSSH2_FX_NO_SUCH_PATH:
		return "no such file or directory";
	case LIBSSH2_FX_PERMISSION_DENIED:
		return "permission denied";
	case LIBSSH2_FX_FILE_ALREADY_EXISTS:
		return "file exists";
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
	case LIBSSH2_FX_QUOTA_EXCEEDED:
		return "no space left on device";
	case LIBSSH2_FX_WRITE_PROTECT:
		return "read-only file system";
	case LIBSSH2_FX_NOT_A_DIRECTORY:
		return "not a directory";
	case LIBSSH2_FX_DIR_NOT_EMPTY:
		return "directory not empty";
	case LIBSSH2_FX_OP_UNSUPPORTED:
		return "operation not supported by the server";
	default:
		return "failure";
	}
}

static int fail(struct ssh *s, struct sftp_req *x, int rc)
{
	const char *what = x->path ? x->path : x->f ? x->f->path : "";

	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && s->sftp) {
		x->fx = libssh2_sftp_last_error(s->sftp);
		err_set(&x->r.err, FX_FAIL, "sftp %s: %s", what, fx_text(x->fx));
	} else {
		err_set(&x->r.err, ssh_fatal(rc) ? FX_CONN : FX_FAIL,
			"sftp %s: %s", what, ssh_errmsg(s));
	}
	return rc < 0 ? rc : -1;
}

static int sftp_step(struct ssh *s, struct ssh_req *r)
{
	struct sftp_req *x = (struct sftp_req *)r;
	LIBSSH2_SFTP_HANDLE *h = x->f ? x->f->h : NULL;
	ssize_t n;
	int rc;

	if (!s->sftp) {
		s->sftp = libssh2_sftp_init(s->session);
		if (!s->sftp) {
			rc = libssh2_session_last_errno(s->session);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return rc;
			err_set(&r->err, FX_REMOTE, "ssh %s: cannot start SFTP: %s",
				s->name, ssh_errmsg(s));
			return rc < 0 ? rc : -1;
		}
	}
	switch (x->op) {
	case OP_OPEN:
	case OP_OPENDIR:
		h = libssh2_sftp_open_ex(s->sftp, x->path,
			(unsigned)strlen(x->path), (unsigned long)x->flags,
			x->mode, x->op == OP_OPEN ? LIBSSH2_SFTP_OPENFILE :
			LIBSSH2_SFTP_OPENDIR);
		if (!h) {
			rc = libssh2_session_last_errno(s->session);
			return rc == LIBSSH2_ERROR_EAGAIN ? rc : fail(s, x, rc);
		}
		x->f->h = h;
		return 0;
	case OP_READDIR:
		n = libssh2_sftp_readdir_ex(h, x->buf, x->len, NULL, 0,
					    &x->attrs);
		break;
	case OP_READLINK:
		n = libssh2_sftp_symlink_ex(s->sftp, x->path,
			(unsigned)strlen(x->path), x->buf, (unsigned)x->len,
			LIBSSH2_SFTP_READLINK);
		break;
	case OP_READ:
		n = libssh2_sftp_read(h, x->buf, x->len);
		break;
	case OP_WRITE:
		n = libssh2_sftp_write(h, x->buf, x->len);
		break;
	case OP_FSYNC:
		n = libssh2_sftp_fsync(h);
		break;
	case OP_CLOSE:
		n = libssh2_sftp_close_handle(h);
		break;
	case OP_STAT:
	case OP_LSTAT:
		n = libssh2_sftp_stat_ex(s->sftp, x->path,
			(unsigned)strlen(x->path), x->op == OP_STAT ?
			LIBSSH2_SFTP_STAT : LIBSSH2_SFTP_LSTAT, &x->attrs);
		break;
	case OP_SEEK:
		/* Only the handle's offset: no round trip, but libssh2's
		 * state belongs to this thread. */
		libssh2_sftp_seek64(h, (libssh2_uint64_t)x->offset);
		n = 0;
		break;
	case OP_UNLINK:
		n = libssh2_sftp_unlink_ex(s->sftp, x->path,
					   (unsigned)strlen(x->path));
		break;
	case OP_MKDIR:
		n = libssh2_sftp_mkdir_ex(s->sftp, x->path,
					  (unsigned)strlen(x->path), x->mode);
		break;
	default:
		n = -1;
	}
	if (n == LIBSSH2_ERROR_EAGAIN)
		return (int)n;
	if (n < 0)
		return fail(s, x, (int)n);
	x->n = n;
	return 0;
}

static int call(struct ssh *s, struct sftp_req *x, struct err *e)
{
	x->r.step = sftp_step;
	return ssh_call(s, &x->r, e);
}

int ssh_sftp_open(struct ssh *s, const char *path, int write, int mode,
		  struct ssh_file **out, struct err *e)
{
	struct ssh_file *f = xcalloc(1, sizeof(*f));
	struct sftp_req x = { 0 };

	f->s = s;
	f->path = xstrdup(path);
	x.op = OP_OPEN;
	x.path = path;
	x.f = f;
	x.mode = mode;
	x.flags = write ? LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT |
		LIBSSH2_FXF_TRUNC : LIBSSH2_FXF_READ;
	if (call(s, &x, e) < 0) {
		free(f->path);
		free(f);
		return -1;
	}
	*out = f;
	return 0;
}

ssize_t ssh_sftp_read(struct ssh_file *f, void *buf, size_t n, struct err *e)
{
	struct sftp_req x = { 0 };

	x.op = OP_READ;
	x.f = f;
	x.buf = buf;
	x.len = n;
	if (call(f->s, &x, e) < 0)
		return -1;
	return x.n;
}

int ssh_sftp_write(struct ssh_file *f, const void *buf, size_t n,
		   struct err *e)
{
	const char *p = buf;

	while (n > 0) {
		struct sftp_req x = { 0 };

		x.op = OP_WRITE;
		x.f = f;
		x.buf = (void *)p;
		x.len = n;
		if (call(f->s, &x, e) < 0)
			return -1;
		p += x.n;
		n -= (size_t)x.n;
	}
	return 0;
}

int ssh_sftp_fsync(struct ssh_file *f, struct err *e)
{
	struct sftp_req x = { 0 };
	struct err ignored = ERR_INIT;

	x.op = OP_FSYNC;
	x.f = f;
	if (call(f->s, &x, &ignored) < 0) {
		/* Servers without fsync@openssh.com cannot do better. */
		if (x.fx == LIBSSH2_FX_OP_UNSUPPORTED)
			return 0;
		*e = ignored;
		return -1;
	}
	return 0;
}

int ssh_sftp_close(struct ssh_file *f, struct err *e)
{
	struct sftp_req x = { 0 };
	int r;

	x.op = OP_CLOSE;
	x.f = f;
	r = call(f->s, &x, e);
	free(f->path);
	free(f);
	return r < 0 ? -1 : 0;
}

static int stat_op(struct ssh *s, enum sftp_op op, const char *path,
		   struct ssh_stat *st, int *missing, struct err *e)
{
	struct sftp_req x = { 0 };

	*missing = 0;
	x.op = op;
	x.path = path;
	if (call(s, &x, e) < 0) {
		*missing = x.fx == LIBSSH2_FX_NO_SUCH_FILE ||
			x.fx == LIBSSH2_FX_NO_SUCH_PATH;
		return -1;
	}
	st->size = x.attrs.filesize;
	st->mode = x.attrs.permissions;
	st->mtime = (long long)x.attrs.mtime;
	return 0;
}

int ssh_sftp_stat(struct ssh *s, const char *path, struct ssh_stat *st,
		  int *missing, struct err *e)
{
	return stat_op(s, OP_STAT, path, st, missing, e);
}

int ssh_sftp_lstat(struct ssh *s, const char *path, struct ssh_stat *st,
		   int *missing, struct err *e)
{
	return stat_op(s, OP_LSTAT, path, st, missing, e);
}

int ssh_sftp_seek(struct ssh_file *f, uint64_t offset, struct err *e)
{
	struct sftp_req x = { 0 };

	x.op = OP_SEEK;
	x.f = f;
	x.offset = offset;
	return call(f->s, &x, e) < 0 ? -1 : 0;
}

int ssh_sftp_unlink(struct ssh *s, const char *path, struct err *e)
{
	struct sftp_req x = { 0 };

	x.op = OP_UNLINK;
	x.path = path;
	return call(s, &x, e) < 0 ? -1 : 0;
}

int ssh_sftp_mkdir(struct ssh *s, const char *path, int mode, struct err *e)
{
	struct sftp_req x = { 0 };

	x.op = OP_MKDIR;
	x.path = path;
	x.mode = mode;
	return call(s, &x, e) < 0 ? -1 : 0;
}

int ssh_sftp_opendir(struct ssh *s, const char *path, struct ssh_dir **out,
		     struct err *e)
{
	struct ssh_dir *d = xcalloc(1, sizeof(*d));
	struct sftp_req x = { 0 };

	d->f.s = s;
	d->f.path = xstrdup(path);
	x.op = OP_OPENDIR;
	x.path = path;
	x.f = &d->f;
	if (call(s, &x, e) < 0) {
		free(d->f.path);
		free(d);
		return -1;
	}
	*out = d;
	return 0;
}

int ssh_sftp_readdir(struct ssh_dir *d, char *name, size_t len,
		     struct ssh_stat *st, int *is_link, struct err *e)
{
	struct sftp_req x = { 0 };

	x.op = OP_READDIR;
	x.f = &d->f;
	x.buf = name;
	x.len = len - 1;
	if (call(d->f.s, &x, e) < 0)
		return -1;
	if (x.n == 0)
		return 0;
	name[x.n] = '\0';
	st->size = x.attrs.filesize;
	st->mode = x.attrs.permissions;
	st->mtime = (long long)x.attrs.mtime;
	*is_link = LIBSSH2_SFTP_S_ISLNK(x.attrs.permissions);
	return 1;
}

int ssh_sftp_readlink(struct ssh *s, const char *path, char *buf, size_t len,
		      struct err *e)
{
	struct sftp_req x = { 0 };

	x.op = OP_READLINK;
	x.path = path;
	x.buf = buf;
	x.len = len - 1;
	if (call(s, &x, e) < 0)
		return -1;
	buf[x.n] = '\0';
	return 0;
}

int ssh_sftp_closedir(struct ssh_dir *d, struct err *e)
{
	struct sftp_req x = { 0 };
	int r;

	x.op = OP_CLOSE;
	x.f = &d->f;
	r = call(d->f.s, &x, e);
	free(d->f.path);
	free(d);
	return r < 0 ? -1 : 0;
}

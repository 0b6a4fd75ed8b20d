#include "net/xport.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/log.h"
#include "util/shquote.h"
#include "util/value.h"

#define IO_CHUNK (256 * 1024)

struct xport {
	struct ssh *ssh;	/* NULL: local */
	char *name;
};

struct xproc {
	struct ssh_proc *sp;	/* remote */
	pid_t pid;		/* local */
};

int xport_open(struct xport **out, const struct xport_opts *o,
	       struct err *e)
{
	struct xport *x = xcalloc(1, sizeof(*x));

	if (o->local) {
		x->name = xstrdup("local");
		*out = x;
		return 0;
	}
	if (ssh_connect(&x->ssh, &o->ssh, e) < 0) {
		free(x);
		return -1;
	}
	x->name = xstrdup(ssh_name(x->ssh));
	*out = x;
	return 0;
}

void xport_close(struct xport *x)
{
	if (!x)
		return;
	ssh_close(x->ssh);
	free(x->name);
	free(x);
}

const char *xport_name(const struct xport *x)
{
	return x->name;
}

const char *xport_lost(struct xport *x)
{
	return x && x->ssh ? ssh_lost(x->ssh) : NULL;
}

int xport_lost_silent(struct xport *x)
{
	return x && x->ssh ? ssh_lost_silent(x->ssh) : 0;
}

struct ssh *xport_ssh(struct xport *x)
{
	return x->ssh;
}

int xport_is_local(const struct xport *x)
{
	return x->ssh == NULL;
}

int xport_spawn(struct xport *x, const char *cmd, struct xproc **p, int *in,
		int *out, int *err, struct err *e)
{
	struct xproc *xp = xcalloc(1, sizeof(*xp));
	int r;

	if (x->ssh)
		r = ssh_exec(x->ssh, cmd, &xp->sp, in, out, err, e);
	else
		r = proc_spawn(cmd, &xp->pid, in, out, err, e);
	if (r < 0) {
		free(xp);
		return -1;
	}
	*p = xp;
	return 0;
}

int xproc_wait(struct xproc *p, struct proc_status *st, struct err *e)
{
	int r;

	memset(st, 0, sizeof(*st));
	if (p->sp)
		r = ssh_proc_wait(p->sp, st, e);
	else
		r = proc_wait(p->pid, st, e);
	free(p);
	return r;
}

/* ---- run to completion ------------------------------------------------ */

/* Collected output beyond its cap is dropped: the caller wants the
 * start of a message, not a memory hog. */
static int deliver(struct buf *b, int fd, const char *data, size_t n)
{
	if (b) {
		buf_add_capped(b, data, n);
		return 0;
	}
	return fd >= 0 ? fd_write_all(fd, data, n) : 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int xport_run(struct xport *x, const char *cmd, struct xrun *io,
	      struct proc_status *st, struct err *e)
{
	struct xproc *p;
	char *chunk = NULL;
	size_t sent = 0, max = io->max ? io->max : (1u << 20);
	struct buf *bufs[2] = { io->out, io->err };
	int in, out, er, r = 0, werr = 0;

	if (xport_spawn(x, cmd, &p, &in, &out, &er, e) < 0)
		return -1;
	if (!io->in || io->inlen == 0)
		close_fd(&in);
	else if (fd_nonblock(in, 1) < 0)
		r = err_set(e, FX_FAIL, "%s: stdin: %s", xport_name(x),
			    strerror(errno));
	for (int k = 0; k < 2; k++)
		if (bufs[k] && !bufs[k]->limit)
			bufs[k]->limit = max;
	chunk = xmalloc(IO_CHUNK);
	while (r == 0 && (out >= 0 || er >= 0)) {
		struct pollfd pfd[3];
		int n = 0, iout = -1, ierr = -1, iin = -1;

		if (out >= 0)
			iout = n, pfd[n++] = (struct pollfd){ out, POLLIN, 0 };
		if (er >= 0)
			ierr = n, pfd[n++] = (struct pollfd){ er, POLLIN, 0 };
		if (in >= 0)
			iin = n, pfd[n++] = (struct pollfd){ in, POLLOUT, 0 };
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = err_set(e, FX_FAIL, "%s: poll: %s", xport_name(x),
				    strerror(errno));
			break;
		}
		if (iin >= 0 && pfd[iin].revents) {
			ssize_t w = write(in, io->in + sent, io->inlen - sent);

			if (w > 0)
				sent += (size_t)w;
			if ((w < 0 && errno != EAGAIN) || sent == io->inlen)
				close_fd(&in);
		}
		for (int k = 0; k < 2; k++) {
			int idx = k ? ierr : iout;
			int *fd = k ? &er : &out;
			ssize_t got;

			if (idx < 0 || !pfd[idx].revents)
				continue;
			got = read(*fd, chunk, IO_CHUNK);
			if (got <= 0) {
				close_fd(fd);
				continue;
			}
			/* A local writer that fails is reported, but the
			 * command's output is still drained so it can end. */
			if (!werr && deliver(bufs[k], k ? io->err_fd : io->out_fd,
					     chunk, (size_t)got) < 0)
				werr = errno;
		}
	}
	free(chunk);
	close_fd(&in);
	close_fd(&out);
	close_fd(&er);
	if (xproc_wait(p, st, r < 0 ? NULL : e) < 0)
		r = -1;
	if (r == 0 && werr)
		r = err_set(e, FX_FAIL, "%s: writing its output: %s",
			    xport_name(x), strerror(werr));
	return r;
}

/* ---- tunnels ---------------------------------------------------------- */

int xport_forward(struct xport *x, const char *host, int port, char **lhost,
		  int *lport, struct err *e)
{
	if (!x->ssh) {
		*lhost = xstrdup(host);
		*lport = port;
		return 0;
	}
	if (ssh_forward(x->ssh, host, port, lport, e) < 0)
		return -1;
	*lhost = xstrdup("127.0.0.1");
	return 0;
}

int xport_forward_unix(struct xport *x, const char *host, int port,
		       const char *name, char **dir, struct err *e)
{
	if (!x->ssh)
		return err_set(e, FX_FAIL, "tunnel: no SSH session to %s",
			       xport_name(x));
	return ssh_forward_unix(x->ssh, host, port, name, dir, e);
}

/* ---- files ------------------------------------------------------------ */

static char *temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;

	return xstrfmt("%.*s.%s.ferry-%ld-%lx.tmp", dirlen, path,
		       slash ? slash + 1 : path, (long)getpid(),
		       (unsigned long)random());
}

static int put_local(int fd, const char *path, int mode, struct err *e)
{
	char *tmp = temp_name(path), *chunk = xmalloc(IO_CHUNK);
	int out = -1, r = -1;
	ssize_t n;

	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		err_set(e, FX_FAIL, "write %s: %s", tmp, strerror(errno));
		goto out;
	}
	while ((n = read(fd, chunk, IO_CHUNK)) > 0)
		if (fd_write_all(out, chunk, (size_t)n) < 0)
			break;
	if (n != 0) {
		err_set(e, FX_FAIL, "write %s: %s", path, strerror(errno));
		goto out;
	}
	r = fd_publish(out, tmp, path, e);
	out = -1;
out:
	if (out >= 0) {
		close(out);
		unlink(tmp);
	}
	free(tmp);
	free(chunk);
	return r;
}

static int put_remote(struct xport *x, int fd, const char *path, int mode,
		      struct err *e)
{
	struct ssh_file *f = NULL;
	struct buf cmd = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct buf errout = BUF_INIT;
	struct proc_status st;
	char *tmp = temp_name(path), *chunk = xmalloc(IO_CHUNK);
	struct err ignored = ERR_INIT;
	ssize_t n = 0;
	int r = -1;

	if (ssh_sftp_open(x->ssh, tmp, 1, mode, &f, e) < 0)
		goto out;
	while ((n = read(fd, chunk, IO_CHUNK)) > 0)
		if (ssh_sftp_write(f, chunk, (size_t)n, e) < 0)
			break;
	if (n < 0)
		err_set(e, FX_FAIL, "read: %s", strerror(errno));
	if (n != 0 || ssh_sftp_fsync(f, e) < 0) {
		ssh_sftp_close(f, &ignored);
		goto unlink;
	}
	if (ssh_sftp_close(f, e) < 0)
		goto unlink;
	/* SFTP v3 rename refuses to replace; POSIX rename(2) via mv does it
	 * atomically. */
	buf_addstr(&cmd, "mv -f -- ");
	sh_quote(&cmd, tmp);
	buf_addch(&cmd, ' ');
	sh_quote(&cmd, path);
	io.err = &errout;
	if (xport_run(x, buf_str(&cmd), &io, &st, e) < 0)
		goto unlink;
	if (!st.exited || st.code != 0) {
		err_set(e, FX_REMOTE, "rename %s on %s: %s", path, x->name,
			errout.len ? buf_str(&errout) : "mv failed");
		goto unlink;
	}
	r = 0;
	goto out;
unlink:
	ssh_sftp_unlink(x->ssh, tmp, &ignored);
out:
	buf_release(&cmd);
	buf_release(&errout);
	free(tmp);
	free(chunk);
	return r;
}

int xport_put(struct xport *x, int fd, const char *path, int mode,
	      struct err *e)
{
	return x->ssh ? put_remote(x, fd, path, mode, e) :
		put_local(fd, path, mode, e);
}

int xport_get(struct xport *x, const char *path, int fd, struct err *e)
{
	char *chunk = xmalloc(IO_CHUNK);
	struct ssh_file *f = NULL;
	struct err ignored = ERR_INIT;
	ssize_t n;
	int in = -1, r = -1;

	if (x->ssh) {
		if (ssh_sftp_open(x->ssh, path, 0, 0, &f, e) < 0)
			goto out;
		while ((n = ssh_sftp_read(f, chunk, IO_CHUNK, e)) > 0)
			if (fd_write_all(fd, chunk, (size_t)n) < 0) {
				err_set(e, FX_FAIL, "write: %s", strerror(errno));
				n = -1;
				break;
			}
		ssh_sftp_close(f, &ignored);
		r = n == 0 ? 0 : -1;
		goto out;
	}
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		err_set(e, FX_FAIL, "read %s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = read(in, chunk, IO_CHUNK)) > 0)
		if (fd_write_all(fd, chunk, (size_t)n) < 0)
			break;
	if (n != 0)
		err_set(e, FX_FAIL, "copy %s: %s", path, strerror(errno));
	r = n == 0 ? 0 : -1;
out:
	if (in >= 0)
		close(in);
	free(chunk);
	return r;
}

int xport_stat(struct xport *x, const char *path, struct ssh_stat *st,
	       int *missing, struct err *e)
{
	struct stat sb;

	if (x->ssh)
		return ssh_sftp_stat(x->ssh, path, st, missing, e);
	*missing = 0;
	if (stat(path, &sb) < 0) {
		*missing = errno == ENOENT;
		return err_set(e, FX_FAIL, "stat %s: %s", path, strerror(errno));
	}
	st->size = (uint64_t)sb.st_size;
	st->mode = sb.st_mode;
	st->mtime = (long long)sb.st_mtime;
	return 0;
}

int xport_forward_url(struct xport *x, const char *url, char **out,
		      struct err *e)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *scheme = NULL, *lhost = NULL;
	char *full = NULL;
	char pbuf[16];
	int lport = 0, r = -1;
	long long p;

	if (!u)
		return err_set(e, FX_FAIL, "curl_url: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
	    value_port(port, &p) < 0) {
		err_set(e, FX_USAGE, "bad URL '%s'", url);
		goto out;
	}
	if (xport_forward(x, host, (int)p, &lhost, &lport, e) < 0)
		goto out;
	snprintf(pbuf, sizeof(pbuf), "%d", lport);
	if (curl_url_set(u, CURLUPART_HOST, lhost, 0) ||
	    curl_url_set(u, CURLUPART_PORT, pbuf, 0) ||
	    curl_url_get(u, CURLUPART_URL, &full, 0)) {
		err_set(e, FX_FAIL, "cannot rewrite URL '%s'", url);
		goto out;
	}
	*out = xstrdup(full);
	r = 0;
out:
	curl_free(host);
	curl_free(port);
	curl_free(scheme);
	curl_free(full);
	free(lhost);
	curl_url_cleanup(u);
	return r;
}

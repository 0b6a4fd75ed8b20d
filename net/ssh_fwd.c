/*
 * Local listeners (a loopback port or a Unix socket in a private
 * directory) whose connections become direct-tcpip channels to host:port
 * as the server sees it.  The I/O thread accepts; each connection is one
 * request that opens its channel, then pumps like any other.
 */
#include "net/ssh_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/sigclean.h"

struct fwd_req {
	struct ssh_req r;
	struct forward *f;
	int fd;
};

static int fwd_step(struct ssh *s, struct ssh_req *r)
{
	struct fwd_req *x = (struct fwd_req *)r;
	LIBSSH2_CHANNEL *ch;
	struct ssh_chan *c;
	int rc;

	ch = libssh2_channel_direct_tcpip_ex(s->session, x->f->host, x->f->port,
					     "127.0.0.1", x->f->lport);
	if (!ch) {
		rc = libssh2_session_last_errno(s->session);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return rc;
		log_warn("tunnel to %s:%d via %s: %s", x->f->host, x->f->port,
			 s->name, ssh_errmsg(s));
		return rc < 0 ? rc : -1;
	}
	c = chan_new(CHAN_FORWARD);
	c->ch = ch;
	c->up.fd = x->fd;
	c->down.fd = dup(x->fd);
	x->fd = -1;
	c->next = s->chans;
	s->chans = c;
	return 0;
}

static void fwd_release(struct ssh_req *r)
{
	struct fwd_req *x = (struct fwd_req *)r;

	if (x->fd >= 0)
		close(x->fd);
	free(x);
}

void forward_accept(struct ssh *s, struct forward *f)
{
	static const int sndbuf = 4 << 20;

	for (;;) {
		int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct fwd_req *x;

		if (fd < 0)
			return;
		/* The client (libpq) reads in turns with other threads on
		 * busy cores: a deeper socket lets the I/O thread go on
		 * reading the server meanwhile (a 237 MB COPY through the
		 * tunnel: 3.1 s with the default 208 KiB, 2.3 s with 4 MiB,
		 * medians).  Best effort: the kernel caps it (wmem_max). */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				 sizeof(sndbuf));
		x = xcalloc(1, sizeof(*x));
		x->r.step = fwd_step;
		x->r.release = fwd_release;
		x->f = f;
		x->fd = fd;
		ssh_enqueue_locked(s, &x->r);
	}
}

/* Each is removed and forgotten by the signal cleanup; NULL is skipped. */
static void remove_socket(const char *path, const char *dir)
{
	if (path) {
		unlink(path);
		sigclean_del(path);
	}
	if (dir) {
		rmdir(dir);
		sigclean_del(dir);
	}
}

void forward_stop(struct forward *f)
{
	if (f->lfd >= 0)
		close(f->lfd);
	f->lfd = -1;
}

void forward_free(struct forward *f)
{
	forward_stop(f);
	remove_socket(f->path, f->dir);
	free(f->path);
	free(f->dir);
	free(f->host);
	free(f);
}

/* Takes path and dir (NULL for a TCP listener). */
static void add_forward(struct ssh *s, int fd, int lport, const char *host,
			int port, char *path, char *dir)
{
	struct forward *f = xcalloc(1, sizeof(*f));

	f->lfd = fd;
	f->lport = lport;
	f->host = xstrdup(host);
	f->port = port;
	f->path = path;
	f->dir = dir;
	pthread_mutex_lock(&s->mu);
	f->next = s->fwds;
	s->fwds = f;
	/* Died since the caller looked: refuse rather than accept and
	 * leave the client waiting. */
	if (s->dead)
		forward_stop(f);
	pthread_mutex_unlock(&s->mu);
	ssh_wake(s);
}

int ssh_forward(struct ssh *s, const char *host, int port, int *lport,
		struct err *e)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int fd;

	if (ssh_lost(s))
		return err_set(e, FX_CONN, "tunnel to %s:%d: %s", host, port,
			       ssh_lost(s));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, FX_FAIL, "tunnel: socket: %s", strerror(errno));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		err_set(e, FX_FAIL, "tunnel: listen on 127.0.0.1: %s",
			strerror(errno));
		close(fd);
		return -1;
	}
	*lport = ntohs(a.sin_port);
	add_forward(s, fd, *lport, host, port, NULL, NULL);
	log_verbose("tunnel 127.0.0.1:%d -> %s:%d via %s", *lport, host, port,
		    s->name);
	return 0;
}

int ssh_forward_unix(struct ssh *s, const char *host, int port,
		     const char *name, char **dir, struct err *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *tmp = getenv("TMPDIR");
	struct buf d = BUF_INIT;
	int fd = -1, made = 0, named = 0, rc = -1;

	if (ssh_lost(s))
		return err_set(e, FX_CONN, "tunnel to %s:%d: %s", host, port,
			       ssh_lost(s));
	buf_printf(&d, "%s/ferry-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(d.p)) {
		err_set(e, FX_FAIL, "tunnel: mkdtemp %s: %s", d.p,
			strerror(errno));
		goto out;
	}
	made = 1;
	if (sigclean_add(d.p) < 0) {
		err_set(e, FX_FAIL, "tunnel: too many temporary paths");
		goto out;
	}
	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s", d.p,
			     name) >= sizeof(a.sun_path)) {
		err_set(e, FX_FAIL, "tunnel: socket path too long under %s",
			d.p);
		goto out;
	}
	if (sigclean_add(a.sun_path) < 0) {
		err_set(e, FX_FAIL, "tunnel: too many temporary paths");
		goto out;
	}
	named = 1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 128) < 0) {
		err_set(e, FX_FAIL, "tunnel: listen on %s: %s", a.sun_path,
			strerror(errno));
		goto out;
	}
	add_forward(s, fd, 0, host, port, xstrdup(a.sun_path), xstrdup(d.p));
	fd = -1;
	log_verbose("tunnel %s -> %s:%d via %s", a.sun_path, host, port,
		    s->name);
	*dir = buf_detach(&d, NULL);
	rc = 0;
out:
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		remove_socket(named ? a.sun_path : NULL, made ? d.p : NULL);
	}
	buf_release(&d);
	return rc;
}

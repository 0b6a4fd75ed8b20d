/*
 * The way to the server when it is not a plain TCP connection: through
 * jump hosts (ProxyJump: each hop is a full session of its own, host key
 * checked and authenticated, and the next session runs over one of its
 * direct-tcpip channels) or through a ProxyCommand's stdin/stdout.
 *
 * libssh2 reads and writes its socket with send()/recv(), so the carrier
 * is always a socketpair, never a pipe: one end goes to the new session,
 * the other to the hop's I/O thread (a channel pumped like a tunnel's) or
 * to the proxy command.
 */
#include "net/ssh_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/log.h"

struct chan_req {
	struct ssh_req r;
	const char *host;
	int port;
	int fd;		/* the I/O thread's end */
};

static int chan_step(struct ssh *s, struct ssh_req *r)
{
	struct chan_req *x = (struct chan_req *)r;
	LIBSSH2_CHANNEL *ch;
	struct ssh_chan *c;
	int rc;

	ch = libssh2_channel_direct_tcpip_ex(s->session, x->host, x->port,
					     "127.0.0.1", 0);
	if (!ch) {
		rc = libssh2_session_last_errno(s->session);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return rc;
		err_set(&r->err, FX_CONN, "ssh %s: cannot reach %s:%d from "
			"there: %s", s->name, x->host, x->port, ssh_errmsg(s));
		return rc < 0 ? rc : -1;
	}
	c = chan_new(CHAN_FORWARD);
	c->ch = ch;
	c->up.fd = x->fd;
	c->down.fd = dup(x->fd);
	x->fd = -1;
	if (c->down.fd < 0) {
		err_set(&r->err, FX_FAIL, "dup: %s", strerror(errno));
		chan_free(c);
		return -1;
	}
	c->next = s->chans;
	s->chans = c;
	return 0;
}

/* A connected stream to host:port as via sees it; the caller owns it. */
static int hop_carrier(struct ssh *via, const char *host, int port,
		       struct err *e)
{
	struct chan_req x = { 0 };
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return err_set(e, FX_FAIL, "socketpair: %s", strerror(errno));
	if (fd_nonblock(sp[0], 1) < 0) {
		err_set(e, FX_FAIL, "socketpair: %s", strerror(errno));
		goto fail;
	}
	x.r.step = chan_step;
	x.host = host;
	x.port = port;
	x.fd = sp[0];
	if (ssh_call(via, &x.r, e) < 0)
		goto fail;
	return sp[1];
fail:
	if (x.fd >= 0)
		close(x.fd);
	close(sp[1]);
	return -1;
}

/* Runs cmd with its stdin and stdout on a socket; stderr passes through. */
static int proxy_carrier(const char *cmd, pid_t *pid, struct err *e)
{
	char *ecmd;
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return err_set(e, FX_FAIL, "socketpair: %s", strerror(errno));
	ecmd = xstrfmt("exec %s", cmd);
	*pid = fork();
	if (*pid < 0) {
		free(ecmd);
		err_set(e, FX_FAIL, "ProxyCommand: fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (*pid == 0) {
		/* Only async-signal-safe calls here: other threads may hold
		 * locks (another session's I/O thread).  "exec", as ssh
		 * runs it: the command itself, not a shell waiting for it,
		 * gets route_close()'s signal. */
		if (dup2(sp[1], 0) < 0 || dup2(sp[1], 1) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", ecmd, (char *)NULL);
		_exit(127);
	}
	free(ecmd);
	close(sp[1]);
	log_verbose("ProxyCommand %s (pid %ld)", cmd, (long)*pid);
	return sp[0];
}

int route_open(struct ssh *s, const struct ssh_opts *o, struct err *e)
{
	if (o->proxy_command) {
		s->sock = proxy_carrier(o->proxy_command, &s->proxy_pid, e);
		return s->sock < 0 ? -1 : 0;
	}
	if (ssh_connect(&s->via, o->jump, e) < 0) {
		/* A hop further out that failed has named itself. */
		if (strncmp(e->msg, "jump host ", 10))
			err_wrap(e, "jump host %s:%d", o->jump->host,
				 o->jump->port);
		return -1;
	}
	s->sock = hop_carrier(s->via, o->host, o->port, e);
	return s->sock < 0 ? -1 : 0;
}

void route_proxy_ended(struct ssh *s, const struct ssh_opts *o,
		       struct err *e)
{
	struct proc_status st;
	char how[64];
	int ws = 0;
	pid_t r = 0;

	if (s->proxy_pid <= 0)
		return;
	/* The socket's end comes with the command's exit, or just before. */
	for (int i = 0; i < 20 && r == 0; i++) {
		r = waitpid(s->proxy_pid, &ws, WNOHANG);
		if (r == 0)
			usleep(10000);
	}
	if (r != s->proxy_pid)
		return;
	s->proxy_pid = 0;
	proc_status_from(ws, &st);
	err_set(e, FX_CONN, "ssh %s: ProxyCommand '%s' ended (%s) before the "
		"session was up", s->name, o->proxy_command,
		proc_status_text(&st, how, sizeof(how)));
}

void route_close(struct ssh *s)
{
	int st;

	/* The session over the carrier is gone: now the hops. */
	if (s->proxy_pid > 0) {
		kill(s->proxy_pid, SIGTERM);
		while (waitpid(s->proxy_pid, &st, 0) < 0 && errno == EINTR)
			;
		s->proxy_pid = 0;
	}
	ssh_close(s->via);
	s->via = NULL;
}

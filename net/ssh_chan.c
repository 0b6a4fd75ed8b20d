/*
 * Channels as pumps between libssh2 and local descriptors: remote commands
 * (stdin/stdout/stderr pipes) and forwarded connections (a socket, see
 * ssh_fwd.c).
 * Each direction has one bounded buffer, so a slow reader stalls only its
 * own channel and SSH flow control does the rest.
 */
#include "net/ssh_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/log.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

struct ssh_chan *chan_new(enum chan_kind kind)
{
	struct ssh_chan *c = xcalloc(1, sizeof(*c));

	c->kind = kind;
	c->up.fd = c->down.fd = c->derr.fd = -1;
	return c;
}

void chan_release(struct ssh *s, struct ssh_chan *c)
{
	const void *o = s->out_owner;

	if (o == &c->up || o == &c->down || o == &c->derr ||
	    o == &c->eof_sent || o == &c->close_sent || o == &c->win_adjust)
		s->out_owner = NULL;
	chan_free(c);
}

void chan_free(struct ssh_chan *c)
{
	close_fd(&c->up.fd);
	close_fd(&c->down.fd);
	close_fd(&c->derr.fd);
	/* Never libssh2 calls here: this may run off the I/O thread.  A
	 * channel not freed by chan_finish() goes with the session. */
	free(c);
}

void chan_abort(struct ssh_chan *c, const char *why)
{
	if (c->finished)
		return;
	snprintf(c->failed, sizeof(c->failed), "%s", why);
	close_fd(&c->up.fd);
	close_fd(&c->down.fd);
	close_fd(&c->derr.fd);
	c->finished = 1;
}

static int chan_fail(struct ssh *s, struct ssh_chan *c, int rc)
{
	if (ssh_fatal(rc)) {
		ssh_mark_dead(s, ssh_errmsg(s));
		return 1;
	}
	chan_abort(c, ssh_errmsg(s));
	pthread_cond_broadcast(&s->cond);
	return 1;
}

/* How much more may go up before the server has passed c->ahead bytes
 * on to the command (window given minus window left: what sshd holds or
 * is still on the way).  Only held while the channel's own reads run in
 * the same pass: they are what take the server's adjustment off the
 * socket (libssh2_channel_write did that itself, waiting for window). */
static size_t up_room(struct ssh *s, struct ssh_chan *c)
{
	unsigned long win = libssh2_channel_window_write_ex(c->ch, NULL);
	unsigned long held;

	c->held = 0;
	if (c->down.eof || c->down.len > c->down.off)
		return (size_t)-1;
	if (!c->ahead) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		c->ahead = CHAN_AHEAD;
		if (getsockopt(s->sock, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
			c->ahead += (size_t)ti.tcpi_min_rtt * CHAN_AHEAD_RATE;
	}
	if (win > c->win_top)
		c->win_top = win;
	held = c->win_top - win;
	return held >= c->ahead ? 0 : c->ahead - held;
}

/* The up pump's bytes at off (want of them) into the channel: 1 sent, 0
 * blocked, -1 failed (the channel is aborted). */
static int up_send(struct ssh *s, struct ssh_chan *c, size_t want)
{
	struct pump *p = &c->up;
	ssize_t rc = libssh2_channel_write(c->ch, p->buf + p->off, want);

	if (ssh_sent_partly(s, p, rc) || rc == LIBSSH2_ERROR_EAGAIN)
		return 0;
	if (rc < 0) {
		chan_fail(s, c, (int)rc);
		return -1;
	}
	p->off += (size_t)rc;
	if (p->off == p->len)
		p->len = p->off = 0;
	return 1;
}

static int up_eof(struct ssh *s, struct ssh_chan *c)
{
	int rc = libssh2_channel_send_eof(c->ch);

	if (ssh_sent_partly(s, &c->eof_sent, rc) || rc == LIBSSH2_ERROR_EAGAIN)
		return 0;
	if (rc < 0) {
		chan_fail(s, c, rc);
		return -1;
	}
	c->eof_sent = 1;
	return 1;
}

/* local -> channel */
static int pump_up(struct ssh *s, struct ssh_chan *c)
{
	struct pump *p = &c->up;
	int progress = 0;

	for (;;) {
		if (p->len == 0 && p->fd >= 0 && !p->eof) {
			ssize_t n = read(p->fd, p->buf, sizeof(p->buf));

			if (n > 0) {
				p->len = (size_t)n;
				p->off = 0;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				p->eof = 1;
			}
			if (n >= 0 || (errno != EAGAIN && errno != EINTR))
				progress++;
		}
		if (p->len > p->off) {
			size_t want = p->len - p->off;
			int r;

			if (!ssh_may_send(s, p))
				break;
			/* A packet half-sent goes out whatever the window
			 * says now (it was booked when the packet was made):
			 * until it does, no one else may read the socket, so
			 * no adjustment could ever widen the window again. */
			if (s->out_owner != p) {
				size_t room = up_room(s, c);

				if (!room) {
					c->held = 1;
					break;
				}
				if (want > room)
					want = room;
			}
			r = up_send(s, c, want);
			if (r <= 0)
				return progress + (r < 0);
			progress++;
			continue;
		}
		break;
	}
	if (p->eof && p->len == 0 && !c->eof_sent &&
	    ssh_may_send(s, &c->eof_sent))
		progress += up_eof(s, c) != 0;
	return progress;
}

/* What the up side left half-sent, finished before the channel closes
 * (nothing else may use the session until then, the close included);
 * the rest of its bytes are dropped with it.  1: still owed. */
static int up_owes(struct ssh *s, struct ssh_chan *c, int *progress)
{
	struct pump *p = &c->up;

	if (s->out_owner == p)
		*progress += up_send(s, c, p->len - p->off) != 0;
	else if (s->out_owner == &c->eof_sent)
		*progress += up_eof(s, c) != 0;
	return s->out_owner == p || s->out_owner == &c->eof_sent;
}

/* channel stream -> local */
static int pump_down(struct ssh *s, struct ssh_chan *c, struct pump *p,
		     int stream)
{
	int progress = 0;

	for (;;) {
		if (p->len > p->off) {
			ssize_t n = p->fd >= 0 ?
				write(p->fd, p->buf + p->off, p->len - p->off) : -1;

			if (n < 0 && p->fd >= 0 && (errno == EAGAIN || errno == EINTR))
				return progress;
			if (n < 0) {
				/* The reader went away: drop its data but keep
				 * draining the channel so the command can end. */
				if (c->kind == CHAN_FORWARD) {
					close_fd(&c->up.fd);
					c->up.eof = 1;
				}
				close_fd(&p->fd);
				p->len = p->off = 0;
			} else {
				p->off += (size_t)n;
				if (p->off == p->len)
					p->len = p->off = 0;
			}
			progress++;
			continue;
		}
		if (p->eof || !ssh_may_send(s, p))
			return progress;
		/* A read may send a window adjustment. */
		ssize_t rc = libssh2_channel_read_ex(c->ch, stream, p->buf,
						     sizeof(p->buf));

		if (ssh_sent_partly(s, p, rc) || rc == LIBSSH2_ERROR_EAGAIN)
			return progress;
		if (rc < 0)
			return chan_fail(s, c, (int)rc);
		if (rc == 0)
			p->eof = 1;
		p->len = (size_t)rc;
		p->off = 0;
		progress++;
	}
}

/*
 * Tops the channel's receive window up to CHAN_WINDOW in one step once
 * half of it is used, counting what libssh2 holds unread as still
 * outstanding, so that a stalled reader never has more than that
 * buffered.  An adjustment cut short by a
 * full socket is resent as it was: libssh2 books the amount given to the
 * call that completes it.
 */
static int grow_window(struct ssh *s, struct ssh_chan *c)
{
	unsigned int unused;
	int rc;

	if (!c->win_adjust) {
		unsigned long avail = 0, left;

		left = libssh2_channel_window_read_ex(c->ch, &avail, NULL);
		if (left + avail >= CHAN_WINDOW / 2)
			return 0;
		c->win_adjust = CHAN_WINDOW - left - avail;
	}
	if (!ssh_may_send(s, &c->win_adjust))
		return 0;
	rc = libssh2_channel_receive_window_adjust2(c->ch, c->win_adjust, 1,
						    &unused);
	if (ssh_sent_partly(s, &c->win_adjust, rc) || rc == LIBSSH2_ERROR_EAGAIN)
		return 0;
	c->win_adjust = 0;
	if (rc < 0)
		return chan_fail(s, c, rc);
	return 1;
}

/* Close, wait for the server's close, collect the exit status, free. */
static int chan_finish(struct ssh *s, struct ssh_chan *c)
{
	char *sig = NULL;
	size_t siglen = 0;
	int rc;

	if (!ssh_may_send(s, &c->close_sent))
		return 0;
	if (!c->close_sent) {
		rc = libssh2_channel_close(c->ch);
		if (ssh_sent_partly(s, &c->close_sent, rc) ||
		    rc == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (rc < 0 && ssh_fatal(rc))
			return chan_fail(s, c, rc);
		c->close_sent = 1;
	}
	rc = libssh2_channel_wait_closed(c->ch);
	if (ssh_sent_partly(s, &c->close_sent, rc) || rc == LIBSSH2_ERROR_EAGAIN)
		return 0;
	if (rc < 0 && ssh_fatal(rc))
		return chan_fail(s, c, rc);
	c->st.exited = 1;
	c->st.code = libssh2_channel_get_exit_status(c->ch);
	if (libssh2_channel_get_exit_signal(c->ch, &sig, &siglen, NULL, NULL,
					    NULL, NULL) == 0 && sig) {
		c->st.exited = 0;
		snprintf(c->st.signal, sizeof(c->st.signal), "%.*s", (int)siglen,
			 sig);
		libssh2_free(s->session, sig);
	}
	rc = libssh2_channel_free(c->ch);
	if (ssh_sent_partly(s, &c->close_sent, rc) || rc == LIBSSH2_ERROR_EAGAIN)
		return 0;
	c->ch = NULL;
	close_fd(&c->up.fd);
	close_fd(&c->down.fd);
	close_fd(&c->derr.fd);
	c->finished = 1;
	pthread_cond_broadcast(&s->cond);
	return 1;
}

int chan_pump(struct ssh *s, struct ssh_chan *c)
{
	int progress = 0;

	if (!c->closing) {
		progress += pump_up(s, c);
		if (c->finished)
			return progress;
		progress += pump_down(s, c, &c->down, 0);
		if (c->kind == CHAN_EXEC && !c->finished)
			progress += pump_down(s, c, &c->derr,
					      SSH_EXTENDED_DATA_STDERR);
		if (!c->finished && !c->down.eof)
			progress += grow_window(s, c);
		/* The reads above may have brought the server's adjustment. */
		if (!c->finished && c->held && up_room(s, c))
			progress += pump_up(s, c);
		if (c->finished)
			return progress;
		if (!c->down.eof || c->down.len ||
		    (c->kind == CHAN_EXEC && (!c->derr.eof || c->derr.len)))
			return progress;
		/* The remote side has said all it will say. */
		if (c->kind == CHAN_FORWARD) {
			if (c->down.fd >= 0)
				shutdown(c->down.fd, SHUT_WR);
			close_fd(&c->down.fd);
			if (!c->eof_sent)
				return progress;
		}
		if (up_owes(s, c, &progress) || c->finished)
			return progress;
		c->closing = 1;
		progress++;
	}
	return progress + chan_finish(s, c);
}

int chan_poll_fds(struct ssh_chan *c, struct pollfd *pfd, int max)
{
	int n = 0;

	if (c->finished || c->closing)
		return 0;
	if (n < max && c->up.fd >= 0 && !c->up.eof && c->up.len == 0)
		pfd[n++] = (struct pollfd){ c->up.fd, POLLIN, 0 };
	if (n < max && c->down.fd >= 0 && c->down.len > c->down.off)
		pfd[n++] = (struct pollfd){ c->down.fd, POLLOUT, 0 };
	if (n < max && c->derr.fd >= 0 && c->derr.len > c->derr.off)
		pfd[n++] = (struct pollfd){ c->derr.fd, POLLOUT, 0 };
	return n;
}

int chan_wants_socket(const struct ssh_chan *c)
{
	if (c->finished)
		return 0;
	/* Closing reads the server's close; a pump with room reads data; a
	 * write waiting for window space reads the server's adjustment. */
	return c->closing || (!c->down.eof && c->down.len == 0) ||
	       (c->kind == CHAN_EXEC && !c->derr.eof && c->derr.len == 0) ||
	       c->up.len > 0 || (c->up.eof && !c->eof_sent);
}

int chan_has_pending(struct ssh_chan *c)
{
	unsigned long avail = 0;

	if (!c->ch || c->closing)
		return 0;
	/* Bytes already received for this channel, stdout and stderr alike;
	 * worth another pass only when a pump has room to take them. */
	libssh2_channel_window_read_ex(c->ch, &avail, NULL);
	if (!avail)
		return 0;
	return (!c->down.eof && c->down.len == 0) ||
	       (c->kind == CHAN_EXEC && !c->derr.eof && c->derr.len == 0);
}

/* ---- exec ------------------------------------------------------------ */

struct ssh_proc {
	struct ssh *s;
	struct ssh_chan *c;
};

struct exec_req {
	struct ssh_req r;
	const char *cmd;
	struct ssh_chan *c;
};

static int exec_step(struct ssh *s, struct ssh_req *r)
{
	struct exec_req *x = (struct exec_req *)r;
	int rc;

	if (!x->c->ch) {
		x->c->ch = libssh2_channel_open_session(s->session);
		if (!x->c->ch) {
			rc = libssh2_session_last_errno(s->session);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return rc;
			/* sshd refuses a session beyond MaxSessions with
			 * "connect failed", which names nothing. */
			err_set(&r->err, FX_CONN, "ssh %s: cannot open a channel: "
				"%s%s", s->name, ssh_errmsg(s),
				rc == LIBSSH2_ERROR_CHANNEL_FAILURE ? " (the "
				"server's sessions on one connection may be at "
				"sshd's MaxSessions, 10 by default)" : "");
			return rc < 0 ? rc : -1;
		}
	}
	rc = libssh2_channel_exec(x->c->ch, x->cmd);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	if (rc < 0) {
		err_set(&r->err, FX_REMOTE, "ssh %s: exec refused: %s", s->name,
			ssh_errmsg(s));
		/* Left for libssh2_session_free(): freeing sends, and a
		 * request that has ended must not leave a packet half-sent. */
		x->c->ch = NULL;
		return rc;
	}
	x->c->next = s->chans;
	s->chans = x->c;
	return 0;
}

int ssh_exec(struct ssh *s, const char *cmd, struct ssh_proc **p, int *in,
	     int *out, int *err, struct err *e)
{
	struct pipe3 p3 = PIPE3_INIT;
	struct exec_req x = { 0 };
	struct ssh_chan *c;

	/* The I/O thread's ends never block it. */
	if (pipe3_open(&p3) < 0 || fd_nonblock(p3.in[0], 1) < 0 ||
	    fd_nonblock(p3.out[1], 1) < 0 || fd_nonblock(p3.err[1], 1) < 0) {
		err_set(e, FX_FAIL, "pipe: %s", strerror(errno));
		pipe3_close(&p3);
		return -1;
	}
	/* A megabyte between the I/O thread and the command's reader, not
	 * the pipe's 64 KiB: fewer writes that find it full (a 150 MB
	 * backup: 1,354 of 1,956 did, then 358 of 1,036; 0.2-0.3 fewer
	 * CPU-seconds).  Not the other way: what a writer gets accepted is
	 * how far it is ahead of the command (tests/integration/transport.sh),
	 * and a megabyte there would count as sent.  Where the system allows
	 * less, the pipe stays as it is. */
	(void)fcntl(p3.out[1], F_SETPIPE_SZ, 1 << 20);
	c = chan_new(CHAN_EXEC);
	c->up.fd = p3.in[0];
	c->down.fd = p3.out[1];
	c->derr.fd = p3.err[1];
	p3.in[0] = p3.out[1] = p3.err[1] = -1;	/* the channel's now */
	x.r.step = exec_step;
	x.cmd = cmd;
	x.c = c;
	log_debug("ssh %s: exec %s", s->name, cmd);
	if (ssh_call(s, &x.r, e) < 0) {
		chan_free(c);
		pipe3_close(&p3);
		return -1;
	}
	*p = xcalloc(1, sizeof(**p));
	(*p)->s = s;
	(*p)->c = c;
	*in = p3.in[1];
	*out = p3.out[0];
	*err = p3.err[0];
	return 0;
}

int ssh_proc_wait(struct ssh_proc *p, struct proc_status *st, struct err *e)
{
	struct ssh *s = p->s;
	struct ssh_chan *c = p->c;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	while (!c->finished)
		pthread_cond_wait(&s->cond, &s->mu);
	for (struct ssh_chan **pp = &s->chans; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (s->dead)
		r = err_set(e, FX_CONN, "%s", s->lost);
	else if (c->failed[0])
		r = err_set(e, FX_CONN, "ssh %s: %s", s->name, c->failed);
	else
		*st = c->st;
	chan_release(s, c);
	pthread_mutex_unlock(&s->mu);
	free(p);
	return r;
}

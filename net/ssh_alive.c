/*
 * Liveness: noticing that the server is gone.  A closed or reset
 * connection shows on the socket at once; a silent one is found by
 * OpenSSH's ServerAliveInterval / ServerAliveCountMax rule, applied while
 * some party waits on the server.  Everything here runs on the I/O thread
 * (or in ssh_connect() before it starts), with s->mu held.
 */
#include "net/ssh_internal.h"

#include <errno.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "util/elapsed.h"

long long ssh_alive_limit(const struct ssh_opts *o)
{
	long long limit;

	if (o->keepalive_ms <= 0)
		return 0;
	limit = o->keepalive_ms * (o->keepalive_count > 0 ? o->keepalive_count : 1);
	return limit < ALIVE_MIN_MS ? ALIVE_MIN_MS : limit;
}

/* libssh2 reads the socket through here, so every byte from the server,
 * whoever it is for, counts as a sign of life. */
static LIBSSH2_RECV_FUNC(on_recv)
{
	struct ssh *s = *abstract;
	ssize_t n = recv(socket, buffer, length, flags);

	if (n > 0) {
		clock_gettime(CLOCK_MONOTONIC, &s->heard);
		return n;
	}
	if (n == 0) {
		s->sock_err = -1;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return -EAGAIN;
	s->sock_err = errno;
	return -errno;
}

static LIBSSH2_SEND_FUNC(on_send)
{
	struct ssh *s = *abstract;
	ssize_t n = send(socket, buffer, length, flags);

	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return -EAGAIN;
	s->sock_err = errno;
	return -errno;
}

void ssh_watch_socket(struct ssh *s)
{
	libssh2_session_callback_set(s->session, LIBSSH2_CALLBACK_RECV,
				     (void *)on_recv);
	libssh2_session_callback_set(s->session, LIBSSH2_CALLBACK_SEND,
				     (void *)on_send);
}

/* Room for a whole keepalive packet in the socket's send buffer, so that
 * it is not left half-sent (see ssh_keepalive()). */
static int room_to_send(const struct ssh *s)
{
	int queued = 0, size = 0;
	socklen_t len = sizeof(size);

	if (ioctl(s->sock, SIOCOUTQ, &queued) < 0 ||
	    getsockopt(s->sock, SOL_SOCKET, SO_SNDBUF, &size, &len) < 0)
		return 0;
	return size - queued >= 4096;
}

static long long ms_until(const struct timespec *since, long long ms)
{
	long long left = ms - (long long)(elapsed_since(since) * 1000);

	return left > 0 ? left : 0;
}

/*
 * libssh2 1.10 builds the keepalive packet on its stack, so one left
 * half-sent (despite room_to_send()) can only be finished by calling
 * libssh2_keepalive_send() again from this same place, at the same stack
 * depth (io_main() calls this once per pass): until then the probe owns
 * the session (ssh_may_send()), which libssh2's own 2 s minimum between
 * keepalives bounds.
 */
int ssh_keepalive(struct ssh *s, int waiting, int timeout)
{
	long long limit = s->alive_limit, wait, due;
	int stuck = s->out_owner == &s->probed, next, rc;

	if (s->alive_ms <= 0 || s->dead)
		return timeout;
	if (waiting && !s->waiting)
		clock_gettime(CLOCK_MONOTONIC, &s->heard);
	s->waiting = waiting;
	if (!waiting && !stuck)
		return timeout;
	if (waiting && ms_until(&s->heard, limit) == 0) {
		s->sock_err = ETIMEDOUT;
		ssh_mark_dead(s, "silence");
		return timeout;
	}
	if (stuck || (ms_until(&s->heard, s->alive_ms) == 0 &&
		      ms_until(&s->probed, s->alive_ms) == 0 &&
		      ssh_may_send(s, &s->probed) && room_to_send(s))) {
		next = 0;
		rc = libssh2_keepalive_send(s->session, &next);
		if (!ssh_sent_partly(s, &s->probed, rc) && rc < 0 &&
		    ssh_fatal(rc)) {
			ssh_mark_dead(s, ssh_errmsg(s));
			return timeout;
		}
		/* libssh2 sends at most one per ALIVE_FLOOR_S (whole seconds
		 * of time()); next is the full floor only when it just did.
		 * Otherwise the probe is tried again shortly. */
		if (!stuck && next == ALIVE_FLOOR_S)
			clock_gettime(CLOCK_MONOTONIC, &s->probed);
	}
	/* Wake for the deadline or the next probe; a probe due but not
	 * sendable yet (a full socket, another sender's packet) is tried
	 * again shortly, never in a spin. */
	wait = ms_until(&s->heard, limit);
	due = ms_until(&s->heard, s->alive_ms);
	if (ms_until(&s->probed, s->alive_ms) > due)
		due = ms_until(&s->probed, s->alive_ms);
	if (due == 0 || s->out_owner == &s->probed)
		due = 250;
	if (due < wait)
		wait = due;
	return wait < timeout ? (int)wait : timeout;
}

/* The socket's own account of the loss beats libssh2's ("transport
 * read"): the user learns whether the server went away or went quiet. */
void ssh_describe_loss(struct ssh *s, const char *why)
{
	int n = snprintf(s->lost, sizeof(s->lost), "connection to %s lost ",
			 s->name);
	size_t left = n > 0 && (size_t)n < sizeof(s->lost) ?
		sizeof(s->lost) - (size_t)n : 0;
	char *p = s->lost + (sizeof(s->lost) - left);

	if (s->sock_err == -1)
		snprintf(p, left, "(the server closed it)");
	else if (s->sock_err == ETIMEDOUT && s->waiting)
		snprintf(p, left, "after %.1f s of silence",
			 elapsed_since(&s->heard));
	else if (s->sock_err == ETIMEDOUT)
		snprintf(p, left, "(no answer from the server)");
	else if (s->sock_err == ECONNRESET || s->sock_err == EPIPE)
		snprintf(p, left, "(reset by the server)");
	else if (s->sock_err > 0)
		snprintf(p, left, "(%s)", strerror(s->sock_err));
	else
		snprintf(p, left, "(%s)", why);
}

/*
 * The session: connect, handshake, host key, authentication, then the I/O
 * thread that alone drives libssh2 from a poll loop.
 */
#include "net/ssh_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/log.h"
#include "net/tcp.h"

#define MAX_POLL 512

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_rc;

static void lib_init(void)
{
	lib_rc = libssh2_init(0);
}

const char *ssh_errmsg(struct ssh *s)
{
	char *msg = NULL;

	if (!s->session)
		return "no session";
	libssh2_session_last_error(s->session, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown error";
}

int ssh_fatal(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_KEX_FAILURE:
	case LIBSSH2_ERROR_DECRYPT:
	case LIBSSH2_ERROR_BAD_USE:
		return 1;
	}
	return 0;
}

const char *ssh_name(const struct ssh *s)
{
	return s->name;
}

/* ---- TCP ------------------------------------------------------------- */

/*
 * The kernel's part in noticing a dead link.  TCP_USER_TIMEOUT ends the
 * connection when data sent stays unacknowledged for the whole bound
 * (keepalives do not run while data is in flight); TCP keepalives probe an
 * idle one.  Neither sees a server whose kernel still answers but whose
 * sshd is gone or stuck: ssh_keepalive() (ssh_alive.c) covers that.
 */
static void set_tcp_options(int fd, const struct ssh_opts *o)
{
	long long alive_ms = o->keepalive_ms;
	int on = 1, secs = (int)(alive_ms / 1000 > 0 ? alive_ms / 1000 : 1);
	int count = o->keepalive_count > 0 ? o->keepalive_count : 1;
	unsigned int bound = (unsigned int)ssh_alive_limit(o);

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (alive_ms <= 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &secs, sizeof(secs));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &secs, sizeof(secs));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &bound, sizeof(bound));
}

/*
 * sshd may leave Nagle's algorithm on (OpenSSH turns it off once a session
 * starts a command; older ones only for a terminal).  Then when it answers
 * with two small packets (a channel's confirmation and its window, a
 * forwarded query's rows and its end), the second waits until this end
 * acknowledges the first, and this end's kernel delays that ACK up to
 * 40 ms while it has nothing to send: one such stall came in nearly every
 * backup's first 0.2 s (bench/README.md).  Asked for before each wait on
 * the server: quick acks are not sticky, the kernel drops them again once
 * the exchange looks interactive.
 */
static void quick_acks(struct ssh *s)
{
	int on = 1;

	if (s->sock_tcp)
		setsockopt(s->sock, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
}

/* Blocking: libssh2 runs so until authenticated (session_start). */
static int connect_to(const struct ssh_opts *o, struct err *e)
{
	int fd = tcp_connect(o->host, o->port, o->connect_timeout_ms, e);

	if (fd >= 0)
		set_tcp_options(fd, o);
	return fd;
}

/* ---- requests -------------------------------------------------------- */

void ssh_wake(struct ssh *s)
{
	char c = 1;

	if (write(s->wake[1], &c, 1) < 0) {
		/* pipe full: the I/O thread is awake anyway */
	}
}

static void enqueue(struct ssh *s, struct ssh_req *r)
{
	r->done = 0;
	r->rc = 0;
	r->next = NULL;
	*s->reqs_tail = r;
	s->reqs_tail = &r->next;
}

void ssh_enqueue_locked(struct ssh *s, struct ssh_req *r)
{
	enqueue(s, r);
}

int ssh_call(struct ssh *s, struct ssh_req *r, struct err *e)
{
	int rc;

	err_clear(&r->err);
	pthread_mutex_lock(&s->mu);
	if (s->dead) {
		pthread_mutex_unlock(&s->mu);
		return err_set(e, FX_CONN, "%s", s->lost);
	}
	enqueue(s, r);
	ssh_wake(s);
	while (!r->done)
		pthread_cond_wait(&s->cond, &s->mu);
	rc = r->rc;
	pthread_mutex_unlock(&s->mu);
	if (rc < 0 && e) {
		e->code = r->err.code ? r->err.code : FX_FAIL;
		memcpy(e->msg, r->err.msg, sizeof(e->msg));
	}
	return rc < 0 ? -1 : rc;
}

/*
 * libssh2 1.10 sends one packet at a time: while a packet is partly sent,
 * any other call that sends fails with LIBSSH2_ERROR_BAD_USE.  So the call
 * that left a packet half-sent (its "tag": a pump, a request) is the only
 * one run until that packet is out.
 */
int ssh_may_send(struct ssh *s, const void *tag)
{
	return !s->out_owner || s->out_owner == tag;
}

int ssh_sent_partly(struct ssh *s, const void *tag, long rc)
{
	/* A failed send leaves its packet in libssh2 and the direction bit
	 * set for good: waiting for it to drain would spin on a dead socket. */
	if (rc < 0 && rc != LIBSSH2_ERROR_EAGAIN) {
		if (s->out_owner == tag)
			s->out_owner = NULL;
		return 0;
	}
	if (libssh2_session_block_directions(s->session) &
	    LIBSSH2_SESSION_BLOCK_OUTBOUND) {
		s->out_owner = tag;
		return 1;
	}
	if (s->out_owner == tag)
		s->out_owner = NULL;
	return 0;
}

static void finish_req(struct ssh *s, struct ssh_req *r, int rc)
{
	if (s->out_owner == r)
		s->out_owner = NULL;
	s->reqs = r->next;
	if (!s->reqs)
		s->reqs_tail = &s->reqs;
	r->rc = rc;
	r->done = 1;
	if (r->release)
		r->release(r);
	else
		pthread_cond_broadcast(&s->cond);
}

static void fail_all(struct ssh *s, const char *why)
{
	while (s->reqs) {
		struct ssh_req *r = s->reqs;

		err_set(&r->err, FX_CONN, "%s", why);
		finish_req(s, r, -1);
	}
	for (struct ssh_chan *c = s->chans; c; c = c->next)
		chan_abort(c, why);
	/* New connections to a tunnel are refused rather than left
	 * waiting for a channel that will never open. */
	for (struct forward *f = s->fwds; f; f = f->next)
		forward_stop(f);
	pthread_cond_broadcast(&s->cond);
}

void ssh_mark_dead(struct ssh *s, const char *why)
{
	if (s->dead)
		return;
	s->dead = 1;
	ssh_describe_loss(s, why);
	log_verbose("%s", s->lost);
	fail_all(s, s->lost);
}

const char *ssh_lost(struct ssh *s)
{
	int dead;

	pthread_mutex_lock(&s->mu);
	dead = s->dead;
	pthread_mutex_unlock(&s->mu);
	/* s->lost is written once, before dead is set. */
	return dead ? s->lost : NULL;
}

int ssh_lost_silent(struct ssh *s)
{
	int silent;

	pthread_mutex_lock(&s->mu);
	silent = s->dead && s->sock_err == ETIMEDOUT;
	pthread_mutex_unlock(&s->mu);
	return silent;
}

/* ---- the I/O thread -------------------------------------------------- */

static int run_requests(struct ssh *s)
{
	int progress = 0;

	while (s->reqs && !s->dead) {
		struct ssh_req *r = s->reqs;
		int rc;

		if (!ssh_may_send(s, r))
			break;
		rc = r->step(s, r);
		if (ssh_sent_partly(s, r, rc) || rc == LIBSSH2_ERROR_EAGAIN)
			break;
		if (rc < 0 && ssh_fatal(rc)) {
			ssh_mark_dead(s, ssh_errmsg(s));
			break;
		}
		finish_req(s, r, rc);
		progress = 1;
	}
	return progress;
}

static int run_channels(struct ssh *s)
{
	int progress = 0;

	for (struct ssh_chan **pp = &s->chans; *pp;) {
		struct ssh_chan *c = *pp;

		if (!s->dead && !c->finished)
			progress += chan_pump(s, c);
		/* Exec channels are freed by ssh_proc_wait(). */
		if (c->finished && c->kind == CHAN_FORWARD) {
			*pp = c->next;
			chan_release(s, c);
			continue;
		}
		pp = &c->next;
	}
	return progress;
}

/* Whether some party would read the socket now.  Only then is it watched
 * for input: unread bytes (a server's global request while idle, or data
 * for a channel whose local reader is slow) would otherwise wake poll at
 * once, forever.  It is also when the server's silence counts. */
static int wants_input(struct ssh *s)
{
	if (s->dead)
		return 0;
	if (s->reqs)
		return 1;
	for (struct ssh_chan *c = s->chans; c; c = c->next)
		if (chan_wants_socket(c))
			return 1;
	return 0;
}

static int build_poll(struct ssh *s, struct pollfd *pfd, int want_in)
{
	int n = 0, dirs;
	short events;

	pfd[n++] = (struct pollfd){ s->wake[0], POLLIN, 0 };
	if (s->dead)
		return n;
	dirs = libssh2_session_block_directions(s->session);
	/* While a packet is half-sent no one may read (ssh_may_send()):
	 * input waiting would wake poll at once, forever; only the socket
	 * draining lets anything go on. */
	if (s->out_owner)
		want_in = 0;
	events = (short)((want_in ? POLLIN : 0) |
		((dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND) ? POLLOUT : 0));
	pfd[n++] = (struct pollfd){ s->sock, events, 0 };
	for (struct forward *f = s->fwds; f && n < MAX_POLL; f = f->next)
		if (f->lfd >= 0)
			pfd[n++] = (struct pollfd){ f->lfd, POLLIN, 0 };
	for (struct ssh_chan *c = s->chans; c && n < MAX_POLL - 3; c = c->next)
		n += chan_poll_fds(c, pfd + n, MAX_POLL - n);
	return n;
}

static void after_poll(struct ssh *s, struct pollfd *pfd, int n)
{
	char drain[64];

	if (pfd[0].revents & POLLIN)
		while (read(s->wake[0], drain, sizeof(drain)) > 0)
			;
	/* An error or hangup is reported whatever was asked for: left
	 * alone while no one reads, it would wake poll at once, forever. */
	if (n > 1 && pfd[1].fd == s->sock &&
	    (pfd[1].revents & (POLLERR | POLLHUP | POLLNVAL))) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		if (getsockopt(s->sock, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
		    soerr)
			s->sock_err = soerr;
		else if (!s->sock_err)
			s->sock_err = -1;
		ssh_mark_dead(s, "hangup");
	}
	for (int i = 1; i < n; i++) {
		if (!(pfd[i].revents & POLLIN))
			continue;
		for (struct forward *f = s->fwds; f; f = f->next)
			if (f->lfd == pfd[i].fd)
				forward_accept(s, f);
	}
}

static void *io_main(void *arg)
{
	struct ssh *s = arg;
	struct pollfd pfd[MAX_POLL];

	pthread_mutex_lock(&s->mu);
	while (!s->quit) {
		int progress, timeout, n, want_in;

		/* One pass, then always poll: a busy channel must not starve
		 * the listeners and the wake pipe.  Channels go before requests
		 * (a channel read may pull the reply a request waits for off the
		 * socket) and again after them (a request's step may read data
		 * or an EOF meant for a channel). */
		int stepped = s->reqs != NULL;

		progress = run_channels(s);
		progress += run_requests(s);
		if (stepped)
			progress += run_channels(s);
		/* A ceiling, so that no missed wake-up can stall for long. */
		timeout = 1000;
		/* Data libssh2 already buffered for a channel does not wake
		 * poll on the socket: look before sleeping. */
		for (struct ssh_chan *c = s->chans; c; c = c->next)
			if (!s->dead && !c->finished && chan_has_pending(c))
				timeout = 0;
		if (progress)
			timeout = 0;
		want_in = wants_input(s);
		timeout = ssh_keepalive(s, want_in, timeout);
		n = build_poll(s, pfd, want_in && !s->dead);
		if (timeout && want_in)
			quick_acks(s);
		pthread_mutex_unlock(&s->mu);
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
			usleep(1000);
		pthread_mutex_lock(&s->mu);
		after_poll(s, pfd, n);
	}
	fail_all(s, "session closed");
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------- */

/* Only names libssh2 supports: its method_pref() mishandles (overlapping
 * memcpy) the removal of unsupported ones. */
static int set_hostkey_pref(struct ssh *s, const char *prefs)
{
	const char **algs = NULL;
	struct buf ok = BUF_INIT;
	int n, r;

	n = libssh2_session_supported_algs(s->session, LIBSSH2_METHOD_HOSTKEY,
					   &algs);
	if (n <= 0)
		return -1;
	for (const char *p = prefs; *p;) {
		size_t len = strcspn(p, ",");

		for (int i = 0; i < n; i++)
			if (strlen(algs[i]) == len && !strncmp(algs[i], p, len))
				buf_printf(&ok, "%s%.*s", ok.len ? "," : "",
					   (int)len, p);
		p += len + (p[len] == ',');
	}
	libssh2_free(s->session, algs);
	r = ok.len ? libssh2_session_method_pref(s->session,
			LIBSSH2_METHOD_HOSTKEY, buf_str(&ok)) : -1;
	buf_release(&ok);
	return r < 0 ? -1 : 0;
}

/*
 * A handshake or authentication cut short by the link (the kernel's
 * TCP_USER_TIMEOUT, a reset, libssh2's own timeout) says so, as a loss
 * later on does: libssh2's words for it ("unknown error", "Waiting for
 * USERAUTH response") do not tell the user the server went away.
 */
static int connect_lost(struct ssh *s, int rc, const char *step,
			struct err *e)
{
	if (!rc)
		rc = libssh2_session_last_errno(s->session);
	/* libssh2 reports a broken socket in the words of the step it
	 * broke (PUBLICKEY_UNVERIFIED, KEX_FAILURE): the socket says. */
	if (!s->sock_err && (rc == LIBSSH2_ERROR_TIMEOUT ||
			     rc == LIBSSH2_ERROR_SOCKET_TIMEOUT))
		s->sock_err = ETIMEDOUT;
	if (!s->sock_err)
		return 0;
	/* The loss leads: "authentication failed" would send the user
	 * to check keys that were never refused. */
	ssh_describe_loss(s, ssh_errmsg(s));
	err_set(e, FX_CONN, "%s during %s", s->lost, step);
	return 1;
}

static int session_start(struct ssh *s, const struct ssh_opts *o,
			 struct err *e)
{
	const char *prefs;
	int rc;

	s->session = libssh2_session_init_ex(NULL, NULL, NULL, s);
	if (!s->session)
		return err_set(e, FX_CONN, "ssh %s: cannot create session", s->name);
	ssh_watch_socket(s);
	libssh2_session_set_blocking(s->session, 1);
	libssh2_session_set_timeout(s->session, (long)o->connect_timeout_ms);
	prefs = ssh_hostkey_prefs(o);
	if (prefs && set_hostkey_pref(s, prefs) < 0)
		log_debug("host key preference '%s' refused: %s", prefs,
			  ssh_errmsg(s));
	rc = libssh2_session_handshake(s->session, s->sock);
	if (!rc)
		log_debug("ssh %s: cipher %s, mac %s", s->name,
			  libssh2_session_methods(s->session, LIBSSH2_METHOD_CRYPT_SC),
			  libssh2_session_methods(s->session, LIBSSH2_METHOD_MAC_SC));
	if (rc) {
		if (!connect_lost(s, rc, "the handshake", e))
			err_set(e, FX_CONN, "ssh %s: handshake failed: %s",
				s->name, ssh_errmsg(s));
		return -1;
	}
	if (ssh_hostkey_verify(s, o, e) < 0) {
		connect_lost(s, 0, "the host key check", e);
		return -1;
	}
	if (ssh_auth(s, o, e) < 0) {
		connect_lost(s, 0, "authentication", e);
		return -1;
	}
	libssh2_session_set_timeout(s->session, 0);
	libssh2_session_set_blocking(s->session, 0);
	/* ssh_keepalive() decides when; libssh2's own floor is 2 s. */
	libssh2_keepalive_config(s->session, 1, ALIVE_FLOOR_S);
	if (fd_nonblock(s->sock, 1) < 0)
		return err_set(e, FX_CONN, "ssh %s: %s", s->name, strerror(errno));
	return 0;
}

int ssh_connect(struct ssh **out, const struct ssh_opts *o, struct err *e)
{
	struct ssh *s;

	pthread_once(&lib_once, lib_init);
	if (lib_rc)
		return err_set(e, FX_FAIL, "libssh2 initialisation failed");
	s = xcalloc(1, sizeof(*s));
	s->sock = -1;
	s->wake[0] = s->wake[1] = -1;
	s->name = xstrfmt("%s@%s:%d", o->user, o->host, o->port);
	s->reqs_tail = &s->reqs;
	s->alive_ms = o->keepalive_ms;
	s->alive_limit = ssh_alive_limit(o);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		err_set(e, FX_FAIL, "pipe: %s", strerror(errno));
		goto fail;
	}
	if (o->jump || o->proxy_command) {
		if (route_open(s, o, e) < 0)
			goto fail;
	} else {
		s->sock = connect_to(o, e);
		if (s->sock < 0)
			goto fail;
		s->sock_tcp = 1;
	}
	if (session_start(s, o, e) < 0) {
		if (o->proxy_command && e->code == FX_CONN)
			route_proxy_ended(s, o, e);
		goto fail;
	}
	if (pthread_create(&s->io, NULL, io_main, s)) {
		err_set(e, FX_FAIL, "cannot start the SSH I/O thread");
		goto fail;
	}
	s->io_started = 1;
	log_verbose("connected to %s", s->name);
	*out = s;
	return 0;
fail:
	ssh_close(s);
	return -1;
}

void ssh_close(struct ssh *s)
{
	if (!s)
		return;
	if (s->io_started) {
		pthread_mutex_lock(&s->mu);
		s->quit = 1;
		pthread_mutex_unlock(&s->mu);
		ssh_wake(s);
		pthread_join(s->io, NULL);
	}
	while (s->chans) {
		struct ssh_chan *c = s->chans;

		s->chans = c->next;
		chan_free(c);
	}
	while (s->fwds) {
		struct forward *f = s->fwds;

		s->fwds = f->next;
		forward_free(f);
	}
	if (s->session) {
		if (s->sftp && !s->dead) {
			libssh2_session_set_blocking(s->session, 1);
			libssh2_session_set_timeout(s->session, 2000);
			libssh2_sftp_shutdown(s->sftp);
		}
		if (!s->dead) {
			libssh2_session_set_blocking(s->session, 1);
			libssh2_session_set_timeout(s->session, 2000);
			libssh2_session_disconnect(s->session, "ferry done");
		} else if (s->sock >= 0) {
			/* libssh2_session_free() closes the channels still
			 * open, which sends: on a dead link whose socket is
			 * full that is EAGAIN, and the session is then not
			 * freed at all (LeakSanitizer's report then costs the
			 * run its exit code and seconds).  A shut socket
			 * fails those sends at once, which libssh2 ignores. */
			shutdown(s->sock, SHUT_RDWR);
		}
		if (libssh2_session_free(s->session) < 0)
			log_debug("ssh %s: session not freed: %s", s->name,
				  ssh_errmsg(s));
	}
	if (s->sock >= 0)
		close(s->sock);
	route_close(s);
	if (s->wake[0] >= 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	free(s->name);
	free(s);
}

/*
 * Shared between the ssh_*.c files only.  Everything that touches the
 * LIBSSH2_SESSION runs on the I/O thread; other threads queue requests.
 */
#ifndef FERRY_SSH_INTERNAL_H
#define FERRY_SSH_INTERNAL_H

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "net/ssh.h"

#define CHAN_BUF (64 * 1024)
/* What the server may send a channel ahead of our reading: libssh2's own
 * 2 MiB, topped up by ferry in large steps.  Wider windows measured
 * worse: OpenSSH's sshd then buffers megabytes per channel and compacts
 * its buffer with memmove, up to 2.6 s of its CPU in a 150 MB backup that
 * otherwise needed 0.8 s (8 MiB windows: 2.7-7.8 s, 2 MiB: 2.2-2.8 s). */
#define CHAN_WINDOW (2u << 20)
/* And the other way: what ferry lets wait in sshd for a command that is
 * not reading yet.  OpenSSH's sshd (9.2 here) spins in the same memmove
 * while a channel's command pauses with its 2 MiB window full: a restore
 * whose psql was still connecting sent 2 MiB, then 1-3 MB/s for 0.6-1 s
 * of sshd at 100% CPU on a 12 MB/s link (OpenSSH's own client the same).
 * Holding what the server has not passed on to 512 KiB, plus what the
 * round trip needs at 100 MB/s, avoids it and leaves the rate alone. */
#define CHAN_AHEAD (512u << 10)
#define CHAN_AHEAD_RATE 100	/* bytes per microsecond of round trip */

/* A request run on the I/O thread: step() is called until it stops
 * returning LIBSSH2_ERROR_EAGAIN.  Requests run one at a time, because
 * libssh2 keeps per-session state for channel opens and SFTP calls. */
struct ssh_req {
	int (*step)(struct ssh *s, struct ssh_req *r);
	void (*release)(struct ssh_req *r);	/* set: freed by the I/O thread */
	int done;
	int rc;
	struct err err;
	struct ssh_req *next;
};

/* One direction of bytes, with its bounded buffer. */
struct pump {
	int fd;			/* local end, -1 once closed */
	char buf[CHAN_BUF];
	size_t len, off;
	int eof;		/* source ended */
};

enum chan_kind { CHAN_EXEC, CHAN_FORWARD };

struct ssh_chan {
	enum chan_kind kind;
	LIBSSH2_CHANNEL *ch;
	struct pump up;		/* local fd -> channel */
	struct pump down;	/* channel stdout -> local fd */
	struct pump derr;	/* channel stderr -> local fd (exec) */
	int eof_sent;
	int closing;		/* close/wait_closed in progress */
	int finished;		/* exit status collected, channel freed */
	struct proc_status st;
	int close_sent;
	unsigned long win_adjust;	/* window adjustment being sent */
	unsigned long win_top;	/* the widest send window the server gave */
	size_t ahead;		/* CHAN_AHEAD with the round trip; 0: unset */
	int held;		/* pump_up stopped at ahead */
	char failed[256];	/* why the channel broke, "" if it did not */
	struct ssh_chan *next;
};

struct forward {
	int lfd;
	int lport;
	char *host;
	int port;
	char *path, *dir;	/* a Unix socket and its own directory, or NULL */
	struct forward *next;
};

struct ssh {
	int sock;
	int sock_tcp;		/* sock is a TCP connection (see quick_acks()) */
	LIBSSH2_SESSION *session;
	LIBSSH2_SFTP *sftp;
	char *name;
	const void *out_owner;	/* see ssh_may_send() */

	pthread_t io;
	int io_started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int wake[2];
	int quit;
	int dead;
	char lost[384];		/* "connection to NAME lost ...", once dead */

	/* Liveness (see ssh_alive.c): the server is presumed dead
	 * after alive_limit of silence while something waits on it, and is
	 * asked to speak (a keepalive request) every alive_ms. */
	long long alive_ms;	/* 0: no SSH-level keepalive */
	long long alive_limit;	/* ssh_alive_limit() */
	int waiting;		/* last pass: something waited on the server */
	struct timespec heard;	/* last byte received, or start of waiting */
	struct timespec probed;	/* last keepalive request sent */
	int sock_err;		/* errno of the failed recv/send; -1: EOF */

	struct ssh_req *reqs, **reqs_tail;
	struct ssh_chan *chans;
	struct forward *fwds;

	struct ssh *via;	/* the jump host carrying this session */
	pid_t proxy_pid;	/* the ProxyCommand carrying it, or 0 */
};

/* ssh.c */
int ssh_call(struct ssh *s, struct ssh_req *r, struct err *e);
void ssh_enqueue_locked(struct ssh *s, struct ssh_req *r); /* I/O thread */
void ssh_wake(struct ssh *s);
const char *ssh_errmsg(struct ssh *s);
int ssh_fatal(int rc);
/* 1 when the call tagged tag may use the session now. */
int ssh_may_send(struct ssh *s, const void *tag);
/* After a call tagged tag that returned rc: 1 if it left a packet
 * half-sent (then only it may run until the packet is out).  A call that
 * failed (rc < 0, not EAGAIN) gives up its claim: its error must be
 * handled, not waited out (the socket will never drain). */
int ssh_sent_partly(struct ssh *s, const void *tag, long rc);
/* Marks the session dead (why: libssh2's view, used when the socket gave
 * no better reason) and releases every waiting party; mu held. */
void ssh_mark_dead(struct ssh *s, const char *why);

/* ssh_alive.c */
/* libssh2 1.10 sends a keepalive at most every 2 s (of time()'s whole
 * seconds): probes cannot come faster, so the silence allowed is never
 * less than ALIVE_MIN_MS, or a live server could be given up between two
 * answers. */
#define ALIVE_FLOOR_S 2
#define ALIVE_MIN_MS 3000
/* The silence after which the session is dead: keepalive_ms *
 * keepalive_count, at least ALIVE_MIN_MS; 0 when keepalives are off. */
long long ssh_alive_limit(const struct ssh_opts *o);
/* Reads and writes of the session's socket go through ferry, which notes
 * every byte heard and the errno of a failure. */
void ssh_watch_socket(struct ssh *s);
/*
 * Once per pass of the I/O thread; waiting: some party waits on the
 * server.  After alive_ms without a byte from it, a keepalive request
 * (which the server must answer); after alive_limit of it, the
 * session is marked dead.  Returns how long poll may sleep (at most
 * timeout).
 */
int ssh_keepalive(struct ssh *s, int waiting, int timeout);
/* Fills s->lost from how the socket failed (or why, if it did not say). */
void ssh_describe_loss(struct ssh *s, const char *why);

/* ssh_hostkey.c: after the handshake, before authentication. */
const char *ssh_hostkey_prefs(const struct ssh_opts *o);
int ssh_hostkey_verify(struct ssh *s, const struct ssh_opts *o,
		       struct err *e);

/* ssh_route.c: s->sock through o->jump or o->proxy_command; closed
 * after s's own socket. */
int route_open(struct ssh *s, const struct ssh_opts *o, struct err *e);
void route_close(struct ssh *s);
/* A session over a ProxyCommand failed: when the command has ended, say
 * so and how (its end is the likelier cause than the server's). */
void route_proxy_ended(struct ssh *s, const struct ssh_opts *o,
		       struct err *e);

/* ssh_auth.c: agent first, then identity files. */
int ssh_auth(struct ssh *s, const struct ssh_opts *o, struct err *e);

/* ssh_chan.c: called on the I/O thread with s->mu held. */
int chan_pump(struct ssh *s, struct ssh_chan *c);
int chan_poll_fds(struct ssh_chan *c, struct pollfd *pfd, int max);
int chan_has_pending(struct ssh_chan *c);
/* Whether c would read the session socket now (if not, a readable socket
 * must not wake the I/O thread: it would spin). */
int chan_wants_socket(const struct ssh_chan *c);
void chan_abort(struct ssh_chan *c, const char *why);
void chan_free(struct ssh_chan *c);
/* chan_free() that also forgets c's claim on the session (mu held). */
void chan_release(struct ssh *s, struct ssh_chan *c);
struct ssh_chan *chan_new(enum chan_kind kind);
void forward_accept(struct ssh *s, struct forward *f);
/* Closes the listener and removes its socket and directory, if any. */
void forward_free(struct forward *f);
/* Closes the listener only (a dead session): connections are refused. */
void forward_stop(struct forward *f);

#endif

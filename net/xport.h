/*
 * xport: "the server", whether reached over SSH or (host = local) this very
 * machine.  Commands, files and tunnels behave the same either way, so every
 * feature also runs on the server itself.
 */
#ifndef FERRY_XPORT_H
#define FERRY_XPORT_H

#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"
#include "net/ssh.h"

struct xport;
struct xproc;

/* Where the server is.  The program fills it from [server]
 * (agent/connect.c); nothing below the program reads the configuration
 * for it, so features take one of these and open the server when they
 * first need it. */
struct xport_opts {
	int local;		/* host = local: this machine, no SSH */
	struct ssh_opts ssh;
};

/* Connects; FX_CONN on failure.  Free with xport_close(). */
int xport_open(struct xport **out, const struct xport_opts *o,
	       struct err *e) __attribute__((warn_unused_result));
void xport_close(struct xport *x);
const char *xport_name(const struct xport *x);
/* NULL while the server is reachable (always, for host = local); once the
 * SSH session died, the sentence saying so (see ssh_lost()).  A failure
 * seen by a feature is then the connection's: exit 3, this message. */
const char *xport_lost(struct xport *x);
/* 1 when it was lost to silence (see ssh_lost_silent()). */
int xport_lost_silent(struct xport *x);
/* The SSH session underneath, or NULL for host = local. */
struct ssh *xport_ssh(struct xport *x);
int xport_is_local(const struct xport *x);

/*
 * Starts cmd (a shell command line: quote arguments with sh_quote()).  The
 * caller owns *in (write, close for EOF), *out and *err (read), and must
 * call xproc_wait(), which frees p.
 */
int xport_spawn(struct xport *x, const char *cmd, struct xproc **p, int *in,
		int *out, int *err, struct err *e)
	__attribute__((warn_unused_result));
int xproc_wait(struct xproc *p, struct proc_status *st, struct err *e);

/* What xport_run() does with the streams. */
struct xrun {
	const char *in;		/* stdin bytes, or NULL for none */
	size_t inlen;
	struct buf *out;	/* collect stdout here ... */
	int out_fd;		/* ... or copy it to this fd (-1: discard) */
	struct buf *err;	/* collect stderr here ... */
	int err_fd;		/* ... or copy it to this fd (-1: discard) */
	size_t max;		/* cap for collected output (0: 1 MiB) */
};

#define XRUN_INIT { NULL, 0, NULL, -1, NULL, -1, 0 }

/* Runs cmd to completion, streaming as the output arrives. */
int xport_run(struct xport *x, const char *cmd, struct xrun *io,
	      struct proc_status *st, struct err *e)
	__attribute__((warn_unused_result));

/*
 * Makes host:port (as the server sees it) reachable from here: over SSH a
 * tunnel on 127.0.0.1:*lport; locally the address itself.  Caller frees
 * *lhost.
 */
int xport_forward(struct xport *x, const char *host, int port, char **lhost,
		  int *lport, struct err *e) __attribute__((warn_unused_result));

/* The same through a Unix socket dir/name over SSH (see ssh_forward_unix);
 * locally (no tunnel needed) it fails: callers use host:port as it is. */
int xport_forward_unix(struct xport *x, const char *host, int port,
		       const char *name, char **dir, struct err *e)
	__attribute__((warn_unused_result));

/* Writes everything read from fd to path, atomically: a temporary name in
 * the same directory, fsync, rename.  A failure leaves no partial file. */
int xport_put(struct xport *x, int fd, const char *path, int mode,
	      struct err *e) __attribute__((warn_unused_result));
/* Copies path into fd. */
int xport_get(struct xport *x, const char *path, int fd, struct err *e)
	__attribute__((warn_unused_result));
int xport_stat(struct xport *x, const char *path, struct ssh_stat *st,
	       int *missing, struct err *e);



/* xport_forward() for an http(s) URL: *out is the URL to use from here
 * (same scheme and path, host:port through the tunnel).  Caller frees. */
int xport_forward_url(struct xport *x, const char *url, char **out,
		      struct err *e) __attribute__((warn_unused_result));
#endif

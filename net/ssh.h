/*
 * ssh: ferry's SSH transport, on libssh2 alone.
 *
 * libssh2 sessions are not thread-safe, and libpq or libcurl block inside
 * their own calls, so one I/O thread owns each session.  Everything else
 * talks to it through plain file descriptors (an exec's stdin/stdout/stderr
 * are pipes, a forwarded connection is a TCP socket on 127.0.0.1) or through
 * requests it runs on the caller's behalf (SFTP).  One session thus carries
 * any number of execs, SFTP transfers and tunnels at once.
 */
#ifndef FERRY_SSH_H
#define FERRY_SSH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"

enum ssh_hostkey_policy { HK_STRICT, HK_ACCEPT_NEW, HK_OFF };

struct ssh_opts {
	const char *host;
	int port;
	const char *user;
	const struct strlist *identities;	/* may be empty: defaults */
	const char *known_hosts;	/* NULL: none (UserKnownHostsFile none) */
	/* From ssh_config, as OpenSSH applies them; zero values: unset. */
	const struct strlist *known_hosts_also;	/* read too, never written:
						 * further UserKnownHostsFiles,
						 * GlobalKnownHostsFiles */
	const char *host_key_alias;	/* the known_hosts name instead of
					 * host or [host]:port */
	int hash_known_hosts;		/* entries ferry adds are hashed */
	int identities_only;		/* agent keys only when they are one
					 * of the identities */
	const char *identity_agent;	/* NULL: $SSH_AUTH_SOCK; "none": no
					 * agent; otherwise the agent socket */
	/* The route: the last jump host (itself routed through its own
	 * jump), or a command whose stdin/stdout carry the session. */
	const struct ssh_opts *jump;	/* connect to this hop, then to
					 * host:port through it */
	const char *proxy_command;	/* run it; SSH over its stdin/stdout */
	enum ssh_hostkey_policy policy;
	long long connect_timeout_ms;
	/* OpenSSH's ServerAliveInterval and ServerAliveCountMax: a server
	 * silent for keepalive_ms * keepalive_count while ferry waits on
	 * it is taken for dead.  keepalive_ms 0: no keepalive at all. */
	long long keepalive_ms;
	int keepalive_count;
	int hop;		/* a jump host: ssh_config alone sets its
				 * policy (messages say so) */
};

struct ssh;
struct ssh_proc;
struct ssh_file;

/* Connects, verifies the host key, authenticates; FX_CONN on failure. */
int ssh_connect(struct ssh **out, const struct ssh_opts *o, struct err *e)
	__attribute__((warn_unused_result));
/* Ends every channel and tunnel, disconnects, frees. */
void ssh_close(struct ssh *s);
/* "user@host:port" for messages. */
const char *ssh_name(const struct ssh *s);
/*
 * NULL while the session lives; once it died (the server closed or reset
 * the connection, or went silent too long), a sentence saying so
 * ("connection to NAME lost after 45.0 s of silence").  By then every
 * channel's descriptors are closed and every request has failed with it.
 * Safe from any thread; the string lives until ssh_close().
 */
const char *ssh_lost(struct ssh *s);
/* 1 once the session died of silence (the keepalive bound, or the
 * kernel's TCP_USER_TIMEOUT): the link, not only the server, is likely
 * gone, and connecting again would only wait. */
int ssh_lost_silent(struct ssh *s);

/*
 * Starts cmd on the server.  The caller owns the returned descriptors:
 * *in (write; close it for EOF), *out and *err (read until EOF), and must
 * finish with ssh_proc_wait(), which frees the handle.
 */
int ssh_exec(struct ssh *s, const char *cmd, struct ssh_proc **p, int *in,
	     int *out, int *err, struct err *e)
	__attribute__((warn_unused_result));
int ssh_proc_wait(struct ssh_proc *p, struct proc_status *st, struct err *e);

/*
 * Listens on 127.0.0.1:*lport (ephemeral) and carries every connection made
 * there to host:port as the server sees it.  Lives until ssh_close().
 */
int ssh_forward(struct ssh *s, const char *host, int port, int *lport,
		struct err *e) __attribute__((warn_unused_result));

/*
 * The same on a Unix socket named name in a new private (0700) directory,
 * *dir (caller frees); both go with ssh_close().  Only this user can
 * connect, and a local client skips TLS on it.
 */
int ssh_forward_unix(struct ssh *s, const char *host, int port,
		     const char *name, char **dir, struct err *e)
	__attribute__((warn_unused_result));

/* SFTP, one request at a time per call; safe from any thread. */
struct ssh_stat {
	uint64_t size;
	unsigned long mode;	/* st_mode bits */
	long long mtime;
};

int ssh_sftp_open(struct ssh *s, const char *path, int write, int mode,
		  struct ssh_file **f, struct err *e)
	__attribute__((warn_unused_result));
/* Returns bytes read, 0 at EOF, -1 on error. */
ssize_t ssh_sftp_read(struct ssh_file *f, void *buf, size_t n, struct err *e);
int ssh_sftp_write(struct ssh_file *f, const void *buf, size_t n,
		   struct err *e) __attribute__((warn_unused_result));
/* Flushes to disk on the server where it supports fsync@openssh.com. */
int ssh_sftp_fsync(struct ssh_file *f, struct err *e);
/* Closes and frees f; reports a failed close (write error). */
int ssh_sftp_close(struct ssh_file *f, struct err *e);
/* 0, or -1 with FX_FAIL; *missing = 1 when the path does not exist. */
int ssh_sftp_stat(struct ssh *s, const char *path, struct ssh_stat *st,
		  int *missing, struct err *e);
/* The same without following a final symlink. */
int ssh_sftp_lstat(struct ssh *s, const char *path, struct ssh_stat *st,
		   int *missing, struct err *e);
/* Moves f's offset (the next read or write starts there). */
int ssh_sftp_seek(struct ssh_file *f, uint64_t offset, struct err *e);
int ssh_sftp_unlink(struct ssh *s, const char *path, struct err *e);
int ssh_sftp_mkdir(struct ssh *s, const char *path, int mode, struct err *e);

/* Directory listing: readdir returns 1 with an entry (name NUL-terminated,
 * "." and ".." included), 0 at the end, -1 on error. */
struct ssh_dir;
int ssh_sftp_opendir(struct ssh *s, const char *path, struct ssh_dir **d,
		     struct err *e) __attribute__((warn_unused_result));
int ssh_sftp_readdir(struct ssh_dir *d, char *name, size_t len,
		     struct ssh_stat *st, int *is_link, struct err *e);
int ssh_sftp_closedir(struct ssh_dir *d, struct err *e);
int ssh_sftp_readlink(struct ssh *s, const char *path, char *buf, size_t len,
		      struct err *e) __attribute__((warn_unused_result));

#endif

/*
 * fetch: server data streamed into archive members, for the sources that
 * are files (server files, log files: SFTP) or a command's output (compose
 * logs: exec).  Memory stays bounded whatever the size.
 *
 * A command's output crosses the wire compressed when the server has
 * zstd (else gzip): text like logs shrinks five- to tenfold, and the
 * archive gets the same bytes either way.
 */
#ifndef FERRY_BACKUP_FETCH_H
#define FERRY_BACKUP_FETCH_H

#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"

struct xport;
struct arc;

enum fetch_codec { FETCH_PLAIN, FETCH_ZSTD, FETCH_GZIP };

/* What the server can compress with (one exec; FETCH_PLAIN locally, where
 * there is no wire to spare). */
enum fetch_codec fetch_codec(struct xport *x);
const char *fetch_codec_name(enum fetch_codec c);

/* The file at path from offset on into member; with whole_lines and a
 * non-zero offset, what comes before the first newline is dropped (a cut
 * line).  *bytes: what the member got. */
int fetch_file(struct xport *x, const char *path, uint64_t offset,
	       int whole_lines, struct arc *a, const char *member,
	       uint64_t *bytes, struct err *e)
	__attribute__((warn_unused_result));

/* After fetch_file() of path failed: the archive's writer works a member
 * behind, so its failure on an earlier member comes back from this one's
 * write; e is then the writer's error, which names that member ("comp:
 * archive MEMBER: ..."), else this file's ("comp: PATH: ...", PATH
 * escaped). */
void fetch_blame(struct arc *a, const char *comp, const char *path,
		 struct err *e);

/* Runs cmd (a shell command line, pipelines allowed) on the server,
 * compressed with codec there, and streams its stdout into member; its
 * stderr goes to errout (the first and last few KiB).  A non-zero exit is
 * not an error here: st says how cmd itself ended. */
int fetch_exec(struct xport *x, const char *cmd, enum fetch_codec codec,
	       struct arc *a, const char *member, uint64_t *bytes,
	       struct buf *errout, struct proc_status *st, struct err *e)
	__attribute__((warn_unused_result));

/* The same, read piece by piece: fetch_start() runs cmd; fetch_read()
 * gives its stdout, decoded: up to n bytes, 0 at its whole end, -1 with e
 * (FX_CONN: the link, or no byte for o->timeout_ms; FX_REMOTE: a damaged
 * or cut compressed stream); fetch_end() closes the command's stdin,
 * waits for it, puts its stderr in errout and how cmd ended in st.  ok:
 * whether the caller succeeded (if not, e is left as it is).  fetch_end()
 * frees f, also after a failed fetch_start(). */
struct fetch_opts {
	const char *input;	/* one line for cmd's stdin (a secret travels
				 * there, never in the command line), or NULL */
	int hold_input;		/* keep stdin open until fetch_end() (cmd may
				 * watch it for its end), else closed at once */
	long long timeout_ms;	/* longest wait for a byte; 0: none */
};

struct fetch_cmd;

int fetch_start(struct xport *x, const char *cmd, enum fetch_codec codec,
		const struct fetch_opts *o, struct fetch_cmd **f, struct err *e)
	__attribute__((warn_unused_result));
ssize_t fetch_read(struct fetch_cmd *f, void *buf, size_t n, struct err *e);
int fetch_end(struct fetch_cmd *f, int ok, struct buf *errout,
	      struct proc_status *st, struct err *e);

#endif

/*
 * dlock: the deploy lock on the server, <remote_dir>/.ferry/deploy.lock.
 * It is a file made atomically (written under a temporary name, then
 * link(2)ed into place, which fails when the lock exists), holding one
 * JSON line: user, local host (and machine id), pid, start time and a
 * random token that lets only its owner remove it.
 *
 * Unlike util/lock.c's flock, nothing on the server drops it when ferry
 * dies or its connection does; so a lock is judged:
 *   - taken from this host by a ferry process that is no longer running:
 *     stale, taken over with a warning naming it;
 *   - from another host and older than stale_ms: reported as stale
 *     (exit 7 with --force-unlock as the way out), never taken silently;
 *   - otherwise: held; wait up to wait_ms, then exit 7 naming holder and
 *     since when.
 */
#ifndef FERRY_DEPLOY_DLOCK_H
#define FERRY_DEPLOY_DLOCK_H

#include "util/err.h"

struct xport;
struct buf;

struct dlock_opts {
	long long wait_ms;	/* --lock-wait */
	long long stale_ms;	/* [deploy] lock_stale */
	int force;		/* --force-unlock: remove whatever is there */
};

struct xproc;

struct dlock {
	struct xport *x;
	char *rdir;
	char *content;		/* our line; NULL until taken */
	int held;
	int created_dir;	/* .ferry did not exist before this lock */
	struct xproc *early;	/* dlock_release_early()'s exec, waiting */
	struct xport *early_x;
	int early_fd[3];
};

#define DLOCK_INIT { NULL, NULL, NULL, 0, 0, NULL, NULL, { -1, -1, -1 } }

/* Takes the lock in rdir (created when missing; / and the home directory
 * or its parents are refused, exit 2).  FX_LOCKED naming the holder.
 * Nothing to do when a prelude took it already. */
int dlock_take(struct dlock *l, struct xport *x, const char *rdir,
	       const struct dlock_opts *o, struct err *e)
	__attribute__((warn_unused_result));

/*
 * The first attempt as shell for another exec to run after remote_guard
 * (the server listing's: one exec instead of two), appended to sh: prints
 * "taken [fresh]" and goes on, or "held" and the holder and exits 0.
 * dlock_prelude_reply() reads those lines off the front of that exec's
 * output: 1 taken, 0 held (then dlock_take() waits as it always does),
 * -1 an unexpected reply.  With force, the first attempt removes the lock
 * that is there, saying whose.
 */
void dlock_prelude(struct dlock *l, struct xport *x, const char *rdir,
		   const struct dlock_opts *o, struct buf *sh);
int dlock_prelude_reply(struct dlock *l, struct buf *out, struct err *e);

/* Removes the lock if it is still ours, first appending history (one line
 * without its '\n', or NULL) to <remote_dir>/.ferry/deploys.jsonl; with
 * drop_dir, a .ferry this lock created goes too (nothing was deployed).
 * Safe to call from another thread than the one that took it, once. */
int dlock_release(struct dlock *l, const char *history, int drop_dir,
		  struct err *e);
/*
 * Starts the release's exec ahead, after dlock_prelude() (best effort: on
 * failure the release starts its own at the end).  It waits on the server
 * for dlock_release()'s word, so the release costs no new session at the
 * end of a deploy; an EOF instead -- ferry gone, the link lost, or
 * dlock_abandon() -- leaves the lock and the history as they are.
 */
void dlock_release_early(struct dlock *l, struct xport *x);
/* Ends an early exec dlock_release() did not use; before its xport
 * closes. */
void dlock_abandon(struct dlock *l);
void dlock_free(struct dlock *l);

/* "user@host (pid N) since 2026-11-30T05:22:19Z, 3m ago" for a lock's
 * content; for tests and messages.  Caller frees. */
char *dlock_describe(const char *content, long long now);

#endif

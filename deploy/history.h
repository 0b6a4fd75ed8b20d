/*
 * history: one JSON line per deploy, appended to
 * <remote_dir>/.ferry/deploys.jsonl on the server (with the lock's
 * release, deploy/dlock.c), read back newest first by `ferry history`.
 */
#ifndef FERRY_DEPLOY_HISTORY_H
#define FERRY_DEPLOY_HISTORY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/buf.h"
#include "util/err.h"

struct xport;
struct history_git;

struct history_rec {
	time_t time;			/* start */
	struct history_git *git;	/* local_dir's commit, or NULL */
	size_t sent, deleted;		/* entries */
	uint64_t bytes;
	const struct strlist *services;	/* selected; empty: all */
	int no_up;			/* --no-up: none ("services": null) */
	double seconds;
	const char *result;		/* ok, failed, locked, interrupted */
	int exit_code;
	const char *error;		/* the failure's message, or NULL */
};

/* How history JSON is written: a duration 6.7 stays "6.7", not the
 * double's 17 digits. */
#define HISTORY_JSON_REAL JSON_REAL_PRECISION(10)

/* Asks git, in the background, for dir's commit and whether the work
 * tree is dirty; history_line() collects the answer (nothing when dir is
 * not in a work tree or git is missing).  Freed by history_git_free(). */
struct history_git *history_git_start(const char *dir);
void history_git_free(struct history_git *g);

/* The record as one JSON line (no '\n'): time (UTC), user, host, commit
 * and dirty (only where rec's git found a work tree), sent, deleted,
 * bytes, services, duration, result, exit, error.  Caller frees. */
char *history_line(const struct history_rec *r);

/* Appends line (no '\n') to the history of rdir, when its .ferry exists
 * (the deploy lock's release appends its own run: deploy/dlock.c). */
int history_append(struct xport *x, const char *rdir, const char *line,
		   struct err *e) __attribute__((warn_unused_result));

/* The last n records (n <= 0: all), newest first, as a JSON array;
 * unreadable lines are skipped.  An absent file is an empty array. */
int history_read(struct xport *x, const char *rdir, long n, json_t **out,
		 struct err *e) __attribute__((warn_unused_result));

#endif

/*
 * backup: one run, one archive: <dir>/<name>-<stamp>.tar.zst, written as
 * <final>.partial (0600), fsynced, renamed, directory fsynced, plus the
 * manifest beside it.  A failed, interrupted or signalled run removes its
 * partial file and never touches existing archives.  One run at a time per
 * directory (flock on <dir>/.ferry.lock).
 */
#ifndef FERRY_BACKUP_H
#define FERRY_BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/buf.h"
#include "util/err.h"

struct conf;
struct xport_opts;
struct compose_opts;

struct backup_opts {
	const struct strlist *only;	/* components; empty: all configured */
	int fail_fast;
	const struct xport_opts *server;	/* how to reach the server */
	const struct compose_opts *compose;	/* compose there */
	FILE *report;		/* one line per component, or NULL */
	/* Publishes the finished archive (from: its .partial name) in place
	 * of rename(), when set: the caller's one point to learn, under its
	 * own lock, that the archive is in place, or to refuse (-1 with e
	 * set) when a signal came first. */
	int (*publish)(void *arg, const char *from, const char *to,
		       uint64_t size, struct err *e);
	void *publish_arg;
};

struct backup_result {
	char *archive;		/* published path (caller frees), or NULL */
	uint64_t size;
	size_t members;
	int failed;		/* components that failed */
	double seconds;
};

/* 0: all ok; FX_PARTIAL (as a positive code, with *e describing the
 * failures) when published with failed components; -1 on failure. */
int backup_run(const struct conf *c, const struct backup_opts *o,
	       struct backup_result *res, struct err *e)
	__attribute__((warn_unused_result));

/* <dir>/.ferry.lock */
char *backup_lock_path(const struct conf *c);

#endif

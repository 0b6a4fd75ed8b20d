/*
 * restore: putting an archive back.  The archive (a local file, or an
 * off-site copy streamed and decrypted as it downloads) is read once, in
 * order; every member is checked against the manifest (name, order, size,
 * SHA-256) as it passes, and handed to its component's restorer.
 */
#ifndef FERRY_RESTORE_H
#define FERRY_RESTORE_H

#include <stdio.h>

#include "util/buf.h"
#include "util/err.h"

struct conf;
struct xport_opts;
struct compose_opts;

/* Stops a run from another thread (agent's signal guard): the run fails
 * at its next step (between members, reads, components) and undoes what
 * it can, as after any failure, its error saying it was interrupted.
 * Set sig with restore_stop(); the run sets changed. */
struct restore_stop {
	int sig;		/* 0, or the signal */
	int changed;		/* a target may have been changed */
};

struct restore_opts {
	const char *archive;	/* a path, or a name in the backup dir */
	int latest;
	int offsite;		/* from [offsite] */
	int clean;		/* drop and recreate what is there */
	int jobs;		/* 0: [postgres] jobs */
	int globals;		/* run postgres/globals.sql first */
	const struct strlist *only;	/* components; empty = all */
	const struct strlist *dbmap;	/* "SRC=DST" */
	const char *target_url;	/* instead of the configured server */
	const struct xport_opts *server;	/* how to reach the server */
	const struct compose_opts *compose;	/* compose there */
	FILE *report;		/* a line per database restored, or NULL */
	const struct strlist *bucketmap;	/* "SRC=DST" (minio) */
	const char *to;		/* --to DIR: write files there instead */
	struct restore_stop *stop;	/* NULL: never stopped */
};

int restore_run(const struct conf *c, const struct restore_opts *o,
		struct err *e) __attribute__((warn_unused_result));
/* Any thread; async-signal-safe. */
void restore_stop(struct restore_stop *s, int sig);
/* 1 once the run may have changed a target (any thread). */
int restore_changed(const struct restore_stop *s);

#endif

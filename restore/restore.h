/*
 * restore: putting an archive back.  The archive (a local file, or an
 * off-site copy streamed and decrypted as it downloads) is read once, in
 * order; every member is checked against the manifest (name, order, size,
 * SHA-256) as it passes, and handed to its component's restorer.
 */
#ifndef FERRY_RESTORE_H
#define FERRY_RESTORE_H

#include <archive.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "agent/buf.h"
#include "agent/err.h"

struct conf;

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
	FILE *report;		/* a line per database restored, or NULL */
};

/* A member being read: rs_read() hashes what passes. */
struct rs_member {
	const char *name;
	struct archive *a;
	void *md;		/* EVP_MD_CTX */
	uint64_t size;
};

/* Up to n bytes of the member; 0 at its end; -1 with e set. */
ssize_t rs_read(struct rs_member *m, void *buf, size_t n, struct err *e);
/* The whole member into out, refusing more than max bytes. */
int rs_slurp(struct rs_member *m, struct buf *out, size_t max, struct err *e);

/* What a component's restorer gets. */
struct rs_ctx {
	const struct conf *conf;
	const struct restore_opts *o;
	json_t *manifest;
};

int restore_run(const struct conf *c, const struct restore_opts *o,
		struct err *e) __attribute__((warn_unused_result));

/* The postgres restorer (pg_restore.c). */
struct pgr;
int pgr_begin(struct rs_ctx *x, json_t *detail, struct pgr **out,
	      struct err *e) __attribute__((warn_unused_result));
/* 1 when the member was postgres's (consumed), 0 when not, -1 on error. */
int pgr_member(struct pgr *p, struct rs_member *m, struct err *e)
	__attribute__((warn_unused_result));
int pgr_end(struct pgr *p, struct err *e) __attribute__((warn_unused_result));
void pgr_free(struct pgr *p);

#endif

/*
 * repo: the backup directory.  Archives are <name>-<YYYYmmddTHHMMSSZ>.tar.zst
 * (UTC; the name's time is the archive's time), each with a copy of its
 * manifest beside it (<stem>.manifest.json) so listing never decompresses.
 * Files that do not match the pattern are not ferry's and are never touched.
 */
#ifndef FERRY_REPO_H
#define FERRY_REPO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent/err.h"

struct repo_entry {
	char *path;		/* the archive */
	char *stem;		/* path without ".tar.zst" */
	time_t t;		/* from the name */
	uint64_t size;
	json_t *manifest;	/* the sidecar, or NULL when missing/unreadable */
};

/* Archives of the given name in dir, newest first.  Caller frees with
 * repo_free(). */
int repo_scan(const char *dir, const char *name, struct repo_entry **out,
	      size_t *n, struct err *e) __attribute__((warn_unused_result));
void repo_free(struct repo_entry *list, size_t n);

/* "<name>-<stamp><suffix>" exactly: 0 and its time, else -1. */
int repo_parse_name(const char *file, const char *name, const char *suffix,
		    time_t *t);
/* Appends a zeroed entry to a growing list. */
struct repo_entry *repo_add(struct repo_entry **list, size_t *n, size_t *cap);
/* qsort order: newest first. */
int repo_cmp_newest(const void *a, const void *b);

/* "20261123T031500Z" <-> time_t (UTC). */
void repo_stamp(time_t t, char out[17]);
int repo_parse_stamp(const char *s, time_t *t);

/* Atomically (re)writes a file: temporary, fsync, rename, fsync dir; 0600. */
int repo_write_file(const char *path, const void *data, size_t len,
		    struct err *e) __attribute__((warn_unused_result));
/* fsync a directory so a rename in it is durable. */
int repo_sync_dir(const char *dir);

#endif

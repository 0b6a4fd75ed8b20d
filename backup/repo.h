/*
 * repo: the backup directory.  Archives are <name>-<YYYYmmddTHHMMSSZ>.tar.zst
 * (UTC; the name's time is the archive's time), or <name>-<stamp>-<N>.tar.zst
 * (N = 2, 3, ...) for a later backup started in the same second, each with
 * a copy of its manifest beside it (<stem>.manifest.json) so listing never
 * decompresses.
 * Files that do not match the pattern are not ferry's and are never touched.
 */
#ifndef FERRY_REPO_H
#define FERRY_REPO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/err.h"

struct repo_entry {
	char *path;		/* the archive */
	char *stem;		/* path without ".tar.zst" */
	time_t t;		/* from the name */
	unsigned seq;		/* 1, or N of a "-N" name */
	uint64_t size;
	json_t *manifest;	/* the sidecar, or NULL when missing/unreadable */
	json_t *verify;		/* without a manifest: the record of its last
				 * verify (<stem>.verify.json), or NULL */
};

/* Archives of the given name in dir, newest first.  Caller frees with
 * repo_free(). */
int repo_scan(const char *dir, const char *name, struct repo_entry **out,
	      size_t *n, struct err *e) __attribute__((warn_unused_result));
void repo_free(struct repo_entry *list, size_t n);

/* The same for [backup] dir and name of c. */
struct conf;
int repo_scan_conf(const struct conf *c, struct repo_entry **out, size_t *n,
		   struct err *e) __attribute__((warn_unused_result));

/* The sidecar manifest's path for an archive path or stem (anything ending
 * ".tar.zst" loses that first); caller frees. */
char *repo_sidecar_path(const char *archive);
/* The last component of path (a pointer into it). */
const char *repo_base(const char *path);
/* The archive's file name, NAME-STAMP.tar.zst, also for an off-site copy
 * stored encrypted (restore --offsite and verify --offsite fetch it by
 * that name); caller frees. */
char *repo_archive_name(const struct repo_entry *r);

/* "<name>-<stamp>[-<N>]<suffix>" exactly: 0, its time and N (1 without
 * one), else -1. */
int repo_parse_name(const char *file, const char *name, const char *suffix,
		    time_t *t, unsigned *seq);
/* The stem ("<dir>/<name>-<stamp>[-N]") for a new archive started at t:
 * the first whose archive and manifest do not exist; caller frees. */
char *repo_new_stem(const char *dir, const char *name, time_t t);

/* Finds the archive arg names: an existing path, or an archive of c's
 * backup dir by file name or stem; FX_FAIL "no such archive" otherwise.
 * c may be NULL when arg is a path.  Caller frees *path. */
int repo_resolve(const struct conf *c, const char *arg, char **path,
		 struct err *e) __attribute__((warn_unused_result));
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
/* Records a verify of archive in its sidecar manifest (best effort):
 * "verified" is the time of the last verify, "verify_error" its error
 * (absent when it passed), so list can show a failed one and retention
 * counts it no more.  An archive of the backup dir (ours) without a
 * readable sidecar gets the record in <stem>.verify.json instead, or, when
 * it passed, its sidecar back from found (the manifest verify read inside
 * it; may be NULL). */
/* The same mark in a manifest m (an off-site copy's). */
void repo_stamp_verify(json_t *m, const char *error);
void repo_mark_verified(const char *archive, const char *error, int ours,
			json_t *found);
/* The record's path for an archive path or stem; caller frees. */
char *repo_verify_path(const char *archive);
/* The last verify's error and time (from the manifest, else the verify
 * record): NULL when it passed, or never ran. */
const char *repo_verify_error(const struct repo_entry *r);
const char *repo_verified(const struct repo_entry *r);
/* 1 when path names an archive of c's backup dir (that directory, by
 * device and inode, and the name pattern of [backup] name). */
int repo_owns(const struct conf *c, const char *path);
/* fsync a directory so a rename in it is durable. */
int repo_sync_dir(const char *dir) __attribute__((warn_unused_result));

#endif

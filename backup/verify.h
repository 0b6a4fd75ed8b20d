/*
 * verify: decompress an archive once, recompute every member's SHA-256 and
 * compare with its manifest: every listed member present, nothing extra,
 * manifest last.  Damage, truncation or garbage is FX_VERIFY naming the first
 * bad member, never a crash.
 */
#ifndef FERRY_VERIFY_H
#define FERRY_VERIFY_H

#include <archive.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct verify_result {
	size_t members;
	uint64_t bytes;
};

/* On success *manifest (may be NULL to ignore) is the archive's manifest;
 * caller json_decref()s it. */
int verify_archive(const char *path, json_t **manifest,
		   struct verify_result *res, struct err *e)
	__attribute__((warn_unused_result));
/* The same over a stream (a pipe from a download); label names it.
 * expect: the manifest kept beside it (an off-site copy's), or NULL:
 * each member is checked against it as soon as it is read, as
 * verify_archive() does with the sidecar. */
int verify_fd(int fd, const char *label, json_t *expect, json_t **manifest,
	      struct verify_result *res, struct err *e)
	__attribute__((warn_unused_result));
/* After a failed read or open of r: FX_VERIFY "LABEL: damaged at compressed
 * byte N[ of TOTAL] (WHERE): REASON" (N: the compressed bytes fed to the
 * decoder when it failed; left out when below 0; TOTAL when not 0), or "not
 * a ferry archive" when it is not zstd-compressed tar at all.  Returns -1. */
int verify_damaged_at(struct archive *r, const char *label, const char *where,
		      int64_t at, uint64_t total, struct err *e);
/* The same with N from libarchive (archive_filter_bytes(r, -1)), which it
 * no longer knows after a failed open. */
int verify_damaged(struct archive *r, const char *label, const char *where,
		   struct err *e);
/* 1 when name is a safe relative member path (no "..", not absolute, no
 * empty or control-character components). */
int verify_safe_name(const char *name);

#endif

/*
 * offsite: copies of the archives in S3 ([offsite]): upload after a backup
 * (archive first, then its manifest, which marks the copy complete), the
 * same retention rules applied there, listing, and fetching back with
 * transparent decryption when encrypt_key_file is set.
 *
 * Keys: <prefix>/<name>-<stamp>.tar.zst and .manifest.json, with ".enc"
 * appended when encrypted.
 */
#ifndef FERRY_OFFSITE_H
#define FERRY_OFFSITE_H

#include <stdio.h>

#include "util/buf.h"
#include "util/err.h"
#include "backup/repo.h"

struct conf;

int offsite_configured(const struct conf *c);
/* Uploads archive (a path in the backup dir) and its sidecar manifest. */
int offsite_upload(const struct conf *c, const char *archive, struct err *e)
	__attribute__((warn_unused_result));
/* Off-site archives, newest first (path = the object key; manifest loaded
 * when readable).  Caller frees with repo_free(). */
int offsite_scan(const struct conf *c, struct repo_entry **out, size_t *n,
		 struct err *e) __attribute__((warn_unused_result));
/* The archive names ("<name>-<stamp>.tar.zst") with a complete copy
 * off-site (archive and manifest both there), one listing.  Caller frees. */
int offsite_names(const struct conf *c, struct strlist *out, struct err *e)
	__attribute__((warn_unused_result));
/* The manifest kept beside the off-site copy named base, or NULL when it
 * cannot be read (caller json_decref()s it). */
json_t *offsite_manifest(const struct conf *c, const char *base);
/* Marks the off-site copy named base ("<name>-<stamp>.tar.zst") as
 * verified, or as damaged when error is set, in its off-site manifest, as
 * repo_mark_verified() marks a local one: off-site retention, list
 * --offsite and restore --offsite --latest read the mark. */
int offsite_mark_verified(const struct conf *c, const char *base,
			  const char *error, struct err *e)
	__attribute__((warn_unused_result));
int offsite_prune(const struct conf *c, int dry_run, FILE *out,
		  struct err *e) __attribute__((warn_unused_result));
/* Streams the plaintext archive named base ("<name>-<stamp>.tar.zst") into
 * fd. */
int offsite_fetch(const struct conf *c, const char *base, int fd,
		  struct err *e) __attribute__((warn_unused_result));

/* The same as a stream to read from *fd: the download runs in a thread. */
struct offsite_reader;
int offsite_reader_start(const struct conf *c, const char *base,
			 struct offsite_reader **out, int *fd, struct err *e)
	__attribute__((warn_unused_result));
/* Closes *fd, waits for the download; when it failed, its error (which says
 * more than the reader's "unexpected end") replaces e and -1 is returned.
 * stopped: the reader gave up before the end (its own error stands over
 * the download's failure to write to it from then on). */
int offsite_reader_finish(struct offsite_reader *r, int stopped,
			  struct err *e);

#endif

/*
 * minio: what the minio component (backup/minio.c) shares with its
 * restorer (restore/minio_restore.c) and the tests.
 */
#ifndef FERRY_BACKUP_MINIO_H
#define FERRY_BACKUP_MINIO_H

#include "util/err.h"

struct conf;
struct xport;
struct s3_conf;

/* [minio] as S3 settings, the endpoint tunnelled through x (*url, which
 * the caller frees, is what s3->endpoint points to). */
int minio_s3_conf(const struct conf *c, struct xport *x, struct s3_conf *s3,
		  char **url, struct err *e) __attribute__((warn_unused_result));

/*
 * An object key as a member path under minio/<bucket>/ (caller frees).
 * Any key, a safe relative path: '%', control bytes, a '.' that starts a
 * segment ("." and ".." segments, and so ".bucket") or ".part-" are
 * escaped as %XX, as is every '/' that would leave a segment empty (a
 * leading '/', "//", a trailing '/'); UTF-8 stays as it is.  Distinct keys
 * give distinct names: undoing the %XX gives the key back, except that a
 * segment longer than MINIO_SEGMENT_MAX bytes is cut and ends in "%~" and
 * a hash of the key (tar extracts it, and "%~" cannot come from a key).
 * The manifest maps every member back to its key.
 */
#define MINIO_SEGMENT_MAX 240
char *minio_member_name(const char *key);

#endif

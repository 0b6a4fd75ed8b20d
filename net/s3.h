/*
 * s3: the few S3 calls ferry needs (path-style addressing, SigV4 signed by
 * libcurl, every payload hashed into x-amz-content-sha256): small PUTs,
 * streamed multipart uploads (parts retried, the upload aborted on failure
 * so no debris remains), ListObjectsV2 with continuation tokens (expat),
 * streamed GETs and DELETEs.  Every call has a timeout and bounded retries.
 */
#ifndef FERRY_S3_H
#define FERRY_S3_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/err.h"

#define S3_PART (8u << 20)

struct s3_conf {
	const char *endpoint;	/* http(s)://host:port */
	const char *bucket;	/* NULL: the service (ListBuckets) */
	const char *access_key;
	const char *secret_key;
	const char *region;
	long long timeout_ms;
};

struct s3_object {
	char *key;
	uint64_t size;
};

/* Reads up to cap bytes; 0 at the end, -1 on error (with *e set). */
typedef ssize_t (*s3_reader)(void *ud, void *buf, size_t cap, struct err *e);
/* Takes len bytes; -1 on error (with *e set). */
typedef int (*s3_writer)(void *ud, const void *buf, size_t len, struct err *e);

int s3_put(const struct s3_conf *c, const char *key, const void *data,
	   size_t len, struct err *e) __attribute__((warn_unused_result));
int s3_upload(const struct s3_conf *c, const char *key, s3_reader rd,
	      void *ud, struct err *e) __attribute__((warn_unused_result));
/* Objects under prefix; caller frees with s3_objects_free(). */
int s3_list(const struct s3_conf *c, const char *prefix,
	    struct s3_object **out, size_t *n, struct err *e)
	__attribute__((warn_unused_result));
void s3_objects_free(struct s3_object *o, size_t n);
/* ListBuckets (c->bucket is not used): every bucket's name into out. */
int s3_list_buckets(const struct s3_conf *c, struct strlist *out,
		    struct err *e) __attribute__((warn_unused_result));
int s3_get(const struct s3_conf *c, const char *key, s3_writer wr, void *ud,
	   struct err *e) __attribute__((warn_unused_result));
int s3_delete(const struct s3_conf *c, const char *key, struct err *e)
	__attribute__((warn_unused_result));

/* "s3://bucket/some/prefix" -> bucket, prefix ("" when none).  Caller
 * frees both. */
int s3_parse_url(const char *url, char **bucket, char **prefix);

#endif

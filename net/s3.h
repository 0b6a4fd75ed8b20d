/*
 * s3: the S3 calls ferry needs (path-style addressing, SigV4 signed by
 * libcurl, every payload hashed into x-amz-content-sha256): small PUTs,
 * streamed multipart uploads (parts retried, the upload aborted on failure
 * so no debris remains), ListObjectsV2 with continuation tokens (expat),
 * streamed GETs, HEADs, DELETEs, bucket sub-resources, and a pool that runs
 * many transfers at once over curl's multi interface.  Every call has a
 * timeout and bounded retries with backoff.  A pure client: it reads no
 * configuration and knows nothing of archives.
 *
 * Files: s3.c (one request: URL, signing, headers, retries), s3_ops.c (the
 * calls), s3_pool.c (many requests at once).
 */
#ifndef FERRY_S3_H
#define FERRY_S3_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/err.h"

#define S3_PART (8u << 20)
#define S3_TRIES 4

struct s3_conf {
	const char *endpoint;	/* http(s)://host:port */
	const char *bucket;	/* NULL: the service (ListBuckets) */
	const char *access_key;
	const char *secret_key;
	const char *region;
	/* How long a try may wait for the first byte of its answer (not even
	 * a header yet: a store that took the connection but never answers),
	 * also the bound on connecting.  A try whose bytes are moving, either
	 * way, is never cut by it. */
	long long timeout_ms;
	/* Silence in the middle of a reply that counts as a stall; 0: a
	 * minute. */
	long long stall_ms;
	/* How messages name the endpoint (the configured URL when endpoint
	 * is a tunnel's); NULL: endpoint. */
	const char *label;
};

struct s3_object {
	char *key;
	uint64_t size;
	char *etag;		/* as listed (quoted), or NULL */
	char *last_modified;	/* as listed, or NULL */
};

/* What a GET or HEAD said about an object. */
struct s3_meta {
	/* "name: value" for the headers S3 stores with an object, names in
	 * lowercase: content-type, cache-control, content-encoding,
	 * content-disposition, content-language, expires, x-amz-meta-*. */
	struct strlist hdr;
	char etag[128];
	char last_modified[64];
	long long length;	/* Content-Length; -1 when none was given */
};

void s3_meta_release(struct s3_meta *m);

/* Reads up to cap bytes; 0 at the end, -1 on error (with *e set). */
typedef ssize_t (*s3_reader)(void *ud, void *buf, size_t cap, struct err *e);
/* Takes len bytes; -1 on error (with *e set). */
typedef int (*s3_writer)(void *ud, const void *buf, size_t len, struct err *e);

/* A body read from a file: len bytes of fd from off, whose SHA-256 the
 * caller knows (it is signed before the bytes are sent). */
struct s3_file_body {
	int fd;
	off_t off;
	uint64_t len;
	char sha256[65];
};

/*
 * One request.  The caller fills the request part and owns the struct;
 * s3_xfer_release() frees what a run left in it.  A try that stalls (no
 * byte of an answer within c->timeout_ms of silence, or c->stall_ms of
 * silence once the answer began) or fails in a way another try may mend
 * (connection failures, HTTP 500, 502, 503, 504, 429, RequestTimeout) is
 * retried with backoff, S3_TRIES times in all; any other answer (a 501,
 * a 403, a 404) is final.  So a store that went silent costs a request
 * at most S3_TRIES x timeout_ms (stall_ms for a slow one) and about 2 s
 * of backoff.  A GET whose
 * body was already partly given to wr resumes where it broke (Range,
 * If-Match on the first reply's ETag) so the writer never sees a byte
 * twice.
 */
struct s3_xfer {
	/* the request */
	const struct s3_conf *c;
	const char *method;
	const char *key;		/* NULL: the bucket (or the service) */
	const char *query;		/* canonical: sorted, encoded; or NULL */
	const struct strlist *headers;	/* "Name: value", sent and signed */
	const void *body;		/* a body in memory ... */
	size_t len;
	const struct s3_file_body *file;	/* ... or from a file */
	s3_writer wr;			/* a 2xx reply's body goes here ... */
	void *ud;
	/* The store may think long before it answers (completing a multipart
	 * upload): the answer may take c->stall_ms, not c->timeout_ms. */
	int slow;
	/* the reply */
	struct buf resp;	/* ... or here (and always an error's XML) */
	struct s3_meta meta;	/* the 2xx reply's headers */
	long status;
	char code[64];		/* S3's error Code, "" when none */
	uint64_t got;		/* body bytes given to wr */
	/* for s3_pool: called once per transfer, after its retries (rc 0 or
	 * -1 with e); it may add transfers but must not run the pool. */
	void (*done)(struct s3_xfer *x, int rc, struct err *e);
	void *owner;
	/* s3.c's own */
	struct s3_xfer *next;
	int tries;
	long long not_before;
	uint64_t sent, from;
	long long quiet_since;	/* when a byte last moved, either way */
	int64_t moved;		/* bytes moved so far, both ways */
	int answered, stalled;
	struct err werr;
	char sha256[65];
	void *easy, *hdrs;
	struct buf url, where;
};

void s3_xfer_release(struct s3_xfer *x);
/* Runs x to the end here (with its retries); 0 or -1 with e set. */
int s3_do(struct s3_xfer *x, struct err *e) __attribute__((warn_unused_result));

/* ---- many transfers at once ---------------------------------------------- */

struct s3_pool;

/* Up to jobs transfers run at once (connections are kept and reused). */
struct s3_pool *s3_pool_new(unsigned jobs);
/* Queues x (its done must be set); started by s3_pool_run/s3_pool_poll. */
void s3_pool_add(struct s3_pool *p, struct s3_xfer *x);
/* Runs transfers until at most left are unfinished; the done() of those
 * that end is called from here.  -1 only when curl itself fails. */
int s3_pool_run(struct s3_pool *p, size_t left, struct err *e)
	__attribute__((warn_unused_result));
/* Makes s3_pool_run() return (0) as soon as it can: for a done() that
 * saw a failure which ends the caller's work. */
void s3_pool_stop(struct s3_pool *p);
/* As much progress as can be made without waiting. */
int s3_pool_poll(struct s3_pool *p, struct err *e)
	__attribute__((warn_unused_result));
/* Queued, running or waiting to be retried. */
size_t s3_pool_pending(const struct s3_pool *p);
/* Stops whatever still runs (their done() is not called). */
void s3_pool_free(struct s3_pool *p);

/* ---- calls ------------------------------------------------------------- */

int s3_put(const struct s3_conf *c, const char *key, const void *data,
	   size_t len, struct err *e) __attribute__((warn_unused_result));
int s3_upload(const struct s3_conf *c, const char *key, s3_reader rd,
	      void *ud, struct err *e) __attribute__((warn_unused_result));
/* Objects under prefix; caller frees with s3_objects_free(). */
int s3_list(const struct s3_conf *c, const char *prefix,
	    struct s3_object **out, size_t *n, struct err *e)
	__attribute__((warn_unused_result));
/* One page (up to max objects, at most 1000) of ListObjectsV2 under prefix:
 * token is "" for the first page and is set to the next page's token, ""
 * after the last.  Caller frees with s3_objects_free(). */
int s3_list_page(const struct s3_conf *c, const char *prefix, unsigned max,
		 struct buf *token, struct s3_object **out, size_t *n,
		 struct err *e) __attribute__((warn_unused_result));
void s3_objects_free(struct s3_object *o, size_t n);
/* ListBuckets (c->bucket is not used): every bucket's name into out. */
int s3_list_buckets(const struct s3_conf *c, struct strlist *out,
		    struct err *e) __attribute__((warn_unused_result));
int s3_get(const struct s3_conf *c, const char *key, s3_writer wr, void *ud,
	   struct err *e) __attribute__((warn_unused_result));
int s3_delete(const struct s3_conf *c, const char *key, struct err *e)
	__attribute__((warn_unused_result));

/* Creates c->bucket (in c->region); 1 when it already was ours. */
int s3_bucket_create(const struct s3_conf *c, struct err *e)
	__attribute__((warn_unused_result));
int s3_bucket_delete(const struct s3_conf *c, struct err *e)
	__attribute__((warn_unused_result));

/* Multipart uploads, for callers that send the parts themselves (through
 * a pool): begin (headers: the object's, as for a PUT), the query of part
 * n (caller frees), complete with the parts' ETags in order, abort. */
int s3_mpu_begin(const struct s3_conf *c, const char *key,
		 const struct strlist *headers, char **upload_id, struct err *e)
	__attribute__((warn_unused_result));
char *s3_mpu_part_query(unsigned n, const char *upload_id);
int s3_mpu_complete(const struct s3_conf *c, const char *key,
		    const char *upload_id, const struct strlist *etags,
		    struct err *e) __attribute__((warn_unused_result));
void s3_mpu_abort(const struct s3_conf *c, const char *key,
		  const char *upload_id);

/* The name of a reply's root element (XML), "" when it is not XML. */
void s3_xml_root(const struct buf *doc, struct buf *name);
/* The text of the first <want> element of doc into out; -1 when none. */
int s3_xml_pick(const struct buf *doc, const char *want, struct buf *out);

/* "s3://bucket/some/prefix" -> bucket, prefix ("" when none).  Caller
 * frees both. */
int s3_parse_url(const char *url, char **bucket, char **prefix);

#endif

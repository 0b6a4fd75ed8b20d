/*
 * minio_restore: the minio restorer's table entry (see restorer.h), and
 * the uploads it runs (minio_put.c).
 */
#ifndef FERRY_RESTORE_MINIO_RESTORE_H
#define FERRY_RESTORE_MINIO_RESTORE_H

#include <jansson.h>
#include <stdint.h>

#include "net/s3.h"
#include "restore/restorer.h"

extern const struct restorer minio_restorer;

/* A bucket being restored. */
struct mr_bucket {
	const char *src;	/* as the archive names it */
	char *dst, *part;	/* target; member folder of src */
	json_t *info;
	const char *failed;	/* why its backup failed, or NULL */
	struct s3_conf c;	/* the target bucket */
	int selected, exists, created, cleaned;
	int full;		/* held objects when checked */
	size_t want;		/* objects in the archive */
	uint64_t count, bytes;	/* restored so far */
	json_t *configs;	/* staged sub-resources, applied at the end */
};

/* The target bucket itself (minio_bucket.c).  mb_state(): whether it
 * exists (-1: no) and holds objects (1) or not (0); -2 on failure. */
int mb_state(struct mr_bucket *b, struct err *e);
/* Deletes every object of b, many at once on pool. */
int mb_empty(struct s3_pool *pool, struct mr_bucket *b, struct err *e)
	__attribute__((warn_unused_result));
/* PUTs the configuration the archive kept (b->configs); what was put
 * back, or that the store cannot take it, goes into note. */
int mb_configure(struct mr_bucket *b, struct buf *note, struct err *e)
	__attribute__((warn_unused_result));

/* An object whose members are being read, and one PUT; see minio_put.c. */
struct mr_obj;
struct mr_put;

/* The uploads of one restore. */
struct mr_up {
	struct s3_pool *pool;
	unsigned jobs;
	size_t mem;		/* bytes of bodies in memory in flight */
	struct mr_obj *live;	/* objects not yet uploaded */
	struct mr_put *puts;	/* PUTs in the pool */
	struct err err;		/* the first failure */
	int failed;
	unsigned char *chunk;
};

int mr_up_init(struct mr_up *u, unsigned jobs, struct err *e)
	__attribute__((warn_unused_result));
/* Stops what still runs and aborts multipart uploads left open. */
void mr_up_release(struct mr_up *u);
/* Starts the object described by j (nparts: its members beyond the
 * first, 0 when it is one member); *out is set even on failure (the
 * release frees it). */
int mr_obj_new(struct mr_up *u, struct mr_bucket *b, json_t *j,
	       unsigned nparts, struct mr_obj **out, struct err *e)
	__attribute__((warn_unused_result));
/* Reads member m (the object's next) into the object's staging, keeping
 * the uploads moving meanwhile.  Nothing is sent. */
int mr_obj_read(struct mr_up *u, struct mr_obj *o, struct rs_member *m,
		struct err *e) __attribute__((warn_unused_result));
/* The member just read matched the manifest: what is staged may go. */
int mr_obj_checked(struct mr_up *u, struct mr_obj *o, struct err *e)
	__attribute__((warn_unused_result));
/* Waits for every upload. */
int mr_up_finish(struct mr_up *u, struct err *e)
	__attribute__((warn_unused_result));
/* The object's PUT headers from its manifest entry (caller releases). */
int mr_obj_headers(json_t *j, struct strlist *out, struct err *e)
	__attribute__((warn_unused_result));

#endif

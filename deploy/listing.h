/*
 * listing: the server scan's output read while it arrives, in a thread of
 * its own: the lines up to "list" or "list CODEC", then the records find
 * -printf '%y %s %T@ %m %P\0%l\0' wrote, as they are or compressed.  The
 * first record is "." itself, with its empty path: the proof that the
 * listing starts whole.  Decompressing and reading 20,000 records takes
 * ~15 ms; done while find still walks, it costs the deploy nothing.
 */
#ifndef FERRY_DEPLOY_LISTING_H
#define FERRY_DEPLOY_LISTING_H

#include <pthread.h>
#include <stddef.h>

#include "util/buf.h"
#include "deploy/tree.h"

struct listing {
	struct ftree tree;	/* the records, unsorted ("." left out) */
	struct buf head;	/* the lines before "list", with their '\n' */
	int listed;		/* the "list" line came */
	int zipped;		/* ... naming a codec */
	size_t records;		/* records read, "." included */
	char *error;		/* what was wrong with the records, or NULL */
	/* the reader's own */
	int fd;
	pthread_t th;
	int running;
	struct buf carry;
};

#define LISTING_INIT { .tree = FTREE_INIT, .head = BUF_INIT, .fd = -1, \
		       .carry = BUF_INIT }

/* Starts the reader; *wfd is the end to write the output to, and to close
 * at its end.  0, or -1 with e set. */
int listing_start(struct listing *l, int *wfd, struct err *e)
	__attribute__((warn_unused_result));
/* Waits for the reader (after *wfd is closed); the fields are then set. */
void listing_join(struct listing *l);
void listing_release(struct listing *l);

#endif

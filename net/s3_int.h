/*
 * s3_int: what net/s3*.c share and nothing else includes.
 */
#ifndef FERRY_S3_INT_H
#define FERRY_S3_INT_H

#include "net/s3.h"

#define S3_XML_MAX (16u << 20)

/* AWS's URI encoding: unreserved characters stay, the rest is %XX;
 * slashes too unless keep_slash. */
void s3_encode(struct buf *b, const char *s, int keep_slash);

/* Builds x's curl handle for its next try (x->easy, x->hdrs). */
int s3_try_start(struct s3_xfer *x, struct err *e);
/* Judges the try that curl ended with rc and frees its handle: 0 done,
 * -1 failed for good, 1 worth another try (e says why in both cases). */
int s3_try_end(struct s3_xfer *x, int rc, struct err *e);
/* Milliseconds to wait before try number `tries` (1, 2, ...). */
long s3_backoff_ms(int tries);
long long s3_now_ms(void);

/* Calls on(name, text) at the end of every element. */
int s3_xml_walk(const struct buf *doc, void (*on)(void *, const char *,
		const char *), void *ud);

#endif

/*
 * http: one small HTTP request with libcurl (bounded time, bounded reply),
 * for JSON APIs such as Neo4j's and for notifications.  Bodies that stream (S3 objects) use
 * net/s3.c instead.
 */
#ifndef FERRY_NET_HTTP_H
#define FERRY_NET_HTTP_H

#include "util/buf.h"
#include "util/err.h"

#define HTTP_REPLY_MAX (16u << 20)

struct http_req {
	const char *method;	/* "GET", "POST" */
	const char *url;
	const char *json;	/* request body (sent as application/json) */
	const char *user;	/* basic auth when set */
	const char *password;
	long long timeout_ms;	/* the whole request */
};

/* The reply's body into resp and its status into *status; FX_CONN when no
 * reply came (the URL and curl's reason in e). */
int http_call(const struct http_req *h, struct buf *resp, long *status,
	      struct err *e) __attribute__((warn_unused_result));
/* The same with a body that is not JSON (h->json unused): sent with
 * content_type (NULL: text/plain; charset=utf-8). */
int http_call_body(const struct http_req *h, const char *body,
		   const char *content_type, struct buf *resp, long *status,
		   struct err *e) __attribute__((warn_unused_result));

#endif

/*
 * http: small HTTP requests with libcurl (bounded time, bounded reply), for
 * JSON APIs such as Neo4j's and for notifications.  A client keeps its
 * connection between calls, so a run of requests through an SSH tunnel is
 * one channel, not one per request.  Bodies that stream (S3 objects) use
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
	long long connect_ms;	/* connecting; 0: timeout_ms */
	const char *accept;	/* NULL: application/json */
};

/* How a call ended, beyond its status. */
struct http_res {
	long status;		/* 0: no reply */
	int unsent;		/* no connection was made: the server saw nothing */
	int too_big;		/* the reply went over resp's limit */
};

/* Whether an HTTP status may be different on a later try: 429 (too many
 * requests), 500, 502, 503 and 504 (a server or a gateway in trouble).
 * Any other status is the server's answer to this request, retried or
 * not (a 501 Not Implemented, a 403, a 404). */
int http_status_transient(long status);

struct http_client;

struct http_client *http_client_new(void);
void http_client_free(struct http_client *c);

/* The reply's body into resp (capped at resp->limit, HTTP_REPLY_MAX when
 * unset) and how it ended into *res; FX_CONN when no full reply came (the
 * URL and curl's reason in e). */
int http_client_call(struct http_client *c, const struct http_req *h,
		     struct buf *resp, struct http_res *res, struct err *e)
	__attribute__((warn_unused_result));

/* One request on a connection of its own. */
int http_call(const struct http_req *h, struct buf *resp, long *status,
	      struct err *e) __attribute__((warn_unused_result));
/* The same with a body that is not JSON (h->json unused): sent with
 * content_type (NULL: text/plain; charset=utf-8). */
int http_call_body(const struct http_req *h, const char *body,
		   const char *content_type, struct buf *resp, long *status,
		   struct err *e) __attribute__((warn_unused_result));

#endif

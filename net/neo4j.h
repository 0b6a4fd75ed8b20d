/*
 * neo4j: a client of Neo4j 5's HTTP API, the transactional Cypher endpoint
 * (POST /db/<database>/tx/commit, basic auth): a list of statements with
 * their parameters runs in one transaction; the reply holds one result
 * (columns, data rows, meta) per statement, or errors with Neo.* codes.
 *
 * Every call has a timeout.  A read (NEO4J_READ) is retried with backoff
 * after a connection failure, a 5xx or a Neo.TransientError; a write is
 * retried only when the server cannot have run it (no connection was made,
 * or a transient error rolled it back), and otherwise tells the caller
 * that its outcome is unknown.  It reads no configuration.
 */
#ifndef FERRY_NET_NEO4J_H
#define FERRY_NET_NEO4J_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

struct neo4j_opts {
	const char *url;	/* the server's base URL, reachable from here */
	const char *name;	/* how messages name the server (the configured
				 * URL), or NULL for url */
	const char *user;
	const char *password;
	long long timeout_ms;	/* one request */
	long long connect_ms;
};

enum {
	NEO4J_READ = 1,		/* idempotent: retried */
};

/* One call's options and what happened. */
struct neo4j_call {
	unsigned flags;
	size_t reply_max;	/* 0: HTTP_REPLY_MAX */
	/* out */
	size_t reply_bytes;	/* the reply's size */
	int too_big;		/* the reply went over reply_max */
	int unknown;		/* a write that may or may not have run */
};

struct neo4j;

/* No request is made yet.  o's user and password must outlive the
 * handle (the URL is copied). */
int neo4j_open(struct neo4j **out, const struct neo4j_opts *o, struct err *e)
	__attribute__((warn_unused_result));
void neo4j_close(struct neo4j *n);

/* {"statement": text, "parameters": params}; takes params (may be NULL). */
json_t *neo4j_stmt(const char *text, json_t *params);

/*
 * Runs statements (an array of neo4j_stmt()s) in one transaction on db.
 * *results gets the reply's "results" array (caller decrefs).  Errors
 * read "neo4j DB: ...": FX_CONN for authentication and connection
 * failures, FX_FAIL naming the Neo.* code and message.
 */
int neo4j_run(struct neo4j *n, const char *db, json_t *statements,
	      struct neo4j_call *call, json_t **results, struct err *e)
	__attribute__((warn_unused_result));

/* One read statement; *result gets its {"columns", "data"} (caller
 * decrefs).  Takes params. */
int neo4j_query(struct neo4j *n, const char *db, const char *text,
		json_t *params, json_t **result, struct err *e)
	__attribute__((warn_unused_result));

/* The i-th data row's "row" array of a result (borrowed), or NULL. */
json_t *neo4j_row(json_t *result, size_t i);
size_t neo4j_rows(json_t *result);

/* `name` quoted as a Cypher identifier (backticks doubled). */
char *neo4j_quote(const char *name);

#endif

#include "net/neo4j.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/http.h"
#include "util/buf.h"
#include "util/log.h"

#define TRIES 4

struct neo4j {
	struct neo4j_opts o;
	char *base;		/* the URL without its trailing '/' */
	struct http_client *http;
};

int neo4j_open(struct neo4j **out, const struct neo4j_opts *o, struct err *e)
{
	struct neo4j *n = xcalloc(1, sizeof(*n));
	size_t len = strlen(o->url);

	n->o = *o;
	while (len && o->url[len - 1] == '/')
		len--;
	n->base = xstrndup(o->url, len);
	n->o.url = n->base;
	n->http = http_client_new();
	if (!n->http) {
		neo4j_close(n);
		return err_set(e, FX_FAIL, "curl: cannot initialise");
	}
	*out = n;
	return 0;
}

void neo4j_close(struct neo4j *n)
{
	if (!n)
		return;
	http_client_free(n->http);
	free(n->base);
	free(n);
}

json_t *neo4j_stmt(const char *text, json_t *params)
{
	json_t *s = json_pack("{s:s}", "statement", text);

	if (params)
		json_object_set_new(s, "parameters", params);
	return s;
}

char *neo4j_quote(const char *name)
{
	struct buf b = BUF_INIT;

	buf_addch(&b, '`');
	for (const char *p = name; *p; p++) {
		if (*p == '`')
			buf_addch(&b, '`');
		buf_addch(&b, *p);
	}
	buf_addch(&b, '`');
	return buf_detach(&b, NULL);
}

/* The first of the reply's errors, if any: its code and message. */
static json_t *first_error(json_t *root)
{
	return json_array_get(json_object_get(root, "errors"), 0);
}

static const char *err_code(json_t *er)
{
	return json_string_value(json_object_get(er, "code")) ?: "?";
}

/* One request; 1 when it may be tried again, 0 done, -1 failed for good. */
static int attempt(struct neo4j *n, const char *url, const char *body,
		   struct neo4j_call *call, json_t **results, struct err *e)
{
	struct http_req h = { "POST", url, body, n->o.user, n->o.password,
			      n->o.timeout_ms, n->o.connect_ms, NULL };
	struct buf resp = BUF_LIMITED(call->reply_max ? call->reply_max :
				      HTTP_REPLY_MAX);
	struct http_res res;
	json_error_t jerr;
	json_t *root = NULL, *er;
	int r = -1;

	if (http_client_call(n->http, &h, &resp, &res, e) < 0) {
		call->too_big = res.too_big;
		if (res.too_big)
			goto out;
		/* Named as configured: the tunnel's local port means nothing
		 * to the user. */
		if (n->o.name && !strncmp(e->msg, url, strlen(url)) &&
		    e->msg[strlen(url)] == ':') {
			char reason[sizeof(e->msg)];

			snprintf(reason, sizeof(reason), "%s", e->msg + strlen(url) + 2);
			err_set(e, FX_CONN, "%s: %s", n->o.name, reason);
		}
		/* Nothing reached the server, or a read: safe again. */
		if (res.unsent || (call->flags & NEO4J_READ))
			r = 1;
		else
			call->unknown = 1;
		goto out;
	}
	call->reply_bytes = resp.len;
	root = json_loadb(resp.p ? resp.p : "", resp.len, 0, &jerr);
	er = first_error(root);
	if (res.status == 401) {
		err_set(e, FX_CONN, "authentication failed (%s)",
			er ? err_code(er) : "HTTP 401");
		goto out;
	}
	if (er) {
		const char *code = err_code(er);

		err_set(e, res.status >= 500 ? FX_CONN : FX_FAIL, "%s: %s",
			code, json_string_value(json_object_get(er, "message")) ?: "");
		/* A transient error rolled the transaction back. */
		if (!strncmp(code, "Neo.TransientError.", 19) || res.status >= 500)
			r = 1;
		goto out;
	}
	if (res.status >= 500) {
		err_set(e, FX_CONN, "HTTP %ld", res.status);
		r = (call->flags & NEO4J_READ) ? 1 : -1;
		call->unknown = !(call->flags & NEO4J_READ);
		goto out;
	}
	if (!root || res.status != 200 ||
	    !json_is_array(json_object_get(root, "results"))) {
		err_set(e, FX_CONN, "HTTP %ld with no transactional "
			"reply%s%s", res.status, root ? "" : ": ",
			root ? "" : jerr.text);
		goto out;
	}
	*results = json_incref(json_object_get(root, "results"));
	r = 0;
out:
	json_decref(root);
	buf_release(&resp);
	return r;
}

int neo4j_run(struct neo4j *n, const char *db, json_t *statements,
	      struct neo4j_call *call, json_t **results, struct err *e)
{
	json_t *req = json_pack("{s:O}", "statements", statements);
	char *body = json_dumps(req, JSON_COMPACT);
	char *qdb = curl_easy_escape(NULL, db, 0);
	char *url = xstrfmt("%s/db/%s/tx/commit", n->base, qdb ? qdb : db);
	int r = -1;

	call->reply_bytes = 0;
	call->too_big = 0;
	call->unknown = 0;
	*results = NULL;
	for (int i = 0; i < TRIES; i++) {
		err_clear(e);
		r = attempt(n, url, body, call, results, e);
		if (r <= 0)
			break;
		if (i + 1 < TRIES) {
			log_verbose("%s (try %d of %d)", e->msg, i + 1, TRIES);
			usleep((useconds_t)(250000u << i));
		}
		r = -1;
	}
	if (r < 0)
		err_wrap(e, "neo4j %s", db);
	curl_free(qdb);
	free(url);
	/* Parameters may hold restored data: not left in freed memory. */
	if (body)
		explicit_bzero(body, strlen(body));
	free(body);
	json_decref(req);
	return r;
}

int neo4j_query(struct neo4j *n, const char *db, const char *text,
		json_t *params, json_t **result, struct err *e)
{
	json_t *st = json_pack("[o]", neo4j_stmt(text, params)), *res = NULL;
	struct neo4j_call call = { NEO4J_READ, 0, 0, 0, 0 };
	int r = neo4j_run(n, db, st, &call, &res, e);

	*result = NULL;
	if (r == 0) {
		*result = json_incref(json_array_get(res, 0));
		if (!*result)
			r = err_set(e, FX_FAIL, "neo4j %s: no result for '%.60s'",
				    db, text);
	}
	json_decref(res);
	json_decref(st);
	return r;
}

json_t *neo4j_row(json_t *result, size_t i)
{
	return json_object_get(json_array_get(json_object_get(result, "data"),
					      i), "row");
}

size_t neo4j_rows(json_t *result)
{
	return json_array_size(json_object_get(result, "data"));
}

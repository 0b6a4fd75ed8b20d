/*
 * The neo4j component: Neo4j 5's HTTP transactional API, reached through
 * the SSH tunnel.
 */
#include <jansson.h>
#include <stdlib.h>

#include "backup/component.h"
#include "conf/conf.h"
#include "net/http.h"
#include "net/xport.h"

/* Neo4j answers errors inside a 200 reply: {"errors": [{code, message}]}. */
static int neo4j_error(json_t *root, struct err *e)
{
	json_t *first = json_array_get(json_object_get(root, "errors"), 0);

	if (!first)
		return 0;
	return err_set(e, FX_CONN, "neo4j: %s: %s",
		       json_string_value(json_object_get(first, "code")) ?: "?",
		       json_string_value(json_object_get(first, "message")) ?: "");
}

int neo4j_check(struct bk_ctx *ctx, struct buf *detail, struct err *e)
{
	static const char body[] =
		"{\"statements\":[{\"statement\":\"CALL dbms.components() "
		"YIELD name, versions, edition RETURN name, versions[0], edition\"}]}";
	const struct conf *c = ctx->conf;
	const char *db = conf_str(c, "neo4j", "database");
	struct buf resp = BUF_INIT;
	struct http_req h = { "POST", NULL, body, conf_str(c, "neo4j", "user"),
			      conf_str(c, "neo4j", "password"),
			      conf_num(c, "server", "connect_timeout") };
	char *url = NULL, *tx = NULL;
	json_error_t jerr;
	json_t *root = NULL, *row;
	long status = 0;
	int r = -1;

	if (xport_forward_url(ctx->x, conf_str(c, "neo4j", "url"), &url, e) < 0)
		goto out;
	h.url = tx = xstrfmt("%s/db/%s/tx/commit", url, db);
	if (http_call(&h, &resp, &status, e) < 0)
		goto out;
	root = json_loadb(buf_str(&resp), resp.len, 0, &jerr);
	if (!root) {
		err_set(e, FX_CONN, "neo4j: HTTP %ld with no JSON reply (%s)",
			status, jerr.text);
		goto out;
	}
	if (neo4j_error(root, e) < 0)
		goto out;
	if (status != 200) {
		err_set(e, FX_CONN, "neo4j: HTTP %ld", status);
		goto out;
	}
	row = json_object_get(json_array_get(json_object_get(json_array_get(
		json_object_get(root, "results"), 0), "data"), 0), "row");
	buf_printf(detail, "%s %s (%s), database %s",
		   json_string_value(json_array_get(row, 0)) ?: "Neo4j",
		   json_string_value(json_array_get(row, 1)) ?: "?",
		   json_string_value(json_array_get(row, 2)) ?: "?", db);
	r = 0;
out:
	json_decref(root);
	buf_release(&resp);
	free(url);
	free(tx);
	return r;
}

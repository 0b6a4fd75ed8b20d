/*
 * The neo4j component: Neo4j 5 on the server, reached through the SSH
 * tunnel.  `mode = cypher` exports the graph over the HTTP API
 * (neo4j_export.c); `mode = dump` stops the service and streams
 * neo4j-admin's dumps (neo4j_dump.c).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "backup/component.h"
#include "backup/neo4j.h"
#include "backup/neo4j_int.h"
#include "conf/conf.h"
#include "net/xport.h"

int neo4j_connect(const struct conf *c, struct xport *x, struct neo4j **out,
		  struct err *e)
{
	struct neo4j_opts o = { NULL, conf_str(c, "neo4j", "url"),
				conf_str(c, "neo4j", "user"),
				conf_str(c, "neo4j", "password"),
				conf_num(c, "neo4j", "timeout"),
				conf_num(c, "server", "connect_timeout") };
	char *url = NULL;
	int r;

	*out = NULL;
	if (xport_forward_url(x, conf_str(c, "neo4j", "url"), &url, e) < 0)
		return err_wrap(e, "neo4j");
	o.url = url;
	r = neo4j_open(out, &o, e);
	free(url);
	return r;
}

void neo4j_databases(const struct conf *c, struct strlist *out)
{
	conf_list(c, "neo4j", "databases", out);
	if (!out->n)
		strlist_add(out, conf_str(c, "neo4j", "database"));
}

char *neo4j_member_dir(const char *db)
{
	char *part = component_member_part(db);
	char *dir = xstrfmt("neo4j/%s/", part);

	free(part);
	return dir;
}

int neo4j_check(struct bk_ctx *ctx, struct buf *detail, struct err *e)
{
	const char *db = conf_str(ctx->conf, "neo4j", "database");
	struct neo4j *n = NULL;
	json_t *res = NULL, *row;
	int r = -1;

	if (neo4j_connect(ctx->conf, ctx->x, &n, e) < 0 ||
	    neo4j_query(n, db, "CALL dbms.components() YIELD name, versions, "
			"edition RETURN name, versions[0], edition", NULL, &res,
			e) < 0)
		goto out;
	row = neo4j_row(res, 0);
	buf_printf(detail, "%s %s (%s), database %s, mode %s",
		   json_string_value(json_array_get(row, 0)) ?: "Neo4j",
		   json_string_value(json_array_get(row, 1)) ?: "?",
		   json_string_value(json_array_get(row, 2)) ?: "?", db,
		   conf_str(ctx->conf, "neo4j", "mode"));
	r = 0;
out:
	json_decref(res);
	neo4j_close(n);
	return r;
}

int neo4j_backup(struct bk_ctx *ctx, json_t *detail, struct err *e)
{
	int dump = !strcmp(conf_str(ctx->conf, "neo4j", "mode"), "dump");

	json_object_set_new(detail, "mode", json_string(dump ? "dump" :
							 "cypher"));
	json_object_set_new(detail, "point_in_time", json_boolean(dump));
	json_object_set_new(detail, "consistency", json_string(dump ?
		NEO4J_CONSISTENCY_DUMP : NEO4J_CONSISTENCY_CYPHER));
	return dump ? neo4j_dump_backup(ctx, detail, e) :
		neo4j_export(ctx, detail, e);
}

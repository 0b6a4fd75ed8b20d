/*
 * mode = cypher: the graph over Neo4j's HTTP API, while it stays online.
 * Per database: the counts, the schema (SHOW CONSTRAINTS / SHOW INDEXES
 * with their CREATE statements), then nodes and relationships in pages of
 * internal ids (`id(n) IN range($lo, $hi)` is an id seek, so a page costs
 * its own size, not a scan), each page one request whose reply is kept
 * near 1 MiB (pages start small, double while replies are small, halve
 * when one is large, and one over the reply cap is asked again in halves),
 * so memory stays bounded whatever the graph.  Every
 * property is read with valueType(), so integers, floats, temporal and
 * spatial values keep their types in the JSON Lines (backup/neo4j.h).
 *
 * Byte arrays look like integer lists to valueType() and in the API's JSON;
 * db.schema.nodeTypeProperties() / relTypeProperties() tell them apart (by
 * label set or type and key), asked the first time an integer list is met.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "backup/archive.h"
#include "backup/component.h"
#include "backup/neo4j.h"
#include "backup/neo4j_int.h"
#include "conf/conf.h"
#include "net/http.h"

/* A page's reply is kept near this; one over HTTP_REPLY_MAX is retried
 * with half the ids. */
#define PAGE_TARGET (1u << 20)

static const char q_nodes[] =
	"MATCH (n) WHERE id(n) IN range($lo, $hi) RETURN id(n) AS id, "
	"labels(n) AS labels, [k IN keys(n) | [k, valueType(n[k]), n[k]]] "
	"AS props ORDER BY id";
static const char q_rels[] =
	"MATCH (a)-[r]->(b) WHERE id(r) IN range($lo, $hi) RETURN id(r) AS "
	"id, type(r) AS type, id(a) AS start, id(b) AS end, [k IN keys(r) | "
	"[k, valueType(r[k]), r[k]]] AS props ORDER BY id";

struct exp {
	struct bk_ctx *ctx;
	struct neo4j *n;
	const char *db;
	long long page_max;
	int hints;		/* byte-array hints loaded */
	struct strlist node_bytes, rel_bytes;
	long long byte_arrays;
};

/* ---- values --------------------------------------------------------- */

/* valueType()'s names, and the tag a value of the type is written with
 * (NULL: plain JSON). */
static const struct {
	const char *name, *tag;
} vtypes[] = {
	{ "BOOLEAN", NULL }, { "STRING", NULL }, { "INTEGER", NULL },
	{ "FLOAT", NULL }, { "NOTHING", NULL },
	{ "DATE", "date" }, { "LOCAL TIME", "localtime" },
	{ "ZONED TIME", "time" }, { "LOCAL DATETIME", "localdatetime" },
	{ "ZONED DATETIME", "datetime" }, { "DURATION", "duration" },
	{ "POINT", "point" },
};

/* "LIST<DATE NOT NULL> NOT NULL" -> index of DATE, *list = 1; -1 when
 * cypher mode cannot carry the type. */
static int vtype_of(const char *s, int *list)
{
	size_t len = strlen(s);

	*list = 0;
	if (len > 9 && !strcmp(s + len - 9, " NOT NULL"))
		len -= 9;
	if (len > 6 && !strncmp(s, "LIST<", 5) && s[len - 1] == '>') {
		*list = 1;
		s += 5;
		len -= 6;
		if (len > 9 && !strncmp(s + len - 9, " NOT NULL", 9))
			len -= 9;
	}
	for (size_t i = 0; i < sizeof(vtypes) / sizeof(vtypes[0]); i++)
		if (strlen(vtypes[i].name) == len && !strncmp(s, vtypes[i].name, len))
			return (int)i;
	return -1;
}

static json_t *tagged(const char *tag, json_t *v)
{
	json_t *o = json_object();

	json_object_set_new(o, tag, v);
	return o;
}

/* The API's point, {"type": "Point", "coordinates": [...], "crs":
 * {"srid": N, ...}}, as {"point": {"srid", "x", "y"[, "z"]}}. */
static json_t *point(json_t *v)
{
	json_t *c = json_object_get(v, "coordinates");
	json_t *srid = json_object_get(json_object_get(v, "crs"), "srid");
	static const char *const axis[] = { "x", "y", "z" };
	json_t *p;

	if (!json_is_integer(srid) || json_array_size(c) < 2 ||
	    json_array_size(c) > 3)
		return NULL;
	p = json_pack("{s:O}", "srid", srid);
	for (size_t i = 0; i < json_array_size(c); i++) {
		json_t *x = json_array_get(c, i);

		if (!json_is_number(x)) {
			json_decref(p);
			return NULL;
		}
		json_object_set_new(p, axis[i], json_real(json_number_value(x)));
	}
	return tagged("point", p);
}

static json_t *scalar(int t, json_t *v)
{
	const char *name = vtypes[t].name;

	if (vtypes[t].tag && !strcmp(vtypes[t].tag, "point"))
		return point(v);
	if (vtypes[t].tag)
		return json_is_string(v) ? tagged(vtypes[t].tag,
						  json_incref(v)) : NULL;
	if (!strcmp(name, "FLOAT")) {
		/* The API writes NaN and the infinities as strings. */
		if (json_is_string(v))
			return tagged("float", json_incref(v));
		return json_is_number(v) ? json_real(json_number_value(v)) : NULL;
	}
	if (!strcmp(name, "INTEGER"))
		return json_is_integer(v) ? json_incref(v) : NULL;
	if (!strcmp(name, "BOOLEAN"))
		return json_is_boolean(v) ? json_incref(v) : NULL;
	if (!strcmp(name, "STRING"))
		return json_is_string(v) ? json_incref(v) : NULL;
	return NULL;
}

/* An integer list that is a byte array: {"bytes": BASE64}. */
static json_t *bytes(json_t *v)
{
	size_t n = json_array_size(v);
	unsigned char *raw = xmalloc(n + 1);
	size_t blen = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(blen);
	json_t *out;

	if (json_is_string(v)) {
		free(raw);
		free(b64);
		return tagged("bytes", json_incref(v));
	}
	for (size_t i = 0; i < n; i++)
		raw[i] = (unsigned char)(json_integer_value(json_array_get(v, i)) &
					 0xff);
	sodium_bin2base64(b64, blen, raw, n, sodium_base64_VARIANT_ORIGINAL);
	out = tagged("bytes", json_string(b64));
	free(raw);
	free(b64);
	return out;
}

/* The API's value v of valueType vt as the archive writes it; NULL when
 * it cannot (the caller names the property). */
static json_t *value(const char *vt, json_t *v, int is_bytes)
{
	int list, t = vtype_of(vt, &list);
	json_t *out, *el;
	size_t i;

	if (t < 0)
		return NULL;
	if (!list)
		return strcmp(vtypes[t].name, "NOTHING") ? scalar(t, v) : NULL;
	if (!strcmp(vtypes[t].name, "INTEGER") && (is_bytes || json_is_string(v)))
		return bytes(v);
	if (!json_is_array(v))
		return NULL;
	out = json_array();
	json_array_foreach(v, i, el) {
		json_t *c = strcmp(vtypes[t].name, "NOTHING") ? scalar(t, el) : NULL;

		if (!c) {
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, c);
	}
	return out;
}

/* ---- byte-array hints ------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "A\x1fB\x1eprop" for labels [B, A] (sorted), or "TYPE\x1eprop". */
static char *hint_key(json_t *labels, const char *type, const char *prop)
{
	struct buf b = BUF_INIT;
	size_t n = json_array_size(labels);
	const char **v = xcalloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(labels, i)) ?: "";
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? "\x1f" : "", v[i]);
	if (type)
		buf_addstr(&b, type);
	buf_printf(&b, "\x1e%s", prop);
	free(v);
	return buf_detach(&b, NULL);
}

static int has_hint(const struct strlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], key))
			return 1;
	return 0;
}

/* ":`KNOWS`" -> "KNOWS" (the procedure's relType). */
static char *unquote_type(const char *s)
{
	struct buf b = BUF_INIT;

	if (*s == ':')
		s++;
	if (*s != '`')
		return xstrdup(s);
	for (s++; *s; s++) {
		if (*s == '`' && s[1] == '`')
			s++;
		else if (*s == '`')
			break;
		buf_addch(&b, *s);
	}
	return buf_detach(&b, NULL);
}

static int load_hints(struct exp *x, struct err *e)
{
	static const char *const q[2] = {
		"CALL db.schema.nodeTypeProperties() YIELD nodeLabels, "
		"propertyName, propertyTypes WHERE 'ByteArray' IN propertyTypes "
		"RETURN nodeLabels, propertyName, propertyTypes",
		"CALL db.schema.relTypeProperties() YIELD relType, propertyName, "
		"propertyTypes WHERE 'ByteArray' IN propertyTypes RETURN relType, "
		"propertyName, propertyTypes",
	};

	x->hints = 1;
	for (int k = 0; k < 2; k++) {
		json_t *res;

		if (neo4j_query(x->n, x->db, q[k], NULL, &res, e) < 0)
			return -1;
		for (size_t i = 0; i < neo4j_rows(res); i++) {
			json_t *row = neo4j_row(res, i), *t;
			const char *prop = json_string_value(json_array_get(row, 1)) ?: "";
			int other = 0;
			size_t j;
			char *type = k ? unquote_type(json_string_value(
					json_array_get(row, 0)) ?: "") : NULL;

			/* Keys that also hold integer arrays stay lists. */
			json_array_foreach(json_array_get(row, 2), j, t) {
				const char *s = json_string_value(t) ?: "";

				other |= !strcmp(s, "LongArray") ||
					 !strcmp(s, "IntArray") ||
					 !strcmp(s, "ShortArray");
			}
			if (other)
				log_warn("neo4j %s: property '%s' holds byte arrays "
					 "and integer lists; all are backed up as "
					 "integer lists", x->db, prop);
			else
				strlist_add_take(k ? &x->rel_bytes : &x->node_bytes,
						 hint_key(k ? NULL : json_array_get(row, 0),
							  type, prop));
			free(type);
		}
		json_decref(res);
	}
	return 0;
}

/* ---- pages ------------------------------------------------------------ */

/* [[key, valueType, value], ...] as {"key": value, ...}. */
static json_t *props(struct exp *x, json_t *list, json_t *labels,
		     const char *type, const char *what, long long id,
		     struct err *e)
{
	json_t *out = json_object(), *kv;
	size_t i;

	json_array_foreach(list, i, kv) {
		const char *k = json_string_value(json_array_get(kv, 0));
		const char *vt = json_string_value(json_array_get(kv, 1));
		int is_bytes = 0, list_t;
		json_t *v;

		if (!k || !vt)
			goto bad;
		if (vtype_of(vt, &list_t) >= 0 && list_t &&
		    !strcmp(vtypes[vtype_of(vt, &list_t)].name, "INTEGER")) {
			char *key;

			if (!x->hints && load_hints(x, e) < 0) {
				json_decref(out);
				return NULL;
			}
			key = hint_key(labels, type, k);
			is_bytes = has_hint(type ? &x->rel_bytes : &x->node_bytes,
					    key);
			free(key);
		}
		v = value(vt, json_array_get(kv, 2), is_bytes);
		if (!v) {
			err_set(e, FX_FAIL, "neo4j %s: %s %lld: property '%s' is "
				"a %s, which mode = cypher cannot carry (mode = "
				"dump can)", x->db, what, id, k, vt);
			json_decref(out);
			return NULL;
		}
		if (json_object_get(v, "bytes"))
			x->byte_arrays++;
		json_object_set_new(out, k, v);
	}
	return out;
bad:
	json_decref(out);
	err_set(e, FX_FAIL, "neo4j %s: %s %lld: unexpected property row", x->db,
		what, id);
	return NULL;
}

/* One row of a page as one line. */
static int put_row(struct exp *x, int rels, json_t *row,
		   struct arc_stream *s, struct err *e)
{
	json_t *id = json_array_get(row, 0), *line, *p;
	long long nid = json_integer_value(id);
	char *text;
	int r;

	if (!json_is_integer(id))
		return err_set(e, FX_FAIL, "neo4j %s: unexpected row", x->db);
	if (rels) {
		p = props(x, json_array_get(row, 4), NULL,
			  json_string_value(json_array_get(row, 1)) ?: "",
			  "relationship", nid, e);
		line = p ? json_pack("{s:O, s:O, s:O, s:O, s:o}", "id", id,
				     "type", json_array_get(row, 1), "start",
				     json_array_get(row, 2), "end",
				     json_array_get(row, 3), "props", p) : NULL;
	} else {
		p = props(x, json_array_get(row, 2), json_array_get(row, 1), NULL,
			  "node", nid, e);
		line = p ? json_pack("{s:O, s:O, s:o}", "id", id, "labels",
				     json_array_get(row, 1), "props", p) : NULL;
	}
	if (!line)
		return p ? err_set(e, FX_FAIL, "neo4j %s: unexpected row",
				   x->db) : -1;
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	r = arc_stream_write(s, text, strlen(text), e);
	if (r == 0)
		r = arc_stream_write(s, "\n", 1, e);
	free(text);
	return r;
}

/* Every node (or relationship) with an id up to maxid into member. */
static int pages(struct exp *x, int rels, long long maxid, const char *member,
		 long long *count, struct err *e)
{
	struct arc_stream *s = NULL;
	/* Small first: the replies' sizes say how far to grow. */
	long long lo = 0, win = x->page_max < 256 ? x->page_max : 256;
	uint64_t bytes;
	int r = -1;

	*count = 0;
	if (arc_stream_begin(x->ctx->arc, member, &s, e) < 0)
		return -1;
	while (lo <= maxid) {
		long long hi = lo + win - 1 > maxid ? maxid : lo + win - 1;
		json_t *st = json_pack("[o]", neo4j_stmt(rels ? q_rels : q_nodes,
			json_pack("{s:I, s:I}", "lo", (json_int_t)lo, "hi",
				  (json_int_t)hi)));
		struct neo4j_call call = { NEO4J_READ, 0, 0, 0, 0 };
		json_t *res = NULL, *page;
		int rc = neo4j_run(x->n, x->db, st, &call, &res, e);

		json_decref(st);
		if (rc < 0 && call.too_big && win > 1) {
			/* Too much in one reply: the same ids in halves. */
			win /= 2;
			json_decref(res);
			continue;
		}
		if (rc < 0 && call.too_big)
			err_set(e, FX_FAIL, "neo4j %s: %s %lld is larger than %u MiB "
				"as JSON (mode = dump can back it up)", x->db,
				rels ? "relationship" : "node", lo, HTTP_REPLY_MAX >> 20);
		if (rc < 0)
			goto out;
		page = json_array_get(res, 0);
		for (size_t i = 0; i < neo4j_rows(page); i++) {
			if (put_row(x, rels, neo4j_row(page, i), s, e) < 0) {
				json_decref(res);
				goto out;
			}
			(*count)++;
		}
		json_decref(res);
		log_debug("neo4j %s: %s ids %lld..%lld: %zu bytes", x->db,
			  rels ? "relationship" : "node", lo, hi, call.reply_bytes);
		lo = hi + 1;
		if (call.reply_bytes > PAGE_TARGET && win > 1)
			win /= 2;
		else if (call.reply_bytes < PAGE_TARGET / 4 && win < x->page_max)
			win = win * 2 > x->page_max ? x->page_max : win * 2;
	}
	r = arc_stream_end(s, &bytes, e);
	s = NULL;
out:
	arc_stream_abort(s);
	return r;
}

/* ---- one database --------------------------------------------------- */

/* count(...) and max(id(...)): maxid is -1 for none. */
static int counts(struct exp *x, int rels, long long *count, long long *maxid,
		  struct err *e)
{
	json_t *res, *row;

	if (neo4j_query(x->n, x->db, rels ? "MATCH ()-[r]->() RETURN count(r) "
			"AS count, max(id(r)) AS maxid" : "MATCH (n) RETURN "
			"count(n) AS count, max(id(n)) AS maxid", NULL, &res, e) < 0)
		return -1;
	row = neo4j_row(res, 0);
	*count = json_integer_value(json_array_get(row, 0));
	*maxid = json_is_integer(json_array_get(row, 1)) ?
		 json_integer_value(json_array_get(row, 1)) : -1;
	json_decref(res);
	return 0;
}

/* SHOW CONSTRAINTS / SHOW INDEXES as [{"name", "type", "statement"}]. */
static json_t *schema_list(struct exp *x, int indexes, struct err *e)
{
	json_t *res, *out = json_array();

	if (neo4j_query(x->n, x->db, indexes ?
			"SHOW INDEXES YIELD name, type, owningConstraint, "
			"createStatement WHERE owningConstraint IS NULL AND "
			"type <> 'LOOKUP' RETURN name, type, createStatement "
			"ORDER BY name" :
			"SHOW CONSTRAINTS YIELD name, type, createStatement "
			"RETURN name, type, createStatement ORDER BY name",
			NULL, &res, e) < 0) {
		json_decref(out);
		return NULL;
	}
	for (size_t i = 0; i < neo4j_rows(res); i++) {
		json_t *row = neo4j_row(res, i);

		json_array_append_new(out, json_pack("{s:O, s:O, s:O}", "name",
			json_array_get(row, 0), "type", json_array_get(row, 1),
			"statement", json_array_get(row, 2)));
	}
	json_decref(res);
	return out;
}

static int export_db(struct exp *x, json_t *dbs, struct err *e)
{
	char *dir = neo4j_member_dir(x->db);
	char *m_schema = xstrfmt("%sschema.json", dir);
	char *m_nodes = xstrfmt("%snodes.jsonl", dir);
	char *m_rels = xstrfmt("%srelationships.jsonl", dir);
	json_t *schema = NULL, *cons = NULL, *idx = NULL;
	long long nodes, nmax, rels, rmax, got_n = 0, got_r = 0;
	char *text = NULL;
	int r = -1;

	if (counts(x, 0, &nodes, &nmax, e) < 0 || counts(x, 1, &rels, &rmax, e) < 0 ||
	    !(cons = schema_list(x, 0, e)) || !(idx = schema_list(x, 1, e)))
		goto out;
	schema = json_pack("{s:O, s:O}", "constraints", cons, "indexes", idx);
	text = json_dumps(schema, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (arc_add(x->ctx->arc, m_schema, text, strlen(text), e) < 0 ||
	    pages(x, 0, nmax, m_nodes, &got_n, e) < 0 ||
	    pages(x, 1, rmax, m_rels, &got_r, e) < 0)
		goto out;
	/* Online, the graph may change while it is read. */
	if (got_n != nodes || got_r != rels)
		log_warn("neo4j %s: counted %lld nodes and %lld relationships, "
			 "read %lld and %lld: the graph changed during the backup",
			 x->db, nodes, rels, got_n, got_r);
	log_verbose("neo4j %s: %lld nodes, %lld relationships", x->db, got_n,
		    got_r);
	json_object_set_new(dbs, x->db, json_pack("{s:I, s:I, s:I, s:I, s:I, "
		"s:s, s:s, s:s}", "nodes", (json_int_t)got_n, "relationships",
		(json_int_t)got_r, "constraints", (json_int_t)json_array_size(cons),
		"indexes", (json_int_t)json_array_size(idx), "byte_arrays",
		(json_int_t)x->byte_arrays, "schema", m_schema, "nodes_member",
		m_nodes, "relationships_member", m_rels));
	r = 0;
out:
	json_decref(schema);
	json_decref(cons);
	json_decref(idx);
	free(text);
	free(dir);
	free(m_schema);
	free(m_nodes);
	free(m_rels);
	return r;
}

int neo4j_export(struct bk_ctx *ctx, json_t *detail, struct err *e)
{
	struct strlist dbs = STRLIST_INIT;
	json_t *jdbs = json_object(), *failed = json_object();
	struct exp x = { .ctx = ctx };
	int r = -1;

	x.page_max = conf_num(ctx->conf, "neo4j", "page_size");
	neo4j_databases(ctx->conf, &dbs);
	if (neo4j_connect(ctx->conf, ctx->x, &x.n, e) < 0)
		goto out;
	/* A database that fails fails alone; the others still land. */
	for (size_t i = 0; i < dbs.n; i++) {
		struct err de = ERR_INIT;

		x.db = dbs.v[i];
		x.hints = 0;
		x.byte_arrays = 0;
		strlist_release(&x.node_bytes);
		strlist_release(&x.rel_bytes);
		if (export_db(&x, jdbs, &de) == 0)
			continue;
		json_object_set_new(failed, dbs.v[i], json_string(de.msg));
		if (json_object_size(failed) == 1)
			*e = de;
		else
			err_append(e, "; %s", de.msg);
		/* Authentication or the connection fail every database. */
		if (de.code == FX_CONN)
			break;
	}
	r = json_object_size(failed) ? -1 : 0;
	ctx->landed = json_object_size(jdbs) > 0;
out:
	if (json_object_size(jdbs)) {
		json_t *d;
		const char *k;
		long long nn = 0, nr = 0;

		json_object_foreach(jdbs, k, d) {
			nn += json_integer_value(json_object_get(d, "nodes"));
			nr += json_integer_value(json_object_get(d, "relationships"));
		}
		if (ctx->summary)
			buf_printf(ctx->summary, "%zu database%s, %lld nodes, %lld "
				   "relationships (online, not a snapshot)",
				   json_object_size(jdbs), json_object_size(jdbs) == 1 ?
				   "" : "s", nn, nr);
	}
	json_object_set_new(detail, "databases", jdbs);
	if (json_object_size(failed))
		json_object_set(detail, "failed_databases", failed);
	json_decref(failed);
	strlist_release(&x.node_bytes);
	strlist_release(&x.rel_bytes);
	strlist_release(&dbs);
	neo4j_close(x.n);
	return r;
}

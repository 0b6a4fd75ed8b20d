/*
 * The way back for mode = cypher, over the HTTP API.  Every target
 * database is checked first: one with nodes, constraints or indexes is
 * refused (nothing changed) unless --clean, which empties it when its
 * first member has matched the manifest.  Then, per database, as its
 * members match the manifest:
 *
 *   schema.json    the constraints, and a temporary index on the import id
 *   nodes.jsonl    batches of `UNWIND $rows AS row CREATE (n:L... {import
 *                  id}) SET n += row.p, n.k = date(row.t.k) ...`, one
 *                  statement per shape (labels and typed keys) of a batch
 *   relationships  batches of `MATCH` both ends by import id, `CREATE`
 *   (last part)    the counts against the manifest, the import ids and
 *                  the temporary index removed, then the indexes
 *
 * Nothing runs before the member it comes from matched the manifest: a
 * part is read whole, its batches run in checked().  Each batch also
 * creates a marker node in its transaction, so a batch whose reply was
 * lost is known to have run or not, and is sent again only if not.  After
 * a failure, whatever carries the import label is deleted again, with the
 * markers, the temporary index and the constraints this restore made.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/elapsed.h"
#include "util/log.h"
#include "net/xport.h"
#include "backup/neo4j.h"
#include "conf/conf.h"
#include "restore/neo4j_restore.h"

#define LABEL "`__FerryImport`"
#define IDKEY "`__ferry_id`"
#define MARKER "`__FerryImportBatch`"
#define TMP_INDEX "ferry_import_id"
#define TMP_UNIQUE "ferry_import_batch"
#define PART_MAX (64u << 20)
#define BATCH_BYTES (4u << 20)
#define SEND_TRIES 4

enum { ST_NEW, ST_SCHEMA, ST_DONE };
enum { PEND_NONE, PEND_SCHEMA, PEND_NODES, PEND_RELS };

struct idb {
	struct nr_target *t;
	char *dir;			/* "neo4j/<src>/" */
	unsigned parts[2];		/* nodes, relationships: 0 = one member */
	int state, touched, cleaned;
	struct strlist made;		/* constraints this restore created */
	json_t *indexes;		/* created at the end */
	struct buf carry;		/* a line cut at a part's end */
	long long done[2], bytes;	/* nodes, relationships restored */
	struct timespec t0;
};

/* Rows of one shape (labels or type, and typed keys) in a batch. */
struct group {
	char *sig, *stmt;
	json_t *rows;
};

struct imp {
	struct rs_ctx *x;
	struct xport *xp;
	struct neo4j *n;
	struct nr_target *tg;
	struct idb *d;
	size_t nd;
	long long batch_rows, timeout_s, batch_no;
	/* the batch being filled */
	struct group *g;
	size_t ng, rows, bytes;
	/* what the member just read staged */
	int pend, pend_last;
	struct idb *pend_db;
	struct buf text;
};

/* ---- statements ------------------------------------------------------ */

static int run1(struct imp *p, const char *db, const char *text,
		json_t *params, json_t **res, struct err *e)
{
	json_t *r = NULL;
	int rc = neo4j_query(p->n, db, text, params, &r, e);

	if (res)
		*res = r;
	else
		json_decref(r);
	return rc;
}

static long long count1(json_t *res)
{
	return json_integer_value(json_array_get(neo4j_row(res, 0), 0));
}

/* Repeats a `... LIMIT $limit ... RETURN count(...)` until it does
 * nothing: big deletions in bounded transactions. */
static int drain(struct imp *p, const char *db, const char *text,
		 struct err *e)
{
	for (;;) {
		json_t *res;
		long long k;

		if (run1(p, db, text, json_pack("{s:I}", "limit",
			 (json_int_t)p->batch_rows * 10), &res, e) < 0)
			return -1;
		k = count1(res);
		json_decref(res);
		if (k <= 0)
			return 0;
	}
}

/* ---- targets ------------------------------------------------------ */

/* Nodes, constraints and indexes (not the token lookups) of db. */
static int census(struct imp *p, const char *db, long long *nodes,
		  json_t **cons, json_t **idx, struct err *e)
{
	json_t *res;

	*cons = *idx = NULL;
	if (run1(p, db, "MATCH (n) RETURN count(n) AS n", NULL, &res, e) < 0)
		return -1;
	*nodes = count1(res);
	json_decref(res);
	if (run1(p, db, "SHOW CONSTRAINTS YIELD name RETURN name", NULL, cons,
		 e) < 0 ||
	    run1(p, db, "SHOW INDEXES YIELD name, type, owningConstraint WHERE "
		 "type <> 'LOOKUP' AND owningConstraint IS NULL RETURN name",
		 NULL, idx, e) < 0)
		return -1;
	return 0;
}

static int check_targets(struct imp *p, struct err *e)
{
	for (size_t i = 0; i < p->nd; i++) {
		struct idb *d = &p->d[i];
		json_t *cons, *idx;
		long long nodes;
		size_t nc, ni;

		if (!d->t->selected)
			continue;
		if (census(p, d->t->dst, &nodes, &cons, &idx, e) < 0) {
			json_decref(cons);
			return -1;
		}
		nc = neo4j_rows(cons);
		ni = neo4j_rows(idx);
		json_decref(cons);
		json_decref(idx);
		if ((nodes || nc || ni) && !p->x->o->clean)
			return err_set(e, FX_FAIL, "neo4j database %s already has "
				       "%lld nodes, %zu constraints and %zu "
				       "indexes: restore into an empty one (--db "
				       "%s=OTHER) or give --clean to empty it; "
				       "nothing was changed", d->t->dst, nodes, nc,
				       ni, d->t->src);
	}
	return 0;
}

/* --clean: every node, constraint and index of db goes. */
static int wipe(struct imp *p, struct idb *d, struct err *e)
{
	const char *db = d->t->dst;
	json_t *cons, *idx;
	long long nodes;
	int r = -1;

	d->cleaned = 1;
	if (census(p, db, &nodes, &cons, &idx, e) < 0)
		goto out;
	for (int k = 0; k < 2; k++) {
		json_t *res = k ? idx : cons;

		for (size_t i = 0; i < neo4j_rows(res); i++) {
			char *q = neo4j_quote(json_string_value(json_array_get(
				neo4j_row(res, i), 0)) ?: "");
			char *sql = xstrfmt("DROP %s %s IF EXISTS", k ? "INDEX" :
					    "CONSTRAINT", q);
			int rc = run1(p, db, sql, NULL, NULL, e);

			free(q);
			free(sql);
			if (rc < 0)
				goto out;
		}
	}
	if (nodes && drain(p, db, "MATCH (n) WITH n LIMIT $limit DETACH DELETE "
			   "n RETURN count(*)", e) < 0)
		goto out;
	log_verbose("neo4j %s: emptied (--clean): %lld nodes", db, nodes);
	r = 0;
out:
	json_decref(cons);
	json_decref(idx);
	return r;
}

/* ---- rows to statements ------------------------------------------ */

/* The Cypher function that makes a tagged value. */
static const char *maker(const char *tag)
{
	static const char *const tags[][2] = {
		{ "date", "date" }, { "localtime", "localtime" },
		{ "time", "time" }, { "localdatetime", "localdatetime" },
		{ "datetime", "datetime" }, { "duration", "duration" },
		{ "point", "point" }, { "float", "toFloat" },
	};

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (!strcmp(tags[i][0], tag))
			return tags[i][1];
	return NULL;
}

/* A tagged value's tag and inner value, or NULL. */
static const char *tag_of(json_t *v, json_t **inner)
{
	const char *k;
	json_t *in;

	if (!json_is_object(v) || json_object_size(v) != 1)
		return NULL;
	json_object_foreach(v, k, in) {
		*inner = in;
		return k;
	}
	return NULL;
}

/* {"bytes": BASE64} as the list of (signed) byte values Neo4j shows. */
static json_t *byte_list(json_t *b64, struct err *e)
{
	const char *s = json_string_value(b64) ?: "";
	size_t len = strlen(s), n = 0;
	unsigned char *raw = xmalloc(len + 1);
	json_t *out = NULL;

	if (sodium_base642bin(raw, len + 1, s, len, NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) == 0) {
		out = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(out, json_integer((signed char)raw[i]));
	} else {
		err_set(e, FX_VERIFY, "neo4j: a byte array is not base64");
	}
	free(raw);
	return out;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * props into p (plain JSON values) and t (typed ones, made in Cypher), with
 * the typed keys' SET items "k\x1fexpr" in sets (sorted, so rows of one
 * shape share a statement).
 */
static int split(struct idb *d, json_t *props, char var,
		 json_t *pl, json_t *ty, struct strlist *sets, struct err *e)
{
	const char *k;
	json_t *v;

	json_object_foreach(props, k, v) {
		json_t *inner = NULL, *el;
		const char *tag = tag_of(v, &inner), *fn;
		char *qk;
		size_t i;
		int list = 0;

		if (tag && !strcmp(tag, "bytes")) {
			json_t *l = byte_list(inner, e);

			if (!l)
				return -1;
			json_object_set_new(pl, k, l);
			d->bytes++;
			continue;
		}
		if (!tag && json_is_array(v)) {
			/* A list is typed when an element is: its tag is the
			 * first tagged element's, floats may mix in. */
			json_t *vals = json_array();

			json_array_foreach(v, i, el) {
				const char *et = tag_of(el, &inner);

				if (et && !tag)
					tag = et;
				json_array_append(vals, et ? inner : el);
			}
			if (!tag) {
				json_decref(vals);
				json_object_set(pl, k, v);
				continue;
			}
			inner = vals;
			list = 1;
		} else if (!tag) {
			json_object_set(pl, k, v);
			continue;
		} else {
			json_incref(inner);
		}
		fn = maker(tag);
		if (!fn) {
			json_decref(inner);
			return err_set(e, FX_VERIFY, "neo4j: property '%s' has "
				       "an unknown type '%s'", k, tag);
		}
		json_object_set_new(ty, k, inner);
		qk = neo4j_quote(k);
		strlist_add_take(sets, list ?
			xstrfmt("%s\x1f%c.%s = [x IN row.t.%s | %s(x)]", qk, var, qk,
				qk, fn) :
			xstrfmt("%s\x1f%c.%s = %s(row.t.%s)", qk, var, qk, fn, qk));
		free(qk);
	}
	qsort(sets->v, sets->n, sizeof(*sets->v), cmp_str);
	return 0;
}

static struct group *group_for(struct imp *p, const char *sig,
			       const char *stmt)
{
	for (size_t i = 0; i < p->ng; i++)
		if (!strcmp(p->g[i].sig, sig))
			return &p->g[i];
	p->g = xrealloc(p->g, (p->ng + 1) * sizeof(*p->g));
	p->g[p->ng].sig = xstrdup(sig);
	p->g[p->ng].stmt = xstrdup(stmt);
	p->g[p->ng].rows = json_array();
	return &p->g[p->ng++];
}

static void groups_free(struct imp *p)
{
	for (size_t i = 0; i < p->ng; i++) {
		free(p->g[i].sig);
		free(p->g[i].stmt);
		json_decref(p->g[i].rows);
	}
	free(p->g);
	p->g = NULL;
	p->ng = p->rows = p->bytes = 0;
}

/* A line of nodes.jsonl or relationships.jsonl into the batch. */
static int add_row(struct imp *p, struct idb *d, int rels, json_t *line,
		   size_t len, struct err *e)
{
	json_t *props = json_object_get(line, "props");
	json_t *pl = json_object(), *ty = json_object(), *row;
	struct strlist sets = STRLIST_INIT;
	struct buf sig = BUF_INIT, stmt = BUF_INIT;
	int r = -1;

	if (!json_is_object(props) || !json_is_integer(json_object_get(line,
	    rels ? "start" : "id")) || (rels && !json_is_string(
	    json_object_get(line, "type")))) {
		err_set(e, FX_VERIFY, "neo4j %s: a line of %s is not a %s",
			d->t->src, rels ? "relationships.jsonl" : "nodes.jsonl",
			rels ? "relationship" : "node");
		goto out;
	}
	if (split(d, props, rels ? 'r' : 'n', pl, ty, &sets, e) < 0)
		goto out;
	if (rels) {
		char *q = neo4j_quote(json_string_value(json_object_get(line,
							"type")));

		buf_printf(&stmt, "UNWIND $rows AS row MATCH (a:" LABEL " {"
			   IDKEY ": row.s}) MATCH (b:" LABEL " {" IDKEY
			   ": row.e}) CREATE (a)-[r:%s]->(b) SET r += row.p", q);
		buf_addstr(&sig, q);
		free(q);
		row = json_pack("{s:O, s:O, s:o, s:o}", "s", json_object_get(line,
				"start"), "e", json_object_get(line, "end"),
				"p", pl, "t", ty);
	} else {
		json_t *labels = json_object_get(line, "labels"), *l;
		struct strlist ls = STRLIST_INIT;
		size_t i;

		json_array_foreach(labels, i, l)
			strlist_add_take(&ls, neo4j_quote(json_string_value(l) ?: ""));
		qsort(ls.v, ls.n, sizeof(*ls.v), cmp_str);
		buf_addstr(&stmt, "UNWIND $rows AS row CREATE (n:" LABEL);
		for (i = 0; i < ls.n; i++) {
			buf_printf(&stmt, ":%s", ls.v[i]);
			buf_printf(&sig, ":%s", ls.v[i]);
		}
		buf_addstr(&stmt, " {" IDKEY ": row.i}) SET n += row.p");
		strlist_release(&ls);
		row = json_pack("{s:O, s:o, s:o}", "i", json_object_get(line, "id"),
				"p", pl, "t", ty);
	}
	pl = ty = NULL;
	for (size_t i = 0; i < sets.n; i++) {
		char *sep = strchr(sets.v[i], '\x1f');

		buf_printf(&sig, "|%.*s", (int)(sep - sets.v[i]), sets.v[i]);
		buf_printf(&stmt, ", %s", sep + 1);
	}
	buf_printf(&stmt, " RETURN count(%c) AS created", rels ? 'r' : 'n');
	json_array_append_new(group_for(p, buf_str(&sig), buf_str(&stmt))->rows,
			      row);
	p->rows++;
	p->bytes += len;
	r = 0;
out:
	json_decref(pl);
	json_decref(ty);
	strlist_release(&sets);
	buf_release(&sig);
	buf_release(&stmt);
	return r;
}

/* ---- batches ---------------------------------------------------------- */

/* 1: the batch's marker exists (it committed), 0: not, -1: failed. */
static int committed(struct imp *p, const char *db, struct err *e)
{
	json_t *res;
	long long k;

	if (run1(p, db, "MATCH (b:" MARKER " {n: $n}) RETURN count(b)",
		 json_pack("{s:I}", "n", (json_int_t)p->batch_no), &res, e) < 0)
		return -1;
	k = count1(res);
	json_decref(res);
	return k > 0;
}

static int flush(struct imp *p, struct idb *d, int rels, struct err *e)
{
	const char *db = d->t->dst;
	json_t *st, *res = NULL;
	int r = -1;

	if (!p->rows)
		return 0;
	p->batch_no++;
	/* The marker first: it is unique, so a batch sent twice (a reply
	 * lost, libcurl resending on a fresh connection) fails at once. */
	st = json_pack("[o]", neo4j_stmt("CREATE (:" MARKER " {n: $n})",
		json_pack("{s:I}", "n", (json_int_t)p->batch_no)));
	for (size_t i = 0; i < p->ng; i++)
		json_array_append_new(st, neo4j_stmt(p->g[i].stmt, json_pack(
			"{s:O}", "rows", p->g[i].rows)));
	for (int i = 0; i < SEND_TRIES; i++) {
		struct neo4j_call call = { 0, 0, 0, 0, 0 };
		struct err first;
		int c;

		d->touched = 1;
		if (neo4j_run(p->n, db, st, &call, &res, e) == 0)
			break;
		if (!call.unknown && !strstr(e->msg, "ConstraintValidationFailed"))
			goto out;
		/* The reply was lost, or the marker is there already: did
		 * the transaction commit? */
		first = *e;
		log_verbose("%s; looking for batch %lld's marker", e->msg,
			    p->batch_no);
		c = committed(p, db, e);
		if (c < 0)
			goto out;
		if (c > 0) {
			/* It ran; the counts are checked at the end. */
			err_clear(e);
			goto counted;
		}
		if (!call.unknown || i + 1 == SEND_TRIES) {
			*e = first;
			goto out;
		}
		usleep((useconds_t)(250000u << i));
	}
	for (size_t i = 0; i < p->ng; i++) {
		long long want = (long long)json_array_size(p->g[i].rows);
		long long got = count1(json_array_get(res, i + 1));

		if (got != want) {
			err_set(e, FX_FAIL, "neo4j %s: a batch created %lld of %lld "
				"%s (%s): %s", db, got, want, rels ?
				"relationships" : "nodes", p->g[i].sig, rels ?
				"an end node is missing" : "unexpected");
			goto out;
		}
	}
counted:
	d->done[rels] += (long long)p->rows;
	r = 0;
out:
	json_decref(res);
	json_decref(st);
	groups_free(p);
	return r;
}

/* The complete lines of text (after what was carried) into batches; the
 * rest is carried to the next part. */
static int lines(struct imp *p, struct idb *d, int rels, int last,
		 struct err *e)
{
	struct buf *t = &p->text;
	size_t start = 0;

	if (d->carry.len) {
		buf_add(&d->carry, t->p, t->len);
		buf_release(t);
		*t = d->carry;
		buf_init(&d->carry);
	}
	while (start < t->len) {
		char *nl = memchr(t->p + start, '\n', t->len - start);
		json_error_t jerr;
		json_t *line;
		size_t len;
		int r;

		if (!nl)
			break;
		len = (size_t)(nl - (t->p + start));
		line = json_loadb(t->p + start, len, 0, &jerr);
		if (!line)
			return err_set(e, FX_VERIFY, "neo4j %s: %s: %s", d->t->src,
				       rels ? "relationships.jsonl" :
				       "nodes.jsonl", jerr.text);
		r = add_row(p, d, rels, line, len, e);
		json_decref(line);
		if (r < 0)
			return -1;
		start += len + 1;
		if ((p->rows >= (size_t)p->batch_rows || p->bytes >= BATCH_BYTES) &&
		    flush(p, d, rels, e) < 0)
			return -1;
	}
	if (start < t->len) {
		if (last)
			return err_set(e, FX_VERIFY, "neo4j %s: the last line of "
				       "%s is cut", d->t->src, rels ?
				       "relationships.jsonl" : "nodes.jsonl");
		buf_add(&d->carry, t->p + start, t->len - start);
	}
	return last ? flush(p, d, rels, e) : 0;
}

/* ---- a database's steps --------------------------------------------- */

/* "CREATE ... CONSTRAINT `name` FOR ..." with IF NOT EXISTS after the
 * name: the target was empty, so only this restore's own first attempt
 * (a reply lost, the request sent again) can have made it. */
static char *if_not_exists(const char *stmt, const char *name)
{
	char *q = neo4j_quote(name);
	const char *at = strstr(stmt, q);
	size_t len = strlen(q);
	char *out;

	if (!at) {
		free(q);
		q = xstrdup(name);
		len = strlen(q);
		at = strstr(stmt, q);
	}
	out = at && !strstr(stmt, " IF NOT EXISTS") ?
	      xstrfmt("%.*s IF NOT EXISTS%s", (int)(at - stmt + (long)len), stmt,
		      at + len) : xstrdup(stmt);
	free(q);
	return out;
}

static int create(struct imp *p, const char *db, json_t *item,
		  const char *what, struct err *e)
{
	const char *name = json_string_value(json_object_get(item, "name"));
	const char *text = json_string_value(json_object_get(item, "statement"));
	char *st;
	int r;

	if (!name || !text)
		return err_set(e, FX_VERIFY, "neo4j %s: schema.json: %s without a "
			       "name or statement", db, what);
	st = if_not_exists(text, name);
	r = run1(p, db, st, NULL, NULL, e);
	free(st);
	return r < 0 ? err_wrap(e, "%s %s", what, name) : 0;
}

static int schema(struct imp *p, struct idb *d, struct err *e)
{
	const char *db = d->t->dst;
	json_error_t jerr;
	json_t *s = json_loadb(p->text.p, p->text.len, 0, &jerr), *c;
	char *wait = NULL;
	size_t i;
	int r = -1;

	clock_gettime(CLOCK_MONOTONIC, &d->t0);
	if (!s) {
		err_set(e, FX_VERIFY, "neo4j %s: schema.json: %s", d->t->src,
			jerr.text);
		goto out;
	}
	d->touched = 1;
	if (p->x->o->clean && wipe(p, d, e) < 0)
		goto out;
	json_array_foreach(json_object_get(s, "constraints"), i, c) {
		if (create(p, db, c, "constraint", e) < 0)
			goto out;
		strlist_add(&d->made, json_string_value(json_object_get(c, "name")));
	}
	d->indexes = json_incref(json_object_get(s, "indexes"));
	wait = xstrfmt("CALL db.awaitIndex('" TMP_INDEX "', %lld)", p->timeout_s);
	if (run1(p, db, "CREATE INDEX " TMP_INDEX " IF NOT EXISTS FOR (n:"
		 LABEL ") ON (n." IDKEY ")", NULL, NULL, e) < 0 ||
	    run1(p, db, "CREATE CONSTRAINT " TMP_UNIQUE " IF NOT EXISTS FOR (b:"
		 MARKER ") REQUIRE b.n IS UNIQUE", NULL, NULL, e) < 0 ||
	    run1(p, db, wait, NULL, NULL, e) < 0)
		goto out;
	d->state = ST_SCHEMA;
	r = 0;
out:
	free(wait);
	json_decref(s);
	return r;
}

/* Counts, import ids away, indexes. */
static int finish(struct imp *p, struct idb *d, struct err *e)
{
	const char *db = d->t->dst;
	long long want[2] = {
		json_integer_value(json_object_get(d->t->info, "nodes")),
		json_integer_value(json_object_get(d->t->info, "relationships")),
	}, got[2];
	json_t *res, *ix;
	char *wait;
	size_t i;

	if (run1(p, db, "MATCH (n:" LABEL ") RETURN count(n)", NULL, &res, e) < 0)
		return -1;
	got[0] = count1(res);
	json_decref(res);
	if (run1(p, db, "MATCH ()-[r]->() RETURN count(r)", NULL, &res, e) < 0)
		return -1;
	got[1] = count1(res);
	json_decref(res);
	if (got[0] != want[0] || got[1] != want[1])
		return err_set(e, FX_FAIL, "neo4j %s: %lld nodes and %lld "
			       "relationships restored, the manifest says %lld "
			       "and %lld", db, got[0], got[1], want[0], want[1]);
	if (drain(p, db, "MATCH (n:" LABEL ") WITH n LIMIT $limit REMOVE n:"
		  LABEL ", n." IDKEY " RETURN count(n)", e) < 0 ||
	    drain(p, db, "MATCH (b:" MARKER ") WITH b LIMIT $limit DELETE b "
		  "RETURN count(*)", e) < 0 ||
	    run1(p, db, "DROP CONSTRAINT " TMP_UNIQUE " IF EXISTS", NULL, NULL,
		 e) < 0 ||
	    run1(p, db, "DROP INDEX " TMP_INDEX " IF EXISTS", NULL, NULL, e) < 0)
		return -1;
	json_array_foreach(d->indexes, i, ix)
		if (create(p, db, ix, "index", e) < 0)
			return -1;
	wait = xstrfmt("CALL db.awaitIndexes(%lld)", p->timeout_s);
	if (run1(p, db, wait, NULL, NULL, e) < 0) {
		free(wait);
		return -1;
	}
	free(wait);
	d->state = ST_DONE;
	if (d->bytes)
		log_warn("neo4j %s: %lld byte-array properties restored as "
			 "integer lists (the HTTP API cannot write byte arrays; "
			 "mode = dump keeps them)", db, d->bytes);
	if (p->x->o->report)
		fprintf(p->x->o->report, "neo4j %s -> %s: %lld nodes, %lld "
			"relationships, %zu constraints, %zu indexes (as the "
			"manifest says), %.1fs\n", d->t->src, db, got[0], got[1],
			d->made.n, json_array_size(d->indexes),
			elapsed_since(&d->t0));
	return 0;
}

/* ---- the restorer ------------------------------------------------- */

static unsigned parts_of(json_t *manifest, const char *name)
{
	json_t *members = json_object_get(manifest, "members"), *m;
	size_t len = strlen(name), i;
	unsigned n = 0;

	json_array_foreach(members, i, m) {
		const char *s = json_string_value(json_object_get(m, "name"));

		if (s && !strncmp(s, name, len) && !strncmp(s + len, ".part-", 6))
			n++;
	}
	return n;
}

static int ni_begin(struct rs_ctx *x, json_t *detail, void **out,
		    struct err *e)
{
	struct imp *p = xcalloc(1, sizeof(*p));
	const struct conf *c = x->conf;

	*out = p;
	p->x = x;
	p->batch_rows = conf_num(c, "neo4j", "batch_size");
	p->timeout_s = (conf_num(c, "neo4j", "timeout") + 999) / 1000;
	if (nr_targets(x, detail, &p->tg, &p->nd, e) < 0)
		return -1;
	p->d = xcalloc(p->nd + 1, sizeof(*p->d));
	for (size_t i = 0; i < p->nd; i++) {
		struct idb *d = &p->d[i];
		char *m;

		d->t = &p->tg[i];
		d->dir = neo4j_member_dir(d->t->src);
		for (int k = 0; k < 2; k++) {
			m = xstrfmt("%s%s", d->dir, k ? "relationships.jsonl" :
				    "nodes.jsonl");
			d->parts[k] = parts_of(x->manifest, m);
			free(m);
		}
	}
	if (!nr_selected(p->tg, p->nd))
		return 0;	/* --db named only other components' databases */
	if (xport_open(&p->xp, x->o->server, e) < 0 ||
	    neo4j_connect(c, p->xp, &p->n, e) < 0)
		return -1;
	return check_targets(p, e);
}

/* What rest ("nodes.jsonl.part-0003") is: 0 nodes, 1 relationships, -1
 * neither; *last when it is the member's last part. */
static int kind_of(struct idb *d, const char *rest, int *last)
{
	static const char *const names[2] = { "nodes.jsonl",
					      "relationships.jsonl" };

	for (int k = 0; k < 2; k++) {
		size_t len = strlen(names[k]);
		unsigned part;
		char extra;

		if (strncmp(rest, names[k], len))
			continue;
		if (!rest[len]) {
			*last = 1;
			return k;
		}
		if (sscanf(rest + len, ".part-%u%c", &part, &extra) == 1) {
			*last = part + 1 >= d->parts[k];
			return k;
		}
	}
	return -1;
}

static int ni_member(void *state, struct rs_member *m, struct err *e)
{
	struct imp *p = state;
	struct idb *d = NULL;
	const char *rest;
	int k, last = 0;

	for (size_t i = 0; i < p->nd && !d; i++)
		if (!strncmp(m->name, p->d[i].dir, strlen(p->d[i].dir)))
			d = &p->d[i];
	if (!d)
		return 0;
	if (!d->t->selected)
		return 1;
	rest = m->name + strlen(d->dir);
	if (!strcmp(rest, "schema.json"))
		k = PEND_SCHEMA;
	else if ((k = kind_of(d, rest, &last)) >= 0)
		k = k ? PEND_RELS : PEND_NODES;
	else
		return 0;
	if (k != PEND_SCHEMA && d->state != ST_SCHEMA)
		return err_set(e, FX_VERIFY, "member '%s' comes before its "
			       "schema.json", m->name);
	buf_release(&p->text);
	if (rs_slurp(m, &p->text, PART_MAX, e) < 0)
		return -1;
	p->pend = k;
	p->pend_db = d;
	p->pend_last = last;
	return 1;
}

static int ni_checked(void *state, struct err *e)
{
	struct imp *p = state;
	struct idb *d = p->pend_db;
	int what = p->pend, r = 0;

	p->pend = PEND_NONE;
	switch (what) {
	case PEND_SCHEMA:
		r = schema(p, d, e);
		break;
	case PEND_NODES:
		r = lines(p, d, 0, p->pend_last, e);
		break;
	case PEND_RELS:
		r = lines(p, d, 1, p->pend_last, e);
		if (r == 0 && p->pend_last)
			r = finish(p, d, e);
		break;
	}
	buf_release(&p->text);
	if (r < 0)
		err_wrap(e, "restore into %s failed", d->t->dst);
	return r;
}

static int ni_end(void *state, struct err *e)
{
	struct imp *p = state;

	for (size_t i = 0; i < p->nd; i++)
		if (p->d[i].t->selected && p->d[i].state != ST_DONE)
			return err_set(e, FX_VERIFY, "the archive ended before "
				       "neo4j database %s was complete",
				       p->d[i].t->src);
	return 0;
}

/* Deletes what carries the import label, the markers, the temporary
 * index and the constraints this restore made. */
static void ni_abandon(void *state, struct err *e)
{
	struct imp *p = state;
	struct buf undone = BUF_INIT, left = BUF_INIT, done = BUF_INIT;

	groups_free(p);
	for (size_t i = 0; p->n && i < p->nd; i++) {
		struct idb *d = &p->d[i];
		struct err de = ERR_INIT;
		int ok;

		if (!d->t->selected || !d->touched)
			continue;
		if (d->state == ST_DONE) {
			buf_printf(&done, "%s%s", done.len ? ", " : "", d->t->dst);
			continue;
		}
		ok = drain(p, d->t->dst, "MATCH (n:" LABEL ") WITH n LIMIT $limit "
			   "DETACH DELETE n RETURN count(*)", &de) == 0 &&
		     drain(p, d->t->dst, "MATCH (b:" MARKER ") WITH b LIMIT "
			   "$limit DELETE b RETURN count(*)", &de) == 0 &&
		     run1(p, d->t->dst, "DROP CONSTRAINT " TMP_UNIQUE " IF EXISTS",
			  NULL, NULL, &de) == 0 &&
		     run1(p, d->t->dst, "DROP INDEX " TMP_INDEX " IF EXISTS",
			  NULL, NULL, &de) == 0;
		for (size_t j = 0; ok && j < d->made.n; j++) {
			char *q = neo4j_quote(d->made.v[j]);
			char *sql = xstrfmt("DROP CONSTRAINT %s IF EXISTS", q);

			ok = run1(p, d->t->dst, sql, NULL, NULL, &de) == 0;
			free(q);
			free(sql);
		}
		if (!ok)
			log_warn("neo4j %s: could not undo the restore: %s",
				 d->t->dst, de.msg);
		if (ok && !d->cleaned)
			buf_printf(&undone, "%s%s", undone.len ? ", " : "",
				   d->t->dst);
		else
			buf_printf(&left, "%s%s", left.len ? ", " : "", d->t->dst);
	}
	if (undone.len)
		err_append(e, "; removed again what this restore created in "
			   "neo4j %s", buf_str(&undone));
	if (left.len)
		err_append(e, "; left incomplete%s: neo4j %s", p->x->o->clean ?
			   " (--clean had emptied it)" : "", buf_str(&left));
	if (done.len)
		err_append(e, "; restored completely before the failure: neo4j "
			   "%s", buf_str(&done));
	buf_release(&undone);
	buf_release(&left);
	buf_release(&done);
}

static void ni_free(void *state)
{
	struct imp *p = state;

	if (!p)
		return;
	groups_free(p);
	for (size_t i = 0; p->d && i < p->nd; i++) {
		free(p->d[i].dir);
		strlist_release(&p->d[i].made);
		json_decref(p->d[i].indexes);
		buf_release(&p->d[i].carry);
	}
	free(p->d);
	nr_targets_free(p->tg, p->nd);
	buf_release(&p->text);
	neo4j_close(p->n);
	if (p->xp)
		xport_close(p->xp);
	free(p);
}

const struct restorer neo4j_import_restorer = {
	"neo4j", ni_begin, ni_member, ni_checked, ni_end, ni_abandon, ni_free,
};

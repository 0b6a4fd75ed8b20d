/*
 * The rows of a cypher-mode restore as statements: each line of nodes.jsonl
 * or relationships.jsonl becomes a row of its shape's statement (labels or
 * type, and which keys need a Cypher function to become their type), and a
 * batch of rows is one transaction that also creates a unique marker node,
 * so a batch is applied once whatever happens to its reply.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "net/neo4j.h"
#include "restore/neo4j_import.h"

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
	if (sets->n > 1)	/* v is NULL while empty */
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

void ni_groups_free(struct imp *p)
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

		buf_printf(&stmt, "UNWIND $rows AS row MATCH (a:" NI_LABEL " {"
			   NI_IDKEY ": row.s}) MATCH (b:" NI_LABEL " {" NI_IDKEY
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
		if (ls.n)
			qsort(ls.v, ls.n, sizeof(*ls.v), cmp_str);
		buf_addstr(&stmt, "UNWIND $rows AS row CREATE (n:" NI_LABEL);
		for (i = 0; i < ls.n; i++) {
			buf_printf(&stmt, ":%s", ls.v[i]);
			buf_printf(&sig, ":%s", ls.v[i]);
		}
		buf_addstr(&stmt, " {" NI_IDKEY ": row.i}) SET n += row.p");
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

	if (ni_run(p, db, "MATCH (b:" NI_MARKER " {n: $n}) RETURN count(b)",
		 json_pack("{s:I}", "n", (json_int_t)p->batch_no), &res, e) < 0)
		return -1;
	k = ni_count(res);
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
	st = json_pack("[o]", neo4j_stmt("CREATE (:" NI_MARKER " {n: $n})",
		json_pack("{s:I}", "n", (json_int_t)p->batch_no)));
	for (size_t i = 0; i < p->ng; i++)
		json_array_append_new(st, neo4j_stmt(p->g[i].stmt, json_pack(
			"{s:O}", "rows", p->g[i].rows)));
	for (int i = 0; i < NI_SEND_TRIES; i++) {
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
		if (!call.unknown || i + 1 == NI_SEND_TRIES) {
			*e = first;
			goto out;
		}
		usleep((useconds_t)(250000u << i));
	}
	for (size_t i = 0; i < p->ng; i++) {
		long long want = (long long)json_array_size(p->g[i].rows);
		long long got = ni_count(json_array_get(res, i + 1));

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
	ni_groups_free(p);
	return r;
}

/* The complete lines of text (after what was carried) into batches; the
 * rest is carried to the next part. */
int ni_lines(struct imp *p, struct idb *d, int rels, int last,
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
		if ((p->rows >= (size_t)p->batch_rows || p->bytes >= NI_BATCH_BYTES) &&
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

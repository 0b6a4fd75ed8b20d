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
 * part is read whole, its batches run in checked() (restore/neo4j_batch.c:
 * each batch's transaction first creates a unique marker node, so a batch
 * sent twice fails on it, and one whose reply was lost is known to have run
 * or not).  Schema items are created with IF NOT EXISTS for the same
 * reason.  After a failure, whatever carries the import label is deleted
 * again, with the markers, the temporary index and constraint and the
 * constraints this restore made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/elapsed.h"
#include "util/log.h"
#include "net/xport.h"
#include "backup/neo4j.h"
#include "conf/conf.h"
#include "restore/neo4j_import.h"

/* ---- statements ------------------------------------------------------ */

int ni_run(struct imp *p, const char *db, const char *text,
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

long long ni_count(json_t *res)
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

		if (ni_run(p, db, text, json_pack("{s:I}", "limit",
			 (json_int_t)p->batch_rows * 10), &res, e) < 0)
			return -1;
		k = ni_count(res);
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
	if (ni_run(p, db, "MATCH (n) RETURN count(n) AS n", NULL, &res, e) < 0)
		return -1;
	*nodes = ni_count(res);
	json_decref(res);
	if (ni_run(p, db, "SHOW CONSTRAINTS YIELD name RETURN name", NULL, cons,
		 e) < 0 ||
	    ni_run(p, db, "SHOW INDEXES YIELD name, type, owningConstraint WHERE "
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
			int rc = ni_run(p, db, sql, NULL, NULL, e);

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
	r = ni_run(p, db, st, NULL, NULL, e);
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
	wait = xstrfmt("CALL db.awaitIndex('" NI_TMP_INDEX "', %lld)", p->timeout_s);
	if (ni_run(p, db, "CREATE INDEX " NI_TMP_INDEX " IF NOT EXISTS FOR (n:"
		 NI_LABEL ") ON (n." NI_IDKEY ")", NULL, NULL, e) < 0 ||
	    ni_run(p, db, "CREATE CONSTRAINT " NI_TMP_UNIQUE " IF NOT EXISTS FOR (b:"
		 NI_MARKER ") REQUIRE b.n IS UNIQUE", NULL, NULL, e) < 0 ||
	    ni_run(p, db, wait, NULL, NULL, e) < 0)
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

	if (ni_run(p, db, "MATCH (n:" NI_LABEL ") RETURN count(n)", NULL, &res, e) < 0)
		return -1;
	got[0] = ni_count(res);
	json_decref(res);
	if (ni_run(p, db, "MATCH ()-[r]->() RETURN count(r)", NULL, &res, e) < 0)
		return -1;
	got[1] = ni_count(res);
	json_decref(res);
	if (got[0] != want[0] || got[1] != want[1])
		return err_set(e, FX_FAIL, "neo4j %s: %lld nodes and %lld "
			       "relationships restored, the manifest says %lld "
			       "and %lld", db, got[0], got[1], want[0], want[1]);
	if (drain(p, db, "MATCH (n:" NI_LABEL ") WITH n LIMIT $limit REMOVE n:"
		  NI_LABEL ", n." NI_IDKEY " RETURN count(n)", e) < 0 ||
	    drain(p, db, "MATCH (b:" NI_MARKER ") WITH b LIMIT $limit DELETE b "
		  "RETURN count(*)", e) < 0 ||
	    ni_run(p, db, "DROP CONSTRAINT " NI_TMP_UNIQUE " IF EXISTS", NULL, NULL,
		 e) < 0 ||
	    ni_run(p, db, "DROP INDEX " NI_TMP_INDEX " IF EXISTS", NULL, NULL, e) < 0)
		return -1;
	json_array_foreach(d->indexes, i, ix)
		if (create(p, db, ix, "index", e) < 0)
			return -1;
	wait = xstrfmt("CALL db.awaitIndexes(%lld)", p->timeout_s);
	if (ni_run(p, db, wait, NULL, NULL, e) < 0) {
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
	if (rs_slurp(m, &p->text, NI_PART_MAX, e) < 0)
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
		r = ni_lines(p, d, 0, p->pend_last, e);
		break;
	case PEND_RELS:
		r = ni_lines(p, d, 1, p->pend_last, e);
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

	ni_groups_free(p);
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
		ok = drain(p, d->t->dst, "MATCH (n:" NI_LABEL ") WITH n LIMIT $limit "
			   "DETACH DELETE n RETURN count(*)", &de) == 0 &&
		     drain(p, d->t->dst, "MATCH (b:" NI_MARKER ") WITH b LIMIT "
			   "$limit DELETE b RETURN count(*)", &de) == 0 &&
		     ni_run(p, d->t->dst, "DROP CONSTRAINT " NI_TMP_UNIQUE " IF EXISTS",
			  NULL, NULL, &de) == 0 &&
		     ni_run(p, d->t->dst, "DROP INDEX " NI_TMP_INDEX " IF EXISTS",
			  NULL, NULL, &de) == 0;
		for (size_t j = 0; ok && j < d->made.n; j++) {
			char *q = neo4j_quote(d->made.v[j]);
			char *sql = xstrfmt("DROP CONSTRAINT %s IF EXISTS", q);

			ok = ni_run(p, d->t->dst, sql, NULL, NULL, &de) == 0;
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
	ni_groups_free(p);
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
	"neo4j", ni_begin, NULL, ni_member, ni_checked, ni_end, ni_abandon, ni_free,
};

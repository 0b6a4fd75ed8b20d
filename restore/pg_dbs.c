/*
 * The databases of a postgres restore, from the manifest to targets ready
 * for their pre-data.  Nothing is changed on the server before every
 * selected target has been checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "net/xport.h"
#include "backup/component.h"
#include "restore/pg_dbs.h"

static void load_tables(struct pgdb *d, json_t *manifest)
{
	json_t *tabs = json_object_get(d->info, "tables");
	json_t *members = json_object_get(manifest, "members");

	d->nt = json_array_size(tabs);
	d->t = xcalloc(d->nt + 1, sizeof(*d->t));
	for (size_t i = 0; i < d->nt; i++) {
		json_t *t = json_array_get(tabs, i);
		char *qs = pg_quote_ident(json_string_value(json_object_get(t,
							"schema")) ?: "");
		char *qt = pg_quote_ident(json_string_value(json_object_get(t,
							"table")) ?: "");
		const char *m = json_string_value(json_object_get(t, "member"));
		size_t ml = m ? strlen(m) : 0;

		json_t *cols = json_object_get(t, "columns"), *col;
		struct buf target = BUF_INIT;
		size_t k;

		/* Columns by name when the archive lists them (as pg_dump's
		 * COPY does): the target's column order may differ. */
		json_array_foreach(cols, k, col) {
			char *qc = pg_quote_ident(json_string_value(col) ?: "");

			buf_printf(&target, "%s%s", k ? ", " : " (", qc);
			free(qc);
		}
		if (json_array_size(cols))
			buf_addch(&target, ')');
		d->t[i].qname = xstrfmt("%s.%s", qs, qt);
		d->t[i].cols = buf_detach(&target, NULL);
		d->t[i].member = xstrdup(m ? m : "");
		d->t[i].want = json_integer_value(json_object_get(t, "rows"));
		d->t[i].bytes = json_integer_value(json_object_get(t, "bytes"));
		d->t[i].got = -1;
		d->t[i].slot = -1;
		for (size_t j = 0; m && j < json_array_size(members); j++) {
			const char *n = json_string_value(json_object_get(
				json_array_get(members, j), "name"));

			if (n && !strncmp(n, m, ml) && !strncmp(n + ml, ".part-", 6))
				d->t[i].nparts++;
		}
		free(qs);
		free(qt);
	}
}

/* Applies one --db SRC=DST to the n databases of d. */
static int map_one(struct pgdb *d, size_t n, json_t *failed, const char *arg,
		   struct err *e)
{
	const char *eq = strchr(arg, '=');
	size_t sl = eq ? (size_t)(eq - arg) : 0, j;

	if (!eq || eq == arg || !eq[1])
		return err_set(e, FX_USAGE, "--db %s: expected SRC=DST", arg);
	for (j = 0; j < n; j++)
		if (strlen(d[j].src) == sl && !strncmp(d[j].src, arg, sl))
			break;
	if (j == n && json_object_getn(failed, arg, sl))
		return err_set(e, FX_FAIL, "--db %s: database '%.*s' is not in "
			       "the archive: its backup failed (%s)", arg,
			       (int)sl, arg, json_string_value(
				       json_object_getn(failed, arg, sl)));
	if (j == n)
		return err_set(e, FX_USAGE, "--db %s: the archive has no "
			       "database '%.*s'", arg, (int)sl, arg);
	d[j].selected = 1;
	free(d[j].dst);
	d[j].dst = xstrdup(eq + 1);
	return 0;
}

struct pgdb *pgdb_select(json_t *dbs, json_t *failed, json_t *manifest,
			 const struct strlist *map, size_t *n, struct err *e)
{
	struct pgdb *d;
	const char *k;
	json_t *v;
	size_t i = 0;

	*n = json_object_size(dbs);
	d = xcalloc(*n + 1, sizeof(*d));
	json_object_foreach(dbs, k, v) {
		d[i].src = k;
		d[i].info = v;
		d[i].part = component_member_part(k);
		d[i].selected = !map || map->n == 0;
		d[i].dst = xstrdup(k);
		load_tables(&d[i], manifest);
		i++;
	}
	for (size_t m = 0; map && m < map->n; m++)
		if (map_one(d, *n, failed, map->v[m], e) < 0) {
			pgdb_free(d, *n);
			*n = 0;
			return NULL;
		}
	return d;
}

/* How many user tables db has (-1: no such database). */
static int user_tables(const struct pg_target *tg, PGconn *admin,
		       const char *db, struct err *e)
{
	const char *params[1] = { db };
	PGresult *r = PQexecParams(admin, "SELECT 1 FROM pg_database WHERE "
				   "datname = $1", 1, NULL, params, NULL, NULL, 0);
	PGconn *c;
	int n = -1;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		err_set(e, FX_FAIL, "postgres: %.*s",
			pg_errlen(PQerrorMessage(admin)), PQerrorMessage(admin));
		PQclear(r);
		return -2;
	}
	n = PQntuples(r) ? 0 : -1;
	PQclear(r);
	if (n < 0)
		return -1;
	if (!(c = pg_open(tg, db, e)))
		return -2;
	r = pg_query(c, "SELECT count(*) FROM pg_class c JOIN pg_namespace n "
		     "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
		     "AND n.nspname <> 'information_schema' AND n.nspname !~ "
		     "'^pg_'", db, e);
	n = r ? (int)pg_num(PQgetvalue(r, 0, 0), -2) : -2;
	if (n == -2 && r)
		err_set(e, FX_FAIL, "postgres %s: unexpected table count '%s'",
			db, PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return n;
}

/* The source database's comment and settings, on the target (q: its
 * quoted name). */
static int db_settings(PGconn *admin, struct pgdb *d, const char *q,
		       struct err *e)
{
	const char *comment = json_string_value(json_object_get(d->info,
								"comment"));
	json_t *set = json_object_get(d->info, "settings"), *it;
	struct buf sql = BUF_INIT;
	size_t i;
	int rc = 0;

	if (comment) {
		char *l = PQescapeLiteral(admin, comment, strlen(comment));

		buf_printf(&sql, "COMMENT ON DATABASE %s IS %s;\n", q, l);
		PQfreemem(l);
	}
	json_array_foreach(set, i, it) {
		const char *role = json_string_value(json_object_get(it, "role"));
		const char *name = json_string_value(json_object_get(it, "name"));
		const char *val = json_string_value(json_object_get(it, "value"));
		char *qr = role ? PQescapeIdentifier(admin, role, strlen(role)) : NULL;
		char *qn = name ? PQescapeIdentifier(admin, name, strlen(name)) : NULL;
		char *lv = val ? PQescapeLiteral(admin, val, strlen(val)) : NULL;

		if (qn && lv) {
			if (qr)
				buf_printf(&sql, "ALTER ROLE %s IN DATABASE %s ", qr, q);
			else
				buf_printf(&sql, "ALTER DATABASE %s ", q);
			buf_printf(&sql, "SET %s TO %s;\n", qn, lv);
		}
		PQfreemem(qr);
		PQfreemem(qn);
		PQfreemem(lv);
	}
	if (sql.len)
		rc = pg_exec(admin, buf_str(&sql), d->dst, e);
	buf_release(&sql);
	return rc;
}

int pgdb_drop(PGconn *admin, const char *name, struct err *e)
{
	char *q = PQescapeIdentifier(admin, name, strlen(name));
	char *sql;
	int rc;

	if (!q)
		return err_set(e, FX_FAIL, "postgres %s: %.*s", name,
			       pg_errlen(PQerrorMessage(admin)),
			       PQerrorMessage(admin));
	/* Sessions left on it (ours, cut off) would block a plain DROP. */
	sql = xstrfmt("DROP DATABASE %s%s", q, PQserverVersion(admin) >=
		      130000 ? " WITH (FORCE)" : "");
	rc = pg_exec(admin, sql, name, e);
	free(sql);
	PQfreemem(q);
	return rc;
}

static int create_db(PGconn *admin, struct pgdb *d, int clean,
		     struct xport *xp, struct err *e)
{
	char *q = PQescapeIdentifier(admin, d->dst, strlen(d->dst));
	const char *enc = json_string_value(json_object_get(d->info, "encoding"));
	const char *col = json_string_value(json_object_get(d->info, "collate"));
	const char *ct = json_string_value(json_object_get(d->info, "ctype"));
	struct buf sql = BUF_INIT;
	int rc = 0;

	if (d->exists && clean) {
		rc = pgdb_drop(admin, d->dst, e);
		d->exists = 0;
		d->cleaned = 1;
	}
	if (rc == 0 && !d->exists) {
		char *le = enc ? PQescapeLiteral(admin, enc, strlen(enc)) : NULL;
		char *lc = col ? PQescapeLiteral(admin, col, strlen(col)) : NULL;
		char *lt = ct ? PQescapeLiteral(admin, ct, strlen(ct)) : NULL;

		buf_reset(&sql);
		buf_printf(&sql, "CREATE DATABASE %s TEMPLATE template0", q);
		if (le)
			buf_printf(&sql, " ENCODING %s", le);
		if (lc && lt)
			buf_printf(&sql, " LC_COLLATE %s LC_CTYPE %s", lc, lt);
		rc = pg_exec(admin, buf_str(&sql), d->dst, e);
		/* A CREATE cut off by a lost connection may still complete on
		 * the server: then it is this restore's to name. */
		d->created = (rc == 0 || (xp && xport_lost(xp))) && !d->cleaned;
		PQfreemem(le);
		PQfreemem(lc);
		PQfreemem(lt);
	}
	if (rc == 0)
		rc = db_settings(admin, d, q, e);
	buf_release(&sql);
	PQfreemem(q);
	return rc;
}

/* A database cannot be dropped from a session on it. */
static PGconn *admin_open(struct pgdb *d, size_t n, const struct pg_target *tg,
			  struct err *e)
{
	const char *maint = "postgres";

	for (size_t i = 0; i < n; i++)
		if (d[i].selected && !strcmp(d[i].dst, "postgres"))
			maint = "template1";
	return pg_open(tg, maint, e);
}

int pgdb_check(struct pgdb *d, size_t n, const struct pg_target *tg,
	       int clean, struct err *e)
{
	PGconn *admin;
	int rc = -1;

	if (!(admin = admin_open(d, n, tg, e)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		int u;

		if (!d[i].selected)
			continue;
		if ((u = user_tables(tg, admin, d[i].dst, e)) < -1)
			goto out;
		d[i].exists = u >= 0;
		if (u > 0 && !clean) {
			err_set(e, FX_FAIL, "database %s already has %d user "
				"table%s: restore into another (--db %s=NEW) or "
				"give --clean to drop and recreate it; nothing "
				"was changed", d[i].dst, u, u == 1 ? "" : "s",
				d[i].src);
			goto out;
		}
	}
	rc = 0;
out:
	PQfinish(admin);
	return rc;
}

int pgdb_create(struct pgdb *d, size_t n, const struct pg_target *tg,
		int clean, struct xport *xp, struct err *e)
{
	PGconn *admin;
	int rc = -1;

	if (!(admin = admin_open(d, n, tg, e)))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (d[i].selected && create_db(admin, &d[i], clean, xp, e) < 0)
			goto out;
	rc = 0;
out:
	PQfinish(admin);
	return rc;
}

struct pgdb_table *pgdb_table(struct pgdb *d, const char *name, int *last)
{
	for (size_t i = 0; i < d->nt; i++) {
		size_t ml = strlen(d->t[i].member);
		unsigned part;
		char extra;

		if (strncmp(name, d->t[i].member, ml))
			continue;
		if (!name[ml]) {
			*last = 1;
			return &d->t[i];
		}
		if (sscanf(name + ml, ".part-%u%c", &part, &extra) == 1) {
			*last = part + 1 >= d->t[i].nparts;
			return &d->t[i];
		}
	}
	return NULL;
}

int pgdb_counted(struct pgdb *d, struct err *e)
{
	for (size_t i = 0; i < d->nt; i++) {
		if (d->t[i].got != d->t[i].want)
			return err_set(e, FX_FAIL, "%s: %lld rows restored, the "
				       "manifest says %lld", d->t[i].qname,
				       d->t[i].got, d->t[i].want);
		d->rows += d->t[i].got;
	}
	return 0;
}

void pgdb_free(struct pgdb *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++) {
		for (size_t j = 0; j < d[i].nt; j++) {
			free(d[i].t[j].qname);
			free(d[i].t[j].cols);
			free(d[i].t[j].member);
		}
		free(d[i].t);
		free(d[i].dst);
		free(d[i].part);
	}
	free(d);
}

/*
 * CREATE TABLE from the catalogs: columns with their types, collations,
 * defaults, generated expressions and identity, local CHECK constraints,
 * inheritance, partitioning (a partition is created PARTITION OF its parent
 * so it inherits exactly what PostgreSQL would give it, then anything the
 * partition holds of its own is added), persistence and storage options.
 */
#include "backup/pg_schema_int.h"
#include "backup/pg_conn.h"

#include <stdlib.h>
#include <string.h>

static const char *const Q_TABLES =
	"SELECT c.oid, format('%I.%I', n.nspname, c.relname), c.relkind, "
	"c.relpersistence, c.relispartition, "
	"CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, "
	"pg_get_expr(c.relpartbound, c.oid), "
	"(SELECT string_agg(format('%I.%I', pn.nspname, pc.relname), ', ' "
	"ORDER BY i.inhseqno) FROM pg_inherits i JOIN pg_class pc ON pc.oid = "
	"i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace "
	"WHERE i.inhrelid = c.oid), "
	"array_to_string(c.reloptions || (SELECT array_agg('toast.' || o) "
	"FROM pg_class tc, unnest(tc.reloptions) o WHERE tc.oid = "
	"c.reltoastrelid), ', '), "
	"quote_literal(obj_description(c.oid, 'pg_class')), "
	"(SELECT min(i.inhparent) FROM pg_inherits i WHERE i.inhrelid = c.oid), "
	"CASE WHEN am.amname <> 'heap' THEN am.amname END "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"LEFT JOIN pg_am am ON am.oid = c.relam "
	"WHERE c.relkind IN ('r', 'p') AND " USER_NS " AND"
	NOT_EXT("pg_class", "c.oid") "ORDER BY n.nspname, c.relname";

enum { T_OID, T_NAME, T_KIND, T_PERSIST, T_ISPART, T_PARTKEY, T_BOUND,
       T_INHERITS, T_OPTIONS, T_COMMENT, T_PARENT, T_AM };

static const char *const Q_COLUMNS =
	"SELECT a.attrelid, format('%I', a.attname), format_type(a.atttypid, a.atttypmod), "
	"a.attnotnull, a.attislocal, pg_get_expr(d.adbin, d.adrelid), "
	"a.attgenerated, a.attidentity, "
	"CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 "
	"THEN format('%I.%I', cn.nspname, co.collname) END, "
	"quote_literal(col_description(a.attrelid, a.attnum)), "
	"(SELECT format('SEQUENCE NAME %I.%I START WITH %s INCREMENT BY %s "
	"MINVALUE %s MAXVALUE %s CACHE %s%s', sn.nspname, sc.relname, "
	"s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, "
	"CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END) FROM pg_depend dp "
	"JOIN pg_sequence s ON s.seqrelid = dp.objid JOIN pg_class sc ON "
	"sc.oid = s.seqrelid JOIN pg_namespace sn ON sn.oid = sc.relnamespace "
	"WHERE dp.classid = 'pg_class'::regclass AND dp.refobjid = a.attrelid "
	"AND dp.refobjsubid = a.attnum AND dp.deptype = 'i'), "
	"coalesce(a.attstattarget, -1), "
	"CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage END, "
	"array_to_string(a.attoptions, ', '), @COMPRESSION@ "
	"FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"JOIN pg_type t ON t.oid = a.atttypid "
	"LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
	"LEFT JOIN pg_collation co ON co.oid = a.attcollation "
	"LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace "
	"WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped "
	"AND " USER_NS " ORDER BY a.attrelid, a.attnum";

enum { C_REL, C_NAME, C_TYPE, C_NOTNULL, C_LOCAL, C_DEFAULT, C_GENERATED,
       C_IDENTITY, C_COLLATE, C_COMMENT, C_IDOPTS, C_STATS, C_STORAGE,
       C_OPTIONS, C_COMPRESSION };

static const char *const Q_CHECKS =
	"SELECT k.conrelid, format('CONSTRAINT %I %s', k.conname, "
	"pg_get_constraintdef(k.oid)), k.convalidated, k.conislocal, "
	"k.coninhcount, format('%I', k.conname), "
	"quote_literal(obj_description(k.oid, 'pg_constraint')) "
	"FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE k.contype = 'c' AND c.relkind IN ('r', 'p') AND " USER_NS
	" ORDER BY k.conrelid, k.conname";

enum { K_REL, K_DEF, K_VALID, K_LOCAL, K_INHCOUNT, K_NAME, K_COMMENT };

/* The rows of r (sorted by column 0, an oid) that belong to oid. */
static int rows_of(PGresult *r, const char *oid, int *first)
{
	unsigned long want = strtoul(oid, NULL, 10);
	int lo = 0, hi = PQntuples(r), n = 0;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (strtoul(PQgetvalue(r, mid, 0), NULL, 10) < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo + n < PQntuples(r) &&
	       strtoul(PQgetvalue(r, lo + n, 0), NULL, 10) == want)
		n++;
	return n;
}

static int is_true(PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col)[0] == 't';
}

static const char *val(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static const char *storage_word(char c)
{
	switch (c) {
	case 'p': return "PLAIN";
	case 'e': return "EXTERNAL";
	case 'm': return "MAIN";
	default: return "EXTENDED";
	}
}

static void column_def(struct buf *b, PGresult *k, int i)
{
	const char *coll = val(k, i, C_COLLATE), *def = val(k, i, C_DEFAULT);

	buf_printf(b, "    %s %s", PQgetvalue(k, i, C_NAME),
		   PQgetvalue(k, i, C_TYPE));
	if (coll)
		buf_printf(b, " COLLATE %s", coll);
	if (def && PQgetvalue(k, i, C_GENERATED)[0] == 's')
		buf_printf(b, " GENERATED ALWAYS AS (%s) STORED", def);
	else if (def)
		buf_printf(b, " DEFAULT %s", def);
	if (is_true(k, i, C_NOTNULL))
		buf_addstr(b, " NOT NULL");
}

/* What a column holds beyond its definition: identity, statistics target,
 * storage, options, compression, comment.  part: the table is created from
 * its parent, so defaults and NOT NULL that differ are set here too. */
static void column_extra(struct buf *b, const char *table, PGresult *k, int i,
			 int parent_row)
{
	const char *name = PQgetvalue(k, i, C_NAME);
	const char *id = PQgetvalue(k, i, C_IDENTITY);
	const char *v;

	if (parent_row >= -1 && !is_true(k, i, C_LOCAL)) {
		const char *def = val(k, i, C_DEFAULT);
		const char *pdef = parent_row >= 0 ? val(k, parent_row, C_DEFAULT)
						   : NULL;

		if (def && PQgetvalue(k, i, C_GENERATED)[0] != 's' &&
		    (!pdef || strcmp(def, pdef)))
			buf_printf(b, "\nALTER TABLE ONLY %s ALTER COLUMN %s SET "
				   "DEFAULT %s;", table, name, def);
		else if (!def && pdef)
			buf_printf(b, "\nALTER TABLE ONLY %s ALTER COLUMN %s DROP "
				   "DEFAULT;", table, name);
		if (is_true(k, i, C_NOTNULL) &&
		    (parent_row < 0 || !is_true(k, parent_row, C_NOTNULL)))
			buf_printf(b, "\nALTER TABLE ONLY %s ALTER COLUMN %s SET "
				   "NOT NULL;", table, name);
	}
	if ((id[0] == 'a' || id[0] == 'd') && (v = val(k, i, C_IDOPTS)))
		buf_printf(b, "\nALTER TABLE %s ALTER COLUMN %s ADD GENERATED "
			   "%s AS IDENTITY (\n    %s\n);", table, name,
			   id[0] == 'a' ? "ALWAYS" : "BY DEFAULT", v);
	if (pg_num(PQgetvalue(k, i, C_STATS), -1) >= 0)
		buf_printf(b, "\nALTER TABLE ONLY %s ALTER COLUMN %s SET "
			   "STATISTICS %s;", table, name,
			   PQgetvalue(k, i, C_STATS));
	if ((v = val(k, i, C_STORAGE)))
		buf_printf(b, "\nALTER TABLE ONLY %s ALTER COLUMN %s SET "
			   "STORAGE %s;", table, name, storage_word(v[0]));
	if ((v = val(k, i, C_OPTIONS)) && *v)
		buf_printf(b, "\nALTER TABLE ONLY %s ALTER COLUMN %s SET (%s);",
			   table, name, v);
	if ((v = val(k, i, C_COMPRESSION)) && *v)
		buf_printf(b, "\nALTER TABLE ONLY %s ALTER COLUMN %s SET "
			   "COMPRESSION %s;", table, name,
			   v[0] == 'l' ? "lz4" : "pglz");
}

static int parent_column(PGresult *k, const char *parent, const char *name)
{
	int first, n = parent ? rows_of(k, parent, &first) : 0;

	for (int j = 0; j < n; j++)
		if (!strcmp(PQgetvalue(k, first + j, C_NAME), name))
			return first + j;
	return -1;
}

/* Whether a partition's columns come in its parent's order (then it can be
 * created PARTITION OF the parent and comes out the same). */
static int parent_order(PGresult *k, const char *oid, const char *parent)
{
	int cf, pf, nc = rows_of(k, oid, &cf), np = rows_of(k, parent, &pf);

	if (nc != np)
		return 0;
	for (int j = 0; j < nc; j++)
		if (strcmp(PQgetvalue(k, cf + j, C_NAME), PQgetvalue(k, pf + j,
								       C_NAME)))
			return 0;
	return 1;
}

static void build_table(struct buf *b, PGresult *t, int ti, PGresult *k,
			PGresult *chk)
{
	const char *oid = PQgetvalue(t, ti, T_OID);
	const char *name = PQgetvalue(t, ti, T_NAME), *v;
	const char *parent = val(t, ti, T_PARENT);
	int ispart = is_true(t, ti, T_ISPART), attach = 0;
	int kfirst, nk = rows_of(k, oid, &kfirst), cfirst, nc, listed = 0;

	/* A partition whose columns are in another order (it was created on
	 * its own and attached) is created the same way, with everything
	 * ATTACH requires of it: all columns, all CHECKs. */
	if (ispart && parent && !parent_order(k, oid, parent)) {
		ispart = 0;
		attach = 1;
	}

	nc = rows_of(chk, oid, &cfirst);
	buf_printf(b, "CREATE %sTABLE %s", PQgetvalue(t, ti, T_PERSIST)[0] ==
		   'u' ? "UNLOGGED " : "", name);
	if (ispart) {
		buf_printf(b, " PARTITION OF %s\n%s", PQgetvalue(t, ti, T_INHERITS),
			   PQgetvalue(t, ti, T_BOUND));
	} else {
		buf_addstr(b, " (");
		for (int j = 0; j < nk; j++) {
			if (!attach && !is_true(k, kfirst + j, C_LOCAL))
				continue;
			buf_addstr(b, listed++ ? ",\n" : "\n");
			column_def(b, k, kfirst + j);
		}
		for (int j = 0; j < nc; j++) {
			int r = cfirst + j;

			if (!is_true(chk, r, K_VALID) ||
			    (!attach && !is_true(chk, r, K_LOCAL)))
				continue;
			buf_printf(b, "%s    %s", listed++ ? ",\n" : "\n",
				   PQgetvalue(chk, r, K_DEF));
		}
		buf_addstr(b, listed ? "\n)" : ")");
		if (!attach && (v = val(t, ti, T_INHERITS)))
			buf_printf(b, "\nINHERITS (%s)", v);
	}
	if ((v = val(t, ti, T_PARTKEY)))
		buf_printf(b, "\nPARTITION BY %s", v);
	if ((v = val(t, ti, T_AM)))
		buf_printf(b, "\nUSING %s", v);
	if ((v = val(t, ti, T_OPTIONS)) && *v)
		buf_printf(b, "\nWITH (%s)", v);
	buf_addch(b, ';');
	if (attach)
		buf_printf(b, "\nALTER TABLE ONLY %s ATTACH PARTITION %s %s;",
			   PQgetvalue(t, ti, T_INHERITS), name,
			   PQgetvalue(t, ti, T_BOUND));
	for (int j = 0; ispart && j < nc; j++) {
		int r = cfirst + j;

		if (is_true(chk, r, K_VALID) && is_true(chk, r, K_LOCAL) &&
		    !strcmp(PQgetvalue(chk, r, K_INHCOUNT), "0"))
			buf_printf(b, "\nALTER TABLE ONLY %s ADD %s;", name,
				   PQgetvalue(chk, r, K_DEF));
	}
	for (int j = 0; j < nk; j++) {
		int r = kfirst + j;

		column_extra(b, name, k, r, parent && !attach ?
			     parent_column(k, parent, PQgetvalue(k, r, C_NAME)) :
			     -2);
	}
	if ((v = val(t, ti, T_COMMENT)))
		buf_printf(b, "\nCOMMENT ON TABLE %s IS %s;", name, v);
	for (int j = 0; j < nk; j++)
		if ((v = val(k, kfirst + j, C_COMMENT)))
			buf_printf(b, "\nCOMMENT ON COLUMN %s.%s IS %s;", name,
				   PQgetvalue(k, kfirst + j, C_NAME), v);
	for (int j = 0; j < nc; j++)
		if ((v = val(chk, cfirst + j, K_COMMENT)))
			buf_printf(b, "\nCOMMENT ON CONSTRAINT %s ON %s IS %s;",
				   PQgetvalue(chk, cfirst + j, K_NAME), name, v);
}

int pgs_tables(struct pgs_ctx *x, struct pgs_graph *g, struct err *e)
{
	char *qc = pgs_subst(Q_COLUMNS, "@COMPRESSION@", x->version >= 140000 ?
			     "a.attcompression::text" : "NULL::text");
	PGresult *t = NULL, *k = NULL, *chk = NULL;
	struct buf b = BUF_INIT;
	int rc = -1;

	if (!(t = pgs_query(x, Q_TABLES, "tables", e)) ||
	    !(k = pgs_query(x, qc, "columns", e)) ||
	    !(chk = pgs_query(x, Q_CHECKS, "check constraints", e)))
		goto out;
	for (int i = 0; i < PQntuples(t); i++) {
		buf_reset(&b);
		build_table(&b, t, i, k, chk);
		pgs_graph_add(g, 1259, (unsigned)strtoul(PQgetvalue(t, i, T_OID),
							  NULL, 10),
			      "table", PQgetvalue(t, i, T_NAME), buf_str(&b), NULL);
	}
	rc = 0;
out:
	free(qc);
	PQclear(t);
	PQclear(k);
	PQclear(chk);
	buf_release(&b);
	return rc;
}

/*
 * The pre-data half of pg_schema and the script format.  Objects are
 * collected with their DDL (mostly deparsed by the server itself:
 * pg_get_functiondef, pg_get_viewdef, format_type...), then ordered by
 * pg_depend so that whatever was created in whatever order comes back in
 * an order that works; ties keep the order of kinds pg_dump uses.
 */
#include "backup/pg_schema_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct gobj {
	uint64_t key;		/* classid << 32 | oid */
	char *kind, *name, *sql, *xdeps;
	size_t *out;		/* objects that depend on this one */
	size_t nout, capout;
	size_t indeg;
	int done;
};

struct alias {
	uint64_t from, to;
};

struct pgs_graph {
	struct gobj *v;
	size_t n, cap;
	size_t *byk;		/* indexes of v sorted by key */
	struct alias *al;
	size_t nal;
};

static uint64_t key_of(unsigned classid, unsigned oid)
{
	return (uint64_t)classid << 32 | oid;
}

PGresult *pgs_query(struct pgs_ctx *x, const char *sql, const char *what,
		    struct err *e)
{
	PGresult *r = PQexec(x->c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *m = PQerrorMessage(x->c);

		err_set(e, FX_FAIL, "reading %s from the catalogs: "
			"%.*s", what, (int)strcspn(m, "\n"), m);
		PQclear(r);
		return NULL;
	}
	return r;
}

char *pgs_subst(const char *sql, const char *token, const char *val)
{
	struct buf b = BUF_INIT;
	const char *at;

	while ((at = strstr(sql, token))) {
		buf_add(&b, sql, (size_t)(at - sql));
		buf_addstr(&b, val);
		sql = at + strlen(token);
	}
	buf_addstr(&b, sql);
	return buf_detach(&b, NULL);
}

void pgs_graph_add(struct pgs_graph *g, unsigned classid, unsigned oid,
		   const char *kind, const char *name, const char *sql,
		   const char *deps)
{
	struct gobj *o;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 256;
		g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
	}
	o = &g->v[g->n++];
	memset(o, 0, sizeof(*o));
	o->key = key_of(classid, oid);
	o->kind = xstrdup(kind);
	o->name = xstrdup(name);
	o->sql = xstrdup(sql);
	o->xdeps = deps && *deps ? xstrdup(deps) : NULL;
}

static void graph_free(struct pgs_graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].kind);
		free(g->v[i].name);
		free(g->v[i].sql);
		free(g->v[i].xdeps);
		free(g->v[i].out);
	}
	free(g->v);
	free(g->byk);
	free(g->al);
}

/* Rows of (classid, oid, kind, name, sql[, deps]) become objects. */
static int add_rows(struct pgs_ctx *x, struct pgs_graph *g, const char *sql,
		    const char *what, struct err *e)
{
	PGresult *r = pgs_query(x, sql, what, e);

	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		pgs_graph_add(g, (unsigned)strtoul(PQgetvalue(r, i, 0), NULL, 10),
			      (unsigned)strtoul(PQgetvalue(r, i, 1), NULL, 10),
			      PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
			      PQgetvalue(r, i, 4),
			      PQnfields(r) > 5 ? PQgetvalue(r, i, 5) : NULL);
	PQclear(r);
	return 0;
}

static const char *const Q_SCHEMAS =
	"SELECT 'pg_namespace'::regclass::oid, n.oid, 'schema', "
	"format('%I', n.nspname), "
	"CASE WHEN n.nspname = 'public' "
	"THEN format('COMMENT ON SCHEMA public IS %L;', d.description) "
	"ELSE format('CREATE SCHEMA %I;', n.nspname) || "
	COMMENT_SQL("format('SCHEMA %I', n.nspname)", "d.description") " END "
	"FROM pg_namespace n LEFT JOIN pg_description d ON d.objoid = n.oid "
	"AND d.classoid = 'pg_namespace'::regclass "
	"WHERE " USER_NS " AND" NOT_EXT("pg_namespace", "n.oid")
	"ORDER BY n.nspname";

static const char *const Q_EXTENSIONS =
	"SELECT 'pg_extension'::regclass::oid, e.oid, 'extension', "
	"format('%I', e.extname), "
	"format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I VERSION %L;',"
	" e.extname, n.nspname, e.extversion) || "
	COMMENT_SQL("format('EXTENSION %I', e.extname)", "d.description")
	"FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
	"LEFT JOIN pg_description d ON d.objoid = e.oid "
	"AND d.classoid = 'pg_extension'::regclass "
	"WHERE e.extname <> 'plpgsql' ORDER BY e.extname";

/* User collations (%s: the ICU/builtin locale column of this version). */
static const char *const Q_COLLATIONS =
	"SELECT 'pg_collation'::regclass::oid, o.oid, 'collation', "
	"format('%I.%I', n.nspname, o.collname), "
	"format('CREATE COLLATION %I.%I (%s%s);', n.nspname, o.collname, "
	"CASE o.collprovider WHEN 'i' THEN format('provider = icu, locale = %L', "
	"@LOCALE@) WHEN 'b' THEN format('provider = builtin, locale = %L', "
	"@LOCALE@) ELSE format('provider = libc, lc_collate = %L, lc_ctype = "
	"%L', o.collcollate, o.collctype) END, CASE WHEN NOT "
	"o.collisdeterministic THEN ', deterministic = false' ELSE '' END) || "
	COMMENT_SQL("format('COLLATION %I.%I', n.nspname, o.collname)",
		    "obj_description(o.oid, 'pg_collation')")
	"FROM pg_collation o JOIN pg_namespace n ON n.oid = o.collnamespace "
	"WHERE " USER_NS " AND" NOT_EXT("pg_collation", "o.oid")
	"ORDER BY 4";

/* Enums, domains, composite and range types. */
static const char *const Q_TYPES =
	"SELECT 'pg_type'::regclass::oid, t.oid, "
	"CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, "
	"format('%I.%I', n.nspname, t.typname), "
	"CASE t.typtype "
	"WHEN 'e' THEN format('CREATE TYPE %I.%I AS ENUM (%s);', n.nspname, "
	"  t.typname, (SELECT string_agg(quote_literal(l.enumlabel), ', ' "
	"  ORDER BY l.enumsortorder) FROM pg_enum l WHERE l.enumtypid = t.oid))"
	" WHEN 'd' THEN format('CREATE DOMAIN %I.%I AS %s%s%s%s%s;', n.nspname,"
	"  t.typname, format_type(t.typbasetype, t.typtypmod), "
	"  CASE WHEN t.typcollation <> bt.typcollation THEN "
	"  (SELECT format(' COLLATE %I.%I', cn.nspname, co.collname) "
	"  FROM pg_collation co JOIN pg_namespace cn ON cn.oid = "
	"  co.collnamespace WHERE co.oid = t.typcollation) END, "
	"  ' DEFAULT ' || t.typdefault, "
	"  CASE WHEN t.typnotnull THEN ' NOT NULL' END, "
	"  (SELECT string_agg(format(E'\\n    CONSTRAINT %I %s', k.conname, "
	"  pg_get_constraintdef(k.oid)), '' ORDER BY k.conname) "
	"  FROM pg_constraint k WHERE k.contypid = t.oid AND k.convalidated))"
	"  || coalesce((SELECT string_agg(format(E'\\nCOMMENT ON CONSTRAINT %I "
	"  ON DOMAIN %I.%I IS %L;', k.conname, n.nspname, t.typname, "
	"  kd.description), '' ORDER BY k.conname) FROM pg_constraint k "
	"  JOIN pg_description kd ON kd.objoid = k.oid AND kd.classoid = "
	"  'pg_constraint'::regclass WHERE k.contypid = t.oid), '')"
	" WHEN 'c' THEN format(E'CREATE TYPE %I.%I AS (\\n%s\\n);', n.nspname,"
	"  t.typname, (SELECT string_agg(format('    %I %s%s', a.attname, "
	"  format_type(a.atttypid, a.atttypmod), CASE WHEN a.attcollation <> "
	"  at.typcollation THEN (SELECT format(' COLLATE %I.%I', cn.nspname, "
	"  co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = "
	"  co.collnamespace WHERE co.oid = a.attcollation) END), E',\\n' "
	"  ORDER BY a.attnum) FROM pg_attribute a JOIN pg_type at ON at.oid = "
	"  a.atttypid WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT "
	"  a.attisdropped)) || coalesce((SELECT string_agg(format(E'\\nCOMMENT"
	"  ON COLUMN %I.%I.%I IS %L;', n.nspname, t.typname, a.attname, "
	"  col_description(a.attrelid, a.attnum)), '' ORDER BY a.attnum) FROM "
	"  pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND "
	"  col_description(a.attrelid, a.attnum) IS NOT NULL), '')"
	" WHEN 'r' THEN (SELECT format('CREATE TYPE %I.%I AS RANGE (subtype = "
	"  %s%s, subtype_opclass = %I.%I%s%s%s);', n.nspname, t.typname, "
	"  format_type(g.rngsubtype, NULL), @MULTIRANGE@, on_.nspname, "
	"  oc.opcname, "
	"  CASE WHEN g.rngcollation <> 0 AND g.rngcollation <> st.typcollation"
	"  THEN (SELECT format(', collation = %I.%I', cn.nspname, co.collname) "
	"  FROM pg_collation co JOIN pg_namespace cn ON cn.oid = "
	"  co.collnamespace WHERE co.oid = g.rngcollation) END, "
	"  CASE WHEN g.rngcanonical <> 0 THEN ', canonical = ' || "
	"  g.rngcanonical::regproc END, CASE WHEN g.rngsubdiff <> 0 THEN "
	"  ', subtype_diff = ' || g.rngsubdiff::regproc END) FROM pg_range g "
	"  JOIN pg_opclass oc ON oc.oid = g.rngsubopc JOIN pg_namespace on_ ON "
	"  on_.oid = oc.opcnamespace JOIN pg_type st ON st.oid = g.rngsubtype "
	"  WHERE g.rngtypid = t.oid) END || "
	COMMENT_SQL("format('%s %I.%I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' "
		    "ELSE 'TYPE' END, n.nspname, t.typname)", "d.description")
	"FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
	"LEFT JOIN pg_type bt ON bt.oid = t.typbasetype "
	"LEFT JOIN pg_class tc ON tc.oid = t.typrelid "
	"LEFT JOIN pg_description d ON d.objoid = t.oid "
	"AND d.classoid = 'pg_type'::regclass AND d.objsubid = 0 "
	"WHERE " USER_NS " AND" NOT_EXT("pg_type", "t.oid")
	"AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND "
	"tc.relkind = 'c')) ORDER BY n.nspname, t.typname";

/* Functions, procedures and plain aggregates. */
static const char *const Q_FUNCTIONS =
	"SELECT 'pg_proc'::regclass::oid, p.oid, lower(" PROC_WORD "), "
	PROC_SIG ", "
	"CASE WHEN p.prokind = 'a' THEN format('CREATE AGGREGATE %I.%I(%s) ("
	"SFUNC = %s, STYPE = %s%s%s%s%s%s%s%s%s%s%s);', n.nspname, p.proname, "
	"CASE WHEN p.pronargs = 0 THEN '*' ELSE "
	"pg_get_function_arguments(p.oid) END, a.aggtransfn::regproc, "
	"format_type(a.aggtranstype, NULL), "
	"CASE WHEN a.aggtransspace <> 0 THEN ', SSPACE = ' || a.aggtransspace END,"
	"CASE WHEN a.aggfinalfn <> 0 THEN ', FINALFUNC = ' || a.aggfinalfn::regproc END,"
	"CASE WHEN a.aggfinalextra THEN ', FINALFUNC_EXTRA' END, "
	"CASE WHEN a.aggfinalmodify <> 'r' THEN ', FINALFUNC_MODIFY = ' || "
	"CASE a.aggfinalmodify WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,"
	"CASE WHEN a.aggcombinefn <> 0 THEN ', COMBINEFUNC = ' || a.aggcombinefn::regproc END,"
	"CASE WHEN a.aggserialfn <> 0 THEN ', SERIALFUNC = ' || a.aggserialfn::regproc END,"
	"CASE WHEN a.aggdeserialfn <> 0 THEN ', DESERIALFUNC = ' || a.aggdeserialfn::regproc END,"
	"CASE WHEN a.agginitval IS NOT NULL THEN ', INITCOND = ' || quote_literal(a.agginitval) END,"
	"CASE WHEN a.aggsortop <> 0 THEN ', SORTOP = OPERATOR(' || "
	"(SELECT format('%I.%s', on_.nspname, o.oprname) FROM pg_operator o JOIN "
	"pg_namespace on_ ON on_.oid = o.oprnamespace WHERE o.oid = a.aggsortop) "
	"|| ')' END,"
	"CASE p.proparallel WHEN 's' THEN ', PARALLEL = SAFE' WHEN 'r' THEN "
	"', PARALLEL = RESTRICTED' END) "
	"ELSE pg_get_functiondef(p.oid) || ';' END || "
	COMMENT_SQL("format('%s %s', " PROC_WORD ", " PROC_SIG ")", "d.description")
	"FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
	"LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid "
	"LEFT JOIN pg_description d ON d.objoid = p.oid "
	"AND d.classoid = 'pg_proc'::regclass "
	"WHERE " USER_NS " AND" NOT_EXT("pg_proc", "p.oid")
	"AND (p.prokind <> 'a' OR (a.aggkind = 'n' AND a.aggmtransfn = 0)) "
	"ORDER BY n.nspname, p.proname, 4";

/* Sequences other than identity columns' (those come with their table). */
static const char *const Q_SEQUENCES =
	"SELECT 'pg_class'::regclass::oid, c.oid, 'sequence', "
	"format('%I.%I', n.nspname, c.relname), "
	"format('CREATE %sSEQUENCE %I.%I%s START WITH %s INCREMENT BY %s "
	"MINVALUE %s MAXVALUE %s CACHE %s%s;', CASE WHEN c.relpersistence = 'u'"
	" THEN 'UNLOGGED ' END, n.nspname, c.relname, CASE WHEN s.seqtypid <> "
	"'bigint'::regtype THEN ' AS ' || format_type(s.seqtypid, NULL) END, "
	"s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, "
	"CASE WHEN s.seqcycle THEN ' CYCLE' END) || "
	COMMENT_SQL("format('SEQUENCE %I.%I', n.nspname, c.relname)",
		    "obj_description(c.oid, 'pg_class')")
	"FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE " USER_NS " AND" NOT_EXT("pg_class", "c.oid")
	"AND NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = "
	"'pg_class'::regclass AND i.objid = c.oid AND i.deptype = 'i') "
	"ORDER BY n.nspname, c.relname";

/* ALTER SEQUENCE ... OWNED BY, once both the sequence and table exist. */
static const char *const Q_OWNED_BY =
	"SELECT 0, c.oid, 'sequence-owned-by', format('%I.%I', n.nspname, "
	"c.relname), format('ALTER SEQUENCE %I.%I OWNED BY %I.%I.%I;', "
	"n.nspname, c.relname, tn.nspname, t.relname, a.attname), "
	"format('%s:%s %s:%s', d.classid, c.oid, d.refclassid, t.oid) "
	"FROM pg_depend d JOIN pg_class c ON c.oid = d.objid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"JOIN pg_class t ON t.oid = d.refobjid "
	"JOIN pg_namespace tn ON tn.oid = t.relnamespace "
	"JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
	"WHERE d.classid = 'pg_class'::regclass AND d.refclassid = "
	"'pg_class'::regclass AND c.relkind = 'S' AND d.deptype = 'a' AND "
	"d.refobjsubid > 0 AND " USER_NS " AND" NOT_EXT("pg_class", "c.oid")
	"ORDER BY 4";

#define VIEW_OPTS "CASE WHEN c.reloptions IS NOT NULL THEN ' WITH (' || " \
	"array_to_string(c.reloptions, ', ') || ')' END"

static const char *const Q_VIEWS =
	"SELECT 'pg_class'::regclass::oid, c.oid, "
	"CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized-view' END, "
	"format('%I.%I', n.nspname, c.relname), "
	"CASE c.relkind WHEN 'v' THEN format(E'CREATE VIEW %I.%I%s AS\\n%s', "
	"n.nspname, c.relname, " VIEW_OPTS ", pg_get_viewdef(c.oid)) "
	"ELSE format(E'CREATE MATERIALIZED VIEW %I.%I%s AS\\n%s\\n  WITH NO "
	"DATA;', n.nspname, c.relname, " VIEW_OPTS ", "
	"rtrim(pg_get_viewdef(c.oid), ';')) END || "
	COMMENT_SQL("format('%s %I.%I', CASE c.relkind WHEN 'v' THEN 'VIEW' "
		    "ELSE 'MATERIALIZED VIEW' END, n.nspname, c.relname)",
		    "obj_description(c.oid, 'pg_class')")
	"|| coalesce((SELECT string_agg(format(E'\\nCOMMENT ON COLUMN "
	"%I.%I.%I IS %L;', n.nspname, c.relname, a.attname, "
	"col_description(c.oid, a.attnum)), '' ORDER BY a.attnum) FROM "
	"pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND "
	"col_description(c.oid, a.attnum) IS NOT NULL), '') "
	"|| coalesce((SELECT string_agg(format(E'\\nALTER VIEW %I.%I ALTER "
	"COLUMN %I SET DEFAULT %s;', n.nspname, c.relname, a.attname, "
	"pg_get_expr(ad.adbin, ad.adrelid)), '' ORDER BY a.attnum) FROM "
	"pg_attribute a JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND "
	"ad.adnum = a.attnum WHERE a.attrelid = c.oid), '') "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE c.relkind IN ('v', 'm') AND " USER_NS " AND"
	NOT_EXT("pg_class", "c.oid") "ORDER BY n.nspname, c.relname";

/*
 * Catalog rows that stand for an object ferry emits under another name: a
 * table's row type or its array, a column default, a view's rule, a
 * constraint kept inside its table or domain, an identity sequence.
 */
static const char *const Q_ALIASES =
	"SELECT 'pg_type'::regclass::oid, t.oid, 'pg_class'::regclass::oid, "
	"t.typrelid FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid "
	"WHERE t.oid >= 16384 AND c.relkind <> 'c' "
	"UNION ALL SELECT 'pg_class'::regclass::oid, c.oid, "
	"'pg_type'::regclass::oid, c.reltype FROM pg_class c "
	"WHERE c.oid >= 16384 AND c.relkind = 'c' "
	"UNION ALL SELECT 'pg_type'::regclass::oid, t.oid, "
	"'pg_type'::regclass::oid, t.typelem FROM pg_type t "
	"WHERE t.oid >= 16384 AND t.typcategory = 'A' AND t.typelem <> 0 "
	"@MULTIRANGE_ALIAS@ "
	"UNION ALL SELECT 'pg_attrdef'::regclass::oid, a.oid, "
	"'pg_class'::regclass::oid, a.adrelid FROM pg_attrdef a "
	"WHERE a.oid >= 16384 "
	"UNION ALL SELECT 'pg_rewrite'::regclass::oid, r.oid, "
	"'pg_class'::regclass::oid, r.ev_class FROM pg_rewrite r "
	"WHERE r.oid >= 16384 AND r.rulename = '_RETURN' "
	"UNION ALL SELECT 'pg_constraint'::regclass::oid, k.oid, "
	"CASE WHEN k.conrelid <> 0 THEN 'pg_class'::regclass::oid ELSE "
	"'pg_type'::regclass::oid END, CASE WHEN k.conrelid <> 0 THEN "
	"k.conrelid ELSE k.contypid END FROM pg_constraint k "
	"WHERE k.oid >= 16384 AND k.contype = 'c' "
	"UNION ALL SELECT d.classid, d.objid, d.refclassid, d.refobjid "
	"FROM pg_depend d WHERE d.deptype = 'i' AND d.objid >= 16384 "
	"AND d.classid = 'pg_class'::regclass AND d.refclassid = "
	"'pg_class'::regclass";

static const char *const Q_EDGES =
	"SELECT classid, objid, refclassid, refobjid FROM pg_depend "
	"WHERE deptype = 'n' AND objid >= 16384 AND refobjid >= 16384 "
	"UNION ALL SELECT 'pg_class'::regclass::oid, inhrelid, "
	"'pg_class'::regclass::oid, inhparent FROM pg_inherits";

static int add_collations(struct pgs_ctx *x, struct pgs_graph *g,
			  struct err *e)
{
	/* ICU locales moved from collcollate (12-14) to colliculocale (15,
	 * 16) to colllocale (17). */
	char *q = pgs_subst(Q_COLLATIONS, "@LOCALE@", x->version >= 170000 ?
			    "o.colllocale" : x->version >= 150000 ?
			    "o.colliculocale" : "o.collcollate");
	int rc = add_rows(x, g, q, "collations", e);

	free(q);
	return rc;
}

static int add_types(struct pgs_ctx *x, struct pgs_graph *g, struct err *e)
{
	char *q = pgs_subst(Q_TYPES, "@MULTIRANGE@", x->version < 140000 ?
			    "''" : "(SELECT format(', multirange_type_name = "
			    "%I.%I', mn.nspname, mt.typname) FROM pg_type mt "
			    "JOIN pg_namespace mn ON mn.oid = mt.typnamespace "
			    "WHERE mt.oid = g.rngmultitypid)");
	int rc = add_rows(x, g, q, "types", e);

	free(q);
	return rc;
}

static int cmp_key(const void *a, const void *b, void *g)
{
	uint64_t ka = ((struct pgs_graph *)g)->v[*(const size_t *)a].key;
	uint64_t kb = ((struct pgs_graph *)g)->v[*(const size_t *)b].key;

	return ka < kb ? -1 : ka > kb;
}

static int cmp_alias(const void *a, const void *b)
{
	uint64_t ka = ((const struct alias *)a)->from;
	uint64_t kb = ((const struct alias *)b)->from;

	return ka < kb ? -1 : ka > kb;
}

static long find(const struct pgs_graph *g, uint64_t k)
{
	size_t lo = 0, hi = g->n;

	/* Follow aliases to the object that stands for k. */
	for (int step = 0; step < 4; step++) {
		struct alias want = { k, 0 }, *a;

		a = bsearch(&want, g->al, g->nal, sizeof(*g->al), cmp_alias);
		if (!a)
			break;
		k = a->to;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		uint64_t km = g->v[g->byk[mid]].key;

		if (km == k)
			return (long)g->byk[mid];
		if (km < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void add_edge(struct pgs_graph *g, long from, long to)
{
	struct gobj *t;

	if (from < 0 || to < 0 || from == to)
		return;
	t = &g->v[to];
	for (size_t i = 0; i < t->nout; i++)
		if (t->out[i] == (size_t)from)
			return;
	if (t->nout == t->capout) {
		t->capout = t->capout ? t->capout * 2 : 4;
		t->out = xrealloc(t->out, t->capout * sizeof(*t->out));
	}
	t->out[t->nout++] = (size_t)from;
	g->v[from].indeg++;
}

static int load_edges(struct pgs_ctx *x, struct pgs_graph *g, struct err *e)
{
	char *q = pgs_subst(Q_ALIASES, "@MULTIRANGE_ALIAS@",
			    x->version < 140000 ? "" :
			    "UNION ALL SELECT 'pg_type'::regclass::oid, "
			    "g.rngmultitypid, 'pg_type'::regclass::oid, "
			    "g.rngtypid FROM pg_range g WHERE g.rngtypid >= 16384");
	PGresult *r = pgs_query(x, q, "dependencies", e);

	free(q);
	if (!r)
		return -1;
	g->nal = (size_t)PQntuples(r);
	g->al = xcalloc(g->nal + 1, sizeof(*g->al));
	for (size_t i = 0; i < g->nal; i++) {
		g->al[i].from = key_of(strtoul(PQgetvalue(r, (int)i, 0), NULL, 10),
				       strtoul(PQgetvalue(r, (int)i, 1), NULL, 10));
		g->al[i].to = key_of(strtoul(PQgetvalue(r, (int)i, 2), NULL, 10),
				     strtoul(PQgetvalue(r, (int)i, 3), NULL, 10));
	}
	PQclear(r);
	if (g->nal)
		qsort(g->al, g->nal, sizeof(*g->al), cmp_alias);
	g->byk = xmalloc((g->n + 1) * sizeof(*g->byk));
	for (size_t i = 0; i < g->n; i++)
		g->byk[i] = i;
	qsort_r(g->byk, g->n, sizeof(*g->byk), cmp_key, g);

	if (!(r = pgs_query(x, Q_EDGES, "dependencies", e)))
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		add_edge(g, find(g, key_of(strtoul(PQgetvalue(r, i, 0), NULL, 10),
					   strtoul(PQgetvalue(r, i, 1), NULL, 10))),
			 find(g, key_of(strtoul(PQgetvalue(r, i, 2), NULL, 10),
					strtoul(PQgetvalue(r, i, 3), NULL, 10))));
	PQclear(r);
	for (size_t i = 0; i < g->n; i++) {
		const char *p = g->v[i].xdeps;
		unsigned cls, oid;
		int used;

		while (p && sscanf(p, "%u:%u%n", &cls, &oid, &used) == 2) {
			add_edge(g, (long)i, find(g, key_of(cls, oid)));
			p += used;
		}
	}
	return 0;
}

/* Kahn's algorithm; among ready objects the earliest collected goes first,
 * and a cycle (which PostgreSQL itself would not allow between these
 * kinds) is broken at its earliest object rather than looping. */
static void emit_sorted(struct pgs_graph *g, struct pgs_out *o,
			struct buf *matviews)
{
	for (size_t left = g->n; left > 0; left--) {
		long pick = -1;

		for (size_t i = 0; i < g->n && pick < 0; i++)
			if (!g->v[i].done && g->v[i].indeg == 0)
				pick = (long)i;
		for (size_t i = 0; i < g->n && pick < 0; i++)
			if (!g->v[i].done)
				pick = (long)i;
		g->v[pick].done = 1;
		for (size_t j = 0; j < g->v[pick].nout; j++)
			if (g->v[g->v[pick].out[j]].indeg)
				g->v[g->v[pick].out[j]].indeg--;
		pgs_emit(o, "pre", g->v[pick].kind, g->v[pick].name,
			 g->v[pick].sql);
		if (!strcmp(g->v[pick].kind, "materialized-view"))
			buf_printf(matviews, "%s\n", g->v[pick].name);
	}
}

static const char *const Q_POPULATED =
	"SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
	"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' "
	"AND c.relispopulated";

/* REFRESH in dependency order, for the ones that held data. */
static int emit_refresh(struct pgs_ctx *x, struct pgs_out *o,
			const struct buf *order, struct err *e)
{
	PGresult *r = pgs_query(x, Q_POPULATED, "materialized views", e);
	const char *p = buf_str(order);

	if (!r)
		return -1;
	while (*p) {
		size_t n = strcspn(p, "\n");

		for (int i = 0; i < PQntuples(r); i++) {
			const char *name = PQgetvalue(r, i, 0);

			if (strlen(name) == n && !strncmp(name, p, n)) {
				char *sql = xstrfmt("REFRESH MATERIALIZED VIEW "
						    "%s;", name);

				pgs_emit(o, "refresh", "materialized-view",
					 name, sql);
				free(sql);
			}
		}
		p += n + (p[n] == '\n');
	}
	PQclear(r);
	return 0;
}

int pgs_dump(PGconn *c, int owners, struct buf *pre, struct buf *post,
	     json_t *unsupported, struct err *e)
{
	struct pgs_ctx x = { c, PQserverVersion(c), owners, unsupported };
	struct pgs_out po = { pre, 0 }, qo = { post, 0 };
	struct pgs_graph g = { 0 };
	struct buf matviews = BUF_INIT;
	int rc = -1;

	if (x.version < 120000) {
		err_set(e, FX_FAIL, "postgres: server version %d is older than "
			"12, which ferry does not support", x.version);
		goto out;
	}
	if (add_rows(&x, &g, Q_SCHEMAS, "schemas", e) < 0 ||
	    add_rows(&x, &g, Q_EXTENSIONS, "extensions", e) < 0 ||
	    add_collations(&x, &g, e) < 0 ||
	    add_types(&x, &g, e) < 0 ||
	    add_rows(&x, &g, Q_FUNCTIONS, "functions", e) < 0 ||
	    add_rows(&x, &g, Q_SEQUENCES, "sequences", e) < 0 ||
	    pgs_tables(&x, &g, e) < 0 ||
	    add_rows(&x, &g, Q_VIEWS, "views", e) < 0 ||
	    add_rows(&x, &g, Q_OWNED_BY, "sequence owners", e) < 0 ||
	    load_edges(&x, &g, e) < 0)
		goto out;
	buf_addstr(pre, "-- ferry: pre-data (run with search_path = '' and "
		   "check_function_bodies = off)\n\n");
	emit_sorted(&g, &po, &matviews);
	buf_addstr(post, "-- ferry: post-data\n\n");
	if (pgs_post(&x, &qo, e) < 0 || emit_refresh(&x, &qo, &matviews, e) < 0 ||
	    pgs_acl(&x, &qo, e) < 0 || pgs_unsupported(&x, e) < 0)
		goto out;
	rc = 0;
out:
	buf_release(&matviews);
	graph_free(&g);
	return rc;
}

/*
 * The post-data half of pg_schema: what pg_dump also leaves until the data
 * is in (constraints and indexes, foreign keys, triggers, rules, policies),
 * then sequence values, ownership and grants, and the list of what ferry
 * does not reproduce.
 */
#include "backup/pg_schema_int.h"

#include <stdlib.h>
#include <string.h>

#define REL "format('%I.%I', n.nspname, c.relname)"

/*
 * A primary key or unique constraint that ALTER TABLE ... USING INDEX can
 * adopt: on a plain table, immediate, a b-tree of plain key columns.  Its
 * index is built by CREATE UNIQUE INDEX, which takes only a SHARE lock, so
 * it builds beside the table's other indexes instead of queueing behind
 * the ACCESS EXCLUSIVE lock of ADD CONSTRAINT (which pg_restore waits for).
 */
#define ADOPTABLE \
	" k.contype IN ('p', 'u') AND c.relkind = 'r' AND NOT k.condeferrable " \
	"AND EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = " \
	"i.indexrelid JOIN pg_am am ON am.oid = ic.relam WHERE i.indexrelid = " \
	"k.conindid AND am.amname = 'btree' AND i.indexprs IS NULL AND " \
	"i.indpred IS NULL AND i.indnkeyatts = i.indnatts AND ic.relname = " \
	"k.conname) "
#define CONSTRAINT_COMMENT \
	COMMENT_SQL("format('CONSTRAINT %I ON %I.%I', k.conname, n.nspname, " \
		    "c.relname)", "obj_description(k.oid, 'pg_constraint')")

/* Indexes and the constraints that own one; parallel at restore, the
 * biggest first (their size on the source stands for their build time) so
 * that the longest builds do not start last. */
static const char *const Q_INDEX =
	"SELECT -pg_relation_size(k.conindid), 'constraint-index', format('%I on "
	"%I.%I', k.conname, n.nspname, c.relname), "
	"pg_get_indexdef(k.conindid) || ';' "
	"FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE" ADOPTABLE "AND " USER_NS " AND" NOT_EXT("pg_class", "c.oid")
	"UNION ALL SELECT -pg_relation_size(k.conindid), 'constraint', "
	"format('%I on %I.%I', k.conname, n.nspname, "
	"c.relname), format('ALTER TABLE ONLY %I.%I ADD CONSTRAINT %I %s;', "
	"n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid)) || "
	CONSTRAINT_COMMENT
	"FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE k.contype IN ('p', 'u', 'x') AND NOT (" ADOPTABLE ") AND "
	USER_NS " AND" NOT_EXT("pg_class", "c.oid")
	"UNION ALL SELECT -pg_relation_size(i.indexrelid), 'index', "
	"format('%I.%I', n.nspname, ic.relname), "
	"pg_get_indexdef(i.indexrelid) || ';' || coalesce((SELECT "
	"string_agg(format(E'\\nALTER INDEX %I.%I ALTER COLUMN %s SET "
	"STATISTICS %s;', n.nspname, ic.relname, a.attnum, a.attstattarget), "
	"'' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = ic.oid "
	"AND a.attstattarget > 0), '') || "
	COMMENT_SQL("format('INDEX %I.%I', n.nspname, ic.relname)",
		    "obj_description(ic.oid, 'pg_class')")
	"FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
	"JOIN pg_class c ON c.oid = i.indrelid "
	"JOIN pg_namespace n ON n.oid = ic.relnamespace "
	"WHERE c.relkind IN ('r', 'p', 'm') AND " USER_NS " AND"
	NOT_EXT("pg_class", "c.oid")
	"AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = "
	"i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN "
	"('p', 'u', 'x')) ORDER BY 1, 3";

/* A partition's index joins its parent's once both exist; an adoptable
 * constraint (above) takes its index over. */
static const char *const Q_ATTACH =
	"SELECT 'index-attach', format('%I.%I', cn.nspname, cc.relname), "
	"format('ALTER INDEX %I.%I ATTACH PARTITION %I.%I;', pn.nspname, "
	"pc.relname, cn.nspname, cc.relname) FROM pg_inherits i "
	"JOIN pg_class cc ON cc.oid = i.inhrelid "
	"JOIN pg_namespace cn ON cn.oid = cc.relnamespace "
	"JOIN pg_class pc ON pc.oid = i.inhparent "
	"JOIN pg_namespace pn ON pn.oid = pc.relnamespace "
	"WHERE cc.relkind IN ('i', 'I') "
	"UNION ALL SELECT 'constraint', format('%I on %I.%I', k.conname, "
	"n.nspname, c.relname), format('ALTER TABLE ONLY %I.%I ADD CONSTRAINT "
	"%I %s USING INDEX %I;', n.nspname, c.relname, k.conname, CASE "
	"k.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, k.conname) || "
	CONSTRAINT_COMMENT
	"FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE" ADOPTABLE "AND " USER_NS " AND" NOT_EXT("pg_class", "c.oid")
	"ORDER BY 1, 2";

/* Foreign keys and constraints that were never validated. */
static const char *const Q_FK =
	"SELECT CASE k.contype WHEN 'f' THEN 'foreign-key' ELSE "
	"'check-not-valid' END, format('%I on %I.%I', k.conname, n.nspname, "
	"c.relname), format('ALTER TABLE %s%I.%I ADD CONSTRAINT %I %s;', "
	"CASE WHEN c.relkind = 'p' OR k.contype = 'c' THEN '' ELSE 'ONLY ' END,"
	" n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid)) || "
	CONSTRAINT_COMMENT
	"FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE ((k.contype = 'f' AND k.conparentid = 0) OR (k.contype = 'c' "
	"AND NOT k.convalidated AND k.conislocal)) AND " USER_NS " AND"
	NOT_EXT("pg_class", "c.oid")
	"UNION ALL SELECT 'domain-check-not-valid', format('%I on %I.%I', "
	"k.conname, n.nspname, t.typname), format('ALTER DOMAIN %I.%I ADD "
	"CONSTRAINT %I %s;', n.nspname, t.typname, k.conname, "
	"pg_get_constraintdef(k.oid)) FROM pg_constraint k JOIN pg_type t ON "
	"t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace "
	"WHERE NOT k.convalidated AND " USER_NS " AND" NOT_EXT("pg_type", "t.oid")
	"ORDER BY 1, 2";

static const char *const Q_POST =
	"SELECT 1, 'trigger', format('%I on %I.%I', g.tgname, n.nspname, "
	"c.relname), pg_get_triggerdef(g.oid) || ';' || CASE g.tgenabled "
	"WHEN 'D' THEN format(E'\\nALTER TABLE %I.%I DISABLE TRIGGER %I;', "
	"n.nspname, c.relname, g.tgname) WHEN 'R' THEN format(E'\\nALTER TABLE "
	"%I.%I ENABLE REPLICA TRIGGER %I;', n.nspname, c.relname, g.tgname) "
	"WHEN 'A' THEN format(E'\\nALTER TABLE %I.%I ENABLE ALWAYS TRIGGER %I;',"
	" n.nspname, c.relname, g.tgname) ELSE '' END || "
	COMMENT_SQL("format('TRIGGER %I ON %I.%I', g.tgname, n.nspname, "
		    "c.relname)", "obj_description(g.oid, 'pg_trigger')")
	"FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE NOT g.tgisinternal AND @TGPARENT@ AND " USER_NS " AND"
	NOT_EXT("pg_class", "c.oid")
	"UNION ALL SELECT 2, 'rule', format('%I on %I.%I', r.rulename, "
	"n.nspname, c.relname), pg_get_ruledef(r.oid) || CASE r.ev_enabled "
	"WHEN 'D' THEN format(E'\\nALTER TABLE %I.%I DISABLE RULE %I;', "
	"n.nspname, c.relname, r.rulename) ELSE '' END || "
	COMMENT_SQL("format('RULE %I ON %I.%I', r.rulename, n.nspname, "
		    "c.relname)", "obj_description(r.oid, 'pg_rewrite')")
	"FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE r.rulename <> '_RETURN' AND " USER_NS " AND"
	NOT_EXT("pg_class", "c.oid")
	"UNION ALL SELECT 3, 'row-security', " REL ", "
	"format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY;', n.nspname, "
	"c.relname) || CASE WHEN c.relforcerowsecurity THEN format(E'\\nALTER "
	"TABLE %I.%I FORCE ROW LEVEL SECURITY;', n.nspname, c.relname) ELSE '' "
	"END FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE c.relrowsecurity AND " USER_NS
	" UNION ALL SELECT 4, 'policy', format('%I on %I.%I', p.polname, "
	"n.nspname, c.relname), format('CREATE POLICY %I ON %I.%I AS %s FOR %s "
	"TO %s%s%s;', p.polname, n.nspname, c.relname, CASE WHEN "
	"p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END, CASE "
	"p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN "
	"'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END, (SELECT "
	"string_agg(CASE WHEN u.r = 0 THEN 'PUBLIC' ELSE "
	"quote_ident(pg_get_userbyid(u.r)) END, ', ' ORDER BY u.i) FROM "
	"unnest(p.polroles) WITH ORDINALITY u(r, i)), ' USING (' || "
	"pg_get_expr(p.polqual, p.polrelid) || ')', ' WITH CHECK (' || "
	"pg_get_expr(p.polwithcheck, p.polrelid) || ')') || "
	COMMENT_SQL("format('POLICY %I ON %I.%I', p.polname, n.nspname, "
		    "c.relname)", "obj_description(p.oid, 'pg_policy')")
	"FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " USER_NS
	" UNION ALL SELECT 5, 'replica-identity', " REL ", format('ALTER TABLE "
	"ONLY %I.%I REPLICA IDENTITY %s;', n.nspname, c.relname, CASE "
	"c.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING' ELSE "
	"(SELECT format('USING INDEX %I', ic.relname) FROM pg_index i JOIN "
	"pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND "
	"i.indisreplident) END) FROM pg_class c JOIN pg_namespace n ON n.oid = "
	"c.relnamespace WHERE c.relkind IN ('r', 'p', 'm') AND c.relreplident "
	"<> 'd' AND " USER_NS
	" UNION ALL SELECT 6, 'cluster', " REL ", format('ALTER TABLE %I.%I "
	"CLUSTER ON %I;', n.nspname, c.relname, ic.relname) FROM pg_index i "
	"JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = "
	"i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
	"i.indisclustered AND " USER_NS
	" UNION ALL SELECT 7, 'statistics', format('%I.%I', n.nspname, "
	"s.stxname), pg_get_statisticsobjdef(s.oid) || ';' || "
	COMMENT_SQL("format('STATISTICS %I.%I', n.nspname, s.stxname)",
		    "obj_description(s.oid, 'pg_statistic_ext')")
	"FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = "
	"s.stxnamespace WHERE " USER_NS " AND" NOT_EXT("pg_statistic_ext", "s.oid")
	"ORDER BY 1, 3";

/* Every sequence's position, identity columns' included. */
static const char *const Q_SEQVAL =
	"SELECT 'sequence-value', " REL ", format('SELECT pg_catalog.setval(%L, "
	"%s, %s);', " REL ", coalesce(pg_sequence_last_value(c.oid), "
	"s.seqstart), CASE WHEN pg_sequence_last_value(c.oid) IS NULL THEN "
	"'false' ELSE 'true' END) "
	"FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " USER_NS " AND"
	NOT_EXT_MEMBER("pg_class", "c.oid") "ORDER BY 2";

/*
 * Owners, then the ACL rebuilt from nothing in its own order (REVOKE ALL
 * from PUBLIC and the owner, then every privilege as aclexplode() lists
 * it), so the restored aclitem[] is the source's.  A sequence that belongs
 * to a column follows its table's owner.
 */
static const char *const Q_ACL =
	"WITH o(word, gword, name, owner, acl, linked) AS ("
	"SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' "
	"WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, CASE c.relkind "
	"WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, " REL ", c.relowner, "
	"c.relacl, c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE "
	"d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN "
	"('a', 'i') AND d.refobjsubid > 0) FROM pg_class c JOIN pg_namespace n "
	"ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
	"AND " USER_NS " AND" NOT_EXT("pg_class", "c.oid")
	"UNION ALL SELECT 'SCHEMA', 'SCHEMA', format('%I', n.nspname), "
	"n.nspowner, n.nspacl, false FROM pg_namespace n WHERE " USER_NS " AND"
	NOT_EXT("pg_namespace", "n.oid")
	"UNION ALL SELECT " PROC_WORD ", CASE p.prokind WHEN 'p' THEN "
	"'PROCEDURE' ELSE 'FUNCTION' END, " PROC_SIG ", p.proowner, p.proacl, "
	"false FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
	"WHERE " USER_NS " AND" NOT_EXT("pg_proc", "p.oid")
	"UNION ALL SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' "
	"END, 'TYPE', format('%I.%I', n.nspname, t.typname), t.typowner, "
	"t.typacl, false FROM pg_type t JOIN pg_namespace n ON n.oid = "
	"t.typnamespace LEFT JOIN pg_class tc ON tc.oid = t.typrelid WHERE "
	USER_NS " AND" NOT_EXT("pg_type", "t.oid") "AND (t.typtype IN ('e', "
	"'d', 'r') OR (t.typtype = 'c' AND tc.relkind = 'c'))) "
	"SELECT 'acl', lower(o.word) || ' ' || o.name, concat_ws(E'\\n', "
	"CASE WHEN NOT o.linked THEN format('ALTER %s %s OWNER TO %I;', "
	"o.word, o.name, pg_get_userbyid(o.owner)) END, CASE WHEN o.acl IS "
	"NOT NULL THEN format(E'REVOKE ALL ON %s %s FROM PUBLIC;\\nREVOKE ALL "
	"ON %s %s FROM %I;', o.gword, o.name, o.gword, o.name, "
	"pg_get_userbyid(o.owner)) || coalesce((SELECT string_agg(format("
	"E'\\nGRANT %s ON %s %s TO %s%s;', a.privilege_type, o.gword, o.name, "
	"CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE "
	"quote_ident(pg_get_userbyid(a.grantee)) END, CASE WHEN a.is_grantable "
	"THEN ' WITH GRANT OPTION' ELSE '' END), '' ORDER BY a.ord) FROM "
	"aclexplode(o.acl) WITH ORDINALITY a(grantor, grantee, privilege_type, "
	"is_grantable, ord)), '') END) FROM o ORDER BY 2";

#define U_NS(kind, cat, col, nscol) \
	" UNION ALL SELECT '" kind "', format('%I.%s', n.nspname, o." col ") " \
	"FROM " cat " o JOIN pg_namespace n ON n.oid = o." nscol " WHERE " \
	USER_NS " AND" NOT_EXT(cat, "o.oid")
#define U_GLOBAL(kind, cat, col, cond) \
	" UNION ALL SELECT '" kind "', o." col "::text FROM " cat " o WHERE " \
	cond " AND" NOT_EXT(cat, "o.oid")

static const char *const Q_UNSUPPORTED =
	"SELECT 'operator', format('%I.%s', n.nspname, o.oprname) FROM "
	"pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE "
	USER_NS " AND" NOT_EXT("pg_operator", "o.oid")
	U_NS("operator class", "pg_opclass", "opcname", "opcnamespace")
	U_NS("operator family", "pg_opfamily", "opfname", "opfnamespace")
	U_NS("text search configuration", "pg_ts_config", "cfgname", "cfgnamespace")
	U_NS("text search dictionary", "pg_ts_dict", "dictname", "dictnamespace")
	U_NS("text search parser", "pg_ts_parser", "prsname", "prsnamespace")
	U_NS("text search template", "pg_ts_template", "tmplname", "tmplnamespace")
	U_NS("conversion", "pg_conversion", "conname", "connamespace")
	U_GLOBAL("cast", "pg_cast", "oid", "o.oid >= 16384")
	U_GLOBAL("event trigger", "pg_event_trigger", "evtname", "true")
	U_GLOBAL("foreign server", "pg_foreign_server", "srvname", "true")
	U_GLOBAL("foreign-data wrapper", "pg_foreign_data_wrapper", "fdwname",
		 "true")
	U_GLOBAL("publication", "pg_publication", "pubname", "true")
	U_GLOBAL("language", "pg_language", "lanname", "o.oid >= 16384")
	U_GLOBAL("access method", "pg_am", "amname", "o.oid >= 16384")
	U_GLOBAL("transform", "pg_transform", "oid", "true")
	" UNION ALL SELECT 'large object', o.oid::text FROM "
	"pg_largeobject_metadata o"
	" UNION ALL SELECT 'default privileges', "
	"pg_get_userbyid(o.defaclrole) FROM pg_default_acl o"
	" UNION ALL SELECT 'security label', o.provider FROM pg_seclabel o"
	" UNION ALL SELECT 'subscription', o.subname::text FROM pg_subscription o "
	"WHERE o.subdbid = (SELECT oid FROM pg_database WHERE datname = "
	"current_database())"
	" UNION ALL SELECT CASE c.relkind WHEN 'f' THEN 'foreign table' WHEN "
	"'c' THEN 'composite type' ELSE 'typed table' END, " REL " FROM pg_class "
	"c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE (c.relkind = "
	"'f' OR (c.reloftype <> 0 AND c.relkind IN ('r', 'p'))) AND " USER_NS
	" AND" NOT_EXT("pg_class", "c.oid")
	" UNION ALL SELECT 'identity sequence privileges', " REL " FROM "
	"pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
	"c.relkind = 'S' AND c.relacl IS NOT NULL AND EXISTS (SELECT 1 FROM "
	"pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = "
	"c.oid AND d.deptype = 'i') AND " USER_NS
	" UNION ALL SELECT 'tablespace', " REL " FROM pg_class c JOIN "
	"pg_namespace n ON n.oid = c.relnamespace WHERE c.reltablespace <> 0 "
	"AND " USER_NS
	" UNION ALL SELECT 'column privileges', format('%I.%I.%I', n.nspname, "
	"c.relname, a.attname) FROM pg_attribute a JOIN pg_class c ON c.oid = "
	"a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
	"a.attacl IS NOT NULL AND " USER_NS
	" UNION ALL SELECT 'aggregate', format('%I.%I', n.nspname, p.proname) "
	"FROM pg_proc p JOIN pg_aggregate g ON g.aggfnoid = p.oid JOIN "
	"pg_namespace n ON n.oid = p.pronamespace WHERE (g.aggkind <> 'n' OR "
	"g.aggmtransfn <> 0) AND " USER_NS " AND" NOT_EXT("pg_proc", "p.oid")
	" UNION ALL SELECT 'base type', format('%I.%I', n.nspname, t.typname) "
	"FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE "
	"t.typtype IN ('b', 'p') AND t.typcategory <> 'A' AND " USER_NS " AND"
	NOT_EXT("pg_type", "t.oid")
	" UNION ALL SELECT 'extension configuration data', e.extname FROM "
	"pg_extension e WHERE e.extconfig IS NOT NULL "
	"ORDER BY 1, 2";

/* Rows of (kind, name, sql) as items of phase; a leading column of ranks
 * is skipped when skip is 1. */
static int emit_rows(struct pgs_ctx *x, struct pgs_out *o, const char *phase,
		     const char *sql, int skip, struct err *e)
{
	PGresult *r = pgs_query(x, sql, phase, e);

	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		if (*PQgetvalue(r, i, skip + 2))
			pgs_emit(o, phase, PQgetvalue(r, i, skip),
				 PQgetvalue(r, i, skip + 1),
				 PQgetvalue(r, i, skip + 2));
	PQclear(r);
	return 0;
}

int pgs_post(struct pgs_ctx *x, struct pgs_out *o, struct err *e)
{
	/* PostgreSQL 12 marked a partition's clone of its parent's trigger
	 * internal; 13 has tgparentid. */
	char *post = pgs_subst(Q_POST, "@TGPARENT@", x->version >= 130000 ?
			       "g.tgparentid = 0" : "true");
	int rc = -1;

	if (emit_rows(x, o, "index", Q_INDEX, 1, e) < 0 ||
	    emit_rows(x, o, "attach", Q_ATTACH, 0, e) < 0 ||
	    emit_rows(x, o, "fk", Q_FK, 0, e) < 0 ||
	    emit_rows(x, o, "post", post, 1, e) < 0 ||
	    emit_rows(x, o, "seqval", Q_SEQVAL, 0, e) < 0)
		goto out;
	rc = 0;
out:
	free(post);
	return rc;
}

int pgs_acl(struct pgs_ctx *x, struct pgs_out *o, struct err *e)
{
	return x->owners ? emit_rows(x, o, "acl", Q_ACL, 0, e) : 0;
}

int pgs_unsupported(struct pgs_ctx *x, struct err *e)
{
	PGresult *r = pgs_query(x, Q_UNSUPPORTED, "object kinds", e);

	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		json_array_append_new(x->unsupported, json_pack("{s:s, s:s}",
			"kind", PQgetvalue(r, i, 0), "name", PQgetvalue(r, i, 1)));
	PQclear(r);
	return 0;
}

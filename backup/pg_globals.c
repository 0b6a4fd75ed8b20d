/*
 * postgres/globals.sql: the cluster's roles (attributes, memberships,
 * per-role settings, comments), written so that running it again, or on a
 * server where some roles exist, converges instead of failing.  Password
 * hashes only when include_passwords = yes (they need pg_authid, i.e. a
 * superuser).
 */
#include "backup/pg_globals.h"

#include <stdlib.h>
#include <string.h>

#include "backup/pg_conn.h"
#include "backup/pg_schema_int.h"

static const char *const Q_ROLES =
	"SELECT 'role', format('%I', r.rolname), format(E'DO $ferry$BEGIN "
	"CREATE ROLE %I; EXCEPTION WHEN duplicate_object THEN NULL; "
	"END$ferry$;\\nALTER ROLE %I WITH %sSUPERUSER %sINHERIT %sCREATEROLE "
	"%sCREATEDB %sLOGIN %sREPLICATION %sBYPASSRLS CONNECTION LIMIT %s%s%s;',"
	" r.rolname, r.rolname, CASE WHEN r.rolsuper THEN '' ELSE 'NO' END, "
	"CASE WHEN r.rolinherit THEN '' ELSE 'NO' END, CASE WHEN "
	"r.rolcreaterole THEN '' ELSE 'NO' END, CASE WHEN r.rolcreatedb THEN '' "
	"ELSE 'NO' END, CASE WHEN r.rolcanlogin THEN '' ELSE 'NO' END, CASE "
	"WHEN r.rolreplication THEN '' ELSE 'NO' END, CASE WHEN r.rolbypassrls "
	"THEN '' ELSE 'NO' END, r.rolconnlimit, ' VALID UNTIL ' || "
	"quote_literal(r.rolvaliduntil), @PASSWORD@) || "
	COMMENT_SQL("format('ROLE %I', r.rolname)",
		    "shobj_description(r.oid, 'pg_authid')")
	"|| coalesce((SELECT string_agg(format(E'\\nALTER ROLE %I SET %s TO %L;',"
	" r.rolname, split_part(s.cfg, '=', 1), substr(s.cfg, strpos(s.cfg, "
	"'=') + 1)), '') FROM pg_db_role_setting d, unnest(d.setconfig) s(cfg) "
	"WHERE d.setrole = r.oid AND d.setdatabase = 0), '') "
	"FROM @ROLES@ r WHERE r.rolname !~ '^pg_' ORDER BY r.rolname";

static const char *const Q_MEMBERS =
	"SELECT 'membership', format('%I in %I', m.rolname, g.rolname), "
	"format('GRANT %I TO %I%s;', g.rolname, m.rolname, CASE WHEN "
	"a.admin_option THEN ' WITH ADMIN OPTION' ELSE '' END) "
	"FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
	"JOIN pg_roles m ON m.oid = a.member WHERE m.rolname !~ '^pg_' "
	"ORDER BY 2";

static int emit(PGconn *c, struct pgs_out *o, const char *sql, struct err *e)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *m = PQerrorMessage(c);

		err_set(e, FX_FAIL, "postgres: reading roles: %.*s",
			(int)strcspn(m, "\n"), m);
		PQclear(r);
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++)
		pgs_emit(o, "globals", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
			 PQgetvalue(r, i, 2));
	PQclear(r);
	return 0;
}

int pg_globals(PGconn *c, int passwords, struct buf *out, struct err *e)
{
	struct pgs_out o = { out, 0 };
	char *q1 = pgs_subst(Q_ROLES, "@PASSWORD@", passwords ?
			     "' PASSWORD ' || quote_literal(r.rolpassword)" :
			     "''");
	char *q = pgs_subst(q1, "@ROLES@", passwords ? "pg_authid" : "pg_roles");
	int rc;

	buf_addstr(out, "-- ferry: roles of the cluster\n\n");
	rc = emit(c, &o, q, e);
	if (rc == 0)
		rc = emit(c, &o, Q_MEMBERS, e);
	if (rc < 0 && passwords)
		err_wrap(e, "include_passwords = yes needs a superuser");
	free(q1);
	free(q);
	return rc;
}

json_t *pg_db_info(PGconn *c, const char *db, struct err *e)
{
	PGresult *r = pg_query(c, "SELECT pg_encoding_to_char(d.encoding), "
		"d.datcollate, d.datctype, shobj_description(d.oid, "
		"'pg_database'), (SELECT json_agg(json_build_object('role', "
		"CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) "
		"END, 'name', split_part(cfg, '=', 1), 'value', substr(cfg, "
		"strpos(cfg, '=') + 1))) FROM pg_db_role_setting s, "
		"unnest(s.setconfig) cfg WHERE s.setdatabase = d.oid) "
		"FROM pg_database d WHERE d.datname = current_database()", db, e);
	json_t *j;

	if (!r)
		return NULL;
	j = json_pack("{s:s, s:s, s:s}", "encoding", PQgetvalue(r, 0, 0),
		      "collate", PQgetvalue(r, 0, 1), "ctype", PQgetvalue(r, 0, 2));
	if (!PQgetisnull(r, 0, 3))
		json_object_set_new(j, "comment", json_string(PQgetvalue(r, 0, 3)));
	if (!PQgetisnull(r, 0, 4))
		json_object_set_new(j, "settings", json_loads(PQgetvalue(r, 0, 4),
							      0, NULL));
	PQclear(r);
	return j;
}

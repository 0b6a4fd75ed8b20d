/* ferry config: the effective values, their origins, secrets masked. */
#include <jansson.h>
#include <string.h>

#include "conf/conf_internal.h"

static const char *shown(const struct val *v)
{
	return (v->key->flags & CK_SECRET) && v->value ? "********" : v->value;
}

/* One row: a key's value or a value shown in its place (conf_shown); a
 * broken value shows its problem where it would be (it is listed on
 * stderr too). */
static void dump_row(const char *sect, const char *name, const char *value,
		     const char *origin, const char *error, FILE *out,
		     json_t *root)
{
	json_t *sec;

	if (!root) {
		struct buf one = BUF_INIT;

		/* A list's items are kept a line each: one row shows them
		 * as the file may write them. */
		for (const char *p = value ? value : ""; *p; p++)
			if (*p == '\n')
				buf_addstr(&one, ", ");
			else
				buf_addch(&one, *p);
		fprintf(out, "%-17s = %-28s ; %s\n", name,
			error ? "(error)" : buf_str(&one),
			error ? error : origin);
		buf_release(&one);
		return;
	}
	sec = json_object_get(root, sect);
	if (!sec) {
		sec = json_object();
		json_object_set_new(root, sect, sec);
	}
	json_object_set_new(sec, name, json_pack("{s:s?, s:s, s:s*}", "value",
						 error ? NULL : value, "origin",
						 origin, "error", error));
}

static void dump_val(const struct val *v, FILE *out, json_t *root)
{
	dump_row(v->section, v->key->name, shown(v),
		 v->origin ? v->origin : "unset", v->error, out, root);
}

static const struct conf_shown *find_row(const struct conf_shown *rows,
					 size_t n, const char *sect,
					 const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].section, sect) && !strcmp(rows[i].name, name))
			return &rows[i];
	return NULL;
}

static void dump_section(const struct conf *c, const char *sect, FILE *out,
			 json_t *root, const struct conf_shown *rows, size_t n)
{
	if (!root)
		fprintf(out, "\n[%s]\n", sect);
	for (size_t k = 0; k < conf_nkeys; k++) {
		const struct conf_shown *row;
		const struct val *v;

		if (!conf_section_matches(conf_keys[k].section, sect))
			continue;
		v = conf_find_val(c, sect, conf_keys[k].name);
		row = find_row(rows, n, sect, conf_keys[k].name);
		/* What the file sets is what counts. */
		if (row && !(v && v->line > 0))
			dump_row(sect, row->name, row->value, row->origin,
				 NULL, out, root);
		else if (v)
			dump_val(v, out, root);
	}
	for (size_t i = 0; i < n; i++) {
		int is_key = 0;

		if (strcmp(rows[i].section, sect))
			continue;
		for (size_t k = 0; k < conf_nkeys && !is_key; k++)
			is_key = conf_section_matches(conf_keys[k].section, sect) &&
				 !strcmp(conf_keys[k].name, rows[i].name);
		if (!is_key)
			dump_row(sect, rows[i].name, rows[i].value,
				 rows[i].origin, NULL, out, root);
	}
}

/* The parts every command has; the others ([offsite], [postgres], ...)
 * are off until the file has their section, and their defaults shown
 * without it would read as if they were on. */
static int always_on(const char *sect)
{
	static const char *const on[] = { "server", "project", "deploy",
		"backup", "log" };

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		if (!strcmp(sect, on[i]))
			return 1;
	return 0;
}

void conf_dump(const struct conf *c, FILE *out, int json)
{
	conf_dump_shown(c, out, json, NULL, 0);
}

void conf_dump_shown(const struct conf *c, FILE *out, int json,
		     const struct conf_shown *rows, size_t n)
{
	json_t *root = json ? json_object() : NULL;
	struct strlist done = STRLIST_INIT;

	if (root)
		json_object_set_new(root, "file", json_string(c->path));
	else
		fprintf(out, "; effective configuration from %s\n", c->path);
	/* Sections in table order; [group.*] instances in file order. */
	for (size_t s = 0; conf_sections[s]; s++) {
		for (size_t i = 0; i < c->n; i++) {
			const char *name = c->v[i].section;
			int seen = 0;

			if (!conf_section_matches(conf_sections[s], name))
				continue;
			for (size_t d = 0; d < done.n && !seen; d++)
				seen = !strcmp(done.v[d], name);
			if (seen || (!always_on(name) &&
				     !conf_has_section(c, name)))
				continue;
			strlist_add(&done, name);
			dump_section(c, name, out, root, rows, n);
		}
	}
	strlist_release(&done);
	if (root) {
		json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		json_decref(root);
	}
}

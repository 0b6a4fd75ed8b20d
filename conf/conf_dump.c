/* ferry config: the effective values, their origins, secrets masked. */
#include <jansson.h>
#include <string.h>

#include "conf/conf_internal.h"

static const char *shown(const struct val *v)
{
	return (v->key->flags & CK_SECRET) && v->value ? "********" : v->value;
}

static void dump_val(const struct val *v, FILE *out, json_t *root)
{
	json_t *sec;

	if (!root) {
		/* A broken value shows its problem where it would be (it is
		 * listed on stderr too). */
		fprintf(out, "%-17s = %-28s ; %s\n", v->key->name,
			v->error ? "(error)" : shown(v) ? shown(v) : "",
			v->error ? v->error : v->origin);
		return;
	}
	sec = json_object_get(root, v->section);
	if (!sec) {
		sec = json_object();
		json_object_set_new(root, v->section, sec);
	}
	json_object_set_new(sec, v->key->name,
			    json_pack("{s:s?, s:s, s:s*}", "value",
				      v->error ? NULL : shown(v), "origin",
				      v->origin ? v->origin : "unset", "error",
				      v->error));
}

static void dump_section(const struct conf *c, const char *sect, FILE *out,
			 json_t *root)
{
	if (!root)
		fprintf(out, "\n[%s]\n", sect);
	for (size_t k = 0; k < conf_nkeys; k++) {
		const struct val *v;

		if (!conf_section_matches(conf_keys[k].section, sect))
			continue;
		v = conf_find_val(c, sect, conf_keys[k].name);
		if (v)
			dump_val(v, out, root);
	}
}

void conf_dump(const struct conf *c, FILE *out, int json)
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
			if (seen)
				continue;
			strlist_add(&done, name);
			dump_section(c, name, out, root);
		}
	}
	strlist_release(&done);
	if (root) {
		json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		json_decref(root);
	}
}

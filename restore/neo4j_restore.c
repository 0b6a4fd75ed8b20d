/*
 * The neo4j restorer: picks the way back the archive's mode needs and
 * hands every call to it.
 */
#include "restore/neo4j_restore.h"

#include <stdlib.h>
#include <string.h>

struct disp {
	const struct restorer *r;
	void *state;
};

static int known_elsewhere(struct rs_ctx *x, const char *name, size_t len)
{
	json_t *dbs = json_object_get(json_object_get(json_object_get(
		x->manifest, "components"), "postgres"), "databases");
	const char *k;
	json_t *v;

	json_object_foreach(dbs, k, v)
		if (strlen(k) == len && !strncmp(k, name, len))
			return 1;
	return 0;
}

int nr_targets(struct rs_ctx *x, json_t *detail, struct nr_target **out,
	       size_t *n, struct err *e)
{
	json_t *dbs = json_object_get(detail, "databases"), *v;
	const struct strlist *map = x->o->dbmap;
	struct nr_target *t = xcalloc(json_object_size(dbs) + 1, sizeof(*t));
	const char *k;
	size_t i = 0;

	json_object_foreach(dbs, k, v) {
		t[i].src = k;
		t[i].dst = xstrdup(k);
		t[i].info = v;
		t[i].selected = !map || map->n == 0;
		i++;
	}
	*out = t;
	*n = i;
	if (!i)
		return err_set(e, FX_FAIL, "the archive holds no neo4j database "
			       "to restore");
	for (size_t m = 0; map && m < map->n; m++) {
		const char *eq = strchr(map->v[m], '=');
		size_t len = eq ? (size_t)(eq - map->v[m]) : 0, j;

		if (!eq || !len || !eq[1])
			return err_set(e, FX_USAGE, "--db %s: expected SRC=DST",
				       map->v[m]);
		for (j = 0; j < i; j++)
			if (strlen(t[j].src) == len &&
			    !strncmp(t[j].src, map->v[m], len))
				break;
		if (j == i) {
			json_t *why = json_object_getn(json_object_get(detail,
				"failed_databases"), map->v[m], len);

			if (why)
				return err_set(e, FX_FAIL, "--db %s: neo4j database "
					       "'%.*s' is not in the archive: its "
					       "backup failed (%s)", map->v[m],
					       (int)len, map->v[m],
					       json_string_value(why) ?: "");
			/* Another component's database (postgres says so
			 * itself when it has none of that name). */
			if (known_elsewhere(x, map->v[m], len))
				continue;
			return err_set(e, FX_USAGE, "--db %s: the archive has no "
				       "database '%.*s'", map->v[m], (int)len,
				       map->v[m]);
		}
		t[j].selected = 1;
		free(t[j].dst);
		t[j].dst = xstrdup(eq + 1);
	}
	return 0;
}

void nr_targets_free(struct nr_target *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		free(t[i].dst);
	free(t);
}

size_t nr_selected(const struct nr_target *t, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += t[i].selected != 0;
	return k;
}

static int nr_begin(struct rs_ctx *x, json_t *detail, void **out,
		    struct err *e)
{
	struct disp *d = xcalloc(1, sizeof(*d));
	const char *mode = json_string_value(json_object_get(detail, "mode"));

	*out = d;
	if (mode && !strcmp(mode, "dump"))
		d->r = &neo4j_load_restorer;
	else if (mode && !strcmp(mode, "cypher"))
		d->r = &neo4j_import_restorer;
	else
		return err_set(e, FX_VERIFY, "the manifest's neo4j component "
			       "has no known mode ('%s')", mode ? mode : "");
	return d->r->begin(x, detail, &d->state, e);
}

static int nr_act(void *state, struct err *e)
{
	struct disp *d = state;

	return d->r->act ? d->r->act(d->state, e) : 0;
}

static int nr_member(void *state, struct rs_member *m, struct err *e)
{
	struct disp *d = state;

	return d->r->member(d->state, m, e);
}

static int nr_checked(void *state, struct err *e)
{
	struct disp *d = state;

	return d->r->checked(d->state, e);
}

static int nr_end(void *state, struct err *e)
{
	struct disp *d = state;

	return d->r->end(d->state, e);
}

static void nr_abandon(void *state, struct err *e)
{
	struct disp *d = state;

	if (d->r && d->state)
		d->r->abandon(d->state, e);
}

static void nr_free(void *state)
{
	struct disp *d = state;

	if (!d)
		return;
	if (d->r)
		d->r->free(d->state);
	free(d);
}

const struct restorer neo4j_restorer = {
	"neo4j", nr_begin, nr_act, nr_member, nr_checked, nr_end, nr_abandon, nr_free,
};

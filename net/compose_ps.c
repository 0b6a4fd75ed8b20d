/*
 * The project's containers as compose v2's `ps --format json` and the
 * engine's `docker inspect` (for v1) describe them, in one shape.
 */
#include "net/compose.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *str_at(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static struct compose_ctr *add(struct compose_ctrs *l)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

static int by_name(const void *a, const void *b)
{
	const struct compose_ctr *x = a, *y = b;
	int c = strcmp(x->service, y->service);

	return c ? c : strcmp(x->name, y->name);
}

static void add_v2(struct compose_ctrs *l, json_t *o)
{
	struct compose_ctr *c = add(l);
	const char *name = str_at(o, "Name"), *project = str_at(o, "Project");
	size_t plen = strlen(project);

	c->container = xstrdup(name);
	/* "proj-web-1" is "web-1" in compose's log prefix */
	if (plen && !strncmp(name, project, plen) &&
	    (name[plen] == '-' || name[plen] == '_'))
		name += plen + 1;
	c->project = xstrdup(project);
	c->service = xstrdup(str_at(o, "Service"));
	c->name = xstrdup(name);
	c->id = xstrdup(str_at(o, "ID"));
	c->state = xstrdup(str_at(o, "State"));
	c->health = xstrdup(str_at(o, "Health"));
	c->exit_code = (int)json_integer_value(json_object_get(o, "ExitCode"));
}

int compose_parse_ps(const char *text, struct compose_ctrs *out,
		     struct err *e)
{
	json_error_t je;
	json_t *all = json_loads(text, JSON_DECODE_ANY, &je);
	const char *p = text;
	size_t i;
	json_t *o;

	memset(out, 0, sizeof(*out));
	/* Before 2.21 one array; since, one object a line. */
	if (all && json_is_array(all)) {
		json_array_foreach(all, i, o)
			if (json_is_object(o))
				add_v2(out, o);
		json_decref(all);
		goto sort;
	}
	json_decref(all);
	while (*p) {
		size_t len = strcspn(p, "\n");

		if (len && strspn(p, " \t\r") < len) {
			o = json_loadb(p, len, 0, &je);
			if (!json_is_object(o)) {
				json_decref(o);
				compose_ctrs_release(out);
				return err_set(e, FX_REMOTE, "compose ps: not JSON: "
					       "%.80s", p);
			}
			add_v2(out, o);
			json_decref(o);
		}
		p += len + (p[len] == '\n');
	}
sort:
	if (out->n)
		qsort(out->v, out->n, sizeof(out->v[0]), by_name);
	return 0;
}

int compose_parse_inspect(const char *text, struct compose_ctrs *out,
			  struct err *e)
{
	json_error_t je;
	json_t *all = json_loads(text, 0, &je), *o;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_array(all)) {
		json_decref(all);
		return err_set(e, FX_REMOTE, "docker inspect: not a JSON array "
			       "(%s)", je.text);
	}
	json_array_foreach(all, i, o) {
		json_t *labels = json_object_get(json_object_get(o, "Config"),
						 "Labels");
		json_t *state = json_object_get(o, "State");
		const char *svc = str_at(labels, "com.docker.compose.service");
		const char *num = str_at(labels,
					 "com.docker.compose.container-number");
		const char *name = str_at(o, "Name");
		struct compose_ctr *c;

		if (!json_is_object(o))
			continue;
		c = add(out);
		c->container = xstrdup(name + (*name == '/'));
		c->project = xstrdup(str_at(labels, "com.docker.compose.project"));
		c->service = xstrdup(svc);
		/* v1's log prefix is SERVICE_NUMBER */
		c->name = *svc && *num ? xstrfmt("%s_%s", svc, num) :
			xstrdup(name + (*name == '/'));
		c->id = xstrdup(str_at(o, "Id"));
		c->state = xstrdup(str_at(state, "Status"));
		c->health = xstrdup(str_at(json_object_get(state, "Health"),
					   "Status"));
		c->exit_code = (int)json_integer_value(json_object_get(state,
								       "ExitCode"));
	}
	json_decref(all);
	if (out->n)
		qsort(out->v, out->n, sizeof(out->v[0]), by_name);
	return 0;
}

void compose_ctrs_release(struct compose_ctrs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].project);
		free(l->v[i].service);
		free(l->v[i].name);
		free(l->v[i].container);
		free(l->v[i].id);
		free(l->v[i].state);
		free(l->v[i].health);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

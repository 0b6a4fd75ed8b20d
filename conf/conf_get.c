/*
 * Reading the configuration: the accessors, and the two ways its problems
 * come out -- conf_need() for the sections a command is about to use, and
 * conf_problems() for `ferry config` and `ferry check`, which list them all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_internal.h"

static void (*unchecked)(const char *msg);

void conf_on_unchecked(void (*fn)(const char *msg))
{
	unchecked = fn;
}

/* Every accessor comes here: a broken value read without conf_need()
 * first is ferry's bug (a command that did not say what it uses), but the
 * user's problem is still the value: the handler names it and ends the
 * program rather than let a command act on a wrong value. */
static const struct val *find(const struct conf *c, const char *sect,
			      const char *key)
{
	if (!conf_find_key(sect, key)) {
		/* A typo in ferry's own code, not in the user's file. */
		fprintf(stderr, "ferry: bug: unknown config key %s.%s\n", sect, key);
		abort();
	}
	return conf_find_val(c, sect, key);
}

static const struct val *get(const struct conf *c, const char *sect,
			     const char *key)
{
	const struct val *v = find(c, sect, key);

	if (v && v->error) {
		if (unchecked)
			unchecked(v->error);
		else {
			fprintf(stderr, "ferry: bug: [%s] %s read unchecked: %s\n",
				sect, key, v->error);
			abort();
		}
		return NULL;
	}
	return v;
}

int conf_need(const struct conf *c, const char *sect, const char *key,
	      struct err *e)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct val *v = &c->v[i];

		if (v->error && conf_section_matches(sect, v->section) &&
		    (!key || !strcmp(key, v->key->name)))
			return err_set(e, FX_USAGE, "%s", v->error);
	}
	return 0;
}

size_t conf_problems(const struct conf *c, const char *sect,
		     struct strlist *out)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++) {
		const char *why = c->v[i].error;
		int seen = 0;

		if (!why || (sect && !conf_section_matches(sect, c->v[i].section)))
			continue;
		/* A default derived from a broken value repeats its error. */
		for (size_t j = 0; j < out->n && !seen; j++)
			seen = !strcmp(out->v[j], why);
		if (!seen) {
			strlist_add(out, why);
			n++;
		}
	}
	return n;
}

const char *conf_path(const struct conf *c)
{
	return c->path;
}

const char *conf_str(const struct conf *c, const char *sect, const char *key)
{
	const struct val *v = get(c, sect, key);

	return v ? v->value : NULL;
}

long long conf_num(const struct conf *c, const char *sect, const char *key)
{
	const struct val *v = get(c, sect, key);

	return v ? v->num : 0;
}

void conf_list(const struct conf *c, const char *sect, const char *key,
	       struct strlist *out)
{
	const struct val *v = get(c, sect, key);

	if (v && v->value)
		strlist_split(out, v->value);
}

void conf_sections_like(const struct conf *c, const char *pattern,
			struct strlist *out)
{
	for (size_t i = 0; i < c->sections.n; i++) {
		int seen = 0;

		if (!conf_section_matches(pattern, c->sections.v[i]))
			continue;
		for (size_t k = 0; k < out->n && !seen; k++)
			seen = !strcmp(out->v[k], c->sections.v[i]);
		if (!seen)
			strlist_add(out, c->sections.v[i]);
	}
}

int conf_has_section(const struct conf *c, const char *sect)
{
	return conf_section_line(c, sect) > 0;
}

int conf_is_set(const struct conf *c, const char *sect, const char *key)
{
	const struct val *v = find(c, sect, key);

	return v && v->line > 0;
}

const char *conf_origin(const struct conf *c, const char *sect,
			const char *key)
{
	const struct val *v = find(c, sect, key);

	return v && v->origin ? v->origin : "unset";
}

int conf_is_local(const struct conf *c)
{
	const char *h = conf_str(c, "server", "host");

	return h && !strcmp(h, "local");
}

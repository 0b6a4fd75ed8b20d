#include "conf/dotenv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/expand.h"

/* Reads a whole small file; .env files are tiny, so this is no slurp risk. */
#define DOTENV_MAX (1 << 20)

const char *dotenv_get(const struct dotenv *env, const char *key)
{
	for (size_t i = env->keys.n; i-- > 0;)
		if (!strcmp(env->keys.v[i], key))
			return env->values.v[i];
	return NULL;
}

static const char *lookup(void *ctx, const char *name)
{
	const char *v = getenv(name);

	return v ? v : dotenv_get(ctx, name);
}

static int key_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

struct cursor {
	const char *p;
	int line;
	const char *path;
};

static void skip_blanks(struct cursor *c)
{
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
}

static void skip_line(struct cursor *c)
{
	while (*c->p && *c->p != '\n')
		c->p++;
	if (*c->p == '\n') {
		c->p++;
		c->line++;
	}
}

static int quoted(struct cursor *c, char q, struct buf *raw, int *expand,
		  struct err *e)
{
	int start = c->line;

	c->p++;
	*expand = q == '"';
	while (*c->p && *c->p != q) {
		if (*c->p == '\n')
			c->line++;
		if (q == '"' && *c->p == '\\' && c->p[1]) {
			static const char from[] = "ntr\"\\$";
			static const char to[] = "\n\t\r\"\\$";
			const char *hit = strchr(from, c->p[1]);

			if (hit && c->p[1] == '$') {
				/* Escaped dollar must survive expansion. */
				buf_addstr(raw, "$$");
				c->p += 2;
				continue;
			}
			if (hit) {
				buf_addch(raw, to[hit - from]);
				c->p += 2;
				continue;
			}
		}
		buf_addch(raw, *c->p++);
	}
	if (*c->p != q)
		return err_set(e, FX_USAGE, "%s:%d: unterminated %c-quoted value",
			       c->path, start, q);
	c->p++;
	skip_blanks(c);
	if (*c->p && *c->p != '\n' && *c->p != '#' && *c->p != '\r')
		return err_set(e, FX_USAGE, "%s:%d: unexpected text after the "
			       "closing quote", c->path, c->line);
	return 0;
}

static void unquoted(struct cursor *c, struct buf *raw)
{
	const char *start = c->p, *end;

	while (*c->p && *c->p != '\n') {
		if (*c->p == '#' && c->p > start &&
		    (c->p[-1] == ' ' || c->p[-1] == '\t'))
			break;
		c->p++;
	}
	end = c->p;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	buf_add(raw, start, (size_t)(end - start));
}

static int parse_entry(struct dotenv *env, struct cursor *c, struct err *e)
{
	struct buf raw = BUF_INIT, val = BUF_INIT, why = BUF_INIT;
	const char *k;
	char *key = NULL;
	int expand = 1, line = c->line, r = 0;

	if (!strncmp(c->p, "export", 6) && (c->p[6] == ' ' || c->p[6] == '\t')) {
		c->p += 6;
		skip_blanks(c);
	}
	k = c->p;
	while (key_char(*c->p))
		c->p++;
	if (c->p == k) {
		r = err_set(e, FX_USAGE, "%s:%d: expected KEY=VALUE", c->path, line);
		goto out;
	}
	key = xstrndup(k, (size_t)(c->p - k));
	skip_blanks(c);
	if (*c->p == '\n' || *c->p == '\0' || *c->p == '#') {
		const char *v = getenv(key);

		if (v) {
			strlist_add(&env->keys, key);
			strlist_add(&env->values, v);
		}
		skip_line(c);
		goto out;
	}
	if (*c->p != '=') {
		r = err_set(e, FX_USAGE, "%s:%d: expected '=' after '%s'", c->path,
			    line, key);
		goto out;
	}
	c->p++;
	skip_blanks(c);
	if (*c->p == '"' || *c->p == '\'') {
		r = quoted(c, *c->p, &raw, &expand, e);
		if (r < 0)
			goto out;
	} else {
		unquoted(c, &raw);
	}
	skip_line(c);
	if (expand) {
		if (expand_vars(buf_str(&raw), &val, lookup, env, &why, NULL) < 0) {
			r = err_set(e, FX_USAGE, "%s:%d: %s", c->path, line,
				    buf_str(&why));
			goto out;
		}
	} else {
		buf_add(&val, raw.p ? raw.p : "", raw.len);
	}
	strlist_add(&env->keys, key);
	strlist_add_take(&env->values, buf_detach(&val, NULL));
out:
	free(key);
	buf_wipe(&raw);
	buf_wipe(&val);
	buf_release(&why);
	return r;
}

int dotenv_parse(struct dotenv *env, const char *text, const char *path,
		 struct err *e)
{
	struct cursor c = { text, 1, path };

	while (*c.p) {
		skip_blanks(&c);
		if (*c.p == '\r')
			c.p++;
		if (*c.p == '\n' || *c.p == '#') {
			skip_line(&c);
			continue;
		}
		if (!*c.p)
			break;
		if (parse_entry(env, &c, e) < 0)
			return -1;
	}
	return 0;
}

int dotenv_load(struct dotenv *env, const char *path, struct err *e)
{
	struct buf text = BUF_INIT;
	char chunk[4096];
	FILE *f = fopen(path, "re");
	size_t n;
	int r;

	if (!f)
		return err_set(e, FX_USAGE, "env file %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_add(&text, chunk, n);
		if (text.len > DOTENV_MAX) {
			fclose(f);
			buf_wipe(&text);
			return err_set(e, FX_USAGE, "env file %s: larger than 1 MiB",
				       path);
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (ferror(f)) {
		fclose(f);
		buf_wipe(&text);
		return err_set(e, FX_USAGE, "env file %s: read error", path);
	}
	fclose(f);
	r = dotenv_parse(env, buf_str(&text), path, e);
	buf_wipe(&text);
	return r;
}

void dotenv_release(struct dotenv *env)
{
	for (size_t i = 0; i < env->values.n; i++)
		explicit_bzero(env->values.v[i], strlen(env->values.v[i]));
	strlist_release(&env->keys);
	strlist_release(&env->values);
}

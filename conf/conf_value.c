/*
 * Resolving values: quotes, ${VAR} (environment first, then [project]
 * env_file), *_file secrets, types, paths, existence, then the defaults,
 * remembering where each value came from (OpenSSH readconf.c: unset, file,
 * default).  A value that cannot be resolved keeps its error instead of
 * failing the load, so a broken [neo4j] password never stops a command
 * that does not use [neo4j] (conf_need() raises it where it matters).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cron.h"
#include "util/log.h"
#include "util/value.h"
#include "conf/conf_internal.h"
#include "conf/dotenv.h"
#include "conf/expand.h"

#define SECRET_FILE_MAX 65536

static void problem(struct conf *c, struct val *v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records why v cannot be used (the first reason only). */
static void problem(struct conf *c, struct val *v, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	if (v->error)
		return;
	if (v->line > 0)
		buf_printf(&b, "%s:%d: ", c->path, v->line);
	else
		buf_printf(&b, "%s: ", c->path);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	v->error = buf_detach(&b, NULL);
}

struct lookup_ctx {
	const struct dotenv *env;
	int from_env, from_dotenv;
};

static const char *lookup(void *ctx, const char *name)
{
	struct lookup_ctx *l = ctx;
	const char *v = getenv(name);

	if (v) {
		l->from_env++;
		return v;
	}
	v = l->env ? dotenv_get(l->env, name) : NULL;
	if (v)
		l->from_dotenv++;
	return v;
}

static char *resolve_path(const struct conf *c, const char *p)
{
	const char *home = getenv("HOME");

	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0') && home)
		return xstrfmt("%s%s", home, p + 1);
	if (p[0] == '/' || !c->dir)
		return xstrdup(p);
	if (!strcmp(p, "."))
		return xstrdup(c->dir);
	return xstrfmt("%s/%s", c->dir, p[0] == '.' && p[1] == '/' ? p + 2 : p);
}

static int is_list(const struct conf_key *k)
{
	return k->type == CT_LIST || k->type == CT_PATHS;
}

/* 1 when s (of n bytes) is wrapped in one pair of matching quotes. */
static int quoted(const char *s, size_t n)
{
	return n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0];
}

/* 1 when s opens a quote it does not close: dir = "/srv/x with the
 * closing one forgotten would otherwise be a relative path named '"/srv/x'. */
static int unclosed(const char *s, size_t n)
{
	return n >= 1 && (s[0] == '"' || s[0] == '\'') && !quoted(s, n);
}

/* One list value as written: "a, b" as a whole (one pair around it, none
 * inside), or its items one by one ("a", 'b').  Items end up one a line;
 * *bad: the first item left with an unclosed quote, or NULL (caller
 * frees). */
static void unquote_list(const char *s, size_t n, struct buf *out, char **bad)
{
	struct strlist items = STRLIST_INIT;
	char *whole;

	if (quoted(s, n) && !memchr(s + 1, s[0], n - 2))
		whole = xstrndup(s + 1, n - 2);
	else
		whole = xstrndup(s, n);
	strlist_split(&items, whole);
	for (size_t i = 0; i < items.n; i++) {
		const char *it = items.v[i];
		size_t len = strlen(it);

		if (out->len)
			buf_addch(out, '\n');
		if (!*bad && unclosed(it, len))
			*bad = xstrdup(it);
		if (quoted(it, len))
			buf_add(out, it + 1, len - 2);
		else
			buf_add(out, it, len);
	}
	strlist_release(&items);
	free(whole);
}

/*
 * Quotes are the file's syntax, not part of the value: a value wrapped in
 * matching "..." or '...' loses them, the same for every key (a list's
 * items one by one: "a", "b"), before ${VAR} expands -- so a variable's
 * own quotes stay.  Inside, nothing changes: ${VAR} expands in either kind.
 */
static void unquote(const struct val *v, struct buf *out, char **bad)
{
	const char *s = v->raw;
	size_t n = strlen(s);

	*bad = NULL;
	if (!is_list(v->key)) {
		if (quoted(s, n))
			buf_add(out, s + 1, n - 2);
		else
			buf_addstr(out, s);
		if (unclosed(s, n))
			*bad = xstrdup(s);
		return;
	}
	/* A repeated key's values are one a line. */
	for (const char *p = s; *p;) {
		size_t len = strcspn(p, "\n");

		unquote_list(p, len, out, bad);
		p += len + (p[len] == '\n');
	}
}

static int read_secret_file(struct conf *c, struct val *v, const char *path,
			    struct buf *out)
{
	char chunk[4096];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		problem(c, v, "%s_file in [%s]: cannot read %s: %s", v->key->name,
			v->section, path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
	       out->len < SECRET_FILE_MAX)
		buf_add(out, chunk, n);
	explicit_bzero(chunk, sizeof(chunk));
	fclose(f);
	/* Files written by editors and `echo` end in a newline that is not
	 * part of the secret. */
	while (out->len && (out->p[out->len - 1] == '\n' ||
			    out->p[out->len - 1] == '\r'))
		buf_setlen(out, out->len - 1);
	return 0;
}

static int check_enum(const char *choices, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = choices; p && *p;) {
		size_t len = strcspn(p, "|");

		if (len == n && !strncmp(p, s, n))
			return 0;
		p += len + (p[len] == '|');
	}
	return -1;
}

/* Fills v->num; on a bad value returns what was expected, else NULL. */
static const char *check_type(struct val *v, char *expect, size_t size)
{
	const struct conf_key *k = v->key;
	const char *s = v->value;
	long long lo, hi;

	switch (k->type) {
	case CT_INT:
		if (sscanf(k->choices, "%lld..%lld", &lo, &hi) != 2)
			lo = LLONG_MIN, hi = LLONG_MAX;
		if (value_int(s, lo, hi, &v->num) == 0)
			return NULL;
		snprintf(expect, size, "a whole number from %lld to %lld", lo, hi);
		return expect;
	case CT_PORT:
		return value_port(s, &v->num) == 0 ? NULL :
			"a port number from 1 to 65535";
	case CT_BOOL:
		return value_bool(s, &v->num) == 0 ? NULL : "yes or no";
	case CT_DURATION:
		return value_duration_ms(s, &v->num) == 0 ? NULL :
			"a duration such as 30s, 5m or 1h";
	case CT_ENUM:
		if (check_enum(k->choices, s) == 0)
			return NULL;
		snprintf(expect, size, "one of %s", k->choices);
		return expect;
	case CT_URL:
		/* A repeatable key holds one value a line. */
		for (const char *p = s; *p;) {
			size_t len = strcspn(p, "\n");

			if (strncmp(p, "http://", 7) && strncmp(p, "https://", 8))
				return "an http:// or https:// URL";
			p += len + (p[len] == '\n');
		}
		return NULL;
	case CT_S3URL:
		return !strncmp(s, "s3://", 5) && s[5] && s[5] != '/' ? NULL :
			"s3://bucket/prefix";
	case CT_CRON:		/* check_cron() says more */
	case CT_STR:
	case CT_LIST:
	case CT_PATH:
	case CT_PATHS:
		break;
	}
	return NULL;
}

/* A cron expression, or one of the key's words ("after-backup"): the
 * parser's own reason names the field at fault. */
static void check_cron(struct conf *c, struct val *v)
{
	struct cron cr = CRON_INIT;
	struct err ce = ERR_INIT;
	const char *words = v->key->choices;

	if (words && check_enum(words, v->value) == 0)
		return;
	if (cron_parse(v->value, &cr, &ce) == 0) {
		cron_release(&cr);
		return;
	}
	problem(c, v, "bad value '%s' for %s in [%s]: %s%s%s", v->value,
		v->key->name, v->section, ce.msg,
		words ? "; expected a cron expression or " : "",
		words ? words : "");
}

static void resolve_paths(struct conf *c, struct val *v)
{
	struct strlist items = STRLIST_INIT;
	struct buf joined = BUF_INIT;

	if (v->key->type == CT_PATH) {
		char *p = resolve_path(c, v->value);

		free(v->value);
		v->value = p;
		return;
	}
	strlist_split(&items, v->value);
	for (size_t i = 0; i < items.n; i++) {
		char *p = resolve_path(c, items.v[i]);

		buf_printf(&joined, "%s%s", i ? "," : "", p);
		free(p);
	}
	strlist_release(&items);
	free(v->value);
	v->value = buf_detach(&joined, NULL);
}

/* CK_DIR and CK_FILE: the path must be there now, so a typo is met at
 * its line, not as "no keys found" or a sync of nothing. */
static void check_exists(struct conf *c, struct val *v)
{
	struct strlist items = STRLIST_INIT;
	struct stat st;

	if (!(v->key->flags & (CK_DIR | CK_FILE)))
		return;
	strlist_split(&items, v->value);
	for (size_t i = 0; i < items.n && !v->error; i++) {
		const char *p = items.v[i];

		if (stat(p, &st) < 0)
			problem(c, v, "%s in [%s]: %s: %s", v->key->name,
				v->section, p, strerror(errno));
		else if ((v->key->flags & CK_DIR) && !S_ISDIR(st.st_mode))
			problem(c, v, "%s in [%s]: %s is not a directory",
				v->key->name, v->section, p);
		else if ((v->key->flags & CK_FILE) && S_ISDIR(st.st_mode))
			problem(c, v, "%s in [%s]: %s is a directory, not a file",
				v->key->name, v->section, p);
		else if ((v->key->flags & CK_FILE) && access(p, R_OK) < 0)
			problem(c, v, "%s in [%s]: cannot read %s: %s",
				v->key->name, v->section, p, strerror(errno));
	}
	strlist_release(&items);
}

/* The part of a bad value to show: of a repeated key's values (one a
 * line), the first that is not a URL -- an error stays one line. */
static const char *bad_item(const struct val *v, int *len)
{
	const char *p = v->value;

	if (v->key->type == CT_URL) {
		while (*p) {
			size_t n = strcspn(p, "\n");

			if (strncmp(p, "http://", 7) && strncmp(p, "https://", 8)) {
				*len = (int)n;
				return p;
			}
			p += n + (p[n] == '\n');
		}
		p = v->value;
	}
	*len = (int)strlen(p);
	return p;
}

/* Types, paths and existence of a value that has its text. */
static void finish_text(struct conf *c, struct val *v)
{
	char expect[128];
	const char *want, *item;
	int len;

	if (v->key->type == CT_PATH || v->key->type == CT_PATHS)
		resolve_paths(c, v);
	if (v->key->type == CT_CRON) {
		check_cron(c, v);
		return;
	}
	want = check_type(v, expect, sizeof(expect));
	if (!want) {
		check_exists(c, v);
		return;
	}
	item = bad_item(v, &len);
	problem(c, v, "bad value '%.*s' for %s in [%s]: expected %s", len, item,
		v->key->name, v->section, want);
}

static void finish_val(struct conf *c, struct val *v)
{
	struct lookup_ctx l = { &c->env, 0, 0 };
	struct buf text = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	struct buf origin = BUF_INIT;
	char *bad;

	unquote(v, &text, &bad);
	if (bad) {
		/* Not shown: the value may be a secret. */
		problem(c, v, "%s in [%s]: a quote opens the value and does not "
			"close it", v->key->name, v->section);
		free(bad);
		goto out;
	}
	if (expand_vars(buf_str(&text), &out, lookup, &l, &why, NULL) < 0) {
		if (c->env_line)
			buf_printf(&why, " (env_file on line %d could not be "
				   "read)", c->env_line);
		problem(c, v, "%s%s in [%s]: %s", v->key->name,
			v->from_file ? "_file" : "", v->section, buf_str(&why));
		goto out;
	}
	buf_printf(&origin, "%s:%d", c->path, v->line);
	if (v->from_file) {
		char *path = resolve_path(c, buf_str(&out));

		buf_wipe(&out);
		buf_printf(&origin, " from file %s", path);
		if (read_secret_file(c, v, path, &out) < 0) {
			free(path);
			goto out;
		}
		free(path);
	}
	if (l.from_env)
		buf_addstr(&origin, " via environment");
	if (l.from_dotenv)
		buf_printf(&origin, "%s env_file", l.from_env ? " and" : " via");
	v->origin = buf_detach(&origin, NULL);
	if (!(v->key->flags & CK_SECRET) && out.len == 0) {
		problem(c, v, "empty value for %s in [%s] (to use the default, "
			"remove the line)", v->key->name, v->section);
		goto out;
	}
	v->value = buf_detach(&out, NULL);
	finish_text(c, v);
out:
	buf_wipe(&text);
	buf_wipe(&out);
	buf_release(&why);
	buf_release(&origin);
}

/* ---- defaults -------------------------------------------------------- */

static struct val *set_default(struct conf *c, const char *sect,
			       const char *name, const char *value,
			       const char *origin)
{
	const struct conf_key *k = conf_find_key(sect, name);
	struct val *v = conf_add_val(c, k, sect);

	v->value = xstrdup(value);
	v->origin = xstrdup(origin);
	finish_text(c, v);
	return v;
}

/* A default computed from a value that is broken is broken the same way:
 * the message names the value at fault. */
static void set_derived(struct conf *c, const char *sect, const char *name,
			const struct val *from, const char *origin)
{
	char *why = xstrdup(from->error);	/* from moves when c->v grows */
	struct val *v = conf_add_val(c, conf_find_key(sect, name), sect);

	v->origin = xstrdup(origin);
	v->error = why;
}

static void fill_defaults(struct conf *c)
{
	const struct val *dir, *name, *host;
	struct val *jobs;
	const char *base;

	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (k->def && !strchr(k->section, '*') &&
		    !conf_find_val(c, k->section, k->name))
			set_default(c, k->section, k->name, k->def, "default");
	}
	/* Defaults that depend on other values. */
	jobs = conf_find_val(c, "postgres", "jobs");
	if (jobs && jobs->line == 0) {
		/* The backup's own choice (backup/pg_path.c), said where the
		 * value is shown so that config and check agree. */
		free(jobs->origin);
		jobs->origin = xstrdup("default (a backup whose tables copy on a "
				    "server of under 4 cores takes 1)");
	}
	if (!conf_find_val(c, "server", "user")) {
		const char *u = getenv("USER");

		set_default(c, "server", "user", u && *u ? u : "root",
			    "default (local user)");
	}
	dir = conf_find_val(c, "project", "local_dir");
	if (!conf_find_val(c, "project", "name")) {
		if (!dir->value) {
			set_derived(c, "project", "name", dir,
				    "default (local_dir name)");
		} else {
			char real[PATH_MAX];

			/* A local_dir that is missing still names the project. */
			base = strrchr(dir->value, '/');
			base = base && base[1] ? base + 1 : dir->value;
			if (realpath(dir->value, real)) {
				base = strrchr(real, '/');
				base = base && base[1] ? base + 1 : "ferry";
			}
			set_default(c, "project", "name", base,
				    "default (local_dir name)");
		}
	}
	name = conf_find_val(c, "project", "name");
	if (!conf_find_val(c, "backup", "name")) {
		if (name->value)
			set_default(c, "backup", "name", name->value,
				    "default (project name)");
		else
			set_derived(c, "backup", "name", name,
				    "default (project name)");
	}
	host = conf_find_val(c, "server", "host");
	if (!conf_find_val(c, "postgres", "tunnel")) {
		if (host && !host->value)
			set_derived(c, "postgres", "tunnel", host,
				    "default (remote server)");
		else
			set_default(c, "postgres", "tunnel",
				    host && !strcmp(host->value, "local") ? "no" :
				    "yes", "default (remote server)");
	}
}

static void warn_literal_secrets(struct conf *c, const struct stat *st)
{
	if (!(st->st_mode & (S_IRGRP | S_IROTH)))
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct val *v = &c->v[i];

		if ((v->key->flags & CK_SECRET) && v->raw && !v->from_file &&
		    !strchr(v->raw, '$') && *v->raw) {
			log_warn("%s:%d: literal secret '%s' in [%s] in a file "
				 "readable by others; chmod 600 it, or use "
				 "%s_file or ${VAR}", c->path, v->line,
				 v->key->name, v->section, v->key->name);
		}
	}
}

/* A required key the file lacks is a broken value too: raised by the
 * commands that use its section, listed by `ferry config`. */
static void note_required(struct conf *c)
{
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		struct val *v;

		if (!(k->flags & CK_REQUIRED) || strchr(k->section, '*') ||
		    conf_find_val(c, k->section, k->name))
			continue;
		v = conf_add_val(c, k, k->section);
		v->line = conf_section_line(c, k->section);
		v->origin = xstrdup("unset");
		problem(c, v, "missing required key '%s' in [%s]", k->name,
			k->section);
		v->line = 0;	/* not set in the file */
	}
}

void conf_resolve(struct conf *c, const struct stat *st)
{
	struct val *ef = conf_find_val(c, "project", "env_file");
	size_t given = c->n;

	if (ef) {
		struct err e = ERR_INIT;

		finish_val(c, ef);
		if (ef->value && !ef->error &&
		    dotenv_load(&c->env, ef->value, &e) < 0)
			problem(c, ef, "%s", e.msg);
		if (ef->error)
			c->env_line = ef->line;
	}
	for (size_t i = 0; i < given; i++)
		if (&c->v[i] != ef)
			finish_val(c, &c->v[i]);
	note_required(c);
	fill_defaults(c);
	if (st)
		warn_literal_secrets(c, st);
	for (size_t i = 0; i < c->n; i++)
		if ((c->v[i].key->flags & CK_SECRET) && c->v[i].value)
			log_add_secret(c->v[i].value);
}

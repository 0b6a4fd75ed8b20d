#include "conf/conf.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cron.h"
#include "util/log.h"
#include "conf/conf_internal.h"
#include "conf/dotenv.h"
#include "conf/expand.h"
#include "util/value.h"

#define LINE_MAX_LEN 65536
#define SECRET_FILE_MAX 65536

/* ---- lookup ---------------------------------------------------------- */

int conf_section_matches(const char *pattern, const char *sect)
{
	size_t n = strlen(pattern);

	if (n >= 2 && !strcmp(pattern + n - 2, ".*"))
		return !strncmp(pattern, sect, n - 1) && sect[n - 1];
	return !strcmp(pattern, sect);
}

static int section_known(const char *sect)
{
	for (size_t i = 0; conf_sections[i]; i++)
		if (conf_section_matches(conf_sections[i], sect))
			return 1;
	return 0;
}

static const struct conf_key *find_key(const char *sect, const char *name)
{
	for (size_t i = 0; i < conf_nkeys; i++)
		if (conf_section_matches(conf_keys[i].section, sect) &&
		    !strcmp(conf_keys[i].name, name))
			return &conf_keys[i];
	return NULL;
}

struct val *conf_find_val(const struct conf *c, const char *sect,
			   const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].section, sect) &&
		    !strcmp(c->v[i].key->name, name))
			return &c->v[i];
	return NULL;
}

static struct val *add_val(struct conf *c, const struct conf_key *k,
			   const char *sect)
{
	struct val *v;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	v = &c->v[c->n++];
	memset(v, 0, sizeof(*v));
	v->key = k;
	v->section = xstrdup(sect);
	return v;
}

/* ---- parsing --------------------------------------------------------- */

static int fail(struct conf *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct conf *c, int line, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	if (c->failed)
		return -1;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (line > 0)
		err_set(c->e, FX_USAGE, "%s:%d: %s", c->path, line, buf_str(&b));
	else
		err_set(c->e, FX_USAGE, "%s: %s", c->path, buf_str(&b));
	buf_release(&b);
	c->failed = 1;
	return -1;
}

/* inih only reports sections through their keys; the reader sees headers
 * too, so an empty "[redis]" still counts as configured. */
static void note_section(struct conf *c, const char *line)
{
	const char *p = line + strspn(line, " \t");
	const char *end;
	char *name;

	if (*p != '[')
		return;
	end = strchr(p, ']');
	if (!end)
		return;	/* inih reports the syntax error */
	name = xstrndup(p + 1, (size_t)(end - p - 1));
	if (!section_known(name))
		fail(c, c->line, "unknown section [%s]", name);
	strlist_add_take(&c->sections, name);
}

static char *reader(char *str, int num, void *stream)
{
	struct conf *c = stream;
	char *r;

	if (c->failed)
		return NULL;
	r = fgets(str, num, c->f);
	if (!r)
		return NULL;
	c->line++;
	if (!strchr(str, '\n') && !feof(c->f)) {
		fail(c, c->line, "line longer than %d bytes", num - 1);
		return NULL;
	}
	note_section(c, str);
	return c->failed ? NULL : r;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct conf *c = user;
	const struct conf_key *k;
	struct val *v;
	int from_file = 0;

	if (c->failed)
		return 0;
	if (!*section)
		return fail(c, c->line, "key '%s' outside of a section", name), 0;
	k = find_key(section, name);
	if (!k) {
		size_t n = strlen(name);

		if (n > 5 && !strcmp(name + n - 5, "_file")) {
			char *base = xstrndup(name, n - 5);

			k = find_key(section, base);
			free(base);
			if (k && !(k->flags & CK_FILEVAR))
				k = NULL;
			from_file = 1;
		}
	}
	if (!k)
		return fail(c, c->line, "unknown key '%s' in [%s]", name,
			    section), 0;
	v = conf_find_val(c, section, k->name);
	if (v && (k->flags & CK_REPEAT) && !from_file && !v->from_file) {
		char *joined = xstrfmt("%s\n%s", v->raw, value);

		free(v->raw);
		v->raw = joined;
		return 1;
	}
	if (v)
		return fail(c, c->line, "duplicate key '%s' in [%s] "
			    "(first set on line %d)", name, section,
			    v->line), 0;
	v = add_val(c, k, section);
	v->raw = xstrdup(value);
	v->line = c->line;
	v->from_file = from_file;
	return 1;
}

static int parse(struct conf *c)
{
	int r;

	ini_allow_multiline = 0;
	ini_stop_on_first_error = 1;
	ini_use_stack = 0;
	ini_max_line = LINE_MAX_LEN;
	r = ini_parse_stream(reader, c, handler, c);
	if (c->failed)
		return -1;
	if (r == -2)
		return fail(c, 0, "out of memory");
	if (r > 0)
		return fail(c, r, "syntax error: expected '[section]' or "
			    "'key = value'");
	if (r < 0)
		return fail(c, 0, "cannot read: %s", strerror(errno));
	return 0;
}

/* ---- values ---------------------------------------------------------- */

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

static int read_secret_file(struct conf *c, struct val *v, const char *path,
			    struct buf *out)
{
	char chunk[4096];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return fail(c, v->line, "%s_file: cannot read %s: %s",
			    v->key->name, path, strerror(errno));
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

static int is_choice(const char *choices, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = choices; p && *p;) {
		size_t len = strcspn(p, "|");

		if (len == n && !strncmp(p, s, n))
			return 1;
		p += len + (p[len] == '|');
	}
	return 0;
}

static int check_cron(struct conf *c, struct val *v)
{
	struct cron cr = CRON_INIT;
	struct err ce = ERR_INIT;

	if (is_choice(v->key->choices, v->value))
		return 0;
	if (cron_parse(v->value, &cr, &ce) == 0) {
		cron_release(&cr);
		return 0;
	}
	return fail(c, v->line, "bad value '%s' for %s in [%s]: %s%s%s",
		    v->value, v->key->name, v->section, ce.msg,
		    v->key->choices ? "; expected a cron expression or " : "",
		    v->key->choices ? v->key->choices : "");
}

static int check_type(struct conf *c, struct val *v)
{
	const struct conf_key *k = v->key;
	const char *s = v->value;
	long long lo, hi;

	switch (k->type) {
	case CT_STR:
	case CT_LIST:
		return 0;
	case CT_INT:
		if (sscanf(k->choices, "%lld..%lld", &lo, &hi) != 2)
			lo = LLONG_MIN, hi = LLONG_MAX;
		if (value_int(s, lo, hi, &v->num) == 0)
			return 0;
		return fail(c, v->line, "bad value '%s' for %s in [%s]: expected "
			    "a whole number from %lld to %lld", s, k->name,
			    v->section, lo, hi);
	case CT_PORT:
		if (value_port(s, &v->num) == 0)
			return 0;
		return fail(c, v->line, "bad value '%s' for %s in [%s]: expected "
			    "a port number from 1 to 65535", s, k->name,
			    v->section);
	case CT_BOOL:
		if (value_bool(s, &v->num) == 0)
			return 0;
		return fail(c, v->line, "bad value '%s' for %s in [%s]: expected "
			    "yes or no", s, k->name, v->section);
	case CT_DURATION:
		if (value_duration_ms(s, &v->num) == 0)
			return 0;
		return fail(c, v->line, "bad value '%s' for %s in [%s]: expected "
			    "a duration such as 30s, 5m or 1h", s, k->name,
			    v->section);
	case CT_ENUM:
		if (is_choice(k->choices, s))
			return 0;
		return fail(c, v->line, "bad value '%s' for %s in [%s]: expected "
			    "one of %s", s, k->name, v->section, k->choices);
	case CT_CRON:
		return check_cron(c, v);
	case CT_URL:
		if (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8))
			return 0;
		return fail(c, v->line, "bad value '%s' for %s in [%s]: expected "
			    "an http:// or https:// URL", s, k->name, v->section);
	case CT_S3URL:
		if (!strncmp(s, "s3://", 5) && s[5] && s[5] != '/')
			return 0;
		return fail(c, v->line, "bad value '%s' for %s in [%s]: expected "
			    "s3://bucket/prefix", s, k->name, v->section);
	case CT_PATH:
	case CT_PATHS:
		return 0;
	}
	return 0;
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

static int finish_val(struct conf *c, struct val *v)
{
	struct lookup_ctx l = { &c->env, 0, 0 };
	struct buf out = BUF_INIT, why = BUF_INIT, origin = BUF_INIT;
	int r = 0;

	if (expand_vars(v->raw, &out, lookup, &l, &why, NULL) < 0) {
		r = fail(c, v->line, "%s%s in [%s]: %s", v->key->name,
			 v->from_file ? "_file" : "", v->section, buf_str(&why));
		goto out;
	}
	buf_printf(&origin, "%s:%d", c->path, v->line);
	if (v->from_file) {
		char *path = resolve_path(c, buf_str(&out));

		buf_wipe(&out);
		r = read_secret_file(c, v, path, &out);
		buf_printf(&origin, " from file %s", path);
		free(path);
		if (r < 0)
			goto out;
	}
	if (l.from_env)
		buf_addstr(&origin, " via environment");
	if (l.from_dotenv)
		buf_printf(&origin, "%s env_file", l.from_env ? " and" : " via");
	if (!(v->key->flags & CK_SECRET) && out.len == 0 &&
	    v->key->type != CT_STR) {
		r = fail(c, v->line, "empty value for %s in [%s]", v->key->name,
			 v->section);
		goto out;
	}
	v->value = buf_detach(&out, NULL);
	v->origin = buf_detach(&origin, NULL);
	if (v->key->type == CT_PATH || v->key->type == CT_PATHS)
		resolve_paths(c, v);
	r = check_type(c, v);
out:
	buf_wipe(&out);
	buf_release(&why);
	buf_release(&origin);
	return r;
}

static void set_default(struct conf *c, const char *sect, const char *name,
			const char *value, const char *origin)
{
	const struct conf_key *k = find_key(sect, name);
	struct val *v = add_val(c, k, sect);

	v->value = xstrdup(value);
	v->origin = xstrdup(origin);
	if (k->type == CT_PATH || k->type == CT_PATHS)
		resolve_paths(c, v);
	if (check_type(c, v) < 0)
		abort();	/* a bad default is a bug in conf_keys.c */
}

static void fill_defaults(struct conf *c)
{
	const char *host, *dir;
	char *base;

	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (k->def && !strchr(k->section, '*') &&
		    !conf_find_val(c, k->section, k->name))
			set_default(c, k->section, k->name, k->def, "default");
	}
	/* Defaults that depend on other values. */
	if (!conf_find_val(c, "server", "user")) {
		const char *u = getenv("USER");

		set_default(c, "server", "user", u && *u ? u : "root",
			    "default (local user)");
	}
	dir = conf_str(c, "project", "local_dir");
	base = strrchr(dir, '/');
	base = base && base[1] ? base + 1 : (char *)dir;
	if (!conf_find_val(c, "project", "name")) {
		char real[PATH_MAX];
		const char *b = base;

		if (realpath(dir, real)) {
			b = strrchr(real, '/');
			b = b && b[1] ? b + 1 : "ferry";
		}
		set_default(c, "project", "name", b, "default (local_dir name)");
	}
	if (!conf_find_val(c, "backup", "name"))
		set_default(c, "backup", "name", conf_str(c, "project", "name"),
			    "default (project name)");
	host = conf_str(c, "server", "host");
	if (!conf_find_val(c, "postgres", "tunnel"))
		set_default(c, "postgres", "tunnel",
			    host && !strcmp(host, "local") ? "no" : "yes",
			    "default (remote server)");
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

static int finish(struct conf *c, const struct stat *st)
{
	struct val *ef = conf_find_val(c, "project", "env_file");

	if (ef) {
		if (finish_val(c, ef) < 0)
			return -1;
		if (dotenv_load(&c->env, ef->value, c->e) < 0) {
			c->failed = 1;
			return err_wrap(c->e, "%s:%d", c->path, ef->line);
		}
	}
	for (size_t i = 0; i < c->n; i++)
		if (&c->v[i] != ef && !c->v[i].value &&
		    finish_val(c, &c->v[i]) < 0)
			return -1;
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if ((k->flags & CK_REQUIRED) && !conf_find_val(c, k->section, k->name))
			return fail(c, 0, "missing required key '%s' in [%s]",
				    k->name, k->section);
	}
	fill_defaults(c);
	if (st)
		warn_literal_secrets(c, st);
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].key->flags & CK_SECRET)
			log_add_secret(c->v[i].value);
	return 0;
}

static int load_stream(struct conf **out, FILE *f, const char *path,
		       const struct stat *st, struct err *e)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	const char *slash = strrchr(path, '/');
	int r;

	c->path = xstrdup(path);
	c->dir = slash ? xstrndup(path, (size_t)(slash - path)) : NULL;
	if (slash == path)
		c->dir = xstrdup("/");
	c->f = f;
	c->e = e;
	r = parse(c);
	if (r == 0)
		r = finish(c, st);
	c->f = NULL;
	c->e = NULL;
	if (r < 0) {
		conf_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int conf_load_string(struct conf **out, const char *text, const char *name,
		     struct err *e)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	if (!f)
		return err_set(e, FX_FAIL, "fmemopen: %s", strerror(errno));
	r = load_stream(out, f, name, NULL, e);
	fclose(f);
	return r;
}

static char *find_config(const char *path)
{
	const char *env = getenv("FERRY_CONFIG"), *home = getenv("HOME");
	char *cand[3];
	char *found = NULL;
	int n = 0;

	if (path)
		return xstrdup(path);
	if (env && *env)
		return xstrdup(env);
	cand[n++] = xstrdup("ferry.ini");
	if (home)
		cand[n++] = xstrfmt("%s/.config/ferry/ferry.ini", home);
	cand[n++] = xstrdup("/etc/ferry/ferry.ini");
	for (int i = 0; i < n; i++) {
		if (!found && access(cand[i], F_OK) == 0)
			found = cand[i];
		else
			free(cand[i]);
	}
	return found;
}

int conf_load(struct conf **out, const char *path, struct err *e)
{
	struct stat st;
	char *p = find_config(path);
	FILE *f;
	int r;

	if (!p)
		return err_set(e, FX_USAGE, "no config file: tried ./ferry.ini, "
			       "~/.config/ferry/ferry.ini, /etc/ferry/ferry.ini "
			       "(use -c FILE or FERRY_CONFIG)");
	f = fopen(p, "re");
	if (!f) {
		err_set(e, FX_USAGE, "%s: %s", p, strerror(errno));
		free(p);
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(e, FX_USAGE, "%s: not a regular file", p);
		fclose(f);
		free(p);
		return -1;
	}
	r = load_stream(out, f, p, &st, e);
	fclose(f);
	free(p);
	return r;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct val *v = &c->v[i];

		if (v->key->flags & CK_SECRET) {
			if (v->value)
				explicit_bzero(v->value, strlen(v->value));
			if (v->raw)
				explicit_bzero(v->raw, strlen(v->raw));
		}
		free(v->section);
		free(v->raw);
		free(v->value);
		free(v->origin);
	}
	free(c->v);
	strlist_release(&c->sections);
	dotenv_release(&c->env);
	free(c->path);
	free(c->dir);
	free(c);
}

/* ---- access ---------------------------------------------------------- */

static const struct val *get(const struct conf *c, const char *sect,
			     const char *key)
{
	if (!find_key(sect, key)) {
		/* A typo in ferry's own code, not in the user's file. */
		fprintf(stderr, "ferry: bug: unknown config key %s.%s\n", sect, key);
		abort();
	}
	return conf_find_val(c, sect, key);
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

	if (v)
		strlist_split(out, v->value);
}

int conf_has_section(const struct conf *c, const char *sect)
{
	for (size_t i = 0; i < c->sections.n; i++)
		if (!strcmp(c->sections.v[i], sect))
			return 1;
	return 0;
}

int conf_is_set(const struct conf *c, const char *sect, const char *key)
{
	const struct val *v = get(c, sect, key);

	return v && v->line > 0;
}

const char *conf_origin(const struct conf *c, const char *sect,
			const char *key)
{
	const struct val *v = get(c, sect, key);

	return v ? v->origin : "unset";
}

int conf_is_local(const struct conf *c)
{
	const char *h = conf_str(c, "server", "host");

	return h && !strcmp(h, "local");
}


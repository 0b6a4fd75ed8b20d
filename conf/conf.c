/*
 * Reading the file: inih parses, this module feeds it lines and keeps the
 * structure (sections, keys, their lines).  What the file cannot mean --
 * a syntax error, an unknown section or key, a repeat, a NUL byte, a line
 * past 64 KiB -- stops the load: nothing in it can be trusted then.  What a
 * value cannot be (an unset ${VAR}, a bad port, a missing key file) is kept
 * with the value (conf_value.c) and raised only where it is used.
 */
#include "conf/conf.h"

#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/escape.h"
#include "conf/conf_internal.h"

/* The longest line (without its newline) a file may hold: far above any
 * real value (a long exclude list, a key), far below a slurped binary. */
#define LINE_MAX_LEN 65536

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

const struct conf_key *conf_find_key(const char *sect, const char *name)
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

struct val *conf_add_val(struct conf *c, const struct conf_key *k,
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

int conf_section_line(const struct conf *c, const char *sect)
{
	for (size_t i = 0; i < c->sections.n; i++)
		if (!strcmp(c->sections.v[i], sect))
			return c->section_line[i];
	return 0;
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
 * too, so an empty "[redis]" still counts as configured, and a second
 * "[server]" is caught (inih would merge it silently). */
static void note_section(struct conf *c, const char *line)
{
	const char *p = line + strspn(line, " \t");
	const char *end;
	char *name, *shown;
	int first;

	if (*p != '[')
		return;
	end = strchr(p, ']');
	if (!end)
		return;	/* inih reports the syntax error */
	name = xstrndup(p + 1, (size_t)(end - p - 1));
	shown = esc_str(name);
	first = conf_section_line(c, name);
	if (!section_known(name))
		fail(c, c->line, "unknown section [%s]", shown);
	else if (first)
		fail(c, c->line, "section [%s] repeated (first on line %d); "
		     "put its keys in one place", shown, first);
	free(shown);
	c->section_line = xrealloc(c->section_line, (c->sections.n + 1) *
				   sizeof(*c->section_line));
	c->section_line[c->sections.n] = c->line;
	strlist_add_take(&c->sections, name);
}

/* Reads the next physical line into c->text; 0 at the end, -1 on error. */
static int next_line(struct conf *c)
{
	int ch;

	buf_reset(&c->text);
	c->handed = 0;
	while ((ch = getc(c->f)) != EOF) {
		if (ch == '\0')
			return fail(c, c->line + 1, "NUL byte: this is not a text "
				    "file (a binary file given as the config?)");
		buf_addch(&c->text, ch);
		if (ch == '\n')
			break;
		if (c->text.len > LINE_MAX_LEN)
			return fail(c, c->line + 1, "line longer than %d bytes",
				    LINE_MAX_LEN);
	}
	if (ferror(c->f))
		return fail(c, 0, "cannot read: %s", strerror(errno));
	if (!c->text.len)
		return 0;
	c->line++;
	note_section(c, c->text.p);
	return c->failed ? -1 : 1;
}

/* inih's reader: hands out the current line in pieces of at most num - 1
 * bytes (inih grows its buffer and asks for the rest), then the next. */
static char *reader(char *str, int num, void *stream)
{
	struct conf *c = stream;
	size_t n;

	if (c->failed || num < 2)
		return NULL;
	if (c->handed == c->text.len && next_line(c) <= 0)
		return NULL;
	n = c->text.len - c->handed;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	if (n)	/* an empty file has no text at all */
		memcpy(str, c->text.p + c->handed, n);
	str[n] = '\0';
	c->handed += n;
	return str;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct conf *c = user;
	const struct conf_key *k;
	struct val *v;
	char *shown;
	int from_file = 0;

	if (c->failed)
		return 0;
	shown = esc_str(name);
	if (!*section) {
		fail(c, c->line, "key '%s' outside of a section", shown);
		goto out;
	}
	k = conf_find_key(section, name);
	if (!k) {
		size_t n = strlen(name);

		if (n > 5 && !strcmp(name + n - 5, "_file")) {
			char *base = xstrndup(name, n - 5);

			k = conf_find_key(section, base);
			free(base);
			if (k && !(k->flags & CK_FILEVAR))
				k = NULL;
			from_file = 1;
		}
	}
	if (!k) {
		fail(c, c->line, "unknown key '%s' in [%s]", shown, section);
		goto out;
	}
	v = conf_find_val(c, section, k->name);
	if (v && (k->flags & CK_REPEAT) && !from_file && !v->from_file) {
		char *joined = xstrfmt("%s\n%s", v->raw, value);

		free(v->raw);
		v->raw = joined;
		goto out;
	}
	if (v && v->from_file != from_file) {
		fail(c, c->line, "both %s and %s_file in [%s] (the other on line "
		     "%d): set one", k->name, k->name, section, v->line);
		goto out;
	}
	if (v) {
		fail(c, c->line, "duplicate key '%s' in [%s] (first set on line "
		     "%d)", shown, section, v->line);
		goto out;
	}
	v = conf_add_val(c, k, section);
	v->raw = xstrdup(value);
	v->line = c->line;
	v->from_file = from_file;
out:
	free(shown);
	return !c->failed;
}

static int parse(struct conf *c)
{
	int r;

	ini_allow_multiline = 0;
	ini_stop_on_first_error = 1;
	/* Debian's libinih reads the line length from these at run time:
	 * a heap buffer that grows up to the longest line we accept. */
	ini_use_stack = 0;
	ini_allow_realloc = 1;
	ini_max_line = LINE_MAX_LEN + 3;
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

/* ---- loading --------------------------------------------------------- */

static int load_stream(struct conf **out, FILE *f, const char *path,
		       const struct stat *st, struct err *e)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	const char *slash = strrchr(path, '/');
	int r;

	c->path = xstrdup(path);
	c->dir = slash ? xstrndup(path, (size_t)(slash - path)) : NULL;
	if (slash == path) {
		free(c->dir);
		c->dir = xstrdup("/");
	}
	c->f = f;
	c->e = e;
	r = parse(c);
	c->f = NULL;
	c->e = NULL;
	buf_wipe(&c->text);	/* it held secrets' lines */
	if (r < 0) {
		conf_free(c);
		return -1;
	}
	conf_resolve(c, st);
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
			       "(use -c FILE or FERRY_CONFIG, or write one with "
			       "'ferry init')");
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
		free(v->error);
	}
	free(c->v);
	strlist_release(&c->sections);
	free(c->section_line);
	dotenv_release(&c->env);
	buf_wipe(&c->text);
	free(c->path);
	free(c->dir);
	free(c);
}

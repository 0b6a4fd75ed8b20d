#include "deploy/ignore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "deploy/wildmatch.h"

#define R_NEGATE  0x1
#define R_DIRONLY 0x2
#define R_BASENAME 0x4	/* no slash: matches the last component at any depth */

struct rule {
	char *pattern;
	char *base;
	unsigned flags;
};

struct rules {
	struct rule *v;
	size_t n, cap;
};

struct ignore {
	struct rules hard, soft;
};

/* The old deploy script's excludes, ferry's own staging area, and the
 * config ferry init writes (with -c another, it is not the one loaded,
 * and its secrets stay here all the same). */
static const char *const builtin[] = {
	".git/", "node_modules/", ".env", ".env.*", "*.log", ".DS_Store",
	"__pycache__/", "*.pyc", ".pytest_cache/", "dist/", "build/", ".next/",
	".vite/", "coverage/", ".turbo/", "/.ferry/", "/ferry.ini",
};

struct ignore *ign_new(void)
{
	return xcalloc(1, sizeof(struct ignore));
}

static void rules_free(struct rules *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].pattern);
		free(r->v[i].base);
	}
	free(r->v);
}

void ign_free(struct ignore *ig)
{
	if (!ig)
		return;
	rules_free(&ig->hard);
	rules_free(&ig->soft);
	free(ig);
}

static void add(struct rules *r, const char *line, const char *base)
{
	struct buf pat = BUF_INIT;
	unsigned flags = 0;
	size_t n = strlen(line);
	struct rule *ru;

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	/* Trailing blanks go unless escaped with a backslash. */
	while (n && line[n - 1] == ' ' && !(n >= 2 && line[n - 2] == '\\'))
		n--;
	if (!n || line[0] == '#')
		return;
	if (line[0] == '!') {
		flags |= R_NEGATE;
		line++;
		n--;
	}
	if (n && line[n - 1] == '/') {
		flags |= R_DIRONLY;
		n--;
	}
	if (!n)
		return;
	buf_add(&pat, line, n);
	if (!memchr(pat.p, '/', pat.len))
		flags |= R_BASENAME;
	else if (pat.p[0] == '/')
		memmove(pat.p, pat.p + 1, pat.len--);
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	ru = &r->v[r->n++];
	ru->pattern = buf_detach(&pat, NULL);
	ru->base = xstrdup(base);
	ru->flags = flags;
}

void ign_add_hard(struct ignore *ig, const char *pattern)
{
	add(&ig->hard, pattern, "");
}

void ign_add_builtin(struct ignore *ig)
{
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		add(&ig->hard, builtin[i], "");
}

void ign_add_config(struct ignore *ig, const char *root, const char *config)
{
	char *r = realpath(root, NULL), *f = config ? realpath(config, NULL) : NULL;
	size_t n = r ? strlen(r) : 0;
	struct buf pat = BUF_INIT;

	/* Resolved both ways, so "./ferry.ini" and a symlinked tree agree. */
	if (r && f && !strncmp(f, r, n) && (f[n] == '/' || !strcmp(r, "/"))) {
		buf_addch(&pat, '/');
		for (const char *p = f + n + (f[n] == '/'); *p; p++) {
			if (strchr("*?[\\", *p))
				buf_addch(&pat, '\\');
			buf_addch(&pat, *p);
		}
		add(&ig->hard, buf_str(&pat), "");
	}
	buf_release(&pat);
	free(r);
	free(f);
}

void ign_add_line(struct ignore *ig, const char *line, const char *base)
{
	add(&ig->soft, line, base);
}

int ign_load(struct ignore *ig, const char *path, const char *base,
	     struct err *e)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_set(e, FX_FAIL, "read %s: %s", path, strerror(errno));
	}
	while (getline(&line, &cap, f) > 0)
		ign_add_line(ig, line, base);
	free(line);
	fclose(f);
	return 0;
}

static int rule_matches(const struct rule *r, const char *path, int is_dir)
{
	size_t bl = strlen(r->base);
	const char *rel, *name;

	if (bl && strncmp(path, r->base, bl))
		return 0;
	if ((r->flags & R_DIRONLY) && !is_dir)
		return 0;
	rel = path + bl;
	if (r->flags & R_BASENAME) {
		name = strrchr(rel, '/');
		return wildmatch(r->pattern, name ? name + 1 : rel);
	}
	return wildmatch(r->pattern, rel);
}

/* The last matching rule decides; 1 excluded, 0 included, -1 no rule. */
static int decide(const struct rules *rs, const char *path, int is_dir)
{
	for (size_t i = rs->n; i-- > 0;)
		if (rule_matches(&rs->v[i], path, is_dir))
			return !(rs->v[i].flags & R_NEGATE);
	return -1;
}

int ign_excluded(const struct ignore *ig, const char *path, int is_dir)
{
	if (decide(&ig->hard, path, is_dir) == 1)
		return 1;
	return decide(&ig->soft, path, is_dir) == 1;
}

int ign_excluded_path(const struct ignore *ig, const char *path, int is_dir)
{
	char *p = xstrdup(path);
	int hit = 0;

	for (char *s = strchr(p, '/'); s && !hit; s = strchr(s + 1, '/')) {
		*s = '\0';
		hit = ign_excluded(ig, p, 1);
		*s = '/';
	}
	if (!hit)
		hit = ign_excluded(ig, path, is_dir);
	free(p);
	return hit;
}

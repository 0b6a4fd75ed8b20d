#include "conf/compose_scan.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

/* The names docker compose looks for, main ones first. */
static const char *const main_names[] = {
	"compose.yaml", "compose.yml", "docker-compose.yaml",
	"docker-compose.yml", NULL,
};

/* ---- files ----------------------------------------------------------- */

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && !strcmp(s + n - m, suf);
}

/* "docker-compose.backend.yml", "compose.override.yaml", ... */
static int compose_name(const char *n)
{
	return (!strncmp(n, "docker-compose", 14) || !strncmp(n, "compose", 7)) &&
		(has_suffix(n, ".yml") || has_suffix(n, ".yaml"));
}

/* ".env", ".env.dev", "app.env" */
static int env_name(const char *n)
{
	return !strcmp(n, ".env") || !strncmp(n, ".env.", 5) ||
		(has_suffix(n, ".env") && n[0] != '.');
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir that pass keep(), sorted. */
static void list_dir(const char *dir, int (*keep)(const char *),
		     struct strlist *out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t first = out->n;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *path;

		if (!keep(de->d_name))
			continue;
		path = xstrfmt("%s/%s", dir, de->d_name);
		if (is_file(path))
			strlist_add(out, de->d_name);
		free(path);
	}
	closedir(d);
	if (out->n > first)	/* qsort wants a real pointer, even for 0 */
		qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_str);
}

static int main_index(const char *name)
{
	for (int i = 0; main_names[i]; i++)
		if (!strcmp(main_names[i], name))
			return i;
	return -1;
}

/* The folder (relative to root) holding a main compose file: root first,
 * then its first-level folders in name order ("deploy", "docker"). */
static char *find_compose_dir(const char *root)
{
	struct strlist subs = STRLIST_INIT;
	DIR *d;
	struct dirent *de;
	char *found = NULL;

	for (int i = 0; main_names[i] && !found; i++) {
		char *p = xstrfmt("%s/%s", root, main_names[i]);

		if (is_file(p))
			found = xstrdup(".");
		free(p);
	}
	if (found || !(d = opendir(root)))
		return found;
	while ((de = readdir(d))) {
		char *p = xstrfmt("%s/%s", root, de->d_name);

		if (de->d_name[0] != '.' && strcmp(de->d_name, "node_modules") &&
		    is_dir(p))
			strlist_add(&subs, de->d_name);
		free(p);
	}
	closedir(d);
	if (subs.n)
		qsort(subs.v, subs.n, sizeof(*subs.v), cmp_str);
	for (size_t s = 0; s < subs.n && !found; s++) {
		for (int i = 0; main_names[i] && !found; i++) {
			char *p = xstrfmt("%s/%s/%s", root, subs.v[s], main_names[i]);

			if (is_file(p))
				found = xstrdup(subs.v[s]);
			free(p);
		}
	}
	strlist_release(&subs);
	return found;
}

/* "deploy" + "./x/.env" -> "deploy/x/.env"; "." + "a" -> "a". */
static char *join_rel(const char *dir, const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	if (name[0] == '/' || !strcmp(dir, "."))
		return xstrdup(name);
	return xstrfmt("%s/%s", dir, name);
}

/* ---- YAML ------------------------------------------------------------ */

struct ydoc {
	yaml_document_t doc;
	const char *file;	/* relative, for messages and services */
};

static yaml_node_t *node(struct ydoc *y, int id)
{
	return id ? yaml_document_get_node(&y->doc, id) : NULL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
		(const char *)n->data.scalar.value : NULL;
}

typedef void (*pair_fn)(struct ydoc *y, const char *key, yaml_node_t *val,
			void *ctx);

/* Every key of a mapping, those merged in with "<<: *anchor" first, so
 * the mapping's own keys come later and win. */
static void each_pair(struct ydoc *y, yaml_node_t *map, pair_fn fn, void *ctx,
		      int depth)
{
	if (!map || map->type != YAML_MAPPING_NODE || depth > 8)
		return;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(y, p->key), *v = node(y, p->value);

		if (!scalar(k) || strcmp(scalar(k), "<<"))
			continue;
		if (v && v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *i = v->data.sequence.items.start;
			     i < v->data.sequence.items.top; i++)
				each_pair(y, node(y, *i), fn, ctx, depth + 1);
		} else {
			each_pair(y, v, fn, ctx, depth + 1);
		}
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(y, p->key);

		if (scalar(k) && strcmp(scalar(k), "<<"))
			fn(y, scalar(k), node(y, p->value), ctx);
	}
}

struct lookup {
	const char *key;
	yaml_node_t *found;
};

static void find_fn(struct ydoc *y, const char *key, yaml_node_t *val,
		    void *ctx)
{
	struct lookup *l = ctx;

	(void)y;
	if (!strcmp(key, l->key))
		l->found = val;
}

static yaml_node_t *get(struct ydoc *y, yaml_node_t *map, const char *key)
{
	struct lookup l = { key, NULL };

	each_pair(y, map, find_fn, &l, 0);
	return l.found;
}

/* Scalars of a sequence (or the one scalar) appended to out. */
static void scalars(struct ydoc *y, yaml_node_t *n, struct strlist *out)
{
	if (scalar(n)) {
		strlist_add(out, scalar(n));
		return;
	}
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return;
	for (yaml_node_item_t *i = n->data.sequence.items.start;
	     i < n->data.sequence.items.top; i++)
		if (scalar(node(y, *i)))
			strlist_add(out, scalar(node(y, *i)));
}

static void env_fn(struct ydoc *y, const char *key, yaml_node_t *val,
		   void *ctx)
{
	(void)y;
	/* "KEY:" with no value: taken from the shell; nothing written. */
	if (scalar(val))
		strlist_add_take(ctx, xstrfmt("%s=%s", key, scalar(val)));
}

static void read_env(struct ydoc *y, yaml_node_t *n, struct strlist *out)
{
	if (n && n->type == YAML_MAPPING_NODE)
		each_pair(y, n, env_fn, out, 0);
	else
		scalars(y, n, out);	/* - KEY=value */
}

static void read_ports(struct ydoc *y, yaml_node_t *n, struct strlist *out)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return;
	for (yaml_node_item_t *i = n->data.sequence.items.start;
	     i < n->data.sequence.items.top; i++) {
		yaml_node_t *it = node(y, *i);
		const char *target, *published;

		if (scalar(it)) {
			strlist_add(out, scalar(it));
			continue;
		}
		/* The long syntax: target and published. */
		target = scalar(get(y, it, "target"));
		published = scalar(get(y, it, "published"));
		if (target && published)
			strlist_add_take(out, xstrfmt("%s:%s", published, target));
		else if (target)
			strlist_add(out, target);
	}
}

static void read_env_files(struct ydoc *y, yaml_node_t *n, const char *dir,
			   struct strlist *out)
{
	struct strlist names = STRLIST_INIT;

	scalars(y, n, &names);
	if (n && n->type == YAML_SEQUENCE_NODE) {
		/* - path: ./x.env   (compose 2.24's long form) */
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++) {
			const char *p = scalar(get(y, node(y, *i), "path"));

			if (p)
				strlist_add(&names, p);
		}
	}
	for (size_t i = 0; i < names.n; i++)
		strlist_add_take(out, join_rel(dir, names.v[i]));
	strlist_release(&names);
}

static struct compose_service *service_slot(struct compose_project *p,
					    const char *name)
{
	struct compose_service *s;

	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->svc[i].name, name))
			return &p->svc[i];	/* an override file adds to it */
	p->svc = xrealloc(p->svc, (p->n + 1) * sizeof(*p->svc));
	s = &p->svc[p->n++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	return s;
}

struct svc_ctx {
	struct compose_project *p;
	const char *file;
};

static void service_fn(struct ydoc *y, const char *name, yaml_node_t *def,
		       void *ctx)
{
	struct svc_ctx *sc = ctx;
	struct compose_service *s;
	const char *image = scalar(get(y, def, "image"));
	struct strlist cmd = STRLIST_INIT;

	if (!def || def->type != YAML_MAPPING_NODE)
		return;
	s = service_slot(sc->p, name);
	if (!s->file) {
		s->file = xstrdup(sc->file);
		s->line = (int)def->start_mark.line + 1;
	}
	if (image) {
		free(s->image);
		s->image = xstrdup(image);
	}
	read_env(y, get(y, def, "environment"), &s->env);
	read_ports(y, get(y, def, "ports"), &s->ports);
	read_env_files(y, get(y, def, "env_file"), sc->p->dir, &s->env_files);
	scalars(y, get(y, def, "command"), &cmd);
	if (cmd.n) {
		struct buf b = BUF_INIT;

		for (size_t i = 0; i < cmd.n; i++)
			buf_printf(&b, "%s%s", i ? " " : "", cmd.v[i]);
		free(s->command);
		s->command = buf_detach(&b, NULL);
	}
	strlist_release(&cmd);
}

static int read_file(struct compose_project *p, const char *root,
		     const char *name, struct err *e)
{
	size_t n = strlen(root);
	char *rel = join_rel(p->dir, name), *path;
	yaml_parser_t parser;
	struct ydoc y = { .file = rel };
	FILE *f;
	int r = -1;

	while (n > 1 && root[n - 1] == '/')	/* "proj/" names "proj/x" */
		n--;
	path = xstrfmt("%.*s%s%s", (int)n, root,
		       n && root[n - 1] == '/' ? "" : "/", rel);
	f = fopen(path, "re");
	if (!f) {
		err_set(e, FX_FAIL, "%s: %s", path, strerror(errno));
		goto out_free;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &y.doc)) {
		/* named as the user sees it: under the root given, if any */
		err_set(e, FX_USAGE, "%s:%zu: not valid YAML: %s",
			strcmp(root, ".") ? path : rel,
			parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "parse error");
		goto out;
	}
	{
		yaml_node_t *top = yaml_document_get_root_node(&y.doc);
		struct svc_ctx sc = { p, rel };
		const char *nm = scalar(get(&y, top, "name"));

		if (nm && !p->name)
			p->name = xstrdup(nm);
		each_pair(&y, get(&y, top, "services"), service_fn, &sc, 0);
	}
	yaml_document_delete(&y.doc);
	r = 0;
out:
	yaml_parser_delete(&parser);
	fclose(f);
out_free:
	free(rel);
	free(path);
	return r;
}

/* Dotenv files in the compose folder, in its environments/ and at the
 * root, then those the services name. */
static void find_env_files(struct compose_project *p, const char *root)
{
	const char *where[3] = { ".", p->dir, NULL };
	char *envdir = join_rel(p->dir, "environments");
	struct strlist found = STRLIST_INIT;

	where[2] = envdir;
	for (int w = 0; w < 3; w++) {
		char *abs;

		if (w == 1 && !strcmp(where[1], "."))
			continue;	/* the root, already seen */
		abs = xstrfmt("%s/%s", root, where[w]);
		strlist_release(&found);
		list_dir(abs, env_name, &found);
		for (size_t i = 0; i < found.n; i++)
			strlist_add_take(&p->env_files, join_rel(where[w], found.v[i]));
		free(abs);
	}
	strlist_release(&found);
	free(envdir);
	for (size_t s = 0; s < p->n; s++) {
		for (size_t i = 0; i < p->svc[s].env_files.n; i++) {
			const char *f = p->svc[s].env_files.v[i];
			int seen = 0;

			for (size_t j = 0; j < p->env_files.n && !seen; j++)
				seen = !strcmp(p->env_files.v[j], f);
			if (!seen)
				strlist_add(&p->env_files, f);
		}
	}
}

int compose_scan(const char *root, struct compose_project *out,
		 struct err *e)
{
	struct strlist names = STRLIST_INIT;
	char *abs;
	int best = -1;
	size_t main_at = 0;

	out->dir = find_compose_dir(root);
	if (!out->dir) {
		out->dir = xstrdup(".");
		find_env_files(out, root);
		return 0;
	}
	abs = xstrfmt("%s/%s", root, out->dir);
	list_dir(abs, compose_name, &names);
	free(abs);
	/* The main file first (compose.yaml before docker-compose.yml, as
	 * compose picks), then the rest in name order. */
	for (size_t i = 0; i < names.n; i++) {
		int m = main_index(names.v[i]);

		if (m >= 0 && (best < 0 || m < best)) {
			best = m;
			main_at = i;
		}
	}
	strlist_add(&out->files, names.v[main_at]);
	for (size_t i = 0; i < names.n; i++)
		if (i != main_at && main_index(names.v[i]) < 0)
			strlist_add(&out->files, names.v[i]);
	strlist_release(&names);
	for (size_t i = 0; i < out->files.n; i++)
		if (read_file(out, root, out->files.v[i], e) < 0)
			return -1;
	find_env_files(out, root);
	return 0;
}

void compose_project_release(struct compose_project *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct compose_service *s = &p->svc[i];

		free(s->name);
		free(s->image);
		free(s->file);
		free(s->command);
		strlist_release(&s->env);
		strlist_release(&s->ports);
		strlist_release(&s->env_files);
	}
	free(p->svc);
	free(p->name);
	free(p->dir);
	strlist_release(&p->files);
	strlist_release(&p->env_files);
	memset(p, 0, sizeof(*p));
}

/* ---- queries --------------------------------------------------------- */

const char *compose_env(const struct compose_service *s, const char *key)
{
	size_t n = strlen(key);
	const char *found = NULL;

	for (size_t i = 0; i < s->env.n; i++)
		if (!strncmp(s->env.v[i], key, n) && s->env.v[i][n] == '=')
			found = s->env.v[i] + n + 1;	/* the last one wins */
	return found;
}

/* Splits s at sep where it is not inside ${...}. */
static void split_top(const char *s, char sep, struct strlist *out)
{
	int depth = 0;
	const char *start = s;

	for (const char *p = s;; p++) {
		if (p[0] == '$' && p[1] == '{')
			depth++;
		else if (*p == '}' && depth)
			depth--;
		if (*p == '\0' || (*p == sep && !depth)) {
			strlist_add_take(out, xstrndup(start, (size_t)(p - start)));
			if (!*p)
				break;
			start = p + 1;
		}
	}
}

char *compose_published(const struct compose_service *s, const char *cport)
{
	for (size_t i = 0; i < s->ports.n; i++) {
		struct strlist parts = STRLIST_INIT;
		char *host = NULL, *slash;

		split_top(s->ports.v[i], ':', &parts);
		if (parts.n >= 2) {
			char *cont = parts.v[parts.n - 1];

			slash = strchr(cont, '/');
			if (slash)
				*slash = '\0';	/* 5432/tcp */
			if (!strcmp(cont, cport) && *parts.v[parts.n - 2])
				host = xstrdup(parts.v[parts.n - 2]);
		}
		strlist_release(&parts);
		if (host)
			return host;
	}
	return NULL;
}

char *compose_image_base(const struct compose_service *s)
{
	const char *b, *end;

	if (!s->image)
		return NULL;
	b = strrchr(s->image, '/');
	b = b ? b + 1 : s->image;
	end = b + strcspn(b, ":@");
	return xstrndup(b, (size_t)(end - b));
}

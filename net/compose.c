#include "net/compose.h"

#include <stdlib.h>
#include <string.h>

#include "util/shquote.h"

struct compose {
	struct xport *x;
	char *prefix;		/* shell words, as given or found */
	char *env;		/* its leading "env A=b ..." part, or "" */
	char *dir;
	struct strlist files;
	char *project;
	int version;
};

/* Finds v2 or v1 in one round trip. */
static int detect(struct compose *c, struct err *e)
{
	static const char probe[] =
		"if docker compose version >/dev/null 2>&1; then echo 2; "
		"elif command -v docker-compose >/dev/null 2>&1; then echo 1; "
		"else echo 0; fi";
	struct buf out = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1;

	io.out = &out;
	if (xport_run(c->x, probe, &io, &st, e) < 0)
		goto out;
	if (out.len && out.p[0] == '2') {
		c->version = 2;
		c->prefix = xstrdup("docker compose");
	} else if (out.len && out.p[0] == '1') {
		c->version = 1;
		c->prefix = xstrdup("docker-compose");
	} else {
		err_set(e, FX_REMOTE, "neither 'docker compose' nor "
			"'docker-compose' found on %s", xport_name(c->x));
		goto out;
	}
	r = 0;
out:
	buf_release(&out);
	return r;
}

/* "env A=1 B=2 docker-compose" -> "env A=1 B=2 " */
static char *env_part(const char *prefix)
{
	const char *p = prefix, *end = prefix;

	if (strncmp(p, "env ", 4))
		return xstrdup("");
	p += 4;
	end = p;
	for (;;) {
		size_t w;

		while (*p == ' ')
			p++;
		w = strcspn(p, " ");
		if (!w || !memchr(p, '=', w))
			break;
		p += w;
		end = p;
	}
	return end == prefix + 4 ? xstrdup("") :
		xstrfmt("%.*s ", (int)(end - prefix), prefix);
}

int compose_open(struct compose **out, struct xport *x,
		 const struct compose_opts *o, struct err *e)
{
	struct compose *c = xcalloc(1, sizeof(*c));

	c->x = x;
	c->dir = xstrdup(o->dir ? o->dir : ".");
	c->project = o->project && *o->project ? xstrdup(o->project) : NULL;
	for (size_t i = 0; o->files && i < o->files->n; i++)
		strlist_add(&c->files, o->files->v[i]);
	if (!o->prefix || !*o->prefix || !strcmp(o->prefix, "auto")) {
		if (detect(c, e) < 0) {
			compose_free(c);
			return -1;
		}
	} else {
		c->prefix = xstrdup(o->prefix);
		c->version = strstr(o->prefix, "docker-compose") ? 1 : 2;
	}
	c->env = env_part(c->prefix);
	*out = c;
	return 0;
}

void compose_free(struct compose *c)
{
	if (!c)
		return;
	free(c->prefix);
	free(c->env);
	free(c->dir);
	free(c->project);
	strlist_release(&c->files);
	free(c);
}

int compose_version(const struct compose *c)
{
	return c->version;
}

const char *compose_prefix(const struct compose *c)
{
	return c->prefix;
}

void compose_cmdline(const struct compose *c, const char *const *args,
		     struct buf *out)
{
	buf_addstr(out, "cd -- ");
	sh_quote_path(out, c->dir);
	/* The prefix is the user's shell words, as the old script had them. */
	buf_printf(out, " && %s", c->prefix);
	for (size_t i = 0; i < c->files.n; i++) {
		buf_addstr(out, " -f ");
		sh_quote(out, c->files.v[i]);
	}
	if (c->project) {
		buf_addstr(out, " -p ");
		sh_quote(out, c->project);
	}
	if (args && *args) {
		buf_addch(out, ' ');
		sh_join(out, args);
	}
}

void compose_docker_cmdline(const struct compose *c, const char *const *args,
			    struct buf *out)
{
	buf_printf(out, "%sdocker", c->env);
	if (args && *args) {
		buf_addch(out, ' ');
		sh_join(out, args);
	}
}

int compose_run(struct compose *c, const char *const *args, struct xrun *io,
		struct proc_status *st, struct err *e)
{
	struct buf cmd = BUF_INIT;
	int r;

	compose_cmdline(c, args, &cmd);
	r = xport_run(c->x, buf_str(&cmd), io, st, e);
	buf_release(&cmd);
	return r;
}

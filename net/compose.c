#include "net/compose.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/shquote.h"

struct compose {
	struct xport *x;
	char *prefix;		/* shell words, as given or found */
	char *env;		/* its leading "env A=b ..." part, or "" */
	char *dir;
	struct strlist files;
	char *project;
	char *labelled;		/* the project's name as the engine knows it */
	int version;
	int hush_dir;		/* a missing dir fails without a word */
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
	/* v1 labels containers with the name lowercased and cut to
	 * [a-z0-9_-]: a name already so is the label as it is. */
	if (c->version == 1 && c->project &&
	    strspn(c->project, "abcdefghijklmnopqrstuvwxyz0123456789_-") ==
	    strlen(c->project))
		c->labelled = xstrdup(c->project);
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
	free(c->labelled);
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

/* A shell test, true when dir is there (a dangling link counts). */
static void dir_there(struct buf *out, const char *dir)
{
	buf_addstr(out, "{ [ -e ");
	sh_quote_path(out, dir);
	buf_addstr(out, " ] || [ -L ");
	sh_quote_path(out, dir);
	buf_addstr(out, " ]; }");
}

void compose_cmdline(const struct compose *c, const char *const *args,
		     struct buf *out)
{
	if (c->hush_dir) {
		/* A dir that is there but cannot be entered still has the
		 * shell say why. */
		dir_there(out, c->dir);
		buf_addstr(out, " && ");
	}
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

void compose_hush_missing_dir(struct compose *c)
{
	c->hush_dir = 1;
}

int compose_dir_missing(struct compose *c, struct err *e)
{
	struct buf cmd = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r;

	dir_there(&cmd, c->dir);
	r = xport_run(c->x, buf_str(&cmd), &io, &st, e);
	buf_release(&cmd);
	if (r < 0)
		return -1;
	return st.exited && st.code == 1;
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

/*
 * The watched stream: the command runs in the background with fd 3 (the
 * exec's stdin) closed; a watcher reads that stdin and, at its EOF, kills
 * the process group.  sshd makes each session a process group of its own
 * (setsid); locally setsid(1) does the same, so ferry is never in it.
 */
int compose_spawn_watched(struct compose *c, const char *cmdline,
			  struct xproc **p, int *in, int *out, int *err,
			  struct err *e)
{
	struct buf w = BUF_INIT, cmd = BUF_INIT;
	int r;

	buf_printf(&w,
		   "exec 3<&0 </dev/null\n"
		   "{ %s\n} 3<&- & p=$!\n"
		   "{ cat <&3 >/dev/null 2>&1; kill -TERM 0; } >/dev/null 2>&1 & w=$!\n"
		   "exec 3<&-\n"
		   "wait $p; st=$?\n"
		   "kill $w 2>/dev/null\n"
		   "exit $st\n", cmdline);
	if (xport_is_local(c->x)) {
		buf_addstr(&cmd, "exec setsid /bin/sh -c ");
		sh_quote(&cmd, buf_str(&w));
	} else {
		buf_addstr(&cmd, buf_str(&w));
	}
	r = xport_spawn(c->x, buf_str(&cmd), p, in, out, err, e);
	buf_release(&w);
	buf_release(&cmd);
	return r;
}

/* Lines that mean the engine itself is not there, from docker, compose
 * v2 and compose v1 (whose Python traceback ends in one of them). */
static const char *const no_daemon[] = {
	"Cannot connect to the Docker daemon",
	"Couldn't connect to Docker daemon",
	"Error while fetching server API version",
	"Is the docker daemon running",
	"docker.sock: connect",
	NULL,
};

void compose_failure(const struct buf *errout, const struct proc_status *st,
		     struct buf *out)
{
	const char *p = buf_str(errout), *best = NULL, *daemon = NULL;
	size_t best_len = 0, daemon_len = 0;
	char why[64];

	while (*p) {
		size_t len = strcspn(p, "\n");
		const char *a = p, *z = p + len;

		while (a < z && (*a == ' ' || *a == '\t'))
			a++;
		while (z > a && (z[-1] == '\r' || z[-1] == ' '))
			z--;
		/* compose v1's advice line says nothing about the cause */
		if (z > a && strncmp(a, "If it's at a non-standard", 25)) {
			best = a;
			best_len = (size_t)(z - a);
			for (size_t i = 0; no_daemon[i] && !daemon; i++)
				if (memmem(a, (size_t)(z - a), no_daemon[i],
					   strlen(no_daemon[i]))) {
					daemon = a;
					daemon_len = (size_t)(z - a);
				}
		}
		p += len + (p[len] == '\n');
	}
	if (daemon) {
		char *line = xstrndup(daemon, daemon_len > 300 ? 300 : daemon_len);

		/* docker's own words may already ask it */
		buf_printf(out, "%s%s", line, strcasestr(line, "daemon running") ?
			   "" : " (is the Docker daemon running?)");
		free(line);
		return;
	}
	if (best)
		buf_printf(out, "%.*s", (int)(best_len > 300 ? 300 : best_len),
			   best);
	else
		buf_addstr(out, proc_status_text(st, why, sizeof(why)));
}

/* `compose config ARGS...`'s stdout into *sout; FX_REMOTE with compose's
 * own reason when it fails. */
static int config_output(struct compose *c, const char *const *args,
			 struct buf *sout, struct err *e)
{
	struct buf serr = BUF_INIT, msg = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1;

	io.out = sout;
	io.err = &serr;
	if (compose_run(c, args, &io, &st, e) < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		compose_failure(&serr, &st, &msg);
		err_set(e, FX_REMOTE, "%s config on %s failed: %s", c->prefix,
			xport_name(c->x), buf_str(&msg));
		goto out;
	}
	r = 0;
out:
	buf_release(&serr);
	buf_release(&msg);
	return r;
}

int compose_services(struct compose *c, struct strlist *out, struct err *e)
{
	static const char *const args[] = { "config", "--services", NULL };
	struct buf sout = BUF_INIT;
	int r = config_output(c, args, &sout, e);

	if (r == 0)
		strlist_split(out, buf_str(&sout));
	buf_release(&sout);
	return r;
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map,
			    const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* compose config's services, split by whether they name profiles. */
static int config_services(struct compose *c, struct strlist *plain,
			   struct strlist *profiled, struct err *e)
{
	static const char *const args[] = { "config", NULL };
	struct buf sout = BUF_INIT;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *svcs;
	int loaded = 0, r = -1;

	if (config_output(c, args, &sout, e) < 0)
		goto out;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf_str(&sout),
				     sout.len);
	loaded = yaml_parser_load(&parser, &doc);
	yaml_parser_delete(&parser);
	if (!loaded) {
		err_set(e, FX_REMOTE, "%s config on %s: its output is not YAML",
			c->prefix, xport_name(c->x));
		goto out;
	}
	svcs = map_get(&doc, yaml_document_get_root_node(&doc), "services");
	for (yaml_node_pair_t *p = svcs && svcs->type == YAML_MAPPING_NODE ?
	     svcs->data.mapping.pairs.start : NULL;
	     p && p < svcs->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *prof = map_get(&doc, yaml_document_get_node(&doc,
							p->value), "profiles");
		int has = prof && prof->type == YAML_SEQUENCE_NODE &&
			prof->data.sequence.items.top >
			prof->data.sequence.items.start;

		if (k && k->type == YAML_SCALAR_NODE)
			strlist_add(has ? profiled : plain,
				    (const char *)k->data.scalar.value);
	}
	r = 0;
out:
	if (loaded)
		yaml_document_delete(&doc);
	buf_release(&sout);
	return r;
}

int compose_up_services(struct compose *c, struct strlist *out, struct err *e)
{
	struct strlist plain = STRLIST_INIT, profiled = STRLIST_INIT;
	struct compose_ctrs ctrs = { NULL, 0 };
	int r = -1;

	if (config_services(c, &plain, &profiled, e) < 0)
		goto out;
	if (profiled.n && compose_containers(c, &ctrs, e) < 0)
		goto out;
	for (size_t i = 0; i < plain.n; i++)
		strlist_add(out, plain.v[i]);
	for (size_t i = 0; i < profiled.n; i++)
		for (size_t k = 0; k < ctrs.n; k++)
			if (!strcmp(ctrs.v[k].service, profiled.v[i])) {
				strlist_add(out, profiled.v[i]);
				break;
			}
	r = 0;
out:
	compose_ctrs_release(&ctrs);
	strlist_release(&plain);
	strlist_release(&profiled);
	return r;
}

int compose_containers(struct compose *c, struct compose_ctrs *out,
		       struct err *e)
{
	static const char *const v2[] = { "ps", "-a", "--format", "json", NULL };
	static const char *const v1[] = { "ps", "-q", NULL };
	static const char *const inspect[] = { "inspect", NULL };
	struct buf cmd = BUF_INIT, sout = BUF_INIT, serr = BUF_INIT;
	struct buf msg = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (c->version == 2) {
		compose_cmdline(c, v2, &cmd);
	} else {
		/* v1 has no JSON of its own: the engine describes the
		 * containers compose names. */
		buf_addstr(&cmd, "ids=$(");
		if (c->labelled) {
			struct buf f = BUF_INIT;
			const char *args[] = { "ps", "-aq", "--filter", NULL,
					       "--filter",
					       "label=com.docker.compose.oneoff=False",
					       NULL };

			buf_printf(&f, "label=com.docker.compose.project=%s",
				   c->labelled);
			args[3] = buf_str(&f);
			compose_docker_cmdline(c, args, &cmd);
			buf_release(&f);
		} else {
			compose_cmdline(c, v1, &cmd);
		}
		buf_addstr(&cmd, ") || exit $?; [ -n \"$ids\" ] || "
			   "{ echo '[]'; exit 0; }; ");
		compose_docker_cmdline(c, inspect, &cmd);
		buf_addstr(&cmd, " $ids");
	}
	io.out = &sout;
	io.err = &serr;
	io.max = 64u << 20;
	if (xport_run(c->x, buf_str(&cmd), &io, &st, e) < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		compose_failure(&serr, &st, &msg);
		err_set(e, FX_REMOTE, "%s ps on %s failed: %s", c->prefix,
			xport_name(c->x), buf_str(&msg));
		goto out;
	}
	r = c->version == 2 ? compose_parse_ps(buf_str(&sout), out, e) :
		compose_parse_inspect(buf_str(&sout), out, e);
	if (r == 0 && c->version == 1 && !c->labelled && out->n &&
	    *out->v[0].project)
		c->labelled = xstrdup(out->v[0].project);
out:
	buf_release(&cmd);
	buf_release(&sout);
	buf_release(&serr);
	buf_release(&msg);
	return r;
}

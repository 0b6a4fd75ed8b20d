#include "agent/ops.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "util/pump.h"

int ops_open(struct ops *o, struct cli *cli, struct err *e)
{
	const struct xport_opts *server = cli_server(cli, e);

	o->cli = cli;
	if (!server || xport_open(&o->x, server, e) < 0 ||
	    compose_open(&o->c, o->x, &cli->server.co, e) < 0)
		return -1;
	compose_hush_missing_dir(o->c);
	return 0;
}

void ops_close(struct ops *o)
{
	compose_free(o->c);
	xport_close(o->x);
	o->c = NULL;
	o->x = NULL;
}

void ops_add_unique(struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return;
	strlist_add(l, s);
}

static void join(const struct strlist *l, struct buf *out)
{
	for (size_t i = 0; l && i < l->n; i++)
		buf_printf(out, "%s%s", i ? ", " : "", l->v[i]);
	if (!l || !l->n)
		buf_addstr(out, "none");
}

int ops_need_remote_dir(const struct conf *c, struct err *e)
{
	const char *d = conf_str(c, "project", "remote_dir");

	/* Not required by the config itself: backups alone do without. */
	if (d && *d)
		return 0;
	return err_set(e, FX_USAGE, "%s: missing required key 'remote_dir' in "
		       "[project] (the project's directory on the server, which "
		       "deploy syncs into)", conf_path(c));
}

int ops_check_services(struct ops *o, const struct strlist *names,
		       struct strlist *all, struct err *e)
{
	struct strlist known = STRLIST_INIT;
	int r = 0;

	if ((!names || !names->n) && !all)
		return 0;
	if (compose_services(o->c, &known, e) < 0)
		return -1;
	for (size_t i = 0; names && i < names->n && !r; i++) {
		int found = 0;

		for (size_t k = 0; k < known.n && !found; k++)
			found = !strcmp(known.v[k], names->v[i]);
		if (!found) {
			struct buf list = BUF_INIT;

			join(&known, &list);
			r = err_set(e, FX_USAGE, "unknown service '%s' (the compose "
				    "project's services: %s)", names->v[i],
				    buf_str(&list));
			buf_release(&list);
		}
	}
	for (size_t k = 0; all && !r && k < known.n; k++)
		strlist_add(all, known.v[k]);
	strlist_release(&known);
	return r;
}

void ops_explain(struct ops *o, const struct strlist *names, struct err *e)
{
	struct err de = ERR_INIT, ce = ERR_INIT;

	if (e->code != FX_REMOTE || !o->c)
		return;
	/* Before the first deploy: what check says, in one line. */
	if (compose_dir_missing(o->c, &de) == 1) {
		err_set(e, FX_REMOTE, "%s%s%s does not exist on %s yet (not "
			"deployed)", o->what ? o->what : "", o->what ? ": " : "",
			o->cli->server.compose_dir, xport_name(o->x));
		return;
	}
	if (!names || !names->n)
		return;
	if (ops_check_services(o, names, NULL, &ce) < 0 && ce.code == FX_USAGE)
		*e = ce;
}

int ops_group(const struct conf *c, const char *name, struct strlist *out,
	      struct err *e)
{
	struct strlist groups = STRLIST_INIT, svc = STRLIST_INIT;
	char *sect = xstrfmt("group.%s", name);
	int r = -1;

	conf_sections_like(c, "group.*", &groups);
	if (!conf_has_section(c, sect)) {
		struct buf list = BUF_INIT;

		for (size_t i = 0; i < groups.n; i++)
			buf_printf(&list, "%s%s", i ? ", " : "",
				   groups.v[i] + strlen("group."));
		err_set(e, FX_USAGE, "unknown group '%s' (--type); %s%s", name,
			groups.n ? "configured groups: " :
			"no [group.NAME] section is configured",
			buf_str(&list));
		buf_release(&list);
		goto out;
	}
	conf_list(c, sect, "services", &svc);
	if (!svc.n) {
		err_set(e, FX_USAGE, "%s: [%s] has no 'services = ...'",
			conf_path(c), sect);
		goto out;
	}
	for (size_t i = 0; i < svc.n; i++)
		ops_add_unique(out, svc.v[i]);
	r = 0;
out:
	strlist_release(&groups);
	strlist_release(&svc);
	free(sect);
	return r;
}

int ops_compose(struct ops *o, const char *const *args,
		const struct strlist *names, struct err *e)
{
	struct strlist argv = STRLIST_INIT;
	struct buf cmd = BUF_INIT, tail = BUF_INIT, why = BUF_INIT;
	struct pump p = PUMP_INIT;
	struct xproc *proc;
	struct proc_status st;
	int werr, r = -1;

	for (size_t i = 0; args[i]; i++)
		strlist_add(&argv, args[i]);
	for (size_t i = 0; names && i < names->n; i++)
		strlist_add(&argv, names->v[i]);
	compose_cmdline(o->c, (const char *const *)argv.v, &cmd);
	fflush(stdout);
	if (compose_spawn_watched(o->c, buf_str(&cmd), &proc, &p.in, &p.out,
				  &p.err, e) < 0)
		goto out;
	p.hold_in = 1;
	p.out_fd = STDOUT_FILENO;
	/* compose's progress and warnings: -q keeps only errors, and a
	 * failure quotes the tail it kept. */
	p.err_fd = cli_quiet() ? -1 : STDERR_FILENO;
	p.err_tail = &tail;
	pump_run(&p, &werr);
	if (xproc_wait(proc, &st, e) < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		compose_failure(&tail, &st, &why);
		err_set(e, FX_REMOTE, "%s %s on %s failed: %s", compose_prefix(o->c),
			args[0], xport_name(o->x), buf_str(&why));
		goto out;
	}
	r = 0;
out:
	strlist_release(&argv);
	buf_release(&cmd);
	buf_release(&tail);
	buf_release(&why);
	return r;
}

void ops_show_logs(struct ops *o, const struct strlist *services, int n)
{
	struct strlist argv = STRLIST_INIT;
	struct buf cmd = BUF_INIT, list = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	struct err e = ERR_INIT;

	strlist_add(&argv, "logs");
	strlist_add(&argv, "--no-color");
	strlist_add_take(&argv, xstrfmt("--tail=%d", n));
	if (services && services->n) {
		strlist_add(&argv, "--");
		for (size_t i = 0; i < services->n; i++)
			strlist_add(&argv, services->v[i]);
	}
	join(services, &list);
	fflush(stdout);
	fprintf(stderr, "ferry: the last %d log lines of %s:\n", n,
		services && services->n ? buf_str(&list) : "every service");
	compose_cmdline(o->c, (const char *const *)argv.v, &cmd);
	io.out_fd = STDERR_FILENO;
	io.err_fd = STDERR_FILENO;
	if (xport_run(o->x, buf_str(&cmd), &io, &st, &e) < 0)
		fprintf(stderr, "ferry: (no logs: %s)\n", e.msg);
	strlist_release(&argv);
	buf_release(&cmd);
	buf_release(&list);
}

int ops_passthrough(struct cli *cli, int argc, char **argv,
		    const char *const *args, int services)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	struct strlist names = STRLIST_INIT;
	struct ops o = OPS_INIT;
	struct err e = ERR_INIT;
	int ch, code = FX_OK;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1)
		return cli_bad_option(argv[0], ch, argc, argv);
	if (!services && optind < argc)
		return cli_usage_error(argv[0], "unexpected argument '%s'",
				       argv[optind]);
	for (int i = optind; i < argc; i++)
		ops_add_unique(&names, argv[i]);
	o.what = argv[0];
	/* Names are checked first: compose's own complaint would come
	 * before ferry's line, in its words. */
	if (ops_open(&o, cli, &e) < 0 ||
	    ops_check_services(&o, &names, NULL, &e) < 0 ||
	    ops_compose(&o, args, &names, &e) < 0) {
		ops_explain(&o, &names, &e);
		code = cli_fail(&e);
	}
	ops_close(&o);
	strlist_release(&names);
	return code;
}

/*
 * ferry check: one row per configured part, like the old check-services
 * script.  Exit 0 only when every row is ok; 3 when SSH itself fails; 2
 * when a value in the config cannot be used (each one a "config" row; the
 * parts that need it are not checked) or deploy would refuse remote_dir.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "agent/ops.h"
#include "backup/component.h"
#include "deploy/remote.h"
#include "net/compose.h"
#include "util/escape.h"
#include "util/jtext.h"
#include "util/shquote.h"
#include "net/xport.h"
#include "conf/conf.h"

struct row {
	const char *part;
	int ok;
	struct buf detail;
};

struct report {
	struct row *rows;
	int n, cap;
	struct xport *x;	/* once open: a row failing after a loss says so */
};

static void add(struct report *r, const char *part, int ok, const char *text)
{
	const char *lost = ok ? NULL : xport_lost(r->x);
	struct row *w;

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 8;
		r->rows = xrealloc(r->rows, (size_t)r->cap * sizeof(*r->rows));
	}
	w = &r->rows[r->n++];

	w->part = part;
	w->ok = ok;
	buf_init(&w->detail);
	buf_addstr(&w->detail, text);
	/* A tunnelled client sees only its socket close ("server closed
	 * the connection"): the cause, and the exit code 3, is the loss. */
	if (lost && !strstr(text, lost))
		buf_printf(&w->detail, " (%s)", lost);
}

/*
 * remote_dir resolved and guarded as deploy does it (a leading ~/ is the
 * remote home; a refused one is a config error, as for deploy); ok when
 * it is a writable directory, or before the first deploy, when that
 * deploy can make it (mkdir -p): its nearest existing parent is one.
 */
static void check_remote_dir(struct xport *x, const struct conf *c,
			     struct report *rep, int *fail_code)
{
	const char *dir = conf_str(c, "project", "remote_dir");
	struct buf cmd = BUF_INIT, out = BUF_INIT, row = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	struct err e = ERR_INIT;
	int ok = 0;

	buf_addstr(&cmd, "D=");
	sh_quote_path(&cmd, dir);
	buf_addstr(&cmd, "; ");
	buf_addstr(&cmd, remote_guard);
	buf_addstr(&cmd, "if [ $new = 0 ]; then test -w \"$D\" && echo there; "
		   "else q=$D; while [ ! -e \"$q\" ] && [ ! -L \"$q\" ]; do "
		   "q=$(dirname -- \"$q\"); done; test -d \"$q\" && "
		   "test -w \"$q\" && echo new; fi");
	io.out = &out;
	if (xport_run(x, buf_str(&cmd), &io, &st, &e) < 0) {
		buf_addstr(&row, e.msg);
	} else if (st.exited && st.code == 5) {
		remote_refusal(dir, &out, &e);
		buf_addstr(&row, e.msg);
		*fail_code = FX_USAGE;
	} else if (!strncmp(buf_str(&out), "there\n", 6)) {
		buf_addstr(&row, dir);
		ok = 1;
	} else if (!strncmp(buf_str(&out), "new\n", 4)) {
		buf_printf(&row, "%s (not there yet: the first deploy makes it)",
			   dir);
		ok = 1;
	} else {
		buf_printf(&row, "%s is not a writable directory on the server, "
			   "nor can the first deploy make it", dir);
	}
	add(rep, "remote dir", ok, buf_str(&row));
	buf_release(&cmd);
	buf_release(&out);
	buf_release(&row);
}

/* Runs cmd; 0 with its first line of output in out, or -1 with the
 * failure in out (compose_failure's words). */
static int probe(struct xport *x, const char *cmd, struct buf *out)
{
	struct buf sout = BUF_INIT, serr = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	struct err e = ERR_INIT;
	int r = -1;

	io.out = &sout;
	io.err = &serr;
	if (xport_run(x, cmd, &io, &st, &e) < 0) {
		buf_addstr(out, e.msg);
	} else if (!st.exited || st.code != 0) {
		/* some tools say why on stdout */
		compose_failure(serr.len ? &serr : &sout, &st, out);
	} else {
		buf_add(out, sout.p ? sout.p : "", strcspn(buf_str(&sout), "\n"));
		r = 0;
	}
	buf_release(&sout);
	buf_release(&serr);
	return r;
}

/*
 * The shell line counting the project's containers: "none" when the
 * compose directory is missing, "nofile" when compose fails because the
 * project's files are not there yet (a server never deployed to), else
 * compose's own failure.  The files are looked for only after compose
 * fails, so a COMPOSE_FILE in the prefix still counts.
 */
static void project_probe(struct compose *c, const struct server *s,
			  struct buf *cmd)
{
	static const char *const ps[] = { "ps", "-q", NULL };
	static const char *const names[] = { "compose.yaml", "compose.yml",
		"docker-compose.yaml", "docker-compose.yml", NULL };

	buf_addstr(cmd, "if [ -d ");
	sh_quote_path(cmd, s->compose_dir);
	buf_addstr(cmd, " ]; then n=$(");
	compose_cmdline(c, ps, cmd);
	buf_addstr(cmd, "); rc=$?; if [ $rc = 0 ]; then "
		   "echo \"$n\" | grep -c . || true; exit 0; fi; cd -- ");
	sh_quote_path(cmd, s->compose_dir);
	if (s->files.n) {	/* every -f file must be there */
		buf_addstr(cmd, " || exit $rc; f=; for x in");
		for (size_t i = 0; i < s->files.n; i++) {
			buf_addch(cmd, ' ');
			sh_quote(cmd, s->files.v[i]);
		}
		buf_addstr(cmd, "; do [ -e \"$x\" ] || f=1; done; "
			   "[ -n \"$f\" ] || exit $rc; echo nofile; ");
	} else {		/* compose looks for any of these */
		buf_addstr(cmd, " || exit $rc; for x in");
		for (size_t i = 0; names[i]; i++)
			buf_printf(cmd, " %s", names[i]);
		buf_addstr(cmd, "; do [ -e \"$x\" ] && exit $rc; done; "
			   "echo nofile; ");
	}
	buf_addstr(cmd, "else echo none; fi");
}

/* ok only when the engine answers and compose can list the project: a
 * green row means a deploy will not stop at compose's first call. */
static void check_compose(struct cli *cli, struct xport *x, struct report *rep)
{
	static const char *const ver[] = { "version", "--format",
					   "{{.Server.Version}}", NULL };
	struct buf cmd = BUF_INIT, cv = BUF_INIT, dv = BUF_INIT, pq = BUF_INIT;
	struct buf row = BUF_INIT;
	struct compose *c = NULL;
	struct err e = ERR_INIT;
	int ok = 0;

	if (compose_open(&c, x, &cli->server.co, &e) < 0) {
		add(rep, "compose", 0, e.msg);
		return;
	}
	buf_printf(&cmd, "%s version --short", compose_prefix(c));
	if (probe(x, buf_str(&cmd), &cv) < 0) {
		buf_printf(&row, "%s does not run: %s", compose_prefix(c),
			   buf_str(&cv));
		goto out;
	}
	buf_printf(&row, "%s %s", compose_prefix(c), buf_str(&cv));
	buf_reset(&cmd);
	compose_docker_cmdline(c, ver, &cmd);
	if (probe(x, buf_str(&cmd), &dv) < 0) {
		buf_printf(&row, ", but the Docker engine does not answer: %s",
			   buf_str(&dv));
		if (!strcasestr(buf_str(&dv), "daemon running"))
			buf_addstr(&row, " (is the Docker daemon running?)");
		goto out;
	}
	buf_printf(&row, ", engine %s", buf_str(&dv));
	buf_reset(&cmd);
	project_probe(c, &cli->server, &cmd);
	if (probe(x, buf_str(&cmd), &pq) < 0) {
		buf_printf(&row, "; compose ps of the project failed: %s",
			   buf_str(&pq));
		goto out;
	}
	if (!strcmp(buf_str(&pq), "none"))
		buf_printf(&row, "; %s does not exist yet (not deployed)",
			   cli->server.compose_dir);
	else if (!strcmp(buf_str(&pq), "nofile"))
		buf_printf(&row, "; no compose file in %s yet (not deployed)",
			   cli->server.compose_dir);
	else
		buf_printf(&row, "; %s container%s", buf_str(&pq),
			   strcmp(buf_str(&pq), "1") ? "s" : "");
	ok = 1;
out:
	add(rep, "compose", ok, buf_str(&row));
	compose_free(c);
	buf_release(&cmd);
	buf_release(&cv);
	buf_release(&dv);
	buf_release(&pq);
	buf_release(&row);
}

/* A row for every configured source, from the component table. */
static void check_sources(struct xport *x, const struct conf *c,
			  const struct compose_opts *co, struct report *rep)
{
	for (const struct component *k = components; k->name; k++) {
		struct bk_ctx ctx = { .conf = c, .x = x, .compose = co };
		struct buf detail = BUF_INIT;
		struct err e = ERR_INIT;
		int r;

		if (!k->check || !conf_has_section(c, k->section))
			continue;
		r = conf_need(c, k->section, NULL, &e) < 0 ? -1 :
			k->check(&ctx, &detail, &e);
		/* It may quote a server's file name in any bytes. */
		if (r < 0)
			esc_fix_text(e.msg, sizeof(e.msg));
		add(rep, k->row ? k->row : k->name, r == 0,
		    r == 0 ? buf_str(&detail) : e.msg);
		buf_release(&detail);
	}
}

static void print_report(const struct report *rep, int json)
{
	json_t *arr = json ? json_array() : NULL;

	for (int i = 0; i < rep->n; i++) {
		const struct row *w = &rep->rows[i];

		if (arr)
			json_array_append_new(arr, json_pack("{s:s, s:b, s:o}",
				"part", w->part, "ok", w->ok, "detail",
				jtext_new(buf_str(&w->detail))));
		else if (!w->ok || !cli_quiet())	/* -q: only what failed */
			printf("%-11s %-4s %s\n", w->part, w->ok ? "ok" : "FAIL",
			       buf_str(&w->detail));
	}
	if (arr) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	}
	fflush(stdout);
}

static int said_lost(const struct report *rep, const char *lost)
{
	for (int i = 0; i < rep->n; i++)
		if (strstr(buf_str(&rep->rows[i].detail), lost))
			return 1;
	return 0;
}

/* One "config" row per value that cannot be used; how many. */
static size_t config_rows(const struct conf *c, struct report *rep)
{
	struct strlist problems = STRLIST_INIT;
	size_t n = conf_problems(c, NULL, &problems);

	for (size_t i = 0; i < n; i++)
		add(rep, "config", 0, problems.v[i]);
	strlist_release(&problems);
	return n;
}

static int cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct report rep = { 0 };
	struct xport *x = NULL;
	struct err e = ERR_INIT;
	const struct conf *c;
	const struct xport_opts *server;
	const char *lost = NULL;
	int ch, code = FX_OK, fail_code = FX_FAIL;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'j')
			return cli_bad_option("check", ch, argc, argv);
		cli->json = 1;
	}
	if (optind < argc)
		return cli_usage_error("check", "unexpected argument '%s'",
				       argv[optind]);
	if (cli_conf(cli, &e) < 0)
		return cli_fail(&e);
	c = cli->conf;
	if (config_rows(c, &rep))
		fail_code = FX_USAGE;
	if (!(server = cli_server(cli, &e))) {
		add(&rep, "ssh", 0, e.msg);
		/* A bad ssh_config, or a route ferry cannot follow yet, is
		 * a config error (2). */
		if (fail_code != FX_USAGE)
			fail_code = err_exit(&e);
		goto out;
	}
	if (xport_open(&x, server, &e) < 0) {
		const char *route = server_route(&cli->server);
		/* Through a route, which way was tried comes first. */
		char *msg = *route ? xstrfmt("%s@%s:%d%s: %s", server->ssh.user,
					     server->ssh.host, server->ssh.port,
					     route, e.msg) : xstrdup(e.msg);

		add(&rep, "ssh", 0, msg);
		free(msg);
		if (fail_code != FX_USAGE)
			fail_code = FX_CONN;
		goto out;
	}
	rep.x = x;
	if (xport_is_local(x)) {
		add(&rep, "ssh", 1, "local (no SSH)");
	} else {
		/* The route too: "ferry@db-dev:22 via bastion". */
		char *name = xstrfmt("%s%s", xport_name(x),
				     server_route(&cli->server));

		add(&rep, "ssh", 1, name);
		free(name);
	}
	if (conf_is_set(c, "project", "remote_dir"))
		check_remote_dir(x, c, &rep, &fail_code);
	else if (conf_has_section(c, "project")) {
		struct err re = ERR_INIT;

		if (ops_need_remote_dir(c, &re) < 0) {
			add(&rep, "remote dir", 0, re.msg);
			fail_code = FX_USAGE;
		}
	}
	if (conf_has_section(c, "project"))
		check_compose(cli, x, &rep);
	check_sources(x, c, &cli->server.co, &rep);
	/* Lost after the last row, or with every row done: exit 3 must
	 * still come with its reason.  Asked once: a loss noticed after
	 * this would give exit 3 to a report that does not say so. */
	if ((lost = xport_lost(x)) && !said_lost(&rep, lost))
		add(&rep, "ssh", 0, lost);
out:
	print_report(&rep, cli->json);
	for (int i = 0; i < rep.n; i++) {
		if (!rep.rows[i].ok)
			code = fail_code;
		buf_release(&rep.rows[i].detail);
	}
	free(rep.rows);
	/* Rows that failed because the session died are the connection's
	 * failure: exit 3, as when it cannot be opened. */
	if (lost)
		code = FX_CONN;
	xport_close(x);
	return code;
}

const struct cli_cmd cmd_check_entry = {
	"check", cmd_check, "[--json]",
	"check that every configured part is reachable",
	"  --json            print the rows as JSON\n"
	"exit 0 only when every row is ok; 3 when SSH itself fails or the\n"
	"connection is lost while checking; 2 when a config value cannot be\n"
	"used (one 'config' row each) or deploy would refuse remote_dir\n",
	NULL,
};

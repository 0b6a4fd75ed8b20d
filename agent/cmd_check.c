/*
 * ferry check: one row per configured part, like the old check-services
 * script.  Exit 0 only when every row is ok; 3 when SSH itself fails.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "backup/component.h"
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
};

static void add(struct report *r, const char *part, int ok, const char *text)
{
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
}

static void run_row(struct xport *x, struct report *rep, const char *part,
		    const char *cmd, const char *failmsg)
{
	struct buf out = BUF_INIT, errout = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	struct err e = ERR_INIT;

	io.out = &out;
	io.err = &errout;
	if (xport_run(x, cmd, &io, &st, &e) < 0) {
		add(rep, part, 0, e.msg);
	} else if (!st.exited || st.code != 0) {
		add(rep, part, 0, failmsg);
	} else {
		while (out.len && out.p[out.len - 1] == '\n')
			buf_setlen(&out, out.len - 1);
		add(rep, part, 1, buf_str(&out));
	}
	buf_release(&out);
	buf_release(&errout);
}

static void check_remote_dir(struct xport *x, const struct conf *c,
			     struct report *rep)
{
	const char *dir = conf_str(c, "project", "remote_dir");
	struct buf cmd = BUF_INIT, msg = BUF_INIT;

	buf_addstr(&cmd, "d=");
	sh_quote(&cmd, dir);
	buf_addstr(&cmd, "; test -d \"$d\" && test -w \"$d\" && "
		   "printf '%s\\n' \"$d\"");
	buf_printf(&msg, "%s is missing or not writable on the server", dir);
	run_row(x, rep, "remote dir", buf_str(&cmd), buf_str(&msg));
	buf_release(&cmd);
	buf_release(&msg);
}

static void check_compose(struct xport *x, struct report *rep)
{
	run_row(x, rep, "compose",
		"if docker compose version >/dev/null 2>&1; then "
		"echo \"docker compose $(docker compose version --short)\"; "
		"elif command -v docker-compose >/dev/null 2>&1; then "
		"echo \"docker-compose $(docker-compose version --short)\"; "
		"else exit 127; fi",
		"neither 'docker compose' nor 'docker-compose' found on the server");
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
		r = k->check(&ctx, &detail, &e);
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
			json_array_append_new(arr, json_pack("{s:s, s:b, s:s}",
				"part", w->part, "ok", w->ok, "detail",
				buf_str(&w->detail)));
		else
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
	int ch, code = FX_OK;

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
	if (xport_open(&x, cli_server(cli, &e), &e) < 0) {
		add(&rep, "ssh", 0, e.msg);
		print_report(&rep, cli->json);
		buf_release(&rep.rows[0].detail);
		free(rep.rows);
		return FX_CONN;
	}
	add(&rep, "ssh", 1, xport_is_local(x) ? "local (no SSH)" : xport_name(x));
	if (conf_is_set(c, "project", "remote_dir"))
		check_remote_dir(x, c, &rep);
	if (conf_has_section(c, "project"))
		check_compose(x, &rep);
	check_sources(x, c, &cli->server.co, &rep);
	print_report(&rep, cli->json);
	for (int i = 0; i < rep.n; i++) {
		if (!rep.rows[i].ok)
			code = FX_FAIL;
		buf_release(&rep.rows[i].detail);
	}
	free(rep.rows);
	/* Rows that failed because the session died are the connection's
	 * failure: exit 3, as when it cannot be opened. */
	if (xport_lost(x))
		code = FX_CONN;
	xport_close(x);
	return code;
}

const struct cli_cmd cmd_check_entry = {
	"check", cmd_check, "[--json]",
	"check that every configured part is reachable",
	"  --json            print the rows as JSON\n"
	"exit 0 only when every row is ok; 3 when SSH itself fails or the\n"
	"connection is lost while checking\n",
	NULL,
};

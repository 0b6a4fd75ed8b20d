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
#include "agent/probe.h"
#include "agent/shquote.h"
#include "agent/xport.h"
#include "conf/conf.h"

struct row {
	const char *part;
	int ok;
	struct buf detail;
};

struct report {
	struct row rows[8];
	int n;
};

static void add(struct report *r, const char *part, int ok, const char *text)
{
	struct row *w = &r->rows[r->n++];

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

typedef int (*probe_fn)(const struct probe_target *, struct buf *,
			struct err *);
typedef int (*url_probe_fn)(const char *, const struct probe_target *,
			    struct buf *, struct err *);

static void finish_probe(struct report *rep, const char *part, int r,
			 struct buf *detail, const struct err *e)
{
	add(rep, part, r == 0, r == 0 ? buf_str(detail) : e->msg);
	buf_release(detail);
}

static void check_tcp(struct xport *x, const struct conf *c, struct report *rep,
		      const char *part, const char *sect, int tunnel,
		      struct probe_target *t, probe_fn probe)
{
	struct buf detail = BUF_INIT;
	struct err e = ERR_INIT;
	char *host = NULL;
	int port = (int)conf_num(c, sect, "port"), r;

	t->timeout_ms = conf_num(c, "server", "connect_timeout");
	if (tunnel)
		r = xport_forward(x, conf_str(c, sect, "host"), port, &host, &port,
				  &e);
	else
		r = (host = xstrdup(conf_str(c, sect, "host"))) ? 0 : -1;
	if (r == 0) {
		t->host = host;
		t->port = port;
		r = probe(t, &detail, &e);
	}
	finish_probe(rep, part, r, &detail, &e);
	free(host);
}

static void check_url(struct xport *x, const struct conf *c,
		      struct report *rep, const char *part, const char *url,
		      struct probe_target *t, url_probe_fn probe)
{
	struct buf detail = BUF_INIT;
	struct err e = ERR_INIT;
	char *local = NULL;
	int r;

	t->timeout_ms = conf_num(c, "server", "connect_timeout");
	r = xport_forward_url(x, url, &local, &e);
	if (r == 0)
		r = probe(local, t, &detail, &e);
	finish_probe(rep, part, r, &detail, &e);
	free(local);
}

static void check_services(struct xport *x, const struct conf *c,
			   struct report *rep)
{
	struct probe_target t;

	if (conf_has_section(c, "postgres")) {
		struct strlist dbs = STRLIST_INIT;

		conf_list(c, "postgres", "databases", &dbs);
		t = (struct probe_target){ 0 };
		t.user = conf_str(c, "postgres", "user");
		t.password = conf_str(c, "postgres", "password");
		t.database = dbs.n && strcmp(dbs.v[0], "all") ? dbs.v[0] : "postgres";
		check_tcp(x, c, rep, "postgres", "postgres",
			  (int)conf_num(c, "postgres", "tunnel") &&
			  !xport_is_local(x), &t, probe_postgres);
		strlist_release(&dbs);
	}
	if (conf_has_section(c, "redis")) {
		t = (struct probe_target){ 0 };
		t.password = conf_str(c, "redis", "password");
		check_tcp(x, c, rep, "redis", "redis", !xport_is_local(x), &t,
			  probe_redis);
	}
	if (conf_has_section(c, "minio")) {
		t = (struct probe_target){ 0 };
		t.user = conf_str(c, "minio", "access_key");
		t.password = conf_str(c, "minio", "secret_key");
		t.database = conf_str(c, "minio", "region");
		check_url(x, c, rep, "s3", conf_str(c, "minio", "endpoint"), &t,
			  probe_s3);
	}
	if (conf_has_section(c, "neo4j")) {
		t = (struct probe_target){ 0 };
		t.user = conf_str(c, "neo4j", "user");
		t.password = conf_str(c, "neo4j", "password");
		t.database = conf_str(c, "neo4j", "database");
		check_url(x, c, rep, "neo4j", conf_str(c, "neo4j", "url"), &t,
			  probe_neo4j);
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

int cmd_check(struct cli *cli, int argc, char **argv)
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

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return FX_USAGE;
		cli->json = 1;
	}
	if (optind < argc)
		return cli_usage_error("check", "unexpected argument '%s'",
				       argv[optind]);
	if (cli_conf(cli, &e) < 0)
		return cli_fail(&e);
	c = cli->conf;
	if (xport_open(&x, c, &e) < 0) {
		add(&rep, "ssh", 0, e.msg);
		print_report(&rep, cli->json);
		buf_release(&rep.rows[0].detail);
		return FX_CONN;
	}
	add(&rep, "ssh", 1, xport_is_local(x) ? "local (no SSH)" : xport_name(x));
	if (conf_is_set(c, "project", "remote_dir"))
		check_remote_dir(x, c, &rep);
	if (conf_has_section(c, "project"))
		check_compose(x, &rep);
	check_services(x, c, &rep);
	print_report(&rep, cli->json);
	for (int i = 0; i < rep.n; i++) {
		if (!rep.rows[i].ok)
			code = FX_FAIL;
		buf_release(&rep.rows[i].detail);
	}
	xport_close(x);
	return code;
}

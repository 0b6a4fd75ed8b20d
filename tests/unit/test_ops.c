/*
 * The deploy operations' pure parts: compose's container listings (v2's
 * ps JSON in both shapes, v1's docker inspect), failure wording, log
 * timestamps, the history line, ages, and the pump's lines and stop.
 */
#include "deploy/history.h"
#include "deploy/logs.h"
#include "net/compose.h"
#include "tests/unit/t.h"
#include "util/ident.h"
#include "util/pump.h"

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

static void ps_json(void)
{
	static const char array[] =
		"[{\"ID\":\"a1\",\"Name\":\"proj-web-1\",\"Project\":\"proj\","
		"\"Service\":\"web\",\"State\":\"running\",\"Health\":\"healthy\","
		"\"ExitCode\":0},{\"ID\":\"b2\",\"Name\":\"proj-db-1\","
		"\"Project\":\"proj\",\"Service\":\"db\",\"State\":\"exited\","
		"\"Health\":\"\",\"ExitCode\":3}]";
	static const char lines[] =
		"{\"ID\":\"a1\",\"Name\":\"proj-web-1\",\"Project\":\"proj\","
		"\"Service\":\"web\",\"State\":\"running\",\"Health\":\"starting\","
		"\"ExitCode\":0}\n"
		"{\"ID\":\"c3\",\"Name\":\"proj-web-2\",\"Project\":\"proj\","
		"\"Service\":\"web\",\"State\":\"restarting\",\"Health\":\"\","
		"\"ExitCode\":1}\n";
	struct compose_ctrs l;
	struct err e = ERR_INIT;

	T_OK(compose_parse_ps(array, &l, &e) == 0 && l.n == 2,
	     "v2 ps: the array of compose < 2.21");
	if (l.n == 2) {
		T_STREQ(l.v[0].service, "db", "sorted by service");
		T_STREQ(l.v[0].name, "db-1", "name as the log prefix");
		T_STREQ(l.v[0].container, "proj-db-1", "the container's own name");
		T_STREQ(l.v[0].state, "exited", "state");
		T_OK(l.v[0].exit_code == 3, "exit code");
		T_STREQ(l.v[1].health, "healthy", "health");
	}
	compose_ctrs_release(&l);
	T_OK(compose_parse_ps(lines, &l, &e) == 0 && l.n == 2,
	     "v2 ps: one object a line (compose >= 2.21)");
	if (l.n == 2)
		T_STREQ(l.v[1].name, "web-2", "second replica");
	compose_ctrs_release(&l);
	T_OK(compose_parse_ps("", &l, &e) == 0 && l.n == 0, "no containers");
	T_OK(compose_parse_ps("oops\n", &l, &e) < 0 && e.code == FX_REMOTE,
	     "garbage is an error");
}

static void inspect_json(void)
{
	static const char text[] =
		"[{\"Id\":\"abc\",\"Name\":\"/p_worker_1\",\"State\":{\"Status\":"
		"\"running\",\"ExitCode\":0},\"Config\":{\"Labels\":{"
		"\"com.docker.compose.project\":\"p\","
		"\"com.docker.compose.service\":\"worker\","
		"\"com.docker.compose.container-number\":\"1\"}}},"
		"{\"Id\":\"def\",\"Name\":\"/p_web_1\",\"State\":{\"Status\":"
		"\"running\",\"ExitCode\":0,\"Health\":{\"Status\":\"unhealthy\"}},"
		"\"Config\":{\"Labels\":{\"com.docker.compose.project\":\"p\","
		"\"com.docker.compose.service\":\"web\","
		"\"com.docker.compose.container-number\":\"1\"}}}]";
	struct compose_ctrs l;
	struct err e = ERR_INIT;

	T_OK(compose_parse_inspect(text, &l, &e) == 0 && l.n == 2,
	     "v1: docker inspect parsed");
	if (l.n == 2) {
		T_STREQ(l.v[0].service, "web", "service from the label");
		T_STREQ(l.v[0].name, "web_1", "v1's log prefix SERVICE_NUMBER");
		T_STREQ(l.v[0].container, "p_web_1", "v1: the container's name");
		T_STREQ(l.v[0].health, "unhealthy", "health from State.Health");
		T_STREQ(l.v[1].health, "", "no healthcheck: empty");
		T_STREQ(l.v[1].project, "p", "project label");
	}
	compose_ctrs_release(&l);
	T_OK(compose_parse_inspect("{}", &l, &e) < 0, "not an array: error");
}

static void failure_words(void)
{
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct proc_status st = { 1, 1, "" };

	buf_addstr(&err, "Traceback (most recent call last):\n  File x\n"
		   "docker.errors.DockerException: Error while fetching server "
		   "API version: ('Connection aborted.', FileNotFoundError(2))\n");
	compose_failure(&err, &st, &out);
	T_OK(strstr(buf_str(&out), "Error while fetching server API version") &&
	     strstr(buf_str(&out), "(is the Docker daemon running?)"),
	     "v1's traceback: its last line and the hint");
	buf_reset(&err);
	buf_reset(&out);
	buf_addstr(&err, "Couldn't connect to Docker daemon at http+docker://"
		   "localhost - is it running?\n\nIf it's at a non-standard "
		   "location, specify the URL with the DOCKER_HOST environment "
		   "variable.\n");
	compose_failure(&err, &st, &out);
	T_OK(!strncmp(buf_str(&out), "Couldn't connect", 16),
	     "v1's advice line is not the cause");
	buf_reset(&err);
	buf_reset(&out);
	buf_addstr(&err, "Cannot connect to the Docker daemon at unix:///x.sock. "
		   "Is the docker daemon running?\n");
	compose_failure(&err, &st, &out);
	T_OK(!strstr(buf_str(&out), "(is the Docker"), "no hint twice");
	buf_reset(&err);
	buf_reset(&out);
	buf_addstr(&err, "No such service: nosuch\n");
	compose_failure(&err, &st, &out);
	T_STREQ(buf_str(&out), "No such service: nosuch", "other errors as said");
	buf_reset(&err);
	buf_reset(&out);
	compose_failure(&err, &st, &out);
	T_STREQ(buf_str(&out), "exit code 1", "silence: the status");
	buf_release(&err);
	buf_release(&out);
}

static void timestamps(void)
{
	long long sec;
	long nsec;
	size_t used;
	const char *a = "2026-11-30T05:22:26.362296188Z tick 8";

	T_OK(logs_parse_ts(a, strlen(a), &sec, &nsec, &used) == 0 &&
	     sec == 1796016146LL && nsec == 362296188 && used == 30,
	     "nanosecond timestamp");
	T_OK(logs_parse_ts("2026-11-30T05:22:26.36Z x", 25, &sec, &nsec,
			   &used) == 0 && nsec == 360000000,
	     "fewer digits are tenths");
	T_OK(logs_parse_ts("2026-11-30T05:22:26Z", 20, &sec, &nsec, &used) == 0 &&
	     nsec == 0, "no fraction");
	T_OK(logs_parse_ts("tick 8", 6, &sec, &nsec, &used) < 0, "no timestamp");
	T_OK(logs_parse_ts("2026-11-30T05:22:26.1+01:00", 27, &sec, &nsec,
			   &used) < 0, "UTC only");
}

static void ages(void)
{
	struct buf b = BUF_INIT;
	time_t t;

	ident_age(45, &b);
	T_STREQ(buf_str(&b), "45s", "seconds");
	buf_reset(&b);
	ident_age(1800, &b);
	T_STREQ(buf_str(&b), "30m", "whole minutes");
	buf_reset(&b);
	ident_age(3725, &b);
	T_STREQ(buf_str(&b), "1h2m", "hours");
	buf_reset(&b);
	ident_utc(0, &b);
	T_STREQ(buf_str(&b), "1970-01-01T00:00:00Z", "utc");
	T_OK(ident_parse_utc("2026-11-30T05:22:26.5Z", &t) == 0 &&
	     t == 1796016146, "parse utc");
	buf_release(&b);
}

static void history(void)
{
	struct strlist svc = STRLIST_INIT;
	struct history_rec r = { 0 };
	char *line;
	json_t *j;

	strlist_add(&svc, "web");
	r.time = 0;
	r.sent = 3;
	r.deleted = 1;
	r.bytes = 1234;
	r.services = &svc;
	r.seconds = 2.345;
	r.result = "failed";
	r.exit_code = 4;
	r.error = "health gate: not ready";
	line = history_line(&r);
	T_OK(line && !strchr(line, '\n'), "one line");
	j = json_loads(line, 0, NULL);
	T_OK(j && !strcmp(json_string_value(json_object_get(j, "time")),
			  "1970-01-01T00:00:00Z"), "time in UTC");
	T_OK(j && json_integer_value(json_object_get(j, "exit")) == 4 &&
	     json_integer_value(json_object_get(j, "bytes")) == 1234 &&
	     json_array_size(json_object_get(j, "services")) == 1 &&
	     json_object_get(j, "user") && json_object_get(j, "host") &&
	     !json_object_get(j, "commit"), "fields (no commit outside git)");
	json_decref(j);
	free(line);
	strlist_release(&svc);
}

struct got {
	struct buf lines;
	int n;
};

static int on_line(void *ctx, const char *line, size_t len)
{
	struct got *g = ctx;

	g->n++;
	buf_addch(&g->lines, '[');
	buf_add(&g->lines, line, len);
	buf_addch(&g->lines, ']');
	return 0;
}

static void pump(void)
{
	struct got g = { BUF_INIT, 0 };
	struct pump p = PUMP_INIT;
	int out[2], err[2], in[2], stop[2], werr;
	struct buf tail = BUF_INIT;
	enum pump_end end;

	if (pipe(out) || pipe(err) || pipe(in) || pipe(stop))
		return;
	if (write(out[1], "a\nbb\nc", 6) != 6 || write(err[1], "oops\n", 5) != 5)
		return;
	close(out[1]);
	close(err[1]);
	p.in = in[1];
	p.out = out[0];
	p.err = err[0];
	p.line = on_line;
	p.ctx = &g;
	p.err_tail = &tail;
	end = pump_run(&p, &werr);
	T_OK(end == PUMP_EOF, "pump ends at EOF");
	T_STREQ(buf_str(&g.lines), "[a\n][bb\n][c]", "lines, the last without \\n");
	T_STREQ(buf_str(&tail), "oops\n", "stderr's tail kept");
	{
		char c;

		T_OK(read(in[0], &c, 1) == 0, "stdin closed without a source");
	}
	close(in[0]);

	/* a stop: stdin closes, the command is given grace_ms, then left */
	if (pipe(out) || pipe(err) || pipe(in))
		return;
	p = (struct pump)PUMP_INIT;
	p.in = in[1];
	p.hold_in = 1;
	p.out = out[0];
	p.err = err[0];
	p.out_fd = -1;
	p.stop_fd = stop[0];
	p.grace_ms = 50;
	if (write(stop[1], "x", 1) != 1)
		return;
	end = pump_run(&p, &werr);
	T_OK(end == PUMP_ABANDONED, "a command that does not end is left");
	{
		char c;

		T_OK(read(in[0], &c, 1) == 0, "its stdin was closed first");
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(stop[0]);
	close(stop[1]);
	buf_release(&g.lines);
	buf_release(&tail);
}

int main(void)
{
	ps_json();
	inspect_json();
	failure_words();
	timestamps();
	ages();
	history();
	pump();
	return T_DONE();
}

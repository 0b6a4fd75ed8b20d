/*
 * The deploy operations' pure parts: compose's container listings (v2's
 * ps JSON in both shapes, v1's docker inspect), failure wording, log
 * timestamps, the history line, ages, and the pump's lines and stop; and
 * two scripts run by this machine's sh: remote_dir's guard and a compose
 * command line in a directory that is not there.
 */
#include "deploy/history.h"
#include "deploy/logs.h"
#include "deploy/remote.h"
#include "net/compose.h"
#include "tests/unit/t.h"
#include "util/ident.h"
#include "util/pump.h"
#include "util/shquote.h"

#include <jansson.h>
#include <stdlib.h>
#include <sys/wait.h>
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

/* Runs script with sh, stdout and stderr into out; its exit status. */
static int sh_run(const char *script, struct buf *out)
{
	char *cmd = xstrfmt("exec 2>&1; %s", script);
	FILE *f = popen(cmd, "r");
	char chunk[512];
	size_t n;
	int st;

	free(cmd);
	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The guard's verdict on paths that need not exist here: as written and
 * through their nearest existing parent. */
static void guard(void)
{
	static const struct {
		const char *dir, *out;
	} cases[] = {
		{ "/usr/bin", "refuse it is inside /usr, a system directory" },
		{ "/usr/local", "refuse it is inside /usr, a system directory" },
		{ "/usr/local/bin/", "refuse it is inside /usr, a system directory" },
		{ "/etc/nginx", "refuse it is inside /etc, a system directory" },
		{ "/lib64/x", "refuse it is inside /lib64, a system directory" },
		{ "/boot/efi", "refuse it is inside /boot, a system directory" },
		{ "/dev/shm/app", "refuse it is inside /dev, a system directory" },
		{ "/run/user/app", "refuse it is inside /run, a system directory" },
		{ "/var/tmp", "refuse it is a system directory" },
		{ "/var/www", "refuse it is a system directory" },
		{ "/var/tmp/app", "refuse it is inside /var/tmp, a system directory" },
		{ "/var/lib/docker/x", "refuse it is inside /var/lib, a system directory" },
		{ "/var/log/app", "refuse it is inside /var/log, a system directory" },
		{ "/var/cache/app", "refuse it is inside /var/cache, a system directory" },
		{ "/var/spool/app", "refuse it is inside /var/spool, a system directory" },
		{ "/usr/../etc", "dir /etc\nrefuse it is a system directory" },
		{ "/etc", "refuse it is a system directory" },
		{ "/srv", "refuse it is a system directory" },
		{ "/", "refuse it is /" },
		{ "/srv/ferry-app", "pass" },
		{ "/opt/ferry-app", "pass" },
		{ "/var/www/ferry-app", "pass" },
		{ "/var/opt/ferry-app", "pass" },
		{ "/home/ferry-user/app", "pass" },
		{ "/tmp/ferry-app", "pass" },
		{ "/mnt/data/ferry-app", "pass" },
		{ "/usr/../srv/ferry-app", "pass" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf cmd = BUF_INIT, out = BUF_INIT;
		char *name = xstrfmt("guard: %s", cases[i].dir);
		const char *got;

		buf_addstr(&cmd, "D=");
		sh_quote_path(&cmd, cases[i].dir);
		buf_addstr(&cmd, "; ");
		buf_addstr(&cmd, remote_guard);
		buf_addstr(&cmd, "echo pass");
		sh_run(buf_str(&cmd), &out);
		while (out.len && out.p[out.len - 1] == '\n')
			buf_setlen(&out, out.len - 1);
		/* the "dir" line only when the case names where it leads */
		got = buf_str(&out);
		if (strncmp(cases[i].out, "dir ", 4) && !strncmp(got, "dir ", 4) &&
		    strchr(got, '\n'))
			got = strchr(got, '\n') + 1;
		T_STREQ(got, cases[i].out, name);
		free(name);
		buf_release(&cmd);
		buf_release(&out);
	}
}

/* Hushed, a compose command in a missing dir fails without the shell's
 * word; a dir that cannot be entered still has it say why. */
static void hushed_dir(void)
{
	static const char *const ps[] = { "ps", NULL };
	struct compose_opts o = { "echo compose", "/nonexistent/ferry-dir", NULL,
				  NULL };
	struct buf cmd = BUF_INIT, out = BUF_INIT;
	struct compose *c = NULL;
	struct err e = ERR_INIT;
	int st;

	if (compose_open(&c, NULL, &o, &e) < 0) {
		T_OK(0, e.msg);
		return;
	}
	compose_cmdline(c, ps, &cmd);
	st = sh_run(buf_str(&cmd), &out);
	T_OK(st != 0 && strstr(buf_str(&out), "/nonexistent/ferry-dir"),
	     "not hushed: the shell names the missing dir");
	compose_hush_missing_dir(c);
	buf_reset(&cmd);
	buf_reset(&out);
	compose_cmdline(c, ps, &cmd);
	st = sh_run(buf_str(&cmd), &out);
	T_OK(st == 1, "hushed: a missing dir fails");
	T_STREQ(buf_str(&out), "", "hushed: without a word");
	compose_free(c);
	o.dir = "/dev/null";	/* there, but not a directory */
	if (compose_open(&c, NULL, &o, &e) == 0) {
		compose_hush_missing_dir(c);
		buf_reset(&cmd);
		buf_reset(&out);
		compose_cmdline(c, ps, &cmd);
		st = sh_run(buf_str(&cmd), &out);
		T_OK(st != 0 && strstr(buf_str(&out), "/dev/null"),
		     "hushed: a dir that cannot be entered is still named");
		compose_free(c);
	}
	buf_reset(&cmd);
	buf_reset(&out);
	o.dir = "/";
	if (compose_open(&c, NULL, &o, &e) == 0) {
		compose_hush_missing_dir(c);
		compose_cmdline(c, ps, &cmd);
		st = sh_run(buf_str(&cmd), &out);
		T_OK(st == 0 && !strcmp(buf_str(&out), "compose ps\n"),
		     "hushed: a dir that is there runs compose");
		compose_free(c);
	}
	buf_release(&cmd);
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
	guard();
	hushed_dir();
	timestamps();
	ages();
	history();
	pump();
	return T_DONE();
}

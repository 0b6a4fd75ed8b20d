/* backup/logs.c's pipeline on this machine (host = local), with a
 * stand-in for compose that prints what compose logs --timestamps prints:
 * the start of the last good logs backup becomes --since (docker compose)
 * or the time filter (docker-compose, which has none), and the newest
 * max_bytes are kept in whole lines. */
#include "backup/component.h"
#include "tests/unit/t.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/archive.h"
#include "conf/conf.h"
#include "net/compose.h"
#include "net/xport.h"

static char scratch[] = "/tmp/ferry-test-logs-XXXXXX";

static void write_file(const char *name, const char *text, int mode)
{
	char *p = xstrfmt("%s/%s", scratch, name);
	FILE *f = fopen(p, "w");

	fputs(text, f);
	fclose(f);
	chmod(p, (mode_t)mode);
	free(p);
}

/* The one member's content, and the manifest detail the run wrote. */
static int run_logs(const char *compose, long long max, struct buf *log,
		    json_t **detail)
{
	struct conf *c = NULL;
	struct err e = ERR_INIT;
	struct xport_opts xo = { 0 };
	struct xport *x = NULL;
	struct arc *a = NULL;
	struct strlist files = STRLIST_INIT;
	struct compose_opts co = { compose, scratch, &files, NULL };
	struct archive *r;
	struct archive_entry *ent;
	char *text, *path = xstrfmt("%s/out.tar.zst", scratch), chunk[4096];
	la_ssize_t n;
	int fd, rc;

	text = xstrfmt("[server]\nhost = local\n[backup]\ndir = %s/repo\n"
		       "name = t\n[logs]\nservices = web\nmax_bytes = %lld\n",
		       scratch, max);
	xo.local = 1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (conf_load_string(&c, text, "t.ini", &e) < 0 ||
	    xport_open(&x, &xo, &e) < 0 || arc_create(&a, fd, 3, 1, 0, &e) < 0) {
		printf("not ok - setup: %s\n", e.msg);
		return -1;
	}
	{
		struct bk_ctx ctx = { .conf = c, .x = x, .arc = a,
				      .compose = &co };

		*detail = json_object();
		rc = logs_backup(&ctx, *detail, &e);
		if (rc < 0)
			printf("# logs_backup: %s\n", e.msg);
	}
	if (arc_sync(a, &e) < 0 || arc_finish(a, &e) < 0)
		rc = -1;
	close(fd);
	buf_reset(log);
	r = archive_read_new();
	archive_read_support_filter_zstd(r);
	archive_read_support_format_tar(r);
	if (archive_read_open_filename(r, path, 65536) == ARCHIVE_OK &&
	    archive_read_next_header(r, &ent) == ARCHIVE_OK)
		while ((n = archive_read_data(r, chunk, sizeof(chunk))) > 0)
			buf_add(log, chunk, (size_t)n);
	archive_read_free(r);
	arc_free(a);
	xport_close(x);
	conf_free(c);
	free(text);
	free(path);
	return rc;
}

/* What the stand-in in dir was called with last. */
static void read_args(struct buf *args, const char *dir)
{
	char *p = xstrfmt("%s/%s/args", scratch, dir);
	FILE *f = fopen(p, "r");
	char line[512];

	buf_reset(args);
	if (f && fgets(line, sizeof(line), f))
		buf_addstr(args, line);
	if (f)
		fclose(f);
	free(p);
}

int main(void)
{
	/* compose logs --no-color --timestamps, as both versions print it */
	static const char script[] =
		"#!/bin/sh\n"
		"echo \"$*\" >\"$(dirname \"$0\")/args\"\n"
		"cat <<'EOF'\n"
		"web_1  | 2026-01-01T09:59:59.900000000Z before the last backup\n"
		"web_1  | 2026-01-01T10:00:00.500000000Z in its second\n"
		"web_1  | 2026-01-01T10:00:01.000000000Z after 1\n"
		"web_1  | 2026-01-01T10:00:02.000000000Z after 2\n"
		"EOF\n";
	struct buf log = BUF_INIT, args = BUF_INIT;
	json_t *d = NULL;
	char *v1, *v2, *cmd;
	int ok;

	if (!mkdtemp(scratch))
		return 1;
	cmd = xstrfmt("mkdir -p %s/repo %s/bin/v1", scratch, scratch);
	ok = system(cmd) == 0;
	free(cmd);
	/* The name decides the version: docker-compose is v1. */
	write_file("bin/v1/docker-compose", script, 0755);
	write_file("bin/compose2", script, 0755);
	v1 = xstrfmt("%s/bin/v1/docker-compose", scratch);
	v2 = xstrfmt("%s/bin/compose2", scratch);

	T_OK(ok && run_logs(v2, 0, &log, &d) == 0, "first run: no earlier backup");
	T_OK(json_is_null(json_object_get(d, "since")), "first run: since is null");
	T_OK(strstr(buf_str(&log), "before the last backup") != NULL,
	     "first run: everything");
	json_decref(d);

	/* an earlier archive whose logs component succeeded */
	write_file("repo/t-20260101T100000Z.tar.zst", "", 0600);
	write_file("repo/t-20260101T100000Z.manifest.json",
		   "{\"started\": \"2026-01-01T10:00:00Z\", \"components\": "
		   "{\"logs\": {\"status\": \"ok\"}}}", 0600);
	write_file("repo/t-20260101T110000Z.tar.zst", "", 0600);
	write_file("repo/t-20260101T110000Z.manifest.json",
		   "{\"started\": \"2026-01-01T11:00:00Z\", \"components\": "
		   "{\"logs\": {\"status\": \"failed\"}}}", 0600);

	T_OK(run_logs(v2, 0, &log, &d) == 0, "docker compose: run");
	T_STREQ(json_string_value(json_object_get(d, "since")),
		"2026-01-01T10:00:00Z", "since: the last backup whose logs succeeded");
	read_args(&args, "bin");
	T_OK(strstr(buf_str(&args), "logs --no-color --timestamps --since "
		     "2026-01-01T10:00:00Z web") != NULL,
	     "docker compose gets --since <that start>");
	json_decref(d);

	T_OK(run_logs(v1, 0, &log, &d) == 0, "docker-compose v1: run");
	read_args(&args, "bin/v1");
	T_OK(strstr(buf_str(&args), "logs --no-color --timestamps web") != NULL,
	     "docker-compose v1 gets no --since (it has none)");
	T_OK(strstr(buf_str(&log), "before the last backup") == NULL &&
	     strstr(buf_str(&log), "in its second") &&
	     strstr(buf_str(&log), "after 2"),
	     "v1: lines before the last backup's second are dropped on the server");
	json_decref(d);

	/* 120 bytes keep the newest two whole lines (about 55 each) */
	T_OK(run_logs(v1, 120, &log, &d) == 0, "capped: run");
	T_OK(strstr(buf_str(&log), "after 1") && strstr(buf_str(&log), "after 2") &&
	     !strstr(buf_str(&log), "in its second") && log.len <= 120 &&
	     log.p[log.len - 1] == '\n', "capped: the newest whole lines within "
	     "max_bytes");
	T_OK(json_integer_value(json_object_get(json_array_get(json_object_get(
		d, "entries"), 0), "dropped_lines")) == 1,
	     "capped: the manifest counts the dropped line");
	json_decref(d);

	cmd = xstrfmt("rm -rf %s", scratch);
	(void)!system(cmd);
	free(cmd);
	free(v1);
	free(v2);
	buf_release(&log);
	buf_release(&args);
	return T_DONE();
}

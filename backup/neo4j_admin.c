#include "backup/neo4j_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "net/compose.h"
#include "net/xport.h"
#include "conf/conf.h"

/* Runs compose args to its end; FX_REMOTE naming what failed. */
static int run(struct nadmin *a, const char *const *args, struct buf *out,
	       const char *what, struct err *e)
{
	struct buf er = BUF_LIMITED(4096);
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1;

	io.out = out;
	io.err = &er;
	if (compose_run(a->co, args, &io, &st, e) < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		char why[64];

		err_set(e, FX_REMOTE, "neo4j: %s service '%s' failed (%s): %.300s",
			what, a->service, proc_status_text(&st, why, sizeof(why)),
			buf_str(&er));
		goto out;
	}
	r = 0;
out:
	buf_release(&er);
	return r;
}

static int probe_codec(struct nadmin *a, const char *want, struct err *e)
{
	struct buf out = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;

	a->codec = NADMIN_NONE;
	if (!strcmp(want, "none"))
		return 0;
	io.out = &out;
	if (xport_run(a->x, "for t in zstd gzip; do command -v $t >/dev/null "
		      "2>&1 && echo $t; done", &io, &st, e) < 0) {
		buf_release(&out);
		return -1;
	}
	if (strstr(buf_str(&out), "zstd") && strcmp(want, "gzip"))
		a->codec = NADMIN_ZSTD;
	else if (strstr(buf_str(&out), "gzip") && strcmp(want, "zstd"))
		a->codec = NADMIN_GZIP;
	if (strcmp(want, "auto") && a->codec == NADMIN_NONE)
		log_warn("neo4j: compress = %s, but the server has no %s: "
			 "streams travel uncompressed", want, want);
	buf_release(&out);
	return 0;
}

int nadmin_open(struct nadmin *a, struct xport *x,
		const struct compose_opts *co, const struct conf *c,
		struct err *e)
{
	memset(a, 0, sizeof(*a));
	a->x = x;
	a->service = conf_str(c, "neo4j", "service");
	a->timeout_ms = conf_num(c, "neo4j", "timeout");
	if (!co)
		return err_set(e, FX_USAGE, "neo4j: mode = dump needs compose "
			       "on the server");
	if (compose_open(&a->co, x, co, e) < 0)
		return err_wrap(e, "neo4j");
	return probe_codec(a, conf_str(c, "neo4j", "compress"), e);
}

void nadmin_close(struct nadmin *a)
{
	compose_free(a->co);
	a->co = NULL;
}

int nadmin_stop(struct nadmin *a, struct err *e)
{
	const char *ps[] = { "ps", "--services", "--filter", "status=running",
			     NULL };
	struct buf out = BUF_INIT;
	char secs[32];
	const char *stop[] = { "stop", "-t", secs, a->service, NULL };
	int r = -1;

	if (run(a, ps, &out, "listing the running services to find", e) < 0)
		goto out;
	a->was_running = 0;
	for (char *line = out.p; line && *line;) {
		size_t len = strcspn(line, "\n");

		if (len == strlen(a->service) && !strncmp(line, a->service, len))
			a->was_running = 1;
		line += len + (line[len] == '\n');
	}
	if (!a->was_running) {
		log_info("neo4j: service '%s' is not running (and is left so)",
			 a->service);
		r = 0;
		goto out;
	}
	/* Neo4j needs time for a clean shutdown; a killed one must recover
	 * before it can be dumped. */
	snprintf(secs, sizeof(secs), "%lld", (a->timeout_ms + 999) / 1000);
	log_verbose("neo4j: stopping service '%s'", a->service);
	if (run(a, stop, NULL, "stopping", e) < 0)
		goto out;
	a->stopped = 1;
	r = 0;
out:
	buf_release(&out);
	return r;
}

int nadmin_start(struct nadmin *a, struct err *e)
{
	const char *start[] = { "start", a->service, NULL };

	if (!a->stopped)
		return 0;
	log_verbose("neo4j: starting service '%s' again", a->service);
	if (run(a, start, NULL, "starting", e) < 0)
		return -1;
	a->stopped = 0;
	return 0;
}

void nadmin_cmdline(struct nadmin *a, const char *const *args,
		    struct buf *out)
{
	const char *head[] = { "run", "--rm", "--no-deps", "-T", "--entrypoint",
			       "neo4j-admin", a->service, "database" };
	size_t nh = sizeof(head) / sizeof(head[0]), n = 0;
	const char **all;

	while (args[n])
		n++;
	all = xcalloc(nh + n + 1, sizeof(*all));
	memcpy(all, head, sizeof(head));
	memcpy(all + nh, args, n * sizeof(*args));
	compose_cmdline(a->co, all, out);
	free(all);
}

const char *nadmin_compressor(const struct nadmin *a)
{
	return a->codec == NADMIN_ZSTD ? "zstd -q -c" :
	       a->codec == NADMIN_GZIP ? "gzip -c" : NULL;
}

const char *nadmin_decompressor(const struct nadmin *a)
{
	return a->codec == NADMIN_ZSTD ? "zstd -q -d -c" :
	       a->codec == NADMIN_GZIP ? "gzip -d -c" : NULL;
}

int nadmin_unclean(const char *text)
{
	/* neo4j-admin's words for a store that needs recovery first. */
	static const char *const marks[] = {
		"Active logical log detected", "recover database",
		"perform recovery", "needs recovery", "not shut down cleanly",
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strcasestr(text, marks[i]))
			return 1;
	return 0;
}

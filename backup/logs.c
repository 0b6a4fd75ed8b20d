/*
 * The logs component: what the compose services logged since the last
 * backup whose logs component succeeded (logs/<service>.log, `compose logs
 * --no-color --timestamps --since <its start>`), and plain log files on
 * the server ([logs] files, globs, over SFTP: logs/files/<path>).  Each
 * keeps its newest [logs] max_bytes, in whole lines.
 *
 * The work happens on the server in one pipeline per service: compose
 * logs, then (only when needed) an awk that keeps the newest lines within
 * the budget and filters by time for docker-compose v1, which has no
 * --since, then zstd or gzip for the wire (backup/fetch.c), which also
 * brings back the status of the pipeline's start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backup/component.h"
#include "backup/fetch.h"
#include "backup/repo.h"
#include "conf/conf.h"
#include "net/compose.h"
#include "net/xport.h"
#include "net/xport_fs.h"
#include "util/jtext.h"
#include "util/log.h"
#include "util/shquote.h"

/* Keeps the newest lines within max bytes (max 0: all) and, with since
 * set, only lines logged at or after it: "svc  | 2026-...Z text" lines
 * are compared by their first 19 timestamp characters (the same second
 * is kept: a line twice beats a line lost).  docker-compose v1 prints an
 * "Attaching to ..." line first, on stdout: it is compose's, not the
 * service's, and would pass any time filter. */
static const char AWK_PROG[] =
	"BEGIN { n = 0; h = 0; size = 0; dropped = 0 }"
	" { if (v1 && NR == 1 && /^Attaching to /) next;"
	" if (since != \"\") { i = index($0, \"| \");"
	" if (substr($0, i ? i + 2 : 1, 19) < substr(since, 1, 19)) next }"
	" if (max == 0) { print; next }"
	" line[n++] = $0; size += length($0) + 1;"
	" while (size > max) { size -= length(line[h]) + 1; delete line[h];"
	" h++; dropped++ } }"
	" END { for (i = h; i < n; i++) print line[i];"
	" if (dropped) print \"ferry-dropped:\" dropped > \"/dev/stderr\" }";

struct logs {
	struct bk_ctx *ctx;
	struct compose *cp;
	enum fetch_codec codec;
	long long max;
	const char *since;	/* the previous successful start, or NULL */
	json_t *entries;
	uint64_t bytes;
	size_t nservices, nfiles;
};

/* The start of the newest archive whose logs component succeeded. */
static char *previous_start(const struct conf *c)
{
	struct repo_entry *list = NULL;
	struct err ignored = ERR_INIT;
	char *since = NULL;
	size_t n = 0;

	if (repo_scan_conf(c, &list, &n, &ignored) < 0)
		return NULL;
	for (size_t i = 0; i < n && !since; i++) {
		json_t *m = list[i].manifest;
		json_t *lc = json_object_get(json_object_get(m, "components"),
					     "logs");
		const char *st = json_string_value(json_object_get(lc, "status"));
		const char *start = json_string_value(json_object_get(m,
								"started"));

		if (st && !strcmp(st, "ok") && start)
			since = xstrdup(start);
	}
	repo_free(list, n);
	return since;
}

/* compose config --services: the project's services, in its order. */
static int list_services(struct compose *cp, struct strlist *out,
			 struct err *e)
{
	const char *args[] = { "config", "--services", NULL };
	struct buf so = BUF_INIT, se = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r = -1;

	io.out = &so;
	io.err = &se;
	if (compose_run(cp, args, &io, &st, e) < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		err_set(e, FX_REMOTE, "%s config --services: %.300s",
			compose_prefix(cp), se.len ? buf_str(&se) : "failed");
		goto out;
	}
	strlist_split(out, buf_str(&so));
	r = 0;
out:
	buf_release(&so);
	buf_release(&se);
	return r;
}

static int services_of(struct logs *l, struct strlist *out, struct err *e)
{
	conf_list(l->ctx->conf, "logs", "services", out);
	if (out->n == 1 && !strcmp(out->v[0], "none")) {
		strlist_release(out);
		return 0;
	}
	if (!l->ctx->compose)
		return err_set(e, FX_USAGE, "logs: no compose project to read");
	if (compose_open(&l->cp, l->ctx->x, l->ctx->compose, e) < 0)
		return -1;
	if (out->n == 1 && !strcmp(out->v[0], "all")) {
		strlist_release(out);
		return list_services(l->cp, out, e);
	}
	return 0;
}

/* The last "ferry-KEY:N" line of stderr, or -1. */
static long long trailer(const char *text, const char *key)
{
	const char *p = NULL, *q = text;
	long long v = -1;

	while ((q = strstr(q, key))) {
		p = q;
		q += strlen(key);
	}
	if (p && sscanf(p + strlen(key), "%lld", &v) != 1)
		v = -1;
	return v;
}

static int one_service(struct logs *l, const char *svc, struct err *e)
{
	struct buf cmd = BUF_INIT, errout = BUF_INIT;
	struct proc_status st;
	char *part = component_member_part(svc);
	char *member = xstrfmt("logs/%s.log", part);
	char *path = xstrfmt("%s.log", part);
	/* v1 has no --since: awk filters by time there. */
	int v2 = compose_version(l->cp) == 2, n = 0;
	const char *args[8];
	uint64_t bytes = 0;
	long long dropped;
	int r = -1;

	args[n++] = "logs";
	args[n++] = "--no-color";
	args[n++] = "--timestamps";
	if (v2 && l->since) {
		args[n++] = "--since";
		args[n++] = l->since;
	}
	args[n++] = svc;
	args[n] = NULL;
	compose_cmdline(l->cp, args, &cmd);
	if (l->max > 0 || !v2) {
		buf_printf(&cmd, " | LC_ALL=C awk -v v1=%d -v max=%lld -v since=",
			   !v2, l->max);
		sh_quote(&cmd, !v2 && l->since ? l->since : "");
		buf_addch(&cmd, ' ');
		sh_quote(&cmd, AWK_PROG);
	}
	if (fetch_exec(l->ctx->x, buf_str(&cmd), l->codec, l->ctx->arc, member,
		       &bytes, &errout, &st, e) < 0) {
		err_wrap(e, "logs of %s", svc);
		goto out;
	}
	dropped = trailer(buf_str(&errout), "ferry-dropped:");
	if (!st.exited || st.code != 0) {
		char how[64];

		err_set(e, FX_REMOTE, "%s logs %s: %.300s", compose_prefix(l->cp),
			svc, errout.len ? buf_str(&errout) :
			proc_status_text(&st, how, sizeof(how)));
		goto out;
	}
	json_array_append_new(l->entries, json_pack("{s:s, s:s, s:s, s:I, s:I}",
		"path", path, "member", member, "service", svc,
		"bytes", (json_int_t)bytes,
		"dropped_lines", (json_int_t)(dropped > 0 ? dropped : 0)));
	if (dropped > 0)
		log_verbose("logs: %s: %lld older lines dropped (max_bytes)",
			    svc, dropped);
	l->bytes += bytes;
	l->nservices++;
	r = 0;
out:
	buf_release(&cmd);
	buf_release(&errout);
	free(part);
	free(member);
	free(path);
	return r;
}

static int one_file(struct logs *l, const char *path, struct err *e)
{
	struct ssh_stat st;
	char *rel = component_member_path(path);
	char *member = xstrfmt("logs/files/%s", rel);
	char *entry = xstrfmt("files/%s", rel);
	uint64_t off = 0, bytes = 0;
	json_t *ent;
	int missing, r = -1;

	if (xport_stat(l->ctx->x, path, &st, &missing, e) < 0)
		goto out;
	if (!S_ISREG(st.mode)) {
		log_warn("logs: %s is not a regular file; skipped", path);
		r = 0;
		goto out;
	}
	if (l->max > 0 && st.size > (uint64_t)l->max)
		off = st.size - (uint64_t)l->max;
	if (fetch_file(l->ctx->x, path, off, 1, l->ctx->arc, member, &bytes,
		       e) < 0) {
		fetch_blame(l->ctx->arc, "logs", path, e);
		goto out;
	}
	ent = json_pack("{s:s, s:s}", "path", entry, "member", member);
	jtext_set_name(ent, "source", path);
	json_object_set_new(ent, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(ent, "size", json_integer((json_int_t)st.size));
	json_object_set_new(ent, "truncated", json_boolean(off > 0));
	json_array_append_new(l->entries, ent);
	if (off)
		log_verbose("logs: %s: the newest max_bytes kept", path);
	l->bytes += bytes;
	l->nfiles++;
	r = 0;
out:
	free(rel);
	free(member);
	free(entry);
	return r;
}

int logs_backup(struct bk_ctx *ctx, json_t *detail, struct err *e)
{
	struct logs l = { 0 };
	struct strlist svcs = STRLIST_INIT, globs = STRLIST_INIT;
	struct strlist paths = STRLIST_INIT;
	char *since = previous_start(ctx->conf);
	int r = -1;

	l.ctx = ctx;
	l.max = conf_num(ctx->conf, "logs", "max_bytes");
	l.since = since;
	l.entries = json_array();
	if (services_of(&l, &svcs, e) < 0)
		goto out;
	l.codec = svcs.n ? fetch_codec(ctx->x) : FETCH_PLAIN;
	for (size_t i = 0; i < svcs.n; i++)
		if (one_service(&l, svcs.v[i], e) < 0)
			goto out;
	conf_list(ctx->conf, "logs", "files", &globs);
	for (size_t i = 0; i < globs.n; i++) {
		strlist_release(&paths);
		if (xport_glob(ctx->x, globs.v[i], &paths, e) < 0)
			goto out;
		if (!paths.n)
			log_warn("logs: no file matches %s", globs.v[i]);
		for (size_t k = 0; k < paths.n; k++)
			if (one_file(&l, paths.v[k], e) < 0)
				goto out;
	}
	r = 0;
out:
	json_object_set_new(detail, "since", since ? json_string(since) :
			    json_null());
	json_object_set_new(detail, "compression",
			    json_string(fetch_codec_name(l.codec)));
	json_object_set_new(detail, "max_bytes", json_integer(l.max));
	json_object_set_new(detail, "entries", l.entries);
	if (ctx->summary)
		buf_printf(ctx->summary, "%zu service%s and %zu file%s%s%s",
			   l.nservices, l.nservices == 1 ? "" : "s", l.nfiles,
			   l.nfiles == 1 ? "" : "s", since ? " since " : "",
			   since ? since : "");
	compose_free(l.cp);
	strlist_release(&svcs);
	strlist_release(&globs);
	strlist_release(&paths);
	free(since);
	return r;
}

int logs_check(struct bk_ctx *ctx, struct buf *detail, struct err *e)
{
	struct logs l = { 0 };
	struct strlist svcs = STRLIST_INIT, globs = STRLIST_INIT;
	struct strlist paths = STRLIST_INIT;
	int r = -1;

	l.ctx = ctx;
	if (services_of(&l, &svcs, e) < 0)
		goto out;
	buf_printf(detail, "%zu compose service%s", svcs.n,
		   svcs.n == 1 ? "" : "s");
	conf_list(ctx->conf, "logs", "files", &globs);
	for (size_t i = 0; i < globs.n; i++) {
		size_t before = paths.n;

		if (xport_glob(ctx->x, globs.v[i], &paths, e) < 0)
			goto out;
		if (paths.n == before) {
			err_set(e, FX_FAIL, "logs: no file matches %s",
				globs.v[i]);
			goto out;
		}
	}
	if (globs.n)
		buf_printf(detail, ", %zu log file%s", paths.n,
			   paths.n == 1 ? "" : "s");
	r = 0;
out:
	compose_free(l.cp);
	strlist_release(&svcs);
	strlist_release(&globs);
	strlist_release(&paths);
	return r;
}

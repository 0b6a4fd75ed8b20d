/*
 * mode = dump: Neo4j stopped, neo4j-admin database dump --to-stdout for
 * system and each configured database in a one-off container
 * (backup/neo4j_admin.h), each stream compressed on the server when it can
 * be, decompressed here (libarchive's raw format and filters) and written
 * straight into neo4j/<db>.dump; then Neo4j is started again, whatever
 * happened.  A point-in-time copy, byte for byte what neo4j-admin wrote.
 */
#include <archive.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "net/xport.h"
#include "backup/archive.h"
#include "backup/component.h"
#include "backup/neo4j.h"
#include "backup/neo4j_admin.h"
#include "backup/neo4j_int.h"

#define CHUNK (256u * 1024)

/* stdout, read with a bound on silence. */
struct pump {
	int fd;
	long long timeout_ms;
	char *buf;
	int timed_out;
};

/* neo4j-admin's stderr, kept for messages. */
struct drain {
	int fd;
	struct buf text;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	char chunk[4096];
	ssize_t n;

	while ((n = read(d->fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		buf_add_capped(&d->text, chunk, (size_t)n);
	}
	return NULL;
}

/* Up to CHUNK bytes; 0 at the end; -1 with errno (ETIMEDOUT when the
 * stream stayed silent too long). */
static ssize_t pump_read(struct pump *p)
{
	for (;;) {
		struct pollfd pfd = { p->fd, POLLIN, 0 };
		int k = poll(&pfd, 1, (int)p->timeout_ms);
		ssize_t n;

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			p->timed_out = 1;
			errno = ETIMEDOUT;
			return -1;
		}
		n = read(p->fd, p->buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

static la_ssize_t la_read(struct archive *a, void *ud, const void **out)
{
	struct pump *p = ud;
	ssize_t n = pump_read(p);

	if (n < 0) {
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	*out = p->buf;
	return n;
}

/* The stream (decompressed) into s; bytes in *size. */
static int copy(struct nadmin *ad, struct pump *p, struct arc_stream *s,
		const char *db, struct err *e)
{
	struct archive *a;
	struct archive_entry *ent;
	ssize_t n;
	int r = -1;

	if (ad->codec == NADMIN_NONE) {
		while ((n = pump_read(p)) > 0)
			if (arc_stream_write(s, p->buf, (size_t)n, e) < 0)
				return -1;
		if (n == 0)
			return 0;
		return err_set(e, p->timed_out ? FX_REMOTE : FX_CONN,
			       "neo4j: dump of %s: %s", db, p->timed_out ?
			       "neo4j-admin stayed silent too long" :
			       strerror(errno));
	}
	a = archive_read_new();
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open(a, p, NULL, la_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		/* Nothing came: the exit status says why. */
		r = p->timed_out ? err_set(e, FX_REMOTE, "neo4j: dump of %s: "
					   "neo4j-admin stayed silent too long",
					   db) : 0;
		goto out;
	}
	while ((n = archive_read_data(a, p->buf + CHUNK, CHUNK)) > 0)
		if (arc_stream_write(s, p->buf + CHUNK, (size_t)n, e) < 0)
			goto out;
	if (n < 0) {
		err_set(e, p->timed_out ? FX_REMOTE : FX_CONN, "neo4j: dump of "
			"%s: %s", db, p->timed_out ? "neo4j-admin stayed silent "
			"too long" : archive_error_string(a));
		goto out;
	}
	r = 0;
out:
	archive_read_free(a);
	return r;
}

/* The exit code the command reported ("ferry-exit N" on stderr when it
 * ran in a pipeline), the line taken out of text; -1 when none. */
static int exit_mark(struct buf *text)
{
	char *m = strstr(buf_str(text), "ferry-exit ");
	int code;

	if (!m)
		return -1;
	code = (int)strtol(m + 11, NULL, 10);
	buf_setlen(text, (size_t)(m - text->p));
	return code;
}

static int dump_db(struct nadmin *ad, struct bk_ctx *ctx, const char *db,
		   json_t *dbs, struct err *e)
{
	const char *args[] = { "dump", "--to-stdout", db, NULL };
	const char *comp = nadmin_compressor(ad);
	char *part = component_member_part(db);
	char *member = xstrfmt("neo4j/%s.dump", part);
	struct drain dr = { -1, BUF_LIMITED(65536) };
	struct pump p = { -1, ad->timeout_ms, xmalloc(2 * CHUNK), 0 };
	struct arc_stream *s = NULL;
	struct buf cmd = BUF_INIT;
	struct xproc *proc = NULL;
	struct proc_status st;
	pthread_t drainer;
	uint64_t bytes = 0;
	int in = -1, r = -1, cr, code;

	if (comp)
		buf_addstr(&cmd, "( ");
	nadmin_cmdline(ad, args, &cmd);
	if (comp)
		buf_printf(&cmd, "; echo \"ferry-exit $?\" >&2 ) | %s", comp);
	log_verbose("neo4j: dumping %s", db);
	if (xport_spawn(ctx->x, buf_str(&cmd), &proc, &in, &p.fd, &dr.fd, e) < 0)
		goto out;
	close(in);
	if (pthread_create(&drainer, NULL, drain_main, &dr) != 0) {
		close(p.fd);
		close(dr.fd);
		xproc_wait(proc, &st, NULL);
		err_set(e, FX_FAIL, "neo4j: cannot start a thread");
		goto out;
	}
	cr = arc_stream_begin(ctx->arc, member, &s, e);
	if (cr == 0)
		cr = copy(ad, &p, s, db, e);
	close(p.fd);
	pthread_join(drainer, NULL);
	close(dr.fd);
	if (xproc_wait(proc, &st, cr < 0 ? NULL : e) < 0 || cr < 0)
		goto out;
	code = exit_mark(&dr.text);
	if (code < 0)
		code = st.exited ? st.code : 128;
	if (code != 0 || !st.exited || st.code != 0) {
		const char *t = buf_str(&dr.text);
		size_t len = strlen(t);

		while (len && strchr(" \n\r\t", t[len - 1]))
			len--;
		if (nadmin_unclean(t))
			err_set(e, FX_REMOTE, "neo4j: dump of %s refused: the "
				"database was not shut down cleanly and needs "
				"recovery (start Neo4j, stop it cleanly, back "
				"up again): %.300s", db, len > 300 ?
				t + len - 300 : t);
		else
			err_set(e, FX_REMOTE, "neo4j: dump of %s failed (exit "
				"%d): %.300s", db, code, len > 300 ?
				t + len - 300 : t);
		goto out;
	}
	r = arc_stream_end(s, &bytes, e);
	s = NULL;
	if (r < 0)
		goto out;
	if (bytes == 0) {
		r = err_set(e, FX_REMOTE, "neo4j: dump of %s gave no data", db);
		goto out;
	}
	log_verbose("neo4j: %s: %llu bytes", db, (unsigned long long)bytes);
	json_object_set_new(dbs, db, json_pack("{s:s, s:I}", "member", member,
					       "bytes", (json_int_t)bytes));
out:
	arc_stream_abort(s);
	buf_release(&cmd);
	buf_release(&dr.text);
	free(p.buf);
	free(part);
	free(member);
	return r;
}

int neo4j_dump_backup(struct bk_ctx *ctx, json_t *detail, struct err *e)
{
	struct strlist dbs = STRLIST_INIT, conf_dbs = STRLIST_INIT;
	struct nadmin ad;
	json_t *jdbs = json_object(), *failed = json_object();
	int r = -1;

	strlist_add(&dbs, "system");
	neo4j_databases(ctx->conf, &conf_dbs);
	for (size_t i = 0; i < conf_dbs.n; i++)
		if (strcmp(conf_dbs.v[i], "system"))
			strlist_add(&dbs, conf_dbs.v[i]);
	if (nadmin_open(&ad, ctx->x, ctx->compose, ctx->conf, e) < 0)
		goto out;
	json_object_set_new(detail, "service", json_string(ad.service));
	json_object_set_new(detail, "compression", json_string(
		ad.codec == NADMIN_ZSTD ? "zstd" : ad.codec == NADMIN_GZIP ?
		"gzip" : "none"));
	if (nadmin_stop(&ad, e) == 0) {
		/* A database whose dump fails fails alone. */
		for (size_t i = 0; i < dbs.n; i++) {
			struct err de = ERR_INIT;

			if (dump_db(&ad, ctx, dbs.v[i], jdbs, &de) == 0)
				continue;
			json_object_set_new(failed, dbs.v[i], json_string(de.msg));
			if (json_object_size(failed) == 1)
				*e = de;
			else
				err_append(e, "; %s", de.msg);
		}
		r = json_object_size(failed) ? -1 : 0;
		ctx->landed = json_object_size(jdbs) > 0;
	}
	/* Started again also when a dump failed. */
	{
		struct err se = ERR_INIT;

		if (nadmin_start(&ad, &se) < 0) {
			if (r < 0)
				err_append(e, "; and then %s", se.msg);
			else
				*e = se;
			r = -1;
		}
	}
out:
	if (json_object_size(jdbs) && ctx->summary)
		buf_printf(ctx->summary, "%zu dump%s (offline)",
			   json_object_size(jdbs), json_object_size(jdbs) == 1 ?
			   "" : "s");
	json_object_set_new(detail, "databases", jdbs);
	if (json_object_size(failed))
		json_object_set(detail, "failed_databases", failed);
	json_decref(failed);
	nadmin_close(&ad);
	strlist_release(&dbs);
	strlist_release(&conf_dbs);
	return r;
}

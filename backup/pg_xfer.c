/*
 * pg_xfer: psql on the server for the server path (pg_xfer.h): a table's
 * COPY out through the server's compressor, a database's COPY in behind
 * its decompressor, the password on stdin.  pg_path.c chooses the path.
 */
#include "backup/pg_xfer.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "util/fdio.h"
#include "util/log.h"
#include "util/shquote.h"
#include "util/zout.h"
#include "net/xport.h"
#include "backup/pg_conn.h"

#define STATUS "ferry-psql-status "

/* env and psql for db; tags: let psql print its command tags. */
static void psql_cmd(const struct pgx *p, const char *db, int tags,
		     struct buf *b)
{
	char t[32];
	const char *env[] = { "PGOPTIONS", PG_SESSION_OPTIONS,
		"PGCLIENTENCODING", "UTF8", "PGCONNECT_TIMEOUT", t,
		"PGAPPNAME", "ferry", "PGDATABASE", db, NULL };

	snprintf(t, sizeof(t), "%lld", p->timeout_s);
	if (p->ctr)
		buf_addstr(b, "docker exec -i -e PGPASSWORD");
	else
		buf_addstr(b, "env");
	for (size_t i = 0; env[i]; i += 2) {
		struct buf kv = BUF_INIT;

		buf_printf(&kv, "%s=%s", env[i], env[i + 1]);
		buf_addstr(b, p->ctr ? " -e " : " ");
		sh_quote(b, buf_str(&kv));
		buf_release(&kv);
	}
	if (p->ctr) {
		buf_addch(b, ' ');
		sh_quote(b, p->ctr);
	}
	buf_addch(b, ' ');
	if (p->guessed)
		buf_addstr(b, "\"$P\"");
	else
		sh_quote(b, p->psql && !p->ctr ? p->psql : "psql");
	buf_printf(b, " -X -w%s -v ON_ERROR_STOP=1 -U ", tags ? "" : " -q");
	sh_quote(b, p->user);
	/* Inside the container PostgreSQL is on its own socket. */
	if (!p->ctr) {
		buf_addstr(b, " -h ");
		sh_quote(b, p->host);
		buf_printf(b, " -p %d", p->port);
	}
}

/* zstd as the server path runs it, in jobs of cut bytes (0: one job). */
static void zstd_cmd(size_t cut, struct buf *b)
{
	if (cut)
		buf_printf(b, "zstd -3 -T0 -B%zu --zstd=ovlog=1 -q -c", cut);
	else
		buf_addstr(b, "zstd -3 -T0 -q -c");
}

/* How a command's psql is set up. */
enum { M_OUT, M_CHAIN, M_IN };

/* Starts the command, which first waits for its password: the first line
 * of its stdin, read by the shell into the environment psql (or docker
 * exec -e) takes it from.  EOF instead ends it unstarted. */
static int spawn(const struct pgx *p, const char *db, int mode, size_t cut,
		 struct xproc **proc, int *in, int *out, int *errfd,
		 struct err *e)
{
	struct buf cmd = BUF_INIT;
	const char *z = p->codec == ZP_ZSTD ? "zstd" : "gzip";
	int rc;

	buf_addstr(&cmd, "IFS= read -r PGPASSWORD || exit 0; "
		   "export PGPASSWORD; ");
	if (p->guessed)
		buf_addstr(&cmd, "P=psql; for b in " PSQL_BINS "; do "
			   "[ -x \"$b\" ] && P=$b; done; ");
	if (mode == M_IN) {
		buf_printf(&cmd, "%s -d -q -c | ", z);
		psql_cmd(p, db, 1, &cmd);
	} else {
		/* A chain's psql pipes each COPY through a zstd of its own. */
		buf_addstr(&cmd, "{ ");
		psql_cmd(p, db, 0, &cmd);
		buf_addstr(&cmd, "; echo \"" STATUS "$?\" >&2; }");
		if (mode == M_OUT && p->codec == ZP_GZIP) {
			buf_addstr(&cmd, " | gzip -1 -c");
		} else if (mode == M_OUT) {
			buf_addstr(&cmd, " | ");
			zstd_cmd(cut, &cmd);
		}
	}
	rc = xport_spawn(p->x, buf_str(&cmd), proc, in, out, errfd, e);
	buf_release(&cmd);
	return rc;
}

static int send_password(const struct pgx *p, const char *db, int *in,
			 struct err *e)
{
	const char *pw = p->password ? p->password : "";

	if (!strchr(pw, '\n') && fd_write_all(*in, pw, strlen(pw)) == 0 &&
	    fd_write_all(*in, "\n", 1) == 0)
		return 0;
	/* The caller still waits for it: the shell gets EOF and ends. */
	close(*in);
	*in = -1;
	return err_set(e, FX_FAIL, "postgres %s: the password cannot be "
		       "handed to psql on the server (a newline in it?)", db);
}

/* Called once psql's status says it ended well. */
struct on_end {
	void (*fn)(void *arg);
	void *arg;
};

/* fn once eb holds our status line with 0 in it. */
static void check_end(const struct buf *eb, struct on_end *end)
{
	const char *s;

	if (!end || !end->fn || !(s = strstr(buf_str(eb), STATUS)) ||
	    !strchr(s, '\n'))
		return;
	if (!strncmp(s + strlen(STATUS), "0\n", 2))
		end->fn(end->arg);
	end->fn = NULL;
}

/* Reads out (each piece to sink, until sink fails: then discarded) and
 * err (into eb, capped) to their ends; closes both.  -1: sink failed. */
static int drain(int out, int errfd, zpipe_sink sink, void *ctx,
		 struct buf *eb, struct on_end *end)
{
	struct pollfd pf[2] = { { out, POLLIN, 0 }, { errfd, POLLIN, 0 } };
	char *chunk = xmalloc(64u * 1024);
	int rc = 0;

	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			n = read(pf[i].fd, chunk, 64u * 1024);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
			} else if (i == 1) {
				buf_add_capped(eb, chunk, (size_t)n);
				check_end(eb, end);
			} else if (rc == 0 && sink && sink(ctx, chunk, (size_t)n)) {
				rc = -1;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	free(chunk);
	return rc;
}

static int buf_sink(void *ctx, const void *data, size_t len)
{
	buf_add_capped(ctx, data, len);
	return 0;
}

/* psql's complaint: the first line of its stderr that is not ours. */
static void complaint(const struct buf *eb, const struct proc_status *st,
		      struct buf *out)
{
	const char *s = buf_str(eb);
	char tmp[64];

	while (*s) {
		size_t n = strcspn(s, "\n");

		if (n && strncmp(s, STATUS, strlen(STATUS))) {
			buf_add(out, s, n);
			return;
		}
		s += n + (s[n] != 0);
	}
	buf_addstr(out, proc_status_text(st, tmp, sizeof(tmp)));
}

struct pgx_out {
	struct xproc *proc;
	int in, out, err;
	size_t cut;
	int started;	/* it has its script */
	int lost;	/* psql did not take it */
	struct on_end end;
	int chain;	/* a run of tables: pgx_out_chain */
	struct buf names;	/* a chain's tables sent and not ended, each
				 * name ending in NUL, the oldest first */
	zpipe_mark mark;
};

struct out_ctx {
	struct pgx_out *o;
	struct zdec *z;
	zpipe_sink sink;
	zpipe_frame frame;
	void *ctx;
	int bad;		/* the data did not decode */
};

/* The decoder's callbacks, handed on to the caller's with its ctx. */
static int fw_sink(void *arg, const void *data, size_t len)
{
	struct out_ctx *oc = arg;

	return oc->sink(oc->ctx, data, len);
}

static int fw_frame(void *arg, const void *frame, size_t len)
{
	struct out_ctx *oc = arg;

	return oc->frame && oc->o->cut ? oc->frame(oc->ctx, frame, len) : 0;
}

/* The oldest table of a chain has ended. */
static int fw_mark(void *arg, const void *data, size_t len)
{
	struct out_ctx *oc = arg;
	struct buf *q = &oc->o->names;
	size_t n;

	(void)data;
	(void)len;
	if (!q->len)
		return -1;
	n = strlen(q->p) + 1;
	memmove(q->p, q->p + n, q->len - n);
	buf_setlen(q, q->len - n);
	return oc->o->mark ? oc->o->mark(oc->ctx, NULL, 0) : 0;
}

static int out_sink(void *arg, const void *data, size_t len)
{
	struct out_ctx *oc = arg;

	if (zdec_feed(oc->z, data, len, fw_sink, oc) == 0)
		return 0;
	oc->bad = zdec_error(oc->z)[0] != 0;
	/* A chain's psql would wait for more script forever. */
	if (oc->o->in >= 0 && oc->o->chain) {
		close(oc->o->in);
		oc->o->in = -1;
	}
	return -1;
}

void pgx_out_on_end(struct pgx_out *o, void (*fn)(void *arg), void *arg)
{
	o->end.fn = fn;
	o->end.arg = arg;
}

static int out_spawn(const struct pgx *p, const char *db, size_t cut,
		     int mode, struct pgx_out **out, struct err *e)
{
	struct pgx_out *o = xcalloc(1, sizeof(*o));

	o->in = o->out = o->err = -1;
	o->chain = mode == M_CHAIN;
	/* zstd's jobs are 512 KiB at least: smaller parts would not line
	 * up with them. */
	o->cut = p->cuts && cut >= PGX_JOB_MIN ? cut : 0;
	*out = o;
	if (spawn(p, db, mode, o->cut, &o->proc, &o->in, &o->out, &o->err,
		  e) < 0 || send_password(p, db, &o->in, e) < 0)
		return -1;
	return 0;
}

int pgx_out_spawn(const struct pgx *p, const char *db, size_t cut,
		  struct pgx_out **out, struct err *e)
{
	return out_spawn(p, db, cut, M_OUT, out, e);
}

int pgx_chains(const struct pgx *p)
{
	return p->server && p->codec == ZP_ZSTD && !p->ctr;
}

int pgx_out_chain(const struct pgx *p, const char *db, size_t cut,
		  struct pgx_out **out, struct err *e)
{
	return out_spawn(p, db, cut, M_CHAIN, out, e);
}

void pgx_out_on_mark(struct pgx_out *o, zpipe_mark mark)
{
	o->mark = mark;
}

/* s to psql's input, unless it stopped reading already. */
static void put(struct pgx_out *o, const char *s)
{
	if (!o->lost && (o->in < 0 || fd_write_all(o->in, s, strlen(s)) < 0))
		o->lost = 1;
	o->started = 1;
}

int pgx_out_send(struct pgx_out *o, const char *db, const char *sql,
		 struct err *e)
{
	put(o, sql);
	if (o->lost)
		return err_set(e, FX_REMOTE, "postgres %s: psql on the server "
			       "stopped reading", db);
	return 0;
}

/* A skippable zstd frame, empty (magic 0x184D2A50, little-endian). */
#define MARK "\\! printf '\\120\\052\\115\\030\\000\\000\\000\\000'\n"

int pgx_out_send_copy(struct pgx_out *o, const char *db, const char *pre,
		      const char *copy, const char *what, struct err *e)
{
	struct buf b = BUF_INIT;
	int rc;

	/* The pipe is closed (zstd's frame whole) before the mark, which
	 * ON_ERROR_STOP keeps from a COPY that failed. */
	buf_addstr(&b, pre);
	buf_addstr(&b, "\\o |");
	zstd_cmd(o->cut, &b);
	buf_printf(&b, "\n%s\n\\o\n" MARK, copy);
	rc = pgx_out_send(o, db, buf_str(&b), e);
	if (rc == 0)
		buf_add(&o->names, what, strlen(what) + 1);
	buf_release(&b);
	return rc;
}

void pgx_out_close(struct pgx_out *o)
{
	if (o->in >= 0)
		close(o->in);
	o->in = -1;
}

void pgx_out_discard(struct pgx_out *o)
{
	struct buf eb = BUF_LIMITED(64u * 1024);
	struct proc_status st;
	struct err e = ERR_INIT;

	if (!o)
		return;
	/* EOF before the script: psql has nothing to run and ends. */
	pgx_out_close(o);
	if (o->proc) {
		drain(o->out, o->err, NULL, NULL, &eb, NULL);
		(void)xproc_wait(o->proc, &st, &e);
	}
	buf_release(&eb);
	buf_release(&o->names);
	free(o);
}

int pgx_out_start(struct pgx_out *o, const char *db, const char *script,
		  const char *what, struct err *e)
{
	int rc = 0;

	if (!o->started)
		put(o, script);
	if (o->lost)
		rc = err_set(e, FX_REMOTE, "postgres %s: %s: psql on the "
			     "server stopped reading", db, what);
	pgx_out_close(o);
	return rc;
}

int pgx_copy_out(const struct pgx *p, struct pgx_out *o, const char *db,
		 const char *script, const char *what, zpipe_sink sink,
		 zpipe_frame frame, void *ctx, struct err *e)
{
	struct out_ctx oc = { o, zdec_new(p->codec), sink, frame, ctx, 0 };
	struct buf eb = BUF_LIMITED(1u << 20), msg = BUF_INIT;
	struct proc_status st;
	const char *status;
	char tmp[64];
	int rc = -1, sunk, unsent = 0;

	if (!o->proc)
		goto out;
	if ((frame && o->cut) || o->chain)
		zdec_keep_frames(oc.z, fw_frame, o->cut ?
				 ZSTD_compressBound(o->cut) : 0, o->cut);
	if (o->chain)
		zdec_on_mark(oc.z, fw_mark);
	/* Whatever psql said on stderr is drained before that error. */
	else
		unsent = pgx_out_start(o, db, script, what, e) < 0;
	sunk = drain(o->out, o->err, out_sink, &oc, &eb, &o->end);
	o->out = o->err = -1;
	pgx_out_close(o);
	/* A chain's failure is its oldest table's that did not end. */
	if (o->names.len)
		what = o->names.p;
	/* e may also hold the sink's own failure (the archive's). */
	if (xproc_wait(o->proc, &st, e) < 0 || unsent || e->code)
		goto out;
	status = strstr(buf_str(&eb), STATUS);
	if (!status || strncmp(status + strlen(STATUS), "0\n", 2)) {
		complaint(&eb, &st, &msg);
		err_set(e, FX_FAIL, "postgres %s: %s by psql on the server: %s",
			db, what, buf_str(&msg));
		goto out;
	}
	if (!st.exited || st.code) {
		err_set(e, FX_REMOTE, "postgres %s: %s: %s on the server failed: "
			"%s", db, what, p->codec == ZP_ZSTD ? "zstd" : "gzip",
			proc_status_text(&st, tmp, sizeof(tmp)));
		goto out;
	}
	if (sunk < 0 || zdec_end(oc.z) < 0 || o->names.len) {
		/* A failing sink has set e itself (the archive's error). */
		if (oc.bad || !e->code)
			err_set(e, FX_REMOTE, "postgres %s: %s: the compressed "
				"stream from the server: %s", db, what,
				o->names.len ? "it ended before the table's "
				"end" : zdec_error(oc.z));
		goto out;
	}
	rc = 0;
out:
	buf_release(&o->names);
	free(o);
	zdec_free(oc.z);
	buf_release(&eb);
	buf_release(&msg);
	return rc;
}

struct pgx_in {
	const struct pgx *p;
	struct xproc *proc;
	int in, out, err;
	struct zout *zs;
	struct zgz *gz;
	char *db, *what;
};

int pgx_in_spawn(const struct pgx *p, const char *db, struct pgx_in **out,
		 struct err *e)
{
	struct pgx_in *in = xcalloc(1, sizeof(*in));

	in->p = p;
	in->in = in->out = in->err = -1;
	in->db = xstrdup(db);
	in->what = xstrdup("psql");
	*out = in;
	return spawn(p, db, M_IN, 0, &in->proc, &in->in, &in->out, &in->err, e);
}

int pgx_in_start(struct pgx_in *in, const char *what, struct err *e)
{
	const struct pgx *p = in->p;

	free(in->what);
	in->what = xstrdup(what);
	if (!in->proc)
		return err_set(e, FX_REMOTE, "postgres %s: %s: psql on the "
			       "server was not started", in->db, what);
	if (send_password(p, in->db, &in->in, e) < 0)
		return -1;
	/* One thread each: the server's psql, not ferry, sets the pace.
	 * Level 4 costs what 3 does here and is 3% smaller on COPY text;
	 * 6-9 with two threads took longer on a 100 Mbit link (two cores
	 * shared with the server's psql and PostgreSQL). */
	if (p->codec == ZP_ZSTD)
		in->zs = zout_new(in->in, 4, 1, 0);
	else
		in->gz = zgz_new(in->in, 1);
	if (!in->zs && !in->gz)
		return err_set(e, FX_FAIL, "cannot start the compressor");
	return 0;
}

int pgx_in_open(const struct pgx *p, const char *db, const char *what,
		struct pgx_in **out, struct err *e)
{
	if (pgx_in_spawn(p, db, out, e) < 0)
		return -1;
	return pgx_in_start(*out, what, e);
}

void pgx_in_discard(struct pgx_in *in)
{
	struct buf tags = BUF_LIMITED(64u * 1024);
	struct err e = ERR_INIT;

	if (in)
		(void)pgx_in_close(in, NULL, &tags, &e);
	buf_release(&tags);
}

int pgx_in_write(struct pgx_in *in, const void *data, size_t len,
		 struct err *e)
{
	int r = in->zs ? zout_write(in->zs, data, len) :
		in->gz ? zgz_write(in->gz, data, len) : -1;

	if (r < 0)
		return err_set(e, FX_REMOTE, "postgres %s: %s: psql on the "
			       "server stopped reading", in->db, in->what);
	return 0;
}

int pgx_in_close(struct pgx_in *in, const char *tail, struct buf *out,
		 struct err *e)
{
	struct buf eb = BUF_LIMITED(1u << 20), msg = BUF_INIT;
	struct proc_status st;
	int rc = -1, sent = 0;

	if (tail && (in->zs || in->gz) &&
	    pgx_in_write(in, tail, strlen(tail), e) == 0)
		sent = in->zs ? zout_end(in->zs) == 0 : zgz_end(in->gz) == 0;
	/* Without the end of the stream psql never sees the COMMIT. */
	if (in->in >= 0)
		close(in->in);
	if (in->proc) {
		drain(in->out, in->err, buf_sink, out, &eb, NULL);
		if (xproc_wait(in->proc, &st, e) == 0) {
			if (!st.exited || st.code) {
				complaint(&eb, &st, &msg);
				err_set(e, FX_FAIL, "postgres %s: %s by psql on "
					"the server: %s", in->db, in->what,
					buf_str(&msg));
			} else if (tail && !sent) {
				err_set(e, FX_REMOTE, "postgres %s: %s: psql on "
					"the server stopped reading", in->db,
					in->what);
			} else {
				rc = 0;
			}
		}
	}
	zout_free(in->zs);
	zgz_free(in->gz);
	free(in->db);
	free(in->what);
	free(in);
	buf_release(&eb);
	buf_release(&msg);
	return rc;
}

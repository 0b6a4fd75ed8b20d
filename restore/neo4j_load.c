/*
 * The way back for mode = dump: each database's dump is staged on the
 * server as it streams past (a private file next to the project, written
 * through zstd when the server has it), and only once it matched the
 * manifest is Neo4j stopped and the file loaded with
 *
 *   compose run --rm --no-deps -T --entrypoint neo4j-admin SERVICE \
 *       database load --from-stdin --overwrite-destination DB < FILE
 *
 * Neo4j is started again at the end, also after a failure.  Loading
 * replaces the whole database, so it takes --clean; the system database
 * (users and roles) is loaded only with --globals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/elapsed.h"
#include "util/fdio.h"
#include "util/log.h"
#include "util/shquote.h"
#include "util/zout.h"
#include "net/xport.h"
#include "backup/component.h"
#include "backup/neo4j_admin.h"
#include "conf/conf.h"
#include "restore/neo4j_restore.h"

#define CHUNK (256u * 1024)

enum { LD_NEW, LD_STAGING, LD_STAGED, LD_LOADED };

struct ldb {
	struct nr_target *t;
	char *member;		/* "neo4j/<db>.dump" */
	unsigned parts;
	int state;
	char *file;		/* the staged copy on the server */
	uint64_t bytes;
};

struct load {
	struct rs_ctx *x;
	struct xport *xp;
	struct nadmin ad;
	int ad_open, load_started;
	struct nr_target *tg;
	struct ldb *d;
	size_t n;
	char *dir;		/* where dumps are staged */
	/* the staging writer */
	struct xproc *w;
	int win, wout, werr;
	struct zout *z;
	struct ldb *wdb, *pend;
	struct timespec t0;
};

static void drain_fd(int fd, struct buf *b)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add_capped(b, chunk, (size_t)n);
}

static int stage_open(struct load *p, struct ldb *d, struct err *e)
{
	const char *dec = nadmin_decompressor(&p->ad);
	struct buf cmd = BUF_INIT;
	char *part = component_member_part(d->t->src);
	int r;

	d->file = xstrfmt("%s/neo4j-%ld-%s.dump", p->dir, (long)getpid(), part);
	free(part);
	buf_addstr(&cmd, "umask 077 && mkdir -p ");
	sh_quote_path(&cmd, p->dir);
	buf_printf(&cmd, " && %s > ", p->ad.codec == NADMIN_ZSTD ? dec : "cat");
	sh_quote_path(&cmd, d->file);
	r = xport_spawn(p->xp, buf_str(&cmd), &p->w, &p->win, &p->wout,
			&p->werr, e);
	buf_release(&cmd);
	if (r < 0)
		return -1;
	if (p->ad.codec == NADMIN_ZSTD)
		p->z = zout_new(p->win, 3, 0, 0);
	p->wdb = d;
	d->state = LD_STAGING;
	return 0;
}

/* Ends the staging stream; 0 when the file is complete on the server. */
static int stage_close(struct load *p, struct err *e)
{
	struct buf er = BUF_LIMITED(4096);
	struct proc_status st;
	int r = 0;

	if (!p->w)
		return 0;
	if (p->z && zout_end(p->z) < 0)
		r = err_set(e, FX_CONN, "neo4j: staging %s: %s", p->wdb->file,
			    zout_error(p->z));
	zout_free(p->z);
	p->z = NULL;
	close(p->win);
	drain_fd(p->wout, &er);
	drain_fd(p->werr, &er);
	close(p->wout);
	close(p->werr);
	if (xproc_wait(p->w, &st, r < 0 ? NULL : e) < 0)
		r = -1;
	else if (r == 0 && (!st.exited || st.code != 0))
		r = err_set(e, FX_REMOTE, "neo4j: staging %s on the server "
			    "failed: %.300s", p->wdb->file, buf_str(&er));
	p->w = NULL;
	buf_release(&er);
	return r;
}

static void unstage(struct load *p, struct ldb *d)
{
	struct buf cmd = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	struct err ignored = ERR_INIT;

	if (!d->file)
		return;
	buf_addstr(&cmd, "rm -f ");
	sh_quote_path(&cmd, d->file);
	if (xport_run(p->xp, buf_str(&cmd), &io, &st, &ignored) < 0)
		log_warn("neo4j: could not remove %s on the server", d->file);
	buf_release(&cmd);
	free(d->file);
	d->file = NULL;
}

static int load_db(struct load *p, struct ldb *d, struct err *e)
{
	const char *args[] = { "load", "--from-stdin", "--overwrite-destination",
			       d->t->dst, NULL };
	struct buf cmd = BUF_INIT, er = BUF_LIMITED(65536);
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	struct timespec t0;
	int r = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Stopped once, before the first load. */
	if (!p->load_started && nadmin_stop(&p->ad, e) < 0)
		goto out;
	p->load_started = 1;
	nadmin_cmdline(&p->ad, args, &cmd);
	buf_addstr(&cmd, " < ");
	sh_quote_path(&cmd, d->file);
	io.err = &er;
	log_verbose("neo4j: loading %s into %s", d->t->src, d->t->dst);
	if (xport_run(p->xp, buf_str(&cmd), &io, &st, e) < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		const char *t = buf_str(&er);
		size_t len = strlen(t);

		while (len && strchr(" \n\r\t", t[len - 1]))
			len--;
		err_set(e, FX_REMOTE, "neo4j: loading %s into %s failed (exit "
			"%d): %.*s", d->t->src, d->t->dst, st.exited ? st.code : 128,
			(int)(len > 300 ? 300 : len), len > 300 ? t + len - 300 : t);
		goto out;
	}
	d->state = LD_LOADED;
	if (p->x->o->report)
		fprintf(p->x->o->report, "neo4j %s -> %s: dump of %llu bytes "
			"loaded with neo4j-admin, %.1fs\n", d->t->src, d->t->dst,
			(unsigned long long)d->bytes, elapsed_since(&t0));
	r = 0;
out:
	unstage(p, d);
	buf_release(&cmd);
	buf_release(&er);
	return r;
}

static int nl_begin(struct rs_ctx *x, json_t *detail, void **out,
		    struct err *e)
{
	struct load *p = xcalloc(1, sizeof(*p));
	const char *rdir = conf_str(x->conf, "project", "remote_dir");

	*out = p;
	p->x = x;
	p->win = p->wout = p->werr = -1;
	if (nr_targets(x, detail, &p->tg, &p->n, e) < 0)
		return -1;
	p->d = xcalloc(p->n + 1, sizeof(*p->d));
	for (size_t i = 0; i < p->n; i++) {
		struct ldb *d = &p->d[i];
		const char *m = json_string_value(json_object_get(p->tg[i].info,
								  "member"));
		json_t *mem;
		size_t j;

		d->t = &p->tg[i];
		d->member = xstrdup(m ? m : "");
		json_array_foreach(json_object_get(x->manifest, "members"), j, mem) {
			const char *s = json_string_value(json_object_get(mem,
									  "name"));

			if (s && m && !strncmp(s, m, strlen(m)) &&
			    !strncmp(s + strlen(m), ".part-", 6))
				d->parts++;
		}
		/* Users and roles come back only when asked for. */
		if (!strcmp(d->t->src, "system") && !x->o->globals &&
		    d->t->selected) {
			log_info("neo4j: not loading the system database (users "
				 "and roles) without --globals");
			d->t->selected = 0;
		}
	}
	if (!nr_selected(p->tg, p->n))
		return 0;
	if (!x->o->clean)
		return err_set(e, FX_FAIL, "neo4j: loading a dump replaces the "
			       "whole database: give --clean; nothing was "
			       "changed");
	p->dir = rdir && *rdir ? xstrfmt("%s/.ferry", rdir) : xstrdup("~/.ferry");
	if (xport_open(&p->xp, x->o->server, e) < 0 ||
	    nadmin_open(&p->ad, p->xp, x->o->compose, x->conf, e) < 0)
		return -1;
	p->ad_open = 1;
	return 0;
}

static int nl_member(void *state, struct rs_member *m, struct err *e)
{
	struct load *p = state;
	struct ldb *d = NULL;
	unsigned part = 0;
	int last = 0;
	char extra, *chunk;
	ssize_t n;

	for (size_t i = 0; i < p->n && !d; i++) {
		size_t len = strlen(p->d[i].member);

		if (!*p->d[i].member || strncmp(m->name, p->d[i].member, len))
			continue;
		if (!m->name[len])
			last = 1;
		else if (sscanf(m->name + len, ".part-%u%c", &part, &extra) == 1)
			last = part + 1 >= p->d[i].parts;
		else
			continue;
		d = &p->d[i];
	}
	if (!d)
		return 0;
	if (!d->t->selected)
		return 1;
	if (d->state == LD_NEW && stage_open(p, d, e) < 0)
		return -1;
	if (d->state != LD_STAGING || p->wdb != d)
		return err_set(e, FX_VERIFY, "member '%s' comes out of order",
			       m->name);
	chunk = xmalloc(CHUNK);
	while ((n = rs_read(m, chunk, CHUNK, e)) > 0) {
		int w = p->z ? zout_write(p->z, chunk, (size_t)n) :
			fd_write_all(p->win, chunk, (size_t)n);

		if (w < 0) {
			free(chunk);
			return err_set(e, FX_CONN, "neo4j: staging %s: %s", d->file,
				       p->z ? zout_error(p->z) : "write failed");
		}
		d->bytes += (uint64_t)n;
	}
	free(chunk);
	if (n < 0)
		return -1;
	if (last)
		p->pend = d;
	return 1;
}

static int nl_checked(void *state, struct err *e)
{
	struct load *p = state;
	struct ldb *d = p->pend;

	if (!d)
		return 0;
	p->pend = NULL;
	if (stage_close(p, e) < 0)
		return -1;
	d->state = LD_STAGED;
	return load_db(p, d, e);
}

static int nl_end(void *state, struct err *e)
{
	struct load *p = state;

	if (nadmin_start(&p->ad, e) < 0)
		return -1;
	for (size_t i = 0; i < p->n; i++)
		if (p->d[i].t->selected && p->d[i].state != LD_LOADED)
			return err_set(e, FX_VERIFY, "the archive ended before "
				       "the dump of neo4j database %s was "
				       "complete", p->d[i].t->src);
	return 0;
}

static void nl_abandon(void *state, struct err *e)
{
	struct load *p = state;
	struct buf done = BUF_INIT;
	struct err se = ERR_INIT;

	if (p->w) {
		struct err ignored = ERR_INIT;

		stage_close(p, &ignored);
	}
	for (size_t i = 0; i < p->n; i++) {
		unstage(p, &p->d[i]);
		if (p->d[i].state == LD_LOADED)
			buf_printf(&done, "%s%s", done.len ? ", " : "",
				   p->d[i].t->dst);
	}
	if (p->load_started && done.len)
		err_append(e, "; loaded before the failure: neo4j %s",
			   buf_str(&done));
	if (p->ad_open && nadmin_start(&p->ad, &se) < 0)
		err_append(e, "; and then %s", se.msg);
	buf_release(&done);
}

static void nl_free(void *state)
{
	struct load *p = state;

	if (!p)
		return;
	if (p->ad_open)
		nadmin_close(&p->ad);
	for (size_t i = 0; p->d && i < p->n; i++) {
		free(p->d[i].member);
		free(p->d[i].file);
	}
	free(p->d);
	nr_targets_free(p->tg, p->n);
	free(p->dir);
	if (p->xp)
		xport_close(p->xp);
	free(p);
}

const struct restorer neo4j_load_restorer = {
	"neo4j", nl_begin, NULL, nl_member, nl_checked, nl_end, nl_abandon, nl_free,
};

#include "deploy/sync.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/elapsed.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/sha256.h"
#include "util/shquote.h"
#include "net/xport.h"
#include "conf/conf.h"
#include "deploy/ignore.h"
#include "deploy/remote.h"
#include "deploy/send.h"
#include "deploy/tree.h"

struct plan {
	struct send_lists l;
	struct send_list check;		/* --checksum candidates */
	size_t gone;			/* server entries removed, each one
					 * itemized, inside removed dirs too */
};

static void push(struct send_list *s, const struct fentry *f)
{
	/* Sized for the worst case by the caller: no growth here. */
	s->v[s->n++] = f;
}

/* One itemized line; a name with a newline or control bytes is shown
 * escaped (as rsync and ls -b do), so it cannot forge a line. */
static void item_line(FILE *out, const char *code, const char *path,
		      const char *suffix, const char *link)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s ", code);
	esc_add(&b, path);
	buf_addstr(&b, suffix);
	if (link) {
		buf_addstr(&b, " -> ");
		esc_add(&b, link);
	}
	fprintf(out, "%s\n", buf_str(&b));
	buf_release(&b);
}

static void itemize(FILE *out, const char *code, const struct fentry *f)
{
	if (!out)
		return;
	item_line(out, code, f->path, f->type == 'd' ? "/" : "",
		  f->type == 'l' ? f->link : NULL);
}

static void compare(const struct ftree *local, const struct ftree *remote,
		    int checksum, struct plan *p, FILE *out)
{
	for (size_t i = 0; i < local->n; i++) {
		const struct fentry *l = &local->v[i];
		const struct fentry *r = tree_find(remote, l->path);
		char code[12] = "...........";

		code[0] = l->type == 'f' ? '>' : 'c';
		code[1] = l->type == 'l' ? 'L' : l->type;
		if (!r || r->type != l->type) {
			memset(code + 2, '+', 9);
			itemize(out, code, l);
			push(&p->l.send, l);
			if (r)
				push(&p->l.retype, r);
			continue;
		}
		if (l->type == 'f') {
			int s = l->size != r->size, t = l->mtime != r->mtime;
			int m = l->mode != r->mode;

			if (s || t || m) {
				code[3] = s ? 's' : '.';
				code[4] = t ? 't' : '.';
				code[5] = m ? 'p' : '.';
				itemize(out, code, l);
				push(&p->l.send, l);
			} else if (checksum) {
				push(&p->check, l);
			}
		} else if (l->type == 'l' && strcmp(l->link, r->link ? r->link : "")) {
			code[4] = 't';
			itemize(out, code, l);
			push(&p->l.send, l);
		} else if (l->type == 'd' && l->mode != r->mode) {
			/* An existing directory is descended into, not
			 * replaced: its mode is set apart. */
			code[0] = '.';
			code[5] = 'p';
			itemize(out, code, l);
			push(&p->l.chmod, l);
		}
	}
}

/* A remote directory holding anything the excludes protect is never removed
 * wholesale; only its other entries go.  A remote entry the local walk also
 * kept, as a directory or as not one alike, passed the same rules there:
 * only the others are matched (the rules cost ~1 us an entry, and most of
 * a tree is on both sides).  Both trees are sorted by path: one pass. */
static char *protected_dirs(const struct ftree *local,
			    const struct ftree *remote, const struct ignore *ig)
{
	char *prot = xcalloc(remote->n ? remote->n : 1, 1);
	size_t j = 0;

	for (size_t i = 0; i < remote->n; i++) {
		const char *path = remote->v[i].path;
		int is_dir = remote->v[i].type == 'd', c = 1;

		while (j < local->n && (c = strcmp(local->v[j].path, path)) < 0)
			j++;
		if (c == 0 && (local->v[j].type == 'd') == is_dir)
			continue;
		if (!ign_excluded_path(ig, path, is_dir))
			continue;
		prot[i] = 2;	/* excluded itself */
		for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
			char *parent = xstrndup(path, (size_t)(s - path));
			const struct fentry *d = tree_find(remote, parent);

			if (d)
				prot[d - remote->v] |= 1;
			free(parent);
		}
	}
	return prot;
}

static void deletions(const struct ftree *local, const struct ftree *remote,
		      const struct ignore *ig, struct plan *p, FILE *out)
{
	char *prot = protected_dirs(local, remote, ig);
	const char *gone = NULL;	/* a directory removed wholesale */
	size_t gl = 0;

	for (size_t i = 0; i < remote->n; i++) {
		const struct fentry *r = &remote->v[i];

		if (prot[i] & 2)
			continue;
		if (gone && !strncmp(r->path, gone, gl) && r->path[gl] == '/') {
			if (out)
				item_line(out, "*deleting  ", r->path,
					  r->type == 'd' ? "/" : "", NULL);
			p->gone++;
			continue;
		}
		if (tree_find(local, r->path))
			continue;
		if (r->type == 'd' && (prot[i] & 1))
			continue;	/* keeps what it protects */
		if (out)
			item_line(out, "*deleting  ", r->path,
				  r->type == 'd' ? "/" : "", NULL);
		p->gone++;
		push(&p->l.del, r);
		if (r->type == 'd') {
			gone = r->path;
			gl = strlen(gone);
		}
	}
	free(prot);
}

static int run_with_list(struct xport *x, const char *cmd,
			 const struct fentry **v, size_t n,
			 struct buf *out, struct err *e)
{
	struct buf list = BUF_INIT, errout = BUF_INIT;
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	int r;

	for (size_t i = 0; i < n; i++)
		buf_add(&list, v[i]->path, strlen(v[i]->path) + 1);
	io.in = list.p;
	io.inlen = list.len;
	io.out = out;
	io.err = &errout;
	io.max = (size_t)1 << 28;
	r = xport_run(x, cmd, &io, &st, e);
	if (r == 0 && (!st.exited || st.code != 0))
		r = err_set(e, FX_REMOTE, "%.40s... on %s failed: %.300s", cmd,
			    xport_name(x), buf_str(&errout));
	buf_release(&list);
	buf_release(&errout);
	return r;
}

static int file_sha256(const char *path, char out[65])
{
	unsigned char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct sha256 *md;
	ssize_t n;

	if (fd < 0)
		return -1;
	md = sha256_new();
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		sha256_update(md, chunk, (size_t)n);
	close(fd);
	sha256_final_hex(md, out);
	sha256_free(md);
	return n < 0 ? -1 : 0;
}

/* --checksum: one exec hashes every candidate on the server. */
static int checksums(struct xport *x, const char *root, const char *rdir,
		     struct plan *p, FILE *out, struct err *e)
{
	struct buf cmd = BUF_INIT, res = BUF_INIT;
	const char *line;
	int r;

	if (!p->check.n)
		return 0;
	buf_addstr(&cmd, "cd -- ");
	sh_quote(&cmd, rdir);
	buf_addstr(&cmd, " && xargs -0 -r sha256sum --");
	r = run_with_list(x, buf_str(&cmd), p->check.v, p->check.n, &res, e);
	line = buf_str(&res);
	for (size_t i = 0; r == 0 && i < p->check.n; i++) {
		char *local = xstrfmt("%s/%s", root, p->check.v[i]->path), want[65];

		/* sha256sum prefixes '\' to lines whose name it escaped. */
		if (*line == '\\')
			line++;
		if (strlen(line) < 64 || file_sha256(local, want) < 0) {
			r = err_set(e, FX_REMOTE, "checksum of %s failed",
				    p->check.v[i]->path);
		} else if (strncmp(line, want, 64)) {
			itemize(out, ">fc........", p->check.v[i]);
			push(&p->l.send, p->check.v[i]);
		}
		free(local);
		line = strchr(line, '\n');
		line = line ? line + 1 : "";
	}
	buf_release(&cmd);
	buf_release(&res);
	return r;
}

static enum send_codec pick_codec(const char *want, const struct remote_info *ri)
{
	if (!strcmp(want, "none"))
		return CODEC_NONE;
	if (!strcmp(want, "gzip"))
		return CODEC_GZIP;
	if (!strcmp(want, "zstd") || ri->has_zstd)
		return ri->has_zstd || !strcmp(want, "zstd") ? CODEC_ZSTD : CODEC_NONE;
	return ri->has_gzip ? CODEC_GZIP : CODEC_NONE;
}

static struct ignore *load_rules(const struct conf *c, const char *root,
				 struct err *e)
{
	struct ignore *ig = ign_new();
	struct strlist ex = STRLIST_INIT;
	const char *file = conf_str(c, "deploy", "ignore_file");
	char *path;
	int r;

	ign_add_builtin(ig);
	ign_add_config(ig, root, conf_path(c));
	conf_list(c, "deploy", "exclude", &ex);
	for (size_t i = 0; i < ex.n; i++)
		ign_add_hard(ig, ex.v[i]);
	strlist_release(&ex);
	path = xstrfmt("%s/%s", root, file);
	r = ign_load(ig, path, "", e);
	free(path);
	if (r < 0) {
		ign_free(ig);
		return NULL;
	}
	return ig;
}

/* The local walk runs in a thread of its own, from before the deploy
 * lock is taken until the server's listing is in: on a big tree the walk
 * takes about as long as the lock and the listing together. */
struct sync_walk {
	const char *root;
	struct ignore *ig;	/* the walk's alone until joined */
	int gitignore;
	struct ftree tree;
	struct err e;
	int rc;
	double seconds;
	int running;
	pthread_t th;
};

static void *walk_main(void *arg)
{
	struct sync_walk *w = arg;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	w->rc = tree_walk(w->root, w->ig, w->gitignore, &w->tree, &w->e);
	w->seconds = elapsed_since(&t0);
	return NULL;
}

int sync_walk_start(const struct conf *c, struct sync_walk **out,
		    struct err *e)
{
	struct sync_walk *w = xcalloc(1, sizeof(*w));

	w->root = conf_str(c, "project", "local_dir");
	w->gitignore = (int)conf_num(c, "deploy", "gitignore");
	w->rc = -1;
	w->ig = load_rules(c, w->root, e);
	if (!w->ig) {
		free(w);
		return -1;
	}
	if (pthread_create(&w->th, NULL, walk_main, w) == 0)
		w->running = 1;
	else
		walk_main(w);
	*out = w;
	return 0;
}

static void walk_join(struct sync_walk *w)
{
	if (w->running)
		pthread_join(w->th, NULL);
	w->running = 0;
}

/* Does path have a ".." among its components? */
static int has_dotdot(const char *path)
{
	for (const char *s = path;; s++) {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.')
			return 1;
		s += n;
		if (!*s)
			return 0;
	}
}

int sync_walk_excluded(struct sync_walk *w, const char *path)
{
	char *p;
	size_t n;
	int dir, hit;

	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (path[0] == '/' || has_dotdot(path))
		return 1;
	p = xstrdup(path);
	n = strlen(p);
	dir = n && p[n - 1] == '/';	/* "data/": a directory */
	while (n && p[n - 1] == '/')
		p[--n] = '\0';
	walk_join(w);
	hit = n ? ign_excluded_path(w->ig, p, dir) : 0;
	free(p);
	return hit;
}

void sync_walk_free(struct sync_walk *w)
{
	if (!w)
		return;
	walk_join(w);
	tree_release(&w->tree);
	ign_free(w->ig);
	free(w);
}

int sync_run(const struct conf *c, struct xport *x, const struct sync_opts *o,
	     struct sync_walk *given, struct sync_stats *st, struct err *e)
{
	const char *root = conf_str(c, "project", "local_dir");
	const char *rdir = conf_str(c, "project", "remote_dir");
	struct ftree remote = FTREE_INIT, *local;
	struct remote_info ri = { 0 };
	struct plan p = { 0 };
	struct sync_walk *w = given;
	struct timespec t0;
	struct err re = ERR_INIT;
	FILE *out = o->itemize;
	int r = -1, rr;

	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (remote_dir_ok(rdir, e) < 0)
		return -1;
	if (!w && sync_walk_start(c, &w, e) < 0)
		return -1;
	local = &w->tree;
	rr = remote_scan(x, rdir, o->dry_run, o->adopt, o->prelude, &remote,
			 &ri, &re);
	walk_join(w);
	if (rr == 1) {
		r = 1;
		goto out;
	}
	/* The local tree's problem first, as when the walk came first. */
	if (w->rc < 0 || rr < 0) {
		*e = w->rc < 0 ? w->e : re;
		goto out;
	}
	log_verbose("deploy: local walk: %zu entries, %.2fs; server listing: "
		    "%zu entries, %.2fs", local->n, w->seconds, remote.n,
		    elapsed_since(&t0));
	st->foreign = ri.foreign;
	p.l.send.v = xcalloc(local->n + 1, sizeof(*p.l.send.v));
	p.l.chmod.v = xcalloc(local->n + 1, sizeof(*p.l.chmod.v));
	p.check.v = xcalloc(local->n + 1, sizeof(*p.check.v));
	p.l.del.v = xcalloc(remote.n + 1, sizeof(*p.l.del.v));
	p.l.retype.v = xcalloc(remote.n + 1, sizeof(*p.l.retype.v));
	compare(local, &remote, o->checksum, &p, out);
	if (checksums(x, root, ri.dir, &p, out, e) < 0)
		goto out;
	/* A tree ferry did not make loses nothing until it is adopted. */
	if (conf_num(c, "deploy", "delete") && !ri.foreign)
		deletions(local, &remote, w->ig, &p, out);
	for (size_t i = 0; i < p.l.send.n; i++)
		st->bytes += p.l.send.v[i]->type == 'f' ? p.l.send.v[i]->size : 0;
	st->files = p.l.send.n + p.l.chmod.n;
	st->deleted = p.gone;
	st->unchanged = local->n - st->files;
	if (!o->dry_run && (st->files || st->deleted)) {
		uint64_t sent = 0;

		log_verbose("deploy: plan made, %.2fs", elapsed_since(&t0));
		if (send_entries(x, root, ri.dir, &p.l,
				 pick_codec(conf_str(c, "deploy", "compress"), &ri),
				 &sent, e) < 0)
			goto out;
		log_verbose("deploy: sent and placed, %.2fs", elapsed_since(&t0));
	}
	r = 0;
out:
	st->seconds = elapsed_since(&t0);
	free(p.l.send.v);
	free(p.l.chmod.v);
	free(p.l.del.v);
	free(p.l.retype.v);
	free(p.check.v);
	tree_release(&remote);
	remote_info_release(&ri);
	if (w != given)
		sync_walk_free(w);
	return r;
}

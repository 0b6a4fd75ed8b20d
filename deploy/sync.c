#include "deploy/sync.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/buf.h"
#include "agent/log.h"
#include "agent/shquote.h"
#include "agent/xport.h"
#include "conf/conf.h"
#include "deploy/ignore.h"
#include "deploy/remote.h"
#include "deploy/send.h"
#include "deploy/tree.h"

struct plan {
	const struct fentry **send;
	size_t nsend;
	const struct fentry **retype;	/* remote entries of another type */
	size_t nretype;
	const struct fentry **del;	/* remote entries to remove */
	size_t ndel;
	const struct fentry **check;	/* --checksum candidates */
	size_t ncheck;
};

static void push(const struct fentry ***v, size_t *n, const struct fentry *f)
{
	/* Sized for the worst case by the caller: no growth here. */
	(*v)[(*n)++] = f;
}

static void itemize(FILE *out, const char *code, const struct fentry *f)
{
	if (!out)
		return;
	if (f->type == 'l')
		fprintf(out, "%s %s -> %s\n", code, f->path, f->link);
	else
		fprintf(out, "%s %s%s\n", code, f->path, f->type == 'd' ? "/" : "");
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
			push(&p->send, &p->nsend, l);
			if (r)
				push(&p->retype, &p->nretype, r);
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
				push(&p->send, &p->nsend, l);
			} else if (checksum) {
				push(&p->check, &p->ncheck, l);
			}
		} else if (l->type == 'l' && strcmp(l->link, r->link ? r->link : "")) {
			code[4] = 't';
			itemize(out, code, l);
			push(&p->send, &p->nsend, l);
		} else if (l->type == 'd' && l->mode != r->mode) {
			code[0] = '.';
			code[5] = 'p';
			itemize(out, code, l);
			push(&p->send, &p->nsend, l);
		}
	}
}

/* A remote directory holding anything the excludes protect is never removed
 * wholesale; only its other entries go. */
static char *protected_dirs(const struct ftree *remote, const struct ignore *ig)
{
	char *prot = xcalloc(remote->n ? remote->n : 1, 1);

	for (size_t i = 0; i < remote->n; i++) {
		const char *path = remote->v[i].path;

		if (!ign_excluded_path(ig, path, remote->v[i].type == 'd'))
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
	char *prot = protected_dirs(remote, ig);
	const char *gone = NULL;	/* a directory removed wholesale */
	size_t gl = 0;

	for (size_t i = 0; i < remote->n; i++) {
		const struct fentry *r = &remote->v[i];

		if (prot[i] & 2)
			continue;
		if (gone && !strncmp(r->path, gone, gl) && r->path[gl] == '/') {
			if (out)
				fprintf(out, "*deleting   %s\n", r->path);
			continue;
		}
		if (tree_find(local, r->path))
			continue;
		if (out)
			fprintf(out, "*deleting   %s%s\n", r->path,
				r->type == 'd' ? "/" : "");
		if (r->type == 'd' && (prot[i] & 1))
			continue;	/* keeps what it protects */
		push(&p->del, &p->ndel, r);
		if (r->type == 'd') {
			gone = r->path;
			gl = strlen(gone);
		}
	}
	free(prot);
}

static int run_with_list(struct xport *x, const char *cmd,
			 const struct fentry *const *v, size_t n,
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
	static const char hex[] = "0123456789abcdef";
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char chunk[65536], d[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		EVP_MD_CTX_free(md);
		return -1;
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		EVP_DigestUpdate(md, chunk, (size_t)n);
	close(fd);
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
	return n < 0 ? -1 : 0;
}

/* --checksum: one exec hashes every candidate on the server. */
static int checksums(struct xport *x, const char *root, const char *rdir,
		     struct plan *p, FILE *out, struct err *e)
{
	struct buf cmd = BUF_INIT, res = BUF_INIT;
	const char *line;
	int r;

	if (!p->ncheck)
		return 0;
	buf_addstr(&cmd, "cd -- ");
	sh_quote(&cmd, rdir);
	buf_addstr(&cmd, " && xargs -0 -r sha256sum --");
	r = run_with_list(x, buf_str(&cmd), p->check, p->ncheck, &res, e);
	line = buf_str(&res);
	for (size_t i = 0; r == 0 && i < p->ncheck; i++) {
		char *local = xstrfmt("%s/%s", root, p->check[i]->path), want[65];

		/* sha256sum prefixes '\' to lines whose name it escaped. */
		if (*line == '\\')
			line++;
		if (strlen(line) < 64 || file_sha256(local, want) < 0) {
			r = err_set(e, FX_REMOTE, "checksum of %s failed",
				    p->check[i]->path);
		} else if (strncmp(line, want, 64)) {
			itemize(out, ">fc........", p->check[i]);
			push(&p->send, &p->nsend, p->check[i]);
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

int sync_run(const struct conf *c, struct xport *x, const struct sync_opts *o,
	     struct sync_stats *st, struct err *e)
{
	const char *root = conf_str(c, "project", "local_dir");
	const char *rdir = conf_str(c, "project", "remote_dir");
	struct ftree local = FTREE_INIT, remote = FTREE_INIT;
	struct remote_info ri = { 0 };
	struct plan p = { 0 };
	struct ignore *ig = NULL;
	struct timespec t0, t1;
	FILE *out = o->itemize;
	int r = -1;

	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (remote_dir_ok(rdir, e) < 0)
		return -1;
	ig = load_rules(c, root, e);
	if (!ig)
		goto out;
	if (tree_walk(root, ig, (int)conf_num(c, "deploy", "gitignore"), &local,
		      e) < 0 ||
	    remote_scan(x, rdir, &remote, &ri, e) < 0)
		goto out;
	p.send = xcalloc(local.n + 1, sizeof(*p.send));
	p.check = xcalloc(local.n + 1, sizeof(*p.check));
	p.del = xcalloc(remote.n + 1, sizeof(*p.del));
	p.retype = xcalloc(remote.n + 1, sizeof(*p.retype));
	compare(&local, &remote, o->checksum, &p, out);
	if (checksums(x, root, ri.dir, &p, out, e) < 0)
		goto out;
	if (conf_num(c, "deploy", "delete"))
		deletions(&local, &remote, ig, &p, out);
	for (size_t i = 0; i < p.nsend; i++)
		st->bytes += p.send[i]->type == 'f' ? p.send[i]->size : 0;
	st->files = p.nsend;
	st->deleted = p.ndel;
	st->unchanged = local.n - p.nsend;
	if (!o->dry_run) {
		uint64_t sent = 0;
		struct buf cmd = BUF_INIT;

		buf_addstr(&cmd, "cd -- ");
		sh_quote(&cmd, ri.dir);
		buf_addstr(&cmd, " && xargs -0 -r rm -rf --");
		/* A file becoming a directory (or the reverse) cannot be
		 * renamed over: the old one goes first. */
		if (p.nretype && run_with_list(x, buf_str(&cmd), p.retype,
					       p.nretype, NULL, e) < 0) {
			buf_release(&cmd);
			goto out;
		}
		if (p.nsend && send_entries(x, root, ri.dir, p.send, p.nsend,
			pick_codec(conf_str(c, "deploy", "compress"), &ri),
			&sent, e) < 0) {
			buf_release(&cmd);
			goto out;
		}
		r = p.ndel ? run_with_list(x, buf_str(&cmd), p.del, p.ndel, NULL, e) : 0;
		buf_release(&cmd);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->seconds = (double)(t1.tv_sec - t0.tv_sec) +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	free(p.send);
	free(p.check);
	free(p.del);
	free(p.retype);
	tree_release(&local);
	tree_release(&remote);
	remote_info_release(&ri);
	ign_free(ig);
	return r;
}

/*
 * The files component: server files kept as they are ([files] paths:
 * globs relative to [project] remote_dir, or absolute), copied over SFTP
 * into files/<path> with their mode and mtime in the manifest, every one
 * marked secret there (env files hold passwords; the archive is 0600 and
 * encrypted off-site when a key is configured).
 *
 * A matched directory is copied whole.  A symlink whose target stays
 * inside the copied tree is kept as a link; one pointing out of it is
 * followed and its target's content kept under the link's name, so a
 * restore never has to create a link that leaves its directory.
 *
 * A name is whatever bytes the server's file system allows.  The member
 * escapes what would not survive a tar name (component_member_path():
 * "bad\377" is files/bad%FF); the manifest keeps the exact name, through
 * util/jtext.h when it is not UTF-8, for the restore to write it back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backup/component.h"
#include "backup/fetch.h"
#include "conf/conf.h"
#include "net/xport.h"
#include "net/xport_fs.h"
#include "util/escape.h"
#include "util/jtext.h"
#include "util/log.h"

struct files {
	struct bk_ctx *ctx;
	char *root;		/* remote_dir as xport_path() spells it */
	json_t *entries;
	json_t *seen;		/* member -> source (escaped) */
	struct strlist unmatched;
	uint64_t bytes;
	size_t nfiles, nlinks;
	int copy;		/* 0: a check, which only counts */
};

/* Where a server path goes under files/: relative to remote_dir when it
 * is under it, else the path without its leading '/' (as tar does). */
static char *rel_of(const struct files *f, const char *p)
{
	size_t n = f->root ? strlen(f->root) : 0;

	if (n && !strncmp(p, f->root, n) && p[n] == '/')
		p += n + 1;
	while (*p == '/')
		p++;
	while (!strncmp(p, "./", 2))
		p += 2;
	return xstrdup(*p ? p : ".");
}

/* 1 when target, seen from rel's directory, stays inside the tree. */
static int link_inside(const char *rel, const char *target)
{
	long depth = 0;

	if (*target == '/' || !*target)
		return 0;
	for (const char *p = rel; (p = strchr(p, '/')); p++)
		depth++;
	while (*target) {
		size_t n = strcspn(target, "/");

		if (n == 2 && !strncmp(target, "..", 2)) {
			if (--depth < 0)
				return 0;
		} else if (n && !(n == 1 && *target == '.')) {
			depth++;
		}
		target += n;
		if (*target == '/')
			target++;
	}
	return 1;
}

/* Records rel once; FX_FAIL when two server files would land on it.
 * Keyed by the member, whose name is UTF-8 whatever rel's bytes. */
static int claim(struct files *f, const char *rel, const char *src,
		 int *dup, struct err *e)
{
	char *member = component_member_path(rel);
	json_t *s = jtext_new(src);
	const char *had = json_string_value(json_object_get(f->seen, member));
	int r = 0;

	*dup = had != NULL;
	if (had && strcmp(had, json_string_value(s)))
		r = err_set(e, FX_FAIL, "files: %s and %s would both be "
			    "files/%s", had, json_string_value(s), member);
	else if (!had)
		json_object_set(f->seen, member, s);
	json_decref(s);
	free(member);
	return r;
}

static int copy_file(struct files *f, const char *p, const char *rel,
		     const struct ssh_stat *st, const char *followed,
		     struct err *e)
{
	char *part = component_member_path(rel);
	char *member = xstrfmt("files/%s", part);
	char mode[8];
	uint64_t bytes = 0;
	json_t *ent;
	int r = -1;

	if (f->copy && fetch_file(f->ctx->x, p, 0, 0, f->ctx->arc, member,
				  &bytes, e) < 0) {
		fetch_blame(f->ctx->arc, "files", p, e);
		goto out;
	}
	snprintf(mode, sizeof(mode), "%04lo", st->mode & 07777);
	ent = json_object();
	jtext_set_name(ent, "path", rel);
	json_object_set_new(ent, "member", json_string(member));
	jtext_set_name(ent, "source", p);
	json_object_set_new(ent, "mode", json_string(mode));
	json_object_set_new(ent, "mtime", json_integer((json_int_t)st->mtime));
	json_object_set_new(ent, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(ent, "secret", json_true());
	if (followed)
		jtext_set_name(ent, "followed_link", followed);
	json_array_append_new(f->entries, ent);
	f->bytes += bytes;
	f->nfiles++;
	r = 0;
out:
	free(part);
	free(member);
	return r;
}

static int add_path(struct files *f, const char *p, struct err *e);

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_dir(struct files *f, const char *p, struct err *e)
{
	struct strlist names = STRLIST_INIT;
	struct xdir *d = NULL;
	struct buf name = BUF_INIT;
	struct ssh_stat st;
	int r;

	if (xport_opendir(f->ctx->x, p, &d, e) < 0)
		return -1;
	while ((r = xport_readdir(d, &name, &st, e)) > 0)
		strlist_add(&names, buf_str(&name));
	xport_closedir(d);
	/* The listing's order is the server's; the archive's is sorted. */
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), cmp_name);
	for (size_t i = 0; r == 0 && i < names.n; i++) {
		char *child = xstrfmt("%s%s%s", p, p[strlen(p) - 1] == '/' ?
				      "" : "/", names.v[i]);

		r = add_path(f, child, e);
		free(child);
	}
	strlist_release(&names);
	buf_release(&name);
	return r < 0 ? -1 : 0;
}

static int add_link(struct files *f, const char *p, const char *rel,
		    const struct ssh_stat *lst, struct err *e)
{
	struct buf target = BUF_INIT;
	struct ssh_stat st;
	int missing, r = -1;

	if (xport_readlink(f->ctx->x, p, &target, e) < 0)
		goto out;
	if (link_inside(rel, buf_str(&target))) {
		json_t *ent = json_object();

		jtext_set_name(ent, "path", rel);
		jtext_set_name(ent, "link", buf_str(&target));
		jtext_set_name(ent, "source", p);
		json_object_set_new(ent, "mtime",
				    json_integer((json_int_t)lst->mtime));
		json_object_set_new(ent, "secret", json_true());
		json_array_append_new(f->entries, ent);
		f->nlinks++;
		r = 0;
		goto out;
	}
	/* Out of the tree: its target's content, under the link's name. */
	if (xport_stat(f->ctx->x, p, &st, &missing, e) < 0) {
		if (!missing)
			goto out;
		err_clear(e);
		log_warn("files: %s points to %s, which does not exist; skipped",
			 p, buf_str(&target));
		r = 0;
		goto out;
	}
	if (!S_ISREG(st.mode)) {
		log_warn("files: %s points out of the copied tree to %s, which "
			 "is not a file; skipped", p, buf_str(&target));
		r = 0;
		goto out;
	}
	r = copy_file(f, p, rel, &st, buf_str(&target), e);
out:
	buf_release(&target);
	return r;
}

static int add_path(struct files *f, const char *p, struct err *e)
{
	struct ssh_stat st;
	char *rel = rel_of(f, p);
	int missing, dup, r = -1;

	if (xport_lstat(f->ctx->x, p, &st, &missing, e) < 0)
		goto out;
	if (S_ISDIR(st.mode)) {
		r = add_dir(f, p, e);
		goto out;
	}
	if (!strcmp(rel, ".")) {
		char *shown = esc_str(p);

		err_set(e, FX_FAIL, "files: %s is not under a directory", shown);
		free(shown);
		goto out;
	}
	if (claim(f, rel, p, &dup, e) < 0)
		goto out;
	if (dup) {
		r = 0;
	} else if (S_ISLNK(st.mode)) {
		r = add_link(f, p, rel, &st, e);
	} else if (S_ISREG(st.mode)) {
		r = copy_file(f, p, rel, &st, NULL, e);
	} else {
		log_warn("files: %s is not a file, directory or link; skipped",
			 p);
		r = 0;
	}
out:
	free(rel);
	return r;
}

static int run(struct files *f, struct err *e)
{
	const struct conf *c = f->ctx->conf;
	const char *rdir = conf_str(c, "project", "remote_dir");
	struct strlist pats = STRLIST_INIT, found = STRLIST_INIT;
	int r = -1;

	f->root = rdir && *rdir ? xport_path(f->ctx->x, rdir) : NULL;
	f->entries = json_array();
	f->seen = json_object();
	conf_list(c, "files", "paths", &pats);
	if (!pats.n) {
		err_set(e, FX_USAGE, "%s: [files] paths is empty: nothing to "
			"copy", conf_path(c));
		goto out;
	}
	for (size_t i = 0; i < pats.n; i++) {
		const char *pat = pats.v[i];
		char *full = *pat == '/' || *pat == '~' || !f->root ?
			     xstrdup(pat) : xstrfmt("%s/%s", f->root, pat);

		strlist_release(&found);
		r = xport_glob(f->ctx->x, full, &found, e);
		free(full);
		if (r < 0)
			goto out;
		r = -1;
		if (!found.n)
			strlist_add(&f->unmatched, pat);
		for (size_t k = 0; k < found.n; k++)
			if (add_path(f, found.v[k], e) < 0)
				goto out;
	}
	r = 0;
out:
	strlist_release(&pats);
	strlist_release(&found);
	return r;
}

static void release(struct files *f)
{
	free(f->root);
	json_decref(f->entries);
	json_decref(f->seen);
	strlist_release(&f->unmatched);
}

int files_backup(struct bk_ctx *ctx, json_t *detail, struct err *e)
{
	struct files f = { 0 };
	json_t *un = json_array();
	int r;

	f.ctx = ctx;
	f.copy = 1;
	r = run(&f, e);
	for (size_t i = 0; i < f.unmatched.n; i++) {
		log_warn("files: nothing matches %s", f.unmatched.v[i]);
		json_array_append_new(un, jtext_new(f.unmatched.v[i]));
	}
	json_object_set_new(detail, "secret", json_true());
	if (f.root)
		json_object_set_new(detail, "remote_dir", jtext_new(f.root));
	json_object_set_new(detail, "entries", json_incref(f.entries));
	json_object_set_new(detail, "unmatched", un);
	if (ctx->summary) {
		buf_printf(ctx->summary, "%zu file%s", f.nfiles,
			   f.nfiles == 1 ? "" : "s");
		if (f.nlinks)
			buf_printf(ctx->summary, " and %zu link%s", f.nlinks,
				   f.nlinks == 1 ? "" : "s");
	}
	release(&f);
	return r;
}

int files_check(struct bk_ctx *ctx, struct buf *detail, struct err *e)
{
	struct files f = { 0 };
	int r;

	f.ctx = ctx;
	r = run(&f, e);
	if (r == 0 && f.unmatched.n) {
		r = err_set(e, FX_FAIL, "files: nothing matches %s%s",
			    f.unmatched.v[0], f.unmatched.n > 1 ? " (and more)" :
			    "");
	}
	if (r == 0)
		buf_printf(detail, "%zu file%s, %zu link%s", f.nfiles,
			   f.nfiles == 1 ? "" : "s", f.nlinks,
			   f.nlinks == 1 ? "" : "s");
	release(&f);
	return r;
}

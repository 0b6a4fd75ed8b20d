/*
 * The files and logs restorers: their members written under --to DIR
 * (restore/todir.c), never onto the server, whose env files and logs a
 * restore must not overwrite.
 *
 * Before anything is written, every path the archive names for the
 * component is checked: the manifest's entries (paths, link targets) and
 * its members.  One that would leave DIR ("..", an absolute path, a link
 * pointing out, a symlink already under DIR) refuses the whole restore.
 * A file becomes durable (renamed into place) only after its last part
 * matched the manifest; links are made at the end, after every member.
 *
 * Without --to they are left in the archive: a plain restore says so,
 * --only files (or logs) without --to is a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/verify.h"
#include "restore/files_restore.h"
#include "restore/todir.h"
#include "util/fdio.h"
#include "util/jtext.h"
#include "util/log.h"

#define CHUNK (256u * 1024)

struct tr_entry {
	const char *path, *member, *link;
	int mode;		/* -1: none recorded */
	long long mtime;	/* -1: none recorded */
	unsigned nparts;	/* 0: one member under its own name */
	struct todir_file tf;
	int staged, done;
};

struct tree {
	const char *comp;	/* "files" or "logs" */
	int skip;
	int failed;		/* at backup time: what landed is restored */
	struct todir *dir;
	struct tr_entry *v;
	size_t n;
	struct tr_entry *pend;	/* its last part was just read */
	size_t files, links;
	uint64_t bytes;
	FILE *report;
	struct strlist names;	/* the entries' paths and links, decoded */
};

static int picked(const struct rs_ctx *x, const char *comp)
{
	for (size_t i = 0; x->o->only && i < x->o->only->n; i++)
		if (!strcmp(x->o->only->v[i], comp))
			return 1;
	return 0;
}

/* "0640" -> 0640, or -1. */
static int mode_of(const char *s)
{
	int m = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '7' || m > 07777)
			return -1;
		m = m * 8 + (*s - '0');
	}
	return m;
}

/* The entry whose member m is (or is a part of); *last when it is the
 * last of its parts. */
static struct tr_entry *entry_of(struct tree *t, const char *m, int *last)
{
	for (size_t i = 0; i < t->n; i++) {
		struct tr_entry *en = &t->v[i];
		size_t ml = en->member ? strlen(en->member) : 0;
		unsigned part;
		char extra;

		if (!ml || strncmp(m, en->member, ml))
			continue;
		if (!m[ml]) {
			*last = 1;
			return en;
		}
		if (sscanf(m + ml, ".part-%u%c", &part, &extra) == 1) {
			*last = part + 1 >= en->nparts;
			return en;
		}
	}
	return NULL;
}

static int refuse(struct tree *t, const char *what, const char *name,
		  struct err *e)
{
	return err_set(e, FX_VERIFY, "%s: %s '%s' would leave the target "
		       "directory: refused, nothing was written", t->comp, what,
		       name);
}

/* An entry's name as the backup kept it: its exact bytes, also when they
 * are not UTF-8 (util/jtext.h); t owns it.  NULL: none, or malformed. */
static const char *name_of(struct tree *t, json_t *it, const char *key)
{
	char *s = jtext_get_name(it, key);

	if (s)
		strlist_add_take(&t->names, s);
	return s;
}

/* Every entry and member of the component, checked before any write. */
static int load(struct tree *t, struct rs_ctx *x, json_t *detail,
		struct err *e)
{
	json_t *ents = json_object_get(detail, "entries"), *it;
	json_t *members = json_object_get(x->manifest, "members");
	size_t plen = strlen(t->comp), i;
	int last;

	t->v = xcalloc(json_array_size(ents) + 1, sizeof(*t->v));
	json_array_foreach(ents, i, it) {
		struct tr_entry *en = &t->v[t->n++];

		en->path = name_of(t, it, "path");
		en->member = json_string_value(json_object_get(it, "member"));
		en->link = name_of(t, it, "link");
		en->mode = mode_of(json_string_value(json_object_get(it, "mode")));
		en->mtime = json_is_integer(json_object_get(it, "mtime")) ?
			json_integer_value(json_object_get(it, "mtime")) : -1;
		en->tf.fd = en->tf.dirfd = -1;
		if (!en->path || !todir_safe_rel(en->path))
			return refuse(t, "path", en->path ? en->path : "(none)", e);
		if (en->link && !todir_safe_link(en->path, en->link))
			return refuse(t, "link", en->link, e);
		if (!en->link && (!en->member || !verify_safe_name(en->member) ||
				  strncmp(en->member, t->comp, plen) ||
				  en->member[plen] != '/'))
			return refuse(t, "member", en->member ? en->member :
				      "(none)", e);
		for (size_t k = 0; k + 1 < t->n; k++) {
			size_t pl = strlen(t->v[k].path);

			if (!strcmp(t->v[k].path, en->path))
				return err_set(e, FX_VERIFY, "%s: '%s' is listed "
					       "twice", t->comp, en->path);
			/* Nothing may be written through a link this
			 * restore makes. */
			if ((t->v[k].link && !strncmp(en->path, t->v[k].path, pl) &&
			     en->path[pl] == '/') ||
			    (en->link && !strncmp(t->v[k].path, en->path,
						   strlen(en->path)) &&
			     t->v[k].path[strlen(en->path)] == '/'))
				return refuse(t, "path under a link", en->path, e);
		}
	}
	json_array_foreach(members, i, it) {
		const char *name = json_string_value(json_object_get(it, "name"));
		struct tr_entry *en;

		if (!name || strncmp(name, t->comp, plen) || name[plen] != '/')
			continue;
		if (!verify_safe_name(name))
			return refuse(t, "member", name, e);
		en = entry_of(t, name, &last);
		/* A failed component may have left part of the file it
		 * failed on: not listed, so not restored. */
		if (!en && t->failed)
			continue;
		if (!en || en->link)
			return err_set(e, FX_VERIFY, "%s: member '%s' is not in "
				       "the manifest's list: refused, nothing "
				       "was written", t->comp, name);
		if (strcmp(name, en->member))
			en->nparts++;
	}
	return 0;
}

static int tr_begin(struct rs_ctx *x, json_t *detail, void **out,
		    struct err *e, const char *comp)
{
	struct tree *t = xcalloc(1, sizeof(*t));
	char *root = NULL;
	int r = -1;

	*out = t;
	t->comp = comp;
	t->report = x->o->report;
	if (!x->o->to) {
		if (picked(x, comp))
			return err_set(e, FX_USAGE, "restoring %s needs --to DIR "
				       "(ferry never writes them back onto the "
				       "server)", comp);
		log_info("%s: left in the archive (restore them with --only %s "
			 "--to DIR)", comp, comp);
		t->skip = 1;
		return 0;
	}
	t->failed = strcmp(json_string_value(json_object_get(detail,
							      "status")) ?: "",
			   "ok") != 0;
	if (load(t, x, detail, e) < 0)
		goto out;
	root = todir_root(x, comp);
	if (todir_open(&t->dir, root, e) < 0)
		goto out;
	for (size_t i = 0; i < t->n; i++)
		if (todir_check(t->dir, t->v[i].path, e) < 0) {
			err_append(e, ": refused, nothing was written");
			goto out;
		}
	if (todir_existing(t->dir, x->o->clean, e) < 0) {
		err_wrap(e, "%s", comp);
		goto out;
	}
	r = 0;
out:
	free(root);
	return r;
}

static int files_begin(struct rs_ctx *x, json_t *detail, void **out,
		       struct err *e)
{
	return tr_begin(x, detail, out, e, "files");
}

static int logs_begin(struct rs_ctx *x, json_t *detail, void **out,
		      struct err *e)
{
	return tr_begin(x, detail, out, e, "logs");
}

static int tr_member(void *state, struct rs_member *m, struct err *e)
{
	struct tree *t = state;
	size_t plen = strlen(t->comp);
	struct tr_entry *en;
	char *chunk;
	ssize_t n;
	int last = 0;

	if (strncmp(m->name, t->comp, plen) || m->name[plen] != '/')
		return 0;
	if (t->skip)
		return 1;
	en = entry_of(t, m->name, &last);
	if (!en && t->failed)
		return 1;	/* what the failure cut short: left alone */
	if (!en || en->done)
		return err_set(e, FX_VERIFY, "member '%s' is not in the manifest's "
			       "list or comes twice", m->name);
	if (!en->staged) {
		if (todir_stage(t->dir, en->path, &en->tf, e) < 0)
			return -1;
		en->staged = 1;
	}
	chunk = xmalloc(CHUNK);
	while ((n = rs_read(m, chunk, CHUNK, e)) > 0)
		if (fd_write_all(en->tf.fd, chunk, (size_t)n) < 0) {
			n = err_set(e, FX_FAIL, "write %s/%s: %s",
				    todir_path(t->dir), en->path, strerror(errno));
			break;
		}
	free(chunk);
	if (n < 0)
		return -1;
	t->bytes += m->size;
	t->pend = last ? en : NULL;
	return 1;
}

static int tr_checked(void *state, struct err *e)
{
	struct tree *t = state;
	struct tr_entry *en = t->pend;

	t->pend = NULL;
	if (!en)
		return 0;
	en->staged = 0;
	if (todir_commit(&en->tf, en->mode, en->mtime, e) < 0)
		return -1;
	en->done = 1;
	t->files++;
	return 0;
}

static int tr_end(void *state, struct err *e)
{
	struct tree *t = state;

	if (t->skip)
		return 0;
	for (size_t i = 0; i < t->n; i++)
		if (!t->v[i].link && !t->v[i].done)
			return err_set(e, FX_VERIFY, "the archive ended before "
				       "%s '%s' was complete", t->comp,
				       t->v[i].path);
	for (size_t i = 0; i < t->n; i++) {
		if (!t->v[i].link)
			continue;
		if (todir_symlink(t->dir, t->v[i].path, t->v[i].link, e) < 0)
			return -1;
		t->links++;
	}
	if (t->report)
		fprintf(t->report, "%s -> %s: %zu file%s, %zu link%s, %.1f kB\n",
			t->comp, todir_path(t->dir), t->files, t->files == 1 ?
			"" : "s", t->links, t->links == 1 ? "" : "s",
			(double)t->bytes / 1e3);
	return 0;
}

static void tr_abandon(void *state, struct err *e)
{
	struct tree *t = state;

	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].staged)
			todir_discard(&t->v[i].tf);
	todir_undo(t->dir);
	if (t->files)
		err_append(e, "; %s: %zu of %zu written under %s before the "
			   "failure", t->comp, t->files, t->n,
			   todir_path(t->dir));
}

static void tr_free(void *state)
{
	struct tree *t = state;

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].staged)
			todir_discard(&t->v[i].tf);
	todir_free(t->dir);
	free(t->v);
	strlist_release(&t->names);
	free(t);
}

const struct restorer files_restorer = {
	"files", files_begin, NULL, tr_member, tr_checked, tr_end,
	tr_abandon, tr_free,
};

const struct restorer logs_restorer = {
	"logs", logs_begin, NULL, tr_member, tr_checked, tr_end,
	tr_abandon, tr_free,
};

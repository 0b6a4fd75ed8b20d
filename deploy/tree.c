#include "deploy/tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "deploy/ignore.h"

void tree_add(struct ftree *t, const char *path, char type, uint64_t size,
	      int64_t mtime, uint32_t mode, const char *link)
{
	struct fentry *f;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	f = &t->v[t->n++];
	f->path = xstrdup(path);
	f->type = type;
	f->size = size;
	f->mtime = mtime;
	f->mode = mode;
	f->link = link ? xstrdup(link) : NULL;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct fentry *)a)->path,
		      ((const struct fentry *)b)->path);
}

void tree_sort(struct ftree *t)
{
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), by_path);
}

const struct fentry *tree_find(const struct ftree *t, const char *path)
{
	struct fentry key = { (char *)path, 0, 0, 0, 0, NULL };

	return t->n ? bsearch(&key, t->v, t->n, sizeof(*t->v), by_path) : NULL;
}

void tree_release(struct ftree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].path);
		free(t->v[i].link);
	}
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

/* The entry name in directory dfd, at rel (its path from the root, in a
 * buffer the walk shares: restored on return).  d_type, when the file
 * system gives one, lets an excluded name go without a stat. */
static int walk_dir(int dfd, const char *shown, struct buf *rel,
		    struct ignore *ig, int gitignore, struct ftree *out,
		    struct err *e);

static int walk_entry(int dfd, const char *shown, struct dirent *d,
		      struct buf *rel, struct ignore *ig, int gitignore,
		      struct ftree *out, struct err *e)
{
	size_t at = rel->len;
	struct stat st;
	char type;
	int r = 0;

	if (at)
		buf_addch(rel, '/');
	buf_addstr(rel, d->d_name);
	/* Known types need no stat to be excluded. */
	if ((d->d_type == DT_DIR || d->d_type == DT_REG || d->d_type == DT_LNK) &&
	    ign_excluded(ig, buf_str(rel), d->d_type == DT_DIR))
		goto out;
	if (fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = err_set(e, FX_FAIL, "stat %s/%s: %s", shown, buf_str(rel),
			    strerror(errno));
		goto out;
	}
	type = S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' :
	       S_ISREG(st.st_mode) ? 'f' : 0;
	if (!type) {
		log_warn("%s/%s: not a file, directory or symlink; skipped",
			 shown, buf_str(rel));
	} else if (!ign_excluded(ig, buf_str(rel), type == 'd')) {
		char target[PATH_MAX];
		ssize_t n = 0;

		if (type == 'l') {
			n = readlinkat(dfd, d->d_name, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = '\0';
		}
		tree_add(out, buf_str(rel), type, type == 'f' ?
			 (uint64_t)st.st_size : 0, (int64_t)st.st_mtime,
			 st.st_mode & 07777, type == 'l' ? target : NULL);
		if (type == 'd') {
			int sub = openat(dfd, d->d_name, O_RDONLY | O_DIRECTORY |
					 O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0)
				r = err_set(e, FX_FAIL, "read %s/%s: %s", shown,
					    buf_str(rel), strerror(errno));
			else
				r = walk_dir(sub, shown, rel, ig, gitignore, out, e);
		}
	}
out:
	buf_setlen(rel, at);
	return r;
}

/* Walks the directory open on dfd (closed here). */
static int walk_dir(int dfd, const char *shown, struct buf *rel,
		    struct ignore *ig, int gitignore, struct ftree *out,
		    struct err *e)
{
	struct dirent *d;
	DIR *dp;
	int r = 0;

	if (gitignore) {
		char *gi = xstrfmt("%s/%s%s.gitignore", shown, buf_str(rel),
				   rel->len ? "/" : "");
		char *base = xstrfmt("%s%s", buf_str(rel), rel->len ? "/" : "");

		r = ign_load(ig, gi, base, e);
		free(gi);
		free(base);
		if (r < 0) {
			close(dfd);
			return r;
		}
	}
	dp = fdopendir(dfd);
	if (!dp) {
		r = err_set(e, FX_FAIL, "read %s/%s: %s", shown, buf_str(rel),
			    strerror(errno));
		close(dfd);
		return r;
	}
	while (r == 0 && (d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		r = walk_entry(dirfd(dp), shown, d, rel, ig, gitignore, out, e);
	}
	closedir(dp);
	return r;
}

int tree_walk(const char *root, struct ignore *ig, int gitignore,
	      struct ftree *out, struct err *e)
{
	struct buf rel = BUF_INIT;
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (dfd < 0)
		return err_set(e, FX_FAIL, "read %s: %s", root, strerror(errno));
	r = walk_dir(dfd, root, &rel, ig, gitignore, out, e);
	buf_release(&rel);
	tree_sort(out);
	return r;
}

#include "deploy/tree.h"

#include <dirent.h>
#include <errno.h>
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

static int walk_dir(const char *root, const char *rel, struct ignore *ig,
		    int gitignore, struct ftree *out, struct err *e)
{
	char *dir = *rel ? xstrfmt("%s/%s", root, rel) : xstrdup(root);
	struct dirent *d;
	DIR *dp;
	int r = 0;

	if (gitignore) {
		char *gi = xstrfmt("%s/.gitignore", dir);
		char *base = *rel ? xstrfmt("%s/", rel) : xstrdup("");

		r = ign_load(ig, gi, base, e);
		free(gi);
		free(base);
		if (r < 0)
			goto out;
	}
	dp = opendir(dir);
	if (!dp) {
		r = err_set(e, FX_FAIL, "read %s: %s", dir, strerror(errno));
		goto out;
	}
	while (r == 0 && (d = readdir(dp))) {
		char *path, *full;
		struct stat st;
		char type;

		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		path = *rel ? xstrfmt("%s/%s", rel, d->d_name) : xstrdup(d->d_name);
		full = xstrfmt("%s/%s", root, path);
		if (lstat(full, &st) < 0) {
			r = err_set(e, FX_FAIL, "stat %s: %s", full, strerror(errno));
		} else {
			type = S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' :
				S_ISREG(st.st_mode) ? 'f' : 0;
			if (!type) {
				log_warn("%s: not a file, directory or symlink; "
					 "skipped", full);
			} else if (!ign_excluded(ig, path, type == 'd')) {
				char target[PATH_MAX];
				ssize_t n = 0;

				if (type == 'l') {
					n = readlink(full, target, sizeof(target) - 1);
					target[n > 0 ? n : 0] = '\0';
				}
				tree_add(out, path, type, type == 'f' ?
					 (uint64_t)st.st_size : 0,
					 (int64_t)st.st_mtime, st.st_mode & 07777,
					 type == 'l' ? target : NULL);
				if (type == 'd')
					r = walk_dir(root, path, ig, gitignore, out, e);
			}
		}
		free(path);
		free(full);
	}
	closedir(dp);
out:
	free(dir);
	return r;
}

int tree_walk(const char *root, struct ignore *ig, int gitignore,
	      struct ftree *out, struct err *e)
{
	int r = walk_dir(root, "", ig, gitignore, out, e);

	tree_sort(out);
	return r;
}

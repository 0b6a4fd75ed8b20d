/*
 * tree: a flat, sorted listing of a project tree, local (walked here) or
 * remote (parsed from the server's find output): path, type, size, mtime,
 * mode and symlink target of every entry.
 */
#ifndef FERRY_TREE_H
#define FERRY_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct ignore;

struct fentry {
	char *path;		/* relative, no "./" */
	char type;		/* 'f' file, 'd' directory, 'l' symlink */
	uint64_t size;
	int64_t mtime;		/* seconds */
	uint32_t mode;		/* permission bits */
	char *link;		/* symlink target, or NULL */
};

struct ftree {
	struct fentry *v;
	size_t n, cap;
};

#define FTREE_INIT { NULL, 0, 0 }

/* Walks root top-down, skipping what ig excludes (and never descending into
 * an excluded directory).  With gitignore, every .gitignore found is added
 * to ig as it is reached.  Sorted by path on return. */
int tree_walk(const char *root, struct ignore *ig, int gitignore,
	      struct ftree *out, struct err *e)
	__attribute__((warn_unused_result));
/* Appends one entry; takes copies. */
void tree_add(struct ftree *t, const char *path, char type, uint64_t size,
	      int64_t mtime, uint32_t mode, const char *link);
void tree_sort(struct ftree *t);
/* Binary search; NULL when absent. */
const struct fentry *tree_find(const struct ftree *t, const char *path);
void tree_release(struct ftree *t);

#endif

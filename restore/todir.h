/*
 * todir: restored members written as files under the directory the user
 * named (--to DIR), never outside it.
 *
 * The paths come from the archive, so they are checked before anything
 * is written (todir_safe_rel(), todir_safe_link(), todir_check(); files
 * already there are refused without --clean: todir_existing()), and
 * the writing itself goes from DIR down one component at a time (openat
 * with O_NOFOLLOW): a symlink already under DIR, or one planted between
 * the check and the write, is refused, never followed.  Each file is
 * written to a temporary name beside its place and renamed there only
 * once its member matched the manifest (todir_commit()).
 */
#ifndef FERRY_RESTORE_TODIR_H
#define FERRY_RESTORE_TODIR_H

#include "util/err.h"

struct rs_ctx;
struct todir;

struct todir_file {
	int fd;			/* write the content here */
	int dirfd;		/* its directory */
	char *tmp, *name;	/* temporary and final names in dirfd */
};

/* Where component comp goes for this restore: DIR, or DIR/comp when the
 * restore writes several components.  Caller frees. */
char *todir_root(const struct rs_ctx *x, const char *comp);

/* root (created 0700 with its parents when missing). */
int todir_open(struct todir **out, const char *root, struct err *e)
	__attribute__((warn_unused_result));
void todir_free(struct todir *t);
/* After a failure: removes the directories this restore made, where
 * nothing was left in them. */
void todir_undo(struct todir *t);
const char *todir_path(const struct todir *t);

/* 1 when rel is relative and made of plain components: none empty, "."
 * or "..".  Any other bytes are a name's (a newline, ESC, bytes that are
 * not UTF-8). */
int todir_safe_rel(const char *rel);
/* 1 when a symlink at rel pointing to target resolves under the root
 * (relative, never climbing above it). */
int todir_safe_link(const char *rel, const char *target);
/* Without writing: FX_VERIFY when what is already under the root would
 * take rel out of it (a parent that is a symlink or not a directory) or
 * cannot be replaced (rel is a directory). */
int todir_check(struct todir *t, const char *rel, struct err *e)
	__attribute__((warn_unused_result));
/* After todir_check() of every path: when some are already there (files
 * or symlinks) and not clean, FX_FAIL naming the first and how many
 * others, as a non-empty database is refused without --clean. */
int todir_existing(struct todir *t, int clean, struct err *e)
	__attribute__((warn_unused_result));

/* A new temporary file (0600) beside rel, its parents made (0700). */
int todir_stage(struct todir *t, const char *rel, struct todir_file *f,
		struct err *e) __attribute__((warn_unused_result));
/* fsyncs it, gives it mode (< 0: keeps 0600) and mtime (< 0: now) and
 * renames it into place; f is released either way. */
int todir_commit(struct todir_file *f, int mode, long long mtime,
		 struct err *e) __attribute__((warn_unused_result));
/* Removes the temporary file and releases f (a no-op once released). */
void todir_discard(struct todir_file *f);
/* A symlink at rel to target (todir_safe_link() must hold), replacing
 * what is there. */
int todir_symlink(struct todir *t, const char *rel, const char *target,
		  struct err *e) __attribute__((warn_unused_result));

#endif

/*
 * xport_fs: the server's files, read and written the same way whether the
 * server is reached over SFTP or is this machine (host = local): open,
 * seek, read, write, stat without following links, read a link, list a
 * directory, rename over, and shell-style globs walked over those calls.
 *
 * Paths are the server's: absolute, or relative to the login directory
 * (SFTP) or the working directory (local), like xport_run()'s commands;
 * "~" and "~/x" name the home directory either way (xport_path()).
 */
#ifndef FERRY_NET_XPORT_FS_H
#define FERRY_NET_XPORT_FS_H

#include <stdint.h>
#include <sys/types.h>

#include "net/xport.h"
#include "util/buf.h"
#include "util/err.h"

struct xfile;
struct xdir;

/* path as the calls below take it ("~/x" -> "x" over SFTP, "$HOME/x"
 * locally).  Caller frees. */
char *xport_path(struct xport *x, const char *path);

/* Like lstat(2); *missing = 1 when path does not exist. */
int xport_lstat(struct xport *x, const char *path, struct ssh_stat *st,
		int *missing, struct err *e) __attribute__((warn_unused_result));
/* A symlink's target into out (replacing its contents). */
int xport_readlink(struct xport *x, const char *path, struct buf *out,
		   struct err *e) __attribute__((warn_unused_result));

int xport_opendir(struct xport *x, const char *path, struct xdir **d,
		  struct err *e) __attribute__((warn_unused_result));
/* 1 with the next entry's name (without "." and "..") and its lstat, 0 at
 * the end, -1 on error. */
int xport_readdir(struct xdir *d, struct buf *name, struct ssh_stat *st,
		  struct err *e);
void xport_closedir(struct xdir *d);

/* Opens path for reading, or (write) creates or truncates it with mode. */
int xport_fopen(struct xport *x, const char *path, int write, int mode,
		struct xfile **f, struct err *e)
	__attribute__((warn_unused_result));
int xport_fseek(struct xfile *f, uint64_t offset, struct err *e)
	__attribute__((warn_unused_result));
/* Bytes read, 0 at the end, -1 on error. */
ssize_t xport_fread(struct xfile *f, void *buf, size_t n, struct err *e);
int xport_fwrite(struct xfile *f, const void *buf, size_t n, struct err *e)
	__attribute__((warn_unused_result));
/* Closes and frees f; a file opened for writing is flushed to disk first
 * where the server can.  A NULL f is ignored. */
int xport_fclose(struct xfile *f, struct err *e);

/* Renames from to to, replacing to (atomically, rename(2)). */
int xport_rename(struct xport *x, const char *from, const char *to,
		 struct err *e) __attribute__((warn_unused_result));
int xport_unlink(struct xport *x, const char *path, struct err *e);

/* The paths matching pattern as sh(1) would match them: '*', '?' and
 * '[...]' within one component, a leading dot only when the pattern
 * names it.  Appended to out sorted, spelt as xport_path() spells the
 * pattern (a relative pattern gives relative paths); no match is not an
 * error. */
int xport_glob(struct xport *x, const char *pattern, struct strlist *out,
	       struct err *e) __attribute__((warn_unused_result));

#endif

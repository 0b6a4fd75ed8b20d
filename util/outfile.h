/*
 * outfile: a small file written whole or not at all: a temporary name
 * beside it, fsync, rename over it.  A reader sees the old contents or the
 * new ones, never half (state files, metrics, unit files).
 */
#ifndef FERRY_UTIL_OUTFILE_H
#define FERRY_UTIL_OUTFILE_H

#include <sys/types.h>

#include "util/err.h"

/* mode is applied whatever the umask; FX_FAIL naming path on failure, the
 * temporary removed. */
int outfile_write(const char *path, const char *text, mode_t mode,
		  struct err *e) __attribute__((warn_unused_result));

/* mkdir -p with mode for what it creates; 0, or -1 with errno. */
int outfile_mkdirs(const char *dir, mode_t mode);

#endif

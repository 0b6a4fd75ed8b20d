/*
 * fdio: the two loops every descriptor user needs, written once.
 */
#ifndef FERRY_UTIL_FDIO_H
#define FERRY_UTIL_FDIO_H

#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

/* Writes all of buf (retrying short writes and EINTR); 0, or -1 with errno. */
int fd_write_all(int fd, const void *buf, size_t len);
/* Reads until cap bytes or EOF; bytes read, or -1 with errno. */
ssize_t fd_read_full(int fd, void *buf, size_t cap);

/* Puts a file written through fd under the temporary name tmp in place as
 * path: fsync, close, rename (a reader sees the old file or the whole new
 * one).  fd is closed and tmp removed whatever happens; 0, or -1 with e
 * naming path. */
int fd_publish(int fd, const char *tmp, const char *path, struct err *e)
	__attribute__((warn_unused_result));

/* The three pipes of a child's stdin, stdout and stderr ([0] reads, [1]
 * writes).  An end handed to someone else is set to -1 here, so
 * pipe3_close() closes exactly what is still ours. */
struct pipe3 {
	int in[2], out[2], err[2];
};

#define PIPE3_INIT { { -1, -1 }, { -1, -1 }, { -1, -1 } }

/* All six ends, close-on-exec; -1 with errno and none left open. */
int pipe3_open(struct pipe3 *p) __attribute__((warn_unused_result));
void pipe3_close(struct pipe3 *p);
/* O_NONBLOCK on fd on or off; -1 with errno. */
int fd_nonblock(int fd, int on) __attribute__((warn_unused_result));

#endif

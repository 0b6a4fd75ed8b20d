/*
 * fdio: the two loops every descriptor user needs, written once.
 */
#ifndef FERRY_FDIO_H
#define FERRY_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all of buf (retrying short writes and EINTR); 0, or -1 with errno. */
int fd_write_all(int fd, const void *buf, size_t len);
/* Reads until cap bytes or EOF; bytes read, or -1 with errno. */
ssize_t fd_read_full(int fd, void *buf, size_t cap);

#endif

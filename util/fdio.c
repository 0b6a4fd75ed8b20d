#include "util/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t fd_read_full(int fd, void *buf, size_t cap)
{
	char *p = buf;
	size_t len = 0;

	while (len < cap) {
		ssize_t n = read(fd, p + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

void pipe3_close(struct pipe3 *p)
{
	int *fds[] = { p->in, p->out, p->err };

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++)
			if (fds[i][j] >= 0) {
				close(fds[i][j]);
				fds[i][j] = -1;
			}
}

int pipe3_open(struct pipe3 *p)
{
	int saved;

	if (pipe2(p->in, O_CLOEXEC) == 0 && pipe2(p->out, O_CLOEXEC) == 0 &&
	    pipe2(p->err, O_CLOEXEC) == 0)
		return 0;
	saved = errno;
	pipe3_close(p);
	errno = saved;
	return -1;
}

int fd_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK :
			    fl & ~O_NONBLOCK) < 0)
		return -1;
	return 0;
}

int fd_publish(int fd, const char *tmp, const char *path, struct err *e)
{
	if (fsync(fd) < 0) {
		err_set(e, FX_FAIL, "write %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0) {
		err_set(e, FX_FAIL, "write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		err_set(e, FX_FAIL, "rename %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

#include "net/tcp.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/fdio.h"

static int wait_connect(int fd, long long timeout_ms)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	int n;

	do {
		n = poll(&p, 1, (int)timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return ETIMEDOUT;
	if (n < 0)
		return errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return errno;
	return soerr;
}

int tcp_connect(const char *host, int port, long long timeout_ms,
		struct err *e)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	char ps[16];
	int fd = -1, rc, last = 0;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%d", port);
	rc = getaddrinfo(host, ps, &hints, &res);
	if (rc)
		return err_set(e, FX_CONN, "resolve %s: %s", host,
			       gai_strerror(rc));
	/* Each address in turn (IPv6 then IPv4, say), each bounded. */
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
			    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		last = errno == EINPROGRESS ?
			wait_connect(fd, timeout_ms) : errno;
		if (last == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err_set(e, FX_CONN, "connect %s:%d: %s", host, port,
			       last == ETIMEDOUT ? "timed out" : strerror(last));
	if (fd_nonblock(fd, 0) < 0) {
		err_set(e, FX_CONN, "connect %s:%d: %s", host, port,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int tcp_open(const char *host, int port, long long timeout_ms, struct err *e)
{
	int fd = tcp_connect(host, port, timeout_ms, e);

	if (fd >= 0 && tcp_set_timeout(fd, timeout_ms, e) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int tcp_set_timeout(int fd, long long timeout_ms, struct err *e)
{
	struct timeval tv = { (time_t)(timeout_ms / 1000),
			      (suseconds_t)((timeout_ms % 1000) * 1000) };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return err_set(e, FX_FAIL, "setsockopt: %s", strerror(errno));
	return 0;
}

int tcp_open_unix(const char *path, long long timeout_ms, struct err *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s", path) >=
	    sizeof(a.sun_path))
		return err_set(e, FX_FAIL, "socket path too long: %s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, FX_FAIL, "socket: %s", strerror(errno));
	if (tcp_set_timeout(fd, timeout_ms, e) < 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (!e->code)
			err_set(e, FX_CONN, "connect %s: %s", path,
				strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

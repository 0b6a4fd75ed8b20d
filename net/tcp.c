#include "net/tcp.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <unistd.h>

int tcp_open(const char *host, int port, long long timeout_ms, struct err *e)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	struct timeval tv = { (time_t)(timeout_ms / 1000),
			      (suseconds_t)((timeout_ms % 1000) * 1000) };
	char ps[16];
	int fd, rc;

	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%d", port);
	rc = getaddrinfo(host, ps, &hints, &res);
	if (rc)
		return err_set(e, FX_CONN, "resolve %s: %s", host,
			       gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(e, FX_FAIL, "socket: %s", strerror(errno));
		goto out;
	}
	/* Linux bounds connect() by SO_SNDTIMEO too. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		err_set(e, FX_CONN, "connect %s:%d: %s", host, port,
			errno == EINPROGRESS || errno == EAGAIN ?
			"timed out" : strerror(errno));
		close(fd);
		fd = -1;
	}
out:
	freeaddrinfo(res);
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

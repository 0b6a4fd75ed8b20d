/*
 * tcp: a connected TCP socket with a bounded connect and bounded reads and
 * writes (SO_RCVTIMEO/SO_SNDTIMEO), for the services ferry speaks to
 * directly (Redis) once a tunnel has made them local, and under SSH.
 */
#ifndef FERRY_NET_TCP_H
#define FERRY_NET_TCP_H

#include "util/err.h"

/* A blocking socket connected to the first of host's addresses that
 * answers within timeout_ms each, or -1 with FX_CONN in e naming
 * host:port. */
int tcp_connect(const char *host, int port, long long timeout_ms,
		struct err *e);

/* The same, its later reads and writes bounded by timeout_ms too. */
int tcp_open(const char *host, int port, long long timeout_ms, struct err *e);

/* The same for a Unix socket at path (a tunnel's end). */
int tcp_open_unix(const char *path, long long timeout_ms, struct err *e);
/* Bounds every later read and write on fd by timeout_ms. */
int tcp_set_timeout(int fd, long long timeout_ms, struct err *e);

#endif

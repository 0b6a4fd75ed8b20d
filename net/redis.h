/*
 * redis: the client side of Redis' protocol (RESP) on a connected socket:
 * one command, one reply.  Replies longer than REDIS_REPLY_MAX are refused
 * rather than buffered.
 */
#ifndef FERRY_NET_REDIS_H
#define FERRY_NET_REDIS_H

#include "util/buf.h"
#include "util/err.h"

#define REDIS_REPLY_MAX (1u << 20)

/* Sends argv (NULL-terminated) and reads the reply into out: a status
 * (+), an error (-), an integer (:) or a bulk string ($, "" for nil)
 * without its framing.  Returns the reply's type byte, or -1 with e set. */
int redis_call(int fd, const char *const *argv, struct buf *out,
	       struct err *e);
/* AUTH [user] password when a password is given; FX_CONN when refused. */
int redis_auth(int fd, const char *user, const char *password, struct err *e)
	__attribute__((warn_unused_result));

#endif

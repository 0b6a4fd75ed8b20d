/*
 * redis: the client side of Redis' protocol (RESP) on a connected socket:
 * one command, one reply.  Replies longer than REDIS_REPLY_MAX are refused
 * rather than buffered.
 */
#ifndef FERRY_NET_REDIS_H
#define FERRY_NET_REDIS_H

#include <stdint.h>

#include "net/rdb.h"
#include "util/buf.h"
#include "util/err.h"

#define REDIS_REPLY_MAX (1u << 20)

/* Sends argv (NULL-terminated) and reads the reply into out: a status
 * (+), an error (-), an integer (:) or a bulk string ($, "" for nil)
 * without its framing.  Returns the reply's type byte, or -1 with e set. */
int redis_call(int fd, const char *const *argv, struct buf *out,
	       struct err *e);
/* The next reply on fd, as redis_call() reads it (an array's elements
 * are read by further calls). */
int redis_reply(int fd, struct buf *out, struct err *e);
/* CONFIG GET name: its value (caller frees), or NULL with e set. */
char *redis_config_get(int fd, const char *name, struct err *e);
/* AUTH [user] password when a password is given: -1 when the connection
 * failed, -2 (FX_CONN) when the server refused the credentials. */
int redis_auth(int fd, const char *user, const char *password, struct err *e)
	__attribute__((warn_unused_result));

/*
 * Asks for a full snapshot the way a replica (and redis-cli --rdb) does:
 * REPLCONF capa eof (a diskless master may then stream it without a file),
 * REPLCONF rdb-only 1 (Redis 7: nothing after the snapshot; older servers'
 * refusal is ignored), PSYNC ? -1 (SYNC where PSYNC is unknown), then
 * waits for the payload's header, skipping the newlines a master sends
 * while it prepares the snapshot.  Diskless: mark gets the 40-byte end mark
 * (NUL-terminated) and *len 0; else mark is "" and *len the RDB's length.
 * The RDB follows on fd (rdb_copy()).  FX_CONN for I/O errors and
 * timeouts, FX_FAIL for the server's refusal ("-NOPERM ...").
 */
int redis_sync_start(int fd, char mark[RDB_MARK_LEN + 1], uint64_t *len,
		     struct err *e) __attribute__((warn_unused_result));

#endif

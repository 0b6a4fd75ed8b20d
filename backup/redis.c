/*
 * The redis component: the server's Redis, reached through the SSH tunnel.
 *
 * The snapshot is taken the way a replica (and redis-cli --rdb) takes it:
 * a full resync over the replication protocol, whose RDB payload streams
 * straight into redis/dump.rdb (cut into parts when long, as every stream
 * of the archive).  On a slow link redis-cli does it on the server and
 * the RDB crosses compressed (backup/redis_xfer.h).  No BGSAVE is asked for and nothing is copied out of a
 * container; a master configured for diskless sync (Redis 7's default)
 * writes no file at all.  The RDB is walked as it passes (net/rdb.c): its
 * magic and CRC64 are checked before the component is called good, and its
 * own key counts, per database, go into the manifest for the restore to
 * compare with.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/archive.h"
#include "backup/component.h"
#include "backup/redis.h"
#include "backup/redis_xfer.h"
#include "conf/conf.h"
#include "net/rdb.h"
#include "net/redis.h"
#include "net/tcp.h"
#include "net/xport.h"
#include "util/log.h"
#include "util/retry.h"

#define RDB_MEMBER "redis/dump.rdb"

/* Connects (to the tunnel's socket, or to host:port on this machine) and
 * authenticates: the socket, or -1 with *again = 1 when another try may
 * help (not when the credentials were refused). */
static int redis_open(const struct conf *c, const char *sock, int *again,
		      struct err *e)
{
	long long t = conf_num(c, "server", "connect_timeout");
	int fd = sock ? tcp_open_unix(sock, t, e) :
		 tcp_open(conf_str(c, "redis", "host"),
			  (int)conf_num(c, "redis", "port"), t, e);
	int r;

	*again = 1;
	if (fd < 0)
		return -1;
	r = redis_auth(fd, conf_str(c, "redis", "user"),
		       conf_str(c, "redis", "password"), e);
	if (r < 0) {
		*again = r == -1;
		close(fd);
		return -1;
	}
	return fd;
}

int redis_connect(const struct conf *c, struct xport *x, struct err *e)
{
	char *dir = NULL, *sock = NULL;
	int fd = -1, again = 1;

	/* Over SSH, a Unix socket in a private directory (as for
	 * PostgreSQL): no other local user can reach Redis through it. */
	if (!xport_is_local(x)) {
		if (xport_forward_unix(x, conf_str(c, "redis", "host"),
				       (int)conf_num(c, "redis", "port"),
				       "redis.sock", &dir, e) < 0)
			return -1;
		sock = xstrfmt("%s/redis.sock", dir);
	}
	for (int try = 0; fd < 0 && again && try < RETRY_TRIES; try++) {
		if (try)
			log_verbose("redis: %s; trying again", e->msg);
		retry_backoff(try);
		fd = redis_open(c, sock, &again, e);
	}
	free(dir);
	free(sock);
	return fd;
}

/* The snapshot's header, with the same bounded retries as the connection:
 * nothing has reached the archive yet. */
static int start_sync(const struct conf *c, struct xport *x, char *mark,
		      uint64_t *len, struct err *e)
{
	long long timeout = conf_num(c, "redis", "timeout");
	int fd = -1;

	for (int try = 0; try < RETRY_TRIES; try++) {
		if (try) {
			log_verbose("redis: %s; trying again", e->msg);
			retry_backoff(try);
		}
		if ((fd = redis_connect(c, x, e)) < 0)
			return -1;
		/* The master forks and may wait for more replicas first; it
		 * sends a newline a second meanwhile. */
		if (tcp_set_timeout(fd, timeout, e) == 0 &&
		    redis_sync_start(fd, mark, len, e) == 0)
			return fd;
		close(fd);
		fd = -1;
		if (e->code != FX_CONN)
			break;
	}
	return -1;
}

static ssize_t sock_read(void *arg, void *buf, size_t n, struct err *e)
{
	int fd = *(int *)arg;
	ssize_t got;

	while ((got = read(fd, buf, n)) < 0 && errno == EINTR)
		;
	if (got < 0)
		return err_set(e, FX_CONN, "redis: reading the snapshot: %s",
			       errno == EAGAIN ? "timed out" : strerror(errno));
	return got;
}

static int arc_sink(void *arg, const void *buf, size_t n, struct err *e)
{
	return arc_stream_write(arg, buf, n, e);
}

static void describe(struct bk_ctx *ctx, json_t *detail,
		     const struct rdb_info *i, const char *transfer,
		     const struct rdx *rx)
{
	json_t *dbs = json_object();

	json_object_set_new(detail, "member", json_string(RDB_MEMBER));
	json_object_set_new(detail, "bytes", json_integer((json_int_t)i->size));
	json_object_set_new(detail, "transfer", json_string(transfer));
	json_object_set_new(detail, "path", json_string(rdx_name(rx)));
	json_object_set_new(detail, "rdb_version", json_integer(i->version));
	if (*i->redis_version)
		json_object_set_new(detail, "redis_version",
				    json_string(i->redis_version));
	json_object_set_new(detail, "checksum", json_string(i->checksum ?
				"crc64" : "none (rdbchecksum no)"));
	if (i->walked) {
		json_object_set_new(detail, "keys", json_integer(i->keys));
		json_object_set_new(detail, "expires", json_integer(i->expires));
		for (size_t k = 0; k < i->ndbs; k++) {
			char name[24];

			snprintf(name, sizeof(name), "%lld", i->dbs[k].db);
			json_object_set_new(dbs, name, json_pack("{s:I, s:I}",
				"keys", (json_int_t)i->dbs[k].keys, "expires",
				(json_int_t)i->dbs[k].expires));
		}
		json_object_set_new(detail, "databases", dbs);
	} else {
		json_decref(dbs);
		json_object_set_new(detail, "keys", json_null());
		json_object_set_new(detail, "not_walked", json_string(i->stopped));
	}
	if (!ctx->summary)
		return;
	if (i->walked)
		buf_printf(ctx->summary, "%lld keys in %zu database%s", i->keys,
			   i->ndbs, i->ndbs == 1 ? "" : "s");
	else
		buf_addstr(ctx->summary, "key count unknown");
	buf_printf(ctx->summary, ", %s RDB", transfer);
}

/* The tunnel path: a full resync through the SSH tunnel. */
static int tunnel_copy(struct bk_ctx *ctx, struct arc_stream *s,
		       struct rdb_info *info, int *diskless, struct err *e)
{
	struct rdb_io io = { sock_read, NULL, arc_sink, s, NULL, 0, 0 };
	char mark[RDB_MARK_LEN + 1];
	uint64_t len = 0;
	int fd, r;

	memset(info, 0, sizeof(*info));
	fd = start_sync(ctx->conf, ctx->x, mark, &len, e);
	if (fd < 0)
		return -1;
	*diskless = *mark != '\0';
	log_verbose("redis: full resync, %s", *diskless ? "diskless" :
		    "from the server's dump");
	io.read_arg = &fd;
	io.mark = *mark ? mark : NULL;
	io.len = len;
	r = rdb_copy(&io, info, e);
	if (r < 0)
		err_wrap(e, "redis snapshot");
	close(fd);
	return r;
}

int redis_backup(struct bk_ctx *ctx, json_t *detail, struct err *e)
{
	struct arc_stream *s = NULL;
	struct rdb_info info = { 0 };
	struct rdx rx;
	int diskless = 0, r = -1;

	if (rdx_choose(&rx, ctx->conf, ctx->x, e) < 0)
		goto out;
	log_verbose("redis: transfer %s: %s", rdx_name(&rx), rx.why);
	/* Through the tunnel, Redis is known to answer (and to take the
	 * password) within bounded retries before redis-cli waits on it. */
	if (rx.server) {
		int fd = redis_connect(ctx->conf, ctx->x, e);

		if (fd < 0)
			goto out;
		close(fd);
	}
	if (arc_stream_begin(ctx->arc, RDB_MEMBER, &s, e) < 0)
		goto out;
	if ((rx.server ? rdx_copy(&rx, ctx->conf, ctx->x, arc_sink, s, &info,
				  &diskless, e) :
	     tunnel_copy(ctx, s, &info, &diskless, e)) < 0)
		goto out;
	r = arc_stream_end(s, NULL, e);
	s = NULL;
	if (r < 0)
		goto out;
	if (!info.checksum)
		log_warn("redis: the server writes RDBs without a checksum "
			 "(rdbchecksum no): only the archive's SHA-256 "
			 "protects it");
	if (!info.walked)
		log_warn("redis: the RDB holds %s: its key count is unknown "
			 "(copied and checked all the same)", info.stopped);
	describe(ctx, detail, &info, diskless ? "diskless" : "disk", &rx);
	r = 0;
out:
	arc_stream_abort(s);
	rdx_release(&rx);
	rdb_info_release(&info);
	return r;
}

/* "db0:keys=5,expires=0,avg_ttl=0" lines -> the key total. */
static long long keyspace_keys(const char *info)
{
	long long n = 0;

	for (const char *p = info; (p = strstr(p, "keys=")); p += 5) {
		long long v = 0;

		for (const char *d = p + 5; *d >= '0' && *d <= '9'; d++)
			v = v * 10 + (*d - '0');
		n += v;
	}
	return n;
}

int redis_check(struct bk_ctx *ctx, struct buf *detail, struct err *e)
{
	const char *server[] = { "INFO", "server", NULL };
	const char *keyspace[] = { "INFO", "keyspace", NULL };
	struct buf reply = BUF_INIT;
	struct rdx rx = { 0 };
	const char *v;
	int fd, type, r = -1;

	fd = redis_connect(ctx->conf, ctx->x, e);
	if (fd < 0)
		goto out;
	type = redis_call(fd, server, &reply, e);
	if (type < 0)
		goto out;
	if (type != '$') {
		err_set(e, FX_CONN, "redis: %s", buf_str(&reply));
		goto out;
	}
	v = strstr(buf_str(&reply), "redis_version:");
	buf_printf(detail, "Redis %.*s", v ? (int)strcspn(v + 14, "\r\n") : 1,
		   v ? v + 14 : "?");
	if (redis_call(fd, keyspace, &reply, e) == '$')
		buf_printf(detail, ", %lld keys", keyspace_keys(buf_str(&reply)));
	if (rdx_choose(&rx, ctx->conf, ctx->x, e) < 0)
		goto out;
	buf_printf(detail, "; transfer: %s (%s)", rdx_name(&rx), rx.why);
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	rdx_release(&rx);
	buf_release(&reply);
	return r;
}

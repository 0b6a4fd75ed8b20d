#include "net/redis.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/value.h"

/* One line up to "\r\n", at most cap bytes kept. */
static int read_line(int fd, struct buf *out, size_t cap, struct err *e)
{
	char c;
	ssize_t n;

	buf_reset(out);
	while ((n = read(fd, &c, 1)) == 1 && c != '\n')
		if (c != '\r' && out->len < cap)
			buf_addch(out, c);
	if (n < 0)
		return err_set(e, FX_CONN, "redis: read: %s", errno == EAGAIN ?
			       "timed out" : strerror(errno));
	if (n == 0)
		return err_set(e, FX_CONN, "redis: connection closed");
	return 0;
}

int redis_call(int fd, const char *const *argv, struct buf *out,
	       struct err *e)
{
	struct buf req = BUF_INIT;
	int argc = 0, r;

	while (argv[argc])
		argc++;
	buf_printf(&req, "*%d\r\n", argc);
	for (int i = 0; i < argc; i++)
		buf_printf(&req, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
	r = fd_write_all(fd, req.p, req.len);
	buf_wipe(&req);	/* it may hold a password */
	if (r < 0)
		return err_set(e, FX_CONN, "redis: write: %s", strerror(errno));
	return redis_reply(fd, out, e);
}

int redis_reply(int fd, struct buf *out, struct err *e)
{
	long long len;
	int type;

	if (read_line(fd, out, 4096, e) < 0)
		return -1;
	if (out->len == 0)
		return err_set(e, FX_CONN, "redis: empty reply");
	type = out->p[0];
	if (type != '$') {
		memmove(out->p, out->p + 1, out->len);
		buf_setlen(out, out->len - 1);
		return type;
	}
	if (value_int(out->p + 1, -1, REDIS_REPLY_MAX, &len) < 0)
		return err_set(e, FX_FAIL, "redis: reply of %.40s bytes is too "
			       "long", out->p + 1);
	buf_reset(out);
	if (len < 0)
		return '$';
	buf_grow(out, (size_t)len + 2);
	while (out->len < (size_t)len + 2) {
		ssize_t n = read(fd, out->p + out->len,
				 (size_t)len + 2 - out->len);

		if (n <= 0)
			return err_set(e, FX_CONN, "redis: short reply");
		buf_setlen(out, out->len + (size_t)n);
	}
	buf_setlen(out, (size_t)len);
	return '$';
}

int redis_auth(int fd, const char *user, const char *password, struct err *e)
{
	const char *with_user[] = { "AUTH", user, password, NULL };
	const char *plain[] = { "AUTH", password, NULL };
	struct buf reply = BUF_INIT;
	int type;

	if (!password || !*password)
		return 0;
	type = redis_call(fd, user && *user ? with_user : plain, &reply, e);
	buf_release(&reply);
	if (type < 0)
		return -1;
	if (type != '+') {
		/* The reply may echo what was sent: it is not shown. */
		err_set(e, FX_CONN, "redis: authentication failed (wrong %s)",
			user && *user ? "user or password" : "password");
		return -2;
	}
	return 0;
}

/* The bulk header: "$<len>" or "$EOF:<mark>", after any number of bare
 * newlines (the master's keepalive while it forks and saves). */
static int bulk_header(int fd, struct buf *line, struct err *e)
{
	char c;
	ssize_t n;

	buf_reset(line);
	for (;;) {
		n = read(fd, &c, 1);
		if (n <= 0)
			break;
		if (c == '\n') {
			if (line->len)
				break;
			continue;
		}
		if (c != '\r' && line->len < 256)
			buf_addch(line, c);
	}
	if (n < 0)
		return err_set(e, FX_CONN, "redis: waiting for the snapshot: %s",
			       errno == EAGAIN ? "timed out" : strerror(errno));
	if (n == 0)
		return err_set(e, FX_CONN, "redis: connection closed before the "
			       "snapshot");
	return 0;
}

#define PSYNC "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n"

int redis_sync_start(int fd, char mark[RDB_MARK_LEN + 1], uint64_t *len,
		     struct err *e)
{
	const char *capa[] = { "REPLCONF", "capa", "eof", NULL };
	const char *rdb_only[] = { "REPLCONF", "rdb-only", "1", NULL };
	struct buf reply = BUF_INIT;
	unsigned long long v;
	char *end;
	int type, r = -1;

	mark[0] = '\0';
	*len = 0;
	if ((type = redis_call(fd, capa, &reply, e)) < 0)
		goto out;
	if (type == '-') {
		err_set(e, FX_FAIL, "redis: REPLCONF refused: %s", buf_str(&reply));
		goto out;
	}
	if (redis_call(fd, rdb_only, &reply, e) < 0)
		goto out;
	/* A diskless master may send its keepalive newlines before the
	 * +FULLRESYNC line too: the reply is read as the header is. */
	if (fd_write_all(fd, PSYNC, sizeof(PSYNC) - 1) < 0) {
		err_set(e, FX_CONN, "redis: write: %s", strerror(errno));
		goto out;
	}
	if (bulk_header(fd, &reply, e) < 0)
		goto out;
	if (!strncmp(reply.p, "-ERR unknown command", 20)) {
		/* Before 2.8: the old SYNC, answered with the header alone. */
		if (fd_write_all(fd, "SYNC\r\n", 6) < 0) {
			err_set(e, FX_CONN, "redis: write: %s", strerror(errno));
			goto out;
		}
	} else if (reply.p[0] != '+') {
		err_set(e, FX_FAIL, "redis: PSYNC refused: %s", reply.p + 1);
		goto out;
	}
	if (bulk_header(fd, &reply, e) < 0)
		goto out;
	if (reply.p[0] == '-') {
		err_set(e, FX_FAIL, "redis: snapshot refused: %s", reply.p + 1);
		goto out;
	}
	if (!strncmp(reply.p, "$EOF:", 5) && reply.len == 5 + RDB_MARK_LEN) {
		memcpy(mark, reply.p + 5, RDB_MARK_LEN);
		mark[RDB_MARK_LEN] = '\0';
		r = 0;
		goto out;
	}
	errno = 0;
	v = reply.p[0] == '$' ? strtoull(reply.p + 1, &end, 10) : 0;
	if (reply.p[0] != '$' || end == reply.p + 1 || *end || errno) {
		err_set(e, FX_FAIL, "redis: unexpected reply to PSYNC: %.60s",
			buf_str(&reply));
		goto out;
	}
	*len = v;
	r = 0;
out:
	buf_release(&reply);
	return r;
}

char *redis_config_get(int fd, const char *name, struct err *e)
{
	const char *argv[] = { "CONFIG", "GET", name, NULL };
	struct buf reply = BUF_INIT;
	char *v = NULL;
	int type = redis_call(fd, argv, &reply, e);

	if (type == '-')
		err_set(e, FX_FAIL, "redis: CONFIG GET %s: %s", name,
			buf_str(&reply));
	else if (type == '*' && !strcmp(buf_str(&reply), "2") &&
		 redis_reply(fd, &reply, e) == '$' &&
		 redis_reply(fd, &reply, e) == '$')
		v = xstrdup(buf_str(&reply));
	else if (type >= 0 && !e->code)
		err_set(e, FX_FAIL, "redis: CONFIG GET %s: no such setting", name);
	buf_release(&reply);
	return v;
}

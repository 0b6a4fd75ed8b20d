#include "net/redis.h"

#include <errno.h>
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
	long long len;
	int argc = 0, type, r;

	while (argv[argc])
		argc++;
	buf_printf(&req, "*%d\r\n", argc);
	for (int i = 0; i < argc; i++)
		buf_printf(&req, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
	r = fd_write_all(fd, req.p, req.len);
	buf_wipe(&req);	/* it may hold a password */
	if (r < 0)
		return err_set(e, FX_CONN, "redis: write: %s", strerror(errno));
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
	if (type >= 0 && type != '+')
		err_set(e, FX_CONN, "redis: authentication failed: %s",
			buf_str(&reply));
	buf_release(&reply);
	return type == '+' ? 0 : -1;
}

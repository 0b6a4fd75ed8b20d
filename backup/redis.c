/*
 * The redis component: the server's Redis, reached through the SSH tunnel.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/component.h"
#include "conf/conf.h"
#include "net/redis.h"
#include "net/tcp.h"
#include "net/xport.h"

int redis_check(struct bk_ctx *ctx, struct buf *detail, struct err *e)
{
	const char *info[] = { "INFO", "server", NULL };
	const struct conf *c = ctx->conf;
	struct buf reply = BUF_INIT;
	char *host = NULL;
	const char *v;
	int port, fd = -1, type, r = -1;

	if (xport_forward(ctx->x, conf_str(c, "redis", "host"),
			  (int)conf_num(c, "redis", "port"), &host, &port, e) < 0)
		goto out;
	fd = tcp_open(host, port, conf_num(c, "server", "connect_timeout"), e);
	if (fd < 0 || redis_auth(fd, NULL, conf_str(c, "redis", "password"),
				 e) < 0)
		goto out;
	type = redis_call(fd, info, &reply, e);
	if (type < 0)
		goto out;
	if (type != '$') {
		err_set(e, FX_CONN, "redis: %s", buf_str(&reply));
		goto out;
	}
	v = strstr(buf_str(&reply), "redis_version:");
	buf_printf(detail, "Redis %.*s", v ? (int)strcspn(v + 14, "\r\n") : 1,
		   v ? v + 14 : "?");
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(host);
	buf_release(&reply);
	return r;
}

/*
 * The minio component: the server's S3 store (MinIO or any S3), reached
 * through the SSH tunnel when its endpoint is the server's own.
 */
#include <stdlib.h>

#include "backup/component.h"
#include "conf/conf.h"
#include "net/s3.h"
#include "net/xport.h"

int minio_check(struct bk_ctx *ctx, struct buf *detail, struct err *e)
{
	const struct conf *c = ctx->conf;
	struct strlist buckets = STRLIST_INIT;
	struct s3_conf s3 = { 0 };
	char *url = NULL;
	int r = -1;

	if (xport_forward_url(ctx->x, conf_str(c, "minio", "endpoint"), &url,
			      e) < 0)
		goto out;
	s3.endpoint = url;
	s3.access_key = conf_str(c, "minio", "access_key");
	s3.secret_key = conf_str(c, "minio", "secret_key");
	s3.region = conf_str(c, "minio", "region");
	s3.timeout_ms = conf_num(c, "server", "connect_timeout");
	if (s3_list_buckets(&s3, &buckets, e) < 0) {
		if (e->code == FX_CONN)
			err_wrap(e, "s3: check access_key and secret_key");
		goto out;
	}
	buf_printf(detail, "S3 ListBuckets ok, %zu bucket%s", buckets.n,
		   buckets.n == 1 ? "" : "s");
	r = 0;
out:
	strlist_release(&buckets);
	free(url);
	return r;
}

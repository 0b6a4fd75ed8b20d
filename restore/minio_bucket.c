/*
 * minio_bucket: what the minio restorer asks of a target bucket itself:
 * its state before anything is changed, emptying it (--clean, or undoing
 * a bucket this restore created) and its configuration put back last.
 */
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/md5.h"
#include "restore/minio_restore.h"

int mb_state(struct mr_bucket *b, struct err *e)
{
	struct s3_xfer x = { .c = &b->c, .method = "GET",
			     .query = "list-type=2&max-keys=1" };
	struct buf key = BUF_INIT;
	int r;

	if (s3_do(&x, e) == 0)
		r = s3_xml_pick(&x.resp, "Key", &key) == 0;
	else if (x.status == 404 && !strcmp(x.code, "NoSuchBucket"))
		r = -1;
	else
		r = -2;
	if (r > -2)
		err_clear(e);
	s3_xfer_release(&x);
	buf_release(&key);
	return r;
}

struct del {
	struct s3_xfer x;
	char *key;
	struct err *first;
};

static void del_done(struct s3_xfer *x, int rc, struct err *e)
{
	struct del *d = x->owner;

	if (rc < 0 && !d->first->code)
		*d->first = *e;
}

int mb_empty(struct s3_pool *pool, struct mr_bucket *b, struct err *e)
{
	struct buf token = BUF_INIT;
	struct err first = ERR_INIT;
	int rc = -1;

	do {
		struct s3_object *o = NULL;
		struct del *d;
		size_t n = 0;

		if (s3_list_page(&b->c, "", 1000, &token, &o, &n, e) < 0)
			goto out;
		d = xcalloc(n + 1, sizeof(*d));
		for (size_t i = 0; i < n; i++) {
			d[i].key = o[i].key;
			d[i].first = &first;
			d[i].x.c = &b->c;
			d[i].x.method = "DELETE";
			d[i].x.key = d[i].key;
			d[i].x.done = del_done;
			d[i].x.owner = &d[i];
			s3_pool_add(pool, &d[i].x);
		}
		rc = s3_pool_run(pool, 0, e);
		for (size_t i = 0; i < n; i++)
			s3_xfer_release(&d[i].x);
		free(d);
		s3_objects_free(o, n);
		if (rc < 0)
			goto out;
		rc = -1;
		if (first.code) {
			*e = first;
			goto out;
		}
	} while (token.len);
	rc = 0;
out:
	buf_release(&token);
	return rc;
}

int mb_configure(struct mr_bucket *b, struct buf *note, struct err *e)
{
	size_t i;
	json_t *j;

	json_array_foreach(b->configs, i, j) {
		const char *sub = json_string_value(json_object_get(j,
							"subresource"));
		const char *body = json_string_value(json_object_get(j, "body"));
		size_t len = json_string_length(json_object_get(j, "body"));
		char *q = xstrfmt("%s=", sub);
		struct strlist h = STRLIST_INIT;
		struct s3_xfer x = { .c = &b->c, .method = "PUT", .query = q,
				     .body = body, .len = len, .headers = &h };
		unsigned char d[16];
		char b64[25];
		int rc;

		md5_digest(body, len, d);
		md5_base64(d, b64);
		/* S3 wants Content-MD5 on lifecycle, CORS and tagging. */
		strlist_add_take(&h, xstrfmt("Content-MD5: %s", b64));
		strlist_add(&h, !strcmp(sub, "policy") ?
			    "Content-Type: application/json" :
			    "Content-Type: application/xml");
		rc = s3_do(&x, e);
		if (rc < 0 && (x.status == 501 || x.status == 405 ||
			       !strcmp(x.code, "NotImplemented"))) {
			/* The archive has it; this store cannot take it. */
			log_warn("minio: bucket '%s': the server does not support "
				 "its %s (%s); not restored", b->dst, sub,
				 x.code[0] ? x.code : "HTTP 501");
			buf_printf(note, "%s%s not supported by the target",
				   note->len ? ", " : "", sub);
			err_clear(e);
			rc = 0;
		} else if (rc == 0) {
			buf_printf(note, "%s%s", note->len ? ", " : "", sub);
		}
		s3_xfer_release(&x);
		strlist_release(&h);
		free(q);
		if (rc < 0)
			return err_wrap(e, "bucket '%s': restoring its %s", b->dst,
					sub);
	}
	return 0;
}

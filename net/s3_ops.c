/*
 * The S3 calls, each one request (or a few) through s3_do().
 */
#include "net/s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static int run(struct s3_xfer *x, struct err *e)
{
	int r = s3_do(x, e);

	s3_xfer_release(x);
	return r;
}

int s3_put(const struct s3_conf *c, const char *key, const void *data,
	   size_t len, struct err *e)
{
	struct s3_xfer x = { .c = c, .method = "PUT", .key = key, .body = data,
			     .len = len };

	return run(&x, e);
}

int s3_delete(const struct s3_conf *c, const char *key, struct err *e)
{
	struct s3_xfer x = { .c = c, .method = "DELETE", .key = key };

	return run(&x, e);
}

int s3_get(const struct s3_conf *c, const char *key, s3_writer wr, void *ud,
	   struct err *e)
{
	struct s3_xfer x = { .c = c, .method = "GET", .key = key, .wr = wr,
			     .ud = ud };

	return run(&x, e);
}

/* ---- buckets ------------------------------------------------------------ */

int s3_bucket_create(const struct s3_conf *c, struct err *e)
{
	struct buf body = BUF_INIT;
	struct s3_xfer x = { .c = c, .method = "PUT" };
	int r;

	/* us-east-1 is the one region S3 wants no constraint for. */
	if (c->region && strcmp(c->region, "us-east-1"))
		buf_printf(&body, "<CreateBucketConfiguration xmlns=\"http://s3."
			   "amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
			   "%s</LocationConstraint></CreateBucketConfiguration>",
			   c->region);
	x.body = body.p;
	x.len = body.len;
	r = s3_do(&x, e);
	if (r < 0 && !strcmp(x.code, "BucketAlreadyOwnedByYou")) {
		err_clear(e);
		r = 1;
	}
	s3_xfer_release(&x);
	buf_release(&body);
	return r;
}

int s3_bucket_delete(const struct s3_conf *c, struct err *e)
{
	struct s3_xfer x = { .c = c, .method = "DELETE" };

	return run(&x, e);
}

/* ---- multipart uploads -------------------------------------------------- */

int s3_mpu_begin(const struct s3_conf *c, const char *key,
		 const struct strlist *headers, char **upload_id, struct err *e)
{
	struct s3_xfer x = { .c = c, .method = "POST", .key = key,
			     .query = "uploads=", .headers = headers };
	struct buf id = BUF_INIT;
	int r = -1;

	if (s3_do(&x, e) < 0)
		goto out;
	if (s3_xml_pick(&x.resp, "UploadId", &id) < 0 || !id.len) {
		err_set(e, FX_FAIL, "s3 POST %s: no UploadId in the reply",
			buf_str(&x.where));
		goto out;
	}
	*upload_id = buf_detach(&id, NULL);
	r = 0;
out:
	s3_xfer_release(&x);
	buf_release(&id);
	return r;
}

char *s3_mpu_part_query(unsigned n, const char *upload_id)
{
	struct buf q = BUF_INIT;

	/* Canonical order: partNumber before uploadId. */
	buf_printf(&q, "partNumber=%u&uploadId=", n);
	s3_encode(&q, upload_id, 0);
	return buf_detach(&q, NULL);
}

static char *id_query(const char *upload_id)
{
	struct buf q = BUF_INIT;

	buf_addstr(&q, "uploadId=");
	s3_encode(&q, upload_id, 0);
	return buf_detach(&q, NULL);
}

int s3_mpu_complete(const struct s3_conf *c, const char *key,
		    const char *upload_id, const struct strlist *etags,
		    struct err *e)
{
	struct buf done = BUF_INIT, code = BUF_INIT;
	char *q = id_query(upload_id);
	struct s3_xfer x = { .c = c, .method = "POST", .key = key, .query = q };
	int r;

	buf_addstr(&done, "<CompleteMultipartUpload>");
	for (size_t i = 0; i < etags->n; i++)
		buf_printf(&done, "<Part><PartNumber>%zu</PartNumber><ETag>%s"
			   "</ETag></Part>", i + 1, etags->v[i]);
	buf_addstr(&done, "</CompleteMultipartUpload>");
	x.body = done.p;
	x.len = done.len;
	/* Joining the parts of a big object may take the store a while
	 * before it says a word. */
	x.slow = 1;
	r = s3_do(&x, e);
	/* S3 may report a failed completion inside a 200. */
	if (r == 0 && s3_xml_pick(&x.resp, "Code", &code) == 0) {
		err_set(e, FX_FAIL, "s3 POST %s: completing the upload: %s",
			buf_str(&x.where), buf_str(&code));
		r = -1;
	}
	s3_xfer_release(&x);
	buf_release(&done);
	buf_release(&code);
	free(q);
	return r;
}

void s3_mpu_abort(const struct s3_conf *c, const char *key,
		  const char *upload_id)
{
	char *q = id_query(upload_id);
	struct s3_xfer x = { .c = c, .method = "DELETE", .key = key, .query = q };
	struct err ignored = ERR_INIT;

	if (run(&x, &ignored) < 0)
		log_warn("s3: could not abort the upload of %s: %s", key,
			 ignored.msg);
	free(q);
}

int s3_upload(const struct s3_conf *c, const char *key, s3_reader rd,
	      void *ud, struct err *e)
{
	struct strlist etags = STRLIST_INIT;
	unsigned char *part = xmalloc(S3_PART);
	char *id = NULL;
	unsigned n = 0;
	int ret = -1;

	if (s3_mpu_begin(c, key, NULL, &id, e) < 0)
		goto out;
	for (;;) {
		size_t len = 0;
		ssize_t got = 0;
		char *query;
		struct s3_xfer px = { .c = c, .method = "PUT", .key = key,
				      .body = part };

		/* Fill a whole part (S3 wants >= 5 MiB but the last). */
		while (len < S3_PART && (got = rd(ud, part + len, S3_PART - len,
						  e)) > 0)
			len += (size_t)got;
		if (got < 0)
			goto fail;
		if (len == 0 && n > 0)
			break;
		query = s3_mpu_part_query(++n, id);
		px.query = query;
		px.len = len;
		ret = s3_do(&px, e);
		if (ret == 0)
			strlist_add(&etags, px.meta.etag);
		s3_xfer_release(&px);
		free(query);
		if (ret < 0)
			goto fail;
		if (len < S3_PART)
			break;
	}
	if (s3_mpu_complete(c, key, id, &etags, e) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	ret = -1;
	s3_mpu_abort(c, key, id);
out:
	free(part);
	free(id);
	strlist_release(&etags);
	return ret;
}

/* ---- listings ----------------------------------------------------------- */

struct listing {
	struct s3_object *o;
	size_t n, cap;
	struct buf *token;
	int truncated, url_encoded;
};

static void on_list(void *ud, const char *name, const char *text)
{
	struct listing *l = ud;
	struct s3_object *last = l->n ? &l->o[l->n - 1] : NULL;

	if (!strcmp(name, "Key")) {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			l->o = xrealloc(l->o, l->cap * sizeof(*l->o));
		}
		memset(&l->o[l->n], 0, sizeof(l->o[l->n]));
		l->o[l->n++].key = xstrdup(text);
	} else if (!strcmp(name, "Size") && last) {
		last->size = strtoull(text, NULL, 10);
	} else if (!strcmp(name, "ETag") && last && !last->etag) {
		last->etag = xstrdup(text);
	} else if (!strcmp(name, "LastModified") && last && !last->last_modified) {
		last->last_modified = xstrdup(text);
	} else if (!strcmp(name, "NextContinuationToken")) {
		buf_reset(l->token);
		buf_addstr(l->token, text);
	} else if (!strcmp(name, "IsTruncated")) {
		l->truncated = !strcmp(text, "true");
	} else if (!strcmp(name, "EncodingType")) {
		l->url_encoded = !strcmp(text, "url");
	}
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	       c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* encoding-type=url keys: %XX and '+' for a space (a '+' is %2B). */
static char *url_decode(const char *s)
{
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			buf_addch(&b, hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else {
			buf_addch(&b, *s == '+' ? ' ' : *s);
		}
	}
	return buf_detach(&b, NULL);
}

int s3_list_page(const struct s3_conf *c, const char *prefix, unsigned max,
		 struct buf *token, struct s3_object **out, size_t *n,
		 struct err *e)
{
	struct listing l = { NULL, 0, 0, token, 0, 0 };
	struct buf q = BUF_INIT;
	struct s3_xfer x = { .c = c, .method = "GET" };
	int ret = -1;

	/* Canonical order: parameters sorted by name.  Keys come URL-encoded
	 * (when the server does it) so that any byte survives the XML. */
	if (token->len) {
		buf_addstr(&q, "continuation-token=");
		s3_encode(&q, buf_str(token), 0);
		buf_addch(&q, '&');
	}
	buf_printf(&q, "encoding-type=url&list-type=2&max-keys=%u&prefix=",
		   max && max < 1000 ? max : 1000);
	s3_encode(&q, prefix, 0);
	x.query = buf_str(&q);
	buf_reset(token);
	if (s3_do(&x, e) < 0)
		goto out;
	if (s3_xml_walk(&x.resp, on_list, &l) < 0) {
		err_set(e, FX_FAIL, "s3 GET %s: unreadable listing",
			buf_str(&x.where));
		goto out;
	}
	/* Servers that ignore encoding-type say so by not naming it. */
	for (size_t i = 0; l.url_encoded && i < l.n; i++) {
		char *k = url_decode(l.o[i].key);

		free(l.o[i].key);
		l.o[i].key = k;
	}
	if (!l.truncated)
		buf_reset(token);
	else if (!token->len) {
		err_set(e, FX_FAIL, "s3 GET %s: a truncated listing without a "
			"continuation token", buf_str(&x.where));
		goto out;
	}
	*out = l.o;
	*n = l.n;
	l.o = NULL;
	l.n = 0;
	ret = 0;
out:
	s3_objects_free(l.o, l.n);
	s3_xfer_release(&x);
	buf_release(&q);
	return ret;
}

int s3_list(const struct s3_conf *c, const char *prefix,
	    struct s3_object **out, size_t *n, struct err *e)
{
	struct buf token = BUF_INIT;
	struct s3_object *all = NULL;
	size_t total = 0;

	do {
		struct s3_object *page;
		size_t got;

		if (s3_list_page(c, prefix, 1000, &token, &page, &got, e) < 0) {
			s3_objects_free(all, total);
			buf_release(&token);
			return -1;
		}
		all = xrealloc(all, (total + got + 1) * sizeof(*all));
		if (got)	/* an empty page may come back as NULL */
			memcpy(all + total, page, got * sizeof(*page));
		total += got;
		free(page);
	} while (token.len);
	buf_release(&token);
	*out = all;
	*n = total;
	return 0;
}

static void on_bucket(void *ud, const char *name, const char *text)
{
	if (!strcmp(name, "Name"))
		strlist_add(ud, text);
}

int s3_list_buckets(const struct s3_conf *c, struct strlist *out,
		    struct err *e)
{
	struct s3_conf root = *c;
	struct s3_xfer x = { .c = &root, .method = "GET" };
	int ret = -1;

	root.bucket = NULL;	/* the service itself */
	if (s3_do(&x, e) < 0)
		goto out;
	if (s3_xml_walk(&x.resp, on_bucket, out) < 0) {
		err_set(e, FX_FAIL, "s3 %s: unreadable bucket list",
			buf_str(&x.where));
		goto out;
	}
	ret = 0;
out:
	s3_xfer_release(&x);
	return ret;
}

void s3_objects_free(struct s3_object *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(o[i].key);
		free(o[i].etag);
		free(o[i].last_modified);
	}
	free(o);
}

int s3_parse_url(const char *url, char **bucket, char **prefix)
{
	const char *p, *slash;

	if (strncmp(url, "s3://", 5) || !url[5] || url[5] == '/')
		return -1;
	p = url + 5;
	slash = strchr(p, '/');
	if (!slash) {
		*bucket = xstrdup(p);
		*prefix = xstrdup("");
		return 0;
	}
	*bucket = xstrndup(p, (size_t)(slash - p));
	p = slash + 1;
	{
		size_t n = strlen(p);

		while (n && p[n - 1] == '/')
			n--;
		*prefix = xstrndup(p, n);
	}
	return 0;
}

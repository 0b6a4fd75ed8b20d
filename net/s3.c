#include "net/s3.h"

#include <ctype.h>
#include <curl/curl.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/sha256.h"

#define TRIES 4
#define XML_MAX (16u << 20)

/* ---- one request ------------------------------------------------------- */

struct req {
	const char *method;
	const char *key;	/* NULL: the bucket itself */
	const char *query;	/* canonical: sorted, encoded; or NULL */
	const void *body;
	size_t len;
	struct buf *resp;	/* collect the body here ... */
	s3_writer wr;		/* ... or stream it here (GET) */
	void *ud;
	struct err werr;	/* the writer's failure */
	char etag[128];
	long status;
};

/* AWS's URI encoding: unreserved characters stay, the rest is %XX;
 * slashes too unless keep_slash. */
static void aws_encode(struct buf *b, const char *s, int keep_slash)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
		    (keep_slash && c == '/'))
			buf_addch(b, c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct req *r = ud;
	size_t len = size * n;

	/* Error replies are small XML: keep them whatever the mode. */
	if (r->status == 0 || r->status >= 300 || !r->wr) {
		if (r->resp && buf_add_capped(r->resp, p, len) < 0)
			return 0;
		return len;
	}
	return r->wr(r->ud, p, len, &r->werr) < 0 ? 0 : len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct req *r = ud;
	size_t len = size * n;

	if (len > 5 && !strncasecmp(p, "HTTP/", 5)) {
		r->status = strtol(p + 9, NULL, 10);
	} else if (len > 5 && !strncasecmp(p, "etag:", 5)) {
		size_t a = 5, z = len;

		while (a < z && isspace((unsigned char)p[a]))
			a++;
		while (z > a && isspace((unsigned char)p[z - 1]))
			z--;
		snprintf(r->etag, sizeof(r->etag), "%.*s", (int)(z - a), p + a);
	}
	return len;
}

static void xml_error(const struct buf *b, struct buf *out);

static int perform(const struct s3_conf *c, struct req *r, struct err *e)
{
	struct buf url = BUF_INIT, hdr = BUF_INIT, why = BUF_INIT;
	char hash[65], *sig = xstrfmt("aws:amz:%s:s3", c->region);
	struct curl_slist *h = NULL;
	CURL *curl = curl_easy_init();
	CURLcode rc;
	int ret = -1;

	buf_printf(&url, "%s/", c->endpoint);
	aws_encode(&url, c->bucket ? c->bucket : "", 0);
	if (r->key) {
		buf_addch(&url, '/');
		aws_encode(&url, r->key, 1);
	}
	if (r->query)
		buf_printf(&url, "?%s", r->query);
	sha256_hex(r->body ? r->body : "", r->len, hash);
	buf_printf(&hdr, "x-amz-content-sha256: %s", hash);
	h = curl_slist_append(h, buf_str(&hdr));
	curl_easy_setopt(curl, CURLOPT_URL, buf_str(&url));
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sig);
	curl_easy_setopt(curl, CURLOPT_USERNAME, c->access_key);
	curl_easy_setopt(curl, CURLOPT_PASSWORD, c->secret_key);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	/* Transfers may be long; stalls may not. */
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
			 (long)(c->timeout_ms / 1000 > 0 ? c->timeout_ms / 1000 : 30));
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	if (r->body || !strcmp(r->method, "PUT") || !strcmp(r->method, "POST")) {
		/* curl signs POSTFIELDS with the hash sent above. */
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)r->len);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r->body ? r->body : "");
	} else if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	}
	r->status = 0;
	r->etag[0] = '\0';
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		if (r->werr.code)
			*e = r->werr;
		else
			err_set(e, FX_CONN, "s3 %s %s: %s", r->method,
				buf_str(&url), curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status >= 300) {
		if (r->resp)
			xml_error(r->resp, &why);
		err_set(e, r->status == 403 ? FX_CONN : FX_FAIL,
			"s3 %s %s: HTTP %ld%s%s", r->method, buf_str(&url),
			r->status, why.len ? ": " : "", buf_str(&why));
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	buf_release(&url);
	buf_release(&hdr);
	buf_release(&why);
	free(sig);
	return ret;
}

/* Retries connection failures and 5xx with backoff; not 4xx, not a GET
 * that already delivered data (the writer cannot take it twice). */
static int call(const struct s3_conf *c, struct req *r, struct err *e)
{
	struct buf own = BUF_INIT;
	struct buf *caller = r->resp;
	int ret = -1;

	r->resp = caller ? caller : &own;
	if (!r->resp->limit)
		r->resp->limit = XML_MAX;
	for (int i = 0; i < TRIES; i++) {
		buf_reset(r->resp);
		err_clear(e);
		ret = perform(c, r, e);
		if (ret == 0 || (r->status >= 400 && r->status < 500) ||
		    r->wr || r->werr.code)
			break;
		log_verbose("%s (try %d of %d)", e->msg, i + 1, TRIES);
		usleep((useconds_t)(250000u << i));
	}
	r->resp = caller;
	buf_release(&own);
	return ret;
}

/* ---- XML ---------------------------------------------------------------- */

struct xml {
	struct buf text;
	void (*on)(void *ud, const char *name, const char *text);
	void *ud;
};

static void XMLCALL xml_start(void *ud, const XML_Char *name,
			      const XML_Char **attrs)
{
	struct xml *x = ud;

	(void)name;
	(void)attrs;
	buf_reset(&x->text);
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
	struct xml *x = ud;

	x->on(x->ud, name, buf_str(&x->text));
	buf_reset(&x->text);
}

static void XMLCALL xml_chars(void *ud, const XML_Char *s, int len)
{
	struct xml *x = ud;

	buf_add(&x->text, s, (size_t)len);
}

/* Calls on(name, text) at the end of every element. */
static int xml_walk(const struct buf *doc, void (*on)(void *, const char *,
		    const char *), void *ud)
{
	XML_Parser p = XML_ParserCreate("UTF-8");
	struct xml x = { BUF_INIT, on, ud };
	int ok;

	if (!p)
		return -1;
	XML_SetUserData(p, &x);
	XML_SetElementHandler(p, xml_start, xml_end);
	XML_SetCharacterDataHandler(p, xml_chars);
	ok = XML_Parse(p, buf_str(doc), (int)doc->len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	buf_release(&x.text);
	return ok ? 0 : -1;
}

struct xml_pick {
	const char *want;
	struct buf *out;
};

static void pick(void *ud, const char *name, const char *text)
{
	struct xml_pick *p = ud;

	if (!strcmp(name, p->want) && !p->out->len)
		buf_addstr(p->out, text);
}

static void xml_error(const struct buf *b, struct buf *out)
{
	struct xml_pick code = { "Code", out };

	if (xml_walk(b, pick, &code) < 0)
		buf_reset(out);
}

/* ---- calls -------------------------------------------------------------- */

int s3_put(const struct s3_conf *c, const char *key, const void *data,
	   size_t len, struct err *e)
{
	struct req r = { .method = "PUT", .key = key, .body = data, .len = len };

	return call(c, &r, e);
}

int s3_delete(const struct s3_conf *c, const char *key, struct err *e)
{
	struct req r = { .method = "DELETE", .key = key };

	return call(c, &r, e);
}

int s3_get(const struct s3_conf *c, const char *key, s3_writer wr, void *ud,
	   struct err *e)
{
	struct req r = { .method = "GET", .key = key, .wr = wr, .ud = ud };

	return call(c, &r, e);
}

static void abort_upload(const struct s3_conf *c, const char *key,
			 const char *query)
{
	struct req r = { .method = "DELETE", .key = key, .query = query };
	struct err ignored = ERR_INIT;

	if (call(c, &r, &ignored) < 0)
		log_warn("s3: could not abort the upload of %s: %s", key,
			 ignored.msg);
}

int s3_upload(const struct s3_conf *c, const char *key, s3_reader rd,
	      void *ud, struct err *e)
{
	struct buf resp = BUF_INIT, id = BUF_INIT, q = BUF_INIT, done = BUF_INIT;
	struct req r = { .method = "POST", .key = key, .query = "uploads=",
			 .resp = &resp };
	struct xml_pick p = { "UploadId", &id };
	unsigned char *part = xmalloc(S3_PART);
	char *abortq = NULL;
	int n = 0, ret = -1;

	if (call(c, &r, e) < 0)
		goto out;
	if (xml_walk(&resp, pick, &p) < 0 || !id.len) {
		err_set(e, FX_FAIL, "s3: no UploadId for %s", key);
		goto out;
	}
	buf_addstr(&q, "uploadId=");
	aws_encode(&q, buf_str(&id), 0);
	abortq = xstrdup(buf_str(&q));
	buf_addstr(&done, "<CompleteMultipartUpload>");
	for (;;) {
		size_t len = 0;
		ssize_t got = 0;
		char *query;
		struct req pr = { .method = "PUT", .key = key, .body = part };

		/* Fill a whole part (S3 wants >= 5 MiB but the last). */
		while (len < S3_PART && (got = rd(ud, part + len, S3_PART - len,
						  e)) > 0)
			len += (size_t)got;
		if (got < 0)
			goto fail;
		if (len == 0 && n > 0)
			break;
		query = xstrfmt("partNumber=%d&%s", ++n, abortq);
		pr.query = query;
		pr.len = len;
		ret = call(c, &pr, e);
		free(query);
		if (ret < 0)
			goto fail;
		buf_printf(&done, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>"
			   "</Part>", n, pr.etag);
		if (len < S3_PART)
			break;
	}
	buf_addstr(&done, "</CompleteMultipartUpload>");
	{
		struct req cr = { .method = "POST", .key = key, .query = abortq,
				  .body = done.p, .len = done.len, .resp = &resp };
		struct buf code = BUF_INIT;
		struct xml_pick ep = { "Code", &code };

		ret = call(c, &cr, e);
		/* S3 may report a failed completion inside a 200. */
		if (ret == 0 && xml_walk(&resp, pick, &ep) == 0 && code.len) {
			err_set(e, FX_FAIL, "s3: completing %s: %s", key,
				buf_str(&code));
			ret = -1;
		}
		buf_release(&code);
		if (ret < 0)
			goto fail;
	}
	ret = 0;
	goto out;
fail:
	ret = -1;
	abort_upload(c, key, abortq);
out:
	free(part);
	free(abortq);
	buf_release(&resp);
	buf_release(&id);
	buf_release(&q);
	buf_release(&done);
	return ret;
}

struct listing {
	struct s3_object *o;
	size_t n, cap;
	struct buf token;
	int truncated;
};

static void on_list(void *ud, const char *name, const char *text)
{
	struct listing *l = ud;

	if (!strcmp(name, "Key")) {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			l->o = xrealloc(l->o, l->cap * sizeof(*l->o));
		}
		l->o[l->n].key = xstrdup(text);
		l->o[l->n++].size = 0;
	} else if (!strcmp(name, "Size") && l->n) {
		l->o[l->n - 1].size = strtoull(text, NULL, 10);
	} else if (!strcmp(name, "NextContinuationToken")) {
		buf_reset(&l->token);
		buf_addstr(&l->token, text);
	} else if (!strcmp(name, "IsTruncated")) {
		l->truncated = !strcmp(text, "true");
	}
}

int s3_list(const struct s3_conf *c, const char *prefix,
	    struct s3_object **out, size_t *n, struct err *e)
{
	struct listing l = { 0 };
	struct buf resp = BUF_INIT, q = BUF_INIT;
	int ret = 0;

	buf_init(&l.token);
	do {
		struct req r = { .method = "GET", .resp = &resp };

		/* Canonical order: parameters sorted by name. */
		buf_reset(&q);
		if (l.token.len) {
			buf_addstr(&q, "continuation-token=");
			aws_encode(&q, buf_str(&l.token), 0);
			buf_addch(&q, '&');
		}
		buf_addstr(&q, "list-type=2&prefix=");
		aws_encode(&q, prefix, 0);
		r.query = buf_str(&q);
		l.truncated = 0;
		buf_reset(&l.token);
		if (call(c, &r, e) < 0) {
			ret = -1;
			break;
		}
		if (xml_walk(&resp, on_list, &l) < 0) {
			ret = err_set(e, FX_FAIL, "s3: unreadable listing of %s/%s",
				      c->bucket, prefix);
			break;
		}
	} while (l.truncated && l.token.len);
	buf_release(&resp);
	buf_release(&q);
	buf_release(&l.token);
	if (ret < 0) {
		s3_objects_free(l.o, l.n);
		return -1;
	}
	*out = l.o;
	*n = l.n;
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
	struct buf resp = BUF_INIT;
	struct req r = { .method = "GET", .resp = &resp };
	int ret = -1;

	root.bucket = NULL;	/* the service itself */
	if (call(&root, &r, e) < 0)
		goto out;
	if (xml_walk(&resp, on_bucket, out) < 0) {
		err_set(e, FX_FAIL, "s3 %s: unreadable bucket list", c->endpoint);
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	return ret;
}

void s3_objects_free(struct s3_object *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(o[i].key);
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

#include "net/http.h"

#include <curl/curl.h>
#include <stdlib.h>

struct http_client {
	CURL *curl;
};

struct sink {
	struct buf *b;
	int too_big;
};

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;

	/* A reply over its cap fails the transfer rather than be cut. */
	if (buf_add_capped(s->b, p, size * n) < 0) {
		s->too_big = 1;
		return 0;
	}
	return size * n;
}

int http_status_transient(long status)
{
	return status == 429 || status == 500 || status == 502 ||
	       status == 503 || status == 504;
}

struct http_client *http_client_new(void)
{
	struct http_client *c = xcalloc(1, sizeof(*c));

	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return NULL;
	}
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

/* body (with content_type) when given, else h->json. */
static int call(struct http_client *hc, const struct http_req *h,
		const char *body, const char *content_type, struct buf *resp,
		struct http_res *res, struct err *e)
{
	struct curl_slist *hdr = NULL;
	struct sink s = { resp, 0 };
	CURL *c = hc->curl;
	char *accept;
	CURLcode rc;

	res->status = 0;
	res->unsent = 0;
	res->too_big = 0;
	if (!resp->limit)
		resp->limit = HTTP_REPLY_MAX;
	/* Reset keeps the connection cache: the next request reuses it. */
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, h->method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(h->connect_ms ? h->connect_ms : h->timeout_ms));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
	if (h->user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, h->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, h->password ? h->password : "");
	}
	accept = xstrfmt("Accept: %s", h->accept ? h->accept : "application/json");
	hdr = curl_slist_append(hdr, accept);
	free(accept);
	if (body) {
		char *ct = xstrfmt("Content-Type: %s", content_type ?
				   content_type : "text/plain; charset=utf-8");

		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		hdr = curl_slist_append(hdr, ct);
		free(ct);
	} else if (h->json) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, h->json);
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	curl_slist_free_all(hdr);
	/* The password stays out of the handle between calls. */
	curl_easy_setopt(c, CURLOPT_PASSWORD, "");
	if (rc == CURLE_OK)
		return 0;
	res->too_big = s.too_big;
	res->unsent = rc == CURLE_COULDNT_CONNECT ||
		      rc == CURLE_COULDNT_RESOLVE_HOST ||
		      rc == CURLE_COULDNT_RESOLVE_PROXY;
	if (!s.too_big)
		res->status = 0;
	if (s.too_big)
		return err_set(e, FX_FAIL, "%s: the reply is over %zu bytes",
			       h->url, resp->limit);
	return err_set(e, FX_CONN, "%s: %s", h->url, curl_easy_strerror(rc));
}

int http_client_call(struct http_client *hc, const struct http_req *h,
		     struct buf *resp, struct http_res *res, struct err *e)
{
	return call(hc, h, NULL, NULL, resp, res, e);
}

int http_call(const struct http_req *h, struct buf *resp, long *status,
	      struct err *e)
{
	return http_call_body(h, NULL, NULL, resp, status, e);
}

int http_call_body(const struct http_req *h, const char *body,
		   const char *content_type, struct buf *resp, long *status,
		   struct err *e)
{
	struct http_client *c = http_client_new();
	struct http_res res;
	int r;

	*status = 0;
	if (!c)
		return err_set(e, FX_FAIL, "curl: cannot initialise");
	r = call(c, h, body, content_type, resp, &res, e);
	*status = res.status;
	http_client_free(c);
	return r;
}

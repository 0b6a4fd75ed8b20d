#include "net/http.h"

#include <curl/curl.h>
#include <stdlib.h>

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;

	/* A reply over its cap fails the transfer rather than be cut. */
	return buf_add_capped(b, p, size * n) < 0 ? 0 : size * n;
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
	struct curl_slist *hdr = NULL;
	CURL *c = curl_easy_init();
	CURLcode rc;

	*status = 0;
	if (!resp->limit)
		resp->limit = HTTP_REPLY_MAX;
	if (!c)
		return err_set(e, FX_FAIL, "curl: cannot initialise");
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, h->method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
	if (h->user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, h->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, h->password ? h->password : "");
	}
	hdr = curl_slist_append(hdr, "Accept: application/json");
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
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		return err_set(e, FX_CONN, "%s: %s", h->url, curl_easy_strerror(rc));
	return 0;
}

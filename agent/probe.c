#include "agent/probe.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define RESP_MAX (1 << 20)
/* SHA-256 of the empty body: S3 wants it spelt out even when unsigned. */
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- PostgreSQL ------------------------------------------------------- */

static void first_line(struct buf *out, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	buf_add(out, msg, n);
}

int probe_postgres(const struct probe_target *t, struct buf *detail,
		   struct err *e)
{
	char port[16], timeout[24];
	const char *keys[] = { "host", "port", "user", "password", "dbname",
			       "connect_timeout", "application_name", NULL };
	const char *vals[8];
	struct buf why = BUF_INIT;
	PGconn *c;
	int r = 0;

	snprintf(port, sizeof(port), "%d", t->port);
	snprintf(timeout, sizeof(timeout), "%lld",
		 t->timeout_ms / 1000 > 0 ? t->timeout_ms / 1000 : 1);
	vals[0] = t->host;
	vals[1] = port;
	vals[2] = t->user;
	vals[3] = t->password;
	vals[4] = t->database;
	vals[5] = timeout;
	vals[6] = "ferry";
	vals[7] = NULL;
	c = PQconnectdbParams(keys, vals, 0);
	if (PQstatus(c) != CONNECTION_OK) {
		first_line(&why, PQerrorMessage(c));
		r = err_set(e, FX_CONN, "%s", buf_str(&why));
	} else {
		buf_printf(detail, "PostgreSQL %s, database %s",
			   PQparameterStatus(c, "server_version"), PQdb(c));
	}
	PQfinish(c);
	buf_release(&why);
	return r;
}

/* ---- Redis ------------------------------------------------------------ */

static int tcp_open(const char *host, int port, long long timeout_ms,
		    struct err *e)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	char ps[16];
	int fd, rc;

	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%d", port);
	rc = getaddrinfo(host, ps, &hints, &res);
	if (rc)
		return err_set(e, FX_CONN, "resolve %s: %s", host, gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
			err_set(e, FX_CONN, "connect %s:%d: %s", host, port,
				strerror(errno));
			close(fd);
			fd = -1;
		}
	} else {
		err_set(e, FX_FAIL, "socket: %s", strerror(errno));
	}
	freeaddrinfo(res);
	return fd;
}

/* Sends one RESP command and reads its reply into out (status, error or
 * bulk string, without the framing).  Returns the reply's type byte. */
static int resp_call(int fd, const char *const *argv, struct buf *out,
		     struct err *e)
{
	struct buf req = BUF_INIT;
	char c;
	int argc = 0, type;
	long long len = -1;

	while (argv[argc])
		argc++;
	buf_printf(&req, "*%d\r\n", argc);
	for (int i = 0; i < argc; i++)
		buf_printf(&req, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
	if (write(fd, req.p, req.len) != (ssize_t)req.len) {
		buf_wipe(&req);
		return err_set(e, FX_CONN, "redis: write: %s", strerror(errno));
	}
	buf_wipe(&req);
	buf_reset(out);
	/* The first line: +status, -error, :int or $len. */
	while (read(fd, &c, 1) == 1 && c != '\n')
		if (c != '\r' && out->len < 4096)
			buf_addch(out, c);
	if (out->len == 0)
		return err_set(e, FX_CONN, "redis: connection closed");
	type = out->p[0];
	if (type != '$') {
		memmove(out->p, out->p + 1, out->len);
		out->len--;
		return type;
	}
	len = strtoll(out->p + 1, NULL, 10);
	buf_reset(out);
	if (len < 0 || len > RESP_MAX)
		return '$';
	buf_grow(out, (size_t)len + 2);
	while (out->len < (size_t)len + 2) {
		ssize_t n = read(fd, out->p + out->len, (size_t)len + 2 - out->len);

		if (n <= 0)
			return err_set(e, FX_CONN, "redis: short reply");
		out->len += (size_t)n;
	}
	buf_setlen(out, (size_t)len);
	return '$';
}

int probe_redis(const struct probe_target *t, struct buf *detail,
		struct err *e)
{
	const char *auth[] = { "AUTH", t->password, NULL };
	const char *info[] = { "INFO", "server", NULL };
	struct buf reply = BUF_INIT;
	const char *v;
	int fd, type, r = -1;

	fd = tcp_open(t->host, t->port, t->timeout_ms, e);
	if (fd < 0)
		return -1;
	if (t->password && *t->password) {
		type = resp_call(fd, auth, &reply, e);
		if (type < 0)
			goto out;
		if (type != '+') {
			err_set(e, FX_CONN, "redis: authentication failed: %s",
				buf_str(&reply));
			goto out;
		}
	}
	type = resp_call(fd, info, &reply, e);
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
	close(fd);
	buf_release(&reply);
	return r;
}

/* ---- HTTP (S3, Neo4j) -------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;

	if (b->len + size * n > RESP_MAX)
		return 0;
	buf_add(b, p, size * n);
	return size * n;
}

struct http {
	const char *method;
	const char *url;
	const char *body;
	const char *user;
	const char *password;
	const char *sigv4;	/* "aws:amz:REGION:s3", or NULL for basic */
	long long timeout_ms;
};

static int http_do(const struct http *h, struct buf *resp, long *status,
		   struct err *e)
{
	struct curl_slist *hdr = NULL;
	CURL *c = curl_easy_init();
	CURLcode rc;

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
	if (h->user)
		curl_easy_setopt(c, CURLOPT_USERNAME, h->user);
	if (h->password)
		curl_easy_setopt(c, CURLOPT_PASSWORD, h->password);
	if (h->sigv4) {
		curl_easy_setopt(c, CURLOPT_AWS_SIGV4, h->sigv4);
		hdr = curl_slist_append(hdr, "x-amz-content-sha256: " EMPTY_SHA256);
	} else if (h->user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	}
	if (h->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, h->body);
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		hdr = curl_slist_append(hdr, "Accept: application/json");
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

int probe_s3(const char *url, const struct probe_target *t,
	     struct buf *detail, struct err *e)
{
	struct buf resp = BUF_INIT;
	char *sig = xstrfmt("aws:amz:%s:s3", t->database);
	struct http h = { "GET", url, NULL, t->user, t->password, sig,
			  t->timeout_ms };
	long status = 0;
	int r;

	r = http_do(&h, &resp, &status, e);
	if (r == 0 && status == 200)
		buf_addstr(detail, "S3 ListBuckets ok");
	else if (r == 0 && (status == 401 || status == 403))
		r = err_set(e, FX_CONN, "s3: access denied (HTTP %ld): check "
			    "access_key and secret_key", status);
	else if (r == 0)
		r = err_set(e, FX_CONN, "s3: HTTP %ld from ListBuckets", status);
	buf_release(&resp);
	free(sig);
	return r;
}

static int neo4j_error(json_t *root, struct err *e)
{
	json_t *errs = json_object_get(root, "errors");
	json_t *first = json_array_get(errs, 0);

	if (!first)
		return 0;
	return err_set(e, FX_CONN, "neo4j: %s: %s",
		       json_string_value(json_object_get(first, "code")) ?: "?",
		       json_string_value(json_object_get(first, "message")) ?: "");
}

int probe_neo4j(const char *url, const struct probe_target *t,
		struct buf *detail, struct err *e)
{
	static const char body[] =
		"{\"statements\":[{\"statement\":\"CALL dbms.components() "
		"YIELD name, versions, edition RETURN name, versions[0], edition\"}]}";
	struct buf resp = BUF_INIT;
	char *tx = xstrfmt("%s/db/%s/tx/commit", url, t->database);
	struct http h = { "POST", tx, body, t->user, t->password, NULL,
			  t->timeout_ms };
	json_error_t jerr;
	json_t *root = NULL, *row;
	long status = 0;
	int r;

	r = http_do(&h, &resp, &status, e);
	if (r < 0)
		goto out;
	root = json_loadb(buf_str(&resp), resp.len, 0, &jerr);
	if (!root) {
		r = err_set(e, FX_CONN, "neo4j: HTTP %ld with no JSON reply (%s)",
			    status, jerr.text);
		goto out;
	}
	r = neo4j_error(root, e);
	if (r < 0)
		goto out;
	if (status != 200) {
		r = err_set(e, FX_CONN, "neo4j: HTTP %ld", status);
		goto out;
	}
	row = json_object_get(json_array_get(json_object_get(json_array_get(
		json_object_get(root, "results"), 0), "data"), 0), "row");
	buf_printf(detail, "%s %s (%s), database %s",
		   json_string_value(json_array_get(row, 0)) ?: "Neo4j",
		   json_string_value(json_array_get(row, 1)) ?: "?",
		   json_string_value(json_array_get(row, 2)) ?: "?",
		   t->database);
out:
	json_decref(root);
	buf_release(&resp);
	free(tx);
	return r;
}

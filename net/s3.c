/*
 * One S3 request: its URL, its signature (libcurl's SigV4 over every header
 * we send, the payload's SHA-256 given explicitly), its reply, and the
 * judgement whether a failed try deserves another.
 */
#include "net/s3_int.h"

#include <ctype.h>
#include <errno.h>
#include <curl/curl.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/http.h"
#include "util/log.h"
#include "util/sha256.h"

/* The headers S3 keeps with an object (besides x-amz-meta-*). */
static const char *const stored[] = {
	"content-type", "cache-control", "content-encoding",
	"content-disposition", "content-language", "expires", NULL,
};

void s3_encode(struct buf *b, const char *s, int keep_slash)
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

long long s3_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

long s3_backoff_ms(int tries)
{
	return 250L << (tries > 1 ? tries - 1 : 0);
}

void s3_meta_release(struct s3_meta *m)
{
	strlist_release(&m->hdr);
	m->etag[0] = '\0';
	m->last_modified[0] = '\0';
	m->length = -1;
}

void s3_xfer_release(struct s3_xfer *x)
{
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	x->easy = x->hdrs = NULL;
	buf_release(&x->resp);
	buf_release(&x->url);
	buf_release(&x->where);
	s3_meta_release(&x->meta);
}

/* ---- the reply ---------------------------------------------------------- */

static int is_2xx(const struct s3_xfer *x)
{
	return x->status >= 200 && x->status < 300;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct s3_xfer *x = ud;
	size_t len = size * n;

	/* Error replies are small XML: keep them whatever the mode. */
	if (!is_2xx(x) || !x->wr) {
		if (buf_add_capped(&x->resp, p, len) < 0) {
			err_set(&x->werr, FX_FAIL, "s3 %s %s: reply larger than "
				"%u MiB", x->method, buf_str(&x->where),
				S3_XML_MAX >> 20);
			return 0;
		}
		return len;
	}
	if (x->wr(x->ud, p, len, &x->werr) < 0)
		return 0;
	x->got += len;
	return len;
}

static void copy_trimmed(char *dst, size_t cap, const char *s, size_t len)
{
	snprintf(dst, cap, "%.*s", (int)len, s);
}

static int is_stored(const char *name)
{
	if (!strncmp(name, "x-amz-meta-", 11) && name[11])
		return 1;
	for (int i = 0; stored[i]; i++)
		if (!strcmp(name, stored[i]))
			return 1;
	return 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct s3_xfer *x = ud;
	size_t len = size * n, a, z;
	const char *colon;
	struct buf name = BUF_INIT;

	x->quiet_since = s3_now_ms();
	if (len > 9 && !strncasecmp(p, "HTTP/", 5)) {
		const char *sp = memchr(p, ' ', len);

		x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		/* The answer shows the store is there: from now on only a
		 * stall in the middle of it counts (quiet_bound()).  A "100
		 * Continue" only invites the body; a store that goes silent
		 * after it has not answered. */
		if (x->status >= 200)
			x->answered = 1;
		/* A resumed GET's headers describe a range: the first reply's
		 * stand.  Otherwise only the final reply (after a 100) counts. */
		if (!x->from)
			s3_meta_release(&x->meta);
		return len;
	}
	colon = memchr(p, ':', len);
	if (x->from || !colon)
		return len;
	for (const char *q = p; q < colon; q++)
		buf_addch(&name, tolower((unsigned char)*q));
	a = (size_t)(colon - p) + 1;
	z = len;
	while (a < z && isspace((unsigned char)p[a]))
		a++;
	while (z > a && isspace((unsigned char)p[z - 1]))
		z--;
	if (!strcmp(buf_str(&name), "etag"))
		copy_trimmed(x->meta.etag, sizeof(x->meta.etag), p + a, z - a);
	else if (!strcmp(buf_str(&name), "last-modified"))
		copy_trimmed(x->meta.last_modified, sizeof(x->meta.last_modified),
			     p + a, z - a);
	else if (!strcmp(buf_str(&name), "content-length"))
		x->meta.length = strtoll(p + a, NULL, 10);
	if (is_2xx(x) && is_stored(buf_str(&name))) {
		struct buf line = BUF_INIT;

		buf_printf(&line, "%s: %.*s", buf_str(&name), (int)(z - a), p + a);
		strlist_add_take(&x->meta.hdr, buf_detach(&line, NULL));
	}
	buf_release(&name);
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
	struct s3_xfer *x = ud;
	uint64_t left = x->file->len - x->sent;
	size_t want = size * n < left ? size * n : (size_t)left;
	ssize_t got;

	if (!want)
		return 0;
	got = pread(x->file->fd, p, want, x->file->off + (off_t)x->sent);
	if (got <= 0) {
		err_set(&x->werr, FX_FAIL, "s3 %s %s: reading the body: %s",
			x->method, buf_str(&x->where), got < 0 ? strerror(errno) :
			"file too short");
		return CURL_READFUNC_ABORT;
	}
	x->sent += (uint64_t)got;
	return (size_t)got;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
	struct s3_xfer *x = ud;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->file->len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->sent = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

/* ---- silences ----------------------------------------------------------- */

static long long stall_ms(const struct s3_xfer *x)
{
	return x->c->stall_ms > 0 ? x->c->stall_ms : 60000;
}

/* How long x may go without a byte moving either way.  Before any byte of
 * the answer came, a store that took the connection and says nothing is
 * as good as unreachable: the connect timeout, so that a dead store costs
 * S3_TRIES of those, not S3_TRIES stalls.  Once it answers, or for a
 * request it may think over, a silence as long as the SSH link's. */
static long long quiet_bound(const struct s3_xfer *x)
{
	if (x->answered || x->slow || x->c->timeout_ms <= 0)
		return stall_ms(x);
	return x->c->timeout_ms;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct s3_xfer *x = ud;
	long long now = s3_now_ms();

	(void)dltotal;
	(void)ultotal;
	/* A body moving either way is progress, however slow. */
	if ((int64_t)(dlnow + ulnow) != x->moved) {
		x->moved = (int64_t)(dlnow + ulnow);
		x->quiet_since = now;
		return 0;
	}
	if (now - x->quiet_since < quiet_bound(x))
		return 0;
	x->stalled = 1;
	return 1;
}

/* ---- one try ------------------------------------------------------------ */

static void build_url(struct s3_xfer *x)
{
	const struct s3_conf *c = x->c;
	const char *ep = c->endpoint;
	size_t n = strlen(ep);
	struct buf path = BUF_INIT;

	/* "http://h:p/" and "http://h:p" are the same endpoint. */
	while (n && ep[n - 1] == '/')
		n--;
	buf_addch(&path, '/');
	if (c->bucket)
		s3_encode(&path, c->bucket, 0);
	if (x->key) {
		buf_addch(&path, '/');
		s3_encode(&path, x->key, 1);
	}
	if (x->query)
		buf_printf(&path, "?%s", x->query);
	buf_printf(&x->url, "%.*s%s", (int)n, ep, buf_str(&path));
	if (c->label) {
		n = strlen(c->label);
		while (n && c->label[n - 1] == '/')
			n--;
		buf_printf(&x->where, "%.*s%s", (int)n, c->label, buf_str(&path));
	} else {
		buf_addstr(&x->where, buf_str(&x->url));
	}
	buf_release(&path);
}

static struct curl_slist *add_header(struct curl_slist *h, const char *line,
				     int *bad)
{
	struct curl_slist *n = curl_slist_append(h, line);

	if (!n)
		*bad = 1;
	return n ? n : h;
}

int s3_try_start(struct s3_xfer *x, struct err *e)
{
	const struct s3_conf *c = x->c;
	struct curl_slist *h = NULL;
	struct buf line = BUF_INIT;
	CURL *curl;
	char *sig;
	long long backstop;
	int bad = 0;

	if (!x->url.len)
		build_url(x);
	if (!x->sha256[0]) {
		if (x->file)
			memcpy(x->sha256, x->file->sha256, sizeof(x->sha256));
		else
			sha256_hex(x->body ? x->body : "", x->len, x->sha256);
	}
	curl = curl_easy_init();
	if (!curl)
		return err_set(e, FX_FAIL, "curl: out of memory");
	buf_printf(&line, "x-amz-content-sha256: %s", x->sha256);
	h = add_header(h, buf_str(&line), &bad);
	for (size_t i = 0; x->headers && i < x->headers->n; i++) {
		/* A header must stay one line: a value from an archive could
		 * try to smuggle another. */
		if (strpbrk(x->headers->v[i], "\r\n")) {
			curl_slist_free_all(h);
			curl_easy_cleanup(curl);
			buf_release(&line);
			return err_set(e, FX_FAIL, "s3 %s %s: header '%.40s' "
				       "spans lines", x->method,
				       buf_str(&x->where), x->headers->v[i]);
		}
		h = add_header(h, x->headers->v[i], &bad);
	}
	if (x->got) {
		/* Resume a broken GET, and only if it is still the same object. */
		buf_reset(&line);
		buf_printf(&line, "Range: bytes=%llu-", (unsigned long long)x->got);
		h = add_header(h, buf_str(&line), &bad);
		buf_reset(&line);
		buf_printf(&line, "If-Match: %s", x->meta.etag);
		h = add_header(h, buf_str(&line), &bad);
	}
	buf_release(&line);
	sig = xstrfmt("aws:amz:%s:s3", c->region);
	curl_easy_setopt(curl, CURLOPT_URL, buf_str(&x->url));
	/* Keys may hold "//", "." and ".." segments: they are not paths. */
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, x->method);
	curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sig);
	curl_easy_setopt(curl, CURLOPT_USERNAME, c->access_key);
	curl_easy_setopt(curl, CURLOPT_PASSWORD, c->secret_key);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	/* Transfers may be long; silences may not (quiet_bound() judges
	 * them).  curl's low-speed check is only a backstop past both
	 * bounds: its timer is also what runs on_progress() every second
	 * while nothing moves. */
	x->answered = x->stalled = 0;
	x->moved = 0;
	x->quiet_since = s3_now_ms();
	backstop = stall_ms(x) > c->timeout_ms ? stall_ms(x) : c->timeout_ms;
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
			 (long)((backstop + 999) / 1000 + 2));
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(curl, CURLOPT_PRIVATE, x);
	if (x->file) {
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(curl, CURLOPT_READDATA, x);
		curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(curl, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)x->file->len);
	} else if (x->body || !strcmp(x->method, "PUT") ||
		   !strcmp(x->method, "POST")) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)x->len);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, x->body ? x->body : "");
	} else if (!strcmp(x->method, "HEAD")) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	}
	free(sig);
	if (bad) {
		curl_slist_free_all(h);
		curl_easy_cleanup(curl);
		return err_set(e, FX_FAIL, "curl: out of memory");
	}
	if (!x->resp.limit)
		x->resp.limit = S3_XML_MAX;
	buf_reset(&x->resp);
	x->status = 0;
	x->code[0] = '\0';
	x->sent = 0;
	x->from = x->got;
	err_clear(&x->werr);
	if (!x->got)
		s3_meta_release(&x->meta);
	x->easy = curl;
	x->hdrs = h;
	return 0;
}

int s3_try_end(struct s3_xfer *x, int rc, struct err *e)
{
	int resumed = x->from > 0, retry;
	struct buf code = BUF_INIT;
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	x->easy = x->hdrs = NULL;
	if (x->werr.code) {
		*e = x->werr;
		return -1;
	}
	/* A GET that broke after giving bytes away can only go on from where
	 * it broke, and only knowing which version it was reading. */
	retry = !x->got || x->meta.etag[0];
	if (rc != CURLE_OK && x->stalled) {
		err_set(e, FX_CONN, "s3 %s %s: %s after %.1f s of silence",
			x->method, buf_str(&x->where), x->answered ?
			"the reply stopped" : "no answer",
			(double)quiet_bound(x) / 1000);
		return retry ? 1 : -1;
	}
	if (rc != CURLE_OK) {
		err_set(e, FX_CONN, "s3 %s %s: %s", x->method,
			buf_str(&x->where), curl_easy_strerror((CURLcode)rc));
		return retry ? 1 : -1;
	}
	x->status = status;
	if (status < 200 || status >= 300) {
		if (s3_xml_pick(&x->resp, "Code", &code) == 0)
			snprintf(x->code, sizeof(x->code), "%s", buf_str(&code));
		buf_release(&code);
		if (status == 412 && resumed)
			return err_set(e, FX_FAIL, "s3 %s %s: the object changed "
				       "while it was read", x->method,
				       buf_str(&x->where));
		err_set(e, status == 403 ? FX_CONN : FX_FAIL,
			"s3 %s %s: HTTP %ld%s%s", x->method, buf_str(&x->where),
			status, x->code[0] ? " " : "", x->code);
		/* A 501 NotImplemented or a 404 is the store's answer:
		 * asking again only makes the run slower. */
		retry = retry && (http_status_transient(status) ||
				  !strcmp(x->code, "RequestTimeout"));
		return retry ? 1 : -1;
	}
	if (resumed && status != 206)
		return err_set(e, FX_FAIL, "s3 %s %s: the transfer broke and the "
			       "server cannot resume it (no Range support)",
			       x->method, buf_str(&x->where));
	return 0;
}

int s3_do(struct s3_xfer *x, struct err *e)
{
	for (;;) {
		int r;

		err_clear(e);
		if (s3_try_start(x, e) < 0)
			return -1;
		r = s3_try_end(x, curl_easy_perform(x->easy), e);
		if (r <= 0)
			return r;
		if (++x->tries >= S3_TRIES)
			return -1;
		log_verbose("%s (try %d of %d)", e->msg, x->tries, S3_TRIES);
		usleep((useconds_t)s3_backoff_ms(x->tries) * 1000u);
	}
}

/* ---- XML ---------------------------------------------------------------- */

struct xml {
	struct buf text;
	void (*on)(void *ud, const char *name, const char *text);
	void *ud;
	struct buf *root;
};

static void XMLCALL xml_start(void *ud, const XML_Char *name,
			      const XML_Char **attrs)
{
	struct xml *x = ud;

	(void)attrs;
	if (x->root && !x->root->len)
		buf_addstr(x->root, name);
	buf_reset(&x->text);
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
	struct xml *x = ud;

	if (x->on)
		x->on(x->ud, name, buf_str(&x->text));
	buf_reset(&x->text);
}

static void XMLCALL xml_chars(void *ud, const XML_Char *s, int len)
{
	struct xml *x = ud;

	buf_add(&x->text, s, (size_t)len);
}

static int walk(const struct buf *doc, struct xml *x)
{
	XML_Parser p = XML_ParserCreate("UTF-8");
	int ok;

	if (!p)
		return -1;
	XML_SetUserData(p, x);
	XML_SetElementHandler(p, xml_start, xml_end);
	XML_SetCharacterDataHandler(p, xml_chars);
	ok = XML_Parse(p, buf_str(doc), (int)doc->len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	buf_release(&x->text);
	return ok ? 0 : -1;
}

int s3_xml_walk(const struct buf *doc, void (*on)(void *, const char *,
		const char *), void *ud)
{
	struct xml x = { BUF_INIT, on, ud, NULL };

	return walk(doc, &x);
}

void s3_xml_root(const struct buf *doc, struct buf *name)
{
	struct xml x = { BUF_INIT, NULL, NULL, name };

	buf_reset(name);
	if (walk(doc, &x) < 0)
		buf_reset(name);
}

struct pick {
	const char *want;
	struct buf *out;
	int found;
};

static void on_pick(void *ud, const char *name, const char *text)
{
	struct pick *p = ud;

	if (strcmp(name, p->want) || p->found)
		return;
	buf_addstr(p->out, text);
	p->found = 1;
}

int s3_xml_pick(const struct buf *doc, const char *want, struct buf *out)
{
	struct pick p = { want, out, 0 };

	buf_reset(out);
	if (s3_xml_walk(doc, on_pick, &p) < 0 || !p.found) {
		buf_reset(out);
		return -1;
	}
	return 0;
}

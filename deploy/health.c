#include "deploy/health.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/xport.h"
#include "util/log.h"

struct url {
	const char *orig;
	char *local;		/* through the tunnel */
	char *host_hdr;		/* "Host: orig-host[:port]" */
	int ok;
	struct buf state;
};

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
	struct timespec d = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&d, &d) < 0 && errno == EINTR)
		;
}

void health_state_text(const struct compose_ctr *c, struct buf *out)
{
	buf_addstr(out, *c->state ? c->state : "unknown");
	if (!strcmp(c->state, "exited") || !strcmp(c->state, "dead") ||
	    !strcmp(c->state, "restarting"))
		buf_printf(out, " (code %d)", c->exit_code);
	else if (*c->health)
		buf_printf(out, " (%s)", c->health);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

static char *host_header(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *h = NULL;

	if (u && !curl_url_set(u, CURLUPART_URL, url, 0) &&
	    !curl_url_get(u, CURLUPART_HOST, &host, 0)) {
		if (!curl_url_get(u, CURLUPART_PORT, &port, 0))
			h = xstrfmt("Host: %s:%s", host, port);
		else
			h = xstrfmt("Host: %s", host);
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return h;
}

/* One GET; 1 when it answered 2xx, else 0 with the state in words. */
static int probe(struct url *u, long long timeout_ms)
{
	struct curl_slist *hdr = NULL;
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode rc;

	buf_reset(&u->state);
	if (!c) {
		buf_addstr(&u->state, "curl: cannot initialise");
		return 0;
	}
	if (u->host_hdr)
		hdr = curl_slist_append(hdr, u->host_hdr);
	curl_easy_setopt(c, CURLOPT_URL, u->local);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
	/* The tunnel ends at the server: the certificate names the host the
	 * URL names, not 127.0.0.1; only the answer's status matters. */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		buf_addstr(&u->state, curl_easy_strerror(rc));
		return 0;
	}
	buf_printf(&u->state, "HTTP %ld", status);
	return status >= 200 && status < 300;
}

/* The first problem of a service, or 0 when it is ready; 2 when one of
 * its containers has exited (the gate fails at once). */
static int service_state(const struct compose_ctrs *all, const char *svc,
			 struct buf *why)
{
	int seen = 0, bad = 0;

	for (size_t i = 0; i < all->n; i++) {
		const struct compose_ctr *c = &all->v[i];

		if (strcmp(c->service, svc))
			continue;
		seen = 1;
		if (!strcmp(c->state, "exited") || !strcmp(c->state, "dead")) {
			buf_reset(why);
			health_state_text(c, why);
			return 2;
		}
		if (!bad && (strcmp(c->state, "running") ||
			     (*c->health && strcmp(c->health, "healthy")))) {
			health_state_text(c, why);
			bad = 1;
		}
	}
	if (!seen) {
		buf_addstr(why, "no container");
		return 1;
	}
	return bad;
}

int health_wait(struct compose *c, struct xport *x,
		const struct health_opts *o, struct strlist *failing,
		struct err *e)
{
	size_t nurl = o->urls ? o->urls->n : 0;
	struct url *urls = xcalloc(nurl ? nurl : 1, sizeof(*urls));
	struct buf states = BUF_INIT, why = BUF_INIT, wait = BUF_INIT;
	long long deadline = now_ms() + o->timeout_ms;
	int r = -1;

	for (size_t i = 0; i < nurl; i++) {
		urls[i].orig = o->urls->v[i];
		buf_init(&urls[i].state);
		if (xport_forward_url(x, urls[i].orig, &urls[i].local, e) < 0) {
			err_wrap(e, "health_url");
			goto out;
		}
		if (strcmp(urls[i].local, urls[i].orig))
			urls[i].host_hdr = host_header(urls[i].orig);
	}
	for (;;) {
		struct compose_ctrs all = { NULL, 0 };
		struct strlist bad = STRLIST_INIT;
		struct err pe = ERR_INIT;
		long long probe_ms = o->interval_ms;
		int done;

		buf_reset(&states);
		if (compose_containers(c, &all, &pe) < 0) {
			if (pe.code == FX_CONN) {
				*e = pe;
				goto out;
			}
			buf_printf(&states, "; %s", pe.msg);
		}
		for (size_t i = 0; o->services && i < o->services->n; i++) {
			const char *svc = o->services->v[i];
			int s;

			buf_reset(&why);
			s = service_state(&all, svc, &why);
			if (s == 2) {
				strlist_add(failing, svc);
				err_set(e, FX_REMOTE, "health gate: service '%s' %s",
					svc, buf_str(&why));
				compose_ctrs_release(&all);
				strlist_release(&bad);
				goto out;
			}
			if (s) {
				buf_printf(&states, "; service '%s' %s", svc,
					   buf_str(&why));
				strlist_add(&bad, svc);
			}
		}
		compose_ctrs_release(&all);
		done = now_ms() >= deadline;
		/* A slow answer is not a dead one, within reason. */
		probe_ms = probe_ms < 2000 ? 2000 : probe_ms > 10000 ? 10000 :
			probe_ms;
		/* URLs once the containers run (before, every try would be a
		 * refused connection through the tunnel), and at the end for
		 * the message. */
		for (size_t i = 0; i < nurl && (!bad.n || done); i++) {
			if (urls[i].ok)
				continue;
			urls[i].ok = probe(&urls[i], probe_ms);
			if (!urls[i].ok)
				buf_printf(&states, "; %s %s", urls[i].orig,
					   buf_str(&urls[i].state));
		}
		if (!states.len) {
			strlist_release(&bad);
			r = 0;
			break;
		}
		if (!wait.len) {
			buf_addstr(&wait, states.p + 2);
			log_verbose("deploy: health gate: waiting (%s)", buf_str(&wait));
		}
		if (done) {
			for (size_t i = 0; i < bad.n; i++)
				strlist_add(failing, bad.v[i]);
			strlist_release(&bad);
			err_set(e, FX_REMOTE, "health gate: not ready after %llds: "
				"%s", (o->timeout_ms + 999) / 1000, states.p + 2);
			break;
		}
		strlist_release(&bad);
		{
			long long left = deadline - now_ms();

			sleep_ms(o->interval_ms < left ? o->interval_ms : left);
		}
	}
out:
	for (size_t i = 0; i < nurl; i++) {
		free(urls[i].local);
		free(urls[i].host_hdr);
		buf_release(&urls[i].state);
	}
	free(urls);
	buf_release(&states);
	buf_release(&why);
	buf_release(&wait);
	return r;
}

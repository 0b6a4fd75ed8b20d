#include "agent/notify.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/job.h"
#include "conf/conf.h"
#include "net/http.h"
#include "util/buf.h"
#include "util/jtext.h"
#include "util/log.h"

#define TRIES 3

/* One request, tried up to TRIES times (a reply retrying may change is
 * tried again, others are final); a warning naming what when all fail. */
static void post(const struct conf *c, const char *what, const char *url,
		 const char *json, const char *text)
{
	struct http_req h;
	struct err e = ERR_INIT;
	long status = 0;

	memset(&h, 0, sizeof(h));
	h.method = "POST";
	h.url = url;
	h.json = json;
	h.timeout_ms = conf_num(c, "notify", "timeout");
	for (int i = 0; i < TRIES; i++) {
		struct buf resp = BUF_LIMITED(65536);
		int r = http_call_body(&h, text, NULL, &resp, &status, &e);

		buf_release(&resp);
		if (r == 0 && status >= 200 && status < 300)
			return;
		if (r == 0)
			err_set(&e, FX_FAIL, "HTTP status %ld", status);
		if (r == 0 && !http_status_transient(status))
			break;
		if (i + 1 < TRIES) {
			/* 0.5 s, then 1 s: a restarting receiver is back. */
			struct timespec ts = { 0, 500000000L };

			if (i)
				ts.tv_sec = 1, ts.tv_nsec = 0;
			nanosleep(&ts, NULL);
		}
	}
	log_warn("notification %s failed: %s", what, e.msg);
}

static int wanted(const struct conf *c, int failed)
{
	const char *on = conf_str(c, "notify", "on");

	return failed || !on || strcmp(on, "failure");
}

/* URL with a suffix, without a doubled '/'; caller frees. */
static char *ping_url(const char *base, const char *suffix)
{
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	return xstrfmt("%.*s%s", (int)n, base, suffix);
}

void notify_start(const struct conf *c, const char *job)
{
	const char *ping = c ? conf_str(c, "notify", "ping_url") : NULL;
	char *url, *body;

	if (!ping || !wanted(c, 0))
		return;
	url = ping_url(ping, "/start");
	body = xstrfmt("%s started", job);
	post(c, "ping (start)", url, NULL, body);
	free(url);
	free(body);
}

void notify_finish(const struct conf *c, const struct job_report *r)
{
	const char *ping = c ? conf_str(c, "notify", "ping_url") : NULL;
	const char *hook = c ? conf_str(c, "notify", "webhook_url") : NULL;
	int failed = r->exit != 0;

	if (!c || !wanted(c, failed))
		return;
	if (ping) {
		char *url = ping_url(ping, failed ? "/fail" : "");
		char *text = job_report_text(r);

		post(c, failed ? "ping (fail)" : "ping", url, NULL, text);
		free(url);
		free(text);
	}
	if (hook) {
		json_t *j = job_report_json(r);
		struct err e = ERR_INIT;
		char *body = jtext_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER |
					 JSON_REAL_PRECISION(9), "the report", &e);

		if (body)
			post(c, "webhook", hook, body, NULL);
		else
			log_warn("webhook not sent: %s", e.msg);
		free(body);
		json_decref(j);
	}
}

/*
 * s3_pool: many S3 requests at once on curl's multi interface, so that
 * thousands of small objects cost a few round trips in parallel rather
 * than one each in sequence.  Connections stay open between transfers
 * (the multi handle's cache); a failed try waits for its backoff without
 * holding up the others.
 */
#include "net/s3_int.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/log.h"

struct s3_pool {
	CURLM *m;
	unsigned jobs;
	struct s3_xfer *head, *tail;	/* to start, in order */
	struct s3_xfer *later;		/* waiting for their backoff */
	struct s3_xfer *running;	/* in curl's hands */
	size_t queued, active, waiting;
	int stop;
};

struct s3_pool *s3_pool_new(unsigned jobs)
{
	struct s3_pool *p = xcalloc(1, sizeof(*p));

	p->jobs = jobs ? jobs : 1;
	p->m = curl_multi_init();
	if (!p->m) {
		free(p);
		return NULL;
	}
	curl_multi_setopt(p->m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)p->jobs);
	curl_multi_setopt(p->m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)p->jobs);
	return p;
}

static void push(struct s3_pool *p, struct s3_xfer *x)
{
	x->next = NULL;
	if (p->tail)
		p->tail->next = x;
	else
		p->head = x;
	p->tail = x;
	p->queued++;
}

void s3_pool_add(struct s3_pool *p, struct s3_xfer *x)
{
	x->tries = 0;
	x->not_before = 0;
	push(p, x);
}

size_t s3_pool_pending(const struct s3_pool *p)
{
	return p->queued + p->active + p->waiting;
}

/* Transfers whose backoff is over go back in line. */
static long long wake(struct s3_pool *p)
{
	long long now = s3_now_ms(), next = -1;
	struct s3_xfer **pp = &p->later;

	while (*pp) {
		struct s3_xfer *x = *pp;

		if (x->not_before <= now) {
			*pp = x->next;
			p->waiting--;
			push(p, x);
			continue;
		}
		if (next < 0 || x->not_before - now < next)
			next = x->not_before - now;
		pp = &x->next;
	}
	return next;
}

static void finish(struct s3_xfer *x, int rc, struct err *e)
{
	x->next = NULL;
	x->done(x, rc, e);
}

static void start(struct s3_pool *p)
{
	while (p->head && p->active < p->jobs) {
		struct s3_xfer *x = p->head;
		struct err e = ERR_INIT;

		p->head = x->next;
		if (!p->head)
			p->tail = NULL;
		p->queued--;
		if (s3_try_start(x, &e) < 0) {
			finish(x, -1, &e);
			continue;
		}
		if (curl_multi_add_handle(p->m, x->easy) != CURLM_OK) {
			curl_easy_cleanup(x->easy);
			curl_slist_free_all(x->hdrs);
			x->easy = x->hdrs = NULL;
			err_set(&e, FX_FAIL, "curl: cannot start a transfer");
			finish(x, -1, &e);
			continue;
		}
		x->next = p->running;
		p->running = x;
		p->active++;
	}
}

static void unlink_running(struct s3_pool *p, struct s3_xfer *x)
{
	for (struct s3_xfer **pp = &p->running; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
}

static void reap(struct s3_pool *p)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(p->m, &left))) {
		struct s3_xfer *x = NULL;
		struct err e = ERR_INIT;
		int r;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		r = (int)msg->data.result;
		curl_multi_remove_handle(p->m, msg->easy_handle);
		unlink_running(p, x);
		p->active--;
		r = s3_try_end(x, r, &e);
		if (r > 0 && ++x->tries < S3_TRIES) {
			log_verbose("%s (try %d of %d)", e.msg, x->tries, S3_TRIES);
			x->not_before = s3_now_ms() + s3_backoff_ms(x->tries);
			x->next = p->later;
			p->later = x;
			p->waiting++;
			continue;
		}
		finish(x, r ? -1 : 0, &e);
	}
}

static int step(struct s3_pool *p, struct err *e)
{
	int running;
	CURLMcode mc;

	wake(p);
	start(p);
	mc = curl_multi_perform(p->m, &running);
	if (mc != CURLM_OK)
		return err_set(e, FX_FAIL, "curl: %s", curl_multi_strerror(mc));
	reap(p);
	return 0;
}

int s3_pool_poll(struct s3_pool *p, struct err *e)
{
	return step(p, e);
}

void s3_pool_stop(struct s3_pool *p)
{
	p->stop = 1;
}

int s3_pool_run(struct s3_pool *p, size_t left, struct err *e)
{
	p->stop = 0;
	for (;;) {
		long long next;
		long wait;
		CURLMcode mc;

		if (step(p, e) < 0)
			return -1;
		if (s3_pool_pending(p) <= left || p->stop)
			return 0;
		if (p->head && p->active < p->jobs)
			continue;
		next = wake(p);
		if (p->head && p->active < p->jobs)
			continue;
		wait = next >= 0 && next < 1000 ? (long)next : 1000;
		if (!p->active) {
			usleep((useconds_t)wait * 1000u);
			continue;
		}
		mc = curl_multi_poll(p->m, NULL, 0, (int)wait, NULL);
		if (mc != CURLM_OK)
			return err_set(e, FX_FAIL, "curl: %s",
				       curl_multi_strerror(mc));
	}
}

void s3_pool_free(struct s3_pool *p)
{
	if (!p)
		return;
	/* What still runs is dropped; the transfers belong to the caller. */
	for (struct s3_xfer *x = p->running; x; x = x->next) {
		curl_multi_remove_handle(p->m, x->easy);
		curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->hdrs);
		x->easy = x->hdrs = NULL;
	}
	curl_multi_cleanup(p->m);
	free(p);
}

/*
 * health: the gate after `compose up`.  It waits until every selected
 * service's containers run (and are healthy where the service has a
 * healthcheck) and every health_url answers 2xx, fetched with libcurl
 * through an SSH tunnel so a service bound to the server's loopback
 * counts.  A container that exits fails it at once; anything else not
 * ready by the timeout fails it then.
 */
#ifndef FERRY_DEPLOY_HEALTH_H
#define FERRY_DEPLOY_HEALTH_H

#include "net/compose.h"
#include "util/buf.h"
#include "util/err.h"

struct health_opts {
	const struct strlist *services;	/* to wait for */
	const struct strlist *urls;	/* as the server sees them */
	long long timeout_ms, interval_ms;
};

/* 0 when everything is ready; else -1 with FX_REMOTE (FX_CONN when the
 * server is gone) naming each service or URL that is not ready and its
 * last state, and the services at fault added to failing (none when only
 * URLs failed). */
int health_wait(struct compose *c, struct xport *x,
		const struct health_opts *o, struct strlist *failing,
		struct err *e) __attribute__((warn_unused_result));

/* "running (healthy)", "exited (code 3)": a container's state in words. */
void health_state_text(const struct compose_ctr *c, struct buf *out);

#endif

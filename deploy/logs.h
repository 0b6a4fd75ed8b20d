/*
 * logs: `compose logs` streamed live (ferry logs, remote-logs).  Each line
 * of stdout is parsed ("NAME | TIMESTAMP MESSAGE") and written again, so
 * that with --follow a dropped connection can be retried with backoff and
 * resumed after the last line seen of each container, by `docker logs
 * --since` (compose v1 has no --since), dropping the lines of the same
 * timestamp already shown: nothing is repeated or lost.
 */
#ifndef FERRY_DEPLOY_LOGS_H
#define FERRY_DEPLOY_LOGS_H

#include "net/compose.h"
#include "net/xport.h"
#include "util/err.h"

struct logs_opts {
	const struct xport_opts *server;	/* to reconnect */
	const struct compose_opts *compose;
	const struct strlist *services;		/* empty: all */
	int follow;
	const char *tail;			/* NULL: all */
	const char *since;			/* docker's --since, or NULL */
	int timestamps;				/* show them */
	int stop_fd;				/* readable: stop (Ctrl-C) */
	int retries;				/* reconnections in a row */
};

enum logs_end { LOGS_DONE, LOGS_STOPPED };

/* Streams to stdout (log lines) and stderr (compose's own).  *x and *c
 * are the open server and compose; on a reconnection they are replaced
 * (the caller frees what is there at the end).  -1 with FX_REMOTE when
 * compose fails, FX_CONN when the server cannot be reached again. */
int logs_run(const struct logs_opts *o, struct xport **x, struct compose **c,
	     enum logs_end *end, struct err *e)
	__attribute__((warn_unused_result));

/* For tests: parses "2026-11-30T05:22:26.362296188Z" (fewer digits too);
 * -1 when s does not start with one. */
int logs_parse_ts(const char *s, size_t len, long long *sec, long *nsec,
		  size_t *used);

#endif

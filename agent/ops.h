/*
 * ops: what the compose commands (deploy, up, down, ps, restart, logs,
 * exec) share: the server and compose opened once, service names checked
 * against the project, [group.NAME] resolved, compose run with its output
 * streamed live (stdout and stderr apart).
 */
#ifndef FERRY_AGENT_OPS_H
#define FERRY_AGENT_OPS_H

#include "agent/cli.h"
#include "net/compose.h"
#include "net/xport.h"
#include "util/buf.h"
#include "util/err.h"

struct ops {
	struct cli *cli;
	struct xport *x;
	struct compose *c;
	const char *what;	/* the command, for messages ("ps"), or NULL */
};

#define OPS_INIT { NULL, NULL, NULL, NULL }

/* Loads the configuration, connects, finds compose (its output goes to
 * the user: a compose_dir not there yet fails without the shell's word,
 * and ops_explain() says it). */
int ops_open(struct ops *o, struct cli *cli, struct err *e)
	__attribute__((warn_unused_result));
void ops_close(struct ops *o);

/* remote_dir must be set for deploy: FX_USAGE worded like the config's
 * other missing required keys ("ferry.ini: missing required key ..."). */
int ops_need_remote_dir(const struct conf *c, struct err *e)
	__attribute__((warn_unused_result));

/* Every name must be a service of the project (compose config
 * --services): FX_USAGE naming the first that is not and listing the
 * known ones.  With all, the project's services are appended to it. */
int ops_check_services(struct ops *o, const struct strlist *names,
		       struct strlist *all, struct err *e)
	__attribute__((warn_unused_result));

/* After compose failed (e, FX_REMOTE): when compose_dir does not exist
 * on the server, that is the error ("WHAT: DIR does not exist on HOST yet
 * (not deployed)", still FX_REMOTE); else when one of names is not a
 * service of the project (FX_USAGE, as ops_check_services() words it).
 * Checking only then keeps compose's slow start (seconds for v1) off the
 * way of every command that names services rightly. */
void ops_explain(struct ops *o, const struct strlist *names, struct err *e);

/* Appends [group.NAME]'s services to out; FX_USAGE naming an unknown
 * group and listing the configured ones. */
int ops_group(const struct conf *c, const char *name, struct strlist *out,
	      struct err *e) __attribute__((warn_unused_result));

/* Runs compose with args (then names) on the server, streaming its
 * stdout and stderr to ours; FX_REMOTE "PREFIX VERB on HOST failed: why"
 * when it fails.  Ctrl-C ends it on the server too. */
int ops_compose(struct ops *o, const char *const *args,
		const struct strlist *names, struct err *e)
	__attribute__((warn_unused_result));

/* The services' last n log lines on stderr, under a heading. */
void ops_show_logs(struct ops *o, const struct strlist *services, int n);

/* A compose command with no options of its own, `ferry NAME
 * [SERVICE...]` (services: 1) or `ferry NAME`: compose args [SERVICE...]
 * with the names checked first.  Returns the exit code. */
int ops_passthrough(struct cli *cli, int argc, char **argv,
		    const char *const *args, int services);

/* Adds s to l unless it is there. */
void ops_add_unique(struct strlist *l, const char *s);

#endif

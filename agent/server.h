/*
 * server: [server] of the configuration as the transport's options.  Only
 * the program reads [server]; features are handed the result and open the
 * server when they first need it.
 */
#ifndef FERRY_AGENT_SERVER_H
#define FERRY_AGENT_SERVER_H

#include "net/compose.h"
#include "net/xport.h"
#include "util/buf.h"

struct conf;
struct conf_shown;
struct sshcfg;
struct server_ssh;

struct server {
	struct xport_opts xo;
	struct compose_opts co;	/* [deploy] compose*, project_name */
	struct strlist ids;	/* what xo.ssh.identities points at */
	struct strlist files;	/* what co.files points at */
	char *compose_dir;	/* what co.dir points at */
	struct server_ssh *ssh;	/* ssh_config's part (server_ssh.c) */
};

/* Fills s from c (which must outlive s). */
void server_init(struct server *s, const struct conf *c);
void server_release(struct server *s);

/*
 * agent/server_ssh.c: [server] host resolved through ssh_config the way
 * ssh resolves it; what ferry.ini leaves unset is taken from there (after
 * server_init()).  FX_USAGE for a bad ssh_config, naming FILE:LINE.
 */
int server_ssh_config(struct server *s, const struct conf *c, struct err *e)
	__attribute__((warn_unused_result));
/* " via HOP, HOP" for the route's jump hosts, or "". */
const char *server_route(const struct server *s);
/* The values ssh_config gave, for `ferry config`. */
const struct conf_shown *server_shown(const struct server *s, size_t *n);
/* Resolves host as [server] would be (ferry.ini's user and port taking
 * the place of ssh's -l and -p), for `ferry config --ssh HOST`.  Release
 * *out with sshcfg_release() either way. */
int server_ssh_resolve(const struct conf *c, const char *host,
		       struct sshcfg *out, struct err *e)
	__attribute__((warn_unused_result));
void server_ssh_release(struct server *s);

#endif

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

struct server {
	struct xport_opts xo;
	struct compose_opts co;	/* [deploy] compose*, project_name */
	struct strlist ids;	/* what xo.ssh.identities points at */
	struct strlist files;	/* what co.files points at */
	char *compose_dir;	/* what co.dir points at */
};

/* Fills s from c (which must outlive s). */
void server_init(struct server *s, const struct conf *c);
void server_release(struct server *s);

#endif

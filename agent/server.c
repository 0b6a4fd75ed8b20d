#include "agent/server.h"

#include <string.h>

#include "conf/conf.h"

static enum ssh_hostkey_policy policy_of(const char *s)
{
	if (!strcmp(s, "accept-new"))
		return HK_ACCEPT_NEW;
	if (!strcmp(s, "off"))
		return HK_OFF;
	return HK_STRICT;
}

void server_init(struct server *s, const struct conf *c)
{
	struct ssh_opts *o = &s->xo.ssh;

	memset(s, 0, sizeof(*s));
	s->xo.local = conf_is_local(c);
	if (s->xo.local)
		return;
	conf_list(c, "server", "identity", &s->ids);
	o->host = conf_str(c, "server", "host");
	o->port = (int)conf_num(c, "server", "port");
	o->user = conf_str(c, "server", "user");
	o->identities = &s->ids;
	o->known_hosts = conf_str(c, "server", "known_hosts");
	o->policy = policy_of(conf_str(c, "server", "host_key_check"));
	o->connect_timeout_ms = conf_num(c, "server", "connect_timeout");
	o->keepalive_ms = conf_num(c, "server", "keepalive");
}

void server_release(struct server *s)
{
	strlist_release(&s->ids);
	memset(s, 0, sizeof(*s));
}

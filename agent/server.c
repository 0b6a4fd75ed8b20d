#include "agent/server.h"

#include <stdlib.h>
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

/* compose runs in remote_dir/compose_dir (remote_dir may be unset for a
 * backup-only config: then the login directory). */
static void compose_init(struct server *s, const struct conf *c)
{
	const char *rdir = conf_str(c, "project", "remote_dir");
	const char *cdir = conf_str(c, "deploy", "compose_dir");

	if (cdir && *cdir == '/')
		s->compose_dir = xstrdup(cdir);
	else if (rdir && *rdir && cdir && *cdir && strcmp(cdir, "."))
		s->compose_dir = xstrfmt("%s/%s", rdir, cdir);
	else if (rdir && *rdir)
		s->compose_dir = xstrdup(rdir);
	else
		s->compose_dir = xstrdup(cdir ? cdir : ".");
	conf_list(c, "deploy", "compose_files", &s->files);
	s->co.prefix = conf_str(c, "deploy", "compose");
	s->co.dir = s->compose_dir;
	s->co.files = &s->files;
	s->co.project = conf_str(c, "deploy", "project_name");
}

void server_init(struct server *s, const struct conf *c)
{
	struct ssh_opts *o = &s->xo.ssh;

	memset(s, 0, sizeof(*s));
	compose_init(s, c);
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
	o->keepalive_count = (int)conf_num(c, "server", "keepalive_count");
}

void server_release(struct server *s)
{
	server_ssh_release(s);
	strlist_release(&s->ids);
	strlist_release(&s->files);
	free(s->compose_dir);
	memset(s, 0, sizeof(*s));
}

/*
 * [server] through ssh_config.  ferry.ini's [server] keys are read first
 * (server.c); here host is resolved the way `ssh host` resolves it, and
 * every key ferry.ini leaves unset takes ssh_config's value, when a line
 * of it sets one, before ferry's own default.  ferry.ini's user and port
 * act as ssh's -l and -p: Match user and %r see them.
 *
 * ProxyJump hops are resolved here too, each through ssh_config as ssh
 * resolves them (the first with its own route, the others reached through
 * the hop before), into a chain of ssh_opts that net/ssh.c is to follow.
 */
#include "agent/server.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "net/ssh_config.h"
#include "util/log.h"

#define MAX_HOPS 8

/* One ProxyJump hop, resolved and turned into transport options. */
struct hop {
	struct sshcfg cfg;
	struct ssh_opts o;
	struct strlist ids, also;
	char *agent, *proxy_command;
};

struct server_ssh {
	struct sshcfg cfg;		/* [server] host */
	struct strlist also;		/* what xo.ssh.known_hosts_also is */
	char *agent;			/* what xo.ssh.identity_agent is */
	char *proxy_command;
	struct hop **hops;
	size_t nhops;
	struct buf route;		/* " via a, b" */
	struct strlist pool;		/* the rows' strings */
	struct conf_shown *rows;
	size_t nrows;
	struct strlist warned;		/* ssh_config warnings said */
};

static int is_set(const struct conf *c, const char *key)
{
	return conf_is_set(c, "server", key);
}

/* The files, as [server] ssh_config says; 0 when it says no. */
static int query_files(const struct conf *c, struct sshcfg_query *q,
		       char **path)
{
	const char *v = conf_str(c, "server", "ssh_config");
	const char *cpath = conf_path(c), *slash = strrchr(cpath, '/');

	*path = NULL;
	if (!is_set(c, "ssh_config")) {
		/* ssh's two files: the user's (refused when others may
		 * write it, as ssh refuses it) and the system's. */
		*path = xstrfmt("%s/.ssh/config", q->home);
		q->user_file = *path;
		q->system_file = "/etc/ssh/ssh_config";
		q->check_perms = 1;
		return 1;
	}
	if (!strcmp(v, "no") || !strcmp(v, "none"))
		return 0;
	if (v[0] == '~' && (v[1] == '/' || v[1] == '\0'))
		*path = xstrfmt("%s%s", q->home, v + 1);
	else if (v[0] == '/' || !slash)
		*path = xstrdup(v);
	else	/* relative to ferry.ini, as its other paths */
		*path = xstrfmt("%.*s/%s", (int)(slash - cpath), cpath, v);
	q->user_file = *path;
	q->must_exist = 1;
	return 1;
}

int server_ssh_resolve(const struct conf *c, const char *host,
		       struct sshcfg *out, struct err *e)
{
	struct sshcfg_query q;
	char *path;
	int r;

	sshcfg_query_init(&q);
	q.host = host;
	q.user = is_set(c, "user") ? conf_str(c, "server", "user") : NULL;
	q.port = is_set(c, "port") ? (int)conf_num(c, "server", "port") : 0;
	query_files(c, &q, &path);
	r = sshcfg_resolve(&q, out, e);
	free(path);
	return r;
}

/* Each hop reads the same files: a warning about a line in them is said
 * once, not once per hop. */
static void warn_all(struct server_ssh *x, const struct sshcfg *r)
{
	for (size_t i = 0; i < r->warnings.n; i++) {
		const char *w = r->warnings.v[i];
		int said = 0;

		for (size_t j = 0; j < x->warned.n && !said; j++)
			said = !strcmp(x->warned.v[j], w);
		if (said)
			continue;
		strlist_add(&x->warned, w);
		log_warn("%s", w);
	}
}

static enum ssh_hostkey_policy policy_of(enum sshcfg_strict s)
{
	/* ask: nobody is there to answer, so as yes. */
	return s == SSHCFG_STRICT_NEW ? HK_ACCEPT_NEW :
	       s == SSHCFG_STRICT_OFF ? HK_OFF : HK_STRICT;
}

/* IdentityAgent as the socket to use: NULL for $SSH_AUTH_SOCK, "none". */
static char *agent_of(const struct sshcfg *r)
{
	const char *v = r->identity_agent, *env;

	if (!v)
		return NULL;
	if (!strcmp(v, "none"))
		return xstrdup("none");
	if (!strcmp(v, "SSH_AUTH_SOCK") || v[0] == '$') {
		env = getenv(v[0] == '$' ? v + 1 : v);
		return xstrdup(env && *env ? env : "none");
	}
	return xstrdup(v);
}

/* The known_hosts files: *first is written to, also only read. */
static void known_hosts(const struct sshcfg *r, int take_user,
			const char **first, struct strlist *also)
{
	if (take_user) {
		*first = r->user_known_hosts.n ? r->user_known_hosts.v[0] : NULL;
		for (size_t i = 1; i < r->user_known_hosts.n; i++)
			strlist_add(also, r->user_known_hosts.v[i]);
	}
	for (size_t i = 0; i < r->global_known_hosts.n; i++)
		strlist_add(also, r->global_known_hosts.v[i]);
}

static void hop_free(struct hop *h)
{
	sshcfg_release(&h->cfg);
	strlist_release(&h->ids);
	strlist_release(&h->also);
	free(h->agent);
	free(h->proxy_command);
	free(h);
}

static int chain(struct server_ssh *x, const struct conf *c,
		 const struct sshcfg *r, const struct ssh_opts **jump,
		 char **proxy_command, int depth, struct err *e);

/* A hop is resolved as `ssh -l USER -p PORT HOST` would be: ssh_config
 * and ssh's defaults alone (ferry.ini's keys are the target's), with
 * ferry's timeouts.  With own_route its ProxyJump or ProxyCommand is
 * followed too (the first hop); the others are reached through the hop
 * before them, as ssh -J does. */
static struct hop *new_hop(struct server_ssh *x, const struct conf *c,
			   const struct sshcfg_hop *spec, int own_route,
			   int depth, struct err *e)
{
	struct hop *h = xcalloc(1, sizeof(*h));
	struct sshcfg_query q;
	char *path;
	int r;

	sshcfg_query_init(&q);
	q.host = spec->host;
	q.user = spec->user;
	q.port = spec->port > 0 ? spec->port : 0;
	query_files(c, &q, &path);
	r = sshcfg_resolve(&q, &h->cfg, e);
	free(path);
	if (r < 0) {
		err_wrap(e, "ProxyJump %s", spec->host);
		hop_free(h);
		return NULL;
	}
	warn_all(x, &h->cfg);
	h->o.host = h->cfg.hostname;
	h->o.port = h->cfg.port;
	h->o.user = h->cfg.user;
	if (h->cfg.identity_at.n)
		for (size_t i = 0; i < h->cfg.identity_paths.n; i++)
			strlist_add(&h->ids, h->cfg.identity_paths.v[i]);
	h->o.identities = &h->ids;
	known_hosts(&h->cfg, 1, &h->o.known_hosts, &h->also);
	h->o.known_hosts_also = &h->also;
	h->o.policy = policy_of(h->cfg.strict);
	h->o.hop = 1;
	h->o.connect_timeout_ms = conf_num(c, "server", "connect_timeout");
	if (h->cfg.connect_timeout > 0)
		h->o.connect_timeout_ms = h->cfg.connect_timeout * 1000LL;
	h->o.keepalive_ms = h->cfg.alive_interval_at ?
			    h->cfg.alive_interval * 1000LL :
			    conf_num(c, "server", "keepalive");
	h->o.keepalive_count = h->cfg.alive_count_at ?
			       (h->cfg.alive_count > 0 ? h->cfg.alive_count : 1) :
			       (int)conf_num(c, "server", "keepalive_count");
	h->o.host_key_alias = h->cfg.host_key_alias;
	h->o.hash_known_hosts = h->cfg.hash_known_hosts;
	h->o.identities_only = h->cfg.identities_only;
	h->agent = agent_of(&h->cfg);
	h->o.identity_agent = h->agent;
	if (own_route && chain(x, c, &h->cfg, &h->o.jump, &h->proxy_command,
			       depth + 1, e) < 0) {
		hop_free(h);
		return NULL;
	}
	h->o.proxy_command = h->proxy_command;
	return h;
}

static int chain(struct server_ssh *x, const struct conf *c,
		 const struct sshcfg *r, const struct ssh_opts **jump,
		 char **proxy_command, int depth, struct err *e)
{
	const struct ssh_opts *via = NULL;

	if (r->proxy_command && !r->nhops) {
		*proxy_command = sshcfg_proxy_command(r, e);
		return *proxy_command ? 0 : -1;
	}
	if (r->nhops && depth >= MAX_HOPS)
		return err_set(e, FX_USAGE, "%s: ProxyJump: more than %d hops "
			       "(does the route loop?)", r->proxy_jump_at,
			       MAX_HOPS);
	for (size_t i = 0; i < r->nhops; i++) {
		struct hop *h = new_hop(x, c, &r->hops[i], i == 0, depth, e);

		if (!h)
			return -1;
		if (i > 0)
			h->o.jump = via;
		x->hops = xrealloc(x->hops, (x->nhops + 1) * sizeof(*x->hops));
		x->hops[x->nhops++] = h;
		buf_printf(&x->route, "%s%s", x->route.len ? ", " : " via ",
			   r->hops[i].host);
		via = &h->o;
	}
	*jump = via;
	return 0;
}

/* ---- what `ferry config` shows ------------------------------------- */

static void row(struct server_ssh *x, const char *name, char *value,
		char *origin)
{
	strlist_add_take(&x->pool, value);
	strlist_add_take(&x->pool, origin);
	x->rows = xrealloc(x->rows, (x->nrows + 1) * sizeof(*x->rows));
	x->rows[x->nrows++] = (struct conf_shown){
		"server", name, x->pool.v[x->pool.n - 2],
		x->pool.v[x->pool.n - 1],
	};
}

static char *joined(const struct strlist *l, const char *sep, int uniq)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "");
	for (size_t i = 0; i < l->n; i++) {
		int seen = 0;

		for (size_t j = 0; uniq && j < i && !seen; j++)
			seen = !strcmp(l->v[i], l->v[j]);
		if (!seen)
			buf_printf(&b, "%s%s", b.len ? sep : "", l->v[i]);
	}
	return buf_detach(&b, NULL);
}

static void rows_mapped(struct server_ssh *x, const struct conf *c)
{
	static const char *const policy[] = { "strict", "accept-new", "off" };
	const struct sshcfg *r = &x->cfg;

	if (r->port_at && !is_set(c, "port"))
		row(x, "port", xstrfmt("%d", r->port), xstrdup(r->port_at));
	if (r->user_at && !is_set(c, "user"))
		row(x, "user", xstrdup(r->user), xstrdup(r->user_at));
	if (r->identity_at.n && !is_set(c, "identity"))
		row(x, "identity", joined(&r->identity_paths, ", ", 0),
		    joined(&r->identity_at, ", ", 1));
	if (r->user_known_hosts_at && !is_set(c, "known_hosts"))
		row(x, "known_hosts", r->user_known_hosts.n ?
		    joined(&r->user_known_hosts, " ", 0) : xstrdup("none"),
		    xstrdup(r->user_known_hosts_at));
	if (r->strict_at && !is_set(c, "host_key_check"))
		row(x, "host_key_check", xstrdup(policy[policy_of(r->strict)]),
		    xstrdup(r->strict_at));
	if (r->connect_timeout_at && r->connect_timeout > 0 &&
	    !is_set(c, "connect_timeout"))
		row(x, "connect_timeout", xstrfmt("%ds", r->connect_timeout),
		    xstrdup(r->connect_timeout_at));
	if (r->alive_interval_at && !is_set(c, "keepalive"))
		row(x, "keepalive", xstrfmt("%ds", r->alive_interval),
		    xstrdup(r->alive_interval_at));
}

/* ssh_config's own keywords, where a line set them. */
static void rows_ssh(struct server_ssh *x)
{
	const struct sshcfg *r = &x->cfg;

	if (r->hostname_at)
		row(x, "HostName", xstrdup(r->hostname), xstrdup(r->hostname_at));
	if (r->proxy_jump)
		row(x, "ProxyJump", xstrdup(r->proxy_jump),
		    xstrdup(r->proxy_jump_at));
	if (r->proxy_command)
		row(x, "ProxyCommand", xstrdup(r->proxy_command),
		    xstrdup(r->proxy_command_at));
	if (r->host_key_alias)
		row(x, "HostKeyAlias", xstrdup(r->host_key_alias),
		    xstrdup(r->host_key_alias_at));
	if (r->hash_known_hosts_at)
		row(x, "HashKnownHosts", xstrdup(r->hash_known_hosts ? "yes" :
		    "no"), xstrdup(r->hash_known_hosts_at));
	if (r->identities_only_at)
		row(x, "IdentitiesOnly", xstrdup(r->identities_only ? "yes" :
		    "no"), xstrdup(r->identities_only_at));
	if (r->identity_agent)
		row(x, "IdentityAgent", xstrdup(r->identity_agent),
		    xstrdup(r->identity_agent_at));
	if (r->global_known_hosts_at)
		row(x, "GlobalKnownHostsFile", r->global_known_hosts.n ?
		    joined(&r->global_known_hosts, " ", 0) : xstrdup("none"),
		    xstrdup(r->global_known_hosts_at));
	if (r->alive_count_at)
		row(x, "ServerAliveCountMax", xstrfmt("%d", r->alive_count),
		    xstrdup(r->alive_count_at));
}

/* ---- [server] under ferry.ini --------------------------------------- */

static void apply(struct server *s, const struct conf *c, struct server_ssh *x)
{
	struct ssh_opts *o = &s->xo.ssh;
	const struct sshcfg *r = &x->cfg;

	o->host = r->hostname;
	if (r->port_at && !is_set(c, "port"))
		o->port = r->port;
	if (r->user_at && !is_set(c, "user"))
		o->user = r->user;
	if (r->identity_at.n && !is_set(c, "identity")) {
		strlist_release(&s->ids);
		for (size_t i = 0; i < r->identity_paths.n; i++)
			strlist_add(&s->ids, r->identity_paths.v[i]);
	}
	known_hosts(r, r->user_known_hosts_at && !is_set(c, "known_hosts"),
		    &o->known_hosts, &x->also);
	o->known_hosts_also = &x->also;
	if (r->strict_at && !is_set(c, "host_key_check"))
		o->policy = policy_of(r->strict);
	/* ConnectTimeout none or 0 means no timeout to ssh; ferry keeps
	 * its own, since nothing may wait forever. */
	if (r->connect_timeout_at && r->connect_timeout > 0 &&
	    !is_set(c, "connect_timeout"))
		o->connect_timeout_ms = r->connect_timeout * 1000LL;
	if (r->alive_interval_at && !is_set(c, "keepalive"))
		o->keepalive_ms = r->alive_interval * 1000LL;
	/* ssh gives up after CountMax unanswered keepalives, at once for
	 * 0; the kernel's probe count is at least 1. */
	if (r->alive_count_at && !is_set(c, "keepalive_count"))
		o->keepalive_count = r->alive_count > 0 ? r->alive_count : 1;
	o->host_key_alias = r->host_key_alias;
	o->hash_known_hosts = r->hash_known_hosts;
	o->identities_only = r->identities_only;
	x->agent = agent_of(r);
	o->identity_agent = x->agent;
}

int server_ssh_config(struct server *s, const struct conf *c, struct err *e)
{
	struct server_ssh *x;
	struct sshcfg_query probe;
	char *path;

	if (s->xo.local)
		return 0;
	sshcfg_query_init(&probe);
	if (!query_files(c, &probe, &path))
		return 0;	/* ssh_config = no: ferry.ini alone */
	free(path);
	x = xcalloc(1, sizeof(*x));
	s->ssh = x;
	if (server_ssh_resolve(c, conf_str(c, "server", "host"), &x->cfg, e) < 0)
		return -1;
	warn_all(x, &x->cfg);
	apply(s, c, x);
	rows_mapped(x, c);
	rows_ssh(x);
	if (chain(x, c, &x->cfg, &s->xo.ssh.jump, &x->proxy_command, 0, e) < 0)
		return -1;
	s->xo.ssh.proxy_command = x->proxy_command;
	return 0;
}

const char *server_route(const struct server *s)
{
	return s->ssh ? buf_str(&s->ssh->route) : "";
}

const struct conf_shown *server_shown(const struct server *s, size_t *n)
{
	*n = s->ssh ? s->ssh->nrows : 0;
	return s->ssh ? s->ssh->rows : NULL;
}

void server_ssh_release(struct server *s)
{
	struct server_ssh *x = s->ssh;

	if (!x)
		return;
	sshcfg_release(&x->cfg);
	strlist_release(&x->also);
	free(x->agent);
	free(x->proxy_command);
	for (size_t i = 0; i < x->nhops; i++)
		hop_free(x->hops[i]);
	free(x->hops);
	buf_release(&x->route);
	strlist_release(&x->pool);
	strlist_release(&x->warned);
	free(x->rows);
	free(x);
	s->ssh = NULL;
}

/*
 * From options to the resolution, as ssh.c's main() does it: the first
 * pass, HostName's %h, addresses in their canonical form, the second pass
 * when a Match asks for one, ssh's defaults, and the %-tokens and ~ of the
 * values ssh expands before it connects.
 */
#include "net/ssh_config_int.h"

#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_PORT 22

void sshcfg_query_init(struct sshcfg_query *q)
{
	static char thishost[256];
	static char user[256], dir[4096];
	struct passwd *pw = getpwuid(getuid());

	memset(q, 0, sizeof(*q));
	snprintf(user, sizeof(user), "%s", pw ? pw->pw_name : "root");
	snprintf(dir, sizeof(dir), "%s", pw ? pw->pw_dir : "/");
	if (gethostname(thishost, sizeof(thishost)) < 0)
		snprintf(thishost, sizeof(thishost), "localhost");
	thishost[sizeof(thishost) - 1] = '\0';
	q->local_user = user;
	q->pw_dir = dir;
	q->home = getenv("HOME");
	if (!q->home || !*q->home)
		q->home = dir;
	q->uid = (unsigned long)getuid();
	q->thishost = thishost;
}

/* is_addr(): a name that can only be an address, or that parses as one. */
static int is_addr(const char *name)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	int one;

	if (strchr(name, '%') || strchr(name, ':') ||
	    strspn(name, "0123456789.") == strlen(name))
		return 1;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(name, "22", &hints, &res) != 0)
		return 0;
	one = res && !res->ai_next;
	freeaddrinfo(res);
	return one;
}

/* resolve_addr(): an address in its canonical form ("127.1" is
 * 127.0.0.1), numerically, without a lookup. */
static void canonical_addr(char **host, int port)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char addr[NI_MAXHOST], portstr[16];

	snprintf(portstr, sizeof(portstr), "%d", port > 0 ? port : DEFAULT_PORT);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(*host, portstr, &hints, &res) != 0)
		return;
	if (res && !res->ai_next &&
	    getnameinfo(res->ai_addr, res->ai_addrlen, addr, sizeof(addr),
			NULL, 0, NI_NUMERICHOST) == 0 &&
	    strcasecmp(*host, addr) != 0) {
		free(*host);
		*host = xstrdup(addr);
	}
	freeaddrinfo(res);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* The tokens ssh expands in UserKnownHostsFile, IdentityFile and
 * IdentityAgent (DEFAULT_CLIENT_PERCENT_EXPAND_ARGS). */
struct tokens {
	char port[16], uid[32];
	char *hash, *shorthost;
	struct sshcfg_token t[11];
};

static void tokens_init(struct tokens *k, const struct sshcfg_query *q,
			const struct sshcfg *c)
{
	snprintf(k->port, sizeof(k->port), "%d", c->port);
	snprintf(k->uid, sizeof(k->uid), "%lu", q->uid);
	k->hash = sshcfg_conn_hash(q->thishost, c->hostname, k->port, c->user);
	k->shorthost = xstrndup(q->thishost, strcspn(q->thishost, "."));
	k->t[0] = (struct sshcfg_token){ 'C', k->hash };
	k->t[1] = (struct sshcfg_token){ 'L', k->shorthost };
	k->t[2] = (struct sshcfg_token){ 'i', k->uid };
	k->t[3] = (struct sshcfg_token){ 'k', c->host_key_alias ?
					 c->host_key_alias : c->host_arg };
	k->t[4] = (struct sshcfg_token){ 'l', q->thishost };
	k->t[5] = (struct sshcfg_token){ 'n', c->host_arg };
	k->t[6] = (struct sshcfg_token){ 'p', k->port };
	k->t[7] = (struct sshcfg_token){ 'd', q->pw_dir };
	k->t[8] = (struct sshcfg_token){ 'h', c->hostname };
	k->t[9] = (struct sshcfg_token){ 'r', c->user };
	k->t[10] = (struct sshcfg_token){ 'u', q->local_user };
}

static void tokens_release(struct tokens *k)
{
	free(k->hash);
	free(k->shorthost);
}

/* ~ then tokens then ${VAR}s, as ssh does for a path it is about to use. */
static char *expand_path(const struct sshcfg_query *q,
			 const struct tokens *k, const char *what,
			 const char *value, const char *at, struct err *e)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	char *t = sshcfg_tilde(value, q->pw_dir);

	if (!t) {
		err_set(e, FX_USAGE, "%s: %s %s: no such user", at ? at : "ssh",
			what, value);
		goto fail;
	}
	if (sshcfg_expand(t, k->t, sizeof(k->t) / sizeof(k->t[0]), 1, &out,
			  &why) < 0) {
		err_set(e, FX_USAGE, "%s: %s %s: %s", at ? at : "ssh", what,
			value, buf_str(&why));
		goto fail;
	}
	free(t);
	buf_release(&why);
	return buf_detach(&out, NULL);
fail:
	free(t);
	buf_release(&out);
	buf_release(&why);
	return NULL;
}

/* ProxyJump as `ssh -G` prints it, and its hops in order. */
static int fill_jump(struct sshcfg *c, struct sshcfg_opts *o, struct err *e)
{
	char numeric, *spec, *p, *tok;

	numeric = strchr(o->jump_host, ':') ||
		  strspn(o->jump_host, "1234567890.") == strlen(o->jump_host);
	{
		struct buf b = BUF_INIT;

		if (o->jump_extra)
			buf_printf(&b, "%s,", o->jump_extra);
		if (o->jump_user)
			buf_printf(&b, "%s@", o->jump_user);
		buf_printf(&b, numeric ? "[%s]" : "%s", o->jump_host);
		if (o->jump_port > 0)
			buf_printf(&b, ":%d", o->jump_port);
		c->proxy_jump = buf_detach(&b, NULL);
	}
	c->proxy_jump_at = dup_or_null(o->jump_at);
	spec = p = xstrdup(o->jump_spec ? o->jump_spec : o->jump_host);
	while ((tok = strsep(&p, ",")) != NULL) {
		struct sshcfg_hop h = { NULL, NULL, -1 };

		if (sshcfg_parse_hop(tok, &h.user, &h.host, &h.port) < 0) {
			free(spec);
			return err_set(e, FX_USAGE, "%s: invalid ProxyJump hop "
				       "'%s'", o->jump_at, tok);
		}
		c->hops = xrealloc(c->hops, (c->nhops + 1) * sizeof(*c->hops));
		c->hops[c->nhops++] = h;
	}
	free(spec);
	return 0;
}

/* The known_hosts lists: "none" alone empties one (ssh.c). */
static int fill_hostfiles(struct strlist *list, const char *what,
			  const char *at, struct err *e)
{
	if (list->n == 0 || strcasecmp(list->v[0], "none"))
		return 0;
	if (list->n > 1)
		return err_set(e, FX_USAGE, "%s: %s none must stand alone",
			       at ? at : "ssh", what);
	strlist_release(list);
	return 0;
}

static void take(struct strlist *to, struct strlist *from)
{
	*to = *from;
	memset(from, 0, sizeof(*from));
}

/* fill_default_options() and the rest of main() before `ssh -G` prints. */
static int fill(const struct sshcfg_query *q, struct sshcfg_opts *o,
		struct sshcfg *c, struct err *e)
{
	static const char *const default_ids[] = {
		"~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk",
		"~/.ssh/id_ed25519", "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss",
		"~/.ssh/id_dsa", NULL,
	};
	struct tokens k;
	int rc = -1;

	c->user = xstrdup(o->user.v ? o->user.v : q->local_user);
	c->user_at = dup_or_null(o->user.at);
	c->port = o->port.v > 0 ? o->port.v : DEFAULT_PORT;
	c->port_at = dup_or_null(o->port.at);
	if (o->jump_host && !strcmp(o->jump_host, "none") &&
	    o->jump_port == 0 && !o->jump_user) {
		free(o->jump_host);
		o->jump_host = NULL;
	}
	if (o->proxy_command.v && !strcasecmp(o->proxy_command.v, "none")) {
		free(o->proxy_command.v);
		o->proxy_command.v = NULL;
	}
	if (o->jump_host) {
		const char *ju = o->jump_user ? o->jump_user : c->user;
		int jp = o->jump_port > 0 ? o->jump_port : DEFAULT_PORT;

		if (!strcmp(o->jump_host, c->hostname) && jp == c->port &&
		    !strcmp(ju, c->user))
			return err_set(e, FX_USAGE, "%s: ProxyJump loops: %s is "
				       "the host itself", o->jump_at,
				       o->jump_host);
		if (fill_jump(c, o, e) < 0)
			return -1;
	} else if (o->proxy_command.v) {
		c->proxy_command = xstrdup(o->proxy_command.v);
		c->proxy_command_at = dup_or_null(o->proxy_command.at);
	}
	if (o->host_key_alias.v) {
		c->host_key_alias = xstrdup(o->host_key_alias.v);
		sshcfg_lower(c->host_key_alias);
		c->host_key_alias_at = dup_or_null(o->host_key_alias.at);
	}
	c->strict = o->strict.v >= 0 ? (enum sshcfg_strict)o->strict.v :
		    SSHCFG_STRICT_ASK;
	c->strict_at = dup_or_null(o->strict.at);
	c->identities_only = o->identities_only.v > 0;
	c->identities_only_at = dup_or_null(o->identities_only.at);
	c->hash_known_hosts = o->hash_known_hosts.v > 0;
	c->hash_known_hosts_at = dup_or_null(o->hash_known_hosts.at);
	c->connect_timeout = o->connect_timeout.v;
	c->connect_timeout_at = dup_or_null(o->connect_timeout.at);
	c->alive_interval = o->alive_interval.v >= 0 ? o->alive_interval.v : 0;
	c->alive_interval_at = dup_or_null(o->alive_interval.at);
	c->alive_count = o->alive_count.v >= 0 ? o->alive_count.v : 3;
	c->alive_count_at = dup_or_null(o->alive_count.at);

	if (o->global_kh.n == 0) {
		strlist_add(&o->global_kh, "/etc/ssh/ssh_known_hosts");
		strlist_add(&o->global_kh, "/etc/ssh/ssh_known_hosts2");
	}
	if (o->user_kh.n == 0) {
		strlist_add(&o->user_kh, "~/.ssh/known_hosts");
		strlist_add(&o->user_kh, "~/.ssh/known_hosts2");
	}
	c->global_known_hosts_at = dup_or_null(o->global_kh_at);
	c->user_known_hosts_at = dup_or_null(o->user_kh_at);
	if (fill_hostfiles(&o->global_kh, "GlobalKnownHostsFile",
			   o->global_kh_at, e) < 0 ||
	    fill_hostfiles(&o->user_kh, "UserKnownHostsFile", o->user_kh_at,
			   e) < 0)
		return -1;
	take(&c->global_known_hosts, &o->global_kh);

	tokens_init(&k, q, c);
	if (o->identity_agent.v) {
		c->identity_agent = expand_path(q, &k, "IdentityAgent",
						o->identity_agent.v,
						o->identity_agent.at, e);
		if (!c->identity_agent)
			goto out;
		c->identity_agent_at = dup_or_null(o->identity_agent.at);
	}
	for (size_t i = 0; i < o->user_kh.n; i++) {
		char *p = expand_path(q, &k, "UserKnownHostsFile",
				      o->user_kh.v[i], o->user_kh_at, e);

		if (!p)
			goto out;
		strlist_add_take(&c->user_known_hosts, p);
	}
	if (o->ids.n == 0)
		for (size_t i = 0; default_ids[i]; i++)
			strlist_add(&o->ids, default_ids[i]);
	take(&c->identity_files, &o->ids);
	take(&c->identity_at, &o->ids_at);
	for (size_t i = 0; i < c->identity_files.n; i++) {
		char *p = expand_path(q, &k, "IdentityFile",
				      c->identity_files.v[i],
				      i < c->identity_at.n ?
				      c->identity_at.v[i] : NULL, e);

		if (!p)
			goto out;
		strlist_add_take(&c->identity_paths, p);
	}
	rc = 0;
out:
	tokens_release(&k);
	return rc;
}

int sshcfg_resolve(const struct sshcfg_query *q, struct sshcfg *c,
		   struct err *e)
{
	struct sshcfg_opts o;
	int want_final = 0, rc = -1;
	char *host;

	memset(c, 0, sizeof(*c));
	sshcfg_opts_init(&o);
	c->host_arg = xstrdup(q->host);
	host = xstrdup(q->host);
	if (q->user)
		o.user.v = xstrdup(q->user);
	if (q->port > 0)
		o.port.v = q->port;
	if (sshcfg_read(q, &o, host, 0, &want_final, &c->warnings, e) < 0)
		goto out;
	if (o.hostname.v) {
		const struct sshcfg_token t[] = { { 'h', host } };
		struct buf b = BUF_INIT, why = BUF_INIT;

		if (sshcfg_expand(o.hostname.v, t, 1, 0, &b, &why) < 0) {
			err_set(e, FX_USAGE, "%s: HostName %s: %s", o.hostname.at,
				o.hostname.v, buf_str(&why));
			buf_release(&b);
			buf_release(&why);
			goto out;
		}
		buf_release(&why);
		free(host);
		host = buf_detach(&b, NULL);
		free(o.hostname.v);
		o.hostname.v = xstrdup(host);
	}
	/* Names are lowercased, addresses put in their canonical form;
	 * names are never canonicalised through DNS (see the warning). */
	if (!is_addr(host))
		sshcfg_lower(host);
	else
		canonical_addr(&host, o.port.v);
	if (o.canonicalize.v > 0)
		want_final = 1;
	if (want_final) {
		free(o.hostname.v);
		o.hostname.v = xstrdup(host);
		if (sshcfg_read(q, &o, host, 1, NULL, &c->warnings, e) < 0)
			goto out;
	}
	c->hostname = host;
	host = NULL;
	c->hostname_at = dup_or_null(o.hostname.at);
	rc = fill(q, &o, c, e);
out:
	free(host);
	sshcfg_opts_release(&o);
	return rc;
}

void sshcfg_release(struct sshcfg *c)
{
	char **strs[] = {
		&c->host_arg, &c->hostname, &c->hostname_at, &c->user,
		&c->user_at, &c->port_at, &c->identities_only_at,
		&c->identity_agent, &c->identity_agent_at, &c->proxy_jump,
		&c->proxy_jump_at, &c->proxy_command, &c->proxy_command_at,
		&c->user_known_hosts_at, &c->global_known_hosts_at,
		&c->strict_at, &c->host_key_alias, &c->host_key_alias_at,
		&c->hash_known_hosts_at, &c->connect_timeout_at,
		&c->alive_interval_at, &c->alive_count_at,
	};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	for (size_t i = 0; i < c->nhops; i++) {
		free(c->hops[i].user);
		free(c->hops[i].host);
	}
	free(c->hops);
	strlist_release(&c->identity_files);
	strlist_release(&c->identity_paths);
	strlist_release(&c->identity_at);
	strlist_release(&c->user_known_hosts);
	strlist_release(&c->global_known_hosts);
	strlist_release(&c->warnings);
	memset(c, 0, sizeof(*c));
}

static void list_line(struct buf *out, const char *kw, const struct strlist *l)
{
	buf_addstr(out, kw);
	if (l->n == 0)
		buf_addstr(out, " none");
	for (size_t i = 0; i < l->n; i++)
		buf_printf(out, " %s", l->v[i]);
	buf_addch(out, '\n');
}

void sshcfg_format(const struct sshcfg *c, struct buf *out)
{
	static const char *const strict[] = {
		[SSHCFG_STRICT_ASK] = "ask", [SSHCFG_STRICT_YES] = "true",
		[SSHCFG_STRICT_NEW] = "accept-new",
		[SSHCFG_STRICT_OFF] = "false",
	};

	buf_printf(out, "user %s\nhostname %s\nport %d\n", c->user, c->hostname,
		   c->port);
	buf_printf(out, "hashknownhosts %s\n", c->hash_known_hosts ? "yes" : "no");
	buf_printf(out, "identitiesonly %s\n", c->identities_only ? "yes" : "no");
	buf_printf(out, "stricthostkeychecking %s\n", strict[c->strict]);
	buf_printf(out, "serveralivecountmax %d\n", c->alive_count);
	buf_printf(out, "serveraliveinterval %d\n", c->alive_interval);
	if (c->host_key_alias)
		buf_printf(out, "hostkeyalias %s\n", c->host_key_alias);
	if (c->identity_agent)
		buf_printf(out, "identityagent %s\n", c->identity_agent);
	for (size_t i = 0; i < c->identity_files.n; i++)
		buf_printf(out, "identityfile %s\n", c->identity_files.v[i]);
	list_line(out, "globalknownhostsfile", &c->global_known_hosts);
	list_line(out, "userknownhostsfile", &c->user_known_hosts);
	if (c->connect_timeout < 0)
		buf_addstr(out, "connecttimeout none\n");
	else
		buf_printf(out, "connecttimeout %d\n", c->connect_timeout);
	if (c->proxy_jump)
		buf_printf(out, "proxyjump %s\n", c->proxy_jump);
	else if (c->proxy_command)
		buf_printf(out, "proxycommand %s\n", c->proxy_command);
}

char *sshcfg_proxy_command(const struct sshcfg *c, struct err *e)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	char port[16];

	if (!c->proxy_command)
		return NULL;
	snprintf(port, sizeof(port), "%d", c->port);
	{
		const struct sshcfg_token t[] = {
			{ 'h', c->hostname }, { 'n', c->host_arg },
			{ 'p', port }, { 'r', c->user },
		};

		if (sshcfg_expand(c->proxy_command, t, 4, 0, &out, &why) < 0) {
			err_set(e, FX_USAGE, "%s: ProxyCommand: %s",
				c->proxy_command_at, buf_str(&why));
			buf_release(&out);
			buf_release(&why);
			return NULL;
		}
	}
	buf_release(&why);
	return buf_detach(&out, NULL);
}

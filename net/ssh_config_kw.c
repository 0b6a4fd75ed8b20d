/*
 * The ssh_config keywords ferry acts on, each parsed and stored as
 * readconf.c does: first value wins, IdentityFile accumulates, a whole
 * UserKnownHostsFile line is one value, ProxyJump and ProxyCommand block
 * each other.  The reader (ssh_config.c) hands every line here but Host,
 * Match and Include.
 */
#include "net/ssh_config_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WHITESPACE " \t\r\n"
#define MAX_IDENTITIES 100	/* SSH_MAX_IDENTITY_FILES */
#define MAX_HOSTFILES 4096	/* SSH_MAX_HOSTS_FILES */

static const struct {
	const char *name;	/* as ssh_config(5) spells it */
	enum sshcfg_kw kw;
	const char *why;	/* K_UNHONOURED*: why ferry cannot */
} keywords[] = {
	{ "Host", K_HOST, NULL },
	{ "Match", K_MATCH, NULL },
	{ "Include", K_INCLUDE, NULL },
	{ "HostName", K_HOSTNAME, NULL },
	{ "User", K_USER, NULL },
	{ "Port", K_PORT, NULL },
	{ "IdentityFile", K_IDENTITYFILE, NULL },
	{ "IdentityFile2", K_IDENTITYFILE, NULL },
	{ "IdentitiesOnly", K_IDENTITIESONLY, NULL },
	{ "IdentityAgent", K_IDENTITYAGENT, NULL },
	{ "ProxyJump", K_PROXYJUMP, NULL },
	{ "ProxyCommand", K_PROXYCOMMAND, NULL },
	{ "UserKnownHostsFile", K_USERKH, NULL },
	{ "GlobalKnownHostsFile", K_GLOBALKH, NULL },
	{ "StrictHostKeyChecking", K_STRICT, NULL },
	{ "HostKeyAlias", K_HOSTKEYALIAS, NULL },
	{ "HashKnownHosts", K_HASHKH, NULL },
	{ "ConnectTimeout", K_CONNECTTIMEOUT, NULL },
	{ "ServerAliveInterval", K_ALIVEINTERVAL, NULL },
	{ "ServerAliveCountMax", K_ALIVECOUNT, NULL },
	{ "IgnoreUnknown", K_IGNOREUNKNOWN, NULL },
	{ "CanonicalizeHostname", K_CANONICALIZE,
	  "ferry does not canonicalise host names through DNS" },
	{ "CertificateFile", K_UNHONOURED,
	  "libssh2 has no certificate authentication" },
	{ "KnownHostsCommand", K_UNHONOURED,
	  "ferry reads known_hosts files only" },
	{ "RevokedHostKeys", K_UNHONOURED,
	  "ferry cannot check for revoked host keys" },
	{ "Ciphers", K_UNHONOURED, "ferry uses libssh2's algorithms" },
	{ "MACs", K_UNHONOURED, "ferry uses libssh2's algorithms" },
	{ "KexAlgorithms", K_UNHONOURED, "ferry uses libssh2's algorithms" },
	{ "HostKeyAlgorithms", K_UNHONOURED,
	  "ferry uses libssh2's algorithms" },
	{ "PubkeyAcceptedAlgorithms", K_UNHONOURED,
	  "ferry uses libssh2's algorithms" },
	{ "PubkeyAcceptedKeyTypes", K_UNHONOURED,
	  "ferry uses libssh2's algorithms" },
	{ "CASignatureAlgorithms", K_UNHONOURED,
	  "ferry uses libssh2's algorithms" },
	{ "RequiredRSASize", K_UNHONOURED,
	  "libssh2 does not check RSA key sizes" },
	{ "PKCS11Provider", K_UNHONOURED, "ferry has no PKCS#11 support" },
	{ "SmartcardDevice", K_UNHONOURED, "ferry has no PKCS#11 support" },
	{ "SecurityKeyProvider", K_UNHONOURED,
	  "ferry has no security key support" },
	{ "VerifyHostKeyDNS", K_UNHONOURED_YES,
	  "ferry does not look up SSHFP records" },
	{ "CheckHostIP", K_UNHONOURED_YES,
	  "ferry checks the host name's key only" },
};

/* Keywords OpenSSH 9 knows that do not change what ferry does. */
static const char *const ignored[] = {
	"protocol", "cipher", "fallbacktorsh", "globalknownhostsfile2",
	"rhostsauthentication", "userknownhostsfile2", "useroaming", "usersh",
	"useprivilegedport", "afstokenpassing", "kerberosauthentication",
	"kerberostgtpassing", "rsaauthentication", "rhostsrsaauthentication",
	"compressionlevel", "gssapiauthentication", "gssapidelegatecredentials",
	"gssapikeyexchange", "gssapitrustdns", "gssapiclientidentity",
	"gssapiserveridentity", "gssapirenewalforcesrekey",
	"gssapikexalgorithms", "forwardagent", "forwardx11",
	"forwardx11trusted", "forwardx11timeout", "exitonforwardfailure",
	"xauthlocation", "gatewayports", "passwordauthentication",
	"kbdinteractiveauthentication", "kbdinteractivedevices",
	"challengeresponseauthentication", "skeyauthentication",
	"tisauthentication", "pubkeyauthentication", "dsaauthentication",
	"hostbasedauthentication", "addkeystoagent", "remoteforward",
	"localforward", "permitremoteopen", "escapechar", "connectionattempts",
	"batchmode", "compression", "tcpkeepalive", "keepalive",
	"numberofpasswordprompts", "syslogfacility", "loglevel", "logverbose",
	"dynamicforward", "preferredauthentications", "bindaddress",
	"bindinterface", "clearallforwardings", "enablesshkeysign",
	"nohostauthenticationforlocalhost", "rekeylimit", "addressfamily",
	"sendenv", "setenv", "controlpath", "controlmaster", "controlpersist",
	"tunnel", "tunneldevice", "localcommand", "permitlocalcommand",
	"remotecommand", "visualhostkey", "ipqos", "requesttty", "sessiontype",
	"stdinnull", "forkafterauthentication", "proxyusefdpass",
	"canonicaldomains", "canonicalizefallbacklocal", "canonicalizemaxdots",
	"canonicalizepermittedcnames", "streamlocalbindmask",
	"streamlocalbindunlink", "fingerprinthash", "updatehostkeys",
	"hostbasedacceptedalgorithms", "hostbasedkeytypes",
	"enableescapecommandline", NULL,
};

static void set_str(struct sshcfg_reader *r, int active, struct sshcfg_str *s,
		    const char *v)
{
	if (active && !s->v) {
		s->v = xstrdup(v);
		free(s->at);
		s->at = sshcfg_here(r);
	}
}

static void set_int(struct sshcfg_reader *r, int active, struct sshcfg_int *s,
		    int v)
{
	if (active && s->v == -1) {
		s->v = v;
		free(s->at);
		s->at = sshcfg_here(r);
	}
}

/* parse_jump(): the last hop kept apart, the ones before it as written. */
static int jump_line(struct sshcfg_reader *r, const char *s, int active)
{
	struct sshcfg_opts *o = r->o;
	char *sdup = xstrdup(s), *cp, *user = NULL, *host = NULL, *spec;
	int port = -1, first, rc = -1;

	active = active && !o->proxy_command.v && !o->jump_host;
	if ((cp = strchr(sdup, '#')) != NULL)
		*cp = '\0';
	/* misc.c's rtrim() blanks every space after the first character. */
	for (size_t i = strlen(sdup); i > 1; i--)
		if (strchr(" \t\r\n\f\v", sdup[i - 1]))
			sdup[i - 1] = '\0';
	spec = xstrdup(sdup);
	first = active;
	do {
		if (!strcasecmp(s, "none"))
			break;
		cp = strrchr(sdup, ',');
		if (cp)
			*cp++ = '\0';
		else
			cp = sdup;
		if (sshcfg_parse_hop(cp, first ? &user : NULL,
				     first ? &host : NULL,
				     first ? &port : NULL) < 0) {
			sshcfg_bad(r, "invalid ProxyJump \"%s\"", s);
			goto out;
		}
		first = 0;
	} while (cp != sdup);
	if (active) {
		o->jump_at = sshcfg_here(r);
		if (!strcasecmp(s, "none")) {
			o->jump_host = xstrdup("none");
			o->jump_port = 0;
		} else {
			o->jump_user = user;
			o->jump_host = host;
			o->jump_port = port;
			user = host = NULL;
			o->proxy_command.v = xstrdup("none");
			o->jump_spec = spec;
			spec = NULL;
			cp = strrchr(s, ',');
			if (cp && cp != s)
				o->jump_extra = xstrndup(s, (size_t)(cp - s));
		}
	}
	rc = 0;
out:
	free(sdup);
	free(spec);
	free(user);
	free(host);
	return rc;
}

/* A list kept whole from the first line that sets it (UserKnownHostsFile,
 * GlobalKnownHostsFile). */
static int files_line(struct sshcfg_reader *r, struct strlist *av, size_t *ai,
		      int active, const char *kw, struct strlist *list,
		      char **at)
{
	int was_empty = list->n == 0, i = 0;

	for (; *ai < av->n; (*ai)++, i++) {
		const char *arg = av->v[*ai];

		if (!*arg)
			return sshcfg_bad(r, "%s with an empty argument", kw);
		if (!strcasecmp(arg, "none") && (i > 0 || *ai + 1 < av->n))
			return sshcfg_bad(r, "%s none must stand alone", kw);
		if (!active || !was_empty)
			continue;
		if (list->n >= MAX_HOSTFILES)
			return sshcfg_bad(r, "too many %s entries", kw);
		if (list->n == 0) {
			free(*at);
			*at = sshcfg_here(r);
		}
		strlist_add(list, arg);
	}
	return 0;
}

static int identity_line(struct sshcfg_reader *r, const char *arg, int active,
			 int flags)
{
	struct sshcfg_opts *o = r->o;
	char *key;

	if (!arg || !*arg)
		return sshcfg_bad(r, "IdentityFile needs an argument");
	if (!active)
		return 0;
	if (o->ids.n >= MAX_IDENTITIES)
		return sshcfg_bad(r, "too many IdentityFile entries (max %d)",
				  MAX_IDENTITIES);
	/* ssh keeps one of each path, per kind of file (user, system). */
	key = xstrfmt("%d %s", !!(flags & SSHCFG_RF_USER), arg);
	for (size_t i = 0; i < o->ids_key.n; i++) {
		if (!strcmp(o->ids_key.v[i], key)) {
			free(key);
			return 0;
		}
	}
	strlist_add_take(&o->ids_key, key);
	strlist_add(&o->ids, arg);
	strlist_add_take(&o->ids_at, sshcfg_here(r));
	return 0;
}

static int flag_value(const char *arg, const char *const *names,
		      const int *values)
{
	for (size_t i = 0; arg && names[i]; i++)
		if (!strcasecmp(arg, names[i]))
			return values[i];
	return -1;
}

/* valid_env_name(): letters, digits and '_', at least one. */
static int env_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int agent_line(struct sshcfg_reader *r, const char *arg, int active)
{
	struct buf b = BUF_INIT, why = BUF_INIT;
	int rc;

	if (!arg || !*arg)
		return sshcfg_bad(r, "IdentityAgent needs an argument");
	/* ssh checks ${VAR}s here, whether or not the line applies. */
	rc = sshcfg_expand(arg, NULL, 0, 1, &b, &why);
	buf_release(&b);
	if (rc < 0) {
		rc = sshcfg_bad(r, "IdentityAgent %s: %s", arg, buf_str(&why));
		buf_release(&why);
		return rc;
	}
	buf_release(&why);
	/* The old "$NAME" form must name a variable. */
	if (arg[0] == '$' && arg[1] != '{' && !env_name(arg + 1))
		return sshcfg_bad(r, "IdentityAgent: invalid environment name "
				  "%s", arg);
	set_str(r, active, &r->o->identity_agent, arg);
	return 0;
}

static const char *const flag_names[] = { "true", "false", "yes", "no", NULL };
static const int flag_values[] = { 1, 0, 1, 0 };
static const char *const strict_names[] = {
	"true", "false", "yes", "no", "ask", "off", "accept-new", NULL,
};
static const int strict_values[] = {
	SSHCFG_STRICT_YES, SSHCFG_STRICT_OFF, SSHCFG_STRICT_YES,
	SSHCFG_STRICT_OFF, SSHCFG_STRICT_ASK, SSHCFG_STRICT_OFF,
	SSHCFG_STRICT_NEW,
};
static const char *const canon_names[] = {
	"true", "false", "yes", "no", "always", NULL,
};
static const int canon_values[] = { 1, 0, 1, 0, 2 };

enum sshcfg_kw sshcfg_lookup(const char *keyword, const char **name,
		      const char **why)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (!strcasecmp(keyword, keywords[i].name)) {
			*name = keywords[i].name;
			*why = keywords[i].why;
			return keywords[i].kw;
		}
	}
	*name = keyword;
	for (size_t i = 0; ignored[i]; i++)
		if (!strcmp(keyword, ignored[i]))
			return K_IGNORE;
	return K_UNKNOWN;
}

static void unhonoured(struct sshcfg_reader *r, const char *name, const char *why)
{
	char *msg = xstrfmt("%s is not honoured: %s", name, why);

	sshcfg_warn_once(r, name, msg);
	free(msg);
}

/* A keyword that takes one of a few words (yes/no, ...): its value. */
static int choice(struct sshcfg_reader *r, const char *name, const char *arg,
		  const char *const *names, const int *values, int *out)
{
	if (!arg || !*arg)
		return sshcfg_bad(r, "%s needs an argument", name);
	*out = flag_value(arg, names, values);
	if (*out < 0)
		return sshcfg_bad(r, "unsupported %s value \"%s\"", name, arg);
	return 0;
}

static int time_value(struct sshcfg_reader *r, const char *name, const char *arg,
		      int *out)
{
	if (!arg || !*arg)
		return sshcfg_bad(r, "%s needs a time value", name);
	*out = !strcmp(arg, "none") ? -1 : sshcfg_seconds(arg);
	if (*out == -1 && strcmp(arg, "none"))
		return sshcfg_bad(r, "invalid time value '%s' for %s", arg, name);
	return 0;
}

static int string_value(struct sshcfg_reader *r, const char *name, const char *arg,
			int active, struct sshcfg_str *s)
{
	if (!arg || !*arg)
		return sshcfg_bad(r, "%s needs an argument", name);
	set_str(r, active, s, arg);
	return 0;
}

int sshcfg_keyword(struct sshcfg_reader *r, enum sshcfg_kw kw,
		   const char *name, const char *why, char *str,
		   struct strlist *av, size_t *ai, int active, int flags)
{
	struct sshcfg_opts *o = r->o;
	const char *arg = *ai < av->n ? av->v[*ai] : NULL;
	int v = 0;

	if (arg && kw != K_USERKH && kw != K_GLOBALKH)
		(*ai)++;
	switch (kw) {
	case K_UNKNOWN:
	case K_IGNORE:
	case K_HOST:
	case K_MATCH:
	case K_INCLUDE:
		break;	/* the reader's own */
	case K_HOSTNAME:
		return string_value(r, name, arg, active, &o->hostname);
	case K_USER:
		return string_value(r, name, arg, active, &o->user);
	case K_HOSTKEYALIAS:
		return string_value(r, name, arg, active, &o->host_key_alias);
	case K_IGNOREUNKNOWN:
		return string_value(r, name, arg, active, &o->ignore_unknown);
	case K_PORT:
		if (!arg || !*arg)
			return sshcfg_bad(r, "Port needs an argument");
		v = sshcfg_port(arg);
		if (v <= 0)
			return sshcfg_bad(r, "bad port '%s'", arg);
		set_int(r, active, &o->port, v);
		break;
	case K_IDENTITYFILE:
		return identity_line(r, arg, active, flags);
	case K_IDENTITIESONLY:
		if (choice(r, name, arg, flag_names, flag_values, &v) < 0)
			return -1;
		set_int(r, active, &o->identities_only, v);
		break;
	case K_HASHKH:
		if (choice(r, name, arg, flag_names, flag_values, &v) < 0)
			return -1;
		set_int(r, active, &o->hash_known_hosts, v);
		break;
	case K_STRICT:
		if (choice(r, name, arg, strict_names, strict_values, &v) < 0)
			return -1;
		set_int(r, active, &o->strict, v);
		break;
	case K_CANONICALIZE:
		if (choice(r, name, arg, canon_names, canon_values, &v) < 0)
			return -1;
		if (active && o->canonicalize.v == -1 && v != 0)
			unhonoured(r, name, why);
		set_int(r, active, &o->canonicalize, v);
		break;
	case K_CONNECTTIMEOUT:
		if (time_value(r, name, arg, &v) < 0)
			return -1;
		set_int(r, active, &o->connect_timeout, v);
		break;
	case K_ALIVEINTERVAL:
		if (time_value(r, name, arg, &v) < 0)
			return -1;
		set_int(r, active, &o->alive_interval, v);
		break;
	case K_ALIVECOUNT:
		if (sshcfg_uint(arg, &v) < 0)
			return sshcfg_bad(r, "%s: bad number '%s'", name,
					  arg ? arg : "");
		set_int(r, active, &o->alive_count, v);
		break;
	case K_IDENTITYAGENT:
		return agent_line(r, arg, active);
	case K_PROXYCOMMAND:
		/* The rest of the line as written; a ProxyJump seen first
		 * wins over it, but not "ProxyJump none" (as ssh 9.2 does). */
		if (!o->jump_host ||
		    (o->jump_port == 0 && !strcmp(o->jump_host, "none")))
			set_str(r, active, &o->proxy_command,
				str + strspn(str, WHITESPACE "="));
		*ai = av->n;
		break;
	case K_PROXYJUMP:
		*ai = av->n;
		return jump_line(r, str + strspn(str, WHITESPACE "="), active);
	case K_USERKH:
		return files_line(r, av, ai, active, name, &o->user_kh,
				  &o->user_kh_at);
	case K_GLOBALKH:
		return files_line(r, av, ai, active, name, &o->global_kh,
				  &o->global_kh_at);
	case K_UNHONOURED:
		if (active)
			unhonoured(r, name, why);
		*ai = av->n;
		break;
	case K_UNHONOURED_YES:
		if (active && arg && (!strcasecmp(arg, "yes") ||
		    !strcasecmp(arg, "true") || !strcasecmp(arg, "ask")))
			unhonoured(r, name, why);
		*ai = av->n;
		break;
	}
	return 0;
}


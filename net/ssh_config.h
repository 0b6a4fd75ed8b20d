/*
 * ssh_config: OpenSSH's client configuration, read the way ssh(1) reads it
 * (readconf.c), so a host alias means to ferry what it means to `ssh`.
 *
 * First value wins; Host patterns (*, ?, !negation, several per line);
 * Match host|originalhost|user|localuser|exec|canonical|final|all; Include
 * (globs, relative to ~/.ssh or /etc/ssh); keywords in any case, "key=value"
 * and quoted values; %-tokens and ~ where ssh expands them.  The oracle is
 * `ssh -G` itself (tests/integration/ssh_config.sh).
 *
 * Only the keywords ferry acts on are kept.  Other keywords ssh knows are
 * skipped silently; those that change security and that ferry cannot honour
 * (CertificateFile, Ciphers, RevokedHostKeys, ...) become warnings naming
 * their file:line.  Errors (a bad value, a missing file given explicitly,
 * unbalanced quotes) are FX_USAGE and name FILE:LINE.
 *
 * Reading a configuration touches no network: hostname canonicalisation
 * through DNS (CanonicalizeHostname) is not done, and says so.
 */
#ifndef FERRY_NET_SSH_CONFIG_H
#define FERRY_NET_SSH_CONFIG_H

#include "util/buf.h"
#include "util/err.h"

/* What to resolve, and who is asking (as ssh takes it from the password
 * database).  sshcfg_query_init() fills the second half from the system. */
struct sshcfg_query {
	const char *host;	/* as written: an alias or a name */
	const char *user;	/* like ssh -l: wins over User; NULL: none */
	int port;		/* like ssh -p: wins over Port; 0: none */
	/* Files: user_file is read as the user's (Include relative to
	 * ~/.ssh), system_file as the system's (relative to /etc/ssh).
	 * Either may be NULL; a missing one is skipped unless must_exist. */
	const char *user_file;
	const char *system_file;
	int check_perms;	/* refuse a user_file others may write */
	int must_exist;		/* user_file was asked for by name (ssh -F) */

	const char *local_user;	/* %u, and User's default */
	const char *pw_dir;	/* ~ in values, %d */
	const char *home;	/* $HOME: ~ in Include globs, "~" in origins */
	unsigned long uid;	/* %i */
	const char *thishost;	/* %l (and %L, %C) */
};

/* Fills local_user, pw_dir, home, uid and thishost from this process. */
void sshcfg_query_init(struct sshcfg_query *q);

/* One hop of ProxyJump: [user@]host[:port] or ssh://[user@]host[:port]. */
struct sshcfg_hop {
	char *user;		/* NULL: not given */
	char *host;
	int port;		/* -1: not given */
};

enum sshcfg_strict {
	SSHCFG_STRICT_ASK,	/* the default; ferry cannot ask: as yes */
	SSHCFG_STRICT_YES,
	SSHCFG_STRICT_NEW,	/* accept-new */
	SSHCFG_STRICT_OFF,	/* no, off */
};

/*
 * The resolution.  Each *_at names where the value was set ("FILE:LINE",
 * FILE with ~ for $HOME), or is NULL when it is ssh's default.  Values are
 * what `ssh -G` prints, unless said otherwise.
 */
struct sshcfg {
	char *host_arg;		/* q->host, as asked (%n) */
	char *hostname;		/* HostName, %h expanded, lowercased */
	char *hostname_at;
	char *user;
	char *user_at;
	int port;
	char *port_at;
	struct strlist identity_files;	/* as written (ssh -G prints these) */
	struct strlist identity_paths;	/* the same, ~ and tokens expanded */
	struct strlist identity_at;	/* one origin per file; empty: default */
	int identities_only;
	char *identities_only_at;
	char *identity_agent;	/* expanded; NULL: unset ($SSH_AUTH_SOCK) */
	char *identity_agent_at;
	char *proxy_jump;	/* as ssh -G prints it; NULL: none */
	char *proxy_jump_at;
	struct sshcfg_hop *hops;	/* ProxyJump's hops, first one first */
	size_t nhops;
	char *proxy_command;	/* as written, tokens unexpanded; NULL: none */
	char *proxy_command_at;
	struct strlist user_known_hosts;	/* expanded; empty: none */
	char *user_known_hosts_at;
	struct strlist global_known_hosts;	/* as written, as ssh uses them */
	char *global_known_hosts_at;
	enum sshcfg_strict strict;
	char *strict_at;
	char *host_key_alias;	/* lowercased; NULL: none */
	char *host_key_alias_at;
	int hash_known_hosts;
	char *hash_known_hosts_at;
	int connect_timeout;	/* seconds; -1: none */
	char *connect_timeout_at;
	int alive_interval;	/* ServerAliveInterval, seconds; 0: off */
	char *alive_interval_at;
	int alive_count;	/* ServerAliveCountMax */
	char *alive_count_at;
	struct strlist warnings;	/* "FILE:LINE: ...": the caller says them */
};

/* Resolves q->host; 0, or -1 with e set (FX_USAGE for a bad file).  Free
 * *out with sshcfg_release() either way. */
int sshcfg_resolve(const struct sshcfg_query *q, struct sshcfg *out,
		   struct err *e) __attribute__((warn_unused_result));
void sshcfg_release(struct sshcfg *c);

/* Appends the values ferry uses, one "keyword value" line each, worded and
 * ordered as `ssh -G` words and orders them. */
void sshcfg_format(const struct sshcfg *c, struct buf *out);

/* c's ProxyCommand with its tokens (%h %n %p %r %%) expanded as ssh expands
 * them before running it; caller frees.  NULL with e set on a bad token. */
char *sshcfg_proxy_command(const struct sshcfg *c, struct err *e);

#endif

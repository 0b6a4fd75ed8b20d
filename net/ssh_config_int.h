/*
 * Shared by the ssh_config*.c files and their unit tests only: OpenSSH's
 * string rules (misc.c, match.c) and the options as readconf.c keeps them
 * while it reads.
 */
#ifndef FERRY_NET_SSH_CONFIG_INT_H
#define FERRY_NET_SSH_CONFIG_INT_H

#include "net/ssh_config.h"

/* ---- ssh_config_lex.c: misc.c and match.c ---------------------------- */

/* argv_split(): words separated by blanks, "..." and '...' quoting, the
 * escapes \\ \" \' (and "\ " outside quotes); with comment, a word that
 * starts with '#' ends the line.  -1 on an unterminated quote. */
int sshcfg_split(const char *s, struct strlist *out, int comment);
/* strdelim(): the next word of *s (split at blanks, a quote or one '='),
 * NUL-terminating it in place; NULL at the end or on a missing quote. */
char *sshcfg_strdelim(char **s);

/* match_pattern(): '*' and '?' wildcards, case-sensitive. */
int sshcfg_match_pattern(const char *s, const char *pattern);
/* match_pattern_list(): a comma list with !negations: 1 on a positive
 * match, -1 when a negation matches, 0 otherwise. */
int sshcfg_match_list(const char *s, const char *list, int dolower);
/* match_hostname(): the same with host and patterns lowercased. */
int sshcfg_match_hostname(const char *host, const char *list);

/* A %-token and what it stands for. */
struct sshcfg_token {
	char key;
	const char *value;
};

/* percent_expand() (and ${VAR} from the environment with dollar; with
 * tokens NULL, ${VAR}s alone): -1 with why set on an unknown token, a
 * lone '%' or an unset variable. */
int sshcfg_expand(const char *s, const struct sshcfg_token *tokens,
		  size_t ntokens, int dollar, struct buf *out, struct buf *why);
/* tilde_expand(): "~" and "~/x" under pw_dir, "~user/x" under that
 * user's home; NULL for an unknown user.  Caller frees. */
char *sshcfg_tilde(const char *path, const char *pw_dir);

/* a2port(): 1..65535 or a service name; -1 when neither. */
int sshcfg_port(const char *s);
/* atoi_err(): 0..INT_MAX, -1 otherwise. */
int sshcfg_uint(const char *s, int *out);
/* convtime(): "90", "1h30m"... in seconds; -1 when malformed. */
int sshcfg_seconds(const char *s);
/* parse_user_host_port() (and parse_ssh_uri() first): 0 or -1.  Any
 * output may be NULL to check the syntax only. */
int sshcfg_parse_hop(const char *s, char **user, char **host, int *port);
/* Lowercases s in place. */
void sshcfg_lower(char *s);
/* %C: SHA-1 of thishost, host, port and user, in hex; caller frees. */
char *sshcfg_conn_hash(const char *thishost, const char *host,
		       const char *port, const char *user);

/* ---- ssh_config.c: the reader --------------------------------------- */

#define SSHCFG_RF_USER 1	/* a user's file: Include under ~/.ssh, ~ ok */
#define SSHCFG_RF_CHECKPERM 2	/* refuse a file others may write */
#define SSHCFG_RF_NEVERMATCH 4	/* included from an inactive block */

struct sshcfg_str {
	char *v;		/* NULL: unset */
	char *at;		/* "FILE:LINE" */
};

struct sshcfg_int {
	int v;			/* -1: unset */
	char *at;
};

/* The options as readconf.c's Options holds them while reading. */
struct sshcfg_opts {
	struct sshcfg_str hostname, user, host_key_alias, identity_agent,
		proxy_command, ignore_unknown;
	struct sshcfg_int port, identities_only, strict, hash_known_hosts,
		connect_timeout, alive_interval, alive_count, canonicalize;
	/* ProxyJump: the last hop parsed, the ones before it as written. */
	char *jump_user, *jump_host, *jump_extra, *jump_spec, *jump_at;
	int jump_port;
	struct strlist ids, ids_at;		/* IdentityFile, deduplicated */
	struct strlist ids_key;			/* what makes one a duplicate */
	struct strlist user_kh, global_kh;
	char *user_kh_at, *global_kh_at;
	struct strlist warned;			/* keywords warned about */
};

/* What a line starts with. */
enum sshcfg_kw {
	K_IGNORE, K_UNKNOWN, K_HOST, K_MATCH, K_INCLUDE, K_HOSTNAME, K_USER,
	K_PORT, K_IDENTITYFILE, K_IDENTITIESONLY, K_IDENTITYAGENT,
	K_PROXYJUMP, K_PROXYCOMMAND, K_USERKH, K_GLOBALKH, K_STRICT,
	K_HOSTKEYALIAS, K_HASHKH, K_CONNECTTIMEOUT, K_ALIVEINTERVAL,
	K_ALIVECOUNT, K_IGNOREUNKNOWN, K_CANONICALIZE,
	K_UNHONOURED,		/* warn when it applies */
	K_UNHONOURED_YES,	/* warn when it applies with yes or ask */
};

/* One pass's state. */
struct sshcfg_reader {
	const struct sshcfg_query *q;
	struct sshcfg_opts *o;
	struct strlist *warnings;
	struct err *e;
	const char *host;	/* what Host lines match */
	int final;		/* the second pass */
	int *want_final;	/* NULL in the second pass */
	char *file;		/* the file being read, as origins show it */
	int line;
};

/* FX_USAGE "FILE:LINE: ..." for the line being read; -1. */
int sshcfg_bad(struct sshcfg_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "FILE:LINE" of the line being read; caller frees. */
char *sshcfg_here(const struct sshcfg_reader *r);
/* Adds "FILE:LINE: msg" to the warnings, once per key and line. */
void sshcfg_warn_once(struct sshcfg_reader *r, const char *key,
		      const char *msg);

void sshcfg_opts_init(struct sshcfg_opts *o);
void sshcfg_opts_release(struct sshcfg_opts *o);

/* One pass over the files.  host is what Host lines match; final is the
 * second pass (Match final and canonical); *want_final is set when a
 * Match asks for one (want_final NULL in the second pass). */
int sshcfg_read(const struct sshcfg_query *q, struct sshcfg_opts *o,
		const char *host, int final, int *want_final,
		struct strlist *warnings, struct err *e);

/* "FILE" as origins show it: ~/ for a path under home. */
char *sshcfg_display(const struct sshcfg_query *q, const char *path);

/* ---- ssh_config_kw.c: the keywords ---------------------------------- */

/* The keyword's kind, its name as ssh_config(5) spells it and, for one
 * ferry cannot honour, why. */
enum sshcfg_kw sshcfg_lookup(const char *keyword, const char **name,
			     const char **why);
/* Every keyword but Host, Match and Include: reads its arguments from
 * av (from *ai on, moving *ai past them; str is the raw rest of the line)
 * and stores the value when active and still unset. */
int sshcfg_keyword(struct sshcfg_reader *r, enum sshcfg_kw kw,
		   const char *name, const char *why, char *str,
		   struct strlist *av, size_t *ai, int active, int flags);

#endif

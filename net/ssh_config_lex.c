/*
 * OpenSSH's string rules for ssh_config, one function each, kept to the
 * letter of misc.c and match.c (the corner cases are what `ssh -G` is
 * compared on): word splitting, patterns, %-tokens, ~, numbers and
 * [user@]host[:port].
 */
#include "net/ssh_config_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#define WHITESPACE " \t\r\n"

int sshcfg_split(const char *s, struct strlist *out, int comment)
{
	struct buf arg = BUF_INIT;
	size_t i;
	int quote = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == ' ' || s[i] == '\t')
			continue;
		if (comment && s[i] == '#')
			break;
		quote = 0;
		buf_reset(&arg);
		buf_addstr(&arg, "");
		for (; s[i] != '\0'; i++) {
			if (s[i] == '\\') {
				if (s[i + 1] == '\'' || s[i + 1] == '"' ||
				    s[i + 1] == '\\' ||
				    (quote == 0 && s[i + 1] == ' '))
					i++;
				buf_addch(&arg, s[i]);
			} else if (quote == 0 && (s[i] == ' ' || s[i] == '\t')) {
				break;
			} else if (quote == 0 && (s[i] == '"' || s[i] == '\'')) {
				quote = s[i];
			} else if (quote != 0 && s[i] == quote) {
				quote = 0;
			} else {
				buf_addch(&arg, s[i]);
			}
		}
		strlist_add(out, buf_str(&arg));
		if (s[i] == '\0')
			break;
	}
	buf_release(&arg);
	return quote ? -1 : 0;
}

char *sshcfg_strdelim(char **s)
{
	char *old;
	int wspace = 0;

	if (*s == NULL)
		return NULL;
	old = *s;
	*s = strpbrk(*s, WHITESPACE "\"=");
	if (*s == NULL)
		return old;
	if (**s == '"') {
		memmove(*s, *s + 1, strlen(*s));	/* the NUL too */
		*s = strpbrk(*s, "\"");
		if (*s == NULL)
			return NULL;	/* no closing quote */
		**s = '\0';
		*s += strspn(*s + 1, WHITESPACE) + 1;
		return old;
	}
	/* One '=' may stand between the words. */
	if (**s == '=')
		wspace = 1;
	**s = '\0';
	*s += strspn(*s + 1, WHITESPACE) + 1;
	if (**s == '=' && !wspace)
		*s += strspn(*s + 1, WHITESPACE) + 1;
	return old;
}

int sshcfg_match_pattern(const char *s, const char *pattern)
{
	for (;;) {
		if (!*pattern)
			return !*s;
		if (*pattern == '*') {
			while (*pattern == '*')
				pattern++;
			if (!*pattern)
				return 1;
			if (*pattern != '?') {
				for (; *s; s++)
					if (*s == *pattern && sshcfg_match_pattern(
						s + 1, pattern + 1))
						return 1;
				return 0;
			}
			for (; *s; s++)
				if (sshcfg_match_pattern(s, pattern))
					return 1;
			return 0;
		}
		if (!*s)
			return 0;
		if (*pattern != '?' && *pattern != *s)
			return 0;
		s++;
		pattern++;
	}
}

int sshcfg_match_list(const char *s, const char *list, int dolower)
{
	char sub[1024];
	size_t i = 0, len = strlen(list), n;
	int negated, positive = 0;

	while (i < len) {
		negated = list[i] == '!';
		if (negated)
			i++;
		for (n = 0; i < len && n < sizeof(sub) - 1 && list[i] != ',';
		     n++, i++)
			sub[n] = dolower ? (char)tolower((unsigned char)list[i]) :
				 list[i];
		if (n >= sizeof(sub) - 1)
			return 0;	/* too long: no match, as match.c */
		if (i < len && list[i] == ',')
			i++;
		sub[n] = '\0';
		if (sshcfg_match_pattern(s, sub)) {
			if (negated)
				return -1;
			positive = 1;
		}
	}
	return positive;
}

void sshcfg_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

int sshcfg_match_hostname(const char *host, const char *list)
{
	char *h = xstrdup(host);
	int r;

	sshcfg_lower(h);
	r = sshcfg_match_list(h, list, 1);
	free(h);
	return r;
}

static const char *token_value(const struct sshcfg_token *t, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].key == c)
			return t[i].value;
	return NULL;
}

int sshcfg_expand(const char *s, const struct sshcfg_token *tokens,
		  size_t ntokens, int dollar, struct buf *out, struct buf *why)
{
	for (; *s; s++) {
		if (dollar && s[0] == '$' && s[1] == '{') {
			const char *end = strchr(s + 2, '}'), *val;
			char *name;

			if (!end) {
				buf_printf(why, "'${' without a closing '}'");
				return -1;
			}
			if (end == s + 2) {
				buf_printf(why, "an empty ${}");
				return -1;
			}
			name = xstrndup(s + 2, (size_t)(end - s - 2));
			val = getenv(name);
			if (!val) {
				buf_printf(why, "${%s} is not set", name);
				free(name);
				return -1;
			}
			free(name);
			buf_addstr(out, val);
			s = end;
			continue;
		}
		if (*s != '%' || !tokens) {
			buf_addch(out, *s);
			continue;
		}
		s++;
		if (*s == '%') {
			buf_addch(out, '%');
		} else if (*s == '\0') {
			buf_printf(why, "a '%%' at the end");
			return -1;
		} else if (token_value(tokens, ntokens, *s)) {
			buf_addstr(out, token_value(tokens, ntokens, *s));
		} else {
			buf_printf(why, "unknown token %%%c", *s);
			return -1;
		}
	}
	return 0;
}

char *sshcfg_tilde(const char *path, const char *pw_dir)
{
	const char *rest = NULL, *dir = pw_dir;
	char *user = NULL, *r;
	struct passwd *pw;
	size_t len;

	if (path[0] != '~')
		return xstrdup(path);
	if (path[1] == '/' || path[1] == '\0') {
		rest = path + 1 + strspn(path + 1, "/");
	} else {
		const char *slash = strchr(path + 1, '/');

		user = slash ? xstrndup(path + 1, (size_t)(slash - path - 1)) :
		       xstrdup(path + 1);
		rest = slash ? slash + 1 + strspn(slash + 1, "/") : "";
		pw = getpwnam(user);
		free(user);
		if (!pw)
			return NULL;
		dir = pw->pw_dir;
	}
	len = strlen(dir);
	r = xstrfmt("%s%s%s", dir, len == 0 || dir[len - 1] != '/' ? "/" : "",
		    rest);
	return r;
}

/* OpenBSD's strtonum(): base 10, the whole string, within [lo, hi]. */
static int strtonum_ok(const char *s, long long lo, long long hi,
		       long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int sshcfg_port(const char *s)
{
	struct servent *se;
	long long v;

	if (strtonum_ok(s, 0, 65535, &v) == 0)
		return (int)v;
	se = getservbyname(s, "tcp");
	return se ? ntohs((uint16_t)se->s_port) : -1;
}

int sshcfg_uint(const char *s, int *out)
{
	long long v;

	if (!s || !*s || strtonum_ok(s, 0, INT_MAX, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

int sshcfg_seconds(const char *s)
{
	long total = 0, secs, mult;
	const char *p = s;
	char *end;

	if (!p || !*p)
		return -1;
	while (*p) {
		errno = 0;
		secs = strtol(p, &end, 10);
		if (p == end || (errno == ERANGE &&
		    (secs == LONG_MIN || secs == LONG_MAX)) || secs < 0)
			return -1;
		switch (*end++) {
		case '\0':
			end--;
			mult = 1;
			break;
		case 's': case 'S':
			mult = 1;
			break;
		case 'm': case 'M':
			mult = 60;
			break;
		case 'h': case 'H':
			mult = 3600;
			break;
		case 'd': case 'D':
			mult = 86400;
			break;
		case 'w': case 'W':
			mult = 604800;
			break;
		default:
			return -1;
		}
		if (secs > INT_MAX / mult)
			return -1;
		secs *= mult;
		if (total > INT_MAX - secs)
			return -1;
		total += secs;
		p = end;
	}
	return (int)total;
}

/* hpdelim2(): the host part of host:port or [v6]:port, NUL-terminated in
 * place; *cp moves past the delimiter (NULL at the end). */
static char *hpdelim2(char **cp, char *delim)
{
	char *s, *old;

	if (!cp || !*cp)
		return NULL;
	old = s = *cp;
	if (*s == '[') {
		s = strchr(s, ']');
		if (!s)
			return NULL;
		s++;
	} else if ((s = strpbrk(s, ":/")) == NULL) {
		s = *cp + strlen(*cp);
	}
	switch (*s) {
	case '\0':
		*cp = NULL;
		break;
	case ':':
	case '/':
		*delim = *s;
		*s = '\0';
		*cp = s + 1;
		break;
	default:
		return NULL;
	}
	return old;
}

static char *cleanhost(char *h)
{
	size_t n = strlen(h);

	if (*h == '[' && n > 1 && h[n - 1] == ']') {
		h[n - 1] = '\0';
		return h + 1;
	}
	return h;
}

/* valid_domain(name, 0): letters, digits, '-', '_' and single dots; a
 * trailing dot is dropped. */
static int valid_domain(char *name)
{
	size_t n = strlen(name);
	char last = '\0';

	if (n == 0 || !isalnum((unsigned char)name[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)name[i]);

		if ((last == '.' && c == '.') || (c != '.' && c != '-' &&
		    c != '_' && !isalnum((unsigned char)c)))
			return 0;
		last = c;
	}
	if (name[n - 1] == '.')
		name[n - 1] = '\0';
	return 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* urldecode(): '+' is a blank, %XX a byte; NULL when malformed. */
static char *urldecode(const char *s)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "");
	for (; *s; s++) {
		if (*s == '+') {
			buf_addch(&b, ' ');
		} else if (*s == '%') {
			if (hexval(s[1]) < 0 || hexval(s[2]) < 0) {
				buf_release(&b);
				return NULL;
			}
			buf_addch(&b, hexval(s[1]) << 4 | hexval(s[2]));
			s += 2;
		} else {
			buf_addch(&b, *s);
		}
	}
	return buf_detach(&b, NULL);
}

/* parse_uri("ssh", ...) without a path: 1 when s is no ssh:// URI. */
static int parse_ssh_uri(const char *s, char **user, char **host, int *port)
{
	char *dup, *tmp, *at, *cp, ch = '\0';
	int r = -1;

	if (strncmp(s, "ssh://", 6) != 0)
		return 1;
	dup = tmp = xstrdup(s + 6);
	at = strchr(tmp, '@');
	if (at) {
		char *semi;

		*at = '\0';
		semi = strchr(tmp, ';');	/* connection parameters */
		if (semi)
			*semi = '\0';
		if (*tmp == '\0' || !(*user = urldecode(tmp)))
			goto out;
		tmp = at + 1;
	}
	cp = hpdelim2(&tmp, &ch);
	if (!cp || *cp == '\0')
		goto out;
	*host = xstrdup(cleanhost(cp));
	if (!valid_domain(*host))
		goto out;
	if (tmp && *tmp) {
		if (ch == ':') {
			char *slash = strchr(tmp, '/');

			if (slash)
				*slash = '\0';
			*port = sshcfg_port(tmp);
			if (*port <= 0)
				goto out;
			tmp = slash ? slash + 1 : NULL;
		}
		if (tmp && *tmp)
			goto out;	/* a path is not allowed here */
	}
	r = 0;
out:
	free(dup);
	return r;
}

/* parse_user_host_port(). */
static int parse_user_host_port(const char *s, char **user, char **host,
				int *port)
{
	char *dup, *tmp, *at, *cp;
	int r = -1;

	dup = tmp = xstrdup(s);
	at = strrchr(tmp, '@');
	if (at) {
		*at = '\0';
		if (*tmp == '\0')
			goto out;
		*user = xstrdup(tmp);
		tmp = at + 1;
	}
	{
		char delim = '\0';

		cp = hpdelim2(&tmp, &delim);
		if (delim == '/')
			cp = NULL;
	}
	if (!cp || *cp == '\0')
		goto out;
	*host = xstrdup(cleanhost(cp));
	if (tmp && *tmp) {
		*port = sshcfg_port(tmp);
		if (*port <= 0)
			goto out;
	}
	r = 0;
out:
	free(dup);
	return r;
}

int sshcfg_parse_hop(const char *s, char **user, char **host, int *port)
{
	char *u = NULL, *h = NULL;
	int p = -1, r;

	r = parse_ssh_uri(s, &u, &h, &p);
	if (r == 1) {
		free(u);
		free(h);
		u = h = NULL;
		p = -1;
		r = parse_user_host_port(s, &u, &h, &p);
	}
	if (r == 0) {
		if (user) {
			*user = u;
			u = NULL;
		}
		if (host) {
			*host = h;
			h = NULL;
		}
		if (port)
			*port = p;
	}
	free(u);
	free(h);
	return r < 0 ? -1 : 0;
}

char *sshcfg_conn_hash(const char *thishost, const char *host,
		       const char *port, const char *user)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct buf b = BUF_INIT;
	const char *parts[] = { thishost, host, port, user };
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);

	for (size_t i = 0; ok && i < 4; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	buf_addstr(&b, "");
	for (unsigned int i = 0; ok && i < n; i++)
		buf_printf(&b, "%02x", md[i]);
	return buf_detach(&b, NULL);
}

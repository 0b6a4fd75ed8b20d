/*
 * The ssh_config reader: files, lines, Host, Match and Include, and the
 * keywords ferry uses, each parsed and stored as readconf.c does (first
 * value wins, IdentityFile accumulates, a whole UserKnownHostsFile line is
 * one value).  ssh_config_fill.c turns the options into the resolution.
 */
#include "net/ssh_config_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WHITESPACE " \t\r\n"
#define MAX_DEPTH 16		/* READCONF_MAX_DEPTH */
#define EXEC_TIMEOUT_S 30	/* ssh waits forever for Match exec */

static int read_file(struct sshcfg_reader *r, const char *path, int flags,
		     int *activep, int depth);

int sshcfg_bad(struct sshcfg_reader *r, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	err_set(r->e, FX_USAGE, "%s:%d: %s", r->file, r->line, buf_str(&b));
	buf_release(&b);
	return -1;
}

char *sshcfg_here(const struct sshcfg_reader *r)
{
	return xstrfmt("%s:%d", r->file, r->line);
}

void sshcfg_warn_once(struct sshcfg_reader *r, const char *key,
		      const char *msg)
{
	char *id = xstrfmt("%s %s:%d", key, r->file, r->line);

	for (size_t i = 0; i < r->o->warned.n; i++) {
		if (!strcmp(r->o->warned.v[i], id)) {
			free(id);
			return;
		}
	}
	strlist_add_take(&r->o->warned, id);
	strlist_add_take(r->warnings, xstrfmt("%s:%d: %s", r->file, r->line,
					      msg));
}

char *sshcfg_display(const struct sshcfg_query *q, const char *path)
{
	size_t n = q->home ? strlen(q->home) : 0;

	if (n > 1 && !strncmp(path, q->home, n) && path[n] == '/')
		return xstrfmt("~%s", path + n);
	return xstrdup(path);
}

void sshcfg_opts_init(struct sshcfg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port.v = o->identities_only.v = o->strict.v = -1;
	o->hash_known_hosts.v = o->connect_timeout.v = -1;
	o->alive_interval.v = o->alive_count.v = o->canonicalize.v = -1;
	o->jump_port = -1;
}

static void str_release(struct sshcfg_str *s)
{
	free(s->v);
	free(s->at);
}

void sshcfg_opts_release(struct sshcfg_opts *o)
{
	str_release(&o->hostname);
	str_release(&o->user);
	str_release(&o->host_key_alias);
	str_release(&o->identity_agent);
	str_release(&o->proxy_command);
	str_release(&o->ignore_unknown);
	free(o->port.at);
	free(o->identities_only.at);
	free(o->strict.at);
	free(o->hash_known_hosts.at);
	free(o->connect_timeout.at);
	free(o->alive_interval.at);
	free(o->alive_count.at);
	free(o->canonicalize.at);
	free(o->jump_user);
	free(o->jump_host);
	free(o->jump_extra);
	free(o->jump_spec);
	free(o->jump_at);
	strlist_release(&o->ids);
	strlist_release(&o->ids_at);
	strlist_release(&o->ids_key);
	strlist_release(&o->user_kh);
	strlist_release(&o->global_kh);
	free(o->user_kh_at);
	free(o->global_kh_at);
	strlist_release(&o->warned);
	sshcfg_opts_init(o);
}

/* ---- Match ---------------------------------------------------------- */

/* Runs cmd as ssh does (the user's shell, stdin and stdout on /dev/null):
 * its exit status, or -1 when it could not run or did not end normally. */
static int run_exec(struct sshcfg_reader *r, const char *cmd)
{
	const char *shell = getenv("SHELL");
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	int status, waited = 0;
	pid_t pid, got;

	if (!shell || !*shell)
		shell = "/bin/sh";
	if (access(shell, X_OK) < 0)
		return sshcfg_bad(r, "Match exec: shell %s is not executable: "
				  "%s", shell, strerror(errno));
	pid = fork();
	if (pid < 0)
		return sshcfg_bad(r, "Match exec: fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execl(shell, shell, "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* ssh waits as long as it takes; ferry gives up after a while. */
	while ((got = waitpid(pid, &status, WNOHANG)) == 0 &&
	       waited < EXEC_TIMEOUT_S * 50) {
		nanosleep(&tick, NULL);
		waited++;
	}
	if (got == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return sshcfg_bad(r, "Match exec '%s' still running after %d s",
				  cmd, EXEC_TIMEOUT_S);
	}
	if (got < 0 || !WIFEXITED(status))
		return sshcfg_bad(r, "Match exec '%s' did not exit normally", cmd);
	return WEXITSTATUS(status);
}

static int exec_criterion(struct sshcfg_reader *r, const char *host, int port,
			  const char *ruser, const char *arg, int skip,
			  int *matched)
{
	const struct sshcfg_query *q = r->q;
	char portstr[16], uidstr[32], *shorthost, *hash;
	struct buf cmd = BUF_INIT, why = BUF_INIT;
	int rc;

	snprintf(portstr, sizeof(portstr), "%d", port);
	snprintf(uidstr, sizeof(uidstr), "%lu", q->uid);
	shorthost = xstrndup(q->thishost, strcspn(q->thishost, "."));
	hash = sshcfg_conn_hash(q->thishost, host, portstr, ruser);
	{
		const struct sshcfg_token t[] = {
			{ 'C', hash }, { 'L', shorthost }, { 'd', q->pw_dir },
			{ 'h', host },
			{ 'k', r->o->host_key_alias.v ? r->o->host_key_alias.v :
			       host },
			{ 'l', q->thishost }, { 'n', q->host }, { 'p', portstr },
			{ 'r', ruser }, { 'u', q->local_user }, { 'i', uidstr },
		};

		rc = sshcfg_expand(arg, t, sizeof(t) / sizeof(t[0]), 0, &cmd,
				   &why);
	}
	free(shorthost);
	free(hash);
	if (rc < 0)
		rc = sshcfg_bad(r, "Match exec: %s", buf_str(&why));
	else if (skip)	/* an earlier criterion failed: ssh does not run it */
		rc = 0;
	else if ((rc = run_exec(r, buf_str(&cmd))) >= 0)
		*matched = rc == 0, rc = 0;
	buf_release(&cmd);
	buf_release(&why);
	return rc;
}

/* match_cfg_line(): 0 with *result set, or -1.  *cond moves past what was
 * read (NULL when the line was used up). */
static int match_line(struct sshcfg_reader *r, char **cond, int *result_out)
{
	const struct sshcfg_opts *o = r->o;
	const char *ruser = o->user.v ? o->user.v : r->q->local_user;
	char *cp = *cond, *attrib, *oattrib, *arg, *host;
	int port = o->port.v <= 0 ? 22 : o->port.v;
	int result = 1, attributes = 0, negate, m, rc = -1;

	if (r->final || !o->hostname.v) {
		host = xstrdup(r->final && o->hostname.v ? o->hostname.v :
			       r->host);
	} else {
		const struct sshcfg_token t[] = { { 'h', r->host } };
		struct buf b = BUF_INIT, why = BUF_INIT;

		if (sshcfg_expand(o->hostname.v, t, 1, 0, &b, &why) < 0) {
			sshcfg_bad(r, "HostName (%s): %s", o->hostname.at,
				   buf_str(&why));
			buf_release(&b);
			buf_release(&why);
			return -1;
		}
		buf_release(&why);
		host = buf_detach(&b, NULL);
	}
	while ((oattrib = attrib = sshcfg_strdelim(&cp)) && *attrib) {
		if (*attrib == '#') {
			cp = NULL;
			break;
		}
		arg = NULL;
		negate = attrib[0] == '!';
		if (negate)
			attrib++;
		if (!strcasecmp(attrib, "all")) {
			if (attributes > 1 || ((arg = sshcfg_strdelim(&cp)) &&
					       *arg && *arg != '#')) {
				sshcfg_bad(r, "'%s' cannot be combined with "
					   "other Match attributes", oattrib);
				goto out;
			}
			if (arg && *arg == '#')
				cp = NULL;
			if (result)
				result = negate ? 0 : 1;
			goto done;
		}
		attributes++;
		if (!strcasecmp(attrib, "canonical") ||
		    !strcasecmp(attrib, "final")) {
			if (!strcasecmp(attrib, "final") && r->want_final)
				*r->want_final = 1;
			if (!!r->final == negate)
				result = 0;
			continue;
		}
		arg = sshcfg_strdelim(&cp);
		if (!arg || !*arg || *arg == '#') {
			sshcfg_bad(r, "Match %s needs an argument", attrib);
			goto out;
		}
		if (!strcasecmp(attrib, "host")) {
			m = sshcfg_match_hostname(host, arg) == 1;
		} else if (!strcasecmp(attrib, "originalhost")) {
			m = sshcfg_match_hostname(r->q->host, arg) == 1;
		} else if (!strcasecmp(attrib, "user")) {
			m = sshcfg_match_list(ruser, arg, 0) == 1;
		} else if (!strcasecmp(attrib, "localuser")) {
			m = sshcfg_match_list(r->q->local_user, arg, 0) == 1;
		} else if (!strcasecmp(attrib, "exec")) {
			m = 0;
			if (exec_criterion(r, host, port, ruser, arg,
					   result != 1, &m) < 0)
				goto out;
			if (result != 1)
				continue;
		} else {
			sshcfg_bad(r, "unsupported Match attribute '%s'", attrib);
			goto out;
		}
		if (m == negate)
			result = 0;
	}
	if (attributes == 0) {
		sshcfg_bad(r, "Match needs one or more attributes");
		goto out;
	}
done:
	*cond = cp;
	*result_out = result;
	rc = 0;
out:
	free(host);
	return rc;
}

/* ---- Host and Include ----------------------------------------------- */

static int host_line(struct sshcfg_reader *r, struct strlist *av, size_t *ai,
		     int *activep, int flags)
{
	*activep = 0;
	for (; *ai < av->n; (*ai)++) {
		const char *arg = av->v[*ai];
		int negated;

		if (!*arg)
			return sshcfg_bad(r, "Host with an empty pattern");
		if (flags & SSHCFG_RF_NEVERMATCH) {
			*ai = av->n;
			break;
		}
		negated = *arg == '!';
		if (!sshcfg_match_pattern(r->host, arg + negated))
			continue;
		if (negated) {	/* a negated match ends the block */
			*activep = 0;
			*ai = av->n;
			break;
		}
		*activep = 1;
	}
	return 0;
}

static int include_line(struct sshcfg_reader *r, struct strlist *av, size_t *ai,
			int *activep, int flags, int depth)
{
	for (; *ai < av->n; (*ai)++) {
		const char *arg = av->v[*ai];
		int oactive = *activep, gflags = 0, rc;
		char *path;
		glob_t gl;

		if (!*arg)
			return sshcfg_bad(r, "Include with an empty argument");
		if (*arg == '~' && !(flags & SSHCFG_RF_USER))
			return sshcfg_bad(r, "bad Include path %s (~ in a "
					  "system file)", arg);
		if (*arg != '/' && *arg != '~')
			path = (flags & SSHCFG_RF_USER) ?
			       xstrfmt("%s/.ssh/%s", r->q->home ? r->q->home : "",
				       arg) :
			       xstrfmt("/etc/ssh/%s", arg);
		else if ((arg[1] == '/' || arg[1] == '\0') && *arg == '~' &&
			 r->q->home)
			path = xstrfmt("%s%s", r->q->home, arg + 1);
		else
			path = xstrdup(arg);
		if (*path == '~')
			gflags = GLOB_TILDE;	/* ~user/ */
		memset(&gl, 0, sizeof(gl));
		rc = glob(path, gflags, NULL, &gl);
		free(path);
		if (rc == GLOB_NOMATCH)
			continue;
		if (rc != 0)
			return sshcfg_bad(r, "Include %s: glob failed", arg);
		for (size_t i = 0; i < gl.gl_pathc; i++) {
			int f = flags | SSHCFG_RF_CHECKPERM |
				(oactive ? 0 : SSHCFG_RF_NEVERMATCH);

			rc = read_file(r, gl.gl_pathv[i], f, activep, depth + 1);
			if (rc == 0 && errno != ENOENT)
				rc = sshcfg_bad(r, "Include: cannot open %s: %s",
						gl.gl_pathv[i], strerror(errno));
			*activep = oactive;
			if (rc < 0) {
				globfree(&gl);
				return -1;
			}
		}
		globfree(&gl);
	}
	return 0;
}

static int process_line(struct sshcfg_reader *r, char *line, int *activep,
			int flags, int depth)
{
	struct strlist av = STRLIST_INIT;
	size_t ai = 0, len = strlen(line);
	const char *name = NULL, *why = NULL;
	char *str = line, *keyword;
	enum sshcfg_kw kw;
	int rc = -1;

	if (len == 0)
		return 0;
	for (len--; len > 0; len--) {
		if (!strchr(WHITESPACE "\f", line[len]))
			break;
		line[len] = '\0';
	}
	keyword = sshcfg_strdelim(&str);
	if (!keyword)
		return 0;
	if (!*keyword)
		keyword = sshcfg_strdelim(&str);
	if (!keyword || !*keyword || *keyword == '\n' || *keyword == '#')
		return 0;
	sshcfg_lower(keyword);
	if (str)
		str += strspn(str, WHITESPACE);
	if (!str || !*str)
		return sshcfg_bad(r, "no argument after keyword \"%s\"", keyword);
	kw = sshcfg_lookup(keyword, &name, &why);
	if (sshcfg_split(str, &av, 1) < 0) {
		sshcfg_bad(r, "invalid quotes");
		goto out;
	}
	if (kw == K_UNKNOWN) {
		const char *ign = r->o->ignore_unknown.v;

		if (!ign || sshcfg_match_list(keyword, ign, 1) != 1) {
			char *msg = xstrfmt("unknown keyword '%s' ignored",
					    keyword);

			sshcfg_warn_once(r, keyword, msg);
			free(msg);
		}
		ai = av.n;
	} else if (kw == K_IGNORE) {
		ai = av.n;
	} else if (kw == K_MATCH) {
		char *cond = xstrdup(str), *cp = cond;
		int res = 0;

		if (match_line(r, &cp, &res) < 0) {
			free(cond);
			goto out;
		}
		*activep = (flags & SSHCFG_RF_NEVERMATCH) ? 0 : res;
		if (!cp || !*cp)
			ai = av.n;
		free(cond);
	} else if (kw == K_HOST) {
		if (host_line(r, &av, &ai, activep, flags) < 0)
			goto out;
	} else if (kw == K_INCLUDE) {
		if (include_line(r, &av, &ai, activep, flags, depth) < 0)
			goto out;
	} else if (sshcfg_keyword(r, kw, name, why, str, &av, &ai, *activep,
				  flags) < 0) {
		goto out;
	}
	if (ai < av.n) {
		sshcfg_bad(r, "%s: extra arguments at end of line", name);
		goto out;
	}
	rc = 0;
out:
	strlist_release(&av);
	return rc;
}

/* 1 when read, 0 when it cannot be opened (errno says why), -1 on error. */
static int read_file(struct sshcfg_reader *r, const char *path, int flags,
		     int *activep, int depth)
{
	char *line = NULL, *outer = r->file;
	int outer_line = r->line, rc = 1;
	size_t cap = 0;
	struct stat st;
	FILE *f;

	if (depth > MAX_DEPTH)
		return sshcfg_bad(r, "Include: more than %d levels deep at %s",
				  MAX_DEPTH, path);
	f = fopen(path, "re");
	if (!f)
		return 0;
	r->file = sshcfg_display(r->q, path);
	r->line = 0;
	if ((flags & SSHCFG_RF_CHECKPERM) && (fstat(fileno(f), &st) < 0 ||
	    (st.st_uid != 0 && st.st_uid != getuid()) || (st.st_mode & 022))) {
		err_set(r->e, FX_USAGE, "%s: bad owner or permissions (ssh "
			"refuses a file others may write)", r->file);
		rc = -1;
	}
	while (rc == 1 && getline(&line, &cap, f) != -1) {
		r->line++;
		if (process_line(r, line, activep, flags, depth) < 0)
			rc = -1;
	}
	free(line);
	fclose(f);
	free(r->file);
	r->file = outer;
	r->line = outer_line;
	return rc;
}

int sshcfg_read(const struct sshcfg_query *q, struct sshcfg_opts *o,
		const char *host, int final, int *want_final,
		struct strlist *warnings, struct err *e)
{
	struct sshcfg_reader r = { q, o, warnings, e, host, final, want_final,
			    NULL, 0 };
	int active, rc;

	if (q->user_file) {
		active = 1;
		int flags = SSHCFG_RF_USER |
			    (q->check_perms ? SSHCFG_RF_CHECKPERM : 0);

		rc = read_file(&r, q->user_file, flags, &active, 0);
		if (rc < 0)
			return -1;
		if (rc == 0 && q->must_exist)
			return err_set(e, FX_USAGE, "ssh_config %s: %s",
				       q->user_file, strerror(errno));
	}
	if (q->system_file) {
		active = 1;
		if (read_file(&r, q->system_file, 0, &active, 0) < 0)
			return -1;
	}
	return 0;
}


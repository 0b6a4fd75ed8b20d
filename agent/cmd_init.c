/*
 * ferry init [--dir PROJECT] [--host HOST] [--force]: a starter ferry.ini
 * from what the project holds -- its compose files, their services and
 * images (postgres, redis, minio, neo4j become sections whose secrets are
 * the ${VAR}s the compose files themselves use), its env files, a backup
 * dir and retention.  Every key has a comment above it; what only the
 * user can choose (the server's address, remote_dir, off-site storage) is
 * left commented out.  Written 0600, never over an existing file unless
 * --force.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/cli.h"
#include "conf/compose_scan.h"
#include "util/fdio.h"

struct init {
	const char *root;	/* PROJECT as given */
	char real_root[PATH_MAX];	/* and resolved */
	int rel;		/* the file sits in PROJECT: relative paths */
	struct compose_project cp;
	struct buf text;
	struct strlist found;	/* summary lines */
	int host_line;		/* the [server] host line */
};

static void line(struct init *in, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void line(struct init *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&in->text, fmt, ap);
	va_end(ap);
	buf_addch(&in->text, '\n');
}

static void blank(struct init *in)
{
	buf_addch(&in->text, '\n');
}

static int lines_so_far(const struct init *in)
{
	int n = 0;

	for (size_t i = 0; i < in->text.len; i++)
		n += in->text.p[i] == '\n';
	return n;
}

/* A path under PROJECT as the file should say it. */
static char *path_of(const struct init *in, const char *rel)
{
	if (in->rel)
		return xstrdup(rel);
	if (!strcmp(rel, "."))
		return xstrdup(in->real_root);
	return xstrfmt("%s/%s", in->real_root, rel);
}

/* 1 when a value as written uses a variable: ${X}, ${X:-d} or $X. */
static int has_ref(const char *v)
{
	for (const char *p = v; (p = strchr(p, '$')); p++)
		if (p[1] == '{' || p[1] == '_' ||
		    (p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z'))
			return 1;
	return 0;
}

/* A value that fits on one ini line as it is. */
static int one_line(const char *v)
{
	return v && *v && !strpbrk(v, "\n\r;#");
}

/* A key, active or commented out, with its comment above it. */
static void key(struct init *in, int active, const char *name,
		const char *value, const char *why)
{
	line(in, "; %s", why);
	line(in, "%s%s = %s", active ? "" : "; ", name, value);
}

/* A secret: active only as the ${VAR} the compose file uses; a literal
 * one is never copied into the config. */
static void secret(struct init *in, const char *name, const char *value,
		   const char *from, const char *var_hint)
{
	if (value && one_line(value) && has_ref(value)) {
		char *why = xstrfmt("%s: as compose has it (%s)", name, from);

		key(in, 1, name, value, why);
		free(why);
	} else {
		char *why = xstrfmt("%s: compose gives %s no ${VAR} to name; put "
				    "it in an env file and refer to it", name,
				    value ? "a literal value" : "it");
		char *v = xstrfmt("${%s}", var_hint);

		key(in, 0, name, v, why);
		free(why);
		free(v);
	}
}

/* The host port compose publishes for cport, or the default (commented
 * out, with why) when it publishes none. */
static void port_key(struct init *in, const struct compose_service *s,
		     const char *name, const char *cport)
{
	char *host = compose_published(s, cport);

	if (host && one_line(host)) {
		char *why = xstrfmt("%s: the port compose publishes for %s on the "
				    "server (%s)", name, cport, s->name);

		key(in, 1, name, host, why);
		free(why);
	} else {
		char *why = xstrfmt("%s: compose publishes no port for %s; ferry "
				    "reaches 127.0.0.1 on the server, so publish "
				    "one (\"127.0.0.1:%s:%s\")", name, cport, cport,
				    cport);

		key(in, 0, name, cport, why);
		free(why);
	}
	free(host);
}

static void header(struct init *in, const char *sect,
		   const struct compose_service *s, const char *what)
{
	blank(in);
	line(in, "[%s]", sect);
	line(in, "; %s: service '%s' (%s) in %s:%d", what, s->name,
	     s->image ? s->image : "built here", s->file, s->line);
	strlist_add_take(&in->found, xstrfmt("[%s] from service '%s' (%s)", sect,
					     s->name, s->image ? s->image : "-"));
}

static void sect_postgres(struct init *in, const struct compose_service *s)
{
	const char *user = compose_env(s, "POSTGRES_USER");
	const char *db = compose_env(s, "POSTGRES_DB");
	char *from = xstrfmt("POSTGRES_PASSWORD in %s", s->file);

	header(in, "postgres", s, "PostgreSQL");
	key(in, 1, "host", "127.0.0.1", "host: PostgreSQL as the server sees it "
	    "(ferry tunnels to it through SSH)");
	port_key(in, s, "port", "5432");
	if (user && one_line(user))
		key(in, 1, "user", user, "user: POSTGRES_USER, as compose has it");
	else
		key(in, 0, "user", "postgres", "user: compose sets no "
		    "POSTGRES_USER, so the image's default");
	secret(in, "password", compose_env(s, "POSTGRES_PASSWORD"), from,
	       "POSTGRES_PASSWORD");
	if (db && one_line(db)) {
		char *why = xstrfmt("databases: every database (compose creates "
				    "%s); or a comma list", db);

		key(in, 0, "databases", "all", why);
		free(why);
	} else {
		key(in, 0, "databases", "all", "databases: every database, or a "
		    "comma list");
	}
	free(from);
}

/* redis-server --requirepass X: X. */
static char *requirepass(const struct compose_service *s)
{
	const char *p = s->command ? strstr(s->command, "--requirepass") : NULL;
	size_t n;

	if (!p)
		return NULL;
	p += strlen("--requirepass");
	p += strspn(p, " \t=");
	n = strcspn(p, " \t");
	return n ? xstrndup(p, n) : NULL;
}

static void sect_redis(struct init *in, const struct compose_service *s)
{
	char *pass = requirepass(s);
	const char *env = compose_env(s, "REDIS_PASSWORD");

	header(in, "redis", s, "Redis");
	key(in, 1, "host", "127.0.0.1", "host: Redis as the server sees it");
	port_key(in, s, "port", "6379");
	if (pass)
		secret(in, "password", pass, "its --requirepass", "REDIS_PASSWORD");
	else if (env)
		secret(in, "password", env, "REDIS_PASSWORD", "REDIS_PASSWORD");
	else
		line(in, "; password: compose sets none (no AUTH)");
	free(pass);
}

static void sect_minio(struct init *in, const struct compose_service *s)
{
	const char *user = compose_env(s, "MINIO_ROOT_USER");
	const char *pass = compose_env(s, "MINIO_ROOT_PASSWORD");
	const char *ukey = user ? "MINIO_ROOT_USER" : "MINIO_ACCESS_KEY";
	const char *pkey = pass ? "MINIO_ROOT_PASSWORD" : "MINIO_SECRET_KEY";
	char *host = compose_published(s, "9000");
	char *url, *why;

	if (!user)
		user = compose_env(s, "MINIO_ACCESS_KEY");
	if (!pass)
		pass = compose_env(s, "MINIO_SECRET_KEY");
	header(in, "minio", s, "MinIO");
	url = xstrfmt("http://127.0.0.1:%s", host && one_line(host) ? host : "9000");
	key(in, host != NULL, "endpoint", url, host ?
	    "endpoint: the S3 API as the server sees it (the port compose "
	    "publishes for 9000)" : "endpoint: compose publishes no port for "
	    "9000; publish one for ferry to reach it");
	why = xstrfmt("access_key: %s, as compose has it", ukey);
	if (user && one_line(user))
		key(in, 1, "access_key", user, why);
	else
		secret(in, "access_key", NULL, ukey, ukey);
	free(why);
	why = xstrfmt("%s in %s", pkey, s->file);
	secret(in, "secret_key", pass, why, pkey);
	free(why);
	free(url);
	free(host);
}

static void sect_neo4j(struct init *in, const struct compose_service *s)
{
	const char *auth = compose_env(s, "NEO4J_AUTH");
	char *host = compose_published(s, "7474");
	char *url = xstrfmt("http://127.0.0.1:%s",
			    host && one_line(host) ? host : "7474");
	char *user = NULL, *pass = NULL;

	/* NEO4J_AUTH is USER/PASSWORD; the slash outside any ${...}. */
	if (auth && strcmp(auth, "none")) {
		int depth = 0;

		for (const char *p = auth; *p; p++) {
			if (p[0] == '$' && p[1] == '{')
				depth++;
			else if (*p == '}' && depth)
				depth--;
			else if (*p == '/' && !depth) {
				user = xstrndup(auth, (size_t)(p - auth));
				pass = xstrdup(p + 1);
				break;
			}
		}
	}
	header(in, "neo4j", s, "Neo4j");
	key(in, host != NULL, "url", url, host ? "url: the HTTP API as the "
	    "server sees it (the port compose publishes for 7474)" :
	    "url: compose publishes no port for 7474; publish one for ferry "
	    "to reach it");
	if (user && one_line(user))
		key(in, 1, "user", user, "user: from NEO4J_AUTH, as compose has it");
	secret(in, "password", pass, "from NEO4J_AUTH", "NEO4J_PASSWORD");
	{
		char *why = xstrfmt("service: the compose service running Neo4j");

		key(in, 1, "service", s->name, why);
		free(why);
	}
	free(user);
	free(pass);
	free(url);
	free(host);
}

/* The sections init writes, in source_of()'s order. */
static void (*const sources[])(struct init *in,
			       const struct compose_service *s) = {
	sect_postgres, sect_redis, sect_minio, sect_neo4j,
};

/* Which source an image is: its name without owner and tag. */
static int source_of(const struct compose_service *s)
{
	char *base = compose_image_base(s);
	int r = -1;

	if (!base)
		return -1;
	if (!strncmp(base, "postgres", 8) || !strcmp(base, "postgis") ||
	    !strcmp(base, "timescaledb"))
		r = 0;
	else if (!strncmp(base, "redis", 5) || !strcmp(base, "valkey"))
		r = 1;
	else if (!strcmp(base, "minio"))	/* not minio/mc, the client */
		r = 2;
	else if (!strncmp(base, "neo4j", 5))
		r = 3;
	free(base);
	return r;
}

/* The env file ${VAR}s come from: a dev one first, never an example. */
static int env_rank(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	if (strstr(b, "example") || strstr(b, "sample") || strstr(b, "template"))
		return 5;
	if (strstr(b, "dev"))
		return 0;
	if (!strcmp(b, ".env"))
		return 1;
	if (strstr(b, "local"))
		return 2;
	if (strstr(b, "prod") || strstr(b, "test") || strstr(b, "ci"))
		return 4;
	return 3;
}

static void sect_server(struct init *in, const char *host)
{
	line(in, "[server]");
	line(in, "; host: the dev server's name or address (or \"local\" to run "
	     "everything");
	line(in, "; on this machine); only you know it%s", host ? "" :
	     ": set it, then run 'ferry check'");
	in->host_line = lines_so_far(in) + 1;
	line(in, "%shost = %s", host ? "" : "; ", host ? host : "dev.example.invalid");
	line(in, "; user: the SSH user (default: your local user name)");
	line(in, "; user = deploy");
	line(in, "; identity: keys to try after ssh-agent (passphrase from "
	     "$FERRY_SSH_PASSPHRASE)");
	line(in, "; identity = ~/.ssh/id_ed25519");
}

static void sect_project(struct init *in, const char *name)
{
	const char *env = NULL;

	for (size_t i = 0; i < in->cp.env_files.n; i++)
		if (env_rank(in->cp.env_files.v[i]) < 5 &&
		    (!env || env_rank(in->cp.env_files.v[i]) < env_rank(env)))
			env = in->cp.env_files.v[i];
	blank(in);
	line(in, "[project]");
	key(in, 1, "name", name, in->cp.name ? "name: the compose project's "
	    "name (archives are named after it)" : "name: the project folder's "
	    "name (archives are named after it)");
	{
		char *dir = path_of(in, ".");

		key(in, 1, "local_dir", dir, "local_dir: the tree deploy sends "
		    "(relative to this file)");
		free(dir);
	}
	{
		char *rd = xstrfmt("/srv/%s", name);

		key(in, 0, "remote_dir", rd, "remote_dir: where the project lives "
		    "on the server; only you know it");
		free(rd);
	}
	if (env) {
		struct buf why = BUF_INIT;
		char *p = path_of(in, env);

		buf_addstr(&why, "env_file: where ${VAR}s below come from");
		for (size_t i = 0, more = 0; i < in->cp.env_files.n; i++)
			if (in->cp.env_files.v[i] != env)
				buf_printf(&why, "%s%s", more++ ? ", " :
					   " (also found: ", in->cp.env_files.v[i]);
		if (in->cp.env_files.n > 1)
			buf_addch(&why, ')');
		key(in, 1, "env_file", p, buf_str(&why));
		buf_release(&why);
		free(p);
		strlist_add_take(&in->found, xstrfmt("env_file %s", env));
	} else {
		key(in, 0, "env_file", ".env", "env_file: a dotenv file for the "
		    "${VAR}s below (none found)");
	}
}

static void sect_deploy(struct init *in)
{
	struct buf files = BUF_INIT;

	if (!in->cp.files.n)
		return;
	for (size_t i = 0; i < in->cp.files.n; i++)
		buf_printf(&files, "%s%s", i ? ", " : "", in->cp.files.v[i]);
	blank(in);
	line(in, "[deploy]");
	key(in, 1, "compose_dir", in->cp.dir, "compose_dir: where compose runs, "
	    "relative to remote_dir (where the compose files are)");
	key(in, 1, "compose_files", buf_str(&files), "compose_files: every "
	    "compose file found there, main first; keep those the server runs");
	if (in->cp.name)
		key(in, 0, "project_name", in->cp.name, "project_name: compose -p "
		    "(the files name it already)");
	key(in, 0, "exclude", "uploads/, data/", "exclude: more paths deploy "
	    "never sends nor deletes (gitignore patterns)");
	strlist_add_take(&in->found, xstrfmt("compose files in %s: %s",
					     in->cp.dir, buf_str(&files)));
	buf_release(&files);
}

static void sect_backup(struct init *in)
{
	blank(in);
	line(in, "[backup]");
	key(in, 1, "dir", "~/.local/share/ferry/backups", "dir: where archives "
	    "are written (0600)");
	line(in, "; retention, restic-style: the union of these is kept");
	key(in, 1, "keep_last", "3", "keep_last: the newest archives");
	key(in, 1, "keep_daily", "7", "keep_daily: one a day, for this many days");
	key(in, 1, "keep_weekly", "4", "keep_weekly: one a week");
	key(in, 1, "keep_monthly", "6", "keep_monthly: one a month");
	blank(in);
	line(in, "; [offsite]: a copy of each archive in S3 storage; only you "
	     "can choose it");
	line(in, "; [offsite]");
	line(in, "; url = s3://bucket/%s", "prefix");
	line(in, "; endpoint = https://s3.example.invalid");
	line(in, "; access_key = ${S3_ACCESS_KEY}");
	line(in, "; secret_key = ${S3_SECRET_KEY}");
}

/* The sources found, then the services ferry has no section for. */
static void sect_sources(struct init *in)
{
	int done[sizeof(sources) / sizeof(*sources)] = { 0 };
	struct buf others = BUF_INIT;

	for (size_t i = 0; i < in->cp.n; i++) {
		const struct compose_service *s = &in->cp.svc[i];
		int k = source_of(s);

		if (k >= 0 && !done[k]) {
			sources[k](in, s);
			done[k] = 1;
		} else {
			buf_printf(&others, "%s%s", others.len ? ", " : "", s->name);
		}
	}
	if (others.len) {
		blank(in);
		line(in, "; services ferry does not back up (yet), or a second "
		     "one of a kind:");
		line(in, "; %s", buf_str(&others));
		strlist_add_take(&in->found, xstrfmt("not backed up: %s",
						     buf_str(&others)));
	}
	buf_release(&others);
}

/* Writes text to path, 0600: through a temporary name; without force a
 * link() that fails on an existing file, so nothing is ever replaced. */
static int write_file(const char *path, const struct buf *text, int force,
		      struct err *e)
{
	char *tmp = xstrfmt("%s.XXXXXX", path);
	int fd = mkstemp(tmp), r = -1;

	if (fd < 0) {
		err_set(e, FX_FAIL, "init: cannot write %s: %s", path,
			strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || fd_write_all(fd, text->p, text->len) < 0 ||
	    fsync(fd) < 0) {
		err_set(e, FX_FAIL, "init: write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (force ? rename(tmp, path) : link(tmp, path)) {
		if (errno == EEXIST)
			err_set(e, FX_FAIL, "init: %s already exists; --force "
				"replaces it", path);
		else
			err_set(e, FX_FAIL, "init: write %s: %s", path,
				strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (!force)
		unlink(tmp);
	r = 0;
out:
	free(tmp);
	return r;
}

static int cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "host", required_argument, NULL, 'H' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct init in = { 0 };
	struct err e = ERR_INIT;
	const char *host = NULL;
	char *path = NULL, *name = NULL, real_dir[PATH_MAX];
	struct stat st;
	int ch, force = 0, bad = 0, code = FX_OK;

	in.root = ".";
	while ((ch = getopt_long(argc, argv, ":d:f", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': in.root = optarg; break;
		case 'H': host = optarg; break;
		case 'f': force = 1; break;
		default: return cli_bad_option("init", ch, argc, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("init", "unexpected argument '%s'",
				       argv[optind]);
	/* PROJECT that is not a directory is a wrong argument (2); a file
	 * that cannot be written, or is there already, a failed action (1). */
	if (!realpath(in.root, in.real_root) || stat(in.real_root, &st) < 0)
		bad = errno;
	else if (!S_ISDIR(st.st_mode))
		bad = ENOTDIR;
	if (bad) {
		err_set(&e, FX_USAGE, "init: %s: %s", in.root, strerror(bad));
		return cli_fail(&e);
	}
	if (host && (!*host || strpbrk(host, " \t\n;#"))) {
		return cli_usage_error("init", "--host '%s': expected a host name "
				       "or address", host);
	}
	/* -c FILE names the file to write; else PROJECT/ferry.ini. */
	path = cli->config_path ? xstrdup(cli->config_path) :
		xstrfmt("%s/ferry.ini", in.root);
	{
		char *slash = strrchr(path, '/');
		char *dir = slash ? xstrndup(path, (size_t)(slash - path) + !(slash - path)) :
			xstrdup(".");

		in.rel = realpath(dir, real_dir) && !strcmp(real_dir, in.real_root);
		free(dir);
	}
	if (compose_scan(in.root, &in.cp, &e) < 0) {
		code = cli_fail(&e);
		goto out;
	}
	if (in.cp.name)
		name = xstrdup(in.cp.name);
	else
		name = xstrdup(strrchr(in.real_root, '/')[1] ?
			       strrchr(in.real_root, '/') + 1 : "project");
	line(&in, "; ferry.ini for %s, written by 'ferry init' from what %s "
	     "holds.", name, in.rel ? "this folder" : in.root);
	line(&in, "; Every key ferry knows: conf/ferry.ini.example, ferry(1).  "
	     "Check it: ferry config");
	blank(&in);
	sect_server(&in, host);
	sect_project(&in, name);
	sect_deploy(&in);
	sect_backup(&in);
	sect_sources(&in);
	if (write_file(path, &in.text, force, &e) < 0) {
		code = cli_fail(&e);
		goto out;
	}
	if (!cli_quiet()) {
		printf("wrote %s (mode 0600)\n", path);
		for (size_t i = 0; i < in.found.n; i++)
			printf("  %s\n", in.found.v[i]);
		if (!in.cp.files.n)
			printf("  no compose files found in %s or its folders\n",
			       in.root);
		if (!host)
			printf("next: set host in [server] (line %d) and "
			       "remote_dir in [project]", in.host_line);
		else
			printf("next: set remote_dir in [project]");
		printf(", then 'ferry%s%s check'\n", cli->config_path ? " -c " :
		       "", cli->config_path ? path : "");
	}
out:
	compose_project_release(&in.cp);
	buf_release(&in.text);
	strlist_release(&in.found);
	free(path);
	free(name);
	return code;
}

const struct cli_cmd cmd_init_entry = {
	"init", cmd_init, "[--dir PROJECT] [--host HOST] [--force]",
	"write a starter ferry.ini from the project's compose files",
	"  --dir PROJECT     the project to look at (default: here); the file\n"
	"                    goes to PROJECT/ferry.ini, or to -c FILE\n"
	"  --host HOST       the dev server (else [server] host is left for\n"
	"                    you to set)\n"
	"  --force           replace an existing file\n"
	"compose files (./ or a first-level folder such as deploy/) give\n"
	"[deploy] and, for postgres, redis, minio and neo4j images, their\n"
	"sections with the ${VAR}s compose uses for secrets; env files give\n"
	"[project] env_file.  Written 0600; exit 1 if the file exists or\n"
	"cannot be written, 2 if PROJECT is not a directory or a compose\n"
	"file is not valid YAML\n",
	NULL,
};

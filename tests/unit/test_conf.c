#include "conf/conf.h"
#include "tests/unit/t.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[] = "/tmp/ferry-test-conf-XXXXXX";

/* Loads text and returns the load's error, else its first problem ("" for
 * neither): what `ferry config` would say first. */
static const char *load_err(const char *text)
{
	static struct err e;
	static char first[1024];
	struct strlist p = STRLIST_INIT;
	struct conf *c = NULL;

	err_clear(&e);
	if (conf_load_string(&c, text, "t.ini", &e) < 0)
		return e.msg;
	conf_problems(c, NULL, &p);
	snprintf(first, sizeof(first), "%s", p.n ? p.v[0] : "");
	strlist_release(&p);
	conf_free(c);
	return first;
}

/* Loads text that must load; NULL (and a failed check) when it does not. */
static struct conf *load_ok(const char *text, const char *name)
{
	struct conf *c = NULL;
	struct err e = ERR_INIT;

	if (conf_load_string(&c, text, "t.ini", &e) < 0) {
		printf("not ok - %s: %s\n", name, e.msg);
		t_failed = 1;
		return NULL;
	}
	return c;
}

static char *write_file(const char *name, const char *text, int mode)
{
	char *path = xstrfmt("%s/%s", scratch, name);
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
	return path;
}

static void errors(void)
{
	T_STREQ(load_err("[server]\nhost = h\n[postgres]\npasword = x\n"),
		"t.ini:4: unknown key 'pasword' in [postgres]", "unknown key");
	T_STREQ(load_err("[server]\nhost = h\n\n[postgress]\n"),
		"t.ini:4: unknown section [postgress]", "unknown section");
	T_STREQ(load_err("[server]\nhost = h\nport = 99999\n"),
		"t.ini:3: bad value '99999' for port in [server]: expected a port "
		"number from 1 to 65535", "bad port");
	T_STREQ(load_err("[server]\nhost = h\nconnect_timeout = soon\n"),
		"t.ini:3: bad value 'soon' for connect_timeout in [server]: expected "
		"a duration such as 30s, 5m or 1h", "bad duration");
	T_STREQ(load_err("[server]\nhost = h\n[postgres]\ntunnel = perhaps\n"),
		"t.ini:4: bad value 'perhaps' for tunnel in [postgres]: expected "
		"yes or no", "bad boolean");
	T_STREQ(load_err("[server]\nhost = h\nhost_key_check = never\n"),
		"t.ini:3: bad value 'never' for host_key_check in [server]: expected "
		"one of strict|accept-new|off", "bad enum");
	T_STREQ(load_err("[server]\nhost = h\n[backup]\ncompression_level = 30\n"),
		"t.ini:4: bad value '30' for compression_level in [backup]: expected "
		"a whole number from 1 to 22", "int out of range");
	T_STREQ(load_err("[server]\nhost = h\nthis is not ini\n"),
		"t.ini:3: syntax error: expected '[section]' or 'key = value'",
		"syntax error");
	T_STREQ(load_err("[server\nhost = h\n"),
		"t.ini:1: syntax error: expected '[section]' or 'key = value'",
		"unclosed section header");
	T_STREQ(load_err("[server]\nport = 22\n"),
		"t.ini:1: missing required key 'host' in [server]", "missing host");
	T_STREQ(load_err("[backup]\nkeep_last = 1\n"),
		"t.ini: missing required key 'host' in [server]",
		"missing [server]");
	T_STREQ(load_err("host = h\n"),
		"t.ini:1: key 'host' outside of a section", "key before any section");
	T_STREQ(load_err("[server]\nhost = a\nhost = b\n"),
		"t.ini:3: duplicate key 'host' in [server] (first set on line 2)",
		"duplicate key");
	T_STREQ(load_err("[server]\nhost = h\n[postgres]\npassword = x\npassword_file = /y\n"),
		"t.ini:5: both password and password_file in [postgres] (the other "
		"on line 4): set one", "key and key_file together");
	T_STREQ(load_err("[server]\nhost = h\n[backup]\ndir = \"/srv/b\n"),
		"t.ini:4: dir in [backup]: a quote opens the value and does not "
		"close it", "unclosed quote");
	T_STREQ(load_err("[server]\nhost = h\n[files]\npaths = a, 'b\n"),
		"t.ini:4: paths in [files]: a quote opens the value and does not "
		"close it", "unclosed quote in a list item");
	T_STREQ(load_err("[server]\nhost = h\nport_file = /x\n"),
		"t.ini:3: unknown key 'port_file' in [server]",
		"_file only for secrets");
	T_STREQ(load_err("[server]\nhost = ${FERRY_TEST_UNSET_VAR}\n"),
		"t.ini:2: host in [server]: variable 'FERRY_TEST_UNSET_VAR' is not set",
		"unset variable");
	T_STREQ(load_err("[server]\nhost = h\n[minio]\nendpoint = ftp://x\n"),
		"t.ini:4: bad value 'ftp://x' for endpoint in [minio]: expected an "
		"http:// or https:// URL", "bad URL");
	T_STREQ(load_err("[server]\nhost = h\nport =\n"),
		"t.ini:3: empty value for port in [server] (to use the default, "
		"remove the line)", "empty value");
	T_STREQ(load_err("[server]\nhost =\n"),
		"t.ini:2: empty value for host in [server] (to use the default, "
		"remove the line)", "empty required value");
	T_STREQ(load_err("[server]\nhost = ${FERRY_TEST_EMPTY_VAR-}\n"),
		"t.ini:2: empty value for host in [server] (to use the default, "
		"remove the line)", "empty after expansion");
	T_STREQ(load_err("[server]\nhost = h\n[redis]\n[server]\nport = 2\n"),
		"t.ini:4: section [server] repeated (first on line 1); put its "
		"keys in one place", "repeated section");
	T_STREQ(load_err("[server]\nhost = h\np\xe4ss = x\n"),
		"t.ini:3: unknown key 'p\\344ss' in [server]",
		"invalid UTF-8 key name escaped");
	T_STREQ(load_err("[server]\nhost = h\na\tb = x\n"),
		"t.ini:3: unknown key 'a\\tb' in [server]",
		"control byte in key name escaped");
	T_STREQ(load_err("[server]\nhost = h\nidentity = /nonexistent/ferry-key\n"),
		"t.ini:3: identity in [server]: /nonexistent/ferry-key: No such "
		"file or directory", "missing identity names its line");
	T_STREQ(load_err("[server]\nhost = h\n[project]\nlocal_dir = /nonexistent/src\n"),
		"t.ini:4: local_dir in [project]: /nonexistent/src: No such file "
		"or directory", "missing local_dir names its line");
	T_STREQ(load_err("[server]\nhost = h\n[project]\nlocal_dir = /etc/hostname\n"),
		"t.ini:4: local_dir in [project]: /etc/hostname is not a directory",
		"local_dir that is a file");
}

/* Lines up to 64 KiB load; longer ones and NUL bytes have their own
 * message. */
static void long_lines(void)
{
	struct buf text = BUF_INIT;
	struct conf *c;
	struct strlist l = STRLIST_INIT;

	/* The 212-byte exclude list a new user wrote. */
	buf_addstr(&text, "[server]\nhost = h\n[deploy]\nexclude = ");
	for (int i = 0; i < 20; i++)
		buf_printf(&text, "%sdir-%02d/", i ? ", " : "", i);
	buf_addstr(&text, "\n");
	for (int i = 0; i < 40000; i++)
		buf_addstr(&text, ";");
	buf_addstr(&text, "\n[project]\nname = ");
	for (int i = 0; i < 60000; i++)
		buf_addch(&text, 'n');
	buf_addstr(&text, "\n");
	c = load_ok(buf_str(&text), "lines of 212 bytes and 60 KiB load");
	if (c) {
		conf_list(c, "deploy", "exclude", &l);
		T_OK(l.n == 20 && !strcmp(l.v[19], "dir-19/"), "long list read whole");
		T_OK(strlen(conf_str(c, "project", "name")) == 60000,
		     "60 KiB value read whole");
		strlist_release(&l);
		conf_free(c);
	}
	buf_reset(&text);
	buf_addstr(&text, "[server]\nhost = h\nuser = ");
	for (int i = 0; i < 70000; i++)
		buf_addch(&text, 'u');
	buf_addstr(&text, "\nport = 22\n");
	T_STREQ(load_err(buf_str(&text)), "t.ini:3: line longer than 65536 bytes",
		"a line past 64 KiB is named");
	buf_release(&text);
	{
		static const char bin[] = "[server]\nhost = h\n\x7f" "ELF\x02\x01\0\0";
		char *path = xstrfmt("%s/bin.ini", scratch);
		FILE *f = fopen(path, "w");
		struct err e = ERR_INIT;
		char *want = xstrfmt("%s:3: NUL byte: this is not a text file (a "
				     "binary file given as the config?)", path);

		fwrite(bin, 1, sizeof(bin) - 1, f);
		fclose(f);
		c = NULL;
		T_OK(conf_load(&c, path, &e) < 0, "a NUL byte fails the load");
		T_STREQ(e.msg, want, "a NUL byte has its own message");
		conf_free(c);
		free(want);
		free(path);
	}
}

/* config shows what a backup will take for [postgres] jobs left unset. */
static void jobs_origin(void)
{
	struct conf *c = load_ok("[server]\nhost = h\n[postgres]\nuser = u\n",
				 "unset jobs");

	T_OK(strstr(conf_origin(c, "postgres", "jobs"), "under 4 cores") != NULL,
	     "unset jobs: the origin says a small server takes 1");
	conf_free(c);
	c = load_ok("[server]\nhost = h\n[postgres]\njobs = 3\n", "jobs = 3");
	T_STREQ(conf_origin(c, "postgres", "jobs"), "t.ini:4", "set jobs: its line");
	conf_free(c);
}

/* Matching quotes around a value are dropped, for every key. */
static void quotes(void)
{
	struct conf *c = load_ok(
		"[server]\nhost = \"dev.example.invalid\"\nuser = 'deploy'\n"
		"[project]\nremote_dir = \"/srv/x\"\nname = \"a'b\"\n"
		"[deploy]\nexclude = \"uploads/\", 'data/'\nexclude = \"x/, y/\"\n"
		"compose_files = a.yml, \"b c.yml\"\n"
		"[postgres]\nport = \"5433\"\npassword = \"\"quoted\"\"\n", "quotes");
	struct strlist l = STRLIST_INIT;

	if (!c)
		return;
	T_STREQ(conf_str(c, "server", "host"), "dev.example.invalid", "double quotes dropped");
	T_STREQ(conf_str(c, "server", "user"), "deploy", "single quotes dropped");
	T_STREQ(conf_str(c, "project", "remote_dir"), "/srv/x", "quoted remote_dir");
	T_STREQ(conf_str(c, "project", "name"), "a'b", "other quotes inside stay");
	T_OK(conf_num(c, "postgres", "port") == 5433, "quoted number");
	T_STREQ(conf_str(c, "postgres", "password"), "\"quoted\"", "one pair only");
	conf_list(c, "deploy", "exclude", &l);
	T_OK(l.n == 4 && !strcmp(l.v[0], "uploads/") && !strcmp(l.v[1], "data/") &&
	     !strcmp(l.v[2], "x/") && !strcmp(l.v[3], "y/"), "list items unquoted");
	strlist_release(&l);
	conf_list(c, "deploy", "compose_files", &l);
	T_OK(l.n == 2 && !strcmp(l.v[1], "b c.yml"), "one quoted item");
	strlist_release(&l);
	conf_free(c);
}

static char unchecked_msg[1024];

static void record_unchecked(const char *msg)
{
	snprintf(unchecked_msg, sizeof(unchecked_msg), "%s", msg);
}

/* A broken value stops only what uses it. */
static void lazy(void)
{
	struct conf *c;
	struct err e = ERR_INIT;
	struct strlist p = STRLIST_INIT;

	unsetenv("FERRY_TEST_UNSET_NEO");
	c = load_ok("[server]\nhost = h\n[backup]\ndir = /tmp\n[neo4j]\n"
		    "password = ${FERRY_TEST_UNSET_NEO}\n[redis]\nport = many\n",
		    "a config with broken [neo4j] and [redis] loads");
	if (!c)
		return;
	T_OK(conf_need(c, "backup", NULL, &e) == 0, "[backup] is usable");
	T_OK(conf_need(c, "server", NULL, &e) == 0, "[server] is usable");
	T_STREQ(conf_str(c, "backup", "dir"), "/tmp", "its values read");
	T_OK(conf_need(c, "neo4j", NULL, &e) < 0 && e.code == FX_USAGE,
	     "[neo4j] raises exit 2");
	T_STREQ(e.msg, "t.ini:6: password in [neo4j]: variable "
		"'FERRY_TEST_UNSET_NEO' is not set", "named with its line");
	T_OK(conf_need(c, "neo4j", "user", &e) == 0, "one key: only it");
	T_OK(conf_problems(c, NULL, &p) == 2, "every problem listed");
	T_STREQ(p.n == 2 ? p.v[1] : NULL, "t.ini:8: bad value 'many' for port in "
		"[redis]: expected a port number from 1 to 65535", "in file order");
	strlist_release(&p);
	conf_on_unchecked(record_unchecked);
	T_OK(conf_num(c, "redis", "port") == 0 &&
	     strstr(unchecked_msg, "t.ini:8:"), "reading it unchecked is caught");
	conf_on_unchecked(NULL);
	conf_free(c);

	c = load_ok("[server]\nhost = ${FERRY_TEST_UNSET_NEO}\n[project]\n"
		    "local_dir = ${FERRY_TEST_UNSET_NEO}/src\n",
		    "broken values that defaults derive from");
	if (!c)
		return;
	T_OK(conf_need(c, "backup", "name", &e) < 0 &&
	     strstr(e.msg, "t.ini:4: local_dir in [project]"),
	     "backup name's default names local_dir's problem");
	T_OK(conf_need(c, "postgres", "tunnel", &e) < 0 &&
	     strstr(e.msg, "t.ini:2: host in [server]"),
	     "tunnel's default names host's problem");
	T_OK(conf_problems(c, NULL, &p) == 2, "derived problems listed once");
	strlist_release(&p);
	conf_free(c);
}

static void values(void)
{
	struct conf *c = NULL;
	struct err e = ERR_INIT;
	struct strlist l = STRLIST_INIT;
	char *secret = write_file("pg.secret", "s3cret-from-file\n", 0600);
	char *envf = write_file("app.env", "REDIS_PW=from-env-file\nHOSTNAME_X=envhost\n", 0600);
	char *text = xstrfmt(
		"; comment\n"
		"[server]\n"
		"host = ${FERRY_TEST_HOST:-fallback.example.invalid}\n"
		"port = 2222\n"
		"identity = ~/.ssh/a, keys/b\n"
		"connect_timeout = 1m30s\n"
		"[project]\n"
		"env_file = %s\n"
		"local_dir = src\n"
		"[postgres]\n"
		"password_file = %s\n"
		"databases = app, analytics\n"
		"[redis]\n"
		"password = ${REDIS_PW}\n", envf, secret);
	char *path = write_file("ferry.ini", text, 0600);
	char *keys = xstrfmt("%s/keys", scratch), *src = xstrfmt("%s/src", scratch);
	char *home = xstrfmt("%s/home", scratch), *ssh = xstrfmt("%s/home/.ssh", scratch);
	char *ka = xstrfmt("%s/home/.ssh/a", scratch), *kb = xstrfmt("%s/keys/b", scratch);

	mkdir(keys, 0700);
	mkdir(src, 0700);
	mkdir(home, 0700);
	mkdir(ssh, 0700);
	fclose(fopen(ka, "w"));
	fclose(fopen(kb, "w"));
	setenv("HOME", home, 1);
	T_OK(conf_load(&c, path, &e) == 0, "config with every feature loads");
	if (!c) {
		printf("not ok - load: %s\n", e.msg);
		return;
	}
	T_STREQ(conf_str(c, "server", "host"), "fallback.example.invalid", "${VAR:-default}");
	T_OK(conf_num(c, "server", "port") == 2222, "port parsed");
	T_OK(conf_num(c, "server", "connect_timeout") == 90000, "duration in ms");
	T_OK(conf_num(c, "server", "keepalive") == 15000, "default duration");
	T_STREQ(conf_str(c, "server", "host_key_check"), "strict", "strict by default");
	conf_list(c, "server", "identity", &l);
	T_OK(l.n == 2, "identity list");
	T_STREQ(l.n ? l.v[0] : NULL, ka, "~ expands to HOME");
	{
		char *want = xstrfmt("%s/keys/b", scratch);

		T_STREQ(l.n > 1 ? l.v[1] : NULL, want, "relative path is config-relative");
		free(want);
	}
	strlist_release(&l);
	T_STREQ(conf_str(c, "postgres", "password"), "s3cret-from-file", "password_file read, newline trimmed");
	T_STREQ(conf_str(c, "redis", "password"), "from-env-file", "env_file variables");
	T_OK(strstr(conf_origin(c, "redis", "password"), "via env_file") != NULL, "origin says env_file");
	T_OK(strstr(conf_origin(c, "postgres", "password"), "from file") != NULL, "origin says from file");
	{
		char *want = xstrfmt("%s:4", path);

		T_STREQ(conf_origin(c, "server", "port"), want, "origin file:line");
		free(want);
	}
	T_STREQ(conf_origin(c, "server", "keepalive"), "default", "origin default");
	T_STREQ(conf_str(c, "project", "name"), "src", "project name defaults to local_dir's name");
	T_STREQ(conf_str(c, "backup", "name"), "src", "backup name defaults to project name");
	T_OK(conf_num(c, "postgres", "tunnel") == 1, "tunnel defaults to yes for a remote host");
	T_OK(conf_has_section(c, "redis") && !conf_has_section(c, "neo4j"), "configured sections");
	T_OK(conf_is_set(c, "server", "port") && !conf_is_set(c, "server", "keepalive"), "conf_is_set");
	{
		char *dump = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&dump, &len);

		conf_dump(c, f, 0);
		fclose(f);
		T_OK(!strstr(dump, "s3cret-from-file") && !strstr(dump, "from-env-file"),
		     "dump masks secrets");
		T_OK(strstr(dump, "password          = ********") != NULL, "dump shows the mask");
		T_OK(strstr(dump, "databases         = app, analytics ") != NULL,
		     "dump shows a list on one row");
		T_OK(!strstr(dump, "[logs]") && !strstr(dump, "[neo4j]"),
		     "dump leaves out components the file does not configure");
		free(dump);
		f = open_memstream(&dump, &len);
		conf_dump(c, f, 1);
		fclose(f);
		T_OK(dump[0] == '{' && !strstr(dump, "s3cret"), "json dump masks secrets");
		free(dump);
	}
	T_OK(conf_problems(c, NULL, &l) == 0, "no problems");
	strlist_release(&l);
	conf_free(c);
	free(text);
	free(path);
	free(secret);
	free(envf);
	free(keys);
	free(src);
	free(home);
	free(ssh);
	free(ka);
	free(kb);
}

static void local_and_env(void)
{
	struct conf *c = NULL;
	struct err e = ERR_INIT;

	setenv("FERRY_TEST_HOST", "from-environment", 1);
	T_OK(conf_load_string(&c, "[server]\nhost = ${FERRY_TEST_HOST:-x}\n", "t.ini", &e) == 0,
	     "environment variable loads");
	T_STREQ(c ? conf_str(c, "server", "host") : NULL, "from-environment",
		"environment wins over default");
	conf_free(c);
	c = NULL;
	T_OK(conf_load_string(&c, "[server]\nhost = local\n[postgres]\n", "t.ini", &e) == 0,
	     "host = local loads");
	T_OK(c && conf_is_local(c) && conf_num(c, "postgres", "tunnel") == 0,
	     "host = local: no tunnel by default");
	conf_free(c);
}

static void example_documents_every_key(void)
{
	const char *root = getenv("FERRY_SOURCE_ROOT");
	char *example = xstrfmt("%s/conf/ferry.ini.example", root ? root : ".");
	char *cmd = xstrfmt("cp %s %s/example.ini && : > %s/.env.ferry", example,
			    scratch, scratch);
	char *path = xstrfmt("%s/example.ini", scratch);
	struct conf *c = NULL;
	struct err e = ERR_INIT;
	int missing = 0;

	if (system(cmd) != 0)
		printf("# could not copy %s\n", example);
	free(cmd);
	free(example);
	setenv("PGPASSWORD", "x", 1);
	setenv("REDIS_PASSWORD", "x", 1);
	setenv("MINIO_ACCESS_KEY", "x", 1);
	setenv("MINIO_SECRET_KEY", "x", 1);
	setenv("NEO4J_PASSWORD", "x", 1);
	if (conf_load(&c, path, &e) < 0) {
		printf("not ok - example config loads: %s\n", e.msg);
		t_failed = 1;
		free(path);
		return;
	}
	printf("ok - example config loads\n");
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (strchr(k->section, '*') || k->name[0] == '\0')
			continue;
		if (!conf_is_set(c, k->section, k->name)) {
			printf("not ok - example sets [%s] %s\n", k->section, k->name);
			missing++;
		}
	}
	T_OK(missing == 0, "example config documents every key");
	conf_free(c);
	free(path);
}

static void groups_and_repeats(void)
{
	struct conf *c = NULL;
	struct err e = ERR_INIT;
	struct strlist l = STRLIST_INIT;

	T_OK(conf_load_string(&c, "[server]\nhost = h\n[deploy]\n"
			      "health_url = http://a/x\nhealth_url = https://b/y\n"
			      "[group.back]\nservices = api, worker\n"
			      "[group.infra]\nservices = db\n", "t.ini", &e) == 0,
	     "groups and repeated health_url load");
	if (!c)
		return;
	conf_list(c, "deploy", "health_url", &l);
	T_OK(l.n == 2 && !strcmp(l.v[1], "https://b/y"), "health_url repeats");
	strlist_release(&l);
	conf_sections_like(c, "group.*", &l);
	T_OK(l.n == 2 && !strcmp(l.v[0], "group.back") &&
	     !strcmp(l.v[1], "group.infra"), "group sections in file order");
	strlist_release(&l);
	conf_list(c, "group.back", "services", &l);
	T_OK(l.n == 2 && !strcmp(l.v[1], "worker"), "a group's services");
	strlist_release(&l);
	T_OK(conf_num(c, "deploy", "health_timeout") == 120000 &&
	     conf_num(c, "deploy", "lock_stale") == 1800000, "ops defaults");
	conf_free(c);
	T_STREQ(load_err("[server]\nhost = h\n[deploy]\nhealth_url = http://a\n"
			 "health_url = ftp://b\n"),
		"t.ini:4: bad value 'ftp://b' for health_url in [deploy]: expected "
		"an http:// or https:// URL", "each repeated URL is checked");
	T_STREQ(load_err("[server]\nhost = h\n[group.x]\nservice = a\n"),
		"t.ini:4: unknown key 'service' in [group.x]", "group keys checked");
}

int main(void)
{
	if (!mkdtemp(scratch))
		return 1;
	errors();
	long_lines();
	quotes();
	jobs_origin();
	lazy();
	values();
	local_and_env();
	example_documents_every_key();
	groups_and_repeats();
	{
		char *cmd = xstrfmt("rm -rf %s", scratch);

		if (system(cmd) != 0)
			printf("# could not remove %s\n", scratch);
		free(cmd);
	}
	return T_DONE();
}

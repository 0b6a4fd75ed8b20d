#include "conf/conf.h"
#include "tests/unit/t.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[] = "/tmp/ferry-test-conf-XXXXXX";

/* Loads text and returns the error message ("" on success). */
static const char *load_err(const char *text)
{
	static struct err e;
	struct conf *c = NULL;

	err_clear(&e);
	if (conf_load_string(&c, text, "t.ini", &e) == 0) {
		conf_free(c);
		return "";
	}
	return e.msg;
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
		"t.ini: missing required key 'host' in [server]", "missing host");
	T_STREQ(load_err("host = h\n"),
		"t.ini:1: key 'host' outside of a section", "key before any section");
	T_STREQ(load_err("[server]\nhost = a\nhost = b\n"),
		"t.ini:3: duplicate key 'host' in [server] (first set on line 2)",
		"duplicate key");
	T_STREQ(load_err("[server]\nhost = h\n[postgres]\npassword = x\npassword_file = /y\n"),
		"t.ini:5: duplicate key 'password_file' in [postgres] (first set on "
		"line 4)", "key and key_file together");
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
		"t.ini:3: empty value for port in [server]", "empty value");
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

	setenv("HOME", "/home/tester", 1);
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
	T_STREQ(l.n ? l.v[0] : NULL, "/home/tester/.ssh/a", "~ expands to HOME");
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
		free(dump);
		f = open_memstream(&dump, &len);
		conf_dump(c, f, 1);
		fclose(f);
		T_OK(dump[0] == '{' && !strstr(dump, "s3cret"), "json dump masks secrets");
		free(dump);
	}
	conf_free(c);
	free(text);
	free(path);
	free(secret);
	free(envf);
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

int main(void)
{
	if (!mkdtemp(scratch))
		return 1;
	errors();
	values();
	local_and_env();
	example_documents_every_key();
	{
		char *cmd = xstrfmt("rm -rf %s", scratch);

		if (system(cmd) != 0)
			printf("# could not remove %s\n", scratch);
		free(cmd);
	}
	return T_DONE();
}

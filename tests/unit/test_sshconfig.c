/* net/ssh_config_lex.c and the resolver on fixed files: OpenSSH's word
 * splitting, patterns, tokens and hops case by case (the ssh_config
 * integration suite compares whole resolutions with `ssh -G`). */
#include <stdlib.h>
#include <unistd.h>

#include "net/ssh_config_int.h"
#include "tests/unit/t.h"

static char *words(const char *s, int comment)
{
	struct strlist l = STRLIST_INIT;
	struct buf b = BUF_INIT;

	if (sshcfg_split(s, &l, comment) < 0) {
		strlist_release(&l);
		return xstrdup("ERROR");
	}
	for (size_t i = 0; i < l.n; i++)
		buf_printf(&b, "%s[%s]", i ? " " : "", l.v[i]);
	strlist_release(&l);
	buf_addstr(&b, "");
	return buf_detach(&b, NULL);
}

static void split(void)
{
	static const struct { const char *in, *want; int comment; } cases[] = {
		{ "a b\tc", "[a] [b] [c]", 1 },
		{ "  lead  trail  ", "[lead] [trail]", 1 },
		{ "\"a b\" c", "[a b] [c]", 1 },
		{ "'a b' \"c'd\"", "[a b] [c'd]", 1 },
		{ "x\"y z\"w", "[xy zw]", 1 },
		{ "a\\ b", "[a b]", 1 },
		{ "\"a\\ b\"", "[a\\ b]", 1 },	/* "\ " only outside quotes */
		{ "a\\\"b \\\\ \\'", "[a\"b] [\\] [']", 1 },
		{ "a\\nb", "[a\\nb]", 1 },	/* unknown escape kept */
		{ "a # rest", "[a]", 1 },
		{ "a # rest", "[a] [#] [rest]", 0 },
		{ "a#b c", "[a#b] [c]", 1 },	/* # only starts a comment */
		{ "\"\" x", "[] [x]", 1 },
		{ "\"open", "ERROR", 1 },
		{ "a 'open", "ERROR", 1 },
		{ "", "", 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = words(cases[i].in, cases[i].comment);
		char name[160];

		snprintf(name, sizeof(name), "split '%s'", cases[i].in);
		T_STREQ(got, cases[i].want, name);
		free(got);
	}
}

static void strdelim(void)
{
	static const struct { const char *in, *kw, *rest; } cases[] = {
		{ "Host foo", "Host", "foo" },
		{ "Port=22", "Port", "22" },
		{ "Port = 22", "Port", "22" },
		{ "Port  =  22", "Port", "22" },
		{ "Port==22", "Port", "=22" },	/* one '=' only */
		{ "User\t\tbob", "User", "bob" },
		{ "\"Quoted kw\" v", "Quoted kw", "v" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *copy = xstrdup(cases[i].in), *s = copy;
		const char *kw = sshcfg_strdelim(&s);
		char name[160];

		snprintf(name, sizeof(name), "strdelim keyword of '%s'", cases[i].in);
		T_STREQ(kw, cases[i].kw, name);
		snprintf(name, sizeof(name), "strdelim rest of '%s'", cases[i].in);
		T_STREQ(s, cases[i].rest, name);
		free(copy);
	}
}

static void patterns(void)
{
	static const struct { const char *s, *p; int want; } one[] = {
		{ "db-dev", "db-*", 1 }, { "db-dev", "*-dev", 1 },
		{ "db-dev", "?b-dev", 1 }, { "db-dev", "?" "?-dev", 1 },
		{ "db-dev", "d?-", 0 }, { "db-dev", "*", 1 }, { "", "*", 1 },
		{ "", "?", 0 }, { "DB-Dev", "db-*", 0 },	/* Host: case counts */
		{ "a.b.c", "*.c", 1 }, { "a.b.c", "a*c", 1 }, { "abc", "a**c", 1 },
		{ "abc", "a*?", 1 }, { "ab", "a*?c", 0 }, { "x", "", 0 },
	};
	static const struct { const char *s, *list; int want; } lists[] = {
		{ "web", "web,db", 1 }, { "db", "web,db", 1 }, { "x", "web,db", 0 },
		{ "web", "*,!web", -1 }, { "web", "!web,*", -1 },
		{ "db", "*,!web", 1 }, { "db", "!web", 0 },
	};

	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		char name[160];

		snprintf(name, sizeof(name), "'%s' against '%s'", one[i].s, one[i].p);
		T_OK(sshcfg_match_pattern(one[i].s, one[i].p) == one[i].want, name);
	}
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		char name[160];

		snprintf(name, sizeof(name), "'%s' against list '%s'", lists[i].s,
			 lists[i].list);
		T_OK(sshcfg_match_list(lists[i].s, lists[i].list, 0) ==
		     lists[i].want, name);
	}
	T_OK(sshcfg_match_hostname("DB-Dev", "db-*") == 1,
	     "Match host: host and patterns lowercased");
	T_OK(sshcfg_match_hostname("db-dev", "DB-*") == 1,
	     "Match host: patterns lowercased");
	T_OK(sshcfg_match_list("Bob", "bob", 0) == 0, "Match user: case counts");
}

static void tokens(void)
{
	const struct sshcfg_token t[] = { { 'h', "db" }, { 'p', "22" } };
	struct buf out = BUF_INIT, why = BUF_INIT;

	T_OK(sshcfg_expand("%h:%p %%h", t, 2, 0, &out, &why) == 0 &&
	     !strcmp(buf_str(&out), "db:22 %h"), "%h %p %% expand");
	buf_reset(&out);
	T_OK(sshcfg_expand("%x", t, 2, 0, &out, &why) < 0 &&
	     strstr(buf_str(&why), "%x"), "unknown token is an error naming it");
	buf_reset(&out);
	buf_reset(&why);
	T_OK(sshcfg_expand("a%", t, 2, 0, &out, &why) < 0, "a lone % is an error");
	buf_reset(&out);
	setenv("FERRY_T_SSHCFG", "val", 1);
	T_OK(sshcfg_expand("${FERRY_T_SSHCFG}/%h", t, 2, 1, &out, &why) == 0 &&
	     !strcmp(buf_str(&out), "val/db"), "${VAR} with dollar");
	buf_reset(&out);
	T_OK(sshcfg_expand("${FERRY_T_SSHCFG}", t, 2, 0, &out, &why) == 0 &&
	     !strcmp(buf_str(&out), "${FERRY_T_SSHCFG}"), "${VAR} kept without");
	buf_reset(&out);
	T_OK(sshcfg_expand("${FERRY_T_UNSET_X}", t, 2, 1, &out, &why) < 0,
	     "an unset ${VAR} is an error");
	buf_reset(&out);
	T_OK(sshcfg_expand("%h", NULL, 0, 1, &out, &why) == 0 &&
	     !strcmp(buf_str(&out), "%h"), "no tokens: % is literal");
	buf_release(&out);
	buf_release(&why);
}

static void tilde_and_numbers(void)
{
	char *p;
	int v = -1;

	p = sshcfg_tilde("~/.ssh/x", "/home/u");
	T_STREQ(p, "/home/u/.ssh/x", "~/ under pw_dir");
	free(p);
	p = sshcfg_tilde("~", "/home/u");
	T_STREQ(p, "/home/u/", "~ alone gets a slash, as ssh");
	free(p);
	p = sshcfg_tilde("~root/k", "/home/u");
	T_STREQ(p, "/root/k", "~user/ under that user's home");
	free(p);
	T_OK(sshcfg_tilde("~no-such-user-ferry/k", "/h") == NULL,
	     "~unknown: NULL");
	p = sshcfg_tilde("/a/~/b", "/h");
	T_STREQ(p, "/a/~/b", "~ only at the start");
	free(p);
	T_OK(sshcfg_port("2222") == 2222 && sshcfg_port("022") == 22 &&
	     sshcfg_port("ssh") == 22 && sshcfg_port("70000") < 0 &&
	     sshcfg_port("x1") < 0 && sshcfg_port("0") == 0, "ports");
	T_OK(sshcfg_seconds("90") == 90 && sshcfg_seconds("1h30m") == 5400 &&
	     sshcfg_seconds("2M") == 120 && sshcfg_seconds("1w") == 604800 &&
	     sshcfg_seconds("5x") < 0 && sshcfg_seconds("") < 0 &&
	     sshcfg_seconds("-1") < 0, "times");
	T_OK(sshcfg_uint("010", &v) == 0 && v == 10 && sshcfg_uint("-1", &v) < 0 &&
	     sshcfg_uint("0x10", &v) < 0, "counts");
}

static void hops(void)
{
	static const struct { const char *in, *user, *host; int port; } ok[] = {
		{ "bastion", NULL, "bastion", -1 },
		{ "alice@bastion:2200", "alice", "bastion", 2200 },
		{ "a@b@c", "a@b", "c", -1 },	/* the last @ */
		{ "[fe80::1]:22", NULL, "fe80::1", 22 },
		{ "ssh://carol@jump:23", "carol", "jump", 23 },
		{ "ssh://jump", NULL, "jump", -1 },
		{ "host:", NULL, "host", -1 },
	};
	static const char *const bad[] = {
		"@host", "", "host:0", "host:x", "ssh://jump/path", "a/b",
		"ssh://-bad",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *user = NULL, *host = NULL, name[160];
		int port = 0;

		snprintf(name, sizeof(name), "hop '%s'", ok[i].in);
		T_OK(sshcfg_parse_hop(ok[i].in, &user, &host, &port) == 0 &&
		     (ok[i].user ? user && !strcmp(user, ok[i].user) : !user) &&
		     host && !strcmp(host, ok[i].host) && port == ok[i].port,
		     name);
		free(user);
		free(host);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[160];

		snprintf(name, sizeof(name), "bad hop '%s'", bad[i]);
		T_OK(sshcfg_parse_hop(bad[i], NULL, NULL, NULL) < 0, name);
	}
}

/* A resolution from a file written here. */
static int resolve(const char *text, const char *host, struct sshcfg *c,
		   struct err *e)
{
	const char *dir = getenv("SCRATCH") ? getenv("SCRATCH") : "/tmp";
	char *path = xstrfmt("%s/t_sshcfg.%d", dir, (int)getpid());
	struct sshcfg_query q;
	FILE *f = fopen(path, "w");
	int r;

	fputs(text, f);
	fclose(f);
	sshcfg_query_init(&q);
	q.host = host;
	q.user_file = path;
	q.must_exist = 1;
	q.local_user = "me";
	q.pw_dir = "/home/me";
	q.home = "/home/me";
	r = sshcfg_resolve(&q, c, e);
	unlink(path);
	free(path);
	return r;
}

static void resolution(void)
{
	struct sshcfg c;
	struct err e = ERR_INIT;

	T_OK(resolve("Host db\n  HostName %h.example.invalid\n  User a\n"
		     "Host *\n  User b\n  Port 2200\n  IdentityFile ~/k1\n"
		     "  IdentityFile %d/k2_%r\n", "db", &c, &e) == 0, "resolves");
	T_STREQ(c.hostname, "db.example.invalid", "HostName with %h");
	T_STREQ(c.user, "a", "first User wins");
	T_OK(c.port == 2200 && c.port_at && strstr(c.port_at, ":6"),
	     "Port with its file:line");
	T_OK(c.identity_files.n == 2, "IdentityFile accumulates");
	T_STREQ(c.identity_paths.n == 2 ? c.identity_paths.v[1] : NULL,
		"/home/me/k2_a", "IdentityFile %d and %r expanded");
	T_OK(c.user_known_hosts.n == 2 && !c.user_known_hosts_at,
	     "known_hosts: ssh's defaults");
	sshcfg_release(&c);

	T_OK(resolve("Host *\n  CertificateFile ~/c\nHost other\n"
		     "  Ciphers aes128-ctr\n", "db", &c, &e) == 0 &&
	     c.warnings.n == 1 && strstr(c.warnings.v[0], ":2: CertificateFile"),
	     "an unhonoured keyword that applies warns, naming file:line");
	sshcfg_release(&c);
	T_OK(resolve("Host *\n  Bogus x\n", "db", &c, &e) == 0 &&
	     c.warnings.n == 1 && strstr(c.warnings.v[0], "'bogus'"),
	     "an unknown keyword warns");
	sshcfg_release(&c);
	T_OK(resolve("IgnoreUnknown bog*\nHost *\n  Bogus x\n", "db", &c,
		     &e) == 0 && c.warnings.n == 0, "IgnoreUnknown silences it");
	sshcfg_release(&c);

	T_OK(resolve("Host *\n  ProxyJump u@j1:2022,j2\n", "db", &c, &e) == 0 &&
	     c.nhops == 2 && !strcmp(c.hops[0].user, "u") &&
	     c.hops[0].port == 2022 && !strcmp(c.hops[1].host, "j2") &&
	     !strcmp(c.proxy_jump, "u@j1:2022,j2"), "ProxyJump hops in order");
	sshcfg_release(&c);

	err_clear(&e);
	T_OK(resolve("Host *\n  Port 0\n", "db", &c, &e) < 0 &&
	     e.code == FX_USAGE && strstr(e.msg, ":2: bad port '0'"),
	     "a bad value: exit 2 naming file:line");
	sshcfg_release(&c);
	err_clear(&e);
	T_OK(resolve("Host other\n  User \"open\n", "db", &c, &e) < 0 &&
	     strstr(e.msg, ":2: invalid quotes"),
	     "bad quotes fail even in a block that does not apply");
	sshcfg_release(&c);
	err_clear(&e);
	T_OK(resolve("Host *\n  ProxyJump db\n", "db", &c, &e) < 0 &&
	     strstr(e.msg, "loops"), "a jump host that is the host itself");
	sshcfg_release(&c);
}

int main(void)
{
	split();
	strdelim();
	patterns();
	tokens();
	tilde_and_numbers();
	hops();
	resolution();
	return T_DONE();
}

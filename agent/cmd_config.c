/* ferry config: the effective configuration, each value's origin, secrets
 * masked; --ssh HOST: what ssh_config makes of HOST, as `ssh -G` says it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent/cli.h"
#include "conf/conf.h"
#include "net/ssh_config.h"
#include "util/log.h"

static int print_ssh(struct cli *cli, const char *host)
{
	struct sshcfg r;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	int code = FX_OK;

	/* What server_ssh_resolve() reads. */
	if (cli_conf_for(cli, "server.user server.port server.ssh_config",
			 &e) < 0)
		return cli_fail(&e);
	if (server_ssh_resolve(cli->conf, host, &r, &e) < 0) {
		code = cli_fail(&e);
	} else {
		for (size_t i = 0; i < r.warnings.n; i++)
			log_warn("%s", r.warnings.v[i]);
		sshcfg_format(&r, &out);
		fputs(buf_str(&out), stdout);
	}
	sshcfg_release(&r);
	buf_release(&out);
	return code;
}

static int cmd_config(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "ssh", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct strlist problems = STRLIST_INIT;
	const struct conf_shown *rows = NULL;
	const struct server *s;
	const char *ssh_host = NULL;
	struct err e = ERR_INIT, serr = ERR_INIT;
	size_t nrows = 0;
	int ch, said = 0;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'j')
			cli->json = 1;
		else if (ch == 's')
			ssh_host = optarg;
		else
			return cli_bad_option("config", ch, argc, argv);
	}
	if (optind < argc)
		return cli_usage_error("config", "unexpected argument '%s'",
				       argv[optind]);
	if (cli_conf(cli, &e) < 0)
		return cli_fail(&e);
	if (ssh_host)
		return print_ssh(cli, ssh_host);
	/* ssh_config's values, when [server] can be read at all. */
	s = cli_server_resolved(cli, &serr);
	if (s)
		rows = server_shown(s, &nrows);
	conf_dump_shown(cli->conf, stdout, cli->json, rows, nrows);
	fflush(stdout);
	/* Every value that cannot be used, not just the first: commands
	 * raise only those they use. */
	conf_problems(cli->conf, NULL, &problems);
	for (size_t i = 0; i < problems.n; i++) {
		err_set(&e, FX_USAGE, "%s", problems.v[i]);
		cli_fail(&e);
		said |= !s && !strcmp(problems.v[i], serr.msg);
	}
	strlist_release(&problems);
	/* And ssh_config's own, unless it was one of those. */
	if (!s && !said) {
		cli_fail(&serr);
		e.code = FX_USAGE;
	}
	return e.code ? FX_USAGE : FX_OK;
}

const struct cli_cmd cmd_config_entry = {
	"config", cmd_config, "[--json] [--ssh HOST]",
	"print the effective configuration and where each value comes from",
	"  --json            print it as JSON\n"
	"  --ssh HOST        what ssh_config makes of HOST, in `ssh -G`'s words\n"
	"                    (ferry.ini's user and port act as ssh's -l and -p)\n"
	"a part that is off until its section is there ([offsite], [postgres],\n"
	"[redis], [minio], [neo4j], [schedule], [notify], [files]) is shown\n"
	"only when the file has it; secrets (password, secret_key, access_key,\n"
	"URLs with tokens) are masked\n"
	"every value that cannot be used is named (FILE:LINE) on stderr, and\n"
	"the exit code is then 2\n",
	NULL,
};

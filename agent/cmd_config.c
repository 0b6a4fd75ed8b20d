/* ferry config: the effective configuration, each value's origin, secrets
 * masked. */
#include <getopt.h>
#include <stdio.h>

#include "agent/cli.h"
#include "conf/conf.h"

static int cmd_config(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct strlist problems = STRLIST_INIT;
	struct err e = ERR_INIT;
	int ch;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'j')
			return cli_bad_option("config", ch, argc, argv);
		cli->json = 1;
	}
	if (optind < argc)
		return cli_usage_error("config", "unexpected argument '%s'",
				       argv[optind]);
	if (cli_conf(cli, &e) < 0)
		return cli_fail(&e);
	conf_dump(cli->conf, stdout, cli->json);
	fflush(stdout);
	/* Every value that cannot be used, not just the first: commands
	 * raise only those they use. */
	conf_problems(cli->conf, NULL, &problems);
	for (size_t i = 0; i < problems.n; i++) {
		err_set(&e, FX_USAGE, "%s", problems.v[i]);
		cli_fail(&e);
	}
	strlist_release(&problems);
	return e.code ? FX_USAGE : FX_OK;
}

const struct cli_cmd cmd_config_entry = {
	"config", cmd_config, "[--json]",
	"print the effective configuration and where each value comes from",
	"  --json            print it as JSON\n"
	"every value that cannot be used is named (FILE:LINE) on stderr, and\n"
	"the exit code is then 2\n",
	NULL,
};

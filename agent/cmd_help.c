/* ferry help [COMMAND]: the same text as ferry --help or COMMAND --help. */
#include <stdio.h>

#include "agent/cli.h"

static int cmd_help(struct cli *cli, int argc, char **argv)
{
	const struct cli_cmd *c;

	(void)cli;
	if (argc > 2)
		return cli_usage_error("help", "takes at most one COMMAND");
	if (argc < 2) {
		cli_print_usage(stdout);
		return FX_OK;
	}
	c = cli_find(argv[1]);
	if (!c)
		return cli_usage_error("help", "unknown command '%s'", argv[1]);
	cli_print_help(c, stdout);
	return FX_OK;
}

const struct cli_cmd cmd_help_entry = {
	"help", cmd_help, "[COMMAND]", "show a command's help (as COMMAND --help)",
	"", NULL,
};

/* ferry down: compose down on the server. */
#include "agent/ops.h"

static int cmd_down(struct cli *cli, int argc, char **argv)
{
	static const char *const args[] = { "down", "--remove-orphans", NULL };

	return ops_passthrough(cli, argc, argv, args, 0);
}

const struct cli_cmd cmd_down_entry = {
	"down", cmd_down, "",
	"stop and remove the project's containers (compose down)",
	"runs 'compose down --remove-orphans' in compose_dir on the server with\n"
	"compose_files and project_name (volumes are kept)\n"
	"exit 4 when compose fails\n",
	NULL,
};

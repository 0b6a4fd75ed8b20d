/* ferry restart [SERVICE...]: compose restart on the server. */
#include "agent/ops.h"

static int cmd_restart(struct cli *cli, int argc, char **argv)
{
	static const char *const args[] = { "restart", NULL };

	return ops_passthrough(cli, argc, argv, args, 1);
}

const struct cli_cmd cmd_restart_entry = {
	"restart", cmd_restart, "[SERVICE...]",
	"restart services (compose restart)",
	"runs 'compose restart [SERVICE...]' in compose_dir on the server with\n"
	"compose_files and project_name (all services when none is named)\n"
	"exit 2 for an unknown service, 4 when compose fails\n",
	NULL,
};

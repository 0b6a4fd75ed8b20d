/* ferry up [SERVICE...]: compose up -d on the server, nothing else. */
#include "agent/ops.h"

static int cmd_up(struct cli *cli, int argc, char **argv)
{
	static const char *const args[] = { "up", "-d", NULL };

	return ops_passthrough(cli, argc, argv, args, 1);
}

const struct cli_cmd cmd_up_entry = {
	"up", cmd_up, "[SERVICE...]",
	"start services (compose up -d)",
	"runs 'compose up -d [SERVICE...]' in compose_dir on the server with\n"
	"compose_files and project_name; no sync, no health gate, no lock\n"
	"(see 'ferry deploy')\n"
	"exit 2 for an unknown service, 4 when compose fails\n",
	NULL,
};

/*
 * The command table: one entry per command, each defined in its own file
 * beside its run function, listed here in the order `ferry --help` shows.
 * Commands another issue brings are listed with what brings them, so their
 * names are known and refused honestly until then.
 */
#include "agent/cli.h"

extern const struct cli_cmd cmd_deploy_entry, cmd_backup_entry,
	cmd_restore_entry, cmd_list_entry, cmd_verify_entry, cmd_prune_entry,
	cmd_check_entry, cmd_config_entry, cmd_help_entry, cmd_offsite_entry;
extern const struct cli_cmd cmd_daemon_entry, cmd_schedule_entry,
	cmd_status_entry;

#define OPS "the deploy-operations issue (compose on the server)"

static const struct cli_cmd cmd_up_entry = {
	"up", NULL, "[SERVICE...]", "start services (compose up -d)", "", OPS };
static const struct cli_cmd cmd_down_entry = {
	"down", NULL, "", "stop the project (compose down)", "", OPS };
static const struct cli_cmd cmd_ps_entry = {
	"ps", NULL, "[--json] [SERVICE...]", "show service status", "", OPS };
static const struct cli_cmd cmd_logs_entry = {
	"logs", NULL, "[-f] [-n NUM] [SERVICE...]", "show service logs", "",
	OPS };
static const struct cli_cmd cmd_exec_entry = {
	"exec", NULL, "SERVICE -- CMD...", "run a command in a service container",
	"", OPS };
static const struct cli_cmd cmd_history_entry = {
	"history", NULL, "[-n N] [--json]", "show past deploys", "", OPS };

const struct cli_cmd *const cli_commands[] = {
	&cmd_deploy_entry,
	&cmd_up_entry,
	&cmd_down_entry,
	&cmd_ps_entry,
	&cmd_logs_entry,
	&cmd_exec_entry,
	&cmd_history_entry,
	&cmd_backup_entry,
	&cmd_restore_entry,
	&cmd_list_entry,
	&cmd_verify_entry,
	&cmd_prune_entry,
	&cmd_offsite_entry,
	&cmd_daemon_entry,
	&cmd_schedule_entry,
	&cmd_status_entry,
	&cmd_check_entry,
	&cmd_config_entry,
	&cmd_help_entry,
	NULL,
};

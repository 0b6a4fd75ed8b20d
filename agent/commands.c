/*
 * The command table: one entry per command, each defined in its own file
 * beside its run function, listed here in the order `ferry --help` shows.
 * Commands another issue brings are listed with what brings them, so their
 * names are known and refused honestly until then.
 */
#include "agent/cli.h"

extern const struct cli_cmd cmd_deploy_entry, cmd_backup_entry,
	cmd_restore_entry, cmd_list_entry, cmd_verify_entry, cmd_prune_entry,
	cmd_check_entry, cmd_config_entry, cmd_help_entry, cmd_offsite_entry,
	cmd_init_entry;
extern const struct cli_cmd cmd_up_entry, cmd_down_entry, cmd_ps_entry,
	cmd_logs_entry, cmd_exec_entry, cmd_history_entry, cmd_restart_entry;
extern const struct cli_cmd cmd_daemon_entry, cmd_schedule_entry,
	cmd_status_entry;

const struct cli_cmd *const cli_commands[] = {
	&cmd_deploy_entry,
	&cmd_up_entry,
	&cmd_down_entry,
	&cmd_ps_entry,
	&cmd_logs_entry,
	&cmd_exec_entry,
	&cmd_restart_entry,
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
	&cmd_init_entry,
	NULL,
};

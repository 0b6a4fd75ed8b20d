/*
 * ferry exec SERVICE -- CMD...: compose exec -T on the server.  Our stdin
 * goes to the command; its stdout and stderr come back apart; its exit
 * status is kept (exit 4, the status in the message).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/ops.h"
#include "util/pump.h"

static int run(struct ops *o, const struct strlist *argv, struct err *e)
{
	struct buf cmd = BUF_INIT;
	struct pump p = PUMP_INIT;
	struct xproc *proc;
	struct proc_status st;
	char why[64];
	int werr, r = -1;

	compose_cmdline(o->c, (const char *const *)argv->v, &cmd);
	fflush(stdout);
	if (xport_spawn(o->x, buf_str(&cmd), &proc, &p.in, &p.out, &p.err,
			e) < 0)
		goto out;
	p.in_src = STDIN_FILENO;
	p.out_fd = STDOUT_FILENO;
	p.err_fd = STDERR_FILENO;
	pump_run(&p, &werr);
	if (xproc_wait(proc, &st, e) < 0)
		goto out;
	if (!st.exited || st.code != 0) {
		err_set(e, FX_REMOTE, "exec %s: '%s' ended with %s", argv->v[2],
			argv->v[3], proc_status_text(&st, why, sizeof(why)));
		goto out;
	}
	r = 0;
out:
	buf_release(&cmd);
	return r;
}

static int cmd_exec(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	struct strlist args = STRLIST_INIT, svc = STRLIST_INIT;
	struct ops o = OPS_INIT;
	struct err e = ERR_INIT;
	int ch, code = FX_OK;

	/* "+": the command's own options are never ferry's */
	while ((ch = getopt_long(argc, argv, "+:", opts, NULL)) != -1)
		return cli_bad_option("exec", ch, argc, argv);
	if (optind >= argc)
		return cli_usage_error("exec", "needs a SERVICE and a command");
	strlist_add(&svc, argv[optind++]);
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind >= argc) {
		strlist_release(&svc);
		return cli_usage_error("exec", "needs a command after the "
				       "service: exec SERVICE -- CMD...");
	}
	strlist_add(&args, "exec");
	strlist_add(&args, "-T");
	strlist_add(&args, svc.v[0]);
	for (int i = optind; i < argc; i++)
		strlist_add(&args, argv[i]);
	if (ops_open(&o, cli, &e) < 0 || run(&o, &args, &e) < 0) {
		ops_explain(&o, &svc, &e);
		code = cli_fail(&e);
	}
	ops_close(&o);
	strlist_release(&args);
	strlist_release(&svc);
	return code;
}

const struct cli_cmd cmd_exec_entry = {
	"exec", cmd_exec, "SERVICE -- CMD...",
	"run a command in a service's container (compose exec -T)",
	"stdin is passed to the command, its stdout and stderr come back apart;\n"
	"a command that fails is exit 4, its exit status in the message\n"
	"exit 2 for an unknown service\n",
	NULL,
};

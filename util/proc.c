#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fdio.h"

const char *proc_status_text(const struct proc_status *st, char *buf,
			     size_t len)
{
	if (st->exited)
		snprintf(buf, len, "exit code %d", st->code);
	else
		snprintf(buf, len, "killed by signal %s", st->signal);
	return buf;
}

static const struct { int num; const char *name; } signames[] = {
	{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
	{ SIGILL, "ILL" }, { SIGABRT, "ABRT" }, { SIGFPE, "FPE" },
	{ SIGKILL, "KILL" }, { SIGSEGV, "SEGV" }, { SIGPIPE, "PIPE" },
	{ SIGALRM, "ALRM" }, { SIGTERM, "TERM" }, { SIGUSR1, "USR1" },
	{ SIGUSR2, "USR2" }, { SIGBUS, "BUS" },
};

int proc_status_code(const struct proc_status *st)
{
	if (st->exited)
		return st->code;
	for (size_t i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (!strcmp(signames[i].name, st->signal))
			return 128 + signames[i].num;
	return 255;
}

static void set_signal_name(struct proc_status *st, int sig)
{
	for (size_t i = 0; i < sizeof(signames) / sizeof(signames[0]); i++) {
		if (signames[i].num == sig) {
			snprintf(st->signal, sizeof(st->signal), "%s",
				 signames[i].name);
			return;
		}
	}
	snprintf(st->signal, sizeof(st->signal), "%d", sig);
}

int proc_spawn(const char *cmd, pid_t *pid, int *in, int *out, int *err,
	       struct err *e)
{
	struct pipe3 p3 = PIPE3_INIT;
	pid_t p;

	if (pipe3_open(&p3) < 0)
		return err_set(e, FX_FAIL, "run %s: %s", cmd, strerror(errno));
	p = fork();
	if (p < 0) {
		err_set(e, FX_FAIL, "run %s: %s", cmd, strerror(errno));
		pipe3_close(&p3);
		return -1;
	}
	if (p == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(p3.in[0], 0) < 0 || dup2(p3.out[1], 1) < 0 ||
		    dup2(p3.err[1], 2) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	*pid = p;
	*in = p3.in[1];
	*out = p3.out[0];
	*err = p3.err[0];
	p3.in[1] = p3.out[0] = p3.err[0] = -1;
	pipe3_close(&p3);	/* the child's ends */
	return 0;
}

void proc_status_from(int ws, struct proc_status *st)
{
	memset(st, 0, sizeof(*st));
	if (WIFEXITED(ws)) {
		st->exited = 1;
		st->code = WEXITSTATUS(ws);
	} else if (WIFSIGNALED(ws)) {
		set_signal_name(st, WTERMSIG(ws));
	}
}

int proc_wait(pid_t pid, struct proc_status *st, struct err *e)
{
	int ws;

	memset(st, 0, sizeof(*st));
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR)
			return err_set(e, FX_FAIL, "wait: %s", strerror(errno));
	}
	proc_status_from(ws, st);
	return 0;
}

/*
 * proc: local child processes behind the same descriptor-based interface
 * as remote ones (host = local runs every feature on this machine).
 */
#ifndef FERRY_UTIL_PROC_H
#define FERRY_UTIL_PROC_H

#include <sys/types.h>

#include "util/err.h"

/* How a process ended, local or remote. */
struct proc_status {
	int exited;		/* 1: ended with code; 0: killed by signal */
	int code;		/* exit code when exited */
	char signal[32];	/* signal name ("TERM", "KILL") when killed */
};

/* Human text: "exit code 1", "killed by signal TERM". */
const char *proc_status_text(const struct proc_status *st, char *buf,
			     size_t len);
/* st from a waitpid() status. */
void proc_status_from(int ws, struct proc_status *st);
/* Exit code as a shell reports it: code, or 128+signal number. */
int proc_status_code(const struct proc_status *st);

/*
 * Runs "/bin/sh -c cmd"; the caller owns the three returned descriptors
 * (*in: write, close for EOF; *out, *err: read) and must call proc_wait().
 */
int proc_spawn(const char *cmd, pid_t *pid, int *in, int *out, int *err,
	       struct err *e) __attribute__((warn_unused_result));
int proc_wait(pid_t pid, struct proc_status *st, struct err *e);

#endif

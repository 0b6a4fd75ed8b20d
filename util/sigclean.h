/*
 * sigclean: paths that must not outlive the process when SIGINT, SIGTERM
 * or SIGHUP ends it (a partial archive, a tunnel's socket).  On such a
 * signal they are removed (files, then the directories they were in) and
 * the signal is raised again with its default action, so the exit status
 * still tells what happened.  A signal found ignored (nohup) stays so.
 */
#ifndef FERRY_UTIL_SIGCLEAN_H
#define FERRY_UTIL_SIGCLEAN_H

/* Registers path (a file, or a directory that the files registered with
 * it leave empty); 0, or -1 when the table (64 paths) is full or the path
 * longer than PATH_MAX (then it is not registered: the caller must not go
 * on as if it were). */
int sigclean_add(const char *path) __attribute__((warn_unused_result));
/* Forgets path; the caller removes it, or keeps it (a published file). */
void sigclean_del(const char *path);

#endif

/*
 * sigclean: paths that must not outlive the process when SIGINT, SIGTERM
 * or SIGHUP ends it (a partial archive, a tunnel's socket).  On such a
 * signal they are removed (files, then the directories they were in) and
 * the signal is raised again with its default action, so the exit status
 * still tells what happened.  A signal found ignored (nohup) stays so.
 */
#ifndef FERRY_SIGCLEAN_H
#define FERRY_SIGCLEAN_H

/* Registers path (a file, or a directory that the files registered with
 * it leave empty); 0, or -1 when the table is full (then it is not). */
int sigclean_add(const char *path);
/* Forgets path; the caller removes it, or keeps it (a published file). */
void sigclean_del(const char *path);

#endif

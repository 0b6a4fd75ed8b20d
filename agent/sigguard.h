/*
 * sigguard: a thread that receives SIGINT, SIGTERM and SIGHUP for a
 * command that must undo something on the server before it dies (the
 * deploy lock).  Handlers cannot run remote commands; this thread can.
 * After the cleanup the signal ends the process as it would have
 * (through sigclean's handler where one is installed), bounded by an
 * alarm so that a dead connection cannot hold it.
 */
#ifndef FERRY_AGENT_SIGGUARD_H
#define FERRY_AGENT_SIGGUARD_H

/* Call before any other thread starts (they inherit the blocked mask).
 * cleanup runs on the guard thread, once, with the signal's number. */
int sigguard_start(void (*cleanup)(void *ctx, int sig), void *ctx);
/* Ends the guard and unblocks the signals (a pending one is then
 * delivered as usual). */
void sigguard_stop(void);

#endif

#include "util/sigclean.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Fixed slots: the handler may only touch memory that never moves.  A
 * slot is published (used = 1) after its path is written and retired
 * before it is reused, so the handler never reads a half-written path. */
#define SLOTS 64

static struct {
	volatile sig_atomic_t used;
	char path[PATH_MAX];
} slot[SLOTS];
static const int caught[] = { SIGINT, SIGTERM, SIGHUP };
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int installed;

static void on_signal(int sig)
{
	/* Files first, then directories, which those files may have kept
	 * from being empty; unlink(2) and rmdir(2) are async-signal-safe. */
	for (int i = 0; i < SLOTS; i++)
		if (slot[i].used)
			unlink(slot[i].path);
	for (int i = 0; i < SLOTS; i++)
		if (slot[i].used)
			rmdir(slot[i].path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++) {
		struct sigaction old;

		if (sigaction(caught[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(caught[i], &sa, NULL);
	}
	installed = 1;
}

int sigclean_add(const char *path)
{
	int rc = -1;

	pthread_mutex_lock(&mu);
	if (!installed)
		install();
	for (int i = 0; i < SLOTS && rc < 0; i++) {
		if (slot[i].used)
			continue;
		if ((size_t)snprintf(slot[i].path, sizeof(slot[i].path), "%s",
				     path) >= sizeof(slot[i].path))
			break;
		/* The path must be whole before a handler can see the slot. */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		slot[i].used = 1;
		rc = 0;
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

void sigclean_del(const char *path)
{
	pthread_mutex_lock(&mu);
	for (int i = 0; i < SLOTS; i++)
		if (slot[i].used && !strcmp(slot[i].path, path))
			slot[i].used = 0;
	pthread_mutex_unlock(&mu);
}

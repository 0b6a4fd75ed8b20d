#include "agent/sigguard.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define CLEANUP_MAX_S 15

static pthread_t guard;
static int running;
static sigset_t set, old;
static void (*cleanup_fn)(void *ctx, int sig);
static void *cleanup_ctx;

static void *watch(void *unused)
{
	int sig = 0;

	(void)unused;
	if (sigwait(&set, &sig) != 0)
		return NULL;
	/* SIGALRM's default action ends a cleanup that hangs. */
	alarm(CLEANUP_MAX_S);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	cleanup_fn(cleanup_ctx, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	/* A handler that returned (sigclean re-raises with SIG_DFL): */
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

static void unignore(int sig)
{
	struct sigaction sa;

	if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
		signal(sig, SIG_DFL);
}

int sigguard_start(void (*cleanup)(void *ctx, int sig), void *ctx)
{
	cleanup_fn = cleanup;
	cleanup_ctx = ctx;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* A shell's background job has SIGINT ignored; an ignored signal is
	 * never pending, so Ctrl-C and kill -INT would be lost.  HUP stays
	 * ignored under nohup. */
	unignore(SIGINT);
	unignore(SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, &old) != 0)
		return -1;
	if (pthread_create(&guard, NULL, watch, NULL) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	running = 1;
	return 0;
}

void sigguard_stop(void)
{
	if (!running)
		return;
	pthread_cancel(guard);
	pthread_join(guard, NULL);
	running = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

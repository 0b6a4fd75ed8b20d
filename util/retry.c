#include "util/retry.h"

#include <errno.h>
#include <time.h>

void retry_backoff(int attempt)
{
	long long ms = 500;
	struct timespec ts;

	if (attempt <= 0)
		return;
	while (--attempt > 0 && ms < 8000)
		ms *= 2;
	if (ms > 8000)
		ms = 8000;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

#include "util/logsys.h"

#include <syslog.h>

void logsys_open(void)
{
	openlog("ferry", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void logsys_close(void)
{
	closelog();
}

void logsys_line(enum logsys_sev sev, const char *msg)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	syslog(prio[sev], "%s", msg);
}

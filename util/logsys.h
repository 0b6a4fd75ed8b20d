/*
 * logsys: the syslog side of util/log.c, apart because <syslog.h> takes
 * the LOG_* names that log.h uses for its levels.
 */
#ifndef FERRY_UTIL_LOGSYS_H
#define FERRY_UTIL_LOGSYS_H

enum logsys_sev { LOGSYS_ERR, LOGSYS_WARNING, LOGSYS_INFO, LOGSYS_DEBUG };

void logsys_open(void);
void logsys_close(void);
void logsys_line(enum logsys_sev sev, const char *msg);

#endif

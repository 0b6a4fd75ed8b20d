/*
 * The exit codes ferry promises (documented in ferry(1)).  Scripts and cron
 * jobs depend on them: never renumber, only add.
 */
#ifndef FERRY_UTIL_EXITCODE_H
#define FERRY_UTIL_EXITCODE_H

enum ferry_exit {
	FX_OK = 0,	/* success */
	FX_FAIL = 1,	/* generic failure */
	FX_USAGE = 2,	/* bad command line or configuration */
	FX_CONN = 3,	/* connection, authentication or host-key error */
	FX_REMOTE = 4,	/* a remote command failed */
	FX_PARTIAL = 5,	/* backup finished, but some components failed */
	FX_VERIFY = 6,	/* archive verification failed */
	FX_LOCKED = 7,	/* another run holds the lock */
};

#endif

/*
 * A tiny test harness: each check prints "ok - NAME" or "not ok - NAME:
 * detail"; tests/run counts them.  Exit status is 1 if anything failed.
 */
#ifndef FERRY_T_H
#define FERRY_T_H

#include <stdio.h>
#include <string.h>

static int t_failed;

#define T_OK(cond, name) do {						\
	if (cond) {							\
		printf("ok - %s\n", name);				\
	} else {							\
		printf("not ok - %s (%s:%d)\n", name, __FILE__, __LINE__); \
		t_failed = 1;						\
	}								\
} while (0)

#define T_STREQ(got, want, name) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if (g_ && w_ && !strcmp(g_, w_)) {				\
		printf("ok - %s\n", name);				\
	} else {							\
		printf("not ok - %s: got '%s', want '%s' (%s:%d)\n", name, \
		       g_ ? g_ : "(null)", w_ ? w_ : "(null)",		\
		       __FILE__, __LINE__);				\
		t_failed = 1;						\
	}								\
} while (0)

#define T_DONE() (fflush(stdout), t_failed)

#endif

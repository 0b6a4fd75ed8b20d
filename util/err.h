/*
 * err: an error context that library code fills and only the CLI prints
 * (redis anet.c's err buffer).  A message reads in the user's terms, the
 * cause last: "connect dev.example.invalid:22: connection refused".
 */
#ifndef FERRY_UTIL_ERR_H
#define FERRY_UTIL_ERR_H

#include "util/exitcode.h"

struct err {
	int code;		/* enum ferry_exit; 0 while no error is set */
	char msg[1024];
};

#define ERR_INIT { 0, { 0 } }

/* Sets the error (replacing any earlier one) and returns -1. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes context to an error already set ("backup postgres: ..."); -1. */
int err_wrap(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Adds to the end of an error already set ("...; the database was
 * dropped"); -1. */
int err_append(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);
/* The exit code for the error, FX_FAIL when none was given. */
int err_exit(const struct err *e);

#endif

#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->code = code ? code : FX_FAIL;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	char old[sizeof(e->msg)];
	va_list ap;
	int n;

	if (!e)
		return -1;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	/* Messages are bounded: the tail of an over-long one is cut. */
	if (n >= 0 && (size_t)n < sizeof(e->msg) - 2) {
		size_t room = sizeof(e->msg) - (size_t)n;

		e->msg[n] = ':';
		e->msg[n + 1] = ' ';
		memcpy(e->msg + n + 2, old, room - 2);
		e->msg[sizeof(e->msg) - 1] = '\0';
	}
	if (!e->code)
		e->code = FX_FAIL;
	return -1;
}

int err_append(struct err *e, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	if (!e)
		return -1;
	len = strlen(e->msg);
	va_start(ap, fmt);
	vsnprintf(e->msg + len, sizeof(e->msg) - len, fmt, ap);
	va_end(ap);
	if (!e->code)
		e->code = FX_FAIL;
	return -1;
}

void err_clear(struct err *e)
{
	e->code = 0;
	e->msg[0] = '\0';
}

int err_exit(const struct err *e)
{
	return e->code ? e->code : FX_FAIL;
}

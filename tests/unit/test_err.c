/* util/err.c: errors carry context up, bounded. */
#include "util/err.h"
#include "tests/unit/t.h"

#include <string.h>

int main(void)
{
	struct err e = ERR_INIT;
	char big[2000];

	T_OK(err_set(&e, FX_CONN, "connect %s: %s", "h:22", "refused") == -1,
	     "err_set returns -1");
	T_OK(e.code == FX_CONN, "err_set keeps the code");
	err_wrap(&e, "deploy");
	T_STREQ(e.msg, "deploy: connect h:22: refused", "err_wrap prefixes");
	T_OK(e.code == FX_CONN, "err_wrap keeps the code");
	err_append(&e, "; %s", "retried");
	T_STREQ(e.msg, "deploy: connect h:22: refused; retried", "err_append");
	err_clear(&e);
	T_OK(e.code == 0 && !e.msg[0], "err_clear");
	err_set(&e, 0, "x");
	T_OK(err_exit(&e) == FX_FAIL, "no code means FX_FAIL");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(&e, FX_FAIL, "%s", big);
	err_wrap(&e, "ctx");
	T_OK(strlen(e.msg) < sizeof(e.msg) && !strncmp(e.msg, "ctx: aaa", 8),
	     "an over-long message is cut, not overrun");
	err_append(&e, "%s", big);
	T_OK(strlen(e.msg) == sizeof(e.msg) - 1, "err_append is bounded");
	T_OK(err_set(NULL, FX_FAIL, "x") == -1, "a NULL context is allowed");
	return T_DONE();
}

#include "conf/expand.h"
#include "tests/unit/t.h"

#include <stdlib.h>

static const char *lookup(void *ctx, const char *name)
{
	(void)ctx;
	if (!strcmp(name, "SET"))
		return "value";
	if (!strcmp(name, "EMPTY"))
		return "";
	return NULL;
}

static void expect(const char *in, const char *want)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	char name[256];
	int r = expand_vars(in, &out, lookup, NULL, &why, NULL);

	snprintf(name, sizeof(name), "expand '%s'", in);
	if (r < 0)
		T_STREQ(buf_str(&why), want, name);
	else
		T_STREQ(buf_str(&out), want, name);
	buf_release(&out);
	buf_release(&why);
}

int main(void)
{
	int used = 0;
	struct buf out = BUF_INIT, why = BUF_INIT;

	expect("plain", "plain");
	expect("${SET}", "value");
	expect("$SET/x", "value/x");
	expect("a${SET}b", "avalueb");
	expect("$$SET", "$SET");
	expect("cost: 5$", "cost: 5$");
	expect("${UNSET:-fallback}", "fallback");
	expect("${EMPTY:-fallback}", "fallback");
	expect("${EMPTY-fallback}", "");
	expect("${UNSET-fallback}", "fallback");
	expect("${UNSET:-${SET}}", "value");
	expect("${UNSET:-${ALSO:-deep}}", "deep");
	expect("${SET:+alt}", "alt");
	expect("${UNSET:+alt}", "");
	expect("${SET:?must be set}", "value");
	expect("${UNSET:?must be set}", "variable 'UNSET' is required: must be set");
	expect("${UNSET}", "variable 'UNSET' is not set");
	expect("$UNSET", "variable 'UNSET' is not set");
	expect("${SET", "unterminated '${' in '${SET'");
	expect("${1X}", "bad variable reference '${1X}'");
	expect("${SET!x}", "bad variable reference '${SET!x}'");
	expand_vars("${SET}${UNSET:-x}$SET", &out, lookup, NULL, &why, &used);
	T_OK(used == 2, "expand counts substituted variables");
	buf_release(&out);
	buf_release(&why);
	return T_DONE();
}

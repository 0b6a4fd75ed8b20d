/* util/escape.c: names printed as `ls -b` would. */
#include "util/escape.h"
#include "tests/unit/t.h"

#include <stdlib.h>

static void check(const char *in, const char *want, const char *name)
{
	char *got = esc_str(in);

	T_STREQ(got, want, name);
	free(got);
}

int main(void)
{
	check("plain/name.txt", "plain/name.txt", "plain names unchanged");
	check("with space", "with space", "spaces unchanged");
	check("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac", "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac",
	      "UTF-8 unchanged");
	check("a\nb", "a\\nb", "newline");
	check("a\tb\r", "a\\tb\\r", "tab and CR");
	check("back\\slash", "back\\\\slash", "backslash doubled");
	check("\x1b[2Jx", "\\033[2Jx", "escape byte in octal");
	check("\x7f", "\\177", "DEL");
	check("p\xe4ss", "p\\344ss", "Latin-1 byte (invalid UTF-8)");
	check("\xc0\xaf", "\\300\\257", "overlong UTF-8");
	check("\xed\xa0\x80", "\\355\\240\\200", "surrogate");
	check("\xc2\x9b", "\\302\\233", "C1 control");
	check("\xe6\x97", "\\346\\227", "truncated sequence");
	T_OK(esc_clean("ok name") && !esc_clean("a\nb") && !esc_clean("a\\b"),
	     "esc_clean");
	return T_DONE();
}

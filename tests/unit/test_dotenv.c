#include "conf/dotenv.h"
#include "tests/unit/t.h"

#include <stdlib.h>

int main(void)
{
	static const char text[] =
		"# comment\n"
		"\n"
		"PLAIN=value\n"
		"export EXPORTED=yes\n"
		"SPACED = padded value   \n"
		"INLINE=abc # a comment\n"
		"HASH=abc#notacomment\n"
		"SINGLE='lit ${PLAIN} \\n'\n"
		"DOUBLE=\"a\\nb ${PLAIN} \\$x \\\"q\\\"\"\n"
		"MULTI=\"line1\n"
		"line2\"\n"
		"REF=${PLAIN}-${MISSING:-def}\n"
		"EMPTY=\n"
		"FROMENV\n"
		"CRLF=x\r\n"
		"DOTTED.KEY-1=ok\n";
	struct dotenv env = DOTENV_INIT;
	struct err e = ERR_INIT;

	setenv("FROMENV", "env-value", 1);
	T_OK(dotenv_parse(&env, text, "t.env", &e) == 0, "dotenv parses");
	T_STREQ(dotenv_get(&env, "PLAIN"), "value", "plain value");
	T_STREQ(dotenv_get(&env, "EXPORTED"), "yes", "export prefix");
	T_STREQ(dotenv_get(&env, "SPACED"), "padded value", "blanks trimmed");
	T_STREQ(dotenv_get(&env, "INLINE"), "abc", "inline comment");
	T_STREQ(dotenv_get(&env, "HASH"), "abc#notacomment", "# inside a word");
	T_STREQ(dotenv_get(&env, "SINGLE"), "lit ${PLAIN} \\n", "single quotes literal");
	T_STREQ(dotenv_get(&env, "DOUBLE"), "a\nb value $x \"q\"", "double quotes");
	T_STREQ(dotenv_get(&env, "MULTI"), "line1\nline2", "multi-line value");
	T_STREQ(dotenv_get(&env, "REF"), "value-def", "interpolation");
	T_STREQ(dotenv_get(&env, "EMPTY"), "", "empty value");
	T_STREQ(dotenv_get(&env, "FROMENV"), "env-value", "bare key from environment");
	T_STREQ(dotenv_get(&env, "CRLF"), "x", "CRLF line ending");
	T_STREQ(dotenv_get(&env, "DOTTED.KEY-1"), "ok", "dots and dashes in keys");
	dotenv_release(&env);

	T_OK(dotenv_parse(&env, "A=1\nB=\"open\n", "bad.env", &e) < 0, "unterminated quote fails");
	T_STREQ(e.msg, "bad.env:2: unterminated \"-quoted value", "unterminated quote names line");
	dotenv_release(&env);
	T_OK(dotenv_parse(&env, "A=1\n=x\n", "bad.env", &e) < 0, "missing key fails");
	T_STREQ(e.msg, "bad.env:2: expected KEY=VALUE", "missing key names line");
	dotenv_release(&env);
	T_OK(dotenv_parse(&env, "A='x' y\n", "bad.env", &e) < 0, "text after quote fails");
	dotenv_release(&env);
	T_OK(dotenv_parse(&env, "A=${NOPE_NOT_SET}\n", "bad.env", &e) < 0, "unset variable fails");
	T_STREQ(e.msg, "bad.env:1: variable 'NOPE_NOT_SET' is not set", "unset variable message");
	dotenv_release(&env);
	return T_DONE();
}

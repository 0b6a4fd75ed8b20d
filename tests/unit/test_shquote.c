#include "util/shquote.h"
#include "tests/unit/t.h"

#include <stdio.h>
#include <stdlib.h>

/* Round trip through a real shell: printf '%s' WORD must give back s. */
static int via_sh(const char *s)
{
	struct buf cmd = BUF_INIT, out = BUF_INIT;
	char chunk[256];
	size_t n;
	FILE *p;
	int same;

	buf_addstr(&cmd, "printf '%s' ");
	sh_quote(&cmd, s);
	p = popen(buf_str(&cmd), "r");
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_add(&out, chunk, n);
	pclose(p);
	same = !strcmp(buf_str(&out), s);
	buf_release(&cmd);
	buf_release(&out);
	return same;
}

int main(void)
{
	static const char *const words[] = {
		"plain", "with space", "it's", "$(rm -rf /)", "`id`", "a\"b",
		"back\\slash", "new\nline", "*", "~", "-n", "", "'", "''",
		"tab\there", "ünïcödé", "!bang", "semi;colon", "a&b|c>d<e",
	};
	const char *const argv[] = { "ls", "-l", "a b", NULL };
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++) {
		char name[128];

		snprintf(name, sizeof(name), "sh_quote round trip #%zu", i);
		T_OK(via_sh(words[i]), name);
	}
	sh_quote(&b, "safe/path-1.2_x");
	T_STREQ(buf_str(&b), "safe/path-1.2_x", "safe words stay unquoted");
	buf_reset(&b);
	sh_quote(&b, "");
	T_STREQ(buf_str(&b), "''", "empty word is ''");
	buf_reset(&b);
	sh_join(&b, argv);
	T_STREQ(buf_str(&b), "ls -l 'a b'", "sh_join");
	buf_reset(&b);
	sh_quote_path(&b, "~/app dir");
	T_STREQ(buf_str(&b), "\"$HOME\"/'app dir'", "sh_quote_path: ~/ is the home");
	buf_reset(&b);
	sh_quote_path(&b, "~");
	T_STREQ(buf_str(&b), "\"$HOME\"", "sh_quote_path: ~ alone");
	buf_reset(&b);
	sh_quote_path(&b, "/srv/~x");
	T_STREQ(buf_str(&b), "'/srv/~x'", "sh_quote_path: an inner ~ is literal");
	buf_release(&b);
	return T_DONE();
}

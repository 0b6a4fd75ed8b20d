#include "util/shquote.h"

#include <string.h>

/* Characters no POSIX shell treats specially anywhere in a word. */
static const char safe[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	"0123456789_@%+=:,./-";

void sh_quote(struct buf *b, const char *s)
{
	if (*s && strspn(s, safe) == strlen(s)) {
		buf_addstr(b, s);
		return;
	}
	/* Inside '...' nothing is special but ' itself, written as '\''. */
	buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_addstr(b, "'\\''");
		else
			buf_addch(b, *s);
	}
	buf_addch(b, '\'');
}

void sh_quote_path(struct buf *b, const char *path)
{
	if (!strcmp(path, "~")) {
		buf_addstr(b, "\"$HOME\"");
		return;
	}
	if (!strncmp(path, "~/", 2)) {
		buf_addstr(b, "\"$HOME\"/");
		path += 2;
		if (!*path)
			return;
	}
	sh_quote(b, path);
}

void sh_join(struct buf *b, const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			buf_addch(b, ' ');
		sh_quote(b, argv[i]);
	}
}

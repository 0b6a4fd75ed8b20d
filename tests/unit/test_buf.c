#include "util/buf.h"
#include "tests/unit/t.h"

#include <stdlib.h>

int main(void)
{
	struct buf b = BUF_INIT;
	struct strlist l = STRLIST_INIT;
	char *s;
	size_t n;

	T_STREQ(buf_str(&b), "", "empty buf reads as empty string");
	for (int i = 0; i < 1000; i++)
		buf_addch(&b, 'a' + i % 26);
	T_OK(b.len == 1000 && b.p[1000] == '\0', "buf grows and stays terminated");
	buf_reset(&b);
	buf_printf(&b, "%s-%d", "x", 42);
	T_STREQ(buf_str(&b), "x-42", "buf_printf formats");
	buf_add(&b, "\0z", 2);
	T_OK(b.len == 6, "buf_add keeps embedded NUL");
	s = buf_detach(&b, &n);
	T_OK(n == 6 && b.p == NULL && b.len == 0, "buf_detach hands over and empties");
	free(s);
	strlist_split(&l, " a, b ,,\n c\t,");
	T_OK(l.n == 3, "strlist_split drops empty items");
	T_STREQ(l.v[0], "a", "strlist_split trims (1)");
	T_STREQ(l.v[1], "b", "strlist_split trims (2)");
	T_STREQ(l.v[2], "c", "strlist_split splits on newlines");
	T_OK(l.v[3] == NULL, "strlist is NULL-terminated");
	strlist_release(&l);
	s = xstrfmt("%05d", 7);
	T_STREQ(s, "00007", "xstrfmt");
	free(s);
	buf_remove_front(&b, 3);
	T_OK(b.len == 0, "buf_remove_front on an empty buf");
	buf_addstr(&b, "taken\nlist");
	buf_remove_front(&b, 6);
	T_STREQ(buf_str(&b), "list", "buf_remove_front drops the front");
	buf_remove_front(&b, 99);
	T_OK(b.len == 0 && b.p[0] == '\0', "buf_remove_front past the end empties");
	buf_release(&b);
	return T_DONE();
}

/* The item format of ferry's SQL scripts: written by pgs_emit, read by
 * pgs_next (backup/pg_script.c) and items_parse (restore/pg_items.c). */
#include "backup/pg_schema_int.h"
#include "restore/pg_items.h"
#include "tests/unit/t.h"

#include <stdlib.h>

int main(void)
{
	struct buf b = BUF_INIT;
	struct pgs_out o = { &b, 0 };
	struct pgs_item it;
	struct items all = { 0 };
	struct err e = ERR_INIT;
	size_t pos = 0;
	int n = 0;

	buf_addstr(&b, "-- a leading comment\n");
	pgs_emit(&o, "pre", "TABLE", "public.t", "CREATE TABLE t (a int);");
	/* A body holding a line that looks like a tag of another number, and
	 * a name with a newline (quoted identifiers may have one). */
	pgs_emit(&o, "pre", "FUNCTION", "f\nx", "SELECT 1;\n-- ferry-item 7 pre X: y\nSELECT 2;");
	pgs_emit(&o, "index", "INDEX", "public.i", "CREATE INDEX i ON t (a);");
	while (pgs_next(b.p, b.len, &pos, &it) == 1) {
		n++;
		if (n == 2) {
			T_OK(it.n == 2 && !strcmp(it.phase, "pre"), "item 2 header");
			T_OK(memmem(it.sql, it.sql_len, "SELECT 2;", 9) != NULL,
			     "a look-alike tag inside a body stays in it");
			T_OK(!memchr(it.label, '\n', it.label_len),
			     "a newline in a name does not break the header");
		}
		if (n == 3)
			T_OK(!strcmp(it.phase, "index") &&
			     !strncmp(it.label, "INDEX: public.i", it.label_len),
			     "item 3 phase and label");
	}
	T_OK(n == 3, "three items read back");
	T_OK(items_parse(b.p, b.len, "x.sql", &all, &e) == 0 && all.n == 3,
	     "items_parse reads the same");
	items_free(&all);
	pos = 0;
	T_OK(pgs_next("-- ferry-item x pre", 19, &pos, &it) == -1,
	     "a broken header is an error");
	T_OK(items_parse("-- ferry-item 1 pre T: a\nX;\n-- ferry-item 3 pre T: b\n",
			 52, "bad.sql", &all, &e) == 0, "a gap in numbers keeps the body");
	items_free(&all);
	pos = 0;
	T_OK(pgs_next("", 0, &pos, &it) == 0, "an empty script has no items");
	buf_release(&b);
	return T_DONE();
}

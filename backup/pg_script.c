/*
 * The format of ferry's SQL scripts (pre-data.sql, post-data.sql,
 * globals.sql): plain SQL cut into numbered items, written by pg_schema
 * and pg_globals, read back by the restore.
 */
#include "backup/pg_schema_int.h"

#include <stdio.h>
#include <string.h>

void pgs_emit(struct pgs_out *o, const char *phase, const char *kind,
	      const char *name, const char *sql)
{
	buf_printf(o->b, PGS_ITEM_TAG "%lu %s %s: ", ++o->n, phase, kind);
	/* Quoted identifiers may hold newlines: the header stays one line. */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		buf_addch(o->b, *p < 0x20 ? '?' : *p);
	buf_printf(o->b, "\n%s\n\n", sql);
}

int pgs_next(const char *text, size_t len, size_t *pos, struct pgs_item *it)
{
	size_t tl = strlen(PGS_ITEM_TAG);
	const char *p = text + *pos, *end = text + len, *nl, *next = NULL;
	char want[48];
	int hl;

	if (*pos == 0 && (len < tl + 2 || memcmp(text, PGS_ITEM_TAG "1 ", tl + 2))) {
		/* Skip the script's leading comment. */
		const char *first = memmem(text, len, "\n" PGS_ITEM_TAG "1 ",
					   tl + 3);

		if (!first)
			return len && memmem(text, len, PGS_ITEM_TAG, tl) ? -1 : 0;
		p = first + 1;
	}
	if (p >= end)
		return 0;
	if ((size_t)(end - p) < tl || memcmp(p, PGS_ITEM_TAG, tl))
		return -1;
	memset(it, 0, sizeof(*it));
	if (sscanf(p + tl, "%lu %15s %n", &it->n, it->phase, &hl) != 2)
		return -1;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		return -1;
	it->label = p + tl + hl;
	it->label_len = (size_t)(nl - it->label);
	/* The next item is "\n-- ferry-item <n+1> ": a body cannot end one
	 * by accident unless it holds exactly that line. */
	snprintf(want, sizeof(want), "\n" PGS_ITEM_TAG "%lu ", it->n + 1);
	next = memmem(nl, (size_t)(end - nl), want, strlen(want));
	it->sql = nl + 1;
	it->sql_len = (size_t)((next ? next + 1 : end) - it->sql);
	*pos = next ? (size_t)(next + 1 - text) : len;
	return 1;
}

#include "backup/component.h"

#include <stdio.h>
#include <string.h>

#include "util/escape.h"

/* Components later issues fill in are listed with run = NULL, so their
 * names are known (and refused clearly) before they exist. */
const struct component components[] = {
	{ "postgres", "postgres", pg_backup, pg_check, NULL },
	{ "minio", "minio", minio_backup, minio_check, "s3" },
	{ "redis", "redis", redis_backup, redis_check, NULL },
	{ "neo4j", "neo4j", neo4j_backup, neo4j_check, NULL },
	{ "logs", "logs", logs_backup, logs_check, NULL },
	{ "files", "files", files_backup, files_check, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct component *component_find(const char *name)
{
	for (const struct component *c = components; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

size_t component_count(void)
{
	size_t n = 0;

	while (components[n].name)
		n++;
	return n;
}

char *component_member_part(const char *name)
{
	struct buf b = BUF_INIT;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		/* '/', '%', control bytes and a leading dot (".", "..") are
		 * escaped; UTF-8 passes through. */
		if (*p == '/' || *p == '%' || *p < 0x20 || *p == 0x7f ||
		    (*p == '.' && p == (const unsigned char *)name))
			buf_printf(&b, "%%%02X", *p);
		else
			buf_addch(&b, *p);
	}
	if (!b.len)
		buf_addstr(&b, "%00");
	return buf_detach(&b, NULL);
}

char *component_member_path(const char *path)
{
	struct buf b = BUF_INIT;
	const char *p = path;

	while (*p) {
		size_t n = strcspn(p, "/");

		if (n) {
			if (b.len)
				buf_addch(&b, '/');
			/* "." and ".." would climb; other names keep their
			 * leading dot, so ".env" stays readable. */
			if ((n == 1 && p[0] == '.') ||
			    (n == 2 && p[0] == '.' && p[1] == '.'))
				buf_addstr(&b, "%2E");
			for (size_t i = (n <= 2 && p[0] == '.' &&
					 p[n - 1] == '.') ? 1 : 0, k; i < n; i += k) {
				unsigned char c = (unsigned char)p[i];

				/* A byte that is not UTF-8 too: libarchive
				 * writes no pax name it cannot read back as
				 * UTF-8, and the manifest lists members as
				 * JSON.  ('/' is no continuation byte: k stays
				 * within the component.) */
				k = esc_utf8_len(p + i);
				if (!k || c == '%' || c < 0x20 || c == 0x7f) {
					buf_printf(&b, "%%%02X", c);
					k = 1;
				} else {
					buf_add(&b, p + i, k);
				}
			}
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (!b.len)
		buf_addstr(&b, "%00");
	return buf_detach(&b, NULL);
}

/*
 * Shared by conf.c (loading) and conf_dump.c (printing) only.
 */
#ifndef FERRY_CONF_INTERNAL_H
#define FERRY_CONF_INTERNAL_H

#include "conf/conf.h"
#include "conf/dotenv.h"

struct val {
	const struct conf_key *key;
	char *section;		/* the section as written: "group.web" */
	char *raw;		/* as written; NULL for defaults */
	char *value;		/* effective value */
	long long num;
	int line;		/* 0 for defaults */
	int from_file;		/* given as KEY_file */
	char *origin;
};

struct conf {
	char *path;
	char *dir;		/* relative paths are resolved against it */
	struct val *v;
	size_t n, cap;
	struct strlist sections;
	struct dotenv env;
	/* parse state */
	FILE *f;
	int line;
	struct err *e;
	int failed;
};

int conf_section_matches(const char *pattern, const char *sect);
struct val *conf_find_val(const struct conf *c, const char *sect,
			  const char *name);

#endif

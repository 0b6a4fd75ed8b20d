/*
 * Shared by the config's modules only: conf.c (reading the file),
 * conf_value.c (resolving values), conf_get.c (accessors) and conf_dump.c.
 */
#ifndef FERRY_CONF_INTERNAL_H
#define FERRY_CONF_INTERNAL_H

#include <stdio.h>
#include <sys/stat.h>

#include "conf/conf.h"
#include "conf/dotenv.h"

struct val {
	const struct conf_key *key;
	char *section;		/* the section as written: "group.web" */
	char *raw;		/* as written; NULL for defaults */
	char *value;		/* effective value; NULL when unset or broken */
	long long num;
	int line;		/* 0 for defaults */
	int from_file;		/* given as KEY_file */
	char *origin;
	/* "FILE:LINE: why" when the value cannot be used.  Kept, not
	 * raised: a command meets it only through conf_need() for the
	 * sections it uses (`ferry config` and `check` list them all). */
	char *error;
};

struct conf {
	char *path;
	char *dir;		/* relative paths are resolved against it */
	struct val *v;
	size_t n, cap;
	struct strlist sections;
	int *section_line;	/* section_line[i]: where sections.v[i] began */
	struct dotenv env;
	int env_line;		/* env_file's line when it could not be read */
	/* parse state */
	FILE *f;
	int line;
	struct buf text;	/* the physical line being handed to inih */
	size_t handed;		/* how much of it inih has had */
	struct err *e;
	int failed;
};

int conf_section_matches(const char *pattern, const char *sect);
const struct conf_key *conf_find_key(const char *sect, const char *name);
struct val *conf_find_val(const struct conf *c, const char *sect,
			  const char *name);
struct val *conf_add_val(struct conf *c, const struct conf_key *k,
			 const char *sect);
/* The line where [sect] began; 0 when the file has no such section. */
int conf_section_line(const struct conf *c, const char *sect);

/* Resolves every value: ${VAR}, *_file secrets, types, paths, then the
 * defaults.  A bad value keeps its error (struct val); only a bug returns
 * -1.  st (may be NULL) is the file's, for the literal-secret warning. */
void conf_resolve(struct conf *c, const struct stat *st);

#endif

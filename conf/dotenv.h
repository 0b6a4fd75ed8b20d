/*
 * dotenv: read a .env file the way docker compose does, so ferry sees the
 * same values as the stack it manages.
 *
 *   KEY=value            unquoted: trimmed, " #" starts a comment, ${} expands
 *   export KEY=value     "export " is ignored
 *   KEY='literal'        single quotes: nothing is special, may span lines
 *   KEY="a\n${B}"        double quotes: \n \t \r \" \\ \$ escapes, ${} expands,
 *                        may span lines
 *   KEY                  taken from the environment when set there
 *
 * Variables expand against the environment first, then keys defined above.
 */
#ifndef FERRY_DOTENV_H
#define FERRY_DOTENV_H

#include "util/buf.h"
#include "util/err.h"

struct dotenv {
	struct strlist keys;
	struct strlist values;	/* values.v[i] belongs to keys.v[i] */
};

#define DOTENV_INIT { STRLIST_INIT, STRLIST_INIT }

/* Parses text (named path in errors: "PATH:LINE: ..."), appending to env. */
int dotenv_parse(struct dotenv *env, const char *text, const char *path,
		 struct err *e) __attribute__((warn_unused_result));
int dotenv_load(struct dotenv *env, const char *path, struct err *e)
	__attribute__((warn_unused_result));
/* The last value given for key, or NULL. */
const char *dotenv_get(const struct dotenv *env, const char *key);
/* Wipes the values (they are often secrets) and frees everything. */
void dotenv_release(struct dotenv *env);

#endif

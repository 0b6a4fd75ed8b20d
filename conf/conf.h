/*
 * conf: ferry's configuration.  Keys live in one table (conf_keys.c); the
 * loader fills values from the file, strips quotes, expands ${VAR}s
 * (environment first, then [project] env_file), reads *_file secrets,
 * validates every value and then fills defaults, remembering where each
 * effective value came from (OpenSSH readconf.c: unset, file, default).
 *
 * Errors are one line naming FILE:LINE and exit code FX_USAGE.  What makes
 * the file unreadable (syntax, unknown keys, repeats) fails the load; a
 * value that cannot be used (an unset ${VAR}, a bad port, a missing key
 * file, a missing required key) is kept with the value and raised by
 * conf_need() for the sections a command uses, so a broken [neo4j] never
 * stops `ferry verify`.  conf_problems() lists them all.
 */
#ifndef FERRY_CONF_H
#define FERRY_CONF_H

#include <stdio.h>

#include "util/buf.h"
#include "util/err.h"

enum conf_type {
	CT_STR,
	CT_INT,		/* choices "MIN..MAX" */
	CT_PORT,
	CT_BOOL,
	CT_DURATION,	/* stored as milliseconds */
	CT_ENUM,	/* choices "a|b|c" */
	CT_LIST,	/* comma list */
	CT_PATH,	/* ~ and config-relative paths resolved */
	CT_PATHS,	/* comma list of paths */
	CT_URL,
	CT_S3URL,	/* s3://bucket[/prefix] */
	CT_CRON,	/* a cron expression (util/cron.h); choices "a|b":
			 * words allowed instead */
};

#define CK_SECRET   0x01	/* masked in output; KEY_file allowed */
#define CK_REQUIRED 0x02
#define CK_REPEAT   0x04	/* may repeat; values accumulate */
#define CK_FILEVAR  0x08	/* KEY_file reads the value from a file */
#define CK_DIR      0x10	/* must be an existing directory */
#define CK_FILE     0x20	/* every path must be a readable file */

struct conf_key {
	const char *section;	/* "group.*" matches every [group.NAME] */
	const char *name;
	enum conf_type type;
	const char *def;	/* default as written in a file; NULL: unset */
	unsigned flags;
	const char *choices;
	const char *help;
};

extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;
/* Sections a file may hold (patterns like "group.*" included). */
extern const char *const conf_sections[];

struct conf;

/*
 * Finds (path may be NULL: search order -c, $FERRY_CONFIG, ./ferry.ini,
 * ~/.config/ferry/ferry.ini, /etc/ferry/ferry.ini), reads and validates the
 * config.  Caller frees *out with conf_free().
 */
int conf_load(struct conf **out, const char *path, struct err *e)
	__attribute__((warn_unused_result));
/* Same, from text (named name in messages); for tests. */
int conf_load_string(struct conf **out, const char *text, const char *name,
		     struct err *e) __attribute__((warn_unused_result));
void conf_free(struct conf *c);

const char *conf_path(const struct conf *c);

/*
 * Raises the first problem of the values a command is about to use: every
 * key of section sect (a pattern like "group.*" too) when key is NULL, or
 * the one key.  0, or -1 with e set (FX_USAGE, "FILE:LINE: ...").
 */
int conf_need(const struct conf *c, const char *sect, const char *key,
	      struct err *e) __attribute__((warn_unused_result));
/* Appends every problem (of section sect, or all when NULL), one message
 * each, in file order; returns how many it added. */
size_t conf_problems(const struct conf *c, const char *sect,
		     struct strlist *out);
/*
 * The accessors below on a value with a problem nobody raised (a command
 * that did not conf_need() what it reads) call fn with the message; fn is
 * expected not to return (the CLI prints it and exits 2).  Without one
 * they abort.
 */
void conf_on_unchecked(void (*fn)(const char *msg));

/* The effective value, or NULL when unset.  Valid until conf_free(). */
const char *conf_str(const struct conf *c, const char *sect, const char *key);
/* Ints, ports, booleans (0/1) and durations (ms); 0 when unset. */
long long conf_num(const struct conf *c, const char *sect, const char *key);
/* Appends the list's items to out. */
void conf_list(const struct conf *c, const char *sect, const char *key,
	       struct strlist *out);
/* Appends the file's sections matching pattern ("group.*"), in file
 * order, each once. */
void conf_sections_like(const struct conf *c, const char *pattern,
			struct strlist *out);
/* 1 when the file has the section (the part is "configured"). */
int conf_has_section(const struct conf *c, const char *sect);
/* 1 when the file sets key (as opposed to a default). */
int conf_is_set(const struct conf *c, const char *sect, const char *key);
/* "ferry.ini:12", "default", "ferry.ini:9 via ${PGPASS}"... */
const char *conf_origin(const struct conf *c, const char *sect,
			const char *key);
/* True when [server] host = local: no SSH, everything runs here. */
int conf_is_local(const struct conf *c);

/* Prints the effective configuration, secrets masked. */
void conf_dump(const struct conf *c, FILE *out, int json);

/*
 * A value the file did not set that the program found elsewhere (a key
 * resolved through ssh_config): shown in place of the key's default, with
 * its own origin, or after the section's keys when name is no key.
 */
struct conf_shown {
	const char *section;
	const char *name;
	const char *value;
	const char *origin;
};

/* conf_dump() with those n rows. */
void conf_dump_shown(const struct conf *c, FILE *out, int json,
		     const struct conf_shown *rows, size_t n);

#endif

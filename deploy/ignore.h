/*
 * ignore: which paths a deploy leaves alone.  Two layers:
 *   - hard rules: the built-in excludes (the old script's list, plus ferry's
 *     own .ferry/) and [deploy] exclude; nothing can re-include them, so a
 *     .gitignore "!.env" never ships a secret;
 *   - soft rules: ignore_file (.deployignore) and, with gitignore = yes,
 *     every .gitignore in the tree, with git's exact semantics: the last
 *     matching pattern wins, deeper files over shallower ones, "!" negates,
 *     a trailing "/" means directories only, a leading or inner "/" anchors
 *     to the file's directory, and nothing inside an excluded directory can
 *     be re-included.
 * Paths are relative to the tree's root, without a leading "./".
 */
#ifndef FERRY_IGNORE_H
#define FERRY_IGNORE_H

#include "util/err.h"

struct ignore;

struct ignore *ign_new(void);
void ign_free(struct ignore *ig);
/* A hard pattern (built-ins, [deploy] exclude). */
void ign_add_hard(struct ignore *ig, const char *pattern);
void ign_add_builtin(struct ignore *ig);
/* The config file ferry loaded (config), when it lies inside the tree at
 * root: a hard rule for exactly that path, so its secrets never ship. */
void ign_add_config(struct ignore *ig, const char *root, const char *config);
/* A soft pattern line as a .gitignore in directory base ("" or "a/b/")
 * would hold it. */
void ign_add_line(struct ignore *ig, const char *line, const char *base);
/* Loads a whole ignore file; a missing file is no error. */
int ign_load(struct ignore *ig, const char *path, const char *base,
	     struct err *e) __attribute__((warn_unused_result));
/* Is path (is_dir: a directory) excluded by the rules themselves?  The
 * caller walks top-down and does not descend into excluded directories. */
int ign_excluded(const struct ignore *ig, const char *path, int is_dir);
/* The same for a path whose parents were not checked (a server listing):
 * excluded when it or any parent directory is. */
int ign_excluded_path(const struct ignore *ig, const char *path, int is_dir);

#endif

/*
 * tree_probe ROOT [--builtin] [--exclude PATTERN]... [--ignore-file F]
 *            [--all] [--print0]
 * prints the files and symlinks (--all: and directories) a deploy would send
 * from ROOT (gitignore semantics on), for comparison with git and rsync.
 * Not installed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "util/buf.h"
#include <string.h>

#include "deploy/ignore.h"
#include "deploy/tree.h"

int main(int argc, char **argv)
{
	struct ignore *ig = ign_new();
	struct ftree t = FTREE_INIT;
	struct err e = ERR_INIT;
	int all = 0, nul = 0;

	if (argc < 2)
		return 2;
	ign_add_hard(ig, ".git/");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--all"))
			all = 1;
		else if (!strcmp(argv[i], "--print0"))
			nul = 1;
		else if (!strcmp(argv[i], "--builtin"))
			ign_add_builtin(ig);
		else if (!strcmp(argv[i], "--exclude") && i + 1 < argc)
			ign_add_hard(ig, argv[++i]);
		else if (!strcmp(argv[i], "--ignore-file") && i + 1 < argc) {
			char *p = xstrfmt("%s/%s", argv[1], argv[++i]);

			if (ign_load(ig, p, "", &e) < 0)
				return 1;
			free(p);
		}
	}
	if (tree_walk(argv[1], ig, 1, &t, &e) < 0) {
		fprintf(stderr, "tree_probe: %s\n", e.msg);
		return 1;
	}
	for (size_t i = 0; i < t.n; i++)
		if (all || t.v[i].type != 'd')
			printf("%s%c", t.v[i].path, nul ? '\0' : '\n');
	tree_release(&t);
	ign_free(ig);
	return 0;
}

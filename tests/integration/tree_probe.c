/*
 * tree_probe ROOT [--builtin] [--exclude PATTERN]...: prints the files and
 * symlinks a deploy would send from ROOT (gitignore semantics on), one per
 * line, for comparison with git.  Not installed.
 */
#include <stdio.h>
#include <string.h>

#include "deploy/ignore.h"
#include "deploy/tree.h"

int main(int argc, char **argv)
{
	struct ignore *ig = ign_new();
	struct ftree t = FTREE_INIT;
	struct err e = ERR_INIT;

	if (argc < 2)
		return 2;
	ign_add_hard(ig, ".git/");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--builtin"))
			ign_add_builtin(ig);
		else if (!strcmp(argv[i], "--exclude") && i + 1 < argc)
			ign_add_hard(ig, argv[++i]);
	}
	if (tree_walk(argv[1], ig, 1, &t, &e) < 0) {
		fprintf(stderr, "tree_probe: %s\n", e.msg);
		return 1;
	}
	for (size_t i = 0; i < t.n; i++)
		if (t.v[i].type != 'd')
			printf("%s\n", t.v[i].path);
	tree_release(&t);
	ign_free(ig);
	return 0;
}

/* deploy/wildmatch.c: git's pathname rules, case by case (the gitignore
 * integration suite compares whole trees with git itself). */
#include "deploy/wildmatch.h"
#include "tests/unit/t.h"

struct tc {
	const char *pattern, *text;
	int match;
};

int main(void)
{
	static const struct tc cases[] = {
		{ "foo", "foo", 1 },
		{ "foo", "bar", 0 },
		{ "*.py", "a.py", 1 },
		{ "*.py", "dir/a.py", 0 },	/* '*' never crosses '/' */
		{ "?", "/", 0 },
		{ "a?c", "abc", 1 },
		{ "**/x", "x", 1 },
		{ "**/x", "a/b/x", 1 },
		{ "a/**/b", "a/b", 1 },
		{ "a/**/b", "a/x/y/b", 1 },
		{ "a/**", "a/x/y", 1 },
		{ "a/**", "a", 0 },
		{ "[abc]", "b", 1 },
		{ "[!abc]", "b", 0 },
		{ "[^abc]", "d", 1 },
		{ "[a-c]x", "bx", 1 },
		{ "[a-c]x", "dx", 0 },
		{ "[[:digit:]]*", "7up", 1 },
		{ "[[:alpha:]]", "7", 0 },
		{ "\\*", "*", 1 },
		{ "\\*", "a", 0 },
		{ "[]]", "]", 1 },
		{ "[", "[", 0 },		/* an unterminated class matches nothing */
		{ "*", "", 1 },
		{ "", "", 1 },
		{ "**", "a/b/c", 1 },
		{ "x**y", "xay", 1 },
		{ "x**y", "xa/y", 0 },		/* not between slashes: plain '*' */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[160];

		snprintf(name, sizeof(name), "wildmatch('%s', '%s') is %d",
			 cases[i].pattern, cases[i].text, cases[i].match);
		T_OK(!!wildmatch(cases[i].pattern, cases[i].text) == cases[i].match,
		     name);
	}
	return T_DONE();
}

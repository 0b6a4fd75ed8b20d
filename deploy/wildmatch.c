#include "deploy/wildmatch.h"

#include <ctype.h>
#include <string.h>

enum { NOMATCH = 0, MATCH = 1, ABORT_ALL = -1, ABORT_TO_STARSTAR = -2 };

static int class_match(const char *name, size_t n, unsigned char c)
{
	static const struct { const char *name; int (*fn)(int); } classes[] = {
		{ "alnum", isalnum }, { "alpha", isalpha }, { "blank", isblank },
		{ "cntrl", iscntrl }, { "digit", isdigit }, { "graph", isgraph },
		{ "lower", islower }, { "print", isprint }, { "punct", ispunct },
		{ "space", isspace }, { "upper", isupper }, { "xdigit", isxdigit },
	};

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strlen(classes[i].name) == n && !strncmp(classes[i].name, name, n))
			return classes[i].fn(c) != 0;
	return -1;	/* unknown class: the whole pattern is malformed */
}

/* Matches a bracket expression at *pp against c; advances *pp past it.
 * Returns 1/0, or -1 when the pattern is malformed. */
static int bracket(const char **pp, unsigned char c)
{
	const char *p = *pp;
	int negate = 0, hit = 0;
	unsigned char prev = 0;

	if (*p == '!' || *p == '^') {
		negate = 1;
		p++;
	}
	for (int first = 1; *p && (first || *p != ']'); first = 0) {
		if (*p == '[' && p[1] == ':') {
			const char *end = strstr(p + 2, ":]");
			int r;

			if (!end)
				return -1;
			r = class_match(p + 2, (size_t)(end - p - 2), c);
			if (r < 0)
				return -1;
			hit |= r;
			p = end + 2;
			prev = 0;
			continue;
		}
		if (*p == '\\') {
			p++;
			if (!*p)
				return -1;
		}
		if (*p == '-' && prev && p[1] && p[1] != ']') {
			unsigned char hi = (unsigned char)p[1];

			if (hi == '\\' && p[2])
				hi = (unsigned char)p[2], p++;
			if (c >= prev && c <= hi)
				hit = 1;
			p += 2;
			prev = 0;
			continue;
		}
		prev = (unsigned char)*p;
		if (prev == c)
			hit = 1;
		p++;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return hit != negate;
}

static int dowild(const char *start, const char *p, const char *text)
{
	for (; *p; text++, p++) {
		unsigned char t = (unsigned char)*text, pc = (unsigned char)*p;
		int any_depth;

		if (!t && pc != '*')
			return ABORT_ALL;
		switch (pc) {
		case '\\':
			p++;
			if ((unsigned char)*p != t)
				return NOMATCH;
			break;
		case '?':
			if (t == '/')
				return NOMATCH;
			break;
		case '*':
			any_depth = 0;
			if (p[1] == '*') {
				const char *before = p - 1;

				while (p[1] == '*')
					p++;
				/* Two stars span directories only as a whole
				 * path component (alone, after "a/", before
				 * "/b"); elsewhere they act as one star. */
				if ((before < start || *before == '/') &&
				    (p[1] == '\0' || p[1] == '/')) {
					if (p[1] == '/' &&
					    dowild(start, p + 2, text) == MATCH)
						return MATCH;
					any_depth = 1;
				}
			}
			p++;
			if (!*p)
				return any_depth || !strchr(text, '/') ? MATCH : NOMATCH;
			if (!any_depth && *p == '/') {
				/* one '*' then '/': the rest of this component */
				const char *slash = strchr(text, '/');

				if (!slash)
					return NOMATCH;
				text = slash;
				break;	/* the loop steps over both slashes */
			}
			for (; *text; text++) {
				int r = dowild(start, p, text);

				if (r != NOMATCH) {
					if (!any_depth || r != ABORT_TO_STARSTAR)
						return r;
				} else if (!any_depth && *text == '/') {
					return ABORT_TO_STARSTAR;
				}
			}
			return ABORT_ALL;
		case '[': {
			const char *q = p + 1;
			int r;

			if (t == '/')
				return NOMATCH;
			r = bracket(&q, t);
			if (r < 0)
				return ABORT_ALL;
			if (!r)
				return NOMATCH;
			p = q - 1;
			break;
		}
		default:
			if (t != pc)
				return NOMATCH;
		}
	}
	return *text ? NOMATCH : MATCH;
}

int wildmatch(const char *pattern, const char *text)
{
	return dowild(pattern, pattern, text) == MATCH;
}

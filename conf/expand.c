#include "conf/expand.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Recursion guard for nested defaults such as ${A:-${B:-${C}}}. */
#define MAX_DEPTH 8

static int name_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static int name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Finds the '}' closing the '${' whose body starts at p; NULL if none. */
static const char *closing_brace(const char *p)
{
	int depth = 1;

	for (; *p; p++) {
		if (p[0] == '$' && p[1] == '{') {
			depth++;
			p++;
		} else if (*p == '}' && --depth == 0) {
			return p;
		}
	}
	return NULL;
}

static int expand_depth(const char *in, size_t len, struct buf *out,
			expand_lookup lookup, void *ctx, struct buf *why,
			int *used, int depth);

static int expand_braced(const char *body, size_t len, struct buf *out,
			 expand_lookup lookup, void *ctx, struct buf *why,
			 int *used, int depth)
{
	size_t n = 0;
	char *name;
	const char *val, *op, *arg;
	int colon = 0, r = 0;
	size_t arglen;

	while (n < len && name_char(body[n]))
		n++;
	if (n == 0 || !name_start(body[0])) {
		buf_printf(why, "bad variable reference '${%.*s}'", (int)len, body);
		return -1;
	}
	name = xstrndup(body, n);
	val = lookup(ctx, name);
	op = body + n;
	if (n == len) {
		if (!val) {
			buf_printf(why, "variable '%s' is not set", name);
			r = -1;
		} else {
			buf_addstr(out, val);
			(*used)++;
		}
		goto out;
	}
	if (*op == ':') {
		colon = 1;
		op++;
	}
	arg = op + 1;
	arglen = len - (size_t)(arg - body);
	/* With ':' an empty value counts as unset, as in sh and compose. */
	int set = val && (!colon || *val);

	switch (*op) {
	case '-':
		if (set) {
			buf_addstr(out, val);
			(*used)++;
		} else {
			r = expand_depth(arg, arglen, out, lookup, ctx, why,
					 used, depth + 1);
		}
		break;
	case '+':
		if (set)
			r = expand_depth(arg, arglen, out, lookup, ctx, why,
					 used, depth + 1);
		break;
	case '?':
		if (set) {
			buf_addstr(out, val);
			(*used)++;
		} else {
			buf_printf(why, "variable '%s' %s%.*s", name,
				   arglen ? "is required: " : "is not set",
				   (int)arglen, arg);
			r = -1;
		}
		break;
	default:
		buf_printf(why, "bad variable reference '${%.*s}'", (int)len, body);
		r = -1;
	}
out:
	free(name);
	return r;
}

static int expand_depth(const char *in, size_t len, struct buf *out,
			expand_lookup lookup, void *ctx, struct buf *why,
			int *used, int depth)
{
	const char *p = in, *end = in + len;

	if (depth > MAX_DEPTH) {
		buf_addstr(why, "variable references nested too deeply");
		return -1;
	}
	while (p < end) {
		if (*p != '$' || p + 1 >= end) {
			buf_addch(out, *p++);
			continue;
		}
		if (p[1] == '$') {
			buf_addch(out, '$');
			p += 2;
		} else if (p[1] == '{') {
			const char *close = closing_brace(p + 2);

			if (!close || close >= end) {
				buf_printf(why, "unterminated '${' in '%.*s'",
					   (int)len, in);
				return -1;
			}
			if (expand_braced(p + 2, (size_t)(close - p - 2), out,
					  lookup, ctx, why, used, depth) < 0)
				return -1;
			p = close + 1;
		} else if (name_start(p[1])) {
			const char *q = p + 1;
			char *name;
			const char *val;

			while (q < end && name_char(*q))
				q++;
			name = xstrndup(p + 1, (size_t)(q - p - 1));
			val = lookup(ctx, name);
			if (!val) {
				buf_printf(why, "variable '%s' is not set", name);
				free(name);
				return -1;
			}
			buf_addstr(out, val);
			(*used)++;
			free(name);
			p = q;
		} else {
			buf_addch(out, *p++);
		}
	}
	return 0;
}

int expand_vars(const char *in, struct buf *out, expand_lookup lookup,
		void *ctx, struct buf *why, int *used)
{
	int dummy = 0;

	return expand_depth(in, strlen(in), out, lookup, ctx, why,
			    used ? used : &dummy, 0);
}

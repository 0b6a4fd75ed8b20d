#include "util/escape.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), 0 when it is not one.
 * Overlong forms, surrogates and C1 controls (U+0080..U+009F, which
 * terminals act on) count as invalid. */
static size_t utf8_len(const unsigned char *p)
{
	uint32_t cp;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

static void escape(struct buf *out, const char *s, int backslash)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);

		if (*p == '\\' && backslash) {
			buf_addstr(out, "\\\\");
		} else if (*p == '\n') {
			buf_addstr(out, "\\n");
		} else if (*p == '\t') {
			buf_addstr(out, "\\t");
		} else if (*p == '\r') {
			buf_addstr(out, "\\r");
		} else if (n == 0 || *p < 0x20 || *p == 0x7f) {
			buf_printf(out, "\\%03o", *p);
			n = 1;
		} else {
			buf_add(out, p, n);
		}
		p += n;
	}
}

void esc_add(struct buf *out, const char *s)
{
	escape(out, s, 1);
}

void esc_add_text(struct buf *out, const char *s)
{
	escape(out, s, 0);
}

char *esc_str(const char *s)
{
	struct buf b = BUF_INIT;

	esc_add(&b, s);
	return buf_detach(&b, NULL);
}

int esc_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0 || *p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
		p += n;
	}
	return 1;
}

#include "util/escape.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), 0 when it is not one.
 * Overlong forms, surrogates and C1 controls (U+0080..U+009F, which
 * terminals act on) count as invalid. */
size_t esc_utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
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
		size_t n = esc_utf8_len((const char *)p);

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
		size_t n = esc_utf8_len((const char *)p);

		if (n == 0 || *p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
		p += n;
	}
	return 1;
}

int esc_utf8(const char *s)
{
	size_t n;

	for (; *s; s += n)
		if (!(n = esc_utf8_len(s)))
			return 0;
	return 1;
}

void esc_add_pct(struct buf *out, const char *s)
{
	while (*s) {
		size_t n = esc_utf8_len(s);

		if (n == 0 || *s == '%') {
			buf_printf(out, "%%%02X", (unsigned char)*s);
			n = 1;
		} else {
			buf_add(out, s, n);
		}
		s += n;
	}
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ?
	       c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int esc_unpct(const char *s, struct buf *out)
{
	for (; *s; s++) {
		int hi, lo;

		if (*s != '%') {
			buf_addch(out, *s);
			continue;
		}
		hi = s[1] ? hexval(s[1]) : -1;
		lo = hi >= 0 && s[2] ? hexval(s[2]) : -1;
		/* %00 would end the name early: no name holds a NUL. */
		if (lo < 0 || (hi | lo) == 0)
			return -1;
		buf_addch(out, hi << 4 | lo);
		s += 2;
	}
	return 0;
}

void esc_fix_text(char *s, size_t size)
{
	struct buf b = BUF_INIT;
	size_t n;

	esc_add_text(&b, s);
	n = b.len < size ? b.len : size - 1;
	/* Cut where a character begins, so the text stays UTF-8. */
	while (n > 0 && n < b.len && ((unsigned char)b.p[n] & 0xc0) == 0x80)
		n--;
	memcpy(s, b.p, n);
	s[n] = '\0';
	buf_release(&b);
}

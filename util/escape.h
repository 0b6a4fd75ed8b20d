/*
 * escape: names that come from outside (a file on the server, an archive
 * member, a key in the config) are printed so that a newline or a control
 * byte can neither forge a line nor move the terminal's cursor, the way
 * `ls -b` does: \n \t \r \\ as such, any other control byte and any byte
 * that is not part of valid UTF-8 as \ooo (three octal digits).  Valid
 * UTF-8 and spaces pass through unchanged.
 */
#ifndef FERRY_UTIL_ESCAPE_H
#define FERRY_UTIL_ESCAPE_H

#include "util/buf.h"

/* Appends s, escaped, to out. */
void esc_add(struct buf *out, const char *s);
/* The same for a message that quotes such names: control bytes and
 * invalid UTF-8 escaped, backslashes kept (they are not ambiguous in a
 * message, and names in it may already be escaped). */
void esc_add_text(struct buf *out, const char *s);
/* The escaped form of s as a new string; caller frees. */
char *esc_str(const char *s);
/* 1 when s would be printed unchanged (nothing to escape). */
int esc_clean(const char *s);
/* Rewrites the message s (size bytes, an err's) as esc_add_text() prints
 * it, cut at a character to fit: whatever quotes a server's name or
 * output can then go anywhere text goes (a report line, JSON). */
void esc_fix_text(char *s, size_t size);

/* Length of the valid UTF-8 character at s (1..4), 0 when its bytes are
 * not one (as above: overlong forms, surrogates and C1 controls are not). */
size_t esc_utf8_len(const char *s);
/* 1 when all of s is valid UTF-8 (control bytes allowed). */
int esc_utf8(const char *s);

/*
 * A name's exact bytes as UTF-8 text that can be undone: '%' and every
 * byte that is not part of valid UTF-8 become %XX (two upper-case hex
 * digits), the rest (control bytes too) stays: "bad\377%.txt" ->
 * "bad%FF%25.txt".  esc_unpct() gives the bytes back; -1 (out partly
 * filled) when a '%' is not followed by two hex digits or makes a NUL.
 */
void esc_add_pct(struct buf *out, const char *s);
int esc_unpct(const char *s, struct buf *out)
	__attribute__((warn_unused_result));

#endif

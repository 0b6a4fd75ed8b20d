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

#endif

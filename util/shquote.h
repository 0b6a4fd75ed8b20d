/*
 * shquote: build remote command lines.  Every argument that reaches a remote
 * shell goes through sh_quote(), so a path with spaces, quotes or `$(...)`
 * is always one literal word.
 */
#ifndef FERRY_UTIL_SHQUOTE_H
#define FERRY_UTIL_SHQUOTE_H

#include "util/buf.h"

/* Appends s as one POSIX shell word. */
void sh_quote(struct buf *b, const char *s);
/* A server path as one word, with a leading "~" or "~/" meaning the
 * remote user's home ("$HOME"/'rest'), as in ferry.ini's remote_dir. */
void sh_quote_path(struct buf *b, const char *path);
/* Appends the words of argv (NULL-terminated), quoted, space-separated. */
void sh_join(struct buf *b, const char *const *argv);

#endif

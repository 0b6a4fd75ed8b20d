/*
 * jtext: text from outside as JSON.  jansson takes only valid UTF-8: given
 * anything else, json_string() and json_pack() return NULL, so a key
 * (json_object_set_new) or a whole record is lost, and json_dumps() of
 * that NULL is NULL too.  A file name on a server, or an error that quotes
 * one, can hold any byte (and an err cut at its size can end mid-
 * character), so such text goes through here instead.
 */
#ifndef FERRY_UTIL_JTEXT_H
#define FERRY_UTIL_JTEXT_H

#include <jansson.h>

#include "util/err.h"

/* s as a JSON string: as it is when it is UTF-8, else with its other
 * bytes escaped as escape.h prints them ("bad\377utf").  For messages:
 * the escaping cannot be undone.  NULL for NULL (json_pack's "o?"). */
json_t *jtext_new(const char *s);

/*
 * A name (a path, a link's target) kept exactly: obj[key] is the name
 * itself when it is valid UTF-8 (control bytes included: JSON escapes
 * them).  Else obj[key] is the name as escape.h prints it, for people to
 * read, and obj[key + "_bytes"] its bytes as esc_add_pct() writes them
 * ("bad%FFutf"), which jtext_get_name() reads back.
 */
void jtext_set_name(json_t *obj, const char *key, const char *name);
/* The name jtext_set_name() kept (a new string; caller frees), or NULL
 * when obj has none or its _bytes form is malformed. */
char *jtext_get_name(const json_t *obj, const char *key);

/* json_dumps() that says why it failed: NULL with e set (FX_FAIL, naming
 * what) when j is NULL or cannot be written. */
char *jtext_dumps(const json_t *j, size_t flags, const char *what,
		  struct err *e);

#endif

#include "util/jtext.h"

#include <stdlib.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/escape.h"

#define BYTES_SUFFIX "_bytes"

json_t *jtext_new(const char *s)
{
	struct buf b = BUF_INIT;
	json_t *j;

	if (!s)
		return NULL;
	if (esc_utf8(s))
		return json_string(s);
	esc_add_text(&b, s);
	j = json_string(buf_str(&b));
	buf_release(&b);
	return j;
}

void jtext_set_name(json_t *obj, const char *key, const char *name)
{
	char *bkey = xstrfmt("%s" BYTES_SUFFIX, key);
	struct buf b = BUF_INIT;

	if (esc_utf8(name)) {
		json_object_set_new(obj, key, json_string(name));
		json_object_del(obj, bkey);
	} else {
		esc_add(&b, name);
		json_object_set_new(obj, key, json_string(buf_str(&b)));
		buf_reset(&b);
		esc_add_pct(&b, name);
		json_object_set_new(obj, bkey, json_string(buf_str(&b)));
	}
	buf_release(&b);
	free(bkey);
}

char *jtext_get_name(const json_t *obj, const char *key)
{
	char *bkey = xstrfmt("%s" BYTES_SUFFIX, key);
	const char *pct = json_string_value(json_object_get(obj, bkey));
	const char *s = json_string_value(json_object_get(obj, key));
	struct buf b = BUF_INIT;
	char *name = NULL;

	free(bkey);
	if (!pct)
		return s ? xstrdup(s) : NULL;
	if (esc_unpct(pct, &b) == 0)
		name = buf_detach(&b, NULL);
	buf_release(&b);
	return name;
}

char *jtext_dumps(const json_t *j, size_t flags, const char *what,
		  struct err *e)
{
	char *text = j ? json_dumps(j, flags) : NULL;

	if (!text)
		err_set(e, FX_FAIL, "%s: cannot be written as JSON", what);
	return text;
}

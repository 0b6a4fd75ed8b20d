#include "backup/manifest.h"

#include <string.h>

#include "util/jtext.h"

void manifest_time(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *manifest_new(const char *name, const char *host, time_t started)
{
	char when[21];

	manifest_time(started, when);
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:{}}",
			 "format", MANIFEST_FORMAT, "ferry_version", FERRY_VERSION,
			 "name", name, "host", host, "started", when,
			 "components");
}

void manifest_component(json_t *m, const char *comp, const char *error,
			json_t *detail)
{
	json_t *c = detail ? detail : json_object();

	json_object_set_new(c, "status", json_string(error ? "failed" : "ok"));
	if (error)
		json_object_set_new(c, "error", jtext_new(error));
	json_object_set_new(json_object_get(m, "components"), comp, c);
}

void manifest_finish(json_t *m, time_t finished,
		     const struct arc_member *members, size_t n)
{
	json_t *arr = json_array(), *comps = json_object_get(m, "components");
	const char *status = "ok", *key;
	json_t *c;
	char when[21];

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I, s:s}",
			"name", members[i].name, "size",
			(json_int_t)members[i].size, "sha256", members[i].sha256));
	json_object_foreach(comps, key, c)
		if (strcmp(json_string_value(json_object_get(c, "status")), "ok"))
			status = "partial";
	manifest_time(finished, when);
	json_object_set_new(m, "finished", json_string(when));
	json_object_set_new(m, "status", json_string(status));
	json_object_set_new(m, "members", arr);
}

int manifest_check(json_t *m, const char *what, struct err *e)
{
	json_t *members = json_object_get(m, "members"), *it;
	size_t i;

	if (!json_is_object(m) ||
	    json_integer_value(json_object_get(m, "format")) != MANIFEST_FORMAT)
		return err_set(e, FX_VERIFY, "%s: manifest has no known format",
			       what);
	if (!json_is_array(members))
		return err_set(e, FX_VERIFY, "%s: manifest lists no members", what);
	json_array_foreach(members, i, it) {
		const char *sha = json_string_value(json_object_get(it, "sha256"));

		if (!json_is_string(json_object_get(it, "name")) ||
		    !json_is_integer(json_object_get(it, "size")) ||
		    !sha || strlen(sha) != 64)
			return err_set(e, FX_VERIFY, "%s: manifest member %zu is "
				       "malformed", what, i);
	}
	return 0;
}

/*
 * manifest: what an archive holds, as JSON (jansson).  manifest.json is the
 * archive's last member, and a copy sits beside the archive.
 *
 *   { "format": 1, "ferry_version": "0.1.0", "name": "...", "host": "...",
 *     "started": "2026-11-23T03:15:00Z", "finished": "...",
 *     "status": "ok" | "partial",
 *     "components": { "postgres": { "status": "ok" | "failed",
 *                                   "error": "..." (when failed), ... } },
 *     "members": [ { "name": "...", "size": 123, "sha256": "..." } ] }
 */
#ifndef FERRY_MANIFEST_H
#define FERRY_MANIFEST_H

#include <jansson.h>
#include <time.h>

#include "util/err.h"
#include "backup/archive.h"

#define MANIFEST_NAME "manifest.json"
#define MANIFEST_FORMAT 1

json_t *manifest_new(const char *name, const char *host, time_t started);
/* Records a component's outcome; takes ownership of detail (may be NULL). */
void manifest_component(json_t *m, const char *comp, const char *error,
			json_t *detail);
/* Adds the end time, the members and the overall status. */
void manifest_finish(json_t *m, time_t finished,
		     const struct arc_member *members, size_t n);
/* Checks the shape verify relies on; FX_VERIFY naming what is wrong. */
int manifest_check(json_t *m, const char *what, struct err *e)
	__attribute__((warn_unused_result));
/* "2026-11-23T03:15:00Z" */
void manifest_time(time_t t, char out[21]);

#endif

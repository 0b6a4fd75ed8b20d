/*
 * compose_scan: what a project's docker compose files say, for `ferry
 * init`: where they are, their services (image, environment, published
 * ports, command) and the dotenv files beside them.  Local files only,
 * parsed with libyaml; nothing is run and nothing is interpolated --
 * values are kept as written ("${POSTGRES_PASSWORD:-postgres}"), so a
 * config can name the same variables.
 */
#ifndef FERRY_CONF_COMPOSE_SCAN_H
#define FERRY_CONF_COMPOSE_SCAN_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

struct compose_service {
	char *name;
	char *image;		/* NULL when built from source */
	char *file;		/* its compose file, relative to the root */
	int line;		/* where it is defined there */
	struct strlist env;	/* "KEY=value" as written (map or list form) */
	struct strlist ports;	/* "[IP:]HOST:CONTAINER[/proto]" or "CONTAINER" */
	struct strlist env_files;	/* env_file entries, relative to the root */
	char *command;		/* command, its words joined by spaces */
};

struct compose_project {
	char *name;		/* the files' top-level name:, or NULL */
	char *dir;		/* folder of the compose files, relative: "." */
	struct strlist files;	/* their names in dir, the main one first */
	struct compose_service *svc;	/* in file order */
	size_t n;
	struct strlist env_files;	/* dotenv files found, relative */
};

#define COMPOSE_PROJECT_INIT { NULL, NULL, STRLIST_INIT, NULL, 0, STRLIST_INIT }

/*
 * Looks for compose files in root and its first-level folders (the one
 * with a docker-compose.yml / compose.yml, root first) and reads them.
 * 0 with out->files empty when there are none; -1 with e (FX_USAGE,
 * "FILE:LINE: ...") on a file that is not valid YAML.  Caller releases.
 */
int compose_scan(const char *root, struct compose_project *out,
		 struct err *e) __attribute__((warn_unused_result));
void compose_project_release(struct compose_project *p);

/* The environment value of key as written, or NULL. */
const char *compose_env(const struct compose_service *s, const char *key);
/* The host side of the port published for container port cport ("5432"),
 * as written ("${POSTGRES_PORT:-5432}"); NULL when it is not published.
 * Caller frees. */
char *compose_published(const struct compose_service *s, const char *cport);
/* The image's name without registry, owner or tag: "minio/minio:RELEASE.x"
 * -> "minio".  Caller frees; NULL without an image. */
char *compose_image_base(const struct compose_service *s);

#endif

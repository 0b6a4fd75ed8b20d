#include "restore/restorer.h"

#include <string.h>

#include "restore/pg_restore.h"
#include "restore/files_restore.h"
#include "restore/redis_restore.h"
#include "restore/neo4j_restore.h"

/* One entry per source that can be restored; a source's file defines it. */
const struct restorer *const restorers[] = {
	&pg_restorer,
	&redis_restorer,
	&files_restorer,
	&logs_restorer,
	&neo4j_restorer,
	NULL,
};

const struct restorer *restorer_find(const char *name)
{
	for (const struct restorer *const *r = restorers; *r; r++)
		if (!strcmp((*r)->name, name))
			return *r;
	return NULL;
}

/* The components whose restorer honours --to DIR. */
static const char *const to_dir[] = {
	"redis",
	"files",
	"logs",
	NULL,
};

int restorer_to_dir(const char *name)
{
	for (const char *const *n = to_dir; *n; n++)
		if (!strcmp(*n, name))
			return 1;
	return 0;
}

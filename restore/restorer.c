#include "restore/restorer.h"

#include <string.h>

#include "restore/pg_restore.h"
#include "restore/neo4j_restore.h"

/* One entry per source that can be restored; a source's file defines it. */
const struct restorer *const restorers[] = {
	&pg_restorer,
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

/*
 * neo4j_restore: the neo4j restorer's table entry (see restorer.h).  The
 * archive's manifest says how the graph was taken; the entry hands the
 * work to the matching way back:
 *
 *   mode = cypher   restore/neo4j_import.c: over the HTTP API, into an
 *                   empty database (or one --clean empties)
 *   mode = dump     restore/neo4j_load.c: neo4j-admin database load
 *                   --from-stdin --overwrite-destination (needs --clean)
 */
#ifndef FERRY_RESTORE_NEO4J_RESTORE_H
#define FERRY_RESTORE_NEO4J_RESTORE_H

#include "restore/restorer.h"

extern const struct restorer neo4j_restorer;
extern const struct restorer neo4j_import_restorer;
extern const struct restorer neo4j_load_restorer;

/* One database of the archive, and where it goes. */
struct nr_target {
	const char *src;	/* as the archive names it */
	char *dst;		/* --db SRC=DST, else src */
	json_t *info;		/* its manifest entry (borrowed) */
	int selected;
};

/* The archive's databases (detail's "databases") with --db applied:
 * without --db every database is selected; with it, only the mapped
 * ones.  A --db SRC that no component of the archive has is a usage
 * error.  Caller frees with nr_targets_free(). */
int nr_targets(struct rs_ctx *x, json_t *detail, struct nr_target **out,
	       size_t *n, struct err *e) __attribute__((warn_unused_result));
void nr_targets_free(struct nr_target *t, size_t n);
/* How many of them are selected. */
size_t nr_selected(const struct nr_target *t, size_t n);

#endif

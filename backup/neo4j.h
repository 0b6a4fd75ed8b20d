/*
 * neo4j: what the neo4j component's backup (backup/neo4j*.c) and its
 * restore (restore/neo4j_restore.c) share: how the server's Neo4j is
 * reached, which databases are meant, and the archive's layout.
 *
 * mode = cypher (online, not a point-in-time snapshot):
 *   neo4j/<db>/schema.json           constraints and indexes, each with the
 *                                    CREATE statement SHOW ... gave
 *   neo4j/<db>/nodes.jsonl           {"id", "labels", "props"} per line
 *   neo4j/<db>/relationships.jsonl   {"id", "type", "start", "end", "props"}
 * mode = dump (offline, exact):
 *   neo4j/system.dump, neo4j/<db>.dump   neo4j-admin database dump output
 *
 * In the JSON Lines, a property value is JSON where JSON is exact (string,
 * boolean, integer, finite float, a list of those) and otherwise a
 * one-key object naming its type: {"date": "2024-01-31"}, {"localtime": ..},
 * {"time": ..}, {"localdatetime": ..}, {"datetime": ..}, {"duration": ..},
 * {"point": {"srid", "x", "y"[, "z"]}}, {"float": "NaN"|"Infinity"|..},
 * {"bytes": BASE64}; a list holds such objects for its elements.
 */
#ifndef FERRY_BACKUP_NEO4J_H
#define FERRY_BACKUP_NEO4J_H

#include "util/buf.h"
#include "util/err.h"
#include "net/neo4j.h"

struct conf;
struct xport;

#define NEO4J_CONSISTENCY_CYPHER \
	"cypher mode reads the graph page by page in many transactions while " \
	"Neo4j stays online: it is not a point-in-time snapshot, and writes " \
	"during the backup can leave the copy inconsistent (mode = dump is)"
#define NEO4J_CONSISTENCY_DUMP \
	"dump mode stops Neo4j and runs neo4j-admin database dump: a " \
	"point-in-time copy of each database"

/* Opens a client of the server's Neo4j HTTP API ([neo4j] url tunnelled
 * through x, user, password, timeout). */
int neo4j_connect(const struct conf *c, struct xport *x, struct neo4j **out,
		  struct err *e) __attribute__((warn_unused_result));

/* [neo4j] databases, or [neo4j] database when that is not set. */
void neo4j_databases(const struct conf *c, struct strlist *out);

/* "neo4j/<db>/" with db made safe as one path part; caller frees. */
char *neo4j_member_dir(const char *db);

#endif

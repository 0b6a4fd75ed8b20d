/*
 * restorer: one source's way back from the archive, as one table entry per
 * component (backup/component.c is the other direction).  The driver
 * (restore.c) first runs every component's begin(), then every one's
 * act(), so that no component changes a target before all of them have
 * checked theirs: begin() connects, reads and refuses (a target not empty
 * without --clean, a directory it cannot write) but changes nothing that
 * abandon() cannot take back; act() does what begin() checked for (drop,
 * empty, create).  Then it reads the archive once, in order, and for each
 * member:
 *
 *   member()   the restorer reads what it wants of it (rs_read), staging
 *              it: nothing it feeds may become durable yet;
 *   checked()  the member matched the manifest (size and SHA-256): what it
 *              staged may now be committed;
 *
 * then end() once the archive is over.  A member that does not match ends
 * the run before checked(), so a damaged byte is never committed.
 * abandon() is called after any failure, before free(): it undoes what
 * this restore created where it can and appends to e what it did and what
 * it left incomplete, so the user knows the state of every target.
 */
#ifndef FERRY_RESTORE_RESTORER_H
#define FERRY_RESTORE_RESTORER_H

#include <jansson.h>

#include "restore/member.h"
#include "restore/restore.h"

/* What every restorer gets. */
struct rs_ctx {
	const struct conf *conf;
	const struct restore_opts *o;
	json_t *manifest;
};

struct restorer {
	const char *name;	/* the component, as the manifest names it */
	/* detail: the manifest's entry for the component.  Changes
	 * nothing (see above); *state is set even on failure. */
	int (*begin)(struct rs_ctx *x, json_t *detail, void **state,
		     struct err *e);
	/* NULL when begin() leaves nothing to do before the members. */
	int (*act)(void *state, struct err *e);
	/* 1: the member was this component's; 0: not; -1: failed. */
	int (*member)(void *state, struct rs_member *m, struct err *e);
	int (*checked)(void *state, struct err *e);
	int (*end)(void *state, struct err *e);
	void (*abandon)(void *state, struct err *e);
	void (*free)(void *state);
};

/* NULL-terminated. */
extern const struct restorer *const restorers[];
const struct restorer *restorer_find(const char *name);
/* 1 when the restorer of component name writes into --to DIR (instead of
 * the server) when asked. */
int restorer_to_dir(const char *name);

#endif

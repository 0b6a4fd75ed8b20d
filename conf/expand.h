/*
 * expand: ${VAR} interpolation with docker compose's syntax, so values can
 * share the server's .env files:  $$ is a literal $, ${VAR} and $VAR,
 * ${VAR:-default} / ${VAR-default}, ${VAR:?message} / ${VAR?message},
 * ${VAR:+alt} / ${VAR+alt}.  Defaults may nest further ${...}.
 */
#ifndef FERRY_EXPAND_H
#define FERRY_EXPAND_H

#include "util/buf.h"

/* Returns the variable's value, or NULL when it is not set. */
typedef const char *(*expand_lookup)(void *ctx, const char *name);

/*
 * Appends the expansion of in to out.  On error returns -1 with a reason
 * in why ("variable 'X' is not set").  *used counts the variables that were
 * substituted (to tell literal values from interpolated ones).
 */
int expand_vars(const char *in, struct buf *out, expand_lookup lookup,
		void *ctx, struct buf *why, int *used);

#endif

/*
 * ident: who and where this run is, for the records ferry leaves on a
 * server (the deploy lock, the deploy history).
 */
#ifndef FERRY_UTIL_IDENT_H
#define FERRY_UTIL_IDENT_H

#include <time.h>

#include "util/buf.h"

/* The local user name (passwd entry, else $USER, else the uid). */
void ident_user(struct buf *out);
/* The host name (gethostname). */
void ident_host(struct buf *out);
/* /etc/machine-id's content, or "" where there is none. */
void ident_machine(struct buf *out);
/* "2026-11-30T05:22:19Z" */
void ident_utc(time_t t, struct buf *out);
/* "3m12s", "2h5m", "4d1h": an age for messages. */
void ident_age(long long seconds, struct buf *out);
/* Parses ident_utc()'s form (and RFC 3339 with fractions and a Z);
 * -1 when s is not one. */
int ident_parse_utc(const char *s, time_t *out);

#endif

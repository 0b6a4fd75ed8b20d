/*
 * rdb_int: what rdb.c and rdb_check.c share.
 */
#ifndef FERRY_NET_RDB_INT_H
#define FERRY_NET_RDB_INT_H

#include <stdint.h>

#include "util/err.h"

/* "REDIS0011" -> 11, or -1. */
int rdb_magic_version(const unsigned char *head);
/* The last 9 bytes of an RDB of size bytes: the EOF opcode, then the
 * CRC64 of everything before it (0: none, *has_crc = 0).  FX_VERIFY. */
int rdb_check_tail(const unsigned char tail[9], uint64_t crc, uint64_t size,
		   int *has_crc, struct err *e);

#endif

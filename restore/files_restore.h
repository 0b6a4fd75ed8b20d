/*
 * files_restore: the files and logs restorers' table entries (see
 * restorer.h): both write under --to DIR only.
 */
#ifndef FERRY_RESTORE_FILES_RESTORE_H
#define FERRY_RESTORE_FILES_RESTORE_H

#include "restore/restorer.h"

extern const struct restorer files_restorer;
extern const struct restorer logs_restorer;

#endif

/*
 * laclose: the end of a libarchive write archive, whatever its state.
 * libarchive 3.6 frees its block buffer only in archive_write_close(),
 * which archive_write_free() skips once a write has failed (libarchive
 * #1568): so it is closed first.  Closing a failed or abandoned archive
 * would still write its padding and trailer; the owner's write callback
 * refuses to once *cut is set, so nothing more reaches the file or the
 * server.  Closing an archive already closed does nothing.
 */
#ifndef FERRY_UTIL_LACLOSE_H
#define FERRY_UTIL_LACLOSE_H

struct archive;

/* Sets *cut, closes and frees a (NULL: nothing). */
void la_close_free(struct archive *a, int *cut);

#endif

#include "util/laclose.h"

#include <archive.h>

void la_close_free(struct archive *a, int *cut)
{
	if (!a)
		return;
	*cut = 1;
	/* Its result says only what the owner already knows: abandoned. */
	archive_write_close(a);
	archive_write_free(a);
}

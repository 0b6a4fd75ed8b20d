#include <malloc.h>

#include "agent/cli.h"

int main(int argc, char **argv)
{
	/* Stream buffers are megabytes, allocated in one thread and freed in
	 * another: with glibc's sliding mmap threshold they would stay in the
	 * arenas after use.  A fixed threshold maps and unmaps them, so RSS
	 * is what is in use. */
	mallopt(M_MMAP_THRESHOLD, 512 * 1024);
	return cli_main(argc, argv);
}

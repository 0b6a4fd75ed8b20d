#include <malloc.h>

#include "agent/cli.h"

int main(int argc, char **argv)
{
	/* Stream buffers are megabytes, allocated in one thread and freed in
	 * another: with glibc's sliding mmap threshold they would stay in the
	 * arenas after use.  A fixed threshold maps and unmaps them, so RSS
	 * is what is in use. */
	mallopt(M_MMAP_THRESHOLD, 512 * 1024);
	/* Fixing it also fixes the trim threshold at 128 KiB, and libssh2
	 * mallocs and frees every packet on the SSH thread: its arena was
	 * given back and faulted in again, 20,000 page faults in a 150 MB
	 * backup through the tunnel, where that thread is the bottleneck
	 * (bench/pg_slow: 2.7 -> 1.7 s).  8 MiB of an arena's free top stays
	 * mapped; what is in use still decides RSS. */
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	return cli_main(argc, argv);
}

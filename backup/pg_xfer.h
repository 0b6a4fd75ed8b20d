/*
 * pg_xfer: how table data crosses the wire.  Either libpq through the SSH
 * tunnel (the "tunnel" path: COPY text as it is), or psql on the server
 * (the "server" path): psql on the host, or inside the container that
 * publishes PostgreSQL's port, its COPY output compressed there by zstd
 * (else gzip) on its way to ferry, which decodes it as it reads; restore
 * sends compressed COPY data to the same psql behind `zstd -d`.  The
 * password travels on the command's stdin, never in its command line.
 *
 * [postgres] transfer = auto | tunnel | server chooses.  A backup on auto
 * takes the server path whenever the server has psql and a zstd that
 * compresses in jobs (`-T0 -B PART --zstd=ovlog=1`, which the probe
 * tries): each job is one of the archive's parts, compressed on its own,
 * and the archive keeps it as the server compressed it (util/zcut.h), so
 * ferry neither decrypts the plain text (libssh2 1.10 does it 16 bytes a
 * call) nor compresses it again, whatever the link.  Otherwise, and for
 * restores, auto takes the server path when psql and a compressor are
 * there, the server is remote and the link is slow (measured: 1 MiB timed
 * at the end of the probe for those tools); on a fast link ferry's own
 * zstd keeps up with the COPY text, and compressing twice costs more than
 * the wire saves.  Either way small tables go through the tunnel, where
 * starting psql costs more than compression saves.
 */
#ifndef FERRY_PG_XFER_H
#define FERRY_PG_XFER_H

#include <pthread.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/zpipe.h"

struct conf;
struct xport;

/* Below this size (bytes of table or COPY text) auto keeps a table on
 * the tunnel; on a fast link, below what the link carries while a psql
 * starts on the server (PGX_START_S, up to PGX_SMALL_MAX). */
#define PGX_SMALL (4u << 20)
#define PGX_SMALL_MAX (64u << 20)
#define PGX_START_S 0.3
/* Up to this many workers, each keeps a psql ready for its next table. */
#define PGX_SPARE_JOBS 4
/* At most this many workers copy on the server, each on an SSH session
 * of its own (twice PGX_SPARE_JOBS with spares): sshd allows 10 a
 * connection by default (MaxSessions), and the next database's psql
 * started ahead needs one too.  The others take the tables that go
 * through the tunnel. */
#define PGX_EXEC_JOBS 8
/* zstd's smallest job. */
#define PGX_JOB_MIN (512u << 10)
/* Debian's versioned psqls: the probe names the last one, and the psql
 * started beside it (pg_path.c) takes the same. */
#define PSQL_BINS "/usr/lib/postgresql/*/bin/psql"

struct pgx {
	int server;		/* 1: the server path */
	int all;		/* transfer = server: every table on it */
	enum zpipe_codec codec;
	int cuts;		/* the server's zstd compresses in jobs */
	char *why;		/* why this path, for check and the manifest */
	struct xport *x;
	char *ctr;		/* psql's container, or NULL for the host */
	char *psql;		/* the host's psql binary, or NULL for "psql" */
	int guessed;		/* psql: the newest the server's shell finds */
	const char *host, *user, *password;
	int port;
	long long timeout_s;
	double link_bps;	/* measured for auto; 0: not */
	int cpus;		/* the server's cores; 0: not known */
	long long small;	/* auto: tables under it take the tunnel */
};

/* Chooses the path for conf's [postgres] on x (NULL: a URL target, so
 * the tunnel), for a backup or a restore.  FX_REMOTE when transfer =
 * server cannot be had. */
int pgx_choose(struct pgx *p, const struct conf *conf, struct xport *x,
	       int backup, struct err *e) __attribute__((warn_unused_result));

/* The cores one COPY on the server path keeps busy (the backend, psql,
 * zstd's jobs). */
#define PGX_CPUS_A_COPY 2
/* How many sessions a backup copies tables on: [postgres] jobs, or where
 * it is not set, 1 on the server path to a server of fewer than two
 * COPYs' cores. */
int pgx_backup_jobs(const struct pgx *p, const struct conf *conf);

struct pgx_out;

/* pgx_choose on a thread of its own, so that its exec on the server
 * runs while the caller's first sessions connect.  Once it has chosen,
 * the same thread calls then(p, guess, arg) (NULL: nothing), which may
 * start what the path needs (a psql on the server) before the caller
 * waits.  pgx_probe_wait joins it and returns what pgx_choose did (again
 * on later calls); then's work is the caller's after that.
 *
 * With guess_db, a backup's probe also starts, beside its own exec, the
 * psql a first COPY out of guess_db takes on the path a backup's probe
 * chooses wherever it can (the host's psql, zstd in jobs of guess_cut
 * bytes): it connects while the probe runs, instead of after.  then gets
 * it (as pgx_out_spawn's *out) when the probe chose that path, and
 * must see it ended; otherwise guess is NULL and the probe ends it. */
struct pgx_probe {
	pthread_t tid, gtid;
	int running, guessing, rc;
	struct pgx *p;
	const struct conf *conf;
	struct xport *x;
	int backup;
	const char *guess_db;
	size_t guess_cut;
	struct pgx_out *guess;
	void (*then)(struct pgx *p, struct pgx_out *guess, void *arg);
	void *arg;
	struct err e;
};

void pgx_probe_start(struct pgx_probe *q, struct pgx *p,
		     const struct conf *conf, struct xport *x, int backup,
		     const char *guess_db, size_t guess_cut,
		     void (*then)(struct pgx *p, struct pgx_out *guess,
				  void *arg), void *arg);
int pgx_probe_wait(struct pgx_probe *q, struct err *e)
	__attribute__((warn_unused_result));
/* Only waits (a started probe must be, on every path). */
void pgx_probe_join(struct pgx_probe *q);

/* "server (zstd)", "server (gzip)" or "tunnel", for the manifest. */
const char *pgx_name(const struct pgx *p);
/* Whether a table of this many bytes takes the server path. */
int pgx_wants(const struct pgx *p, long long bytes);
void pgx_release(struct pgx *p);

/* psql in db on the server for one COPY out, started ahead: it connects
 * while ferry reads the catalogs (about 0.1 s of channel, shell and
 * processes).  With cut (and such a zstd there) its output is
 * compressed in jobs of cut bytes.  *out is set either way:
 * for pgx_copy_out, or on failure (-1) for pgx_out_discard. */
int pgx_out_spawn(const struct pgx *p, const char *db, size_t cut,
		  struct pgx_out **out, struct err *e)
	__attribute__((warn_unused_result));
/* Ends one never used without a word; NULL is nothing. */
void pgx_out_discard(struct pgx_out *o);
/* Hands o its script (SQL ending in one COPY ... TO STDOUT), unless it
 * has one: the COPY starts on the server, and its output waits in the
 * channel (a few MiB, then the server waits) until pgx_copy_out reads
 * it.  what names it in errors; called again, it says again whether
 * psql took the script. */
int pgx_out_start(struct pgx_out *o, const char *db, const char *script,
		  const char *what, struct err *e)
	__attribute__((warn_unused_result));
/* pgx_copy_out calls fn(arg) once, from its own thread, when o's psql
 * has reported that it ended well, while the tail of its output (zstd's
 * last jobs, the channel's end) is still on its way: the next table's
 * COPY can start then instead of after. */
void pgx_out_on_end(struct pgx_out *o, void (*fn)(void *arg), void *arg);
/* Whether p copies a run of tables on one psql (pgx_out_chain): the
 * host's psql, with zstd there to pipe each COPY through. */
int pgx_chains(const struct pgx *p);
/* psql in db on the server for a run of tables in one session (one
 * channel, shell and connection instead of one each, 0.1-0.2 s a table
 * on a loaded server): its script arrives piece by piece (pgx_out_send)
 * while pgx_copy_out reads.  Each table's COPY goes through a zstd of
 * its own (`\o |zstd`), and its end is marked by an empty skippable
 * frame, which psql's ON_ERROR_STOP keeps from a COPY that failed. */
int pgx_out_chain(const struct pgx *p, const char *db, size_t cut,
		  struct pgx_out **out, struct err *e)
	__attribute__((warn_unused_result));
/* SQL for a chain's psql, as it is (a transaction's start or end). */
int pgx_out_send(struct pgx_out *o, const char *db, const char *sql,
		 struct err *e) __attribute__((warn_unused_result));
/* One table for a chain: pre (SQL ending in ";\n"), then copy (a COPY
 * ... TO STDOUT statement) through zstd, then the mark; what names it. */
int pgx_out_send_copy(struct pgx_out *o, const char *db, const char *pre,
		      const char *copy, const char *what, struct err *e)
	__attribute__((warn_unused_result));
/* pgx_copy_out calls mark(ctx, NULL, 0) at each of a chain's marks,
 * after the table's last plain bytes and frames: it may send more. */
void pgx_out_on_mark(struct pgx_out *o, zpipe_mark mark);
/* The chain's script has ended: psql ends once it has run it. */
void pgx_out_close(struct pgx_out *o);
/* Runs script on o (unless pgx_out_start gave it one; a chain's comes by
 * pgx_out_send), which it frees;
 * sink gets the decoded output as it arrives.  With frame, each of the
 * server's frames is also handed to it (with ctx) after its plain bytes:
 * the archive keeps such a frame as it is when it is one of its parts. */
int pgx_copy_out(const struct pgx *p, struct pgx_out *o, const char *db,
		 const char *script, const char *what, zpipe_sink sink,
		 zpipe_frame frame, void *ctx, struct err *e)
	__attribute__((warn_unused_result));

/* psql in db on the server reading compressed SQL from ferry. */
struct pgx_in;

int pgx_in_open(const struct pgx *p, const char *db, const char *what,
		struct pgx_in **out, struct err *e)
	__attribute__((warn_unused_result));
/* pgx_in_open in two steps, so that the first can run ahead: psql is
 * started on the server and waits for its password (about 0.2 s of
 * channel, shell and processes), then pgx_in_start hands it over.  Each
 * way *out is set and must go to pgx_in_close or pgx_in_discard. */
int pgx_in_spawn(const struct pgx *p, const char *db, struct pgx_in **out,
		 struct err *e) __attribute__((warn_unused_result));
int pgx_in_start(struct pgx_in *in, const char *what, struct err *e)
	__attribute__((warn_unused_result));
/* Ends one never started (or failed) without a word; NULL is nothing. */
void pgx_in_discard(struct pgx_in *in);
int pgx_in_write(struct pgx_in *in, const void *data, size_t len,
		 struct err *e) __attribute__((warn_unused_result));
/* tail (the COMMIT) is sent, the stream ended and psql's stdout (its
 * command tags) collected in out; psql must exit 0.  With tail NULL the
 * stream is cut off instead: psql sees EOF inside its transaction, which
 * the server rolls back.  Frees in either way. */
int pgx_in_close(struct pgx_in *in, const char *tail, struct buf *out,
		 struct err *e);

#endif

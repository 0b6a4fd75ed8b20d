/*
 * compose: docker compose on the server, the way the old scripts ran it,
 * for deploy (up, ps, logs, exec), backup (Redis, Neo4j, compose logs)
 * and restore alike.  It takes options, never the configuration
 * (agent/server.c fills them from [deploy]).
 *
 * The command prefix is "docker compose" (v2) or "docker-compose" (v1),
 * found once per session when prefix is "auto", or any prefix the user
 * gives ("env DOCKER_HOST=unix:///run/other.sock docker-compose").  The
 * prefix's leading "env VAR=..." assignments are applied to ferry's own
 * docker calls too (compose_docker()), so both reach the same engine.
 */
#ifndef FERRY_NET_COMPOSE_H
#define FERRY_NET_COMPOSE_H

#include "net/xport.h"
#include "util/buf.h"
#include "util/err.h"

struct compose_opts {
	const char *prefix;		/* "auto" or a command prefix */
	const char *dir;		/* where compose runs, on the server */
	const struct strlist *files;	/* -f, relative to dir; may be empty */
	const char *project;		/* -p, or NULL for compose's own */
};

struct compose;

/* Finds the prefix (one exec when auto); FX_REMOTE naming what is missing
 * when neither compose is there.  x must outlive the handle. */
int compose_open(struct compose **out, struct xport *x,
		 const struct compose_opts *o, struct err *e)
	__attribute__((warn_unused_result));
void compose_free(struct compose *c);

/* 2 for "docker compose", 1 for docker-compose (a custom prefix counts as
 * 1 when it names docker-compose, else 2). */
int compose_version(const struct compose *c);
/* The prefix in use, for messages ("docker-compose"). */
const char *compose_prefix(const struct compose *c);

/* The shell command line running compose with args (NULL-terminated, each
 * quoted) in dir with the files and project name: "cd DIR && PREFIX -f F
 * -p P ARGS".  Appended to out. */
void compose_cmdline(const struct compose *c, const char *const *args,
		     struct buf *out);
/*
 * For commands whose stderr goes straight to the user (ps, logs, up,
 * down, restart, exec): from now on a command line whose dir does not
 * exist fails (exit 1) without the shell's "can't cd" line, so that the
 * caller, asking compose_dir_missing() after a failure, says it once in
 * its own words.
 */
void compose_hush_missing_dir(struct compose *c);
/* 1 when dir does not exist on the server (a project not deployed yet),
 * 0 when it does, -1 with e set when the server cannot tell. */
int compose_dir_missing(struct compose *c, struct err *e)
	__attribute__((warn_unused_result));

/* The same for a plain docker command with the prefix's environment. */
void compose_docker_cmdline(const struct compose *c, const char *const *args,
			    struct buf *out);

/* Runs compose with args to its end (xport_run's streams); a non-zero
 * exit is not an error here: the caller reads st. */
int compose_run(struct compose *c, const char *const *args, struct xrun *io,
		struct proc_status *st, struct err *e)
	__attribute__((warn_unused_result));

/*
 * Starts a shell command line for streaming (xport_spawn's contract: the
 * caller owns *in, *out, *err and must xproc_wait()).  The command's own
 * stdin is /dev/null; the exec's stdin is watched instead, and closing
 * *in (EOF) ends the command and everything it started on the server
 * (kill of the session's process group), so an interrupted stream leaves
 * nothing behind there: no pty or signal request is needed.
 */
int compose_spawn_watched(struct compose *c, const char *cmdline,
			  struct xproc **p, int *in, int *out, int *err,
			  struct err *e) __attribute__((warn_unused_result));

/* compose config --services: the project's services, appended to out;
 * FX_REMOTE with compose's first line of complaint when it fails. */
int compose_services(struct compose *c, struct strlist *out, struct err *e)
	__attribute__((warn_unused_result));

/*
 * The services a plain `up` starts, in compose config's order, appended
 * to out: those without `profiles:`, and those with profiles that have a
 * container after up (an enabled profile, COMPOSE_PROFILES or --profile,
 * started them).  compose v1's config lists every service whatever the
 * profiles, so config alone cannot tell; call it after up.
 */
int compose_up_services(struct compose *c, struct strlist *out,
			struct err *e) __attribute__((warn_unused_result));

/* One container of the project, as `ps --format json` (v2) or `docker
 * inspect` (v1) describe it. */
struct compose_ctr {
	char *project;
	char *service;
	char *name;		/* as compose's logs prefix it: web_1, web-1 */
	char *container;	/* as compose ps names it: proj_web_1 */
	char *id;
	char *state;		/* running, exited, restarting, created, ... */
	char *health;		/* "" without a healthcheck, starting, ... */
	int exit_code;
};

struct compose_ctrs {
	struct compose_ctr *v;
	size_t n;
};

/* The project's containers, stopped ones included.  On v1, once the
 * project's name is known from a first answer, the engine is asked
 * directly by label: compose v1 takes seconds to start. */
int compose_containers(struct compose *c, struct compose_ctrs *out,
		       struct err *e) __attribute__((warn_unused_result));
void compose_ctrs_release(struct compose_ctrs *l);
/* The parsers behind it, for tests: v2's ps JSON (one array, or one
 * object a line) and v1's docker inspect array. */
int compose_parse_ps(const char *text,
		     struct compose_ctrs *out, struct err *e);
int compose_parse_inspect(const char *text, struct compose_ctrs *out,
			  struct err *e);

/* The message for a compose or docker command that failed: its last
 * non-empty stderr line, or the exit status; with a hint when the Docker
 * daemon does not answer. */
void compose_failure(const struct buf *errout, const struct proc_status *st,
		     struct buf *out);

#endif

/*
 * ssh_probe: drives the transport library directly for the integration
 * tests (tests/integration/transport.sh).  Not installed.
 *
 *   ssh_probe exec CONFIG CMD          stream CMD's output; last line on
 *                                      stdout: "== exit N" / "== signal S"
 *   ssh_probe put CONFIG LOCAL REMOTE  atomic upload
 *   ssh_probe get CONFIG REMOTE LOCAL  download
 *   ssh_probe stream CONFIG            output arrives while CMD still runs
 *   ssh_probe ahead CONFIG             what a command that does not read
 *                                      yet is sent ahead; then all arrives
 *   ssh_probe tunnel-pg CONFIG N       N concurrent libpq sessions, one tunnel
 *   ssh_probe mixed CONFIG             exec + SFTP + tunnel at once
 *   ssh_probe tree CONFIG DIR find|sftp   the server listing either way
 */
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/server.h"
#include "util/log.h"
#include "deploy/remote.h"
#include "net/xport.h"
#include "conf/conf.h"

static struct conf *conf;
static struct xport *xp;
static struct server server;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const struct err *e)
{
	fprintf(stderr, "ssh_probe: %s\n", e->msg);
	exit(err_exit(e));
}

static int do_exec(const char *cmd)
{
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	struct err e = ERR_INIT;
	char text[64];

	io.out_fd = 1;
	io.err_fd = 2;
	if (xport_run(xp, cmd, &io, &st, &e) < 0)
		die(&e);
	printf("== %s\n", st.exited ? (snprintf(text, sizeof(text), "exit %d",
		st.code), text) : (snprintf(text, sizeof(text), "signal %s",
		st.signal), text));
	return 0;
}

static int do_put(const char *local, const char *remote)
{
	struct err e = ERR_INIT;
	int fd = open(local, O_RDONLY);

	if (fd < 0 || xport_put(xp, fd, remote, 0640, &e) < 0)
		die(&e);
	close(fd);
	return 0;
}

static int do_get(const char *remote, const char *local)
{
	struct err e = ERR_INIT;
	int fd = open(local, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || xport_get(xp, remote, fd, &e) < 0)
		die(&e);
	close(fd);
	return 0;
}

/* The first line must arrive about 2 s before the command ends. */
static int do_stream(void)
{
	struct xproc *p;
	struct proc_status st;
	struct err e = ERR_INIT;
	char buf[256];
	int in, out, er;
	double t0 = now(), first = -1;
	ssize_t n;

	if (xport_spawn(xp, "echo first; sleep 2; echo second", &p, &in, &out,
			&er, &e) < 0)
		die(&e);
	close(in);
	while ((n = read(out, buf, sizeof(buf))) > 0)
		if (first < 0)
			first = now() - t0;
	close(out);
	close(er);
	if (xproc_wait(p, &st, &e) < 0)
		die(&e);
	printf("first=%.2f total=%.2f\n", first, now() - t0);
	return first >= 0 && now() - t0 - first > 1.5 ? 0 : 1;
}

/* Feeds 8 MiB to a command that sleeps 2 s before it reads: prints how
 * much ferry took while it slept (sshd holds what was sent, so this is
 * what sshd was given ahead, plus ferry's and the kernel's buffers), and
 * what the command counted in the end. */
static int do_ahead(void)
{
	static char chunk[64 * 1024];
	const size_t total = 8u << 20;
	struct xproc *p;
	struct proc_status st;
	struct err e = ERR_INIT;
	char out_text[64] = "";
	size_t sent = 0, ahead;
	int in, out, er;
	double t0 = now();
	ssize_t n;

	memset(chunk, 'x', sizeof(chunk));
	if (xport_spawn(xp, "sleep 2; wc -c", &p, &in, &out, &er, &e) < 0)
		die(&e);
	fcntl(in, F_SETFL, fcntl(in, F_GETFL) | O_NONBLOCK);
	while (now() - t0 < 1.5 && sent < total) {
		n = write(in, chunk, sizeof(chunk) < total - sent ?
			  sizeof(chunk) : total - sent);
		if (n > 0)
			sent += (size_t)n;
		else
			poll(NULL, 0, 20);
	}
	ahead = sent;
	fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
	while (sent < total && (n = write(in, chunk, sizeof(chunk) <
					  total - sent ? sizeof(chunk) :
					  total - sent)) > 0)
		sent += (size_t)n;
	close(in);
	n = read(out, out_text, sizeof(out_text) - 1);
	out_text[n > 0 ? n : 0] = 0;
	close(out);
	close(er);
	if (xproc_wait(p, &st, &e) < 0)
		die(&e);
	printf("ahead=%zu sent=%zu counted=%s", ahead, sent, out_text);
	return 0;
}

struct pgjob {
	const char *conninfo;
	int ok;
	int seen;
	char why[256];
};

static void *pg_thread(void *arg)
{
	struct pgjob *j = arg;
	PGconn *c = PQconnectdb(j->conninfo);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(j->why, sizeof(j->why), "%s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	/* Sleep, then count the sessions of this test alive at that moment. */
	r = PQexec(c, "SELECT pg_sleep(1), count(*) FROM pg_stat_activity "
		   "WHERE application_name = 'ferry-tunnel-test'");
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		j->ok = 1;
		j->seen = (int)strtol(PQgetvalue(r, 0, 1), NULL, 10);
	} else {
		snprintf(j->why, sizeof(j->why), "%s", PQerrorMessage(c));
	}
	PQclear(r);
	PQfinish(c);
	return NULL;
}

static int run_pg(int n)
{
	struct err e = ERR_INIT;
	struct pgjob *jobs = calloc((size_t)n, sizeof(*jobs));
	pthread_t *th = calloc((size_t)n, sizeof(*th));
	char *host = NULL, conninfo[512];
	int port, okc = 0, maxseen = 0;
	double t0;

	if (xport_forward(xp, "127.0.0.1", 5432, &host, &port, &e) < 0)
		die(&e);
	snprintf(conninfo, sizeof(conninfo), "host=%s port=%d user=postgres "
		 "password=%s dbname=postgres application_name=ferry-tunnel-test "
		 "connect_timeout=10", host, port,
		 conf_str(conf, "postgres", "password"));
	t0 = now();
	for (int i = 0; i < n; i++) {
		jobs[i].conninfo = conninfo;
		pthread_create(&th[i], NULL, pg_thread, &jobs[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		okc += jobs[i].ok;
		if (jobs[i].seen > maxseen)
			maxseen = jobs[i].seen;
		if (!jobs[i].ok)
			fprintf(stderr, "connection %d: %s\n", i, jobs[i].why);
	}
	printf("connections=%d ok=%d concurrent=%d seconds=%.2f\n", n, okc,
	       maxseen, now() - t0);
	free(host);
	free(jobs);
	free(th);
	return okc == n && maxseen == n ? 0 : 1;
}

static void *exec_thread(void *arg)
{
	struct xrun io = XRUN_INIT;
	struct proc_status st;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT;
	int *ok = arg;

	/* 32 MiB through a 1 MiB cap: the reader keeps draining. */
	io.out = &out;
	*ok = xport_run(xp, "head -c 33554432 /dev/zero; echo done >&2", &io,
			&st, &e) == 0 && st.exited && st.code == 0 &&
		out.len == (1u << 20);
	if (!*ok)
		fprintf(stderr, "exec: %s (len %zu)\n", e.msg, out.len);
	buf_release(&out);
	return NULL;
}

static int do_mixed(const char *scratch)
{
	pthread_t t;
	int exec_ok = 0, pg, put = 0;
	char local[512], remote[512];
	struct err e = ERR_INIT;
	FILE *f;

	pthread_create(&t, NULL, exec_thread, &exec_ok);
	snprintf(local, sizeof(local), "%s/mixed.bin", scratch);
	f = fopen(local, "w");
	for (int i = 0; i < 4 << 20; i++)
		fputc(i * 7, f);
	fclose(f);
	snprintf(remote, sizeof(remote), "%s/mixed.bin",
		 conf_str(conf, "project", "remote_dir"));
	int fd = open(local, O_RDONLY);
	put = xport_put(xp, fd, remote, 0600, &e) == 0;
	if (!put)
		fprintf(stderr, "put: %s\n", e.msg);
	close(fd);
	pg = run_pg(4);
	pthread_join(t, NULL);
	printf("exec=%d sftp=%d tunnel=%d\n", exec_ok, put, pg == 0);
	return exec_ok && put && pg == 0 ? 0 : 1;
}

/* Prints the server's listing of dir, by find -printf or by the SFTP walk
 * (the busybox fallback), so the two can be compared. */
static int do_tree(const char *dir, const char *how)
{
	struct ftree t = FTREE_INIT;
	struct remote_info ri;
	struct err e = ERR_INIT;
	int r;

	if (remote_scan(xp, dir, 0, 0, NULL, &t, &ri, &e) < 0)
		die(&e);
	if (!strcmp(how, "sftp")) {
		tree_release(&t);
		r = remote_walk(xp, ri.dir, &t, &e);
		if (r < 0)
			die(&e);
	}
	for (size_t i = 0; i < t.n; i++)
		printf("%c %llu %lld %o %s -> %s\n", t.v[i].type,
		       (unsigned long long)t.v[i].size, (long long)t.v[i].mtime,
		       t.v[i].mode, t.v[i].path, t.v[i].link ? t.v[i].link : "");
	tree_release(&t);
	remote_info_release(&ri);
	return 0;
}

int main(int argc, char **argv)
{
	struct err e = ERR_INIT;
	int r = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: ssh_probe CMD CONFIG ...\n");
		return 2;
	}
	if (getenv("SSH_PROBE_DEBUG"))
		log_set_level(LOG_DEBUG);
	if (conf_load(&conf, argv[2], &e) < 0)
		die(&e);
	server_init(&server, conf);
	if (xport_open(&xp, &server.xo, &e) < 0)
		die(&e);
	if (!strcmp(argv[1], "exec") && argc == 4)
		r = do_exec(argv[3]);
	else if (!strcmp(argv[1], "put") && argc == 5)
		r = do_put(argv[3], argv[4]);
	else if (!strcmp(argv[1], "get") && argc == 5)
		r = do_get(argv[3], argv[4]);
	else if (!strcmp(argv[1], "stream"))
		r = do_stream();
	else if (!strcmp(argv[1], "ahead"))
		r = do_ahead();
	else if (!strcmp(argv[1], "tunnel-pg") && argc == 4)
		r = run_pg((int)strtol(argv[3], NULL, 10));
	else if (!strcmp(argv[1], "mixed") && argc == 4)
		r = do_mixed(argv[3]);
	else if (!strcmp(argv[1], "tree") && argc == 5)
		r = do_tree(argv[3], argv[4]);
	fflush(stdout);
	xport_close(xp);
	server_release(&server);
	conf_free(conf);
	return r;
}

#include "restore/pg_copy.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define QUEUE_MAX (8u << 20)	/* bytes waiting per worker */
#define MAX_WORKERS 64

struct chunk {
	struct chunk *next;
	void *data;		/* NULL: the table's end */
	size_t n;
};

enum wstate { W_IDLE, W_FEEDING, W_FINISHING, W_QUIT };

struct worker {
	struct copy_pool *p;
	PGconn *c;
	pthread_t tid;
	enum wstate st;
	char *table, *cols;
	int remote;		/* this table by psql on the server */
	size_t tag;
	struct chunk *head, *tail;
	size_t queued;
};

struct copy_pool {
	const struct pg_target *t;
	const struct pgx *xf;
	struct pgx_in *spare;	/* psql started ahead, for the first table */
	char *db;
	copy_done_fn done;
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct worker *w[MAX_WORKERS];
	int n, jobs;
	int failed;
	struct err err;
};

static void fail(struct copy_pool *p, struct err *e)
{
	if (!p->failed)
		p->err = *e;
	p->failed = 1;
	pthread_cond_broadcast(&p->cv);
}

/* The next chunk of w's table, waiting for the reader; NULL at quit. */
static struct chunk *take(struct worker *w)
{
	struct copy_pool *p = w->p;
	struct chunk *ch;

	pthread_mutex_lock(&p->mu);
	while (!w->head && w->st != W_QUIT)
		pthread_cond_wait(&p->cv, &p->mu);
	ch = w->head;
	if (ch) {
		w->head = ch->next;
		if (!w->head)
			w->tail = NULL;
		w->queued -= ch->n;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return ch;
}

/* "COPY 12" in psql's tags, and its COMMIT after it: the rows, or -1. */
static long long tag_rows(const char *tags)
{
	const char *c = strstr(tags, "COPY ");
	char *num;
	long long n;

	if (!c || (c != tags && c[-1] != '\n') || !strstr(c, "\nCOMMIT\n"))
		return -1;
	num = xstrndup(c + 5, strcspn(c + 5, "\n"));
	n = pg_num(num, -1);
	free(num);
	return n;
}

/* The table by psql on the server: compressed COPY text in, and the
 * COMMIT only once the reader says the member was whole (the end marker
 * comes from checked()); cut off without it, the server rolls back. */
static long long copy_remote(struct worker *w, struct err *e)
{
	struct copy_pool *p = w->p;
	char *head = xstrfmt("BEGIN;\nTRUNCATE ONLY %s;\nCOPY %s%s FROM STDIN "
			     "WITH (FREEZE);\n", w->table, w->table, w->cols);
	char *what = xstrfmt("COPY %s", w->table);
	struct buf tags = BUF_LIMITED(64u * 1024);
	struct err ce = ERR_INIT;
	struct pgx_in *in;
	struct chunk *ch;
	long long rows = -1;
	int ok;

	pthread_mutex_lock(&p->mu);
	in = p->spare;
	p->spare = NULL;
	pthread_mutex_unlock(&p->mu);
	ok = (in ? pgx_in_start(in, what, e) :
	      pgx_in_open(p->xf, p->db, what, &in, e)) == 0 &&
	     pgx_in_write(in, head, strlen(head), e) == 0;

	while ((ch = take(w)) && ch->data) {
		if (ok && !p->failed && pgx_in_write(in, ch->data, ch->n, e) < 0)
			ok = 0;
		free(ch->data);
		free(ch);
	}
	free(ch);
	/* psql's own complaint says more than "stopped reading". */
	if (pgx_in_close(in, ok && !p->failed ? "\\.\nCOMMIT;\n" : NULL,
			 &tags, &ce) < 0 && !p->failed)
		*e = ce;
	else if (ok && !p->failed &&
		 (rows = tag_rows(buf_str(&tags))) < 0)
		err_set(e, FX_FAIL, "%s: psql on the server did not report "
			"the COPY and its COMMIT", what);
	buf_release(&tags);
	free(head);
	free(what);
	return rows;
}

static void copy_one(struct worker *w)
{
	struct copy_pool *p = w->p;
	struct err e = ERR_INIT;
	/* As pg_restore does, the table is emptied in the COPY's own
	 * transaction: then the rows can be written frozen (no second write
	 * to set hint bits) and, at wal_level = minimal, without WAL. */
	char *sql = xstrfmt("BEGIN; TRUNCATE ONLY %s; COPY %s%s FROM STDIN WITH "
			    "(FREEZE)", w->table, w->table, w->cols);
	PGresult *r;
	int ok;
	struct chunk *ch;
	long long rows = -1;

	if (w->remote) {
		free(sql);
		rows = copy_remote(w, &e);
		goto report;
	}
	/* Opened here, not by the reader: it goes on queueing meanwhile. */
	if (!w->c && !(w->c = pg_open(p->t, p->db, &e))) {
		ok = 0;
	} else {
		r = PQexec(w->c, sql);
		ok = PQresultStatus(r) == PGRES_COPY_IN;
		PQclear(r);
		if (!ok)
			err_set(&e, FX_FAIL, "COPY %s: %.*s", w->table,
				pg_errlen(PQerrorMessage(w->c)),
				PQerrorMessage(w->c));
	}
	/* Always drain the queue to the end marker so the reader goes on. */
	while ((ch = take(w)) && ch->data) {
		if (ok && !p->failed &&
		    PQputCopyData(w->c, ch->data, (int)ch->n) != 1) {
			err_set(&e, FX_FAIL, "COPY %s: %.*s", w->table,
				pg_errlen(PQerrorMessage(w->c)),
				PQerrorMessage(w->c));
			ok = 0;
		}
		free(ch->data);
		free(ch);
	}
	free(ch);
	if (ok) {
		PQputCopyEnd(w->c, p->failed ? "ferry: restore failed" : NULL);
		r = PQgetResult(w->c);
		if (PQresultStatus(r) == PGRES_COMMAND_OK)
			rows = pg_num(PQcmdTuples(r), -1);
		else if (!p->failed)
			err_set(&e, FX_FAIL, "COPY %s: %.*s", w->table,
				pg_errlen(PQerrorMessage(w->c)),
				PQerrorMessage(w->c));
		PQclear(r);
		while ((r = PQgetResult(w->c)))
			PQclear(r);
	}
	if (ok && rows >= 0 && pg_exec(w->c, "COMMIT", w->table, &e) < 0)
		rows = -1;
	else if (w->c && PQtransactionStatus(w->c) != PQTRANS_IDLE)
		PQclear(PQexec(w->c, "ROLLBACK"));
	free(sql);
report:
	pthread_mutex_lock(&p->mu);
	if (e.code)
		fail(p, &e);
	else if (rows >= 0)
		p->done(p->arg, w->tag, rows);
	free(w->table);
	free(w->cols);
	w->table = w->cols = NULL;
	if (w->st != W_QUIT)
		w->st = W_IDLE;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct copy_pool *p = w->p;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (w->st == W_IDLE)
			pthread_cond_wait(&p->cv, &p->mu);
		if (w->st == W_QUIT) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		pthread_mutex_unlock(&p->mu);
		copy_one(w);
	}
}

/* Called with the lock held.  Its session is opened by the worker, on
 * its first table not copied by psql on the server. */
static int add_worker(struct copy_pool *p, struct err *e)
{
	struct worker *w;

	if (p->n == MAX_WORKERS)
		return err_set(e, FX_FAIL, "postgres %s: more than %d tables "
			       "interleaved in the archive", p->db, MAX_WORKERS);
	w = xcalloc(1, sizeof(*w));
	w->p = p;
	if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
		free(w);
		return err_set(e, FX_FAIL, "cannot start a thread");
	}
	p->w[p->n++] = w;
	return 0;
}

int copy_pool_new(struct copy_pool **out, const struct pg_target *t,
		  const char *db, int jobs, copy_done_fn done, void *arg,
		  struct err *e)
{
	struct copy_pool *p = xcalloc(1, sizeof(*p));

	(void)e;
	p->t = t;
	p->db = xstrdup(db);
	p->done = done;
	p->arg = arg;
	p->jobs = jobs < 1 ? 1 : jobs;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	*out = p;
	return 0;
}

void copy_pool_server(struct copy_pool *p, const struct pgx *xf,
		      struct pgx_in *spare)
{
	p->xf = xf;
	p->spare = spare;
}

int copy_pool_begin(struct copy_pool *p, const char *table, const char *cols,
		    long long bytes, size_t tag, int *slot, struct err *e)
{
	int rc = -1;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		int idle = -1, feeding = 0;

		if (p->failed) {
			*e = p->err;
			break;
		}
		for (int i = 0; i < p->n; i++) {
			if (p->w[i]->st == W_IDLE && idle < 0)
				idle = i;
			feeding += p->w[i]->st == W_FEEDING;
		}
		if (idle >= 0) {
			p->w[idle]->st = W_FEEDING;
			p->w[idle]->table = xstrdup(table);
			p->w[idle]->cols = xstrdup(cols);
			p->w[idle]->tag = tag;
			p->w[idle]->remote = p->xf && pgx_wants(p->xf, bytes);
			*slot = idle;
			pthread_cond_broadcast(&p->cv);
			rc = 0;
			break;
		}
		if (p->n < p->jobs || feeding == p->n) {
			if (add_worker(p, e) < 0)
				break;
			continue;
		}
		pthread_cond_wait(&p->cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static int push(struct copy_pool *p, int slot, void *data, size_t n,
		struct err *e)
{
	struct worker *w = p->w[slot];
	struct chunk *ch = xcalloc(1, sizeof(*ch));
	int rc = 0;

	ch->data = data;
	ch->n = n;
	pthread_mutex_lock(&p->mu);
	while (w->queued > QUEUE_MAX && !p->failed)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->failed && data) {
		*e = p->err;
		free(data);
		free(ch);
		rc = -1;
	} else {
		if (w->tail)
			w->tail->next = ch;
		else
			w->head = ch;
		w->tail = ch;
		w->queued += n;
		if (!data)
			w->st = W_FINISHING;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int copy_pool_write(struct copy_pool *p, int slot, void *data, size_t n,
		    struct err *e)
{
	return push(p, slot, data, n, e);
}

int copy_pool_end(struct copy_pool *p, int slot, struct err *e)
{
	return push(p, slot, NULL, 0, e);
}

int copy_pool_wait(struct copy_pool *p, struct err *e)
{
	int busy, rc;

	pthread_mutex_lock(&p->mu);
	do {
		busy = 0;
		for (int i = 0; i < p->n; i++)
			busy |= p->w[i]->st != W_IDLE;
		if (busy)
			pthread_cond_wait(&p->cv, &p->mu);
	} while (busy);
	rc = p->failed ? -1 : 0;
	if (p->failed)
		*e = p->err;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void copy_pool_free(struct copy_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->n; i++) {
		struct worker *w = p->w[i];

		/* A table still being fed gets its end so the worker
		 * finishes (the failure flag makes it abort the COPY). */
		if (w->st == W_FEEDING) {
			struct chunk *ch = xcalloc(1, sizeof(*ch));

			if (w->tail)
				w->tail->next = ch;
			else
				w->head = ch;
			w->tail = ch;
			p->failed = 1;
		}
	}
	pthread_cond_broadcast(&p->cv);
	for (int i = 0; i < p->n; i++) {
		while (p->w[i]->st != W_IDLE)
			pthread_cond_wait(&p->cv, &p->mu);
		p->w[i]->st = W_QUIT;
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n; i++) {
		pthread_join(p->w[i]->tid, NULL);
		PQfinish(p->w[i]->c);
		free(p->w[i]);
	}
	pgx_in_discard(p->spare);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->db);
	free(p);
}

#include "restore/pg_items.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

int items_parse(const char *text, size_t len, const char *what,
		struct items *out, struct err *e)
{
	size_t pos = 0, cap = 0;
	struct pgs_item it;
	int r;

	memset(out, 0, sizeof(*out));
	while ((r = pgs_next(text, len, &pos, &it)) == 1) {
		if (it.n != out->n + 1)
			break;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 128;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		out->v[out->n++] = it;
	}
	if (r != 0) {
		items_free(out);
		return err_set(e, FX_VERIFY, "%s: not a ferry SQL script (item "
			       "%zu)", what, out->n + 1);
	}
	return 0;
}

void items_free(struct items *it)
{
	free(it->v);
	it->v = NULL;
	it->n = 0;
}

/* One item: its SQL as one simple-protocol batch. */
static int run_one(PGconn *c, const char *db, const struct pgs_item *it,
		   struct err *e)
{
	char *sql = xstrndup(it->sql, it->sql_len);
	int tries = 0, rc = -1;

	for (;;) {
		PGresult *r = PQexec(c, sql);
		int st = PQresultStatus(r);
		const char *state = pg_sqlstate(r), *m;

		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			PQclear(r);
			rc = 0;
			break;
		}
		m = PQerrorMessage(c);
		/* Two foreign keys may lock the same pair of tables in
		 * opposite orders: the loser tries again. */
		if (!strcmp(state, "40P01") && ++tries < 5) {
			PQclear(r);
			continue;
		}
		/* Ownership or a grant naming a role this server lacks:
		 * say so and go on (restore the globals to have it). */
		if (!strcmp(it->phase, "acl") && !strcmp(state, "42704")) {
			log_warn("%s: %.*s: %.*s", db, (int)it->label_len,
				 it->label, pg_errlen(m), m);
			PQclear(r);
			rc = 0;
			break;
		}
		err_set(e, FX_FAIL, "%s: %.*s: %.*s (SQL: %.*s)", db,
			(int)it->label_len, it->label, pg_errlen(m), m,
			(int)strcspn(sql, "\n") > 200 ? 200 :
			(int)strcspn(sql, "\n"), sql);
		PQclear(r);
		break;
	}
	free(sql);
	return rc;
}

/*
 * All of v in one transaction and one round trip: a schema of thousands of
 * small statements costs one latency instead of thousands.  On any error
 * the batch is rolled back and replayed item by item, which finds and
 * names the failing item (and leaves what came before it in place, for
 * inspection) or lets a tolerated failure through.
 */
static int run_batch(PGconn *c, const struct pgs_item *v, size_t n)
{
	struct buf sql = BUF_INIT;
	PGresult *r;
	int ok;

	buf_addstr(&sql, "BEGIN;\n");
	for (size_t i = 0; i < n; i++) {
		buf_add(&sql, v[i].sql, v[i].sql_len);
		buf_addstr(&sql, "\n;\n");
	}
	buf_addstr(&sql, "COMMIT;\n");
	r = PQexec(c, buf_str(&sql));
	ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	     PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	while (!ok && (r = PQgetResult(c)))
		PQclear(r);
	if (!ok)
		PQclear(PQexec(c, "ROLLBACK"));
	buf_release(&sql);
	return ok ? 0 : -1;
}

int items_run(PGconn *c, const char *db, const struct pgs_item *v, size_t n,
	      struct err *e)
{
	if (n > 1 && run_batch(c, v, n) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (run_one(c, db, &v[i], e) < 0)
			return -1;
	return 0;
}

struct par {
	const struct pg_target *t;
	const char *db;
	PGconn **ses;
	const struct pgs_item *v;
	size_t n, next;
	int next_ses;
	pthread_mutex_t mu;
	int failed;
	struct err err;
};

static void *par_main(void *arg)
{
	struct par *p = arg;
	struct err e = ERR_INIT;
	PGconn **slot, *c;

	pthread_mutex_lock(&p->mu);
	slot = &p->ses[p->next_ses++];
	pthread_mutex_unlock(&p->mu);
	c = *slot ? *slot : (*slot = pg_open(p->t, p->db, &e));
	for (;;) {
		const struct pgs_item *it = NULL;

		pthread_mutex_lock(&p->mu);
		if (c && !p->failed && p->next < p->n)
			it = &p->v[p->next++];
		if (!c && !p->failed) {
			p->failed = 1;
			p->err = e;
		}
		pthread_mutex_unlock(&p->mu);
		if (!it || run_one(c, p->db, it, &e) < 0)
			break;
	}
	pthread_mutex_lock(&p->mu);
	if (e.code && !p->failed) {
		p->failed = 1;
		p->err = e;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int items_run_parallel(const struct pg_target *t, const char *db, int jobs,
		       PGconn **ses, const struct pgs_item *v, size_t n,
		       struct err *e)
{
	struct par p = { t, db, ses, v, n, 0, 0, PTHREAD_MUTEX_INITIALIZER,
			 0, ERR_INIT };
	pthread_t tid[ITEMS_JOBS_MAX];
	int started = 0;

	if (jobs > ITEMS_JOBS_MAX)
		jobs = ITEMS_JOBS_MAX;
	if ((size_t)jobs > n)
		jobs = (int)n;
	for (; started < jobs; started++)
		if (pthread_create(&tid[started], NULL, par_main, &p) != 0)
			break;
	if (started == 0 && n > 0)
		return err_set(e, FX_FAIL, "cannot start a thread");
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&p.mu);
	if (p.failed) {
		*e = p.err;
		return -1;
	}
	return 0;
}

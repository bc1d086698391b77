/*
 * read-metrics.c -- the queries behind /metrics (read-metrics.h).  Each
 * per-scrape query seeks an index or the rowid; only the *_init ones
 * read the history, once per HTTP child.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "read-int.h"
#include "read-metrics.h"
#include "state.h"
#include "util.h"

/* An ended attempt's job, task, stage, state, duration and rows. */
#define ATTEMPT_COLS							\
	"a.id, j.name, ti.task_id, ti.stage, a.state, "			\
	"coalesce(a.ended_us, a.started_us) - a.started_us, "		\
	"CASE WHEN ti.stage = 'publish' AND a.state = 'success' THEN "	\
	"(SELECT m.value FROM metrics m WHERE m.attempt_id = a.id AND "	\
	"m.name = 'rows') END "
#define ATTEMPT_FROM							\
	"FROM attempts a JOIN task_instances ti ON ti.id = "		\
	"a.task_instance_id JOIN runs r ON r.id = ti.run_id JOIN jobs j " \
	"ON j.id = r.job_id "

static int
prepare(struct state *st, const char *sql, sqlite3_stmt **stmt,
    struct read_error *err)
{
	if (sqlite3_prepare_v2(state_sqlite(st), sql, -1, stmt, NULL) ==
	    SQLITE_OK)
		return 0;
	read_fail_state(err, st);
	return -1;
}

/* Step to the end; -1 with 503 if SQLite failed on the way. */
static int
finish(struct state *st, sqlite3_stmt *stmt, int rc, struct read_error *err)
{
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		read_fail_state(err, st);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

int
read_metrics_begin(struct state *st, struct read_error *err)
{
	if (sqlite3_exec(state_sqlite(st), "BEGIN", NULL, NULL, NULL) ==
	    SQLITE_OK)
		return 0;
	read_fail_state(err, st);
	return -1;
}

void
read_metrics_end(struct state *st)
{
	if (!sqlite3_get_autocommit(state_sqlite(st)))
		sqlite3_exec(state_sqlite(st), "COMMIT", NULL, NULL, NULL);
}

/* One row of ATTEMPT_COLS into a. */
static void
attempt_row(sqlite3_stmt *stmt, struct read_metrics_attempt *a)
{
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(stmt, 0);
	a->job = read_col(stmt, 1);
	a->task = read_col(stmt, 2);
	a->stage = read_col(stmt, 3);
	a->state = read_col(stmt, 4);
	a->duration_us = sqlite3_column_int64(stmt, 5);
	if (sqlite3_column_type(stmt, 6) != SQLITE_NULL) {
		a->has_rows = 1;
		a->rows = sqlite3_column_double(stmt, 6);
	}
}

int
read_metrics_attempts_init(struct state *st, int64_t *max_id,
    read_metrics_attempt_fn fn, void *arg, struct read_error *err)
{
	struct read_metrics_attempt a;
	sqlite3_stmt	*stmt;
	int		 rc;

	if (prepare(st, "SELECT coalesce(max(id), 0) FROM attempts", &stmt,
	    err) != 0)
		return -1;
	*max_id = 0;
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*max_id = sqlite3_column_int64(stmt, 0);
	if (finish(st, stmt, rc, err) != 0)
		return -1;
	/*
	 * Every attempt once, in rowid order, each joined to its task and
	 * run by primary key: a million take a fraction of a second, where
	 * a GROUP BY would sort them all first (seconds).  The caller sums
	 * them up.
	 */
	if (prepare(st, "SELECT " ATTEMPT_COLS ATTEMPT_FROM "WHERE a.id <= ?1 "
	    "ORDER BY a.id", &stmt, err) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, *max_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		attempt_row(stmt, &a);
		if (fn(arg, &a) != 0)
			break;
	}
	return finish(st, stmt, rc, err);
}

int
read_metrics_attempts_after(struct state *st, int64_t after, int64_t *max_id,
    read_metrics_attempt_fn fn, void *arg, struct read_error *err)
{
	struct read_metrics_attempt a;
	sqlite3_stmt	*stmt;
	int		 rc;

	/* A rowid range: O(new attempts). */
	if (prepare(st, "SELECT " ATTEMPT_COLS ATTEMPT_FROM "WHERE a.id > ?1 "
	    "ORDER BY a.id", &stmt, err) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, after);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		attempt_row(stmt, &a);
		if (a.id > *max_id)
			*max_id = a.id;
		if (fn(arg, &a) != 0)
			break;
	}
	return finish(st, stmt, rc, err);
}

int
read_metrics_attempts_by_id(struct state *st, const int64_t *ids, size_t n,
    read_metrics_attempt_fn fn, void *arg, struct read_error *err)
{
	struct read_metrics_attempt a;
	sqlite3_stmt	*stmt;
	size_t		 i;
	int		 rc = SQLITE_DONE;

	if (n == 0)
		return 0;
	if (prepare(st, "SELECT " ATTEMPT_COLS ATTEMPT_FROM "WHERE a.id = ?1",
	    &stmt, err) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, ids[i]);
		if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			attempt_row(stmt, &a);
			if (fn(arg, &a) != 0)
				break;
		} else if (rc != SQLITE_DONE)
			break;
	}
	return finish(st, stmt, rc, err);
}

int
read_metrics_runs_init(struct state *st, int64_t *max_ended,
    read_metrics_run_fn fn, void *arg, struct read_error *err)
{
	struct read_metrics_run r;
	sqlite3_stmt	*stmt;
	int		 rc;

	if (prepare(st, "SELECT coalesce(max(ended_us), 0) FROM runs", &stmt,
	    err) != 0)
		return -1;
	*max_ended = 0;
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*max_ended = sqlite3_column_int64(stmt, 0);
	if (finish(st, stmt, rc, err) != 0)
		return -1;
	/* runs_state: the final states' ranges of the index. */
	if (prepare(st, "SELECT j.name, x.state, x.n FROM (SELECT job_id, "
	    "state, count(*) AS n FROM runs WHERE state IN ('success', "
	    "'failed', 'cancelled') GROUP BY job_id, state) x JOIN jobs j ON "
	    "j.id = x.job_id ORDER BY j.name, x.state", &stmt, err) != 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		r.job = read_col(stmt, 0);
		r.state = read_col(stmt, 1);
		r.count = sqlite3_column_int64(stmt, 2);
		if (fn(arg, &r) != 0)
			break;
	}
	return finish(st, stmt, rc, err);
}

int
read_metrics_runs_ended(struct state *st, int64_t since,
    read_metrics_run_fn fn, void *arg, struct read_error *err)
{
	struct read_metrics_run r;
	sqlite3_stmt	*stmt;
	int		 rc;

	/* runs_ended (schema version 9): a range of the newest. */
	if (prepare(st, "SELECT r.id, j.name, r.state, r.ended_us FROM runs r "
	    "JOIN jobs j ON j.id = r.job_id WHERE r.ended_us >= ?1 AND "
	    "+r.state IN ('success', 'failed', 'cancelled') ORDER BY "
	    "r.ended_us, r.id", &stmt, err) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, since);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		r.id = sqlite3_column_int64(stmt, 0);
		r.job = read_col(stmt, 1);
		r.state = read_col(stmt, 2);
		r.ended_us = sqlite3_column_int64(stmt, 3);
		r.count = 1;
		if (fn(arg, &r) != 0)
			break;
	}
	return finish(st, stmt, rc, err);
}

/* Two integers from one row of sql; -1 with err. */
static int
two(struct state *st, const char *sql, int64_t *a, int64_t *b,
    struct read_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (prepare(st, sql, &stmt, err) != 0)
		return -1;
	*a = *b = 0;
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*a = sqlite3_column_int64(stmt, 0);
		if (b != NULL)
			*b = sqlite3_column_int64(stmt, 1);
	}
	return finish(st, stmt, rc, err);
}

int
read_metrics_gauges(struct state *st, struct read_metrics_gauges *g,
    struct read_error *err)
{
	int64_t	unused;

	memset(g, 0, sizeof *g);
	/*
	 * Each from an index range of what is pending, never a scan of the
	 * history.  The lineage backlog is the events past the slowest
	 * sink's acknowledgement: seq only grows and only acknowledged
	 * events are pruned, so it is max(seq) - acked, and the oldest is a
	 * seek to the first unacknowledged seq.
	 */
	if (two(st, "SELECT (SELECT count(*) FROM runs WHERE state = "
	    "'queued'), (SELECT count(*) FROM runs WHERE state = 'running')",
	    &g->runs_queued, &g->runs_running, err) != 0 ||
	    two(st, "SELECT count(*), coalesce(min(created_us), 0) FROM "
	    "requests WHERE state = 'pending'", &g->requests_pending,
	    &g->requests_oldest_us, err) != 0 ||
	    two(st, "SELECT coalesce((SELECT max(seq) FROM lineage_outbox), 0) "
	    "- coalesce((SELECT min(acked_seq) FROM lineage_sinks), 0), "
	    "coalesce((SELECT created_us FROM lineage_outbox WHERE seq > "
	    "coalesce((SELECT min(acked_seq) FROM lineage_sinks), 0) ORDER BY "
	    "seq LIMIT 1), 0)", &g->lineage_backlog, &g->lineage_oldest_us,
	    err) != 0 ||
	    two(st, "SELECT count(*), coalesce(min(created_us), 0) FROM "
	    "alert_outbox WHERE state = 'pending'", &g->alerts_pending,
	    &g->alerts_oldest_us, err) != 0 ||
	    two(st, "SELECT count(*), 0 FROM backfills WHERE state IN "
	    "('pending', 'running', 'cancelling')", &g->backfills_active,
	    &unused, err) != 0)
		return -1;
	if (g->lineage_backlog < 0)
		g->lineage_backlog = 0;
	return 0;
}

int
read_metrics_products(struct state *st, read_metrics_product_fn fn,
    void *arg, struct read_error *err)
{
	struct read_metrics_product p;
	sqlite3_stmt	*stmt;
	int		 rc;

	/* product_partitions_product_state ranges of the states that are
	 * not published: few rows, however long the history. */
	if (prepare(st, "SELECT p.name, j.name, p.freshness_s, p.late_count, "
	    "(SELECT count(*) FROM product_partitions pp WHERE pp.product_id "
	    "= p.id AND pp.state IN ('missing', 'building', 'quarantined') "
	    "AND pp.late_us IS NOT NULL), "
	    "(SELECT count(*) FROM product_partitions pp WHERE pp.product_id "
	    "= p.id AND pp.state = 'quarantined') "
	    "FROM products p LEFT JOIN jobs j ON j.id = p.job_id "
	    "ORDER BY p.name", &stmt, err) != 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&p, 0, sizeof p);
		p.product = read_col(stmt, 0);
		p.job = sqlite3_column_type(stmt, 1) == SQLITE_NULL ? NULL :
		    read_col(stmt, 1);
		p.freshness_s = sqlite3_column_int64(stmt, 2);
		p.late_count = sqlite3_column_int64(stmt, 3);
		p.late_unpublished = sqlite3_column_int64(stmt, 4);
		p.quarantined = sqlite3_column_int64(stmt, 5);
		if (fn(arg, &p) != 0)
			break;
	}
	return finish(st, stmt, rc, err);
}

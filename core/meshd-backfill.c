/*
 * meshd-backfill.c -- the daemon's side of backfills.
 *
 * A backfill keeps up to max_active_runs of its partitions running and
 * starts the next ones as places free up: at once when a worker would
 * otherwise idle, else once half of its places are free or 50 ms have
 * passed (bf_pass_worth()), so that a pass -- one commit -- refills many
 * places rather than one per ended run.  Its
 * partition rows say what became of each (running with the run's id,
 * success, failed, skipped, cancelled), and the counters in its backfills
 * row are written in the same transaction, so `meshctl backfills` reads
 * progress from one row.
 *
 * A pass runs when a run has ended or a request came: it first accounts
 * for partitions whose run has ended (the runs table says; it is the
 * truth, also after a crash), then launches pending partitions into free
 * places, then ends backfills with nothing left.
 *
 * Queries on backfill_partitions name their index (INDEXED BY): without
 * statistics SQLite prefers the primary key for "backfill_id = ? AND
 * state = ? ORDER BY seq" and would walk all 100,000 rows of a backfill
 * on every pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "log.h"
#include "meshd.h"
#include "schedule.h"
#include "util.h"

/* Partitions looked at per backfill per pass: skipping a long run of
 * partitions that already succeeded goes on at the next pass, so that
 * one pass never holds the loop for long. */
#define BF_SCAN_MAX	5000
#define BF_BATCH	256
/* The longest a pass waits for a batch of places to refill. */
#define BF_LAG_US	50000

#define WAIT_REASON	"already queued or running: the backfill waits for it"

static int
sql_fail(struct daemon *d, sqlite3_stmt *stmt, const char *what,
    char **cause)
{
	set_cause(cause, "%s: %s", what, sqlite3_errmsg(state_sqlite(d->st)));
	state_stmt_done(stmt);
	return -1;
}

static struct dbf *
bf_find(struct daemon *d, int64_t id)
{
	size_t	i;

	for (i = 0; i < d->nbf; i++)
		if (d->bf[i].id == id)
			return &d->bf[i];
	return NULL;
}

/* Add the backfill whose row the statement is on (BF_COLUMNS). */
static void
bf_add(struct daemon *d, sqlite3_stmt *stmt)
{
	struct bf_info	 b;
	struct dbf	*x;

	bf_row(stmt, &b);
	d->bf = xreallocarray(d->bf, d->nbf + 1, sizeof *d->bf);
	x = &d->bf[d->nbf++];
	memset(x, 0, sizeof *x);
	x->id = b.id;
	x->job = b.job;
	b.job = NULL;
	if (bf_reprocess_parse(b.reprocess, &x->reprocess) != 0)
		x->reprocess = BF_MISSING;
	x->max_active = b.max_active_runs;
	x->cancelling = strcmp(b.state, "cancelling") == 0;
	x->total = b.total;
	x->running = b.running;
	x->success = b.success;
	x->failed = b.failed;
	x->skipped = b.skipped;
	x->cancelled = b.cancelled;
	bf_info_free(&b);
	d->bf_due = d->bf_force = 1;
}

int
daemon_bf_load(struct daemon *d, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if ((stmt = state_prepare(d->st, "SELECT " BF_COLUMNS
	    " FROM backfills WHERE state IN ('running', 'cancelling') ORDER BY "
	    "id")) == NULL)
		return sql_fail(d, NULL, "backfills", cause);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		bf_add(d, stmt);
		log_info("backfill %lld of %s: resuming",
		    (long long)d->bf[d->nbf - 1].id, d->bf[d->nbf - 1].job);
	}
	if (rc != SQLITE_DONE)
		return sql_fail(d, stmt, "backfills", cause);
	state_stmt_done(stmt);
	return 0;
}

void
daemon_bf_free(struct daemon *d)
{
	size_t	i;

	for (i = 0; i < d->nbf; i++)
		free(d->bf[i].job);
	free(d->bf);
	d->bf = NULL;
	d->nbf = 0;
}

/* The backfill id (and "now") in a request's args. */
static int64_t
args_backfill(const char *args, int *now)
{
	json_t	*root;
	int64_t	 id = 0;

	*now = 0;
	if (args == NULL || (root = json_loads(args, 0, NULL)) == NULL)
		return 0;
	if (json_is_integer(json_object_get(root, "backfill")))
		id = json_integer_value(json_object_get(root, "backfill"));
	*now = json_is_true(json_object_get(root, "now"));
	json_decref(root);
	return id;
}

/* Run one statement with up to three integer parameters and a text. */
static int
exec_ii(struct daemon *d, const char *sql, int64_t a, int64_t b,
    const char *text, int *changes, char **cause)
{
	sqlite3_stmt	*stmt;

	if ((stmt = state_prepare(d->st, sql)) == NULL)
		return sql_fail(d, NULL, "backfill", cause);
	sqlite3_bind_int64(stmt, 1, a);
	sqlite3_bind_int64(stmt, 2, b);
	if (text != NULL)
		sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		return sql_fail(d, stmt, "backfill", cause);
	state_stmt_done(stmt);
	if (changes != NULL)
		*changes = sqlite3_changes(state_sqlite(d->st));
	return 0;
}

/*
 * A pending backfill whose range is off the job's schedule or outside its
 * start and end -- recorded by a meshctl that did not check, or before
 * the job file changed -- fails whole, with the reason, before any of its
 * partitions runs.  0 to go on, 1 refused (*result set), -1 with cause.
 */
static int
bf_refuse_out_of_bounds(struct daemon *d, int64_t id, char **result,
    char **cause)
{
	struct bf_info		 b;
	const struct job_def	*job;
	char			*why = NULL;
	int			 rc;

	if ((rc = bf_get(d->st, id, &b, cause)) != 0)
		return rc < 0 ? -1 : 0;	/* none: "not pending" below */
	if (strcmp(b.state, "pending") != 0 ||
	    (job = jobset_find(&d->jobs, b.job)) == NULL ||
	    job_check_range(job, b.from_key, b.to_key, &why) == 0) {
		bf_info_free(&b);
		return 0;
	}
	*result = xasprintf("backfill %lld refused: %s", (long long)id, why);
	free(why);
	bf_info_free(&b);
	if (exec_ii(d, "UPDATE backfills SET state = 'failed', ended_us = ?1, "
	    "result = ?3 WHERE id = ?2 AND state = 'pending'", now_us(), id,
	    *result, NULL, cause) != 0) {
		free(*result);
		*result = NULL;
		return -1;
	}
	log_warn("%s", *result);
	return 1;
}

int
daemon_bf_request(struct daemon *d, const struct request *rq, int *ok,
    char **result, char **cause)
{
	sqlite3_stmt	*stmt;
	int64_t		 id;
	int		 now, rc;

	*ok = 0;
	if ((id = args_backfill(rq->args, &now)) <= 0) {
		*result = xstrdup("the request names no backfill");
		return 0;
	}
	if ((rc = bf_refuse_out_of_bounds(d, id, result, cause)) != 0)
		return rc < 0 ? -1 : 0;
	if ((stmt = state_prepare(d->st, "UPDATE backfills SET "
	    "state = 'running', started_us = ? WHERE id = ? AND state = "
	    "'pending' RETURNING " BF_COLUMNS)) == NULL)
		return sql_fail(d, NULL, "backfill", cause);
	sqlite3_bind_int64(stmt, 1, now_us());
	sqlite3_bind_int64(stmt, 2, id);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		bf_add(d, stmt);
	else if (rc != SQLITE_DONE)
		return sql_fail(d, stmt, "backfill", cause);
	state_stmt_done(stmt);
	if (rc == SQLITE_DONE) {
		*result = xasprintf("backfill %lld is not pending",
		    (long long)id);
		return 0;
	}
	*ok = 1;
	*result = xasprintf("backfill %lld started: %lld partitions",
	    (long long)id, (long long)d->bf[d->nbf - 1].total);
	log_info("backfill %lld of %s: started, %lld partitions, up to %d "
	    "at a time (request %lld)", (long long)id, rq->job,
	    (long long)d->bf[d->nbf - 1].total, d->bf[d->nbf - 1].max_active,
	    (long long)rq->id);
	return 0;
}

int
daemon_bf_cancel(struct daemon *d, const struct request *rq, int *ok,
    char **result, char **cause)
{
	sqlite3_stmt	*stmt;
	struct dbf	*b;
	struct bf_info	 info;
	char		*why, **keys = NULL;
	size_t		 nkeys = 0, i;
	int64_t		 id;
	int		 now, changes, waited, rc = 0, stopped = 0;

	*ok = 0;
	if ((id = args_backfill(rq->args, &now)) <= 0) {
		*result = xstrdup("the request names no backfill");
		return 0;
	}
	if ((b = bf_find(d, id)) == NULL) {
		if ((rc = bf_get(d->st, id, &info, cause)) < 0)
			return -1;
		*result = rc == 1 ? xasprintf("no backfill %lld",
		    (long long)id) : xasprintf("backfill %lld has already "
		    "ended (%s)", (long long)id, info.state);
		bf_info_free(&info);
		return 0;
	}
	*ok = 1;
	why = xasprintf("backfill %lld cancelled (request %lld)",
	    (long long)id, (long long)rq->id);
	if (exec_ii(d, "UPDATE backfill_partitions INDEXED BY "
	    "backfill_partitions_state SET state = 'cancelled', reason = ?3 "
	    "WHERE backfill_id = ?1 AND state = 'pending' AND "
	    "?2 = ?2", id, 0, why, &changes, cause) != 0) {
		free(why);
		return -1;
	}
	b->cancelled += changes;
	b->cancelling = 1;
	b->dirty = 1;
	/* Runs it was only waiting for are not its own: let go of them. */
	if (exec_ii(d, "UPDATE backfill_partitions INDEXED BY "
	    "backfill_partitions_state SET state = 'cancelled', reason = ?3 "
	    "WHERE backfill_id = ?1 AND state = 'running' AND reason = '"
	    WAIT_REASON "' AND ?2 = ?2", id, 0, why, &waited, cause) != 0) {
		free(why);
		return -1;
	}
	b->running -= waited;
	b->cancelled += waited;
	changes += waited;
	if (now) {
		/* Stop what it started; runs it only waits for are not its
		 * own to stop. */
		if ((stmt = state_prepare(d->st, "SELECT "
		    "partition_key FROM backfill_partitions INDEXED BY "
		    "backfill_partitions_state WHERE backfill_id "
		    "= ? AND state = 'running'")) == NULL) {
			free(why);
			return sql_fail(d, NULL, "backfill", cause);
		}
		sqlite3_bind_int64(stmt, 1, id);
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			keys = xreallocarray(keys, nkeys + 1, sizeof *keys);
			keys[nkeys++] = xstrdup((const char *)
			    sqlite3_column_text(stmt, 0));
		}
		state_stmt_done(stmt);
		for (i = 0; i < nkeys; i++) {
			if ((rc = daemon_cancel_run(d, b->job, keys[i], why,
			    cause)) < 0)
				break;
			stopped += rc;
		}
		for (i = 0; i < nkeys; i++)
			free(keys[i]);
		free(keys);
		if (rc < 0) {
			free(why);
			return -1;
		}
	}
	if (exec_ii(d, "UPDATE backfills SET state = 'cancelling', "
	    "n_cancelled = ?2 WHERE id = ?1", id, b->cancelled, NULL, NULL,
	    cause) != 0) {
		free(why);
		return -1;
	}
	log_info("%s: %d partitions will not start%s", why, changes,
	    now ? ", running ones are stopped" : "");
	*result = xasprintf("backfill %lld cancelling: %d partitions will not "
	    "start; %lld running %s", (long long)id, changes,
	    (long long)b->running, now ? (stopped > 0 ? "are being stopped" :
	    "(none of its own)") : "may finish");
	free(why);
	d->bf_due = d->bf_force = 1;
	return 0;
}

/* Partitions whose run has ended: record how. */
static int
bf_account(struct daemon *d, struct dbf *b, char **cause)
{
	sqlite3_stmt	*stmt;
	int64_t		*seq = NULL;
	char		**st = NULL;
	size_t		 n = 0, i;
	int		 rc;

	if (b->running == 0)
		return 0;
	if ((stmt = state_prepare(d->st, "SELECT bp.seq, r.state "
	    "FROM backfill_partitions bp INDEXED BY backfill_partitions_state "
	    "LEFT JOIN runs r ON r.id = bp.run_id "
	    "WHERE bp.backfill_id = ? AND bp.state = 'running' AND (r.state IS "
	    "NULL OR r.state NOT IN ('queued', 'running'))")) == NULL)
		return sql_fail(d, NULL, "backfill", cause);
	sqlite3_bind_int64(stmt, 1, b->id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(stmt, 1);

		seq = xreallocarray(seq, n + 1, sizeof *seq);
		st = xreallocarray(st, n + 1, sizeof *st);
		seq[n] = sqlite3_column_int64(stmt, 0);
		st[n++] = xstrdup(s != NULL ? s : "failed");
	}
	state_stmt_done(stmt);
	for (i = 0; i < n && rc == SQLITE_DONE; i++) {
		if (exec_ii(d, "UPDATE backfill_partitions SET state = ?3 "
		    "WHERE backfill_id = ?1 AND seq = ?2", b->id, seq[i],
		    st[i], NULL, cause) != 0) {
			rc = -1;
			break;
		}
		b->running--;
		if (strcmp(st[i], "success") == 0)
			b->success++;
		else if (strcmp(st[i], "cancelled") == 0)
			b->cancelled++;
		else
			b->failed++;
		b->dirty = 1;
	}
	for (i = 0; i < n; i++)
		free(st[i]);
	free(st);
	free(seq);
	if (rc != SQLITE_DONE) {
		if (rc != -1)
			set_cause(cause, "backfill: %s", sqlite3_errmsg(
			    state_sqlite(d->st)));
		return -1;
	}
	return 0;
}

struct bf_part {
	int64_t	 seq, start, end;
	char	*key;
};

/* Run (job, key): its id and state, or *state NULL if it has none. */
static int
run_lookup(struct daemon *d, int64_t job_id, const char *key, int64_t *id,
    char **state, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*state = NULL;
	*id = 0;
	if ((stmt = state_prepare(d->st, "SELECT id, state FROM "
	    "runs WHERE job_id = ? AND partition_key = ?")) == NULL)
		return sql_fail(d, NULL, "backfill", cause);
	sqlite3_bind_int64(stmt, 1, job_id);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(stmt, 0);
		*state = xstrdup((const char *)sqlite3_column_text(stmt, 1));
	} else if (rc != SQLITE_DONE)
		return sql_fail(d, stmt, "backfill", cause);
	state_stmt_done(stmt);
	return 0;
}

/* Set a partition's state, run (0: none) and reason. */
static int
bp_set(struct daemon *d, int64_t bf_id, int64_t seq, const char *state,
    int64_t run_id, const char *reason, char **cause)
{
	sqlite3_stmt	*stmt;

	if ((stmt = state_prepare(d->st, "UPDATE backfill_partitions "
	    "SET state = ?, run_id = ?, reason = ? WHERE backfill_id = ? AND "
	    "seq = ?")) == NULL)
		return sql_fail(d, NULL, "backfill", cause);
	sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
	if (run_id != 0)
		sqlite3_bind_int64(stmt, 2, run_id);
	sqlite3_bind_text(stmt, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, bf_id);
	sqlite3_bind_int64(stmt, 5, seq);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		return sql_fail(d, stmt, "backfill", cause);
	state_stmt_done(stmt);
	return 0;
}

/* Decide and act for one partition. */
static int
bf_launch_one(struct daemon *d, struct dbf *b, const struct job_def *job,
    int64_t job_id, const struct bf_part *p, char **cause)
{
	enum bf_action	 a;
	const char	*why, *state;
	char		*rstate = NULL;
	int64_t		 run_id = 0;
	int		 created;

	if (run_lookup(d, job_id, p->key, &run_id, &rstate, cause) != 0)
		return -1;
	state = rstate;
	if (engine_is_active(d->engine, job->name, p->key) ||
	    daemon_queued(d, job->name, p->key))
		state = "running";
	a = bf_decide(state, b->reprocess, &why);
	free(rstate);
	switch (a) {
	case BF_SKIP:
		b->skipped++;
		b->dirty = 1;
		return bp_set(d, b->id, p->seq, "skipped", run_id, why, cause);
	case BF_WAIT:
		break;
	case BF_RUN:
		if (state_run_open(d->st, job_id, p->key, p->start, p->end,
		    "backfill", &run_id, &created, cause) != 0)
			return -1;
		break;
	case BF_RESUME:
	case BF_RERUN:
		/* A resumed run keeps the parameters its finished tasks ran
		 * with; one run again from the start gets the job's. */
		if (exec_ii(d, "UPDATE runs SET state = 'queued', ended_us = "
		    "NULL, params = CASE WHEN ?2 THEN NULL ELSE params END "
		    "WHERE id = ?1", run_id, a == BF_RERUN, NULL, NULL,
		    cause) != 0)
			return -1;
		break;
	}
	if (a != BF_WAIT)
		daemon_queue_add(d, job->name, p->key, p->start, p->end,
		    "backfill", 0, 1)->rerun = a == BF_RERUN;
	b->running++;
	b->dirty = 1;
	log_debug("backfill %lld: partition %s: %s (%s)", (long long)b->id,
	    p->key, bf_action_name(a), why);
	return bp_set(d, b->id, p->seq, "running", run_id, why, cause);
}

/* Launch pending partitions into the backfill's free places. */
static int
bf_launch(struct daemon *d, struct dbf *b, char **cause)
{
	const struct job_def	*job;
	sqlite3_stmt		*stmt;
	struct bf_part		 v[BF_BATCH];
	size_t			 n, i, scanned = 0;
	int64_t			 job_id, lim;
	int			 rc = 0, changes;

	if (b->running >= b->max_active ||
	    b->running + b->success + b->failed + b->skipped + b->cancelled >=
	    b->total)
		return 0;
	if ((job = jobset_find(&d->jobs, b->job)) == NULL) {
		/* Removed by a reload: nothing more can start. */
		log_warn("backfill %lld: job %s is no longer configured: "
		    "cancelling its pending partitions", (long long)b->id,
		    b->job);
		if (exec_ii(d, "UPDATE backfill_partitions INDEXED BY "
		    "backfill_partitions_state SET state = 'cancelled', "
		    "reason = ?3 WHERE backfill_id = ?1 AND state "
		    "= 'pending' AND ?2 = ?2", b->id, 0, "job no longer "
		    "configured", &changes, cause) != 0)
			return -1;
		b->cancelled += changes;
		b->cancelling = 1;
		b->dirty = 1;
		return 0;
	}
	/* The job's row once per backfill, not once per pass: the upsert
	 * writes it. */
	if (b->job_id == 0 && state_job_sync(d->st, job->name, job->domain,
	    job->owner, job->description, job->file, job->schedule,
	    &b->job_id, cause) != 0)
		return -1;
	job_id = b->job_id;
	while (b->running < b->max_active && scanned < BF_SCAN_MAX) {
		/* As many as there are places (skipped ones take none, and
		 * the loop reads on), not a whole batch per ended run. */
		lim = b->max_active - b->running;
		if (lim < 4)
			lim = 4;
		if (lim > BF_BATCH)
			lim = BF_BATCH;
		if ((stmt = state_prepare(d->st, "SELECT seq, "
		    "partition_key, interval_start_us, interval_end_us FROM "
		    "backfill_partitions INDEXED BY backfill_partitions_state "
		    "WHERE backfill_id = ? AND state = "
		    "'pending' ORDER BY seq LIMIT ?")) == NULL)
			return sql_fail(d, NULL, "backfill", cause);
		sqlite3_bind_int64(stmt, 1, b->id);
		sqlite3_bind_int64(stmt, 2, lim);
		for (n = 0; n < (size_t)lim && sqlite3_step(stmt) ==
		    SQLITE_ROW; n++) {
			v[n].seq = sqlite3_column_int64(stmt, 0);
			v[n].key = xstrdup((const char *)sqlite3_column_text(
			    stmt, 1));
			v[n].start = sqlite3_column_int64(stmt, 2);
			v[n].end = sqlite3_column_int64(stmt, 3);
		}
		state_stmt_done(stmt);
		for (i = 0; i < n; i++) {
			if (rc == 0 && b->running < b->max_active) {
				rc = bf_launch_one(d, b, job, job_id, &v[i],
				    cause);
				scanned++;
			}
			free(v[i].key);
		}
		if (rc != 0 || n < (size_t)lim)
			break;
	}
	/* Not done skipping: go on at the next pass. */
	if (rc == 0 && scanned >= BF_SCAN_MAX)
		d->bf_due = d->bf_force = 1;
	return rc;
}

/* Write the counters; end the backfill if nothing is left.  1 if it
 * ended. */
static int
bf_settle(struct daemon *d, struct dbf *b, char **cause)
{
	sqlite3_stmt	*stmt;
	const char	*state = NULL;
	char		*result = NULL;
	int		 rc = 0;

	if (b->running == 0 && (b->cancelling || b->success + b->failed +
	    b->skipped + b->cancelled >= b->total)) {
		state = b->cancelling ? "cancelled" : b->failed > 0 ?
		    "failed" : "success";
		result = xasprintf("%lld succeeded, %lld failed, %lld "
		    "skipped, %lld cancelled", (long long)b->success,
		    (long long)b->failed, (long long)b->skipped,
		    (long long)b->cancelled);
	}
	if (!b->dirty && state == NULL)
		return 0;
	if ((stmt = state_prepare(d->st, "UPDATE backfills SET "
	    "n_running = ?, n_success = ?, n_failed = ?, n_skipped = ?, "
	    "n_cancelled = ?, state = coalesce(?, state), ended_us = ?, "
	    "result = ? WHERE id = ?")) == NULL)
		return sql_fail(d, NULL, "backfill", cause);
	sqlite3_bind_int64(stmt, 1, b->running);
	sqlite3_bind_int64(stmt, 2, b->success);
	sqlite3_bind_int64(stmt, 3, b->failed);
	sqlite3_bind_int64(stmt, 4, b->skipped);
	sqlite3_bind_int64(stmt, 5, b->cancelled);
	if (state != NULL) {
		sqlite3_bind_text(stmt, 6, state, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 7, now_us());
		sqlite3_bind_text(stmt, 8, result, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(stmt, 9, b->id);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		rc = sql_fail(d, stmt, "backfill", cause);
	else
		state_stmt_done(stmt);
	b->dirty = 0;
	if (rc == 0 && state != NULL) {
		log_msg(strcmp(state, "success") == 0 ? LOG_LVL_INFO :
		    LOG_LVL_WARN, "backfill %lld of %s: %s: %s",
		    (long long)b->id, b->job, state, result);
		rc = 1;
	}
	free(result);
	return rc;
}

/*
 * Is a pass worth its transaction now?  Every pass is one commit, and a
 * pass after every ended run made the backfill pay a commit per partition
 * on top of the engine's.  So places are refilled in batches -- half of
 * the smallest max_active_runs of the backfills running -- unless a
 * worker would be idle (nothing running: refill at once), a request came
 * (a new backfill, a cancel: at once), or BF_LAG_US has passed (runs on
 * slow executors still get their places back soon).  A backfill of
 * max_active_runs 1 or 2 refills after every run, as before.
 */
static int
bf_pass_worth(struct daemon *d)
{
	int64_t	batch = INT64_MAX;
	size_t	i;

	if (d->bf_force ||
	    engine_running_tasks(d->engine) < (size_t)d->cfg->workers ||
	    mono_us() - d->bf_last >= BF_LAG_US)
		return 1;
	for (i = 0; i < d->nbf; i++)
		if (!d->bf[i].cancelling && d->bf[i].max_active / 2 < batch)
			batch = d->bf[i].max_active / 2;
	return d->bf_ended >= (batch < 1 ? 1 : batch);
}

int
daemon_bf_pass(struct daemon *d)
{
	unsigned char	*ended;
	char		*cause = NULL;
	size_t		 i, j;
	int		 rc;

	if (d->nbf > 0 && !bf_pass_worth(d))
		return 0;	/* bf_due stays: a later pass */
	d->bf_due = d->bf_force = 0;
	d->bf_ended = 0;
	d->bf_last = mono_us();
	if (d->nbf == 0)
		return 0;
	if (state_begin(d->st, &cause) != 0)
		goto fail;
	ended = xcalloc(d->nbf, 1);
	for (i = 0; i < d->nbf; i++) {
		struct dbf *b = &d->bf[i];

		if (bf_account(d, b, &cause) != 0 ||
		    (!b->cancelling && bf_launch(d, b, &cause) != 0) ||
		    (rc = bf_settle(d, b, &cause)) < 0) {
			free(ended);
			state_rollback(d->st);
			goto fail;
		}
		ended[i] = (unsigned char)rc;
	}
	if (state_commit(d->st, &cause) != 0) {
		free(ended);
		goto fail;
	}
	for (i = j = 0; i < d->nbf; i++) {
		if (ended[i])
			free(d->bf[i].job);
		else
			d->bf[j++] = d->bf[i];
	}
	d->nbf = j;
	free(ended);
	return 0;
fail:
	/* The daemon stops rather than go on with counters that disagree
	 * with the state; the next start reads them again. */
	log_error("backfills: %s", cause);
	free(cause);
	return -1;
}

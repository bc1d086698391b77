/*
 * meshd-clear.c -- `meshctl clear`: reset tasks of finished runs so that
 * they run again; the everyday "rerun from failure".
 *
 * The request's args are {"from": K, "to": K, "task": T, "downstream":
 * bool, "failed_only": bool}.  Each finished run of the job in [from, to]
 * is queued again and resumed: tasks that succeeded and were not cleared
 * are kept (a committed success is never run twice unless asked), every
 * other task runs again with its try count going on.  Clearing resets the
 * chosen tasks (all of them, or T and, with downstream, everything after
 * it) to pending; with failed_only nothing that succeeded is reset, so
 * just the failed tasks and those they held up run again.  Runs that are
 * queued or running are left alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "dag.h"
#include "log.h"
#include "meshd.h"
#include "schedule.h"
#include "util.h"

struct clear_run {
	int64_t	 id, start, end;
	char	*key;
	char	*state;
};

static int
sql_fail(struct daemon *d, sqlite3_stmt *stmt, char **cause)
{
	set_cause(cause, "clear: %s", sqlite3_errmsg(state_sqlite(d->st)));
	sqlite3_finalize(stmt);
	return -1;
}

/* The runs of the job in [from, to]. */
static int
clear_runs(struct daemon *d, int64_t job_id, const char *from,
    const char *to, struct clear_run **out, size_t *n, char **cause)
{
	sqlite3_stmt	*stmt;
	struct clear_run *v = NULL;
	int		 rc;

	*n = 0;
	if (sqlite3_prepare_v2(state_sqlite(d->st), "SELECT id, partition_key, "
	    "interval_start_us, interval_end_us, state FROM runs WHERE job_id "
	    "= ? AND partition_key BETWEEN ? AND ? ORDER BY partition_key", -1,
	    &stmt, NULL) != SQLITE_OK)
		return sql_fail(d, NULL, cause);
	sqlite3_bind_int64(stmt, 1, job_id);
	sqlite3_bind_text(stmt, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, to, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		v = xreallocarray(v, *n + 1, sizeof *v);
		v[*n].id = sqlite3_column_int64(stmt, 0);
		v[*n].key = xstrdup((const char *)sqlite3_column_text(stmt, 1));
		v[*n].start = sqlite3_column_int64(stmt, 2);
		v[*n].end = sqlite3_column_int64(stmt, 3);
		v[*n].state = xstrdup((const char *)sqlite3_column_text(stmt,
		    4));
		(*n)++;
	}
	*out = v;
	if (rc != SQLITE_DONE)
		return sql_fail(d, stmt, cause);
	sqlite3_finalize(stmt);
	return 0;
}

static void
clear_runs_free(struct clear_run *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].state);
	}
	free(v);
}

/* Reset the chosen tasks of one run and queue it again. */
static int
clear_one(struct daemon *d, const struct job_def *job,
    const struct clear_run *r, const unsigned char *chosen, int failed_only,
    int *ntasks, char **cause)
{
	sqlite3_stmt	*stmt;
	size_t		 i;

	if (sqlite3_prepare_v2(state_sqlite(d->st), "UPDATE task_instances SET "
	    "state = 'pending', reason = NULL WHERE run_id = ? AND task_id = ? "
	    "AND (? = 0 OR state NOT IN ('success', 'skipped'))", -1, &stmt,
	    NULL) != SQLITE_OK)
		return sql_fail(d, NULL, cause);
	for (i = 0; i < job->ntasks; i++) {
		if (!chosen[i])
			continue;
		sqlite3_bind_int64(stmt, 1, r->id);
		sqlite3_bind_text(stmt, 2, job->tasks[i].id, -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(stmt, 3, failed_only);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			return sql_fail(d, stmt, cause);
		*ntasks += sqlite3_changes(state_sqlite(d->st));
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	if (sqlite3_prepare_v2(state_sqlite(d->st), "UPDATE runs SET state = "
	    "'queued', ended_us = NULL WHERE id = ?", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return sql_fail(d, NULL, cause);
	sqlite3_bind_int64(stmt, 1, r->id);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		return sql_fail(d, stmt, cause);
	sqlite3_finalize(stmt);
	daemon_queue_push(d, job->name, r->key, r->start, r->end, "clear", 0);
	return 0;
}

int
daemon_clear(struct daemon *d, const struct request *rq, int *ok,
    char **result, char **cause)
{
	const struct job_def	*job;
	struct clear_run	*runs = NULL;
	unsigned char		*chosen;
	json_t			*args = NULL;
	const char		*from, *to, *task;
	size_t			 nruns = 0, i;
	int64_t			 job_id;
	int			 downstream, failed_only, ti = -1;
	int			 cleared = 0, busy = 0, clean = 0, ntasks = 0;
	int			 rc = 0;

	*ok = 0;
	if ((job = jobset_find(&d->jobs, rq->job)) == NULL) {
		*result = xasprintf("unknown job '%s'", rq->job);
		return 0;
	}
	if (rq->args == NULL || (args = json_loads(rq->args, 0, NULL)) ==
	    NULL || (from = json_string_value(json_object_get(args,
	    "from"))) == NULL || (to = json_string_value(json_object_get(args,
	    "to"))) == NULL) {
		json_decref(args);
		*result = xstrdup("the request names no partitions");
		return 0;
	}
	task = json_string_value(json_object_get(args, "task"));
	downstream = json_is_true(json_object_get(args, "downstream"));
	failed_only = json_is_true(json_object_get(args, "failed_only"));
	if (task != NULL && (ti = job_task_index(job, task)) < 0) {
		*result = xasprintf("job %s has no task '%s'", job->name, task);
		json_decref(args);
		return 0;
	}
	/* A request recorded by an older meshctl, or before the job file
	 * changed, may name keys off the schedule or outside the job's start
	 * and end: refused with the reason, never carried out. */
	if (job_check_range(job, from, to, result) != 0) {
		json_decref(args);
		return 0;
	}
	chosen = xcalloc(job->ntasks == 0 ? 1 : job->ntasks, 1);
	if (ti < 0)
		memset(chosen, 1, job->ntasks);
	else {
		if (downstream)
			dag_descendants(job->dag, (size_t)ti, chosen);
		chosen[ti] = 1;
	}
	if (state_job_find(d->st, job->name, &job_id, cause) != 0 ||
	    (job_id != 0 && clear_runs(d, job_id, from, to, &runs, &nruns,
	    cause) != 0)) {
		rc = -1;
		goto out;
	}
	for (i = 0; i < nruns; i++) {
		struct clear_run *r = &runs[i];

		if (strcmp(r->state, "queued") == 0 ||
		    strcmp(r->state, "running") == 0 ||
		    engine_is_active(d->engine, job->name, r->key) ||
		    daemon_queued(d, job->name, r->key)) {
			busy++;
			continue;
		}
		if (failed_only && strcmp(r->state, "success") == 0) {
			clean++;
			continue;
		}
		if (clear_one(d, job, r, chosen, failed_only, &ntasks,
		    cause) != 0) {
			rc = -1;
			goto out;
		}
		cleared++;
		log_info("job=%s run=%lld partition=%s: cleared (request %lld)",
		    job->name, (long long)r->id, r->key, (long long)rq->id);
	}
	*ok = cleared > 0 || nruns > 0;
	if (nruns == 0)
		*result = xasprintf("%s has no runs from %s to %s", job->name,
		    from, to);
	else
		*result = xasprintf("%d run%s cleared (%d task%s reset)%s%.0d%s"
		    "%s%.0d%s", cleared, cleared == 1 ? "" : "s", ntasks,
		    ntasks == 1 ? "" : "s", busy > 0 ? "; " : "", busy,
		    busy > 0 ? " queued or running, left alone" : "",
		    clean > 0 ? "; " : "", clean, clean > 0 ? " had nothing "
		    "failed" : "");
out:
	clear_runs_free(runs, nruns);
	free(chosen);
	json_decref(args);
	return rc;
}

/* request.c -- operators' requests as rows in the state database. */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "lock.h"
#include "request.h"
#include "schedule.h"
#include "util.h"

static int
req_fail(struct state *st, sqlite3_stmt *stmt, const char *what,
    char **cause)
{
	set_cause(cause, "%s: %s: %s", state_path(st), what,
	    sqlite3_errmsg(state_sqlite(st)));
	state_stmt_done(stmt);
	return -1;
}

int
request_insert(struct state *st, const char *kind, const char *job,
    const char *key, const char *args, int64_t *id, char **cause)
{
	sqlite3_stmt	*stmt = NULL;
	struct passwd	*pw = getpwuid(geteuid());

	if ((stmt = state_prepare(st, "INSERT INTO requests (kind, "
	    "job, partition_key, args, created_us, created_by) VALUES (?, ?, "
	    "?, ?, ?, ?) RETURNING id")) == NULL)
		return req_fail(st, stmt, "cannot record the request", cause);
	sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, job, -1, SQLITE_STATIC);
	if (key != NULL)
		sqlite3_bind_text(stmt, 3, key, -1, SQLITE_STATIC);
	if (args != NULL)
		sqlite3_bind_text(stmt, 4, args, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, now_us());
	if (pw != NULL)
		sqlite3_bind_text(stmt, 6, pw->pw_name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(stmt) != SQLITE_ROW)
		return req_fail(st, stmt, "cannot record the request", cause);
	*id = sqlite3_column_int64(stmt, 0);
	state_stmt_done(stmt);
	return 0;
}

int
request_add(struct state *st, const char *kind, const char *job,
    const char *key, const char *args, int64_t *id, char **cause)
{
	if (state_begin(st, cause) != 0)
		return -1;
	if (request_insert(st, kind, job, key, args, id, cause) != 0) {
		state_rollback(st);
		return -1;
	}
	return state_commit(st, cause);
}

int
requests_pending(struct state *st, size_t max, struct request **out,
    char **cause)
{
	sqlite3_stmt	*stmt;
	struct request	*v = NULL;
	size_t		 n = 0;
	int		 rc;

	*out = NULL;
	if ((stmt = state_prepare(st, "SELECT id, kind, job, "
	    "partition_key, args FROM requests WHERE state = 'pending' ORDER BY id "
	    "LIMIT ?")) == NULL)
		return req_fail(st, NULL, "cannot read requests", cause);
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)max);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n].id = sqlite3_column_int64(stmt, 0);
		v[n].kind = xstrdup((const char *)sqlite3_column_text(stmt, 1));
		v[n].job = xstrdup((const char *)sqlite3_column_text(stmt, 2));
		v[n].partition_key = xstrdup_null((const char *)
		    sqlite3_column_text(stmt, 3));
		v[n].args = xstrdup_null((const char *)
		    sqlite3_column_text(stmt, 4));
		n++;
	}
	if (rc != SQLITE_DONE) {
		requests_free(v, n);
		return req_fail(st, stmt, "cannot read requests", cause);
	}
	state_stmt_done(stmt);
	*out = v;
	return (int)n;
}

void
requests_free(struct request *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].kind);
		free(v[i].job);
		free(v[i].partition_key);
		free(v[i].args);
	}
	free(v);
}

int
request_finish(struct state *st, int64_t id, int ok, const char *result,
    char **cause)
{
	sqlite3_stmt	*stmt;

	if ((stmt = state_prepare(st, "UPDATE requests SET state = "
	    "?, done_us = ?, result = ? WHERE id = ?")) == NULL)
		return req_fail(st, NULL, "cannot finish request", cause);
	sqlite3_bind_text(stmt, 1, ok ? "done" : "failed", -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, now_us());
	sqlite3_bind_text(stmt, 3, result, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, id);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		return req_fail(st, stmt, "cannot finish request", cause);
	state_stmt_done(stmt);
	return 0;
}

int
state_changed(struct state *st, int64_t *last)
{
	sqlite3_stmt	*stmt;
	int64_t		 v = -1;

	/* Every loop pass asks: prepared once (state_prepare()). */
	if ((stmt = state_prepare(st, "PRAGMA data_version")) != NULL &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	state_stmt_done(stmt);
	if (v == *last)
		return 0;
	*last = v;
	return 1;
}

int
request_run_succeeded(struct state *st, const char *job, const char *key,
    char **why, char **cause)
{
	sqlite3_stmt	*stmt = NULL;
	char		 t[32];
	int		 rc;

	if ((stmt = state_prepare(st, "SELECT r.id, r.ended_us FROM runs r "
	    "JOIN jobs j ON j.id = r.job_id WHERE j.name = ? AND "
	    "r.partition_key = ? AND r.state = 'success'")) == NULL)
		return req_fail(st, stmt, "cannot read the runs", cause);
	sqlite3_bind_text(stmt, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_DONE) {
		state_stmt_done(stmt);
		return 0;
	}
	if (rc != SQLITE_ROW)
		return req_fail(st, stmt, "cannot read the runs", cause);
	*why = xasprintf("partition %s of job %s already succeeded (run %lld, "
	    "%s); use --rerun to run it again", key, job,
	    (long long)sqlite3_column_int64(stmt, 0),
	    sqlite3_column_type(stmt, 1) == SQLITE_NULL ? "-" :
	    fmt_utc(sqlite3_column_int64(stmt, 1), t, sizeof t));
	state_stmt_done(stmt);
	return 1;
}

int
request_args_rerun(const char *args)
{
	json_t	*root;
	int	 rerun;

	if (args == NULL || (root = json_loads(args, 0, NULL)) == NULL)
		return 0;
	rerun = json_is_true(json_object_get(root, "rerun"));
	json_decref(root);
	return rerun;
}

int
request_check_trigger(struct state *st, const struct job_def *job,
    const struct request *rq, int64_t start, const char *key, char **why,
    char **cause)
{
	int	rc;

	if (job_check_bounds(job, start, key, why) != 0)
		return 1;
	/* A request without "rerun" (also one from a meshctl before 0.11,
	 * which reran silently) never reruns a success: the operator hears
	 * it in the request's result. */
	if (request_args_rerun(rq->args))
		return 0;
	if ((rc = request_run_succeeded(st, job->name, key, why, cause)) < 0)
		return -1;
	return rc;
}

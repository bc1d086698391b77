/*
 * read-tasks.c -- tasks: the task instances of one run, each with its
 * attempts and the check results of its latest try.
 *
 * A run is named by job and partition, or by its id (run=N), which is
 * what meshctl test asks of its scratch state and what a page links to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "job.h"
#include "meshd/plugin.h"
#include "read-int.h"
#include "state.h"
#include "util.h"

const struct read_param read_tasks_params[] = {
	{ "job", "string", 0, "the job (with partition)" },
	{ "partition", "string", 0, "the run's partition key (with job)" },
	{ "run", "integer", 0, "the run's id, instead of job and partition" },
	READ_PARAMS_PAGE,
	{ NULL, NULL, 0, NULL }
};

#define READ_TASKS_NSTR	"{\"type\":[\"string\",\"null\"]}"

const char read_tasks_schema[] =
	"{\"type\":\"object\",\"required\":[\"job\",\"partition\",\"run_id\","
	"\"run_state\",\"tasks\",\"next_cursor\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"job\":{\"type\":\"string\"},"
	"\"partition\":{\"type\":\"string\"},"
	"\"run_id\":{\"type\":\"integer\"},"
	"\"run_state\":{\"enum\":[\"queued\",\"running\",\"success\","
	"\"failed\",\"cancelled\"]},"
	"\"tasks\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"task\",\"stage\",\"state\",\"tries\",\"max_tries\","
	"\"started_us\",\"ended_us\",\"started_local\",\"reason\","
	"\"attempts\",\"checks\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"task\":{\"type\":\"string\"},"
	"\"stage\":{\"type\":\"string\"},"
	"\"state\":{\"enum\":[\"pending\",\"queued\",\"running\",\"success\","
	"\"failed\",\"skipped\",\"up_for_retry\",\"upstream_failed\","
	"\"cancelled\"]},"
	"\"tries\":{\"type\":\"integer\"},"
	"\"max_tries\":{\"type\":\"integer\"},"
	"\"started_us\":{\"type\":\"integer\"},"
	"\"ended_us\":{\"type\":\"integer\"},"
	"\"started_local\":{\"type\":\"string\"},"
	"\"reason\":" READ_TASKS_NSTR ","
	"\"attempts\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"attempt_id\",\"attempt\",\"state\",\"started_us\","
	"\"ended_us\",\"started_local\",\"log_path\",\"reason\",\"message\","
	"\"executor\",\"ext_id\",\"ext_state\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"attempt_id\":{\"type\":\"integer\"},"
	"\"attempt\":{\"type\":\"integer\"},"
	"\"state\":{\"enum\":[\"running\",\"success\",\"failed\",\"retry\","
	"\"skipped\"]},"
	"\"started_us\":{\"type\":\"integer\"},"
	"\"ended_us\":{\"type\":\"integer\"},"
	"\"started_local\":{\"type\":\"string\"},"
	"\"log_path\":" READ_TASKS_NSTR ","
	"\"reason\":" READ_TASKS_NSTR ","
	"\"message\":" READ_TASKS_NSTR ","
	"\"executor\":{\"type\":\"string\"},"
	"\"ext_id\":" READ_TASKS_NSTR ","
	"\"ext_state\":" READ_TASKS_NSTR "}}},"
	"\"checks\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"check\",\"severity\",\"passed\",\"observed\","
	"\"expectation\",\"attempt\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"check\":{\"type\":\"string\"},"
	"\"severity\":{\"enum\":[\"error\",\"warn\"]},"
	"\"passed\":{\"type\":\"boolean\"},"
	"\"observed\":{\"type\":[\"number\",\"null\"]},"
	"\"expectation\":" READ_TASKS_NSTR ","
	"\"attempt\":{\"type\":\"integer\"}}}}}}},"
	READ_SCHEMA_CURSOR "}}";

/* Prepare `sql` on ctx's state; -1 with a 503 error. */
static int
read_tasks_prepare(struct read_ctx *ctx, const char *sql, sqlite3_stmt **stmt,
    struct read_error *err)
{
	if (sqlite3_prepare_v2(state_sqlite(ctx->st), sql, -1, stmt,
	    NULL) == SQLITE_OK)
		return 0;
	read_fail_state(err, ctx->st);
	return -1;
}

/*
 * Find the run: by id, or by job and partition.  Fills the document's
 * head (job, partition, run_id, run_state) and *def.  -1 with a 404 for
 * a run that does not exist.
 */
static int
read_tasks_run(struct read_ctx *ctx, const struct read_args *args,
    int64_t run_id, json_t *doc, const struct job_def **def,
    struct read_error *err)
{
	const char	*name = read_arg(args, "job");
	const char	*key = read_arg(args, "partition");
	sqlite3_stmt	*stmt = NULL;
	int64_t		 job_id = 0;
	int		 rc = -1, step;

	*def = NULL;
	if (run_id == 0 && read_job(ctx, name, &job_id, def, err) != 0)
		return -1;
	if (run_id == 0 && job_id == 0)
		goto none;	/* a configured job that never ran */
	if (read_tasks_prepare(ctx, run_id != 0 ? "SELECT r.id, j.name, "
	    "r.partition_key, r.state FROM runs r JOIN jobs j ON "
	    "j.id = r.job_id WHERE r.id = ?1" : "SELECT r.id, j.name, "
	    "r.partition_key, r.state FROM runs r JOIN jobs j ON "
	    "j.id = r.job_id WHERE r.job_id = ?1 AND r.partition_key = ?2",
	    &stmt, err) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, run_id != 0 ? run_id : job_id);
	if (run_id == 0)
		sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_object_set_new(doc, "job", json_string(read_col(stmt, 1)));
		json_object_set_new(doc, "partition",
		    json_string(read_col(stmt, 2)));
		json_object_set_new(doc, "run_id",
		    json_integer(sqlite3_column_int64(stmt, 0)));
		json_object_set_new(doc, "run_state",
		    json_string(read_col(stmt, 3)));
		if (run_id != 0)
			*def = read_ctx_job(ctx, read_col(stmt, 1));
		rc = 0;
	} else if (step != SQLITE_DONE)
		read_fail_state(err, ctx->st);
	sqlite3_finalize(stmt);
	if (rc == 0 || step != SQLITE_DONE)
		return rc;
none:
	if (run_id != 0)
		read_fail(err, 404, "no run %lld", (long long)run_id);
	else
		read_fail(err, 404, "job '%s' has no run for partition '%s' "
		    "(see 'meshctl runs %s')", name, key, name);
	return -1;
}

/* The attempts of task instance ti_id, oldest first, into the task's
 * "attempts". */
static int
read_tasks_attempts(struct read_ctx *ctx, sqlite3_stmt *stmt, int64_t ti_id,
    const struct job_def *def, json_t *arr, struct read_error *err)
{
	char	a[64];
	int	rc;

	sqlite3_bind_int64(stmt, 1, ti_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t	s = sqlite3_column_int64(stmt, 3);

		json_array_append_new(arr, json_pack("{s:I, s:i, s:s, s:I, "
		    "s:I, s:s, s:o, s:o, s:o, s:s, s:o, s:o}",
		    "attempt_id", (json_int_t)sqlite3_column_int64(stmt, 0),
		    "attempt", sqlite3_column_int(stmt, 1),
		    "state", read_col(stmt, 2),
		    "started_us", (json_int_t)s,
		    "ended_us", (json_int_t)sqlite3_column_int64(stmt, 4),
		    "started_local", read_time_local(ctx->utc, def, s, a,
		    sizeof a),
		    "log_path", read_col_json(stmt, 5),
		    "reason", read_col_json(stmt, 6),
		    "message", read_col_json(stmt, 7),
		    "executor", sqlite3_column_type(stmt, 8) == SQLITE_NULL ?
		    "local" : read_col(stmt, 8),
		    "ext_id", read_col_json(stmt, 9),
		    "ext_state", read_col_json(stmt, 10)));
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	return 0;
}

/* The checks of the latest try of task instance ti_id, in the order
 * they were recorded. */
static int
read_tasks_checks(struct read_ctx *ctx, sqlite3_stmt *stmt, int64_t ti_id,
    int tries, json_t *arr, struct read_error *err)
{
	int	rc;

	sqlite3_bind_int64(stmt, 1, ti_id);
	sqlite3_bind_int(stmt, 2, tries);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:o, "
		    "s:o, s:i}", "check", read_col(stmt, 0),
		    "severity", sqlite3_column_int(stmt, 1) ==
		    MESHD_SEV_ERROR ? "error" : "warn",
		    "passed", sqlite3_column_int(stmt, 2) != 0,
		    "observed", sqlite3_column_type(stmt, 3) == SQLITE_NULL ?
		    json_null() : json_real(sqlite3_column_double(stmt, 3)),
		    "expectation", read_col_json(stmt, 4),
		    "attempt", sqlite3_column_int(stmt, 5)));
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	return 0;
}

json_t *
read_tasks(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*name = read_arg(args, "job");
	const char	*key = read_arg(args, "partition");
	const char	*cursor_arg = read_arg(args, "cursor");
	const struct job_def *def = NULL;
	struct read_cursor cur = { 0 };
	sqlite3_stmt	*stmt = NULL, *as = NULL, *cs = NULL;
	json_t		*doc = NULL, *arr, *next = NULL, *t;
	char		 a[64];
	int64_t		 run_id, limit, n = 0, last = 0;
	int		 rc;

	if (read_arg(args, "run") != NULL) {
		if (name != NULL || key != NULL)
			return read_fail(err, 400, "run: give either run or "
			    "job and partition");
		if (read_arg_int(args, "run", 1, INT64_MAX, 0, &run_id,
		    err) != 0)
			return NULL;
	} else {
		run_id = 0;
		if (name == NULL || key == NULL)
			return read_fail(err, 400, "tasks needs job and "
			    "partition, or run");
	}
	if (read_arg_limit(args, &limit, err) != 0)
		return NULL;
	if (cursor_arg != NULL && read_cursor_parse(cursor_arg, 1, &cur,
	    err) != 0)
		return NULL;
	if (read_need_state(ctx, err) != 0)
		goto out;
	doc = json_object();
	if (read_tasks_run(ctx, args, run_id, doc, &def, err) != 0) {
		json_decref(doc);
		doc = NULL;
		goto out;
	}
	run_id = json_integer_value(json_object_get(doc, "run_id"));
	/*
	 * In the order the engine created them, which is the job's task
	 * order.  A run's task instances are few (a job's tasks, bounded by
	 * the job limits), and the unique (run_id, task_id) index finds
	 * them all: sorting them by id costs the run, not the history.  One
	 * more row than asked says whether there is a next page.
	 */
	if (read_tasks_prepare(ctx, cursor_arg != NULL ? "SELECT id, task_id, "
	    "stage, state, try_number, max_tries, started_us, ended_us, reason "
	    "FROM task_instances WHERE run_id = ?1 AND id > ?3 ORDER BY id "
	    "LIMIT ?2" : "SELECT id, task_id, stage, state, try_number, "
	    "max_tries, started_us, ended_us, reason FROM task_instances "
	    "WHERE run_id = ?1 ORDER BY id LIMIT ?2", &stmt, err) != 0 ||
	    read_tasks_prepare(ctx, "SELECT id, try_number, state, started_us, "
	    "ended_us, log_path, reason, message, executor, ext_id, ext_state "
	    "FROM attempts WHERE "
	    "task_instance_id = ?1 ORDER BY try_number, id", &as, err) != 0 ||
	    read_tasks_prepare(ctx, "SELECT c.name, c.severity, c.passed, "
	    "c.observed, c.expectation, a.try_number FROM attempts a JOIN "
	    "check_results c ON c.attempt_id = a.id WHERE "
	    "a.task_instance_id = ?1 AND a.try_number = ?2 ORDER BY c.id",
	    &cs, err) != 0)
		goto fail;
	sqlite3_bind_int64(stmt, 1, run_id);
	sqlite3_bind_int64(stmt, 2, limit + 1);
	if (cursor_arg != NULL)
		sqlite3_bind_int64(stmt, 3, cur.i[0]);
	arr = json_array();
	json_object_set_new(doc, "tasks", arr);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t	ti_id = sqlite3_column_int64(stmt, 0);
		int64_t	s = sqlite3_column_int64(stmt, 6);
		int	tries = sqlite3_column_int(stmt, 4);

		if (n++ == limit) {
			next = read_cursor_int(last);
			break;
		}
		last = ti_id;
		t = json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:s, s:o, "
		    "s:[], s:[]}", "task", read_col(stmt, 1),
		    "stage", read_col(stmt, 2), "state", read_col(stmt, 3),
		    "tries", tries, "max_tries", sqlite3_column_int(stmt, 5),
		    "started_us", (json_int_t)s,
		    "ended_us", (json_int_t)sqlite3_column_int64(stmt, 7),
		    "started_local", read_time_local(ctx->utc, def, s, a,
		    sizeof a),
		    "reason", read_col_json(stmt, 8), "attempts", "checks");
		json_array_append_new(arr, t);
		if (read_tasks_attempts(ctx, as, ti_id, def,
		    json_object_get(t, "attempts"), err) != 0 ||
		    read_tasks_checks(ctx, cs, ti_id, tries,
		    json_object_get(t, "checks"), err) != 0)
			goto fail;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		read_fail_state(err, ctx->st);
		goto fail;
	}
	json_object_set_new(doc, "next_cursor", next != NULL ? next :
	    json_null());
	goto out;
fail:
	json_decref(doc);
	doc = NULL;
out:
	sqlite3_finalize(stmt);
	sqlite3_finalize(as);
	sqlite3_finalize(cs);
	read_cursor_free(&cur);
	return doc;
}

/* read-runs.c -- runs: the runs of a job, newest partition first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "job.h"
#include "read-int.h"
#include "state.h"
#include "util.h"

static const char *const read_run_states[] = { "queued", "running",
    "success", "failed", "cancelled" };

const struct read_param read_runs_params[] = {
	{ "job", "string", 1, "the job" },
	{ "state", "string", 0, "only runs in this state (queued, running, "
	    "success, failed, cancelled)" },
	{ "since", "string", 0, "only runs created at or after: a duration "
	    "back (90m, 2h, 3d, 1w) or a date or time in the job's zone" },
	READ_PARAMS_PAGE,
	{ NULL, NULL, 0, NULL }
};

const char read_runs_schema[] =
	"{\"type\":\"object\",\"required\":[\"job\",\"runs\",\"next_cursor\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"job\":{\"type\":\"string\"},"
	"\"runs\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"run_id\",\"partition\",\"state\",\"trigger\","
	"\"interval_start_us\",\"interval_end_us\",\"created_us\","
	"\"started_us\",\"ended_us\",\"created_local\",\"started_local\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"run_id\":{\"type\":\"integer\"},"
	"\"partition\":{\"type\":\"string\"},"
	"\"state\":{\"enum\":[\"queued\",\"running\",\"success\",\"failed\","
	"\"cancelled\"]},"
	"\"trigger\":{\"type\":\"string\"},"
	"\"interval_start_us\":{\"type\":\"integer\"},"
	"\"interval_end_us\":{\"type\":\"integer\"},"
	"\"created_us\":{\"type\":\"integer\"},"
	"\"started_us\":{\"type\":\"integer\"},"
	"\"ended_us\":{\"type\":\"integer\"},"
	"\"created_local\":{\"type\":\"string\"},"
	"\"started_local\":{\"type\":\"string\"},"
	"\"waiting_for\":{\"type\":\"string\"}}}},"
	READ_SCHEMA_CURSOR "}}";

int
read_job(struct read_ctx *ctx, const char *name, int64_t *id,
    const struct job_def **def, struct read_error *err)
{
	char	*cause = NULL;

	*def = read_ctx_job(ctx, name);
	if (read_need_state(ctx, err) != 0)
		return -1;
	if (state_job_find(ctx->st, name, id, &cause) == 0)
		return 0;
	free(cause);
	*id = 0;
	if (*def != NULL)
		return 0;
	read_fail(err, 404, "unknown job '%s'", name);
	return -1;
}

json_t *
read_runs(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*name = read_arg(args, "job");
	const char	*state = read_arg(args, "state");
	const char	*since_arg = read_arg(args, "since");
	const char	*cursor_arg = read_arg(args, "cursor");
	const char	*parts[2];
	const struct job_def *job;
	struct read_cursor cur = { 0 };
	sqlite3_stmt	*stmt = NULL;
	json_t		*doc = NULL, *arr, *next = NULL;
	char		 a[64], b[64], is_s[32];
	int64_t		 job_id, since = 0, limit, n = 0;
	size_t		 i;
	int		 rc;

	if (state != NULL) {
		for (i = 0; i < nitems(read_run_states); i++)
			if (strcmp(state, read_run_states[i]) == 0)
				break;
		if (i == nitems(read_run_states))
			return read_fail(err, 400, "state: unknown run state "
			    "'%s' (queued, running, success, failed, "
			    "cancelled)", state);
	}
	if (read_arg_limit(args, &limit, err) != 0)
		return NULL;
	/* The arguments first: a usage error is one with or without a
	 * state.  (A job that does not exist is known only from both.) */
	job = read_ctx_job(ctx, name);
	if (since_arg != NULL && read_since(ctx, job, since_arg, &since,
	    err) != 0)
		return NULL;
	if (cursor_arg != NULL && read_cursor_parse(cursor_arg, 2, &cur,
	    err) != 0)
		return NULL;
	if (read_job(ctx, name, &job_id, &job, err) != 0)
		goto out;
	/*
	 * One more row than asked says whether there is a next page.  The
	 * order (interval_start_us, partition_key) DESC walks the
	 * runs_job_interval index from the cursor, so a page costs O(page);
	 * clauses are left out rather than disabled with "?N IS NULL OR",
	 * which would keep SQLite from seeking to the cursor.
	 */
	if (read_prepare(ctx, &stmt, err, "SELECT id, partition_key, state, \"trigger\", "
	    "interval_start_us, interval_end_us, started_us, ended_us, "
	    "created_us, waiting_for FROM runs WHERE job_id = ?1%s%s%s "
	    "ORDER BY interval_start_us DESC, partition_key DESC LIMIT ?3",
	    state != NULL ? " AND state = ?2" : "",
	    since_arg != NULL ? " AND created_us >= ?4" : "",
	    cursor_arg != NULL ?
	    " AND (interval_start_us, partition_key) < (?5, ?6)" : "") != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, job_id);
	if (state != NULL)
		sqlite3_bind_text(stmt, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, limit + 1);
	if (since_arg != NULL)
		sqlite3_bind_int64(stmt, 4, since);
	if (cursor_arg != NULL) {
		sqlite3_bind_int64(stmt, 5, cur.i[0]);
		sqlite3_bind_text(stmt, 6, cur.s[1], -1, SQLITE_STATIC);
	}
	arr = json_array();
	doc = json_pack("{s:s, s:o}", "job", name, "runs", arr);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t	is = sqlite3_column_int64(stmt, 4);
		int64_t	rs = sqlite3_column_int64(stmt, 6);
		int64_t	cr = sqlite3_column_int64(stmt, 8);
		const char *s = read_col(stmt, 2);
		json_t	*run;

		if (n++ == limit) {
			snprintf(is_s, sizeof is_s, "%lld", (long long)
			    json_integer_value(json_object_get(
			    json_array_get(arr, (size_t)limit - 1),
			    "interval_start_us")));
			parts[0] = is_s;
			parts[1] = json_string_value(json_object_get(
			    json_array_get(arr, (size_t)limit - 1),
			    "partition"));
			next = read_cursor_make(2, parts);
			break;
		}
		run = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, "
		    "s:s, s:s}",
		    "run_id", (json_int_t)sqlite3_column_int64(stmt, 0),
		    "partition", read_col(stmt, 1), "state", s,
		    "trigger", read_col(stmt, 3),
		    "interval_start_us", (json_int_t)is,
		    "interval_end_us",
		    (json_int_t)sqlite3_column_int64(stmt, 5),
		    "created_us", (json_int_t)cr,
		    "started_us", (json_int_t)rs,
		    "ended_us", (json_int_t)sqlite3_column_int64(stmt, 7),
		    "created_local",
		    read_time_local(ctx->utc, job, cr, a, sizeof a),
		    "started_local",
		    read_time_local(ctx->utc, job, rs, b, sizeof b));
		/* A queued run held back by its inputs says by which. */
		if (strcmp(s, "queued") == 0 &&
		    sqlite3_column_type(stmt, 9) != SQLITE_NULL)
			json_object_set_new(run, "waiting_for",
			    json_string(read_col(stmt, 9)));
		json_array_append_new(arr, run);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(doc);
		doc = read_fail_state(err, ctx->st);
		goto out;
	}
	json_object_set_new(doc, "next_cursor", next != NULL ? next :
	    json_null());
out:
	sqlite3_finalize(stmt);
	read_cursor_free(&cur);
	return doc;
}

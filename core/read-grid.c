/*
 * read-grid.c -- grid: a page of a job's runs with the state of each of
 * their tasks, and the job's tasks with their dependencies.  The web UI's
 * job page draws it as runs (columns) x tasks (rows) and its run page
 * draws one run's DAG from it; it costs O(page): the runs come from the
 * runs question (same cursor, same order), then one query reads the task
 * instances of those runs only, through task_instances_run_task.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "dag.h"
#include "job.h"
#include "read-int.h"
#include "state.h"
#include "util.h"

const struct read_param read_grid_params[] = {
	{ "job", "string", 0, "the job (required unless run is given)" },
	{ "partition", "string", 0, "only the run of this partition (404 if "
	    "it has none)" },
	{ "run", "integer", 0, "only the run of this id, instead of job and "
	    "partition" },
	{ "state", "string", 0, "only runs in this state (queued, running, "
	    "success, failed, cancelled)" },
	READ_PARAMS_PAGE,
	{ NULL, NULL, 0, NULL }
};

const char read_grid_schema[] =
	"{\"type\":\"object\",\"required\":[\"job\",\"tasks\",\"runs\","
	"\"next_cursor\"],\"additionalProperties\":false,\"properties\":{"
	"\"job\":{\"type\":\"string\"},"
	"\"tasks\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"task\",\"stage\",\"after\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"task\":{\"type\":\"string\"},\"stage\":{\"type\":\"string\"},"
	"\"after\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}},"
	"\"runs\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"run_id\",\"partition\",\"state\",\"trigger\","
	"\"created_local\",\"tasks\"],\"properties\":{"
	"\"run_id\":{\"type\":\"integer\"},"
	"\"partition\":{\"type\":\"string\"},"
	"\"state\":{\"enum\":[\"queued\",\"running\",\"success\",\"failed\","
	"\"cancelled\"]},"
	"\"trigger\":{\"type\":\"string\"},"
	"\"created_local\":{\"type\":\"string\"},"
	"\"waiting_for\":{\"type\":\"string\"},"
	"\"tasks\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"task\",\"state\",\"tries\",\"max_tries\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"task\":{\"type\":\"string\"},"
	"\"state\":{\"enum\":[\"pending\",\"queued\",\"running\",\"success\","
	"\"failed\",\"skipped\",\"up_for_retry\",\"upstream_failed\","
	"\"cancelled\"]},"
	"\"tries\":{\"type\":\"integer\"},"
	"\"max_tries\":{\"type\":\"integer\"},"
	"\"reason\":{\"type\":\"string\"}}}}}}},"
	READ_SCHEMA_CURSOR "}}";

/* The job's tasks in a topological order (ties in file order), each with
 * every task it runs after, the gate's edges included: what the DAG
 * drawing needs. */
static json_t *
read_grid_tasks(const struct job_def *job)
{
	json_t		*arr = json_array(), *after;
	const size_t	*topo, *pred;
	size_t		 i, k, t;

	if (job == NULL || job->dag == NULL)
		return arr;
	topo = dag_topo(job->dag);
	for (i = 0; i < dag_size(job->dag); i++) {
		t = topo[i];
		after = json_array();
		pred = dag_pred(job->dag, t);
		for (k = 0; k < dag_npred(job->dag, t); k++)
			json_array_append_new(after,
			    json_string(job->tasks[pred[k]].id));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o}",
		    "task", job->tasks[t].id,
		    "stage", stage_name(job->tasks[t].stage), "after", after));
	}
	return arr;
}

/* The run of one partition, as the runs question shows a run. */
static json_t *
read_grid_one(struct read_ctx *ctx, const struct job_def *job,
    int64_t job_id, const char *partition, struct read_error *err)
{
	sqlite3_stmt	*stmt = NULL;
	json_t		*runs = NULL;
	char		 a[64], b[64];
	int		 rc;

	rc = sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT id, "
	    "partition_key, state, \"trigger\", created_us, started_us, "
	    "waiting_for FROM runs WHERE job_id = ?1 AND partition_key = ?2",
	    -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return read_fail_state(err, ctx->st);
	sqlite3_bind_int64(stmt, 1, job_id);
	sqlite3_bind_text(stmt, 2, partition, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		runs = json_array();
		json_array_append_new(runs, json_pack("{s:I, s:s, s:s, s:s, "
		    "s:s, s:s}",
		    "run_id", (json_int_t)sqlite3_column_int64(stmt, 0),
		    "partition", read_col(stmt, 1), "state", read_col(stmt, 2),
		    "trigger", read_col(stmt, 3),
		    "created_local", read_time_local(ctx->utc, job,
		    sqlite3_column_int64(stmt, 4), a, sizeof a),
		    "started_local", read_time_local(ctx->utc, job,
		    sqlite3_column_int64(stmt, 5), b, sizeof b)));
		/* As the runs question says it: a queued run held back by
		 * its inputs says by which. */
		if (strcmp(read_col(stmt, 2), "queued") == 0 &&
		    sqlite3_column_type(stmt, 6) != SQLITE_NULL)
			json_object_set_new(json_array_get(runs, 0),
			    "waiting_for", json_string(read_col(stmt, 6)));
	} else if (rc == SQLITE_DONE)
		read_fail(err, 404, "job '%s' has no run of partition '%s'",
		    job != NULL ? job->name : "?", partition);
	else
		read_fail_state(err, ctx->st);
	sqlite3_finalize(stmt);
	return runs;
}

/* Fill each run's "tasks" with its task instances: one query for the
 * page, keyed by the runs' ids. */
static int
read_grid_instances(struct read_ctx *ctx, json_t *runs,
    struct read_error *err)
{
	sqlite3_stmt	*stmt = NULL;
	json_t		*ids = json_array(), *run, *t;
	char		*text;
	size_t		 i, at = 0;
	int		 rc;

	json_array_foreach(runs, i, run) {
		json_array_append(ids, json_object_get(run, "run_id"));
		json_object_set_new(run, "tasks", json_array());
	}
	text = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	/* Ordered like the page (the runs' ids need not be), so that each
	 * row's run is found by walking forward. */
	rc = sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT "
	    "ti.run_id, ti.task_id, ti.state, ti.try_number, ti.max_tries, "
	    "ti.reason FROM json_each(?1) AS j JOIN task_instances AS ti "
	    "ON ti.run_id = j.value ORDER BY j.key, ti.task_id", -1, &stmt,
	    NULL);
	if (rc != SQLITE_OK) {
		free(text);
		read_fail_state(err, ctx->st);
		return -1;
	}
	sqlite3_bind_text(stmt, 1, text, -1, SQLITE_TRANSIENT);
	free(text);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_int_t id = sqlite3_column_int64(stmt, 0);

		while (at < json_array_size(runs) && json_integer_value(
		    json_object_get(json_array_get(runs, at), "run_id")) != id)
			at++;
		if (at == json_array_size(runs))
			break;
		t = json_pack("{s:s, s:s, s:I, s:I}",
		    "task", read_col(stmt, 1), "state", read_col(stmt, 2),
		    "tries", (json_int_t)sqlite3_column_int64(stmt, 3),
		    "max_tries", (json_int_t)sqlite3_column_int64(stmt, 4));
		if (sqlite3_column_type(stmt, 5) != SQLITE_NULL)
			json_object_set_new(t, "reason",
			    json_string(read_col(stmt, 5)));
		json_array_append_new(json_object_get(json_array_get(runs,
		    at), "tasks"), t);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	return 0;
}

/* Tasks that ran but are no longer in the job's file (renamed, or the
 * file is gone) still get a row, after the job's own, by name. */
static void
read_grid_orphans(json_t *tasks, json_t *runs)
{
	json_t		*run, *t, *have = json_object(), *extra = json_array();
	size_t		 i, j;
	const char	*id;

	json_array_foreach(tasks, i, t)
		json_object_set(have, json_string_value(json_object_get(t,
		    "task")), json_true());
	json_array_foreach(runs, i, run) {
		json_array_foreach(json_object_get(run, "tasks"), j, t) {
			id = json_string_value(json_object_get(t, "task"));
			if (json_object_get(have, id) != NULL)
				continue;
			json_object_set(have, id, json_true());
			json_array_append_new(extra, json_string(id));
		}
	}
	/* Sorted, so the document does not depend on the page's order. */
	for (i = 1; i < json_array_size(extra); i++)
		for (j = i; j > 0 && strcmp(json_string_value(
		    json_array_get(extra, j - 1)), json_string_value(
		    json_array_get(extra, j))) > 0; j--) {
			t = json_incref(json_array_get(extra, j));
			json_array_set(extra, j, json_array_get(extra, j - 1));
			json_array_set_new(extra, j - 1, t);
		}
	json_array_foreach(extra, i, t)
		json_array_append_new(tasks, json_pack("{s:O, s:s, s:[]}",
		    "task", t, "stage", "", "after"));
	json_decref(extra);
	json_decref(have);
}

/* run=ID: the job and partition of that run (new strings). */
static int
read_grid_run(struct read_ctx *ctx, int64_t id, char **name, char **part,
    struct read_error *err)
{
	sqlite3_stmt	*stmt = NULL;
	int		 rc;

	if (read_need_state(ctx, err) != 0)
		return -1;
	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT j.name, "
	    "r.partition_key FROM runs AS r JOIN jobs AS j ON j.id = "
	    "r.job_id WHERE r.id = ?1", -1, &stmt, NULL) != SQLITE_OK) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*name = xstrdup(read_col(stmt, 0));
		*part = xstrdup(read_col(stmt, 1));
	} else if (rc == SQLITE_DONE)
		read_fail(err, 404, "no run %lld", (long long)id);
	else
		read_fail_state(err, ctx->st);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

json_t *
read_grid(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*name = read_arg(args, "job");
	const char	*partition = read_arg(args, "partition");
	const struct job_def *job;
	struct read_args sub = { 0 };
	json_t		*doc, *page, *runs;
	char		*rname = NULL, *rpart = NULL;
	int64_t		 job_id, run_id;
	int		 i;

	if (read_arg(args, "run") != NULL) {
		if (name != NULL || partition != NULL)
			return read_fail(err, 400, "run: give either run or "
			    "job and partition");
		if (read_arg_int(args, "run", 1, INT64_MAX, 0, &run_id,
		    err) != 0 || read_grid_run(ctx, run_id, &rname, &rpart,
		    err) != 0)
			return NULL;
		name = rname;
		partition = rpart;
	} else if (name == NULL)
		return read_fail(err, 400, "grid needs parameter 'job' (or "
		    "'run')");
	if (read_job(ctx, name, &job_id, &job, err) != 0) {
		free(rname);
		free(rpart);
		return NULL;
	}
	if (partition != NULL) {
		runs = read_grid_one(ctx, job, job_id, partition, err);
		if (runs != NULL)
			doc = json_pack("{s:s, s:o, s:o, s:n}", "job", name,
			    "tasks", read_grid_tasks(job), "runs", runs,
			    "next_cursor");
		free(rname);
		free(rpart);
		if (runs == NULL)
			return NULL;
	} else {
		/* The page of runs is the runs question's own. */
		for (i = 0; i < args->n; i++)
			if (strcmp(args->a[i].name, "utc") != 0)
				read_args_add(&sub, args->a[i].name,
				    args->a[i].value);
		if ((page = read_runs(ctx, &sub, err)) == NULL)
			return NULL;
		runs = json_object_get(page, "runs");
		doc = json_pack("{s:s, s:o, s:O, s:O}", "job", name,
		    "tasks", read_grid_tasks(job), "runs", runs,
		    "next_cursor", json_object_get(page, "next_cursor"));
		json_decref(page);
	}
	runs = json_object_get(doc, "runs");
	if (read_grid_instances(ctx, runs, err) != 0) {
		json_decref(doc);
		return NULL;
	}
	read_grid_orphans(json_object_get(doc, "tasks"), runs);
	return doc;
}

/*
 * read-backfills.c -- backfills: backfills newest first with their
 * progress, or one (id=) with its failed partitions.
 *
 * Progress is one row: meshd keeps the counters in the backfills row, so
 * this reads no partitions, however many there are; a page walks
 * backfills_job, backfills_state or the primary key down from the cursor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "backfill.h"
#include "job.h"
#include "read-int.h"
#include "state.h"
#include "util.h"

#define READ_BACKFILLS_DEFAULT	20
/* The failed partitions one backfill shows: what an operator acts on. */
#define READ_BACKFILLS_FAILED	20

static const char *const read_bf_states[] = {
	"pending", "running", "cancelling", "success", "failed", "cancelled"
};

const struct read_param read_backfills_params[] = {
	{ "id", "integer", 0, "only this backfill, with its failed "
	    "partitions (not with job, state or cursor)" },
	{ "job", "string", 0, "only the backfills of this job" },
	{ "state", "string", 0, "only backfills in this state (pending, "
	    "running, cancelling, success, failed, cancelled)" },
	{ "limit", "integer", 0, "at most N backfills (default 20, at most "
	    "10000)" },
	{ "cursor", "string", 0, "next_cursor of the previous page" },
	{ NULL, NULL, 0, NULL }
};

const char read_backfills_schema[] =
	"{\"type\":\"object\",\"required\":[\"backfills\",\"next_cursor\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"backfills\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"id\",\"job\",\"state\",\"from\",\"to\","
	"\"reprocess\",\"max_active_runs\",\"reverse\",\"total\",\"done\","
	"\"running\",\"success\",\"failed\",\"skipped\",\"cancelled\","
	"\"created_us\",\"started_us\",\"ended_us\",\"created_local\","
	"\"started_local\",\"ended_local\",\"created_by\",\"result\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"id\":{\"type\":\"integer\"},"
	"\"job\":{\"type\":\"string\"},"
	"\"state\":{\"enum\":[\"pending\",\"running\",\"cancelling\","
	"\"success\",\"failed\",\"cancelled\"]},"
	"\"from\":{\"type\":\"string\"},"
	"\"to\":{\"type\":\"string\"},"
	"\"reprocess\":{\"enum\":[\"missing\",\"failed\",\"all\"]},"
	"\"max_active_runs\":{\"type\":\"integer\"},"
	"\"reverse\":{\"type\":\"boolean\"},"
	"\"total\":{\"type\":\"integer\",\"minimum\":0},"
	"\"done\":{\"type\":\"integer\",\"minimum\":0},"
	"\"running\":{\"type\":\"integer\",\"minimum\":0},"
	"\"success\":{\"type\":\"integer\",\"minimum\":0},"
	"\"failed\":{\"type\":\"integer\",\"minimum\":0},"
	"\"skipped\":{\"type\":\"integer\",\"minimum\":0},"
	"\"cancelled\":{\"type\":\"integer\",\"minimum\":0},"
	"\"created_us\":{\"type\":\"integer\"},"
	"\"started_us\":{\"type\":\"integer\"},"
	"\"ended_us\":{\"type\":\"integer\"},"
	"\"created_local\":{\"type\":\"string\"},"
	"\"started_local\":{\"type\":\"string\"},"
	"\"ended_local\":{\"type\":\"string\"},"
	"\"created_by\":{\"type\":[\"string\",\"null\"]},"
	"\"result\":{\"type\":[\"string\",\"null\"]},"
	"\"failed_partitions\":{\"type\":\"array\",\"maxItems\":20,"
	"\"items\":{\"type\":\"string\"}}}}},"
	READ_SCHEMA_CURSOR "}}";

static json_t *
read_bf_json(const struct read_ctx *ctx, const struct bf_info *b)
{
	const struct job_def *job;
	char	c[64], s[64], e[64];

	job = read_ctx_job(ctx, b->job);
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s?, "
	    "s:s?}",
	    "id", (json_int_t)b->id, "job", b->job, "state", b->state,
	    "from", b->from_key, "to", b->to_key, "reprocess", b->reprocess,
	    "max_active_runs", b->max_active_runs, "reverse", b->reverse,
	    "total", (json_int_t)b->total, "done", (json_int_t)(b->success +
	    b->failed + b->skipped + b->cancelled), "running",
	    (json_int_t)b->running, "success", (json_int_t)b->success,
	    "failed", (json_int_t)b->failed, "skipped",
	    (json_int_t)b->skipped, "cancelled", (json_int_t)b->cancelled,
	    "created_us", (json_int_t)b->created_us,
	    "started_us", (json_int_t)b->started_us,
	    "ended_us", (json_int_t)b->ended_us,
	    "created_local", read_time_local(ctx->utc, job, b->created_us, c,
	    sizeof c),
	    "started_local", read_time_local(ctx->utc, job, b->started_us, s,
	    sizeof s),
	    "ended_local", read_time_local(ctx->utc, job, b->ended_us, e,
	    sizeof e),
	    "created_by", b->created_by, "result", b->result);
}

/* One backfill, with its first failed partitions. */
static json_t *
read_backfills_one(struct read_ctx *ctx, int64_t id, struct read_error *err)
{
	struct bf_info	 b;
	sqlite3_stmt	*stmt = NULL;
	json_t		*row, *failed;
	char		*cause = NULL;
	int		 rc;

	if ((rc = bf_get(ctx->st, id, &b, &cause)) != 0) {
		if (rc < 0) {
			read_fail(err, 503, "%s", cause);
			free(cause);
			return NULL;
		}
		return read_fail(err, 404, "no backfill %lld (see 'meshctl "
		    "backfills')", (long long)id);
	}
	row = read_bf_json(ctx, &b);
	bf_info_free(&b);
	failed = json_array();
	json_object_set_new(row, "failed_partitions", failed);
	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT partition_key "
	    "FROM backfill_partitions INDEXED BY backfill_partitions_state "
	    "WHERE backfill_id = ?1 AND state = 'failed' ORDER BY seq LIMIT ?2",
	    -1, &stmt, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int(stmt, 2, READ_BACKFILLS_FAILED);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		json_array_append_new(failed, json_string(read_col(stmt, 0)));
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(stmt);
	return json_pack("{s:[o], s:n}", "backfills", row, "next_cursor");
fail:
	read_fail_state(err, ctx->st);
	sqlite3_finalize(stmt);
	json_decref(row);
	return NULL;
}

json_t *
read_backfills(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*name = read_arg(args, "job");
	const char	*state = read_arg(args, "state");
	const char	*cursor_arg = read_arg(args, "cursor");
	const struct job_def *def;
	struct read_cursor cur = { 0 };
	struct bf_info	 b;
	sqlite3_stmt	*stmt = NULL;
	json_t		*doc = NULL, *arr, *next = NULL;
	int64_t		 id, limit, job_id, n = 0, last = 0;
	size_t		 i;
	int		 rc;

	if (read_arg_int(args, "id", 1, INT64_MAX, 0, &id, err) != 0)
		return NULL;
	if (id != 0 && (name != NULL || state != NULL || cursor_arg != NULL))
		return read_fail(err, 400, "id: one backfill: not with job, "
		    "state or cursor");
	if (state != NULL) {
		for (i = 0; i < nitems(read_bf_states); i++)
			if (strcmp(state, read_bf_states[i]) == 0)
				break;
		if (i == nitems(read_bf_states))
			return read_fail(err, 400, "state: '%s' is not one of "
			    "pending, running, cancelling, success, failed, "
			    "cancelled", state);
	}
	if (read_arg_int(args, "limit", 1, READ_LIMIT_MAX,
	    READ_BACKFILLS_DEFAULT, &limit, err) != 0)
		return NULL;
	if (cursor_arg != NULL && read_cursor_parse(cursor_arg, 1, &cur,
	    err) != 0)
		return NULL;
	if (read_need_state(ctx, err) != 0)
		goto out;
	if (id != 0) {
		doc = read_backfills_one(ctx, id, err);
		goto out;
	}
	/* An unknown job is an error, not an empty list. */
	if (name != NULL && read_job(ctx, name, &job_id, &def, err) != 0)
		goto out;
	/* Newest first through backfills_job or backfills_state (or the
	 * primary key), from the cursor: no scan, however many there are. */
	if (read_prepare(ctx, &stmt, err, "SELECT " BF_COLUMNS " FROM backfills WHERE 1%s%s%s "
	    "ORDER BY id DESC LIMIT ?3", name != NULL ? " AND job = ?1" : "",
	    state != NULL ? " AND state = ?2" : "",
	    cursor_arg != NULL ? " AND id < ?4" : "") != 0)
		goto out;
	if (name != NULL)
		sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if (state != NULL)
		sqlite3_bind_text(stmt, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, limit + 1);
	if (cursor_arg != NULL)
		sqlite3_bind_int64(stmt, 4, cur.i[0]);
	arr = json_array();
	doc = json_pack("{s:o}", "backfills", arr);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n++ == limit) {
			next = read_cursor_int(last);
			break;
		}
		bf_row(stmt, &b);
		last = b.id;
		json_array_append_new(arr, read_bf_json(ctx, &b));
		bf_info_free(&b);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(doc);
		doc = read_fail_state(err, ctx->st);
		goto out;
	}
	json_object_set_new(doc, "next_cursor", next != NULL ? next :
	    json_null());
	next = NULL;
out:
	json_decref(next);
	sqlite3_finalize(stmt);
	read_cursor_free(&cur);
	return doc;
}

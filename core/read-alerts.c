/*
 * read-alerts.c -- alerts: the alert outbox newest first (failure,
 * quarantine, retry, recovery, late) with how delivery went, and the
 * counts by state.  A page walks alert_outbox_job, alert_outbox_pending
 * or the primary key down from the cursor (seq).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "job.h"
#include "read-int.h"
#include "state.h"
#include "util.h"

const struct read_param read_alerts_params[] = {
	{ "job", "string", 0, "only the alerts of this job" },
	{ "state", "string", 0, "only alerts in this state (pending, "
	    "delivered, failed)" },
	READ_PARAMS_PAGE,
	{ NULL, NULL, 0, NULL }
};

const char read_alerts_schema[] =
	"{\"type\":\"object\",\"required\":[\"alerts\",\"counts\","
	"\"next_cursor\"],\"additionalProperties\":false,\"properties\":{"
	"\"alerts\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"seq\",\"event_id\",\"event\",\"job\",\"partition\","
	"\"run_id\",\"state\",\"attempts\",\"created_us\",\"next_try_us\","
	"\"delivered_us\",\"created_local\",\"next_try_local\","
	"\"delivered_local\",\"last_error\",\"hook\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"seq\":{\"type\":\"integer\"},"
	"\"event_id\":{\"type\":\"string\"},"
	"\"event\":{\"enum\":[\"failure\",\"quarantine\",\"retry\","
	"\"recovery\",\"late\"]},"
	"\"job\":{\"type\":\"string\"},"
	"\"partition\":{\"type\":[\"string\",\"null\"]},"
	"\"run_id\":{\"type\":[\"integer\",\"null\"]},"
	"\"state\":{\"enum\":[\"pending\",\"delivered\",\"failed\"]},"
	"\"attempts\":{\"type\":\"integer\",\"minimum\":0},"
	"\"created_us\":{\"type\":\"integer\"},"
	"\"next_try_us\":{\"type\":\"integer\"},"
	"\"delivered_us\":{\"type\":\"integer\"},"
	"\"created_local\":{\"type\":\"string\"},"
	"\"next_try_local\":{\"type\":\"string\"},"
	"\"delivered_local\":{\"type\":\"string\"},"
	"\"last_error\":{\"type\":[\"string\",\"null\"]},"
	"\"hook\":{\"type\":[\"object\",\"null\"]}}}},"
	"\"counts\":{\"type\":\"object\",\"required\":[\"pending\","
	"\"delivered\",\"failed\"],\"additionalProperties\":false,"
	"\"properties\":{"
	"\"pending\":{\"type\":\"integer\",\"minimum\":0},"
	"\"delivered\":{\"type\":\"integer\",\"minimum\":0},"
	"\"failed\":{\"type\":\"integer\",\"minimum\":0}}},"
	READ_SCHEMA_CURSOR "}}";

static json_t *
read_alerts_row(const struct read_ctx *ctx, sqlite3_stmt *stmt)
{
	const struct job_def *job;
	const char	*state = read_col(stmt, 6);
	json_t		*hook;
	char		 c[64], t[64], d[64];
	int64_t		 cr, nt, dl;

	job = read_ctx_job(ctx, read_col(stmt, 3));
	hook = json_loads(read_col(stmt, 12), 0, NULL);
	/* Where it goes, never the token (which is not here anyway). */
	if (json_is_object(hook))
		json_object_del(hook, "timeout");
	else {
		json_decref(hook);
		hook = json_null();
	}
	cr = sqlite3_column_int64(stmt, 8);
	/* The next try means something only while it is pending. */
	nt = strcmp(state, "pending") == 0 ? sqlite3_column_int64(stmt, 9) : 0;
	dl = sqlite3_column_int64(stmt, 10);
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:i, s:I, s:I, "
	    "s:I, s:s, s:s, s:s, s:o, s:o}",
	    "seq", (json_int_t)sqlite3_column_int64(stmt, 0),
	    "event_id", read_col(stmt, 1), "event", read_col(stmt, 2),
	    "job", read_col(stmt, 3), "partition", read_col_json(stmt, 4),
	    "run_id", sqlite3_column_type(stmt, 5) == SQLITE_NULL ?
	    json_null() : json_integer(sqlite3_column_int64(stmt, 5)),
	    "state", state, "attempts", sqlite3_column_int(stmt, 7),
	    "created_us", (json_int_t)cr, "next_try_us", (json_int_t)nt,
	    "delivered_us", (json_int_t)dl,
	    "created_local", read_time_local(ctx->utc, job, cr, c, sizeof c),
	    "next_try_local", read_time_local(ctx->utc, job, nt, t, sizeof t),
	    "delivered_local", read_time_local(ctx->utc, job, dl, d, sizeof d),
	    "last_error", read_col_json(stmt, 11), "hook", hook);
}

/* The counts by state (of `job`): the outbox is kept small by delivery,
 * and alert_outbox_pending (state, job, seq) answers from the index. */
static json_t *
read_alerts_counts(struct read_ctx *ctx, const char *job,
    struct read_error *err)
{
	sqlite3_stmt	*stmt;
	json_t		*counts;
	int		 rc;

	if (sqlite3_prepare_v2(state_sqlite(ctx->st), job != NULL ?
	    "SELECT state, count(*) FROM alert_outbox WHERE job = ?1 GROUP BY "
	    "state" : "SELECT state, count(*) FROM alert_outbox GROUP BY state",
	    -1, &stmt, NULL) != SQLITE_OK)
		return read_fail_state(err, ctx->st);
	if (job != NULL)
		sqlite3_bind_text(stmt, 1, job, -1, SQLITE_STATIC);
	counts = json_pack("{s:i, s:i, s:i}", "pending", 0, "delivered", 0,
	    "failed", 0);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		json_object_set_new(counts, read_col(stmt, 0), json_integer(
		    sqlite3_column_int64(stmt, 1)));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		json_decref(counts);
		return read_fail_state(err, ctx->st);
	}
	return counts;
}

json_t *
read_alerts(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*job = read_arg(args, "job");
	const char	*state = read_arg(args, "state");
	const char	*cursor_arg = read_arg(args, "cursor");
	struct read_cursor cur = { 0 };
	sqlite3_stmt	*stmt = NULL;
	json_t		*doc = NULL, *arr, *counts, *next = NULL;
	int64_t		 limit, n = 0, last = 0;
	int		 rc;

	if (state != NULL && strcmp(state, "pending") != 0 &&
	    strcmp(state, "delivered") != 0 && strcmp(state, "failed") != 0)
		return read_fail(err, 400, "state: unknown alert state '%s' "
		    "(pending, delivered, failed)", state);
	if (read_arg_limit(args, &limit, err) != 0)
		return NULL;
	if (cursor_arg != NULL && read_cursor_parse(cursor_arg, 1, &cur,
	    err) != 0)
		return NULL;
	if (read_need_state(ctx, err) != 0)
		goto out;
	if (read_prepare(ctx, &stmt, err, "SELECT seq, event_id, event, job, partition_key, "
	    "run_id, state, attempts, created_us, next_try_us, delivered_us, "
	    "last_error, hook FROM alert_outbox WHERE 1%s%s%s ORDER BY seq "
	    "DESC LIMIT ?3", job != NULL ? " AND job = ?1" : "",
	    state != NULL ? " AND state = ?2" : "",
	    cursor_arg != NULL ? " AND seq < ?4" : "") != 0)
		goto out;
	if (job != NULL)
		sqlite3_bind_text(stmt, 1, job, -1, SQLITE_STATIC);
	if (state != NULL)
		sqlite3_bind_text(stmt, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, limit + 1);
	if (cursor_arg != NULL)
		sqlite3_bind_int64(stmt, 4, cur.i[0]);
	arr = json_array();
	doc = json_pack("{s:o}", "alerts", arr);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n++ == limit) {
			next = read_cursor_int(last);
			break;
		}
		last = sqlite3_column_int64(stmt, 0);
		json_array_append_new(arr, read_alerts_row(ctx, stmt));
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(doc);
		doc = read_fail_state(err, ctx->st);
		goto out;
	}
	if ((counts = read_alerts_counts(ctx, job, err)) == NULL) {
		json_decref(doc);
		doc = NULL;
		goto out;
	}
	json_object_set_new(doc, "counts", counts);
	json_object_set_new(doc, "next_cursor", next != NULL ? next :
	    json_null());
	next = NULL;
out:
	json_decref(next);
	sqlite3_finalize(stmt);
	read_cursor_free(&cur);
	return doc;
}

/*
 * act-backfill.c -- backfill: run a range of a job's partitions, a few at
 * a time; and backfill_cancel.
 *
 * Everything is checked before anything is written: the job, both keys (a
 * key off the schedule gets the nearest valid ones), the job's start and
 * end, the order of the range and its size.  The backfill is then created
 * whole in one transaction, request included (bf_create()).  A dry run
 * makes the same checks and says what would happen to each partition.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "act-int.h"
#include "backfill.h"
#include "job.h"
#include "request.h"
#include "schedule.h"
#include "state.h"
#include "util.h"

const struct read_param act_backfill_params[] = {
	{ "job", "string", 1, "the job" },
	{ "from", "string", 1, "first partition, a key of the job's "
	    "schedule" },
	{ "to", "string", 1, "last partition, included" },
	{ "reprocess", "string", 0, "missing (default): only partitions with "
	    "no run; failed: also failed or cancelled ones; all: every one" },
	{ "max_active_runs", "integer", 0, "partitions running at once "
	    "(default: the job's max_active_runs)" },
	{ "reverse", "boolean", 0, "newest partition first" },
	{ "yes", "boolean", 0, "allow more than 10,000,000 partitions" },
	{ "dry_run", "boolean", 0, "say what would happen to each "
	    "partition; write nothing" },
	{ NULL, NULL, 0, NULL }
};

const char act_backfill_schema[] =
	"{\"oneOf\":["
	"{\"type\":\"object\",\"required\":[" ACT_SCHEMA_REQUIRED
	",\"backfill_id\",\"from\",\"to\",\"total\",\"reprocess\","
	"\"max_active_runs\",\"reverse\"],"
	"\"additionalProperties\":false,\"properties\":{"
	ACT_SCHEMA_RECORDED ","
	"\"backfill_id\":{\"type\":\"integer\"},"
	"\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},"
	"\"total\":{\"type\":\"integer\"},"
	"\"reprocess\":{\"enum\":[\"missing\",\"failed\",\"all\"]},"
	"\"max_active_runs\":{\"type\":\"integer\"},"
	"\"reverse\":{\"type\":\"boolean\"}}},"
	"{\"type\":\"object\",\"required\":[\"dry_run\",\"kind\",\"job\","
	"\"from\",\"to\",\"total\",\"reprocess\",\"reverse\",\"counts\","
	"\"partitions\"],\"additionalProperties\":false,\"properties\":{"
	"\"dry_run\":{\"const\":true},"
	"\"kind\":{\"const\":\"backfill\"},\"job\":{\"type\":\"string\"},"
	"\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},"
	"\"total\":{\"type\":\"integer\"},"
	"\"reprocess\":{\"enum\":[\"missing\",\"failed\",\"all\"]},"
	"\"reverse\":{\"type\":\"boolean\"},"
	"\"counts\":{\"type\":\"object\",\"required\":[\"run\",\"resume\","
	"\"rerun\",\"wait\",\"skip\"],\"additionalProperties\":"
	"{\"type\":\"integer\"}},"
	"\"partitions\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"partition\",\"action\",\"reason\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"partition\":{\"type\":\"string\"},"
	"\"action\":{\"enum\":[\"run\",\"resume\",\"rerun\",\"wait\","
	"\"skip\"]},"
	"\"reason\":{\"type\":\"string\"}}}}}}]}";

/* The dry run: the state of each partition's run and what the backfill
 * would do with it (bf_decide(), as meshd does). */
static json_t *
act_backfill_dry(struct read_ctx *ctx, const struct job_def *job,
    enum bf_reprocess rp, const struct bf_key *keys, size_t n, int reverse,
    json_t *doc, struct read_error *err)
{
	sqlite3_stmt	*stmt = NULL;
	json_t		*arr, *counts;
	size_t		 i, count[BF_SKIP + 1];
	int64_t		 job_id = 0;
	char		*cause = NULL;
	int		 rc;

	memset(count, 0, sizeof count);
	/* No state yet, or a job that never ran: no partition has a run. */
	if (ctx->st != NULL && state_job_find(ctx->st, job->name, &job_id,
	    &cause) != 0) {
		free(cause);
		job_id = 0;
	}
	if (job_id != 0 && sqlite3_prepare_v2(state_sqlite(ctx->st),
	    "SELECT state FROM runs WHERE job_id = ? AND partition_key = ?",
	    -1, &stmt, NULL) != SQLITE_OK) {
		json_decref(doc);
		return read_fail_state(err, ctx->st);
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		const struct bf_key *k = &keys[reverse ? n - 1 - i : i];
		const char	*why;
		char		*s = NULL;
		enum bf_action	 a;

		if (stmt != NULL) {
			sqlite3_bind_int64(stmt, 1, job_id);
			sqlite3_bind_text(stmt, 2, k->key, -1, SQLITE_STATIC);
			if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
				s = xstrdup((const char *)sqlite3_column_text(
				    stmt, 0));
			else if (rc != SQLITE_DONE) {
				json_decref(arr);
				json_decref(doc);
				read_fail_state(err, ctx->st);
				sqlite3_finalize(stmt);
				return NULL;
			}
			sqlite3_reset(stmt);
		}
		a = bf_decide(s, rp, &why);
		count[a]++;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}",
		    "partition", k->key, "action", bf_action_name(a),
		    "reason", why));
		free(s);
	}
	sqlite3_finalize(stmt);
	counts = json_object();
	for (i = 0; i <= BF_SKIP; i++)
		json_object_set_new(counts, bf_action_name((enum bf_action)i),
		    json_integer((json_int_t)count[i]));
	json_object_set_new(doc, "counts", counts);
	json_object_set_new(doc, "partitions", arr);
	return doc;
}

json_t *
act_backfill(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const struct job_def *job;
	const char	*from = read_arg(args, "from"), *to = read_arg(args,
			    "to"), *rps = read_arg(args, "reprocess");
	const char	*which = NULL;
	struct bf_spec	 sp;
	struct bf_key	*keys = NULL;
	char		*fkey = NULL, *tkey = NULL, *cause = NULL;
	int64_t		 fs, fe, ts, te, id, rid, max_active;
	size_t		 n = 0;
	int		 dry, yes, reverse;
	enum bf_reprocess rp = BF_MISSING;
	json_t		*doc = NULL;

	if (rps != NULL && bf_reprocess_parse(rps, &rp) != 0)
		return read_fail(err, 400, "--reprocess: '%s' is not one of "
		    "missing, failed, all", rps);
	if (act_number(args, "max_active_runs", 1, 100000, 0, &max_active,
	    err) != 0 || act_bool(args, "dry_run", &dry, err) != 0 ||
	    act_bool(args, "yes", &yes, err) != 0 ||
	    act_bool(args, "reverse", &reverse, err) != 0)
		return NULL;
	if ((job = act_job(ctx, read_arg(args, "job"), err)) == NULL)
		return NULL;
	if (!job_has_schedule(job))
		return read_fail(err, 400, "%s has no schedule, so no range of "
		    "partitions to backfill; run one with 'meshctl trigger %s "
		    "--partition KEY'", job->name, job->name);
	if (job_parse_key(job, from, &fs, &fe, &fkey, &cause) != 0 ||
	    job_parse_key(job, to, &ts, &te, &tkey, &cause) != 0) {
		read_fail(err, 400, "--%s: %s", fkey == NULL ? "from" : "to",
		    cause);
		goto out;
	}
	/* A range outside the job's partitions is a mistake to name, not
	 * an empty backfill: "0 partitions" with exit 0 hid a typo. */
	if (fs < 0 || ts < 0) {
		read_fail(err, 400, "--%s %s is before 1970-01-01: partitions "
		    "start at the Unix epoch", fs < 0 ? "from" : "to", fs < 0 ?
		    fkey : tkey);
		goto out;
	}
	/* The job's start and end hold for a backfill as for a trigger (the
	 * same check); a range partly outside is refused, not clipped, so
	 * that what runs is what was typed.  meshd checks again. */
	if (job_check_bounds(job, fs, fkey, &cause) != 0)
		which = "from";
	else if (job_check_bounds(job, ts, tkey, &cause) != 0)
		which = "to";
	if (which != NULL) {
		read_fail(err, 400, "--%s: %s; nothing was written", which,
		    cause);
		goto out;
	}
	if (fs > ts) {
		read_fail(err, 400, "the range is the wrong way round: --from "
		    "%s is after --to %s (swap them; --reverse runs the newest "
		    "first)", fkey, tkey);
		goto out;
	}
	/* Count first, cheaply: a typo in a year must not allocate ten
	 * million keys before it is refused. */
	if (!yes && bf_enumerate(job, fs, ts, BF_CONFIRM_OVER, NULL) >
	    (size_t)BF_CONFIRM_OVER) {
		read_fail(err, 400, "%s from %s to %s is more than 10,000,000 "
		    "partitions; add --yes if you mean it", job->name, fkey,
		    tkey);
		goto out;
	}
	n = bf_enumerate(job, fs, ts, SIZE_MAX - 1, &keys);
	if (dry) {
		doc = json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:s, s:b}",
		    "dry_run", 1, "kind", "backfill", "job", job->name,
		    "from", fkey, "to", tkey, "total", (json_int_t)n,
		    "reprocess", bf_reprocess_name(rp), "reverse", reverse);
		doc = act_backfill_dry(ctx, job, rp, keys, n, reverse, doc,
		    err);
		goto out;
	}
	if (act_state(ctx, err) == NULL)
		goto out;
	memset(&sp, 0, sizeof sp);
	sp.job = job->name;
	sp.from_key = fkey;
	sp.to_key = tkey;
	sp.reprocess = rp;
	sp.max_active_runs = max_active > 0 ? (int)max_active :
	    job->max_active_runs;
	sp.reverse = reverse;
	if (bf_create(ctx->st, &sp, keys, n, &id, &rid, &cause) != 0) {
		act_fail_cause(err, cause);
		cause = NULL;
		goto out;
	}
	doc = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:i, s:b}",
	    "request_id", (json_int_t)rid, "kind", "backfill", "job",
	    job->name, "backfill_id", (json_int_t)id, "from", fkey, "to", tkey,
	    "total", (json_int_t)n, "reprocess", bf_reprocess_name(rp),
	    "max_active_runs", sp.max_active_runs, "reverse", reverse);
	act_told(ctx, doc);
out:
	bf_keys_free(keys, n);
	free(fkey);
	free(tkey);
	free(cause);
	return doc;
}

const struct read_param act_backfill_cancel_params[] = {
	{ "id", "integer", 1, "the backfill" },
	{ "now", "boolean", 0, "also stop the partitions running" },
	{ NULL, NULL, 0, NULL }
};

const char act_backfill_cancel_schema[] =
	"{\"type\":\"object\",\"required\":[" ACT_SCHEMA_REQUIRED
	",\"backfill_id\",\"now\"],\"additionalProperties\":false,"
	"\"properties\":{" ACT_SCHEMA_RECORDED ","
	"\"backfill_id\":{\"type\":\"integer\"},"
	"\"now\":{\"type\":\"boolean\"}}}";

json_t *
act_backfill_cancel(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	struct bf_info	 b;
	char		*cause = NULL, *rargs;
	int64_t		 id;
	int		 now, rc;
	json_t		*doc;

	if (act_number(args, "id", 1, INT64_MAX, 0, &id, err) != 0 ||
	    act_bool(args, "now", &now, err) != 0)
		return NULL;
	if (act_state(ctx, err) == NULL)
		return NULL;
	if ((rc = bf_get(ctx->st, id, &b, &cause)) != 0) {
		if (rc < 0)
			return act_fail_cause(err, cause);
		return read_fail(err, 404, "no backfill %lld (see 'meshctl "
		    "backfills')", (long long)id);
	}
	if (bf_finished(&b)) {
		read_fail(err, 409, "backfill %lld has already ended (%s%s%s): "
		    "nothing to cancel", (long long)id, b.state, b.result !=
		    NULL ? ": " : "", b.result != NULL ? b.result : "");
		bf_info_free(&b);
		return NULL;
	}
	rargs = xasprintf("{\"backfill\": %lld, \"now\": %s}", (long long)id,
	    now ? "true" : "false");
	doc = act_record(ctx, "cancel", b.job, NULL, rargs, err);
	free(rargs);
	if (doc != NULL) {
		json_object_set_new(doc, "backfill_id", json_integer(id));
		json_object_set_new(doc, "now", json_boolean(now));
		act_told(ctx, doc);
	}
	bf_info_free(&b);
	return doc;
}

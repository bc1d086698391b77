/*
 * read-checks.c -- checks: the quality checks recorded for one product
 * partition's build, observed vs expected, with how many failed, and
 * where a quarantined partition's staging output is kept for inspection.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "config.h"
#include "job.h"
#include "read-int.h"
#include "read-product.h"
#include "state.h"
#include "util.h"

const struct read_param read_checks_params[] = {
	{ "product", "string", 1, "the data product" },
	{ "partition", "string", 1, "the partition key" },
	READ_PARAMS_PAGE,
	{ NULL, NULL, 0, NULL }
};

const char read_checks_schema[] =
	"{\"type\":\"object\",\"additionalProperties\":false,"
	"\"required\":[\"product\",\"partition\",\"state\",\"version\","
	"\"run_id\",\"job\",\"summary\",\"checks\",\"next_cursor\","
	"\"staging\"],\"properties\":{"
	"\"product\":{\"type\":\"string\"},"
	"\"partition\":{\"type\":\"string\"},"
	"\"state\":" READ_PARTITION_STATE_SCHEMA ","
	"\"version\":{\"type\":\"integer\"},"
	"\"run_id\":{\"type\":[\"integer\",\"null\"]},"
	"\"job\":{\"type\":[\"string\",\"null\"]},"
	"\"summary\":{\"type\":\"object\",\"additionalProperties\":false,"
	"\"required\":[\"checks\",\"passed\",\"failed_errors\","
	"\"failed_warnings\"],\"properties\":{"
	"\"checks\":{\"type\":\"integer\"},"
	"\"passed\":{\"type\":\"integer\"},"
	"\"failed_errors\":{\"type\":\"integer\"},"
	"\"failed_warnings\":{\"type\":\"integer\"}}},"
	"\"checks\":{\"type\":\"array\",\"items\":" READ_CHECK_SCHEMA "},"
	READ_SCHEMA_CURSOR ","
	"\"staging\":{\"type\":[\"object\",\"null\"],"
	"\"additionalProperties\":false,\"required\":[\"path\",\"kept\","
	"\"removed_after_us\",\"removed_after_local\"],\"properties\":{"
	"\"path\":{\"type\":\"string\"},"
	"\"kept\":{\"type\":\"boolean\"},"
	"\"removed_after_us\":{\"type\":[\"integer\",\"null\"]},"
	"\"removed_after_local\":{\"type\":\"string\"}}}}}";

/* 404 "product x has no partition 'k' (newest: a, b, c)". */
static json_t *
read_checks_nopart(struct read_ctx *ctx, const char *product, int64_t id,
    const char *key, struct read_error *err)
{
	sqlite3_stmt	*stmt;
	char		*names = NULL, *n;

	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT partition_key "
	    "FROM product_partitions WHERE product_id = ? ORDER BY "
	    "partition_key DESC LIMIT 5", -1, &stmt, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, id);
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			n = xasprintf("%s%s%s", names != NULL ? names : "",
			    names != NULL ? ", " : "", read_col(stmt, 0));
			free(names);
			names = n;
		}
		sqlite3_finalize(stmt);
	}
	read_fail(err, 404, "product %s has no partition '%s'%s%s%s", product,
	    key, names != NULL ? " (newest: " : " (it has no partition yet)",
	    names != NULL ? names : "", names != NULL ? ")" : "");
	free(names);
	return NULL;
}

/* How many checks the build has, passed and failed, over all of them
 * (not only the page): the verdict of `meshctl checks`. */
static json_t *
read_checks_summary(struct read_ctx *ctx, int64_t run_id,
    struct read_error *err)
{
	sqlite3_stmt	*stmt;
	json_t		*o;

	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT count(*), "
	    "coalesce(sum(cr.passed != 0), 0), "
	    "coalesce(sum(cr.passed = 0 AND cr.severity = 0), 0), "
	    "coalesce(sum(cr.passed = 0 AND cr.severity != 0), 0) FROM "
	    "task_instances ti JOIN attempts a ON a.task_instance_id = ti.id "
	    "JOIN check_results cr ON cr.attempt_id = a.id WHERE ti.run_id = "
	    "?1 AND a.id = (SELECT max(c2.attempt_id) FROM attempts a2 JOIN "
	    "check_results c2 ON c2.attempt_id = a2.id WHERE "
	    "a2.task_instance_id = ti.id)", -1, &stmt, NULL) != SQLITE_OK)
		return read_fail_state(err, ctx->st);
	sqlite3_bind_int64(stmt, 1, run_id);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		sqlite3_finalize(stmt);
		return read_fail_state(err, ctx->st);
	}
	o = json_pack("{s:I, s:I, s:I, s:I}",
	    "checks", (json_int_t)sqlite3_column_int64(stmt, 0),
	    "passed", (json_int_t)sqlite3_column_int64(stmt, 1),
	    "failed_errors", (json_int_t)sqlite3_column_int64(stmt, 2),
	    "failed_warnings", (json_int_t)sqlite3_column_int64(stmt, 3));
	sqlite3_finalize(stmt);
	return o;
}

/* Where the quarantined output waits (the engine's staging_dir/JOB/KEY)
 * and until when meshd keeps it; null when it is not quarantined. */
static json_t *
read_checks_staging(struct read_ctx *ctx, const struct job_def *job,
    const char *jobname, const char *key, int64_t updated)
{
	struct stat	 sb;
	char		*path, t[64];
	int		 kept, keep_s;
	int64_t		 until;
	json_t		*o;

	if (ctx->cfg == NULL || ctx->cfg->staging_dir == NULL)
		return json_null();
	keep_s = ctx->cfg->quarantine_retention_s;
	until = updated + (int64_t)keep_s * 1000000;
	path = xasprintf("%s/%s/%s", ctx->cfg->staging_dir, jobname, key);
	kept = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
	o = json_pack("{s:s, s:b, s:o, s:s}", "path", path, "kept", kept,
	    "removed_after_us", keep_s > 0 ? json_integer(until) : json_null(),
	    "removed_after_local", read_time_local(ctx->utc, job, keep_s > 0 ?
	    until : 0, t, sizeof t));
	free(path);
	return o;
}

json_t *
read_checks(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*product = read_arg(args, "product");
	const char	*key = read_arg(args, "partition");
	const char	*cursor_arg = read_arg(args, "cursor");
	const struct job_def *job = NULL;
	struct read_cursor cur = { 0 };
	sqlite3_stmt	*stmt = NULL;
	json_t		*doc = NULL, *arr, *sum, *last, *staging;
	char		*jobname = NULL;
	int64_t		 id, limit, run_id = 0, after = 0, updated;
	int		 rc, more, has_run;

	if (read_arg_limit(args, &limit, err) != 0)
		return NULL;
	if (cursor_arg != NULL) {
		if (read_cursor_parse(cursor_arg, 1, &cur, err) != 0)
			return NULL;
		after = cur.i[0];
	}
	if (read_product_find(ctx, product, &id, err) != 0)
		goto out;
	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT pp.state, "
	    "pp.version, pp.run_id, pp.updated_us, j.name FROM "
	    "product_partitions pp LEFT JOIN runs r ON r.id = pp.run_id LEFT "
	    "JOIN jobs j ON j.id = r.job_id WHERE pp.product_id = ?1 AND "
	    "pp.partition_key = ?2", -1, &stmt, NULL) != SQLITE_OK) {
		read_fail_state(err, ctx->st);
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			read_checks_nopart(ctx, product, id, key, err);
		else
			read_fail_state(err, ctx->st);
		goto out;
	}
	has_run = sqlite3_column_type(stmt, 2) != SQLITE_NULL;
	run_id = sqlite3_column_int64(stmt, 2);
	updated = sqlite3_column_int64(stmt, 3);
	if (sqlite3_column_type(stmt, 4) != SQLITE_NULL) {
		jobname = xstrdup(read_col(stmt, 4));
		job = read_ctx_job(ctx, jobname);
	}
	doc = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "product", product,
	    "partition", key, "state", read_col(stmt, 0),
	    "version", (json_int_t)sqlite3_column_int64(stmt, 1),
	    "run_id", has_run ? json_integer(run_id) : json_null(),
	    "job", jobname != NULL ? json_string(jobname) : json_null());
	sqlite3_finalize(stmt);
	stmt = NULL;

	if ((sum = read_checks_summary(ctx, run_id, err)) == NULL)
		goto fail;
	json_object_set_new(doc, "summary", sum);
	arr = json_array();
	json_object_set_new(doc, "checks", arr);
	if ((more = read_build_checks(ctx, run_id, after, limit, arr,
	    err)) < 0)
		goto fail;
	if (more) {
		last = json_array_get(arr, json_array_size(arr) - 1);
		json_object_set_new(doc, "next_cursor", read_cursor_int(
		    json_integer_value(json_object_get(last, "id"))));
	} else
		json_object_set_new(doc, "next_cursor", json_null());
	staging = json_null();
	if (strcmp(json_string_value(json_object_get(doc, "state")),
	    "quarantined") == 0 && jobname != NULL)
		staging = read_checks_staging(ctx, job, jobname, key, updated);
	json_object_set_new(doc, "staging", staging);
	goto out;
fail:
	json_decref(doc);
	doc = NULL;
out:
	sqlite3_finalize(stmt);
	read_cursor_free(&cur);
	free(jobname);
	return doc;
}

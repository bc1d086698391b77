/*
 * read-product.c -- products: every data product, one line each; and
 * product: one product's card and its partitions, newest first.  Also
 * the helpers the product questions share (read-product.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "job.h"
#include "read-int.h"
#include "read-product.h"
#include "state.h"
#include "util.h"

static const char *const read_partition_states[] = { "missing", "building",
    "published", "quarantined", "stale" };

int
read_partition_state(const char *state, struct read_error *err)
{
	size_t	i;

	if (state == NULL)
		return 0;
	for (i = 0; i < nitems(read_partition_states); i++)
		if (strcmp(state, read_partition_states[i]) == 0)
			return 0;
	read_fail(err, 400, "state: unknown partition state '%s' (missing, "
	    "building, published, quarantined, stale)", state);
	return -1;
}

int
read_product_find(struct read_ctx *ctx, const char *name, int64_t *id,
    struct read_error *err)
{
	sqlite3		*db;
	sqlite3_stmt	*stmt;
	char		*names = NULL, *n;
	int		 count = 0, rc;

	*id = 0;
	if (read_need_state(ctx, err) != 0)
		return -1;
	db = state_sqlite(ctx->st);
	if (sqlite3_prepare_v2(db, "SELECT id FROM products WHERE name = ?",
	    -1, &stmt, NULL) != SQLITE_OK) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*id = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	if (*id != 0)
		return 0;
	/* Name the products there are, as an unknown job names the jobs;
	 * the first twenty by name, from the name index. */
	if (sqlite3_prepare_v2(db, "SELECT name FROM products ORDER BY name "
	    "LIMIT 21", -1, &stmt, NULL) == SQLITE_OK) {
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			if (++count == 21) {
				n = xasprintf("%s, ...", names);
				free(names);
				names = n;
				break;
			}
			n = xasprintf("%s%s%s", names != NULL ? names : "",
			    names != NULL ? ", " : "", read_col(stmt, 0));
			free(names);
			names = n;
		}
		sqlite3_finalize(stmt);
	}
	if (names == NULL)
		read_fail(err, 404, "unknown product '%s' (the catalog is "
		    "empty: a product enters it when its job first runs)",
		    name);
	else
		read_fail(err, 404, "unknown product '%s' (products: %s)", name,
		    names);
	free(names);
	return -1;
}

static json_t *
read_int_or_null(sqlite3_stmt *stmt, int i)
{
	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(stmt, i));
}

json_t *
read_product_row(struct read_ctx *ctx, sqlite3_stmt *stmt, int card,
    const struct job_def **jobp)
{
	const struct job_def *job = NULL;
	int64_t		 slo = sqlite3_column_int64(stmt, 6);
	int64_t		 late = sqlite3_column_int64(stmt, 7);
	int		 has_job = sqlite3_column_type(stmt, 8) != SQLITE_NULL;
	int		 has_pub = sqlite3_column_type(stmt, 9) != SQLITE_NULL;
	char		 t[64];
	json_t		*o;

	if (has_job)
		job = read_ctx_job(ctx, read_col(stmt, 8));
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:s, s:b, s:I, "
	    "s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:I, s:o, s:o, s:s}",
	    "product", read_col(stmt, 1),
	    "domain", read_col(stmt, 2),
	    "owner", read_col(stmt, 3),
	    "description", read_col_json(stmt, 4),
	    "contract_version", read_col_json(stmt, 5),
	    "job", read_col_json(stmt, 8),
	    "freshness_s", (json_int_t)slo,
	    "freshness", slo <= 0 ? "no SLO" : late == 0 ? "on time" : "late",
	    "late", slo > 0 && late > 0,
	    "late_count", (json_int_t)late,
	    "late_unpublished", (json_int_t)sqlite3_column_int64(stmt, 16),
	    "counts",
	    "missing", (json_int_t)sqlite3_column_int64(stmt, 11),
	    "building", (json_int_t)sqlite3_column_int64(stmt, 12),
	    "published", (json_int_t)sqlite3_column_int64(stmt, 13),
	    "quarantined", (json_int_t)sqlite3_column_int64(stmt, 14),
	    "stale", (json_int_t)sqlite3_column_int64(stmt, 15),
	    "rows", (json_int_t)sqlite3_column_int64(stmt, 17),
	    "last_published_partition", read_col_json(stmt, 9),
	    "last_published_us", has_pub ? read_int_or_null(stmt, 10) :
	    json_null(),
	    "last_published_local", read_time_local(ctx->utc, job, has_pub ?
	    sqlite3_column_int64(stmt, 10) : 0, t, sizeof t));
	if (card) {
		json_object_set_new(o, "tags", read_col_json(stmt, 18));
		json_object_set_new(o, "location", read_col_json(stmt, 19));
		json_object_set_new(o, "plugin", read_col_json(stmt, 20));
	}
	if (jobp != NULL)
		*jobp = job;
	return o;
}

json_t *
read_failed_checks(struct read_ctx *ctx, int64_t attempt_id,
    struct read_error *err)
{
	sqlite3_stmt	*stmt;
	json_t		*arr;
	int		 rc;

	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT name, observed, "
	    "expectation FROM check_results WHERE attempt_id = ?1 AND passed "
	    "= 0 AND severity = 0 ORDER BY id LIMIT ?2", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return read_fail_state(err, ctx->st);
	sqlite3_bind_int64(stmt, 1, attempt_id);
	sqlite3_bind_int(stmt, 2, READ_FAILED_CHECKS_MAX);
	arr = json_array();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:o, s:o}",
		    "check", read_col(stmt, 0),
		    "observed", sqlite3_column_type(stmt, 1) == SQLITE_NULL ?
		    json_null() : json_real(sqlite3_column_double(stmt, 1)),
		    "expected", read_col_json(stmt, 2)));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return read_fail_state(err, ctx->st);
	}
	return arr;
}

int
read_build_checks(struct read_ctx *ctx, int64_t run_id, int64_t after,
    int64_t limit, json_t *arr, struct read_error *err)
{
	sqlite3_stmt	*stmt;
	int64_t		 n = 0;
	int		 rc, more = 0;

	/* Task instances of the run, then the newest attempt of each that
	 * recorded checks, then its checks (check_results_attempt): the
	 * size of one build, never of the history. */
	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT cr.id, "
	    "ti.task_id, a.try_number, cr.name, cr.severity, cr.passed, "
	    "cr.observed, cr.expectation, cr.recorded_us FROM task_instances "
	    "ti JOIN attempts a ON a.task_instance_id = ti.id JOIN "
	    "check_results cr ON cr.attempt_id = a.id WHERE ti.run_id = ?1 "
	    "AND a.id = (SELECT max(c2.attempt_id) FROM attempts a2 JOIN "
	    "check_results c2 ON c2.attempt_id = a2.id WHERE "
	    "a2.task_instance_id = ti.id) AND cr.id > ?2 ORDER BY cr.id "
	    "LIMIT ?3", -1, &stmt, NULL) != SQLITE_OK) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, run_id);
	sqlite3_bind_int64(stmt, 2, after);
	sqlite3_bind_int64(stmt, 3, limit + 1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n++ == limit) {
			more = 1;
			break;
		}
		json_array_append_new(arr, json_pack("{s:I, s:s, s:i, s:s, s:s, "
		    "s:b, s:o, s:o, s:I}",
		    "id", (json_int_t)sqlite3_column_int64(stmt, 0),
		    "task", read_col(stmt, 1),
		    "attempt", sqlite3_column_int(stmt, 2),
		    "check", read_col(stmt, 3),
		    "severity", sqlite3_column_int(stmt, 4) == 0 ? "error" :
		    "warn",
		    "passed", sqlite3_column_int(stmt, 5) != 0,
		    "observed", sqlite3_column_type(stmt, 6) == SQLITE_NULL ?
		    json_null() : json_real(sqlite3_column_double(stmt, 6)),
		    "expected", read_col_json(stmt, 7),
		    "recorded_us", (json_int_t)sqlite3_column_int64(stmt, 8)));
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	return more;
}

/* ------------------------------------------------------------ products */

const struct read_param read_products_params[] = {
	{ "domain", "string", 0, "only the products of this domain" },
	READ_PARAMS_PAGE,
	{ NULL, NULL, 0, NULL }
};

const char read_products_schema[] =
	"{\"type\":\"object\",\"required\":[\"products\",\"next_cursor\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"domain\":{\"type\":\"string\"},"
	"\"products\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"additionalProperties\":false,"
	"\"required\":[" READ_PRODUCT_SCHEMA_REQUIRED "],"
	"\"properties\":{" READ_PRODUCT_SCHEMA_PROPS "}}},"
	READ_SCHEMA_CURSOR "}}";

json_t *
read_products(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*domain = read_arg(args, "domain");
	const char	*cursor_arg = read_arg(args, "cursor");
	const char	*parts[1];
	struct read_cursor cur = { 0 };
	sqlite3_stmt	*stmt = NULL;
	json_t		*doc = NULL, *arr, *next = NULL;
	int64_t		 limit, n = 0;
	int		 rc;

	if (read_arg_limit(args, &limit, err) != 0)
		return NULL;
	if (cursor_arg != NULL && read_cursor_parse(cursor_arg, 1, &cur,
	    err) != 0)
		return NULL;
	if (read_need_state(ctx, err) != 0)
		goto out;
	/* By name, from the name's unique index, a page at a time. */
	if (read_prepare(ctx, &stmt, err, "SELECT " READ_PRODUCT_COLS " FROM products p LEFT "
	    "JOIN jobs j ON j.id = p.job_id WHERE 1%s%s ORDER BY p.name "
	    "LIMIT ?3", domain != NULL ? " AND p.domain = ?1" : "",
	    cursor_arg != NULL ? " AND p.name > ?2" : "") != 0)
		goto out;
	if (domain != NULL)
		sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_STATIC);
	if (cursor_arg != NULL)
		sqlite3_bind_text(stmt, 2, cur.s[0], -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, limit + 1);
	arr = json_array();
	doc = json_pack("{s:o}", "products", arr);
	if (domain != NULL)
		json_object_set_new(doc, "domain", json_string(domain));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n++ == limit) {
			parts[0] = json_string_value(json_object_get(
			    json_array_get(arr, (size_t)limit - 1), "product"));
			next = read_cursor_make(1, parts);
			break;
		}
		json_array_append_new(arr, read_product_row(ctx, stmt, 0,
		    NULL));
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

/* ------------------------------------------------------------ product */

const struct read_param read_product_params[] = {
	{ "product", "string", 1, "the data product" },
	{ "state", "string", 0, "only partitions in this state (missing, "
	    "building, published, quarantined, stale)" },
	READ_PARAMS_PAGE,
	{ NULL, NULL, 0, NULL }
};

#define READ_RERUN_SCHEMA						\
	"{\"type\":[\"object\",\"null\"],\"additionalProperties\":false,"\
	"\"required\":[\"state\",\"run_id\",\"at_us\",\"at_local\","	\
	"\"failed_checks\"],\"properties\":{"				\
	"\"state\":{\"const\":\"quarantined\"},"			\
	"\"run_id\":{\"type\":\"integer\"},"				\
	"\"at_us\":{\"type\":\"integer\"},"				\
	"\"at_local\":{\"type\":\"string\"},"				\
	"\"failed_checks\":" READ_FAILED_CHECKS_SCHEMA "}}"

const char read_product_schema[] =
	"{\"type\":\"object\",\"additionalProperties\":false,"
	"\"required\":[" READ_PRODUCT_SCHEMA_REQUIRED ",\"tags\","
	"\"location\",\"plugin\",\"partitions\",\"next_cursor\","
	"\"checks_partition\",\"checks\"],"
	"\"properties\":{" READ_PRODUCT_SCHEMA_PROPS ","
	READ_PRODUCT_SCHEMA_CARD_PROPS ","
	"\"state\":" READ_PARTITION_STATE_SCHEMA ","
	"\"partitions\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"additionalProperties\":false,\"required\":[\"partition\","
	"\"state\",\"version\",\"rows\",\"published_us\",\"published_local\","
	"\"due_us\",\"due_local\",\"late_us\",\"late\",\"run_id\","
	"\"failed_checks\",\"rerun\"],\"properties\":{"
	"\"partition\":{\"type\":\"string\"},"
	"\"state\":" READ_PARTITION_STATE_SCHEMA ","
	"\"version\":{\"type\":\"integer\"},"
	"\"rows\":{\"type\":[\"integer\",\"null\"]},"
	"\"published_us\":{\"type\":[\"integer\",\"null\"]},"
	"\"published_local\":{\"type\":\"string\"},"
	"\"due_us\":{\"type\":[\"integer\",\"null\"]},"
	"\"due_local\":{\"type\":\"string\"},"
	"\"late_us\":{\"type\":[\"integer\",\"null\"]},"
	"\"late\":{\"type\":\"boolean\"},"
	"\"run_id\":{\"type\":[\"integer\",\"null\"]},"
	"\"failed_checks\":" READ_FAILED_CHECKS_SCHEMA ","
	"\"rerun\":" READ_RERUN_SCHEMA "}}},"
	READ_SCHEMA_CURSOR ","
	"\"checks_partition\":{\"type\":[\"string\",\"null\"]},"
	"\"checks\":{\"type\":\"array\",\"items\":" READ_CHECK_SCHEMA "},"
	"\"checks_more\":{\"type\":\"boolean\"}}}";

/* One partition of the current row of the partitions query below. */
static json_t *
read_product_partition(struct read_ctx *ctx, const struct job_def *job,
    sqlite3_stmt *stmt, struct read_error *err)
{
	const char	*s = read_col(stmt, 1);
	int		 quar = strcmp(s, "quarantined") == 0;
	int		 rerun = sqlite3_column_type(stmt, 9) != SQLITE_NULL;
	char		 a[64], b[64], c[64];
	json_t		*o, *why, *rwhy;

	/* A quarantined partition says why; so does a published one whose
	 * rerun was quarantined (the published version stays current). */
	why = quar ? read_failed_checks(ctx, sqlite3_column_int64(stmt, 8),
	    err) : json_array();
	if (why == NULL)
		return NULL;
	o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:s, s:o, s:s, s:o, s:b, "
	    "s:o, s:o}",
	    "partition", read_col(stmt, 0),
	    "state", s,
	    "version", (json_int_t)sqlite3_column_int64(stmt, 4),
	    "rows", read_int_or_null(stmt, 3),
	    "published_us", read_int_or_null(stmt, 2),
	    "published_local", read_time_local(ctx->utc, job,
	    sqlite3_column_int64(stmt, 2), a, sizeof a),
	    "due_us", read_int_or_null(stmt, 5),
	    "due_local", read_time_local(ctx->utc, job,
	    sqlite3_column_int64(stmt, 5), b, sizeof b),
	    "late_us", read_int_or_null(stmt, 6),
	    "late", sqlite3_column_type(stmt, 6) != SQLITE_NULL,
	    "run_id", read_int_or_null(stmt, 7),
	    "failed_checks", why);
	if (!rerun) {
		json_object_set_new(o, "rerun", json_null());
		return o;
	}
	if ((rwhy = read_failed_checks(ctx, sqlite3_column_int64(stmt, 10),
	    err)) == NULL) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "rerun", json_pack("{s:s, s:I, s:I, s:s, s:o}",
	    "state", "quarantined",
	    "run_id", (json_int_t)sqlite3_column_int64(stmt, 9),
	    "at_us", (json_int_t)sqlite3_column_int64(stmt, 11),
	    "at_local", read_time_local(ctx->utc, job,
	    sqlite3_column_int64(stmt, 11), c, sizeof c),
	    "failed_checks", rwhy));
	return o;
}

json_t *
read_product(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*name = read_arg(args, "product");
	const char	*state = read_arg(args, "state");
	const char	*cursor_arg = read_arg(args, "cursor");
	const char	*parts[1];
	const struct job_def *job = NULL;
	struct read_cursor cur = { 0 };
	sqlite3_stmt	*stmt = NULL;
	json_t		*doc = NULL, *arr, *checks, *p, *next = NULL;
	int64_t		 id, limit, n = 0, newest_run = 0;
	char		*sql;
	int		 rc, more;

	if (read_partition_state(state, err) != 0 ||
	    read_arg_limit(args, &limit, err) != 0)
		return NULL;
	if (cursor_arg != NULL && read_cursor_parse(cursor_arg, 1, &cur,
	    err) != 0)
		return NULL;
	if (read_product_find(ctx, name, &id, err) != 0)
		goto out;
	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT "
	    READ_PRODUCT_COLS " FROM products p LEFT JOIN jobs j ON j.id = "
	    "p.job_id WHERE p.id = ?1", -1, &stmt, NULL) != SQLITE_OK) {
		read_fail_state(err, ctx->st);
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, id);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		read_fail_state(err, ctx->st);
		goto out;
	}
	doc = read_product_row(ctx, stmt, 1, &job);
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (state != NULL)
		json_object_set_new(doc, "state", json_string(state));

	/*
	 * Newest first, a page at a time from the cursor: the
	 * (product_id, partition_key) index, or with a state the
	 * (product_id, state, partition_key) one (schema version 9), so a
	 * page costs O(page) however many partitions lie before it.
	 */
	sql = xasprintf("SELECT partition_key, state, published_us, \"rows\", "
	    "version, due_us, late_us, run_id, attempt_id, CASE WHEN state = "
	    "'published' THEN rerun_run_id END, rerun_attempt_id, rerun_us "
	    "FROM product_partitions WHERE product_id = ?1%s%s ORDER BY "
	    "partition_key DESC LIMIT ?4",
	    state != NULL ? " AND state = ?2" : "",
	    cursor_arg != NULL ? " AND partition_key < ?3" : "");
	rc = sqlite3_prepare_v2(state_sqlite(ctx->st), sql, -1, &stmt, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_int64(stmt, 1, id);
	if (state != NULL)
		sqlite3_bind_text(stmt, 2, state, -1, SQLITE_STATIC);
	if (cursor_arg != NULL)
		sqlite3_bind_text(stmt, 3, cur.s[0], -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, limit + 1);
	arr = json_array();
	json_object_set_new(doc, "partitions", arr);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n++ == limit) {
			parts[0] = json_string_value(json_object_get(
			    json_array_get(arr, (size_t)limit - 1),
			    "partition"));
			next = read_cursor_make(1, parts);
			break;
		}
		if (newest_run == 0 && json_array_size(arr) == 0) {
			newest_run = sqlite3_column_int64(stmt, 7);
			json_object_set_new(doc, "checks_partition",
			    json_string(read_col(stmt, 0)));
		}
		if ((p = read_product_partition(ctx, job, stmt, err)) == NULL)
			goto fail;
		json_array_append_new(arr, p);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(stmt);
	stmt = NULL;
	json_object_set_new(doc, "next_cursor", next != NULL ? next :
	    json_null());
	next = NULL;
	if (json_object_get(doc, "checks_partition") == NULL)
		json_object_set_new(doc, "checks_partition", json_null());
	/* The checks of the newest build shown: what a product page shows
	 * beside the partitions (`checks` has any other). */
	checks = json_array();
	json_object_set_new(doc, "checks", checks);
	if (newest_run != 0) {
		more = read_build_checks(ctx, newest_run, 0,
		    READ_PRODUCT_CHECKS_MAX, checks, err);
		if (more < 0)
			goto fail;
		if (more)
			json_object_set_new(doc, "checks_more", json_true());
	}
	goto out;
sqlerr:
	read_fail_state(err, ctx->st);
fail:
	json_decref(doc);
	json_decref(next);
	doc = NULL;
out:
	sqlite3_finalize(stmt);
	read_cursor_free(&cur);
	return doc;
}

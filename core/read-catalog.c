/*
 * read-catalog.c -- catalog: the data products by domain, each with its
 * owner, contract, freshness and partition counts, and its quarantined
 * partitions with the checks that failed: what a consumer asks before
 * reading a product, and the web UI's catalog page.
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

const struct read_param read_catalog_params[] = {
	{ "domain", "string", 0, "only the products of this domain" },
	READ_PARAMS_PAGE,
	{ NULL, NULL, 0, NULL }
};

const char read_catalog_schema[] =
	"{\"type\":\"object\",\"required\":[\"products\",\"next_cursor\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"domain\":{\"type\":\"string\"},"
	"\"products\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"additionalProperties\":false,"
	"\"required\":[" READ_PRODUCT_SCHEMA_REQUIRED ","
	"\"quarantined_partitions\",\"quarantined_more\"],"
	"\"properties\":{" READ_PRODUCT_SCHEMA_PROPS ","
	"\"quarantined_partitions\":{\"type\":\"array\",\"items\":{"
	"\"type\":\"object\",\"additionalProperties\":false,"
	"\"required\":[\"partition\",\"state\",\"rerun\",\"version\","
	"\"run_id\",\"at_us\",\"at_local\",\"failed_checks\"],"
	"\"properties\":{"
	"\"partition\":{\"type\":\"string\"},"
	"\"state\":{\"enum\":[\"quarantined\",\"published\"]},"
	"\"rerun\":{\"type\":\"boolean\"},"
	"\"version\":{\"type\":\"integer\"},"
	"\"run_id\":{\"type\":[\"integer\",\"null\"]},"
	"\"at_us\":{\"type\":\"integer\"},"
	"\"at_local\":{\"type\":\"string\"},"
	"\"failed_checks\":" READ_FAILED_CHECKS_SCHEMA "}}},"
	"\"quarantined_more\":{\"type\":\"boolean\"}}}},"
	READ_SCHEMA_CURSOR "}}";

/*
 * The newest READ_CATALOG_QUARANTINED_MAX partitions of product `id`
 * held back by their checks: quarantined ones, and published ones whose
 * rerun was quarantined (the published version stays what consumers
 * read).  Each side walks an index from the newest key
 * (product_partitions_product_state_key, product_partitions_rerun:
 * named, as SQLite would rather read every published partition).
 */
static int
read_catalog_quarantined(struct read_ctx *ctx, int64_t id,
    const struct job_def *job, json_t *product, struct read_error *err)
{
	sqlite3_stmt	*stmt;
	json_t		*arr, *why;
	char		 t[64];
	int		 rc, n = 0, rerun;
	int64_t		 at;

	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT * FROM ("
	    "SELECT partition_key, state, version, run_id, attempt_id, "
	    "updated_us FROM product_partitions WHERE product_id = ?1 AND "
	    "state = 'quarantined' ORDER BY partition_key DESC LIMIT ?2) "
	    "UNION ALL SELECT * FROM (SELECT partition_key, state, version, "
	    "rerun_run_id, rerun_attempt_id, rerun_us FROM product_partitions "
	    "INDEXED BY product_partitions_rerun WHERE product_id = ?1 AND rerun_run_id IS NOT NULL AND state = "
	    "'published' ORDER BY partition_key DESC LIMIT ?2) "
	    "ORDER BY 1 DESC LIMIT ?2", -1, &stmt, NULL) != SQLITE_OK) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int(stmt, 2, READ_CATALOG_QUARANTINED_MAX + 1);
	arr = json_array();
	json_object_set_new(product, "quarantined_partitions", arr);
	json_object_set_new(product, "quarantined_more", json_false());
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n++ == READ_CATALOG_QUARANTINED_MAX) {
			json_object_set_new(product, "quarantined_more",
			    json_true());
			break;
		}
		rerun = strcmp(read_col(stmt, 1), "published") == 0;
		if ((why = read_failed_checks(ctx, sqlite3_column_int64(stmt, 4),
		    err)) == NULL) {
			sqlite3_finalize(stmt);
			return -1;
		}
		at = sqlite3_column_int64(stmt, 5);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:I, s:o, "
		    "s:I, s:s, s:o}",
		    "partition", read_col(stmt, 0),
		    "state", read_col(stmt, 1),
		    "rerun", rerun,
		    "version", (json_int_t)sqlite3_column_int64(stmt, 2),
		    "run_id", sqlite3_column_type(stmt, 3) == SQLITE_NULL ?
		    json_null() : json_integer(sqlite3_column_int64(stmt, 3)),
		    "at_us", (json_int_t)at,
		    "at_local", read_time_local(ctx->utc, job, at, t, sizeof t),
		    "failed_checks", why));
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	return 0;
}

json_t *
read_catalog(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*domain = read_arg(args, "domain");
	const char	*cursor_arg = read_arg(args, "cursor");
	const char	*parts[2];
	const struct job_def *job;
	struct read_cursor cur = { 0 };
	sqlite3_stmt	*stmt = NULL;
	json_t		*doc = NULL, *arr, *p, *last, *next = NULL;
	int64_t		 limit, n = 0;
	int		 rc;

	if (read_arg_limit(args, &limit, err) != 0)
		return NULL;
	if (cursor_arg != NULL && read_cursor_parse(cursor_arg, 2, &cur,
	    err) != 0)
		return NULL;
	if (read_need_state(ctx, err) != 0)
		goto out;
	/* By domain, then name: the products_domain_name index (schema
	 * version 9) from the cursor, a page at a time. */
	if (read_prepare(ctx, &stmt, err, "SELECT " READ_PRODUCT_COLS " FROM products p LEFT "
	    "JOIN jobs j ON j.id = p.job_id WHERE 1%s%s ORDER BY p.domain, "
	    "p.name LIMIT ?4", domain != NULL ? " AND p.domain = ?1" : "",
	    cursor_arg != NULL ? " AND (p.domain, p.name) > (?2, ?3)" : "") != 0)
		goto out;
	if (domain != NULL)
		sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_STATIC);
	if (cursor_arg != NULL) {
		sqlite3_bind_text(stmt, 2, cur.s[0], -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, cur.s[1], -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(stmt, 4, limit + 1);
	arr = json_array();
	doc = json_pack("{s:o}", "products", arr);
	if (domain != NULL)
		json_object_set_new(doc, "domain", json_string(domain));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n++ == limit) {
			last = json_array_get(arr, (size_t)limit - 1);
			parts[0] = json_string_value(json_object_get(last,
			    "domain"));
			parts[1] = json_string_value(json_object_get(last,
			    "product"));
			/* An empty domain would end the cursor's first part
			 * early; "" encodes as nothing, which parses back. */
			next = read_cursor_make(2, parts);
			break;
		}
		p = read_product_row(ctx, stmt, 0, &job);
		json_array_append_new(arr, p);
		if (read_catalog_quarantined(ctx, sqlite3_column_int64(stmt, 0),
		    job, p, err) != 0)
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
	json_decref(next);
	doc = NULL;
out:
	sqlite3_finalize(stmt);
	read_cursor_free(&cur);
	return doc;
}

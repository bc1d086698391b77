/*
 * analytics.c -- the "analytics" domain's daily product
 * analytics.airport_delays, built from two other domains' products: the
 * day's ops.flights partition and the latest geo.airports.
 *
 * extract  for the partition's day, per origin airport: the flights, the
 *          mean and largest departure delay and the share more than
 *          late_minutes late, with the airport's state from geo.airports,
 *          into the staging file delays.db;
 * check    at least min_rows airports; every airport found in
 *          geo.airports (a state); the flights add up to the day's
 *          ops.flights rows (nothing lost on the way);
 * publish  replaces this partition of table analytics_airport_delays in
 *          `warehouse`.
 *
 * Its job declares both products as inputs, so meshd runs it only once
 * that day's flights are published: a quarantined flights partition holds
 * the day back, and its republication starts it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <meshd/plugin.h>

#include "warehouse.h"

#define STAGE_FILE	"delays.db"

static const char stage_schema[] =
	"CREATE TABLE delays ("
	" airport TEXT, state TEXT, flights INTEGER, mean_delay REAL,"
	" max_delay INTEGER, late_share REAL)";

static const struct meshd_product products[] = {
	{
		.name = "analytics.airport_delays",
		.description = "daily departure delay statistics per origin "
		    "airport, with its state",
		.contract_version = "1.0",
		.tags = "derived",
		.freshness_seconds = 12 * 3600,
	},
	{ .name = NULL }
};

/* ATTACH the warehouse as "wh". */
static meshd_status
analytics_attach(meshd_ctx *ctx, sqlite3 *db)
{
	const char	*warehouse;
	char		*sql;
	meshd_status	 s;

	if ((s = wh_param_required(ctx, "warehouse", &warehouse)) != MESHD_OK)
		return (s);
	if ((sql = sqlite3_mprintf("ATTACH DATABASE %Q AS wh", warehouse)) ==
	    NULL) {
		meshd_set_error(ctx, "out of memory");
		return (MESHD_FAILED);
	}
	s = wh_exec(ctx, db, warehouse, sql);
	sqlite3_free(sql);
	return (s);
}

static meshd_status
analytics_extract(meshd_ctx *ctx)
{
	struct wh_stage	 st;
	meshd_status	 s;
	const char	*key = meshd_partition_key(ctx);
	char		*sql;
	double		 late = meshd_param_double(ctx, "late_minutes", 15);

	memset(&st, 0, sizeof st);
	if (key == NULL) {
		meshd_set_error(ctx, "no partition: analytics is daily");
		return (MESHD_FAILED);
	}
	if ((s = wh_stage_create(ctx, STAGE_FILE, stage_schema, &st)) !=
	    MESHD_OK)
		return (s);
	/* ATTACH cannot run inside the stage's transaction. */
	if ((s = wh_exec(ctx, st.db, "staging", "COMMIT")) != MESHD_OK ||
	    (s = analytics_attach(ctx, st.db)) != MESHD_OK ||
	    (s = wh_exec(ctx, st.db, "staging", "BEGIN")) != MESHD_OK)
		goto fail;
	sql = sqlite3_mprintf("INSERT INTO delays SELECT f.origin, a.state, "
	    "COUNT(*), AVG(f.delay), MAX(f.delay), AVG(f.delay > %.17g) "
	    "FROM wh.ops_flights f LEFT JOIN (SELECT iata, state FROM "
	    "wh.geo_airports WHERE partition_key = (SELECT partition_key "
	    "FROM wh.geo_airports ORDER BY published_us DESC LIMIT 1)) a ON "
	    "a.iata = f.origin WHERE f.partition_key = %Q GROUP BY f.origin",
	    late, key);
	if (sql == NULL) {
		meshd_set_error(ctx, "out of memory");
		s = MESHD_FAILED;
		goto fail;
	}
	s = wh_exec(ctx, st.db, "warehouse", sql);
	sqlite3_free(sql);
	if (s != MESHD_OK)
		goto fail;
	if ((s = wh_exec(ctx, st.db, "staging", "COMMIT")) != MESHD_OK ||
	    (s = wh_exec(ctx, st.db, "staging", "DETACH DATABASE wh")) !=
	    MESHD_OK || (s = wh_exec(ctx, st.db, "staging", "BEGIN")) !=
	    MESHD_OK)
		goto fail;
	return (wh_stage_commit(ctx, &st));
fail:
	wh_stage_abort(&st);
	return (s);
}

static meshd_status
analytics_check(meshd_ctx *ctx)
{
	static const char *const required[] = { "airport", NULL };
	struct wh_verdict	 v;
	sqlite3			*db;
	meshd_status		 s;
	const char		*key = meshd_partition_key(ctx);
	char			*sql = NULL, expect[128];
	double			 rows, n, staged, source;

	memset(&v, 0, sizeof v);
	if ((s = wh_stage_open(ctx, STAGE_FILE, &db, NULL)) != MESHD_OK)
		return (s);
	if ((s = wh_check_row_count(ctx, &v, db, "delays", &rows)) !=
	    MESHD_OK ||
	    (s = wh_check_not_null(ctx, &v, db, "delays", required)) !=
	    MESHD_OK)
		goto out;
	if ((s = wh_query_double(ctx, db, "staging", "SELECT COUNT(*) FROM "
	    "delays WHERE state IS NULL", &n, NULL)) != MESHD_OK)
		goto out;
	wh_check(ctx, &v, "airports_known", MESHD_SEV_ERROR, n == 0, n,
	    "0 airports missing from geo.airports");
	if ((s = analytics_attach(ctx, db)) != MESHD_OK)
		goto out;
	if ((s = wh_query_double(ctx, db, "staging", "SELECT "
	    "COALESCE(SUM(flights), 0) FROM delays", &staged, NULL)) !=
	    MESHD_OK)
		goto out;
	if ((sql = sqlite3_mprintf("SELECT COUNT(*) FROM wh.ops_flights "
	    "WHERE partition_key = %Q", key != NULL ? key : "")) == NULL) {
		meshd_set_error(ctx, "out of memory");
		s = MESHD_FAILED;
		goto out;
	}
	if ((s = wh_query_double(ctx, db, "warehouse", sql, &source,
	    NULL)) != MESHD_OK)
		goto out;
	snprintf(expect, sizeof expect, "= %g flights in ops.flights %s",
	    source, key != NULL ? key : "");
	wh_check(ctx, &v, "flights_add_up", MESHD_SEV_ERROR, staged == source,
	    staged, expect);
	meshd_metric(ctx, "rows", rows);
	s = wh_verdict(ctx, &v);
out:
	sqlite3_free(sql);
	sqlite3_close(db);
	return (s);
}

static meshd_status
analytics_publish(meshd_ctx *ctx)
{
	static const struct wh_publish p = {
		.stage_name = STAGE_FILE,
		.from = "delays",
		.table = "analytics_airport_delays",
		.create = "CREATE TABLE IF NOT EXISTS analytics_airport_delays ("
		    " partition_key TEXT NOT NULL,"
		    " airport TEXT NOT NULL, state TEXT,"
		    " flights INTEGER NOT NULL, mean_delay REAL,"
		    " max_delay INTEGER, late_share REAL,"
		    " published_us INTEGER NOT NULL);"
		    "CREATE INDEX IF NOT EXISTS analytics_airport_delays_partition"
		    " ON analytics_airport_delays (partition_key)",
		.columns = "airport, state, flights, mean_delay, max_delay, "
		    "late_share",
	};

	return (wh_publish(ctx, &p));
}

MESHD_PLUGIN(
	.name = "analytics",
	.version = "1.0.0",
	.domain = "analytics",
	.owner = "analytics@example.org",
	.description = "daily delay statistics per airport, from ops.flights "
	    "and geo.airports",
	.products = products,
	.extract = analytics_extract,
	.check = analytics_check,
	.publish = analytics_publish,
);

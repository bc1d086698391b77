/*
 * flights.c -- the "ops" domain's daily product ops.flights.
 *
 * extract  reads the JSON array of flights named by the parameter `source`
 *          ({"date": "2001/01/01 00:47", "delay": 66, "distance": 1750,
 *          "origin": "DTW", "destination": "LAS"}, dates taken as UTC) and
 *          stages those whose date falls in the partition's data interval
 *          [start, end) into the staging file flights.db;
 * check    row count within [min_rows, max_rows]; date, origin,
 *          destination, delay and distance present; every origin and
 *          destination a known airport of geo.airports (table geo_airports
 *          of the `warehouse` database, its latest published partition);
 *          largest delay <= max_delay_minutes; distance in
 *          (0, max_distance]; and, as a warning, the share of flights more
 *          than late_minutes late <= max_late_share;
 * publish  replaces this partition of table ops_flights in `warehouse`.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include <meshd/plugin.h>

#include "warehouse.h"

#define STAGE_FILE	"flights.db"
#define AIRPORTS_TABLE	"geo_airports"

static const char stage_schema[] =
	"CREATE TABLE flights ("
	" date TEXT, date_us INTEGER, origin TEXT, destination TEXT,"
	" delay INTEGER, distance INTEGER, record INTEGER)";

static const struct meshd_product products[] = {
	{
		.name = "ops.flights",
		.description = "US domestic flights with departure delay and "
		    "distance, one partition per day",
		.contract_version = "1.0",
		.tags = "operations",
		.freshness_seconds = 6 * 3600,
	},
	{ .name = NULL }
};

/* Days from 1970-01-01 to a proleptic Gregorian date. */
static int64_t
flights_days(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/* Parse n digits. */
static int
flights_digits(const char **sp, int n, int *out)
{
	const char	*s = *sp;
	int		 v = 0;

	while (n-- > 0) {
		if (*s < '0' || *s > '9')
			return (-1);
		v = v * 10 + (*s++ - '0');
	}
	*sp = s;
	*out = v;
	return (0);
}

/*
 * "YYYY/MM/DD HH:MM[:SS]" (also with '-' and 'T') as UTC microseconds.
 * The source records local departure times without a zone; the product
 * treats them as UTC so that a day's partition is the calendar day written
 * in the record.
 */
static int
flights_parse_date(const char *s, int64_t *out)
{
	int	y, mo, d, h, mi, sec = 0;
	char	sep;

	if (flights_digits(&s, 4, &y) != 0 || (*s != '/' && *s != '-'))
		return (-1);
	sep = *s++;
	if (flights_digits(&s, 2, &mo) != 0 || *s++ != sep ||
	    flights_digits(&s, 2, &d) != 0 || (*s != ' ' && *s != 'T'))
		return (-1);
	s++;
	if (flights_digits(&s, 2, &h) != 0 || *s++ != ':' ||
	    flights_digits(&s, 2, &mi) != 0)
		return (-1);
	if (*s == ':' && (s++, flights_digits(&s, 2, &sec) != 0))
		return (-1);
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return (-1);
	*out = ((flights_days(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec;
	*out *= 1000000;
	return (0);
}

/* Bind member `key` of record `i`: absent or null is NULL; otherwise it
 * must have the type the product promises. */
static int
flights_bind(meshd_ctx *ctx, const char *source, size_t i, json_t *rec,
    const char *key, int number, sqlite3_stmt *st, int param)
{
	json_t	*v;

	v = json_object_get(rec, key);
	if (v == NULL || json_is_null(v))
		return (sqlite3_bind_null(st, param) == SQLITE_OK ? 0 : -1);
	if (number && json_is_integer(v))
		return (sqlite3_bind_int64(st, param,
		    (sqlite3_int64)json_integer_value(v)) == SQLITE_OK ? 0 : -1);
	if (number && json_is_real(v))
		return (sqlite3_bind_double(st, param, json_real_value(v)) ==
		    SQLITE_OK ? 0 : -1);
	if (!number && json_is_string(v))
		return (sqlite3_bind_text(st, param, json_string_value(v), -1,
		    SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1);
	meshd_set_error(ctx, "%s: record %zu: '%s' is not a %s", source, i,
	    key, number ? "number" : "string");
	return (-2);
}

static meshd_status
flights_extract(meshd_ctx *ctx)
{
	const char	*source, *date;
	json_t		*root = NULL, *rec;
	json_error_t	 jerr;
	struct wh_stage	 stg;
	sqlite3_stmt	*ins = NULL;
	struct stat	 sb;
	meshd_status	 s;
	int64_t		 start, end, t;
	size_t		 i, n, rows = 0, undated = 0;
	int		 rc = SQLITE_OK, b;

	memset(&stg, 0, sizeof stg);
	if ((s = wh_param_required(ctx, "source", &source)) != MESHD_OK)
		return (s);
	start = meshd_interval_start(ctx);
	end = meshd_interval_end(ctx);
	if (end <= start) {
		meshd_set_error(ctx, "partition '%s' has no data interval: "
		    "ops.flights is built per interval (use a scheduled job "
		    "or a backfill)", meshd_partition_key(ctx) != NULL ?
		    meshd_partition_key(ctx) : "");
		return (MESHD_FAILED);
	}

	root = json_load_file(source, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (jerr.line > 0)
			meshd_set_error(ctx, "%s:%d:%d: %s", source, jerr.line,
			    jerr.column, jerr.text);
		else	/* jansson's text names the file already */
			meshd_set_error(ctx, "%s", jerr.text);
		return (MESHD_FAILED);
	}
	s = MESHD_FAILED;
	if (!json_is_array(root)) {
		meshd_set_error(ctx, "%s: expected a JSON array of flights",
		    source);
		goto out;
	}
	if ((s = wh_stage_create(ctx, STAGE_FILE, stage_schema, &stg)) !=
	    MESHD_OK)
		goto out;
	s = MESHD_FAILED;
	rc = sqlite3_prepare_v2(stg.db, "INSERT INTO flights VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &ins, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;

	n = json_array_size(root);
	for (i = 0; i < n; i++) {
		if ((i & 4095) == 0 && meshd_cancelled(ctx)) {
			meshd_set_error(ctx, "cancelled at record %zu", i);
			goto out;
		}
		rec = json_array_get(root, i);
		if (!json_is_object(rec)) {
			meshd_set_error(ctx, "%s: record %zu: expected an "
			    "object", source, i);
			goto out;
		}
		/* A record without a date belongs to no partition. */
		date = json_string_value(json_object_get(rec, "date"));
		if (date == NULL) {
			undated++;
			continue;
		}
		if (flights_parse_date(date, &t) != 0) {
			meshd_set_error(ctx, "%s: record %zu: date '%s' is not "
			    "YYYY/MM/DD HH:MM", source, i, date);
			goto out;
		}
		if (t < start || t >= end)
			continue;
		sqlite3_bind_text(ins, 1, date, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 2, t);
		if ((b = flights_bind(ctx, source, i, rec, "origin", 0, ins,
		    3)) == 0 && (b = flights_bind(ctx, source, i, rec,
		    "destination", 0, ins, 4)) == 0 && (b = flights_bind(ctx,
		    source, i, rec, "delay", 1, ins, 5)) == 0)
			b = flights_bind(ctx, source, i, rec, "distance", 1,
			    ins, 6);
		if (b == -2)
			goto out;
		sqlite3_bind_int64(ins, 7, (sqlite3_int64)i);
		if ((rc = sqlite3_step(ins)) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(ins);
		rows++;
	}
	sqlite3_finalize(ins);
	ins = NULL;
	if ((s = wh_stage_commit(ctx, &stg)) != MESHD_OK)
		goto out;

	meshd_metric(ctx, "rows", (double)rows);
	meshd_metric(ctx, "records_scanned", (double)n);
	meshd_metric(ctx, "records_undated", (double)undated);
	if (stat(source, &sb) == 0)
		meshd_metric(ctx, "source_bytes", (double)sb.st_size);
	if (undated != 0)
		meshd_log(ctx, MESHD_LOG_WARN, "%s: %zu records have no date "
		    "and belong to no partition", source, undated);
	meshd_log(ctx, MESHD_LOG_INFO, "staged %zu of %zu flights from %s",
	    rows, n, source);
	s = MESHD_OK;
	goto out;

sqlfail:
	meshd_set_error(ctx, "%s: %s", stg.tmp, sqlite3_errmsg(stg.db));
	s = wh_sqlite_status(rc);
out:
	sqlite3_finalize(ins);
	wh_stage_abort(&stg);
	json_decref(root);
	return (s);
}

/* Log up to five airport codes the reference data does not know. */
static void
flights_unknown_examples(meshd_ctx *ctx, sqlite3 *db, const char *known)
{
	sqlite3_stmt	*st;
	char		*sql;

	sql = wh_printf("SELECT code, COUNT(*) FROM (SELECT origin AS code "
	    "FROM flights UNION ALL SELECT destination FROM flights) WHERE "
	    "code NOT IN (%s) GROUP BY code ORDER BY 2 DESC, 1 LIMIT 5",
	    known);
	if (sql == NULL)
		return;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW)
			meshd_log(ctx, MESHD_LOG_WARN, "unknown airport %s "
			    "(%lld flights)", sqlite3_column_text(st, 0),
			    (long long)sqlite3_column_int64(st, 1));
		sqlite3_finalize(st);
	}
	free(sql);
}

/*
 * Referential check against the other domain's product.  The warehouse
 * is attached read-only in spirit (nothing here writes); its absence, or
 * the absence of geo_airports in it, fails the check rather than the
 * stage, because the cure is to publish geo.airports, not to fix this
 * plugin.
 */
static meshd_status
flights_check_airports(meshd_ctx *ctx, struct wh_verdict *v, sqlite3 *db,
    double rows)
{
	static const char known[] = "SELECT iata FROM wh." AIRPORTS_TABLE
	    " WHERE partition_key = (SELECT partition_key FROM wh."
	    AIRPORTS_TABLE " ORDER BY published_us DESC LIMIT 1)";
	const char	*warehouse;
	char		*sql = NULL, *attach = NULL, expect[512];
	struct stat	 sb;
	meshd_status	 s;
	double		 n;

	if ((s = wh_param_required(ctx, "warehouse", &warehouse)) != MESHD_OK)
		return (s);
	snprintf(expect, sizeof expect, "geo.airports must be published "
	    "first: no table " AIRPORTS_TABLE " in %s", warehouse);
	if (stat(warehouse, &sb) != 0) {
		wh_check(ctx, v, "known_airports", MESHD_SEV_ERROR, 0, rows,
		    expect);
		return (MESHD_OK);
	}
	if ((attach = sqlite3_mprintf("ATTACH DATABASE %Q AS wh",
	    warehouse)) == NULL) {
		meshd_set_error(ctx, "out of memory");
		return (MESHD_FAILED);
	}
	if ((s = wh_exec(ctx, db, warehouse, attach)) != MESHD_OK)
		goto out;
	if ((s = wh_query_double(ctx, db, warehouse, "SELECT COUNT(*) FROM "
	    "wh.sqlite_master WHERE type = 'table' AND name = '"
	    AIRPORTS_TABLE "'", &n, NULL)) != MESHD_OK)
		goto out;
	if (n == 0) {
		wh_check(ctx, v, "known_airports", MESHD_SEV_ERROR, 0, rows,
		    expect);
		goto out;
	}
	sql = wh_printf("SELECT COUNT(*) FROM flights WHERE origin NOT IN "
	    "(%s) OR destination NOT IN (%s)", known, known);
	if (sql == NULL) {
		meshd_set_error(ctx, "out of memory");
		s = MESHD_FAILED;
		goto out;
	}
	if ((s = wh_query_double(ctx, db, warehouse, sql, &n, NULL)) !=
	    MESHD_OK)
		goto out;
	snprintf(expect, sizeof expect, "0 flights from or to an airport "
	    "not in geo.airports (%s)", warehouse);
	wh_check(ctx, v, "known_airports", MESHD_SEV_ERROR, n == 0, n, expect);
	if (n != 0)
		flights_unknown_examples(ctx, db, known);
out:
	sqlite3_free(attach);
	free(sql);
	return (s);
}

static meshd_status
flights_check(meshd_ctx *ctx)
{
	static const char *const required[] = {
		"date", "origin", "destination", "delay", "distance", NULL
	};
	struct wh_verdict	 v;
	sqlite3			*db;
	meshd_status		 s;
	char			 expect[128], *sql = NULL;
	double			 rows, max_delay, max_distance, late, share;
	double			 n, lo, hi;
	int			 isnull;

	memset(&v, 0, sizeof v);
	/* Thresholds first: a job without them is wrong, not its data. */
	if ((s = wh_param_double_required(ctx, "max_delay_minutes",
	    &max_delay)) != MESHD_OK)
		return (s);
	if ((s = wh_param_double_required(ctx, "max_distance",
	    &max_distance)) != MESHD_OK)
		return (s);
	if ((s = wh_stage_open(ctx, STAGE_FILE, &db, NULL)) != MESHD_OK)
		return (s);

	if ((s = wh_check_row_count(ctx, &v, db, "flights", &rows)) !=
	    MESHD_OK)
		goto out;
	if ((s = wh_check_not_null(ctx, &v, db, "flights", required)) !=
	    MESHD_OK)
		goto out;
	if ((s = flights_check_airports(ctx, &v, db, rows)) != MESHD_OK)
		goto out;

	if ((s = wh_query_double(ctx, db, "staging", "SELECT MAX(delay) FROM "
	    "flights", &n, &isnull)) != MESHD_OK)
		goto out;
	snprintf(expect, sizeof expect, "<= %g minutes", max_delay);
	wh_check(ctx, &v, "max_delay", MESHD_SEV_ERROR, isnull ||
	    n <= max_delay, n, expect);

	if ((sql = wh_printf("SELECT COUNT(*) FROM flights WHERE distance <= 0 "
	    "OR distance > %.17g", max_distance)) == NULL) {
		meshd_set_error(ctx, "out of memory");
		s = MESHD_FAILED;
		goto out;
	}
	if ((s = wh_query_double(ctx, db, "staging", sql, &n, NULL)) !=
	    MESHD_OK)
		goto out;
	snprintf(expect, sizeof expect, "0 flights with distance outside "
	    "(0, %g]", max_distance);
	wh_check(ctx, &v, "distance_range", MESHD_SEV_ERROR, n == 0, n,
	    expect);
	if (n != 0 && wh_query_double(ctx, db, "staging", "SELECT "
	    "MIN(distance) FROM flights", &lo, NULL) == MESHD_OK &&
	    wh_query_double(ctx, db, "staging", "SELECT MAX(distance) FROM "
	    "flights", &hi, NULL) == MESHD_OK)
		meshd_log(ctx, MESHD_LOG_WARN, "distances range from %g to %g",
		    lo, hi);

	/* The warning is optional: without a bound there is nothing to
	 * warn about. */
	if (meshd_param_exists(ctx, "max_late_share")) {
		share = meshd_param_double(ctx, "max_late_share", 1);
		late = meshd_param_double(ctx, "late_minutes", 15);
		free(sql);
		if ((sql = wh_printf("SELECT AVG(delay > %.17g) FROM flights "
		    "WHERE delay IS NOT NULL", late)) == NULL) {
			meshd_set_error(ctx, "out of memory");
			s = MESHD_FAILED;
			goto out;
		}
		if ((s = wh_query_double(ctx, db, "staging", sql, &n,
		    &isnull)) != MESHD_OK)
			goto out;
		snprintf(expect, sizeof expect, "<= %g of flights more than "
		    "%g minutes late", share, late);
		wh_check(ctx, &v, "late_share", MESHD_SEV_WARN, isnull ||
		    n <= share, n, expect);
	}

	meshd_metric(ctx, "rows", rows);
	s = wh_verdict(ctx, &v);
out:
	free(sql);
	sqlite3_close(db);
	return (s);
}

static meshd_status
flights_publish(meshd_ctx *ctx)
{
	static const struct wh_publish p = {
		.stage_name = STAGE_FILE,
		.from = "flights",
		.table = "ops_flights",
		.create = "CREATE TABLE IF NOT EXISTS ops_flights ("
		    " partition_key TEXT NOT NULL,"
		    " date TEXT NOT NULL, date_us INTEGER NOT NULL,"
		    " origin TEXT NOT NULL, destination TEXT NOT NULL,"
		    " delay INTEGER NOT NULL, distance INTEGER NOT NULL,"
		    " published_us INTEGER NOT NULL);"
		    "CREATE INDEX IF NOT EXISTS ops_flights_partition"
		    " ON ops_flights (partition_key)",
		.columns = "date, date_us, origin, destination, delay, distance",
	};

	return (wh_publish(ctx, &p));
}

MESHD_PLUGIN(
	.name = "flights",
	.version = "1.0.0",
	.domain = "ops",
	.owner = "ops-data@example.org",
	.description = "US domestic flight delays, one partition per day",
	.products = products,
	.extract = flights_extract,
	.check = flights_check,
	.publish = flights_publish,
);

/*
 * airports.c -- the "geo" domain's reference product geo.airports.
 *
 * extract  reads the airports CSV named by the parameter `source` (RFC 4180,
 *          header row with at least iata, name, latitude, longitude; city,
 *          state and country are kept when present) into the staging file
 *          airports.db;
 * check    row count within [min_rows, max_rows], iata, name, latitude and
 *          longitude present, iata unique, coordinates on the globe;
 * publish  replaces this partition of table geo_airports in the SQLite
 *          database named by the parameter `warehouse`.
 *
 * Reference data has no data interval: the job is unscheduled and a
 * trigger names the partition.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include <meshd/plugin.h>

#include "csv.h"
#include "warehouse.h"

#define STAGE_FILE	"airports.db"

enum { C_IATA, C_NAME, C_CITY, C_STATE, C_COUNTRY, C_LAT, C_LON, NCOLS };

static const struct {
	const char	*name;
	int		 required;
} columns[NCOLS] = {
	{ "iata", 1 }, { "name", 1 }, { "city", 0 }, { "state", 0 },
	{ "country", 0 }, { "latitude", 1 }, { "longitude", 1 }
};

static const char stage_schema[] =
	"CREATE TABLE airports ("
	" iata TEXT, name TEXT, city TEXT, state TEXT, country TEXT,"
	" latitude REAL, longitude REAL, source_line INTEGER)";

static const struct meshd_product products[] = {
	{
		.name = "geo.airports",
		.description = "US airports: IATA/FAA code, name, place and "
		    "coordinates",
		.contract_version = "1.0",
		.tags = "reference,geo",
	},
	{ .name = NULL }
};

/* Column positions of the header; -1 for an absent optional column. */
static int
airports_header(meshd_ctx *ctx, struct csv *c, int pos[NCOLS])
{
	size_t	i;
	int	k;

	for (k = 0; k < NCOLS; k++)
		pos[k] = -1;
	for (i = 0; i < c->nfields; i++) {
		for (k = 0; k < NCOLS; k++) {
			if (strcmp(csv_field(c, i), columns[k].name) != 0)
				continue;
			if (pos[k] != -1) {
				meshd_set_error(ctx, "%s:%ld: column '%s' "
				    "appears twice", c->path, c->record_line,
				    columns[k].name);
				return (-1);
			}
			pos[k] = (int)i;
		}
	}
	for (k = 0; k < NCOLS; k++) {
		if (pos[k] == -1 && columns[k].required) {
			meshd_set_error(ctx, "%s:%ld: header has no column "
			    "'%s'", c->path, c->record_line, columns[k].name);
			return (-1);
		}
	}
	return (0);
}

/* Bind one coordinate: empty is NULL (the check reports it), anything
 * else must be a finite number. */
static int
airports_bind_coord(meshd_ctx *ctx, struct csv *c, sqlite3_stmt *st,
    int param, const char *what, const char *text)
{
	char	*end;
	double	 d;

	if (*text == '\0')
		return (sqlite3_bind_null(st, param) == SQLITE_OK ? 0 : -1);
	errno = 0;
	d = strtod(text, &end);
	if (end == text || *end != '\0' || errno == ERANGE || !isfinite(d)) {
		meshd_set_error(ctx, "%s:%ld: %s '%s' is not a number",
		    c->path, c->record_line, what, text);
		return (-1);
	}
	return (sqlite3_bind_double(st, param, d) == SQLITE_OK ? 0 : -1);
}

static meshd_status
airports_extract(meshd_ctx *ctx)
{
	const char	*source, *text;
	struct csv	 c;
	struct wh_stage	 stg;
	sqlite3_stmt	*ins = NULL;
	struct stat	 sb;
	meshd_status	 s;
	size_t		 nheader, rows = 0;
	int		 pos[NCOLS], k, r, rc = SQLITE_OK;

	memset(&stg, 0, sizeof stg);
	if ((s = wh_param_required(ctx, "source", &source)) != MESHD_OK)
		return (s);
	if (csv_open(&c, source) != 0) {
		meshd_set_error(ctx, "%s", c.err);
		csv_close(&c);
		return (MESHD_FAILED);
	}
	s = MESHD_FAILED;
	if ((r = csv_next(&c)) <= 0) {
		if (r == 0)
			meshd_set_error(ctx, "%s: empty file, expected a "
			    "header row", source);
		else
			meshd_set_error(ctx, "%s", c.err);
		goto out;
	}
	if (airports_header(ctx, &c, pos) != 0)
		goto out;
	nheader = c.nfields;

	if ((s = wh_stage_create(ctx, STAGE_FILE, stage_schema, &stg)) !=
	    MESHD_OK)
		goto out;
	s = MESHD_FAILED;
	rc = sqlite3_prepare_v2(stg.db, "INSERT INTO airports VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &ins, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;

	while ((r = csv_next(&c)) == 1) {
		if ((rows & 1023) == 0 && meshd_cancelled(ctx)) {
			meshd_set_error(ctx, "cancelled after %zu rows", rows);
			goto out;
		}
		if (c.nfields != nheader) {
			meshd_set_error(ctx, "%s:%ld: %zu fields, but the "
			    "header has %zu", source, c.record_line,
			    c.nfields, nheader);
			goto out;
		}
		for (k = 0; k < NCOLS; k++) {
			text = pos[k] == -1 ? "" : csv_field(&c, (size_t)pos[k]);
			if (k == C_LAT || k == C_LON) {
				if (airports_bind_coord(ctx, &c, ins, k + 1,
				    columns[k].name, text) != 0)
					goto out;
			} else if (*text == '\0')
				sqlite3_bind_null(ins, k + 1);
			else
				sqlite3_bind_text(ins, k + 1, text, -1,
				    SQLITE_TRANSIENT);
		}
		sqlite3_bind_int64(ins, NCOLS + 1, c.record_line);
		if ((rc = sqlite3_step(ins)) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(ins);
		rows++;
	}
	if (r < 0) {
		meshd_set_error(ctx, "%s", c.err);
		goto out;
	}
	sqlite3_finalize(ins);
	ins = NULL;
	if ((s = wh_stage_commit(ctx, &stg)) != MESHD_OK)
		goto out;

	meshd_metric(ctx, "rows", (double)rows);
	if (stat(source, &sb) == 0)
		meshd_metric(ctx, "source_bytes", (double)sb.st_size);
	meshd_log(ctx, MESHD_LOG_INFO, "staged %zu airports from %s", rows,
	    source);
	s = MESHD_OK;
	goto out;

sqlfail:
	meshd_set_error(ctx, "%s: %s", stg.tmp, sqlite3_errmsg(stg.db));
	s = wh_sqlite_status(rc);
out:
	sqlite3_finalize(ins);
	wh_stage_abort(&stg);
	csv_close(&c);
	return (s);
}

/* Log a few offending rows so the operator need not open the file. */
static void
airports_examples(meshd_ctx *ctx, sqlite3 *db, const char *what,
    const char *sql)
{
	sqlite3_stmt	*st;
	const char	*t;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(st, 1);
		meshd_log(ctx, MESHD_LOG_WARN, "%s: line %lld: %s", what,
		    (long long)sqlite3_column_int64(st, 0),
		    t != NULL ? t : "(none)");
	}
	sqlite3_finalize(st);
}

static meshd_status
airports_check(meshd_ctx *ctx)
{
	static const char *const required[] = {
		"iata", "name", "latitude", "longitude", NULL
	};
	struct wh_verdict	 v;
	sqlite3			*db;
	meshd_status		 s;
	double			 rows, n;

	memset(&v, 0, sizeof v);
	if ((s = wh_stage_open(ctx, STAGE_FILE, &db, NULL)) != MESHD_OK)
		return (s);
	if ((s = wh_check_row_count(ctx, &v, db, "airports", &rows)) !=
	    MESHD_OK)
		goto out;
	if ((s = wh_check_not_null(ctx, &v, db, "airports", required)) !=
	    MESHD_OK)
		goto out;

	if ((s = wh_query_double(ctx, db, "staging", "SELECT COUNT(*) - "
	    "COUNT(DISTINCT iata) FROM airports WHERE iata IS NOT NULL", &n,
	    NULL)) != MESHD_OK)
		goto out;
	wh_check(ctx, &v, "iata_unique", MESHD_SEV_ERROR, n == 0, n,
	    "0 repeated iata codes");
	if (n != 0)
		airports_examples(ctx, db, "repeated iata", "SELECT "
		    "source_line, iata FROM airports WHERE iata IN (SELECT "
		    "iata FROM airports GROUP BY iata HAVING COUNT(*) > 1) "
		    "ORDER BY source_line LIMIT 5");

	if ((s = wh_query_double(ctx, db, "staging", "SELECT COUNT(*) FROM "
	    "airports WHERE latitude NOT BETWEEN -90 AND 90", &n, NULL)) !=
	    MESHD_OK)
		goto out;
	wh_check(ctx, &v, "latitude_range", MESHD_SEV_ERROR, n == 0, n,
	    "0 rows outside [-90, 90]");
	if (n != 0)
		airports_examples(ctx, db, "latitude out of range", "SELECT "
		    "source_line, iata FROM airports WHERE latitude NOT "
		    "BETWEEN -90 AND 90 ORDER BY source_line LIMIT 5");

	if ((s = wh_query_double(ctx, db, "staging", "SELECT COUNT(*) FROM "
	    "airports WHERE longitude NOT BETWEEN -180 AND 180", &n, NULL)) !=
	    MESHD_OK)
		goto out;
	wh_check(ctx, &v, "longitude_range", MESHD_SEV_ERROR, n == 0, n,
	    "0 rows outside [-180, 180]");
	if (n != 0)
		airports_examples(ctx, db, "longitude out of range", "SELECT "
		    "source_line, iata FROM airports WHERE longitude NOT "
		    "BETWEEN -180 AND 180 ORDER BY source_line LIMIT 5");

	meshd_metric(ctx, "rows", rows);
	s = wh_verdict(ctx, &v);
out:
	sqlite3_close(db);
	return (s);
}

static meshd_status
airports_publish(meshd_ctx *ctx)
{
	static const struct wh_publish p = {
		.stage_name = STAGE_FILE,
		.from = "airports",
		.table = "geo_airports",
		.create = "CREATE TABLE IF NOT EXISTS geo_airports ("
		    " partition_key TEXT NOT NULL,"
		    " iata TEXT NOT NULL, name TEXT NOT NULL, city TEXT,"
		    " state TEXT, country TEXT,"
		    " latitude REAL NOT NULL, longitude REAL NOT NULL,"
		    " published_us INTEGER NOT NULL,"
		    " PRIMARY KEY (partition_key, iata))",
		.columns = "iata, name, city, state, country, latitude, "
		    "longitude",
	};

	return (wh_publish(ctx, &p));
}

MESHD_PLUGIN(
	.name = "airports",
	.version = "1.0.0",
	.domain = "geo",
	.owner = "geo-data@example.org",
	.description = "US airports reference data from a CSV file",
	.products = products,
	.extract = airports_extract,
	.check = airports_check,
	.publish = airports_publish,
);

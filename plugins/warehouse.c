/*
 * warehouse.c -- staging files, the warehouse database and the checks
 * shared by the demo domain plugins.  See warehouse.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <meshd/plugin.h>

#include "warehouse.h"

int64_t
wh_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *
wh_printf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return (n < 0 ? NULL : s);
}

meshd_status
wh_param_required(meshd_ctx *ctx, const char *key, const char **out)
{
	const char	*v;

	v = meshd_param_string(ctx, key, NULL);
	if (v == NULL || *v == '\0') {
		meshd_set_error(ctx, "parameter '%s' is not set (a string is "
		    "required)", key);
		return (MESHD_FAILED);
	}
	*out = v;
	return (MESHD_OK);
}

meshd_status
wh_sqlite_status(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return (MESHD_RETRY);
	default:
		return (MESHD_FAILED);
	}
}

meshd_status
wh_open(meshd_ctx *ctx, const char *path, int create, sqlite3 **dbp)
{
	sqlite3	*db = NULL;
	int	 flags, rc;
	int64_t	 busy;

	*dbp = NULL;
	flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		meshd_set_error(ctx, "%s: cannot open database: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return (wh_sqlite_status(rc));
	}
	busy = meshd_param_int(ctx, "busy_timeout_ms", 10000);
	if (busy < 0 || busy > INT32_MAX)
		busy = 10000;
	sqlite3_busy_timeout(db, (int)busy);
	*dbp = db;
	return (MESHD_OK);
}

meshd_status
wh_exec(meshd_ctx *ctx, sqlite3 *db, const char *what, const char *sql)
{
	char	*msg = NULL;
	int	 rc;

	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		meshd_set_error(ctx, "%s: %s", what,
		    msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return (wh_sqlite_status(rc));
	}
	return (MESHD_OK);
}

meshd_status
wh_query_double(meshd_ctx *ctx, sqlite3 *db, const char *what,
    const char *sql, double *out, int *isnull)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	*out = 0;
	if (isnull != NULL)
		*isnull = 1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
				*out = sqlite3_column_double(st, 0);
				if (isnull != NULL)
					*isnull = 0;
			}
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK) {
		meshd_set_error(ctx, "%s: %s", what, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return (wh_sqlite_status(rc));
	}
	sqlite3_finalize(st);
	return (MESHD_OK);
}

meshd_status
wh_stage_create(meshd_ctx *ctx, const char *name, const char *schema,
    struct wh_stage *st)
{
	const char	*dir;
	meshd_status	 s;

	memset(st, 0, sizeof *st);
	dir = meshd_staging_dir(ctx);
	if (dir == NULL) {
		meshd_set_error(ctx, "the host gave no staging directory");
		return (MESHD_FAILED);
	}
	st->path = wh_printf("%s/%s", dir, name);
	st->tmp = wh_printf("%s/%s.tmp", dir, name);
	if (st->path == NULL || st->tmp == NULL) {
		meshd_set_error(ctx, "out of memory");
		s = MESHD_FAILED;
		goto fail;
	}
	/* A previous attempt may have died half-way. */
	if (unlink(st->tmp) != 0 && errno != ENOENT) {
		meshd_set_error(ctx, "%s: %s", st->tmp, strerror(errno));
		s = MESHD_FAILED;
		goto fail;
	}
	if ((s = wh_open(ctx, st->tmp, 1, &st->db)) != MESHD_OK)
		goto fail;
	/* The file is private until renamed: durability comes from the
	 * rename, not from a journal. */
	if ((s = wh_exec(ctx, st->db, st->tmp,
	    "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")) != MESHD_OK)
		goto fail;
	if ((s = wh_exec(ctx, st->db, st->tmp, schema)) != MESHD_OK)
		goto fail;
	if ((s = wh_exec(ctx, st->db, st->tmp, "BEGIN")) != MESHD_OK)
		goto fail;
	return (MESHD_OK);

fail:
	wh_stage_abort(st);
	return (s);
}

meshd_status
wh_stage_commit(meshd_ctx *ctx, struct wh_stage *st)
{
	meshd_status	 s;
	int		 rc;

	if ((s = wh_exec(ctx, st->db, st->tmp, "COMMIT")) != MESHD_OK)
		goto out;
	rc = sqlite3_close(st->db);
	st->db = NULL;
	if (rc != SQLITE_OK) {
		meshd_set_error(ctx, "%s: close: %s", st->tmp,
		    sqlite3_errstr(rc));
		s = MESHD_FAILED;
		goto out;
	}
	if (rename(st->tmp, st->path) != 0) {
		meshd_set_error(ctx, "rename %s to %s: %s", st->tmp, st->path,
		    strerror(errno));
		s = MESHD_FAILED;
		goto out;
	}
	s = MESHD_OK;
out:
	wh_stage_abort(st);
	return (s);
}

void
wh_stage_abort(struct wh_stage *st)
{
	if (st->db != NULL)
		sqlite3_close(st->db);
	if (st->tmp != NULL)
		unlink(st->tmp);	/* gone already after a rename */
	free(st->tmp);
	free(st->path);
	memset(st, 0, sizeof *st);
}

meshd_status
wh_stage_open(meshd_ctx *ctx, const char *name, sqlite3 **dbp, char **pathp)
{
	const char	*dir;
	char		*path;
	struct stat	 sb;
	meshd_status	 s;

	*dbp = NULL;
	if (pathp != NULL)
		*pathp = NULL;
	dir = meshd_staging_dir(ctx);
	if (dir == NULL) {
		meshd_set_error(ctx, "the host gave no staging directory");
		return (MESHD_FAILED);
	}
	if ((path = wh_printf("%s/%s", dir, name)) == NULL) {
		meshd_set_error(ctx, "out of memory");
		return (MESHD_FAILED);
	}
	if (stat(path, &sb) != 0) {
		meshd_set_error(ctx, "no staging file %s (%s): has the extract "
		    "stage of this partition run?", path, strerror(errno));
		free(path);
		return (MESHD_FAILED);
	}
	if ((s = wh_open(ctx, path, 0, dbp)) != MESHD_OK) {
		free(path);
		return (s);
	}
	if (pathp != NULL)
		*pathp = path;
	else
		free(path);
	return (MESHD_OK);
}

meshd_status
wh_param_double_required(meshd_ctx *ctx, const char *key, double *out)
{
	if (!meshd_param_exists(ctx, key)) {
		meshd_set_error(ctx, "parameter '%s' is not set (a number is "
		    "required)", key);
		return (MESHD_FAILED);
	}
	*out = meshd_param_double(ctx, key, 0);
	return (MESHD_OK);
}

void
wh_check(meshd_ctx *ctx, struct wh_verdict *v, const char *name,
    meshd_severity sev, int passed, double observed, const char *expectation)
{
	size_t	len;

	if (meshd_check(ctx, name, sev, passed, observed, expectation) != 0)
		meshd_log(ctx, MESHD_LOG_WARN, "check %s not recorded", name);
	if (passed)
		return;
	if (sev == MESHD_SEV_WARN) {
		v->warned++;
		meshd_log(ctx, MESHD_LOG_WARN, "warning: %s observed %g, "
		    "expected %s", name, observed, expectation);
		return;
	}
	len = strlen(v->summary);
	snprintf(v->summary + len, sizeof v->summary - len, "%s%s (observed "
	    "%g, expected %s)", v->failed == 0 ? "" : "; ", name, observed,
	    expectation);
	v->failed++;
}

meshd_status
wh_verdict(meshd_ctx *ctx, const struct wh_verdict *v)
{
	if (v->failed == 0)
		return (MESHD_OK);
	meshd_set_error(ctx, "%d failed check%s: %s", v->failed,
	    v->failed == 1 ? "" : "s", v->summary);
	return (MESHD_FAILED);
}

meshd_status
wh_check_row_count(meshd_ctx *ctx, struct wh_verdict *v, sqlite3 *db,
    const char *table, double *rows)
{
	char		*sql, expect[96];
	int64_t		 min, max;
	int		 bounded, passed;
	meshd_status	 s;

	if ((sql = wh_printf("SELECT COUNT(*) FROM %s", table)) == NULL) {
		meshd_set_error(ctx, "out of memory");
		return (MESHD_FAILED);
	}
	s = wh_query_double(ctx, db, "staging", sql, rows, NULL);
	free(sql);
	if (s != MESHD_OK)
		return (s);

	min = meshd_param_int(ctx, "min_rows", 1);
	bounded = meshd_param_exists(ctx, "max_rows");
	max = meshd_param_int(ctx, "max_rows", INT64_MAX);
	if (bounded) {
		snprintf(expect, sizeof expect, "between %lld and %lld",
		    (long long)min, (long long)max);
	} else
		snprintf(expect, sizeof expect, ">= %lld", (long long)min);
	passed = *rows >= (double)min && (!bounded || *rows <= (double)max);
	wh_check(ctx, v, "row_count", MESHD_SEV_ERROR, passed, *rows, expect);
	return (MESHD_OK);
}

meshd_status
wh_check_not_null(meshd_ctx *ctx, struct wh_verdict *v, sqlite3 *db,
    const char *table, const char *const *columns)
{
	char		*sql, name[96];
	double		 nulls;
	meshd_status	 s;
	size_t		 i;

	for (i = 0; columns[i] != NULL; i++) {
		sql = wh_printf("SELECT COUNT(*) FROM %s WHERE %s IS NULL",
		    table, columns[i]);
		if (sql == NULL) {
			meshd_set_error(ctx, "out of memory");
			return (MESHD_FAILED);
		}
		s = wh_query_double(ctx, db, "staging", sql, &nulls, NULL);
		free(sql);
		if (s != MESHD_OK)
			return (s);
		snprintf(name, sizeof name, "not_null_%s", columns[i]);
		wh_check(ctx, v, name, MESHD_SEV_ERROR, nulls == 0, nulls,
		    "0 rows with no value");
	}
	return (MESHD_OK);
}

/* Bind, step and finalize one statement; the number of changed rows goes
 * to *changes. */
static meshd_status
wh_run(meshd_ctx *ctx, sqlite3 *db, const char *what, const char *sql,
    const char *key, int64_t published, int *changes)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, i;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		if ((i = sqlite3_bind_parameter_index(st, ":key")) > 0)
			sqlite3_bind_text(st, i, key, -1, SQLITE_STATIC);
		if ((i = sqlite3_bind_parameter_index(st, ":published")) > 0)
			sqlite3_bind_int64(st, i, published);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK) {
		meshd_set_error(ctx, "%s: %s", what, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return (wh_sqlite_status(rc));
	}
	if (changes != NULL)
		*changes = sqlite3_changes(db);
	sqlite3_finalize(st);
	return (MESHD_OK);
}

meshd_status
wh_publish(meshd_ctx *ctx, const struct wh_publish *p)
{
	const char	*warehouse, *key;
	char		*stage = NULL, *sql = NULL, *attach = NULL;
	sqlite3		*db = NULL, *sdb = NULL;
	meshd_status	 s;
	int		 in_txn = 0, replaced = 0, inserted = 0;
	int64_t		 published;

	if ((s = wh_param_required(ctx, "warehouse", &warehouse)) != MESHD_OK)
		return (s);
	key = meshd_partition_key(ctx);
	if (key == NULL || *key == '\0') {
		meshd_set_error(ctx, "no partition key: publish needs one to "
		    "replace");
		return (MESHD_FAILED);
	}
	/* Open the staging file only to learn that it is there. */
	if ((s = wh_stage_open(ctx, p->stage_name, &sdb, &stage)) != MESHD_OK)
		return (s);
	sqlite3_close(sdb);

	if ((s = wh_open(ctx, warehouse, 1, &db)) != MESHD_OK)
		goto out;
	/* Readers (the flights check, people with the sqlite3 CLI) never
	 * block the publisher and see either the old or the new partition.
	 * If another publisher holds the lock now, the mode is set later. */
	sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);

	attach = sqlite3_mprintf("ATTACH DATABASE %Q AS stg", stage);
	if (attach == NULL) {
		meshd_set_error(ctx, "out of memory");
		s = MESHD_FAILED;
		goto out;
	}
	if ((s = wh_exec(ctx, db, stage, attach)) != MESHD_OK)
		goto out;

	/* IMMEDIATE takes the write lock now, so the busy timeout applies to
	 * waiting for it instead of failing on a lock upgrade later. */
	if ((s = wh_exec(ctx, db, warehouse, "BEGIN IMMEDIATE")) != MESHD_OK)
		goto out;
	in_txn = 1;
	if ((s = wh_exec(ctx, db, warehouse, p->create)) != MESHD_OK)
		goto out;
	if ((sql = wh_printf("DELETE FROM main.%s WHERE partition_key = :key",
	    p->table)) == NULL)
		goto oom;
	if ((s = wh_run(ctx, db, warehouse, sql, key, 0, &replaced)) !=
	    MESHD_OK)
		goto out;
	free(sql);
	published = wh_now_us();
	if ((sql = wh_printf("INSERT INTO main.%s (partition_key, "
	    "published_us, %s) SELECT :key, :published, %s FROM stg.%s",
	    p->table, p->columns, p->columns, p->from)) == NULL)
		goto oom;
	if ((s = wh_run(ctx, db, warehouse, sql, key, published, &inserted)) !=
	    MESHD_OK)
		goto out;
	if (meshd_cancelled(ctx)) {
		meshd_set_error(ctx, "cancelled before commit");
		s = MESHD_FAILED;
		goto out;
	}
	if ((s = wh_exec(ctx, db, warehouse, "COMMIT")) != MESHD_OK)
		goto out;
	in_txn = 0;

	meshd_metric(ctx, "rows", inserted);
	meshd_metric(ctx, "rows_replaced", replaced);
	meshd_log(ctx, MESHD_LOG_INFO, "published %d rows to %s partition %s "
	    "in %s (replaced %d)", inserted, p->table, key, warehouse,
	    replaced);
	s = MESHD_OK;
	goto out;

oom:
	meshd_set_error(ctx, "out of memory");
	s = MESHD_FAILED;
out:
	if (in_txn)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	sqlite3_free(attach);
	free(sql);
	free(stage);
	return (s);
}

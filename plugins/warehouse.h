/*
 * warehouse.h -- code shared by the demo domain plugins (airports, flights).
 *
 * Both demo domains follow the same write-audit-publish shape: extract
 * writes the partition into a small SQLite file in the run's staging
 * directory, check runs SQL over that file and records meshd_check()
 * results, and publish copies the rows into a table of the warehouse
 * database, replacing the partition in one transaction.  This file holds
 * that shape; airports.c and flights.c hold what differs.
 *
 * The file is compiled into each plugin separately.  Nothing here is
 * exported: the plugins are linked so that meshd_plugin_descriptor() is
 * their only dynamic symbol.
 *
 * Every function that can fail sets the attempt's error with
 * meshd_set_error() (naming the file or the parameter) and returns
 * MESHD_FAILED, or MESHD_RETRY when SQLite reports a lock that a later
 * attempt may not meet.
 */
#ifndef MESHD_PLUGINS_WAREHOUSE_H
#define MESHD_PLUGINS_WAREHOUSE_H

#include <stdint.h>

#include <sqlite3.h>

#include <meshd/plugin.h>

/* Wall clock, microseconds since the Unix epoch, UTC. */
int64_t		 wh_now_us(void);

/* A new formatted string, or NULL when out of memory.  Caller frees. */
char		*wh_printf(const char *fmt, ...) MESHD_PRINTF(1, 2);

/* The string parameter `key`, which must be set and not empty.  *out is
 * owned by the host (valid until the callback returns). */
meshd_status	 wh_param_required(meshd_ctx *ctx, const char *key,
		    const char **out);

/* SQLite result code -> stage status: a busy or locked database is worth
 * another attempt; anything else is not. */
meshd_status	 wh_sqlite_status(int rc);

/* Open (and with `create`, create) a database with a busy timeout taken
 * from the parameter `busy_timeout_ms` (default 10000). */
meshd_status	 wh_open(meshd_ctx *ctx, const char *path, int create,
		    sqlite3 **dbp);

/* Run SQL without results.  `what` names the database in the error. */
meshd_status	 wh_exec(meshd_ctx *ctx, sqlite3 *db, const char *what,
		    const char *sql);

/* Run a query returning one row of one column.  A NULL value sets
 * *isnull (if given) and stores 0. */
meshd_status	 wh_query_double(meshd_ctx *ctx, sqlite3 *db, const char *what,
		    const char *sql, double *out, int *isnull);

/*
 * A staging file being written by extract.  The rows go into a temporary
 * file inside one transaction; wh_stage_commit() renames it over the final
 * name, so a check never sees a half-written extract and a retried extract
 * starts from nothing.
 */
struct wh_stage {
	sqlite3	*db;
	char	*tmp;		/* path being written */
	char	*path;		/* final path */
};

/* Create staging file `name` in meshd_staging_dir() with `schema` (SQL),
 * and begin its transaction. */
meshd_status	 wh_stage_create(meshd_ctx *ctx, const char *name,
		    const char *schema, struct wh_stage *st);
/* Commit, close and rename into place; the stage is freed either way. */
meshd_status	 wh_stage_commit(meshd_ctx *ctx, struct wh_stage *st);
/* Close, remove the temporary file and free.  Safe on a zeroed stage. */
void		 wh_stage_abort(struct wh_stage *st);

/* Open the committed staging file `name` of this run.  Fails with
 * "no staging file ...: has extract run?" if it is not there. */
meshd_status	 wh_stage_open(meshd_ctx *ctx, const char *name,
		    sqlite3 **dbp, char **pathp);

/* The numeric parameter `key`, which must be set (int or double). */
meshd_status	 wh_param_double_required(meshd_ctx *ctx, const char *key,
		    double *out);

/*
 * The outcome of a check stage.  wh_check() records one result with
 * meshd_check() and remembers failed error-level ones, so that
 * wh_verdict() can end the stage with MESHD_FAILED and a message naming
 * them ("failed checks: max_delay (observed 522, expected <= 360)").
 * The host fails the stage on such a result anyway; the message is for
 * the operator reading the attempt.
 */
struct wh_verdict {
	int	failed;			/* error-level checks failed */
	int	warned;			/* warn-level checks failed */
	char	summary[1024];
};
void		 wh_check(meshd_ctx *ctx, struct wh_verdict *v,
		    const char *name, meshd_severity sev, int passed,
		    double observed, const char *expectation);
meshd_status	 wh_verdict(meshd_ctx *ctx, const struct wh_verdict *v);

/*
 * Checks shared by both domains, at error severity.  row_count: COUNT(*)
 * of `table` within [min_rows, max_rows] (parameters; min_rows defaults
 * to 1, max_rows to no bound).  not_null: one check "not_null_COLUMN" per
 * column of the NULL-ended `columns`, observing how many rows have no
 * value there.
 */
meshd_status	 wh_check_row_count(meshd_ctx *ctx, struct wh_verdict *v,
		    sqlite3 *db, const char *table, double *rows);
meshd_status	 wh_check_not_null(meshd_ctx *ctx, struct wh_verdict *v,
		    sqlite3 *db, const char *table,
		    const char *const *columns);

/*
 * Publish staging table `from` of staging file `stage_name` into
 * `table` of the database named by the parameter `warehouse`: in one
 * transaction, create the table if needed (`create` must give it the
 * columns `partition_key TEXT` and `published_us INTEGER` besides
 * `columns`), delete this partition's rows and insert the staged ones.
 * `columns` is the comma-separated column list, the same in both tables.
 * Records the metrics rows (the partition's row count, shown in the
 * catalog) and rows_replaced.
 */
struct wh_publish {
	const char	*stage_name;
	const char	*from;
	const char	*table;
	const char	*create;
	const char	*columns;
};
meshd_status	 wh_publish(meshd_ctx *ctx, const struct wh_publish *p);

#endif

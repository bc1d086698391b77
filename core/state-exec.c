/* state-exec.c -- where an attempt runs (state-exec.h). */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "state-exec.h"
#include "util.h"

/* Prepared on each call: a remote attempt is submitted to a scheduler
 * whose own cost is a thousand times this. */
static sqlite3_stmt *
xprepare(struct state *st, const char *sql, char **cause)
{
	sqlite3_stmt	*stmt;

	if (sqlite3_prepare_v2(state_sqlite(st), sql, -1, &stmt, NULL) !=
	    SQLITE_OK) {
		set_cause(cause, "%s: %s", state_path(st),
		    sqlite3_errmsg(state_sqlite(st)));
		return NULL;
	}
	return stmt;
}

static int
xstep(struct state *st, sqlite3_stmt *stmt, const char *what, char **cause)
{
	int	rc = sqlite3_step(stmt);

	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		set_cause(cause, "%s: cannot record %s: %s", state_path(st),
		    what, sqlite3_errmsg(state_sqlite(st)));
		return -1;
	}
	return 0;
}

static void
xbind_text(sqlite3_stmt *stmt, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(stmt, i);
	else
		sqlite3_bind_text(stmt, i, v, -1, SQLITE_TRANSIENT);
}

int
state_attempt_set_exec(struct state *st, int64_t attempt_id,
    const char *executor, const char *ext_name, int ext_index, char **cause)
{
	sqlite3_stmt	*stmt;

	if ((stmt = xprepare(st, "UPDATE attempts SET executor = ?2, "
	    "ext_name = ?3, ext_index = ?4 WHERE id = ?1", cause)) == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, attempt_id);
	xbind_text(stmt, 2, executor);
	xbind_text(stmt, 3, ext_name);
	sqlite3_bind_int(stmt, 4, ext_index);
	return xstep(st, stmt, "the attempt's executor", cause);
}

int
state_attempt_set_ext(struct state *st, int64_t attempt_id,
    const char *ext_id, const char *ext_state, char **cause)
{
	sqlite3_stmt	*stmt;

	if ((stmt = xprepare(st, "UPDATE attempts SET "
	    "ext_id = coalesce(?2, ext_id), ext_state = coalesce(?3, ext_state) "
	    "WHERE id = ?1", cause)) == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, attempt_id);
	xbind_text(stmt, 2, ext_id);
	xbind_text(stmt, 3, ext_state);
	return xstep(st, stmt, "the attempt's Slurm job", cause);
}

static char *
col_dup(sqlite3_stmt *stmt, int i)
{
	const unsigned char *v = sqlite3_column_text(stmt, i);

	return v != NULL ? xstrdup((const char *)v) : NULL;
}

int
state_remote_attempt(struct state *st, int64_t ti_id,
    struct remote_attempt *out, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(out, 0, sizeof *out);
	if ((stmt = xprepare(st, "SELECT id, try_number, executor, ext_name, "
	    "coalesce(ext_index, 0), ext_id, log_path FROM attempts "
	    "WHERE task_instance_id = ?1 AND state = 'running' AND "
	    "executor IS NOT NULL ORDER BY id DESC LIMIT 1", cause)) == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, ti_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		out->attempt_id = sqlite3_column_int64(stmt, 0);
		out->ti_id = ti_id;
		out->try_number = sqlite3_column_int(stmt, 1);
		out->executor = col_dup(stmt, 2);
		out->ext_name = col_dup(stmt, 3);
		out->ext_index = sqlite3_column_int(stmt, 4);
		out->ext_id = col_dup(stmt, 5);
		out->log_path = col_dup(stmt, 6);
		rc = 1;
	} else if (rc == SQLITE_DONE)
		rc = 0;
	else {
		set_cause(cause, "%s: %s", state_path(st),
		    sqlite3_errmsg(state_sqlite(st)));
		rc = -1;
	}
	sqlite3_finalize(stmt);
	return rc;
}

void
remote_attempt_clear(struct remote_attempt *a)
{
	free(a->executor);
	free(a->ext_name);
	free(a->ext_id);
	free(a->log_path);
	memset(a, 0, sizeof *a);
}

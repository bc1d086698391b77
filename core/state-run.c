/* state-run.c -- writes to a run from outside the engine (state-run.h). */
#include <sqlite3.h>
#include <stdint.h>

#include "state.h"
#include "state-run.h"
#include "util.h"

/* Run one UPDATE binding (?1 now, ?2 run_id[, ?3 why]).  0 or -1. */
static int
state_run_update(struct state *st, const char *sql, int64_t now_us,
    int64_t run_id, const char *why, char **cause)
{
	sqlite3_stmt	*stmt = NULL;
	int		 rc = -1;

	if (sqlite3_prepare_v2(state_sqlite(st), sql, -1, &stmt, NULL) !=
	    SQLITE_OK)
		goto out;
	sqlite3_bind_int64(stmt, 1, now_us);
	sqlite3_bind_int64(stmt, 2, run_id);
	if (why != NULL)
		sqlite3_bind_text(stmt, 3, why, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_DONE)
		rc = 0;
out:
	if (rc != 0)
		set_cause(cause, "%s: cannot record the run as failed: %s",
		    state_path(st), sqlite3_errmsg(state_sqlite(st)));
	sqlite3_finalize(stmt);
	return rc;
}

int
state_run_abandon(struct state *st, int64_t run_id, const char *why,
    int64_t now_us, char **cause)
{
	/* The state API finishes attempts by id, and the engine that knew
	 * them is gone: find the run's running ones. */
	if (state_run_update(st, "UPDATE attempts SET state = 'failed', "
	    "ended_us = ?1, reason = ?3 WHERE state = 'running' AND "
	    "task_instance_id IN (SELECT id FROM task_instances WHERE "
	    "run_id = ?2)", now_us, run_id, why, cause) != 0)
		return -1;
	return state_run_update(st, "UPDATE product_partitions SET state = "
	    "'missing', updated_us = ?1 WHERE run_id = ?2 AND state NOT IN "
	    "('published', 'quarantined')", now_us, run_id, NULL, cause);
}

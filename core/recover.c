/* recover.c -- after a crash: finish what was in flight, find what to
 * resume. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "engine.h"
#include "executor.h"
#include "util.h"
#include "meshd/plugin.h"

struct lost_attempt {
	char	*log_path;
	int	 attempt;
};

struct lost_attempt *
engine_lost_attempts(struct state *st, const struct meshd_config *cfg,
    size_t *np)
{
	sqlite3_stmt		*stmt;
	struct lost_attempt	*v = NULL;
	size_t			 n = 0;
	char			*sql, *remote;
	int			 rc;

	*np = 0;
	/* Not those on a remote executor: they are adopted. */
	remote = config_remote_in(cfg);
	sql = xasprintf("SELECT log_path, try_number FROM attempts WHERE "
	    "state = 'running' AND log_path IS NOT NULL AND (executor IS NULL "
	    "OR executor NOT IN %s)", remote);
	free(remote);
	rc = sqlite3_prepare_v2(state_sqlite(st), sql, -1, &stmt, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return NULL;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n].log_path = xstrdup((const char *)
		    sqlite3_column_text(stmt, 0));
		v[n].attempt = sqlite3_column_int(stmt, 1);
		n++;
	}
	sqlite3_finalize(stmt);
	*np = n;
	return v;
}

void
engine_lost_close(struct lost_attempt *v, size_t n, int committed)
{
	struct task_result	 r;
	size_t			 i;

	memset(&r, 0, sizeof r);
	r.status = MESHD_FAILED;
	r.reason = (char *)(uintptr_t)"daemon restarted (meshd stopped while "
	    "the attempt ran; the task gets a new attempt)";
	for (i = 0; i < n; i++) {
		if (committed)
			executor_log_outcome(v[i].log_path, v[i].attempt, &r);
		free(v[i].log_path);
	}
	free(v);
}

static int
exec_bind(sqlite3 *db, const char *sql, int64_t a, int64_t b, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		set_cause(cause, "recover: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, a);
	if (sqlite3_bind_parameter_count(stmt) > 1)
		sqlite3_bind_int64(stmt, 2, b);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		set_cause(cause, "recover: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int
engine_recover(struct state *st, const struct meshd_config *cfg,
    const struct jobset *js, struct recovered_run **out, size_t *nout,
    char **cause)
{
	char			*remote, *sql1, *sql2;
	int			 rc;
	sqlite3			*db = state_sqlite(st);
	sqlite3_stmt		*stmt = NULL;
	struct recovered_run	*v = NULL;
	size_t			 n = 0;
	int64_t			 now = now_us();
	struct job_def		*job;

	*out = NULL;
	*nout = 0;
	if (state_begin(st, cause) != 0)
		return -1;
	/* Attempts in flight when the daemon died are over: their workers
	 * died with it.  Their tasks get a new attempt.  Not so on a remote
	 * executor: a Slurm job outlives meshd, and the run's reopening
	 * adopts it (engine-exec.c). */
	remote = config_remote_in(cfg);
	sql1 = xasprintf("UPDATE attempts SET state = 'failed', ended_us = "
	    "?1, reason = 'daemon restarted' WHERE state = 'running' AND "
	    "(executor IS NULL OR executor NOT IN %s)", remote);
	sql2 = xasprintf("UPDATE task_instances SET state = 'queued', "
	    "reason = 'daemon restarted' WHERE state IN ('running', "
	    "'up_for_retry') AND run_id IN (SELECT id FROM runs WHERE state IN "
	    "('queued', 'running')) AND id NOT IN (SELECT task_instance_id "
	    "FROM attempts WHERE state = 'running' AND executor IN %s)",
	    remote);
	free(remote);
	rc = exec_bind(db, sql1, now, 0, cause) != 0 ||
	    exec_bind(db, sql2, now, 0, cause) != 0;
	free(sql1);
	free(sql2);
	if (rc)
		goto fail;
	if (sqlite3_prepare_v2(db, "SELECT r.id, j.name, r.partition_key, "
	    "r.interval_start_us, r.interval_end_us, r.\"trigger\" FROM runs r "
	    "JOIN jobs j ON j.id = r.job_id WHERE r.state IN ('queued', "
	    "'running') ORDER BY r.id", -1, &stmt, NULL) != SQLITE_OK) {
		set_cause(cause, "recover: %s", sqlite3_errmsg(db));
		goto fail;
	}
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int64_t		 run_id = sqlite3_column_int64(stmt, 0);
		const char	*name = (const char *)sqlite3_column_text(stmt, 1);

		if ((job = jobset_find(js, name)) == NULL) {
			if (exec_bind(db, "UPDATE attempts SET state = "
			    "'failed', ended_us = ?2, reason = 'job no longer "
			    "configured' WHERE state = 'running' AND "
			    "task_instance_id IN (SELECT id FROM task_instances "
			    "WHERE run_id = ?1)", run_id, now, cause) != 0 ||
			    exec_bind(db, "UPDATE task_instances SET state = "
			    "'cancelled', reason = 'job no longer configured', "
			    "ended_us = ?2 WHERE run_id = ?1 AND state NOT IN "
			    "('success', 'skipped', 'failed', 'upstream_failed', "
			    "'cancelled')", run_id, now, cause) != 0 ||
			    exec_bind(db, "UPDATE runs SET state = 'failed', "
			    "ended_us = ?2 WHERE id = ?1", run_id, now,
			    cause) != 0)
				goto fail;
			continue;
		}
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n].job = job;
		v[n].key = xstrdup((const char *)sqlite3_column_text(stmt, 2));
		v[n].istart = sqlite3_column_int64(stmt, 3);
		v[n].iend = sqlite3_column_int64(stmt, 4);
		v[n].trigger = xstrdup_null((const char *)
		    sqlite3_column_text(stmt, 5));
		n++;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (state_commit(st, cause) != 0)
		goto fail_nostmt;
	*out = v;
	*nout = n;
	return 0;
fail:
	sqlite3_finalize(stmt);
	state_rollback(st);
fail_nostmt:
	recovered_runs_free(v, n);
	return -1;
}

void
recovered_runs_free(struct recovered_run *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].trigger);
	}
	free(v);
}

/* runner.c -- one partition of one job, in the foreground, on the engine. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor.h"
#include "partition.h"
#include "runner.h"
#include "schedule.h"
#include "util.h"

volatile int runner_interrupted;

int
runner_resolve_partition(const struct job_def *job, const char *key,
    int64_t now, char **canon, int64_t *istart, int64_t *iend,
    char **cause)
{
	int64_t		 lo = 0, hi = 0, dummy, cur, last;
	char		*c = NULL;
	int		 scheduled = job_has_schedule(job);

	if (scheduled && job->start != NULL) {
		if (job_parse_key(job, job->start, &lo, &dummy, &c, cause) != 0)
			return -1;
		free(c);
	}
	if (scheduled && job->end != NULL) {
		if (job_parse_key(job, job->end, &hi, &dummy, &c, cause) != 0)
			return -1;
		free(c);
	}
	if (key == NULL && !scheduled)
		key = PARTITION_DEFAULT_KEY;
	if (key == NULL) {
		/* The latest interval that has ended, within [start, end). */
		last = job_prev_fire(job, now + 1);
		if (hi != 0 && last > hi)
			last = hi;
		cur = last >= 0 ? job_prev_fire(job, last) : -1;
		if (cur < 0 || (lo != 0 && cur < lo)) {
			set_cause(cause, "job '%s' has no complete partition "
			    "yet%s%s%s", job->name, job->start != NULL ?
			    " (it starts at " : "", job->start != NULL ?
			    job->start : "", job->start != NULL ? ")" : "");
			return -1;
		}
		*istart = cur;
		*iend = job_next_fire(job, cur);
		*canon = job_key(job, cur);
		return 0;
	}
	if (job_parse_key(job, key, istart, iend, &c, cause) != 0)
		return -1;
	if (scheduled && ((lo != 0 && *istart < lo) ||
	    (hi != 0 && *istart >= hi))) {
		set_cause(cause, "partition %s is outside job '%s' "
		    "(start %s, end %s)", c, job->name,
		    job->start != NULL ? job->start : "-",
		    job->end != NULL ? job->end : "-");
		free(c);
		return -1;
	}
	*canon = c;
	return 0;
}

int
runner_run(const struct meshd_config *cfg, struct state *st,
    struct executor *ex, const struct job_def *job, const char *key,
    const char *trigger, const struct run_observer *obs,
    struct run_summary **out, char **cause)
{
	struct engine	*e;
	char		*canon = NULL;
	int64_t		 istart, iend;
	int		 rc = -1;

	*out = NULL;
	if (runner_resolve_partition(job, key, now_us(), &canon, &istart,
	    &iend, cause) != 0)
		return -1;
	e = engine_new(cfg, st, ex, obs);
	if (engine_add_run(e, job, canon, istart, iend, trigger, ENGINE_RERUN,
	    NULL, cause) != 0)
		goto out;
	while (engine_active_runs(e) > 0) {
		if (runner_interrupted)
			engine_cancel_all(e, "cancelled: interrupted by "
			    "operator");
		/* Wake at least once a second to notice an interrupt. */
		if (engine_step(e, 1000, cause) != 0)
			goto out;
	}
	*out = engine_take_summary(e);
	rc = 0;
out:
	engine_free(e);
	free(canon);
	return rc;
}

void
runner_executor_opts(const struct meshd_config *cfg, int workers,
    struct executor_opts *eo)
{
	memset(eo, 0, sizeof *eo);
	eo->workers = workers > 0 ? workers : cfg->workers;
	eo->max_tasks = cfg->worker_max_tasks;
	eo->memory_mb = cfg->worker_memory_mb;
	eo->kill_grace_s = cfg->kill_grace_s;
	eo->heartbeat_timeout_s = cfg->heartbeat_timeout_s;
	eo->log_max_bytes = cfg->log_max_bytes;
	eo->log_overflow_fails = cfg->log_overflow_fails;
	eo->task_max_bytes = cfg->task_max_bytes;
	eo->empty_check_fails = cfg->empty_check_fails;
}

int
runner_scratch_open(const struct meshd_config *real,
    struct runner_scratch *sc, char **cause)
{
	const char	*tmp = getenv("TMPDIR");
	char		*tmpl;

	memset(sc, 0, sizeof *sc);
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	tmpl = xasprintf("%s/meshctl-test.XXXXXX", tmp);
	if (mkdtemp(tmpl) == NULL) {
		set_cause(cause, "%s: cannot make a scratch directory: %s",
		    tmpl, strerror(errno));
		free(tmpl);
		return -1;
	}
	sc->dir = tmpl;
	sc->state_db = xasprintf("%s/state.db", sc->dir);
	sc->log_dir = xasprintf("%s/logs", sc->dir);
	sc->staging_dir = xasprintf("%s/staging", sc->dir);
	sc->out_dir = xasprintf("%s/out", sc->dir);
	if (mkdir_p(sc->out_dir, 0750, cause) != 0)
		goto fail;
	/* A plain copy: every setting but these is the real one (pools,
	 * limits, timeouts, kill grace), so a stage is contained as in
	 * production.  Lineage off: its events describe real runs. */
	sc->cfg = *real;
	sc->cfg.state_db = sc->state_db;
	sc->cfg.log_dir = sc->log_dir;
	sc->cfg.staging_dir = sc->staging_dir;
	sc->cfg.lineage_sink = LINEAGE_SINK_NONE;
	sc->cfg.lineage_path = NULL;
	sc->cfg.lineage_url = NULL;
	/* Alerts a test raises stay in the throwaway state: no deliverer
	 * reads it, and no team is paged for a trial. */
	sc->cfg.alerts = NULL;
	sc->cfg.state_group = NULL;
	sc->cfg.sync_full = 0;
	if ((sc->st = state_open(sc->state_db, STATE_RDWR, cause)) == NULL)
		goto fail;
	return 0;
fail:
	runner_scratch_close(sc, 0);
	return -1;
}

static int
scratch_rm(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
runner_scratch_close(struct runner_scratch *sc, int keep)
{
	if (sc->st != NULL)
		state_close(sc->st);
	sc->st = NULL;
	/* FTW_PHYS: a symbolic link a plugin left is removed, never
	 * followed; FTW_MOUNT: nothing mounted inside is touched. */
	if (sc->dir != NULL && !keep)
		nftw(sc->dir, scratch_rm, 16, FTW_DEPTH | FTW_PHYS |
		    FTW_MOUNT);
	free(sc->dir);
	free(sc->state_db);
	free(sc->log_dir);
	free(sc->staging_dir);
	free(sc->out_dir);
	memset(sc, 0, sizeof *sc);
}

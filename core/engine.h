/*
 * engine.h -- many runs at once on one worker pool: the core of the daemon
 * and of `meshctl run`.
 *
 * The engine keeps the active runs, walks each run's DAG with readiness
 * counters, hands ready tasks to the executor, applies retries, and
 * records every attempt, check result, metric and product partition.
 * Changes are group-committed: every result that has arrived is written in
 * one transaction, and observers hear of a change only after it is
 * committed.  A finished task makes its successors ready and launches them
 * in the same pass: nothing is rescanned and nothing sleeps between steps.
 */
#ifndef MESHD_ENGINE_H
#define MESHD_ENGINE_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "executor.h"
#include "job.h"
#include "state.h"

/* Callbacks for progress display and logging; any may be NULL.  Called
 * after the change they report is committed. */
struct run_observer {
	void	(*run_start)(void *arg, const struct job_def *,
		    const char *key, int64_t istart, int64_t iend,
		    int64_t run_id);
	void	(*task_start)(void *arg, const struct job_def *,
		    const char *key, int64_t run_id, const char *task_id,
		    int attempt, pid_t pid);
	void	(*task_end)(void *arg, const struct job_def *,
		    const char *key, int64_t run_id, const char *task_id,
		    int attempt, const char *state, const char *reason,
		    int64_t duration_us);
	void	(*run_end)(void *arg, const struct job_def *,
		    const char *key, int64_t run_id, const char *state,
		    int64_t duration_us);
	/* The attempt's start and end by the clock of the worker that ran
	 * it (CLOCK_REALTIME, us): what the plugin saw, without the
	 * supervisor's bookkeeping.  0 when no worker ran it. */
	void	(*task_times)(void *arg, int64_t run_id, const char *task_id,
		    int64_t started_us, int64_t ended_us);
	void	 *arg;
};

struct run_task_summary {
	char	*task_id;
	char	*stage;
	char	*state;		/* success failed skipped upstream_failed ... */
	int	 tries;
	int64_t	 duration_us;	/* of the last attempt */
	char	*reason;	/* NULL on success */
};

struct run_summary {
	int64_t			 run_id;
	char			*job;
	char			*partition_key;
	char			*state;		/* success failed cancelled */
	int64_t			 duration_us;
	struct run_task_summary	*tasks;		/* in topological order */
	size_t			 ntasks;
};

struct engine;

/* An engine on the given state and pool; neither is owned. */
struct engine	*engine_new(const struct meshd_config *, struct state *,
		    struct executor *, const struct run_observer *);
/* The remote executors (xremote.h), by executor index - 1 (a NULL entry,
 * or none at all as in meshctl run, runs those tasks locally).  Neither
 * the array nor its entries are owned; they must outlive the engine. */
struct xremote;
void		 engine_set_remotes(struct engine *, struct xremote **,
		    size_t);
/* Free the engine.  Active runs are abandoned as they are in the state
 * (the next engine_recover() picks them up). */
void		 engine_free(struct engine *);

/*
 * How engine_add_run() treats tasks that already succeeded in an earlier
 * attempt of the same run.
 */
enum engine_redo {
	ENGINE_RESUME,	/* keep them: never run a committed success twice */
	ENGINE_RERUN	/* run every task again (an explicit `meshctl run`) */
};

/*
 * Open the run (job, key) with its interval, record it as running and make
 * it active.  `job` must stay valid until the run ends.  The key must be
 * canonical (see runner_resolve_partition()).  A run that is already
 * active is refused.  0, or -1 with cause.
 */
int		 engine_add_run(struct engine *, const struct job_def *,
		    const char *key, int64_t istart, int64_t iend,
		    const char *trigger, enum engine_redo, int64_t *run_id,
		    char **cause);
/*
 * Open the runs added between these two in one transaction (a backfill
 * admits dozens at once): each engine_add_run() still succeeds or fails
 * alone, and the runs are announced, and may start, only once
 * engine_add_runs_end() has committed them all.  If that commit fails,
 * none of them is active.  0, or -1 with cause.
 */
int		 engine_add_runs_begin(struct engine *, char **cause);
int		 engine_add_runs_end(struct engine *, char **cause);
/*
 * One pass: move due retries back to ready, launch every ready task there
 * is a worker for, wait up to timeout_ms (-1: until something happens)
 * for results, commit them, and close runs that have ended.  Returns 0, or
 * -1 with cause on a state or executor error.
 */
int		 engine_step(struct engine *, int timeout_ms, char **cause);
/*
 * Faults (issue 10).  engine_set_paused(): launch nothing new while set
 * (the daemon's disk headroom); running attempts go on and their results
 * are committed.  engine_held(): results read but waiting for the state
 * to be writable again (see state_pending()).  engine_infra_fault(): the
 * last fault in meshd's own directories a worker reported (the log or
 * staging directory cannot be written), while launching backs off for
 * it; NULL when there is none.  Such an attempt does not count against
 * its task's retries.
 */
void		 engine_set_paused(struct engine *, int);
size_t		 engine_held(const struct engine *);
const char	*engine_infra_fault(const struct engine *);
/* Milliseconds until the earliest retry is due (0: now), -1 if none. */
int64_t		 engine_next_due(const struct engine *);
/* Active runs, and tasks running now. */
size_t		 engine_active_runs(const struct engine *);
size_t		 engine_running_tasks(const struct engine *);
/* Active runs of one job. */
size_t		 engine_job_active_runs(const struct engine *, const char *job);
/* Is the run (job, key) active? */
int		 engine_is_active(const struct engine *, const char *job,
		    const char *key);
/* Does any active run use this job definition? */
int		 engine_uses_job(const struct engine *, const struct job_def *);
/* Cancel every active run: running attempts are stopped (SIGTERM, then
 * SIGKILL after the grace) with `why`; nothing new is launched. */
void		 engine_cancel_all(struct engine *, const char *why);
/* Cancel one active run: nothing more of it starts, its running attempts
 * are stopped with `why`, and it ends as cancelled.  1 if it was active,
 * 0 if not. */
int		 engine_cancel_run(struct engine *, const char *job,
		    const char *key, const char *why);
/* Shutdown, first phase: launch nothing more; running attempts go on. */
void		 engine_drain(struct engine *);
/* Shutdown, second phase: stop running attempts (SIGTERM, then SIGKILL
 * after the grace) and record them as failed with `why`; their tasks are
 * queued again and their runs left running in the state, so that the next
 * start resumes them.  No run is closed after this. */
void		 engine_stop(struct engine *, const char *why);
/* Take the summary of the most recently ended run, or NULL (for `meshctl
 * run`, which has one).  Free with run_summary_free(). */
struct run_summary *engine_take_summary(struct engine *);
void		 run_summary_free(struct run_summary *);

/*
 * After a crash: attempts recorded as running are finished as failed
 * ("daemon restarted"), their tasks made ready again (a new attempt), and
 * (except those on a remote executor of `cfg`, which the reopened run
 * adopts)
 * runs recorded as running or queued are returned in *keys so the caller
 * can add them back with ENGINE_RESUME.  Runs of jobs not in `js` are
 * ended as failed ("job no longer configured").  0, or -1 with cause.
 */
/*
 * The attempts recorded as running when meshd starts (in flight when it
 * died), read before lineage_recover() and engine_recover() finish them.
 * engine_lost_close() then appends to each attempt's log the outcome
 * trailer every other log ends with ("failed: daemon restarted"), when
 * `committed` says the state holds it, and frees the list.
 */
struct lost_attempt;
struct lost_attempt *engine_lost_attempts(struct state *,
		    const struct meshd_config *, size_t *n);
void		 engine_lost_close(struct lost_attempt *, size_t n,
		    int committed);

struct recovered_run {
	struct job_def	*job;
	char		*key;
	int64_t		 istart, iend;
	char		*trigger;
};
int		 engine_recover(struct state *, const struct meshd_config *,
		    const struct jobset *, struct recovered_run **out,
		    size_t *nout, char **cause);
void		 recovered_runs_free(struct recovered_run *, size_t);

#endif

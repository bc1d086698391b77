/*
 * runner.h -- run one partition of one job to completion.
 *
 * The runner joins the pieces: it resolves the partition and its data
 * interval, records the run in the state store, walks the job's DAG with
 * readiness counters, hands ready tasks to the executor, applies retries,
 * and records every attempt, check result, metric and product partition.
 * Changes are group-committed: all results that arrive together are
 * written in one transaction, and observers hear of a change only after it
 * is committed.
 *
 * `meshctl run` uses it in the foreground; the daemon will drive the same
 * steps for many runs at once.
 */
#ifndef MESHD_RUNNER_H
#define MESHD_RUNNER_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "executor.h"
#include "job.h"
#include "state.h"

/* Callbacks for progress display; any may be NULL.  Called after the
 * change they report is committed. */
struct run_observer {
	void	(*run_start)(void *arg, const struct job_def *,
		    const char *key, int64_t istart, int64_t iend,
		    int64_t run_id);
	void	(*task_start)(void *arg, const char *task_id, int attempt,
		    pid_t pid);
	void	(*task_end)(void *arg, const char *task_id, int attempt,
		    const char *state, const char *reason, int64_t duration_us);
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
	char			*partition_key;
	char			*state;		/* success failed cancelled */
	int64_t			 duration_us;
	struct run_task_summary	*tasks;		/* in topological order */
	size_t			 ntasks;
};

/*
 * Interrupt flag: when set (from a signal handler) the runner cancels
 * running attempts and ends the run as 'cancelled'.
 */
extern volatile int runner_interrupted;

/*
 * Resolve `key` (NULL: the latest complete interval of a scheduled job,
 * clamped to the job's end; "current" for an unscheduled one) into a
 * canonical key and its interval, checking the job's start/end bounds.
 * 0, or -1 with cause.
 */
int	runner_resolve_partition(const struct job_def *, const char *key,
	    int64_t now, char **canon, int64_t *istart, int64_t *iend,
	    char **cause);

/*
 * Run `key` of `job` to completion.  Returns 0 when the run was carried
 * out (whatever its outcome: see (*out)->state), -1 with cause when it
 * could not be (bad partition, plugin refused, state error).  *out is
 * freed with run_summary_free().
 */
int	runner_run(const struct meshd_config *, struct state *,
	    struct executor *, const struct job_def *, const char *key,
	    const char *trigger, const struct run_observer *,
	    struct run_summary **out, char **cause);
void	run_summary_free(struct run_summary *);

#endif

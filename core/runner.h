/*
 * runner.h -- run one partition of one job to completion, in the
 * foreground (`meshctl run`), on the same engine, executor and state as
 * the daemon.
 */
#ifndef MESHD_RUNNER_H
#define MESHD_RUNNER_H

#include <stdint.h>

#include "engine.h"

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
 * Run `key` of `job` to completion, running every task again.  Returns 0
 * when the run was carried out (whatever its outcome: see (*out)->state),
 * -1 with cause when it could not be (bad partition, state error).
 */
int	runner_run(const struct meshd_config *, struct state *,
	    struct executor *, const struct job_def *, const char *key,
	    const char *trigger, const struct run_observer *,
	    struct run_summary **out, char **cause);

/*
 * Scratch mode, for `meshctl test` (since 0.5.0).  A new directory made
 * with mkdtemp(3) under $TMPDIR (default /tmp) holds a throwaway state
 * database, the attempt logs and the staging areas; `cfg` is a copy of
 * the real configuration pointing there, with lineage events off.  The
 * copy shares every other setting's storage with `real`, which must
 * outlive it.  Nothing of the real state is opened, read or locked.
 */
struct runner_scratch {
	char			*dir;
	struct meshd_config	 cfg;
	struct state		*st;
	char			*state_db, *log_dir, *staging_dir, *out_dir;
};
/* 0, or -1 with cause (nothing is left behind). */
int	runner_scratch_open(const struct meshd_config *real,
	    struct runner_scratch *, char **cause);
/* Close the scratch state and, unless `keep`, remove the directory. */
void	runner_scratch_close(struct runner_scratch *, int keep);

/* The worker pool options of `cfg`, with `workers` workers (0: its
 * own), as the daemon and `meshctl run` size it. */
struct executor_opts;
void	runner_executor_opts(const struct meshd_config *, int workers,
	    struct executor_opts *);

#endif

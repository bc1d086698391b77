/*
 * request.h -- operators' requests: rows in the state database.
 *
 * meshctl writes a request in one transaction and returns: it is durable
 * from then on, whether the daemon is up, down or restarting.  The daemon
 * carries out pending requests oldest first, and marks each done or
 * failed with a result text.  The writer then wakes the daemon
 * (act_poke() in act.h) so that it acts at once.
 */
#ifndef MESHD_REQUEST_H
#define MESHD_REQUEST_H

#include <stdint.h>
#include <sys/types.h>

#include "state.h"

struct request {
	int64_t	 id;
	char	*kind;		/* "trigger" */
	char	*job;
	char	*partition_key;	/* may be NULL */
	char	*args;		/* JSON object of further arguments, or NULL */
};

/* Record a request in its own transaction; *id set.  `args` is a JSON
 * object or NULL.  0, or -1 with cause. */
int	request_add(struct state *, const char *kind, const char *job,
	    const char *key, const char *args, int64_t *id, char **cause);
/* The same inside the caller's open transaction. */
int	request_insert(struct state *, const char *kind, const char *job,
	    const char *key, const char *args, int64_t *id, char **cause);
/* The pending requests, oldest first (at most `max`).  Returns their
 * number, or -1 with cause; free with requests_free(). */
int	requests_pending(struct state *, size_t max, struct request **out,
	    char **cause);
void	requests_free(struct request *, size_t);
/* Mark a request done (ok 1) or failed (ok 0) with a result text. */
int	request_finish(struct state *, int64_t id, int ok, const char *result,
	    char **cause);
/* Has any other connection committed since the last call?  (PRAGMA
 * data_version: cheap, no I/O.)  1 on the first call. */
int	state_changed(struct state *, int64_t *last);
/*
 * Has the run of (job, key) succeeded?  1 with *why set to "partition K of
 * job J already succeeded (run N, <time>); use --rerun to run it again"
 * (new string), 0 if there is no run or it has not succeeded, -1 with
 * cause.  meshctl run and trigger ask before they act.
 */
int	request_run_succeeded(struct state *, const char *job,
	    const char *key, char **why, char **cause);
/* Does a request's args object say "rerun": true? */
int	request_args_rerun(const char *args);
/*
 * meshd's check of a trigger request whose key parsed as the interval
 * starting at `start` (canonical `key`): within the job's start and end
 * (a request recorded by an older meshctl, or before the job file
 * changed, may not be), and not a partition that already succeeded
 * unless the request says rerun.  0 to go on, 1 refused with *why (new
 * string, the request's result), -1 with cause.
 */
struct job_def;
int	request_check_trigger(struct state *, const struct job_def *,
	    const struct request *, int64_t start, const char *key,
	    char **why, char **cause);
#endif

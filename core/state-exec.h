/*
 * state-exec.h -- where an attempt runs (issue 13): the executor columns
 * of the attempts table (schema version 11).
 */
#ifndef MESHD_STATE_EXEC_H
#define MESHD_STATE_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* Record, in the open transaction that records the attempt, the
 * executor it goes to and the Slurm job name and array index it will
 * get.  0, or -1 with cause. */
int	state_attempt_set_exec(struct state *, int64_t attempt_id,
	    const char *executor, const char *ext_name, int ext_index,
	    char **cause);
/* The Slurm job id ("1234", "1234_5") and state ("PENDING", ...) as the
 * agent learnt them; NULL leaves a column as it is. */
int	state_attempt_set_ext(struct state *, int64_t attempt_id,
	    const char *ext_id, const char *ext_state, char **cause);

/* An attempt in flight on a remote executor when meshd stopped. */
struct remote_attempt {
	int64_t	 attempt_id;
	int64_t	 ti_id;
	int	 try_number;
	char	*executor;
	char	*ext_name;
	int	 ext_index;
	char	*ext_id;	/* NULL if never learnt */
	char	*log_path;
};

/* The running attempts of task instance ti_id on a remote executor (at
 * most one).  1 with *out filled, 0 if none, -1 with cause. */
int	state_remote_attempt(struct state *, int64_t ti_id,
	    struct remote_attempt *out, char **cause);
void	remote_attempt_clear(struct remote_attempt *);

#endif

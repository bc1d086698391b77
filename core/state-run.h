/*
 * state-run.h -- writes to a run from outside the engine: meshctl run
 * ending a run that failed on the state itself.
 *
 * Since 0.6.0.
 */
#ifndef MESHD_STATE_RUN_H
#define MESHD_STATE_RUN_H

#include <stdint.h>

struct state;

/*
 * A run whose engine is gone (meshctl run failed on the state, its
 * workers were stopped): every attempt of run_id still recorded as
 * running becomes failed at now_us with reason `why`, and the product
 * partitions the run was building are missing again (published and
 * quarantined ones stay), as the engine ends a failed run.  Call inside
 * a transaction the caller opened (state_begin) and commits; the run
 * and its task instances are the caller's (state_run_set, state_ti_set).
 * 0, or -1 with cause.
 */
int	state_run_abandon(struct state *, int64_t run_id, const char *why,
	    int64_t now_us, char **cause);

#endif

/* runner.c -- one partition of one job, in the foreground, on the engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (job_check_bounds(job, *istart, c, cause) != 0) {
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

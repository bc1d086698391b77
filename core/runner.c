/* runner.c -- one partition of one job, in the foreground, on the engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partition.h"
#include "runner.h"
#include "util.h"

volatile int runner_interrupted;

int
runner_resolve_partition(const struct job_def *job, const char *key,
    int64_t now, char **canon, int64_t *istart, int64_t *iend, char **cause)
{
	enum sched_grain	 g;
	int64_t			 lo = 0, hi = 0, dummy, cur;
	char			*c = NULL, *s = NULL;

	if (schedule_parse(job->schedule, &g, cause) != 0)
		return -1;
	if (g != SCHED_NONE && job->start != NULL &&
	    partition_parse(g, job->start, &lo, &dummy, &s, cause) != 0)
		goto bad;
	free(s);
	s = NULL;
	if (g != SCHED_NONE && job->end != NULL &&
	    partition_parse(g, job->end, &hi, &dummy, &s, cause) != 0)
		goto bad;
	free(s);
	s = NULL;

	if (key == NULL && g == SCHED_NONE)
		key = PARTITION_DEFAULT_KEY;
	if (key == NULL) {
		/* The latest interval that has ended, within [start, end). */
		cur = partition_floor(g, now);
		cur = partition_floor(g, cur - 1);
		if (hi != 0 && cur >= hi)
			cur = partition_floor(g, hi - 1);
		if (lo != 0 && cur < lo) {
			set_cause(cause, "job '%s' has no complete partition "
			    "yet (it starts at %s)", job->name, job->start);
			return -1;
		}
		*istart = cur;
		*iend = partition_next(g, cur);
		*canon = partition_key(g, cur);
		return 0;
	}
	if (partition_parse(g, key, istart, iend, &c, cause) != 0)
		goto bad;
	if (g != SCHED_NONE && ((lo != 0 && *istart < lo) ||
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
bad:
	free(s);
	return -1;
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

/* schedule.c -- due intervals of scheduled jobs, and catch-up. */
#include <stdlib.h>
#include <string.h>

#include "partition.h"
#include "schedule.h"
#include "util.h"

/* The grain and bounds of a job; 0 if it is not scheduled. */
static int
job_bounds(const struct job_def *job, enum sched_grain *g, int64_t *lo,
    int64_t *hi)
{
	int64_t	 dummy;
	char	*canon;

	*lo = *hi = 0;
	if (schedule_parse(job->schedule, g, NULL) != 0 || *g == SCHED_NONE)
		return 0;
	/* Validated at load time; a failure here leaves the bound open. */
	if (job->start != NULL && partition_parse(*g, job->start, lo, &dummy,
	    &canon, NULL) == 0)
		free(canon);
	if (job->end != NULL && partition_parse(*g, job->end, hi, &dummy,
	    &canon, NULL) == 0)
		free(canon);
	return 1;
}

/* Start of the first interval to consider after `watermark`. */
static int64_t
first_start(enum sched_grain g, int64_t lo, int64_t watermark, int64_t now)
{
	if (watermark > 0)
		return partition_floor(g, watermark);
	if (lo > 0)
		return lo;
	/* No start and no history: begin with the latest complete
	 * interval. */
	return partition_floor(g, partition_floor(g, now) - 1);
}

size_t
sched_due(const struct job_def *job, int64_t *watermark, int64_t now,
    int missed, struct due_interval **out)
{
	enum sched_grain	 g;
	int64_t			 lo, hi, s, e;
	struct due_interval	*v = NULL;
	size_t			 n = 0, cap = 0, keep, i;

	*out = NULL;
	if (!job_bounds(job, &g, &lo, &hi))
		return 0;
	for (s = first_start(g, lo, *watermark, now); n < SCHED_MAX_DUE;
	    s = e) {
		e = partition_next(g, s);
		if (e > now || (hi != 0 && s >= hi) || (lo != 0 && s < lo))
			break;
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[n].start = s;
		v[n].end = e;
		v[n].key = NULL;
		n++;
		*watermark = e;
	}
	keep = n;
	if (missed) {
		switch (job->catchup) {
		case CATCHUP_NONE:
			keep = 0;
			break;
		case CATCHUP_LATEST:
			keep = n > 0 ? 1 : 0;
			break;
		case CATCHUP_LAST:
			keep = n < (size_t)job->catchup_n ? n :
			    (size_t)job->catchup_n;
			break;
		case CATCHUP_ALL:
			break;
		}
	}
	/* Keep the newest `keep`, oldest first. */
	if (keep < n)
		memmove(v, v + (n - keep), keep * sizeof *v);
	for (i = 0; i < keep; i++)
		v[i].key = partition_key(g, v[i].start);
	if (keep == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	return keep;
}

void
due_free(struct due_interval *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}

int64_t
sched_next(const struct job_def *job, int64_t watermark, int64_t now)
{
	enum sched_grain	g;
	int64_t			lo, hi, s;

	if (!job_bounds(job, &g, &lo, &hi))
		return -1;
	s = first_start(g, lo, watermark, now);
	if (hi != 0 && s >= hi)
		return -1;
	return partition_next(g, s);
}

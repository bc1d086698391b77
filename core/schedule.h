/*
 * schedule.h -- which intervals of a scheduled job are due, and when the
 * next one will be.  Pure functions of the job, a watermark and a clock:
 * the daemon passes its clock in, so tests can drive time.
 *
 * A scheduled run covers the data interval [previous fire, this fire) and
 * is due once the interval has ended (Airflow's semantics).  The watermark
 * is the end of the last interval the scheduler has dealt with.
 */
#ifndef MESHD_SCHEDULE_H
#define MESHD_SCHEDULE_H

#include <stdint.h>

#include "job.h"

struct due_interval {
	int64_t	 start, end;
	char	*key;
};

/* Upper bound on intervals created in one pass (a daemon that was down
 * for years with catchup = "all" catches up in slices). */
#define SCHED_MAX_DUE 100000

/*
 * The intervals of `job` that ended at or before `now` and after the
 * watermark (0: never scheduled; the job's start, or else the latest
 * complete interval, is the first), bounded by the job's end.  With
 * `missed` set (start-up, unpause) the job's catch-up policy picks which
 * of them to return; *watermark always advances past every due interval,
 * so skipped ones are not offered again.  *out is freed with
 * due_free().  Returns the number of intervals.
 */
size_t	sched_due(const struct job_def *, int64_t *watermark, int64_t now,
	    int missed, struct due_interval **out);
void	due_free(struct due_interval *, size_t);
/* When the next interval of the job ends (its run becomes due), after
 * the watermark; -1 for an unscheduled job or one past its end. */
int64_t	sched_next(const struct job_def *, int64_t watermark, int64_t now);

#endif

/*
 * schedule.h -- a job's schedule: its fire times, its partition keys, and
 * which intervals are due.  Pure functions of the job, a watermark and a
 * clock: the daemon passes its clock in, so tests can drive time.
 *
 * A scheduled run covers the data interval [previous fire, this fire) and
 * is due once the interval has ended (Airflow's semantics); its partition
 * key is the interval start.  Macros in UTC (@daily...) use the partition
 * module's grains (keys "2001-01-02", "2001-01-02T03", "2001-02"...).  A
 * cron expression, or any schedule in another time zone, is evaluated with
 * the job's zone and DST policy, and its keys are the local time of the
 * interval start, as precise as the schedule needs: "2024-03-31" when
 * every fire is at local midnight, "2024-03-31T05" when on the hour,
 * "2024-03-31T05:30" otherwise; the second of two identical local times
 * in a fall-back overlap carries its offset, "2024-10-27T02+01:00".  An
 * interval whose start is not on that grid -- a fire moved to the end of
 * a DST gap -- is keyed by the wall time it starts at, with minutes:
 * "2024-09-29T03:45" (Pacific/Chatham), "2018-11-04T01:00"
 * (America/Sao_Paulo midnight).  Every key job_key() makes, job_parse_key()
 * reads back as the same interval.
 */
#ifndef MESHD_SCHEDULE_H
#define MESHD_SCHEDULE_H

#include <stdint.h>

#include "job.h"

/* Work out job->keyfmt from a cron job's fire times (job load). */
void	job_schedule_init(struct job_def *);
/* The first fire strictly after `t` (microseconds UTC), or -1 (none). */
int64_t	job_next_fire(const struct job_def *, int64_t t);
/* The last fire strictly before `t`, or -1. */
int64_t	job_prev_fire(const struct job_def *, int64_t t);
/* The key of the interval starting at `start` (new string). */
char	*job_key(const struct job_def *, int64_t start);
/*
 * Parse a partition key of the job into its interval [start, end) and
 * canonical form.  A key off the schedule is refused with the nearest
 * valid keys: "'2001-01-02T10' is not a partition of @daily (nearest:
 * 2001-01-02, 2001-01-03)".  An unscheduled job takes any key of
 * printable characters, with start = end = 0.
 */
int	job_parse_key(const struct job_def *, const char *key, int64_t *start,
	    int64_t *end, char **canon, char **cause);

/*
 * Is the partition starting at `start` (key `key`, for the message) within
 * the job's start and end?  0, or -1 with cause naming the bound and the
 * nearest valid key: "partition 2000-12-31 is before the start of job
 * 'x', 2001-01-01; the first valid key is 2001-01-01".  The one check of
 * every verb that takes a key (run, trigger, backfill, clear) and of
 * meshd's handling of their requests.  An unscheduled job has no bounds.
 */
int	job_check_bounds(const struct job_def *, int64_t start,
	    const char *key, char **cause);

/* Both keys of a range (backfill, clear) are partitions of the job within
 * its bounds: 0, or -1 with cause (meshd's check of a queued request). */
int	job_check_range(const struct job_def *, const char *from,
	    const char *to, char **cause);

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
 * `missed` set (start-up, reload) the job's catch-up policy picks which
 * of them to return; *watermark always advances past every due interval,
 * so skipped ones are not offered again.  *out is freed with due_free().
 * Returns the number of intervals.
 */
size_t	sched_due(const struct job_def *, int64_t *watermark, int64_t now,
	    int missed, struct due_interval **out);
void	due_free(struct due_interval *, size_t);
/* When the next interval of the job ends (its run becomes due), after
 * the watermark; -1 for an unscheduled job or one past its end. */
int64_t	sched_next(const struct job_def *, int64_t watermark, int64_t now);

#endif

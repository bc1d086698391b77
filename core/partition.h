/*
 * partition.h -- partition keys and data intervals of a schedule.
 *
 * A scheduled run covers the data interval [start, end) and its partition
 * key is the interval start, formatted by the schedule's grain:
 *   @yearly  "2001"           @monthly "2001-02"
 *   @weekly  "2001-01-01"     (weeks start on Monday 00:00 UTC)
 *   @daily   "2001-01-02"     @hourly  "2001-01-02T03"
 * An unscheduled job ("none") has free-form keys and no interval
 * (start == end == 0); its default key is "current".
 *
 * This release evaluates schedules in UTC and knows the macros only; full
 * cron expressions with time zones replace this module's schedule parser.
 */
#ifndef MESHD_PARTITION_H
#define MESHD_PARTITION_H

#include <stdint.h>

enum sched_grain {
	SCHED_NONE,
	SCHED_HOURLY,
	SCHED_DAILY,
	SCHED_WEEKLY,
	SCHED_MONTHLY,
	SCHED_YEARLY
};

#define PARTITION_DEFAULT_KEY "current"

/* Parse a job's schedule string.  0, or -1 with cause naming the accepted
 * forms. */
int	schedule_parse(const char *, enum sched_grain *, char **cause);
const char *schedule_name(enum sched_grain);

/*
 * Parse a partition key of the grain into its interval.  Accepts the
 * canonical form and, for convenience, a full timestamp on the grain
 * boundary ("2001-01-02T00:00:00Z" for @daily).  A key that is not on the
 * schedule is refused naming the nearest valid keys:
 *   "'2001-01-02T10' is not a partition of @daily (nearest: 2001-01-02,
 *    2001-01-03)".
 * *canon receives the canonical key (new string).  For SCHED_NONE any
 * non-empty key of printable characters is valid, start = end = 0.
 */
int	partition_parse(enum sched_grain, const char *key, int64_t *start,
	    int64_t *end, char **canon, char **cause);
/* Canonical key of the interval starting at `start` (new string). */
char	*partition_key(enum sched_grain, int64_t start);
/* The interval start containing `t`, and the next boundary after `start`. */
int64_t	 partition_floor(enum sched_grain, int64_t t);
int64_t	 partition_next(enum sched_grain, int64_t start);

#endif

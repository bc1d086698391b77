/*
 * ctl-time.c -- times for people: a stored UTC instant shown on the wall
 * clock of the job it belongs to.
 *
 * Operators think of a job's partitions in the job's zone (a daily job in
 * Europe/Berlin closes at Berlin midnight), so the read verbs show its
 * times there, naming the zone's abbreviation so that the reading is never
 * ambiguous across a DST change.  -u/--utc shows UTC instead, for
 * comparing jobs in different zones or reading logs kept in UTC.
 * Machine-readable output (--json) keeps UTC regardless.
 */
#include <stdio.h>

#include "meshctl.h"
#include "read-int.h"

const char *
ctl_time_job(struct ctl *ctl, const struct job_def *job, int64_t us,
    char *buf, size_t len)
{
	return read_time_local(ctl->utc, job, us, buf, len);
}

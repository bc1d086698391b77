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
#include "tz.h"

const char *
ctl_time_job(struct ctl *ctl, const struct job_def *job, int64_t us,
    char *buf, size_t len)
{
	const char	*abbr = "UTC";
	int64_t		 s, local, days, y;
	int		 m, d, sec;

	if (us == 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	/* Floor division: an instant before 1970 is still on the right day. */
	s = us / 1000000;
	if (us < 0 && us % 1000000 != 0)
		s--;
	local = s;
	if (!ctl->utc && job != NULL && job->tz != NULL)
		local = s + tz_utc_offset(job->tz, s, NULL, &abbr);
	days = local / 86400;
	if (local < 0 && local % 86400 != 0)
		days--;
	sec = (int)(local - days * 86400);
	tz_civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04lld-%02d-%02d %02d:%02d:%02d %s", (long long)y,
	    m, d, sec / 3600, sec / 60 % 60, sec % 60, abbr);
	return buf;
}

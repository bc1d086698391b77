/*
 * read-time.c -- times for people, and since=WHEN.
 *
 * Operators think of a job's partitions in the job's zone (a daily job in
 * Europe/Berlin closes at Berlin midnight), so documents carry, beside
 * each *_us instant, a *_local string on the wall clock of the job's zone
 * naming the zone's abbreviation, so that the reading is never ambiguous
 * across a DST change.  utc=1 (meshctl -u) gives UTC instead.
 */
#include <stdio.h>
#include <stdlib.h>

#include "job.h"
#include "read-int.h"
#include "tz.h"
#include "util.h"

const char *
read_time_local(int utc, const struct job_def *job, int64_t us, char *buf,
    size_t len)
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
	if (!utc && job != NULL && job->tz != NULL)
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

/* Read exactly `n` digits at *p into *v and advance; -1 if not there. */
static int
read_digits(const char **p, int n, int *v)
{
	*v = 0;
	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return -1;
		*v = *v * 10 + (*(*p)++ - '0');
	}
	return 0;
}

/*
 * A wall-clock time is read in the job's zone: in a spring-forward gap it
 * means the first instant after the gap, in a fall-back overlap the first
 * of the two readings (the earlier instant, so nothing is missed).
 */
int
read_since(const struct read_ctx *ctx, const struct job_def *job,
    const char *arg, int64_t *out, struct read_error *err)
{
	static const struct {
		char	unit;
		int64_t	s;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 }
	};
	const char	*p = arg;
	char		*end;
	long long	 n;
	int		 y, mo, d, h = 0, mi = 0, sec = 0, cm, cd;
	int64_t		 days, local, first, cy;
	size_t		 i;

	/* A duration: digits and one unit. */
	if (*p >= '0' && *p <= '9') {
		n = strtoll(p, &end, 10);
		for (i = 0; i < nitems(units); i++) {
			if (end[0] != units[i].unit || end[1] != '\0')
				continue;
			if (n > 100LL * 366 * 86400 / units[i].s)
				break;
			*out = ctx->now_us - (int64_t)n * units[i].s * 1000000;
			return 0;
		}
	}
	/* A date, or a time to the minute or the second, T or space. */
	if (read_digits(&p, 4, &y) != 0 || *p++ != '-' ||
	    read_digits(&p, 2, &mo) != 0 || *p++ != '-' ||
	    read_digits(&p, 2, &d) != 0)
		goto bad;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (read_digits(&p, 2, &h) != 0 || *p++ != ':' ||
		    read_digits(&p, 2, &mi) != 0)
			goto bad;
		if (*p == ':' && (p++, read_digits(&p, 2, &sec) != 0))
			goto bad;
	}
	if (*p != '\0' && (p[0] != 'Z' || p[1] != '\0'))
		goto bad;
	/* Round-trip the date so that 2026-02-30 is refused. */
	days = tz_days_from_civil(y, mo, d);
	tz_civil_from_days(days, &cy, &cm, &cd);
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || cy != y || cm != mo ||
	    cd != d || h > 23 || mi > 59 || sec > 59) {
		read_fail(err, 400, "since: '%s' is not a valid date or time",
		    arg);
		return -1;
	}
	local = days * 86400 + h * 3600 + mi * 60 + sec;
	if (*p == 'Z' || ctx->utc || job == NULL || job->tz == NULL)
		first = local;
	else if (tz_local_to_utc(job->tz, local, &first, NULL) == 0)
		first = tz_gap_end(job->tz, local);
	*out = first * 1000000;
	return 0;
bad:
	read_fail(err, 400, "since: '%s' is neither a duration (90m, 2h, 3d, "
	    "1w) nor a date or time (2026-11-01, 2026-11-01T10:00; Z for "
	    "UTC)", arg);
	return -1;
}

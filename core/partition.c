/* partition.c -- partition keys and data intervals of the schedule macros. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "partition.h"
#include "util.h"

#define US 1000000LL

static const struct {
	const char		*name;
	enum sched_grain	 grain;
} schedules[] = {
	{ "none", SCHED_NONE },
	{ "on_inputs", SCHED_NONE },	/* runs come from inputs, not time */
	{ "@hourly", SCHED_HOURLY },
	{ "@daily", SCHED_DAILY },
	{ "@midnight", SCHED_DAILY },
	{ "@weekly", SCHED_WEEKLY },
	{ "@monthly", SCHED_MONTHLY },
	{ "@yearly", SCHED_YEARLY },
	{ "@annually", SCHED_YEARLY },
};

int
schedule_parse(const char *s, enum sched_grain *out, char **cause)
{
	size_t	i;

	for (i = 0; i < nitems(schedules); i++) {
		if (strcmp(s, schedules[i].name) == 0) {
			*out = schedules[i].grain;
			return 0;
		}
	}
	set_cause(cause, "unknown schedule '%s' (this release accepts none, "
	    "@hourly, @daily, @weekly, @monthly, @yearly)", s);
	return -1;
}

const char *
schedule_name(enum sched_grain g)
{
	size_t	i;

	for (i = 0; i < nitems(schedules); i++)
		if (schedules[i].grain == g)
			return schedules[i].name;
	return "?";
}

static int64_t
to_us(struct tm *tm)
{
	return (int64_t)timegm(tm) * US;
}

static void
from_us(int64_t us, struct tm *tm)
{
	time_t	t = (time_t)(us / US);

	if (us < 0 && us % US != 0)
		t--;
	gmtime_r(&t, tm);
}

int64_t
partition_floor(enum sched_grain g, int64_t t)
{
	struct tm	tm;

	if (g == SCHED_NONE)
		return 0;
	from_us(t, &tm);
	tm.tm_sec = tm.tm_min = 0;
	switch (g) {
	case SCHED_HOURLY:
		break;
	case SCHED_WEEKLY:
		tm.tm_hour = 0;
		/* Monday is the first day of a week (ISO 8601). */
		tm.tm_mday -= (tm.tm_wday + 6) % 7;
		break;
	case SCHED_YEARLY:
		tm.tm_mon = 0;
		/* FALLTHROUGH */
	case SCHED_MONTHLY:
		tm.tm_mday = 1;
		/* FALLTHROUGH */
	case SCHED_DAILY:
	default:
		tm.tm_hour = 0;
		break;
	}
	tm.tm_isdst = 0;
	return to_us(&tm);
}

int64_t
partition_next(enum sched_grain g, int64_t start)
{
	struct tm	tm;

	from_us(start, &tm);
	switch (g) {
	case SCHED_NONE:
		return start;
	case SCHED_HOURLY:
		tm.tm_hour++;
		break;
	case SCHED_DAILY:
		tm.tm_mday++;
		break;
	case SCHED_WEEKLY:
		tm.tm_mday += 7;
		break;
	case SCHED_MONTHLY:
		tm.tm_mon++;
		break;
	case SCHED_YEARLY:
		tm.tm_year++;
		break;
	}
	tm.tm_isdst = 0;
	return to_us(&tm);
}

char *
partition_key(enum sched_grain g, int64_t start)
{
	struct tm	tm;

	from_us(start, &tm);
	switch (g) {
	case SCHED_NONE:
		return xstrdup(PARTITION_DEFAULT_KEY);
	case SCHED_HOURLY:
		return xasprintf("%04d-%02d-%02dT%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
	case SCHED_MONTHLY:
		return xasprintf("%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
	case SCHED_YEARLY:
		return xasprintf("%04d", tm.tm_year + 1900);
	default:
		return xasprintf("%04d-%02d-%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday);
	}
}

/*
 * Parse "YYYY[-MM[-DD[THH[:MM[:SS]]]]][Z]" into a UTC time.  Returns 0 or
 * -1; a component that is out of range is an error, not normalised.
 */
static int
parse_timestamp(const char *s, int64_t *out)
{
	struct tm	tm;
	int		v[6] = { 0, 1, 1, 0, 0, 0 }, n = 0;
	const char	*p = s;
	static const char seps[] = "--T::";
	static const int widths[] = { 4, 2, 2, 2, 2, 2 };
	static const int lo[] = { 1, 1, 1, 0, 0, 0 };
	static const int hi[] = { 9999, 12, 31, 23, 59, 60 };

	while (n < 6) {
		int	i, val = 0;

		for (i = 0; i < widths[n]; i++) {
			if (!isdigit((unsigned char)p[i]))
				return -1;
			val = val * 10 + (p[i] - '0');
		}
		if (val < lo[n] || val > hi[n])
			return -1;
		v[n++] = val;
		p += widths[n - 1];
		if (*p == '\0' || (*p == 'Z' && p[1] == '\0'))
			break;
		if (n == 6 || *p != seps[n - 1])
			return -1;
		p++;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	*out = to_us(&tm);
	/* Reject 2001-02-30 and friends, which timegm() would normalise. */
	from_us(*out, &tm);
	if (tm.tm_mday != v[2] || tm.tm_mon != v[1] - 1)
		return -1;
	return 0;
}

int
partition_parse(enum sched_grain g, const char *key, int64_t *start,
    int64_t *end, char **canon, char **cause)
{
	int64_t		 t, floor;
	const char	*p;
	char		*a, *b;

	if (g == SCHED_NONE) {
		if (*key == '\0') {
			set_cause(cause, "empty partition key");
			return -1;
		}
		for (p = key; *p != '\0'; p++) {
			if (!isprint((unsigned char)*p) || *p == '/') {
				set_cause(cause, "partition key '%s' contains "
				    "a character that is not allowed", key);
				return -1;
			}
		}
		/* A key names directories (staging_dir/JOB/KEY): "." and ".."
		 * would name the job's directory or staging_dir itself. */
		if (strcmp(key, ".") == 0 || strcmp(key, "..") == 0) {
			set_cause(cause, "partition key '%s' is not allowed: "
			    "it would name a directory above the partition's",
			    key);
			return -1;
		}
		*start = *end = 0;
		*canon = xstrdup(key);
		return 0;
	}
	if (parse_timestamp(key, &t) != 0) {
		set_cause(cause, "'%s' is not a partition key of %s "
		    "(expected e.g. '%s')", key, schedule_name(g),
		    g == SCHED_HOURLY ? "2001-01-02T03" :
		    g == SCHED_MONTHLY ? "2001-02" :
		    g == SCHED_YEARLY ? "2001" : "2001-01-02");
		return -1;
	}
	floor = partition_floor(g, t);
	if (floor != t) {
		a = partition_key(g, floor);
		b = partition_key(g, partition_next(g, floor));
		set_cause(cause, "'%s' is not a partition of %s (nearest: %s, "
		    "%s)", key, schedule_name(g), a, b);
		free(a);
		free(b);
		return -1;
	}
	*start = t;
	*end = partition_next(g, t);
	*canon = partition_key(g, t);
	return 0;
}

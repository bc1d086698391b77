/* schedule.c -- fire times, partition keys and due intervals of a job. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "partition.h"
#include "schedule.h"
#include "tz.h"
#include "util.h"

#define US 1000000LL

enum keyfmt { KEY_DAY, KEY_HOUR, KEY_MINUTE };

/* The grain of a macro job in UTC; 0 for cron jobs and unscheduled. */
static int
job_grain(const struct job_def *job, enum sched_grain *g)
{
	if (job->cron != NULL)
		return 0;
	if (schedule_parse(job->schedule, g, NULL) != 0 || *g == SCHED_NONE)
		return 0;
	return 1;
}

static int
job_scheduled(const struct job_def *job)
{
	enum sched_grain	g;

	return job->cron != NULL || job_grain(job, &g);
}

int64_t
job_next_fire(const struct job_def *job, int64_t t)
{
	enum sched_grain	g;
	int64_t			f, s;

	if (job_grain(job, &g)) {
		f = partition_floor(g, t);
		return f > t ? f : partition_next(g, f);
	}
	if (job->cron == NULL)
		return -1;
	/* cron works in whole seconds: the first fire after floor(t). */
	s = t >= 0 ? t / US : -((-t + US - 1) / US);
	s = cron_next(job->cron, job->tz, s, (enum cron_dst)job->dst);
	return s < 0 ? -1 : s * US;
}

int64_t
job_prev_fire(const struct job_def *job, int64_t t)
{
	enum sched_grain	 g;
	/*
	 * cron only looks forward: walk forward from ever earlier points.
	 * The widest window is twice cron_next()'s search span (28 years),
	 * so a fire that cron_next() can reach from its predecessor is found
	 * again from here: "0 0 *\/31 2 mon" waits 11 years between fires.
	 */
	static const int64_t	 windows[] = { 2 * 86400, 64 * 86400,
	    800 * 86400, 9 * 366 * 86400LL, 30 * 366 * 86400LL,
	    57 * 366 * 86400LL };
	int64_t			 f, last;
	size_t			 i;

	if (job_grain(job, &g))
		return partition_floor(g, t - 1);
	if (job->cron == NULL)
		return -1;
	for (i = 0; i < nitems(windows); i++) {
		last = -1;
		for (f = job_next_fire(job, t - windows[i] * US - 1);
		    f >= 0 && f < t; f = job_next_fire(job, f))
			last = f;
		if (last >= 0)
			return last;
	}
	return -1;
}

void
job_schedule_init(struct job_def *job)
{
	static const int fmts[] = { KEY_DAY, KEY_HOUR, KEY_MINUTE };

	/* From the expression, not from sampled fires: loading 10,000 jobs
	 * must stay fast. */
	job->keyfmt = fmts[cron_key_precision(job->cron)];
}

/*
 * The key names the local wall time of the interval start, as precise as
 * the schedule needs -- and more precise when this interval needs it, so
 * that the key reads back as the same instant: a fire moved to the end of
 * a DST gap ("0 3 * * *" in Pacific/Chatham fires at 03:45 on 2024-09-29)
 * is keyed by the wall time it happened at, "2024-09-29T03:45", not by the
 * 03:00 that never was; a day key whose midnight was skipped
 * (America/Sao_Paulo, 2018-11-04) becomes "2018-11-04T01:00".  The second
 * of two equal local times (fall back) shows its offset, so that the two
 * intervals have different keys.
 */
char *
job_key(const struct job_def *job, int64_t start)
{
	enum sched_grain	 g;
	int64_t			 local, days, y, sod, first, second;
	int			 m, d, hh, mm, ss, off, fmt, twice;
	char			 buf[80], suffix[16] = "";

	if (job_grain(job, &g))
		return partition_key(g, start);
	if (job->cron == NULL)
		return xstrdup(PARTITION_DEFAULT_KEY);
	local = tz_to_local(job->tz, start / US);
	days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	tz_civil_from_days(days, &y, &m, &d);
	sod = local - days * 86400;
	hh = (int)(sod / 3600);
	mm = (int)(sod % 3600 / 60);
	ss = (int)(sod % 60);
	twice = tz_local_to_utc(job->tz, local, &first, &second) == 2 &&
	    start / US == second;
	if (twice) {
		off = tz_utc_offset(job->tz, start / US, NULL, NULL);
		snprintf(suffix, sizeof suffix, "%c%02d:%02d",
		    off < 0 ? '-' : '+', abs(off) / 3600, abs(off) % 3600 / 60);
	}
	fmt = job->keyfmt;
	if (ss != 0)
		fmt = KEY_MINUTE + 1;	/* a zone's odd-second transition */
	else if ((fmt == KEY_DAY && (hh != 0 || mm != 0 || twice)) ||
	    (fmt == KEY_HOUR && mm != 0))
		fmt = KEY_MINUTE;
	switch (fmt) {
	case KEY_DAY:
		snprintf(buf, sizeof buf, "%04lld-%02d-%02d", (long long)y, m,
		    d);
		break;
	case KEY_HOUR:
		snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d%s",
		    (long long)y, m, d, hh, suffix);
		break;
	case KEY_MINUTE:
		snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d%s",
		    (long long)y, m, d, hh, mm, suffix);
		break;
	default:
		snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d%s",
		    (long long)y, m, d, hh, mm, ss, suffix);
		break;
	}
	return xstrdup(buf);
}

/* Read `n` digits; -1 if they are not there. */
static int
digits(const char **p, int n)
{
	int	v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

/*
 * "YYYY-MM-DD[THH[:MM[:SS]]][(+|-)HH:MM]" as local time in the job's zone.
 * A local time that a DST gap skips names the instant the gap ends, which
 * is when a fixed-hour job's fire in the gap happens (dst = vixie or
 * both): "2018-11-04" of a daily job in America/Sao_Paulo is 01:00 that
 * day, the same interval as its canonical key "2018-11-04T01:00".
 * Returns 0 and the UTC instant, or -1.
 */
static int
parse_local_key(const struct job_def *job, const char *key, int64_t *out)
{
	const char	*p = key;
	int		 y, m, d, hh = 0, mm = 0, ss = 0, sign, oh, om, n;
	int64_t		 days, local, first, second, y2;
	int		 m2, d2;

	if ((y = digits(&p, 4)) < 0 || *p++ != '-' ||
	    (m = digits(&p, 2)) < 1 || m > 12 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 1 || d > 31)
		return -1;
	if (*p == 'T') {
		p++;
		if ((hh = digits(&p, 2)) < 0 || hh > 23)
			return -1;
		if (*p == ':') {
			p++;
			if ((mm = digits(&p, 2)) < 0 || mm > 59)
				return -1;
			if (*p == ':') {
				p++;
				if ((ss = digits(&p, 2)) < 0 || ss > 59)
					return -1;
			}
		}
	}
	days = tz_days_from_civil(y, m, d);
	tz_civil_from_days(days, &y2, &m2, &d2);
	if (m2 != m || d2 != d)
		return -1;	/* 2001-02-30 */
	local = days * 86400 + hh * 3600 + mm * 60 + ss;
	n = tz_local_to_utc(job->tz, local, &first, &second);
	if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if ((oh = digits(&p, 2)) < 0 || *p++ != ':' ||
		    (om = digits(&p, 2)) < 0 || *p != '\0')
			return -1;
		*out = (local - sign * (oh * 3600 + om * 60)) * US;
		return n > 0 && (*out / US == first ||
		    (n == 2 && *out / US == second)) ? 0 : -1;
	}
	if (*p != '\0')
		return -1;
	if (n == 0) {
		if (job->cron == NULL || cron_hour_is_wildcard(job->cron) ||
		    job->dst == CRON_DST_SKIP)
			return -1;
		first = tz_gap_end(job->tz, local);
	}
	*out = first * US;
	return 0;
}

int
job_parse_key(const struct job_def *job, const char *key, int64_t *start,
    int64_t *end, char **canon, char **cause)
{
	enum sched_grain	 g;
	int64_t			 t, prev, next;
	char			*a, *b;

	if (job_grain(job, &g) || !job_scheduled(job))
		return partition_parse(job_scheduled(job) ? g : SCHED_NONE,
		    key, start, end, canon, cause);
	if (parse_local_key(job, key, &t) != 0) {
		set_cause(cause, "'%s' is not a partition key of '%s' in %s "
		    "(expected a local time like '%s')", key, job->schedule,
		    tz_name(job->tz), job->keyfmt == KEY_DAY ? "2024-03-31" :
		    job->keyfmt == KEY_HOUR ? "2024-03-31T05" :
		    "2024-03-31T05:30");
		return -1;
	}
	if (job_next_fire(job, t - 1) != t) {
		prev = job_prev_fire(job, t);
		next = job_next_fire(job, t);
		a = prev >= 0 ? job_key(job, prev) : xstrdup("-");
		b = next >= 0 ? job_key(job, next) : xstrdup("-");
		set_cause(cause, "'%s' is not a partition of '%s' in %s "
		    "(nearest: %s, %s)", key, job->schedule, tz_name(job->tz),
		    a, b);
		free(a);
		free(b);
		return -1;
	}
	*start = t;
	*end = job_next_fire(job, t);
	*canon = job_key(job, t);
	return 0;
}

/* The job's start and end bounds; 0 when open. */
static void
job_bounds(const struct job_def *job, int64_t *lo, int64_t *hi)
{
	int64_t	 dummy;
	char	*canon;

	*lo = *hi = 0;
	/* Validated at load time; a failure here leaves the bound open. */
	if (job->start != NULL && job_parse_key(job, job->start, lo, &dummy,
	    &canon, NULL) == 0)
		free(canon);
	if (job->end != NULL && job_parse_key(job, job->end, hi, &dummy,
	    &canon, NULL) == 0)
		free(canon);
}

int
job_check_bounds(const struct job_def *job, int64_t start, const char *key,
    char **cause)
{
	int64_t	 lo, hi, last;
	char	*valid;

	if (!job_scheduled(job))
		return 0;
	job_bounds(job, &lo, &hi);
	if (lo != 0 && start < lo) {
		valid = job_key(job, lo);
		set_cause(cause, "partition %s is before the start of job '%s', "
		    "%s; the first valid key is %s", key, job->name,
		    job->start, valid);
		free(valid);
		return -1;
	}
	if (hi != 0 && start >= hi) {
		last = job_prev_fire(job, hi);
		valid = last >= 0 && (lo == 0 || last >= lo) ?
		    job_key(job, last) : NULL;
		set_cause(cause, "partition %s is not before the end of job "
		    "'%s', %s (the first partition past its last); %s%s", key,
		    job->name, job->end, valid != NULL ? "the last valid key "
		    "is " : "it has no valid key", valid != NULL ? valid : "");
		free(valid);
		return -1;
	}
	return 0;
}

int
job_check_range(const struct job_def *job, const char *from, const char *to,
    char **cause)
{
	const char	*keys[2] = { from, to };
	char		*canon;
	int64_t		 s, e;
	int		 i, rc;

	for (i = 0; i < 2; i++) {
		if (job_parse_key(job, keys[i], &s, &e, &canon, cause) != 0)
			return -1;
		rc = job_check_bounds(job, s, canon, cause);
		free(canon);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Start of the first interval to consider after `watermark`. */
static int64_t
first_start(const struct job_def *job, int64_t lo, int64_t watermark,
    int64_t now)
{
	int64_t	last;

	if (watermark > 0)
		return watermark;
	if (lo > 0)
		return lo;
	/* No start and no history: begin with the latest complete
	 * interval. */
	if ((last = job_prev_fire(job, now + 1)) < 0)
		return -1;
	return job_prev_fire(job, last);
}

size_t
sched_due(const struct job_def *job, int64_t *watermark, int64_t now,
    int missed, struct due_interval **out)
{
	int64_t			 lo, hi, s, e;
	struct due_interval	*v = NULL;
	size_t			 n = 0, cap = 0, keep, i, newest = SIZE_MAX;

	*out = NULL;
	if (!job_scheduled(job))
		return 0;
	/* After an outage, a policy other than "all" keeps only the newest
	 * few: the older ones are skipped whole, however many there are.
	 * Stopping at SCHED_MAX_DUE would leave the rest to the next pass,
	 * which is not a catch-up and would run them all (a 5-minute job
	 * started in 2000 with catchup = "none" made 900,000 runs). */
	if (missed && job->catchup == CATCHUP_NONE)
		newest = 0;
	else if (missed && job->catchup == CATCHUP_LATEST)
		newest = 1;
	else if (missed && job->catchup == CATCHUP_LAST)
		newest = (size_t)job->catchup_n;
	job_bounds(job, &lo, &hi);
	for (s = first_start(job, lo, *watermark, now); s >= 0; s = e) {
		if (n == SCHED_MAX_DUE) {
			if (newest >= SCHED_MAX_DUE)
				break;	/* "all": the rest in the next pass */
			memmove(v, v + (n - newest), newest * sizeof *v);
			n = newest;
		}
		if ((e = job_next_fire(job, s)) < 0 || e > now ||
		    (hi != 0 && s >= hi))
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
		v[i].key = job_key(job, v[i].start);
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
	int64_t	lo, hi, s;

	if (!job_scheduled(job))
		return -1;
	job_bounds(job, &lo, &hi);
	if ((s = first_start(job, lo, watermark, now)) < 0 ||
	    (hi != 0 && s >= hi))
		return -1;
	return job_next_fire(job, s);
}

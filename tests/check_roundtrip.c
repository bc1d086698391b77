/*
 * check_roundtrip.c -- property test: every partition key meshd prints
 * reads back as the same interval.
 *
 * For many zones (the seven of issue 11 and some with odd offsets or DST
 * at midnight) and many schedules (macros, hourly, daily, weekly, monthly
 * cron, odd minutes, each DST policy), every fire near every offset change
 * of several years, and a sweep of fires besides, must satisfy:
 *   - job_parse_key(job_key(f)) is the interval [f, next fire), and its
 *     canonical key is the key itself (what --partition, --from/--to and
 *     the job's start/end all go through);
 *   - prev(next(f)) == f and next(prev(f)) == f;
 *   - two consecutive intervals never share a key;
 *   - a job whose start or end is the key accepts it as a bound
 *     (job_check_bounds), and refuses the interval before its start.
 * The expected values are properties, not outputs of meshd: the test
 * fails on a key naming a local time the gap skipped (03:00 on
 * 2024-09-29 in Pacific/Chatham), which meshd 0.10 printed.
 *
 * MESHD_ROUNDTRIP_YEARS (default 2) bounds how many of the years below are
 * walked around their offset changes, MESHD_ROUNDTRIP_SWEEP (default 40)
 * the fires of each sweep (within 400 days): the defaults keep it under a
 * second, and under 20 s in valgrind (tests/valgrind-unit.sh).  Raise them
 * for a long run: MESHD_ROUNDTRIP_YEARS=6 MESHD_ROUNDTRIP_SWEEP=2000.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "job.h"
#include "partition.h"
#include "schedule.h"
#include "tz.h"

#define US	1000000LL
#define DAY	86400LL

static const char *const zones[] = {
	"Europe/Berlin", "America/Sao_Paulo", "Pacific/Chatham",
	"Australia/Lord_Howe", "America/New_York", "Asia/Kolkata", "UTC",
	/* odd offsets, 30-minute DST, DST at midnight */
	"Asia/Kathmandu", "America/St_Johns", "Australia/Adelaide",
	"Asia/Tehran", "America/Havana", "Asia/Beirut", "Australia/Eucla",
};

static const char *const exprs[] = {
	"@hourly", "@daily", "@weekly", "@monthly", "@yearly",
	"0 * * * *", "30 * * * *", "7,37 * * * *", "0 */6 * * *",
	"0 0 * * *", "0 2 * * *", "0 3 * * *", "30 2 * * *", "45 1 * * *",
	"59 23 * * *", "0 0,12 * * *", "15 3 */2 * *", "0 0 * * 0",
	"0 0 1 * *", "30 0 * * 1-5",
};

/* Sao Paulo had DST until 2019, Tehran until 2022. */
static const int years[] = { 2018, 2024, 2011, 2026, 1996, 2037 };

static long	nchecked;

/* The expression as meshd's job loader makes it (job.c jload_cron()). */
static const char *
macro_expr(const char *s)
{
	static const char *const m[][2] = {
		{ "@hourly", "0 * * * *" }, { "@daily", "0 0 * * *" },
		{ "@weekly", "0 0 * * 1" }, { "@monthly", "0 0 1 * *" },
		{ "@yearly", "0 0 1 1 *" },
	};
	size_t	i;

	for (i = 0; i < sizeof m / sizeof m[0]; i++)
		if (strcmp(s, m[i][0]) == 0)
			return m[i][1];
	return s;
}

/* A job of `expr` in `zone`, whose loaded zone is `tz` (NULL: load it;
 * job_unmake() frees only what job_make() loaded). */
static void
job_make(struct job_def *job, const char *zone, struct tz *tz,
    const char *expr, int dst)
{
	char	*cause = NULL;

	memset(job, 0, sizeof *job);
	job->name = (char *)"rt";
	job->schedule = (char *)expr;
	job->dst = dst;
	if (*expr == '@' && strcmp(zone, "UTC") == 0)
		return;		/* the partition module's grains */
	if ((job->tz = tz) == NULL) {
		job->tz = tz_load(zone, &cause);
		ck_assert_msg(job->tz != NULL, "%s: %s", zone, cause);
		job->description = (char *)"owned tz";
	}
	job->cron = cron_parse(macro_expr(expr), &cause);
	ck_assert_msg(job->cron != NULL, "%s: %s", expr, cause);
	job_schedule_init(job);
}

static void
job_unmake(struct job_def *job)
{
	cron_free(job->cron);
	if (job->description != NULL)
		tz_free(job->tz);
}

static const char *
what(const struct job_def *job, const char *zone)
{
	static char	buf[128];

	snprintf(buf, sizeof buf, "'%s' in %s (dst %s)", job->schedule, zone,
	    cron_dst_name((enum cron_dst)job->dst));
	return buf;
}

/* The properties for fire `f`; `prevkey` is the previous fire's key. */
static void
check_fire(struct job_def *job, const char *zone, int64_t f,
    const char *prevkey, int bounds)
{
	int64_t	 s, e, next, p;
	char	*key, *canon = NULL, *cause = NULL;

	nchecked++;
	key = job_key(job, f);
	next = job_next_fire(job, f);
	ck_assert_msg(job_parse_key(job, key, &s, &e, &canon, &cause) == 0,
	    "%s: key '%s' of the fire at %lld is refused: %s", what(job, zone),
	    key, (long long)(f / US), cause);
	ck_assert_msg(s == f, "%s: key '%s' reads back as %lld, not %lld",
	    what(job, zone), key, (long long)(s / US), (long long)(f / US));
	ck_assert_msg(e == next, "%s: key '%s' ends at %lld, the next fire is "
	    "%lld", what(job, zone), key, (long long)(e / US),
	    (long long)(next / US));
	ck_assert_msg(strcmp(canon, key) == 0, "%s: key '%s' is canonically "
	    "'%s'", what(job, zone), key, canon);
	free(canon);
	ck_assert_msg(prevkey == NULL || strcmp(prevkey, key) != 0,
	    "%s: two intervals share key '%s'", what(job, zone), key);
	if (next >= 0)
		ck_assert_msg((p = job_prev_fire(job, next)) == f,
		    "%s: prev(next(%s)) is %lld, not %lld", what(job, zone),
		    key, (long long)(p / US), (long long)(f / US));
	if ((p = job_prev_fire(job, f)) >= 0)
		ck_assert_msg(job_next_fire(job, p) == f, "%s: next(prev(%s)) "
		    "is not the fire", what(job, zone), key);
	else
		ck_abort_msg("%s: no fire before %s", what(job, zone), key);
	if (bounds) {
		/* The key as the job's start, then as its end. */
		job->start = key;
		ck_assert_msg(job_check_bounds(job, f, key, &cause) == 0,
		    "%s: start = \"%s\" refuses its own partition: %s",
		    what(job, zone), key, cause);
		ck_assert_int_eq(job_check_bounds(job, p, "x", &cause), -1);
		ck_assert_msg(strstr(cause, key) != NULL, "%s: '%s' does not "
		    "name the first valid key %s", what(job, zone), cause, key);
		free(cause);
		cause = NULL;
		job->start = NULL;
		job->end = key;
		ck_assert_int_eq(job_check_bounds(job, f, "x", &cause), -1);
		free(cause);
		cause = NULL;
		ck_assert_msg(job_check_bounds(job, p, "x", &cause) == 0,
		    "%s: end = \"%s\" refuses the partition before: %s",
		    what(job, zone), key, cause);
		job->end = NULL;
	}
	free(key);
}

/* Fires from `from` while before `until`, and at least `min` of them,
 * at most `max`. */
static void
walk(struct job_def *job, const char *zone, int64_t from, int64_t until,
    int min, int max, int bounds)
{
	int64_t	 f = from;
	char	*prev = NULL;
	int	 n;

	for (n = 0; ; n++) {
		if (n >= max || (f = job_next_fire(job, f)) < 0 ||
		    (f >= until && n >= min))
			break;
		check_fire(job, zone, f, prev, bounds && n < 2);
		free(prev);
		prev = job_key(job, f);
	}
	free(prev);
}

static long
env_long(const char *name, long def)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? strtol(v, NULL, 10) : def;
}

/* Walk every schedule of zone `_i` around each offset change of the years,
 * and in a sweep of fires from the first year. */
START_TEST(test_roundtrip)
{
	const char	*zone = zones[_i];
	struct tz	*tz;
	struct job_def	 job;
	char		*cause = NULL;
	int64_t		 t, y0, trans[64], t0;
	size_t		 ntrans = 0, k, x;
	long		 nyears, sweep, yi;
	int		 dst, off, o;

	nyears = env_long("MESHD_ROUNDTRIP_YEARS", 2);
	sweep = env_long("MESHD_ROUNDTRIP_SWEEP", 40);
	if (nyears > (long)(sizeof years / sizeof years[0]))
		nyears = sizeof years / sizeof years[0];
	tz = tz_load(zone, &cause);
	ck_assert_msg(tz != NULL, "%s: %s", zone, cause);
	/* The offset changes of the years, found hour by hour. */
	for (yi = 0; yi < nyears; yi++) {
		y0 = tz_days_from_civil(years[yi], 1, 1) * DAY;
		off = tz_utc_offset(tz, y0, NULL, NULL);
		for (t = y0; t < y0 + 366 * DAY; t += 3600) {
			if ((o = tz_utc_offset(tz, t, NULL, NULL)) != off &&
			    ntrans < sizeof trans / sizeof trans[0])
				trans[ntrans++] = t;
			off = o;
		}
	}
	t0 = tz_days_from_civil(years[0], 3, 1) * DAY * US;
	for (x = 0; x < sizeof exprs / sizeof exprs[0]; x++) {
		for (dst = CRON_DST_VIXIE; dst <= CRON_DST_BOTH; dst++) {
			job_make(&job, zone, tz, exprs[x], dst);
			/* The policies differ only for fixed-hour cron jobs. */
			if (dst != CRON_DST_VIXIE && (job.cron == NULL ||
			    cron_hour_is_wildcard(job.cron))) {
				job_unmake(&job);
				continue;
			}
			for (k = 0; k < ntrans; k++)
				walk(&job, zone, (trans[k] - DAY) * US,
				    (trans[k] + DAY) * US, 3, 1000, k < 2);
			/* Away from offset changes the policies agree. */
			if (sweep > 0 && dst == CRON_DST_VIXIE)
				walk(&job, zone, t0, t0 + 400 * DAY * US, 3,
				    (int)sweep, 1);
			job_unmake(&job);
		}
	}
	tz_free(tz);
}
END_TEST

/*
 * The cases issue 11 names: a gap fire keyed by the wall time it happens
 * at, which every verb reads back; a previous fire 11 years back; the
 * spelling of a gap time as an alias of the fire it moves to.
 */
START_TEST(test_named_cases)
{
	struct job_def	 job;
	int64_t		 s, e, f;
	char		*key, *canon = NULL, *cause = NULL;

	job_make(&job, "Pacific/Chatham", NULL, "0 3 * * *", CRON_DST_VIXIE);
	f = job_next_fire(&job, 1727445600LL * US);	/* 2024-09-27T14Z */
	f = job_next_fire(&job, f);
	key = job_key(&job, f);
	ck_assert_str_eq(key, "2024-09-29T03:45");
	free(key);
	ck_assert_int_eq(job_parse_key(&job, "2024-09-29T03", &s, &e, &canon,
	    &cause), 0);
	ck_assert_int_eq(s, f);
	ck_assert_str_eq(canon, "2024-09-29T03:45");
	free(canon);
	job_unmake(&job);

	job_make(&job, "America/Sao_Paulo", NULL, "0 0 * * *", CRON_DST_VIXIE);
	ck_assert_int_eq(job_parse_key(&job, "2018-11-04", &s, &e, &canon,
	    &cause), 0);
	ck_assert_str_eq(canon, "2018-11-04T01:00");
	ck_assert_int_eq(s, 1541300400LL * US);	/* 2018-11-04T03:00Z */
	free(canon);
	job_unmake(&job);

	/* dst = skip: the gap's fire does not happen, its key is refused. */
	job_make(&job, "America/Sao_Paulo", NULL, "0 0 * * *", CRON_DST_SKIP);
	ck_assert_int_eq(job_parse_key(&job, "2018-11-04", &s, &e, &canon,
	    &cause), -1);
	free(cause);
	cause = NULL;
	job_unmake(&job);

	job_make(&job, "Europe/Berlin", NULL, "0 0 */31 2 mon", CRON_DST_VIXIE);
	f = job_next_fire(&job, 1801526400LL * US);	/* 2027-02-02 */
	ck_assert_int_eq(f, 2148591600LL * US);	/* 2038-01-31T23:00Z */
	key = job_key(&job, job_prev_fire(&job, f));
	ck_assert_str_eq(key, "2027-02-01");
	free(key);
	job_unmake(&job);

	/* Havana falls back at 01:00 to midnight: with dst = both, the second
	 * midnight is a partition of its own and says its offset. */
	job_make(&job, "America/Havana", NULL, "0 0 * * *", CRON_DST_BOTH);
	/* After the first midnight, 2024-11-03T04Z: the second. */
	f = job_next_fire(&job, 1730606400LL * US);
	key = job_key(&job, f);
	ck_assert_str_eq(key, "2024-11-03T00:00-05:00");
	free(key);
	job_unmake(&job);
}
END_TEST

static Suite *
roundtrip_suite(void)
{
	Suite	*s = suite_create("roundtrip");
	TCase	*tc = tcase_create("keys");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_named_cases);
	tcase_add_loop_test(tc, test_roundtrip, 0,
	    sizeof zones / sizeof zones[0]);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(roundtrip_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

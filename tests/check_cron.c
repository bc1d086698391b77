/*
 * check_cron.c -- cron expressions and fire times across DST.
 *
 * Every expected instant is a hard-coded fact (checked against Python's
 * zoneinfo and calendar when written); comments give it in ISO form.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "tz.h"

static struct cron *
parse(const char *expr)
{
	struct cron	*c;
	char		*cause = NULL;

	c = cron_parse(expr, &cause);
	ck_assert_msg(c != NULL, "%s: %s", expr, cause);
	return c;
}

static struct tz *
zone(const char *name)
{
	struct tz	*tz;
	char		*cause = NULL;

	unsetenv("TZDIR");
	tz = tz_load(name, &cause);
	ck_assert_msg(tz != NULL, "%s: %s", name, cause);
	return tz;
}

static void
parse_bad(const char *expr, const char *msg)
{
	char	*cause = NULL;

	ck_assert_msg(cron_parse(expr, &cause) == NULL, "'%s' parsed", expr);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strcmp(cause, msg) == 0, "'%s':\n got '%s'\nwant '%s'",
	    expr, cause, msg);
	free(cause);
}

/*
 * The fires of `expr` in `zname` after `after`, one by one, must be
 * exactly `want` (n of them).
 */
static void
fires(const char *zname, const char *expr, enum cron_dst dst, int64_t after,
    const int64_t *want, size_t n)
{
	struct cron	*c = parse(expr);
	struct tz	*tz = zone(zname);
	int64_t		 t = after;
	size_t		 i;

	for (i = 0; i < n; i++) {
		t = cron_next(c, tz, t, dst);
		ck_assert_msg(t == want[i], "%s '%s' %s fire %zu: got %lld, "
		    "want %lld", zname, expr, cron_dst_name(dst), i,
		    (long long)t, (long long)want[i]);
	}
	cron_free(c);
	tz_free(tz);
}

#define FIRES(z, e, d, a, ...) do {					\
	static const int64_t w_[] = { __VA_ARGS__ };			\
	fires(z, e, d, a, w_, sizeof w_ / sizeof w_[0]);		\
} while (0)

/* ------------------------------------------------------------ parsing */

START_TEST(test_parse_errors)
{
	parse_bad("61 * * * *",
	    "cron: minute field: '61' is out of range 0-59 (column 1)");
	parse_bad("30 12 * * fun",
	    "cron: day-of-week field: unknown name 'fun' (column 11)");
	parse_bad("0 0 * *", "cron: expected 5 fields (minute hour "
	    "day-of-month month day-of-week), got 4");
	parse_bad("0 0 * * * *", "cron: expected 5 fields (minute hour "
	    "day-of-month month day-of-week), got 6");
	parse_bad("", "cron: expected 5 fields (minute hour day-of-month "
	    "month day-of-week), got 0");
	parse_bad("0 1,,2 * * *",
	    "cron: hour field: empty list item (column 5)");
	parse_bad("0 1, * * *",
	    "cron: hour field: empty list item (column 5)");
	parse_bad(",5 * * * *",
	    "cron: minute field: empty list item (column 1)");
	parse_bad("*/0 * * * *",
	    "cron: minute field: step '0' is out of range 1-59 (column 3)");
	parse_bad("0 0 1-10/ * *",
	    "cron: day-of-month field: missing step after '/' (column 10)");
	parse_bad("0 5-1 * * *",
	    "cron: hour field: range '5-1' is reversed (column 3)");
	parse_bad("0 0 * * fri-mon",
	    "cron: day-of-week field: range 'fri-mon' is reversed "
	    "(column 9)");
	parse_bad("0 24 * * *",
	    "cron: hour field: '24' is out of range 0-23 (column 3)");
	parse_bad("0 0 0 * *",
	    "cron: day-of-month field: '0' is out of range 1-31 (column 5)");
	parse_bad("0 0 * 13 *",
	    "cron: month field: '13' is out of range 1-12 (column 7)");
	parse_bad("0 0 * * 8",
	    "cron: day-of-week field: '8' is out of range 0-7 (column 9)");
	parse_bad("0 0  * foo *",
	    "cron: month field: unknown name 'foo' (column 8)");
	/* Surrounding blanks: " @weekly" once fired on Sunday. */
	parse_bad(" @weekly", "cron: ' @weekly' has a leading blank "
	    "(column 1); write the schedule without surrounding blanks");
	parse_bad("0 0 * * * ", "cron: '0 0 * * * ' has a trailing blank "
	    "(column 10); write the schedule without surrounding blanks");
	parse_bad("0 0 * * mon-fun",
	    "cron: day-of-week field: unknown name 'fun' (column 13)");
	parse_bad("0 0 mon * *", "cron: day-of-month field: names are not "
	    "allowed here: 'mon' (column 5)");
	parse_bad("0 0 * * monday",
	    "cron: day-of-week field: unknown name 'monday' (column 9)");
	parse_bad("5/10 * * * *", "cron: minute field: '5/10' steps from a "
	    "single value (use '*/N' or 'A-B/N') (column 1)");
	parse_bad("1x * * * *", "cron: minute field: unexpected 'x' "
	    "(column 2)");
	parse_bad("0 -1 * * *", "cron: hour field: unexpected '-' "
	    "(column 3)");
	parse_bad("@fortnightly", "cron: unknown macro '@fortnightly' "
	    "(column 1; known: @yearly @annually @monthly @weekly @daily "
	    "@midnight @hourly)");
	parse_bad("@daily 5", "cron: unknown macro '@daily 5' (column 1; "
	    "known: @yearly @annually @monthly @weekly @daily @midnight "
	    "@hourly)");
}
END_TEST

START_TEST(test_never_fires)
{
	struct cron	*c;

	parse_bad("0 0 31 2 *",
	    "cron: never fires: day-of-month 31 does not occur in month 2");
	parse_bad("0 0 30 2 *",
	    "cron: never fires: day-of-month 30 does not occur in month 2");
	parse_bad("0 0 30-31 feb *",
	    "cron: never fires: day-of-month 30-31 does not occur in "
	    "month 2");
	parse_bad("0 0 31 4,6,9,11 *",
	    "cron: never fires: day-of-month 31 does not occur in months "
	    "4,6,9,11");
	/* Both restricted: it fires on the weekday (OR rule). */
	c = parse("0 0 31 2 fri");
	cron_free(c);
	/* 29 February does occur. */
	c = parse("0 0 29 2 *");
	cron_free(c);
}
END_TEST

START_TEST(test_names_and_sunday)
{
	static const char *const sundays[] = { "0 0 * * 0", "0 0 * * 7",
	    "0 0 * * sun", "0 0 * * SUN", "0 0 * * Sun", "0 0 * * 6-7/1",
	    "0 0 * * sat-7" };
	size_t	i;

	/* From Wednesday 2024-09-04T00:00Z: Sunday 2024-09-08, 09-15. */
	for (i = 0; i < 2; i++) {
		FIRES("UTC", sundays[i], CRON_DST_VIXIE, 1725408000,
		    1725753600, 1726358400);
	}
	for (i = 2; i < 5; i++) {
		FIRES("UTC", sundays[i], CRON_DST_VIXIE, 1725408000,
		    1725753600, 1726358400);
	}
	/* sat-7 and 6-7: Saturday 09-07 then Sunday 09-08. */
	FIRES("UTC", sundays[5], CRON_DST_VIXIE, 1725408000,
	    1725667200, 1725753600);
	FIRES("UTC", sundays[6], CRON_DST_VIXIE, 1725408000,
	    1725667200, 1725753600);
	/* Weekdays of January to March: from Friday 2024-03-29T12:00Z the
	 * next is 2025-01-01T00:00Z (a Wednesday). */
	FIRES("UTC", "0 0 * JAN-mar mon-FRI", CRON_DST_VIXIE, 1711713600,
	    1735689600);
}
END_TEST

START_TEST(test_macros)
{
	struct cron	*c;
	/* 2024-09-04T10:30:00Z, a Wednesday. */
	int64_t		 t = 1725445800;

	FIRES("UTC", "@yearly", CRON_DST_VIXIE, t, 1735689600);
	FIRES("UTC", "@annually", CRON_DST_VIXIE, t, 1735689600);
	FIRES("UTC", "@monthly", CRON_DST_VIXIE, t, 1727740800);
	/* meshd's weeks start on Monday: 2024-09-09. */
	FIRES("UTC", "@weekly", CRON_DST_VIXIE, t, 1725840000);
	FIRES("UTC", "@daily", CRON_DST_VIXIE, t, 1725494400);
	FIRES("UTC", "@hourly", CRON_DST_VIXIE, t, 1725447600);
	c = parse("@hourly");
	ck_assert_int_eq(cron_hour_is_wildcard(c), 1);
	cron_free(c);
	c = parse("@daily");
	ck_assert_int_eq(cron_hour_is_wildcard(c), 0);
	cron_free(c);
	c = parse("0 */2 * * *");
	ck_assert_int_eq(cron_hour_is_wildcard(c), 1);
	cron_free(c);
}
END_TEST

START_TEST(test_dst_names)
{
	enum cron_dst	d;

	ck_assert_int_eq(cron_dst_from_name("vixie", &d), 0);
	ck_assert_int_eq(d, CRON_DST_VIXIE);
	ck_assert_int_eq(cron_dst_from_name("skip", &d), 0);
	ck_assert_int_eq(d, CRON_DST_SKIP);
	ck_assert_int_eq(cron_dst_from_name("both", &d), 0);
	ck_assert_int_eq(d, CRON_DST_BOTH);
	ck_assert_int_eq(cron_dst_from_name("Vixie", &d), -1);
	ck_assert_int_eq(cron_dst_from_name("", &d), -1);
	ck_assert_str_eq(cron_dst_name(CRON_DST_BOTH), "both");
}
END_TEST

/* ------------------------------------------------------------ UTC rules */

START_TEST(test_dom_dow_or)
{
	/* Both restricted: every 13th and every Friday, from 2024-09-01:
	 * Fri 09-06, Fri 13 09-13, 09-20, 09-27, 10-04, 10-11, Sun 10-13,
	 * 10-18. */
	FIRES("UTC", "0 0 13 * fri", CRON_DST_VIXIE, 1725148800,
	    1725580800, 1726185600, 1726790400, 1727395200, 1728000000,
	    1728604800, 1728777600, 1729209600);
	/* "*" + "/2" counts as unrestricted (vixie): odd days AND Mondays:
	 * 2024-09-09, 09-23, 10-07, 10-21. */
	FIRES("UTC", "0 0 */2 * 1", CRON_DST_VIXIE, 1725148800,
	    1725840000, 1727049600, 1728259200, 1729468800);
}
END_TEST

START_TEST(test_weekdays)
{
	/* From Friday 2024-09-06T12:00Z: Monday 09-09, Tuesday 09-10. */
	FIRES("UTC", "0 0 * * 1-5", CRON_DST_VIXIE, 1725624000,
	    1725840000, 1725926400);
}
END_TEST

START_TEST(test_leap_day)
{
	/* From 2001-01-01T00:00Z: 2004-02-29T12:00Z, 2008-02-29T12:00Z. */
	FIRES("UTC", "0 12 29 2 *", CRON_DST_VIXIE, 978307200,
	    1078056000, 1204286400);
	/* 2100 is not a leap year: from 2096-03-01 the next is 2104-02-29,
	 * eight years on, still within the search bound. */
	FIRES("UTC", "0 12 29 2 *", CRON_DST_VIXIE, 3981398400, 4233729600);
}
END_TEST

START_TEST(test_long_wait)
{
	/* Found by fuzzing (tests/fuzz/corpus/cron/long-wait): day-of-month
	 * '*' stepped by 21 is unrestricted, so the days must also be
	 * Fridays: 1 and 22 May 2026 are, then none until 1 May 2037, eleven
	 * years on.  A 9-year search bound stopped the job for good. */
	FIRES("UTC", "0 0 */21 5 fri", CRON_DST_VIXIE, 1767225600,
	    1777593600, 1779408000, 2124748800, 2126563200);
}
END_TEST

START_TEST(test_day_31)
{
	/* From 2024-01-31T00:00Z: 03-31, 05-31, 07-31, 08-31, 10-31, 12-31. */
	FIRES("UTC", "0 0 31 * *", CRON_DST_VIXIE, 1706659200,
	    1711843200, 1717113600, 1722384000, 1725062400, 1730332800,
	    1735603200);
}
END_TEST

START_TEST(test_bounds)
{
	struct cron	*c = parse("* * * * *");
	struct tz	*tz = zone("UTC");

	ck_assert_int_eq(cron_next(c, tz, 0, CRON_DST_VIXIE), 60);
	ck_assert_int_eq(cron_next(c, tz, 59, CRON_DST_VIXIE), 60);
	ck_assert_int_eq(cron_next(c, tz, -1, CRON_DST_VIXIE), 0);
	ck_assert_int_eq(cron_next(c, tz, INT64_MAX / 2, CRON_DST_VIXIE), -1);
	ck_assert_int_eq(cron_next(c, tz, INT64_MIN / 2, CRON_DST_VIXIE), -1);
	cron_free(c);
	tz_free(tz);
}
END_TEST

/* ------------------------------------------------------------ DST */

START_TEST(test_berlin_fixed)
{
	/* 2024-03-31: 02:30 local does not exist; the job runs at the first
	 * instant after the gap, 03:00 CEST = 01:00Z, then 2024-04-01T00:30Z.
	 * From 2024-03-30T12:00Z. */
	FIRES("Europe/Berlin", "30 2 * * *", CRON_DST_VIXIE, 1711800000,
	    1711846800, 1711931400);
	/* Several gap minutes fire once. */
	FIRES("Europe/Berlin", "0,15,30,45 2 * * *", CRON_DST_VIXIE,
	    1711800000, 1711846800, 1711931400 - 1800);
	/* skip: no run on 2024-03-31. */
	FIRES("Europe/Berlin", "30 2 * * *", CRON_DST_SKIP, 1711800000,
	    1711931400);
	/* 2024-10-27: 02:30 happens twice; vixie runs at the first (CEST,
	 * 00:30Z) only, then 2024-10-28T01:30Z.  From 2024-10-26T12:00Z. */
	FIRES("Europe/Berlin", "30 2 * * *", CRON_DST_VIXIE, 1729944000,
	    1729989000, 1730079000);
	FIRES("Europe/Berlin", "30 2 * * *", CRON_DST_SKIP, 1729944000,
	    1729989000, 1730079000);
	/* both: 00:30Z and 01:30Z. */
	FIRES("Europe/Berlin", "30 2 * * *", CRON_DST_BOTH, 1729944000,
	    1729989000, 1729992600, 1730079000);
	/* Restarted inside the overlap, after the first 02:30: no rerun. */
	FIRES("Europe/Berlin", "30 2 * * *", CRON_DST_VIXIE, 1729990800,
	    1730079000);
}
END_TEST

START_TEST(test_berlin_hourly)
{
	/* From 2024-10-26T22:30Z: 01:00 CEST, 02:00 CEST (00:00Z), 02:00 CET
	 * (01:00Z), 03:00 CET. */
	FIRES("Europe/Berlin", "0 * * * *", CRON_DST_VIXIE, 1729981800,
	    1729983600, 1729987200, 1729990800, 1729994400);
	/* From 2024-03-30T22:30Z: 00:00 CET, 01:00 CET (00:00Z), then no
	 * 02:00: 03:00 CEST (01:00Z), 04:00 CEST. */
	FIRES("Europe/Berlin", "0 * * * *", CRON_DST_VIXIE, 1711837800,
	    1711839600, 1711843200, 1711846800, 1711850400);
	/* The policy does not change elapsed-time jobs. */
	FIRES("Europe/Berlin", "0 * * * *", CRON_DST_SKIP, 1729981800,
	    1729983600, 1729987200, 1729990800, 1729994400);
}
END_TEST

/* Every `step` seconds exactly, n fires after `after`. */
static void
steady(const char *zname, const char *expr, int64_t after, int64_t step,
    int n)
{
	struct cron	*c = parse(expr);
	struct tz	*tz = zone(zname);
	int64_t		 t, prev;
	int		 i;

	prev = cron_next(c, tz, after, CRON_DST_VIXIE);
	for (i = 1; i < n; i++) {
		t = cron_next(c, tz, prev, CRON_DST_VIXIE);
		ck_assert_msg(t - prev == step, "%s '%s': %lld -> %lld",
		    zname, expr, (long long)prev, (long long)t);
		prev = t;
	}
	cron_free(c);
	tz_free(tz);
}

START_TEST(test_quarter_hours)
{
	/* 2024-03-30T22:00Z and 2024-10-26T22:00Z, 8 hours of quarters. */
	steady("Europe/Berlin", "*/15 * * * *", 1711836000 - 1, 900, 32);
	steady("Europe/Berlin", "*/15 * * * *", 1729980000 - 1, 900, 32);
	/* 2024-03-10T03:00Z and 2024-11-03T02:00Z. */
	steady("America/New_York", "*/15 * * * *", 1710039600 - 1, 900, 32);
	steady("America/New_York", "*/15 * * * *", 1730599200 - 1, 900, 32);
	steady("Australia/Lord_Howe", "*/15 * * * *", 1728129600, 900, 32);
	steady("Australia/Lord_Howe", "*/15 * * * *", 1712404800, 900, 32);
}
END_TEST

START_TEST(test_new_york)
{
	/* 2024-03-10: 02:30 EST/EDT does not exist -> 03:00 EDT = 07:00Z;
	 * then 2024-03-11T06:30Z.  From 2024-03-09T12:00Z. */
	FIRES("America/New_York", "30 2 * * *", CRON_DST_VIXIE, 1709985600,
	    1710054000, 1710138600);
	FIRES("America/New_York", "30 2 * * *", CRON_DST_SKIP, 1709985600,
	    1710138600);
	/* 2024-11-03: 01:30 happens at 05:30Z (EDT) and 06:30Z (EST). */
	FIRES("America/New_York", "30 1 * * *", CRON_DST_VIXIE, 1730548800,
	    1730611800, 1730705400 - 3600);
	FIRES("America/New_York", "30 1 * * *", CRON_DST_BOTH, 1730548800,
	    1730611800, 1730615400, 1730705400 - 3600);
	/* Hourly, 2024-11-03 from 03:30Z: 00:00 EDT, 01:00 EDT, 01:00 EST,
	 * 02:00 EST. */
	FIRES("America/New_York", "0 * * * *", CRON_DST_VIXIE, 1730604600,
	    1730606400, 1730610000, 1730613600, 1730617200);
	/* Hourly, 2024-03-10 from 04:30Z: 00:00 EST, 01:00 EST, 03:00 EDT,
	 * 04:00 EDT. */
	FIRES("America/New_York", "0 * * * *", CRON_DST_VIXIE, 1710045000,
	    1710046800, 1710050400, 1710054000, 1710057600);
}
END_TEST

START_TEST(test_lord_howe)
{
	/* From 2024-10-03T12:00Z: 02:00 +1030 on 10-04 and 10-05; on 10-06
	 * the clocks go 02:00 -> 02:30, so 02:30 +11 = 2024-10-05T15:30Z;
	 * then 02:00 +11 on 10-07 = 2024-10-06T15:00Z. */
	FIRES("Australia/Lord_Howe", "0 2 * * *", CRON_DST_VIXIE, 1727956800,
	    1727969400, 1728055800, 1728142200, 1728226800);
	FIRES("Australia/Lord_Howe", "0 2 * * *", CRON_DST_SKIP, 1727956800,
	    1727969400, 1728055800, 1728226800);
}
END_TEST

START_TEST(test_kathmandu)
{
	/* Midnight at +05:45 is 18:15Z the day before: from
	 * 2024-06-01T00:00Z, 2024-06-01T18:15Z then 2024-06-02T18:15Z. */
	FIRES("Asia/Kathmandu", "0 0 * * *", CRON_DST_VIXIE, 1717200000,
	    1717265700, 1717352100);
}
END_TEST

/* A year of every-5-minutes fires must be quick (no minute-by-minute scans
 * over long spans) and strictly increasing. */
START_TEST(test_year_of_fires)
{
	struct cron	*c = parse("*/5 * * * *");
	struct tz	*tz = zone("Europe/Berlin");
	int64_t		 t = 1704067200, prev;	/* 2024-01-01T00:00Z */
	int		 n = 0;

	while (t < 1735689600) {		/* 2025-01-01T00:00Z */
		prev = t;
		t = cron_next(c, tz, t, CRON_DST_VIXIE);
		ck_assert_int_eq(t - prev, 300);
		n++;
	}
	/* Elapsed time: 366 days of 288 fires, the DST days included. */
	ck_assert_int_eq(n, 366 * 288);
	cron_free(c);
	tz_free(tz);
}
END_TEST

static Suite *
cron_suite(void)
{
	Suite	*s = suite_create("cron");
	TCase	*tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_never_fires);
	tcase_add_test(tc, test_names_and_sunday);
	tcase_add_test(tc, test_macros);
	tcase_add_test(tc, test_dst_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("utc");
	tcase_add_test(tc, test_dom_dow_or);
	tcase_add_test(tc, test_weekdays);
	tcase_add_test(tc, test_leap_day);
	tcase_add_test(tc, test_long_wait);
	tcase_add_test(tc, test_day_31);
	tcase_add_test(tc, test_bounds);
	suite_add_tcase(s, tc);
	tc = tcase_create("dst");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_berlin_fixed);
	tcase_add_test(tc, test_berlin_hourly);
	tcase_add_test(tc, test_quarter_hours);
	tcase_add_test(tc, test_new_york);
	tcase_add_test(tc, test_lord_howe);
	tcase_add_test(tc, test_kathmandu);
	tcase_add_test(tc, test_year_of_fires);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(cron_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

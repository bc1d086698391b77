/* check_partition.c -- partition keys and data intervals. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "partition.h"

#define DAY (86400LL * 1000000)
/* 2001-01-02T00:00:00Z */
#define JAN2 (978393600LL * 1000000)

static void
parse_ok(enum sched_grain g, const char *key, const char *canon,
    int64_t start, int64_t end)
{
	int64_t	 s, e;
	char	*c = NULL, *cause = NULL;

	ck_assert_msg(partition_parse(g, key, &s, &e, &c, &cause) == 0,
	    "%s: %s", key, cause);
	ck_assert_str_eq(c, canon);
	ck_assert_int_eq(s, start);
	ck_assert_int_eq(e, end);
	free(c);
}

static void
parse_bad(enum sched_grain g, const char *key, const char *msg)
{
	int64_t	 s, e;
	char	*c = NULL, *cause = NULL;

	ck_assert_int_eq(partition_parse(g, key, &s, &e, &c, &cause), -1);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(cause, msg) != NULL, "'%s' not in '%s'", msg,
	    cause);
	free(cause);
}

START_TEST(test_schedules)
{
	enum sched_grain	 g;
	char			*cause = NULL;

	ck_assert_int_eq(schedule_parse("@daily", &g, NULL), 0);
	ck_assert_int_eq(g, SCHED_DAILY);
	ck_assert_int_eq(schedule_parse("@midnight", &g, NULL), 0);
	ck_assert_int_eq(g, SCHED_DAILY);
	ck_assert_int_eq(schedule_parse("none", &g, NULL), 0);
	ck_assert_int_eq(g, SCHED_NONE);
	ck_assert_int_eq(schedule_parse("@annually", &g, NULL), 0);
	ck_assert_int_eq(g, SCHED_YEARLY);
	ck_assert_int_eq(schedule_parse("@fortnightly", &g, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "unknown schedule '@fortnightly'"));
	free(cause);
}
END_TEST

START_TEST(test_daily)
{
	parse_ok(SCHED_DAILY, "2001-01-02", "2001-01-02", JAN2, JAN2 + DAY);
	parse_ok(SCHED_DAILY, "2001-01-02T00:00:00Z", "2001-01-02", JAN2,
	    JAN2 + DAY);
	/* 2000 is a leap year: 29 February exists, 30 February does not. */
	parse_ok(SCHED_DAILY, "2000-02-29", "2000-02-29", 951782400LL * 1000000,
	    951868800LL * 1000000);
	parse_bad(SCHED_DAILY, "2001-02-29", "is not a partition key");
	parse_bad(SCHED_DAILY, "2001-01-02T10",
	    "'2001-01-02T10' is not a partition of @daily (nearest: "
	    "2001-01-02, 2001-01-03)");
	parse_bad(SCHED_DAILY, "2001-13-01", "is not a partition key");
	parse_bad(SCHED_DAILY, "01-02-2001", "is not a partition key");
	parse_bad(SCHED_DAILY, "2001-01-02x", "is not a partition key");
}
END_TEST

START_TEST(test_grains)
{
	parse_ok(SCHED_HOURLY, "2001-01-02T03", "2001-01-02T03",
	    JAN2 + 3 * 3600000000LL, JAN2 + 4 * 3600000000LL);
	/* 2001-01-01 was a Monday. */
	parse_ok(SCHED_WEEKLY, "2001-01-01", "2001-01-01", JAN2 - DAY,
	    JAN2 + 6 * DAY);
	parse_bad(SCHED_WEEKLY, "2001-01-02", "nearest: 2001-01-01, "
	    "2001-01-08");
	parse_ok(SCHED_MONTHLY, "2001-02", "2001-02", JAN2 + 30 * DAY,
	    JAN2 + 58 * DAY);
	parse_ok(SCHED_YEARLY, "2000", "2000", 946684800LL * 1000000,
	    JAN2 - DAY);
	parse_bad(SCHED_MONTHLY, "2001-02-03", "nearest: 2001-02, 2001-03");
}
END_TEST

START_TEST(test_unscheduled)
{
	parse_ok(SCHED_NONE, "current", "current", 0, 0);
	parse_ok(SCHED_NONE, "v2 reload", "v2 reload", 0, 0);
	parse_bad(SCHED_NONE, "", "empty partition key");
	parse_bad(SCHED_NONE, "a/b", "not allowed");
	/* Keys name directories: these would name a parent. */
	parse_bad(SCHED_NONE, ".", "not allowed");
	parse_bad(SCHED_NONE, "..", "not allowed");
	parse_ok(SCHED_NONE, "..x", "..x", 0, 0);
}
END_TEST

START_TEST(test_floor_next)
{
	char	*k;

	ck_assert_int_eq(partition_floor(SCHED_DAILY, JAN2 + 5), JAN2);
	ck_assert_int_eq(partition_floor(SCHED_DAILY, JAN2 - 1), JAN2 - DAY);
	ck_assert_int_eq(partition_next(SCHED_MONTHLY, JAN2 - DAY),
	    JAN2 + 30 * DAY);
	k = partition_key(SCHED_HOURLY, JAN2 + 23 * 3600000000LL);
	ck_assert_str_eq(k, "2001-01-02T23");
	free(k);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("partition");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_schedules);
	tcase_add_test(tc, test_daily);
	tcase_add_test(tc, test_grains);
	tcase_add_test(tc, test_unscheduled);
	tcase_add_test(tc, test_floor_next);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * check_tz.c -- time zones read from TZif files.
 *
 * Expected values are facts about the IANA database (checked against
 * Python's zoneinfo when written), hard-coded here.  Real zones come from
 * /usr/share/zoneinfo (Debian package tzdata); hand-built files test the
 * TZif versions, POSIX rules and corruption checks exactly.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tz.h"

/* 2024-03-31T01:00:00Z: Berlin CET -> CEST. */
#define BER_SPRING	INT64_C(1711846800)
/* 2024-10-27T01:00:00Z: Berlin CEST -> CET. */
#define BER_FALL	INT64_C(1729990800)
/* 2024-03-10T07:00:00Z: New York EST -> EDT. */
#define NY_SPRING	INT64_C(1710054000)
/* 2024-11-03T06:00:00Z: New York EDT -> EST. */
#define NY_FALL		INT64_C(1730613600)
/* 2024-10-05T15:30:00Z: Lord Howe +1030 -> +11 (local 02:00 -> 02:30). */
#define LH_SPRING	INT64_C(1728142200)
/* 2024-04-06T15:00:00Z: Lord Howe +11 -> +1030 (local 02:00 -> 01:30). */
#define LH_FALL		INT64_C(1712415600)
/* 2100-03-28T01:00:00Z and 2100-10-31T01:00:00Z: Berlin, past the tables. */
#define BER_2100_SPRING	INT64_C(4109878800)
#define BER_2100_FALL	INT64_C(4128627600)
/* 2100-03-14T07:00:00Z: New York EST -> EDT. */
#define NY_2100_SPRING	INT64_C(4108690800)

static char	tmpdir[64];

static struct tz *
load(const char *name)
{
	struct tz	*tz;
	char		*cause = NULL;

	tz = tz_load(name, &cause);
	ck_assert_msg(tz != NULL, "%s: %s", name, cause);
	return tz;
}

static void
load_bad(const char *name, const char *msg)
{
	char	*cause = NULL;

	ck_assert_ptr_null(tz_load(name, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, msg) != NULL, "'%s' not in '%s'", msg,
	    cause);
	free(cause);
}

static void
offset_is(const struct tz *tz, int64_t t, int off, int dst, const char *abbr)
{
	const char	*a = NULL;
	int		 d = -1;

	ck_assert_int_eq(tz_utc_offset(tz, t, &d, &a), off);
	ck_assert_int_eq(d, dst);
	ck_assert_str_eq(a, abbr);
}

/* Offsets one second before and at transition t. */
static void
transition_is(const struct tz *tz, int64_t t, int before, const char *ab,
    int after, const char *aa)
{
	offset_is(tz, t - 1, before, before > after, ab);
	offset_is(tz, t, after, after > before, aa);
}

static void
l2u_is(const struct tz *tz, int64_t local, int n, int64_t first,
    int64_t second)
{
	int64_t	a = -1, b = -1;

	ck_assert_int_eq(tz_local_to_utc(tz, local, &a, &b), n);
	if (n >= 1)
		ck_assert_int_eq(a, first);
	if (n == 2)
		ck_assert_int_eq(b, second);
}

static void
setup(void)
{
	unsetenv("TZDIR");
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_tz.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	char	cmd[128];

	/* Only our own mkdtemp directory. */
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	unsetenv("TZDIR");
}

/* ------------------------------------------------------------ TZif writer */

struct ttdef {
	int32_t		off;
	int		isdst;
	int		abbr;
};

static void
put32(FILE *f, uint32_t v)
{
	fputc((int)(v >> 24) & 0xff, f);
	fputc((int)(v >> 16) & 0xff, f);
	fputc((int)(v >> 8) & 0xff, f);
	fputc((int)v & 0xff, f);
}

static void
header(FILE *f, char version, uint32_t ntrans, uint32_t ntypes,
    uint32_t nchars)
{
	static const char	zeros[15];

	fwrite("TZif", 1, 4, f);
	fputc(version, f);
	fwrite(zeros, 1, 15, f);
	put32(f, 0);		/* isutcnt */
	put32(f, 0);		/* isstdcnt */
	put32(f, 0);		/* leapcnt */
	put32(f, ntrans);
	put32(f, ntypes);
	put32(f, nchars);
}

/*
 * Write $tmpdir/NAME: version 1 (32-bit block only) or 2 (a minimal v1
 * block, then the 64-bit block and the footer).
 */
static void
write_tzif(const char *name, int version, size_t ntrans, const int64_t *trans,
    const unsigned char *idx, size_t ntypes, const struct ttdef *types,
    const char *chars, size_t nchars, const char *footer)
{
	FILE	*f;
	char	 path[256];
	size_t	 i;

	snprintf(path, sizeof path, "%s/Test", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	if (version >= 2) {
		header(f, '0' + version, 0, 1, 1);
		put32(f, 0);
		fputc(0, f);
		fputc(0, f);
		fputc(0, f);
	} else
		header(f, 0, (uint32_t)ntrans, (uint32_t)ntypes,
		    (uint32_t)nchars);
	if (version >= 2)
		header(f, '0' + version, (uint32_t)ntrans, (uint32_t)ntypes,
		    (uint32_t)nchars);
	for (i = 0; i < ntrans; i++) {
		if (version >= 2)
			put32(f, (uint32_t)((uint64_t)trans[i] >> 32));
		put32(f, (uint32_t)trans[i]);
	}
	if (ntrans > 0)
		fwrite(idx, 1, ntrans, f);
	for (i = 0; i < ntypes; i++) {
		put32(f, (uint32_t)types[i].off);
		fputc(types[i].isdst, f);
		fputc(types[i].abbr, f);
	}
	fwrite(chars, 1, nchars, f);
	if (version >= 2)
		fprintf(f, "\n%s\n", footer);
	fclose(f);
}

static void
copy_prefix(const char *from, const char *name, long n)
{
	FILE	*in, *out;
	char	 path[256], buf[4096];
	size_t	 got;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(in = fopen(from, "rb"));
	ck_assert_ptr_nonnull(out = fopen(path, "wb"));
	got = fread(buf, 1, sizeof buf, in);
	ck_assert_int_gt(got, n);
	fwrite(buf, 1, (size_t)n, out);
	fclose(in);
	fclose(out);
}

/* ------------------------------------------------------------ real zones */

START_TEST(test_berlin)
{
	struct tz	*tz = load("Europe/Berlin");

	ck_assert_str_eq(tz_name(tz), "Europe/Berlin");
	transition_is(tz, BER_SPRING, 3600, "CET", 7200, "CEST");
	transition_is(tz, BER_FALL, 7200, "CEST", 3600, "CET");
	/* Local 2024-03-31 01:59 exists once; 02:00-02:59 never; 03:00 is
	 * the transition itself. */
	l2u_is(tz, BER_SPRING + 3600 - 60, 1, BER_SPRING - 60, 0);
	l2u_is(tz, BER_SPRING + 3600, 0, 0, 0);
	l2u_is(tz, BER_SPRING + 3600 + 1800, 0, 0, 0);
	l2u_is(tz, BER_SPRING + 7200 - 1, 0, 0, 0);
	l2u_is(tz, BER_SPRING + 7200, 1, BER_SPRING, 0);
	ck_assert_int_eq(tz_gap_end(tz, BER_SPRING + 3600 + 1800), BER_SPRING);
	ck_assert_int_eq(tz_gap_end(tz, BER_SPRING + 7200 + 60),
	    BER_SPRING + 60);
	/* Local 2024-10-27 02:30 happens at 00:30Z (CEST) and 01:30Z (CET);
	 * 01:59 and 03:00 once. */
	l2u_is(tz, BER_FALL + 3600 + 1800, 2, BER_FALL - 1800, BER_FALL + 1800);
	l2u_is(tz, BER_FALL + 3600, 2, BER_FALL - 3600, BER_FALL);
	l2u_is(tz, BER_FALL + 3600 - 60, 1, BER_FALL - 3600 - 60, 0);
	l2u_is(tz, BER_FALL + 7200, 1, BER_FALL + 3600, 0);
	ck_assert_int_eq(tz_to_local(tz, BER_FALL), BER_FALL + 3600);
	tz_free(tz);
}
END_TEST

START_TEST(test_new_york)
{
	struct tz	*tz = load("America/New_York");

	transition_is(tz, NY_SPRING, -18000, "EST", -14400, "EDT");
	transition_is(tz, NY_FALL, -14400, "EDT", -18000, "EST");
	/* 2024-03-10 02:30 local does not exist; 01:30 and 03:30 do. */
	l2u_is(tz, NY_SPRING - 18000 - 1800, 1, NY_SPRING - 1800, 0);
	l2u_is(tz, NY_SPRING - 18000 + 1800, 0, 0, 0);
	ck_assert_int_eq(tz_gap_end(tz, NY_SPRING - 18000 + 1800), NY_SPRING);
	l2u_is(tz, NY_SPRING - 14400 + 1800, 1, NY_SPRING + 1800, 0);
	/* 2024-11-03 01:30 local: 05:30Z (EDT) and 06:30Z (EST). */
	l2u_is(tz, NY_FALL - 14400 - 1800, 2, NY_FALL - 1800, NY_FALL + 1800);
	l2u_is(tz, NY_FALL - 18000 + 3600, 1, NY_FALL + 3600, 0);
	tz_free(tz);
}
END_TEST

START_TEST(test_lord_howe)
{
	struct tz	*tz = load("Australia/Lord_Howe");
	char		 buf[64];

	transition_is(tz, LH_SPRING, 37800, "+1030", 39600, "+11");
	transition_is(tz, LH_FALL, 39600, "+11", 37800, "+1030");
	/* 2024-10-06: 02:00-02:29 local are skipped, 30 minutes. */
	l2u_is(tz, LH_SPRING + 37800 - 60, 1, LH_SPRING - 60, 0);
	l2u_is(tz, LH_SPRING + 37800, 0, 0, 0);
	l2u_is(tz, LH_SPRING + 37800 + 29 * 60, 0, 0, 0);
	l2u_is(tz, LH_SPRING + 39600, 1, LH_SPRING, 0);
	ck_assert_int_eq(tz_gap_end(tz, LH_SPRING + 37800), LH_SPRING);
	/* 2024-04-07: 01:30-01:59 local happen twice, 30 minutes apart. */
	l2u_is(tz, LH_FALL + 37800, 2, LH_FALL - 1800, LH_FALL);
	l2u_is(tz, LH_FALL + 37800 + 1799, 2, LH_FALL - 1, LH_FALL + 1799);
	l2u_is(tz, LH_FALL + 39600, 1, LH_FALL + 1800, 0);
	ck_assert_str_eq(tz_format(tz, LH_SPRING * 1000000, buf, sizeof buf),
	    "2024-10-06 02:30 +11");
	tz_free(tz);
}
END_TEST

START_TEST(test_kathmandu)
{
	struct tz	*tz = load("Asia/Kathmandu");
	char		 buf[64];
	int		 lo, hi;

	/* 2024-06-01T00:00:00Z and 2100-01-01T00:00:00Z: +05:45, no DST. */
	offset_is(tz, 1717200000, 20700, 0, "+0545");
	offset_is(tz, 4102444800, 20700, 0, "+0545");
	/* 2024-06-01 00:00 local is 2024-05-31T18:15:00Z. */
	l2u_is(tz, 1717200000, 1, 1717179300, 0);
	ck_assert_str_eq(tz_format(tz, INT64_C(1717200000) * 1000000, buf,
	    sizeof buf), "2024-06-01 05:45 +0545");
	tz_offset_range_in(tz, 1717200000, 1717200000 + 86400 * 365, &lo, &hi);
	ck_assert_int_eq(lo, 20700);
	ck_assert_int_eq(hi, 20700);
	tz_free(tz);
}
END_TEST

START_TEST(test_far_future)
{
	struct tz	*tz;

	/* The system files' tables end in 2037; 2100 comes from the footer's
	 * POSIX rule. */
	tz = load("Europe/Berlin");
	transition_is(tz, BER_2100_SPRING, 3600, "CET", 7200, "CEST");
	transition_is(tz, BER_2100_FALL, 7200, "CEST", 3600, "CET");
	/* 2100-07-01T12:00:00Z */
	offset_is(tz, 4118126400, 7200, 1, "CEST");
	l2u_is(tz, BER_2100_SPRING + 3600 + 1800, 0, 0, 0);
	ck_assert_int_eq(tz_gap_end(tz, BER_2100_SPRING + 3600 + 1800),
	    BER_2100_SPRING);
	l2u_is(tz, BER_2100_FALL + 3600 + 1800, 2, BER_2100_FALL - 1800,
	    BER_2100_FALL + 1800);
	tz_free(tz);
	tz = load("America/New_York");
	transition_is(tz, NY_2100_SPRING, -18000, "EST", -14400, "EDT");
	tz_free(tz);
}
END_TEST

START_TEST(test_extreme_instants)
{
	struct tz	*tz;
	int		 lo, hi, isdst;

	/* Found by fuzzing (tests/fuzz/corpus/tzif): the footer's rule at
	 * any instant, however absurd, without overflowing (the sanitizer
	 * build stops on it); past 2^50 s DST stays as it is there. */
	tz = load("Europe/Berlin");
	tz_utc_offset(tz, INT64_MIN, &isdst, NULL);
	tz_utc_offset(tz, INT64_MAX, &isdst, NULL);
	tz_offset_range_in(tz, INT64_MIN, INT64_MIN + 86400, &lo, &hi);
	ck_assert_int_eq(lo, 3208);	/* LMT, before the first transition */
	ck_assert_int_eq(hi, 3208);
	tz_offset_range_in(tz, INT64_MAX - 86400, INT64_MAX, &lo, &hi);
	ck_assert_int_ge(lo, 3600);	/* the rule's, not LMT's */
	ck_assert_int_le(hi, 7200);
	tz_free(tz);
}
END_TEST

START_TEST(test_format)
{
	struct tz	*tz = load("Europe/Berlin");
	char		 buf[64];

	/* 2001-01-02T02:04:00Z */
	ck_assert_str_eq(tz_format(tz, INT64_C(978401040) * 1000000, buf,
	    sizeof buf), "2001-01-02 03:04 CET");
	ck_assert_str_eq(tz_format(tz, (BER_FALL - 1800) * 1000000, buf,
	    sizeof buf), "2024-10-27 02:30 CEST");
	ck_assert_str_eq(tz_format(tz, (BER_FALL + 1800) * 1000000, buf,
	    sizeof buf), "2024-10-27 02:30 CET");
	/* Truncated to the buffer. */
	ck_assert_str_eq(tz_format(tz, INT64_C(978401040) * 1000000, buf, 11),
	    "2001-01-02");
	tz_free(tz);
}
END_TEST

START_TEST(test_civil)
{
	int64_t	y;
	int	m, d;

	ck_assert_int_eq(tz_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(tz_days_from_civil(2000, 2, 29), 11016);
	ck_assert_int_eq(tz_days_from_civil(1969, 12, 31), -1);
	tz_civil_from_days(11016, &y, &m, &d);
	ck_assert_int_eq(y, 2000);
	ck_assert_int_eq(m, 2);
	ck_assert_int_eq(d, 29);
	tz_civil_from_days(-719468, &y, &m, &d);	/* 0000-03-01 */
	ck_assert_int_eq(y, 0);
	ck_assert_int_eq(m, 3);
	ck_assert_int_eq(d, 1);
}
END_TEST

/* ------------------------------------------------------------ names, files */

START_TEST(test_utc_without_files)
{
	struct tz	*tz;
	char		 buf[64];
	char		*cause = NULL;

	setenv("TZDIR", tmpdir, 1);	/* empty */
	tz = load("UTC");
	offset_is(tz, 1711846800, 0, 0, "UTC");
	l2u_is(tz, 1711846800, 1, 1711846800, 0);
	ck_assert_str_eq(tz_format(tz, INT64_C(978401040) * 1000000, buf,
	    sizeof buf), "2001-01-02 02:04 UTC");
	tz_free(tz);
	tz = load("Etc/UTC");
	ck_assert_str_eq(tz_name(tz), "Etc/UTC");
	tz_free(tz);
	ck_assert_ptr_null(tz_load("Europe/Berlin", &cause));
	ck_assert_ptr_nonnull(strstr(cause, tmpdir));
	ck_assert_ptr_nonnull(strstr(cause, "unknown time zone "
	    "'Europe/Berlin'"));
	free(cause);
}
END_TEST

START_TEST(test_unknown)
{
	load_bad("Mars/Base", "unknown time zone 'Mars/Base': "
	    "/usr/share/zoneinfo/Mars/Base: No such file or directory");
	load_bad("Europe", "unknown time zone 'Europe': "
	    "/usr/share/zoneinfo/Europe: not a zone file");
}
END_TEST

START_TEST(test_bad_names)
{
	load_bad("../etc/passwd", "invalid time zone name '../etc/passwd'");
	load_bad("Europe/../../etc/passwd", "invalid time zone name");
	load_bad("/etc/localtime", "invalid time zone name '/etc/localtime'");
	load_bad("", "invalid time zone name ''");
	load_bad("Europe/Ber lin", "invalid time zone name 'Europe/Ber lin'");
}
END_TEST

START_TEST(test_corrupt)
{
	static const struct ttdef	types[] = { { 3600, 0, 0 } };
	static const int64_t		trans[] = { 1000000000 };
	static const unsigned char	idx[] = { 5 };
	char				 path[256];
	FILE				*f;

	setenv("TZDIR", tmpdir, 1);
	copy_prefix("/usr/share/zoneinfo/Europe/Berlin", "Trunc", 1000);
	load_bad("Trunc", "time zone 'Trunc': ");
	load_bad("Trunc", "/Trunc: corrupt TZif file: truncated data block");
	copy_prefix("/usr/share/zoneinfo/Europe/Berlin", "Short", 30);
	load_bad("Short", "corrupt TZif file: truncated header (30 bytes)");

	snprintf(path, sizeof path, "%s/Magic", tmpdir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "%-100s\n", "this is not a zone file");
	fclose(f);
	load_bad("Magic", "corrupt TZif file: bad magic");

	write_tzif("Test/BadIdx", 1, 1, trans, idx, 1, types, "AAA", 4, NULL);
	load_bad("Test/BadIdx", "corrupt TZif file: transition 0 uses type "
	    "5 of 1");
	write_tzif("Test/BadFooter", 2, 1, trans, (const unsigned char *)"",
	    1, types, "AAA", 4, "AAA-1BBB,M13.1.0,M10.5.0");
	load_bad("Test/BadFooter", "unsupported TZ string "
	    "'AAA-1BBB,M13.1.0,M10.5.0' in footer");
}
END_TEST

/* A version 1 file: 32-bit times, no footer; the last type rules after the
 * last transition. */
START_TEST(test_v1_file)
{
	static const struct ttdef	types[] = { { 3600, 0, 0 },
					    { 7200, 1, 4 } };
	static const int64_t		trans[] = { 1000000000, 1100000000 };
	static const unsigned char	idx[] = { 1, 0 };
	struct tz			*tz;

	setenv("TZDIR", tmpdir, 1);
	write_tzif("Test/V1", 1, 2, trans, idx, 2, types, "AAA\0BBB", 8,
	    NULL);
	tz = load("Test/V1");
	offset_is(tz, 0, 3600, 0, "AAA");
	offset_is(tz, 999999999, 3600, 0, "AAA");
	offset_is(tz, 1000000000, 7200, 1, "BBB");
	offset_is(tz, 1099999999, 7200, 1, "BBB");
	offset_is(tz, 1100000000, 3600, 0, "AAA");
	offset_is(tz, 4102444800, 3600, 0, "AAA");
	l2u_is(tz, 1000000000 + 3600 + 1800, 0, 0, 0);
	ck_assert_int_eq(tz_gap_end(tz, 1000000000 + 3600 + 1800), 1000000000);
	l2u_is(tz, 1100000000 + 3600 + 1800, 2, 1100000000 - 1800,
	    1100000000 + 1800);
	tz_free(tz);
}
END_TEST

/*
 * A slim version 2 file: no transitions at all, everything from the footer.
 * Berlin's rule must give Berlin's 2024 transitions; Jn and zero-based n
 * rules and explicit DST offsets and times follow POSIX.
 */
START_TEST(test_footer_rules)
{
	static const struct ttdef	types[] = { { 3600, 0, 0 } };
	struct tz			*tz;

	setenv("TZDIR", tmpdir, 1);
	write_tzif("Test/Slim", 2, 0, NULL, NULL, 1, types, "CET", 4,
	    "CET-1CEST,M3.5.0,M10.5.0/3");
	tz = load("Test/Slim");
	transition_is(tz, BER_SPRING, 3600, "CET", 7200, "CEST");
	transition_is(tz, BER_FALL, 7200, "CEST", 3600, "CET");
	l2u_is(tz, BER_FALL + 3600 + 1800, 2, BER_FALL - 1800, BER_FALL + 1800);
	tz_free(tz);

	/* J60 is 1 March even in leap years; 300 is the zero-based day of
	 * the year (27 October 2024, 28 October 2023). */
	write_tzif("Test/Julian", 2, 0, NULL, NULL, 1, types, "AAA", 4,
	    "AAA-2BBB-3,J60/0,300/0");
	tz = load("Test/Julian");
	transition_is(tz, 1709244000, 7200, "AAA", 10800, "BBB");
	transition_is(tz, 1729976400, 10800, "BBB", 7200, "AAA");
	transition_is(tz, 1677621600, 7200, "AAA", 10800, "BBB");
	transition_is(tz, 1698440400, 10800, "BBB", 7200, "AAA");
	tz_free(tz);

	/* No DST: a fixed offset with minutes, like Kathmandu's footer. */
	write_tzif("Test/Fixed", 2, 0, NULL, NULL, 1, types, "AAA", 4,
	    "<+0545>-5:45");
	tz = load("Test/Fixed");
	offset_is(tz, 4102444800, 20700, 0, "+0545");
	tz_free(tz);
}
END_TEST

static Suite *
tz_suite(void)
{
	Suite	*s = suite_create("tz");
	TCase	*tc = tcase_create("tz");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_berlin);
	tcase_add_test(tc, test_new_york);
	tcase_add_test(tc, test_lord_howe);
	tcase_add_test(tc, test_kathmandu);
	tcase_add_test(tc, test_far_future);
	tcase_add_test(tc, test_extreme_instants);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_civil);
	tcase_add_test(tc, test_utc_without_files);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_v1_file);
	tcase_add_test(tc, test_footer_rules);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(tz_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

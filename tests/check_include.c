/*
 * check_include.c -- @include in job files and meshd.conf.
 *
 * libconfig's scanner exits the process when an @include'd file cannot be
 * read (a directory), so one line in a tenant's job file stopped
 * `meshctl validate` and meshd's load with "input in flex scanner failed"
 * (found by fuzzing, tests/fuzz/corpus/job/include-dir).  Job files may not
 * include at all; meshd.conf may include regular files only.  Check runs
 * each test in its own process: an exit there fails the test.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "errlist.h"
#include "job.h"
#include "util.h"

static char	dir[] = "/tmp/meshd-include-XXXXXX";
static char	path[4096];

static const char *
put(const char *name, const char *text)
{
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* The errors of errs, one a line, as errlist_print writes them. */
static char *
errors(const struct errlist *errs)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);

	errlist_print(errs, f);
	fclose(f);
	return buf;
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/sub", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

static void
teardown(void)
{
	char	cmd[4200];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/meshd-include-XXXXXX");
}

START_TEST(test_job_include_refused)
{
	struct errlist		 errs = ERRLIST_INIT;
	struct meshd_config	*cfg = config_defaults(dir);
	struct job_def		*job;
	char			*msg;

	put("frag.conf", "domain = \"d\";\n");
	put("x.conf", "name = \"x\";\n  @include \"sub\"\n"
	    "@include \"frag.conf\"\n");
	job = job_load_file(cfg, path, &errs);
	ck_assert_ptr_null(job);
	msg = errors(&errs);
	ck_assert_msg(strstr(msg, "x.conf:2: error: @include is not allowed "
	    "in a job file (it must be self-contained)") != NULL, "%s", msg);
	ck_assert_msg(strstr(msg, "x.conf:3: error: @include is not allowed")
	    != NULL, "%s", msg);
	free(msg);
	errlist_free(&errs);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_include_directory)
{
	struct errlist		 errs = ERRLIST_INIT;
	char			*msg;

	put("frag.conf", "workers = 2;\n@include \"/\"\n");
	put("meshd.conf", "@include \"frag.conf\"\n@include \"sub\"\n");
	ck_assert_ptr_null(config_load(path, &errs));
	msg = errors(&errs);
	ck_assert_msg(strstr(msg, "frag.conf:2: error: @include \"/\": not a "
	    "regular file") != NULL, "%s", msg);
	ck_assert_msg(strstr(msg, "meshd.conf:2: error: @include \"sub\": not "
	    "a regular file") != NULL, "%s", msg);
	free(msg);
	errlist_free(&errs);
}
END_TEST

/* Write `len` bytes of `text` to dir/meshd.conf and expect `want`. */
static void
config_refused(const char *text, size_t len, const char *want)
{
	struct errlist		 errs = ERRLIST_INIT;
	char			*msg;
	FILE			*f;

	put("meshd.conf", "");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ptr_null(config_load(path, &errs));
	msg = errors(&errs);
	ck_assert_msg(strstr(msg, want) != NULL, "%s", msg);
	free(msg);
	errlist_free(&errs);
}

START_TEST(test_config_include_nul)
{
	static const char	 nul[] = "workers = 2;\n@include \"\0\0.\"\n";
	static const char	 lines[] = "@include \"sub\n\"\n";
	char			 odd[4200];

	/* libconfig would end the name at its first NUL, and include ""
	 * (the directory): such a file is refused before. */
	config_refused(nul, sizeof nul - 1, "meshd.conf:2: error: NUL byte");
	/* libconfig reads a name up to the next quote, across lines. */
	snprintf(odd, sizeof odd, "%s/sub\n", dir);
	ck_assert_int_eq(mkdir(odd, 0755), 0);
	config_refused(lines, sizeof lines - 1, "meshd.conf:1: error: "
	    "@include \"sub\n\": not a regular file");
	rmdir(odd);
}
END_TEST

START_TEST(test_config_include_file)
{
	struct errlist		 errs = ERRLIST_INIT;
	struct meshd_config	*cfg;

	put("frag.conf", "workers = 3;\n");
	put("meshd.conf", "@include \"frag.conf\"\nkill_grace = 2;\n");
	cfg = config_load(path, &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->workers, 3);
	ck_assert_int_eq(cfg->kill_grace_s, 2);
	config_free(cfg);
	errlist_free(&errs);
}
END_TEST

START_TEST(test_config_include_loop)
{
	struct errlist		 errs = ERRLIST_INIT;
	char			*msg;

	put("meshd.conf", "@include \"meshd.conf\"\n");
	ck_assert_ptr_null(config_load(path, &errs));
	msg = errors(&errs);
	ck_assert_msg(strstr(msg, "meshd.conf:1: error: @include "
	    "\"meshd.conf\": includes nested more than 10 deep") != NULL, "%s",
	    msg);
	free(msg);
	errlist_free(&errs);
}
END_TEST

static Suite *
include_suite(void)
{
	Suite	*s = suite_create("include");
	TCase	*tc = tcase_create("include");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_job_include_refused);
	tcase_add_test(tc, test_config_include_directory);
	tcase_add_test(tc, test_config_include_nul);
	tcase_add_test(tc, test_config_include_file);
	tcase_add_test(tc, test_config_include_loop);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(include_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * check_elfcheck.c -- the plugin lint's ELF reader (core/elfcheck.c)
 * against the real test plugins, and against truncated and corrupted
 * copies of one: a plugin file is tenant input, and whatever its bytes,
 * reading it gives a result or a cause, never a crash or a read out of
 * bounds (run it under the sanitizer build to see the latter).
 */
#include <sys/stat.h>

#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elfcheck.h"
#include "util.h"

static char *
plugin_path(const char *name)
{
	const char	*top = getenv("top_builddir");

	if (top == NULL || *top == '\0')
		top = ".";
	return xasprintf("%s/tests/plugins/.libs/%s.so", top, name);
}

static int
has(char **v, size_t n, const char *s)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* The whole file, into *len. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE		*f = fopen(path, "rb");
	unsigned char	*p;
	long		 n;

	ck_assert_msg(f != NULL, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	ck_assert_int_gt(n, 0);
	rewind(f);
	p = xmalloc((size_t)n);
	ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static int
none_defined(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return 0;
}

static int
all_defined(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return 1;
}

START_TEST(test_exports)
{
	struct elfcheck	 ec;
	char		*path = plugin_path("exports"), *cause = NULL, **w;
	size_t		 n, i;

	ck_assert_int_eq(elfcheck_read(path, &ec, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_uint_eq(ec.nexports, 2);
	ck_assert(has(ec.exports, ec.nexports, "exports_helper"));
	ck_assert(has(ec.exports, ec.nexports, "exports_table"));
	ck_assert(!has(ec.exports, ec.nexports, "meshd_plugin_descriptor"));
	n = elfcheck_warnings(path, &ec, all_defined, NULL, &w);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(w[0], "exports 2 symbols beyond "
	    "meshd_plugin_descriptor"));
	ck_assert_ptr_nonnull(strstr(w[0], "-fvisibility=hidden"));
	for (i = 0; i < n; i++)
		free(w[i]);
	free(w);
	elfcheck_free(&ec);
	free(path);
}
END_TEST

START_TEST(test_nolink)
{
	struct elfcheck	 ec;
	char		*path = plugin_path("nolink"), *cause = NULL, **w;
	size_t		 n, i;

	ck_assert_int_eq(elfcheck_read(path, &ec, &cause), 0);
	ck_assert_uint_eq(ec.nexports, 0);
	ck_assert(has(ec.undefined, ec.nundefined, "sqlite3_libversion"));
	ck_assert(!has(ec.needed, ec.nneeded, "libsqlite3.so.0"));
	n = elfcheck_warnings(path, &ec, none_defined, NULL, &w);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(w[0], "sqlite3_libversion"));
	ck_assert_ptr_nonnull(strstr(w[0], "-lsqlite3"));
	for (i = 0; i < n; i++)
		free(w[i]);
	free(w);
	/* Resolved: nothing to say. */
	ck_assert_uint_eq(elfcheck_warnings(path, &ec, all_defined, NULL, &w),
	    0);
	free(w);
	elfcheck_free(&ec);
	free(path);
}
END_TEST

START_TEST(test_ok_clean)
{
	struct elfcheck	 ec;
	char		*path = plugin_path("ok"), *cause = NULL;

	ck_assert_int_eq(elfcheck_read(path, &ec, &cause), 0);
	ck_assert_uint_eq(ec.nexports, 0);
	elfcheck_free(&ec);
	free(path);
}
END_TEST

START_TEST(test_not_a_plugin)
{
	struct elfcheck	 ec;
	char		*cause = NULL;

	ck_assert_int_eq(elfcheck_read("/nonexistent/x.so", &ec, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/x.so: "));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(elfcheck_read("/", &ec, &cause), -1);
	ck_assert_str_eq(cause, "/: not a regular file");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(elfcheck_read_mem("#!/bin/sh\n", 10, "x.so", &ec,
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "x.so: cannot read as ELF: "
	    "not an ELF file"));
	free(cause);
}
END_TEST

/* Read `len` bytes; must give a result or a cause naming the input. */
static int
read_any(const unsigned char *p, size_t len)
{
	struct elfcheck	 ec;
	char		*cause = NULL, **w;
	size_t		 n, i;
	int		 rc;

	rc = elfcheck_read_mem(p, len, "t.so", &ec, &cause);
	if (rc != 0) {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(cause != NULL && strncmp(cause, "t.so: ", 6) == 0,
		    "len %zu: cause %s", len, cause ? cause : "(null)");
		free(cause);
		return -1;
	}
	ck_assert_ptr_null(cause);
	n = elfcheck_warnings("t.so", &ec, none_defined, NULL, &w);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_null(strchr(w[i], '\n'));
		free(w[i]);
	}
	free(w);
	elfcheck_free(&ec);
	return 0;
}

START_TEST(test_truncated)
{
	char		*path = plugin_path("nolink");
	unsigned char	*p;
	size_t		 len, i;

	p = slurp(path, &len);
	ck_assert_int_eq(read_any(p, len), 0);
	/* Every prefix: the section headers are at the end, so none of
	 * them is a whole file. */
	for (i = 0; i < len; i += i < 4096 ? 1 : 7)
		ck_assert_msg(read_any(p, i) == -1, "a %zu-byte prefix of "
		    "%zu reads as whole", i, len);
	free(p);
	free(path);
}
END_TEST

START_TEST(test_corrupted)
{
	static const unsigned char vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
	char		*path = plugin_path("exports");
	unsigned char	*p, *q, save;
	size_t		 len, i, v, shoff, shend;
	Elf64_Ehdr	 eh;

	p = slurp(path, &len);
	ck_assert_uint_ge(len, sizeof eh);
	memcpy(&eh, p, sizeof eh);
	shoff = (size_t)eh.e_shoff;
	shend = shoff + (size_t)eh.e_shnum * eh.e_shentsize;
	ck_assert_uint_le(shend, len);
	q = xmalloc(len);
	memcpy(q, p, len);
	/* Every byte of the ELF header and of the section headers (sizes,
	 * offsets, links, entry sizes), and of the .dynsym/.dynstr and
	 * .dynamic areas near the start, set to a few hostile values. */
	for (i = 0; i < len; i++) {
		if (!(i < 4096 || (i >= shoff && i < shend)))
			continue;
		save = q[i];
		for (v = 0; v < sizeof vals; v++) {
			q[i] = vals[v];
			(void)read_any(q, len);
		}
		q[i] = save;
	}
	free(q);
	free(p);
	free(path);
}
END_TEST

static Suite *
elfcheck_suite(void)
{
	Suite	*s = suite_create("elfcheck");
	TCase	*tc;

	tc = tcase_create("plugins");
	tcase_add_test(tc, test_exports);
	tcase_add_test(tc, test_nolink);
	tcase_add_test(tc, test_ok_clean);
	tcase_add_test(tc, test_not_a_plugin);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_corrupted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(elfcheck_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

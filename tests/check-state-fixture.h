/*
 * check-state-fixture.h -- the fixture check_state.c and check_statetxn.c
 * share: a fresh directory per test (tmp, db = tmp/state.db), removed
 * after it, and q_int() for one integer from a query.  Included once, by
 * each of those two test programs.
 */
#ifndef CHECK_STATE_FIXTURE_H
#define CHECK_STATE_FIXTURE_H

#include <sys/stat.h>

#include <check.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "state.h"
#include "util.h"

static char	*tmp;		/* fresh directory for each test */
static char	*db;		/* tmp/state.db */

static int
rm_entry(const char *path, const struct stat *sb UNUSED, int flag UNUSED,
    struct FTW *ftw UNUSED)
{
	chmod(path, 0700);	/* undo a test's read-only directory */
	return remove(path);
}

static void
setup(void)
{
	char	templ[] = "/tmp/check_state.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(templ));
	tmp = xstrdup(templ);
	db = path_join(tmp, "state.db");
}

static void
teardown(void)
{
	state_schema_set_steps(NULL, 0);
	chmod(tmp, 0700);
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(db);
	free(tmp);
}

static int64_t
q_int(sqlite3 *h, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 v;

	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

#endif

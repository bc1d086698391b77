/* check_statetxn.c -- unit tests for a state connection's transactions:
 * rollback, group commit, savepoints and the prepared-statement cache. */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "util.h"

#include "check-state-fixture.h"

static struct state *
open_ok(const char *path, enum state_mode mode)
{
	struct state	*s;
	char		*cause = NULL;

	s = state_open(path, mode, &cause);
	ck_assert_msg(s != NULL, "state_open: %s", cause);
	return s;
}

/*
 * Another connection holds the write lock: a wait gives up after the
 * connection's bound, or at its deadline if that comes first, with the
 * busy message; never waiting is possible too.
 */
/* state_prepare(): one statement per text, handed out reset and unbound,
 * still right after the cache has grown, and NULL for bad SQL. */
START_TEST(test_prepare_cache)
{
	struct state	*s;
	sqlite3_stmt	*a, *b, *c;
	char		*path = xasprintf("%s/cache.db", tmp), *sql;
	int		 i;

	s = open_ok(path, STATE_RDWR);
	a = state_prepare(s, "SELECT ?1 + 1");
	ck_assert_ptr_nonnull(a);
	sqlite3_bind_int(a, 1, 41);
	ck_assert_int_eq(sqlite3_step(a), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(a, 0), 42);
	/* Not done with: the next hand-out resets it and drops the 41. */
	b = state_prepare(s, "SELECT ?1 + 1");
	ck_assert_ptr_eq(a, b);
	ck_assert_int_eq(sqlite3_stmt_busy(b), 0);
	ck_assert_int_eq(sqlite3_step(b), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_type(b, 0), SQLITE_NULL);
	state_stmt_done(b);
	/* Many texts: the table grows and keeps every entry. */
	for (i = 0; i < 300; i++) {
		sql = xasprintf("SELECT %d", i);
		c = state_prepare(s, sql);
		ck_assert_ptr_nonnull(c);
		ck_assert_int_eq(sqlite3_step(c), SQLITE_ROW);
		ck_assert_int_eq(sqlite3_column_int(c, 0), i);
		state_stmt_done(c);
		free(sql);
	}
	ck_assert_ptr_eq(state_prepare(s, "SELECT ?1 + 1"), a);
	sql = xasprintf("SELECT %d", 7);
	c = state_prepare(s, sql);
	ck_assert_int_eq(sqlite3_step(c), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(c, 0), 7);
	state_stmt_done(c);
	free(sql);
	ck_assert_ptr_null(state_prepare(s, "SELEKT nothing"));
	state_close(s);
	free(path);
}
END_TEST

/* A savepoint undoes only what followed it; the transaction goes on and
 * commits the rest. */
START_TEST(test_savepoint)
{
	struct state	*s;
	char		*path = xasprintf("%s/sp.db", tmp), *cause = NULL;
	int64_t		 a, b, c;

	s = open_ok(path, STATE_RDWR);
	ck_assert_int_eq(state_savepoint(s, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "needs an open transaction"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(state_begin(s, &cause), 0);
	ck_assert_int_eq(state_job_sync(s, "a", "d", "o", NULL, "a.conf",
	    "@daily", &a, &cause), 0);
	ck_assert_int_eq(state_savepoint(s, &cause), 0);
	ck_assert_int_eq(state_job_sync(s, "b", "d", "o", NULL, "b.conf",
	    "@daily", &b, &cause), 0);
	state_savepoint_rollback(s);
	ck_assert_int_eq(state_savepoint(s, &cause), 0);
	ck_assert_int_eq(state_job_sync(s, "c", "d", "o", NULL, "c.conf",
	    "@daily", &c, &cause), 0);
	ck_assert_int_eq(state_release(s, &cause), 0);
	ck_assert_int_eq(state_commit(s, &cause), 0);
	ck_assert_int_eq(state_job_find(s, "a", &a, &cause), 0);
	ck_assert_int_eq(state_job_find(s, "c", &c, &cause), 0);
	ck_assert_int_eq(state_job_find(s, "b", &b, &cause), -1);
	free(cause);
	state_close(s);
	free(path);
}
END_TEST

START_TEST(test_rollback)
{
	struct state	*s = open_ok(db, STATE_RDWR);
	int64_t		 job, run;
	int		 c, i;
	char		*cause = NULL, key[32];

	ck_assert_int_eq(state_job_sync(s, "j", "d", "o", NULL, NULL, NULL,
	    &job, &cause), 0);
	ck_assert_int_eq(state_begin(s, &cause), 0);
	ck_assert_int_eq(state_begin(s, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "transaction already open"));
	free(cause);
	cause = NULL;
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof key, "k%d", i);
		ck_assert_int_eq(state_run_open(s, job, key, 0, 0, NULL, &run,
		    &c, &cause), 0);
	}
	/* A failing statement inside the batch does not end it... */
	ck_assert_int_eq(state_run_set(s, run, "bogus", 0, 0, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(q_int(state_sqlite(s), "SELECT count(*) FROM runs"),
	    100);
	/* ...and rolling back discards all of it. */
	state_rollback(s);
	ck_assert_int_eq(q_int(state_sqlite(s), "SELECT count(*) FROM runs"),
	    0);
	state_rollback(s);	/* harmless outside a transaction */

	/* A committed batch is visible to a second connection. */
	ck_assert_int_eq(state_begin(s, &cause), 0);
	ck_assert_int_eq(state_run_open(s, job, "k", 0, 0, NULL, &run, &c,
	    &cause), 0);
	ck_assert_int_eq(state_commit(s, &cause), 0);
	{
		struct state	*r = open_ok(db, STATE_RDONLY);

		ck_assert_int_eq(q_int(state_sqlite(r),
		    "SELECT count(*) FROM runs"), 1);
		state_close(r);
	}
	/* Closing with a batch open loses the batch, not the file. */
	ck_assert_int_eq(state_begin(s, &cause), 0);
	ck_assert_int_eq(state_run_open(s, job, "lost", 0, 0, NULL, &run, &c,
	    &cause), 0);
	state_close(s);
	s = open_ok(db, STATE_RDWR);
	ck_assert_int_eq(q_int(state_sqlite(s), "SELECT count(*) FROM runs"),
	    1);
	ck_assert_ptr_null(cause);
	state_close(s);
}
END_TEST

START_TEST(test_group_commit)
{
	struct state	*s = open_ok(db, STATE_RDWR);
	int64_t		 job, run, ti, att;
	int		 c, i;
	char		*cause = NULL;

	ck_assert_int_eq(state_job_sync(s, "j", "d", "o", NULL, NULL, NULL,
	    &job, &cause), 0);
	ck_assert_int_eq(state_run_open(s, job, "k", 0, 0, NULL, &run, &c,
	    &cause), 0);
	ck_assert_int_eq(state_ti_open(s, run, "t", "extract", 1, &ti, NULL,
	    NULL, &cause), 0);
	ck_assert_int_eq(state_begin(s, &cause), 0);
	for (i = 0; i < 10000; i++) {
		ck_assert_int_eq(state_attempt_start(s, ti, i + 1, i, NULL,
		    &att, &cause), 0);
		ck_assert_int_eq(state_attempt_finish(s, att, "success", i + 1,
		    NULL, NULL, &cause), 0);
	}
	ck_assert_int_eq(state_commit(s, &cause), 0);
	ck_assert_int_eq(q_int(state_sqlite(s),
	    "SELECT count(*) FROM attempts WHERE state = 'success'"), 10000);
	ck_assert_int_eq(q_int(state_sqlite(s),
	    "SELECT max(try_number) FROM attempts"), 10000);
	ck_assert_ptr_null(cause);
	state_close(s);
}
END_TEST


int
main(void)
{
	Suite	*su = suite_create("statetxn");
	TCase	*tc = tcase_create("txn");
	SRunner	*sr;
	int	 nfailed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_prepare_cache);
	tcase_add_test(tc, test_savepoint);
	tcase_add_test(tc, test_rollback);
	tcase_add_test(tc, test_group_commit);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

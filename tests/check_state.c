/* check_state.c -- unit tests for core/state.c and core/schema.c. */
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

/* The first column of the first row as a new string ("NULL" for NULL). */
static char *
q_text(sqlite3 *h, const char *sql)
{
	sqlite3_stmt		*st;
	const unsigned char	*t;
	char			*v;

	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	t = sqlite3_column_text(st, 0);
	v = xstrdup(t != NULL ? (const char *)t : "NULL");
	sqlite3_finalize(st);
	return v;
}

#define ck_assert_sql_str(h, sql, want) do {				\
	char	*got_ = q_text(h, sql);					\
	ck_assert_str_eq(got_, want);					\
	free(got_);							\
} while (0)

/* Open a plain SQLite handle on `path` and run `sql`. */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3	*h;

	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(h));
	sqlite3_close(h);
}

static struct state *
open_ok(const char *path, enum state_mode mode)
{
	struct state	*s;
	char		*cause = NULL;

	s = state_open(path, mode, &cause);
	ck_assert_msg(s != NULL, "state_open: %s", cause);
	return s;
}

/* state_open must fail with exactly `want`. */
static void
open_refused(const char *path, enum state_mode mode, const char *want)
{
	struct state	*s;
	char		*cause = NULL;

	s = state_open(path, mode, &cause);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, want);
	free(cause);
}

static char *
schema_text(sqlite3 *h)
{
	return q_text(h, "SELECT group_concat(sql, ';') FROM "
	    "(SELECT sql FROM sqlite_master ORDER BY name)");
}

START_TEST(test_create_reopen)
{
	struct state	*s;
	char		*path = xasprintf("%s/var/state.db", tmp);
	int64_t		 id, id2;
	char		*cause = NULL;

	/* The missing directory is created. */
	s = open_ok(path, STATE_RDWR);
	ck_assert_str_eq(state_path(s), path);
	ck_assert_int_eq(state_job_sync(s, "j", "d", "o", NULL, "j.conf",
	    "@daily", &id, &cause), 0);
	state_close(s);

	s = open_ok(path, STATE_RDWR);
	ck_assert_int_eq(state_job_find(s, "j", &id2, &cause), 0);
	ck_assert_int_eq(id, id2);
	state_close(s);

	s = open_ok(path, STATE_RDONLY);
	ck_assert_int_eq(state_job_find(s, "j", &id2, &cause), 0);
	ck_assert_int_eq(id, id2);
	ck_assert_int_eq(state_job_find(s, "nope", &id2, &cause), -1);
	ck_assert_str_eq(cause, "unknown job 'nope'");
	free(cause);
	state_close(s);
	free(path);
}
END_TEST

START_TEST(test_busy_wait)
{
	struct state	*s = open_ok(db, STATE_RDWR), *s2;
	sqlite3		*h;
	char		*cause = NULL;
	const char	*last;
	int64_t		 t0, el;
	int		 told = 0;

	state_close(s);
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);

	/* Opening needs no write lock once the schema is there. */
	s2 = state_open_wait(db, STATE_RDWR, 300, &cause);
	ck_assert_msg(s2 != NULL, "%s", cause != NULL ? cause : "?");
	t0 = mono_us();
	ck_assert_int_eq(state_begin(s2, &cause), -1);
	el = mono_us() - t0;
	ck_assert_msg(el >= 280000 && el < 2000000, "waited %lld us",
	    (long long)el);
	ck_assert_msg(strstr(cause, "state.db: the state is busy: another "
	    "process has held its write lock for 0.") != NULL, "%s", cause);
	last = state_gave_up(&told);
	ck_assert_ptr_nonnull(last);
	ck_assert_str_eq(last, cause);
	ck_assert_int_eq(told, 1);
	free(cause);
	cause = NULL;

	/* A deadline nearer than the per-wait bound wins. */
	state_set_deadline(s2, mono_us() + 100000);
	t0 = mono_us();
	ck_assert_int_eq(state_begin(s2, &cause), -1);
	el = mono_us() - t0;
	ck_assert_msg(el >= 90000 && el < 280000, "waited %lld us",
	    (long long)el);
	free(cause);
	cause = NULL;
	/* A deadline that has passed: no wait at all. */
	t0 = mono_us();
	ck_assert_int_eq(state_begin(s2, &cause), -1);
	ck_assert_int_lt(mono_us() - t0, 50000);
	ck_assert_ptr_nonnull(strstr(cause, "the state is busy"));
	free(cause);
	cause = NULL;
	state_set_deadline(s2, 0);
	state_close(s2);

	/* wait_ms 0 never waits. */
	s2 = state_open_wait(db, STATE_RDWR, 0, &cause);
	ck_assert_ptr_nonnull(s2);
	t0 = mono_us();
	ck_assert_int_eq(state_begin(s2, &cause), -1);
	ck_assert_int_lt(mono_us() - t0, 50000);
	free(cause);
	cause = NULL;

	/* The lock released, the same connection writes. */
	ck_assert_int_eq(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(state_begin(s2, &cause), 0);
	ck_assert_int_eq(state_commit(s2, &cause), 0);
	state_close(s2);
	sqlite3_close(h);
}
END_TEST

START_TEST(test_pragmas)
{
	struct state	*s = open_ok(db, STATE_RDWR);
	sqlite3		*h = state_sqlite(s);

	ck_assert_sql_str(h, "PRAGMA journal_mode", "wal");
	ck_assert_int_eq(q_int(h, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(q_int(h, "PRAGMA application_id"), 0x4d455348);
	ck_assert_int_eq(q_int(h, "PRAGMA user_version"),
	    STATE_SCHEMA_VERSION);
	ck_assert_int_eq(q_int(h, "PRAGMA synchronous"), 1);	/* NORMAL */
	/* Waits go through state.c's own busy handler (test_busy_wait),
	 * which leaves PRAGMA busy_timeout at 0. */
	state_close(s);

	s = open_ok(db, STATE_RDONLY);
	h = state_sqlite(s);
	ck_assert_sql_str(h, "PRAGMA journal_mode", "wal");
	ck_assert_int_eq(q_int(h, "PRAGMA foreign_keys"), 1);
	/* Read-only means read-only. */
	ck_assert_int_ne(sqlite3_exec(h, "DELETE FROM jobs", NULL, NULL, NULL),
	    SQLITE_OK);
	state_close(s);
}
END_TEST

START_TEST(test_schema)
{
	struct state	*s = open_ok(db, STATE_RDWR);
	sqlite3		*h = state_sqlite(s);

	ck_assert_uint_eq(state_schema_nsteps(), STATE_SCHEMA_VERSION);
	ck_assert_ptr_nonnull(state_schema_step(0));
	ck_assert_ptr_null(state_schema_step(STATE_SCHEMA_VERSION));
	ck_assert_sql_str(h, "SELECT group_concat(name, ' ') FROM (SELECT name"
	    " FROM sqlite_master WHERE type = 'table' ORDER BY name)",
	    "alert_outbox attempts backfill_partitions backfills check_results "
	    "jobs "
	    "lineage_outbox lineage_sinks metrics product_counts "
	    "product_partitions products "
	    "requests run_inputs runs sqlite_sequence task_instances");
	ck_assert_sql_str(h, "SELECT group_concat(name, ' ') FROM (SELECT name"
	    " FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
	    " ORDER BY name)",
	    "alert_outbox_job alert_outbox_pending "
	    "attempts_task_instance backfill_partitions_state backfills_job "
	    "backfills_state check_results_attempt metrics_attempt_name "
	    "product_partitions_product_key "
	    "product_partitions_product_state_key product_partitions_rerun "
	    "product_partitions_state products_domain_name requests_state "
	    "run_inputs_product runs_ended "
	    "runs_job_created runs_job_interval runs_job_partition runs_state "
	    "runs_state_ended task_instances_run_task");
	ck_assert_sql_str(h, "SELECT group_concat(name || ':' || \"unique\", ' ')"
	    " FROM (SELECT name, \"unique\" FROM pragma_index_list('runs')"
	    " ORDER BY name)",
	    "runs_ended:0 runs_job_created:0 runs_job_interval:0 "
	    "runs_job_partition:1 runs_state:0 runs_state_ended:0");
	ck_assert_sql_str(h, "SELECT group_concat(name, ' ') FROM (SELECT name"
	    " FROM sqlite_master WHERE type = 'trigger' ORDER BY name)",
	    "product_counts_delete product_counts_insert "
	    "product_counts_update");

	ck_assert_int_eq(q_int(h, "SELECT count(*) FROM pragma_foreign_key_check"),
	    0);
	state_close(s);
}
END_TEST

/* A database written by a version-1 meshd is migrated forward, rows and
 * all, the first time a newer meshd opens it for writing. */
START_TEST(test_migrate_v1)
{
	struct state	*s;
	const char	*v1[1];
	char		*cause = NULL;
	int64_t		 job_id;

	v1[0] = state_schema_step(0);
	state_schema_set_steps(v1, 1);
	s = open_ok(db, STATE_RDWR);
	ck_assert_int_eq(q_int(state_sqlite(s), "PRAGMA user_version"), 1);
	ck_assert_int_eq(state_job_sync(s, "old", "d", "o", NULL, NULL, "none",
	    &job_id, &cause), 0);
	state_close(s);
	state_schema_set_steps(NULL, 0);

	s = open_ok(db, STATE_RDWR);
	ck_assert_int_eq(q_int(state_sqlite(s), "PRAGMA user_version"),
	    STATE_SCHEMA_VERSION);
	ck_assert_int_eq(q_int(state_sqlite(s), "SELECT count(*) FROM jobs "
	    "WHERE name = 'old'"), 1);
	ck_assert_int_eq(q_int(state_sqlite(s), "SELECT count(*) FROM "
	    "requests"), 0);
	state_close(s);
}
END_TEST

/* product_counts against the partitions it counts: they must agree
 * (empty string: they do). */
#define COUNTS_DIFFER							\
	"SELECT coalesce(group_concat(d, ' '), '') FROM ("		\
	"SELECT product_id || '/' || state || ':' || n || ',' || r || ',' || l"\
	" AS d FROM (SELECT product_id, state, count(*) AS n,"		\
	" coalesce(sum(\"rows\"), 0) AS r, count(late_us) AS l"		\
	" FROM product_partitions GROUP BY product_id, state"		\
	" EXCEPT SELECT product_id, state, n, \"rows\", late"		\
	" FROM product_counts WHERE n > 0)"				\
	" UNION ALL SELECT 'extra ' || product_id || '/' || state"	\
	" FROM product_counts c WHERE n <> (SELECT count(*) FROM"	\
	" product_partitions pp WHERE pp.product_id = c.product_id AND"	\
	" pp.state = c.state))"

/* A version-11 database (the last before product_counts) with partitions
 * is migrated: the counts start from its rows, and the index staging
 * retention walks is there and used. */
START_TEST(test_migrate_v11)
{
	struct state	*s;
	sqlite3		*h;
	sqlite3_stmt	*plan;
	const char	*v[11];
	size_t		 i;
	int		 used = 0, sorts = 0;

	for (i = 0; i < 11; i++)
		v[i] = state_schema_step(i);
	state_schema_set_steps(v, 11);
	s = open_ok(db, STATE_RDWR);
	h = state_sqlite(s);
	ck_assert_int_eq(q_int(h, "PRAGMA user_version"), 11);
	ck_assert_int_eq(sqlite3_exec(h,
	    "INSERT INTO products (id, name) VALUES (1, 'a'), (2, 'b');"
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
	    " WHERE x < 500)"
	    " INSERT INTO product_partitions (product_id, partition_key, state,"
	    " updated_us, \"rows\", late_us) SELECT 1 + x % 2, 'k' || x,"
	    " CASE x % 5 WHEN 0 THEN 'quarantined' WHEN 1 THEN 'missing'"
	    " ELSE 'published' END, 0, CASE WHEN x % 7 = 0 THEN NULL ELSE x END,"
	    " CASE WHEN x % 3 = 0 THEN x END FROM c", NULL, NULL, NULL),
	    SQLITE_OK);
	state_close(s);
	state_schema_set_steps(NULL, 0);

	s = open_ok(db, STATE_RDWR);
	h = state_sqlite(s);
	ck_assert_int_eq(q_int(h, "PRAGMA user_version"),
	    STATE_SCHEMA_VERSION);
	ck_assert_int_eq(q_int(h, "SELECT count(*) FROM product_counts"), 6);
	ck_assert_int_eq(q_int(h, "SELECT sum(n) FROM product_counts"), 500);
	ck_assert_sql_str(h, COUNTS_DIFFER, "");
	ck_assert_int_eq(q_int(h, "SELECT \"rows\" FROM product_counts WHERE"
	    " product_id = 2 AND state = 'published'"), q_int(h, "SELECT"
	    " sum(\"rows\") FROM product_partitions WHERE product_id = 2 AND"
	    " state = 'published'"));
	ck_assert_int_gt(q_int(h, "SELECT sum(late) FROM product_counts"), 0);
	/* Staging retention's walk (meshd-freshness.c) is a range of the
	 * new index, in its order: no sort. */
	ck_assert_int_eq(sqlite3_prepare_v2(h, "EXPLAIN QUERY PLAN SELECT "
	    "r.id, r.ended_us FROM runs r WHERE r.state = ?1 AND r.ended_us "
	    ">= ?2 AND (r.ended_us > ?2 OR r.id > ?3) ORDER BY r.ended_us, "
	    "r.id LIMIT ?4", -1, &plan, NULL), SQLITE_OK);
	while (sqlite3_step(plan) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(plan, 3);

		used += strstr(detail, "runs_state_ended") != NULL;
		sorts += strstr(detail, "TEMP B-TREE") != NULL;
	}
	sqlite3_finalize(plan);
	ck_assert_int_eq(used, 1);
	ck_assert_int_eq(sorts, 0);
	state_close(s);
}
END_TEST

/* The triggers keep product_counts right through every kind of write the
 * daemon, the freshness pass and an operator make: insert, the upsert of
 * a publication, a state change, rows and late_us set and cleared, a
 * partition moved, deletes, and a product deleted whole. */
START_TEST(test_product_counts)
{
	struct state	*s = open_ok(db, STATE_RDWR);
	sqlite3		*h = state_sqlite(s);
	static const char *const states[] = { "missing", "building",
	    "published", "quarantined", "stale" };
	char		 sql[512];
	unsigned	 seed = 14;
	int		 i, op, p, k;

	ck_assert_int_eq(sqlite3_exec(h, "INSERT INTO products (id, name) "
	    "VALUES (1, 'a'), (2, 'b'), (3, 'c')", NULL, NULL, NULL),
	    SQLITE_OK);
	for (i = 0; i < 3000; i++) {
		op = (int)(rand_r(&seed) % 6);
		p = 1 + (int)(rand_r(&seed) % 3);
		k = (int)(rand_r(&seed) % 40);
		switch (op) {
		case 0:		/* what state.c's S_PARTITION_SET does */
			snprintf(sql, sizeof sql, "INSERT INTO "
			    "product_partitions (product_id, partition_key, "
			    "state, updated_us, \"rows\") VALUES (%d, 'k%d', "
			    "'%s', %d, %s) ON CONFLICT (product_id, "
			    "partition_key) DO UPDATE SET state = "
			    "excluded.state, \"rows\" = excluded.\"rows\"", p,
			    k, states[i % 5], i, i % 4 == 0 ? "NULL" : "7");
			break;
		case 1:
			snprintf(sql, sizeof sql, "UPDATE product_partitions "
			    "SET state = '%s' WHERE product_id = %d AND "
			    "partition_key = 'k%d'", states[k % 5], p, k);
			break;
		case 2:		/* freshness: found late, or not */
			snprintf(sql, sizeof sql, "UPDATE product_partitions "
			    "SET late_us = %s, due_us = %d WHERE product_id = "
			    "%d AND partition_key >= 'k%d'", k % 2 ? "NULL" :
			    "12", i, p, k);
			break;
		case 3:
			snprintf(sql, sizeof sql, "DELETE FROM "
			    "product_partitions WHERE product_id = %d AND "
			    "partition_key = 'k%d'", p, k);
			break;
		case 4:
			snprintf(sql, sizeof sql, "UPDATE OR IGNORE "
			    "product_partitions SET product_id = %d WHERE "
			    "product_id = %d AND partition_key = 'k%d'",
			    1 + p % 3, p, k);
			break;
		default:	/* a column nobody counts */
			snprintf(sql, sizeof sql, "UPDATE product_partitions "
			    "SET updated_us = %d, version = version + 1 WHERE "
			    "product_id = %d", i, p);
			break;
		}
		ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, NULL) ==
		    SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
		if (i % 100 == 0)
			ck_assert_sql_str(h, COUNTS_DIFFER, "");
	}
	ck_assert_sql_str(h, COUNTS_DIFFER, "");
	ck_assert_int_gt(q_int(h, "SELECT count(*) FROM product_partitions"),
	    0);
	/* A product deleted: its partitions go (cascade) and so do its
	 * counts. */
	ck_assert_int_eq(sqlite3_exec(h, "DELETE FROM products WHERE id = 2",
	    NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(q_int(h, "SELECT count(*) FROM product_counts WHERE "
	    "product_id = 2"), 0);
	ck_assert_sql_str(h, COUNTS_DIFFER, "");
	state_close(s);
}
END_TEST

START_TEST(test_modes)
{
	struct state	*s;
	struct stat	 sb;
	char		*dir = xasprintf("%s/sub", tmp);
	char		*path = xasprintf("%s/state.db", dir);
	char		*wal = xasprintf("%s-wal", path);
	char		*shm = xasprintf("%s-shm", path);
	mode_t		 old;

	/* With no umask at all the modes must still be 0750 / 0640. */
	old = umask(0);
	s = open_ok(path, STATE_RDWR);
	umask(old);
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0750);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0640);
	ck_assert_int_eq(stat(wal, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0640);
	ck_assert_int_eq(stat(shm, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0640);
	state_close(s);

	/* -wal and -shm stay after the writer closes... */
	ck_assert_int_eq(stat(wal, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0640);
	ck_assert_int_eq(stat(shm, &sb), 0);
	/* ...so a reader that may not write the directory can still read.
	 * (root ignores the permission bits, so this proves nothing there.) */
	if (geteuid() != 0) {
		ck_assert_int_eq(chmod(dir, 0550), 0);
		s = open_ok(path, STATE_RDONLY);
		ck_assert_int_eq(q_int(state_sqlite(s),
		    "SELECT count(*) FROM jobs"), 0);
		state_close(s);
		ck_assert_int_eq(chmod(dir, 0750), 0);
	}

	/* An existing file keeps the mode its owner gave it. */
	ck_assert_int_eq(chmod(path, 0600), 0);
	s = open_ok(path, STATE_RDWR);
	state_close(s);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0600);
	free(shm);
	free(wal);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_not_a_database)
{
	char	 buf[8192], *want;
	int	 fd;
	size_t	 i;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = (char)("garbage!"[i % 8] ^ (i & 0x5a));
	fd = open(db, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
	close(fd);

	want = xasprintf("%s: not a meshd state database "
	    "(file is not a database)", db);
	open_refused(db, STATE_RDWR, want);
	open_refused(db, STATE_RDONLY, want);
	free(want);
}
END_TEST

START_TEST(test_empty_file_adopted)
{
	struct state	*s;
	int		 fd;

	fd = open(db, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	s = open_ok(db, STATE_RDWR);
	ck_assert_int_eq(q_int(state_sqlite(s), "PRAGMA user_version"),
	    STATE_SCHEMA_VERSION);
	state_close(s);
}
END_TEST

START_TEST(test_foreign_database)
{
	char	*want;

	/* Another program's database: tables, no application_id. */
	raw_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
	want = xasprintf("%s: not a meshd state database (application_id 0x0)",
	    db);
	open_refused(db, STATE_RDWR, want);
	open_refused(db, STATE_RDONLY, want);
	{
		sqlite3	*h;

		/* Refused before anything was written: not switched to WAL,
		 * no meshd tables, its own row intact. */
		ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
		ck_assert_sql_str(h, "PRAGMA journal_mode", "delete");
		ck_assert_int_eq(q_int(h, "SELECT count(*) FROM sqlite_master"),
		    1);
		ck_assert_int_eq(q_int(h, "SELECT x FROM t"), 1);
		sqlite3_close(h);
	}

	/* No tables, but a user_version: someone else's. */
	unlink(db);
	raw_exec(db, "PRAGMA user_version = 3");
	open_refused(db, STATE_RDWR, want);
	free(want);

	/* Another application's id. */
	unlink(db);
	raw_exec(db, "PRAGMA application_id = 305419896");	/* 0x12345678 */
	want = xasprintf("%s: not a meshd state database "
	    "(application_id 0x12345678, meshd uses 0x4d455348)", db);
	open_refused(db, STATE_RDWR, want);
	free(want);
}
END_TEST

START_TEST(test_newer_version)
{
	struct state	*s = open_ok(db, STATE_RDWR);
	char		*want;

	state_close(s);
	raw_exec(db, "PRAGMA user_version = 99");
	want = xasprintf("%s: schema version 99 is newer than this meshd "
	    "(knows %d)", db, STATE_SCHEMA_VERSION);
	open_refused(db, STATE_RDWR, want);
	open_refused(db, STATE_RDONLY, want);
	free(want);
}
END_TEST

START_TEST(test_reopen_same_version)
{
	struct state	*s = open_ok(db, STATE_RDWR);
	char		*before, *after;
	int64_t		 id;
	char		*cause = NULL;

	ck_assert_int_eq(state_job_sync(s, "j", NULL, NULL, NULL, NULL, NULL,
	    &id, &cause), 0);
	before = schema_text(state_sqlite(s));
	state_close(s);

	/* At the current version: left alone, data intact. */
	s = open_ok(db, STATE_RDWR);
	after = schema_text(state_sqlite(s));
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(q_int(state_sqlite(s), "PRAGMA user_version"),
	    STATE_SCHEMA_VERSION);
	ck_assert_int_eq(q_int(state_sqlite(s), "SELECT count(*) FROM jobs"),
	    1);
	state_close(s);
	free(before);
	free(after);
}
END_TEST

/*
 * The built-in steps plus one more, `extra`: what a binary that knows the
 * next version would run.  Returns the new number of steps.
 */
static int
next_version(const char *extra)
{
	static const char	*v[64];
	size_t			 i, n = state_schema_nsteps();

	ck_assert_uint_lt(n, nitems(v));
	for (i = 0; i < n; i++)
		v[i] = state_schema_step(i);
	v[n] = extra;
	state_schema_set_steps(v, n + 1);
	return (int)n + 1;
}

START_TEST(test_migrate_forward)
{
	struct state		*s = open_ok(db, STATE_RDWR);
	int64_t			 id;
	int			 next;
	char			*cause = NULL, *want;

	ck_assert_int_eq(state_job_sync(s, "j", NULL, NULL, NULL, NULL, NULL,
	    &id, &cause), 0);
	state_close(s);

	/* Pretend this binary knows one more version. */
	next = next_version("CREATE TABLE extra (x INTEGER)");

	/* Read-only opens do not migrate. */
	want = xasprintf("%s: schema version %d is older than this meshd "
	    "(knows %d); meshd must migrate it first", db,
	    STATE_SCHEMA_VERSION, next);
	open_refused(db, STATE_RDONLY, want);
	free(want);

	s = open_ok(db, STATE_RDWR);
	ck_assert_int_eq(q_int(state_sqlite(s), "PRAGMA user_version"), next);
	ck_assert_int_eq(q_int(state_sqlite(s),
	    "SELECT count(*) FROM sqlite_master WHERE name = 'extra'"), 1);
	ck_assert_int_eq(q_int(state_sqlite(s), "SELECT count(*) FROM jobs"),
	    1);
	state_close(s);

	/* A fresh file goes through every step. */
	{
		char	*p2 = xasprintf("%s/fresh.db", tmp);

		s = open_ok(p2, STATE_RDWR);
		ck_assert_int_eq(q_int(state_sqlite(s),
		    "PRAGMA user_version"), next);
		ck_assert_int_eq(q_int(state_sqlite(s),
		    "PRAGMA application_id"), STATE_APPLICATION_ID);
		state_close(s);
		free(p2);
	}

	/* Back to the built-in steps: the migrated file is now "newer". */
	state_schema_set_steps(NULL, 0);
	want = xasprintf("%s: schema version %d is newer than this meshd "
	    "(knows %d)", db, next, STATE_SCHEMA_VERSION);
	open_refused(db, STATE_RDWR, want);
	free(want);
}
END_TEST

START_TEST(test_migrate_failure_rolls_back)
{
	struct state		*s = open_ok(db, STATE_RDWR);
	char			*want;
	int			 next;

	state_close(s);
	/* The first statement works, the second fails: neither stays. */
	next = next_version("CREATE TABLE extra (x); CREATE TABLE jobs (x)");
	want = xasprintf("%s: cannot migrate schema to version %d: "
	    "table jobs already exists", db, next);
	open_refused(db, STATE_RDWR, want);
	free(want);

	state_schema_set_steps(NULL, 0);
	s = open_ok(db, STATE_RDWR);
	ck_assert_int_eq(q_int(state_sqlite(s), "PRAGMA user_version"),
	    STATE_SCHEMA_VERSION);
	ck_assert_int_eq(q_int(state_sqlite(s),
	    "SELECT count(*) FROM sqlite_master WHERE name = 'extra'"), 0);
	state_close(s);
}
END_TEST

START_TEST(test_rdonly_never_creates)
{
	char		*want, *path;
	struct stat	 sb;

	want = xasprintf("%s: no state database "
	    "(run meshd or meshctl run first)", db);
	open_refused(db, STATE_RDONLY, want);
	free(want);
	ck_assert_int_eq(stat(db, &sb), -1);

	path = xasprintf("%s/missing/state.db", tmp);
	want = xasprintf("%s: no state database "
	    "(run meshd or meshctl run first)", path);
	open_refused(path, STATE_RDONLY, want);
	free(want);
	ck_assert_int_eq(stat(path, &sb), -1);
	free(path);
	path = xasprintf("%s/missing", tmp);
	ck_assert_int_eq(stat(path, &sb), -1);
	free(path);
}
END_TEST

START_TEST(test_unwritable_dir)
{
	char	*dir, *path, *want;

	if (geteuid() == 0) {
		int	fd;

		/*
		 * root bypasses permission bits, so a 0555 directory would
		 * not refuse anything.  Put the database under a regular
		 * FILE instead: creating it fails with ENOTDIR, through the
		 * same path that reports EACCES to other users.
		 */
		dir = xasprintf("%s/plainfile", tmp);
		fd = open(dir, O_WRONLY | O_CREAT, 0600);
		ck_assert_int_ge(fd, 0);
		close(fd);
		path = xasprintf("%s/state.db", dir);
		want = xasprintf("%s: cannot create state database: "
		    "Not a directory", dir);
		open_refused(path, STATE_RDWR, want);
		free(want);
		free(path);

		/* A missing directory under the file cannot be made. */
		path = xasprintf("%s/sub/state.db", dir);
		want = xasprintf("%s/sub: cannot create state database: "
		    "Not a directory", dir);
		open_refused(path, STATE_RDWR, want);
		free(want);
		free(path);
		free(dir);
		return;
	}

	dir = xasprintf("%s/ro", tmp);
	ck_assert_int_eq(mkdir(dir, 0555), 0);
	ck_assert_int_eq(chmod(dir, 0555), 0);
	path = xasprintf("%s/state.db", dir);
	want = xasprintf("%s: cannot create state database: "
	    "Permission denied", dir);
	open_refused(path, STATE_RDWR, want);
	free(want);
	free(path);

	path = xasprintf("%s/sub/state.db", dir);
	want = xasprintf("%s/sub: cannot create directory: "
	    "Permission denied", dir);
	open_refused(path, STATE_RDWR, want);
	free(want);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_lifecycle)
{
	struct state		*s = open_ok(db, STATE_RDWR);
	sqlite3			*h = state_sqlite(s);
	struct state_product	 p;
	int64_t			 job, job2, prod, run, ti, ti2, att;
	int			 created, tries, fresh;
	const char		*st;
	char			*cause = NULL;

	ck_assert_int_eq(state_begin(s, &cause), 0);
	ck_assert_int_eq(state_job_sync(s, "flights_daily", "ops",
	    "ops@example.org", "Flights", "jobs/flights_daily.conf", "@daily",
	    &job, &cause), 0);
	/* Syncing again updates in place. */
	ck_assert_int_eq(state_job_sync(s, "flights_daily", "ops",
	    "ops@example.org", "Flights, daily", "jobs/flights_daily.conf",
	    "@hourly", &job2, &cause), 0);
	ck_assert_int_eq(job, job2);

	memset(&p, 0, sizeof p);
	p.name = "ops.flights";
	p.domain = "ops";
	p.owner = "ops@example.org";
	p.description = "All flights";
	p.contract_version = "1.0";
	p.tags = "ops,flights";
	p.location = "/data/ops/flights";
	p.plugin = "flights";
	p.freshness_s = 86400;
	p.job_id = job;
	ck_assert_int_eq(state_product_sync(s, &p, &prod, &cause), 0);

	ck_assert_int_eq(state_run_open(s, job, "2001-01-01",
	    978307200000000LL, 978393600000000LL, "schedule", &run, &created,
	    &cause), 0);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(state_ti_open_new(s, run, "extract", "extract", 3,
	    &ti, &st, &tries, &fresh, &cause), 0);
	ck_assert_str_eq(st, "queued");
	ck_assert_int_eq(tries, 0);
	ck_assert_int_eq(fresh, 1);
	/* Opened again: the same row, not made now. */
	ck_assert_int_eq(state_ti_open_new(s, run, "extract", "extract", 3,
	    &ti2, &st, &tries, &fresh, &cause), 0);
	ck_assert_int_eq(ti2, ti);
	ck_assert_int_eq(fresh, 0);
	ck_assert_int_eq(state_ti_set(s, ti, "running", 1, NULL, 1000, 0,
	    &cause), 0);
	ck_assert_int_eq(state_run_set(s, run, "running", 1000, 0, &cause), 0);
	ck_assert_int_eq(state_attempt_start(s, ti, 1, 1000, "/logs/a.log",
	    &att, &cause), 0);
	ck_assert_int_eq(state_attempt_set_pid(s, att, 4242, &cause), 0);
	ck_assert_int_eq(state_check_add(s, att, "rows_nonzero", 0, 1, 20000.0,
	    "> 0", 1500, &cause), 0);
	ck_assert_int_eq(state_check_add(s, att, "late_share", 1, 0, 0.25,
	    "< 0.2", 1600, &cause), 0);
	ck_assert_int_eq(state_metric_set(s, att, "rows", 19000, &cause), 0);
	ck_assert_int_eq(state_metric_set(s, att, "rows", 20000, &cause), 0);
	ck_assert_int_eq(state_metric_set(s, att, "bytes", 1e6, &cause), 0);
	ck_assert_int_eq(state_metric_set(s, att, "ratio", 0.5, &cause), 0);
	ck_assert_int_eq(state_attempt_finish(s, att, "success", 2000, NULL,
	    NULL, &cause), 0);
	ck_assert_int_eq(state_ti_set(s, ti, "success", 1, "done", 0, 2000,
	    &cause), 0);
	ck_assert_int_eq(state_partition_set(s, prod, "2001-01-01",
	    "published", run, att, 2100, 20000, &cause), 0);
	ck_assert_int_eq(state_run_set(s, run, "success", 0, 2200, &cause), 0);
	ck_assert_int_eq(state_commit(s, &cause), 0);
	ck_assert_ptr_null(cause);

	ck_assert_sql_str(h, "SELECT name || '|' || domain || '|' || owner ||"
	    " '|' || description || '|' || file || '|' || schedule || '|' ||"
	    " paused FROM jobs", "flights_daily|ops|ops@example.org|"
	    "Flights, daily|jobs/flights_daily.conf|@hourly|0");
	ck_assert_sql_str(h, "SELECT name || '|' || domain || '|' || owner ||"
	    " '|' || description || '|' || contract_version || '|' || tags ||"
	    " '|' || location || '|' || freshness_s || '|' || plugin || '|' ||"
	    " job_id FROM products", "ops.flights|ops|ops@example.org|"
	    "All flights|1.0|ops,flights|/data/ops/flights|86400|flights|1");
	ck_assert_sql_str(h, "SELECT job_id || '|' || partition_key || '|' ||"
	    " interval_start_us || '|' || interval_end_us || '|' || \"trigger\""
	    " || '|' || state || '|' || started_us || '|' || ended_us FROM runs",
	    "1|2001-01-01|978307200000000|978393600000000|schedule|success|"
	    "1000|2200");
	ck_assert_sql_str(h, "SELECT run_id || '|' || task_id || '|' || stage ||"
	    " '|' || state || '|' || try_number || '|' || max_tries || '|' ||"
	    " reason || '|' || started_us || '|' || ended_us"
	    " FROM task_instances", "1|extract|extract|success|1|3|done|1000|"
	    "2000");
	ck_assert_sql_str(h, "SELECT task_instance_id || '|' || try_number ||"
	    " '|' || state || '|' || started_us || '|' || ended_us || '|' ||"
	    " worker_pid || '|' || log_path || '|' || coalesce(reason, 'NULL')"
	    " || '|' || coalesce(message, 'NULL') FROM attempts",
	    "1|1|success|1000|2000|4242|/logs/a.log|NULL|NULL");
	ck_assert_sql_str(h, "SELECT group_concat(x, ';') FROM (SELECT"
	    " attempt_id || '|' || name || '|' || severity || '|' || passed ||"
	    " '|' || observed || '|' || expectation || '|' || recorded_us AS x"
	    " FROM check_results ORDER BY id)",
	    "1|rows_nonzero|0|1|20000|> 0|1500;"
	    "1|late_share|1|0|0.25|< 0.2|1600");
	ck_assert_sql_str(h, "SELECT group_concat(x, ';') FROM (SELECT"
	    " attempt_id || '|' || name || '|' || value AS x FROM metrics"
	    " ORDER BY name)", "1|bytes|1000000;1|ratio|0.5;1|rows|20000");
	ck_assert_sql_str(h, "SELECT product_id || '|' || partition_key || '|'"
	    " || state || '|' || run_id || '|' || attempt_id || '|' ||"
	    " published_us || '|' || updated_us || '|' || \"rows\" || '|' ||"
	    " version FROM product_partitions",
	    "1|2001-01-01|published|1|1|2100|2100|20000|1");

	/* A failed attempt with its causes, then a retry. */
	ck_assert_int_eq(state_attempt_start(s, ti, 2, 3000, NULL, &att,
	    &cause), 0);
	ck_assert_int_eq(att, 2);
	ck_assert_int_eq(state_attempt_finish(s, att, "failed", 3100,
	    "killed by signal 11 (SIGSEGV)", "oops", &cause), 0);
	ck_assert_sql_str(h, "SELECT reason || '|' || message FROM attempts"
	    " WHERE id = 2", "killed by signal 11 (SIGSEGV)|oops");
	state_close(s);
}
END_TEST

START_TEST(test_run_identity)
{
	struct state	*s = open_ok(db, STATE_RDWR);
	sqlite3		*h = state_sqlite(s);
	int64_t		 job, r1, r2, r3, t1, t2;
	int		 c, tries;
	const char	*st, *st2;
	char		*cause = NULL;

	ck_assert_int_eq(state_job_sync(s, "j", "d", "o", NULL, NULL, NULL,
	    &job, &cause), 0);
	ck_assert_int_eq(state_run_open(s, job, "2001-01-01", 1, 2, NULL, &r1,
	    &c, &cause), 0);
	ck_assert_int_eq(c, 1);
	ck_assert_int_eq(state_run_set(s, r1, "running", 5, 0, &cause), 0);
	/* Same identity: the same run, as it is (not reset to queued). */
	ck_assert_int_eq(state_run_open(s, job, "2001-01-01", 7, 8, "manual",
	    &r2, &c, &cause), 0);
	ck_assert_int_eq(c, 0);
	ck_assert_int_eq(r1, r2);
	ck_assert_sql_str(h, "SELECT state || '|' || interval_start_us || '|'"
	    " || \"trigger\" FROM runs", "running|1|schedule");
	ck_assert_int_eq(state_run_open(s, job, "2001-01-02", 2, 3, "backfill",
	    &r3, &c, &cause), 0);
	ck_assert_int_eq(c, 1);
	ck_assert_int_ne(r3, r1);
	ck_assert_int_eq(q_int(h, "SELECT count(*) FROM runs"), 2);

	/* Task instances: get-or-create too, state as static strings. */
	ck_assert_int_eq(state_ti_open(s, r1, "t", "check", 1, &t1, &st,
	    &tries, &cause), 0);
	ck_assert_int_eq(state_ti_set(s, t1, "up_for_retry", 2, "exit 1", 0, 0,
	    &cause), 0);
	ck_assert_int_eq(state_ti_open(s, r1, "t", "check", 1, &t2, &st2,
	    &tries, &cause), 0);
	ck_assert_int_eq(t1, t2);
	ck_assert_str_eq(st2, "up_for_retry");
	ck_assert_int_eq(tries, 2);
	ck_assert_int_eq(state_ti_open(s, r1, "u", "check", 1, &t2, NULL,
	    NULL, &cause), 0);
	ck_assert_int_ne(t1, t2);
	ck_assert_int_eq(q_int(h, "SELECT count(*) FROM task_instances"), 2);
	ck_assert_ptr_null(cause);
	state_close(s);
}
END_TEST

START_TEST(test_partition_upsert)
{
	struct state	*s = open_ok(db, STATE_RDWR);
	sqlite3		*h = state_sqlite(s);
	struct state_product p = { .name = "d.p" };
	int64_t		 job, prod, run, run2;
	int		 c;
	char		*cause = NULL;

	ck_assert_int_eq(state_job_sync(s, "j", "d", "o", NULL, NULL, NULL,
	    &job, &cause), 0);
	ck_assert_int_eq(state_product_sync(s, &p, &prod, &cause), 0);
	ck_assert_int_eq(state_run_open(s, job, "k", 0, 0, NULL, &run, &c,
	    &cause), 0);
	ck_assert_int_eq(state_run_open(s, job, "k2", 0, 0, NULL, &run2, &c,
	    &cause), 0);

	ck_assert_int_eq(state_partition_set(s, prod, "k", "building", run, 0,
	    100, -1, &cause), 0);
	ck_assert_sql_str(h, "SELECT state || '|' || coalesce(published_us,"
	    " 'NULL') || '|' || coalesce(\"rows\", 'NULL') || '|' || version"
	    " FROM product_partitions", "building|NULL|NULL|0");
	ck_assert_int_eq(state_partition_set(s, prod, "k", "published", run, 0,
	    200, 10, &cause), 0);
	/* A retried publish replaces; rows < 0 keeps the count. */
	ck_assert_int_eq(state_partition_set(s, prod, "k", "published", run2,
	    0, 300, -1, &cause), 0);
	ck_assert_int_eq(q_int(h, "SELECT count(*) FROM product_partitions"),
	    1);
	ck_assert_sql_str(h, "SELECT state || '|' || run_id || '|' ||"
	    " published_us || '|' || updated_us || '|' || \"rows\" || '|' ||"
	    " version FROM product_partitions", "published|2|300|300|10|2");
	/* Going stale keeps the last publication and its version. */
	ck_assert_int_eq(state_partition_set(s, prod, "k", "stale", 0, 0, 400,
	    -1, &cause), 0);
	ck_assert_sql_str(h, "SELECT state || '|' || run_id || '|' ||"
	    " published_us || '|' || updated_us || '|' || \"rows\" || '|' ||"
	    " version FROM product_partitions", "stale|2|300|400|10|2");
	ck_assert_ptr_null(cause);
	state_close(s);
}
END_TEST

START_TEST(test_constraints)
{
	struct state	*s = open_ok(db, STATE_RDWR);
	int64_t		 job, run, ti, id;
	int		 c;
	char		*cause = NULL;

	ck_assert_int_eq(state_ti_open(s, 999, "t", "extract", 1, &ti, NULL,
	    NULL, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "FOREIGN KEY constraint failed"));
	ck_assert_ptr_nonnull(strstr(cause, "cannot open task instance"));
	ck_assert_int_eq(q_int(state_sqlite(s),
	    "SELECT count(*) FROM task_instances"), 0);

	ck_assert_int_eq(state_run_open(s, 999, "k", 0, 0, NULL, &run, &c,
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "FOREIGN KEY constraint failed"));
	ck_assert_int_eq(state_attempt_start(s, 999, 1, 1, NULL, &id,
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "FOREIGN KEY constraint failed"));
	ck_assert_int_eq(state_metric_set(s, 999, "m", 1, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "FOREIGN KEY constraint failed"));
	ck_assert_int_eq(state_partition_set(s, 999, "k", "published", 0, 0, 1,
	    1, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "FOREIGN KEY constraint failed"));

	/* State words are checked. */
	ck_assert_int_eq(state_job_sync(s, "j", "d", "o", NULL, NULL, NULL,
	    &job, &cause), 0);
	ck_assert_int_eq(state_run_open(s, job, "k", 0, 0, NULL, &run, &c,
	    &cause), 0);
	ck_assert_int_eq(state_run_set(s, run, "done", 0, 0, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "CHECK constraint failed"));
	ck_assert_ptr_nonnull(strstr(cause, db));
	ck_assert_int_eq(state_ti_open(s, run, "t", "extract", 1, &ti, NULL,
	    NULL, &cause), 0);
	ck_assert_int_eq(state_ti_set(s, ti, "running!", 1, NULL, 0, 0,
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "CHECK constraint failed"));

	/* Updating a row that does not exist is an error, not a no-op. */
	ck_assert_int_eq(state_run_set(s, 999, "running", 0, 0, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "no run with id 999"));
	ck_assert_int_eq(state_attempt_set_pid(s, 999, 1, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "no attempt with id 999"));
	free(cause);

	/* The statements still work after all those failures. */
	cause = NULL;
	ck_assert_int_eq(state_run_set(s, run, "running", 0, 0, &cause), 0);
	state_close(s);
}
END_TEST

static Suite *
state_suite(void)
{
	Suite	*s = suite_create("state");
	TCase	*tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_reopen);
	tcase_add_test(tc, test_pragmas);
	tcase_add_test(tc, test_busy_wait);
	tcase_add_test(tc, test_schema);
	tcase_add_test(tc, test_migrate_v1);
	tcase_add_test(tc, test_migrate_v11);
	tcase_add_test(tc, test_product_counts);
	tcase_add_test(tc, test_modes);
	tcase_add_test(tc, test_not_a_database);
	tcase_add_test(tc, test_empty_file_adopted);
	tcase_add_test(tc, test_foreign_database);
	tcase_add_test(tc, test_newer_version);
	tcase_add_test(tc, test_reopen_same_version);
	tcase_add_test(tc, test_migrate_forward);
	tcase_add_test(tc, test_migrate_failure_rolls_back);
	tcase_add_test(tc, test_rdonly_never_creates);
	tcase_add_test(tc, test_unwritable_dir);
	suite_add_tcase(s, tc);

	tc = tcase_create("records");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);	/* valgrind */
	tcase_add_test(tc, test_lifecycle);
	tcase_add_test(tc, test_run_identity);
	tcase_add_test(tc, test_partition_upsert);
	tcase_add_test(tc, test_constraints);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(state_suite());
	int	 nfailed;

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

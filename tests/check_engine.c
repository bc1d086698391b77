/* check_engine.c -- the engine: fairness between run classes, resume
 * without rerunning committed successes, run parameters over the job
 * file's params. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "engine.h"
#include "job.h"
#include "state.h"
#include "util.h"

static char		 dir[] = "/tmp/check_engine.XXXXXX";
static struct meshd_config *cfg;
static struct jobset	 js;
static struct state	*st;
static struct executor	*ex;
static struct job_def	*wide, *echo;

/* Which run each started task belonged to, in start order. */
static char		 order[256];
static size_t		 norder;

static void
on_start(void *arg, const struct job_def *job, const char *key,
    int64_t run_id, const char *task, int attempt, pid_t pid)
{
	(void)arg; (void)job; (void)run_id; (void)task; (void)attempt;
	(void)pid;
	if (norder < sizeof order - 1)
		order[norder++] = key[0];
}

static const struct run_observer obs = { .task_start = on_start };

static void
setup(void)
{
	const char		*top = getenv("top_builddir");
	struct errlist		 errs = ERRLIST_INIT;
	struct executor_opts	 eo = { .workers = 2, .kill_grace_s = 1,
	    .heartbeat_timeout_s = 10 };
	char			*p, *cause = NULL;
	FILE			*f;
	int			 i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	p = xasprintf("%s/jobs", dir);
	ck_assert_int_eq(mkdir_p(p, 0755, NULL), 0);
	free(p);
	p = xasprintf("%s/meshd.conf", dir);
	f = fopen(p, "w");
	fprintf(f, "plugin_path = [ \"%s/tests/plugins/.libs\" ];\n"
	    "workers = 2;\n", top != NULL ? top : ".");
	fclose(f);
	free(p);
	p = xasprintf("%s/jobs/wide.conf", dir);
	f = fopen(p, "w");
	fprintf(f, "name = \"wide\"; domain = \"t\"; owner = \"t\";\n"
	    "params = { sleep_ms = 20; };\ntasks = (\n");
	for (i = 0; i < 8; i++)
		fprintf(f, "  { id = \"t%d\"; plugin = \"ok\"; stage = "
		    "\"check\"; }%s\n", i, i < 7 ? "," : "");
	fprintf(f, ");\n");
	fclose(f);
	free(p);
	/* For run parameters: typed job params, a task that overrides one,
	 * and a chain so that a failure blocks what comes after. */
	p = xasprintf("%s/jobs/echo.conf", dir);
	f = fopen(p, "w");
	fprintf(f, "name = \"echo\"; domain = \"t\"; owner = \"t\";\n"
	    "params = { n = 1; ratio = 0.5; flag = false;\n"
	    "  label = \"file\"; };\n"
	    "tasks = (\n"
	    "  { id = \"a\"; plugin = \"paramecho\"; stage = \"extract\"; },\n"
	    "  { id = \"b\"; plugin = \"paramecho\"; stage = \"check\";\n"
	    "    after = [ \"a\" ]; params = { n = 2; }; }\n"
	    ");\n");
	fclose(f);
	free(p);
	p = xasprintf("%s/meshd.conf", dir);
	cfg = config_load(p, &errs);
	free(p);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(jobs_load(cfg, &js, &errs), 0);
	errlist_free(&errs);
	ck_assert_ptr_nonnull(wide = jobset_find(&js, "wide"));
	ck_assert_ptr_nonnull(echo = jobset_find(&js, "echo"));
	st = state_open(cfg->state_db, STATE_RDWR, &cause);
	ck_assert_msg(st != NULL, "%s", cause);
	ex = executor_new(&eo, &cause);
	ck_assert_msg(ex != NULL, "%s", cause);
	norder = 0;
}

static void
teardown(void)
{
	char	*cmd;

	executor_free(ex);
	state_close(st);
	jobset_free(&js);
	config_free(cfg);
	cmd = xasprintf("rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	strcpy(dir, "/tmp/check_engine.XXXXXX");
}

static void
drain(struct engine *e)
{
	char	*cause = NULL;

	while (engine_active_runs(e) > 0)
		ck_assert_msg(engine_step(e, 1000, &cause) == 0, "%s", cause);
}

START_TEST(test_fairness)
{
	struct engine	*e = engine_new(cfg, st, ex, &obs);
	char		*cause = NULL;
	size_t		 i, sched = 0, back = 0;

	/* The backfill is added first: order of arrival must not matter. */
	ck_assert_msg(engine_add_run(e, wide, "backfill-1", 0, 0,
	    "backfill", ENGINE_RERUN, NULL, &cause) == 0, "%s", cause);
	ck_assert_msg(engine_add_run(e, wide, "scheduled-1", 0, 0,
	    "schedule", ENGINE_RERUN, NULL, &cause) == 0, "%s", cause);
	drain(e);
	ck_assert_int_eq(norder, 16);
	/* Of the first 8 starts, scheduled work has most, and the backfill
	 * still gets some: neither starves. */
	for (i = 0; i < 8; i++) {
		if (order[i] == 's')
			sched++;
		else
			back++;
	}
	ck_assert_msg(sched >= 5 && back >= 1, "first 8 starts: %.8s", order);
	engine_free(e);
}
END_TEST

START_TEST(test_resume_keeps_success)
{
	struct engine	*e = engine_new(cfg, st, ex, &obs);
	char		*cause = NULL, *out;
	int64_t		 run_id;

	ck_assert(engine_add_run(e, wide, "k", 0, 0, "manual",
	    ENGINE_RERUN, &run_id, &cause) == 0);
	drain(e);
	engine_free(e);
	ck_assert_int_eq(norder, 8);
	/* As a crash would leave it: the run running, one task queued. */
	ck_assert_int_eq(sqlite3_exec(state_sqlite(st), "UPDATE runs SET "
	    "state = 'running'; UPDATE task_instances SET state = 'queued' "
	    "WHERE task_id = 't3'", NULL, NULL, &out), 0);
	e = engine_new(cfg, st, ex, &obs);
	ck_assert(engine_add_run(e, wide, "k", 0, 0, "manual",
	    ENGINE_RESUME, NULL, &cause) == 0);
	drain(e);
	/* Only t3 ran again. */
	ck_assert_int_eq(norder, 9);
	engine_free(e);
}
END_TEST

/* Open the run (job, key) as meshd does for `meshctl trigger --param`:
 * the row first, with its parameters, then the engine. */
static int64_t
open_with_params(struct engine *e, const struct job_def *job, const char *key,
    const char *params)
{
	sqlite3_stmt	*stmt;
	char		*cause = NULL;
	int64_t		 job_id, run_id;
	int		 created;

	ck_assert_msg(state_job_sync(st, job->name, job->domain, job->owner,
	    job->description, job->file, job->schedule, &job_id, &cause) == 0,
	    "%s", cause);
	ck_assert_msg(state_run_open(st, job_id, key, 0, 0, "manual", &run_id,
	    &created, &cause) == 0, "%s", cause);
	ck_assert_int_eq(sqlite3_prepare_v2(state_sqlite(st), "UPDATE runs "
	    "SET params = ? WHERE id = ?", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_text(stmt, 1, params, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, run_id);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
	ck_assert_msg(engine_add_run(e, job, key, 0, 0, "manual", ENGINE_RERUN,
	    NULL, &cause) == 0, "%s", cause);
	return run_id;
}

/* A text column of the last attempt of a task, "" if NULL ("?" when
 * there is no attempt). */
static char *
attempt_col(int64_t run_id, const char *task, const char *expr)
{
	sqlite3_stmt	*stmt;
	char		*sql, *v;

	sql = xasprintf("SELECT %s FROM attempts a JOIN task_instances ti ON "
	    "ti.id = a.task_instance_id LEFT JOIN metrics m ON m.attempt_id = "
	    "a.id WHERE ti.run_id = ? AND ti.task_id = ? ORDER BY a.id DESC "
	    "LIMIT 1", expr);
	ck_assert_int_eq(sqlite3_prepare_v2(state_sqlite(st), sql, -1, &stmt,
	    NULL), SQLITE_OK);
	free(sql);
	sqlite3_bind_int64(stmt, 1, run_id);
	sqlite3_bind_text(stmt, 2, task, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_ROW)
		v = xstrdup("?");
	else
		v = xstrdup(sqlite3_column_text(stmt, 0) == NULL ? "" :
		    (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return v;
}

/* The metrics of a task's last attempt as "name=value ..." by name. */
static char *
task_metrics(int64_t run_id, const char *task)
{
	return attempt_col(run_id, task, "(SELECT group_concat(name || '=' || "
	    "value, ' ') FROM (SELECT name, value FROM metrics WHERE "
	    "attempt_id = a.id ORDER BY name))");
}

/* Does the log of a task's last attempt contain `text`? */
static int
log_has(int64_t run_id, const char *task, const char *text)
{
	char	*path = attempt_col(run_id, task, "a.log_path"), line[1024];
	FILE	*f;
	int	 found = 0;

	ck_assert_msg((f = fopen(path, "r")) != NULL, "log '%s'", path);
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strstr(line, text) != NULL;
	fclose(f);
	free(path);
	return found;
}

START_TEST(test_run_params_override)
{
	struct engine	*e = engine_new(cfg, st, ex, &obs);
	char		*m;
	int64_t		 run_id;

	/* The job file alone: the job's params, and b's own n. */
	run_id = open_with_params(e, echo, "plain", NULL);
	drain(e);
	m = task_metrics(run_id, "a");
	ck_assert_str_eq(m, "flag=0 has_extra=0 n=1 ratio=0.5");
	free(m);
	m = task_metrics(run_id, "b");
	ck_assert_str_eq(m, "flag=0 has_extra=0 n=2 ratio=0.5");
	free(m);
	ck_assert(log_has(run_id, "a", "label=file"));

	/* Run parameters win over the job's and the task's params, read as
	 * the job file's types; an undeclared key arrives as a string. */
	run_id = open_with_params(e, echo, "over", "{\"n\": \"-7\", "
	    "\"ratio\": \"2.25\", \"flag\": \"TRUE\", \"label\": \"from cli\", "
	    "\"extra\": \"x=y\"}");
	drain(e);
	m = task_metrics(run_id, "a");
	ck_assert_str_eq(m, "flag=1 has_extra=1 n=-7 ratio=2.25");
	free(m);
	m = task_metrics(run_id, "b");
	ck_assert_str_eq(m, "flag=1 has_extra=1 n=-7 ratio=2.25");
	free(m);
	ck_assert(log_has(run_id, "a", "label=from cli"));
	ck_assert(log_has(run_id, "b", "label=from cli"));

	/* Run again without parameters: the job file's values are back. */
	run_id = open_with_params(e, echo, "over", NULL);
	drain(e);
	m = task_metrics(run_id, "b");
	ck_assert_str_eq(m, "flag=0 has_extra=0 n=2 ratio=0.5");
	free(m);
	engine_free(e);
}
END_TEST

START_TEST(test_run_params_bad_value)
{
	struct engine		*e = engine_new(cfg, st, ex, &obs);
	struct run_summary	*s;
	char			*v;
	int64_t			 run_id;

	/* An int param given "abc" fails the task before its plugin runs,
	 * once (no retry would change it), and blocks what comes after. */
	run_id = open_with_params(e, echo, "bad", "{\"n\": \"abc\"}");
	drain(e);
	ck_assert_ptr_nonnull(s = engine_take_summary(e));
	ck_assert_str_eq(s->state, "failed");
	ck_assert_int_eq(s->ntasks, 2);
	ck_assert_str_eq(s->tasks[0].state, "failed");
	ck_assert_int_eq(s->tasks[0].tries, 1);
	ck_assert_str_eq(s->tasks[0].reason, "run parameter n=abc: the job "
	    "file makes 'n' an int, and 'abc' is not one");
	ck_assert_str_eq(s->tasks[1].state, "upstream_failed");
	run_summary_free(s);
	v = attempt_col(run_id, "a", "a.state || ' ' || a.reason || ' ' || "
	    "coalesce(a.log_path, 'nolog') || ' ' || count(m.id)");
	ck_assert_str_eq(v, "failed run parameter n=abc: the job file makes "
	    "'n' an int, and 'abc' is not one nolog 0");
	free(v);
	v = attempt_col(run_id, "b", "a.id");
	ck_assert_str_eq(v, "?");
	free(v);

	/* Each type by the job file's rules. */
	run_id = open_with_params(e, echo, "bad2", "{\"flag\": \"yes\"}");
	drain(e);
	ck_assert_ptr_nonnull(s = engine_take_summary(e));
	ck_assert_str_eq(s->tasks[0].reason, "run parameter flag=yes: the "
	    "job file makes 'flag' a bool (true or false), and 'yes' is not "
	    "one");
	run_summary_free(s);
	run_id = open_with_params(e, echo, "bad3", "{\"ratio\": \"1.5x\"}");
	drain(e);
	ck_assert_ptr_nonnull(s = engine_take_summary(e));
	ck_assert_str_eq(s->tasks[0].state, "failed");
	run_summary_free(s);
	run_id = open_with_params(e, echo, "bad4",
	    "{\"n\": \"99999999999999999999\"}");
	drain(e);
	ck_assert_ptr_nonnull(s = engine_take_summary(e));
	ck_assert_str_eq(s->tasks[0].state, "failed");
	run_summary_free(s);
	(void)run_id;
	engine_free(e);
}
END_TEST

START_TEST(test_run_params_corrupt)
{
	struct engine	*e = engine_new(cfg, st, ex, &obs);
	char		*cause = NULL;
	int64_t		 job_id, run_id;
	int		 created;

	/* Not an object of strings: the run is refused, with the reason. */
	ck_assert(state_job_sync(st, "echo", "t", "t", NULL, echo->file,
	    echo->schedule, &job_id, &cause) == 0);
	ck_assert(state_run_open(st, job_id, "c", 0, 0, "manual", &run_id,
	    &created, &cause) == 0);
	ck_assert_int_eq(sqlite3_exec(state_sqlite(st), "UPDATE runs SET "
	    "params = '{\"n\": 5}' WHERE partition_key = 'c'", NULL, NULL,
	    NULL), 0);
	ck_assert(engine_add_run(e, echo, "c", 0, 0, "manual", ENGINE_RERUN,
	    NULL, &cause) == -1);
	ck_assert_msg(strstr(cause, "parameter 'n' is not a string") != NULL,
	    "%s", cause);
	free(cause);
	ck_assert_int_eq(engine_active_runs(e), 0);
	engine_free(e);
}
END_TEST

/* Runs opened as a batch: one that cannot open is refused alone (its
 * writes undone), the others commit together and run. */
START_TEST(test_add_runs_batch)
{
	struct engine	*e = engine_new(cfg, st, ex, &obs);
	char		*cause = NULL;
	int64_t		 job_id, run_id;
	int		 created;
	sqlite3_stmt	*q;

	ck_assert(state_job_sync(st, "echo", "t", "t", NULL, echo->file,
	    echo->schedule, &job_id, &cause) == 0);
	ck_assert(state_run_open(st, job_id, "c", 0, 0, "manual", &run_id,
	    &created, &cause) == 0);
	ck_assert_int_eq(sqlite3_exec(state_sqlite(st), "UPDATE runs SET "
	    "params = '{\"n\": 5}' WHERE partition_key = 'c'", NULL, NULL,
	    NULL), 0);
	ck_assert_msg(engine_add_runs_begin(e, &cause) == 0, "%s", cause);
	ck_assert_int_eq(engine_add_runs_begin(e, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_msg(engine_add_run(e, echo, "a", 0, 0, "backfill",
	    ENGINE_RERUN, NULL, &cause) == 0, "%s", cause);
	ck_assert(engine_add_run(e, echo, "c", 0, 0, "backfill", ENGINE_RERUN,
	    NULL, &cause) == -1);
	ck_assert_ptr_nonnull(strstr(cause, "is not a string"));
	free(cause);
	cause = NULL;
	ck_assert_msg(engine_add_run(e, echo, "b", 0, 0, "backfill",
	    ENGINE_RERUN, NULL, &cause) == 0, "%s", cause);
	/* Nothing announced before the commit. */
	ck_assert_int_eq(norder, 0);
	ck_assert_msg(engine_add_runs_end(e, &cause) == 0, "%s", cause);
	ck_assert_int_eq(engine_active_runs(e), 2);
	ck_assert_int_eq(sqlite3_prepare_v2(state_sqlite(st), "SELECT "
	    "group_concat(partition_key || ':' || state, ' ') FROM (SELECT * "
	    "FROM runs ORDER BY partition_key)", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(q, 0),
	    "a:running b:running c:queued");
	sqlite3_finalize(q);
	drain(e);
	ck_assert_int_eq(engine_active_runs(e), 0);
	engine_free(e);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("engine");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fairness);
	tcase_add_test(tc, test_resume_keeps_success);
	tcase_add_test(tc, test_run_params_override);
	tcase_add_test(tc, test_run_params_bad_value);
	tcase_add_test(tc, test_run_params_corrupt);
	tcase_add_test(tc, test_add_runs_batch);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

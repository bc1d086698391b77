/* check_engine.c -- the engine: fairness between run classes, resume
 * without rerunning committed successes. */
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

static const struct run_observer obs = { NULL, on_start, NULL, NULL, NULL };

static void
setup(void)
{
	const char		*top = getenv("top_builddir");
	struct errlist		 errs = ERRLIST_INIT;
	struct executor_opts	 eo = { 2, 0, 0, 1, 10 };
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
	p = xasprintf("%s/meshd.conf", dir);
	cfg = config_load(p, &errs);
	free(p);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(jobs_load(cfg, &js, &errs), 0);
	errlist_free(&errs);
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
	ck_assert_msg(engine_add_run(e, js.v[0], "backfill-1", 0, 0,
	    "backfill", ENGINE_RERUN, NULL, &cause) == 0, "%s", cause);
	ck_assert_msg(engine_add_run(e, js.v[0], "scheduled-1", 0, 0,
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

	ck_assert(engine_add_run(e, js.v[0], "k", 0, 0, "manual",
	    ENGINE_RERUN, &run_id, &cause) == 0);
	drain(e);
	engine_free(e);
	ck_assert_int_eq(norder, 8);
	/* As a crash would leave it: the run running, one task queued. */
	ck_assert_int_eq(sqlite3_exec(state_sqlite(st), "UPDATE runs SET "
	    "state = 'running'; UPDATE task_instances SET state = 'queued' "
	    "WHERE task_id = 't3'", NULL, NULL, &out), 0);
	e = engine_new(cfg, st, ex, &obs);
	ck_assert(engine_add_run(e, js.v[0], "k", 0, 0, "manual",
	    ENGINE_RESUME, NULL, &cause) == 0);
	drain(e);
	/* Only t3 ran again. */
	ck_assert_int_eq(norder, 9);
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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

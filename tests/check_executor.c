/*
 * check_executor.c -- the worker pool, the worker and the host api, driven
 * with the real test plugins of tests/plugins/ (found through the
 * top_builddir that make check exports).
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"
#include "hostapi.h"
#include "util.h"
#include "wire.h"

#include "check_executor.h"

/* ---------------------------------------------------------------- */

START_TEST(test_ok_extract)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	char			*log, *txt, *p;

	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 7);
	r = run(ex, &q);
	ck_assert_int_eq(r->attempt_id, 7);
	ck_assert_int_eq(r->status, MESHD_OK);
	ck_assert_ptr_null(r->reason);
	ck_assert_int_gt(r->pid, 0);
	ck_assert_int_le(r->started_us, r->ended_us);
	ck_assert_uint_eq(r->nmetrics, 1);
	ck_assert_str_eq(r->metrics[0].name, "rows");
	ck_assert_double_eq(metric(r, "rows"), 1);
	ck_assert_uint_eq(r->nchecks, 0);

	log = slurp(q.log);
	ck_assert_msg(strstr(log, "hello from ok plugin stdout\n") != NULL,
	    "log: %s", log);
	ck_assert_msg((p = strstr(log, " INFO  [ok/extract] extracted "
	    "2001-01-02\n")) != NULL, "log: %s", log);
	/* "2001-01-02T03:04:05Z" before it, at the start of its line. */
	ck_assert_int_ge(p - log, 20);
	ck_assert(p - log == 20 || p[-21] == '\n');
	ck_assert_int_eq(p[-1], 'Z');
	ck_assert_int_eq(p[-10], 'T');
	/* init ran, inside this attempt. */
	ck_assert_ptr_nonnull(strstr(log, "INFO  [ok/extract] ok init\n"));

	p = xasprintf("%s/ok.txt", q.staging);
	txt = slurp(p);
	ck_assert_str_eq(txt, "2001-01-02\n");
	free(txt);
	free(p);
	ck_assert_int_eq(access(q.attempt, F_OK), 0);

	free(log);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_ok_check_and_reuse)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	pid_t			 first;
	char			*log;

	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	first = r->pid;
	task_result_free(r);
	req_free(&q);

	req_init(&q, "ok", MESHD_STAGE_CHECK, 2);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	ck_assert_int_eq(r->pid, first);	/* reused */
	ck_assert_uint_eq(r->nchecks, 1);
	ck_assert_str_eq(r->checks[0].name, "rows_min");
	ck_assert_int_eq(r->checks[0].severity, MESHD_SEV_ERROR);
	ck_assert_int_eq(r->checks[0].passed, 1);
	ck_assert_str_eq(r->checks[0].expectation, ">= 1");
	ck_assert_int_gt(r->checks[0].recorded_us, 0);
	/* init ran once per load: not again in the second attempt.  (The
	 * log is the trailer's, listing the check.)  The attempt directory
	 * it never asked for was not made. */
	log = slurp(q.log);
	ck_assert_ptr_null(strstr(log, "ok init"));
	ck_assert_ptr_nonnull(strstr(log, "rows_min"));
	free(log);
	ck_assert_int_eq(access(q.attempt, F_OK), -1);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

/* A directory the plugin asks for and meshd cannot make fails the attempt
 * with meshd's reason, whatever the plugin made of
 * the NULL; the worker goes on serving. */
START_TEST(test_lazy_dir_fault)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	char			*file;
	FILE			*f;

	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 3);
	file = xasprintf("%s/staging", tmpdir);
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fclose(f);
	r = run(ex, &q);
	/* (Not an infra fault: ENOTDIR will not pass by itself.) */
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_ptr_nonnull(r->reason);
	ck_assert_msg(strstr(r->reason, "cannot create directory: Not a "
	    "directory") != NULL, "reason: %s", r->reason);
	task_result_free(r);
	unlink(file);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	ck_assert_int_eq(access(q.attempt, F_OK), 0);
	task_result_free(r);
	free(file);
	req_free(&q);
	executor_free(ex);
}
END_TEST

/* An attempt that writes nothing, records no check and asks for no
 * directory leaves no file at all: no log, no staging or attempt
 * directory.  The next attempt on the same worker, which prints, gets its
 * log whole (the unnamed file is reused, then named). */
START_TEST(test_silent_no_files)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	char			*log;

	req_init(&q, "exports", MESHD_STAGE_EXTRACT, 4);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	task_result_free(r);
	ck_assert_int_eq(access(q.log, F_OK), -1);
	ck_assert_int_eq(access(q.staging, F_OK), -1);
	ck_assert_int_eq(access(q.attempt, F_OK), -1);
	req_free(&q);

	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 5);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	log = slurp(q.log);
	ck_assert_ptr_nonnull(strstr(log, "hello from ok plugin stdout\n"));
	ck_assert_ptr_nonnull(strstr(log, "meshd: attempt 1 succeeded"));
	free(log);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

/* Find the result of attempt `id` among `n`. */
static struct task_result *
result_of(struct task_result **v, size_t n, int64_t id)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (v[i]->attempt_id == id)
			return v[i];
	ck_abort_msg("no result for attempt %lld", (long long)id);
	return NULL;
}

/*
 * Queueing: a task of the same run waits in the socket of the worker
 * running that run's attempt and starts when it ends; a task of another
 * run waits in the executor for any worker; past executor_room() submit
 * refuses; every task runs once and ends with its own result.
 */
START_TEST(test_queue)
{
	struct executor		*ex = pool(2, 0, 1, 10);
	struct task_result	*v[8], *a, *c, *d;
	struct req		 q[8];
	char			*cause = NULL;
	pid_t			 pa, pid[8];
	size_t			 i;

	for (i = 0; i < 8; i++) {
		req_init(&q[i], "ok", MESHD_STAGE_CHECK, (int64_t)i + 1);
		/* 0: run 2001-01-02 (slow), 1: run P1 (slow), 2: run
		 * 2001-01-02 again, 3..7: run P3. */
		if (i == 0 || i == 1)
			req_int(&q[i], "sleep_ms", 400);
		if (i == 1)
			q[i].r.partition_key = "P1";
		if (i >= 3)
			q[i].r.partition_key = "P3";
	}
	pa = pid[0] = executor_submit(ex, &q[0].r, &cause);
	pid[1] = executor_submit(ex, &q[1].r, &cause);
	ck_assert_int_gt(pid[0], 0);
	ck_assert_int_gt(pid[1], 0);
	/* Same run as 0: in its worker's socket. */
	pid[2] = executor_submit(ex, &q[2].r, &cause);
	ck_assert_int_eq(pid[2], pa);
	/* Another run: in the executor, for whichever worker is first. */
	for (i = 3; i < 8; i++) {
		pid[i] = executor_submit(ex, &q[i].r, &cause);
		ck_assert_int_eq(pid[i], 0);
	}
	/* 2 x (EXECUTOR_DEPTH - 1) waiting: full. */
	ck_assert_int_eq(executor_room(ex), 0);
	ck_assert_int_eq(executor_submit(ex, &q[7].r, &cause), -1);
	ck_assert_str_eq(cause, "no idle worker");
	free(cause);
	for (i = 0; i < 8; i++) {
		v[i] = next_result(ex);
		ck_assert_int_eq(v[i]->status, MESHD_OK);
		ck_assert_int_gt(v[i]->pid, 0);
	}
	a = result_of(v, 8, 1);
	c = result_of(v, 8, 3);
	/* 2 ran in 0's worker, after 0. */
	ck_assert_int_eq(c->pid, pa);
	ck_assert_int_ge(c->started_us, a->ended_us);
	/* The others waited for a worker to be free. */
	d = result_of(v, 8, 4);
	ck_assert_int_ge(d->started_us, a->ended_us < result_of(v, 8,
	    2)->ended_us ? a->ended_us : result_of(v, 8, 2)->ended_us);
	ck_assert_int_eq(executor_room(ex), 2 * EXECUTOR_DEPTH);
	for (i = 0; i < 8; i++)
		task_result_free(v[i]);
	for (i = 0; i < 8; i++)
		req_free(&q[i]);
	executor_free(ex);
}
END_TEST

/* Cancelling a task that waits in the executor ends it at once, with the
 * reason; what runs is not disturbed. */
START_TEST(test_queue_cancel)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 x, y;
	char			*cause = NULL;

	req_init(&x, "ok", MESHD_STAGE_CHECK, 1);
	req_int(&x, "sleep_ms", 500);
	req_init(&y, "ok", MESHD_STAGE_CHECK, 2);
	y.r.partition_key = "other";
	ck_assert_int_gt(executor_submit(ex, &x.r, &cause), 0);
	ck_assert_int_eq(executor_submit(ex, &y.r, &cause), 0);
	ck_assert_int_eq(executor_cancel(ex, 2, "operator said so"), 0);
	r = next_result(ex);
	ck_assert_int_eq(r->attempt_id, 2);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_str_eq(r->reason, "operator said so");
	task_result_free(r);
	r = next_result(ex);
	ck_assert_int_eq(r->attempt_id, 1);
	ck_assert_int_eq(r->status, MESHD_OK);
	task_result_free(r);
	req_free(&x);
	req_free(&y);
	executor_free(ex);
}
END_TEST

/* A worker that dies with a task of its run in its socket: that task
 * never started, so it goes to the next worker and ends with its own
 * outcome, not the crash of the one before. */
START_TEST(test_queue_worker_dies)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r1, *r2;
	struct req		 a, b;
	char			*cause = NULL;
	pid_t			 pa;

	req_init(&a, "segv", MESHD_STAGE_EXTRACT, 1);
	req_init(&b, "segv", MESHD_STAGE_EXTRACT, 2);
	pa = executor_submit(ex, &a.r, &cause);
	ck_assert_int_gt(pa, 0);
	ck_assert_int_eq(executor_submit(ex, &b.r, &cause), pa);
	r1 = next_result(ex);
	r2 = next_result(ex);
	ck_assert_int_eq(r1->attempt_id, 1);
	ck_assert_int_eq(r2->attempt_id, 2);
	ck_assert_str_eq(r1->reason, "killed by signal 11 (SIGSEGV)");
	ck_assert_str_eq(r2->reason, "killed by signal 11 (SIGSEGV)");
	ck_assert_int_eq(r1->pid, pa);
	/* Run (and crashed) by the worker that replaced the first. */
	ck_assert_int_gt(r2->pid, 0);
	ck_assert_int_ne(r2->pid, pa);
	task_result_free(r1);
	task_result_free(r2);
	req_free(&a);
	req_free(&b);
	executor_free(ex);
}
END_TEST

START_TEST(test_fails)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;

	req_init(&q, "fails", MESHD_STAGE_EXTRACT, 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->retryable, 0);
	ck_assert_str_eq(r->message, "deliberate failure: fails plugin");
	ck_assert_str_eq(r->reason, "deliberate failure: fails plugin");
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_retry)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;

	req_init(&q, "retry", MESHD_STAGE_EXTRACT, 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_RETRY);
	ck_assert_int_eq(r->retryable, 1);
	ck_assert_str_eq(r->message, "transient: attempt 1");
	task_result_free(r);
	q.r.attempt = 2;
	q.r.attempt_id = 2;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	ck_assert_ptr_null(r->message);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

/* Run `name`, expect a fault with `reason`, then check the pool still
 * runs the ok plugin in a new worker. */
static void
expect_fault(const char *name, const char *reason, const char *alt)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	pid_t			 dead;

	req_init(&q, name, MESHD_STAGE_EXTRACT, 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->retryable, 1);
	ck_assert_ptr_nonnull(r->reason);
	if (alt == NULL || strcmp(r->reason, alt) != 0)
		ck_assert_str_eq(r->reason, reason);
	dead = r->pid;
	task_result_free(r);
	req_free(&q);
	/* Replaced: reaped (kill fails) and the pool is whole again. */
	ck_assert_int_eq(kill(dead, 0), -1);
	ck_assert_int_eq(executor_idle(ex), 1);

	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 2);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	ck_assert_int_ne(r->pid, dead);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}

START_TEST(test_segv)
{
	/* The plugin stores to address 16, not NULL, so that UBSan does not
	 * turn the crash into exit(1) in a sanitizer build; the worker
	 * restores the default handlers, so ASan does not either. */
	expect_fault("segv", "killed by signal 11 (SIGSEGV)", NULL);
}
END_TEST

START_TEST(test_abort)
{
	expect_fault("abort", "killed by signal 6 (SIGABRT)", NULL);
}
END_TEST

START_TEST(test_exit3)
{
	expect_fault("exit3", "plugin called exit(3)", NULL);
}
END_TEST

START_TEST(test_timeout)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	pid_t			 dead;

	req_init(&q, "hang", MESHD_STAGE_EXTRACT, 1);
	q.r.timeout_us = 1000000;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->retryable, 1);
	ck_assert_str_eq(r->reason, "timed out after 1s");
	/* SIGTERM at 1 s was ignored, SIGKILL came 1 s later. */
	ck_assert_int_ge(r->ended_us - r->started_us, 1900000);
	dead = r->pid;
	task_result_free(r);
	req_free(&q);
	ck_assert_int_eq(kill(dead, 0), -1);

	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 2);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	ck_assert_int_ne(r->pid, dead);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_timeout_compact)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;

	/* A plugin that gives up when asked keeps its worker. */
	req_init(&q, "hang", MESHD_STAGE_EXTRACT, 1);
	req_bool(&q, "honour_cancel", 1);
	q.r.timeout_us = 1500000;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->retryable, 1);
	ck_assert_str_eq(r->reason, "timed out after 1.5s");
	ck_assert_str_eq(r->message, "cancelled");
	ck_assert_int_eq(kill(r->pid, 0), 0);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_cancel)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	char			*cause = NULL;

	req_init(&q, "hang", MESHD_STAGE_EXTRACT, 42);
	ck_assert_int_gt(executor_submit(ex, &q.r, &cause), 0);
	ck_assert_int_eq(executor_cancel(ex, 41, "nope"), -1);
	ck_assert_int_eq(executor_cancel(ex, 42, "cancelled by operator"), 0);
	r = next_result(ex);
	ck_assert_int_eq(r->attempt_id, 42);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->retryable, 1);
	ck_assert_str_eq(r->reason, "cancelled by operator");
	task_result_free(r);
	req_free(&q);
	ck_assert_int_eq(executor_idle(ex), 1);
	executor_free(ex);
}
END_TEST

START_TEST(test_silence)
{
	struct executor		*ex = pool(1, 0, 1, 2);
	struct task_result	*r;
	struct req		 q;
	char			*cause = NULL;
	pid_t			 pid;

	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 1);
	req_int(&q, "sleep_ms", 3000);
	pid = executor_submit(ex, &q.r, &cause);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	r = next_result(ex);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->retryable, 1);
	ck_assert_str_eq(r->reason,
	    "worker stopped answering (no heartbeat for 2s)");
	ck_assert_int_eq(kill(pid, 0), -1);
	task_result_free(r);
	req_free(&q);
	ck_assert_int_eq(executor_idle(ex), 1);
	executor_free(ex);
}
END_TEST

START_TEST(test_heartbeat_keeps_alive)
{
	struct executor		*ex = pool(1, 0, 1, 2);
	struct task_result	*r;
	struct req		 q;

	/* Runs longer than the heartbeat timeout: heartbeats carry it. */
	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 1);
	req_int(&q, "sleep_ms", 3500);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_badinit)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	char			*want;
	int			 i;

	req_init(&q, "badinit", MESHD_STAGE_EXTRACT, 1);
	want = xasprintf("plugin 'badinit' (%s) init failed: init refused: "
	    "missing credentials", q.path);
	for (i = 0; i < 2; i++) {
		q.r.attempt_id = i + 1;
		r = run(ex, &q);
		ck_assert_int_eq(r->status, MESHD_FAILED);
		ck_assert_int_eq(r->retryable, 0);
		ck_assert_str_eq(r->reason, want);
		ck_assert_str_eq(r->message,
		    "init refused: missing credentials");
		task_result_free(r);
	}
	free(want);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_badcheck)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;

	req_init(&q, "badcheck", MESHD_STAGE_CHECK, 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->retryable, 0);
	ck_assert_str_eq(r->reason,
	    "quality check failed: rows_min (observed 5, expected >= 10)");
	ck_assert_uint_eq(r->nchecks, 3);
	ck_assert_str_eq(r->checks[0].name, "rows_min");
	ck_assert_int_eq(r->checks[0].passed, 0);
	ck_assert_double_eq(r->checks[0].observed, 5);
	ck_assert_str_eq(r->checks[1].name, "null_ratio");
	ck_assert_int_eq(r->checks[1].severity, MESHD_SEV_WARN);
	ck_assert_int_eq(r->checks[1].passed, 0);
	ck_assert_double_eq_tol(r->checks[1].observed, 0.2, 1e-12);
	ck_assert_str_eq(r->checks[1].expectation, "<= 0.1");
	ck_assert_str_eq(r->checks[2].name, "schema");
	ck_assert_int_eq(r->checks[2].passed, 1);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_missing_stage)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	char			*want;

	req_init(&q, "checkonly", MESHD_STAGE_EXTRACT, 1);
	want = xasprintf("plugin 'checkonly' (%s) has no extract stage",
	    q.path);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->retryable, 0);
	ck_assert_str_eq(r->reason, want);
	task_result_free(r);
	free(want);

	q.r.stage = MESHD_STAGE_CHECK;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_load_refused)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;

	req_init(&q, "no-such-plugin", MESHD_STAGE_EXTRACT, 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->retryable, 0);
	ck_assert_ptr_nonnull(r->reason);
	ck_assert_msg(strstr(r->reason, "no-such-plugin.so") != NULL,
	    "reason: %s", r->reason);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_alloc)
{
	struct executor_opts	 o = { .workers = 1, .memory_mb = 256,
	    .kill_grace_s = 1, .heartbeat_timeout_s = 10 };
	struct executor		*ex;
	struct task_result	*r;
	struct req		 q;
	char			*cause = NULL;

	ex = executor_new(&o, &cause);
	ck_assert_ptr_nonnull(ex);
	req_init(&q, "alloc", MESHD_STAGE_EXTRACT, 1);
	if (SANITIZED) {
		/*
		 * AddressSanitizer reserves terabytes of address space, so
		 * the worker applies no memory limit in this build and the
		 * plugin would eat the machine: cap it by parameter and
		 * only check that the allocations run.
		 */
		req_int(&q, "max_mb", 64);
		r = run(ex, &q);
		ck_assert_int_eq(r->status, MESHD_OK);
	} else {
		r = run(ex, &q);
		ck_assert_int_eq(r->status, MESHD_FAILED);
		ck_assert_ptr_nonnull(r->reason);
		ck_assert_msg(strncmp(r->reason, "out of memory after ", 20) == 0 ||
		    strncmp(r->reason, "killed by signal ", 17) == 0,
		    "reason: %s", r->reason);
	}
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_parallel)
{
	struct executor		*ex = pool(2, 0, 1, 10);
	struct task_result	*r1, *r2;
	struct req		 a, b;
	char			*cause = NULL;
	pid_t			 pa, pb;

	ck_assert_int_eq(executor_idle(ex), 2);
	req_init(&a, "ok", MESHD_STAGE_CHECK, 1);
	req_int(&a, "sleep_ms", 500);
	req_init(&b, "ok", MESHD_STAGE_CHECK, 2);
	req_int(&b, "sleep_ms", 500);
	pa = executor_submit(ex, &a.r, &cause);
	pb = executor_submit(ex, &b.r, &cause);
	ck_assert_int_gt(pa, 0);
	ck_assert_int_gt(pb, 0);
	ck_assert_int_ne(pa, pb);
	ck_assert_int_eq(executor_busy(ex), 2);
	ck_assert_int_eq(executor_idle(ex), 0);
	/* Room to queue behind them (test_queue). */
	ck_assert_int_eq(executor_room(ex), 2 * (EXECUTOR_DEPTH - 1));

	r1 = next_result(ex);
	r2 = next_result(ex);
	ck_assert_int_eq(r1->status, MESHD_OK);
	ck_assert_int_eq(r2->status, MESHD_OK);
	ck_assert_int_eq(r1->attempt_id + r2->attempt_id, 3);
	/* Both ran at once: each started before the other ended. */
	ck_assert_int_lt(r1->started_us, r2->ended_us);
	ck_assert_int_lt(r2->started_us, r1->ended_us);
	ck_assert_int_eq(executor_busy(ex), 0);
	task_result_free(r1);
	task_result_free(r2);
	req_free(&a);
	req_free(&b);
	executor_free(ex);
}
END_TEST

START_TEST(test_recycle)
{
	struct executor		*ex = pool(1, 2, 1, 10);
	struct task_result	*r;
	struct req		 q;
	pid_t			 pids[3];
	int			 i;

	req_init(&q, "ok", MESHD_STAGE_CHECK, 1);
	for (i = 0; i < 3; i++) {
		q.r.attempt_id = i + 1;
		r = run(ex, &q);
		ck_assert_int_eq(r->status, MESHD_OK);
		pids[i] = r->pid;
		task_result_free(r);
	}
	ck_assert_int_eq(pids[0], pids[1]);
	ck_assert_int_ne(pids[1], pids[2]);
	req_free(&q);
	executor_free(ex);
	ck_assert_int_eq(kill(pids[0], 0), -1);
}
END_TEST

START_TEST(test_no_leaks)
{
	struct executor		*ex;
	struct task_result	*r;
	struct req		 q;
	int			 before, st;

	before = count_fds();
	ex = pool(3, 0, 1, 10);
	req_init(&q, "segv", MESHD_STAGE_EXTRACT, 1);
	r = run(ex, &q);
	task_result_free(r);
	req_free(&q);
	req_init(&q, "hang", MESHD_STAGE_EXTRACT, 2);
	ck_assert_int_gt(executor_submit(ex, &q.r, NULL), 0);
	executor_free(ex);		/* one busy worker, two idle */
	req_free(&q);
	ck_assert_int_eq(count_fds(), before);
	/* No child left, not even a zombie. */
	ck_assert_int_eq(waitpid(-1, &st, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}
END_TEST

START_TEST(test_dies_with_parent)
{
	struct executor	*ex;
	int		 p[2], st;
	pid_t		 child, worker = 0, rc;
	int64_t		 end;

	/* Orphans come back to us, so the worker can be waited for. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	ck_assert_int_eq(pipe(p), 0);
	if ((child = fork()) == 0) {
		struct task_result	*res;
		struct req		 q;

		close(p[0]);
		ex = pool(1, 0, 1, 10);
		req_init(&q, "hang", MESHD_STAGE_EXTRACT, 1);
		worker = executor_submit(ex, &q.r, NULL);
		/* Let the worker get past its start (a worker whose parent
		 * died before its prctl exits by itself with status 1). */
		executor_wait(ex, 1200, &res, NULL);
		if (write(p[1], &worker, sizeof worker) != sizeof worker)
			_exit(2);
		for (;;)
			pause();
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &worker, sizeof worker), sizeof worker);
	close(p[0]);
	ck_assert_int_gt(worker, 0);
	ck_assert_int_eq(kill(worker, 0), 0);
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, &st, 0), child);

	end = mono_us() + 2000000;
	while ((rc = waitpid(worker, &st, WNOHANG)) == 0 && mono_us() < end)
		usleep(10000);
	ck_assert_int_eq(rc, worker);
	ck_assert_msg(WIFSIGNALED(st), "worker status %#x", st);
	ck_assert_int_eq(WTERMSIG(st), SIGKILL);
	ck_assert_int_eq(kill(worker, 0), -1);
}
END_TEST

START_TEST(test_idle_worker_death)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	pid_t			 first;

	req_init(&q, "ok", MESHD_STAGE_CHECK, 1);
	r = run(ex, &q);
	first = r->pid;
	task_result_free(r);
	ck_assert_int_eq(kill(first, SIGKILL), 0);
	usleep(100000);
	q.r.attempt_id = 2;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	ck_assert_int_ne(r->pid, first);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_worker_fds)
{
	struct executor		*ex;
	struct task_result	*r;
	struct req		 q;
	struct dirent		*de;
	DIR			*d;
	char			*dir, *secret, path[512], target[512];
	ssize_t			 n;
	int			 fd, nfds = 0;
	struct rlimit		 rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	/* A descriptor the worker must not keep (like the state DB). */
	secret = xasprintf("%s/secret.db", tmpdir);
	fd = open(secret, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ex = pool(2, 0, 1, 10);
	req_init(&q, "ok", MESHD_STAGE_CHECK, 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);

	dir = xasprintf("/proc/%d/fd", (int)r->pid);
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		/* valgrind keeps its own descriptors above the limit it
		 * shows its client */
		if (atol(de->d_name) >= (long)rl.rlim_cur)
			continue;
		nfds++;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		n = readlink(path, target, sizeof target - 1);
		ck_assert_int_gt(n, 0);
		target[n] = '\0';
		/* 0-2 and a private descriptor are /dev/null; one socket;
		 * the worker's own stat and status, for its signal check. */
		ck_assert_msg(strcmp(target, "/dev/null") == 0 ||
		    strncmp(target, "socket:", 7) == 0 ||
		    (strncmp(target, "/proc/", 6) == 0 &&
		    (strstr(target, "/status") != NULL ||
		    strstr(target, "/stat") != NULL)),
		    "worker fd %s -> %s", de->d_name, target);
	}
	closedir(d);
	ck_assert_int_le(nfds, 7);
	free(dir);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
	close(fd);
	free(secret);
}
END_TEST

START_TEST(test_exit_reason)
{
	char	*s;

	s = exit_reason(SIGSEGV);	/* wait status of a signal death */
	ck_assert_str_eq(s, "killed by signal 11 (SIGSEGV)");
	free(s);
	s = exit_reason(SIGXCPU);
	ck_assert_str_eq(s, "killed by signal 24 (SIGXCPU)");
	free(s);
	s = exit_reason(SIGRTMIN + 1);
	ck_assert_int_eq(strncmp(s, "killed by signal ", 17), 0);
	free(s);
	s = exit_reason(3 << 8);
	ck_assert_str_eq(s, "exited with status 3");
	free(s);
}
END_TEST

/* ---------------------------------------------------------------- host api */

static const struct meshd_product api_products[] = {
	{ .name = "test.first", .location = "/data/first" },
	{ .name = "test.second", .location = "/data/second" },
	{ .name = NULL }
};

static const struct meshd_plugin api_desc = {
	.magic = MESHD_PLUGIN_MAGIC,
	.size = sizeof(struct meshd_plugin),
	.abi_major = MESHD_ABI_MAJOR,
	.product_size = sizeof(struct meshd_product),
	.name = "apitest",
	.version = "1",
	.domain = "test",
	.owner = "t",
	.products = api_products,
};

static void
api_task(struct wire_task *t, int stage)
{
	static struct param	pv[4];

	memset(t, 0, sizeof *t);
	pv[0] = (struct param){ .key = (char *)(uintptr_t)"n",
	    .type = PARAM_INT, .i = 42 };
	pv[1] = (struct param){ .key = (char *)(uintptr_t)"ratio",
	    .type = PARAM_DOUBLE, .d = 0.5 };
	pv[2] = (struct param){ .key = (char *)(uintptr_t)"name",
	    .type = PARAM_STRING, .s = (char *)(uintptr_t)"x" };
	pv[3] = (struct param){ .key = (char *)(uintptr_t)"flag",
	    .type = PARAM_BOOL, .i = 1 };
	t->params.v = pv;
	t->params.n = 4;
	t->stage = stage;
	t->task_id = (char *)(uintptr_t)"t1";
	t->job = (char *)(uintptr_t)"j";
	t->attempt = 3;
	t->partition_key = (char *)(uintptr_t)"2001-01-02";
}

START_TEST(test_api_params)
{
	struct meshd_ctx	 ctx;
	struct wire_task	 t;
	meshd_ctx		*c = &ctx;
	char			*path, *log;
	int			 fd, saved;

	api_task(&t, MESHD_STAGE_EXTRACT);
	hostapi_ctx_init(&ctx, &api_desc, &t, 0, NULL);
	ck_assert_ptr_eq(meshd_api(c), &hostapi_table);
	ck_assert_uint_eq(meshd_api(c)->size, sizeof(struct meshd_api));
	ck_assert_uint_eq(meshd_api(c)->abi_major, MESHD_ABI_MAJOR);

	path = xasprintf("%s/stderr", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	saved = dup(2);
	dup2(fd, 2);
	close(fd);
	ck_assert_int_eq(meshd_param_int(c, "n", 1), 42);
	ck_assert_double_eq(meshd_param_double(c, "n", 1), 42);
	ck_assert_double_eq(meshd_param_double(c, "ratio", 1), 0.5);
	ck_assert_str_eq(meshd_param_string(c, "name", "d"), "x");
	ck_assert_int_eq(meshd_param_bool(c, "flag", 0), 1);
	ck_assert_int_eq(meshd_param_int(c, "missing", 7), 7);
	ck_assert_int_eq(meshd_param_exists(c, "ratio"), 1);
	ck_assert_int_eq(meshd_param_exists(c, "missing"), 0);
	/* wrong types: the default, and a warning */
	ck_assert_int_eq(meshd_param_int(c, "ratio", 9), 9);
	ck_assert_str_eq(meshd_param_string(c, "n", "dflt"), "dflt");
	dup2(saved, 2);
	close(saved);
	log = slurp(path);
	ck_assert_msg(strstr(log, " WARN  [apitest/t1] param 'ratio' is a "
	    "double, not a int: using the default\n") != NULL, "%s", log);
	ck_assert_ptr_nonnull(strstr(log, "param 'n' is a int, not a "
	    "string"));
	free(log);
	free(path);

	ck_assert_str_eq(meshd_job_name(c), "j");
	ck_assert_str_eq(meshd_task_id(c), "t1");
	ck_assert_int_eq(meshd_attempt(c), 3);
	ck_assert_str_eq(meshd_partition_key(c), "2001-01-02");
	hostapi_ctx_clear(&ctx);

	/* init sees no params and no partition */
	hostapi_ctx_init(&ctx, &api_desc, &t, 1, NULL);
	ck_assert_int_eq(meshd_param_int(c, "n", 1), 1);
	ck_assert_int_eq(meshd_param_exists(c, "n"), 0);
	ck_assert_ptr_null(meshd_partition_key(c));
	ck_assert_ptr_null(meshd_staging_dir(c));
	hostapi_ctx_clear(&ctx);
}
END_TEST

START_TEST(test_api_records)
{
	struct meshd_ctx	 ctx;
	struct wire_task	 t;
	meshd_ctx		*c = &ctx;
	volatile sig_atomic_t	 flag = 0;
	char			*s;

	api_task(&t, MESHD_STAGE_EXTRACT);
	hostapi_ctx_init(&ctx, &api_desc, &t, 0, &flag);
	ck_assert_int_eq(meshd_check(c, "x", MESHD_SEV_ERROR, 1, 1, NULL), -1);
	ck_assert_int_eq(meshd_metric(c, "rows", 1), 0);
	ck_assert_int_eq(meshd_metric(c, "rows", 5), 0);
	ck_assert_int_eq(meshd_metric(c, "", 5), -1);
	ck_assert_int_eq(meshd_metric(c, NULL, 5), -1);
	ck_assert_uint_eq(ctx.nmetrics, 1);
	ck_assert_double_eq(ctx.metrics[0].value, 5);
	meshd_set_error(c, "first %d", 1);
	meshd_set_error(c, "second %d", 2);
	ck_assert_str_eq(ctx.error, "second 2");
	ck_assert_int_eq(meshd_cancelled(c), 0);
	flag = 1;
	ck_assert_int_eq(meshd_cancelled(c), 1);

	/* output locations: the task's product, else the first; the
	 * override applies to the task's own product only */
	ck_assert_str_eq(meshd_output_location(c, NULL), "/data/first");
	ck_assert_str_eq(meshd_output_location(c, "test.second"),
	    "/data/second");
	ck_assert_ptr_null(meshd_output_location(c, "test.none"));
	t.product = (char *)(uintptr_t)"test.second";
	t.location = (char *)(uintptr_t)"/override";
	ck_assert_str_eq(meshd_output_location(c, NULL), "/override");
	ck_assert_str_eq(meshd_output_location(c, "test.second"),
	    "/override");
	ck_assert_str_eq(meshd_output_location(c, "test.first"),
	    "/data/first");
	hostapi_ctx_clear(&ctx);

	api_task(&t, MESHD_STAGE_CHECK);
	hostapi_ctx_init(&ctx, &api_desc, &t, 0, NULL);
	ck_assert_int_eq(meshd_check(c, "a", MESHD_SEV_ERROR, 0, 5, ">= 10"),
	    0);
	ck_assert_int_eq(meshd_check(c, "w", MESHD_SEV_WARN, 0, 1, NULL), 0);
	ck_assert_int_eq(meshd_check(c, "b", MESHD_SEV_ERROR, 0, 0.25, NULL),
	    0);
	ck_assert_int_eq(meshd_check(c, "", MESHD_SEV_ERROR, 0, 0, NULL), -1);
	s = hostapi_failed_checks(&ctx);
	ck_assert_str_eq(s, "a (observed 5, expected >= 10), "
	    "b (observed 0.25)");
	free(s);
	hostapi_ctx_clear(&ctx);
}
END_TEST

START_TEST(test_wire_task)
{
	struct req		 q;
	struct wbuf		 b;
	struct rbuf		 r;
	struct wire_task	 t;
	struct param		*p;

	req_init(&q, "ok", MESHD_STAGE_PUBLISH, 99);
	req_int(&q, "n", -5);
	p = &q.pv[q.ps.n++];
	p->key = (char *)(uintptr_t)"s";
	p->type = PARAM_STRING;
	p->s = (char *)(uintptr_t)"hello";
	q.r.location = "/loc";
	q.r.timeout_us = 123;
	wire_encode_task(&b, &q.r);
	rbuf_init(&r, b.p, b.len);
	ck_assert_int_eq(rbuf_i32(&r), WIRE_TASK);
	ck_assert_int_eq(wire_decode_task(&r, &t), 0);
	ck_assert_int_eq(t.attempt_id, 99);
	ck_assert_str_eq(t.plugin_path, q.path);
	ck_assert_int_eq(t.stage, MESHD_STAGE_PUBLISH);
	ck_assert_str_eq(t.location, "/loc");
	ck_assert_ptr_null(t.product);
	ck_assert_int_eq(t.timeout_us, 123);
	ck_assert_int_eq(t.interval_end_us, q.r.interval_end_us);
	ck_assert_uint_eq(t.params.n, 2);
	ck_assert_int_eq(t.params.v[0].i, -5);
	ck_assert_str_eq(t.params.v[1].s, "hello");
	wire_task_free(&t);

	/* A truncated message is refused, never read past its end. */
	rbuf_init(&r, b.p, b.len - 3);
	(void)rbuf_i32(&r);
	ck_assert_int_eq(wire_decode_task(&r, &t), -1);
	wbuf_free(&b);
	req_free(&q);
}
END_TEST


START_TEST(test_sticky_failed_check)
{
	struct meshd_ctx	 ctx;
	struct wire_task	 t;
	meshd_ctx		*c = &ctx;
	char			*s;

	api_task(&t, MESHD_STAGE_CHECK);
	hostapi_ctx_init(&ctx, &api_desc, &t, 0, NULL);
	ck_assert_int_eq(meshd_check(c, "rows", MESHD_SEV_ERROR, 0, 5, ">= 10"),
	    0);
	ck_assert_int_eq(meshd_check(c, "rows", MESHD_SEV_ERROR, 1, 50,
	    ">= 10"), 0);
	/* Both kept; the failure stands. */
	ck_assert_uint_eq(ctx.nchecks, 2);
	s = hostapi_failed_checks(&ctx);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "rows (observed 5, expected >= 10)");
	free(s);
	hostapi_ctx_clear(&ctx);

	/* A warning or a pass may still be replaced. */
	hostapi_ctx_init(&ctx, &api_desc, &t, 0, NULL);
	ck_assert_int_eq(meshd_check(c, "w", MESHD_SEV_WARN, 0, 1, NULL), 0);
	ck_assert_int_eq(meshd_check(c, "w", MESHD_SEV_WARN, 1, 2, NULL), 0);
	ck_assert_uint_eq(ctx.nchecks, 1);
	ck_assert_int_eq(ctx.checks[0].passed, 1);
	hostapi_ctx_clear(&ctx);
}
END_TEST

/* A well-formed reply of `type` for the decoder tests. */
static void
reply(struct wbuf *b, enum wire_type type)
{
	wire_reply_init(b, type, 0x1122334455667788ULL, 42, 7);
	switch (type) {
	case WIRE_ACK:
		wbuf_i64(b, 1000);
		break;
	case WIRE_CHECK:
		wbuf_str(b, "rows", 0);
		wbuf_i32(b, MESHD_SEV_ERROR);
		wbuf_i32(b, 1);
		wbuf_f64(b, 3.5);
		wbuf_str(b, NULL, 0);
		wbuf_i64(b, 5);
		break;
	case WIRE_METRIC:
		wbuf_str(b, "rows", 0);
		wbuf_f64(b, 2);
		break;
	case WIRE_RESULT:
		wbuf_i32(b, MESHD_RETRY);
		wbuf_i32(b, 1);
		wbuf_i32(b, 0);
		wbuf_str(b, "why", 0);
		wbuf_str(b, NULL, 0);
		wbuf_i64(b, 1);
		wbuf_i64(b, 2);
		break;
	default:
		break;
	}
}

START_TEST(test_wire_reply)
{
	static const enum wire_type types[] = { WIRE_ACK, WIRE_HEARTBEAT,
	    WIRE_CHECK, WIRE_METRIC, WIRE_RESULT };
	struct wire_reply	 w;
	struct wbuf		 b;
	unsigned char		*p;
	char			*longs;
	size_t			 i, cut;

	for (i = 0; i < nitems(types); i++) {
		reply(&b, types[i]);
		ck_assert_int_eq(wire_decode_reply(b.p, b.len, &w), 0);
		ck_assert_uint_eq(w.type, types[i]);
		ck_assert(w.nonce == 0x1122334455667788ULL);
		ck_assert_int_eq(w.attempt_id, 42);
		ck_assert_uint_eq(w.seq, 7);
		wire_reply_free(&w);
		/* Every truncation and one byte more are refused. */
		for (cut = 0; cut < b.len; cut++)
			ck_assert_int_eq(wire_decode_reply(b.p, cut, &w), -1);
		p = xmalloc(b.len + 1);
		memcpy(p, b.p, b.len);
		p[b.len] = 0;
		ck_assert_int_eq(wire_decode_reply(p, b.len + 1, &w), -1);
		free(p);
		wbuf_free(&b);
	}
	reply(&b, WIRE_RESULT);
	ck_assert_int_eq(wire_decode_reply(b.p, b.len, &w), 0);
	ck_assert_int_eq(w.status, MESHD_RETRY);
	ck_assert_str_eq(w.reason, "why");
	ck_assert_ptr_null(w.message);
	wire_reply_free(&w);
	/* A status out of range */
	memset(b.p + WIRE_REPLY_HDR, 0x7f, 4);
	ck_assert_int_eq(wire_decode_reply(b.p, b.len, &w), -1);
	wbuf_free(&b);
	/* An unknown type, and one meant for the worker */
	reply(&b, WIRE_TASK);
	ck_assert_int_eq(wire_decode_reply(b.p, b.len, &w), -1);
	wbuf_free(&b);
	/* A string over WIRE_STR_MAX */
	longs = xmalloc(WIRE_STR_MAX + 2);
	memset(longs, 'a', WIRE_STR_MAX + 1);
	longs[WIRE_STR_MAX + 1] = '\0';
	wire_reply_init(&b, WIRE_METRIC, 1, 1, 0);
	wbuf_str(&b, longs, 0);
	wbuf_f64(&b, 1);
	ck_assert_int_eq(wire_decode_reply(b.p, b.len, &w), -1);
	wbuf_free(&b);
	free(longs);
	/* Severity out of range */
	wire_reply_init(&b, WIRE_CHECK, 1, 1, 0);
	wbuf_str(&b, "x", 0);
	wbuf_i32(&b, 9);
	wbuf_i32(&b, 1);
	wbuf_f64(&b, 1);
	wbuf_str(&b, NULL, 0);
	wbuf_i64(&b, 1);
	ck_assert_int_eq(wire_decode_reply(b.p, b.len, &w), -1);
	wbuf_free(&b);
	/* Four bytes, as a plugin once wrote */
	ck_assert_int_eq(wire_decode_reply("\7\0\0\0", 4, &w), -1);
}
END_TEST

/*
 * The outcome trailer: after the plugin's last line (even without its
 * newline), one marker and one outcome line, whatever a plugin put in its
 * message or check names (no forged second outcome line), and bounded
 * however many checks it recorded.  A log that does not exist yet (the
 * attempt was refused at submit) is created with the trailer alone.
 */
START_TEST(test_outcome_trailer)
{
	struct task_result	 r;
	struct check_rec	 c[100];
	char			*path, *log, *p, name[32];
	const char		*want;
	size_t			 i, n;
	FILE			*f;

	path = xasprintf("%s/new/dir/t.1.log", tmpdir);
	memset(&r, 0, sizeof r);
	r.status = MESHD_FAILED;
	r.reason = xstrdup("killed by signal 11 (SIGSEGV)");
	executor_log_outcome(path, 2, &r);
	log = slurp(path);
	ck_assert_str_eq(log, EXECUTOR_OUTCOME_MARKER "\n"
	    "meshd: attempt 2 failed: killed by signal 11 (SIGSEGV)\n");
	free(log);
	free(r.reason);
	free(path);

	path = xasprintf("%s/t.2.log", tmpdir);
	f = fopen(path, "w");
	fputs("partial line", f);
	fclose(f);
	memset(&r, 0, sizeof r);
	r.status = MESHD_FAILED;
	r.reason = xstrdup("quality check failed: c0");
	r.message = xstrdup("bad\nmeshd: attempt 1 succeeded");
	for (i = 0; i < nitems(c); i++) {
		memset(&c[i], 0, sizeof c[i]);
		snprintf(name, sizeof name, "c%zu\nmeshd: x", i);
		c[i].name = xstrdup(name);
		c[i].severity = MESHD_SEV_ERROR;
		c[i].passed = i != 0;
		c[i].observed = (double)i;
		c[i].expectation = xstrdup(">= 1");
	}
	r.checks = c;
	r.nchecks = nitems(c);
	executor_log_outcome(path, 1, &r);
	log = slurp(path);
	want = "partial line\n" EXECUTOR_OUTCOME_MARKER "\n"
	    "meshd: attempt 1 failed: quality check failed: c0\n"
	    "meshd: plugin error: bad?meshd: attempt 1 succeeded\n"
	    "meshd: checks: 100 recorded, 1 failed\n";
	ck_assert_msg(strncmp(log, want, strlen(want)) == 0, "log: %s", log);
	ck_assert_ptr_nonnull(strstr(log, "  c0?meshd: x "));
	ck_assert_ptr_nonnull(strstr(log, "  ... and 60 more (meshctl "
	    "checks)\n"));
	/* Every line that starts "meshd:" is one the host wrote. */
	for (n = 0, p = log; (p = strstr(p, "\nmeshd:")) != NULL; p++)
		n++;
	ck_assert_int_eq(n, 3);
	ck_assert_int_le(strlen(log), 13 + EXECUTOR_OUTCOME_MAX);
	free(log);
	for (i = 0; i < nitems(c); i++) {
		free(c[i].name);
		free(c[i].expectation);
	}
	free(r.reason);
	free(r.message);
	free(path);
}
END_TEST

static Suite *
executor_suite(void)
{
	Suite	*s = suite_create("executor");
	TCase	*tc;

	tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ok_extract);
	tcase_add_test(tc, test_ok_check_and_reuse);
	tcase_add_test(tc, test_lazy_dir_fault);
	tcase_add_test(tc, test_silent_no_files);
	tcase_add_test(tc, test_queue);
	tcase_add_test(tc, test_queue_cancel);
	tcase_add_test(tc, test_queue_worker_dies);
	tcase_add_test(tc, test_fails);
	tcase_add_test(tc, test_retry);
	tcase_add_test(tc, test_segv);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_exit3);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_timeout_compact);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_silence);
	tcase_add_test(tc, test_heartbeat_keeps_alive);
	tcase_add_test(tc, test_badinit);
	tcase_add_test(tc, test_badcheck);
	tcase_add_test(tc, test_missing_stage);
	tcase_add_test(tc, test_load_refused);
	tcase_add_test(tc, test_alloc);
	tcase_add_test(tc, test_parallel);
	tcase_add_test(tc, test_recycle);
	tcase_add_test(tc, test_no_leaks);
	tcase_add_test(tc, test_dies_with_parent);
	tcase_add_test(tc, test_idle_worker_death);
	tcase_add_test(tc, test_worker_fds);
	suite_add_tcase(s, tc);


	tc = tcase_create("units");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_exit_reason);
	tcase_add_test(tc, test_api_params);
	tcase_add_test(tc, test_api_records);
	tcase_add_test(tc, test_wire_task);
	tcase_add_test(tc, test_wire_reply);
	tcase_add_test(tc, test_sticky_failed_check);
	tcase_add_test(tc, test_outcome_trailer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(executor_suite());
	int	 nfailed;

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

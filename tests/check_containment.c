/*
 * check_containment.c -- containment (issue 10): hostile plugins against
 * the worker pool -- escapes by setsid() and fork, output floods, closed
 * descriptors, signal dispositions left behind, forged protocol frames,
 * oversized tasks, stalls and hung finalisers.  Split from check_executor.c
 * (the fixture is check_executor.h).
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
/* Containment (issue 10): hostile plugins against the pool. */

/* Whether `pid` still runs (a zombie does not count). */
static int
alive(pid_t pid)
{
	char	path[64], buf[512], *p;
	FILE	*f;
	size_t	n;

	if (kill(pid, 0) == -1)
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return 1;
	return p[2] != 'Z';
}

/* The pids in the pidfiles of `dir` (at most max); their number. */
static int
pidfiles(const char *dir, pid_t *out, int max)
{
	DIR		*d;
	struct dirent	*de;
	char		*path, *text;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		if (strstr(de->d_name, ".pid") == NULL)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		text = slurp(path);
		out[n++] = (pid_t)atol(text);
		free(text);
		free(path);
	}
	closedir(d);
	return n;
}

/* Every process that wrote a pidfile into `dir` is gone by now, or in
 * the next second (give a kill under way its time). */
static void
assert_all_gone(const char *dir, int want)
{
	pid_t	pids[16];
	int	n, i, left;
	int64_t	end = mono_us() + 1000000;

	n = pidfiles(dir, pids, 16);
	ck_assert_int_eq(n, want);
	do {
		left = 0;
		for (i = 0; i < n; i++)
			left += alive(pids[i]);
		if (left == 0)
			return;
		usleep(10000);
	} while (mono_us() < end);
	ck_abort_msg("%d of %d processes outlived their attempt", left, n);
}

static void
req_str(struct req *q, const char *key, const char *v)
{
	struct param	*p = &q->pv[q->ps.n++];

	p->key = (char *)(uintptr_t)key;
	p->type = PARAM_STRING;
	p->s = (char *)(uintptr_t)v;
}

static char *
piddir(void)
{
	char	*d = xasprintf("%s/pids", tmpdir);

	ck_assert_int_eq(mkdir(d, 0755), 0);
	return d;
}

START_TEST(test_setsid_escape)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	char			*dir = piddir();
	pid_t			 pids[4];

	req_init(&q, "hostile_setsid", MESHD_STAGE_EXTRACT, 1);
	req_str(&q, "piddir", dir);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	/* Gone before the result was sent: no grace needed. */
	ck_assert_int_eq(pidfiles(dir, pids, 4), 1);
	ck_assert_msg(!alive(pids[0]), "setsid grandchild %d lives on",
	    (int)pids[0]);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
	free(dir);
}
END_TEST

START_TEST(test_setsid_escape_crash)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	char			*dir = piddir();

	req_init(&q, "hostile_setsid", MESHD_STAGE_EXTRACT, 1);
	req_str(&q, "piddir", dir);
	req_bool(&q, "crash", 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_str_eq(r->reason, "killed by signal 11 (SIGSEGV)");
	/* The worker died first: its setsid() orphan came to us, and we
	 * killed it. */
	assert_all_gone(dir, 1);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
	free(dir);
}
END_TEST

START_TEST(test_killed_never_idle)
{
	struct executor		*ex = pool(1, 0, 0, 10);
	struct task_result	*r;
	struct req		 q;
	char			*cause = NULL;
	pid_t			 pid;

	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 1);
	pid = executor_submit(ex, &q.r, &cause);
	ck_assert_int_gt(pid, 0);
	/* The result waits in the socket as the worker is sent SIGKILL
	 * (no grace): it must not make the worker idle again. */
	usleep(300000);
	ck_assert_int_eq(executor_cancel(ex, 1, "cancelled"), 0);
	r = next_result(ex);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_str_eq(r->reason, "cancelled");
	task_result_free(r);
	q.r.attempt_id = 2;
	r = run(ex, &q);
	ck_assert_msg(r->status == MESHD_OK, "reason: %s", r->reason);
	ck_assert_int_ne(r->pid, pid);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_forked_children)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	char			*dir = piddir(), *fds, *path;

	req_init(&q, "hostile_fork", MESHD_STAGE_EXTRACT, 1);
	req_str(&q, "piddir", dir);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	assert_all_gone(dir, 4);
	/* The program the plugin ran did not inherit the socket. */
	path = xasprintf("%s/fds.txt", dir);
	fds = slurp(path);
	ck_assert_msg(strstr(fds, " 0 -> ") != NULL, "no fd listing: %s",
	    fds);
	ck_assert_msg(strstr(fds, "socket:") == NULL,
	    "an exec'd child holds a socket:\n%s", fds);
	free(fds);
	free(path);
	task_result_free(r);

	/* The worker goes on serving. */
	req_free(&q);
	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 2);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
	free(dir);
}
END_TEST

START_TEST(test_forked_children_crash)
{
	struct executor		*ex = pool(1, 0, 1, 2);
	struct task_result	*r;
	struct req		 q;
	char			*dir = piddir();

	req_init(&q, "hostile_fork", MESHD_STAGE_EXTRACT, 1);
	req_str(&q, "piddir", dir);
	req_bool(&q, "crash", 1);
	r = run(ex, &q);
	/* Children holding the socket open do not turn the crash into
	 * silence, and they die with the worker. */
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_str_eq(r->reason, "killed by signal 11 (SIGSEGV)");
	assert_all_gone(dir, 4);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
	free(dir);
}
END_TEST

START_TEST(test_stdout_flood)
{
	struct executor		*ex;
	struct task_result	*r;
	struct req		 q;
	struct stat		 sb;
	char			*text, *want;
	int			 fd;
	off_t			 off;

	pool_log_max = 1048576;
	ex = pool(1, 0, 1, 10);
	req_init(&q, "hostile_flood", MESHD_STAGE_EXTRACT, 1);
	req_int(&q, "mib", 64);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	ck_assert_int_eq(stat(q.log, &sb), 0);
	ck_assert_msg(sb.st_size > 1048576 && sb.st_size < 1048576 + 200,
	    "log is %lld bytes", (long long)sb.st_size);
	/* One marker line, with the exact count: every byte is either in
	 * the log or counted. */
	fd = open(q.log, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	text = xcalloc(1, 256);
	off = 1048576 - 8;
	ck_assert_int_gt(pread(fd, text, 255, off), 0);
	close(fd);
	want = xasprintf("[meshd] log_max_bytes (1048576) reached: %lld bytes "
	    "of output dropped\n", 64LL * 1048576 - 1048576);
	ck_assert_msg(strstr(text, want) != NULL, "log ends with: %s", text);
	free(want);
	free(text);
	task_result_free(r);

	/* log_overflow = "fail" */
	executor_free(ex);
	pool_log_fails = 1;
	ex = pool(1, 0, 1, 10);
	q.r.attempt_id = 2;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_str_eq(r->reason, "output over log_max_bytes (1048576 "
	    "bytes)");
	task_result_free(r);

	/* A worker that dies over the cap: the supervisor cuts the log. */
	req_free(&q);
	executor_free(ex);
	pool_log_fails = 0;
	ex = pool(1, 0, 1, 10);
	req_init(&q, "hostile_flood", MESHD_STAGE_EXTRACT, 3);
	req_bool(&q, "forever", 1);
	q.r.timeout_us = 500000;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(stat(q.log, &sb), 0);
	ck_assert_msg(sb.st_size < 1048576 + 200, "log is %lld bytes",
	    (long long)sb.st_size);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
	pool_log_max = 0;
}
END_TEST

START_TEST(test_closed_fds)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;

	req_init(&q, "hostile_closefds", MESHD_STAGE_EXTRACT, 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_str_eq(r->reason, "worker closed its connection");
	task_result_free(r);
	req_free(&q);
	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 2);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_signals_reset)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	pid_t			 pid;
	int			 i;

	req_init(&q, "hostile_sigterm", MESHD_STAGE_EXTRACT, 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	pid = r->pid;
	task_result_free(r);
	req_free(&q);

	/* Same worker: nothing of the plugin's signal state is left. */
	req_init(&q, "hostile_sigterm", MESHD_STAGE_CHECK, 2);
	r = run(ex, &q);
	ck_assert_int_eq(r->pid, pid);
	ck_assert_msg(r->status == MESHD_OK, "reason: %s", r->reason);
	task_result_free(r);
	/* A real-time signal's handler is gone within 16 tasks. */
	for (i = 0; i < 16; i++) {
		q.r.attempt_id = 100 + i;
		r = run(ex, &q);
		ck_assert_int_eq(r->pid, pid);
		task_result_free(r);
	}
	q.r.attempt_id = 200;
	r = run(ex, &q);
	for (i = 0; i < (int)r->nchecks; i++) {
		if (strcmp(r->checks[i].name, "rt_reset") == 0)
			ck_assert_int_eq(r->checks[i].passed, 1);
	}
	ck_assert_uint_eq(r->nchecks, 2);
	task_result_free(r);

	/* SIGTERM reaches the plugin again: a timeout is a cancel it
	 * honours, not a SIGKILL after the grace. */
	q.r.attempt_id = 3;
	q.r.timeout_us = 300000;
	req_bool(&q, "hang", 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_str_eq(r->reason, "timed out after 0.3s");
	ck_assert_ptr_nonnull(r->message);
	ck_assert_str_eq(r->message, "cancelled");
	/* A worker that was told to stop never gets another task. */
	pid = r->pid;
	task_result_free(r);
	req_free(&q);
	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 4);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	ck_assert_int_ne(r->pid, pid);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_segv_loop)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;

	req_init(&q, "hostile_segvloop", MESHD_STAGE_EXTRACT, 1);
	q.r.timeout_us = 500000;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_str_eq(r->reason, "timed out after 0.5s");
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

static void
forged(const char *mode)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	pid_t			 pid;

	req_init(&q, "hostile_forge", MESHD_STAGE_EXTRACT, 1);
	req_str(&q, "mode", mode);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_str_eq(r->reason, "worker sent a malformed message");
	pid = r->pid;
	task_result_free(r);
	req_free(&q);
	/* Nothing forged reaches the next task: a new worker runs it. */
	req_init(&q, "fails", MESHD_STAGE_EXTRACT, 2);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_str_eq(r->reason, "deliberate failure: fails plugin");
	ck_assert_int_ne(r->pid, pid);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}

START_TEST(test_forged_garbage)
{
	forged("garbage");
}
END_TEST

START_TEST(test_forged_result)
{
	forged("result");
}
END_TEST

START_TEST(test_forged_old)
{
	forged("old");
}
END_TEST

START_TEST(test_forged_big)
{
	forged("big");
}
END_TEST

START_TEST(test_oversized_task)
{
	struct executor		*ex;
	struct task_result	*r;
	struct req		 q;
	char			*big, *cause = NULL;
	pid_t			 pid;

	pool_task_max = 2 * 1048576;
	ex = pool(1, 0, 1, 10);
	/* 1 MiB: over a datagram, under the limit: sent in a memfd. */
	big = xmalloc(3 * 1048576 + 1);
	memset(big, 'p', 3 * 1048576);
	big[1048576] = '\0';
	req_init(&q, "paramecho", MESHD_STAGE_EXTRACT, 1);
	req_str(&q, "extra", big);
	r = run(ex, &q);
	ck_assert_msg(r->status == MESHD_OK, "reason: %s", r->reason);
	ck_assert_double_eq(metric(r, "has_extra"), 1);
	task_result_free(r);

	/* 3 MiB: over the limit.  Not an error of submit: a result. */
	big[1048576] = 'p';
	big[3 * 1048576] = '\0';
	q.r.attempt_id = 2;
	pid = executor_submit(ex, &q.r, &cause);
	ck_assert_msg(pid > 0, "executor_submit: %s", cause);
	r = next_result(ex);
	ck_assert_int_eq(r->attempt_id, 2);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->retryable, 0);
	ck_assert_msg(strncmp(r->reason, "task message is ", 16) == 0 &&
	    atol(r->reason + 16) > 3 * 1048576 &&
	    strstr(r->reason, " bytes, over task_max_bytes (2097152)") != NULL,
	    "reason: %s", r->reason);
	task_result_free(r);

	/* And the worker is still there for the next. */
	big[10] = '\0';
	q.r.attempt_id = 3;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	task_result_free(r);
	free(big);
	req_free(&q);
	executor_free(ex);
	pool_task_max = 0;
}
END_TEST

START_TEST(test_empty_check)
{
	struct executor		*ex;
	struct task_result	*r;
	struct req		 q;

	pool_empty_check = 1;
	ex = pool(1, 0, 1, 10);
	req_init(&q, "paramecho", MESHD_STAGE_CHECK, 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_str_eq(r->reason, "check stage recorded no checks "
	    "(empty_check = \"fail\")");
	task_result_free(r);
	/* Other stages need no check. */
	q.r.stage = MESHD_STAGE_EXTRACT;
	q.r.attempt_id = 2;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	task_result_free(r);
	executor_free(ex);
	pool_empty_check = 0;
	ex = pool(1, 0, 1, 10);
	q.r.stage = MESHD_STAGE_CHECK;
	q.r.attempt_id = 3;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_infra_fault)
{
	struct executor		*ex = pool(1, 0, 1, 10);
	struct task_result	*r;
	struct req		 q;
	char			*ro;

	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 1);
	if (geteuid() == 0) {
		/* root may write anywhere but into /sys */
		ro = xstrdup("/sys/meshd-check-executor");
	} else {
		ro = xasprintf("%s/ro", tmpdir);
		ck_assert_int_eq(mkdir(ro, 0500), 0);
	}
	free(q.log);
	q.log = xasprintf("%s/logs/1.log", ro);
	q.r.log_path = q.log;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->infra, 1);
	ck_assert_int_eq(r->retryable, 1);
	ck_assert_msg(strstr(r->reason, ro) != NULL &&
	    (strstr(r->reason, "Permission denied") != NULL ||
	    strstr(r->reason, "Operation not permitted") != NULL),
	    "reason: %s", r->reason);
	task_result_free(r);

	/* The staging directory too. */
	free(q.staging);
	q.staging = xasprintf("%s/staging", ro);
	q.r.staging_dir = q.staging;
	free(q.log);
	q.log = xasprintf("%s/logs/2.log", tmpdir);
	q.r.log_path = q.log;
	q.r.attempt_id = 2;
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_FAILED);
	ck_assert_int_eq(r->infra, 1);
	ck_assert_msg(strstr(r->reason, ro) != NULL, "reason: %s",
	    r->reason);
	task_result_free(r);
	free(ro);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_stall_reads_first)
{
	struct executor		*ex = pool(1, 0, 1, 1);
	struct task_result	*r;
	struct req		 q;
	char			*cause = NULL;

	req_init(&q, "ok", MESHD_STAGE_EXTRACT, 1);
	ck_assert_int_gt(executor_submit(ex, &q.r, &cause), 0);
	/* The supervisor is away for twice the heartbeat timeout while the
	 * result waits in the socket. */
	usleep(2200000);
	r = next_result(ex);
	ck_assert_msg(r->status == MESHD_OK, "reason: %s", r->reason);
	task_result_free(r);
	req_free(&q);
	executor_free(ex);
}
END_TEST

START_TEST(test_fini_hang)
{
	struct executor		*ex = pool(1, 1, 1, 10);
	struct task_result	*r;
	struct req		 q;
	char			*cause = NULL;
	int64_t			 end;
	pid_t			 pid;

	req_init(&q, "hostile_fini", MESHD_STAGE_EXTRACT, 1);
	r = run(ex, &q);
	ck_assert_int_eq(r->status, MESHD_OK);
	pid = r->pid;
	task_result_free(r);
	/* Retired after one task; its fini never returns. */
	end = mono_us() + 3000000;
	while (mono_us() < end && alive(pid))
		ck_assert_int_ge(executor_wait(ex, 100, &r, &cause), 0);
	ck_assert_msg(!alive(pid), "retired worker %d stuck in fini lives",
	    (int)pid);
	req_free(&q);
	executor_free(ex);
}
END_TEST

static Suite *
containment_suite(void)
{
	Suite	*s = suite_create("containment");
	TCase	*tc;

	tc = tcase_create("containment");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_setsid_escape);
	tcase_add_test(tc, test_setsid_escape_crash);
	tcase_add_test(tc, test_killed_never_idle);
	tcase_add_test(tc, test_forked_children);
	tcase_add_test(tc, test_forked_children_crash);
	tcase_add_test(tc, test_stdout_flood);
	tcase_add_test(tc, test_closed_fds);
	tcase_add_test(tc, test_signals_reset);
	tcase_add_test(tc, test_segv_loop);
	tcase_add_test(tc, test_forged_garbage);
	tcase_add_test(tc, test_forged_result);
	tcase_add_test(tc, test_forged_old);
	tcase_add_test(tc, test_forged_big);
	tcase_add_test(tc, test_oversized_task);
	tcase_add_test(tc, test_empty_check);
	tcase_add_test(tc, test_infra_fault);
	tcase_add_test(tc, test_stall_reads_first);
	tcase_add_test(tc, test_fini_hang);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(containment_suite());
	int	 nfailed;

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * bench-dispatch.c -- how fast meshd hands tasks to isolated workers.
 *
 * Two figures:
 *  1. executor round trip: a no-op stage (the test plugin `ok`, check
 *     stage: one recorded check, no file I/O) submitted to a pre-forked
 *     worker and its result read back, over and over: tasks per second and
 *     mean microseconds per task;
 *  2. a whole run through the runner: a chain of N tasks, each starting
 *     only when the previous one ended, with every attempt, check and state
 *     change committed to SQLite: the mean gap from one task's end to the
 *     next task's end, i.e. the orchestration overhead per dependent task.
 *
 * usage: bench-dispatch PLUGIN_DIR [N]
 * (`make bench` runs it on the built test plugins.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meshd/plugin.h"
#include "config.h"
#include "executor.h"
#include "job.h"
#include "runner.h"
#include "state.h"
#include "util.h"

static void
die(const char *what, char *cause)
{
	fprintf(stderr, "bench-dispatch: %s: %s\n", what, cause);
	exit(1);
}

static void
bench_executor(const char *plugin, int n, int workers)
{
	struct executor_opts	 eo = { .workers = workers, .kill_grace_s = 2,
	    .heartbeat_timeout_s = 10 };
	struct executor		*ex;
	struct task_result	*res;
	struct paramset		 ps = { NULL, 0 };
	struct task_req		 req;
	char			*cause = NULL, dir[] = "/tmp/meshd-bench.XXXXXX";
	char			*log;
	int			 i, sent = 0, done = 0;
	int64_t			 t0, t1;

	if (mkdtemp(dir) == NULL)
		die("mkdtemp", NULL);
	log = xasprintf("%s/log", dir);
	if ((ex = executor_new(&eo, &cause)) == NULL)
		die("executor_new", cause);
	memset(&req, 0, sizeof req);
	req.job = "bench";
	req.task_id = "noop";
	req.plugin_path = plugin;
	req.stage = MESHD_STAGE_CHECK;
	req.attempt = 1;
	req.partition_key = "current";
	req.staging_dir = dir;
	req.attempt_dir = dir;
	req.log_path = log;
	req.params = &ps;

	/* Warm up: every worker loads the plugin once. */
	for (i = 0; i < workers; i++) {
		req.attempt_id = ++sent;
		if (executor_submit(ex, &req, &cause) == -1)
			die("submit", cause);
	}
	while (done < sent) {
		if (executor_wait(ex, -1, &res, &cause) == 1) {
			task_result_free(res);
			done++;
		}
	}

	t0 = mono_us();
	sent = done = 0;
	while (done < n) {
		while (sent < n && executor_idle(ex) > 0) {
			req.attempt_id = ++sent;
			if (executor_submit(ex, &req, &cause) == -1)
				die("submit", cause);
		}
		if (executor_wait(ex, -1, &res, &cause) == 1) {
			if (res->status != MESHD_OK)
				die("task", res->reason);
			task_result_free(res);
			done++;
		}
	}
	t1 = mono_us();
	printf("executor: %d no-op tasks on %d worker%s: %.0f tasks/s, "
	    "%.1f us per task\n", n, workers, workers == 1 ? "" : "s",
	    n / ((t1 - t0) / 1e6), (double)(t1 - t0) / n);
	executor_free(ex);
	free(log);
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			fprintf(stderr, "bench-dispatch: could not remove %s\n",
			    dir);
		free(cmd);
	}
}

static void
bench_chain(const char *plugdir, int n)
{
	char			 dir[] = "/tmp/meshd-bench.XXXXXX";
	char			*path, *cause = NULL;
	FILE			*f;
	struct meshd_config	*cfg;
	struct errlist		 errs = ERRLIST_INIT;
	struct jobset		 js = { NULL, 0, NULL, 0, NULL, 0 };
	struct state		*st;
	struct executor		*ex;
	struct executor_opts	 eo = { .workers = 1, .kill_grace_s = 2,
	    .heartbeat_timeout_s = 10 };
	struct run_summary	*sum;
	int			 i;
	int64_t			 t0, t1;

	if (mkdtemp(dir) == NULL)
		die("mkdtemp", NULL);
	path = xasprintf("%s/meshd.conf", dir);
	f = fopen(path, "w");
	fprintf(f, "plugin_path = [ \"%s\" ];\nworkers = 1;\n", plugdir);
	fclose(f);
	free(path);
	path = xasprintf("%s/jobs", dir);
	mkdir_p(path, 0755, NULL);
	free(path);
	path = xasprintf("%s/jobs/chain.conf", dir);
	f = fopen(path, "w");
	fprintf(f, "name = \"chain\"; domain = \"bench\"; owner = \"b\";\n"
	    "tasks = (\n");
	for (i = 0; i < n; i++) {
		fprintf(f, "  { id = \"t%d\"; plugin = \"ok\"; stage = "
		    "\"check\";", i);
		if (i > 0)
			fprintf(f, " after = [ \"t%d\" ];", i - 1);
		fprintf(f, " }%s\n", i + 1 < n ? "," : "");
	}
	fprintf(f, ");\n");
	fclose(f);
	free(path);

	path = xasprintf("%s/meshd.conf", dir);
	if ((cfg = config_load(path, &errs)) == NULL ||
	    jobs_load(cfg, &js, &errs) != 0) {
		errlist_print(&errs, stderr);
		exit(1);
	}
	free(path);
	if ((st = state_open(cfg->state_db, STATE_RDWR, &cause)) == NULL)
		die("state", cause);
	if ((ex = executor_new(&eo, &cause)) == NULL)
		die("executor", cause);

	t0 = mono_us();
	if (runner_run(cfg, st, ex, js.v[0], NULL, "bench", NULL, &sum,
	    &cause) != 0)
		die("run", cause);
	t1 = mono_us();
	if (strcmp(sum->state, "success") != 0)
		die("run", sum->state);
	printf("runner: chain of %d dependent tasks, each committed to "
	    "SQLite: %.0f us per task end to next task end\n", n,
	    (double)(t1 - t0) / n);
	run_summary_free(sum);
	executor_free(ex);
	state_close(st);
	jobset_free(&js);
	config_free(cfg);
	errlist_free(&errs);
	path = xasprintf("rm -rf '%s'", dir);
	if (system(path) != 0)
		fprintf(stderr, "bench-dispatch: could not remove %s\n", dir);
	free(path);
}

int
main(int argc, char **argv)
{
	char	*plugin, host[256];
	int	 n = argc > 2 ? atoi(argv[2]) : 20000;
	long	 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (argc < 2) {
		fprintf(stderr, "usage: bench-dispatch PLUGIN_DIR [N]\n");
		return 2;
	}
	gethostname(host, sizeof host);
	printf("machine: %s, %ld CPUs\n", host, ncpu);
	plugin = xasprintf("%s/ok.so", argv[1]);
	bench_executor(plugin, n, 1);
	bench_executor(plugin, n, ncpu > 1 ? (int)ncpu : 2);
	bench_chain(argv[1], n / 20 > 10 ? n / 20 : 10);
	free(plugin);
	return 0;
}

/*
 * bench-dag.c -- run one benchmark DAG through meshd's engine and measure it.
 *
 * The DAG is an ordinary job file (bench/run-bench.sh writes it, and the
 * same DAG as a Makefile for make -j2).  The driver loads meshd.conf and the
 * job, opens the state database on disk, forks the worker pool and drives
 * struct engine exactly as the daemon does: engine_add_run(), then
 * engine_step() until no run is active.  Every attempt runs in a worker
 * process and every state change is committed to SQLite.
 *
 *   bench-dag [-F] [-a ADMIT] [-p N] [-s DAY] CONF JOB
 *
 * Without -p the job runs once, as its "current" partition.  With -p the
 * job (a daily one) is backfilled: N partitions from DAY (default
 * 2000-01-01), one run each, at most ADMIT runs active at once (default
 * 64).  -F sets PRAGMA synchronous = FULL (safe against power loss) on top
 * of meshd's default, WAL with synchronous = NORMAL (safe against kill -9).
 *
 * It prints one line of key=value pairs for the script's table:
 *   tasks      attempts that ended in success (must be every task)
 *   engine_s   from the first engine_add_run() to the end of the last run
 *   tasks_s    tasks / engine_s
 *   p50_us p99_us max_us
 *              task->task latency by the workers' own clocks: for each
 *              task with predecessors, the time its worker started it
 *              minus the latest time a worker finished one of its
 *              predecessors in the same run (on a chain: start of task i+1
 *              minus end of task i, the whole trip through the supervisor)
 *   state_p50_us state_p99_us
 *              the same from the attempts table (started_us, ended_us:
 *              the supervisor's bookkeeping, without the trip)
 *   rss_kb     peak RSS of this process (getrusage RUSAGE_SELF)
 *   child_kb   peak RSS of the largest child: the workers and the plugin
 *              probes (RUSAGE_CHILDREN, read after the pool is reaped)
 * and exits 1 if any run did not succeed.
 */
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "dag.h"
#include "engine.h"
#include "executor.h"
#include "job.h"
#include "runner.h"
#include "state.h"
#include "util.h"

static void
die(const char *what, const char *cause)
{
	fprintf(stderr, "bench-dag: %s: %s\n", what,
	    cause != NULL ? cause : "failed");
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-dag [-F] [-a ADMIT] [-p N] [-s DAY] "
	    "CONF JOB\n");
	exit(2);
}

/* Task ids sorted, to map the attempts table back to DAG nodes. */
struct idx {
	const char	*id;
	size_t		 i;
};

static int
idx_cmp(const void *a, const void *b)
{
	return strcmp(((const struct idx *)a)->id, ((const struct idx *)b)->id);
}

static int
i64_cmp(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Latencies of one run, from the start and end times of its tasks' last
 * successful attempts, appended to *lat.
 */
static void
run_latencies(const struct job_def *job, const int64_t *start,
    const int64_t *end, int64_t **lat, size_t *nlat, size_t *cap)
{
	size_t		 i, k, np;
	const size_t	*pred;
	int64_t		 ready;

	for (i = 0; i < job->ntasks; i++) {
		if ((np = dag_npred(job->dag, i)) == 0 || start[i] == 0)
			continue;
		pred = dag_pred(job->dag, i);
		ready = 0;
		for (k = 0; k < np; k++)
			if (end[pred[k]] > ready)
				ready = end[pred[k]];
		if (*nlat == *cap) {
			*cap = *cap == 0 ? 1024 : *cap * 2;
			*lat = xreallocarray(*lat, *cap, sizeof **lat);
		}
		(*lat)[(*nlat)++] = start[i] - ready;
	}
}

/* The workers' own start and end of every attempt (run_observer's
 * task_times), in the order they were committed. */
struct wtime {
	int64_t		 run_id;
	const char	*task_id;	/* the job's, kept for the run */
	int64_t		 start, end;
};

struct wtimes {
	struct wtime		*v;
	size_t			 n, cap;
	const struct job_def	*job;
	struct idx		*ix;	/* the job's task ids, sorted */
};

static void
on_task_times(void *arg, int64_t run_id, const char *task_id,
    int64_t started_us, int64_t ended_us)
{
	struct wtimes	*w = arg;
	struct idx	 key, *hit;

	key.id = task_id;
	if ((hit = bsearch(&key, w->ix, w->job->ntasks, sizeof *w->ix,
	    idx_cmp)) == NULL)
		die("task times", "unknown task id");
	if (w->n == w->cap) {
		w->cap = w->cap == 0 ? 4096 : w->cap * 2;
		w->v = xreallocarray(w->v, w->cap, sizeof *w->v);
	}
	w->v[w->n].run_id = run_id;
	w->v[w->n].task_id = hit->id;
	w->v[w->n].start = started_us;
	w->v[w->n].end = ended_us;
	w->n++;
}

static int
wtime_cmp(const void *a, const void *b)
{
	const struct wtime	*x = a, *y = b;

	return x->run_id < y->run_id ? -1 : x->run_id > y->run_id;
}

static void
percentiles(int64_t *lat, size_t nlat, int64_t *p50, int64_t *p99,
    int64_t *pmax)
{
	*p50 = *p99 = *pmax = -1;
	if (nlat > 0) {
		qsort(lat, nlat, sizeof *lat, i64_cmp);
		*p50 = lat[(nlat - 1) / 2];
		*p99 = lat[(nlat * 99 + 99) / 100 - 1];
		*pmax = lat[nlat - 1];
	}
}

/* Task->task latency by the workers' clocks: a task's start in its
 * worker minus the latest end of its predecessors in theirs. */
static void
worker_latencies(struct wtimes *w, int64_t *p50, int64_t *p99,
    int64_t *pmax)
{
	size_t		 n = w->job->ntasks, i, j, nlat = 0, cap = 0;
	int64_t		*start, *end, *lat = NULL;
	struct idx	 key, *hit;

	/* Stable enough: within a run, the last attempt of a task wins. */
	qsort(w->v, w->n, sizeof *w->v, wtime_cmp);
	start = xcalloc(n, sizeof *start);
	end = xcalloc(n, sizeof *end);
	for (i = 0; i < w->n; i = j) {
		memset(start, 0, n * sizeof *start);
		memset(end, 0, n * sizeof *end);
		for (j = i; j < w->n && w->v[j].run_id == w->v[i].run_id; j++) {
			key.id = w->v[j].task_id;
			hit = bsearch(&key, w->ix, n, sizeof *w->ix, idx_cmp);
			start[hit->i] = w->v[j].start;
			end[hit->i] = w->v[j].end;
		}
		run_latencies(w->job, start, end, &lat, &nlat, &cap);
	}
	percentiles(lat, nlat, p50, p99, pmax);
	free(lat);
	free(start);
	free(end);
}

/* Every successful attempt, run by run; the latency percentiles. */
static void
latencies(struct state *st, const struct job_def *job, int64_t *p50,
    int64_t *p99, int64_t *pmax, size_t *nok)
{
	sqlite3_stmt	*s;
	struct idx	*ix, key, *hit;
	int64_t		*start, *end, *lat = NULL, run = -1, r;
	size_t		 i, n = job->ntasks, nlat = 0, cap = 0;

	ix = xcalloc(n, sizeof *ix);
	for (i = 0; i < n; i++) {
		ix[i].id = job->tasks[i].id;
		ix[i].i = i;
	}
	qsort(ix, n, sizeof *ix, idx_cmp);
	start = xcalloc(n, sizeof *start);
	end = xcalloc(n, sizeof *end);
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT ti.run_id, "
	    "ti.task_id, a.started_us, a.ended_us FROM attempts a JOIN "
	    "task_instances ti ON ti.id = a.task_instance_id WHERE a.state = "
	    "'success' ORDER BY ti.run_id", -1, &s, NULL) != SQLITE_OK)
		die("attempts", sqlite3_errmsg(state_sqlite(st)));
	*nok = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		r = sqlite3_column_int64(s, 0);
		if (r != run) {
			if (run != -1)
				run_latencies(job, start, end, &lat, &nlat,
				    &cap);
			memset(start, 0, n * sizeof *start);
			memset(end, 0, n * sizeof *end);
			run = r;
		}
		key.id = (const char *)sqlite3_column_text(s, 1);
		if (key.id == NULL ||
		    (hit = bsearch(&key, ix, n, sizeof *ix, idx_cmp)) == NULL)
			die("attempts", "unknown task id");
		start[hit->i] = sqlite3_column_int64(s, 2);
		end[hit->i] = sqlite3_column_int64(s, 3);
		(*nok)++;
	}
	sqlite3_finalize(s);
	if (run != -1)
		run_latencies(job, start, end, &lat, &nlat, &cap);
	percentiles(lat, nlat, p50, p99, pmax);
	free(lat);
	free(start);
	free(end);
	free(ix);
}

/* Runs of the state not in 'success'; prints them. */
static int
failed_runs(struct state *st)
{
	sqlite3_stmt	*s;
	int		 n = 0;

	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT partition_key, "
	    "state FROM runs WHERE state <> 'success'", -1, &s, NULL) !=
	    SQLITE_OK)
		die("runs", sqlite3_errmsg(state_sqlite(st)));
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n++ < 5)
			fprintf(stderr, "bench-dag: run %s: %s\n",
			    sqlite3_column_text(s, 0),
			    sqlite3_column_text(s, 1));
	}
	sqlite3_finalize(s);
	return n;
}

/* Open the run of `key` (NULL: the job's current partition). */
static void
add_run(struct engine *e, const struct job_def *job, const char *key,
    const char *trigger)
{
	char	*canon, *cause = NULL;
	int64_t	 istart, iend;

	if (runner_resolve_partition(job, key, now_us(), &canon, &istart,
	    &iend, &cause) != 0)
		die("partition", cause);
	if (engine_add_run(e, job, canon, istart, iend, trigger, ENGINE_RERUN,
	    NULL, &cause) != 0)
		die("add run", cause);
	free(canon);
}

int
main(int argc, char **argv)
{
	struct meshd_config	*cfg;
	struct errlist		 errs = ERRLIST_INIT;
	struct jobset		 js;
	struct job_def		*job;
	struct state		*st;
	struct executor		*ex;
	struct executor_opts	 eo;
	struct engine		*e;
	struct run_observer	 obs;
	struct wtimes		 wt;
	struct rusage		 ru;
	struct tm		 tm;
	const char		*day = "2000-01-01";
	char			*cause = NULL, key[32];
	int			 ch, full = 0, admit = 64, nparts = 0, added;
	int			 bad;
	int64_t			 t0, t1, p50, p99, pmax, w50, w99, wmax;
	long			 self_kb;
	size_t			 nok;
	time_t			 base;

	while ((ch = getopt(argc, argv, "Fa:p:s:")) != -1) {
		switch (ch) {
		case 'F':
			full = 1;
			break;
		case 'a':
			admit = atoi(optarg);
			break;
		case 'p':
			nparts = atoi(optarg);
			break;
		case 's':
			day = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || admit < 1 || nparts < 0)
		usage();

	if ((cfg = config_load(argv[0], &errs)) == NULL) {
		errlist_print(&errs, stderr);
		exit(1);
	}
	/* The pool first, so that the workers are forked from a small
	 * process and their RSS is their own. */
	memset(&eo, 0, sizeof eo);
	eo.workers = cfg->workers;
	eo.max_tasks = cfg->worker_max_tasks;
	eo.memory_mb = cfg->worker_memory_mb;
	eo.kill_grace_s = cfg->kill_grace_s;
	eo.heartbeat_timeout_s = cfg->heartbeat_timeout_s;
	if ((ex = executor_new(&eo, &cause)) == NULL)
		die("executor", cause);
	memset(&js, 0, sizeof js);
	if (jobs_load(cfg, &js, &errs) != 0) {
		errlist_print(&errs, stderr);
		exit(1);
	}
	if ((job = jobset_find(&js, argv[1])) == NULL)
		die(argv[1], "no such job");
	if ((st = state_open(cfg->state_db, STATE_RDWR, &cause)) == NULL)
		die("state", cause);
	if (full && sqlite3_exec(state_sqlite(st), "PRAGMA synchronous = FULL",
	    NULL, NULL, NULL) != SQLITE_OK)
		die("synchronous", sqlite3_errmsg(state_sqlite(st)));
	memset(&wt, 0, sizeof wt);
	wt.job = job;
	wt.ix = xcalloc(job->ntasks, sizeof *wt.ix);
	for (size_t i = 0; i < job->ntasks; i++) {
		wt.ix[i].id = job->tasks[i].id;
		wt.ix[i].i = i;
	}
	qsort(wt.ix, job->ntasks, sizeof *wt.ix, idx_cmp);
	memset(&obs, 0, sizeof obs);
	obs.task_times = on_task_times;
	obs.arg = &wt;
	e = engine_new(cfg, st, ex, &obs);

	memset(&tm, 0, sizeof tm);
	if (strptime(day, "%Y-%m-%d", &tm) == NULL)
		die(day, "not a day (YYYY-MM-DD)");
	base = timegm(&tm);

	t0 = mono_us();
	added = 0;
	if (nparts == 0)
		add_run(e, job, NULL, "manual");
	for (;;) {
		/* Admission: keep up to `admit` backfill runs active, the
		 * ones admitted together opened in one transaction, as the
		 * daemon does. */
		if (added < nparts && engine_active_runs(e) < (size_t)admit &&
		    engine_add_runs_begin(e, &cause) != 0)
			die("add runs", cause);
		while (added < nparts && engine_active_runs(e) <
		    (size_t)admit) {
			time_t	t = base + (time_t)added * 86400;

			gmtime_r(&t, &tm);
			strftime(key, sizeof key, "%Y-%m-%d", &tm);
			add_run(e, job, key, "backfill");
			added++;
		}
		if (engine_add_runs_end(e, &cause) != 0)
			die("add runs", cause);
		if (engine_active_runs(e) == 0)
			break;
		if (engine_step(e, -1, &cause) != 0)
			die("step", cause);
	}
	t1 = mono_us();

	engine_free(e);
	executor_free(ex);
	bad = failed_runs(st);
	latencies(st, job, &p50, &p99, &pmax, &nok);
	worker_latencies(&wt, &w50, &w99, &wmax);
	getrusage(RUSAGE_SELF, &ru);
	self_kb = ru.ru_maxrss;
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("tasks=%zu engine_s=%.3f tasks_s=%.0f p50_us=%lld p99_us=%lld "
	    "max_us=%lld state_p50_us=%lld state_p99_us=%lld rss_kb=%ld "
	    "child_kb=%ld sync=%s failed_runs=%d\n",
	    nok, (t1 - t0) / 1e6, nok / ((t1 - t0) / 1e6), (long long)w50,
	    (long long)w99, (long long)wmax, (long long)p50, (long long)p99,
	    self_kb, ru.ru_maxrss, full ? "full" : "normal", bad);
	free(wt.v);
	free(wt.ix);
	state_close(st);
	jobset_free(&js);
	config_free(cfg);
	errlist_free(&errs);
	return bad == 0 ? 0 : 1;
}

/* cmd-status.c -- meshctl status: the daemon, the queue, what is running. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ctl-broken.h"
#include "lock.h"
#include "meshctl.h"
#include "policy.h"

static int	cmd_status_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.args = "[--limit N] [--json]",
	.summary = "show the daemon (up/down, pid, uptime), queue and running "
	    "attempts",
	.help =
	"The daemon is up when a process holds the state's writer lock; its\n"
	"pid is in the lock file.  The queue is the runs waiting to start; the\n"
	"running attempts come from the state database, with their workers,\n"
	"each started at a time shown in its job's zone (UTC with -u).\n"
	"\n"
	"  -n, --limit N   at most N running attempts (default 50)\n"
	"      --json      one JSON object\n"
	"\n"
	"A running daemon also says whether it is launching or has paused,\n"
	"and why: a full disk (held results), free space below\n"
	"min_free_space, another process holding the state's lock, a log or\n"
	"staging directory it cannot write, a failing scheduling pass.\n"
	"\n"
	"The jobs line counts the jobs that run and the broken ones, which are\n"
	"refused (meshctl jobs says why): as the running daemon loaded them,\n"
	"or, when it is down, as it would load the job files now.  JSON:\n"
	"jobs, broken (a count) and broken_jobs: [{job, running_previous}].\n"
	"\n"
	"Exit status: 0 whether the daemon is up or down; 3 if the state\n"
	"cannot be read.\n",
	.exec = cmd_status_exec,
};

/* Seconds a process has been running, from /proc; -1 if unknown. */
static long
uptime_of(pid_t pid)
{
	char		*path = xasprintf("/proc/%ld/stat", (long)pid), buf[1024];
	char		*p;
	FILE		*f;
	double		 up;
	unsigned long long start = 0;
	int		 i;

	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof buf, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* Field 22 is the start time in clock ticks after boot; the name
	 * in field 2 may hold spaces, so count from its closing paren: the
	 * k-th space after it opens field k + 2. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (i = 3; i <= 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
		return -1;
	if ((f = fopen("/proc/uptime", "r")) == NULL)
		return -1;
	if (fscanf(f, "%lf", &up) != 1)
		up = 0;
	fclose(f);
	return (long)(up - (double)start / (double)sysconf(_SC_CLK_TCK));
}

static void
health_print(json_t *h)
{
	json_t		*p;
	size_t		 i;
	const char	*launching = json_string_value(json_object_get(h,
			    "launching"));
	json_int_t	 held = json_integer_value(json_object_get(h,
			    "held_results"));
	char		 t[64];

	if (json_array_size(json_object_get(h, "problems")) == 0) {
		printf("health:   ok\n");
		return;
	}
	printf("health:   launching %s", launching != NULL ? launching : "?");
	if (held > 0)
		printf(", %lld result%s held in memory", (long long)held,
		    held == 1 ? "" : "s");
	printf("\n");
	json_array_foreach(json_object_get(h, "problems"), i, p) {
		printf("  %-14s since %s: %s\n", json_string_value(
		    json_object_get(p, "what")), fmt_utc(json_integer_value(
		    json_object_get(p, "since_us")), t, sizeof t),
		    json_string_value(json_object_get(p, "message")));
	}
}

/*
 * The broken jobs, [{job, running_previous}], and in *njobs how many jobs
 * run: the running meshd's record, or without one the files judged as
 * meshd would (js is judged then: its zones serve either way).
 */
static json_t *
status_broken(struct ctl *ctl, struct jobset *js, json_t *health,
    struct errlist *errs, size_t *njobs)
{
	json_t	*a = json_array(), *b;
	size_t	 i;

	if (health != NULL && json_is_array(json_object_get(health,
	    "broken_jobs"))) {
		*njobs = (size_t)json_integer_value(json_object_get(health,
		    "jobs"));
		json_array_foreach(json_object_get(health, "broken_jobs"), i,
		    b)
			json_array_append_new(a, json_pack("{s:O, s:O}", "job",
			    json_object_get(b, "job"), "running_previous",
			    json_object_get(b, "running_previous")));
		/* A previous version runs, and is counted in "jobs". */
		return a;
	}
	policy_check(ctl->cfg, js, POLICY_DROP | POLICY_PLUGINS, errs);
	*njobs = js->n;
	for (i = 0; i < js->nbroken; i++)
		json_array_append_new(a, json_pack("{s:s, s:b}", "job",
		    js->broken[i].name, "running_previous", 0));
	return a;
}

/* "jobs:     3 running, 1 broken: x (meshctl jobs says why)" */
static void
status_jobs_print(json_t *broken, size_t njobs, int up)
{
	json_t	*b;
	size_t	 i, n = json_array_size(broken), nprev = 0;

	json_array_foreach(broken, i, b)
		nprev += json_is_true(json_object_get(b, "running_previous"));
	printf("jobs:     %zu %s", njobs - nprev, up ? "running" : "valid");
	if (nprev > 0)
		printf(" (and %zu previous version%s)", nprev,
		    nprev == 1 ? "" : "s");
	if (n == 0) {
		printf(", none broken\n");
		return;
	}
	printf(", %zu broken:", n);
	json_array_foreach(broken, i, b)
		printf("%s %s%s", i == 0 ? "" : ",", json_string_value(
		    json_object_get(b, "job")), json_is_true(json_object_get(b,
		    "running_previous")) ? " (running the previous version)" :
		    "");
	printf(" (meshctl jobs says why)\n");
	if (njobs == 0)
		printf("          every job is broken: %s\n", up ? "meshd runs "
		    "none" : "meshd would run none");
}

static int
cmd_status_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	struct jobset	 js;
	struct errlist	 errs = ERRLIST_INIT;
	sqlite3_stmt	*stmt = NULL;
	json_t		*running = NULL, *health = NULL, *broken;
	size_t		 njobs;
	char		 t[64], d[32];
	pid_t		 pid;
	long		 up = -1, limit = 50;
	int		 c, json = 0, queued = 0, n = 0, more = 0;
	static const struct option longopts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (ctl_number("limit", optarg, 1, 1000000,
			    &limit) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc != optind)
		return ctl_usage(ctl);
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	/* The jobs lend their zones to the start times shown. */
	memset(&js, 0, sizeof js);
	jobs_load(ctl->cfg, &js, &errs);
	/* What the running daemon says of its health (meshd-health.c):
	 * launching on or paused, and why; NULL when meshd is down. */
	health = ctl_health(ctl, &pid);
	if (pid > 0)
		up = uptime_of(pid);
	broken = status_broken(ctl, &js, health, &errs, &njobs);
	errlist_free(&errs);
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT count(*) FROM runs "
	    "WHERE state = 'queued'", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		queued = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (json)
		running = json_array();
	else {
		if (pid != 0)
			printf("meshd:    up, pid %ld, uptime %s, version %s\n",
			    (long)pid, up >= 0 ? fmt_duration((int64_t)up *
			    1000000, d, sizeof d) : "?", PACKAGE_VERSION);
		else
			printf("meshd:    down (requests wait in the state "
			    "until it starts)\n");
		if (health != NULL)
			health_print(health);
		status_jobs_print(broken, njobs, pid != 0);
		printf("workers:  %d\nqueued:   %d run%s\n", ctl->cfg->workers,
		    queued, queued == 1 ? "" : "s");
	}
	/*
	 * attempts has no index on state, so the running attempts are
	 * reached from the runs that are not done (runs_state), then by
	 * the indexes on task_instances(run_id) and attempts(task
	 * instance): the cost follows what is active, not the history.
	 */
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT j.name, "
	    "r.partition_key, ti.task_id, a.try_number, a.worker_pid, "
	    "a.started_us FROM runs r JOIN task_instances ti ON ti.run_id = "
	    "r.id JOIN attempts a ON a.task_instance_id = ti.id JOIN jobs j ON "
	    "j.id = r.job_id WHERE r.state IN ('queued', 'running') AND "
	    "a.state = 'running' ORDER BY a.started_us LIMIT ?1", -1, &stmt,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, limit + 1);
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			int64_t s = sqlite3_column_int64(stmt, 5);

			if (n == limit) {
				more = 1;
				break;
			}
			ctl_time_job(ctl, jobset_find(&js, ctl_col(stmt, 0)), s,
			    t, sizeof t);

			if (json) {
				json_array_append_new(running, json_pack("{s:s, "
				    "s:s, s:s, s:i, s:i, s:I, s:s}", "job",
				    ctl_col(stmt, 0), "partition",
				    ctl_col(stmt, 1), "task", ctl_col(stmt, 2),
				    "attempt", sqlite3_column_int(stmt, 3),
				    "worker_pid", sqlite3_column_int(stmt, 4),
				    "started_us", (json_int_t)s,
				    "started_local", t));
				n++;
				continue;
			}
			if (n++ == 0)
				printf("\n%-20s %-14s %-16s %7s %7s  %s\n", "JOB",
				    "PARTITION", "TASK", "ATTEMPT", "WORKER",
				    "STARTED");
			printf("%-20s %-14s %-16s %7d %7d  %s\n",
			    ctl_col(stmt, 0), ctl_col(stmt, 1),
			    ctl_col(stmt, 2), sqlite3_column_int(stmt, 3),
			    sqlite3_column_int(stmt, 4), t);
		}
	}
	sqlite3_finalize(stmt);
	if (json)
		ctl_json_out(json_pack("{s:b, s:I, s:I, s:s, s:i, s:i, s:o, "
		    "s:o, s:I, s:I, s:O}", "up", pid != 0, "pid",
		    (json_int_t)(pid > 0 ? pid : 0), "uptime_s", (json_int_t)up,
		    "version", PACKAGE_VERSION, "workers", ctl->cfg->workers,
		    "queued", queued, "running", running, "health",
		    health != NULL ? json_incref(health) : json_null(),
		    "jobs", (json_int_t)njobs, "broken",
		    (json_int_t)json_array_size(broken), "broken_jobs",
		    broken));
	else if (n == 0)
		printf("running:  nothing\n");
	if (more)
		fprintf(json ? stderr : stdout, "(more running attempts than "
		    "the %ld shown; use --limit)\n", limit);
	json_decref(health);
	json_decref(broken);
	jobset_free(&js);
	state_close(st);
	return CTL_EXIT_OK;
}

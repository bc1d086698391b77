/* cmd-status.c -- meshctl status: the daemon, the queue, what is running,
 * from the read layer's question `status`. */
#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

static int	cmd_status_exec(struct ctl *, int, char **);

/* LSB's status codes (init-script actions): a health check, and
 * systemctl's own status, read 3 as "not running" and 4 as "unknown". */
#define STATUS_EXIT_DOWN	3
#define STATUS_EXIT_UNKNOWN	4

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.args = "[--limit N] [--cursor C] [--json]",
	.summary = "show the daemon (up/down, pid, uptime), queue and running "
	    "attempts",
	.help =
	"The daemon is up when a process holds the state's writer lock; its\n"
	"pid is in the lock file.  The queue is the runs waiting to start; the\n"
	"running attempts come from the state database, with their workers,\n"
	"each started at a time shown in its job's zone (UTC with -u), the\n"
	"longest running first.\n"
	"\n"
	"  -n, --limit N   at most N running attempts (default 50); a last\n"
	"                  line gives the --cursor of the next page\n"
	"      --cursor C  the running attempts after the page that printed C\n"
	"      --json      the document of GET /api/v1/status: {up, pid,\n"
	"                  uptime_s, version, workers, queued, health, jobs,\n"
	"                  broken, broken_jobs: [{job, running_previous}],\n"
	"                  executors: [{name, type, mode, running, queued,\n"
	"                  pilots, error}], running: [{job, partition,\n"
	"                  task, attempt, worker_pid, started_us,\n"
	"                  started_local, executor, ext_id}],\n"
	"                  next_cursor}\n"
	"\n"
	"A running daemon also says whether it is launching or has paused,\n"
	"and why: a full disk (held results), free space below\n"
	"min_free_space, another process holding the state's lock, a log or\n"
	"staging directory it cannot write, a failing scheduling pass.\n"
	"\n"
	"Each executor meshd.conf declares (issue 13: Slurm, in job or pilot\n"
	"mode) gets a line with its running and queued attempts, its pilots,\n"
	"and the Slurm controller's last error if it is not answering.\n"
	"\n"
	"The jobs line counts the jobs that run and the broken ones, which are\n"
	"refused (meshctl jobs says why): as the running daemon loaded them,\n"
	"or, when it is down, as it would load the job files now.\n"
	"\n"
	"Exit status, as LSB's for an init script's status, so that it can\n"
	"serve as a health check: 0 meshd is up; 3 meshd is down (or has\n"
	"never run: there is no state), the report printed all the same;\n"
	"4 unknown: the state exists but cannot be read (permissions, busy\n"
	"longer than --timeout, not a meshd database); 2 usage error.\n",
	.exec = cmd_status_exec,
};

/* "executor hpc (slurm, job mode): 3 running, 12 queued" per remote
 * executor, when meshd.conf declares any. */
static void
status_executors_print(const json_t *doc)
{
	const json_t	*x, *v;
	size_t		 i;
	char		 n[3][32];
	const char	*keys[] = { "running", "queued", "pilots" };
	int		 k;

	json_array_foreach(json_object_get(doc, "executors"), i, x) {
		if (strcmp(json_string_value(json_object_get(x, "type")),
		    "local") == 0)
			continue;
		for (k = 0; k < 3; k++) {
			v = json_object_get(x, keys[k]);
			if (json_is_integer(v))
				snprintf(n[k], sizeof n[k], "%lld",
				    (long long)json_integer_value(v));
			else
				snprintf(n[k], sizeof n[k], "?");
		}
		printf("executor: %s (%s, %s mode): %s running, %s queued",
		    json_string_value(json_object_get(x, "name")),
		    json_string_value(json_object_get(x, "type")),
		    json_string_value(json_object_get(x, "mode")), n[0], n[1]);
		if (strcmp(json_string_value(json_object_get(x, "mode")),
		    "pilot") == 0)
			printf(", %s pilot%s", n[2], strcmp(n[2], "1") == 0 ?
			    "" : "s");
		if (json_is_string(json_object_get(x, "error")))
			printf("; %s", json_string_value(json_object_get(x,
			    "error")));
		printf("\n");
	}
}

static void
health_print(const json_t *h)
{
	json_t		*p;
	size_t		 i;
	const char	*launching = json_string_value(json_object_get(h,
			    "launching"));
	json_int_t	 held = json_integer_value(json_object_get(h,
			    "held_results"));
	const char	*what, *msg;
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
		what = json_string_value(json_object_get(p, "what"));
		msg = json_string_value(json_object_get(p, "message"));
		printf("  %-14s since %s: %s\n", what != NULL ? what : "?",
		    fmt_utc(json_integer_value(json_object_get(p, "since_us")),
		    t, sizeof t), msg != NULL ? msg : "?");
	}
}

/* "jobs:     3 running, 1 broken: x (meshctl jobs says why)" */
static void
status_jobs_print(const json_t *doc, int up)
{
	const json_t	*broken = json_object_get(doc, "broken_jobs"), *b;
	json_int_t	 njobs = json_integer_value(json_object_get(doc,
			    "jobs"));
	size_t		 i, n = json_array_size(broken), nprev = 0;

	json_array_foreach(broken, i, b)
		nprev += json_is_true(json_object_get(b, "running_previous"));
	printf("jobs:     %lld %s", (long long)njobs - (long long)nprev,
	    up ? "running" : "valid");
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

/* The state could not be read (ctl_ask() said why).  No state at all:
 * meshd has never run here, so it is not running (3).  A state that
 * exists but cannot be read says nothing about meshd (4). */
static int
status_unreadable(struct ctl *ctl)
{
	struct meshd_config	*cfg = ctl_config(ctl);

	if (cfg != NULL && access(cfg->state_db, F_OK) != 0)
		return STATUS_EXIT_DOWN;
	return STATUS_EXIT_UNKNOWN;
}

static const struct ctl_column status_columns[] = {
	{ "JOB", "job", 0, NULL },
	{ "PARTITION", "partition", 0, NULL },
	{ "TASK", "task", 0, NULL },
	{ "ATTEMPT", "attempt", CTL_COL_RIGHT, NULL },
	{ "WORKER", "worker_pid", CTL_COL_RIGHT, NULL },
	{ "STARTED", "started_local", 0, NULL },
	{ NULL, NULL, 0, NULL }
};

static int
cmd_status_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	json_t		*doc, *running, *health;
	json_int_t	 queued, up;
	char		 d[32];
	int		 c, json = 0, rc;
	static const struct option longopts[] = {
		CTL_LIST_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, CTL_LIST_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (ctl_list_opt(c, optarg, &args, &json))
			continue;
		if (c == 'h')
			return ctl_help(ctl);
		return ctl_usage(ctl);
	}
	if (argc != optind)
		return ctl_usage(ctl);
	if ((rc = ctl_ask(ctl, "status", &args, &doc)) != CTL_EXIT_OK)
		return rc == CTL_EXIT_STATE ? status_unreadable(ctl) : rc;
	up = json_is_true(json_object_get(doc, "up"));
	if (json) {
		ctl_json_out(json_incref(doc));
		ctl_list_more(ctl, doc, json, "running attempts");
		json_decref(doc);
		return up ? CTL_EXIT_OK : STATUS_EXIT_DOWN;
	}
	if (up)
		printf("meshd:    up, pid %lld, uptime %s, version %s\n",
		    (long long)json_integer_value(json_object_get(doc, "pid")),
		    json_is_integer(json_object_get(doc, "uptime_s")) ?
		    fmt_duration(json_integer_value(json_object_get(doc,
		    "uptime_s")) * 1000000, d, sizeof d) : "?",
		    json_string_value(json_object_get(doc, "version")));
	else
		printf("meshd:    down (requests wait in the state until it "
		    "starts)\n");
	health = json_object_get(doc, "health");
	if (json_is_object(health))
		health_print(health);
	status_jobs_print(doc, (int)up);
	queued = json_integer_value(json_object_get(doc, "queued"));
	printf("workers:  %lld\nqueued:   %lld run%s\n",
	    (long long)json_integer_value(json_object_get(doc, "workers")),
	    (long long)queued, queued == 1 ? "" : "s");
	status_executors_print(doc);
	running = json_object_get(doc, "running");
	if (json_array_size(running) == 0)
		printf("running:  nothing\n");
	else {
		printf("\n");
		ctl_table(ctl, running, status_columns);
	}
	ctl_list_more(ctl, doc, json, "running attempts");
	json_decref(doc);
	return up ? CTL_EXIT_OK : STATUS_EXIT_DOWN;
}

/* cmd-tasks.c -- meshctl tasks: the tasks of one run, with their checks. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meshctl.h"

/* Print the note that a listing was cut, where it does not spoil JSON. */
static void
tasks_more(int json, const char *what, long limit)
{
	fprintf(json ? stderr : stdout, "(more %s than the %ld shown; use "
	    "--limit)\n", what, limit);
}

static int	cmd_tasks_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_tasks_entry = {
	.name = "tasks",
	.args = "JOB PARTITION [--limit N] [--json]",
	.summary = "show the tasks of one run, their attempts and checks",
	.help =
	"Shows each task instance of the run (state, tries, duration, reason)\n"
	"and the quality-check results of the latest attempt of each task.\n"
	"Start times are in the job's zone (UTC with -u).\n"
	"\n"
	"  -n, --limit N   at most N tasks and N checks (default 200)\n"
	"      --json      one JSON object with tasks and checks\n",
	.exec = cmd_tasks_exec,
};

int
ctl_state_run(struct ctl *ctl, struct state *st, const char *job,
    const char *key, int64_t *run_id)
{
	sqlite3_stmt	*stmt;
	int64_t		 job_id;
	int		 found = 0;

	if (ctl_state_job(ctl, st, job, &job_id) != 0)
		return -1;
	if (sqlite3_prepare_v2(state_sqlite(st), "SELECT id FROM runs WHERE "
	    "job_id = ? AND partition_key = ?", -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(stmt, 1, job_id);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		*run_id = sqlite3_column_int64(stmt, 0);
		found = 1;
	}
	sqlite3_finalize(stmt);
	if (!found)
		ctl_error("job '%s' has no run for partition '%s' (see "
		    "'meshctl runs %s')", job, key, job);
	return found ? 0 : -1;
}

static int
cmd_tasks_exec(struct ctl *ctl, int argc, char **argv)
{
	struct state	*st;
	struct jobset	 js;
	struct errlist	 errs = ERRLIST_INIT;
	const struct job_def *job;
	sqlite3_stmt	*stmt = NULL, *cs = NULL;
	sqlite3		*db;
	char		 d[32], t[64];
	int		 c, json = 0, rc = CTL_EXIT_OK, nchecks = 0;
	int		 ntasks = 0;
	long		 limit = 200;
	int64_t		 run_id;
	json_t		*tasks = NULL, *checks = NULL;
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
	if (argc - optind != 2)
		return ctl_usage(ctl);
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	/* The job only lends its zone to the times shown. */
	memset(&js, 0, sizeof js);
	jobs_load(ctl->cfg, &js, &errs);
	errlist_free(&errs);
	job = jobset_find(&js, argv[optind]);
	db = state_sqlite(st);
	if (ctl_state_run(ctl, st, argv[optind], argv[optind + 1],
	    &run_id) != 0) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT task_id, stage, state, try_number, "
	    "started_us, ended_us, reason FROM task_instances WHERE "
	    "run_id = ?1 ORDER BY id LIMIT ?2", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT ti.task_id, c.name, c.severity, "
	    "c.passed, c.observed, c.expectation FROM check_results c "
	    "JOIN attempts a ON a.id = c.attempt_id "
	    "JOIN task_instances ti ON ti.id = a.task_instance_id "
	    "WHERE ti.run_id = ?1 AND a.try_number = ti.try_number "
	    "ORDER BY c.id LIMIT ?2", -1, &cs, NULL) != SQLITE_OK) {
		ctl_error("%s", sqlite3_errmsg(db));
		rc = CTL_EXIT_STATE;
		goto out;
	}
	/* One more than the limit tells whether there are more. */
	sqlite3_bind_int64(stmt, 1, run_id);
	sqlite3_bind_int64(stmt, 2, limit + 1);
	sqlite3_bind_int64(cs, 1, run_id);
	sqlite3_bind_int64(cs, 2, limit + 1);
	if (json) {
		tasks = json_array();
		checks = json_array();
	} else
		printf("%-16s %-8s %-16s %5s %-25s %9s  %s\n", "TASK",
		    "STAGE", "STATE", "TRIES", "STARTED", "DURATION", "REASON");
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int64_t		 s = sqlite3_column_int64(stmt, 4);
		int64_t		 e = sqlite3_column_int64(stmt, 5);
		const char	*state = ctl_col(stmt, 2);

		if (ntasks++ == limit) {
			tasks_more(json, "tasks", limit);
			break;
		}
		ctl_time_job(ctl, job, s, t, sizeof t);
		if (json) {
			json_array_append_new(tasks, json_pack("{s:s, s:s, s:s, "
			    "s:i, s:I, s:I, s:s, s:s?}", "task",
			    ctl_col(stmt, 0),
			    "stage", ctl_col(stmt, 1), "state", state, "tries",
			    sqlite3_column_int(stmt, 3), "started_us",
			    (json_int_t)s, "ended_us", (json_int_t)e,
			    "started_local", t, "reason",
			    sqlite3_column_type(stmt, 6) == SQLITE_NULL ? NULL :
			    ctl_col(stmt, 6)));
			continue;
		}
		printf("%-16s %-8s %s%-16s%s %5d %-25s %9s  %s\n",
		    ctl_col(stmt, 0), ctl_col(stmt, 1), ctl_color_on(ctl,
		    state), state, ctl_color_off(ctl),
		    sqlite3_column_int(stmt, 3), t,
		    s > 0 && e >= s ? fmt_duration(e - s, d, sizeof d) : "-",
		    ctl_col(stmt, 6));
	}
	while (sqlite3_step(cs) == SQLITE_ROW) {
		const char	*sev = sqlite3_column_int(cs, 2) == 0 ?
		    "error" : "warn";
		int		 passed = sqlite3_column_int(cs, 3);

		if (nchecks == limit) {
			tasks_more(json, "checks", limit);
			break;
		}
		if (json) {
			nchecks++;
			json_array_append_new(checks, json_pack("{s:s, s:s, s:s, "
			    "s:b, s:f, s:s}", "task", ctl_col(cs, 0), "check",
			    ctl_col(cs, 1), "severity", sev, "passed", passed,
			    "observed", sqlite3_column_double(cs, 4),
			    "expectation", ctl_col(cs, 5)));
			continue;
		}
		if (nchecks++ == 0)
			printf("\n%-16s %-20s %-6s %-6s %12s  %s\n", "TASK",
			    "CHECK", "LEVEL", "RESULT", "OBSERVED", "EXPECTED");
		printf("%-16s %-20s %-6s %s%-6s%s %12g  %s\n", ctl_col(cs, 0),
		    ctl_col(cs, 1), sev, ctl_color_on(ctl, passed ? "success" :
		    "failed"), passed ? "pass" : "FAIL", ctl_color_off(ctl),
		    sqlite3_column_double(cs, 4), ctl_col(cs, 5));
	}
	if (json)
		ctl_json_out(json_pack("{s:s, s:s, s:I, s:o, s:o}", "job",
		    argv[optind], "partition", argv[optind + 1], "run_id",
		    (json_int_t)run_id, "tasks", tasks, "checks", checks));
out:
	sqlite3_finalize(stmt);
	sqlite3_finalize(cs);
	jobset_free(&js);
	state_close(st);
	return rc;
}

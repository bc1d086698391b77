/* cmd-tasks.c -- meshctl tasks: the tasks of one run, with their checks. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

static int	cmd_tasks_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_tasks_entry = {
	.name = "tasks",
	.args = "JOB PARTITION [--limit N] [--cursor C] [--json]",
	.summary = "show the tasks of one run, their attempts and checks",
	.help =
	"Shows each task instance of the run (state, tries, duration, reason)\n"
	"and the quality-check results of the latest attempt of each task.\n"
	"A task whose latest attempt ran on a remote executor also shows the\n"
	"executor, its Slurm job id and the job's Slurm state.\n"
	"Start times are in the job's zone (UTC with -u).\n"
	"\n"
	"  -n, --limit N      at most N tasks (default 50, at most 10000); a\n"
	"                     last line gives the --cursor of the next page\n"
	"      --cursor C     the page after the one that printed C\n"
	"      --json         the document of GET /api/v1/tasks: {job,\n"
	"                     partition, run_id, run_state, tasks,\n"
	"                     next_cursor}, each task with its attempts and\n"
	"                     checks\n",
	.exec = cmd_tasks_exec,
};

/* "4m05s" from started_us to ended_us, "-" while either is missing. */
static const char *
tasks_duration(const json_t *t, char *buf, size_t len)
{
	int64_t	s = json_integer_value(json_object_get(t, "started_us"));
	int64_t	e = json_integer_value(json_object_get(t, "ended_us"));

	if (s <= 0 || e < s)
		return "-";
	return fmt_duration(e - s, buf, len);
}

static const char *
tasks_reason(const json_t *t, char *buf, size_t len)
{
	const char	*r = json_string_value(json_object_get(t, "reason"));

	(void)buf;
	(void)len;
	return r != NULL ? r : "";
}

static const char *
tasks_result(const json_t *c, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return json_is_true(json_object_get(c, "passed")) ? "pass" : "FAIL";
}

static const char *
tasks_expected(const json_t *c, char *buf, size_t len)
{
	const char	*e;

	(void)buf;
	(void)len;
	e = json_string_value(json_object_get(c, "expectation"));
	return e != NULL ? e : "";
}

static const struct ctl_column tasks_columns[] = {
	{ "TASK", "task", 0, NULL },
	{ "STAGE", "stage", 0, NULL },
	{ "STATE", "state", CTL_COL_STATE, NULL },
	{ "TRIES", "tries", CTL_COL_RIGHT, NULL },
	{ "STARTED", "started_local", 0, NULL },
	{ "DURATION", "ended_us", CTL_COL_RIGHT, tasks_duration },
	/* Shown when a task ran on a remote executor (issue 13). */
	{ "EXECUTOR", "executor", CTL_COL_OPTIONAL, NULL },
	{ "SLURM JOB", "slurm_job", CTL_COL_OPTIONAL, NULL },
	{ "SLURM STATE", "slurm_state", CTL_COL_OPTIONAL, NULL },
	{ "REASON", "reason", 0, tasks_reason },
	{ NULL, NULL, 0, NULL }
};

/* The latest attempt's executor, Slurm job id and state as columns of the
 * task, when it did not run on the local pool. */
static void
tasks_remote(json_t *tasks)
{
	json_t		*t, *a, *v;
	const char	*x;
	size_t		 i, n;

	json_array_foreach(tasks, i, t) {
		n = json_array_size(json_object_get(t, "attempts"));
		if (n == 0)
			continue;
		a = json_array_get(json_object_get(t, "attempts"), n - 1);
		x = json_string_value(json_object_get(a, "executor"));
		if (x == NULL || strcmp(x, "local") == 0)
			continue;
		json_object_set_new(t, "executor", json_string(x));
		v = json_object_get(a, "ext_id");
		json_object_set_new(t, "slurm_job", json_string(
		    json_is_string(v) ? json_string_value(v) : "-"));
		v = json_object_get(a, "ext_state");
		json_object_set_new(t, "slurm_state", json_string(
		    json_is_string(v) ? json_string_value(v) : "-"));
	}
}

static const struct ctl_column tasks_check_columns[] = {
	{ "TASK", "task", 0, NULL },
	{ "CHECK", "check", 0, NULL },
	{ "LEVEL", "severity", 0, NULL },
	{ "RESULT", "passed", 0, tasks_result },
	{ "OBSERVED", "observed", CTL_COL_RIGHT, NULL },
	{ "EXPECTED", "expectation", 0, tasks_expected },
	{ NULL, NULL, 0, NULL }
};

static int
cmd_tasks_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	json_t		*doc, *tasks, *checks, *c, *t;
	size_t		 i, j;
	int		 opt, json = 0, rc;
	static const struct option longopts[] = {
		CTL_LIST_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	/* The shared list options, less --state and --since, which a run's
	 * tasks do not take. */
	while ((opt = getopt_long(argc, argv, CTL_LIST_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (opt == CTL_OPT_STATE || opt == CTL_OPT_SINCE) {
			ctl_error("tasks takes no --state or --since");
			return ctl_usage(ctl);
		}
		if (ctl_list_opt(opt, optarg, &args, &json))
			continue;
		if (opt == 'h')
			return ctl_help(ctl);
		return ctl_usage(ctl);
	}
	if (argc - optind != 2)
		return ctl_usage(ctl);
	read_args_add(&args, "job", argv[optind]);
	read_args_add(&args, "partition", argv[optind + 1]);
	if ((rc = ctl_ask(ctl, "tasks", &args, &doc)) != CTL_EXIT_OK)
		return rc;
	if (json) {
		ctl_json_out(json_incref(doc));
		ctl_list_more(ctl, doc, json, "tasks");
		json_decref(doc);
		return CTL_EXIT_OK;
	}
	tasks = json_object_get(doc, "tasks");
	if (json_array_size(tasks) == 0)
		printf("(no tasks)\n");
	else {
		tasks_remote(tasks);
		ctl_table(ctl, tasks, tasks_columns);
	}
	/* The checks of every task shown, as one table below. */
	checks = json_array();
	json_array_foreach(tasks, i, t) {
		json_array_foreach(json_object_get(t, "checks"), j, c) {
			c = json_deep_copy(c);
			json_object_set(c, "task", json_object_get(t, "task"));
			json_array_append_new(checks, c);
		}
	}
	if (json_array_size(checks) > 0) {
		printf("\n");
		ctl_table(ctl, checks, tasks_check_columns);
	}
	json_decref(checks);
	ctl_list_more(ctl, doc, json, "tasks");
	json_decref(doc);
	return CTL_EXIT_OK;
}

/* cmd-runs.c -- meshctl runs: the runs of a job, newest partition first. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

static int	cmd_runs_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_runs_entry = {
	.name = "runs",
	.args = "JOB [--state S] [--since WHEN] [--limit N] [--cursor C] [--json]",
	.summary = "list the runs of a job, newest partition first",
	.help =
	"Times are shown in the job's zone (UTC with -u); --json gives them\n"
	"in UTC microseconds, with *_local strings for people.\n"
	"\n"
	"  -s, --state S      only runs in state S (queued, running, success,\n"
	"                     failed, cancelled)\n"
	"  -S, --since WHEN   only runs created at or after WHEN: a duration\n"
	"                     back from now (90m, 2h, 3d, 1w; also s) or a\n"
	"                     date or time in the job's zone (UTC with -u, or\n"
	"                     with a trailing Z): 2026-11-01, 2026-11-01T10:00,\n"
	"                     2026-11-01T10:00:30Z\n"
	"  -n, --limit N      at most N runs (default 50, at most 10000); a\n"
	"                     last line gives the --cursor of the next page\n"
	"      --cursor C     the page after the one that printed C\n"
	"      --json         the document of GET /api/v1/runs: {job, runs,\n"
	"                     next_cursor}\n",
	.exec = cmd_runs_exec,
};

/* "4m05s" from started_us to ended_us, "-" while either is missing. */
static const char *
runs_duration(const json_t *run, char *buf, size_t len)
{
	int64_t	rs = json_integer_value(json_object_get(run, "started_us"));
	int64_t	re = json_integer_value(json_object_get(run, "ended_us"));

	if (rs <= 0 || re <= 0)
		return "-";
	return fmt_duration(re - rs, buf, len);
}

/* A queued run held back by its inputs says by which. */
static const char *
runs_waiting(const json_t *run, char *buf, size_t len)
{
	snprintf(buf, len, "waiting for %s", json_string_value(
	    json_object_get(run, "waiting_for")));
	return buf;
}

static const struct ctl_column runs_columns[] = {
	{ "RUN", "run_id", 0, NULL },
	{ "PARTITION", "partition", 0, NULL },
	{ "STATE", "state", CTL_COL_STATE, NULL },
	{ "TRIGGER", "trigger", 0, NULL },
	{ "CREATED", "created_local", 0, NULL },
	{ "STARTED", "started_local", 0, NULL },
	{ "DURATION", "ended_us", CTL_COL_RIGHT, runs_duration },
	{ "NOTE", "waiting_for", CTL_COL_OPTIONAL, runs_waiting },
	{ NULL, NULL, 0, NULL }
};

static int
cmd_runs_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	json_t		*doc;
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
	if (argc - optind != 1)
		return ctl_usage(ctl);
	read_args_add(&args, "job", argv[optind]);
	if ((rc = ctl_ask(ctl, "runs", &args, &doc)) != CTL_EXIT_OK)
		return rc;
	if (json)
		ctl_json_out(json_incref(doc));
	else if (json_array_size(json_object_get(doc, "runs")) == 0)
		printf("(no runs)\n");
	else
		ctl_table(ctl, json_object_get(doc, "runs"), runs_columns);
	ctl_list_more(ctl, doc, json, "runs");
	json_decref(doc);
	return CTL_EXIT_OK;
}

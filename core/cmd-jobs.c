/* cmd-jobs.c -- meshctl jobs: every job with its schedule, next fire and
 * last runs, from the read layer's question `jobs`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "read.h"

static int	cmd_jobs_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_jobs_entry = {
	.name = "jobs",
	.args = "[--domain D] [--limit N] [--cursor C] [--json]",
	.summary = "list the jobs: schedule, next fire, last run",
	.help =
	"Lists every job of the configuration with its domain, schedule and\n"
	"time zone, its next fire (in the job's zone; UTC with -u), whether\n"
	"it is paused, and its last run (the newest partition): partition and\n"
	"state.  Works whether or not meshd is running; a job that never ran\n"
	"shows '-'.  Jobs are in name order.\n"
	"\n"
	"A job file meshd refuses (its own errors, a policy, its plugins, or\n"
	"errors shared with other jobs: a product built by two jobs, an input\n"
	"nobody builds, a cycle through products) is listed as 'broken' with\n"
	"its first error; when the running meshd still runs the job's last\n"
	"valid version it says 'broken (running the previous version)'.  The\n"
	"other jobs run.  meshctl validate shows every error.\n"
	"\n"
	"  -d, --domain D  only the jobs of domain D (broken jobs have none)\n"
	"  -n, --limit N   at most N jobs (default 50, at most 10000); a last\n"
	"                  line gives the --cursor of the next page\n"
	"      --cursor C  the page after the one that printed C\n"
	"      --json      the document of GET /api/v1/jobs: {jobs: [{job,\n"
	"                  domain, schedule, timezone, next_fire_us,\n"
	"                  next_fire_local, paused, last_runs: [{run_id,\n"
	"                  partition, state}] (the last 10, newest first),\n"
	"                  broken, running_previous; file, error, errors[] of\n"
	"                  a broken job}], valid, broken, next_cursor}\n",
	.exec = cmd_jobs_exec,
};

static const char *
jstr(const json_t *o, const char *k, const char *dflt)
{
	const char	*v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : dflt;
}

static void
jobs_print(struct ctl *ctl, const json_t *row)
{
	const json_t	*last;
	const char	*lkey = "-", *lstate = "";

	if (json_is_true(json_object_get(row, "broken"))) {
		/* A broken job: its first error (all of them in JSON). */
		printf("%-20s %sbroken%s%s: %s\n", jstr(row, "job", "?"),
		    ctl_color_on(ctl, "failed"), json_is_true(json_object_get(
		    row, "running_previous")) ? " (running the previous "
		    "version)" : "", ctl_color_off(ctl), jstr(row, "error",
		    "?"));
		return;
	}
	last = json_array_get(json_object_get(row, "last_runs"), 0);
	if (last != NULL) {
		lkey = jstr(last, "partition", "-");
		lstate = jstr(last, "state", "");
	}
	printf("%-20s %-8s %-18s %-16s %-25s %-6s %s%s%s%s%s\n",
	    jstr(row, "job", "?"), jstr(row, "domain", "?"),
	    jstr(row, "schedule", "?"), jstr(row, "timezone", "UTC"),
	    jstr(row, "next_fire_local", "-"),
	    json_is_true(json_object_get(row, "paused")) ? "yes" : "no",
	    lkey, last != NULL ? " " : "", ctl_color_on(ctl, lstate), lstate,
	    ctl_color_off(ctl));
}

static int
cmd_jobs_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args = { 0 };
	json_t		*doc, *row;
	json_int_t	 valid, broken;
	size_t		 i;
	int		 c, json = 0, rc;
	static const struct option longopts[] = {
		CTL_LIST_LONGOPTS,
		{ "domain", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, CTL_LIST_SHORTOPTS "d:h",
	    longopts, NULL)) != -1) {
		if (ctl_list_opt(c, optarg, &args, &json))
			continue;
		if (c == 'd') {
			read_args_add(&args, "domain", optarg);
			continue;
		}
		if (c == 'h')
			return ctl_help(ctl);
		return ctl_usage(ctl);
	}
	if (argc != optind)
		return ctl_usage(ctl);
	if ((rc = ctl_ask(ctl, "jobs", &args, &doc)) != CTL_EXIT_OK)
		return rc;
	valid = json_integer_value(json_object_get(doc, "valid"));
	broken = json_integer_value(json_object_get(doc, "broken"));
	if (json)
		ctl_json_out(json_incref(doc));
	else if (valid == 0 && broken == 0)
		printf("(no jobs in %s)\n", ctl->cfg->jobs_dir);
	else {
		printf("%-20s %-8s %-18s %-16s %-25s %-6s %s\n", "JOB",
		    "DOMAIN", "SCHEDULE", "TIMEZONE", "NEXT FIRE", "PAUSED",
		    "LAST RUN");
		json_array_foreach(json_object_get(doc, "jobs"), i, row)
			jobs_print(ctl, row);
	}
	ctl_list_more(ctl, doc, json, "jobs");
	if (!json && broken > 0)
		fprintf(stderr, "meshctl: %lld broken job%s refused, the other "
		    "%lld run%s (meshctl validate shows every error)\n",
		    (long long)broken, broken == 1 ? "" : "s", (long long)valid,
		    valid == 1 ? "s" : "");
	json_decref(doc);
	return CTL_EXIT_OK;
}

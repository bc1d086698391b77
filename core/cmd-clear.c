/*
 * cmd-clear.c -- meshctl clear: reset tasks of finished runs so that they
 * run again (the everyday "rerun from failure").  The write layer
 * (act-clear.c) checks everything it can, the staging of the runs
 * included, and records the request, exactly as POST /api/v1/clear does;
 * this parses the options and renders its document.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "meshctl.h"

static int	cmd_clear_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_clear_entry = {
	.name = "clear",
	.args = "JOB --partition KEY | --from KEY --to KEY [options]",
	.summary = "reset tasks of finished runs so they run again (durable)",
	.help =
	"Each finished run of JOB in the range is queued again and resumed:\n"
	"the cleared tasks run again, and so does every task that did not\n"
	"succeed; tasks that succeeded and were not cleared are kept.  Runs\n"
	"that are queued or running are left alone.  Try numbers go on from\n"
	"the earlier attempts.\n"
	"\n"
	"A run's staging, where its tasks hand each other their output, is\n"
	"removed after staging_retention (quarantine_retention for a failed\n"
	"run).  Once it is gone, a clear that would run a task again but keep\n"
	"a task upstream of it is refused, naming the partitions: clear the\n"
	"whole run (no --task, no --failed-only) or from a root task with\n"
	"--task ROOT --downstream.\n"
	"\n"
	"  -p, --partition KEY  one partition\n"
	"  -f, --from KEY       first partition of a range\n"
	"  -t, --to KEY         last partition, included\n"
	"  -T, --task T         clear only task T (default: every task)\n"
	"  -d, --downstream     with --task: also every task after T\n"
	"  -F, --failed-only    only runs that did not succeed, and in them\n"
	"                       nothing that succeeded: just the failed tasks\n"
	"                       and those they held up run again\n"
	"  -n, --dry-run        check everything and count the runs; write\n"
	"                       nothing\n"
	"      --json           {request_id, kind, job, from, to, task,\n"
	"                       downstream, failed_only, runs, meshd,\n"
	"                       meshd_pid}; with --dry-run {dry_run, kind,\n"
	"                       job, from, to, task, downstream, failed_only,\n"
	"                       runs}\n"
	"\n"
	"A key outside the job's start and end is refused (the range whole),\n"
	"naming the bound and the nearest valid key.\n"
	"\n"
	"Exit status: 0 recorded; 1 nothing failed (--failed-only); 2 unknown\n"
	"job, task or partition, a key outside the job's start and end, no\n"
	"run in the range, a bad range, or tasks\n"
	"whose input staging is gone; 3 the state cannot be written.\n",
	.exec = cmd_clear_exec,
};

static int
cmd_clear_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args;
	struct jobset	 js;
	const char	*part = NULL, *from = NULL, *to = NULL, *task = NULL;
	const char	*f, *t;
	json_t		*doc = NULL;
	json_int_t	 n;
	int		 c, rc = CTL_EXIT_OK, downstream = 0, failed_only = 0;
	int		 json = 0, dry = 0;
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "task", required_argument, NULL, 'T' },
		{ "downstream", no_argument, NULL, 'd' },
		{ "failed-only", no_argument, NULL, 'F' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "p:f:t:T:dFnh", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'p':
			part = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'T':
			task = optarg;
			break;
		case 'd':
			downstream = 1;
			break;
		case 'F':
			failed_only = 1;
			break;
		case 'n':
			dry = 1;
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
	if (argc - optind != 1)
		return ctl_usage(ctl);
	/* Usage errors print the usage too; the write layer checks the
	 * same again for the HTTP API. */
	if ((part != NULL) == (from != NULL || to != NULL) ||
	    (part == NULL && (from == NULL || to == NULL))) {
		ctl_error("give either --partition KEY or both --from and --to");
		return ctl_usage(ctl);
	}
	if (downstream && task == NULL) {
		ctl_error("--downstream needs --task");
		return ctl_usage(ctl);
	}
	memset(&args, 0, sizeof args);
	read_args_add(&args, "job", argv[optind]);
	if (part != NULL)
		read_args_add(&args, "partition", part);
	else {
		read_args_add(&args, "from", from);
		read_args_add(&args, "to", to);
	}
	if (task != NULL)
		read_args_add(&args, "task", task);
	if (downstream)
		read_args_add(&args, "downstream", "1");
	if (failed_only)
		read_args_add(&args, "failed_only", "1");
	if (dry)
		read_args_add(&args, "dry_run", "1");
	memset(&js, 0, sizeof js);
	if (ctl_load_job(ctl, &js, argv[optind]) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	/* 409 is "nothing failed" (--failed-only): exit 1. */
	if ((doc = ctl_act(ctl, &js, "clear", &args, dry, CTL_EXIT_FAILED,
	    &rc)) == NULL)
		goto out;
	if (json) {
		ctl_json_out(json_incref(doc));
		goto out;
	}
	f = json_string_value(json_object_get(doc, "from"));
	t = json_string_value(json_object_get(doc, "to"));
	n = json_integer_value(json_object_get(doc, "runs"));
	if (dry)
		printf("dry run: clear %s %s%s%s (%lld run%s%s%s%s); nothing "
		    "written\n", json_string_value(json_object_get(doc, "job")),
		    f, strcmp(f, t) != 0 ? ".." : "", strcmp(f, t) != 0 ? t : "",
		    (long long)n, n == 1 ? "" : "s", failed_only ?
		    ", failed tasks only" : "", task != NULL ? ", task " : "",
		    task != NULL ? task : "");
	else
		printf("request %lld: clear %s %s%s%s (%lld run%s%s%s%s): %s\n",
		    (long long)json_integer_value(json_object_get(doc,
		    "request_id")), json_string_value(json_object_get(doc,
		    "job")), f, strcmp(f, t) != 0 ? ".." : "", strcmp(f, t) !=
		    0 ? t : "", (long long)n, n == 1 ? "" : "s", failed_only ?
		    ", failed tasks only" : "", task != NULL ? ", task " : "",
		    task != NULL ? task : "", ctl_act_fate(doc));
out:
	json_decref(doc);
	jobset_free(&js);
	return rc;
}

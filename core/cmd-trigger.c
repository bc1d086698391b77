/* cmd-trigger.c -- meshctl trigger: ask for a run of one partition, now. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "runner.h"

static int	cmd_trigger_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_trigger_entry = {
	.name = "trigger",
	.args = "JOB [--partition KEY] [--json]",
	.summary = "ask meshd to run a partition now (durable, daemon up or not)",
	.help =
	"Records the request in the state database and returns: it is kept\n"
	"if meshd is down or restarting, and meshd runs it as soon as it is\n"
	"up (it is told at once when it is).  A partition that already ran is\n"
	"run again, every task.\n"
	"\n"
	"  -p, --partition KEY  the partition (default: the latest complete\n"
	"                       interval, or 'current' for an unscheduled job)\n"
	"      --json           {request, job, partition, daemon_pid}\n"
	"\n"
	"Exit status: 0 recorded; 2 unknown job or bad partition; 3 the state\n"
	"cannot be written.\n",
	.exec = cmd_trigger_exec,
};

static int
cmd_trigger_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset	 js;
	struct job_def	*job;
	const char	*partition = NULL;
	char		*key = NULL, *cause = NULL;
	int64_t		 istart, iend, id;
	int		 c, json = 0, rc = CTL_EXIT_OK;
	pid_t		 pid;
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			partition = optarg;
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
	if ((job = ctl_load_job(ctl, &js, argv[optind])) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	/* Refuse a bad key here, where the operator sees it. */
	if (runner_resolve_partition(job, partition, now_us(), &key, &istart,
	    &iend, &cause) != 0) {
		ctl_error("%s", cause);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if ((rc = ctl_request(ctl, "trigger", job->name, key, NULL, &id, &pid)) !=
	    CTL_EXIT_OK)
		goto out;
	if (json)
		ctl_json_out(json_pack("{s:I, s:s, s:s, s:I}", "request",
		    (json_int_t)id, "job", job->name, "partition", key,
		    "daemon_pid", (json_int_t)(pid > 0 ? pid : 0)));
	else if (pid > 0)
		printf("request %lld: trigger %s %s: meshd (pid %ld) runs it "
		    "now\n", (long long)id, job->name, key, (long)pid);
	else if (pid == 0)
		printf("request %lld: trigger %s %s: recorded; meshd is not "
		    "running and will run it when it starts\n", (long long)id,
		    job->name, key);
	else
		printf("request %lld: trigger %s %s: recorded; meshd could "
		    "not be told and will see it at its next wake-up\n",
		    (long long)id, job->name, key);
out:
	free(key);
	free(cause);
	jobset_free(&js);
	return rc;
}

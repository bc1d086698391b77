/* cmd-pause.c -- meshctl pause / unpause: stop and restart a job's
 * schedule, as durable requests. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"

static int	cmd_pause_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_pause_entry = {
	.name = "pause",
	.args = "JOB",
	.summary = "stop a job's schedule from firing (durable request)",
	.help =
	"While a job is paused its schedule does not fire; runs already\n"
	"started go on.  On unpause, the job's catchup policy decides what\n"
	"happens to the intervals missed meanwhile.  Like every request, it is\n"
	"a row in the state database: kept while meshd is down.\n",
	.exec = cmd_pause_exec,
};

const struct cmd_entry cmd_unpause_entry = {
	.name = "unpause",
	.args = "JOB",
	.summary = "let a paused job's schedule fire again (catchup applies)",
	.help =
	"The intervals that ended while the job was paused are handled by its\n"
	"catchup policy: none, latest (the default), all, or last N.\n",
	.exec = cmd_pause_exec,
};

static int
cmd_pause_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset	 js;
	struct job_def	*job;
	const char	*kind = ctl->entry->name;
	int64_t		 id;
	int		 c, rc = CTL_EXIT_OK;
	pid_t		 pid;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
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
	if ((rc = ctl_request(ctl, kind, job->name, NULL, NULL, &id, &pid)) ==
	    CTL_EXIT_OK)
		printf("request %lld: %s %s: %s\n", (long long)id, kind,
		    job->name, ctl_request_fate(pid));
out:
	jobset_free(&js);
	return rc;
}

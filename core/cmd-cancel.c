/* cmd-cancel.c -- meshctl cancel: stop a running or queued run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "schedule.h"

static int	cmd_cancel_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_cancel_entry = {
	.name = "cancel",
	.args = "JOB PARTITION",
	.summary = "cancel a running or queued run (durable request)",
	.help =
	"Nothing more of the run starts; its running attempts are stopped\n"
	"(SIGTERM, then SIGKILL after kill_grace) and recorded as cancelled,\n"
	"and the run ends as cancelled.  A queued run ends before it starts.\n",
	.exec = cmd_cancel_exec,
};

static int
cmd_cancel_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset	 js;
	struct job_def	*job;
	char		*cause = NULL, *key = NULL;
	int64_t		 id, s, e;
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
	if (argc - optind != 2)
		return ctl_usage(ctl);
	if ((job = ctl_load_job(ctl, &js, argv[optind])) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (job_parse_key(job, argv[optind + 1], &s, &e, &key, &cause) != 0) {
		ctl_error("%s", cause);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if ((rc = ctl_request(ctl, "cancel", job->name, key, NULL, &id,
	    &pid)) == CTL_EXIT_OK)
		printf("request %lld: cancel %s %s: %s\n", (long long)id,
		    job->name, key, ctl_request_fate(pid));
out:
	free(key);
	free(cause);
	jobset_free(&js);
	return rc;
}

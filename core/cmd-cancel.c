/* cmd-cancel.c -- meshctl cancel: stop a running or queued run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "request.h"
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
	struct state	*st = NULL;
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
	if (ctl_jobs(ctl, &js, 1) != 0 && ctl->cfg == NULL)
		return CTL_EXIT_USAGE;
	if ((job = ctl_find_job(&js, argv[optind])) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (job_parse_key(job, argv[optind + 1], &s, &e, &key, &cause) != 0) {
		ctl_error("%s", cause);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if ((st = ctl_state(ctl, STATE_RDWR)) == NULL) {
		rc = CTL_EXIT_STATE;
		goto out;
	}
	if (request_add(st, "cancel", job->name, key, &id, &cause) != 0) {
		ctl_error("%s", cause);
		rc = CTL_EXIT_STATE;
		goto out;
	}
	pid = request_poke(ctl->cfg->state_db);
	printf("request %lld: cancel %s %s: %s\n", (long long)id, job->name,
	    key, pid > 0 ? "meshd was told" : pid == 0 ? "recorded; meshd is "
	    "not running and will apply it when it starts" : "recorded; meshd "
	    "will see it at its next wake-up");
out:
	free(key);
	free(cause);
	if (st != NULL)
		state_close(st);
	jobset_free(&js);
	return rc;
}

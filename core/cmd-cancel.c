/* cmd-cancel.c -- meshctl cancel: stop a running or queued run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "act.h"

static int	cmd_cancel_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_cancel_entry = {
	.name = "cancel",
	.args = "JOB PARTITION [--json]",
	.summary = "cancel a running or queued run (durable request)",
	.help =
	"Nothing more of the run starts; its running attempts are stopped\n"
	"(SIGTERM, then SIGKILL after kill_grace) and recorded as cancelled,\n"
	"and the run ends as cancelled.  A queued run ends before it starts.\n"
	"\n"
	"      --json  {request_id, kind, job, partition, meshd, meshd_pid}\n",
	.exec = cmd_cancel_exec,
};

static int
cmd_cancel_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args;
	struct jobset	 js;
	json_t		*doc;
	int		 c, rc = CTL_EXIT_OK, json = 0;
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
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
	if (ctl_load_job(ctl, &js, argv[optind]) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	memset(&args, 0, sizeof args);
	read_args_add(&args, "job", argv[optind]);
	read_args_add(&args, "partition", argv[optind + 1]);
	if ((doc = ctl_act(ctl, &js, "cancel", &args, 0, CTL_EXIT_USAGE,
	    &rc)) == NULL)
		goto out;
	if (json)
		ctl_json_out(doc);
	else {
		printf("request %lld: cancel %s %s: %s\n", (long long)
		    json_integer_value(json_object_get(doc, "request_id")),
		    json_string_value(json_object_get(doc, "job")),
		    json_string_value(json_object_get(doc, "partition")),
		    ctl_act_fate(doc));
		json_decref(doc);
	}
out:
	jobset_free(&js);
	return rc;
}

/* cmd-pause.c -- meshctl pause / unpause: stop and restart a job's
 * schedule, as durable requests. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "meshctl.h"

static int	cmd_pause_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_pause_entry = {
	.name = "pause",
	.args = "JOB [--json]",
	.summary = "stop a job's schedule from firing (durable request)",
	.help =
	"While a job is paused its schedule does not fire; runs already\n"
	"started go on.  On unpause, the job's catchup policy decides what\n"
	"happens to the intervals missed meanwhile.  Like every request, it is\n"
	"a row in the state database: kept while meshd is down.\n"
	"\n"
	"      --json  {request_id, kind, job, meshd, meshd_pid}\n",
	.exec = cmd_pause_exec,
};

const struct cmd_entry cmd_unpause_entry = {
	.name = "unpause",
	.args = "JOB [--json]",
	.summary = "let a paused job's schedule fire again (catchup applies)",
	.help =
	"The intervals that ended while the job was paused are handled by its\n"
	"catchup policy: none, latest (the default), all, or last N.\n"
	"\n"
	"      --json  {request_id, kind, job, meshd, meshd_pid}\n",
	.exec = cmd_pause_exec,
};

static int
cmd_pause_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args;
	struct jobset	 js;
	const char	*kind = ctl->entry->name;
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
	if (argc - optind != 1)
		return ctl_usage(ctl);
	if (ctl_load_job(ctl, &js, argv[optind]) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	memset(&args, 0, sizeof args);
	read_args_add(&args, "job", argv[optind]);
	if ((doc = ctl_act(ctl, &js, kind, &args, 0, CTL_EXIT_USAGE, &rc)) ==
	    NULL)
		goto out;
	if (json)
		ctl_json_out(doc);
	else {
		printf("request %lld: %s %s: %s\n", (long long)
		    json_integer_value(json_object_get(doc, "request_id")), kind,
		    json_string_value(json_object_get(doc, "job")),
		    ctl_act_fate(doc));
		json_decref(doc);
	}
out:
	jobset_free(&js);
	return rc;
}

/* cmd-trigger.c -- meshctl trigger: ask for a run of one partition, now. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "act.h"

static int	cmd_trigger_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_trigger_entry = {
	.name = "trigger",
	.args = "JOB [--partition KEY] [--rerun] [--param KEY=VALUE ...] "
	    "[--json]",
	.summary = "ask meshd to run a partition now (durable, daemon up or not)",
	.help =
	"Records the request in the state database and returns: it is kept\n"
	"if meshd is down or restarting, and meshd runs it as soon as it is\n"
	"up (it is told at once when it is).  A partition that already\n"
	"succeeded is refused unless --rerun is given (meshd checks again\n"
	"when it acts); one that failed runs again, every task.  A key\n"
	"outside the job's start and end is refused, naming the nearest\n"
	"valid key.  The run records trigger 'trigger'.\n"
	"\n"
	"  -p, --partition KEY  the partition (default: the latest complete\n"
	"                       interval, or 'current' for an unscheduled\n"
	"                       job)\n"
	"  -r, --rerun          run a partition that already succeeded again,\n"
	"                       every task\n"
	"  -P, --param KEY=VALUE\n"
	"                       a run parameter, over the job file's params\n"
	"                       in every task of this run (repeatable; the\n"
	"                       last of a key wins).  VALUE is read as the\n"
	"                       type the job file gives KEY: int, double,\n"
	"                       true/false, or a string taken literally.  A\n"
	"                       key no task has is passed as a string, with\n"
	"                       a warning.  Without --param the run has the\n"
	"                       job file's params alone, even if it had\n"
	"                       others before\n"
	"      --json           {request_id, kind, job, partition, params,\n"
	"                       rerun, warnings, meshd, meshd_pid}\n"
	"\n"
	"Exit status: 0 recorded; 2 unknown job, bad partition, a partition\n"
	"that already succeeded (without --rerun), or a --param that is not\n"
	"KEY=VALUE or whose value is not of its key's type; 3 the state\n"
	"cannot be read or written.\n",
	.exec = cmd_trigger_exec,
};

static int
cmd_trigger_exec(struct ctl *ctl, int argc, char **argv)
{
	struct read_args args;
	struct jobset	 js;
	json_t		*doc = NULL, *v;
	const char	*k, *key, *job;
	char		*with = NULL, *s;
	size_t		 i;
	int		 c, json = 0, rc = CTL_EXIT_OK;
	pid_t		 pid;
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "param", required_argument, NULL, 'P' },
		{ "rerun", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&js, 0, sizeof js);
	memset(&args, 0, sizeof args);
	while ((c = getopt_long(argc, argv, "p:P:rh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (ctl_act_arg(&args, "partition", optarg) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'r':
			if (ctl_act_arg(&args, "rerun", "1") != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'P':
			/* Every one, in order: the last of a key wins. */
			if (ctl_act_arg(&args, "param", optarg) != 0)
				return CTL_EXIT_USAGE;
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
	if (ctl_load_job(ctl, &js, argv[optind]) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (ctl_act_arg(&args, "job", argv[optind]) != 0) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	/* A partition that already succeeded (409) is an input error here,
	 * as it has always been: exit 2. */
	if ((doc = ctl_act(ctl, &js, "trigger", &args, 0, CTL_EXIT_USAGE,
	    &rc)) == NULL)
		goto out;
	json_array_foreach(json_object_get(doc, "warnings"), i, v)
		fprintf(stderr, "meshctl: warning: %s\n", json_string_value(v));
	if (json) {
		ctl_json_out(doc);
		doc = NULL;
		goto out;
	}
	if (json_object_size(json_object_get(doc, "params")) > 0) {
		/* " with k=v, k=v" for the text output, in the order given. */
		with = xstrdup(" with");
		json_object_foreach(json_object_get(doc, "params"), k, v) {
			s = xasprintf("%s%s %s=%s", with, with[5] == '\0' ? "" :
			    ",", k, json_string_value(v));
			free(with);
			with = s;
		}
	}
	job = json_string_value(json_object_get(doc, "job"));
	key = json_string_value(json_object_get(doc, "partition"));
	pid = (pid_t)json_integer_value(json_object_get(doc, "meshd_pid"));
	if (pid > 0)
		printf("request %lld: trigger %s %s%s: meshd (pid %ld) runs "
		    "it now\n", (long long)json_integer_value(json_object_get(
		    doc, "request_id")), job, key, with != NULL ? with : "",
		    (long)pid);
	else if (strcmp(json_string_value(json_object_get(doc, "meshd")),
	    "not running") == 0)
		printf("request %lld: trigger %s %s%s: recorded; meshd is not "
		    "running and will run it when it starts\n",
		    (long long)json_integer_value(json_object_get(doc,
		    "request_id")), job, key, with != NULL ? with : "");
	else
		printf("request %lld: trigger %s %s%s: recorded; meshd could "
		    "not be told and will see it at its next wake-up\n",
		    (long long)json_integer_value(json_object_get(doc,
		    "request_id")), job, key, with != NULL ? with : "");
out:
	json_decref(doc);
	free(with);
	jobset_free(&js);
	return rc;
}

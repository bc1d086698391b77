/* cmd-trigger.c -- meshctl trigger: ask for a run of one partition, now. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshctl.h"
#include "request.h"
#include "runner.h"

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
	"      --json           {request, job, partition, params,\n"
	"                       daemon_pid}\n"
	"\n"
	"Exit status: 0 recorded; 2 unknown job, bad partition, a partition\n"
	"that already succeeded (without --rerun), or a --param that is not\n"
	"KEY=VALUE or whose value is not of its key's type; 3 the state\n"
	"cannot be read or written.\n",
	.exec = cmd_trigger_exec,
};

/* A key as the job file may write it: libconfig's setting names. */
static int
trigger_key_ok(const char *k)
{
	const char	*c;

	if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
	    *k == '*'))
		return 0;
	for (c = k + 1; *c != '\0'; c++) {
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
		    *c == '*'))
			return 0;
	}
	return 1;
}

/*
 * Check each run parameter against the job: a value must read as the type
 * of every task's param of that key (exit 2 otherwise); a key no task has
 * is allowed, since a plugin may read a param the job file leaves out, but
 * it is more often a typo, so it is named.
 */
static int
trigger_check_params(const struct job_def *job, json_t *params)
{
	const struct param	*p;
	struct param		 parsed;
	const char		*k, *v;
	json_t			*jv;
	size_t			 i;
	int			 found;

	json_object_foreach(params, k, jv) {
		v = json_string_value(jv);
		found = 0;
		for (i = 0; i < job->ntasks; i++) {
			if ((p = paramset_get(&job->tasks[i].params, k)) ==
			    NULL)
				continue;
			found = 1;
			/* The engine's rule (param_from_string()): the
			 * operator hears of a bad value now, not from a
			 * failed run. */
			if (param_from_string(p->type, k, v, &parsed) != 0) {
				ctl_error("--param %s=%s: task '%s' has '%s' "
				    "as %s, and '%s' is not one", k, v,
				    job->tasks[i].id, k,
				    param_type_phrase(p->type), v);
				return -1;
			}
		}
		if (!found)
			fprintf(stderr, "meshctl: warning: --param %s: no task "
			    "of job '%s' has a param '%s'; its plugins get it "
			    "as a string\n", k, job->name, k);
	}
	return 0;
}

/* Add one --param KEY=VALUE to `params`; -1 after saying why. */
static int
trigger_add_param(json_t *params, const char *arg)
{
	const char	*eq;
	char		*key;
	json_t		*v;
	int		 rc = -1;

	if ((eq = strchr(arg, '=')) == NULL) {
		ctl_error("--param %s: not KEY=VALUE", arg);
		return -1;
	}
	key = xstrndup(arg, (size_t)(eq - arg));
	if (!trigger_key_ok(key))
		ctl_error("--param %s: '%s' is not a param name (a letter or "
		    "'*', then letters, digits, '-', '_' or '*')", arg, key);
	else if ((v = json_string(eq + 1)) == NULL)
		ctl_error("--param %s: the value is not valid UTF-8", arg);
	else {
		json_object_set_new(params, key, v);
		rc = 0;
	}
	free(key);
	return rc;
}

static int
cmd_trigger_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset	 js;
	struct job_def	*job;
	const char	*partition = NULL, *k;
	char		*key = NULL, *cause = NULL, *args = NULL, *with = NULL;
	char		*s;
	json_t		*params, *v;
	int64_t		 istart, iend, id;
	int		 c, json = 0, rc = CTL_EXIT_OK, rerun = 0;
	struct state	*st;
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
	params = json_object();
	while ((c = getopt_long(argc, argv, "p:P:rh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			partition = optarg;
			break;
		case 'r':
			rerun = 1;
			break;
		case 'P':
			if (trigger_add_param(params, optarg) != 0) {
				rc = CTL_EXIT_USAGE;
				goto out;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			rc = ctl_help(ctl);
			goto out;
		default:
			rc = ctl_usage(ctl);
			goto out;
		}
	}
	if (argc - optind != 1) {
		rc = ctl_usage(ctl);
		goto out;
	}
	if ((job = ctl_load_job(ctl, &js, argv[optind])) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	/* Refuse a bad key or value here, where the operator sees it. */
	if (runner_resolve_partition(job, partition, now_us(), &key, &istart,
	    &iend, &cause) != 0) {
		ctl_error("%s", cause);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (json_object_size(params) > 0 &&
	    trigger_check_params(job, params) != 0) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	/* A success is not run again by accident: say so, here. */
	if (!rerun) {
		if ((st = ctl_state(ctl, STATE_RDWR)) == NULL) {
			rc = CTL_EXIT_STATE;
			goto out;
		}
		c = request_run_succeeded(st, job->name, key, &s, &cause);
		state_close(st);
		if (c != 0) {
			ctl_error("%s", c > 0 ? s : cause);
			if (c > 0)
				free(s);
			rc = c > 0 ? CTL_EXIT_USAGE : CTL_EXIT_STATE;
			goto out;
		}
	}
	if (json_object_size(params) > 0 || rerun) {
		v = json_object();
		if (json_object_size(params) > 0)
			json_object_set(v, "params", params);
		if (rerun)
			json_object_set_new(v, "rerun", json_true());
		args = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(v);
	}
	if (json_object_size(params) > 0) {
		/* " with k=v, k=v" for the text output, in the order given. */
		with = xstrdup(" with");
		json_object_foreach(params, k, v) {
			s = xasprintf("%s%s %s=%s", with, with[5] == '\0' ? "" :
			    ",", k, json_string_value(v));
			free(with);
			with = s;
		}
	}
	if ((rc = ctl_request(ctl, "trigger", job->name, key, args, &id,
	    &pid)) != CTL_EXIT_OK)
		goto out;
	if (json)
		ctl_json_out(json_pack("{s:I, s:s, s:s, s:O, s:I}", "request",
		    (json_int_t)id, "job", job->name, "partition", key,
		    "params", params, "daemon_pid",
		    (json_int_t)(pid > 0 ? pid : 0)));
	else if (pid > 0)
		printf("request %lld: trigger %s %s%s: meshd (pid %ld) runs "
		    "it now\n", (long long)id, job->name, key,
		    with != NULL ? with : "", (long)pid);
	else if (pid == 0)
		printf("request %lld: trigger %s %s%s: recorded; meshd is not "
		    "running and will run it when it starts\n", (long long)id,
		    job->name, key, with != NULL ? with : "");
	else
		printf("request %lld: trigger %s %s%s: recorded; meshd could "
		    "not be told and will see it at its next wake-up\n",
		    (long long)id, job->name, key, with != NULL ? with : "");
out:
	json_decref(params);
	free(args);
	free(with);
	free(key);
	free(cause);
	jobset_free(&js);
	return rc;
}

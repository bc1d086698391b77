/*
 * act-trigger.c -- trigger: ask for a run of one partition, now.  The key
 * (default: the latest complete interval), the job's start and end, the
 * run parameters' types and a partition that already succeeded are all
 * refused here, where the operator sees why, before the request is
 * written; meshd checks the key again when it acts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act-int.h"
#include "job.h"
#include "request.h"
#include "runner.h"
#include "util.h"

const struct read_param act_trigger_params[] = {
	{ "job", "string", 1, "the job" },
	{ "partition", "string", 0, "the partition (default: the latest "
	    "complete interval, or 'current' for an unscheduled job)" },
	{ "rerun", "boolean", 0, "run a partition that already succeeded "
	    "again, every task" },
	{ "param", "string", 0, "KEY=VALUE: a run parameter over the job "
	    "file's params (repeatable; the last of a key wins)" },
	{ NULL, NULL, 0, NULL }
};

const char act_trigger_schema[] =
	"{\"type\":\"object\",\"required\":[" ACT_SCHEMA_REQUIRED
	",\"partition\",\"params\",\"rerun\",\"warnings\"],"
	"\"additionalProperties\":false,\"properties\":{"
	ACT_SCHEMA_RECORDED ","
	"\"partition\":{\"type\":\"string\"},"
	"\"params\":{\"type\":\"object\","
	"\"additionalProperties\":{\"type\":\"string\"}},"
	"\"rerun\":{\"type\":\"boolean\"},"
	"\"warnings\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}";

/* A key as the job file may write it: libconfig's setting names. */
static int
act_trigger_key_ok(const char *k)
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

/* Add one param=KEY=VALUE to `params`; -1 with a 400 error. */
static int
act_trigger_add_param(json_t *params, const char *arg,
    struct read_error *err)
{
	const char	*eq;
	char		*key;
	json_t		*v;
	int		 rc = -1;

	if ((eq = strchr(arg, '=')) == NULL) {
		read_fail(err, 400, "--param %s: not KEY=VALUE", arg);
		return -1;
	}
	key = xstrndup(arg, (size_t)(eq - arg));
	if (!act_trigger_key_ok(key))
		read_fail(err, 400, "--param %s: '%s' is not a param name (a "
		    "letter or '*', then letters, digits, '-', '_' or '*')",
		    arg, key);
	else if ((v = json_string(eq + 1)) == NULL)
		read_fail(err, 400, "--param %s: the value is not valid UTF-8",
		    arg);
	else {
		json_object_set_new(params, key, v);
		rc = 0;
	}
	free(key);
	return rc;
}

/*
 * Check each run parameter against the job: a value must read as the type
 * of every task's param of that key (400 otherwise); a key no task has is
 * allowed, since a plugin may read a param the job file leaves out, but it
 * is more often a typo, so it is named in `warnings`.
 */
static int
act_trigger_check_params(const struct job_def *job, json_t *params,
    json_t *warnings, struct read_error *err)
{
	const struct param	*p;
	struct param		 parsed;
	const char		*k, *v;
	json_t			*jv;
	size_t			 i;
	int			 found;
	char			*w;

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
				read_fail(err, 400, "--param %s=%s: task '%s' "
				    "has '%s' as %s, and '%s' is not one", k, v,
				    job->tasks[i].id, k,
				    param_type_phrase(p->type), v);
				return -1;
			}
		}
		if (!found) {
			w = xasprintf("--param %s: no task of job '%s' has a "
			    "param '%s'; its plugins get it as a string", k,
			    job->name, k);
			json_array_append_new(warnings, json_string(w));
			free(w);
		}
	}
	return 0;
}

json_t *
act_trigger(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const struct job_def *job;
	char		*key = NULL, *cause = NULL, *why = NULL, *rargs = NULL;
	json_t		*params, *warnings, *v, *doc = NULL;
	int64_t		 istart, iend;
	int		 i, rerun, c;

	if ((job = act_job(ctx, read_arg(args, "job"), err)) == NULL)
		return NULL;
	if (act_bool(args, "rerun", &rerun, err) != 0)
		return NULL;
	params = json_object();
	warnings = json_array();
	/* In the order given, so that the last of a key wins. */
	for (i = 0; i < args->n; i++)
		if (strcmp(args->a[i].name, "param") == 0 &&
		    act_trigger_add_param(params, args->a[i].value, err) != 0)
			goto out;
	/* Refuse a bad key or value here, where the operator sees it. */
	if (runner_resolve_partition(job, read_arg(args, "partition"),
	    ctx->now_us != 0 ? ctx->now_us : now_us(), &key, &istart, &iend,
	    &cause) != 0) {
		read_fail(err, 400, "%s", cause);
		goto out;
	}
	if (json_object_size(params) > 0 &&
	    act_trigger_check_params(job, params, warnings, err) != 0)
		goto out;
	if (act_state(ctx, err) == NULL)
		goto out;
	/* A success is not run again by accident: say so, here. */
	if (!rerun) {
		c = request_run_succeeded(ctx->st, job->name, key, &why,
		    &cause);
		if (c > 0) {
			read_fail(err, 409, "%s", why);
			goto out;
		}
		if (c < 0) {
			act_fail_cause(err, cause);
			cause = NULL;
			goto out;
		}
	}
	if (json_object_size(params) > 0 || rerun) {
		v = json_object();
		if (json_object_size(params) > 0)
			json_object_set(v, "params", params);
		if (rerun)
			json_object_set_new(v, "rerun", json_true());
		rargs = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(v);
	}
	if ((doc = act_record(ctx, "trigger", job->name, key, rargs, err)) ==
	    NULL)
		goto out;
	json_object_set_new(doc, "partition", json_string(key));
	json_object_set(doc, "params", params);
	json_object_set_new(doc, "rerun", json_boolean(rerun));
	json_object_set(doc, "warnings", warnings);
	act_told(ctx, doc);
out:
	json_decref(params);
	json_decref(warnings);
	free(rargs);
	free(key);
	free(cause);
	free(why);
	return doc;
}

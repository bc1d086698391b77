/*
 * act-request.c -- the actions that are one plain request row: cancel a
 * run, pause and unpause a job's schedule.  meshd does the work when it
 * reads the row (meshd.c); what can be checked here is the job and the
 * partition key.
 */
#include <stdlib.h>
#include <string.h>

#include "act-int.h"
#include "job.h"
#include "schedule.h"
#include "util.h"

const struct read_param act_cancel_params[] = {
	{ "job", "string", 1, "the job" },
	{ "partition", "string", 1, "the partition whose run to cancel" },
	{ NULL, NULL, 0, NULL }
};

const char act_cancel_schema[] =
	"{\"type\":\"object\",\"required\":[" ACT_SCHEMA_REQUIRED
	",\"partition\"],\"additionalProperties\":false,\"properties\":{"
	ACT_SCHEMA_RECORDED ","
	"\"partition\":{\"type\":\"string\"}}}";

json_t *
act_cancel(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const struct job_def *job;
	char		*key = NULL, *cause = NULL;
	int64_t		 s, e;
	json_t		*doc;

	if ((job = act_job(ctx, read_arg(args, "job"), err)) == NULL)
		return NULL;
	/* The run need not exist yet: meshd says "nothing to cancel" in
	 * the request's result, as it always has. */
	if (job_parse_key(job, read_arg(args, "partition"), &s, &e, &key,
	    &cause) != 0) {
		read_fail(err, 400, "%s", cause);
		free(cause);
		return NULL;
	}
	if ((doc = act_record(ctx, "cancel", job->name, key, NULL, err)) !=
	    NULL) {
		json_object_set_new(doc, "partition", json_string(key));
		act_told(ctx, doc);
	}
	free(key);
	return doc;
}

const struct read_param act_pause_params[] = {
	{ "job", "string", 1, "the job" },
	{ NULL, NULL, 0, NULL }
};
const struct read_param act_unpause_params[] = {
	{ "job", "string", 1, "the job" },
	{ NULL, NULL, 0, NULL }
};

const char act_pause_schema[] =
	"{\"type\":\"object\",\"required\":[" ACT_SCHEMA_REQUIRED "],"
	"\"additionalProperties\":false,\"properties\":{"
	ACT_SCHEMA_RECORDED "}}";
const char act_unpause_schema[] =
	"{\"type\":\"object\",\"required\":[" ACT_SCHEMA_REQUIRED "],"
	"\"additionalProperties\":false,\"properties\":{"
	ACT_SCHEMA_RECORDED "}}";

static json_t *
act_pause_kind(struct read_ctx *ctx, const char *kind,
    const struct read_args *args, struct read_error *err)
{
	const struct job_def *job;
	json_t		*doc;

	if ((job = act_job(ctx, read_arg(args, "job"), err)) == NULL)
		return NULL;
	if ((doc = act_record(ctx, kind, job->name, NULL, NULL, err)) == NULL)
		return NULL;
	return act_told(ctx, doc);
}

json_t *
act_pause(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	return act_pause_kind(ctx, "pause", args, err);
}

json_t *
act_unpause(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	return act_pause_kind(ctx, "unpause", args, err);
}

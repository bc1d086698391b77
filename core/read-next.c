/*
 * read-next.c -- next: a job's next fire times and the partitions they
 * close.  From the job file alone (no state): each fire closes the data
 * interval that began at the previous fire.  The document depends on
 * now only without from= (or cursor=): the UI pages with cursor=.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "read-int.h"
#include "read-jobs.h"
#include "schedule.h"
#include "tz.h"
#include "util.h"

#define READ_NEXT_DEFAULT	5

const struct read_param read_next_params[] = {
	{ "job", "string", 1, "the job" },
	{ "from", "string", 0, "fires after this UTC time, "
	    "2024-03-30T00:00:00Z (default now)" },
	{ "limit", "integer", 0, "at most N fires (default 5, at most "
	    "10000)" },
	{ "cursor", "string", 0, "next_cursor of the previous page" },
	{ NULL, NULL, 0, NULL }
};

const char read_next_schema[] =
	"{\"type\":\"object\",\"required\":[\"job\",\"timezone\","
	"\"scheduled\",\"fires\",\"next_cursor\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"job\":{\"type\":\"string\"},"
	"\"timezone\":{\"type\":\"string\"},"
	"\"scheduled\":{\"type\":\"boolean\"},"
	"\"fires\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"fire_us\",\"fire_local\",\"partition\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"fire_us\":{\"type\":\"integer\"},"
	"\"fire_local\":{\"type\":\"string\"},"
	"\"partition\":{\"type\":\"string\"}}}},"
	READ_SCHEMA_CURSOR "}}";

/* from=2024-03-30T00:00:00Z (the Z may be left out: UTC either way). */
static int
read_next_from(const char *arg, int64_t *out, struct read_error *err)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof tm);
	end = strptime(arg, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || (*end != '\0' && strcmp(end, "Z") != 0)) {
		read_fail(err, 400, "from: '%s' is not a UTC time like "
		    "2024-03-30T00:00:00Z", arg);
		return -1;
	}
	*out = (int64_t)timegm(&tm) * 1000000;
	return 0;
}

json_t *
read_next(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char		*name = read_arg(args, "job");
	const char		*from_arg = read_arg(args, "from");
	const char		*cursor_arg = read_arg(args, "cursor");
	const struct job_def	*job;
	struct read_cursor	 cur = { 0 };
	json_t			*doc = NULL, *fires, *next = json_null();
	char			*key, local[64];
	int64_t			 limit, t = ctx->now_us, f, p, hi = 0, dummy;
	int64_t			 n = 0;

	if (read_arg_int(args, "limit", 1, READ_LIMIT_MAX, READ_NEXT_DEFAULT,
	    &limit, err) != 0)
		return NULL;
	if (from_arg != NULL && read_next_from(from_arg, &t, err) != 0)
		return NULL;
	if (cursor_arg != NULL) {
		if (read_cursor_parse(cursor_arg, 1, &cur, err) != 0)
			return NULL;
		t = cur.i[0];
		read_cursor_free(&cur);
	}
	if ((job = read_job_def(ctx, name, err)) == NULL)
		return NULL;
	fires = json_array();
	doc = json_pack("{s:s, s:s, s:b, s:o}", "job", job->name, "timezone",
	    job->tz != NULL ? tz_name(job->tz) : "UTC", "scheduled",
	    job_has_schedule(job), "fires", fires);
	if (!job_has_schedule(job))
		goto done;
	if (job->end != NULL && job_parse_key(job, job->end, &hi, &dummy,
	    &key, NULL) == 0)
		free(key);
	/* One fire more than asked says whether there is a next page. */
	while ((f = job_next_fire(job, t)) >= 0) {
		/* The interval this fire closes began at the previous one
		 * (none only at the ends of time: no key, not 1970-01-01). */
		p = job_prev_fire(job, f);
		if (hi != 0 && p >= hi)
			break;
		if (n++ == limit) {
			next = read_cursor_int(t);
			break;
		}
		t = f;
		key = p >= 0 ? job_key(job, p) : xstrdup("-");
		json_array_append_new(fires, json_pack("{s:I, s:s, s:s}",
		    "fire_us", (json_int_t)f, "fire_local", read_time_local(
		    ctx->utc, job, f, local, sizeof local), "partition", key));
		free(key);
	}
done:
	json_object_set_new(doc, "next_cursor", next);
	return doc;
}

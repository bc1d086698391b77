/*
 * read-jobs.c -- jobs: every job with its schedule, next fire, last runs,
 * paused, and the broken ones with their first error; and what judging
 * the jobs needs without meshctl (read-jobs.h).
 *
 * This is the web UI's home page and meshctl jobs.  The job files are
 * read as meshd reads them (the list is as long as the jobs directory,
 * which meshd loads anyway); the state adds, per job of the page, one
 * row of jobs and at most READ_JOBS_LAST_RUNS runs from the
 * runs_job_interval index: O(page), not O(history).
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "config.h"
#include "lock.h"
#include "policy.h"
#include "read-int.h"
#include "read-jobs.h"
#include "schedule.h"
#include "state.h"
#include "tz.h"
#include "util.h"

/* How many last runs a job's row carries: the home page's squares. */
#define READ_JOBS_LAST_RUNS	10

const struct read_param read_jobs_params[] = {
	{ "domain", "string", 0, "only the jobs of this domain (broken jobs, "
	    "whose file was refused, have none)" },
	READ_PARAMS_PAGE,
	{ NULL, NULL, 0, NULL }
};

const char read_jobs_schema[] =
	"{\"type\":\"object\",\"required\":[\"jobs\",\"valid\",\"broken\","
	"\"next_cursor\"],\"additionalProperties\":false,\"properties\":{"
	"\"jobs\":{\"type\":\"array\",\"items\":{\"oneOf\":["
	/* a job meshd runs */
	"{\"type\":\"object\",\"required\":[\"job\",\"broken\","
	"\"running_previous\",\"domain\",\"schedule\",\"timezone\","
	"\"next_fire_us\",\"next_fire_local\",\"paused\",\"last_runs\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"job\":{\"type\":\"string\"},"
	"\"broken\":{\"const\":false},"
	"\"running_previous\":{\"const\":false},"
	"\"domain\":{\"type\":\"string\"},"
	"\"schedule\":{\"type\":\"string\"},"
	"\"timezone\":{\"type\":\"string\"},"
	"\"next_fire_us\":{\"type\":[\"integer\",\"null\"]},"
	"\"next_fire_local\":{\"type\":[\"string\",\"null\"]},"
	"\"paused\":{\"type\":\"boolean\"},"
	"\"last_runs\":{\"type\":\"array\",\"maxItems\":10,\"items\":{"
	"\"type\":\"object\",\"required\":[\"run_id\",\"partition\","
	"\"state\"],\"additionalProperties\":false,\"properties\":{"
	"\"run_id\":{\"type\":\"integer\"},"
	"\"partition\":{\"type\":\"string\"},"
	"\"state\":{\"enum\":[\"queued\",\"running\",\"success\",\"failed\","
	"\"cancelled\"]}}}}}},"
	/* a job file meshd refuses */
	"{\"type\":\"object\",\"required\":[\"job\",\"broken\","
	"\"running_previous\",\"file\",\"error\",\"errors\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"job\":{\"type\":\"string\"},"
	"\"broken\":{\"const\":true},"
	"\"running_previous\":{\"type\":\"boolean\"},"
	"\"file\":{\"type\":\"string\"},"
	"\"error\":{\"type\":\"string\"},"
	"\"errors\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"line\",\"level\",\"message\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"file\":{\"type\":\"string\"},"
	"\"line\":{\"type\":\"integer\"},"
	"\"level\":{\"enum\":[\"error\",\"warning\"]},"
	"\"message\":{\"type\":\"string\"}}}}}}]}},"
	"\"valid\":{\"type\":\"integer\",\"minimum\":0},"
	"\"broken\":{\"type\":\"integer\",\"minimum\":0},"
	READ_SCHEMA_CURSOR "}}";

void
read_jobs_judged(const struct meshd_config *cfg, struct jobset *js,
    struct errlist *errs, json_t *health)
{
	const char	**ext = NULL;
	json_t		 *b, *p;
	size_t		  next = 0, i, k;

	memset(js, 0, sizeof *js);
	jobs_load_files(cfg, js, errs);
	/* A broken job meshd still runs the previous version of builds its
	 * products as before: its readers run, as in meshd. */
	json_array_foreach(health != NULL ? json_object_get(health,
	    "broken_jobs") : NULL, i, b) {
		if (!json_is_true(json_object_get(b, "running_previous")))
			continue;
		json_array_foreach(json_object_get(b, "products"), k, p) {
			if (!json_is_string(p))
				continue;
			ext = xreallocarray(ext, next + 1, sizeof *ext);
			ext[next++] = json_string_value(p);
		}
	}
	jobs_link_ext(js, errs, ext, next);
	free(ext);
	policy_check(cfg, js, POLICY_DROP | POLICY_PLUGINS, errs);
}

json_t *
read_health(const struct meshd_config *cfg, pid_t *pidp)
{
	char		*path;
	json_t		*h;
	json_error_t	 err;
	pid_t		 pid;

	*pidp = 0;
	if (cfg == NULL || (pid = state_lock_holder(cfg->state_db)) <= 0)
		return NULL;
	*pidp = pid;
	path = xasprintf("%s.health", cfg->state_db);
	h = json_load_file(path, 0, &err);
	free(path);
	/* A file left by an earlier meshd says nothing of this one. */
	if (h != NULL && (!json_is_object(h) || json_integer_value(
	    json_object_get(h, "pid")) != (json_int_t)pid)) {
		json_decref(h);
		h = NULL;
	}
	return h;
}

int
read_health_previous(const json_t *health, const char *name)
{
	json_t	*b;
	size_t	 i;

	if (health == NULL)
		return 0;
	json_array_foreach(json_object_get(health, "broken_jobs"), i, b) {
		const char *job = json_string_value(json_object_get(b, "job"));

		if (job != NULL && strcmp(job, name) == 0)
			return json_is_true(json_object_get(b,
			    "running_previous"));
	}
	return 0;
}

char *
read_broken_first(const struct job_broken *b)
{
	const struct diag	*dg = NULL;
	size_t			 i;

	for (i = 0; i < b->errs.n && dg == NULL; i++)
		if (b->errs.v[i].level == DIAG_ERROR)
			dg = &b->errs.v[i];
	if (dg == NULL)
		return xasprintf("%s: refused", b->file);
	return xasprintf("%s:%d: %s", dg->file != NULL ? dg->file : b->file,
	    dg->line, dg->msg);
}

json_t *
read_broken_json(const struct job_broken *b)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < b->errs.n; i++)
		json_array_append_new(a, json_pack("{s:s?, s:i, s:s, s:s}",
		    "file", b->errs.v[i].file, "line", b->errs.v[i].line,
		    "level", b->errs.v[i].level == DIAG_ERROR ? "error" :
		    "warning", "message", b->errs.v[i].msg));
	return a;
}

const struct job_def *
read_job_def(const struct read_ctx *ctx, const char *name,
    struct read_error *err)
{
	const struct job_def	*job;
	struct job_broken	*b;
	char			*first;

	job = ctx->jobs != NULL ? jobset_find(ctx->jobs, name) : NULL;
	if (job != NULL)
		return job;
	if (ctx->jobs != NULL && (b = jobset_broken(ctx->jobs, name)) != NULL) {
		first = read_broken_first(b);
		read_fail(err, 404, "job '%s' is broken: %s", name, first);
		free(first);
		return NULL;
	}
	read_fail(err, 404, "unknown job '%s'", name);
	return NULL;
}

/* The next fire of `job` after now, or -1: none, or past its end. */
static int64_t
read_jobs_next_fire(const struct job_def *job, int64_t now)
{
	int64_t	 f, hi, dummy;
	char	*canon;

	f = job_next_fire(job, now);
	if (f >= 0 && job->end != NULL && job_parse_key(job, job->end, &hi,
	    &dummy, &canon, NULL) == 0) {
		free(canon);
		if (job_prev_fire(job, f) >= hi)
			f = -1;
	}
	return f;
}

/* A valid job's row; NULL on a state error (err set). */
static json_t *
read_jobs_row(struct read_ctx *ctx, const struct job_def *job,
    sqlite3_stmt *js, sqlite3_stmt *rs, struct read_error *err)
{
	json_t	*last = json_array(), *row;
	char	 local[64];
	int64_t	 f, job_id = 0;
	int	 paused = 0, rc;

	if (js != NULL) {
		sqlite3_reset(js);
		sqlite3_bind_text(js, 1, job->name, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(js)) == SQLITE_ROW) {
			job_id = sqlite3_column_int64(js, 0);
			paused = sqlite3_column_int(js, 1);
		} else if (rc != SQLITE_DONE)
			goto fail;
	}
	if (rs != NULL && job_id != 0) {
		sqlite3_reset(rs);
		sqlite3_bind_int64(rs, 1, job_id);
		sqlite3_bind_int(rs, 2, READ_JOBS_LAST_RUNS);
		while ((rc = sqlite3_step(rs)) == SQLITE_ROW)
			json_array_append_new(last, json_pack("{s:I, s:s, s:s}",
			    "run_id", (json_int_t)sqlite3_column_int64(rs, 0),
			    "partition", read_col(rs, 1), "state",
			    read_col(rs, 2)));
		if (rc != SQLITE_DONE)
			goto fail;
	}
	f = read_jobs_next_fire(job, ctx->now_us);
	row = json_pack("{s:s, s:b, s:b, s:s, s:s, s:s, s:o, s:o, s:b, s:o}",
	    "job", job->name, "broken", 0, "running_previous", 0,
	    "domain", job->domain, "schedule", job->schedule,
	    "timezone", job->tz != NULL ? tz_name(job->tz) : "UTC",
	    "next_fire_us", f < 0 ? json_null() : json_integer(f),
	    "next_fire_local", f < 0 ? json_null() : json_string(
	    read_time_local(ctx->utc, job, f, local, sizeof local)),
	    "paused", paused, "last_runs", last);
	return row;
fail:
	json_decref(last);
	read_fail_state(err, ctx->st);
	return NULL;
}

static json_t *
read_jobs_broken_row(const struct read_ctx *ctx, const struct job_broken *b)
{
	char	*first = read_broken_first(b);
	json_t	*row;

	row = json_pack("{s:s, s:b, s:b, s:s, s:s, s:o}", "job", b->name,
	    "broken", 1, "running_previous", read_health_previous(ctx->health,
	    b->name), "file", b->file, "error", first, "errors",
	    read_broken_json(b));
	free(first);
	return row;
}

json_t *
read_jobs(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*domain = read_arg(args, "domain");
	const char	*cursor_arg = read_arg(args, "cursor");
	const char	*name, *last = NULL;
	struct read_cursor cur = { 0 };
	struct jobset	 js;
	const struct jobset *jv;
	struct errlist	 errs = ERRLIST_INIT;
	sqlite3_stmt	*jstmt = NULL, *rstmt = NULL;
	json_t		*doc = NULL, *arr, *row, *next = json_null();
	int64_t		 limit, n = 0;
	size_t		 i, b;
	int		 is_broken;

	memset(&js, 0, sizeof js);
	if (read_arg_limit(args, &limit, err) != 0)
		return NULL;
	if (cursor_arg != NULL && read_cursor_parse(cursor_arg, 1, &cur,
	    err) != 0)
		return NULL;
	if (ctx->cfg == NULL) {
		read_fail(err, 503, "no configuration");
		goto out;
	}
	/* Every error is in the rows (and in meshctl validate).  Jobs the
	 * caller judged already (the HTTP child, once per change of the
	 * files) are not judged again: judging starts a probe per plugin. */
	if (!ctx->jobs_judged || ctx->jobs == NULL) {
		read_jobs_judged(ctx->cfg, &js, &errs, ctx->health);
		errlist_free(&errs);
	}
	jv = ctx->jobs_judged && ctx->jobs != NULL ? ctx->jobs : &js;
	/* Without a state yet (meshd never ran) every job is listed, with
	 * no runs: the job files are the list. */
	if (ctx->st != NULL && (sqlite3_prepare_v2(state_sqlite(ctx->st),
	    "SELECT id, paused FROM jobs WHERE name = ?1", -1, &jstmt,
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(state_sqlite(ctx->st),
	    "SELECT id, partition_key, state FROM runs WHERE job_id = ?1 "
	    "ORDER BY interval_start_us DESC, partition_key DESC LIMIT ?2",
	    -1, &rstmt, NULL) != SQLITE_OK)) {
		read_fail_state(err, ctx->st);
		goto out;
	}
	arr = json_array();
	doc = json_pack("{s:o, s:I, s:I}", "jobs", arr, "valid",
	    (json_int_t)jv->n, "broken", (json_int_t)jv->nbroken);
	for (i = 0, b = 0; i < jv->n || b < jv->nbroken; ) {
		/* Both lists are in name order: merge them. */
		is_broken = b < jv->nbroken && (i >= jv->n ||
		    strcmp(jv->broken[b].name, jv->v[i]->name) < 0);
		name = is_broken ? jv->broken[b].name : jv->v[i]->name;
		if ((cur.n > 0 && strcmp(name, cur.s[0]) <= 0) ||
		    (domain != NULL && (is_broken ||
		    strcmp(jv->v[i]->domain, domain) != 0))) {
			if (is_broken)
				b++;
			else
				i++;
			continue;
		}
		if (n++ == limit) {
			next = read_cursor_make(1, &last);
			break;
		}
		if (is_broken)
			row = read_jobs_broken_row(ctx, &jv->broken[b++]);
		else if ((row = read_jobs_row(ctx, jv->v[i++], jstmt, rstmt,
		    err)) == NULL) {
			json_decref(doc);
			doc = NULL;
			goto out;
		}
		last = name;
		json_array_append_new(arr, row);
	}
	json_object_set_new(doc, "next_cursor", next);
	next = NULL;
out:
	json_decref(next);
	sqlite3_finalize(jstmt);
	sqlite3_finalize(rstmt);
	jobset_free(&js);
	read_cursor_free(&cur);
	return doc;
}

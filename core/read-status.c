/*
 * read-status.c -- status: is meshd up (pid, uptime, health), how many
 * runs wait, which attempts run, and which jobs are broken.  The one
 * question about now: uptime_s changes from one asking to the next.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "lock.h"
#include "read-int.h"
#include "read-jobs.h"
#include "state.h"
#include "util.h"
#include "xdef.h"

const struct read_param read_status_params[] = {
	READ_PARAMS_PAGE,
	{ NULL, NULL, 0, NULL }
};

const char read_status_schema[] =
	"{\"type\":\"object\",\"required\":[\"up\",\"pid\",\"uptime_s\","
	"\"version\",\"workers\",\"queued\",\"health\",\"jobs\",\"broken\","
	"\"broken_jobs\",\"executors\",\"running\",\"next_cursor\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"up\":{\"type\":\"boolean\"},"
	"\"pid\":{\"type\":\"integer\",\"minimum\":0},"
	"\"uptime_s\":{\"type\":[\"integer\",\"null\"],\"minimum\":0},"
	"\"version\":{\"type\":\"string\"},"
	"\"workers\":{\"type\":\"integer\"},"
	"\"queued\":{\"type\":\"integer\",\"minimum\":0},"
	"\"health\":{\"type\":[\"object\",\"null\"]},"
	"\"jobs\":{\"type\":\"integer\",\"minimum\":0},"
	"\"broken\":{\"type\":\"integer\",\"minimum\":0},"
	"\"broken_jobs\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"job\",\"running_previous\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"job\":{\"type\":\"string\"},"
	"\"running_previous\":{\"type\":\"boolean\"}}}},"
	"\"executors\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"name\",\"type\",\"mode\",\"running\",\"queued\","
	"\"pilots\",\"error\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"name\":{\"type\":\"string\"},"
	"\"type\":{\"enum\":[\"local\",\"slurm\"]},"
	"\"mode\":{\"enum\":[\"pool\",\"job\",\"pilot\"]},"
	"\"running\":{\"type\":[\"integer\",\"null\"]},"
	"\"queued\":{\"type\":[\"integer\",\"null\"]},"
	"\"pilots\":{\"type\":[\"integer\",\"null\"]},"
	"\"error\":{\"type\":[\"string\",\"null\"]}}}},"
	"\"running\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"required\":[\"job\",\"partition\",\"task\",\"attempt\","
	"\"worker_pid\",\"started_us\",\"started_local\",\"executor\","
	"\"ext_id\"],"
	"\"additionalProperties\":false,\"properties\":{"
	"\"job\":{\"type\":\"string\"},"
	"\"partition\":{\"type\":\"string\"},"
	"\"task\":{\"type\":\"string\"},"
	"\"attempt\":{\"type\":\"integer\"},"
	"\"worker_pid\":{\"type\":\"integer\"},"
	"\"started_us\":{\"type\":\"integer\"},"
	"\"started_local\":{\"type\":\"string\"},"
	"\"executor\":{\"type\":\"string\"},"
	"\"ext_id\":{\"type\":[\"string\",\"null\"]}}}},"
	READ_SCHEMA_CURSOR "}}";

/*
 * Each executor: the local pool, then those of meshd.conf, with what
 * meshd's health record says of them (null while meshd is down).
 */
static json_t *
read_status_executors(const struct read_ctx *ctx)
{
	json_t		*a = json_array(), *h = NULL, *e;
	json_int_t	 busy = -1;
	size_t		 i, j;

	if (ctx->health != NULL) {
		h = json_object_get(ctx->health, "executors");
		if (json_is_integer(json_object_get(ctx->health,
		    "workers_busy")))
			busy = json_integer_value(json_object_get(ctx->health,
			    "workers_busy"));
	}
	json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:o, s:n, "
	    "s:n}", "name", "local", "type", "local", "mode", "pool",
	    "running", busy >= 0 ? json_integer(busy) : json_null(), "queued",
	    busy >= 0 ? json_integer(0) : json_null(), "pilots", "error"));
	for (i = 0; ctx->cfg != NULL && i < ctx->cfg->nexecutors; i++) {
		const struct executor_def *d = &ctx->cfg->executors[i];
		json_t *hx = NULL, *v;

		json_array_foreach(h, j, e) {
			v = json_object_get(e, "name");
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), d->name) == 0) {
				hx = e;
				break;
			}
		}
#define HX(k) (hx != NULL && json_is_integer(json_object_get(hx, k)) ? \
	json_integer(json_integer_value(json_object_get(hx, k))) : json_null())
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:o, "
		    "s:o, s:o}", "name", d->name, "type", "slurm", "mode",
		    d->mode == XMODE_PILOT ? "pilot" : "job", "running",
		    HX("running"), "queued", HX("queued"), "pilots",
		    d->mode == XMODE_PILOT ? HX("pilots") : json_null(),
		    "error", hx != NULL && json_is_string(json_object_get(hx,
		    "error")) ? json_incref(json_object_get(hx, "error")) :
		    hx != NULL && json_is_false(json_object_get(hx, "agent")) ?
		    json_string("the Slurm agent is not running") :
		    json_null()));
#undef HX
	}
	return a;
}

/* Seconds a process has been running, from /proc; -1 if unknown. */
static long
read_status_uptime(pid_t pid)
{
	char		*path = xasprintf("/proc/%ld/stat", (long)pid), buf[1024];
	char		*p;
	FILE		*f;
	double		 up;
	unsigned long long start = 0;
	int		 i;

	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof buf, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* Field 22 is the start time in clock ticks after boot; the name
	 * in field 2 may hold spaces, so count from its closing paren: the
	 * k-th space after it opens field k + 2. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (i = 3; i <= 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
		return -1;
	if ((f = fopen("/proc/uptime", "r")) == NULL)
		return -1;
	if (fscanf(f, "%lf", &up) != 1)
		up = 0;
	fclose(f);
	return (long)(up - (double)start / (double)sysconf(_SC_CLK_TCK));
}

/*
 * The broken jobs, [{job, running_previous}], and in *njobs how many jobs
 * run: the running meshd's record, or without one the files judged as
 * meshd would judge them now.
 */
static json_t *
read_status_broken(const struct read_ctx *ctx, json_int_t *njobs)
{
	struct jobset	 js;
	struct errlist	 errs = ERRLIST_INIT;
	json_t		*a = json_array(), *b;
	size_t		 i;

	if (ctx->health != NULL && json_is_array(json_object_get(ctx->health,
	    "broken_jobs"))) {
		*njobs = json_integer_value(json_object_get(ctx->health,
		    "jobs"));
		/* A previous version runs, and is counted in "jobs". */
		json_array_foreach(json_object_get(ctx->health, "broken_jobs"),
		    i, b)
			json_array_append_new(a, json_pack("{s:s, s:b}", "job",
			    json_string_value(json_object_get(b, "job")) != NULL
			    ? json_string_value(json_object_get(b, "job")) : "?",
			    "running_previous", json_is_true(json_object_get(b,
			    "running_previous"))));
		return a;
	}
	read_jobs_judged(ctx->cfg, &js, &errs, NULL);
	errlist_free(&errs);
	*njobs = (json_int_t)js.n;
	for (i = 0; i < js.nbroken; i++)
		json_array_append_new(a, json_pack("{s:s, s:b}", "job",
		    js.broken[i].name, "running_previous", 0));
	jobset_free(&js);
	return a;
}

json_t *
read_status(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const char	*cursor_arg = read_arg(args, "cursor");
	const char	*parts[2];
	struct read_cursor cur = { 0 };
	sqlite3_stmt	*stmt = NULL;
	json_t		*doc = NULL, *running, *broken, *next = NULL;
	json_int_t	 njobs = 0;
	char		 t[64], s_us[32], s_id[32], *sql;
	int64_t		 limit, queued = 0, n = 0, last_s = 0, last_id = 0;
	long		 up = -1;
	pid_t		 pid;
	int		 rc;

	if (read_arg_limit(args, &limit, err) != 0)
		return NULL;
	if (cursor_arg != NULL && read_cursor_parse(cursor_arg, 2, &cur,
	    err) != 0)
		return NULL;
	if (read_need_state(ctx, err) != 0 || ctx->cfg == NULL) {
		if (ctx->cfg == NULL)
			read_fail(err, 503, "no configuration");
		goto out;
	}
	pid = state_lock_holder(ctx->cfg->state_db);
	if (pid < 0)
		pid = 0;
	if (pid > 0)
		up = read_status_uptime(pid);
	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT count(*) FROM "
	    "runs WHERE state = 'queued'", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		read_fail_state(err, ctx->st);
		goto out;
	}
	queued = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	/*
	 * attempts has no index on state, so the running attempts are
	 * reached from the runs that are not done (runs_state), then by
	 * the indexes on task_instances(run_id) and attempts(task
	 * instance): the cost follows what is active, not the history.
	 */
	sql = xasprintf("SELECT j.name, r.partition_key, ti.task_id, "
	    "a.try_number, a.worker_pid, a.started_us, a.id, a.executor, "
	    "a.ext_id FROM runs r JOIN "
	    "task_instances ti ON ti.run_id = r.id JOIN attempts a ON "
	    "a.task_instance_id = ti.id JOIN jobs j ON j.id = r.job_id WHERE "
	    "r.state IN ('queued', 'running') AND a.state = 'running'%s "
	    "ORDER BY a.started_us, a.id LIMIT ?1", cursor_arg != NULL ?
	    " AND (a.started_us, a.id) > (?2, ?3)" : "");
	rc = sqlite3_prepare_v2(state_sqlite(ctx->st), sql, -1, &stmt, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		stmt = NULL;
		read_fail_state(err, ctx->st);
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, limit + 1);
	if (cursor_arg != NULL) {
		sqlite3_bind_int64(stmt, 2, cur.i[0]);
		sqlite3_bind_int64(stmt, 3, cur.i[1]);
	}
	running = json_array();
	broken = read_status_broken(ctx, &njobs);
	doc = json_pack("{s:b, s:I, s:o, s:s, s:i, s:I, s:O, s:I, s:I, s:o, "
	    "s:o, s:o}", "up", pid != 0, "pid", (json_int_t)pid, "uptime_s",
	    up >= 0 ? json_integer(up) : json_null(), "version",
	    PACKAGE_VERSION, "workers", ctx->cfg->workers, "queued",
	    (json_int_t)queued, "health", ctx->health != NULL ? ctx->health :
	    json_null(), "jobs", njobs, "broken",
	    (json_int_t)json_array_size(broken), "broken_jobs", broken,
	    "executors", read_status_executors(ctx), "running", running);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t s = sqlite3_column_int64(stmt, 5);

		if (n++ == limit) {
			snprintf(s_us, sizeof s_us, "%lld", (long long)last_s);
			snprintf(s_id, sizeof s_id, "%lld", (long long)last_id);
			parts[0] = s_us;
			parts[1] = s_id;
			next = read_cursor_make(2, parts);
			break;
		}
		json_array_append_new(running, json_pack("{s:s, s:s, s:s, s:i, "
		    "s:i, s:I, s:s, s:s, s:o}", "job", read_col(stmt, 0),
		    "partition",
		    read_col(stmt, 1), "task", read_col(stmt, 2), "attempt",
		    sqlite3_column_int(stmt, 3), "worker_pid",
		    sqlite3_column_int(stmt, 4), "started_us", (json_int_t)s,
		    "started_local", read_time_local(ctx->utc,
		    read_ctx_job(ctx, read_col(stmt, 0)), s,
		    t, sizeof t), "executor", sqlite3_column_type(stmt, 7) ==
		    SQLITE_NULL ? "local" : read_col(stmt, 7), "ext_id",
		    read_col_json(stmt, 8)));
		last_s = s;
		last_id = sqlite3_column_int64(stmt, 6);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(doc);
		doc = read_fail_state(err, ctx->st);
		goto out;
	}
	json_object_set_new(doc, "next_cursor", next != NULL ? next :
	    json_null());
	next = NULL;
out:
	json_decref(next);
	sqlite3_finalize(stmt);
	read_cursor_free(&cur);
	return doc;
}

/*
 * act-clear.c -- clear: reset tasks of finished runs so that they run
 * again (the everyday "rerun from failure").  meshd does the work
 * (meshd-clear.c); this checks everything it can first and records the
 * request.
 *
 * A run's staging (staging_dir/JOB/KEY) holds what each task handed the
 * next; meshd removes it some time after the run ended (staging_retention,
 * quarantine_retention).  Clearing a task whose upstream tasks are kept
 * (they succeeded and are not cleared) once that staging is gone would
 * run it without its input, to fail or, worse, to publish nothing as if
 * it were the data.  Such a clear is refused (400) with what to run
 * instead, rather than widened to the upstream tasks on the quiet: those
 * are often the extracts that read from a source system, and an operator
 * who asked for one check to run again should decide to run them, not
 * find out from the load.  It also keeps one request meaning the same
 * tasks in every partition of a range, some of which may still have their
 * staging.  The check is made here, from the state and the file system as
 * they are when the request is recorded; meshd keeps a queued run's
 * staging from then on.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "act-int.h"
#include "config.h"
#include "dag.h"
#include "job.h"
#include "schedule.h"
#include "state.h"
#include "util.h"

const struct read_param act_clear_params[] = {
	{ "job", "string", 1, "the job" },
	{ "partition", "string", 0, "one partition (or from and to)" },
	{ "from", "string", 0, "first partition of a range" },
	{ "to", "string", 0, "last partition, included" },
	{ "task", "string", 0, "clear only this task (default: every task)" },
	{ "downstream", "boolean", 0, "with task: also every task after it" },
	{ "failed_only", "boolean", 0, "only runs that did not succeed, and "
	    "in them only what did not succeed" },
	{ "dry_run", "boolean", 0, "check and count the runs; write "
	    "nothing" },
	{ NULL, NULL, 0, NULL }
};

#define ACT_CLEAR_FIELDS						\
	"\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},"	\
	"\"task\":{\"type\":[\"string\",\"null\"]},"			\
	"\"downstream\":{\"type\":\"boolean\"},"			\
	"\"failed_only\":{\"type\":\"boolean\"},"			\
	"\"runs\":{\"type\":\"integer\"}"
#define ACT_CLEAR_REQUIRED						\
	"\"from\",\"to\",\"task\",\"downstream\",\"failed_only\",\"runs\""

const char act_clear_schema[] =
	"{\"oneOf\":["
	"{\"type\":\"object\",\"required\":[" ACT_SCHEMA_REQUIRED ","
	ACT_CLEAR_REQUIRED "],\"additionalProperties\":false,"
	"\"properties\":{" ACT_SCHEMA_RECORDED "," ACT_CLEAR_FIELDS "}},"
	"{\"type\":\"object\",\"required\":[\"dry_run\",\"kind\",\"job\","
	ACT_CLEAR_REQUIRED "],\"additionalProperties\":false,"
	"\"properties\":{\"dry_run\":{\"const\":true},"
	"\"kind\":{\"const\":\"clear\"},\"job\":{\"type\":\"string\"},"
	ACT_CLEAR_FIELDS "}}]}";

/* Runs of the job in [from, to]: how many, and how many did not
 * succeed.  0, or -1 with a 503. */
static int
act_clear_count(struct read_ctx *ctx, int64_t job_id, const char *from,
    const char *to, int64_t *n, int64_t *unfinished, struct read_error *err)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*n = *unfinished = 0;
	if (ctx->st == NULL || job_id == 0)
		return 0;
	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT count(*), "
	    "count(*) FILTER (WHERE state <> 'success') FROM runs WHERE "
	    "job_id = ? AND partition_key BETWEEN ? AND ?", -1, &stmt,
	    NULL) != SQLITE_OK) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, job_id);
	sqlite3_bind_text(stmt, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, to, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*n = sqlite3_column_int64(stmt, 0);
		*unfinished = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW) {
		read_fail_state(err, ctx->st);
		return -1;
	}
	return 0;
}

/* Partitions named in full when a clear is refused; the rest counted. */
#define GONE_SHOW	5

struct act_gone {
	size_t	 n;		/* runs refused */
	char	*first;		/* the first one's message */
	char	*keys;		/* up to GONE_SHOW keys, ", " */
};

/*
 * One run of `job` at `key`, whose succeeded tasks are marked in `done`:
 * would the clear (`chosen`, `failed_only`, as meshd-clear.c applies them)
 * run a task again while keeping one upstream of it, and is the staging
 * that held the kept task's output gone?  Such a run is added to `g`.
 * Only a staging that is not there (ENOENT) counts: one this user may not
 * look at is taken as there, and meshd's run then says what it finds.
 */
static void
act_clear_run_check(struct read_ctx *ctx, const struct job_def *job,
    const char *key, const unsigned char *done, const unsigned char *chosen,
    int failed_only, size_t *up, struct act_gone *g)
{
	const size_t	*topo = dag_topo(job->dag), *pred;
	size_t		 n = job->ntasks, i, k, v, np, bad = SIZE_MAX;
	struct stat	 sb;
	char		*path, *t;

	/* up[v]: 1 + a kept task upstream of v, or 0.  Kept: succeeded
	 * and not reset (failed_only resets nothing that succeeded). */
	for (i = 0; i < n && bad == SIZE_MAX; i++) {
		v = topo[i];
		up[v] = 0;
		pred = dag_pred(job->dag, v);
		np = dag_npred(job->dag, v);
		for (k = 0; k < np && up[v] == 0; k++) {
			if (done[pred[k]] && (!chosen[pred[k]] || failed_only))
				up[v] = pred[k] + 1;
			else if (up[pred[k]] != 0)
				up[v] = up[pred[k]];
		}
		if (up[v] != 0 && !(done[v] && (!chosen[v] || failed_only)))
			bad = v;
	}
	if (bad == SIZE_MAX)
		return;
	path = xasprintf("%s/%s/%s", ctx->cfg->staging_dir, job->name, key);
	if (stat(path, &sb) == 0 || errno != ENOENT) {
		free(path);
		return;
	}
	if (g->n == 0)
		g->first = xasprintf("job %s partition %s: its staging %s is "
		    "gone (removed after its retention), and task %s would "
		    "run again without the output of task %s, which would "
		    "not", job->name, key, path, job->tasks[bad].id,
		    job->tasks[up[bad] - 1].id);
	free(path);
	if (g->n < GONE_SHOW) {
		t = xasprintf("%s%s%s", g->keys != NULL ? g->keys : "",
		    g->keys != NULL ? ", " : "", key);
		free(g->keys);
		g->keys = t;
	}
	g->n++;
}

/*
 * Refuse a clear that would run tasks of a run whose staging is gone
 * without the tasks upstream of them (see the top of this file).  0, or
 * -1 with a 400 of three lines (meshctl prints each as its own), or 503.
 */
static int
act_clear_staging(struct read_ctx *ctx, const struct job_def *job,
    int64_t job_id, const char *from, const char *to,
    const unsigned char *chosen, int failed_only, struct read_error *err)
{
	sqlite3_stmt	*stmt = NULL;
	struct act_gone	 g;
	unsigned char	*done;
	size_t		*up, n = job->ntasks == 0 ? 1 : job->ntasks, i;
	char		*key = NULL, *roots = NULL, *t, more[128];
	const char	*k, *task;
	int		 idx, rc = 0, step;

	if (ctx->st == NULL || job_id == 0)
		return 0;
	memset(&g, 0, sizeof g);
	done = xcalloc(n, 1);
	up = xcalloc(n, sizeof *up);
	/* The runs meshd would clear: finished ones (with failed_only, not
	 * succeeded ones), each with its tasks' states. */
	if (sqlite3_prepare_v2(state_sqlite(ctx->st), "SELECT "
	    "r.partition_key, ti.task_id, ti.state IN ('success', 'skipped') "
	    "FROM runs r LEFT JOIN task_instances ti ON ti.run_id = r.id "
	    "WHERE r.job_id = ?1 AND r.partition_key BETWEEN ?2 AND ?3 AND "
	    "r.state NOT IN ('queued', 'running') AND (?4 = 0 OR r.state <> "
	    "'success') ORDER BY r.partition_key", -1, &stmt, NULL) !=
	    SQLITE_OK) {
		read_fail_state(err, ctx->st);
		rc = -1;
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, job_id);
	sqlite3_bind_text(stmt, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 4, failed_only);
	for (;;) {
		step = sqlite3_step(stmt);
		if (step != SQLITE_ROW && step != SQLITE_DONE) {
			read_fail_state(err, ctx->st);
			rc = -1;
			goto out;
		}
		k = step == SQLITE_ROW ? (const char *)sqlite3_column_text(
		    stmt, 0) : NULL;
		if (key != NULL && (k == NULL || strcmp(k, key) != 0)) {
			act_clear_run_check(ctx, job, key, done, chosen,
			    failed_only, up, &g);
			memset(done, 0, n);
			free(key);
			key = NULL;
		}
		if (k == NULL)
			break;
		if (key == NULL)
			key = xstrdup(k);
		/* A task of the job with no row yet runs: not done. */
		if ((task = (const char *)sqlite3_column_text(stmt, 1)) !=
		    NULL && (idx = job_task_index(job, task)) >= 0)
			done[idx] = sqlite3_column_int(stmt, 2) != 0;
	}
	if (g.n == 0)
		goto out;
	for (i = 0; i < job->ntasks; i++) {
		if (dag_npred(job->dag, i) != 0)
			continue;
		t = xasprintf("%s%s%s", roots != NULL ? roots : "",
		    roots != NULL ? ", " : "", job->tasks[i].id);
		free(roots);
		roots = t;
	}
	more[0] = '\0';
	if (g.n > 1)
		snprintf(more, sizeof more, "\n%zu partitions are in that "
		    "case: %s%s", g.n, g.keys, g.n > GONE_SHOW ? ", ..." : "");
	read_fail(err, 400, "%s%s\nnot cleared: run the upstream tasks again "
	    "too: clear the whole run (without --task%s), or from a root task "
	    "with --task ROOT --downstream (roots: %s)", g.first, more,
	    failed_only ? " and --failed-only" : "", roots != NULL ? roots :
	    "none");
	rc = -1;
out:
	sqlite3_finalize(stmt);
	free(key);
	free(g.first);
	free(g.keys);
	free(roots);
	free(done);
	free(up);
	return rc;
}

json_t *
act_clear(struct read_ctx *ctx, const struct read_args *args,
    struct read_error *err)
{
	const struct job_def *job;
	const char	*part = read_arg(args, "partition");
	const char	*from = read_arg(args, "from"), *to = read_arg(args,
			    "to"), *task = read_arg(args, "task");
	const char	*which = NULL;
	char		*fkey = NULL, *tkey = NULL, *cause = NULL, *rargs = NULL;
	char		*names;
	unsigned char	*chosen = NULL;
	int64_t		 fs, fe, ts, te, job_id = 0, nruns, unfinished;
	size_t		 i, len;
	int		 downstream, failed_only, dry, ti;
	json_t		*a, *doc = NULL;

	if (act_bool(args, "downstream", &downstream, err) != 0 ||
	    act_bool(args, "failed_only", &failed_only, err) != 0 ||
	    act_bool(args, "dry_run", &dry, err) != 0)
		return NULL;
	if ((part != NULL) == (from != NULL || to != NULL) ||
	    (part == NULL && (from == NULL || to == NULL)))
		return read_fail(err, 400, "give either --partition KEY or "
		    "both --from and --to");
	if (downstream && task == NULL)
		return read_fail(err, 400, "--downstream needs --task");
	if (part != NULL)
		from = to = part;
	if ((job = act_job(ctx, read_arg(args, "job"), err)) == NULL)
		return NULL;
	if (task != NULL && job_task_index(job, task) < 0) {
		len = 1;
		for (i = 0; i < job->ntasks; i++)
			len += strlen(job->tasks[i].id) + 2;
		names = xcalloc(1, len);
		for (i = 0; i < job->ntasks; i++) {
			if (i > 0)
				strcat(names, ", ");
			strcat(names, job->tasks[i].id);
		}
		read_fail(err, 404, "job %s has no task '%s' (tasks: %s)",
		    job->name, task, names);
		free(names);
		return NULL;
	}
	if (job_parse_key(job, from, &fs, &fe, &fkey, &cause) != 0 ||
	    job_parse_key(job, to, &ts, &te, &tkey, &cause) != 0) {
		read_fail(err, 400, "%s%s", part != NULL ? "" : fkey == NULL ?
		    "--from: " : "--to: ", cause);
		goto out;
	}
	/* The job's start and end hold for a clear as for a trigger (the same
	 * check, schedule.c); a range partly outside is refused whole.  meshd
	 * checks again when it acts. */
	if (job_check_bounds(job, fs, fkey, &cause) != 0)
		which = part != NULL ? "" : "--from: ";
	else if (job_check_bounds(job, ts, tkey, &cause) != 0)
		which = "--to: ";
	if (which != NULL) {
		read_fail(err, 400, "%s%s; nothing was written", which, cause);
		goto out;
	}
	if (fs > ts || (fs == ts && strcmp(fkey, tkey) > 0)) {
		read_fail(err, 400, "the range is the wrong way round: --from "
		    "%s is after --to %s", fkey, tkey);
		goto out;
	}
	if (ctx->st != NULL && state_job_find(ctx->st, job->name, &job_id,
	    &cause) != 0) {
		/* A job that never ran has no runs to clear. */
		free(cause);
		cause = NULL;
		job_id = 0;
	}
	if (act_clear_count(ctx, job_id, fkey, tkey, &nruns, &unfinished,
	    err) != 0)
		goto out;
	if (nruns == 0) {
		if (part != NULL)
			read_fail(err, 404, "job '%s' has no run for partition "
			    "'%s' (see 'meshctl runs %s')", job->name, fkey,
			    job->name);
		else
			read_fail(err, 404, "job '%s' has no runs from %s to %s "
			    "(see 'meshctl runs %s')", job->name, fkey, tkey,
			    job->name);
		goto out;
	}
	if (failed_only && unfinished == 0) {
		read_fail(err, 409, "nothing to clear: every run of %s from %s "
		    "to %s succeeded", job->name, fkey, tkey);
		goto out;
	}
	/* The tasks reset, as meshd-clear.c chooses them. */
	chosen = xcalloc(job->ntasks == 0 ? 1 : job->ntasks, 1);
	if (task == NULL)
		memset(chosen, 1, job->ntasks);
	else {
		ti = job_task_index(job, task);
		if (downstream)
			dag_descendants(job->dag, (size_t)ti, chosen);
		chosen[ti] = 1;
	}
	if (act_clear_staging(ctx, job, job_id, fkey, tkey, chosen,
	    failed_only, err) != 0)
		goto out;
	if (dry) {
		doc = json_pack("{s:b, s:s, s:s}", "dry_run", 1, "kind",
		    "clear", "job", job->name);
	} else {
		a = json_pack("{s:s, s:s, s:s?, s:b, s:b}", "from", fkey, "to",
		    tkey, "task", task, "downstream", downstream,
		    "failed_only", failed_only);
		rargs = json_dumps(a, JSON_COMPACT);
		json_decref(a);
		if ((doc = act_record(ctx, "clear", job->name, strcmp(fkey,
		    tkey) == 0 ? fkey : NULL, rargs, err)) == NULL)
			goto out;
	}
	json_object_set_new(doc, "from", json_string(fkey));
	json_object_set_new(doc, "to", json_string(tkey));
	json_object_set_new(doc, "task", task != NULL ? json_string(task) :
	    json_null());
	json_object_set_new(doc, "downstream", json_boolean(downstream));
	json_object_set_new(doc, "failed_only", json_boolean(failed_only));
	json_object_set_new(doc, "runs", json_integer(failed_only ?
	    unfinished : nruns));
	if (!dry)
		act_told(ctx, doc);
out:
	free(chosen);
	free(fkey);
	free(tkey);
	free(cause);
	free(rargs);
	return doc;
}

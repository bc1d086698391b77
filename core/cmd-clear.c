/*
 * cmd-clear.c -- meshctl clear: reset tasks of finished runs so that they
 * run again (the everyday "rerun from failure").  meshd does the work
 * (meshd-clear.c); this checks everything it can first and records the
 * request.
 *
 * A run's staging (staging_dir/JOB/KEY) holds what each task handed the
 * next; meshd removes it some time after the run ended (staging_retention,
 * quarantine_retention).  Clearing a task whose upstream tasks are kept
 * (they succeeded and are not cleared) once that staging is gone would
 * run it without its input, to fail or, worse, to publish nothing as if
 * it were the data.  Such a clear is refused (exit 2) with what to run
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
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "dag.h"
#include "meshctl.h"
#include "schedule.h"

static int	cmd_clear_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_clear_entry = {
	.name = "clear",
	.args = "JOB --partition KEY | --from KEY --to KEY [options]",
	.summary = "reset tasks of finished runs so they run again (durable)",
	.help =
	"Each finished run of JOB in the range is queued again and resumed:\n"
	"the cleared tasks run again, and so does every task that did not\n"
	"succeed; tasks that succeeded and were not cleared are kept.  Runs\n"
	"that are queued or running are left alone.  Try numbers go on from\n"
	"the earlier attempts.\n"
	"\n"
	"A run's staging, where its tasks hand each other their output, is\n"
	"removed after staging_retention (quarantine_retention for a failed\n"
	"run).  Once it is gone, a clear that would run a task again but keep\n"
	"a task upstream of it is refused, naming the partitions: clear the\n"
	"whole run (no --task, no --failed-only) or from a root task with\n"
	"--task ROOT --downstream.\n"
	"\n"
	"  -p, --partition KEY  one partition\n"
	"  -f, --from KEY       first partition of a range\n"
	"  -t, --to KEY         last partition, included\n"
	"  -T, --task T         clear only task T (default: every task)\n"
	"  -d, --downstream     with --task: also every task after T\n"
	"  -F, --failed-only    only runs that did not succeed, and in them\n"
	"                       nothing that succeeded: just the failed tasks\n"
	"                       and those they held up run again\n"
	"      --json           {request, job, from, to}\n"
	"\n"
	"A key outside the job's start and end is refused (the range whole),\n"
	"naming the bound and the nearest valid key.\n"
	"\n"
	"Exit status: 0 recorded; 1 nothing failed (--failed-only); 2 unknown\n"
	"job, task or partition, a key outside the job's start and end, no\n"
	"run in the range, a bad range, or tasks\n"
	"whose input staging is gone; 3 the state cannot be written.\n",
	.exec = cmd_clear_exec,
};

/* Runs of the job in [from, to]: how many, and how many did not
 * succeed. */
static int
count_runs(struct ctl *ctl, const char *job, const char *from,
    const char *to, long *n, long *unfinished)
{
	struct state	*st;
	sqlite3_stmt	*stmt;
	int64_t		 job_id;

	*n = *unfinished = 0;
	if (access(ctl->cfg->state_db, F_OK) != 0)
		return CTL_EXIT_OK;
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	if (ctl_state_job(ctl, st, job, &job_id) != 0) {
		state_close(st);
		return CTL_EXIT_USAGE;
	}
	if (job_id != 0 && sqlite3_prepare_v2(state_sqlite(st), "SELECT "
	    "count(*), count(*) FILTER (WHERE state <> 'success') FROM runs "
	    "WHERE job_id = ? AND partition_key BETWEEN ? AND ?", -1, &stmt,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, job_id);
		sqlite3_bind_text(stmt, 2, from, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, to, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			*n = sqlite3_column_int(stmt, 0);
			*unfinished = sqlite3_column_int(stmt, 1);
		}
		sqlite3_finalize(stmt);
	}
	state_close(st);
	return CTL_EXIT_OK;
}

/* Partitions named in full when a clear is refused; the rest counted. */
#define GONE_SHOW	5

struct gone {
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
clear_run_check(struct ctl *ctl, const struct job_def *job, const char *key,
    const unsigned char *done, const unsigned char *chosen, int failed_only,
    size_t *up, struct gone *g)
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
	path = xasprintf("%s/%s/%s", ctl->cfg->staging_dir, job->name, key);
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
 * without the tasks upstream of them (see the top of this file).
 * CTL_EXIT_OK, or after saying why CTL_EXIT_USAGE (or CTL_EXIT_STATE).
 */
static int
clear_check_staging(struct ctl *ctl, const struct job_def *job,
    const char *from, const char *to, const unsigned char *chosen,
    int failed_only)
{
	struct state	*st;
	sqlite3_stmt	*stmt = NULL;
	struct gone	 g;
	unsigned char	*done;
	size_t		*up, n = job->ntasks == 0 ? 1 : job->ntasks, i;
	char		*key = NULL, *roots = NULL, *t;
	const char	*k, *task;
	int64_t		 job_id;
	int		 idx, rc = CTL_EXIT_OK;

	if (access(ctl->cfg->state_db, F_OK) != 0)
		return CTL_EXIT_OK;
	if ((st = ctl_state(ctl, STATE_RDONLY)) == NULL)
		return CTL_EXIT_STATE;
	memset(&g, 0, sizeof g);
	done = xcalloc(n, 1);
	up = xcalloc(n, sizeof *up);
	/* The runs meshd would clear: finished ones (with failed_only, not
	 * succeeded ones), each with its tasks' states. */
	if (ctl_state_job(ctl, st, job->name, &job_id) != 0 || job_id == 0 ||
	    sqlite3_prepare_v2(state_sqlite(st), "SELECT r.partition_key, "
	    "ti.task_id, ti.state IN ('success', 'skipped') FROM runs r LEFT "
	    "JOIN task_instances ti ON ti.run_id = r.id WHERE r.job_id = ?1 "
	    "AND r.partition_key BETWEEN ?2 AND ?3 AND r.state NOT IN "
	    "('queued', 'running') AND (?4 = 0 OR r.state <> 'success') "
	    "ORDER BY r.partition_key", -1, &stmt, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(stmt, 1, job_id);
	sqlite3_bind_text(stmt, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 4, failed_only);
	for (;;) {
		int row = sqlite3_step(stmt) == SQLITE_ROW;

		k = row ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
		if (key != NULL && (k == NULL || strcmp(k, key) != 0)) {
			clear_run_check(ctl, job, key, done, chosen,
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
	ctl_error("%s", g.first);
	if (g.n > 1)
		ctl_error("%zu partitions are in that case: %s%s", g.n,
		    g.keys, g.n > GONE_SHOW ? ", ..." : "");
	for (i = 0; i < job->ntasks; i++) {
		if (dag_npred(job->dag, i) != 0)
			continue;
		t = xasprintf("%s%s%s", roots != NULL ? roots : "",
		    roots != NULL ? ", " : "", job->tasks[i].id);
		free(roots);
		roots = t;
	}
	ctl_error("not cleared: run the upstream tasks again too: clear the "
	    "whole run (without --task%s), or from a root task with --task "
	    "ROOT --downstream (roots: %s)", failed_only ?
	    " and --failed-only" : "", roots != NULL ? roots : "none");
	rc = CTL_EXIT_USAGE;
out:
	sqlite3_finalize(stmt);
	state_close(st);
	free(key);
	free(g.first);
	free(g.keys);
	free(roots);
	free(done);
	free(up);
	return rc;
}

static int
cmd_clear_exec(struct ctl *ctl, int argc, char **argv)
{
	struct jobset	 js;
	struct job_def	*job;
	const char	*part = NULL, *from = NULL, *to = NULL, *task = NULL;
	const char	*which = NULL;
	char		*fkey = NULL, *tkey = NULL, *cause = NULL, *args = NULL;
	unsigned char	*chosen = NULL;
	int64_t		 fs, fe, ts, te, id;
	long		 nruns, unfinished;
	size_t		 i;
	int		 c, rc = CTL_EXIT_OK, downstream = 0, failed_only = 0;
	int		 json = 0, ti;
	json_t		*a;
	pid_t		 pid;
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "task", required_argument, NULL, 'T' },
		{ "downstream", no_argument, NULL, 'd' },
		{ "failed-only", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "p:f:t:T:dFh", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'p':
			part = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'T':
			task = optarg;
			break;
		case 'd':
			downstream = 1;
			break;
		case 'F':
			failed_only = 1;
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
	if ((part != NULL) == (from != NULL || to != NULL) ||
	    (part == NULL && (from == NULL || to == NULL))) {
		ctl_error("give either --partition KEY or both --from and --to");
		return ctl_usage(ctl);
	}
	if (downstream && task == NULL) {
		ctl_error("--downstream needs --task");
		return ctl_usage(ctl);
	}
	if (part != NULL)
		from = to = part;
	memset(&js, 0, sizeof js);
	if ((job = ctl_load_job(ctl, &js, argv[optind])) == NULL) {
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (task != NULL && job_task_index(job, task) < 0) {
		size_t len = 1;
		char *names;

		for (i = 0; i < job->ntasks; i++)
			len += strlen(job->tasks[i].id) + 2;
		names = xcalloc(1, len);
		for (i = 0; i < job->ntasks; i++) {
			if (i > 0)
				strcat(names, ", ");
			strcat(names, job->tasks[i].id);
		}
		ctl_error("job %s has no task '%s' (tasks: %s)", job->name, task,
		    names);
		free(names);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (job_parse_key(job, from, &fs, &fe, &fkey, &cause) != 0 ||
	    job_parse_key(job, to, &ts, &te, &tkey, &cause) != 0) {
		ctl_error("%s%s", part != NULL ? "" : fkey == NULL ? "--from: " :
		    "--to: ", cause);
		rc = CTL_EXIT_USAGE;
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
		ctl_error("%s%s; nothing was written", which, cause);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (fs > ts || (fs == ts && strcmp(fkey, tkey) > 0)) {
		ctl_error("the range is the wrong way round: --from %s is after "
		    "--to %s", fkey, tkey);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if ((rc = count_runs(ctl, job->name, fkey, tkey, &nruns,
	    &unfinished)) != CTL_EXIT_OK)
		goto out;
	if (nruns == 0) {
		if (part != NULL)
			ctl_error("job '%s' has no run for partition '%s' (see "
			    "'meshctl runs %s')", job->name, fkey, job->name);
		else
			ctl_error("job '%s' has no runs from %s to %s (see "
			    "'meshctl runs %s')", job->name, fkey, tkey,
			    job->name);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (failed_only && unfinished == 0) {
		ctl_error("nothing to clear: every run of %s from %s to %s "
		    "succeeded", job->name, fkey, tkey);
		rc = CTL_EXIT_FAILED;
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
	if ((rc = clear_check_staging(ctl, job, fkey, tkey, chosen,
	    failed_only)) != CTL_EXIT_OK)
		goto out;
	a = json_pack("{s:s, s:s, s:s?, s:b, s:b}", "from", fkey, "to", tkey,
	    "task", task, "downstream", downstream, "failed_only",
	    failed_only);
	args = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if ((rc = ctl_request(ctl, "clear", job->name, strcmp(fkey, tkey) ==
	    0 ? fkey : NULL, args, &id, &pid)) != CTL_EXIT_OK)
		goto out;
	if (json)
		ctl_json_out(json_pack("{s:I, s:s, s:s, s:s, s:I}", "request",
		    (json_int_t)id, "job", job->name, "from", fkey, "to", tkey,
		    "daemon_pid", (json_int_t)pid));
	else
		printf("request %lld: clear %s %s%s%s (%ld run%s%s%s%s): %s\n",
		    (long long)id, job->name, fkey, strcmp(fkey, tkey) != 0 ?
		    ".." : "", strcmp(fkey, tkey) != 0 ? tkey : "",
		    failed_only ? unfinished : nruns, (failed_only ?
		    unfinished : nruns) == 1 ? "" : "s", failed_only ?
		    ", failed tasks only" : "", task != NULL ? ", task " : "",
		    task != NULL ? task : "", ctl_request_fate(pid));
out:
	free(chosen);
	free(fkey);
	free(tkey);
	free(cause);
	free(args);
	jobset_free(&js);
	return rc;
}

/*
 * engine.c -- many runs at once on one worker pool: DAG + executor + state.
 * This file launches tasks and applies their results; engine-run.c opens
 * and closes the runs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "alert.h"
#include "dag.h"
#include "engine-int.h"
#include "lineage.h"
#include "loader.h"
#include "util.h"

void
ptr_push(void *arrp, size_t *n, size_t *cap, void *p)
{
	void	***arr = arrp;

	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*arr = xreallocarray(*arr, *cap, sizeof **arr);
	}
	(*arr)[(*n)++] = p;
}

void
ptr_remove(void **arr, size_t *n, void *p)
{
	size_t	i;

	for (i = 0; i < *n; i++) {
		if (arr[i] == p) {
			arr[i] = arr[--(*n)];
			return;
		}
	}
}

struct engine *
engine_new(const struct meshd_config *cfg, struct state *st,
    struct executor *ex, const struct run_observer *obs)
{
	struct engine	*e = xcalloc(1, sizeof *e);

	e->cfg = cfg;
	e->st = st;
	e->ex = ex;
	e->obs = obs;
	e->pool_used = xcalloc(cfg->npools == 0 ? 1 : cfg->npools,
	    sizeof *e->pool_used);
	e->rng = (uint64_t)now_us() ^ ((uint64_t)getpid() << 32) ^
	    0x9e3779b97f4a7c15ULL;
	return e;
}

/* A number in [0, 1) for retry jitter (xorshift64*; not for secrets). */
static double
engine_random(struct engine *e)
{
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return (double)((e->rng * 0x2545f4914f6cdd1dULL) >> 11) /
	    (double)(1ULL << 53);
}

char *
run_path(const char *base, const struct erun *r, const char *fmt, ...)
{
	va_list	 ap;
	char	*tail, *p;

	va_start(ap, fmt);
	tail = xvasprintf(fmt, ap);
	va_end(ap);
	p = xasprintf("%s/%s/%s%s", base, r->job->name, r->key, tail);
	free(tail);
	return p;
}

int
run_param_parse(const struct param *decl, const char *key, const char *value,
    struct param *out, char **cause)
{
	enum param_type	t = decl == NULL ? PARAM_STRING : decl->type;

	if (param_from_string(t, key, value, out) == 0)
		return 0;
	set_cause(cause, "run parameter %s=%s: the job file makes '%s' %s, "
	    "and '%s' is not one", key, value, key, param_type_phrase(t),
	    value);
	return -1;
}

/* The params of `t` with its run's parameters on top, into the empty
 * *ps.  0, or -1 with cause (and *ps empty). */
static int
task_params(const struct rtask *t, struct paramset *ps, char **cause)
{
	const struct paramset	*over = &t->run->over;
	struct param		 p;
	size_t			 i;

	for (i = 0; i < t->def->params.n; i++)
		paramset_set(ps, &t->def->params.v[i]);
	for (i = 0; i < over->n; i++) {
		if (run_param_parse(paramset_get(&t->def->params,
		    over->v[i].key), over->v[i].key, over->v[i].s, &p,
		    cause) != 0) {
			paramset_free(ps);
			return -1;
		}
		paramset_set(ps, &p);
	}
	return 0;
}

/*
 * Write the worker pids of attempts started since the last transaction.
 * They ride along with the next group commit instead of costing one of
 * their own: a pid is bookkeeping for operators, and a crash before it is
 * written loses nothing that recovery needs.
 */
static int
engine_flush_pids(struct engine *e, char **cause)
{
	size_t	i;

	for (i = 0; i < e->nbusy; i++) {
		struct rtask *t = e->busy[i];

		if (!t->pid_unsaved)
			continue;
		if (state_attempt_set_pid(e->st, t->attempt_id, (int)t->pid,
		    cause) != 0)
			return -1;
		t->pid_unsaved = 0;
	}
	/* And the Slurm job ids and states learnt since. */
	return engine_flush_updates(e, cause);
}

/* Submit one recorded attempt to a worker; `params` are the task's with
 * the run's parameters applied (NULL: the task's own). */
static void engine_hold(struct engine *, struct task_result *);

static int
task_submit(struct rtask *t, const char *log, const struct paramset *params,
    char **cause)
{
	struct erun	*r = t->run;
	struct engine	*e = r->e;
	struct task_req	 req;
	char		*staging, *adir, *why = NULL;
	pid_t		 pid;

	(void)cause;
	staging = run_path(e->cfg->staging_dir, r, "%s", "");
	adir = run_path(e->cfg->staging_dir, r, ".attempts/%s.%d",
	    t->def->id, t->tries);
	memset(&req, 0, sizeof req);
	req.attempt_id = t->attempt_id;
	req.job = r->job->name;
	req.task_id = t->def->id;
	req.plugin_path = t->def->plugin_path;
	req.stage = t->def->stage;
	req.attempt = t->tries;
	req.partition_key = r->key;
	req.interval_start_us = r->istart;
	req.interval_end_us = r->iend;
	req.staging_dir = staging;
	req.attempt_dir = adir;
	req.log_path = log;
	req.product = t->product;
	req.location = t->product != NULL ?
	    job_product_location(r->job, t->product) : NULL;
	req.params = params != NULL ? params : &t->def->params;
	req.timeout_us = t->def->timeout_us;
	if (task_executor(e, t) != 0) {
		/* A remote attempt: its failures come back as results. */
		task_remote_submit(e, t, &req);
		pid = 0;
	} else
		pid = executor_submit(e->ex, &req, &why);
	free(adir);
	free(staging);
	if (pid == -1) {
		/* No worker took it (none could be started): the attempt,
		 * already recorded, ends as a fault of meshd's, not of the
		 * task, through the results like any other. */
		struct task_result *res = xcalloc(1, sizeof *res);

		res->attempt_id = t->attempt_id;
		res->status = MESHD_FAILED;
		res->retryable = 1;
		res->infra = 1;
		res->reason = xasprintf("cannot hand the task to a worker: %s",
		    why != NULL ? why : "unknown error");
		res->started_us = res->ended_us = now_us();
		engine_hold(e, res);
		free(why);
		pid = 0;
	}
	/* 0: waiting in the executor for a worker; its result says which. */
	t->pid = pid;
	t->pid_unsaved = pid > 0;
	t->running = 1;
	t->attempt_start = mono_us();
	r->running++;
	r->reserved--;
	ptr_push(&e->busy, &e->nbusy, &e->busy_cap, t);
	return 0;
}

/*
 * lineage: the OpenLineage event of t's current attempt, in the open
 * transaction that records the change it reports (after the attempt row,
 * its checks and its product partition, which the event reads).
 */
static int
task_lineage(struct engine *e, struct rtask *t, enum lineage_event_type type,
    const char *why, char **cause)
{
	struct lineage_attempt	a;

	memset(&a, 0, sizeof a);
	a.type = type;
	a.attempt_id = t->attempt_id;
	a.run_id = t->run->run_id;
	a.job = t->run->job->name;
	a.task_id = t->def->id;
	a.stage = stage_name(t->def->stage);
	a.partition_key = t->run->key;
	a.product = t->product;
	a.try_number = t->tries;
	a.when_us = now_us();
	a.error = why;
	a.inputs = &t->run->lin_inputs;
	return lineage_emit(e->st, e->cfg, &a, cause);
}

/* Tasks of `job` running or about to be, across its active runs. */
static size_t
job_load(const struct engine *e, const struct job_def *job)
{
	size_t	i, n = 0;

	for (i = 0; i < e->nruns; i++)
		if (e->runs[i]->job == job)
			n += e->runs[i]->running + e->runs[i]->reserved;
	return n;
}

/* May this ready task start now, given its pool and its job's limit? */
static int
task_allowed(const struct engine *e, const struct rtask *t)
{
	const struct job_def	*job = t->run->job;
	int			 p = t->def->pool_index;

	if (job->max_active_tasks > 0 &&
	    job_load(e, job) >= (size_t)job->max_active_tasks)
		return 0;
	if (p >= 0 && (size_t)p < e->cfg->npools &&
	    e->pool_used[p] >= e->cfg->pools[p].slots)
		return 0;
	/* Its executor has room in this pass (engine_room()). */
	if (e->room != NULL && e->room[task_executor(e, t)] <= 0)
		return 0;
	return 1;
}

/* The next task of `r` that may start now: a deferred one first, then
 * the ready queue, deferring those held back by a limit. */
static struct rtask *
run_next_task(struct engine *e, struct erun *r)
{
	struct rtask	*t;
	size_t		 i, idx;

	for (i = 0; i < r->ndeferred; i++) {
		if (task_allowed(e, r->deferred[i])) {
			t = r->deferred[i];
			r->deferred[i] = r->deferred[--r->ndeferred];
			return t;
		}
	}
	while (dag_ready_next(r->ready, &idx)) {
		t = &r->t[idx];
		if (task_allowed(e, t))
			return t;
		ptr_push(&r->deferred, &r->ndeferred, &r->deferred_cap, t);
	}
	return NULL;
}

/* Take one task from the next run of a class, round robin. */
static struct rtask *
engine_pick(struct engine *e, int backfill)
{
	struct rtask	*t;
	size_t		 k, nr = e->nruns;

	for (k = 0; k < nr; k++) {
		struct erun *r = e->runs[(e->rr + k) % nr];

		if (r->cancelled || r->backfill != backfill)
			continue;
		if ((t = run_next_task(e, r)) != NULL) {
			e->rr = (e->rr + k + 1) % nr;
			return t;
		}
	}
	return NULL;
}

/* After `t` failed for good: record the tasks after it as blocked, in
 * the open transaction. */
static int
run_block_after(struct engine *e, struct rtask *t, int64_t now, char **cause)
{
	struct erun	*r = t->run;
	size_t		 i, nblocked;
	int		 cancelled = r->cancelled && !r->timed_out;

	/* Room for the descendants a failure blocks, kept between passes
	 * and grown only for a larger run: zeroing a buffer the size of the
	 * run on every failure would cost as much as the pass itself on a
	 * 10,000-task run. */
	if (r->n > e->blocked_cap) {
		e->blocked_cap = r->n;
		e->blocked = xreallocarray(e->blocked, r->n,
		    sizeof *e->blocked);
	}
	nblocked = dag_ready_fail(r->ready, t->index, e->blocked);
	for (i = 0; i < nblocked; i++) {
		struct rtask	*d = &r->t[e->blocked[i]];

		d->state = cancelled ? "cancelled" : "upstream_failed";
		free(d->reason);
		d->reason = xasprintf("upstream task '%s' %s", t->def->id,
		    cancelled ? "was cancelled" : "failed");
		if (state_ti_set(e->st, d->ti_id, d->state, d->tries,
		    d->reason, 0, now, cause) != 0)
			return -1;
	}
	return 0;
}

/* Tasks picked to start: recorded in a transaction, submitted after it
 * commits.  Tasks whose run parameters do not parse fail at once, in
 * the same transaction. */
struct launch {
	struct rtask	*batch[256];
	char		*logs[256];
	struct paramset	 params[256];	/* with run parameters, if any */
	size_t		 nb;
	struct rtask	*failed[256];
	size_t		 nf;
};

/*
 * Record, in the open transaction, an attempt of `t` that fails before it
 * starts because of `why` (taken), and block the tasks after it as any
 * failure does.
 */
static int
task_fail_early(struct engine *e, struct rtask *t, char *why, int64_t now,
    char **cause)
{
	t->tries++;
	t->duration = 0;
	free(t->reason);
	t->reason = why;
	t->state = "failed";
	if (state_attempt_start(e->st, t->ti_id, t->tries, now, NULL,
	    &t->attempt_id, cause) != 0 ||
	    task_lineage(e, t, LINEAGE_START, NULL, cause) != 0 ||
	    state_attempt_finish(e->st, t->attempt_id, "failed", now, why,
	    NULL, cause) != 0 ||
	    state_ti_set(e->st, t->ti_id, "failed", t->tries, why, now, now,
	    cause) != 0 ||
	    task_lineage(e, t, LINEAGE_FAIL, why, cause) != 0)
		return -1;
	t->attempt_id = 0;
	return run_block_after(e, t, now, cause);
}

/* May anything be launched now?  Not while the daemon pauses it, a
 * commit waits for the disk, or a fault in meshd's own directories is
 * backing off. */
static int
engine_may_launch(const struct engine *e)
{
	return !e->paused && !state_pending(e->st) && e->later == NULL &&
	    (e->infra_until == 0 || mono_us() >= e->infra_until);
}

/*
 * Write-audit-publish, enforced where tasks start whatever the DAG says:
 * a publish task runs only after every check task of its run succeeded
 * (a failed error-level check fails its check attempt).  The job loader
 * orders checks before publishes; this is the engine's own guard, so
 * that no job file, reload or bug can publish unaudited data.  NULL, or
 * why the publish may not run (new string).
 */
static char *
task_gate(const struct rtask *t)
{
	const struct erun	*r = t->run;
	size_t			 i;

	if (t->def->stage != MESHD_STAGE_PUBLISH)
		return NULL;
	for (i = 0; i < r->n; i++) {
		const struct rtask *c = &r->t[i];

		if (c->def->stage == MESHD_STAGE_CHECK &&
		    strcmp(c->state, "success") != 0)
			return xasprintf("write-audit-publish: check task '%s' "
			    "has not passed (%s)", c->def->id, c->state);
	}
	return NULL;
}

/*
 * Pick every ready task there is a worker for, taking one task from each
 * active run in turn so that no run starves the others, and record their
 * attempts in the open transaction.  Scheduled and manual runs come
 * first, but every fourth worker goes to a backfill when one is waiting,
 * so that neither class starves the other.
 */
static int
launch_record(struct engine *e, struct launch *l, char **cause)
{
	size_t	 i;
	int	 idle, pref;
	int64_t	 now = now_us();

	l->nb = l->nf = 0;
	if (e->cancelled || e->draining || e->stopping || e->nruns == 0 ||
	    !engine_may_launch(e))
		return 0;
	idle = engine_room(e);
	while (idle > 0 && l->nb < nitems(l->batch) &&
	    l->nf < nitems(l->failed)) {
		struct rtask	*t;
		char		*why = NULL;

		/* Counted across passes: a pool of two workers launches
		 * two tasks at a time. */
		pref = (e->nlaunched % 4 == 3);
		if ((t = engine_pick(e, pref)) == NULL &&
		    (t = engine_pick(e, !pref)) == NULL)
			break;
		memset(&l->params[l->nb], 0, sizeof l->params[l->nb]);
		if ((why = task_gate(t)) != NULL) {
			l->failed[l->nf++] = t;
			if (task_fail_early(e, t, why, now, cause) != 0)
				return -1;
			continue;
		}
		if (t->run->over.n > 0 &&
		    task_params(t, &l->params[l->nb], &why) != 0) {
			l->failed[l->nf++] = t;
			if (task_fail_early(e, t, why, now, cause) != 0)
				return -1;
			continue;
		}
		e->nlaunched++;
		t->run->reserved++;
		if (t->def->pool_index >= 0)
			e->pool_used[t->def->pool_index]++;
		t->tries++;
		l->logs[l->nb] = run_path(e->cfg->log_dir, t->run,
		    "/%s.%d.log", t->def->id, t->tries);
		l->batch[l->nb++] = t;
		e->room[task_executor(e, t)]--;
		idle--;
	}
	/* Nobody hears of an attempt before its record commits. */
	for (i = 0; i < l->nb; i++) {
		struct rtask *t = l->batch[i];

		if (state_attempt_start(e->st, t->ti_id, t->tries, now,
		    l->logs[i], &t->attempt_id, cause) != 0 ||
		    state_ti_set(e->st, t->ti_id, "running", t->tries, NULL,
		    now, 0, cause) != 0 ||
		    task_lineage(e, t, LINEAGE_START, NULL, cause) != 0)
			return -1;
		t->state = "running";
	}
	/* The Slurm job names, before any job is submitted. */
	return launch_name(e, l->batch, l->nb, cause);
}

static void
launch_discard(struct launch *l)
{
	size_t	i;

	for (i = 0; i < l->nb; i++) {
		free(l->logs[i]);
		paramset_free(&l->params[i]);
	}
	l->nb = l->nf = 0;
}

/* After the commit: hand the recorded attempts to workers. */
static int
launch_submit(struct engine *e, struct launch *l, char **cause)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < l->nb && rc == 0; i++) {
		struct rtask	*t = l->batch[i];
		struct erun	*r = t->run;

		if ((rc = task_submit(t, l->logs[i], l->params[i].n > 0 ?
		    &l->params[i] : NULL, cause)) != 0)
			break;
		if (e->obs != NULL && e->obs->task_start != NULL)
			e->obs->task_start(e->obs->arg, r->job, r->key,
			    r->run_id, t->def->id, t->tries, t->pid);
	}
	/* What shares a Slurm job name goes as one job array. */
	engine_remotes_flush(e);
	/* No worker started these: observers hear only of their end. */
	for (i = 0; i < l->nf && e->obs != NULL &&
	    e->obs->task_end != NULL; i++) {
		struct rtask	*t = l->failed[i];
		struct erun	*r = t->run;

		e->obs->task_end(e->obs->arg, r->job, r->key, r->run_id,
		    t->def->id, t->tries, t->state, t->reason, 0);
	}
	launch_discard(l);
	return rc;
}

/* After a commit: submit the attempts it recorded, or, if the commit is
 * held for the disk (state_pending()), keep them until it is written. */
static int
launch_submit_or_hold(struct engine *e, struct launch *l, char **cause)
{
	if (!state_pending(e->st))
		return launch_submit(e, l, cause);
	if (l->nb == 0 && l->nf == 0)
		return 0;
	e->later = xmalloc(sizeof *e->later);
	memcpy(e->later, l, sizeof *l);
	return 0;
}

/* The held commit is on disk: hand its attempts to workers. */
static int
engine_submit_later(struct engine *e, char **cause)
{
	struct launch	*l = e->later;
	int		 rc;

	if (l == NULL || state_pending(e->st))
		return 0;
	e->later = NULL;
	rc = launch_submit(e, l, cause);
	free(l);
	return rc;
}

/* Slurm job ids and states learnt while nothing else was committed: a
 * transaction of their own, at most one a poll of the agent. */
static int
engine_commit_updates(struct engine *e, char **cause)
{
	if (state_begin(e->st, cause) != 0)
		return -1;
	if (engine_flush_pids(e, cause) != 0) {
		state_rollback(e->st);
		return -1;
	}
	return state_commit(e->st, cause);
}

/* Whether some run may have a task to start: checked before opening a
 * transaction that would otherwise, most steps, find nothing and roll
 * back. */
static int
engine_any_ready(const struct engine *e)
{
	size_t	i;

	for (i = 0; i < e->nruns; i++) {
		const struct erun *r = e->runs[i];

		if (!r->cancelled && (r->ndeferred > 0 ||
		    (r->ready != NULL && dag_ready_queued(r->ready))))
			return 1;
	}
	return 0;
}

/* Start every ready task there is a worker for, in a transaction of its
 * own (when no result brought them). */
static int
engine_launch(struct engine *e, char **cause)
{
	struct launch	l;

	if (e->cancelled || e->draining || e->stopping || e->nruns == 0 ||
	    !engine_any_ready(e) || engine_room(e) == 0 ||
	    !engine_may_launch(e))
		return 0;
	if (state_begin(e->st, cause) != 0)
		return -1;
	if (launch_record(e, &l, cause) != 0) {
		state_rollback(e->st);
		launch_discard(&l);
		return -1;
	}
	if (l.nb == 0 && l.nf == 0) {
		/* Nothing was written: the pids wait for the next commit. */
		state_rollback(e->st);
		return 0;
	}
	if (engine_flush_pids(e, cause) != 0) {
		state_rollback(e->st);
		launch_discard(&l);
		return -1;
	}
	if (state_commit(e->st, cause) != 0) {
		launch_discard(&l);
		return -1;
	}
	lineage_kick();
	return launch_submit_or_hold(e, &l, cause);
}

static int
has_failed_error_check(const struct task_result *res)
{
	size_t	i;

	for (i = 0; i < res->nchecks; i++)
		if (!res->checks[i].passed &&
		    res->checks[i].severity == MESHD_SEV_ERROR)
			return 1;
	return 0;
}

static double
result_metric(const struct task_result *res, const char *name, double dflt)
{
	size_t	i;

	for (i = 0; i < res->nmetrics; i++)
		if (strcmp(res->metrics[i].name, name) == 0)
			return res->metrics[i].value;
	return dflt;
}

static struct rtask *
engine_task_by_attempt(struct engine *e, int64_t attempt_id)
{
	size_t	i;

	for (i = 0; i < e->nbusy; i++)
		if (e->busy[i]->attempt_id == attempt_id)
			return e->busy[i];
	return NULL;
}

/* What the observer hears after the batch commits. */
struct ended {
	struct rtask	*t;
	const char	*state;
};

/* A fault in meshd's own directories or resources: back off launching,
 * 1 s doubling to 60 s while it lasts. */
static void
engine_infra(struct engine *e, const char *why)
{
	e->infra_backoff = e->infra_backoff == 0 ? 1000000 :
	    e->infra_backoff * 2 > 60000000 ? 60000000 : e->infra_backoff * 2;
	e->infra_until = mono_us() + e->infra_backoff;
	free(e->infra_why);
	e->infra_why = xstrdup(why != NULL ? why : "infrastructure fault");
}

static void
engine_infra_clear(struct engine *e)
{
	e->infra_backoff = 0;
	e->infra_until = 0;
	free(e->infra_why);
	e->infra_why = NULL;
}

/* Apply one result inside the open transaction. */
static int
engine_apply(struct engine *e, struct task_result *res, struct ended *ed,
    char **cause)
{
	struct rtask	*t;
	struct erun	*r;
	const char	*astate, *tstate;
	int		 again, pid;
	size_t		 i;
	int64_t		 now = now_us();

	if ((t = engine_task_by_attempt(e, res->attempt_id)) == NULL) {
		set_cause(cause, "result for unknown attempt %lld",
		    (long long)res->attempt_id);
		return -1;
	}
	r = t->run;
	ptr_remove((void **)e->busy, &e->nbusy, t);
	if (t->pid == 0 && res->pid > 0) {
		t->pid = res->pid;
		t->pid_unsaved = 1;
	}
	/* Not saved yet (it ended within a step): saved with its end. */
	pid = t->pid_unsaved ? (int)t->pid : 0;
	t->pid_unsaved = 0;
	t->running = 0;
	r->running--;
	if (t->def->pool_index >= 0)
		e->pool_used[t->def->pool_index]--;
	t->duration = mono_us() - t->attempt_start;
	free(t->reason);
	t->reason = NULL;
	/* The plugin's message adds to a fault's reason, except after a
	 * failed gate, where the reason already lists every failed check. */
	if (res->reason != NULL && res->message != NULL &&
	    !has_failed_error_check(res) &&
	    strstr(res->reason, res->message) == NULL)
		t->reason = xasprintf("%s: %s", res->reason, res->message);
	else if (res->reason != NULL)
		t->reason = xstrdup(res->reason);
	else if (res->message != NULL)
		t->reason = xstrdup(res->message);

	for (i = 0; i < res->nchecks; i++) {
		const struct check_rec *c = &res->checks[i];

		if (state_check_add(e->st, t->attempt_id, c->name, c->severity,
		    c->passed, c->observed, c->expectation, c->recorded_us,
		    cause) != 0)
			return -1;
	}
	for (i = 0; i < res->nmetrics; i++)
		if (state_metric_set(e->st, t->attempt_id,
		    res->metrics[i].name, res->metrics[i].value, cause) != 0)
			return -1;

	if (e->stopping && res->status != MESHD_OK &&
	    res->status != MESHD_SKIPPED) {
		/* Killed by the daemon's shutdown: the task is queued again
		 * and the run stays running, so the next start resumes it. */
		if (state_attempt_end(e->st, t->attempt_id, "failed", now,
		    e->stop_why, res->message, pid, cause) != 0 ||
		    state_ti_set(e->st, t->ti_id, "queued", t->tries,
		    e->stop_why, 0, 0, cause) != 0 ||
		    task_lineage(e, t, LINEAGE_ABORT, e->stop_why, cause) != 0)
			return -1;
		t->state = "queued";
		ed->t = t;
		ed->state = "queued";
		return 0;
	}

	if (res->infra && !r->cancelled) {
		/* Not the plugin's doing: the try is given back, launching
		 * backs off, and the task runs again when it is over. */
		engine_infra(e, res->reason);
		t->max_tries++;
		res->status = MESHD_FAILED;
		res->retryable = 1;
	} else if (res->status == MESHD_OK || res->status == MESHD_SKIPPED)
		engine_infra_clear(e);
	again = 0;
	switch (res->status) {
	case MESHD_OK:
		astate = tstate = "success";
		break;
	case MESHD_SKIPPED:
		astate = tstate = "skipped";
		break;
	case MESHD_RETRY:
		astate = "retry";
		again = t->tries < t->max_tries && !r->cancelled;
		tstate = again ? "up_for_retry" : "failed";
		break;
	default:
		astate = "failed";
		again = res->retryable && t->tries < t->max_tries &&
		    !r->cancelled;
		tstate = again ? "up_for_retry" : "failed";
		break;
	}
	if (r->cancelled && !r->timed_out && strcmp(tstate, "failed") == 0)
		tstate = "cancelled";
	if (state_attempt_end(e->st, t->attempt_id, astate, now,
	    res->reason, res->message, pid, cause) != 0 ||
	    state_ti_set(e->st, t->ti_id, tstate, t->tries, t->reason, 0,
	    again ? 0 : now, cause) != 0)
		return -1;
	t->state = tstate;
	ed->t = t;
	ed->state = tstate;

	if (again) {
		if (task_lineage(e, t, LINEAGE_FAIL, t->reason, cause) != 0 ||
		    (!res->infra && alert_task(e->st, e->cfg, r->job,
		    ALERT_RETRY, r->run_id, t->attempt_id, t->reason,
		    cause) != 0))
			return -1;
		t->due = mono_us() + task_retry_delay(t->def, t->tries,
		    engine_random(e));
		if (res->infra && t->due < e->infra_until)
			t->due = e->infra_until;
		r->waiting++;
		ptr_push(&e->wait, &e->nwait, &e->wait_cap, t);
		return 0;
	}
	if (strcmp(tstate, "success") == 0 || strcmp(tstate, "skipped") == 0) {
		if (t->def->stage == MESHD_STAGE_PUBLISH && t->product_id != 0 &&
		    state_partition_set(e->st, t->product_id, r->key,
		    "published", r->run_id, t->attempt_id, now,
		    (int64_t)result_metric(res, "rows", -1), cause) != 0)
			return -1;
		if (task_lineage(e, t, LINEAGE_COMPLETE, NULL, cause) != 0)
			return -1;
		dag_ready_complete(r->ready, t->index);
		return 0;
	}

	/* Failed for good: quarantine on a failed gate, block successors. */
	if (has_failed_error_check(res) && t->product_id != 0 &&
	    (state_partition_set(e->st, t->product_id, r->key, "quarantined",
	    r->run_id, t->attempt_id, now, -1, cause) != 0 ||
	    alert_task(e->st, e->cfg, r->job, ALERT_QUARANTINE, r->run_id,
	    t->attempt_id, t->reason, cause) != 0))
		return -1;
	if (task_lineage(e, t, strcmp(tstate, "cancelled") == 0 ?
	    LINEAGE_ABORT : LINEAGE_FAIL, t->reason, cause) != 0)
		return -1;
	return run_block_after(e, t, now, cause);
}

/* Move tasks whose retry delay has passed back to ready; returns the
 * microseconds until the next one is due, or -1. */
static int64_t
engine_due(struct engine *e)
{
	size_t	i;
	int64_t	now = mono_us(), next = -1;

	for (i = 0; i < e->nwait; ) {
		struct rtask *t = e->wait[i];

		if (t->due <= now || t->run->cancelled) {
			t->due = 0;
			t->run->waiting--;
			e->wait[i] = e->wait[--e->nwait];
			/* A cancelled run's waiting task is recorded by
			 * run_close(); others are ready again. */
			if (!t->run->cancelled)
				dag_ready_retry(t->run->ready, t->index);
			continue;
		}
		if (next == -1 || t->due - now < next)
			next = t->due - now;
		i++;
	}
	return next;
}

int64_t
engine_next_due(const struct engine *e)
{
	size_t	i;
	int64_t	now = mono_us(), next = -1, d;

	for (i = 0; i < e->nwait; i++) {
		d = e->wait[i]->due - now;
		if (d < 0)
			d = 0;
		if (next == -1 || d < next)
			next = d;
	}
	return next < 0 ? -1 : next / 1000;
}

/* Keep a result until it can be committed. */
static void
engine_hold(struct engine *e, struct task_result *res)
{
	if (e->nheld == e->heldcap) {
		e->heldcap = e->heldcap == 0 ? 64 : e->heldcap * 2;
		e->held = xreallocarray(e->held, e->heldcap, sizeof *e->held);
	}
	e->held[e->nheld++] = res;
}

/*
 * Collect every result available now and commit them in one batch.
 * While the state cannot be written (state_pending()), results are only
 * read and held: none is lost, and they are committed together once the
 * disk takes them.
 */
static int
engine_collect(struct engine *e, int timeout_ms, char **cause)
{
	struct task_result	*res;
	struct ended		*ended;
	struct launch		 l;
	size_t			 nres, i;
	int			 rc;

	rc = executor_wait(e->ex, e->nheld > 0 && !state_pending(e->st) ?
	    0 : timeout_ms, &res, cause);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		engine_hold(e, res);
		while ((rc = executor_wait(e->ex, 0, &res, cause)) == 1)
			engine_hold(e, res);
		if (rc == -1)
			return -1;
	}
	if (e->nheld == 0 || state_pending(e->st))
		return 0;

	nres = e->nheld;
	ended = xcalloc(nres, sizeof *ended);
	if (state_begin(e->st, cause) != 0)
		goto fail;
	if (engine_flush_pids(e, cause) != 0) {
		state_rollback(e->st);
		goto fail;
	}
	for (i = 0; i < nres; i++) {
		if (engine_apply(e, e->held[i], &ended[i], cause) != 0) {
			state_rollback(e->st);
			goto fail;
		}
	}
	/* The successors these results made ready start in the same pass,
	 * and their attempts ride in the same transaction: one commit per
	 * step, not two. */
	engine_due(e);
	if (launch_record(e, &l, cause) != 0) {
		state_rollback(e->st);
		launch_discard(&l);
		goto fail;
	}
	if (state_commit(e->st, cause) != 0) {
		launch_discard(&l);
		goto fail;
	}
	lineage_kick();

	for (i = 0; i < nres; i++) {
		struct rtask	*t = ended[i].t;
		struct erun	*r = t->run;

		if (e->obs != NULL && e->obs->task_times != NULL)
			e->obs->task_times(e->obs->arg, r->run_id,
			    t->def->id, e->held[i]->started_us,
			    e->held[i]->ended_us);
		if (e->obs != NULL && e->obs->task_end != NULL)
			e->obs->task_end(e->obs->arg, r->job, r->key, r->run_id,
			    t->def->id, t->tries, ended[i].state, t->reason,
			    t->duration);
		task_result_free(e->held[i]);
	}
	e->nheld = 0;
	free(ended);
	return launch_submit_or_hold(e, &l, cause) == 0 ? 1 : -1;

fail:
	for (i = 0; i < nres; i++)
		task_result_free(e->held[i]);
	e->nheld = 0;
	free(ended);
	return -1;
}

/* Cancel the runs whose run_timeout has passed; returns the microseconds
 * until the next deadline, or -1. */
static int64_t
engine_deadlines(struct engine *e)
{
	size_t	 i, j;
	int64_t	 now = mono_us(), next = -1;
	char	 d[32], *why;

	for (i = 0; i < e->nruns; i++) {
		struct erun *r = e->runs[i];

		if (r->deadline == 0 || r->cancelled)
			continue;
		if (r->deadline > now) {
			if (next == -1 || r->deadline - now < next)
				next = r->deadline - now;
			continue;
		}
		r->cancelled = r->timed_out = 1;
		why = xasprintf("run timed out after %s", fmt_duration(
		    r->job->run_timeout_us, d, sizeof d));
		for (j = 0; j < e->nbusy; j++)
			if (e->busy[j]->run == r)
				task_cancel(e, e->busy[j], why);
		free(why);
	}
	return next;
}

int
engine_step(struct engine *e, int timeout_ms, char **cause)
{
	int64_t	next, dl;
	int	rc;

	dl = engine_deadlines(e);
	next = engine_due(e);
	if (dl >= 0 && (next < 0 || dl < next))
		next = dl;
	if (e->infra_until != 0 && e->infra_until > mono_us() &&
	    (next < 0 || e->infra_until - mono_us() < next))
		next = e->infra_until - mono_us();
	if (engine_submit_later(e, cause) != 0 ||
	    engine_launch(e, cause) != 0)
		return -1;
	if (e->nbusy == 0 && e->nwait == 0 && e->nheld == 0)
		return state_pending(e->st) ? 0 : engine_reap(e, cause);
	if (next >= 0 && (timeout_ms < 0 || next / 1000 + 1 < timeout_ms))
		timeout_ms = (int)(next / 1000) + 1;
	if ((rc = engine_collect(e, timeout_ms, cause)) == -1)
		return -1;
	if (engine_has_updates(e) && !state_pending(e->st) &&
	    engine_commit_updates(e, cause) != 0)
		return -1;
	return state_pending(e->st) ? 0 : engine_reap(e, cause);
}

void
engine_set_paused(struct engine *e, int paused)
{
	e->paused = paused;
}

size_t
engine_held(const struct engine *e)
{
	return e->nheld;
}

const char *
engine_infra_fault(const struct engine *e)
{
	return e->infra_why;
}

size_t
engine_active_runs(const struct engine *e)
{
	return e->nruns;
}

size_t
engine_running_tasks(const struct engine *e)
{
	return e->nbusy;
}

size_t
engine_job_active_runs(const struct engine *e, const char *job)
{
	size_t	i, n = 0;

	for (i = 0; i < e->nruns; i++)
		if (strcmp(e->runs[i]->job->name, job) == 0)
			n++;
	return n;
}

int
engine_is_active(const struct engine *e, const char *job, const char *key)
{
	size_t	i;

	for (i = 0; i < e->nruns; i++)
		if (strcmp(e->runs[i]->job->name, job) == 0 &&
		    strcmp(e->runs[i]->key, key) == 0)
			return 1;
	return 0;
}

int
engine_uses_job(const struct engine *e, const struct job_def *job)
{
	size_t	i;

	for (i = 0; i < e->nruns; i++)
		if (e->runs[i]->job == job)
			return 1;
	return 0;
}

void
engine_cancel_all(struct engine *e, const char *why)
{
	size_t	i;

	if (e->cancelled)
		return;
	e->cancelled = 1;
	e->cancel_why = xstrdup(why);
	for (i = 0; i < e->nruns; i++)
		e->runs[i]->cancelled = 1;
	for (i = 0; i < e->nbusy; i++)
		task_cancel(e, e->busy[i], why);
}

int
engine_cancel_run(struct engine *e, const char *job, const char *key,
    const char *why)
{
	size_t	i, j;

	for (i = 0; i < e->nruns; i++) {
		struct erun *r = e->runs[i];

		if (strcmp(r->job->name, job) != 0 || strcmp(r->key, key) != 0)
			continue;
		r->cancelled = 1;
		for (j = 0; j < e->nbusy; j++)
			if (e->busy[j]->run == r)
				task_cancel(e, e->busy[j], why);
		return 1;
	}
	return 0;
}

void
engine_drain(struct engine *e)
{
	e->draining = 1;
}

void
engine_stop(struct engine *e, const char *why)
{
	size_t	i;

	if (e->stopping)
		return;
	e->stopping = 1;
	e->stop_why = xstrdup(why);
	i = 0;
	while (i < e->nbusy) {
		struct rtask *t = e->busy[i];

		/* A Slurm job outlives meshd: left running in the state,
		 * it is adopted by the next start rather than killed. */
		if (task_detach(e, t) == 0) {
			ptr_remove((void **)e->busy, &e->nbusy, t);
			t->running = 0;
			t->run->running--;
			continue;
		}
		task_cancel(e, t, why);
		i++;
	}
}

void
engine_free(struct engine *e)
{
	size_t	i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nruns; i++)
		run_free(e->runs[i]);
	free(e->runs);
	free(e->busy);
	free(e->wait);
	for (i = 0; i < e->nheld; i++)
		task_result_free(e->held[i]);
	free(e->held);
	if (e->later != NULL) {
		launch_discard(e->later);
		free(e->later);
	}
	free(e->infra_why);
	free(e->cancel_why);
	free(e->stop_why);
	free(e->pool_used);
	free(e->room);
	free(e->blocked);
	for (i = 0; i < e->nprobes; i++) {
		free(e->probes[i].path);
		if (e->probes[i].info != NULL)
			plugin_info_free(e->probes[i].info);
	}
	free(e->probes);
	run_summary_free(e->last);
	free(e->added);
	job_synced_clear(&e->synced);
	free(e);
}

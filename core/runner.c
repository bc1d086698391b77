/* runner.c -- run one partition of one job: DAG + executor + state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "dag.h"
#include "loader.h"
#include "partition.h"
#include "runner.h"
#include "util.h"

volatile int runner_interrupted;

/* One task of the run being carried out. */
struct rtask {
	const struct task_def	*def;
	size_t			 index;
	int64_t			 ti_id;
	int			 tries;		/* attempts made so far */
	int			 max_tries;
	const char		*state;		/* static string */
	int64_t			 attempt_id;	/* running attempt, or 0 */
	int64_t			 attempt_start;	/* mono_us of that attempt */
	int64_t			 due;		/* retry due (mono_us), or 0 */
	pid_t			 pid;
	int64_t			 duration;
	char			*reason;
	const char		*product;	/* product the task builds */
	int64_t			 product_id;	/* 0: none */
	int			 running;
	int			 pid_unsaved;	/* pid not yet in the state */
};

struct run {
	const struct meshd_config	*cfg;
	struct state			*st;
	struct executor			*ex;
	const struct job_def		*job;
	const struct run_observer	*obs;
	char				*key;
	int64_t				 istart, iend;
	int64_t				 job_id, run_id;
	struct rtask			*t;
	size_t				 n;
	struct dag_ready		*ready;
	struct plugin_info		**infos;	/* per task, shared */
	size_t				 running;
	size_t				 waiting;	/* up for retry */
	int				 cancelled;
};

static struct rtask *
run_task_by_attempt(struct run *r, int64_t attempt_id)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (r->t[i].running && r->t[i].attempt_id == attempt_id)
			return &r->t[i];
	return NULL;
}

int
runner_resolve_partition(const struct job_def *job, const char *key,
    int64_t now, char **canon, int64_t *istart, int64_t *iend, char **cause)
{
	enum sched_grain	 g;
	int64_t			 lo = 0, hi = 0, dummy, cur;
	char			*c = NULL, *s = NULL;

	if (schedule_parse(job->schedule, &g, cause) != 0)
		return -1;
	if (g != SCHED_NONE && job->start != NULL &&
	    partition_parse(g, job->start, &lo, &dummy, &s, cause) != 0)
		goto bad;
	free(s);
	s = NULL;
	if (g != SCHED_NONE && job->end != NULL &&
	    partition_parse(g, job->end, &hi, &dummy, &s, cause) != 0)
		goto bad;
	free(s);
	s = NULL;

	if (key == NULL && g == SCHED_NONE)
		key = PARTITION_DEFAULT_KEY;
	if (key == NULL) {
		/* The latest interval that has ended, within [start, end). */
		cur = partition_floor(g, now);
		cur = partition_floor(g, cur - 1);
		if (hi != 0 && cur >= hi)
			cur = partition_floor(g, hi - 1);
		if (lo != 0 && cur < lo) {
			set_cause(cause, "job '%s' has no complete partition "
			    "yet (it starts at %s)", job->name, job->start);
			return -1;
		}
		*istart = cur;
		*iend = partition_next(g, cur);
		*canon = partition_key(g, cur);
		return 0;
	}
	if (partition_parse(g, key, istart, iend, &c, cause) != 0)
		goto bad;
	if (g != SCHED_NONE && ((lo != 0 && *istart < lo) ||
	    (hi != 0 && *istart >= hi))) {
		set_cause(cause, "partition %s is outside job '%s' "
		    "(start %s, end %s)", c, job->name,
		    job->start != NULL ? job->start : "-",
		    job->end != NULL ? job->end : "-");
		free(c);
		return -1;
	}
	*canon = c;
	return 0;
bad:
	free(s);
	return -1;
}

/* The product a task builds: its own `product`, else the plugin's first. */
static const char *
task_product(const struct task_def *td, const struct plugin_info *pi)
{
	if (td->product != NULL)
		return td->product;
	if (pi->nproducts > 0)
		return pi->products[0].name;
	return NULL;
}

/*
 * Describe every plugin of the job (each in a child process) to learn the
 * products its tasks build.  A plugin that is refused or lacks the stage is
 * not an error here: the worker refuses it again when the task runs, and
 * the task fails with that precise reason, like any other fault.
 */
static int
run_probe(struct run *r, char **cause)
{
	size_t	 i, j, k;
	int	 found;
	char	*why = NULL;

	r->infos = xcalloc(r->n, sizeof *r->infos);
	for (i = 0; i < r->n; i++) {
		const struct task_def	*td = r->t[i].def;

		for (j = 0; j < i; j++)
			if (strcmp(r->t[j].def->plugin_path,
			    td->plugin_path) == 0)
				break;
		if (j < i)
			r->infos[i] = r->infos[j];
		else
			r->infos[i] = loader_probe(td->plugin_path, &why);
		free(why);
		why = NULL;
		if (r->infos[i] == NULL) {
			r->t[i].product = td->product;
			continue;
		}
		if (td->product != NULL) {
			found = 0;
			for (k = 0; k < r->infos[i]->nproducts; k++)
				if (strcmp(r->infos[i]->products[k].name,
				    td->product) == 0)
					found = 1;
			if (!found) {
				set_cause(cause, "%s:%d: task '%s': plugin "
				    "'%s' does not build product '%s'",
				    r->job->file, td->line, td->id,
				    r->infos[i]->name, td->product);
				return -1;
			}
		}
		r->t[i].product = task_product(td, r->infos[i]);
	}
	return 0;
}

static void
run_free_infos(struct run *r)
{
	size_t	i, j;

	if (r->infos == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		for (j = 0; j < i; j++)
			if (r->infos[j] == r->infos[i])
				break;
		if (j == i && r->infos[i] != NULL)
			plugin_info_free(r->infos[i]);
	}
	free(r->infos);
}

/* Register the products of the job's tasks in the catalog. */
static int
run_sync_products(struct run *r, char **cause)
{
	struct state_product	 sp;
	size_t			 i, k;

	for (i = 0; i < r->n; i++) {
		struct plugin_info	*pi = r->infos[i];
		const struct plugin_product_info *pp = NULL;

		if (r->t[i].product == NULL || pi == NULL)
			continue;
		for (k = 0; k < pi->nproducts; k++)
			if (strcmp(pi->products[k].name, r->t[i].product) == 0)
				pp = &pi->products[k];
		memset(&sp, 0, sizeof sp);
		sp.name = r->t[i].product;
		sp.domain = pi->domain;
		sp.owner = pp != NULL && pp->owner != NULL ? pp->owner :
		    pi->owner;
		sp.description = pp != NULL ? pp->description : NULL;
		sp.contract_version = pp != NULL ? pp->contract_version : NULL;
		sp.tags = pp != NULL ? pp->tags : NULL;
		sp.location = job_product_location(r->job, r->t[i].product);
		if (sp.location == NULL && pp != NULL)
			sp.location = pp->location;
		sp.plugin = pi->name;
		sp.freshness_s = pp != NULL ? pp->freshness_seconds : 0;
		sp.job_id = r->job_id;
		if (state_product_sync(r->st, &sp, &r->t[i].product_id,
		    cause) != 0)
			return -1;
	}
	return 0;
}

/* The current state of a product partition, or "missing". */
static const char *
partition_state(struct run *r, int64_t product_id)
{
	sqlite3_stmt	*stmt;
	const char	*s = "missing";
	static const char *words[] = { "building", "published",
	    "quarantined", "stale" };
	size_t		 i;

	if (sqlite3_prepare_v2(state_sqlite(r->st), "SELECT state FROM "
	    "product_partitions WHERE product_id = ? AND partition_key = ?",
	    -1, &stmt, NULL) != SQLITE_OK)
		return s;
	sqlite3_bind_int64(stmt, 1, product_id);
	sqlite3_bind_text(stmt, 2, r->key, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(stmt, 0);

		for (i = 0; v != NULL && i < nitems(words); i++)
			if (strcmp(v, words[i]) == 0)
				s = words[i];
	}
	sqlite3_finalize(stmt);
	return s;
}

/*
 * Set the state of every product this run builds, unless it is already
 * in one of the states in `keep` (NULL-terminated).
 */
static int
run_products_set(struct run *r, const char *state, const char *const *keep,
    int64_t attempt_id, char **cause)
{
	size_t		 i, j, k;
	const char	*cur;

	for (i = 0; i < r->n; i++) {
		if (r->t[i].product_id == 0)
			continue;
		for (j = 0; j < i; j++)
			if (r->t[j].product_id == r->t[i].product_id)
				break;
		if (j < i)
			continue;
		cur = partition_state(r, r->t[i].product_id);
		for (k = 0; keep != NULL && keep[k] != NULL; k++)
			if (strcmp(cur, keep[k]) == 0)
				break;
		if (keep != NULL && keep[k] != NULL)
			continue;
		if (state_partition_set(r->st, r->t[i].product_id, r->key,
		    state, r->run_id, attempt_id, now_us(), -1, cause) != 0)
			return -1;
	}
	return 0;
}

static char *
run_path(const char *base, const struct run *r, const char *fmt, ...)
    PRINTFLIKE(3, 4);

static char *
run_path(const char *base, const struct run *r, const char *fmt, ...)
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

/*
 * Write the worker pids of attempts started since the last transaction.
 * They ride along with the next group commit instead of costing one of
 * their own: a pid is bookkeeping for operators, and a crash before it is
 * written loses nothing that recovery needs.
 */
static int
run_flush_pids(struct run *r, char **cause)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		if (!r->t[i].pid_unsaved)
			continue;
		if (state_attempt_set_pid(r->st, r->t[i].attempt_id,
		    (int)r->t[i].pid, cause) != 0)
			return -1;
		r->t[i].pid_unsaved = 0;
	}
	return 0;
}

/* Start every ready task there is a worker for. */
static int
run_launch(struct run *r, char **cause)
{
	struct rtask	*batch[256];
	char		*logs[256];
	size_t		 nb = 0, i, idx;
	int		 idle;
	struct task_req	 req;
	pid_t		 pid;
	char		*staging, *adir;
	int64_t		 now = now_us();

	idle = executor_idle(r->ex);
	while (!r->cancelled && idle > 0 && nb < nitems(batch) &&
	    dag_ready_next(r->ready, &idx)) {
		batch[nb++] = &r->t[idx];
		idle--;
	}
	if (nb == 0)
		return 0;

	/* Record the attempts first: nobody hears of one before commit. */
	if (state_begin(r->st, cause) != 0)
		return -1;
	if (run_flush_pids(r, cause) != 0)
		goto fail_nologs;
	for (i = 0; i < nb; i++) {
		struct rtask *t = batch[i];

		t->tries++;
		logs[i] = run_path(r->cfg->log_dir, r, "/%s.%d.log",
		    t->def->id, t->tries);
		if (state_attempt_start(r->st, t->ti_id, t->tries, now,
		    logs[i], &t->attempt_id, cause) != 0 ||
		    state_ti_set(r->st, t->ti_id, "running", t->tries, NULL,
		    now, 0, cause) != 0)
			goto fail;
		t->state = "running";
	}
	if (state_commit(r->st, cause) != 0)
		goto fail;

	staging = run_path(r->cfg->staging_dir, r, "%s", "");
	for (i = 0; i < nb; i++) {
		struct rtask *t = batch[i];

		adir = run_path(r->cfg->staging_dir, r, ".attempts/%s.%d",
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
		req.log_path = logs[i];
		req.product = t->product;
		req.location = t->product != NULL ?
		    job_product_location(r->job, t->product) : NULL;
		req.params = &t->def->params;
		req.timeout_us = t->def->timeout_us;
		pid = executor_submit(r->ex, &req, cause);
		free(adir);
		if (pid == -1) {
			free(staging);
			for (; i < nb; i++)
				free(logs[i]);
			return -1;
		}
		t->pid = pid;
		t->pid_unsaved = 1;
		t->running = 1;
		t->attempt_start = mono_us();
		r->running++;
		free(logs[i]);
		if (r->obs != NULL && r->obs->task_start != NULL)
			r->obs->task_start(r->obs->arg, t->def->id, t->tries,
			    pid);
	}
	free(staging);

	return 0;

fail:
	/* logs[0..i] were made, or all nb of them if the commit failed. */
	for (nb = i < nb ? i + 1 : nb; nb > 0; nb--)
		free(logs[nb - 1]);
fail_nologs:
	state_rollback(r->st);
	return -1;
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

/* What the observer hears after the batch commits. */
struct ended {
	struct rtask	*t;
	const char	*state;
};

/* Apply one result inside the open transaction. */
static int
run_apply(struct run *r, struct task_result *res, struct ended *e,
    size_t *blocked, size_t *nblocked, char **cause)
{
	struct rtask	*t;
	const char	*astate, *tstate;
	int		 again;
	size_t		 i;
	int64_t		 now = now_us();

	if ((t = run_task_by_attempt(r, res->attempt_id)) == NULL) {
		set_cause(cause, "result for unknown attempt %lld",
		    (long long)res->attempt_id);
		return -1;
	}
	t->running = 0;
	r->running--;
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

		if (state_check_add(r->st, t->attempt_id, c->name, c->severity,
		    c->passed, c->observed, c->expectation, c->recorded_us,
		    cause) != 0)
			return -1;
	}
	for (i = 0; i < res->nmetrics; i++)
		if (state_metric_set(r->st, t->attempt_id,
		    res->metrics[i].name, res->metrics[i].value, cause) != 0)
			return -1;

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
	if (r->cancelled && strcmp(tstate, "failed") == 0)
		tstate = "cancelled";
	if (state_attempt_finish(r->st, t->attempt_id, astate, now,
	    res->reason, res->message, cause) != 0 ||
	    state_ti_set(r->st, t->ti_id, tstate, t->tries, t->reason, 0,
	    again ? 0 : now, cause) != 0)
		return -1;
	t->state = tstate;
	e->t = t;
	e->state = tstate;

	if (again) {
		t->due = mono_us() + t->def->retry_delay_us;
		r->waiting++;
		return 0;
	}
	if (strcmp(tstate, "success") == 0 || strcmp(tstate, "skipped") == 0) {
		if (t->def->stage == MESHD_STAGE_PUBLISH && t->product_id != 0 &&
		    state_partition_set(r->st, t->product_id, r->key,
		    "published", r->run_id, t->attempt_id, now,
		    (int64_t)result_metric(res, "rows", -1), cause) != 0)
			return -1;
		dag_ready_complete(r->ready, t->index);
		return 0;
	}

	/* Failed for good: quarantine on a failed gate, block successors. */
	if (has_failed_error_check(res) && t->product_id != 0 &&
	    state_partition_set(r->st, t->product_id, r->key, "quarantined",
	    r->run_id, t->attempt_id, now, -1, cause) != 0)
		return -1;
	*nblocked = dag_ready_fail(r->ready, t->index, blocked);
	for (i = 0; i < *nblocked; i++) {
		struct rtask	*d = &r->t[blocked[i]];
		char		*why;

		why = xasprintf("upstream task '%s' %s", t->def->id,
		    r->cancelled ? "was cancelled" : "failed");
		d->state = r->cancelled ? "cancelled" : "upstream_failed";
		free(d->reason);
		d->reason = why;
		if (state_ti_set(r->st, d->ti_id, d->state, d->tries, why, 0,
		    now, cause) != 0)
			return -1;
	}
	return 0;
}

/* Move tasks whose retry delay has passed back to ready. */
static int64_t
run_due(struct run *r, struct dag_ready *ready)
{
	size_t	i;
	int64_t	now = mono_us(), next = -1;

	(void)ready;
	for (i = 0; i < r->n; i++) {
		struct rtask *t = &r->t[i];

		if (t->due == 0)
			continue;
		if (t->due <= now || r->cancelled) {
			t->due = 0;
			r->waiting--;
			if (r->cancelled)
				continue;	/* run_close() records it */
			/* Re-queue: the tracker treats it as newly ready. */
			dag_ready_retry(r->ready, t->index);
		} else if (next == -1 || t->due - now < next)
			next = t->due - now;
	}
	return next;
}

/* Collect every result available now and commit them in one batch. */
static int
run_collect(struct run *r, int timeout_ms, char **cause)
{
	struct task_result	*res[64];
	struct ended		 ended[64];
	size_t			*blocked, nblocked, nres = 0, i, j;
	int			 rc;

	rc = executor_wait(r->ex, timeout_ms, &res[0], cause);
	if (rc <= 0)
		return rc;
	nres = 1;
	while (nres < nitems(res) &&
	    (rc = executor_wait(r->ex, 0, &res[nres], cause)) == 1)
		nres++;
	if (rc == -1)
		goto fail_free;

	blocked = xcalloc(r->n, sizeof *blocked);
	if (state_begin(r->st, cause) != 0)
		goto fail;
	if (run_flush_pids(r, cause) != 0) {
		state_rollback(r->st);
		goto fail;
	}
	for (i = 0; i < nres; i++) {
		nblocked = 0;
		if (run_apply(r, res[i], &ended[i], blocked, &nblocked,
		    cause) != 0) {
			state_rollback(r->st);
			goto fail;
		}
	}
	if (state_commit(r->st, cause) != 0)
		goto fail;
	free(blocked);

	for (i = 0; i < nres; i++) {
		struct rtask *t = ended[i].t;

		if (r->obs != NULL && r->obs->task_end != NULL)
			r->obs->task_end(r->obs->arg, t->def->id, t->tries,
			    ended[i].state, t->reason, t->duration);
		task_result_free(res[i]);
	}
	return 1;

fail:
	free(blocked);
fail_free:
	for (j = 0; j < nres; j++)
		task_result_free(res[j]);
	return -1;
}

static void
run_cancel_all(struct run *r)
{
	size_t	i;

	r->cancelled = 1;
	for (i = 0; i < r->n; i++)
		if (r->t[i].running)
			executor_cancel(r->ex, r->t[i].attempt_id,
			    "cancelled: interrupted by operator");
}

static int
run_open(struct run *r, const char *trigger, char **cause)
{
	const char	*st;
	size_t		 i;
	int		 created;
	int64_t		 now = now_us();
	static const char *const keep_published[] = { "published", NULL };

	if (state_begin(r->st, cause) != 0)
		return -1;
	if (state_job_sync(r->st, r->job->name, r->job->domain,
	    r->job->owner, r->job->description, r->job->file,
	    r->job->schedule, &r->job_id, cause) != 0 ||
	    run_sync_products(r, cause) != 0 ||
	    state_run_open(r->st, r->job_id, r->key, r->istart, r->iend,
	    trigger, &r->run_id, &created, cause) != 0 ||
	    state_run_set(r->st, r->run_id, "running", now, 0, cause) != 0)
		goto fail;
	for (i = 0; i < r->n; i++) {
		struct rtask *t = &r->t[i];

		if (state_ti_open(r->st, r->run_id, t->def->id,
		    stage_name(t->def->stage), t->max_tries, &t->ti_id, &st,
		    &t->tries, cause) != 0)
			goto fail;
		/* A new `meshctl run` of the partition runs every task again;
		 * the try numbers go on from the earlier attempts. */
		t->max_tries += t->tries;
		t->state = "queued";
		if (state_ti_set(r->st, t->ti_id, "queued", t->tries, NULL, 0,
		    0, cause) != 0)
			goto fail;
	}
	if (run_products_set(r, "building", keep_published, 0, cause) != 0)
		goto fail;
	return state_commit(r->st, cause);
fail:
	state_rollback(r->st);
	return -1;
}

static int
run_close(struct run *r, const char **final, char **cause)
{
	size_t		 i;
	const char	*state = "success";
	int64_t		 now = now_us();
	static const char *const keep[] = { "published", "quarantined",
	    NULL };

	for (i = 0; i < r->n; i++) {
		const char *s = r->t[i].state;

		if (strcmp(s, "success") != 0 && strcmp(s, "skipped") != 0) {
			state = r->cancelled ? "cancelled" : "failed";
			break;
		}
	}
	if (state_begin(r->st, cause) != 0)
		return -1;
	for (i = 0; i < r->n; i++) {
		struct rtask *t = &r->t[i];

		/* Tasks never reached (cancelled before they were ready). */
		if (strcmp(t->state, "queued") == 0 ||
		    strcmp(t->state, "up_for_retry") == 0) {
			t->state = "cancelled";
			if (state_ti_set(r->st, t->ti_id, t->state, t->tries,
			    "run cancelled", 0, now, cause) != 0)
				goto fail;
		}
	}
	if (strcmp(state, "success") != 0 &&
	    run_products_set(r, "missing", keep, 0, cause) != 0)
		goto fail;
	if (state_run_set(r->st, r->run_id, state, 0, now, cause) != 0)
		goto fail;
	*final = state;
	return state_commit(r->st, cause);
fail:
	state_rollback(r->st);
	return -1;
}

static struct run_summary *
run_summarise(struct run *r, const char *state, int64_t duration)
{
	struct run_summary	*s;
	const size_t		*topo = dag_topo(r->job->dag);
	size_t			 i;

	s = xcalloc(1, sizeof *s);
	s->run_id = r->run_id;
	s->partition_key = xstrdup(r->key);
	s->state = xstrdup(state);
	s->duration_us = duration;
	s->ntasks = r->n;
	s->tasks = xcalloc(r->n, sizeof *s->tasks);
	for (i = 0; i < r->n; i++) {
		struct rtask		*t = &r->t[topo[i]];
		struct run_task_summary	*ts = &s->tasks[i];

		ts->task_id = xstrdup(t->def->id);
		ts->stage = xstrdup(stage_name(t->def->stage));
		ts->state = xstrdup(t->state);
		ts->tries = t->tries;
		ts->duration_us = t->duration;
		ts->reason = xstrdup_null(t->reason);
	}
	return s;
}

int
runner_run(const struct meshd_config *cfg, struct state *st,
    struct executor *ex, const struct job_def *job, const char *key,
    const char *trigger, const struct run_observer *obs,
    struct run_summary **out, char **cause)
{
	struct run	 r;
	size_t		 i;
	int		 rc = -1;
	int64_t		 started = mono_us(), next;
	int		 timeout;
	const char	*final = "failed";

	memset(&r, 0, sizeof r);
	r.cfg = cfg;
	r.st = st;
	r.ex = ex;
	r.job = job;
	r.obs = obs;
	*out = NULL;
	if (runner_resolve_partition(job, key, now_us(), &r.key, &r.istart,
	    &r.iend, cause) != 0)
		return -1;
	r.n = job->ntasks;
	r.t = xcalloc(r.n, sizeof *r.t);
	for (i = 0; i < r.n; i++) {
		r.t[i].def = &job->tasks[i];
		r.t[i].index = i;
		r.t[i].max_tries = job->tasks[i].retries + 1;
		r.t[i].state = "queued";
	}
	if (run_probe(&r, cause) != 0 || run_open(&r, trigger, cause) != 0)
		goto out;
	if (obs != NULL && obs->run_start != NULL)
		obs->run_start(obs->arg, job, r.key, r.istart, r.iend,
		    r.run_id);

	r.ready = dag_ready_new(job->dag, NULL);
	for (;;) {
		if (runner_interrupted && !r.cancelled)
			run_cancel_all(&r);
		next = run_due(&r, r.ready);
		if (run_launch(&r, cause) != 0)
			goto out;
		if (r.running == 0 && r.waiting == 0)
			break;
		timeout = next < 0 ? 1000 : (int)(next / 1000) + 1;
		if (timeout > 1000)
			timeout = 1000;
		if (run_collect(&r, timeout, cause) == -1)
			goto out;
	}
	if (run_close(&r, &final, cause) != 0)
		goto out;
	*out = run_summarise(&r, final, mono_us() - started);
	rc = 0;
out:
	if (r.ready != NULL)
		dag_ready_free(r.ready);
	run_free_infos(&r);
	for (i = 0; i < r.n; i++)
		free(r.t[i].reason);
	free(r.t);
	free(r.key);
	return rc;
}

void
run_summary_free(struct run_summary *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ntasks; i++) {
		free(s->tasks[i].task_id);
		free(s->tasks[i].stage);
		free(s->tasks[i].state);
		free(s->tasks[i].reason);
	}
	free(s->tasks);
	free(s->partition_key);
	free(s->state);
	free(s);
}

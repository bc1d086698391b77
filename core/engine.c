/* engine.c -- many runs at once on one worker pool: DAG + executor + state. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "dag.h"
#include "engine.h"
#include "lineage.h"
#include "loader.h"
#include "util.h"

struct erun;

/* One task of an active run. */
struct rtask {
	struct erun		*run;
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
	int			 pid_unsaved;	/* pid not yet in the state */
	int64_t			 duration;
	char			*reason;
	const char		*product;	/* product the task builds */
	int64_t			 product_id;	/* 0: none */
	int			 running;
};

/* An active run. */
struct erun {
	struct engine		*e;
	const struct job_def	*job;
	char			*key;
	int64_t			 istart, iend;
	int64_t			 job_id, run_id;
	struct rtask		*t;
	size_t			 n;
	struct dag_ready	*ready;
	struct plugin_info	**infos;	/* per task, shared */
	size_t			 running;
	size_t			 waiting;	/* up for retry */
	int			 cancelled;
	int			 timed_out;	/* run_timeout passed */
	int64_t			 started;	/* mono_us */
	int64_t			 deadline;	/* mono_us, or 0 */
	int			 backfill;	/* lower priority class */
	size_t			 reserved;	/* picked, not yet submitted */
	/* Run parameters (runs.params), as strings: over every task's. */
	struct paramset		 over;
	/* Ready tasks held back by a pool or max_active_tasks. */
	struct rtask		**deferred;
	size_t			 ndeferred, deferred_cap;
};

struct engine {
	const struct meshd_config	*cfg;
	struct state			*st;
	struct executor			*ex;
	const struct run_observer	*obs;
	struct erun			**runs;
	size_t				  nruns, runs_cap;
	size_t				  rr;		/* round-robin start */
	/* Tasks with an attempt in flight, and tasks waiting to retry:
	 * both small, so a scan of them is no rescan of the work. */
	struct rtask			**busy;
	size_t				  nbusy, busy_cap;
	struct rtask			**wait;
	size_t				  nwait, wait_cap;
	struct run_summary		 *last;
	int				  cancelled;
	char				 *cancel_why;
	int				  draining;	/* launch nothing */
	int				  stopping;	/* killing; keep runs */
	char				 *stop_why;
	int				 *pool_used;	/* per cfg->pools */
	uint64_t			  nlaunched;	/* for class turns */
	size_t				 *blocked;	/* scratch for failures */
	size_t				  blocked_cap;
	/* Plugin descriptions by path, file identity and mtime: describing
	 * a plugin costs a process, and a backfill opens thousands of runs
	 * of the same job.  A refusal is cached too (info NULL). */
	struct probe {
		char			*path;
		dev_t			 dev;
		ino_t			 ino;
		struct timespec		 mtime;
		struct plugin_info	*info;
	}				 *probes;
	size_t				  nprobes;
	uint64_t			  rng;		/* retry jitter */
	/*
	 * Holding through faults (issue 10).  Results read from workers
	 * wait in `held` while the state cannot be written (a commit held
	 * by state_pending()); attempts recorded by such a commit wait in
	 * `later` and reach workers only once it is on disk.  `paused` is
	 * the daemon's (disk headroom); infra_* is a fault in meshd's own
	 * directories reported by a worker, which stops launching for a
	 * backoff without costing the task a try.
	 */
	struct task_result		**held;
	size_t				  nheld, heldcap;
	struct launch			 *later;
	int				  paused;
	int64_t				  infra_until;	/* mono_us */
	int64_t				  infra_backoff;
	char				 *infra_why;
};

static void
ptr_push(void *arrp, size_t *n, size_t *cap, void *p)
{
	void	***arr = arrp;

	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*arr = xreallocarray(*arr, *cap, sizeof **arr);
	}
	(*arr)[(*n)++] = p;
}

static void
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

/* The description of a plugin, from the cache while the file is the
 * same; NULL if the plugin is refused.  Owned by the engine. */
static struct plugin_info *
engine_probe(struct engine *e, const char *path)
{
	struct stat	 sb;
	struct probe	*p;
	char		*why = NULL;
	size_t		 i;

	if (stat(path, &sb) == -1)
		return NULL;
	for (i = 0; i < e->nprobes; i++) {
		p = &e->probes[i];
		if (strcmp(p->path, path) != 0)
			continue;
		if (p->dev == sb.st_dev && p->ino == sb.st_ino &&
		    p->mtime.tv_sec == sb.st_mtim.tv_sec &&
		    p->mtime.tv_nsec == sb.st_mtim.tv_nsec)
			return p->info;
		/* Replaced or rebuilt: describe it again. */
		if (p->info != NULL)
			plugin_info_free(p->info);
		break;
	}
	if (i == e->nprobes) {
		e->probes = xreallocarray(e->probes, e->nprobes + 1,
		    sizeof *e->probes);
		p = &e->probes[e->nprobes++];
		p->path = xstrdup(path);
	} else
		p = &e->probes[i];
	p->dev = sb.st_dev;
	p->ino = sb.st_ino;
	p->mtime = sb.st_mtim;
	p->info = loader_probe(path, &why);
	free(why);
	return p->info;
}

/*
 * Describe every plugin of the job (each in a child process) to learn the
 * products its tasks build.  A plugin that is refused or lacks the stage is
 * not an error here: the worker refuses it again when the task runs, and
 * the task fails with that precise reason, like any other fault.
 */
static int
run_probe(struct erun *r, char **cause)
{
	size_t	 i, k;
	int	 found;

	r->infos = xcalloc(r->n, sizeof *r->infos);
	for (i = 0; i < r->n; i++) {
		const struct task_def	*td = r->t[i].def;

		r->infos[i] = engine_probe(r->e, td->plugin_path);
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

/* Register the products of the run's tasks in the catalog. */
static int
run_sync_products(struct erun *r, char **cause)
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
		if (state_product_sync(r->e->st, &sp, &r->t[i].product_id,
		    cause) != 0)
			return -1;
	}
	return 0;
}

/* The current state of a product partition, or "missing". */
static const char *
partition_state(struct erun *r, int64_t product_id)
{
	sqlite3_stmt	*stmt;
	const char	*s = "missing";
	static const char *words[] = { "building", "published",
	    "quarantined", "stale" };
	size_t		 i;

	if (sqlite3_prepare_v2(state_sqlite(r->e->st), "SELECT state FROM "
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
run_products_set(struct erun *r, const char *state, const char *const *keep,
    char **cause)
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
		if (state_partition_set(r->e->st, r->t[i].product_id, r->key,
		    state, r->run_id, 0, now_us(), -1, cause) != 0)
			return -1;
	}
	return 0;
}

static char *
run_path(const char *base, const struct erun *r, const char *fmt, ...)
    PRINTFLIKE(3, 4);

static char *
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

/*
 * Run parameters: what `meshctl trigger --param k=v` asked for, kept in
 * runs.params as a JSON object of strings so that they outlive a restart.
 * They go over the job file's params in every task of the run.  Each is
 * read as the type the task's own params give its key, the way the job
 * file's parser reads a literal of that type, so that meshd_param_int()
 * of an overridden int still finds an int; a key the task does not have
 * reaches it as a string.  A value that does not read as its type fails
 * the task before its plugin runs: retrying would not change it, and
 * running with the default instead would not be what was asked.
 * cmd-trigger.c refuses such values with the same rules before it records
 * the request; keep the two in step.
 */

/* r->over from runs.params (left empty when NULL).  0, or -1 with cause. */
static int
run_load_params(struct erun *r, char **cause)
{
	sqlite3		*db = state_sqlite(r->e->st);
	sqlite3_stmt	*stmt;
	json_t		*obj = NULL, *v;
	json_error_t	 jerr;
	const char	*text, *k;
	struct param	 p;
	int		 rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT params FROM runs WHERE id = ?", -1,
	    &stmt, NULL) != SQLITE_OK) {
		set_cause(cause, "cannot read the parameters of run %lld: %s",
		    (long long)r->run_id, sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, r->run_id);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		set_cause(cause, "cannot read the parameters of run %lld: %s",
		    (long long)r->run_id, sqlite3_errmsg(db));
		goto out;
	}
	if ((text = (const char *)sqlite3_column_text(stmt, 0)) == NULL) {
		rc = 0;
		goto out;
	}
	if ((obj = json_loads(text, 0, &jerr)) == NULL ||
	    !json_is_object(obj)) {
		set_cause(cause, "run %lld: its parameters are not a JSON "
		    "object: %s", (long long)r->run_id, obj == NULL ?
		    jerr.text : text);
		goto out;
	}
	json_object_foreach(obj, k, v) {
		if (!json_is_string(v)) {
			set_cause(cause, "run %lld: parameter '%s' is not a "
			    "string", (long long)r->run_id, k);
			goto out;
		}
		memset(&p, 0, sizeof p);
		p.key = (char *)(uintptr_t)k;
		p.type = PARAM_STRING;
		p.s = (char *)(uintptr_t)json_string_value(v);
		paramset_set(&r->over, &p);
	}
	rc = 0;
out:
	if (rc != 0)
		paramset_free(&r->over);
	json_decref(obj);
	sqlite3_finalize(stmt);
	return rc;
}

/* Read a run parameter as the type of `decl` (a string when decl is
 * NULL); its key and string are borrowed.  0, or -1 with cause. */
static int
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
	return 0;
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
	t->pid = pid;
	t->pid_unsaved = 1;
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
	idle = executor_idle(e->ex);
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
	return 0;
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

/* Start every ready task there is a worker for, in a transaction of its
 * own (when no result brought them). */
static int
engine_launch(struct engine *e, char **cause)
{
	struct launch	l;

	if (e->cancelled || e->draining || e->stopping || e->nruns == 0 ||
	    executor_idle(e->ex) == 0 || !engine_may_launch(e))
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
	int		 again;
	size_t		 i;
	int64_t		 now = now_us();

	if ((t = engine_task_by_attempt(e, res->attempt_id)) == NULL) {
		set_cause(cause, "result for unknown attempt %lld",
		    (long long)res->attempt_id);
		return -1;
	}
	r = t->run;
	ptr_remove((void **)e->busy, &e->nbusy, t);
	if (t->pid_unsaved && state_attempt_set_pid(e->st, t->attempt_id,
	    (int)t->pid, cause) != 0)
		return -1;
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
		if (state_attempt_finish(e->st, t->attempt_id, "failed", now,
		    e->stop_why, res->message, cause) != 0 ||
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
	if (state_attempt_finish(e->st, t->attempt_id, astate, now,
	    res->reason, res->message, cause) != 0 ||
	    state_ti_set(e->st, t->ti_id, tstate, t->tries, t->reason, 0,
	    again ? 0 : now, cause) != 0)
		return -1;
	t->state = tstate;
	ed->t = t;
	ed->state = tstate;

	if (again) {
		if (task_lineage(e, t, LINEAGE_FAIL, t->reason, cause) != 0)
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
	    state_partition_set(e->st, t->product_id, r->key, "quarantined",
	    r->run_id, t->attempt_id, now, -1, cause) != 0)
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

static void
run_free(struct erun *r)
{
	size_t	i;

	if (r->ready != NULL)
		dag_ready_free(r->ready);
	free(r->infos);		/* the descriptions are the engine's */
	for (i = 0; i < r->n; i++)
		free(r->t[i].reason);
	free(r->deferred);
	free(r->t);
	free(r->key);
	paramset_free(&r->over);
	free(r);
}

static int
run_open(struct erun *r, const char *trigger, enum engine_redo redo,
    unsigned char *done, char **cause)
{
	struct engine	*e = r->e;
	const char	*st;
	size_t		 i;
	int		 created;
	int64_t		 now = now_us();
	static const char *const keep_published[] = { "published", NULL };

	if (state_begin(e->st, cause) != 0)
		return -1;
	if (state_job_sync(e->st, r->job->name, r->job->domain,
	    r->job->owner, r->job->description, r->job->file,
	    r->job->schedule, &r->job_id, cause) != 0 ||
	    run_sync_products(r, cause) != 0 ||
	    state_run_open(e->st, r->job_id, r->key, r->istart, r->iend,
	    trigger, &r->run_id, &created, cause) != 0 ||
	    run_load_params(r, cause) != 0 ||
	    state_run_set(e->st, r->run_id, "running", now, 0, cause) != 0)
		goto fail;
	for (i = 0; i < r->n; i++) {
		struct rtask *t = &r->t[i];

		if (state_ti_open(e->st, r->run_id, t->def->id,
		    stage_name(t->def->stage), t->max_tries, &t->ti_id, &st,
		    &t->tries, cause) != 0)
			goto fail;
		if (redo == ENGINE_RESUME && (strcmp(st, "success") == 0 ||
		    strcmp(st, "skipped") == 0)) {
			/* Committed success is never run twice. */
			done[i] = 1;
			t->state = strcmp(st, "success") == 0 ? "success" :
			    "skipped";
			continue;
		}
		/* Try numbers go on from the earlier attempts; a resumed task
		 * always gets at least one more. */
		if (redo == ENGINE_RERUN)
			t->max_tries += t->tries;
		else if (t->max_tries <= t->tries)
			t->max_tries = t->tries + 1;
		t->state = "queued";
		if (state_ti_set(e->st, t->ti_id, "queued", t->tries, NULL, 0,
		    0, cause) != 0)
			goto fail;
	}
	if (run_products_set(r, "building", keep_published, cause) != 0)
		goto fail;
	return state_commit(e->st, cause);
fail:
	state_rollback(e->st);
	return -1;
}

int
engine_add_run(struct engine *e, const struct job_def *job, const char *key,
    int64_t istart, int64_t iend, const char *trigger, enum engine_redo redo,
    int64_t *run_id, char **cause)
{
	struct erun	*r;
	unsigned char	*done;
	size_t		 i;

	if (engine_is_active(e, job->name, key)) {
		set_cause(cause, "run %s %s is already active", job->name, key);
		return -1;
	}
	r = xcalloc(1, sizeof *r);
	r->e = e;
	r->job = job;
	r->key = xstrdup(key);
	r->istart = istart;
	r->iend = iend;
	r->n = job->ntasks;
	r->t = xcalloc(r->n, sizeof *r->t);
	r->started = mono_us();
	r->backfill = trigger != NULL && strcmp(trigger, "backfill") == 0;
	if (job->run_timeout_us > 0)
		r->deadline = r->started + job->run_timeout_us;
	for (i = 0; i < r->n; i++) {
		r->t[i].run = r;
		r->t[i].def = &job->tasks[i];
		r->t[i].index = i;
		r->t[i].max_tries = job->tasks[i].retries + 1;
		r->t[i].state = "queued";
	}
	done = xcalloc(r->n == 0 ? 1 : r->n, 1);
	if (run_probe(r, cause) != 0 ||
	    run_open(r, trigger, redo, done, cause) != 0) {
		free(done);
		run_free(r);
		return -1;
	}
	r->ready = dag_ready_new(job->dag, done);
	free(done);
	ptr_push(&e->runs, &e->nruns, &e->runs_cap, r);
	if (run_id != NULL)
		*run_id = r->run_id;
	if (e->obs != NULL && e->obs->run_start != NULL)
		e->obs->run_start(e->obs->arg, job, r->key, r->istart, r->iend,
		    r->run_id);
	return 0;
}

static struct run_summary *
run_summarise(struct erun *r, const char *state, int64_t duration)
{
	struct run_summary	*s;
	const size_t		*topo = dag_topo(r->job->dag);
	size_t			 i;

	s = xcalloc(1, sizeof *s);
	s->run_id = r->run_id;
	s->job = xstrdup(r->job->name);
	s->partition_key = xstrdup(r->key);
	s->state = xstrdup(state);
	s->duration_us = duration;
	s->ntasks = r->n;
	s->tasks = xcalloc(r->n == 0 ? 1 : r->n, sizeof *s->tasks);
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

/* Record the end of a run whose work is over. */
static int
run_close(struct erun *r, char **cause)
{
	struct engine	*e = r->e;
	size_t		 i;
	const char	*state = "success";
	int64_t		 now = now_us();
	static const char *const keep[] = { "published", "quarantined",
	    NULL };

	for (i = 0; i < r->n; i++) {
		const char *s = r->t[i].state;

		if (strcmp(s, "success") != 0 && strcmp(s, "skipped") != 0) {
			state = r->cancelled && !r->timed_out ? "cancelled" :
			    "failed";
			break;
		}
	}
	if (state_begin(e->st, cause) != 0)
		return -1;
	for (i = 0; i < r->n; i++) {
		struct rtask *t = &r->t[i];

		/* Tasks never reached (cancelled before they were ready). */
		if (strcmp(t->state, "queued") == 0 ||
		    strcmp(t->state, "up_for_retry") == 0) {
			t->state = "cancelled";
			if (state_ti_set(e->st, t->ti_id, t->state, t->tries,
			    r->timed_out ? "run timed out" :
			    e->cancel_why != NULL ? e->cancel_why :
			    "run cancelled", 0, now, cause) != 0)
				goto fail;
		}
	}
	if (strcmp(state, "success") != 0 &&
	    run_products_set(r, "missing", keep, cause) != 0)
		goto fail;
	if (state_run_set(e->st, r->run_id, state, 0, now, cause) != 0)
		goto fail;
	if (state_commit(e->st, cause) != 0)
		return -1;
	run_summary_free(e->last);
	e->last = run_summarise(r, state, mono_us() - r->started);
	if (e->obs != NULL && e->obs->run_end != NULL)
		e->obs->run_end(e->obs->arg, r->job, r->key, r->run_id, state,
		    e->last->duration_us);
	return 0;
fail:
	state_rollback(e->st);
	return -1;
}

/* Close and drop every run whose work is over. */
static int
engine_reap(struct engine *e, char **cause)
{
	size_t	i;

	if (e->stopping)
		return 0;
	for (i = 0; i < e->nruns; ) {
		struct erun *r = e->runs[i];

		if (r->running > 0 || r->waiting > 0 ||
		    (!r->cancelled && dag_ready_remaining(r->ready) > 0)) {
			i++;
			continue;
		}
		if (run_close(r, cause) != 0)
			return -1;
		memmove(&e->runs[i], &e->runs[i + 1],
		    (e->nruns - i - 1) * sizeof *e->runs);
		e->nruns--;
		run_free(r);
	}
	return 0;
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
				executor_cancel(e->ex, e->busy[j]->attempt_id,
				    why);
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
		executor_cancel(e->ex, e->busy[i]->attempt_id, why);
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
				executor_cancel(e->ex, e->busy[j]->attempt_id,
				    why);
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
	for (i = 0; i < e->nbusy; i++)
		executor_cancel(e->ex, e->busy[i]->attempt_id, why);
}

struct run_summary *
engine_take_summary(struct engine *e)
{
	struct run_summary	*s = e->last;

	e->last = NULL;
	return s;
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
	free(e->blocked);
	for (i = 0; i < e->nprobes; i++) {
		free(e->probes[i].path);
		if (e->probes[i].info != NULL)
			plugin_info_free(e->probes[i].info);
	}
	free(e->probes);
	run_summary_free(e->last);
	free(e);
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
	free(s->job);
	free(s->partition_key);
	free(s->state);
	free(s);
}

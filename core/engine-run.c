/*
 * engine-run.c -- the engine's runs: describing their plugins, opening them
 * in the state (resuming what already succeeded), their products'
 * partition states, run parameters, and closing them with a summary.
 * engine.c launches their tasks and applies the results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "alert.h"
#include "engine-int.h"
#include "state.h"

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

		/* Most tasks of a job share their plugin: look at the file
		 * once a run, not once a task. */
		if (i > 0 && strcmp(td->plugin_path,
		    r->t[i - 1].def->plugin_path) == 0)
			r->infos[i] = r->infos[i - 1];
		else
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

void
job_synced_clear(struct job_synced *j)
{
	free(j->name);
	free(j->domain);
	free(j->owner);
	free(j->description);
	free(j->file);
	free(j->schedule);
	memset(j, 0, sizeof *j);
}

/* The run's job in the jobs table: written unless this engine wrote the
 * very same row last time (a backfill opens thousands of runs of one
 * job). */
static int
run_sync_job(struct erun *r, char **cause)
{
	struct job_synced	*c = &r->e->synced;
	const struct job_def	*j = r->job;

	if (c->name != NULL && strcmp(c->name, j->name) == 0 &&
	    str_same(c->domain, j->domain) &&
	    str_same(c->owner, j->owner) &&
	    str_same(c->description, j->description) &&
	    str_same(c->file, j->file) &&
	    str_same(c->schedule, j->schedule)) {
		r->job_id = c->id;
		return 0;
	}
	job_synced_clear(c);
	if (state_job_sync(r->e->st, j->name, j->domain, j->owner,
	    j->description, j->file, j->schedule, &r->job_id, cause) != 0)
		return -1;
	c->name = xstrdup(j->name);
	c->domain = xstrdup_null(j->domain);
	c->owner = xstrdup_null(j->owner);
	c->description = xstrdup_null(j->description);
	c->file = xstrdup_null(j->file);
	c->schedule = xstrdup_null(j->schedule);
	c->id = r->job_id;
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

void
run_free(struct erun *r)
{
	size_t	i;

	if (r->ready != NULL)
		dag_ready_free(r->ready);
	free(r->infos);		/* the descriptions are the engine's */
	free(r->lin_inputs);
	for (i = 0; i < r->n; i++) {
		free(r->t[i].reason);
		free(r->t[i].adopt_ext_id);
	}
	free(r->deferred);
	free(r->t);
	free(r->key);
	paramset_free(&r->over);
	free(r);
}

/* A run opened again records what opened it this time, not what created
 * it: a rerun by meshctl run is 'manual', by trigger 'trigger'. */
static int
run_retrigger(struct erun *r, const char *trigger, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc = 0;

	if (trigger == NULL)
		return 0;
	if (sqlite3_prepare_v2(state_sqlite(r->e->st), "UPDATE runs SET "
	    "\"trigger\" = ?1, scheduled = scheduled OR ?1 = 'schedule' "
	    "WHERE id = ?2", -1, &stmt, NULL) != SQLITE_OK) {
		set_cause(cause, "run trigger: %s", sqlite3_errmsg(
		    state_sqlite(r->e->st)));
		return -1;
	}
	sqlite3_bind_text(stmt, 1, trigger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, r->run_id);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		set_cause(cause, "run trigger: %s", sqlite3_errmsg(
		    state_sqlite(r->e->st)));
		rc = -1;
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int
run_open(struct erun *r, const char *trigger, enum engine_redo redo,
    unsigned char *done, char **cause)
{
	struct engine	*e = r->e;
	const char	*st;
	size_t		 i;
	int		 created, fresh;
	int64_t		 now = now_us();
	static const char *const keep_published[] = { "published", NULL };

	if ((e->adding ? state_savepoint(e->st, cause) :
	    state_begin(e->st, cause)) != 0)
		return -1;
	if (run_sync_job(r, cause) != 0 ||
	    run_sync_products(r, cause) != 0 ||
	    state_run_open(e->st, r->job_id, r->key, r->istart, r->iend,
	    trigger, &r->run_id, &created, cause) != 0 ||
	    (!created && run_retrigger(r, trigger, cause) != 0) ||
	    run_load_params(r, cause) != 0 ||
	    state_run_set(e->st, r->run_id, "running", now, 0, cause) != 0)
		goto fail;
	for (i = 0; i < r->n; i++) {
		struct rtask *t = &r->t[i];

		if (state_ti_open_new(e->st, r->run_id, t->def->id,
		    stage_name(t->def->stage), t->max_tries, &t->ti_id, &st,
		    &t->tries, &fresh, cause) != 0)
			goto fail;
		if (fresh) {
			/* Made queued, with no try and no reason. */
			t->state = "queued";
			continue;
		}
		if (redo == ENGINE_RESUME && (strcmp(st, "success") == 0 ||
		    strcmp(st, "skipped") == 0)) {
			/* Committed success is never run twice. */
			done[i] = 1;
			t->state = strcmp(st, "success") == 0 ? "success" :
			    "skipped";
			continue;
		}
		/* An attempt still in flight on a remote executor (meshd
		 * restarted under it) is adopted, never submitted twice. */
		if (redo == ENGINE_RESUME && strcmp(st, "running") == 0) {
			int a = task_adoptable(e, t, cause);

			if (a == -1)
				goto fail;
			if (a == 1) {
				t->state = "running";
				if (t->max_tries < t->tries)
					t->max_tries = t->tries;
				continue;
			}
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
	if (e->adding)
		return state_release(e->st, cause) == 0 ? 0 : -1;
	if (state_commit(e->st, cause) == 0)
		return 0;
	/* Not written after all (or held for the disk): write it again. */
	job_synced_clear(&e->synced);
	return -1;
fail:
	if (e->adding)
		state_savepoint_rollback(e->st);
	else
		state_rollback(e->st);
	job_synced_clear(&e->synced);
	return -1;
}

static void	run_started(struct erun *);

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
	if (e->adding) {
		/* Nobody hears of it before the batch commits. */
		ptr_push(&e->added, &e->nadded, &e->added_cap, r);
		return 0;
	}
	run_started(r);
	return 0;
}

/* After the run's opening committed: adopt what a remote executor still
 * runs of it, and announce it. */
static void
run_started(struct erun *r)
{
	struct engine	*e = r->e;

	run_adopt(r);
	if (e->obs != NULL && e->obs->run_start != NULL)
		e->obs->run_start(e->obs->arg, r->job, r->key, r->istart,
		    r->iend, r->run_id);
}

int
engine_add_runs_begin(struct engine *e, char **cause)
{
	if (e->adding) {
		set_cause(cause, "engine: a batch of runs is already open");
		return -1;
	}
	if (state_begin(e->st, cause) != 0)
		return -1;
	e->adding = 1;
	e->nadded = 0;
	return 0;
}

int
engine_add_runs_end(struct engine *e, char **cause)
{
	size_t	i, j, k;
	int	rc;

	if (!e->adding)
		return 0;
	e->adding = 0;
	if (e->nadded == 0) {
		state_rollback(e->st);
		return 0;
	}
	if ((rc = state_commit(e->st, cause)) != 0) {
		/* None of them was written: none is active. */
		job_synced_clear(&e->synced);
		for (i = j = k = 0; i < e->nruns; i++)
			if (k < e->nadded && e->runs[i] == e->added[k])
				run_free(e->added[k++]);
			else
				e->runs[j++] = e->runs[i];
		e->nruns = j;
	} else
		for (i = 0; i < e->nadded; i++)
			run_started(e->added[i]);
	e->nadded = 0;
	return rc;
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
/* The final state of a run whose work is over. */
static const char *
run_final(const struct erun *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		const char *s = r->t[i].state;

		if (strcmp(s, "success") != 0 && strcmp(s, "skipped") != 0)
			return r->cancelled && !r->timed_out ? "cancelled" :
			    "failed";
	}
	return "success";
}

/* Record the end of `r` as `state`, in the open transaction. */
static int
run_close(struct erun *r, const char *state, int64_t now, char **cause)
{
	struct engine	*e = r->e;
	size_t		 i;
	static const char *const keep[] = { "published", "quarantined",
	    NULL };
	/* A run that succeeds without publishing a product it was building
	 * (a job with no publish task, or its publish skipped) leaves the
	 * partition missing, not building for ever. */
	static const char *const keep_built[] = { "published",
	    "quarantined", "stale", "missing", NULL };

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
				return -1;
		}
	}
	if (run_products_set(r, "missing", strcmp(state, "success") != 0 ?
	    keep : keep_built, cause) != 0)
		return -1;
	if (state_run_set(e->st, r->run_id, state, 0, now, cause) != 0 ||
	    alert_run_end(e->st, e->cfg, r->job, r->run_id, state, cause) != 0)
		return -1;
	return 0;
}

/* After the commit: tell the observers that `r` ended as `state`. */
static void
run_closed(struct erun *r, const char *state)
{
	struct engine	*e = r->e;

	run_summary_free(e->last);
	e->last = run_summarise(r, state, mono_us() - r->started);
	if (e->obs != NULL && e->obs->run_end != NULL)
		e->obs->run_end(e->obs->arg, r->job, r->key, r->run_id, state,
		    e->last->duration_us);
}

/* Close and drop every run whose work is over: all in one transaction
 * (a backfill ends dozens of runs a step). */
int
engine_reap(struct engine *e, char **cause)
{
	struct erun	**over = NULL;
	const char	**states = NULL;
	size_t		  i, j, k, n = 0;
	int64_t		  now = now_us();

	if (e->stopping)
		return 0;
	for (i = 0; i < e->nruns; i++) {
		struct erun *r = e->runs[i];

		if (r->running > 0 || r->waiting > 0 ||
		    (!r->cancelled && dag_ready_remaining(r->ready) > 0))
			continue;
		if (n == 0) {
			over = xcalloc(e->nruns, sizeof *over);
			states = xcalloc(e->nruns, sizeof *states);
		}
		over[n] = r;
		states[n++] = run_final(r);
	}
	if (n == 0)
		return 0;
	if (state_begin(e->st, cause) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (run_close(over[i], states[i], now, cause) != 0) {
			state_rollback(e->st);
			goto fail;
		}
	if (state_commit(e->st, cause) != 0)
		goto fail;
	/* Out of the active list, keeping its order (the round robin's). */
	for (i = k = j = 0; i < e->nruns; i++)
		if (k < n && e->runs[i] == over[k])
			k++;
		else
			e->runs[j++] = e->runs[i];
	e->nruns = j;
	for (i = 0; i < n; i++) {
		run_closed(over[i], states[i]);
		run_free(over[i]);
	}
	free(over);
	free(states);
	return 0;
fail:
	free(over);
	free(states);
	return -1;
}

struct run_summary *
engine_take_summary(struct engine *e)
{
	struct run_summary	*s = e->last;

	e->last = NULL;
	return s;
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

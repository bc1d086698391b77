/*
 * engine-exec.c -- which executor runs a task (issue 13, design decision
 * 10).  The engine's view of its executors: the local pool (index 0) and
 * the remote ones of meshd.conf (index k + 1, xremote.h).  What a task
 * may start, where its attempt goes, the Slurm job name recorded with it
 * before it is submitted, cancelling, and adopting after a restart.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"
#include "log.h"
#include "slurm.h"
#include "state-exec.h"
#include "util.h"
#include "xremote.h"

void
engine_set_remotes(struct engine *e, struct xremote **xr, size_t n)
{
	e->xr = xr;
	e->nxr = n;
	free(e->room);
	e->room = xcalloc(n + 1, sizeof *e->room);
}

int
task_executor(const struct engine *e, const struct rtask *t)
{
	int	k = t->def->executor_index;

	/* Without its remote (meshctl run), a task runs locally. */
	if (k <= 0 || (size_t)k > e->nxr || e->xr[k - 1] == NULL)
		return 0;
	return k;
}

int
engine_room(struct engine *e)
{
	size_t	k;
	int	total;

	if (e->room == NULL)
		e->room = xcalloc(1, sizeof *e->room);
	e->room[0] = executor_room(e->ex);
	total = e->room[0];
	for (k = 0; k < e->nxr; k++) {
		e->room[k + 1] = e->xr[k] != NULL ? xremote_room(e->xr[k]) : 0;
		total += e->room[k + 1];
	}
	return total;
}

/*
 * Name the remote attempts of a launch batch, in its open transaction:
 * attempts of one task of one job on one executor share a Slurm job name
 * (that of the first) and get consecutive array indexes, so that the agent
 * submits them as one job array.  Recorded before anything is submitted:
 * a meshd that dies after sbatch finds the job by this name.
 */
int
launch_name(struct engine *e, struct rtask **batch, size_t nb, char **cause)
{
	size_t	i, j;

	for (i = 0; i < nb; i++) {
		struct rtask	*t = batch[i];
		int		 k = task_executor(e, t);
		char		*name;
		int		 idx = 0;

		t->ext_index = 0;
		t->ext_name[0] = '\0';
		if (k == 0)
			continue;
		/* The first of the batch with the same task (across the
		 * runs of its job) on the same executor leads the group. */
		for (j = 0; j < i; j++) {
			if (batch[j]->def != t->def ||
			    task_executor(e, batch[j]) != k)
				continue;
			if (idx++ == 0)
				memcpy(t->ext_name, batch[j]->ext_name,
				    sizeof t->ext_name);
		}
		t->ext_index = idx;
		if (idx == 0) {
			name = slurm_job_name(t->attempt_id);
			snprintf(t->ext_name, sizeof t->ext_name, "%s", name);
			free(name);
		}
		if (state_attempt_set_exec(e->st, t->attempt_id,
		    config_executor_name(e->cfg, k), t->ext_name, t->ext_index,
		    cause) != 0)
			return -1;
	}
	return 0;
}

void
task_remote_submit(struct engine *e, struct rtask *t,
    const struct task_req *req)
{
	struct xremote	*x = e->xr[task_executor(e, t) - 1];

	xremote_submit(x, req, t->ext_name, t->ext_index);
}

void
engine_remotes_flush(struct engine *e)
{
	size_t	k;

	for (k = 0; k < e->nxr; k++)
		if (e->xr[k] != NULL)
			xremote_flush(e->xr[k]);
}

void
task_cancel(struct engine *e, struct rtask *t, const char *why)
{
	int	k = task_executor(e, t);

	if (k == 0)
		executor_cancel(e->ex, t->attempt_id, why);
	else
		xremote_cancel(e->xr[k - 1], t->attempt_id, why);
}

int
task_detach(struct engine *e, struct rtask *t)
{
	int	k = task_executor(e, t);

	if (k == 0)
		return -1;
	return xremote_detach(e->xr[k - 1], t->attempt_id);
}

int
engine_flush_updates(struct engine *e, char **cause)
{
	struct xupdate	*v;
	size_t		 k, i, n;
	int		 rc = 0;

	for (k = 0; k < e->nxr && rc == 0; k++) {
		if (e->xr[k] == NULL)
			continue;
		n = xremote_updates(e->xr[k], &v);
		for (i = 0; i < n && rc == 0; i++)
			rc = state_attempt_set_ext(e->st, v[i].attempt_id,
			    v[i].ext_id, v[i].ext_state, cause);
		xupdates_free(v, n);
	}
	return rc;
}

int
engine_has_updates(const struct engine *e)
{
	size_t	k;

	for (k = 0; k < e->nxr; k++)
		if (e->xr[k] != NULL && xremote_has_updates(e->xr[k]))
			return 1;
	return 0;
}

/*
 * Run-open, resuming: is there an attempt of `t` in flight on a remote
 * executor that meshd still has?  Then the task is adopted, not run
 * again.  1 if so (t filled in), 0 if not, -1 with cause.
 */
int
task_adoptable(struct engine *e, struct rtask *t, char **cause)
{
	struct remote_attempt	a;
	int			rc, k;

	if (e->nxr == 0)
		return 0;
	if ((rc = state_remote_attempt(e->st, t->ti_id, &a, cause)) != 1)
		return rc;
	k = config_executor_index(e->cfg, a.executor);
	if (k <= 0 || (size_t)k > e->nxr || e->xr[k - 1] == NULL) {
		remote_attempt_clear(&a);
		return 0;
	}
	t->attempt_id = a.attempt_id;
	t->tries = a.try_number;
	t->adopt_exec = k;
	snprintf(t->ext_name, sizeof t->ext_name, "%s",
	    a.ext_name != NULL ? a.ext_name : "");
	t->ext_index = a.ext_index;
	free(t->adopt_ext_id);
	t->adopt_ext_id = a.ext_id;
	a.ext_id = NULL;
	remote_attempt_clear(&a);
	return 1;
}

/*
 * After a resumed run's readiness is built: hand its adopted tasks to
 * their executors as running, and put the other ready tasks back.
 */
void
run_adopt(struct erun *r)
{
	struct engine	*e = r->e;
	size_t		 idx, *back = NULL, nback = 0, i;
	int		 any = 0;

	for (i = 0; i < r->n; i++)
		any |= r->t[i].adopt_exec != 0;
	if (!any)
		return;
	back = xcalloc(r->n, sizeof *back);
	while (dag_ready_next(r->ready, &idx)) {
		struct rtask	*t = &r->t[idx];
		struct task_req	 req;
		char		*staging, *adir, *log;

		if (t->adopt_exec == 0) {
			back[nback++] = idx;
			continue;
		}
		staging = run_path(e->cfg->staging_dir, r, "%s", "");
		adir = run_path(e->cfg->staging_dir, r, ".attempts/%s.%d",
		    t->def->id, t->tries);
		log = run_path(e->cfg->log_dir, r, "/%s.%d.log", t->def->id,
		    t->tries);
		memset(&req, 0, sizeof req);
		req.attempt_id = t->attempt_id;
		req.job = r->job->name;
		req.task_id = t->def->id;
		req.plugin_path = t->def->plugin_path;
		req.stage = t->def->stage;
		req.attempt = t->tries;
		req.partition_key = r->key;
		req.staging_dir = staging;
		req.attempt_dir = adir;
		req.log_path = log;
		req.timeout_us = t->def->timeout_us;
		xremote_adopt(e->xr[t->adopt_exec - 1], &req, t->ext_name,
		    t->ext_index, t->adopt_ext_id);
		log_info("run %s %s: task '%s' attempt %d adopted on executor "
		    "'%s' (Slurm job %s)", r->job->name, r->key, t->def->id,
		    t->tries, config_executor_name(e->cfg, t->adopt_exec),
		    t->adopt_ext_id != NULL ? t->adopt_ext_id : t->ext_name);
		free(staging);
		free(adir);
		free(log);
		t->state = "running";
		t->running = 1;
		t->pid = 0;
		t->attempt_start = mono_us();
		r->running++;
		t->adopt_exec = 0;
		ptr_push(&e->busy, &e->nbusy, &e->busy_cap, t);
	}
	for (i = 0; i < nback; i++)
		dag_ready_retry(r->ready, back[i]);
	free(back);
}

/*
 * slurm-agent-pilot.c -- pilot mode in the agent: the pilot pool (pilot.h)
 * runs the attempts; the agent keeps it supplied with pilot jobs, through
 * the same sbatch and the same one squeue per poll as job mode.
 *
 * Pilot jobs are named "meshd-pilot-<executor>-<n>".  After a restart the
 * agent looks for the ones still queued or running (one squeue) so that
 * it neither submits too many nor forgets to tell the pool when one ends;
 * their pilots reconnect by themselves and name the attempts they run,
 * which the pool matches with meshd's ADOPTs.
 */
#include <sys/wait.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "pilot.h"
#include "slurm.h"
#include "slurm-int.h"
#include "slurm-agent.h"

/* How long an adopted attempt waits for its pilot to reconnect. */
#define PILOT_ADOPT_WAIT_US	(90LL * 1000000)
/* An adopted attempt meshd never heard a pilot take: a pilot that had it
 * names it on reconnecting (within a second or two); one nobody names by
 * then never reached a pilot, and is queued for one. */
#define PILOT_ADOPT_UNSEEN_US	(15LL * 1000000)
/* The pool's reason for an adopted attempt nobody claimed (pilot.c). */
#define PILOT_LOST		"lost with its pilot"

static struct att *
pilot_att(struct agent *ag, int64_t id)
{
	size_t	i;

	for (i = 0; i < ag->n; i++)
		if (ag->a[i]->id == id && !ag->a[i]->done)
			return ag->a[i];
	return NULL;
}

static void
cb_done(void *arg, int64_t id, int have_file, const char *reason,
    int retryable)
{
	struct agent	*ag = arg;
	struct att	*t;

	if ((t = pilot_att(ag, id)) == NULL)
		return;
	if (t->requeue_unclaimed && !have_file && t->cancel_why == NULL &&
	    reason != NULL && strcmp(reason, PILOT_LOST) == 0) {
		/* No pilot ever had it: run it now, once. */
		t->requeue_unclaimed = 0;
		t->st = AT_QUEUED;
		t->flushed = 1;
		return;
	}
	agent_done(ag, t, have_file, reason != NULL ? reason :
	    "the pilot ended the attempt without a reason", retryable, 0);
}

static void
cb_started(void *arg, int64_t id, const char *ext_id)
{
	struct agent	*ag = arg;
	struct att	*t;

	if ((t = pilot_att(ag, id)) == NULL)
		return;
	free(t->ext_id);
	t->ext_id = xstrdup_null(ext_id);
	free(t->state);
	t->state = xstrdup("RUNNING");
	agent_update(ag, t);
}

void
pilot_config(struct agent *ag)
{
	struct pilot_pool_cb	 cb;
	char			*cause = NULL;

	if (ag->def.mode != XMODE_PILOT || ag->pool != NULL)
		return;
	cb.done = cb_done;
	cb.started = cb_started;
	cb.arg = ag;
	free(ag->pool_error);
	ag->pool_error = NULL;
	if ((ag->pool = pilot_pool_new(&ag->def, &cb, &cause)) == NULL) {
		ag->pool_error = xasprintf("pilot pool: %s", cause);
		fprintf(stderr, "slurm agent %s: %s: every attempt on this "
		    "executor fails\n", ag->def.name, ag->pool_error);
		free(cause);
	}
}

size_t
pilot_pollfds(struct agent *ag, struct pollfd *pfd, size_t max)
{
	if (ag->pool == NULL)
		return 0;
	return pilot_pool_pollfds(ag->pool, pfd, max);
}

void
pilot_handle(struct agent *ag, const struct pollfd *pfd, size_t n)
{
	if (ag->pool != NULL && n > 0)
		pilot_pool_handle(ag->pool, pfd, n);
}

int64_t
pilot_tick(struct agent *ag)
{
	if (ag->pool == NULL)
		return 0;
	return pilot_pool_tick(ag->pool, mono_us());
}

void
pilot_cancel(struct agent *ag, struct att *t)
{
	if (ag->pool == NULL || pilot_pool_cancel(ag->pool, t->id,
	    t->cancel_why) != 0)
		agent_done(ag, t, 0, t->cancel_why, 0, 0);
}

void
pilot_adopt(struct agent *ag, struct att *t)
{
	if (ag->pool == NULL) {
		agent_done(ag, t, 0, ag->pool_error != NULL ? ag->pool_error :
		    "pilot pool not started", 1, 1);
		return;
	}
	t->st = AT_PILOT;
	t->requeue_unclaimed = t->ext_id == NULL;
	pilot_pool_adopt(ag->pool, t->id, t->attempt_dir, mono_us() +
	    (t->ext_id == NULL ? PILOT_ADOPT_UNSEEN_US : PILOT_ADOPT_WAIT_US));
}

static void
pj_add(struct agent *ag, const char *job_id, const char *state)
{
	ag->pj = xreallocarray(ag->pj, ag->npj + 1, sizeof *ag->pj);
	ag->pj[ag->npj].job_id = xstrdup(job_id);
	ag->pj[ag->npj].state = xstrdup(state);
	ag->pj[ag->npj].missing = 0;
	ag->npj++;
}

static void
pj_remove(struct agent *ag, size_t i)
{
	free(ag->pj[i].job_id);
	free(ag->pj[i].state);
	ag->pj[i] = ag->pj[--ag->npj];
}

/* After a restart: the pilot jobs of this executor still in Slurm. */
static int
pilot_find(struct agent *ag)
{
	const char	*av[8];
	struct cli_out	 o;
	struct sq_row	*rows;
	char		*prefix, *e;
	size_t		 n, i, plen, slen;
	int		 k;

	av[0] = "squeue";
	av[1] = "-h";
	av[2] = "-t";
	av[3] = "PD,R,CG,CF,S";
	av[4] = "-O";
	av[5] = SQUEUE_FORMAT_OUT;
	av[6] = NULL;
	if (cli_run(av, cli_timeout_ms(), &o) != 0) {
		e = cli_error("squeue", &o);
		agent_error(ag, e);
		free(e);
		cli_out_free(&o);
		agent_backoff(ag);
		return -1;
	}
	agent_error(ag, NULL);
	prefix = xasprintf("meshd-pilot-%s-", ag->def.name);
	plen = strlen(prefix);
	rows = sq_parse_out(o.out, &n, NULL);
	slen = strlen(ag->def.spool_dir);
	for (i = 0; i < n; i++) {
		/* Ours: named for this executor and writing into its spool
		 * (another meshd's executor may have the same name). */
		if (strncmp(rows[i].name, prefix, plen) != 0 ||
		    rows[i].out == NULL || strncmp(rows[i].out,
		    ag->def.spool_dir, slen) != 0 || rows[i].out[slen] != '/' ||
		    rows[i].array_task != -1 ||
		    sq_classify(rows[i].state) == SQ_ENDED)
			continue;
		pj_add(ag, rows[i].job_id, rows[i].state);
		k = atoi(rows[i].name + plen);
		if (k >= ag->pilot_seq)
			ag->pilot_seq = k + 1;
	}
	sq_rows_free(rows, n);
	free(prefix);
	cli_out_free(&o);
	return 0;
}

/* One pilot job.  0, or -1 when the controller did not answer. */
static int
pilot_sbatch(struct agent *ag)
{
	const char	**av;
	struct cli_out	  o;
	char		 *name, *script, *text, *w, *c, *f, *cause = NULL;
	char		 *job_id, *e, *a_name, *a_part, *a_time, *a_out;
	size_t		  k = 0, i;
	int		  r = 0, minutes;

	if (mkdir_p(ag->def.spool_dir, 0755, &cause) != 0) {
		e = xasprintf("slurm spool %s: %s", ag->def.spool_dir, cause);
		agent_error(ag, e);
		free(e);
		free(cause);
		agent_backoff(ag);
		return -1;
	}
	name = xasprintf("meshd-pilot-%s-%d", ag->def.name, ag->pilot_seq);
	script = xasprintf("%s/%s.sh", ag->def.spool_dir, name);
	w = sh_quote(ag->def.worker);
	c = sh_quote(pilot_pool_address(ag->pool));
	f = sh_quote(ag->def.secret_file);
	text = xasprintf("#!/bin/sh\n# meshd: a pilot of executor %s\n"
	    "exec %s --pilot --connect %s --secret-file %s --slots %d\n",
	    ag->def.name, w, c, f, ag->def.pilot_slots > 0 ?
	    ag->def.pilot_slots : 1);
	free(w);
	free(c);
	free(f);
	if (sb_write_file(script, text, 0755, &cause) != 0) {
		e = xasprintf("cannot write the pilot script: %s", cause);
		agent_error(ag, e);
		free(e);
		free(cause);
		free(text);
		free(script);
		free(name);
		agent_backoff(ag);
		return -1;
	}
	free(text);
	minutes = ((ag->def.pilot_time_s > 0 ? ag->def.pilot_time_s : 3600) +
	    59) / 60;
	a_name = xasprintf("--job-name=%s", name);
	a_part = ag->def.partition != NULL && *ag->def.partition != '\0' ?
	    xasprintf("--partition=%s", ag->def.partition) : NULL;
	a_time = xasprintf("--time=%d", minutes);
	a_out = xasprintf("%s/%%x-%%A_%%a.out", ag->def.spool_dir);
	av = xcalloc(ag->def.nsbatch_args + 10, sizeof *av);
	av[k++] = "sbatch";
	av[k++] = "--parsable";
	av[k++] = a_name;
	if (a_part != NULL)
		av[k++] = a_part;
	av[k++] = a_time;
	av[k++] = "-o";
	av[k++] = a_out;
	for (i = 0; i < ag->def.nsbatch_args; i++)
		av[k++] = ag->def.sbatch_args[i];
	av[k++] = script;
	av[k] = NULL;
	cli_run(av, cli_timeout_ms(), &o);
	job_id = NULL;
	if (!o.timed_out && WIFEXITED(o.wstatus) &&
	    WEXITSTATUS(o.wstatus) == 0)
		job_id = sb_parse_job_id(o.out);
	if (job_id != NULL) {
		agent_error(ag, NULL);
		pj_add(ag, job_id, "PENDING");
		ag->pilot_seq++;
		free(job_id);
	} else {
		/* A pilot job taken anyway simply connects: it is not an
		 * attempt, so a second one costs a slot, never a rerun. */
		e = cli_error("sbatch", &o);
		agent_error(ag, e);
		if (!cli_transient(&o)) {
			/* Refused: the attempts waiting cannot run. */
			for (i = 0; i < ag->n; i++)
				if (!ag->a[i]->done &&
				    ag->a[i]->st == AT_QUEUED &&
				    ag->a[i]->flushed)
					agent_done(ag, ag->a[i], 0, e, 0, 0);
		}
		free(e);
		agent_backoff(ag);
		r = -1;
	}
	cli_out_free(&o);
	free(a_name);
	free(a_part);
	free(a_time);
	free(a_out);
	free(av);
	free(script);
	free(name);
	return r;
}

void
pilot_step(struct agent *ag)
{
	size_t	i;
	int	queued = 0, pending, want;

	if (ag->pool == NULL) {
		for (i = 0; i < ag->n; i++)
			if (!ag->a[i]->done && ag->a[i]->st == AT_QUEUED &&
			    ag->a[i]->flushed)
				agent_done(ag, ag->a[i], 0, ag->pool_error != NULL ?
				    ag->pool_error : "pilot pool not started",
				    0, 0);
		return;
	}
	if (!ag->pilots_found) {
		if (mono_us() < ag->retry_at || pilot_find(ag) != 0)
			return;
		ag->pilots_found = 1;
	}
	for (i = 0; i < ag->n; i++) {
		struct att *t = ag->a[i];
		if (t->done || t->st != AT_QUEUED || !t->flushed)
			continue;
		if (t->cancel_why != NULL) {
			agent_done(ag, t, 0, t->cancel_why, 0, 0);
			continue;
		}
		if (pilot_pool_submit(ag->pool, t->id, t->attempt_dir) != 0) {
			queued++;
			continue;
		}
		t->st = AT_PILOT;
	}
	if (queued == 0 || mono_us() < ag->retry_at)
		return;
	pending = (int)ag->npj - pilot_pool_connected(ag->pool);
	if (pending < 0)
		pending = 0;
	want = pilot_pool_wanted(ag->pool, queued, pending);
	while (want-- > 0 && !ag->exiting)
		if (pilot_sbatch(ag) != 0)
			break;
	agent_drain(ag);
}

/* The pilot jobs' ids for the poll's one squeue. */
char *
pilot_poll_ids(struct agent *ag, char *ids)
{
	char	*x;
	size_t	 i;

	for (i = 0; i < ag->npj; i++) {
		x = ids == NULL ? xstrdup(ag->pj[i].job_id) :
		    xasprintf("%s,%s", ids, ag->pj[i].job_id);
		free(ids);
		ids = x;
	}
	return ids;
}

/* What squeue said of the pilot jobs: one that ended takes its running
 * attempts with it, with the reason. */
void
pilot_rows(struct agent *ag, const struct sq_row *rows, size_t n)
{
	const struct sq_row	*row;
	char			*why;
	size_t			 i, j;

	for (i = 0; i < ag->npj; ) {
		row = NULL;
		for (j = 0; j < n; j++)
			if (rows[j].array_task == -1 &&
			    strcmp(rows[j].job_id, ag->pj[i].job_id) == 0)
				row = &rows[j];
		if (row != NULL && sq_classify(row->state) != SQ_ENDED) {
			free(ag->pj[i].state);
			ag->pj[i].state = xstrdup(row->state);
			ag->pj[i].missing = 0;
			i++;
			continue;
		}
		if (row == NULL && ++ag->pj[i].missing < 2) {
			i++;
			continue;
		}
		why = row != NULL ? xasprintf("pilot %s ended: %s",
		    ag->pj[i].job_id, row->state) : xasprintf("pilot %s left "
		    "the queue", ag->pj[i].job_id);
		if (ag->pool != NULL)
			pilot_pool_job_ended(ag->pool, ag->pj[i].job_id, why);
		free(why);
		pj_remove(ag, i);
	}
}

void
pilot_free(struct agent *ag)
{
	size_t	i;

	pilot_pool_free(ag->pool);
	ag->pool = NULL;
	for (i = 0; i < ag->npj; i++) {
		free(ag->pj[i].job_id);
		free(ag->pj[i].state);
	}
	free(ag->pj);
	ag->pj = NULL;
	ag->npj = 0;
	free(ag->pool_error);
	ag->pool_error = NULL;
}

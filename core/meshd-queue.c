/*
 * meshd-queue.c -- the runs waiting for a place in the engine.
 *
 * Admission is oldest first: among the queued runs that may start now, the
 * one queued first starts first.  A run may not start while its jitter
 * (not_before) is ahead, while the inputs it reads are not published, while
 * the same partition is active, or, unless a backfill launched it, while
 * its job has max_active_runs runs active.
 *
 * The queue used to be one array scanned from the front on every loop pass
 * and on every membership question, and shifted with memmove on every
 * admission: with 100,000 runs queued that was the daemon's own cost per
 * run.  Now every operation costs O(log n):
 *
 *   - a hash on (job, partition) answers "is it queued?" and finds a run
 *     to cancel;
 *   - runs whose not_before is ahead wait in a heap on not_before;
 *   - the others are in lanes, one per (job, launched by a backfill or
 *     not), each a heap on the queue order; a lane of a job with inputs
 *     keeps the runs whose inputs are still to be looked at in a second
 *     heap, so that they are looked at even while the job is at its limit
 *     (as the old scan did);
 *   - the lanes are in a heap on their oldest run: admission takes the
 *     oldest run of the lane whose oldest run is oldest;
 *   - runs waiting for inputs are parked in their lane, out of every
 *     heap, until a publication they may read sends them back
 *     (daemon_queue_inputs_changed()).
 *
 * A lane blocked for this pass (its job at max_active_runs) and a run
 * whose partition is active are set aside and put back at the end of the
 * pass: both are bounded by the runs in the engine, not by the queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "meshd.h"
#include "util.h"

enum q_where {
	Q_NONE,
	Q_DELAYED,	/* d->queue->delayed: not_before ahead */
	Q_UNCHECKED,	/* its lane's `unchecked`: inputs to look at */
	Q_READY,	/* its lane's `ready` */
	Q_PARKED,	/* its lane's `parked`: waits for a publication */
	Q_ASIDE		/* out for this admission pass */
};

/* A heap of runs; each run knows its index (pending.hpos). */
struct qheap {
	struct pending	**v;
	size_t		  n, cap;
	int		  delayed;	/* ordered on not_before first */
};

struct qlane {
	char		*job;
	int		 backfill;
	struct qheap	 ready;
	struct qheap	 unchecked;
	struct pending	**parked;
	size_t		 nparked, parkedcap;
	int		 blocked;	/* this pass: its job is at its limit */
	size_t		 lpos;		/* in lanes heap, or SIZE_MAX */
	struct qlane	*hnext;		/* lane hash chain */
};

struct dqueue {
	uint64_t	  seq;		/* the next run's queue order */
	/* (job, key) -> run */
	struct pending	**hash;
	size_t		  hcap;
	/* (job, backfill) -> lane */
	struct qlane	**lhash;
	size_t		  lhcap, nlanes;
	struct qlane	**all;		/* every lane, for freeing */
	/* the lanes with a run that may go, on their oldest one */
	struct qlane	**lanes;
	size_t		  nl, lcap;
	struct qheap	  delayed;
};

static uint64_t
q_hash(const char *job, const char *key, int extra)
{
	uint64_t	h = 1469598103934665603ULL;
	const char	*c;

	for (c = job; *c != '\0'; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (c = key; c != NULL && *c != '\0'; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	return (h ^ (uint64_t)extra) * 1099511628211ULL;
}

static struct dqueue *
q_get(struct daemon *d)
{
	if (d->queue == NULL) {
		d->queue = xcalloc(1, sizeof *d->queue);
		d->queue->delayed.delayed = 1;
	}
	return d->queue;
}

/* ---------------------------------------------------------------- heaps */

static int
qh_less(const struct qheap *h, const struct pending *a,
    const struct pending *b)
{
	if (h->delayed && a->not_before != b->not_before)
		return a->not_before < b->not_before;
	return a->seq < b->seq;
}

static void
qh_set(struct qheap *h, size_t i, struct pending *p)
{
	h->v[i] = p;
	p->hpos = i;
}

static void
qh_up(struct qheap *h, size_t i)
{
	struct pending	*p = h->v[i];

	while (i > 0 && qh_less(h, p, h->v[(i - 1) / 2])) {
		qh_set(h, i, h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	qh_set(h, i, p);
}

static void
qh_down(struct qheap *h, size_t i)
{
	struct pending	*p = h->v[i];
	size_t		 c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && qh_less(h, h->v[c + 1], h->v[c]))
			c++;
		if (!qh_less(h, h->v[c], p))
			break;
		qh_set(h, i, h->v[c]);
		i = c;
	}
	qh_set(h, i, p);
}

static void
qh_push(struct qheap *h, struct pending *p)
{
	if (h->n == h->cap) {
		h->cap = h->cap == 0 ? 16 : h->cap * 2;
		h->v = xreallocarray(h->v, h->cap, sizeof *h->v);
	}
	qh_set(h, h->n++, p);
	qh_up(h, h->n - 1);
}

static void
qh_remove(struct qheap *h, struct pending *p)
{
	size_t	i = p->hpos;

	if (--h->n == i)
		return;
	qh_set(h, i, h->v[h->n]);
	qh_down(h, i);
	qh_up(h, h->v[i]->hpos);
}

static struct pending *
qh_top(const struct qheap *h)
{
	return h->n > 0 ? h->v[0] : NULL;
}

/* ---------------------------------------------------------------- lanes */

/* The oldest run of the lane that may go this pass, or NULL. */
static struct pending *
lane_head(const struct qlane *l)
{
	struct pending	*r = l->blocked ? NULL : qh_top(&l->ready);
	struct pending	*u = qh_top(&l->unchecked);

	if (r == NULL || (u != NULL && u->seq < r->seq))
		return u;
	return r;
}

static int
lane_less(const struct qlane *a, const struct qlane *b)
{
	return lane_head(a)->seq < lane_head(b)->seq;
}

static void
lh_set(struct dqueue *q, size_t i, struct qlane *l)
{
	q->lanes[i] = l;
	l->lpos = i;
}

static void
lh_up(struct dqueue *q, size_t i)
{
	struct qlane	*l = q->lanes[i];

	while (i > 0 && lane_less(l, q->lanes[(i - 1) / 2])) {
		lh_set(q, i, q->lanes[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	lh_set(q, i, l);
}

static void
lh_down(struct dqueue *q, size_t i)
{
	struct qlane	*l = q->lanes[i];
	size_t		 c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= q->nl)
			break;
		if (c + 1 < q->nl && lane_less(q->lanes[c + 1], q->lanes[c]))
			c++;
		if (!lane_less(q->lanes[c], l))
			break;
		lh_set(q, i, q->lanes[c]);
		i = c;
	}
	lh_set(q, i, l);
}

/* The lane's head changed: move it in (or into, or out of) the heap. */
static void
lane_rekey(struct dqueue *q, struct qlane *l)
{
	size_t	i;

	if (lane_head(l) == NULL) {
		if ((i = l->lpos) == SIZE_MAX)
			return;
		l->lpos = SIZE_MAX;
		if (--q->nl == i)
			return;
		lh_set(q, i, q->lanes[q->nl]);
		lh_down(q, i);
		lh_up(q, q->lanes[i]->lpos);
		return;
	}
	if (l->lpos == SIZE_MAX) {
		if (q->nl == q->lcap) {
			q->lcap = q->lcap == 0 ? 16 : q->lcap * 2;
			q->lanes = xreallocarray(q->lanes, q->lcap,
			    sizeof *q->lanes);
		}
		lh_set(q, q->nl++, l);
		lh_up(q, q->nl - 1);
		return;
	}
	lh_down(q, l->lpos);
	lh_up(q, l->lpos);
}

static struct qlane *
lane_find(struct dqueue *q, const char *job, int backfill, int create)
{
	struct qlane	*l, **nh;
	size_t		 i, b;

	if (q->lhcap > 0)
		for (l = q->lhash[q_hash(job, NULL, backfill) & (q->lhcap - 1)];
		    l != NULL; l = l->hnext)
			if (l->backfill == backfill &&
			    strcmp(l->job, job) == 0)
				return l;
	if (!create)
		return NULL;
	if (q->nlanes >= q->lhcap) {
		b = q->lhcap == 0 ? 16 : q->lhcap * 2;
		nh = xcalloc(b, sizeof *nh);
		for (i = 0; i < q->nlanes; i++) {
			l = q->all[i];
			l->hnext = nh[q_hash(l->job, NULL, l->backfill) &
			    (b - 1)];
			nh[q_hash(l->job, NULL, l->backfill) & (b - 1)] = l;
		}
		free(q->lhash);
		q->lhash = nh;
		q->lhcap = b;
		q->all = xreallocarray(q->all, b, sizeof *q->all);
	}
	l = xcalloc(1, sizeof *l);
	l->job = xstrdup(job);
	l->backfill = backfill;
	l->lpos = SIZE_MAX;
	l->ready.delayed = l->unchecked.delayed = 0;
	b = q_hash(job, NULL, backfill) & (q->lhcap - 1);
	l->hnext = q->lhash[b];
	q->lhash[b] = l;
	q->all[q->nlanes++] = l;
	return l;
}

/* ---------------------------------------------------------------- runs */

static struct pending **
run_slot(struct dqueue *q, const char *job, const char *key)
{
	struct pending	**pp;

	if (q->hcap == 0)
		return NULL;
	for (pp = &q->hash[q_hash(job, key, 0) & (q->hcap - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (strcmp((*pp)->key, key) == 0 &&
		    strcmp((*pp)->job, job) == 0)
			return pp;
	return NULL;
}

static struct pending *
run_find(struct daemon *d, const char *job, const char *key)
{
	struct pending	**pp;

	if (d->queue == NULL || (pp = run_slot(d->queue, job, key)) == NULL)
		return NULL;
	return *pp;
}

static void
hash_add(struct daemon *d, struct pending *p)
{
	struct dqueue	*q = d->queue;
	struct pending	**nh, *x, *next;
	size_t		  i, b;

	if (d->nq >= q->hcap) {
		b = q->hcap == 0 ? 64 : q->hcap * 2;
		nh = xcalloc(b, sizeof *nh);
		for (i = 0; i < q->hcap; i++)
			for (x = q->hash[i]; x != NULL; x = next) {
				next = x->hnext;
				x->hnext = nh[q_hash(x->job, x->key, 0) &
				    (b - 1)];
				nh[q_hash(x->job, x->key, 0) & (b - 1)] = x;
			}
		free(q->hash);
		q->hash = nh;
		q->hcap = b;
	}
	b = q_hash(p->job, p->key, 0) & (q->hcap - 1);
	p->hnext = q->hash[b];
	q->hash[b] = p;
}

/* Does the run need its inputs looked at before it may go? */
static int
needs_check(struct daemon *d, const struct pending *p)
{
	const struct job_def	*job;

	if (p->inputs_ok || p->inputs_checked ||
	    (job = jobset_find(&d->jobs, p->job)) == NULL)
		return 0;
	return job->ninputs > 0;
}

/* Put a run into its lane, by whether its inputs are to be looked at. */
static void
lane_put(struct daemon *d, struct pending *p)
{
	struct dqueue	*q = d->queue;
	struct qlane	*l = p->lane;

	if (needs_check(d, p)) {
		p->where = Q_UNCHECKED;
		qh_push(&l->unchecked, p);
	} else {
		p->where = Q_READY;
		qh_push(&l->ready, p);
	}
	lane_rekey(q, l);
}

/* Take a run out of wherever it is (not out of the hash). */
static void
run_unlink(struct daemon *d, struct pending *p)
{
	struct dqueue	*q = d->queue;
	struct qlane	*l = p->lane;

	switch (p->where) {
	case Q_DELAYED:
		qh_remove(&q->delayed, p);
		break;
	case Q_UNCHECKED:
		qh_remove(&l->unchecked, p);
		lane_rekey(q, l);
		break;
	case Q_READY:
		qh_remove(&l->ready, p);
		lane_rekey(q, l);
		break;
	case Q_PARKED:
		if (--l->nparked != p->hpos) {
			l->parked[p->hpos] = l->parked[l->nparked];
			l->parked[p->hpos]->hpos = p->hpos;
		}
		break;
	case Q_NONE:
	case Q_ASIDE:
		break;
	}
	p->where = Q_NONE;
}

static void
run_park(struct pending *p)
{
	struct qlane	*l = p->lane;

	if (l->nparked == l->parkedcap) {
		l->parkedcap = l->parkedcap == 0 ? 16 : l->parkedcap * 2;
		l->parked = xreallocarray(l->parked, l->parkedcap,
		    sizeof *l->parked);
	}
	p->hpos = l->nparked;
	l->parked[l->nparked++] = p;
	p->where = Q_PARKED;
}

static void
pending_free(struct pending *p)
{
	free(p->job);
	free(p->key);
	free(p->trigger);
	free(p->waiting);
	free(p);
}

/* Out of the queue altogether, and freed. */
static void
run_drop(struct daemon *d, struct pending *p)
{
	struct pending	**pp;

	run_unlink(d, p);
	if ((pp = run_slot(d->queue, p->job, p->key)) != NULL && *pp == p)
		*pp = p->hnext;
	else {
		/* The same (job, key) queued twice: find this one. */
		for (pp = &d->queue->hash[q_hash(p->job, p->key, 0) &
		    (d->queue->hcap - 1)]; *pp != p; pp = &(*pp)->hnext)
			;
		*pp = p->hnext;
	}
	d->nq--;
	pending_free(p);
}

/* Runs whose not_before has come go to their lanes. */
static void
queue_release(struct daemon *d, int64_t now)
{
	struct dqueue	*q = d->queue;
	struct pending	*p;

	while ((p = qh_top(&q->delayed)) != NULL && p->not_before <= now) {
		qh_remove(&q->delayed, p);
		lane_put(d, p);
	}
}

struct pending *
daemon_queue_add(struct daemon *d, const char *job, const char *key,
    int64_t istart, int64_t iend, const char *trigger, int64_t not_before,
    int backfill)
{
	struct dqueue	*q = q_get(d);
	struct pending	*p = xcalloc(1, sizeof *p);

	p->job = xstrdup(job);
	p->key = xstrdup(key);
	p->istart = istart;
	p->iend = iend;
	p->trigger = xstrdup(trigger != NULL ? trigger : "schedule");
	p->not_before = not_before;
	p->backfill = backfill != 0;
	p->seq = q->seq++;
	p->lane = lane_find(q, job, p->backfill, 1);
	hash_add(d, p);
	d->nq++;
	if (not_before > 0) {
		/* Released (by its own order) at the next pass that is past
		 * it; one already past goes there at once. */
		p->where = Q_DELAYED;
		qh_push(&q->delayed, p);
	} else
		lane_put(d, p);
	return p;
}

struct pending *
daemon_queue_push(struct daemon *d, const char *job, const char *key,
    int64_t istart, int64_t iend, const char *trigger, int64_t not_before)
{
	return daemon_queue_add(d, job, key, istart, iend, trigger,
	    not_before, 0);
}

int
daemon_queued(struct daemon *d, const char *job, const char *key)
{
	return run_find(d, job, key) != NULL;
}

/*
 * May a run in a lane start now?  After daemon_admit() every lane is held
 * by its job's limit, by its partition being active or by a full engine;
 * a run that ended since frees one.  The lanes held by a limit or an
 * active partition are bounded by the runs in the engine, so this looks
 * at no more than about twice max_active lanes.
 */
static int
queue_may_start(struct daemon *d)
{
	struct dqueue	*q = d->queue;
	struct job_def	*job;
	struct pending	*p;
	size_t		 i, looked = 0;

	if (q->nl == 0 || !daemon_health_may_schedule(d) ||
	    engine_active_runs(d->engine) >= (size_t)d->max_active)
		return 0;
	for (i = 0; i < q->nl && looked <= 2 * (size_t)d->max_active + 1;
	    i++, looked++) {
		p = lane_head(q->lanes[i]);
		if ((job = jobset_find(&d->jobs, p->job)) == NULL ||
		    p->where == Q_UNCHECKED)
			return 1;
		if (engine_is_active(d->engine, p->job, p->key))
			continue;
		if (p->backfill || engine_job_active_runs(d->engine,
		    p->job) < (size_t)job->max_active_runs)
			return 1;
	}
	return looked > 2 * (size_t)d->max_active + 1;
}

int64_t
daemon_queue_next_start(struct daemon *d, int64_t now)
{
	struct pending	*p;

	if (d->queue == NULL || d->nq == 0)
		return INT64_MAX;
	queue_release(d, now);
	if (queue_may_start(d))
		return now;
	if ((p = qh_top(&d->queue->delayed)) == NULL)
		return INT64_MAX;
	return p->not_before;
}

void
daemon_queue_inputs_changed(struct daemon *d, const char *product,
    const char *key)
{
	struct dqueue		*q = d->queue;
	const struct job_def	*job;
	struct pending		*p;
	struct qlane		*l;
	size_t			 i, k;
	int			 all, same, b;

	if (q == NULL || d->nq == 0)
		return;
	for (i = 0; i < d->jobs.n; i++) {
		job = d->jobs.v[i];
		all = same = 0;
		for (k = 0; k < job->ninputs; k++) {
			if (strcmp(job->inputs[k].product, product) != 0)
				continue;
			if (job->inputs[k].map == INPUT_SAME)
				same = 1;
			else
				all = 1;
		}
		if (!all && !same)
			continue;
		if (!all) {
			/* Only the run of that very partition reads it. */
			if ((p = run_find(d, job->name, key)) != NULL &&
			    p->where == Q_PARKED) {
				run_unlink(d, p);
				p->inputs_checked = 0;
				lane_put(d, p);
			}
			continue;
		}
		for (b = 0; b < 2; b++) {
			if ((l = lane_find(q, job->name, b, 0)) == NULL)
				continue;
			while (l->nparked > 0) {
				p = l->parked[l->nparked - 1];
				run_unlink(d, p);
				p->inputs_checked = 0;
				lane_put(d, p);
			}
		}
	}
}

void
daemon_queue_reloaded(struct daemon *d)
{
	struct dqueue	*q = d->queue;
	struct pending	*p;
	struct qlane	*l;
	size_t		 i;

	for (i = 0; q != NULL && i < q->nlanes; i++) {
		l = q->all[i];
		while (l->nparked > 0) {
			p = l->parked[l->nparked - 1];
			run_unlink(d, p);
			p->inputs_checked = 0;
			lane_put(d, p);
		}
	}
}

/* Open or close the batch of runs admitted together (one transaction
 * for all of them: engine_add_runs_begin()). */
static void
admit_batch(struct daemon *d, int *open, int want)
{
	char	*cause = NULL;

	if (*open == want)
		return;
	if (want ? engine_add_runs_begin(d->engine, &cause) :
	    engine_add_runs_end(d->engine, &cause)) {
		log_error("cannot %s runs: %s", want ? "admit" : "start",
		    cause);
		free(cause);
		*open = 0;
		return;
	}
	*open = want;
}

/* Admit one run: into the engine, or dropped (its job is gone). */
static void
admit_one(struct daemon *d, struct pending *p, const struct job_def *job)
{
	char	*cause = NULL;

	if (job == NULL) {
		/* Removed by a reload: the run stays queued in the state
		 * until the job comes back. */
		log_warn("job=%s partition=%s: job no longer configured, run "
		    "left queued", p->job, p->key);
	} else if (engine_add_run(d->engine, job, p->key, p->istart, p->iend,
	    p->trigger, p->rerun ? ENGINE_RERUN : ENGINE_RESUME, NULL,
	    &cause) != 0) {
		log_error("job=%s partition=%s: cannot start run: %s", p->job,
		    p->key, cause);
		free(cause);
	}
	run_drop(d, p);
}

void
daemon_admit(struct daemon *d, int64_t now)
{
	struct dqueue		 *q = d->queue;
	struct job_def		 *job;
	struct qlane		**blocked = NULL;
	struct pending		**aside = NULL, *p;
	size_t			  nblocked = 0, naside = 0, i;
	char			 *cause = NULL;
	int			  batch = 0;

	if (q == NULL || d->nq == 0)
		return;
	queue_release(d, now);
	while (q->nl > 0 && engine_active_runs(d->engine) <
	    (size_t)d->max_active) {
		struct qlane *l = q->lanes[0];

		p = lane_head(l);
		job = jobset_find(&d->jobs, p->job);
		/* A run whose inputs are not all published waits, visibly;
		 * it looks again when something is published. */
		if (job != NULL && job->ninputs > 0 && !p->inputs_ok) {
			/* Its look at the inputs has a transaction of its
			 * own: the runs admitted so far commit first. */
			if (!p->inputs_checked)
				admit_batch(d, &batch, 0);
			if (!p->inputs_checked && daemon_inputs_ready(d, p,
			    job, &cause) < 0) {
				log_error("job=%s partition=%s: inputs: %s",
				    p->job, p->key, cause);
				free(cause);
				cause = NULL;
			}
			if (!p->inputs_ok) {
				run_unlink(d, p);
				run_park(p);
				continue;
			}
		}
		if (job != NULL && engine_is_active(d->engine, p->job,
		    p->key)) {
			run_unlink(d, p);
			p->where = Q_ASIDE;
			aside = xreallocarray(aside, naside + 1,
			    sizeof *aside);
			aside[naside++] = p;
			continue;
		}
		if (job != NULL && !p->backfill &&
		    engine_job_active_runs(d->engine, p->job) >=
		    (size_t)job->max_active_runs) {
			/* The job is full: its lane waits this pass, but
			 * its runs' inputs are still looked at. */
			if (p->where == Q_UNCHECKED) {
				run_unlink(d, p);
				p->where = Q_READY;
				qh_push(&l->ready, p);
			}
			l->blocked = 1;
			lane_rekey(q, l);
			blocked = xreallocarray(blocked, nblocked + 1,
			    sizeof *blocked);
			blocked[nblocked++] = l;
			continue;
		}
		admit_batch(d, &batch, 1);
		admit_one(d, p, job);
	}
	admit_batch(d, &batch, 0);
	for (i = 0; i < nblocked; i++) {
		blocked[i]->blocked = 0;
		lane_rekey(q, blocked[i]);
	}
	for (i = 0; i < naside; i++) {
		aside[i]->where = Q_READY;
		qh_push(&aside[i]->lane->ready, aside[i]);
		lane_rekey(q, aside[i]->lane);
	}
	free(blocked);
	free(aside);
}

int
daemon_cancel_run(struct daemon *d, const char *job, const char *key,
    const char *why, char **cause)
{
	sqlite3_stmt	*stmt;
	struct pending	*p;
	int64_t		 job_id;

	if (engine_cancel_run(d->engine, job, key, why))
		return 1;
	if ((p = run_find(d, job, key)) == NULL)
		return 0;
	/* Queued, not started: it ends here. */
	run_drop(d, p);
	if (state_job_find(d->st, job, &job_id, cause) != 0)
		return -1;
	if ((stmt = state_prepare(d->st, "UPDATE runs SET state = "
	    "'cancelled', ended_us = ? WHERE job_id = ? AND partition_key = ? "
	    "AND state IN ('queued', 'running')")) == NULL) {
		set_cause(cause, "cancel: %s", sqlite3_errmsg(
		    state_sqlite(d->st)));
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, now_us());
	sqlite3_bind_int64(stmt, 2, job_id);
	sqlite3_bind_text(stmt, 3, key, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		set_cause(cause, "cancel: %s", sqlite3_errmsg(
		    state_sqlite(d->st)));
		state_stmt_done(stmt);
		return -1;
	}
	state_stmt_done(stmt);
	if (d->nbf > 0)
		d->bf_due = d->bf_force = 1;
	return 1;
}

void
daemon_queue_free(struct daemon *d)
{
	struct dqueue	*q = d->queue;
	struct pending	*p, *next;
	size_t		 i;

	if (q == NULL)
		return;
	for (i = 0; i < q->hcap; i++)
		for (p = q->hash[i]; p != NULL; p = next) {
			next = p->hnext;
			pending_free(p);
		}
	for (i = 0; i < q->nlanes; i++) {
		free(q->all[i]->job);
		free(q->all[i]->ready.v);
		free(q->all[i]->unchecked.v);
		free(q->all[i]->parked);
		free(q->all[i]);
	}
	free(q->all);
	free(q->lhash);
	free(q->hash);
	free(q->lanes);
	free(q->delayed.v);
	free(q);
	d->queue = NULL;
	d->nq = 0;
}

/*
 * dag.c -- build, validate and walk the task graph of one job.
 *
 * The graph is stored as two adjacency arrays (compressed rows): succ/pred
 * of node i are a slice of one big array, so a 100000-task job costs a few
 * allocations, not one per node.  Every traversal is iterative with an
 * explicit stack, so a long chain cannot overflow the C stack.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "job.h"
#include "util.h"
#include "meshd/plugin.h"

struct dag {
	size_t	  n;
	size_t	 *succ_off;	/* n + 1 offsets into succ */
	size_t	 *succ;
	size_t	 *pred_off;	/* n + 1 offsets into pred */
	size_t	 *pred;
	/* Parallel to succ and pred: 1 for an edge the gate added (every
	 * check task before every publish task), not written in `after`. */
	unsigned char *succ_gate;
	unsigned char *pred_gate;
	size_t	 *topo;
};

enum ready_state {
	R_PENDING,
	R_READY,	/* queued, not yet handed out */
	R_RUNNING,	/* handed out by dag_ready_next */
	R_DONE,
	R_FAILED,
	R_BLOCKED
};

struct dag_ready {
	const struct dag	*dag;
	size_t			*indeg;	/* predecessors not yet done */
	unsigned char		*st;	/* enum ready_state */
	/*
	 * FIFO ring of ready nodes.  A node has at most one entry at a time:
	 * it enters when it becomes ready (or is retried, after leaving by
	 * dag_ready_next), and an entry left behind by a node completed or
	 * blocked while queued belongs to a node that never re-enters.  So
	 * dag_size slots are enough.
	 */
	size_t			*queue;
	size_t			 qhead, qlen, qcap;
	size_t			 remaining;
	size_t			*stack;	/* scratch for dag_ready_fail */
	uint32_t		*seen;	/* visit stamps for dag_ready_fail */
	uint32_t		 stamp;
};

/* Id -> first task index, open addressing; slots hold index + 1. */
struct idmap {
	size_t	*slot;
	size_t	 mask;
};

static uint64_t
idmap_hash(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void
idmap_init(struct idmap *m, size_t n)
{
	size_t	size = 16;

	while (size < n * 2)
		size *= 2;
	m->slot = xcalloc(size, sizeof *m->slot);
	m->mask = size - 1;
}

/* Index of `id`, or SIZE_MAX. */
static size_t
idmap_get(const struct idmap *m, const struct job_def *job, const char *id)
{
	size_t	h = (size_t)idmap_hash(id) & m->mask;

	for (; m->slot[h] != 0; h = (h + 1) & m->mask) {
		if (strcmp(job->tasks[m->slot[h] - 1].id, id) == 0)
			return m->slot[h] - 1;
	}
	return SIZE_MAX;
}

/* Add task i unless its id is known; return the index that owns the id. */
static size_t
idmap_add(struct idmap *m, const struct job_def *job, size_t i)
{
	const char	*id = job->tasks[i].id;
	size_t		 h = (size_t)idmap_hash(id) & m->mask;

	for (; m->slot[h] != 0; h = (h + 1) & m->mask) {
		if (strcmp(job->tasks[m->slot[h] - 1].id, id) == 0)
			return m->slot[h] - 1;
	}
	m->slot[h] = i + 1;
	return i;
}

static int
after_line(const struct task_def *t, size_t k)
{
	if (t->after_lines != NULL && t->after_lines[k] > 0)
		return t->after_lines[k];
	return t->line;
}

/*
 * Resolve each task's `after` list into predecessor indexes, reporting
 * unknown ids, self-loops and duplicate ids, then add the gate's edges:
 * every check task of the job before every publish task, unless `after`
 * already says so.  Write-audit-publish is the engine's rule, not the job
 * author's: a publish whose `after` forgets the check still waits for it
 * (design decision 5).  Fills d->pred_off/pred/pred_gate and
 * d->succ_off/succ/succ_gate.
 */
static void
dag_edges(struct dag *d, const struct job_def *job, struct errlist *errs)
{
	struct idmap	 m;
	size_t		 i, j, k, n = job->ntasks, npred = 0, *res, *at;
	size_t		*mark, *checks, nchecks = 0, c;

	idmap_init(&m, n);
	checks = xcalloc(n + 1, sizeof *checks);
	for (i = 0; i < n; i++) {
		j = idmap_add(&m, job, i);
		if (j != i) {
			errlist_error(errs, job->file, job->tasks[i].line,
			    "duplicate task id '%s' (first defined at line %d)",
			    job->tasks[i].id, job->tasks[j].line);
		}
		npred += job->tasks[i].nafter;
		if (job->tasks[i].stage == MESHD_STAGE_CHECK)
			checks[nchecks++] = i;
	}

	/* res[] holds the resolved predecessor of each `after` entry, or
	 * SIZE_MAX when it is refused or repeated. */
	res = xcalloc(npred == 0 ? 1 : npred, sizeof *res);
	mark = xcalloc(n == 0 ? 1 : n, sizeof *mark);
	d->pred_off = xcalloc(n + 1, sizeof *d->pred_off);
	d->succ_off = xcalloc(n + 1, sizeof *d->succ_off);
	for (i = 0, at = res; i < n; i++) {
		const struct task_def	*t = &job->tasks[i];

		for (k = 0; k < t->nafter; k++, at++) {
			*at = SIZE_MAX;
			j = idmap_get(&m, job, t->after[k]);
			if (j == SIZE_MAX) {
				errlist_error(errs, job->file, after_line(t, k),
				    "task '%s' runs after unknown task '%s'",
				    t->id, t->after[k]);
				continue;
			}
			if (strcmp(t->after[k], t->id) == 0) {
				errlist_error(errs, job->file, after_line(t, k),
				    "task '%s' runs after itself", t->id);
				continue;
			}
			if (mark[j] == i + 1) {
				errlist_warn(errs, job->file, after_line(t, k),
				    "task '%s' lists '%s' twice in after",
				    t->id, t->after[k]);
				continue;
			}
			mark[j] = i + 1;
			*at = j;
			d->pred_off[i + 1]++;
			d->succ_off[j + 1]++;
		}
		/* mark[] still holds this task's explicit predecessors. */
		if (t->stage != MESHD_STAGE_PUBLISH)
			continue;
		for (c = 0; c < nchecks; c++) {
			if (mark[checks[c]] == i + 1)
				continue;
			d->pred_off[i + 1]++;
			d->succ_off[checks[c] + 1]++;
		}
	}
	for (i = 0; i < n; i++) {
		d->pred_off[i + 1] += d->pred_off[i];
		d->succ_off[i + 1] += d->succ_off[i];
	}
	d->pred = xcalloc(d->pred_off[n] + 1, sizeof *d->pred);
	d->succ = xcalloc(d->succ_off[n] + 1, sizeof *d->succ);
	d->pred_gate = xcalloc(d->pred_off[n] + 1, 1);
	d->succ_gate = xcalloc(d->succ_off[n] + 1, 1);

	/* Fill in task order, so each successor list is sorted by index;
	 * pos[] is the fill position of each successor row, mark[] again
	 * the explicit predecessors of the task being filled. */
	{
		size_t	*pos = xcalloc(n + 1, sizeof *pos);

		memset(mark, 0, (n == 0 ? 1 : n) * sizeof *mark);
		for (i = 0; i < n; i++)
			pos[i] = d->succ_off[i];
		for (i = 0, at = res; i < n; i++) {
			size_t	p = d->pred_off[i];

			for (k = 0; k < job->tasks[i].nafter; k++, at++) {
				if (*at == SIZE_MAX)
					continue;
				mark[*at] = i + 1;
				d->pred[p++] = *at;
				d->succ[pos[*at]++] = i;
			}
			if (job->tasks[i].stage != MESHD_STAGE_PUBLISH)
				continue;
			for (c = 0; c < nchecks; c++) {
				j = checks[c];
				if (mark[j] == i + 1)
					continue;
				d->pred_gate[p] = 1;
				d->pred[p++] = j;
				d->succ_gate[pos[j]] = 1;
				d->succ[pos[j]++] = i;
			}
		}
		free(pos);
	}

	free(checks);
	free(mark);
	free(res);
	free(m.slot);
}

/* Is the edge v -> w one the gate added? */
static int
dag_edge_gate(const struct dag *d, size_t v, size_t w)
{
	size_t	k;

	for (k = d->succ_off[v]; k < d->succ_off[v + 1]; k++)
		if (d->succ[k] == w)
			return d->succ_gate[k];
	return 0;
}

/*
 * Report one cycle per strongly connected component of more than one node
 * (self-loops never become edges).  Tarjan's algorithm, iterative.  Each
 * cycle starts at the component's first task in file order and follows
 * the shortest path back to it, so the message is deterministic.
 */
static void
dag_cycles(const struct dag *d, const struct job_def *job,
    struct errlist *errs)
{
	size_t	 n = d->n, i, v, w, top, sp, counter = 0, ncomp = 0;
	size_t	*index, *low, *comp, *scc, *call, *callk, *par, *bfs;
	size_t	 head, tail, len;
	unsigned char *onstack, *multi;
	char	*msg, *gate;
	size_t	 msglen, cap;

	if (n == 0)
		return;
	index = xcalloc(n, sizeof *index);	/* 0: not visited */
	low = xcalloc(n, sizeof *low);
	comp = xcalloc(n, sizeof *comp);
	scc = xcalloc(n, sizeof *scc);
	call = xcalloc(n, sizeof *call);
	callk = xcalloc(n, sizeof *callk);
	onstack = xcalloc(n, 1);
	multi = xcalloc(n, 1);

	for (i = 0; i < n; i++) {
		if (index[i] != 0)
			continue;
		top = 0;
		sp = 0;
		index[i] = low[i] = ++counter;
		scc[sp++] = i;
		onstack[i] = 1;
		call[top] = i;
		callk[top++] = d->succ_off[i];
		while (top > 0) {
			v = call[top - 1];
			if (callk[top - 1] < d->succ_off[v + 1]) {
				w = d->succ[callk[top - 1]++];
				if (index[w] == 0) {
					index[w] = low[w] = ++counter;
					scc[sp++] = w;
					onstack[w] = 1;
					call[top] = w;
					callk[top++] = d->succ_off[w];
				} else if (onstack[w] && index[w] < low[v])
					low[v] = index[w];
				continue;
			}
			top--;
			if (top > 0 && low[v] < low[call[top - 1]])
				low[call[top - 1]] = low[v];
			if (low[v] != index[v])
				continue;
			len = 0;
			do {
				w = scc[--sp];
				onstack[w] = 0;
				comp[w] = ncomp;
				len++;
			} while (w != v);
			multi[ncomp++] = len > 1;
		}
	}

	/* One message per cyclic component, in file order of first task.
	 * index[] is reused as a BFS stamp (component + 1), low[] as the
	 * parent array, call[] as the BFS queue. */
	memset(index, 0, n * sizeof *index);
	par = low;
	bfs = call;
	for (i = 0; i < n; i++) {
		size_t	c = comp[i], end = SIZE_MAX;

		if (!multi[c])
			continue;
		multi[c] = 0;
		head = tail = 0;
		bfs[tail++] = i;
		index[i] = c + 1;
		while (head < tail && end == SIZE_MAX) {
			v = bfs[head++];
			for (top = d->succ_off[v]; top < d->succ_off[v + 1];
			    top++) {
				w = d->succ[top];
				if (comp[w] != c)
					continue;
				if (w == i) {
					end = v;
					break;
				}
				if (index[w] == c + 1)
					continue;
				index[w] = c + 1;
				par[w] = v;
				bfs[tail++] = w;
			}
		}
		/* Walk back from the last node, then print forwards. */
		len = 0;
		for (v = end; v != i; v = par[v])
			scc[len++] = v;
		cap = 64;
		msg = xmalloc(cap);
		msglen = 0;
		gate = NULL;
		for (top = len + 1; top-- > 0; ) {
			size_t	 from = top == len ? i : scc[top];
			size_t	 to = top == 0 ? i : scc[top - 1];
			const char *id = job->tasks[from].id;
			size_t	 idlen = strlen(id);

			while (msglen + idlen + 5 > cap) {
				cap *= 2;
				msg = xrealloc(msg, cap);
			}
			memcpy(msg + msglen, id, idlen);
			msglen += idlen;
			memcpy(msg + msglen, " -> ", 4);
			msglen += 4;
			/* A cycle closed by the gate is not in the file:
			 * say which edge the engine added. */
			if (dag_edge_gate(d, from, to)) {
				char *t = xasprintf("%s%s%s -> %s",
				    gate == NULL ? "" : gate,
				    gate == NULL ? "" : ", ", id,
				    job->tasks[to].id);

				free(gate);
				gate = t;
			}
		}
		if (gate != NULL)
			errlist_error(errs, job->file, job->tasks[i].line,
			    "cycle: %.*s%s (%s added by the gate: a publish "
			    "task runs after every check task of its job, so "
			    "no check task may run after a publish task)",
			    (int)msglen, msg, job->tasks[i].id, gate);
		else
			errlist_error(errs, job->file, job->tasks[i].line,
			    "cycle: %.*s%s", (int)msglen, msg,
			    job->tasks[i].id);
		free(gate);
		free(msg);
	}

	free(multi);
	free(onstack);
	free(callk);
	free(call);
	free(scc);
	free(comp);
	free(low);
	free(index);
}

/* Min-heap of node indexes, for Kahn's algorithm with ties in file order. */
static void
heap_push(size_t *h, size_t *len, size_t v)
{
	size_t	i = (*len)++, p;

	while (i > 0 && h[p = (i - 1) / 2] > v) {
		h[i] = h[p];
		i = p;
	}
	h[i] = v;
}

static size_t
heap_pop(size_t *h, size_t *len)
{
	size_t	top = h[0], v = h[--(*len)], i = 0, c;

	while ((c = 2 * i + 1) < *len) {
		if (c + 1 < *len && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*len > 0)
		h[i] = v;
	return top;
}

static void
dag_sort(struct dag *d)
{
	size_t	 i, k, hlen = 0, nout = 0, *indeg, *heap;

	d->topo = xcalloc(d->n + 1, sizeof *d->topo);
	indeg = xcalloc(d->n + 1, sizeof *indeg);
	heap = xcalloc(d->n + 1, sizeof *heap);
	for (i = 0; i < d->n; i++) {
		indeg[i] = d->pred_off[i + 1] - d->pred_off[i];
		if (indeg[i] == 0)
			heap_push(heap, &hlen, i);
	}
	while (hlen > 0) {
		i = heap_pop(heap, &hlen);
		d->topo[nout++] = i;
		for (k = d->succ_off[i]; k < d->succ_off[i + 1]; k++) {
			if (--indeg[d->succ[k]] == 0)
				heap_push(heap, &hlen, d->succ[k]);
		}
	}
	free(heap);
	free(indeg);
}

struct dag *
dag_build(const struct job_def *job, struct errlist *errs)
{
	struct dag	*d;
	size_t		 nerrors = errs->nerrors;

	d = xcalloc(1, sizeof *d);
	d->n = job->ntasks;
	dag_edges(d, job, errs);
	dag_cycles(d, job, errs);
	if (errs->nerrors != nerrors) {
		dag_free(d);
		return NULL;
	}
	dag_sort(d);
	return d;
}

void
dag_free(struct dag *d)
{
	if (d == NULL)
		return;
	free(d->succ_off);
	free(d->succ);
	free(d->pred_off);
	free(d->pred);
	free(d->succ_gate);
	free(d->pred_gate);
	free(d->topo);
	free(d);
}

size_t
dag_size(const struct dag *d)
{
	return d->n;
}

size_t
dag_nsucc(const struct dag *d, size_t i)
{
	return d->succ_off[i + 1] - d->succ_off[i];
}

const size_t *
dag_succ(const struct dag *d, size_t i)
{
	return d->succ + d->succ_off[i];
}

size_t
dag_npred(const struct dag *d, size_t i)
{
	return d->pred_off[i + 1] - d->pred_off[i];
}

const size_t *
dag_pred(const struct dag *d, size_t i)
{
	return d->pred + d->pred_off[i];
}

int
dag_pred_gate(const struct dag *d, size_t i, size_t k)
{
	return d->pred_gate[d->pred_off[i] + k];
}

const size_t *
dag_topo(const struct dag *d)
{
	return d->topo;
}

void
dag_descendants(const struct dag *d, size_t i, unsigned char *out)
{
	size_t	*stack, sp = 0, v, k, w;

	stack = xcalloc(d->n + 1, sizeof *stack);
	stack[sp++] = i;
	while (sp > 0) {
		v = stack[--sp];
		for (k = d->succ_off[v]; k < d->succ_off[v + 1]; k++) {
			w = d->succ[k];
			if (out[w])
				continue;
			out[w] = 1;
			stack[sp++] = w;
		}
	}
	free(stack);
}

static void
ready_push(struct dag_ready *r, size_t i)
{
	r->st[i] = R_READY;
	r->queue[(r->qhead + r->qlen) % r->qcap] = i;
	r->qlen++;
}

struct dag_ready *
dag_ready_new(const struct dag *d, const unsigned char *done)
{
	struct dag_ready	*r;
	size_t			 i, k;

	r = xcalloc(1, sizeof *r);
	r->dag = d;
	r->indeg = xcalloc(d->n + 1, sizeof *r->indeg);
	r->st = xcalloc(d->n + 1, 1);
	r->qcap = d->n + 1;
	r->queue = xcalloc(r->qcap, sizeof *r->queue);
	r->stack = xcalloc(d->n + 1, sizeof *r->stack);
	r->seen = xcalloc(d->n + 1, sizeof *r->seen);
	r->remaining = d->n;
	for (i = 0; i < d->n; i++) {
		r->indeg[i] = dag_npred(d, i);
		if (done != NULL && done[i]) {
			r->st[i] = R_DONE;
			r->remaining--;
		}
	}
	if (done != NULL) {
		for (i = 0; i < d->n; i++) {
			if (!done[i])
				continue;
			for (k = d->succ_off[i]; k < d->succ_off[i + 1]; k++)
				r->indeg[d->succ[k]]--;
		}
	}
	for (i = 0; i < d->n; i++) {
		if (r->st[i] == R_PENDING && r->indeg[i] == 0)
			ready_push(r, i);
	}
	return r;
}

void
dag_ready_free(struct dag_ready *r)
{
	if (r == NULL)
		return;
	free(r->indeg);
	free(r->st);
	free(r->queue);
	free(r->stack);
	free(r->seen);
	free(r);
}

int
dag_ready_queued(const struct dag_ready *r)
{
	return r->qlen > 0;
}

int
dag_ready_next(struct dag_ready *r, size_t *i)
{
	size_t	v;

	/* A queued node may have been completed, failed or blocked before it
	 * was handed out; skip it. */
	while (r->qlen > 0) {
		v = r->queue[r->qhead];
		r->qhead = (r->qhead + 1) % r->qcap;
		r->qlen--;
		if (r->st[v] != R_READY)
			continue;
		r->st[v] = R_RUNNING;
		*i = v;
		return 1;
	}
	return 0;
}

void
dag_ready_complete(struct dag_ready *r, size_t i)
{
	const struct dag	*d = r->dag;
	size_t			 k, w;

	if (r->st[i] == R_DONE || r->st[i] == R_FAILED ||
	    r->st[i] == R_BLOCKED)
		return;
	r->st[i] = R_DONE;
	r->remaining--;
	for (k = d->succ_off[i]; k < d->succ_off[i + 1]; k++) {
		w = d->succ[k];
		if (r->indeg[w] > 0)
			r->indeg[w]--;
		if (r->indeg[w] == 0 && r->st[w] == R_PENDING)
			ready_push(r, w);
	}
}

size_t
dag_ready_fail(struct dag_ready *r, size_t i, size_t *blocked)
{
	const struct dag	*d = r->dag;
	size_t			 sp = 0, nb = 0, v, k, w;

	if (r->st[i] == R_DONE || r->st[i] == R_FAILED ||
	    r->st[i] == R_BLOCKED)
		return 0;
	r->st[i] = R_FAILED;
	r->remaining--;

	/* Nodes already failed or blocked had all their descendants blocked
	 * then, and states only move forward, so the walk stops there; a
	 * stamp keeps a node reached by two paths from being walked twice. */
	if (++r->stamp == 0) {
		memset(r->seen, 0, d->n * sizeof *r->seen);
		r->stamp = 1;
	}
	r->stack[sp++] = i;
	r->seen[i] = r->stamp;
	while (sp > 0) {
		v = r->stack[--sp];
		for (k = d->succ_off[v]; k < d->succ_off[v + 1]; k++) {
			w = d->succ[k];
			if (r->seen[w] == r->stamp || r->st[w] == R_FAILED ||
			    r->st[w] == R_BLOCKED)
				continue;
			r->seen[w] = r->stamp;
			if (r->st[w] == R_PENDING || r->st[w] == R_READY) {
				r->st[w] = R_BLOCKED;
				r->remaining--;
				blocked[nb++] = w;
			}
			r->stack[sp++] = w;
		}
	}
	return nb;
}

void
dag_ready_retry(struct dag_ready *r, size_t i)
{
	/* Only a node handed out and not yet finished can go back. */
	if (r->st[i] == R_RUNNING)
		ready_push(r, i);
}

size_t
dag_ready_remaining(const struct dag_ready *r)
{
	return r->remaining;
}

/*
 * dag.h -- the task graph of one job.
 *
 * Built from the tasks of a job and validated once, at load time: an
 * unknown dependency, a duplicate id, a self-loop and a cycle are refused
 * with file:line (the cycle printed as "a -> b -> c -> a").  Nodes are the
 * job's task indexes.
 *
 * Messages (all problems are reported, not only the first):
 *   FILE:LINE: task 'publish' runs after unknown task 'chek'
 *   FILE:LINE: duplicate task id 'x' (first defined at line N)
 *   FILE:LINE: task 'x' runs after itself
 *   FILE:LINE: cycle: a -> b -> c -> a
 * LINE is the line of the `after` entry (the task's line when the job has
 * no after_lines), the duplicate's own line, and for a cycle the line of
 * its first task.  In a cycle "a -> b" means a must finish before b (b
 * runs after a); the cycle starts at the task of the cycle that comes
 * first in the file and follows the shortest way back to it.  One cycle is
 * reported per strongly connected component.  A dependency listed twice is
 * only a warning.
 *
 * The gate (since 0.4.0): in a job with check and publish tasks, every
 * publish task runs after every check task, whether or not its `after`
 * says so.  dag_build() adds those edges itself; dag_pred_gate() tells
 * them apart for `meshctl dag`.  A check task that runs after a publish
 * task then closes a cycle, reported as above with the gate's edge named:
 *   FILE:LINE: cycle: publish -> check -> publish (check -> publish added
 *   by the gate: ...)
 * Refusing a job that publishes with no check task at all is the job
 * loader's (job.c), which knows the policy that may allow it.
 *
 * Readiness during a run is tracked by struct dag_ready with indegree
 * counters: finishing a task decrements its successors and queues those
 * that reach zero, so no step rescans the graph.
 */
#ifndef MESHD_DAG_H
#define MESHD_DAG_H

#include <stddef.h>

#include "errlist.h"

struct job_def;
struct dag;

/*
 * Build the DAG of `job` (job->tasks must be filled; job->file is used in
 * messages).  On any problem every error is added to errs and NULL is
 * returned.
 */
struct dag	*dag_build(const struct job_def *job, struct errlist *errs);
void		 dag_free(struct dag *);

size_t		 dag_size(const struct dag *);
/* Successors / predecessors of node i. */
size_t		 dag_nsucc(const struct dag *, size_t i);
const size_t	*dag_succ(const struct dag *, size_t i);
size_t		 dag_npred(const struct dag *, size_t i);
const size_t	*dag_pred(const struct dag *, size_t i);
/* Is the k-th predecessor of node i (dag_pred(d, i)[k]) there because
 * of the gate (a check task before a publish task) rather than `after`?
 * An edge both written and implied counts as written. */
int		 dag_pred_gate(const struct dag *, size_t i, size_t k);
/* A topological order of all nodes (stable: ties in file order). */
const size_t	*dag_topo(const struct dag *);
/* Mark in `out` (size dag_size, zeroed by the caller) every node reachable
 * from i, not including i. */
void		 dag_descendants(const struct dag *, size_t i, unsigned char *out);

/* Readiness tracking for one run. */
struct dag_ready;

/* A tracker with every node pending; nodes with no predecessors are ready.
 * `done` (may be NULL) marks nodes already finished in an earlier attempt
 * of the run: they count as completed from the start. */
struct dag_ready *dag_ready_new(const struct dag *, const unsigned char *done);
void		 dag_ready_free(struct dag_ready *);
/* Pop the next ready node into *i; 0 if none is ready now. FIFO order. */
int		 dag_ready_next(struct dag_ready *, size_t *i);
/* Node i finished well: successors whose indegree reaches 0 become ready. */
void		 dag_ready_complete(struct dag_ready *, size_t i);
/* Node i failed: every descendant is marked blocked and never becomes
 * ready.  Their indexes are appended to `blocked` (size dag_size) and their
 * number returned. */
size_t		 dag_ready_fail(struct dag_ready *, size_t i, size_t *blocked);
/* Put node i, popped by dag_ready_next() but neither completed nor failed
 * (its attempt is to be retried), back at the end of the ready queue. */
void		 dag_ready_retry(struct dag_ready *, size_t i);
/* Number of nodes neither finished, failed nor blocked. */
size_t		 dag_ready_remaining(const struct dag_ready *);
/* Whether dag_ready_next() may have a node to hand out (cheap; an entry
 * left by a node completed while queued counts). */
int		 dag_ready_queued(const struct dag_ready *);

#endif

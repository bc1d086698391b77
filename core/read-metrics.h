/*
 * read-metrics.h -- the queries behind /metrics (core/metrics.c), in the
 * read layer (design decision 9): metrics.c keeps running aggregates and
 * renders them, these functions only read the state.
 *
 * Each scrape reads what changed since the last one, never the whole
 * history: attempts by id above a watermark (ids only grow: the daemon
 * is the only writer and never deletes an attempt), the attempts last
 * seen running by id, runs by ended_us through runs_ended, and small
 * index ranges for the gauges.  The *_init functions read the history
 * once, when a new HTTP child makes its first scrape: O(attempts) and
 * O(runs), once.
 *
 * All return 0, or -1 with a 503 read_error (the state is busy or
 * unreadable).  Strings handed to callbacks are borrowed for the call.
 *
 * Since 0.6.0.
 */
#ifndef MESHD_READ_METRICS_H
#define MESHD_READ_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct state;
struct read_error;

/* One attempt. */
struct read_metrics_attempt {
	int64_t		 id;
	const char	*job;
	const char	*task;		/* task id in the job */
	const char	*stage;		/* "extract", "check", "publish" */
	const char	*state;		/* running success failed retry
					 * skipped */
	int64_t		 duration_us;	/* ended - started */
	double		 rows;		/* a successful publish's "rows"
					 * metric, if has_rows */
	int		 has_rows;
};
typedef int (*read_metrics_attempt_fn)(void *,
    const struct read_metrics_attempt *);

/* Read a consistent snapshot between begin and end (a read transaction);
 * end is safe to call after a failed begin. */
int	read_metrics_begin(struct state *, struct read_error *);
void	read_metrics_end(struct state *);

/*
 * The history of attempts, once: every attempt with id <= *max_id (set
 * here to the largest id), running or not, in id order, one call each.
 */
int	read_metrics_attempts_init(struct state *, int64_t *max_id,
	    read_metrics_attempt_fn, void *arg, struct read_error *);
/*
 * Attempts with id > after (all of them, running or not), in id order;
 * *max_id is set to the largest seen (left alone if none).
 */
int	read_metrics_attempts_after(struct state *, int64_t after,
	    int64_t *max_id, read_metrics_attempt_fn, void *arg,
	    struct read_error *);
/* The attempts with these ids, whatever their state. */
int	read_metrics_attempts_by_id(struct state *, const int64_t *ids,
	    size_t n, read_metrics_attempt_fn, void *arg, struct read_error *);

/* A run, or a group of runs (id 0). */
struct read_metrics_run {
	int64_t		 id;
	const char	*job;
	const char	*state;		/* success failed cancelled */
	int64_t		 ended_us;
	int64_t		 count;
};
typedef int (*read_metrics_run_fn)(void *, const struct read_metrics_run *);

/* The history of runs, once: runs that ended (success, failed,
 * cancelled) counted by job and state; *max_ended is the newest
 * ended_us (0 if none). */
int	read_metrics_runs_init(struct state *, int64_t *max_ended,
	    read_metrics_run_fn, void *arg, struct read_error *);
/* Runs in a final state whose ended_us >= since, in ended_us order. */
int	read_metrics_runs_ended(struct state *, int64_t since,
	    read_metrics_run_fn, void *arg, struct read_error *);

/* The gauges read from the state on every scrape, all from indexes. */
struct read_metrics_gauges {
	int64_t	runs_queued, runs_running;
	int64_t	requests_pending;
	int64_t	requests_oldest_us;	/* created_us, 0 if none */
	int64_t	lineage_backlog;	/* events not yet acknowledged */
	int64_t	lineage_oldest_us;	/* created_us, 0 if none */
	int64_t	alerts_pending;
	int64_t	alerts_oldest_us;
	int64_t	backfills_active;
};
int	read_metrics_gauges(struct state *, struct read_metrics_gauges *,
	    struct read_error *);

/* Per product: its freshness, in name order. */
struct read_metrics_product {
	const char	*product;
	const char	*job;		/* NULL if none */
	int64_t		 freshness_s;	/* its SLO, 0 none */
	int64_t		 late_count;	/* partitions found late, ever */
	int64_t		 late_unpublished; /* late and still not published */
	int64_t		 quarantined;
};
typedef int (*read_metrics_product_fn)(void *,
    const struct read_metrics_product *);
int	read_metrics_products(struct state *, read_metrics_product_fn,
	    void *arg, struct read_error *);

#endif

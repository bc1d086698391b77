/*
 * backfill.h -- backfills: many partitions of one job, run a few at a time.
 *
 * meshctl creates a backfill whole, in one transaction: the backfills row,
 * one backfill_partitions row per partition in launch order, and the
 * request that tells meshd.  meshd then keeps up to max_active_runs of its
 * partitions running, starting the next as soon as one ends (no batches),
 * and keeps the counters in the backfills row current, so that progress
 * is one row away.  The rules for what happens to each partition are here,
 * shared by `meshctl backfill --dry-run` and the daemon.
 */
#ifndef MESHD_BACKFILL_H
#define MESHD_BACKFILL_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "state.h"

/* Above this many partitions a backfill needs --yes. */
#define BF_CONFIRM_OVER	10000000L

enum bf_reprocess {
	BF_MISSING,	/* only partitions that have no run */
	BF_FAILED,	/* and those whose run failed or was cancelled */
	BF_ALL		/* every partition, even those that succeeded */
};

/* What a backfill does with one partition. */
enum bf_action {
	BF_RUN,		/* no run yet: create it */
	BF_RESUME,	/* failed run: its unfinished tasks run again */
	BF_RERUN,	/* run every task again */
	BF_WAIT,	/* a run is queued or running: wait for it, never
			 * create a second */
	BF_SKIP		/* leave it as it is */
};

int		 bf_reprocess_parse(const char *, enum bf_reprocess *);
const char	*bf_reprocess_name(enum bf_reprocess);
const char	*bf_action_name(enum bf_action);
/* The action for a partition whose run is in `run_state` (NULL: no run),
 * with a reason for the operator in *why (static). */
enum bf_action	 bf_decide(const char *run_state, enum bf_reprocess,
		    const char **why);

struct bf_key {
	int64_t	 start, end;
	char	*key;
};

/*
 * The partitions of `job` from the one starting at `first` to the one
 * starting at `last`, both included, oldest first.  Counts at most
 * `limit` + 1 of them and returns the count; with `out` non-NULL also
 * fills *out (free with bf_keys_free()).
 */
size_t	bf_enumerate(const struct job_def *, int64_t first, int64_t last,
	    size_t limit, struct bf_key **out);
void	bf_keys_free(struct bf_key *, size_t);

struct bf_spec {
	const char		*job;
	const char		*from_key, *to_key;	/* canonical */
	enum bf_reprocess	 reprocess;
	int			 max_active_runs;
	int			 reverse;
};

/* Create the backfill with its partitions (in `keys` order, or reversed)
 * and its request, in one transaction.  0, or -1 with cause and nothing
 * written. */
int	bf_create(struct state *, const struct bf_spec *,
	    const struct bf_key *keys, size_t n, int64_t *bf_id,
	    int64_t *request_id, char **cause);

struct bf_info {
	int64_t	 id;
	char	*job, *from_key, *to_key, *reprocess, *state, *result;
	char	*created_by;
	int	 max_active_runs, reverse;
	int64_t	 total, running, success, failed, skipped, cancelled;
	int64_t	 created_us, started_us, ended_us;
};

/* The columns bf_row() reads, for SELECT ... FROM backfills. */
#define BF_COLUMNS "id, job, from_key, to_key, reprocess, state, result, " \
	"created_by, max_active_runs, reverse, total, n_running, n_success, " \
	"n_failed, n_skipped, n_cancelled, created_us, started_us, ended_us"
struct sqlite3_stmt;
void	bf_row(struct sqlite3_stmt *, struct bf_info *);
/* Read backfill `id`: 0, 1 if there is none, -1 with cause. */
int	bf_get(struct state *, int64_t id, struct bf_info *, char **cause);
void	bf_info_free(struct bf_info *);
/* Has it ended (success, failed, cancelled)? */
int	bf_finished(const struct bf_info *);

#endif

/*
 * housekeep.h -- history and log retention of the state database: what
 * `meshctl db clean` does by hand and meshd's housekeeping pass
 * (meshd-house.c) does on its own with history_retention and
 * log_retention (meshd.conf(5)).
 *
 * A sweep walks the finished runs (success, failed, cancelled) in
 * (ended_us, id) order, in short transactions of at most HOUSE_BATCH
 * runs, and
 *  - deletes a run that ended before the history cutoff, with what hangs
 *    off it by foreign key (task instances, attempts, check results,
 *    metrics, run inputs), and removes its attempts' log files;
 *  - removes the log files of the attempts of a run it keeps that ended
 *    before the log cutoff (attempts.log_path is then NULL);
 *  - deletes finished backfills, done requests and delivered or failed
 *    alerts from before the history cutoff.
 * A run is kept, whatever its age, when
 *  - it is queued or running, or live in meshd (the `live` callback: a
 *    finished run that a trigger queued is live before its row changes);
 *  - a published (or stale) catalog partition names it or one of its
 *    attempts (product_partitions.run_id, attempt_id), or a quarantined
 *    rerun beside one (rerun_run_id, rerun_attempt_id): the catalog keeps
 *    which run published a partition, what it was built from
 *    (run_inputs) and its checks.  A partition that is only building,
 *    missing or quarantined keeps its row; its run_id and attempt_id
 *    become NULL with the run;
 *  - it is its job's newest scheduled run: the scheduler resumes from it
 *    (a deleted watermark would schedule the job's history again);
 *  - a backfill that is kept names it (backfill_partitions.run_id);
 *  - a pending request names its job and partition, or a trigger was
 *    carried out after it ended (meshd queues such a run in memory, its
 *    row unchanged, and would otherwise run it as a new run without the
 *    parameters asked for).
 * Only files under log_dir are removed, never through a symbolic link,
 * and only the paths the attempts recorded; directories left empty under
 * log_dir go too.  A dry run deletes nothing and counts the same.
 */
#ifndef MESHD_HOUSEKEEP_H
#define MESHD_HOUSEKEEP_H

#include <stdint.h>

#include <jansson.h>

struct sqlite3;

/* Runs per transaction: a writer (meshd) waits at most for one batch. */
#define HOUSE_BATCH		200
/* The longest retention or --older-than: a hundred years, in seconds. */
#define HOUSE_MAX_DURATION	(100LL * 366 * 86400)

/*
 * A duration: whole seconds ("3600"), or a number with a unit, s m h d w
 * ("45s", "30m", "12h", "90d", "2w").  No sign, no fraction, at most
 * HOUSE_MAX_DURATION.  0 and *secs, or -1 with cause ("'90x': unknown
 * unit 'x' (s, m, h, d or w)").
 */
int	house_duration(const char *s, int64_t *secs, char **cause);

struct house_counts {
	int64_t	runs, task_instances, attempts, check_results, metrics,
		run_inputs, backfills, backfill_partitions, requests, alerts;
	int64_t	log_files, log_bytes;
	/* Old runs kept, by the first reason found. */
	int64_t	kept_live, kept_catalog, kept_watermark, kept_backfill,
		kept_request;
};

/*
 * How a sweep writes: begin/commit/rollback one transaction (meshd's
 * group commit, or BEGIN IMMEDIATE), and whether a run is live in the
 * caller (NULL: only its row says).  commit returns 0 when the changes
 * are (or will be) written; `durable` then says whether they are on disk
 * now, so that files are removed only after their rows (NULL: always).
 */
struct house_ops {
	int	 (*begin)(void *, char **cause);
	int	 (*commit)(void *, char **cause);
	void	 (*rollback)(void *);
	int	 (*live)(void *, const char *job, const char *key);
	int	 (*durable)(void *);
	void	*arg;
};

struct house;

/*
 * Plain transactions on a connection of the caller's own (meshctl db
 * clean): BEGIN IMMEDIATE takes the write lock at once, so a batch never
 * fails half-way on a lock; a dry run only reads (BEGIN).  `pl` holds
 * what `ops` needs and must outlive the sweep.
 */
struct house_plain {
	struct sqlite3	*db;
	int		 dry;
};
void		 house_ops_plain(struct house_ops *ops, struct house_plain *pl,
		    struct sqlite3 *db, int dry_run);

/*
 * A sweep over `db`: runs that ended before hist_cutoff_us are deleted,
 * logs of runs that ended before log_cutoff_us removed (wall clock
 * microseconds; 0: not at all).  log_dir NULL: no file is removed.
 * The handle only reads `ops` and `db`; both outlive it.
 */
struct house	*house_new(struct sqlite3 *db, const struct house_ops *ops,
		    const char *log_dir, int64_t hist_cutoff_us,
		    int64_t log_cutoff_us, int dry_run);
/* One batch: 1 if there is more to do, 0 when the sweep is done, -1 with
 * cause (the batch is rolled back; the sweep may be stepped again). */
int		 house_step(struct house *, char **cause);
const struct house_counts *house_counts(const struct house *);
void		 house_free(struct house *);
/* The counts as a JSON object (new reference). */
json_t		*house_counts_json(const struct house_counts *);
/* Did the sweep find anything to delete or remove? */
int		 house_counts_any(const struct house_counts *);

#endif

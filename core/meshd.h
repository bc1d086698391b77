/*
 * meshd.h -- the daemon's own state, shared by its files: meshd.c (the
 * loop, scheduling, triggers, pause, cancel), meshd-backfill.c and
 * meshd-clear.c.  Not an interface: nothing outside meshd includes it.
 */
#ifndef MESHD_MESHD_H
#define MESHD_MESHD_H

#include <signal.h>
#include <stdint.h>

#include "backfill.h"
#include "config.h"
#include "engine.h"
#include "job.h"
#include "request.h"
#include "state.h"

struct dqueue;
struct qlane;

/* A run waiting for a place in the engine. */
struct pending {
	char	*job;
	char	*key;
	int64_t	 istart, iend;
	char	*trigger;
	int64_t	 not_before;	/* daemon clock; jitter */
	int	 rerun;		/* run every task again (a trigger) */
	int	 backfill;	/* launched by a backfill, which limits it
				 * (not the job's max_active_runs) */
	int	 inputs_ok;	/* its inputs are published (and recorded) */
	int	 inputs_checked; /* looked since they last changed */
	char	*waiting;	/* what it waits for, as last written */
	/* meshd-queue.c's: the queue order, where the run is (a heap, its
	 * lane's parked runs) and its index there, its lane, and the
	 * (job, key) hash chain. */
	uint64_t	 seq;
	int		 where;
	size_t		 hpos;
	struct qlane	*lane;
	struct pending	*hnext;
};

/* A run that ended having built products: what it published is looked
 * at by daemon_inputs_pass(). */
struct dpub {
	char	*job;
	char	*key;
};

/* A backfill that is running or cancelling; its counters mirror the row. */
struct dbf {
	int64_t			 id;
	char			*job;
	int64_t			 job_id;	/* its jobs row, once synced */
	enum bf_reprocess	 reprocess;
	int			 max_active;
	int			 cancelling;
	int			 dirty;		/* counters to write */
	int64_t			 total, running, success, failed, skipped;
	int64_t			 cancelled;
};

struct daemon {
	const char		*config_path;
	const char		*clock_file;	/* test clock, or NULL */
	struct meshd_config	*cfg;
	struct jobset		 jobs;
	struct jobset		*retired;	/* old job sets still in use */
	size_t			 nretired;
	int64_t			*watermark;	/* per job in `jobs` */
	unsigned char		*paused;	/* per job in `jobs` */
	int			 catchup_due;	/* unpaused: apply catchup */
	struct state		*st;
	struct executor		*ex;
	struct xremote		**xr;		/* remote executors by index - 1 */
	size_t			 nxr;
	struct engine		*engine;
	struct run_observer	 obs;
	struct dqueue		*queue;		/* meshd-queue.c */
	size_t			 nq;		/* runs in it */
	int			 max_active;	/* runs in the engine */
	/* When the next interval of any job ends: the jobs are looked at
	 * only then, not on every event (with 10,000 jobs that matters). */
	int64_t			 next_sched;
	int64_t			 data_version;	/* of the state, for requests */
	struct dbf		*bf;		/* active backfills */
	size_t			 nbf;
	int			 bf_due;	/* a run ended or a request came */
	int			 bf_force;	/* a request came: pass now */
	int64_t			 bf_ended;	/* runs ended since the pass */
	int64_t			 bf_last;	/* mono_us() of the last pass */
	struct dpub		*pub;		/* runs that built products */
	size_t			 npub;
	/* freshness and retention (meshd-freshness.c): products with an
	 * SLO and when their next partition is due, alert hooks running,
	 * the next quarantine retention pass.  NULL until the first pass. */
	struct dfresh		*fresh;
	int64_t			 fresh_due;	/* its next work: daemon clock */
	struct dhealth		*health;	/* meshd-health.c */
	struct dhouse		*house;		/* meshd-house.c */
};

int64_t	daemon_now(struct daemon *);

/* meshd-queue.c: the runs waiting for a place in the engine */
/*
 * Queue a run of `job` (not launched by a backfill): it may start once
 * the daemon's clock reaches not_before (0: at once).  Runs start in the
 * order they were queued, among those that may start.  The returned run
 * belongs to the queue; the caller may set its `rerun` before the next
 * daemon_admit().
 */
struct pending *daemon_queue_push(struct daemon *, const char *job,
	    const char *key, int64_t istart, int64_t iend, const char *trigger,
	    int64_t not_before);
/* The same, with `backfill`: a backfill launched it, which limits it
 * instead of the job's max_active_runs. */
struct pending *daemon_queue_add(struct daemon *, const char *job,
	    const char *key, int64_t istart, int64_t iend, const char *trigger,
	    int64_t not_before, int backfill);
/* Is the run (job, key) waiting in the queue?  O(1). */
int	daemon_queued(struct daemon *, const char *job, const char *key);
/* Move queued runs into the engine, oldest first, within the limits. */
void	daemon_admit(struct daemon *, int64_t now);
/* When (daemon clock) a queued run may next start: `now` if one may start
 * at once (a run ended and freed its job's place since the last
 * daemon_admit()), else the earliest not_before still ahead, INT64_MAX if
 * none.  The loop must not sleep past it. */
int64_t	daemon_queue_next_start(struct daemon *, int64_t now);
/* A partition (product, key) was published or changed: the queued runs
 * that wait for their inputs and may read it look again. */
void	daemon_queue_inputs_changed(struct daemon *, const char *product,
	    const char *key);
/* The jobs were reloaded: every run waiting for inputs looks again, by
 * its job's new inputs. */
void	daemon_queue_reloaded(struct daemon *);
void	daemon_queue_free(struct daemon *);
/*
 * Stop the run (job, key) if it is active (its attempts are stopped with
 * `why`) or take it out of the queue and record it as cancelled, inside
 * the open transaction.  1 if it was active or queued, 0 if neither, -1
 * with cause.
 */
int	daemon_cancel_run(struct daemon *, const char *job, const char *key,
	    const char *why, char **cause);

/* meshd-backfill.c */
/* Load the backfills left running by the last daemon (start-up). */
int	daemon_bf_load(struct daemon *, char **cause);
/* A "backfill" request, or a "cancel" request naming a backfill, inside
 * the open transaction; *ok and *result say how it went. */
int	daemon_bf_request(struct daemon *, const struct request *, int *ok,
	    char **result, char **cause);
int	daemon_bf_cancel(struct daemon *, const struct request *, int *ok,
	    char **result, char **cause);
/* Account for ended runs, launch partitions into free places, and end
 * backfills that are complete: one transaction. */
int	daemon_bf_pass(struct daemon *);
void	daemon_bf_free(struct daemon *);

/* meshd-inputs.c */
/* May queued run `p` of `job` start: are its inputs published?  1 yes
 * (and what it reads is recorded in run_inputs), 0 it waits (and
 * runs.waiting_for says for what), -1 with cause. */
int	daemon_inputs_ready(struct daemon *, struct pending *,
	    const struct job_def *, char **cause);
/* A run of `job` ended: if the job builds products, look at what it
 * published at the next daemon_inputs_pass(). */
void	daemon_inputs_ended(struct daemon *, const struct job_def *,
	    const char *key);
/* For each partition published since the last pass: waiting runs look
 * again, jobs on_inputs get runs, and consumers of an older version
 * become stale (and rerun, by their on_upstream_change). */
int	daemon_inputs_pass(struct daemon *);
void	daemon_inputs_free(struct daemon *);

/* meshd-clear.c */
int	daemon_clear(struct daemon *, const struct request *, int *ok,
	    char **result, char **cause);

/* meshd-freshness.c */
/*
 * Freshness SLOs and quarantine retention; call once every loop pass with
 * the daemon's clock.  Partitions that came due (interval end + the
 * product's freshness_seconds) are judged: one not published by then is
 * late (product_partitions.late_us, products.late_count, a log line and
 * the freshness_alert hook); quarantined partitions' staging older than
 * quarantine_retention is removed; finished alert hooks are reaped (by
 * pid: never another child).  Cheap when nothing is due.  *next_due is
 * when (daemon clock) it next has work, INT64_MAX if never: the loop must
 * not sleep past it.  0, or -1 after logging (the daemon goes on: a
 * failed pass is tried again at the next).
 */
int	daemon_freshness(struct daemon *, int64_t now, int64_t *next_due);
void	daemon_freshness_free(struct daemon *);
/* meshd-house.c: history_retention and log_retention, a batch per pass;
 * lowers *next_due (daemon clock) to when it has more to do. */
void	daemon_house(struct daemon *, int64_t now, int64_t *next_due);
void	daemon_house_free(struct daemon *);

/* meshd-jobs.c: a broken job stops only itself (issue 11) */
/*
 * Load and judge the jobs of `cfg` into js, each on its own: a job whose
 * file, policies, plugins or links to other jobs are wrong is refused
 * alone, logged, and kept in js->broken.  With `old` (a reload), a job
 * whose file is broken keeps running its last valid version, moved from
 * old before the set is linked, so that the jobs reading its products are
 * not refused for it; a job refused by the links or the policies then
 * keeps its previous version too, and the set is linked and judged again.
 */
void	daemon_jobs_admit(const struct meshd_config *, struct jobset *js,
	    struct jobset *old);
/* Can the jobs directory be read?  0, or -1 logged: that is the platform's
 * configuration, not a team's job, and stops a start or a reload. */
int	daemon_jobs_dir(const struct meshd_config *);

/* meshd-health.c: faults that are nobody's input (issue 10) */
/* After the state is open and the engine made: the busy wait, the held
 * commits, the health file.  `stop` is the daemon's stop flag. */
void	daemon_health_init(struct daemon *, volatile sig_atomic_t *stop);
/* Every loop pass: try a held commit again, look at free space, pause or
 * resume launching, rewrite the health file when it changed. */
void	daemon_health(struct daemon *);
/* May the scheduling passes (requests, schedule, backfills, inputs,
 * freshness, admitting runs) run now?  Not while a commit is held. */
int	daemon_health_may_schedule(struct daemon *);
/* Report how a scheduling pass `what` went (rc 0 or -1): a failure
 * backs the passes off, 1 s doubling to 30 s, instead of stopping. */
void	daemon_health_pass(struct daemon *, const char *what, int rc);
/* The loop's sleep, capped at 1 s while anything runs, waits or is wrong
 * (loop lag, figures to write). */
int	daemon_health_timeout(struct daemon *, int timeout_ms);
void	daemon_health_write(struct daemon *);
void	daemon_health_free(struct daemon *);

/* meshd-http.c: the HTTP child (http.h), if meshd.conf has http. */
int	daemon_http_start(struct daemon *, char **cause);
void	daemon_http_watch(struct daemon *);
void	daemon_http_reload(struct daemon *, const struct meshd_config *old);
void	daemon_http_stop(void);
/* The mono_us() at which daemon_http_watch() starts a dead HTTP child
 * again, INT64_MAX if none is waiting (an idle meshd sleeps until then). */
int64_t	daemon_http_next(void);

/* meshd-notify.c: systemd's view (notify.h).  Each loop pass: the status
 * line ("running 3 attempts, 12 queued, 41 jobs") and the watchdog's
 * keep-alive.  READY=1 after start-up or a reload; STOPPING=1. */
void	daemon_notify(struct daemon *);
void	daemon_notify_ready(struct daemon *);
void	daemon_notify_stopping(struct daemon *);

#endif

/*
 * executor.h -- the worker pool.
 *
 * A pool of pre-forked worker processes, reused across tasks.  Each worker
 * is connected to the supervisor by a socketpair; it receives one task at a
 * time, loads the plugin lazily (and caches it), points its stdout and
 * stderr at the attempt's log file, runs the stage and sends back the
 * status, the error message, check results and metrics.  Workers die with
 * their parent (PR_SET_PDEATHSIG).
 *
 * The supervisor turns every fault into a failed attempt with a precise
 * reason, and replaces the worker:
 *   crash            "killed by signal 11 (SIGSEGV)"
 *   exit in plugin   "plugin called exit(3)"
 *   timeout          SIGTERM, then SIGKILL after kill_grace:
 *                    "timed out after 30s"
 *   silence          no heartbeat for heartbeat_timeout:
 *                    "worker stopped answering (no heartbeat for 10s)"
 *   forged message   "worker sent a malformed message" (wire.h)
 *   lost socket      "worker closed its connection"
 * A worker that has run worker_max_tasks tasks is replaced after its task;
 * one that was sent a signal (stop, timeout, kill) is never given another.
 *
 * Containment: whatever a stage started is killed when it returns; its log
 * is cut at log_max_bytes; results are read before a worker is judged
 * silent, and a stall of the supervisor itself is not held against the
 * workers.
 *
 * The executor is single-threaded and driven by its owner: submit tasks,
 * then call executor_wait() for results.
 */
#ifndef MESHD_EXECUTOR_H
#define MESHD_EXECUTOR_H

#include <stdint.h>
#include <sys/types.h>

#include "job.h"

struct executor_opts {
	int	workers;		/* pool size, >= 1 */
	int	max_tasks;		/* per worker before replacement; 0 = no limit */
	int	memory_mb;		/* RLIMIT per worker, 0 = none */
	int	kill_grace_s;		/* SIGTERM -> SIGKILL */
	int	heartbeat_timeout_s;
	/* containment (issue 10); 0 in each means the default noted */
	long long log_max_bytes;	/* cap on an attempt's log; 0: none */
	int	log_overflow_fails;	/* over the cap: fail the attempt */
	long long task_max_bytes;	/* largest task; 0: 16 MiB */
	int	empty_check_fails;	/* a check stage with no check fails */
	/* Attempts in flight per worker, the running one included (0: the
	 * default, EXECUTOR_DEPTH; 1: one at a time).  See executor_room(). */
	int	depth;
};

#define EXECUTOR_DEPTH	4

/* Everything a worker needs for one attempt.  The executor copies it. */
struct task_req {
	int64_t			 attempt_id;	/* the caller's handle */
	const char		*job;
	const char		*task_id;
	const char		*plugin_path;
	int			 stage;		/* enum meshd_stage */
	int			 attempt;	/* 1 for the first try */
	const char		*partition_key;
	int64_t			 interval_start_us, interval_end_us;
	const char		*staging_dir;	/* created by the worker */
	const char		*attempt_dir;	/* created by the worker */
	const char		*log_path;	/* created (with parents) */
	const char		*product;	/* NULL: the plugin's first */
	const char		*location;	/* override, or NULL */
	const struct paramset	*params;
	int64_t			 timeout_us;	/* 0 = none */
};

struct check_rec {
	char	*name;
	int	 severity;		/* enum meshd_severity */
	int	 passed;
	double	 observed;
	char	*expectation;		/* may be NULL */
	int64_t	 recorded_us;
};

struct metric_rec {
	char	*name;
	double	 value;
};

struct task_result {
	int64_t			 attempt_id;
	pid_t			 pid;		/* worker that ran it */
	/* The outcome: MESHD_OK, MESHD_FAILED, MESHD_RETRY or MESHD_SKIPPED.
	 * A failed error-level check turns OK into FAILED.  Faults (crash,
	 * exit, timeout, silence, load refusal) are MESHD_FAILED with
	 * `retryable` set except for a load refusal or failed check. */
	int			 status;
	int			 retryable;
	char			*reason;	/* precise cause, or NULL on OK */
	char			*message;	/* the plugin's set_error text */
	int64_t			 started_us, ended_us;
	/* The attempt never ran the plugin because of a fault in meshd's
	 * own directories or resources (log or staging directory not
	 * writable, disk full): the engine does not count it against the
	 * task's retries, and pauses launching for a while. */
	int			 infra;
	struct check_rec	*checks;
	size_t			 nchecks;
	struct metric_rec	*metrics;
	size_t			 nmetrics;
};

struct executor;

/* Fork the pool.  NULL with cause. */
struct executor	*executor_new(const struct executor_opts *, char **cause);
/*
 * How the processes of an attempt are contained, for the daemon to log at
 * start ("containment: %s"): "subreaper" (each worker, and the owner, is
 * a child subreaper; what a stage started is killed when it returns, what
 * a dead worker left is killed by the executor) or "none" (the owner could
 * not become a subreaper).  A cgroup per attempt is not built yet.  Static
 * string.
 */
const char	*executor_containment(const struct executor *);
/* Number of workers idle now. */
int		 executor_idle(const struct executor *);
/*
 * How many more tasks executor_submit() takes now: the idle workers, and
 * room behind busy ones (opts.depth attempts per worker in all).  A task
 * that finds no idle worker waits in the executor, or, if it is of the
 * same run (job and partition) and plugin as the attempt a worker runs,
 * in that worker's socket, so that the worker starts it the moment the
 * first ends, without waiting for the owner's next commit.  Only that
 * run's own tasks ever wait behind its attempt: a plugin that hangs or
 * crashes delays no one else's.  A waiting task has not started: its timeout runs from its
 * start, cancelling it drops it, and one left in the socket of a worker
 * that dies is handed to another worker, unseen by the owner.
 */
int		 executor_room(const struct executor *);
/* Number of tasks running. */
int		 executor_busy(const struct executor *);
/*
 * Hand a task to a worker (see executor_room()).  Returns the worker's
 * pid, 0 when the task waits in the executor for one (the pid is then in
 * its result), or -1 with cause only when there is no room.  Nothing about the task itself is an
 * error here: a task message over task_max_bytes ("task message is N
 * bytes, over task_max_bytes (M)", not retryable), a task without a plugin
 * path, or a worker that cannot be written to ("cannot hand the task to a
 * worker: ...", retryable; the worker is replaced) end the attempt with a
 * result that executor_wait() returns.
 */
pid_t		 executor_submit(struct executor *, const struct task_req *,
		    char **cause);
/*
 * Wait up to timeout_ms (-1: forever) for one attempt to end; the
 * executor enforces timeouts and heartbeats while it waits.  Returns 1
 * with *out set (free with task_result_free), 0 on timeout or signal
 * (EINTR), -1 with cause on an internal error.
 */
int		 executor_wait(struct executor *, int timeout_ms,
		    struct task_result **out, char **cause);
/* A descriptor that, when readable, ends executor_wait() early (0 or a
 * result already read): the daemon's self-pipe, written by its signal
 * handlers, so that no signal waits for the next timeout.  -1: none.  The
 * caller drains it. */
void		 executor_set_wakeup(struct executor *, int fd);
/*
 * Another executor plugged into executor_wait() (issue 13: the Slurm
 * executor's agent, xremote.h).  poll_fd() gives a descriptor to poll
 * and the events wanted (-1: none now), ready() is called with what
 * poll() reported, tick() does what is due at mono_us `now` and returns
 * the next mono_us it wants to run (0: none).  Its results go through
 * executor_push_result() and come out of executor_wait() like the
 * pool's own.
 */
struct executor_source {
	int	(*poll_fd)(void *arg, short *events);
	void	(*ready)(void *arg, short revents);
	int64_t	(*tick)(void *arg, int64_t now);
	void	 *arg;
};
void		 executor_add_source(struct executor *,
		    const struct executor_source *);
/* Unplug the source whose arg is `arg`. */
void		 executor_remove_source(struct executor *, void *arg);
void		 executor_push_result(struct executor *, struct task_result *);
/* New kill grace and heartbeat timeout (a reload of meshd.conf): taken by
 * the next stop and the next silence check.  Workers need not know: they
 * beat every second whatever the timeout. */
void		 executor_set_limits(struct executor *, int kill_grace_s,
		    int heartbeat_timeout_s);
/* Ask the attempt to stop: SIGTERM, then SIGKILL after the grace.  Its
 * result comes through executor_wait() with reason `why`. */
int		 executor_cancel(struct executor *, int64_t attempt_id,
		    const char *why);
/* Stop every worker (SIGTERM, grace, SIGKILL), reap them and free. */
void		 executor_free(struct executor *);
void		 task_result_free(struct task_result *);

/*
 * The outcome trailer (executor-log.c).  When an attempt ends, whatever
 * ended it, the supervisor appends to its log a marker line and what it
 * knows: "meshd: attempt N failed: killed by signal 11 (SIGSEGV)", the
 * plugin's error message, and the table of checks it recorded, so that
 * the log alone explains a failure.  It is written after any cut at
 * log_max_bytes and is at most EXECUTOR_OUTCOME_MAX bytes, so a log can
 * pass the cap by its marker line and this much.  A log that does not
 * exist yet (an attempt refused at submit) is created.  Errors are
 * ignored: the state holds the outcome anyway.  Since 0.5.0.
 */
#define EXECUTOR_OUTCOME_MARKER	"---- meshd: outcome ----"
#define EXECUTOR_OUTCOME_MAX	8192
void		 executor_log_outcome(const char *log_path, int attempt,
		    const struct task_result *);

/* "killed by signal 11 (SIGSEGV)" style text for a wait(2) status; new
 * string. */
char		*exit_reason(int wstatus);

#endif

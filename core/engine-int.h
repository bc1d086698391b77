/*
 * engine-int.h -- what engine.c (launching tasks and applying their
 * results) and engine-run.c (opening and closing runs) share.  Internal
 * to the engine: nothing else includes it.
 */
#ifndef MESHD_ENGINE_INT_H
#define MESHD_ENGINE_INT_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "dag.h"
#include "engine.h"
#include "loader.h"
#include "util.h"

struct erun;

/* One task of an active run. */
struct rtask {
	struct erun		*run;
	const struct task_def	*def;
	size_t			 index;
	int64_t			 ti_id;
	int			 tries;		/* attempts made so far */
	int			 max_tries;
	const char		*state;		/* static string */
	int64_t			 attempt_id;	/* running attempt, or 0 */
	int64_t			 attempt_start;	/* mono_us of that attempt */
	int64_t			 due;		/* retry due (mono_us), or 0 */
	pid_t			 pid;
	int			 pid_unsaved;	/* pid not yet in the state */
	int64_t			 duration;
	char			*reason;
	const char		*product;	/* product the task builds */
	int64_t			 product_id;	/* 0: none */
	int			 running;
	/* Remote executors (engine-exec.c): the Slurm job name and array
	 * index recorded with the attempt; while a resumed run opens, the
	 * executor and job id of an attempt to adopt. */
	char			 ext_name[32];
	int			 ext_index;
	int			 adopt_exec;
	char			*adopt_ext_id;
};

/* An active run. */
struct erun {
	struct engine		*e;
	const struct job_def	*job;
	char			*key;
	int64_t			 istart, iend;
	int64_t			 job_id, run_id;
	char			*lin_inputs;	/* lineage_attempt.inputs */
	struct rtask		*t;
	size_t			 n;
	struct dag_ready	*ready;
	struct plugin_info	**infos;	/* per task, shared */
	size_t			 running;
	size_t			 waiting;	/* up for retry */
	int			 cancelled;
	int			 timed_out;	/* run_timeout passed */
	int64_t			 started;	/* mono_us */
	int64_t			 deadline;	/* mono_us, or 0 */
	int			 backfill;	/* lower priority class */
	size_t			 reserved;	/* picked, not yet submitted */
	/* Run parameters (runs.params), as strings: over every task's. */
	struct paramset		 over;
	/* Ready tasks held back by a pool or max_active_tasks. */
	struct rtask		**deferred;
	size_t			 ndeferred, deferred_cap;
};

/* The jobs row last written for a run (run_open()): a backfill's runs
 * skip writing the same row again. */
struct job_synced {
	char	*name, *domain, *owner, *description, *file, *schedule;
	int64_t	 id;
};

struct engine {
	const struct meshd_config	*cfg;
	struct job_synced		 synced;
	/* engine_add_runs_begin(): the transaction open, and the runs
	 * opened in it (announced at its commit). */
	int				 adding;
	struct erun			**added;
	size_t				  nadded, added_cap;
	struct state			*st;
	struct executor			*ex;
	const struct run_observer	*obs;
	struct erun			**runs;
	size_t				  nruns, runs_cap;
	size_t				  rr;		/* round-robin start */
	/* Tasks with an attempt in flight, and tasks waiting to retry:
	 * both small, so a scan of them is no rescan of the work. */
	struct rtask			**busy;
	size_t				  nbusy, busy_cap;
	struct rtask			**wait;
	size_t				  nwait, wait_cap;
	struct run_summary		 *last;
	int				  cancelled;
	char				 *cancel_why;
	int				  draining;	/* launch nothing */
	int				  stopping;	/* killing; keep runs */
	char				 *stop_why;
	int				 *pool_used;	/* per cfg->pools */
	uint64_t			  nlaunched;	/* for class turns */
	size_t				 *blocked;	/* scratch for failures */
	size_t				  blocked_cap;
	/* Plugin descriptions by path, file identity and mtime: describing
	 * a plugin costs a process, and a backfill opens thousands of runs
	 * of the same job.  A refusal is cached too (info NULL). */
	struct probe {
		char			*path;
		dev_t			 dev;
		ino_t			 ino;
		struct timespec		 mtime;
		struct plugin_info	*info;
	}				 *probes;
	size_t				  nprobes;
	uint64_t			  rng;		/* retry jitter */
	/*
	 * Holding through faults (issue 10).  Results read from workers
	 * wait in `held` while the state cannot be written (a commit held
	 * by state_pending()); attempts recorded by such a commit wait in
	 * `later` and reach workers only once it is on disk.  `paused` is
	 * the daemon's (disk headroom); infra_* is a fault in meshd's own
	 * directories reported by a worker, which stops launching for a
	 * backoff without costing the task a try.
	 */
	struct task_result		**held;
	size_t				  nheld, heldcap;
	struct launch			 *later;
	int				  paused;
	int64_t				  infra_until;	/* mono_us */
	int64_t				  infra_backoff;
	char				 *infra_why;
	/* Executors (engine-exec.c): the remote ones by index - 1, and
	 * the room each has in the launch pass under way (index 0: the
	 * local pool). */
	struct xremote			**xr;
	size_t				  nxr;
	int				 *room;
};

/* engine.c */
void	ptr_push(void *arrp, size_t *n, size_t *cap, void *p);
void	ptr_remove(void **arr, size_t *n, void *p);
void	job_synced_clear(struct job_synced *);
/* "<base>/<job>/<key><fmt...>", a new string. */
char	*run_path(const char *base, const struct erun *r, const char *fmt,
	    ...) PRINTFLIKE(3, 4);
/* Read a run parameter as the type of `decl` (a string when decl is
 * NULL); its key and string are borrowed.  0, or -1 with cause. */
int	run_param_parse(const struct param *decl, const char *key,
	    const char *value, struct param *out, char **cause);

/* engine-exec.c */
struct task_req;
/* The executor index a task runs on: 0 local, k + 1 remote. */
int	task_executor(const struct engine *, const struct rtask *);
/* Fill e->room for a launch pass; the total. */
int	engine_room(struct engine *);
int	launch_name(struct engine *, struct rtask **, size_t, char **cause);
void	task_remote_submit(struct engine *, struct rtask *,
	    const struct task_req *);
void	engine_remotes_flush(struct engine *);
void	task_cancel(struct engine *, struct rtask *, const char *why);
int	task_detach(struct engine *, struct rtask *);
int	engine_flush_updates(struct engine *, char **cause);
int	engine_has_updates(const struct engine *);
int	task_adoptable(struct engine *, struct rtask *, char **cause);
void	run_adopt(struct erun *);

/* engine-run.c */
void	run_free(struct erun *);
/* Close and drop every run whose work is over.  0, or -1 with cause. */
int	engine_reap(struct engine *, char **cause);

#endif

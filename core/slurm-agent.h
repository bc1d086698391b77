/*
 * slurm-agent.h -- the Slurm agent's state, shared by slurm-agent.c (the
 * loop and meshd's messages) and slurm-agent-job.c (sbatch, squeue and
 * scancel for job mode).  Internal to the agent.
 */
#ifndef MESHD_SLURM_AGENT_H
#define MESHD_SLURM_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "xdef.h"
#include "slurm-int.h"

struct pollfd;

enum att_st {
	AT_QUEUED,	/* waiting for sbatch */
	AT_LOOKUP,	/* adopted without a job id: look it up by name */
	AT_SUBMITTED,	/* has a Slurm job; polled */
	AT_PILOT	/* pilot mode: handed to the pilot pool */
};

struct pilot_pool;

/* A pilot job (pilot mode). */
struct pjob {
	char	*job_id;
	char	*state;
	int	 missing;
};

/* One attempt the agent holds. */
struct att {
	int64_t	 id;
	char	*job_name;
	int	 index;		/* meshd's index in its job array */
	char	*attempt_dir;
	int64_t	 timeout_us;
	int	 memory_mb;
	int	 st;		/* enum att_st */
	int	 flushed;	/* its SUBMIT batch has ended (FLUSH) */
	int	 verify;	/* an sbatch for it may have worked: look
				 * the name up before submitting again */
	int	 adopted;	/* from ADOPT */
	char	*job_id;	/* Slurm job id, the array's for an element */
	int	 aidx;		/* index in that array, -1: plain job */
	char	*ext_id;	/* "1234" or "1234_5" */
	char	*state;		/* last Slurm state sent to meshd */
	char	*sreason;	/* last Slurm reason (pending why) */
	char	*cancel_why;	/* meshd (or the agent) cancelled it */
	int	 cancel_sent;	/* scancel done */
	char	*time_arg;	/* --time asked */
	int	 mem_mb;	/* --mem asked */
	int64_t	 pending_since;	/* mono_us first seen pending, 0 */
	int	 missing;	/* polls squeue did not list it */
	int	 done;		/* DONE sent: dropped at the end of the step */
	int	 slurm_stop;	/* its result says Slurm stopped it: wait
				 * for Slurm to say why */
	int	 requeue_unclaimed; /* pilot mode, adopted with no pilot
				 * known: queued again if none claims it */
};

struct agent {
	int			 fd;
	struct executor_def	 def;
	int			 kill_grace_s;
	int			 have_config;
	struct att		**a;
	size_t			 n, cap;
	char			*missing;	/* a Slurm command not in PATH */
	char			*error;		/* the controller's last error */
	int64_t			 backoff_us;	/* sbatch/squeue retry */
	int64_t			 retry_at;	/* mono_us */
	int64_t			 next_poll;	/* mono_us */
	int			 c_queued, c_running, c_sent;
	int			 c_pilots, c_busy;
	char			*c_error;
	int			 exiting;
	int			 blocked;	/* queued, waiting for max_jobs */
	char			*buf;		/* WIRE_MAX */
	/* pilot mode (slurm-agent-pilot.c) */
	struct pilot_pool	*pool;
	char			*pool_error;	/* the pool cannot work */
	struct pjob		*pj;
	size_t			 npj;
	int			 pilot_seq;	/* next n of meshd-pilot-X-n */
	int			 pilots_found;	/* looked for after a restart */
};

/* slurm-agent.c */
void	agent_drain(struct agent *);
void	agent_update(struct agent *, struct att *);
void	agent_done(struct agent *, struct att *, int have_file,
	    const char *reason, int retryable, int infra);
int	agent_has_file(const struct att *, const char *name);
/* Is the attempt's result file there and to be passed on now?  Not a
 * result of TASKFILE_SLURM_STOP meshd did not ask for: that one waits for
 * Slurm's state (t->slurm_stop is set). */
int	agent_result_ready(struct att *);
void	agent_error(struct agent *, const char *);
void	agent_backoff(struct agent *);
int	agent_max_jobs(const struct agent *);

/* slurm-agent-pilot.c */
void	pilot_config(struct agent *);
size_t	pilot_pollfds(struct agent *, struct pollfd *, size_t);
void	pilot_handle(struct agent *, const struct pollfd *, size_t);
int64_t	pilot_tick(struct agent *);
void	pilot_step(struct agent *);
void	pilot_cancel(struct agent *, struct att *);
void	pilot_adopt(struct agent *, struct att *);
char	*pilot_poll_ids(struct agent *, char *ids);
void	pilot_rows(struct agent *, const struct sq_row *, size_t);
void	pilot_free(struct agent *);

/* slurm-agent-job.c */
void	job_cancels(struct agent *);
void	job_lookups(struct agent *);
void	job_submit(struct agent *);
void	job_poll(struct agent *);

#endif

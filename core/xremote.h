/*
 * xremote.h -- meshd's side of a remote executor (issue 13): the Slurm
 * agent as the engine sees it.
 *
 * One per executor declared in meshd.conf.  It starts the agent
 * (`meshd-worker --agent`, slurm.h) with a socket, writes each attempt's
 * request file, tells the agent what to submit, cancel or adopt, and turns
 * what the agent reports into task results, which come out of
 * executor_wait() with the local pool's (it registers itself as an
 * executor_source).  It never runs a Slurm command and never blocks on
 * the agent: messages wait in a queue until the socket takes them.
 *
 * If the agent dies it is started again (1 s, doubling to 60 s) and told
 * to adopt every attempt in flight, exactly as after a restart of meshd:
 * Slurm jobs outlive both.
 */
#ifndef MESHD_XREMOTE_H
#define MESHD_XREMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "executor.h"
#include "xdef.h"

struct xremote;

/* A Slurm job id or state learnt for an attempt, to record. */
struct xupdate {
	int64_t	 attempt_id;
	char	*ext_id;	/* may be NULL */
	char	*ext_state;	/* may be NULL */
};

struct xcounts {
	int		 agent_up;
	int		 inflight;	/* attempts meshd gave it */
	int		 queued;	/* the agent's: not yet running */
	int		 running;
	int		 pilots, pilots_busy;
	const char	*error;		/* the controller's, or NULL */
};

/*
 * The executor `def` (copied), answering for executor index `index` (k + 1
 * for cfg->executors[k]).  Request files carry `wopts`, the options of
 * meshd's own workers (limits, log cap).  Results are pushed into `ex`.
 * The agent is started at once; if it cannot be, that is logged and tried
 * again.  Never NULL.
 */
struct xremote	*xremote_new(const struct executor_def *def, int index,
		    const struct executor_opts *wopts, int kill_grace_s,
		    struct executor *ex);
const char	*xremote_name(const struct xremote *);
/* Attempts it may take now: max_jobs less those in flight. */
int		 xremote_room(const struct xremote *);
/*
 * Hand it a recorded attempt: its request file is written and it is
 * queued for the agent, under the Slurm job name and array index recorded
 * with the attempt.  Any failure (the request file cannot be written)
 * becomes the attempt's result.  xremote_flush() ends the batch: the
 * agent submits what shares a name as one job array.
 */
void		 xremote_submit(struct xremote *, const struct task_req *,
		    const char *ext_name, int ext_index);
void		 xremote_flush(struct xremote *);
/* An attempt recorded as running on this executor before meshd started:
 * the agent finds its Slurm job (by id, else by name) and follows it. */
void		 xremote_adopt(struct xremote *, const struct task_req *,
		    const char *ext_name, int ext_index, const char *ext_id);
/* Stop an attempt (scancel); it ends with `why`.  0, or -1 if unknown. */
int		 xremote_cancel(struct xremote *, int64_t attempt_id,
		    const char *why);
/* Forget an attempt but leave its job running (meshd is stopping: the
 * next start adopts it).  0, or -1 if unknown. */
int		 xremote_detach(struct xremote *, int64_t attempt_id);
/* Take the Slurm ids and states learnt since the last call; free with
 * xupdates_free(). */
size_t		 xremote_updates(struct xremote *, struct xupdate **out);
int		 xremote_has_updates(const struct xremote *);
void		 xupdates_free(struct xupdate *, size_t);
void		 xremote_counts(const struct xremote *, struct xcounts *);
/* Tell the agent to exit (its jobs keep running) and free. */
void		 xremote_free(struct xremote *);

#endif

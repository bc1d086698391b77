/*
 * pilot.h -- pilot mode of the Slurm executor (issue 13, item 4).
 *
 * In pilot mode the agent (slurm-agent.c) keeps up to `pilots` long-running
 * Slurm jobs of `meshd-worker --pilot` (pilot-client.c).  Each connects
 * back over TCP to the agent's listener (executor_def.listen), proves it
 * knows the shared secret (secret_file) by answering a challenge with
 * HMAC-SHA256, then takes tasks as a local worker does: heartbeats every
 * second, `pilot_slots` tasks at once, each result written to the
 * attempt's result file (taskfile.h) and announced on the connection.
 *
 * The pilot pool (pilot.c) is the agent's server side: it listens,
 * authenticates, hands out tasks, judges heartbeats and tells the agent,
 * through callbacks, when an attempt ends.  The agent owns the Slurm side:
 * it submits pilot jobs when pilot_pool_wanted() says so and reports pilot
 * jobs that ended (pilot_pool_job_ended()).
 *
 * A pilot that dies, is killed or hits its --time fails only the attempts
 * it was running, with the reason.  A pilot that loses its connection
 * (meshd or the agent restarted) finishes its tasks, writes their result
 * files, and reconnects for up to a minute, naming the attempts it still
 * runs, so that they are adopted, never run twice.
 */
#ifndef MESHD_PILOT_H
#define MESHD_PILOT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "xdef.h"

struct pilot_pool;

struct pilot_pool_cb {
	/* The attempt ended.  have_file: its result file is written
	 * (the agent sends DONE with have_file); else `reason` says why
	 * it ended without one ("pilot 1234 died: ...").  */
	void	(*done)(void *arg, int64_t attempt_id, int have_file,
		    const char *reason, int retryable);
	/* A pilot took the attempt: ext_id is the pilot's Slurm job id
	 * (what meshctl tasks shows), e.g. "1234". */
	void	(*started)(void *arg, int64_t attempt_id, const char *ext_id);
	void	 *arg;
};

/* Listen on def->listen ("host:port"; port 0: any free port) with the
 * secret read from def->secret_file (refused if it is readable by group
 * or others, or empty).  NULL with cause. */
struct pilot_pool *pilot_pool_new(const struct executor_def *def,
		    const struct pilot_pool_cb *cb, char **cause);
/* "host:port" pilots are told to connect to (the real port). */
const char	*pilot_pool_address(const struct pilot_pool *);
/* Descriptors to poll (listener, connections): at most `max`. */
size_t		 pilot_pool_pollfds(struct pilot_pool *, struct pollfd *,
		    size_t max);
/* Handle what poll() reported on those descriptors. */
void		 pilot_pool_handle(struct pilot_pool *, const struct pollfd *,
		    size_t n);
/* Judge heartbeats, adoption deadlines and idle pilots at mono_us `now`;
 * returns the next mono_us it wants to be called at, 0 for none. */
int64_t		 pilot_pool_tick(struct pilot_pool *, int64_t now);
/* Hand an attempt to a free slot of a connected pilot.  0, or -1 when
 * no slot is free (the agent queues it and asks again). */
int		 pilot_pool_submit(struct pilot_pool *, int64_t attempt_id,
		    const char *attempt_dir);
/* Stop an attempt; it ends through cb->done with `why`.  0, or -1 if
 * the pool does not know it. */
int		 pilot_pool_cancel(struct pilot_pool *, int64_t attempt_id,
		    const char *why);
/* An attempt meshd recorded as running on a pilot before it restarted:
 * a reconnecting pilot that names it adopts it; otherwise at `deadline`
 * (mono_us) it ends from its result file if there is one, or as lost. */
void		 pilot_pool_adopt(struct pilot_pool *, int64_t attempt_id,
		    const char *attempt_dir, int64_t deadline);
/* Slots free on connected pilots; pilots connected; attempts running. */
int		 pilot_pool_free_slots(const struct pilot_pool *);
int		 pilot_pool_connected(const struct pilot_pool *);
int		 pilot_pool_busy(const struct pilot_pool *);
/* How many more pilot jobs to submit for `queued` waiting attempts,
 * given `pending` pilot jobs not yet connected and def->pilots. */
int		 pilot_pool_wanted(const struct pilot_pool *, int queued,
		    int pending);
/* The Slurm job of a pilot ended (as squeue saw it): its attempts fail
 * with `why` ("pilot 1234 ended: TIMEOUT"). */
void		 pilot_pool_job_ended(struct pilot_pool *, const char *job_id,
		    const char *why);
void		 pilot_pool_free(struct pilot_pool *);

/* The pilot: `meshd-worker --pilot --connect HOST:PORT --secret-file F
 * [--slots N]`.  Returns the exit status. */
int		 pilot_client_main(const char *connect, const char *secret_file,
		    int slots);

#endif

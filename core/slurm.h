/*
 * slurm.h -- the Slurm executor (issue 13): meshd's side and the agent's.
 *
 * meshd never runs a Slurm command itself.  For each executor of type
 * "slurm" it starts an agent, `meshd-worker --agent` (slurm-agent.c), with
 * one end of a socketpair(AF_UNIX, SOCK_SEQPACKET) as descriptor 3.  The
 * agent runs sbatch, squeue, scontrol and scancel, waits for them, reads
 * and writes the spool, and tells meshd what happened.  A Slurm controller
 * that hangs blocks the agent, never the scheduler.  The agent dies with
 * meshd (PR_SET_PDEATHSIG); its Slurm jobs do not, and the next agent
 * adopts them.
 *
 * Messages are built with wire.h's wbuf (a 32-bit type, then the fields
 * in order).  meshd -> agent:
 *   CONFIG  the executor_def: str name, i32 mode, str partition, u32 n +
 *           n str sbatch_args, str worker, str spool_dir, str time_limit,
 *           i32 max_jobs, i32 poll_ms, i32 start_timeout_s, i32 pilots,
 *           i32 pilot_time_s, i32 pilot_slots, i32 pilot_idle_s,
 *           str listen, str secret_file; then i32 kill_grace_s.
 *           First message, and again on reload.
 *   SUBMIT  i64 attempt_id, str job_name, i32 index, str attempt_dir,
 *           str group, i64 timeout_us, i32 memory_mb.  The request file
 *           (taskfile.h) is on disk already.  Tasks of one SUBMIT batch
 *           with the same job_name go into one job array (index 0..n-1);
 *           a job_name used once is a plain job.
 *   FLUSH   (no fields) the end of a batch: submit what was queued.
 *   ADOPT   i64 attempt_id, str job_name, i32 index, str ext_id,
 *           str attempt_dir, i64 timeout_us, i32 memory_mb: an attempt
 *           meshd recorded as running on this executor before it
 *           restarted.  ext_id is the Slurm job id if it was recorded
 *           ("1234", "1234_5"), else NULL.
 *   CANCEL  i64 attempt_id, str why
 *   EXIT    (no fields)
 * agent -> meshd:
 *   UPDATE  i64 attempt_id, str ext_id, str ext_state ("PENDING",
 *           "RUNNING", ...): for the state and for operators.
 *   DONE    i64 attempt_id, i32 have_file, i32 status, i32 retryable,
 *           i32 infra, str reason, i64 started_us, i64 ended_us.
 *           have_file: meshd reads <attempt_dir>/result (taskfile.h)
 *           and the other fields are ignored.  Otherwise the attempt
 *           ended without a result and `reason` says why ("slurm:
 *           TIMEOUT ...", "cancelled outside meshd", sbatch's message).
 *   COUNTS  i32 queued, i32 running, i32 pilots, i32 pilots_busy,
 *           str error (the controller's last error, or NULL)
 */
#ifndef MESHD_SLURM_H
#define MESHD_SLURM_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"
#include "xdef.h"

enum slurm_msg {
	SX_CONFIG = 100,
	SX_SUBMIT,
	SX_FLUSH,
	SX_ADOPT,
	SX_CANCEL,
	SX_EXIT,
	SX_UPDATE = 120,
	SX_DONE,
	SX_COUNTS
};

/* One message, decoded.  Strings are owned; free with sx_msg_free(). */
struct sx_msg {
	uint32_t		 type;
	struct executor_def	 def;		/* CONFIG */
	int32_t			 kill_grace_s;	/* CONFIG */
	int64_t			 attempt_id;
	char			*job_name;	/* SUBMIT ADOPT */
	int32_t			 index;		/* SUBMIT ADOPT */
	char			*attempt_dir;	/* SUBMIT ADOPT */
	char			*group;		/* SUBMIT */
	int64_t			 timeout_us;	/* SUBMIT ADOPT */
	int32_t			 memory_mb;	/* SUBMIT ADOPT */
	char			*ext_id;	/* ADOPT UPDATE */
	char			*ext_state;	/* UPDATE */
	char			*why;		/* CANCEL */
	int32_t			 have_file, status, retryable, infra; /* DONE */
	char			*reason;	/* DONE */
	int64_t			 started_us, ended_us;	/* DONE */
	int32_t			 queued, running, pilots, pilots_busy; /* COUNTS */
	char			*error;		/* COUNTS */
};

/* Encode `m` by its type (wbuf initialised here). */
void	sx_encode(struct wbuf *, const struct sx_msg *);
/* Decode a message of n bytes.  Pure (fuzzable): 0, or -1 if malformed
 * (unknown type, short, bytes left over, a string over WIRE_STR_MAX
 * (sbatch_args and paths: PATH_MAX), mode/status/flags out of range).
 * Free with sx_msg_free() either way. */
int	sx_decode(const void *, size_t n, struct sx_msg *);
void	sx_msg_free(struct sx_msg *);

/* The agent: `meshd-worker --agent`, serving descriptor `fd`.  Returns
 * the process exit status. */
int	slurm_agent_main(int fd);

/* The Slurm job name of an attempt: "meshd-<attempt id>" (an array is
 * named after its first attempt).  New string. */
char	*slurm_job_name(int64_t attempt_id);

#endif

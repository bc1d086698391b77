/*
 * xdef.h -- one executor declared in meshd.conf (issue 13).
 *
 *     executors = {
 *         hpc = { type = "slurm"; partition = "debug";
 *                 sbatch_args = [ "--account=x" ]; };
 *         burst = { type = "slurm"; mode = "pilot"; pilots = 4;
 *                   pilot_time = 3600; listen = "10.0.0.1:7450";
 *                   secret_file = "/etc/meshd/pilot-secret"; };
 *     };
 *
 * A pool or a task picks one with executor = "hpc"; without it a task runs
 * on the embedded pool, "local".  Shared by config.c (which parses it),
 * the engine (which routes tasks) and the Slurm agent (which receives it
 * over its socket: slurm.h).
 */
#ifndef MESHD_XDEF_H
#define MESHD_XDEF_H

#include <stddef.h>
#include <stdint.h>

enum xmode { XMODE_JOB = 0, XMODE_PILOT = 1 };

struct executor_def {
	char	 *name;
	char	 *type;			/* "slurm" (only remote type) */
	int	  mode;			/* enum xmode */
	char	 *partition;		/* NULL: the cluster's default */
	char	**sbatch_args;		/* extra sbatch arguments */
	size_t	  nsbatch_args;
	char	 *worker;		/* meshd-worker path on the nodes;
					 * default: the installed one */
	char	 *spool_dir;		/* job scripts, array lists and Slurm's
					 * own output; shared storage.
					 * default <staging_dir>/.slurm/<name> */
	char	 *time_limit;		/* --time for a task without a timeout,
					 * Slurm's syntax ("90", "1:00:00");
					 * NULL: the partition's default */
	int	  max_jobs;		/* Slurm jobs (job mode) or pilot slots
					 * in flight at once; default 1000 */
	int	  poll_ms;		/* squeue period, default 1000 */
	int	  start_timeout_s;	/* pending longer: cancel, "never
					 * started"; 0 = wait forever */
	/* pilot mode */
	int	  pilots;		/* at most this many pilot jobs */
	int	  pilot_time_s;		/* their --time, default 3600 */
	int	  pilot_slots;		/* tasks at once per pilot, default 1 */
	int	  pilot_idle_s;		/* idle this long: released; 60 */
	char	 *listen;		/* host:port pilots connect to */
	char	 *secret_file;		/* shared secret (mode 0600) */
};

void	executor_def_free(struct executor_def *);
/* A deep copy of `src` into `dst` (free with executor_def_free()). */
void	executor_def_copy(struct executor_def *dst,
	    const struct executor_def *src);

#endif

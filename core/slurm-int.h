/*
 * slurm-int.h -- inside the Slurm agent (slurm-agent*.c, slurm-cli.c,
 * slurm-squeue.c, slurm-sbatch.c).  Not for meshd's side: that speaks
 * slurm.h only.  The pure pieces (parsing squeue's text, mapping states
 * to reasons, building sbatch's arguments and scripts) are here so that
 * tests/check_slurm.c can drive them without a cluster.
 */
#ifndef MESHD_SLURM_INT_H
#define MESHD_SLURM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "xdef.h"

/* ---------------------------------------------------------------- slurm-cli.c */

/* Bound on one Slurm command; over it the command is killed and the
 * controller taken as not answering.  MESHD_SLURM_CLI_TIMEOUT_MS
 * overrides it (tests). */
#define SLURM_CLI_TIMEOUT_MS	30000

struct cli_out {
	int	 wstatus;	/* wait status; meaningful unless killed/failed */
	int	 timed_out;	/* killed after the bound */
	int	 exec_failed;	/* could not start: err says why */
	char	*out;		/* stdout, NUL-terminated (never NULL) */
	char	*err;		/* stderr, NUL-terminated (never NULL) */
};

/*
 * Run argv (argv[0] searched in PATH) with stdin from /dev/null, capture
 * stdout and stderr (each cut at 4 MiB), kill its process group after
 * timeout_ms.  Always fills *o (free with cli_out_free()); returns 0 if it
 * exited with status 0, else -1.
 */
int	 cli_run(const char *const argv[], int timeout_ms, struct cli_out *o);
void	 cli_out_free(struct cli_out *);
/* The bound in force (SLURM_CLI_TIMEOUT_MS or the environment's). */
int	 cli_timeout_ms(void);
/* What went wrong, one line: stderr with newlines joined by "; ", or
 * "timed out after 30s (controller not answering)", or "exited with
 * status 1".  New string. */
char	*cli_error(const char *prog, const struct cli_out *);
/* 1 if the failure looks like a controller that is down or busy (worth
 * retrying), 0 if it is the request itself that is refused. */
int	 cli_transient(const struct cli_out *);
/* The full path of `prog` in $PATH, or NULL. */
char	*cli_which(const char *prog);
/* `s` quoted for sh: 'it'\''s'.  New string. */
char	*sh_quote(const char *s);

/* ---------------------------------------------------------------- slurm-squeue.c */

/* The columns the agent asks squeue for, in this order. */
#define SQUEUE_FORMAT \
	"JobID:|,ArrayJobID:|,ArrayTaskID:|,State:|,exit_code:|,Reason:|,Name:"
/* The same with each job's output path before the name, for finding
 * jobs by name: only those writing into this executor's spool are this
 * meshd's (another meshd, or an older state, may use the same names). */
#define SQUEUE_FORMAT_OUT \
	"JobID:|,ArrayJobID:|,ArrayTaskID:|,State:|,exit_code:|,Reason:|," \
	"StdOut:|,Name:"

struct sq_row {
	char	*job_id;	/* own id: "1234" (a pending array element
				 * shows the array's id) */
	char	*array_job_id;	/* "1234", same as job_id for a plain job */
	int	 array_task;	/* index, -1 for a plain job (N/A) */
	char	*state;		/* "PENDING", "RUNNING", "TIMEOUT", ... */
	int	 exit_raw;	/* raw wait status */
	char	*reason;	/* "None", "Priority", ... */
	char	*name;
	char	*out;		/* StdOut (SQUEUE_FORMAT_OUT), else NULL */
};

/* Parse squeue -h -O SQUEUE_FORMAT output.  Lines that do not parse are
 * skipped and counted in *bad (if not NULL).  Returns the rows (free with
 * sq_rows_free()); *n their count. */
struct sq_row	*sq_parse(const char *text, size_t *n, size_t *bad);
/* The same for SQUEUE_FORMAT_OUT. */
struct sq_row	*sq_parse_out(const char *text, size_t *n, size_t *bad);
void		 sq_rows_free(struct sq_row *, size_t n);

enum sq_class { SQ_PENDING, SQ_RUNNING, SQ_ENDED };
/* How the agent treats a state word: queued, in flight, or ended. */
enum sq_class	 sq_classify(const char *state);

/* Why an attempt ended without a result, from what Slurm said. */
struct sq_end {
	const char	*state;		/* Slurm's word */
	int		 exit_raw;	/* raw wait status (FAILED, COMPLETED) */
	const char	*time_arg;	/* --time given, or NULL */
	int		 mem_mb;	/* --mem given, 0 none */
	const char	*node;		/* NODE_FAIL: the node, or NULL */
	const char	*cancel_why;	/* the agent cancelled it: why */
	int		 cancel_uid;	/* cancelled outside: by uid, -1 */
	const char	*out_path;	/* Slurm's output file, or NULL */
};
/* The reason text, and whether a retry may help / the fault is the
 * cluster's rather than the task's.  New string. */
char	*sq_end_reason(const struct sq_end *, int *retryable, int *infra);

/* "1234" -> job "1234", index -1; "1234_5" -> "1234", 5.  0, or -1 if
 * it is not a job id. */
int	 sq_parse_ext_id(const char *ext, char **job, int *index);

/* ---------------------------------------------------------------- slurm-sbatch.c */

/* One attempt as sbatch needs it. */
struct sb_task {
	const char	*attempt_dir;
	int64_t		 timeout_us;	/* 0: none */
	int		 memory_mb;	/* 0: none */
};

/*
 * The --time in minutes for a task: timeout + kill grace + 60 s, rounded
 * up (meshd-worker enforces the real timeout; this is Slurm's backstop).
 * For several tasks (an array) the largest; NULL when some task has no
 * timeout: then def->time_limit (or nothing) applies.  New string.
 */
char	*sb_time_arg(const struct executor_def *, int kill_grace_s,
	    const struct sb_task *, size_t n);
/* --mem in MB: the largest memory_mb + 64 (meshd-worker itself), or 0. */
int	 sb_mem_mb(const struct sb_task *, size_t n);

/*
 * The sbatch argument vector for a job named `job_name` of n tasks (an
 * array 0..n-1 when n > 1 or `array_index` >= 0; array_index is the one
 * element to submit, for a lone element of an array resubmitted after an
 * adoption), running `script`.  NULL-terminated; free with sb_argv_free().
 * *time_arg and *mem_mb get what was asked (for reasons later).
 */
char	**sb_argv(const struct executor_def *, int kill_grace_s,
	    const char *job_name, const struct sb_task *, size_t n,
	    int array_index, const char *script, char **time_arg,
	    int *mem_mb);
void	  sb_argv_free(char **);
/* The text of the job script: exec worker on the request, or on the
 * list of requests of an array (list != NULL).  New string. */
char	 *sb_script(const char *worker, const char *attempt_dir,
	    const char *list);
/* Slurm's output file for a job: "<spool>/<name>-<jobid>_<index>.out"
 * (%x-%A_%a; a plain job's %a is 4294967294).  New string. */
char	 *sb_out_path(const char *spool, const char *name,
	    const char *job_id, int index);
/* Write `text` to `path` atomically with `mode`.  0, or -1 with cause. */
int	  sb_write_file(const char *path, const char *text, int mode,
	    char **cause);
/* The job id sbatch --parsable printed ("1234" or "1234;cluster"); NULL
 * if it printed none.  New string. */
char	 *sb_parse_job_id(const char *out);

#endif

/*
 * taskfile.h -- the request and result files of a remote attempt.
 *
 * A task that runs outside meshd's own worker pool (on Slurm, issue 13)
 * is handed over as a file on shared storage, in the attempt's directory
 * (task_req.attempt_dir):
 *
 *   <attempt_dir>/request   written by meshd before the job is submitted
 *   <attempt_dir>/started   written by meshd-worker when it starts the task
 *   <attempt_dir>/result    written by meshd-worker, atomically (a
 *                           temporary file, fsync, rename), once the
 *                           stage has returned and everything it started
 *                           is dead
 *
 * Both files are binary, in the wire format of wire.h (host byte order:
 * meshd and its workers run the same build on one architecture), framed
 * so that a reader can tell a whole file from a cut or altered one:
 *
 *   u32 magic ("MSRQ" request / "MSRS" result), u32 version (1),
 *   u64 length of the body, body, u32 magic again
 *
 * request body: the executor options that shape a worker (struct
 *   executor_opts, all fields) followed by a whole TASK message
 *   (wire_encode_task()).
 * result body: i64 attempt_id, i32 status, i32 retryable, i32 infra,
 *   str reason, str message, i64 started_us, i64 ended_us, u32 nchecks,
 *   per check: str name, i32 severity, i32 passed, f64 observed,
 *   str expectation, i64 recorded_us; u32 nmetrics, per metric: str
 *   name, f64 value.
 *
 * A reader believes a file only if it decodes exactly: magic, version,
 * length and trailer right, every byte consumed, strings within
 * WIRE_STR_MAX, status/severity/flags in range, and (for a result) the
 * attempt id the reader expects.  Anything else is refused with a cause
 * that says what is wrong ("result file ...: truncated (412 of 980
 * bytes)", "result file ...: written for attempt 12, not 13").
 */
#ifndef MESHD_TASKFILE_H
#define MESHD_TASKFILE_H

#include <stddef.h>
#include <stdint.h>

#include "executor.h"
#include "wire.h"

#define TASKFILE_REQUEST	"request"
#define TASKFILE_STARTED	"started"
#define TASKFILE_RESULT		"result"
/* The reason meshd-worker gives a task it stopped because Slurm sent it
 * SIGTERM (scancel, --time, preemption).  The agent does not pass such a
 * result on by itself: it waits for Slurm's word on why, so that an
 * outside scancel says "cancelled outside meshd" and a time limit
 * "slurm: TIMEOUT". */
#define TASKFILE_SLURM_STOP	"stopped by Slurm (SIGTERM)"

/* "<attempt_dir>/<name>", a new string. */
char	*taskfile_path(const char *attempt_dir, const char *name);

/*
 * Write the request for `req` with the worker options `opts` to `path`
 * atomically (temporary file in the same directory, rename; no fsync: a
 * request lost to a power cut fails its attempt for a retry, and meshd's
 * state is the record), creating the directory and its parents (mode
 * 0755) if missing.  0, or -1 with cause.
 */
int	 taskfile_write_request(const char *path, const struct task_req *req,
	    const struct executor_opts *opts, char **cause);
/* Read a request: the task into *t (free with wire_task_free()), the
 * options into *opts.  0, or -1 with cause naming the file. */
int	 taskfile_read_request(const char *path, struct wire_task *t,
	    struct executor_opts *opts, char **cause);

/* Encode / decode a result body (no file framing): the pilot protocol
 * sends results this way too.  Decode is pure (fuzzable): 0, or -1 with
 * cause; *out is a new result (task_result_free()). */
void	 taskfile_encode_result(struct wbuf *, const struct task_result *);
int	 taskfile_decode_result(const void *, size_t,
	    struct task_result **out, char **cause);

/* Write a result file atomically, as taskfile_write_request(). */
int	 taskfile_write_result(const char *path, const struct task_result *,
	    char **cause);
/*
 * Read the result file of attempt `attempt_id`.  1 with *out set, 0 if
 * the file does not exist (yet), -1 with cause if it exists but is not a
 * whole result of that attempt (truncated, altered, forged for another
 * attempt, larger than 64 MiB).
 */
int	 taskfile_read_result(const char *path, int64_t attempt_id,
	    struct task_result **out, char **cause);

/* A wire_task as the request of an executor: pointers into `t`. */
void	 taskfile_task_req(const struct wire_task *t, struct task_req *req);

/*
 * Added with taskfile.c (issue 13).  The largest file a reader accepts,
 * framing included.
 */
#define TASKFILE_MAX_BYTES	(64 * 1024 * 1024)
/*
 * A whole request file / result file (framing included) into `out`
 * (initialised here; wbuf_free()).  What the write functions write.
 */
void	 taskfile_encode_request(struct wbuf *out, const struct task_req *,
	    const struct executor_opts *);
void	 taskfile_encode_result_file(struct wbuf *out,
	    const struct task_result *);
/*
 * Decode the n bytes of a whole file, as the read functions do after
 * reading it.  Pure (fuzzable).  0, or -1 with a cause that does not
 * name a file ("truncated (412 of 980 bytes)", "bad magic ...",
 * "written for attempt 12, not 13").  On success *t / *out are set as
 * by the read functions.
 */
int	 taskfile_parse_request(const void *, size_t n, struct wire_task *t,
	    struct executor_opts *opts, char **cause);
int	 taskfile_parse_result(const void *, size_t n, int64_t attempt_id,
	    struct task_result **out, char **cause);
/*
 * Write len bytes to `path` atomically: "<path>.tmp.<pid>" in the same
 * directory (created with its parents, mode 0755, if missing), fsync,
 * rename, fsync of the directory.  The file is mode 0640.  0, or -1 with
 * cause naming the file.
 */
int	 taskfile_write_atomic(const char *path, const void *, size_t len,
	    char **cause);
/*
 * Write the started marker `path` (<attempt_dir>/started) atomically: a
 * few "key value" lines, for operators and for the executor that wants
 * to know a task began: host, pid, attempt_id, started (UTC),
 * started_us, and slurm_job_id, slurm_array_job_id, slurm_array_task_id
 * when Slurm set them.  0, or -1 with cause.
 */
int	 taskfile_write_started(const char *path, int64_t attempt_id,
	    char **cause);

#endif

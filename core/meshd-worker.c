/*
 * meshd-worker.c -- the remote side of meshd's executors (issue 13).
 *
 *   meshd-worker REQUEST_FILE      run the one task of a request file
 *   meshd-worker --array LISTFILE  the same, for one element of a Slurm
 *                                  job array
 *   meshd-worker --agent           the Slurm agent (slurm.h)
 *   meshd-worker --pilot ...       a pilot (pilot.h)
 *   meshd-worker --write-request   craft a request file (tests, debugging)
 *
 * A task is not run here: this program builds the very worker pool meshd
 * uses (executor.h) with one worker and the options meshd wrote into the
 * request, submits the task and waits for its result.  So the plugin is
 * loaded with the loader's checks, in a worker with the same limits,
 * containment and host API, and every fault (crash, exit, timeout,
 * silence, log cap) is judged by the same code, with the same reasons and
 * the same outcome trailer in the log: a plugin cannot tell which
 * executor runs it.  What is added is the file around it: the started
 * marker and the result file (taskfile.h), beside the request.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sdk/meshd/plugin.h"
#include "executor.h"
#include "job.h"
#include "pilot.h"
#include "slurm.h"
#include "taskfile.h"
#include "util.h"
#include "wire.h"

#define W_EXIT_OK	0	/* a result was written */
#define W_EXIT_NORESULT	1	/* no result could be written */
#define W_EXIT_USAGE	2

/* The largest list file of --array: a path a line, 1,000s of lines. */
#define W_LIST_MAX	(16 * 1024 * 1024)

static volatile sig_atomic_t	w_stop;		/* the signal, once one came */
static int			w_wake[2] = { -1, -1 };

static void
w_usage(FILE *f)
{
	fprintf(f,
"usage: meshd-worker REQUEST_FILE\n"
"       meshd-worker --array LISTFILE\n"
"       meshd-worker --agent\n"
"       meshd-worker --pilot --connect HOST:PORT --secret-file FILE "
"[--slots N]\n"
"       meshd-worker --write-request OUT --plugin PATH [options]\n"
"       meshd-worker --show-result FILE ATTEMPT_ID\n"
"       meshd-worker --help | --version\n"
"\n"
"The remote side of meshd's Slurm executor: runs tasks that meshd handed\n"
"over as files on shared storage (meshd-worker(8)).\n"
"\n"
"  REQUEST_FILE       run the task of this request file (written by meshd\n"
"                     in the attempt's directory) in a worker pool of one,\n"
"                     as meshd's own workers run it; write 'started' beside\n"
"                     it when it starts and 'result' (atomically) when done\n"
"  --array LISTFILE   one element of a Slurm job array: LISTFILE has one\n"
"                     request file a line (relative paths are taken from\n"
"                     LISTFILE's directory); run line $SLURM_ARRAY_TASK_ID\n"
"                     (0 is the first line)\n"
"  --agent            the Slurm agent meshd starts (descriptor 3)\n"
"  --pilot            a pilot job: connect to HOST:PORT, authenticate with\n"
"                     the secret in FILE, run up to N tasks at once\n"
"  --write-request    write a request file, for tests and debugging:\n"
"      --plugin PATH          the plugin (.so), required\n"
"      --job J --task T       names the plugin sees (default: test, task)\n"
"      --stage S              extract, check or publish (default extract)\n"
"      --attempt-id N         meshd's attempt id (default 1)\n"
"      --attempt N            the try number (default 1)\n"
"      --partition KEY        the partition key (default: none)\n"
"      --attempt-dir D        default: the directory of OUT\n"
"      --staging D            the staging directory (default: none)\n"
"      --log L                the attempt's log (default: none)\n"
"      --product P            the product (default: the plugin's first)\n"
"      --timeout-ms N         the task's timeout (default: none)\n"
"      --param KEY[:TYPE]=V   a parameter; TYPE int, double, bool or\n"
"                             string (default string); repeatable\n"
"      --memory-mb N --kill-grace S --heartbeat-timeout S\n"
"      --log-max-bytes N --log-overflow-fails --task-max-bytes N\n"
"      --empty-check-fails    the worker options meshd.conf would give\n"
"                             (defaults: none, 5, 10, 32 MiB, off, 16 MiB,\n"
"                             off)\n"
"  --show-result      print a result file as meshd reads it, refusing it\n"
"                     as meshd would (cut, altered, another attempt's);\n"
"                     exit 1 if it is refused or missing\n"
"\n"
"Exit status: 0 if a result file was written, whatever the task's outcome;\n"
"1 if none could be (the request is unreadable, truncated or altered, or\n"
"the attempt directory is not writable: the message names the file); 2\n"
"for a usage error (and for --array without a usable SLURM_ARRAY_TASK_ID\n"
"or list).  On SIGTERM (scancel, or Slurm's --time) the task is stopped\n"
"as meshd stops one (SIGTERM, then SIGKILL after the kill grace) and its\n"
"result says \"stopped by Slurm (SIGTERM)\".\n");
}

static void
w_on_signal(int sig)
{
	int	saved = errno;
	char	c = 0;

	if (w_stop == 0)
		w_stop = sig;
	if (w_wake[1] != -1 && write(w_wake[1], &c, 1) == -1) {
		/* Full pipe: a wake-up is pending already. */
	}
	errno = saved;
}

static void
w_wake_drain(void)
{
	char	buf[64];

	while (read(w_wake[0], buf, sizeof buf) > 0)
		;
}

/* What a stop by signal is called in the result. */
static const char *
w_stop_reason(int sig)
{
	if (sig == SIGTERM)
		return TASKFILE_SLURM_STOP;
	if (sig == SIGINT)
		return "interrupted (SIGINT)";
	return "stopped by a signal";
}

/*
 * Signals as meshd sets them up around its pool: handlers without
 * SA_RESTART that write to a self-pipe the executor's wait watches, so
 * that a SIGTERM ends the wait at once; SIGPIPE ignored (an output file
 * gone away must not kill us before the result is written).
 */
static int
w_signals(void)
{
	struct sigaction	sa;

	if (pipe2(w_wake, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = w_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

/* A result for an attempt the pool could not run at all. */
static struct task_result *
w_fault(int64_t attempt_id, int infra, char *reason)
{
	struct task_result	*r = xcalloc(1, sizeof *r);

	r->attempt_id = attempt_id;
	r->pid = getpid();
	r->status = MESHD_FAILED;
	r->retryable = 1;
	r->infra = infra;
	r->reason = reason;
	r->started_us = r->ended_us = now_us();
	return r;
}

/*
 * Run the task of `t` in a pool of one: its result (never NULL).  The
 * pool is left in *exp (NULL if none could be made) for the caller to
 * free once the result is written: what the stage started is dead
 * already (the worker kills it when the stage returns, the pool when the
 * worker dies), and freeing may wait for a plugin's fini, time that a
 * Slurm stop may not leave us.
 */
static struct task_result *
w_execute(struct wire_task *t, struct executor_opts *opts,
    struct executor **exp)
{
	struct executor		*ex;
	struct task_result	*res = NULL;
	struct task_req		 req;
	char			*cause = NULL;
	const char		*why;
	int			 rc, stopped = 0;

	*exp = NULL;
	opts->workers = 1;
	if ((ex = executor_new(opts, &cause)) == NULL) {
		res = w_fault(t->attempt_id, 1, xasprintf("meshd-worker: "
		    "cannot start a worker: %s", cause));
		free(cause);
		executor_log_outcome(t->log_path, t->attempt, res);
		return res;
	}
	*exp = ex;
	executor_set_wakeup(ex, w_wake[0]);
	taskfile_task_req(t, &req);
	/* With one idle worker, submit fails only if none could be
	 * started; anything about the task itself comes as a result. */
	if (executor_submit(ex, &req, &cause) == -1) {
		res = w_fault(t->attempt_id, 1, xasprintf("meshd-worker: %s",
		    cause));
		free(cause);
		executor_log_outcome(t->log_path, t->attempt, res);
		return res;
	}
	for (;;) {
		/* A signal before the wait is seen here; one during it ends
		 * the wait (self-pipe) and comes back round to here. */
		if (w_stop != 0 && !stopped) {
			executor_cancel(ex, t->attempt_id,
			    w_stop_reason(w_stop));
			stopped = 1;
		}
		rc = executor_wait(ex, -1, &res, &cause);
		if (rc == 1)
			break;
		if (rc == 0) {
			w_wake_drain();
			continue;
		}
		res = w_fault(t->attempt_id, 1, xasprintf("meshd-worker: "
		    "waiting for the worker: %s", cause));
		free(cause);
		/* The stage may still run: stop it before the result says
		 * the attempt is over. */
		executor_free(ex);
		*exp = NULL;
		executor_log_outcome(t->log_path, t->attempt, res);
		return res;
	}
	/*
	 * Slurm signals every process of the job, the worker too: a plugin
	 * that honours cancellation may have given up, and its result come
	 * back, before our own stop reached the pool.  It ended because of
	 * the signal all the same; the log gets the outcome recorded.  Once
	 * the pool was told, it decides (a timeout already under way keeps
	 * its reason, as under meshd).
	 */
	why = w_stop != 0 && !stopped ? w_stop_reason(w_stop) : NULL;
	if (why != NULL && res->status != MESHD_OK &&
	    res->status != MESHD_SKIPPED &&
	    (res->reason == NULL || strcmp(res->reason, why) != 0)) {
		free(res->reason);
		res->reason = xstrdup(why);
		res->status = MESHD_FAILED;
		res->retryable = 1;
		res->infra = 0;
		executor_log_outcome(t->log_path, t->attempt, res);
	}
	return res;
}

static const char *
w_outcome_word(int status)
{
	switch (status) {
	case MESHD_OK:
		return "succeeded";
	case MESHD_SKIPPED:
		return "skipped";
	case MESHD_RETRY:
		return "asked for a retry";
	default:
		return "failed";
	}
}

/* Run one request file: the exit status. */
static int
w_run(const char *request)
{
	struct wire_task	 t;
	struct executor_opts	 opts;
	struct task_result	*res;
	struct executor		*ex;
	char			*cause = NULL, *dir, *started, *result;
	int			 rc = W_EXIT_NORESULT;

	if (taskfile_read_request(request, &t, &opts, &cause) != 0) {
		fprintf(stderr, "meshd-worker: %s\n", cause);
		free(cause);
		return W_EXIT_NORESULT;
	}
	/* Beside the request: where meshd, which wrote it, looks. */
	dir = path_dirname(request);
	started = taskfile_path(dir, TASKFILE_STARTED);
	result = taskfile_path(dir, TASKFILE_RESULT);
	free(dir);
	if (w_signals() != 0) {
		fprintf(stderr, "meshd-worker: pipe: %s\n", strerror(errno));
		goto out;
	}
	/* Not writable here means no result either: better to know before
	 * the plugin runs than after. */
	if (taskfile_write_started(started, t.attempt_id, &cause) != 0) {
		fprintf(stderr, "meshd-worker: %s\n", cause);
		goto out;
	}
	res = w_execute(&t, &opts, &ex);
	if (taskfile_write_result(result, res, &cause) != 0)
		fprintf(stderr, "meshd-worker: %s\n", cause);
	else {
		printf("meshd-worker: attempt %lld %s%s%s\n",
		    (long long)t.attempt_id, w_outcome_word(res->status),
		    res->reason != NULL ? ": " : "",
		    res->reason != NULL ? res->reason : "");
		fflush(stdout);
		rc = W_EXIT_OK;
	}
	task_result_free(res);
	if (ex != NULL)
		executor_free(ex);
out:
	free(cause);
	free(started);
	free(result);
	wire_task_free(&t);
	return rc;
}

/* A whole non-negative decimal number up to `max`; -1 if it is not. */
static long long
w_number(const char *s, long long max)
{
	long long	v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/*
 * --array LISTFILE: the request of line $SLURM_ARRAY_TASK_ID (0-based).
 * Returns a new path, or NULL after a message (a usage error: the job
 * array was submitted wrong, nothing an attempt could record).
 */
static char *
w_array_pick(const char *list)
{
	const char	*env = getenv("SLURM_ARRAY_TASK_ID");
	struct stat	 sb;
	FILE		*f;
	char		*line = NULL, *path = NULL, *dir;
	size_t		 cap = 0;
	ssize_t		 n;
	long long	 idx, i = 0;

	if (env == NULL) {
		fprintf(stderr, "meshd-worker: --array %s: SLURM_ARRAY_TASK_ID "
		    "is not set (run it as a Slurm job array: sbatch "
		    "--array=0-N)\n", list);
		return NULL;
	}
	if ((idx = w_number(env, INT_MAX)) < 0) {
		fprintf(stderr, "meshd-worker: --array %s: SLURM_ARRAY_TASK_ID "
		    "'%s' is not an index (0, 1, 2...)\n", list, env);
		return NULL;
	}
	if ((f = fopen(list, "re")) == NULL) {
		fprintf(stderr, "meshd-worker: --array %s: %s\n", list,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > W_LIST_MAX) {
		fprintf(stderr, "meshd-worker: --array %s: not a regular file "
		    "of at most %d bytes\n", list, W_LIST_MAX);
		fclose(f);
		return NULL;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		if (i++ != idx)
			continue;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || strlen(line) != (size_t)n) {
			fprintf(stderr, "meshd-worker: --array %s: line %lld "
			    "(SLURM_ARRAY_TASK_ID %lld) is %s\n", list, idx + 1,
			    idx, n == 0 ? "empty" : "not a path (a NUL byte)");
			goto out;
		}
		dir = path_dirname(list);
		path = path_join(dir, line);
		free(dir);
		goto out;
	}
	if (ferror(f))
		fprintf(stderr, "meshd-worker: --array %s: %s\n", list,
		    strerror(errno));
	else if (i == 0)
		fprintf(stderr, "meshd-worker: --array %s: SLURM_ARRAY_TASK_ID "
		    "%lld is out of range: the list is empty\n", list, idx);
	else
		fprintf(stderr, "meshd-worker: --array %s: SLURM_ARRAY_TASK_ID "
		    "%lld is out of range: the list has %lld line%s (indices "
		    "0 to %lld)\n", list, idx, i, i == 1 ? "" : "s", i - 1);
out:
	free(line);
	fclose(f);
	return path;
}

/* --param KEY[:TYPE]=VALUE into `ps`.  0, or -1 after a message. */
static int
w_param(struct paramset *ps, const char *arg)
{
	static const char *const types[] = { "int", "double", "bool",
	    "string" };
	struct param	 p;
	const char	*eq = strchr(arg, '='), *colon;
	char		*key;
	size_t		 i;
	int		 type = PARAM_STRING, rc;

	if (eq == NULL || eq == arg) {
		fprintf(stderr, "meshd-worker: --param %s: not KEY[:TYPE]="
		    "VALUE\n", arg);
		return -1;
	}
	colon = memchr(arg, ':', (size_t)(eq - arg));
	key = xstrndup(arg, (size_t)((colon != NULL ? colon : eq) - arg));
	if (colon != NULL) {
		for (type = -1, i = 0; i < nitems(types); i++) {
			if (strlen(types[i]) == (size_t)(eq - colon - 1) &&
			    strncmp(types[i], colon + 1, strlen(types[i])) == 0)
				type = (int)i;
		}
		if (type == -1 || *key == '\0') {
			fprintf(stderr, "meshd-worker: --param %s: the type is "
			    "int, double, bool or string\n", arg);
			free(key);
			return -1;
		}
	}
	rc = param_from_string((enum param_type)type, key, eq + 1, &p);
	if (rc != 0)
		fprintf(stderr, "meshd-worker: --param %s: '%s' is not %s\n",
		    arg, eq + 1, param_type_phrase((enum param_type)type));
	else
		paramset_set(ps, &p);
	free(key);
	return rc;
}

/* A number option of --write-request; -1 after a message. */
static long long
w_opt_number(const char *name, const char *arg, long long max)
{
	long long	v;

	if ((v = w_number(arg, max)) < 0)
		fprintf(stderr, "meshd-worker: --%s '%s': not a number from 0 "
		    "to %lld\n", name, arg, max);
	return v;
}

enum {
	O_PLUGIN = 1000, O_JOB, O_TASK, O_STAGE, O_ATTEMPT_ID, O_ATTEMPT,
	O_PARTITION, O_ATTEMPT_DIR, O_STAGING, O_LOG, O_PRODUCT, O_TIMEOUT,
	O_PARAM, O_MEMORY, O_GRACE, O_HEARTBEAT, O_LOG_MAX, O_LOG_FAILS,
	O_TASK_MAX, O_EMPTY_FAILS
};

/* --write-request OUT [options]: argv[0] is "--write-request". */
static int
w_write_request(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "plugin", required_argument, NULL, O_PLUGIN },
		{ "job", required_argument, NULL, O_JOB },
		{ "task", required_argument, NULL, O_TASK },
		{ "stage", required_argument, NULL, O_STAGE },
		{ "attempt-id", required_argument, NULL, O_ATTEMPT_ID },
		{ "attempt", required_argument, NULL, O_ATTEMPT },
		{ "partition", required_argument, NULL, O_PARTITION },
		{ "attempt-dir", required_argument, NULL, O_ATTEMPT_DIR },
		{ "staging", required_argument, NULL, O_STAGING },
		{ "log", required_argument, NULL, O_LOG },
		{ "product", required_argument, NULL, O_PRODUCT },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "param", required_argument, NULL, O_PARAM },
		{ "memory-mb", required_argument, NULL, O_MEMORY },
		{ "kill-grace", required_argument, NULL, O_GRACE },
		{ "heartbeat-timeout", required_argument, NULL, O_HEARTBEAT },
		{ "log-max-bytes", required_argument, NULL, O_LOG_MAX },
		{ "log-overflow-fails", no_argument, NULL, O_LOG_FAILS },
		{ "task-max-bytes", required_argument, NULL, O_TASK_MAX },
		{ "empty-check-fails", no_argument, NULL, O_EMPTY_FAILS },
		{ NULL, 0, NULL, 0 }
	};
	struct executor_opts	 eo;
	struct task_req		 req;
	struct paramset		 ps;
	const char		*out;
	char			*cause = NULL, *dir = NULL;
	long long		 v = 0;
	int			 c, rc = W_EXIT_USAGE;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "meshd-worker: --write-request needs the file "
		    "to write\n");
		return W_EXIT_USAGE;
	}
	out = argv[1];
	memset(&eo, 0, sizeof eo);
	eo.workers = 1;
	eo.kill_grace_s = 5;
	eo.heartbeat_timeout_s = 10;
	eo.log_max_bytes = 32LL * 1024 * 1024;
	eo.task_max_bytes = WIRE_TASK_MAX_DEFAULT;
	memset(&ps, 0, sizeof ps);
	memset(&req, 0, sizeof req);
	req.attempt_id = 1;
	req.attempt = 1;
	req.job = "test";
	req.task_id = "task";
	req.stage = MESHD_STAGE_EXTRACT;
	req.params = &ps;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_PLUGIN:
			req.plugin_path = optarg;
			break;
		case O_JOB:
			req.job = optarg;
			break;
		case O_TASK:
			req.task_id = optarg;
			break;
		case O_STAGE:
			if ((req.stage = stage_from_name(optarg)) == -1) {
				fprintf(stderr, "meshd-worker: --stage '%s': "
				    "not extract, check or publish\n", optarg);
				goto out;
			}
			break;
		case O_ATTEMPT_ID:
			if ((v = w_opt_number("attempt-id", optarg,
			    INT64_MAX)) < 0)
				goto out;
			req.attempt_id = v;
			break;
		case O_ATTEMPT:
			if ((v = w_opt_number("attempt", optarg, INT_MAX)) < 0)
				goto out;
			req.attempt = (int)v;
			break;
		case O_PARTITION:
			req.partition_key = optarg;
			break;
		case O_ATTEMPT_DIR:
			req.attempt_dir = optarg;
			break;
		case O_STAGING:
			req.staging_dir = optarg;
			break;
		case O_LOG:
			req.log_path = optarg;
			break;
		case O_PRODUCT:
			req.product = optarg;
			break;
		case O_TIMEOUT:
			if ((v = w_opt_number("timeout-ms", optarg,
			    INT64_MAX / 1000)) < 0)
				goto out;
			req.timeout_us = v * 1000;
			break;
		case O_PARAM:
			if (w_param(&ps, optarg) != 0)
				goto out;
			break;
		case O_MEMORY:
			if ((v = w_opt_number("memory-mb", optarg,
			    INT_MAX)) < 0)
				goto out;
			eo.memory_mb = (int)v;
			break;
		case O_GRACE:
			if ((v = w_opt_number("kill-grace", optarg,
			    INT_MAX)) < 0)
				goto out;
			eo.kill_grace_s = (int)v;
			break;
		case O_HEARTBEAT:
			if ((v = w_opt_number("heartbeat-timeout", optarg,
			    INT_MAX)) < 0)
				goto out;
			eo.heartbeat_timeout_s = (int)v;
			break;
		case O_LOG_MAX:
			if ((v = w_opt_number("log-max-bytes", optarg,
			    INT64_MAX)) < 0)
				goto out;
			eo.log_max_bytes = v;
			break;
		case O_LOG_FAILS:
			eo.log_overflow_fails = 1;
			break;
		case O_TASK_MAX:
			if ((v = w_opt_number("task-max-bytes", optarg,
			    INT64_MAX)) < 0)
				goto out;
			eo.task_max_bytes = v;
			break;
		case O_EMPTY_FAILS:
			eo.empty_check_fails = 1;
			break;
		default:
			goto out;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "meshd-worker: --write-request: unexpected "
		    "argument '%s'\n", argv[optind]);
		goto out;
	}
	if (req.plugin_path == NULL) {
		fprintf(stderr, "meshd-worker: --write-request needs "
		    "--plugin PATH\n");
		goto out;
	}
	if (req.attempt_dir == NULL)
		req.attempt_dir = dir = path_dirname(out);
	if (taskfile_write_request(out, &req, &eo, &cause) != 0) {
		fprintf(stderr, "meshd-worker: %s\n", cause);
		rc = W_EXIT_NORESULT;
		goto out;
	}
	rc = W_EXIT_OK;
out:
	free(cause);
	free(dir);
	paramset_free(&ps);
	return rc;
}

/* A string on one line: control characters as '?'. */
static void
w_print_str(const char *key, const char *v)
{
	const char	*p;

	printf("%s ", key);
	if (v == NULL) {
		printf("(null)\n");
		return;
	}
	for (p = v; *p != '\0'; p++)
		putchar((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
	putchar('\n');
}

/* --show-result FILE ATTEMPT_ID: what meshd would read, as text. */
static int
w_show_result(int argc, char **argv)
{
	static const char *const words[] = { "ok", "failed", "retry",
	    "skipped" };
	struct task_result	*r;
	long long		 id;
	char			*cause = NULL;
	size_t			 i;
	int			 rc;

	if (argc != 3 || (id = w_number(argv[2], INT64_MAX)) < 0) {
		fprintf(stderr, "usage: meshd-worker --show-result FILE "
		    "ATTEMPT_ID\n");
		return W_EXIT_USAGE;
	}
	if ((rc = taskfile_read_result(argv[1], id, &r, &cause)) <= 0) {
		if (rc == 0)
			fprintf(stderr, "meshd-worker: result file %s: no such "
			    "file (the attempt has not ended)\n", argv[1]);
		else
			fprintf(stderr, "meshd-worker: %s\n", cause);
		free(cause);
		return W_EXIT_NORESULT;
	}
	printf("attempt_id %lld\nstatus %s\nretryable %d\ninfra %d\n",
	    (long long)r->attempt_id, words[r->status], r->retryable,
	    r->infra);
	w_print_str("reason", r->reason);
	w_print_str("message", r->message);
	printf("started_us %lld\nended_us %lld\n", (long long)r->started_us,
	    (long long)r->ended_us);
	for (i = 0; i < r->nchecks; i++) {
		printf("check %s %s %s %.17g ", r->checks[i].name,
		    r->checks[i].severity == MESHD_SEV_ERROR ? "error" : "warn",
		    r->checks[i].passed ? "passed" : "failed",
		    r->checks[i].observed);
		w_print_str("expectation", r->checks[i].expectation);
	}
	for (i = 0; i < r->nmetrics; i++)
		printf("metric %s %.17g\n", r->metrics[i].name,
		    r->metrics[i].value);
	task_result_free(r);
	return W_EXIT_OK;
}

/* --pilot --connect HOST:PORT --secret-file F [--slots N] */
static int
w_pilot(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "secret-file", required_argument, NULL, 's' },
		{ "slots", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*connect = NULL, *secret = NULL;
	long long	 slots = 1;
	int		 c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			connect = optarg;
			break;
		case 's':
			secret = optarg;
			break;
		case 'n':
			if ((slots = w_number(optarg, 1024)) < 1) {
				fprintf(stderr, "meshd-worker: --slots '%s': "
				    "not a number from 1 to 1024\n", optarg);
				return W_EXIT_USAGE;
			}
			break;
		default:
			return W_EXIT_USAGE;
		}
	}
	if (optind != argc || connect == NULL || secret == NULL) {
		fprintf(stderr, "usage: meshd-worker --pilot --connect "
		    "HOST:PORT --secret-file FILE [--slots N]\n");
		return W_EXIT_USAGE;
	}
	return pilot_client_main(connect, secret, (int)slots);
}

int
main(int argc, char **argv)
{
	char	*path;
	int	 rc;

	if (argc < 2) {
		w_usage(stderr);
		return W_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		w_usage(stdout);
		return W_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("meshd-worker %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
		    MESHD_ABI_MAJOR, MESHD_ABI_MINOR);
		return W_EXIT_OK;
	}
	if (strcmp(argv[1], "--agent") == 0) {
		if (argc != 2) {
			fprintf(stderr, "usage: meshd-worker --agent\n");
			return W_EXIT_USAGE;
		}
		return slurm_agent_main(3);
	}
	if (strcmp(argv[1], "--pilot") == 0)
		return w_pilot(argc - 1, argv + 1);
	if (strcmp(argv[1], "--show-result") == 0)
		return w_show_result(argc - 1, argv + 1);
	if (strcmp(argv[1], "--write-request") == 0)
		return w_write_request(argc - 1, argv + 1);
	if (strcmp(argv[1], "--array") == 0) {
		if (argc != 3) {
			fprintf(stderr, "usage: meshd-worker --array "
			    "LISTFILE\n");
			return W_EXIT_USAGE;
		}
		if ((path = w_array_pick(argv[2])) == NULL)
			return W_EXIT_USAGE;
		rc = w_run(path);
		free(path);
		return rc;
	}
	/* "--" lets a request file's name start with a dash. */
	if (strcmp(argv[1], "--") == 0 && argc == 3)
		return w_run(argv[2]);
	if (argv[1][0] == '-' && strcmp(argv[1], "--") != 0) {
		fprintf(stderr, "meshd-worker: unknown option '%s'\n",
		    argv[1]);
		return W_EXIT_USAGE;
	}
	if (argc != 2) {
		w_usage(stderr);
		return W_EXIT_USAGE;
	}
	return w_run(argv[1]);
}

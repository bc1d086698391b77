/* worker.c -- the worker process: receive a task, run the stage, report. */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostapi.h"
#include "loader.h"
#include "util.h"
#include "wire.h"
#include "worker.h"

/*
 * Under AddressSanitizer the process reserves terabytes of virtual memory
 * for shadow memory, so any RLIMIT_AS would stop the worker before it ran
 * anything: the memory limit is not applied at all in a sanitizer build.
 */
#if defined(__SANITIZE_ADDRESS__)
#define WORKER_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_SANITIZED 1
#endif
#endif
#ifndef WORKER_SANITIZED
#define WORKER_SANITIZED 0
#endif

/* Set by SIGTERM while a task runs; read through meshd_cancelled(). */
static volatile sig_atomic_t	worker_cancel;
/* Non-zero while a task is in hand: SIGTERM then asks the plugin to stop
 * rather than ending the worker. */
static volatile sig_atomic_t	worker_busy;

struct worker {
	int			  fd;
	int			  devnull;
	struct loaded_plugin	**plugins;	/* loaded once, kept for life */
	size_t			  nplugins;
	unsigned char		 *buf;		/* WIRE_MAX bytes */
};

/*
 * The heartbeat thread: one per worker, started with its first task and
 * kept for its life (a thread per task cost a clone and a join each).
 * While an attempt runs it sends a heartbeat every second, so that the
 * supervisor can tell a busy plugin from a stopped worker.
 */
struct heartbeat {
	pthread_t	thread;
	pthread_mutex_t	mu;
	pthread_cond_t	cv;
	int		started;
	int		active;		/* an attempt is running */
	int		fd;
	int64_t		attempt_id;
};
static struct heartbeat	hb;

static void
worker_on_term(int sig)
{
	(void)sig;
	if (!worker_busy)
		_exit(0);
	worker_cancel = 1;
}

static void
worker_exit(struct worker *w, int status)
{
	size_t	i;

	/* fini of every plugin that ran init, as the SDK promises for a
	 * normal exit. */
	for (i = 0; i < w->nplugins; i++)
		loader_close(w->plugins[i]);
	free(w->plugins);
	free(w->buf);
	_exit(status);
}

static void
worker_close_fds(int keep)
{
	int	fd, max;

	if ((keep == 3 || close_range(3, (unsigned)keep - 1, 0) == 0) &&
	    close_range((unsigned)keep + 1, ~0U, 0) == 0)
		return;
	/* Old kernel: walk the table. */
	max = (int)sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1 << 20)
		max = 1 << 20;
	for (fd = 3; fd < max; fd++) {
		if (fd != keep)
			close(fd);
	}
}

static void
worker_signals(void)
{
	struct sigaction	sa;
	sigset_t		set;
	int			sig;

	/* The supervisor's handlers (and its SIGPIPE ignore) mean nothing
	 * here and would only confuse a plugin: start from the defaults.
	 * A crash must end the process with its signal so the supervisor
	 * can name it. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	}
	/* ^C in a terminal reaches the whole process group: what happens
	 * to running attempts is the supervisor's decision. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = worker_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

static void
worker_limits(const struct executor_opts *opts)
{
#if !WORKER_SANITIZED
	struct rlimit	rl;

	if (opts->memory_mb <= 0)
		return;
	rl.rlim_cur = rl.rlim_max = (rlim_t)opts->memory_mb * 1024 * 1024;
	setrlimit(RLIMIT_AS, &rl);
#else
	(void)opts;
#endif
}

static int
worker_send(struct worker *w, struct wbuf *b)
{
	int	rc = wire_send(w->fd, b, 0);

	wbuf_free(b);
	return rc;
}

static void *
heartbeat_main(void *arg)
{
	struct timespec	ts;
	int64_t		id;
	int		fd;

	(void)arg;
	pthread_mutex_lock(&hb.mu);
	for (;;) {
		while (!hb.active)
			pthread_cond_wait(&hb.cv, &hb.mu);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		while (hb.active &&
		    pthread_cond_timedwait(&hb.cv, &hb.mu, &ts) != ETIMEDOUT)
			;
		if (!hb.active)
			continue;
		id = hb.attempt_id;
		fd = hb.fd;
		pthread_mutex_unlock(&hb.mu);
		wire_send_heartbeat(fd, id);
		pthread_mutex_lock(&hb.mu);
	}
	return NULL;
}

/* Start beating for `attempt_id`; the thread is made on first use. */
static int
heartbeat_start(int fd, int64_t attempt_id)
{
	pthread_condattr_t	ca;
	pthread_attr_t		attr;
	sigset_t		all, old;
	int			rc;

	if (!hb.started) {
		pthread_mutex_init(&hb.mu, NULL);
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&hb.cv, &ca);
		pthread_condattr_destroy(&ca);
		/* Signals meant for the plugin (SIGTERM, alarms) go to the
		 * thread running it, not to the heartbeat. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		/* A small stack: under a memory limit the default 8 MiB of
		 * address space is taken from the plugin. */
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		rc = pthread_create(&hb.thread, &attr, heartbeat_main, NULL);
		pthread_attr_destroy(&attr);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc != 0) {
			errno = rc;
			return -1;
		}
		hb.started = 1;
	}
	pthread_mutex_lock(&hb.mu);
	hb.fd = fd;
	hb.attempt_id = attempt_id;
	hb.active = 1;
	pthread_cond_signal(&hb.cv);
	pthread_mutex_unlock(&hb.mu);
	return 0;
}

static void
heartbeat_stop(void)
{
	pthread_mutex_lock(&hb.mu);
	hb.active = 0;
	pthread_cond_signal(&hb.cv);
	pthread_mutex_unlock(&hb.mu);
}

static const char *
worker_stage_name(int stage)
{
	switch (stage) {
	case MESHD_STAGE_EXTRACT:
		return "extract";
	case MESHD_STAGE_CHECK:
		return "check";
	case MESHD_STAGE_PUBLISH:
		return "publish";
	}
	return "unknown";
}

/* The plugin at `path`, loaded on first use and kept. */
static struct loaded_plugin *
worker_plugin(struct worker *w, const char *path, char **cause)
{
	struct loaded_plugin	*lp;
	size_t			 i;

	for (i = 0; i < w->nplugins; i++) {
		if (strcmp(w->plugins[i]->path, path) == 0)
			return w->plugins[i];
	}
	if ((lp = loader_open(path, cause)) == NULL)
		return NULL;
	w->plugins = xreallocarray(w->plugins, w->nplugins + 1,
	    sizeof *w->plugins);
	w->plugins[w->nplugins++] = lp;
	return lp;
}

/* Run init once per load; the outcome is remembered either way. */
static void
worker_init_plugin(struct loaded_plugin *lp, const struct wire_task *t)
{
	struct meshd_ctx	ctx;
	meshd_status		st;

	if (lp->initialized || lp->init_error != NULL)
		return;
	if (lp->desc->init == NULL) {
		lp->initialized = 1;
		return;
	}
	hostapi_ctx_init(&ctx, lp->desc, t, 1, &worker_cancel);
	st = lp->desc->init(&ctx);
	if (st == MESHD_OK)
		lp->initialized = 1;
	else {
		lp->init_error = xstrdup(ctx.error != NULL ? ctx.error :
		    "init failed without a message");
		hostapi_log(&ctx, MESHD_LOG_ERROR, "init failed: %s",
		    lp->init_error);
	}
	hostapi_ctx_clear(&ctx);
}

/* Point fds 1 and 2 at the attempt's log.  -1 with cause. */
static int
worker_open_log(const struct wire_task *t, char **cause)
{
	char	*dir;
	int	 fd, rc;

	if (t->log_path == NULL)
		return 0;
	dir = path_dirname(t->log_path);
	rc = mkdir_p(dir, 0750, cause);
	free(dir);
	if (rc != 0)
		return -1;
	fd = open(t->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (fd == -1) {
		set_cause(cause, "%s: cannot open log: %s", t->log_path,
		    strerror(errno));
		return -1;
	}
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	return 0;
}

static void
worker_close_log(struct worker *w)
{
	fflush(stdout);
	fflush(stderr);
	dup2(w->devnull, STDOUT_FILENO);
	dup2(w->devnull, STDERR_FILENO);
}

/* Outcome of one attempt, before it is sent. */
struct outcome {
	int	 status;
	int	 retryable;
	char	*reason;
};

static void
outcome_set(struct outcome *o, int status, int retryable, char *reason)
{
	o->status = status;
	o->retryable = retryable;
	free(o->reason);
	o->reason = reason;
}

/* Run the stage; fills ctx and o. */
static void
worker_run_stage(struct worker *w, const struct wire_task *t,
    struct meshd_ctx *ctx, struct outcome *o)
{
	struct loaded_plugin	*lp;
	meshd_stage_fn		 fn;
	char			*cause = NULL, *failed;
	const char		*sname = worker_stage_name(t->stage);
	int			 st;

	if (worker_open_log(t, &cause) != 0) {
		outcome_set(o, MESHD_FAILED, 1, cause);
		return;
	}
	if ((lp = worker_plugin(w, t->plugin_path, &cause)) == NULL) {
		/* A refused plugin stays refused: retrying cannot help. */
		outcome_set(o, MESHD_FAILED, 0, cause);
		return;
	}
	worker_init_plugin(lp, t);
	if (lp->init_error != NULL) {
		ctx->error = xstrdup(lp->init_error);
		outcome_set(o, MESHD_FAILED, 0, xasprintf("plugin '%s' (%s) "
		    "init failed: %s", lp->desc->name, t->plugin_path,
		    lp->init_error));
		return;
	}
	if ((fn = loader_stage_fn(lp->desc, t->stage)) == NULL) {
		outcome_set(o, MESHD_FAILED, 0, xasprintf("plugin '%s' (%s) "
		    "has no %s stage", lp->desc->name, t->plugin_path, sname));
		return;
	}

	hostapi_ctx_init(ctx, lp->desc, t, 0, &worker_cancel);
	st = fn(ctx);

	if ((failed = hostapi_failed_checks(ctx)) != NULL) {
		/* Whatever the callback returned: see check_result. */
		outcome_set(o, MESHD_FAILED, 0,
		    xasprintf("quality check failed: %s", failed));
		free(failed);
		return;
	}
	switch (st) {
	case MESHD_OK:
	case MESHD_SKIPPED:
		outcome_set(o, st, 0, NULL);
		break;
	case MESHD_FAILED:
		outcome_set(o, MESHD_FAILED, 0, ctx->error != NULL ?
		    xstrdup(ctx->error) : xasprintf("%s stage failed", sname));
		break;
	case MESHD_RETRY:
		outcome_set(o, MESHD_RETRY, 1, ctx->error != NULL ?
		    xstrdup(ctx->error) :
		    xasprintf("%s stage asked for a retry", sname));
		break;
	default:
		outcome_set(o, MESHD_FAILED, 0, xasprintf("plugin '%s' "
		    "returned an unknown status %d from %s", lp->desc->name,
		    st, sname));
		break;
	}
}

static void
worker_task(struct worker *w, struct wire_task *t)
{
	struct meshd_ctx	 ctx;
	struct sigaction	 sa;
	struct outcome		 o = { MESHD_FAILED, 1, NULL };
	struct wbuf		 b;
	char			*cause = NULL;
	int64_t			 started = now_us();
	size_t			 i;
	int			 hb_ok;

	/* A plugin may have changed SIGTERM's handler in an earlier task
	 * (the hang test plugin ignores it): this task must be cancellable
	 * again. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = worker_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	worker_cancel = 0;
	hostapi_ctx_init(&ctx, NULL, t, 0, &worker_cancel);

	wbuf_init(&b, WIRE_ACK);
	wbuf_i64(&b, t->attempt_id);
	wbuf_i64(&b, started);
	if (worker_send(w, &b) != 0)
		worker_exit(w, 0);
	hb_ok = heartbeat_start(w->fd, t->attempt_id) == 0;

	if (!hb_ok)
		outcome_set(&o, MESHD_FAILED, 1, xasprintf("cannot start the "
		    "heartbeat thread: %s", strerror(errno)));
	else if (t->staging_dir != NULL &&
	    mkdir_p(t->staging_dir, 0750, &cause) != 0)
		outcome_set(&o, MESHD_FAILED, 1, cause);
	else if (t->attempt_dir != NULL &&
	    mkdir_p(t->attempt_dir, 0750, &cause) != 0)
		outcome_set(&o, MESHD_FAILED, 1, cause);
	else
		worker_run_stage(w, t, &ctx, &o);
	if (hb_ok)
		heartbeat_stop();
	worker_close_log(w);

	for (i = 0; i < ctx.nchecks; i++) {
		wbuf_init(&b, WIRE_CHECK);
		wbuf_str(&b, ctx.checks[i].name, WIRE_STR_MAX);
		wbuf_i32(&b, ctx.checks[i].severity);
		wbuf_i32(&b, ctx.checks[i].passed);
		wbuf_f64(&b, ctx.checks[i].observed);
		wbuf_str(&b, ctx.checks[i].expectation, WIRE_STR_MAX);
		wbuf_i64(&b, ctx.checks[i].recorded_us);
		if (worker_send(w, &b) != 0)
			worker_exit(w, 0);
	}
	for (i = 0; i < ctx.nmetrics; i++) {
		wbuf_init(&b, WIRE_METRIC);
		wbuf_str(&b, ctx.metrics[i].name, WIRE_STR_MAX);
		wbuf_f64(&b, ctx.metrics[i].value);
		if (worker_send(w, &b) != 0)
			worker_exit(w, 0);
	}
	wbuf_init(&b, WIRE_RESULT);
	wbuf_i64(&b, t->attempt_id);
	wbuf_i32(&b, o.status);
	wbuf_i32(&b, o.retryable);
	wbuf_str(&b, o.reason, WIRE_STR_MAX);
	wbuf_str(&b, ctx.error, WIRE_STR_MAX);
	wbuf_i64(&b, started);
	wbuf_i64(&b, now_us());
	free(o.reason);
	hostapi_ctx_clear(&ctx);
	if (worker_send(w, &b) != 0)
		worker_exit(w, 0);
}

void
worker_main(int fd, pid_t parent, const struct executor_opts *opts)
{
	struct worker		 w;
	struct wire_task	 t;
	struct rbuf		 r;
	ssize_t			 n;
	uint32_t		 type;

	/* Die with the supervisor; if it died before this line ran, the
	 * signal will never come, so check by hand. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
	/* 0, 1 and 2 become /dev/null below: keep the socket above them. */
	if (fd < 3 && (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1)
		_exit(1);
	worker_close_fds(fd);
	worker_signals();
	worker_limits(opts);

	memset(&w, 0, sizeof w);
	w.fd = fd;
	if ((w.devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		_exit(1);
	dup2(w.devnull, STDIN_FILENO);
	dup2(w.devnull, STDOUT_FILENO);
	dup2(w.devnull, STDERR_FILENO);
	/* Line-buffered: a plugin's printf reaches the log line by line,
	 * even if it crashes later. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	w.buf = xmalloc(WIRE_MAX);

	for (;;) {
		worker_busy = 0;
		n = wire_recv(fd, w.buf, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			worker_exit(&w, 0);
		worker_busy = 1;
		rbuf_init(&r, w.buf, (size_t)n);
		type = (uint32_t)rbuf_i32(&r);
		if (type == WIRE_EXIT)
			worker_exit(&w, 0);
		if (type != WIRE_TASK || wire_decode_task(&r, &t) != 0)
			worker_exit(&w, 2);
		worker_task(&w, &t);
		wire_task_free(&t);
	}
}

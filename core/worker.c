/* worker.c -- the worker process: receive a task, run the stage, report. */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
	uint64_t		  nonce;
	struct executor_opts	  opts;
	int			  devnull;
	struct loaded_plugin	**plugins;	/* loaded once, kept for life */
	size_t			  nplugins;
	unsigned char		 *buf;		/* WIRE_MAX bytes */
};

/*
 * The heartbeat thread: one per worker, started with its first task and
 * kept for its life (a thread per task cost a clone and a join each).
 * While an attempt runs it ticks every 100 ms: it sends a heartbeat every
 * second, so that the supervisor can tell a busy plugin from a stopped
 * worker, and it watches the attempt's log: it names the log once the
 * plugin has written to it (see "The log"), and once the log is
 * over log_max_bytes, it cuts the log back to the cap, points fds 1 and 2
 * at a pipe and drains that pipe, counting what it drops.
 *
 * Messages are numbered: the thread sends (and numbers) heartbeats only
 * while active, under `mu`; the main thread sends its own messages only
 * while it is not, so one counter serves both without a race.
 */
struct heartbeat {
	pthread_t	thread;
	pthread_mutex_t	mu;
	pthread_cond_t	cv;		/* wakes the thread */
	pthread_cond_t	parkcv;		/* the thread parked */
	int		started;
	int		active;		/* an attempt is running */
	int		parked;		/* the thread waits for one */
	int		sigcheck;	/* restore signals before parking */
	int		fd;
	uint64_t	nonce;
	int64_t		attempt_id;
	uint32_t	seq;		/* of the worker's next message */
	/* The log (see "The log" below) and its cap: */
	int		logfd;		/* the attempt's log, or -1 */
	const char	*logpath;	/* its name, given on first output */
	int		linked;		/* logfd has that name */
	long long	cap;		/* log_max_bytes, 0: none */
	int		drain;		/* read end of the pipe, or -1 */
	long long	dropped;	/* bytes not written to the log */
};
static struct heartbeat	hb = { .logfd = -1, .drain = -1 };

static void
worker_on_term(int sig)
{
	(void)sig;
	if (!worker_busy)
		_exit(0);
	worker_cancel = 1;
}

/* SIGKILL every descendant of this process (found through /proc). */
static void
worker_kill_tree(void)
{
	DIR		*d;
	struct dirent	*de;
	struct {
		pid_t	pid, ppid;
		int	mark;
	}		*v = NULL;
	size_t		 n = 0, cap = 0, i, j;
	pid_t		 self = getpid(), pgrp;
	int		 more;

	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[n].pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (proc_stat(v[n].pid, &v[n].ppid, &pgrp) != 0)
			continue;
		v[n].mark = v[n].ppid == self;
		n++;
	}
	closedir(d);
	/* Grandchildren whose parent lives are not ours yet: mark down the
	 * tree until nothing changes. */
	do {
		more = 0;
		for (i = 0; i < n; i++) {
			if (v[i].mark)
				continue;
			for (j = 0; j < n; j++) {
				if (v[j].mark && v[j].pid == v[i].ppid) {
					v[i].mark = more = 1;
					break;
				}
			}
		}
	} while (more);
	for (i = 0; i < n; i++) {
		if (v[i].mark)
			kill(v[i].pid, SIGKILL);
	}
	free(v);
}

/*
 * Kill and reap every process the plugin started.  The worker is a
 * subreaper: a double-forked or setsid() grandchild comes back to it as
 * its parent dies, so "no child" means "no descendant".  That is also the
 * fast path: one waitid() when the plugin started nothing.
 */
static void
worker_contain(void)
{
	siginfo_t	si;
	int64_t		give_up = mono_us() + 10000000;
	int		st;

	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 &&
		    errno == ECHILD)
			return;
		worker_kill_tree();
		while (waitpid(-1, &st, WNOHANG | __WALL) > 0)
			;
		/* One stuck in the kernel (D state) cannot be waited for
		 * for ever: the supervisor kills what is left with us. */
		if (mono_us() > give_up)
			return;
		usleep(1000);
	}
}

static void
worker_exit(struct worker *w, int status)
{
	size_t	i;

	/* fini of every plugin that ran init, as the SDK promises for a
	 * normal exit. */
	for (i = 0; i < w->nplugins; i++)
		loader_close(w->plugins[i]);
	worker_contain();
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

/*
 * Every disposition back to its default, SIGINT ignored, SIGTERM ours, the
 * mask empty: at start and after every stage, so that what a plugin did to
 * them in one task (block SIGTERM, install a handler) is not carried into
 * the next.
 */
static void
worker_dispositions(void)
{
	struct sigaction	sa;
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
}

static void
worker_signals(void)
{
	sigset_t	set;

	worker_dispositions();
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

/*
 * Resetting every disposition costs a system call per signal (64, about
 * 13 us here, a third of a no-op task).  So after each stage the worker
 * first looks whether anything changed.  /proc/self/stat gives the
 * ignored and caught sets of signals 1 to 31 in one read (3 us); every
 * 16th task /proc/self/status, which costs twice that, gives them for all
 * 64, real-time signals included.  The one handler we install (SIGTERM)
 * is checked by hand, since a plugin could replace it with its own
 * without changing either set.  Anything unlike the state right after the
 * last full reset, or anything that cannot be read as ours (a plugin
 * closed or replaced a descriptor), means a full reset.  So a standard
 * signal's disposition never outlives its task, and a real-time one
 * outlives it by 15 tasks at most.
 */
#define SIGCHECK_FULL	16

static struct {
	int			stat, status;	/* /proc/self/..., or -1 */
	char			head[32];	/* "PID (" */
	char			tgid[32];	/* "\nTgid:\tPID\n" */
	unsigned		ntask;
	int			known;		/* the fields below are set */
	unsigned long long	ign, cgt;	/* SigIgn, SigCgt */
	struct sigaction	term;		/* SIGTERM's */
} sigbase = { .stat = -1, .status = -1 };

/* Read /proc/self/`name` through *fd (opened if -1) into buf.  -1 if it
 * cannot be read as ours. */
static int
worker_procself(int *fd, const char *name, char *buf, size_t size,
    const char *mark)
{
	char	path[64];
	ssize_t	n;

	if (*fd == -1) {
		snprintf(path, sizeof path, "/proc/self/%s", name);
		if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			return -1;
	}
	n = pread(*fd, buf, size - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strstr(buf, mark) == NULL ? -1 : 0;
}

/*
 * Our ignored and caught sets: all 64 signals (full), or 1 to 31 (the
 * others are then 0).  -1 if they cannot be read as ours.
 */
static int
worker_sigsets(int full, unsigned long long *ign, unsigned long long *cgt)
{
	char	buf[4096], *p;
	int	i;

	if (sigbase.head[0] == '\0') {
		snprintf(sigbase.head, sizeof sigbase.head, "%ld (",
		    (long)getpid());
		snprintf(sigbase.tgid, sizeof sigbase.tgid, "\nTgid:\t%ld\n",
		    (long)getpid());
	}
	if (full) {
		if (worker_procself(&sigbase.status, "status", buf, sizeof buf,
		    sigbase.tgid) != 0 ||
		    (p = strstr(buf, "\nSigIgn:\t")) == NULL ||
		    sscanf(p + 9, "%llx", ign) != 1 ||
		    (p = strstr(buf, "\nSigCgt:\t")) == NULL ||
		    sscanf(p + 9, "%llx", cgt) != 1)
			return -1;
		return 0;
	}
	if (worker_procself(&sigbase.stat, "stat", buf, sizeof buf,
	    sigbase.head) != 0 || strncmp(buf, sigbase.head,
	    strlen(sigbase.head)) != 0 || (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* Fields 33 and 34 (sigignore, sigcatch); the name ends at p. */
	for (i = 2; i < 33; i++) {
		if ((p = strchr(p + 1, ' ')) == NULL)
			return -1;
	}
	if (sscanf(p, " %llu %llu", ign, cgt) != 2)
		return -1;
	return 0;
}

/* Whether two masks hold the same signals.  Not memcmp(): glibc fills
 * only the kernel's part of a sigset_t that sigaction() returns. */
static int
worker_sameset(const sigset_t *a, const sigset_t *b)
{
	int	sig;

	for (sig = 1; sig < NSIG; sig++) {
		if (sigismember(a, sig) != sigismember(b, sig))
			return 0;
	}
	return 1;
}

/*
 * After a stage: dispositions reset if they changed.  Process-wide, so
 * the heartbeat thread does it while the main thread reports (the mask is
 * the main thread's own: it empties it).
 */
static void
worker_signals_restore(void)
{
	struct sigaction	cur;
	unsigned long long	ign, cgt, low = 0x7fffffffULL;
	int			full;

	full = ++sigbase.ntask % SIGCHECK_FULL == 0;
	memset(&cur, 0, sizeof cur);
	if (sigbase.known && worker_sigsets(full, &ign, &cgt) == 0 &&
	    (full ? ign == sigbase.ign && cgt == sigbase.cgt :
	    ign == (sigbase.ign & low) && cgt == (sigbase.cgt & low)) &&
	    sigaction(SIGTERM, NULL, &cur) == 0 &&
	    cur.sa_handler == sigbase.term.sa_handler &&
	    cur.sa_flags == sigbase.term.sa_flags &&
	    worker_sameset(&cur.sa_mask, &sigbase.term.sa_mask))
		return;
	worker_dispositions();
	sigbase.known = 0;
	/* A descriptor that failed was closed or taken by the plugin: the
	 * next open gets a number of our own. */
	if (worker_sigsets(1, &ign, &cgt) != 0) {
		sigbase.status = -1;
		if (worker_sigsets(1, &ign, &cgt) != 0)
			return;
	}
	if (worker_sigsets(0, &sigbase.ign, &sigbase.cgt) != 0) {
		sigbase.stat = -1;
		if (worker_sigsets(0, &sigbase.ign, &sigbase.cgt) != 0)
			return;
	}
	memset(&sigbase.term, 0, sizeof sigbase.term);
	sigbase.known = sigaction(SIGTERM, NULL, &sigbase.term) == 0;
	sigbase.ign = ign;
	sigbase.cgt = cgt;
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

/* Read what the pipe holds, without waiting; the byte count. */
static long long
drain_pipe(int fd)
{
	static char	buf[65536];
	long long	total = 0;
	ssize_t		n;

	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return total;
		total += n;
	}
}

/*
 * The log.  Most attempts print nothing, and creating a file per attempt
 * (and a directory per partition) cost more than the rest of a no-op
 * task.  So fds 1 and 2 point at an unnamed file (O_TMPFILE), made once
 * and kept while attempts leave it empty; the first byte written gives it
 * its name (log_name(), by the heartbeat thread within a tick, so that
 * `meshctl logs --follow` sees it, or at the end of the attempt).  A
 * filesystem without O_TMPFILE gets the file created up front, as before.
 */
static int	spare_fd = -1;		/* an unnamed, empty log, or -1 */

/* An unnamed file on the filesystem of `path`: in the nearest directory
 * of it that exists.  -1 if the filesystem cannot make one. */
static int
log_tmpfile(const char *path)
{
	char	*dir = path_dirname(path), *up;
	int	 fd, i;

	for (i = 0; i < 4; i++) {
		fd = open(dir, O_TMPFILE | O_RDWR | O_APPEND | O_CLOEXEC,
		    0640);
		if (fd != -1 || errno != ENOENT)
			break;
		up = path_dirname(dir);
		free(dir);
		dir = up;
	}
	free(dir);
	return fd;
}

/* Append what `from` holds to `to`. */
static void
log_copy(int from, int to)
{
	char	buf[65536];
	off_t	off = 0;
	ssize_t	n;

	while ((n = pread(from, buf, sizeof buf, off)) > 0) {
		if (write(to, buf, (size_t)n) != n)
			break;
		off += n;
	}
}

/*
 * Under hb.mu (or with the thread parked): give the unnamed log its name.
 * A log already there (a try of a run cleared and run again) is appended
 * to, as before: 1 and 2 move to it and what was written so far is copied.
 * On failure the output stays in the unnamed file and is tried again.
 */
static void
log_name(void)
{
	char	 proc[64], *dir;
	int	 fd;

	dir = path_dirname(hb.logpath);
	(void)mkdir_p(dir, 0750, NULL);
	free(dir);
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", hb.logfd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, hb.logpath,
	    AT_SYMLINK_FOLLOW) == 0) {
		hb.linked = 1;
		return;
	}
	if (errno != EEXIST && errno != EXDEV)
		return;
	fd = open(hb.logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640);
	if (fd == -1)
		return;
	/* Over the cap, 1 and 2 lead to the drain: leave them there. */
	if (hb.drain == -1) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	log_copy(hb.logfd, fd);
	close(hb.logfd);
	hb.logfd = fd;
	hb.linked = 1;
}

/* Under hb.mu: if the log has passed the cap, divert 1 and 2 to a pipe,
 * then cut the log back. */
static void
heartbeat_check_log(void)
{
	struct stat	sb;
	int		p[2];

	if (hb.logfd == -1 || fstat(hb.logfd, &sb) != 0)
		return;
	if (!hb.linked && sb.st_size > 0)
		log_name();
	if (hb.cap <= 0 || sb.st_size <= hb.cap)
		return;
	if (hb.drain != -1) {
		/*
		 * Cut a tick after the switch, not at once: a write under
		 * way on the old descriptor then has landed, and is both
		 * cut and counted.  (A child that still holds the old one
		 * may add more; the end of the task cuts and counts that.)
		 */
		if (ftruncate(hb.logfd, (off_t)hb.cap) == 0)
			hb.dropped += (long long)sb.st_size - hb.cap;
		return;
	}
	if (pipe2(p, O_CLOEXEC) == -1)
		return;		/* next tick */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	/* The plugin's descriptors 1 and 2 now lead to us; a child that
	 * holds the old ones dies with the attempt. */
	dup2(p[1], STDOUT_FILENO);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	hb.drain = p[0];
}

static void *
heartbeat_main(void *arg)
{
	struct timespec	ts;
	struct pollfd	pfd;
	int64_t		beat_at;
	long long	n;

	(void)arg;
	pthread_mutex_lock(&hb.mu);
	for (;;) {
		while (!hb.active) {
			/* Off the main thread's path: it reports meanwhile
			 * (and does it itself if it comes back first). */
			if (hb.sigcheck) {
				worker_signals_restore();
				hb.sigcheck = 0;
			}
			hb.parked = 1;
			/* Only heartbeat_stop() after a drain waits for it. */
			if (hb.drain != -1)
				pthread_cond_signal(&hb.parkcv);
			pthread_cond_wait(&hb.cv, &hb.mu);
		}
		hb.parked = 0;
		beat_at = mono_us() + 1000000;
		while (hb.active) {
			if (hb.drain == -1) {
				clock_gettime(CLOCK_MONOTONIC, &ts);
				ts.tv_nsec += 100000000;
				if (ts.tv_nsec >= 1000000000) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000;
				}
				while (hb.active && pthread_cond_timedwait(
				    &hb.cv, &hb.mu, &ts) != ETIMEDOUT)
					;
			} else {
				/* The drain is ours alone until we park. */
				pfd.fd = hb.drain;
				pfd.events = POLLIN;
				pthread_mutex_unlock(&hb.mu);
				poll(&pfd, 1, 100);
				n = drain_pipe(pfd.fd);
				pthread_mutex_lock(&hb.mu);
				hb.dropped += n;
			}
			if (!hb.active)
				break;
			heartbeat_check_log();
			if (mono_us() >= beat_at) {
				wire_send_heartbeat(hb.fd, hb.nonce,
				    hb.attempt_id, hb.seq++);
				beat_at = mono_us() + 1000000;
			}
		}
	}
	return NULL;
}

/* Start beating for `attempt_id`; the thread is made on first use. */
static int
heartbeat_start(int fd, uint64_t nonce, int64_t attempt_id)
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
		pthread_cond_init(&hb.parkcv, &ca);
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
	/* No plugin code runs before the last one's signals are undone:
	 * if the thread has not got to it, we do it (under the lock, so
	 * never both). */
	if (hb.sigcheck) {
		worker_signals_restore();
		hb.sigcheck = 0;
	}
	hb.fd = fd;
	hb.nonce = nonce;
	hb.attempt_id = attempt_id;
	hb.active = 1;
	pthread_cond_signal(&hb.cv);
	pthread_mutex_unlock(&hb.mu);
	return 0;
}

/* Watch the log on `fd` (owned by the caller until heartbeat_stop),
 * named `path` already or once written to. */
static void
heartbeat_watch_log(int fd, const char *path, int linked, long long cap)
{
	pthread_mutex_lock(&hb.mu);
	hb.logfd = fd;
	hb.logpath = path;
	hb.linked = linked;
	hb.cap = cap;
	pthread_mutex_unlock(&hb.mu);
}

/* Stop beating; the thread then restores signal dispositions. */
static void
heartbeat_stop(void)
{
	pthread_mutex_lock(&hb.mu);
	hb.active = 0;
	hb.sigcheck = 1;
	pthread_cond_signal(&hb.cv);
	/* Only while draining does the thread work without the lock. */
	while (hb.drain != -1 && !hb.parked)
		pthread_cond_wait(&hb.parkcv, &hb.mu);
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

/* Outcome of one attempt, before it is sent. */
struct outcome {
	int	 status;
	int	 retryable;
	int	 infra;
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

/*
 * Whether a failure to create one of meshd's own paths (log, staging) is
 * the machine's fault rather than the task's: then the attempt is not
 * counted against the task's retries, and the engine backs off.
 */
static int
worker_infra_errno(int e)
{
	switch (e) {
	case EACCES:
	case EPERM:
	case EROFS:
	case ENOSPC:
	case EDQUOT:
	case EIO:
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return 1;
	}
	return 0;
}

/* meshd could not make one of its own paths: fail the attempt, as an
 * infrastructure fault if errno says so. */
static void
outcome_infra(struct outcome *o, int e, char *cause)
{
	outcome_set(o, MESHD_FAILED, 1, cause);
	o->infra = worker_infra_errno(e);
}

/* Point fds 1 and 2 at the attempt's log (see "The log").  -1 with
 * cause and errno. */
static int
worker_open_log(struct worker *w, const struct wire_task *t, char **cause)
{
	char	*dir;
	int	 fd, rc, e;

	if (t->log_path == NULL)
		return 0;
	if ((fd = spare_fd) != -1)
		spare_fd = -1;
	else if ((fd = log_tmpfile(t->log_path)) == -1) {
		if (errno != EOPNOTSUPP && errno != EISDIR &&
		    errno != EINVAL && errno != ENOENT) {
			e = errno;
			set_cause(cause, "%s: cannot open log: %s",
			    t->log_path, strerror(e));
			errno = e;
			return -1;
		}
		/* No O_TMPFILE here: the named file, up front. */
		dir = path_dirname(t->log_path);
		rc = mkdir_p(dir, 0750, cause);
		e = errno;
		free(dir);
		if (rc != 0) {
			errno = e;
			return -1;
		}
		fd = open(t->log_path, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0640);
		if (fd == -1) {
			e = errno;
			set_cause(cause, "%s: cannot open log: %s",
			    t->log_path, strerror(e));
			errno = e;
			return -1;
		}
		fflush(stdout);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		heartbeat_watch_log(fd, t->log_path, 1,
		    w->opts.log_max_bytes);
		return 0;
	}
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	/* Kept (close-on-exec) so the heartbeat thread can name it and
	 * watch its size whatever the plugin does to 1 and 2. */
	heartbeat_watch_log(fd, t->log_path, 0, w->opts.log_max_bytes);
	return 0;
}

/*
 * Back to /dev/null; if output was dropped, drain the rest and say how
 * much at the end of the log.  Call after heartbeat_stop().
 */
static void
worker_close_log(struct worker *w, struct outcome *o)
{
	struct stat	 sb;
	char		 c, *line;
	int	 over;

	fflush(stdout);
	fflush(stderr);
	dup2(w->devnull, STDOUT_FILENO);
	dup2(w->devnull, STDERR_FILENO);
	if (hb.logfd == -1)
		return;
	if (!hb.linked && fstat(hb.logfd, &sb) == 0 && sb.st_size == 0) {
		/* Nothing written: the unnamed file serves the next one. */
		spare_fd = hb.logfd;
		hb.logfd = -1;
		hb.cap = 0;
		return;
	}
	if (!hb.linked)
		log_name();
	if (!hb.linked) {
		/* The output is lost with the unnamed file: say so. */
		outcome_infra(o, errno, xasprintf("%s: cannot create log: %s",
		    hb.logpath, strerror(errno)));
		close(hb.logfd);
		hb.logfd = -1;
		hb.cap = 0;
		hb.dropped = 0;
		return;
	}
	over = hb.drain != -1 || hb.dropped > 0;
	if (hb.drain != -1) {
		hb.dropped += drain_pipe(hb.drain);
		close(hb.drain);
		hb.drain = -1;
	}
	/* A write under way as 1 and 2 were switched lands past the cut;
	 * and the stage may have ended before the thread looked. */
	if (hb.cap > 0 && fstat(hb.logfd, &sb) == 0 && sb.st_size > hb.cap &&
	    ftruncate(hb.logfd, (off_t)hb.cap) == 0) {
		hb.dropped += (long long)sb.st_size - hb.cap;
		over = 1;
	}
	if (over) {
		/* The cut may have fallen inside a line. */
		line = xasprintf("%s[meshd] log_max_bytes (%lld) reached: %lld "
		    "bytes of output dropped\n", pread(hb.logfd, &c, 1,
		    (off_t)hb.cap - 1) == 1 && c != '\n' ? "\n" : "",
		    hb.cap, hb.dropped);
		if (write(hb.logfd, line, strlen(line)) == -1) {
			/* The log is what failed: nowhere to say so. */
		}
		free(line);
		if (w->opts.log_overflow_fails && (o->status == MESHD_OK ||
		    o->status == MESHD_SKIPPED))
			outcome_set(o, MESHD_FAILED, 0, xasprintf("output over "
			    "log_max_bytes (%lld bytes)", hb.cap));
	}
	close(hb.logfd);
	hb.logfd = -1;
	hb.cap = 0;
	hb.dropped = 0;
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

	if (worker_open_log(w, t, &cause) != 0) {
		outcome_infra(o, errno, cause);
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
	/* A check stage that checked nothing must not open the gate. */
	if (t->stage == MESHD_STAGE_CHECK && ctx->nchecks == 0 &&
	    w->opts.empty_check_fails &&
	    (st == MESHD_OK || st == MESHD_SKIPPED)) {
		outcome_set(o, MESHD_FAILED, 0, xstrdup("check stage recorded "
		    "no checks (empty_check = \"fail\")"));
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

static int
worker_send(struct worker *w, struct wbuf *b)
{
	int	rc = wire_send(w->fd, b, 0);

	wbuf_free(b);
	return rc;
}

static void
worker_task(struct worker *w, struct wire_task *t)
{
	struct meshd_ctx	 ctx;
	struct outcome		 o = { MESHD_FAILED, 1, 0, NULL };
	struct wbuf		 b;
	sigset_t		 mask;
	int64_t			 started = now_us();
	size_t			 i;
	int			 hb_ok;

	worker_cancel = 0;
	hostapi_ctx_init(&ctx, NULL, t, 0, &worker_cancel);

	wire_reply_init(&b, WIRE_ACK, w->nonce, t->attempt_id, hb.seq++);
	wbuf_i64(&b, started);
	if (worker_send(w, &b) != 0)
		worker_exit(w, WORKER_EXIT_LOST);
	hb_ok = heartbeat_start(w->fd, w->nonce, t->attempt_id) == 0;

	if (!hb_ok)
		outcome_set(&o, MESHD_FAILED, 1, xasprintf("cannot start the "
		    "heartbeat thread: %s", strerror(errno)));
	else
		worker_run_stage(w, t, &ctx, &o);
	/* A directory the plugin asked for and did not get: whatever the
	 * plugin made of the NULL, the fault is meshd's. */
	if (ctx.dir_fault != NULL)
		outcome_infra(&o, ctx.dir_errno, xstrdup(ctx.dir_fault));
	/* Whatever the plugin started, and whatever it did to signals (in
	 * init or in its stage), ends with its attempt. */
	sigemptyset(&mask);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	worker_contain();
	if (hb_ok)
		heartbeat_stop();
	else
		worker_signals_restore();
	worker_close_log(w, &o);

	for (i = 0; i < ctx.nchecks; i++) {
		wire_reply_init(&b, WIRE_CHECK, w->nonce, t->attempt_id,
		    hb.seq++);
		wbuf_str(&b, ctx.checks[i].name, WIRE_STR_MAX);
		wbuf_i32(&b, ctx.checks[i].severity);
		wbuf_i32(&b, ctx.checks[i].passed);
		wbuf_f64(&b, ctx.checks[i].observed);
		wbuf_str(&b, ctx.checks[i].expectation, WIRE_STR_MAX);
		wbuf_i64(&b, ctx.checks[i].recorded_us);
		if (worker_send(w, &b) != 0)
			worker_exit(w, WORKER_EXIT_LOST);
	}
	for (i = 0; i < ctx.nmetrics; i++) {
		wire_reply_init(&b, WIRE_METRIC, w->nonce, t->attempt_id,
		    hb.seq++);
		wbuf_str(&b, ctx.metrics[i].name, WIRE_STR_MAX);
		wbuf_f64(&b, ctx.metrics[i].value);
		if (worker_send(w, &b) != 0)
			worker_exit(w, WORKER_EXIT_LOST);
	}
	wire_reply_init(&b, WIRE_RESULT, w->nonce, t->attempt_id, hb.seq++);
	wbuf_i32(&b, o.status);
	wbuf_i32(&b, o.retryable);
	wbuf_i32(&b, o.infra);
	wbuf_str(&b, o.reason, WIRE_STR_MAX);
	wbuf_str(&b, ctx.error, WIRE_STR_MAX);
	wbuf_i64(&b, started);
	wbuf_i64(&b, now_us());
	free(o.reason);
	hostapi_ctx_clear(&ctx);
	if (worker_send(w, &b) != 0)
		worker_exit(w, WORKER_EXIT_LOST);
}

/*
 * The TASK held in the sealed memfd `mfd` of `len` bytes, read into a new
 * buffer; NULL if it is not what was announced.
 */
static unsigned char *
worker_read_memfd(struct worker *w, int mfd, int64_t len)
{
	unsigned char	*p;
	struct stat	 sb;
	int		 seals, need;
	size_t		 off;
	ssize_t		 n;

	need = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	if (len <= 0 || len > w->opts.task_max_bytes ||
	    (seals = fcntl(mfd, F_GET_SEALS)) == -1 ||
	    (seals & need) != need || fstat(mfd, &sb) != 0 ||
	    sb.st_size != len)
		return NULL;
	p = xmalloc((size_t)len);
	for (off = 0; off < (size_t)len; off += (size_t)n) {
		n = pread(mfd, p + off, (size_t)len - off, (off_t)off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			free(p);
			return NULL;
		}
	}
	return p;
}

void
worker_main(int fd, pid_t parent, const struct executor_opts *opts,
    uint64_t nonce)
{
	struct worker		 w;
	struct wire_task	 t;
	struct rbuf		 r;
	unsigned char		*big;
	ssize_t			 n;
	int64_t			 len;
	uint32_t		 type;
	int			 mfd, rc;

	/* Die with the supervisor; if it died before this line ran, the
	 * signal will never come, so check by hand. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
	/* Orphans of the plugin's processes come back to us, so that they
	 * can be killed with the attempt; and our own process group tells
	 * them from the daemon's other children if we die first. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	setpgid(0, 0);
	/* 0, 1 and 2 become /dev/null below: keep the socket above them.
	 * The socket is close-on-exec (SOCK_CLOEXEC, F_DUPFD_CLOEXEC): a
	 * program the plugin runs never holds it. */
	if (fd < 3 && (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1)
		_exit(1);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	worker_close_fds(fd);
	worker_signals();
	worker_limits(opts);

	memset(&w, 0, sizeof w);
	w.fd = fd;
	w.nonce = nonce;
	w.opts = *opts;
	if (w.opts.task_max_bytes <= 0)
		w.opts.task_max_bytes = WIRE_TASK_MAX_DEFAULT;
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
		n = wire_recv_fd(fd, w.buf, &mfd);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			worker_exit(&w, 0);
		worker_busy = 1;
		rbuf_init(&r, w.buf, (size_t)n);
		type = (uint32_t)rbuf_i32(&r);
		big = NULL;
		if (type == WIRE_TASK_FD) {
			len = rbuf_i64(&r);
			if (mfd == -1 || r.err || (big = worker_read_memfd(&w,
			    mfd, len)) == NULL)
				worker_exit(&w, 2);
			rbuf_init(&r, big, (size_t)len);
			type = (uint32_t)rbuf_i32(&r);
		}
		if (mfd != -1)
			close(mfd);
		if (type == WIRE_EXIT)
			worker_exit(&w, 0);
		rc = type == WIRE_TASK ? wire_decode_task(&r, &t) : -1;
		free(big);
		if (rc != 0)
			worker_exit(&w, 2);
		worker_task(&w, &t);
		wire_task_free(&t);
	}
}

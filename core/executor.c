/*
 * executor.c -- the supervisor of the worker pool.
 *
 * Single-threaded: the owner calls executor_wait(), which polls every
 * worker socket and enforces timeouts and heartbeats between reads.
 *
 * SIGPIPE: every send uses MSG_NOSIGNAL, so a worker that died cannot kill
 * the supervisor, and the owner's SIGPIPE disposition is left alone.
 *
 * Children: only the pids of our own workers are ever waited for, with
 * waitpid(pid, ...): the owner may have other children of its own.
 *
 * Containment.  Each worker is a child subreaper in a process group of its
 * own, and kills and reaps every descendant after each stage.  The
 * supervisor is a subreaper too, so that the descendants of a worker that
 * died (crash, SIGKILL) come to it rather than to init; after every worker
 * ends it kills the children it finds outside its own process group that
 * are not workers (executor_orphans).  The owner's own children (lineage
 * deliverer, hooks) stay in its process group and are left alone.
 *
 * Trust.  A plugin runs inside the worker and can write into its socket:
 * every message is decoded strictly and checked against the worker's
 * nonce, the attempt in hand and the next sequence number before it is
 * believed (see wire.h).
 *
 * PR_SET_PDEATHSIG fires when the *thread* that forked a worker ends, so
 * the executor must be created and driven by a thread that lives as long
 * as it does (the daemon's main thread).
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../sdk/meshd/plugin.h"
#include "executor.h"
#include "log.h"
#include "util.h"
#include "wire.h"
#include "worker.h"

enum slot_state { SLOT_DEAD, SLOT_IDLE, SLOT_BUSY };

/*
 * A task handed to the executor that no worker has started: waiting in
 * the executor (ex->wq) for an idle worker, or in the socket of a worker
 * running an attempt of the same job and plugin (slot->q), to start the
 * moment that one ends (executor_room() in executor.h).
 */
struct qtask {
	struct wbuf	 b;		/* the TASK message */
	int64_t		 attempt_id;
	int64_t		 timeout_us;
	char		*log_path;
	int		 attempt;
	char		*run;		/* who may wait behind whom: job, */
	char		*plugin;	/* partition and plugin */
	char		*doom;		/* cancelled while in a socket */
};

/* One worker of the pool. */
struct slot {
	enum slot_state		 state;
	pid_t			 pid;
	int			 fd;
	int			 ntasks;	/* tasks run by this worker */
	uint64_t		 nonce;		/* the worker's secret */
	uint32_t		 rseq;		/* next sequence number */

	/* While busy: */
	struct task_result	*res;		/* filled as messages arrive */
	int64_t			 start_mono;
	int64_t			 last_mono;	/* last message */
	int64_t			 timeout_us;
	char			*doom;		/* reason, once we stop it */
	int64_t			 kill_at;	/* SIGKILL then; 0: not set */
	int			 killed;	/* SIGKILL sent */
	char			*log_path;	/* the attempt's log, or NULL */
	int			 attempt;	/* its try number */
	char			*run;		/* its run and plugin */
	char			*plugin;
	/* Sent to the worker behind it, not started (oldest first). */
	struct qtask		*q;
	int			 nq;
};

/* A retired worker on its way out. */
struct reapee {
	pid_t	pid;
	int64_t	kill_at;
	int	killed;
};

struct executor {
	struct executor_opts	  opts;
	pid_t			  self;
	pid_t			  pgrp;		/* the owner's process group */
	int64_t			  last_enforce;	/* to tell a stall */
	const char		 *containment;	/* executor_containment() */
	struct slot		 *slots;
	int			  nslots;
	int64_t			  respawn_at;	/* next try for dead slots */

	struct qtask		 *wq;		/* waiting for an idle worker */
	size_t			  nwq, wqcap;

	struct task_result	**done;		/* finished, not yet returned */
	size_t			  ndone, donecap;

	struct reapee		 *reap;
	size_t			  nreap;

	unsigned char		 *buf;		/* WIRE_MAX */
	int			  wakefd;	/* ends a wait, or -1 */

	struct executor_source	 *src;		/* remote executors */
	size_t			  nsrc;
};

static const struct {
	int		 sig;
	const char	*name;
} signal_names[] = {
	{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
	{ SIGILL, "SIGILL" }, { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
	{ SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" }, { SIGKILL, "SIGKILL" },
	{ SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
	{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
	{ SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" }, { SIGSYS, "SIGSYS" },
};

char *
exit_reason(int wstatus)
{
	size_t	i;
	int	sig;

	if (WIFEXITED(wstatus))
		return xasprintf("exited with status %d", WEXITSTATUS(wstatus));
	if (!WIFSIGNALED(wstatus))
		return xasprintf("ended with wait status %#x", wstatus);
	sig = WTERMSIG(wstatus);
	for (i = 0; i < nitems(signal_names); i++) {
		if (signal_names[i].sig == sig)
			return xasprintf("killed by signal %d (%s)", sig,
			    signal_names[i].name);
	}
	return xasprintf("killed by signal %d (%s)", sig, strsignal(sig));
}

/* "2s", "1.5s", "5m", "1h": durations as a user would write them. */
static char *
fmt_compact(int64_t us)
{
	if (us > 0 && us % 3600000000LL == 0)
		return xasprintf("%lldh", (long long)(us / 3600000000LL));
	if (us > 0 && us % 60000000LL == 0)
		return xasprintf("%lldm", (long long)(us / 60000000LL));
	if (us % 1000000LL == 0)
		return xasprintf("%llds", (long long)(us / 1000000LL));
	return xasprintf("%.6gs", (double)us / 1e6);
}

void
task_result_free(struct task_result *r)
{
	size_t	i;

	if (r == NULL)
		return;
	free(r->reason);
	free(r->message);
	for (i = 0; i < r->nchecks; i++) {
		free(r->checks[i].name);
		free(r->checks[i].expectation);
	}
	free(r->checks);
	for (i = 0; i < r->nmetrics; i++)
		free(r->metrics[i].name);
	free(r->metrics);
	free(r);
}

static int
slot_spawn(struct executor *ex, struct slot *s, char **cause)
{
	sigset_t	all, old;
	uint64_t	nonce;
	int		sv[2];
	pid_t		pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		set_cause(cause, "socketpair: %s", strerror(errno));
		return -1;
	}
	/* Not a secret from the plugin (it shares the worker's memory) but
	 * from anything that only guesses: a forged message needs it. */
	if (getrandom(&nonce, sizeof nonce, GRND_NONBLOCK) != sizeof nonce)
		nonce = (uint64_t)now_us() * 6364136223846793005ULL ^
		    (uint64_t)mono_us() ^ ((uint64_t)getpid() << 32);
	/* Anything buffered now would be written twice, once by the
	 * worker into some attempt's log. */
	fflush(stdout);
	fflush(stderr);
	/* Until the worker has installed its own handlers it runs the
	 * owner's: a signal sent to it then (a cancel right after submit)
	 * would run the owner's handler in the worker.  Block everything
	 * over the fork; worker_main() unblocks once its handlers are set. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == -1) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		set_cause(cause, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		worker_main(sv[1], ex->self, &ex->opts, nonce);
		/* NOTREACHED */
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	memset(s, 0, sizeof *s);
	s->state = SLOT_IDLE;
	s->pid = pid;
	s->fd = sv[0];
	s->nonce = nonce;
	s->rseq = 0;
	return 0;
}

static void
slot_clear_task(struct slot *s)
{
	task_result_free(s->res);
	s->res = NULL;
	free(s->doom);
	s->doom = NULL;
	s->kill_at = 0;
	s->killed = 0;
	free(s->log_path);
	s->log_path = NULL;
	free(s->run);
	free(s->plugin);
	s->run = s->plugin = NULL;
}

static void
qtask_clear(struct qtask *q)
{
	wbuf_free(&q->b);
	free(q->log_path);
	free(q->run);
	free(q->plugin);
	free(q->doom);
	memset(q, 0, sizeof *q);
}

/* Put `n` tasks at the head of the executor's queue, in order. */
static void
wq_unshift(struct executor *ex, struct qtask *v, size_t n)
{
	if (n == 0)
		return;
	if (ex->nwq + n > ex->wqcap) {
		ex->wqcap = ex->nwq + n + 8;
		ex->wq = xreallocarray(ex->wq, ex->wqcap, sizeof *ex->wq);
	}
	memmove(ex->wq + n, ex->wq, ex->nwq * sizeof *ex->wq);
	memcpy(ex->wq, v, n * sizeof *v);
	ex->nwq += n;
}

/* Watch `pid` until it is reaped; SIGKILL it at kill_at (0: sent). */
static void
reap_add(struct executor *ex, pid_t pid, int64_t kill_at)
{
	ex->reap = xreallocarray(ex->reap, ex->nreap + 1, sizeof *ex->reap);
	ex->reap[ex->nreap].pid = pid;
	ex->reap[ex->nreap].kill_at = kill_at;
	ex->reap[ex->nreap].killed = kill_at == 0;
	ex->nreap++;
}

static int
executor_knows(const struct executor *ex, pid_t pid)
{
	size_t	i;

	for (i = 0; i < (size_t)ex->nslots; i++) {
		if (ex->slots[i].pid == pid)
			return 1;
	}
	for (i = 0; i < ex->nreap; i++) {
		if (ex->reap[i].pid == pid)
			return 1;
	}
	return 0;
}

/*
 * Kill what a worker left behind.  A worker's descendants whose worker
 * died were re-parented to us (we are a subreaper): every child of ours
 * that is neither a worker nor in the owner's process group is one.  Kill
 * them, then look again, since the children of a process we kill come to
 * us as it dies.
 */
static void
executor_orphans(struct executor *ex)
{
	DIR		*d;
	struct dirent	*de;
	pid_t		*found = NULL, pid, ppid, pgrp;
	size_t		 nfound, cap = 0, i;
	int		 round, tries, st;

	for (round = 0; round < 50; round++) {
		if ((d = opendir("/proc")) == NULL)
			break;
		nfound = 0;
		while ((de = readdir(d)) != NULL) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			pid = (pid_t)strtol(de->d_name, NULL, 10);
			if (proc_stat(pid, &ppid, &pgrp) != 0 ||
			    ppid != ex->self || pgrp == ex->pgrp ||
			    executor_knows(ex, pid))
				continue;
			if (nfound == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				found = xreallocarray(found, cap, sizeof *found);
			}
			found[nfound++] = pid;
		}
		closedir(d);
		if (nfound == 0)
			break;
		for (i = 0; i < nfound; i++)
			kill(found[i], SIGKILL);
		/* Reap them (they are ours now); one that takes long is
		 * left to the reap list. */
		for (tries = 0; tries < 50; tries++) {
			size_t	left = 0;

			for (i = 0; i < nfound; i++) {
				if (found[i] > 0 &&
				    waitpid(found[i], &st, WNOHANG) == 0)
					left++;
				else
					found[i] = -1;
			}
			if (left == 0)
				break;
			usleep(1000);
		}
		for (i = 0; i < nfound; i++) {
			if (found[i] > 0)
				reap_add(ex, found[i], 0);
		}
	}
	free(found);
}

/*
 * The worker of `s` died during its attempt: if the log had reached the
 * cap, cut it there and say so (how much was dropped died with it).
 */
static void
slot_log_cap(struct executor *ex, struct slot *s)
{
	struct stat	 sb;
	char		*line;
	int		 fd;

	if (ex->opts.log_max_bytes <= 0 || s->log_path == NULL ||
	    stat(s->log_path, &sb) != 0 || sb.st_size < ex->opts.log_max_bytes)
		return;
	if ((fd = open(s->log_path, O_WRONLY | O_CLOEXEC)) == -1)
		return;
	if (ftruncate(fd, (off_t)ex->opts.log_max_bytes) == 0) {
		line = xasprintf("\n[meshd] log_max_bytes (%lld) reached: "
		    "output dropped (the worker died; how much is unknown)\n",
		    ex->opts.log_max_bytes);
		if (pwrite(fd, line, strlen(line),
		    (off_t)ex->opts.log_max_bytes) == -1) {
			/* Nothing more to do: the attempt fails anyway. */
		}
		free(line);
	}
	close(fd);
}

static void	slot_requeue(struct executor *, struct slot *);

/* Replace the worker of a slot (its process is gone or retiring). */
static void
slot_respawn(struct executor *ex, struct slot *s)
{
	slot_requeue(ex, s);
	slot_clear_task(s);
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->pid = -1;
	s->state = SLOT_DEAD;
	/* On failure the slot stays dead and executor_wait() retries. */
	slot_spawn(ex, s, NULL);
}

static void
done_push(struct executor *ex, struct task_result *r)
{
	if (ex->ndone == ex->donecap) {
		ex->donecap = ex->donecap == 0 ? 8 : ex->donecap * 2;
		ex->done = xreallocarray(ex->done, ex->donecap,
		    sizeof *ex->done);
	}
	ex->done[ex->ndone++] = r;
}

/* The result of an attempt that no worker ran: ended now, for `reason`
 * (taken). */
static void
fail_unstarted(struct executor *ex, int64_t attempt_id, pid_t pid,
    const char *log_path, int attempt, int retryable, char *reason)
{
	struct task_result	*r = xcalloc(1, sizeof *r);

	r->attempt_id = attempt_id;
	r->pid = pid;
	r->status = MESHD_FAILED;
	r->retryable = retryable;
	r->reason = reason;
	r->started_us = r->ended_us = now_us();
	executor_log_outcome(log_path, attempt, r);
	done_push(ex, r);
}

static void
qtask_fail(struct executor *ex, struct qtask *q, int retryable, char *reason)
{
	fail_unstarted(ex, q->attempt_id, 0, q->log_path, q->attempt,
	    retryable, reason);
}

/*
 * The worker of `s` is going (dead, discarded, retired): what waited in
 * its socket never started, and goes back to the head of the executor's
 * queue for another worker, unseen by the owner, except what was
 * cancelled meanwhile, which ends now.
 */
static void
slot_requeue(struct executor *ex, struct slot *s)
{
	int	i, n = 0;

	for (i = 0; i < s->nq; i++) {
		if (s->q[i].doom != NULL) {
			qtask_fail(ex, &s->q[i], 1, s->q[i].doom);
			s->q[i].doom = NULL;
			qtask_clear(&s->q[i]);
		} else
			s->q[n++] = s->q[i];
	}
	wq_unshift(ex, s->q, (size_t)n);
	free(s->q);
	s->q = NULL;
	s->nq = 0;
}

/* Make `q`, sent to the worker of `s`, the attempt it runs now. */
static void
slot_begin(struct slot *s, struct qtask *q)
{
	s->state = SLOT_BUSY;
	s->res = xcalloc(1, sizeof *s->res);
	s->res->attempt_id = q->attempt_id;
	s->res->pid = s->pid;
	s->res->started_us = now_us();
	s->start_mono = s->last_mono = mono_us();
	s->timeout_us = q->timeout_us;
	/* For the cap after a crash and for the outcome trailer. */
	s->log_path = q->log_path;
	s->attempt = q->attempt;
	s->run = q->run;
	s->plugin = q->plugin;
	q->log_path = q->run = q->plugin = NULL;
	wbuf_free(&q->b);
}

static int	slot_send_task(struct slot *, const struct wbuf *);
static void	slot_eof(struct executor *, struct slot *);
static void	slot_discard(struct executor *, struct slot *);

/* Hand what waits in the executor to idle workers, oldest first. */
static void
executor_dispatch(struct executor *ex)
{
	struct qtask	 q;
	struct slot	*s;
	int		 i;

	while (ex->nwq > 0) {
		for (s = NULL, i = 0; i < ex->nslots; i++)
			if (ex->slots[i].state == SLOT_IDLE) {
				s = &ex->slots[i];
				break;
			}
		if (s == NULL)
			return;
		q = ex->wq[0];
		memmove(ex->wq, ex->wq + 1, --ex->nwq * sizeof *ex->wq);
		if (slot_send_task(s, &q.b) != 0) {
			/* Died while idle: replace it and try once more,
			 * as executor_submit() does. */
			slot_eof(ex, s);
			if (s->state != SLOT_IDLE ||
			    slot_send_task(s, &q.b) != 0) {
				qtask_fail(ex, &q, 1, xasprintf("cannot hand "
				    "the task to a worker: %s",
				    s->state == SLOT_IDLE ? strerror(errno) :
				    "no worker could be started"));
				if (s->state == SLOT_IDLE)
					slot_discard(ex, s);
				qtask_clear(&q);
				continue;
			}
		}
		slot_begin(s, &q);
		qtask_clear(&q);
	}
}

static struct task_result *
done_pop(struct executor *ex)
{
	struct task_result	*r;

	if (ex->ndone == 0)
		return NULL;
	r = ex->done[0];
	memmove(ex->done, ex->done + 1, (ex->ndone - 1) * sizeof *ex->done);
	ex->ndone--;
	return r;
}

/* Finish the slot's attempt as a fault, with the given reason. */
static void
slot_fail(struct executor *ex, struct slot *s, char *reason)
{
	struct task_result	*r = s->res;

	s->res = NULL;
	r->status = MESHD_FAILED;
	r->retryable = 1;
	free(r->reason);
	r->reason = reason;
	r->ended_us = now_us();
	executor_log_outcome(s->log_path, s->attempt, r);
	done_push(ex, r);
}

/* The worker of `s` has ended with `wstatus`: report and replace. */
static void
slot_reaped(struct executor *ex, struct slot *s, int wstatus)
{
	char	*why;

	if (s->state == SLOT_BUSY && s->res != NULL) {
		if (s->doom != NULL) {
			why = s->doom;
			s->doom = NULL;
		} else if (WIFEXITED(wstatus) &&
		    WEXITSTATUS(wstatus) == WORKER_EXIT_LOST)
			why = xstrdup("worker closed its connection");
		else if (WIFEXITED(wstatus))
			why = xasprintf("plugin called exit(%d)",
			    WEXITSTATUS(wstatus));
		else
			why = exit_reason(wstatus);
		/* What the dead worker's stage started dies first: nothing
		 * it writes may land after the outcome trailer. */
		executor_orphans(ex);
		slot_log_cap(ex, s);
		slot_fail(ex, s, why);
	}
	s->pid = -1;
	slot_respawn(ex, s);
	executor_orphans(ex);
}

/*
 * The socket of `s` is closed or broken.  Normally the worker has exited;
 * if it lives on (a plugin closed the socket), it cannot be told anything
 * any more: kill it.
 */
static void
slot_eof(struct executor *ex, struct slot *s)
{
	int	st, i;
	pid_t	rc;

	for (i = 0; i < 100; i++) {
		if ((rc = waitpid(s->pid, &st, WNOHANG)) == s->pid) {
			slot_reaped(ex, s, st);
			return;
		}
		if (rc == -1 && errno != EINTR)
			break;
		usleep(2000);
	}
	if (rc == -1) {
		/* Not our child any more (someone reaped it): no status. */
		if (s->state == SLOT_BUSY && s->res != NULL && s->doom == NULL)
			s->doom = xstrdup("worker ended; its status is lost");
		slot_reaped(ex, s, 0);
		return;
	}
	if (s->state == SLOT_BUSY && s->doom == NULL)
		s->doom = xstrdup("worker closed its connection");
	kill(s->pid, SIGKILL);
	while (waitpid(s->pid, &st, 0) == -1 && errno == EINTR)
		;
	slot_reaped(ex, s, st);
}

static void
slot_retire(struct executor *ex, struct slot *s, int64_t now)
{
	struct wbuf	b;

	wbuf_init(&b, WIRE_EXIT);
	wire_send(s->fd, &b, 1);
	wbuf_free(&b);
	/* A fini that never returns is killed after the grace. */
	reap_add(ex, s->pid, now + (int64_t)ex->opts.kill_grace_s * 1000000 +
	    (ex->opts.kill_grace_s <= 0));
	slot_respawn(ex, s);
}

/* Replace a worker that was told to stop or was killed, even though it
 * answered: one sent a signal never gets another task. */
static void
slot_discard(struct executor *ex, struct slot *s)
{
	kill(s->pid, SIGKILL);
	reap_add(ex, s->pid, 0);
	slot_respawn(ex, s);
}

/* Kill the worker of a busy slot now; its EOF or exit ends the attempt. */
static void
slot_kill(struct slot *s, const char *why)
{
	if (s->doom == NULL)
		s->doom = xstrdup(why);
	if (!s->killed)
		kill(s->pid, SIGKILL);
	s->killed = 1;
}

/* Ask the worker of a busy slot to stop: SIGTERM, SIGKILL after grace. */
static void
slot_stop(struct executor *ex, struct slot *s, char *why, int64_t now)
{
	if (s->doom != NULL) {
		/* Already on its way out: the first reason stands. */
		free(why);
		return;
	}
	s->doom = why;
	if (ex->opts.kill_grace_s <= 0) {
		slot_kill(s, why);
		return;
	}
	kill(s->pid, SIGTERM);
	s->kill_at = now + (int64_t)ex->opts.kill_grace_s * 1000000;
}

static void
slot_result(struct executor *ex, struct slot *s, struct wire_reply *w,
    int64_t now)
{
	struct task_result	*res = s->res;
	int			 doomed = s->doom != NULL;

	res->status = w->status;
	res->retryable = w->retryable;
	res->infra = w->infra;
	res->reason = w->reason;
	res->message = w->message;
	w->reason = w->message = NULL;
	res->started_us = w->started_us;
	res->ended_us = w->ended_us;
	if (doomed) {
		/* The plugin gave up when asked to: still the attempt was
		 * stopped for our reason, not its own. */
		res->status = MESHD_FAILED;
		res->retryable = 1;
		res->infra = 0;
		free(res->reason);
		res->reason = s->doom;
		s->doom = NULL;
	}
	s->res = NULL;
	executor_log_outcome(s->log_path, s->attempt, res);
	done_push(ex, res);
	if (doomed) {
		slot_discard(ex, s);
		return;
	}
	slot_clear_task(s);
	s->state = SLOT_IDLE;
	s->ntasks++;
	if (s->nq > 0) {
		/* The worker has already started the next one. */
		struct qtask	q = s->q[0];

		memmove(s->q, s->q + 1, --s->nq * sizeof *s->q);
		slot_begin(s, &q);
		if (q.doom != NULL) {
			slot_stop(ex, s, q.doom, now);
			q.doom = NULL;
		}
		qtask_clear(&q);
		return;
	}
	if (ex->opts.max_tasks > 0 && s->ntasks >= ex->opts.max_tasks)
		slot_retire(ex, s, now);
	executor_dispatch(ex);
}

/*
 * Handle one message from the worker of `s`.  -1 on a malformed,
 * misaddressed or out-of-sequence one: nothing of it is used.
 */
static int
slot_message(struct executor *ex, struct slot *s, const void *p, size_t n,
    int64_t now)
{
	struct task_result	*res = s->res;
	struct check_rec	*c;
	struct metric_rec	*m;
	struct wire_reply	 w;

	if (wire_decode_reply(p, n, &w) != 0)
		return -1;
	/* An honest worker says nothing between tasks, and a killed one's
	 * last words are not wanted: its exit decides. */
	if (w.nonce != s->nonce || w.seq != s->rseq ||
	    s->state != SLOT_BUSY || res == NULL ||
	    w.attempt_id != res->attempt_id) {
		wire_reply_free(&w);
		return -1;
	}
	s->rseq++;
	s->last_mono = now;
	switch (w.type) {
	case WIRE_ACK:
	case WIRE_HEARTBEAT:
		break;
	case WIRE_CHECK:
		res->checks = xreallocarray(res->checks, res->nchecks + 1,
		    sizeof *res->checks);
		c = &res->checks[res->nchecks++];
		c->name = w.name;
		c->severity = w.severity;
		c->passed = w.passed;
		c->observed = w.value;
		c->expectation = w.expectation;
		c->recorded_us = w.recorded_us;
		w.name = w.expectation = NULL;
		break;
	case WIRE_METRIC:
		res->metrics = xreallocarray(res->metrics, res->nmetrics + 1,
		    sizeof *res->metrics);
		m = &res->metrics[res->nmetrics++];
		m->name = w.name;
		m->value = w.value;
		w.name = NULL;
		break;
	case WIRE_RESULT:
		slot_result(ex, s, &w, now);
		break;
	}
	wire_reply_free(&w);
	return 0;
}

/* Read everything the worker of `s` has sent. */
static void
slot_read(struct executor *ex, struct slot *s)
{
	ssize_t	n;
	int64_t	now;
	int	i;

	/* Bounded: a descendant writing without end into a killed worker's
	 * socket must not keep us here (poll() brings us back). */
	for (i = 0; i < 1024; i++) {
		n = wire_recv(s->fd, ex->buf, 1);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0 && !(n == -1 && errno == EMSGSIZE)) {
			slot_eof(ex, s);
			return;
		}
		if (s->killed)
			continue;	/* its exit status decides */
		now = mono_us();
		/* A datagram too big for us was not sent by a worker. */
		if (n == -1 || slot_message(ex, s, ex->buf, (size_t)n,
		    now) != 0) {
			if (s->state == SLOT_BUSY) {
				/* This reason wins over a stop in progress:
				 * the worker cannot be trusted with it. */
				free(s->doom);
				s->doom = NULL;
				slot_kill(s, "worker sent a malformed message");
			} else {
				kill(s->pid, SIGKILL);
				slot_eof(ex, s);
			}
			return;
		}
		if (s->fd == -1 || s->state == SLOT_DEAD)
			return;
	}
}

static int64_t
min_deadline(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/*
 * Whether the busy slot `s` is past its timeout or heartbeat deadline, and
 * the next time it will be otherwise (0: none).
 */
static int
slot_due(const struct executor *ex, const struct slot *s, int64_t now,
    int64_t *next)
{
	int64_t	hb_us = (int64_t)ex->opts.heartbeat_timeout_s * 1000000, t;
	int	due = 0;

	*next = 0;
	if (s->timeout_us > 0) {
		t = s->start_mono + s->timeout_us;
		if (now >= t)
			due = 1;
		*next = min_deadline(*next, t);
	}
	if (hb_us > 0) {
		t = s->last_mono + hb_us;
		if (now >= t)
			due = 1;
		*next = min_deadline(*next, t);
	}
	return due;
}

/*
 * Enforce timeouts, heartbeats and kill deadlines; reap retired workers;
 * respawn dead slots.  Returns the next time something is due (0: none).
 */
static int64_t
executor_enforce(struct executor *ex, int64_t now)
{
	struct slot	*s;
	int64_t		 next = 0, hb_us, t;
	pid_t		 pid;
	size_t		 i;
	int		 st, reaped = 0;

	hb_us = (int64_t)ex->opts.heartbeat_timeout_s * 1000000;
	/*
	 * We were not here for longer than a heartbeat timeout (stopped,
	 * or blocked on a stalled disk): the workers' silence is ours.
	 * Give every busy worker a fresh timeout rather than kill them all.
	 */
	if (hb_us > 0 && ex->last_enforce != 0 &&
	    now - ex->last_enforce > hb_us) {
		for (i = 0; i < (size_t)ex->nslots; i++) {
			if (ex->slots[i].state == SLOT_BUSY)
				ex->slots[i].last_mono = now;
		}
	}
	ex->last_enforce = now;
	for (i = 0; i < (size_t)ex->nslots; i++) {
		s = &ex->slots[i];
		if (s->state == SLOT_DEAD) {
			if (now >= ex->respawn_at) {
				slot_spawn(ex, s, NULL);
				ex->respawn_at = now + 1000000;
			}
			if (s->state == SLOT_DEAD)
				next = min_deadline(next, ex->respawn_at);
			continue;
		}
		if (s->state != SLOT_BUSY)
			continue;
		if (s->killed) {
			/* Normally the EOF ends it; if a descendant holds the
			 * socket open, the exit status does. */
			if (waitpid(s->pid, &st, WNOHANG) == s->pid)
				slot_reaped(ex, s, st);
			else
				next = min_deadline(next, now + 100000);
			continue;
		}
		if (s->kill_at != 0) {
			if (now >= s->kill_at)
				slot_kill(s, "stopped");
			else
				next = min_deadline(next, s->kill_at);
			if (s->killed)
				next = min_deadline(next, now + 100000);
			continue;
		}
		/*
		 * A heartbeat is late: has the worker died?  Its socket says
		 * so, unless a descendant holds it open; then only its exit
		 * status can (nothing wakes poll() when a child exits).
		 */
		if (now - s->last_mono > 1500000) {
			pid = s->pid;
			slot_read(ex, s);
			if (s->pid != pid || s->state != SLOT_BUSY ||
			    s->killed) {
				next = min_deadline(next, now + 1000);
				continue;
			}
			if (waitpid(pid, &st, WNOHANG) == pid) {
				slot_reaped(ex, s, st);
				next = min_deadline(next, now + 1000);
				continue;
			}
		}
		if (!slot_due(ex, s, now, &t)) {
			next = min_deadline(next, t);
			next = min_deadline(next, s->last_mono + 1500000 >
			    now ? s->last_mono + 1500000 : now + 500000);
			continue;
		}
		/* Before judging, read what is waiting: after a stall the
		 * result may be there already, with heartbeats before it. */
		pid = s->pid;
		slot_read(ex, s);
		if (s->state != SLOT_BUSY || s->pid != pid || s->killed) {
			next = min_deadline(next, now + 1000);
			continue;
		}
		if (s->timeout_us > 0 && now >= s->start_mono + s->timeout_us) {
			char *d = fmt_compact(s->timeout_us);

			slot_stop(ex, s, xasprintf("timed out after %s", d), now);
			free(d);
			next = min_deadline(next, s->killed ?
			    now + 100000 : s->kill_at);
			continue;
		}
		if (hb_us > 0 && now >= s->last_mono + hb_us) {
			char *d = fmt_compact(hb_us), *why;

			why = xasprintf("worker stopped answering (no "
			    "heartbeat for %s)", d);
			slot_kill(s, why);
			free(why);
			free(d);
			next = min_deadline(next, now + 100000);
			continue;
		}
		slot_due(ex, s, now, &t);
		next = min_deadline(next, t);
	}

	for (i = 0; i < ex->nreap; i++) {
		struct reapee	*rp = &ex->reap[i];

		if (waitpid(rp->pid, &st, WNOHANG) != 0) {
			/* Reaped, or not ours any more: forget it. */
			ex->reap[i--] = ex->reap[--ex->nreap];
			reaped = 1;
			continue;
		}
		if (!rp->killed && now >= rp->kill_at) {
			kill(rp->pid, SIGKILL);
			rp->killed = 1;
		}
		/* Nothing wakes poll() when a child exits: look again
		 * soon. */
		next = min_deadline(next, now + 50000);
	}
	if (reaped)
		executor_orphans(ex);
	return next;
}

struct executor *
executor_new(const struct executor_opts *opts, char **cause)
{
	struct executor	*ex;
	int		 i;

	if (opts->workers < 1) {
		set_cause(cause, "workers must be at least 1 (not %d)",
		    opts->workers);
		return NULL;
	}
	ex = xcalloc(1, sizeof *ex);
	ex->opts = *opts;
	if (ex->opts.task_max_bytes <= 0)
		ex->opts.task_max_bytes = WIRE_TASK_MAX_DEFAULT;
	if (ex->opts.depth <= 0)
		ex->opts.depth = EXECUTOR_DEPTH;
	ex->self = getpid();
	ex->pgrp = getpgrp();
	/*
	 * The descendants of a worker that dies come to us, not to init, so
	 * that we can kill them (executor_orphans).  A cgroup per attempt
	 * would hold them without this; that mode is not built yet.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
		log_warn("containment: cannot become a subreaper (%s): the "
		    "processes of a worker that dies may outlive it",
		    strerror(errno));
		ex->containment = "none";
	} else
		ex->containment = "subreaper";
	ex->wakefd = -1;
	ex->buf = xmalloc(WIRE_MAX);
	ex->slots = xcalloc((size_t)opts->workers, sizeof *ex->slots);
	ex->nslots = opts->workers;
	for (i = 0; i < ex->nslots; i++) {
		ex->slots[i].fd = -1;
		ex->slots[i].pid = -1;
	}
	for (i = 0; i < ex->nslots; i++) {
		if (slot_spawn(ex, &ex->slots[i], cause) != 0) {
			executor_free(ex);
			return NULL;
		}
	}
	return ex;
}

const char *
executor_containment(const struct executor *ex)
{
	return ex->containment;
}

int
executor_idle(const struct executor *ex)
{
	int	i, n = 0;

	for (i = 0; i < ex->nslots; i++)
		n += ex->slots[i].state == SLOT_IDLE;
	return n;
}

int
executor_room(const struct executor *ex)
{
	int	i, n = 0, depth = ex->opts.depth;

	for (i = 0; i < ex->nslots; i++)
		n += (ex->slots[i].state == SLOT_IDLE) + (depth - 1) -
		    ex->slots[i].nq;
	n -= (int)ex->nwq;
	return n > 0 ? n : 0;
}

int
executor_busy(const struct executor *ex)
{
	int	i, n = 0;

	for (i = 0; i < ex->nslots; i++)
		n += ex->slots[i].state == SLOT_BUSY;
	return n;
}

/* An attempt that ends at submit: its result waits in the done queue. */
static void
submit_fail(struct executor *ex, const struct task_req *req, pid_t pid,
    int retryable, char *reason)
{
	fail_unstarted(ex, req->attempt_id, pid, req->log_path, req->attempt,
	    retryable, reason);
}

/*
 * Send a TASK message: inline if it fits a datagram, else in a sealed
 * memfd whose descriptor goes along.  0, or -1 with errno.
 */
static int
slot_send_task(struct slot *s, const struct wbuf *b)
{
	struct wbuf	h;
	size_t		off;
	ssize_t		n;
	int		mfd, rc, e;

	if (b->len <= WIRE_MAX)
		return wire_send(s->fd, b, 1);
	if ((mfd = memfd_create("meshd-task", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	for (off = 0; off < b->len; off += (size_t)n) {
		n = write(mfd, b->p + off, b->len - off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			e = n == 0 ? EIO : errno;
			close(mfd);
			errno = e;
			return -1;
		}
	}
	/* Sealed: the worker may trust the size it is told and read it
	 * without racing a writer. */
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		e = errno;
		close(mfd);
		errno = e;
		return -1;
	}
	wbuf_init(&h, WIRE_TASK_FD);
	wbuf_i64(&h, (int64_t)b->len);
	rc = wire_send_fd(s->fd, &h, mfd, 1);
	e = errno;
	wbuf_free(&h);
	close(mfd);
	errno = e;
	return rc;
}

static void
qtask_set(struct qtask *q, const struct task_req *req, struct wbuf *b)
{
	memset(q, 0, sizeof *q);
	q->b = *b;		/* taken */
	memset(b, 0, sizeof *b);
	q->attempt_id = req->attempt_id;
	q->timeout_us = req->timeout_us;
	q->log_path = xstrdup_null(req->log_path);
	q->attempt = req->attempt;
	/* One run of a job: its partition key (NULL: none) with the job. */
	q->run = xasprintf("%s\n%s", req->job != NULL ? req->job : "",
	    req->partition_key != NULL ? req->partition_key : "\n");
	q->plugin = xstrdup(req->plugin_path);
}

/*
 * No idle worker for `req`: behind a busy worker running an attempt of
 * the same run (job and partition) and plugin, with room, sent now; else
 * in the executor's queue.  The pid, or 0 for the queue.  Only the same
 * run: a hung attempt delays only its own run's tasks, and cancelling a
 * run stops the attempt they wait behind too.
 */
static pid_t
submit_wait(struct executor *ex, const struct task_req *req,
    struct wbuf *b)
{
	struct qtask	 q;
	struct slot	*s;
	int		 i;

	qtask_set(&q, req, b);
	for (i = 0; i < ex->nslots; i++) {
		s = &ex->slots[i];
		if (s->state != SLOT_BUSY || s->doom != NULL || s->killed ||
		    s->nq >= ex->opts.depth - 1 || !str_same(s->run, q.run) ||
		    !str_same(s->plugin, q.plugin))
			continue;
		/* It must not retire with tasks in its socket. */
		if (ex->opts.max_tasks > 0 &&
		    s->ntasks + 1 + s->nq + 1 > ex->opts.max_tasks)
			continue;
		/* A send that fails leaves it to its EOF; the task waits. */
		if (slot_send_task(s, &q.b) != 0)
			break;
		if (s->q == NULL)
			s->q = xcalloc((size_t)ex->opts.depth, sizeof *s->q);
		s->q[s->nq++] = q;
		return s->pid;
	}
	if (ex->nwq == ex->wqcap) {
		ex->wqcap = ex->wqcap == 0 ? 16 : ex->wqcap * 2;
		ex->wq = xreallocarray(ex->wq, ex->wqcap, sizeof *ex->wq);
	}
	ex->wq[ex->nwq++] = q;
	return 0;
}

pid_t
executor_submit(struct executor *ex, const struct task_req *req,
    char **cause)
{
	struct slot	*s = NULL;
	struct qtask	 q;
	struct wbuf	 b;
	pid_t		 pid;
	int		 i;

	if (executor_room(ex) <= 0) {
		set_cause(cause, "no idle worker");
		return -1;
	}
	executor_dispatch(ex);
	if (ex->nwq == 0)
		for (i = 0; i < ex->nslots; i++) {
			if (ex->slots[i].state == SLOT_IDLE) {
				s = &ex->slots[i];
				break;
			}
		}
	/* From here on, nothing about the task itself is an error of the
	 * executor: the attempt fails, and its result says why. */
	pid = s != NULL ? s->pid : 0;
	if (req->plugin_path == NULL) {
		submit_fail(ex, req, pid, 0, xstrdup("task has no plugin "
		    "path"));
		return pid;
	}
	wire_encode_task(&b, req);
	if ((long long)b.len > ex->opts.task_max_bytes) {
		submit_fail(ex, req, pid, 0, xasprintf("task message is %zu "
		    "bytes, over task_max_bytes (%lld)", b.len,
		    ex->opts.task_max_bytes));
		wbuf_free(&b);
		return pid;
	}
	if (s == NULL)
		return submit_wait(ex, req, &b);
	if (slot_send_task(s, &b) != 0) {
		/* The worker died while idle (killed from outside, or its
		 * plugin's fini crashed): replace it and try once more. */
		slot_eof(ex, s);
		if (s->state != SLOT_IDLE || slot_send_task(s, &b) != 0) {
			submit_fail(ex, req, pid, 1, xasprintf("cannot hand the "
			    "task to a worker: %s", s->state == SLOT_IDLE ?
			    strerror(errno) : "no worker could be started"));
			if (s->state == SLOT_IDLE)
				slot_discard(ex, s);
			wbuf_free(&b);
			return pid;
		}
	}
	qtask_set(&q, req, &b);
	slot_begin(s, &q);
	qtask_clear(&q);
	return s->pid;
}

int
executor_wait(struct executor *ex, int timeout_ms, struct task_result **out,
    char **cause)
{
	struct pollfd	*pfd;
	struct slot	**which;
	int64_t		 deadline = 0, now, next, wait_us;
	int		 i, n, rc, polled = 0;
	size_t		 k, nw;

	*out = NULL;
	if (timeout_ms >= 0)
		deadline = mono_us() + (int64_t)timeout_ms * 1000;
	pfd = xcalloc((size_t)ex->nslots + ex->nsrc + 1, sizeof *pfd);
	which = xcalloc((size_t)ex->nslots + 1, sizeof *which);
	for (;;) {
		if ((*out = done_pop(ex)) != NULL) {
			rc = 1;
			goto out;
		}
		now = mono_us();
		next = executor_enforce(ex, now);
		/* Workers respawned, or freed by a stop: the queue's turn. */
		executor_dispatch(ex);
		for (k = 0; k < ex->nsrc; k++)
			next = min_deadline(next,
			    ex->src[k].tick(ex->src[k].arg, now));
		if ((*out = done_pop(ex)) != NULL) {
			rc = 1;
			goto out;
		}
		/* Poll at least once, so that a zero timeout still reads
		 * what the workers have sent. */
		if (deadline != 0 && now >= deadline && polled) {
			rc = 0;
			goto out;
		}
		next = min_deadline(next, deadline);
		wait_us = next == 0 ? -1 : next - now;
		if (next != 0 && wait_us < 0)
			wait_us = 0;
		polled = 1;

		n = 0;
		for (i = 0; i < ex->nslots; i++) {
			if (ex->slots[i].fd == -1)
				continue;
			pfd[n].fd = ex->slots[i].fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			which[n++] = &ex->slots[i];
		}
		if (ex->wakefd != -1) {
			pfd[n].fd = ex->wakefd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			which[n] = NULL;
		}
		/* The remote executors' descriptors, after the wake-up's. */
		nw = n + (ex->wakefd != -1);
		for (k = 0; k < ex->nsrc; k++) {
			pfd[nw + k].events = 0;
			pfd[nw + k].revents = 0;
			pfd[nw + k].fd = ex->src[k].poll_fd(ex->src[k].arg,
			    &pfd[nw + k].events);
		}
		rc = poll(pfd, (nfds_t)(nw + ex->nsrc), wait_us < 0 ?
		    -1 : (int)((wait_us + 999) / 1000));
		if (rc == -1) {
			if (errno == EINTR) {
				rc = 0;
				goto out;
			}
			set_cause(cause, "poll: %s", strerror(errno));
			rc = -1;
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (pfd[i].revents != 0 && which[i]->fd == pfd[i].fd)
				slot_read(ex, which[i]);
		}
		for (k = 0; k < ex->nsrc; k++)
			if (pfd[nw + k].fd != -1 && pfd[nw + k].revents != 0)
				ex->src[k].ready(ex->src[k].arg,
				    pfd[nw + k].revents);
		/* The owner has something to do (a signal, say): return
		 * after reading what the workers sent. */
		if (ex->wakefd != -1 && pfd[n].revents != 0) {
			rc = (*out = done_pop(ex)) != NULL;
			goto out;
		}
	}
out:
	free(pfd);
	free(which);
	return rc;
}

void
executor_add_source(struct executor *ex, const struct executor_source *src)
{
	ex->src = xreallocarray(ex->src, ex->nsrc + 1, sizeof *ex->src);
	ex->src[ex->nsrc++] = *src;
}

void
executor_remove_source(struct executor *ex, void *arg)
{
	size_t	i;

	for (i = 0; i < ex->nsrc; i++)
		if (ex->src[i].arg == arg) {
			ex->src[i] = ex->src[--ex->nsrc];
			return;
		}
}

void
executor_push_result(struct executor *ex, struct task_result *r)
{
	done_push(ex, r);
}

void
executor_set_wakeup(struct executor *ex, int fd)
{
	ex->wakefd = fd;
}

void
executor_set_limits(struct executor *ex, int kill_grace_s,
    int heartbeat_timeout_s)
{
	ex->opts.kill_grace_s = kill_grace_s;
	ex->opts.heartbeat_timeout_s = heartbeat_timeout_s;
}

int
executor_cancel(struct executor *ex, int64_t attempt_id, const char *why)
{
	struct slot	*s;
	int		 i;

	size_t		 k;
	int		 j;

	if (why == NULL)
		why = "cancelled";
	for (i = 0; i < ex->nslots; i++) {
		s = &ex->slots[i];
		if (s->state == SLOT_BUSY && s->res != NULL &&
		    s->res->attempt_id == attempt_id) {
			slot_stop(ex, s, xstrdup(why), mono_us());
			return 0;
		}
		/* In its socket: stopped as it starts (it cannot be taken
		 * back), or ended if the worker goes first. */
		for (j = 0; j < s->nq; j++)
			if (s->q[j].attempt_id == attempt_id) {
				if (s->q[j].doom == NULL)
					s->q[j].doom = xstrdup(why);
				return 0;
			}
	}
	for (k = 0; k < ex->nwq; k++)
		if (ex->wq[k].attempt_id == attempt_id) {
			struct qtask	q = ex->wq[k];

			memmove(ex->wq + k, ex->wq + k + 1, (ex->nwq - k - 1) *
			    sizeof *ex->wq);
			ex->nwq--;
			qtask_fail(ex, &q, 1, xstrdup(why));
			qtask_clear(&q);
			return 0;
		}
	return -1;
}

void
executor_free(struct executor *ex)
{
	struct slot	*s;
	struct wbuf	 b;
	pid_t		*pids;
	size_t		 npids = 0, i;
	int64_t		 deadline;
	int		 st, left, j;

	if (ex == NULL)
		return;
	pids = xcalloc((size_t)ex->nslots + ex->nreap + 1, sizeof *pids);
	for (i = 0; i < (size_t)ex->nslots; i++) {
		s = &ex->slots[i];
		if (s->pid <= 0)
			continue;
		if (s->state == SLOT_IDLE) {
			wbuf_init(&b, WIRE_EXIT);
			wire_send(s->fd, &b, 1);
			wbuf_free(&b);
		} else
			kill(s->pid, s->killed ? SIGKILL : SIGTERM);
		close(s->fd);
		s->fd = -1;
		pids[npids++] = s->pid;
		slot_clear_task(s);
		for (j = 0; j < s->nq; j++)
			qtask_clear(&s->q[j]);
		free(s->q);
	}
	for (i = 0; i < ex->nwq; i++)
		qtask_clear(&ex->wq[i]);
	free(ex->wq);
	for (i = 0; i < ex->nreap; i++)
		pids[npids++] = ex->reap[i].pid;

	deadline = mono_us() + (int64_t)ex->opts.kill_grace_s * 1000000;
	for (;;) {
		left = 0;
		for (i = 0; i < npids; i++) {
			if (pids[i] <= 0)
				continue;
			if (waitpid(pids[i], &st, WNOHANG) != 0)
				pids[i] = -1;
			else
				left++;
		}
		if (left == 0 || mono_us() >= deadline)
			break;
		usleep(10000);
	}
	for (i = 0; i < npids; i++) {
		if (pids[i] <= 0)
			continue;
		kill(pids[i], SIGKILL);
		while (waitpid(pids[i], &st, 0) == -1 && errno == EINTR)
			;
	}
	free(pids);
	free(ex->reap);
	ex->reap = NULL;
	ex->nreap = 0;
	for (i = 0; i < (size_t)ex->nslots; i++)
		ex->slots[i].pid = -1;
	executor_orphans(ex);
	for (i = 0; i < ex->nreap; i++) {
		while (waitpid(ex->reap[i].pid, &st, 0) == -1 && errno == EINTR)
			;
	}

	while (ex->ndone > 0)
		task_result_free(ex->done[--ex->ndone]);
	free(ex->done);
	free(ex->reap);
	free(ex->slots);
	free(ex->buf);
	free(ex->src);
	free(ex);
}

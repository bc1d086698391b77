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
 * PR_SET_PDEATHSIG fires when the *thread* that forked a worker ends, so
 * the executor must be created and driven by a thread that lives as long
 * as it does (the daemon's main thread).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../sdk/meshd/plugin.h"
#include "executor.h"
#include "util.h"
#include "wire.h"
#include "worker.h"

enum slot_state { SLOT_DEAD, SLOT_IDLE, SLOT_BUSY };

/* One worker of the pool. */
struct slot {
	enum slot_state		 state;
	pid_t			 pid;
	int			 fd;
	int			 ntasks;	/* tasks run by this worker */

	/* While busy: */
	struct task_result	*res;		/* filled as messages arrive */
	int64_t			 start_mono;
	int64_t			 last_mono;	/* last message */
	int64_t			 timeout_us;
	char			*doom;		/* reason, once we stop it */
	int64_t			 kill_at;	/* SIGKILL then; 0: not set */
	int			 killed;	/* SIGKILL sent */
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
	struct slot		 *slots;
	int			  nslots;
	int64_t			  respawn_at;	/* next try for dead slots */

	struct task_result	**done;		/* finished, not yet returned */
	size_t			  ndone, donecap;

	struct reapee		 *reap;
	size_t			  nreap;

	unsigned char		 *buf;		/* WIRE_MAX */
	int			  wakefd;	/* ends a wait, or -1 */
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
	int		sv[2];
	pid_t		pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		set_cause(cause, "socketpair: %s", strerror(errno));
		return -1;
	}
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
		worker_main(sv[1], ex->self, &ex->opts);
		/* NOTREACHED */
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	memset(s, 0, sizeof *s);
	s->state = SLOT_IDLE;
	s->pid = pid;
	s->fd = sv[0];
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
}

/* Replace the worker of a slot (its process is gone or retiring). */
static void
slot_respawn(struct executor *ex, struct slot *s)
{
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
		} else if (WIFEXITED(wstatus))
			why = xasprintf("plugin called exit(%d)",
			    WEXITSTATUS(wstatus));
		else
			why = exit_reason(wstatus);
		slot_fail(ex, s, why);
	}
	s->pid = -1;
	slot_respawn(ex, s);
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
	ex->reap = xreallocarray(ex->reap, ex->nreap + 1, sizeof *ex->reap);
	ex->reap[ex->nreap].pid = s->pid;
	ex->reap[ex->nreap].kill_at = now +
	    (int64_t)ex->opts.kill_grace_s * 1000000;
	ex->reap[ex->nreap].killed = 0;
	ex->nreap++;
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
slot_result(struct executor *ex, struct slot *s, struct rbuf *r, int64_t now)
{
	struct task_result	*res = s->res;

	(void)rbuf_i64(r);
	res->status = rbuf_i32(r);
	res->retryable = rbuf_i32(r);
	res->reason = rbuf_str(r);
	res->message = rbuf_str(r);
	res->started_us = rbuf_i64(r);
	res->ended_us = rbuf_i64(r);
	if (s->doom != NULL) {
		/* The plugin gave up when asked to: still the attempt was
		 * stopped for our reason, not its own. */
		res->status = MESHD_FAILED;
		res->retryable = 1;
		free(res->reason);
		res->reason = s->doom;
		s->doom = NULL;
	}
	s->res = NULL;
	done_push(ex, res);
	slot_clear_task(s);
	s->state = SLOT_IDLE;
	s->ntasks++;
	if (ex->opts.max_tasks > 0 && s->ntasks >= ex->opts.max_tasks)
		slot_retire(ex, s, now);
}

/* Handle one message from the worker of `s`.  -1 on a malformed one. */
static int
slot_message(struct executor *ex, struct slot *s, const void *p, size_t n,
    int64_t now)
{
	struct task_result	*res = s->res;
	struct check_rec	*c;
	struct metric_rec	*m;
	struct rbuf		 r;
	uint32_t		 type;

	rbuf_init(&r, p, n);
	type = (uint32_t)rbuf_i32(&r);
	if (s->state != SLOT_BUSY || res == NULL)
		return 0;	/* late heartbeat of a finished attempt */
	s->last_mono = now;
	switch (type) {
	case WIRE_ACK:
	case WIRE_HEARTBEAT:
		break;
	case WIRE_CHECK:
		res->checks = xreallocarray(res->checks, res->nchecks + 1,
		    sizeof *res->checks);
		c = &res->checks[res->nchecks++];
		c->name = rbuf_str(&r);
		c->severity = rbuf_i32(&r);
		c->passed = rbuf_i32(&r);
		c->observed = rbuf_f64(&r);
		c->expectation = rbuf_str(&r);
		c->recorded_us = rbuf_i64(&r);
		if (c->name == NULL)
			c->name = xstrdup("");
		break;
	case WIRE_METRIC:
		res->metrics = xreallocarray(res->metrics, res->nmetrics + 1,
		    sizeof *res->metrics);
		m = &res->metrics[res->nmetrics++];
		m->name = rbuf_str(&r);
		m->value = rbuf_f64(&r);
		if (m->name == NULL)
			m->name = xstrdup("");
		break;
	case WIRE_RESULT:
		slot_result(ex, s, &r, now);
		return r.err ? -1 : 0;
	default:
		return -1;
	}
	return r.err ? -1 : 0;
}

/* Read everything the worker of `s` has sent. */
static void
slot_read(struct executor *ex, struct slot *s)
{
	ssize_t	n;
	int64_t	now;

	for (;;) {
		n = wire_recv(s->fd, ex->buf, 1);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			slot_eof(ex, s);
			return;
		}
		now = mono_us();
		if (slot_message(ex, s, ex->buf, (size_t)n, now) != 0) {
			if (s->state == SLOT_BUSY)
				slot_kill(s, "worker sent a malformed message");
			else {
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
 * Enforce timeouts, heartbeats and kill deadlines; reap retired workers;
 * respawn dead slots.  Returns the next time something is due (0: none).
 */
static int64_t
executor_enforce(struct executor *ex, int64_t now)
{
	struct slot	*s;
	int64_t		 next = 0, hb_us, t;
	size_t		 i;
	int		 st;

	hb_us = (int64_t)ex->opts.heartbeat_timeout_s * 1000000;
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
		if (s->timeout_us > 0) {
			t = s->start_mono + s->timeout_us;
			if (now >= t) {
				char *d = fmt_compact(s->timeout_us);

				slot_stop(ex, s, xasprintf("timed out after %s",
				    d), now);
				free(d);
				next = min_deadline(next, s->killed ?
				    now + 100000 : s->kill_at);
				continue;
			}
			next = min_deadline(next, t);
		}
		if (hb_us > 0) {
			t = s->last_mono + hb_us;
			if (now >= t) {
				char *d = fmt_compact(hb_us), *why;

				why = xasprintf("worker stopped answering (no "
				    "heartbeat for %s)", d);
				slot_kill(s, why);
				free(why);
				free(d);
				next = min_deadline(next, now + 100000);
				continue;
			}
			next = min_deadline(next, t);
		}
	}

	for (i = 0; i < ex->nreap; i++) {
		struct reapee	*rp = &ex->reap[i];

		if (waitpid(rp->pid, &st, WNOHANG) != 0) {
			/* Reaped, or not ours any more: forget it. */
			ex->reap[i--] = ex->reap[--ex->nreap];
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
	ex->self = getpid();
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

int
executor_idle(const struct executor *ex)
{
	int	i, n = 0;

	for (i = 0; i < ex->nslots; i++)
		n += ex->slots[i].state == SLOT_IDLE;
	return n;
}

int
executor_busy(const struct executor *ex)
{
	int	i, n = 0;

	for (i = 0; i < ex->nslots; i++)
		n += ex->slots[i].state == SLOT_BUSY;
	return n;
}

pid_t
executor_submit(struct executor *ex, const struct task_req *req,
    char **cause)
{
	struct slot	*s = NULL;
	struct wbuf	 b;
	int		 i;

	for (i = 0; i < ex->nslots; i++) {
		if (ex->slots[i].state == SLOT_IDLE) {
			s = &ex->slots[i];
			break;
		}
	}
	if (s == NULL) {
		set_cause(cause, "no idle worker");
		return -1;
	}
	if (req->plugin_path == NULL) {
		set_cause(cause, "task has no plugin path");
		return -1;
	}
	wire_encode_task(&b, req);
	if (b.len > WIRE_MAX) {
		set_cause(cause, "task %s is too large to send (%zu bytes, "
		    "limit %d)", req->task_id != NULL ? req->task_id : "?",
		    b.len, WIRE_MAX);
		wbuf_free(&b);
		return -1;
	}
	if (wire_send(s->fd, &b, 1) != 0) {
		/* The worker died while idle (killed from outside, or its
		 * plugin's fini crashed): replace it and try once more. */
		slot_eof(ex, s);
		if (s->state != SLOT_IDLE || wire_send(s->fd, &b, 1) != 0) {
			set_cause(cause, "cannot hand the task to a worker: %s",
			    s->state == SLOT_IDLE ? strerror(errno) :
			    "no worker could be started");
			wbuf_free(&b);
			return -1;
		}
	}
	wbuf_free(&b);
	s->state = SLOT_BUSY;
	s->res = xcalloc(1, sizeof *s->res);
	s->res->attempt_id = req->attempt_id;
	s->res->pid = s->pid;
	s->res->started_us = now_us();
	s->start_mono = s->last_mono = mono_us();
	s->timeout_us = req->timeout_us;
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

	*out = NULL;
	if (timeout_ms >= 0)
		deadline = mono_us() + (int64_t)timeout_ms * 1000;
	pfd = xcalloc((size_t)ex->nslots + 1, sizeof *pfd);
	which = xcalloc((size_t)ex->nslots + 1, sizeof *which);
	for (;;) {
		if ((*out = done_pop(ex)) != NULL) {
			rc = 1;
			goto out;
		}
		now = mono_us();
		next = executor_enforce(ex, now);
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
		rc = poll(pfd, (nfds_t)n + (ex->wakefd != -1), wait_us < 0 ?
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

	for (i = 0; i < ex->nslots; i++) {
		s = &ex->slots[i];
		if (s->state == SLOT_BUSY && s->res != NULL &&
		    s->res->attempt_id == attempt_id) {
			slot_stop(ex, s, xstrdup(why != NULL ? why :
			    "cancelled"), mono_us());
			return 0;
		}
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
	int		 st, left;

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
	}
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

	while (ex->ndone > 0)
		task_result_free(ex->done[--ex->ndone]);
	free(ex->done);
	free(ex->reap);
	free(ex->slots);
	free(ex->buf);
	free(ex);
}

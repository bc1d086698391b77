/*
 * xremote.c -- meshd's side of a remote executor: the Slurm agent's
 * socket (xremote.h, slurm.h).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sdk/meshd/plugin.h"
#include "executor.h"
#include "log.h"
#include "slurm.h"
#include "taskfile.h"
#include "util.h"
#include "wire.h"
#include "xremote.h"
#include "paths.h"		/* generated: BINDIR */

/* The agent's socket in the agent. */
#define XREMOTE_FD	3
/* Restart backoff of a dead agent. */
#define XREMOTE_BACKOFF_MIN_US	(1000 * 1000LL)
#define XREMOTE_BACKOFF_MAX_US	(60 * 1000 * 1000LL)

/* An attempt given to this executor and not yet ended. */
struct xflight {
	int64_t	 attempt_id;
	char	*name;
	int	 index;
	char	*ext_id;
	char	*adir;
	char	*log_path;
	int	 attempt;
	int64_t	 timeout_us;
	int64_t	 started_us;
	int	 sent;		/* the agent has it (SUBMIT or ADOPT) */
	int	 adopted;
};

/* A message waiting for the socket. */
struct xmsg {
	unsigned char	*p;
	size_t		 len;
};

struct xremote {
	struct executor_def	 def;
	int			 index;
	struct executor_opts	 wopts;
	int			 kill_grace_s;
	struct executor		*ex;
	char			*worker;

	pid_t			 pid;
	int			 fd;
	int64_t			 restart_at;	/* mono_us; 0: not due */
	int64_t			 backoff;

	struct xflight		*fl;
	size_t			 nfl, flcap;
	struct xmsg		*out;		/* queue to the agent */
	size_t			 nout, outcap, outhead;
	struct xupdate		*upd;
	size_t			 nupd, updcap;
	int			 unflushed;	/* SUBMITs since FLUSH */

	int			 queued, running, pilots, pilots_busy;
	char			*error;
	unsigned char		*buf;		/* WIRE_MAX */
};

static void	xremote_start(struct xremote *);

/* ------------------------------------------------------------ helpers */

static struct xflight *
xfind(struct xremote *x, int64_t attempt_id)
{
	size_t	i;

	for (i = 0; i < x->nfl; i++)
		if (x->fl[i].attempt_id == attempt_id)
			return &x->fl[i];
	return NULL;
}

static void
xflight_drop(struct xremote *x, struct xflight *f)
{
	free(f->name);
	free(f->ext_id);
	free(f->adir);
	free(f->log_path);
	*f = x->fl[--x->nfl];
}

static void
xqueue(struct xremote *x, const struct sx_msg *m)
{
	struct wbuf	b;

	sx_encode(&b, m);
	if (x->nout == x->outcap) {
		x->outcap = x->outcap == 0 ? 64 : x->outcap * 2;
		x->out = xreallocarray(x->out, x->outcap, sizeof *x->out);
	}
	x->out[x->nout].p = b.p;
	x->out[x->nout].len = b.len;
	x->nout++;
}

static void
xqueue_clear(struct xremote *x)
{
	size_t	i;

	for (i = x->outhead; i < x->nout; i++)
		free(x->out[i].p);
	x->nout = x->outhead = 0;
}

/* Send what the socket takes now; the rest waits for POLLOUT. */
static void
xsend(struct xremote *x)
{
	while (x->fd != -1 && x->outhead < x->nout) {
		struct xmsg *m = &x->out[x->outhead];

		if (send(x->fd, m->p, m->len, MSG_DONTWAIT | MSG_NOSIGNAL) ==
		    -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("executor '%s': cannot write to its "
				    "agent: %s", x->def.name, strerror(errno));
			break;
		}
		free(m->p);
		x->outhead++;
	}
	if (x->outhead == x->nout)
		x->nout = x->outhead = 0;
}

/* The attempt ends with `res` (ownership passes to the executor). */
static void
xfinish(struct xremote *x, struct xflight *f, struct task_result *res,
    int trailer)
{
	res->attempt_id = f->attempt_id;
	res->pid = 0;
	if (res->started_us == 0)
		res->started_us = f->started_us;
	if (res->ended_us == 0)
		res->ended_us = now_us();
	/* meshd-worker ends the logs of the results it writes; an attempt
	 * that ended without one is explained here, as a local fault is. */
	if (trailer && f->log_path != NULL)
		executor_log_outcome(f->log_path, f->attempt, res);
	xflight_drop(x, f);
	executor_push_result(x->ex, res);
}

static struct task_result *
xfault(const char *reason, int retryable, int infra)
{
	struct task_result	*res = xcalloc(1, sizeof *res);

	res->status = MESHD_FAILED;
	res->retryable = retryable;
	res->infra = infra;
	res->reason = xstrdup(reason);
	return res;
}

static void
xsend_submit(struct xremote *x, const struct xflight *f, int adopt)
{
	struct sx_msg	m;

	memset(&m, 0, sizeof m);
	m.type = adopt ? SX_ADOPT : SX_SUBMIT;
	m.attempt_id = f->attempt_id;
	m.job_name = f->name;
	m.index = f->index;
	m.attempt_dir = f->adir;
	m.group = f->name;
	m.timeout_us = f->timeout_us;
	m.memory_mb = x->wopts.memory_mb;
	m.ext_id = adopt ? f->ext_id : NULL;
	xqueue(x, &m);
}

/* ------------------------------------------------------------ agent */

static char *
xworker_path(const struct executor_def *def)
{
	char	self[PATH_MAX], *slash, *p;
	ssize_t	n;

	if (def->worker != NULL)
		return xstrdup(def->worker);
	/* Beside meshd (a build tree, or both in one bin directory). */
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			p = xasprintf("%s/meshd-worker", self);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return xstrdup(BINDIR "/meshd-worker");
}

/* Everything in flight that the agent does not have ends with `why`. */
static void
xfail_unsent(struct xremote *x, const char *why)
{
	size_t	i = 0;

	while (i < x->nfl) {
		if (!x->fl[i].sent)
			xfinish(x, &x->fl[i], xfault(why, 1, 1), 1);
		else
			i++;
	}
}

static void
xagent_lost(struct xremote *x, const char *what)
{
	int	st;
	char	*how;

	if (x->fd != -1)
		close(x->fd);
	x->fd = -1;
	xqueue_clear(x);
	if (x->pid > 0) {
		kill(x->pid, SIGTERM);
		if (waitpid(x->pid, &st, 0) == x->pid) {
			how = exit_reason(st);
			log_warn("executor '%s': its agent (pid %d) %s: %s; "
			    "restarting it in %llds", x->def.name, (int)x->pid,
			    what, how, (long long)(x->backoff / 1000000));
			free(how);
		}
	}
	x->pid = -1;
	x->restart_at = mono_us() + x->backoff;
	x->backoff = x->backoff * 2 > XREMOTE_BACKOFF_MAX_US ?
	    XREMOTE_BACKOFF_MAX_US : x->backoff * 2;
	x->queued = x->running = x->pilots = x->pilots_busy = 0;
	/* What it had is adopted by the next one. */
	for (size_t i = 0; i < x->nfl; i++)
		x->fl[i].sent = 0;
}

static void
xremote_start(struct xremote *x)
{
	struct sx_msg	m;
	int		sv[2];
	pid_t		pid;
	char		*why;
	size_t		i;

	x->restart_at = 0;
	if (access(x->worker, X_OK) != 0) {
		why = xasprintf("executor '%s': cannot start the Slurm agent: "
		    "%s: %s", x->def.name, x->worker, strerror(errno));
		log_error("%s", why);
		xfail_unsent(x, why);
		free(why);
		goto later;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_error("executor '%s': socketpair: %s", x->def.name,
		    strerror(errno));
		goto later;
	}
	if ((pid = fork()) == -1) {
		log_error("executor '%s': fork: %s", x->def.name,
		    strerror(errno));
		close(sv[0]);
		close(sv[1]);
		goto later;
	}
	if (pid == 0) {
		char *argv[] = { x->worker, (char *)"--agent", NULL };
		sigset_t none;

		/* Nothing of meshd's but the socket and stdio crosses. */
		if (dup2(sv[1], XREMOTE_FD) == -1)
			_exit(127);
		close_range(XREMOTE_FD + 1, ~0U, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		execv(x->worker, argv);
		fprintf(stderr, "meshd: executor '%s': cannot run %s: %s\n",
		    x->def.name, x->worker, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	x->pid = pid;
	x->fd = sv[0];
	fcntl(x->fd, F_SETFL, fcntl(x->fd, F_GETFL) | O_NONBLOCK);
	memset(&m, 0, sizeof m);
	m.type = SX_CONFIG;
	m.def = x->def;
	m.kill_grace_s = x->kill_grace_s;
	xqueue(x, &m);
	/* Everything in flight: what it had is adopted, what it never got
	 * is submitted (adopt submits an attempt no job was found for). */
	for (i = 0; i < x->nfl; i++) {
		xsend_submit(x, &x->fl[i], 1);
		x->fl[i].sent = 1;
	}
	xsend(x);
	log_info("executor '%s': Slurm agent started (pid %d, %s)",
	    x->def.name, (int)pid, x->worker);
	return;
later:
	x->restart_at = mono_us() + x->backoff;
	x->backoff = x->backoff * 2 > XREMOTE_BACKOFF_MAX_US ?
	    XREMOTE_BACKOFF_MAX_US : x->backoff * 2;
}

/* ------------------------------------------------------------ messages */

static void
xupdate_push(struct xremote *x, int64_t id, const char *ext_id,
    const char *ext_state)
{
	if (x->nupd == x->updcap) {
		x->updcap = x->updcap == 0 ? 16 : x->updcap * 2;
		x->upd = xreallocarray(x->upd, x->updcap, sizeof *x->upd);
	}
	x->upd[x->nupd].attempt_id = id;
	x->upd[x->nupd].ext_id = xstrdup_null(ext_id);
	x->upd[x->nupd].ext_state = xstrdup_null(ext_state);
	x->nupd++;
}

static void
xdone(struct xremote *x, struct xflight *f, const struct sx_msg *m)
{
	struct task_result	*res = NULL;
	char			*path, *cause = NULL;
	int			 rc;

	if (!m->have_file) {
		res = xfault(m->reason != NULL ? m->reason :
		    "the Slurm job ended without a result", m->retryable,
		    m->infra);
		res->status = m->status;
		if (res->status == MESHD_OK)	/* only a file says so */
			res->status = MESHD_FAILED;
		res->started_us = m->started_us;
		res->ended_us = m->ended_us;
		xfinish(x, f, res, 1);
		return;
	}
	/* meshd-worker wrote it as it ended: its job is completing, whatever
	 * squeue last said. */
	xupdate_push(x, f->attempt_id, NULL, "COMPLETED");
	path = taskfile_path(f->adir, TASKFILE_RESULT);
	rc = taskfile_read_result(path, f->attempt_id, &res, &cause);
	if (rc == 0)
		cause = xasprintf("result file %s: missing although the "
		    "agent saw it", path);
	free(path);
	if (rc != 1) {
		/* A result that is not whole is no result: the plugin's
		 * word is not taken from a cut or forged file. */
		res = xfault(cause, 1, 0);
		free(cause);
		xfinish(x, f, res, 1);
		return;
	}
	xfinish(x, f, res, 0);
}

static void
xmessage(struct xremote *x, const void *p, size_t n)
{
	struct sx_msg	 m;
	struct xflight	*f;

	if (sx_decode(p, n, &m) != 0) {
		log_warn("executor '%s': its agent sent a malformed message",
		    x->def.name);
		sx_msg_free(&m);
		return;
	}
	switch (m.type) {
	case SX_UPDATE:
		if ((f = xfind(x, m.attempt_id)) != NULL) {
			if (m.ext_id != NULL) {
				free(f->ext_id);
				f->ext_id = xstrdup(m.ext_id);
			}
			xupdate_push(x, m.attempt_id, m.ext_id, m.ext_state);
		}
		break;
	case SX_DONE:
		if ((f = xfind(x, m.attempt_id)) != NULL)
			xdone(x, f, &m);
		break;
	case SX_COUNTS:
		x->queued = m.queued;
		x->running = m.running;
		x->pilots = m.pilots;
		x->pilots_busy = m.pilots_busy;
		if ((m.error == NULL) != (x->error == NULL) ||
		    (m.error != NULL && strcmp(m.error, x->error) != 0)) {
			if (m.error != NULL)
				log_warn("executor '%s': %s", x->def.name,
				    m.error);
			else
				log_info("executor '%s': the Slurm controller "
				    "answers again", x->def.name);
		}
		free(x->error);
		x->error = xstrdup_null(m.error);
		break;
	default:
		log_warn("executor '%s': its agent sent message type %u",
		    x->def.name, m.type);
		break;
	}
	sx_msg_free(&m);
}

/* ------------------------------------------------------------ source */

static int
xsrc_fd(void *arg, short *events)
{
	struct xremote	*x = arg;

	*events = POLLIN | (x->outhead < x->nout ? POLLOUT : 0);
	return x->fd;
}

static void
xsrc_ready(void *arg, short revents)
{
	struct xremote	*x = arg;
	ssize_t		 n;

	if (revents & POLLOUT)
		xsend(x);
	for (;;) {
		if (x->fd == -1)
			return;
		n = recv(x->fd, x->buf, WIRE_MAX, MSG_DONTWAIT);
		if (n > 0) {
			xmessage(x, x->buf, (size_t)n);
			x->backoff = XREMOTE_BACKOFF_MIN_US;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		xagent_lost(x, n == 0 ? "closed its socket" :
		    "broke its socket");
		return;
	}
}

static int64_t
xsrc_tick(void *arg, int64_t now)
{
	struct xremote	*x = arg;

	if (x->fd == -1 && x->restart_at != 0 && now >= x->restart_at)
		xremote_start(x);
	return x->fd == -1 ? x->restart_at : 0;
}

/* ------------------------------------------------------------ API */

struct xremote *
xremote_new(const struct executor_def *def, int index,
    const struct executor_opts *wopts, int kill_grace_s, struct executor *ex)
{
	struct xremote		*x = xcalloc(1, sizeof *x);
	struct executor_source	 src;

	executor_def_copy(&x->def, def);
	x->index = index;
	x->wopts = *wopts;
	x->kill_grace_s = kill_grace_s;
	x->ex = ex;
	x->fd = -1;
	x->pid = -1;
	x->backoff = XREMOTE_BACKOFF_MIN_US;
	x->buf = xmalloc(WIRE_MAX);
	x->worker = xworker_path(def);
	if (x->def.worker == NULL)
		x->def.worker = xstrdup(x->worker);
	src.poll_fd = xsrc_fd;
	src.ready = xsrc_ready;
	src.tick = xsrc_tick;
	src.arg = x;
	executor_add_source(ex, &src);
	xremote_start(x);
	return x;
}

const char *
xremote_name(const struct xremote *x)
{
	return x->def.name;
}

int
xremote_room(const struct xremote *x)
{
	int	n = x->def.max_jobs - (int)x->nfl;

	return n > 0 ? n : 0;
}

static struct xflight *
xflight_add(struct xremote *x, const struct task_req *req,
    const char *ext_name, int ext_index, const char *ext_id)
{
	struct xflight	*f;

	if (x->nfl == x->flcap) {
		x->flcap = x->flcap == 0 ? 64 : x->flcap * 2;
		x->fl = xreallocarray(x->fl, x->flcap, sizeof *x->fl);
	}
	f = &x->fl[x->nfl++];
	memset(f, 0, sizeof *f);
	f->attempt_id = req->attempt_id;
	f->name = xstrdup(ext_name);
	f->index = ext_index;
	f->ext_id = xstrdup_null(ext_id);
	f->adir = xstrdup(req->attempt_dir);
	f->log_path = xstrdup_null(req->log_path);
	f->attempt = req->attempt;
	f->timeout_us = req->timeout_us;
	f->started_us = now_us();
	return f;
}

void
xremote_submit(struct xremote *x, const struct task_req *req,
    const char *ext_name, int ext_index)
{
	struct xflight	*f;
	char		*path, *cause = NULL, *why;

	f = xflight_add(x, req, ext_name, ext_index, NULL);
	path = taskfile_path(req->attempt_dir, TASKFILE_REQUEST);
	if (taskfile_write_request(path, req, &x->wopts, &cause) != 0) {
		/* meshd's own storage, not the task's fault. */
		why = xasprintf("cannot write the request for Slurm: %s",
		    cause);
		xfinish(x, f, xfault(why, 1, 1), 1);
		free(why);
		free(cause);
		free(path);
		return;
	}
	free(path);
	if (x->fd == -1)
		return;		/* the agent gets it when it is back */
	xsend_submit(x, f, 0);
	f->sent = 1;
	x->unflushed++;
}

void
xremote_flush(struct xremote *x)
{
	struct sx_msg	m;

	if (x->unflushed == 0 || x->fd == -1)
		return;
	memset(&m, 0, sizeof m);
	m.type = SX_FLUSH;
	xqueue(x, &m);
	x->unflushed = 0;
	xsend(x);
}

void
xremote_adopt(struct xremote *x, const struct task_req *req,
    const char *ext_name, int ext_index, const char *ext_id)
{
	struct xflight	*f;

	f = xflight_add(x, req, ext_name, ext_index, ext_id);
	f->adopted = 1;
	if (x->fd == -1)
		return;
	xsend_submit(x, f, 1);
	f->sent = 1;
	xsend(x);
}

int
xremote_cancel(struct xremote *x, int64_t attempt_id, const char *why)
{
	struct xflight	*f;
	struct sx_msg	 m;

	if ((f = xfind(x, attempt_id)) == NULL)
		return -1;
	if (!f->sent || x->fd == -1) {
		/* Not with the agent: no job can exist yet... unless an
		 * adopted one, which the next agent is told to find; it
		 * is cancelled then. */
		if (!f->adopted) {
			xfinish(x, f, xfault(why != NULL ? why : "cancelled",
			    0, 0), 1);
			return 0;
		}
	}
	memset(&m, 0, sizeof m);
	m.type = SX_CANCEL;
	m.attempt_id = attempt_id;
	m.why = (char *)(uintptr_t)(why != NULL ? why : "cancelled");
	xqueue(x, &m);
	xsend(x);
	return 0;
}

int
xremote_detach(struct xremote *x, int64_t attempt_id)
{
	struct xflight	*f;

	if ((f = xfind(x, attempt_id)) == NULL)
		return -1;
	xflight_drop(x, f);
	return 0;
}

size_t
xremote_updates(struct xremote *x, struct xupdate **out)
{
	size_t	n = x->nupd;

	*out = x->upd;
	x->upd = NULL;
	x->nupd = x->updcap = 0;
	return n;
}

int
xremote_has_updates(const struct xremote *x)
{
	return x->nupd > 0;
}

void
xupdates_free(struct xupdate *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].ext_id);
		free(v[i].ext_state);
	}
	free(v);
}

void
xremote_counts(const struct xremote *x, struct xcounts *c)
{
	memset(c, 0, sizeof *c);
	c->agent_up = x->fd != -1;
	c->inflight = (int)x->nfl;
	c->queued = x->queued;
	c->running = x->running;
	c->pilots = x->pilots;
	c->pilots_busy = x->pilots_busy;
	c->error = x->error;
}

void
xremote_free(struct xremote *x)
{
	struct sx_msg	m;
	int		st, i;

	if (x == NULL)
		return;
	executor_remove_source(x->ex, x);
	if (x->fd != -1) {
		memset(&m, 0, sizeof m);
		m.type = SX_EXIT;
		xqueue(x, &m);
		xsend(x);
		close(x->fd);
	}
	if (x->pid > 0) {
		/* A second to go by itself; its jobs stay in Slurm. */
		for (i = 0; i < 100; i++) {
			if (waitpid(x->pid, &st, WNOHANG) != 0)
				break;
			usleep(10000);
		}
		if (i == 100) {
			kill(x->pid, SIGKILL);
			waitpid(x->pid, &st, 0);
		}
	}
	xqueue_clear(x);
	free(x->out);
	while (x->nfl > 0)
		xflight_drop(x, &x->fl[x->nfl - 1]);
	free(x->fl);
	xupdates_free(x->upd, x->nupd);
	free(x->error);
	free(x->buf);
	free(x->worker);
	executor_def_free(&x->def);
	free(x);
}

/*
 * slurm-agent.c -- `meshd-worker --agent`: meshd's hands on Slurm.
 *
 * One process per Slurm executor, single-threaded, around poll() on
 * meshd's socket (slurm.h).  Messages from meshd only change the agent's
 * tables; the Slurm work (slurm-agent-job.c) runs between them, each
 * command bounded by cli_run(), and the socket is read again between
 * commands so that a CANCEL is never stuck behind a slow controller.
 *
 * The agent never cancels its jobs when it leaves (EXIT, end of file, or
 * meshd's death): the next agent adopts them.
 */
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor.h"
#include "taskfile.h"
#include "util.h"
#include "wire.h"
#include "slurm.h"
#include "slurm-int.h"
#include "slurm-agent.h"
#include "meshd/plugin.h"
#include "pilot.h"
#include "paths.h"		/* generated: BINDIR */

/* meshd always names the worker; BINDIR's is for a CONFIG without one. */

static void
agent_send(struct agent *ag, const struct sx_msg *m)
{
	struct wbuf	b;

	sx_encode(&b, m);
	if (wire_send(ag->fd, &b, 0) == -1) {
		/* meshd is gone: nothing left to report to. */
		if (!ag->exiting)
			fprintf(stderr, "slurm agent: send to meshd: %s\n",
			    strerror(errno));
		ag->exiting = 1;
	}
	wbuf_free(&b);
}

void
agent_update(struct agent *ag, struct att *t)
{
	struct sx_msg	m;

	memset(&m, 0, sizeof m);
	m.type = SX_UPDATE;
	m.attempt_id = t->id;
	m.ext_id = t->ext_id;
	m.ext_state = t->state;
	agent_send(ag, &m);
}

void
agent_done(struct agent *ag, struct att *t, int have_file,
    const char *reason, int retryable, int infra)
{
	struct sx_msg	m;

	if (t->done)
		return;
	memset(&m, 0, sizeof m);
	m.type = SX_DONE;
	m.attempt_id = t->id;
	m.have_file = have_file;
	m.status = have_file ? MESHD_OK : MESHD_FAILED;
	m.retryable = have_file ? 0 : retryable;
	m.infra = have_file ? 0 : infra;
	m.reason = have_file ? NULL : (char *)reason;
	m.ended_us = now_us();
	agent_send(ag, &m);
	t->done = 1;
	/* Room for a queued attempt held back by max_jobs. */
	ag->blocked = 0;
}

int
agent_has_file(const struct att *t, const char *name)
{
	struct stat	 sb;
	char		*p;
	int		 r;

	p = xasprintf("%s/%s", t->attempt_dir, name);
	r = stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
	free(p);
	return r;
}

int
agent_result_ready(struct att *t)
{
	struct task_result	*res = NULL;
	char			*path, *cause = NULL;
	int			 rc, stop = 0;

	if (!agent_has_file(t, TASKFILE_RESULT))
		return 0;
	if (t->cancel_why != NULL)
		return 1;	/* meshd's cancel: its why is the reason */
	path = taskfile_path(t->attempt_dir, TASKFILE_RESULT);
	rc = taskfile_read_result(path, t->id, &res, &cause);
	free(path);
	free(cause);
	if (rc == 1 && res->reason != NULL &&
	    strcmp(res->reason, TASKFILE_SLURM_STOP) == 0)
		stop = 1;
	task_result_free(res);
	/* A file meshd cannot read is passed on: it says what is wrong. */
	t->slurm_stop = stop;
	return !stop;
}

/* The controller's last error (NULL: it answered), for COUNTS. */
void
agent_error(struct agent *ag, const char *e)
{
	if (e == NULL) {
		free(ag->error);
		ag->error = NULL;
		ag->backoff_us = 0;
		ag->retry_at = 0;
		return;
	}
	if (ag->error == NULL || strcmp(ag->error, e) != 0)
		fprintf(stderr, "slurm agent %s: %s\n",
		    ag->def.name != NULL ? ag->def.name : "?", e);
	free(ag->error);
	ag->error = xstrdup(e);
}

/* 1 s, doubling to 30 s, until the controller answers again. */
void
agent_backoff(struct agent *ag)
{
	ag->backoff_us = ag->backoff_us == 0 ? 1000000 : ag->backoff_us * 2;
	if (ag->backoff_us > 30000000)
		ag->backoff_us = 30000000;
	ag->retry_at = mono_us() + ag->backoff_us;
}

int
agent_max_jobs(const struct agent *ag)
{
	return ag->def.max_jobs > 0 ? ag->def.max_jobs : 1000;
}

static struct att *
agent_find(struct agent *ag, int64_t id)
{
	size_t	i;

	for (i = 0; i < ag->n; i++)
		if (ag->a[i]->id == id && !ag->a[i]->done)
			return ag->a[i];
	return NULL;
}

static void
att_free(struct att *t)
{
	free(t->job_name);
	free(t->attempt_dir);
	free(t->job_id);
	free(t->ext_id);
	free(t->state);
	free(t->sreason);
	free(t->cancel_why);
	free(t->time_arg);
	free(t);
}

static struct att *
agent_add(struct agent *ag, const struct sx_msg *m)
{
	struct att	*t;

	if (agent_find(ag, m->attempt_id) != NULL) {
		fprintf(stderr, "slurm agent: attempt %lld given twice; the "
		    "second is ignored\n", (long long)m->attempt_id);
		return NULL;
	}
	t = xcalloc(1, sizeof *t);
	t->id = m->attempt_id;
	t->job_name = xstrdup(m->job_name);
	t->index = m->index;
	t->attempt_dir = xstrdup(m->attempt_dir);
	t->timeout_us = m->timeout_us;
	t->memory_mb = m->memory_mb;
	t->aidx = -1;
	if (ag->n == ag->cap) {
		ag->cap = ag->cap == 0 ? 64 : ag->cap * 2;
		ag->a = xreallocarray(ag->a, ag->cap, sizeof *ag->a);
	}
	ag->a[ag->n++] = t;
	return t;
}

/* sbatch, squeue and scancel must be there; say so once. */
static void
agent_check_path(struct agent *ag)
{
	static const char *const progs[] = { "sbatch", "squeue", "scancel" };
	const char	*path = getenv("PATH");
	char		*p;
	size_t		 i;

	free(ag->missing);
	ag->missing = NULL;
	for (i = 0; i < nitems(progs); i++) {
		if ((p = cli_which(progs[i])) != NULL) {
			free(p);
			continue;
		}
		ag->missing = xasprintf("%s: not found in PATH (PATH=%s)",
		    progs[i], path != NULL ? path : "");
		fprintf(stderr, "slurm agent %s: %s: every attempt on this "
		    "executor fails\n", ag->def.name != NULL ? ag->def.name :
		    "?", ag->missing);
		return;
	}
}

static void
agent_config(struct agent *ag, struct sx_msg *m)
{
	executor_def_free(&ag->def);
	ag->def = m->def;
	memset(&m->def, 0, sizeof m->def);
	ag->kill_grace_s = m->kill_grace_s;
	if (ag->def.spool_dir == NULL)
		ag->def.spool_dir = xstrdup("/tmp");
	if (ag->def.worker == NULL)
		ag->def.worker = xstrdup(BINDIR "/meshd-worker");
	if (ag->def.name == NULL)
		ag->def.name = xstrdup("slurm");
	ag->have_config = 1;
	agent_check_path(ag);
	pilot_config(ag);
}

static void
agent_message(struct agent *ag, const void *buf, size_t len)
{
	struct sx_msg	 m;
	struct att	*t;
	size_t		 i;

	if (sx_decode(buf, len, &m) != 0) {
		fprintf(stderr, "slurm agent: malformed message from meshd "
		    "(type %u, %zu bytes) ignored\n", m.type, len);
		sx_msg_free(&m);
		return;
	}
	switch (m.type) {
	case SX_CONFIG:
		agent_config(ag, &m);
		break;
	case SX_SUBMIT:
		if ((t = agent_add(ag, &m)) == NULL)
			break;
		if (!ag->have_config)
			agent_done(ag, t, 0, "slurm agent: SUBMIT before "
			    "CONFIG", 0, 0);
		else if (ag->missing != NULL)
			agent_done(ag, t, 0, ag->missing, 0, 0);
		break;
	case SX_FLUSH:
		for (i = 0; i < ag->n; i++)
			if (ag->a[i]->st == AT_QUEUED)
				ag->a[i]->flushed = 1;
		break;
	case SX_ADOPT:
		if ((t = agent_add(ag, &m)) == NULL)
			break;
		t->adopted = 1;
		t->flushed = 1;
		if (ag->def.mode == XMODE_PILOT) {
			/* The pilot that took it, if meshd heard of one. */
			t->ext_id = xstrdup_null(m.ext_id);
			pilot_adopt(ag, t);
		}
		else if (m.ext_id != NULL &&
		    sq_parse_ext_id(m.ext_id, &t->job_id, &t->aidx) == 0) {
			struct sb_task	 k;
			k.attempt_dir = t->attempt_dir;
			k.timeout_us = t->timeout_us;
			k.memory_mb = t->memory_mb;
			t->st = AT_SUBMITTED;
			t->ext_id = xstrdup(m.ext_id);
			t->time_arg = sb_time_arg(&ag->def, ag->kill_grace_s,
			    &k, 1);
			t->mem_mb = sb_mem_mb(&k, 1);
			ag->next_poll = 0;	/* poll it now */
		} else
			t->st = AT_LOOKUP;
		break;
	case SX_CANCEL:
		if ((t = agent_find(ag, m.attempt_id)) == NULL)
			break;
		if (t->cancel_why == NULL)
			t->cancel_why = xstrdup(m.why != NULL ? m.why :
			    "cancelled");
		/* Not sent yet: ends now.  An sbatch that may have
		 * worked (verify) is looked up first: its job would run
		 * unwatched. */
		if (t->st == AT_QUEUED && !t->verify)
			agent_done(ag, t, 0, t->cancel_why, 0, 0);
		else if (t->st == AT_PILOT)
			pilot_cancel(ag, t);
		break;
	case SX_EXIT:
		ag->exiting = 1;
		break;
	default:
		fprintf(stderr, "slurm agent: message type %u is not for "
		    "the agent; ignored\n", m.type);
		break;
	}
	sx_msg_free(&m);
}

/* Read every message waiting on meshd's socket. */
void
agent_drain(struct agent *ag)
{
	ssize_t	n;

	while (!ag->exiting) {
		n = wire_recv(ag->fd, ag->buf, 1);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (n == -1 && errno == EMSGSIZE) {
			fprintf(stderr, "slurm agent: oversized message from "
			    "meshd ignored\n");
			continue;
		}
		if (n <= 0) {
			/* End of file or a broken socket: meshd is gone. */
			ag->exiting = 1;
			return;
		}
		agent_message(ag, ag->buf, (size_t)n);
	}
}

static void
agent_counts(struct agent *ag)
{
	struct sx_msg	 m;
	size_t		 i;
	int		 q = 0, r = 0, p, pb;
	struct att	*t;

	for (i = 0; i < ag->n; i++) {
		t = ag->a[i];
		if (t->done)
			continue;
		if (t->st == AT_QUEUED || t->st == AT_LOOKUP ||
		    t->state == NULL || sq_classify(t->state) == SQ_PENDING)
			q++;
		else if (sq_classify(t->state) == SQ_RUNNING)
			r++;
	}
	p = (int)ag->npj;
	pb = ag->pool != NULL ? pilot_pool_busy(ag->pool) : 0;
	if (ag->c_sent && q == ag->c_queued && r == ag->c_running &&
	    p == ag->c_pilots && pb == ag->c_busy &&
	    ((ag->error == NULL && ag->c_error == NULL) ||
	    (ag->error != NULL && ag->c_error != NULL &&
	    strcmp(ag->error, ag->c_error) == 0)))
		return;
	memset(&m, 0, sizeof m);
	m.type = SX_COUNTS;
	m.queued = q;
	m.running = r;
	m.pilots = p;
	m.pilots_busy = pb;
	m.error = ag->error;
	agent_send(ag, &m);
	ag->c_sent = 1;
	ag->c_queued = q;
	ag->c_running = r;
	ag->c_pilots = p;
	ag->c_busy = pb;
	free(ag->c_error);
	ag->c_error = xstrdup_null(ag->error);
}

/* Drop the attempts that ended. */
static void
agent_reap(struct agent *ag)
{
	size_t	i, k = 0;

	for (i = 0; i < ag->n; i++) {
		if (ag->a[i]->done)
			att_free(ag->a[i]);
		else
			ag->a[k++] = ag->a[i];
	}
	ag->n = k;
}

static int
agent_has(const struct agent *ag, int st, int flushed)
{
	size_t	i;

	for (i = 0; i < ag->n; i++)
		if (!ag->a[i]->done && ag->a[i]->st == st &&
		    (!flushed || ag->a[i]->flushed))
			return 1;
	return 0;
}

/* The Slurm work of one turn of the loop. */
static void
agent_step(struct agent *ag)
{
	int64_t	now = mono_us();

	if (!ag->have_config)
		return;
	job_cancels(ag);
	if (ag->def.mode == XMODE_PILOT)
		pilot_step(ag);
	else if (now >= ag->retry_at) {
		job_lookups(ag);
		job_submit(ag);
	}
	if ((agent_has(ag, AT_SUBMITTED, 0) || ag->npj > 0) &&
	    mono_us() >= ag->next_poll) {
		job_poll(ag);
		ag->next_poll = mono_us() + (int64_t)(ag->def.poll_ms > 0 ?
		    ag->def.poll_ms : 1000) * 1000;
	}
	agent_counts(ag);
	agent_reap(ag);
}

/* How long poll() may sleep: until the next squeue or retry. */
static int
agent_timeout(struct agent *ag)
{
	int64_t	now = mono_us(), at = -1;

	if (!ag->have_config)
		return -1;
	if (agent_has(ag, AT_SUBMITTED, 0) || ag->npj > 0)
		at = ag->next_poll;
	/* Queued attempts held back by max_jobs wait for the poll that
	 * ends a job, not for a retry: no busy loop. */
	if (agent_has(ag, AT_LOOKUP, 0) ||
	    (!ag->blocked && agent_has(ag, AT_QUEUED, 1))) {
		if (at == -1 || ag->retry_at < at)
			at = ag->retry_at;
	}
	if (at == -1)
		return -1;
	if (at <= now)
		return 0;
	return (int)((at - now + 999) / 1000);
}

/* meshd's socket and the pilot pool's, at most this many. */
#define AGENT_POLLFDS	2048

int
slurm_agent_main(int fd)
{
	struct agent	 ag;
	struct pollfd	*pfd;
	size_t		 i, np;
	int64_t		 next;
	int		 timeout, t;

	/* Die with meshd; the Slurm jobs live on and are adopted. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return 0;
	signal(SIGPIPE, SIG_IGN);
	memset(&ag, 0, sizeof ag);
	ag.fd = fd;
	ag.buf = xmalloc(WIRE_MAX);
	pfd = xcalloc(AGENT_POLLFDS, sizeof *pfd);
	while (!ag.exiting) {
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		np = 1 + pilot_pollfds(&ag, pfd + 1, AGENT_POLLFDS - 1);
		timeout = agent_timeout(&ag);
		if ((next = pilot_tick(&ag)) > 0) {
			t = next <= mono_us() ? 0 :
			    (int)((next - mono_us() + 999) / 1000);
			if (timeout < 0 || t < timeout)
				timeout = t;
		}
		if (poll(pfd, np, timeout) == -1 && errno != EINTR) {
			fprintf(stderr, "slurm agent: poll: %s\n",
			    strerror(errno));
			break;
		}
		if (pfd[0].revents != 0)
			agent_drain(&ag);
		if (ag.exiting)
			break;
		pilot_handle(&ag, pfd + 1, np - 1);
		agent_step(&ag);
	}
	/* Pilots see their connection close and reconnect to the next
	 * agent, naming what they run. */
	pilot_free(&ag);
	free(pfd);
	for (i = 0; i < ag.n; i++)
		att_free(ag.a[i]);
	free(ag.a);
	free(ag.buf);
	free(ag.missing);
	free(ag.error);
	free(ag.c_error);
	executor_def_free(&ag.def);
	return 0;
}

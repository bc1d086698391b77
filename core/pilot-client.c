/*
 * pilot-client.c -- the pilot: `meshd-worker --pilot` (pilot.h).
 *
 * One process in a Slurm job: it connects to the pilot pool, proves it
 * knows the secret, and runs the tasks it is handed on a local pool
 * (executor.h) of `slots` workers, exactly as meshd's own pool runs them:
 * same loader, checks, limits, containment and outcome trailer in the log.
 * The pool is forked at the first task with the executor options of that
 * task's request; one pool serves every later task, so options that
 * differ in later requests (memory, log cap) are not applied.  All tasks
 * of one executor come from one meshd.conf, so they agree in practice.
 *
 * Every outcome goes to <attempt_dir>/result before the pool hears DONE,
 * so a lost connection loses nothing: the pilot keeps running its tasks,
 * writes their results, reconnects (backing off, for PILOT_CONNECT_S) and
 * names in its HELLO what it still runs and what finished meanwhile.
 *
 * One thread.  The executor's wait is the only blocking call; its wakeup
 * descriptor is an epoll set holding the socket and the signal pipe, so a
 * message or SIGTERM ends the wait at once.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../sdk/meshd/plugin.h"
#include "executor.h"
#include "log.h"
#include "pilot-proto.h"
#include "pilot.h"
#include "taskfile.h"
#include "util.h"

/* Why a task ends when Slurm stops the pilot (--time, scancel). */
#define PILOT_SIGTERM_WHY	"pilot stopped by Slurm (SIGTERM)"
/* Closes right after our HELLO before the pilot gives up: a pool that
 * refuses our secret says nothing, it hangs up. */
#define PILOT_REFUSALS_MAX	3

enum pc_state { PC_DOWN, PC_CONNECTING, PC_HELLO, PC_READY };

struct ptask {
	int64_t		 id;
	char		*dir;
	int		 finished;	/* result written, DONE not sent */
};

struct pclient {
	const char	*addr;
	char		*host;
	int		 port;
	unsigned char	*secret;
	size_t		 secretlen;
	const char	*job_id;
	int		 slots;

	enum pc_state	 state;
	struct pilot_io	 io;
	int		 want_out;	/* EPOLLOUT registered */
	int		 ep;		/* epoll: socket, signal pipe */
	int64_t		 down_since;	/* 0: never lost yet */
	int64_t		 next_try, backoff;
	int64_t		 next_hb;
	int64_t		 shake_deadline;	/* connect and CHALLENGE by */
	int		 welcomed, ever_ready, refusals, gave_up;
	int		 released, stopping;

	struct executor	*ex;
	struct ptask	*tasks;
	size_t		 ntasks;
};

static int	pc_sigpipe[2] = { -1, -1 };

static void
pc_on_signal(int sig)
{
	unsigned char	c = (unsigned char)sig;
	int		e = errno;

	if (write(pc_sigpipe[1], &c, 1) == -1) {
		/* full: a wakeup is pending anyway */
	}
	errno = e;
}

static void
pc_epoll(struct pclient *pc, int op, int fd, uint32_t events)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.fd = fd;
	epoll_ctl(pc->ep, op, fd, &ev);
}

static void
pc_send(struct pclient *pc, struct wbuf *b)
{
	char	*cause = NULL;

	if (pc->io.fd >= 0) {
		pilot_io_queue(&pc->io, b);
		if (pilot_io_flush(&pc->io, &cause) != 0)
			free(cause);	/* the read side notices */
		if (pilot_io_pending(&pc->io) && !pc->want_out) {
			pc_epoll(pc, EPOLL_CTL_MOD, pc->io.fd, EPOLLIN |
			    EPOLLOUT);
			pc->want_out = 1;
		}
	}
	wbuf_free(b);
}

static void
pc_lost(struct pclient *pc, const char *why, int64_t now)
{
	if (pc->state == PC_READY && !pc->welcomed) {
		log_warn("pilot %s: the pool at %s hung up after HELLO",
		    pc->job_id, pc->addr);
		if (++pc->refusals >= PILOT_REFUSALS_MAX) {
			log_error("pilot %s: the pool at %s refused each "
			    "HELLO (%d times): wrong secret?", pc->job_id,
			    pc->addr, pc->refusals);
			pc->gave_up = 1;
		}
	} else if (pc->state == PC_READY)
		log_warn("pilot %s: lost the pool at %s: %s; %zu task%s "
		    "running, reconnecting", pc->job_id, pc->addr, why,
		    pc->ntasks, pc->ntasks == 1 ? "" : "s");
	if ((pc->state == PC_READY && pc->welcomed) || pc->down_since == 0) {
		pc->down_since = now;
		pc->backoff = 100000;
	}
	/* A worker forked while the socket was open holds it for a
	 * moment: closing alone would leave it in the epoll set. */
	if (pc->io.fd >= 0)
		epoll_ctl(pc->ep, EPOLL_CTL_DEL, pc->io.fd, NULL);
	pilot_io_close(&pc->io);
	pc->want_out = 0;
	pc->welcomed = 0;
	pc->state = PC_DOWN;
	pc->next_try = now + pc->backoff;
	pc->backoff = pc->backoff * 2 > 5000000 ? 5000000 : pc->backoff * 2;
}

static void
pc_connect(struct pclient *pc, int64_t now)
{
	struct addrinfo	 hints, *res = NULL;
	char		 port[16];
	int		 fd, rc, one = 1;
	unsigned int	 user_timeout = PILOT_HEARTBEAT_S * 3 * 1000;

	snprintf(port, sizeof port, "%d", pc->port);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(pc->host, port, &hints, &res)) != 0) {
		log_warn("pilot %s: %s: %s", pc->job_id, pc->addr,
		    gai_strerror(rc));
		pc->state = PC_CONNECTING;
		pc_lost(pc, "cannot resolve", now);
		return;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, res->ai_protocol);
	if (fd == -1) {
		freeaddrinfo(res);
		pc->next_try = now + pc->backoff;
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* A pool whose host vanished never closes the connection: with
	 * heartbeats unacknowledged this long, the kernel does, and the
	 * pilot goes looking for the pool again. */
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
	    sizeof user_timeout);
	pilot_io_init(&pc->io, fd);
	rc = connect(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc == -1 && errno != EINPROGRESS) {
		pc->state = PC_CONNECTING;
		pc_lost(pc, strerror(errno), now);
		return;
	}
	pc->state = PC_CONNECTING;
	pc->shake_deadline = now + PILOT_HEARTBEAT_S * 1000000LL;
	pc_epoll(pc, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT);
	pc->want_out = 1;
}

static struct ptask *
pc_task(struct pclient *pc, int64_t id)
{
	size_t	i;

	for (i = 0; i < pc->ntasks; i++)
		if (pc->tasks[i].id == id)
			return &pc->tasks[i];
	return NULL;
}

static void
pc_task_remove(struct pclient *pc, struct ptask *t)
{
	free(t->dir);
	*t = pc->tasks[--pc->ntasks];
}

/* Write the result of `t`, then tell the pool (or keep it for HELLO). */
static void
pc_finish(struct pclient *pc, struct ptask *t, struct task_result *res)
{
	struct wbuf	 b;
	char		*path, *cause = NULL, *why = NULL;
	int		 have_file;

	path = taskfile_path(t->dir, TASKFILE_RESULT);
	have_file = taskfile_write_result(path, res, &cause) == 0;
	if (!have_file) {
		why = xasprintf("pilot %s: %s", pc->job_id, cause);
		log_error("%s", why);
	}
	free(cause);
	free(path);
	if (pc->state == PC_READY) {
		pilot_enc_done(&b, t->id, have_file, why);
		pc_send(pc, &b);
		pc_task_remove(pc, t);
	} else if (have_file)
		t->finished = 1;
	else
		pc_task_remove(pc, t);	/* the pool's adoption gives up */
	free(why);
}

/* An attempt that ends in the pilot without running: a result of ours. */
static void
pc_refuse(struct pclient *pc, struct ptask *t, const char *log_path,
    int attempt, int retryable, int infra, char *reason)
{
	struct task_result	r;

	memset(&r, 0, sizeof r);
	r.attempt_id = t->id;
	r.pid = getpid();
	r.status = MESHD_FAILED;
	r.retryable = retryable;
	r.infra = infra;
	r.reason = reason;
	r.started_us = r.ended_us = now_us();
	if (log_path != NULL)
		executor_log_outcome(log_path, attempt, &r);
	pc_finish(pc, t, &r);
	free(reason);
}

static void
pc_start(struct pclient *pc, int64_t id, const char *dir)
{
	struct executor_opts	 opts;
	struct wire_task	 wt;
	struct task_req		 req;
	struct ptask		*t;
	struct wbuf		 b;
	char			*path, *cause = NULL;
	int			 rc;

	if (pc_task(pc, id) != NULL)
		return;		/* a second TASK for it: it runs already */
	pc->tasks = xreallocarray(pc->tasks, pc->ntasks + 1,
	    sizeof *pc->tasks);
	t = &pc->tasks[pc->ntasks++];
	t->id = id;
	t->dir = xstrdup(dir);
	t->finished = 0;
	if (pc->stopping) {
		pc_refuse(pc, t, NULL, 0, 1, 0, xstrdup(PILOT_SIGTERM_WHY));
		return;
	}
	path = taskfile_path(dir, TASKFILE_REQUEST);
	rc = taskfile_read_request(path, &wt, &opts, &cause);
	free(path);
	if (rc != 0) {
		pc_refuse(pc, t, NULL, 0, 1, 1, xasprintf("pilot %s: %s",
		    pc->job_id, cause));
		free(cause);
		return;
	}
	if (wt.attempt_id != id) {
		pc_refuse(pc, t, NULL, 0, 0, 0, xasprintf("pilot %s: the "
		    "request in %s is for attempt %lld, not %lld", pc->job_id,
		    dir, (long long)wt.attempt_id, (long long)id));
		wire_task_free(&wt);
		return;
	}
	if (pc->ex == NULL) {
		opts.workers = pc->slots;
		if ((pc->ex = executor_new(&opts, &cause)) == NULL) {
			pc_refuse(pc, t, wt.log_path, wt.attempt, 1, 1,
			    xasprintf("pilot %s: cannot start its workers: "
			    "%s", pc->job_id, cause));
			free(cause);
			wire_task_free(&wt);
			return;
		}
		executor_set_wakeup(pc->ex, pc->ep);
	}
	taskfile_task_req(&wt, &req);
	if (executor_submit(pc->ex, &req, &cause) == -1) {
		pc_refuse(pc, t, wt.log_path, wt.attempt, 1, 0, xasprintf(
		    "pilot %s: %s (it has %d slots)", pc->job_id, cause,
		    pc->slots));
		free(cause);
		wire_task_free(&wt);
		return;
	}
	wire_task_free(&wt);
	pilot_enc_started(&b, id);
	pc_send(pc, &b);
}

static void
pc_hello(struct pclient *pc, const struct pilot_msg *m, int64_t now)
{
	unsigned char	 mac[PILOT_MAC_LEN];
	int64_t		*run, *fin;
	size_t		 i, nrun = 0, nfin = 0;
	struct wbuf	 b;

	run = xcalloc(pc->ntasks + 1, sizeof *run);
	fin = xcalloc(pc->ntasks + 1, sizeof *fin);
	for (i = 0; i < pc->ntasks; i++) {
		if (pc->tasks[i].finished)
			fin[nfin++] = pc->tasks[i].id;
		else
			run[nrun++] = pc->tasks[i].id;
	}
	pilot_mac(pc->secret, pc->secretlen, m->nonce, mac);
	pilot_enc_hello(&b, mac, pc->job_id, pc->slots, run, nrun, fin, nfin);
	OPENSSL_cleanse(mac, sizeof mac);
	pc_send(pc, &b);
	free(run);
	free(fin);
	/* Reported: their result files are the pool's to read now. */
	for (i = 0; i < pc->ntasks; i++) {
		if (pc->tasks[i].finished) {
			pc_task_remove(pc, &pc->tasks[i]);
			i--;
		}
	}
	pc->next_hb = now + 1000000;
}

/* One message from the pool. */
static void
pc_message(struct pclient *pc, const unsigned char *p, size_t n, int64_t now)
{
	struct pilot_msg	 m;
	char			*cause = NULL;

	if (pilot_decode(p, n, &m, &cause) != 0 ||
	    pilot_msg_from_pilot(m.type) ||
	    (pc->state == PC_HELLO) != (m.type == PX_CHALLENGE)) {
		log_error("pilot %s: the pool at %s sent %s%s", pc->job_id,
		    pc->addr, cause != NULL ? "a malformed message: " :
		    "an unexpected ", cause != NULL ? cause :
		    pilot_msg_name(m.type));
		free(cause);
		pilot_msg_free(&m);
		pc_lost(pc, "protocol error", now);
		return;
	}
	switch (m.type) {
	case PX_CHALLENGE:
		pc_hello(pc, &m, now);
		pc->state = PC_READY;
		break;
	case PX_WELCOME:
		log_info("pilot %s: %sconnected to %s, %d slot%s",
		    pc->job_id, pc->ever_ready ? "re" : "", pc->addr,
		    pc->slots, pc->slots == 1 ? "" : "s");
		pc->welcomed = pc->ever_ready = 1;
		pc->refusals = 0;
		break;
	case PX_TASK:
		pc_start(pc, m.attempt_id, m.attempt_dir);
		break;
	case PX_CANCEL:
		if (pc->ex != NULL)
			executor_cancel(pc->ex, m.attempt_id, m.why != NULL ?
			    m.why : "cancelled");
		break;
	case PX_RELEASE:
		pc->released = 1;
		break;
	}
	pilot_msg_free(&m);
}

static void
pc_socket(struct pclient *pc, uint32_t events, int64_t now)
{
	const unsigned char	*body;
	size_t			 len;
	socklen_t		 sl = sizeof(int);
	char			*cause = NULL;
	int			 err = 0, rc, eof;

	if (pc->state == PC_CONNECTING) {
		if (getsockopt(pc->io.fd, SOL_SOCKET, SO_ERROR, &err,
		    &sl) == -1)
			err = errno;
		if (err != 0) {
			pc_lost(pc, strerror(err), now);
			return;
		}
		pc->state = PC_HELLO;
	}
	if ((events & EPOLLOUT) && pilot_io_flush(&pc->io, &cause) != 0) {
		free(cause);
		cause = NULL;
	}
	if (pc->want_out && !pilot_io_pending(&pc->io)) {
		pc_epoll(pc, EPOLL_CTL_MOD, pc->io.fd, EPOLLIN);
		pc->want_out = 0;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	eof = pilot_io_read(&pc->io, &cause) != 0;
	while (pc->state != PC_DOWN && (rc = pilot_io_next(&pc->io, &body,
	    &len, &cause)) != 0) {
		if (rc == -1) {
			pc_lost(pc, cause, now);
			break;
		}
		pc_message(pc, body, len, now);
	}
	if (eof && pc->state != PC_DOWN)
		pc_lost(pc, cause != NULL ? cause : "connection closed", now);
	free(cause);
}

/* Ask every running task to stop; their results still come. */
static void
pc_stop(struct pclient *pc)
{
	size_t	i;

	pc->stopping = 1;
	log_warn("pilot %s: SIGTERM: stopping %zu task%s", pc->job_id,
	    pc->ntasks, pc->ntasks == 1 ? "" : "s");
	for (i = 0; i < pc->ntasks; i++)
		if (!pc->tasks[i].finished && pc->ex != NULL)
			executor_cancel(pc->ex, pc->tasks[i].id,
			    PILOT_SIGTERM_WHY);
}

static int
pc_running(const struct pclient *pc)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < pc->ntasks; i++)
		n += !pc->tasks[i].finished;
	return n;
}

/* Write out what is queued (DONE messages), for up to two seconds. */
static void
pc_drain(struct pclient *pc)
{
	struct pollfd	 pfd;
	int64_t		 end = mono_us() + 2000000;
	char		*cause = NULL;

	if (pc->state != PC_READY)
		return;
	while (pilot_io_pending(&pc->io) && mono_us() < end) {
		if (pilot_io_flush(&pc->io, &cause) != 0)
			break;
		pfd.fd = pc->io.fd;
		pfd.events = POLLOUT;
		poll(&pfd, 1, 100);
	}
	free(cause);
}

static int
pc_loop(struct pclient *pc)
{
	struct epoll_event	 evs[4];
	struct task_result	*res;
	struct ptask		*t;
	struct wbuf		 b;
	int64_t			 now, wake;
	int			 i, n, rc, timeout_ms;
	unsigned char		 buf[64];
	char			*cause = NULL;

	for (;;) {
		now = mono_us();
		if (pc->state == PC_DOWN && !pc->gave_up &&
		    pc->down_since != 0 &&
		    now - pc->down_since > PILOT_CONNECT_S * 1000000LL) {
			log_error("pilot %s: cannot reach the pool at %s for "
			    "%ds", pc->job_id, pc->addr, PILOT_CONNECT_S);
			pc->gave_up = 1;
		}
		if (pc_running(pc) == 0) {
			if (pc->stopping || pc->released) {
				pc_drain(pc);
				return 0;
			}
			if (pc->gave_up)
				return 1;
		}
		if ((pc->state == PC_CONNECTING || pc->state == PC_HELLO) &&
		    now >= pc->shake_deadline)
			pc_lost(pc, "no answer", now);
		if (pc->state == PC_DOWN && !pc->gave_up && now >=
		    pc->next_try) {
			if (pc->down_since == 0)
				pc->down_since = now;
			pc_connect(pc, now);
		}
		wake = now + 1000000;
		if (pc->state == PC_DOWN && !pc->gave_up && pc->next_try < wake)
			wake = pc->next_try;
		if (pc->state == PC_READY && pc->next_hb < wake)
			wake = pc->next_hb;
		if ((pc->state == PC_CONNECTING || pc->state == PC_HELLO) &&
		    pc->shake_deadline < wake)
			wake = pc->shake_deadline;
		timeout_ms = wake <= now ? 0 : (int)((wake - now + 999) / 1000);
		if (pc->ex != NULL) {
			rc = executor_wait(pc->ex, timeout_ms, &res, &cause);
			if (rc == -1) {
				log_error("pilot %s: %s", pc->job_id, cause);
				free(cause);
				return 1;
			}
			if (rc == 1) {
				if ((t = pc_task(pc, res->attempt_id)) != NULL)
					pc_finish(pc, t, res);
				task_result_free(res);
			}
			timeout_ms = 0;
		}
		n = epoll_wait(pc->ep, evs, (int)nitems(evs), timeout_ms);
		now = mono_us();
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == pc_sigpipe[0]) {
				while (read(pc_sigpipe[0], buf, sizeof buf) > 0)
					;
				if (!pc->stopping)
					pc_stop(pc);
			} else if (pc->io.fd >= 0 &&
			    evs[i].data.fd == pc->io.fd)
				pc_socket(pc, evs[i].events, now);
		}
		if (pc->state == PC_READY && now >= pc->next_hb) {
			pilot_enc_heartbeat(&b);
			pc_send(pc, &b);
			pc->next_hb = now + 1000000;
		}
	}
}

int
pilot_client_main(const char *connect, const char *secret_file, int slots)
{
	struct sigaction	 sa;
	struct pclient		 pc;
	const char		*job;
	char			*cause = NULL;
	size_t			 i;
	int			 rc;

	memset(&pc, 0, sizeof pc);
	pc.io.fd = -1;
	pc.ep = -1;
	if (slots < 1 || slots > PILOT_SLOTS_MAX) {
		fprintf(stderr, "meshd-worker: --slots %d: out of range 1..%d\n",
		    slots, PILOT_SLOTS_MAX);
		return 1;
	}
	if (pilot_split_addr(connect, &pc.host, &pc.port, &cause) != 0 ||
	    pilot_read_secret(secret_file, &pc.secret, &pc.secretlen,
	    &cause) != 0) {
		fprintf(stderr, "meshd-worker: %s\n", cause);
		free(cause);
		free(pc.host);
		return 1;
	}
	if (pc.port == 0) {
		fprintf(stderr, "meshd-worker: %s: port 0\n", connect);
		rc = 1;
		goto out;
	}
	pc.addr = connect;
	pc.slots = slots;
	job = getenv("SLURM_JOB_ID");
	pc.job_id = job != NULL && *job != '\0' &&
	    strlen(job) <= PILOT_JOBID_MAX ? job : "-";
	if (pipe2(pc_sigpipe, O_NONBLOCK | O_CLOEXEC) == -1 ||
	    (pc.ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		fprintf(stderr, "meshd-worker: %s\n", strerror(errno));
		rc = 1;
		goto out;
	}
	pc_epoll(&pc, EPOLL_CTL_ADD, pc_sigpipe[0], EPOLLIN);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = pc_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	pc.state = PC_DOWN;
	pc.backoff = 100000;
	rc = pc_loop(&pc);
out:
	if (pc.ex != NULL)
		executor_free(pc.ex);
	pilot_io_close(&pc.io);
	if (pc.ep != -1)
		close(pc.ep);
	for (i = 0; i < 2; i++) {
		if (pc_sigpipe[i] != -1)
			close(pc_sigpipe[i]);
		pc_sigpipe[i] = -1;
	}
	for (i = 0; i < pc.ntasks; i++)
		free(pc.tasks[i].dir);
	free(pc.tasks);
	if (pc.secret != NULL) {
		OPENSSL_cleanse(pc.secret, pc.secretlen);
		free(pc.secret);
	}
	free(pc.host);
	return rc;
}

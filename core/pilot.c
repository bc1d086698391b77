/*
 * pilot.c -- the pilot pool: the server end of pilot mode, in the Slurm
 * agent's process (pilot.h; the protocol is pilot-proto.h).
 *
 * Single-threaded and driven by its owner's poll loop: pilot_pool_pollfds()
 * and pilot_pool_handle() for the sockets, pilot_pool_tick() for time.
 * Every socket is non-blocking, so a pilot that stops reading can only fill
 * its own output buffer, never stall the agent.
 *
 * Attempts end through cb->done, exactly once each.  An attempt is taken
 * out of the pool's tables before its callback runs, so the callback may
 * submit or cancel others.  Connections are never freed inside a
 * callback's reach: one that must go is marked and reaped at the end of
 * pilot_pool_handle() or pilot_pool_tick().
 *
 * Whenever an attempt would end without a word from its pilot (the
 * connection was lost, the pilot fell silent, its Slurm job ended, an
 * adopted attempt nobody claimed), its result file is looked for first:
 * a pilot writes it before it says DONE, so a file there is the whole
 * outcome, and nothing that finished is run twice.
 *
 * Pilots that reconnect may name attempts the pool does not know yet:
 * the agent may send its adoptions after the first pilots are back.  The
 * pool holds those as orphans of the pilot (they take its slots) for
 * PILOT_ORPHAN_S, and attempts reported finished in a side list, so that
 * a later pilot_pool_adopt() finds them; orphans nobody adopts in time
 * are cancelled.
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "pilot-proto.h"
#include "pilot.h"
#include "taskfile.h"
#include "util.h"

/* Seconds a reconnected pilot's unknown attempts wait for an adoption. */
#define PILOT_ORPHAN_S		60
/* Connections at once, authenticated or not. */
#define PILOT_CONNS_MAX		1024
/* Finished attempts nobody has claimed, kept for a late adoption. */
#define PILOT_UNCLAIMED_MAX	4096

struct patt {
	int64_t		 id;
	char		*dir;
	uint64_t	 conn;		/* serial of its pilot; 0: adopting */
	int64_t		 deadline;	/* adopting: until then */
};

struct pconn {
	uint64_t	 serial;
	struct pilot_io	 io;
	char		*peer;		/* "127.0.0.1:5544" */
	int		 authed, released, dead;
	char		*dead_why;	/* its attempts end with this */
	unsigned char	 nonce[PILOT_NONCE_LEN];
	int64_t		 auth_deadline, last_rx, idle_since;
	char		*job_id;
	int		 slots;
	int		 nbusy;		/* attempts + orphans on it */
	int64_t		*orphans;
	size_t		 norphans;
	int64_t		 orphan_deadline;
	int		 orphans_cancelled;
};

struct pilot_pool {
	struct pilot_pool_cb	  cb;
	int			  pilots, slots, idle_s;
	unsigned char		 *secret;
	size_t			  secretlen;
	int			  lfd;
	char			 *addr;
	uint64_t		  serial;
	struct pconn		**conns;
	size_t			  nconns;
	struct patt		**atts;
	size_t			  natts;
	int64_t			  unclaimed[PILOT_UNCLAIMED_MAX];
	size_t			  nunclaimed, unclaimed_next;
};

static void	pool_frame(struct pilot_pool *, struct pconn *,
		    const unsigned char *, size_t, int64_t);

static struct patt *
att_find(struct pilot_pool *pp, int64_t id, size_t *idx)
{
	size_t	i;

	for (i = 0; i < pp->natts; i++) {
		if (pp->atts[i]->id == id) {
			if (idx != NULL)
				*idx = i;
			return pp->atts[i];
		}
	}
	return NULL;
}

/* Take attempt i out of the table; the caller frees it. */
static struct patt *
att_take(struct pilot_pool *pp, size_t i)
{
	struct patt	*a = pp->atts[i];

	pp->atts[i] = pp->atts[--pp->natts];
	return a;
}

static struct pconn *
conn_by_serial(struct pilot_pool *pp, uint64_t serial)
{
	size_t	i;

	for (i = 0; i < pp->nconns; i++)
		if (pp->conns[i]->serial == serial)
			return pp->conns[i];
	return NULL;
}

static const char *
conn_name(const struct pconn *c)
{
	return c->job_id != NULL ? c->job_id : "?";
}

static void
conn_unbusy(struct pconn *c, int64_t now)
{
	if (c->nbusy > 0 && --c->nbusy == 0)
		c->idle_since = now;
}

/* 1 if <dir>/result exists: the pilot wrote the whole outcome there. */
static int
has_result(const char *dir)
{
	struct stat	 sb;
	char		*path = taskfile_path(dir, TASKFILE_RESULT);
	int		 rc;

	rc = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
	free(path);
	return rc;
}

/* End attempt `a` (already out of the table) and free it. */
static void
att_end(struct pilot_pool *pp, struct patt *a, int have_file,
    const char *reason, int retryable)
{
	int64_t	id = a->id;

	if (!have_file && has_result(a->dir)) {
		have_file = 1;
		reason = NULL;
	}
	free(a->dir);
	free(a);
	if (pp->cb.done != NULL)
		pp->cb.done(pp->cb.arg, id, have_file, have_file ? NULL :
		    reason, have_file ? 0 : retryable);
}

static void
unclaimed_add(struct pilot_pool *pp, int64_t id)
{
	pp->unclaimed[pp->unclaimed_next] = id;
	pp->unclaimed_next = (pp->unclaimed_next + 1) % PILOT_UNCLAIMED_MAX;
	if (pp->nunclaimed < PILOT_UNCLAIMED_MAX)
		pp->nunclaimed++;
}

static int
unclaimed_take(struct pilot_pool *pp, int64_t id)
{
	size_t	i;

	for (i = 0; i < pp->nunclaimed; i++) {
		if (pp->unclaimed[i] == id) {
			pp->unclaimed[i] = 0;
			return 1;
		}
	}
	return 0;
}

static void
conn_send(struct pconn *c, struct wbuf *b)
{
	char	*cause = NULL;

	if (!c->dead) {
		pilot_io_queue(&c->io, b);
		if (pilot_io_flush(&c->io, &cause) != 0) {
			c->dead = 1;
			if (c->dead_why == NULL)
				c->dead_why = xasprintf("pilot %s lost its "
				    "connection", conn_name(c));
			free(cause);
		}
	}
	wbuf_free(b);
}

/* Mark a connection for the reaper; its attempts will end with `why`. */
static void
conn_kill(struct pconn *c, char *why)
{
	if (c->dead) {
		free(why);
		return;
	}
	c->dead = 1;
	free(c->dead_why);
	c->dead_why = why;
}

/* Close the dead connections and end their attempts. */
static void
pool_reap(struct pilot_pool *pp)
{
	struct pconn	*c;
	struct patt	*a;
	size_t		 i, j;
	char		*why;

	for (i = 0; i < pp->nconns; i++) {
		c = pp->conns[i];
		if (!c->dead)
			continue;
		pp->conns[i] = pp->conns[--pp->nconns];
		i--;
		if (c->authed)
			log_info("pilot %s (%s) gone: %s", conn_name(c),
			    c->peer, c->dead_why != NULL ? c->dead_why :
			    "closed");
		why = c->dead_why != NULL ? c->dead_why :
		    xasprintf("pilot %s lost its connection", conn_name(c));
		c->dead_why = NULL;
		for (j = 0; j < pp->natts; j++) {
			if (pp->atts[j]->conn != c->serial)
				continue;
			a = att_take(pp, j);
			j = (size_t)-1;	/* the callback may change the table */
			att_end(pp, a, 0, why, 1);
		}
		free(why);
		pilot_io_close(&c->io);
		free(c->peer);
		free(c->job_id);
		free(c->orphans);
		free(c);
	}
}

static void
pool_accept(struct pilot_pool *pp, int64_t now)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct pconn		*c;
	struct wbuf		 b;
	char			 h[NI_MAXHOST], s[NI_MAXSERV];
	int			 fd, one = 1;

	for (;;) {
		sl = sizeof ss;
		fd = accept4(pp->lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("pilot pool %s: accept: %s", pp->addr,
				    strerror(errno));
			return;
		}
		if (pp->nconns >= PILOT_CONNS_MAX) {
			log_warn("pilot pool %s: %d connections already, "
			    "refusing one more", pp->addr, PILOT_CONNS_MAX);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c = xcalloc(1, sizeof *c);
		c->serial = ++pp->serial;
		pilot_io_init(&c->io, fd);
		if (getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, s,
		    sizeof s, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			c->peer = xstrdup("?");
		else if (ss.ss_family == AF_INET6)
			c->peer = xasprintf("[%s]:%s", h, s);
		else
			c->peer = xasprintf("%s:%s", h, s);
		c->auth_deadline = now + PILOT_AUTH_S * 1000000LL;
		c->last_rx = c->idle_since = now;
		if (getrandom(c->nonce, sizeof c->nonce, 0) !=
		    (ssize_t)sizeof c->nonce) {
			log_error("pilot pool %s: getrandom: %s", pp->addr,
			    strerror(errno));
			pilot_io_close(&c->io);
			free(c->peer);
			free(c);
			continue;
		}
		pp->conns = xreallocarray(pp->conns, pp->nconns + 1,
		    sizeof *pp->conns);
		pp->conns[pp->nconns++] = c;
		pilot_enc_challenge(&b, c->nonce);
		conn_send(c, &b);
	}
}

/* A HELLO on an unauthenticated connection. */
static void
pool_hello(struct pilot_pool *pp, struct pconn *c, struct pilot_msg *m,
    int64_t now)
{
	struct patt	*a;
	struct pconn	*old;
	struct wbuf	 b;
	size_t		 i, idx;
	int64_t		 id;

	if (!pilot_mac_ok(pp->secret, pp->secretlen, c->nonce, m->mac)) {
		log_warn("pilot from %s refused: wrong secret", c->peer);
		conn_kill(c, NULL);
		return;
	}
	c->authed = 1;
	pilot_enc_welcome(&b);
	conn_send(c, &b);
	c->job_id = m->job_id;
	m->job_id = NULL;
	c->slots = m->slots;
	c->idle_since = now;
	log_info("pilot %s from %s connected: %d slot%s, %zu running, %zu "
	    "finished while away", c->job_id, c->peer, c->slots,
	    c->slots == 1 ? "" : "s", m->nrunning, m->nfinished);
	for (i = 0; i < m->nrunning; i++) {
		id = m->running[i];
		c->nbusy++;
		if ((a = att_find(pp, id, NULL)) == NULL) {
			c->orphans = xreallocarray(c->orphans, c->norphans + 1,
			    sizeof *c->orphans);
			c->orphans[c->norphans++] = id;
			c->orphan_deadline = now + PILOT_ORPHAN_S * 1000000LL;
			continue;
		}
		/* Adopted, or still on the old connection of this pilot
		 * that the pool has not seen close yet. */
		if (a->conn != 0 && (old = conn_by_serial(pp, a->conn)) !=
		    NULL)
			conn_unbusy(old, now);
		a->conn = c->serial;
		a->deadline = 0;
		if (pp->cb.started != NULL)
			pp->cb.started(pp->cb.arg, id, c->job_id);
	}
	for (i = 0; i < m->nfinished; i++) {
		id = m->finished[i];
		if ((a = att_find(pp, id, &idx)) == NULL) {
			unclaimed_add(pp, id);
			continue;
		}
		if (a->conn != 0 && (old = conn_by_serial(pp, a->conn)) !=
		    NULL)
			conn_unbusy(old, now);
		att_end(pp, att_take(pp, idx), 1, NULL, 0);
	}
}

static void
pool_done(struct pilot_pool *pp, struct pconn *c, struct pilot_msg *m,
    int64_t now)
{
	struct patt	*a;
	size_t		 i, idx;

	for (i = 0; i < c->norphans; i++) {
		if (c->orphans[i] == m->attempt_id) {
			c->orphans[i] = c->orphans[--c->norphans];
			conn_unbusy(c, now);
			if (m->have_file)
				unclaimed_add(pp, m->attempt_id);
			return;
		}
	}
	if ((a = att_find(pp, m->attempt_id, &idx)) == NULL ||
	    a->conn != c->serial) {
		log_debug("pilot %s: DONE for attempt %lld it was not given",
		    conn_name(c), (long long)m->attempt_id);
		return;
	}
	conn_unbusy(c, now);
	att_end(pp, att_take(pp, idx), m->have_file, m->why, 1);
}

static void
pool_frame(struct pilot_pool *pp, struct pconn *c, const unsigned char *p,
    size_t n, int64_t now)
{
	struct pilot_msg	 m;
	struct patt		*a;
	char			*cause = NULL;

	if (pilot_decode(p, n, &m, &cause) != 0) {
		log_warn("pilot %s from %s sent a malformed message: %s",
		    c->authed ? conn_name(c) : "(unauthenticated)", c->peer,
		    cause);
		conn_kill(c, xasprintf("pilot %s sent a malformed message: "
		    "%s", conn_name(c), cause));
		free(cause);
		return;
	}
	c->last_rx = now;
	if (!pilot_msg_from_pilot(m.type) ||
	    (!c->authed && m.type != PX_HELLO) ||
	    (c->authed && m.type == PX_HELLO)) {
		log_warn("pilot %s from %s refused: unexpected %s",
		    c->authed ? conn_name(c) : "(unauthenticated)", c->peer,
		    pilot_msg_name(m.type));
		conn_kill(c, xasprintf("pilot %s sent an unexpected %s",
		    conn_name(c), pilot_msg_name(m.type)));
		pilot_msg_free(&m);
		return;
	}
	switch (m.type) {
	case PX_HELLO:
		pool_hello(pp, c, &m, now);
		break;
	case PX_STARTED:
		a = att_find(pp, m.attempt_id, NULL);
		if (a != NULL && a->conn == c->serial && pp->cb.started != NULL)
			pp->cb.started(pp->cb.arg, m.attempt_id, c->job_id);
		break;
	case PX_DONE:
		pool_done(pp, c, &m, now);
		break;
	}
	pilot_msg_free(&m);
}

/* Read what `c` sent and act on every whole frame. */
static void
conn_input(struct pilot_pool *pp, struct pconn *c, int64_t now)
{
	const unsigned char	*body;
	size_t			 len;
	char			*cause = NULL;
	int			 rc, eof;

	eof = pilot_io_read(&c->io, &cause) != 0;
	while (!c->dead && (rc = pilot_io_next(&c->io, &body, &len,
	    &cause)) != 0) {
		if (rc == -1) {
			log_warn("pilot %s from %s: %s", conn_name(c), c->peer,
			    cause);
			conn_kill(c, xasprintf("pilot %s sent a bad frame: %s",
			    conn_name(c), cause));
			break;
		}
		pool_frame(pp, c, body, len, now);
	}
	if (eof && !c->dead) {
		if (!c->authed)
			log_warn("pilot from %s refused: it closed the "
			    "connection before HELLO", c->peer);
		conn_kill(c, NULL);
	}
	free(cause);
}

static int
pool_listen(struct pilot_pool *pp, const char *listen_addr, char **cause)
{
	struct addrinfo		 hints, *res = NULL, *ai;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof ss;
	char			*host = NULL, port[16], s[NI_MAXSERV];
	int			 p, fd = -1, one = 1, rc, e = 0;

	if (pilot_split_addr(listen_addr, &host, &p, cause) != 0)
		return -1;
	snprintf(port, sizeof port, "%d", p);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(*host == '\0' ? NULL : host, port, &hints,
	    &res)) != 0) {
		set_cause(cause, "listen %s: %s", listen_addr,
		    gai_strerror(rc));
		free(host);
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 128) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		set_cause(cause, "listen %s: %s", listen_addr, strerror(e));
		free(host);
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, s, sizeof s,
	    NI_NUMERICSERV) != 0) {
		set_cause(cause, "listen %s: cannot read the port",
		    listen_addr);
		close(fd);
		free(host);
		return -1;
	}
	pp->lfd = fd;
	if (strchr(host, ':') != NULL)
		pp->addr = xasprintf("[%s]:%s", host, s);
	else
		pp->addr = xasprintf("%s:%s", host, s);
	free(host);
	return 0;
}

struct pilot_pool *
pilot_pool_new(const struct executor_def *def, const struct pilot_pool_cb *cb,
    char **cause)
{
	struct pilot_pool	*pp;

	if (def->secret_file == NULL) {
		set_cause(cause, "executor %s: pilot mode needs secret_file",
		    def->name != NULL ? def->name : "?");
		return NULL;
	}
	if (def->listen == NULL) {
		set_cause(cause, "executor %s: pilot mode needs listen "
		    "(host:port)", def->name != NULL ? def->name : "?");
		return NULL;
	}
	pp = xcalloc(1, sizeof *pp);
	pp->cb = *cb;
	pp->lfd = -1;
	pp->pilots = def->pilots > 0 ? def->pilots : 1;
	pp->slots = def->pilot_slots > 0 ? def->pilot_slots : 1;
	pp->idle_s = def->pilot_idle_s > 0 ? def->pilot_idle_s : 60;
	if (pilot_read_secret(def->secret_file, &pp->secret, &pp->secretlen,
	    cause) != 0 || pool_listen(pp, def->listen, cause) != 0) {
		pilot_pool_free(pp);
		return NULL;
	}
	return pp;
}

const char *
pilot_pool_address(const struct pilot_pool *pp)
{
	return pp->addr;
}

size_t
pilot_pool_pollfds(struct pilot_pool *pp, struct pollfd *pfd, size_t max)
{
	size_t	i, n = 0;

	if (max == 0)
		return 0;
	pfd[n].fd = pp->lfd;
	pfd[n].events = POLLIN;
	pfd[n++].revents = 0;
	for (i = 0; i < pp->nconns && n < max; i++) {
		pfd[n].fd = pp->conns[i]->io.fd;
		pfd[n].events = POLLIN;
		if (pilot_io_pending(&pp->conns[i]->io))
			pfd[n].events |= POLLOUT;
		pfd[n++].revents = 0;
	}
	return n;
}

void
pilot_pool_handle(struct pilot_pool *pp, const struct pollfd *pfd, size_t n)
{
	struct pconn	*c;
	int64_t		 now = mono_us();
	size_t		 i, j;
	char		*cause = NULL;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0 || pfd[i].fd < 0)
			continue;
		if (pfd[i].fd == pp->lfd) {
			pool_accept(pp, now);
			continue;
		}
		c = NULL;
		for (j = 0; j < pp->nconns; j++) {
			if (pp->conns[j]->io.fd == pfd[i].fd) {
				c = pp->conns[j];
				break;
			}
		}
		if (c == NULL || c->dead)
			continue;
		if ((pfd[i].revents & POLLOUT) &&
		    pilot_io_flush(&c->io, &cause) != 0) {
			conn_kill(c, NULL);
			free(cause);
			cause = NULL;
			continue;
		}
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			conn_input(pp, c, now);
	}
	pool_reap(pp);
}

static int64_t
min_next(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

int64_t
pilot_pool_tick(struct pilot_pool *pp, int64_t now)
{
	struct pconn	*c;
	struct patt	*a;
	struct wbuf	 b;
	int64_t		 next = 0, hb = PILOT_HEARTBEAT_S * 1000000LL;
	size_t		 i, j;

	for (i = 0; i < pp->nconns; i++) {
		c = pp->conns[i];
		if (c->dead)
			continue;
		if (!c->authed) {
			if (now >= c->auth_deadline) {
				log_warn("pilot from %s refused: no HELLO "
				    "within %ds", c->peer, PILOT_AUTH_S);
				conn_kill(c, NULL);
			} else
				next = min_next(next, c->auth_deadline);
			continue;
		}
		/* A stall of ours (a hung Slurm command) is not the
		 * pilot's silence: read what it sent before judging. */
		if (now - c->last_rx >= hb)
			conn_input(pp, c, now - hb + 1);
		if (c->dead)
			continue;
		if (now - c->last_rx >= hb) {
			log_warn("pilot %s (%s) stopped answering",
			    conn_name(c), c->peer);
			conn_kill(c, xasprintf("pilot %s stopped answering "
			    "(no heartbeat for %ds)", conn_name(c),
			    PILOT_HEARTBEAT_S));
			continue;
		}
		next = min_next(next, c->last_rx + hb);
		if (c->norphans > 0 && !c->orphans_cancelled) {
			if (now >= c->orphan_deadline) {
				for (j = 0; j < c->norphans; j++) {
					pilot_enc_cancel(&b, c->orphans[j],
					    "not known to meshd (not adopted)");
					conn_send(c, &b);
				}
				c->orphans_cancelled = 1;
			} else
				next = min_next(next, c->orphan_deadline);
		}
		if (!c->released && c->nbusy == 0) {
			if (now - c->idle_since >= pp->idle_s * 1000000LL) {
				log_info("pilot %s idle for %ds: released",
				    conn_name(c), pp->idle_s);
				pilot_enc_release(&b);
				conn_send(c, &b);
				c->released = 1;
			} else
				next = min_next(next, c->idle_since +
				    pp->idle_s * 1000000LL);
		}
	}
	for (i = 0; i < pp->natts; i++) {
		a = pp->atts[i];
		if (a->conn != 0)
			continue;
		if (now < a->deadline) {
			next = min_next(next, a->deadline);
			continue;
		}
		att_end(pp, att_take(pp, i), 0, "lost with its pilot", 1);
		i = (size_t)-1;
	}
	pool_reap(pp);
	return next;
}

int
pilot_pool_submit(struct pilot_pool *pp, int64_t attempt_id,
    const char *attempt_dir)
{
	struct pconn	*c, *best = NULL;
	struct patt	*a;
	struct wbuf	 b;
	size_t		 i;
	int		 free_best = 0;

	for (i = 0; i < pp->nconns; i++) {
		c = pp->conns[i];
		if (!c->authed || c->released || c->dead ||
		    c->slots - c->nbusy <= free_best)
			continue;
		best = c;
		free_best = c->slots - c->nbusy;
	}
	if (best == NULL)
		return -1;
	a = xcalloc(1, sizeof *a);
	a->id = attempt_id;
	a->dir = xstrdup(attempt_dir);
	a->conn = best->serial;
	pp->atts = xreallocarray(pp->atts, pp->natts + 1, sizeof *pp->atts);
	pp->atts[pp->natts++] = a;
	best->nbusy++;
	pilot_enc_task(&b, attempt_id, attempt_dir);
	conn_send(best, &b);
	return 0;
}

int
pilot_pool_cancel(struct pilot_pool *pp, int64_t attempt_id, const char *why)
{
	struct patt	*a;
	struct pconn	*c;
	struct wbuf	 b;
	size_t		 idx;

	if ((a = att_find(pp, attempt_id, &idx)) == NULL)
		return -1;
	if (a->conn == 0 || (c = conn_by_serial(pp, a->conn)) == NULL ||
	    c->dead) {
		/* Nobody runs it that we can reach. */
		att_end(pp, att_take(pp, idx), 0, why, 0);
		return 0;
	}
	pilot_enc_cancel(&b, attempt_id, why);
	conn_send(c, &b);
	return 0;
}

void
pilot_pool_adopt(struct pilot_pool *pp, int64_t attempt_id,
    const char *attempt_dir, int64_t deadline)
{
	struct pconn	*c;
	struct patt	*a;
	size_t		 i, j;

	if (att_find(pp, attempt_id, NULL) != NULL)
		return;
	a = xcalloc(1, sizeof *a);
	a->id = attempt_id;
	a->dir = xstrdup(attempt_dir);
	a->deadline = deadline;
	/* Finished while nobody knew it: its result file is the outcome. */
	if (unclaimed_take(pp, attempt_id)) {
		att_end(pp, a, 1, NULL, 0);
		return;
	}
	pp->atts = xreallocarray(pp->atts, pp->natts + 1, sizeof *pp->atts);
	pp->atts[pp->natts++] = a;
	/* A pilot that came back before the adoption named it already. */
	for (i = 0; i < pp->nconns; i++) {
		c = pp->conns[i];
		for (j = 0; j < c->norphans && !c->dead; j++) {
			if (c->orphans[j] != attempt_id)
				continue;
			c->orphans[j] = c->orphans[--c->norphans];
			a->conn = c->serial;
			a->deadline = 0;
			if (pp->cb.started != NULL)
				pp->cb.started(pp->cb.arg, attempt_id,
				    c->job_id);
			return;
		}
	}
}

int
pilot_pool_free_slots(const struct pilot_pool *pp)
{
	const struct pconn	*c;
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < pp->nconns; i++) {
		c = pp->conns[i];
		if (c->authed && !c->released && !c->dead && c->slots > c->nbusy)
			n += c->slots - c->nbusy;
	}
	return n;
}

int
pilot_pool_connected(const struct pilot_pool *pp)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < pp->nconns; i++)
		n += pp->conns[i]->authed && !pp->conns[i]->released &&
		    !pp->conns[i]->dead;
	return n;
}

int
pilot_pool_busy(const struct pilot_pool *pp)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < pp->natts; i++)
		n += pp->atts[i]->conn != 0;
	return n;
}

int
pilot_pool_wanted(const struct pilot_pool *pp, int queued, int pending)
{
	int	room, need;

	if (queued <= 0)
		return 0;
	room = pp->pilots - pilot_pool_connected(pp) - pending;
	/* Pilots on their way will take slots too. */
	need = (queued + pp->slots - 1) / pp->slots - pending;
	if (need < room)
		room = need;
	return room > 0 ? room : 0;
}

void
pilot_pool_job_ended(struct pilot_pool *pp, const char *job_id,
    const char *why)
{
	struct pconn	*c;
	size_t		 i;

	for (i = 0; i < pp->nconns; i++) {
		c = pp->conns[i];
		if (c->authed && c->job_id != NULL &&
		    strcmp(c->job_id, job_id) == 0)
			conn_kill(c, xstrdup(why));
	}
	pool_reap(pp);
}

void
pilot_pool_free(struct pilot_pool *pp)
{
	size_t	i;

	if (pp == NULL)
		return;
	for (i = 0; i < pp->nconns; i++) {
		pilot_io_close(&pp->conns[i]->io);
		free(pp->conns[i]->peer);
		free(pp->conns[i]->job_id);
		free(pp->conns[i]->dead_why);
		free(pp->conns[i]->orphans);
		free(pp->conns[i]);
	}
	free(pp->conns);
	for (i = 0; i < pp->natts; i++) {
		free(pp->atts[i]->dir);
		free(pp->atts[i]);
	}
	free(pp->atts);
	if (pp->lfd != -1)
		close(pp->lfd);
	free(pp->addr);
	if (pp->secret != NULL) {
		OPENSSL_cleanse(pp->secret, pp->secretlen);
		free(pp->secret);
	}
	free(pp);
}

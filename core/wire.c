/* wire.c -- message encoding for the executor's socketpairs. */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sdk/meshd/plugin.h"
#include "executor.h"
#include "util.h"
#include "wire.h"

#define WIRE_NULL_STR	0xffffffffu

static void
wbuf_put(struct wbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		while (b->len + n > b->cap)
			b->cap = b->cap == 0 ? 256 : b->cap * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
wbuf_init(struct wbuf *b, enum wire_type type)
{
	uint32_t	t = (uint32_t)type;

	memset(b, 0, sizeof *b);
	wbuf_put(b, &t, sizeof t);
}

void
wbuf_free(struct wbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

void
wbuf_i32(struct wbuf *b, int32_t v)
{
	wbuf_put(b, &v, sizeof v);
}

void
wbuf_i64(struct wbuf *b, int64_t v)
{
	wbuf_put(b, &v, sizeof v);
}

void
wbuf_f64(struct wbuf *b, double v)
{
	wbuf_put(b, &v, sizeof v);
}

void
wbuf_str(struct wbuf *b, const char *s, size_t max)
{
	uint32_t	n;
	size_t		len;

	if (s == NULL) {
		n = WIRE_NULL_STR;
		wbuf_put(b, &n, sizeof n);
		return;
	}
	len = strlen(s);
	if (max != 0 && len > max)
		len = max;
	if (len >= WIRE_NULL_STR)
		len = WIRE_NULL_STR - 1;
	n = (uint32_t)len;
	wbuf_put(b, &n, sizeof n);
	wbuf_put(b, s, len);
}

void
rbuf_init(struct rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

static int
rbuf_get(struct rbuf *r, void *out, size_t n)
{
	if (r->err || r->len - r->off < n) {
		r->err = 1;
		memset(out, 0, n);
		return -1;
	}
	memcpy(out, r->p + r->off, n);
	r->off += n;
	return 0;
}

int32_t
rbuf_i32(struct rbuf *r)
{
	int32_t	v;

	rbuf_get(r, &v, sizeof v);
	return v;
}

int64_t
rbuf_i64(struct rbuf *r)
{
	int64_t	v;

	rbuf_get(r, &v, sizeof v);
	return v;
}

double
rbuf_f64(struct rbuf *r)
{
	double	v;

	rbuf_get(r, &v, sizeof v);
	return v;
}

char *
rbuf_str(struct rbuf *r)
{
	uint32_t	 n;
	char		*s;

	if (rbuf_get(r, &n, sizeof n) != 0 || n == WIRE_NULL_STR)
		return NULL;
	if (r->len - r->off < n) {
		r->err = 1;
		return NULL;
	}
	s = xstrndup((const char *)r->p + r->off, n);
	r->off += n;
	return s;
}

int
wire_send(int fd, const struct wbuf *b, int nonblock)
{
	int	flags = MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0);
	ssize_t	n;

	if (b->len > WIRE_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	do
		n = send(fd, b->p, b->len, flags);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != b->len) {
		/* Cannot happen with SOCK_SEQPACKET; refuse to go on if it
		 * ever does rather than desynchronise. */
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
wire_send_fd(int fd, const struct wbuf *b, int passfd, int nonblock)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 ctl;
	struct msghdr	 msg;
	struct cmsghdr	*c;
	struct iovec	 iov;
	ssize_t		 n;

	if (b->len > WIRE_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	memset(&msg, 0, sizeof msg);
	memset(&ctl, 0, sizeof ctl);
	iov.iov_base = b->p;
	iov.iov_len = b->len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof ctl.buf;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passfd, sizeof passfd);
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL |
		    (nonblock ? MSG_DONTWAIT : 0));
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != b->len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
wire_send_heartbeat(int fd, uint64_t nonce, int64_t attempt_id,
    uint32_t seq)
{
	unsigned char	msg[WIRE_REPLY_HDR];
	uint32_t	type = WIRE_HEARTBEAT;
	ssize_t		n;

	memcpy(msg, &type, 4);
	memcpy(msg + 4, &nonce, 8);
	memcpy(msg + 12, &attempt_id, 8);
	memcpy(msg + 20, &seq, 4);
	do
		n = send(fd, msg, sizeof msg, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof msg ? 0 : -1;
}

ssize_t
wire_recv(int fd, void *buf, int nonblock)
{
	int	flags = MSG_TRUNC | (nonblock ? MSG_DONTWAIT : 0);
	ssize_t	n;

	do
		n = recv(fd, buf, WIRE_MAX, flags);
	while (n == -1 && errno == EINTR && nonblock);
	/* A blocking receive interrupted by a signal returns -1/EINTR so
	 * that the worker can notice SIGTERM while idle. */
	if (n > WIRE_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

ssize_t
wire_recv_fd(int fd, void *buf, int *passfd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	}		 ctl;
	struct msghdr	 msg;
	struct cmsghdr	*c;
	struct iovec	 iov;
	ssize_t		 n;
	size_t		 i, nfd;
	int		 one;

	*passfd = -1;
	memset(&msg, 0, sizeof msg);
	iov.iov_base = buf;
	iov.iov_len = WIRE_MAX;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof ctl.buf;
	n = recvmsg(fd, &msg, MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (n == -1)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&one, CMSG_DATA(c) + i * sizeof(int), sizeof one);
			if (*passfd == -1)
				*passfd = one;
			else
				close(one);
		}
	}
	if (n > WIRE_MAX || (msg.msg_flags & MSG_TRUNC)) {
		if (*passfd != -1)
			close(*passfd);
		*passfd = -1;
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

void
wire_reply_init(struct wbuf *b, enum wire_type type, uint64_t nonce,
    int64_t attempt_id, uint32_t seq)
{
	wbuf_init(b, type);
	wbuf_put(b, &nonce, sizeof nonce);
	wbuf_i64(b, attempt_id);
	wbuf_put(b, &seq, sizeof seq);
}

/* A string of at most WIRE_STR_MAX bytes; a longer one is an error. */
static char *
rbuf_str_bounded(struct rbuf *r, int *isnull)
{
	uint32_t	n;
	char		*s;

	*isnull = 0;
	if (rbuf_get(r, &n, sizeof n) != 0)
		return NULL;
	if (n == WIRE_NULL_STR) {
		*isnull = 1;
		return NULL;
	}
	if (n > WIRE_STR_MAX || r->len - r->off < n) {
		r->err = 1;
		return NULL;
	}
	s = xstrndup((const char *)r->p + r->off, n);
	r->off += n;
	return s;
}

int
wire_decode_reply(const void *p, size_t n, struct wire_reply *w)
{
	struct rbuf	r;
	int		isnull;

	memset(w, 0, sizeof *w);
	rbuf_init(&r, p, n);
	w->type = (uint32_t)rbuf_i32(&r);
	rbuf_get(&r, &w->nonce, sizeof w->nonce);
	w->attempt_id = rbuf_i64(&r);
	rbuf_get(&r, &w->seq, sizeof w->seq);
	if (r.err)
		goto bad;
	switch (w->type) {
	case WIRE_ACK:
		w->started_us = rbuf_i64(&r);
		break;
	case WIRE_HEARTBEAT:
		break;
	case WIRE_CHECK:
		w->name = rbuf_str_bounded(&r, &isnull);
		if (isnull)
			goto bad;
		w->severity = rbuf_i32(&r);
		w->passed = rbuf_i32(&r);
		w->value = rbuf_f64(&r);
		w->expectation = rbuf_str_bounded(&r, &isnull);
		w->recorded_us = rbuf_i64(&r);
		if (w->severity != MESHD_SEV_ERROR &&
		    w->severity != MESHD_SEV_WARN)
			goto bad;
		if (w->passed != 0 && w->passed != 1)
			goto bad;
		break;
	case WIRE_METRIC:
		w->name = rbuf_str_bounded(&r, &isnull);
		if (isnull)
			goto bad;
		w->value = rbuf_f64(&r);
		break;
	case WIRE_RESULT:
		w->status = rbuf_i32(&r);
		w->retryable = rbuf_i32(&r);
		w->infra = rbuf_i32(&r);
		w->reason = rbuf_str_bounded(&r, &isnull);
		w->message = rbuf_str_bounded(&r, &isnull);
		w->started_us = rbuf_i64(&r);
		w->ended_us = rbuf_i64(&r);
		if (w->status != MESHD_OK && w->status != MESHD_FAILED &&
		    w->status != MESHD_RETRY && w->status != MESHD_SKIPPED)
			goto bad;
		if ((w->retryable != 0 && w->retryable != 1) ||
		    (w->infra != 0 && w->infra != 1))
			goto bad;
		break;
	default:
		goto bad;
	}
	/* Exactly one message: a byte short or a byte over is a forgery
	 * or a bug, and either way nothing in it can be believed. */
	if (r.err || r.off != r.len)
		goto bad;
	return 0;
bad:
	wire_reply_free(w);
	return -1;
}

void
wire_reply_free(struct wire_reply *w)
{
	free(w->reason);
	free(w->message);
	free(w->name);
	free(w->expectation);
	memset(w, 0, sizeof *w);
}

void
wire_encode_task(struct wbuf *b, const struct task_req *req)
{
	const struct param	*p;
	size_t			 i, n;

	wbuf_init(b, WIRE_TASK);
	wbuf_i64(b, req->attempt_id);
	wbuf_str(b, req->job, 0);
	wbuf_str(b, req->task_id, 0);
	wbuf_str(b, req->plugin_path, 0);
	wbuf_i32(b, req->stage);
	wbuf_i32(b, req->attempt);
	wbuf_str(b, req->partition_key, 0);
	wbuf_i64(b, req->interval_start_us);
	wbuf_i64(b, req->interval_end_us);
	wbuf_str(b, req->staging_dir, 0);
	wbuf_str(b, req->attempt_dir, 0);
	wbuf_str(b, req->log_path, 0);
	wbuf_str(b, req->product, 0);
	wbuf_str(b, req->location, 0);
	wbuf_i64(b, req->timeout_us);
	n = req->params == NULL ? 0 : req->params->n;
	wbuf_i32(b, (int32_t)n);
	for (i = 0; i < n; i++) {
		p = &req->params->v[i];
		wbuf_str(b, p->key, 0);
		wbuf_i32(b, (int32_t)p->type);
		wbuf_i64(b, p->i);
		wbuf_f64(b, p->d);
		wbuf_str(b, p->s, 0);
	}
}

int
wire_decode_task(struct rbuf *r, struct wire_task *t)
{
	struct param	*p;
	int32_t		 n, type;
	int		 i;

	memset(t, 0, sizeof *t);
	t->attempt_id = rbuf_i64(r);
	t->job = rbuf_str(r);
	t->task_id = rbuf_str(r);
	t->plugin_path = rbuf_str(r);
	t->stage = rbuf_i32(r);
	t->attempt = rbuf_i32(r);
	t->partition_key = rbuf_str(r);
	t->interval_start_us = rbuf_i64(r);
	t->interval_end_us = rbuf_i64(r);
	t->staging_dir = rbuf_str(r);
	t->attempt_dir = rbuf_str(r);
	t->log_path = rbuf_str(r);
	t->product = rbuf_str(r);
	t->location = rbuf_str(r);
	t->timeout_us = rbuf_i64(r);
	n = rbuf_i32(r);
	/* Each parameter takes at least 28 bytes: bound n before trusting
	 * it with an allocation. */
	if (r->err || n < 0 || (size_t)n > (r->len - r->off) / 28)
		goto bad;
	t->params.v = xcalloc((size_t)n, sizeof *t->params.v);
	for (i = 0; i < n; i++) {
		p = &t->params.v[t->params.n++];
		p->key = rbuf_str(r);
		type = rbuf_i32(r);
		p->i = rbuf_i64(r);
		p->d = rbuf_f64(r);
		p->s = rbuf_str(r);
		if (type < PARAM_INT || type > PARAM_STRING || p->key == NULL)
			goto bad;
		p->type = (enum param_type)type;
	}
	if (r->err || t->plugin_path == NULL)
		goto bad;
	return 0;
bad:
	wire_task_free(t);
	return -1;
}

void
wire_task_free(struct wire_task *t)
{
	size_t	i;

	free(t->job);
	free(t->task_id);
	free(t->plugin_path);
	free(t->partition_key);
	free(t->staging_dir);
	free(t->attempt_dir);
	free(t->log_path);
	free(t->product);
	free(t->location);
	/* Freed here rather than with paramset_free(): the worker builds
	 * this set itself, field by field. */
	for (i = 0; i < t->params.n; i++) {
		free(t->params.v[i].key);
		free(t->params.v[i].s);
	}
	free(t->params.v);
	memset(t, 0, sizeof *t);
}

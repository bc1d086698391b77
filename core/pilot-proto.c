/*
 * pilot-proto.c -- the pilot protocol's codec, framing, buffers and
 * handshake (pilot-proto.h).  The decoder and the frame parser are pure,
 * so that tests/fuzz/fuzz-pilot-proto.c can feed them anything.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pilot-proto.h"
#include "util.h"

static void
enc_bytes32(struct wbuf *b, const unsigned char p[32])
{
	int64_t	v;
	int	i;

	for (i = 0; i < 4; i++) {
		memcpy(&v, p + i * 8, 8);
		wbuf_i64(b, v);
	}
}

static void
dec_bytes32(struct rbuf *r, unsigned char p[32])
{
	int64_t	v;
	int	i;

	for (i = 0; i < 4; i++) {
		v = rbuf_i64(r);
		memcpy(p + i * 8, &v, 8);
	}
}

void
pilot_enc_challenge(struct wbuf *b, const unsigned char nonce[PILOT_NONCE_LEN])
{
	wbuf_init(b, (enum wire_type)PX_CHALLENGE);
	wbuf_i32(b, PILOT_PROTO_MAGIC);
	wbuf_i32(b, PILOT_PROTO_VERSION);
	enc_bytes32(b, nonce);
}

void
pilot_enc_task(struct wbuf *b, int64_t attempt_id, const char *attempt_dir)
{
	wbuf_init(b, (enum wire_type)PX_TASK);
	wbuf_i64(b, attempt_id);
	wbuf_str(b, attempt_dir, 0);
}

void
pilot_enc_cancel(struct wbuf *b, int64_t attempt_id, const char *why)
{
	wbuf_init(b, (enum wire_type)PX_CANCEL);
	wbuf_i64(b, attempt_id);
	wbuf_str(b, why, WIRE_STR_MAX);
}

void
pilot_enc_release(struct wbuf *b)
{
	wbuf_init(b, (enum wire_type)PX_RELEASE);
}

void
pilot_enc_welcome(struct wbuf *b)
{
	wbuf_init(b, (enum wire_type)PX_WELCOME);
}

static void
enc_list(struct wbuf *b, const int64_t *v, size_t n)
{
	size_t	i;

	wbuf_i32(b, (int32_t)n);
	for (i = 0; i < n; i++)
		wbuf_i64(b, v[i]);
}

void
pilot_enc_hello(struct wbuf *b, const unsigned char mac[PILOT_MAC_LEN],
    const char *job_id, int slots, const int64_t *running, size_t nrunning,
    const int64_t *finished, size_t nfinished)
{
	wbuf_init(b, (enum wire_type)PX_HELLO);
	enc_bytes32(b, mac);
	wbuf_str(b, job_id, PILOT_JOBID_MAX);
	wbuf_i32(b, slots);
	enc_list(b, running, nrunning);
	enc_list(b, finished, nfinished);
}

void
pilot_enc_started(struct wbuf *b, int64_t attempt_id)
{
	wbuf_init(b, (enum wire_type)PX_STARTED);
	wbuf_i64(b, attempt_id);
}

void
pilot_enc_heartbeat(struct wbuf *b)
{
	wbuf_init(b, (enum wire_type)PX_HEARTBEAT);
}

void
pilot_enc_done(struct wbuf *b, int64_t attempt_id, int have_file,
    const char *reason)
{
	wbuf_init(b, (enum wire_type)PX_DONE);
	wbuf_i64(b, attempt_id);
	wbuf_i32(b, have_file);
	wbuf_str(b, reason, WIRE_STR_MAX);
}

const char *
pilot_msg_name(uint32_t type)
{
	switch (type) {
	case PX_CHALLENGE:	return "CHALLENGE";
	case PX_TASK:		return "TASK";
	case PX_CANCEL:		return "CANCEL";
	case PX_RELEASE:	return "RELEASE";
	case PX_WELCOME:	return "WELCOME";
	case PX_HELLO:		return "HELLO";
	case PX_STARTED:	return "STARTED";
	case PX_HEARTBEAT:	return "HEARTBEAT";
	case PX_DONE:		return "DONE";
	}
	return "?";
}

int
pilot_msg_from_pilot(uint32_t type)
{
	return type >= PX_HELLO && type <= PX_DONE;
}

void
pilot_msg_free(struct pilot_msg *m)
{
	free(m->attempt_dir);
	free(m->why);
	free(m->job_id);
	free(m->running);
	free(m->finished);
	memset(m, 0, sizeof *m);
}

/* A string that must be there, at most `max` bytes and without a NUL. */
static char *
dec_str(struct rbuf *r, size_t max, int required, const char *what,
    char **err)
{
	size_t	 off = r->off;
	char	*s;

	if (*err != NULL)
		return NULL;
	s = rbuf_str(r);
	if (r->err)
		return s;
	if (s == NULL) {
		if (required)
			*err = xasprintf("%s missing", what);
		return NULL;
	}
	if (strlen(s) != r->off - off - 4)
		*err = xasprintf("%s holds a NUL byte", what);
	else if (strlen(s) > max)
		*err = xasprintf("%s too long", what);
	else if (required && *s == '\0')
		*err = xasprintf("%s empty", what);
	return s;
}

static int64_t *
dec_list(struct rbuf *r, size_t *n, const char *what, char **err)
{
	uint32_t	 len;
	int64_t		*v;
	size_t		 i;

	*n = 0;
	if (*err != NULL)
		return NULL;
	len = (uint32_t)rbuf_i32(r);
	if (r->err)
		return NULL;
	if (len > PILOT_LIST_MAX) {
		*err = xasprintf("%s list of %u, over %d", what, len,
		    PILOT_LIST_MAX);
		return NULL;
	}
	/* Refuse a count the bytes left cannot hold before allocating. */
	if ((size_t)len * 8 > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	if (len == 0)
		return NULL;
	v = xcalloc(len, sizeof *v);
	for (i = 0; i < len; i++) {
		v[i] = rbuf_i64(r);
		if (v[i] <= 0 && *err == NULL)
			*err = xasprintf("%s list holds attempt %lld", what,
			    (long long)v[i]);
	}
	*n = len;
	return v;
}

int
pilot_decode(const void *p, size_t n, struct pilot_msg *m, char **cause)
{
	struct rbuf	 r;
	char		*err = NULL;
	int32_t		 magic;

	memset(m, 0, sizeof *m);
	rbuf_init(&r, p, n);
	m->type = (uint32_t)rbuf_i32(&r);
	if (r.err) {
		set_cause(cause, "message of %zu bytes has no type", n);
		return -1;
	}
	switch (m->type) {
	case PX_CHALLENGE:
		magic = rbuf_i32(&r);
		m->version = rbuf_i32(&r);
		dec_bytes32(&r, m->nonce);
		if (!r.err && magic != PILOT_PROTO_MAGIC)
			err = xstrdup("not a meshd pilot pool (wrong magic)");
		else if (!r.err && m->version != PILOT_PROTO_VERSION)
			err = xasprintf("protocol version %d, not %d",
			    m->version, PILOT_PROTO_VERSION);
		break;
	case PX_TASK:
		m->attempt_id = rbuf_i64(&r);
		m->attempt_dir = dec_str(&r, PILOT_PATH_MAX, 1,
		    "attempt directory", &err);
		break;
	case PX_CANCEL:
		m->attempt_id = rbuf_i64(&r);
		m->why = dec_str(&r, WIRE_STR_MAX, 0, "reason", &err);
		break;
	case PX_RELEASE:
	case PX_WELCOME:
	case PX_HEARTBEAT:
		break;
	case PX_HELLO:
		dec_bytes32(&r, m->mac);
		m->job_id = dec_str(&r, PILOT_JOBID_MAX, 1, "job id", &err);
		m->slots = rbuf_i32(&r);
		if (!r.err && err == NULL && (m->slots < 1 ||
		    m->slots > PILOT_SLOTS_MAX))
			err = xasprintf("slots %d out of range 1..%d",
			    m->slots, PILOT_SLOTS_MAX);
		m->running = dec_list(&r, &m->nrunning, "running", &err);
		m->finished = dec_list(&r, &m->nfinished, "finished", &err);
		break;
	case PX_STARTED:
		m->attempt_id = rbuf_i64(&r);
		break;
	case PX_DONE:
		m->attempt_id = rbuf_i64(&r);
		m->have_file = rbuf_i32(&r);
		m->why = dec_str(&r, WIRE_STR_MAX, 0, "reason", &err);
		if (!r.err && err == NULL && m->have_file != 0 &&
		    m->have_file != 1)
			err = xasprintf("have_file %d", m->have_file);
		if (!r.err && err == NULL && !m->have_file &&
		    m->why == NULL)
			err = xstrdup("no result file and no reason");
		break;
	default:
		set_cause(cause, "unknown message type %u", m->type);
		pilot_msg_free(m);
		return -1;
	}
	if (r.err) {
		set_cause(cause, "truncated %s", pilot_msg_name(m->type));
		goto bad;
	}
	if (err == NULL && (m->type == PX_TASK || m->type == PX_CANCEL ||
	    m->type == PX_STARTED || m->type == PX_DONE) && m->attempt_id <= 0)
		err = xasprintf("attempt id %lld", (long long)m->attempt_id);
	if (err != NULL) {
		set_cause(cause, "%s: %s", pilot_msg_name(m->type), err);
		goto bad;
	}
	if (r.off != r.len) {
		set_cause(cause, "%s with %zu bytes left over",
		    pilot_msg_name(m->type), r.len - r.off);
		goto bad;
	}
	return 0;
bad:
	free(err);
	pilot_msg_free(m);
	return -1;
}

int
pilot_frame_parse(const void *p, size_t len, size_t *body, size_t *body_len,
    char **cause)
{
	const unsigned char	*b = p;
	uint32_t		 n;

	if (len < 4)
		return 0;
	n = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | (uint32_t)b[3];
	if (n == 0 || n > PILOT_FRAME_MAX) {
		set_cause(cause, "frame of %u bytes (at most %d)", n,
		    PILOT_FRAME_MAX);
		return -1;
	}
	if (len - 4 < n)
		return 0;
	*body = 4;
	*body_len = n;
	return 1;
}

void
pilot_io_init(struct pilot_io *io, int fd)
{
	memset(io, 0, sizeof *io);
	io->fd = fd;
}

void
pilot_io_close(struct pilot_io *io)
{
	if (io->fd >= 0)
		close(io->fd);
	free(io->in);
	free(io->out);
	memset(io, 0, sizeof *io);
	io->fd = -1;
}

void
pilot_io_queue(struct pilot_io *io, const struct wbuf *b)
{
	size_t	need;

	/* Compact what was written already before growing. */
	if (io->outoff > 0) {
		memmove(io->out, io->out + io->outoff, io->outlen - io->outoff);
		io->outlen -= io->outoff;
		io->outoff = 0;
	}
	need = io->outlen + 4 + b->len;
	if (need > io->outcap) {
		while (need > io->outcap)
			io->outcap = io->outcap == 0 ? 4096 : io->outcap * 2;
		io->out = xrealloc(io->out, io->outcap);
	}
	io->out[io->outlen++] = (unsigned char)(b->len >> 24);
	io->out[io->outlen++] = (unsigned char)(b->len >> 16);
	io->out[io->outlen++] = (unsigned char)(b->len >> 8);
	io->out[io->outlen++] = (unsigned char)b->len;
	memcpy(io->out + io->outlen, b->p, b->len);
	io->outlen += b->len;
}

int
pilot_io_pending(const struct pilot_io *io)
{
	return io->outoff < io->outlen;
}

int
pilot_io_flush(struct pilot_io *io, char **cause)
{
	ssize_t	n;

	while (io->outoff < io->outlen) {
		n = send(io->fd, io->out + io->outoff, io->outlen - io->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			set_cause(cause, "send: %s", strerror(errno));
			return -1;
		}
		io->outoff += (size_t)n;
	}
	io->outoff = io->outlen = 0;
	return 0;
}

int
pilot_io_read(struct pilot_io *io, char **cause)
{
	ssize_t	n;

	for (;;) {
		if (io->inoff > 0 && io->inoff == io->inlen)
			io->inoff = io->inlen = 0;
		if (io->incap - io->inlen < 4096) {
			if (io->inoff > 0) {
				memmove(io->in, io->in + io->inoff,
				    io->inlen - io->inoff);
				io->inlen -= io->inoff;
				io->inoff = 0;
			}
			if (io->incap - io->inlen < 4096) {
				io->incap = io->incap == 0 ? 16384 :
				    io->incap * 2;
				io->in = xrealloc(io->in, io->incap);
			}
		}
		n = recv(io->fd, io->in + io->inlen, io->incap - io->inlen,
		    MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			set_cause(cause, "recv: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			set_cause(cause, "connection closed");
			return -1;
		}
		io->inlen += (size_t)n;
		/* Do not let a peer fill our memory: more than one frame's
		 * worth unread is the reader's problem, read it first. */
		if (io->inlen - io->inoff > PILOT_FRAME_MAX + 4)
			return 0;
	}
}

int
pilot_io_next(struct pilot_io *io, const unsigned char **body, size_t *len,
    char **cause)
{
	size_t	off, n;
	int	rc;

	rc = pilot_frame_parse(io->in + io->inoff, io->inlen - io->inoff, &off,
	    &n, cause);
	if (rc != 1)
		return rc;
	*body = io->in + io->inoff + off;
	*len = n;
	io->inoff += off + n;
	return 1;
}

int
pilot_read_secret(const char *path, unsigned char **secret, size_t *len,
    char **cause)
{
	struct stat	 sb;
	unsigned char	*buf = NULL;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		set_cause(cause, "secret file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		set_cause(cause, "secret file %s: %s", path, strerror(errno));
		goto bad;
	}
	if (!S_ISREG(sb.st_mode)) {
		set_cause(cause, "secret file %s: not a regular file", path);
		goto bad;
	}
	if ((sb.st_mode & 077) != 0) {
		set_cause(cause, "secret file %s: mode %04o lets group or "
		    "others at it (chmod 600 it)", path,
		    (unsigned)(sb.st_mode & 07777));
		goto bad;
	}
	if (sb.st_size > PILOT_SECRET_MAX) {
		set_cause(cause, "secret file %s: %lld bytes, over %d", path,
		    (long long)sb.st_size, PILOT_SECRET_MAX);
		goto bad;
	}
	buf = xmalloc(PILOT_SECRET_MAX + 1);
	while (got <= PILOT_SECRET_MAX) {
		n = read(fd, buf + got, PILOT_SECRET_MAX + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			set_cause(cause, "secret file %s: %s", path,
			    strerror(errno));
			goto bad;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > PILOT_SECRET_MAX) {
		set_cause(cause, "secret file %s: over %d bytes", path,
		    PILOT_SECRET_MAX);
		goto bad;
	}
	if (got > 0 && buf[got - 1] == '\n')
		got--;
	if (got > 0 && buf[got - 1] == '\r')
		got--;
	if (got == 0) {
		set_cause(cause, "secret file %s: empty", path);
		goto bad;
	}
	close(fd);
	*secret = buf;
	*len = got;
	return 0;
bad:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, PILOT_SECRET_MAX + 1);
		free(buf);
	}
	close(fd);
	return -1;
}

void
pilot_mac(const unsigned char *secret, size_t len,
    const unsigned char nonce[PILOT_NONCE_LEN], unsigned char mac[PILOT_MAC_LEN])
{
	unsigned int	n = PILOT_MAC_LEN;

	if (HMAC(EVP_sha256(), secret, (int)len, nonce, PILOT_NONCE_LEN, mac,
	    &n) == NULL || n != PILOT_MAC_LEN)
		memset(mac, 0, PILOT_MAC_LEN);	/* never matches a real one */
}

int
pilot_mac_ok(const unsigned char *secret, size_t len,
    const unsigned char nonce[PILOT_NONCE_LEN],
    const unsigned char mac[PILOT_MAC_LEN])
{
	unsigned char	want[PILOT_MAC_LEN], zero[PILOT_MAC_LEN];

	memset(zero, 0, sizeof zero);
	pilot_mac(secret, len, nonce, want);
	/* A failed HMAC() leaves zeros: refuse those outright. */
	if (CRYPTO_memcmp(want, zero, PILOT_MAC_LEN) == 0)
		return 0;
	return CRYPTO_memcmp(want, mac, PILOT_MAC_LEN) == 0;
}

int
pilot_split_addr(const char *addr, char **host, int *port, char **cause)
{
	const char	*colon;
	char		*end;
	long		 v;

	if (addr == NULL || (colon = strrchr(addr, ':')) == NULL ||
	    colon == addr) {
		set_cause(cause, "address %s: not host:port",
		    addr == NULL ? "(none)" : addr);
		return -1;
	}
	errno = 0;
	v = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || v < 0 ||
	    v > 65535) {
		set_cause(cause, "address %s: bad port", addr);
		return -1;
	}
	/* [::1]:7450 */
	if (addr[0] == '[' && colon[-1] == ']')
		*host = xstrndup(addr + 1, (size_t)(colon - addr - 2));
	else
		*host = xstrndup(addr, (size_t)(colon - addr));
	*port = (int)v;
	return 0;
}

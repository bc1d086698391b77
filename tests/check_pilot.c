/*
 * check_pilot.c -- unit tests of pilot mode: the protocol codec (every
 * message round-trips; every truncation, a byte too many, an oversize
 * frame and each out-of-range field are refused), the HMAC handshake and
 * the secret file, and the pool driven in-process against a fake pilot
 * on a real loopback socket: wrong secret refused, tasks, callbacks,
 * lost connections, Slurm job ends, adoption, heartbeats, idle release,
 * and the arithmetic of pilot_pool_wanted().  Time is passed to
 * pilot_pool_tick(), so the 10 s heartbeat is tested without waiting.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pilot-proto.h"
#include "pilot.h"
#include "taskfile.h"
#include "util.h"

static const unsigned char	 nonce0[32] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
	20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
};

/* Encode, decode, encode again: the same bytes, and every prefix and
 * a longer buffer refused. */
static void
roundtrip(struct wbuf *b, struct pilot_msg *m)
{
	struct pilot_msg	 m2;
	unsigned char		*big;
	char			*cause = NULL;
	size_t			 i;

	ck_assert_int_eq(pilot_decode(b->p, b->len, m, &cause), 0);
	ck_assert_ptr_null(cause);
	for (i = 0; i < b->len; i++) {
		ck_assert_msg(pilot_decode(b->p, i, &m2, &cause) == -1,
		    "%s cut at %zu of %zu bytes believed",
		    pilot_msg_name(m->type), i, b->len);
		ck_assert_ptr_nonnull(cause);
		ck_assert_ptr_null(m2.job_id);
		free(cause);
		cause = NULL;
	}
	big = xcalloc(1, b->len + 1);
	memcpy(big, b->p, b->len);
	ck_assert_int_eq(pilot_decode(big, b->len + 1, &m2, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "left over"));
	free(cause);
	free(big);
}

START_TEST(test_roundtrip)
{
	struct pilot_msg	m;
	struct wbuf		b;
	unsigned char		mac[32];
	int64_t			run[] = { 5, 6, 7 }, fin[] = { 9 };

	pilot_enc_challenge(&b, nonce0);
	roundtrip(&b, &m);
	ck_assert_uint_eq(m.type, PX_CHALLENGE);
	ck_assert_int_eq(memcmp(m.nonce, nonce0, 32), 0);
	pilot_msg_free(&m);
	wbuf_free(&b);

	pilot_enc_task(&b, 42, "/spool/a/42");
	roundtrip(&b, &m);
	ck_assert_int_eq(m.attempt_id, 42);
	ck_assert_str_eq(m.attempt_dir, "/spool/a/42");
	pilot_msg_free(&m);
	wbuf_free(&b);

	pilot_enc_cancel(&b, 43, "cancelled by alice");
	roundtrip(&b, &m);
	ck_assert_int_eq(m.attempt_id, 43);
	ck_assert_str_eq(m.why, "cancelled by alice");
	pilot_msg_free(&m);
	wbuf_free(&b);

	memset(mac, 0xab, sizeof mac);
	pilot_enc_hello(&b, mac, "1234", 4, run, 3, fin, 1);
	roundtrip(&b, &m);
	ck_assert_uint_eq(m.type, PX_HELLO);
	ck_assert_int_eq(memcmp(m.mac, mac, 32), 0);
	ck_assert_str_eq(m.job_id, "1234");
	ck_assert_int_eq(m.slots, 4);
	ck_assert_uint_eq(m.nrunning, 3);
	ck_assert_int_eq(m.running[2], 7);
	ck_assert_uint_eq(m.nfinished, 1);
	ck_assert_int_eq(m.finished[0], 9);
	pilot_msg_free(&m);
	wbuf_free(&b);

	pilot_enc_done(&b, 44, 1, NULL);
	roundtrip(&b, &m);
	ck_assert_int_eq(m.have_file, 1);
	ck_assert_ptr_null(m.why);
	pilot_msg_free(&m);
	wbuf_free(&b);

	pilot_enc_done(&b, 45, 0, "disk full");
	roundtrip(&b, &m);
	ck_assert_int_eq(m.have_file, 0);
	ck_assert_str_eq(m.why, "disk full");
	pilot_msg_free(&m);
	wbuf_free(&b);

	pilot_enc_started(&b, 46);
	roundtrip(&b, &m);
	ck_assert_int_eq(m.attempt_id, 46);
	pilot_msg_free(&m);
	wbuf_free(&b);

	/* No fields: only the "left over" and "no type" checks apply. */
	pilot_enc_heartbeat(&b);
	roundtrip(&b, &m);
	pilot_msg_free(&m);
	wbuf_free(&b);
	pilot_enc_release(&b);
	roundtrip(&b, &m);
	pilot_msg_free(&m);
	wbuf_free(&b);
	pilot_enc_welcome(&b);
	roundtrip(&b, &m);
	ck_assert(!pilot_msg_from_pilot(m.type));
	pilot_msg_free(&m);
	wbuf_free(&b);
}
END_TEST

/* Decode must refuse `b`, with `what` in its cause. */
static void
refused(struct wbuf *b, const char *what)
{
	struct pilot_msg	 m;
	char			*cause = NULL;

	ck_assert_msg(pilot_decode(b->p, b->len, &m, &cause) == -1,
	    "believed a message that should fail with %s", what);
	ck_assert_msg(strstr(cause, what) != NULL, "cause \"%s\" lacks "
	    "\"%s\"", cause, what);
	ck_assert_ptr_null(m.job_id);
	free(cause);
	wbuf_free(b);
}

START_TEST(test_refused)
{
	struct wbuf	b;
	unsigned char	mac[32] = { 0 };
	int64_t		bad[] = { 3, 0 };
	char		long_id[PILOT_JOBID_MAX + 2];

	pilot_enc_task(&b, 0, "/a");
	refused(&b, "attempt id 0");
	pilot_enc_task(&b, -5, "/a");
	refused(&b, "attempt id -5");
	pilot_enc_task(&b, 1, NULL);
	refused(&b, "attempt directory missing");
	pilot_enc_task(&b, 1, "");
	refused(&b, "attempt directory empty");
	pilot_enc_hello(&b, mac, "7", 0, NULL, 0, NULL, 0);
	refused(&b, "slots 0");
	pilot_enc_hello(&b, mac, "7", PILOT_SLOTS_MAX + 1, NULL, 0, NULL, 0);
	refused(&b, "out of range");
	pilot_enc_hello(&b, mac, NULL, 1, NULL, 0, NULL, 0);
	refused(&b, "job id missing");
	pilot_enc_hello(&b, mac, "7", 1, bad, 2, NULL, 0);
	refused(&b, "running list holds attempt 0");
	memset(long_id, 'x', sizeof long_id - 1);
	long_id[sizeof long_id - 1] = '\0';
	/* The encoder cuts at the bound: forge the length by hand. */
	wbuf_init(&b, (enum wire_type)PX_HELLO);
	wbuf_i64(&b, 0); wbuf_i64(&b, 0); wbuf_i64(&b, 0); wbuf_i64(&b, 0);
	wbuf_str(&b, long_id, 0);
	wbuf_i32(&b, 1); wbuf_i32(&b, 0); wbuf_i32(&b, 0);
	refused(&b, "job id too long");
	/* A list count the bytes cannot hold: no huge allocation. */
	wbuf_init(&b, (enum wire_type)PX_HELLO);
	wbuf_i64(&b, 0); wbuf_i64(&b, 0); wbuf_i64(&b, 0); wbuf_i64(&b, 0);
	wbuf_str(&b, "7", 0);
	wbuf_i32(&b, 1); wbuf_i32(&b, PILOT_LIST_MAX); wbuf_i32(&b, 0);
	refused(&b, "truncated HELLO");
	wbuf_init(&b, (enum wire_type)PX_HELLO);
	wbuf_i64(&b, 0); wbuf_i64(&b, 0); wbuf_i64(&b, 0); wbuf_i64(&b, 0);
	wbuf_str(&b, "7", 0);
	wbuf_i32(&b, 1); wbuf_i32(&b, PILOT_LIST_MAX + 1); wbuf_i32(&b, 0);
	refused(&b, "over");
	/* A NUL inside a string would shorten it silently. */
	wbuf_init(&b, (enum wire_type)PX_TASK);
	wbuf_i64(&b, 1);
	wbuf_i32(&b, 3);
	wbuf_i32(&b, 0x00622f);	/* "/b\0" then one byte of padding */
	b.len--;
	refused(&b, "NUL");
	pilot_enc_done(&b, 1, 0, NULL);
	refused(&b, "no result file and no reason");
	pilot_enc_done(&b, 1, 2, NULL);
	refused(&b, "have_file 2");
	wbuf_init(&b, (enum wire_type)PX_CHALLENGE);
	wbuf_i32(&b, 0x12345678);
	wbuf_i32(&b, PILOT_PROTO_VERSION);
	wbuf_i64(&b, 0); wbuf_i64(&b, 0); wbuf_i64(&b, 0); wbuf_i64(&b, 0);
	refused(&b, "wrong magic");
	wbuf_init(&b, (enum wire_type)PX_CHALLENGE);
	wbuf_i32(&b, PILOT_PROTO_MAGIC);
	wbuf_i32(&b, PILOT_PROTO_VERSION + 1);
	wbuf_i64(&b, 0); wbuf_i64(&b, 0); wbuf_i64(&b, 0); wbuf_i64(&b, 0);
	refused(&b, "protocol version 2");
	wbuf_init(&b, (enum wire_type)7);
	refused(&b, "unknown message type 7");
	wbuf_init(&b, (enum wire_type)PX_TASK);
	b.len = 2;
	refused(&b, "no type");
}
END_TEST

START_TEST(test_frames)
{
	unsigned char	 buf[16];
	size_t		 off, len;
	char		*cause = NULL;
	uint32_t	 n;
	int		 i;

	/* Not enough for a length: wait. */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pilot_frame_parse("\0\0\0\5", (size_t)i, &off,
		    &len, &cause), 0);
	memcpy(buf, "\0\0\0\5hello", 9);
	ck_assert_int_eq(pilot_frame_parse(buf, 8, &off, &len, &cause), 0);
	ck_assert_int_eq(pilot_frame_parse(buf, 9, &off, &len, &cause), 1);
	ck_assert_uint_eq(off, 4);
	ck_assert_uint_eq(len, 5);
	/* Zero and oversize lengths end the connection at once. */
	memset(buf, 0, 4);
	ck_assert_int_eq(pilot_frame_parse(buf, 4, &off, &len, &cause), -1);
	free(cause);
	cause = NULL;
	n = PILOT_FRAME_MAX + 1;
	buf[0] = (unsigned char)(n >> 24);
	buf[1] = (unsigned char)(n >> 16);
	buf[2] = (unsigned char)(n >> 8);
	buf[3] = (unsigned char)n;
	ck_assert_int_eq(pilot_frame_parse(buf, 4, &off, &len, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "frame of 1048577 bytes"));
	free(cause);
	cause = NULL;
	memset(buf, 0xff, 4);
	ck_assert_int_eq(pilot_frame_parse(buf, 4, &off, &len, &cause), -1);
	free(cause);
	cause = NULL;
	n = PILOT_FRAME_MAX;
	buf[0] = (unsigned char)(n >> 24);
	buf[1] = (unsigned char)(n >> 16);
	buf[2] = (unsigned char)(n >> 8);
	buf[3] = (unsigned char)n;
	ck_assert_int_eq(pilot_frame_parse(buf, 16, &off, &len, &cause), 0);
}
END_TEST

START_TEST(test_hmac)
{
	static const unsigned char want[32] = {
		0xee, 0x02, 0xac, 0x3d, 0x67, 0x10, 0xc6, 0xff, 0x95, 0xe6,
		0xa7, 0x68, 0xa3, 0x6f, 0xb7, 0xe9, 0xf0, 0xf6, 0x35, 0x76,
		0xb9, 0x9b, 0x94, 0x1a, 0xe4, 0xc8, 0x49, 0x01, 0xf5, 0x64,
		0x23, 0x23
	};
	const unsigned char	*key = (const unsigned char *)"pilot-secret";
	unsigned char		 mac[32], nonce[32];

	/* HMAC-SHA256, as Python's hmac module computes it. */
	pilot_mac(key, 12, nonce0, mac);
	ck_assert_int_eq(memcmp(mac, want, 32), 0);
	ck_assert(pilot_mac_ok(key, 12, nonce0, mac));
	/* Another secret, one bit of the mac, another nonce: refused. */
	ck_assert(!pilot_mac_ok((const unsigned char *)"pilot-secreT", 12,
	    nonce0, mac));
	ck_assert(!pilot_mac_ok(key, 11, nonce0, mac));
	mac[31] ^= 1;
	ck_assert(!pilot_mac_ok(key, 12, nonce0, mac));
	mac[31] ^= 1;
	memcpy(nonce, nonce0, 32);
	nonce[0] = 1;
	ck_assert(!pilot_mac_ok(key, 12, nonce, mac));
	memset(mac, 0, sizeof mac);
	ck_assert(!pilot_mac_ok(key, 12, nonce0, mac));
}
END_TEST

static char *
write_file(const char *dir, const char *name, const char *text, int mode)
{
	char	*p = xasprintf("%s/%s", dir, name);
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(p, (mode_t)mode), 0);
	return p;
}

static char	tmpdir[] = "/tmp/check_pilot.XXXXXX";

static void
rm_tmp(void)
{
	char	*cmd = xasprintf("rm -rf %s", tmpdir);

	if (system(cmd) != 0)
		fprintf(stderr, "%s failed\n", cmd);
	free(cmd);
}

START_TEST(test_secret_file)
{
	unsigned char	*s, *s2;
	size_t		 n, n2;
	char		*p, *cause = NULL;

	p = write_file(tmpdir, "s1", "pilot-secret\n", 0600);
	ck_assert_int_eq(pilot_read_secret(p, &s, &n, &cause), 0);
	ck_assert_uint_eq(n, 12);
	ck_assert_int_eq(memcmp(s, "pilot-secret", 12), 0);
	free(p);
	p = write_file(tmpdir, "s2", "pilot-secret\r\n", 0400);
	ck_assert_int_eq(pilot_read_secret(p, &s2, &n2, &cause), 0);
	ck_assert_uint_eq(n2, 12);
	free(s);
	free(s2);
	free(p);
	p = write_file(tmpdir, "s3", "pilot-secret", 0640);
	ck_assert_int_eq(pilot_read_secret(p, &s, &n, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "mode 0640"));
	free(cause);
	cause = NULL;
	free(p);
	p = write_file(tmpdir, "s4", "pilot-secret", 0604);
	ck_assert_int_eq(pilot_read_secret(p, &s, &n, &cause), -1);
	free(cause);
	cause = NULL;
	free(p);
	p = write_file(tmpdir, "s5", "\n", 0600);
	ck_assert_int_eq(pilot_read_secret(p, &s, &n, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "empty"));
	free(cause);
	cause = NULL;
	free(p);
	ck_assert_int_eq(pilot_read_secret(tmpdir, &s, &n, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "not a regular file"));
	free(cause);
	cause = NULL;
	p = xasprintf("%s/none", tmpdir);
	ck_assert_int_eq(pilot_read_secret(p, &s, &n, &cause), -1);
	free(cause);
	free(p);
}
END_TEST

START_TEST(test_split_addr)
{
	char	*host, *cause = NULL;
	int	 port;

	ck_assert_int_eq(pilot_split_addr("10.0.0.1:7450", &host, &port,
	    &cause), 0);
	ck_assert_str_eq(host, "10.0.0.1");
	ck_assert_int_eq(port, 7450);
	free(host);
	ck_assert_int_eq(pilot_split_addr("[::1]:0", &host, &port, &cause), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(port, 0);
	free(host);
	ck_assert_int_eq(pilot_split_addr("host", &host, &port, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(pilot_split_addr("host:65536", &host, &port, &cause),
	    -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(pilot_split_addr("host:", &host, &port, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(pilot_split_addr(":80", &host, &port, &cause), -1);
	free(cause);
}
END_TEST

/* ---- the pool against a fake pilot ---- */

struct ev {
	int64_t	 id;
	int	 done, have_file, retryable;
	char	*reason, *ext;
};

static struct ev	evs[64];
static int		nevs;

static void
cb_done(void *arg, int64_t id, int have_file, const char *reason,
    int retryable)
{
	(void)arg;
	ck_assert_int_lt(nevs, 64);
	evs[nevs].id = id;
	evs[nevs].done = 1;
	evs[nevs].have_file = have_file;
	evs[nevs].retryable = retryable;
	evs[nevs].reason = xstrdup_null(reason);
	nevs++;
}

static void
cb_started(void *arg, int64_t id, const char *ext)
{
	(void)arg;
	ck_assert_int_lt(nevs, 64);
	memset(&evs[nevs], 0, sizeof evs[nevs]);
	evs[nevs].id = id;
	evs[nevs].ext = xstrdup(ext);
	nevs++;
}

static void
evs_clear(void)
{
	int	i;

	for (i = 0; i < nevs; i++) {
		free(evs[i].reason);
		free(evs[i].ext);
	}
	memset(evs, 0, sizeof evs);
	nevs = 0;
}

/* Run the pool's poll loop for `ms`. */
static void
pump(struct pilot_pool *pp, int ms)
{
	struct pollfd	pfd[64];
	int64_t		end = mono_us() + (int64_t)ms * 1000;
	size_t		n;

	do {
		n = pilot_pool_pollfds(pp, pfd, 64);
		if (poll(pfd, n, 5) > 0)
			pilot_pool_handle(pp, pfd, n);
	} while (mono_us() < end);
}

static struct pilot_pool *
new_pool(const char *secret_file, int idle_s)
{
	struct executor_def	 def;
	struct pilot_pool_cb	 cb = { cb_done, cb_started, NULL };
	struct pilot_pool	*pp;
	char			*cause = NULL;

	memset(&def, 0, sizeof def);
	def.name = (char *)"burst";
	def.pilots = 4;
	def.pilot_slots = 2;
	def.pilot_idle_s = idle_s;
	def.listen = (char *)"127.0.0.1:0";
	def.secret_file = (char *)secret_file;
	pp = pilot_pool_new(&def, &cb, &cause);
	ck_assert_msg(pp != NULL, "pilot_pool_new: %s", cause);
	return pp;
}

static int
fake_connect(struct pilot_pool *pp)
{
	struct addrinfo	 hints, *res;
	char		*host, *cause = NULL, port[16];
	int		 fd, p;

	ck_assert_int_eq(pilot_split_addr(pilot_pool_address(pp), &host, &p,
	    &cause), 0);
	snprintf(port, sizeof port, "%d", p);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	ck_assert_int_eq(getaddrinfo(host, port, &hints, &res), 0);
	ck_assert_int_ne(fd = socket(res->ai_family, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(connect(fd, res->ai_addr, res->ai_addrlen), 0);
	freeaddrinfo(res);
	free(host);
	return fd;
}

/* Read one message from the pool (pumping it meanwhile): 0, or -1 on
 * end of file. */
static int
fake_recv(struct pilot_pool *pp, int fd, struct pilot_msg *m)
{
	unsigned char	hdr[4], *body;
	size_t		got = 0, len;
	struct pollfd	pfd;
	ssize_t		n;
	int		tries;

	for (tries = 0; tries < 400 && got < 4; tries++) {
		pump(pp, 5);
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) <= 0)
			continue;
		if ((n = read(fd, hdr + got, 4 - got)) <= 0)
			return -1;
		got += (size_t)n;
	}
	ck_assert_uint_eq(got, 4);
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	    (size_t)hdr[2] << 8 | hdr[3];
	body = xmalloc(len);
	for (got = 0; got < len; got += (size_t)n) {
		pump(pp, 1);
		ck_assert_int_gt(n = read(fd, body + got, len - got), 0);
	}
	ck_assert_int_eq(pilot_decode(body, len, m, NULL), 0);
	free(body);
	return 0;
}

static void
fake_send(int fd, struct wbuf *b)
{
	unsigned char	hdr[4];

	hdr[0] = (unsigned char)(b->len >> 24);
	hdr[1] = (unsigned char)(b->len >> 16);
	hdr[2] = (unsigned char)(b->len >> 8);
	hdr[3] = (unsigned char)b->len;
	ck_assert_int_eq(write(fd, hdr, 4), 4);
	ck_assert_int_eq(write(fd, b->p, b->len), (ssize_t)b->len);
	wbuf_free(b);
}

/* Connect and authenticate as job `job` with `secret`; returns the fd. */
static int
fake_pilot(struct pilot_pool *pp, const char *secret, const char *job,
    const int64_t *run, size_t nrun, const int64_t *fin, size_t nfin)
{
	struct pilot_msg	m;
	struct wbuf		b;
	unsigned char		mac[32];
	int			fd = fake_connect(pp);

	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	ck_assert_uint_eq(m.type, PX_CHALLENGE);
	pilot_mac((const unsigned char *)secret, strlen(secret), m.nonce, mac);
	pilot_msg_free(&m);
	pilot_enc_hello(&b, mac, job, 2, run, nrun, fin, nfin);
	fake_send(fd, &b);
	return fd;
}

START_TEST(test_pool_auth)
{
	struct pilot_pool	*pp;
	struct pilot_msg	 m;
	struct wbuf		 b;
	unsigned char		 mac[32];
	char			*sf = write_file(tmpdir, "sec", "right\n", 0600);
	int			 fd, fd2;

	pp = new_pool(sf, 60);
	fd = fake_pilot(pp, "wrong", "66", NULL, 0, NULL, 0);
	ck_assert_int_eq(fake_recv(pp, fd, &m), -1);	/* hung up */
	ck_assert_int_eq(pilot_pool_connected(pp), 0);
	close(fd);
	fd = fake_pilot(pp, "right", "67", NULL, 0, NULL, 0);
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	ck_assert_uint_eq(m.type, PX_WELCOME);
	ck_assert_int_eq(pilot_pool_connected(pp), 1);
	ck_assert_int_eq(pilot_pool_free_slots(pp), 2);
	/* A second HELLO on an authenticated connection: dropped. */
	fd2 = fake_pilot(pp, "right", "68", NULL, 0, NULL, 0);
	ck_assert_int_eq(fake_recv(pp, fd2, &m), 0);
	ck_assert_uint_eq(m.type, PX_WELCOME);
	ck_assert_int_eq(pilot_pool_connected(pp), 2);
	memset(mac, 0, sizeof mac);
	pilot_enc_hello(&b, mac, "68", 1, NULL, 0, NULL, 0);
	fake_send(fd2, &b);
	ck_assert_int_eq(fake_recv(pp, fd2, &m), -1);
	ck_assert_int_eq(pilot_pool_connected(pp), 1);
	close(fd2);
	/* An oversize frame: dropped. */
	fd2 = fake_connect(pp);
	ck_assert_int_eq(fake_recv(pp, fd2, &m), 0);
	ck_assert_int_eq(write(fd2, "\x7f\xff\xff\xff", 4), 4);
	ck_assert_int_eq(fake_recv(pp, fd2, &m), -1);
	close(fd2);
	/* Silence before HELLO: dropped after PILOT_AUTH_S. */
	fd2 = fake_connect(pp);
	ck_assert_int_eq(fake_recv(pp, fd2, &m), 0);
	pilot_pool_tick(pp, mono_us() + (PILOT_AUTH_S + 1) * 1000000LL);
	ck_assert_int_eq(fake_recv(pp, fd2, &m), -1);
	close(fd2);
	ck_assert_int_eq(pilot_pool_connected(pp), 1);
	close(fd);
	pump(pp, 50);
	ck_assert_int_eq(pilot_pool_connected(pp), 0);
	pilot_pool_free(pp);
	free(sf);
}
END_TEST

START_TEST(test_pool_tasks)
{
	struct pilot_pool	*pp;
	struct pilot_msg	 m;
	struct wbuf		 b;
	char			*sf = write_file(tmpdir, "sec2", "s", 0600);
	char			*d3, *rf;
	int			 fd;

	evs_clear();
	pp = new_pool(sf, 60);
	ck_assert_int_eq(pilot_pool_submit(pp, 1, "/nowhere/1"), -1);
	fd = fake_pilot(pp, "s", "77", NULL, 0, NULL, 0);
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);	/* WELCOME */
	ck_assert_int_eq(pilot_pool_submit(pp, 1, "/nowhere/1"), 0);
	ck_assert_int_eq(pilot_pool_submit(pp, 2, "/nowhere/2"), 0);
	ck_assert_int_eq(pilot_pool_submit(pp, 3, "/nowhere/3"), -1);
	ck_assert_int_eq(pilot_pool_busy(pp), 2);
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	ck_assert_uint_eq(m.type, PX_TASK);
	ck_assert_int_eq(m.attempt_id, 1);
	ck_assert_str_eq(m.attempt_dir, "/nowhere/1");
	pilot_msg_free(&m);
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	pilot_msg_free(&m);
	pilot_enc_started(&b, 1);
	fake_send(fd, &b);
	pilot_enc_done(&b, 1, 1, NULL);
	fake_send(fd, &b);
	pilot_enc_done(&b, 99, 1, NULL);	/* never given: ignored */
	fake_send(fd, &b);
	pump(pp, 50);
	ck_assert_int_eq(nevs, 2);
	ck_assert_str_eq(evs[0].ext, "77");
	ck_assert(evs[1].done && evs[1].id == 1 && evs[1].have_file);
	/* Cancel goes to the pilot; its DONE ends the attempt. */
	ck_assert_int_eq(pilot_pool_cancel(pp, 2, "cancelled by bob"), 0);
	ck_assert_int_eq(pilot_pool_cancel(pp, 5, "x"), -1);
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	ck_assert_uint_eq(m.type, PX_CANCEL);
	ck_assert_str_eq(m.why, "cancelled by bob");
	pilot_msg_free(&m);
	pilot_enc_done(&b, 2, 0, "pilot 77: cannot write result: EIO");
	fake_send(fd, &b);
	pump(pp, 50);
	ck_assert_int_eq(nevs, 3);
	ck_assert(evs[2].done && !evs[2].have_file && evs[2].retryable);
	ck_assert_str_eq(evs[2].reason, "pilot 77: cannot write result: EIO");
	/* Lost connection: the attempt fails, unless its result is there. */
	d3 = xasprintf("%s/a3", tmpdir);
	ck_assert_int_eq(mkdir(d3, 0755), 0);
	ck_assert_int_eq(pilot_pool_submit(pp, 3, "/nowhere/3"), 0);
	ck_assert_int_eq(pilot_pool_submit(pp, 4, d3), 0);
	rf = taskfile_path(d3, TASKFILE_RESULT);
	free(write_file(d3, TASKFILE_RESULT, "x", 0644));
	close(fd);
	pump(pp, 50);
	ck_assert_int_eq(nevs, 5);
	ck_assert(evs[3].id == 3 || evs[4].id == 3);
	if (evs[3].id != 3) {
		struct ev e = evs[3];
		evs[3] = evs[4];
		evs[4] = e;
	}
	ck_assert(!evs[3].have_file && evs[3].retryable);
	ck_assert_str_eq(evs[3].reason, "pilot 77 lost its connection");
	ck_assert(evs[4].id == 4 && evs[4].have_file);
	ck_assert_int_eq(pilot_pool_busy(pp), 0);
	free(rf);
	free(d3);
	evs_clear();
	pilot_pool_free(pp);
	free(sf);
}
END_TEST

START_TEST(test_pool_time)
{
	struct pilot_pool	*pp;
	struct pilot_msg	 m;
	char			*sf = write_file(tmpdir, "sec3", "s", 0600);
	int			 fd, fd2;

	evs_clear();
	pp = new_pool(sf, 1);
	fd = fake_pilot(pp, "s", "88", NULL, 0, NULL, 0);
	fd2 = fake_pilot(pp, "s", "89", NULL, 0, NULL, 0);
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	ck_assert_int_eq(fake_recv(pp, fd2, &m), 0);
	ck_assert_int_eq(pilot_pool_submit(pp, 10, "/nowhere/10"), 0);
	ck_assert_int_eq(pilot_pool_submit(pp, 11, "/nowhere/11"), 0);
	/* Most free slots first: one task each. */
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	ck_assert_uint_eq(m.type, PX_TASK);
	pilot_msg_free(&m);
	ck_assert_int_eq(fake_recv(pp, fd2, &m), 0);
	ck_assert_uint_eq(m.type, PX_TASK);
	pilot_msg_free(&m);
	/* Ten seconds of silence (only the clock given to tick moves). */
	pilot_pool_tick(pp, mono_us() + (PILOT_HEARTBEAT_S + 1) * 1000000LL);
	ck_assert_int_eq(nevs, 2);
	ck_assert(evs[0].done && !evs[0].have_file && evs[0].retryable);
	ck_assert_ptr_nonnull(strstr(evs[0].reason, "stopped answering "
	    "(no heartbeat for 10s)"));
	ck_assert_int_eq(fake_recv(pp, fd, &m), -1);
	close(fd);
	close(fd2);
	evs_clear();
	/* Idle for pilot_idle_s: RELEASE, and no longer counted. */
	fd = fake_pilot(pp, "s", "90", NULL, 0, NULL, 0);
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	ck_assert_int_eq(pilot_pool_connected(pp), 1);
	pilot_pool_tick(pp, mono_us() + 1500000);
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	ck_assert_uint_eq(m.type, PX_RELEASE);
	ck_assert_int_eq(pilot_pool_connected(pp), 0);
	ck_assert_int_eq(pilot_pool_submit(pp, 12, "/nowhere/12"), -1);
	close(fd);
	/* Slurm says the job ended: its attempts fail with that. */
	fd = fake_pilot(pp, "s", "91", NULL, 0, NULL, 0);
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	ck_assert_int_eq(pilot_pool_submit(pp, 13, "/nowhere/13"), 0);
	pilot_pool_job_ended(pp, "92", "pilot 92 ended: TIMEOUT");
	ck_assert_int_eq(nevs, 0);
	pilot_pool_job_ended(pp, "91", "pilot 91 ended: TIMEOUT");
	ck_assert_int_eq(nevs, 1);
	ck_assert_str_eq(evs[0].reason, "pilot 91 ended: TIMEOUT");
	close(fd);
	evs_clear();
	pilot_pool_free(pp);
	free(sf);
}
END_TEST

START_TEST(test_pool_adopt)
{
	struct pilot_pool	*pp;
	struct pilot_msg	 m;
	struct wbuf		 b;
	char			*sf = write_file(tmpdir, "sec4", "s", 0600);
	char			*d;
	int64_t			 run[] = { 20, 23 }, fin[] = { 21, 24 };
	int64_t			 now = mono_us();
	int			 fd, i;

	evs_clear();
	pp = new_pool(sf, 60);
	pilot_pool_adopt(pp, 20, "/nowhere/20", now + 5000000);
	pilot_pool_adopt(pp, 21, "/nowhere/21", now + 5000000);
	pilot_pool_adopt(pp, 22, "/nowhere/22", now + 5000000);
	d = xasprintf("%s/a25", tmpdir);
	ck_assert_int_eq(mkdir(d, 0755), 0);
	free(write_file(d, TASKFILE_RESULT, "x", 0644));
	pilot_pool_adopt(pp, 25, d, now + 5000000);
	fd = fake_pilot(pp, "s", "95", run, 2, fin, 2);
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	pump(pp, 50);
	/* 20 runs on 95 again, 21 finished: its result file is read. */
	ck_assert_int_eq(nevs, 2);
	ck_assert(evs[0].id == 20 && !evs[0].done);
	ck_assert_str_eq(evs[0].ext, "95");
	ck_assert(evs[1].id == 21 && evs[1].done && evs[1].have_file);
	/* 23 and 24 are not known yet: the adoption comes after. */
	pilot_pool_adopt(pp, 23, "/nowhere/23", now + 5000000);
	pilot_pool_adopt(pp, 24, "/nowhere/24", now + 5000000);
	ck_assert_int_eq(nevs, 4);
	ck_assert(evs[2].id == 23 && !evs[2].done);
	ck_assert(evs[3].id == 24 && evs[3].done && evs[3].have_file);
	ck_assert_int_eq(pilot_pool_busy(pp), 2);
	ck_assert_int_eq(pilot_pool_free_slots(pp), 0);
	/* Nobody claims 22 or 25 by the deadline. */
	pilot_enc_heartbeat(&b);
	fake_send(fd, &b);
	pilot_pool_tick(pp, now + 6000000);
	ck_assert_int_eq(nevs, 6);
	for (i = 4; i < 6; i++) {
		ck_assert(evs[i].done);
		if (evs[i].id == 22) {
			ck_assert(!evs[i].have_file && evs[i].retryable);
			ck_assert_str_eq(evs[i].reason, "lost with its pilot");
		} else {
			ck_assert_int_eq(evs[i].id, 25);
			ck_assert(evs[i].have_file);
		}
	}
	pilot_enc_done(&b, 20, 1, NULL);
	fake_send(fd, &b);
	pump(pp, 50);
	ck_assert_int_eq(nevs, 7);
	ck_assert(evs[6].id == 20 && evs[6].have_file);
	close(fd);
	pump(pp, 50);
	ck_assert_int_eq(nevs, 8);
	ck_assert(evs[7].id == 23 && !evs[7].have_file);
	evs_clear();
	free(d);
	pilot_pool_free(pp);
	free(sf);
}
END_TEST

START_TEST(test_pool_wanted)
{
	struct pilot_pool	*pp;
	struct pilot_msg	 m;
	char			*sf = write_file(tmpdir, "sec5", "s", 0600);
	int			 fd;

	pp = new_pool(sf, 60);	/* pilots = 4, 2 slots each */
	ck_assert_int_eq(pilot_pool_wanted(pp, 0, 0), 0);
	ck_assert_int_eq(pilot_pool_wanted(pp, 1, 0), 1);
	ck_assert_int_eq(pilot_pool_wanted(pp, 3, 0), 2);
	ck_assert_int_eq(pilot_pool_wanted(pp, 100, 0), 4);
	ck_assert_int_eq(pilot_pool_wanted(pp, 100, 3), 1);
	ck_assert_int_eq(pilot_pool_wanted(pp, 100, 4), 0);
	ck_assert_int_eq(pilot_pool_wanted(pp, 100, 9), 0);
	ck_assert_int_eq(pilot_pool_wanted(pp, 3, 2), 0);
	ck_assert_int_eq(pilot_pool_wanted(pp, -3, 0), 0);
	fd = fake_pilot(pp, "s", "96", NULL, 0, NULL, 0);
	ck_assert_int_eq(fake_recv(pp, fd, &m), 0);
	ck_assert_int_eq(pilot_pool_wanted(pp, 100, 0), 3);
	close(fd);
	pilot_pool_free(pp);
	free(sf);
}
END_TEST

START_TEST(test_pool_refuses)
{
	struct executor_def	 def;
	struct pilot_pool_cb	 cb = { cb_done, cb_started, NULL };
	char			*cause = NULL, *sf;

	memset(&def, 0, sizeof def);
	def.listen = (char *)"127.0.0.1:0";
	ck_assert_ptr_null(pilot_pool_new(&def, &cb, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "secret_file"));
	free(cause);
	cause = NULL;
	def.secret_file = sf = write_file(tmpdir, "open", "s", 0644);
	ck_assert_ptr_null(pilot_pool_new(&def, &cb, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "mode 0644"));
	free(cause);
	cause = NULL;
	chmod(sf, 0600);
	def.listen = (char *)"256.1.1.1:0";
	ck_assert_ptr_null(pilot_pool_new(&def, &cb, &cause));
	free(cause);
	free(sf);
}
END_TEST

static Suite *
pilot_suite(void)
{
	Suite	*s = suite_create("pilot");
	TCase	*tc = tcase_create("proto");
	TCase	*tp = tcase_create("pool");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_frames);
	tcase_add_test(tc, test_hmac);
	tcase_add_test(tc, test_secret_file);
	tcase_add_test(tc, test_split_addr);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tp, 30);
	tcase_add_test(tp, test_pool_auth);
	tcase_add_test(tp, test_pool_tasks);
	tcase_add_test(tp, test_pool_time);
	tcase_add_test(tp, test_pool_adopt);
	tcase_add_test(tp, test_pool_wanted);
	tcase_add_test(tp, test_pool_refuses);
	suite_add_tcase(s, tp);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(pilot_suite());
	int	 failed;

	if (mkdtemp(tmpdir) == NULL) {
		perror(tmpdir);
		return 1;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rm_tmp();
	return failed == 0 ? 0 : 1;
}

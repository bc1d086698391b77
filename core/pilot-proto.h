/*
 * pilot-proto.h -- the TCP protocol between the pilot pool and its pilots
 * (issue 13, item 4; pilot.h says who runs each end).
 *
 * A stream of frames: u32 length, big-endian, then that many bytes of one
 * message.  A length of 0 or over PILOT_FRAME_MAX ends the connection: a
 * peer that sends one is broken or hostile, and nothing after it can be
 * trusted to be a frame boundary.
 *
 * A message is built with wire.h's wbuf: a 32-bit type, then its fields in
 * order, in the host's byte order (the pool and its pilots are the same
 * build on one architecture, as the request and result files assume:
 * taskfile.h; a peer of another build is refused by the handshake, whose
 * CHALLENGE carries PILOT_PROTO_MAGIC and PILOT_PROTO_VERSION).
 *
 * pool -> pilot
 *   CHALLENGE  i32 magic, i32 version, 32 bytes nonce (as 4 x i64): the
 *              first message, sent on accept; the nonce is fresh from
 *              getrandom().
 *   TASK       i64 attempt_id, str attempt_dir: run the request in
 *              <attempt_dir>/request (taskfile.h).
 *   CANCEL     i64 attempt_id, str why: stop it; its result says `why`.
 *   RELEASE    (no fields): the pilot is idle and not wanted: exit.
 *   WELCOME    (no fields): the HELLO was accepted.  A pool that refuses
 *              one says nothing and closes the connection; the pilot
 *              counts a close before WELCOME as a refusal.
 * pilot -> pool
 *   HELLO      32 bytes mac (4 x i64) = HMAC-SHA256(secret, nonce),
 *              str job_id ($SLURM_JOB_ID, "-" outside Slurm), i32 slots,
 *              u32 n + n x i64: attempts it is running,
 *              u32 n + n x i64: attempts it finished while it had no
 *              connection (their result files are written).
 *              The first message; anything else first, or a wrong mac,
 *              closes the connection.  The pool gives an unauthenticated
 *              connection PILOT_AUTH_S seconds.
 *   STARTED    i64 attempt_id: the task is running.
 *   HEARTBEAT  (no fields): every second, busy or idle.
 *   DONE       i64 attempt_id, i32 have_file, str reason: the attempt
 *              ended.  have_file: <attempt_dir>/result was written
 *              (atomically) before this message was sent, and reason is
 *              NULL; otherwise the pilot could not write it and `reason`
 *              says why.
 *
 * A message is believed only if it decodes exactly: known type, every
 * byte consumed, attempt ids > 0, strings present where required and at
 * most their bound (PILOT_PATH_MAX for a directory, PILOT_JOBID_MAX for a
 * job id, WIRE_STR_MAX for a reason), slots in 1..PILOT_SLOTS_MAX, lists
 * at most PILOT_LIST_MAX long.  Which end may send which type is the
 * reader's check (pilot_msg_from_pilot()).
 */
#ifndef MESHD_PILOT_PROTO_H
#define MESHD_PILOT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define PILOT_FRAME_MAX		(1024 * 1024)
#define PILOT_PROTO_MAGIC	0x4d53504c	/* "MSPL" */
#define PILOT_PROTO_VERSION	1
#define PILOT_NONCE_LEN		32
#define PILOT_MAC_LEN		32
#define PILOT_PATH_MAX		4096
#define PILOT_JOBID_MAX		64
#define PILOT_SLOTS_MAX		1024
#define PILOT_LIST_MAX		16384
#define PILOT_SECRET_MAX	65536
/* Seconds an unauthenticated connection may take to say HELLO. */
#define PILOT_AUTH_S		5
/* Seconds without a message before the pool drops a pilot. */
#define PILOT_HEARTBEAT_S	10
/* Seconds a pilot keeps trying to (re)connect. */
#define PILOT_CONNECT_S		60

enum pilot_msg_type {
	PX_CHALLENGE = 200,
	PX_TASK,
	PX_CANCEL,
	PX_RELEASE,
	PX_WELCOME,
	PX_HELLO = 220,
	PX_STARTED,
	PX_HEARTBEAT,
	PX_DONE
};

/* One message, decoded.  Strings and lists are owned: pilot_msg_free(). */
struct pilot_msg {
	uint32_t	 type;
	int64_t		 attempt_id;		/* TASK CANCEL STARTED DONE */
	char		*attempt_dir;		/* TASK */
	char		*why;			/* CANCEL; DONE's reason */
	int32_t		 have_file;		/* DONE */
	int32_t		 version;		/* CHALLENGE */
	unsigned char	 nonce[PILOT_NONCE_LEN];	/* CHALLENGE */
	unsigned char	 mac[PILOT_MAC_LEN];	/* HELLO */
	char		*job_id;		/* HELLO */
	int32_t		 slots;			/* HELLO */
	int64_t		*running;		/* HELLO */
	size_t		 nrunning;
	int64_t		*finished;		/* HELLO */
	size_t		 nfinished;
};

/* Encoders: each initialises `b` (wbuf_init) with the message. */
void	pilot_enc_challenge(struct wbuf *b,
	    const unsigned char nonce[PILOT_NONCE_LEN]);
void	pilot_enc_task(struct wbuf *b, int64_t attempt_id,
	    const char *attempt_dir);
void	pilot_enc_cancel(struct wbuf *b, int64_t attempt_id, const char *why);
void	pilot_enc_release(struct wbuf *b);
void	pilot_enc_welcome(struct wbuf *b);
void	pilot_enc_hello(struct wbuf *b, const unsigned char mac[PILOT_MAC_LEN],
	    const char *job_id, int slots, const int64_t *running,
	    size_t nrunning, const int64_t *finished, size_t nfinished);
void	pilot_enc_started(struct wbuf *b, int64_t attempt_id);
void	pilot_enc_heartbeat(struct wbuf *b);
void	pilot_enc_done(struct wbuf *b, int64_t attempt_id, int have_file,
	    const char *reason);

/*
 * Decode one message body of n bytes.  Pure (no I/O, no state): 0, or -1
 * with cause ("truncated HELLO", "unknown message type 7") and m cleared.
 * Free m with pilot_msg_free() either way.
 */
int	pilot_decode(const void *, size_t n, struct pilot_msg *m,
	    char **cause);
void	pilot_msg_free(struct pilot_msg *);
/* 1 if a pilot sends this type, 0 if the pool does (or it is unknown). */
int	pilot_msg_from_pilot(uint32_t type);
/* "HELLO", "TASK"...; "?" for an unknown type.  Static string. */
const char *pilot_msg_name(uint32_t type);

/*
 * The frame at the head of `len` bytes of a stream: 1 with *body and
 * *body_len set (the frame takes 4 + *body_len bytes), 0 if more bytes
 * are needed, -1 with cause if the length is 0 or over PILOT_FRAME_MAX.
 * Pure.
 */
int	pilot_frame_parse(const void *, size_t len, size_t *body,
	    size_t *body_len, char **cause);

/*
 * A connection's buffers, for a non-blocking socket: frames queued are
 * written as the socket takes them; bytes read are cut into frames.
 */
struct pilot_io {
	int		 fd;
	unsigned char	*in;
	size_t		 inlen, incap, inoff;
	unsigned char	*out;
	size_t		 outlen, outcap, outoff;
};

void	pilot_io_init(struct pilot_io *, int fd);
/* Close the descriptor (if >= 0) and free the buffers. */
void	pilot_io_close(struct pilot_io *);
/* Queue the message in `b` as one frame (b is left as it is). */
void	pilot_io_queue(struct pilot_io *, const struct wbuf *b);
/* Write what the socket takes.  0 (check pilot_io_pending()), or -1 with
 * cause on an error of the connection. */
int	pilot_io_flush(struct pilot_io *, char **cause);
int	pilot_io_pending(const struct pilot_io *);
/* Read what the socket has.  0, or -1 with cause ("connection closed"
 * on end of file). */
int	pilot_io_read(struct pilot_io *, char **cause);
/* The next whole frame read: 1 with *body and *len pointing into the buffer
 * (valid until the next read), 0 if none yet, -1 with cause for a bad
 * length. */
int	pilot_io_next(struct pilot_io *, const unsigned char **body,
	    size_t *len, char **cause);

/*
 * The shared secret in `path`: refused (-1 with cause) if it is not a
 * regular file, if group or others have any permission on it, if it is
 * empty or larger than PILOT_SECRET_MAX.  A trailing newline (or CR LF)
 * is not part of it, so that `openssl rand -hex 32 >file` works.
 * *secret is a new buffer of *len bytes.
 */
int	pilot_read_secret(const char *path, unsigned char **secret,
	    size_t *len, char **cause);
/* HMAC-SHA256(secret, nonce) into mac. */
void	pilot_mac(const unsigned char *secret, size_t len,
	    const unsigned char nonce[PILOT_NONCE_LEN],
	    unsigned char mac[PILOT_MAC_LEN]);
/* 1 if `mac` is the right answer to `nonce`, compared in constant time. */
int	pilot_mac_ok(const unsigned char *secret, size_t len,
	    const unsigned char nonce[PILOT_NONCE_LEN],
	    const unsigned char mac[PILOT_MAC_LEN]);
/* "host:port" split; port 0..65535.  0, or -1 with cause. */
int	pilot_split_addr(const char *addr, char **host, int *port,
	    char **cause);

#endif

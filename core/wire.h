/*
 * wire.h -- messages between the executor and its workers.
 *
 * Internal to the executor.  The transport is a socketpair(AF_UNIX,
 * SOCK_SEQPACKET): the kernel keeps message boundaries, so one send() is
 * one message and a reader never sees half of one (a stopped or dying
 * worker cannot leave the supervisor waiting for the rest of a frame).
 *
 * A message is a 32-bit type followed by its fields in order, each in the
 * host's byte order (both ends are the same binary: a worker is forked, not
 * exec'd, so there is no version to negotiate):
 *   int32/int64   4/8 bytes
 *   double        8 bytes (IEEE 754, as in memory)
 *   string        uint32 length + bytes (no NUL); length 0xffffffff = NULL
 *
 * supervisor -> worker
 *   TASK      i64 attempt_id, str job, str task_id, str plugin_path,
 *             i32 stage, i32 attempt, str partition_key, i64 interval_start,
 *             i64 interval_end, str staging_dir, str attempt_dir,
 *             str log_path, str product, str location, i64 timeout_us,
 *             u32 nparams, then per param: str key, i32 type, i64 i,
 *             f64 d, str s
 *   TASK_FD   i64 length, and one descriptor (SCM_RIGHTS): a sealed memfd
 *             holding a whole TASK message of that length.  Used for a
 *             task larger than WIRE_MAX, up to task_max_bytes: a datagram
 *             cannot be larger than the socket's buffer.
 *   EXIT      (no fields): run fini, then _exit(0)
 * worker -> supervisor, each starting with a header:
 *             u64 nonce (the worker's secret, given at fork),
 *             i64 attempt_id, u32 seq (0, 1, 2... for the worker's life)
 *   ACK       i64 started_us: the task was received
 *   HEARTBEAT (no fields): sent every second while a stage runs
 *   CHECK     str name, i32 severity, i32 passed, f64 observed,
 *             str expectation, i64 recorded_us
 *   METRIC    str name, f64 value
 *   RESULT    i32 status, i32 retryable, i32 infra, str reason,
 *             str message, i64 started_us, i64 ended_us
 * The CHECK and METRIC messages of an attempt come before its RESULT, one
 * per record, so a result of any size fits in messages of bounded size.
 *
 * A plugin runs in the worker and can write into its socket.  So the
 * supervisor believes a message only if it decodes exactly (known type,
 * every byte consumed, strings within WIRE_STR_MAX, enums in range), its
 * nonce is the worker's, its attempt id is the task in hand and its
 * sequence number is the next one; anything else fails the attempt as
 * "worker sent a malformed message" and replaces the worker.
 */
#ifndef MESHD_WIRE_H
#define MESHD_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "job.h"

struct task_req;

enum wire_type {
	WIRE_TASK = 1,
	WIRE_EXIT,
	WIRE_ACK,
	WIRE_HEARTBEAT,
	WIRE_CHECK,
	WIRE_METRIC,
	WIRE_RESULT,
	WIRE_TASK_FD
};

/* Largest message; AF_UNIX refuses a datagram larger than the send buffer
 * (about 208 KiB by default). */
#define WIRE_MAX	(128 * 1024)
/* Strings a worker sends back (messages, names) are cut to this. */
#define WIRE_STR_MAX	8192
/* The header of a worker's message: type, nonce, attempt id, sequence. */
#define WIRE_REPLY_HDR	24
/* Default largest task (task_max_bytes = 0). */
#define WIRE_TASK_MAX_DEFAULT	(16LL * 1024 * 1024)

/* A message being built. */
struct wbuf {
	unsigned char	*p;
	size_t		 len, cap;
};

/* A message being read; `err` is set once a read ran past the end. */
struct rbuf {
	const unsigned char	*p;
	size_t			 len, off;
	int			 err;
};

void	wbuf_init(struct wbuf *, enum wire_type);
void	wbuf_free(struct wbuf *);
void	wbuf_i32(struct wbuf *, int32_t);
void	wbuf_i64(struct wbuf *, int64_t);
void	wbuf_f64(struct wbuf *, double);
/* A NULL string is kept as NULL.  At most `max` bytes are written (0: no
 * limit). */
void	wbuf_str(struct wbuf *, const char *, size_t max);

void	rbuf_init(struct rbuf *, const void *, size_t);
int32_t	rbuf_i32(struct rbuf *);
int64_t	rbuf_i64(struct rbuf *);
double	rbuf_f64(struct rbuf *);
/* A new string, or NULL (a NULL string, or an error: see err). */
char	*rbuf_str(struct rbuf *);

/*
 * Send one message, retrying on EINTR; never raises SIGPIPE.  `nonblock`
 * makes a full socket an error rather than a wait.  0, or -1 with errno.
 */
int	wire_send(int fd, const struct wbuf *, int nonblock);
/* Send a message with descriptor `passfd` attached (SCM_RIGHTS). */
int	wire_send_fd(int fd, const struct wbuf *, int passfd, int nonblock);
/* Send a HEARTBEAT without touching the heap: it is sent while a plugin
 * may have used up the worker's memory. */
int	wire_send_heartbeat(int fd, uint64_t nonce, int64_t attempt_id,
	    uint32_t seq);
/*
 * Receive one message into buf (WIRE_MAX bytes).  Returns its length, 0
 * on end of file, -1 with errno (EAGAIN when nonblock and nothing is
 * there; EMSGSIZE for a message cut short).  Descriptors sent along are
 * discarded by the kernel: the supervisor never takes one from a worker.
 */
ssize_t	wire_recv(int fd, void *buf, int nonblock);
/*
 * As wire_recv(), blocking, for the worker: a descriptor sent along is
 * stored in *passfd (close-on-exec; -1 if none; any further ones are
 * closed).
 */
ssize_t	wire_recv_fd(int fd, void *buf, int *passfd);

/* Start a worker's message with its header (wbuf initialised here). */
void	wire_reply_init(struct wbuf *, enum wire_type, uint64_t nonce,
	    int64_t attempt_id, uint32_t seq);

/* A worker's message as the supervisor decodes it.  Strings are owned. */
struct wire_reply {
	uint32_t	 type;
	uint64_t	 nonce;
	int64_t		 attempt_id;
	uint32_t	 seq;
	/* ACK, RESULT */
	int64_t		 started_us, ended_us;
	/* RESULT */
	int32_t		 status, retryable, infra;
	char		*reason, *message;
	/* CHECK (name, value as observed), METRIC (name, value) */
	char		*name, *expectation;
	int32_t		 severity, passed;
	double		 value;
	int64_t		 recorded_us;
};

/*
 * Decode a worker's message of n bytes.  Pure: no I/O, no state, so it
 * can be fuzzed.  0, or -1 if the message is malformed: unknown type,
 * short, with bytes left over, a string longer than WIRE_STR_MAX, or a
 * status, flag or severity out of range (r is then cleared).  Free with
 * wire_reply_free() either way.
 */
int	wire_decode_reply(const void *, size_t n, struct wire_reply *r);
void	wire_reply_free(struct wire_reply *);

/* A task as the worker sees it: every string and parameter is owned. */
struct wire_task {
	int64_t		 attempt_id;
	char		*job, *task_id, *plugin_path;
	int		 stage, attempt;
	char		*partition_key;
	int64_t		 interval_start_us, interval_end_us;
	char		*staging_dir, *attempt_dir, *log_path;
	char		*product, *location;
	int64_t		 timeout_us;
	struct paramset	 params;
};

/* Encode a request as a TASK message (wbuf initialised here). */
void	wire_encode_task(struct wbuf *, const struct task_req *);
/* Decode the fields of a TASK message whose type was read already.  0, or
 * -1 on a malformed message (t is then cleared). */
int	wire_decode_task(struct rbuf *, struct wire_task *t);
void	wire_task_free(struct wire_task *);

#endif

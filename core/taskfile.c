/*
 * taskfile.c -- the request and result files of a remote attempt.
 *
 * The format is in taskfile.h.  Decoding is split from the file: the
 * parse functions take bytes and are pure, so that the fuzzer and the
 * pilot protocol use exactly what a reader of the files uses, and the
 * read functions only add the file (size limit, name in the cause).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sdk/meshd/plugin.h"
#include "executor.h"
#include "taskfile.h"
#include "util.h"
#include "wire.h"

#define TF_VERSION	1
/* magic, version, length ... trailer */
#define TF_HEAD		16
#define TF_TAIL		4
#define WIRE_NULL_STR	0xffffffffu

static const char tf_magic_request[4] = { 'M', 'S', 'R', 'Q' };
static const char tf_magic_result[4] = { 'M', 'S', 'R', 'S' };

char *
taskfile_path(const char *attempt_dir, const char *name)
{
	return path_join(attempt_dir, name);
}

/* ---------------------------------------------------------------- framing */

static void
tf_frame(struct wbuf *out, const char magic[4], const struct wbuf *body)
{
	uint32_t	version = TF_VERSION;
	uint64_t	len = body->len;

	memset(out, 0, sizeof *out);
	out->cap = TF_HEAD + body->len + TF_TAIL;
	out->p = xmalloc(out->cap);
	memcpy(out->p, magic, 4);
	memcpy(out->p + 4, &version, 4);
	memcpy(out->p + 8, &len, 8);
	if (body->len > 0)
		memcpy(out->p + TF_HEAD, body->p, body->len);
	memcpy(out->p + TF_HEAD + body->len, magic, 4);
	out->len = out->cap;
}

/*
 * Check the framing of a whole file of n bytes: the body is then
 * [*body, *body + *blen).  `magic` is what the file must be; `other` the
 * other kind, named if the file is that one instead.
 */
static int
tf_unframe(const unsigned char *p, size_t n, const char magic[4],
    const char *what, const char other[4], const char *other_what,
    const unsigned char **body, size_t *blen, char **cause)
{
	uint32_t	version;
	uint64_t	len, want;

	if (n < 4) {
		set_cause(cause, "truncated (%zu of at least %d bytes)", n,
		    TF_HEAD + TF_TAIL);
		return -1;
	}
	if (memcmp(p, magic, 4) != 0) {
		if (memcmp(p, other, 4) == 0)
			set_cause(cause, "bad magic: a %s file, not a %s file",
			    other_what, what);
		else
			set_cause(cause, "bad magic (not a %s file)", what);
		return -1;
	}
	if (n < TF_HEAD) {
		set_cause(cause, "truncated (%zu of at least %d bytes)", n,
		    TF_HEAD + TF_TAIL);
		return -1;
	}
	memcpy(&version, p + 4, 4);
	if (version != TF_VERSION) {
		set_cause(cause, "version %u, this build reads version %d",
		    (unsigned)version, TF_VERSION);
		return -1;
	}
	memcpy(&len, p + 8, 8);
	if (len > TASKFILE_MAX_BYTES - TF_HEAD - TF_TAIL) {
		set_cause(cause, "body length %llu makes a file over the limit "
		    "(%d bytes)", (unsigned long long)len, TASKFILE_MAX_BYTES);
		return -1;
	}
	want = TF_HEAD + len + TF_TAIL;
	if (n < want) {
		set_cause(cause, "truncated (%zu of %llu bytes)", n,
		    (unsigned long long)want);
		return -1;
	}
	if (n > want) {
		set_cause(cause, "trailing bytes (%llu after the end, at "
		    "byte %llu)", (unsigned long long)(n - want),
		    (unsigned long long)want);
		return -1;
	}
	if (memcmp(p + TF_HEAD + len, magic, 4) != 0) {
		set_cause(cause, "bad trailer (the body length does not match "
		    "the file's end: altered)");
		return -1;
	}
	*body = p + TF_HEAD;
	*blen = (size_t)len;
	return 0;
}

/* ---------------------------------------------------------------- files */

/* fsync the directory of `path`, so that a rename in it is durable. */
static int
tf_sync_dir(const char *path, char **cause)
{
	char	*dir = path_dirname(path);
	int	 fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		set_cause(cause, "%s: fsync of the directory: %s", dir,
		    strerror(errno));
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	free(dir);
	return rc;
}

/*
 * Write with a rename; with `sync`, the data and the rename are on disk
 * before it returns.  A request is written without: meshd's state is the
 * record, and a request lost to a power cut is a worker that refuses a
 * missing or cut file, which fails the attempt for a retry.  The fsyncs
 * would cost the scheduler two disk flushes a task.
 */
static int
tf_write(const char *path, const void *data, size_t len, int sync,
    char **cause)
{
	const unsigned char	*p = data;
	char			*dir, *tmp;
	ssize_t			 n;
	size_t			 off;
	int			 fd, e;

	dir = path_dirname(path);
	if (mkdir_p(dir, 0755, cause) != 0) {
		free(dir);
		return -1;
	}
	free(dir);
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0640)) == -1) {
		set_cause(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	for (off = 0; off < len; off += (size_t)n) {
		if ((n = write(fd, p + off, len - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			goto fail;
		}
	}
	/* The data before the name: after a crash the name points at a
	 * whole file or at nothing. */
	if (sync && fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	return sync ? tf_sync_dir(path, cause) : 0;
fail:
	e = errno;
	set_cause(cause, "%s: %s", tmp, strerror(e));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

int
taskfile_write_atomic(const char *path, const void *data, size_t len,
    char **cause)
{
	return tf_write(path, data, len, 1, cause);
}

/*
 * Read a whole file of at most TASKFILE_MAX_BYTES.  1 with
 * *buf (new) and *len, 0 if it does not exist, -1 with cause (not naming
 * the file: the caller does).
 */
static int
tf_read_file(const char *path, unsigned char **buf, size_t *len,
    char **cause)
{
	struct stat	 sb;
	unsigned char	*p;
	size_t		 got = 0, max = TASKFILE_MAX_BYTES;
	ssize_t		 n;
	int		 fd;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			return 0;
		set_cause(cause, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		set_cause(cause, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		set_cause(cause, "not a regular file");
		close(fd);
		return -1;
	}
	if ((unsigned long long)sb.st_size > max) {
		set_cause(cause, "%lld bytes, over the limit (%zu bytes)",
		    (long long)sb.st_size, max);
		close(fd);
		return -1;
	}
	/* One byte more than its size: a file that grows while we read is
	 * seen as such (trailing bytes), not cut to what stat said. */
	p = xmalloc((size_t)sb.st_size + 1);
	for (;;) {
		n = read(fd, p + got, (size_t)sb.st_size + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			set_cause(cause, "%s", strerror(errno));
			free(p);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == (size_t)sb.st_size + 1)
			break;
	}
	close(fd);
	*buf = p;
	*len = got;
	return 1;
}

/* ---------------------------------------------------------------- requests */

static void
tf_encode_opts(struct wbuf *b, const struct executor_opts *o)
{
	wbuf_i32(b, o->workers);
	wbuf_i32(b, o->max_tasks);
	wbuf_i32(b, o->memory_mb);
	wbuf_i32(b, o->kill_grace_s);
	wbuf_i32(b, o->heartbeat_timeout_s);
	wbuf_i64(b, o->log_max_bytes);
	wbuf_i32(b, o->log_overflow_fails);
	wbuf_i64(b, o->task_max_bytes);
	wbuf_i32(b, o->empty_check_fails);
}

void
taskfile_encode_request(struct wbuf *out, const struct task_req *req,
    const struct executor_opts *opts)
{
	struct wbuf	body, task;

	memset(&body, 0, sizeof body);
	tf_encode_opts(&body, opts);
	wire_encode_task(&task, req);
	/* Appended whole, its type included: the same bytes a worker
	 * would receive on its socket. */
	if (task.len > 0) {
		body.p = xrealloc(body.p, body.len + task.len);
		memcpy(body.p + body.len, task.p, task.len);
		body.len += task.len;
		body.cap = body.len;
	}
	wbuf_free(&task);
	tf_frame(out, tf_magic_request, &body);
	wbuf_free(&body);
}

int
taskfile_parse_request(const void *p, size_t n, struct wire_task *t,
    struct executor_opts *o, char **cause)
{
	const unsigned char	*body;
	struct rbuf		 r;
	size_t			 blen;
	int32_t			 type;

	memset(t, 0, sizeof *t);
	memset(o, 0, sizeof *o);
	if (tf_unframe(p, n, tf_magic_request, "request", tf_magic_result,
	    "result", &body, &blen, cause) != 0)
		return -1;
	rbuf_init(&r, body, blen);
	o->workers = rbuf_i32(&r);
	o->max_tasks = rbuf_i32(&r);
	o->memory_mb = rbuf_i32(&r);
	o->kill_grace_s = rbuf_i32(&r);
	o->heartbeat_timeout_s = rbuf_i32(&r);
	o->log_max_bytes = rbuf_i64(&r);
	o->log_overflow_fails = rbuf_i32(&r);
	o->task_max_bytes = rbuf_i64(&r);
	o->empty_check_fails = rbuf_i32(&r);
	if (r.err) {
		set_cause(cause, "body ends inside the worker options");
		goto bad;
	}
	if (o->workers < 0 || o->max_tasks < 0 || o->memory_mb < 0 ||
	    o->kill_grace_s < 0 || o->heartbeat_timeout_s < 0 ||
	    o->log_max_bytes < 0 || o->task_max_bytes < 0) {
		set_cause(cause, "a worker option is negative");
		goto bad;
	}
	if ((o->log_overflow_fails != 0 && o->log_overflow_fails != 1) ||
	    (o->empty_check_fails != 0 && o->empty_check_fails != 1)) {
		set_cause(cause, "a worker flag is neither 0 nor 1");
		goto bad;
	}
	if ((type = rbuf_i32(&r)) != WIRE_TASK) {
		set_cause(cause, r.err ? "body ends before the task" :
		    "the task is not a TASK message (type %d)", (int)type);
		goto bad;
	}
	if (wire_decode_task(&r, t) != 0) {
		set_cause(cause, "the task is malformed (cut short, a "
		    "parameter of unknown type or without a key, or no "
		    "plugin path)");
		goto bad;
	}
	if (r.off != r.len) {
		set_cause(cause, "%zu bytes left over after the task",
		    r.len - r.off);
		goto bad;
	}
	if (t->stage < MESHD_STAGE_EXTRACT || t->stage > MESHD_STAGE_PUBLISH) {
		set_cause(cause, "stage %d out of range", t->stage);
		goto bad;
	}
	if (t->timeout_us < 0) {
		set_cause(cause, "negative timeout");
		goto bad;
	}
	return 0;
bad:
	wire_task_free(t);
	memset(o, 0, sizeof *o);
	return -1;
}

int
taskfile_write_request(const char *path, const struct task_req *req,
    const struct executor_opts *opts, char **cause)
{
	struct wbuf	 f;
	char		*why = NULL;
	int		 rc;

	taskfile_encode_request(&f, req, opts);
	if (f.len > TASKFILE_MAX_BYTES) {
		set_cause(cause, "request file %s: %zu bytes, over the limit "
		    "(%d bytes)", path, f.len, TASKFILE_MAX_BYTES);
		wbuf_free(&f);
		return -1;
	}
	rc = tf_write(path, f.p, f.len, 0, &why);
	if (rc != 0) {
		set_cause(cause, "request file %s: %s", path, why);
		free(why);
	}
	wbuf_free(&f);
	return rc;
}

int
taskfile_read_request(const char *path, struct wire_task *t,
    struct executor_opts *opts, char **cause)
{
	unsigned char	*buf;
	size_t		 len;
	char		*why = NULL;
	int		 rc;

	memset(t, 0, sizeof *t);
	memset(opts, 0, sizeof *opts);
	if ((rc = tf_read_file(path, &buf, &len, &why)) <= 0) {
		set_cause(cause, "request file %s: %s", path, rc == 0 ?
		    strerror(ENOENT) : why);
		free(why);
		return -1;
	}
	rc = taskfile_parse_request(buf, len, t, opts, &why);
	free(buf);
	if (rc != 0) {
		set_cause(cause, "request file %s: %s", path, why);
		free(why);
		return -1;
	}
	return 0;
}

void
taskfile_task_req(const struct wire_task *t, struct task_req *req)
{
	memset(req, 0, sizeof *req);
	req->attempt_id = t->attempt_id;
	req->job = t->job;
	req->task_id = t->task_id;
	req->plugin_path = t->plugin_path;
	req->stage = t->stage;
	req->attempt = t->attempt;
	req->partition_key = t->partition_key;
	req->interval_start_us = t->interval_start_us;
	req->interval_end_us = t->interval_end_us;
	req->staging_dir = t->staging_dir;
	req->attempt_dir = t->attempt_dir;
	req->log_path = t->log_path;
	req->product = t->product;
	req->location = t->location;
	req->params = &t->params;
	req->timeout_us = t->timeout_us;
}

/* ---------------------------------------------------------------- results */

void
taskfile_encode_result(struct wbuf *b, const struct task_result *r)
{
	const struct check_rec	*c;
	const struct metric_rec	*m;
	size_t			 i;

	wbuf_i64(b, r->attempt_id);
	wbuf_i32(b, r->status);
	wbuf_i32(b, r->retryable != 0);
	wbuf_i32(b, r->infra != 0);
	/* Cut as the worker's messages are: a reader refuses longer. */
	wbuf_str(b, r->reason, WIRE_STR_MAX);
	wbuf_str(b, r->message, WIRE_STR_MAX);
	wbuf_i64(b, r->started_us);
	wbuf_i64(b, r->ended_us);
	wbuf_i32(b, (int32_t)(uint32_t)r->nchecks);
	for (i = 0; i < r->nchecks; i++) {
		c = &r->checks[i];
		wbuf_str(b, c->name != NULL ? c->name : "", WIRE_STR_MAX);
		wbuf_i32(b, c->severity);
		wbuf_i32(b, c->passed != 0);
		wbuf_f64(b, c->observed);
		wbuf_str(b, c->expectation, WIRE_STR_MAX);
		wbuf_i64(b, c->recorded_us);
	}
	wbuf_i32(b, (int32_t)(uint32_t)r->nmetrics);
	for (i = 0; i < r->nmetrics; i++) {
		m = &r->metrics[i];
		wbuf_str(b, m->name != NULL ? m->name : "", WIRE_STR_MAX);
		wbuf_f64(b, m->value);
	}
}

/*
 * A string of at most WIRE_STR_MAX bytes.  0 with *out (NULL for a NULL
 * string), or -1 with cause naming `what`.
 */
static int
tf_str(struct rbuf *r, const char *what, char **out, char **cause)
{
	uint32_t	n;

	*out = NULL;
	if (r->len - r->off < 4) {
		r->err = 1;
		set_cause(cause, "body ends inside %s", what);
		return -1;
	}
	memcpy(&n, r->p + r->off, 4);
	r->off += 4;
	if (n == WIRE_NULL_STR)
		return 0;
	if (n > WIRE_STR_MAX) {
		set_cause(cause, "%s is %u bytes, over the limit (%d)", what,
		    (unsigned)n, WIRE_STR_MAX);
		return -1;
	}
	if (r->len - r->off < n) {
		r->err = 1;
		set_cause(cause, "body ends inside %s", what);
		return -1;
	}
	*out = xstrndup((const char *)r->p + r->off, n);
	r->off += n;
	return 0;
}

/* The fixed-size fields read since the last check ran past the end. */
static int
tf_short(const struct rbuf *r, const char *what, char **cause)
{
	if (!r->err)
		return 0;
	set_cause(cause, "body ends inside %s", what);
	return -1;
}

static int
tf_flag(int32_t v, const char *what, char **cause)
{
	if (v == 0 || v == 1)
		return 0;
	set_cause(cause, "%s is %d, not 0 or 1", what, (int)v);
	return -1;
}

/* Smallest encoding of a check and of a metric: bounds a count before it
 * is trusted with an allocation. */
#define TF_CHECK_MIN	(4 + 4 + 4 + 8 + 4 + 8)
#define TF_METRIC_MIN	(4 + 8)

int
taskfile_decode_result(const void *p, size_t n, struct task_result **out,
    char **cause)
{
	struct task_result	*r = xcalloc(1, sizeof *r);
	struct check_rec	*c;
	struct metric_rec	*m;
	struct rbuf		 rb;
	uint32_t		 count;
	size_t			 i;
	char			 what[64];

	*out = NULL;
	rbuf_init(&rb, p, n);
	r->attempt_id = rbuf_i64(&rb);
	r->status = rbuf_i32(&rb);
	r->retryable = rbuf_i32(&rb);
	r->infra = rbuf_i32(&rb);
	if (tf_short(&rb, "the status", cause) != 0)
		goto bad;
	if (r->status != MESHD_OK && r->status != MESHD_FAILED &&
	    r->status != MESHD_RETRY && r->status != MESHD_SKIPPED) {
		set_cause(cause, "status %d out of range", r->status);
		goto bad;
	}
	if (tf_flag(r->retryable, "retryable", cause) != 0 ||
	    tf_flag(r->infra, "infra", cause) != 0)
		goto bad;
	if (tf_str(&rb, "the reason", &r->reason, cause) != 0 ||
	    tf_str(&rb, "the message", &r->message, cause) != 0)
		goto bad;
	r->started_us = rbuf_i64(&rb);
	r->ended_us = rbuf_i64(&rb);
	count = (uint32_t)rbuf_i32(&rb);
	if (tf_short(&rb, "the times", cause) != 0)
		goto bad;
	if (count > (rb.len - rb.off) / TF_CHECK_MIN) {
		set_cause(cause, "%u checks cannot fit in the %zu bytes left",
		    (unsigned)count, rb.len - rb.off);
		goto bad;
	}
	r->checks = xcalloc(count == 0 ? 1 : count, sizeof *r->checks);
	for (i = 0; i < count; i++) {
		c = &r->checks[r->nchecks++];
		snprintf(what, sizeof what, "the name of check %zu", i + 1);
		if (tf_str(&rb, what, &c->name, cause) != 0)
			goto bad;
		if (c->name == NULL) {
			set_cause(cause, "check %zu has no name", i + 1);
			goto bad;
		}
		c->severity = rbuf_i32(&rb);
		c->passed = rbuf_i32(&rb);
		c->observed = rbuf_f64(&rb);
		snprintf(what, sizeof what, "check %zu", i + 1);
		if (tf_short(&rb, what, cause) != 0)
			goto bad;
		if (c->severity != MESHD_SEV_ERROR &&
		    c->severity != MESHD_SEV_WARN) {
			set_cause(cause, "check %zu: severity %d out of range",
			    i + 1, c->severity);
			goto bad;
		}
		snprintf(what, sizeof what, "check %zu's passed", i + 1);
		if (tf_flag(c->passed, what, cause) != 0)
			goto bad;
		snprintf(what, sizeof what, "the expectation of check %zu",
		    i + 1);
		if (tf_str(&rb, what, &c->expectation, cause) != 0)
			goto bad;
		c->recorded_us = rbuf_i64(&rb);
		snprintf(what, sizeof what, "check %zu", i + 1);
		if (tf_short(&rb, what, cause) != 0)
			goto bad;
	}
	count = (uint32_t)rbuf_i32(&rb);
	if (tf_short(&rb, "the metric count", cause) != 0)
		goto bad;
	if (count > (rb.len - rb.off) / TF_METRIC_MIN) {
		set_cause(cause, "%u metrics cannot fit in the %zu bytes left",
		    (unsigned)count, rb.len - rb.off);
		goto bad;
	}
	r->metrics = xcalloc(count == 0 ? 1 : count, sizeof *r->metrics);
	for (i = 0; i < count; i++) {
		m = &r->metrics[r->nmetrics++];
		snprintf(what, sizeof what, "the name of metric %zu", i + 1);
		if (tf_str(&rb, what, &m->name, cause) != 0)
			goto bad;
		if (m->name == NULL) {
			set_cause(cause, "metric %zu has no name", i + 1);
			goto bad;
		}
		m->value = rbuf_f64(&rb);
		snprintf(what, sizeof what, "metric %zu", i + 1);
		if (tf_short(&rb, what, cause) != 0)
			goto bad;
	}
	if (rb.off != rb.len) {
		set_cause(cause, "%zu bytes left over after the result",
		    rb.len - rb.off);
		goto bad;
	}
	*out = r;
	return 0;
bad:
	task_result_free(r);
	return -1;
}

void
taskfile_encode_result_file(struct wbuf *out, const struct task_result *r)
{
	struct wbuf	body;

	memset(&body, 0, sizeof body);
	taskfile_encode_result(&body, r);
	tf_frame(out, tf_magic_result, &body);
	wbuf_free(&body);
}

int
taskfile_parse_result(const void *p, size_t n, int64_t attempt_id,
    struct task_result **out, char **cause)
{
	const unsigned char	*body;
	size_t			 blen;

	*out = NULL;
	if (tf_unframe(p, n, tf_magic_result, "result", tf_magic_request,
	    "request", &body, &blen, cause) != 0)
		return -1;
	if (taskfile_decode_result(body, blen, out, cause) != 0)
		return -1;
	if ((*out)->attempt_id != attempt_id) {
		set_cause(cause, "written for attempt %lld, not %lld",
		    (long long)(*out)->attempt_id, (long long)attempt_id);
		task_result_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int
taskfile_write_result(const char *path, const struct task_result *r,
    char **cause)
{
	struct wbuf	 f;
	char		*why = NULL;
	int		 rc;

	taskfile_encode_result_file(&f, r);
	rc = taskfile_write_atomic(path, f.p, f.len, &why);
	if (rc != 0) {
		set_cause(cause, "result file %s: %s", path, why);
		free(why);
	}
	wbuf_free(&f);
	return rc;
}

int
taskfile_read_result(const char *path, int64_t attempt_id,
    struct task_result **out, char **cause)
{
	unsigned char	*buf;
	size_t		 len;
	char		*why = NULL;
	int		 rc;

	*out = NULL;
	if ((rc = tf_read_file(path, &buf, &len, &why)) <= 0) {
		if (rc < 0) {
			set_cause(cause, "result file %s: %s", path, why);
			free(why);
		}
		return rc;
	}
	rc = taskfile_parse_result(buf, len, attempt_id, out, &why);
	free(buf);
	if (rc != 0) {
		set_cause(cause, "result file %s: %s", path, why);
		free(why);
		return -1;
	}
	return 1;
}

/* ---------------------------------------------------------------- started */

int
taskfile_write_started(const char *path, int64_t attempt_id, char **cause)
{
	char		 host[256], when[32], *text, *why = NULL;
	const char	*job = getenv("SLURM_JOB_ID");
	const char	*ajob = getenv("SLURM_ARRAY_JOB_ID");
	const char	*atask = getenv("SLURM_ARRAY_TASK_ID");
	int64_t		 now = now_us();
	int		 rc;

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "(unknown)");
	host[sizeof host - 1] = '\0';
	/* Slurm's variables come from the environment: only digits are
	 * copied, so that the marker stays one value a line. */
	if (job != NULL && job[strspn(job, "0123456789")] != '\0')
		job = NULL;
	if (ajob != NULL && ajob[strspn(ajob, "0123456789")] != '\0')
		ajob = NULL;
	if (atask != NULL && atask[strspn(atask, "0123456789")] != '\0')
		atask = NULL;
	text = xasprintf("host %s\npid %ld\nattempt_id %lld\nstarted %s\n"
	    "started_us %lld\n%s%s%s%s%s%s%s%s%s", host, (long)getpid(),
	    (long long)attempt_id, fmt_utc(now, when, sizeof when),
	    (long long)now,
	    job != NULL ? "slurm_job_id " : "", job != NULL ? job : "",
	    job != NULL ? "\n" : "",
	    ajob != NULL ? "slurm_array_job_id " : "", ajob != NULL ? ajob : "",
	    ajob != NULL ? "\n" : "",
	    atask != NULL ? "slurm_array_task_id " : "",
	    atask != NULL ? atask : "", atask != NULL ? "\n" : "");
	rc = taskfile_write_atomic(path, text, strlen(text), &why);
	if (rc != 0) {
		set_cause(cause, "started marker %s: %s", path, why);
		free(why);
	}
	free(text);
	return rc;
}

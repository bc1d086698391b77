/*
 * taskfile-stub.c -- TEST STUB of core/taskfile.h, for the pilot tests
 * only, until the real core/taskfile.c (branch taskfile) is merged.
 *
 * NOT the file format of taskfile.h: a request here is the raw
 * executor_opts followed by a TASK message, a result a few fields in the
 * wire format, both written with a temporary file and rename().
 *
 * Once core/taskfile.c exists (merged), this file compiles to nothing and
 * the tests link the real one from the core library; it can then be
 * deleted, with its two mentions in Makefile.am.  Its functions are weak
 * besides, so that nothing clashes if it is ever linked with the real one.
 */
#if defined(__has_include) && __has_include("taskfile.c")
typedef int	taskfile_stub_unused;
#else
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor.h"
#include "taskfile.h"
#include "util.h"
#include "wire.h"

#define STUB_WEAK	__attribute__((weak))

STUB_WEAK char *
taskfile_path(const char *attempt_dir, const char *name)
{
	return xasprintf("%s/%s", attempt_dir, name);
}

static int
stub_write(const char *path, const void *p, size_t len, char **cause)
{
	char	*tmp, *dir;
	int	 fd, rc = -1;

	dir = path_dirname(path);
	if (mkdir_p(dir, 0755, cause) != 0) {
		free(dir);
		return -1;
	}
	free(dir);
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		set_cause(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (write(fd, p, len) != (ssize_t)len || fsync(fd) != 0) {
		set_cause(cause, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0)
		set_cause(cause, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	free(tmp);
	return rc;
}

static unsigned char *
stub_read(const char *path, size_t *len, char **cause)
{
	struct stat	 sb;
	unsigned char	*buf;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	if (read(fd, buf, (size_t)sb.st_size) != (ssize_t)sb.st_size) {
		set_cause(cause, "%s: short read", path);
		close(fd);
		free(buf);
		return NULL;
	}
	close(fd);
	*len = (size_t)sb.st_size;
	return buf;
}

STUB_WEAK int
taskfile_write_request(const char *path, const struct task_req *req,
    const struct executor_opts *opts, char **cause)
{
	struct wbuf	 b;
	unsigned char	*p;
	int		 rc;

	wire_encode_task(&b, req);
	p = xmalloc(sizeof *opts + b.len);
	memcpy(p, opts, sizeof *opts);
	memcpy(p + sizeof *opts, b.p, b.len);
	rc = stub_write(path, p, sizeof *opts + b.len, cause);
	free(p);
	wbuf_free(&b);
	return rc;
}

STUB_WEAK int
taskfile_read_request(const char *path, struct wire_task *t,
    struct executor_opts *opts, char **cause)
{
	struct rbuf	 r;
	unsigned char	*p;
	size_t		 len;

	memset(t, 0, sizeof *t);
	if ((p = stub_read(path, &len, cause)) == NULL)
		return -1;
	if (len < sizeof *opts + 4) {
		set_cause(cause, "request file %s: truncated", path);
		free(p);
		return -1;
	}
	memcpy(opts, p, sizeof *opts);
	rbuf_init(&r, p + sizeof *opts, len - sizeof *opts);
	if (rbuf_i32(&r) != WIRE_TASK || wire_decode_task(&r, t) != 0 ||
	    r.off != r.len) {
		set_cause(cause, "request file %s: malformed", path);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

STUB_WEAK void
taskfile_encode_result(struct wbuf *b, const struct task_result *r)
{
	wbuf_i64(b, r->attempt_id);
	wbuf_i32(b, r->status);
	wbuf_i32(b, r->retryable);
	wbuf_i32(b, r->infra);
	wbuf_str(b, r->reason, WIRE_STR_MAX);
	wbuf_str(b, r->message, WIRE_STR_MAX);
	wbuf_i64(b, r->started_us);
	wbuf_i64(b, r->ended_us);
}

STUB_WEAK int
taskfile_decode_result(const void *p, size_t len, struct task_result **out,
    char **cause)
{
	struct task_result	*r = xcalloc(1, sizeof *r);
	struct rbuf		 rb;

	rbuf_init(&rb, p, len);
	r->attempt_id = rbuf_i64(&rb);
	r->status = rbuf_i32(&rb);
	r->retryable = rbuf_i32(&rb);
	r->infra = rbuf_i32(&rb);
	r->reason = rbuf_str(&rb);
	r->message = rbuf_str(&rb);
	r->started_us = rbuf_i64(&rb);
	r->ended_us = rbuf_i64(&rb);
	if (rb.err || rb.off != rb.len) {
		set_cause(cause, "malformed result");
		task_result_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

STUB_WEAK int
taskfile_write_result(const char *path, const struct task_result *r,
    char **cause)
{
	struct wbuf	b;
	int		rc;

	wbuf_init(&b, (enum wire_type)0);
	b.len = 0;	/* no type word: the body only */
	taskfile_encode_result(&b, r);
	rc = stub_write(path, b.p, b.len, cause);
	wbuf_free(&b);
	return rc;
}

STUB_WEAK int
taskfile_read_result(const char *path, int64_t attempt_id,
    struct task_result **out, char **cause)
{
	unsigned char	*p;
	size_t		 len;
	int		 rc;

	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if ((p = stub_read(path, &len, cause)) == NULL)
		return -1;
	rc = taskfile_decode_result(p, len, out, cause);
	free(p);
	if (rc != 0)
		return -1;
	if ((*out)->attempt_id != attempt_id) {
		set_cause(cause, "result file %s: written for attempt %lld, "
		    "not %lld", path, (long long)(*out)->attempt_id,
		    (long long)attempt_id);
		task_result_free(*out);
		*out = NULL;
		return -1;
	}
	return 1;
}

STUB_WEAK void
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
#endif

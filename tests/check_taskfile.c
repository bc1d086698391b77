/*
 * check_taskfile.c -- the request and result files of a remote attempt
 * (taskfile.h).
 *
 * Round trips: a request (options, every field, typed parameters, NULL
 * strings) and a result (reason, message, checks with and without
 * expectation, metrics) read back as written, through the files and
 * through the pure decoders.  Refusals, each with its cause: every
 * prefix of a valid file (a cut at any byte), a flipped byte in the
 * magic, version, length and trailer, trailing bytes, a result forged
 * for another attempt, strings over WIRE_STR_MAX, a status, severity or
 * flag out of range, counts that cannot fit, a request read as a
 * result, a file over the size limit.  The atomic write leaves no
 * temporary file and creates missing directories.
 */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
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

static char	tmpdir[64];

static void
setup(void)
{
	umask(022);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_taskfile.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
rm_rf(const char *path)
{
	char	*cmd = xasprintf("rm -rf '%s'", path);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static void
teardown(void)
{
	rm_rf(tmpdir);
}

static int
str_eq(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* ---------------------------------------------------------------- fixtures */

static struct paramset	fx_params;

static void
fx_request(struct task_req *req, struct executor_opts *eo)
{
	struct param	p;

	memset(&fx_params, 0, sizeof fx_params);
	memset(&p, 0, sizeof p);
	p.key = (char *)"n";
	p.type = PARAM_INT;
	p.i = -42;
	paramset_set(&fx_params, &p);
	p.key = (char *)"ratio";
	p.type = PARAM_DOUBLE;
	p.i = 0;
	p.d = 0.125;
	paramset_set(&fx_params, &p);
	p.key = (char *)"flag";
	p.type = PARAM_BOOL;
	p.i = 1;
	p.d = 0;
	paramset_set(&fx_params, &p);
	p.key = (char *)"label";
	p.type = PARAM_STRING;
	p.i = 0;
	p.s = (char *)"h\xc3\xa9llo \"quoted\"\nnewline";
	paramset_set(&fx_params, &p);

	memset(req, 0, sizeof *req);
	req->attempt_id = 1234567890123LL;
	req->job = "flights_daily";
	req->task_id = "extract";
	req->plugin_path = "/usr/lib/meshd/plugins/flights.so";
	req->stage = MESHD_STAGE_CHECK;
	req->attempt = 3;
	req->partition_key = "2001-01-02";
	req->interval_start_us = 978393600000000LL;
	req->interval_end_us = 978480000000000LL;
	req->staging_dir = "/srv/staging/flights_daily/2001-01-02";
	req->attempt_dir = "/srv/staging/flights_daily/2001-01-02/a13";
	req->log_path = "/srv/logs/flights_daily/2001-01-02/extract.3.log";
	req->product = NULL;
	req->location = NULL;
	req->params = &fx_params;
	req->timeout_us = 300000000LL;

	memset(eo, 0, sizeof *eo);
	eo->workers = 4;
	eo->max_tasks = 100;
	eo->memory_mb = 512;
	eo->kill_grace_s = 7;
	eo->heartbeat_timeout_s = 11;
	eo->log_max_bytes = 5LL * 1024 * 1024 * 1024;
	eo->log_overflow_fails = 1;
	eo->task_max_bytes = 1LL << 20;
	eo->empty_check_fails = 1;
}

static struct task_result *
fx_result(int64_t attempt_id)
{
	struct task_result	*r = xcalloc(1, sizeof *r);

	r->attempt_id = attempt_id;
	r->status = MESHD_FAILED;
	r->retryable = 1;
	r->infra = 0;
	r->reason = xstrdup("killed by signal 11 (SIGSEGV)");
	r->message = NULL;
	r->started_us = 1700000000000000LL;
	r->ended_us = 1700000001500000LL;
	r->nchecks = 2;
	r->checks = xcalloc(2, sizeof *r->checks);
	r->checks[0].name = xstrdup("rows_min");
	r->checks[0].severity = MESHD_SEV_ERROR;
	r->checks[0].passed = 1;
	r->checks[0].observed = 150.5;
	r->checks[0].expectation = xstrdup(">= 100");
	r->checks[0].recorded_us = 1700000000700000LL;
	r->checks[1].name = xstrdup("late_share");
	r->checks[1].severity = MESHD_SEV_WARN;
	r->checks[1].passed = 0;
	r->checks[1].observed = -0.0;
	r->checks[1].expectation = NULL;
	r->checks[1].recorded_us = 0;
	r->nmetrics = 3;
	r->metrics = xcalloc(3, sizeof *r->metrics);
	r->metrics[0].name = xstrdup("rows");
	r->metrics[0].value = 1e300;
	r->metrics[1].name = xstrdup("");
	r->metrics[1].value = -1;
	r->metrics[2].name = xstrdup("bytes");
	r->metrics[2].value = 0.1;
	return r;
}

static void
assert_result_eq(const struct task_result *a, const struct task_result *b)
{
	size_t	i;

	ck_assert_int_eq(a->attempt_id, b->attempt_id);
	ck_assert_int_eq(a->status, b->status);
	ck_assert_int_eq(a->retryable, b->retryable);
	ck_assert_int_eq(a->infra, b->infra);
	ck_assert(str_eq(a->reason, b->reason));
	ck_assert(str_eq(a->message, b->message));
	ck_assert_int_eq(a->started_us, b->started_us);
	ck_assert_int_eq(a->ended_us, b->ended_us);
	ck_assert_uint_eq(a->nchecks, b->nchecks);
	for (i = 0; i < a->nchecks; i++) {
		ck_assert(str_eq(a->checks[i].name, b->checks[i].name));
		ck_assert_int_eq(a->checks[i].severity, b->checks[i].severity);
		ck_assert_int_eq(a->checks[i].passed, b->checks[i].passed);
		ck_assert(memcmp(&a->checks[i].observed,
		    &b->checks[i].observed, sizeof(double)) == 0);
		ck_assert(str_eq(a->checks[i].expectation,
		    b->checks[i].expectation));
		ck_assert_int_eq(a->checks[i].recorded_us,
		    b->checks[i].recorded_us);
	}
	ck_assert_uint_eq(a->nmetrics, b->nmetrics);
	for (i = 0; i < a->nmetrics; i++) {
		ck_assert(str_eq(a->metrics[i].name, b->metrics[i].name));
		ck_assert(memcmp(&a->metrics[i].value, &b->metrics[i].value,
		    sizeof(double)) == 0);
	}
}

static void
write_bytes(const char *path, const void *p, size_t n)
{
	int	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* The cause must contain `want`, and name `path` when one is given. */
static void
assert_cause(const char *cause, const char *path, const char *want)
{
	ck_assert_msg(cause != NULL, "no cause (wanted '%s')", want);
	ck_assert_msg(strstr(cause, want) != NULL, "cause '%s' lacks '%s'",
	    cause, want);
	if (path != NULL)
		ck_assert_msg(strstr(cause, path) != NULL,
		    "cause '%s' does not name %s", cause, path);
}

/* ---------------------------------------------------------------- requests */

START_TEST(request_roundtrip)
{
	struct task_req		 req, back;
	struct executor_opts	 eo, eo2;
	struct wire_task	 t;
	char			*path, *cause = NULL;
	size_t			 i;

	fx_request(&req, &eo);
	/* Missing parents are created. */
	path = xasprintf("%s/x/y/a13/request", tmpdir);
	ck_assert_int_eq(taskfile_write_request(path, &req, &eo, &cause), 0);
	ck_assert_int_eq(taskfile_read_request(path, &t, &eo2, &cause), 0);
	ck_assert(memcmp(&eo, &eo2, sizeof eo) == 0);
	taskfile_task_req(&t, &back);
	ck_assert_int_eq(back.attempt_id, req.attempt_id);
	ck_assert_str_eq(back.job, req.job);
	ck_assert_str_eq(back.task_id, req.task_id);
	ck_assert_str_eq(back.plugin_path, req.plugin_path);
	ck_assert_int_eq(back.stage, req.stage);
	ck_assert_int_eq(back.attempt, req.attempt);
	ck_assert_str_eq(back.partition_key, req.partition_key);
	ck_assert_int_eq(back.interval_start_us, req.interval_start_us);
	ck_assert_int_eq(back.interval_end_us, req.interval_end_us);
	ck_assert_str_eq(back.staging_dir, req.staging_dir);
	ck_assert_str_eq(back.attempt_dir, req.attempt_dir);
	ck_assert_str_eq(back.log_path, req.log_path);
	ck_assert_ptr_null(back.product);
	ck_assert_ptr_null(back.location);
	ck_assert_int_eq(back.timeout_us, req.timeout_us);
	ck_assert_ptr_eq(back.params, &t.params);
	ck_assert_uint_eq(t.params.n, fx_params.n);
	for (i = 0; i < t.params.n; i++) {
		ck_assert_str_eq(t.params.v[i].key, fx_params.v[i].key);
		ck_assert_int_eq(t.params.v[i].type, fx_params.v[i].type);
		ck_assert_int_eq(t.params.v[i].i, fx_params.v[i].i);
		ck_assert(t.params.v[i].d == fx_params.v[i].d);
		ck_assert(str_eq(t.params.v[i].s, fx_params.v[i].s));
	}
	wire_task_free(&t);
	paramset_free(&fx_params);
	free(path);
}
END_TEST

/* Every string but the plugin path NULL, no parameters. */
START_TEST(request_nulls)
{
	struct task_req		 req;
	struct executor_opts	 eo, eo2;
	struct wire_task	 t;
	struct wbuf		 f;
	char			*cause = NULL;

	memset(&req, 0, sizeof req);
	memset(&eo, 0, sizeof eo);
	req.plugin_path = "p.so";
	req.attempt_id = -1;
	taskfile_encode_request(&f, &req, &eo);
	ck_assert_int_eq(taskfile_parse_request(f.p, f.len, &t, &eo2, &cause),
	    0);
	ck_assert_ptr_null(t.job);
	ck_assert_ptr_null(t.task_id);
	ck_assert_ptr_null(t.partition_key);
	ck_assert_ptr_null(t.staging_dir);
	ck_assert_ptr_null(t.attempt_dir);
	ck_assert_ptr_null(t.log_path);
	ck_assert_str_eq(t.plugin_path, "p.so");
	ck_assert_uint_eq(t.params.n, 0);
	ck_assert_int_eq(t.attempt_id, -1);
	wire_task_free(&t);
	/* Without a plugin path there is nothing to run. */
	req.plugin_path = NULL;
	wbuf_free(&f);
	taskfile_encode_request(&f, &req, &eo);
	ck_assert_int_eq(taskfile_parse_request(f.p, f.len, &t, &eo2, &cause),
	    -1);
	assert_cause(cause, NULL, "no plugin path");
	free(cause);
	wbuf_free(&f);
}
END_TEST

/* Every prefix of a valid request is refused, from the file too. */
START_TEST(request_every_prefix)
{
	struct task_req		 req;
	struct executor_opts	 eo, eo2;
	struct wire_task	 t;
	struct wbuf		 f;
	char			*cause = NULL, *path, want[64];
	size_t			 n;

	fx_request(&req, &eo);
	taskfile_encode_request(&f, &req, &eo);
	paramset_free(&fx_params);
	path = xasprintf("%s/request", tmpdir);
	for (n = 0; n < f.len; n++) {
		ck_assert_msg(taskfile_parse_request(f.p, n, &t, &eo2,
		    &cause) == -1, "prefix of %zu bytes accepted", n);
		ck_assert_ptr_nonnull(cause);
		ck_assert_ptr_null(t.plugin_path);
		if (n >= 16) {
			snprintf(want, sizeof want, "truncated (%zu of %zu "
			    "bytes)", n, f.len);
			assert_cause(cause, NULL, want);
		}
		free(cause);
		cause = NULL;
		/* Reading the file says the same, naming it. */
		if (n % 37 == 0 || n + 1 == f.len) {
			write_bytes(path, f.p, n);
			ck_assert_int_eq(taskfile_read_request(path, &t, &eo2,
			    &cause), -1);
			assert_cause(cause, path, "truncated");
			free(cause);
			cause = NULL;
		}
	}
	ck_assert_int_eq(taskfile_parse_request(f.p, f.len, &t, &eo2, &cause),
	    0);
	wire_task_free(&t);
	wbuf_free(&f);
	free(path);
}
END_TEST

START_TEST(request_refusals)
{
	struct task_req		 req;
	struct executor_opts	 eo, eo2;
	struct wire_task	 t;
	struct wbuf		 f, g;
	struct task_result	*r;
	char			*cause = NULL, *path;
	unsigned char		*p;
	uint64_t		 len;

	fx_request(&req, &eo);
	taskfile_encode_request(&f, &req, &eo);
	paramset_free(&fx_params);
	p = xmalloc(f.len + 8);

	/* magic */
	memcpy(p, f.p, f.len);
	p[0] ^= 0x20;
	ck_assert_int_eq(taskfile_parse_request(p, f.len, &t, &eo2, &cause),
	    -1);
	assert_cause(cause, NULL, "bad magic");
	/* version */
	memcpy(p, f.p, f.len);
	p[4] = 2;
	ck_assert_int_eq(taskfile_parse_request(p, f.len, &t, &eo2, &cause),
	    -1);
	assert_cause(cause, NULL, "version 2");
	/* trailer */
	memcpy(p, f.p, f.len);
	p[f.len - 1] ^= 1;
	ck_assert_int_eq(taskfile_parse_request(p, f.len, &t, &eo2, &cause),
	    -1);
	assert_cause(cause, NULL, "bad trailer");
	/* trailing bytes */
	memcpy(p, f.p, f.len);
	p[f.len] = 'x';
	ck_assert_int_eq(taskfile_parse_request(p, f.len + 1, &t, &eo2,
	    &cause), -1);
	assert_cause(cause, NULL, "trailing bytes");
	/* a length that says less: the trailer is not where it says */
	memcpy(p, f.p, f.len);
	memcpy(&len, p + 8, 8);
	len -= 4;
	memcpy(p + 8, &len, 8);
	ck_assert_int_eq(taskfile_parse_request(p, f.len, &t, &eo2, &cause),
	    -1);
	ck_assert_ptr_nonnull(cause);
	/* a length over the limit */
	memcpy(p, f.p, f.len);
	len = (uint64_t)TASKFILE_MAX_BYTES;
	memcpy(p + 8, &len, 8);
	ck_assert_int_eq(taskfile_parse_request(p, f.len, &t, &eo2, &cause),
	    -1);
	assert_cause(cause, NULL, "over the limit");
	/* a negative option (memory_mb, the third i32 of the body) */
	memcpy(p, f.p, f.len);
	p[16 + 8 + 3] = 0x80;
	ck_assert_int_eq(taskfile_parse_request(p, f.len, &t, &eo2, &cause),
	    -1);
	assert_cause(cause, NULL, "negative");
	/* a flag out of range (log_overflow_fails) */
	memcpy(p, f.p, f.len);
	p[16 + 20 + 8] = 2;
	ck_assert_int_eq(taskfile_parse_request(p, f.len, &t, &eo2, &cause),
	    -1);
	assert_cause(cause, NULL, "neither 0 nor 1");
	/* a stage out of range: re-encode with stage 7 */
	req.stage = 7;
	req.params = NULL;
	taskfile_encode_request(&g, &req, &eo);
	ck_assert_int_eq(taskfile_parse_request(g.p, g.len, &t, &eo2, &cause),
	    -1);
	assert_cause(cause, NULL, "stage 7");
	wbuf_free(&g);
	/* a request is not a result, nor the other way round */
	ck_assert_int_eq(taskfile_parse_result(f.p, f.len, req.attempt_id,
	    &r, &cause), -1);
	assert_cause(cause, NULL, "a request file, not a result file");
	r = fx_result(1);
	taskfile_encode_result_file(&g, r);
	task_result_free(r);
	ck_assert_int_eq(taskfile_parse_request(g.p, g.len, &t, &eo2, &cause),
	    -1);
	assert_cause(cause, NULL, "a result file, not a request file");
	wbuf_free(&g);
	/* a missing file names it */
	path = xasprintf("%s/nope/request", tmpdir);
	ck_assert_int_eq(taskfile_read_request(path, &t, &eo2, &cause), -1);
	assert_cause(cause, path, "No such file");
	free(path);
	free(cause);
	free(p);
	wbuf_free(&f);
}
END_TEST

/* ---------------------------------------------------------------- results */

START_TEST(result_roundtrip)
{
	struct task_result	*r, *back = NULL;
	char			*path, *cause = NULL;
	struct wbuf		 b;

	r = fx_result(13);
	path = xasprintf("%s/a/b/result", tmpdir);
	ck_assert_int_eq(taskfile_write_result(path, r, &cause), 0);
	ck_assert_int_eq(taskfile_read_result(path, 13, &back, &cause), 1);
	assert_result_eq(r, back);
	ck_assert_int_eq(back->pid, 0);
	task_result_free(back);
	/* The pure decoder, on a body appended to a message as the pilot
	 * protocol does. */
	wbuf_init(&b, WIRE_RESULT);
	taskfile_encode_result(&b, r);
	ck_assert_int_eq(taskfile_decode_result(b.p + 4, b.len - 4, &back,
	    &cause), 0);
	assert_result_eq(r, back);
	task_result_free(back);
	wbuf_free(&b);
	/* OK, no strings, no checks, no metrics. */
	task_result_free(r);
	r = xcalloc(1, sizeof *r);
	r->attempt_id = 14;
	r->status = MESHD_OK;
	ck_assert_int_eq(taskfile_write_result(path, r, &cause), 0);
	ck_assert_int_eq(taskfile_read_result(path, 14, &back, &cause), 1);
	assert_result_eq(r, back);
	ck_assert_ptr_null(back->reason);
	ck_assert_ptr_null(back->message);
	task_result_free(back);
	task_result_free(r);
	free(path);
	ck_assert_ptr_null(cause);
}
END_TEST

START_TEST(result_missing)
{
	struct task_result	*back = (void *)1;
	char			*path, *cause = NULL;

	path = xasprintf("%s/result", tmpdir);
	ck_assert_int_eq(taskfile_read_result(path, 1, &back, &cause), 0);
	ck_assert_ptr_null(back);
	ck_assert_ptr_null(cause);
	free(path);
	path = xasprintf("%s/no/such/dir/result", tmpdir);
	ck_assert_int_eq(taskfile_read_result(path, 1, &back, &cause), 0);
	free(path);
	/* A directory where the file should be is not "missing". */
	path = xasprintf("%s/dir", tmpdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(taskfile_read_result(path, 1, &back, &cause), -1);
	assert_cause(cause, path, "not a regular file");
	free(cause);
	free(path);
}
END_TEST

START_TEST(result_every_prefix)
{
	struct task_result	*r, *back;
	struct wbuf		 f;
	char			*path, *cause = NULL, want[64];
	size_t			 n;

	r = fx_result(13);
	taskfile_encode_result_file(&f, r);
	path = xasprintf("%s/result", tmpdir);
	for (n = 0; n < f.len; n++) {
		ck_assert_msg(taskfile_parse_result(f.p, n, 13, &back,
		    &cause) == -1, "prefix of %zu bytes accepted", n);
		ck_assert_ptr_null(back);
		if (n >= 16) {
			snprintf(want, sizeof want, "truncated (%zu of %zu "
			    "bytes)", n, f.len);
			assert_cause(cause, NULL, want);
		} else
			ck_assert_ptr_nonnull(cause);
		free(cause);
		cause = NULL;
		write_bytes(path, f.p, n);
		ck_assert_int_eq(taskfile_read_result(path, 13, &back,
		    &cause), -1);
		assert_cause(cause, path, "result file");
		free(cause);
		cause = NULL;
	}
	/* The body alone, cut anywhere, is refused by the decoder too. */
	for (n = 0; n < f.len - 20; n++) {
		ck_assert_msg(taskfile_decode_result(f.p + 16, n, &back,
		    &cause) == -1, "body prefix of %zu bytes accepted", n);
		ck_assert_ptr_nonnull(cause);
		free(cause);
		cause = NULL;
	}
	write_bytes(path, f.p, f.len);
	ck_assert_int_eq(taskfile_read_result(path, 13, &back, &cause), 1);
	assert_result_eq(r, back);
	task_result_free(back);
	task_result_free(r);
	wbuf_free(&f);
	free(path);
}
END_TEST

START_TEST(result_flips)
{
	struct task_result	*r, *back;
	struct wbuf		 f;
	unsigned char		*p;
	char			*cause = NULL;
	size_t			 i;

	r = fx_result(13);
	taskfile_encode_result_file(&f, r);
	task_result_free(r);
	p = xmalloc(f.len + 1);
	/* Each byte of the magic, the version, the trailer. */
	for (i = 0; i < 8; i++) {
		memcpy(p, f.p, f.len);
		p[i] ^= 0x01;
		ck_assert_int_eq(taskfile_parse_result(p, f.len, 13, &back,
		    &cause), -1);
		assert_cause(cause, NULL, i < 4 ? "bad magic" : "version");
	}
	for (i = f.len - 4; i < f.len; i++) {
		memcpy(p, f.p, f.len);
		p[i] ^= 0x80;
		ck_assert_int_eq(taskfile_parse_result(p, f.len, 13, &back,
		    &cause), -1);
		assert_cause(cause, NULL, "bad trailer");
	}
	/* Each byte of the length. */
	for (i = 8; i < 16; i++) {
		memcpy(p, f.p, f.len);
		p[i] ^= 0x01;
		ck_assert_int_eq(taskfile_parse_result(p, f.len, 13, &back,
		    &cause), -1);
		ck_assert_ptr_nonnull(cause);
	}
	memcpy(p, f.p, f.len);
	p[f.len] = 0;
	ck_assert_int_eq(taskfile_parse_result(p, f.len + 1, 13, &back,
	    &cause), -1);
	assert_cause(cause, NULL, "trailing bytes (1 after the end");
	free(cause);
	free(p);
	wbuf_free(&f);
}
END_TEST

START_TEST(result_other_attempt)
{
	struct task_result	*r, *back;
	char			*path, *cause = NULL;

	r = fx_result(12);
	path = xasprintf("%s/result", tmpdir);
	ck_assert_int_eq(taskfile_write_result(path, r, &cause), 0);
	ck_assert_int_eq(taskfile_read_result(path, 13, &back, &cause), -1);
	ck_assert_ptr_null(back);
	assert_cause(cause, path, "written for attempt 12, not 13");
	free(cause);
	task_result_free(r);
	free(path);
}
END_TEST

/* A body built field by field, to forge what encode never writes. */
struct forge {
	int64_t		 attempt_id;
	int32_t		 status, retryable, infra;
	uint32_t	 reason_len;	/* 0xffffffff: NULL */
	uint32_t	 nchecks;
	int32_t		 severity, passed;
	int		 null_check_name;
	uint32_t	 nmetrics;
	int		 null_metric_name;
};

static void
forge_str(struct wbuf *b, uint32_t n)
{
	char	*s;

	if (n == 0xffffffffu) {
		wbuf_str(b, NULL, 0);
		return;
	}
	s = xmalloc(n + 1);
	memset(s, 'r', n);
	s[n] = '\0';
	wbuf_str(b, s, 0);
	free(s);
}

static void
forge_body(struct wbuf *b, const struct forge *g)
{
	uint32_t	i;

	memset(b, 0, sizeof *b);
	wbuf_i64(b, g->attempt_id);
	wbuf_i32(b, g->status);
	wbuf_i32(b, g->retryable);
	wbuf_i32(b, g->infra);
	forge_str(b, g->reason_len);
	wbuf_str(b, NULL, 0);
	wbuf_i64(b, 1);
	wbuf_i64(b, 2);
	wbuf_i32(b, (int32_t)g->nchecks);
	for (i = 0; i < g->nchecks && i < 4; i++) {
		if (g->null_check_name)
			wbuf_str(b, NULL, 0);
		else
			wbuf_str(b, "c", 0);
		wbuf_i32(b, g->severity);
		wbuf_i32(b, g->passed);
		wbuf_f64(b, 1.0);
		wbuf_str(b, NULL, 0);
		wbuf_i64(b, 3);
	}
	wbuf_i32(b, (int32_t)g->nmetrics);
	for (i = 0; i < g->nmetrics && i < 4; i++) {
		if (g->null_metric_name)
			wbuf_str(b, NULL, 0);
		else
			wbuf_str(b, "m", 0);
		wbuf_f64(b, 2.0);
	}
}

static void
forge_refused(const struct forge *g, const char *want)
{
	struct task_result	*back;
	struct wbuf		 b;
	char			*cause = NULL;

	forge_body(&b, g);
	ck_assert_msg(taskfile_decode_result(b.p, b.len, &back, &cause) == -1,
	    "forged body accepted (wanted '%s')", want);
	ck_assert_ptr_null(back);
	assert_cause(cause, NULL, want);
	free(cause);
	wbuf_free(&b);
}

START_TEST(result_forged_fields)
{
	struct forge		 ok = { 13, MESHD_OK, 0, 0, 0xffffffffu, 1,
				    MESHD_SEV_WARN, 1, 0, 1, 0 }, g;
	struct task_result	*back;
	struct wbuf		 b;
	char			*cause = NULL;

	/* The baseline decodes, and so does a string of exactly the
	 * limit. */
	g = ok;
	g.reason_len = WIRE_STR_MAX;
	forge_body(&b, &g);
	ck_assert_int_eq(taskfile_decode_result(b.p, b.len, &back, &cause), 0);
	ck_assert_uint_eq(strlen(back->reason), WIRE_STR_MAX);
	ck_assert_uint_eq(back->nchecks, 1);
	ck_assert_uint_eq(back->nmetrics, 1);
	task_result_free(back);
	wbuf_free(&b);

	g = ok;
	g.reason_len = WIRE_STR_MAX + 1;
	forge_refused(&g, "the reason is 8193 bytes, over the limit");
	g = ok;
	g.status = 4;
	forge_refused(&g, "status 4 out of range");
	g = ok;
	g.status = -1;
	forge_refused(&g, "status -1 out of range");
	g = ok;
	g.retryable = 2;
	forge_refused(&g, "retryable is 2");
	g = ok;
	g.infra = -1;
	forge_refused(&g, "infra is -1");
	g = ok;
	g.severity = 2;
	forge_refused(&g, "check 1: severity 2 out of range");
	g = ok;
	g.passed = 7;
	forge_refused(&g, "passed is 7");
	g = ok;
	g.null_check_name = 1;
	forge_refused(&g, "check 1 has no name");
	g = ok;
	g.null_metric_name = 1;
	forge_refused(&g, "metric 1 has no name");
	/* Counts that promise more than the bytes left: refused before
	 * anything is allocated for them. */
	g = ok;
	g.nchecks = 0xffffffffu;
	g.nmetrics = 0;
	forge_refused(&g, "checks cannot fit");
	g = ok;
	g.nmetrics = 1000000;
	forge_refused(&g, "metrics cannot fit");
}
END_TEST

/* Encode cuts long strings to the limit, so its output always decodes. */
START_TEST(result_long_strings_cut)
{
	struct task_result	*r, *back;
	struct wbuf		 b;
	char			*cause = NULL, *big;

	big = xmalloc(WIRE_STR_MAX * 2 + 1);
	memset(big, 'x', WIRE_STR_MAX * 2);
	big[WIRE_STR_MAX * 2] = '\0';
	r = fx_result(1);
	free(r->message);
	r->message = xstrdup(big);
	free(r->checks[0].expectation);
	r->checks[0].expectation = big;
	memset(&b, 0, sizeof b);
	taskfile_encode_result(&b, r);
	ck_assert_int_eq(taskfile_decode_result(b.p, b.len, &back, &cause), 0);
	ck_assert_uint_eq(strlen(back->message), WIRE_STR_MAX);
	ck_assert_uint_eq(strlen(back->checks[0].expectation), WIRE_STR_MAX);
	task_result_free(back);
	task_result_free(r);
	wbuf_free(&b);
}
END_TEST

/* A file over the limit is refused before it is read. */
START_TEST(result_too_big)
{
	struct task_result	*back;
	char			*path, *cause = NULL;
	int			 fd;

	path = xasprintf("%s/result", tmpdir);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT, 0644), -1);
	ck_assert_int_eq(ftruncate(fd, (off_t)TASKFILE_MAX_BYTES + 1), 0);
	ck_assert_int_eq(pwrite(fd, "MSRS", 4, 0), 4);
	close(fd);
	ck_assert_int_eq(taskfile_read_result(path, 1, &back, &cause), -1);
	assert_cause(cause, path, "over the limit");
	free(cause);
	free(path);
}
END_TEST

/* The atomic write leaves no temporary file and replaces the old one. */
START_TEST(atomic_write)
{
	struct task_result	*r, *back;
	struct dirent		*de;
	struct stat		 sb;
	DIR			*d;
	char			*path, *cause = NULL, *dir;
	int			 n = 0;

	dir = xasprintf("%s/new/deep", tmpdir);
	path = xasprintf("%s/result", dir);
	r = fx_result(5);
	ck_assert_int_eq(taskfile_write_result(path, r, &cause), 0);
	r->status = MESHD_OK;
	ck_assert_int_eq(taskfile_write_result(path, r, &cause), 0);
	ck_assert_int_eq(taskfile_read_result(path, 5, &back, &cause), 1);
	ck_assert_int_eq(back->status, MESHD_OK);
	task_result_free(back);
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0755);
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		ck_assert_str_eq(de->d_name, "result");
		n++;
	}
	closedir(d);
	ck_assert_int_eq(n, 1);
	/* An unwritable directory: -1 naming the file, nothing left. */
	free(path);
	path = xasprintf("%s/ro/result", tmpdir);
	free(dir);
	dir = xasprintf("%s/ro", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0555), 0);
	if (geteuid() != 0) {
		ck_assert_int_eq(taskfile_write_result(path, r, &cause), -1);
		assert_cause(cause, path, "result file");
		free(cause);
		cause = NULL;
	}
	/* A path through a file cannot be made. */
	free(path);
	path = xasprintf("%s/new/deep/result/x/result", tmpdir);
	ck_assert_int_eq(taskfile_write_result(path, r, &cause), -1);
	assert_cause(cause, path, "result file");
	free(cause);
	task_result_free(r);
	free(path);
	free(dir);
}
END_TEST

START_TEST(started_marker)
{
	char	*path, *cause = NULL, buf[1024];
	FILE	*f;
	size_t	 n;

	setenv("SLURM_JOB_ID", "4242", 1);
	setenv("SLURM_ARRAY_TASK_ID", "7\nforged 1", 1);
	path = xasprintf("%s/a/started", tmpdir);
	ck_assert_int_eq(taskfile_write_started(path, 99, &cause), 0);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "host "));
	ck_assert_ptr_nonnull(strstr(buf, "\nattempt_id 99\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\nslurm_job_id 4242\n"));
	/* Not digits: not copied (one value a line). */
	ck_assert_ptr_null(strstr(buf, "forged"));
	ck_assert_ptr_null(strstr(buf, "slurm_array_task_id"));
	unsetenv("SLURM_JOB_ID");
	unsetenv("SLURM_ARRAY_TASK_ID");
	free(path);
}
END_TEST

static Suite *
taskfile_suite(void)
{
	Suite	*s = suite_create("taskfile");
	TCase	*tc = tcase_create("taskfile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, request_roundtrip);
	tcase_add_test(tc, request_nulls);
	tcase_add_test(tc, request_every_prefix);
	tcase_add_test(tc, request_refusals);
	tcase_add_test(tc, result_roundtrip);
	tcase_add_test(tc, result_missing);
	tcase_add_test(tc, result_every_prefix);
	tcase_add_test(tc, result_flips);
	tcase_add_test(tc, result_other_attempt);
	tcase_add_test(tc, result_forged_fields);
	tcase_add_test(tc, result_long_strings_cut);
	tcase_add_test(tc, result_too_big);
	tcase_add_test(tc, atomic_write);
	tcase_add_test(tc, started_marker);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(taskfile_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

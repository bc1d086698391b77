/*
 * fuzz-taskfile.c -- the request and result files of a remote attempt
 * (taskfile.h): what meshd reads back from shared storage, where a node,
 * a plugin or a cut write can leave anything.  The input is tried three
 * ways: as a whole request file, as a whole result file (for the attempt
 * its body names, and for another one), and as a result body alone (what
 * the pilot protocol sends).  Properties:
 *   - whatever decodes encodes and decodes again to the same thing;
 *   - a result believed has its status, flags and severities in range
 *     and no string over WIRE_STR_MAX;
 *   - a result file is never believed for another attempt than its own.
 */
#include "fuzz.h"

#include "../sdk/meshd/plugin.h"
#include "executor.h"
#include "taskfile.h"
#include "wire.h"

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz-taskfile: %s\n", what);
	abort();
}

static int
str_eq(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static int
str_ok(const char *s)
{
	return s == NULL || strlen(s) <= WIRE_STR_MAX;
}

static void
result_sane(const struct task_result *r)
{
	size_t	i;

	if (r->status < MESHD_OK || r->status > MESHD_SKIPPED ||
	    (r->retryable != 0 && r->retryable != 1) ||
	    (r->infra != 0 && r->infra != 1))
		fail("a result out of range was believed");
	if (!str_ok(r->reason) || !str_ok(r->message))
		fail("a string over the limit was believed");
	for (i = 0; i < r->nchecks; i++) {
		if (r->checks[i].name == NULL ||
		    !str_ok(r->checks[i].name) ||
		    !str_ok(r->checks[i].expectation) ||
		    (r->checks[i].severity != MESHD_SEV_ERROR &&
		    r->checks[i].severity != MESHD_SEV_WARN) ||
		    (r->checks[i].passed != 0 && r->checks[i].passed != 1))
			fail("a check out of range was believed");
	}
	for (i = 0; i < r->nmetrics; i++) {
		if (r->metrics[i].name == NULL || !str_ok(r->metrics[i].name))
			fail("a metric without a name was believed");
	}
}

static void
result_same(const struct task_result *a, const struct task_result *b)
{
	size_t	i;

	if (a->attempt_id != b->attempt_id || a->status != b->status ||
	    a->retryable != b->retryable || a->infra != b->infra ||
	    a->started_us != b->started_us || a->ended_us != b->ended_us ||
	    !str_eq(a->reason, b->reason) || !str_eq(a->message, b->message) ||
	    a->nchecks != b->nchecks || a->nmetrics != b->nmetrics)
		fail("re-encoded result differs");
	for (i = 0; i < a->nchecks; i++) {
		if (!str_eq(a->checks[i].name, b->checks[i].name) ||
		    a->checks[i].severity != b->checks[i].severity ||
		    a->checks[i].passed != b->checks[i].passed ||
		    memcmp(&a->checks[i].observed, &b->checks[i].observed,
		    sizeof(double)) != 0 ||
		    !str_eq(a->checks[i].expectation,
		    b->checks[i].expectation) ||
		    a->checks[i].recorded_us != b->checks[i].recorded_us)
			fail("re-encoded check differs");
	}
	for (i = 0; i < a->nmetrics; i++) {
		if (!str_eq(a->metrics[i].name, b->metrics[i].name) ||
		    memcmp(&a->metrics[i].value, &b->metrics[i].value,
		    sizeof(double)) != 0)
			fail("re-encoded metric differs");
	}
}

static void
try_result_body(const uint8_t *data, size_t size)
{
	struct task_result	*r, *r2;
	struct wbuf		 b;
	char			*cause = NULL;

	if (taskfile_decode_result(data, size, &r, &cause) != 0) {
		if (cause == NULL || r != NULL)
			fail("a refused body without a cause");
		free(cause);
		return;
	}
	result_sane(r);
	memset(&b, 0, sizeof b);
	taskfile_encode_result(&b, r);
	if (taskfile_decode_result(b.p, b.len, &r2, &cause) != 0)
		fail("a re-encoded result body is refused");
	result_same(r, r2);
	task_result_free(r2);
	task_result_free(r);
	wbuf_free(&b);
}

static void
try_result_file(const uint8_t *data, size_t size)
{
	struct task_result	*r, *r2;
	struct wbuf		 f;
	char			*cause = NULL;
	int64_t			 id = 0;

	if (size >= 24)
		memcpy(&id, data + 16, sizeof id);
	if (taskfile_parse_result(data, size, id, &r, &cause) != 0) {
		if (cause == NULL || r != NULL)
			fail("a refused result file without a cause");
		free(cause);
		return;
	}
	result_sane(r);
	if (r->attempt_id != id)
		fail("a result file believed for another attempt");
	if (taskfile_parse_result(data, size, id + 1, &r2, &cause) == 0)
		fail("a result file believed for another attempt");
	if (strstr(cause, "written for attempt") == NULL)
		fail("another attempt's result refused for another reason");
	free(cause);
	cause = NULL;
	taskfile_encode_result_file(&f, r);
	if (taskfile_parse_result(f.p, f.len, id, &r2, &cause) != 0)
		fail("a re-encoded result file is refused");
	result_same(r, r2);
	task_result_free(r2);
	task_result_free(r);
	wbuf_free(&f);
}

static void
task_same(const struct wire_task *a, const struct wire_task *b)
{
	size_t	i;

	if (a->attempt_id != b->attempt_id || a->stage != b->stage ||
	    a->attempt != b->attempt ||
	    a->interval_start_us != b->interval_start_us ||
	    a->interval_end_us != b->interval_end_us ||
	    a->timeout_us != b->timeout_us ||
	    !str_eq(a->job, b->job) || !str_eq(a->task_id, b->task_id) ||
	    !str_eq(a->plugin_path, b->plugin_path) ||
	    !str_eq(a->partition_key, b->partition_key) ||
	    !str_eq(a->staging_dir, b->staging_dir) ||
	    !str_eq(a->attempt_dir, b->attempt_dir) ||
	    !str_eq(a->log_path, b->log_path) ||
	    !str_eq(a->product, b->product) ||
	    !str_eq(a->location, b->location) ||
	    a->params.n != b->params.n)
		fail("re-encoded request differs");
	for (i = 0; i < a->params.n; i++) {
		if (!str_eq(a->params.v[i].key, b->params.v[i].key) ||
		    a->params.v[i].type != b->params.v[i].type ||
		    a->params.v[i].i != b->params.v[i].i ||
		    memcmp(&a->params.v[i].d, &b->params.v[i].d,
		    sizeof(double)) != 0 ||
		    !str_eq(a->params.v[i].s, b->params.v[i].s))
			fail("re-encoded parameter differs");
	}
}

static void
try_request(const uint8_t *data, size_t size)
{
	struct executor_opts	 o, o2;
	struct wire_task	 t, t2;
	struct task_req		 req;
	struct wbuf		 f;
	char			*cause = NULL;

	if (taskfile_parse_request(data, size, &t, &o, &cause) != 0) {
		if (cause == NULL || t.plugin_path != NULL)
			fail("a refused request without a cause");
		free(cause);
		return;
	}
	if (t.plugin_path == NULL || t.stage < MESHD_STAGE_EXTRACT ||
	    t.stage > MESHD_STAGE_PUBLISH)
		fail("a request out of range was believed");
	taskfile_task_req(&t, &req);
	taskfile_encode_request(&f, &req, &o);
	if (taskfile_parse_request(f.p, f.len, &t2, &o2, &cause) != 0)
		fail("a re-encoded request is refused");
	if (o.workers != o2.workers || o.max_tasks != o2.max_tasks ||
	    o.memory_mb != o2.memory_mb || o.kill_grace_s != o2.kill_grace_s ||
	    o.heartbeat_timeout_s != o2.heartbeat_timeout_s ||
	    o.log_max_bytes != o2.log_max_bytes ||
	    o.log_overflow_fails != o2.log_overflow_fails ||
	    o.task_max_bytes != o2.task_max_bytes ||
	    o.empty_check_fails != o2.empty_check_fails)
		fail("re-encoded options differ");
	task_same(&t, &t2);
	wire_task_free(&t2);
	wire_task_free(&t);
	wbuf_free(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024 * 1024)
		return 0;	/* the limits are tested in check_taskfile */
	try_request(data, size);
	try_result_file(data, size);
	try_result_body(data, size);
	return 0;
}

/*
 * fuzz-wire-task.c -- the worker's TASK decoder: the input is one message
 * as the worker receives it from its socket (at most WIRE_MAX bytes; the
 * type first).  A TASK that decodes is encoded again as the supervisor
 * would send it, and must decode to the same task.
 */
#include "fuzz.h"

#include "executor.h"
#include "wire.h"

static int
str_eq(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz-wire-task: re-encoded task: %s differs\n", what);
	abort();
}

static void
compare(const struct wire_task *a, const struct wire_task *b)
{
	size_t	i;

	if (a->attempt_id != b->attempt_id || a->stage != b->stage ||
	    a->attempt != b->attempt ||
	    a->interval_start_us != b->interval_start_us ||
	    a->interval_end_us != b->interval_end_us ||
	    a->timeout_us != b->timeout_us)
		fail("a number");
	if (!str_eq(a->job, b->job) || !str_eq(a->task_id, b->task_id) ||
	    !str_eq(a->plugin_path, b->plugin_path) ||
	    !str_eq(a->partition_key, b->partition_key) ||
	    !str_eq(a->staging_dir, b->staging_dir) ||
	    !str_eq(a->attempt_dir, b->attempt_dir) ||
	    !str_eq(a->log_path, b->log_path) ||
	    !str_eq(a->product, b->product) ||
	    !str_eq(a->location, b->location))
		fail("a string");
	if (a->params.n != b->params.n)
		fail("the parameter count");
	for (i = 0; i < a->params.n; i++) {
		if (!str_eq(a->params.v[i].key, b->params.v[i].key) ||
		    a->params.v[i].type != b->params.v[i].type ||
		    a->params.v[i].i != b->params.v[i].i ||
		    memcmp(&a->params.v[i].d, &b->params.v[i].d,
		    sizeof a->params.v[i].d) != 0 ||
		    !str_eq(a->params.v[i].s, b->params.v[i].s))
			fail("a parameter");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_task	t, t2;
	struct task_req		req;
	struct rbuf		r;
	struct wbuf		w;

	if (size > WIRE_MAX)
		return 0;	/* wire_recv() refuses it */
	rbuf_init(&r, data, size);
	if (rbuf_i32(&r) != WIRE_TASK || wire_decode_task(&r, &t) != 0)
		return 0;

	memset(&req, 0, sizeof req);
	req.attempt_id = t.attempt_id;
	req.job = t.job;
	req.task_id = t.task_id;
	req.plugin_path = t.plugin_path;
	req.stage = t.stage;
	req.attempt = t.attempt;
	req.partition_key = t.partition_key;
	req.interval_start_us = t.interval_start_us;
	req.interval_end_us = t.interval_end_us;
	req.staging_dir = t.staging_dir;
	req.attempt_dir = t.attempt_dir;
	req.log_path = t.log_path;
	req.product = t.product;
	req.location = t.location;
	req.timeout_us = t.timeout_us;
	req.params = &t.params;
	wire_encode_task(&w, &req);
	rbuf_init(&r, w.p, w.len);
	if (rbuf_i32(&r) != WIRE_TASK || wire_decode_task(&r, &t2) != 0)
		fail("the whole message");
	compare(&t, &t2);
	wire_task_free(&t2);
	wbuf_free(&w);
	wire_task_free(&t);
	return 0;
}

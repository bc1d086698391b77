/*
 * slowlog.c -- test plugin whose extract writes its log a line at a time,
 * so that a reader following the log sees it grow.
 *
 * Params: lines (default 5) lines, one every interval_ms (default 200) on
 * stdout as "slowlog attempt A line I of N"; then the attempt succeeds,
 * unless fail is true (MESHD_FAILED) or the attempt number is <= fail_times
 * (default 0; MESHD_RETRY, so that a new attempt follows).
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include <meshd/plugin.h>

static void
nap(int64_t ms)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static meshd_status
slowlog_extract(meshd_ctx *ctx)
{
	int64_t	lines = meshd_param_int(ctx, "lines", 5);
	int64_t	ms = meshd_param_int(ctx, "interval_ms", 200);
	int64_t	fail_times = meshd_param_int(ctx, "fail_times", 0);
	int	attempt = meshd_attempt(ctx), i;

	for (i = 1; i <= lines; i++) {
		if (meshd_cancelled(ctx)) {
			meshd_set_error(ctx, "cancelled at line %d", i);
			return MESHD_FAILED;
		}
		printf("slowlog attempt %d line %d of %lld\n", attempt, i,
		    (long long)lines);
		fflush(stdout);
		nap(ms);
	}
	if (attempt <= fail_times) {
		meshd_set_error(ctx, "transient: attempt %d", attempt);
		return MESHD_RETRY;
	}
	if (meshd_param_bool(ctx, "fail", 0)) {
		meshd_set_error(ctx, "deliberate failure after %lld lines",
		    (long long)lines);
		return MESHD_FAILED;
	}
	meshd_log(ctx, MESHD_LOG_INFO, "slowlog done");
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.slowlog", .description = "a log written slowly" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "slowlog",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: extract logs a line at a time",
	.products = products,
	.extract = slowlog_extract,
);

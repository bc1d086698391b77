/*
 * retry.c -- test plugin whose extract fails transiently: MESHD_RETRY while
 * the attempt number is <= param fail_times (default 1), then MESHD_OK.
 */
#include <meshd/plugin.h>

static meshd_status
retry_extract(meshd_ctx *ctx)
{
	int64_t	fail_times = meshd_param_int(ctx, "fail_times", 1);
	int	attempt = meshd_attempt(ctx);

	if (attempt <= fail_times) {
		meshd_set_error(ctx, "transient: attempt %d", attempt);
		return MESHD_RETRY;
	}
	meshd_log(ctx, MESHD_LOG_INFO, "succeeded on attempt %d", attempt);
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.retry", .description = "built on a later attempt" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "retry",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: extract asks for retries first",
	.products = products,
	.extract = retry_extract,
);

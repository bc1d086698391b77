/*
 * hang.c -- test plugin whose extract never returns.
 *
 * By default it ignores cancellation entirely: it never polls
 * meshd_cancelled() and ignores SIGTERM and SIGINT, so only SIGKILL from
 * the supervisor ends it (the worker is lost anyway).  With param
 * honour_cancel (bool, default false) it leaves signals alone and returns
 * MESHD_FAILED once the host cancels the attempt.
 */
#include <signal.h>
#include <unistd.h>

#include <meshd/plugin.h>

static meshd_status
hang_extract(meshd_ctx *ctx)
{
	int	honour = meshd_param_bool(ctx, "honour_cancel", 0);

	if (!honour) {
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
	}
	for (;;) {
		if (honour && meshd_cancelled(ctx)) {
			meshd_set_error(ctx, "cancelled");
			return MESHD_FAILED;
		}
		sleep(1);
	}
}

static const struct meshd_product products[] = {
	{ .name = "test.hang", .description = "never built" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "hang",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: extract hangs",
	.products = products,
	.extract = hang_extract,
);

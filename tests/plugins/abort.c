/* abort.c -- test plugin whose extract calls abort() (SIGABRT). */
#include <stdlib.h>

#include <meshd/plugin.h>

static meshd_status
abort_extract(meshd_ctx *ctx)
{
	(void)ctx;
	abort();
}

static const struct meshd_product products[] = {
	{ .name = "test.abort", .description = "aborts the worker" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "abort",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: extract calls abort()",
	.products = products,
	.extract = abort_extract,
);

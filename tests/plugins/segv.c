/* segv.c -- test plugin whose extract dereferences NULL (SIGSEGV). */
#include <meshd/plugin.h>

static meshd_status
segv_extract(meshd_ctx *ctx)
{
	volatile int	*p = NULL;

	(void)ctx;
	*p = 42;
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.segv", .description = "crashes the worker" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "segv",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: extract segfaults",
	.products = products,
	.extract = segv_extract,
);

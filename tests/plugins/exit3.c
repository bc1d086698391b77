/* exit3.c -- test plugin whose extract calls exit(3), which plugins must
 * never do: the worker is lost and the attempt fails. */
#include <stdlib.h>

#include <meshd/plugin.h>

static meshd_status
exit3_extract(meshd_ctx *ctx)
{
	(void)ctx;
	exit(3);
}

static const struct meshd_product products[] = {
	{ .name = "test.exit3", .description = "exits the worker" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "exit3",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: extract calls exit(3)",
	.products = products,
	.extract = exit3_extract,
);

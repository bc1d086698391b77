/* fails.c -- test plugin whose extract fails for good, with a message. */
#include <meshd/plugin.h>

static meshd_status
fails_extract(meshd_ctx *ctx)
{
	meshd_set_error(ctx, "deliberate failure: %s", "fails plugin");
	return MESHD_FAILED;
}

static const struct meshd_product products[] = {
	{ .name = "test.fails", .description = "never built" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "fails",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: extract returns MESHD_FAILED",
	.products = products,
	.extract = fails_extract,
);

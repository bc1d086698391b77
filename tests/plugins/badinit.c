/* badinit.c -- test plugin whose init refuses to run: every stage must
 * then fail with init's message, and extract must never be reached. */
#include <meshd/plugin.h>

static meshd_status
badinit_init(meshd_ctx *ctx)
{
	meshd_set_error(ctx, "init refused: missing credentials");
	return MESHD_FAILED;
}

static meshd_status
badinit_extract(meshd_ctx *ctx)
{
	meshd_log(ctx, MESHD_LOG_ERROR, "badinit extract reached");
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.badinit", .description = "never built" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "badinit",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: init fails",
	.products = products,
	.init = badinit_init,
	.extract = badinit_extract,
);

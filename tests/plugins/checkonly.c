/* checkonly.c -- test plugin with a check stage only: no extract, no
 * publish, for jobs that ask for a stage the plugin does not provide. */
#include <meshd/plugin.h>

static meshd_status
checkonly_check(meshd_ctx *ctx)
{
	meshd_log(ctx, MESHD_LOG_INFO, "checkonly check");
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.checkonly", .description = "checked, never built" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "checkonly",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: provides only check",
	.products = products,
	.check = checkonly_check,
);

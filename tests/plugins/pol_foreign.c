/*
 * pol_foreign.c -- test plugin of domain "pol" that declares a product of
 * domain "ops": refused by the own_domain policy (on by default).
 */
#include <meshd/plugin.h>

static meshd_status
foreign_stage(meshd_ctx *ctx)
{
	meshd_log(ctx, MESHD_LOG_INFO, "pol_foreign stage");
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "ops.stolen", .description = "another domain's product",
	  .owner = "pol-team@example.org", .contract_version = "1.0" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "pol_foreign",
	.version = "1.0.0",
	.domain = "pol",
	.owner = "pol-team@example.org",
	.description = "test plugin: declares a product of another domain",
	.products = products,
	.extract = foreign_stage,
	.publish = foreign_stage,
);

/*
 * pol_dup.c -- test plugin declaring pol.good, which plugin "pol" declares
 * too: a product has one producing plugin, whatever the policies.
 */
#include <meshd/plugin.h>

static meshd_status
dup_stage(meshd_ctx *ctx)
{
	meshd_log(ctx, MESHD_LOG_INFO, "pol_dup stage");
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "pol.good", .description = "declared by pol as well",
	  .owner = "pol-team@example.org", .contract_version = "1.0" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "pol_dup",
	.version = "1.0.0",
	.domain = "pol",
	.owner = "pol-team@example.org",
	.description = "test plugin: declares another plugin's product",
	.products = products,
	.extract = dup_stage,
	.publish = dup_stage,
);

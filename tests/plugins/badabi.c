/*
 * badabi.c -- test plugin built for an ABI major this meshd does not have.
 *
 * The descriptor is filled by hand (never do this in a real plugin) with
 * the right magic and size but abi_major 99, so the loader must refuse it
 * by its ABI before calling any other plugin code.
 */
#include <meshd/plugin.h>

static meshd_status
badabi_extract(meshd_ctx *ctx)
{
	(void)ctx;
	return MESHD_OK;
}

static const struct meshd_plugin descriptor = {
	.magic = MESHD_PLUGIN_MAGIC,
	.size = sizeof(struct meshd_plugin),
	.abi_major = 99,
	.abi_minor = 0,
	.product_size = sizeof(struct meshd_product),
	.name = "badabi",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: ABI major 99",
	.extract = badabi_extract,
};

MESHD_EXPORT const struct meshd_plugin *meshd_plugin_descriptor(void);

MESHD_EXPORT const struct meshd_plugin *
meshd_plugin_descriptor(void)
{
	return &descriptor;
}

/*
 * ctorcrash.c -- test plugin whose constructor crashes (SIGSEGV) at
 * dlopen(), before the loader can check anything.  Only ever loaded
 * through loader_probe(), whose child it kills.
 */
#include <signal.h>

#include <meshd/plugin.h>

static void ctorcrash_ctor(void) __attribute__((constructor));

static void
ctorcrash_ctor(void)
{
	raise(SIGSEGV);
}

static meshd_status
ctorcrash_extract(meshd_ctx *ctx)
{
	(void)ctx;
	return MESHD_OK;
}

static const struct meshd_product products[] = {
	{ .name = "test.ctorcrash", .description = "never loaded" },
	{ .name = NULL }
};

MESHD_PLUGIN(
	.name = "ctorcrash",
	.version = "1.0.0",
	.domain = "test",
	.owner = "tests@example.org",
	.description = "test plugin: constructor segfaults",
	.products = products,
	.extract = ctorcrash_extract,
);
